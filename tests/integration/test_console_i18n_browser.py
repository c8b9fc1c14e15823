"""The agent console in each of its languages, end to end in Debian's Chromium (as tests/integration/
test_console_browser.py drives it): an agent signs in choosing the language and walks every kind of page (start,
customer view, action confirmation, escalations list and case, new escalation with a refused form, FAQ search and
article, settings); each page declares the language and shows no English: the text the browser lays out, the
labels it shows from attributes (aria-label, title, placeholder, data-label under a reflowed table), the closed
details and the shortcut help included. Text an element marks with its own language (an FAQ article, a
customer's situation, a language's own name) is the FAQ's and the situation texts' to keep in that language.
"""

from __future__ import annotations

import os
import re

import pytest

from gateway.domain.clock import utcnow
from gateway.domain.escalations import DEFAULT_SLA, Action, Side, parse_sla_policy
from gateway.domain.keys import KeyKind, Scope
from gateway.domain.notices import NOTICE_LOCALES
from gateway.services import escalations as escalation_service
from gateway.services import faq as faq_service
from gateway.store import migrate
from gateway.store.db import Store, make_engine
from tests.integration.test_console_browser import SMALL_LAPTOP, browser  # noqa: F401 - the fixture
from tests.support.console_language import english_left
from tests.support.lookup import subscriber_in
from tests.support.seeding import Seeder
from tests.support.serving import start_gateway, stop_gateway

pytestmark = pytest.mark.slow

# What the page shows, gathered in the page: visible text nodes and shown attributes, outside script and style,
# outside any element (but <html>) that names its own language.
SHOWN_TEXT = """() => {
  const own = (node) => {
    const marked = node.parentElement && node.parentElement.closest("[lang]");
    return !marked || marked === document.documentElement;
  };
  const parts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest("script, style")) continue;
    if (own(node) && node.textContent.trim()) parts.push(node.textContent.trim());
  }
  for (const element of document.body.querySelectorAll("[aria-label], [title], [placeholder], [data-label]")) {
    if (!own({parentElement: element})) continue;
    for (const name of ["aria-label", "title", "placeholder", "data-label"]) {
      if (element.hasAttribute(name)) parts.push(element.getAttribute(name));
    }
  }
  parts.push(document.title);
  return parts.join(" \\n ");
}"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`gateway serve` on a SQLite file: a partner in Germany whose agent key may change subscriptions, a warned
    customer with a case the streaming service resolved, and the shipped FAQ; yields (base URL, token, case id)."""
    tmp_path = tmp_path_factory.mktemp("i18n")
    database_url = f"sqlite:///{tmp_path / 'gateway.sqlite3'}"
    store = Store(make_engine(database_url))
    try:
        migrate.upgrade(store.engine)
        seed = Seeder(store)
        seed.partner("rheinfunk", locale="de-DE")
        token = seed.token(KeyKind.PARTNER, "rheinfunk", {Scope.CALLCENTER, Scope.SUBSCRIPTIONS_WRITE})
        now, sla = utcnow(), parse_sla_policy(DEFAULT_SLA)
        with store.transaction() as session:
            warned = subscriber_in(session, "rheinfunk", "warned", partner_ref="K-1001")
            case = escalation_service.open_escalation(
                session,
                partner_code="rheinfunk",
                partner_ref=warned.partner_ref,
                category="billing",
                priority="high",
                description="#1",
                agent_ref="Ben",
                now=now,
                sla=sla,
            )
            case_id = case.escalation.id
            for action in (Action.ACKNOWLEDGE, Action.START, Action.RESOLVE):
                case = escalation_service.get_escalation(session, case_id, for_update=True)
                escalation_service.change_status(
                    session, case, action, side=Side.SERVICE, author="key:gw_x", now=now, sla=sla, comment="#2"
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
        yield base, token, case_id
    finally:
        stop_gateway(process)


def _shown(page) -> str:
    return re.sub(r"[ \t]+", " ", page.evaluate(SHOWN_TEXT))


@pytest.mark.parametrize("language", NOTICE_LOCALES)
def test_every_page_in_the_agents_language_and_no_english_left(browser, served, language):  # noqa: F811
    base, token, case_id = served
    context = browser.new_context(viewport=SMALL_LAPTOP, locale="en-GB")  # the browser's own language is English
    page = context.new_page()
    try:
        page.goto(f"{base}/console/sign-in")
        page.fill("#key", token)
        page.fill("#agent", "Ana")
        page.select_option("#locale", language)
        page.click("form[action$='/sign-in'] button[type=submit]")
        page.wait_for_url(f"{base}/console/")

        visits = {
            "start": "/console/",
            "customer": "/console/lookup?partner_ref=K-1001",
            "candidates": "/console/lookup?partner_ref=K-",
            "unknown customer": "/console/lookup?partner_ref=NOBODY",
            "escalations": "/console/escalations",
            "case": f"/console/escalations/{case_id}",
            "new escalation": "/console/escalations/new?partner_ref=K-1001",
            "faq search": "/console/faq?q=inactivity",
            "faq index": "/console/faq",
            "faq article": "/console/faq/activate-bundle",
            "settings": "/console/settings",
            "no such page": "/console/nowhere",
        }
        findings = {}
        for name, path in visits.items():
            page.goto(base + path)
            assert page.evaluate("document.documentElement.lang") == language, name
            if language != "en" and (left := english_left(_shown(page), language)):
                findings[name] = left

        page.goto(f"{base}/console/lookup?partner_ref=K-1001")
        page.locator("ul.actions a").first.click()  # an action's confirmation page
        assert "/actions/" in page.url
        assert page.evaluate("document.documentElement.lang") == language
        if language != "en" and (left := english_left(_shown(page), language)):
            findings["action confirmation"] = left

        page.goto(f"{base}/console/escalations/new")
        page.click("form[action$='/escalations'] button[type=submit]")  # nothing filled in: refused
        assert page.locator("[aria-invalid=true]").count() >= 2
        if language != "en" and (left := english_left(_shown(page), language)):
            findings["refused escalation"] = left

        assert findings == {}
    finally:
        context.close()
