"""Settings from GATEWAY_* variables; the factory's overrides; no I/O at import."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gateway import create_app
from gateway.config import ConfigError, load_settings


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
