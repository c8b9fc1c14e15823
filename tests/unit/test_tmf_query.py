"""TMF630 query conventions (gateway.api.tmf.query) read without a request: names, values, pages, selection."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from werkzeug.datastructures import MultiDict

from gateway.api.tmf.query import (
    CollectionQuery,
    Filter,
    Filterable,
    Kind,
    Operator,
    QueryRefused,
    date_time,
    select,
)

QUERY = CollectionQuery(
    attributes=frozenset({"id", "href", "name", "status", "orderDate"}),
    filters={
        "status": Filterable(Kind.CHOICE, frozenset({"active", "suspended"})),
        "relatedParty.id": Filterable(Kind.TEXT),
        "orderDate": Filterable(Kind.DATE_TIME),
    },
    default_limit=3,
    max_limit=10,
)


def read(**args):
    return QUERY.read(MultiDict([(name, value) for name, values in args.items() for value in values]))


def test_the_parameter_names_are_the_filters_with_their_operators_and_the_paging():
    assert QUERY.parameter_names() == {
        "fields",
        "offset",
        "limit",
        "status",
        "relatedParty.id",
        "orderDate.gt",
        "orderDate.gte",
        "orderDate.lt",
        "orderDate.lte",
    }


def test_without_a_query_everything_is_selected_from_the_first_page():
    query = QUERY.read(MultiDict())
    assert (query.fields, query.filters, query.offset, query.limit) == (None, (), 0, 3)


def test_a_limit_past_the_largest_page_is_served_as_the_largest():
    assert read(limit=["500"]).limit == 10
    assert read(limit=["9" * 18]).limit == 10
    assert read(limit=["9" * 5000]).limit == 10  # never converted: past any count there is
    assert read(offset=["9" * 5000]).offset == 10**18
    with pytest.raises(QueryRefused, match="limit"):
        read(limit=["٣"])  # a digit, but not one of 0-9


def test_filters_read_into_attribute_operator_and_values():
    query = read(**{"status": ["active,suspended"], "relatedParty.id": ["a,b", "c"], "orderDate.gte": ["2026-01-31"]})
    assert set(query.filters) == {
        Filter("status", Operator.EQ, ("active", "suspended")),
        Filter("relatedParty.id", Operator.EQ, ("a,b", "c")),  # a reference may hold a comma: repeat to OR
        Filter("orderDate", Operator.GTE, (datetime(2026, 1, 31, tzinfo=UTC),)),
    }


def test_a_parameter_the_query_does_not_declare_is_refused_even_without_the_guard():
    with pytest.raises(QueryRefused, match=r"^orderDate: Not a parameter"):
        read(orderDate=["2026-01-01"])


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2026-01-31", datetime(2026, 1, 31, tzinfo=UTC)),
        ("2026-01-31T12:30:00Z", datetime(2026, 1, 31, 12, 30, tzinfo=UTC)),
        ("2026-01-31T12:30:00", datetime(2026, 1, 31, 12, 30, tzinfo=UTC)),
        ("2026-01-31T14:30:00+02:00", datetime(2026, 1, 31, 12, 30, tzinfo=UTC)),
        ("2026-01-31T14:30:00 02:00", datetime(2026, 1, 31, 12, 30, tzinfo=UTC)),  # "+" arrived as a space
        ("2026-01-31T14:30:00.5 0200", datetime(2026, 1, 31, 12, 30, 0, 500000, tzinfo=UTC)),
        ("2026-01-31T10:30:00-02:00", datetime(2026, 1, 31, 12, 30, tzinfo=UTC)),
    ],
)
def test_dates_and_times_read_as_utc(text, moment):
    assert date_time("orderDate.gt", text) == moment


@pytest.mark.parametrize("text", ["", "today", "2026-13-01", "31.01.2026", "9999-12-31T23:00:00-02:00", "2026-01-31 x"])
def test_what_is_no_date_is_refused(text):
    with pytest.raises(QueryRefused, match=r"^orderDate\.gt: An ISO 8601 date"):
        date_time("orderDate.gt", text)


def test_selection_keeps_the_resources_order_and_its_identity():
    body = {"id": "1", "href": "h", "name": "n", "status": "active", "orderDate": "d"}
    assert list(select(body, frozenset({"orderDate", "name"}))) == ["id", "href", "name", "orderDate"]
    assert select(body, None) is body


def test_a_refusal_quotes_a_long_value_shortened():
    with pytest.raises(QueryRefused) as refused:
        read(limit=["x" * 5000])
    assert len(str(refused.value)) < 150 and str(refused.value).endswith("…'.")
