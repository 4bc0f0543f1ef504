"""Alerts: an e-mail to [alerts] email when a sync ends partial or failed, so a problem that
only shows on standard error or in an exit code still reaches a person.

Sent through [channels.imip]'s SMTP server. An alert that cannot be sent is itself reported
(returned, and printed by the CLI); it never changes the run's outcome or exit code.
"""

from __future__ import annotations

import smtplib
from datetime import datetime
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from connector.core.config import Config
from connector.engine.status import local
from connector.plumbing.smtp import connect

SHOWN = 50  # problems listed in one alert; the rest are counted (the status view has them all)


def alert(config: Config, status: str, problems: list[str], as_of: str) -> str | None:
    """Mail the recipients of [alerts] email about a run that ended `status` (partial or
    failed) with `problems`; `as_of` is an ISO time with its offset. Returns None when sent or not wanted, else why it was not sent."""
    if not config.alerts.email or status == "ok" or config.channels.imip is None:
        return None
    channel = config.channels.imip
    message = EmailMessage()
    message["From"] = channel.sender or config.partner.organiser_email
    message["To"] = ", ".join(config.alerts.email)
    message["Subject"] = f"st-connector ({config.partner.id}): sync {status}, {len(problems)} problem(s)"
    moment = local(datetime.fromisoformat(as_of), ZoneInfo(config.partner.timezone))
    lines = [f"The sync of {moment} ended {status}.", ""] + [f"- {p}" for p in problems[:SHOWN]]
    if len(problems) > SHOWN:
        lines.append(f"... and {len(problems) - SHOWN} more: st-connector status --config ... shows the runs.")
    message.set_content("\n".join(lines) + "\n")
    try:
        connection = connect({**channel.model_dump(), "password": channel.password}, config.base_dir)
        try:
            connection.send_message(message)
        finally:
            connection.quit()
    except (OSError, smtplib.SMTPException) as error:
        return f"alert to {', '.join(config.alerts.email)} not sent: {type(error).__name__}: {error}"
    return None
