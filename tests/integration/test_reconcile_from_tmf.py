"""Reconciliation whose roster is the partner's own TMF637 inventory, read over real HTTP from a loopback server
(tests.support.tmf_inventory) into a real store, SQLite and PostgreSQL: the same job, findings and apply as an
upload; a customer's history of products; and every way a hostile or broken inventory can answer, each ending in
one typed failure within its bounds, the job failed with nothing compared.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from gateway.domain.clock import utcnow
from gateway.domain.errors import Conflict
from gateway.domain.jobs import JobStatus
from gateway.domain.lifecycle import Actor, Command
from gateway.domain.tmf_products import product_of
from gateway.domain.tmf_roster import product_row
from gateway.services import reconciliation
from gateway.services.partner_inventory import InventorySource, inventory_source, set_inventory
from gateway.services.partners import add_partner
from gateway.services.reconciliation import tmf_source
from gateway.services.reconciliation.jobs import JobAbandoned, fail
from gateway.services.reconciliation.products import ProductScratch
from gateway.services.reconciliation.tmf_source import run_from_inventory
from gateway.services.subscriptions import apply_command
from gateway.store.db import Store, make_engine
from gateway.store.models import Reconciliation, ReconciliationItem, Subscription
from partners.tmf_inventory import (
    DEFAULT_LIMITS,
    InvalidInventoryAnswer,
    InventoryChanged,
    InventoryForbidden,
    InventoryRefused,
    InventoryUnavailable,
)
from tests.support.hostile import HostileServer, drip_status_line, never_answer
from tests.support.seeding import add_subscription
from tests.support.tmf_inventory import TOKEN, InventoryServer, Reply, product, serving

# Small pages and quick retries: the tests cross page borders and spend no time waiting.
LIMITS = replace(DEFAULT_LIMITS, page_size=2, attempts=3, first_retry_wait=0.01, max_retry_wait=2.0, page_deadline=5)


def _partner(store, **states: str) -> dict[str, str]:
    """nordlink with a subscription per ref, in the given state (active, suspended, scheduled, cancelled); ids."""
    now = utcnow()
    commands = {
        "suspended": (Command.SUSPEND, "non_payment"),
        "scheduled": (Command.SCHEDULE_CANCELLATION, "member_request"),
        "cancelled": (Command.CANCEL_NOW, "partner_churn"),
    }
    with store.transaction() as session:
        add_partner(
            session, code="nordlink", display_name="N", markets=["DE"], default_locale="de", flavour="standard", now=now
        )
        ids = {}
        for ref, state in states.items():
            subscription = add_subscription(session, "nordlink", ref, now=now, active=state != "pending")
            if state in commands:
                command, reason = commands[state]
                apply_command(session, subscription, command, actor=Actor.PARTNER, reason=reason, now=now)
            ids[ref] = subscription.id
    return ids


def _reconcile(store, url: str, *, token: str | None = TOKEN, limits=LIMITS, allow_private=True, **options):
    job_id = reconciliation.start(store, "nordlink", "tmf637", utcnow())
    return job_id, run_from_inventory(
        store, job_id, InventorySource(url, token), allow_private=allow_private, limits=limits, **options
    )


def _failed(store, url: str, error: type[Exception], **options) -> tuple[str, float]:
    """Reconcile from `url`, which must fail with `error`; its message and how long it took. The job is failed with
    nothing compared."""
    started = time.monotonic()
    with pytest.raises(error) as raised:
        _reconcile(store, url, **options)
    took = time.monotonic() - started
    with store.read() as session:
        job = session.scalars(select(Reconciliation)).one()
        assert job.status == JobStatus.FAILED and job.rows == 0
        assert session.scalar(select(func.count()).select_from(ReconciliationItem)) == 0
    assert TOKEN not in str(raised.value)
    return str(raised.value), took


def _by_ref(store) -> dict[str, Subscription]:
    with store.read() as session:
        return {subscription.partner_ref: subscription for subscription in session.scalars(select(Subscription))}


def _items(store, job_id) -> dict[str, tuple]:
    with store.read() as session:
        items = reconciliation.list_items(session, job_id)
        return {item.partner_ref: (item.kind, item.line, item.repair) for item in items}


INVENTORY = [
    product("h", "terminated", product_id="h-old"),  # h came back: the ended product comes first
    product("a"),
    product("b", "suspended"),  # the partner suspended b: suspend
    product("c", plan="premium"),  # c upgraded at the partner: change the plan
    product("e"),  # the partner resumed e: resume
    product("f", "terminated"),  # f's cancellation is scheduled at the gateway: agrees
    product("h", product_id="h-new"),
    product("z"),  # only at the partner
    product("x", "created"),  # not yet pending: a bad row
    product("y", "cancelled"),  # ended, and the gateway never had y: agrees
]


def test_the_inventory_is_reconciled_like_an_upload_across_pages_and_chunks_then_applied(store):
    _partner(store, a="active", b="active", c="active", d="active", e="suspended", f="scheduled", h="active")

    with serving(INVENTORY) as server:
        job_id, pulled = _reconcile(store, server.url, chunk_rows=2)
        pages = [(request.offset, request.limit) for request in server.requests]
        tokens = {request.headers.get("authorization") for request in server.requests}

    assert pages == [(0, 2), (2, 2), (4, 2), (6, 2), (8, 2)]  # X-Total-Count says when it is over
    assert tokens == {f"Bearer {TOKEN}"}
    job = pulled.job
    assert (job.roster_format, job.status, pulled.products, job.rows) == ("tmf637", "completed", 10, 9)
    assert job.counts == {
        "bad_row": 1,
        "only_at_partner": 1,
        "only_at_gateway": 1,
        "status_mismatch": 2,
        "plan_mismatch": 1,
    }
    assert _items(store, job_id) == {
        "b": ("status_mismatch", 3, "suspend"),
        "c": ("plan_mismatch", 4, "change_plan"),
        "d": ("only_at_gateway", None, "cancel_now"),
        "e": ("status_mismatch", 5, "resume"),
        "x": ("bad_row", 9, None),
        "z": ("only_at_partner", 8, None),
    }
    report = list(csv.DictReader(io.StringIO("".join(reconciliation.report_csv(store, job_id)))))
    assert {row["partner_ref"]: row["line"] for row in report} == {
        "b": "3",
        "c": "4",
        "d": "",
        "e": "5",
        "x": "9",
        "z": "8",
    }
    assert "product 'prod-x': status 'created'" in next(row["detail"] for row in report if row["kind"] == "bad_row")

    applied = reconciliation.apply(store, job_id, now=utcnow())
    assert applied.repaired == 4
    subscriptions = _by_ref(store)
    assert {ref: subscriptions[ref].status for ref in "bcdefh"} == {
        "b": "suspended",
        "c": "active",
        "d": "cancelled",
        "e": "active",
        "f": "cancellation_scheduled",
        "h": "active",
    }
    assert subscriptions["c"].plan == "premium"

    with serving(INVENTORY) as server:
        _, again = _reconcile(store, server.url)
    assert again.job.counts == {**job.counts, "status_mismatch": 0, "plan_mismatch": 0, "only_at_gateway": 0}


def test_the_gateways_own_products_read_back_make_no_drift(store):
    """Every state a subscription can be in, shown as the gateway's own TMF637 Product and read back as the
    partner's inventory: the two agree, so the mapping goes back through the same table it came from."""
    _partner(
        store, pending="pending", active="active", suspended="suspended", scheduled="scheduled", churned="cancelled"
    )
    with store.transaction() as session:
        expired = add_subscription(session, "nordlink", "expired", active=False)
        apply_command(
            session,
            expired,
            Command.EXPIRE_ACTIVATION,
            actor=Actor.SCHEDULER,
            reason="activation_expired",
            now=utcnow(),
        )
    with store.read() as session:
        products = [
            product_of(subscription, inventory_url="https://gateway.example/tmf-api/productInventory/v4")
            for subscription in session.scalars(select(Subscription).order_by(Subscription.partner_ref))
        ]
    assert {item["status"] for item in products} == {
        "pendingActive",
        "active",
        "suspended",
        "pendingTerminate",
        "terminated",
        "cancelled",
    }

    with serving(products) as server:
        _, pulled = _reconcile(store, server.url)

    assert pulled.job.status == "completed" and pulled.job.rows == len(products) == 6
    assert set(pulled.job.counts.values()) == {0}


def test_a_customers_ended_products_give_way_to_any_other_of_theirs_and_the_first_stands_for_several():
    rows = [
        product("k", "terminated", product_id="k1"),
        product("k", "cancelled", product_id="k2"),  # churned twice: the first ended product stands for k
        product("m", "terminated", product_id="m1"),
        product("m", "created", product_id="m2"),  # a bad row outweighs the ended product: m is not compared
        product("n", "active", product_id="n1"),
        product("n", "suspended", product_id="n2"),  # two live products: both stay, the second a duplicate
        product("p", "terminated", product_id="p1"),
        {"id": "junk"},  # names no one: stays
    ]

    with ProductScratch() as scratch:
        scratch.add(product_row(line, item) for line, item in enumerate(rows, start=1))
        resolved = [(row.line, row.partner_ref, type(row).__name__) for row in scratch.rows()]

    assert resolved == [
        (1, "k", "RosterRow"),
        (4, "m", "BadRow"),
        (5, "n", "RosterRow"),
        (6, "n", "RosterRow"),
        (7, "p", "RosterRow"),
        (8, None, "BadRow"),
    ]


def test_a_server_that_caps_its_pages_and_announces_no_total_is_read_to_its_empty_page(sqlite_store):
    _partner(sqlite_store, **{f"c{index}": "active" for index in range(7)})
    products = [product(f"c{index}") for index in range(7)]
    with serving(products, max_limit=3, announce_total=False, gzip=True) as server:
        _, pulled = _reconcile(sqlite_store, server.url, limits=replace(LIMITS, page_size=5))
        offsets = [request.offset for request in server.requests]
    assert offsets == [0, 3, 6, 7]
    assert pulled.products == 7 and set(pulled.job.counts.values()) == {0}


def test_an_inventory_that_wants_no_token_is_sent_none(sqlite_store):
    _partner(sqlite_store, a="active")
    with serving([product("a")], token=None) as server:
        _, pulled = _reconcile(sqlite_store, server.url, token=None)
        assert "authorization" not in server.requests[0].headers
    assert pulled.job.status == "completed"


# --- failures -------------------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_store(sqlite_database, migrated):
    """A migrated SQLite store: what the client does is the same on either store."""
    migrated(sqlite_database)
    engine = make_engine(sqlite_database.url)
    yield Store(engine)
    engine.dispose()


def test_an_unreachable_inventory_fails_the_job_on_both_stores_and_cancels_no_one(store):
    ids = _partner(store, a="active", b="active")
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now

    message, _ = _failed(store, f"http://127.0.0.1:{port}/tmf-api/productInventory/v4", InventoryUnavailable)

    assert "the connection failed" in message and "(tried 3 times)" in message
    assert {subscription.id for subscription in _by_ref(store).values() if subscription.status == "active"} == set(
        ids.values()
    )
    with store.read() as session:
        job_id = session.scalars(select(Reconciliation.id)).one()
        with pytest.raises(Conflict, match="only a completed one can be applied"):
            reconciliation.check_applicable(session, job_id)


def test_a_refused_token_is_not_retried_and_the_message_says_what_the_inventory_said(sqlite_store):
    _partner(sqlite_store)
    with serving([product("a")], token="another") as server:
        message, _ = _failed(sqlite_store, server.url, InventoryRefused)
        assert len(server.requests) == 1
    assert "refused the gateway's token (401): Unauthorized - the bearer token is missing or wrong" in message


def test_an_outage_is_waited_out_and_the_pull_goes_on_where_it_was(sqlite_store):
    _partner(sqlite_store, a="active", b="active", c="active")

    def outage(request, number):
        if number in (2, 3):  # the second page's first two tries
            return Reply(503, b"<html>down</html>", {"Content-Type": "text/html"})
        return None

    with serving([product("a"), product("b"), product("c")], override=outage) as server:
        _, pulled = _reconcile(sqlite_store, server.url)
        offsets = [request.offset for request in server.requests]
    assert offsets == [0, 2, 2, 2]
    assert pulled.job.status == "completed" and set(pulled.job.counts.values()) == {0}


def test_retry_after_is_waited_for(sqlite_store):
    _partner(sqlite_store, a="active")
    times = []

    def busy(request, number):
        times.append(time.monotonic())
        return Reply(429, b"", {"Retry-After": "1"}) if number == 1 else None

    with serving([product("a")], override=busy) as server:
        _, pulled = _reconcile(sqlite_store, server.url)
    assert pulled.job.status == "completed" and len(times) == 2 and times[1] - times[0] >= 0.95


def test_an_outage_that_lasts_fails_after_the_tries(sqlite_store):
    _partner(sqlite_store)
    with serving([product("a")], override=lambda request, number: Reply(502)) as server:
        message, _ = _failed(sqlite_store, server.url, InventoryUnavailable)
        assert len(server.requests) == 3
    assert "answered 502 (tried 3 times)" in message


def _json_head(extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + extra


def _drip_json(connection: socket.socket, stopping: threading.Event) -> None:
    """A page's head at once, then a byte of its JSON every 0.1 s: no read waits long, the page never comes."""
    connection.sendall(_json_head(b"Content-Length: 100000\r\n\r\n["))
    while not stopping.wait(0.1):
        connection.sendall(b" ")


def _endless_json(connection: socket.socket, stopping: threading.Event) -> None:
    connection.sendall(_json_head(b"Transfer-Encoding: chunked\r\n\r\n"))
    chunk = json.dumps(product("a")).encode() + b","
    data = b"%x\r\n%s\r\n" % (len(chunk) * 100, chunk * 100)
    connection.sendall(b"5\r\n[    \r\n")
    while not stopping.is_set():
        connection.sendall(data)


def _json_gzip_bomb(connection: socket.socket, stopping: threading.Event) -> None:
    connection.sendall(_json_head(b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"))
    compressor = gzip.zlib.compressobj(9, gzip.zlib.DEFLATED, 31)
    spaces = b" " * (1024 * 1024)
    while not stopping.is_set():
        data = b"".join(compressor.compress(spaces) for _ in range(16)) + compressor.flush(gzip.zlib.Z_SYNC_FLUSH)
        connection.sendall(b"%x\r\n%s\r\n" % (len(data), data))


SLOW = replace(LIMITS, page_deadline=1.0, attempts=2)


@pytest.mark.parametrize(
    "behaviour", [_drip_json, drip_status_line(0.1), never_answer], ids=["drip-body", "drip-status", "silent"]
)
def test_a_server_that_drips_or_stays_silent_is_given_up_at_the_pages_deadline(sqlite_store, behaviour):
    _partner(sqlite_store)
    with HostileServer(behaviour) as server:
        message, took = _failed(sqlite_store, server.url, InventoryUnavailable, limits=SLOW)
    assert "no whole page within 1 s (tried 2 times)" in message
    assert took < 2 * SLOW.page_deadline + 2  # two tries, a short wait between, some slack for a busy machine


@pytest.mark.parametrize("behaviour", [_endless_json, _json_gzip_bomb], ids=["endless", "gzip-bomb"])
def test_a_body_that_never_ends_is_cut_at_the_cap_and_refused_at_once(sqlite_store, behaviour):
    _partner(sqlite_store)
    limits = replace(LIMITS, max_page_bytes=1024 * 1024)
    with HostileServer(behaviour) as server:
        message, took = _failed(sqlite_store, server.url, InvalidInventoryAnswer, limits=limits)
        assert server.requests == 1  # not retried: it would answer the same
    assert "a page larger than 1 MiB" in message and took < 5


def test_a_redirect_is_not_followed(sqlite_store):
    _partner(sqlite_store)
    with serving([product("a")]) as elsewhere:
        moved = lambda request, number: Reply(301, b"", {"Location": elsewhere.url + "/product"})  # noqa: E731
        with serving([], override=moved) as server:
            message, _ = _failed(sqlite_store, server.url, InvalidInventoryAnswer)
        assert elsewhere.requests == []
    assert "redirected (301) to 'http://127.0.0.1:" in message and "follows no redirects" in message


@pytest.mark.parametrize(
    ("reply", "said"),
    [
        (Reply(200, b"<html>maintenance</html>", {"Content-Type": "text/html"}), "answered 'text/html', not JSON"),
        (Reply(200, b"<html>maintenance</html>", {"Content-Type": "application/json"}), "the body is not JSON"),
        (Reply(200, b'{"items": []}', {"Content-Type": "application/json"}), "a JSON dict, not the array"),
        (Reply(200, b"\xff\xfe[]", {}), "the body is not JSON"),
        (Reply(200, b"[]", {"Content-Encoding": "br"}), "a body in 'br', which the gateway did not ask for"),
        (Reply(200, b"not gzip", {"Content-Encoding": "gzip"}), "not the gzip it says it is"),
        (Reply(404, b""), "no product listing there (404); the URL must be the API's base"),
        (Reply(400, b'{"reason": "\\u001b[2J limit too large"}'), "answered 400: [2J limit too large"),
        (Reply(400, b"\x1b[2J <b>bad</b>"), "answered 400: [2J <b>bad</b>"),
    ],
    ids=["html", "junk-json", "object", "not-utf8", "brotli", "false-gzip", "404", "400-tmf-error", "400-text"],
)
def test_an_answer_that_is_no_page_of_products_is_refused_at_once(sqlite_store, reply, said):
    _partner(sqlite_store)
    with serving([], override=lambda request, number: reply) as server:
        message, _ = _failed(sqlite_store, server.url, InvalidInventoryAnswer)
        assert len(server.requests) == 1
    assert said in message and "\x1b" not in message


def test_a_server_that_ignores_the_offset_is_caught_at_its_second_page(sqlite_store):
    _partner(sqlite_store)
    products = [product(f"c{index}") for index in range(4)]
    server = InventoryServer(10**9, lambda index: products[index % 2], announce_total=False)
    with server:
        message, _ = _failed(sqlite_store, server.url, InvalidInventoryAnswer)
        assert len(server.requests) == 2
    assert "does not page by offset" in message


def test_a_listing_that_never_ends_is_stopped_at_the_products_bound(sqlite_store):
    _partner(sqlite_store)
    server = InventoryServer(10**9, lambda index: product(f"c{index}"), announce_total=False)
    with server:
        message, _ = _failed(sqlite_store, server.url, InvalidInventoryAnswer, limits=replace(LIMITS, max_products=9))
        assert len(server.requests) == 5
    assert "more than 9 products listed" in message


def test_an_inventory_that_changes_while_it_is_read_fails_rather_than_miss_customers(sqlite_store):
    _partner(sqlite_store, **{f"c{index}": "active" for index in range(5)})
    products = [product(f"c{index}") for index in range(5)]

    def grows(request, number):
        if number == 2:  # a customer added while the first page was read
            server.count = 6
            products.append(product("c5"))
        return None

    server = serving(products, override=grows)
    with server:
        message, _ = _failed(sqlite_store, server.url, InventoryChanged)
    assert "X-Total-Count 5, then 6 at offset 2" in message


def test_an_inventory_that_lists_fewer_products_than_it_counts_fails_too(sqlite_store):
    _partner(sqlite_store, **{f"c{index}": "active" for index in range(5)})
    products = [product(f"c{index}") for index in range(5)]

    def one_vanished(request, number):  # six counted, five listed: one vanished meanwhile
        page = json.dumps(products[request.offset : request.offset + request.limit]).encode()
        return Reply(200, page, {"Content-Type": "application/json", "X-Total-Count": "6"})

    with serving(products, override=one_vanished) as server:
        message, _ = _failed(sqlite_store, server.url, InventoryChanged)
        assert [request.offset for request in server.requests] == [0, 2, 4, 5]
    assert "5 products listed where X-Total-Count announced 6" in message


def test_an_inventory_at_a_private_address_is_refused_before_a_request_is_sent(sqlite_store):
    _partner(sqlite_store)
    with serving([product("a")]) as server:
        message, _ = _failed(sqlite_store, server.url, InventoryForbidden, allow_private=False)
        assert server.requests == []
    assert "not a public address" in message


def test_the_configured_inventory_is_checked_again_when_private_addresses_are_no_longer_allowed(sqlite_store):
    _partner(sqlite_store)
    with sqlite_store.transaction() as session:
        set_inventory(session, "nordlink", url="http://127.0.0.1:9/inv/", token="t", allow_private=True, now=utcnow())
    with sqlite_store.read() as session:
        assert inventory_source(session, "nordlink", allow_private=True) == InventorySource(
            "http://127.0.0.1:9/inv", "t"
        )
        with pytest.raises(Conflict, match="inventory URL is not usable: The inventory must be reached over https"):
            inventory_source(session, "nordlink", allow_private=False)


def test_the_jobs_lease_is_renewed_during_the_pull_and_a_job_failed_meanwhile_stops_it(sqlite_store, monkeypatch):
    _partner(sqlite_store)
    monkeypatch.setattr(tmf_source, "LEASE_RENEWAL_SECONDS", 0.0)
    job_id = reconciliation.start(sqlite_store, "nordlink", "tmf637", utcnow())
    with sqlite_store.read() as session:
        first_lease = session.get(Reconciliation, job_id).lease_until

    def scheduler_gives_up(request, number):
        if number == 3:
            with sqlite_store.read() as session:
                assert session.get(Reconciliation, job_id).lease_until > first_lease  # renewed after pages 1, 2
            fail(sqlite_store, job_id)
        return None

    products = [product(f"c{index}") for index in range(20)]
    with serving(products, override=scheduler_gives_up) as server:
        with pytest.raises(JobAbandoned):
            run_from_inventory(
                sqlite_store, job_id, InventorySource(server.url, TOKEN), allow_private=True, limits=LIMITS
            )
        assert len(server.requests) == 3


# --- memory ----------------------------------------------------------------------------------------------------

JOB = """
import resource, sys
from dataclasses import replace
from datetime import UTC, datetime

from gateway.services import reconciliation
from gateway.services.partner_inventory import InventorySource
from gateway.services.partners import add_partner
from gateway.services.reconciliation.tmf_source import run_from_inventory
from gateway.store import migrate
from gateway.store.db import Store, make_engine
from partners.tmf_inventory import DEFAULT_LIMITS

database, url = sys.argv[1], sys.argv[2]
store = Store(make_engine(database))
migrate.upgrade(store.engine)
now = datetime.now(UTC)
with store.transaction() as session:
    add_partner(session, code="nordlink", display_name="N", markets=["DE"], default_locale="de", flavour="standard",
                now=now)
job_id = reconciliation.start(store, "nordlink", "tmf637", now)
# Chunks far smaller than either inventory, so that both runs hold as many rows at a time: what grows with the
# inventory shows, not the chunk.
pulled = run_from_inventory(store, job_id, InventorySource(url, "inventory-token"), allow_private=True,
                            limits=replace(DEFAULT_LIMITS, page_size=500), chunk_rows=1000)
print(pulled.products, pulled.job.counts["only_at_partner"], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
# As for an upload (test_reconciliation_memory.py). Batching the products themselves (not their small rows) for
# the scratch database took 25 MiB more at 20,000 products already.
GROWTH_BOUND_KIB = 16 * 1024


def _peak_kib(folder, count: int) -> int:
    with InventoryServer(count, lambda index: product(f"customer-{index:09d}")) as server:
        database = f"sqlite:///{folder / f'gateway-{count}.sqlite3'}"
        output = subprocess.run(
            [sys.executable, "-c", JOB, database, server.url], capture_output=True, text=True, check=True, timeout=600
        ).stdout
    read, only_at_partner, peak = map(int, output.split())
    assert read == only_at_partner == count  # every product was read, compared and recorded
    return peak


@pytest.mark.slow
def test_an_inventory_ten_times_larger_takes_no_more_memory(tmp_path):
    short, long = _peak_kib(tmp_path, 10_000), _peak_kib(tmp_path, 100_000)
    assert long - short < GROWTH_BOUND_KIB, f"peak {short} KiB at 10,000 products, {long} KiB at 100,000"
