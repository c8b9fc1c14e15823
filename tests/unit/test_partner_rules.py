"""Partner codes, markets and locales."""

from __future__ import annotations

import pytest

from gateway.domain.countries import COUNTRY_CODES
from gateway.domain.partners import check_partner_code, normalize_locale, normalize_markets


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("de", "de"),
        ("DE-at", "de-AT"),
        ("ms-MY", "ms-MY"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("es-419", "es-419"),
        ("fil", "fil"),
    ],
)
def test_locales_are_canonicalised(tag, expected):
    assert normalize_locale(tag) == expected


@pytest.mark.parametrize("tag", ["", "d", "german", "de_DE", "de-", "de-AT-extra", "12", "de-Latn-AT-x"])
def test_non_locales_are_refused(tag):
    assert normalize_locale(tag) is None


def test_markets_are_upper_cased_deduplicated_and_sorted():
    assert normalize_markets(["de", "AT", "DE"]) == (["AT", "DE"], {})


def test_unknown_markets_are_named_by_position():
    _, errors = normalize_markets(["DE", "XX", "uk"])
    assert set(errors) == {"markets.1", "markets.2"}  # the United Kingdom is GB in ISO 3166


def test_no_market_is_an_error():
    assert "markets" in normalize_markets([])[1]


def test_the_country_list_is_iso_3166_alpha_2():
    assert len(COUNTRY_CODES) == 249
    assert {"DE", "AT", "FR", "MY", "ES", "GB", "US"} <= COUNTRY_CODES
    assert all(len(code) == 2 and code.isupper() for code in COUNTRY_CODES)


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("telco-de", True),
        ("a1", True),
        ("A1", False),
        ("1a", False),
        ("x", False),
        ("a" * 33, False),
        ("tel co", False),
    ],
)
def test_partner_codes(code, ok):
    assert (check_partner_code(code) == {}) is ok
