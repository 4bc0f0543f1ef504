"""Files people and other tools open: written so that a crash never leaves half of one (every
output, ledger, report and key), named safely, and with spreadsheet cells that cannot run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from connector.plumbing.killpoint import reached

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_filename(text: str) -> str:
    """Codes come from spreadsheets; keep them readable but never a path."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in text).strip("._")
    return cleaned or "_"


def neutralise(value: Any) -> Any:
    """A cell that starts like a formula is shown as text, never evaluated (CSV injection)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_atomically(path: Path, data: bytes, private: bool = False) -> bool:
    """Write via a temporary file and rename, so a crash never leaves half a file.
    Returns False, touching nothing, when the file already holds exactly these bytes.
    `private`: readable by the owner only from the first byte (signing keys)."""
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o666)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    temporary.replace(path)
    reached("file")  # crash tests: die right after a file was put in place
    return True
