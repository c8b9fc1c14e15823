"""Settings: defaults, overridden by `GATEWAY_*` environment variables, overridden by the factory's argument."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

ENV_PREFIX = "GATEWAY_"

# name -> (type, default). Every setting the gateway reads is listed here, so the README and `--help`
# can be checked against one table.
SETTINGS: dict[str, tuple[type, Any]] = {
    "INSTANCE_PATH": (str, None),  # None: Flask's default instance folder, ./instance beside the package
    "DATABASE_URL": (str, None),  # None: a SQLite file in the instance folder
    "DATABASE_SCHEMA": (str, None),  # PostgreSQL only: schema put first on the search_path
    "MAX_BODY_BYTES": (int, 1024 * 1024),
    "MAX_ROSTER_BYTES": (int, 2 * 1024**3),  # a roster upload: millions of rows
    "MAX_BULK_BYTES": (int, 8 * 1024 * 1024),  # bulk JSON reports, e.g. 10,000 viewing times
    "KEY_ROTATION_OVERLAP_HOURS": (int, 24),
    # SQLite: how long a worker may use a key it read while the store reports no key change (0: read every time)
    "KEY_CACHE_SECONDS": (float, 60.0),
    "LOG_LEVEL": (str, "INFO"),
    "BIND": (str, "127.0.0.1:8000"),
    "WORKERS": (int, 2),
    "PUBLIC_URL": (str, None),  # how partners reach this gateway; printed by `gateway demo`
    # What this gateway is for: "production" serves live partners (no sandbox); any other name is free text.
    "ENVIRONMENT": (str, "development"),
    # A sandbox gateway's clock can be moved forward (`gateway scheduler run --now`), so that partners certify
    # every transition, the long waits included, before go-live (README: "Sandbox: making time pass").
    "SANDBOX": (bool, False),
    # Signs the agent console's session cookie. None: one generated once and kept in the instance folder,
    # so every worker sharing that folder agrees; set it when workers run on several machines.
    "SECRET_KEY": (str, None),
    "ACTIVATION_WINDOW_DAYS": (int, 30),  # a subscription nobody activates is cancelled after this
    "ACTIVATION_URL": (str, "https://streaming.example/activate"),  # where members enter their code
    "IDEMPOTENCY_TTL_HOURS": (int, 24),  # how long an Idempotency-Key and its response are kept
    # Delivery of events to partners (gateway dispatch)
    "ALLOW_PRIVATE_ENDPOINTS": (bool, False),  # http and loopback/private addresses: tests and demos only
    "DELIVERY_RETRY_SCHEDULE": (str, "5s,5m,30m,2h,5h,10h,10h,14h,20h,24h"),  # waits after each failed attempt
    "DELIVERY_TIMEOUT_SECONDS": (float, 15.0),  # one send's hard deadline: connect to the last byte read
    "DELIVERY_LEASE_SECONDS": (int, 300),  # a dispatcher that dies holding deliveries loses them after this
    "DELIVERY_ENDPOINT_CONCURRENCY": (int, 4),  # requests in flight to one endpoint (1: strictly in turn)
    "DELIVERY_CONCURRENCY": (int, 128),  # requests in flight from one dispatcher process, all endpoints
    "DELIVERY_BATCH_SIZE": (int, 100),  # events per request for partners whose flavour takes batches
    "RETRY_AFTER_MAX_SECONDS": (int, 24 * 3600),  # a partner's Retry-After is honoured up to this
    "CIRCUIT_FAILURE_THRESHOLD": (int, 5),  # consecutive failures that open an endpoint's circuit
    "CIRCUIT_PROBE_SECONDS": (int, 60),  # while open, one probe per this interval
    "ENDPOINT_DISABLE_AFTER_HOURS": (int, 5 * 24),  # an endpoint failing this long without a success is disabled
    "WEBHOOK_SECRET_OVERLAP_HOURS": (int, 24),  # after a rotation both secrets sign this long
    "EVENT_RETENTION_DAYS": (int, 30),  # the event feed keeps events at least this long
    # Notices: what members and partners are told, and when
    "SERVICE_NAME": (str, "Streamly"),  # how notice texts name the streaming service
    "KEEP_URL": (str, "https://streaming.example/keep"),  # where a warned member confirms to keep the membership
    "REJOIN_URL": (str, "https://streaming.example/rejoin"),  # where a cancelled member rejoins
    "INACTIVITY_POLICY": (str, ""),  # per market, e.g. DE=12/24,FR=6/18; elsewhere 12/24 (gateway.domain.inactivity)
    "INACTIVITY_RESPOND_DAYS": (int, 14),  # a warned member has this long to keep the membership
    "RETENTION_NOTICE_DAYS": (int, 30),  # account.retention_expiring goes this long before the purge
    "CAMPAIGN_CHUNK_SIZE": (int, 2000),  # members warned per transaction; a crash loses at most one chunk's work
    "SHARING_LEAD_DAYS": (int, 30),  # partners hear of a sharing-policy change this long before it takes effect
    "SHARING_REMINDER_SCHEDULE": (str, "3d,4d,7d"),  # waits between reminders to partners that have not acknowledged
    # Escalations from partners' call centers: the time to resolve, per priority (gateway.domain.escalations)
    "ESCALATION_SLA": (str, "urgent=4h,high=1bd,normal=3bd,low=5bd"),  # h hours, d days, bd business days
    # Surge protection (gateway.domain.rate_limits): per partner and audience; audiences left out are unlimited.
    "RATE_LIMITS": (str, "partner=200/second,callcenter=50/second;2000/minute"),
    "RATE_LIMIT_STORAGE_URL": (str, "memory://"),  # redis://host:6379/0 to share counts across workers/instances
    "RATE_LIMIT_STRATEGY": (str, "sliding-window-counter"),  # or fixed-window (limits' names)
}


# Lower bounds: a smaller value stops the start. name -> (least value, why).
MINIMUMS: dict[str, tuple[int, str]] = {
    "IDEMPOTENCY_TTL_HOURS": (24, "partners may retry a POST with the same Idempotency-Key for a day"),
    "INACTIVITY_RESPOND_DAYS": (1, "a warned member needs time to answer: a respond-by date must lie ahead"),
}


class ConfigError(ValueError):
    """A setting could not be read: the message names the variable and what was wrong."""


def check_sandbox(settings: Mapping[str, Any]) -> None:
    """A sandbox's clock runs ahead of the world's: never on a gateway that serves live partners."""
    if settings.get("SANDBOX") and settings.get("ENVIRONMENT") == "production":
        raise ConfigError(
            f"{ENV_PREFIX}SANDBOX=true is refused with {ENV_PREFIX}ENVIRONMENT=production: a sandbox's clock can be "
            "moved ahead, which would cancel and purge live members' subscriptions"
        )


def check_minimums(settings: Mapping[str, Any]) -> None:
    """Refuse a setting below its lower bound (for the environment's values and the factory's overrides alike)."""
    for name, (least, why) in MINIMUMS.items():
        value = settings.get(name)
        if value is not None and value < least:
            raise ConfigError(f"{ENV_PREFIX}{name}={value!r}: must be at least {least} ({why})")


_TRUE, _FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}


def _convert(name: str, kind: type, raw: str) -> Any:
    if kind is bool:
        if raw.lower() in _TRUE | _FALSE:
            return raw.lower() in _TRUE
        raise ConfigError(f"{ENV_PREFIX}{name}={raw!r}: expected true or false")
    if kind is float:
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{name}={raw!r}: expected a number") from None
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{name}={raw!r}: expected a whole number") from None
    return raw


def load_settings(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Defaults overlaid with the `GATEWAY_*` variables found in `environ` (the process environment by default)."""
    environ = os.environ if environ is None else environ
    settings = {}
    for name, (kind, default) in SETTINGS.items():
        raw = environ.get(ENV_PREFIX + name)
        settings[name] = default if raw in (None, "") else _convert(name, kind, raw)
    check_minimums(settings)
    check_sandbox(settings)
    return settings
