"""The configuration: one ST-partner, its network of organisations, their sources and targets.

Secrets never live in the file itself: any string may be a `${NAME}` reference, resolved
from the environment first and then from the secrets file (`[secrets] file = ...` or the
ST_SECRETS_FILE variable). Relative paths are relative to the configuration file.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from connector.core.errors import ConfigError
from connector.core.model import Email, Language
from connector.core.suggest import did_you_mean, known

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Partner(_Strict):
    """The ST-partner: who organises the cohort and issues the leerbewijzen."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str
    organiser_email: Email
    organiser_name: str | None = None
    issuer_name: str | None = None
    website: str | None = None
    timezone: str = "Europe/Brussels"
    language: Language = Language.nl
    uid_domain: str | None = None
    all_day_exchange_days: bool = False  # exchange days as all-day events rather than timed ones

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}'") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def uid_host(self) -> str:
        return self.uid_domain or self.organiser_email.split("@", 1)[1]

    @property
    def issuer_url(self) -> str:
        """The issuer's identity in credentials: its website, or its mail domain's."""
        return (self.website or f"https://{self.uid_host}").rstrip("/")


class SourceConfig(BaseModel):
    """One source instance. Adapter-specific options (path, URL, credentials) stay in `options`."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$")
    kind: str
    mapping: str | None = None
    entities: list[str] = Field(default_factory=list)
    authoritative: bool = True

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class TargetConfig(BaseModel):
    """One write-back target of an organisation (where its exchange days land as training)."""

    model_config = ConfigDict(extra="allow")

    kind: str
    name: str | None = None

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class OrganisationConfig(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    name: str
    enterprise_number: str | None = Field(default=None, pattern=r"^[01]\d{3}\.\d{3}\.\d{3}$")
    average_workforce: float | None = Field(default=None, ge=0)
    training_days: float | None = Field(default=None, ge=0, le=20, description="sector agreement override")
    hours_per_training_day: float | None = Field(default=None, gt=0, le=12)
    informal_hour_cost: float | None = Field(default=None, ge=0, le=500)  # EUR per training hour (wage + social charges), social balance sheet
    joint_committee: str | None = None
    address: str | None = None
    language: Language = Language.nl
    invitations: Literal["files", "msgraph", "imip"] = "files"
    invitation_overrides: dict[str, Literal["files", "msgraph", "imip"]] = Field(default_factory=dict)  # work e-mail -> channel
    hr_email: Email | None = None  # the HR contact, optional attendee when [channels.msgraph] invite_hr
    sources: list[SourceConfig] = Field(default_factory=list)
    writeback: list[TargetConfig] = Field(default_factory=list)
    precedence: dict[str, list[str]] = Field(default_factory=dict)
    # Which past exchange days count as training (written back, on the leerbewijs, in the account):
    # "not_declined" every day not marked absent and not declined in the calendar; "confirmed" only
    # days marked attended; "planned" every planned day not marked absent. A day marked absent never counts.
    writeback_days: Literal["not_declined", "confirmed", "planned"] = "not_declined"
    # What a switcher's line manager (Person.manager, from the people sources) hears of their
    # exchanges: "inform" a short message when one is confirmed, moved or cancelled; "invite_intro"
    # an invitation to the intro call; "none" nothing. With either of the first two the manager is
    # also an optional attendee of the evaluation moments (the sending employer evaluates).
    manager_policy: Literal["inform", "invite_intro", "none"] = "none"
    # Hosting is learning too (the method): true gives this organisation's coaches, per exchange they
    # coached that happened, a leerbewijs of their own and an informal training record per day that
    # counts, written to this organisation's write-back targets like its switchers' records.
    coach_learning: bool = False

    @model_validator(mode="after")
    def _names_unique_and_known(self) -> OrganisationConfig:
        names = [s.name for s in self.sources]
        if len(names) != len(set(names)):
            raise ValueError(f"source names must be unique within organisation '{self.id}'")
        for field, order in self.precedence.items():
            unknown = [n for n in order if n not in names]
            if unknown:
                raise ValueError(f"precedence.{field} names unknown source(s) {unknown}")
        return self


SUPPORTED_STORES = ("sqlite", "postgresql")


class StoreConfig(_Strict):
    url: str = "sqlite:///state/connector.db"

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        """A URL SQLAlchemy can parse, of a database the store is built and tested for."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            backend = make_url(value).get_backend_name()
        except (ArgumentError, ValueError):
            raise ValueError("is not a database URL; write sqlite:///state/connector.db or "
                             "postgresql+psycopg://user:${ST_DB_PASSWORD}@host:5432/db") from None
        if backend not in SUPPORTED_STORES:
            raise ValueError(f"'{backend}' is not a supported store; use SQLite (sqlite:///...) or PostgreSQL "
                             "(postgresql+psycopg://...)")
        return value


class OutputConfig(_Strict):
    directory: str = "out"


class PathsConfig(_Strict):
    """Where the connector keeps what it makes: personal data and private keys, never next to
    the configuration when that lives in a read-only /etc. Relative paths are taken from the
    configuration file's folder; `state` then moves the store, keys and outputs together."""

    state: str | None = None  # e.g. /var/lib/st-connector: the base for relative store, keys and outputs
    store: str | None = None  # the SQLite file, instead of [store] url
    keys: str | None = None  # instead of [signing] keys_dir
    outputs: str | None = None  # instead of [output] directory


class ScheduleConfig(_Strict):
    time: str = Field(default="02:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class GuardsConfig(_Strict):
    """When a pull looks wrong rather than like news: a truncated export, a wrong file."""

    max_removed_share: float = Field(default=0.2, ge=0, le=1, description="share of a source's records one pull may remove")
    always_allowed_removals: int = Field(default=2, ge=0, description="removals never refused (people leave small employers too)")


class RetentionConfig(_Strict):
    """How long personal data the store no longer needs is kept (connector/store/retention.py);
    applied at the end of every sync. None: kept."""

    raw_payload_days: int | None = Field(default=None, ge=0, le=36500)  # raw source payloads, once unchanged that long
    finished_cohort_days: int | None = Field(default=None, ge=0, le=36500)  # after an exchange's last session


class SyncConfig(_Strict):
    """How a sync runs its pulls."""

    # Organisations' sources are read this many at a time (their APIs are independent; the
    # work is waiting on the network). What they deliver is still stored one source at a
    # time in the configured order, in the run's one transaction.
    concurrency: int = Field(default=4, ge=1, le=64)


class ReconcileConfig(_Strict):
    match_on: list[str] = Field(default_factory=lambda: ["employee_number", "email"])

    @field_validator("match_on")
    @classmethod
    def _known_keys(cls, value: list[str]) -> list[str]:
        unknown = set(value) - {"employee_number", "email"}
        if unknown or not value:
            raise ValueError("match_on takes employee_number and/or email")
        return value


class TenantConfig(_Strict):
    """A Microsoft 365 tenant the connector signs in to (app registration, client credentials).
    An ST-partner usually connects its own tenant and several employers' tenants."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,40}$")
    tenant_id: str = Field(min_length=1)
    client_id: str = Field(min_length=1)
    client_secret: SecretStr | None = None
    certificate_path: str | None = None
    certificate_thumbprint: str | None = None
    authority_host: str = "https://login.microsoftonline.com"  # national clouds: login.microsoftonline.us, login.chinacloudapi.cn
    graph_url: str = "https://graph.microsoft.com/v1.0"
    ca_bundle: str | None = None  # a CA file for TLS-inspecting proxies (and the test server)
    max_concurrency: int = Field(default=4, ge=1, le=16)

    @model_validator(mode="after")
    def _one_credential(self) -> TenantConfig:
        has_secret = self.client_secret is not None and self.client_secret.get_secret_value() != ""
        has_certificate = bool(self.certificate_path and self.certificate_thumbprint)
        if has_secret == has_certificate:
            raise ValueError("give either client_secret or certificate_path with certificate_thumbprint")
        return self


class GraphChannelConfig(_Strict):
    """Invitations sent by Exchange from the ST-partner's project mailbox (Microsoft Graph)."""

    tenant: str
    mailbox: Email | None = None  # default: partner.organiser_email
    invite_hr: bool = False


class ImipRepliesConfig(_Strict):
    """The organizer's mailbox, read over IMAP (RFC 9051) for the attendees' iTIP REPLYs (RFC 6047).
    Opened read-only unless `mark_seen`; nothing is ever deleted, moved or flagged otherwise."""

    host: str
    port: int | None = Field(default=None, ge=1, le=65535)  # default 993, or 143 with starttls / none
    security: Literal["tls", "starttls", "none"] = "tls"
    username: str
    password: SecretStr | None = None
    folder: str = "INBOX"
    mark_seen: bool = False  # mark the REPLYs that were read as seen (the folder is then opened read-write)
    verify_tls: bool = True
    ca_bundle: str | None = None
    timeout: float = Field(default=30, gt=0, le=300)


class ImipChannelConfig(_Strict):
    """Invitations as iMIP e-mail (RFC 6047): any calendar program understands them."""

    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: Email | None = None  # default: partner.organiser_email
    verify_tls: bool = True
    ca_bundle: str | None = None
    timeout: float = Field(default=30, gt=0, le=300)
    replies: ImipRepliesConfig | None = None  # [channels.imip.replies]: read the answers from this mailbox


class ChannelsConfig(_Strict):
    msgraph: GraphChannelConfig | None = None
    imip: ImipChannelConfig | None = None


class RemindersConfig(_Strict):
    """Evaluation moments after the last exchange day, as short calendar items."""

    enabled: bool = True
    offsets: list[str] = Field(default_factory=lambda: ["1w", "2m", "6m"])
    time: str = Field(default="10:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    minutes: int = Field(default=15, ge=5, le=120)
    invite_hr: bool = True  # the hr_email of the sending employer and of the host joins
    format: Literal["calendar", "email"] = "calendar"  # email: people invited by iMIP get a plain e-mail instead

    @field_validator("offsets")
    @classmethod
    def _offsets(cls, value: list[str]) -> list[str]:
        from connector.core.reminders import Offset

        for text in value:
            Offset.parse(text)
        return value


class CaldavConfig(_Strict):
    """A cohort calendar on a CalDAV server: a copy of every session, not an invitation."""

    url: str = Field(pattern=r"^https?://")  # the calendar collection, e.g. https://dav.example.be/cohort/2026/
    username: str | None = None
    password: SecretStr | None = None
    on_cancel: Literal["status", "delete"] = "status"  # keep it marked CANCELLED, or remove it
    verify_tls: bool = True
    ca_bundle: str | None = None


class AlertsConfig(_Strict):
    """Who hears of a sync that ended partial or failed, by e-mail through [channels.imip]'s
    SMTP server. The exit code still says it to cron or systemd (1 partial, 3 failed)."""

    email: list[Email] = Field(default_factory=list)


class SecretsConfig(_Strict):
    file: str | None = None


class SigningConfig(_Strict):
    """Where the issuer's keys live (files, never the store) and what a credential may say."""

    keys_dir: str = "keys"
    passphrase: SecretStr | None = None  # encrypts the private key files; from ${ST_SIGNING_PASSPHRASE} or so
    # The current generation's private keys as PEM text instead of files, e.g. "${ST_CREDENTIAL_KEY}"
    # where a platform hands secrets in the environment; keyring.json stays in keys_dir.
    credential_key: SecretStr | None = None
    pdf_key: SecretStr | None = None
    learner_name_in_credential: bool = False  # the credential identifies the learner by a salted e-mail hash only
    # Where verifiers fetch the revocation list (status-list.jwt in keys_dir); default
    # <website or https://mail domain>/leerbewijs/status/1. Frozen into each leerbewijs when issued.
    status_list_url: str | None = Field(default=None, pattern=r"^https?://")
    # Where verifiers fetch the public keys: `keys publish` writes <kid>.json (one JWK each) and
    # jwks.json to host here; each credential's JOSE `kid` is <keys_url>/<kid>.json.
    # Default <website or https://mail domain>/leerbewijs/keys.
    keys_url: str | None = Field(default=None, pattern=r"^https://")
    # An RFC 3161 time-stamping authority: every PDF signature gets its timestamp (PAdES B-T),
    # so the signing time is not only the issuer's clock. None: no timestamp (verify says so).
    tsa_url: str | None = Field(default=None, pattern=r"^https?://")
    # The European Digital Credential (EDC) beside every leerbewijs, sealed as JAdES with the
    # partner's seal certificate: a PKCS#12 file, or PEM with the chain (and the key, or seal_key
    # as PEM text); its password from the environment. Unset: the self-signed PDF certificate.
    edc: bool = True
    seal_certificate: str | None = None
    seal_password: SecretStr | None = None
    seal_key: SecretStr | None = None


class TextsConfig(_Strict):
    """The partner's own wording: a folder of .po catalogs whose messages replace the bundled ones."""

    catalog_dir: str | None = None  # holding <lang>.po or <lang>/LC_MESSAGES/connector.po; relative to this file


class MatchingWeights(_Strict):
    """How much each soft criterion (a score from 0 to 1) counts in a candidate's total score."""

    content: float = Field(default=5.0, ge=0)      # BM25 text relevance and shared keywords
    preference: float = Field(default=3.0, ge=0)   # the switcher's top 3 (rank 1 scores 1, rank 3 scores 1/3)
    reciprocity: float = Field(default=1.0, ge=0)  # organisations that host more than they send are served first
    sectors: float = Field(default=1.0, ge=0)      # crossing sectors (joint committee or the Sector column)
    distance: float = Field(default=1.0, ge=0)     # closer is better, 0 at max_distance_km
    size: float = Field(default=0.5, ge=0)         # similar organisation size
    staff: float = Field(default=0.5, ge=0)        # the same staff composition (white/blue collar)


class MatchingConfig(_Strict):
    """`st-connector match`: the weights, the hard limits and what a suggested plan looks like."""

    weights: MatchingWeights = Field(default_factory=MatchingWeights)
    max_distance_km: float | None = Field(default=60.0, gt=0)  # a hard limit when both ends have a postcode; unset: none
    exchange_hours: float = Field(default=14.0, gt=0, le=80)  # hours on the work floor in total (VBJK-VCOK: at least 14)
    hours_per_day: float = Field(default=7.0, gt=0, le=10)
    day_start: str = Field(default="08:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    intro_time: str = Field(default="10:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    intro_minutes: int = Field(default=20, ge=5, le=120)
    intro_days_before: int = Field(default=7, ge=1, le=60)  # the intro call at least this many days before day 1
    lead_days: int = Field(default=14, ge=0, le=365)  # without a wished period: the first day no sooner than this
    horizon_days: int = Field(default=120, ge=7, le=730)  # without a wished period: look this far ahead
    free_busy: bool = True  # read Microsoft 365 calendars (getSchedule) of organisations invited through msgraph


class WebAccount(_Strict):
    """One coordinator who may sign in to `st-connector serve`: with a password, of which only
    the hash is configured (argon2id, PHC string as `st-connector web hash-password` prints
    it), and/or through [web.entra] as one of `entra_users` (their sign-in name, the ID token's
    preferred_username, or their object id, oid) or a member of one of `entra_groups` (group
    object ids, the ID token's groups claim)."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._@-]+$")
    password_hash: SecretStr | None = None  # "$argon2id$v=19$m=...": never the password itself; none: Entra ID only
    language: Language | None = None  # nl | fr | en; unset: the browser's Accept-Language
    organisations: list[str] = Field(default_factory=list)  # empty: every organisation
    entra_users: list[str] = Field(default_factory=list)
    entra_groups: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some_way_in(self) -> WebAccount:
        if self.password_hash is None and not self.entra_users and not self.entra_groups:
            raise ValueError(f"account '{self.name}' has neither a password_hash nor entra_users or entra_groups: nobody could use it")
        return self


class WebEntra(_Strict):
    """Signing in to the overview with the organisation's Entra ID (OpenID Connect, the
    authorization code flow with PKCE, through msal). The app registration is a web app with
    the redirect URI `<[web] base_url>/login/entra/callback` and a client secret; for
    `entra_groups` its token configuration adds the groups claim to the ID token."""

    tenant_id: str = Field(min_length=1)  # the directory (tenant) id: a GUID, or its verified domain
    client_id: str = Field(min_length=1)  # the application (client) id
    client_secret: SecretStr  # ${NAME} from the environment or the secrets file
    authority_host: str = "https://login.microsoftonline.com"  # national clouds: login.microsoftonline.us, login.chinacloudapi.cn
    ca_bundle: str | None = None  # PEM file of certificate authorities to trust instead of the system's (a TLS-inspecting proxy)


class WebConfig(_Strict):
    """`st-connector serve`: the coordinator overview and the personal links.

    base_url is where people reach it through the reverse proxy (https; links in reminders
    start with it). session_secret signs the login cookie; link_keys sign personal links, the
    first signs and all verify (rotate by putting a new one first). Both come from the
    environment or the secrets file as ${NAME} references: never write them here."""

    base_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    host: str = "127.0.0.1"  # the bind address: behind a reverse proxy, loopback
    port: int = Field(default=8080, ge=1, le=65535)
    session_secret: SecretStr | None = None
    link_keys: list[SecretStr] = Field(default_factory=list)
    link_days: int = Field(default=60, ge=1, le=400)  # how long a link in a reminder opens, after its moment
    session_minutes: int = Field(default=480, ge=5, le=10080)  # a login lasts this long
    login_attempts: int = Field(default=5, ge=1, le=100)  # failed logins per account and per address in 15 minutes
    accounts: list[WebAccount] = Field(default_factory=list)
    entra: WebEntra | None = None

    @model_validator(mode="after")
    def _entra_needs_its_parts(self) -> WebConfig:
        named = [a.name for a in self.accounts if a.entra_users or a.entra_groups]
        if named and self.entra is None:
            raise ValueError(f"accounts {', '.join(named)} name Entra ID users or groups, but [web.entra] is missing")
        if self.entra is not None and self.base_url is None:
            raise ValueError("[web.entra] needs [web] base_url: the sign-in returns to <base_url>/login/entra/callback")
        return self

    @field_validator("session_secret")
    @classmethod
    def _long_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and _short_secret(value):
            raise ValueError("session_secret must be at least 32 bytes (e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
        return value

    @field_validator("link_keys")
    @classmethod
    def _long_keys(cls, value: list[SecretStr]) -> list[SecretStr]:
        if any(_short_secret(key) for key in value):
            raise ValueError("every link key must be at least 32 bytes (e.g. python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
        return value

    def keys(self) -> list[str]:
        """The link keys as text, newest first (see connector.core.links)."""
        return [key.get_secret_value() for key in self.link_keys]


class CohortConfig(_Strict):
    """Deadline reminders of the cohort's phases (README, "The cohort: phases, deadlines and group moments")."""

    deadline_reminders: bool = True
    lead_days: int = Field(default=14, ge=1, le=120)  # the reminder goes out this many days before the deadline
    time: str = Field(default="09:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")  # its calendar item on the deadline day
    minutes: int = Field(default=15, ge=5, le=120)


class Config(_Strict):
    partner: Partner
    store: StoreConfig = Field(default_factory=StoreConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    paths: PathsConfig = Field(default_factory=PathsConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    reconcile: ReconcileConfig = Field(default_factory=ReconcileConfig)
    guards: GuardsConfig = Field(default_factory=GuardsConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    secrets: SecretsConfig = Field(default_factory=SecretsConfig)
    signing: SigningConfig = Field(default_factory=SigningConfig)
    texts: TextsConfig = Field(default_factory=TextsConfig)
    tenants: list[TenantConfig] = Field(default_factory=list)
    channels: ChannelsConfig = Field(default_factory=ChannelsConfig)
    reminders: RemindersConfig = Field(default_factory=RemindersConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    caldav: CaldavConfig | None = None
    matching: MatchingConfig = Field(default_factory=MatchingConfig)
    sources: list[SourceConfig] = Field(default_factory=list, description="the ST-partner's cohort sources")
    organisations: list[OrganisationConfig]
    web: WebConfig | None = None
    base_dir: Path = Path(".")
    cohort: CohortConfig = Field(default_factory=lambda: CohortConfig())
    sync: SyncConfig = Field(default_factory=SyncConfig)

    @model_validator(mode="after")
    def _organisation_ids_unique(self) -> Config:
        ids = [o.id for o in self.organisations]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"organisation ids must be unique; repeated: {duplicates}")
        names = [t.name for t in self.tenants]
        if len(names) != len(set(names)):
            raise ValueError("tenant names must be unique")
        for channel in ("msgraph", "imip"):
            routed = [o.id for o in self.organisations if o.invitations == channel or channel in o.invitation_overrides.values()]
            if routed and getattr(self.channels, channel) is None:
                raise ValueError(f"organisations {routed} invite people through {channel}, but [channels.{channel}] is missing")
        if self.alerts.email and self.channels.imip is None:
            raise ValueError("[alerts] email is sent through the SMTP server of [channels.imip], which is missing")
        if self.channels.msgraph is not None and self.channels.msgraph.tenant not in names:
            raise ValueError(f"[channels.msgraph] names tenant '{self.channels.msgraph.tenant}', which no [[tenants]] block defines")
        return self

    @model_validator(mode="after")
    def _place_state(self) -> Config:
        """[paths] rewritten into the sections that hold each path, as absolute paths, so that
        every reader of [store], [signing] and [output] finds the state where [paths] put it."""
        paths = self.paths
        base = self.path(paths.state) if paths.state else self.base_dir
        clashes = [f"[paths] {name} and [{section}] {key}" for name, section, key, given in (
            ("store", "store", "url", paths.store and "url" in self.store.model_fields_set),
            ("keys", "signing", "keys_dir", paths.keys and "keys_dir" in self.signing.model_fields_set),
            ("outputs", "output", "directory", paths.outputs and "directory" in self.output.model_fields_set)) if given]
        if clashes:
            raise ValueError(f"{', '.join(clashes)} both say where one thing lives: keep one")
        if paths.store is not None:
            self.store.url = "sqlite:///" + str(base / paths.store)
        elif paths.state and self.store.url.startswith("sqlite:///") and not self.store.url.startswith("sqlite:////") \
                and self.store.url != "sqlite:///:memory:":
            self.store.url = "sqlite:///" + str(base / self.store.url[len("sqlite:///"):])
        if paths.state or paths.keys:
            self.signing.keys_dir = str(base / (paths.keys or self.signing.keys_dir))
        if paths.state or paths.outputs:
            self.output.directory = str(base / (paths.outputs or self.output.directory))
        return self

    def path(self, value: str | Path) -> Path:
        path = Path(value)
        return path if path.is_absolute() else (self.base_dir / path)

    @property
    def output_dir(self) -> Path:
        return self.path(self.output.directory)

    @property
    def catalog_dir(self) -> Path | None:
        """The partner's override catalogs ([texts] catalog_dir), if any."""
        return self.path(self.texts.catalog_dir) if self.texts.catalog_dir else None

    @property
    def store_url(self) -> str:
        """SQLite paths are taken relative to the configuration file, like every other path."""
        return self.anchored_store_url(self.store.url)

    def anchored_store_url(self, url: str) -> str:
        """A store URL whose SQLite path, when relative, is taken from the configuration's folder."""
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
            return prefix + str(self.path(url[len(prefix):]).resolve())
        return url

    def resolve_reference(self, value: str, where: str) -> str:
        """A value given outside the file (a command-line option), with `${NAME}` references
        resolved as the file's own are: the environment, then the secrets file."""
        environ = dict(os.environ)
        secrets = _read_secrets(self.base_dir, {"secrets": {"file": self.secrets.file}} if self.secrets.file else {}, environ)
        problems: list[str] = []
        resolved = _resolve_references(value, {**secrets, **environ}, problems, where)
        if problems:
            raise ConfigError(problems)
        return str(resolved)

    def tenant(self, name: str) -> TenantConfig | None:
        return next((t for t in self.tenants if t.name == name), None)

    def organisation(self, organisation_id: str) -> OrganisationConfig | None:
        return next((o for o in self.organisations if o.id == organisation_id), None)


def load_config(path: str | Path, environ: dict[str, str] | None = None) -> Config:
    """Read, resolve references and validate; every problem is reported at once."""
    path = Path(path)
    document = read_toml(path, "configuration file")
    environ = dict(os.environ if environ is None else environ)
    secrets = _read_secrets(path.parent, document, environ)
    problems: list[str] = []
    resolved = _resolve_references(document, {**secrets, **environ}, problems, "")
    try:
        config = Config.model_validate({**resolved, "base_dir": path.parent.resolve()})
    except ValidationError as error:
        problems.extend(f"{path}: {_location(e['loc'], resolved)}: {_in_words(e)}" for e in error.errors())
        raise ConfigError(problems) from None
    if problems:
        raise ConfigError([f"{path}: {p}" for p in problems])
    return config


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """A TOML file as a document; every way it can be unreadable is a ConfigError naming it.

    UTF-8 with or without a byte-order mark (Windows Notepad writes one); any other encoding
    is refused with the line of its first non-UTF-8 byte, since guessing would misspell names."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"{path}: {what} not found"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{path}: is a folder; name the {what} itself (e.g. {path / 'config.toml'})"]) from None
    except OSError as error:
        raise ConfigError([f"{path}: {what} cannot be read: {error.strerror or error}"]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ConfigError([f"{path}: line {line}: byte {data[error.start]:#04x} is not UTF-8; the {what} must be saved as "
                           "UTF-8 (it looks like Latin-1/Windows-1252: save it again as UTF-8)"]) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError([f"{path}: not valid TOML: {error}"]) from None


def _read_secrets(base: Path, document: dict[str, Any], environ: dict[str, str]) -> dict[str, str]:
    name = environ.get("ST_SECRETS_FILE") or document.get("secrets", {}).get("file")
    if not name:
        return {}
    secrets_path = Path(name) if Path(name).is_absolute() else base / name
    try:
        values = read_toml(secrets_path, "secrets file")
    except ConfigError as error:  # its messages name lines and bytes, never values
        raise ConfigError([f"secrets file unreadable: {p}" for p in error.problems]) from None
    return {str(k): str(v) for k, v in values.items()}


UNSET = "\x00"  # what an unset ${NAME} reads as while the configuration is checked (TOML text never holds it)


def _short_secret(value: SecretStr) -> bool:
    """Under 32 bytes; not said of an unset ${NAME}, which is reported as that alone."""
    secret = value.get_secret_value()
    return UNSET not in secret and len(secret.encode()) < 32


def _resolve_references(value: Any, variables: dict[str, str], problems: list[str], where: str) -> Any:
    if isinstance(value, dict):
        return {k: _resolve_references(v, variables, problems, f"{where}.{k}" if where else k) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_references(v, variables, problems, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str):
        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in variables:
                problems.append(f"{where}: ${{{name}}} is not set in the environment or the secrets file")
                return UNSET  # the load fails on that problem; a validator that sees UNSET need not say more
            return variables[name]

        return _REFERENCE.sub(substitute, value)
    return value


# What a pattern asks for, as a person would say it (pydantic would print the regular expression).
_PATTERN_WORDS = {
    r"^[a-z0-9][a-z0-9-]{1,62}$": "lower-case letters, digits and '-' only, at least two (e.g. leren-switchen)",
    r"^[a-z0-9][a-z0-9-]{0,62}$": "lower-case letters, digits and '-' only (e.g. brouwers-peeters)",
    r"^[a-z0-9][a-z0-9_-]{0,40}$": "lower-case letters, digits, '-' and '_' only, at most 41 (e.g. hr)",
    r"^[01]\d{3}\.\d{3}\.\d{3}$": "an enterprise number written 0123.456.789",
    r"^([01]\d|2[0-3]):[0-5]\d$": "a time written HH:MM, e.g. 02:30",
    r"^https?://": "an address starting with https:// (or http://)",
}


def _in_words(error: ErrorDetails) -> str:
    """Pydantic's message for one problem, said the way the person who wrote the file thinks
    of it: an unknown key with the closest valid one, a pattern as words, a missing key."""
    kind, loc = error["type"], error["loc"]
    if kind == "extra_forbidden":
        valid = _keys_at(Config, loc[:-1])
        hint = did_you_mean(str(loc[-1]), valid)
        return f"unknown setting{hint}" if hint else f"unknown setting{known(valid, 'valid here')}"
    if kind == "missing":
        return "required, but not given"
    if kind == "string_pattern_mismatch":
        words = _PATTERN_WORDS.get(str((error.get("ctx") or {}).get("pattern")))
        if words:
            return f"'{error['input']}' is not allowed here: {words}"
    return error["msg"]


def _keys_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys a table at `loc` may hold ([] where any key goes, like a source's options)."""
    current: type[BaseModel] | None = model
    for step in loc:
        if isinstance(step, int) or current is None:
            continue  # a list index: the list's item model was already taken
        field = current.model_fields.get(str(step))
        current = _model_in(field.annotation) if field is not None else None
    if current is None or current.model_config.get("extra") != "forbid":
        return []
    return [name for name in current.model_fields if name != "base_dir"]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model inside `X`, `X | None` or `list[X]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in get_args(annotation):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _location(loc: tuple[Any, ...], document: dict[str, Any]) -> str:
    """`organisations[1].sources[0].name`, with the organisation's id where there is one."""
    parts: list[str] = []
    node: Any = document
    for step in loc:
        if isinstance(step, int):
            label = f"[{step}]"
            if isinstance(node, list) and step < len(node) and isinstance(node[step], dict) and "id" in node[step]:
                label = f"[{step}] (id={node[step]['id']})"
            parts.append(label)
            node = node[step] if isinstance(node, list) and step < len(node) else None
        else:
            parts.append(f".{step}" if parts else str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return "".join(parts) or "(top level)"
