"""st-connector: the command line. It parses, calls the library and prints; nothing more.

Exit codes: 0 all went well; 1 partial (some records or writes failed: see the summary);
2 configuration error (nothing was run); 3 failed: the run could not happen (another sync
holds the lock, the store is unreachable) or not one source could be read.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from connector.core.config import Config, StoreConfig, load_config
from connector.core.errors import ConfigError, Problem
from connector.core.texts import overriding
from connector.plumbing.access import current_user, unwritable

if TYPE_CHECKING:
    from connector.engine.sync import Summary

EXIT_OK, EXIT_PARTIAL, EXIT_CONFIG, EXIT_FAILED = 0, 1, 2, 3
DEFAULT_CONFIG = "config.toml"

DESCRIPTION = """\
Switching Talent Connector: pulls people, learning questions and training hours from HR
and learning systems, sends invitations for the sessions of matched learning exchanges,
writes past exchange days back as informal training hours, issues leerbewijzen and
reports training against the legal entitlement (5/1/0 days per FTE per year)."""

EPILOG = """\
exit codes: 0 ok, 1 partial (some records or writes failed; leerbewijs verify: not valid), 2 configuration error,
3 failed (another sync is running, store unreachable, or no source could be read).

examples:
  st-connector check --config config.example.toml
  st-connector sync --config config.example.toml --as-of 2027-03-01
  st-connector sync --config config.example.toml --dry-run --json
  st-connector report training --config config.example.toml --year 2027 --format xlsx
  st-connector keys show --config config.example.toml
  st-connector keys publish --config config.example.toml --to site
  st-connector report organisations --config config.example.toml --year 2026 --format xlsx
  st-connector leerbewijs verify out/leerbewijzen/groenkracht/LB-2026-0002.pdf --config config.example.toml
  st-connector erase --config config.example.toml --person fatima.elamrani@zonneke.be --dry-run
  st-connector run --config /etc/st-connector/config.toml
  st-connector match --config config.example.toml --as-of 2027-01-04
  st-connector match --config config.example.toml --apply
  st-connector web hash-password
  st-connector serve --config config.example.toml --port 8080"""


class UsageError(Exception):
    """A command line argparse refuses, raised instead of exiting so that --json can still answer."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake raises UsageError (sub-commands' parsers are of this class too)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self, message)


def _usage_error(error: UsageError, as_json: bool) -> int:
    """A usage mistake: argparse's usage and message on standard error; with --json also one JSON
    document on standard output, {"status": "usage error", "errors": [{"source": "arguments",
    "entity": "", "record": "", "field": "", "message": ...}], "warnings": []}. Exit code 2."""
    if as_json:
        print(json.dumps({"status": "usage error", "errors": [{"source": "arguments", "entity": "", "record": "", "field": "",
                                                               "message": error.message}], "warnings": []}, ensure_ascii=False))
    error.parser.print_usage(sys.stderr)
    print(f"{error.parser.prog}: error: {error.message}", file=sys.stderr)
    return EXIT_CONFIG


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="st-connector", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log details (never secrets) to standard error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(sub: argparse.ArgumentParser) -> None:
        # -v is accepted after the command too; SUPPRESS keeps the top-level value when absent.
        sub.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log details (never secrets)")
        sub.add_argument("--config", "-c", default=DEFAULT_CONFIG, metavar="FILE",
                         help=f"configuration file (default: {DEFAULT_CONFIG}; see config.example.toml)")

    sync = commands.add_parser("sync", help="run the main job once: pull, reconcile, invite, write back, issue leerbewijzen",
                               description="Run the main job once. A second run with unchanged input writes nothing. A day "
                                           "that turns out not to have happened is taken back where it was written, and its "
                                           "leerbewijs revoked and replaced by a corrected one (publish the keys folder again).")
    with_config(sync)
    sync.add_argument("--as-of", type=_as_of_date, metavar="YYYY-MM-DD",
                      help="run as if it were this date (00:00 in the partner's time zone): which sessions are past or "
                           "upcoming; never before the last sync's date (refused: time does not run backwards)")
    sync.add_argument("--dry-run", action="store_true", help="show what would be written; write nothing, store nothing")
    sync.add_argument("--json", action="store_true", help="print one JSON document on standard output instead of the summary")
    sync.add_argument("--accept-removals", action="store_true",
                      help="take removals that [guards] refuses (more than max_removed_share of a source's people gone "
                           "at once, or all of them): use once, when they really left")
    sync.add_argument("--quiet", "-q", action="store_true", help="no progress lines")

    run = commands.add_parser("run", help="keep running and sync every day at [schedule] time (Europe/Brussels)",
                              description="Keep running; sync daily at the configured local time. SIGTERM stops after the current step, or during a wait within a second.")
    with_config(run)
    run.add_argument("--now", action="store_true", help="also sync once right away")

    check = commands.add_parser(
        "check", help="report every problem in the configuration, mappings and text overrides at once; run nothing",
        description="Without --data: the configuration, mappings, text overrides, signing keys and write access to the "
                    "store, keys and outputs. It contacts one system: with [caldav], two PROPFIND requests ask whether "
                    "the login is the organizer's principal (a warning: a scheduling server would then invite attendees "
                    "itself); with [channels.imip.replies], one IMAP login opens the answers' folder read-only (a warning "
                    "when it cannot). With --data: also read every source as sync would and report every data problem at once "
                    "(missing columns, broken references, bad dates and numbers, implausible values, refused removals), "
                    "writing nothing: no store, no outputs, no keys. Problems exit 2 (configuration) or 1 (data); "
                    "warnings are printed and exit 0. Exit 0 only when the next sync would not fail on the "
                    "configuration or the data.")
    with_config(check)
    check.add_argument("--data", action="store_true",
                       help="read every source as sync would and report every data problem; writes nothing")
    check.add_argument("--as-of", type=_as_of_date, metavar="YYYY-MM-DD", help="with --data: check as if it were this date")
    check.add_argument("--json", action="store_true", help="with --data: print one JSON document (as sync --json)")

    report = commands.add_parser("report", help="reports from the store")
    kinds = report.add_subparsers(dest="report", required=True, metavar="REPORT")
    training = kinds.add_parser("training", help="per employee: entitlement, days followed, balance; per organisation: informal totals",
                                description="Training followed against the legal entitlement, for one calendar year.")
    with_config(training)
    training.add_argument("--year", type=_year, required=True, help="calendar year, e.g. 2026")
    training.add_argument("--format", choices=("xlsx", "csv"), default="xlsx", help="xlsx (one workbook) or csv (two files); default xlsx")
    training.add_argument("--output", metavar="DIR", help="folder to write to (default: <output directory>/reports)")
    training.add_argument("--as-of", type=_as_of_date, metavar="YYYY-MM-DD",
                          help="which exchange days are past (their unconfirmed hours shown apart), as if it were this date "
                               "(default: today)")

    keys = commands.add_parser("keys", help="the issuer's signing keys: init, show, rotate, publish",
                               description="The issuer's signing keys live in [signing] keys_dir, never in the store: an Ed25519 "
                                           "key for the Open Badges credentials and a P-256 key with an X.509 certificate for the "
                                           "PDF signature. keyring.json there holds every generation's public half: hand it to "
                                           "whoever verifies leerbewijzen. Back the folder up.")
    actions = keys.add_subparsers(dest="keys", required=True, metavar="ACTION")
    for action, words in (("init", "make the first key generation (a sync does this on first use too)"),
                          ("show", "print the public keys and certificates; no secrets"),
                          ("rotate", "make a new generation for new leerbewijzen; the old ones stay verifiable")):
        with_config(actions.add_parser(action, help=words, description=words[0].upper() + words[1:] + "."))
    publish = actions.add_parser(
        "publish", help="write the public keys and the status list into a folder to upload to the website",
        description="Write what verifiers fetch into a folder, each file at the path of its URL: one JWK per key "
                    "generation at <[signing] keys_url>/<kid>.json (the kid URL every credential names), jwks.json and "
                    "keyring.json beside them, the signed status list at [signing] status_list_url and, once a leerbewijs "
                    "was replaced, replacements.json beside the list (so verifiers read 'replaced by'). Upload the "
                    "folder to the website's root, again after `keys rotate`, `leerbewijs revoke` and a sync that revoked a "
                    "leerbewijs. No secrets in it.")
    with_config(publish)
    publish.add_argument("--to", metavar="DIR", help="the folder to write (default: <output directory>/site)")

    leerbewijs = commands.add_parser("leerbewijs", help="leerbewijzen: verify a PDF, an EDC, a credential or a QR code; revoke one")
    verbs = leerbewijs.add_subparsers(dest="leerbewijs", required=True, metavar="ACTION")
    verify = verbs.add_parser("verify", help="check signature, issuer, learner, hours and dates; exit 0 only if valid",
                              description="Verify leerbewijzen: a signed PDF, a file holding the VC-JWT credential, or the text "
                                          "of the QR code (starting ST1:). Exit 0 when every one is valid, 1 otherwise. "
                                          "Also a sealed European Digital Credential (<number>.edc.jsonld): its JAdES seal, "
                                          "the Europass EDC schema and its status.")
    with_config(verify)
    verify.add_argument("targets", nargs="+", metavar="FILE|QR", help="PDF, EDC or credential file, or QR text")
    verify.add_argument("--keyring", metavar="FILE", help="the issuer's keyring.json (instead of the one in [signing] keys_dir; "
                                                          "no configuration file needed then)")
    verify.add_argument("--status-list", metavar="FILE", help="the issuer's status-list.jwt (default: the one beside the keyring)")
    verify.add_argument("--fetch-status", action="store_true", help="fetch the status list from the URL in the credential "
                                                                    "(no network otherwise)")
    revoke = verbs.add_parser("revoke", help="revoke a leerbewijs: set its bit in the status list and republish it",
                              description="Revoke a leerbewijs: its bit in the W3C Bitstring Status List (status-list.jwt in "
                                          "[signing] keys_dir) is set and the list rewritten; publish the keys folder again. "
                                          "Revoking twice changes nothing.")
    with_config(revoke)
    revoke.add_argument("number", metavar="NUMBER", help="the leerbewijs number, e.g. LB-2026-0002")
    revoke.add_argument("--reason", metavar="TEXT", help="why (kept in the store and in issued-values.json, not published)")

    organisations = kinds.add_parser("organisations", help="per organisation: training accounts, training plan by target "
                                     "group, social balance sheet totals (rubric codes checked), chart; in its language",
                                     description="One export per organisation for one calendar year, in the organisation's "
                                                 "language: employee training accounts, the training plan view by target group, "
                                                 "the informal-training totals of the social balance sheet under the National "
                                                 "Bank's rubric codes, and hours followed against the entitlement per department.")
    with_config(organisations)
    organisations.add_argument("--year", type=_year, required=True, help="calendar year, e.g. 2026")
    organisations.add_argument("--format", choices=("xlsx", "csv", "json"), default="xlsx",
                               help="xlsx (one workbook with a chart), csv (five files) or json (one document); default xlsx")
    organisations.add_argument("--organisation", metavar="ID", help="only this organisation (default: every one)")
    organisations.add_argument("--output", metavar="DIR", help="folder to write to (default: <output directory>/reports)")
    organisations.add_argument("--as-of", type=_as_of_date, metavar="YYYY-MM-DD",
                               help="which exchange days are past, as if it were this date (default: today)")

    store = commands.add_parser("store", help="the store: copy it into another, empty one (e.g. SQLite to PostgreSQL)")
    store_actions = store.add_subparsers(dest="store", required=True, metavar="ACTION")
    copy = store_actions.add_parser(
        "copy", help="copy every table into an empty store at --to, then point [store] url there",
        description="Copy the configured store, table by table in one transaction, into another, empty store: the "
                    "supported way to move from SQLite to PostgreSQL or to a new server. Starting the new store empty "
                    "instead would send every invitation again. Both stores are locked while copying. Afterwards set "
                    "[store] url to the new store; the next sync writes nothing that was already written.")
    with_config(copy)
    copy.add_argument("--to", required=True, metavar="URL",
                      help="the target store, e.g. postgresql+psycopg://connector@db.example/connector; a ${NAME} "
                           "reference is read from the environment or the secrets file, so no password is typed")

    erase = commands.add_parser(
        "erase", help="erase one person's personal data from the store on request; list the copies outside it",
        description="Erase a person (the right to be forgotten): their HR and cohort records with the raw payloads, "
                    "planned writes, answers and names go; the training account keeps their hours per year under a "
                    "pseudonym, the leerbewijs register its numbers and fingerprints. Copies outside the store (ledgers, "
                    "HR systems, calendars, leerbewijs files) are listed, not removed. Correct the HR export and the "
                    "cohort sheet first: a source that still lists the person brings them back on the next sync.")
    with_config(erase)
    erase.add_argument("--person", required=True, metavar="ID|EMAIL", help="employee number, work e-mail or store id")
    erase.add_argument("--organisation", metavar="ID", help="only in this organisation (needed when the employee number repeats)")
    erase.add_argument("--dry-run", action="store_true", help="show what would be erased; change nothing")
    erase.add_argument("--json", action="store_true", help="print one JSON document instead of the report")

    status = commands.add_parser(
        "status", help="per organisation the exchanges and sessions and how far they got, open writes, the last runs",
        description="What the store knows, without reading SQLite: per organisation the exchanges with their sessions "
                    "and state (proposed, confirmed, invited, declined, written back, leerbewijs, leerbewijs revoked, "
                    "cancelled; a session also past, retracted), the leerbewijs in force and the revoked ones, each "
                    "exchange's plan origin, the candidate learning questions from training plans, the writes still "
                    "open or retrying with their last error, and the last runs; per cohort its phase, its deadlines, "
                    "what is overdue and by whom, and its group moments. Times in the partner's time zone. "
                    "Writes nothing.")
    with_config(status)
    status.add_argument("--json", action="store_true", help="print one JSON document instead of the overview")
    status.add_argument("--runs", type=_positive, default=5, metavar="N", help="how many of the last runs to list (default 5)")
    status.add_argument("--as-of", type=_as_of_date, metavar="YYYY-MM-DD",
                        help="each cohort's phase and what is overdue as of this date (default: today)")

    match = commands.add_parser(
        "match", help="propose who learns where, with whom and when: writes a proposals workbook",
        description="Match every open learning question of the cohort sheet to a learning place and coach: hard constraints "
                    "first (own employer, competitors, excluded departments, capacity, a shared language, [matching] "
                    "max_distance_km), then the best total of the weighted criteria of [matching.weights], solved for the "
                    "whole cohort at once. Writes DIR/proposals.xlsx in the partner's language with scores, reasons, "
                    "suggested dates and a Status column; exchanges already in the cohort and rows marked confirmed stay as "
                    "they are. --apply carries the confirmed rows into the cohort's exchanges and sessions sheets, after "
                    "which sync invites for them. Exit 1 when rows of the sheet could not be read (they are named).")
    with_config(match)
    match.add_argument("--as-of", type=_as_of_date, metavar="YYYY-MM-DD", help="plan as if today were this date (default: today)")
    match.add_argument("--output", metavar="DIR", help="folder of proposals.xlsx (default: [output] directory/matching)")
    match.add_argument("--apply", action="store_true", help="carry the confirmed proposals into the cohort sheet (no new matching)")
    match.add_argument("--json", action="store_true", help="print one JSON document: proposals, scores, dates, unmatched reasons")

    template = commands.add_parser("template", help="write the fill-in workbook for ST-partners (one sheet per entity)",
                                   description="Write the fill-in workbook. An existing file is never overwritten "
                                               "unless --force is given: it may hold filled-in rows.")
    template.add_argument("--output", required=True, metavar="FILE.xlsx", help="where to write the workbook")
    template.add_argument("--force", action="store_true", help="overwrite FILE.xlsx if it exists (its rows are lost)")

    init = commands.add_parser(
        "init", help="start a network: a minimal configuration, the cohort workbook and one workbook per organisation",
        description="Write a starter folder: config.toml, cohort.xlsx and organisations/<id>.xlsx for each organisation, "
                    "with the organisation ids filled in. Refuses a folder that is not empty. Then follow the README's "
                    "\"Your own network in ten steps\".")
    init.add_argument("directory", metavar="DIR", help="a new or empty folder")
    init.add_argument("--organisation", "-o", action="append", metavar="ID[=NAME]", dest="organisations",
                      help="an organisation of the network, e.g. -o zonneke=\"Kinderdagverblijf 't Zonneke\"; repeat it "
                           "(at least two; default: werkgever-a and werkgever-b)")
    init.add_argument("--partner", default="mijn-netwerk", metavar="ID",
                      help="the ST-partner's id (lower-case, in calendar UIDs; default mijn-netwerk)")

    serve = commands.add_parser(
        "serve", help="the web pages: the coordinator overview (login) and the personal links in invitations and reminders",
        description="Serve the partner's web pages on the store: a coordinator overview behind a login ([[web.accounts]], "
                    "argon2id password hashes, or the organisation's Entra ID with [web.entra]), with the evaluation results per "
                    "cohort as charts and the answers as CSV or XLSX (/answers.csv, /answers.xlsx), and the pages behind personal "
                    "links (/l/<token>: a coach confirms attendance, people answer the evaluation for their role, a switcher "
                    "reflects on a day, switcher and coaches write the learning action plan after the intro call). Needs [web] with "
                    "session_secret and link_keys from the environment or the secrets file. Listens on [web] host:port "
                    "(default 127.0.0.1:8080) without TLS: put a reverse proxy with TLS in front (README \"Web pages\"). "
                    "Stop with Ctrl-C or SIGTERM.")
    with_config(serve)
    serve.add_argument("--host", metavar="ADDRESS", help="the address to listen on (default: [web] host, 127.0.0.1)")
    serve.add_argument("--port", type=_port, metavar="PORT", help="the port to listen on (default: [web] port, 8080)")
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="must be 1 (the default): serve runs one process, since the login and link throttles live in its "
                            "memory; one process answers far more than a partner's coordinators and links ask (README \"Web pages\")")

    web = commands.add_parser("web", help="helpers for the web pages: hash-password")
    web_actions = web.add_subparsers(dest="web", required=True, metavar="ACTION")
    web_actions.add_parser("hash-password", help="ask for a password (twice, not shown) and print its argon2id hash",
                           description="Ask for a coordinator's password (twice, not shown) and print its argon2id hash "
                                       "for password_hash in [[web.accounts]]. The password itself is stored nowhere.")
    return parser


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"'{value}' is not a port number from 1 to 65535")
    return int(value)


def _year(value: str) -> int:
    """A calendar year of the training obligations, written in full (2026, not 26)."""
    if not value.isdigit() or not 1990 <= int(value) <= 2100:
        raise argparse.ArgumentTypeError(f"'{value}' is not a year between 1990 and 2100 (write it in full, e.g. 2026)")
    return int(value)


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"'{value}' is not a whole number of 1 or more")
    return int(value)


def _as_of_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date in the form YYYY-MM-DD") from None


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    try:
        args = _parser().parse_args(arguments)
    except UsageError as error:
        return _usage_error(error, "--json" in arguments)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return _command(args)
    except Exception as error:  # the last line of defence: a defect, told in one line, never as a traceback
        logging.getLogger("connector.cli").debug("unexpected error", exc_info=True)
        reason = f"unexpected error: {type(error).__name__}: {_first_line(str(error))[:300]}"
        if getattr(args, "json", False):
            _print_failure_json("st-connector", [reason])
        print(f"Failed: {reason}.", file=sys.stderr)
        if not args.verbose:
            print("Run the same command again with -v to see where it happened, and report it with that output.", file=sys.stderr)
        return EXIT_FAILED


def _print_failure_json(source: str, messages: list[str]) -> None:
    """--json promises one JSON document on standard output, also when nothing could run."""
    print(json.dumps({"status": "failed", "errors": [{"source": source, "entity": "", "record": "", "field": "", "message": m}
                                                     for m in messages], "warnings": []}, ensure_ascii=False))


def _command(args: argparse.Namespace) -> int:
    """Run the parsed command; the user mistakes it knows of become their exit codes."""
    try:
        if args.command == "template":
            return _template(args)
        if args.command == "init":
            return _init(args)
        if args.command == "leerbewijs" and args.leerbewijs == "verify" and args.keyring:
            keyring_file = Path(args.keyring)
            return _verify(keyring_file, args.targets, _status_file(args, keyring_file.parent), args.fetch_status)
        if args.command == "leerbewijs" and args.leerbewijs == "verify" and not Path(args.config).exists():
            raise ConfigError([f"{args.config}: configuration file not found; without the ST-partner's configuration, "
                               "verify with the issuer's published keyring: --keyring keyring.json"])
        if args.command == "web":
            return _hash_password()
        config = load_config(args.config)
        if args.command == "keys" and args.keys == "publish":
            return _publish(config, args.to)
        if args.command == "keys":
            return _keys(config, args.keys)
        if args.command == "leerbewijs" and args.leerbewijs == "revoke":
            return _revoke(config, args.number, args.reason)
        if args.command == "leerbewijs":
            from connector.leerbewijs.issuer import KEYRING

            keys_dir = config.path(config.signing.keys_dir)
            return _verify(keys_dir / KEYRING, args.targets, _status_file(args, keys_dir), args.fetch_status)
        if args.command == "check":
            return _check(config, args)
        if args.command == "sync":
            return _sync(config, args)
        if args.command == "run":
            return _run(config, args)
        if args.command == "store":
            return _store_copy(config, args.to)
        if args.command == "erase":
            return _erase(config, args)
        if args.command == "status":
            return _status(config, args)
        if args.command == "match":
            return _match(config, args)
        if args.command == "serve":
            return _serve(config, args)
        return _report(config, args)
    except ConfigError as error:
        return _config_problems(error, getattr(args, "json", False))
    except OperationalError as error:
        print(f"The store cannot be reached: {error.orig.__class__.__name__}: {_first_line(str(error.orig))}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_FAILED


def _match(config: Config, args: argparse.Namespace) -> int:
    from connector.core.errors import SourceUnavailable

    try:
        return _match_or_apply(config, args)
    except SourceUnavailable as error:  # the cohort sheet as a whole cannot be read
        if args.json:
            _print_failure_json("cohort", [str(error)])
        print(f"Failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as error:  # the proposals workbook or the cohort sheet cannot be written there
        message = f"cannot write {error.filename or args.output}: {error.strerror or error}"
        if args.json:
            _print_failure_json("match", [message])
        print(f"Not written: {message}.", file=sys.stderr)
        return EXIT_FAILED


def _match_or_apply(config: Config, args: argparse.Namespace) -> int:
    from connector.matching import service

    output = Path(args.output) if args.output else None
    language = config.partner.language.value
    with overriding(config.catalog_dir):
        if args.apply:
            applied, problems = service.apply(config, output)
            if args.json:
                print(json.dumps({"status": "partial" if problems else "ok", "exchanges": applied.exchanges,
                                  "sessions": applied.sessions, "skipped": applied.skipped,
                                  "errors": [p.as_dict() for p in problems], "warnings": []}, ensure_ascii=False, indent=2))
            else:
                print(f"Added {len(applied.exchanges)} exchange(s) and {len(applied.sessions)} session(s) to the cohort"
                      + (f"; already there: {', '.join(applied.skipped)}" if applied.skipped else ""))
                for problem in problems:
                    print(f"Problem: {problem}")
            return EXIT_PARTIAL if problems else EXIT_OK
        as_of = args.as_of or datetime.now(config.partner.zone).date()
        outcome = service.propose(config, as_of, output)
        if args.json:
            print(json.dumps(service.as_json(outcome, language), ensure_ascii=False, indent=2))
        else:
            print("\n".join(service.summary_lines(outcome, language)))
    return EXIT_PARTIAL if outcome.status == "partial" else EXIT_OK


def _erase(config: Config, args: argparse.Namespace) -> int:
    from connector.store.db import migrate, open_engine, session_factory, sync_lock
    from connector.store.erasure import erase_person
    from connector.store.outbox import utcnow

    engine = open_engine(config.store_url)
    try:
        migrate(engine)
        with sync_lock(engine), session_factory(engine)() as db:  # never halfway through a sync
            report = erase_person(db, config, args.person, args.organisation, utcnow(), dry_run=args.dry_run)
            if args.dry_run:
                db.rollback()
            else:
                db.commit()
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return EXIT_OK
    title = "Would erase (dry run, nothing changed)" if args.dry_run else "Erased"
    for person in report.people:
        print(f"{title}: one person of {person['organisation']}, now known as {person['pseudonym']}")
        for what, count in person["counts"].items():
            print(f"  {count:>5}  {what}")
        print("  outside the store:")
        for copy in person["external"]:
            print(f"    - {copy['where']}: {copy['what']}: {copy['note']}")
    return EXIT_OK


def _config_problems(error: ConfigError, as_json: bool) -> int:
    """Every configuration problem on standard error; with --json also one JSON document on
    standard output, so a script reading it always gets one: {"status": "configuration error",
    "errors": [{"source": "configuration", ..., "message": ...}]}."""
    if as_json:
        print(json.dumps({"status": "configuration error", "errors": [
            {"source": "configuration", "entity": "", "record": "", "field": "", "message": p} for p in error.problems]},
            ensure_ascii=False))
    print("Configuration problems (nothing was run):", file=sys.stderr)
    for problem in error.problems:
        print(f"  - {problem}", file=sys.stderr)
    return EXIT_CONFIG


def _store_copy(config: Config, target_url: str) -> int:
    from connector.store.copy import TargetNotEmpty, copy_store
    from connector.store.db import SyncAlreadyRunning, open_engine

    target_url = config.resolve_reference(target_url, "--to")
    try:
        StoreConfig(url=target_url)  # the same stores as [store] url, the same words when it is none
    except ValidationError as error:
        raise ConfigError([f"--to: {e['msg'].removeprefix('Value error, ')}" for e in error.errors()]) from None
    target_url = config.anchored_store_url(target_url)  # relative SQLite paths as in [store] url: from the configuration's folder
    if target_url == config.store_url:
        print("Not copied: --to names the store this configuration already uses.", file=sys.stderr)
        return EXIT_FAILED
    target_file = _sqlite_file(target_url)
    if target_file is not None:
        target_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # personal data: owner-only, like the store
        target_file.touch(mode=0o600, exist_ok=True)
    source, target = open_engine(config.store_url), open_engine(target_url)
    try:
        counts = copy_store(source, target, progress=lambda message: print(f"  {message}", file=sys.stderr, flush=True))
    except (TargetNotEmpty, SyncAlreadyRunning) as error:
        print(f"Not copied: {error}.", file=sys.stderr)
        return EXIT_FAILED
    finally:
        source.dispose()
        target.dispose()
    print(f"Copied {sum(counts.values())} row(s) in {len(counts)} table(s) to {target.url.render_as_string(hide_password=True)}. "
          "Now set [store] url to it.")
    return EXIT_OK


def _sqlite_file(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def _check(config: Config, args: argparse.Namespace) -> int:
    from connector.engine.sync import check

    blocked = unwritable(config)
    try:
        for warning in check(config):
            print(f"Warning: {warning}", file=sys.stderr)
    except PermissionError as error:  # e.g. the keys folder cannot even be looked into
        blocked = blocked or [_denied(error)]
    if blocked:
        print("Configuration OK, but the connector cannot write where it must (a sync would fail):", file=sys.stderr)
        for problem in blocked:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_FAILED
    for warning in _unfilled(config):
        print(f"Warning: {warning}", file=sys.stderr)
    if args.data:
        return _check_data(config, args)
    print(f"Configuration OK: {len(config.organisations)} organisation(s), "
          f"{sum(len(o.sources) for o in config.organisations) + len(config.sources)} source(s).")
    return EXIT_OK


def _unfilled(config: Config) -> list[str]:
    """What `init` left for the partner to fill in and is still as it wrote it."""
    found = []
    if config.partner.organiser_email.lower().endswith("@example.org"):
        found.append(f"[partner] organiser_email is still {config.partner.organiser_email}: invitations come from it")
    found.extend(f"organisation '{o.id}' has no average_workforce: its training entitlement cannot be computed"
                 for o in config.organisations if o.average_workforce is None)
    return found


def _check_data(config: Config, args: argparse.Namespace) -> int:
    from connector.engine.datacheck import check_data

    progress = (lambda message: None) if args.json else (lambda message: print(f"  {message}", file=sys.stderr, flush=True))
    summary = check_data(config, _moment(config, args.as_of), progress=progress)
    matching = _matching_problems(config, summary.errors)
    summary.errors.extend(matching)
    if summary.status == "ok" and any(not p.warning for p in matching):
        summary.status = "partial"
    if args.json:
        print(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print_pulled(summary, config, "Data check: nothing was written")
        _print_problems(summary)
        if summary.status == "ok":
            print("  the next sync will not fail on the data")
    return EXIT_OK if summary.status == "ok" else EXIT_PARTIAL


def _matching_problems(config: Config, known: list[Problem]) -> list[Problem]:
    """Problems in the cohort's matching columns (capacities, languages, weekdays, preferences...)
    that `match` would meet, beyond those the data check already names."""
    from connector.core.errors import SourceUnavailable
    from connector.matching.inputs import read_cohort

    try:
        found = read_cohort(config).problems
    except (ConfigError, SourceUnavailable):
        return []  # no cohort to match, or one the data check already could not read
    seen = {(p.record, p.field, p.message) for p in known}
    return [p for p in found if (p.record, p.field, p.message) not in seen]


def _status(config: Config, args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from connector.engine.status import build_status
    from connector.store.db import migrate, open_engine, session_factory

    url = make_url(config.store_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        document = {"timezone": config.partner.timezone, "organisations": [], "outbox": [], "runs": [], "cohorts": []}
    else:
        engine = open_engine(config.store_url)
        try:
            migrate(engine)
            with session_factory(engine)() as db:
                document = build_status(db, config, args.runs, now=_moment(config, getattr(args, "as_of", None)))
        finally:
            engine.dispose()
    if args.json:
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        _print_status(document, config.partner.language.value)
    return EXIT_OK


def _print_status(document: dict[str, Any], language: str) -> None:
    if not document["runs"]:
        print("Nothing synced yet: run st-connector sync.")
        return
    print(f"Times in {document['timezone']}.")
    for organisation in document["organisations"]:
        print(f"{organisation['name']} ({organisation['id']}): {len(organisation['exchanges'])} exchange(s)")
        for exchange in organisation["exchanges"]:
            number = f", {exchange['leerbewijs']}" if exchange["leerbewijs"] else ""
            for own in exchange.get("coach_leerbewijzen") or []:
                number += f", {own['number']} (coach {own['coach']})"
            for revoked in exchange.get("revoked") or []:
                replaced = f", replaced by {revoked['replaced_by']}" if revoked["replaced_by"] else ""
                number += f", {revoked['number']} revoked{replaced}"
            origin = f" (from plan item {exchange['origin']})" if exchange.get("origin") else ""
            print(f"  {exchange['code']:<10} {exchange['state']:<13} {exchange['switcher']} at {exchange['learning_place']}{number}{origin}")
            for session in exchange["sessions"]:
                declined = f" by {', '.join(session['declined'])}" if session["declined"] else ""
                print(f"    {session['code']:<14} {session['start'][:16]}  {session['state']}{declined}")
        candidates = organisation.get("candidate_learning_questions") or []
        if candidates:
            print(f"  candidate learning questions (accept one: its code in the Herkomst column of Leervragen): {len(candidates)}")
        for candidate in candidates:
            due = f", due {candidate['due']}" if candidate["due"] else ""
            print(f"    {candidate['code']}  {candidate['switcher']} ({candidate['employee']}): {candidate['title']}{due}"
                  f" [{candidate['origin']}]")
    print(f"Open writes: {len(document['outbox'])}")
    for item in document["outbox"]:
        retry = f", next try {item['next_attempt'][:16]}" if item["next_attempt"] else ""
        print(f"  {item['target']} {item['object']} {item['id']}: {item['status']} after {item['attempts']} attempt(s)"
              f"{retry}{': ' + item['last_error'] if item['last_error'] else ''}")
    print("Last runs:")
    for run in document["runs"]:
        kind = " (dry run)" if run["dry_run"] else ""
        print(f"  #{run['id']} {run['started']}{kind}: {run['status']}, {run['problems']} problem(s), {run['warnings']} warning(s)")
    _print_cohorts(document.get("cohorts") or [], language)


def _print_cohorts(cohorts: list[dict[str, Any]], language: str) -> None:
    """Each cohort's phase, its deadlines, what is overdue and by whom, and its group moments;
    phases, kinds of moment and audiences in the people's words of `language` (the --json
    document keeps the codes)."""
    from connector.core.texts import text

    def phase_name(phase: str) -> str:  # "not started" and "finished" are the view's own words
        return text(language, f"phase.{phase}") if phase not in ("not started", "finished") else phase

    for cohort in cohorts:
        print(f"Cohort {cohort['code']} {cohort['name']} ({cohort['year']}): phase {phase_name(cohort['phase'])}")
        for phase in cohort["phases"]:
            print(f"  {phase_name(phase['phase']):<26} {phase['start'] or '':<10} .. {phase['deadline']}  {phase['state']}")
        for late in cohort["overdue"]:
            print(f"  overdue since {late['deadline']}: {phase_name(late['phase'])} by {late['who']} ({late['organisation']})")
        for moment in cohort["group_moments"]:
            state = " (cancelled)" if moment["cancelled"] else ""
            audience = ", ".join(text(language, f"audience.{group}") for group in moment["audience"])
            print(f"  {moment['code']:<14} {moment['start'][:16]}  {text(language, 'kind.group.' + moment['kind'])} for {audience}{state}")


def _moment(config: Config, day: date | None) -> datetime | None:
    if day is None:
        return None
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(config.partner.timezone))


def _sync(config: Config, args: argparse.Namespace) -> int:
    from connector.engine.scheduler import Stopper
    from connector.engine.sync import run_sync
    from connector.store.db import StoreNotUsable, SyncAlreadyRunning

    stopper = Stopper()
    stopper.install()
    show = not (args.json or args.quiet)
    progress = (lambda message: print(f"  {message}", file=sys.stderr, flush=True)) if show else (lambda message: None)
    blocked = [] if args.dry_run else unwritable(config)
    if blocked:
        return _not_run(config, args.json, blocked)
    try:
        summary = run_sync(config, _moment(config, args.as_of), dry_run=args.dry_run, progress=progress, should_stop=stopper,
                           accept_removals=args.accept_removals)
    except (SyncAlreadyRunning, StoreNotUsable, OperationalError) as error:
        reason = f"the store cannot be reached: {_first_line(str(error.orig))}" if isinstance(error, OperationalError) else str(error)
        return _not_run(config, args.json, [reason])
    except PermissionError as error:  # a place that changed hands since the check above
        return _not_run(config, args.json, [_denied(error)])
    if not args.dry_run:
        _alert(config, summary.status, [str(p) for p in summary.errors if not p.warning], summary.as_of)
    if args.json:
        print(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
    else:
        _print_summary(summary, config)
    return {"ok": EXIT_OK, "partial": EXIT_PARTIAL}.get(summary.status, EXIT_FAILED)


def _alert(config: Config, status: str, problems: list[str], as_of: str) -> None:
    from connector.engine.alerts import alert

    failure = alert(config, status, problems, as_of)
    if failure:
        print(f"  {failure}", file=sys.stderr)


def _not_run(config: Config, as_json: bool, reasons: list[str]) -> int:
    """A sync that could not happen: one JSON document with --json, the reasons on standard
    error, and an alert to [alerts] email (it failed)."""
    _alert(config, "failed", reasons, datetime.now(ZoneInfo(config.partner.timezone)).isoformat(timespec="minutes"))
    if as_json:
        print(json.dumps({"status": "failed", "errors": [{"source": "store", "entity": "", "record": "", "field": "", "message": r}
                                                         for r in reasons]}))
    for reason in reasons:
        print(f"Not run: {reason}.", file=sys.stderr)
    return EXIT_FAILED


def _denied(error: PermissionError) -> str:
    return f"user '{current_user()}' may not write {error.filename or 'a file'} ({error.strerror}); see [paths] in the README"


def _print_pulled(summary: Summary, config: Config, title: str) -> None:
    """The summary's first lines: what, as of when (in the partner's zone, labelled), and the pull counts."""
    from connector.engine.status import local

    as_of = local(datetime.fromisoformat(summary.as_of), ZoneInfo(config.partner.timezone))
    print(f"{title} (as of {as_of}): {summary.status}")
    print("  pulled:")
    for entity, counts in sorted(summary.pulled.items()):
        print(f"    {entity:<20} {counts['created']:>5} new {counts['updated']:>5} changed {counts['unchanged']:>5} unchanged"
              f" {counts['failed']:>4} failed {counts['removed']:>4} removed")


def _print_problems(summary: Summary) -> None:
    """Warnings apart from problems, each counted: the counts are those of the lines below them."""
    errors = [p for p in summary.errors if not p.warning]
    warnings = [p for p in summary.errors if p.warning]
    if warnings:
        print(f"  {len(warnings)} warning(s):")
        for problem in warnings:
            print(f"    - {problem}")
    if errors:
        print(f"  {len(errors)} problem(s):")
        for problem in errors:
            print(f"    - {problem}")


def _print_summary(summary: Summary, config: Config) -> None:
    from connector.engine.status import local

    _print_pulled(summary, config, "Dry run: nothing was written" if summary.dry_run else "Sync finished")
    would = " (would be)" if summary.dry_run else ""
    print(f"  invitations{would}: {summary.invites['created']} new, {summary.invites['updated']} updated, {summary.invites['cancelled']} cancelled")
    print(f"  training records written{would}: {summary.training_records['written']}")
    if summary.training_records["retracted"]:
        print(f"  training records retracted{would}: {summary.training_records['retracted']}")
    if summary.not_counted:
        print("  past exchange days not counted as training:")
        for day in summary.not_counted:
            print(f"    {day['session']:<14} {day['date']}  {day['switcher']}: {day['reason']}")
    if summary.training_records["yearly totals written"]:
        print(f"  yearly exchange-hour totals written{would}: {summary.training_records['yearly totals written']}")
    print(f"  leerbewijzen issued{would}: {summary.leerbewijzen['issued']}")
    for revoked in summary.revoked:
        replaced = f", replaced by {revoked['replaced_by']}" if revoked.get("replaced_by") else ""
        then = "" if summary.dry_run else ": publish the keys folder again"
        print(f"  leerbewijs {revoked['number']} revoked{would} ({revoked['reason']}){replaced}{then}")
    for manual in summary.manual:
        print(f"  to do by hand in {manual['target']}: {manual['action']} (record {manual['record']}, id {manual['remote_id'] or '-'})")
    if summary.created_key:
        print(f"  signing keys created: {summary.created_key} in {config.path(config.signing.keys_dir)} (back this folder up)")
    for declined in summary.declined:
        print(f"  declined: {declined['attendee']} for session {declined['session']} ({declined['target']})")
    for conflict in summary.conflicts:
        start = local(datetime.fromisoformat(conflict["start"]), ZoneInfo(config.partner.timezone)) or ""
        end = local(datetime.fromisoformat(conflict["end"]), ZoneInfo(config.partner.timezone)) or ""
        print(f"  calendar conflict: {conflict['attendee']} is {conflict['status']} {start[:16]}–{end[11:]} "
              f"during session {conflict['session']}")
    if summary.written_files:
        files = [w for w in summary.written_files if w["file"]]
        print(f"  written: {len(summary.written_files)} ({len(files)} file(s); .ics files to send are listed)")
        for item in summary.written_files:
            if (item["file"] or "").endswith((".ics", ".eml")):  # .eml: a note to a manager, to send like an invitation
                to = item.get("to")
                to_whom = f"  (to {to['name']} <{to['email']}>, in {to['language']})" if to else ""
                print(f"    {item['action']:<7} {item['id']:<16} {item['file']}{to_whom}")
    if summary.dry_run and summary.planned:
        print("  planned writes:")
        for item in summary.planned:
            print(f"    {item['action']:<7} {item['target']:<28} {item['object']:<16} {item['id']} (sequence {item['sequence']})")
    if summary.stopped:
        print("  stopped before the end (signal); the next run carries on.")
    _print_problems(summary)
    if not summary.dry_run:
        print(f"  output: {config.output_dir}")


def _run(config: Config, args: argparse.Namespace) -> int:
    from connector.engine.scheduler import Stopper, nightly
    from connector.engine.sync import run_sync
    from connector.store.db import StoreNotUsable, SyncAlreadyRunning

    logging.getLogger("connector").setLevel(logging.INFO)
    log = logging.getLogger("connector.run")
    stopper = Stopper()
    stopper.install()
    config_path = args.config

    def job() -> None:
        try:
            current = load_config(config_path)  # pick up edits without a restart
            blocked = unwritable(current)
            if blocked:
                log.error("sync not run: %s", "; ".join(blocked))
                _alert(current, "failed", blocked, datetime.now(ZoneInfo(current.partner.timezone)).isoformat())
                return
            summary = run_sync(current, should_stop=stopper)
            if summary.created_key:
                log.warning("signing keys %s created in %s: back this folder up", summary.created_key, current.signing.keys_dir)
            log.info("sync %s: invites %s, training records %s, leerbewijzen %s, %d problem(s)", summary.status,
                     dict(summary.invites), summary.training_records["written"], summary.leerbewijzen["issued"], len(summary.errors))
            for problem in summary.errors:
                log.warning("%s", problem)
            _alert(current, summary.status, [str(p) for p in summary.errors if not p.warning], summary.as_of)
        except SyncAlreadyRunning as error:
            log.warning("skipped: %s", error)
        except ConfigError as error:
            log.error("configuration problems, sync skipped: %s", "; ".join(error.problems))
        except OperationalError as error:
            log.error("store unreachable, sync skipped: %s", _first_line(str(error.orig)))
        except StoreNotUsable as error:
            log.error("sync skipped: %s", error)
            _alert(current, "failed", [str(error)], datetime.now(ZoneInfo(current.partner.timezone)).isoformat())
        except PermissionError as error:
            log.error("sync stopped: %s", _denied(error))

    nightly(config.schedule.time, config.partner.timezone, job, stopper, run_now=args.now)
    return EXIT_OK


def _report(config: Config, args: argparse.Namespace) -> int:
    from connector.reports.exports import build_exports, write_exports
    from connector.reports.training import build_report, write_report
    from connector.store.db import migrate, open_engine, session_factory

    engine = open_engine(config.store_url)
    migrate(engine)
    with session_factory(engine)() as db:
        report = build_report(db, args.year, _moment(config, args.as_of))
    engine.dispose()
    folder = Path(args.output) if args.output else config.output_dir / "reports"
    if args.report == "organisations":
        with overriding(config.catalog_dir):  # headings and labels in the partner's wording too
            exports = build_exports(report, config)
            if args.organisation:
                exports = [e for e in exports if e.organisation == args.organisation]
                if not exports:
                    raise ConfigError([f"no organisation '{args.organisation}' in the store (known: "
                                       f"{', '.join(o.organisation for o in report.organisations)})"])
            paths = write_exports(exports, folder, args.format)
    else:
        paths = write_report(report, folder, args.format)
    for path in paths:
        print(path)
    return EXIT_OK


def _keys(config: Config, action: str) -> int:
    from connector.leerbewijs.issuer import IssuerProfile, KeyStore, describe_keys

    store = KeyStore.of(config)
    now = datetime.now(ZoneInfo(config.partner.timezone))
    if action == "init":
        print(f"created key generation {store.init(IssuerProfile.of(config), now)} in {store.directory}; back this folder up")
    elif action == "rotate":
        print(f"new key generation {store.rotate(IssuerProfile.of(config), now)} signs new leerbewijzen; "
              "the earlier ones stay verifiable through keyring.json")
    print("\n".join(describe_keys(store)))
    return EXIT_OK


def _publish(config: Config, to: str | None) -> int:
    from connector.leerbewijs.publish import publish_keys

    folder = Path(to) if to else config.output_dir / "site"
    written = publish_keys(config, folder)
    print(f"wrote {len(written)} files into {folder}; upload it to the website's root, so that")
    for item in written:
        print(f"  {item.url}  serves  {item.path}")
    return EXIT_OK


def _status_file(args: argparse.Namespace, keys_dir: Path) -> Path | None:
    """--status-list, else the list beside the keyring when there is one."""
    from connector.leerbewijs.statuslist import LIST_JWT

    if args.status_list:
        return Path(args.status_list)
    return keys_dir / LIST_JWT if (keys_dir / LIST_JWT).exists() else None


def _verify(keyring_file: Path, targets: list[str], status_file: Path | None = None, fetch_status: bool = False) -> int:
    from connector.leerbewijs.issuer import load_keyring
    from connector.leerbewijs.proof import StatusSource, verify

    keyring = load_keyring(keyring_file)
    status = StatusSource(keyring, status_file, fetch_status)
    from connector.leerbewijs.edc import published_seals

    seals = published_seals(keyring_file.parent)  # the partner's EDC seal chain, published beside the keyring
    verdicts = [verify(target, keyring, status, seals) for target in targets]
    for verdict in verdicts:
        print("\n".join(verdict.lines()))
    return EXIT_OK if all(v.ok for v in verdicts) else EXIT_PARTIAL


def _revoke(config: Config, number: str, reason: str | None) -> int:
    from connector.leerbewijs.revocation import revoke

    done = revoke(config, number, reason)
    if done.changed:
        print(f"revoked {done.number} (status list index {done.index}); "
              + ("the status list was rewritten: publish the keys folder again" if done.published else "the status list is unchanged"))
    else:
        print(f"{done.number} was already revoked on {done.revoked_at} (status list index {done.index}); nothing changed")
    return EXIT_OK


def _template(args: argparse.Namespace) -> int:
    from connector.reports.template import TemplateExists, write_template

    try:
        path = write_template(Path(args.output), force=args.force)
        from connector.matching.template import add_matching_columns

        add_matching_columns(path)  # the optional matching columns (st-connector match)
    except TemplateExists as error:
        print(f"Not written: {error}.", file=sys.stderr)
        return EXIT_CONFIG
    print(path)
    return EXIT_OK


def _init(args: argparse.Namespace) -> int:
    from connector.reports.starter import EXAMPLE_ORGANISATIONS, StarterRefused, organisation, write_starter

    folder = Path(args.directory)
    try:
        organisations = [organisation(text) for text in args.organisations] if args.organisations else EXAMPLE_ORGANISATIONS
        paths = write_starter(folder, organisations, args.partner)
        from connector.matching.template import add_matching_columns

        for path in paths:
            if path.name == "cohort.xlsx":
                add_matching_columns(path)  # the optional matching columns (st-connector match)
    except StarterRefused as error:
        print(f"Not written: {error}.", file=sys.stderr)
        return EXIT_CONFIG
    for path in paths:
        print(path)
    print(f"Next: fill in the workbooks and [partner] in {folder / 'config.toml'}, then "
          f"st-connector check --data --config {folder / 'config.toml'} (README: \"Your own network in ten steps\").")
    return EXIT_OK


def _serve(config: Config, args: argparse.Namespace) -> int:
    from connector.web.serve import serve

    serve(config, args.host, args.port, args.workers)
    return EXIT_OK


def _hash_password() -> int:
    from connector.web.serve import prompt_hash

    print(prompt_hash())
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
