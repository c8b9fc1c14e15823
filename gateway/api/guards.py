"""Checks every request passes before routing: body size and body media type."""

from __future__ import annotations

from flask import Flask, abort, request

BODY_METHODS = {"POST", "PUT", "PATCH"}


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()


def install_request_guards(app: Flask) -> None:
    @app.before_request
    def check_body() -> None:
        limit = app.config["MAX_CONTENT_LENGTH"]
        if request.content_length is not None and request.content_length > limit:
            abort(413, f"The body is {request.content_length} bytes; the limit is {limit}.")
        # A body the view will read as JSON must say so: a form or CSV posted by mistake gets a clear 415
        # instead of being read as an empty object.
        if request.method in BODY_METHODS and _has_body() and not request.is_json:
            abort(415, f"Send the body as application/json, not {request.mimetype or 'an unlabelled body'}.")
