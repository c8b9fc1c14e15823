"""The console's customer view and the partner's actions on it: each asks for confirmation on a page that says what
it will do, then runs as the partner API runs it (the lifecycle's use case, the version the page showed, one effect
per form however often it is sent), with the agent named in the subscription's history. Also the console's own
style sheet and script.

Only agents whose key holds `subscriptions:write` besides `callcenter` see the actions; for any other key the pages
and the form are refused (403). Registered on the console's blueprint, which views.py loads with this module.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import abort, flash, g, redirect, render_template, request, send_from_directory, url_for
from sqlalchemy.orm import Session

from gateway.console.customer import render_customer
from gateway.console.i18n import N_
from gateway.console.i18n import gettext as _
from gateway.console.views import FORM, MAX_VERSION_DIGITS, _error_page, blp
from gateway.domain import partner_actions
from gateway.domain.clock import utcnow
from gateway.domain.errors import Conflict, InvalidInput, StaleVersion
from gateway.domain.lifecycle import Command, Status
from gateway.domain.notices import plan_name
from gateway.domain.plans import PLAN_RANKS, PLANS
from gateway.domain.situation import Inactivity, action_label
from gateway.domain.subscription import SubscriptionState
from gateway.http.guards import accepts_body
from gateway.runtime import setting, store
from gateway.services import agent_actions, idempotency
from gateway.services import lookup as lookup_service
from gateway.services.subscriptions import get_subscription
from gateway.store.models import Subscription

ASSETS_FOLDER = Path(__file__).resolve().parent / "static"
ASSETS = frozenset({"console.css", "console.js"})
TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")  # secrets.token_urlsafe(24): what a confirmation page hands out

# Shown through the console's catalogs (gateway/console/translations), in the agent's language.
CHANGED_MEANWHILE = N_(
    "This customer's subscription changed while your page was open, so nothing was done. Here is the customer as "
    "they are now: check the latest notices and try again if it is still needed."
)
NOT_POSSIBLE = N_(
    "That action is not possible for this customer as things stand now, so nothing was done. Here is the customer "
    "as they are now."
)
DONE = N_("Done: %(action)s.")
ALREADY_DONE = N_("This form was sent more than once. It took effect once, and nothing more was done.")
STILL_RUNNING = N_("This action is still being carried out. Open the customer again in a moment to see it done.")
NO_WRITE_TITLE = N_("Your key cannot change subscriptions")
NO_WRITE_DETAIL = N_(
    "Actions on a customer need a key with the subscriptions:write scope besides callcenter. Nothing was changed. "
    "Ask your team lead for such a key."
)
FORM_EXPIRED_TITLE = N_("This form has expired or did not come from the console")
FORM_EXPIRED_DETAIL = N_("Nothing was changed. Reload the page and try again.")
REUSED_FORM_DETAIL = N_(
    "This form was already used for another action. Nothing was changed. Start again from the customer."
)
CHOOSE_PLAN = N_("Choose a plan other than the current one.")
CHOOSE_REASON = N_("Choose why the membership ends now.")


# --- the console's own files ------------------------------------------------------------------------------------


@blp.get("/assets/<name>")
def asset(name: str):
    """The console's style sheet and script: served by the gateway itself, as its CSP allows nothing else."""
    if name not in ASSETS:
        abort(404)
    return send_from_directory(ASSETS_FOLDER, name)


# --- the customer view ------------------------------------------------------------------------------------------


@blp.get("/customers/<subscription_id>")
def customer(subscription_id: str):
    """One of the partner's customers by subscription id: where an action returns the agent to."""
    with store().read() as session:
        subscription = get_subscription(session, subscription_id, partner_code=g.agent.partner_code)
        return render_customer(session, subscription, now=utcnow())


def _customer_again(subscription_id: str, changed: str):
    """The customer as they are now, saying why the agent sees them again instead of what they asked for (409)."""
    with store().read() as session:
        subscription = get_subscription(session, subscription_id, partner_code=g.agent.partner_code)
        return render_customer(session, subscription, now=utcnow(), changed=changed), 409


# --- confirming and running an action ---------------------------------------------------------------------------


def _partner_command(name: str) -> Command:
    """A command an agent may issue, by its name in the address; any other address is no page."""
    command = next((known for known in partner_actions.PARTNER_COMMANDS if known == name), None)
    if command is None:
        abort(404)
    return command


def _version_shown(value: str | None) -> int | None:
    """The subscription version a page was rendered with; None when none is given, -1 when it names none."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit() and len(value) <= MAX_VERSION_DIGITS):
        return -1
    return int(value)


def _cannot_act():
    return _error_page(403, _(NO_WRITE_TITLE), _(NO_WRITE_DETAIL))


def _confirmation(
    session: Session,
    subscription: Subscription,
    command: Command,
    *,
    now: datetime,
    version: int,
    plan: str | None = None,
    reason: str | None = None,
    errors: dict[str, str] | None = None,
):
    """The confirmation page: the customer now, and what the command would leave behind (decided by the lifecycle's
    own rules, worded by the situation texts); a 409 with the customer as they are when it is not possible now."""
    errors = dict(errors or {})
    situation = lookup_service.situation_of(session, subscription, locale=g.agent.locale, now=now)
    warned = situation.inactivity is Inactivity.WARNED
    if command not in partner_actions.offered(
        Status(subscription.status), warned=warned, billed_by=subscription.billed_by
    ):
        return render_customer(session, subscription, now=now, changed=_(NOT_POSSIBLE)), 409
    found = lookup_service.as_document(situation)
    language = found["locale"]
    page: dict[str, Any] = {"plans": None, "chosen_plan": None, "plan_change": None, "reasons": None}
    if command is Command.CHANGE_PLAN:
        page["plans"] = [
            {"code": code, "name": plan_name(code, language), "current": code == subscription.plan} for code in PLANS
        ]
        if plan in PLAN_RANKS and plan != subscription.plan:
            page["chosen_plan"] = plan
            page["plan_change"] = {"before": plan_name(subscription.plan, language), "after": plan_name(plan, language)}
        elif plan:
            errors["plan"] = _(CHOOSE_PLAN)
    if command is Command.CANCEL_NOW:
        texts = partner_actions.cancel_now_reasons(language)
        page["reasons"] = [{"code": code, "text": text} for code, text in texts.items()]
    outcome = None
    if command is not Command.CHANGE_PLAN or page["chosen_plan"]:
        # An immediate cancellation ends the same way whatever its reason: any of them shows the outcome.
        preview_reason = partner_actions.reason_for(command, reason or partner_actions.CANCEL_NOW_REASONS[0])
        try:
            outcome = partner_actions.outcome(
                SubscriptionState.of(subscription),
                situation.facts,
                command,
                reason=preview_reason,
                now=now,
                locale=language,
                plan=page["chosen_plan"],
            )
        except Conflict:  # the lifecycle refuses it from here (a keep after the respond-by date, ...)
            return render_customer(session, subscription, now=now, changed=_(NOT_POSSIBLE)), 409
    body = render_template(
        "console/action_confirm.html",
        found=found,
        subscription_id=subscription.id,
        version=version,
        command=str(command),
        label=action_label(command, language),
        outcome=outcome,
        chosen_reason=reason,
        errors=errors,
        token=secrets.token_urlsafe(24),
        **page,
    )
    return body, 422 if errors else 200


@blp.get("/customers/<subscription_id>/actions/<command>")
def confirm_action(subscription_id: str, command: str):
    """What the action would do, with the form that does it; the customer as they are now (409) when the page the
    agent came from is out of date."""
    chosen = _partner_command(command)
    now = utcnow()
    with store().read() as session:
        if not agent_actions.may_change_subscriptions(session, g.agent.key_id):
            return _cannot_act()
        subscription = get_subscription(session, subscription_id, partner_code=g.agent.partner_code)
        shown = _version_shown(request.args.get("version"))
        if shown is not None and shown != subscription.version:
            return render_customer(session, subscription, now=now, changed=_(CHANGED_MEANWHILE)), 409
        return _confirmation(
            session, subscription, chosen, now=now, version=subscription.version, plan=request.args.get("plan")
        )


@blp.post("/customers/<subscription_id>/actions/<command>")
@accepts_body(*FORM, limit_setting="MAX_BODY_BYTES")
def run_action(subscription_id: str, command: str):
    """Run a confirmed action once: the customer's page with what was done (303); the customer as they are now (409)
    when the subscription changed since the confirmation page, or the action is no longer possible. The form's
    token is looked at before the version: a form sent again after it took effect is answered as the first was."""
    chosen = _partner_command(command)
    token = request.form.get("token", "")
    if not TOKEN.match(token):
        return _error_page(400, _(FORM_EXPIRED_TITLE), _(FORM_EXPIRED_DETAIL))
    version = _version_shown(request.form.get("version"))
    plan = request.form.get("plan") or None
    reason = partner_actions.reason_for(chosen, request.form.get("reason"))
    now = utcnow()
    with store().read() as session:
        if not agent_actions.may_change_subscriptions(session, g.agent.key_id):
            return _cannot_act()
        subscription = get_subscription(session, subscription_id, partner_code=g.agent.partner_code)
        refused = {}
        if reason is None:
            refused["reason"] = _(CHOOSE_REASON)
        if chosen is Command.CHANGE_PLAN and (plan not in PLAN_RANKS or plan == subscription.plan):
            refused["plan"] = _(CHOOSE_PLAN)
        if refused:  # nothing to run: the confirmation again, or the customer if the page was out of date anyway
            if version != subscription.version:
                return render_customer(session, subscription, now=now, changed=_(CHANGED_MEANWHILE)), 409
            return _confirmation(session, subscription, chosen, now=now, version=version, plan=plan, errors=refused)
    done_at = url_for(".customer", subscription_id=subscription_id)
    asked = agent_actions.Request(
        partner_code=g.agent.partner_code,
        subscription_id=subscription_id,
        command=chosen,
        reason=reason,
        plan=plan if chosen is Command.CHANGE_PLAN else None,
        expected_version=-1 if version is None else version,  # no version: no page it could have been
        agent=g.agent.agent_ref,
    )
    try:
        with store().transaction() as session:
            # Checked again in the transaction that acts: a key that lost the scope a moment ago acts no more.
            if not agent_actions.may_change_subscriptions(session, g.agent.key_id):
                return _cannot_act()
            ttl = timedelta(hours=setting("IDEMPOTENCY_TTL_HOURS"))
            earlier = agent_actions.act_once(session, asked, token=token, done_at=done_at, now=utcnow(), ttl=ttl)
    except StaleVersion:  # another agent, the customer in the app or the service acted since the page was shown
        return _customer_again(subscription_id, _(CHANGED_MEANWHILE))
    except InvalidInput as refused:
        if idempotency.HEADER in refused.errors:  # a token handed out for another action (a form edited by hand)
            return _error_page(422, _(FORM_EXPIRED_TITLE), _(REUSED_FORM_DETAIL))
        raise
    except Conflict:  # the lifecycle refuses it now, as the API would with a 409
        return _customer_again(subscription_id, _(NOT_POSSIBLE))
    if earlier is None:
        flash(_(DONE, action=action_label(chosen, g.agent.locale)), "info")
        return redirect(done_at, 303)
    if idempotency.in_progress(earlier):
        return _error_page(409, _("Still being carried out"), _(STILL_RUNNING))
    flash(_(ALREADY_DONE), "info")
    return redirect(earlier.headers.get("Location", done_at), 303)
