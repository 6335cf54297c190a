"""The OpenAPI document tells the truth about errors.

Litestar documents a 400 body ``{status_code, detail, extra}`` of its own; every error this API
sends is ``{code, detail, request_id}`` (plus ``errors`` for a form's fields, or the fields an
``AppError`` adds), see ``backend/kernel/web.py``. :func:`true_contract` rewrites the generated
document once: every error response (documented by a handler's ``responses=`` too) gets the
``Error`` schema, and every operation lists the statuses it can answer with:

- every operation: 400 (a malformed request, a NUL character), 404, 500, 503 (the server is too
  busy to take a database connection in time: try again after Retry-After);
- behind sign-in (all of ``/api`` but sign-in and refresh): 401 and 403;
- with a request body: 409, 413 (larger than ``PROBITY_MAX_BODY_BYTES``), 415; DELETE: 409;
- sign-in and refresh: 401 (wrong password, a spent refresh token) and 429 (throttled);
- what asks for the current password again (password change, TOTP off): 429 (throttled).

Public operations say so (``security: []``).
"""

from __future__ import annotations

import copy
from typing import Any

from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error: a stable code, a sentence, the request id (also in X-Request-ID).",
    "required": ["code", "detail", "request_id"],
    "properties": {
        "code": {"type": "string", "description": "stable, machine-readable: invalid_request, not_found, …"},
        "detail": {"type": "string"},
        "request_id": {"type": ["string", "null"]},
        "errors": {
            "type": "array",
            "description": "400 for a form: each field that is wrong and why",
            "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {"field": {"type": ["string", "null"]}, "reason": {"type": "string"}},
            },
        },
    },
    "additionalProperties": True,
}
MEANING = {
    400: "The request is malformed or a value is not allowed (see code, errors)",
    401: "Not signed in, or the access token expired",
    403: "Signed in, but this role or scope may not do this",
    404: "No such thing, or not in the caller's scope",
    409: "The current state does not allow this (changed meanwhile, already done, …)",
    413: "The request body is too large",
    415: "The body is not of a type this operation takes",
    422: "The request is understood but cannot be done",
    429: "Too many attempts: wait (Retry-After) and try again",
    500: "Something went wrong on the server (logged under the request id)",
    503: "The server is busy (or a part it needs is): try again after Retry-After",
}
PUBLIC = frozenset(
    {"/api/auth/login", "/api/auth/refresh", "/api/auth/login/totp", "/api/auth/login/totp/setup", "/healthz"}
)


def public(path: str) -> bool:
    """Operations anyone may call: sign-in, health, the public intake form."""
    return path in PUBLIC or path.startswith("/api/public/")


#: (the TOTP steps answer 401 for an expired or used challenge)
THROTTLED = frozenset(
    {"/api/auth/login", "/api/auth/refresh", "/api/auth/login/totp", "/api/auth/login/totp/setup"}
)
#: a wrong current password counts as a wrong sign-in (backend/auth/throttle.py)
PASSWORD_CHECKED = frozenset({"/api/auth/password", "/api/auth/totp/disable"})
METHODS = ("get", "put", "post", "patch", "delete")


def _error(status: int) -> dict[str, Any]:
    return {
        "description": MEANING.get(status, "An error"),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses every operation of this kind can answer with."""
    found = {400, 404, 500, 503}
    if not public(path):
        found |= {401, 403}
    if "requestBody" in operation:
        found |= {409, 413, 415}
    if method in ("delete", "post"):  # an action without a body too (a step, a link) meets a state
        found.add(409)
    if path in THROTTLED:
        found |= {401, 429}  # a wrong password, an expired or replayed refresh token
    if path in PASSWORD_CHECKED:
        found.add(429)
    if path.startswith("/api/public/") and method == "post":
        found.add(429)  # the public intake's rate limits
    return found


def true_contract(document: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(document)
    doc.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            given = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            for status in given | statuses(path, method, operation):
                responses[str(status)] = _error(status)
            if public(path):
                operation["security"] = []
    return doc


class ContractJsonPlugin(JsonRenderPlugin):
    """The OpenAPI JSON at ``/schema`` and ``/schema/openapi.json``, errors as they are."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return self.render_json(request, true_contract(openapi_schema))
