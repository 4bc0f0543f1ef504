"""The shared HTTP layer, against `responses` (the requests transport mocked at the adapter)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
import responses

from connector.plumbing.http import (
    AnswerLost,
    Cursor,
    HttpClient,
    HttpError,
    Interrupted,
    LinkHeader,
    NextLinkInBody,
    OffsetLimit,
    PageNumber,
    RequestStats,
    RetryPolicy,
    redact_url,
    retry_after_seconds,
)

BASE = "https://api.example.test/v1"


def client(**options) -> tuple[HttpClient, list[float]]:
    waits: list[float] = []
    return HttpClient("test", BASE, sleep=waits.append, **options), waits


@responses.activate
def test_retry_after_on_429_is_honoured_in_seconds():
    responses.get(f"{BASE}/people", status=429, headers={"Retry-After": "7"}, json={"error": {"code": "TooManyRequests", "message": "slow down"}})
    responses.get(f"{BASE}/people", json={"ok": True})
    http, waits = client()
    assert http.json("GET", "people") == {"ok": True}
    assert waits == [7.0] and http.stats.as_dict() == {"test": 2}


@responses.activate
def test_retry_after_as_http_date_on_503():
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    responses.get(f"{BASE}/people", status=503, headers={"Retry-After": later})
    responses.get(f"{BASE}/people", json=[])
    http, waits = client()
    http.request("GET", "people")
    assert 25 <= waits[0] <= 30


@responses.activate
def test_429_without_retry_after_backs_off_exponentially_with_jitter_and_gives_up():
    for _ in range(4):
        responses.get(f"{BASE}/x", status=429)
    http, waits = client(retry=RetryPolicy(attempts=4, backoff_base=1, backoff_cap=3))
    with pytest.raises(HttpError) as caught:
        http.request("GET", "x")
    assert caught.value.status == 429 and len(waits) == 3
    assert 0 <= waits[0] <= 1 and 0 <= waits[1] <= 2 and 0 <= waits[2] <= 3


@responses.activate
def test_server_errors_and_connection_resets_are_retried_client_errors_are_not():
    responses.get(f"{BASE}/a", status=502)
    responses.get(f"{BASE}/a", body=requests.ConnectionError("reset by peer"))
    responses.get(f"{BASE}/a", body=requests.Timeout())
    responses.get(f"{BASE}/a", json={"fine": 1})
    responses.get(f"{BASE}/b", status=404, json={"error": {"code": "ResourceNotFound", "message": "no such user"}})
    http, waits = client()
    assert http.json("GET", "a") == {"fine": 1} and len(waits) == 3
    with pytest.raises(HttpError) as caught:
        http.request("GET", "b")
    assert (caught.value.status, caught.value.code, caught.value.detail) == (404, "ResourceNotFound", "no such user")
    assert len(responses.calls) == 5


@responses.activate
def test_retry_after_longer_than_the_budget_fails_instead_of_hanging():
    responses.get(f"{BASE}/x", status=429, headers={"Retry-After": "3600"})
    http, waits = client(retry=RetryPolicy(retry_after_cap=3600, budget_seconds=60))
    with pytest.raises(HttpError, match="exceeds the budget"):
        http.request("GET", "x")
    assert waits == []


class RenewingToken:
    def __init__(self) -> None:
        self.token, self.renewals = "old", 0

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def refresh(self) -> bool:
        self.renewals += 1
        self.token = "new"
        return True


@responses.activate
def test_expired_token_is_renewed_once_and_the_request_repeated():
    responses.get(f"{BASE}/me", status=401, json={"error": {"code": "InvalidAuthenticationToken", "message": "Access token has expired"}},
                  match=[responses.matchers.header_matcher({"Authorization": "Bearer old"})])
    responses.get(f"{BASE}/me", json={"id": 1}, match=[responses.matchers.header_matcher({"Authorization": "Bearer new"})])
    auth = RenewingToken()
    http, _ = client(auth=auth)
    assert http.json("GET", "me") == {"id": 1} and auth.renewals == 1


@responses.activate
def test_a_token_that_stays_invalid_is_an_error_not_a_loop():
    responses.get(f"{BASE}/me", status=401, json={"error": {"code": "InvalidAuthenticationToken", "message": "bad"}})
    auth = RenewingToken()
    http, _ = client(auth=auth)
    with pytest.raises(HttpError) as caught:
        http.request("GET", "me")
    assert caught.value.status == 401 and auth.renewals == 1 and len(responses.calls) == 2


@responses.activate
def test_malformed_and_truncated_json_are_clear_errors():
    responses.get(f"{BASE}/t", body='{"value": [{"id": 1}, {"id"', content_type="application/json")
    responses.post(f"{BASE}/t", body='{"id": 40', content_type="application/json")
    http, _ = client()
    with pytest.raises(HttpError, match="not valid JSON") as read:
        http.json("GET", "t")
    with pytest.raises(AnswerLost, match="not valid JSON"):  # a write cut off in its answer has landed
        http.json("POST", "t")
    assert not read.value.uncertain


@responses.activate
def test_secrets_never_reach_logs_or_errors(caplog):
    responses.get(f"{BASE}/x", status=400, json={"error": "invalid_request"})
    http, _ = client(auth=RenewingToken(), default_headers={"X-Api-Key": "k3y-value"})
    caplog.set_level(logging.DEBUG, logger="connector.plumbing.http")
    with pytest.raises(HttpError) as caught:
        http.request("GET", "x?api_key=k3y-value&page=2")
    text = caplog.text + str(caught.value)
    assert "k3y-value" not in text and "Bearer" not in text and "old" not in caught.value.detail
    assert "x?api_key=***&page=2" in text
    assert "page=2" in text


def test_redaction_and_retry_after_parsing():
    assert redact_url("https://h/p?$skiptoken=abc&client_secret=s&x=1") == "https://h/p?$skiptoken=***&client_secret=***&x=1"
    assert retry_after_seconds("12") == 12.0 and retry_after_seconds("soon") is None and retry_after_seconds(None) is None


@responses.activate
def test_next_link_pages_like_graph():
    responses.get(f"{BASE}/users/delta", json={"value": [{"id": "1"}], "@odata.nextLink": f"{BASE}/users/delta?$skiptoken=p2"},
                  match=[responses.matchers.query_param_matcher({"$select": "id"})])
    responses.get(f"{BASE}/users/delta", json={"value": [{"id": "2"}], "@odata.deltaLink": f"{BASE}/users/delta?$deltatoken=d"},
                  match=[responses.matchers.query_param_matcher({"$skiptoken": "p2"})])
    http, _ = client()
    pages = list(http.paginate("users/delta", NextLinkInBody(), params={"$select": "id"}, records_path="value"))
    assert [r["id"] for p in pages for r in p.records] == ["1", "2"]
    assert pages[-1].body["@odata.deltaLink"].endswith("$deltatoken=d")


@responses.activate
def test_offset_limit_stops_on_a_short_page_and_scim_style_base_one():
    for offset, ids in ((0, [1, 2]), (2, [3, 4]), (4, [5])):
        responses.get(f"{BASE}/employees", json={"data": [{"id": i} for i in ids]},
                      match=[responses.matchers.query_param_matcher({"limit": "2", "offset": str(offset)})])
    http, _ = client()
    assert [r["id"] for p in http.paginate("employees", OffsetLimit(limit=2), records_path="data") for r in p.records] == [1, 2, 3, 4, 5]
    responses.get(f"{BASE}/Users", json={"totalResults": 3, "Resources": [{"id": "a"}, {"id": "b"}]},
                  match=[responses.matchers.query_param_matcher({"startIndex": "1", "count": "2"})])
    responses.get(f"{BASE}/Users", json={"totalResults": 3, "Resources": [{"id": "c"}]},
                  match=[responses.matchers.query_param_matcher({"startIndex": "3", "count": "2"})])
    scim = OffsetLimit(limit=2, offset_param="startIndex", limit_param="count", base=1, total_path="totalResults")
    assert [r["id"] for p in http.paginate("Users", scim, records_path="Resources") for r in p.records] == ["a", "b", "c"]


@responses.activate
def test_page_number_cursor_and_link_header():
    responses.get(f"{BASE}/p", json={"items": [1], "pages": 2}, match=[responses.matchers.query_param_matcher({"page": "1"})])
    responses.get(f"{BASE}/p", json={"items": [2], "pages": 2}, match=[responses.matchers.query_param_matcher({"page": "2"})])
    responses.get(f"{BASE}/c", json={"data": [1], "_meta": {"links": {"next": {"cursor": "n2"}}}}, match=[responses.matchers.query_param_matcher({})])
    responses.get(f"{BASE}/c", json={"data": [2], "_meta": {"links": {}}}, match=[responses.matchers.query_param_matcher({"cursor": "n2"})])
    responses.get(f"{BASE}/l", json=[1], headers={"Link": f'<{BASE}/l?page=2>; rel="next"'}, match=[responses.matchers.query_param_matcher({})])
    responses.get(f"{BASE}/l", json=[2], match=[responses.matchers.query_param_matcher({"page": "2"})])
    http, _ = client()
    flat = lambda pages: [r for p in pages for r in p.records]  # noqa: E731
    assert flat(http.paginate("p", PageNumber(total_pages_path="pages"), records_path="items")) == [1, 2]
    assert flat(http.paginate("c", Cursor(cursor_path="_meta.links.next.cursor"), records_path="data")) == [1, 2]
    assert flat(http.paginate("l", LinkHeader())) == [1, 2]


def test_concurrency_is_capped_per_client():
    import threading
    import time as clock
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    state = {"now": 0, "peak": 0}
    lock = threading.Lock()

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            with lock:
                state["now"] += 1
                state["peak"] = max(state["peak"], state["now"])
            clock.sleep(0.05)
            with lock:
                state["now"] -= 1
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stats = RequestStats()
    http = HttpClient("slow", f"http://127.0.0.1:{server.server_port}", max_concurrency=3, stats=stats)
    threads = [threading.Thread(target=http.request, args=("GET", "x")) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    server.shutdown()
    assert state["peak"] == 3 and stats.as_dict() == {"slow": 12}


def test_tls_verification_options(tmp_path):
    from connector.plumbing.http import tls_verify

    assert tls_verify(tmp_path, {}) is True
    assert tls_verify(tmp_path, {"verify_tls": False, "ca_bundle": "x.pem"}) is False
    assert tls_verify(tmp_path, {"ca_bundle": "certs/ca.pem"}) == str(tmp_path / "certs" / "ca.pem")
    assert tls_verify(tmp_path, {"ca_bundle": "/etc/ssl/ca.pem"}) == "/etc/ssl/ca.pem"


def test_credentials_from_adapter_options():
    from pydantic import SecretStr

    from connector.plumbing.http import BasicAuth, BearerToken, auth_from_options

    assert auth_from_options({}) is None
    bearer = auth_from_options({"token": SecretStr("t0k"), "username": "ignored"})
    assert isinstance(bearer, BearerToken) and bearer.headers() == {"Authorization": "Bearer t0k"}
    basic = auth_from_options({"username": "u", "password": SecretStr("p")})
    assert isinstance(basic, BasicAuth) and basic.headers() == {"Authorization": "Basic dTpw"}  # base64("u:p")
    assert auth_from_options({"username": "u", "password": "p"}).headers() == basic.headers()
    assert "p" not in repr(SecretStr("p"))


# -- writes are never repeated blindly (issue 21, item 1) -----------------------------------

@responses.activate
def test_a_post_whose_answer_is_lost_is_not_sent_again_but_reported_uncertain():
    responses.post(f"{BASE}/records", body=requests.ConnectionError("Connection aborted: RemoteDisconnected"))
    responses.post(f"{BASE}/records", json={"id": 1})
    http, waits = client()
    with pytest.raises(AnswerLost) as caught:
        http.json("POST", "records", json={"day": "2026-10-23"})
    assert caught.value.uncertain and len(responses.calls) == 1 and waits == []


@pytest.mark.parametrize("status", [500, 502, 504, 503])
@responses.activate
def test_a_post_answered_by_a_server_error_may_have_landed(status):
    responses.post(f"{BASE}/records", status=status)  # a 503 without Retry-After may be a gateway's
    responses.post(f"{BASE}/records", json={"id": 1})
    http, _ = client()
    with pytest.raises(AnswerLost):
        http.request("POST", "records")
    assert len(responses.calls) == 1


@responses.activate
def test_a_post_refused_unprocessed_is_sent_again():
    responses.post(f"{BASE}/records", status=429, headers={"Retry-After": "3"})
    responses.post(f"{BASE}/records", status=503, headers={"Retry-After": "2"})
    responses.post(f"{BASE}/records", json={"id": 1})
    http, waits = client()
    assert http.json("POST", "records") == {"id": 1} and waits == [3.0, 2.0]


def test_a_post_that_never_reached_the_server_is_sent_again():
    with socket.socket() as probe:  # a port nobody listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits: list[float] = []
    http = HttpClient("test", f"http://127.0.0.1:{port}", sleep=waits.append, retry=RetryPolicy(attempts=3))
    with pytest.raises(HttpError) as caught:
        http.request("POST", "records")
    assert not caught.value.uncertain and len(waits) == 2 and http.stats.total() == 3


@responses.activate
def test_declared_idempotent_writes_and_idempotency_keys_are_repeated():
    for path in ("statements", "documents"):
        responses.post(f"{BASE}/{path}", body=requests.ConnectionError("reset"))
        responses.post(f"{BASE}/{path}", status=502)
        responses.post(f"{BASE}/{path}", json={"ok": path})
    http, waits = client()
    assert http.json("POST", "statements", idempotent=True) == {"ok": "statements"}
    assert http.json("POST", "documents", idempotency_key="leren-switchen|LB-2026-0001") == {"ok": "documents"}
    assert len(waits) == 4 and responses.calls[-1].request.headers["Idempotency-Key"] == "leren-switchen|LB-2026-0001"


# -- stopping on time (issue 21, item 5) ----------------------------------------------------

@responses.activate
def test_a_stop_during_a_long_retry_after_is_answered_within_a_second():
    responses.get(f"{BASE}/people", status=429, headers={"Retry-After": "120"})
    responses.get(f"{BASE}/people", json=[])
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    http = HttpClient("test", BASE, stop=stop.is_set)
    started = time.monotonic()
    with pytest.raises(Interrupted):
        http.request("GET", "people")
    assert time.monotonic() - started < 1.5 and len(responses.calls) == 1
