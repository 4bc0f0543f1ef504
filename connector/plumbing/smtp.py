"""One SMTP connection from [channels.imip]'s options: for iMIP invitations and run alerts.

Options: host, port (default 587, or 465 with security = "tls"), security (starttls | tls |
none), username, password (a secret), verify_tls, ca_bundle, timeout. Raises OSError or
smtplib.SMTPException when the server cannot be reached, refuses TLS or the login.
"""

from __future__ import annotations

import smtplib
import ssl
from pathlib import Path
from typing import Any

from connector.plumbing.http import secret_text, tls_verify


def connect(options: dict[str, Any], base_dir: Path) -> smtplib.SMTP:
    """An SMTP connection, TLS and login done; the caller quits it."""
    host, security = str(options["host"]), str(options.get("security", "starttls"))
    port = int(options.get("port", 465 if security == "tls" else 587))
    timeout = float(options.get("timeout", 30))
    context = _tls(options, base_dir)
    connection: smtplib.SMTP
    if security == "tls":
        connection = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        connection = smtplib.SMTP(host, port, timeout=timeout)
        if security == "starttls":
            connection.starttls(context=context)
    username, password = options.get("username"), options.get("password")
    if username:
        connection.login(str(username), secret_text(password))
    return connection


def _tls(options: dict[str, Any], base_dir: Path) -> ssl.SSLContext:
    verify = tls_verify(base_dir, options)
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)


def tls_context(options: dict[str, Any], base_dir: Path) -> ssl.SSLContext:
    """The TLS context an options block asks for (verify_tls, ca_bundle); IMAP uses it too."""
    return _tls(options, base_dir)
