"""The places the connector writes (store, keys, outputs): can this user write there, and
are they created for this user only? They hold personal data and private keys.

Installed as a service the configuration lives in a read-only /etc and the state in a folder
the service user owns ([paths] state = "/var/lib/st-connector"). A place the user cannot
write is named before anything runs, instead of a PermissionError halfway through a sync.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from connector.core.config import Config

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


@dataclass(frozen=True)
class Place:
    """One folder the connector writes into; `file` is the SQLite store inside it, if any."""

    name: str  # store | keys | outputs
    label: str  # as the configuration calls it: "[paths] store / [store] url"
    directory: Path
    file: Path | None = None


def places(config: Config) -> list[Place]:
    """The store's folder (SQLite only: a server store is not a local place), the keys and the outputs."""
    found = []
    url = make_url(config.store_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        database = Path(url.database)
        found.append(Place("store", "[paths] store / [store] url", database.parent, database))
    found.append(Place("keys", "[paths] keys / [signing] keys_dir", config.path(config.signing.keys_dir)))
    found.append(Place("outputs", "[paths] outputs / [output] directory", config.output_dir))
    return found


def unwritable(config: Config) -> list[str]:
    """One sentence per place this process's user cannot write (or create), naming the user.

    Shape: ["[paths] keys / [signing] keys_dir: /var/lib/st-connector/keys cannot be written by
    user 'st-connector' (the folder belongs to root): ..."]; [] when every place is writable.
    """
    problems = []
    for place in places(config):
        in_the_way = _not_a_folder(place.directory)
        if in_the_way is not None:
            problems.append(f"{place.label}: {in_the_way} is a file where a folder must be")
            continue
        blocked = _blocked(place.file) if place.file is not None and os.path.exists(place.file) else _blocked(place.directory)
        if blocked is not None:
            problems.append(f"{place.label}: {blocked} cannot be written by user '{current_user()}' ({_owner(blocked)}): "
                            "give that folder to the user the connector runs as, or point [paths] state elsewhere")
    return problems


def _not_a_folder(directory: Path) -> Path | None:
    """The first path on the way to `directory` (itself included) that exists but is no folder."""
    for path in [*reversed(directory.parents), directory]:
        if os.path.exists(path) and not os.path.isdir(path):
            return path
    return None


def _blocked(path: Path) -> Path | None:
    """The path itself if it exists and cannot be written; else the nearest existing folder
    above it when that one cannot be written (so the path cannot be created); else None.
    os.path.exists, not Path.exists: a folder on the way that the user may not enter is
    an answer here (False), not a PermissionError."""
    if os.path.exists(path):
        wanted = os.W_OK | (os.X_OK if os.path.isdir(path) else 0)
        return None if os.access(path, wanted) else path
    parent = path.parent
    while not os.path.exists(parent) and parent != parent.parent:
        parent = parent.parent
    return None if os.access(parent, os.W_OK | os.X_OK) else parent


def current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a uid without a passwd entry (containers)
        return str(os.getuid())


def _owner(path: Path) -> str:
    import pwd

    try:
        uid = path.stat().st_uid
        return f"it belongs to {pwd.getpwuid(uid).pw_name}"
    except (KeyError, OSError):
        return "its owner could not be read"


def make_private(config: Config, names: tuple[str, ...] = ("store", "keys", "outputs")) -> None:
    """Create the named places owner-only (folders 0700, the SQLite file 0600) before anything
    is written into them. Existing places keep the modes the operator gave them. SQLite makes
    its -wal and -shm files with the database file's mode, so those are owner-only too."""
    for place in places(config):
        if place.name not in names:
            continue
        place.directory.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        if place.file is not None and not place.file.exists():
            os.close(os.open(place.file, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
