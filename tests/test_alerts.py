"""Alerts of partial and failed runs by e-mail through [channels.imip] (issue: safe to operate):
problems that went only to standard error now reach a person; the exit code stays for cron."""

from __future__ import annotations

import email
import email.policy

import pytest

from tests.fakes.smtp_server import PASSWORD
from tests.test_cli import AS_OF, cli

OPERATOR = "beheer@lerenswitchen.be"


@pytest.fixture
def network(sqlite_network, smtp):  # noqa: F811
    sqlite_network.add_before_cohort(smtp.channel_toml() + f'\n[alerts]\nemail = ["{OPERATOR}"]\n')
    return sqlite_network


def _run(network, *extra: str):  # type: ignore[no-untyped-def]
    return cli("sync", "--config", str(network.config_path), *AS_OF, *extra, env={"ST_TEST_SMTP_PASSWORD": PASSWORD})


def _alerts(smtp) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(r.data, policy=email.policy.default) for r in smtp.received if r.recipients == [OPERATOR]]


def test_a_partial_run_is_mailed_with_its_problems_and_still_exits_1(network, smtp):
    assert _run(network).returncode == 0 and _alerts(smtp) == []  # an ok run alerts nobody
    network.edit_csv("brouwers-peeters/medewerkers.csv", "B08,Jef,Coppens,jef@brouwers-peeters.be,NL,Magazijn,Leuven,Magazijnier,1,40,2026-05-10",
                     "B08,Jef,Coppens,jef@brouwers-peeters.be,NL,Magazijn,Leuven,Magazijnier,1,40,10 mei")
    result = _run(network)
    assert result.returncode == 1
    (alert,) = _alerts(smtp)
    assert alert["Subject"] == "st-connector (leren-switchen): sync partial, 1 problem(s)"
    body = alert.get_content()
    assert "The sync of 2026-11-22 00:00 Europe/Brussels ended partial." in body
    assert "brouwers-peeters/hr / people / medewerkers.csv row 9: start_date: '10 mei' is not a date" in body


def test_a_run_that_cannot_happen_is_mailed_as_failed_and_exits_3(network, smtp):
    (network.root / "state").write_text("a file where the store's folder must be")
    result = _run(network, "--json")
    assert result.returncode == 3 and "Traceback" not in result.stderr
    (alert,) = _alerts(smtp)
    assert alert["Subject"].endswith("sync failed, 1 problem(s)")
    assert f"{network.root / 'state'} is a file where a folder must be" in alert.get_content()


def test_alerts_without_an_smtp_channel_are_a_configuration_problem(sqlite_network):
    sqlite_network.add_before_cohort(f'[alerts]\nemail = ["{OPERATOR}"]\n')
    result = cli("check", "--config", str(sqlite_network.config_path))
    assert result.returncode == 2 and "[alerts] email is sent through the SMTP server of [channels.imip]" in result.stderr
