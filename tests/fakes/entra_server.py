"""A stand-in for the Microsoft identity platform's sign-in (v2.0 endpoints of one tenant), on
loopback HTTPS, shaped as Microsoft documents it (learn.microsoft.com: "OpenID Connect on the
Microsoft identity platform", "OAuth 2.0 authorization code flow", "ID token claims reference"):

- GET  /{tenant}/v2.0/.well-known/openid-configuration: the discovery document, with the
  tenant's issuer "<base>/{tenant}/v2.0" and its jwks_uri;
- GET  /{tenant}/discovery/v2.0/keys: {"keys": [{kty, use, kid, x5t, n, e, x5c, issuer}]};
- GET  /{tenant}/oauth2/v2.0/authorize: the person the test chose (`sign_in_as`) signs in;
  the request must carry the registered client and redirect_uri, response_type=code, the
  openid scope, a state, a nonce and an S256 code_challenge (else 400, AADSTS codes). Answers
  302 to redirect_uri?code=...&state=... (response_mode=query);
- POST /{tenant}/oauth2/v2.0/token, grant_type=authorization_code: the code once, within 10
  minutes, for the same redirect_uri, its PKCE verifier (RFC 7636 S256) and the client secret.
  Answers token_type, scope, expires_in, ext_expires_in, access_token, refresh_token (when
  offline_access was asked), id_token and client_info (when asked); errors as
  {"error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id"}.

The ID token is an RS256 JWT with the v2.0 claims (aud, iss, iat, nbf, exp, aio, name, nonce,
oid, preferred_username, rh, sid, sub, tid, uti, ver, and groups when the person has groups),
signed by the key on the jwks_uri. `mint` lets a test make a token that breaks one rule.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.fakes.tls import HttpsFake

TENANT = "3f8b1c2d-7e4a-4b9c-8d1e-2a6f0c9b5e73"
CLIENT_ID = "9a7d3e1f-2b4c-4d6e-8f0a-1c3e5a7b9d20"
CLIENT_SECRET = "fake-entra-web-secret"
CODE_LIFETIME = 600  # seconds


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Person:
    oid: str
    preferred_username: str
    name: str
    groups: list[str] = field(default_factory=list)


@dataclass
class _Code:
    person: Person
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    scope: list[str]
    issued: float


class _SigningKey:
    """An RSA key with a self-signed certificate, as Microsoft publishes its keys (x5c, x5t)."""

    def __init__(self, issuer: str) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = dt.datetime.now(dt.UTC)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.accesscontrol.windows.net")])
        self.certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.private.public_key())
                            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
                            .not_valid_after(now + dt.timedelta(days=30)).sign(self.private, hashes.SHA256()))
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        self.kid = b64url(hashlib.sha1(der).digest())  # noqa: S324 - x5t is the SHA-1 thumbprint (RFC 7517 4.8)
        numbers = self.private.public_key().public_numbers()
        self.jwk = {"kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid,
                    "n": b64url(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")), "e": b64url(numbers.e.to_bytes(3, "big")),
                    "x5c": [base64.b64encode(der).decode()], "issuer": issuer}
        self.pem = self.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


class FakeEntra(HttpsFake):
    def __init__(self, redirect_uri: str) -> None:
        self.redirect_uri = redirect_uri  # the app registration's one redirect URI
        self.person: Person | None = None
        self.codes: dict[str, _Code] = {}
        self.requests: list[str] = []
        self.token_requests: list[dict[str, str]] = []
        self.issued: list[str] = []  # the ID tokens, as sent
        self._lock = threading.Lock()
        self._serve(_handler(self))
        self.issuer = f"{self.base}/{TENANT}/v2.0"
        self.key = _SigningKey(self.issuer)
        self.minted: dict[str, Any] = {}  # claims or a key replacing the proper ones in the next ID token


    def toml(self, secret_variable: str = "ST_TEST_ENTRA_SECRET") -> str:
        return f"""
[web.entra]
tenant_id = "{TENANT}"
client_id = "{CLIENT_ID}"
client_secret = "${{{secret_variable}}}"
authority_host = "{self.base}"
ca_bundle = "{self.ca_file}"
"""

    def sign_in_as(self, person: Person) -> None:
        self.person = person

    def mint(self, **changes: Any) -> None:
        """The next ID token breaks a rule: claims replaced (aud=..., iss=...) or `key=` another
        _SigningKey than the one on the jwks_uri."""
        self.minted = changes

    # -- the endpoints -------------------------------------------------------------------

    def discovery(self) -> dict[str, Any]:
        tenant = f"{self.base}/{TENANT}"
        return {
            "token_endpoint": f"{tenant}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{tenant}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": self.issuer,
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "authorization_endpoint": f"{tenant}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{tenant}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{tenant}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host",
                                 "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash",
                                 "c_hash", "email"],
            "kerberos_endpoint": f"{tenant}/kerberos",
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        if query.get("client_id") != CLIENT_ID:
            return 400, {}, "AADSTS700016: Application not found in the directory."
        if query.get("redirect_uri") != self.redirect_uri:
            return 400, {}, "AADSTS50011: The redirect URI specified in the request does not match the redirect URIs configured for the application."
        missing = [name for name in ("response_type", "scope", "state", "nonce", "code_challenge") if not query.get(name)]
        if missing or query["response_type"] != "code" or "openid" not in query["scope"].split():
            return 400, {}, f"AADSTS900144: The request body must contain the following parameter: {missing or 'openid scope'}."
        if query.get("code_challenge_method") != "S256":
            return 400, {}, "AADSTS501491: Invalid code_challenge_method: only S256 is accepted here."
        if self.person is None:
            return 400, {}, "nobody signs in (the test chose no person)"
        code = secrets.token_urlsafe(48)
        with self._lock:
            self.codes[code] = _Code(self.person, CLIENT_ID, query["redirect_uri"], query["code_challenge"], query["nonce"],
                                     query["scope"].split(), time.time())
        location = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        return 302, {"Location": location}, None

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        self.token_requests.append(form)
        if form.get("grant_type") != "authorization_code":
            return 400, {}, _error("unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 401, {}, _error("invalid_client", 7000215, "Invalid client secret provided.")
        with self._lock:
            code = self.codes.pop(form.get("code", ""), None)
        if code is None or time.time() - code.issued > CODE_LIFETIME:
            return 400, {}, _error("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code.")
        if form.get("redirect_uri") != code.redirect_uri:
            return 400, {}, _error("invalid_grant", 50148, "The redirect_uri does not match the one of the authorization request.")
        verifier = form.get("code_verifier", "")
        if b64url(hashlib.sha256(verifier.encode("ascii")).digest()) != code.challenge:
            return 400, {}, _error("invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
        person = code.person
        now = int(time.time())
        claims = {"aud": CLIENT_ID, "iss": self.issuer, "iat": now, "nbf": now, "exp": now + 3600, "aio": b64url(secrets.token_bytes(24)),
                  "name": person.name, "nonce": code.nonce, "oid": person.oid, "preferred_username": person.preferred_username,
                  "rh": "0.A" + b64url(secrets.token_bytes(12)) + ".", "sid": str(uuid.uuid4()), "sub": b64url(hashlib.sha256(person.oid.encode()).digest()),
                  "tid": TENANT, "uti": b64url(secrets.token_bytes(16)), "ver": "2.0"}
        if person.groups:
            claims["groups"] = person.groups
        minted, self.minted = self.minted, {}
        key = minted.pop("key", self.key)
        claims.update(minted)
        id_token = jwt.encode(claims, key.pem, algorithm="RS256", headers={"typ": "JWT", "kid": key.kid})
        self.issued.append(id_token)
        body: dict[str, Any] = {"token_type": "Bearer", "scope": "openid profile email", "expires_in": 3599, "ext_expires_in": 3599,
                                "access_token": b64url(secrets.token_bytes(64)), "id_token": id_token}
        if "offline_access" in (form.get("scope") or "").split() or "offline_access" in code.scope:
            body["refresh_token"] = b64url(secrets.token_bytes(96))
        if form.get("client_info") == "1":
            body["client_info"] = b64url(json.dumps({"uid": person.oid, "utid": TENANT}).encode())
        return 200, {}, body

    def route(self, method: str, target: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(target)
        self.requests.append(f"{method} {parts.path}")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        prefix = f"/{TENANT}"
        if method == "GET" and parts.path == f"{prefix}/v2.0/.well-known/openid-configuration":
            return 200, {}, self.discovery()
        if method == "GET" and parts.path == f"{prefix}/discovery/v2.0/keys":
            return 200, {}, {"keys": [self.key.jwk]}
        if method == "GET" and parts.path == f"{prefix}/oauth2/v2.0/authorize":
            return self.authorize(query)
        if method == "POST" and parts.path == f"{prefix}/oauth2/v2.0/token":
            return self.token({k: v[0] for k, v in parse_qs(body.decode()).items()})
        return 404, {}, _error("invalid_request", 90002, f"Tenant or endpoint not found: {parts.path}")


def _error(error: str, code: int, description: str) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {"error": error, "error_description": f"AADSTS{code}: {description} Trace ID: {uuid.uuid4()} Correlation ID: {uuid.uuid4()} "
                                                  f"Timestamp: {now:%Y-%m-%d %H:%M:%SZ}",
            "error_codes": [code], "timestamp": f"{now:%Y-%m-%d %H:%M:%SZ}", "trace_id": str(uuid.uuid4()), "correlation_id": str(uuid.uuid4())}


def _handler(fake: FakeEntra) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, headers, body = fake.route(method, self.path, self.rfile.read(length) if length else b"")
            raw = b"" if body is None else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/plain; charset=utf-8" if isinstance(body, str) else "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._answer("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._answer("POST")

    return Handler
