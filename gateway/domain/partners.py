"""Partner registry rules: what a valid partner code, market list and default locale look like."""

from __future__ import annotations

import enum
import ipaddress
import re
from urllib.parse import urlsplit

from gateway.domain.countries import is_country_code

PARTNER_CODE = re.compile(r"^[a-z][a-z0-9-]{1,31}$")

# The BCP 47 subset partners use for member-facing text: language, optional script, optional region
# (de, de-AT, zh-Hant-TW, es-419). Extensions and private-use tags are not needed for notices.
LOCALE = re.compile(r"^([A-Za-z]{2,3})(?:-([A-Za-z]{4}))?(?:-([A-Za-z]{2}|[0-9]{3}))?$")


# An absolute http(s) URI by RFC 3986: a host name or IPv4 address, an optional port, then path, query and
# fragment made only of the characters the RFC allows there (percent-escapes included).
_PCHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
ENDPOINT_URL = re.compile(
    r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]{1,5})?"
    rf"(?:/{_PCHAR}*)*(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?$"
)

NOT_A_COUNTRY = "Not an ISO 3166-1 alpha-2 country code (upper case, e.g. DE)."
NOT_A_LOCALE = "Not a BCP 47 language tag such as 'de' or 'de-AT'."
NOT_A_PARTNER_CODE = "2-32 characters: lower-case letters, digits and '-', starting with a letter."
NOT_AN_ENDPOINT = "An absolute http(s) URL with a host is required."


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
            errors[f"markets.{index}"] = NOT_A_COUNTRY
        seen.add(code)
    if not markets:
        errors["markets"] = "A partner serves at least one market."
    return sorted(seen), errors


def check_partner_code(code: str) -> dict[str, str]:
    return {} if PARTNER_CODE.match(code) else {"code": NOT_A_PARTNER_CODE}


HTTPS_REQUIRED = "Webhook endpoints must use https."
INTERNAL_HOST = "Webhook endpoints must be public: loopback, private and link-local hosts are not allowed."
_INTERNAL_NAMES = ("localhost", ".localhost", ".local", ".internal", ".localdomain")


def _is_internal_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(_INTERNAL_NAMES):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False  # a name: where it points is checked on every connection (partners.transport)
    return not address.is_global or address.is_multicast


def check_endpoint_url(url: str, *, allow_private: bool = False) -> dict[str, str]:
    """Field errors for a webhook URL. Unless the operator allows private endpoints (tests, demos), it must
    be https and its host must not name an internal address; names are checked again at send time."""
    if not (ENDPOINT_URL.match(url) and len(url) <= 2048):
        return {"url": NOT_AN_ENDPOINT}
    if allow_private:
        return {}
    parsed = urlsplit(url)
    if parsed.scheme.lower() != "https":
        return {"url": HTTPS_REQUIRED}
    if _is_internal_host(parsed.hostname or ""):
        return {"url": INTERNAL_HOST}
    return {}
