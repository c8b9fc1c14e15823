"""Helpers the tests import: stores, seeded data, API calls, delivery dispatchers, receivers and fault servers."""
