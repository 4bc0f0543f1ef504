"""One canonical person per organisation, however many sources know them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from connector.engine.sync import run_sync

MOMENT = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))
DIRECTORY = """\
Personeelsnummer;Voornaam;Familienaam;E-mail werk;Afdeling;Functie
;Sofie;De Smet;SOFIE.DESMET@zonneke.be;Management;Directrice
Z003;Hanne;Verhaegen-Peeters;hanne.verhaegen@zonneke.be;;Kinderbegeleidster
;Extern;Consultant;consultant@zonneke.be;;Adviseur
"""


def add_directory_source(network, precedence: str) -> None:
    """Zonneke also has a Microsoft 365-like directory export: not authoritative for who is employed."""
    folder = network.data / "zonneke-directory"
    folder.mkdir()
    (folder / "medewerkers.csv").write_text(DIRECTORY, encoding="utf-8")
    network.add_to_organisation("zonneke", f"""
  [[organisations.sources]]
  name = "directory"
  kind = "files"
  path = "examples/data/zonneke-directory"
  entities = ["people"]
  authoritative = false

  [organisations.precedence]
  {precedence}
""")


def people(network) -> dict:
    return network.people("zonneke")


def test_sources_merge_into_one_person_by_employee_number_then_email(network):
    add_directory_source(network, 'default = ["hr", "directory"]\n  job_title = ["directory", "hr"]')
    summary = run_sync(network.config(), MOMENT)
    assert summary.status == "ok", summary.errors
    found = people(network)
    assert len(found) == 11  # 10 from HR + the consultant only the directory knows
    sofie = found["sofie.desmet@zonneke.be"]  # matched on e-mail, case-insensitively: no employee number in the directory
    assert (sofie.employee_number, sofie.department, sofie.job_title) == ("Z002", "Directie", "Directrice")
    hanne = found["hanne.verhaegen@zonneke.be"]  # matched on employee number; HR wins the name, the directory the title
    assert (hanne.last_name, hanne.job_title) == ("Verhaegen", "Kinderbegeleidster")
    consultant = found["consultant@zonneke.be"]
    assert consultant.active is False  # no authoritative source employs them


def test_precedence_per_field_can_favour_the_other_source(network):
    add_directory_source(network, 'default = ["directory", "hr"]')
    run_sync(network.config(), MOMENT)
    hanne = people(network)["hanne.verhaegen@zonneke.be"]
    assert (hanne.last_name, hanne.department) == ("Verhaegen-Peeters", "Leefgroep peuters")  # empty in the directory: HR fills in


def test_leaving_the_non_authoritative_source_keeps_the_person_active(network):
    add_directory_source(network, 'default = ["hr", "directory"]')
    run_sync(network.config(), MOMENT)
    (network.data / "zonneke-directory" / "medewerkers.csv").write_text(DIRECTORY.splitlines()[0] + "\n", encoding="utf-8")
    refused = run_sync(network.config(), MOMENT)  # everyone gone at once looks like a truncated export
    assert refused.pulled["people"]["removed"] == 0 and refused.status == "partial"
    summary = run_sync(network.config(), MOMENT, accept_removals=True)
    assert summary.pulled["people"]["removed"] == 3
    found = people(network)
    assert found["sofie.desmet@zonneke.be"].active is True and len(found) == 11



def test_a_new_person_of_one_record_is_written_once_and_a_merged_one_updated(network):
    """Reconcile inserts a person that one record makes with that record's merged values (issue 18:
    no insert then update per new person); a person whom a second source's record joins is merged
    from both afterwards, with an UPDATE."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    add_directory_source(network, 'default = ["hr", "directory"]\n  job_title = ["directory", "hr"]')
    updated: set[str] = set()

    def watch(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE people SET") and "manager=" not in statement.replace(" ", ""):
            for row in (parameters if executemany else [parameters]):
                updated.add(row[-1] if isinstance(row, (tuple, list)) else row["_id"])

    event.listen(Engine, "before_cursor_execute", watch)
    try:
        summary = run_sync(network.config(), MOMENT)
    finally:
        event.remove(Engine, "before_cursor_execute", watch)
    assert summary.status == "ok", summary.errors
    found = people(network)
    merged = {found["sofie.desmet@zonneke.be"].id, found["hanne.verhaegen@zonneke.be"].id}  # in HR and in the directory
    assert updated == merged
    consultant = found["consultant@zonneke.be"]  # made by the directory alone: its values at the insert
    values = (consultant.first_name, consultant.last_name, consultant.job_title, consultant.active)
    assert values == ("Extern", "Consultant", "Adviseur", False)


def test_in_chunks_of_two_reconcile_does_what_it_does_in_one(tmp_path, store_url, monkeypatch):
    """Reconcile reads the changed records page by page and keeps the people it touched in the
    store, not in Python (issue 18, memory). In chunks of two, on either store, against one
    chunk on SQLite: a person made in one chunk and joined by the directory's record in a later
    one is merged, a page follows the last, and the people, their managers and the warnings
    (an unknown manager) come out the same, on a first sync and on one with a change."""
    from sqlalchemy import select

    from connector.store.db import open_engine, session_factory
    from connector.store.tables import Person
    from tests.conftest import Network

    def people_rows(network) -> list[tuple]:
        engine = open_engine(network.store_url)
        with session_factory(engine)() as db:
            rows = sorted(tuple(getattr(p, c.name) for c in Person.__table__.columns if c.name != "updated_at")
                          for p in db.scalars(select(Person)))
        engine.dispose()
        return rows

    def runs(network, size: int) -> list[tuple[list[tuple], list[str]]]:
        monkeypatch.setattr("connector.engine.reconcile.CHUNK", size)
        add_directory_source(network, 'default = ["hr", "directory"]')
        network.edit_csv("zonneke/medewerkers.csv", ";V;Z002\nZ008", ";V;Z099\nZ008")  # Ruth's manager: nobody at Zonneke
        outcome = []
        for _ in range(2):
            summary = run_sync(network.config(), MOMENT)
            assert summary.status == "ok", summary.errors
            outcome.append((people_rows(network), sorted(map(repr, summary.errors))))
            network.edit_csv("zonneke/medewerkers.csv", "Z004;Jonas;Claeys", "Z004;Jonas;Claeys-Peeters")
        return outcome

    reference = runs(Network(tmp_path / "one", f"sqlite:///{tmp_path / 'one' / 'state' / 'connector.db'}"), 500)
    assert any("Z099" in problem for problem in reference[0][1])
    assert runs(Network(tmp_path / "two", store_url), 2) == reference
