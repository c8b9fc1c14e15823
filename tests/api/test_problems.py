"""Every error is RFC 9457 problem+json with a stable type, a detail and, for bad fields, the fields."""

from __future__ import annotations

import pytest

from gateway.domain.keys import KeyKind
from tests.support.api import bearer

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert set(body) >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["type"] == f"/problems/{slug}"
    assert body["request_id"] == response.headers["X-Request-Id"]
    assert "Traceback" not in response.get_data(as_text=True)
    return body


@pytest.fixture
def operator(seed):
    return bearer(seed.token(KeyKind.OPERATOR))


def test_malformed_json_is_a_400(client, operator):
    response = client.post("/admin/v1/partners", data="{not json", content_type="application/json", headers=operator)
    assert_problem(response, 400, "bad-request")


def test_missing_key_is_a_401_with_a_challenge(client):
    response = client.get("/admin/v1/partners")
    body = assert_problem(response, 401, "unauthenticated")
    assert "Authorization: Bearer" in body["detail"]
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="gateway"'


def test_unknown_route_is_a_404(client):
    assert_problem(client.get("/v1/no-such-thing"), 404, "not-found")


def test_unknown_resource_is_a_404_naming_it(client, operator):
    body = assert_problem(client.get("/admin/v1/partners/nobody", headers=operator), 404, "not-found")
    assert "nobody" in body["detail"]


def test_wrong_method_is_a_405_with_allow(client, operator):
    response = client.put("/admin/v1/partners", json={}, headers=operator)
    assert_problem(response, 405, "method-not-allowed")
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]


def test_body_over_the_limit_is_a_413(client, app, operator):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = '{"display_name": "' + "x" * limit + '"}'
    response = client.post("/admin/v1/partners", data=body, content_type="application/json", headers=operator)
    detail = assert_problem(response, 413, "payload-too-large")["detail"]
    assert str(limit) in detail


def test_form_body_is_a_415(client, operator):
    response = client.post("/admin/v1/partners", data={"code": "x"}, headers=operator)
    body = assert_problem(response, 415, "unsupported-media-type")
    assert "application/x-www-form-urlencoded" in body["detail"]


def test_invalid_fields_are_a_422_listing_each_field(client, operator):
    response = client.post(
        "/admin/v1/partners",
        json={"code": "x", "display_name": "", "markets": "DE", "default_locale": "de", "surprise": 1},
        headers=operator,
    )
    body = assert_problem(response, 422, "validation-error")
    fields = {error["field"]: error for error in body["errors"]}
    assert set(fields) == {"code", "display_name", "markets", "surprise"}
    assert fields["surprise"]["detail"] == "Unknown field."
    assert all(error["location"] == "body" for error in body["errors"])


def test_domain_rule_failures_are_a_422_on_the_field(client, operator):
    response = client.post(
        "/admin/v1/partners",
        json={"code": "okay", "display_name": "Okay", "markets": ["DE", "XX"], "default_locale": "not a tag"},
        headers=operator,
    )
    body = assert_problem(response, 422, "validation-error")
    assert {error["field"] for error in body["errors"]} == {"markets.1", "default_locale"}


def test_bad_query_parameter_is_a_422_in_the_query(client, operator):
    body = assert_problem(client.get("/admin/v1/partners?limit=0", headers=operator), 422, "validation-error")
    assert body["errors"] == [{"location": "query", "field": "limit", "detail": body["errors"][0]["detail"]}]


def test_a_json_array_body_is_a_422_not_a_500(client, operator):
    response = client.post("/admin/v1/partners", json=["not", "an", "object"], headers=operator)
    assert_problem(response, 422, "validation-error")


def test_an_unexpected_failure_is_a_500_without_internals(app, client, caplog):
    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal state gw_0123456789ab_" + "f" * 48)

    response = client.get("/boom")
    body = assert_problem(response, 500, "internal-error")
    assert "secret internal state" not in response.get_data(as_text=True)
    assert body["detail"] == "The gateway failed while handling this request."


def test_every_problem_type_has_a_page(client):
    from gateway.http.problems import PROBLEM_TYPES

    for slug, (status, title, _) in PROBLEM_TYPES.items():
        page = client.get(f"/problems/{slug}")
        assert page.status_code == 200
        assert title in page.get_data(as_text=True) and str(status) in page.get_data(as_text=True)
    assert_problem(client.get("/problems/nonsense"), 404, "not-found")


def test_a_wrong_method_with_an_odd_body_is_still_a_405(client, operator):
    response = client.put("/admin/v1/partners", data="a,b", content_type="text/csv", headers=operator)
    assert_problem(response, 405, "method-not-allowed")
