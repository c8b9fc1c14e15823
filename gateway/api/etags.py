"""ETag / If-Match on versioned resources: the ETag is the resource's version number."""

from __future__ import annotations

from flask import request

from gateway.domain.errors import StaleVersion


def etag(version: int) -> str:
    return f'"v{version}"'


def expected_version() -> int | None:
    """The version If-Match asks for; None when the header is absent or `*` (no precondition)."""
    if_match = request.if_match
    if not if_match or if_match.star_tag:
        return None
    for tag in if_match.as_set(include_weak=False):
        if tag.startswith("v") and tag[1:].isdigit():
            return int(tag[1:])
    raise StaleVersion("If-Match does not name a version of this resource.")
