"""A real CalDAV server on loopback: Radicale in a subprocess, htpasswd authentication, one
calendar collection made with MKCALENDAR."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

USERNAME = "cohort"
PASSWORD = "caldav-test-password"


class Radicale:
    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory()
        root = Path(self._folder.name)
        (root / "users").write_text(f"{USERNAME}:{PASSWORD}\n")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.collection = f"{self.base}/{USERNAME}/switching-talent/"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{self.port}", "--auth-type", "htpasswd",
             "--auth-htpasswd-filename", str(root / "users"), "--auth-htpasswd-encryption", "plain",
             "--storage-filesystem-folder", str(root / "collections"), "--rights-type", "owner_only", "--logging-level", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> Radicale:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                answer = requests.request("MKCALENDAR", self.collection, auth=(USERNAME, PASSWORD), timeout=5)
                assert answer.status_code == 201, answer.text
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("Radicale did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self._folder.cleanup()

    def objects(self) -> dict[str, bytes]:
        """Every calendar object in the collection, by file name (a PROPFIND, then a GET each)."""
        listing = requests.request("PROPFIND", self.collection, auth=(USERNAME, PASSWORD), headers={"Depth": "1"}, timeout=10).text
        names = sorted({part.split("<")[0].rsplit("/", 1)[-1] for part in listing.split("href>")[1:] if ".ics<" in part})
        return {name: requests.get(self.collection + name, auth=(USERNAME, PASSWORD), timeout=10).content for name in names}
