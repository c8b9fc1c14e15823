"""`gateway faq load` against a real SQLite store: counts, a second run, operators' edits, bad files."""

from __future__ import annotations

from sqlalchemy import select

from gateway.domain.clock import utcnow
from gateway.domain.faq_articles import ArticleContent
from gateway.services import faq as faq_service
from gateway.store.db import Store, make_engine
from gateway.store.models import FaqArticle
from tests.integration.test_faq_store import write_article


def stored(sqlite_database) -> dict[str, tuple[str, str, int]]:
    engine = make_engine(sqlite_database.url)
    try:
        with Store(engine).read() as session:
            return {
                f"{row.locale}/{row.slug}": (row.body, row.source, row.version)
                for row in session.scalars(select(FaqArticle))
            }
    finally:
        engine.dispose()


def edit(sqlite_database, slug: str, locale: str, body: str) -> None:
    engine = make_engine(sqlite_database.url)
    try:
        with Store(engine).transaction() as session:
            content = ArticleContent.of("Edited title", body)
            faq_service.put_article(session, slug, locale, content, expected_version=None, now=utcnow())
    finally:
        engine.dispose()


def test_load_of_the_shipped_articles_then_again(run, sqlite_database):
    first = run("faq", "load")
    assert first.output.strip() == "FAQ articles: 70 added, 0 updated, 0 unchanged"
    second = run("faq", "load")
    assert second.output.strip() == "FAQ articles: 0 added, 0 updated, 70 unchanged"
    assert len(stored(sqlite_database)) == 70


def test_an_operators_edit_is_kept_and_named_unless_overwritten(run, sqlite_database, tmp_path):
    folder = tmp_path / "articles"
    write_article(folder, "en", "extra-member", "Extra members", "From the file.")
    write_article(folder, "ms", "extra-member", "Ahli tambahan", "Daripada fail.")
    run("faq", "load", str(folder))
    edit(sqlite_database, "extra-member", "en", "From an operator.")

    kept = run("faq", "load", str(folder))
    assert "kept operator edit: en/extra-member" in kept.output
    assert kept.output.strip().splitlines()[-1] == (
        "FAQ articles: 0 added, 0 updated, 1 unchanged, 1 kept as operators edited them"
    )
    assert stored(sqlite_database)["en/extra-member"] == ("From an operator.", "admin", 2)

    overwritten = run("faq", "load", str(folder), "--overwrite-edits")
    assert "overwrote operator edit: en/extra-member" in overwritten.output
    assert stored(sqlite_database)["en/extra-member"] == ("From the file.", "file", 3)


def test_articles_without_a_file_are_listed_and_left(run, sqlite_database, tmp_path):
    folder = tmp_path / "articles"
    write_article(folder, "en", "one", "One", "First.")
    write_article(folder, "en", "two", "Two", "Second.")
    run("faq", "load", str(folder))
    (folder / "en" / "two.md").unlink()

    result = run("faq", "load", str(folder))
    assert "in the store without a file (left as is): en/two" in result.output
    assert set(stored(sqlite_database)) == {"en/one", "en/two"}


def test_a_bad_file_is_a_one_line_error_and_loads_nothing(run, sqlite_database, tmp_path):
    folder = tmp_path / "articles"
    write_article(folder, "en", "good", "Good", "Fine.")
    write_article(folder, "en", "bad", "Bad", "Fine.", related_events="subscription.exploded")

    result = run("faq", "load", str(folder), ok=False)
    assert result.exit_code == 1
    assert "bad.md: related_events.0: 'subscription.exploded' is not an event type" in result.output
    assert "Traceback" not in result.output
    assert stored(sqlite_database) == {}


def test_a_folder_without_articles_is_refused(run, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("faq", "load", str(empty), ok=False)
    assert result.exit_code == 1 and "no articles" in result.output
