"""Issue 19, item 2: nonsense is refused (an error: the record is left out, the run is partial)
or flagged (a warning); README "Plausibility rules" lists each rule. Each test fed the old
code the same input and saw it accepted silently."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from connector.core.model import PersonRecord, SessionRecord, TrainingRecordIn
from connector.engine.sync import run_sync

PERSON = {"employee_number": "Z1", "first_name": "An", "last_name": "Peeters"}
SESSION = {"code": "S", "exchange": "EX", "kind": "exchange_day", "start": "2026-03-02T09:00", "end": "2026-03-02T16:30"}
TRAINING = {"employee": "Z1", "date": "2026-03-02", "hours": 7, "title": "EHBO"}


@pytest.mark.parametrize("model, record, field, message", [
    (TrainingRecordIn, {**TRAINING, "hours": 300}, "hours", "300 hours on one day: a day has at most 24"),
    (TrainingRecordIn, {**TRAINING, "date": "0001-03-02"}, "date", "0001-03-02 lies outside 1990-2100"),
    (TrainingRecordIn, {**TRAINING, "date": "2999-03-02"}, "date", "lies outside 1990-2100"),
    (SessionRecord, {**SESSION, "hours": 8}, "hours", "8 hours booked on a session of 7.5 hours (09:00-16:30)"),
    (SessionRecord, {**SESSION, "start": "2999-03-02T09:00", "end": "2999-03-02T16:00"}, "start", "lies outside 1990-2100"),
    (PersonRecord, {**PERSON, "start_date": "0001-01-01"}, "start_date", "lies outside 1900-2100"),
    (PersonRecord, {**PERSON, "first_name": "A\x00n"}, "first_name", "control character U+0000 at position 2"),
    (PersonRecord, {**PERSON, "last_name": "Pee\x1bters"}, "last_name", "control character U+001B"),
    (PersonRecord, {**PERSON, "last_name": "Pee\nters"}, "last_name", "control character U+000A"),
    (PersonRecord, {**PERSON, "last_name": "P" * 101}, "last_name", "at most 100 characters"),
    (PersonRecord, {**PERSON, "employee_number": "1" * 65}, "employee_number", "at most 64 characters"),
])
def test_implausible_values_are_refused_naming_the_field(model, record, field, message):
    with pytest.raises(ValidationError) as caught:
        model.model_validate(record)
    first = caught.value.errors()[0]
    assert ".".join(str(p) for p in first["loc"]) == field and message in first["msg"], first


def test_line_breaks_belong_in_descriptions_and_plausible_values_pass():
    from connector.core.model import LearningQuestionRecord

    question = LearningQuestionRecord.model_validate({"code": "LV", "organisation": "a", "switcher": "Z1", "title": "Koken",
                                                      "description": "Eerste lijn\nTweede\tlijn"})
    assert question.description == "Eerste lijn\nTweede\tlijn"
    assert TrainingRecordIn.model_validate({**TRAINING, "hours": 24}).hours == 24
    assert SessionRecord.model_validate({**SESSION, "hours": 7.5}).hours == 7.5
    assert PersonRecord.model_validate({**PERSON, "start_date": "1979-09-01"}).start_date.year == 1979


def _sync(network, as_of: str = "2026-01-05"):
    return run_sync(network.config(), datetime.fromisoformat(as_of).replace(tzinfo=ZoneInfo("Europe/Brussels")))


def _messages(summary, warning: bool) -> list[str]:
    return [f"{p.record}|{p.field}|{p.message}" for p in summary.errors if p.warning == warning]


def test_cross_record_rules_on_the_cohort(network):
    network.edit_csv("cohort/sessies.csv", "S-02-REFL;EX-02;reflectie;03/04/2026;13:00", "S-02-REFL;EX-02;reflectie;30/03/2026;13:00")
    network.edit_csv("cohort/sessies.csv", "S-02-INTRO;EX-02;kennismaking;09/03/2026", "S-02-INTRO;EX-02;kennismaking;28/03/2026")
    network.edit_csv("zonneke/medewerkers.csv", "Z008;Nele;Geerts;nele.geerts@zonneke.be;NL;Pedagogische ondersteuning;Gent;Pedagogisch coach;1;38;01/10/2016;;V",
                     "Z008;Nele;Geerts;nele.geerts@zonneke.be;NL;Pedagogische ondersteuning;Gent;Pedagogisch coach;1;38;01/10/2016;31/12/2026;V")
    summary = _sync(network)
    errors, warnings = _messages(summary, False), _messages(summary, True)
    # a coach whose employment ends before EX-04's days: those sessions are left out, the others go on
    assert any("S-04-D1" in e and "the coach Nele Geerts is employed from 2016-10-01 to 2026-12-31 only" in e for e in errors), errors
    # one switcher (and coach) in two sessions at once; an intro call after the first day: warnings
    assert any("Marieke Janssens is in sessions S-02-D2 and S-02-REFL at the same time" in w for w in warnings), warnings
    assert any("Nele Geerts is in sessions S-02-D2 and S-02-REFL at the same time" in w for w in warnings), warnings
    assert any("intro call S-02-INTRO comes after the first exchange day S-02-D1 (27/03/2026)" in w for w in warnings), warnings
    assert summary.status == "partial"
    assert summary.invites["created"] > 0  # the good sessions were still invited


def test_a_switcher_named_as_coach_is_refused(network):
    # Marieke (groenkracht's switcher of EX-02) also works at 't Zonneke, the host: she cannot coach herself.
    network.edit_csv("zonneke/medewerkers.csv", "Z008;Nele", "Z099;Marieke;Janssens;marieke.janssens@groenkracht.be;NL;HR;Gent;HR;0,2;7,6;01/01/2020;;V\nZ008;Nele")
    network.edit_csv("cohort/uitwisselingen.csv", "EX-02;LV-02;LP-ZON-BABY;Z008;", "EX-02;LV-02;LP-ZON-BABY;Z008, Z099;")
    summary = _sync(network)
    assert any(p.field == "coaches" and "the switcher is named as one of the coaches" in p.message for p in summary.errors), summary.errors
