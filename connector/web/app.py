"""The web application behind `st-connector serve` (Starlette, Jinja2 templates).

Pages:
    GET  /login, POST /login     a coordinator signs in ([web] accounts, argon2id hashes)
    POST /logout
    GET  /                       the overview: build_status plus attendance and answers,
                                 filtered by ?organisation=<id> and ?state=<exchange state>,
                                 and the evaluation results per cohort as charts (results.py)
    GET  /answers.csv, .xlsx     the answers export, one line per value (?organisation=<id>)
    GET  /login/entra, /login/entra/callback
                                 sign-in through the organisation's Entra ID ([web.entra], entra.py)
    GET  /l/<token>, POST        a personal link (connector/core/links.py): the form for its
                                 purpose, in the person's language; POST stores the answer
                                 (the learning action plan: a new version of the exchange's one
                                 plan, which the switcher's and the coaches' links all open)
    GET  /static/app.css

Every form carries a CSRF token; every response carries the headers of web/security.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from connector.core.config import Config, WebAccount
from connector.core.errors import ConfigError
from connector.core.links import Link, LinkError, read_link
from connector.core.reminders import Offset
from connector.core.texts import DEFAULT_LANGUAGE, LANGUAGES, offset_label, text
from connector.engine.status import build_status, local
from connector.leerbewijs.document import unprintable
from connector.store.answers import (
    ACTION_PLAN,
    AnswerKey,
    answers_by_exchange,
    confirmed_attendance,
    find_answer,
    latest_plan,
    lock_plan,
    save_answer,
    save_plan,
)
from connector.store.erasure import erased_people
from connector.store.tables import Answer, Exchange, Person
from connector.store.tables import Session as SessionRow
from connector.web.entra import CALLBACK, EntraSignIn, SignInRefused, account_for
from connector.web.forms import ACTION_PLAN as PLAN_QUESTIONS
from connector.web.forms import ATTENDANCE_VALUES, EVALUATION, REFLECTION, Question, validate
from connector.web.results import (
    answer_lines,
    answerer_names,
    answers_csv,
    answers_xlsx,
    cohort_results,
    question_text,
    value_text,
)
from connector.web.security import SecurityHeaders, Throttle, check_password, csrf_token, csrf_valid

HERE = Path(__file__).parent
log = logging.getLogger(__name__)
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXCHANGE_DAY = "exchange_day"
LOGIN_WINDOW = 15 * 60  # seconds
LINK_POSTS, LINK_WINDOW = 30, 5 * 60  # answers per address within that many seconds
LINK_FAILURES = 20  # links that do not open, per address within LINK_WINDOW: then every link is refused a while


def negotiate(accept_language: str | None) -> str:
    """The first of nl, fr, en the browser's Accept-Language (RFC 9110 section 12.5.4) prefers;
    Dutch when it names none of them."""
    ranked = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, parameters = part.strip().partition(";")
        quality = 1.0
        if parameters.strip().startswith("q="):
            try:
                quality = float(parameters.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-", 1)[0]
        if primary in LANGUAGES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE


@dataclass
class Bound:
    """A link that holds: its exchange, and the person's name and language."""

    link: Link
    exchange: Exchange
    name: str
    language: str


class WebApp:
    """The routes and what they share: configuration, store sessions, throttles, templates."""

    def __init__(self, config: Config, engine: Engine, clock: Callable[[], datetime] | None = None) -> None:
        if config.web is None:
            raise ConfigError(["[web] is missing: serve needs session_secret, link_keys and at least one account"])
        self.config, self.web = config, config.web
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.zone = ZoneInfo(config.partner.timezone)
        self.logins = Throttle(self.web.login_attempts, LOGIN_WINDOW)
        self.link_posts = Throttle(LINK_POSTS, LINK_WINDOW)
        self.link_failures = Throttle(LINK_FAILURES, LINK_WINDOW)
        self.entra = EntraSignIn(self.web.entra, self.web.base_url or "", config.base_dir) if self.web.entra is not None else None
        self.templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True))

    # -- rendering -------------------------------------------------------------------------

    def page(self, request: Request, template: str, language: str, status: int = 200, **context: Any) -> HTMLResponse:
        def t(key: str, **values: object) -> str:
            return text(language, key, **values)

        def state(name: str) -> str:
            """An exchange, session, outbox or attendance state of build_status, in words; an unknown one as it is."""
            key = "web.state." + name.replace(" ", "_")
            try:
                return text(language, key)
            except KeyError:
                return name

        def answered(key: str, value: object) -> tuple[str, int | str]:
            """An answer's question and value in words (the overview; the export says them alike)."""
            return question_text(language, key), value_text(language, key, value)

        body = self.templates.get_template(template).render(t=t, state=state, answered=answered, language=language,
                                                       csrf=csrf_token(request.session),
                                                       partner=self.config.partner.name, entra=self.entra is not None, **context)
        return HTMLResponse(body, status_code=status)

    def message(self, request: Request, language: str, key: str, status: int) -> HTMLResponse:
        return self.page(request, "message.html", language, status, title=key)

    @staticmethod
    def client(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    # -- login -----------------------------------------------------------------------------

    def account(self, request: Request) -> WebAccount | None:
        name = request.session.get("account")
        return next((a for a in self.web.accounts if a.name == name), None) if isinstance(name, str) else None

    def account_language(self, request: Request, account: WebAccount | None = None) -> str:
        if account is not None and account.language is not None:
            return account.language.value
        return negotiate(request.headers.get("accept-language"))

    async def login_form(self, request: Request) -> Response:
        return self.page(request, "login.html", self.account_language(request))

    async def login(self, request: Request) -> Response:
        form = await request.form()
        language = self.account_language(request)
        if not csrf_valid(request.session, form.get("csrf")):
            return self.message(request, language, "web.error.csrf", 403)
        name = str(form.get("name") or "").strip()[:100]
        keys = (f"ip:{self.client(request)}", f"account:{name.casefold()}")
        if self.logins.blocked(*keys):
            return self.page(request, "login.html", language, 429, error="web.error.throttled", name=name)
        account = next((a for a in self.web.accounts if a.name == name), None)
        secret = account.password_hash if account else None
        if not check_password(secret.get_secret_value() if secret else None, str(form.get("password") or "")):
            self.logins.hit(*keys)
            return self.page(request, "login.html", language, 401, error="web.error.login", name=name)
        request.session.clear()  # a new session on sign-in (no fixation), with a new CSRF token
        request.session["account"] = name
        csrf_token(request.session)
        return RedirectResponse("/", status_code=303)

    async def entra_begin(self, request: Request) -> Response:
        """Send the browser to the tenant's sign-in page; the flow waits in the signed session."""
        if self.entra is None:  # no [web.entra]: create_app adds no route to here
            return Response(status_code=404)
        try:
            flow = await run_in_threadpool(self.entra.begin)  # HTTP to the tenant: not on the event loop
        except (OSError, ValueError) as error:  # requests.RequestException is an OSError; so is an unreadable ca_bundle
            log.warning("Entra ID sign-in unavailable: %s: %s", type(error).__name__, str(error)[:200])
            return self.page(request, "login.html", self.account_language(request), 502, error="web.error.entra")
        request.session["entra_flow"] = {k: v for k, v in flow.items() if k != "auth_uri"}  # the cookie stays small
        return RedirectResponse(flow["auth_uri"], status_code=303)

    async def entra_callback(self, request: Request) -> Response:
        """The tenant's answer: the code redeemed and the ID token checked (entra.py), then the
        person signed in as the account that names them, or refused."""
        language = self.account_language(request)
        flow = request.session.pop("entra_flow", None)
        if self.entra is None:
            return Response(status_code=404)
        if not isinstance(flow, dict):
            return self.page(request, "login.html", language, 400, error="web.error.entra")
        try:
            claims = await run_in_threadpool(self.entra.finish, flow, dict(request.query_params))
        except SignInRefused as refused:
            log.warning("Entra ID sign-in refused: %s", refused)
            return self.page(request, "login.html", language, 401, error="web.error.entra")
        account = account_for(self.web, claims)
        if account is None:
            log.warning("Entra ID user %s (oid %s) is not allowed to sign in", claims.get("preferred_username"), claims.get("oid"))
            return self.page(request, "login.html", language, 403, error="web.error.entra_denied")
        request.session.clear()  # a new session on sign-in, as with a password
        request.session["account"] = account.name
        csrf_token(request.session)
        return RedirectResponse("/", status_code=303)

    async def logout(self, request: Request) -> Response:
        form = await request.form()
        if not csrf_valid(request.session, form.get("csrf")):
            return self.message(request, self.account_language(request), "web.error.csrf", 403)
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    # -- the overview ----------------------------------------------------------------------

    async def overview(self, request: Request) -> Response:
        account = self.account(request)
        if account is None:
            return RedirectResponse("/login", status_code=303)
        language = self.account_language(request, account)
        chosen_organisation = request.query_params.get("organisation") or ""
        chosen_state = request.query_params.get("state") or ""
        with self.sessions() as db:
            document = build_status(db, self.config, now=self.clock())
            extra = self._answers_and_attendance(db)
            cohorts = cohort_results(db, self.shown_organisations(account, chosen_organisation))
        visible = [o for o in document["organisations"] if not account.organisations or o["id"] in account.organisations]
        states = sorted({e["state"] for o in visible for e in o["exchanges"]})
        shown = []
        for organisation in visible:
            if chosen_organisation and organisation["id"] != chosen_organisation:
                continue
            exchanges = [self._decorate(e, extra) for e in organisation["exchanges"] if not chosen_state or e["state"] == chosen_state]
            shown.append({**organisation, "exchanges": exchanges})
        allowed = {o["id"] for o in visible}
        outbox = [i for i in document["outbox"] if i["organisation"] in allowed or (i["organisation"] is None and not account.organisations)]
        return self.page(request, "overview.html", language, account=account.name, organisations=shown, all_organisations=visible,
                         states=states, chosen_organisation=chosen_organisation, chosen_state=chosen_state,
                         outbox=outbox, runs=document["runs"], timezone=document["timezone"], cohorts=cohorts)

    # -- results and the answers export --------------------------------------------------

    def shown_organisations(self, account: WebAccount, chosen: str) -> list[str] | None:
        """The organisations whose exchanges an account sees, narrowed to `chosen` when given;
        None for all of them."""
        allowed = [o.id for o in self.config.organisations if not account.organisations or o.id in account.organisations]
        if chosen:
            return [o for o in allowed if o == chosen]
        return allowed if account.organisations else None

    async def answers_export(self, request: Request) -> Response:
        """/answers.csv or /answers.xlsx: every answer the account may see, one line per value."""
        account = self.account(request)
        if account is None:
            return RedirectResponse("/login", status_code=303)
        language = self.account_language(request, account)
        with self.sessions() as db:
            lines = answer_lines(db, self.config, language, self.shown_organisations(account, request.query_params.get("organisation") or ""))
        name = f"answers-{self.clock().astimezone(self.zone):%Y-%m-%d}"  # ASCII: a header value
        extension = request.url.path.rsplit(".", 1)[1]
        if extension == "csv":
            body, media = answers_csv(lines, language, self.zone.key), "text/csv; charset=utf-8"
        else:
            body, media = answers_xlsx(lines, language, self.zone.key), XLSX_MEDIA_TYPE
        disposition = f'attachment; filename="{name}.{extension}"'
        return Response(body, media_type=media, headers={"content-disposition": disposition})

    def _answers_and_attendance(self, db: Session) -> dict[str, Any]:
        names = answerer_names(db, self.config)
        answers = {code: [self._answer_row(a, names) for a in rows] for code, rows in answers_by_exchange(db).items()}
        sheet = {s.code: s.attendance for s in db.scalars(select(SessionRow)) if s.attendance}
        return {"answers": answers, "sheet": sheet, "confirmed": confirmed_attendance(db)}

    def _answer_row(self, answer: Answer, names: dict[str, str]) -> dict[str, Any]:
        return {"who": names.get(answer.subject, answer.subject), "role": answer.role, "purpose": answer.purpose,
                "session": answer.session_code, "values": answer.values, "consent": answer.consent,
                "when": local(answer.answered_at, self.zone)}

    @staticmethod
    def _decorate(exchange: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        """An exchange of build_status with, per session, its attendance (the sheet's, else a
        coach's confirmation, as the planner reads them) and the exchange's answers."""
        sessions = [{**s, "attendance": extra["sheet"].get(s["code"]) or extra["confirmed"].get(s["code"]) or ""}
                    for s in exchange["sessions"]]
        return {**exchange, "sessions": sessions, "answers": extra["answers"].get(exchange["code"], [])}

    # -- personal links --------------------------------------------------------------------

    def bind(self, db: Session, link: Link) -> Bound | None:
        """The link's exchange and person, if the link still speaks of someone who belongs to
        that exchange in that role; None otherwise (shown as an invalid link)."""
        exchange = db.get(Exchange, link.exchange)
        if exchange is None or exchange.switcher_id in erased_people(db):
            return None  # nothing more is asked or kept about an erased switcher's exchange
        switcher = exchange.switcher
        if link.purpose == "attendance" and link.role != "coach" or link.purpose == "reflection" and link.role != "switcher":
            return None
        if link.purpose == ACTION_PLAN and link.role not in ("switcher", "coach"):
            return None
        if link.role in ("switcher", "coach"):
            person = db.get(Person, link.subject)
            belongs = person is not None and (link.subject == switcher.id if link.role == "switcher" else link.subject in exchange.coach_ids)
            return Bound(link, exchange, person.full_name, person.language) if belongs and person is not None else None
        if link.role == "employer" and switcher.manager and link.subject == switcher.manager:
            # the switcher's line manager, invited to the evaluation for the sending employer
            manager = db.get(Person, link.subject)
            return Bound(link, exchange, manager.full_name, manager.language) if manager is not None else None
        organisation_id = switcher.organisation_id if link.role == "employer" else exchange.learning_place.organisation_id
        organisation = self.config.organisation(organisation_id)
        prefix = "hr" if link.role == "employer" else "host"
        if organisation is None or link.subject != f"{prefix}:{organisation_id}":
            return None
        return Bound(link, exchange, organisation.name, organisation.language.value)

    def days(self, db: Session, bound: Bound) -> list[SessionRow]:
        """The exchange days a link may answer about: past, not removed; only its own when it names one."""
        rows = db.scalars(select(SessionRow).where(SessionRow.exchange_code == bound.exchange.code, SessionRow.kind == EXCHANGE_DAY,
                                                   SessionRow.removed.is_(False)).order_by(SessionRow.start))
        return [s for s in rows if s.start <= self.clock() and (not bound.link.session or s.code == bound.link.session)]

    def questions(self, bound: Bound) -> tuple[Question, ...]:
        if bound.link.purpose == ACTION_PLAN:
            return PLAN_QUESTIONS
        return EVALUATION[bound.link.role] if bound.link.purpose == "evaluation" else REFLECTION

    async def link_page(self, request: Request) -> Response:
        return await self._link(request, None)

    async def link_answer(self, request: Request) -> Response:
        return await self._link(request, dict((k, str(v)) for k, v in (await request.form()).items()))

    async def _link(self, request: Request, form: dict[str, str] | None) -> Response:
        fallback = negotiate(request.headers.get("accept-language"))
        address = f"ip:{self.client(request)}"
        if self.link_failures.blocked(address):
            return self.message(request, fallback, "web.error.throttled", 429)
        try:
            link = read_link(self.web.keys(), request.path_params["token"], self.clock())
        except LinkError as error:
            self.link_failures.hit(address)
            return self.message(request, fallback, f"web.error.link_{error.reason}", 410 if error.reason == "expired" else 404)
        with self.sessions() as db:
            bound = self.bind(db, link)
            if bound is None:
                self.link_failures.hit(address)
                return self.message(request, fallback, "web.error.link_invalid", 404)
            if form is None:
                return self._form(request, db, bound)
            if not csrf_valid(request.session, form.get("csrf")):
                return self.message(request, bound.language, "web.error.csrf", 403)
            if self.link_posts.blocked(address):
                return self.message(request, bound.language, "web.error.throttled", 429)
            self.link_posts.hit(address)
            return self._store(request, db, bound, form)

    def _form(self, request: Request, db: Session, bound: Bound, problems: dict[str, str] | None = None,
              sent: dict[str, str] | None = None, status: int = 200) -> Response:
        if bound.link.purpose == ACTION_PLAN:
            return self._plan_form(request, db, bound, problems, sent, status)
        evaluation = bound.link.purpose == "evaluation"
        days = self.days(db, bound) if not evaluation else []
        if sent is None:
            chosen = bound.link.session if evaluation else bound.link.session or (days[-1].code if days else "")
            earlier = find_answer(db, AnswerKey(bound.link.subject, bound.exchange.code, bound.link.purpose, chosen))
            sent = {"session": chosen, **{k: str(v) for k, v in (earlier.values if earlier else {}).items()},
                    "consent": "yes" if earlier is not None and earlier.consent else ""}
        return self.page(request, "link.html", bound.language, status, bound=bound, purpose=bound.link.purpose,
                         questions=self.questions(bound) if bound.link.purpose != "attendance" else (),
                         days=[{"code": d.code, "label": local(d.start, self.zone)} for d in days],
                         attendance_values=ATTENDANCE_VALUES, problems=problems or {}, sent=sent,
                         moment=self._moment(db, bound) if evaluation else None,
                         place=bound.exchange.learning_place.name, switcher=bound.exchange.switcher.full_name)

    def _moment(self, db: Session, bound: Bound) -> str | None:
        """Which evaluation moment a link is about, in its reader's language: "Evaluatie, 2
        maanden na de uitwisseling" for a reminder (<exchange>-EVAL-<offset>), the session's
        kind and time for an evaluation session of the cohort sheet; None for a link without one."""
        code = bound.link.session
        prefix = f"{bound.exchange.code}-EVAL-"
        if code.startswith(prefix):
            try:
                offset = Offset.parse(code[len(prefix):].lower())
            except ValueError:
                return None
            return text(bound.language, "kind.reminder", after=offset_label(bound.language, offset))
        session = db.get(SessionRow, code) if code else None
        if session is None or session.exchange_code != bound.exchange.code:
            return None
        return f"{text(bound.language, 'kind.evaluation')}, {local(session.start, self.zone)}"

    def _store(self, request: Request, db: Session, bound: Bound, form: dict[str, str]) -> Response:
        if bound.link.purpose == ACTION_PLAN:
            return self._plan_store(request, db, bound, form)
        purpose, session_code = bound.link.purpose, bound.link.session  # an evaluation: its moment's, one answer each
        problems: dict[str, str] = {}
        if purpose != "evaluation":
            session_code = form.get("session", "")
            if session_code not in {d.code for d in self.days(db, bound)}:
                problems["session"] = "session"
        if purpose == "attendance":
            values: dict[str, Any] = {"attendance": form.get("attendance", "")}
            if values["attendance"] not in ATTENDANCE_VALUES:
                problems["attendance"] = "required"
        else:
            values, found = validate(self.questions(bound), form)
            problems.update(found)
        consent = purpose == "reflection" and form.get("consent") == "yes"
        if consent and "learned" not in problems and unprintable(str(values.get("learned", ""))):
            problems["learned"] = "unprintable"  # the leerbewijs would print boxes in place of what they wrote
        if problems:
            return self._form(request, db, bound, problems, form, 400)
        key = AnswerKey(bound.link.subject, bound.exchange.code, purpose, session_code)
        save_answer(db, key, bound.link.role, values, bound.language, self.clock(), consent)
        db.commit()
        return self.page(request, "thanks.html", bound.language, bound=bound)

    # -- the learning action plan --------------------------------------------------------

    def _plan_form(self, request: Request, db: Session, bound: Bound, problems: dict[str, str] | None = None,
                   sent: dict[str, str] | None = None, status: int = 200) -> Response:
        """The exchange's one action plan: its latest version filled in (or what was just sent,
        when it did not pass), with who saved it and when. The form remembers the version it
        was opened on, so a save over someone else's newer version is caught."""
        latest = latest_plan(db, bound.exchange.code)
        if sent is None:
            sent = {k: str(v) for k, v in (latest.values if latest else {}).items()}
            sent["version"] = latest.session_code if latest else ""
        changed = None
        if latest is not None:
            person = db.get(Person, latest.subject)
            changed = {"name": person.full_name if person is not None else "–", "when": local(latest.answered_at, self.zone),
                       "version": latest.session_code}
        return self.page(request, "link.html", bound.language, status, bound=bound, purpose=ACTION_PLAN,
                         questions=PLAN_QUESTIONS, days=[], attendance_values=(), problems=problems or {}, sent=sent,
                         changed=changed, latest=latest.values if latest else {},
                         place=bound.exchange.learning_place.name, switcher=bound.exchange.switcher.full_name)

    def _plan_store(self, request: Request, db: Session, bound: Bound, form: dict[str, str]) -> Response:
        values, problems = validate(PLAN_QUESTIONS, form)
        # Until this commits, another save of the plan waits here, then finds this version the
        # newest and is told so (409) rather than saving the same version number (a unique violation).
        lock_plan(db, bound.exchange.code)
        latest = latest_plan(db, bound.exchange.code)
        if latest is not None and form.get("version", "") != latest.session_code and latest.values != values:
            problems["version"] = "changed_meanwhile"  # someone saved a newer version since this form was opened
        if "version" in problems:
            # what they wrote stays in the form, now on the newest version: sending it again saves over that one
            return self._plan_form(request, db, bound, problems, {**form, "version": latest.session_code if latest else ""}, 409)
        if problems:
            return self._plan_form(request, db, bound, problems, form, 400)
        save_plan(db, bound.link.subject, bound.exchange.code, bound.link.role, values, bound.language, self.clock())
        db.commit()
        return self.page(request, "thanks.html", bound.language, bound=bound)

    async def stylesheet(self, request: Request) -> Response:
        return FileResponse(HERE / "static" / "app.css", media_type="text/css")


def create_app(config: Config, engine: Engine, clock: Callable[[], datetime] | None = None, https_only: bool = True) -> Starlette:
    """The ASGI application for `config` on the store behind `engine`.

    `https_only` marks the session cookie Secure (the default: serve runs behind TLS; tests
    speak to https://testserver). Raises ConfigError when [web] or its session secret is missing."""
    web = WebApp(config, engine, clock)
    if web.web.session_secret is None:
        raise ConfigError(["[web] session_secret is not set: give it as ${NAME} from the environment or the secrets file"])
    routes = [
        Route("/", web.overview),
        Route("/login", web.login_form, methods=["GET"]),
        Route("/login", web.login, methods=["POST"]),
        Route("/logout", web.logout, methods=["POST"]),
        Route("/l/{token}", web.link_page, methods=["GET"]),
        Route("/l/{token}", web.link_answer, methods=["POST"]),
        Route("/static/app.css", web.stylesheet),
        Route("/answers.csv", web.answers_export, methods=["GET"]),
        Route("/answers.xlsx", web.answers_export, methods=["GET"]),
    ]
    if web.entra is not None:
        routes += [Route("/login/entra", web.entra_begin, methods=["GET"]), Route(CALLBACK, web.entra_callback, methods=["GET"])]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(SessionMiddleware, secret_key=web.web.session_secret.get_secret_value(), session_cookie="st_session",
                   max_age=web.web.session_minutes * 60, same_site="lax", https_only=https_only),
    ]
    return Starlette(routes=routes, middleware=middleware)
