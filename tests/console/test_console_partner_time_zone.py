"""The time zone an operator sets for a partner (PATCH /admin/v1/partners/{code} time_zone) is its agents'
default in the console: times are shown in it until an agent chooses another, and clearing it returns to the
zone derived from the partner's locale and markets."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from gateway.console import i18n
from gateway.domain.keys import KeyKind, Scope
from gateway.store.models import Escalation
from tests.support.api import app_store, bearer
from tests.support.lookup import subscriber_in

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(app, seed):
    """alpha (German, markets DE and AT: Berlin derived) with an agent key, a subscriber and an operator key."""
    seed.partner("alpha", locale="de-DE", markets=("DE", "AT"))
    with app_store(app).transaction() as session:
        subscriber_in(session, "alpha", "warned", partner_ref="K-1001")
    return {
        "agent": seed.key(KeyKind.PARTNER, "alpha", {Scope.CALLCENTER}).token,
        "operator": bearer(seed.token(KeyKind.OPERATOR)),
    }


def _csrf(client, url: str) -> str:
    return CSRF.search(client.get(url).get_data(as_text=True)).group(1)


def _set_zone(client, operator, zone: str | None) -> None:
    response = client.patch("/admin/v1/partners/alpha", json={"time_zone": zone}, headers=operator)
    assert response.status_code == 200, response.json


def _agent_with_a_case(app, world):
    """An agent signed in (English, no zone of its own) and the page of a case it opened, with its creation time."""
    agent = app.test_client()
    sign_in = {"csrf_token": _csrf(agent, "/console/sign-in"), "key": world["agent"], "agent": "Ana", "locale": "en"}
    assert agent.post("/console/sign-in", data=sign_in).status_code == 302
    opened = agent.post(
        "/console/escalations",
        data={
            "csrf_token": _csrf(agent, "/console/"),
            "partner_ref": "K-1001",
            "category": "billing",
            "priority": "high",
            "description": "Charged twice.",
        },
    )
    with app_store(app).read() as session:
        created = session.scalars(select(Escalation.created_at)).one()
    return agent, opened.headers["Location"], created


def test_the_console_shows_times_in_the_zone_the_operator_set_for_the_partner(app, client, world):
    agent, case_url, created = _agent_with_a_case(app, world)
    berlin = i18n.format_moment(created, "en", "Europe/Berlin")
    sao_paulo = i18n.format_moment(created, "en", "America/Sao_Paulo")
    assert berlin != sao_paulo
    assert f"{berlin} by Ana" in html.unescape(agent.get(case_url).get_data(as_text=True))  # derived: DE

    _set_zone(client, world["operator"], "America/Sao_Paulo")  # read on the agent's next page, no new sign-in
    shown = html.unescape(agent.get(case_url).get_data(as_text=True))
    settings = html.unescape(agent.get("/console/settings").get_data(as_text=True))

    assert f"{sao_paulo} by Ana" in shown and f"{berlin} by Ana" not in shown
    assert f"Your company's default ({i18n.zone_label('America/Sao_Paulo', 'en')})" in settings

    _set_zone(client, world["operator"], None)
    assert f"{berlin} by Ana" in html.unescape(agent.get(case_url).get_data(as_text=True))


def test_an_agents_own_zone_still_wins_over_the_partners(app, client, world):
    agent, case_url, created = _agent_with_a_case(app, world)
    _set_zone(client, world["operator"], "America/Sao_Paulo")

    agent.post(
        "/console/settings",
        data={"csrf_token": _csrf(agent, "/console/"), "locale": "en", "time_zone": "Asia/Kuala_Lumpur"},
    )

    shown = html.unescape(agent.get(case_url).get_data(as_text=True))
    assert f"{i18n.format_moment(created, 'en', 'Asia/Kuala_Lumpur')} by Ana" in shown


@pytest.mark.parametrize(
    ("chosen", "zone"),
    [
        ("America/Sao_Paulo", "America/Sao_Paulo"),
        (None, "Europe/Berlin"),
        ("", "Europe/Berlin"),
        ("Atlantis/Capital", "Europe/Berlin"),  # stored when this machine knew it, unknown here: the derived one
    ],
)
def test_the_partners_zone_is_the_one_set_when_known_else_the_derived_one(chosen, zone):
    assert i18n.partner_time_zone(["DE", "AT"], "de-DE", chosen) == zone
