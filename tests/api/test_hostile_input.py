"""No 5xx for a client's mistake: every route of the URL map gets hostile strings in each input.

PostgreSQL refuses what SQLite lets through: a NUL character in text, a string longer than its VARCHAR, a lone
UTF-16 surrogate (psycopg cannot encode it). For every operation that takes a JSON body, a query or a path
parameter, each string input gets each of those in turn; the answer must be a 4xx problem naming the field (or
a success, for a long text the contract allows), never a 5xx. The operations, their example bodies and the world
they act on come from the auth matrix (tests/api/test_auth_matrix.py). A TM Forum route is read from its served
Swagger 2.0 document (contracts/tmf/served/: its body is the `in: body` parameter, its references point into its
`definitions`) and must answer the spec's Error, conforming to it and naming the field.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from contracts.tmf_served import served_spec
from gateway import create_app
from gateway.api.http.auth import REQUIRED_SCOPE_ATTRIBUTE
from gateway.domain.clock import utcnow
from gateway.store import migrate
from partners.signing import signed_headers
from tests.api import test_auth_matrix as matrix
from tests.support.api import app_store, bearer
from tests.support.store import POSTGRES_URL_VARIABLE
from tests.support.tmf_conformance import violations

NUL = "cust\x00ref"
SURROGATE = "cust\ud800ref"  # what JSON's "\ud800" (a lone surrogate escape) decodes to
LONGER_THAN_ANY_COLUMN = 5000  # every String(n) in gateway/store/models.py is shorter
PATH_PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")
OPERATIONS = matrix.PROTECTED


def _app_without_budgets(database, tmp_path):
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "LOG_LEVEL": "CRITICAL",
            "RATE_LIMITS": "partner=unlimited,callcenter=unlimited,service=unlimited,admin=unlimited",
            **database.settings(),
        }
    )
    migrate.upgrade(app_store(app).engine)
    return app


@pytest.fixture
def hostile_app(database, tmp_path):
    """The gateway on either backend, with no request budgets: the sweep sends many requests in a row."""
    app = _app_without_budgets(database, tmp_path)
    yield app
    app_store(app).dispose()


@pytest.fixture
def strictest_app(request, tmp_path):
    """The gateway on PostgreSQL when there is one (it refuses what SQLite lets through), else on SQLite.

    The route-by-route sweep runs on the stricter backend only: the guard it tests sits before the store, and
    running the whole sweep twice cost more than a minute of the suite; the guard's rules one by one below
    still run on both.
    """
    backend = "postgres" if os.environ.get(POSTGRES_URL_VARIABLE) else "sqlite"
    app = _app_without_budgets(request.getfixturevalue(f"{backend}_database"), tmp_path)
    yield app
    app_store(app).dispose()


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    app = create_app({"DATABASE_URL": "sqlite://"})
    return app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()


def _resolve(schema: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its references followed within `spec`: #/components/schemas/... in the OpenAPI document,
    #/definitions/... in a TMF Swagger 2.0 one."""
    while "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _hostile_strings(schema: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(kind, value) pairs for one string input: a NUL, a lone surrogate, the longest the contract allows, and
    longer than any column."""
    yield "nul", NUL
    yield "surrogate", SURROGATE
    if "maxLength" in schema:
        yield "max length", "x" * schema["maxLength"]
    yield "overlong", "x" * LONGER_THAN_ANY_COLUMN


def _body_variants(
    example: Any, schema: dict[str, Any], spec: dict[str, Any], *, absent_structures: bool = True
) -> Iterator[tuple[str, str, Any]]:
    """(field, kind, body): the example body with one string input made hostile, for each string the schema or
    the example has (nested objects and lists included). Without `absent_structures` (the TMF documents, whose
    definitions nest deep and refer to themselves), an object or list the example lacks is not explored: only the
    example's own structures, and every plain value their definitions name."""
    schema = _resolve(schema, spec)
    types = _types(schema)
    if types & {"integer", "number"}:
        yield "", "huge", 2**70  # beyond BIGINT: a contract range, not the column, must refuse it
        return
    if isinstance(example, str) or "string" in types:
        for kind, value in _hostile_strings(schema):
            yield "", kind, value
        return
    if "array" in types or isinstance(example, list):
        items = example if isinstance(example, list) and example else [None]
        for index, item in enumerate(items):
            variants = _body_variants(item, schema.get("items", {}), spec, absent_structures=absent_structures)
            for field, kind, value in variants:
                replaced = list(items) if example else []
                replaced[index:index + 1] = [value]  # fmt: skip
                yield _join(str(index), field), kind, replaced
        return
    if "object" in types or isinstance(example, dict):
        present = example if isinstance(example, dict) else {}
        properties = schema.get("properties", {})
        for name in sorted(set(properties) | set(present)):
            property_schema = _resolve(properties.get(name, {}), spec)
            if name not in present and not absent_structures and _types(property_schema) & {"object", "array"}:
                continue
            if name not in present and not absent_structures and "$ref" in properties.get(name, {}):
                continue  # an absent reference to another definition: an object of its own
            variants = _body_variants(present.get(name), property_schema, spec, absent_structures=absent_structures)
            for field, kind, value in variants:
                yield _join(name, field), kind, {**present, name: value}
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and "string" in _types(_resolve(extra, spec)):
            for kind, value in _hostile_strings({}):
                yield "rate", kind, {**present, "rate": value}
                yield value, kind, {**present, value: "1/second"}  # a hostile key


def _types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a schema allows: OpenAPI 3.1 writes a nullable one as a list, ["string", "null"]."""
    declared = schema.get("type", [])
    return {declared} if isinstance(declared, str) else set(declared)


def _join(name: str, rest: str) -> str:
    return f"{name}.{rest}" if rest else name


class Sweep:
    """Sends each hostile request of one operation and keeps what went wrong."""

    def __init__(self, client, world, rule, method, headers) -> None:
        self.client, self.world, self.rule, self.method, self.headers = client, world, rule, method, headers
        self.failures: list[str] = []
        self.sent: list[str] = []  # the labels of the requests sent

    def send(self, label: str, field: str | None, kind: str, *, path=None, query=None, body=None, raw=None):
        self.sent.append(label)
        url = matrix._url(self.rule, {**self.world.path_values(self.rule), **(path or {})})
        headers = dict(self.headers)
        if raw is not None:
            data, content_type = raw
            headers.update(self._signed(data) if self.rule == "/v1/callbacks" else {})
        else:
            data, content_type = (None, None) if body is None else (json.dumps(body), "application/json")
        response = self.client.open(
            url, method=self.method, data=data, content_type=content_type, headers=headers, query_string=query
        )
        problem = f"{label} ({kind}) -> {response.status_code}: {response.get_data(as_text=True)[:300]}"
        tmf = matrix._tmf_api(self.rule)  # a TM Forum API answers its spec's Error instead
        if response.status_code >= 500:
            self.failures.append(problem)
        elif response.status_code >= 400 and not (_is_tmf_error(response, tmf) if tmf else _is_problem(response)):
            self.failures.append(f"not a {'conforming TMF Error' if tmf else 'problem'}: {problem}")
        elif kind in {"nul", "surrogate"} and field is not None:
            # Refused, naming the field: a 4xx, with an entry for it in `errors` (a TMF Error's message names it).
            if tmf:
                named = {field} if field in (response.json or {}).get("message", "") else set()
            else:
                named = {error["field"] for error in (response.json or {}).get("errors", [])}
            if response.status_code < 400 or field not in named:
                self.failures.append(f"not refused naming {field!r}: {problem}")

    def _signed(self, body: str) -> dict[str, str]:
        return signed_headers([self.world.inbound_secret], f"msg_{secrets.token_hex(8)}", utcnow(), body)


def _is_problem(response) -> bool:
    return response.mimetype == "application/problem+json"


def _is_tmf_error(response, spec_name: str) -> bool:
    """The spec's Error, held strict (tests/support/tmf_conformance.py), stating the response's status."""
    if response.mimetype != "application/json" or not isinstance(response.json, dict):
        return False
    body = response.json
    return not violations(body, "Error", spec_name=spec_name) and body.get("status") == str(response.status_code)


def _operation_inputs(sweep: Sweep, operation: dict[str, Any], spec: dict[str, Any], rule: str, method: str):
    example = matrix.EXAMPLE_BODIES.get((rule, method))
    if callable(example):
        example = example(sweep.world)
    # Path and query variants carry the valid body, so only the hostile input can be what is refused.
    valid = {"raw": (example.data, example.content_type)} if isinstance(example, matrix.RawBody) else {"body": example}
    for converter, name in PATH_PARAMETER.findall(rule):
        if converter == "int":
            sweep.send(f"path {name}", None, "huge", path={name: str(2**70)}, **valid)
            continue
        for kind, value in _hostile_strings({}):
            if kind != "surrogate":  # a URL cannot carry one: percent-decoding replaces it with U+FFFD
                sweep.send(f"path {name}", name, kind, path={name: value}, **valid)
    base_query = matrix.EXAMPLE_QUERIES.get((rule, method), {})
    for parameter in operation.get("parameters", []):
        if parameter.get("in") != "query":
            continue
        # OpenAPI 3 nests a parameter's type in `schema`; Swagger 2 (the TMF specs) states it on the parameter.
        schema = _resolve(parameter.get("schema", parameter), spec)
        if not _types(schema) & {"string", "integer"}:
            continue
        name = parameter["name"]
        if "integer" in _types(schema):
            sweep.send(f"query {name}", None, "huge", query={**base_query, name: str(2**70)}, **valid)
            continue
        for kind, value in _hostile_strings(schema):
            if kind != "surrogate":
                sweep.send(f"query {name}", name, kind, query={**base_query, name: value}, **valid)
    if isinstance(example, matrix.RawBody):
        _raw_body_inputs(sweep, example, rule)
        return
    # OpenAPI 3 states a JSON body as `requestBody`; Swagger 2 (the TMF specs) as the parameter `in: body`.
    body_parameters = [parameter for parameter in operation.get("parameters", []) if parameter.get("in") == "body"]
    if body_parameters:
        schema = body_parameters[0]["schema"]
    elif "application/json" in operation.get("requestBody", {}).get("content", {}):
        schema = operation["requestBody"]["content"]["application/json"].get("schema", {})
    else:
        return
    tmf = matrix._tmf_api(rule) is not None
    for field, kind, body in _body_variants(example or {}, schema, spec, absent_structures=not tmf):
        sweep.send(f"body {field}", field, kind, body=body, query=base_query)


def _raw_body_inputs(sweep: Sweep, example: matrix.RawBody, rule: str) -> None:
    if rule == "/v1/callbacks":
        document = json.loads(example.data)
        for field, kind, value in [
            *(("data.subscription_id", kind, value) for kind, value in _hostile_strings({})),
            *(("type", kind, value) for kind, value in _hostile_strings({})),
        ]:
            changed = json.loads(json.dumps(document))
            target = changed["data"] if field.startswith("data.") else changed
            target[field.rsplit(".", 1)[-1]] = value
            sweep.send(f"callback {field}", field, kind, raw=(json.dumps(changed), example.content_type))
        return
    # A roster: a hostile value in a row is a bad row of the report, never a failed upload.
    for kind, value in _hostile_strings({}):
        if kind != "surrogate":  # CSV is read as UTF-8 bytes: it cannot carry one, only JSON's escape can
            text = f"partner_ref,status,plan\n{value},active,standard\nactive,{value},standard\n"
            sweep.send("roster partner_ref", None, kind, raw=(text, example.content_type))
        row = json.dumps({"partner_ref": value, "status": "active", "plan": "standard"})
        sweep.send("ndjson roster partner_ref", None, kind, raw=(row + "\n", "application/x-ndjson"))


OPERATION_IDS = [f"{method} {rule}" for _, rule, method, _, _ in OPERATIONS]


@pytest.mark.parametrize(("endpoint", "rule", "method", "handler", "operation"), OPERATIONS, ids=OPERATION_IDS)
def test_hostile_strings_never_make_a_5xx(strictest_app, spec, endpoint, rule, method, handler, operation):
    world = matrix.World(strictest_app)
    headers = bearer(world.right_key(getattr(handler, REQUIRED_SCOPE_ATTRIBUTE)))
    sweep = Sweep(strictest_app.test_client(), world, rule, method, headers)
    tmf = matrix._tmf_api(rule)
    document = served_spec(tmf) if tmf else spec  # where the operation's references point

    _operation_inputs(sweep, operation, document, rule, method)
    if tmf and method == "POST":  # the sweep must reach the body: the TMF bodies are read from the document
        assert any(label.startswith("body ") for label in sweep.sent), f"no hostile body sent to {method} {rule}"

    assert not sweep.failures, "\n".join(sweep.failures)


# -- the guard's rules, one by one, on both backends ----------------------------------------------------------------


@pytest.fixture
def desk(hostile_app):
    """alpha with one active subscription, a partner key and an operator key."""
    world = matrix.World(hostile_app)
    return world, hostile_app.test_client()


NEW_SUBSCRIPTION = {"plan": "standard", "market": "DE", "billing_anchor": "2026-01-15"}


def _errors(response) -> list[dict[str, str]]:
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    return response.json.get("errors", [])


def test_a_nul_in_a_json_field_is_a_422_naming_it(desk):
    world, client = desk
    response = client.post(
        "/v1/subscriptions", json={**NEW_SUBSCRIPTION, "partner_ref": NUL}, headers=bearer(world.alpha)
    )
    assert response.status_code == 422
    assert _errors(response) == [
        {"location": "body", "field": "partner_ref", "detail": "Must not contain a NUL character."}
    ]


def test_a_lone_surrogate_escape_is_a_422_but_a_surrogate_pair_is_a_character(desk):
    world, client = desk
    lone = '{"partner_ref": "cust-\\ud800", "plan": "standard", "market": "DE", "billing_anchor": "2026-01-15"}'
    response = client.post("/v1/subscriptions", data=lone, content_type="application/json", headers=bearer(world.alpha))
    assert response.status_code == 422
    assert [error["field"] for error in _errors(response)] == ["partner_ref"]
    assert "surrogate" in _errors(response)[0]["detail"]

    pair = lone.replace("\\ud800", "\\ud83d\\ude00")  # U+1F600, written as JSON escapes
    created = client.post("/v1/subscriptions", data=pair, content_type="application/json", headers=bearer(world.alpha))
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.json["partner_ref"] == "cust-\U0001f600"


def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(desk):
    world, client = desk
    body = {**NEW_SUBSCRIPTION, "partner_ref": "cust\\u0000"}  # the six characters \u0000, as JSON "\\u0000"
    response = client.post("/v1/subscriptions", json=body, headers=bearer(world.alpha))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["partner_ref"] == "cust\\u0000"


def test_nested_fields_and_keys_are_named_by_their_dotted_path(desk):
    world, client = desk
    items = [
        {"subscription_id": world.subscriptions["active"], "last_viewed_at": "2026-11-01T20:00:00Z"},
        {"subscription_id": NUL, "last_viewed_at": "2026-11-01T20:00:00Z"},
    ]
    response = client.post("/v1/service/activity", json={"items": items}, headers=bearer(world.service))
    assert response.status_code == 422
    assert [error["field"] for error in _errors(response)] == ["items.1.subscription_id"]

    limits = {"rate_limits": {"callcenter\x00": "10/second"}}
    response = client.patch("/admin/v1/partners/alpha", json=limits, headers=bearer(world.operator))
    assert response.status_code == 422
    assert [error["field"] for error in _errors(response)] == ["rate_limits.callcenter\x00"]


def test_a_utf16_body_with_a_nul_is_refused_too(desk):
    world, client = desk
    body = json.dumps({**NEW_SUBSCRIPTION, "partner_ref": NUL}).encode("utf-16")  # json.loads reads UTF-16
    response = client.post("/v1/subscriptions", data=body, content_type="application/json", headers=bearer(world.alpha))
    assert response.status_code == 422
    assert [error["field"] for error in _errors(response)] == ["partner_ref"]


def test_a_nul_in_the_query_is_a_422_naming_the_parameter(desk):
    world, client = desk
    response = client.get("/v1/subscriptions?partner_ref=cust%00ref", headers=bearer(world.alpha))
    assert response.status_code == 422
    assert _errors(response) == [
        {"location": "query", "field": "partner_ref", "detail": "Must not contain a NUL character."}
    ]
    unknown = client.get("/v1/subscriptions?x%00=1", headers=bearer(world.alpha))
    assert unknown.status_code == 422 and [error["field"] for error in _errors(unknown)] == ["x\x00"]


def test_a_nul_in_a_path_id_names_no_resource(desk):
    world, client = desk
    response = client.get("/v1/subscriptions/sub_%00", headers=bearer(world.alpha))
    assert response.status_code == 404
    assert response.json["type"] == "/problems/not-found"
    assert _errors(response) == [
        {"location": "path", "field": "subscription_id", "detail": "Must not contain a NUL character."}
    ]
    # A NUL in a segment no route has: the router's own 404.
    assert client.get("/v1/no%00such", headers=bearer(world.alpha)).status_code == 404


def test_a_body_nested_too_deeply_is_a_400_not_a_500(desk):
    world, client = desk
    deep = '{"partner_ref": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.post("/v1/subscriptions", data=deep, content_type="application/json", headers=bearer(world.alpha))
    assert response.status_code == 400
    assert response.json["type"] == "/problems/bad-request"


def _cursor(values: list) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "parameter", "values"),
    [
        ("/v1/subscriptions", "cursor", ["2026-01-01T00:00:00+00:00", "sub_\x00"]),  # base64 hides the NUL
        ("/v1/subscriptions", "cursor", ["2026-01-01T00:00:00+00:00", "sub_\ud800"]),
        ("/v1/events", "after", ["²"]),  # a digit to str.isdigit, not to int()
        ("/v1/events", "after", ["9" * 40]),  # beyond any BIGINT position (SQLite cannot even bind it)
    ],
)
def test_a_cursor_the_gateway_did_not_issue_is_a_422(desk, path, parameter, values):
    world, client = desk
    response = client.get(path, query_string={parameter: _cursor(values)}, headers=bearer(world.alpha))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert [error["field"] for error in _errors(response)] == ["cursor"]


@pytest.mark.parametrize("message_id", ["msg_" + "x" * 300, "msg_\x00", "msg id"])
def test_a_callback_webhook_id_the_store_cannot_keep_is_a_422(desk, message_id):
    world, client = desk
    body = json.dumps({"type": "subscription.suspend", "data": {"subscription_id": world.subscriptions["active"]}})
    headers = {**signed_headers([world.inbound_secret], message_id, utcnow(), body), **bearer(world.alpha)}
    response = client.post("/v1/callbacks", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert _errors(response) == [
        {"location": "header", "field": "webhook-id", "detail": "1-255 printable ASCII characters, no spaces."}
    ]


@pytest.mark.parametrize(
    ("content_type", "roster", "lines"),
    [
        ("text/csv", "partner_ref,status,plan\ncust\x00ref,active,standard\nactive,active\x00,standard\n", {2, 3}),
        (
            "application/x-ndjson",
            '{"partner_ref": "cust\\u0000ref", "status": "active", "plan": "standard"}\n'
            '{"partner_ref": "cust\\ud800", "status": "active", "plan": "standard"}\n',
            {1, 2},
        ),
    ],
    ids=["csv", "ndjson"],
)
def test_roster_rows_the_store_cannot_hold_are_bad_rows(desk, content_type, roster, lines):
    world, client = desk
    response = client.post("/v1/reconciliations", data=roster, content_type=content_type, headers=bearer(world.alpha))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.json["counts"]["bad_row"] == 2
    items = client.get(
        f"/v1/reconciliations/{response.json['id']}/items",
        query_string={"kind": "bad_row"},
        headers=bearer(world.alpha),
    )
    assert {item["line"] for item in items.json["items"]} == lines
    assert all("NUL character or a lone surrogate" in item["detail"] for item in items.json["items"])


def test_a_partner_code_of_32_letters_and_a_line_break_is_a_422(desk):
    world, client = desk
    body = {"code": "a" * 32 + "\n", "display_name": "Long", "markets": ["DE"], "default_locale": "de-DE"}
    response = client.post("/admin/v1/partners", json=body, headers=bearer(world.operator))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert [error["field"] for error in _errors(response)] == ["code"]


# -- the cost: a clean body is searched, never parsed ---------------------------------------------------------------


def test_a_clean_bulk_body_is_only_searched(monkeypatch):
    from gateway.http import unstorable

    def no_parse(_):
        raise AssertionError("a body without a NUL or surrogate escape must not be parsed by the guard")

    monkeypatch.setattr(unstorable.json, "loads", no_parse)
    item = '{"subscription_id": "sub_0123456789abcdef0123", "last_viewed_at": "2026-11-01T20:00:00Z"},'
    body = ('{"items": [' + item * (8_000_000 // len(item)) + "{}]}").encode()
    unstorable.check_json_body(body)  # no NUL, no "\u0000", no "\ud": searched in C and done


def test_an_unsigned_callback_learns_nothing_about_its_fields(desk):
    world, client = desk
    body = json.dumps({"type": "subscription.suspend", "data": {"subscription_id": NUL}})
    headers = {"webhook-id": "msg_1", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA", **bearer(world.alpha)}
    response = client.post("/v1/callbacks", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert response.json["type"] == "/problems/invalid-signature"  # the signature is checked before the text


@pytest.mark.parametrize("tag", ['"v²"', '"v' + "9" * 5000 + '"'], ids=["superscript digit", "5000 digits"])
def test_an_if_match_that_names_no_version_is_a_412(desk, tag):
    world, client = desk
    headers = {"If-Match": tag, **bearer(world.operator)}
    response = client.patch("/admin/v1/partners/alpha", json={"display_name": "Renamed"}, headers=headers)
    assert response.status_code == 412, response.get_data(as_text=True)
    assert response.json["type"] == "/problems/precondition-failed"
