"""One voice per language: the glossary (gateway/templates/glossary.toml) held against every text a member,
a partner's team or an agent reads: each notice (subject, body, SMS) in every branch, each FAQ article, each
situation text of the lookup and the console's own pages.

What is checked, per locale: no term the glossary says to avoid; no pronoun of the other register (and the
plural address only in briefings to a partner's team); every rendered respond-by or last-access date inside one
of the locale's inclusive deadline phrasings (an agent and a member must read the same last day); FAQ articles
that quote the configurable months of inactivity say they are the default, and quote no price or plan list the
policy sets; and the SMS of a notice that asks the member to act still says what happens otherwise.
"""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.domain.notices import NOTICE_LOCALES, TEMPLATES, fits_one_sms, format_date, glossary, sms_length
from gateway.domain.situation_texts import TEXTS
from gateway.services.notice_text import NoticeRenderer
from tests.unit.test_notice_texts import samples

GLOSSARY = glossary()
RENDERER = NoticeRenderer()
FAQ_ROOT = Path(__file__).resolve().parents[2] / "gateway" / "faq" / "articles"
CONSOLE_ROOT = Path(__file__).resolve().parents[2] / "gateway" / "console" / "templates" / "console"
PARTNER_TEAM_NOTICES = {"policy_announced", "policy_effective", "acknowledgement_reminder"}
CONCEPTS = ("membership", "plan", "billing_period", "inactivity_warning", "acknowledge", "extra_member", "escalation")

# Distinct days, so each date in a text can be traced to its field: the respond-by moment is the end of a day,
# the period end a midnight (the last day of access is the day before), every other date a third day. The
# first of a month shows how French writes it.
RESPOND_BY = datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC)
PERIOD_END = datetime(2026, 12, 6, tzinfo=UTC)
LAST_ACCESS_DAY = datetime(2026, 12, 5, tzinfo=UTC)
OTHER_DATE = datetime(2026, 10, 1, 12, tzinfo=UTC)


def _notices(locale: str) -> list[tuple[str, str, str]]:
    """(template, part, text) for every branch of every template, rendered with the dates above."""
    found = []
    for name in TEMPLATES:
        for context in samples(name, OTHER_DATE):
            if "respond_by" in context:
                context["respond_by"] = RESPOND_BY
            if context.get("access_until") is not None:
                context["access_until"] = PERIOD_END
            notice = RENDERER.render(name, locale, **context)
            found += [(name, part, notice[part]) for part in ("subject", "body", "sms")]
    return found


def _faq(locale: str) -> list[tuple[str, str]]:
    return [(path.stem, path.read_text(encoding="utf-8")) for path in sorted((FAQ_ROOT / locale).glob("*.md"))]


def _situation(locale: str) -> list[tuple[str, str]]:
    texts = TEXTS[locale]
    found = []
    for field in fields(texts):
        value = getattr(texts, field.name)
        items = value.items() if isinstance(value, dict) else [("", value)]
        found += [(f"{field.name}.{key}", text) for key, text in items]
    return found


def _console() -> list[tuple[str, str]]:
    """The console's own words (English): the pages without tags and template code."""
    found = []
    for path in sorted(CONSOLE_ROOT.glob("*.html")):
        text = re.sub(
            r"<style.*?</style>|<script.*?</script>|\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}",
            " ",
            path.read_text(encoding="utf-8"),
            flags=re.S,
        )
        found.append((path.name, re.sub(r"<[^>]+>", " ", text)))
    return found


def _every_text(locale: str) -> list[tuple[str, str]]:
    texts = [(f"notice {name}.{part}", text) for name, part, text in _notices(locale)]
    texts += [(f"faq {slug}", text) for slug, text in _faq(locale)]
    texts += [(f"situation {key}", text) for key, text in _situation(locale)]
    if locale == "en":
        texts += [(f"console {name}", text) for name, text in _console()]
    return texts


def test_every_locale_has_a_complete_glossary():
    assert set(GLOSSARY) == set(NOTICE_LOCALES)
    for locale, entry in GLOSSARY.items():
        assert set(entry["terms"]) == set(CONCEPTS), locale
        assert entry["register"] and entry["deadlines"] and entry["avoid"], locale
        assert all("{date}" in phrasing for phrasing in entry["deadlines"]), locale
        assert set(entry["plans"]) == {"standard_with_ads", "standard", "premium"}, locale
    assert GLOSSARY["en"]["spelling"] == "en-GB"


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
def test_no_text_uses_a_term_the_glossary_says_to_avoid(locale):
    findings = []
    for where, text in _every_text(locale):
        for pattern, preferred, _why in GLOSSARY[locale]["avoid"]:
            findings += [f"{where}: {match.group(0)!r} -> {preferred}" for match in re.finditer(pattern, text)]
    assert findings == []


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
def test_every_text_keeps_the_register(locale):
    entry = GLOSSARY[locale]
    findings = []
    for where, text in _every_text(locale):
        for pattern in entry["informal_address"]:
            findings += [f"{where}: {match.group(0)!r}" for match in re.finditer(pattern, text)]
        if where.split()[0] == "notice" and where.split()[1].split(".")[0] in PARTNER_TEAM_NOTICES:
            continue
        for pattern in entry["partner_team_only"]:
            findings += [f"{where}: {match.group(0)!r} (one reader)" for match in re.finditer(pattern, text)]
    assert findings == []


def _uncovered(text: str, date: str, phrasings: list[str]) -> list[str]:
    """Each place `date` appears in `text` that no allowed phrasing covers, with what precedes it."""
    covered: set[int] = set()
    for phrasing in phrasings:
        wanted = phrasing.replace("{date}", date)
        found = re.finditer(re.escape(wanted), text, flags=re.IGNORECASE)  # a phrasing may open a sentence
        covered |= {match.start() + phrasing.index("{date}") for match in found}
    return [
        text[max(0, m.start() - 30) : m.end() + 10]
        for m in re.finditer(re.escape(date), text)
        if m.start() not in covered
    ]


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
def test_notices_phrase_every_deadline_inclusively(locale):
    phrasings = GLOSSARY[locale]["deadlines"]
    language = locale
    # In an SMS, French writes août as aout to stay in the GSM alphabet; no date used here has it.
    respond_by, last_access, period_end = (
        format_date(moment, language) for moment in (RESPOND_BY, LAST_ACCESS_DAY, PERIOD_END)
    )
    findings = []
    for name, part, text in _notices(locale):
        findings += [f"{name}.{part}: {place!r}" for place in _uncovered(text, respond_by, phrasings)]
        findings += [f"{name}.{part}: {place!r}" for place in _uncovered(text, last_access, phrasings)]
        if period_end in text:  # the first day without access: reads as one day too many
            findings.append(f"{name}.{part}: the period end {period_end} instead of the last day of access")
    assert findings == []


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
def test_situation_texts_phrase_every_deadline_inclusively(locale):
    phrasings = GLOSSARY[locale]["deadlines"]
    findings = []
    for key, text in _situation(locale):
        for placeholder in ("{respond_by}", "{last_access_day}"):
            findings += [f"{key}: {place!r}" for place in _uncovered(text, placeholder, phrasings)]
        if "{access_until}" in text:
            findings.append(f"{key}: {{access_until}} is the first day without access; use {{last_access_day}}")
    assert findings == []


def _sentences(text: str) -> list[str]:
    return [sentence for sentence in re.split(r"(?<=[.!?:])\s+|\n+", text) if sentence.strip()]


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
def test_faq_articles_give_the_respond_by_date_as_the_last_day(locale):
    entry = GLOSSARY[locale]
    findings = []
    for slug, text in _faq(locale):
        # A paragraph that names the respond-by date may refer back to it ("that date"): all of it is checked.
        for paragraph in text.split("\n\n"):
            if any(term in paragraph for term in entry["respond_by_terms"]):
                findings += [
                    f"{slug}: {pattern!r} in {paragraph!r}"
                    for pattern in entry["exclusive_deadline"]
                    if re.search(pattern, paragraph)
                ]
    assert findings == []


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
def test_faq_articles_quote_configured_figures_only_as_defaults(locale):
    entry = GLOSSARY[locale]
    findings = []
    for slug, text in _faq(locale):
        body = text.split("---", 2)[-1]
        for sentence in _sentences(body):
            # GATEWAY_INACTIVITY_POLICY sets these per market; 10 months of retention and 14 days are not.
            if re.search(r"\b(12|24)\b", sentence) and not any(
                m.lower() in sentence.lower() for m in entry["configurable_marker"]
            ):
                findings.append(f"{slug}: months without 'default': {sentence!r}")
            if re.search(r"\d+[.,]\d\d", sentence):  # a price: each sharing policy sets its own
                findings.append(f"{slug}: a price: {sentence!r}")
            # Which plans allow an extra member is each sharing policy's choice, not a fact to quote.
            names_extra_member = slug == "extra-member" or entry["terms"]["extra_member"].lower() in sentence.lower()
            if names_extra_member and re.search(r"(?i)premium", sentence):
                findings.append(f"{slug}: a plan list: {sentence!r}")
    assert findings == []


# The notices that ask the member to act, and what their SMS must say happens if they do not.
CONSEQUENCES = {
    "en": {"inactivity_warning": r"Otherwise it will be cancelled", "retention_expiring": r"deleted"},
    "de": {"inactivity_warning": r"Sonst endet Ihre Mitgliedschaft", "retention_expiring": r"gelöscht"},
    "fr": {"inactivity_warning": r"Sinon, votre abonnement sera résilié", "retention_expiring": r"supprimés"},
    "es": {"inactivity_warning": r"Si no, le daremos de baja", "retention_expiring": r"se borran"},
    "ms": {"inactivity_warning": r"Jika tidak, keahlian anda dibatalkan", "retention_expiring": r"dipadam"},
}


@pytest.mark.parametrize("locale", NOTICE_LOCALES)
@pytest.mark.parametrize("name", ["inactivity_warning", "retention_expiring"])
def test_the_sms_says_what_happens_if_the_member_does_nothing_and_fits_one_segment(locale, name):
    assert set(CONSEQUENCES) == set(NOTICE_LOCALES)
    for month in range(1, 13):  # the longest month names, French août, two-digit days
        when = datetime(2026, month, 28, 23, 59, 59, tzinfo=UTC)
        for context in samples(name, when):
            sms = RENDERER.render(name, locale, **context)["sms"]
            assert re.search(CONSEQUENCES[locale][name], sms), sms
            assert fits_one_sms(sms), (sms_length(sms), sms)
