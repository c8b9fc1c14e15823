"""Escalations over HTTP on SQLite and PostgreSQL: agents open (once per subscriber and category), list, read,
comment, close and reopen; the service acknowledges, starts and resolves through the admin API. ETags,
idempotency, problems, partner isolation and the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from gateway.domain import escalations as rules
from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind
from gateway.store.models import Escalation, EscalationEntry, OutboxEvent
from tests.support.api import app_store, bearer
from tests.support.seeding import Seeder, add_subscription

BASE = "/v1/callcenter/escalations"
ADMIN = "/admin/v1/escalations"
CASE = {
    "partner_ref": "cust-1",
    "category": "inactivity_cancellation",
    "priority": "high",
    "description": "Cancelled for inactivity, but the customer watches every weekend.",
    "agent_ref": "agent-7",
}


@dataclass
class Desk:
    """Two partners' call centers and the service's support, on one gateway."""

    app: Any
    client: Any
    alpha: dict[str, str]
    beta: dict[str, str]
    operator: dict[str, str]
    operator_prefix: str
    subscriptions: dict[str, str]  # alpha's partner_ref -> subscription id

    def open(self, headers=None, **changes) -> Any:
        return self.client.post(BASE, json={**CASE, **changes}, headers=headers or self.alpha)

    def opened(self, **changes) -> dict[str, Any]:
        response = self.open(**changes)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.json

    def admin(self, escalation_id: str, action: str, body=None, headers=None):
        return self.client.post(
            f"{ADMIN}/{escalation_id}/{action}", json=body or {}, headers={**self.operator, **(headers or {})}
        )

    def partner(self, escalation_id: str, action: str, body: dict, headers=None):
        return self.client.post(
            f"{BASE}/{escalation_id}/{action}", json=body, headers={**self.alpha, **(headers or {})}
        )

    def resolved(self, **changes) -> dict[str, Any]:
        case = self.opened(**changes)
        for action, body in (
            ("acknowledge", {}),
            ("start", {}),
            ("resolve", {"comment": "Reverted; billing resumes."}),
        ):
            response = self.admin(case["id"], action, body)
            assert response.status_code == 200, response.get_data(as_text=True)
        return response.json

    def events(self) -> list[OutboxEvent]:
        with app_store(self.app).read() as session:
            query = select(OutboxEvent).where(OutboxEvent.event_type == rules.EVENT_TYPE).order_by(OutboxEvent.id)
            return list(session.scalars(query))

    def set_due(self, escalation_id: str, due: datetime) -> None:
        with app_store(self.app).transaction() as session:
            session.execute(update(Escalation).where(Escalation.id == escalation_id).values(sla_due_at=due))


@pytest.fixture
def desk(backend_app) -> Desk:
    store = app_store(backend_app)
    seed = Seeder(store)
    seed.partner("alpha", markets=["DE", "AT"], locale="de-DE")
    seed.partner("beta", markets=["FR"], locale="fr-FR")
    with store.transaction() as session:
        subscriptions = {ref: add_subscription(session, "alpha", ref).id for ref in ("cust-1", "cust-2")}
        add_subscription(session, "beta", "cust-b", market="FR")
    operator = seed.key(KeyKind.OPERATOR)
    return Desk(
        app=backend_app,
        client=backend_app.test_client(),
        alpha=bearer(seed.token(KeyKind.PARTNER, "alpha", {"callcenter"})),
        beta=bearer(seed.token(KeyKind.PARTNER, "beta", {"callcenter"})),
        operator=bearer(operator.token),
        operator_prefix=operator.key.prefix,
        subscriptions=subscriptions,
    )


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _fields(response) -> set[str]:
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    return {error["field"] for error in response.json.get("errors", [])}


# -- opening -------------------------------------------------------------------------------------------------------


def test_opening_answers_201_with_the_case_its_sla_and_where_it_lives(desk):
    before = utcnow()
    response = desk.open()
    assert response.status_code == 201, response.get_data(as_text=True)
    case = response.json
    assert case["id"].startswith("esc_")
    assert response.headers["Location"] == f"{BASE}/{case['id']}"
    assert response.headers["ETag"] == '"v1"'
    assert case["subscription"] == {"id": desk.subscriptions["cust-1"], "partner_ref": "cust-1"}
    assert (case["partner"], case["status"], case["priority"], case["category"]) == (
        "alpha",
        "open",
        "high",
        "inactivity_cancellation",
    )
    assert case["locale"] == "de-DE"  # the partner's default
    assert case["overdue"] is False and case["allowed_actions"] == [] and case["version"] == 1
    created = _time(case["created_at"])
    assert before <= created <= utcnow()
    policy = rules.parse_sla_policy(rules.DEFAULT_SLA)
    assert _time(case["sla_due_at"]) == policy.due_at("high", created)
    assert [(e["kind"], e["side"], e["author"], e["to_status"]) for e in case["history"]] == [
        ("opened", "partner", "agent-7", "open")
    ]
    assert desk.client.get(response.headers["Location"], headers=desk.alpha).json["id"] == case["id"]


def test_the_sla_follows_the_configured_policy_and_the_priority(desk):
    desk.app.config["GATEWAY"]["ESCALATION_SLA"] = "urgent=1h,high=2h,normal=3h,low=30d"
    urgent = desk.opened(priority="urgent")
    low = desk.opened(priority="low", category="billing")
    assert _time(urgent["sla_due_at"]) - _time(urgent["created_at"]) == timedelta(hours=1)
    assert _time(low["sla_due_at"]) - _time(low["created_at"]) == timedelta(days=30)
    body = {key: value for key, value in CASE.items() if key != "priority"} | {"category": "technical"}
    normal = desk.client.post(BASE, json=body, headers=desk.alpha).json
    assert normal["priority"] == "normal"
    assert _time(normal["sla_due_at"]) - _time(normal["created_at"]) == timedelta(hours=3)


def test_the_agents_locale_is_kept_in_its_canonical_form(desk):
    assert desk.opened(locale="DE-at")["locale"] == "de-AT"


def test_a_second_opening_for_the_same_subscriber_and_category_returns_the_first(desk):
    first = desk.opened()
    again = desk.open(agent_ref="agent-9", description="Another agent, same customer.", priority="urgent")
    assert again.status_code == 200
    assert again.json["id"] == first["id"]
    assert again.headers["Location"] == f"{BASE}/{first['id']}"
    assert again.headers["ETag"] == '"v1"'
    assert again.json["description"] == CASE["description"] and again.json["priority"] == "high"  # unchanged
    assert len(again.json["history"]) == 1
    assert len(desk.events()) == 1  # nothing happened, nothing is sent
    other_category = desk.open(category="billing")
    other_subscriber = desk.open(partner_ref="cust-2")
    assert other_category.status_code == other_subscriber.status_code == 201
    assert len({first["id"], other_category.json["id"], other_subscriber.json["id"]}) == 3


def test_once_resolved_a_new_case_for_the_same_subscriber_and_category_may_be_opened(desk):
    resolved = desk.resolved()
    fresh = desk.open()
    assert fresh.status_code == 201 and fresh.json["id"] != resolved["id"]


def test_a_subscriber_of_another_partner_or_of_none_is_not_found(desk):
    for ref in ("cust-b", "nobody"):
        response = desk.open(partner_ref=ref)
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"
        assert response.json["type"] == "/problems/not-found"
    with app_store(desk.app).read() as session:
        assert session.scalar(select(Escalation.id)) is None


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"category": "complaint"}, {"category"}),
        ({"priority": "asap"}, {"priority"}),
        ({"description": "   "}, {"description"}),
        ({"description": "x" * 4001}, {"description"}),
        ({"description": "Billed\x00twice"}, {"description"}),  # PostgreSQL text cannot hold a NUL
        ({"partner_ref": "cust-1\x00"}, {"partner_ref"}),
        ({"agent_ref": ""}, {"agent_ref"}),
        ({"locale": "not a locale"}, {"locale"}),
        ({"partner_ref": 42}, {"partner_ref"}),
        ({"subscriber": "cust-1"}, {"subscriber"}),  # unknown fields are refused
        ({"category": None, "description": None}, {"category", "description"}),
    ],
)
def test_bad_input_is_a_422_naming_every_failing_field(desk, change, fields):
    response = desk.client.post(BASE, json={**CASE, **change}, headers=desk.alpha)
    assert response.status_code == 422
    assert _fields(response) == fields


def test_missing_fields_are_named(desk):
    response = desk.client.post(BASE, json={}, headers=desk.alpha)
    assert response.status_code == 422
    assert _fields(response) == {"partner_ref", "category", "description", "agent_ref"}


def test_bodies_that_are_not_json_are_refused_with_a_problem(desk):
    malformed = desk.client.post(BASE, data="{", content_type="application/json", headers=desk.alpha)
    assert malformed.status_code == 400 and malformed.mimetype == "application/problem+json"
    form = desk.client.post(BASE, data={"partner_ref": "cust-1"}, headers=desk.alpha)
    assert form.status_code == 415 and form.mimetype == "application/problem+json"


# -- idempotency ---------------------------------------------------------------------------------------------------


def test_a_retried_opening_with_the_same_key_replays_the_first_answer(desk):
    headers = {**desk.alpha, "Idempotency-Key": "open-1"}
    first = desk.client.post(BASE, json=CASE, headers=headers)
    again = desk.client.post(BASE, json=CASE, headers=headers)
    assert first.status_code == again.status_code == 201  # the replay, not the 200 of a second opening
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json and again.headers["Location"] == first.headers["Location"]
    other_body = desk.client.post(BASE, json={**CASE, "category": "billing"}, headers=headers)
    assert other_body.status_code == 422 and "Idempotency-Key" in _fields(other_body)
    with app_store(desk.app).read() as session:
        assert len(list(session.scalars(select(Escalation.id)))) == 1


def test_a_retried_comment_with_the_same_key_is_added_once(desk):
    case = desk.opened()
    headers = {"Idempotency-Key": "comment-1"}
    body = {"agent_ref": "agent-7", "comment": "The customer called again."}
    first = desk.partner(case["id"], "comments", body, headers)
    again = desk.partner(case["id"], "comments", body, headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    history = desk.client.get(f"{BASE}/{case['id']}", headers=desk.alpha).json["history"]
    assert [entry["kind"] for entry in history] == ["opened", "comment"]


# -- the status machine over HTTP ----------------------------------------------------------------------------------


def test_the_whole_life_of_a_case_with_history_and_comments_from_both_sides(desk):
    case = desk.opened()
    steps = [
        (desk.partner, "comments", {"agent_ref": "agent-7", "comment": "Customer has screenshots."}, "open"),
        (desk.admin, "acknowledge", {}, "acknowledged"),
        (desk.admin, "comments", {"comment": "Which device?", "author": "support-ana"}, "acknowledged"),
        (desk.admin, "start", {"comment": "Checking views."}, "in_progress"),
        (desk.admin, "resolve", {"comment": "Viewing found; cancellation reverted.", "author": "support-ana"},
         "resolved"),
        (desk.partner, "close", {"agent_ref": "agent-8"}, "closed"),
    ]  # fmt: skip
    for number, (call, action, body, status) in enumerate(steps, start=2):
        response = call(case["id"], action, body)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.json["status"] == status
        assert response.headers["ETag"] == f'"v{number}"' and response.json["version"] == number
    final = desk.client.get(f"{BASE}/{case['id']}", headers=desk.alpha)
    assert final.headers["ETag"] == '"v7"'
    body = final.json
    assert body["closed_at"] is not None and body["resolved_at"] is not None
    entries = [
        (e["kind"], e["side"], e["author"], e["from_status"], e["to_status"], e["comment"]) for e in body["history"]
    ]
    # The partner reads a person's name as the author, never the key the service acted with: null then.
    assert entries == [
        ("opened", "partner", "agent-7", None, "open", None),
        ("comment", "partner", "agent-7", None, None, "Customer has screenshots."),
        ("status", "service", None, "open", "acknowledged", None),
        ("comment", "service", "support-ana", None, None, "Which device?"),
        ("status", "service", None, "acknowledged", "in_progress", "Checking views."),
        ("status", "service", "support-ana", "in_progress", "resolved", "Viewing found; cancellation reverted."),
        ("status", "partner", "agent-8", "resolved", "closed", None),
    ]  # fmt: skip
    assert desk.operator_prefix not in final.get_data(as_text=True)
    # The operator sees who acted, key prefix included; otherwise the same history.
    operator_view = desk.client.get(f"{ADMIN}/{case['id']}", headers=desk.operator).json["history"]
    assert [entry["author"] for entry in operator_view] == [
        "agent-7", "agent-7", f"key:{desk.operator_prefix}", "support-ana", f"key:{desk.operator_prefix}",
        "support-ana", "agent-8",
    ]  # fmt: skip
    assert [{**entry, "author": None} for entry in operator_view] == [
        {**entry, "author": None} for entry in body["history"]
    ]


def test_an_action_the_status_does_not_allow_is_a_409_naming_the_status_and_the_allowed_actions(desk):
    case = desk.opened()
    start = desk.admin(case["id"], "start")
    assert start.status_code == 409
    assert start.mimetype == "application/problem+json"
    assert start.json["current_status"] == "open"
    assert start.json["allowed_transitions"] == ["acknowledge"]
    assert "open" in start.json["detail"] and "acknowledge" in start.json["detail"]
    close = desk.partner(case["id"], "close", {"agent_ref": "agent-7"})
    assert close.status_code == 409
    assert (close.json["current_status"], close.json["allowed_transitions"]) == ("open", [])
    resolve = desk.admin(case["id"], "resolve", {"comment": "done"})
    assert resolve.status_code == 409
    with app_store(desk.app).read() as session:  # nothing half-written
        assert session.get(Escalation, case["id"]).version == 1
        assert len(list(session.scalars(select(EscalationEntry.id)))) == 1
    assert len(desk.events()) == 1


def test_a_resolved_case_offers_the_partner_close_and_reopen(desk):
    resolved = desk.resolved()
    assert resolved["allowed_actions"] == []  # the service's view: nothing left for it to do
    seen = desk.client.get(f"{BASE}/{resolved['id']}", headers=desk.alpha).json
    assert seen["allowed_actions"] == ["close", "reopen"]
    again = desk.admin(resolved["id"], "resolve", {"comment": "twice"})
    assert again.status_code == 409 and again.json["current_status"] == "resolved"


def test_resolving_and_reopening_need_a_comment(desk):
    case = desk.opened()
    desk.admin(case["id"], "acknowledge")
    desk.admin(case["id"], "start")
    assert _fields(desk.admin(case["id"], "resolve", {})) == {"comment"}
    desk.admin(case["id"], "resolve", {"comment": "Fixed."})
    assert _fields(desk.partner(case["id"], "reopen", {"agent_ref": "agent-7"})) == {"comment"}
    assert _fields(desk.partner(case["id"], "close", {})) == {"agent_ref"}


def test_reopening_puts_the_case_back_in_the_queue_with_a_new_sla(desk):
    resolved = desk.resolved()
    desk.set_due(resolved["id"], utcnow() - timedelta(days=3))
    before = utcnow()
    response = desk.partner(resolved["id"], "reopen", {"agent_ref": "agent-7", "comment": "Still no access."})
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "open" and body["resolved_at"] is None and body["overdue"] is False
    policy = rules.parse_sla_policy(rules.DEFAULT_SLA)
    assert policy.due_at("high", before) <= _time(body["sla_due_at"]) <= policy.due_at("high", utcnow())
    again = desk.open()
    assert again.status_code == 200 and again.json["id"] == resolved["id"]  # unresolved again: it blocks a duplicate
    assert desk.admin(resolved["id"], "acknowledge").status_code == 200


def test_reopening_is_refused_when_a_newer_case_is_open_for_the_same_subscriber_and_category(desk):
    resolved = desk.resolved()
    newer = desk.opened()
    response = desk.partner(resolved["id"], "reopen", {"agent_ref": "agent-7", "comment": "Not fixed."})
    assert response.status_code == 409
    assert newer["id"] in response.json["detail"]
    with app_store(desk.app).read() as session:
        assert session.get(Escalation, resolved["id"]).status == "resolved"


def test_a_closed_case_takes_no_more_comments_from_either_side(desk):
    resolved = desk.resolved()
    desk.partner(resolved["id"], "close", {"agent_ref": "agent-7"})
    partner = desk.partner(resolved["id"], "comments", {"agent_ref": "agent-7", "comment": "one more thing"})
    service = desk.admin(resolved["id"], "comments", {"comment": "one more thing"})
    assert partner.status_code == service.status_code == 409
    assert partner.json["current_status"] == "closed"


# -- ETag / If-Match -----------------------------------------------------------------------------------------------


def test_a_stale_if_match_is_a_412_and_changes_nothing(desk):
    case = desk.opened()
    desk.partner(case["id"], "comments", {"agent_ref": "agent-7", "comment": "first"})  # now v2
    stale = {"If-Match": '"v1"'}
    for response in (
        desk.partner(case["id"], "comments", {"agent_ref": "agent-7", "comment": "second"}, stale),
        desk.admin(case["id"], "acknowledge", {}, stale),
    ):
        assert response.status_code == 412
        assert response.json["type"] == "/problems/precondition-failed"
    current = desk.admin(case["id"], "acknowledge", {}, {"If-Match": '"v2"'})
    assert current.status_code == 200 and current.headers["ETag"] == '"v3"'
    assert desk.admin(case["id"], "start", {}, {"If-Match": "*"}).status_code == 200
    assert desk.admin(case["id"], "start", {}, {"If-Match": '"nonsense"'}).status_code == 412


# -- reading and listing ------------------------------------------------------------------------------------------


def test_another_partners_case_looks_missing(desk):
    case = desk.opened()
    assert desk.client.get(f"{BASE}/{case['id']}", headers=desk.beta).status_code == 404
    for action, body in (
        ("comments", {"agent_ref": "x", "comment": "hi"}),
        ("close", {"agent_ref": "x"}),
        ("reopen", {"agent_ref": "x", "comment": "hi"}),
    ):
        response = desk.client.post(f"{BASE}/{case['id']}/{action}", json=body, headers=desk.beta)
        assert response.status_code == 404, action
    listed = desk.client.get(BASE, headers=desk.beta)
    assert listed.status_code == 200 and listed.json["items"] == []
    assert case["id"] not in listed.get_data(as_text=True)
    assert desk.client.get(f"{BASE}/esc_missing", headers=desk.alpha).status_code == 404
    assert desk.client.get(f"{BASE}/esc_%00", headers=desk.alpha).status_code == 404  # never reaches the database


def test_the_list_filters_by_status_category_priority_subscriber_and_overdue(desk):
    billing = desk.opened(category="billing", priority="urgent")
    activation = desk.opened(category="activation", partner_ref="cust-2", priority="low")
    resolved = desk.resolved(category="technical")
    desk.set_due(billing["id"], utcnow() - timedelta(minutes=1))
    desk.set_due(resolved["id"], utcnow() - timedelta(days=9))  # resolved: never overdue
    desk.client.post(BASE, json={**CASE, "partner_ref": "cust-b"}, headers=desk.beta)  # beta's own case

    def ids(**query) -> list[str]:
        response = desk.client.get(BASE, query_string=query, headers=desk.alpha)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [item["id"] for item in response.json["items"]]

    assert ids() == [billing["id"], activation["id"], resolved["id"]]  # oldest first, only alpha's
    assert ids(status="resolved") == [resolved["id"]]
    assert ids(category="activation") == [activation["id"]]
    assert ids(priority="urgent") == [billing["id"]]
    assert ids(partner_ref="cust-2") == [activation["id"]]
    assert ids(overdue="true") == [billing["id"]]
    assert ids(overdue="false") == [activation["id"], resolved["id"]]
    assert ids(status="open", partner_ref="cust-1") == [billing["id"]]
    listed = desk.client.get(BASE, query_string={"overdue": "true"}, headers=desk.alpha).json["items"][0]
    assert listed["overdue"] is True and "history" not in listed


def test_the_list_pages_with_a_cursor(desk):
    made = [desk.opened(category=category)["id"] for category in ("billing", "activation", "technical")]
    seen, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = desk.client.get(BASE, query_string=query, headers=desk.alpha).json
        seen.extend(item["id"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == made


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "pending"}, "status"),
        ({"category": "x"}, "category"),
        ({"overdue": "maybe"}, "overdue"),
        ({"limit": 0}, "limit"),
        ({"cursor": "not-ours"}, "cursor"),
    ],
)
def test_a_bad_list_query_is_a_422_naming_the_parameter(desk, query, field):
    response = desk.client.get(BASE, query_string=query, headers=desk.alpha)
    assert response.status_code == 422
    assert _fields(response) == {field}
    assert response.json["errors"][0]["location"] == "query"


def test_the_service_lists_across_partners_and_finds_the_overdue(desk):
    alpha = desk.opened()
    beta = desk.client.post(BASE, json={**CASE, "partner_ref": "cust-b"}, headers=desk.beta).json
    desk.set_due(beta["id"], utcnow() - timedelta(hours=1))

    def ids(**query) -> list[str]:
        response = desk.client.get(ADMIN, query_string=query, headers=desk.operator)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [item["id"] for item in response.json["items"]]

    assert ids() == [alpha["id"], beta["id"]]
    assert ids(partner="beta") == [beta["id"]]
    assert ids(overdue="true") == [beta["id"]]
    assert ids(partner="alpha", overdue="true") == []
    item = desk.client.get(ADMIN, headers=desk.operator).json["items"][0]
    assert item["allowed_actions"] == ["acknowledge"]  # the service's side of the same case
    assert desk.client.get(f"{ADMIN}/esc_missing", headers=desk.operator).status_code == 404


def test_a_partner_key_cannot_reach_the_service_side(desk):
    case = desk.opened()
    assert desk.client.post(f"{ADMIN}/{case['id']}/acknowledge", json={}, headers=desk.alpha).status_code == 403
    assert desk.client.get(ADMIN, headers=desk.alpha).status_code == 403


# -- events --------------------------------------------------------------------------------------------------------


def test_every_change_reaches_the_outbox_as_escalation_updated_in_order(desk):
    case = desk.opened()
    desk.partner(case["id"], "comments", {"agent_ref": "agent-7", "comment": "More detail."})
    desk.admin(case["id"], "acknowledge")
    desk.admin(case["id"], "start")
    desk.admin(case["id"], "resolve", {"comment": "Done.", "author": "support-ana"})
    desk.partner(case["id"], "reopen", {"agent_ref": "agent-7", "comment": "Not done."})
    events = desk.events()
    subscription_id = desk.subscriptions["cust-1"]
    # Ordered with the subscriber's other events by the dispatcher...
    assert {event.subscription_id for event in events} == {subscription_id}
    assert all(event.partner_code == "alpha" for event in events)
    payloads = [event.payload for event in events]
    # ...but a case is no change of the subscription: no `sequence` of its own in the envelope.
    assert all("sequence" not in payload and "subscription" not in payload for payload in payloads)
    data = [payload["data"] for payload in payloads]
    assert [(d["change"], d["previous_status"], d["status"], d["side"], d["version"]) for d in data] == [
        ("opened", None, "open", "partner", 1),
        ("commented", None, "open", "partner", 2),
        ("acknowledged", "open", "acknowledged", "service", 3),
        ("started", "acknowledged", "in_progress", "service", 4),
        ("resolved", "in_progress", "resolved", "service", 5),
        ("reopened", "resolved", "open", "partner", 6),
    ]
    assert data[1]["comment"] == "More detail." and data[4]["author"] == "support-ana"
    # Changes the service made through its key name no one: the partner never reads the key's prefix.
    assert data[2]["author"] is None and data[3]["author"] is None
    assert data[0]["subscription"] == {"id": subscription_id, "partner_ref": "cust-1"}
    assert {d["escalation_id"] for d in data} == {case["id"]}
    assert data[5]["sla_due_at"] != data[0]["sla_due_at"]  # reopening restarted the clock
    # The fixture's teardown validates each against the published catalog (tests/support/event_validation.py).
