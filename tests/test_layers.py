"""The layers drawn in connector/__init__.py hold: each package imports only those below it,
and the engine and reports never import a concrete adapter (import-linter contracts in
pyproject.toml)."""

import logging
from pathlib import Path

from importlinter.cli import lint_imports

REPO = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept(monkeypatch):
    monkeypatch.chdir(REPO)
    loggers = [logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    enabled = [logger for logger in loggers if not logger.disabled]
    try:
        assert lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True) == 0
    finally:
        # import-linter configures logging with dictConfig, which disables every logger that exists
        # by then: later tests of this worker that read the connector's log (caplog) would see nothing
        for logger in enabled:
            logger.disabled = False
