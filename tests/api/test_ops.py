"""Liveness, readiness, metrics, request ids and logs that never carry a secret."""

from __future__ import annotations

import io
import json
import logging
import random
import re
from datetime import UTC, datetime

import pytest

from gateway import create_app
from gateway.api.ops import DOCS_ASSETS_FOLDER
from gateway.domain.keys import KeyKind
from gateway.logs import JsonFormatter
from gateway.store import migrate
from tests.support.api import app_store, bearer


def test_healthz_answers_without_touching_the_store(tmp_path):
    app = create_app({"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    assert app.test_client().get("/healthz").json == {"status": "ok"}


def test_readyz_is_ready_on_a_migrated_store(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready", "migration": migrate.head_revision()}


def test_readyz_is_503_before_migrations(sqlite_database):
    app = create_app(sqlite_database.settings())
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert "gateway db upgrade" in response.json["detail"]


def test_readyz_is_503_when_the_store_is_unreachable():
    app = create_app({"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["type"] == "/problems/not-ready"


def test_readyz_is_503_after_a_downgrade(app, client):
    migrate.downgrade(app_store(app).engine, "base")
    assert client.get("/readyz").status_code == 503


def test_metrics_count_requests_by_route_template_and_status(client, seed):
    seed.partner("nordlink")
    endpoint_id = seed.endpoint("nordlink")
    token = bearer(seed.token(KeyKind.PARTNER, "nordlink"))
    client.get(f"/v1/webhook-endpoints/{endpoint_id}", headers=token)
    client.get("/v1/webhook-endpoints/ep_missing", headers=token)
    client.get("/v1/webhook-endpoints")
    text = client.get("/metrics").get_data(as_text=True)
    route = "/v1/webhook-endpoints/<endpoint_id>"
    assert f'gateway_http_requests_total{{method="GET",route="{route}",status="200"}} 1.0' in text
    assert f'gateway_http_requests_total{{method="GET",route="{route}",status="404"}} 1.0' in text
    assert 'route="/v1/webhook-endpoints",status="401"} 1.0' in text
    assert f'gateway_http_request_duration_seconds_count{{method="GET",route="{route}"}} 2.0' in text
    assert endpoint_id not in text  # paths with ids would make label sets unbounded


def test_a_callers_request_id_is_echoed(client):
    response = client.get("/healthz", headers={"X-Request-Id": "partner-trace-42"})
    assert response.headers["X-Request-Id"] == "partner-trace-42"


@pytest.mark.parametrize("offered", ["", "has spaces", "x" * 200, '"},{"level":"forged'])
def test_an_unusable_request_id_is_replaced(client, offered):
    response = client.get("/healthz", headers={"X-Request-Id": offered})
    returned = response.headers["X-Request-Id"]
    assert returned != offered and len(returned) == 32


@pytest.fixture
def log_lines():
    """Everything the gateway logs during the test, as parsed JSON lines."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("gateway")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_access_log_is_json_with_request_id_and_key_prefix_only(client, seed, log_lines):
    seed.partner("nordlink")
    issued = seed.key(KeyKind.PARTNER, "nordlink")
    client.get("/v1/webhook-endpoints", headers={**bearer(issued.token), "X-Request-Id": "trace-1"})
    [entry] = [line for line in log_lines() if line.get("request_id") == "trace-1"]
    assert entry["status"] == 200
    assert entry["partner"] == "nordlink"
    assert entry["key_prefix"] == issued.key.prefix
    assert issued.token not in json.dumps(log_lines())


def test_tokens_issued_or_presented_never_reach_the_logs(client, seed, log_lines):
    operator = seed.token(KeyKind.OPERATOR)
    seed.partner("nordlink")
    issued = client.post(
        "/admin/v1/keys",
        headers=bearer(operator),
        json={"kind": "partner", "partner": "nordlink", "scopes": ["events:read"], "name": "x"},
    )
    client.get("/v1/webhook-endpoints", headers=bearer(issued.json["token"] + "0"))  # malformed: logged?
    everything = json.dumps(log_lines())
    assert issued.json["token"] not in everything
    assert operator not in everything


def test_a_secret_in_a_log_message_or_exception_is_scrubbed(app, client, log_lines):
    token = "gw_0123456789ab_" + "c" * 48

    @app.get("/leaky")
    def leaky():
        logging.getLogger("gateway.test").warning("calling with Bearer %s and whsec_c2VjcmV0", token)
        raise RuntimeError(f"failed with {token}")

    assert client.get("/leaky").status_code == 500
    everything = json.dumps(log_lines())
    assert token not in everything and "c" * 48 not in everything
    assert "whsec_c2VjcmV0" not in everything
    assert "gw_[REDACTED]" in everything and "unhandled error" in everything


def test_log_times_are_utc_to_the_millisecond_as_datetime_writes_them():
    """The formatter writes the part up to the second once per second; every line still reads as
    datetime.isoformat would write it, across second borders and with times out of order."""
    formatter = JsonFormatter()
    picks = random.Random(11)
    border = 1796154720.0
    times = [border - 0.0005, border, border + 0.0009999, border + 0.9999996, border - 3600.25]
    times += [border + picks.uniform(-86400, 86400) for _ in range(20000)]
    for created in times:
        record = logging.LogRecord("gateway", logging.INFO, __file__, 1, "tick", None, None)
        record.created = created
        expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        assert json.loads(formatter.format(record))["time"] == expected, created


@pytest.fixture
def gateway_handler_output():
    """What the gateway's own JSON handler (configure_logging's, the one AccessLog writes to itself) writes."""
    [handler] = [h for h in logging.getLogger("gateway").handlers if getattr(h, "_gateway_json", False)]
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_the_access_line_written_directly_reads_as_the_formatter_writes_it(
    client, seed, gateway_handler_output, log_lines
):
    seed.partner("nordlink")
    issued = seed.key(KeyKind.PARTNER, "nordlink")
    client.get("/v1/webhook-endpoints", headers={**bearer(issued.token), "X-Request-Id": "direct-1"})
    [direct] = [json.loads(line) for line in gateway_handler_output.getvalue().splitlines() if "direct-1" in line]
    # log_lines' handler is not the gateway's: it got an ordinary record, formatted by JsonFormatter.format.
    [through_logging] = [line for line in log_lines() if line.get("request_id") == "direct-1"]
    assert direct == through_logging
    assert direct["logger"] == "gateway.access" and direct["message"] == "request" and direct["level"] == "INFO"
    assert direct["partner"] == "nordlink" and direct["status"] == 200


def test_the_access_line_follows_the_log_level_and_a_loggers_filters(client, gateway_handler_output):
    access = logging.getLogger("gateway.access")
    access.setLevel(logging.WARNING)
    try:
        client.get("/healthz", headers={"X-Request-Id": "quiet-1"})
    finally:
        access.setLevel(logging.NOTSET)
    client.get("/healthz", headers={"X-Request-Id": "loud-1"})
    assert "quiet-1" not in gateway_handler_output.getvalue() and "loud-1" in gateway_handler_output.getvalue()

    class DropHealthChecks(logging.Filter):
        def filter(self, record):
            return record.fields["path"] != "/healthz"

    access.addFilter(filtered := DropHealthChecks())
    try:
        client.get("/healthz", headers={"X-Request-Id": "filtered-1"})
        client.get("/readyz", headers={"X-Request-Id": "kept-1"})
    finally:
        access.removeFilter(filtered)
    written = gateway_handler_output.getvalue()
    assert "filtered-1" not in written and "kept-1" in written


def test_a_broken_stream_is_reported_by_logging_and_the_request_still_answers(client, gateway_handler_output):
    gateway_handler_output.close()  # writing to it now raises ValueError
    reported = []
    handler = next(h for h in logging.getLogger("gateway").handlers if getattr(h, "_gateway_json", False))
    original = handler.handleError
    handler.handleError = reported.append
    try:
        assert client.get("/healthz").status_code == 200
    finally:
        handler.handleError = original
    assert [record.getMessage() for record in reported] == ["request"]


class FlushFails(io.StringIO):
    def flush(self) -> None:
        raise OSError(5, "Input/output error")


def test_an_access_line_whose_flush_fails_is_reported_once_and_not_written_twice(client):
    handler = next(h for h in logging.getLogger("gateway").handlers if getattr(h, "_gateway_json", False))
    stream, reported = FlushFails(), []
    previous, original = handler.setStream(stream), handler.handleError
    handler.handleError = reported.append
    try:
        client.get("/healthz", headers={"X-Request-Id": "flush-1"})
    finally:
        handler.handleError = original
        handler.stream = previous  # not setStream(), which would flush the failing stream once more
    assert stream.getvalue().count("flush-1") == 1
    assert [record.fields["request_id"] for record in reported] == ["flush-1"]


def test_the_api_explorer_loads_swagger_ui_5_from_the_gateway(client):
    page = client.get("/docs").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)

    assert assets and all(asset.startswith("/docs/assets/") for asset in assets), assets
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200 and served.headers["Cache-Control"].startswith("public, max-age="), asset
    bundle = client.get("/docs/assets/swagger-ui-bundle.js").get_data(as_text=True)
    assert "SwaggerUIBundle" in bundle
    assert (DOCS_ASSETS_FOLDER / "VERSION").read_text().strip().startswith("v5")  # 4.x cannot render OpenAPI 3.1


@pytest.mark.parametrize("name", ["index.html", "oauth2-redirect.html", "..%2Fsetup.cfg", "VERSION"])
def test_only_the_explorers_own_files_are_served(client, name):
    assert client.get(f"/docs/assets/{name}").status_code == 404
