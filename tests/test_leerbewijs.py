"""The leerbewijs PDF: what HR reads on it, in the switcher's language, and its fingerprint."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from pypdf import PdfReader
from sqlalchemy import select

from connector.engine.sync import run_sync
from connector.leerbewijs.document import fingerprint, render_pdf
from connector.store.db import open_engine, session_factory
from connector.store.tables import Leerbewijs

CONTENT = {
    "number": "LB-2027-0001", "issued_on": "2027-05-20", "language": "nl",
    "partner": {"name": "Netwerk Leren Switchen vzw", "email": "switch@lerenswitchen.be"},
    "switcher": {"name": "Ayşe Yılmaz", "employee_number": "G102"},
    "sender": {"name": "Atelier Groenkracht cv", "enterprise_number": "0423.456.789"},
    "host": {"name": "Crèche Les Petits Pas asbl", "enterprise_number": None},
    "place": "Cuisine et alimentation saine", "coaches": ["Jérôme Lefèvre"],
    "question": "Hoe kook ik voor een grote groep – zonder verspilling?", "exchange": "EX-9",
    "days": [{"date": "2027-05-11", "hours": 7.5, "session": "S1"}, {"date": "2027-05-12", "hours": 6.5, "session": "S2"}],
    "total_hours": 14.0,
}


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_pdf_states_who_what_when_and_how_many_hours():
    digest = fingerprint(CONTENT)
    pdf = render_pdf(CONTENT, digest)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = " ".join(text_of(pdf).split())
    for expected in ("Leerbewijs", "LB-2027-0001", "Atelier Groenkracht cv (0423.456.789)", "Crèche Les Petits Pas asbl",
                     "Jérôme Lefèvre", "11 mei 2027", "12 mei 2027", "7,5", "6,5", "Totaal 14", "20 mei 2027", digest):
        assert expected in text, expected
    assert "Ayşe Yılmaz" in text  # every letter as the HR system has it (embedded Unicode fonts)
    assert reader.metadata.title == "Leerbewijs LB-2027-0001"


def test_the_same_content_renders_to_the_same_bytes_and_any_change_changes_the_fingerprint():
    assert render_pdf(CONTENT, fingerprint(CONTENT)) == render_pdf(CONTENT, fingerprint(CONTENT))
    altered = {**CONTENT, "total_hours": 15.0}
    assert fingerprint(altered) != fingerprint(CONTENT)


def test_french_and_english_versions():
    french = " ".join(text_of(render_pdf({**CONTENT, "language": "fr"}, "f" * 64)).split())
    assert "Attestation d'apprentissage" in french and "11 mai 2027" in french and "Heures" in french
    english = " ".join(text_of(render_pdf({**CONTENT, "language": "en"}, "e" * 64)).split())
    assert "Certificate of learning" in english and "11 May 2027" in english  # en_150: day month year


def test_issued_leerbewijs_matches_its_stored_fingerprint_and_is_never_rewritten(sqlite_network):
    moment = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))
    run_sync(sqlite_network.config(), moment)
    engine = open_engine(sqlite_network.store_url)
    with session_factory(engine)() as db:
        issued = {row.number: row for row in db.scalars(select(Leerbewijs))}
    engine.dispose()
    first = issued["LB-2026-0001"]
    assert first.fingerprint == fingerprint(first.content) and first.total_hours == 7  # EX-01: its second day is marked absent
    assert first.content["switcher"]["name"] == "Fatima El Amrani" and first.language == "nl"
    pdf = sqlite_network.out / "leerbewijzen" / "zonneke" / "LB-2026-0001.pdf"
    assert first.fingerprint in " ".join(text_of(pdf.read_bytes()).split()).replace(" ", "")
    before = pdf.read_bytes()
    # The switcher's name is corrected in HR afterwards: the issued proof stays as issued.
    sqlite_network.edit_csv("zonneke/medewerkers.csv", "Z005;Fatima;El Amrani", "Z005;Fatima;El-Amrani")
    later = run_sync(sqlite_network.config(), moment)
    assert later.leerbewijzen["issued"] == 0 and pdf.read_bytes() == before
