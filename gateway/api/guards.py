"""Checks every request passes before routing: body size and body media type."""

from __future__ import annotations

import io

from flask import Flask, abort, request

BODY_METHODS = {"POST", "PUT", "PATCH"}


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def _buffer_unsized_body(limit: int) -> None:
    """Read a chunked body (no Content-Length) up to the limit, refusing it with a 413 when it is longer.

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
    def check_body() -> None:
        limit = app.config["MAX_CONTENT_LENGTH"]
        if request.content_length is not None and request.content_length > limit:
            abort(413, f"The body is {request.content_length} bytes; the limit is {limit}.")
        if request.method not in BODY_METHODS or not _has_body():
            return
        # A body the view will read as JSON must say so: a form or CSV posted by mistake gets a clear 415
        # instead of being read as an empty object.
        if not request.is_json:
            abort(415, f"Send the body as application/json, not {request.mimetype or 'an unlabelled body'}.")
        if request.content_length is None and "wsgi.input_terminated" in request.environ:
            _buffer_unsized_body(limit)
