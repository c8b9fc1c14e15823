"""The gateway as a user runs it: `gateway serve` (or `demo`) in a process of its own, on a free port."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

GATEWAY = str(Path(sys.executable).with_name("gateway"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(base: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}: {process.stdout.read()}")
        try:
            if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # refused before gunicorn listens, slow while workers boot
            time.sleep(0.1)
    raise AssertionError("server did not come up")


def start_gateway(environment: dict[str, str], *arguments: str) -> tuple[subprocess.Popen, str]:
    """`gateway <arguments> --bind <a free port>`, waited for until it answers /healthz."""
    port = free_port()
    process = subprocess.Popen(
        [GATEWAY, *arguments, "--bind", f"127.0.0.1:{port}"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
    except BaseException:
        process.kill()
        raise
    return process, base


def stop_gateway(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output
