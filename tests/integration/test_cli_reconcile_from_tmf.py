"""`gateway partner set-inventory|clear-inventory` and `gateway reconcile PARTNER --from-tmf` against a real SQLite
store and a real loopback TMF637 inventory: the token taken from a file or stdin and never shown, URLs held to the
endpoint rules, the drift printed, applied and reported as for a file, and a failed pull one clear line."""

from __future__ import annotations

import csv
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from gateway.cli import cli
from gateway.store.db import Store, make_engine
from gateway.store.models import Partner, Reconciliation, Subscription
from tests.support.seeding import add_subscription
from tests.support.tmf_inventory import TOKEN, product, serving

INVENTORY = [product("keep"), product("to-suspend", "suspended"), product("newcomer")]


@pytest.fixture
def store(run, sqlite_database, monkeypatch):
    """The CLI's store with nordlink and three active subscriptions (keep, to-suspend, forgotten); the loopback
    inventory needs private endpoints allowed."""
    monkeypatch.setenv("GATEWAY_ALLOW_PRIVATE_ENDPOINTS", "true")
    run("partner", "add", "nordlink", "--name", "N", "--market", "DE", "--locale", "de")
    store = Store(make_engine(sqlite_database.url))
    with store.transaction() as session:
        for ref in ("keep", "to-suspend", "forgotten"):
            add_subscription(session, "nordlink", ref)
    yield store
    store.dispose()


@pytest.fixture
def token_file(tmp_path):
    path = tmp_path / "inventory.token"
    path.write_text(TOKEN + "\n")
    return path


def _stdin(args: list[str], text: str):
    return CliRunner().invoke(cli, args, input=text, catch_exceptions=False)


def _partner(store) -> Partner:
    with store.read() as session:
        return session.get(Partner, "nordlink")


def test_the_token_comes_from_a_file_or_stdin_and_is_never_shown(run, store, token_file):
    with serving(INVENTORY) as server:
        result = run("partner", "set-inventory", "nordlink", "--url", server.url + "/", "--token-file", str(token_file))
        assert result.output == f"partner nordlink reads its inventory at {server.url} (token set)\n"
        shown = run("partner", "show", "nordlink").output
        assert f"inventory:\n  {server.url} (token set)\n" in shown and TOKEN not in shown
        assert (_partner(store).inventory_url, _partner(store).inventory_token) == (server.url, TOKEN)

        again = _stdin(["partner", "set-inventory", "nordlink", "--url", server.url, "--token-stdin"], "s3cret\r\n")
        assert again.exit_code == 0 and "s3cret" not in again.output
        assert _partner(store).inventory_token == "s3cret"

        run("partner", "set-inventory", "nordlink", "--url", server.url, "--no-token")
        assert _partner(store).inventory_token is None
        assert "(no token)" in run("partner", "show", "nordlink").output


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("ftp://inventory.example/v4", "--url 'ftp://inventory.example/v4': An absolute http(s) URL with a host"),
        ("https://inventory.example/productInventory/v4/product", "without /product: the gateway adds it."),
        ("https://inventory.example/productInventory/v4?page=1", "without a query or fragment"),
    ],
)
def test_a_url_that_is_no_inventory_base_is_refused(run, store, token_file, url, said):
    result = run("partner", "set-inventory", "nordlink", "--url", url, "--token-file", str(token_file), ok=False)
    assert result.exit_code == 1 and said in result.output
    assert _partner(store).inventory_url is None


def test_without_private_endpoints_an_inventory_must_be_https_and_public(run, store, token_file, monkeypatch):
    monkeypatch.setenv("GATEWAY_ALLOW_PRIVATE_ENDPOINTS", "false")
    for url, said in [
        ("http://inventory.example/v4", "must be reached over https"),
        ("https://127.0.0.1/v4", "must be public: loopback, private and link-local hosts are not allowed"),
        ("https://inventory.internal/v4", "must be public"),
    ]:
        result = run("partner", "set-inventory", "nordlink", "--url", url, "--token-file", str(token_file), ok=False)
        assert result.exit_code == 1 and said in result.output
    assert run("partner", "set-inventory", "nordlink", "--url", "https://inventory.example/v4", "--no-token")


@pytest.mark.parametrize("token", ["two words", "line\nbreak", "", "tøken", "x" * 4097, "y" * 100_000])
def test_a_token_no_authorization_header_can_carry_is_refused_and_not_echoed(run, store, tmp_path, token):
    path = tmp_path / "bad.token"
    path.write_text(token)
    url = "https://inventory.example/v4"
    result = run("partner", "set-inventory", "nordlink", "--url", url, "--token-file", str(path), ok=False)
    assert result.exit_code == 1 and "token: A bearer token: 1 to 4096 visible ASCII characters" in result.output
    assert (token.strip()[:50] or "@@") not in result.output
    assert _partner(store).inventory_url is None


@pytest.mark.parametrize("options", [[], ["--token-stdin", "--no-token"]], ids=["no-token-option", "two-token-options"])
def test_exactly_one_token_option_is_asked_for(run, store, options):
    result = run("partner", "set-inventory", "nordlink", "--url", "https://inventory.example/v4", *options, ok=False)
    assert result.exit_code == 2 and "Give one of --token-file, --token-stdin or --no-token." in result.output


def test_reconcile_from_tmf_prints_the_drift_applies_it_and_reports_it(run, store, token_file, tmp_path):
    with serving(INVENTORY) as server:
        run("partner", "set-inventory", "nordlink", "--url", server.url, "--token-file", str(token_file))
        report = tmp_path / "drift.csv"

        dry = run("reconcile", "nordlink", "--from-tmf", "--page-size", "2", "--report", str(report))

        assert [request.limit for request in server.requests] == [2, 2]
        assert f"inventory: 3 products read from {server.url}\n" in dry.stdout
        assert re.search(r"^reconciliation rec_\w+: 3 rows, completed$", dry.stdout, re.MULTILINE)
        for line in ("status_mismatch: 1", "only_at_partner: 1", "only_at_gateway: 1", "dry run: nothing changed"):
            assert line in dry.stdout
        assert re.search(r"^reading nordlink's inventory: 3 of 3 products \(100%\)$", dry.stderr, re.MULTILINE)
        with report.open() as file:
            kinds = {row["partner_ref"]: row["kind"] for row in csv.DictReader(file)}
        assert kinds == {"to-suspend": "status_mismatch", "newcomer": "only_at_partner", "forgotten": "only_at_gateway"}

        applied = run("reconcile", "nordlink", "--from-tmf", "--apply")

    assert "repaired: 2" in applied.stdout
    with store.read() as session:
        statuses = {item.partner_ref: item.status for item in session.scalars(select(Subscription))}
        assert statuses == {"keep": "active", "to-suspend": "suspended", "forgotten": "cancelled"}
        assert set(session.scalars(select(Reconciliation.roster_format))) == {"tmf637"}


def test_a_failed_pull_is_one_line_naming_the_failed_job_and_nothing_changes(run, store, token_file):
    with serving(INVENTORY, token="rotated-at-the-partner") as server:
        run("partner", "set-inventory", "nordlink", "--url", server.url, "--token-file", str(token_file))
        result = run("reconcile", "nordlink", "--from-tmf", "--apply", ok=False)

    assert result.exit_code == 1
    assert "refused the gateway's token (401)" in result.output and TOKEN not in result.output
    job_id = re.search(r"reconciliation (rec_\w+): failed; nothing was compared or changed", result.output)[1]
    with store.read() as session:
        assert session.get(Reconciliation, job_id).status == "failed"
        assert {item.status for item in session.scalars(select(Subscription))} == {"active"}


def test_reconcile_from_tmf_needs_an_inventory_and_one_that_may_be_reached_now(run, store, token_file, monkeypatch):
    refused = run("reconcile", "nordlink", "--from-tmf", ok=False)
    assert refused.exit_code == 1
    assert "Partner 'nordlink' has no TMF637 inventory set: set its URL (and token) first." in refused.output

    with serving(INVENTORY) as server:
        run("partner", "set-inventory", "nordlink", "--url", server.url, "--token-file", str(token_file))
        monkeypatch.setenv("GATEWAY_ALLOW_PRIVATE_ENDPOINTS", "false")
        refused = run("reconcile", "nordlink", "--from-tmf", ok=False)
        assert server.requests == []
    assert "inventory URL is not usable: The inventory must be reached over https." in refused.output

    monkeypatch.setenv("GATEWAY_ALLOW_PRIVATE_ENDPOINTS", "true")
    assert run("partner", "clear-inventory", "nordlink").output == "partner nordlink has no inventory set\n"
    assert "inventory:\n  (none)\n" in run("partner", "show", "nordlink").output
    assert "no TMF637 inventory set" in run("reconcile", "nordlink", "--from-tmf", ok=False).output
    with store.read() as session:
        assert session.scalars(select(Reconciliation)).all() == []  # refused before any job was started


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        ([], "Give either a ROSTER file or --from-tmf"),
        (["ROSTER", "--from-tmf"], "Give either a ROSTER file or --from-tmf"),
        (["--from-tmf", "--format", "csv"], "--format is for a ROSTER file"),
        (["--from-tmf", "--page-size", "0"], "Invalid value for '--page-size'"),
    ],
)
def test_reconcile_takes_a_roster_file_or_the_inventory(run, store, tmp_path, arguments, said):
    roster = tmp_path / "roster.csv"
    roster.write_text("partner_ref,status,plan\n")
    arguments = [str(roster) if argument == "ROSTER" else argument for argument in arguments]
    result = run("reconcile", "nordlink", *arguments, ok=False)
    assert result.exit_code == 2 and said in result.output
