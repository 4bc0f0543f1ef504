"""Shared fixtures: the example network copied into a temporary folder, on SQLite and,
when ST_TEST_POSTGRES_URL is set, on a fresh schema of that PostgreSQL database."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import create_engine, text

T = TypeVar("T")

REPO = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("ST_TEST_POSTGRES_URL")
# Kill matrices sample their points by default (decisions.md, "Test time"); this runs them in full.
KILL_MATRIX_FULL = os.environ.get("ST_TEST_KILL_MATRIX") == "full"
STORES = ("sqlite", "postgres")


def shared_between_stores(sample: list[T], store: str) -> list[T]:
    """The part of a kill matrix's sample that runs on `store` ("sqlite" or "postgres"): the
    points go to the two stores in turn, so each point runs once and both stores are killed;
    a single point runs on both. In full (ST_TEST_KILL_MATRIX=full) every point runs on both."""
    if KILL_MATRIX_FULL or len(sample) < 2:
        return list(sample)
    return list(sample[STORES.index(store)::2])


def stores_sampled(points: list[T]) -> list[object]:
    """`(store_url, point)` parameters for a test that crashes a sync at `point` on the store
    of the `store_url` fixture (indirect): each point on one store in turn, all of them on
    both in full."""
    pairs = [(store, point) for point in points for store in STORES] if KILL_MATRIX_FULL else \
        [(STORES[i % 2], point) for i, point in enumerate(points)]
    return [pytest.param(store, point, marks=pytest.mark.postgres) if store == "postgres" else (store, point)
            for store, point in pairs]


def _postgres_schema_url() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("ST_TEST_POSTGRES_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state' / 'connector.db'}"
    else:
        yield from _postgres_schema_url()


@pytest.fixture
def smtp() -> Iterator[object]:
    """A loopback SMTP server (tests/fakes/smtp_server.py) for the test, stopped afterwards."""
    from tests.fakes.smtp_server import FakeSmtp

    server = FakeSmtp().start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_schema_url()


class Network:
    """The bundled example network in a folder of its own, with a config pointing at it."""

    def __init__(self, root: Path, store_url: str) -> None:
        self.root = root
        shutil.copytree(REPO / "examples" / "data", root / "examples" / "data")
        self.data = root / "examples" / "data"
        self.out = root / "out"
        source = (REPO / "config.example.toml").read_text(encoding="utf-8")
        self.config_path = root / "config.toml"
        self.config_path.write_text(source.replace('url = "sqlite:///state/connector.db"', f'url = "{store_url}"'), encoding="utf-8")
        self.store_url = store_url

    def config(self):  # type: ignore[no-untyped-def]
        from connector.core.config import load_config

        return load_config(self.config_path)

    def add_to_organisation(self, organisation: str, block: str) -> None:
        """Append TOML (a source, a precedence table...) to one organisation of the config."""
        text = self.config_path.read_text(encoding="utf-8")
        start = text.index(f'id = "{organisation}"')
        following = text.find("\n[[organisations]]", start)
        end = len(text) if following == -1 else following
        self.config_path.write_text(text[:end].rstrip("\n") + "\n" + block + text[end:], encoding="utf-8")

    def add_before_cohort(self, block: str) -> None:
        """Insert top-level TOML (tenants, channels) before the cohort's sources."""
        text = self.config_path.read_text(encoding="utf-8")
        anchor = "# -- the ST-partner's cohort"
        assert anchor in text
        self.config_path.write_text(text.replace(anchor, block + "\n" + anchor), encoding="utf-8")

    def replace(self, old: str, new: str) -> None:
        """Change one passage of the configuration (e.g. an organisation's source)."""
        text = self.config_path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in the configuration"
        self.config_path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def route(self, organisation: str, channel: str) -> None:
        """Invite the people of one organisation through another channel."""
        text = self.config_path.read_text(encoding="utf-8")
        start = text.index(f'id = "{organisation}"')
        position = text.index('invitations = "files"', start)
        self.config_path.write_text(text[:position] + f'invitations = "{channel}"' + text[position + len('invitations = "files"'):], encoding="utf-8")

    def people(self, organisation: str):  # type: ignore[no-untyped-def]
        """The canonical people of one organisation, by work e-mail."""
        from sqlalchemy import select

        from connector.store.db import open_engine, session_factory
        from connector.store.tables import Person

        engine = open_engine(self.store_url)
        with session_factory(engine)() as db:
            found = {p.email: p for p in db.scalars(select(Person).where(Person.organisation_id == organisation))}
        engine.dispose()
        return found

    def edit_csv(self, relative: str, old: str, new: str, encoding: str = "utf-8-sig") -> None:
        path = self.data / relative
        content = path.read_text(encoding=encoding)
        assert old in content, f"{old!r} not in {relative}"
        path.write_text(content.replace(old, new), encoding=encoding)

    def copy_to(self, root: Path) -> Network:
        """This network as it stands (data, configuration, SQLite store, signing keys, outputs) in
        folder `root`, its configuration pointing at the copied store: a synced network to change
        without syncing from scratch again. Only for a SQLite store nobody has open."""
        assert self.store_url == f"sqlite:///{self.root / 'state' / 'connector.db'}", "copies a SQLite network only"
        shutil.copytree(self.root, root)
        copy = object.__new__(Network)
        copy.root, copy.data, copy.out = root, root / "examples" / "data", root / "out"
        copy.config_path, copy.store_url = root / "config.toml", f"sqlite:///{root / 'state' / 'connector.db'}"
        text = copy.config_path.read_text(encoding="utf-8")
        copy.config_path.write_text(text.replace(f'url = "{self.store_url}"', f'url = "{copy.store_url}"'), encoding="utf-8")
        return copy

    def output_hashes(self) -> dict[str, str]:
        """Every output file's SHA-256; for a signed leerbewijs (PDF or EDC), that of the credential inside,
        since each network signs with its own keys (and PAdES stamps the signing time)."""
        import hashlib

        def content(path: Path) -> bytes:
            if path.suffix == ".pdf" and "leerbewijzen" in path.parts:
                from pypdf import PdfReader

                return PdfReader(path).attachments["credential.json"][0]
            if path.name.endswith(".edc.jsonld"):  # a sealed EDC: its credential (the seal is the network's own key)
                import json

                return json.loads(path.read_bytes())["payload"].encode("utf-8")
            return path.read_bytes()

        return {str(p.relative_to(self.out)): hashlib.sha256(content(p)).hexdigest() for p in sorted(self.out.rglob("*")) if p.is_file()}


@pytest.fixture
def network(tmp_path: Path, store_url: str) -> Network:
    return Network(tmp_path, store_url)


@pytest.fixture
def sqlite_network(tmp_path: Path) -> Network:
    return Network(tmp_path, f"sqlite:///{tmp_path / 'state' / 'connector.db'}")


def people_source(name: str, kind: str, **options: str | bool) -> str:
    """An organisation's `[[organisations.sources]]` TOML block delivering people, for
    Network.add_to_organisation; `options` as TOML values (strings quoted, booleans lower case)."""
    settings = {"name": name, "kind": kind, **options}
    lines = [f"  {key} = " + (str(value).lower() if isinstance(value, bool) else f'"{value}"') for key, value in settings.items()]
    return "\n  [[organisations.sources]]\n" + "\n".join([*lines, '  entities = ["people"]']) + "\n"


@pytest.fixture(scope="module")
def synced_example(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Network]:
    """The example network on SQLite, synced once per test module as of the module's
    `SYNCED_AT` (an aware datetime). Tests only read it (its outputs are checked unchanged at
    the end of the module); a test that changes anything takes `synced_copy`."""
    from connector.engine.sync import run_sync

    root = tmp_path_factory.mktemp("synced")
    network = Network(root, f"sqlite:///{root / 'state' / 'connector.db'}")
    summary = run_sync(network.config(), request.module.SYNCED_AT)
    assert summary.status == "ok", summary.errors
    synced = network.output_hashes()
    yield network
    assert network.output_hashes() == synced, "a test changed the shared synced network: give it synced_copy"


@pytest.fixture
def synced_copy(synced_example: Network, tmp_path: Path) -> Network:
    """A copy of the module's synced example network (store, keys, outputs) for one test to change."""
    return synced_example.copy_to(tmp_path / "network")


@contextmanager
def invited_by_email(network: Network, monkeypatch: pytest.MonkeyPatch, *organisations: str) -> Iterator[Any]:
    """A real SMTP server (aiosmtpd, tests/fakes/smtp_server.py) as the network's iMIP channel,
    with `organisations` invited through it; yields the server, stopped afterwards."""
    from tests.fakes.smtp_server import PASSWORD, FakeSmtp

    smtp = FakeSmtp().start()
    try:
        monkeypatch.setenv("ST_TEST_SMTP_PASSWORD", PASSWORD)
        network.add_before_cohort(smtp.channel_toml())
        for organisation in organisations:
            network.route(organisation, "imip")
        yield smtp
    finally:
        smtp.stop()


@contextmanager
def dies_after_delivery(target: str) -> Iterator[None]:
    """The sync inside dies (as a killed process would) right after `target` answered for
    its writes and before any of them is booked; the block must end in that death."""
    from connector.engine import sync as engine

    real = engine.record_outcome

    def dying(db, item, outcome, now):  # type: ignore[no-untyped-def]
        if item.target == target:
            raise KeyboardInterrupt
        return real(db, item, outcome, now)

    engine.record_outcome = dying
    try:
        with pytest.raises(KeyboardInterrupt):
            yield
    finally:
        engine.record_outcome = real
