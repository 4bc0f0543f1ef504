"""The mapping engine: remote fields onto canonical fields, declared in mappings/*.toml.

A mapping file has one table per entity. Each canonical field says where its value comes
from and what to do with it, in this fixed order:

    extract    from = "Header" | "json.path.0.key" | ["alternative", "headers"]
               (multi-valued: "emails.value" = the primary, "emails[type eq \"work\"].value")
               join = ["Voornaam", "Familienaam"] (+ sep = " "; a part "Datum|Date": the first present)
               | value = "constant"
    clean      transform = ["trim", "lower", "upper", "title", "collapse_spaces", "only_email", ...]
    split      split = { sep = ",", part = "first" | "last" | "rest" | "init" }
    look up    map = { M = "M", V = "F" }  (keys compared case-insensitively)
    parse      date = "%d/%m/%Y" | datetime = [...] | type = "decimal" | "int" | "bool" | "list"
    default    default = ...   /   required = true   /   optional_column = true (no warning when a file lacks it)

`id` names the canonical field(s) that identify a record in that source: a string, a
list for a composite key, and "a|b" for "a, or b where a is empty". An API with its own
stable identifier names that remote field instead: `remote_id = "id"`.
In `map`, the key "*" catches every value the table does not list.

Errors in the file name the mapping file, entity and field; errors in a record name the
canonical field and the remote field it came from.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from connector.core.errors import ConfigError, RecordError
from connector.core.model import ENTITY_MODELS, number_as_text

STRING_TRANSFORMS = {
    "trim": lambda s: s.strip(),
    "lower": str.lower,
    "upper": str.upper,
    "title": str.title,
    "collapse_spaces": lambda s: " ".join(s.split()),
    "strip_mailto": lambda s: s.strip().removeprefix("mailto:"),
    "only_email": lambda s: s if "@" in s else "",  # a login name that is no address (SCIM userName) is no e-mail
    "blank_zero_date": lambda s: "" if s.strip(" 0-:T") == "" else s,  # BambooHR's 0000-00-00 means no date
    "odata_date": lambda s: _odata_date(s),  # SAP's /Date(1388534400000)/ as an ISO date
}


def _odata_date(text: str) -> str:
    match = re.fullmatch(r"\s*/Date\((-?\d+)([+-]\d{4})?\)/\s*", text)
    if match is None:
        return text
    return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC).date().isoformat()
TYPES = ("decimal", "int", "bool", "list", "str", "duration")
ISO_DURATION = re.compile(r"^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
SPLIT_PARTS = ("first", "last", "rest", "init")
TRUE_WORDS = {"1", "true", "yes", "y", "ja", "j", "oui", "o", "x", "waar", "vrai"}
FALSE_WORDS = {"0", "false", "no", "n", "nee", "non", "onwaar", "faux", ""}
ISO_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M")
EXCEL_EPOCH = date(1899, 12, 30)
RULE_KEYS = {"from", "join", "sep", "value", "transform", "split", "map", "date", "datetime", "type", "list_sep", "default", "required", "optional_column"}
ENTITY_KEYS = {"id", "remote_id", "fields"}


class UnreadableValue:
    """A cell that holds no value but an error (a spreadsheet's #REF!, #N/A): mapping it into
    a field is an error naming that field, never an empty value or a default."""

    def __init__(self, shown: str) -> None:
        self.shown = shown

    def __str__(self) -> str:
        return self.shown

    def __repr__(self) -> str:
        return f"UnreadableValue({self.shown!r})"


@dataclass(frozen=True)
class FieldRule:
    name: str
    paths: tuple[str, ...] = ()
    join: tuple[str, ...] = ()
    sep: str = " "
    constant: Any = None
    transforms: tuple[str, ...] = ()
    split: tuple[str, str] | None = None
    lookup: dict[str, Any] | None = None
    date_formats: tuple[str, ...] = ()
    datetime_formats: tuple[str, ...] = ()
    type: str | None = None
    list_sep: str = ","
    default: Any = None
    required: bool = False
    optional_column: bool = False  # a column a sheet may leave out without a warning (it stays empty)

    @property
    def remote_name(self) -> str:
        names = self.paths or self.join
        return " + ".join(names) if self.join else (names[0] if names else "(constant)")

    @property
    def remote_paths(self) -> tuple[str, ...]:
        """Every remote field or column this rule may read: its `from` names, and each join
        part's alternatives ("Datum|Date" reads Datum, else Date)."""
        return self.paths + tuple(name for part in self.join for name in join_alternatives(part))


def join_alternatives(part: str) -> tuple[str, ...]:
    """The names one part of a `join` may be found under, first present wins: "Van|Du|From"."""
    return tuple(name.strip() for name in part.split("|"))


@dataclass(frozen=True)
class EntityMapping:
    entity: str
    id_fields: tuple[str, ...]
    rules: tuple[FieldRule, ...]
    options: dict[str, Any] = field(default_factory=dict)
    remote_path: str | None = None

    def remote_fields(self) -> list[str]:
        """The top-level remote fields this mapping reads, for APIs that return only the
        fields asked for (BambooHR reports, OData $select)."""
        names: list[str] = [self.remote_path.split(".", 1)[0]] if self.remote_path else []
        for rule in self.rules:
            names.extend(path.split(".", 1)[0] for path in rule.remote_paths)
        return list(dict.fromkeys(names))

    @cached_property
    def _evaluators(self) -> tuple[tuple[FieldRule, Callable[[dict[str, Any]], Any]], ...]:
        """Each rule compiled once into a function of the raw record (see `compile_rule`)."""
        return tuple((rule, compile_rule(rule)) for rule in self.rules)

    def apply(self, raw: dict[str, Any], only: set[str] | None = None) -> dict[str, Any]:
        """Map one remote record (or only some fields); raises RecordError naming the field at the first bad value."""
        mapped: dict[str, Any] = {}
        for rule, evaluate in self._evaluators:
            if only is not None and rule.name not in only:
                continue
            try:
                value = evaluate(raw)
            except (ValueError, TypeError, KeyError) as error:
                raise RecordError(rule.name, f"{error} (from '{rule.remote_name}')") from None
            if value is None and rule.required:
                raise RecordError(rule.name, f"is required but '{rule.remote_name}' is empty")
            if value is not None:
                mapped[rule.name] = value
        return mapped

    def validate(self, mapped: dict[str, Any]) -> dict[str, Any]:
        """Check the mapped record against the canonical model; returns it in JSON form."""
        try:
            model = ENTITY_MODELS[self.entity].model_validate(mapped)
        except ValidationError as error:
            first = error.errors()[0]
            name = ".".join(str(p) for p in first["loc"]) or "(record)"
            message = first["msg"].removeprefix("Value error, ")
            raise RecordError(name, message) from None
        return model.model_dump(mode="json", exclude_none=True)

    @property
    def id_field_names(self) -> set[str]:
        return {name for spec in self.id_fields for name in spec.split("|")}

    def identify(self, raw: dict[str, Any], mapped: dict[str, Any]) -> str:
        """The record's identity in its source: the remote id field, else the mapped id fields."""
        if self.remote_path is not None:
            value = lookup_path(raw, self.remote_path)
            if value in (None, ""):
                raise RecordError(self.remote_path, "is needed to identify the record but is empty")
            return str(value)
        return self.remote_id(mapped)

    def remote_id(self, record: dict[str, Any]) -> str:
        parts = []
        for spec in self.id_fields:
            name = next((name for name in spec.split("|") if record.get(name) not in (None, "")), None)
            if name is None:
                raise RecordError(spec.replace("|", " or "), "is needed to identify the record but is empty")
            value = str(number_as_text(record[name]))
            parts.append(value.lower() if name == "email" else value)  # addresses compare case-insensitively
        return "|".join(parts)


@dataclass(frozen=True)
class Mapping:
    path: Path
    entities: dict[str, EntityMapping]

    def entity(self, name: str) -> EntityMapping:
        try:
            return self.entities[name]
        except KeyError:
            raise ConfigError([f"{self.path}: no mapping for entity '{name}'"]) from None


def compile_rule(rule: FieldRule) -> Callable[[dict[str, Any]], Any]:
    """The rule as one function of the raw record, doing what `_evaluate` does with only the
    steps the rule has: the transforms looked up once, a plain column or key read with one
    dict look-up (a name without "." or "[" cannot be a path), no test for a step it lacks.
    Built once per mapping, run once per field per record."""
    extract = _extractor(rule)
    transforms = tuple(STRING_TRANSFORMS[name] for name in rule.transforms)
    split, lookup, default = rule.split, rule.lookup, rule.default
    parses = bool(rule.date_formats or rule.datetime_formats or rule.type)
    parse = _iso_date_parser(rule) if rule.date_formats and set(rule.date_formats) <= ISO_DATE_FORMATS else partial(_parse, rule)

    def evaluate(raw: dict[str, Any]) -> Any:
        value = extract(raw)
        if isinstance(value, str):
            for transform in transforms:
                value = transform(value)
            if not value.strip():
                return default
        elif value is None:
            return default
        elif isinstance(value, UnreadableValue):
            raise ValueError(f"the cell holds the error {value}, not a value")
        if split is not None:
            value = _split(str(value), *split)
            if value is None:
                return default
        if lookup is not None:
            value = _look_up(value, lookup)
            if value is None:
                return default
        if parses or isinstance(value, (datetime, date, time)):
            value = parse(value)
        return default if value is None else value

    return evaluate


# Date formats that read year, month and day where ISO 8601 has them: a text that
# datetime.fromisoformat reads gives the same date as the first of these that reads it.
ISO_DATE_FORMATS = frozenset({"%Y-%m-%d", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"})


def _iso_date_parser(rule: FieldRule) -> Callable[[Any], Any]:
    """`_parse` for a rule whose date formats are all ISO-like: fromisoformat (in C) first,
    strptime (in Python, ten times slower) only for what it does not read (2020-1-2)."""

    def parse(value: Any) -> Any:
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value.strip()).date()
            except ValueError:
                pass
        return _parse(rule, value)

    return parse


def _getter(path: str) -> Callable[[Any], Any]:
    if "." in path or "[" in path:
        return lambda raw: lookup_path(raw, path)
    return lambda raw: raw.get(path) if isinstance(raw, dict) else None


def _first_of(paths: tuple[str, ...]) -> Callable[[Any], Any]:
    """A getter of the first of `paths` that holds a value (None when none does)."""
    if len(paths) == 1:
        return _getter(paths[0])
    getters = tuple(_getter(path) for path in paths)

    def first(raw: Any) -> Any:
        for get in getters:
            value = get(raw)
            if value is not None and value != "":
                return value
        return None

    return first


def _extractor(rule: FieldRule) -> Callable[[dict[str, Any]], Any]:
    """`_extract` for this rule."""
    if rule.join:
        getters, sep = tuple(_first_of(join_alternatives(part)) for part in rule.join), rule.sep
        return lambda raw: sep.join(p for p in (_as_text(get(raw)) for get in getters) if p) or None
    if len(rule.paths) == 1:
        get = _getter(rule.paths[0])

        def first(raw: dict[str, Any]) -> Any:
            value = get(raw)
            return None if value is None or value == "" else value

        return first
    if rule.paths:
        return _first_of(rule.paths)
    constant = rule.constant
    return lambda raw: constant


def _evaluate(rule: FieldRule, raw: dict[str, Any]) -> Any:
    value = _extract(rule, raw)
    if isinstance(value, UnreadableValue):
        raise ValueError(f"the cell holds the error {value}, not a value")
    if isinstance(value, str):
        for name in rule.transforms:
            value = STRING_TRANSFORMS[name](value)
        if not value.strip():
            value = None
    if value is not None and rule.split:
        value = _split(str(value), *rule.split)
    if value is not None and rule.lookup is not None:
        value = _look_up(value, rule.lookup)
    if value is not None:
        value = _parse(rule, value)
    return rule.default if value is None else value


def _extract(rule: FieldRule, raw: dict[str, Any]) -> Any:
    if rule.join:
        pieces = [_as_text(next((v for v in (lookup_path(raw, name) for name in join_alternatives(part)) if v not in (None, "")), None))
                  for part in rule.join]
        return rule.sep.join(p for p in pieces if p) or None
    if rule.paths:
        for path in rule.paths:
            value = lookup_path(raw, path)
            if value is not None and value != "":
                return value
        return None
    return rule.constant


def lookup_path(raw: Any, path: str) -> Any:
    """A column header as it is, else a dotted JSON path ("a.b.0.c"). Keys may hold dots
    themselves (SCIM's "urn:...:enterprise:2.0:User"): at each level the longest key that
    the rest of the path starts with is taken.

    Multi-valued attributes (SCIM `emails`, `phoneNumbers`: a list of objects) are read by
    position (`emails.0.value`), by a SCIM-style filter (`emails[type eq "work"].value`,
    RFC 7644 section 3.10), or without either (`emails.value`) as RFC 7643 section 2.4 means
    them: the `primary` one, else the first of type "work", else the first."""
    node, rest = raw, path
    while True:
        if isinstance(node, dict):
            if rest in node:
                return node[rest]
            step = _dict_step(node, rest)
            if step is None:
                return None
            node, rest = step
            if rest == "":
                return node
        elif isinstance(node, list):
            head, _, tail = rest.partition(".")
            if head.isdigit():
                if int(head) >= len(node):
                    return None
                node = node[int(head)]
                if not tail:
                    return node
                rest = tail
            else:
                node = _preferred(node)
        else:
            return None
        if node is None:
            return None


_FILTER = re.compile(r'\[\s*([A-Za-z_$][\w$]*)\s+eq\s+"([^"]*)"\s*\]')


def _dict_step(node: dict[str, Any], rest: str) -> tuple[Any, str] | None:
    """The value of the longest key `rest` starts with, and what is left of the path after
    it (a filter `[attr eq "value"]` right after the key picks one element of its list)."""
    keys = [k for k in node if isinstance(k, str) and (rest.startswith(k + ".") or rest.startswith(k + "["))]
    if not keys:
        return None
    key = max(keys, key=len)
    rest = rest[len(key):]
    value = node[key]
    match = _FILTER.match(rest)
    if match is not None:
        attribute, wanted = match.groups()
        items = value if isinstance(value, list) else []
        value = next((i for i in items if isinstance(i, dict) and str(i.get(attribute, "")).lower() == wanted.lower()), None)
        rest = rest[match.end():]
    return value, rest.removeprefix(".")


def _preferred(items: list[Any]) -> Any:
    """RFC 7643 section 2.4: the primary value of a multi-valued attribute, else a work one."""
    objects = [i for i in items if isinstance(i, dict)]
    primary = [i for i in objects if i.get("primary") is True or str(i.get("primary")).lower() == "true"]
    work = [i for i in objects if str(i.get("type", "")).lower() == "work"]
    chosen = primary or work or objects
    return chosen[0] if chosen else None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, UnreadableValue):
        raise ValueError(f"the cell holds the error {value}, not a value")
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != time(0) else value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return str(value).strip()


def _split(value: str, sep: str, part: str) -> str | None:
    pieces = [p.strip() for p in (value.split(sep) if sep.strip() else value.split()) if p.strip()]
    chosen = {"first": pieces[:1], "last": pieces[-1:], "rest": pieces[1:], "init": pieces[:-1]}[part]
    return " ".join(chosen) or None


def _look_up(value: Any, table: dict[str, Any]) -> Any:
    key = str(value).strip().lower()
    for candidate, result in table.items():
        if candidate.lower() == key:
            return result
    if "*" in table:
        return table["*"]
    allowed = ", ".join(table)
    raise ValueError(f"value '{value}' is not one of {allowed}")


def _parse(rule: FieldRule, value: Any) -> Any:
    if rule.date_formats:
        return _parse_date(value, rule.date_formats)
    if rule.datetime_formats:
        return _parse_datetime(value, rule.datetime_formats)
    match rule.type:
        case "decimal":
            return _parse_decimal(value)
        case "int":
            number = _parse_decimal(value)
            if number != int(number):
                raise ValueError(f"'{value}' is not a whole number")
            return int(number)
        case "bool":
            return _parse_bool(value)
        case "list":
            if isinstance(value, list):
                return value
            return [p.strip() for p in str(value).split(rule.list_sep) if p.strip()]
        case "str":
            return _as_text(value)
        case "duration":
            return _parse_duration(value)
    if isinstance(value, (datetime, date, time)):
        return _as_text(value)
    return value


def _parse_date(value: Any, formats: tuple[str, ...]) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return EXCEL_EPOCH + timedelta(days=int(value))  # a date cell read as its serial number
    text = str(value).strip()
    for fmt in (*formats, "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text).date()  # a timestamp such as 2026-03-27T09:00:00+00:00
    except ValueError:
        pass
    raise ValueError(f"'{text}' is not a date in the form {_human_formats(formats)}")


def _parse_duration(value: Any) -> float:
    """An ISO 8601 duration (xAPI result.duration, "PT7H30M") as hours."""
    match = ISO_DURATION.match(str(value).strip())
    if match is None or not any(match.groups()):
        raise ValueError(f"'{value}' is not an ISO 8601 duration like PT7H30M")
    days, hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    return round(days * 24 + hours + minutes / 60 + seconds / 3600, 4)


def _parse_datetime(value: Any, formats: tuple[str, ...]) -> datetime:
    if isinstance(value, datetime):
        return value
    text = str(value).strip()
    for fmt in (*formats, *ISO_DATETIME_FORMATS):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a date and time in the form {_human_formats(formats)}") from None


def _human_formats(formats: tuple[str, ...]) -> str:
    readable = {"%d": "dd", "%m": "mm", "%Y": "yyyy", "%H": "hh", "%M": "mm", "%S": "ss", "%y": "yy"}
    shown = []
    for fmt in formats or ("%Y-%m-%d",):
        for code, word in readable.items():
            fmt = fmt.replace(code, word)
        shown.append(fmt)
    return " or ".join(shown)


def _parse_decimal(value: Any) -> float:
    """Belgian spreadsheets write 0,8 and 1.234,5; other systems 0.8 and 1,234.5."""
    if isinstance(value, bool):
        raise ValueError(f"'{value}' is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    if "," in text and "." in text:
        text = text.replace(".", "").replace(",", ".") if text.rfind(",") > text.rfind(".") else text.replace(",", "")
    else:
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"'{value}' is not a number") from None


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"'{value}' is not yes/no")


# -- loading -----------------------------------------------------------------------------

def mapping_search_path(config_dir: Path | None) -> list[Path]:
    """Where a mapping named in the configuration is looked for, first match wins."""
    places = []
    if config_dir is not None:
        places += [config_dir, config_dir / "mappings"]
    places.append(Path(__file__).resolve().parents[2] / "mappings")  # a source checkout
    places.append(Path(sys.prefix) / "share" / "st-connector" / "mappings")  # a wheel install
    return places


def resolve_mapping_path(name: str, config_dir: Path | None) -> Path:
    candidates = [Path(name)] if Path(name).is_absolute() else []
    for place in mapping_search_path(config_dir):
        candidates += [place / name, place / f"{name}.toml"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ConfigError([f"mapping '{name}' not found (looked in {', '.join(str(p) for p in mapping_search_path(config_dir))})"])


def load_mapping(name: str, config_dir: Path | None = None) -> Mapping:
    path = resolve_mapping_path(name, config_dir)
    from connector.core.config import read_toml  # config reads the model too: imported here, not at the top

    document = read_toml(path, "mapping file")
    problems: list[str] = []
    entities = {}
    for entity, table in document.items():
        if entity == "about":
            continue
        if entity not in ENTITY_MODELS:
            problems.append(f"{path}: [{entity}]: unknown entity (known: {', '.join(ENTITY_MODELS)})")
            continue
        if not isinstance(table, dict) or not isinstance(table.get("fields", {}), dict):
            problems.append(f"{path}: [{entity}]: must be a table with `id` and a [{entity}.fields] table, found {_shown(table)}")
            continue
        entities[entity] = _entity_mapping(path, entity, table, problems)
    if problems:
        raise ConfigError(problems)
    return Mapping(path=path, entities=entities)


def _entity_mapping(path: Path, entity: str, table: dict[str, Any], problems: list[str]) -> EntityMapping:
    model_fields = ENTITY_MODELS[entity].model_fields
    where = f"{path}: [{entity}]"
    rules = []
    for name, spec in table.get("fields", {}).items():
        if name not in model_fields:
            problems.append(f"{where}.fields.{name}: not a field of {entity} (known: {', '.join(model_fields)})")
            continue
        if isinstance(spec, str):
            spec = {"from": spec}
        if not isinstance(spec, dict):
            problems.append(f"{where}.fields.{name}: expected a column name or a table such as {{ from = \"Header\" }}, "
                            f"found {_shown(spec)}")
            continue
        rule = _field_rule(f"{where}.fields.{name}", name, spec, problems)
        if rule is not None:
            rules.append(rule)
    id_spec = table.get("id")
    if id_spec is not None and not _texts(id_spec):
        problems.append(f"{where}.id: expected a field name or a list of them, found {_shown(id_spec)}")
        id_spec = None
    id_fields = (id_spec,) if isinstance(id_spec, str) else tuple(id_spec or ())
    remote_path = table.get("remote_id")
    if not id_fields and not remote_path:
        problems.append(f"{where}: `id` is missing: name the field(s) that identify a record (or `remote_id`, the source's own id field)")
    for spec in id_fields:
        for part in spec.split("|"):
            if part not in model_fields:
                problems.append(f"{where}.id: '{part}' is not a field of {entity}")
    options = {k: v for k, v in table.items() if k not in ENTITY_KEYS}
    return EntityMapping(entity=entity, id_fields=id_fields, rules=tuple(rules), options=options,
                         remote_path=str(remote_path) if remote_path else None)


def _field_rule(where: str, name: str, spec: dict[str, Any], problems: list[str]) -> FieldRule | None:
    unknown = set(spec) - RULE_KEYS
    if unknown:
        problems.append(f"{where}: unknown key(s) {sorted(unknown)} (known: {', '.join(sorted(RULE_KEYS))})")
        return None
    # Column names, separators and formats are text: a number here (from = 3, a column's
    # position) would otherwise fail on the first record, far from the mistake.
    wrong = [key for key in ("from", "join", "transform", "date", "datetime") if key in spec and not _texts(spec[key])]
    wrong += [key for key in ("sep", "list_sep", "type") if key in spec and not isinstance(spec[key], str)]
    if wrong:
        problems.extend(f"{where}.{key}: expected {'text' if key in ('sep', 'list_sep', 'type') else 'a name or a list of names'} "
                        f"(a column header in quotes), found {_shown(spec[key])}" for key in wrong)
        return None
    sources = [k for k in ("from", "join", "value") if k in spec]
    if len(sources) != 1 and "default" not in spec:
        problems.append(f"{where}: give exactly one of from, join or value")
        return None
    transforms = _names(spec.get("transform", ()))
    bad = [t for t in transforms if t not in STRING_TRANSFORMS]
    if bad:
        problems.append(f"{where}: unknown transform(s) {bad} (known: {', '.join(STRING_TRANSFORMS)})")
    split = spec.get("split")
    if split is not None and (not isinstance(split, dict) or split.get("part") not in SPLIT_PARTS):
        problems.append(f"{where}: split needs part = one of {', '.join(SPLIT_PARTS)}")
        split = None
    if spec.get("type") not in (None, *TYPES):
        problems.append(f"{where}: unknown type '{spec['type']}' (known: {', '.join(TYPES)})")
    lookup = spec.get("map")
    if lookup is not None and not isinstance(lookup, dict):
        problems.append(f"{where}: map must be a table of remote value = canonical value")
    paths = spec.get("from", ())
    return FieldRule(
        name=name,
        paths=(paths,) if isinstance(paths, str) else tuple(paths),
        join=tuple(spec.get("join", ())),
        sep=spec.get("sep", " "),
        constant=spec.get("value"),
        transforms=tuple(t for t in transforms if t in STRING_TRANSFORMS),
        split=(split.get("sep", " "), split["part"]) if split else None,
        lookup=lookup if isinstance(lookup, dict) else None,
        date_formats=_formats(spec.get("date")),
        datetime_formats=_formats(spec.get("datetime")),
        type=spec.get("type"),
        list_sep=spec.get("list_sep", ","),
        default=spec.get("default"),
        required=bool(spec.get("required", False)),
        optional_column=bool(spec.get("optional_column", False)),
    )


def _texts(value: Any) -> bool:
    """A text, or a non-empty list of texts: what names a column, transform or format."""
    return isinstance(value, str) or (isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value))


def _names(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


def _shown(value: Any) -> str:
    """A value from a mapping file as the user wrote it, with its TOML type."""
    kinds = {bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "a table", str: "text"}
    return f"{kinds.get(type(value), type(value).__name__)} {value!r}"[:120]


def _formats(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)
