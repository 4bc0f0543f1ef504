"""Channel routing across Outlook (Graph) and e-mail (iMIP) at once: every attendee is invited
through exactly one channel, as their organisation (or their own override) says."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest

from connector.engine.sync import run_sync
from connector.sinks.msgraph import KEY_PROPERTY
from tests.fakes.graph_server import CLIENT_SECRET, FakeGraph
from tests.fakes.smtp_server import PASSWORD, FakeSmtp

MOMENT = datetime(2026, 11, 22, tzinfo=ZoneInfo("Europe/Brussels"))


@pytest.fixture
def servers():
    graph, smtp = FakeGraph().start(), FakeSmtp().start()
    yield graph, smtp
    graph.stop()
    smtp.stop()


def test_nobody_is_invited_twice_and_everyone_routed_is_invited_once(sqlite_network, servers, monkeypatch):
    graph, smtp = servers
    monkeypatch.setenv("ST_TEST_GRAPH_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("ST_TEST_SMTP_PASSWORD", PASSWORD)
    sqlite_network.add_before_cohort(graph.tenant_toml() + '\n[channels.msgraph]\ntenant = "partner"\n\n' + smtp.channel_toml())
    for organisation, channel in (("zonneke", "msgraph"), ("brouwers-peeters", "imip"), ("petits-pas", "imip")):
        sqlite_network.route(organisation, channel)
    text = sqlite_network.config_path.read_text()
    text = text.replace('invitations = "imip"\ncoach_learning = true',
                        'invitations = "imip"\ninvitation_overrides = { "nathalie.francois@lespetitspas.be" = "msgraph" }\ncoach_learning = true')
    assert 'invitation_overrides = { "nathalie' in text  # the line itself, not the commented example
    sqlite_network.config_path.write_text(text)
    summary = run_sync(sqlite_network.config(), MOMENT)
    assert summary.status == "ok", summary.errors

    by_graph: dict[str, set[str]] = {}
    for event in graph.mailbox("switch@lerenswitchen.be").values():
        key = next(p["value"] for p in event["singleValueExtendedProperties"] if p["id"] == KEY_PROPERTY).split("/", 1)[1]
        by_graph[key] = {a["emailAddress"]["address"] for a in event["attendees"]}
    by_mail: dict[str, set[str]] = {}
    notes: list[list[str]] = []  # plain notes to line managers (issue 25), not invitations
    for received in smtp.received:
        message = email.message_from_bytes(received.data, policy=email.policy.default)
        part = next((p for p in message.walk() if p.get_content_type() == "text/calendar"), None)
        if part is None:
            assert message["Message-ID"].startswith("<manager.")
            notes.append(received.recipients)
            continue
        uid = str(icalendar.Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")[0]["UID"])
        by_mail.setdefault(uid, set()).update(received.recipients)
    from connector.core.calendar import session_uid

    sessions = sorted(p.stem for p in (sqlite_network.out / "invitations").glob("*.ics"))
    assert len(sessions) == 19  # 17 + the cohort's 2 group moments (each checked like a session)
    for code in sessions:
        outlook = by_graph.get(code, set())
        mailed = by_mail.get(session_uid("leren-switchen", code, "lerenswitchen.be"), set())
        assert not outlook & mailed, code
    assert by_graph["S-07-INTRO"] == {"nathalie.francois@lespetitspas.be"}  # her own override, though her crèche uses e-mail
    assert "nathalie.francois@lespetitspas.be" not in set().union(*by_mail.values())
    assert notes == [["amelie.dubois@lespetitspas.be"]]  # Nathalie's manager, whose crèche is reached by e-mail
    assert by_graph["S-04-INTRO"] == {"nele.geerts@zonneke.be"}
    assert by_mail[session_uid("leren-switchen", "S-04-INTRO", "lerenswitchen.be")] == {"amelie.dubois@lespetitspas.be"}
