"""The console as a workspace, as the server writes it: the customer's key facts and actions before any detail, the
details (dates, every notice, case updates) one click away and in lists of their own, the escalations that need the
agent first without breaking the paging, the console's own style sheet and script, no inline script anywhere."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from gateway.domain.clock import utcnow
from gateway.domain.escalations import Action, Category, Side, SlaPolicy, parse_sla_policy
from gateway.domain.keys import KeyKind, Scope
from gateway.domain.lifecycle import Actor, Command
from gateway.services import escalations as escalation_service
from gateway.services import faq as faq_service
from gateway.services import subscriptions as subscription_service
from gateway.store.models import Escalation, Subscription
from tests.console.test_console import csrf_of, sign_in, text_of
from tests.support.api import app_store
from tests.support.lookup import add_open_escalation, subscriber_in
from tests.support.seeding import Seeder

SLA: SlaPolicy = parse_sla_policy("urgent=4h,high=1bd,normal=3bd,low=5bd")


@pytest.fixture
def agent(app, client):
    seed = Seeder(app_store(app))
    seed.partner("alpha", locale="de-DE")
    seed.partner("beta", locale="en")
    store = app_store(app)
    with store.transaction() as session:
        subscriber_in(session, "alpha", "warned")
        subscriber_in(session, "beta", "active", partner_ref="theirs")
    faq_service.load_folder(store, faq_service.ARTICLES_FOLDER, now=utcnow())
    token = seed.token(KeyKind.PARTNER, "alpha", {Scope.CALLCENTER, Scope.SUBSCRIPTIONS_WRITE})
    assert sign_in(client, token, agent="Ana").status_code == 302
    return client


def _html(response) -> str:
    return response.get_data(as_text=True)


def _main(response) -> str:
    return _html(response).split("<main", 1)[1].split("</main>", 1)[0]


def _position(html: str, marker: str) -> int:
    found = html.find(marker)
    assert found >= 0, f"{marker!r} is not on the page"
    return found


# --- the customer screen ----------------------------------------------------------------------------------------


def test_the_key_facts_and_actions_come_before_every_detail(agent):
    page = agent.get("/console/lookup", query_string={"partner_ref": "warned"})
    html = _main(page)

    first_detail = _position(html, '<details class="more"')
    for marker in (
        'id="status-heading"',
        "<strong>Why:</strong>",
        'id="next-due"',
        'id="actions"',
        'id="open-escalations"',
        'id="articles"',
    ):
        assert _position(html, marker) < first_detail, marker
    assert "Next due: Cancel for inactivity if there is no confirmation" in text_of(page)
    articles = re.search(r'id="articles".*?</ul>', html, re.S).group(0)
    assert articles.count("<li>") == 2  # the two most relevant, the others one click further
    assert "How does a customer keep their membership after an inactivity warning?" in articles


def test_the_details_are_closed_and_each_in_its_own_place(agent):
    html = _main(agent.get("/console/lookup", query_string={"partner_ref": "warned"}))

    details = re.findall(r'<details class="more" data-details id="([a-z-]+)"\s*>', html)
    assert details == ["dates", "next-steps", "notices", "escalation-updates"]  # none of them open
    assert "Last day of access" in html.split('id="dates"', 1)[1].split("</details>", 1)[0]


def test_notices_and_escalation_updates_are_separate_lists_and_every_notice_is_there(app, agent):
    with app_store(app).transaction() as session:
        warned = session.scalar(select(Subscription).where(Subscription.partner_ref == "warned"))
        now = utcnow()
        for step in range(4):  # eight changes, more than the five the API's lookup lists
            for command, reason in ((Command.SUSPEND, "non_payment"), (Command.RESUME, "payment_recovered")):
                subscription_service.apply_command(
                    session, warned, command, actor=Actor.PARTNER, reason=reason, now=now + timedelta(minutes=step)
                )
        case = escalation_service.open_escalation(
            session,
            partner_code="alpha",
            partner_ref="warned",
            category="billing",
            priority="high",
            description="Charged twice.",
            agent_ref="Ana",
            now=now,
            sla=SLA,
        ).escalation
        for _ in range(6):  # more escalation updates than notices shown before: they push nothing out
            escalation_service.add_comment(session, case, side=Side.SERVICE, author="Sam", comment="Checking.", now=now)

    html = _main(agent.get("/console/lookup", query_string={"partner_ref": "warned"}))

    notices = html.split('id="notices"', 1)[1].split("</details>", 1)[0]
    updates = html.split('id="escalation-updates"', 1)[1].split("</details>", 1)[0]
    assert notices.count(">Membership suspended<") == 4
    assert notices.count(">Membership resumed<") == 4
    assert ">Membership activated<" in notices  # the oldest, still there
    assert "escalation" not in notices
    assert updates.count("commented") == 6 and "opened the escalation" in updates
    assert "Streaming service (Sam)" in updates and "key:" not in updates


def test_the_search_field_keeps_the_customers_own_reference(agent):
    page = agent.get("/console/lookup", query_string={"partner_ref": "WARNED"})
    assert page.status_code == 200 and 'name="partner_ref" value="warned"' in _html(page)


# --- the escalations list ---------------------------------------------------------------------------------------


def _cases(app, subscribers: int, categories: int) -> list[str]:
    """subscribers x categories open cases of alpha's, due tomorrow, opened a minute apart."""
    now = utcnow()
    made = []
    with app_store(app).transaction() as session:
        for number in range(subscribers):
            subscription = subscriber_in(session, "alpha", "active", partner_ref=f"many-{number:02d}")
            for index, category in enumerate(list(Category)[:categories]):
                case = add_open_escalation(
                    session, subscription, category=str(category), now=now - timedelta(minutes=number * 10 + index)
                )
                case.sla_due_at = now + timedelta(days=1)
                made.append(case.id)
    return made


def test_overdue_cases_and_answers_waiting_for_the_agent_head_the_list(app, agent):
    _cases(app, 2, 3)
    now = utcnow()
    with app_store(app).transaction() as session:
        cases = list(session.scalars(select(Escalation).order_by(Escalation.created_at)))
        cases[4].sla_due_at = now - timedelta(hours=1)  # overdue
        for action in (Action.ACKNOWLEDGE, Action.START, Action.RESOLVE):
            escalation_service.change_status(
                session,
                cases[1],
                action,
                side=Side.SERVICE,
                author="key:gw_0123456789ab",
                now=now,
                sla=SLA,
                comment="Refunded." if action is Action.RESOLVE else None,
            )
        overdue_ref = session.get(Subscription, cases[4].subscription_id).partner_ref
        answered_ref = session.get(Subscription, cases[1].subscription_id).partner_ref

    page = agent.get("/console/escalations")
    html = _main(page)

    attention = html.split('id="attention"', 1)[1].split("</section>", 1)[0]
    rows = attention.split("<tr>")[2:]  # past the header row
    assert len(rows) == 2
    assert "Answer overdue" in rows[0] and overdue_ref in rows[0]
    assert "Answer waiting for you" in rows[1] and answered_ref in rows[1]
    assert _position(html, 'id="attention"') < _position(html, 'id="all-heading"')
    # The full list below still holds every case, the two among them.
    assert _main(page).split('id="all-heading"', 1)[1].count("<tr>") == 1 + 6
    resolved_only = _main(agent.get("/console/escalations", query_string={"status": "resolved"}))
    assert resolved_only.split('id="attention"', 1)[1].split("</section>", 1)[0].count("Answer waiting for you") == 1
    assert "Answer overdue" not in resolved_only


def test_paging_through_the_escalations_still_works_and_the_queue_heads_only_the_first_page(app, agent):
    made = _cases(app, 6, 9)  # 54 cases: a full page of 50 and 4 more
    with app_store(app).transaction() as session:
        session.get(Escalation, made[0]).sla_due_at = utcnow() - timedelta(hours=1)

    first = _main(agent.get("/console/escalations"))
    following = re.search(r'href="(/console/escalations\?[^"]*after=[^"]+)"', first).group(1)
    second = _main(agent.get(following.replace("&amp;", "&")))

    listed_first = re.findall(r"/console/escalations/(esc_[0-9a-f]+)", first.split('id="all-heading"', 1)[1])
    listed_second = re.findall(r"/console/escalations/(esc_[0-9a-f]+)", second.split('id="all-heading"', 1)[1])
    assert len(listed_first) == 50 and len(listed_second) == 4
    assert set(listed_first) | set(listed_second) == set(made) and not set(listed_first) & set(listed_second)
    assert 'id="attention"' in first and 'id="attention"' not in second
    assert "Next page" not in second


# --- the console's files and its script policy -------------------------------------------------------------------


def test_the_style_sheet_and_script_are_served_by_the_console_itself_before_sign_in(client):
    css = client.get("/console/assets/console.css")
    js = client.get("/console/assets/console.js")

    assert css.status_code == 200 and css.mimetype == "text/css"
    assert js.status_code == 200 and js.mimetype in ("text/javascript", "application/javascript")
    assert "keydown" in js.get_data(as_text=True)
    for name in ("views.py", "../views.py", "..%2Fviews.py", "console.map", ""):
        assert client.get(f"/console/assets/{name}").status_code == 404, name


@pytest.mark.parametrize(
    "url",
    ["/console/", "/console/lookup?partner_ref=warned", "/console/escalations", "/console/lookup?partner_ref=w"],
)
def test_pages_load_only_the_consoles_own_script_and_no_inline_one(agent, url):
    html = _html(agent.get(url))

    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts == ['<script src="/console/assets/console.js" defer>']
    assert re.search(r"<script\b[^>]*>\s*[^<\s]", html) is None  # nothing written between the tags
    assert re.search(r"\son[a-z]+\s*=", html) is None  # no event handler attributes
    assert '<link rel="stylesheet" href="/console/assets/console.css">' in html


def test_the_shortcuts_are_listed_for_a_signed_in_agent_only(client, agent):
    signed_in = _html(agent.get("/console/"))
    assert 'id="shortcuts"' in signed_in and 'data-go-lookup="/console/lookup"' in signed_in
    for key in ("<kbd>/</kbd>", "<kbd>g</kbd> <kbd>l</kbd>", "<kbd>g</kbd> <kbd>e</kbd>", "<kbd>?</kbd>"):
        assert key in signed_in
    agent.post("/console/sign-out", data={"csrf_token": csrf_of(agent, "/console/")})
    signed_out = _html(agent.get("/console/sign-in"))
    assert 'id="shortcuts"' not in signed_out and "data-go-lookup" not in signed_out
