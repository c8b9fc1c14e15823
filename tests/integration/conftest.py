"""Fixtures of the integration tests: the `gateway` command against a real SQLite store."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from gateway.cli import cli


@pytest.fixture
def run(tmp_path, monkeypatch, sqlite_database):
    """`gateway ARGS...` on a migrated SQLite store of the test's own; asserts success unless ok=False."""
    monkeypatch.setenv("GATEWAY_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("GATEWAY_DATABASE_URL", sqlite_database.url)
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True):
        result = runner.invoke(cli, list(args), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    invoke("db", "upgrade")
    return invoke
