"""Operators' FAQ API: list, read, create, replace (If-Match), delete, and the problems bad input gets."""

from __future__ import annotations

import pytest

from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind
from gateway.services import faq as faq_service
from tests.support.api import app_store, bearer

ARTICLE = {
    "title": "Why was my membership cancelled?",
    "body": "Because nobody watched anything for **24 months**.",
    "tags": ["inactive", "cancelled"],
    "related_events": ["subscription.cancelled"],
}


@pytest.fixture
def operator(seed) -> dict[str, str]:
    return bearer(seed.token(KeyKind.OPERATOR))


@pytest.fixture
def loaded(app):
    faq_service.load_folder(app_store(app), faq_service.ARTICLES_FOLDER, now=utcnow())


def field_errors(response) -> dict[str, tuple[str, str]]:
    return {error["field"]: (error["location"], error["detail"]) for error in response.json["errors"]}


def test_the_list_pages_through_every_article_with_filters(client, operator, loaded):
    seen, cursor = [], None
    while True:
        query = {"limit": 30, **({"cursor": cursor} if cursor else {})}
        response = client.get("/admin/v1/faq", query_string=query, headers=operator)
        assert response.status_code == 200
        seen += [(item["slug"], item["locale"]) for item in response.json["items"]]
        cursor = response.json["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 70 and seen == sorted(seen)
    assert "body" not in response.json["items"][0]

    german = client.get("/admin/v1/faq?locale=de&limit=200", headers=operator).json["items"]
    assert len(german) == 14 and {item["locale"] for item in german} == {"de"}
    assert client.get("/admin/v1/faq?source=admin", headers=operator).json["items"] == []


def test_one_article_with_its_version_as_etag(client, operator, loaded):
    response = client.get("/admin/v1/faq/extra-member/fr", headers=operator)
    assert response.status_code == 200
    assert response.headers["ETag"] == '"v1"'
    assert response.json["source"] == "file" and response.json["locale"] == "fr"
    assert response.json["body"].startswith("Depuis")

    missing = client.get("/admin/v1/faq/extra-member/it", headers=operator)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_create_then_a_second_create_is_a_409_and_a_retry_with_its_key_is_replayed(client, operator):
    body = {**ARTICLE, "slug": "why-cancelled", "locale": "en"}
    created = client.post("/admin/v1/faq", json=body, headers={**operator, "Idempotency-Key": "faq-1"})
    assert created.status_code == 201, created.json
    assert created.headers["ETag"] == '"v1"'
    assert created.json | {"updated_at": None} == {
        "slug": "why-cancelled",
        "locale": "en",
        **ARTICLE,
        "source": "admin",
        "version": 1,
        "updated_at": None,
    }

    replayed = client.post("/admin/v1/faq", json=body, headers={**operator, "Idempotency-Key": "faq-1"})
    assert replayed.status_code == 201 and replayed.headers["Idempotent-Replayed"] == "true"
    again = client.post("/admin/v1/faq", json=body, headers=operator)
    assert again.status_code == 409 and again.json["type"] == "/problems/conflict"


def test_put_replaces_with_if_match_and_a_stale_version_is_a_412(client, operator, loaded):
    url = "/admin/v1/faq/extra-member/de"
    current = client.get(url, headers=operator)
    replaced = client.put(url, json=ARTICLE, headers={**operator, "If-Match": current.headers["ETag"]})
    assert replaced.status_code == 200, replaced.json
    assert replaced.headers["ETag"] == '"v2"'
    assert (replaced.json["title"], replaced.json["source"]) == (ARTICLE["title"], "admin")
    assert client.get(url, headers=operator).json["body"] == ARTICLE["body"]

    stale = client.put(url, json={**ARTICLE, "title": "Lost update"}, headers={**operator, "If-Match": '"v1"'})
    assert stale.status_code == 412 and stale.json["type"] == "/problems/precondition-failed"
    assert client.get(url, headers=operator).json["title"] == ARTICLE["title"]

    foreign = client.put(url, json=ARTICLE, headers={**operator, "If-Match": '"abc"'})
    assert foreign.status_code == 412


def test_put_creates_a_missing_article_unless_if_match_expects_one(client, operator):
    url = "/admin/v1/faq/new-article/ms"
    expected = client.put(url, json=ARTICLE, headers={**operator, "If-Match": '"v1"'})
    assert expected.status_code == 412
    created = client.put(url, json=ARTICLE, headers=operator)
    assert created.status_code == 200 and created.json["version"] == 1
    same = client.put(url, json=ARTICLE, headers={**operator, "If-Match": '"v1"'})
    assert same.json["version"] == 1  # nothing changed, no new version


def test_delete_with_if_match(client, operator, loaded):
    url = "/admin/v1/faq/extra-member/es"
    assert client.delete(url, headers={**operator, "If-Match": '"v9"'}).status_code == 412
    assert client.delete(url, headers={**operator, "If-Match": '"v1"'}).status_code == 204
    assert client.get(url, headers=operator).status_code == 404
    assert client.delete(url, headers=operator).status_code == 404


@pytest.mark.parametrize(
    ("body", "location", "fields"),
    [
        ({**ARTICLE, "slug": "Bad_Slug", "locale": "en"}, "body", {"slug"}),
        ({**ARTICLE, "slug": "ok", "locale": "de-AT"}, "body", {"locale"}),
        ({**ARTICLE, "slug": "ok", "locale": "it"}, "body", {"locale"}),
        ({**ARTICLE, "slug": "ok", "locale": "en", "title": ""}, "body", {"title"}),
        ({"slug": "ok", "locale": "en"}, "body", {"title", "body"}),
        ({**ARTICLE, "slug": "ok", "locale": "en", "tags": "one"}, "body", {"tags"}),
        ({**ARTICLE, "slug": "ok", "locale": "en", "related_events": ["no.such"]}, "body", {"related_events.0"}),
        ({**ARTICLE, "slug": "ok", "locale": "en", "title": "   "}, "body", {"title"}),
    ],
)
def test_bad_articles_are_validation_problems_naming_the_fields(client, operator, body, location, fields):
    response = client.post("/admin/v1/faq", json=body, headers=operator)
    assert response.status_code == 422, response.json
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "/problems/validation-error"
    errors = field_errors(response)
    assert set(errors) == fields and {where for where, _ in errors.values()} == {location}
    assert client.get("/admin/v1/faq/ok/en", headers=operator).status_code == 404  # nothing half-written


def test_a_bad_key_in_the_put_path_is_a_problem_in_the_path(client, operator):
    response = client.put("/admin/v1/faq/Not%20Kebab/de-AT", json=ARTICLE, headers=operator)
    assert response.status_code == 422
    assert set(field_errors(response)) == {"slug", "locale"}
    assert {where for where, _ in field_errors(response).values()} == {"path"}


def test_partner_keys_cannot_edit_the_faq(client, seed):
    seed.partner("alpha")
    partner = bearer(seed.token(KeyKind.PARTNER, "alpha"))
    response = client.put("/admin/v1/faq/x/en", json=ARTICLE, headers=partner)
    assert response.status_code == 403 and response.json["type"] == "/problems/insufficient-scope"
