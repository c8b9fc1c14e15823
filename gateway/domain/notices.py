"""Notice texts: which template speaks for which event, the locale fallback chain, and what fits one SMS."""

from __future__ import annotations

import contextlib
import tomllib
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.lists import format_list
from babel.numbers import format_currency

from gateway.domain.events import EventType as E

# Every template exists in each of these; a test fails when one is missing.
NOTICE_LOCALES = ("en", "de", "fr", "es", "ms")
FALLBACK_LOCALE = "en"

# event type (and, where one event type covers several situations, its reason) -> template name.
# Member notices go out in the member's locale, partner notices (a call-center briefing) in the partner's.
MEMBER_NOTICES = {
    (E.ACCOUNT_INACTIVITY_WARNING, None): "inactivity_warning",
    (E.ACCOUNT_KEEP_CONFIRMED, None): "keep_confirmed",
    (E.SUBSCRIPTION_CANCELLED, "inactivity"): "inactivity_cancellation",
    # The member's own cancellation: confirmed when scheduled, and again when it takes effect at the period end.
    (E.SUBSCRIPTION_CANCELLATION_SCHEDULED, None): "cancellation_confirmed",
    (E.SUBSCRIPTION_CANCELLED, "billing_period_ended"): "cancellation_ended",
    (E.ACCOUNT_RETENTION_EXPIRING, None): "retention_expiring",
    (E.SUBSCRIPTION_REACTIVATED, None): "membership_restored",
    (E.SHARING_HOUSEHOLD_VERIFICATION_REQUIRED, None): "household_verification_required",
    (E.SHARING_EXTRA_MEMBER_ADDED, None): "extra_member_added",
    (E.SHARING_EXTRA_MEMBER_REMOVED, None): "extra_member_removed",
}
PARTNER_NOTICES = {
    (E.SHARING_POLICY_ANNOUNCED, None): "policy_announced",
    (E.SHARING_POLICY_EFFECTIVE, None): "policy_effective",
    (E.SHARING_ACKNOWLEDGEMENT_REMINDER, None): "acknowledgement_reminder",
}
TEMPLATES = sorted({*MEMBER_NOTICES.values(), *PARTNER_NOTICES.values()})
PARTS = ("subject", "body", "sms")


def template_for(event_type: str, reason: str | None = None) -> str | None:
    """The template of an event that carries text, or None for one that carries only fields."""
    for table in (MEMBER_NOTICES, PARTNER_NOTICES):
        found = table.get((event_type, reason)) or table.get((event_type, None))
        if found is not None:
            return found
    return None


def locale_chain(tag: str | None) -> list[str]:
    """The locales to try, most specific first, ending in English: de-AT -> de-AT, de, en."""
    chain: list[str] = []
    parts = (tag or "").replace("_", "-").split("-")
    while parts and parts[0]:
        candidate = "-".join(parts)
        chain.append(candidate[:2].lower() + candidate[2:])
        parts = parts[:-1]
    if FALLBACK_LOCALE not in chain:
        chain.append(FALLBACK_LOCALE)
    return chain


# The GSM 03.38 default alphabet (one septet each) and its extension table (two septets each, an escape first).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")
SMS_GSM7_LIMIT = 160  # septets in one single-part SMS
SMS_UCS2_LIMIT = 70  # characters once any one of them is outside the GSM alphabet


def sms_length(text: str) -> tuple[int, int]:
    """(units used, units allowed) for one SMS: GSM-7 septets when the text fits that alphabet, else UCS-2."""
    if all(character in GSM7_BASIC or character in GSM7_EXTENSION for character in text):
        return sum(2 if character in GSM7_EXTENSION else 1 for character in text), SMS_GSM7_LIMIT
    return len(text.encode("utf-16-le")) // 2, SMS_UCS2_LIMIT


def fits_one_sms(text: str) -> bool:
    used, allowed = sms_length(text)
    return used <= allowed


# Long dates as a member reads them, per language: day, month name, year.
MONTHS = {
    "en": "January February March April May June July August September October November December",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "ms": "Januari Februari Mac April Mei Jun Julai Ogos September Oktober November Disember",
}
DATE_PATTERNS = {
    "en": "{day} {month} {year}",
    "de": "{day}. {month} {year}",
    "fr": "{day} {month} {year}",
    "es": "{day} de {month} de {year}",
    "ms": "{day} {month} {year}",
}


# French writes the first day of a month as an ordinal: "le 1er août", never "le 1 août".
FIRST_DAY = {"fr": "1er"}


def format_date(moment: datetime, language: str) -> str:
    """e.g. 6 December 2026, 6. Dezember 2026, 6 décembre 2026, 6 de diciembre de 2026, 6 Disember 2026."""
    month = MONTHS[language].split()[moment.month - 1]
    day = FIRST_DAY.get(language, "1") if moment.day == 1 else str(moment.day)
    return DATE_PATTERNS[language].format(day=day, month=month, year=moment.year)


# The one word per concept, the register and the plan names of each language (data, reviewed like the templates).
GLOSSARY_PATH = Path(__file__).resolve().parent.parent / "templates" / "glossary.toml"


@cache
def glossary() -> dict[str, Any]:
    with GLOSSARY_PATH.open("rb") as file:
        return tomllib.load(file)


def plan_name(code: str, language: str) -> str:
    """A plan as the reader's language names it in prose (standard_with_ads -> Standard mit Werbung)."""
    return glossary().get(language, glossary()[FALLBACK_LOCALE])["plans"].get(code, code)


# English lists as British English writes them, without the serial comma (the glossary's spelling variant).
_LIST_LOCALES = {"en": "en_GB"}


def market_name(code: str, language: str) -> str:
    """A market (ISO 3166-1 country code) as the language names the country (CLDR): DE -> Allemagne in French."""
    return _cldr_locale(language, None).territories.get(code.upper(), code)


def names_list(names: Iterable[str], language: str) -> str:
    """Names joined as the language joins a list: "Deutschland, Österreich und Schweiz"."""
    return format_list(list(names), locale=_LIST_LOCALES.get(language, language))


# Where the amount goes and which decimal mark it uses, per language.
def format_money(amount: Decimal, currency: str, language: str, territory: str | None = None) -> str:
    """The amount as the reader's language writes it (CLDR, through Babel): RM17.90 in Malay, 4,99 € in German,
    €4.99 in English; with a market's conventions where the language has them for it (English in Malaysia:
    RM17.90). Spaces are plain ones: a no-break space would push an SMS out of the GSM alphabet."""
    # Two decimals always, as the price was set: CLDR would round a currency without minor units (HUF).
    text = format_currency(amount, currency, locale=_cldr_locale(language, territory), currency_digits=False)
    return text.replace("\u00a0", " ").replace("\u202f", " ")


@cache
def _cldr_locale(language: str, territory: str | None) -> Locale:
    if territory:
        with contextlib.suppress(UnknownLocaleError, ValueError):
            return Locale.parse(f"{language}_{territory}")
    return Locale.parse(language)
