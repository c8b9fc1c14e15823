"""The agent console through create_app's test client: sign-in and its refusals, the session, CSRF, every page."""

from __future__ import annotations

import html
import re
import time
from datetime import timedelta

import pytest
from babel.dates import format_date
from sqlalchemy import func, select

from gateway import create_app
from gateway.console.endpoints import AGENT_ENDPOINTS, BLUEPRINT, CONSOLE_ENDPOINTS, OPEN_ENDPOINTS
from gateway.console.secret_key import SECRET_FILE
from gateway.console.session import COOKIE_NAME, SESSION_MAX_HOURS
from gateway.domain.clock import utcnow
from gateway.domain.escalations import Action, SlaPolicy, parse_sla_policy
from gateway.domain.escalations import Side as EscalationSide
from gateway.domain.keys import KeyKind, Scope
from gateway.services import escalations as escalation_service
from gateway.services import faq as faq_service
from gateway.services import keys as key_service
from gateway.services import lookup as lookup_service
from gateway.services import partners as partner_service
from gateway.store import migrate
from gateway.store.models import Escalation, Subscription
from tests.support.api import app_store, bearer
from tests.support.lookup import add_faq_article, subscriber_in

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SLA: SlaPolicy = parse_sla_policy("urgent=4h,high=1bd,normal=3bd,low=5bd")


def csrf_of(client, url: str = "/console/sign-in") -> str:
    return CSRF.search(client.get(url).get_data(as_text=True)).group(1)


def sign_in(client, token: str, agent: str = "Ana", locale: str = "en"):
    return client.post(
        "/console/sign-in", data={"csrf_token": csrf_of(client), "key": token, "agent": agent, "locale": locale}
    )


def text_of(response) -> str:
    """The page's visible text in <main>, tags dropped and white space collapsed."""
    main = response.get_data(as_text=True).split("<main", 1)[1].split("</main>", 1)[0]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)))


@pytest.fixture
def world(app, seed):
    """alpha (German by default) with an agent key and subscribers; beta with one of its own."""
    seed.partner("alpha", locale="de-DE")
    seed.partner("beta", locale="en")
    store = app_store(app)
    with store.transaction() as session:
        subscriber_in(session, "alpha", "warned")
        subscriber_in(session, "alpha", "cancellation_scheduled")
        subscriber_in(session, "beta", "active", partner_ref="beta-customer")
    faq_service.load_folder(store, faq_service.ARTICLES_FOLDER, now=utcnow())
    return {"agent": seed.key(KeyKind.PARTNER, "alpha", {Scope.CALLCENTER}), "seed": seed}


@pytest.fixture
def agent(client, world):
    """A client signed in as an alpha agent working in English."""
    assert sign_in(client, world["agent"].token).status_code == 302
    return client


# --- the endpoint list, and what a visitor without a session gets ----------------------------------------------


def test_every_console_route_is_listed(app):
    in_map = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith(f"{BLUEPRINT}.")}
    assert in_map == CONSOLE_ENDPOINTS


def test_the_console_is_not_in_the_openapi_document(client):
    assert not [path for path in client.get("/openapi.json").json["paths"] if path.startswith("/console")]


AGENT_PAGES = [
    "/console/",
    "/console/faq?q=cancel",
    "/console/faq/activate-bundle",
    "/console/lookup?partner_ref=warned",
    "/console/escalations",
    "/console/escalations/new",
    "/console/escalations/esc_x",
    "/console/settings",
    "/console/customers/sub_x",
    "/console/customers/sub_x/actions/suspend",
]


@pytest.mark.parametrize("url", AGENT_PAGES)
def test_pages_need_a_signed_in_agent(client, world, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/console/sign-in?next=")


def test_agent_pages_cover_every_agent_endpoint(app):
    adapter = app.url_map.bind("localhost")
    gets = {adapter.match(url.split("?")[0])[0] for url in AGENT_PAGES}
    posts = {"console.sign_out", "console.open_escalation", "console.comment", "console.change_escalation_status"}
    posts |= {"console.run_action"}
    assert gets | posts == AGENT_ENDPOINTS
    assert {"console.sign_in", "console.no_such_page", "console.asset"} == OPEN_ENDPOINTS


@pytest.mark.parametrize(
    "url",
    [
        "/console/sign-out",
        "/console/escalations",
        "/console/escalations/esc_x/comments",
        "/console/escalations/esc_x/status",
    ],
)
def test_a_post_without_a_session_is_refused(client, world, url):
    assert client.post(url, data={"comment": "x"}).status_code == 400  # no session: no CSRF token to match


# --- signing in -------------------------------------------------------------------------------------------------


def test_sign_in_keeps_only_the_key_id_in_a_locked_down_cookie(client, world):
    token = world["agent"].token
    response = sign_in(client, token)

    assert response.status_code == 302 and response.headers["Location"] == "/console/"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    with client.session_transaction("/console/") as session:
        assert set(session) == {"key_id", "agent", "locale", "since", "csrf"}
        assert session["key_id"] == world["agent"].key.id
    assert token not in cookie and token.split("_")[2] not in cookie


def test_the_api_never_gets_a_cookie(client, world):
    response = client.get("/v1/callcenter/profile", headers=bearer(world["agent"].token))
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("empty", 422, "Enter your agent key."),
        ("malformed", 401, "does not look like a gateway key"),
        ("unknown", 401, "That key is not known."),
        ("revoked", 401, "That key has been revoked."),
        ("expired", 401, "That key has expired"),
        ("no callcenter scope", 403, "it needs the callcenter scope"),
        ("operator", 403, "it needs the callcenter scope"),
        ("suspended partner", 403, "access to the gateway is suspended"),
    ],
)
def test_sign_in_refusals(app, client, world, case, status, message):
    seed, now = world["seed"], utcnow()
    store = app_store(app)
    if case == "empty":
        token = ""
    elif case == "malformed":
        token = "not-a-key"
    elif case == "unknown":
        token = "gw_" + "a" * 12 + "_" + "b" * 48
    elif case in ("revoked", "expired"):
        issued = seed.key(KeyKind.PARTNER, "alpha", {Scope.CALLCENTER})
        with store.transaction() as session:
            if case == "revoked":
                key_service.revoke_key(session, issued.key.id, now=now)
            else:
                key_service.get_key(session, issued.key.id).expires_at = now - timedelta(minutes=1)
        token = issued.token
    elif case == "no callcenter scope":
        token = seed.token(KeyKind.PARTNER, "alpha", {Scope.SUBSCRIPTIONS_READ, Scope.EVENTS_READ})
    elif case == "operator":
        token = seed.token(KeyKind.OPERATOR)
    else:
        with store.transaction() as session:
            partner_service.set_partner_status(session, "alpha", "suspended", now=now)
        token = world["agent"].token

    response = sign_in(client, token, agent="Ana")

    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="Ana"' in page  # what was typed is kept ...
    assert not token or token not in page  # ... except the key
    with client.session_transaction("/console/") as session:
        assert "key_id" not in session


def test_sign_in_needs_an_agent_name(client, world):
    response = sign_in(client, world["agent"].token, agent="  ")
    assert response.status_code == 422 and "Enter your name or agent ID" in response.get_data(as_text=True)


def test_revoking_the_key_ends_the_session_on_the_next_click(app, agent, world):
    assert agent.get("/console/escalations").status_code == 200
    with app_store(app).transaction() as session:
        key_service.revoke_key(session, world["agent"].key.id, now=utcnow())

    response = agent.get("/console/escalations")

    assert response.status_code == 302 and response.headers["Location"].startswith("/console/sign-in")
    page = agent.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your key has been revoked, so you were signed out." in page
    with agent.session_transaction("/console/") as session:
        assert "key_id" not in session


def test_suspending_the_partner_ends_the_session(app, agent):
    with app_store(app).transaction() as session:
        partner_service.set_partner_status(session, "alpha", "suspended", now=utcnow())
    assert agent.get("/console/").status_code == 302


def test_a_session_lasts_one_shift(agent):
    with agent.session_transaction("/console/") as session:
        session["since"] = int(time.time()) - SESSION_MAX_HOURS * 3600 - 1
    assert agent.get("/console/").status_code == 302


def test_a_forged_cookie_is_ignored(client, world):
    client.set_cookie(COOKIE_NAME, "eyJrZXlfaWQiOiJrZXlfeCJ9.forged.signature", path="/console")
    assert client.get("/console/").status_code == 302


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(client, world):
    token = world["agent"].token
    client.get("/console/lookup?partner_ref=warned")
    csrf = csrf_of(client, "/console/sign-in?next=/console/lookup%3Fpartner_ref%3Dwarned")
    data = {"csrf_token": csrf, "key": token, "agent": "Ana", "next": "/console/lookup?partner_ref=warned"}
    assert client.post("/console/sign-in", data=data).headers["Location"] == "/console/lookup?partner_ref=warned"
    for target in ("https://evil.example/", "//evil.example/console/", "/v1/subscriptions"):
        client.post("/console/sign-out", data={"csrf_token": csrf_of(client, "/console/")})
        data = {"csrf_token": csrf_of(client), "key": token, "agent": "Ana", "next": target}
        assert client.post("/console/sign-in", data=data).headers["Location"] == "/console/"


def test_sign_out(agent):
    response = agent.post("/console/sign-out", data={"csrf_token": csrf_of(agent, "/console/")})
    assert response.status_code == 302
    assert agent.get("/console/").status_code == 302


# --- CSRF -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "wrong"])
def test_a_form_without_the_sessions_csrf_token_changes_nothing(app, agent, token):
    data = {"partner_ref": "warned", "category": "billing", "priority": "high", "description": "Charged twice"}
    if token is not None:
        data["csrf_token"] = token

    response = agent.post("/console/escalations", data=data)

    assert response.status_code == 400
    assert "This form has expired or did not come from the console" in response.get_data(as_text=True)
    with app_store(app).read() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 0


def test_a_nul_character_in_a_form_is_refused_in_the_page(app, agent):
    response = _open(agent, description="Charged\x00 twice")
    assert response.status_code == 422 and "cannot be stored" in text_of(response)
    with app_store(app).read() as session:
        assert session.scalar(select(func.count()).select_from(Escalation)) == 0


def test_sign_in_itself_needs_the_csrf_token(client, world):
    client.get("/console/sign-in")
    response = client.post("/console/sign-in", data={"key": world["agent"].token, "agent": "Ana"})
    assert response.status_code == 400


# --- the pages ----------------------------------------------------------------------------------------------------


def test_home_page(agent):
    page = agent.get("/console/")
    assert page.status_code == 200
    assert "Hello, Ana" in text_of(page)
    assert page.headers["Cache-Control"] == "no-store" and page.headers["X-Frame-Options"] == "DENY"
    policy = dict(part.strip().split(" ", 1) for part in page.headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'"  # scripts only from the console's files: no inline script runs


def test_faq_search_in_the_agents_language(client, world):
    sign_in(client, world["agent"].token, locale="de")

    page = client.get("/console/faq", query_string={"q": "Kündigung Inaktivität"})

    assert page.status_code == 200
    assert 'lang="de"' in page.get_data(as_text=True)
    assert "Warum wurde die Mitgliedschaft wegen Inaktivität gekündigt?" in text_of(page)


def test_faq_search_in_another_language_and_without_results(agent):
    french = agent.get("/console/faq", query_string={"q": "résiliation", "language": "fr"})
    assert "for “résiliation”" in text_of(french) and '<a lang="fr"' not in french.get_data(as_text=True)
    assert re.search(r'<a href="/console/faq/[a-z-]+\?language=fr[^"]*" lang="fr">', french.get_data(as_text=True))
    nothing = text_of(agent.get("/console/faq", query_string={"q": "zzzzqqq"}))
    assert "Nothing matches" in nothing


def test_faq_article_is_rendered_with_raw_html_escaped(app, agent):
    with app_store(app).transaction() as session:
        add_faq_article(session, "html-test", "en", "Test", body="## Steps\n\n- **one**\n\n<script>alert(1)</script>")

    page = agent.get("/console/faq/html-test")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h2>Steps</h2>" in html and "<strong>one</strong>" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_faq_article_falls_back_to_english(app, agent):
    with app_store(app).transaction() as session:
        add_faq_article(session, "english-only", "en", "Only in English")
    page = text_of(agent.get("/console/faq/english-only", query_string={"language": "ms"}))
    assert "Only in English" in page and "Not available in Malay: shown in English." in page


def test_unknown_article_is_a_page_not_a_problem(agent):
    response = agent.get("/console/faq/no-such-article")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert "No FAQ article 'no-such-article'." in text_of(response)


def test_lookup_page(agent):
    page = agent.get("/console/lookup", query_string={"partner_ref": "cancellation_scheduled"})

    assert page.status_code == 200
    shown = text_of(page)
    assert "Cancellation scheduled" in shown and "The customer asked for it." in shown
    assert "Withdraw the cancellation" in shown and "you (partner)" in shown  # it bills: it takes both
    assert "the customer, in the app" not in shown
    assert "Why can a customer still watch after cancelling?" in shown  # the FAQ article, in English
    assert "Cancellation scheduled Ihre Streamly-Kündigung" in shown  # the last notice, with its subject
    assert "Open an escalation for this customer" in shown


def test_lookup_page_in_the_partners_language_by_default(client, world):
    sign_in(client, world["agent"].token, locale="")  # alpha's default: de-DE
    shown = text_of(client.get("/console/lookup", query_string={"partner_ref": "warned"}))
    assert "Aktiv" in shown and "Um die Mitgliedschaft zu behalten" in shown


@pytest.mark.parametrize("partner_ref", ["nobody", "beta-customer"])
def test_lookup_of_an_unknown_or_other_partners_subscriber(agent, partner_ref):
    response = agent.get("/console/lookup", query_string={"partner_ref": partner_ref})
    assert response.status_code == 404
    assert f"No subscriber with the reference “{partner_ref}”" in text_of(response)


def test_an_unexpected_failure_is_a_page_without_a_stack_trace(agent, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(lookup_service, "situation_of", broken)

    response = agent.get("/console/lookup", query_string={"partner_ref": "warned"})

    assert response.status_code == 500 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page and "Request id" in page
    assert "Traceback" not in page and "database on fire" not in page


def test_unknown_console_address(agent):
    response = agent.get("/console/nowhere")
    assert response.status_code == 404 and "No such page" in text_of(response)


def _open(agent, **fields):
    data = {"partner_ref": "warned", "category": "billing", "priority": "high", "description": "Charged twice."}
    data.update(fields)
    return agent.post("/console/escalations", data={"csrf_token": csrf_of(agent, "/console/escalations/new"), **data})


def test_open_follow_and_comment_on_an_escalation(app, agent):
    form = agent.get("/console/escalations/new", query_string={"partner_ref": "warned"})
    assert form.status_code == 200 and 'value="warned"' in form.get_data(as_text=True)

    opened = _open(agent)

    assert opened.status_code == 302
    detail = agent.get(opened.headers["Location"])
    shown = text_of(detail)
    assert "Escalation opened" in shown and "Billing · warned" in shown and "opened the escalation" in shown
    assert "by Ana" in shown

    again = _open(agent, description="Same again.")
    assert again.headers["Location"] == opened.headers["Location"]  # one open case per subscriber and category
    assert "already open" in text_of(agent.get(again.headers["Location"]))

    case_url = opened.headers["Location"]
    commented = agent.post(
        f"{case_url}/comments", data={"csrf_token": csrf_of(agent, case_url), "comment": "Called back."}
    )
    assert commented.status_code == 302
    assert "Called back." in text_of(agent.get(case_url))

    listing = text_of(agent.get("/console/escalations"))
    assert "warned" in listing and "Billing" in listing and "Open" in listing
    assert "warned" not in text_of(agent.get("/console/escalations", query_string={"status": "closed"}))
    lookup = text_of(agent.get("/console/lookup", query_string={"partner_ref": "warned"}))
    assert "Billing, high priority" in lookup


def test_escalation_form_errors_are_shown_next_to_the_fields(agent):
    response = _open(agent, category="", description=" ")
    assert response.status_code == 422
    shown = text_of(response)
    assert "Please correct the fields marked below." in shown
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    missing = _open(agent, partner_ref="nobody")
    assert missing.status_code == 404 and "No subscriber with this reference." in text_of(missing)


def test_close_and_reopen_a_resolved_escalation(app, agent):
    case_url = _open(agent).headers["Location"]
    case_id = case_url.rsplit("/", 1)[1]
    store = app_store(app)
    for action in (Action.ACKNOWLEDGE, Action.START, Action.RESOLVE):
        with store.transaction() as session:
            case = escalation_service.get_escalation(session, case_id, for_update=True)
            escalation_service.change_status(
                session,
                case,
                action,
                side=EscalationSide.SERVICE,
                author="support",
                now=utcnow(),
                sla=SLA,
                comment="Refunded." if action is Action.RESOLVE else None,
            )
    shown = text_of(agent.get(case_url))
    assert "Refunded." in shown and "Close the escalation" in shown and "Reopen the escalation" in shown

    refused = agent.post(f"{case_url}/status", data={"csrf_token": csrf_of(agent, case_url), "action": "reopen"})
    assert refused.status_code == 422 and 'id="status_comment-error"' in refused.get_data(as_text=True)
    blank = agent.post(f"{case_url}/comments", data={"csrf_token": csrf_of(agent, case_url), "comment": "   "})
    assert blank.status_code == 422 and "Must contain more than white space" in text_of(blank)
    reopened = agent.post(
        f"{case_url}/status",
        data={"csrf_token": csrf_of(agent, case_url), "action": "reopen", "comment": "Still charged."},
    )
    assert reopened.status_code == 302 and "Escalation reopened." in text_of(agent.get(case_url))

    not_now = agent.post(f"{case_url}/status", data={"csrf_token": csrf_of(agent, case_url), "action": "close"})
    assert not_now.status_code == 409 and "changed while your page was open" in text_of(not_now)


def _service_acts(app, case_id: str, action: Action | None, *, author: str, comment: str | None = None) -> None:
    """The streaming service's support acts on the case (an action, or a comment when `action` is None)."""
    with app_store(app).transaction() as session:
        case = escalation_service.get_escalation(session, case_id, for_update=True)
        if action is None:
            escalation_service.add_comment(
                session, case, side=EscalationSide.SERVICE, author=author, comment=comment, now=utcnow()
            )
        else:
            escalation_service.change_status(
                session,
                case,
                action,
                side=EscalationSide.SERVICE,
                author=author,
                now=utcnow(),
                sla=SLA,
                comment=comment,
            )


def _resolved_case(app, agent, resolution: str = "Refunded the second charge.") -> tuple[str, str]:
    case_url = _open(agent).headers["Location"]
    case_id = case_url.rsplit("/", 1)[1]
    _service_acts(app, case_id, Action.ACKNOWLEDGE, author="key:gw_abc123")
    _service_acts(app, case_id, Action.START, author="Sam at support")
    _service_acts(app, case_id, Action.RESOLVE, author="key:gw_abc123", comment=resolution)
    return case_url, case_id


def _entries(app, case_id: str) -> int:
    with app_store(app).read() as session:
        case = escalation_service.get_escalation(session, case_id)
        return len(escalation_service.history(session, case))


VERSION = re.compile(r'name="version" value="(\d+)"')


def test_the_service_is_named_streaming_service_and_never_by_its_key(app, agent):
    case_url, _ = _resolved_case(app, agent)

    shown = text_of(agent.get(case_url))

    assert "key:" not in shown and "gw_abc123" not in shown
    assert "Streaming service: Open → Acknowledged" in shown
    assert "Streaming service (Sam at support): Acknowledged → In progress" in shown  # a person's name stays
    assert "Your side (Ana): opened the escalation" in shown


def test_the_resolution_is_shown_at_the_top_of_the_case_while_it_stands(app, agent):
    case_url = _open(agent).headers["Location"]
    assert "The streaming service's answer" not in text_of(agent.get(case_url))  # none yet
    case_url, _ = _resolved_case(app, agent)

    shown = text_of(agent.get(case_url))

    assert "The streaming service's answer" in shown
    top = shown.index("The streaming service's answer")
    assert top < shown.index("The case") < shown.index("History")
    assert "Refunded the second charge." in shown[top : shown.index("The case")]
    assert "gw_abc123" not in shown
    agent.post(
        f"{case_url}/status",
        data={"csrf_token": csrf_of(agent, case_url), "action": "reopen", "comment": "Still charged."},
    )
    assert "The streaming service's answer" not in text_of(agent.get(case_url))  # reopened: no answer in force


def test_a_stale_close_or_reopen_returns_to_the_case_as_it_is_now_and_keeps_the_note(app, agent):
    case_url, case_id = _resolved_case(app, agent)
    page = agent.get(case_url).get_data(as_text=True)
    seen = VERSION.search(page).group(1)
    _service_acts(app, case_id, None, author="Sam at support", comment="The refund is on its way.")
    before = _entries(app, case_id)

    stale = agent.post(
        f"{case_url}/status",
        data={"csrf_token": csrf_of(agent, case_url), "action": "reopen", "comment": "Not yet.", "version": seen},
    )

    assert stale.status_code == 409
    shown = text_of(stale)
    assert "changed while your page was open, so nothing was done" in shown
    assert "The refund is on its way." in shown  # the fresh state
    assert "Not yet.</textarea>" in stale.get_data(as_text=True)  # the note typed is kept
    assert "Close the escalation" in shown and "Back to the console" not in shown
    assert _entries(app, case_id) == before  # no effect
    with app_store(app).read() as session:
        assert escalation_service.get_escalation(session, case_id).status == "resolved"
    fresh = VERSION.search(stale.get_data(as_text=True)).group(1)
    assert fresh != seen
    garbled = agent.post(
        f"{case_url}/status", data={"csrf_token": csrf_of(agent, case_url), "action": "close", "version": "v1"}
    )
    assert garbled.status_code == 409 and "changed while your page was open" in text_of(garbled)
    closed = agent.post(
        f"{case_url}/status", data={"csrf_token": csrf_of(agent, case_url), "action": "close", "version": fresh}
    )
    assert closed.status_code == 302 and "Escalation closed." in text_of(agent.get(case_url))


def test_opening_an_escalation_already_open_adds_what_was_typed_to_it(app, agent):
    first = _open(agent, description="Charged twice.")
    case_id = first.headers["Location"].rsplit("/", 1)[1]

    again = _open(agent, description="Also charged a third time on the 3rd.")

    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    shown = text_of(agent.get(again.headers["Location"]))
    assert "what you typed was added to it as a comment" in shown
    assert "Your side (Ana): commented Also charged a third time on the 3rd." in shown
    with app_store(app).read() as session:
        cases = session.scalars(select(Escalation).where(Escalation.id.like("esc_%"))).all()
        assert [case.id for case in cases] == [case_id]
    entries = _entries(app, case_id)
    twice = _open(agent, description="Also charged a third time on the 3rd.")  # the same form sent again
    assert twice.headers["Location"] == first.headers["Location"]
    assert "already holds what you typed" in text_of(agent.get(twice.headers["Location"]))
    assert _entries(app, case_id) == entries


def test_a_comment_on_a_case_closed_meanwhile_returns_to_the_case_and_keeps_the_text(app, agent):
    case_url, case_id = _resolved_case(app, agent)
    page = agent.get(case_url).get_data(as_text=True)
    seen = VERSION.search(page).group(1)
    with app_store(app).transaction() as session:  # another agent of the partner closes it meanwhile
        case = escalation_service.get_escalation(session, case_id, for_update=True)
        escalation_service.change_status(
            session, case, Action.CLOSE, side=EscalationSide.PARTNER, author="Bo", now=utcnow(), sla=SLA
        )
    before = _entries(app, case_id)

    late = agent.post(
        f"{case_url}/comments",
        data={
            "csrf_token": csrf_of(agent, "/console/"),
            "comment": "Customer says <b>still</b> charged.",
            "version": seen,
        },
    )

    assert late.status_code == 409
    shown, page = text_of(late), late.get_data(as_text=True)
    assert "changed while your page was open, so nothing was done" in shown
    assert "1 entry was added since you opened the page" in shown
    assert "Resolved → Closed" in shown and "This escalation is closed" in shown
    # What was typed is kept, escaped, in a form that opens a new case for the same customer and category.
    kept = page.split('id="comment-kept"', 1)[1].split("</form>", 1)[0]
    assert "Customer says &lt;b&gt;still&lt;/b&gt; charged.</textarea>" in kept
    assert 'name="category" value="billing"' in kept and 'name="partner_ref" value="warned"' in kept
    assert _entries(app, case_id) == before
    renewed = agent.post(
        "/console/escalations",
        data={
            "csrf_token": csrf_of(agent, "/console/"),
            "partner_ref": "warned",
            "category": "billing",
            "priority": "high",
            "description": "Customer says still charged.",
        },
    )
    assert renewed.status_code == 302 and renewed.headers["Location"] != case_url


def test_a_stale_action_marks_what_was_added_since_the_page_was_opened(app, agent):
    case_url, case_id = _resolved_case(app, agent)
    seen = VERSION.search(agent.get(case_url).get_data(as_text=True)).group(1)
    _service_acts(app, case_id, None, author="Sam at support", comment="The refund is on its way.")
    _service_acts(app, case_id, None, author="Sam at support", comment="Booked for the 9th.")

    stale = agent.post(
        f"{case_url}/status",
        data={"csrf_token": csrf_of(agent, case_url), "action": "close", "version": seen},
    )

    assert stale.status_code == 409
    assert "2 entries were added since you opened the page" in text_of(stale)
    history = stale.get_data(as_text=True).split('id="history-heading"', 1)[1]
    marked = re.findall(r'<li class="new-entry">(.*?)</li>', history, flags=re.S)
    assert len(marked) == 2
    assert "The refund is on its way." in marked[0] and "Booked for the 9th." in marked[1]
    assert history.count("<li") == _entries(app, case_id)  # the older entries are there, unmarked


def test_opening_a_case_already_open_says_its_priority_was_kept(app, agent):
    first = _open(agent, priority="low", description="Charged twice.")

    urgent = _open(agent, priority="urgent", description="Now charged three times.")
    shown = text_of(agent.get(urgent.headers["Location"]))
    same = _open(agent, priority="low", description="And a fourth.")

    assert urgent.headers["Location"] == same.headers["Location"] == first.headers["Location"]
    assert "what you typed was added to it as a comment" in shown
    assert "keeps its own priority, Low: the priority you chose, Urgent, was not applied" in shown
    assert shown.index("added to it as a comment") < shown.index("keeps its own priority")
    again = text_of(agent.get(same.headers["Location"]))
    assert "what you typed was added to it as a comment" in again and "keeps its own priority" not in again
    with app_store(app).read() as session:
        case = escalation_service.get_escalation(session, first.headers["Location"].rsplit("/", 1)[1])
        assert case.priority == "low"


def test_the_priority_kept_message_is_in_the_agents_language(client, world):
    sign_in(client, world["agent"].token, locale="de")
    _open(client, priority="low")
    again = _open(client, priority="urgent", description="Dreimal abgebucht.")
    shown = text_of(client.get(again.headers["Location"]))
    assert "behält ihre eigene Priorität, Niedrig: Die gewählte Priorität Dringend wurde nicht übernommen" in shown


def _open_escalations(page) -> str:
    return text_of(page).split("Open escalations", 1)[1].split("Read to the customer", 1)[0]


def test_a_case_the_service_answered_is_on_the_customers_first_screen_until_closed(app, agent):
    case_url, case_id = _resolved_case(app, agent)
    _open(agent, category="technical", priority="low", description="No picture.")
    lookup = "/console/lookup?partner_ref=warned"

    shown = _open_escalations(agent.get(lookup))

    assert "Billing, high priority Resolved Answer waiting for you answered" in shown
    assert "Technical problem, low priority Open answer due" in shown
    assert shown.index("Answer waiting for you") < shown.index("Technical problem")  # the answer first
    assert f'href="/console/escalations/{case_id}"' in agent.get(lookup).get_data(as_text=True)
    agent.post(f"{case_url}/status", data={"csrf_token": csrf_of(agent, case_url), "action": "close"})
    shown = _open_escalations(agent.get(lookup))
    assert "Billing" not in shown and "Answer waiting" not in shown and "Technical problem" in shown


def test_an_immediate_cancellation_says_a_rejoin_will_not_undo_it_before_and_after(app, client, world):
    """lifecycle.rejoin_refusal: the partner's cancel-now stands against a rejoin; neither the confirmation nor
    the customer screen afterwards may promise that rejoining restores the profile, nor point to that article."""
    acting = world["seed"].token(KeyKind.PARTNER, "alpha", {Scope.CALLCENTER, Scope.SUBSCRIPTIONS_WRITE})
    assert sign_in(client, acting).status_code == 302
    with app_store(app).transaction() as session:
        active = subscriber_in(session, "alpha", "active", partner_ref="leaving-now")
        url, version = f"/console/customers/{active.id}/actions/cancel_now", active.version

    confirmation = client.get(url, query_string={"version": version})

    said = text_of(confirmation)
    assert "Rejoining cannot undo this cancellation" in said and "restores them" not in said
    html_page = confirmation.get_data(as_text=True)
    form = {
        "csrf_token": csrf_of(client, "/console/"),
        "token": re.search(r'name="token" value="([^"]+)"', html_page).group(1),
        "version": re.search(r'name="version" value="([^"]+)"', html_page).group(1),
        "reason": "partner_churn",
    }
    assert client.post(url, data=form).status_code == 303
    screen = client.get("/console/lookup?partner_ref=leaving-now")
    assert "Rejoining cannot undo this cancellation" in text_of(screen)
    assert "restores them" not in text_of(screen) and "rejoin-restore-profile" not in screen.get_data(as_text=True)


def test_another_partners_escalation_is_not_found(app, agent, world):
    beta_agent = world["seed"].token(KeyKind.PARTNER, "beta", {Scope.CALLCENTER})
    other = app.test_client()
    sign_in(other, beta_agent)
    case_url = _open(other, partner_ref="beta-customer").headers["Location"]

    assert agent.get(case_url).status_code == 404
    comment = agent.post(f"{case_url}/comments", data={"csrf_token": csrf_of(agent, "/console/"), "comment": "x"})
    assert comment.status_code == 404


# --- the session's secret key -----------------------------------------------------------------------------------


def test_the_generated_secret_is_kept_in_the_instance_folder_and_shared(tmp_path, sqlite_database, world):
    settings = {"INSTANCE_PATH": str(tmp_path / "shared"), "LOG_LEVEL": "WARNING", **sqlite_database.settings()}
    first, second = create_app(settings), create_app(settings)
    migrate.upgrade(app_store(first).engine)
    try:
        browser = first.test_client()
        assert sign_in(browser, world["agent"].token).status_code == 302
        cookie = browser.get_cookie(COOKIE_NAME, path="/console")
        other_worker = second.test_client()
        other_worker.set_cookie(COOKIE_NAME, cookie.value, path="/console")
        assert other_worker.get("/console/").status_code == 200
        secret = tmp_path / "shared" / SECRET_FILE
        assert len(secret.read_text()) >= 32 and (secret.stat().st_mode & 0o077) == 0
    finally:
        app_store(first).dispose()
        app_store(second).dispose()


def test_a_configured_secret_key_signs_instead(tmp_path, sqlite_database, world):
    settings = {"INSTANCE_PATH": str(tmp_path / "own"), "LOG_LEVEL": "WARNING", **sqlite_database.settings()}
    configured = create_app({**settings, "SECRET_KEY": "s" * 40})
    try:
        browser = configured.test_client()
        assert sign_in(browser, world["agent"].token).status_code == 302
        assert not (tmp_path / "own" / SECRET_FILE).exists()
        generated = create_app(settings)  # a generated key: the cookie does not verify there
        other = generated.test_client()
        other.set_cookie(COOKIE_NAME, browser.get_cookie(COOKIE_NAME, path="/console").value, path="/console")
        assert other.get("/console/").status_code == 302
        app_store(generated).dispose()
    finally:
        app_store(configured).dispose()


def test_the_lookup_finds_a_reference_typed_with_spaces_and_refuses_one_without_a_normal_form(agent):
    found = agent.get("/console/lookup?partner_ref=%20warned%20")
    unusable = agent.get("/console/lookup?partner_ref=cust%097")  # a tab inside: no normal form

    assert found.status_code == 200 and "No subscriber" not in text_of(found)
    assert unusable.status_code == 422
    assert "Not a customer reference" in text_of(unusable)


def test_the_last_day_of_access_is_the_day_before_the_period_end_as_the_texts_say(app, agent):
    with app_store(app).transaction() as session:
        scheduled = subscriber_in(session, "alpha", "cancellation_scheduled", partner_ref="leaving")
        period_end = scheduled.access_until

    page = text_of(agent.get("/console/lookup?partner_ref=leaving"))

    last_day = format_date(period_end - timedelta(days=1), "medium", locale="en_GB")  # as the page writes it
    assert period_end.hour == 0 and f"Last day of access {last_day}" in " ".join(page.split())
    # The next step on the first screen, and in the list of what can happen, is dated the last day of access
    # too ("up to and including" it, as the status text says), never the first day without access.
    assert f"Next due: End the membership when the billing period ends · {last_day}" in page
    first_day_without = format_date(period_end, "medium", locale="en_GB")
    assert first_day_without not in page


def test_the_lookup_finds_a_customer_by_reference_in_any_case_by_id_and_by_activation_code(app, agent):
    with app_store(app).transaction() as session:
        pending = subscriber_in(session, "alpha", "pending_activation", partner_ref="DEMO-Inactive-1")
        warned_id = session.scalar(select(Subscription.id).where(Subscription.partner_ref == "warned"))
        code = pending.activation_code

    for typed in ("demo-inactive-1", "DEMO-INACTIVE-1", pending.id, code.lower()):
        page = agent.get(f"/console/lookup?partner_ref={typed}")
        assert page.status_code == 200, typed
        assert "DEMO-Inactive-1:" in text_of(page), typed
    by_id = agent.get(f"/console/lookup?partner_ref={warned_id}")
    assert "warned:" in text_of(by_id)


def test_the_lookup_lists_the_references_a_prefix_matches_and_says_when_there_are_more(app, agent):
    with app_store(app).transaction() as session:
        for number in range(12):
            subscriber_in(session, "alpha", "active", partner_ref=f"shop-{number:02d}")
        subscriber_in(session, "alpha", "active", partner_ref="Shore-1")

    listed = agent.get("/console/lookup?partner_ref=SHO")
    narrower = agent.get("/console/lookup?partner_ref=shop-1")
    single = agent.get("/console/lookup?partner_ref=shor")

    assert listed.status_code == 200 and "More customers match" in text_of(listed)
    assert re.findall(r"partner_ref=(shop-\d\d)", narrower.get_data(as_text=True)) == ["shop-10", "shop-11"]
    assert "More customers match" not in text_of(narrower)
    assert "Shore-1:" in text_of(single)  # one match: the customer at once


def test_the_lookup_never_finds_another_partners_customer(app, agent):
    with app_store(app).transaction() as session:
        theirs = session.scalar(select(Subscription).where(Subscription.partner_ref == "beta-customer"))
        their_id, their_code = theirs.id, theirs.activation_code

    for typed in ("beta-customer", "BETA-CUSTOMER", "beta", their_id, their_code or "ABCD-EFGH-JKLM"):
        page = agent.get(f"/console/lookup?partner_ref={typed}")
        assert page.status_code == 404 and "No subscriber" in text_of(page), typed
