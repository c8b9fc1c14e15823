"""The domain's registry of event types and the published catalog name the same types, one for one."""

from __future__ import annotations

from contracts.events import CATALOG
from gateway.domain.events import EVENT_TYPE_NAMES, EventType


def test_the_catalog_documents_every_registered_event_type_and_no_other():
    assert set(CATALOG) == EVENT_TYPE_NAMES
    assert len(EVENT_TYPE_NAMES) == len(EventType)  # no two members share a name


def test_a_name_outside_the_registry_is_not_an_event_type():
    assert "subscription.cancelled" in EVENT_TYPE_NAMES
    assert "subscription.canceled" not in EVENT_TYPE_NAMES
    assert "" not in EVENT_TYPE_NAMES
