"""Every error leaves as RFC 9457 application/problem+json, with a stable `type` and the failing fields."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, json, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from gateway.domain.errors import Conflict, GatewayError, InvalidInput, NotFound, StaleVersion
from gateway.store.outages import is_store_outage

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("gateway.api")

# slug -> (status, title, when it happens). The slug is the stable part of `type`; titles never change.
PROBLEM_TYPES: dict[str, tuple[int, str, str]] = {
    "bad-request": (
        400,
        "Bad request",
        "The request could not be read, e.g. the body is not valid JSON, or its query names a parameter the "
        "operation does not take (see `errors`).",
    ),
    "unauthenticated": (
        401,
        "Unauthenticated",
        "No usable API key: missing, malformed, unknown, revoked or expired.",
    ),
    "insufficient-scope": (
        403,
        "Insufficient scope",
        "The key is valid but lacks the scope this operation needs.",
    ),
    "partner-suspended": (
        403,
        "Partner suspended",
        "The partner is suspended; its keys are refused until resumed.",
    ),
    "invalid-signature": (
        400,
        "Invalid signature",
        "A callback's Standard Webhooks signature does not verify with the partner's inbound secret, or its "
        "timestamp is more than five minutes from now.",
    ),
    "not-found": (404, "Not found", "No such resource, or it belongs to another partner."),
    "method-not-allowed": (405, "Method not allowed", "The resource exists but not with this HTTP method."),
    "conflict": (409, "Conflict", "The request clashes with the resource's current state."),
    "precondition-failed": (
        412,
        "Precondition failed",
        "If-Match named a version that is no longer current.",
    ),
    "payload-too-large": (413, "Payload too large", "The body exceeds the configured size limit."),
    "unsupported-media-type": (415, "Unsupported media type", "The body is not of a media type the operation takes."),
    "validation-error": (422, "Validation error", "One or more fields are invalid; see `errors`."),
    "rate-limited": (
        429,
        "Too many requests",
        "The partner's request budget for this API is spent for now; retry after the seconds in Retry-After.",
    ),
    "internal-error": (500, "Internal error", "The gateway failed; quote the request id when reporting it."),
    "store-unavailable": (
        503,
        "Store unavailable",
        "The gateway's database cannot be reached for now (a restart, a failover, a lock held too long): send the "
        "request again after the seconds in Retry-After. A command is not half-applied; in the rare case that the "
        "connection dropped while it committed, it may have taken effect, so retry a POST with the same "
        "Idempotency-Key (its first response is then replayed instead of the command running twice).",
    ),
    "not-ready": (503, "Not ready", "The store is unreachable or its schema is not migrated."),
}
# The type of a status werkzeug raises itself (the last slug of a status wins: 503 is "not-ready").
SLUG_BY_STATUS = {status: slug for slug, (status, _, _) in PROBLEM_TYPES.items()}
# How long a client waits before trying again while the store is out: about what a restart or failover takes.
STORE_RETRY_AFTER_SECONDS = 5
WEBARGS_LOCATIONS = {
    "json": "body",
    "querystring": "query",
    "query": "query",
    "view_args": "path",
    "headers": "header",
    "form": "body",
    "files": "body",
}


def problem_type(slug: str) -> str:
    """The `type` URI: relative, resolved against the gateway, where /problems/<slug> describes it."""
    return f"/problems/{slug}"


def problem(
    slug: str | None,
    detail: str,
    *,
    status: int | None = None,
    title: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> Response:
    """A problem response. Without a slug (a status we have no type for) the type is `about:blank`."""
    if slug is not None:
        status = status or PROBLEM_TYPES[slug][0]
        title = PROBLEM_TYPES[slug][1]
    body: dict[str, Any] = {
        "type": problem_type(slug) if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    if errors:
        body["errors"] = errors
    body.update(extensions or {})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages: Any, location: str, path: str = "") -> list[dict[str, str]]:
    """marshmallow's nested {field: [messages]} as a flat list of {location, field, detail}."""
    if isinstance(messages, Mapping):
        items = []
        for key, value in messages.items():
            name = "" if key == "_schema" else str(key)
            items.extend(flatten_messages(value, location, f"{path}.{name}".strip(".") if name else path))
        return items
    if isinstance(messages, list | tuple) and messages and not all(isinstance(m, str) for m in messages):
        return [item for message in messages for item in flatten_messages(message, location, path)]
    texts = messages if isinstance(messages, list | tuple) else [messages]
    return [{"location": location, "field": path or "(body)", "detail": str(text)} for text in texts]


def _webargs_errors(error: HTTPException) -> list[dict[str, str]]:
    data = getattr(error, "data", None) or {}
    messages = data.get("messages") or data.get("errors") or {}
    items = []
    for location, fields in messages.items():
        items.extend(flatten_messages(fields, WEBARGS_LOCATIONS.get(location, location)))
    return items


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    if status >= 500:
        original = getattr(error, "original_exception", None)
        if original is not None:
            log.error("unhandled error", exc_info=original)
            return problem("internal-error", "The gateway failed while handling this request.", status=500)
    headers = dict(getattr(error, "data", None) or {}).get("headers") or {}
    if status == 405:
        allow = error.get_headers()
        headers = {**headers, **{name: value for name, value in allow if name == "Allow"}}
    errors = _webargs_errors(error)
    if status == 422 or (status == 400 and errors):
        malformed_json = status == 400
        slug = "bad-request" if malformed_json else "validation-error"
        detail = "The body is not valid JSON." if malformed_json else "One or more fields are invalid."
        return problem(slug, detail, status=status, errors=errors, headers=headers)
    slug = SLUG_BY_STATUS.get(status)
    detail = error.description or error.name
    return problem(slug, detail, status=status, title=error.name, headers=headers)


def handle_gateway_error(error: GatewayError) -> Response:
    if isinstance(error, InvalidInput):
        location = error.location or ("query" if request.method in ("GET", "HEAD") else "body")
        errors = [{"location": location, "field": field, "detail": text} for field, text in error.errors.items()]
        return problem("validation-error", "One or more fields are invalid.", errors=errors)
    if isinstance(error, NotFound):
        return problem("not-found", error.detail)
    if isinstance(error, Conflict):
        return problem("conflict", error.detail, extensions=error.extensions)
    if isinstance(error, StaleVersion):
        return problem("precondition-failed", error.detail)
    raise TypeError(f"no problem type for {type(error).__name__}")  # a programming error: becomes a 500


def handle_recursion_error(error: RecursionError) -> Response:
    """A JSON body nested deeper than Python's recursion limit fails in the parser: the client's mistake, a 400."""
    if "while decoding a JSON" in str(error):  # CPython's json scanner says so; any other is the gateway's bug
        return problem("bad-request", "The body nests too deeply to be read.", status=400)
    return handle_unexpected(error)


def handle_store_error(error: SQLAlchemyError) -> Response:
    """A store that cannot be reached (gateway.store.outages) is a 503 to retry, not the gateway's bug; any other
    database error is one (a 500)."""
    if not is_store_outage(error):
        return handle_unexpected(error)
    log.warning("store unreachable", extra={"fields": {"error": type(error).__name__, "path": request.path}})
    return problem(
        "store-unavailable",
        "The gateway's database cannot be reached right now; retry after the seconds in Retry-After (a POST with "
        "the same Idempotency-Key).",
        headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)},
    )


def handle_unexpected(error: Exception) -> Response:
    log.error("unhandled error", exc_info=error)
    return problem("internal-error", "The gateway failed while handling this request.")


def register_problem_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(GatewayError, handle_gateway_error)
    app.register_error_handler(RecursionError, handle_recursion_error)
    app.register_error_handler(SQLAlchemyError, handle_store_error)
    app.register_error_handler(Exception, handle_unexpected)
