"""Loading FAQ article files into a real store (SQLite and PostgreSQL), operators' edits, and the search index's
refresh from the store."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from gateway.domain.errors import Conflict, InvalidInput, StaleVersion
from gateway.domain.faq_articles import ArticleContent
from gateway.domain.faq_search import LANGUAGES
from gateway.services import faq as faq_service
from gateway.store import migrate
from gateway.store.db import Store, make_engine
from gateway.store.models import FaqArticle

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FOLDER = faq_service.ARTICLES_FOLDER
REQUIRED_SLUGS = {
    "inactive-membership-cancellation",
    "keep-membership-confirmation",
    "rejoin-restore-profile",
    "data-retention-deletion",
    "cancel-partner-billed",
    "access-until-billing-period-end",
    "paid-sharing-household",
    "extra-member",
    "suspended-non-payment",
    "plan-change-timing",
    "activate-bundle",
    "double-billing-existing-account",
    "cancellation-confirmation-email",
    "contact-support-escalation",
}


def write_article(folder: Path, locale: str, slug: str, title: str, body: str, **front: str) -> Path:
    path = folder / locale / f"{slug}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["---", f"title: {title}", *(f"{key}: {value}" for key, value in front.items()), "---", "", body]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def rows(store) -> dict[tuple[str, str], FaqArticle]:
    with store.read() as session:
        return {(row.locale, row.slug): row for row in session.scalars(select(FaqArticle))}


def test_the_shipped_articles_cover_every_required_slug_in_every_language():
    files = faq_service.read_article_folder()
    assert {(file.locale, file.slug) for file in files} == {
        (lang, slug) for lang in LANGUAGES for slug in REQUIRED_SLUGS
    }
    assert all(file.content.tags and file.updated for file in files)
    # Every article explains some event's situation (how to escalate: escalation.updated).
    assert all(file.content.related_events for file in files)


def test_loading_the_shipped_articles_twice_writes_them_once(store):
    files = faq_service.read_article_folder()
    with store.transaction() as session:
        first = faq_service.load_articles(session, files, now=NOW)
    before = rows(store)
    with store.transaction() as session:
        again = faq_service.load_articles(session, files, now=NOW + timedelta(hours=1))

    assert (first.added, first.updated, first.unchanged) == (70, 0, 0)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 70)
    after = rows(store)
    assert {key: (row.version, row.updated_at, row.content_hash) for key, row in after.items()} == {
        key: (row.version, row.updated_at, row.content_hash) for key, row in before.items()
    }
    extra = after[("de", "extra-member")]
    assert extra.source == "file" and extra.version == 1
    assert extra.updated_at == datetime(2026, 11, 22, tzinfo=UTC)  # the front matter's date
    assert "sharing.extra_member_added" in extra.related_events


def test_operators_page_through_articles_by_slug_then_locale(store):
    faq_service.load_folder(store, faq_service.ARTICLES_FOLDER, now=NOW)
    with store.transaction() as session:
        faq_service.put_article(
            session, "extra-member", "fr", ArticleContent.of("Titre", "Texte."), expected_version=None, now=NOW
        )
    seen, after = [], None
    while True:
        with store.read() as session:
            found = faq_service.list_articles(session, limit=8, after=after)
        if not found:
            break
        seen += [(row.slug, row.locale) for row in found]
        after = seen[-1]
    assert len(seen) == 70 and seen == sorted(seen)
    with store.read() as session:
        edited = faq_service.list_articles(session, limit=100, source="admin")
        malay = faq_service.list_articles(session, limit=100, locale="ms", after=("extra-member", "ms"))
    assert [(row.slug, row.locale) for row in edited] == [("extra-member", "fr")]
    assert {row.locale for row in malay} == {"ms"} and all(row.slug > "extra-member" for row in malay)


def test_a_changed_file_is_rewritten_with_a_new_version(store, tmp_path):
    write_article(tmp_path, "en", "plan-change", "When does a plan change apply?", "At once.", tags="plan")
    write_article(tmp_path, "de", "plan-change", "Wann gilt ein Tarifwechsel?", "Sofort.", tags="Tarif")
    faq_service.load_folder(store, tmp_path, now=NOW)
    write_article(tmp_path, "en", "plan-change", "When does a plan change apply?", "Upgrades at once.", tags="plan")

    report = faq_service.load_folder(store, tmp_path, now=NOW + timedelta(days=1))

    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    changed = rows(store)[("en", "plan-change")]
    assert (changed.body, changed.version, changed.updated_at) == ("Upgrades at once.", 2, NOW + timedelta(days=1))


def test_an_operators_edit_survives_a_load_unless_edits_are_overwritten(store, tmp_path):
    write_article(tmp_path, "en", "extra-member", "Extra members", "From the file.")
    faq_service.load_folder(store, tmp_path, now=NOW)
    with store.transaction() as session:
        faq_service.put_article(
            session, "extra-member", "en", ArticleContent.of("Extra members", "From an operator."),
            expected_version=1, now=NOW,
        )  # fmt: skip

    kept = faq_service.load_folder(store, tmp_path, now=NOW)
    edited = rows(store)[("en", "extra-member")]
    assert kept.kept_edits == ["en/extra-member"] and (kept.updated, kept.unchanged) == (0, 0)
    assert (edited.body, edited.source, edited.version) == ("From an operator.", "admin", 2)
    assert "1 kept as operators edited them" in kept.summary()

    overwritten = faq_service.load_folder(store, tmp_path, now=NOW, overwrite_edits=True)
    restored = rows(store)[("en", "extra-member")]
    assert overwritten.overwritten_edits == ["en/extra-member"]
    assert (restored.body, restored.source, restored.version) == ("From the file.", "file", 3)


def test_a_file_that_caught_up_with_an_edit_makes_the_article_the_files_again(store, tmp_path):
    write_article(tmp_path, "en", "extra-member", "Extra members", "Old text.")
    faq_service.load_folder(store, tmp_path, now=NOW)
    with store.transaction() as session:
        faq_service.put_article(
            session,
            "extra-member",
            "en",
            ArticleContent.of("Extra members", "New text."),
            expected_version=None,
            now=NOW,
        )
    write_article(tmp_path, "en", "extra-member", "Extra members", "New text.")

    report = faq_service.load_folder(store, tmp_path, now=NOW)
    assert report.unchanged == 1 and not report.kept_edits
    assert rows(store)[("en", "extra-member")].source == "file"

    write_article(tmp_path, "en", "extra-member", "Extra members", "Newer text.")
    assert faq_service.load_folder(store, tmp_path, now=NOW).updated == 1  # the file's change loads again


def test_a_load_deletes_nothing_and_lists_articles_without_a_file(store, tmp_path):
    write_article(tmp_path, "en", "kept", "Kept", "Body.")
    faq_service.load_folder(store, tmp_path, now=NOW)
    with store.transaction() as session:
        faq_service.create_article(session, "operator-only", "fr", ArticleContent.of("Titre", "Texte."), now=NOW)

    report = faq_service.load_folder(store, tmp_path, now=NOW)
    assert report.not_in_folder == ["fr/operator-only"]
    assert ("fr", "operator-only") in rows(store)


@pytest.mark.parametrize(
    ("locale", "slug", "text", "message"),
    [
        ("en", "ok", "title: No opening line\n---\nBody", "must start with a '---'"),
        ("en", "ok", "---\ntitle: Never closed\nBody", "no closing '---'"),
        ("en", "ok", "---\ntitel: Typo\n---\nBody", "line 2: expected 'key: value'"),
        ("en", "ok", "---\ntitle: A\ntitle: B\n---\nBody", "'title' is given twice"),
        ("en", "ok", "---\ntitle: A\nupdated: yesterday\n---\nBody", "'updated' must be a date"),
        ("en", "ok", "---\ntitle: A\n---\n\n", "body: A body is required."),
        ("en", "ok", "---\ntitle: A\nrelated_events: subscription.exploded\n---\nBody", "related_events.0"),
        ("en", "Not_Kebab", "---\ntitle: A\n---\nBody", "slug: Lower-case letters"),
        ("de-AT", "ok", "---\ntitle: A\n---\nBody", "locale: Articles are written per language"),
    ],
)
def test_a_bad_file_stops_the_load_before_anything_is_written(store, tmp_path, locale, slug, text, message):
    write_article(tmp_path, "en", "good", "Good", "Fine.")
    bad = tmp_path / locale / f"{slug}.md"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text(text, encoding="utf-8")

    with pytest.raises(faq_service.ArticleFileError, match=message) as raised:
        faq_service.load_folder(store, tmp_path, now=NOW)
    assert str(bad) in str(raised.value)
    assert rows(store) == {}


def test_operators_edits_check_versions_keys_and_events(store):
    content = ArticleContent.of("Title", "Body", ["tag"], ["subscription.cancelled"])
    with store.transaction() as session:
        created = faq_service.create_article(session, "a-slug", "es", content, now=NOW)
    assert (created.version, created.source) == (1, "admin")

    with store.transaction() as session, pytest.raises(Conflict):
        faq_service.create_article(session, "a-slug", "es", content, now=NOW)
    with store.transaction() as session, pytest.raises(StaleVersion):
        faq_service.put_article(session, "a-slug", "es", content, expected_version=7, now=NOW)
    with store.transaction() as session, pytest.raises(StaleVersion):
        faq_service.put_article(session, "missing", "es", content, expected_version=1, now=NOW)
    with store.transaction() as session, pytest.raises(InvalidInput) as raised:
        faq_service.put_article(
            session, "a-slug", "es", ArticleContent.of("T", "B", related_events=["nope.event"]),
            expected_version=None, now=NOW,
        )  # fmt: skip
    assert raised.value.errors == {"related_events.0": "'nope.event' is not an event type of the catalog."}
    with store.transaction() as session, pytest.raises(InvalidInput) as raised:
        faq_service.put_article(session, "Bad Slug", "xx", content, expected_version=None, now=NOW)
    assert set(raised.value.errors) == {"slug", "locale"} and raised.value.location == "path"

    with store.transaction() as session:  # the same content again is no new version
        same = faq_service.put_article(session, "a-slug", "es", content, expected_version=1, now=NOW)
    assert same.version == 1
    with store.transaction() as session, pytest.raises(StaleVersion):
        faq_service.delete_article(session, "a-slug", "es", expected_version=2)
    with store.transaction() as session:
        faq_service.delete_article(session, "a-slug", "es", expected_version=1)
    assert rows(store) == {}


def test_the_search_index_is_rebuilt_only_when_the_store_changes(store):
    cache = faq_service.SearchIndexCache()
    faq_service.load_folder(store, faq_service.ARTICLES_FOLDER, now=NOW)
    with store.read() as session:
        first = cache.current(session)
    with store.read() as session:
        assert cache.current(session) is first  # nothing changed: the same index, not a rebuild
    assert len(first.index) == 70
    assert [hit.slug for hit in first.index.search("zebra crossing", "en", 3).hits] == []

    with store.transaction() as session:
        faq_service.put_article(
            session, "extra-member", "en", ArticleContent.of("Zebra crossing rules", "Zebras cross here."),
            expected_version=1, now=NOW + timedelta(minutes=1),
        )  # fmt: skip
    with store.read() as session:
        edited = cache.current(session)
    assert edited is not first
    assert [hit.slug for hit in edited.index.search("zebra crossing", "en", 3).hits] == ["extra-member"]

    with store.transaction() as session:
        faq_service.delete_article(session, "extra-member", "en", expected_version=None)
    with store.read() as session:
        deleted = cache.current(session)
    assert len(deleted.index) == 69 and deleted.index.search("zebra crossing", "en", 3).hits == []


def test_a_delete_and_re_create_at_the_same_version_still_moves_the_revision(store):
    content = ArticleContent.of("Title", "Body")
    with store.transaction() as session:
        faq_service.create_article(session, "one", "en", content, now=NOW)
    with store.read() as session:
        before = faq_service.store_revision(session)
    with store.transaction() as session:
        faq_service.delete_article(session, "one", "en", expected_version=None)
        session.flush()
        faq_service.create_article(session, "one", "en", ArticleContent.of("Other", "Text"), now=NOW + timedelta(1))
    with store.read() as session:
        assert faq_service.store_revision(session) != before


def test_an_agent_gets_the_language_asked_for_or_english(store):
    faq_service.load_folder(store, faq_service.ARTICLES_FOLDER, now=NOW)
    with store.transaction() as session:
        faq_service.create_article(session, "english-only", "en", ArticleContent.of("Only here", "Text."), now=NOW)
    with store.read() as session:
        assert faq_service.find_article_for_locale(session, "extra-member", "de-AT").locale == "de"
        assert faq_service.find_article_for_locale(session, "extra-member", "ms-MY").locale == "ms"
        assert faq_service.find_article_for_locale(session, "english-only", "fr-CA").locale == "en"
        assert faq_service.find_article_for_locale(session, "extra-member", "it").locale == "en"


def test_two_loads_at_once_on_postgresql_both_succeed(postgres_database, monkeypatch):
    """The second load blocks on the first one's new rows, fails on their primary key, and loads again."""
    engine = make_engine(postgres_database.url, postgres_database.schema)
    migrate.upgrade(engine)
    store = Store(engine)
    files = faq_service.read_article_folder()
    calls = []
    real_load = faq_service.load_articles
    monkeypatch.setattr(faq_service, "load_articles", lambda *a, **k: calls.append(1) or real_load(*a, **k))
    second: list = []
    try:
        with store.transaction() as first:
            real_load(first, files, now=NOW)
            first.flush()  # the first load's rows exist, uncommitted: the second load's inserts wait on them
            worker = threading.Thread(target=lambda: second.append(faq_service.load_folder(store, FOLDER, now=NOW)))
            worker.start()
            _wait_for_a_lock_wait(engine)
        worker.join(timeout=30)
        assert second and (second[0].added, second[0].unchanged) == (0, 70)
        assert len(calls) == 2  # it did fail once and run again
        assert len(rows(store)) == 70
    finally:
        engine.dispose()


def _wait_for_a_lock_wait(engine) -> None:
    deadline = time.monotonic() + 20
    with engine.connect() as connection:
        while time.monotonic() < deadline:
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query ILIKE '%faq_articles%'"
                )
            ).scalar()
            connection.rollback()  # pg_stat_activity is a snapshot taken once per transaction
            if waiting:
                return
            time.sleep(0.05)
    pytest.fail("the second load never waited on the first one's rows")
