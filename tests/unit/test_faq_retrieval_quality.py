"""Retrieval quality over the shipped articles, on judged queries (tests/support/faq_judgements.py): typo tolerance,
the score cut-off and the customer-situation boost must not cost the queries typed right anything, and the
queries with typos must reach a stated bar.

hit@3: share of queries with an answering article among the first three results. MRR@5: mean of 1/rank of the
first answering article among the first five (0 when none is).
"""

from __future__ import annotations

import pytest

from gateway.domain.faq_search import Article, FaqIndex
from gateway.services.faq import read_article_folder
from tests.support.faq_judgements import PLAIN, TYPOS, measure

# Measured before typo tolerance, the cut-off and the boost (issue 20), with the search as of commit 2eafaf2
# (gateway/domain/faq_search.py last changed in ab5c0e6), on these same judged queries and shipped articles:
# (hit@3, MRR@5).
BEFORE_PLAIN = {
    "en": (1.0, 0.9688),
    "de": (1.0, 1.0),
    "fr": (1.0, 1.0),
    "es": (1.0, 1.0),
    "ms": (0.9286, 0.9464),
    "all": (0.9861, 0.9826),
}
BEFORE_TYPOS = {"all": (0.7143, 0.7024)}  # what the exact-word search found despite the typos

# The bar for queries with one or two slips per word: nearly all answered in the first three.
TYPO_BAR = (0.9, 0.85)


@pytest.fixture(scope="module")
def ranked():
    index = FaqIndex(
        Article(f.slug, f.locale, f.content.title, f.content.tags, f.content.body, f.content.related_events)
        for f in read_article_folder()
    )
    return lambda query, locale: [hit.slug for hit in index.search(query, locale).hits]


def test_the_judged_sets_are_big_enough_to_mean_something():
    assert all(len(PLAIN[locale]) >= 10 for locale in ("en", "de", "fr", "es", "ms"))
    assert all(len(TYPOS[locale]) >= 8 for locale in ("en", "de", "fr", "es", "ms"))


@pytest.mark.parametrize("locale", list(BEFORE_PLAIN))
def test_queries_typed_right_lose_nothing(ranked, locale):
    # No query is let off: "kekalkan keahlian" (ms), which Snowball's Indonesian rules kept from "mengekalkan" in
    # its answer's title, is found since Malay has its own stemmer (gateway.domain.malay_stemmer).
    hit3, mrr5 = measure(ranked, PLAIN)[locale]
    before_hit3, before_mrr5 = BEFORE_PLAIN[locale]
    print(f"plain {locale}: hit@3 {before_hit3:.4f} -> {hit3:.4f}, MRR@5 {before_mrr5:.4f} -> {mrr5:.4f}")
    assert hit3 >= before_hit3 - 1e-4
    assert mrr5 >= before_mrr5 - 1e-4


def test_queries_with_typos_reach_the_bar(ranked):
    hit3, mrr5 = measure(ranked, TYPOS)["all"]
    print(f"typos all: hit@3 {hit3:.4f}, MRR@5 {mrr5:.4f}")
    assert hit3 >= TYPO_BAR[0] and mrr5 >= TYPO_BAR[1]
    assert hit3 > BEFORE_TYPOS["all"][0] and mrr5 > BEFORE_TYPOS["all"][1]


@pytest.mark.parametrize("locale", ["en", "de", "fr", "es", "ms"])
def test_typo_queries_in_each_language_mostly_answered(ranked, locale):
    hit3, mrr5 = measure(ranked, {locale: TYPOS[locale]})[locale]
    print(f"typos {locale}: hit@3 {hit3:.4f}, MRR@5 {mrr5:.4f}")
    assert hit3 >= 0.75
