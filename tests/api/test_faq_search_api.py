"""Agents' FAQ API over the shipped articles: ranking in each language, the English fallback, limits and problems,
ETag / If-None-Match, one article with its fallback, and searches seeing operators' edits at once."""

from __future__ import annotations

import unicodedata

import pytest

from gateway import create_app
from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind
from gateway.services import faq as faq_service
from tests.support.api import app_store, bearer
from tests.support.lookup import subscriber_in
from tests.support.seeding import Seeder, sharing_policy

SEARCH = "/v1/callcenter/faq/search"


@pytest.fixture
def agent(app, seed) -> dict[str, str]:
    """A call-center key of a German partner, with the shipped articles loaded and the sharing policy announced
    in Germany."""
    faq_service.load_folder(app_store(app), faq_service.ARTICLES_FOLDER, now=utcnow())
    seed.partner("rheinfunk", markets=("DE", "AT"), locale="de-AT")
    sharing_policy(app_store(app), ["DE"])
    return bearer(seed.token(KeyKind.PARTNER, "rheinfunk", scopes={"callcenter"}))


def test_articles_about_the_sharing_policy_are_hidden_until_it_is_announced_in_a_partners_market(app, client, seed):
    """Issue 22, item 11: under the embargo an agent must not read that password sharing has ended."""
    faq_service.load_folder(app_store(app), faq_service.ARTICLES_FOLDER, now=utcnow())
    seed.partner("lumiere", markets=("FR",), locale="fr-FR")
    agent = bearer(seed.token(KeyKind.PARTNER, "lumiere", scopes={"callcenter"}))
    sharing_policy(app_store(app), ["DE"])  # another market's announcement lifts nothing in France

    hidden = search(client, agent, q="partage du mot de passe foyer membre supplémentaire", locale="fr", limit=20)

    slugs = {hit["slug"] for hit in hidden.json["results"]}
    assert slugs and not slugs & {"paid-sharing-household", "extra-member"}
    assert client.get("/v1/callcenter/faq/extra-member", headers=agent).status_code == 404
    sharing_policy(app_store(app), ["FR"])
    shown = search(client, agent, q="partage du mot de passe foyer membre supplémentaire", locale="fr", limit=20)
    assert {"paid-sharing-household", "extra-member"} <= {hit["slug"] for hit in shown.json["results"]}
    assert shown.headers["ETag"] != hidden.headers["ETag"]
    assert client.get("/v1/callcenter/faq/extra-member", headers=agent).status_code == 200


@pytest.fixture
def operator(seed) -> dict[str, str]:
    return bearer(seed.token(KeyKind.OPERATOR))


def folded(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


def search(client, headers, **query):
    response = client.get(SEARCH, query_string=query, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def top(client, headers, q, locale, limit=3):
    return [
        (hit["slug"], hit["locale"]) for hit in search(client, headers, q=q, locale=locale, limit=limit).json["results"]
    ]


# What a customer asks, in their words, and the article that answers it.
QUESTIONS = [
    ("en", "why was my membership cancelled for inactivity", "inactive-membership-cancellation"),
    ("en", "how do I add an extra member", "extra-member"),
    ("en", "my account is suspended because I did not pay", "suspended-non-payment"),
    ("de", "Konto wegen Inaktivität gekündigt", "inactive-membership-cancellation"),
    ("de", "Zusatzmitglied hinzufügen", "extra-member"),
    ("de", "Passwort teilen Haushalt", "paid-sharing-household"),
    ("fr", "abonnement résilié pour inactivité", "inactive-membership-cancellation"),
    ("fr", "prélevé deux fois", "double-billing-existing-account"),
    ("fr", "code d'activation", "activate-bundle"),
    ("es", "me cobraron dos veces", "double-billing-existing-account"),
    ("es", "cancelación por inactividad", "inactive-membership-cancellation"),
    ("es", "miembro extra", "extra-member"),
    ("ms", "keahlian dibatalkan kerana tidak aktif", "inactive-membership-cancellation"),
    ("ms", "dicaj dua kali", "double-billing-existing-account"),
    ("ms", "kod pengaktifan", "activate-bundle"),
]


@pytest.mark.parametrize(("locale", "question", "slug"), QUESTIONS)
def test_the_answer_comes_first_in_the_callers_language(client, agent, locale, question, slug):
    assert top(client, agent, question, locale)[0] == (slug, locale)


def test_results_have_the_published_shape_and_come_best_first(client, agent):
    body = search(client, agent, q="membre supplémentaire", locale="fr-CA", limit=3).json
    assert (body["good_match"], body["corrections"], body["index"]) == (True, [], [])
    results = body["results"]
    assert 1 < len(results) <= 3
    assert set(results[0]) == {"slug", "locale", "title", "snippet", "score"}
    assert results[0]["slug"] == "extra-member" and results[0]["title"].startswith("Comment")
    assert "supplémentaire" in results[0]["snippet"] and len(results[0]["snippet"]) <= 200
    scores = [hit["score"] for hit in results]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0


def test_accents_and_regional_locales_change_nothing(client, agent):
    assert top(client, agent, "membre supplementaire", "fr") == top(client, agent, "membre supplémentaire", "fr-CA")
    assert top(client, agent, "Kundigung Partner", "de-AT")[0] == ("cancel-partner-billed", "de")


def test_english_answers_when_the_language_has_no_good_match(client, agent):
    assert top(client, agent, "extra member", "de")[0] == ("extra-member", "en")
    assert top(client, agent, "extra member", "it")[0] == ("extra-member", "en")  # no Italian articles at all
    assert search(client, agent, q="zebra crossing", locale="fr").json["results"] == []


def test_without_a_locale_the_partners_default_is_searched(client, agent):
    assert top(client, agent, "Zusatzmitglied", None)[0] == ("extra-member", "de")  # rheinfunk: de-AT


def test_limit_caps_the_results_and_keeps_their_order(client, agent):
    every = search(client, agent, q="Kündigung", locale="de", limit=50).json["results"]
    assert len(every) > 5
    for limit in (1, 5):
        assert search(client, agent, q="Kündigung", locale="de", limit=limit).json["results"] == every[:limit]


def test_weak_matches_no_longer_pad_the_results(client, agent):
    body = search(client, agent, q="Zusatzmitglied Preis", locale="de", limit=50).json
    assert body["good_match"] and body["results"][0]["slug"] == "extra-member"
    assert len(body["results"]) <= 3  # before, every article sharing a word with the question came back


def test_without_a_good_match_the_closest_three_come_back_marked(client, agent):
    body = search(client, agent, q="Konto Zebra Streifen", locale="de").json
    assert body["good_match"] is False and len(body["results"]) == 3
    nothing = search(client, agent, q="Zebrastreifen Ampel", locale="de").json
    assert (nothing["good_match"], nothing["results"]) == (False, [])


@pytest.mark.parametrize(
    ("q", "locale", "typed", "searched", "answers"),
    [
        ("Kündigng", "de", "Kündigng", "Kündigung", {"cancel-partner-billed", "access-until-billing-period-end"}),
        ("cancle subscriptoin", "en", "cancle", "cancel", {"cancel-partner-billed", "access-until-billing-period-end"}),
        ("membre supplémentiare", "fr-CA", "supplémentiare", "supplémentaire", {"extra-member"}),
    ],
)
def test_typos_are_forgiven_and_the_correction_said(client, agent, q, locale, typed, searched, answers):
    body = search(client, agent, q=q, locale=locale).json
    assert body["good_match"]
    assert {"typed": typed, "searched": searched} in body["corrections"]
    assert answers & {hit["slug"] for hit in body["results"][:3]}


@pytest.mark.parametrize("query", [{"locale": "de"}, {"q": "", "locale": "de"}, {"q": "   ", "locale": "de"}])
def test_an_empty_question_lists_every_article_a_to_z(client, agent, query):
    body = search(client, agent, **query).json
    assert (body["results"], body["good_match"], body["corrections"]) == ([], False, [])
    keywords = [entry["keyword"] for entry in body["index"]]
    assert keywords == sorted(keywords, key=folded)  # A-Z as a German index sorts: "Änderung" with the A's
    assert "kündigung" in keywords  # as the articles' tags write it
    filed = {(ref["slug"], ref["locale"]) for entry in body["index"] for ref in entry["articles"]}
    assert len(filed) == 14 and {locale for _, locale in filed} == {"de"}


def test_the_index_leaves_out_what_the_partner_may_not_read_yet(app, client, seed):
    faq_service.load_folder(app_store(app), faq_service.ARTICLES_FOLDER, now=utcnow())
    seed.partner("lumiere", markets=("FR",), locale="fr-FR")
    agent = bearer(seed.token(KeyKind.PARTNER, "lumiere", scopes={"callcenter"}))
    body = search(client, agent, q="").json
    filed = {ref["slug"] for entry in body["index"] for ref in entry["articles"]}
    assert len(filed) == 12 and not filed & {"paid-sharing-household", "extra-member"}
    assert all(entry["articles"] for entry in body["index"])  # no keyword left without its articles


def test_the_subscribers_situation_lifts_the_articles_about_it(app, client, agent, seed):
    with app_store(app).transaction() as session:
        suspended = subscriber_in(session, "rheinfunk", "suspended").id
    plain = search(client, agent, q="kein Zugang mehr", locale="de")
    lifted = search(client, agent, q="kein Zugang mehr", locale="de", subscription_id=suspended)
    assert plain.json["results"][0]["slug"] == "cancel-partner-billed"
    assert lifted.json["results"][0]["slug"] == "suspended-non-payment"
    assert {hit["slug"] for hit in lifted.json["results"]} == {hit["slug"] for hit in plain.json["results"]}
    assert lifted.headers["ETag"] != plain.headers["ETag"]


def test_another_partners_subscriber_is_not_found(app, client, agent, seed):
    seed.partner("ostwelle", markets=("DE",), locale="de-DE")
    with app_store(app).transaction() as session:
        theirs = subscriber_in(session, "ostwelle", "suspended").id
    for subscription_id in (theirs, "sub_does_not_exist"):
        response = client.get(SEARCH, query_string={"q": "Zugang", "subscription_id": subscription_id}, headers=agent)
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json" and response.json["type"] == "/problems/not-found"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"q": "x" * 201}, "q"),
        ({"q": "Konto", "subscription_id": "x" * 41}, "subscription_id"),
        ({"q": "Konto", "subscription_id": ""}, "subscription_id"),
        ({"q": "Konto", "limit": 0}, "limit"),
        ({"q": "Konto", "limit": 51}, "limit"),
        ({"q": "Konto", "limit": "many"}, "limit"),
        ({"q": "Konto", "locale": "not a locale"}, "locale"),
    ],
)
def test_bad_search_parameters_are_problems_naming_the_parameter(client, agent, query, field):
    response = client.get(SEARCH, query_string=query, headers=agent)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "/problems/validation-error"
    assert [(error["location"], error["field"]) for error in response.json["errors"]] == [("query", field)]


def test_search_etag_gives_304_until_an_operator_edits(client, agent, operator):
    first = search(client, agent, q="Zusatzmitglied", locale="de")
    tag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, max-age=60"

    again = client.get(
        SEARCH, query_string={"q": "Zusatzmitglied", "locale": "de"}, headers={**agent, "If-None-Match": tag}
    )
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == tag and again.headers["Cache-Control"] == "private, max-age=60"
    other = search(client, agent, q="Haushalt", locale="de")
    assert other.headers["ETag"] != tag  # another question, another representation

    edit = {"title": "Zusatzmitglied: was es kostet", "body": "Ein Zusatzmitglied kostet 4,99 EUR im Monat."}
    assert client.put("/admin/v1/faq/extra-member/de", json=edit, headers=operator).status_code == 200
    changed = client.get(
        SEARCH, query_string={"q": "Zusatzmitglied", "locale": "de"}, headers={**agent, "If-None-Match": tag}
    )
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert changed.json["results"][0]["title"] == "Zusatzmitglied: was es kostet"


def test_the_index_follows_admin_creates_and_deletes(client, agent, operator):
    assert search(client, agent, q="Streikposten", locale="de").json["results"] == []
    created = client.post(
        "/admin/v1/faq",
        json={"slug": "strike", "locale": "de", "title": "Streikposten vor dem Laden", "body": "Was tun bei Streik?"},
        headers=operator,
    )
    assert created.status_code == 201
    assert top(client, agent, "Streikposten", "de") == [("strike", "de")]
    assert client.delete("/admin/v1/faq/strike/de", headers=operator).status_code == 204
    assert search(client, agent, q="Streikposten", locale="de").json["results"] == []


def test_one_article_in_the_callers_language(client, agent):
    response = client.get("/v1/callcenter/faq/extra-member?locale=de-AT", headers=agent)
    assert response.status_code == 200
    body = response.json
    assert (body["slug"], body["locale"], body["requested_locale"], body["fallback"]) == (
        "extra-member", "de", "de-AT", False,
    )  # fmt: skip
    assert body["title"].startswith("Wie") and "Zusatzmitglied" in body["body"]
    assert "sharing.extra_member_added" in body["related_events"] and body["tags"]
    assert response.headers["Content-Language"] == "de"
    assert response.headers["Cache-Control"] == "private, max-age=60"

    unchanged = client.get(
        "/v1/callcenter/faq/extra-member?locale=de-AT", headers={**agent, "If-None-Match": response.headers["ETag"]}
    )
    assert unchanged.status_code == 304 and unchanged.headers["ETag"] == response.headers["ETag"]
    weakened = client.get(
        "/v1/callcenter/faq/extra-member?locale=de-AT",
        headers={**agent, "If-None-Match": f"W/{response.headers['ETag']}"},
    )
    assert weakened.status_code == 304
    other_language = client.get(
        "/v1/callcenter/faq/extra-member?locale=fr", headers={**agent, "If-None-Match": response.headers["ETag"]}
    )
    assert other_language.status_code == 200 and other_language.json["locale"] == "fr"


def test_an_article_missing_in_the_language_comes_in_english_and_says_so(client, agent, operator):
    english_only = {"slug": "only-english", "locale": "en", "title": "Only in English", "body": "Text."}
    assert client.post("/admin/v1/faq", json=english_only, headers=operator).status_code == 201
    response = client.get("/v1/callcenter/faq/only-english?locale=ms-MY", headers=agent)
    assert response.status_code == 200
    assert (response.json["locale"], response.json["requested_locale"], response.json["fallback"]) == (
        "en",
        "ms-MY",
        True,
    )
    assert response.headers["Content-Language"] == "en"

    etag = response.headers["ETag"]
    malay = {**english_only, "locale": "ms", "title": "Hanya dalam bahasa Melayu"}
    assert client.post("/admin/v1/faq", json=malay, headers=operator).status_code == 201
    now_malay = client.get("/v1/callcenter/faq/only-english?locale=ms-MY", headers={**agent, "If-None-Match": etag})
    assert now_malay.status_code == 200 and now_malay.json["locale"] == "ms" and now_malay.json["fallback"] is False


def test_an_unknown_article_is_a_404_problem(client, agent):
    response = client.get("/v1/callcenter/faq/no-such-article?locale=de", headers=agent)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == "/problems/not-found" and "no-such-article" in response.json["detail"]


def test_other_keys_cannot_search(client, agent, seed):
    service = bearer(seed.token(KeyKind.SERVICE))
    assert client.get(SEARCH, query_string={"q": "Konto"}, headers=service).status_code == 403
    assert client.get(SEARCH, query_string={"q": "Konto"}).status_code == 401


def test_each_backend_serves_admin_edits_to_a_second_process(backend_app):
    """Two apps on one store stand for two processes: an edit through one reaches searches through the other."""
    store = app_store(backend_app)
    faq_service.load_folder(store, faq_service.ARTICLES_FOLDER, now=utcnow())
    seeder = Seeder(store)
    seeder.partner("selat", markets=("MY",), locale="ms-MY")
    agent = bearer(seeder.token(KeyKind.PARTNER, "selat", scopes={"callcenter"}))
    operator = bearer(seeder.token(KeyKind.OPERATOR))
    sharing_policy(app_store(backend_app), ["MY"])
    other = create_app(
        {key: backend_app.config["GATEWAY"][key] for key in ("DATABASE_URL", "DATABASE_SCHEMA", "INSTANCE_PATH")}
    )
    try:
        reader, writer = other.test_client(), backend_app.test_client()
        before = reader.get(SEARCH, query_string={"q": "ahli tambahan", "limit": 1}, headers=agent)
        assert before.json["results"][0]["slug"] == "extra-member"
        edit = {"title": "Ahli tambahan dan harga", "body": "Ahli tambahan berharga 4.99 EUR sebulan."}
        assert writer.put("/admin/v1/faq/extra-member/ms", json=edit, headers=operator).status_code == 200
        after = reader.get(SEARCH, query_string={"q": "ahli tambahan", "limit": 1}, headers=agent)
        assert after.json["results"][0]["title"] == "Ahli tambahan dan harga"
        assert after.headers["ETag"] != before.headers["ETag"]
    finally:
        app_store(other).dispose()
