"""Guards against exports that look wrong (issue: safe to operate): a header below title lines,
a column the mapping reads that the file does not have, a pull that would remove many people."""

from __future__ import annotations

from sqlalchemy import select

from connector.store.tables import Person
from tests.test_sync import query, sync

ZONNEKE = "zonneke/medewerkers.csv"
# The example export's header row, with its line-manager column (issue 25)
HEADER = "Personeelsnummer;Voornaam;Familienaam;E-mail werk;Taal;Afdeling;Vestiging;Functie;FTE;Uren per week;In dienst;Uit dienst;Geslacht;Leidinggevende"


def test_a_header_below_title_lines_is_found_and_nobody_is_removed(network):
    sync(network)
    network.edit_csv(ZONNEKE, HEADER, "Personeelslijst Kinderdagverblijf 't Zonneke\nAfgedrukt op 22/11/2026;;;\n\n" + HEADER)
    summary = sync(network)
    assert summary.status == "ok", summary.errors
    assert summary.pulled["people"]["removed"] == 0 and summary.pulled["people"]["failed"] == 0


def test_a_misspelled_required_column_is_named_with_the_closest_header_and_nothing_changes(network):
    sync(network)
    network.edit_csv(ZONNEKE, HEADER, HEADER.replace("Familienaam", "Familinaam"))
    summary = sync(network)
    assert summary.status == "partial"
    (problem,) = [p for p in summary.errors if not p.warning]
    assert problem.source.endswith("hr") and problem.entity == "people" and problem.record == "(source)"
    assert "no column 'Familienaam'" in problem.message and "the closest header is 'Familinaam'" in problem.message
    assert summary.pulled["people"]["removed"] == 0
    assert query(network, select(Person.active).where(Person.employee_number == "Z001")) == [(True,)]


def test_a_missing_optional_column_is_a_warning_naming_it(network):
    network.edit_csv(ZONNEKE, HEADER, HEADER.replace("E-mail werk", "E-mailadres"))
    summary = sync(network)
    warnings = [p for p in summary.errors if p.warning and p.entity == "people"]
    assert len(warnings) == 1
    assert "no column 'E-mail werk' or 'E-mail professionnel' or 'Work e-mail'" in warnings[0].message
    assert "the closest header is 'E-mailadres'" in warnings[0].message


def test_a_file_without_any_header_the_mapping_reads_is_refused(network):
    sync(network)
    network.edit_csv(ZONNEKE, HEADER, "Nr;Naam;Mail;X;Y;Z;A;B;C;D;E;F;G")
    summary = sync(network)
    (problem,) = [p for p in summary.errors if not p.warning]
    assert "no header row holds any column the mapping reads" in problem.message and "Nr, Naam, Mail" in problem.message
    assert summary.pulled["people"]["removed"] == 0


def test_an_export_holding_only_its_header_removes_nobody_unless_accepted(network):
    sync(network)
    network.data.joinpath(ZONNEKE).write_text("\ufeff" + HEADER + "\n", encoding="utf-8")
    summary = sync(network)
    assert summary.status == "partial"
    (problem,) = [p for p in summary.errors if not p.warning]
    assert "would remove 10 of 10 (100%)" in problem.message and "--accept-removals" in problem.message
    assert summary.pulled["people"]["removed"] == 0
    assert query(network, select(Person.active).where(Person.organisation_id == "zonneke", Person.active.is_(False))) == []
    accepted = sync(network, accept_removals=True)
    assert accepted.pulled["people"]["removed"] == 10


def test_a_few_leavers_go_through_and_a_third_of_the_staff_does_not(network):
    sync(network)
    lines = network.data.joinpath(ZONNEKE).read_text(encoding="utf-8-sig").splitlines()
    network.data.joinpath(ZONNEKE).write_text("\n".join(lines[:-2]) + "\n", encoding="utf-8")  # two leave
    assert sync(network).pulled["people"]["removed"] == 2
    network.data.joinpath(ZONNEKE).write_text("\n".join(lines[:-5]) + "\n", encoding="utf-8")  # three more: 3 of 8
    refused = sync(network)
    assert refused.pulled["people"]["removed"] == 0 and "would remove 3 of 8 (38%)" in refused.errors[-1].message


def test_a_first_export_holding_only_its_header_is_a_named_problem_not_an_empty_organisation(network):
    network.data.joinpath(ZONNEKE).write_text("\ufeff" + HEADER + "\n", encoding="utf-8")
    summary = sync(network)
    assert summary.status == "partial"
    empty = [p for p in summary.errors if not p.warning and p.source == "zonneke/hr" and p.entity == "people"]
    assert len(empty) == 1 and "holds no rows at all" in empty[0].message
    assert summary.pulled["people"]["failed"] == 1


def test_an_empty_file_is_a_named_problem(network):
    network.data.joinpath(ZONNEKE).write_bytes(b"")
    summary = sync(network)
    assert summary.status == "partial"
    assert any(p.source == "zonneke/hr" and p.entity == "people" and "medewerkers.csv" in p.message
               for p in summary.errors if not p.warning), summary.errors


def test_two_organisations_reading_one_file_is_a_configuration_problem_for_check_and_sync(network):
    import pytest

    from connector.core.errors import ConfigError
    from connector.engine.sync import check

    text = network.config_path.read_text(encoding="utf-8")
    network.config_path.write_text(text.replace('path = "examples/data/brouwers-peeters"', 'path = "examples/data/zonneke"'),
                                   encoding="utf-8")
    for attempt in (lambda: check(network.config()), lambda: sync(network)):
        with pytest.raises(ConfigError) as raised:
            attempt()
        (problem,) = [p for p in raised.value.problems if "all read" in p]
        assert "'zonneke/hr'" in problem and "'brouwers-peeters/hr'" in problem and "brouwers-peeters and zonneke" in problem


def test_one_person_claimed_by_two_organisations_is_a_warning_naming_both(network):
    network.edit_csv("brouwers-peeters/medewerkers.csv", "B08,Jef,Coppens,jef@brouwers-peeters.be",
                     "B08,Jef,Coppens,els.vandenbroeck@zonneke.be", encoding="utf-8")
    summary = sync(network)
    (claim,) = [p for p in summary.errors if p.record == "els.vandenbroeck@zonneke.be"]
    assert claim.warning and "organisation 'brouwers-peeters' (Jef Coppens)" in claim.message
    assert "organisation 'zonneke' (Els Van den Broeck)" in claim.message
    assert summary.status == "ok"


def test_a_renamed_optional_header_that_the_last_export_had_changes_nothing(network):
    """Found by a new user: 'E-mail werk' renamed to 'Email werk' emptied every address and
    re-sent the invitations without those attendees, under a mere warning."""
    first = sync(network)
    assert first.status == "ok", first.errors
    network.edit_csv(ZONNEKE, HEADER, HEADER.replace("E-mail werk", "Email werk"))
    summary = sync(network)
    assert summary.status == "partial" and sum(summary.invites.values()) == 0 and summary.training_records["written"] == 0
    (problem,) = [p for p in summary.errors if not p.warning and p.entity == "people"]
    assert "no column 'E-mail werk'" in problem.message and "the last export had that column" in problem.message
    assert query(network, select(Person.email).where(Person.employee_number == "Z001")) == [("els.vandenbroeck@zonneke.be",)]
