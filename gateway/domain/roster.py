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
    line: int
    reason: str
    partner_ref: str | None = None


def _check(line: int, values: dict) -> RosterRow | BadRow:
    missing = [name for name in ROSTER_FIELDS if not isinstance(values.get(name), str) or not values[name].strip()]
    reference = values.get("partner_ref") if isinstance(values.get("partner_ref"), str) else None
    if reference is not None and UNSTORABLE.search(reference):
        reference = None  # the report keeps the row's line and reason, not a reference it could not store
    if missing:
        return BadRow(line, f"missing {', '.join(missing)}", reference)
    unstorable = [name for name in ROSTER_FIELDS if UNSTORABLE.search(values[name])]
    if unstorable:
        return BadRow(line, f"{', '.join(unstorable)}: holds a NUL character or a lone surrogate", reference)
    partner_ref, status, plan = (values[name].strip() for name in ROSTER_FIELDS)
    if len(partner_ref) > 100:
        return BadRow(line, "partner_ref longer than 100 characters", partner_ref[:100])
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
    return _csv_rows(numbered, names)


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


def _csv_rows(lines: _NumberedLines, names: list[str]) -> Iterator[RosterRow | BadRow]:
    reader = csv.reader(lines)
    while True:
        lines.record.clear()
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            reader = csv.reader(lines)  # a fresh parser: the one that raised may be mid-record
            yield _unreadable(lines, error)
            continue
        if not values:
            continue
        if len(values) != len(names):
            row: RosterRow | BadRow = BadRow(lines.number, f"{len(values)} fields where the header has {len(names)}")
        else:
            row = _check(lines.number, dict(zip(names, values, strict=True)))
        if isinstance(row, BadRow) and len(lines.record) > 1:
            row = _runaway_quote(lines, row.reason)
        yield row


def _unreadable(lines: _NumberedLines, error: csv.Error) -> BadRow:
    limit = csv.field_size_limit()
    if len(lines.record) > 1:
        return _runaway_quote(lines, f"past the CSV field limit of {limit} characters")
    reason = f"a field longer than {limit} characters" if "field limit" in str(error) else f"unreadable CSV ({error})"
    return BadRow(lines.number, reason)


def _runaway_quote(lines: _NumberedLines, why: str) -> BadRow:
    """A bad row spanning lines, most likely from an unclosed quote: reported on its first line, and the lines
    after that read again as rows of their own."""
    first, last = lines.read_again_after_first()
    if len(why) > 120:
        why = why[:117] + "..."
    return BadRow(
        first,
        f"a quoted field opened here runs to line {last} and the row is not valid ({why}): an unclosed quote? "
        f"Lines {first + 1}-{last} are read again as rows",
    )


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


def compare(row: RosterRow, gateway_status: Status | None, gateway_plan: str | None) -> Finding | None:
    """The drift between one roster row and the gateway's subscription with that partner_ref (None: they agree)."""
    if gateway_status is None:
        if row.status is RosterStatus.CANCELLED:
            return None
        return Finding(Drift.ONLY_AT_PARTNER, None, "the gateway has no subscription with this partner_ref")
    seen_as = AS_PARTNER_SEES_IT[gateway_status]
    if seen_as is not row.status:
        return Finding(
            Drift.STATUS_MISMATCH,
            _status_repair(row.status, gateway_status),
            f"partner says {row.status}, gateway has {gateway_status}",
        )
    if row.status is RosterStatus.ACTIVE and gateway_plan != row.plan and gateway_status is Status.ACTIVE:
        return Finding(Drift.PLAN_MISMATCH, Command.CHANGE_PLAN, f"partner says {row.plan}, gateway has {gateway_plan}")
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
