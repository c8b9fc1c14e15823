"""Standard Webhooks signing and verification, with the `standardwebhooks` reference package."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

SECRET_PREFIX = "whsec_"  # noqa: S105 - the marker of the format, not a secret

__all__ = ["WebhookVerificationError", "new_webhook_secret", "signature_header", "signed_headers", "verify"]


def new_webhook_secret() -> str:
    """A fresh whsec_ secret: 32 random bytes, base64 (the form the reference libraries read)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature_header(secrets_in_use: Sequence[str], message_id: str, timestamp: datetime, body: str) -> str:
    """`v1,<sig>` for each secret, space-separated: during a rotation's overlap both the new and the old sign."""
    return " ".join(Webhook(secret).sign(message_id, timestamp, body) for secret in secrets_in_use)


def signed_headers(secrets_in_use: Sequence[str], message_id: str, timestamp: datetime, body: str) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature_header(secrets_in_use, message_id, timestamp, body),
    }


def verify(secrets_in_use: Sequence[str], body: bytes, headers: dict[str, str]) -> None:
    """Raise WebhookVerificationError unless one of the secrets signed the body (within 5 minutes of now)."""
    failure: WebhookVerificationError | None = None
    for secret in secrets_in_use:
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
            return
        except WebhookVerificationError as error:
            failure = error
    raise failure or WebhookVerificationError("No secret to verify with")
