"""The agent console end to end: `gateway serve` (gunicorn, two workers) on a real SQLite store, driven by Debian's
headless Chromium through Playwright, from the keyboard: sign in, search the FAQ, look up, open an escalation.

Playwright's own browser downloads are never used: the test launches /usr/bin/chromium (`make test` installs it on
Debian when it runs as root). Without it the test skips and says why; with CI=true it fails instead.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind, Scope
from gateway.services import faq as faq_service
from gateway.store import migrate
from gateway.store.db import Store, make_engine
from tests.support.lookup import subscriber_in
from tests.support.seeding import Seeder
from tests.support.serving import start_gateway, stop_gateway

CHROMIUM = Path(os.environ.get("GATEWAY_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SMALL_LAPTOP = {"width": 1280, "height": 720}

pytestmark = pytest.mark.slow


def _missing_browser() -> str | None:
    """Why the browser test cannot run here, or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        hint = "apt-get install -y chromium (make test does it when run as root on Debian)"
        return f"{CHROMIUM} is missing: {hint}"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing_browser()
    if reason is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and the agent console's browser test cannot run: {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def served(tmp_path):
    """The gateway under gunicorn on a migrated SQLite file holding a partner, an agent key, a warned subscriber
    and the shipped FAQ; yields (base URL, agent token)."""
    database_url = f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
    store = Store(make_engine(database_url))
    try:
        migrate.upgrade(store.engine)
        seed = Seeder(store)
        seed.partner("rheinfunk", locale="de-DE")
        token = seed.token(KeyKind.PARTNER, "rheinfunk", {Scope.CALLCENTER})
        with store.transaction() as session:
            subscriber_in(session, "rheinfunk", "warned", partner_ref="cust-1001")
        faq_service.load_folder(store, faq_service.ARTICLES_FOLDER, now=utcnow())
    finally:
        store.dispose()
    environment = {
        **os.environ,
        "GATEWAY_INSTANCE_PATH": str(tmp_path / "instance"),  # the workers share the generated session key here
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_LOG_LEVEL": "WARNING",
    }
    process, base = start_gateway(environment, "serve", "--workers", "2")
    try:
        yield base, token
    finally:
        output = stop_gateway(process)
        assert token not in output


def _fits_the_screen(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at {SMALL_LAPTOP}"


def _focus_is_visible(page) -> None:
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), f"no visible focus on {page.evaluate('document.activeElement.outerHTML')}"


def test_an_agent_signs_in_searches_looks_up_and_escalates(browser, served):
    base, token = served
    context = browser.new_context(viewport=SMALL_LAPTOP, locale="en-GB")
    page = context.new_page()
    try:
        page.goto(f"{base}/console/lookup?partner_ref=cust-1001")
        assert "/console/sign-in" in page.url

        # Sign in from the keyboard: the key field has the focus, the labels name every field.
        assert page.evaluate("document.activeElement.id") == "key"
        _focus_is_visible(page)
        page.keyboard.type(token)
        page.keyboard.press("Tab")  # the hint under the key field is text, not a stop: the name field is next
        assert page.evaluate("document.activeElement.id") == "agent"
        page.keyboard.type("Ana")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "locale"
        page.get_by_label("Language").select_option("en")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Sign in"
        _focus_is_visible(page)
        page.keyboard.press("Enter")
        page.wait_for_url("**/console/lookup?partner_ref=cust-1001")  # back where the agent wanted to go
        cookie = next(cookie for cookie in context.cookies() if cookie["name"] == "gateway_console")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and token not in cookie["value"]

        # The lookup: the status and reason in words, the dates, what can happen next, what to read.
        status = page.get_by_role("heading", name="cust-1001")
        assert "Active" in status.inner_text()
        page.keyboard.press("d")  # the details (dates, what can happen next, notices) open from the keyboard
        main = page.locator("main").inner_text()
        assert "To keep the membership they must confirm by" in main
        assert "Confirm to keep the membership" in main and "you (partner), the customer, in the app" in main
        assert "How does a customer keep their membership after an inactivity warning?" in main
        _fits_the_screen(page)

        # Search the FAQ: "/" jumps to the search field; Enter searches; the first result opens.
        page.get_by_role("link", name="FAQ", exact=True).click()
        page.evaluate("document.activeElement.blur()")  # the search page focuses its field itself; start outside
        page.keyboard.press("/")
        assert page.evaluate("document.activeElement.id") == "q"
        page.keyboard.type("inactive cancelled")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/console/faq\?q=.*"))
        first = page.locator("ol.results a").first
        title = first.inner_text()
        first.focus()
        _focus_is_visible(page)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/console/faq/[a-z-]+\?.*"))
        assert page.get_by_role("heading", level=1).inner_text() == title
        _fits_the_screen(page)

        # Open an escalation from the lookup.
        page.goto(f"{base}/console/lookup?partner_ref=cust-1001")
        page.get_by_role("link", name="Open an escalation for this customer").click()
        assert page.get_by_label("Customer reference").input_value() == "cust-1001"
        assert page.evaluate("document.activeElement.id") == "category"
        page.get_by_label("Category").select_option("inactivity_cancellation")
        page.get_by_label("High").check()
        page.get_by_label("What the customer reported and what you checked").fill(
            "Warned for inactivity although the customer watches every evening."
        )
        page.get_by_role("button", name="Open the escalation").click()
        page.wait_for_url(re.compile(r".*/console/escalations/esc_[0-9a-f]+$"))
        main = page.locator("main").inner_text()
        assert "Escalation opened" in main and "opened the escalation" in main and "by Ana" in main
        _fits_the_screen(page)

        # Comment on it and follow it in the list.
        page.get_by_label("Comment", exact=True).fill("Customer called again.")
        page.get_by_role("button", name="Add comment").click()
        assert "Customer called again." in page.locator("main").inner_text()
        page.get_by_role("link", name="Escalations", exact=True).click()
        assert "cust-1001" in page.locator("table").inner_text()
        _fits_the_screen(page)

        # Signing out ends the session.
        page.get_by_role("button", name="Sign out").click()
        page.goto(f"{base}/console/escalations")
        assert "/console/sign-in" in page.url
    finally:
        context.close()


def test_make_test_installs_the_browser_first():
    """A fresh Debian machine gets Chromium from `make test` (as root), so the test above runs rather than skips."""
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    [test_rule] = [line for line in makefile.splitlines() if line.startswith("test:")]
    assert "browser" in test_rule.split(":", 1)[1].split("##")[0]
    assert "apt-get install -y chromium" in makefile


def test_the_api_explorer_renders_without_internet(browser, served):
    """/docs loads Swagger UI from the gateway itself: with every request off the gateway's host refused, the
    explorer still renders the contract's operations."""
    base, _ = served
    page = browser.new_page()
    outside = []

    def only_the_gateway(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_gateway)
    page.goto(f"{base}/docs")
    page.wait_for_selector(".opblock", timeout=20_000)

    assert page.locator(".opblock").count() > 50  # every operation of the four audiences
    assert "/v1/subscriptions/{subscription_id}/cancel" in page.content()
    assert outside == []
    page.close()
