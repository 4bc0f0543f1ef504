from pathlib import Path

import pytest

from connector.core.config import load_config
from connector.core.errors import ConfigError
from tests.conftest import REPO

MINIMAL = """
[partner]
id = "pp"
name = "P"
organiser_email = "switch@p.be"
[store]
url = "postgresql+psycopg://connector:${DB_PASSWORD}@db/connector"
[[organisations]]
id = "a"
name = "A"
"""


def test_example_configuration_is_valid():
    config = load_config(REPO / "config.example.toml")
    assert [o.id for o in config.organisations] == ["zonneke", "groenkracht", "brouwers-peeters", "petits-pas"]
    assert config.store_url == f"sqlite:///{REPO / 'state' / 'connector.db'}"


def test_the_example_network_on_bamboohr_personio_and_successfactors_checks_out(tmp_path: Path, monkeypatch):
    """The "#|" blocks of the example put one employer on each HR system; uncommented they
    must pass `check` as they stand (only the secrets come from the environment)."""
    from connector.engine.sync import check

    text = (REPO / "config.example.toml").read_text(encoding="utf-8")
    assert text.count("#|kind = ") == 6
    uncommented = "\n".join(line.replace("#|", "", 1) if line.lstrip().startswith("#|") else line for line in text.splitlines())
    uncommented = uncommented.replace('path = "examples/', f'path = "{REPO}/examples/')
    path = tmp_path / "config.toml"
    path.write_text(uncommented, encoding="utf-8")
    for name in ("ST_SF_PRIVATE_KEY_ZONNEKE", "ST_SF_LEARNING_SECRET_ZONNEKE", "ST_PERSONIO_SECRET_GROENKRACHT", "ST_BAMBOOHR_KEY_BROUWERS"):
        monkeypatch.setenv(name, "value-from-the-environment")
    config = load_config(path)
    kinds = {o.id: sorted({s.kind for s in o.sources} | {t.kind for t in o.writeback}) for o in config.organisations}
    assert "successfactors" in kinds["zonneke"] and "personio" in kinds["groenkracht"] and "bamboohr" in kinds["brouwers-peeters"]
    check(config)


def test_references_come_from_the_environment_first_then_the_secrets_file(tmp_path: Path):
    (tmp_path / "config.toml").write_text(MINIMAL + '[secrets]\nfile = "secrets.toml"\n')
    (tmp_path / "secrets.toml").write_text('DB_PASSWORD = "from-file"\n')
    assert "from-file" in load_config(tmp_path / "config.toml", environ={}).store.url
    assert "from-env" in load_config(tmp_path / "config.toml", environ={"DB_PASSWORD": "from-env"}).store.url
    (tmp_path / "other.toml").write_text('DB_PASSWORD = "other-file"\n')
    assert "other-file" in load_config(tmp_path / "config.toml", environ={"ST_SECRETS_FILE": str(tmp_path / "other.toml")}).store.url


def test_a_missing_secret_is_named_but_never_echoed(tmp_path: Path):
    (tmp_path / "config.toml").write_text(MINIMAL)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "config.toml", environ={})
    assert caught.value.problems == [f"{tmp_path / 'config.toml'}: store.url: ${{DB_PASSWORD}} is not set in the environment or the secrets file"]


def test_unset_web_secrets_are_named_once_each_and_a_short_one_as_short(tmp_path: Path):
    web = '[web]\nbase_url = "https://st.example.be"\nsession_secret = "${S}"\nlink_keys = ["${K}"]\n'
    (tmp_path / "config.toml").write_text(MINIMAL + web)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "config.toml", environ={"DB_PASSWORD": "x"})
    assert [p.split(": ", 1)[1] for p in caught.value.problems] == [
        "web.session_secret: ${S} is not set in the environment or the secrets file",
        "web.link_keys[0]: ${K} is not set in the environment or the secrets file"]
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "config.toml", environ={"DB_PASSWORD": "x", "S": "short", "K": "k" * 32})
    assert len(caught.value.problems) == 1 and "session_secret must be at least 32 bytes" in caught.value.problems[0]


def test_unreadable_secrets_file_does_not_leak_its_content(tmp_path: Path):
    (tmp_path / "config.toml").write_text(MINIMAL)
    (tmp_path / "s.toml").write_text('DB_PASSWORD = "unterminated-secret\n')
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "config.toml", environ={"ST_SECRETS_FILE": str(tmp_path / "s.toml")})
    assert "unterminated-secret" not in str(caught.value) and "secrets file unreadable" in str(caught.value)


def test_every_problem_is_reported_at_once(tmp_path: Path):
    (tmp_path / "config.toml").write_text("""
[partner]
id = "pp"
name = "P"
organiser_email = "switch@p.be"
timezone = "Europe/Gent"
[[organisations]]
id = "a"
name = "A"
average_workforce = -3
[[organisations]]
id = "b"
name = "B"
precedence = { default = ["m365"] }
""")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "config.toml", environ={})
    problems = "\n".join(caught.value.problems)
    assert "partner.timezone: Value error, unknown time zone 'Europe/Gent'" in problems
    assert "organisations[0] (id=a).average_workforce" in problems
    assert "precedence.default names unknown source(s) ['m365']" in problems


def test_organisation_ids_must_be_unique(tmp_path: Path):
    (tmp_path / "config.toml").write_text(MINIMAL.replace("${DB_PASSWORD}", "x") + '[[organisations]]\nid = "a"\nname = "Again"\n')
    with pytest.raises(ConfigError, match="organisation ids must be unique; repeated: \\['a'\\]"):
        load_config(tmp_path / "config.toml", environ={})


def test_unknown_adapter_kinds_list_the_known_ones():
    from connector.sinks import sink_class
    from connector.sources import source_class

    with pytest.raises(ConfigError, match=r"unknown source kind 'workday' \(known: bamboohr, files, msgraph_users, personio, scim, successfactors, xapi\)"):
        source_class("workday")
    with pytest.raises(ConfigError, match=r"unknown sink kind '\.\./x' \(known: bamboohr, bamboohr_goals, caldav, ics_files, imip, ledger_files, leerbewijs_files, message_files, msgraph, personio, successfactors, successfactors_goals, viva_learning, xapi\)"):
        sink_class("../x")
    assert source_class("files").kind == "files"
