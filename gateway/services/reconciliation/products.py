"""A partner's products, one roster row per customer: the products are set down in a scratch database as they are
read, then read back in the listing's order with every ended product that another product of the same customer
outweighs left out.

A customer who cancelled and came back has an ended product (terminated) and a live one. Read as roster rows in
listing order, whichever came first would decide (a later row with the same partner_ref is a duplicate), and an
ended product first would get an active customer cancelled. So an ended product counts only when it is all the
customer has: it gives way to any product of theirs that has not ended (a bad row too: the customer is then
not compared, never cancelled), and of several ended ones the first stands for them. Several live products of one
customer stay several rows: the roster's word on that customer is unclear, and the reconciliation says so.

The scratch database is SQLite's private temporary one (an empty file name): on disk once it outgrows its
small cache, deleted when closed, apart from the gateway's store. Memory stays flat however many products there
are.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing

from gateway.domain.roster import BadRow, RosterRow, RosterStatus
from gateway.domain.tmf_roster import ProductRow

# Rows handed back per fetch from the scratch database.
FETCH_ROWS = 5_000
# SQLite's page cache for the scratch database, in KiB (negative: a size, not a page count).
CACHE_KIB = 4 * 1024


class ProductScratch:
    """The scratch database of one pull; use it in a `with` block."""

    def __init__(self) -> None:
        self._database = sqlite3.connect("", isolation_level=None)  # "": private, on disk, deleted on close
        self._database.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self._database.execute("PRAGMA journal_mode = OFF")  # scratch: nothing to recover after a crash
        self._database.execute("PRAGMA synchronous = OFF")
        self._database.execute(
            "CREATE TABLE products (line INTEGER PRIMARY KEY, partner_ref TEXT, ended INTEGER NOT NULL, "
            "status TEXT, plan TEXT, reason TEXT)"
        )

    def __enter__(self) -> ProductScratch:
        return self

    def __exit__(self, *_exc) -> None:
        self._database.close()

    def add(self, rows: Iterable[ProductRow]) -> None:
        """Set down a batch of products' rows, in one transaction."""
        values = []
        for product in rows:
            row = product.row
            if isinstance(row, BadRow):
                values.append((row.line, row.partner_ref, product.ended, None, None, row.reason))
            else:
                values.append((row.line, row.partner_ref, product.ended, row.status.value, row.plan, None))
        with self._database:
            self._database.execute("BEGIN")
            self._database.executemany("INSERT INTO products VALUES (?, ?, ?, ?, ?, ?)", values)

    def rows(self) -> Iterator[RosterRow | BadRow]:
        """The roster: a row per product in the listing's order, but for the ended products that another of the
        customer's products outweighs (before it, or not ended)."""
        # Built once every product is in: one sorted pass, cheaper than keeping it up with every insert.
        self._database.execute("CREATE INDEX products_by_customer ON products (partner_ref, ended, line)")
        with closing(self._database.cursor()) as cursor:
            cursor.execute(
                "SELECT line, partner_ref, status, plan, reason FROM products AS p "
                "WHERE NOT p.ended OR NOT EXISTS (SELECT 1 FROM products AS q WHERE q.partner_ref = p.partner_ref "
                "AND (NOT q.ended OR q.line < p.line)) ORDER BY line"
            )
            while batch := cursor.fetchmany(FETCH_ROWS):
                for line, partner_ref, status, plan, reason in batch:
                    if reason is not None:
                        yield BadRow(line, reason, partner_ref)
                    else:
                        yield RosterRow(line, partner_ref, RosterStatus(status), plan)
