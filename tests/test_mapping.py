from datetime import date, datetime
from pathlib import Path

import pytest

from connector.core.errors import ConfigError, RecordError
from connector.core.mapping import load_mapping, lookup_path


def write_mapping(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "custom.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_template_mapping_reads_a_belgian_excel_row():
    people = load_mapping("files").entity("people")
    raw = {"Personeelsnummer": " 0042 ", "Voornaam": "  Zoë  ", "Familienaam": "Van  den  Broeck", "E-mail werk": " Zoe.VDB@Zonneke.BE ",
           "Taal": "Frans", "FTE": "0,8", "Uren per week": "30,4", "In dienst": "10/05/2026", "Geslacht": "V"}
    record = people.validate(people.apply(raw))
    assert record == {"employee_number": "0042", "email": "zoe.vdb@zonneke.be", "first_name": "Zoë", "last_name": "Van den Broeck",
                      "language": "fr", "fte": 0.8, "weekly_hours": 30.4, "start_date": "2026-05-10", "sex": "F", "active": True}
    assert people.remote_id(record) == "0042"


def test_identity_falls_back_to_email_when_employee_number_is_empty():
    people = load_mapping("files").entity("people")
    record = people.validate(people.apply({"Voornaam": "An", "Familienaam": "Peeters", "E-mail werk": "AN@x.be"}))
    assert people.remote_id(record) == "an@x.be"


def test_french_headers_are_alternatives_in_the_same_mapping():
    people = load_mapping("files").entity("people")
    record = people.validate(people.apply({"Matricule": "P1", "Prénom": "Jérôme", "Nom": "Lefèvre", "Sexe": "Homme", "Date d'entrée": "01.06.2018"}))
    assert (record["first_name"], record["sex"], record["start_date"]) == ("Jérôme", "M", "2018-06-01")


@pytest.mark.parametrize("cell, expected", [("0,8", 0.8), ("1.234,5", 1234.5), ("1,234.5", 1234.5), ("7", 7.0), (3.5, 3.5), ("\u00a012,25 ", 12.25)])
def test_decimal_comma_and_thousands(tmp_path, cell, expected):
    path = write_mapping(tmp_path, '[training_records]\nid = "title"\n[training_records.fields]\nhours = { from = "U", type = "decimal" }\n')
    assert load_mapping(str(path)).entity("training_records").apply({"U": cell}) == {"hours": expected}


def test_xlsx_cells_arrive_typed_and_are_accepted():
    sessions = load_mapping("files").entity("sessions")
    raw = {"Code": "S1", "Uitwisseling": "EX", "Soort": "Uitwisselingsdag", "Datum": datetime(2026, 3, 27), "Van": datetime(1900, 1, 1, 9, 0).time(),
           "Tot": datetime(1900, 1, 1, 16, 30).time()}
    record = sessions.validate(sessions.apply(raw))
    assert (record["start"], record["end"], record["kind"], record["mode"]) == ("2026-03-27T09:00:00", "2026-03-27T16:30:00", "exchange_day", "on_site")


def test_excel_serial_date_number(tmp_path):
    path = write_mapping(tmp_path, '[training_records]\nid = "title"\n[training_records.fields]\ndate = { from = "D", date = "%d/%m/%Y" }\n')
    assert load_mapping(str(path)).entity("training_records").apply({"D": 46108}) == {"date": date(2026, 3, 27)}


def test_split_join_default_and_json_paths(tmp_path):
    path = write_mapping(tmp_path, """
[people]
id = "employee_number"
[people.fields]
employee_number = { from = "ids.0.value" }
last_name = { from = "name", split = { sep = ",", part = "first" } }
first_name = { from = "name", split = { sep = ",", part = "last" } }
job_title = { join = ["work.title", "work.level"], sep = " – " }
language = { from = "lang", default = "en" }
department = { value = "Keuken" }
""")
    people = load_mapping(str(path)).entity("people")
    mapped = people.apply({"ids": [{"value": "E7"}], "name": "Van Damme, Dirk", "work": {"title": "Productieleider", "level": "B"}})
    assert mapped == {"employee_number": "E7", "last_name": "Van Damme", "first_name": "Dirk", "job_title": "Productieleider – B",
                      "language": "en", "department": "Keuken"}


def test_bad_value_names_the_canonical_field_and_the_column():
    people = load_mapping("files").entity("people")
    with pytest.raises(RecordError) as caught:
        people.apply({"Voornaam": "A", "Familienaam": "B", "In dienst": "31/02/2026"})
    assert caught.value.field == "start_date"
    assert "'31/02/2026' is not a date in the form dd/mm/yyyy" in caught.value.message
    assert "In dienst" in caught.value.message


def test_unknown_lookup_value_lists_the_allowed_ones():
    people = load_mapping("files").entity("people")
    with pytest.raises(RecordError) as caught:
        people.apply({"Voornaam": "A", "Familienaam": "B", "Geslacht": "Q"})
    assert caught.value.field == "sex" and "'Q' is not one of" in caught.value.message and "V" in caught.value.message


def test_validation_error_names_the_field():
    people = load_mapping("files").entity("people")
    with pytest.raises(RecordError) as caught:
        people.validate(people.apply({"Voornaam": "A", "Familienaam": "B", "E-mail werk": "not-an-address"}))
    assert caught.value.field == "email" and "not an e-mail address" in caught.value.message


def test_required_field_empty():
    people = load_mapping("files").entity("people")
    with pytest.raises(RecordError) as caught:
        people.apply({"Voornaam": "  ", "Familienaam": "B"})
    assert caught.value.field == "first_name" and "required" in caught.value.message


def test_broken_mapping_file_lists_every_problem_with_file_entity_and_field(tmp_path):
    path = write_mapping(tmp_path, """
[people]
[people.fields]
first_name = { from = "V", transform = ["shout"] }
shoe_size = { from = "S" }
last_name = { from = "N", split = { sep = "," } }
[invoices]
""")
    with pytest.raises(ConfigError) as caught:
        load_mapping(str(path))
    problems = "\n".join(caught.value.problems)
    assert f"{path}: [people].fields.first_name: unknown transform(s) ['shout']" in problems
    assert f"{path}: [people].fields.shoe_size: not a field of people" in problems
    assert f"{path}: [people].fields.last_name: split needs part" in problems
    assert f"{path}: [people]: `id` is missing" in problems
    assert f"{path}: [invoices]: unknown entity" in problems


def test_missing_mapping_says_where_it_looked(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_mapping("nope", tmp_path)
    assert "mapping 'nope' not found" in caught.value.problems[0] and str(tmp_path) in caught.value.problems[0]


def test_json_keys_that_contain_dots_are_found():

    user = {"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "B02", "manager": {"value": "m1"}},
            "name": {"givenName": "An"}, "emails": [{"value": "an@x.be"}]}
    assert lookup_path(user, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.employeeNumber") == "B02"
    assert lookup_path(user, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.manager.value") == "m1"
    assert lookup_path(user, "emails.0.value") == "an@x.be" and lookup_path(user, "emails.1.value") is None
    assert lookup_path(user, "name.familyName") is None and lookup_path({"Nr.": 7}, "Nr.") == 7


def test_multi_valued_attributes_are_read_by_primary_then_work_then_position():

    user = {"emails": [{"value": "home@x.be", "type": "home"}, {"value": "work@x.be", "type": "work"},
                       {"value": "main@x.be", "type": "other", "primary": "True"}],  # Entra sends booleans as strings
            "phoneNumbers": [{"value": "+32 2", "type": "home"}, {"value": "+32 3", "type": "work"}], "tags": ["a", "b"]}
    assert lookup_path(user, "emails.value") == "main@x.be"
    assert lookup_path(user, "phoneNumbers.value") == "+32 3"
    assert lookup_path({"emails": [{"value": "only@x.be", "type": "home"}]}, "emails.value") == "only@x.be"
    assert lookup_path(user, 'emails[type eq "home"].value') == "home@x.be"
    assert lookup_path(user, 'emails[type eq "fax"].value') is None
    assert lookup_path(user, "emails.1.value") == "work@x.be" and lookup_path(user, "tags.1") == "b"
    assert lookup_path({"emails": []}, "emails.value") is None
