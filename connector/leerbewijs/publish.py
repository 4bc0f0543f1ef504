"""What verifiers fetch from the issuer's website, written to a folder to upload as it is.

Terms:
    keys_url      [signing] keys_url: where the public keys are hosted (default
                  <website>/leerbewijs/keys); each credential's JOSE `kid` is <keys_url>/<kid>.json
    list url      [signing] status_list_url: the W3C Bitstring Status List VC-JWT
    site folder   the folder `keys publish` writes: every file at the path of its URL, so
                  uploading the folder to the website's root makes each URL serve its file

Files written (all public, no secret in any of them):
    <keys_url path>/<kid>.json    one JWK per key generation (RFC 7517 section 4: kty, crv, x,
                                  kid = its own URL, use "sig", alg "EdDSA"), also retired ones,
                                  so leerbewijzen signed before a rotation keep resolving
    <keys_url path>/jwks.json     the JWK Set of every generation (RFC 7517 section 5)
    <keys_url path>/keyring.json  the connector's keyring (adds the PDF certificates) for
                                  `st-connector leerbewijs verify --keyring`
    <list url path>               the signed status list, when one was written (`status-list.jwt`)
    replacements.json             beside the list: which corrected leerbewijs replaces a revoked
                                  one (numbers only), when a leerbewijs was ever replaced

Re-publishing writes the same bytes for the same keys and list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from connector.core.config import Config
from connector.core.errors import ConfigError
from connector.leerbewijs.issuer import KEYRING, KeyStore, key_url, keys_url
from connector.leerbewijs.statuslist import LIST_JWT, REPLACEMENTS, replacements_url, status_list_url
from connector.plumbing.files import write_atomically


@dataclass(frozen=True)
class Published:
    """One file written: the URL that must serve it and where it is in the site folder."""

    url: str
    path: Path


def _site_path(folder: Path, url: str) -> Path:
    """The file in `folder` a URL serves once the folder is the website's root."""
    path = urlparse(url).path.strip("/")
    if not path:
        raise ConfigError([f"{url}: names no file (a path is needed below the website)"])
    return folder.joinpath(*path.split("/"))


def key_document(base: str, kid: str, entry: dict[str, Any]) -> dict[str, str]:
    """The JWK a credential's `kid` URL dereferences to."""
    jwk = {k: entry["jwk"][k] for k in ("kty", "crv", "x")}
    return {**jwk, "kid": key_url(base, kid), "use": "sig", "alg": "EdDSA"}


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("utf-8")


def publish_keys(config: Config, folder: Path) -> list[Published]:
    """Write the public keys and the status list into `folder` at their URLs' paths.

    Raises ConfigError when there are no keys yet (run `keys init` or a first sync)."""
    store = KeyStore.of(config)
    keyring_file = store.directory / KEYRING
    if not store.exists():
        raise ConfigError([f"no signing keys in {store.directory}: run `st-connector keys init --config ...` first"])
    keyring = json.loads(keyring_file.read_text(encoding="utf-8"))
    store.public_keys()  # every entry readable, else ConfigError
    base = keys_url(config)
    written: list[Published] = []

    def put(url: str, data: bytes) -> None:
        path = _site_path(folder, url)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, data)
        written.append(Published(url, path))

    documents = [key_document(base, kid, entry) for kid, entry in sorted(keyring["keys"].items())]
    for document in documents:
        put(document["kid"], _json(document))
    put(f"{base}/jwks.json", _json({"keys": documents}))
    put(f"{base}/{KEYRING}", keyring_file.read_bytes())
    status_file = store.directory / LIST_JWT
    if status_file.exists():
        put(status_list_url(config), status_file.read_bytes())
    replacements = store.directory / REPLACEMENTS
    if replacements.exists():  # so `verify` against the website says "revoked, replaced by LB-..."
        put(replacements_url(status_list_url(config)), replacements.read_bytes())
    return written


__all__ = ["Published", "key_document", "publish_keys"]
