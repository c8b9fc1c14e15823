"""Pure domain rules: no Flask, SQLAlchemy or HTTP here."""
