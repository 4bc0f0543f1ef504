"""Messages people understand (issue: safe to operate): configuration errors in the words of
the person who wrote the file, valid ids beside a reference that is not, counts that match."""

from __future__ import annotations

import json

import pytest

from connector.core.config import load_config
from connector.core.errors import ConfigError
from tests.conftest import REPO
from tests.test_cli import AS_OF, cli


def _problems(tmp_path, *edits: tuple[str, str]) -> list[str]:
    text = (REPO / "config.example.toml").read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    return [problem.split(": ", 1)[1] for problem in raised.value.problems]


def test_a_misspelled_key_gets_did_you_mean_and_an_unknown_one_the_valid_keys(tmp_path):
    problems = _problems(tmp_path, ("max_removed_share = 0.2", "max_removed_shares = 0.2"), ("[reminders]", "[reminder]"),
                         ("always_allowed_removals = 2", "allowed = 2"))
    assert "guards.max_removed_shares: unknown setting (did you mean 'max_removed_share'?)" in problems
    assert "reminder: unknown setting (did you mean 'reminders'?)" in problems
    assert "guards.allowed: unknown setting; valid here: always_allowed_removals, max_removed_share" in problems


def test_patterns_are_said_in_words_not_as_regular_expressions(tmp_path):
    problems = _problems(tmp_path, ('id = "zonneke"', 'id = "Zonneke"'), ('time = "02:30"', 'time = "2:30"'))
    assert "organisations[0] (id=Zonneke).id: 'Zonneke' is not allowed here: lower-case letters, digits and '-' only " \
           "(e.g. brouwers-peeters)" in problems
    assert "schedule.time: '2:30' is not allowed here: a time written HH:MM, e.g. 02:30" in problems
    assert not any("^" in problem for problem in problems)


def test_configuration_errors_are_one_json_document_with_json(tmp_path):
    (tmp_path / "config.toml").write_text((REPO / "config.example.toml").read_text(encoding="utf-8")
                                          .replace("[guards]", "[guard]"), encoding="utf-8")
    result = cli("sync", "--config", str(tmp_path / "config.toml"), "--json")
    assert result.returncode == 2
    document = json.loads(result.stdout)
    assert document["status"] == "configuration error"
    assert [e["message"] for e in document["errors"]] == [f"{tmp_path / 'config.toml'}: guard: unknown setting (did you mean 'guards'?)"]


def test_an_unknown_organisation_in_the_cohort_lists_the_valid_ids(sqlite_network):
    sqlite_network.edit_csv("cohort/leerplekken.csv", "LP-ZON-BABY;zonneke", "LP-ZON-BABY;zoneke")
    document = json.loads(cli("sync", "--config", str(sqlite_network.config_path), *AS_OF, "--json").stdout)
    (problem,) = [e for e in document["errors"] if e["field"] == "organisation"]
    assert problem["message"] == ("organisation 'zoneke' is not in the configuration (did you mean 'zonneke'?); "
                                  "valid ids: brouwers-peeters, groenkracht, petits-pas, zonneke")


def test_the_counts_in_the_summary_are_those_of_the_problems_listed(sqlite_network):
    sqlite_network.edit_csv("zonneke/medewerkers.csv", "01/09/2015", "31/02/2015")
    sqlite_network.edit_csv("cohort/sessies.csv", "S-01-D1;EX-01", "S-01-D1;EX-0l")
    lines = cli("sync", "--config", str(sqlite_network.config_path), *AS_OF).stdout.splitlines()
    listed = [line for line in lines if line.startswith("    - ")]
    header = next(line for line in lines if line.strip().endswith("problem(s):"))
    (people,) = [line.split() for line in lines if line.strip().startswith("people ")]
    status = json.loads(cli("status", "--config", str(sqlite_network.config_path), "--json").stdout)
    assert int(header.split()[0]) == len(listed) == status["runs"][0]["problems"] == 3
    assert int(people[people.index("failed") - 1]) == len([line for line in listed if " / people / " in line]) == 1
