"""Signing in to the overview with the organisation's Entra ID ([web.entra]).

OpenID Connect's authorization code flow with PKCE (RFC 7636), driven by msal's
`ConfidentialClientApplication`: `initiate_auth_code_flow` makes the state, the nonce and the
code verifier and the address to send the browser to; the flow is kept in the signed session
cookie; `acquire_token_by_auth_code_flow` checks the returned `state` against it, redeems the
code (with the verifier and the client secret) and checks the ID token's nonce.

msal no longer validates the rest of the ID token (since 1.38: "validation is the
application's responsibility"), so `EntraSignIn.finish` does, as OpenID Connect Core 1.0
section 3.1.3.7 asks: the signature (RS256) with a key the tenant's discovery document names on
its `jwks_uri`, `iss` equal to the document's `issuer`, `aud` equal to the client id, and `exp`,
`iat`, `nbf`. Only then is the person matched to a configured account (`account_for`).

The answer comes back as a query (response_mode=query), not as the form_post msal recommends
(RFC 9700 section 4.3.1: a code in a URL may leak through Referer headers, logs or history):
a cross-site POST would not carry the SameSite=Lax session cookie that holds the flow. What
leaks is of no use alone: the code is redeemed once, only with the PKCE verifier that never
leaves the server and with the client secret; every page sends Referrer-Policy: no-referrer,
and `serve` keeps no access log.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jwt
import msal

from connector.core.config import WebAccount, WebConfig, WebEntra
from connector.plumbing.http import tls_verify
from connector.plumbing.msgraph import msal_http_client

CALLBACK = "/login/entra/callback"
# msal warns on every sign-in that asks response_mode=query: the choice is made above, once.
warnings.filterwarnings("ignore", message="response_mode='form_post' is recommended", category=UserWarning)
LEEWAY = 120  # seconds of clock difference allowed on exp, iat and nbf (msal's own skew)


class SignInRefused(Exception):
    """The sign-in did not prove who the person is: the reason, for the log (never shown)."""


class EntraSignIn:
    """One tenant's sign-in for the overview; the msal application is built on first use."""

    def __init__(self, entra: WebEntra, base_url: str, base_dir: Path) -> None:
        self.entra = entra
        self.redirect_uri = base_url.rstrip("/") + CALLBACK
        self.authority = f"{entra.authority_host.rstrip('/')}/{entra.tenant_id}"
        self.http = msal_http_client(tls_verify(base_dir, {"ca_bundle": entra.ca_bundle}))
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()

    def _application(self) -> msal.ConfidentialClientApplication:
        with self._lock:
            if self._app is None:
                self._app = msal.ConfidentialClientApplication(
                    self.entra.client_id, client_credential=self.entra.client_secret.get_secret_value(), authority=self.authority,
                    http_client=self.http, instance_discovery=self.entra.authority_host == "https://login.microsoftonline.com")
            return self._app

    def begin(self) -> dict[str, Any]:
        """A new flow: {"auth_uri": where to send the browser, "state", "nonce", "code_verifier",
        "redirect_uri", "scope", ...} (msal's shape). Raises OSError (requests' errors are OSErrors) or
        ValueError when the tenant's discovery document cannot be read."""
        return self._application().initiate_auth_code_flow(scopes=[], redirect_uri=self.redirect_uri, response_mode="query",
                                                           prompt="select_account")

    def finish(self, flow: Mapping[str, Any], answer: Mapping[str, str]) -> dict[str, Any]:
        """The ID token's claims once the code in `answer` (the callback's query) is redeemed
        and the token validated. Raises SignInRefused with the reason."""
        try:
            result = self._application().acquire_token_by_auth_code_flow(dict(flow), dict(answer))
        except (ValueError, RuntimeError, OSError) as error:  # msal: state or nonce mismatch; the tenant unreachable (requests: OSError)
            raise SignInRefused(f"{type(error).__name__}: {str(error)[:200]}") from None
        if "id_token" not in result:
            raise SignInRefused(f"{result.get('error', 'no ID token')}: {str(result.get('error_description', ''))[:200]}")
        return self.validated(result["id_token"])

    def validated(self, id_token: str) -> dict[str, Any]:
        """The claims of an ID token whose signature, issuer, audience and times hold."""
        try:
            document = self._get(f"{self.authority}/v2.0/.well-known/openid-configuration")
            keys = jwt.PyJWKSet.from_dict(self._get(document["jwks_uri"]))
            kid = jwt.get_unverified_header(id_token).get("kid")
            key = next((k for k in keys.keys if k.key_id == kid), None)
            if key is None:
                raise SignInRefused(f"the ID token's key {kid!r} is not on the tenant's jwks_uri")
            return jwt.decode(id_token, key, algorithms=["RS256"], audience=self.entra.client_id, issuer=document["issuer"],
                              leeway=LEEWAY, options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except (jwt.PyJWTError, OSError, KeyError, ValueError) as error:
            raise SignInRefused(f"{type(error).__name__}: {str(error)[:200]}") from None

    def _get(self, url: str) -> dict[str, Any]:
        response = self.http.get(url)
        response.raise_for_status()
        document: dict[str, Any] = response.json()
        return document


def account_for(web: WebConfig, claims: Mapping[str, Any]) -> WebAccount | None:
    """The first account whose `entra_users` name the person (preferred_username, compared
    without case, or oid) or whose `entra_groups` hold one of their groups; None: refused."""
    names = {str(claims.get("preferred_username", "")).casefold(), str(claims.get("oid", "")).casefold()} - {""}
    groups = {str(g).casefold() for g in claims.get("groups", []) if isinstance(g, str)}
    for account in web.accounts:
        if names & {u.casefold() for u in account.entra_users} or groups & {g.casefold() for g in account.entra_groups}:
            return account
    return None
