"""Rebuild examples/data/groenkracht/medewerkers.xlsx, opleidingen.xlsx and opleidingsplan.xlsx.

Groenkracht's payroll provider exports workbooks with real date cells and numbers (not
text), which is exactly what the file source must read. Run: python examples/build_groenkracht.py
"""

from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent / "data" / "groenkracht"
PEOPLE = [
    ("Personeelsnummer", "Voornaam", "Familienaam", "E-mail werk", "Taal", "Afdeling", "Vestiging", "Functie", "FTE", "Uren per week", "In dienst", "Uit dienst", "Geslacht"),
    ("G101", "Koen", "Vermeulen", "koen.vermeulen@groenkracht.be", "NL", "Groenonderhoud", "Lokeren", "Ploegbaas", 1, 38, date(2013, 4, 1), None, "M"),
    ("G102", "Ayşe", "Yılmaz", "ayse.yilmaz@groenkracht.be", "NL", "Naaiatelier", "Lokeren", "Atelierleider", 1, 38, date(2017, 9, 4), None, "V"),
    ("G103", "Dirk", "Van Damme", "dirk.vandamme@groenkracht.be", "NL", "Productie", "Lokeren", "Productieleider", 1, 38, date(2010, 1, 4), None, "M"),
    ("G104", "Marieke", "Janssens", "marieke.janssens@groenkracht.be", "NL", "HR", "Lokeren", "HR-verantwoordelijke", 0.8, 30.4, date(2021, 2, 15), None, "V"),
    ("G105", "Youssef", "Benali", "youssef.benali@groenkracht.be", "NL", "Logistiek", "Lokeren", "Magazijnier", 1, 38, date(2022, 8, 29), None, "M"),
    ("G106", "Chloé", "Lambert", "chloe.lambert@groenkracht.be", "FR", "Jobcoaching", "Lokeren", "Jobcoach", 0.9, 34.2, date(2019, 5, 6), None, "V"),
    ("G107", "Pieter", "De Wilde", "pieter.dewilde@groenkracht.be", "NL", "Kringwinkel", "Sint-Niklaas", "Winkelverantwoordelijke", 1, 38, date(2015, 11, 2), None, "M"),
    ("G108", "Greet", "Michiels", "greet.michiels@groenkracht.be", "NL", "Financiën", "Lokeren", "Boekhouder", 0.5, 19, date(2012, 3, 1), None, "V"),
    ("G109", "Tom", "Hermans", "tom.hermans@groenkracht.be", "NL", "Groenonderhoud", "Lokeren", "Groenarbeider", 1, 38, date(2024, 6, 3), date(2027, 6, 30), "M"),
    ("G110", "Jelle", "Peeters", "jelle.peeters@groenkracht.be", "NL", "Jobcoaching", "Lokeren", "Jobcoach", 1, 38, date(2018, 10, 1), None, "M"),
]
TRAINING = [
    ("Personeelsnummer", "Datum", "Opleiding", "Aanbieder", "Uren", "Soort"),
    ("G101", datetime(2026, 4, 21), "Veilig werken met de bosmaaier", "Inagro", 4, "formeel"),
    ("G110", datetime(2026, 9, 15), "Jobcoaching: begeleidingsgesprekken", "SST Vlaanderen", 14, "formeel"),
    ("G106", datetime(2027, 2, 9), "Intervisie jobcoaches", "Groenkracht", 3, "informeel"),
]

PLAN = [
    ("Personeelsnummer", "Opleiding of doel", "Soort", "Competentie", "Categorie", "Van", "Tegen", "Geplande uren", "Status", "Formeel of informeel", "Opmerking", "Labels", "Switching Talent"),
    ("G104", "Nieuwe medewerkers begeleiden in hun eerste weken", "leerbehoefte", "Onthaal", "Switching Talent", None, datetime(2026, 12, 31), 7.6, "open", "informeel", "Uit het POP-gesprek", None, None),
    ("G103", "Klantcommunicatie bij productieplanning", "ontwikkeldoel", "Planning", "Switching Talent", datetime(2026, 1, 1), datetime(2026, 9, 30), 7.6, "bezig", "informeel", None, None, None),
    ("G109", "Snoeien van hoogstammen", "opleiding", "Groenonderhoud", "Vakopleiding", datetime(2026, 11, 1), datetime(2026, 11, 30), 14, "open", "formeel", None, None, None),
    ("G105", "Heftruckattest", "opleiding", "Logistiek", "Verplicht", datetime(2027, 3, 1), datetime(2027, 3, 31), 7, "open", "formeel", None, None, None),
    ("G107", "Verkoopsgesprekken in de kringwinkel", "leerbehoefte", "Verkoop", "Switching Talent", None, datetime(2027, 6, 30), None, "open", "informeel", None, None, None),
]


def write(path: Path, title: str, rows: list[tuple]) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.properties.created = workbook.properties.modified = datetime(2026, 1, 1)
    workbook.save(path)


# Line managers (the Leidinggevende column, an employee number), added as the last column of
# the people sheet; the configuration's manager_policy says what they hear.
MANAGERS = {"G101": "G103", "G102": "G103", "G104": "G103", "G105": "G103", "G109": "G101", "G110": "G103", "G106": "G110"}
PEOPLE = [PEOPLE[0] + ("Leidinggevende",), *(row + (MANAGERS.get(row[0]),) for row in PEOPLE[1:])]


if __name__ == "__main__":
    write(HERE / "medewerkers.xlsx", "Medewerkers", PEOPLE)
    write(HERE / "opleidingen.xlsx", "Opleidingen", TRAINING)
    write(HERE / "opleidingsplan.xlsx", "Opleidingsplan", PLAN)
