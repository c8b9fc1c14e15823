"""A partner's roster: reading its rows (CSV or NDJSON) and comparing each with the gateway's view."""

from __future__ import annotations

import csv
import enum
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from gateway.domain.errors import InvalidInput
from gateway.domain.lifecycle import Command, Status
from gateway.domain.partner_refs import MAX_LENGTH, UnusableRef, normal_form, normal_form_or_none
from gateway.domain.plans import PLAN_RANKS

ROSTER_FIELDS = ("partner_ref", "status", "plan")
# Text no store can hold (as gateway.http.unstorable refuses in requests): a NUL, which PostgreSQL text cannot
# hold, or a lone surrogate (an NDJSON "\ud800"), which has no UTF-8 form. Such a row is a bad row of the report.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# A row's partner_ref is read in the one normal form (gateway.domain.partner_refs): one no subscription can have
# (a control character, a tab or line break inside: in a roster the sign of a broken row) makes a bad row.


class RosterStatus(enum.StrEnum):
    """How a partner describes a customer's subscription."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


# What the partner would call each gateway status. A pending activation and a scheduled cancellation are
# still billed, so the partner rightly lists them as active.
AS_PARTNER_SEES_IT = {
    Status.PENDING_ACTIVATION: RosterStatus.ACTIVE,
    Status.ACTIVE: RosterStatus.ACTIVE,
    Status.CANCELLATION_SCHEDULED: RosterStatus.ACTIVE,
    Status.SUSPENDED: RosterStatus.SUSPENDED,
    Status.CANCELLED: RosterStatus.CANCELLED,
    Status.PURGED: RosterStatus.CANCELLED,
}
LIVE_AT_GATEWAY = [status for status, seen in AS_PARTNER_SEES_IT.items() if seen is not RosterStatus.CANCELLED]
# What the partner may also rightly call a gateway status: a scheduled cancellation is one the partner has taken
# (it bills no further period), so it may already list the customer as cancelled. Not drift: cancelling at once
# would take away the rest of a period the member has paid for; the period's end cancels it.
ALSO_AS_PARTNER_SEES_IT = {Status.CANCELLATION_SCHEDULED: {RosterStatus.CANCELLED}}


# Every status and plan a good row can say, numbered. A reconciliation stores each row's pair as its number
# (its claim), so that the database can set a whole roster against the subscriptions in one ordered pass.
CLAIMS: list[tuple[RosterStatus, str]] = [(status, plan) for status in RosterStatus for plan in PLAN_RANKS]
CLAIM_NUMBERS: dict[tuple[str, str], int] = {claim: number for number, claim in enumerate(CLAIMS)}


class Drift(enum.StrEnum):
    BAD_ROW = "bad_row"
    ONLY_AT_PARTNER = "only_at_partner"
    ONLY_AT_GATEWAY = "only_at_gateway"
    STATUS_MISMATCH = "status_mismatch"
    PLAN_MISMATCH = "plan_mismatch"


class RosterFormat(enum.StrEnum):
    CSV = "csv"
    NDJSON = "ndjson"


@dataclass(frozen=True)
class RosterRow:
    line: int
    partner_ref: str
    status: RosterStatus
    plan: str


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be compared. Its partner_ref, when it has one a good row could have (see usable_ref),
    still counts as present at the partner: a typo in a status or plan must not make the customer look 'only at
    the gateway', which applying would cancel. Without one (unreadable JSON or CSV) it can protect nothing."""

    line: int
    reason: str
    partner_ref: str | None = None


def usable_ref(value: object) -> str | None:
    """The partner_ref a row names, in the normal form good rows follow (gateway.domain.partner_refs); None when
    there is none, or one no subscription can have."""
    return normal_form_or_none(value)


def _check(line: int, values: dict) -> RosterRow | BadRow:
    missing = [name for name in ROSTER_FIELDS if not isinstance(values.get(name), str) or not values[name].strip()]
    reference = usable_ref(values.get("partner_ref"))
    if missing:
        return BadRow(line, f"missing {', '.join(missing)}", reference)
    unstorable = [name for name in ROSTER_FIELDS if UNSTORABLE.search(values[name])]
    if unstorable:
        return BadRow(line, f"{', '.join(unstorable)}: holds a NUL character or a lone surrogate", reference)
    status, plan = values["status"].strip(), values["plan"].strip()
    try:
        partner_ref = normal_form(values["partner_ref"])
    except UnusableRef:
        # No subscription has such a ref (nor a prefix of a longer one: that is another customer's).
        too_long = len(values["partner_ref"]) > MAX_LENGTH
        reason = (
            f"partner_ref longer than {MAX_LENGTH} characters"
            if too_long
            else "partner_ref holds a control character or white space other than spaces"
        )
        return BadRow(line, reason)
    if status not in RosterStatus.__members__.values():
        return BadRow(line, f"unknown status {status!r}; expected active, suspended or cancelled", partner_ref)
    if plan not in PLAN_RANKS:
        return BadRow(line, f"unknown plan {plan!r}; expected {', '.join(PLAN_RANKS)}", partner_ref)
    return RosterRow(line, partner_ref, RosterStatus(status), plan)


class InvalidRoster(InvalidInput):
    """The roster as a whole cannot be read (a CSV without the required header): nothing is compared.

    Refused outright rather than reported as one bad row: comparing nothing would list every subscription
    as 'only at the gateway', and applying that would cancel them all.
    """


def read_csv(lines: Iterable[str]) -> Iterator[RosterRow | BadRow]:
    """Rows of a CSV roster with a header naming partner_ref, status and plan (any order, more columns ignored).

    A row is one line, as in NDJSON: a quoted field cannot run on over a line break. A quote left open at the
    end of its line makes that line a bad row, and the next line is the next row, so a stray quote costs one
    row, never the rows after it (dropped, their subscriptions would look 'only at the gateway'). The header is
    read at once, so a roster without one is refused before any work starts.
    """
    source = iter(lines)
    header = next(source, "")
    if header.startswith("\ufeff"):  # a byte-order mark text_lines did not see (a file opened as plain UTF-8)
        header = header[1:]
    names, unreadable = _fields(header.rstrip("\r\n"))
    if unreadable:
        raise InvalidRoster({"roster": f"line 1: the header cannot be read ({unreadable[0]})"})
    names = [name.strip() for name in names]
    if not set(ROSTER_FIELDS) <= set(names):
        raise InvalidRoster({"roster": f"line 1: the header must name {', '.join(ROSTER_FIELDS)}"})
    return _csv_rows(source, names)


def _csv_rows(lines: Iterator[str], names: list[str]) -> Iterator[RosterRow | BadRow]:
    # The last column of each name, as a row's dict of names to values takes it.
    ref_at, status_at, plan_at = (len(names) - 1 - names[::-1].index(name) for name in ROSTER_FIELDS)
    width, limit, statuses = len(names), csv.field_size_limit(), frozenset(RosterStatus.__members__.values())
    for number, text in enumerate(lines, start=2):
        line = text.rstrip("\r\n")
        if not line:
            continue
        if '"' not in line:  # most rows: no quoting, so the fields are what lies between the commas
            values = line.split(",")
            if len(line) > limit and max(map(len, values)) > limit:
                yield BadRow(number, f"a field longer than {limit} characters", _ref(values, ref_at, width))
                continue
        else:
            values, unreadable = _fields(line)
            if unreadable:
                why, whole = unreadable
                yield BadRow(number, why, usable_ref(values[ref_at]) if ref_at < whole else None)
                continue
        if len(values) != width:
            # The partner_ref column is still taken at its place: a wrong guess protects a ref nobody has (or
            # keeps one subscription out of 'only at the gateway'), while no guess could cancel a customer.
            reason = f"{len(values)} fields where the header has {width}"
            yield BadRow(number, reason, _ref(values, ref_at, width))
            continue
        partner_ref, status, plan = usable_ref(values[ref_at]), values[status_at].strip(), values[plan_at].strip()
        if status in statuses and plan in PLAN_RANKS and partner_ref is not None:
            yield RosterRow(number, partner_ref, RosterStatus(status), plan)
        else:  # a bad row: the general check finds the reason
            yield _check(number, dict(zip(names, values, strict=True)))


def _ref(values: list[str], ref_at: int, width: int) -> str | None:
    return usable_ref(values[ref_at]) if ref_at < len(values) else None


def _fields(line: str) -> tuple[list[str], tuple[str, int] | None]:
    """The fields of one line (without its line break) by the csv module's rules, and why they are not a row.

    Unreadable: (the reason, how many leading fields are whole). A quote left open at the end of the line is
    one (the fields before the open one are whole); a field over the csv module's limit another (the fields
    the line's start, cut short of the limit, shows before its last one are whole).
    """
    limit = csv.field_size_limit()
    try:
        # The line break added is read into a field only when a quote is still open at the end of the line.
        values = next(csv.reader((line + "\n",)), [""])
    except csv.Error as error:
        if "field limit" not in str(error):
            return [], (f"unreadable CSV ({error})", 0)
        try:
            shown = next(csv.reader((line[: limit - 1],)), [])
        except csv.Error:
            shown = []
        return shown, (f"a field longer than {limit} characters", max(len(shown) - 1, 0))
    if values and values[-1].endswith("\n"):
        return values, ("unclosed quote: a quoted field opened on this line is not closed on it", len(values) - 1)
    return values, None


def read_ndjson(lines: Iterable[str]) -> Iterator[RosterRow | BadRow]:
    """Rows of an NDJSON roster: one JSON object per line with partner_ref, status and plan."""
    for line, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            values = json.loads(text)
        except ValueError:
            yield BadRow(line, "not valid JSON")
            continue
        if not isinstance(values, dict):
            yield BadRow(line, "not a JSON object")
            continue
        yield _check(line, values)


def read_roster(lines: Iterable[str], roster_format: RosterFormat) -> Iterator[RosterRow | BadRow]:
    """Rows one at a time from lines of text, so a roster of millions of rows is never held in memory."""
    return read_csv(lines) if roster_format is RosterFormat.CSV else read_ndjson(lines)


def text_lines(stream: io.RawIOBase | io.BufferedIOBase) -> io.TextIOWrapper:
    """A binary stream (an upload) as lines of UTF-8 text; undecodable bytes become U+FFFD, not an abort.

    A byte-order mark at the start (Excel writes one) is dropped, so the header's first name is read as written.
    """
    buffered = stream if isinstance(stream, io.BufferedIOBase) else io.BufferedReader(stream)
    return io.TextIOWrapper(buffered, encoding="utf-8-sig", errors="replace", newline="")


@dataclass(frozen=True)
class Finding:
    kind: Drift
    repair: Command | None  # what applying the reconciliation does; None: a person must look
    detail: str


def compare(
    row: RosterRow, gateway_status: Status | None, gateway_plan: str | None, gateway_pending_plan: str | None = None
) -> Finding | None:
    """The drift between one roster row and the gateway's subscription with that partner_ref (None: they agree).

    A subscription with a downgrade scheduled for the period end (`gateway_pending_plan`) agrees with a partner
    listing either plan: the one in force or the one to come. Repairing the latter would schedule the same
    downgrade again.
    """
    if gateway_status is None:
        if row.status is RosterStatus.CANCELLED:
            return None
        return Finding(Drift.ONLY_AT_PARTNER, None, "the gateway has no subscription with this partner_ref")
    seen_as = AS_PARTNER_SEES_IT[gateway_status]
    if seen_as is not row.status and row.status not in ALSO_AS_PARTNER_SEES_IT.get(gateway_status, ()):
        return Finding(
            Drift.STATUS_MISMATCH,
            _status_repair(row.status, gateway_status),
            f"partner says {row.status}, gateway has {gateway_status}",
        )
    if (
        row.status is RosterStatus.ACTIVE
        and gateway_status is Status.ACTIVE
        and row.plan not in (gateway_plan, gateway_pending_plan)
    ):
        scheduled = f" ({gateway_pending_plan} from the next period)" if gateway_pending_plan else ""
        detail = f"partner says {row.plan}, gateway has {gateway_plan}{scheduled}"
        return Finding(Drift.PLAN_MISMATCH, Command.CHANGE_PLAN, detail)
    return None


def _status_repair(partner_status: RosterStatus, gateway_status: Status) -> Command | None:
    """The partner bills, so its word on suspension and cancellation wins; only the member can rejoin."""
    if partner_status is RosterStatus.CANCELLED:
        return Command.CANCEL_NOW
    if partner_status is RosterStatus.SUSPENDED:
        return Command.SUSPEND if gateway_status is Status.ACTIVE else None
    if gateway_status is Status.SUSPENDED:
        return Command.RESUME
    return None  # the partner says active, the gateway cancelled: only the member's rejoin can change that


def only_at_gateway() -> Finding:
    return Finding(Drift.ONLY_AT_GATEWAY, Command.CANCEL_NOW, "live at the gateway, absent from the partner's roster")
