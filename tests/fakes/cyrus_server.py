"""A CalDAV server that schedules by itself (RFC 6638): Cyrus IMAP from Debian on loopback.

Unlike Radicale, Cyrus acts on ORGANIZER and ATTENDEE: a PUT by the organizer's principal
makes it send iMIP REQUESTs, CANCELs and updates to the attendees over SMTP. The SMTP server
here is a plain aiosmtpd sink on a free loopback port that keeps every message, so a test can
count what Cyrus sent. Everything (configuration, spool, SASL database) lives in one temporary
folder owned by the `cyrus` user; cyrmaster listens on free 127.0.0.1 ports only.

Needs the Debian packages cyrus-common cyrus-imapd cyrus-caldav sasl2-bin (see .ci/run) and
root, since cyrmaster changes to the `cyrus` user. Follows the recipe in the field input
`caldav-scheduling.md` of 2026-11-29.

imapd listens for plain IMAP (STARTTLS offered) and IMAP over TLS (`imaps_port`, RFC 8314), with
a certificate from the throwaway CA in `ca_file`: the mailbox where iMIP answers are read.
"""

from __future__ import annotations

import imaplib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import Any

import requests
from aiosmtpd.controller import Controller

from tests.fakes.tls import make_certificates

DOMAIN = "lerenswitchen.be"
PASSWORD = "cyrus-test-password"
ADMIN = "cyrus"
CYRMASTER = "/usr/sbin/cyrmaster"
SASLPASSWD2 = "/usr/sbin/saslpasswd2"
REQUIRED = (CYRMASTER, SASLPASSWD2, "/usr/lib/cyrus/bin/httpd")


def missing() -> str | None:
    """Why Cyrus cannot run here, or None."""
    absent = [path for path in REQUIRED if not Path(path).exists()]
    if absent:
        return f"Cyrus IMAP is not installed ({', '.join(absent)} missing; see .ci/run for the packages)"
    if os.geteuid() != 0:
        return "Cyrus's master process must start as root (it changes to the cyrus user)"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Mail:
    """One message Cyrus handed to its SMTP server."""

    recipients: list[str]
    data: bytes

    @property
    def method(self) -> str:
        """The iTIP method of the text/calendar part (REQUEST, CANCEL...)."""
        for part in message_from_bytes(self.data).walk():
            if part.get_content_type() == "text/calendar":
                return str(part.get_param("method") or "").upper()
        return ""


@dataclass
class _Sink:
    received: list[Mail] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append(Mail(list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"


class Cyrus:
    """cyrmaster with imapd and httpd (CalDAV with scheduling) on free loopback ports."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="st-cyrus-"))
        self.imap_port, self.http_port, self.smtp_port = free_port(), free_port(), free_port()
        self.imaps_port = free_port()  # IMAP over TLS (RFC 8314), certificate from `ca_file`
        self.ca_file = self.folder / "ca.pem"
        self.base = f"http://127.0.0.1:{self.http_port}"
        self.sink = _Sink()
        self.smtp = Controller(self.sink, hostname="127.0.0.1", port=self.smtp_port)
        self.process: subprocess.Popen[bytes] | None = None
        self.users: set[str] = set()

    # -- setting up ---------------------------------------------------------------------
    def _write_configuration(self) -> Path:
        root = self.folder
        conf = root / "conf"
        for sub in ("socket", "proc", "log", "db", "lock", "sieve", "ptclient", "quota", "user", "msg"):
            (conf / sub).mkdir(parents=True, exist_ok=True)
        (root / "spool").mkdir(exist_ok=True)
        imapd = root / "imapd.conf"
        _, certificate, key = make_certificates(root)  # ca.pem, server.pem, server.key: imaps and STARTTLS
        imapd.write_text(f"""configdirectory: {conf}
defaultpartition: default
partition-default: {root / 'spool'}
servername: {DOMAIN}
calendar_user_address_set: {DOMAIN}
admins: {ADMIN}
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: {root / 'sasldb2'}
sasl_mech_list: PLAIN LOGIN
httpmodules: caldav
caldav_allowscheduling: on
smtp_backend: host
smtp_host: 127.0.0.1:{self.smtp_port}/noauth
unixhierarchysep: yes
idlesocket: {conf / 'socket' / 'idle'}
notifysocket: {conf / 'socket' / 'notify'}
lmtpsocket: {conf / 'socket' / 'lmtp'}
mboxname_lockpath: {conf / 'lock'}
tls_server_cert: {certificate}
tls_server_key: {key}
""")
        # No imipnotifier: without one, Cyrus sends its iMIP messages over SMTP itself.
        (root / "cyrus.conf").write_text(f"""START {{ recover cmd="ctl_cyrusdb -r -C {imapd}" }}
SERVICES {{
  imap cmd="imapd -C {imapd}" listen="127.0.0.1:{self.imap_port}" prefork=0
  imaps cmd="imapd -s -C {imapd}" listen="127.0.0.1:{self.imaps_port}" prefork=0
  http cmd="httpd -C {imapd}" listen="127.0.0.1:{self.http_port}" prefork=0
}}
EVENTS {{ }}
DAEMON {{ }}
""")
        return imapd

    def _sasl_user(self, name: str) -> None:
        subprocess.run([SASLPASSWD2, "-p", "-c", "-f", str(self.folder / "sasldb2"), "-u", DOMAIN, name],
                       input=PASSWORD.encode(), check=True)
        shutil.chown(self.folder / "sasldb2", "cyrus", "mail")

    def start(self) -> Cyrus:
        imapd = self._write_configuration()
        self._sasl_user(ADMIN)
        subprocess.run(["chown", "-R", "cyrus:mail", str(self.folder)], check=True)
        self.smtp.start()
        self.process = subprocess.Popen([CYRMASTER, "-C", str(imapd), "-M", str(self.folder / "cyrus.conf"), "-D",
                                         "-p", str(self.folder / "master.pid")],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"cyrmaster ended: {self.process.stderr.read().decode() if self.process.stderr else ''}")
            try:
                with imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=5):
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("Cyrus did not start listening")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # cyrmaster's children share its session (start_new_session): end the group we started.
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        self.smtp.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def user(self, name: str) -> str:
        """A principal `name@lerenswitchen.be` with an INBOX (Cyrus only gives calendar homes to
        users that have one); idempotent. Returns the address."""
        if name not in self.users:
            self._sasl_user(name)
            with imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10) as imap:
                imap.login(ADMIN, PASSWORD)
                status, answer = imap.create(f"user/{name}")
                assert status == "OK" or b"exists" in b"".join(answer).lower(), answer
            self.users.add(name)
        return f"{name}@{DOMAIN}"

    def calendar(self, owner: str, name: str) -> str:
        """A new calendar collection of `owner` (MKCALENDAR, RFC 4791 5.3.1); returns its URL."""
        self.user(owner)
        url = f"{self.base}/dav/calendars/user/{owner}/{name}/"
        answer = requests.request("MKCALENDAR", url, auth=(owner, PASSWORD), timeout=30)
        assert answer.status_code == 201, (answer.status_code, answer.text)
        return url

    # -- reading back -------------------------------------------------------------------
    @property
    def sent(self) -> list[Mail]:
        return self.sink.received

    def settle(self, quiet: float = 1.5, limit: float = 20) -> list[Mail]:
        """Every message sent so far, once none arrived for `quiet` seconds: Cyrus hands
        scheduling messages to SMTP while it answers the PUT, but give stragglers a moment."""
        deadline = time.monotonic() + limit
        count, since = len(self.sent), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.2)
            if len(self.sent) != count:
                count, since = len(self.sent), time.monotonic()
            elif time.monotonic() - since >= quiet:
                break
        return list(self.sent)

    def objects(self, url: str, owner: str) -> dict[str, bytes]:
        """Every calendar object in a collection, by href name (PROPFIND Depth 1, then GET)."""
        listing = requests.request("PROPFIND", url, auth=(owner, PASSWORD), headers={"Depth": "1"}, timeout=30).text
        names = sorted({part.split("<")[0].rsplit("/", 1)[-1] for part in listing.split("href>")[1:] if ".ics<" in part})
        return {name: requests.get(url + name, auth=(owner, PASSWORD), timeout=30).content for name in names}
