"""FAQ ranking: a per-language BM25F index over articles (title, tags, body) with an English fallback.

Pure and in memory: build an `FaqIndex` once from the articles, then `search(query, locale, limit)` only touches
the postings of the query's terms, so a query costs what its terms' posting lists cost, not what the corpus costs.

Text is normalized the same way for articles and queries: Unicode NFKC, casefold, split into letter/digit runs,
drop the language's stopwords, stem (Snowball; Malay by gateway.domain.malay_stemmer), then fold accents (NFKD,
combining marks dropped). Stemming comes *before* accent folding: the French rules read the accents
("annulée" -> "annul", but "annulee" -> "annule"; "résilié" -> "resili", but "resilie" -> "resil"), the German
rules come out the same either way. So that a query typed without accents still finds the accented words, the
index keeps an alias from the fold-then-stem form of every indexed word to its stem-then-fold form, and a query
term missing from the vocabulary is looked up there.

A query word that is still unknown is taken for a typo and replaced by the nearest word the language's articles
use (gateway.domain.faq_spelling), unless it is an English word the English articles use: then the English
fallback answers it. Results stop where the scores fall well below the best one instead of filling the limit with
weak matches; when nothing matches well, the closest three come back marked as such. A caller that knows the
customer's situation names the articles that explain it, and those rank higher when they match the question.
"""

from __future__ import annotations

import math
import re
import unicodedata
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from heapq import nlargest
from operator import add

import snowballstemmer

from gateway.domain import malay_stemmer
from gateway.domain.faq_spelling import Vocabulary, VocabularyWord

LANGUAGES = ("en", "de", "fr", "es", "ms")
FALLBACK_LANGUAGE = "en"
# Snowball has no Malay (its Indonesian rules keep meN- forms apart from the rest of their family): Malay is
# stemmed by the project's own rules, gateway.domain.malay_stemmer.
_STEMMER_NAMES = {"en": "english", "de": "german", "fr": "french", "es": "spanish", "ms": "malay"}

# BM25F. The title states the question an article answers, so a title word is the strongest evidence (3); tags
# are curated keywords but broad (one tag such as "billing" sits on many articles) (2); the body is long and
# mentions many things in passing (1). Each field is length-normalized against its own average before the
# weighted term frequencies are summed and saturated once (Robertson & Zaragoza's BM25F).
FIELD_WEIGHTS = {"title": 3.0, "tags": 2.0, "body": 1.0}
K1 = 1.2
B = 0.75

# A "good match": the best hit carries at least this share of the query's IDF weight (a query term the language's
# vocabulary lacks counts with the IDF of a word seen in no article, so an English query against German articles,
# or a query of words none of them use, is not a good match). Below it, English is searched too.
GOOD_MATCH_COVERAGE = 0.5

# After a good match, results end at the first whose score is below this share of the best one's: past it come
# articles that share a word with the question but do not answer it, which the old padding to the limit showed.
SCORE_CUTOFF = 0.5

# Without a good match, this many of the closest articles are shown, marked as no good match.
CLOSEST_SHOWN = 3

# An article that explains the customer's situation (the search started from their lookup) scores this many times
# more: enough to come first among articles that match the question about as well, not enough to push aside one
# that matches it clearly better. It never makes an article match that shares no word with the question.
SITUATION_BOOST = 1.5

# A term in at least 1/DENSE_FRACTION of a language's articles also keeps a dense array of its contributions.
DENSE_FRACTION = 4

SNIPPET_MAX_CHARS = 200
_SNIPPET_LEAD_CHARS = 40  # context kept before the first matching word
SNIPPET_ANCHORS = 8  # windows tried, each starting shortly before one of the first matching words
_ELLIPSIS = "…"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# A few dozen frequent function words per language, written accent-folded (they are compared after folding).
STOPWORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "a an the and or but if of to in on at by for with from as into about is are was were be been being am "
        "it its this that these those i you he she we they me my your our their his her them us do does did "
        "how what when where which who why can could will would should shall may might there here so than then "
        "just also"
    ),
    "de": _words(
        "der die das den dem des ein eine einen einem einer eines und oder aber wenn ich du er sie es wir ihr "
        "mein meine dein deine sein seine ist sind war waren bin bist hat habe haben wird werden kann konnen "
        "zu in im an am auf aus bei mit nach von vom zum zur fur uber um wie was wo wann warum wer welche "
        "welcher dass sich mich mir dir dich auch noch nur so als"
    ),
    "fr": _words(
        "le la les l un une des du de d et ou mais si je j tu il elle nous vous ils elles on me m te t se s "
        "mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs ce cet cette ces c qu que qui quoi "
        "est sont etre a ai as avons avez ont au aux en dans par pour sur avec sans comment quand pourquoi ne "
        "y"
    ),
    "es": _words(
        "el la los las un una unos unas y o pero si de del al a en por para con sin sobre que como cuando "
        "donde es son ser esta estan estoy fue hay mi mis tu tus su sus yo el ella nosotros ellos ellas usted "
        "ustedes me te se lo le les este ese esto eso muy mas ya"
    ),
    "ms": _words(
        "yang dan di ke dari untuk dengan ini itu adalah atau pada akan ada dalam saya anda kami kita mereka "
        "ia dia juga telah sudah boleh bagi oleh sebagai jika kalau apa bagaimana bila mana tersebut lebih "
        "hanya masih perlu kepada seperti tetapi supaya agar"
    ),
}

# Words customers use for a concept the articles name with one word: the glossary (gateway/templates/glossary.toml,
# its `avoid` lists) keeps the articles to "Mitgliedschaft", while callers say "Abo". Each is indexed and searched
# as the articles' word, so "cancel subscription" finds the articles about cancelling a membership.
SAME_CONCEPT: dict[str, dict[str, str]] = {
    "en": {"subscription": "membership"},
    "de": {"abo": "mitgliedschaft", "abonnement": "mitgliedschaft"},
    "es": {"membresía": "suscripción"},
    "ms": {"langganan": "keahlian"},
}

_WORD = re.compile(r"[^\W_]+")
_LOCALE_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:[-_].*)?$")


@dataclass(frozen=True, slots=True)
class Article:
    slug: str
    locale: str
    title: str
    tags: tuple[str, ...]
    body: str  # Markdown
    related_events: tuple[str, ...] = ()  # event types whose situation the article explains


@dataclass(frozen=True, slots=True)
class SearchHit:
    slug: str
    locale: str
    title: str
    snippet: str  # plain text, whole words, at most SNIPPET_MAX_CHARS
    score: float  # BM25F, rounded to 4 places; comparable only within one language's results


@dataclass(frozen=True, slots=True)
class Correction:
    typed: str  # a query word as the agent typed it
    searched: str  # the article word searched for instead, as the articles write it


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: list[SearchHit]  # best first
    good_match: bool  # False: nothing matched well, and `hits` are the closest CLOSEST_SHOWN (or none)
    corrections: tuple[Correction, ...] = ()  # typos replaced by article words, for the hits' language


@dataclass(frozen=True, slots=True)
class ArticleRef:
    slug: str
    locale: str
    title: str


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One keyword of the A-Z index and the articles filed under it, by title."""

    keyword: str
    articles: tuple[ArticleRef, ...]

    @property
    def initial(self) -> str:
        """The letter the keyword files under ('Ä' under 'A'); '#' for a digit or other sign."""
        first = fold(self.keyword)[:1].upper()
        return first if first.isalpha() else "#"


def language_of(locale: str) -> str:
    """The supported language a BCP 47 locale speaks ('de-AT' -> 'de'); English for anything else."""
    match = _LOCALE_LANGUAGE.match(locale.strip())
    language = match.group(1).lower() if match else ""
    return language if language in _STEMMER_NAMES else FALLBACK_LANGUAGE


def fold(text: str) -> str:
    """Accent and case folding: NFKD, combining marks dropped, casefolded ('Résiliation' -> 'resiliation')."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


@lru_cache(maxsize=8)
def _stemmer(language: str):  # snowballstemmer's stemmers keep state between calls: one per language
    if language == "ms":
        return _MalayStemmer()
    return snowballstemmer.stemmer(_STEMMER_NAMES[language])


class _MalayStemmer:
    """gateway.domain.malay_stemmer behind Snowball's interface."""

    @staticmethod
    def stemWord(word: str) -> str:  # Snowball's name for it
        return malay_stemmer.stem(word)


@lru_cache(maxsize=200_000)
def _terms_of_word(language: str, word: str) -> tuple[str, ...]:
    """The index terms of one raw word: usually one, none for a stopword (cached: queries repeat words)."""
    lowered = unicodedata.normalize("NFKC", word).casefold()
    terms = []
    for part in _WORD.findall(lowered):  # NFKC can split a word (a vulgar fraction)
        if fold(part) in STOPWORDS[language]:
            continue
        term = fold(_stemmer(language).stemWord(part))
        terms.append(_same_concept_terms(language).get(term, term))
    return tuple(terms)


@lru_cache(maxsize=8)
def _same_concept_terms(language: str) -> dict[str, str]:
    """SAME_CONCEPT as index terms: the term of a caller's word -> the term of the articles' word."""
    stem = _stemmer(language).stemWord
    return {fold(stem(word)): fold(stem(same)) for word, same in SAME_CONCEPT.get(language, {}).items()}


@lru_cache(maxsize=200_000)
def _folded_first_stem(language: str, word: str) -> str:
    """The stem of the accent-folded word: what a query typed without accents turns into."""
    return _stemmer(language).stemWord(fold(word))


def analyze(text: str, language: str) -> list[str]:
    """The index terms of a text, in order, repeats kept."""
    terms: list[str] = []
    for word in _WORD.findall(unicodedata.normalize("NFC", text)):
        terms.extend(_terms_of_word(language, word))
    return terms


# Markdown to plain text, for snippets and for the body field (link targets and markup are not content).
_FENCE = re.compile(r"^\s*(```|~~~).*$", re.MULTILINE)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])")
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^>\s]+)>")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*(.*?)\s*#*\s*$", re.MULTILINE)
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$", re.MULTILINE)
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$", re.MULTILINE)
_QUOTE = re.compile(r"^\s{0,3}>\s?", re.MULTILINE)
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+", re.MULTILINE)
_EMPHASIS = re.compile(r"(\*\*|__|~~|`+|(?<!\w)[*_]|[*_](?!\w))")
_SPACE = re.compile(r"\s+")


def markdown_to_text(markdown: str) -> str:
    """The readable text of a Markdown body on one line: no markers, links reduced to their words."""
    text = _FENCE.sub("", markdown)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _HTML_TAG.sub(" ", text)
    text = _TABLE_SEPARATOR.sub("", text)
    text = _RULE.sub("", text)
    text = _HEADING.sub(_heading_as_sentence, text)
    text = _QUOTE.sub("", text)
    text = _LIST_MARKER.sub("", text)
    text = _EMPHASIS.sub("", text)
    text = text.replace("|", " ")
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _heading_as_sentence(match: re.Match[str]) -> str:
    heading = match.group(1)
    return heading if not heading or heading[-1] in ".:?!" else heading + ":"


# Building a language's index, step by step (each runs once per language at start-up, never per query).

_Fields = dict[str, list[list[str]]]  # field name -> per document, its terms in order


def _analyzed_fields(
    articles: Sequence[Article], texts: Sequence[str], language: str
) -> tuple[_Fields, list[list[int]]]:
    """Each field's terms per article, in FIELD_WEIGHTS order; and where each body term starts in the plain text."""
    fields: _Fields = {
        "title": [analyze(article.title, language) for article in articles],
        "tags": [[t for tag in article.tags for t in analyze(tag, language)] for article in articles],
        "body": [],
    }
    body_offsets: list[list[int]] = []
    for text in texts:
        terms, offsets = _body_terms_and_offsets(text, language)
        fields["body"].append(terms)
        body_offsets.append(offsets)
    return fields, body_offsets


def _body_terms_and_offsets(text: str, language: str) -> tuple[list[str], list[int]]:
    """The body's terms with where each starts in the plain text: snippets find the query's words without re-reading."""
    terms: list[str] = []
    offsets: list[int] = []
    for match in _WORD.finditer(text):
        for term in _terms_of_word(language, match.group()):
            terms.append(term)
            offsets.append(match.start())
    return terms, offsets


def _average_lengths(fields: _Fields, count: int) -> dict[str, float]:
    """Each field's mean length in terms; 1.0 where it would be 0 (no articles, or the field empty in all)."""
    return {name: (sum(map(len, docs)) / count if count else 0.0) or 1.0 for name, docs in fields.items()}


def _pseudo_term_frequencies(fields: _Fields, count: int) -> dict[str, dict[int, float]]:
    """term -> doc id -> length-normalized, weighted term frequency summed over the fields (BM25F, unsaturated)."""
    averages = _average_lengths(fields, count)
    pseudo_tf: dict[str, dict[int, float]] = {}
    for name, docs in fields.items():
        weight, average = FIELD_WEIGHTS[name], averages[name]
        for doc, terms in enumerate(docs):
            norm = weight / (1.0 - B + B * len(terms) / average)
            for term, tf in Counter(terms).items():
                per_doc = pseudo_tf.setdefault(term, {})
                per_doc[doc] = per_doc.get(doc, 0.0) + tf * norm
    return pseudo_tf


def _dense_contributions(docs: Sequence[int], contributions: Sequence[float], count: int) -> array:
    """A term's contributions as one array over every document, 0.0 where it is absent: rank adds these in C."""
    dense = array("d", bytes(8 * count))
    for doc, contribution in zip(docs, contributions, strict=True):
        dense[doc] = contribution
    return dense


def _alias_votes(articles: Sequence[Article], texts: Sequence[str], language: str) -> dict[str, Counter[str]]:
    """For queries typed without accents: per fold-then-stem form, how often each stem-then-fold term stands for it.

    Only words whose two forms differ vote (most words fold and stem the same either way).
    """
    votes: dict[str, Counter[str]] = {}
    for article, text in zip(articles, texts, strict=True):
        for word in _WORD.findall(unicodedata.normalize("NFC", f"{article.title} {' '.join(article.tags)} {text}")):
            terms = _terms_of_word(language, word)
            if len(terms) == 1:
                variant = _folded_first_stem(language, word)
                if variant != terms[0]:
                    votes.setdefault(variant, Counter())[terms[0]] += 1
    return votes


def _unaccented_aliases(votes: dict[str, Counter[str]], postings: dict[str, tuple[array, array]]) -> dict[str, str]:
    """Each variant's most frequent indexed term (ties: the alphabetically first).

    A variant that is itself an indexed term gets no alias: its own postings win.
    """
    return {
        variant: min(counts.items(), key=lambda item: (-item[1], item[0]))[0]
        for variant, counts in votes.items()
        if variant not in postings
    }


def _vocabulary(articles: Sequence[Article], texts: Sequence[str], language: str) -> Vocabulary:
    """Every word the articles use, folded, with the term it stands for: what a typo is corrected to.

    The language's stopwords are in it too (as no term), so that a slip in one ("becuase") is dropped like the
    word itself rather than turned into a content word.
    """
    written: Counter[str] = Counter()
    for article, text in zip(articles, texts, strict=True):
        written.update(_WORD.findall(unicodedata.normalize("NFC", f"{article.title} {' '.join(article.tags)} {text}")))
    forms: dict[str, Counter[str]] = {}
    for word, count in written.items():
        parts = _WORD.findall(unicodedata.normalize("NFKC", word).casefold())
        if len(parts) == 1:
            forms.setdefault(fold(parts[0]), Counter())[word] += count
    words = {}
    for folded, counts in forms.items():
        shown = min(counts.items(), key=lambda item: (-item[1], item[0]))[0]  # the commonest spelling
        terms = _terms_of_word(language, shown)
        words[folded] = VocabularyWord(terms[0] if terms else None, shown, counts.total())
    for stopword in STOPWORDS[language]:
        words.setdefault(stopword, VocabularyWord(None, stopword, 0))
    return Vocabulary(words)


def _folded_word(word: str) -> str:
    return fold(unicodedata.normalize("NFKC", word))


def _compact_body_tokens(
    body_terms: Sequence[list[str]], body_offsets: Sequence[list[int]], term_ids: dict[str, int]
) -> list[tuple[array, array]]:
    """Body tokens as compact arrays (term id, offset), about 8 bytes a word: what snippets search."""
    return [
        (array("i", [term_ids[term] for term in terms]), array("i", offsets))
        for terms, offsets in zip(body_terms, body_offsets, strict=True)
    ]


class _LanguageIndex:
    """The BM25F postings of one language's articles; document ids follow slug order, so ties sort by slug."""

    def __init__(self, language: str, articles: Sequence[Article]) -> None:
        self.language = language
        self.articles = sorted(articles, key=lambda article: (article.slug, article.locale))
        self.count = len(self.articles)  # before _scored_terms: the IDF reads it
        self.texts = [markdown_to_text(article.body) for article in self.articles]
        fields, body_offsets = _analyzed_fields(self.articles, self.texts, language)
        self.idf, self.postings, self.dense = self._scored_terms(_pseudo_term_frequencies(fields, self.count))
        self.unseen_idf = self._idf(0)
        self.aliases = _unaccented_aliases(_alias_votes(self.articles, self.texts, language), self.postings)
        self.term_ids = {term: number for number, term in enumerate(self.postings)}
        self.body_tokens = _compact_body_tokens(fields["body"], body_offsets, self.term_ids)
        self.vocabulary = _vocabulary(self.articles, self.texts, language)
        self.doc_of = {article.slug: doc for doc, article in enumerate(self.articles)}

    def _scored_terms(
        self, pseudo_tf: dict[str, dict[int, float]]
    ) -> tuple[dict[str, float], dict[str, tuple[array, array]], dict[str, array]]:
        """Each term's IDF, its postings (doc ids, contributions), and for a term in many documents a dense array.

        The whole per-document contribution of a term is known at build time: idf * saturated tf. A query adds
        them up. The dense array holds the same contributions for every document (0.0 where the term is absent).
        """
        idf_of: dict[str, float] = {}
        postings: dict[str, tuple[array, array]] = {}
        dense: dict[str, array] = {}
        for term, per_doc in pseudo_tf.items():
            idf = self._idf(len(per_doc))
            idf_of[term] = idf
            docs = sorted(per_doc)
            contributions = [idf * per_doc[d] * (K1 + 1.0) / (K1 + per_doc[d]) for d in docs]
            postings[term] = (array("i", docs), array("d", contributions))
            if len(docs) * DENSE_FRACTION >= self.count:
                dense[term] = _dense_contributions(docs, contributions, self.count)
        return idf_of, postings, dense

    def _idf(self, document_frequency: int) -> float:
        return math.log(1.0 + (self.count - document_frequency + 0.5) / (document_frequency + 0.5))

    def query_terms(
        self, query: str, may_correct: Callable[[str], bool] = lambda word: True
    ) -> tuple[list[str], list[Correction]]:
        """The query's distinct terms, each resolved to an indexed term where an alias or participle rule knows one,
        else, for a word `may_correct` allows, where the nearest article word within its allowed edits does; and
        the corrections made."""
        seen: dict[str, None] = {}
        corrections: list[Correction] = []
        for word in _WORD.findall(unicodedata.normalize("NFC", query)):
            terms = _terms_of_word(self.language, word)
            for term in terms:
                resolved = self._resolve(term, word)
                if resolved not in self.postings and len(terms) == 1 and may_correct(word):
                    suggestion = self.vocabulary.nearest(_folded_word(word))
                    if suggestion is not None:
                        if suggestion.entry.term is None:
                            continue  # a stopword mistyped: dropped like the stopword
                        resolved = suggestion.entry.term
                        corrections.append(Correction(word, suggestion.entry.shown))
                seen.setdefault(resolved, None)
        return list(seen), corrections

    def knows(self, word: str) -> bool:
        """Whether the word, as typed, is one this language's articles use (no correction needed)."""
        return any(self._resolve(term, word) in self.postings for term in _terms_of_word(self.language, word))

    def docs_of(self, slugs: Collection[str]) -> list[int]:
        return [self.doc_of[slug] for slug in slugs if slug in self.doc_of]

    def _resolve(self, term: str, word: str) -> str:
        if term in self.postings:
            return term
        alias = self.aliases.get(term)
        if alias is not None:
            return alias
        if self.language == "de":
            # Snowball's German rules keep the ge- of a participle ("gekündigt" -> "gekundigt"); for a query word
            # the articles do not use, try the verb it comes from ("kündig" -> "kundig", like "Kündigung").
            lowered = fold(word)
            if lowered.startswith("ge") and lowered.endswith("t") and len(lowered) >= 7:
                candidate = _stemmer("de").stemWord(lowered[2:-1])
                if candidate in self.postings:
                    return candidate
        return term

    def rank(
        self, terms: Sequence[str], limit: int, *, boosted: Sequence[int] = (), excluded: Sequence[int] = ()
    ) -> tuple[list[tuple[int, float]], bool]:
        """The best `limit` (doc id, score) pairs, and whether the best one is a good match.

        `boosted` documents score SITUATION_BOOST times more; `excluded` ones are never returned.
        """
        present = [term for term in terms if term in self.postings]
        if not present:
            return [], False
        dense = [self.dense[term] for term in present if term in self.dense]
        sparse = [self.postings[term] for term in present if term not in self.dense]
        if dense:
            totals = _dense_totals(dense, sparse)
            for doc in boosted:
                totals[doc] *= SITUATION_BOOST
            for doc in excluded:
                totals[doc] = 0.0  # never above the cutoff of _top_by_rounded_score
            ranked = _top_by_rounded_score(enumerate(totals), totals, limit)
        else:
            by_doc = _sparse_totals(sparse)
            for doc in boosted:
                if doc in by_doc:
                    by_doc[doc] *= SITUATION_BOOST
            for doc in excluded:
                by_doc.pop(doc, None)
            ranked = _top_by_rounded_score(by_doc.items(), by_doc.values(), limit) if by_doc else []
        if not ranked:
            return [], False
        return ranked, self._coverage(terms, ranked[0][0]) >= GOOD_MATCH_COVERAGE

    def _coverage(self, terms: Iterable[str], doc: int) -> float:
        total = matched = 0.0
        for term in terms:
            idf = self.idf.get(term, self.unseen_idf)
            total += idf
            posting = self.postings.get(term)
            if posting is not None:
                docs = posting[0]
                position = bisect_left(docs, doc)
                if position < len(docs) and docs[position] == doc:
                    matched += idf
        return matched / total if total else 0.0

    def hit(self, doc: int, score: float, terms: Sequence[str]) -> SearchHit:
        article = self.articles[doc]
        return SearchHit(
            slug=article.slug,
            locale=article.locale,
            title=article.title,
            snippet=self.snippet(doc, terms),
            score=score,
        )

    def snippet(self, doc: int, terms: Sequence[str]) -> str:
        """At most SNIPPET_MAX_CHARS of whole words of the body, around the most query terms found close together."""
        text = self.texts[doc]
        if len(text) <= SNIPPET_MAX_CHARS:
            return text
        wanted = {self.term_ids[term] for term in terms if term in self.term_ids}
        term_ids, offsets = self.body_tokens[doc]
        matches = _first_occurrences(term_ids, offsets, wanted)
        positions = [position for position, _ in matches]
        found = [term_id for _, term_id in matches]
        _, start, end = _best_window(text, positions, found)
        prefix = _ELLIPSIS if start > 0 else ""
        suffix = _ELLIPSIS if end < len(text) else ""
        return f"{prefix}{text[start:end]}{suffix}"


# Ranking, called by _LanguageIndex.rank for every query.


def _dense_totals(dense: Sequence[array], sparse: Sequence[tuple[array, array]]) -> list[float]:
    """Every document's score: the dense terms' arrays added up, then the sparse terms' postings added in.

    A term in a good share of the articles: adding whole arrays in C beats a dict update per posting, and costs no
    more than its posting list would.
    """
    totals = list(dense[0])
    for more in dense[1:]:
        totals = list(map(add, totals, more))
    for docs, contributions in sparse:
        for doc, contribution in zip(docs, contributions, strict=True):
            totals[doc] += contribution
    return totals


def _sparse_totals(sparse: Sequence[tuple[array, array]]) -> dict[int, float]:
    """doc id -> score, for the documents holding at least one of the (sparse only) terms."""
    by_doc: dict[int, float] = dict(zip(*sparse[0], strict=True))
    get = by_doc.get
    for docs, contributions in sparse[1:]:
        for doc, contribution in zip(docs, contributions, strict=True):
            by_doc[doc] = get(doc, 0.0) + contribution
    return by_doc


def _top_by_rounded_score(
    items: Iterable[tuple[int, float]], scores: Iterable[float], limit: int
) -> list[tuple[int, float]]:
    """The best `limit` (doc id, rounded score) pairs of `items`; `scores` are the same scores without the ids.

    The top `limit` by raw score, widened to every document that rounds to the same score as the last of them,
    then ordered by rounded score and slug (doc id): equal shown scores always list in slug order. Scores are
    positive, so documents without any of the terms (0.0 in the dense totals) never pass the cutoff.
    Only the limit-th best score is needed to find them: nlargest over the bare floats compares in C, where
    one keyed by document id called back into Python for every scored document.
    """
    last = nlargest(limit, scores)[-1]
    cutoff = max(round(last, 4) - 0.00005, 1e-12)
    candidates = [(-round(score, 4), doc) for doc, score in items if score >= cutoff]
    return [(doc, -negative) for negative, doc in sorted(candidates)[:limit]]


# Snippets, called by _LanguageIndex.snippet for each hit returned.


def _first_occurrences(term_ids: array, offsets: array, wanted: Iterable[int]) -> list[tuple[int, int]]:
    """The first SNIPPET_ANCHORS occurrences of each wanted term in a body, as (offset, term id) in text order.

    array.index runs in C; a Python loop over every body word does not. A term's first SNIPPET_ANCHORS
    occurrences are all a snippet can use: the anchors are the first SNIPPET_ANCHORS matches of any term, and
    a window that held a later occurrence of a term but none of its first ones would start after all of
    them, so after more matches than there are anchors.
    """
    matches: list[tuple[int, int]] = []  # (offset, term id)
    for term_id in wanted:
        at = -1
        for _ in range(SNIPPET_ANCHORS):
            try:
                at = term_ids.index(term_id, at + 1)
            except ValueError:
                break
            matches.append((offsets[at], term_id))
    matches.sort()
    return matches


def _best_window(text: str, positions: Sequence[int], found: Sequence[int]) -> tuple[int, int, int]:
    """(-distinct query terms, start, end) of the snippet window holding the most distinct query terms.

    `positions` are where the matches start in `text`, in order, and `found` their term ids. Each window starts
    shortly before one of the first SNIPPET_ANCHORS matches (or at the text's start when nothing matched); ties go
    to the earliest window.
    """
    anchors = dict.fromkeys(text.rfind(" ", 0, position) + 1 for position in positions[:SNIPPET_ANCHORS])
    best: tuple[int, int, int] | None = None  # (-distinct query terms, start, end)
    everything = len(set(found))
    for anchor in anchors or [0]:
        start = _word_start_from(text, anchor - _SNIPPET_LEAD_CHARS, anchor)
        end = _snippet_end(text, start)
        distinct = len(set(found[bisect_left(positions, start) : bisect_left(positions, end)]))
        candidate = (-distinct, start, end)
        if best is None or candidate < best:
            best = candidate
        if distinct == everything:
            break  # anchors come in text order: no later window has more terms or starts earlier
    assert best is not None  # there is always one anchor
    return best


def _word_start_from(text: str, position: int, anchor: int) -> int:
    """The first word start at or after `position` (at most `anchor`, itself a word start)."""
    if position <= 0:
        return 0
    if text[position - 1] == " ":
        return position
    space = text.find(" ", position, anchor)
    return space + 1 if space != -1 else anchor


def _snippet_end(text: str, start: int) -> int:
    """Where a snippet starting at `start` ends: after the last whole word that fits with its ellipses."""
    room = SNIPPET_MAX_CHARS - (1 if start > 0 else 0)
    if len(text) - start <= room:
        return len(text)
    room -= 1  # the closing ellipsis
    space = text.rfind(" ", start, start + room + 1)
    return space if space > start else start + room  # one word longer than a snippet (a long URL): cut it


class FaqIndex:
    """Every article, indexed per language; built once, then searched many times (read-only, thread-safe)."""

    def __init__(self, articles: Iterable[Article]) -> None:
        by_language: dict[str, list[Article]] = {language: [] for language in LANGUAGES}
        seen: set[tuple[str, str]] = set()
        for article in articles:
            language = _article_language(article.locale)
            key = (article.slug, language)
            if key in seen:
                raise ValueError(f"article {article.slug!r} appears twice in language {language!r}")
            seen.add(key)
            by_language[language].append(article)
        self._indexes = {language: _LanguageIndex(language, docs) for language, docs in by_language.items()}

    def __len__(self) -> int:
        return sum(index.count for index in self._indexes.values())

    def search(
        self,
        query: str,
        locale: str,
        limit: int = 10,
        *,
        boost: Collection[str] = frozenset(),
        exclude: Collection[str] = frozenset(),
    ) -> SearchResult:
        """The articles that answer `query`, best first, in the locale's language or in English when it has no
        good match (see GOOD_MATCH_COVERAGE): at most `limit`, and none scoring below SCORE_CUTOFF of the best.

        Without a good match in either language, the closest CLOSEST_SHOWN (the locale's language first) come
        back with `good_match` False. `boost` names the articles (slugs) that explain the customer's situation;
        `exclude` those the caller may not show, which are left out before anything is ranked.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        language = language_of(locale)
        english = self._indexes[FALLBACK_LANGUAGE]
        attempts = [
            (self._indexes[language], _correct_unless_english(english) if language != FALLBACK_LANGUAGE else _any)
        ]
        if language != FALLBACK_LANGUAGE:
            attempts.append((english, _any))
        weak: list[tuple[_LanguageIndex, list[str], list[Correction], list[tuple[int, float]]]] = []
        for index, may_correct in attempts:
            terms, corrections = index.query_terms(query, may_correct)
            boosted = index.docs_of(boost)
            ranked, good = index.rank(terms, limit, boosted=boosted, excluded=index.docs_of(exclude))
            if good:
                # The cut-off compares scores without the boost: the situation reorders the good matches, it
                # neither adds a weak one nor pushes a good one out.
                plain = {doc: score / SITUATION_BOOST if doc in boosted else score for doc, score in ranked}
                best = max(plain.values())
                kept = [(doc, score) for doc, score in ranked if plain[doc] >= SCORE_CUTOFF * best]
                # Snippets only for what is returned: they are the costly part of a hit.
                return SearchResult([index.hit(doc, score, terms) for doc, score in kept], True, tuple(corrections))
            weak.append((index, terms, corrections, ranked))
        closest = [(index, terms, doc, score) for index, terms, _, ranked in weak for doc, score in ranked]
        closest = closest[: min(CLOSEST_SHOWN, limit)]
        shown = {id(index) for index, *_ in closest}
        corrections = tuple(fix for index, _, fixes, _ in weak if id(index) in shown for fix in fixes)
        return SearchResult([index.hit(doc, score, terms) for index, terms, doc, score in closest], False, corrections)

    def keyword_index(self, locale: str, *, exclude: Collection[str] = frozenset()) -> list[IndexEntry]:
        """The A-Z index for browsing: every article of the locale's language (English for those it lacks) filed
        under each of its tags, as a book's index files pages under its words; an article without tags under its
        title. Keywords in accent- and case-folded order, articles under one by title."""
        language = language_of(locale)
        articles = {article.slug: article for article in self._indexes[language].articles}
        for article in self._indexes[FALLBACK_LANGUAGE].articles:
            articles.setdefault(article.slug, article)
        filed: dict[str, tuple[str, list[Article]]] = {}
        for slug in sorted(articles):
            if slug in exclude:
                continue
            article = articles[slug]
            for keyword in article.tags or (article.title,):
                shown = " ".join(keyword.split())
                key = fold(shown)
                if key:
                    filed.setdefault(key, (shown, []))[1].append(article)
        return [
            IndexEntry(
                keyword,
                tuple(
                    ArticleRef(article.slug, article.locale, article.title)
                    for article in sorted(dict.fromkeys(filed_articles), key=lambda a: (fold(a.title), a.slug))
                ),
            )
            for _, (keyword, filed_articles) in sorted(filed.items())
        ]

    def related_to(self, events: Collection[str]) -> frozenset[str]:
        """The slugs of the articles (in any language) that name one of these event types as related."""
        wanted = set(events)
        return frozenset(
            article.slug
            for index in self._indexes.values()
            for article in index.articles
            if wanted.intersection(article.related_events)
        )


def _any(word: str) -> bool:
    return True


def _correct_unless_english(english: _LanguageIndex) -> Callable[[str], bool]:
    """In another language, a word the English articles use is left for the English fallback, not corrected into
    a look-alike of the caller's language (an agent types "refund" in a German console)."""
    return lambda word: not english.knows(word)


def _article_language(locale: str) -> str:
    match = _LOCALE_LANGUAGE.match(locale.strip())
    language = match.group(1).lower() if match else ""
    if language not in _STEMMER_NAMES:
        raise ValueError(f"article locale {locale!r} is not one of the FAQ languages {', '.join(LANGUAGES)}")
    return language
