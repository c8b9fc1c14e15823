"""Partner registry use cases: add, read, change and suspend partners; manage their webhook endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.delivery.publisher import hold_publishing
from gateway.domain import partners as rules
from gateway.domain import time_zones
from gateway.domain.delivery import CircuitState, DeliveryStatus, EndpointStatus
from gateway.domain.errors import Conflict, InvalidInput, NotFound, StaleVersion
from gateway.domain.ids import new_id
from gateway.domain.partners import PartnerStatus
from gateway.domain.rate_limits import partner_budget_errors
from gateway.store.models import Delivery, Partner, WebhookEndpoint
from partners.registry import FLAVOURS, is_known_flavour
from partners.signing import new_webhook_secret

UNCHANGED = object()  # an update argument left out, as opposed to one set to None


def _check_profile(
    markets: list[str] | None, default_locale: str | None, flavour: str | None
) -> tuple[dict, dict[str, str]]:
    """Normalised values and field errors for the parts of a partner that can change."""
    values, errors = {}, {}
    if markets is not None:
        values["markets"], market_errors = rules.normalize_markets(markets)
        errors.update(market_errors)
    if default_locale is not None:
        locale = rules.normalize_locale(default_locale)
        if locale is None:
            errors["default_locale"] = rules.NOT_A_LOCALE
        values["default_locale"] = locale
    if flavour is not None:
        if not is_known_flavour(flavour):
            errors["flavour"] = f"Unknown flavour {flavour!r}; known: {', '.join(sorted(FLAVOURS))}."
        values["flavour"] = flavour
    return values, errors


def add_partner(
    session: Session,
    *,
    code: str,
    display_name: str,
    markets: list[str],
    default_locale: str,
    flavour: str,
    webhook_urls: Sequence[str] = (),
    allow_private_endpoints: bool = False,
    now: datetime,
) -> Partner:
    values, errors = _check_profile(markets, default_locale, flavour)
    errors.update(rules.check_partner_code(code))
    for index, url in enumerate(webhook_urls):
        for message in rules.check_endpoint_url(url, allow_private=allow_private_endpoints).values():
            errors[f"webhook_urls.{index}"] = message
    if errors:
        raise InvalidInput(errors)
    if session.get(Partner, code) is not None:
        raise Conflict(f"A partner with code {code!r} already exists.")
    partner = Partner(
        code=code,
        display_name=display_name,
        status=PartnerStatus.ACTIVE,
        deliveries_paused=False,
        version=1,
        created_at=now,
        updated_at=now,
        **values,
    )
    session.add(partner)
    for url in webhook_urls:
        session.add(_new_endpoint(code, url, "", now))
    session.flush()
    return partner


def get_partner(session: Session, code: str) -> Partner:
    partner = session.get(Partner, code)
    if partner is None:
        raise NotFound("partner", code)
    return partner


def list_partners(
    session: Session,
    *,
    limit: int,
    after: str | None = None,
    status: str | None = None,
    market: str | None = None,
) -> list[Partner]:
    """Partners ordered by code, starting after the cursor's code. `market` filters in Python: markets is JSON."""
    query = select(Partner).order_by(Partner.code)
    if after is not None:
        query = query.where(Partner.code > after)
    if status is not None:
        query = query.where(Partner.status == status)
    if market is None:
        return list(session.scalars(query.limit(limit)))
    wanted = market.upper()
    return [partner for partner in session.scalars(query) if wanted in partner.markets][:limit]


def update_partner(
    session: Session,
    code: str,
    *,
    expected_version: int | None,
    now: datetime,
    display_name: str | None = None,
    markets: list[str] | None = None,
    default_locale: str | None = None,
    flavour: str | None = None,
    delivery_rate: float | object | None = UNCHANGED,
    rate_limits: dict[str, str] | object | None = UNCHANGED,
    time_zone: str | object | None = UNCHANGED,
) -> Partner:
    """Change what is given; `delivery_rate=None` removes the delivery rate, `rate_limits=None` the partner's own
    request budgets, `time_zone=None` its agents' zone; leaving any of them out keeps it."""
    partner = get_partner(session, code)
    if expected_version is not None and expected_version != partner.version:
        raise StaleVersion(f"Partner {code!r} is at version {partner.version}, not {expected_version}.")
    values, errors = _check_profile(markets, default_locale, flavour)
    if isinstance(rate_limits, dict):
        errors.update(partner_budget_errors(rate_limits))
    if time_zone is not UNCHANGED and time_zone is not None and not time_zones.is_time_zone(time_zone):
        errors["time_zone"] = time_zones.NOT_A_TIME_ZONE
    if errors:
        raise InvalidInput(errors)
    if rate_limits is not UNCHANGED:
        values["rate_limits"] = rate_limits or None
    if display_name is not None:
        values["display_name"] = display_name
    if delivery_rate is not UNCHANGED:
        values["delivery_rate"] = delivery_rate
    if time_zone is not UNCHANGED:
        values["time_zone"] = time_zone
    for name, value in values.items():
        setattr(partner, name, value)
    _touch(partner, now)
    return partner


def set_partner_status(session: Session, code: str, status: PartnerStatus, *, now: datetime) -> Partner:
    """Suspend or resume a partner. A suspended partner's keys stop working at once; its data stays."""
    partner = get_partner(session, code)
    if partner.status != status:
        partner.status = status
        _touch(partner, now)
    return partner


def _touch(partner: Partner, now: datetime) -> None:
    partner.version += 1
    partner.updated_at = now


def _new_endpoint(partner_code: str, url: str, description: str, now: datetime) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=new_id("ep"),
        partner_code=partner_code,
        url=url,
        description=description,
        status=EndpointStatus.ENABLED,
        created_at=now,
        secret=new_webhook_secret(),
        circuit_state=CircuitState.CLOSED,
        consecutive_failures=0,
    )


def add_endpoint(
    session: Session,
    partner_code: str,
    *,
    url: str,
    description: str,
    allow_private: bool = False,
    now: datetime,
) -> WebhookEndpoint:
    """A new endpoint with a fresh signing secret: the caller shows `endpoint.secret` once."""
    get_partner(session, partner_code)
    errors = rules.check_endpoint_url(url, allow_private=allow_private)
    if errors:
        raise InvalidInput(errors)
    endpoint = _new_endpoint(partner_code, url, description, now)
    session.add(endpoint)
    session.flush()
    return endpoint


def list_endpoints(session: Session, partner_code: str) -> list[WebhookEndpoint]:
    """The partner's endpoints, deleted ones left out."""
    get_partner(session, partner_code)
    query = (
        select(WebhookEndpoint)
        .where(WebhookEndpoint.partner_code == partner_code, WebhookEndpoint.status != EndpointStatus.DELETED)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.url)  # endpoints added together: by URL
    )
    return list(session.scalars(query))


def get_endpoint(session: Session, endpoint_id: str, *, partner_code: str | None = None) -> WebhookEndpoint:
    """One endpoint; when `partner_code` is given, another partner's endpoint is reported as missing, and a
    deleted one always is."""
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if (
        endpoint is None
        or endpoint.status == EndpointStatus.DELETED
        or (partner_code is not None and endpoint.partner_code != partner_code)
    ):
        raise NotFound("webhook endpoint", endpoint_id)
    return endpoint


def deleted_endpoint_reason(deleted_at: datetime) -> str:
    return f"The endpoint was deleted on {deleted_at.isoformat()}."


def remove_endpoint(session: Session, endpoint_id: str, *, now: datetime) -> int:
    """Delete an endpoint, keeping its history: its deliveries and their attempts stay on record, those still
    pending end as dead letters saying why (they cannot be replayed), and the endpoint is no longer listed,
    published to or sent to. Its signing secrets are dropped. The number of deliveries that ended so.

    On PostgreSQL the publishers' lock is held meanwhile: a publisher fanning an event out to the endpoint
    before this commits has committed first (and its delivery ends here too), one after it finds the endpoint
    deleted. SQLite has one writer at a time. A send in flight finds its lease gone: its attempt is recorded,
    the dead letter stands."""
    endpoint = get_endpoint(session, endpoint_id)
    hold_publishing(session)
    endpoint.status = EndpointStatus.DELETED
    endpoint.deleted_at = now
    endpoint.secret, endpoint.previous_secret, endpoint.previous_secret_expires_at = "", None, None
    ended = session.execute(
        update(Delivery)
        .where(Delivery.endpoint_id == endpoint_id, Delivery.status == DeliveryStatus.PENDING)
        .values(
            status=DeliveryStatus.DEAD,
            finished_at=now,
            last_error=deleted_endpoint_reason(now),
            lease_owner=None,
            lease_until=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return ended.rowcount or 0


def rotate_endpoint_secret(session: Session, endpoint_id: str, *, overlap: timedelta, now: datetime) -> WebhookEndpoint:
    """A new signing secret; the old one keeps signing alongside it for `overlap`, so the partner can switch."""
    endpoint = get_endpoint(session, endpoint_id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + overlap
    endpoint.secret = new_webhook_secret()
    return endpoint


def enable_endpoint(session: Session, endpoint_id: str) -> WebhookEndpoint:
    """Deliver to a disabled endpoint again: its waiting deliveries go out, its circuit starts closed."""
    endpoint = get_endpoint(session, endpoint_id)
    endpoint.status = EndpointStatus.ENABLED
    endpoint.disabled_reason = None
    endpoint.circuit_state = CircuitState.CLOSED
    endpoint.consecutive_failures = 0
    endpoint.circuit_retry_at = endpoint.failing_since = None
    return endpoint


def new_inbound_secret(session: Session, partner_code: str) -> str:
    """A new secret for the partner to sign its callbacks with (the old one stops verifying); shown once."""
    partner = get_partner(session, partner_code)
    partner.inbound_secret = new_webhook_secret()
    return partner.inbound_secret
