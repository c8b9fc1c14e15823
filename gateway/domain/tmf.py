"""How the gateway's subscriptions read in TM Forum terms (TMF637 Product Inventory, TMF622 Product Ordering):
one table per mapping, used by the TMF API, the hub events and the README alike.

The specs' own quirks are kept where a partner's validator expects them and avoided where they are mistakes:
events spell `timeOcurred` as TMF630 does, and the ProductStatusType value "aborted " (with its trailing space)
is never emitted — no subscription state maps to it.
"""

from __future__ import annotations

import enum

from gateway.domain.lifecycle import Status


class ProductStatus(enum.StrEnum):
    """The TMF637 ProductStatusType values the gateway emits ("created" and "aborted " are never used)."""

    PENDING_ACTIVE = "pendingActive"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    PENDING_TERMINATE = "pendingTerminate"
    TERMINATED = "terminated"
    CANCELLED = "cancelled"


# A subscription's status as a product's. A cancelled subscription reads `terminated` when it had been active
# and `cancelled` when it never was (its activation expired); a purged one is no product any more: its
# ProductDeleteEvent is sent and GET answers 404.
PRODUCT_STATUS: dict[Status, ProductStatus | None] = {
    Status.PENDING_ACTIVATION: ProductStatus.PENDING_ACTIVE,
    Status.ACTIVE: ProductStatus.ACTIVE,
    Status.SUSPENDED: ProductStatus.SUSPENDED,
    Status.CANCELLATION_SCHEDULED: ProductStatus.PENDING_TERMINATE,
    Status.CANCELLED: ProductStatus.TERMINATED,
    Status.PURGED: None,
}


def product_status(status: str, *, was_activated: bool) -> ProductStatus | None:
    """The product status of a subscription in `status`; None for a purged one (it is no product any more)."""
    if status == Status.CANCELLED and not was_activated:
        return ProductStatus.CANCELLED
    return PRODUCT_STATUS[Status(status)]


class OrderState(enum.StrEnum):
    """A TMF622 ProductOrder's (and order item's) state, as far as the gateway takes it."""

    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "inProgress"
    COMPLETED = "completed"
    FAILED = "failed"
    PARTIAL = "partial"
    CANCELLED = "cancelled"


class TmfApi(enum.StrEnum):
    """The two TM Forum APIs the gateway serves, by the name in their base path (/tmf-api/<name>/v4)."""

    PRODUCT_INVENTORY = "productInventory"
    PRODUCT_ORDERING = "productOrdering"
