"""Refuses text no store can hold before a view sees it: NUL characters and lone UTF-16 surrogates.

PostgreSQL text cannot hold U+0000, and a lone surrogate (JSON's "\\ud800") has no UTF-8 form, so psycopg and
sqlite3 fail to send it: either would become a 500 deep inside a command. Refused here instead, once for every
route: a NUL in the path names no resource (404, as an id the gateway never issued), a NUL in the query string or
a NUL or lone surrogate in a JSON body is a 422 naming the field. A URL cannot carry a lone surrogate: Werkzeug
decodes the path and query as UTF-8 and replaces what is not.

Every check starts with a substring search of the raw text, so a request without such a character (nearly all
of them, and bulk bodies of megabytes) costs one pass in C; only a hit parses and walks the value to name fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from flask import Request, Response
from marshmallow import fields

from gateway.domain.errors import InvalidInput
from gateway.http.problems import problem

NUL = "\x00"
NUL_DETAIL = "Must not contain a NUL character."
SURROGATE_DETAIL = "Must not contain a lone UTF-16 surrogate (\\ud800-\\udfff without its pair)."
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# How a NUL or a surrogate can appear in a JSON text: escaped (a raw control character is invalid JSON), or, in a
# UTF-16 or UTF-32 body (json.loads detects those), as NUL bytes that make the escapes unrecognisable here.
JSON_NUL_ESCAPE = b"\\u0000"
JSON_SURROGATE_ESCAPES = (b"\\ud", b"\\uD")
# The rule as the contract publishes it (the escalation fields' NO_NUL says the same), so generated clients and
# schemathesis's schema-valid data know a NUL is refused.
NO_NUL_PATTERN = r"^[^\x00]*$"
MAX_ERRORS = 20  # enough to show the pattern; a body of thousands of bad items need not list them all


def publish_no_nul(converter: Any, field: fields.Field, ret: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """An apispec attribute function: every bounded free-text field states "no NUL" as its pattern.

    Bounded: request fields carry a maximum length (the column's), response fields do not, and a response
    needs no rule for what the client may send. A field with an enum names its values; one with a pattern of
    its own keeps it (JSON Schema has one pattern per field), so that pattern should exclude a NUL too, as the
    escalation fields' do.
    """
    if not isinstance(field, fields.String) or "maxLength" not in ret or "pattern" in ret or "enum" in ret:
        return {}
    return {"pattern": NO_NUL_PATTERN}


def path_problem(request: Request) -> Response:
    """The 404 for a path that holds a NUL, naming the path parameters that do."""
    names = [name for name, value in (request.view_args or {}).items() if isinstance(value, str) and NUL in value]
    errors = [{"location": "path", "field": name, "detail": NUL_DETAIL} for name in names]
    return problem("not-found", "No such resource: the path holds a NUL character.", errors=errors)


def check_query(request: Request) -> None:
    """Raise a 422 naming each query parameter whose name or value holds a NUL."""
    raw = request.query_string
    if not raw or (b"%00" not in raw and b"\x00" not in raw):
        return
    errors = {name: NUL_DETAIL for name, value in request.args.items(multi=True) if NUL in name or NUL in value}
    if errors:
        raise InvalidInput(errors, "query")


def check_json_body(body: bytes) -> None:
    """Raise a 422 naming the fields of a JSON body that hold a NUL or a lone surrogate."""
    raw_nul = b"\x00" in body
    # One-byte searches are memchr, several times faster than the multi-byte ones: most bodies hold no
    # backslash at all, so no escape, and are done after two passes (an 8 MB body: about 1.5 ms).
    escapes = b"\\" in body
    nul = raw_nul or (escapes and JSON_NUL_ESCAPE in body)
    surrogate = raw_nul or (escapes and any(escape in body for escape in JSON_SURROGATE_ESCAPES))
    if not (nul or surrogate):
        return
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return  # not JSON this guard can read: the view's parser answers it as it answers any malformed body
    errors: dict[str, str] = {}
    for field, detail in _bad_strings(document, nul=nul, surrogate=surrogate):
        errors.setdefault(field, detail)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise InvalidInput(errors, "body")


def _bad_strings(document: Any, *, nul: bool, surrogate: bool) -> Iterator[tuple[str, str]]:
    """(dotted field, detail) for every string (keys included) holding a NUL or a lone surrogate.

    Iterative, with an explicit stack: a deeply nested body must not exhaust Python's recursion limit here.
    """
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            detail = _detail(value, nul=nul, surrogate=surrogate)
            if detail:
                yield path or "(body)", detail
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                field = f"{path}.{key}" if path else key
                detail = _detail(key, nul=nul, surrogate=surrogate)
                if detail:
                    yield field, detail
                stack.append((field, item))
        elif isinstance(value, list):
            indexed = [(f"{path}.{index}" if path else str(index), item) for index, item in enumerate(value)]
            stack.extend(reversed(indexed))


def unstorable_text(text: str) -> str | None:
    """Why a store cannot hold this text (for values decoded from elsewhere, e.g. a cursor), or None."""
    return _detail(text, nul=True, surrogate=True)


def _detail(text: str, *, nul: bool, surrogate: bool) -> str | None:
    if nul and NUL in text:
        return NUL_DETAIL
    if surrogate and LONE_SURROGATE.search(text):
        return SURROGATE_DETAIL
    return None
