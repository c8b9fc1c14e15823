"""The partner's actions from the console's customer view: shown only to a key that may change subscriptions,
confirmed on a page that says what they do, run through the lifecycle once per form, refused with the customer as
they are now when the page was out of date, and recorded in the history with the agent's name."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind, Scope
from gateway.domain.notices import format_date
from gateway.services import faq as faq_service
from gateway.services import keys as key_service
from gateway.store.models import IdempotencyRecord, OutboxEvent, Subscription, SubscriptionChange
from tests.console.test_console import csrf_of, sign_in, text_of
from tests.support.api import app_store
from tests.support.lookup import subscriber_in
from tests.support.seeding import Seeder, add_subscription

TOKEN = re.compile(r'name="token" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="([^"]+)"')
ACTION_LINK = re.compile(r'href="/console/customers/(sub_[0-9a-z]+)/actions/([a-z_]+)\?version=(\d+)"')


def _world(app):
    seed = Seeder(app_store(app))
    seed.partner("alpha", locale="de-DE")
    seed.partner("beta", locale="en")
    store = app_store(app)
    with store.transaction() as session:
        for situation in ("warned", "cancellation_scheduled", "suspended", "active", "cancelled"):
            subscriber_in(session, "alpha", situation)
        add_subscription(session, "alpha", "app-billed", billed_by="service")
        subscriber_in(session, "beta", "active", partner_ref="theirs")
    faq_service.load_folder(store, faq_service.ARTICLES_FOLDER, now=utcnow())
    return {
        "acting": seed.key(KeyKind.PARTNER, "alpha", {Scope.CALLCENTER, Scope.SUBSCRIPTIONS_WRITE}),
        "reading": seed.key(KeyKind.PARTNER, "alpha", {Scope.CALLCENTER}),
    }


@pytest.fixture
def world(app):
    return _world(app)


@pytest.fixture
def acting(client, world):
    """A client signed in as Ana, an alpha agent whose key may change subscriptions, working in English."""
    assert sign_in(client, world["acting"].token, agent="Ana").status_code == 302
    return client


def _subscription(app, partner_ref: str, partner_code: str = "alpha") -> Subscription:
    with app_store(app).read() as session:
        found = session.scalar(
            select(Subscription).where(
                Subscription.partner_code == partner_code, Subscription.partner_ref == partner_ref
            )
        )
        session.expunge(found)
        return found


def _history(app, subscription_id: str) -> list[SubscriptionChange]:
    with app_store(app).read() as session:
        entries = list(
            session.scalars(
                select(SubscriptionChange)
                .where(SubscriptionChange.subscription_id == subscription_id)
                .order_by(SubscriptionChange.sequence)
            )
        )
        session.expunge_all()
        return entries


def _offered(page) -> list[str]:
    return [command for _, command, _ in ACTION_LINK.findall(page.get_data(as_text=True))]


def _confirmation(client, subscription: Subscription, command: str, **query):
    url = f"/console/customers/{subscription.id}/actions/{command}"
    return client.get(url, query_string={"version": subscription.version, **query})


def _confirm(client, subscription: Subscription, command: str, page=None, **fields):
    """Send the confirmation form as the confirmation page wrote it (`page`, else a fresh one), with `fields` over
    its hidden ones."""
    page = page if page is not None else _confirmation(client, subscription, command, plan=fields.get("plan", ""))
    html = page.get_data(as_text=True)
    form = {
        "csrf_token": csrf_of(client, "/console/"),
        "token": TOKEN.search(html).group(1),
        "version": VERSION.search(html).group(1),
        **fields,
    }
    return client.post(f"/console/customers/{subscription.id}/actions/{command}", data=form)


# --- who sees the actions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("partner_ref", "offered"),
    [
        ("warned", ["confirm_keep", "change_plan", "schedule_cancellation", "suspend", "cancel_now"]),
        ("cancellation_scheduled", ["revert_cancellation", "cancel_now"]),
        ("suspended", ["resume", "cancel_now"]),
        ("active", ["change_plan", "schedule_cancellation", "suspend", "cancel_now"]),
        ("app-billed", ["change_plan", "suspend", "cancel_now"]),  # the app takes its own cancellations
        ("cancelled", []),
    ],
)
def test_the_customer_view_offers_the_partners_actions_from_where_the_subscription_stands(acting, partner_ref, offered):
    page = acting.get("/console/lookup", query_string={"partner_ref": partner_ref})

    assert page.status_code == 200
    assert _offered(page) == offered


def test_a_key_without_subscriptions_write_sees_no_actions_and_is_refused(app, client, world):
    warned = _subscription(app, "warned")
    entries = len(_history(app, warned.id))
    sign_in(client, world["reading"].token, agent="Ben")

    page = client.get("/console/lookup", query_string={"partner_ref": "warned"})
    confirmation = _confirmation(client, warned, "suspend")
    forged = client.post(
        f"/console/customers/{warned.id}/actions/suspend",
        data={"csrf_token": csrf_of(client, "/console/"), "token": "t" * 32, "version": str(warned.version)},
    )

    assert page.status_code == 200 and _offered(page) == []
    assert "Your key cannot change subscriptions" in text_of(page)
    assert confirmation.status_code == 403 and forged.status_code == 403
    assert "subscriptions:write" in text_of(forged)
    assert _subscription(app, "warned").version == warned.version
    assert len(_history(app, warned.id)) == entries


def test_a_key_that_loses_the_scope_can_no_longer_act(app, acting, world):
    warned = _subscription(app, "warned")
    page = _confirmation(acting, warned, "suspend")
    with app_store(app).transaction() as session:
        key_service.get_key(session, world["acting"].key.id).scopes = [str(Scope.CALLCENTER)]

    refused = _confirm(acting, warned, "suspend", page=page)

    assert refused.status_code == 403
    assert _subscription(app, "warned").status == "active"


# --- confirming -------------------------------------------------------------------------------------------------


def test_the_confirmation_says_what_a_scheduled_cancellation_does_and_changes_nothing(app, acting):
    active = _subscription(app, "active")

    page = _confirmation(acting, active, "schedule_cancellation")

    assert page.status_code == 200
    shown = text_of(page)
    assert "Cancel at the end of the billing period" in shown  # the situation texts' name of the action
    # The situation text of the status it leads to, with the lifecycle's own period end: the last day of access.
    with app_store(app).read() as session:
        anchor = session.get(Subscription, active.id).billing_anchor
    from gateway.domain.periods import period_end

    last_day = period_end(anchor, utcnow()) - timedelta(days=1)
    assert f"keeps full access up to and including {format_date(last_day, 'en')}" in shown
    assert "and is not charged after that" in shown
    assert "Recorded reason: The customer asked for it." in shown
    assert _subscription(app, "active").version == active.version


def test_the_confirmation_of_a_keep_says_the_membership_is_kept(app, acting):
    shown = text_of(_confirmation(acting, _subscription(app, "warned"), "confirm_keep"))
    assert "Confirm to keep the membership" in shown
    assert "the membership was kept" in shown and "You confirmed on the customer's behalf." in shown


def test_a_plan_change_asks_for_the_plan_then_says_when_it_applies(app, acting):
    active = _subscription(app, "active")  # on standard

    choose = _confirmation(acting, active, "change_plan")
    upgrade = _confirmation(acting, active, "change_plan", plan="premium")
    downgrade = _confirmation(acting, active, "change_plan", plan="standard_with_ads")
    same = _confirmation(acting, active, "change_plan", plan="standard")

    assert choose.status_code == 200 and 'name="token"' not in choose.get_data(as_text=True)  # no form to send yet
    assert "Choose…" in text_of(choose)
    assert upgrade.status_code == 200 and "bigger plan, effective at once" in text_of(upgrade)
    assert "Standard → Premium" in text_of(upgrade)
    assert "smaller plan, effective from the next billing period" in text_of(downgrade)
    assert same.status_code == 422 and "Choose a plan other than the current one." in text_of(same)


def test_an_action_the_lifecycle_does_not_allow_from_here_is_not_offered_for_confirmation(app, acting):
    active = _subscription(app, "active")

    page = _confirmation(acting, active, "resume")

    assert page.status_code == 409
    assert "not possible for this customer as things stand now" in text_of(page)
    assert "active:" in text_of(page)  # the customer as they are


@pytest.mark.parametrize("command", ["rejoin", "activate", "purge", "nonsense"])
def test_commands_the_partner_never_issues_have_no_page(app, acting, command):
    assert _confirmation(acting, _subscription(app, "cancelled"), command).status_code == 404


def test_another_partners_customer_has_no_customer_view_and_no_actions(app, acting):
    theirs = _subscription(app, "theirs", "beta")
    assert acting.get(f"/console/customers/{theirs.id}").status_code == 404
    assert _confirmation(acting, theirs, "suspend").status_code == 404
    forged = acting.post(
        f"/console/customers/{theirs.id}/actions/suspend",
        data={"csrf_token": csrf_of(acting, "/console/"), "token": "t" * 32, "version": str(theirs.version)},
    )
    assert forged.status_code == 404
    assert _subscription(app, "theirs", "beta").status == "active"


# --- running ----------------------------------------------------------------------------------------------------


def test_a_confirmed_action_runs_once_and_is_recorded_with_the_agents_name(app, acting):
    active = _subscription(app, "active")

    done = _confirm(acting, active, "suspend")

    assert done.status_code == 303 and done.headers["Location"] == f"/console/customers/{active.id}"
    after = _subscription(app, "active")
    assert after.status == "suspended" and after.version == active.version + 1
    last = _history(app, active.id)[-1]
    assert (last.command, last.actor, last.reason, last.details.get("agent")) == (
        "suspend",
        "partner",
        "non_payment",
        "Ana",
    )
    with app_store(app).read() as session:  # the partner's event says what happened, not who at the partner did it
        event = session.scalar(
            select(OutboxEvent).where(OutboxEvent.subscription_id == active.id, OutboxEvent.sequence == last.sequence)
        )
        assert event.event_type == "subscription.suspended" and "Ana" not in str(event.payload)
    customer = acting.get(done.headers["Location"])
    shown = text_of(customer)
    assert "Done: Suspend for non-payment." in shown and "Suspended" in shown
    assert re.search(r"Membership suspended .*you \(partner\) \(Ana\)", shown)
    assert _offered(customer) == ["resume", "cancel_now"]


def test_the_same_form_sent_twice_has_one_effect(app, acting):
    active = _subscription(app, "active")
    page = _confirmation(acting, active, "schedule_cancellation")

    first = _confirm(acting, active, "schedule_cancellation", page=page)
    second = _confirm(acting, active, "schedule_cancellation", page=page)

    assert first.status_code == second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert "It took effect once, and nothing more was done." in text_of(acting.get(second.headers["Location"]))
    assert [entry.command for entry in _history(app, active.id)].count("schedule_cancellation") == 1
    assert _subscription(app, "active").version == active.version + 1


def test_a_token_sent_for_another_action_is_refused(app, acting):
    active = _subscription(app, "active")
    page = _confirmation(acting, active, "suspend")
    assert _confirm(acting, active, "suspend", page=page).status_code == 303
    resumed_page = _confirmation(acting, _subscription(app, "active"), "resume")
    reused = TOKEN.search(page.get_data(as_text=True)).group(1)

    refused = _confirm(acting, _subscription(app, "active"), "resume", page=resumed_page, token=reused)

    assert refused.status_code == 422 and "already used for another action" in text_of(refused)
    assert _subscription(app, "active").status == "suspended"


def test_a_stale_page_gets_the_customer_as_they_are_now_and_nothing_is_done(app, acting):
    active = _subscription(app, "active")
    page = _confirmation(acting, active, "schedule_cancellation")
    other = _confirmation(acting, active, "suspend")
    assert _confirm(acting, active, "suspend", page=other).status_code == 303  # another agent, meanwhile

    stale = _confirm(acting, active, "schedule_cancellation", page=page)

    assert stale.status_code == 409
    shown = text_of(stale)
    assert "changed while your page was open, so nothing was done" in shown
    assert "active: Suspended" in shown  # the fresh state
    assert 'id="notices" open' in stale.get_data(as_text=True)  # the latest changes in view
    assert _subscription(app, "active").status == "suspended"
    assert "schedule_cancellation" not in [entry.command for entry in _history(app, active.id)]
    # The lookup page the agent came from, as stale: its confirmation link says so too.
    link = _confirmation(acting, active, "schedule_cancellation")
    assert link.status_code == 409 and "changed while your page was open" in text_of(link)


@pytest.mark.parametrize("version", ["", "abc", "1" * 30, "-1", "²"])
def test_a_form_without_a_version_it_can_name_is_stale(app, acting, version):
    active = _subscription(app, "active")
    refused = _confirm(acting, active, "suspend", version=version)
    assert refused.status_code == 409
    assert _subscription(app, "active").status == "active"


@pytest.mark.parametrize("token", ["", "short", "x" * 65, "has spaces in it here", "ünïcödé-token-123456"])
def test_a_form_without_a_usable_token_is_refused(app, acting, token):
    active = _subscription(app, "active")
    refused = _confirm(acting, active, "suspend", token=token)
    assert refused.status_code == 400 and "Nothing was changed" in text_of(refused)
    assert _subscription(app, "active").status == "active"


def test_a_form_without_the_csrf_token_is_refused(app, acting):
    active = _subscription(app, "active")
    refused = _confirm(acting, active, "suspend", csrf_token="forged")
    assert refused.status_code == 400
    assert _subscription(app, "active").status == "active"


def test_an_action_no_longer_possible_when_sent_returns_to_the_customer(app, acting):
    warned = _subscription(app, "warned")
    page = _confirmation(acting, warned, "confirm_keep")
    with app_store(app).transaction() as session:  # the respond-by date passes while the page is open
        session.get(Subscription, warned.id).inactivity_respond_by = utcnow() - timedelta(minutes=1)

    refused = _confirm(acting, warned, "confirm_keep", page=page)

    assert refused.status_code == 409 and "not possible for this customer" in text_of(refused)
    assert "confirm_keep" not in [entry.command for entry in _history(app, warned.id)]
    with app_store(app).read() as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 0  # the token stays unused


def test_an_immediate_cancellation_needs_its_reason(app, acting):
    active = _subscription(app, "active")
    page = _confirmation(acting, active, "cancel_now")
    assert "You ended the bundle." in text_of(page) and "suspected fraud" in text_of(page)

    missing = _confirm(acting, active, "cancel_now", page=page)
    made_up = _confirm(acting, active, "cancel_now", page=page, reason="member_request")
    done = _confirm(acting, active, "cancel_now", page=page, reason="fraud")

    assert missing.status_code == made_up.status_code == 422
    assert "Choose why the membership ends now." in text_of(missing)
    assert done.status_code == 303
    last = _history(app, active.id)[-1]
    assert (last.command, last.reason, last.details["agent"]) == ("cancel_now", "fraud", "Ana")


def test_a_plan_change_runs_with_the_chosen_plan(app, acting):
    active = _subscription(app, "active")

    page = _confirmation(acting, active, "change_plan", plan="premium")
    refused = _confirm(acting, active, "change_plan", page=page, plan="platinum")
    done = _confirm(acting, active, "change_plan", page=page, plan="premium")

    assert refused.status_code == 422
    assert done.status_code == 303 and _subscription(app, "active").plan == "premium"
    assert _history(app, active.id)[-1].details == {
        "plan": "premium",
        "previous_plan": "standard",
        "change": "upgrade",
        "agent": "Ana",
    }


def test_every_partner_action_runs_from_the_console(app, acting):
    """Each command the buttons offer goes through, one after the other, as the API's would."""
    steps = [
        ("warned", "confirm_keep", {}, "active"),
        ("active", "schedule_cancellation", {}, "cancellation_scheduled"),
        ("active", "revert_cancellation", {}, "active"),
        ("active", "suspend", {}, "suspended"),
        ("active", "resume", {}, "active"),
        ("active", "change_plan", {"plan": "standard_with_ads"}, "active"),
        ("active", "cancel_now", {"reason": "partner_churn"}, "cancelled"),
    ]
    for partner_ref, command, fields, status in steps:
        subscription = _subscription(app, partner_ref)
        assert command in _offered(acting.get(f"/console/customers/{subscription.id}")), command
        assert _confirm(acting, subscription, command, **fields).status_code == 303, command
        assert _subscription(app, partner_ref).status == status, command
    assert _subscription(app, "active").pending_plan is None  # the cancellation made the downgrade moot


# --- both backends, and two submits at once -----------------------------------------------------------------------


def test_two_submits_of_one_form_at_once_have_one_effect(backend_app):
    world = _world(backend_app)
    clients = [backend_app.test_client() for _ in range(2)]
    for client in clients:
        assert sign_in(client, world["acting"].token, agent="Ana").status_code == 302
    active = _subscription(backend_app, "active")
    page = _confirmation(clients[0], active, "suspend")
    html = page.get_data(as_text=True)
    forms = [
        {
            "csrf_token": csrf_of(client, "/console/"),
            "token": TOKEN.search(html).group(1),
            "version": VERSION.search(html).group(1),
        }
        for client in clients
    ]
    start, answers = threading.Barrier(2), [None, None]

    def send(index: int) -> None:
        start.wait()
        answers[index] = clients[index].post(f"/console/customers/{active.id}/actions/suspend", data=forms[index])

    threads = [threading.Thread(target=send, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [answer.status_code for answer in answers] == [303, 303]
    assert [entry.command for entry in _history(backend_app, active.id)].count("suspend") == 1
    assert _subscription(backend_app, "active").version == active.version + 1


def test_a_plan_change_is_not_offered_for_a_suspended_subscription_even_before_a_plan_is_chosen(app, acting):
    suspended = _subscription(app, "suspended")
    page = _confirmation(acting, suspended, "change_plan")
    assert page.status_code == 409 and "not possible for this customer" in text_of(page)
    assert 'id="plan-choice"' not in page.get_data(as_text=True)
