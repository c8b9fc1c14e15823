"""The console's signed session cookie: who is signed in (a key id, never the token), their language and time zone,
the CSRF token.

Only requests under /console get a session at all: the API stays cookie-free, and nothing else is signed.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from gateway.console.endpoints import URL_PREFIX
from gateway.console.secret_key import instance_secret

COOKIE_NAME = "gateway_console"
CSRF_FIELD = "csrf_token"
SESSION_MAX_HOURS = 12  # one shift: afterwards the agent signs in again, whatever the key says
_SECRET = "console_secret_key"  # noqa: S105 - where the app keeps it, not the secret itself


@dataclass(frozen=True)
class Agent:
    """The signed-in agent, as re-checked on this request."""

    key_id: str
    key_prefix: str
    partner_code: str
    partner_name: str
    agent_ref: str  # the name or id the agent gave at sign-in; it signs their escalations and comments
    locale: str
    time_zone: str  # IANA name: the agent's choice, else the partner's default (gateway.console.i18n)


def _is_console_path(path: str) -> bool:
    return path == URL_PREFIX or path.startswith(URL_PREFIX + "/")


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, for console paths only, signed with the console's secret key."""

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        return URLSafeTimedSerializer(
            secret_key_of(app),
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method},
        )

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if not _is_console_path(request.path):
            return None  # a null session: the API never reads or sets a cookie
        return super().open_session(app, request)


def secret_key_of(app: Flask) -> str:
    """GATEWAY_SECRET_KEY, or the instance folder's generated key, read once per app."""
    cached = app.extensions.get(_SECRET)
    if cached is None:
        configured = app.config["GATEWAY"]["SECRET_KEY"]
        cached = app.extensions[_SECRET] = configured or instance_secret(app.instance_path)
    return cached


def install_session(app: Flask) -> None:
    app.session_interface = ConsoleSessionInterface()
    public_url = app.config["GATEWAY"]["PUBLIC_URL"] or ""
    app.config.update(
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_PATH=URL_PREFIX,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=public_url.startswith("https://"),
    )


def csrf_token() -> str:
    """This session's CSRF token, made on first use; every form carries it in a hidden field."""
    token = session.get("csrf")
    if token is None:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def csrf_ok() -> bool:
    expected, sent = session.get("csrf"), request.form.get(CSRF_FIELD, "")
    return bool(expected) and hmac.compare_digest(expected.encode(), sent.encode())


def start(key_id: str, agent_ref: str, locale: str | None, time_zone: str | None = None) -> None:
    """A fresh session for a signed-in agent: a new CSRF token too, so nothing from before sign-in carries over
    but the language and time zone the agent chose (`time_zone`: the one this browser's last session chose, which
    the sign-in form does not ask again)."""
    session.clear()
    session.update(key_id=key_id, agent=agent_ref, locale=locale or "", since=int(time.time()))
    if time_zone:  # else none: the partner's default, as on a first sign-in
        session["time_zone"] = time_zone
    csrf_token()


def signed_in_key() -> dict[str, Any] | None:
    """The key id, agent reference and locale of a session young enough to use; None otherwise."""
    key_id, since = session.get("key_id"), session.get("since")
    if not key_id or not isinstance(since, int) or time.time() - since > SESSION_MAX_HOURS * 3600:
        return None
    return {
        "key_id": key_id,
        "agent_ref": session.get("agent", ""),
        "locale": session.get("locale", ""),
        "time_zone": session.get("time_zone", ""),
    }


def choose(locale: str | None, time_zone: str | None) -> None:
    """The agent's language and time zone from now on; empty for the partner's default."""
    session.update(locale=locale or "", time_zone=time_zone or "")


def remembered_locale() -> str:
    """The language this browser's session chose, signed in or not (sign-out keeps it for the sign-in page)."""
    value = session.get("locale")
    return value if isinstance(value, str) else ""


def remembered_time_zone() -> str:
    """The time zone this browser's session chose, signed in or not (sign-out keeps it for the next sign-in)."""
    value = session.get("time_zone")
    return value if isinstance(value, str) else ""


def end(keep_choices: bool = False) -> None:
    """Sign out; with `keep_choices`, the language and time zone stay for the sign-in page and the next session."""
    kept = {"locale": remembered_locale(), "time_zone": remembered_time_zone()}
    session.clear()
    if keep_choices:
        session.update({name: value for name, value in kept.items() if value})
