"""A real SCIM 2.0 server on loopback: scim2-server in a subprocess, users kept in memory,
a static bearer token."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

TOKEN = "scim-test-token"
CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


class ScimServer:
    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}/v2"
        command = shutil.which("scim2-server", path=str(Path(sys.executable).parent)) or "scim2-server"
        self.process = subprocess.Popen([command, "--hostname", "127.0.0.1", "--port", str(self.port), "--bearer-token", TOKEN],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"}

    def start(self) -> ScimServer:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.base}/ServiceProviderConfig", headers=self.headers, timeout=5).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("scim2-server did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)

    def add_user(self, user_name: str, given: str, family: str, employee_number: str | None = None, **extra: Any) -> str:
        emails = extra.pop("emails", [{"value": user_name, "type": "work", "primary": True}])
        body: dict[str, Any] = {"schemas": [CORE, ENTERPRISE], "userName": user_name, "name": {"givenName": given, "familyName": family},
                                "emails": emails, "active": extra.pop("active", True),
                                "title": extra.pop("title", None), "preferredLanguage": extra.pop("preferredLanguage", "nl-BE")}
        body[ENTERPRISE] = {k: v for k, v in {"employeeNumber": employee_number, **extra}.items() if v is not None}
        answer = requests.post(f"{self.base}/Users", json=body, headers=self.headers, timeout=10)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    def set_title(self, user_id: str, title: str) -> None:
        patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "title", "value": title}]}
        assert requests.patch(f"{self.base}/Users/{user_id}", json=patch, headers=self.headers, timeout=10).status_code in (200, 204)

    def delete_user(self, user_id: str) -> None:
        assert requests.delete(f"{self.base}/Users/{user_id}", headers=self.headers, timeout=10).status_code == 204
