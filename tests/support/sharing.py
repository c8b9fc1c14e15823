"""Shared by the sharing-policy tests: a valid policy body, and what a rendered notice must look like."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from gateway.services import notice_text


def expected_locale(template: str, tag: str) -> str:
    """The locale a notice in `tag` (e.g. de-DE) is written in: the nearest one the renderer has."""
    return notice_text.renderer().resolve_locale(template, tag)


def assert_notice(notice: dict[str, str] | None, template: str, tag: str) -> None:
    assert notice is not None, f"{template} carries no notice"
    assert notice["locale"] == expected_locale(template, tag)
    assert notice["subject"] and notice["body"] and notice["sms"]


def policy_body(now: datetime, **overrides: Any) -> dict[str, Any]:
    """A valid announcement: DE and AT, extra member for standard and premium, in effect in 40 days."""
    body: dict[str, Any] = {
        "markets": ["DE", "AT"],
        "rule": "one_household",
        "extra_member": {
            "plans": ["standard", "premium"],
            "prices": {"DE": {"amount": "4.99", "currency": "EUR"}, "AT": {"amount": "4.99", "currency": "EUR"}},
        },
        "effective_at": (now + timedelta(days=40)).isoformat(),
    }
    body.update(overrides)
    return body
