"""Payloads shaped like Microsoft's documented responses.

- Tenant discovery and token: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
- Users delta: https://learn.microsoft.com/graph/delta-query-users (nextLink pages, a final
  deltaLink, `@removed` with reason "changed" or "deleted", updated users with changed properties)
- JSON batching: https://learn.microsoft.com/graph/json-batching
"""

from __future__ import annotations

from typing import Any

GRAPH = "https://graph.test.example/v1.0"
LOGIN = "https://login.test.example"
TENANT_ID = "8f3c2c7e-1b7a-4d3e-9b6f-5b8e2f0d1a22"


def openid_configuration(login: str = LOGIN, tenant: str = TENANT_ID) -> dict[str, Any]:
    return {
        "token_endpoint": f"{login}/{tenant}/oauth2/v2.0/token",
        "authorization_endpoint": f"{login}/{tenant}/oauth2/v2.0/authorize",
        "issuer": f"{login}/{tenant}/v2.0",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
    }


def token(value: str = "eyJ0eXAiOiJKV1QiLCJub25jZSI6ImFiYyJ9.fake.sig", expires_in: int = 3599) -> dict[str, Any]:
    return {"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in, "access_token": value}


def token_error() -> dict[str, Any]:
    return {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID. Trace ID: 0e1f",
            "error_codes": [7000215], "timestamp": "2026-11-22 22:00:00Z", "trace_id": "0e1f", "correlation_id": "aa11"}


def user(object_id: str, given: str, surname: str, mail: str, employee_id: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": object_id, "givenName": given, "surname": surname, "displayName": f"{given} {surname}", "mail": mail,
        "userPrincipalName": mail, "jobTitle": extra.pop("jobTitle", None), "department": extra.pop("department", None),
        "officeLocation": extra.pop("officeLocation", None), "employeeId": employee_id, "companyName": extra.pop("companyName", None),
        "preferredLanguage": extra.pop("preferredLanguage", "nl-BE"), "accountEnabled": extra.pop("accountEnabled", True),
        "employeeHireDate": extra.pop("employeeHireDate", None), "employeeLeaveDateTime": None, "employeeType": "Employee", **extra,
    }


def delta_page(users: list[dict[str, Any]], next_link: str | None = None, delta_link: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {"@odata.context": f"{GRAPH}/$metadata#users(id,givenName,surname,mail)", "value": users}
    if next_link:
        page["@odata.nextLink"] = next_link
    if delta_link:
        page["@odata.deltaLink"] = delta_link
    return page


def removed(object_id: str, reason: str = "changed") -> dict[str, Any]:
    return {"@odata.type": "#microsoft.graph.user", "id": object_id, "@removed": {"reason": reason}}


def graph_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "innerError": {"date": "2026-11-22T22:00:00", "request-id": "b5c1", "client-request-id": "b5c1"}}}
