"""The README's "Onboarding a partner" commands, run as written: from a new partner to a test notification that a
loopback receiver verifies with the secret the commands printed, once from the shell and once over HTTP.

Only the receiver's address is swapped in (the line that exports PARTNER_WEBHOOK), and the gateway's own
settings (store, instance folder, and private endpoints allowed, since the receiver is on loopback) come from the
environment as an operator's would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from tests.support.receivers import Receiver
from tests.support.serving import GATEWAY, start_gateway, stop_gateway

README = Path(__file__).resolve().parents[2] / "README.md"
SECRET = re.compile(r"^whsec_[A-Za-z0-9+/=]+$", re.MULTILINE)
TOKEN = re.compile(r"^gw_[0-9a-f]{12}_[0-9a-f]{48}$", re.MULTILINE)
WEBHOOK_LINE = re.compile(r"^export PARTNER_WEBHOOK=\S+", re.MULTILINE)


def onboarding_blocks() -> tuple[str, str]:
    """The section's two shell blocks: the CLI's, then the HTTP one."""
    section = README.read_text().split("## Onboarding a partner\n", 1)[1].split("\n## ", 1)[0]
    shell, http = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    return shell, http


@pytest.fixture
def environment(tmp_path):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed: the README's HTTP commands use it (make test installs it as root)")
    environment = {
        **os.environ,
        "PATH": f"{Path(GATEWAY).parent}{os.pathsep}{os.environ['PATH']}",  # `gateway` as the venv installs it
        "GATEWAY_INSTANCE_PATH": str(tmp_path / "instance"),
        "GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.sqlite3'}",
        "GATEWAY_ALLOW_PRIVATE_ENDPOINTS": "true",
    }
    subprocess.run([GATEWAY, "db", "upgrade"], env=environment, check=True, capture_output=True)
    return environment


def bash(script: str, environment: dict[str, str]) -> str:
    done = subprocess.run(["bash", "-e", "-c", script], env=environment, capture_output=True, text=True)
    assert done.returncode == 0, f"{script}\n---\n{done.stdout}\n{done.stderr}"
    return done.stdout


def the_test_event(receiver: Receiver, secret: str) -> dict:
    """The one webhook the receiver got, verified with `secret`."""
    [message] = receiver.events()
    verified = Webhook(secret).verify(message.body, message.headers)
    assert message.headers["webhook-id"] == verified["id"]
    return verified


def test_the_shell_commands_take_a_new_partner_to_a_verified_test_notification(environment):
    shell, _ = onboarding_blocks()
    with Receiver() as receiver:
        printed = bash(WEBHOOK_LINE.sub(f"export PARTNER_WEBHOOK={receiver.url}", shell), environment)

        [secret] = SECRET.findall(printed)
        [token] = TOKEN.findall(printed)
        event = the_test_event(receiver, secret)

    assert event["type"] == "gateway.test" and event["partner"] == "telco-de"
    assert f"test event {event['id']} recorded" in printed
    # the last command lists the test notification's one delivery, delivered
    assert printed.splitlines()[-1].split()[1:5] == [event["id"], "gateway.test", "telco-de", "delivered"]
    assert token not in printed.split(token, 1)[1]  # printed once


def test_the_http_commands_take_a_new_partner_to_a_verified_test_notification(environment):
    _, http = onboarding_blocks()
    first, second, third = re.split(r"\n(?=curl )", http.strip())
    operator = TOKEN.findall(
        subprocess.run(
            [GATEWAY, "key", "issue", "--kind", "operator", "--name", "ops laptop"],
            env=environment,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )[0]
    process, base = start_gateway(environment, "serve")
    try:
        with Receiver() as receiver:
            given = {**environment, "GATEWAY_URL": base, "OPERATOR_KEY": operator, "PARTNER_WEBHOOK": receiver.url}
            partner = json.loads(bash(first, given))
            key = json.loads(bash(second, given))
            asked = json.loads(bash(third, {**given, "PARTNER_KEY": key["token"]}))
            subprocess.run([GATEWAY, "dispatch", "--until-idle"], env=environment, check=True, capture_output=True)

            [endpoint] = partner["webhook_endpoints"]
            event = the_test_event(receiver, endpoint["secret"])
    finally:
        stop_gateway(process)

    assert partner["code"] == "telco-at" and endpoint["url"] == receiver.url
    assert key["partner"] == "telco-at" and "subscriptions:write" in key["scopes"]
    assert asked["endpoint_ids"] == [endpoint["id"]]
    assert event["id"] == asked["event_id"] and event["type"] == "gateway.test" and event["partner"] == "telco-at"
