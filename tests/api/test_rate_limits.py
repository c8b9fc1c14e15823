"""Surge protection: per-partner budgets per audience, 429 problems with Retry-After, headers, overrides, Redis."""

from __future__ import annotations

import os
import secrets

import pytest
from limits import parse, parse_many

from gateway import create_app
from gateway.api.http import rate_limits
from gateway.api.http.rate_limits import LocalCounter
from gateway.domain.keys import KeyKind
from gateway.domain.rate_limits import budget_for, check_budget, parse_audience_budgets, partner_budget_errors
from gateway.store import migrate
from tests.support.api import app_store, bearer
from tests.support.seeding import Seeder

REDIS_URL_VARIABLE = "GATEWAY_TEST_REDIS_URL"


def limited_app(tmp_path, sqlite_database, **settings):
    app = create_app(
        {"INSTANCE_PATH": str(tmp_path / "instance"), "LOG_LEVEL": "WARNING", **sqlite_database.settings(), **settings}
    )
    migrate.upgrade(app_store(app).engine)
    return app


@pytest.fixture
def world(tmp_path, sqlite_database):
    app = limited_app(tmp_path, sqlite_database, RATE_LIMITS="partner=5/minute,callcenter=3/minute")
    seed = Seeder(app_store(app))
    for code in ("alpha", "beta"):
        seed.partner(code)
    tokens = {code: seed.token(KeyKind.PARTNER, code) for code in ("alpha", "beta")}
    tokens["operator"] = seed.token(KeyKind.OPERATOR)
    yield app, tokens
    app_store(app).dispose()


def _profile(client, token):
    return client.get("/v1/callcenter/profile", headers=bearer(token))


def test_a_partner_over_its_budget_gets_a_429_problem_with_retry_after(world):
    app, tokens = world
    client = app.test_client()
    for remaining in (2, 1, 0):
        response = _profile(client, tokens["alpha"])
        assert response.status_code == 200
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["X-RateLimit-Remaining"] == str(remaining)
    refused = _profile(client, tokens["alpha"])
    assert refused.status_code == 429
    assert refused.mimetype == "application/problem+json"
    body = refused.get_json()
    assert body["type"] == "/problems/rate-limited"
    assert body["status"] == 429
    assert "callcenter budget of alpha (3/minute)" in body["detail"]
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Remaining"] == "0"


def test_budgets_are_per_partner_and_per_audience(world):
    app, tokens = world
    client = app.test_client()
    for _ in range(3):
        assert _profile(client, tokens["alpha"]).status_code == 200
    assert _profile(client, tokens["alpha"]).status_code == 429
    # The same partner's subscription sync has a budget of its own, and so does every other partner.
    listing = client.get("/v1/subscriptions", headers=bearer(tokens["alpha"]))
    assert listing.status_code == 200
    assert listing.headers["X-RateLimit-Limit"] == "5"
    assert _profile(client, tokens["beta"]).status_code == 200


def test_all_keys_of_a_partner_share_its_budget(world):
    app, tokens = world
    client = app.test_client()
    second_key = Seeder(app_store(app)).token(KeyKind.PARTNER, "alpha")
    for token in (tokens["alpha"], second_key, tokens["alpha"]):
        assert _profile(client, token).status_code == 200
    assert _profile(client, second_key).status_code == 429


def test_audiences_without_a_default_are_unlimited(world):
    app, tokens = world
    client = app.test_client()
    for _ in range(10):
        response = client.get("/admin/v1/partners", headers=bearer(tokens["operator"]))
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers


def test_requests_without_a_usable_key_spend_no_budget(world):
    app, tokens = world
    client = app.test_client()
    for _ in range(5):
        assert client.get("/v1/callcenter/profile").status_code == 401
        assert _profile(client, "gw_000000000000_" + "0" * 48).status_code == 401
    assert _profile(client, tokens["alpha"]).headers["X-RateLimit-Remaining"] == "2"


def test_an_operator_sets_a_partners_own_budget_and_it_holds_at_once(world):
    app, tokens = world
    client = app.test_client()
    operator = bearer(tokens["operator"])
    changed = client.patch(
        "/admin/v1/partners/alpha",
        json={"rate_limits": {"callcenter": "1/minute", "partner": "unlimited"}},
        headers=operator,
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["rate_limits"] == {"callcenter": "1/minute", "partner": "unlimited"}
    assert _profile(client, tokens["alpha"]).status_code == 200
    assert _profile(client, tokens["alpha"]).status_code == 429
    for _ in range(8):  # over the default of 5: this partner's sync is unlimited now
        assert client.get("/v1/subscriptions", headers=bearer(tokens["alpha"])).status_code == 200
    assert _profile(client, tokens["beta"]).status_code == 200  # the default still holds for the others

    cleared = client.patch("/admin/v1/partners/alpha", json={"rate_limits": None}, headers=operator)
    assert cleared.get_json()["rate_limits"] is None


@pytest.mark.parametrize(
    ("rate_limits", "field"),
    [
        ({"callcenter": "lots"}, "rate_limits.callcenter"),
        ({"billing": "5/minute"}, "rate_limits.billing"),
        ({"partner": ""}, "rate_limits.partner"),
        ("5/minute", "rate_limits"),
    ],
)
def test_a_bad_partner_budget_is_a_validation_problem_naming_the_field(world, rate_limits, field):
    app, tokens = world
    client = app.test_client()
    response = client.patch(
        "/admin/v1/partners/alpha", json={"rate_limits": rate_limits}, headers=bearer(tokens["operator"])
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in [error["field"] for error in response.get_json()["errors"]]
    assert client.get("/admin/v1/partners/alpha", headers=bearer(tokens["operator"])).get_json()["rate_limits"] is None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("callcenter", "expected <audience>=<limit>"),
        ("billing=5/minute", "expected <audience>=<limit>"),
        ("partner=5/minute,partner=6/minute", "given twice"),
        ("partner=fast", "is not a rate limit"),
    ],
)
def test_the_default_budgets_setting_is_checked_at_start(tmp_path, text, error):
    with pytest.raises(ValueError, match=error):
        create_app({"INSTANCE_PATH": str(tmp_path), "RATE_LIMITS": text})


def test_budget_rules():
    defaults = parse_audience_budgets("partner=100/second, callcenter=20/second;600/minute")
    assert defaults == {"partner": "100/second", "callcenter": "20/second;600/minute"}
    assert budget_for("callcenter", defaults, None) == "20/second;600/minute"
    assert budget_for("callcenter", defaults, {"callcenter": "5/minute"}) == "5/minute"
    assert budget_for("partner", defaults, {"partner": "unlimited"}) is None
    assert budget_for("service", defaults, {}) is None
    assert budget_for("service", defaults, {"service": "10/second"}) == "10/second"
    assert partner_budget_errors({"partner": "1/hour", "admin": "unlimited"}) == {}
    assert set(partner_budget_errors({"x": "1/hour", "partner": "soon"})) == {"rate_limits.x", "rate_limits.partner"}


@pytest.fixture
def redis_url():
    url = os.environ.get(REDIS_URL_VARIABLE)
    if not url:
        pytest.skip(
            f"{REDIS_URL_VARIABLE} is not set: the shared-counter test needs a Redis server, e.g. "
            f"{REDIS_URL_VARIABLE}=redis://127.0.0.1:6379/0 (.ci/run sets it)"
        )
    return url


def test_with_redis_every_instance_counts_against_one_budget(tmp_path, sqlite_database, redis_url):
    # Two apps on one store stand for two gateway instances; a fresh partner code keeps runs apart in Redis.
    code = f"p{secrets.token_hex(4)}"
    settings = {"RATE_LIMITS": "callcenter=4/minute", "RATE_LIMIT_STORAGE_URL": redis_url}
    first = limited_app(tmp_path / "one", sqlite_database, **settings)
    second = create_app({"INSTANCE_PATH": str(tmp_path / "two"), **sqlite_database.settings(), **settings})
    try:
        token = Seeder(app_store(first)).partner(code) and Seeder(app_store(first)).token(KeyKind.PARTNER, code)
        clients = [first.test_client(), second.test_client()]
        statuses = [_profile(clients[index % 2], token).status_code for index in range(5)]
        assert statuses == [200, 200, 200, 200, 429]
    finally:
        app_store(first).dispose()
        app_store(second).dispose()


def test_an_unreachable_counter_store_lets_requests_through(tmp_path, sqlite_database):
    app = limited_app(
        tmp_path, sqlite_database, RATE_LIMITS="callcenter=1/minute", RATE_LIMIT_STORAGE_URL="redis://127.0.0.1:9/0"
    )
    try:
        seed = Seeder(app_store(app))
        token = seed.partner("alpha") and seed.token(KeyKind.PARTNER, "alpha")
        client = app.test_client()
        assert [_profile(client, token).status_code for _ in range(3)] == [200, 200, 200]
    finally:
        app_store(app).dispose()


@pytest.mark.parametrize("sliding", [True, False])
def test_the_local_counter_keeps_a_budget_per_window(sliding, monkeypatch):
    clock = [1_000_020.0]  # the start of a 60-second window (a multiple of 60)
    monkeypatch.setattr(rate_limits.time, "time", lambda: clock[0])
    counter = LocalCounter(sliding)
    item = parse("3/minute")
    assert [counter.hit(item, "partner:a", "callcenter").allowed for _ in range(4)] == [True, True, True, False]
    assert counter.hit(item, "partner:b", "callcenter").allowed  # another owner, another bucket
    refused = counter.hit(item, "partner:a", "callcenter")
    assert (refused.remaining, refused.reset_at) == (0, clock[0] + 60)
    clock[0] += 60 + 30  # half-way through the next window
    window = counter.hit(item, "partner:a", "callcenter")
    if sliding:
        # Half of the previous window's 3 still counts: 1.5 + 1 of 3 leaves room for no more than 0.5.
        assert (window.allowed, window.remaining) == (True, 0)
        assert not counter.hit(item, "partner:a", "callcenter").allowed
    else:
        assert (window.allowed, window.remaining) == (True, 2)
    clock[0] += 120  # two windows on: nothing counts any more
    assert counter.hit(item, "partner:a", "callcenter").remaining == 2


def test_the_headers_describe_the_tightest_window(tmp_path, sqlite_database):
    app = limited_app(tmp_path, sqlite_database, RATE_LIMITS="callcenter=100/minute;2/second")
    try:
        seed = Seeder(app_store(app))
        token = seed.partner("alpha") and seed.token(KeyKind.PARTNER, "alpha")
        client = app.test_client()
        first = _profile(client, token)
        assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("2", "1")
        _profile(client, token)
        refused = _profile(client, token)
        assert refused.status_code == 429
        assert refused.get_json()["limit"] == "2 per 1 second"
        assert refused.headers["Retry-After"] == "1"
    finally:
        app_store(app).dispose()


def test_an_unknown_counting_strategy_stops_the_start(tmp_path):
    with pytest.raises(ValueError, match="GATEWAY_RATE_LIMIT_STRATEGY='leaky'"):
        create_app({"INSTANCE_PATH": str(tmp_path), "RATE_LIMIT_STRATEGY": "leaky"})


@pytest.mark.parametrize(
    "budget",
    [
        "600/minute",
        "20/second;1000/hour",
        "10 per 2 minutes",
        "5 / Seconds",
        "1/DAY",
        "3/hour,50/day",
        "1/year|2/month",
    ],
)
def test_every_budget_the_rules_accept_is_one_the_counters_read(budget):
    assert check_budget(budget) == budget
    assert parse_many(budget)  # what gateway.api.http.rate_limits counts with


@pytest.mark.parametrize("budget", ["10/min", "5/secondss", "per minute", "10", "10/", "/minute", "10 minute", ""])
def test_a_budget_the_counters_could_not_read_is_refused(budget):
    with pytest.raises(ValueError, match="is not a rate limit"):
        check_budget(budget)
    with pytest.raises(ValueError):
        parse_many(budget)
