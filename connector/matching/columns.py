"""The matching columns of the cohort workbook: optional, in Dutch, French or English.

Each column is read by its header in any of the three languages; the language of the header
found also decides how an ambiguous weekday is read ("ma" is Monday in Dutch, mardi in
French). Every parser returns the value or raises ValueError with a sentence for the partner;
the caller turns it into a Problem naming sheet, row and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from connector.core.mapping import UnreadableValue


@dataclass(frozen=True)
class Column:
    """One optional column: `headers` by language (nl, fr, en)."""

    name: str
    nl: str
    fr: str
    en: str

    @property
    def headers(self) -> dict[str, str]:
        return {"nl": self.nl, "fr": self.fr, "en": self.en}

    def find(self, cells: dict[str, Any]) -> tuple[str, str, Any] | None:
        """(header, language, value) of the first header present with a non-empty value."""
        for language, header in self.headers.items():
            value = cells.get(header)
            if isinstance(value, str):
                value = value.strip()
            if value not in (None, ""):
                return header, language, value
        return None


PREFERENCES = tuple(Column(f"preference_{n}", f"Voorkeur {n}", f"Préférence {n}", f"Preference {n}") for n in (1, 2, 3))
KEYWORDS = Column("keywords", "Trefwoorden", "Mots-clés", "Keywords")
LANGUAGES = Column("languages", "Talen", "Langues", "Languages")
PERIOD_FROM = Column("period_from", "Gewenst van", "Souhaité du", "Wished from")
PERIOD_UNTIL = Column("period_until", "Gewenst tot", "Souhaité jusqu'au", "Wished until")
POSTCODE = Column("postcode", "Postcode", "Code postal", "Postcode")
CAPACITY = Column("capacity", "Capaciteit", "Capacité", "Capacity")
HOSTING_DAYS = Column("weekdays", "Onthaaldagen", "Jours d'accueil", "Hosting days")
COACH_DAYS = Column("weekdays", "Beschikbare dagen", "Jours disponibles", "Available days")
ORGANISATION = Column("organisation", "Organisatie", "Organisation", "Organisation")
SECTOR = Column("sector", "Sector", "Secteur", "Sector")
SIZE = Column("size", "Grootte", "Taille", "Size")
STAFF = Column("staff", "Personeel", "Personnel", "Staff")
COMPETITORS = Column("competitors", "Concurrenten", "Concurrents", "Competitors")
SENDS = Column("sends", "Stuurt", "Envoie", "Sends")
HOSTS = Column("hosts", "Ontvangt", "Accueille", "Hosts")

QUESTION_COLUMNS = (*PREFERENCES, KEYWORDS, LANGUAGES, PERIOD_FROM, PERIOD_UNTIL, POSTCODE)
PLACE_COLUMNS = (CAPACITY, KEYWORDS, LANGUAGES, HOSTING_DAYS, POSTCODE)
COACH_COLUMNS = (CAPACITY, LANGUAGES, COACH_DAYS)
ORGANISATION_COLUMNS = (ORGANISATION, SECTOR, SIZE, STAFF, COMPETITORS, SENDS, HOSTS)
# The organisations sheet is new: a file organisaties.csv/.xlsx or a sheet of the cohort workbook.
ORGANISATION_FILE, ORGANISATION_SHEET = "organisaties", "Organisaties"

_LANGUAGE_WORDS = {
    "nl": "nl", "n": "nl", "nederlands": "nl", "néerlandais": "nl", "dutch": "nl", "vlaams": "nl",
    "fr": "fr", "f": "fr", "frans": "fr", "français": "fr", "francais": "fr", "french": "fr",
    "en": "en", "e": "en", "engels": "en", "anglais": "en", "english": "en",
}
_WEEKDAY_WORDS = {
    "nl": {"ma": 0, "maandag": 0, "di": 1, "dinsdag": 1, "wo": 2, "woensdag": 2, "do": 3, "donderdag": 3,
           "vr": 4, "vrijdag": 4, "za": 5, "zaterdag": 5, "zo": 6, "zondag": 6},
    "fr": {"lu": 0, "lun": 0, "lundi": 0, "ma": 1, "mar": 1, "mardi": 1, "me": 2, "mer": 2, "mercredi": 2,
           "je": 3, "jeu": 3, "jeudi": 3, "ve": 4, "ven": 4, "vendredi": 4, "sa": 5, "sam": 5, "samedi": 5,
           "di": 6, "dim": 6, "dimanche": 6},
    "en": {"mo": 0, "mon": 0, "monday": 0, "tu": 1, "tue": 1, "tuesday": 1, "we": 2, "wed": 2, "wednesday": 2,
           "th": 3, "thu": 3, "thursday": 3, "fr": 4, "fri": 4, "friday": 4, "sa": 5, "sat": 5, "saturday": 5,
           "su": 6, "sun": 6, "sunday": 6},
}
_STAFF_WORDS = {
    "bedienden": "white", "bediende": "white", "employés": "white", "employes": "white", "white": "white",
    "white-collar": "white", "white collar": "white",
    "arbeiders": "blue", "arbeider": "blue", "ouvriers": "blue", "blue": "blue", "blue-collar": "blue", "blue collar": "blue",
    "gemengd": "mixed", "mixte": "mixed", "mixed": "mixed", "beide": "mixed", "both": "mixed",
}
_LIST = re.compile(r"[,;/]+|\s+-\s+")
_POSTCODE = re.compile(r"\b([1-9]\d{3})\b")


def items(value: Any) -> list[str]:
    """A list cell ("a, b; c") as its trimmed, non-empty items."""
    return [part.strip() for part in _LIST.split(str(value)) if part.strip()]


def _check_readable(value: Any) -> Any:
    if isinstance(value, UnreadableValue):
        raise ValueError(f"the cell holds the error {value}, not a value")
    return value


def languages(value: Any) -> frozenset[str]:
    """'nl, fr' or 'Nederlands, Frans' -> {"nl", "fr"}; raises ValueError on an unknown one."""
    found = set()
    for word in items(_check_readable(value)):
        code = _LANGUAGE_WORDS.get(word.casefold())
        if code is None:
            raise ValueError(f"'{word}' is not a language the connector knows (nl, fr or en)")
        found.add(code)
    return frozenset(found)


def weekdays(value: Any, language: str) -> frozenset[int]:
    """'ma, di, do' (nl), 'lun, mar' (fr), 'mon, tue' (en), or 1-7 -> {0, 1, 3} (0 = Monday)."""
    days = set()
    for word in re.split(r"[,;/\s]+", str(_check_readable(value)).strip()):
        if not word:
            continue
        key = word.casefold().rstrip(".")
        if key.isdigit() and 1 <= int(key) <= 7:
            days.add(int(key) - 1)
            continue
        day = _WEEKDAY_WORDS[language].get(key)
        if day is None:
            raise ValueError(f"'{word}' is not a day of the week (e.g. {', '.join(list(_WEEKDAY_WORDS[language])[:4])})")
        days.add(day)
    return frozenset(days)


def count(value: Any) -> int:
    """A capacity or commitment: a whole number of 0 or more."""
    value = _check_readable(value)
    try:
        number = float(str(value).replace(",", ".")) if not isinstance(value, (int, float)) else float(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a number") from None
    if not number.is_integer() or number < 0:
        raise ValueError(f"{value} is not a whole number of 0 or more (how many switchers)")
    return int(number)


def decimal(value: Any) -> float:
    value = _check_readable(value)
    try:
        number = float(str(value).replace(",", ".")) if not isinstance(value, (int, float)) else float(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a number") from None
    if number < 0:
        raise ValueError(f"{value} is negative")
    return number


def day(value: Any) -> date:
    """A date cell, or text as dd/mm/yyyy, dd-mm-yyyy or yyyy-mm-dd."""
    value = _check_readable(value)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    for layout in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(str(value).strip(), layout).date()
        except ValueError:
            continue
    raise ValueError(f"'{value}' is not a date (dd/mm/yyyy)")


def postcode(value: Any) -> str:
    """A Belgian postcode: four digits, 1000-9999 (a number cell 9000 or 9000.0 too)."""
    value = _check_readable(value)
    text = str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()
    if not re.fullmatch(r"[1-9]\d{3}", text):
        raise ValueError(f"'{value}' is not a Belgian postcode (four digits)")
    return text


def postcode_in(address: str | None) -> str | None:
    """The postcode written in an address ("Zelebaan 42, 9160 Lokeren" -> "9160"), if any."""
    if not address:
        return None
    found = _POSTCODE.findall(address)
    return found[-1] if found else None


def staff(value: Any) -> str:
    word = str(_check_readable(value)).strip().casefold()
    if word not in _STAFF_WORDS:
        raise ValueError(f"'{value}' is not a staff composition (bedienden, arbeiders or gemengd)")
    return _STAFF_WORDS[word]


def keywords(value: Any) -> frozenset[str]:
    return frozenset(word.casefold() for word in items(_check_readable(value)))
