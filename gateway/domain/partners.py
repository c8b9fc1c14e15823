"""Partner registry rules: what a valid partner code, market list and default locale look like."""

from __future__ import annotations

import enum
import re

from gateway.domain.countries import is_country_code

PARTNER_CODE = re.compile(r"^[a-z][a-z0-9-]{1,31}$")

# The BCP 47 subset partners use for member-facing text: language, optional script, optional region
# (de, de-AT, zh-Hant-TW, es-419). Extensions and private-use tags are not needed for notices.
LOCALE = re.compile(r"^([A-Za-z]{2,3})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|[0-9]{3}))?$")


class PartnerStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


def normalize_locale(tag: str) -> str | None:
    """The canonical casing of a BCP 47 tag (`DE-at` -> `de-AT`), or None when it is not one we accept."""
    match = LOCALE.match(tag)
    if not match:
        return None
    language, script, region = match.groups()
    parts = [language.lower()]
    if script:
        parts.append(script.title())
    if region:
        parts.append(region.upper())
    return "-".join(parts)


def normalize_markets(markets: list[str]) -> tuple[list[str], dict[str, str]]:
    """Upper-cased, de-duplicated, sorted ISO 3166-1 alpha-2 codes, and field errors for unknown ones."""
    errors = {}
    seen = set()
    for index, market in enumerate(markets):
        code = market.upper()
        if not is_country_code(code):
            errors[f"markets.{index}"] = f"{market!r} is not an ISO 3166-1 alpha-2 country code."
        seen.add(code)
    if not markets:
        errors["markets"] = "A partner serves at least one market."
    return sorted(seen), errors


def check_partner_code(code: str) -> dict[str, str]:
    if PARTNER_CODE.match(code):
        return {}
    return {"code": "2-32 characters: lower-case letters, digits and '-', starting with a letter."}
