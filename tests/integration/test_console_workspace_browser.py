"""The agent console as a workspace, end to end in Debian's Chromium (as tests/integration/test_console_browser.py
drives it): a customer found by a prefix, their key facts, actions, open cases and articles in the first screen
of a 1280x720 laptop (measured with getBoundingClientRect), an action confirmed and recorded, a stale page
caught, the keyboard shortcuts and their help overlay, the escalations that need the agent first, and every page
390px wide without sideways scrolling or cut columns."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest

from gateway.domain.clock import utcnow
from gateway.domain.escalations import DEFAULT_SLA, Action, Side, parse_sla_policy
from gateway.domain.keys import KeyKind, Scope
from gateway.domain.notices import NOTICE_LOCALES
from gateway.services import escalations as escalation_service
from gateway.services import faq as faq_service
from gateway.store import migrate
from gateway.store.db import Store, make_engine
from tests.integration.test_console_browser import CHROMIUM_ARGS, SMALL_LAPTOP, browser  # noqa: F401 - the fixture
from tests.support.lookup import add_open_escalation, subscriber_in
from tests.support.seeding import Seeder
from tests.support.serving import start_gateway, stop_gateway

PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`gateway serve` on a SQLite file: a partner with an agent key that may change subscriptions, a warned
    customer with an open case, customers sharing a prefix, one of whose cases is overdue and one the service
    answered; yields (base URL, agent token). Shared by the module's tests: only the action tests change anything,
    each only its own customer (CUST-1002, DONE-<language>)."""
    tmp_path = tmp_path_factory.mktemp("workspace")
    database_url = f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
    store = Store(make_engine(database_url))
    try:
        migrate.upgrade(store.engine)
        seed = Seeder(store)
        seed.partner("rheinfunk", locale="de-DE")
        token = seed.token(KeyKind.PARTNER, "rheinfunk", {Scope.CALLCENTER, Scope.SUBSCRIPTIONS_WRITE})
        now, sla = utcnow(), parse_sla_policy(DEFAULT_SLA)
        with store.transaction() as session:
            warned = subscriber_in(session, "rheinfunk", "warned", partner_ref="CUST-1001")
            escalation_service.open_escalation(
                session,
                partner_code="rheinfunk",
                partner_ref=warned.partner_ref,
                category="inactivity_cancellation",
                priority="high",
                description="Warned although the customer watches every evening.",
                agent_ref="Ben",
                now=now,
                sla=sla,
            )
            for number in range(2, 5):
                subscriber_in(session, "rheinfunk", "active", partner_ref=f"CUST-100{number}")
            for language in NOTICE_LOCALES:  # one warned customer per language, for an action done in it
                subscriber_in(session, "rheinfunk", "warned", partner_ref=f"DONE-{language}")
            late = add_open_escalation(session, subscriber_in(session, "rheinfunk", "active", partner_ref="late-1"))
            late.sla_due_at = now - timedelta(hours=2)
            answered = add_open_escalation(session, subscriber_in(session, "rheinfunk", "active", partner_ref="ans-1"))
            for action in (Action.ACKNOWLEDGE, Action.START, Action.RESOLVE):
                escalation_service.change_status(
                    session,
                    answered,
                    action,
                    side=Side.SERVICE,
                    author="key:gw_0123456789ab",
                    now=now,
                    sla=sla,
                    comment="Refunded the second charge." if action is Action.RESOLVE else None,
                )
        faq_service.load_folder(store, faq_service.ARTICLES_FOLDER, now=utcnow())
    finally:
        store.dispose()
    environment = {
        **os.environ,
        "GATEWAY_INSTANCE_PATH": str(tmp_path / "instance"),
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_LOG_LEVEL": "WARNING",
    }
    process, base = start_gateway(environment, "serve", "--workers", "2")
    try:
        yield base, token
    finally:
        output = stop_gateway(process)
        assert token not in output


def _signed_in(browser, base: str, token: str, viewport: dict, language: str = "en"):  # noqa: F811 - the fixture
    context = browser.new_context(viewport=viewport, locale="en-GB")
    page = context.new_page()
    page.goto(f"{base}/console/sign-in")
    page.fill("#key", token)
    page.fill("#agent", "Ana")
    page.select_option("#locale", language)
    page.locator("main button[type=submit]").click()
    page.wait_for_url("**/console/")
    return context, page


def _box(page, selector: str) -> dict:
    box = page.evaluate(
        """(selector) => { const found = document.querySelector(selector);
            if (!found) return null;
            const r = found.getBoundingClientRect();
            return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; }""",
        selector,
    )
    assert box is not None, f"nothing matches {selector} on {page.url}"
    return box


def _in_first_screen(page, selector: str) -> None:
    """Every element `selector` matches lies wholly inside the viewport as the page opens (no scrolling)."""
    width, height = page.evaluate("[window.innerWidth, window.innerHeight]")
    boxes = page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(selector), (found) => {
            const r = found.getBoundingClientRect(); return [r.top, r.bottom, r.left, r.right]; })""",
        selector,
    )
    assert boxes, f"nothing matches {selector} on {page.url}"
    for top, bottom, left, right in boxes:
        assert top >= 0 and bottom <= height and left >= 0 and right <= width, (
            f"{selector} at top {top:.0f}, bottom {bottom:.0f} is not in the first {width}x{height} screen"
        )


def _no_sideways_scrolling(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"
    width = page.evaluate("document.documentElement.clientWidth")
    cut = page.evaluate(
        """(width) => Array.from(document.querySelectorAll('main td, main th, main dd, main button, main a'))
            .filter((cell) => cell.offsetParent !== null)
            .map((cell) => [cell.textContent.trim().slice(0, 40), cell.getBoundingClientRect().right])
            .filter(([, right]) => right > width + 0.5)""",
        width,
    )
    assert cut == [], f"cut off at {width}px on {page.url}: {cut}"


def _cell_names(page, row: str) -> list[str]:
    """The column names a narrow screen writes before each visible cell of the first `row`."""
    return page.evaluate(
        """(row) => Array.from(document.querySelector(row).cells)
            .filter((cell) => cell.offsetParent !== null && cell.getBoundingClientRect().height > 0)
            .map((cell) => getComputedStyle(cell, '::before').content.replace(/^"|"$/g, ''))""",
        row,
    )


def _key_facts_in_first_screen(page) -> None:
    """Where the customer stands and why, what is due next (when something is), every action, the two most
    relevant articles: in the first screen, no scrolling."""
    _in_first_screen(page, "#status-heading")
    _in_first_screen(page, ".status-card p")  # status, why, inactivity, next due, plan
    if page.locator("#next-due").count():
        _in_first_screen(page, "#next-due")
    _in_first_screen(page, "#actions a.button")
    _in_first_screen(page, "#articles > ul > li a")
    assert page.locator("#articles > ul > li a").count() == 2


@pytest.mark.parametrize("language", NOTICE_LOCALES)
def test_the_customer_screen_fits_a_small_laptop(browser, served, language):  # noqa: F811 - the fixture
    base, token = served
    context, page = _signed_in(browser, base, token, SMALL_LAPTOP, language)
    try:
        # A prefix in another letter case lists the customers it matches; the agent picks one.
        page.goto(f"{base}/console/lookup")
        page.evaluate("document.activeElement.blur()")  # the page focuses its field itself; start outside
        page.keyboard.press("/")
        assert page.evaluate("document.activeElement.id") == "partner_ref"
        page.keyboard.type("cust-10")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*partner_ref=cust-10$"))
        listed = page.locator("ul.candidates a").all_inner_texts()
        assert listed == ["CUST-1001", "CUST-1002", "CUST-1003", "CUST-1004"]
        page.get_by_role("link", name="CUST-1001", exact=True).click()

        # One screen, no scrolling: the key facts, every action, the open case; the header on one line with
        # "Sign out" in it.
        _key_facts_in_first_screen(page)
        _in_first_screen(page, "#next-due")
        assert page.locator("#actions a.button").count() == 5
        _in_first_screen(page, "#open-escalations li")
        sign_out, brand = _box(page, "header .bar form button"), _box(page, "header .brand")
        assert sign_out["top"] < brand["bottom"] and _box(page, "header.top")["bottom"] < 60, "the header wraps"
        _in_first_screen(page, "header .bar form button")
        # The details are closed, one key away.
        assert not page.locator("#notices").evaluate("details => details.open")
        page.keyboard.press("d")
        assert page.locator("#notices").evaluate("details => details.open")
        assert page.locator("#dates").evaluate("details => details.open")
        assert page.locator("#escalation-updates li").count() == 1  # a list of its own, apart from the notices
        _no_sideways_scrolling(page)

        # After an action the page says it was done above the customer: the key facts and the actions that are
        # left still fit the first screen, in every language (the longest words included).
        page.goto(f"{base}/console/lookup?partner_ref=done-{language}")
        page.locator("#actions a.button").first.click()
        page.locator("main form.card button[type=submit]").click()
        page.wait_for_url(re.compile(r".*/console/customers/sub_[0-9a-f]+$"))
        _in_first_screen(page, "main p.message[role=status]")
        assert page.locator("main p.message[role=status]").count() == 1
        _key_facts_in_first_screen(page)
        _no_sideways_scrolling(page)
    finally:
        context.close()


@pytest.mark.parametrize(
    ("language", "typed", "said", "articles"),
    [
        (
            "en",
            "cancle subscriptoin",
            "Searched for: cancel (you typed “cancle”), subscription (you typed “subscriptoin”)",
            ("How does a customer cancel a streaming plan billed by us?", "Why can a customer still watch after"),
        ),
        (
            "de",
            "Kündigng",
            "Gesucht nach: Kündigung (Sie haben „Kündigng“ eingegeben)",
            ("Wie kündigt ein Kunde einen Streaming-Tarif", "Warum kann ein Kunde nach der Kündigung noch schauen?"),
        ),
    ],
)
def test_a_search_typed_in_a_hurry_finds_the_article(browser, served, language, typed, said, articles):  # noqa: F811
    base, token = served
    context, page = _signed_in(browser, base, token, SMALL_LAPTOP, language)
    try:
        page.evaluate("document.activeElement.blur()")
        page.keyboard.press("/")  # the search field, from the keyboard, as on a call
        page.keyboard.type(typed)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/console/faq\?.*q="))
        assert re.sub(r"\s+", " ", page.locator("#corrections").inner_text()).strip() == said
        listed = page.locator("ol.results > li > a").all_inner_texts()
        # The articles about cancelling: one of them among the first three, both listed.
        assert any(title.startswith(articles) for title in listed[:3]), listed
        assert all(any(title.startswith(article) for title in listed[:5]) for article in articles), listed
    finally:
        context.close()


def test_shortcuts_and_their_help_overlay(browser, served):  # noqa: F811 - the fixture
    base, token = served
    context, page = _signed_in(browser, base, token, SMALL_LAPTOP)
    try:
        page.evaluate("document.activeElement.blur()")  # the start page focuses its search field
        page.keyboard.press("?")
        help_overlay = page.get_by_role("dialog", name="Keyboard shortcuts")
        assert help_overlay.is_visible()
        listed = help_overlay.inner_text()
        for what in ("Go to the search field", "Look up a customer", "Escalations", "Search the FAQ", "details"):
            assert what in listed
        page.keyboard.press("Escape")
        assert not help_overlay.is_visible()
        page.get_by_role("button", name="Keyboard shortcuts").click()  # the header's button opens it too
        assert help_overlay.is_visible()
        page.keyboard.press("Escape")

        page.keyboard.press("g")
        page.keyboard.press("e")
        page.wait_for_url("**/console/escalations")
        page.keyboard.press("g")
        page.keyboard.press("l")
        page.wait_for_url("**/console/lookup")
        # Typing in a field is typing: "g", "e" and "?" go into the field, nowhere else.
        page.locator("#partner_ref").focus()
        page.keyboard.type("g e ?")
        assert page.url.endswith("/console/lookup") and not help_overlay.is_visible()
        assert page.locator("#partner_ref").input_value() == "g e ?"
    finally:
        context.close()


def test_an_action_is_confirmed_recorded_and_a_stale_page_is_caught(browser, served):  # noqa: F811 - the fixture
    base, token = served
    context, page = _signed_in(browser, base, token, SMALL_LAPTOP)
    other = context.new_page()
    try:
        page.goto(f"{base}/console/lookup?partner_ref=cust-1002")
        other.goto(f"{base}/console/lookup?partner_ref=cust-1002")  # the same customer, in a second tab

        # The confirmation says what the action does, in the situation texts' words, before anything changes.
        page.get_by_role("link", name="Cancel at the end of the billing period").click()
        page.wait_for_url(re.compile(r".*/actions/schedule_cancellation\?version=\d+$"))
        consequence = page.locator("#consequence").inner_text()
        assert "keeps full access up to and including" in consequence and "not charged after that" in consequence
        _in_first_screen(page, "main form.card button[type=submit]")
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_url(re.compile(r".*/console/customers/sub_[0-9a-f]+$"))
        main = page.locator("main").inner_text()
        assert "Done: Cancel at the end of the billing period." in main
        assert "Cancellation scheduled" in page.locator("#status-heading").inner_text()
        page.locator("#notices summary").click()
        assert re.search(
            r"Cancellation scheduled.*you \(partner\) \(Ana\)",
            page.locator("#notices").inner_text(),
            re.S,
        )

        # The second tab still shows the customer before that: its action is refused with the customer as they are.
        other.get_by_role("link", name="Suspend for non-payment").click()
        assert "changed while your page was open" in other.locator("#changed-meanwhile").inner_text()
        assert "Cancellation scheduled" in other.locator("#status-heading").inner_text()
        assert other.locator("#notices").evaluate("details => details.open")  # the latest changes in view

        # A confirmation page left open while someone else acts: its Confirm changes nothing.
        other.get_by_role("link", name="Cancel immediately").click()
        other.get_by_label("You ended the bundle.").check()
        page.get_by_role("link", name="Withdraw the cancellation").click()
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_url(re.compile(r".*/console/customers/sub_[0-9a-f]+$"))
        other.get_by_role("button", name="Confirm").click()
        assert "changed while your page was open" in other.locator("#changed-meanwhile").inner_text()
        assert "Active" in other.locator("#status-heading").inner_text()  # withdrawn, not cancelled
    finally:
        context.close()


def test_the_escalations_that_need_the_agent_come_first(browser, served):  # noqa: F811 - the fixture
    base, token = served
    context, page = _signed_in(browser, base, token, SMALL_LAPTOP)
    try:
        page.goto(f"{base}/console/escalations")
        rows = page.locator("#attention tbody tr").all_inner_texts()
        assert len(rows) == 2
        assert "late-1" in rows[0] and "overdue" in rows[0].lower()
        assert "ans-1" in rows[1] and "waiting for you" in rows[1]
        assert _box(page, "#attention")["bottom"] < _box(page, "#all-heading")["top"]
        _in_first_screen(page, "#attention tbody tr")
    finally:
        context.close()


def test_every_workspace_page_fits_a_phone(browser, served):  # noqa: F811 - the fixture
    base, token = served
    context, page = _signed_in(browser, base, token, PHONE)
    try:
        page.goto(f"{base}/console/lookup?partner_ref=cust-1001")
        page.keyboard.press("d")  # every detail open: the tables at their widest
        _no_sideways_scrolling(page)
        page.get_by_role("link", name="Cancel immediately").click()
        _no_sideways_scrolling(page)
        page.goto(f"{base}/console/lookup?partner_ref=cust-10")
        _no_sideways_scrolling(page)
        page.goto(f"{base}/console/escalations")
        _no_sideways_scrolling(page)
        # Every column is still there, each cell shown under its column's name.
        assert _cell_names(page, "#attention tbody tr") == ["Why", "Customer", "Category", "Status", "Since"]
        all_columns = ["Opened", "Customer", "Category", "Priority", "Status", "Answer due"]
        assert _cell_names(page, "table[aria-labelledby=all-heading] tbody tr") == all_columns
        page.goto(f"{base}/console/")
        _no_sideways_scrolling(page)
    finally:
        context.close()
