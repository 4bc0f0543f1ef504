"""Finding the adapter for a configured `kind` (connector/sources/<kind>.py or
connector/sinks/<kind>.py), and the checks every adapter makes of its options."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Mapping
from typing import Any

from connector.core.errors import ConfigError

_KIND = re.compile(r"^[a-z][a-z0-9_]*$")


def known_kinds(package: str) -> list[str]:
    module = importlib.import_module(package)
    return sorted(info.name for info in pkgutil.iter_modules(module.__path__))


def load_adapter(package: str, kind: str, attribute: str, role: str) -> Any:
    """The class an adapter module exports as SOURCE or SINK; a clear error for unknown kinds."""
    name = f"{package}.{kind}"
    if not _KIND.match(kind):
        raise ConfigError([f"unknown {role} kind '{kind}' (known: {', '.join(known_kinds(package))})"])
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise  # the adapter exists but a library it needs is missing: not the user's typo
        raise ConfigError([f"unknown {role} kind '{kind}' (known: {', '.join(known_kinds(package))})"]) from None
    return getattr(module, attribute)


def required_options(owner: str, options: Mapping[str, Any], names: tuple[str, ...], hint: str = "") -> list[str]:
    """One problem naming every option that is missing, or none."""
    missing = [name for name in names if not options.get(name)]
    if not missing:
        return []
    return [f"{owner}: give {', '.join(f'`{m}`' for m in missing)}{f' ({hint})' if hint else ''}"]
