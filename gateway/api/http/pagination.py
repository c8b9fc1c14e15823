"""Opaque cursors: the sort key of the last item on a page, base64url-encoded JSON."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from gateway.domain.errors import InvalidInput
from gateway.http.unstorable import unstorable_text

BAD_CURSOR = "Not a cursor this gateway issued; pass next_cursor unchanged."
MAX_NUMBER_DIGITS = 18  # below 2**63: positions and ids are BIGINT


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """The values packed by `encode_cursor`; a cursor we did not issue is a 422 on the `cursor` parameter."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError):
        values = None
    if not isinstance(values, list) or len(values) != arity or not all(isinstance(v, str) for v in values):
        raise InvalidInput({"cursor": BAD_CURSOR})
    if any(unstorable_text(value) for value in values):  # base64 hides a NUL from the request guard
        raise InvalidInput({"cursor": BAD_CURSOR})
    return values


def time_and_id_after(query: dict[str, Any]) -> tuple[datetime, str] | None:
    """The (created_at, id) position a query's cursor points after, for lists ordered oldest first."""
    if "cursor" not in query:
        return None
    created_at, identifier = decode_cursor(query["cursor"], 2)
    try:
        return datetime.fromisoformat(created_at), identifier
    except ValueError:
        raise InvalidInput({"cursor": BAD_CURSOR}) from None


def number_after(query: dict[str, Any]) -> int:
    """The numeric id a query's cursor points after (0: from the start)."""
    if "cursor" not in query:
        return 0
    [text] = decode_cursor(query["cursor"], 1)
    # ASCII digits only ("²" is a digit int() cannot read), and few enough for a 64-bit column.
    if not (text.isascii() and text.isdigit() and len(text) <= MAX_NUMBER_DIGITS):
        raise InvalidInput({"cursor": BAD_CURSOR})
    return int(text)


def page(items: list[Any], limit: int, key) -> dict[str, Any]:
    """A page body from `limit + 1` fetched items: the extra one only tells whether a next page exists."""
    has_more = len(items) > limit
    items = items[:limit]
    return {"items": items, "next_cursor": encode_cursor(key(items[-1])) if has_more and items else None}
