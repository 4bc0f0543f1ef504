"""One IMAP connection (RFC 9051, compatible with RFC 3501 servers) from an options block such
as [channels.imip.replies]: for reading the attendees' iTIP REPLYs in the organizer's mailbox.

Options: host, port (default 993, or 143 with security = "starttls" or "none"), security
(tls | starttls | none), username, password (a secret), verify_tls, ca_bundle, timeout.
Raises OSError or imaplib.IMAP4.error when the server cannot be reached, refuses TLS or the login.
"""

from __future__ import annotations

import imaplib
from pathlib import Path
from typing import Any

from connector.plumbing.http import secret_text
from connector.plumbing.smtp import tls_context


def connect(options: dict[str, Any], base_dir: Path) -> imaplib.IMAP4:
    """An IMAP connection, TLS and login done; the caller logs out."""
    host, security = str(options["host"]), str(options.get("security", "tls"))
    port = int(options.get("port") or (993 if security == "tls" else 143))
    timeout = float(options.get("timeout", 30))
    connection: imaplib.IMAP4
    if security == "tls":
        connection = imaplib.IMAP4_SSL(host, port, ssl_context=tls_context(options, base_dir), timeout=timeout)
    else:
        connection = imaplib.IMAP4(host, port, timeout=timeout)
        if security == "starttls":
            connection.starttls(ssl_context=tls_context(options, base_dir))
    try:
        connection.login(str(options["username"]), secret_text(options.get("password")))
    except BaseException:
        connection.shutdown()
        raise
    return connection


def mailbox_name(name: str) -> str:
    """A mailbox name as an IMAP quoted string (RFC 9051 section 4.3): imaplib sends it as given."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
