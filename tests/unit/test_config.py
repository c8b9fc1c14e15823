"""Settings from GATEWAY_* variables; the factory's overrides; no I/O at import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gateway import create_app
from gateway.config import ConfigError, check_minimums, load_settings


def test_defaults_without_environment():
    settings = load_settings({})
    assert settings["DATABASE_URL"] is None
    assert settings["MAX_BODY_BYTES"] == 1024 * 1024
    assert settings["KEY_ROTATION_OVERLAP_HOURS"] == 24


def test_variables_override_defaults_with_types():
    settings = load_settings(
        {"GATEWAY_MAX_BODY_BYTES": "2048", "GATEWAY_DATABASE_URL": "sqlite:///x.db", "UNRELATED": "1"}
    )
    assert settings["MAX_BODY_BYTES"] == 2048
    assert settings["DATABASE_URL"] == "sqlite:///x.db"


def test_a_bad_number_names_the_variable():
    with pytest.raises(ConfigError, match="GATEWAY_WORKERS"):
        load_settings({"GATEWAY_WORKERS": "many"})


def test_the_factory_rejects_unknown_settings():
    with pytest.raises(ValueError, match="DATABSE_URL"):
        create_app({"DATABSE_URL": "sqlite://"})


def test_the_default_store_is_a_wal_sqlite_file_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("GATEWAY_DATABASE_URL", raising=False)
    instance = tmp_path / "instance"
    app = create_app({"INSTANCE_PATH": str(instance)})
    assert app.config["GATEWAY"]["DATABASE_URL"] == f"sqlite:///{instance / 'gateway.sqlite3'}"
    store = app.extensions["gateway"]["store"]
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert (instance / "gateway.sqlite3").exists()


def test_the_body_limit_setting_reaches_flask():
    app = create_app({"DATABASE_URL": "sqlite://", "MAX_BODY_BYTES": 10})
    assert app.config["MAX_CONTENT_LENGTH"] == 10


def test_importing_the_package_does_no_io(tmp_path):
    """Importing gateway (and the CLI) creates no file, folder or connection."""
    instance = tmp_path / "instance"
    script = "import gateway, gateway.cli, gateway.api, partners, contracts.partners"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={
            "GATEWAY_INSTANCE_PATH": str(instance),
            "GATEWAY_DATABASE_URL": "postgresql+psycopg://x@127.0.0.1:1/x",
            "PATH": "/usr/bin:/bin",
        },
    )
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("hours", ["23", "0", "-24"])
def test_idempotency_keys_kept_less_than_a_day_stop_the_start(hours, monkeypatch):
    with pytest.raises(ConfigError, match=r"GATEWAY_IDEMPOTENCY_TTL_HOURS=.*at least 24"):
        load_settings({"GATEWAY_IDEMPOTENCY_TTL_HOURS": hours})
    monkeypatch.setenv("GATEWAY_IDEMPOTENCY_TTL_HOURS", hours)
    with pytest.raises(ConfigError, match="GATEWAY_IDEMPOTENCY_TTL_HOURS"):
        create_app({"DATABASE_URL": "sqlite://"})


def test_idempotency_keys_may_be_kept_a_day_or_longer():
    assert load_settings({"GATEWAY_IDEMPOTENCY_TTL_HOURS": "24"})["IDEMPOTENCY_TTL_HOURS"] == 24
    assert load_settings({"GATEWAY_IDEMPOTENCY_TTL_HOURS": "168"})["IDEMPOTENCY_TTL_HOURS"] == 168
    assert load_settings({})["IDEMPOTENCY_TTL_HOURS"] == 24


def test_the_minimum_check_refuses_a_value_below_the_bound_and_takes_one_at_it():
    with pytest.raises(ConfigError, match=r"IDEMPOTENCY_TTL_HOURS=1: .*at least 24"):
        check_minimums({"IDEMPOTENCY_TTL_HOURS": 1})
    check_minimums({"IDEMPOTENCY_TTL_HOURS": 24})


def test_a_factory_override_below_a_minimum_stops_the_start():
    with pytest.raises(ConfigError, match="IDEMPOTENCY_TTL_HOURS"):
        create_app({"DATABASE_URL": "sqlite://", "IDEMPOTENCY_TTL_HOURS": 1})


def test_a_runners_lease_outlasts_the_longest_request_gunicorn_allows():
    """A runner whose lease ran out must have been stopped, not merely slow (gateway.domain.leases)."""
    from gateway.cli.serving import GUNICORN_SETTINGS
    from gateway.domain.leases import RUNNER_LEASE

    timeout = int(GUNICORN_SETTINGS[GUNICORN_SETTINGS.index("--timeout") + 1])
    assert RUNNER_LEASE.total_seconds() >= timeout + 60


@pytest.mark.parametrize("days", ["0", "-1"])
def test_a_respond_by_date_must_lie_ahead(days):
    """Issue 22, item 5: with -1, warnings went out with a respond-by date already past."""
    with pytest.raises(ConfigError, match=r"GATEWAY_INACTIVITY_RESPOND_DAYS=.*at least 1"):
        load_settings({"GATEWAY_INACTIVITY_RESPOND_DAYS": days})
    assert load_settings({"GATEWAY_INACTIVITY_RESPOND_DAYS": "1"})["INACTIVITY_RESPOND_DAYS"] == 1
