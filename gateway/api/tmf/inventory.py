"""TMF637 Product Inventory: a partner's subscriptions as Products (GET /product, GET /product/{id}).

Partner keys with subscriptions:read, as GET /v1/subscriptions; another partner's product, or a purged
subscription, is a 404. One product is read on the status lookup's path (the request's hot-read connection,
gateway.store.hot_reads), so it costs about what /v1's lookup costs.
"""

from __future__ import annotations

from flask import request

from gateway.api.http import uow
from gateway.api.http.auth import current_partner_code, requires
from gateway.api.tmf.blueprints import inventory
from gateway.api.tmf.query import (
    FIELDS,
    CollectionQuery,
    Filter,
    Filterable,
    Kind,
    QueryRefused,
    json_response,
    page_response,
    read_fields,
    select,
    takes_query,
)
from gateway.domain.errors import NotFound
from gateway.domain.keys import Scope
from gateway.domain.partner_refs import UnusableRef, normal_form
from gateway.domain.plans import PLANS
from gateway.domain.tmf_products import (
    PRODUCT_ATTRIBUTES,
    PRODUCT_STATUS_TYPES,
    inventory_api_url,
    is_product,
    product_of,
)
from gateway.runtime import setting
from gateway.services import products as product_service
from gateway.services import subscriptions as subscription_service

STATUS = "status"
RELATED_PARTY_ID = "relatedParty.id"
PRODUCT_OFFERING_ID = "productOffering.id"
PRODUCT_QUERY = CollectionQuery(
    attributes=PRODUCT_ATTRIBUTES,
    filters={
        STATUS: Filterable(Kind.CHOICE, PRODUCT_STATUS_TYPES),
        RELATED_PARTY_ID: Filterable(Kind.TEXT),
        PRODUCT_OFFERING_ID: Filterable(Kind.CHOICE, frozenset(PLANS)),
        **{name: Filterable(Kind.DATE_TIME) for name in ("orderDate", "startDate", "terminationDate")},
    },
)


def _inventory_url() -> str:
    """The API's absolute base for hrefs: GATEWAY_PUBLIC_URL when set (the events' hrefs use it too), else the
    address the request came in on."""
    return inventory_api_url(setting("PUBLIC_URL") or request.root_url)


@inventory.get("/product")
@requires(Scope.SUBSCRIPTIONS_READ)
@takes_query(PRODUCT_QUERY.parameter_names())
def list_products():
    """The partner's products, oldest order first, filtered, a page at a time (TMF630)."""
    partner_code = current_partner_code()
    try:
        query = PRODUCT_QUERY.read(request.args)
        criteria = _criteria(query.filters, partner_code)
    except QueryRefused as refused:
        return refused.response()
    with uow.reading() as session:
        total, found = product_service.find_products(
            session, partner_code=partner_code, criteria=criteria, offset=query.offset, limit=query.limit
        )
        base = _inventory_url()
        items = [select(product_of(subscription, inventory_url=base), query.fields) for subscription in found]
    return page_response(items, total=total, offset=query.offset)


@inventory.get("/product/<product_id>")
@requires(Scope.SUBSCRIPTIONS_READ)
@takes_query((FIELDS,))
def get_product(product_id: str):
    """One product."""
    fields = None
    if request.query_string:  # the lookup without a query reads no arguments at all
        try:
            fields = read_fields(request.args, PRODUCT_ATTRIBUTES)
        except QueryRefused as refused:
            return refused.response()
    try:
        row = subscription_service.read_subscription(
            uow.request_rows(), product_id, partner_code=current_partner_code()
        )
    except NotFound:
        row = None
    if row is None or not is_product(row.status):  # a purged subscription is no product: gone, as an unknown id
        raise NotFound("product", product_id)
    return json_response(select(product_of(row, inventory_url=_inventory_url()), fields))


def _criteria(filters: tuple[Filter, ...], partner_code: str) -> product_service.ProductCriteria:
    """The query's filters in the product service's terms."""
    statuses = customers = plans = None
    dates = []
    for item in filters:
        if item.attribute == STATUS:  # a parameter's repeats and commas are one filter's values already
            statuses = frozenset(item.values)
        elif item.attribute == PRODUCT_OFFERING_ID:
            plans = frozenset(item.values)
        elif item.attribute == RELATED_PARTY_ID:
            customers = _customer_refs(item.values, partner_code)
        else:
            dates.append(product_service.DateCriterion(item.attribute, str(item.operator), item.values[0]))
    return product_service.ProductCriteria(statuses, customers, plans, tuple(dates))


def _customer_refs(values: tuple[str, ...], partner_code: str) -> frozenset[str] | None:
    """relatedParty.id names either party: the partner itself (a party of every product it sees, so no
    restriction) or a customer by the partner's reference, read in its normal form like everywhere else."""
    if partner_code in values:
        return None
    try:
        return frozenset(normal_form(value) for value in values)
    except UnusableRef as unusable:
        raise QueryRefused(RELATED_PARTY_ID, f"Not a customer reference: {unusable}") from None
