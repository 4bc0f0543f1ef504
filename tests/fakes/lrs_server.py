"""A real learning record store on loopback: Ralph (ralph-malph) with its filesystem backend
and HTTP basic authentication, credentials made with Ralph's own CLI."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

USERNAME = "connector"
PASSWORD = "lrs-test-password"


class Ralph:
    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory()
        root = Path(self._folder.name)
        (root / "data").mkdir()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}/xAPI/"
        ralph = shutil.which("ralph", path=str(Path(sys.executable).parent)) or "ralph"
        environment = {**os.environ, "RALPH_AUTH_FILE": str(root / "auth.json"), "RALPH_RUNSERVER_BACKEND": "fs"}
        subprocess.run([ralph, "auth", "-u", USERNAME, "-p", PASSWORD, "-s", "all", "-M", "mailto:switch@lerenswitchen.be", "-w"],
                       env=environment, check=True, capture_output=True, timeout=120)
        # Ralph's filesystem backend writes each batch with operation CREATE onto one LRS file,
        # so any write after the first fails ("bulk indexation failed"); and `ralph runserver`
        # runs uvicorn with the development reloader. We serve Ralph's app ourselves, configured
        # through its environment variables as runserver does, with appending as the default.
        environment.update({"RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(root / "data")})
        launcher = ("import sys, uvicorn; from ralph.backends.data.base import BaseOperationType; "
                    "from ralph.backends.data.fs import FSDataBackend; FSDataBackend.default_operation_type = BaseOperationType.APPEND; "
                    "uvicorn.run('ralph.api:app', host='127.0.0.1', port=int(sys.argv[1]), log_level='warning')")
        self.process = subprocess.Popen([sys.executable, "-c", launcher, str(self.port)], env=environment,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.auth = (USERNAME, PASSWORD)
        self.headers = {"X-Experience-API-Version": "1.0.3"}

    def start(self) -> Ralph:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base + "statements", auth=self.auth, headers=self.headers, timeout=5).status_code == 200:
                    return self
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError("Ralph did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self._folder.cleanup()

    def post(self, *statements: dict[str, Any]) -> None:
        """A test's own set-up statements. Once, under a loaded CI machine, Ralph answered this very
        first write of a fresh server with a bare 500; a set-up step may try once more (the
        statement ids are fixed, so a repeat stores nothing twice)."""
        for attempt in range(2):
            answer = requests.post(self.base + "statements", json=list(statements), auth=self.auth, headers=self.headers, timeout=10)
            if answer.status_code != 500 or attempt:
                break
            time.sleep(1)
        assert answer.status_code == 200, answer.text

    def statements(self) -> list[dict[str, Any]]:
        found, url = [], self.base + "statements?limit=500"
        while url:
            page = requests.get(url, auth=self.auth, headers=self.headers, timeout=10).json()
            found += page["statements"]
            url = f"http://127.0.0.1:{self.port}{page['more']}" if page.get("more") and page["statements"] else ""
        return found
