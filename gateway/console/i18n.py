"""The agent console's language and time zone: which ones an agent reads, the message catalogs, and dates and
times written the way that language writes them.

Language: the agent's choice (at sign-in or on the settings page, kept in the console session), else the
partner's default locale, each narrowed by the notices' fallback chain (de-AT -> de -> en,
gateway.domain.notices.locale_chain) to a language the console speaks. Before sign-in: the language kept from
the last session in this browser, else the browser's Accept-Language, else English.

Time zone: the agent's choice, else the partner's default. Partners have no time zone setting of their own, so
the default is the zone of the market the partner's default locale names (de-DE -> DE -> Europe/Berlin), else
of its first market: a market with one zone has that one (CLDR, through Babel), a market with several the zone
of its capital or largest city (MARKET_ZONES), and a market with none known is shown in UTC.

Calendar days (a respond-by date, the last day of access) stay the days the notices and the situation texts name,
which are UTC days: the agent must read the customer the day the customer was told. Times of day (when a notice
went out, when an escalation is due) are shown in the agent's zone, with its offset from UTC.

Catalogs are gateway/console/translations/<language>/LC_MESSAGES/messages.po, read once per process and compiled
in memory: no build step, nothing to keep in step. English is the source language: its catalog lists every
message and may leave them untranslated.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale
from babel.core import get_global
from babel.dates import format_date, format_time, get_timezone_location
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from flask import g, has_request_context, request

from gateway.domain.notices import FALLBACK_LOCALE, NOTICE_LOCALES
from gateway.domain.situation import text_language

CONSOLE_LANGUAGES = NOTICE_LOCALES
TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"
# CLDR locale per console language: English as the glossary spells it (British), the others as they are.
CLDR_LOCALES = {"en": "en_GB", "de": "de", "fr": "fr", "es": "es", "ms": "ms"}
NO_DATE = "—"
UTC_ZONE = "UTC"
ZONE_SEPARATOR = " \u2013 "  # an en dash between a zone's country and city

# The zone for a market that spans several: its capital's or largest city's (CLDR lists them unordered).
MARKET_ZONES = {
    "AR": "America/Argentina/Buenos_Aires",
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "CD": "Africa/Kinshasa",
    "CL": "America/Santiago",
    "CN": "Asia/Shanghai",
    "CY": "Asia/Nicosia",
    "DE": "Europe/Berlin",
    "EC": "America/Guayaquil",
    "ES": "Europe/Madrid",
    "FM": "Pacific/Pohnpei",
    "GL": "America/Nuuk",
    "ID": "Asia/Jakarta",
    "KI": "Pacific/Tarawa",
    "KZ": "Asia/Almaty",
    "MH": "Pacific/Majuro",
    "MN": "Asia/Ulaanbaatar",
    "MX": "America/Mexico_City",
    "MY": "Asia/Kuala_Lumpur",
    "NZ": "Pacific/Auckland",
    "PF": "Pacific/Tahiti",
    "PG": "Pacific/Port_Moresby",
    "PS": "Asia/Hebron",
    "PT": "Europe/Lisbon",
    "RU": "Europe/Moscow",
    "UA": "Europe/Kyiv",
    "US": "America/New_York",
    "UZ": "Asia/Tashkent",
}


def N_(message: str) -> str:
    """Marks a message for the catalogs where it is defined; `gettext` translates it where it is shown."""
    return message


# --- catalogs ----------------------------------------------------------------------------------------------------


@cache
def translations(language: str) -> Translations:
    """The compiled catalog of a console language (an empty one for English, the source language)."""
    path = TRANSLATIONS / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language not in CONSOLE_LANGUAGES or not path.is_file():
        return Translations()
    with path.open("rb") as file:
        catalog = read_po(file, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def current_language() -> str:
    """The language of the page being rendered: the request's (set when it starts), English outside one."""
    return g.get("language", FALLBACK_LOCALE) if has_request_context() else FALLBACK_LOCALE


def gettext(message: str, **variables: object) -> str:
    """`message` in the current language, with `variables` put in (`%(name)s`)."""
    translated = translations(current_language()).gettext(message)
    return translated % variables if variables else translated


def ngettext(singular: str, plural: str, number: int, **variables: object) -> str:
    """The form of `singular`/`plural` the current language uses for `number`, with `num` and `variables`."""
    translated = translations(current_language()).ngettext(singular, plural, number)
    return translated % {"num": number, **variables}


# Jinja's i18n extension formats and escapes the variables itself ("newstyle" gettext): it takes the bare lookups.
def template_gettext(message: str) -> str:
    return translations(current_language()).gettext(message)


def template_ngettext(singular: str, plural: str, number: int) -> str:
    return translations(current_language()).ngettext(singular, plural, number)


# --- which language --------------------------------------------------------------------------------------------


def language_of(locale: str | None) -> str:
    """The console language for a BCP 47 locale, by the notices' fallback chain: de-AT -> de; else English."""
    return text_language(locale)


def language_before_sign_in(remembered: str | None) -> str:
    """The language of a page shown without a signed-in agent: the one this browser's last session chose, else
    the first of the browser's languages the console speaks, else English."""
    if remembered:
        return language_of(remembered)
    if has_request_context():
        # In the browser's order of preference, each narrowed to its language (ms-MY -> ms) as the chain does.
        for tag, _quality in request.accept_languages:
            language = tag.replace("_", "-").split("-")[0].lower()
            if language in CONSOLE_LANGUAGES:
                return language
    return FALLBACK_LOCALE


def cldr_locale(language: str) -> Locale:
    return Locale.parse(CLDR_LOCALES.get(language, CLDR_LOCALES[FALLBACK_LOCALE]))


def language_name(code: str, language: str) -> str:
    """A language as `language` names it (CLDR): en in German is Englisch, ms in French malais."""
    return cldr_locale(language).languages.get(code.replace("_", "-").split("-")[0].lower(), code)


# --- which time zone -----------------------------------------------------------------------------------------


@cache
def known_time_zones() -> frozenset[str]:
    """The IANA zones this machine knows, without the legacy aliases nobody picks from a list."""
    legacy = ("Etc/", "SystemV/", "posix/", "right/", "US/", "Canada/", "Mexico/", "Brazil/", "Chile/")
    zones = {zone for zone in available_timezones() if "/" in zone and not zone.startswith(legacy)}
    return frozenset(zones | {UTC_ZONE})


def is_time_zone(name: str | None) -> bool:
    return bool(name) and name in known_time_zones()


def market_time_zone(market: str) -> str:
    """The zone a partner in this market (ISO 3166-1 alpha-2) most likely works in; UTC when none is known."""
    code = market.upper()
    zones = get_global("territory_zones").get(code, [])
    zone = MARKET_ZONES.get(code) or (zones[0] if len(zones) == 1 else None)
    return zone if is_time_zone(zone) else UTC_ZONE


def partner_time_zone(markets: Iterable[str], default_locale: str | None, chosen: str | None = None) -> str:
    """The partner's default zone: the one an operator chose for it (partners.time_zone) when zoneinfo knows it,
    else its default locale's market when it serves it (de-DE -> DE), else its first market's."""
    from gateway.domain import time_zones  # the rule the operator API accepted `chosen` by

    if time_zones.is_time_zone(chosen):
        return chosen
    markets = [market.upper() for market in markets]
    region = next(
        (part.upper() for part in (default_locale or "").replace("_", "-").split("-")[1:] if len(part) == 2), None
    )
    if region in markets:
        return market_time_zone(region)
    return market_time_zone(markets[0]) if markets else UTC_ZONE


def zone_label(zone: str, language: str) -> str:
    """A zone as the language names its country and city: "Deutschland - Berlin" (an en dash between them)."""
    if zone == UTC_ZONE:
        return UTC_ZONE
    locale = cldr_locale(language)
    city = get_timezone_location(ZoneInfo(zone), locale=locale, return_city=True)
    territory = get_global("zone_territories").get(zone)
    country = locale.territories.get(territory) if territory else None
    return f"{country}{ZONE_SEPARATOR}{city}" if country and country != city else city


def zone_choices(markets: Iterable[str], language: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(the zones of the partner's markets, every zone), each as sorted (zone, label) pairs."""
    market_zones = {
        zone
        for market in markets
        for zone in get_global("territory_zones").get(market.upper(), [])
        if is_time_zone(zone)
    }
    labelled = [(zone, zone_label(zone, language)) for zone in known_time_zones()]
    every = sorted(labelled, key=lambda pair: (pair[0] != UTC_ZONE, pair[1].casefold()))
    return [pair for pair in every if pair[0] in market_zones], every


# --- dates, times and numbers as the language writes them ------------------------------------------------------


def _utc_day(moment: datetime):
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date()


def format_day(moment: datetime | None, language: str) -> str:
    """The calendar day of a moment, as the notices name it (UTC): 5 Dec 2026, 05.12.2026, 5 déc. 2026."""
    return NO_DATE if moment is None else format_date(_utc_day(moment), "medium", locale=cldr_locale(language))


def format_last_day(period_end: datetime | None, language: str) -> str:
    """The last day a period ending at `period_end` (midnight UTC) covers: the day the texts name as the last
    day of access, so the page and the texts agree."""
    return NO_DATE if period_end is None else format_day(period_end - timedelta(microseconds=1), language)


def utc_offset(moment: datetime) -> str:
    """UTC+1, UTC+5:30, UTC-3, UTC: read alike in every language."""
    offset = moment.utcoffset() or timedelta()
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0:
        return "UTC"
    sign, minutes = ("+" if minutes > 0 else "-"), abs(minutes)
    hours, rest = divmod(minutes, 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def format_moment(moment: datetime | None, language: str, zone: str) -> str:
    """A moment in the agent's zone, as the language writes a date and a time: 5 Dec 2026, 14:30 (UTC+1)."""
    if moment is None:
        return NO_DATE
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = aware.astimezone(ZoneInfo(zone) if is_time_zone(zone) else UTC)
    locale = cldr_locale(language)
    date_text = format_date(local, "medium", locale=locale)
    time_text = format_time(local, "short", locale=locale)
    joined = locale.datetime_formats["medium"].format(time_text, date_text)
    return f"{joined} ({utc_offset(local)})"


def format_number(number: int, language: str) -> str:
    """4,000 · 4.000 · 4 000: a count as the language groups its digits."""
    return format_decimal(number, locale=cldr_locale(language))
