"""Roster reconciliation over HTTP: upload, drift report, CSV download, apply (idempotent), isolation."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind
from gateway.services.scheduler import run_due_transitions
from gateway.store.models import OutboxEvent, Reconciliation
from tests.support.api import app_store, bearer
from tests.support.seeding import add_subscription

ROSTER = """partner_ref,status,plan
same,active,standard
to-suspend,suspended,standard
to-upgrade,active,premium
unknown,active,standard
broken,sometimes,standard
same,active,standard
"""


@pytest.fixture
def world(app, seed):
    """nordlink with four active subscriptions: same, to-suspend, to-upgrade, forgotten."""
    seed.partner("nordlink", markets=["DE"])
    now = utcnow()
    ids = {}
    with app_store(app).transaction() as session:
        for ref in ("same", "to-suspend", "to-upgrade", "forgotten"):
            subscription = add_subscription(session, "nordlink", ref, now=now)
            ids[ref] = subscription.id
    return {"ids": ids, "partner": bearer(seed.token(KeyKind.PARTNER, "nordlink"))}


def upload(client, headers, roster=ROSTER, content_type="text/csv"):
    return client.post("/v1/reconciliations", data=roster, content_type=content_type, headers=headers)


def status_of(client, world, ref):
    return client.get(f"/v1/subscriptions/{world['ids'][ref]}", headers=world["partner"]).json


def test_a_dry_run_reports_every_kind_of_drift_and_changes_nothing(app, client, world):
    response = upload(client, world["partner"])
    assert response.status_code == 201
    job = response.json
    assert job["status"] == "completed" and job["rows"] == 6 and job["repaired"] == 0
    assert job["counts"] == {
        "bad_row": 2,
        "only_at_partner": 1,
        "only_at_gateway": 1,
        "status_mismatch": 1,
        "plan_mismatch": 1,
    }
    items = client.get(f"/v1/reconciliations/{job['id']}/items", headers=world["partner"]).json["items"]
    by_kind = {}
    for item in items:
        by_kind.setdefault(item["kind"], []).append(item)
    assert {(i["line"], i["detail"]) for i in by_kind["bad_row"]} == {
        (6, "unknown status 'sometimes'; expected active, suspended or cancelled"),
        (7, "duplicate partner_ref (also on line 2)"),
    }
    assert by_kind["status_mismatch"][0]["repair"] == "suspend"
    assert by_kind["plan_mismatch"][0]["repair"] == "change_plan"
    assert by_kind["only_at_gateway"][0]["partner_ref"] == "forgotten"
    assert by_kind["only_at_partner"][0]["repair"] is None
    assert status_of(client, world, "to-suspend")["status"] == "active"


def test_items_page_and_filter_by_kind(client, world):
    job = upload(client, world["partner"]).json
    path = f"/v1/reconciliations/{job['id']}/items"
    bad = client.get(f"{path}?kind=bad_row", headers=world["partner"]).json["items"]
    assert {item["kind"] for item in bad} == {"bad_row"}
    first = client.get(f"{path}?limit=4", headers=world["partner"]).json
    rest = client.get(f"{path}?limit=4&cursor={first['next_cursor']}", headers=world["partner"]).json
    assert len(first["items"]) + len(rest["items"]) == 6 and rest["next_cursor"] is None


def test_the_report_downloads_as_csv(client, world):
    job = upload(client, world["partner"]).json
    response = client.get(f"/v1/reconciliations/{job['id']}/report.csv", headers=world["partner"])
    assert response.mimetype == "text/csv"
    assert f'filename="{job["id"]}.csv"' in response.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(table) == 6
    assert {row["kind"] for row in table} >= {"only_at_gateway", "plan_mismatch"}


def test_applying_repairs_through_the_lifecycle_once(app, client, world):
    job = upload(client, world["partner"]).json
    applied = client.post(f"/v1/reconciliations/{job['id']}/apply", headers=world["partner"]).json
    assert applied["repaired"] == 3
    assert status_of(client, world, "to-suspend")["status"] == "suspended"
    assert status_of(client, world, "to-upgrade")["plan"] == "premium"
    assert status_of(client, world, "forgotten")["status"] == "cancelled"
    assert status_of(client, world, "same")["status"] == "active"
    again = client.post(f"/v1/reconciliations/{job['id']}/apply", headers=world["partner"]).json
    assert again["repaired"] == 3
    with app_store(app).read() as session:
        types = session.scalars(
            select(OutboxEvent.event_type).where(OutboxEvent.event_type != "subscription.activated")
        )
        assert sorted(types) == ["subscription.cancelled", "subscription.plan_changed", "subscription.suspended"]


def test_a_repair_is_skipped_when_the_subscription_moved_on(app, client, world):
    job = upload(client, world["partner"]).json
    client.post(f"/v1/subscriptions/{world['ids']['to-suspend']}/suspend", headers=world["partner"])
    applied = client.post(f"/v1/reconciliations/{job['id']}/apply", headers=world["partner"]).json
    assert applied["repaired"] == 2
    items = client.get(f"/v1/reconciliations/{job['id']}/items?kind=status_mismatch", headers=world["partner"]).json
    assert "changed since the comparison" in items["items"][0]["detail"]


def test_a_plan_change_since_the_comparison_skips_that_repair_and_apply_still_succeeds(client, world):
    job = upload(client, world["partner"]).json
    path = f"/v1/subscriptions/{world['ids']['to-upgrade']}/change-plan"
    changed = client.post(path, json={"plan": "premium"}, headers=world["partner"])
    assert changed.status_code == 200
    for _attempt in range(2):  # a retry answers the same: the job can always be applied
        applied = client.post(f"/v1/reconciliations/{job['id']}/apply", headers=world["partner"])
        assert applied.status_code == 200 and applied.json["repaired"] == 2
    assert status_of(client, world, "to-suspend")["status"] == "suspended"
    assert status_of(client, world, "forgotten")["status"] == "cancelled"
    items = client.get(f"/v1/reconciliations/{job['id']}/items?kind=plan_mismatch", headers=world["partner"]).json
    [item] = items["items"]
    assert item["repair"] is None and item["repaired_at"] is None
    assert "not repaired: the subscription changed since the comparison" in item["detail"]


class TestIdempotency:
    def test_an_upload_retried_with_its_key_replays_the_first_answer_and_starts_no_second_job(self, app, client, world):
        headers = {**world["partner"], "Idempotency-Key": "roster-1"}
        first = upload(client, headers)
        retry = upload(client, headers)
        assert first.status_code == retry.status_code == 201
        assert retry.json == first.json and retry.headers["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first.headers
        day_later = run_due_transitions(app_store(app), now=utcnow() + timedelta(hours=23, minutes=59))
        assert day_later.idempotency_records_removed == 0  # kept for 24 hours
        assert upload(client, headers).json == first.json
        with app_store(app).read() as session:
            assert session.scalar(select(func.count()).select_from(Reconciliation)) == 1

    def test_the_same_key_with_another_roster_or_media_type_is_a_422(self, app, client, world):
        headers = {**world["partner"], "Idempotency-Key": "roster-2"}
        assert upload(client, headers).status_code == 201
        other_roster = upload(client, headers, ROSTER + "extra,active,standard\n")
        same_bytes_as_ndjson = upload(client, headers, ROSTER, "application/x-ndjson")
        for reused in (other_roster, same_bytes_as_ndjson):
            assert reused.status_code == 422
            assert reused.json["errors"][0] == {
                "location": "header",
                "field": "Idempotency-Key",
                "detail": "This key was used for a different request; use a new key for a new request.",
            }
        with app_store(app).read() as session:
            assert session.scalar(select(func.count()).select_from(Reconciliation)) == 1

    def test_a_refused_upload_leaves_its_key_free(self, client, world):
        headers = {**world["partner"], "Idempotency-Key": "roster-3"}
        assert upload(client, headers, "same,active,standard\n").status_code == 422
        assert upload(client, headers).status_code == 201

    def test_apply_with_a_key_on_sqlite_is_answered_and_replayed(self, app, client, world):
        job = upload(client, world["partner"]).json
        headers = {**world["partner"], "Idempotency-Key": "apply-1"}
        path = f"/v1/reconciliations/{job['id']}/apply"
        first = client.post(path, headers=headers)
        assert first.status_code == 200 and first.json["repaired"] == 3
        retry = client.post(path, headers=headers)
        assert (retry.status_code, retry.json) == (200, first.json) and retry.headers["Idempotent-Replayed"] == "true"
        assert status_of(client, world, "to-suspend")["status"] == "suspended"

    def test_apply_of_another_partners_job_with_a_key_is_a_404_and_leaves_the_key_free(self, client, world, seed):
        job = upload(client, world["partner"]).json
        seed.partner("other", markets=["DE"])
        other = {**bearer(seed.token(KeyKind.PARTNER, "other")), "Idempotency-Key": "apply-2"}
        assert client.post(f"/v1/reconciliations/{job['id']}/apply", headers=other).status_code == 404
        own = upload(client, {"Authorization": other["Authorization"]}, "partner_ref,status,plan\n").json
        assert client.post(f"/v1/reconciliations/{own['id']}/apply", headers=other).status_code == 200


def test_ndjson_rosters(client, world):
    roster = '{"partner_ref": "same", "status": "active", "plan": "standard"}\n'
    job = upload(client, world["partner"], roster, "application/x-ndjson").json
    assert job["format"] == "ndjson" and job["counts"]["bad_row"] == 0 and job["counts"]["only_at_gateway"] == 3
    assert (job["unreadable_rows"], job["only_at_gateway_withheld"]) == (0, False)
    # A line that is not JSON names no one: who is missing from the roster can no longer be said.
    job = upload(client, world["partner"], roster + "not json\n", "application/x-ndjson").json
    assert job["counts"]["bad_row"] == 1 and job["counts"]["only_at_gateway"] == 0
    assert (job["unreadable_rows"], job["only_at_gateway_withheld"]) == (1, True)


def test_a_job_that_withholds_only_at_gateway_says_so_with_its_unreadable_rows(client, world):
    """A 0 only_at_gateway must not read as nobody missing: the job, read again, and its report say it was
    withheld and how many rows named no one; bad rows that name their customer withhold nothing."""
    roster = 'partner_ref,status,plan\nsame,active,standard\n"to-suspend,active,standard\nx\tz,active,standard\n'
    job = upload(client, world["partner"], roster).json
    path = f"/v1/reconciliations/{job['id']}"
    again = client.get(path, headers=world["partner"]).json
    assert again["counts"]["only_at_gateway"] == 0 and again["counts"]["bad_row"] == 2
    assert (again["unreadable_rows"], again["only_at_gateway_withheld"]) == (2, True)
    report = list(csv.DictReader(io.StringIO(client.get(f"{path}/report.csv", headers=world["partner"]).text)))
    assert report[0]["kind"] == "only_at_gateway_withheld"
    assert report[0]["detail"].startswith("only_at_gateway withheld: 2 rows name no readable partner_ref")
    assert [row["kind"] for row in report[1:]] == ["bad_row", "bad_row"]

    named = upload(client, world["partner"], "partner_ref,status,plan\nsame,actve,standard\n").json  # names its ref
    assert (named["counts"]["bad_row"], named["counts"]["only_at_gateway"]) == (1, 0)
    assert (named["unreadable_rows"], named["only_at_gateway_withheld"]) == (0, True)  # nothing compared
    report = client.get(f"/v1/reconciliations/{named['id']}/report.csv", headers=world["partner"]).text
    assert "only_at_gateway withheld: no row of the roster could be compared" in report

    listed = upload(client, world["partner"]).json  # bad rows that name their customers: the missing are listed
    assert (listed["unreadable_rows"], listed["only_at_gateway_withheld"]) == (0, False)
    report = client.get(f"/v1/reconciliations/{listed['id']}/report.csv", headers=world["partner"]).text
    assert "only_at_gateway_withheld" not in report


def test_a_pretty_printed_json_array_sent_as_ndjson_cancels_no_one(client, world):
    roster = "[\n" + ",\n".join(
        f'  {{"partner_ref": "{ref}", "status": "active", "plan": "standard"}}' for ref in ("same", "to-suspend")
    )  # no closing bracket: the last line is a valid object, so one row is compared
    job = upload(client, world["partner"], roster + "\n", "application/x-ndjson").json
    assert (job["counts"]["bad_row"], job["counts"]["only_at_gateway"]) == (2, 0)
    assert client.post(f"/v1/reconciliations/{job['id']}/apply", headers=world["partner"]).json["repaired"] == 0
    assert {status_of(client, world, ref)["status"] for ref in world["ids"]} == {"active"}


def test_a_malformed_csv_is_reported_as_bad_rows_not_a_500(client, world):
    following = "".join(f"r-{i},cancelled,standard\n" for i in range(6000))  # > 128 KB after a stray quote
    roster = f'partner_ref,status,plan\nsame,active,"standard\n{following}to-suspend,active,{"x" * 140_000}\n'
    response = upload(client, world["partner"], roster)
    assert response.status_code == 201
    job = response.json
    assert job["status"] == "completed" and job["counts"]["bad_row"] == 2 and job["rows"] == 6002
    bad = client.get(f"/v1/reconciliations/{job['id']}/items?kind=bad_row", headers=world["partner"]).json["items"]
    assert [(item["line"], item["partner_ref"]) for item in bad] == [(2, "same"), (6003, "to-suspend")]
    assert "unclosed quote" in bad[0]["detail"] and "longer than 131072 characters" in bad[1]["detail"]
    only = client.get(f"/v1/reconciliations/{job['id']}/items?kind=only_at_gateway", headers=world["partner"]).json
    assert sorted(item["partner_ref"] for item in only["items"]) == ["forgotten", "to-upgrade"]


def test_a_typo_in_a_customers_row_does_not_get_them_cancelled(app, client, world):
    roster = "partner_ref,status,plan\nsame,actve,standard\nto-suspend,active,\nto-upgrade,active,standard\n"
    job = upload(client, world["partner"], roster).json
    assert (job["counts"]["bad_row"], job["counts"]["only_at_gateway"]) == (2, 1)
    path = f"/v1/reconciliations/{job['id']}"
    bad = client.get(f"{path}/items?kind=bad_row", headers=world["partner"]).json["items"]
    assert [(item["line"], item["partner_ref"], item["repair"]) for item in bad] == [
        (2, "same", None),
        (3, "to-suspend", None),
    ]
    [only] = client.get(f"{path}/items?kind=only_at_gateway", headers=world["partner"]).json["items"]
    assert only["partner_ref"] == "forgotten"

    assert client.post(f"{path}/apply", headers=world["partner"]).json["repaired"] == 1

    assert status_of(client, world, "same")["status"] == "active"
    assert status_of(client, world, "to-suspend")["status"] == "active"
    assert status_of(client, world, "forgotten")["status"] == "cancelled"
    with app_store(app).read() as session:
        events = session.execute(
            select(OutboxEvent.subscription_id, OutboxEvent.event_type).where(
                OutboxEvent.event_type != "subscription.activated"
            )
        ).all()
    assert events == [(world["ids"]["forgotten"], "subscription.cancelled")]


@pytest.mark.parametrize(
    ("content_type", "roster"),
    [
        ("text/csv", "partner_ref,status,plan\r\nsame,active,standard\r\n"),
        ("application/x-ndjson", '{"partner_ref": "same", "status": "active", "plan": "standard"}\n'),
    ],
)
def test_a_roster_starting_with_a_byte_order_mark_is_read(client, world, content_type, roster):
    response = upload(client, world["partner"], b"\xef\xbb\xbf" + roster.encode(), content_type)
    assert response.status_code == 201
    assert response.json["counts"]["bad_row"] == 0 and response.json["counts"]["only_at_gateway"] == 3


def test_a_roster_without_its_header_is_a_422_and_starts_no_job(app, client, world):
    response = upload(client, world["partner"], "same,active,standard\n")
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "roster"
    with app_store(app).read() as session:
        assert session.scalar(select(func.count()).select_from(Reconciliation)) == 0


def test_a_json_body_is_a_415_and_no_body_a_422(client, world):
    assert client.post("/v1/reconciliations", json={}, headers=world["partner"]).status_code == 415
    missing = client.post("/v1/reconciliations", headers=world["partner"])
    assert missing.status_code == 422 and missing.json["errors"][0]["field"] == "Content-Type"


def test_the_roster_limit_is_its_own(app, client, world):
    note = "n" * 1000  # an extra column, ignored: over 1 MiB in few rows, far under the roster limit
    roster = "partner_ref,status,plan,note\n" + "".join(f"r-{i},cancelled,standard,{note}\n" for i in range(1200))
    assert len(roster) > app.config["MAX_CONTENT_LENGTH"]
    assert upload(client, world["partner"], roster).json["rows"] == 1200
    app.config["GATEWAY"]["MAX_ROSTER_BYTES"] = 1000
    assert upload(client, world["partner"], roster).status_code == 413


def test_another_partners_reconciliation_is_not_found(client, world, seed):
    job = upload(client, world["partner"]).json
    seed.partner("other", markets=["DE"])
    other = bearer(seed.token(KeyKind.PARTNER, "other"))
    for path in ("", "/items", "/report.csv"):
        assert client.get(f"/v1/reconciliations/{job['id']}{path}", headers=other).status_code == 404
    assert client.post(f"/v1/reconciliations/{job['id']}/apply", headers=other).status_code == 404
