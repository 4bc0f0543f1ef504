"""Texts: the bundled gettext catalogs are complete and agree, Babel formats dates, hours and
durations per locale, and a partner's override catalog changes what people read (checked
by `check` first)."""

from __future__ import annotations

import fnmatch
import shutil
import tomllib
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from connector.core import texts
from connector.core.errors import ConfigError
from connector.core.reminders import Offset
from connector.core.texts import (
    LANGUAGES,
    format_number,
    labelled,
    load_overrides,
    long_date,
    long_moment,
    offset_label,
    overriding,
    placeholders,
    read_catalog,
    text,
)
from connector.engine.sync import check, run_sync
from tests.conftest import REPO

LOCALE = REPO / "connector" / "core" / "locale"
BRUSSELS = ZoneInfo("Europe/Brussels")


def differences(catalogs: dict[str, dict[str, str]], template: set[str]) -> list[str]:
    """Every key a language lacks or has beyond the template, and every key whose
    placeholders differ from the first language's."""
    found = []
    first = next(iter(catalogs))
    for language, messages in catalogs.items():
        found += [f"{language}: {key} missing" for key in sorted(template - messages.keys())]
        found += [f"{language}: {key} not in the template" for key in sorted(messages.keys() - template)]
        found += [f"{language}: {key} has placeholders {sorted(placeholders(messages[key]))}, {first} has "
                  f"{sorted(placeholders(catalogs[first][key]))}"
                  for key in sorted(messages.keys() & catalogs[first].keys())
                  if placeholders(messages[key]) != placeholders(catalogs[first][key])]
    return found


def template_keys() -> set[str]:
    with (LOCALE / "connector.pot").open("rb") as file:
        return {m.id for m in read_po(file) if m.id}


def test_every_language_has_every_key_with_the_same_placeholders():
    catalogs = {language: read_catalog(texts.bundled_path(language)) for language in LANGUAGES}
    assert len(template_keys()) > 100
    assert differences(catalogs, template_keys()) == []


def test_the_comparison_catches_a_missing_key_and_a_changed_placeholder(tmp_path):
    """The test above can fail: a French catalog without one key and with another placeholder."""
    broken = tmp_path / "fr.po"
    source = texts.bundled_path("fr").read_text(encoding="utf-8")
    source = source.replace('msgid "lb.code"\nmsgstr "Code de contrôle"\n', "")
    broken.write_text(source.replace("Des questions ? Contactez {name} ({email}).", "Des questions ? Contactez {nom}."), encoding="utf-8")
    catalogs = {"nl": read_catalog(texts.bundled_path("nl")), "fr": read_catalog(broken)}
    assert differences(catalogs, template_keys()) == [
        "fr: lb.code missing", "fr: label.contact has placeholders ['nom'], nl has ['email', 'name']"]


def test_no_bundled_message_is_fuzzy_or_untranslated():
    for language in LANGUAGES:
        with texts.bundled_path(language).open("rb") as file:
            unfinished = [m.id for m in read_po(file) if m.id and (m.fuzzy or not m.string)]
        assert unfinished == [], language


def test_every_key_the_code_names_is_in_the_template():
    """What `pybabel extract -F babel.cfg` finds (README, Development) must exist; keys built
    at run time (kind.<session kind>, col.<column>) are covered by the end-to-end tests."""
    keywords = {"text": (2,), "labelled": (2,), "t": (1,)}
    named = {message for _, _, message, _, _ in extract_from_dir(REPO / "connector", keywords=keywords)}
    assert {"lb.title", "label.contact", "mail.when", "labelled"} <= named
    assert named - template_keys() == set()


def test_the_catalogs_are_package_data():
    """An installed wheel carries the catalogs: pyproject's package-data names every file."""
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["connector"]
    files = [p.relative_to(REPO / "connector").as_posix() for p in LOCALE.rglob("*") if p.suffix in (".po", ".pot")]
    assert len(files) == 4
    assert [f for f in files if not any(fnmatch.fnmatch(f, pattern) for pattern in patterns)] == []


@pytest.mark.parametrize(("language", "day", "hours", "months", "week", "moment"), [
    ("nl", "1 maart 2026", "7,5", "2 maanden", "1 week", "Wanneer: 28 december 2026, 10:00"),
    ("fr", "1 mars 2026", "7,5", "2\xa0mois", "1\xa0semaine", "Quand : 28 décembre 2026, 10:00"),
    ("en", "1 March 2026", "7.5", "2 months", "1 week", "When: 28 December 2026, 10:00"),  # en_150, not US
])
def test_babel_formats_dates_hours_and_offsets_per_locale(language, day, hours, months, week, moment):
    assert long_date(language, date(2026, 3, 1)) == day
    assert format_number(language, 7.5) == hours and format_number(language, 8.0) == "8"
    assert format_number(language, 7.125) in ("7,12", "7.12")  # two decimals at most
    assert offset_label(language, Offset(2, "m")) == months and offset_label(language, Offset(1, "w")) == week
    # In the time zone of the moment itself, not the machine's or UTC: 09:00 UTC is 10:00 in Brussels.
    when = datetime(2026, 12, 28, 9, 0, tzinfo=ZoneInfo("UTC")).astimezone(BRUSSELS)
    assert labelled(language, "mail.when", long_moment(language, when)) == moment


def test_an_unknown_language_reads_dutch():
    assert text("de", "lb.title") == "Leerbewijs" and long_date("de", date(2026, 3, 1)) == "1 maart 2026"


# -- overrides -----------------------------------------------------------------------------------

def write_po(path: Path, messages: dict[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    escaped = {key: value.replace("\\", "\\\\").replace('"', '\\"') for key, value in messages.items()}
    path.write_text("".join(f'msgid "{key}"\nmsgstr "{value}"\n\n' for key, value in escaped.items()), encoding="utf-8")
    return path


def test_an_override_replaces_its_messages_and_leaves_the_rest(tmp_path):
    write_po(tmp_path / "nl.po", {"lb.title": "Bewijs van leren", "label.contact": "Mail {name}: {email}"})
    write_po(tmp_path / "fr" / "LC_MESSAGES" / "connector.po", {"lb.title": "Attestation"})
    with overriding(tmp_path):
        assert text("nl", "lb.title") == "Bewijs van leren" and text("fr", "lb.title") == "Attestation"
        assert text("nl", "label.contact", name="An", email="an@x.be") == "Mail An: an@x.be"
        assert text("nl", "lb.subtitle") == "Leeruitwisseling volgens de methode Switching Talent"  # not overridden
        assert text("en", "lb.title") == "Certificate of learning"
    assert text("nl", "lb.title") == "Leerbewijs"  # only within the block


def test_empty_and_fuzzy_override_messages_keep_the_bundled_text(tmp_path):
    (tmp_path / "nl.po").write_text('msgid "lb.title"\nmsgstr ""\n\n#, fuzzy\nmsgid "lb.total"\nmsgstr "Som"\n', encoding="utf-8")
    with overriding(tmp_path):
        assert text("nl", "lb.title") == "Leerbewijs" and text("nl", "lb.total") == "Totaal"


def test_bad_overrides_are_named_by_file_key_and_placeholder(tmp_path):
    nl = write_po(tmp_path / "nl.po", {"label.contact": "Mail {naam}", "lb.titel": "Bewijs", "lb.verify": "Door {partner."})
    write_po(tmp_path / "fr.po", {"lb.title": "Attestation"})
    write_po(tmp_path / "fr" / "LC_MESSAGES" / "connector.po", {"lb.title": "Attestation"})
    de = write_po(tmp_path / "de.po", {"lb.title": "Lernnachweis"})
    with pytest.raises(ConfigError) as caught:
        load_overrides(tmp_path)
    problems = caught.value.problems
    assert f"{de}: no texts in language 'de' (the connector speaks nl, fr, en)" in problems
    assert any(p.startswith(f"{tmp_path}: texts for 'fr' in two catalogs: ") for p in problems)
    assert f"{nl}: label.contact: placeholder {{email}} of the original is missing" in problems
    assert f"{nl}: label.contact: placeholder {{name}} of the original is missing" in problems
    assert f"{nl}: label.contact: unknown placeholder {{naam}} (this text knows {{email}}, {{name}})" in problems
    assert f"{nl}: lb.titel: no such text (unknown key)" in problems
    assert any(p.startswith(f"{nl}: lb.verify: not a valid template") for p in problems)
    assert len(problems) == 7


def test_a_catalog_that_is_not_po_is_reported(tmp_path):
    (tmp_path / "nl.po").write_text("Leerbewijs = Bewijs van leren\n", encoding="utf-8")
    (tmp_path / "fr.po").write_bytes('msgid "lb.title"\nmsgstr "Attestation délivrée"\n'.encode("latin-1"))  # no charset header
    with pytest.raises(ConfigError) as caught:
        load_overrides(tmp_path)
    assert [p.split(" (")[0] for p in caught.value.problems] == [
        f"{tmp_path / 'fr.po'}: not a readable .po catalog", f"{tmp_path / 'nl.po'}: not a readable .po catalog"]
    with pytest.raises(ConfigError) as missing:
        load_overrides(tmp_path / "nowhere")
    assert missing.value.problems == [f"{tmp_path / 'nowhere'}: [texts] catalog_dir is not a folder"]


def with_catalog_dir(network, folder: str) -> None:
    """Uncomment the example configuration's [texts] catalog_dir, as a partner would."""
    network.replace('# catalog_dir = "texts"', f'catalog_dir = "{folder}"')


def test_check_reports_a_bad_override_and_sync_writes_nothing(sqlite_network, capsys):
    from connector.cli import main

    with_catalog_dir(sqlite_network, "texts")
    fr = write_po(sqlite_network.root / "texts" / "fr.po", {"mail.request.subject": "Invitation : {sujet}"})
    assert main(["check", "--config", str(sqlite_network.config_path)]) == 2
    errors = capsys.readouterr().err
    assert f"{fr}: mail.request.subject: placeholder {{summary}} of the original is missing" in errors
    assert f"{fr}: mail.request.subject: unknown placeholder {{sujet}} (this text knows {{summary}})" in errors
    assert main(["sync", "--config", str(sqlite_network.config_path), "-q"]) == 2
    assert not (sqlite_network.root / "state").exists() and not (sqlite_network.root / "keys").exists()
    write_po(sqlite_network.root / "texts" / "fr.po", {"mail.request.subject": "Invitation : {summary}"})
    check(sqlite_network.config())  # the corrected catalog passes


def descriptions(network, session: str) -> list[str]:
    calendar = icalendar.Calendar.from_ical((network.out / "invitations" / f"{session}.ics").read_bytes())
    return [str(event["DESCRIPTION"]) for event in calendar.walk("VEVENT")]


def test_an_override_catalog_changes_the_invitations_of_a_real_sync(network):
    """The example network with the partner's own Dutch wording for exchange days and the
    contact line: Dutch invitations carry it, French ones stay as bundled."""
    shutil.copytree(LOCALE / "nl", network.root / "texts" / "nl")  # the documented way to start: copy the bundled catalog
    catalog = network.root / "texts" / "nl" / "LC_MESSAGES" / "connector.po"
    source = catalog.read_text(encoding="utf-8")
    assert "Vragen? Contacteer {name} ({email})." in source
    catalog.write_text(source.replace("Vragen? Contacteer {name} ({email}).", "Bel of mail {name}: {email}."), encoding="utf-8")
    write_po(network.root / "texts" / "fr.po", {})  # an empty catalog changes nothing
    with_catalog_dir(network, "texts")
    moment = datetime(2026, 11, 22, tzinfo=BRUSSELS)
    assert run_sync(network.config(), moment).status == "ok"
    dutch, french = descriptions(network, "S-05-D1"), descriptions(network, "S-07-D1")
    assert dutch and all(d.endswith("Bel of mail Projectleider Switching Talent: switch@lerenswitchen.be.") for d in dutch)
    assert french and all(d.endswith("Des questions ? Contactez Projectleider Switching Talent (switch@lerenswitchen.be).")
                          for d in french)
    assert text("nl", "label.contact", name="A", email="b") == "Vragen? Contacteer A (b)."  # only during the run


def test_an_override_changes_the_headings_of_the_organisation_exports(sqlite_network, capsys):
    from connector.cli import main

    with_catalog_dir(sqlite_network, "texts")
    write_po(sqlite_network.root / "texts" / "fr.po", {"col.name": "Nom et prénom"})
    config = str(sqlite_network.config_path)
    assert main(["sync", "--config", config, "--as-of", "2026-11-22", "-q"]) == 0
    assert main(["report", "organisations", "--config", config, "--year", "2026", "--format", "csv", "--organisation", "petits-pas"]) == 0
    accounts = next(Path(p) for p in capsys.readouterr().out.split() if p.endswith("accounts.csv"))
    assert accounts.read_text(encoding="utf-8-sig").startswith("Matricule;Nom et prénom;Service;ETP;")
