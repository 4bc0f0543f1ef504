"""$batch per-item statuses, as https://learn.microsoft.com/graph/json-batching documents them."""

from __future__ import annotations

import json

import pytest

from connector.plumbing.http import HttpClient
from connector.plumbing.msgraph import batch
from tests.contracts.stubs import ContractMock

GRAPH = "https://graph.test.example/v1.0"
HOST = "graph.test.example"


def answer(request_id: str, status: int, body=None, headers=None) -> dict:
    return {"id": request_id, "status": status, "headers": headers or {"Content-Type": "application/json"}, "body": body}


def test_mixed_statuses_come_back_in_order_and_only_items_refused_unprocessed_are_sent_again():
    first = {"responses": [
        answer("1", 429, {"error": {"code": "TooManyRequests", "message": "Too many requests"}}, {"Retry-After": "3"}),
        answer("0", 201, {"id": "AAMkAD-0"}),
        answer("2", 400, {"error": {"code": "ErrorInvalidRequest", "message": "Your request can't be completed."}}),
        answer("3", 503, {"error": {"code": "serviceNotAvailable", "message": "Service unavailable"}}),  # may have landed
        answer("4", 503, {"error": {"code": "serviceNotAvailable", "message": "Service unavailable"}}, {"Retry-After": "1"}),
    ]}
    second = {"responses": [answer("4", 201, {"id": "AAMkAD-4"}), answer("1", 201, {"id": "AAMkAD-1"})]}
    waits: list[float] = []
    client = HttpClient("graph", GRAPH, sleep=waits.append)
    requests_ = [{"method": "POST", "url": f"/users/x/events#{i}", "body": {"subject": str(i)}, "headers": {"Content-Type": "application/json"}}
                 for i in range(5)]
    with ContractMock("msgraph", HOST) as stubs:
        stubs.post(f"{GRAPH}/$batch", json=first)
        stubs.post(f"{GRAPH}/$batch", json=second)
        results = batch(client, requests_)
        resent = json.loads(stubs.calls[1].request.body)["requests"]
    assert [(r.status, r.uncertain) for r in results] == [(201, False), (201, False), (400, False), (503, True), (201, False)]
    assert [r.body.get("id") for r in results if r.status == 201] == ["AAMkAD-0", "AAMkAD-1", "AAMkAD-4"]
    assert waits == [3.0]
    assert sorted(r["id"] for r in resent) == ["1", "4"]


def test_reads_are_sent_again_after_any_server_error():
    with ContractMock("msgraph", HOST) as stubs:
        stubs.post(f"{GRAPH}/$batch", json={"responses": [answer("0", 502, {}), answer("1", 200, {"value": []})]})
        stubs.post(f"{GRAPH}/$batch", json={"responses": [answer("0", 200, {"value": [{"id": "e"}]})]})
        results = batch(HttpClient("graph", GRAPH, sleep=lambda s: None), [{"method": "GET", "url": "/users"}, {"method": "GET", "url": "/users"}])
        calls = len(stubs.calls)
    assert [(r.status, r.uncertain) for r in results] == [(200, False), (200, False)] and calls == 2


def test_more_than_twenty_requests_are_refused_before_sending():
    client = HttpClient("graph", GRAPH)
    with pytest.raises(ValueError, match="at most 20"):
        batch(client, [{"method": "GET", "url": "/me"}] * 21)


def test_a_batch_answer_missing_items_is_an_error_not_a_silent_loss():
    from connector.plumbing.http import HttpError

    with ContractMock("msgraph", HOST) as stubs:
        stubs.post(f"{GRAPH}/$batch", json={"responses": [answer("0", 200, {})]})
        with pytest.raises(HttpError, match="lacks 1 of its responses"):
            batch(HttpClient("graph", GRAPH), [{"method": "GET", "url": "/a"}, {"method": "GET", "url": "/b"}])


def test_a_batch_body_without_its_content_type_is_what_graph_refuses():
    """JSON batching: an item with a body needs a Content-Type header; the stub's contract says so."""
    from tests.contracts.checker import ContractViolation

    with pytest.raises(ContractViolation, match="requests/0: .headers. is a required property"):
        with ContractMock("msgraph", HOST) as stubs:
            stubs.post(f"{GRAPH}/$batch", json={"responses": [answer("0", 201, {"id": "x"})]})
            batch(HttpClient("graph", GRAPH), [{"method": "POST", "url": "/users/x/events", "body": {"subject": "s"}}])


def test_graph_event_resources_for_timed_and_all_day_sessions():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from connector.core.calendar import CalendarEvent, Party
    from connector.sinks.msgraph import graph_event

    brussels = ZoneInfo("Europe/Brussels")
    base = dict(uid="u@x", summary="S", description="Regel 1\nRegel <2> & 3", start=datetime(2027, 5, 11, 8, 30, tzinfo=brussels),
                end=datetime(2027, 5, 11, 16, tzinfo=brussels), timezone="Europe/Brussels", organizer=Party(email="o@x.be", name="O"),
                attendees=[Party(email="a@x.be", name="A"), Party(email="hr@x.be", name="HR", role="OPT-PARTICIPANT")], kind="exchange_day")
    timed = graph_event(CalendarEvent(**base))
    assert timed["start"] == {"dateTime": "2027-05-11T08:30:00", "timeZone": "Romance Standard Time"} and timed["isAllDay"] is False
    assert timed["body"] == {"contentType": "HTML", "content": "<p>Regel 1<br>Regel &lt;2&gt; &amp; 3</p>"}
    assert [a["type"] for a in timed["attendees"]] == ["required", "optional"] and "onlineMeetingProvider" not in timed
    all_day = graph_event(CalendarEvent(**{**base, "all_day": True}))
    assert (all_day["start"]["dateTime"], all_day["end"]["dateTime"], all_day["isAllDay"]) == ("2027-05-11T00:00:00", "2027-05-12T00:00:00", True)
