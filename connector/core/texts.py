"""What people read, in Dutch, French and English: `text(language, key, **values)`.

Terms:
    key          a message id shared by every language, e.g. "lb.title" or "label.contact"
    catalog      a gettext `.po` file of one language: msgid = key, msgstr = the text, a
                 `str.format` template whose named placeholders ("{partner}") the caller fills
    bundled      the catalogs in `locale/<lang>/LC_MESSAGES/connector.po` beside this module;
                 `locale/connector.pot` is the template listing every key
    override     a partner's own catalog folder (`[texts] catalog_dir`) holding `<lang>.po` or
                 `<lang>/LC_MESSAGES/connector.po`; each message in it replaces the bundled
                 one, every key it leaves out keeps the bundled text

Catalogs are read with Babel at run time, so there are no compiled `.mo` files to keep in
step with the `.po` sources. Dates, numbers and durations are formatted by Babel with the
CLDR data of nl_BE, fr_BE and en. An unknown language falls back to Dutch.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel.dates import format_date, format_time, get_datetime_format
from babel.messages.pofile import PoFileError, read_po
from babel.numbers import format_decimal
from babel.units import format_unit

from connector.core.errors import ConfigError
from connector.core.reminders import Offset

LANGUAGES = ("nl", "fr", "en")
DEFAULT_LANGUAGE = "nl"
LOCALES = {"nl": "nl_BE", "fr": "fr_BE", "en": "en_150"}  # en_150: English as read in Europe (1 March 2026, 10:00; 7.5)
DOMAIN = "connector"
BUNDLED = Path(__file__).parent / "locale"

Messages = dict[str, str]  # key -> template

# language -> the partner's messages, while `overriding` is active. Module state rather than a
# parameter, so that the many callers of `text` need not carry the configuration. It is set
# for the length of one sync or export, and a process runs one at a time.
_overrides: dict[str, Messages] = {}


def text(language: str, key: str, **values: object) -> str:
    """The text of `key` in `language`, with `values` filled into its placeholders.

    Raises KeyError for a key no bundled catalog has."""
    language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    template = _overrides.get(language, {}).get(key) or bundled()[language][key]
    # Without values the template is returned as it is, so a brace in it needs no escaping.
    return template.format(**values) if values else template


def labelled(language: str, key: str, value: str) -> str:
    """'Leervraag: ...'; the "labelled" message holds the separator (French puts a space before the colon)."""
    return text(language, "labelled", label=text(language, key), value=value)


# -- formatting ------------------------------------------------------------------------------

def _locale(language: str) -> str:
    return LOCALES.get(language, LOCALES[DEFAULT_LANGUAGE])


def format_number(language: str, value: float) -> str:
    """Hours and other amounts as people write them: '7,5' (nl, fr), '7.5' (en); at most two
    decimals, whole numbers without any."""
    return format_decimal(value, format="#,##0.##", locale=_locale(language))


def long_date(language: str, day: date) -> str:
    """'3 maart 2026', '3 mars 2026', '3 March 2026'."""
    return format_date(day, format="long", locale=_locale(language))


def long_moment(language: str, moment: datetime) -> str:
    """The long date and the short time of `moment` in its own time zone, joined the way the
    locale joins them: '3 maart 2026, 09:00'."""
    locale = _locale(language)
    # Babel's format_datetime takes one width for both halves; a short time after a long date
    # is what a reader of an invitation needs (no seconds, no zone name).
    joined = get_datetime_format("long", locale=locale).replace("'", "")
    return joined.replace("{1}", format_date(moment, "long", locale=locale)).replace(
        "{0}", format_time(moment, "short", tzinfo=moment.tzinfo, locale=locale))


UNITS = {"d": "duration-day", "w": "duration-week", "m": "duration-month"}


def offset_label(language: str, offset: Offset) -> str:
    """'2 maanden', '1 semaine' (with a no-break space, as CLDR writes French units), '6 months'."""
    return format_unit(offset.amount, UNITS[offset.unit], length="long", locale=_locale(language))


# -- catalogs ----------------------------------------------------------------------------------

@cache
def bundled() -> dict[str, Messages]:
    """language -> key -> template, of the catalogs in the package (read once)."""
    return {language: read_catalog(bundled_path(language)) for language in LANGUAGES}


def bundled_path(language: str) -> Path:
    return BUNDLED / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(path: Path) -> Messages:
    """key -> template of one `.po` file. Untranslated (empty) and fuzzy messages are left
    out, as gettext leaves them out. Raises OSError (unreadable), PoFileError (not valid .po)
    or UnicodeDecodeError (not in the charset its header names, UTF-8 without one)."""
    with path.open("rb") as file:
        catalog = read_po(file, abort_invalid=True)
    return {message.id: message.string for message in catalog
            if isinstance(message.id, str) and message.id and isinstance(message.string, str) and message.string
            and not message.fuzzy}


def placeholders(template: str) -> set[str]:
    """The names a template fills in: {'partner', 'host'} for '{partner} ... {host}'.
    Raises ValueError for a template str.format cannot read (a lone brace)."""
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def override_files(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """The override catalog of each language in `folder` (`nl.po` or `nl/LC_MESSAGES/connector.po`),
    and the problems with the folder: missing, a language given twice, a catalog of a
    language the connector does not speak."""
    if not folder.is_dir():
        return {}, [f"{folder}: [texts] catalog_dir is not a folder"]
    found: dict[str, list[Path]] = {}
    for path in sorted([*folder.glob("*.po"), *folder.glob(f"*/LC_MESSAGES/{DOMAIN}.po")]):
        language = path.stem if path.parent == folder else path.parent.parent.name
        found.setdefault(language, []).append(path)
    problems = [f"{paths[0]}: no texts in language '{language}' (the connector speaks {', '.join(LANGUAGES)})"
                for language, paths in found.items() if language not in LANGUAGES]
    problems += [f"{folder}: texts for '{language}' in two catalogs: {', '.join(str(p) for p in paths)}"
                 for language, paths in found.items() if language in LANGUAGES and len(paths) > 1]
    return {language: paths[0] for language, paths in found.items() if language in LANGUAGES}, problems


def message_problems(path: Path, language: str, messages: Messages) -> list[str]:
    """What is wrong with an override catalog's messages against the bundled ones: a key
    that does not exist, a placeholder the original fills in but the override leaves out, or
    one the connector does not fill in (which would stop the run)."""
    originals = bundled()[language]
    problems = []
    for key, template in messages.items():
        if key not in originals:
            problems.append(f"{path}: {key}: no such text (unknown key)")
            continue
        try:
            used = placeholders(template)
        except ValueError as error:
            problems.append(f"{path}: {key}: not a valid template ({error}); write a literal brace as {{{{ or }}}}")
            continue
        expected = placeholders(originals[key])
        problems += [f"{path}: {key}: placeholder {{{name}}} of the original is missing" for name in sorted(expected - used)]
        problems += [f"{path}: {key}: unknown placeholder {{{name}}} (this text knows "
                     f"{', '.join('{' + n + '}' for n in sorted(expected)) or 'none'})" for name in sorted(used - expected)]
    return problems


def load_overrides(folder: Path) -> dict[str, Messages]:
    """language -> key -> template of a partner's catalog folder, once every message in it
    checks out. Raises ConfigError listing every problem (file, key and placeholder)."""
    paths, problems = override_files(folder)
    overrides: dict[str, Messages] = {}
    for language, path in paths.items():
        try:
            overrides[language] = read_catalog(path)
        except (OSError, PoFileError, UnicodeDecodeError) as error:
            problems.append(f"{path}: not a readable .po catalog ({error})")
            continue
        problems += message_problems(path, language, overrides[language])
    if problems:
        raise ConfigError(problems)
    return overrides


@contextmanager
def overriding(folder: Path | None) -> Iterator[None]:
    """Within the block, `text` takes the partner's messages from `folder` before the bundled
    ones (nothing changes for None). Raises ConfigError as `load_overrides` does."""
    global _overrides
    previous = _overrides
    _overrides = load_overrides(folder) if folder is not None else {}
    try:
        yield
    finally:
        _overrides = previous


# -- typography -------------------------------------------------------------------------------

NO_BREAK_SPACE = "\u00a0"
_FRENCH_BEFORE = re.compile(r"[ \u202f]+([:;!?»])")  # a breakable space before a two-part sign
_FRENCH_ATTACHED = re.compile(r"(?<=[^\s\u00a0])([!?])(?=\s|$)")  # "Comment?" as typed in a sheet
_FRENCH_AFTER = re.compile(r"(«)[ \u202f]+")


def typeset(language: str, value: str) -> str:
    """`value` set for print in `language`. French puts a no-break space before : ; ! ? and »
    and after « (Lexique des règles typographiques en usage à l'Imprimerie nationale), so the
    sign never wraps onto a line of its own; a ? or ! typed against its word gets one too.
    U+00A0 rather than the narrow U+202F: the leerbewijs' font (Fira Sans) has no glyph for the
    narrow one, and U+00A0 is the usual stand-in. Other languages are returned unchanged."""
    if language != "fr":
        return value
    value = _FRENCH_BEFORE.sub(NO_BREAK_SPACE + r"\1", value)
    value = _FRENCH_ATTACHED.sub(NO_BREAK_SPACE + r"\1", value)
    return _FRENCH_AFTER.sub(r"\1" + NO_BREAK_SPACE, value)
