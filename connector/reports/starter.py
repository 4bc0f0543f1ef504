"""A guided start (`st-connector init DIR`): a folder with a minimal configuration, the cohort
workbook and one workbook per organisation, ready to fill in. Nothing else is assumed: the
store, keys and outputs are made by the first sync, next to the configuration.

The folder it writes:

    config.toml                   partner, cohort source, one block per organisation
    cohort.xlsx                   learning places, coaches, learning questions, exchanges, sessions
    organisations/<id>.xlsx       per organisation: its people and training (Medewerkers, Opleidingen)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from connector.core.model import COHORT_ENTITIES, EMPLOYER_ENTITIES
from connector.plumbing.files import write_atomically
from connector.reports.template import write_template

ORGANISATION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")  # as [[organisations]] id accepts
EXAMPLE_ORGANISATIONS = (("werkgever-a", "Werkgever A"), ("werkgever-b", "Werkgever B"))


class StarterRefused(ValueError):
    """init was asked to write where it must not (a folder that holds something, a bad id)."""


def organisation(text: str) -> tuple[str, str]:
    """`id` or `id=Name` from the command line; raises StarterRefused naming the rule."""
    identifier, _, name = text.partition("=")
    identifier = identifier.strip()
    if not ORGANISATION_ID.match(identifier):
        raise StarterRefused(f"'{identifier}' cannot be an organisation id: lower-case letters, digits and '-', "
                             "starting with a letter or digit (e.g. zonneke, brouwers-peeters)")
    return identifier, name.strip() or identifier


def write_starter(folder: Path, organisations: Sequence[tuple[str, str]] = EXAMPLE_ORGANISATIONS,
                  partner_id: str = "mijn-netwerk") -> list[Path]:
    """Write the starter folder; returns the files written. Refuses a folder that exists and
    is not empty (StarterRefused), so a configuration in use is never overwritten."""
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise StarterRefused(f"{folder} is not an empty folder: init writes only into a new or empty one")
    ids = [identifier for identifier, _ in organisations]
    if len(set(ids)) != len(ids) or len(ids) < 2:
        raise StarterRefused("name at least two organisations, each once: an exchange goes from one employer to another")
    config = folder / "config.toml"
    write_atomically(config, _config_text(partner_id, organisations).encode("utf-8"))
    written = [config, write_template(folder / "cohort.xlsx", COHORT_ENTITIES, organisations)]
    for identifier, name in organisations:
        written.append(write_template(folder / "organisations" / f"{identifier}.xlsx", EMPLOYER_ENTITIES, [(identifier, name)]))
    return written


def _config_text(partner_id: str, organisations: Sequence[tuple[str, str]]) -> str:
    blocks = [_HEAD.format(partner=partner_id)]
    for identifier, name in organisations:
        blocks.append(_ORGANISATION.format(id=identifier, name=name.replace('"', "'")))
    return "\n".join(blocks)


_HEAD = """\
# Switching Talent Connector: your network. Written by `st-connector init`; see the README,
# "Your own network in ten steps", and config.example.toml for every other setting.
#
#   st-connector check --config config.toml           # the configuration
#   st-connector check --data --config config.toml    # the workbooks, as sync will read them
#   st-connector sync --config config.toml            # the main job

[partner]
id = "{partner}"                       # lower-case, in calendar UIDs: never change it once invitations went out
name = "Mijn netwerk"                  # fill in: your organisation's name
organiser_email = "coordinator@example.org"   # fill in: the mailbox that organises the sessions
timezone = "Europe/Brussels"
language = "nl"

# [paths]
# state = "/var/lib/st-connector"     # installed as a service: the store, keys and outputs there

# The cohort: learning places, coaches, learning questions, exchanges and sessions.
[[sources]]
name = "cohort"
kind = "files"
path = "cohort.xlsx"
entities = ["learning_places", "coaches", "learning_questions", "exchanges", "sessions"]
"""

_ORGANISATION = """\
[[organisations]]
id = "{id}"
name = "{name}"
# average_workforce = 25              # fill in: the training entitlement depends on it (20+ = 5 days, 10-19 = 1 day)
invitations = "files"                  # .ics files under out/invitations, sent by the coordinator

  [[organisations.sources]]
  name = "hr"
  kind = "files"
  path = "organisations/{id}.xlsx"   # or the folder of its own HR export, with a mapping
  entities = ["people", "training_records", "planned_learning"]  # planned_learning: the sheet Opleidingsplan
  candidates = "marked"              # plan items with Switching Talent = ja become candidate learning questions

  [[organisations.writeback]]
  kind = "ledger_files"              # out/ledgers/{id}/training-ledger.csv and .xlsx
"""
