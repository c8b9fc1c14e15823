"""Delivery of outbox events to partners: publish (feed positions, one delivery per endpoint), claim under a
lease, send through the partner's adapter, record every attempt and what follows from it."""
