"""FAQ use cases: load the article files into the store, let operators edit them, find and search them for agents.

The files in gateway/faq/articles/<locale>/<slug>.md are the reviewed source; the store is what the API serves.
`load_articles` writes only what changed (by content hash) and leaves an article an operator edited through the
admin API as the operator left it, unless told to overwrite edits. The search index is built from the store, once
per process, and rebuilt when the store's FAQ revision (row count, version sum, latest update) moves.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gateway.domain.errors import Conflict, InvalidInput, NotFound, StaleVersion
from gateway.domain.events import EVENT_TYPE_NAMES, EventType
from gateway.domain.faq_articles import ArticleContent, article_errors, parse_article_text
from gateway.domain.faq_search import FALLBACK_LANGUAGE, Article, FaqIndex, language_of
from gateway.domain.situation import faq_slugs
from gateway.services.lookup import situation_of
from gateway.services.subscriptions import get_subscription
from gateway.store.db import Store
from gateway.store.models import FaqArticle

ARTICLES_FOLDER = Path(__file__).resolve().parent.parent / "faq" / "articles"

SOURCE_FILE = "file"  # loaded from the article files
SOURCE_ADMIN = "admin"  # written by an operator through the admin API; a load keeps it unless told otherwise


@dataclass(frozen=True)
class ArticleFile:
    """One article file, read and checked."""

    slug: str
    locale: str
    content: ArticleContent
    updated: datetime | None  # the front matter's `updated` date, at midnight UTC
    path: Path


class ArticleFileError(ValueError):
    """An article file that cannot be loaded; the message names the file and what is wrong."""


def check_article(slug: str, locale: str, content: ArticleContent) -> dict[str, str]:
    """Field errors of an article: its key and text, and related events the event catalog knows."""
    errors = article_errors(slug, locale, content)
    for index, event in enumerate(content.related_events):
        if event not in EVENT_TYPE_NAMES:
            errors[f"related_events.{index}"] = f"{event!r} is not an event type of the catalog."
    return errors


# --- article files -----------------------------------------------------------------------------------------


def read_article_file(path: Path) -> ArticleFile:
    """The article in `<locale>/<slug>.md`, checked like an operator's edit."""
    slug, locale = path.stem, path.parent.name
    try:
        text = parse_article_text(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ArticleFileError(f"{path}: {error}") from None
    errors = check_article(slug, locale, text.content)
    if errors:
        raise ArticleFileError(f"{path}: " + "; ".join(f"{name}: {message}" for name, message in errors.items()))
    return ArticleFile(slug=slug, locale=locale, content=text.content, updated=text.updated, path=path)


def read_article_folder(folder: Path = ARTICLES_FOLDER) -> list[ArticleFile]:
    """Every `<locale>/<slug>.md` under `folder`, sorted by locale then slug; the first bad file stops the read."""
    if not folder.is_dir():
        raise ArticleFileError(f"{folder}: not a folder")
    articles = [read_article_file(path) for path in sorted(folder.glob("*/*.md"))]
    if not articles:
        raise ArticleFileError(f"{folder}: no articles (expected <locale>/<slug>.md files)")
    return articles


# --- loading ----------------------------------------------------------------------------------------------


@dataclass
class LoadReport:
    """What a load did; keys are '<locale>/<slug>'."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_edits: list[str] = field(default_factory=list)  # edited by an operator, differ from the file, left alone
    overwritten_edits: list[str] = field(default_factory=list)  # operators' edits replaced by the file
    not_in_folder: list[str] = field(default_factory=list)  # in the store, no file: left in the store

    def summary(self) -> str:
        """One line of counts, as `gateway faq load` and `gateway demo` print it."""
        line = f"FAQ articles: {self.added} added, {self.updated} updated, {self.unchanged} unchanged"
        if self.kept_edits:
            line += f", {len(self.kept_edits)} kept as operators edited them"
        if self.overwritten_edits:
            line += f", {len(self.overwritten_edits)} operator edits overwritten"
        return line


def load_folder(store: Store, folder: Path, *, now: datetime, overwrite_edits: bool = False) -> LoadReport:
    """Read every article file under `folder`, then load them all in one transaction (a bad file loads none).

    Several loads at once (every instance of a deployment running it at start) are safe: on PostgreSQL the one
    that inserts an article another has just committed fails on the primary key, and is run again once, when
    it finds the rows there.
    """
    files = read_article_folder(folder)
    try:
        with store.transaction() as session:
            return load_articles(session, files, now=now, overwrite_edits=overwrite_edits)
    except IntegrityError:
        with store.transaction() as session:
            return load_articles(session, files, now=now, overwrite_edits=overwrite_edits)


def load_articles(
    session: Session, files: Sequence[ArticleFile], *, now: datetime, overwrite_edits: bool = False
) -> LoadReport:
    """Bring the store in line with the files: add new articles, rewrite those whose content changed, skip equals.

    An article an operator edited (source `admin`) whose text differs from its file is kept as the operator
    left it and listed in `kept_edits`; with `overwrite_edits` the file wins. When the file has caught up with
    the edit (same content), the article counts as the file's again, so its next file change loads. Nothing
    is deleted: articles without a file are listed in `not_in_folder`.
    """
    report = LoadReport()
    stored = {(row.locale, row.slug): row for row in session.scalars(select(FaqArticle))}
    for file in files:
        key = (file.locale, file.slug)
        row = stored.pop(key, None)
        digest = file.content.content_hash()
        name = f"{file.locale}/{file.slug}"
        if row is None:
            session.add(_new_row(file.slug, file.locale, file.content, SOURCE_FILE, file.updated or now))
            report.added += 1
        elif row.content_hash == digest:
            row.source = SOURCE_FILE
            report.unchanged += 1
        elif row.source == SOURCE_ADMIN and not overwrite_edits:
            report.kept_edits.append(name)
        else:
            if row.source == SOURCE_ADMIN:
                report.overwritten_edits.append(name)
            else:
                report.updated += 1
            _write(row, file.content, SOURCE_FILE, file.updated or now)
    report.not_in_folder = sorted(f"{locale}/{slug}" for locale, slug in stored)
    return report


def _new_row(slug: str, locale: str, content: ArticleContent, source: str, updated_at: datetime) -> FaqArticle:
    row = FaqArticle(slug=slug, locale=locale, version=0)
    _write(row, content, source, updated_at)
    return row


def _write(row: FaqArticle, content: ArticleContent, source: str, updated_at: datetime) -> None:
    row.title = content.title
    row.body = content.body
    row.tags = list(content.tags)
    row.related_events = list(content.related_events)
    row.content_hash = content.content_hash()
    row.source = source
    row.version += 1
    row.updated_at = updated_at


# --- operators --------------------------------------------------------------------------------------------


def list_articles(
    session: Session,
    *,
    limit: int,
    after: tuple[str, str] | None = None,
    locale: str | None = None,
    source: str | None = None,
) -> list[FaqArticle]:
    """Articles ordered by slug then locale, starting after the cursor's (slug, locale)."""
    query = select(FaqArticle).order_by(FaqArticle.slug, FaqArticle.locale)
    if after is not None:
        query = query.where(tuple_(FaqArticle.slug, FaqArticle.locale) > tuple_(*after))
    if locale is not None:
        query = query.where(FaqArticle.locale == locale)
    if source is not None:
        query = query.where(FaqArticle.source == source)
    return list(session.scalars(query.limit(limit)))


def get_article(session: Session, slug: str, locale: str) -> FaqArticle:
    row = session.get(FaqArticle, (slug, locale))
    if row is None:
        raise NotFound("FAQ article", f"{locale}/{slug}")
    return row


def _checked(slug: str, locale: str, content: ArticleContent, *, location: str | None = None) -> None:
    errors = check_article(slug, locale, content)
    key_errors = {name: message for name, message in errors.items() if name in ("slug", "locale")}
    if key_errors and location is not None:
        raise InvalidInput(key_errors, location)  # the key came in the path: say so
    if errors:
        raise InvalidInput(errors)


def create_article(session: Session, slug: str, locale: str, content: ArticleContent, *, now: datetime) -> FaqArticle:
    """A new article written by an operator; one that exists already is a conflict (replace it with PUT)."""
    _checked(slug, locale, content)
    if session.get(FaqArticle, (slug, locale)) is not None:
        raise Conflict(f"FAQ article {locale}/{slug} exists; replace it with PUT and If-Match.")
    row = _new_row(slug, locale, content, SOURCE_ADMIN, now)
    session.add(row)
    return row


def put_article(
    session: Session,
    slug: str,
    locale: str,
    content: ArticleContent,
    *,
    expected_version: int | None,
    now: datetime,
) -> FaqArticle:
    """Create or replace an article as an operator. With `expected_version` (If-Match) the article must exist at
    that version. The same content again changes nothing (no new version); other content marks it an edit."""
    _checked(slug, locale, content, location="path")
    row = session.get(FaqArticle, (slug, locale))
    if row is None:
        if expected_version is not None:
            raise StaleVersion(f"FAQ article {locale}/{slug} does not exist, so no version of it can match.")
        row = _new_row(slug, locale, content, SOURCE_ADMIN, now)
        session.add(row)
        return row
    _check_version(row, expected_version)
    if row.content_hash != content.content_hash():
        _write(row, content, SOURCE_ADMIN, now)
    return row


def delete_article(session: Session, slug: str, locale: str, *, expected_version: int | None) -> None:
    """Remove an article. One that still has a file comes back at the next load: delete the file too."""
    row = get_article(session, slug, locale)
    _check_version(row, expected_version)
    session.delete(row)


def _check_version(row: FaqArticle, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != row.version:
        raise StaleVersion(f"FAQ article {row.locale}/{row.slug} is at version {row.version}, not {expected_version}.")


# --- agents -----------------------------------------------------------------------------------------------


def find_article_for_locale(session: Session, slug: str, locale: str) -> FaqArticle:
    """The article in the language of `locale` ('de-AT' -> 'de'), else in English; NotFound when neither exists."""
    language = language_of(locale)
    wanted = [language] if language == FALLBACK_LANGUAGE else [language, FALLBACK_LANGUAGE]
    rows = {
        row.locale: row
        for row in session.scalars(select(FaqArticle).where(FaqArticle.slug == slug, FaqArticle.locale.in_(wanted)))
    }
    for candidate in wanted:
        if candidate in rows:
            return rows[candidate]
    raise NotFound("FAQ article", slug)


Revision = tuple[int, int, str]


def store_revision(session: Session) -> Revision:
    """A cheap fingerprint of the store's FAQ content: any add, edit or delete changes it.

    Every change bumps a version or the row count; a delete followed by a re-create at version 1 moves the
    latest update time.
    """
    count, versions, latest = session.execute(
        select(func.count(), func.coalesce(func.sum(FaqArticle.version), 0), func.max(FaqArticle.updated_at))
    ).one()
    return int(count), int(versions), latest.isoformat() if latest is not None else ""


@dataclass(frozen=True)
class IndexSnapshot:
    revision: Revision
    index: FaqIndex


class SearchIndexCache:
    """One process's search index over the store's articles, rebuilt when the store's FAQ revision changes.

    Each search costs one aggregate query (the revision); the articles are read and indexed again only after
    a change, by one thread while the others wait for it. A snapshot is never changed once built, so searches
    read it without a lock.
    """

    def __init__(self) -> None:
        self._snapshot: IndexSnapshot | None = None
        self._rebuild = threading.Lock()

    def current(self, session: Session) -> IndexSnapshot:
        revision = store_revision(session)
        snapshot = self._snapshot
        if snapshot is not None and snapshot.revision == revision:
            return snapshot
        with self._rebuild:
            snapshot = self._snapshot
            if snapshot is None or snapshot.revision != revision:
                snapshot = self._snapshot = IndexSnapshot(revision, build_index(session))
        return snapshot


def build_index(session: Session) -> FaqIndex:
    """The search index over every article in the store."""
    rows = session.execute(
        select(
            FaqArticle.slug,
            FaqArticle.locale,
            FaqArticle.title,
            FaqArticle.tags,
            FaqArticle.body,
            FaqArticle.related_events,
        )
    )
    return FaqIndex(
        Article(slug, locale, title, tuple(tags), body, tuple(events))
        for slug, locale, title, tags, body, events in rows
    )


@dataclass(frozen=True)
class CustomerContext:
    """A search started from a customer's lookup: who they are, and the articles their situation makes likely."""

    subscription_id: str
    partner_ref: str
    status: str
    articles: tuple[str, ...]  # slugs, the situation's own first: ranked higher when they match the question


def customer_context(
    session: Session, index: FaqIndex, *, partner_code: str, subscription_id: str, now: datetime
) -> CustomerContext:
    """One of the partner's subscribers (another partner's is NotFound) and the articles that bear on their situation.

    Those are the articles the lookup lists for the situation (gateway.domain.situation.faq_slugs), and those whose
    related events name the latest notice sent about the subscriber: a household verification, a retention
    warning, a plan change are often why the customer calls. Escalation updates do not count: they are about the
    case, not the customer's membership.
    """
    subscription = get_subscription(session, subscription_id, partner_code=partner_code)
    found = situation_of(session, subscription, locale=None, now=now)
    about_the_membership = [
        notice.event_type for notice in found.notices if notice.event_type not in (None, EventType.ESCALATION_UPDATED)
    ]
    latest = about_the_membership[0] if about_the_membership else None  # notices come newest first
    related = index.related_to({latest}) if latest is not None else frozenset()
    return CustomerContext(
        subscription_id=subscription.id,
        partner_ref=subscription.partner_ref,
        status=subscription.status,
        articles=tuple(dict.fromkeys([*faq_slugs(found.facts), *sorted(related)])),
    )
