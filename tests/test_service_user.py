"""Installed as the README's service: the configuration in a root-owned, read-only folder, the
state in a folder the service user owns ([paths] state), the CLI run as that non-root user."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO

SERVICE_USER = "st-connector-test"
AS_OF = ["--as-of", "2026-11-22"]


def _service_user() -> tuple[int, int]:
    """The test's service user (created once, as root); skipped where users cannot be made."""
    import pwd

    if os.geteuid() != 0 or not shutil.which("runuser") or not shutil.which("useradd"):
        pytest.skip("needs root with useradd and runuser to act as a service user")
    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        # Several test workers may get here at once: "already exists" (9) is as good as made.
        made = subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
                              capture_output=True, text=True)
        assert made.returncode in (0, 9), made.stderr
        entry = pwd.getpwnam(SERVICE_USER)
    return entry.pw_uid, entry.pw_gid


def _interpreter() -> str:
    """A Python of this minor version that the service user may execute (the test's own may sit
    under a private home); the packages come from this environment through PYTHONPATH."""
    candidates = [os.path.realpath(sys.executable), f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"]
    for candidate in candidates:
        if Path(candidate).exists() and _as_service("test", "-x", candidate, env={}).returncode == 0:
            return candidate
    pytest.skip("no Python interpreter the service user may run")


def _traversable(folders: list[Path]) -> dict[Path, int]:
    """Let others pass through the folders above the checkout and the packages (a clone may sit
    under a private home, 0700): search permission only, nothing listed or read that was not
    readable already. Returns the modes changed, to restore."""
    changed: dict[Path, int] = {}
    for folder in folders:
        for ancestor in folder.resolve().parents:
            mode = ancestor.stat().st_mode & 0o7777
            if not mode & 0o001 and ancestor not in changed:
                changed[ancestor] = mode
                ancestor.chmod(mode | 0o001)
    return changed


def _as_service(*command: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    variables = [f"{k}={v}" for k, v in env.items()]
    return subprocess.run(["runuser", "-u", SERVICE_USER, "--", "env", *variables, *command], capture_output=True, text=True,
                          timeout=300, cwd=cwd or "/")


@pytest.fixture
def installed() -> Iterator[tuple[Path, Path, list[str]]]:
    """/etc/st-connector (root, read-only) and /var/lib/st-connector (the service user's), in a
    temporary root; yields (config file, state folder, the command that runs the CLI as the user)."""
    uid, gid = _service_user()
    root = Path(tempfile.mkdtemp(prefix="st-service-"))
    opened: dict[Path, int] = {}
    try:
        root.chmod(0o755)
        etc, state = root / "etc" / "st-connector", root / "var" / "lib" / "st-connector"
        shutil.copytree(REPO / "examples" / "data", etc / "examples" / "data")
        config = (REPO / "config.example.toml").read_text(encoding="utf-8")
        assert '# state = "/var/lib/st-connector"' in config  # the example's own [paths] line, taken as documented
        config = config.replace('# state = "/var/lib/st-connector"', f'state = "{state}"', 1)
        (etc / "config.toml").write_text(config, encoding="utf-8")
        for path in [etc, *etc.rglob("*")]:
            path.chmod(0o555 if path.is_dir() else 0o444)  # root's, read-only for everyone
        state.mkdir(parents=True)
        for folder in (state.parent.parent, state.parent):
            folder.chmod(0o755)  # whatever this process's umask: /var and /var/lib are open to everyone
        os.chown(state, uid, gid)
        state.chmod(0o700)
        python = _interpreter()
        packages = [REPO, Path(sysconfig.get_paths()["purelib"])]
        opened.update(_traversable(packages))
        path = os.pathsep.join(str(p) for p in packages)
        command = ["env", f"PYTHONPATH={path}", "HOME=/nonexistent", python, "-m", "connector.cli"]
        yield etc / "config.toml", state, command
    finally:
        for folder, mode in opened.items():
            folder.chmod(mode)
        for path in [root, *root.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o755)
        shutil.rmtree(root)


def _run(command: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    return _as_service(*command, *args, env={})


def test_the_service_user_runs_check_and_sync_with_state_owner_only_and_etc_untouched(installed):
    config, state, command = installed
    before = sorted(p.relative_to(config.parent) for p in config.parent.rglob("*"))
    checked = _run(command, "check", "--config", str(config))
    assert checked.returncode == 0, checked.stderr
    synced = _run(command, "sync", "--config", str(config), *AS_OF, "--json")
    assert synced.returncode == 0, synced.stderr
    assert json.loads(synced.stdout)["status"] == "ok"
    assert sorted(p.relative_to(config.parent) for p in config.parent.rglob("*")) == before  # nothing next to the configuration
    store, keys, out = state / "state" / "connector.db", state / "keys", state / "out"
    assert all(p.stat().st_uid != 0 for p in (store, keys, out))
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700 and stat.S_IMODE(out.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.parent.stat().st_mode) == 0o700
    again = _run(command, "sync", "--config", str(config), *AS_OF, "--json")
    assert json.loads(again.stdout)["invites"] == {"created": 0, "updated": 0, "cancelled": 0}


def test_a_state_folder_the_service_user_cannot_write_is_a_clear_problem_with_exit_3(installed):
    config, state, command = installed
    os.chown(state, 0, 0)
    state.chmod(0o755)
    checked = _run(command, "check", "--config", str(config))
    assert checked.returncode == 3
    assert f"{state} cannot be written by user '{SERVICE_USER}' (it belongs to root)" in checked.stderr
    synced = _run(command, "sync", "--config", str(config), *AS_OF)
    assert synced.returncode == 3 and "Traceback" not in synced.stderr
    assert f"Not run: [paths] store / [store] url: {state} cannot be written by user '{SERVICE_USER}'" in synced.stderr
    as_json = _run(command, "sync", "--config", str(config), *AS_OF, "--json")
    document = json.loads(as_json.stdout)
    assert as_json.returncode == 3 and document["status"] == "failed" and len(document["errors"]) == 3
    assert list(state.iterdir()) == []
