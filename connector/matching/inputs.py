"""Reading a matching run's input: the cohort sheet (through the cohort source's own mapping,
plus the optional matching columns of columns.py), the organisations of the configuration,
and what the store knows of switchers and coaches (department, language, e-mail).

Bad data never stops the run: each bad cell is a `Problem` naming the sheet (`source`), the
row (`record`) and the column (`field`); the row it is on is left out of matching, except a
preference or competitor naming an unknown organisation, which only loses that name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session as DbSession

from connector.core.config import Config, SourceConfig
from connector.core.errors import ConfigError, Problem, RecordError, SourceUnavailable
from connector.core.mapping import EntityMapping, Mapping, load_mapping
from connector.matching import columns as col
from connector.matching.model import WEEKDAYS, Cohort, Coach, Fixed, Organisation, Place, Question
from connector.plumbing.tabular import Row, open_table
from connector.store.tables import Person

ACTIVE_EXCHANGE = ("proposed", "confirmed", "completed")  # a cancelled exchange frees its question


@dataclass
class Reading:
    """The cohort and the problems met while reading it."""

    cohort: Cohort
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]


@dataclass(frozen=True)
class Sheet:
    """Where one entity's rows are: `where` as people see it ("leervragen.csv")."""

    where: str
    rows: list[Row]
    header: list[str]


def cohort_source(config: Config) -> SourceConfig:
    """The configured files source that delivers learning questions (the cohort sheet).

    Raises ConfigError when there is none: matching reads the sheet itself."""
    for source in config.sources:
        if source.kind == "files" and "learning_questions" in source.entities:
            return source
    raise ConfigError(["matching reads the cohort sheet: no [[sources]] block of kind \"files\" "
                       "with \"learning_questions\" among its entities"])


def cohort_root(config: Config, source: SourceConfig) -> Path:
    return config.path(str(source.options.get("path", ".")))


def read_sheet(root: Path, stem: str, sheet: str, headers: Iterable[str] = ()) -> Sheet | None:
    """The rows of `stem`.csv/.xlsx in a folder, or of sheet `sheet` in a workbook; None when absent."""
    try:
        if root.is_file():
            table = open_table(root, sheet, tuple(headers))
        else:
            path = next((p for p in (root / f"{stem}.csv", root / f"{stem}.xlsx") if p.is_file()), None)
            if path is None:
                return None
            table = open_table(path, None, tuple(headers))
    except SourceUnavailable as error:
        if str(error).startswith("no sheet "):  # an optional sheet the workbook does not have
            return None
        raise
    return Sheet(table.where, list(table.rows), list(table.header))


def read_cohort(config: Config, db: DbSession | None = None, extra_questions: Iterable[Question] = (),
                confirmed: Iterable[Fixed] = (), rejected: Iterable[tuple[str, str]] = ()) -> Reading:
    """The cohort to match, from the configured cohort sheet and (when given) the store.

    `extra_questions` join the pool as they are (candidates from training plans, issue #13);
    `confirmed` are proposals the partner confirmed that are not yet in the cohort's exchanges;
    `rejected` (question, place) pairs the partner turned down, never proposed again.
    Raises ConfigError without a cohort source, SourceUnavailable when a sheet cannot be read."""
    source = cohort_source(config)
    mapping = load_mapping(source.mapping or "files", config.base_dir)
    root = cohort_root(config, source)
    problems: list[Problem] = []
    people = _people(db)
    organisations = _organisations(config, root, problems)
    known = set(organisations)
    places = {p.code: p for p in _places(root, mapping, organisations, problems)}
    coaches = list(_coaches(root, mapping, places, organisations, people, problems))
    questions = list(_questions(root, mapping, organisations, people, problems))
    for question in extra_questions:
        questions.append(question)
    fixed, taken, codes = _exchanges(root, mapping, problems)
    for proposal in confirmed:
        if proposal.question not in taken:
            fixed.append(proposal)
            taken.add(proposal.question)
    seen: set[str] = set()
    unique = []
    for question in questions:  # a training-plan candidate repeating a cohort question is the same question
        if question.code not in seen and question.organisation in known:
            seen.add(question.code)
            unique.append(question)
    return Reading(Cohort(unique, places, coaches, organisations, fixed, taken, set(rejected), codes), problems)


# -- the store ---------------------------------------------------------------------------------

People = dict[tuple[str, str], Person]  # (organisation, employee number or e-mail casefolded) -> person


def _people(db: DbSession | None) -> People:
    if db is None:
        return {}
    found: People = {}
    for person in db.scalars(select(Person)):
        for ref in (person.employee_number, person.email):
            if ref:
                found[(person.organisation_id, ref.casefold())] = person
    return found


def _person(people: People, organisation: str, ref: str) -> Person | None:
    return people.get((organisation, ref.casefold()))


# -- cells -------------------------------------------------------------------------------------

class _Cells:
    """The matching columns of one row, each parsed; a bad cell becomes one Problem."""

    def __init__(self, sheet: Sheet, entity: str, row: Row, problems: list[Problem]) -> None:
        self.sheet, self.entity, self.row, self.problems = sheet, entity, row, problems
        self.bad = False

    def get(self, column: col.Column, parse: Callable[..., Any], default: Any = None, by_language: bool = False) -> Any:
        found = column.find(self.row.cells)
        if found is None:
            return default
        header, language, value = found
        try:
            return parse(value, language) if by_language else parse(value)
        except ValueError as error:
            self.report(header, str(error))
            self.bad = True
            return default

    def report(self, column: str, message: str, warning: bool = False) -> None:
        self.problems.append(Problem(self.sheet.where, self.entity, self.row.location, column, message, warning=warning))


def _core(sheet: Sheet, entity: EntityMapping, row: Row, problems: list[Problem]) -> dict[str, Any] | None:
    """The row's canonical fields by the cohort mapping, or None after reporting why not."""
    if row.problem is not None:
        problems.append(Problem(sheet.where, entity.entity, row.location, "", row.problem))
        return None
    try:
        return entity.validate(entity.apply(row.cells))
    except RecordError as error:
        rule = next((r for r in entity.rules if r.name == error.field.split(".")[0]), None)
        problems.append(Problem(sheet.where, entity.entity, row.location, rule.remote_name if rule else error.field, error.message))
        return None


def _header(entity: EntityMapping, name: str) -> str:
    """The column a canonical field is read from, as the partner sees it."""
    return next((rule.remote_name for rule in entity.rules if rule.name == name), name)


def _rows(root: Path, mapping: Mapping, name: str, extra: Iterable[col.Column]) -> tuple[Sheet, EntityMapping] | None:
    entity = mapping.entity(name)
    stem = str(entity.options.get("file", name))
    headers = [h for rule in entity.rules for h in rule.remote_paths] + [h for c in extra for h in c.headers.values()]
    sheet = read_sheet(root, stem, str(entity.options.get("sheet", stem)), headers)
    return None if sheet is None else (sheet, entity)


def _each(root: Path, mapping: Mapping, name: str, extra: Iterable[col.Column],
          problems: list[Problem]) -> Iterator[tuple[Row, dict[str, Any], _Cells, EntityMapping]]:
    """Every readable row of one cohort sheet: (row, its canonical fields, its matching cells,
    the sheet's mapping). A row the mapping rejects is reported and skipped; no sheet, no rows."""
    located = _rows(root, mapping, name, extra)
    if located is None:
        return
    sheet, entity = located
    for row in sheet.rows:
        core = _core(sheet, entity, row, problems)
        if core is not None:
            yield row, core, _Cells(sheet, name, row, problems), entity


# -- organisations -----------------------------------------------------------------------------

def _organisations(config: Config, root: Path, problems: list[Problem]) -> dict[str, Organisation]:
    """The configured organisations, with the optional organisations sheet's columns over them."""
    found = {o.id: Organisation(id=o.id, language=o.language.value, sector=o.joint_committee, size=o.average_workforce,
                                postcode=col.postcode_in(o.address)) for o in config.organisations}
    sheet = read_sheet(root, col.ORGANISATION_FILE, col.ORGANISATION_SHEET,
                       [h for c in col.ORGANISATION_COLUMNS for h in c.headers.values()])
    if sheet is None:
        return found
    rows = []
    for row in sheet.rows:
        cells = _Cells(sheet, "organisations", row, problems)
        ident = cells.get(col.ORGANISATION, lambda v: str(v).strip().lower())
        if ident is None:
            continue
        if ident not in found:
            cells.report(col.ORGANISATION.find(row.cells)[0], f"'{ident}' is no organisation of the configuration "  # type: ignore[index]
                         f"(known: {', '.join(sorted(found))})")
            continue
        rows.append((ident, cells, {
            "sector": cells.get(col.SECTOR, lambda v: str(v).strip()),
            "size": cells.get(col.SIZE, col.decimal),
            "staff": cells.get(col.STAFF, col.staff),
            "competitors": cells.get(col.COMPETITORS, lambda v: [i.lower() for i in col.items(v)], []),
            "sends": cells.get(col.SENDS, col.count),
            "hosts": cells.get(col.HOSTS, col.count),
        }))
    for ident, cells, values in rows:
        if cells.bad:
            continue
        competitors = set()
        for other in values.pop("competitors"):
            if other in found:
                competitors.add(other)
            else:
                cells.report(col.COMPETITORS.find(cells.row.cells)[0],  # type: ignore[index]
                             f"'{other}' is no organisation of the configuration; left out")
        base = found[ident]
        found[ident] = Organisation(id=ident, language=base.language, postcode=base.postcode,
                                    sector=values["sector"] or base.sector, size=values["size"] if values["size"] is not None else base.size,
                                    staff=values["staff"], competitors=frozenset(competitors),
                                    sends=values["sends"], hosts=values["hosts"])
    return found


# -- learning places and coaches ---------------------------------------------------------------

def _places(root: Path, mapping: Mapping, organisations: dict[str, Organisation], problems: list[Problem]) -> Iterator[Place]:
    for row, core, cells, entity in _each(root, mapping, "learning_places", col.PLACE_COLUMNS, problems):
        organisation = organisations.get(core["organisation"])
        if organisation is None:
            cells.report(_header(entity, "organisation"), f"'{core['organisation']}' is no organisation of the configuration")
            continue
        capacity = cells.get(col.CAPACITY, col.count, 1)
        languages = cells.get(col.LANGUAGES, col.languages, frozenset())
        days = cells.get(col.HOSTING_DAYS, col.weekdays, WEEKDAYS, by_language=True)
        postcode = cells.get(col.POSTCODE, col.postcode) or col.postcode_in(core.get("address"))
        keywords = cells.get(col.KEYWORDS, col.keywords, frozenset())
        if cells.bad:
            continue
        text = " ".join(filter(None, (core["name"], core.get("department"), core.get("description"))))
        yield Place(code=core["code"], organisation=organisation.id, name=core["name"], text=text,
                    department=core.get("department"), address=core.get("address"), keywords=keywords,
                    languages=languages or frozenset({organisation.language}), weekdays=days, capacity=capacity,
                    postcode=postcode, excluded_departments=frozenset(d.casefold() for d in core.get("excluded_departments", [])),
                    location=row.location)


def _coaches(root: Path, mapping: Mapping, places: dict[str, Place], organisations: dict[str, Organisation],
             people: People, problems: list[Problem]) -> Iterator[Coach]:
    for row, core, cells, entity in _each(root, mapping, "coaches", col.COACH_COLUMNS, problems):
        place = places.get(core["learning_place"])
        if place is None:
            cells.report(_header(entity, "learning_place"), f"'{core['learning_place']}' is no learning place of the sheet "
                         "(or its row was left out: see the problems above)", warning=True)
            continue
        capacity = cells.get(col.CAPACITY, col.count, 1)
        languages = cells.get(col.LANGUAGES, col.languages, frozenset())
        days = cells.get(col.COACH_DAYS, col.weekdays, WEEKDAYS, by_language=True)
        if cells.bad:
            continue
        person = _person(people, place.organisation, core["person"])
        spoken = languages or (frozenset({person.language}) | place.languages if person else place.languages)
        yield Coach(place=place.code, person=core["person"], capacity=capacity, languages=spoken, weekdays=days,
                    email=person.email if person else (core["person"] if "@" in core["person"] else None),
                    name=f"{person.first_name} {person.last_name}" if person else None, location=row.location)


# -- learning questions and exchanges ----------------------------------------------------------

def _questions(root: Path, mapping: Mapping, organisations: dict[str, Organisation], people: People,
               problems: list[Problem]) -> Iterator[Question]:
    for row, core, cells, entity in _each(root, mapping, "learning_questions", col.QUESTION_COLUMNS, problems):
        organisation = organisations.get(core["organisation"])
        if organisation is None:
            cells.report(_header(entity, "organisation"), f"'{core['organisation']}' is no organisation of the configuration")
            continue
        preferences = _preferences(cells, organisations)
        languages = cells.get(col.LANGUAGES, col.languages, frozenset())
        start = cells.get(col.PERIOD_FROM, col.day)
        end = cells.get(col.PERIOD_UNTIL, col.day)
        if start and end and end < start:
            cells.report(col.PERIOD_UNTIL.find(row.cells)[0], f"{end:%d/%m/%Y} lies before {start:%d/%m/%Y}")  # type: ignore[index]
            cells.bad = True
        postcode = cells.get(col.POSTCODE, col.postcode)
        keywords = cells.get(col.KEYWORDS, col.keywords, frozenset())
        if cells.bad:
            continue
        person = _person(people, organisation.id, core["switcher"])
        # one end given: from it for a year, or until it (the planner starts no sooner than it can)
        period = (start or date.min, end or start + timedelta(days=365)) if start or end else None
        text = " ".join(filter(None, (core["title"], core.get("description"), core.get("desired_result"))))
        yield Question(code=core["code"], organisation=organisation.id, switcher=core["switcher"], title=core["title"],
                       text=text, keywords=keywords,
                       languages=languages or frozenset({person.language if person else organisation.language}),
                       preferences=preferences, period=period, postcode=postcode or organisation.postcode,
                       department=person.department if person else None,
                       email=person.email if person else (core["switcher"] if "@" in core["switcher"] else None),
                       name=f"{person.first_name} {person.last_name}" if person else None, location=row.location)


def _preferences(cells: _Cells, organisations: dict[str, Organisation]) -> tuple[str, ...]:
    """The named hosts in rank order; an unknown organisation is reported and left out."""
    chosen: list[str] = []
    for column in col.PREFERENCES:
        found = column.find(cells.row.cells)
        if found is None:
            continue
        header, _, value = found
        ident = str(value).strip().lower()
        if ident not in organisations:
            cells.report(header, f"'{value}' is no organisation of the network (known: {', '.join(sorted(organisations))}); "
                                 "this preference is left out")
            continue
        if ident not in chosen:
            chosen.append(ident)
    return tuple(chosen)


def _exchanges(root: Path, mapping: Mapping, problems: list[Problem]) -> tuple[list[Fixed], set[str], set[str]]:
    """Exchanges of the cohort that are not cancelled: their questions are not open, and they
    keep their place and coaches (capacity they use up). Also every exchange code in use."""
    located = _rows(root, mapping, "exchanges", ())
    if located is None:
        return [], set(), set()
    sheet, entity = located
    fixed, taken, codes = [], set(), set()
    for row in sheet.rows:
        core = _core(sheet, entity, row, problems)
        if core is not None:
            codes.add(core["code"])
        if core is None or core.get("status", "proposed") not in ACTIVE_EXCHANGE:
            continue
        taken.add(core["learning_question"])
        fixed.append(Fixed(core["learning_question"], core["learning_place"], tuple(core.get("coaches", [])), "cohort"))
    return fixed, taken, codes
