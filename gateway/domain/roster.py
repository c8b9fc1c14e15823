"""A partner's roster: reading its rows (CSV or NDJSON) and comparing each with the gateway's view."""

from __future__ import annotations

import csv
import enum
import io
import json
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from gateway.domain.errors import InvalidInput
from gateway.domain.lifecycle import Command, Status
from gateway.domain.plans import PLAN_RANKS

ROSTER_FIELDS = ("partner_ref", "status", "plan")
# Text no store can hold (as gateway.api.unstorable refuses in requests): a NUL, which PostgreSQL text cannot
# hold, or a lone surrogate (an NDJSON "\ud800"), which has no UTF-8 form. Such a row is a bad row of the report.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


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
    """The partner_ref a row names, by the rule good rows follow (text, trimmed, 1-100 characters, storable);
    None when there is none, or one no subscription can have."""
    if not isinstance(value, str):
        return None
    reference = value.strip()
    if not reference or len(reference) > 100 or UNSTORABLE.search(reference):
        return None
    return reference


def _check(line: int, values: dict) -> RosterRow | BadRow:
    missing = [name for name in ROSTER_FIELDS if not isinstance(values.get(name), str) or not values[name].strip()]
    reference = usable_ref(values.get("partner_ref"))
    if missing:
        return BadRow(line, f"missing {', '.join(missing)}", reference)
    unstorable = [name for name in ROSTER_FIELDS if UNSTORABLE.search(values[name])]
    if unstorable:
        return BadRow(line, f"{', '.join(unstorable)}: holds a NUL character or a lone surrogate", reference)
    partner_ref, status, plan = (values[name].strip() for name in ROSTER_FIELDS)
    if len(partner_ref) > 100:  # no subscription has such a ref (nor a prefix of it: that is another customer's)
        return BadRow(line, "partner_ref longer than 100 characters")
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

    The header is read at once, so a roster without one is refused before any work starts.
    """
    numbered = _NumberedLines(lines)
    try:
        header = next(csv.reader(numbered), None)
    except csv.Error as error:
        raise InvalidRoster({"roster": f"line 1: the header cannot be read ({error})"}) from None
    names = [name.strip() for name in header or []]
    if not set(ROSTER_FIELDS) <= set(names):
        raise InvalidRoster({"roster": f"line 1: the header must name {', '.join(ROSTER_FIELDS)}"})
    return _csv_rows(numbered, names, len(names) - 1 - names[::-1].index("partner_ref"))


class _NumberedLines:
    """The lines csv.reader reads, numbered, with those of the record being read kept so they can be read again.

    A stray quote makes the csv module read every line after it as one quoted field, up to the next quote or
    its field limit (131,072 characters), where it raises. Those lines are rows of their own: dropping them
    would list their subscriptions as 'only at the gateway', and applying that would cancel them. So they are
    handed out once more. Only one record's lines are kept, about as much as the csv module holds itself.
    """

    def __init__(self, lines: Iterable[str]) -> None:
        self._source = iter(lines)
        self._again: deque[tuple[int, str]] = deque()
        self._read = 0
        self.number = 0  # of the line handed out last
        self.record: list[tuple[int, str]] = []

    def __iter__(self) -> _NumberedLines:
        return self

    def __next__(self) -> str:
        if self._again:
            self.number, text = self._again.popleft()
        else:
            text = next(self._source)
            self._read += 1
            self.number = self._read
        self.record.append((self.number, text))
        return text

    def read_again_after_first(self) -> tuple[int, int]:
        """Hand out the current record's lines once more, all but its first; its first and last line numbers."""
        first, last = self.record[0][0], self.record[-1][0]
        self._again.extendleft(reversed(self.record[1:]))
        return first, last


def _csv_rows(lines: _NumberedLines, names: list[str], ref_at: int) -> Iterator[RosterRow | BadRow]:
    """`ref_at`: the partner_ref column (the last one so named, as a row's dict of names to values takes it)."""
    reader = csv.reader(lines)
    while True:
        lines.record.clear()
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            reader = csv.reader(lines)  # a fresh parser: the one that raised may be mid-record
            yield _unreadable(lines, error, ref_at)
            continue
        if not values:
            continue
        if len(values) != len(names):
            # The partner_ref column is still taken at its place: a wrong guess protects a ref nobody has (or
            # keeps one subscription out of 'only at the gateway'), while no guess could cancel a customer.
            reference = usable_ref(values[ref_at]) if ref_at < len(values) else None
            reason = f"{len(values)} fields where the header has {len(names)}"
            row: RosterRow | BadRow = BadRow(lines.number, reason, reference)
        else:
            row = _check(lines.number, dict(zip(names, values, strict=True)))
        if isinstance(row, BadRow) and len(lines.record) > 1:
            row = _runaway_quote(lines, row.reason, ref_at)
        yield row


def _unreadable(lines: _NumberedLines, error: csv.Error, ref_at: int) -> BadRow:
    limit = csv.field_size_limit()
    if len(lines.record) > 1:
        return _runaway_quote(lines, f"past the CSV field limit of {limit} characters", ref_at)
    reason = f"a field longer than {limit} characters" if "field limit" in str(error) else f"unreadable CSV ({error})"
    return BadRow(lines.number, reason, _ref_on_first_line(lines, ref_at))


def _runaway_quote(lines: _NumberedLines, why: str, ref_at: int) -> BadRow:
    """A bad row spanning lines, most likely from an unclosed quote: reported on its first line, and the lines
    after that read again as rows of their own."""
    reference = _ref_on_first_line(lines, ref_at)
    first, last = lines.read_again_after_first()
    if len(why) > 120:
        why = why[:117] + "..."
    return BadRow(
        first,
        f"a quoted field opened here runs to line {last} and the row is not valid ({why}): an unclosed quote? "
        f"Lines {first + 1}-{last} are read again as rows",
        reference,
    )


def _ref_on_first_line(lines: _NumberedLines, ref_at: int) -> str | None:
    """The partner_ref of a record the csv module could not read, when its first line shows it whole.

    The first line is read on its own, cut short of the field limit. Every field but the last it yields was
    ended by a delimiter, so it is whole; the last may be the unclosed quote, or cut, so it is not trusted.
    """
    if not lines.record:
        return None
    text = lines.record[0][1][: csv.field_size_limit() - 1]
    try:
        fields = next(csv.reader([text]), [])
    except csv.Error:
        return None
    return usable_ref(fields[ref_at]) if ref_at < len(fields) - 1 else None


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
