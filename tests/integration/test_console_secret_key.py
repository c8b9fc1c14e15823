"""The console's generated signing key: made once per instance folder, whoever asks first, and kept private."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from gateway.console.secret_key import SECRET_FILE, instance_secret


def test_workers_starting_together_agree_on_one_key(tmp_path):
    folder = tmp_path / "instance"
    with ThreadPoolExecutor(8) as workers:
        keys = set(workers.map(lambda _: instance_secret(str(folder)), range(32)))

    assert len(keys) == 1 and len(keys.pop()) >= 32
    assert [path.name for path in folder.iterdir()] == [SECRET_FILE]  # no candidate left behind
    assert (folder / SECRET_FILE).stat().st_mode & 0o077 == 0


def test_the_key_survives_restarts(tmp_path):
    assert instance_secret(str(tmp_path)) == instance_secret(str(tmp_path))


def test_an_emptied_key_file_is_refused_not_used(tmp_path):
    (tmp_path / SECRET_FILE).write_text("")
    with pytest.raises(RuntimeError, match="holds no usable secret key"):
        instance_secret(str(tmp_path))
