"""The reads on the status-lookup path (the call partners make most), run on the driver's own cursor.

At that rate SQLAlchemy's per-execute work (cache keys, result objects, type processing) costs more than the
queries themselves. The statements are fixed text with placeholders only; values are parameters; results are
converted here as the column types would convert them, column by column from the table definitions.
"""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Connection, Date, Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gateway.store.models import ApiKey, Partner, Subscription
from gateway.store.types import UTCDateTime


def _utc(value: Any) -> datetime:
    if isinstance(value, str):  # SQLite keeps timestamps as text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


def _date(value: Any) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _converter(column: Column) -> Callable[[Any], Any] | None:
    """How to turn a set value of the column into its Python type (None: as the driver gives it); unset values
    stay None without a call."""
    if isinstance(column.type, UTCDateTime):
        return _utc
    if isinstance(column.type, Date):
        return _date
    if isinstance(column.type, JSON):
        return _json
    return None


@dataclass
class RawConnection:
    """A driver connection with the driver's parameter style: the cheapest way to run a hot read.

    `pooled` connections go back to the pool on release(); kept ones (see Store.rows_connection) stay open.
    """

    dbapi: Any
    dialect: Dialect
    pooled: bool = True

    @property
    def paramstyle(self) -> str:
        return self.dialect.paramstyle

    @classmethod
    def checkout(cls, engine: Engine) -> RawConnection:
        return cls(_raw_connection(engine), engine.dialect)

    @classmethod
    def keep(cls, engine: Engine) -> RawConnection:
        """A connection of the engine's kind that leaves the pool for good: it closes when it is dropped."""
        pooled = _raw_connection(engine)
        pooled.detach()
        return cls(pooled, engine.dialect, pooled=False)

    def release(self) -> None:
        if self.pooled:
            self.dbapi.close()  # back to the pool, which rolls back whatever transaction the driver began


class _Query:
    """One fixed SELECT whose rows come back as named tuples with the columns' Python types."""

    def __init__(self, sql: str, columns: Sequence[Column], names: Sequence[str]) -> None:
        self._sql = sql  # with "?" placeholders; turned into the driver's style when run
        self._row = namedtuple("Row", names)
        self._converters = [
            (index, convert) for index, column in enumerate(columns) if (convert := _converter(column)) is not None
        ]

    def first(self, executor: Session | Connection | RawConnection, *parameters: Any):
        if isinstance(executor, RawConnection):
            dbapi, dialect = executor.dbapi, executor.dialect
        else:
            connection = executor.connection() if isinstance(executor, Session) else executor
            dbapi, dialect = connection.connection, connection.dialect
        sql = self._sql if dialect.paramstyle == "qmark" else self._sql.replace("?", "%s")
        try:
            cursor = dbapi.cursor()
            try:
                cursor.execute(sql, parameters)
                found = cursor.fetchone()
            finally:
                cursor.close()
        except dialect.loaded_dbapi.Error as error:
            raise _wrapped(error, dialect, sql, parameters) from error
        if found is None:
            return None
        values = list(found)
        for index, convert in self._converters:
            value = values[index]
            if value is not None:  # most timestamps of a row are unset: spare the call
                values[index] = convert(value)
        return self._row(*values)


def _raw_connection(engine: Engine) -> Any:
    """engine.raw_connection(), whose failure to connect is the driver's own error: raised as SQLAlchemy's."""
    try:
        return engine.raw_connection()
    except engine.dialect.loaded_dbapi.Error as error:
        raise _wrapped(error, engine.dialect, None, None) from error


def _wrapped(error: Exception, dialect: Dialect, sql: str | None, parameters: Sequence[Any] | None) -> DBAPIError:
    """The driver's error as SQLAlchemy would have raised it (an OperationalError for a lost connection, ...), so
    callers tell a store outage from a bug the same way on every path (gateway.store.outages)."""
    base = dialect.loaded_dbapi.Error
    return DBAPIError.instance(
        sql,
        parameters,
        error,
        base,
        hide_parameters=True,  # a key's prefix or a subscriber's id: not for logs
        connection_invalidated=dialect.is_disconnect(error, None, None),
        dialect=dialect,
    )


KEY_COLUMNS = [
    ApiKey.__table__.c[name]
    for name in ("id", "prefix", "secret_hash", "kind", "partner_code", "scopes", "revoked_at", "expires_at")
]
PARTNER_COLUMNS = [Partner.__table__.c.status, Partner.__table__.c.rate_limits]
KEY_BY_PREFIX = _Query(
    "SELECT api_keys.id, api_keys.prefix, api_keys.secret_hash, api_keys.kind, api_keys.partner_code, "
    "api_keys.scopes, api_keys.revoked_at, api_keys.expires_at, partners.status, partners.rate_limits "
    "FROM api_keys LEFT OUTER JOIN partners ON partners.code = api_keys.partner_code "
    "WHERE api_keys.prefix = ?",
    [*KEY_COLUMNS, *PARTNER_COLUMNS],
    [*(column.name for column in KEY_COLUMNS), "partner_status", "partner_rate_limits"],
)

_SUBSCRIPTION_COLUMNS = list(Subscription.__table__.columns)
_SELECT_SUBSCRIPTION = f"SELECT {', '.join(column.name for column in _SUBSCRIPTION_COLUMNS)} FROM subscriptions"  # noqa: S608 - column names from the table definition
SUBSCRIPTION_BY_ID = _Query(
    f"{_SELECT_SUBSCRIPTION} WHERE id = ?", _SUBSCRIPTION_COLUMNS, [c.name for c in _SUBSCRIPTION_COLUMNS]
)
PARTNERS_SUBSCRIPTION_BY_ID = _Query(
    f"{_SELECT_SUBSCRIPTION} WHERE id = ? AND partner_code = ?",
    _SUBSCRIPTION_COLUMNS,
    [c.name for c in _SUBSCRIPTION_COLUMNS],
)
