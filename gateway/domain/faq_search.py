"""FAQ ranking: a per-language BM25F index over articles (title, tags, body) with an English fallback.

Pure and in memory: build an `FaqIndex` once from the articles, then `search(query, locale, limit)` only touches
the postings of the query's terms, so a query costs what its terms' posting lists cost, not what the corpus costs.

Text is normalized the same way for articles and queries: Unicode NFKC, casefold, split into letter/digit runs,
drop the language's stopwords, stem with Snowball (its Indonesian rules serve Malay), then fold accents (NFKD,
combining marks dropped). Stemming comes *before* accent folding: the French rules read the accents
("annulée" -> "annul", but "annulee" -> "annule"; "résilié" -> "resili", but "resilie" -> "resil"), the German
rules come out the same either way. So that a query typed without accents still finds the accented words, the
index keeps an alias from the fold-then-stem form of every indexed word to its stem-then-fold form, and a query
term missing from the vocabulary is looked up there.
"""

from __future__ import annotations

import math
import re
import unicodedata
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from heapq import nlargest
from operator import add

import snowballstemmer

LANGUAGES = ("en", "de", "fr", "es", "ms")
FALLBACK_LANGUAGE = "en"
_STEMMER_NAMES = {"en": "english", "de": "german", "fr": "french", "es": "spanish", "ms": "indonesian"}

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

_WORD = re.compile(r"[^\W_]+")
_LOCALE_LANGUAGE = re.compile(r"^([A-Za-z]{2,3})(?:[-_].*)?$")


@dataclass(frozen=True, slots=True)
class Article:
    slug: str
    locale: str
    title: str
    tags: tuple[str, ...]
    body: str  # Markdown


@dataclass(frozen=True, slots=True)
class SearchHit:
    slug: str
    locale: str
    title: str
    snippet: str  # plain text, whole words, at most SNIPPET_MAX_CHARS
    score: float  # BM25F, rounded to 4 places; comparable only within one language's results


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
    return snowballstemmer.stemmer(_STEMMER_NAMES[language])


@lru_cache(maxsize=200_000)
def _terms_of_word(language: str, word: str) -> tuple[str, ...]:
    """The index terms of one raw word: usually one, none for a stopword (cached: queries repeat words)."""
    lowered = unicodedata.normalize("NFKC", word).casefold()
    terms = []
    for part in _WORD.findall(lowered):  # NFKC can split a word (a vulgar fraction)
        if fold(part) in STOPWORDS[language]:
            continue
        terms.append(fold(_stemmer(language).stemWord(part)))
    return tuple(terms)


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


class _LanguageIndex:
    """The BM25F postings of one language's articles; document ids follow slug order, so ties sort by slug."""

    def __init__(self, language: str, articles: Sequence[Article]) -> None:
        self.language = language
        self.articles = sorted(articles, key=lambda article: (article.slug, article.locale))
        self.texts = [markdown_to_text(article.body) for article in self.articles]
        fields = {
            "title": [analyze(article.title, language) for article in self.articles],
            "tags": [[t for tag in article.tags for t in analyze(tag, language)] for article in self.articles],
            "body": [],
        }
        # The body's terms with where each starts in the plain text: snippets find the query's words without re-reading.
        body_offsets: list[list[int]] = []
        for text in self.texts:
            terms, offsets = [], []
            for match in _WORD.finditer(text):
                for term in _terms_of_word(language, match.group()):
                    terms.append(term)
                    offsets.append(match.start())
            fields["body"].append(terms)
            body_offsets.append(offsets)
        count = len(self.articles)
        self.count = count
        averages = {name: (sum(map(len, docs)) / count if count else 0.0) or 1.0 for name, docs in fields.items()}

        # term -> doc id -> length-normalized, weighted term frequency summed over the fields
        pseudo_tf: dict[str, dict[int, float]] = {}
        for name, docs in fields.items():
            weight, average = FIELD_WEIGHTS[name], averages[name]
            for doc, terms in enumerate(docs):
                norm = weight / (1.0 - B + B * len(terms) / average)
                for term, tf in Counter(terms).items():
                    per_doc = pseudo_tf.setdefault(term, {})
                    per_doc[doc] = per_doc.get(doc, 0.0) + tf * norm

        # The whole per-document contribution of a term is known now: idf * saturated tf. A query adds them up.
        self.idf: dict[str, float] = {}
        self.postings: dict[str, tuple[array, array]] = {}
        self.dense: dict[str, array] = {}  # the same contributions for every document, for terms in many of them
        for term, per_doc in pseudo_tf.items():
            idf = self._idf(len(per_doc))
            self.idf[term] = idf
            docs = sorted(per_doc)
            contributions = [idf * per_doc[d] * (K1 + 1.0) / (K1 + per_doc[d]) for d in docs]
            self.postings[term] = (array("i", docs), array("d", contributions))
            if len(docs) * DENSE_FRACTION >= count:
                dense = array("d", bytes(8 * count))
                for doc, contribution in zip(docs, contributions, strict=True):
                    dense[doc] = contribution
                self.dense[term] = dense
        self.unseen_idf = self._idf(0)

        # Queries typed without accents: fold-then-stem form -> the indexed stem-then-fold term, most frequent first.
        alias_votes: dict[str, Counter[str]] = {}
        for article, text in zip(self.articles, self.texts, strict=True):
            for word in _WORD.findall(unicodedata.normalize("NFC", f"{article.title} {' '.join(article.tags)} {text}")):
                terms = _terms_of_word(language, word)
                if len(terms) == 1:
                    variant = _folded_first_stem(language, word)
                    if variant != terms[0]:
                        alias_votes.setdefault(variant, Counter())[terms[0]] += 1
        self.aliases = {
            variant: min(votes.items(), key=lambda item: (-item[1], item[0]))[0]
            for variant, votes in alias_votes.items()
            if variant not in self.postings
        }

        # Body tokens as compact arrays (term id, offset), about 8 bytes a word.
        self.term_ids = {term: number for number, term in enumerate(self.postings)}
        self.body_tokens = [
            (array("i", [self.term_ids[term] for term in terms]), array("i", offsets))
            for terms, offsets in zip(fields["body"], body_offsets, strict=True)
        ]

    def _idf(self, document_frequency: int) -> float:
        return math.log(1.0 + (self.count - document_frequency + 0.5) / (document_frequency + 0.5))

    def query_terms(self, query: str) -> list[str]:
        """The query's distinct terms, each resolved to an indexed term where an alias or participle rule knows one."""
        seen: dict[str, None] = {}
        for word in _WORD.findall(unicodedata.normalize("NFC", query)):
            for term in _terms_of_word(self.language, word):
                seen.setdefault(self._resolve(term, word), None)
        return list(seen)

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

    def rank(self, terms: Sequence[str], limit: int) -> tuple[list[tuple[int, float]], bool]:
        """The best `limit` (doc id, score) pairs, and whether the best one is a good match."""
        present = [term for term in terms if term in self.postings]
        if not present:
            return [], False
        dense = [self.dense[term] for term in present if term in self.dense]
        sparse = [self.postings[term] for term in present if term not in self.dense]
        if dense:
            # A term in a good share of the articles: adding whole arrays in C beats a dict update per posting, and
            # costs no more than its posting list would.
            totals = list(dense[0])
            for more in dense[1:]:
                totals = list(map(add, totals, more))
            for docs, contributions in sparse:
                for doc, contribution in zip(docs, contributions, strict=True):
                    totals[doc] += contribution
            last = nlargest(limit, totals)[-1]
            items: Iterable[tuple[int, float]] = enumerate(totals)
        else:
            by_doc: dict[int, float] = dict(zip(*sparse[0], strict=True))
            get = by_doc.get
            for docs, contributions in sparse[1:]:
                for doc, contribution in zip(docs, contributions, strict=True):
                    by_doc[doc] = get(doc, 0.0) + contribution
            last = nlargest(limit, by_doc.values())[-1]
            items = by_doc.items()
        # The top `limit` by raw score, widened to every document that rounds to the same score as the last of them,
        # then ordered by rounded score and slug (doc id): equal shown scores always list in slug order. Scores are
        # positive, so documents without any of the terms (0.0 in the dense totals) never pass the cutoff.
        # Only the limit-th best score is needed to find them: nlargest over the bare floats compares in C, where
        # one keyed by document id called back into Python for every scored document.
        cutoff = max(round(last, 4) - 0.00005, 1e-12)
        candidates = [(-round(score, 4), doc) for doc, score in items if score >= cutoff]
        ranked = [(doc, -negative) for negative, doc in sorted(candidates)[:limit]]
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
        matches: list[tuple[int, int]] = []  # (offset, term id)
        # array.index runs in C; a Python loop over every body word does not. A term's first SNIPPET_ANCHORS
        # occurrences are all a snippet can use: the anchors are the first SNIPPET_ANCHORS matches of any term, and
        # a window that held a later occurrence of a term but none of its first ones would start after all of
        # them, so after more matches than there are anchors.
        for term_id in wanted:
            at = -1
            for _ in range(SNIPPET_ANCHORS):
                try:
                    at = term_ids.index(term_id, at + 1)
                except ValueError:
                    break
                matches.append((offsets[at], term_id))
        matches.sort()
        positions = [position for position, _ in matches]
        found = [term_id for _, term_id in matches]
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
        _, start, end = best
        prefix = _ELLIPSIS if start > 0 else ""
        suffix = _ELLIPSIS if end < len(text) else ""
        return f"{prefix}{text[start:end]}{suffix}"


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

    def search(self, query: str, locale: str, limit: int = 10) -> list[SearchHit]:
        """The best `limit` articles for `query` in the locale's language, or in English when it has no good match.

        When the requested language has no good match (see GOOD_MATCH_COVERAGE), English is searched too; if
        English has one, its hits come first and the requested language's weaker hits fill the rest.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        language = language_of(locale)
        local = self._indexes[language]
        local_terms = local.query_terms(query)
        ranked, good = local.rank(local_terms, limit)
        if good or language == FALLBACK_LANGUAGE:
            return [local.hit(doc, score, local_terms) for doc, score in ranked]
        english = self._indexes[FALLBACK_LANGUAGE]
        english_terms = english.query_terms(query)
        english_ranked, english_good = english.rank(english_terms, limit)
        local_part = [(local, local_terms, doc, score) for doc, score in ranked]
        english_part = [(english, english_terms, doc, score) for doc, score in english_ranked]
        merged = english_part + local_part if english_good else local_part + english_part
        # Snippets only for what is returned: they are the costly part of a hit.
        return [index.hit(doc, score, terms) for index, terms, doc, score in merged[:limit]]


def _article_language(locale: str) -> str:
    match = _LOCALE_LANGUAGE.match(locale.strip())
    language = match.group(1).lower() if match else ""
    if language not in _STEMMER_NAMES:
        raise ValueError(f"article locale {locale!r} is not one of the FAQ languages {', '.join(LANGUAGES)}")
    return language
