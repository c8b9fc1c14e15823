"""Persistence: SQLAlchemy 2 tables, the store (engine + transactions) and alembic migrations."""
