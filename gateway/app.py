"""Assembles the Flask app: settings, store, logging, metrics and the API."""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask

from gateway.api import init_api
from gateway.api.http.rate_limits import install_rate_limits
from gateway.config import ENV_PREFIX, ConfigError, check_minimums, check_sandbox, load_settings
from gateway.console.views import init_console
from gateway.domain.delivery import parse_schedule
from gateway.domain.escalations import parse_sla_policy
from gateway.domain.inactivity import parse_market_policies
from gateway.domain.rate_limits import parse_audience_budgets
from gateway.logs import configure_logging, install_request_logging
from gateway.metrics import install_metrics
from gateway.runtime import EXTENSION
from gateway.services import notices, sandbox
from gateway.services.key_cache import PrincipalCache
from gateway.store.db import Store, default_sqlite_url, make_engine


class GatewayFlask(Flask):
    """Flask, with the answer to "is this hook or view a coroutine function?" remembered per function.

    Flask asks it for every hook and view on every request (`ensure_sync`), through inspect's unwrapping;
    on the status lookup that was a visible share of the app's own time, for an answer that never changes.
    """

    _coroutine_functions: dict[Callable[..., Any], bool]

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        # Keyed by the plain function: a MethodView's bound method is a new object on every request.
        plain = func.__func__ if isinstance(func, types.MethodType) else func
        if not isinstance(plain, types.FunctionType):
            return super().ensure_sync(func)  # partials and other callables: not worth keeping
        cache = self.__dict__.setdefault("_coroutine_functions", {})
        is_coroutine = cache.get(plain)
        if is_coroutine is None:
            is_coroutine = cache[plain] = inspect.iscoroutinefunction(func)
        return self.async_to_sync(func) if is_coroutine else func


def build_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the gateway. `config` overrides settings (same names as the GATEWAY_* variables, unprefixed)."""
    settings = load_settings()
    unknown = set(config or {}) - set(settings)
    if unknown:
        raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
    settings.update(config or {})
    check_minimums(settings)  # overrides too: a test or embedding app gets the same floor
    check_sandbox(settings)
    _check_notice_settings(settings)

    app = GatewayFlask(__name__, instance_path=settings["INSTANCE_PATH"], static_folder=None)
    if settings["DATABASE_URL"] is None:
        settings["DATABASE_URL"] = default_sqlite_url(app.instance_path)
    app.config["GATEWAY"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings["MAX_BODY_BYTES"]
    app.json.sort_keys = False

    configure_logging(settings["LOG_LEVEL"])
    notices.configure(settings)
    store = Store(make_engine(settings["DATABASE_URL"], settings["DATABASE_SCHEMA"]))
    app.extensions[EXTENSION] = {
        "store": store,
        "principals": PrincipalCache(store.key_changes, settings["KEY_CACHE_SECONDS"]),
    }

    if settings["SANDBOX"]:

        @app.before_request
        def on_the_sandbox_clock() -> None:
            """Every request of a sandbox gateway runs at the sandbox time (one look-up in the store each)."""
            sandbox.follow(store)

    install_request_logging(app)
    install_metrics(app)
    init_api(app)
    init_console(app)
    install_rate_limits(app)
    return app


def _check_notice_settings(settings: Mapping[str, Any]) -> None:
    """Settings with a grammar of their own are read now, so a typo stops the start instead of a campaign."""
    for name, parse in (
        ("INACTIVITY_POLICY", parse_market_policies),
        ("SHARING_REMINDER_SCHEDULE", parse_schedule),
        ("RATE_LIMITS", parse_audience_budgets),
        ("ESCALATION_SLA", parse_sla_policy),
    ):
        try:
            parse(settings[name])
        except ValueError as error:
            raise ConfigError(f"{ENV_PREFIX}{name}={settings[name]!r}: {error}") from None
