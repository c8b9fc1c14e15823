"""Notice texts: every template in every locale, rendered with long realistic values, the locale fallback,
the sandbox around the templates, and what fits one SMS."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import jinja2
import pytest
from jinja2.exceptions import SecurityError

from gateway.domain.notices import (
    MEMBER_NOTICES,
    NOTICE_LOCALES,
    PARTNER_NOTICES,
    SMS_GSM7_LIMIT,
    SMS_UCS2_LIMIT,
    TEMPLATES,
    fits_one_sms,
    format_money,
    locale_chain,
    sms_length,
)
from gateway.services.notice_text import TEMPLATE_ROOT, Markets, Money, NoticeRenderer, Plans

RENDERER = NoticeRenderer()

# Long but realistic values: a 20-character partner name, 35-character URLs, four markets, a notice id as
# gateway.domain.ids.new_id writes them, and a price with four digits before the decimal mark.
SERVICE = "Streamly"
PARTNER = "Rheinfunk Mobil Plus"
KEEP_URL = "https://my.streamly.example/keep-me"
REJOIN_URL = "https://my.streamly.example/rejoin1"
MARKETS = Markets(("DE", "AT", "CH", "LU"))
PRICES = "Deutschland: 4,99 EUR; Österreich: 4,99 EUR; Schweiz: 5,99 CHF; Luxemburg: 4,99 EUR"
PLANS = Plans(("standard_with_ads", "standard", "premium"))
NOTICE_ID = "notice_0123456789abcdef0123"
PRICE = Money(Decimal("1290.00"), "HUF")

# A December date as each language writes it; the first and last words of a long date in each language.
DECEMBER = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
DECEMBER_TEXT = {
    "en": "6 December 2026",
    "de": "6. Dezember 2026",
    "fr": "6 décembre 2026",
    "es": "6 de diciembre de 2026",
    "ms": "6 Disember 2026",
}
# Markets and plans as each language names them in prose (never the codes a partner's system uses).
MARKET_NAMES = {
    "en": "Germany, Austria, Switzerland and Luxembourg",
    "de": "Deutschland, Österreich, Schweiz und Luxemburg",
    "fr": "Allemagne, Autriche, Suisse et Luxembourg",
    "es": "Alemania, Austria, Suiza y Luxemburgo",
    "ms": "Jerman, Austria, Switzerland dan Luxembourg",
}
PLAN_NAMES = {
    "en": "Standard with adverts, Standard and Premium",
    "de": "Standard mit Werbung, Standard und Premium",
    "fr": "Standard avec pub, Standard et Premium",
    "es": "Estándar con anuncios, Estándar y Premium",
    "ms": "Standard dengan iklan, Standard dan Premium",
}
PRICE_TEXT = {
    "en": "HUF1,290.00",
    "de": "1.290,00 HUF",
    "fr": "1 290,00 HUF",
    "es": "1.290,00 HUF",
    "ms": "HUF1,290.00",
}
# Typographic characters the texts must not use: plain ASCII apostrophes and quotes only.
TYPOGRAPHIC = "\u2018\u2019\u201c\u201d\u201e\u00ab\u00bb\u2013\u2014\u2026"


def _member(**extra: Any) -> dict[str, Any]:
    return {"service": SERVICE, "partner": PARTNER, "keep_url": KEEP_URL, "rejoin_url": REJOIN_URL, **extra}


def _partner(**extra: Any) -> dict[str, Any]:
    return {"service": SERVICE, "partner": PARTNER, **extra}


def samples(template: str, when: datetime) -> list[dict[str, Any]]:
    """Every branch of a template, each with exactly the variables its event provides (dates as datetimes)."""
    after_change = {"plan": "standard_with_ads", "effective_at": when}
    policy = {"markets": MARKETS, "effective_at": when, "rule": "one_household", "notice_id": NOTICE_ID}
    table: dict[str, list[dict[str, Any]]] = {
        "inactivity_warning": [
            _member(reason="never_watched", months=12, respond_by=when, plan="premium"),
            _member(reason="idle", months=24, respond_by=when, plan="standard_with_ads"),
        ],
        # After a keep or a rejoin the subscription has no cancellation dates: the service passes None.
        "keep_confirmed": [_member(billing_stop_at=None, retention_until=None, **after_change)],
        "inactivity_cancellation": [_member(billing_stop_at=when, retention_until=when, **after_change)],
        "cancellation_confirmed": [  # a partner-billed member, and one the service bills
            _member(billed_by=billed_by, access_until=when, billing_stop_at=None, retention_until=None, plan="premium")
            for billed_by in ("partner", "service")
        ],
        "cancellation_ended": [
            _member(billed_by=billed_by, access_until=None, billing_stop_at=when, retention_until=when, plan="premium")
            for billed_by in ("partner", "service")
        ],
        "retention_expiring": [_member(retention_until=when)],
        "membership_restored": [_member(billing_stop_at=None, retention_until=None, **after_change)],
        "household_verification_required": [_member(verify_by=when)],
        "extra_member_added": [_member(price=PRICE)],
        "extra_member_removed": [_member()],
        "policy_announced": [  # with an extra-member offer, and without one
            _partner(prices=PRICES, plans=PLANS, **policy),
            _partner(prices="", plans=Plans(()), **policy),
        ],
        "policy_effective": [
            _partner(**policy, acknowledged=False),
            _partner(**policy, acknowledged=True),
        ],
        "acknowledgement_reminder": [
            _partner(markets=MARKETS, effective_at=when, notice_id=NOTICE_ID, reminder=1),
            _partner(markets=MARKETS, effective_at=when, notice_id=NOTICE_ID, reminder=3),
        ],
    }
    return table[template]


def test_the_samples_cover_every_template():
    assert all(samples(name, DECEMBER) for name in TEMPLATES)
    assert set(TEMPLATES) == {
        "inactivity_warning",
        "keep_confirmed",
        "inactivity_cancellation",
        "cancellation_confirmed",
        "cancellation_ended",
        "retention_expiring",
        "membership_restored",
        "household_verification_required",
        "extra_member_added",
        "extra_member_removed",
        "policy_announced",
        "policy_effective",
        "acknowledgement_reminder",
    }


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
def test_every_template_exists_in_every_locale(locale):
    missing = [name for name in TEMPLATES if not (TEMPLATE_ROOT / locale / f"{name}.txt").is_file()]
    assert missing == []


def test_no_template_file_is_one_the_table_does_not_name():
    found = {path.relative_to(TEMPLATE_ROOT).as_posix() for path in TEMPLATE_ROOT.rglob("*") if path.is_file()}
    expected = {f"{locale}/{name}.txt" for locale in NOTICE_LOCALES for name in TEMPLATES}
    assert found - expected == set()
    assert RENDERER.languages() == sorted(NOTICE_LOCALES)


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
@pytest.mark.parametrize("name", TEMPLATES)
def test_each_template_opens_with_a_comment_naming_its_event(locale, name):
    events = [event for (event, _), template in {**MEMBER_NOTICES, **PARTNER_NOTICES}.items() if template == name]
    text = (TEMPLATE_ROOT / locale / f"{name}.txt").read_text(encoding="utf-8")
    first_line = text.splitlines()[0]
    assert first_line.startswith("{#")
    assert any(event in first_line for event in events), first_line


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
@pytest.mark.parametrize("name", TEMPLATES)
def test_each_template_renders_a_complete_text_on_every_date_of_the_year(locale, name):
    # Day 28 of each month: two-digit days, every month name (the longest, and French "août" with its û).
    for month in range(1, 13):
        when = datetime(2026, month, 28, 12, tzinfo=UTC)
        for context in samples(name, when):
            notice = RENDERER.render(name, locale, **context)
            assert notice["locale"] == locale
            subject, body, sms = notice["subject"], notice["body"], notice["sms"]
            assert subject and "\n" not in subject and len(subject) < 80, subject
            assert body.strip()
            assert sms and "\n" not in sms
            assert fits_one_sms(sms), (sms_length(sms), sms)
            for part in (subject, body, sms):
                for leftover in ("{{", "}}", "{%", "%}", "{#", "None"):
                    assert leftover not in part, (leftover, part)
                assert not set(part) & set(TYPOGRAPHIC), part


# Paragraphs of each body, the same in every locale and every branch. A block tag that ends a line of text
# swallows the line break after it (trim_blocks), which silently merges two paragraphs: this catches that.
PARAGRAPHS = {
    "inactivity_warning": 2,
    "keep_confirmed": 2,
    "inactivity_cancellation": 3,
    "cancellation_confirmed": 2,
    "cancellation_ended": 2,
    "retention_expiring": 2,
    "membership_restored": 2,
    "household_verification_required": 3,
    "extra_member_added": 3,
    "extra_member_removed": 2,
    "policy_announced": 6,
    "policy_effective": 5,
    "acknowledgement_reminder": 4,
}


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
@pytest.mark.parametrize("name", TEMPLATES)
def test_every_locale_and_branch_has_the_same_paragraphs(locale, name):
    for context in samples(name, DECEMBER):
        paragraphs = RENDERER.render(name, locale, **context)["body"].split("\n\n")
        assert len(paragraphs) == PARAGRAPHS[name], paragraphs
        assert all(paragraph and "\n" not in paragraph for paragraph in paragraphs)


# The notices whose reader needs a date: by when to answer, until when data is kept, when a policy applies.
DATED = (
    "inactivity_warning",
    "inactivity_cancellation",
    "cancellation_confirmed",
    "cancellation_ended",
    "retention_expiring",
    "household_verification_required",
    "policy_announced",
    "policy_effective",
    "acknowledgement_reminder",
)


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
@pytest.mark.parametrize("name", DATED)
def test_dates_are_written_the_way_the_locale_writes_them(locale, name):
    for context in samples(name, DECEMBER):
        notice = RENDERER.render(name, locale, **context)
        assert DECEMBER_TEXT[locale] in notice["body"], notice["body"]
        assert "2026-12-06" not in notice["subject"] + notice["body"] + notice["sms"]


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
def test_the_extra_member_price_is_written_the_way_the_locale_writes_it(locale):
    notice = RENDERER.render("extra_member_added", locale, **samples("extra_member_added", DECEMBER)[0])
    assert PRICE_TEXT[locale] in notice["body"]
    assert PRICE_TEXT[locale] in notice["sms"]


@pytest.mark.parametrize(
    ("amount", "currency", "language", "market", "text"),
    [
        ("17.90", "MYR", "ms", None, "RM17.90"),  # issue 22, item 12: not "17.90 MYR"
        ("17.90", "MYR", "en", "MY", "RM17.90"),  # English as written in Malaysia
        ("4.99", "EUR", "de", "DE", "4,99 €"),
        ("4.99", "EUR", "de", "AT", "€ 4,99"),
        ("4.99", "EUR", "fr", None, "4,99 €"),
        ("4.99", "EUR", "en", None, "€4.99"),
        ("5.99", "CHF", "de", "CH", "CHF 5.99"),
        ("1290.50", "HUF", "de", None, "1.290,50 HUF"),  # the price as set: never rounded to whole forints
    ],
)
def test_money_is_written_as_the_language_writes_it_with_plain_spaces(amount, currency, language, market, text):
    assert format_money(Decimal(amount), currency, language, market) == text


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
def test_the_inactivity_warning_says_why_the_member_counts_as_inactive(locale):
    never_watched, idle = (
        RENDERER.render("inactivity_warning", locale, **context) for context in samples("inactivity_warning", DECEMBER)
    )
    assert never_watched["body"] != idle["body"]
    assert "12" in never_watched["body"] and "24" not in never_watched["body"]
    assert "24" in idle["body"] and "12" not in idle["body"]
    for notice in (never_watched, idle):
        assert KEEP_URL in notice["body"]
        assert PARTNER in notice["body"]
        assert "10" in notice["body"]  # months the profile, list and settings are kept


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
def test_the_policy_announcement_names_the_extra_member_offer_only_when_there_is_one(locale):
    offer, none = (RENDERER.render("policy_announced", locale, **c) for c in samples("policy_announced", DECEMBER))
    assert PRICES in offer["body"] and PLAN_NAMES[locale] in offer["body"]
    assert "EUR" not in none["body"] and "Premium" not in none["body"]
    for notice in (offer, none):
        assert MARKET_NAMES[locale] in notice["body"]
        assert "standard_with_ads" not in notice["body"]
        assert f"POST /v1/notices/{NOTICE_ID}/acknowledgement" in notice["body"]


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
def test_later_reminders_say_how_many_there_have_been(locale):
    first, third = (
        RENDERER.render("acknowledgement_reminder", locale, **c) for c in samples("acknowledgement_reminder", DECEMBER)
    )
    assert "3" not in first["body"].replace(NOTICE_ID, "")
    assert "3" in third["body"].replace(NOTICE_ID, "")


def test_a_region_falls_back_to_its_language_and_anything_else_to_english():
    context = samples("keep_confirmed", DECEMBER)[0]
    german = RENDERER.render("keep_confirmed", "de", **context)
    english = RENDERER.render("keep_confirmed", "en", **context)
    assert german["subject"] != english["subject"]
    assert RENDERER.render("keep_confirmed", "de-AT", **context) == german
    assert RENDERER.render("keep_confirmed", "pt-BR", **context) == english
    assert RENDERER.render("keep_confirmed", None, **context) == english
    assert RENDERER.resolve_locale("keep_confirmed", "de-AT") == "de"
    assert locale_chain("de-AT") == ["de-AT", "de", "en"]


def _template(root, name: str, subject: str) -> None:
    (root / "en").mkdir(exist_ok=True)
    (root / "en" / f"{name}.txt").write_text(
        f"{{% block subject %}}{subject}{{% endblock %}}{{% block body %}}Body{{% endblock %}}"
        "{% block sms %}SMS{% endblock %}",
        encoding="utf-8",
    )


def test_a_variable_the_template_was_not_given_is_an_error(tmp_path):
    _template(tmp_path, "greeting", "Hello {{ partner }}")
    renderer = NoticeRenderer(root=tmp_path)
    assert renderer.render("greeting", "en", partner="Rheinfunk")["subject"] == "Hello Rheinfunk"
    with pytest.raises(jinja2.UndefinedError):
        renderer.render("greeting", "en", service=SERVICE)


def test_a_template_cannot_reach_into_python_objects(tmp_path):
    _template(tmp_path, "escape", "{{ service.__class__.__mro__ }}")
    with pytest.raises(SecurityError):
        NoticeRenderer(root=tmp_path).render("escape", "en", service=SERVICE)


def test_one_sms_holds_160_gsm_characters_or_70_otherwise():
    assert (SMS_GSM7_LIMIT, SMS_UCS2_LIMIT) == (160, 70)
    assert fits_one_sms("a" * 160)
    assert not fits_one_sms("a" * 161)
    assert fits_one_sms("é" * 160)  # é is in the GSM alphabet
    assert fits_one_sms("á" + "a" * 69)
    assert not fits_one_sms("á" + "a" * 70)
    assert sms_length("á" + "a" * 69) == (70, 70)
    assert sms_length("€") == (2, 160)
    assert fits_one_sms("€" * 80)
    assert not fits_one_sms("€" * 80 + "a")
