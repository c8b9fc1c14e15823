"""Validating events against the published catalog: the `webhooks` section of the generated OpenAPI document.

The document leaves every object open (partners must ignore unknown fields, so the gateway may add some); here
each object is closed before compiling, so an event with a key the catalog does not document fails as surely as
one missing a key or carrying a wrong type. Validators are compiled once per process.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

import jsonschema_rs
from sqlalchemy import Engine, inspect, select

from contracts.export import generated_spec
from gateway.store.models import OutboxEvent

MAX_REPORTED = 5  # failures named per store; the rest are counted


def resolve_refs(node: Any, components: Mapping[str, Any]) -> Any:
    """`node` with every `#/components/schemas/...` reference replaced by a copy of what it names."""
    if isinstance(node, list):
        return [resolve_refs(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        siblings = {key: value for key, value in node.items() if key != "$ref"}
        target = components[node["$ref"].removeprefix("#/components/schemas/")]
        return resolve_refs({**copy.deepcopy(target), **siblings}, components)
    return {key: resolve_refs(value, components) for key, value in node.items()}


def closed(schema: Any) -> Any:
    """The schema with every open object (properties listed, additionalProperties true) closed."""
    if isinstance(schema, list):
        return [closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: closed(value) for key, value in schema.items()}
    if result.get("type") == "object" and "properties" in result and result.get("additionalProperties", True) is True:
        result["additionalProperties"] = False
    return result


def published_event_schemas(spec: Mapping[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Event type -> the JSON Schema of its request body in the `webhooks` section, references resolved."""
    spec = spec or generated_spec()
    components = spec["components"]["schemas"]
    return {
        name: resolve_refs(item["post"]["requestBody"]["content"]["application/json"]["schema"], components)
        for name, item in spec["webhooks"].items()
    }


@cache
def _published() -> dict[str, dict[str, Any]]:
    return published_event_schemas()  # builds an app once per process


@cache
def _compiled(strict: bool) -> dict[str, jsonschema_rs.Validator]:
    return {
        name: jsonschema_rs.Draft202012Validator(closed(schema) if strict else schema, validate_formats=True)
        for name, schema in _published().items()
    }


def validators(strict: bool = True) -> dict[str, jsonschema_rs.Validator]:
    """One compiled validator per event type; `strict` closes every object (see the module docstring)."""
    return _compiled(strict)


def event_errors(event: Any, *, strict: bool = True) -> list[str]:
    """What is wrong with one event ([] when it matches its catalog entry)."""
    if not isinstance(event, dict):
        return [f"not an object: {event!r}"]
    validator = validators(strict=strict).get(event.get("type"))
    if validator is None:
        return [f"type {event.get('type')!r} is not in the event catalog"]
    if validator.is_valid(event):
        return []
    return [
        f"{'/'.join(map(str, error.instance_path)) or '(event)'}: {error.message}"
        for error in validator.iter_errors(event)
    ]


def invalid_events(events: Iterable[Any]) -> tuple[list[str], int]:
    """Descriptions of the first invalid events (naming each event and its errors) and how many there are."""
    reported: list[str] = []
    count = 0
    for event in events:
        errors = event_errors(event)
        if errors:
            count += 1
            if len(reported) < MAX_REPORTED:
                label = f"{event.get('type')} {event.get('id')}" if isinstance(event, dict) else "event"
                reported.append(f"{label}: {'; '.join(errors)}\n  {event}")
    return reported, count


def stored_event_problems(engine: Engine) -> str | None:
    """What is wrong with the events in this store's outbox, or None when every one matches the catalog.

    A store without an outbox (e.g. a migration test's partly built one) has nothing to check.
    """
    if not inspect(engine).has_table(OutboxEvent.__tablename__):
        return None
    with engine.connect() as connection:
        payloads = connection.scalars(select(OutboxEvent.payload).order_by(OutboxEvent.id))
        reported, count = invalid_events(payloads)
    if count == 0:
        return None
    return f"{count} emitted event(s) do not match the event catalog (contracts/events.py):\n" + "\n".join(reported)


def check_stored_events(engine: Engine) -> None:
    """AssertionError naming the events in this store that do not match the catalog, if any."""
    problems = stored_event_problems(engine)
    assert problems is None, problems
