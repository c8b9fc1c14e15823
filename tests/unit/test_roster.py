"""Reading rosters and judging drift, without a store."""

from __future__ import annotations

import io
import json
import time

import pytest

from gateway.domain.lifecycle import Command, Status
from gateway.domain.roster import (
    BadRow,
    Drift,
    InvalidRoster,
    RosterFormat,
    RosterRow,
    RosterStatus,
    compare,
    read_roster,
    text_lines,
)


def rows(text: str, roster_format=RosterFormat.CSV):
    return list(read_roster(io.StringIO(text, newline=""), roster_format))


def test_csv_rows_with_columns_in_any_order_and_extra_columns():
    parsed = rows("plan,ignored,partner_ref,status\nstandard,x,c-1,active\n\npremium,y,c-2,cancelled\n")
    assert parsed == [
        RosterRow(2, "c-1", RosterStatus.ACTIVE, "standard"),
        RosterRow(4, "c-2", RosterStatus.CANCELLED, "premium"),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("c-1,paused,standard", "unknown status 'paused'"),
        ("c-1,active,platinum", "unknown plan 'platinum'"),
        (",active,standard", "missing partner_ref"),
        ("c-1,active", "2 fields where the header has 3"),
        ("x" * 101 + ",active,standard", "longer than 100"),
    ],
)
def test_bad_csv_rows_are_reported_with_their_line_and_do_not_stop_the_rest(line, reason):
    parsed = rows(f"partner_ref,status,plan\n{line}\nc-9,active,standard\n")
    assert isinstance(parsed[0], BadRow) and parsed[0].line == 2 and reason in parsed[0].reason
    assert parsed[1] == RosterRow(3, "c-9", RosterStatus.ACTIVE, "standard")


def test_a_row_is_one_line_so_a_quoted_field_cannot_carry_a_line_break_into_a_ref():
    parsed = rows('partner_ref,status,plan\n"a,active,standard\nb",active,standard\nc-2,active,standard\n')
    assert parsed[0] == BadRow(2, parsed[0].reason, None) and "unclosed quote" in parsed[0].reason
    assert parsed[1:] == [  # the next line is the next row (a ref with a quote in it: only at the partner)
        RosterRow(3, 'b"', RosterStatus.ACTIVE, "standard"),
        RosterRow(4, "c-2", RosterStatus.ACTIVE, "standard"),
    ]


@pytest.mark.parametrize("text", ["", "{}", "c-1,active,standard\n", "partner_ref,plan\nc-1,standard\n"])
def test_a_csv_without_the_header_is_refused_before_any_row(text):
    with pytest.raises(InvalidRoster, match="header must name partner_ref, status, plan"):
        read_roster(io.StringIO(text, newline=""), RosterFormat.CSV)


def test_a_header_the_csv_module_cannot_read_is_refused_not_raised():
    with pytest.raises(InvalidRoster, match="line 1: the header cannot be read"):
        read_roster(io.StringIO('"partner_ref,status,plan\n' + "x" * 140_000 + "\n", newline=""), RosterFormat.CSV)


def test_ndjson_rows_and_bad_lines():
    text = '{"partner_ref": "c-1", "status": "active", "plan": "premium"}\n[1]\n{nope\n{"partner_ref": 5}\n'
    parsed = rows(text, RosterFormat.NDJSON)
    assert parsed[0] == RosterRow(1, "c-1", RosterStatus.ACTIVE, "premium")
    assert [(row.line, row.reason) for row in parsed[1:]] == [
        (2, "not a JSON object"),
        (3, "not valid JSON"),
        (4, "missing partner_ref, status, plan"),
    ]


def test_undecodable_bytes_do_not_abort_the_upload():
    lines = text_lines(io.BytesIO(b"partner_ref,status,plan\nc-\xff,active,standard\n"))
    [row] = list(read_roster(lines, RosterFormat.CSV))
    assert row.partner_ref == "c-\ufffd"


GOOD_ROWS = 6000  # about 130 KB of rows: more than the csv module's field limit of 131,072 characters


@pytest.mark.parametrize("following", [GOOD_ROWS, 3], ids=["past-the-field-limit", "to-the-end"])
def test_an_unclosed_quote_is_a_bad_row_and_the_rows_after_it_are_still_read(following):
    good = "".join(f"c-{i},active,standard\n" for i in range(3, 3 + following))
    parsed = rows(f'partner_ref,status,plan\nc-2,active,"standard\n{good}')
    assert isinstance(parsed[0], BadRow) and parsed[0].line == 2 and parsed[0].partner_ref == "c-2"
    assert "unclosed quote" in parsed[0].reason and len(parsed[0].reason) < 300
    assert parsed[1:] == [RosterRow(i, f"c-{i}", RosterStatus.ACTIVE, "standard") for i in range(3, 3 + following)]


def test_a_field_over_the_csv_field_limit_is_a_bad_row():
    parsed = rows(f"partner_ref,status,plan,note\nc-2,active,standard,{'n' * 140_000}\nc-3,active,standard,\n")
    assert isinstance(parsed[0], BadRow) and parsed[0].line == 2 and parsed[0].partner_ref == "c-2"
    assert "longer than 131072 characters" in parsed[0].reason
    assert parsed[1:] == [RosterRow(3, "c-3", RosterStatus.ACTIVE, "standard")]


@pytest.mark.parametrize(
    ("line", "partner_ref"),
    [
        ("c-1,paused,standard", "c-1"),
        ("c-1,active,platinum", "c-1"),
        (" c-1 ,active,", "c-1"),  # missing plan; trimmed, as a good row's ref is
        ("c-1,active", "c-1"),  # too few fields: the partner_ref column is still there
        ("c-1,active,standard,extra", "c-1"),
        (",active,standard", None),
        ("  ,active,standard", None),
        ("x" * 101 + ",active,standard", None),  # no subscription can have it, nor should its prefix be protected
        ("c-1\x00,active,standard", None),
        ("c-1\x01,active,standard", None),
        ("c-\t1,active,standard", None),
    ],
)
def test_a_bad_csv_row_keeps_its_partner_ref_only_when_a_good_row_could_have_it(line, partner_ref):
    [parsed] = rows(f"partner_ref,status,plan\n{line}\n")
    assert isinstance(parsed, BadRow) and parsed.partner_ref == partner_ref


def test_a_bad_row_finds_its_partner_ref_column_wherever_the_header_puts_it():
    [parsed] = rows("status,plan,partner_ref\npaused,standard,c-7\n")
    assert isinstance(parsed, BadRow) and parsed.partner_ref == "c-7"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('partner_ref,status,plan\n"c-2,active,standard\nc-3,active,standard\n', "the quote opens in the ref"),
        (f'note,partner_ref,status,plan\n"{"n" * 140_000}",c-2,active,standard\n', "past a quoted over-limit field"),
        (f"partner_ref,status,plan\n{'c' * 140_000},active,standard\n", "the ref itself is over the limit"),
    ],
)
def test_an_unreadable_csv_row_has_no_partner_ref_when_its_line_does_not_show_it_whole(text, why):
    parsed = rows(text)
    assert isinstance(parsed[0], BadRow) and parsed[0].line == 2 and parsed[0].partner_ref is None, why


def test_bad_ndjson_rows_keep_a_partner_ref_only_when_a_good_row_could_have_it():
    lines = [
        '{"partner_ref": "c-1", "status": "paused", "plan": "standard"}',
        '{"partner_ref": " c-2 ", "status": "active"}',
        '{"partner_ref": 5, "status": "active", "plan": "standard"}',
        '{"partner_ref": "c-\\u0000", "status": "active", "plan": "standard"}',
        '{"partner_ref": "c-4", "status": "active", "plan": "standard"',
        '["c-5", "active", "standard"]',
    ]
    parsed = rows("\n".join(lines) + "\n", RosterFormat.NDJSON)
    assert all(isinstance(row, BadRow) for row in parsed)
    assert [row.partner_ref for row in parsed] == ["c-1", "c-2", None, None, None, None]


def test_an_unquoted_line_is_split_at_its_commas_and_a_ref_after_an_over_limit_field_is_kept():
    parsed = rows(f"note,partner_ref,status,plan\n{'n' * 140_000},c-2,active,standard\nx,c-3,active,standard\n")
    assert parsed[0] == BadRow(2, "a field longer than 131072 characters", "c-2")
    assert parsed[1:] == [RosterRow(3, "c-3", RosterStatus.ACTIVE, "standard")]


def test_a_quoted_field_over_two_lines_is_two_bad_rows():
    parsed = rows('partner_ref,status,plan,note\nc-2,active,standard,"two\nlines"\nc-3,active,standard,x\n')
    assert parsed[0] == BadRow(2, parsed[0].reason, "c-2") and "unclosed quote" in parsed[0].reason
    assert parsed[1] == BadRow(3, "1 fields where the header has 4", 'lines"')
    assert parsed[2:] == [RosterRow(4, "c-3", RosterStatus.ACTIVE, "standard")]


UNCLOSED = "unclosed quote: a quoted field opened on this line is not closed on it"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('"c-1",active,standard', RosterRow(2, "c-1", RosterStatus.ACTIVE, "standard")),
        (
            'c-1,"active","stan""dard"',
            BadRow(2, "unknown plan 'stan\"dard'; expected standard_with_ads, standard, premium", "c-1"),
        ),
        ('"c,1",active,standard', RosterRow(2, "c,1", RosterStatus.ACTIVE, "standard")),
        ('c-1,active,standard,"a, b"', BadRow(2, "4 fields where the header has 3", "c-1")),
        ('c-1,active,"standard', BadRow(2, UNCLOSED, "c-1")),
        ('c-1,"active,standard', BadRow(2, UNCLOSED, "c-1")),
        ('"c-1,active,standard', BadRow(2, UNCLOSED, None)),  # the quote opens in the ref: it is not whole
        ('x"c-1,active,"standard', BadRow(2, UNCLOSED, 'x"c-1')),  # a quote inside a field is a character
    ],
)
def test_a_line_with_quotes_is_read_by_the_csv_rules_on_that_line_alone(line, expected):
    assert rows(f"partner_ref,status,plan\n{line}\nc-9,active,standard\n") == [
        expected,
        RosterRow(3, "c-9", RosterStatus.ACTIVE, "standard"),
    ]


def test_quotes_opened_on_every_line_are_read_in_linear_time():
    count = 20_000
    text = "partner_ref,status,plan\n" + "".join(f'c-{i}","x\n' for i in range(count))
    started = time.perf_counter()
    parsed = rows(text)
    elapsed = time.perf_counter() - started
    assert parsed == [BadRow(i + 2, UNCLOSED, f'c-{i}"') for i in range(count)]
    assert elapsed < 5, elapsed  # about 0.05 s here; re-reading each runaway record took minutes


@pytest.mark.parametrize("ref", ["a\nb", "a\rb", "a\x00b", "a\x1fb", "a\tb", "a\x7fb"])
def test_a_partner_ref_with_a_control_character_is_a_bad_row_naming_no_one(ref):
    line = json.dumps({"partner_ref": ref, "status": "active", "plan": "standard"})
    [parsed] = rows(line + "\n", RosterFormat.NDJSON)
    assert isinstance(parsed, BadRow) and parsed.partner_ref is None
    if ref not in ("a\nb", "a\rb"):  # in a CSV, a line break ends the row
        [from_csv] = rows(f"partner_ref,status,plan\n{ref},active,standard\n")
        assert isinstance(from_csv, BadRow) and from_csv.partner_ref is None
        assert from_csv.reason == parsed.reason


@pytest.mark.parametrize(
    ("roster_format", "text"),
    [
        (RosterFormat.CSV, b"partner_ref,status,plan\r\nc-1,active,standard\r\n"),
        (RosterFormat.NDJSON, b'{"partner_ref": "c-1", "status": "active", "plan": "standard"}\n'),
    ],
)
def test_a_utf8_byte_order_mark_is_ignored(roster_format, text):
    [parsed] = list(read_roster(text_lines(io.BytesIO(b"\xef\xbb\xbf" + text)), roster_format))
    assert parsed.partner_ref == "c-1" and isinstance(parsed, RosterRow)


def row(status="active", plan="standard"):
    return RosterRow(2, "c-1", RosterStatus(status), plan)


@pytest.mark.parametrize(
    ("partner", "gateway", "kind", "repair"),
    [
        ("active", Status.ACTIVE, None, None),
        ("active", Status.PENDING_ACTIVATION, None, None),
        ("active", Status.CANCELLATION_SCHEDULED, None, None),
        ("cancelled", Status.CANCELLATION_SCHEDULED, None, None),  # the partner took the cancellation: it ends
        ("suspended", Status.CANCELLATION_SCHEDULED, Drift.STATUS_MISMATCH, None),
        ("cancelled", Status.PURGED, None, None),
        ("cancelled", None, None, None),
        ("active", None, Drift.ONLY_AT_PARTNER, None),
        ("suspended", Status.ACTIVE, Drift.STATUS_MISMATCH, Command.SUSPEND),
        ("active", Status.SUSPENDED, Drift.STATUS_MISMATCH, Command.RESUME),
        ("cancelled", Status.ACTIVE, Drift.STATUS_MISMATCH, Command.CANCEL_NOW),
        ("cancelled", Status.SUSPENDED, Drift.STATUS_MISMATCH, Command.CANCEL_NOW),
        ("active", Status.CANCELLED, Drift.STATUS_MISMATCH, None),
        ("suspended", Status.PENDING_ACTIVATION, Drift.STATUS_MISMATCH, None),
    ],
)
def test_status_drift_and_its_repair(partner, gateway, kind, repair):
    finding = compare(row(partner), gateway, "standard")
    assert (finding.kind, finding.repair) == (kind, repair) if kind else finding is None


def test_plan_drift_only_between_active_subscriptions():
    assert compare(row(plan="premium"), Status.ACTIVE, "standard").repair is Command.CHANGE_PLAN
    assert compare(row("suspended", plan="premium"), Status.SUSPENDED, "standard") is None


def test_a_scheduled_downgrade_agrees_with_a_partner_listing_either_plan():
    assert compare(row(plan="standard_with_ads"), Status.ACTIVE, "premium", "standard_with_ads") is None
    assert compare(row(plan="premium"), Status.ACTIVE, "premium", "standard_with_ads") is None


def test_a_third_plan_is_drift_whose_detail_names_the_scheduled_one():
    finding = compare(row(plan="standard"), Status.ACTIVE, "premium", "standard_with_ads")
    assert (finding.kind, finding.repair) == (Drift.PLAN_MISMATCH, Command.CHANGE_PLAN)
    assert finding.detail == "partner says standard, gateway has premium (standard_with_ads from the next period)"
    no_downgrade = compare(row(plan="standard"), Status.ACTIVE, "premium")
    assert no_downgrade.detail == "partner says standard, gateway has premium"
