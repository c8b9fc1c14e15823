"""The partner integration gateway. `create_app` builds a configured Flask app; importing does no I/O.

The factory imports the web layer only when called, so `gateway.domain` stays importable without Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the gateway. `config` overrides settings (same names as the GATEWAY_* variables, unprefixed)."""
    from gateway.app import build_app

    return build_app(config)
