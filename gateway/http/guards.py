"""Checks every request passes before its view runs: body size, body media type, and text a store can hold.

A view takes JSON bodies up to GATEWAY_MAX_BODY_BYTES unless `@accepts_body` says otherwise (a roster upload
takes CSV or NDJSON, and far more bytes).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, abort, current_app, request

from gateway.http import query_names, unstorable

BODY_METHODS = {"POST", "PUT", "PATCH"}
JSON = ("application/json",)
MEDIA_TYPES_ATTRIBUTE = "accepted_media_types"
LIMIT_SETTING_ATTRIBUTE = "body_limit_setting"
SIGNED_BODY_ATTRIBUTE = "body_is_signed"


def accepts_body(*media_types: str, limit_setting: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let a view take bodies of these media types, up to the size in the named setting."""

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        setattr(view, MEDIA_TYPES_ATTRIBUTE, media_types)
        setattr(view, LIMIT_SETTING_ATTRIBUTE, limit_setting)
        return view

    return mark


def signed_body(view: Callable[..., Any]) -> Callable[..., Any]:
    """Leave this view's JSON body to the view: it verifies the body's signature before anything reads the body,
    and then checks its text (`unstorable.check_json_body`) itself."""
    setattr(view, SIGNED_BODY_ATTRIBUTE, True)
    return view


def _handler() -> Callable[..., Any] | None:
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and hasattr(view, "view_class"):
        return getattr(view.view_class, request.method.lower(), None)
    return view


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _buffer_unsized_body(limit: int) -> None:
    """Read a chunked JSON body (no Content-Length) up to the limit, refusing it with a 413 when it is longer.

    Werkzeug only truncates such a stream at the limit, so a too-large body would reach the JSON parser cut
    short and come back as a misleading 400. Buffering it here gives it a length like any other body.
    """
    body = request.environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        abort(413, f"The body exceeds the limit of {limit} bytes.")
    request.environ["wsgi.input"] = io.BytesIO(body)
    request.environ["CONTENT_LENGTH"] = str(len(body))


def install_request_guards(app: Flask) -> None:
    @app.before_request
    def check_body() -> Response | None:
        current = request._get_current_object()  # once: every use of the proxy looks the context up again
        if current.routing_exception is not None:
            return  # no such route or method: Flask's 404 or 405 says so better than any body check
        # No NUL reaches a view, whose store could not hold it. Tested inline: this runs before every read.
        if unstorable.NUL in current.path:
            return unstorable.path_problem(current)
        if current.query_string:  # the only cost to a request without a query (the hot reads have none)
            unstorable.check_query(current)
            refused = query_names.refuse_unknown(current, _handler())
            if refused is not None:
                return refused
        if current.method not in BODY_METHODS and not current.content_length:
            return  # nothing to check on a plain read
        handler = _handler()
        media_types = getattr(handler, MEDIA_TYPES_ATTRIBUTE, JSON)
        limit = app.config["GATEWAY"][getattr(handler, LIMIT_SETTING_ATTRIBUTE, "MAX_BODY_BYTES")]
        request.max_content_length = limit
        if request.content_length is not None and request.content_length > limit:
            abort(413, f"The body is {request.content_length} bytes; the limit is {limit}.")
        if request.method not in BODY_METHODS or not _has_body():
            return
        # A body must say what it is: a form posted by mistake gets a clear 415 instead of being read as
        # an empty object.
        if request.mimetype not in media_types:
            expected = " or ".join(media_types)
            abort(415, f"Send the body as {expected}, not {request.mimetype or 'an unlabelled body'}.")
        if media_types == JSON and request.content_length is None and "wsgi.input_terminated" in request.environ:
            _buffer_unsized_body(limit)
        if request.mimetype in JSON and not getattr(handler, SIGNED_BODY_ATTRIBUTE, False):
            unstorable.check_json_body(request.get_data(cache=True))  # cached: the view's parser reads it again
