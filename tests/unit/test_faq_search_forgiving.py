"""FAQ search that forgives: typos corrected to the articles' words, no weak matches padding the results (the
closest three when nothing matches well), the A-Z keyword index, the customer's situation lifting its articles,
articles the caller may not read left out, and odd input."""

from __future__ import annotations

import pytest

from gateway.domain.faq_search import (
    CLOSEST_SHOWN,
    SCORE_CUTOFF,
    Article,
    Correction,
    FaqIndex,
    IndexEntry,
)
from gateway.domain.faq_spelling import Vocabulary, VocabularyWord, max_edits
from gateway.services.faq import read_article_folder


def article(slug: str, locale: str, title: str, body: str, tags=(), related_events=()) -> Article:
    return Article(slug, locale, title, tuple(tags), body, tuple(related_events))


def slugs(result) -> list[str]:
    return [hit.slug for hit in result.hits]


@pytest.fixture(scope="module")
def shipped() -> FaqIndex:
    """The call-center FAQ as shipped: every article file."""
    return FaqIndex(
        Article(f.slug, f.locale, f.content.title, f.content.tags, f.content.body, f.content.related_events)
        for f in read_article_folder()
    )


ENGLISH = [
    article("cancel", "en", "Cancelling a membership", "The cancellation takes effect at the period end."),
    article("household", "en", "Sharing outside the household", "Password sharing has ended for other homes."),
    article("suspended", "en", "Suspended access", "Access is suspended until the outstanding bill is paid."),
]


# --- typos ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "slug"),
    [
        ("houshold", "household"),  # a letter missing
        ("housedhold", "household"),  # one too many
        ("hosuehold", "household"),  # two neighbours swapped: one edit, as typing makes it
        ("housrhold", "household"),  # a wrong letter
        ("husehld", "household"),  # two missing
        ("suspnded", "suspended"),
        ("acess", "suspended"),  # five letters: one slip allowed
    ],
)
def test_a_word_with_one_or_two_slips_finds_its_article(typed, slug):
    result = FaqIndex(ENGLISH).search(typed, "en")
    assert slugs(result)[0] == slug
    assert result.good_match
    assert [fix.typed for fix in result.corrections] == [typed]


def test_the_correction_names_the_word_as_the_articles_write_it():
    index = FaqIndex([article("k", "de", "Kündigung beim Partner", "Die Kündigung erfolgt beim Partner.")])
    result = index.search("Kündigng", "de")
    assert slugs(result) == ["k"]
    assert result.corrections == (Correction("Kündigng", "Kündigung"),)
    assert index.search("Kundigung", "de").corrections == ()  # a missing umlaut is folding, not a typo


def test_short_words_allow_fewer_slips():
    index = FaqIndex([article("pin", "en", "Change the code", "A code of four digits protects profiles.")])
    assert slugs(index.search("cdoe", "en")) == ["pin"]  # four letters: one slip
    assert index.search("cde", "en").hits == []  # three letters: none, most slips there are other words
    assert index.search("cxdx", "en").hits == []  # four letters, two slips: too far
    assert [max_edits(n) for n in (1, 3, 4, 5, 6, 12)] == [0, 0, 1, 1, 2, 2]


def test_a_word_the_articles_use_is_never_corrected():
    index = FaqIndex([*ENGLISH, article("acces", "en", "Acces code", "The acces code is on the card.")])
    result = index.search("access", "en")
    assert result.corrections == ()
    assert "suspended" in slugs(result) and "acces" not in slugs(result)


def test_a_mistyped_stopword_is_dropped_not_turned_into_a_content_word():
    index = FaqIndex([*ENGLISH, article("witch", "en", "Which plan", "The witch plan.")])
    assert slugs(index.search("whihc suspended", "en")) == slugs(index.search("suspended", "en")) == ["suspended"]
    assert index.search("whihc suspended", "en").corrections == ()


def test_an_english_word_in_another_language_is_answered_in_english_not_corrected():
    index = FaqIndex(
        [
            article("de-kamera", "de", "Kamera einrichten", "Die Kamera im Fernseher einrichten."),
            article("en-camera", "en", "Set up the camera", "Set up the camera of the television."),
        ]
    )
    english = index.search("camera", "de")
    assert slugs(english) == ["en-camera"] and english.corrections == ()
    german = index.search("Kamear", "de")  # not an English word: a German slip
    assert slugs(german) == ["de-kamera"] and german.corrections == (Correction("Kamear", "Kamera"),)


def test_a_typo_in_english_is_corrected_after_the_fallback(shipped):
    result = shipped.search("extra memebr", "de")
    assert (result.hits[0].slug, result.hits[0].locale) == ("extra-member", "en")
    assert result.corrections == (Correction("memebr", "member"),)


@pytest.mark.parametrize(
    ("typed", "meant", "locale"),
    [("cancle subscriptoin", "cancel subscription", "en"), ("Kündigng", "Kündigung", "de")],
)
def test_the_issues_examples_find_what_the_words_typed_right_find(shipped, typed, meant, locale):
    assert slugs(shipped.search(typed, locale)) == slugs(shipped.search(meant, locale))
    assert {"cancel-partner-billed", "access-until-billing-period-end"} <= set(slugs(shipped.search(typed, locale)))


def test_vocabulary_prefers_fewer_edits_then_the_commoner_word_then_the_first():
    vocabulary = Vocabulary(
        {
            "parcel": VocabularyWord("parcel", "parcel", 1),
            "cancel": VocabularyWord("cancel", "cancel", 5),
            "camel": VocabularyWord("camel", "camel", 50),
            "panel": VocabularyWord("panel", "panel", 5),
            "banel": VocabularyWord("banel", "banel", 5),
        }
    )
    assert vocabulary.nearest("cancle").word == "cancel"  # one swap beats the commoner "camel" at two
    assert vocabulary.nearest("canel").word == "camel"  # one edit to cancel, camel and panel: the commonest
    assert vocabulary.nearest("xanel").word == "banel"  # one edit to banel and panel, as common: alphabetical
    assert vocabulary.nearest("cancel") is None  # known: nothing to correct
    assert vocabulary.nearest("c4ncel") is None and vocabulary.nearest("zzzzzzzz") is None
    assert vocabulary.nearest("cancle") is vocabulary.nearest("cancle")  # remembered


# --- no padding ----------------------------------------------------------------------------------------------

PADDING_CORPUS = [
    article("refund", "en", "Refund after double billing", "A refund for double billing takes ten days."),
    *(article(f"other-{n}", "en", f"Topic {n}", f"Streaming topic {n}, billing in passing.") for n in range(12)),
]


def test_weak_matches_do_not_pad_the_results():
    result = FaqIndex(PADDING_CORPUS).search("refund double billing", "en", limit=10)
    assert result.good_match
    assert slugs(result) == ["refund"]  # twelve articles mention billing; none of them answers the question
    best = result.hits[0].score
    assert all(hit.score >= SCORE_CUTOFF * best for hit in result.hits)


def test_without_a_good_match_the_closest_three_come_back_marked_as_such():
    result = FaqIndex(PADDING_CORPUS).search("billing zebra crossing lights", "en", limit=10)
    assert not result.good_match
    assert len(result.hits) == CLOSEST_SHOWN == 3
    assert FaqIndex(PADDING_CORPUS).search("billing zebra crossing lights", "en", limit=2).hits.__len__() == 2


def test_nothing_in_common_is_no_result_and_no_good_match():
    result = FaqIndex(PADDING_CORPUS).search("zebra crossing", "en")
    assert (result.hits, result.good_match) == ([], False)


def test_the_shipped_faq_no_longer_fills_ten_places(shipped):
    result = shipped.search("Zusatzmitglied Preis", "de")
    assert result.good_match and slugs(result)[0] == "extra-member"
    assert len(result.hits) <= 3  # four German articles share a word with it; the last two only in passing


# --- the A-Z index -------------------------------------------------------------------------------------------


def test_the_index_files_every_article_under_each_keyword_a_to_z():
    index = FaqIndex(
        [
            article("zugang", "de", "Zugang gesperrt", "Text.", tags=["Zugang", "Sperre"]),
            article("aenderung", "de", "Tarif ändern", "Text.", tags=["Änderung", "tarif"]),
            article("abo", "de", "Abo kündigen", "Text.", tags=["Tarif", "Kündigung"]),
            article("untagged", "de", "5 Fragen zum Konto", "Text."),
        ]
    )
    entries = index.keyword_index("de-AT")
    assert [entry.keyword for entry in entries] == [
        "5 Fragen zum Konto", "Änderung", "Kündigung", "Sperre", "Tarif", "Zugang",
    ]  # fmt: skip
    tarif = next(entry for entry in entries if entry.keyword == "Tarif")
    assert [ref.slug for ref in tarif.articles] == ["abo", "aenderung"]  # "Tarif" and "tarif" are one keyword
    assert [entry.initial for entry in entries] == ["#", "A", "K", "S", "T", "Z"]


def test_the_index_fills_a_languages_gaps_in_english_and_leaves_out_what_is_hidden():
    index = FaqIndex(
        [
            article("extra", "de", "Zusatzmitglied", "Text.", tags=["Haushalt"]),
            article("extra", "en", "Extra member", "Text.", tags=["household"]),
            article("refund", "en", "Refunds", "Text.", tags=["billing"]),
        ]
    )
    entries = index.keyword_index("de")
    assert [(entry.keyword, [(a.slug, a.locale) for a in entry.articles]) for entry in entries] == [
        ("billing", [("refund", "en")]),
        ("Haushalt", [("extra", "de")]),
    ]
    assert [entry.keyword for entry in index.keyword_index("de", exclude={"refund"})] == ["Haushalt"]
    assert index.keyword_index("de", exclude={"refund", "extra"}) == []


@pytest.mark.parametrize("locale", ["en", "de", "fr", "es", "ms", "pt-BR"])
def test_the_shipped_index_holds_every_article_in_each_language(shipped, locale):
    entries = shipped.keyword_index(locale)
    filed = {ref.slug for entry in entries for ref in entry.articles}
    assert len(filed) == 14
    keys = [entry.keyword.casefold() for entry in entries]
    assert len(keys) == len(set(keys))
    assert all(isinstance(entry, IndexEntry) and entry.articles for entry in entries)


# --- the customer's situation --------------------------------------------------------------------------------

BOOST_CORPUS = [
    article("a-refund", "en", "Refund rules", "A refund takes ten days to reach the card."),
    article("b-refund-suspended", "en", "Refund while suspended", "A refund while suspended waits for payment."),
    article(
        "c-household", "en", "Household", "Who counts as a household.", related_events=["sharing.policy_effective"]
    ),
]


def test_the_situation_lifts_an_article_that_matches_about_as_well():
    index = FaqIndex(BOOST_CORPUS)
    assert slugs(index.search("refund", "en"))[0] == "a-refund"
    assert slugs(index.search("refund", "en", boost={"b-refund-suspended"}))[0] == "b-refund-suspended"


def test_the_situation_brings_in_no_article_that_does_not_match():
    result = FaqIndex(BOOST_CORPUS).search("refund", "en", boost={"c-household"})
    assert "c-household" not in slugs(result)


def test_the_situation_does_not_beat_a_clearly_better_match():
    index = FaqIndex(
        [
            article("strong", "en", "Refund and double billing", "Refund the double billing.", tags=["refund"]),
            article("weak", "en", "Other things", f"{'Streaming words here. ' * 20}A refund can happen."),
        ]
    )
    assert slugs(index.search("refund double billing", "en", boost={"weak"}))[0] == "strong"


def test_articles_related_to_events_in_any_language():
    index = FaqIndex(
        [*BOOST_CORPUS, article("d", "de", "Haushalt", "Text.", related_events=["sharing.extra_member_added"])]
    )
    assert index.related_to({"sharing.policy_effective", "sharing.extra_member_added"}) == {"c-household", "d"}
    assert index.related_to(set()) == frozenset()


# --- hidden articles and odd input ---------------------------------------------------------------------------


def test_an_excluded_article_is_never_returned_nor_taken_for_the_good_match():
    index = FaqIndex(PADDING_CORPUS)
    result = index.search("refund double billing", "en", exclude={"refund"})
    assert "refund" not in slugs(result)
    assert not result.good_match and len(result.hits) == 3  # what is left matches only "billing"
    assert index.search("refund", "en", exclude={"refund"}).hits == []


@pytest.mark.parametrize(
    "query",
    ["", "   ", "?!…", "🙂🙂", "1234 5678", "x" * 5000, "refund\x00billing", "ﬁnance ½", "رد المبلغ"],
)
def test_odd_queries_answer_without_failing(query):
    result = FaqIndex(PADDING_CORPUS).search(query, "en")
    assert isinstance(result.hits, list) and len(result.hits) <= 10


def test_a_limit_below_one_is_refused():
    with pytest.raises(ValueError):
        FaqIndex(PADDING_CORPUS).search("refund", "en", limit=0)


def test_the_situation_reorders_the_good_matches_without_dropping_any():
    index = FaqIndex(BOOST_CORPUS)
    plain, lifted = index.search("refund", "en"), index.search("refund", "en", boost={"b-refund-suspended"})
    assert sorted(slugs(lifted)) == sorted(slugs(plain)) == ["a-refund", "b-refund-suspended"]
