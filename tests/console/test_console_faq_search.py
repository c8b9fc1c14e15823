"""The console's FAQ search page: the A-Z index for an empty search, typos forgiven and said, no good match said
with the closest three, the search from a customer's lookup lifting the articles about their situation, and
what the partner may not read yet left out."""

from __future__ import annotations

import html
import re

import pytest

from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind, Scope
from gateway.services import faq as faq_service
from tests.support.api import app_store
from tests.support.lookup import subscriber_in

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ARTICLE_LINK = re.compile(r'<a href="/console/faq/([a-z0-9-]+)\?[^"]*" lang="(\w+)">')


@pytest.fixture
def world(app, seed):
    """alpha (sells in Germany, where the sharing policy is not announced) with a subscriber whose cancellation
    is scheduled; beta with a subscriber of its own."""
    seed.partner("alpha", locale="de-DE")
    seed.partner("beta", locale="en")
    store = app_store(app)
    with store.transaction() as session:
        scheduled = subscriber_in(session, "alpha", "cancellation_scheduled").id
        theirs = subscriber_in(session, "beta", "suspended", partner_ref="beta-customer").id
    faq_service.load_folder(store, faq_service.ARTICLES_FOLDER, now=utcnow())
    token = seed.key(KeyKind.PARTNER, "alpha", {Scope.CALLCENTER}).token
    return {"token": token, "scheduled": scheduled, "theirs": theirs}


@pytest.fixture
def agent(client, world):
    """A client signed in as an alpha agent working in English."""
    csrf = CSRF.search(client.get("/console/sign-in").get_data(as_text=True)).group(1)
    form = {"csrf_token": csrf, "key": world["token"], "agent": "Ana", "locale": "en"}
    assert client.post("/console/sign-in", data=form).status_code == 302
    return client


def page(client, **query) -> tuple[str, str]:
    """(the page's HTML, its visible text in <main>, tags dropped and white space collapsed)."""
    response = client.get("/console/faq", query_string=query)
    assert response.status_code == 200, response.status_code
    markup = response.get_data(as_text=True)
    main = markup.split("<main", 1)[1].split("</main>", 1)[0]
    return markup, html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)))


def linked(markup: str) -> list[str]:
    return [slug for slug, _ in ARTICLE_LINK.findall(markup)]


def test_an_empty_search_shows_every_readable_article_a_to_z(agent):
    markup, text = page(agent)
    assert "All articles from A to Z" in text
    letters = re.findall(r'<a href="#letter-(\w)">', markup)
    assert letters == sorted(letters) and "C" in letters  # "cancellation"
    assert all(f'id="letter-{letter}"' in markup for letter in letters)
    # Germany has no sharing policy announced: its two articles stay hidden, in the index too.
    assert len(set(linked(markup))) == 12
    assert not {"paid-sharing-household", "extra-member"} & set(linked(markup))


def test_a_search_with_typos_finds_the_articles_and_says_what_it_searched_for(agent):
    markup, text = page(agent, q="cancle subscriptoin")
    assert "Searched for: cancel (you typed “cancle”), subscription (you typed “subscriptoin”)" in text
    assert "cancel-partner-billed" in linked(markup)[:5]
    assert re.search(r"\d+ results for “cancle subscriptoin”", text)


def test_no_good_match_is_said_and_the_closest_three_shown(agent):
    markup, text = page(agent, q="billing giraffe elephant rhinoceros")
    assert "No good match for “billing giraffe elephant rhinoceros”" in text and "results for" not in text
    assert len(re.findall(r'<p class="snippet"', markup)) == 3


def test_nothing_matching_offers_the_index(agent):
    markup, text = page(agent, q="zzzzqqq")
    assert "Nothing matches “zzzzqqq”" in text and "All articles from A to Z" in text
    assert '<p class="snippet"' not in markup and linked(markup)


def test_a_search_from_the_customers_lookup_lifts_the_articles_about_their_situation(agent, world):
    plain_markup, _ = page(agent, q="access")
    markup, text = page(agent, q="access", subscription=world["scheduled"])
    assert linked(plain_markup)[0] == "suspended-non-payment"
    assert linked(markup)[0] == "access-until-billing-period-end"  # their cancellation is scheduled
    assert "For customer cancellation_scheduled: articles about their situation come first." in text
    assert f'name="subscription" value="{world["scheduled"]}"' in markup  # the next search keeps the customer


def test_an_empty_search_from_the_customers_lookup_lists_their_situations_articles_first(agent, world):
    markup, text = page(agent, subscription=world["scheduled"])
    situation = markup.split('id="situation-heading"', 1)[1].split("</section>", 1)[0]
    assert "About this customer's situation" in text
    assert linked(situation)[:3] == [
        "access-until-billing-period-end", "cancellation-confirmation-email", "cancel-partner-billed",
    ]  # fmt: skip
    assert "All articles from A to Z" in text  # the index follows


@pytest.mark.parametrize("subscription", ["theirs", "sub_does_not_exist", "x" * 500, "'; drop table"])
def test_another_partners_or_an_unknown_customer_is_said_and_the_search_goes_on(agent, world, subscription):
    markup, text = page(agent, q="access", subscription=world.get(subscription, subscription))
    assert "That customer is not one of yours" in text
    assert linked(markup)[0] == "suspended-non-payment"  # as without a customer
    assert "beta-customer" not in markup


@pytest.mark.parametrize(
    "query",
    [{"q": "x" * 5000}, {"q": "<script>alert(1)</script>"}, {"q": "\u202e🙂"}, {"q": "access", "language": "xx"}],
)
def test_odd_input_is_a_page(agent, query):
    markup, _ = page(agent, **query)
    assert "<script>alert(1)</script>" not in markup
