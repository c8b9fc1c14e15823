"""FAQ article rules: what an article's key and content must look like, and how an article file is written."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from gateway.domain.faq_search import LANGUAGES
from gateway.domain.partners import normalize_locale

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX_LENGTH = 100
TITLE_MAX_LENGTH = 300  # the column's size
NOT_A_SLUG = "Lower-case letters and digits in words joined by single hyphens, e.g. 'extra-member'."
NOT_AN_ARTICLE_LOCALE = (
    f"Articles are written per language: one of {', '.join(LANGUAGES)} (a caller's 'de-AT' is served from 'de')."
)
FRONT_MATTER_KEYS = ("title", "tags", "related_events", "updated")


@dataclass(frozen=True)
class ArticleContent:
    """What an article says: the part a load compares and an operator replaces."""

    title: str
    body: str  # Markdown
    tags: tuple[str, ...] = ()
    related_events: tuple[str, ...] = ()

    @classmethod
    def of(cls, title: str, body: str, tags: Iterable[str] = (), related_events: Iterable[str] = ()) -> ArticleContent:
        """Trimmed text, Unix newlines, tags and events without blanks or repeats (in their first order): the same
        article typed twice hashes the same."""
        return cls(
            title=" ".join(title.split()),
            body=body.replace("\r\n", "\n").strip(),
            tags=tuple(dict.fromkeys(tag.strip() for tag in tags if tag.strip())),
            related_events=tuple(dict.fromkeys(event.strip() for event in related_events if event.strip())),
        )

    def content_hash(self) -> str:
        canonical = json.dumps(
            [self.title, self.body, list(self.tags), list(self.related_events)],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


def article_locale(tag: str) -> str | None:
    """The locale an article is stored under ('DE' -> 'de'), or None when articles cannot be written in it.

    The search index is per language, so articles are too: a regional tag is a caller's, not an article's.
    """
    normalized = normalize_locale(tag)
    return normalized if normalized in LANGUAGES else None


def article_errors(slug: str, locale: str, content: ArticleContent) -> dict[str, str]:
    """Field errors of an article's key and text."""
    errors = {}
    if len(slug) > SLUG_MAX_LENGTH or not SLUG.match(slug):
        errors["slug"] = NOT_A_SLUG
    if article_locale(locale) != locale:
        errors["locale"] = NOT_AN_ARTICLE_LOCALE
    if not content.title:
        errors["title"] = "A title is required."
    elif len(content.title) > TITLE_MAX_LENGTH:
        errors["title"] = f"At most {TITLE_MAX_LENGTH} characters."
    if not content.body:
        errors["body"] = "A body is required."
    return errors


@dataclass(frozen=True)
class ArticleText:
    """An article file's text, read: its content and the front matter's `updated` date (midnight UTC)."""

    content: ArticleContent
    updated: datetime | None


def parse_article_text(text: str) -> ArticleText:
    """`---`, `key: value` lines (title, tags, related_events, updated), `---`, then the Markdown body.

    Tags and related events are comma-separated; `updated` is an ISO date. Raises ValueError saying which line.
    """
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").split("\n")
    if lines[0].strip() != "---":
        raise ValueError("line 1: the file must start with a '---' front matter line")
    end = next((number for number in range(1, len(lines)) if lines[number].strip() == "---"), None)
    if end is None:
        raise ValueError("the front matter has no closing '---' line")
    values: dict[str, str] = {}
    for number in range(1, end):
        key, separator, value = lines[number].partition(":")
        key = key.strip()
        if not key and not separator:
            continue  # a blank line
        if not separator or key not in FRONT_MATTER_KEYS:
            raise ValueError(
                f"line {number + 1}: expected 'key: value' with a key among {', '.join(FRONT_MATTER_KEYS)}"
            )
        if key in values:
            raise ValueError(f"line {number + 1}: {key!r} is given twice")
        values[key] = value.strip()
    updated = None
    if values.get("updated"):
        try:
            updated = datetime.combine(date.fromisoformat(values["updated"]), time(), UTC)
        except ValueError:
            raise ValueError("'updated' must be a date such as 2026-11-22") from None
    content = ArticleContent.of(
        values.get("title", ""),
        "\n".join(lines[end + 1 :]),
        values.get("tags", "").split(","),
        values.get("related_events", "").split(","),
    )
    return ArticleText(content, updated)
