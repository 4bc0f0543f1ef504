"""Evaluation reminders after the last exchange day: on working days, once, cancellable."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest

from connector.core.reminders import Offset, next_working_day
from connector.engine.sync import run_sync

MOMENT = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))


@pytest.mark.parametrize("day, expected", [
    (date(2026, 12, 26), date(2026, 12, 28)),  # Saturday -> Monday
    (date(2026, 4, 6), date(2026, 4, 7)),      # Easter Monday -> Tuesday
    (date(2026, 12, 25), date(2026, 12, 28)),  # Christmas on a Friday -> Monday
    (date(2027, 7, 21), date(2027, 7, 22)),    # National Day
    (date(2027, 5, 6), date(2027, 5, 7)),      # Ascension Day
    (date(2026, 11, 23), date(2026, 11, 23)),  # an ordinary Monday stays
])
def test_moments_move_off_weekends_and_belgian_public_holidays(day, expected):
    assert next_working_day(day) == expected


def test_offsets_in_days_weeks_and_months_with_short_months():
    assert Offset.parse("2m").after(date(2026, 12, 31)) == date(2027, 2, 28)
    assert Offset.parse("1w").after(date(2026, 3, 30)) == date(2026, 4, 6)
    assert Offset.parse("10d").after(date(2026, 1, 25)) == date(2026, 2, 4)
    with pytest.raises(ValueError, match="is not an offset"):
        Offset.parse("2 months")


def calendar(network, code: str):
    parsed = icalendar.Calendar.from_ical((network.out / "invitations" / f"{code}.ics").read_bytes())
    return str(parsed["METHOD"]), parsed.walk("VEVENT")[0]


def test_reminders_reach_switcher_coaches_and_hr_once_and_are_cancelled_with_the_exchange(sqlite_network):
    text = sqlite_network.config_path.read_text()
    sqlite_network.config_path.write_text(text.replace('joint_committee = "149.01"', 'joint_committee = "149.01"\nhr_email = "hr@brouwers-peeters.be"'))
    first = run_sync(sqlite_network.config(), MOMENT)
    assert first.status == "ok", first.errors
    method, two_months = calendar(sqlite_network, "EX-03-EVAL-2M")
    assert method == "REQUEST" and str(two_months["SUMMARY"]).startswith("Switching Talent – Evaluatie, 2 maanden na de leeruitwisseling")
    assert two_months.decoded("DTSTART") == datetime(2026, 12, 28, 10, 0, tzinfo=ZoneInfo("Europe/Brussels"))  # 26/12 is a Saturday
    assert (two_months.decoded("DTEND") - two_months.decoded("DTSTART")).total_seconds() == 15 * 60
    attendees = {str(a): a.params["ROLE"] for a in two_months["ATTENDEE"]}
    assert attendees == {"mailto:stijn@brouwers-peeters.be": "REQ-PARTICIPANT", "mailto:jelle.peeters@groenkracht.be": "REQ-PARTICIPANT",
                         "mailto:chloe.lambert@groenkracht.be": "REQ-PARTICIPANT", "mailto:hr@brouwers-peeters.be": "OPT-PARTICIPANT"}
    _, six_months = calendar(sqlite_network, "EX-03-EVAL-6M")
    assert six_months.decoded("DTSTART").date() == date(2027, 4, 26)
    assert not (sqlite_network.out / "invitations" / "EX-03-EVAL-1W.ics").exists()  # 2 November 2026 lies in the past
    assert sum(run_sync(sqlite_network.config(), MOMENT).invites.values()) == 0
    sqlite_network.edit_csv("cohort/uitwisselingen.csv", "EX-03;LV-03;LP-GK-GROEN;G110, G106;bevestigd", "EX-03;LV-03;LP-GK-GROEN;G110, G106;geannuleerd")
    cancelled = run_sync(sqlite_network.config(), MOMENT)
    assert cancelled.invites["cancelled"] == 3  # the evaluation session and both reminders
    for code in ("EX-03-EVAL-2M", "EX-03-EVAL-6M", "S-03-EVAL"):
        assert calendar(sqlite_network, code)[0] == "CANCEL"


def test_reminders_can_be_switched_off(sqlite_network):
    text = sqlite_network.config_path.read_text()
    assert "[reminders]\nenabled = true" in text
    sqlite_network.config_path.write_text(text.replace("[reminders]\nenabled = true", "[reminders]\nenabled = false"))
    summary = run_sync(sqlite_network.config(), MOMENT)
    assert summary.invites["created"] == 15 + 2  # the sessions and the cohort's 2 group moments: no reminder
