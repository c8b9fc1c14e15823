"""Lists bound as one parameter, on SQLite and PostgreSQL alike: `column IN (a list of values)`, and many rows
inserted by one statement.

The dispatcher's statements name hundreds of deliveries at a time. Bound as an expanding parameter, SQLAlchemy
renders, names and binds one placeholder per value at every execution, and each list length is a statement of
its own to SQLite's statement cache. One parameter instead: a JSON array read by `json_each` on SQLite, an
array compared with `= ANY` (or spread into rows by `unnest`) on PostgreSQL. Inserted with executemany, rows
cost a round of parameter handling each, and on PostgreSQL an execution each.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache

from sqlalchemy import BigInteger, Boolean, Connection, String, Table, bindparam, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import BindParameter, ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator


class _ValueList(TypeDecorator):
    """A list of ids (integers or strings) as one bound value."""

    impl = String
    cache_ok = True

    def __init__(self, integers: bool) -> None:
        super().__init__()
        self.integers = integers

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(BigInteger if self.integers else String))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value, dialect):
        return list(value) if dialect.name == "postgresql" else json.dumps(list(value))


class OneOf(ColumnElement[bool]):
    """`column` is one of the values (see one_of)."""

    type = Boolean()
    _is_implicitly_boolean = True  # a condition as it is: in a WHERE, SQLite is not given `(...) = 1`
    inherit_cache = True
    _traverse_internals = (
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement),
    )

    def __init__(self, column, values) -> None:
        self.column = column
        self.values = values


def one_of(column, values: Iterable | BindParameter) -> OneOf:
    """`column IN (values)`, the values (ids: integers or strings) bound as one parameter: given, or bound
    later to a list_parameter's name."""
    if not isinstance(values, BindParameter):
        values = bindparam(f"{column.key}_values", list(values), type_=_value_list(column))
    return OneOf(column, values)


def list_parameter(name: str, column) -> BindParameter:
    """A parameter for one_of(column, ...) in a statement built once: its list is given at execution."""
    return bindparam(name, type_=_value_list(column))


def _value_list(column) -> _ValueList:
    return _ValueList(integers=column.type.python_type is int)


@compiles(OneOf)
def _in_json_array(element: OneOf, compiler, **kw) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    return f"{column} IN (SELECT value FROM json_each({values}))"  # noqa: S608 (compiled SQL, values bound)


@compiles(OneOf, "postgresql")
def _equals_any(element: OneOf, compiler, **kw) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    return f"{column} = ANY({values})"


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict]) -> None:
    """Insert `rows` (dicts with the same keys) with one statement, each column's values bound as one list."""
    if not rows:
        return
    names = tuple(rows[0])
    dialect = connection.dialect
    columns = [table.c[name] for name in names]
    processors = [column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns]
    values = [
        [value if processor is None else processor(value) for value in (row[name] for row in rows)]
        for name, processor in zip(names, processors, strict=True)
    ]
    if dialect.name == "postgresql":
        connection.execute(_unnest_insert(table, names), {f"c{index}": column for index, column in enumerate(values)})
    else:
        connection.execute(_json_insert(table, names), {"rows": json.dumps(list(zip(*values, strict=True)))})


@cache
def _unnest_insert(table: Table, names: tuple[str, ...]):
    dialect = postgresql.dialect()
    arrays = ", ".join(
        f"CAST(:c{index} AS {table.c[name].type.compile(dialect)}[])" for index, name in enumerate(names)
    )
    return text(f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays})")  # noqa: S608


@cache
def _json_insert(table: Table, names: tuple[str, ...]):
    fields = ", ".join(f"value ->> {index}" for index in range(len(names)))
    return text(f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {fields} FROM json_each(:rows)")  # noqa: S608
