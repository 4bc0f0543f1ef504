"""A real SMTP server on loopback (aiosmtpd) that requires STARTTLS and AUTH, keeps what it
receives, and refuses recipients at one domain, as a mail server refusing a mailbox does."""

from __future__ import annotations

import socket
import ssl
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.fakes.tls import make_certificates

USERNAME = "switch@lerenswitchen.be"
PASSWORD = "smtp-test-password"
REFUSED_DOMAIN = "@refused.example"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address.lower().endswith(REFUSED_DOMAIN):
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == USERNAME and auth_data.password.decode() == PASSWORD
    return AuthResult(success=ok, handled=False)


class FakeSmtp:
    def __init__(self, implicit_tls: bool = False) -> None:
        self._folder = tempfile.TemporaryDirectory()
        self.ca_file, cert, key = make_certificates(Path(self._folder.name))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.handler = _Handler()
        self.implicit_tls = implicit_tls
        if implicit_tls:  # SMTPS: TLS from the first byte (port 465 style)
            self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, ssl_context=context,
                                         authenticator=_authenticate, auth_required=True, auth_require_tls=False)
        else:
            self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, tls_context=context, require_starttls=True,
                                         authenticator=_authenticate, auth_required=True, auth_require_tls=True)

    def channel_toml(self, trust: bool = True, password_variable: str = "ST_TEST_SMTP_PASSWORD") -> str:
        """The [channels.imip] block that points the connector at this server."""
        security = "tls" if self.implicit_tls else "starttls"
        trusted = f'ca_bundle = "{self.ca_file}"\n' if trust else ""
        return (f'[channels.imip]\nhost = "127.0.0.1"\nport = {self.port}\nsecurity = "{security}"\nusername = "{USERNAME}"\n'
                f'password = "${{{password_variable}}}"\n{trusted}')

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> FakeSmtp:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
        self._folder.cleanup()
