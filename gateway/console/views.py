"""The agent console's pages: sign in, search and read the FAQ, look up a subscriber, open and follow escalations.

Server-rendered; every page works without JavaScript. Every request re-checks the agent's key in the store, every
form POST carries the session's CSRF token, and every error is a page that says what went wrong.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, url_for
from markupsafe import Markup
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from contracts.escalations import CloseSchema, EscalationCreateSchema, PartnerCommentSchema, ReopenSchema
from gateway.console import i18n, labels
from gateway.console import session as console_session
from gateway.console.customer import render_customer
from gateway.console.endpoints import BLUEPRINT, OPEN_ENDPOINTS, URL_PREFIX
from gateway.console.field_errors import field_errors, reference_refusal
from gateway.console.i18n import N_
from gateway.console.i18n import gettext as _
from gateway.console.markdown import render_markdown
from gateway.domain import escalations as escalation_rules
from gateway.domain import partner_refs
from gateway.domain.clock import utcnow
from gateway.domain.errors import Conflict, GatewayError, InvalidInput, NotFound, StaleVersion
from gateway.domain.escalations import Action, Category, Priority, Side
from gateway.domain.faq_search import language_of
from gateway.domain.notices import NOTICE_LOCALES, market_name, plan_name
from gateway.domain.partners import normalize_locale
from gateway.http.guards import accepts_body
from gateway.runtime import faq_search_index, sla_policy, store
from gateway.services import agents, escalation_queue
from gateway.services import escalations as escalation_service
from gateway.services import faq as faq_service
from gateway.services import lookup as lookup_service
from gateway.services import sharing as sharing_service
from gateway.services.partners import get_partner

log = logging.getLogger("gateway.console")
blp = Blueprint(BLUEPRINT, __name__, url_prefix=URL_PREFIX, template_folder="templates")

FORM = ("application/x-www-form-urlencoded", "multipart/form-data")
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español", "ms": "Bahasa Melayu"}
SEARCH_RESULTS = 10
ESCALATIONS_PER_PAGE = 50
MAX_VERSION_DIGITS = 18
CHANGED_MEANWHILE = N_(
    "This escalation changed while your page was open, so nothing was done. Here it is as it is now: "
    "read the latest entries and try again if it is still needed."
)
NEWER_CASE_OPEN = N_(
    "Another escalation for this customer and category is open now, so this one cannot be reopened: add what "
    "you have to that one."
)

# Every message of this module is marked with N_ (or written as _(...)) and shown through the catalogs of
# gateway/console/translations, in the agent's language.
SIGN_IN_REFUSALS = {
    "missing": N_("Enter your agent key."),
    "malformed": N_("That does not look like a gateway key (gw_…)."),
    "unknown": N_("That key is not known. Check it and try again."),
    "revoked": N_("That key has been revoked. Ask your team lead for a new one."),
    "expired": N_("That key has expired (it was rotated). Use its successor."),
    "suspended": N_("Your company's access to the gateway is suspended."),
    "not_agent": N_("That key cannot use the agent console: it needs the callcenter scope."),
}
SESSION_ENDED = {
    "revoked": N_("Your key has been revoked, so you were signed out."),
    "expired": N_("Your key has expired, so you were signed out."),
    "unknown": N_("Your key no longer exists, so you were signed out."),
    "suspended": N_("Your company's access is suspended, so you were signed out."),
    "not_agent": N_("Your key no longer holds the callcenter scope, so you were signed out."),
}
SIGNED_OUT_AGAIN = N_("Please sign in again.")
CLOSED_CASE = N_(
    "This escalation is closed and takes no more comments. Open a new one if the customer needs more help."
)
# What was not found, by the resource a use case names (gateway.domain.errors.NotFound).
NOT_FOUND = {
    "FAQ article": N_("No FAQ article %(identifier)s."),
    "escalation": N_("No escalation %(identifier)s."),
    "subscriber": N_("No subscriber with the reference %(identifier)s."),
}
# Werkzeug's refusals a console page can meet, as titles and texts for the agent.
HTTP_REFUSALS = {
    400: (N_("The request could not be read"), N_("Reload the page and try again.")),
    404: (N_("No such page"), N_("There is no console page at this address.")),
    405: (N_("Not possible at this address"), N_("Use the console's links and buttons to get here.")),
    413: (N_("The form is too large"), N_("Shorten what you typed and send it again.")),
    415: (N_("The form could not be read"), N_("Send it from the console's own page.")),
}


def init_console(app: Flask) -> None:
    """Mount the console at /console with its session cookie; kept out of the OpenAPI document (a plain blueprint).
    Its templates translate through the i18n extension, whose gettext reads the agent's catalog (console.i18n)."""
    console_session.install_session(app)
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # a {% trans %} block's line breaks are not part of its text
    app.jinja_env.install_gettext_callables(i18n.template_gettext, i18n.template_ngettext, newstyle=True)
    app.register_blueprint(blp)


# --- every request --------------------------------------------------------------------------------------------


# Dates and times as the agent's language writes them: calendar days as the notices and texts name them, times
# of day in the agent's time zone (console.i18n says why).
@blp.app_template_filter("day")
def _day(moment: datetime | None) -> str:
    return i18n.format_day(moment, g.get("language", "en"))


@blp.app_template_filter("last_day")
def _last_day(period_end: datetime | None) -> str:
    """The last day a period ending at `period_end` (midnight UTC) covers: the day the texts name as the last
    day of access, so the page and the texts agree."""
    return i18n.format_last_day(period_end, g.get("language", "en"))


@blp.app_template_filter("moment")
def _moment(moment: datetime | None) -> str:
    agent = g.get("agent")
    return i18n.format_moment(moment, g.get("language", "en"), agent.time_zone if agent else i18n.UTC_ZONE)


@blp.app_template_filter("number")
def _number(value: int) -> str:
    return i18n.format_number(value, g.get("language", "en"))


@blp.app_template_global("label")
def _label(code: str | None) -> str:
    return labels.label(code)


@blp.app_template_filter("event_name")
def _event_name(event_type: str | None) -> str:
    return labels.event_name(event_type)


@blp.app_template_filter("delivery_problem")
def _delivery_problem(last_error: str | None) -> str:
    return labels.delivery_problem(last_error)


@blp.app_template_filter("plan_name")
def _plan_name(code: str | None) -> str:
    return "" if not code else plan_name(code, g.get("language", "en"))


@blp.app_template_filter("market_name")
def _market_name(code: str) -> str:
    return market_name(code, g.get("language", "en"))


@blp.app_template_filter("actor_name")
def _actor_name(code: str) -> str:
    return labels.biller(code)


@blp.app_template_filter("language_name")
def _language_name(code: str) -> str:
    return i18n.language_name(code, g.get("language", "en"))


@blp.app_template_filter("zone_label")
def _zone_label(zone: str) -> str:
    return i18n.zone_label(zone, g.get("language", "en"))


@blp.app_template_filter("author_shown")
def _author_shown(author: str | None) -> str | None:
    return escalation_rules.author_shown_to_partner(author)


@blp.context_processor
def _page_context() -> dict[str, Any]:
    return {
        "agent": g.get("agent"),
        "csrf_token": console_session.csrf_token,
        "csrf_field": console_session.CSRF_FIELD,
        "language_names": LANGUAGE_NAMES,
    }


def _agent_from_session() -> console_session.Agent | str | None:
    """The signed-in agent re-checked in the store; a refusal reason when the key may no longer sign in."""
    remembered = console_session.signed_in_key()
    if remembered is None:
        return None
    with store().read() as session:
        try:
            principal = agents.check_agent_key(session, remembered["key_id"], now=utcnow())
        except agents.AuthenticationFailed as failure:
            return failure.reason
        except agents.PartnerSuspended:
            return "suspended"
        except agents.NotAnAgentKey:
            return "not_agent"
        partner = get_partner(session, principal.partner_code)
        chosen_zone = remembered["time_zone"]
        return console_session.Agent(
            key_id=principal.key_id,
            key_prefix=principal.key_prefix,
            partner_code=partner.code,
            partner_name=partner.display_name,
            agent_ref=remembered["agent_ref"],
            locale=remembered["locale"] or partner.default_locale,
            time_zone=chosen_zone
            if i18n.is_time_zone(chosen_zone)
            else i18n.partner_time_zone(partner.markets, partner.default_locale, partner.time_zone),
        )


def _safe_next(target: str | None) -> str | None:
    """Only a console path of this site: never an absolute URL someone slipped into a sign-in link."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith(URL_PREFIX + "/") or target.startswith("//"):
        return None
    return target


def _settle_language() -> console_session.Agent | str | None:
    """Who is signed in (as _agent_from_session says) and so the language of the page: the agent's when one is,
    else the one before sign-in. Settled before any refusal, so that an expired form or a too-large one is
    said in the agent's language, not the browser's."""
    found = _agent_from_session() if request.endpoint != f"{BLUEPRINT}.asset" else None
    if isinstance(found, console_session.Agent):
        g.agent, g.language = found, i18n.language_of(found.locale)
    else:
        g.language = i18n.language_before_sign_in(console_session.remembered_locale())
    return found


@blp.before_request
def _authenticate_and_check_form():
    found = _settle_language()
    if request.method == "POST" and not console_session.csrf_ok():
        return _error_page(
            400,
            _("This form has expired or did not come from the console"),
            _("Nothing was changed. Reload the page and try again."),
        )
    if request.method == "POST" and any("\x00" in value for values in request.form.listvalues() for value in values):
        # No database stores a NUL character in text (PostgreSQL refuses it): say so instead of failing later.
        return _error_page(422, _("The form holds a character that cannot be stored"), _("Remove it and try again."))
    if request.endpoint in OPEN_ENDPOINTS or isinstance(found, console_session.Agent):
        return None
    if isinstance(found, str):
        console_session.end(keep_choices=True)
        flash(_(SESSION_ENDED.get(found, SIGNED_OUT_AGAIN)), "error")
    next_page = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for(".sign_in", next=next_page))


@blp.after_request
def _no_caching(response):
    # Pages show customer data: no shared or browser cache may keep them, no other site may frame them. Scripts
    # come only from the console's own files (no page has an inline script), so injected markup cannot run one.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self' 'unsafe-inline'; script-src 'self'; "
        "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _error_page(status: int, title: str, detail: str):
    return render_template("console/error.html", title=title, detail=detail, request_id=g.get("request_id")), status


@blp.errorhandler(GatewayError)
def _gateway_error(error: GatewayError):
    # A use case's detail is English written for the API: the page says it again from the catalogs.
    if isinstance(error, NotFound):
        identifier = error.detail.removeprefix(f"No {error.resource} ").removesuffix(".")
        known = NOT_FOUND.get(error.resource)
        detail = _(known, identifier=identifier) if known else _("It does not exist, or it is not your company's.")
        return _error_page(404, _("Not found"), detail)
    if isinstance(error, escalation_rules.ClosedCase):
        return _error_page(409, _("That is not possible right now"), _(CLOSED_CASE))
    if isinstance(error, Conflict):
        return _error_page(409, _("That is not possible right now"), _("Reload the page to see where things stand."))
    return _error_page(422, _("That did not work"), _("Check what you entered and try again."))


@blp.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    status = error.code or 500
    if "language" not in g:
        # Refused before the console's own checks ran (the app's body guard: a 413 or 415): the page is still
        # the console's, in the agent's language.
        try:
            _settle_language()
        except Exception:  # the store failing too: the refusal is still said, in English
            g.language = i18n.FALLBACK_LOCALE
    if status >= 500:
        log.error("console error", exc_info=getattr(error, "original_exception", None) or error)
        return _error_page(500, _("Something went wrong"), _("The gateway failed while showing this page."))
    title, detail = HTTP_REFUSALS.get(status, (N_("That did not work"), N_("Go back and try again.")))
    return _error_page(status, _(title), _(detail))


@blp.errorhandler(Exception)
def _unexpected(error: Exception):
    log.error("console error", exc_info=error)
    return _error_page(
        500,
        _("Something went wrong"),
        _("The gateway failed while showing this page. Quote the request id when reporting it."),
    )


# --- signing in and out ---------------------------------------------------------------------------------------


@blp.route("/sign-in", methods=["GET", "POST"])
@accepts_body(*FORM, limit_setting="MAX_BODY_BYTES")
def sign_in():
    next_page = _safe_next(request.values.get("next"))
    if request.method == "GET":
        if g.get("agent") is not None:  # re-checked as the request began (_settle_language)
            return redirect(next_page or url_for(".home"))
        remembered = {"locale": console_session.remembered_locale()}
        return render_template("console/sign_in.html", next_page=next_page, form=remembered, errors={})
    form = {name: request.form.get(name, "").strip() for name in ("agent", "locale")}
    token = request.form.get("key", "").strip()
    errors = {}
    if form["locale"] and normalize_locale(form["locale"]) is None:
        errors["locale"] = _("Choose a language from the list.")
    elif form["locale"]:
        g.language = i18n.language_of(form["locale"])  # the page that answers speaks the language just chosen
    if not form["agent"] or len(form["agent"]) > 100:
        errors["agent"] = _("Enter your name or agent ID (at most %(limit)s characters).", limit=100)
    refusal, status = None, 200
    if not token:
        errors["key"] = _(SIGN_IN_REFUSALS["missing"])
    if not errors:
        with store().read() as session:
            try:
                principal = agents.sign_in(session, token, now=utcnow())
            except agents.AuthenticationFailed as failure:
                refusal, status = failure.reason, 401
            except agents.PartnerSuspended:
                refusal, status = "suspended", 403
            except agents.NotAnAgentKey:
                refusal, status = "not_agent", 403
    if errors or refusal:
        if refusal:
            errors["key"] = _(SIGN_IN_REFUSALS[refusal])
        # The key is never sent back into the page.
        page = render_template("console/sign_in.html", next_page=next_page, form=form, errors=errors)
        return page, status if refusal else 422
    # The time zone chosen in this browser's last session carries over, as its language fills the form's field.
    kept_zone = console_session.remembered_time_zone()
    console_session.start(
        principal.key_id,
        form["agent"],
        normalize_locale(form["locale"]) if form["locale"] else None,
        kept_zone if i18n.is_time_zone(kept_zone) else None,
    )
    return redirect(next_page or url_for(".home"))


@blp.post("/sign-out")
@accepts_body(*FORM, limit_setting="MAX_BODY_BYTES")
def sign_out():
    console_session.end(keep_choices=True)  # the sign-in page in the agent's language, the next session in its zone
    flash(_("You are signed out."), "info")
    return redirect(url_for(".sign_in"))


@blp.get("/")
def home():
    return render_template("console/home.html")


# --- the agent's language and time zone -------------------------------------------------------------------------


def _settings_page(chosen: dict[str, str], errors: dict[str, str], status: int = 200):
    with store().read() as session:
        partner = get_partner(session, g.agent.partner_code)
    default_zone = i18n.partner_time_zone(partner.markets, partner.default_locale, partner.time_zone)
    market_zones, every_zone = i18n.zone_choices(partner.markets, g.language)
    page = render_template(
        "console/settings.html",
        chosen=chosen,
        errors=errors,
        default_language=i18n.language_of(partner.default_locale),
        default_zone=i18n.zone_label(default_zone, g.language),
        market_zones=market_zones,
        every_zone=every_zone,
        next_page=_safe_next(request.values.get("next")),
    )
    return page, status


@blp.route("/settings", methods=["GET", "POST"])
@accepts_body(*FORM, limit_setting="MAX_BODY_BYTES")
def settings():
    """The agent's language and time zone, kept in the console session; empty means the company's default."""
    remembered = console_session.signed_in_key() or {}
    if request.method == "GET":
        chosen = {"locale": remembered.get("locale", ""), "time_zone": remembered.get("time_zone", "")}
        return _settings_page(chosen, {})
    chosen = {name: request.form.get(name, "").strip() for name in ("locale", "time_zone")}
    errors = {}
    if chosen["locale"] and chosen["locale"] not in i18n.CONSOLE_LANGUAGES:
        errors["locale"] = _("Choose a language from the list.")
    if chosen["time_zone"] and not i18n.is_time_zone(chosen["time_zone"]):
        errors["time_zone"] = _("Choose a time zone from the list.")
    if errors:
        return _settings_page(chosen, errors, 422)
    console_session.choose(chosen["locale"], chosen["time_zone"])
    with store().read() as session:  # the confirmation is said in the language just chosen
        g.language = i18n.language_of(chosen["locale"] or get_partner(session, g.agent.partner_code).default_locale)
    flash(_("Your settings are saved."), "info")
    return redirect(_safe_next(request.form.get("next")) or url_for(".settings"))


# --- FAQ ------------------------------------------------------------------------------------------------------


def _chosen_language(value: str | None) -> str:
    return value if value in NOTICE_LOCALES else g.language


@blp.get("/faq")
def faq_search():
    """Search the FAQ; an empty question shows the A-Z index. From a customer's lookup (`subscription`), the
    articles about their situation rank higher and, before a question, are listed first."""
    query = " ".join(request.args.get("q", "").split())[:300]
    language = _chosen_language(request.args.get("language"))
    subscription_id = request.args.get("subscription", "").strip()[:40]
    found = keywords = customer = None
    situation_links: list = []
    with store().read() as session:
        hidden = _embargoed(session)
        index = faq_search_index().current(session).index
        if subscription_id:
            customer = _customer_context(session, index, subscription_id)
        boost = customer.articles if customer is not None else ()
        if query:
            found = index.search(query, language, SEARCH_RESULTS, boost=boost, exclude=hidden)
        if not query or not found.hits:
            keywords = index.keyword_index(language, exclude=hidden)
        if customer is not None and not query:
            readable = [slug for slug in customer.articles if slug not in hidden]
            situation_links = lookup_service.faq_links(session, readable, language)
    return render_template(
        "console/faq_search.html",
        query=query,
        language=language,
        found=found,
        keywords=keywords,
        customer=customer,
        customer_missing=bool(subscription_id) and customer is None,
        situation_links=situation_links,
    )


def _customer_context(session, index, subscription_id: str) -> faq_service.CustomerContext | None:
    """The agent's customer whose lookup the search started from; None for another partner's or a stale link
    (the search goes on without their situation, and the page says so)."""
    try:
        return faq_service.customer_context(
            session, index, partner_code=g.agent.partner_code, subscription_id=subscription_id, now=utcnow()
        )
    except NotFound:
        return None


def _embargoed(session) -> frozenset[str]:
    """The articles the agent's partner may not read yet (the sharing policy's embargo in its markets)."""
    return sharing_service.embargoed_articles(session, get_partner(session, g.agent.partner_code).markets)


@blp.get("/faq/<slug>")
def faq_article(slug: str):
    language = _chosen_language(request.args.get("language"))
    with store().read() as session:
        if slug in _embargoed(session):
            raise NotFound("FAQ article", slug)
        article = faq_service.find_article_for_locale(session, slug, language)
    return render_template(
        "console/faq_article.html",
        article=article,
        body=Markup(render_markdown(article.body)),  # noqa: S704 - rendered with raw HTML escaped
        language=language,
        fallback=language_of(article.locale) != language,
        query=request.args.get("q", ""),
    )


# --- subscriber lookup ------------------------------------------------------------------------------------------


@blp.get("/lookup")
def lookup():
    """The customer an agent typed: by reference (any letter case), subscription id or activation code; several
    references starting with what was typed are listed to pick from."""
    typed = request.args.get("partner_ref", "")
    partner_ref, candidates, more, error, status = typed.strip(), [], False, None, 200
    if partner_ref:
        try:
            partner_ref = partner_refs.normal_form(typed)  # the one form every reference is stored and sought in
        except partner_refs.UnusableRef as why:
            error, status = _("Not a customer reference: %(why)s", why=reference_refusal(str(why))), 422
        else:
            with store().read() as session:
                matches = lookup_service.find_candidates(session, g.agent.partner_code, partner_ref)
                if len(matches) == 1:  # the customer view (gateway.console.customer)
                    return render_customer(session, matches[0], now=utcnow())
                candidates = [_candidate(match) for match in matches[: lookup_service.CANDIDATES_SHOWN]]
                more = len(matches) > lookup_service.CANDIDATES_SHOWN
            if not matches:
                error = _(
                    "No subscriber with the reference “%(reference)s” at %(partner)s.",
                    reference=partner_ref,
                    partner=g.agent.partner_name,
                )
                status = 404
    page = render_template(
        "console/lookup.html", partner_ref=partner_ref, found=None, error=error, candidates=candidates, more=more
    )
    return page, status


def _candidate(subscription) -> dict[str, str]:
    return {"partner_ref": subscription.partner_ref, "status": subscription.status, "plan": subscription.plan}


# --- escalations ----------------------------------------------------------------------------------------------


def _cursor(value: str | None) -> tuple[datetime, str] | None:
    if not value or "|" not in value:
        return None
    moment, _, identifier = value.partition("|")
    try:
        return datetime.fromisoformat(moment), identifier
    except ValueError:
        return None


@blp.get("/escalations")
def escalations():
    """The partner's escalations, oldest first, a page at a time; the first page starts with the cases that need
    the agent: overdue ones, then those the streaming service answered (gateway.services.escalation_queue)."""
    status = request.args.get("status") or None
    if status not in {None, *escalation_rules.Status}:
        status = None
    now = utcnow()
    after = _cursor(request.args.get("after"))
    with store().read() as session:
        found = escalation_service.list_escalations(
            session,
            limit=ESCALATIONS_PER_PAGE + 1,
            now=now,
            partner_code=g.agent.partner_code,
            after=after,
            status=status,
        )
        queue = None
        if after is None:  # the cases that need the agent head the first page only
            queue = escalation_queue.needing_attention(
                session, partner_code=g.agent.partner_code, now=now, status=status
            )
    more = len(found) > ESCALATIONS_PER_PAGE
    found = found[:ESCALATIONS_PER_PAGE]
    next_after = f"{found[-1][0].created_at.isoformat()}|{found[-1][0].id}" if more else None
    rows = [
        {"case": case, "partner_ref": ref, "overdue": escalation_rules.is_overdue(case.status, case.sla_due_at, now)}
        for case, ref in found
    ]
    return render_template(
        "console/escalations.html",
        rows=rows,
        status=status,
        statuses=list(escalation_rules.Status),
        next_after=next_after,
        attention=queue.rows if queue else [],
        more_attention=bool(queue and queue.more),
    )


def _escalation_form_page(form: dict[str, str], errors: dict[str, str], status: int = 200):
    page = render_template(
        "console/escalation_new.html",
        form=form,
        errors=errors,
        categories=list(Category),
        priorities=list(Priority),
    )
    return page, status


@blp.get("/escalations/new")
def new_escalation():
    form = {"partner_ref": request.args.get("partner_ref", ""), "priority": str(Priority.NORMAL)}
    return _escalation_form_page(form, {})


def _field_errors(error: ValidationError, rename: dict[str, str] | None = None) -> dict[str, str]:
    """The schema's complaints, said for the agent in the agent's language (console.field_errors)."""
    return field_errors(error, rename)


@blp.post("/escalations")
@accepts_body(*FORM, limit_setting="MAX_BODY_BYTES")
def open_escalation():
    form = {name: request.form.get(name, "") for name in ("partner_ref", "category", "priority", "description")}
    # A field left empty is a field not given: the agent reads "Choose a category", not "not one of the list".
    given = {name: value.strip() if name != "description" else value for name, value in form.items() if value}
    try:
        body = EscalationCreateSchema().load({**given, "agent_ref": g.agent.agent_ref})
    except ValidationError as error:
        return _escalation_form_page(form, _field_errors(error), 422)
    now = utcnow()
    with store().transaction() as session:
        try:
            opened = escalation_service.open_or_add_comment(
                session,
                partner_code=g.agent.partner_code,
                now=now,
                sla=sla_policy(),
                locale=g.agent.locale,
                **body,
            )
        except NotFound:
            return _escalation_form_page(form, {"partner_ref": _("No subscriber with this reference.")}, 404)
        case_id = opened.escalation.id
        kept_priority = opened.escalation.priority
    if opened.created:
        flash(_("Escalation opened. The streaming service has been told."), "info")
    elif opened.commented:
        flash(
            _(
                "An escalation for this customer and category was already open: what you typed was added to it as "
                "a comment, and the streaming service has been told."
            ),
            "info",
        )
    else:
        flash(
            _("An escalation for this customer and category is already open and already holds what you typed."),
            "info",
        )
    if not opened.created and kept_priority != body.get("priority", Priority.NORMAL):
        # The case already open keeps its SLA: the priority chosen on this form is not applied to it.
        flash(
            _(
                "That escalation keeps its own priority, %(kept)s: the priority you chose, %(chosen)s, was not "
                "applied. Add a comment if it should be handled sooner.",
                kept=labels.label(kept_priority),
                chosen=labels.label(body.get("priority", Priority.NORMAL)),
            ),
            "info",
        )
    return redirect(url_for(".escalation", escalation_id=case_id))


@blp.get("/escalations/<escalation_id>")
def escalation(escalation_id: str):
    return _escalation_page(escalation_id)


def _escalation_page(
    escalation_id: str,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    *,
    changed: str | None = None,
    page_version: int | None = None,
):
    """The case with its history; after a refused form, what was typed and what was wrong with it (a 422); after
    an action the case had moved past, the case as it is now with `changed` saying so (a 409), the entries added
    since the page the agent acted on (`page_version`) marked as new."""
    now = utcnow()
    with store().read() as session:
        case = escalation_service.get_escalation(session, escalation_id, partner_code=g.agent.partner_code)
        partner_ref = escalation_service.subscriber_of(session, case).partner_ref
        entries = escalation_service.history(session, case)
        resolution = escalation_service.resolution(case, entries)
    new_entries: set[int] = set()
    if page_version is not None and case.version > page_version:
        # Every change of a case adds one entry and one version (services.escalations), so the last ones are
        # those the agent's page did not show.
        added = min(case.version - page_version, len(entries))
        new_entries = {entry.id for entry in entries[len(entries) - added :]}
    page = render_template(
        "console/escalation.html",
        case=case,
        partner_ref=partner_ref,
        entries=entries,
        overdue=escalation_rules.is_overdue(case.status, case.sla_due_at, now),
        actions=escalation_rules.allowed_actions(escalation_rules.Status(case.status), Side.PARTNER),
        can_comment=case.status != escalation_rules.Status.CLOSED,
        resolution=resolution,
        errors=errors or {},
        typed=typed or {},
        changed=changed,
        new_entries=new_entries,
    )
    return page, 409 if changed else 422 if errors else 200


def _change_case(escalation_id: str, change, expected_version: int | None = None) -> None:
    """Lock the case, check it is still at the version the page showed (when the form said), apply
    `change(session, case, now)`."""
    with store().transaction() as session:
        case = escalation_service.get_escalation(
            session, escalation_id, partner_code=g.agent.partner_code, for_update=True
        )
        if expected_version is not None and expected_version != case.version:
            raise StaleVersion(f"The escalation is at version {case.version}, not {expected_version}.")
        change(session, case, utcnow())


def _version_of_page() -> int | None:
    """The case version the page showed (its form's hidden field); None when the form did not say (no
    precondition, as the API without If-Match), stale when it names no version."""
    value = request.form.get("version", "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= MAX_VERSION_DIGITS):
        raise StaleVersion("The form does not name a version of this escalation.")
    return int(value)


def _shown_version() -> int | None:
    """The case version the page showed, only to mark what is new since: None when the form names none."""
    try:
        return _version_of_page()
    except StaleVersion:
        return None


@blp.post("/escalations/<escalation_id>/comments")
@accepts_body(*FORM, limit_setting="MAX_BODY_BYTES")
def comment(escalation_id: str):
    try:
        body = PartnerCommentSchema().load({"agent_ref": g.agent.agent_ref, "comment": request.form.get("comment", "")})
    except ValidationError as error:
        return _escalation_page(escalation_id, _field_errors(error), {"comment": request.form.get("comment", "")})
    try:
        _change_case(
            escalation_id,
            lambda session, case, now: escalation_service.add_comment(
                session, case, side=Side.PARTNER, author=g.agent.agent_ref, comment=body["comment"], now=now
            ),
        )
    except escalation_rules.ClosedCase:
        # Closed while the page was open: the case as it is now, and what the agent typed kept for a new case.
        typed = {"comment": request.form.get("comment", "")}
        return _escalation_page(escalation_id, typed=typed, changed=_(CHANGED_MEANWHILE), page_version=_shown_version())
    flash(_("Comment added."), "info")
    return redirect(url_for(".escalation", escalation_id=escalation_id))


@blp.post("/escalations/<escalation_id>/status")
@accepts_body(*FORM, limit_setting="MAX_BODY_BYTES")
def change_escalation_status(escalation_id: str):
    schemas = {Action.CLOSE: CloseSchema, Action.REOPEN: ReopenSchema}
    action = next((known for known in schemas if known == request.form.get("action")), None)
    if action is None:
        raise InvalidInput({"action": "Choose close or reopen."})  # only a hand-made form gets here
    fields = {"agent_ref": g.agent.agent_ref}
    if request.form.get("comment", "").strip():
        fields["comment"] = request.form["comment"]
    try:
        body = schemas[action]().load(fields)
    except ValidationError as error:
        refused = _field_errors(error, {"comment": "status_comment", "agent_ref": "status_agent_ref"})
        return _escalation_page(escalation_id, refused, {"status_comment": request.form.get("comment", "")})
    try:
        _change_case(
            escalation_id,
            lambda session, case, now: escalation_service.change_status(
                session,
                case,
                action,
                side=Side.PARTNER,
                author=g.agent.agent_ref,
                now=now,
                sla=sla_policy(),
                comment=body.get("comment"),
            ),
            _version_of_page(),
        )
    except (StaleVersion, escalation_rules.InvalidTransition):
        # The page was older than the case (another agent, or the service, acted meanwhile): the fresh case, and
        # the note the agent typed kept in its field.
        typed = {"status_comment": request.form.get("comment", "")}
        return _escalation_page(escalation_id, typed=typed, changed=_(CHANGED_MEANWHILE), page_version=_shown_version())
    except Conflict:  # the only other refusal: a newer case for the same subscriber and category is open since
        typed = {"status_comment": request.form.get("comment", "")}
        return _escalation_page(escalation_id, typed=typed, changed=_(NEWER_CASE_OPEN), page_version=_shown_version())
    flash(_("Escalation closed.") if action is Action.CLOSE else _("Escalation reopened."), "info")
    return redirect(url_for(".escalation", escalation_id=escalation_id))


@blp.route("/<path:anything>", methods=["GET", "POST"])
@accepts_body(*FORM, limit_setting="MAX_BODY_BYTES")
def no_such_page(anything: str):
    return _error_page(404, _("No such page"), _("There is no console page at this address."))


# The customer view and the actions on it are in their own module, on this blueprint: loaded with it.
from gateway.console import actions as _actions  # noqa: E402, F401
