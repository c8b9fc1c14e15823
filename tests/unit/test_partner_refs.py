"""The partner_ref normal form (gateway.domain.partner_refs) and the pattern the contract publishes for it."""

from __future__ import annotations

import re

import pytest

from gateway.domain import partner_refs
from gateway.domain.roster import BadRow, RosterRow, read_csv


@pytest.mark.parametrize(
    ("typed", "normal"),
    [("cust-6", "cust-6"), ("cust-6 ", "cust-6"), ("\tcust 6\r\n", "cust 6"), ("\u00a0x\u3000", "x")],
)
def test_surrounding_white_space_is_dropped_and_inner_spaces_kept(typed, normal):
    assert partner_refs.normal_form(typed) == normal


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("   ", partner_refs.BLANK),
        ("", partner_refs.BLANK),
        ("cust\t7\n", partner_refs.CONTROL),
        ("cust\x857", partner_refs.CONTROL),
        ("a\u2028b", partner_refs.CONTROL),
        ("x" * 101, partner_refs.TOO_LONG),
    ],
)
def test_what_has_no_normal_form_says_why(typed, why):
    with pytest.raises(partner_refs.UnusableRef, match=re.escape(why)):
        partner_refs.normal_form(typed)
    assert partner_refs.normal_form_or_none(typed) is None


def test_the_published_pattern_accepts_exactly_what_has_a_normal_form():
    pattern = re.compile(partner_refs.PATTERN)
    for code in range(0x3100):
        character = chr(code)
        for text in (f"a{character}b", f"{character}a", f"a{character}", character, f" {character} "):
            assert bool(pattern.match(text)) == (partner_refs.normal_form_or_none(text) is not None), repr(text)


def test_a_roster_reads_refs_in_the_same_normal_form():
    rows = list(read_csv(["partner_ref,status,plan", " cust-6 ,active,standard", "a\u00a0b,active,standard"]))
    assert rows[0] == RosterRow(2, "cust-6", "active", "standard")
    assert isinstance(rows[1], BadRow) and rows[1].partner_ref is None
