"""Errors the use cases raise; the API layer turns each into one problem+json type."""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every error a client can cause; `detail` is safe to show to the client."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(GatewayError):
    """One or more fields break a domain rule (what the schema alone cannot check)."""

    def __init__(self, errors: dict[str, str], location: str | None = None) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors
        self.location = location  # body, query or header; None: the body of a command, the query of a read


class NotFound(GatewayError):
    """The resource does not exist, or belongs to another partner (never say which)."""

    def __init__(self, resource: str, identifier: str) -> None:
        super().__init__(f"No {resource} {identifier!r}.")
        self.resource = resource


class Conflict(GatewayError):
    """The request is valid but clashes with the current state (a duplicate, a key already revoked...)."""

    def __init__(self, detail: str, **extensions: object) -> None:
        super().__init__(detail)
        self.extensions = extensions  # extra members of the problem, e.g. the allowed transitions


class StaleVersion(GatewayError):
    """If-Match named a version that is no longer current."""
