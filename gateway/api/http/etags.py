"""ETag / If-Match on versioned resources: the ETag is the resource's version number."""

from __future__ import annotations

from flask import request

from gateway.domain.errors import StaleVersion

MAX_VERSION_DIGITS = 18


def etag(version: int) -> str:
    return f'"v{version}"'


def expected_version() -> int | None:
    """The version If-Match asks for; None when the header is absent or `*` (no precondition)."""
    if_match = request.if_match
    if not if_match or if_match.star_tag:
        return None
    for tag in if_match.as_set(include_weak=False):
        digits = tag[1:]
        # ASCII digits only: a header is Latin-1, and "v²" is a digit to str.isdigit but not to int(). Versions
        # stay far below 19 digits, and int() refuses more than 4,300.
        if tag.startswith("v") and digits.isascii() and digits.isdigit() and len(digits) <= MAX_VERSION_DIGITS:
            return int(digits)
    raise StaleVersion("If-Match does not name a version of this resource.")
