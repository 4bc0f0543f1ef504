"""The layers drawn in connector/__init__.py hold: each package imports only those below it,
and the engine and reports never import a concrete adapter (import-linter contracts in
pyproject.toml)."""

from pathlib import Path

from importlinter.cli import lint_imports

REPO = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept(monkeypatch):
    monkeypatch.chdir(REPO)
    assert lint_imports(config_filename=str(REPO / "pyproject.toml"), no_cache=True) == 0
