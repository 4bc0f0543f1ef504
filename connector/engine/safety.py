"""Mistakes that look like data but are not: the checks of issue 20 that span organisations.

- Two organisations reading one file (a copied configuration block): each would take the
  other's people, and the report would count one employer's staff in another's entitlement.
  This is a configuration problem, found by `check` and refused by `sync`.
- One person claimed by two organisations (the same work e-mail active in both): reported as
  a warning naming both, since a person may really work for two employers part-time.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.core.config import Config
from connector.core.errors import Problem
from connector.store.tables import Person


def shared_files(config: Config) -> list[str]:
    """One problem per file or folder that sources of more than one organisation read.

    Only `kind = "files"` sources are compared: two organisations may share an API (one
    tenant, filtered by company), never an export. Paths are compared once resolved, so
    `data/../data/x` and `data/x` are the same file.
    """
    readers: dict[Path, list[tuple[str, str]]] = defaultdict(list)
    for organisation in config.organisations:
        for source in organisation.sources:
            path = source.options.get("path")
            if source.kind == "files" and path:
                readers[config.path(str(path)).resolve()].append((organisation.id, source.name))
    problems = []
    for path, owners in sorted(readers.items()):
        organisations = sorted({owner for owner, _ in owners})
        if len(organisations) > 1:
            named = ", ".join(f"'{owner}/{name}'" for owner, name in owners)
            problems.append(f"sources {named} all read {path}: organisations {' and '.join(organisations)} would each take "
                            "the other's people; point each organisation at its own export")
    return problems


def claimed_twice(db: Session) -> list[Problem]:
    """A warning per work e-mail that active people of two or more organisations carry.

    Shape: Problem(source="people", entity="people", record=<e-mail>, field="email",
    message naming every organisation and the person's name there), warning=True.
    """
    shared = select(func.lower(Person.email)).where(Person.active.is_(True), Person.email.is_not(None)) \
        .group_by(func.lower(Person.email)).having(func.count(func.distinct(Person.organisation_id)) > 1)
    claims: dict[str, list[Person]] = defaultdict(list)
    for person in db.scalars(select(Person).where(Person.active.is_(True), func.lower(Person.email).in_(shared))
                             .order_by(Person.organisation_id)):
        claims[(person.email or "").lower()].append(person)
    return [Problem("people", "people", email, "email",
                    "claimed by " + " and ".join(f"organisation '{p.organisation_id}' ({p.full_name})" for p in people)
                    + ": the same person in two exports; if she works for both, give each its own work e-mail, "
                    "otherwise remove her from the wrong export", warning=True)
            for email, people in sorted(claims.items())]
