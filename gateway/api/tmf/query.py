"""TMF630 query conventions for the TM Forum collections: attribute selection (`fields=`), filters
(`status=active,suspended`, `orderDate.gt=2026-01-01`), and `offset`/`limit` paging answered with X-Total-Count and
X-Result-Count, 206 Partial Content for a page that is not the whole result and 200 for one that is.

A resource declares what its query takes (CollectionQuery); what a request sends is read here into plain values
(Query), refused with a TMF 400 naming the parameter when it cannot be read. The gateway's query guard refuses any
parameter a view does not declare (gateway.http.query_names), so `takes_query` declares them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Response
from werkzeug.datastructures import MultiDict

from gateway.api.tmf.errors import tmf_error

FIELDS = "fields"
OFFSET = "offset"
LIMIT = "limit"
# The attributes every selection keeps, whatever `fields=` names (TMF630: a resource is always identified).
ALWAYS_SELECTED = ("id", "href")
_WHOLE_NUMBER = re.compile("[0-9]+")
_PAST_ANY_COUNT = 10**18  # what a longer number reads as: past any offset, page or count there is
# A query string's "+" reads as a space: "…T10:00:00+02:00" sent unencoded arrives as "…T10:00:00 02:00".
_OFFSET_SENT_AS_SPACE = re.compile(r"(T[0-9:.]+) ([0-9]{2}(?::?[0-9]{2})?)$")


def shown(text: str, limit: int = 60) -> str:
    """A value as a refusal quotes it: no longer than `limit` characters (a query may carry kilobytes)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


class QueryRefused(Exception):
    """A query parameter the resource cannot read: its name and why (a TMF 400)."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message

    def response(self) -> Response:
        return tmf_error(400, "invalid-query", f"Invalid query parameter '{self.parameter}'", str(self))


class Operator(enum.StrEnum):
    """How a filter compares: `attr=value` is EQ; the others are written `attr.gt=value` and so on."""

    EQ = "eq"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"


class Kind(enum.Enum):
    """What a filterable attribute holds, and so how its values are read.

    TEXT: compared for equality, one value per parameter (repeat it for either of several; a text may hold a
    comma). CHOICE: one of known values, several as `a,b` or repeated. DATE_TIME: ISO 8601 (a date alone is its
    midnight UTC, a time without offset is UTC), compared with .gt .gte .lt .lte.
    """

    TEXT = "text"
    CHOICE = "choice"
    DATE_TIME = "date-time"


_COMPARISONS = frozenset(operator.value for operator in Operator if operator is not Operator.EQ)
OPERATORS = {
    Kind.TEXT: (Operator.EQ,),
    Kind.CHOICE: (Operator.EQ,),
    Kind.DATE_TIME: (Operator.GT, Operator.GTE, Operator.LT, Operator.LTE),
}


@dataclass(frozen=True)
class Filterable:
    kind: Kind
    choices: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Filter:
    """One condition of a query: the attribute (as the resource names it), how it compares, and the values (any
    of them matches for EQ; a single value otherwise)."""

    attribute: str
    operator: Operator
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Query:
    fields: frozenset[str] | None  # None: every attribute
    filters: tuple[Filter, ...]
    offset: int
    limit: int


@dataclass(frozen=True)
class CollectionQuery:
    """What a TMF collection's GET takes: the attributes `fields=` may name, the filterable attributes, and its
    page sizes (a larger `limit` is served as the largest: TMF630 lets a server return fewer, and the count
    headers and 206 say so)."""

    attributes: frozenset[str]
    filters: Mapping[str, Filterable] = field(default_factory=dict)
    default_limit: int = 50
    max_limit: int = 200

    def parameter_names(self) -> frozenset[str]:
        names = {FIELDS, OFFSET, LIMIT}
        for attribute, filterable in self.filters.items():
            for operator in OPERATORS[filterable.kind]:
                names.add(attribute if operator is Operator.EQ else f"{attribute}.{operator}")
        return frozenset(names)

    def read(self, args: MultiDict[str, str]) -> Query:
        """The request's query as plain values; QueryRefused for the first parameter that cannot be read."""
        filters = []
        known = self.parameter_names()
        for name in sorted(set(args)):  # sorted: the same request is refused for the same parameter every time
            if name in (FIELDS, OFFSET, LIMIT):
                continue
            if name not in known:  # the query guard refuses these first; kept for callers without it
                raise QueryRefused(name, f"Not a parameter of this query; it takes {', '.join(sorted(known))}.")
            attribute, dot, suffix = name.rpartition(".")
            operator = Operator(suffix) if dot and suffix in _COMPARISONS else Operator.EQ
            if operator is Operator.EQ:
                attribute = name
            filters.append(Filter(attribute, operator, _values(name, self.filters[attribute], args.getlist(name))))
        offset = _whole_number(args, OFFSET, 0)
        limit = min(_whole_number(args, LIMIT, self.default_limit), self.max_limit)
        return Query(read_fields(args, self.attributes), tuple(filters), offset, limit)


def read_fields(args: MultiDict[str, str], attributes: Collection[str]) -> frozenset[str] | None:
    """The attributes `fields=` selects (None: all of them): top-level names of the resource, comma-separated."""
    if FIELDS not in args:
        return None
    text = _single(args, FIELDS)
    names = [name.strip() for name in text.split(",")]
    if not text.strip() or "" in names:
        raise QueryRefused(FIELDS, "Name the attributes to return, separated by commas (e.g. fields=status,name).")
    for name in names:
        if "." in name and name.partition(".")[0] in attributes:
            message = f"Only top-level attributes can be selected; '{shown(name)}' names a part of one."
            raise QueryRefused(FIELDS, message)
        if name not in attributes:
            raise QueryRefused(FIELDS, f"'{shown(name)}' is not an attribute of this resource.")
    return frozenset(names)


def select(body: dict[str, Any], fields: frozenset[str] | None) -> dict[str, Any]:
    """The resource with only the selected attributes (and those always kept), in its own order."""
    if fields is None:
        return body
    return {name: value for name, value in body.items() if name in fields or name in ALWAYS_SELECTED}


def _single(args: MultiDict[str, str], name: str) -> str:
    values = args.getlist(name)
    if len(values) > 1:
        raise QueryRefused(name, "Give it once.")
    return values[0]


def _whole_number(args: MultiDict[str, str], name: str, default: int) -> int:
    if name not in args:
        return default
    text = _single(args, name)
    if not _WHOLE_NUMBER.fullmatch(text):
        raise QueryRefused(name, f"A whole number, 0 or more, not '{shown(text)}'.")
    return int(text) if len(text) < len(str(_PAST_ANY_COUNT)) else _PAST_ANY_COUNT


def _values(name: str, filterable: Filterable, sent: list[str]) -> tuple[Any, ...]:
    if filterable.kind is Kind.TEXT:
        return tuple(sent)
    if filterable.kind is Kind.CHOICE:
        values = tuple(value for text in sent for value in text.split(","))
        unknown = [value for value in values if value not in filterable.choices]
        if unknown:
            known = ", ".join(sorted(filterable.choices))
            raise QueryRefused(name, f"'{shown(unknown[0])}' is not one of {known}.")
        return values
    if len(sent) > 1:
        raise QueryRefused(name, "Give it once.")
    return (date_time(name, sent[0]),)


def date_time(name: str, text: str) -> datetime:
    """An ISO 8601 date or date-time as an aware UTC datetime (a date is its midnight UTC, a time without an
    offset is UTC); QueryRefused when it is neither."""
    try:
        moment = datetime.fromisoformat(_OFFSET_SENT_AS_SPACE.sub(r"\1+\2", text))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: an offset taking year 1 or 9999 past the calendar
        example = "2026-01-31 or 2026-01-31T12:00:00Z"
        raise QueryRefused(name, f"An ISO 8601 date or date-time ({example}), not '{shown(text)}'.") from None


def takes_query(names: Iterable[str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare the query parameters a TMF view takes, where the query guard (and `@requires`, which copies the
    record) reads them; put it below `@requires`."""

    def declare(view: Callable[..., Any]) -> Callable[..., Any]:
        apidoc = view.__dict__.setdefault("_apidoc", {})
        apidoc.setdefault("manual_doc", {})["parameters"] = [{"in": "query", "name": name} for name in sorted(names)]
        return view

    return declare


def json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A TMF body serialised as is (orjson: datetimes and dates as ISO 8601, several times faster than json)."""
    response = Response(orjson.dumps(body), status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response.headers.add(name, value)
    return response


def page_response(items: list[dict[str, Any]], *, total: int, offset: int) -> Response:
    """A page of a collection: 200 when it is the whole result, 206 when it is not (TMF630), and both counts."""
    whole = offset == 0 and len(items) == total
    headers = {"X-Total-Count": str(total), "X-Result-Count": str(len(items))}
    return json_response(items, 200 if whole else 206, headers)
