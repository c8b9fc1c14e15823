"""Typo tolerance for FAQ queries: the word of one language's articles nearest to a word the articles do not use.

Agents type while they talk: "cancle", "subscriptoin", "Kündigng". A query word whose term is not in the index is
compared with every word the language's articles use (accent- and case-folded, as the index folds them) by
optimal string alignment distance (RapidFuzz, in C++): a missing, extra or wrong letter costs 1, and so does two
neighbours swapped, the commonest slip of fast typing. Short words allow fewer edits: at one edit most three-letter
words are a different real word. Only vocabulary words of a length within reach are compared, so a lookup costs
what the words of about that length cost.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass

from rapidfuzz import process
from rapidfuzz.distance import OSA

# Edits allowed by word length (folded letters): none up to 3, one for 4-5, two from 6. Below four letters a slip
# is as likely to be another word as a typo; from six, a word with two slips is still closer to itself than to
# any other word the articles use (the judged typo queries in tests/support/faq_judgements.py say how well).
MIN_LENGTH = 4
TWO_EDITS_FROM = 6

# Lookups remembered per vocabulary: agents repeat the same slips, and an index lives until the articles change.
CACHE_SIZE = 20_000


def max_edits(length: int) -> int:
    """How many edits a word of this many letters may be away from the word it was meant to be."""
    if length < MIN_LENGTH:
        return 0
    return 1 if length < TWO_EDITS_FROM else 2


@dataclass(frozen=True, slots=True)
class VocabularyWord:
    term: str | None  # the index term the word stands for; None for a stopword (a typo of one is dropped)
    shown: str  # the word as the articles most often write it, to tell the agent what was searched
    count: int  # how often the articles use it: the tie-break between two words at the same distance


@dataclass(frozen=True, slots=True)
class Suggestion:
    word: str  # the folded vocabulary word
    entry: VocabularyWord
    edits: int


class Vocabulary:
    """The folded words of one language's articles (stopwords included), searchable by edit distance."""

    def __init__(self, words: Mapping[str, VocabularyWord]) -> None:
        self._entries = dict(words)
        # Ordered by length, so the words within reach of a length are one contiguous slice.
        self._words = sorted(self._entries, key=lambda word: (len(word), word))
        self._lengths = [len(word) for word in self._words]
        # Shared by the threads searching one index: a dict's get and set are each atomic, and two threads that
        # look up the same word at once store the same answer.
        self._cache: dict[str, Suggestion | None] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, word: str) -> bool:
        return word in self._entries

    def nearest(self, folded: str) -> Suggestion | None:
        """The vocabulary word nearest to `folded` within its allowed edits: fewest edits, then the more used,
        then alphabetically first; None when there is none, or the word is too short or holds a digit."""
        if folded in self._cache:
            return self._cache[folded]
        found = self._lookup(folded)
        if len(self._cache) < CACHE_SIZE:
            self._cache[folded] = found
        return found

    def _lookup(self, folded: str) -> Suggestion | None:
        edits = max_edits(len(folded))
        if edits == 0 or not folded.isalpha():
            return None
        if folded in self._entries:  # asked for a word it knows: no correction needed, none made
            return None
        start = bisect_left(self._lengths, len(folded) - edits)
        end = bisect_right(self._lengths, len(folded) + edits)
        matches = process.extract(
            folded, self._words[start:end], scorer=OSA.distance, score_cutoff=edits, limit=None, processor=None
        )
        if not matches:
            return None
        distance, _, word = min((distance, -self._entries[word].count, word) for word, distance, _ in matches)
        return Suggestion(word, self._entries[word], int(distance))
