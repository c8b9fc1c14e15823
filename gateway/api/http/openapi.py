"""The OpenAPI document: its settings and description, and the flask-smorest Api that writes it lazily with
problem+json as every error's shape."""

from __future__ import annotations

import http
import threading
from collections.abc import Callable

from apispec import APISpec
from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from contracts.common import ProblemSchema
from gateway.http.problems import (
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPES,
    STORE_RETRY_AFTER_SECONDS,
    problem_type,
    register_problem_handlers,
)

API_DESCRIPTION = """\
The partner integration gateway between the streaming service and its telecom bundle partners.

Audiences: the **partner** API (`/v1`) for partners' systems, the **callcenter** API (`/v1/callcenter`) for
partners' agents, the **service** API (`/v1/service`) for the streaming service, and the **admin** API
(`/admin/v1`) for the operations team. Every call carries `Authorization: Bearer <key>`; the scope each
operation needs is listed in its security requirement. Errors are RFC 9457 `application/problem+json`.

Events reach partners as signed webhooks (Standard Webhooks): the `webhooks` section lists every event type, when
it is sent, its schema and an example. Fields may be added to an event at any time: ignore the ones you do not know.
"""


def _problem_types_doc() -> str:
    rows = "\n".join(
        f"| `{problem_type(slug)}` | {status} | {meaning} |" for slug, (status, _, meaning) in PROBLEM_TYPES.items()
    )
    return (
        "\nA problem's `type` is one of these, stable across releases (the gateway serves a description at each):"
        f"\n\n| type | status | when |\n| --- | --- | --- |\n{rows}\n"
    )


API_DESCRIPTION += _problem_types_doc()

SPEC_SETTINGS = {
    "API_TITLE": "Partner gateway",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "/docs",
    "OPENAPI_SWAGGER_UI_URL": "/docs/assets/",  # served by the gateway (gateway.api.ops.docs_asset), no CDN
    "API_SPEC_OPTIONS": {"info": {"description": API_DESCRIPTION}},
}
STORE_UNAVAILABLE = {
    "description": f"The store cannot be reached for now ({problem_type('store-unavailable')}): retry after the "
    "seconds in Retry-After, a POST with the same Idempotency-Key.",
    "headers": {
        "Retry-After": {
            "description": f"Seconds to wait before retrying ({STORE_RETRY_AFTER_SECONDS}).",
            "schema": {"type": "integer"},
        }
    },
}
RATE_LIMIT_HEADERS = {
    "Retry-After": {"description": "Seconds until the budget allows a request again.", "schema": {"type": "integer"}},
    "X-RateLimit-Limit": {"description": "Requests the budget allows per window.", "schema": {"type": "integer"}},
    "X-RateLimit-Remaining": {"description": "Requests left in this window.", "schema": {"type": "integer"}},
    "X-RateLimit-Reset": {"description": "When the window resets, in Unix seconds.", "schema": {"type": "integer"}},
}
# The routes flask-smorest adds for the document itself; anyone may read them.
DOC_ENDPOINTS = {"api-docs.openapi_json", "api-docs.openapi_swagger_ui"}


class GatewayApi(Api):
    """flask-smorest's Api with problem+json as the documented and actual shape of every error, and the
    OpenAPI document written when it is first read.

    Documenting every operation (apispec resolving each schema) was most of the time an app took to build,
    for every gunicorn worker and every test, though serving requests never needs it. Blueprints are
    registered at once; their documentation waits until something reads `spec` (the openapi.json route,
    `make spec`, the contract tests), which then finds it complete.
    """

    ERROR_SCHEMA = ProblemSchema

    def __init__(self, app: Flask) -> None:
        self._undocumented: list[Callable[[], None]] = []
        self._documenting = threading.RLock()  # re-entrant: a step may read `spec` itself
        self._documented = True  # nothing queued yet
        self._writing = False
        super().__init__(app)

    @property
    def spec(self) -> APISpec:
        if not self._documented:
            # A threaded server could ask twice at once: the second waits for the whole document. A step leaves
            # the queue only once it has run, so one that fails fails every read instead of leaving a gap.
            with self._documenting:
                if self._writing:  # a step reading the document it is writing
                    return self._spec
                self._writing = True
                try:
                    while self._undocumented:
                        self._undocumented[0]()
                        self._undocumented.pop(0)
                    self._documented = True
                finally:
                    self._writing = False
        return self._spec

    @spec.setter
    def spec(self, value: APISpec) -> None:
        self._spec = value

    def document_later(self, step: Callable[[APISpec], None]) -> None:
        """Run `step(spec)` when the document is first read, after the steps queued before it."""
        self._undocumented.append(lambda: step(self._spec))
        self._documented = False

    def register_blueprint(self, blp, *, parameters=None, **options) -> None:
        # flask-smorest 0.47's register_blueprint, with its two documentation steps queued instead of run.
        name = options.get("name", blp.name)
        self._app.extensions["flask-smorest"]["blp_name_to_api"][name] = self
        self._app.register_blueprint(blp, **options)

        def document(spec: APISpec) -> None:
            blp.register_views_in_doc(self, self._app, spec, name=name, parameters=parameters)
            spec.tag({"name": name, "description": blp.description})

        self.document_later(document)

    def _register_error_handlers(self) -> None:
        register_problem_handlers(self._app)

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            if status == http.HTTPStatus.TOO_MANY_REQUESTS:
                response["headers"] = RATE_LIMIT_HEADERS
            if status == http.HTTPStatus.SERVICE_UNAVAILABLE:
                response.update(STORE_UNAVAILABLE)
            prepare_response(response, self.spec, PROBLEM_MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Any error, as an RFC 9457 problem.", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)
