"""A partner's subscriptions found as TMF637 products (GET /product): by product status, customer reference, plan
and product dates, counted and paged by offset, in the order products were ordered.

The criteria speak the product's terms; the conditions on subscriptions come from the same tables the
representation uses (gateway.domain.tmf.product_status, gateway.domain.tmf_products.TERMINATION_COLUMNS), so a
product is found by what GET shows of it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import Session

from gateway.domain.lifecycle import Status
from gateway.domain.tmf import product_status
from gateway.domain.tmf_products import TERMINATION_COLUMNS
from gateway.store.models import Subscription

# How a date criterion compares the product's date with the moment given.
COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
# The subscription's column of each product date; terminationDate depends on the status (TERMINATION_COLUMNS).
DATE_COLUMNS = {"orderDate": "created_at", "startDate": "activated_at"}
TERMINATION_DATE = "terminationDate"


@dataclass(frozen=True)
class DateCriterion:
    attribute: str  # orderDate, startDate or terminationDate
    comparison: str  # a key of COMPARISONS
    moment: datetime


@dataclass(frozen=True)
class ProductCriteria:
    """What the products must match; None (or no date criteria) matches any. Within one criterion any value
    matches; the criteria all must."""

    statuses: frozenset[str] | None = None  # product statuses (ProductStatusType values)
    customer_refs: frozenset[str] | None = None  # partner_refs, in their normal form
    plans: frozenset[str] | None = None
    dates: tuple[DateCriterion, ...] = ()


def find_products(
    session: Session, *, partner_code: str, criteria: ProductCriteria, offset: int, limit: int
) -> tuple[int, list[Subscription]]:
    """How many of the partner's products match, and the `limit` of them after the first `offset`, oldest order
    first. A purged subscription is no product: never counted, never listed."""
    conditions = [Subscription.partner_code == partner_code, Subscription.status != Status.PURGED]
    conditions += _conditions(criteria)
    total = session.scalar(select(func.count()).select_from(Subscription).where(*conditions)) or 0
    if offset >= total or limit == 0:  # nothing to read (and no offset past what a database takes)
        return total, []
    page = (
        select(Subscription)
        .where(*conditions)
        .order_by(Subscription.created_at, Subscription.id)
        .offset(offset)
        .limit(limit)
    )
    return total, list(session.scalars(page))


def _conditions(criteria: ProductCriteria) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if criteria.statuses is not None:
        conditions.append(status_condition(criteria.statuses))
    if criteria.customer_refs is not None:
        conditions.append(Subscription.partner_ref.in_(sorted(criteria.customer_refs)))
    if criteria.plans is not None:
        conditions.append(Subscription.plan.in_(sorted(criteria.plans)))
    conditions += [_date_condition(criterion) for criterion in criteria.dates]
    return conditions


def status_condition(statuses: frozenset[str]) -> ColumnElement[bool]:
    """The subscriptions whose product status is one of `statuses`, from the status table itself: a status that
    reads differently whether the subscription was ever activated (cancelled: terminated or cancelled) is told
    apart by activated_at."""
    matches = []
    for status in Status:
        activated = {was for was in (True, False) if product_status(status, was_activated=was) in statuses}
        if activated == {True, False}:
            matches.append(Subscription.status == status)
        elif activated == {True}:
            matches.append(and_(Subscription.status == status, Subscription.activated_at.is_not(None)))
        elif activated == {False}:
            matches.append(and_(Subscription.status == status, Subscription.activated_at.is_(None)))
    return or_(*matches) if matches else false()


def _date_condition(criterion: DateCriterion) -> ColumnElement[bool]:
    compare = COMPARISONS[criterion.comparison]
    if criterion.attribute != TERMINATION_DATE:
        return compare(getattr(Subscription, DATE_COLUMNS[criterion.attribute]), criterion.moment)
    return or_(
        *(
            and_(Subscription.status == status, compare(getattr(Subscription, column), criterion.moment))
            for status, column in TERMINATION_COLUMNS.items()
            if status != Status.PURGED
        )
    )
