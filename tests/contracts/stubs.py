"""`responses` stubs held to a vendor's contract (tests/contracts/checker.py), like the loopback fakes.

`ContractMock(vendor, host)` is a RequestsMock: a stub for that host is checked when it is
registered (an answer the vendor would never send cannot be served: it raises at once), and
every request made to it is checked when it is matched; leaving the block fails the test
with the requests the vendor would have refused. Stubs for other hosts (a sign-in endpoint
that is not the vendor's API) pass unchecked.
"""

from __future__ import annotations

import json
from functools import partialmethod
from typing import Any
from urllib.parse import urlsplit

import responses
from requests import PreparedRequest

from tests.contracts import checker


class ContractMock(responses.RequestsMock):
    def __init__(self, vendor: str, host: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.contract = checker.load(vendor)
        self.host = host

    def add(self, method: Any = None, url: Any = None, body: Any = "", adding_headers: Any = None, *args: Any, **kwargs: Any) -> Any:
        if isinstance(url, str) and self._ours(url):
            self._check_stub(str(method), url, body, kwargs)
            kwargs["match"] = (*kwargs.get("match", ()), self._check_request)
        return super().add(method, url, body, adding_headers, *args, **kwargs)

    # responses binds its shortcuts to its own `add`; bind them to this one.
    get = partialmethod(add, responses.GET)
    post = partialmethod(add, responses.POST)
    put = partialmethod(add, responses.PUT)
    patch = partialmethod(add, responses.PATCH)
    delete = partialmethod(add, responses.DELETE)

    def replace(self, method_or_response: Any = None, url: Any = None, body: Any = "", *args: Any, **kwargs: Any) -> Any:
        if isinstance(url, str) and self._ours(url):
            self._check_stub(str(method_or_response), url, body, kwargs)
            kwargs["match"] = (*kwargs.get("match", ()), self._check_request)
        return super().replace(method_or_response, url, body, *args, **kwargs)

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> Any:
        outcome = super().__exit__(kind, value, traceback)
        if kind is None:
            self.contract.assert_clean()
        return outcome

    def _ours(self, url: str) -> bool:
        return urlsplit(url).hostname == self.host

    def _check_stub(self, method: str, url: str, body: Any, kwargs: dict[str, Any]) -> None:
        if isinstance(body, Exception):
            return  # a dropped connection, not an answer
        payload = kwargs.get("json")
        if payload is None and isinstance(body, str | bytes) and body:
            try:
                payload = json.loads(body)
            except ValueError:
                return  # deliberately broken JSON: the transport's business, not the contract's
        target = urlsplit(url)
        wrong = self.contract.check_response(method, target.path, int(kwargs.get("status", 200)), payload)
        if wrong:
            self.contract.violations.clear()
            raise checker.ContractViolation("a stub the vendor would never send: " + "; ".join(wrong))

    def _check_request(self, request: PreparedRequest) -> tuple[bool, str]:
        target = urlsplit(str(request.url))
        body = request.body.encode() if isinstance(request.body, str) else (request.body or b"")
        path = target.path + (f"?{target.query}" if target.query else "")
        self.contract.check_request(str(request.method), path, dict(request.headers), body)
        return True, ""  # matched either way: the violation is kept and fails the test on leaving the block
