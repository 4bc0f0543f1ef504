"""Running the web application: the store migrated, then uvicorn on [web] host and port."""

from __future__ import annotations

import getpass

import uvicorn

from connector.core.config import Config
from connector.core.errors import ConfigError
from connector.store.db import migrate, open_engine
from connector.web.app import create_app
from connector.web.security import hash_password


def serve(config: Config, host: str | None = None, port: int | None = None, workers: int = 1) -> None:
    """Serve until interrupted, in this one process. Raises ConfigError when [web] lacks what
    the pages need, or when asked for more than one worker."""
    if workers != 1:
        # The login and link throttles count in this process's memory: with two workers each
        # would allow the limit, and a guesser would get twice the tries (README "Web pages").
        raise ConfigError([f"serve runs one process (--workers 1), not {workers}: the login and link throttles live in its memory, "
                           "and one process answers far more than a partner's coordinators and links ask"])
    web = config.web
    if web is None:
        raise ConfigError(["[web] is missing: serve needs session_secret, link_keys and at least one account (see config.example.toml)"])
    problems = [message for missing, message in (
        (web.session_secret is None, "[web] session_secret is not set: give it as ${NAME} from the environment or the secrets file"),
        (not web.link_keys, "[web] link_keys is empty: personal links need at least one key from the secrets file"),
        (not web.accounts, "[web] has no [[web.accounts]]: nobody could sign in to the overview")) if missing]
    if problems:
        raise ConfigError(problems)
    engine = open_engine(config.store_url)
    migrate(engine)
    app = create_app(config, engine)
    # No access log: a personal link's token is in the request path, and logs keep no secrets.
    # X-Forwarded-For and -Proto are trusted from the reverse proxy on loopback only, so the
    # login throttle sees the visitor's address and cookies stay Secure behind TLS.
    # workers=1 given, so that uvicorn does not take WEB_CONCURRENCY from the environment.
    uvicorn.run(app, host=host or web.host, port=port or web.port, proxy_headers=True, forwarded_allow_ips="127.0.0.1",
                server_header=False, access_log=False, log_level="warning", workers=1)


def prompt_hash() -> str:
    """Ask for a password twice (not echoed) and return its argon2id hash. Raises ConfigError
    when the two differ or it is shorter than 12 characters."""
    password = getpass.getpass("Password: ")
    if len(password) < 12:
        raise ConfigError(["the password must be at least 12 characters"])
    if getpass.getpass("Again: ") != password:
        raise ConfigError(["the two passwords differ"])
    return hash_password(password)
