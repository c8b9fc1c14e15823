"""The one way an event is put together (gateway.domain.events): every writer's payload has the same keys in the
same order, so the stored JSON reads the same whoever wrote it."""

from datetime import UTC, datetime

from gateway.domain.events import EventType, change_event_data, envelope, subscription_ref

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def test_an_event_about_a_subscription_names_it_and_its_sequence_before_the_data():
    payload = envelope(
        event_id="evt_1",
        event_type=EventType.SUBSCRIPTION_SUSPENDED,
        occurred_at=NOW,
        partner_code="nordlink",
        data={"status": "suspended"},
        subscription=subscription_ref("sub_1", "cust-1"),
        sequence=4,
    )
    assert list(payload) == ["id", "type", "occurred_at", "partner", "subscription", "sequence", "data"]
    assert payload["occurred_at"] == "2026-03-02T09:30:00+00:00"
    assert payload["subscription"] == {"id": "sub_1", "partner_ref": "cust-1"}


def test_an_event_about_no_subscription_carries_neither_subscription_nor_sequence():
    payload = envelope(
        event_id="evt_2", event_type=EventType.GATEWAY_TEST, occurred_at=NOW, partner_code="nordlink", data={}
    )
    assert list(payload) == ["id", "type", "occurred_at", "partner", "data"]


def test_a_change_event_has_the_change_then_its_details_then_the_members_text():
    notice = {"locale": "en", "subject": "s", "body": "b", "sms": "t"}
    data = change_event_data(
        status="cancellation_scheduled",
        previous_status="active",
        reason="member_request",
        actor="partner",
        effective_at=NOW,
        plan="premium",
        details={"access_until": "2026-03-15T00:00:00+00:00"},
        notice=notice,
    )
    assert list(data) == [
        "status",
        "previous_status",
        "reason",
        "actor",
        "effective_at",
        "plan",
        "access_until",
        "notice",
    ]
    assert data["effective_at"] == "2026-03-02T09:30:00+00:00" and data["notice"] is notice


def test_a_change_without_a_text_for_the_member_carries_no_notice_key():
    data = change_event_data(
        status="active",
        previous_status="active",
        reason="downgrade",
        actor="scheduler",
        effective_at=NOW,
        plan="standard",
        details={},
        notice=None,
    )
    assert "notice" not in data
