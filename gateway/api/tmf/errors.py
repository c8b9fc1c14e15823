"""TMF-shaped errors: the Error definition of the TMF specs (`code`, `reason`, `message`, `status`), with the
HTTP status of the problem it stands for."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify


def tmf_error(status: int, code: str, reason: str, message: str | None = None, *, headers=None) -> Response:
    body = {"code": code, "reason": reason, "status": str(status), "@type": "Error"}
    if message:
        body["message"] = message
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def install(blueprint: Blueprint) -> None:
    """Errors raised inside the blueprint's views answer in the TMF shape (filled in by the inventory work)."""
