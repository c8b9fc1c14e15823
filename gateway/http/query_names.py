"""Query parameters an operation does not take are refused, not ignored.

A misspelt or misplaced parameter that is silently dropped changes what a request means without a word: a feed
read with `?after=` where it takes another name starts again from the oldest event. So an operation of the API
takes the query parameters its documentation names (its query schema's fields, or parameters documented by
hand) and no other; one without any takes none. Anything else is a 400 naming each unknown parameter.

The names come from flask-smorest's record of each operation (`_apidoc`, copied onto every decorator by
functools.wraps): the same source as the published contract, so the two cannot disagree. Pages outside the API
(the console, health, the documents) have no such record and are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Request, Response

from gateway.http.problems import problem

APIDOC_ATTRIBUTE = "_apidoc"
QUERY_LOCATIONS = ("query", "querystring")
_known: dict[Callable[..., Any], frozenset[str] | None] = {}  # per operation, worked out on its first request


def query_names(handler: Callable[..., Any]) -> frozenset[str] | None:
    """The query parameters an API operation documents; None for a handler outside the API."""
    if handler not in _known:
        _known[handler] = _documented_names(getattr(handler, APIDOC_ATTRIBUTE, None))
    return _known[handler]


def _documented_names(apidoc: dict[str, Any] | None) -> frozenset[str] | None:
    if apidoc is None:
        return None
    names: set[str] = set()
    for parameter in apidoc.get("arguments", {}).get("parameters", []):
        if parameter.get("in") in QUERY_LOCATIONS:
            schema = parameter["schema"]
            schema = schema() if isinstance(schema, type) else schema
            names.update(field.data_key or name for name, field in schema.fields.items() if not field.dump_only)
    for parameter in apidoc.get("manual_doc", {}).get("parameters", []):
        if isinstance(parameter, dict) and parameter.get("in") == "query":
            names.add(parameter["name"])
    return frozenset(names)


def refuse_unknown(request: Request, handler: Callable[..., Any] | None) -> Response | None:
    """The 400 for a request to an API operation naming query parameters it does not take; None when it names
    none (or the handler is no API operation). Called only for a request with a query string.

    OPTIONS is left alone: it asks what the route allows, which no query changes, and the handler Flask routes it to
    is one of the route's operations (POST's), whose parameters say nothing about it."""
    if request.method == "OPTIONS":
        return None
    known = None if handler is None else query_names(handler)
    if known is None:
        return None
    unknown = sorted({name for name in request.args if name not in known})
    if not unknown:
        return None
    takes = f"this operation takes {', '.join(sorted(known))}" if known else "this operation takes none"
    errors = [{"location": "query", "field": name, "detail": f"Unknown query parameter; {takes}."} for name in unknown]
    return problem(
        "bad-request",
        f"The query names parameters this operation does not take: {', '.join(unknown)}.",
        status=400,
        errors=errors,
    )
