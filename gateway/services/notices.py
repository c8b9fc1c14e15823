"""Notices: the text an event carries for the member or the partner's call center, and notices that change no status.

Member notices (inactivity warning, keep confirmed, inactivity cancellation, retention, rejoin, household and
extra-member notices) are written in the subscription's locale; partner notices (sharing-policy briefings) in
the partner's default locale. The event's `data.notice` holds {locale, subject, body, sms}; the partner shows
whichever fits its channel (email, app, SMS).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from gateway.config import SETTINGS
from gateway.domain.notices import template_for
from gateway.services.notice_text import renderer
from gateway.store.models import Partner, Subscription


@dataclass(frozen=True)
class NoticeSettings:
    service_name: str
    keep_url: str
    rejoin_url: str

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> NoticeSettings:
        return cls(settings["SERVICE_NAME"], settings["KEEP_URL"], settings["REJOIN_URL"])


# Set from the app's settings when the app is built (gateway.app); the defaults until then.
_settings = NoticeSettings.from_settings({name: default for name, (_, default) in SETTINGS.items()})


def configure(settings: Mapping[str, Any]) -> None:
    global _settings
    _settings = NoticeSettings.from_settings(settings)


def notice_settings() -> NoticeSettings:
    return _settings


def _partner_name(session: Session, partner_code: str) -> str:
    partner = session.get(Partner, partner_code)  # from the session's identity map after the first time
    return partner.display_name if partner is not None else partner_code


def member_notice(
    session: Session, subscription: Subscription, event_type: str, reason: str | None = None, **context: Any
) -> dict[str, str] | None:
    """The member's text for this event in the subscription's locale, or None when the event carries none."""
    template = template_for(event_type, reason)
    if template is None:
        return None
    return renderer().render(
        template,
        subscription.locale,
        service=_settings.service_name,
        partner=_partner_name(session, subscription.partner_code),
        keep_url=_settings.keep_url,
        rejoin_url=_settings.rejoin_url,
        **context,
    )


def partner_notice(partner: Partner, event_type: str, **context: Any) -> dict[str, str]:
    """A briefing for the partner's call center, in the partner's default locale."""
    template = template_for(event_type)
    if template is None:
        raise LookupError(f"{event_type} has no notice template")
    return renderer().render(
        template,
        partner.default_locale,
        service=_settings.service_name,
        partner=partner.display_name,
        **context,
    )
