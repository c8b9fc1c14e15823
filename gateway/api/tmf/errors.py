"""TMF-shaped errors: the Error definition of the TMF specs (`code`, `reason`, `message`, `status`), with the
HTTP status of the problem it stands for.

Views answer their own refusals with `tmf_error`. Everything else that refuses a request on a TMF API — a key
missing or lacking the scope, the rate limit, no such route or method, a body guard, the store out of reach, a
GatewayError raised in a view — leaves the app's shared machinery as RFC 9457 problem+json
(gateway.http.problems); `install` reshapes those into TMF Errors on the way out, keeping the status and every
header (WWW-Authenticate, Retry-After, Allow, the rate-limit headers).
"""

from __future__ import annotations

from typing import Any

import orjson
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from flask.blueprints import BlueprintSetupState

from gateway.http.problems import PROBLEM_MEDIA_TYPE
from gateway.runtime import setting

ERROR_TYPE = "Error"
# TMF630 answers invalid input with 400 and has no 422: what the gateway's shared checks refuse as a 422 (text
# no store can hold, a field a view finds invalid) is a 400 on a TMF API, as the specs document it.
TMF_STATUS = {422: 400}
_ROOTS = "tmf_error_roots"  # app.extensions: the first path segment of the TMF APIs installed (/tmf-api)


def tmf_error(status: int, code: str, reason: str, message: str | None = None, *, headers=None) -> Response:
    body = {"code": code, "reason": reason, "status": str(status), "@type": ERROR_TYPE}
    if message:
        body["message"] = message
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def install(blueprint: Blueprint) -> None:
    """Every problem answered to a request under the first segment of the blueprint's URL prefix (/tmf-api)
    leaves as a TMF Error, whatever produced it, even when no route matched: a client of one TM Forum API that
    gets the version, the API's name or a trailing slash wrong (/tmf-api/productInventory/v5/product,
    /tmf-api/productInventory/v4) reads the same Error shape as for any other refusal. In every app the blueprint is
    registered on (a blueprint is set up once, before its first registration)."""
    if blueprint.name in _installed:
        return
    blueprint.record_once(_install_on_app)
    _installed.add(blueprint.name)


_installed: set[str] = set()


def _install_on_app(state: BlueprintSetupState) -> None:
    app: Flask = state.app
    roots = app.extensions.get(_ROOTS)
    if roots is None:
        app.after_request(_reshape_problems)
    root = "/" + (state.url_prefix or "").strip("/").split("/", 1)[0]
    if root not in (roots or ()):
        app.extensions[_ROOTS] = (*(roots or ()), root)


def _reshape_problems(response: Response) -> Response:
    # Runs after every request of the app: a success, or an error outside the TMF APIs, costs two comparisons.
    if response.status_code < 400 or response.mimetype != PROBLEM_MEDIA_TYPE:
        return response
    if not any(_under(request.path, root) for root in current_app.extensions[_ROOTS]):
        return response
    problem = orjson.loads(response.get_data())
    status = TMF_STATUS.get(response.status_code, response.status_code)
    # As the hrefs: under GATEWAY_PUBLIC_URL when set, else the address the request came in on.
    gateway_url = setting("PUBLIC_URL") or request.root_url
    response.set_data(orjson.dumps(error_of_problem(problem, status, gateway_url)))
    response.status_code = status
    response.mimetype = "application/json"
    return response


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root + "/")


def error_of_problem(problem: dict[str, Any], status: int, gateway_url: str) -> dict[str, Any]:
    """A problem+json body as the TMF Error standing for it: the problem type's slug as `code`, its title as
    `reason`, its detail and any failing fields as `message`, and where the gateway describes the type as
    `referenceError`."""
    problem_type = problem.get("type") or "about:blank"
    slug = problem_type.rsplit("/", 1)[-1] if problem_type.startswith("/problems/") else None
    message = problem.get("detail") or ""
    fields = [f"{item.get('field')}: {item.get('detail')}" for item in problem.get("errors") or []]
    if fields:
        message = f"{message} ({'; '.join(fields)})" if message else "; ".join(fields)
    body: dict[str, Any] = {
        "code": slug or str(status),
        "reason": problem.get("title") or str(status),
        "status": str(status),
        "@type": ERROR_TYPE,
    }
    if message:
        body["message"] = message
    if slug is not None:
        body["referenceError"] = gateway_url.rstrip("/") + problem_type
    return body
