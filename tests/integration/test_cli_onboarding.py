"""Onboarding from the shell without dead ends: endpoints' signing secrets shown once, endpoint commands, the
private-endpoint setting read as the admin API reads it, errors that name the options, help for every option,
and a test event an operator asks for that reaches a loopback receiver and verifies with the printed secret."""

from __future__ import annotations

import json
import re

import click
import pytest
from click.testing import CliRunner
from standardwebhooks import Webhook

from gateway import create_app
from gateway.cli import cli
from tests.support.api import app_store, bearer
from tests.support.receivers import Receiver

SECRET = re.compile(r"^whsec_[A-Za-z0-9+/=]+$", re.MULTILINE)
ENDPOINT = re.compile(r"^endpoint (ep_[0-9a-f]+) (\S+)$", re.MULTILINE)
TOKEN = re.compile(r"^gw_[0-9a-f]{12}_[0-9a-f]{48}$", re.MULTILINE)
PROFILE = {"--name": "Nordlink", "--market": "DE", "--locale": "de-DE"}
PARTNER = [part for option in PROFILE.items() for part in option]


@pytest.fixture
def private_endpoints(monkeypatch):
    """The setting tests and demos run with: http and loopback webhook URLs allowed."""
    monkeypatch.setenv("GATEWAY_ALLOW_PRIVATE_ENDPOINTS", "true")


def _created(output: str) -> list[tuple[str, str, str]]:
    """(endpoint id, url, secret) for each endpoint a command printed with its secret."""
    endpoints, secrets = ENDPOINT.findall(output), SECRET.findall(output)
    return [(*endpoint, secret) for endpoint, secret in zip(endpoints, secrets, strict=True)]


def test_partner_add_shows_each_webhook_secret_once(run):
    added = run(
        "partner", "add", "nordlink", *PARTNER,
        "--webhook", "https://hooks.example.net/a", "--webhook", "https://hooks.example.net/b",
    ).output  # fmt: skip
    created = _created(added)
    assert sorted(url for _, url, _ in created) == ["https://hooks.example.net/a", "https://hooks.example.net/b"]
    assert len({secret for *_, secret in created}) == 2
    shown, listed = run("partner", "show", "nordlink").output, run("endpoints", "list", "nordlink").output
    for endpoint_id, _, secret in created:
        assert endpoint_id in shown and endpoint_id in listed
        assert secret not in shown and secret not in listed
    assert "whsec_" not in shown + listed


def test_private_endpoints_follow_the_same_setting_as_the_admin_api(run, monkeypatch):
    refused = run("partner", "add", "nordlink", *PARTNER, "--webhook", "http://127.0.0.1:9/hooks", ok=False)
    assert refused.exit_code == 1
    assert refused.output.strip() == "Error: --webhook 'http://127.0.0.1:9/hooks': Webhook endpoints must use https."
    run("partner", "add", "nordlink", *PARTNER)
    internal = run("endpoints", "add", "nordlink", "https://localhost/x", ok=False).output
    assert "Webhook endpoints must be public" in internal

    monkeypatch.setenv("GATEWAY_ALLOW_PRIVATE_ENDPOINTS", "true")
    assert _created(run("endpoints", "add", "nordlink", "https://localhost/x").output)
    added = run("partner", "add", "southtel", *PARTNER, "--webhook", "http://127.0.0.1:9/hooks").output
    [(_, url, _)] = _created(added)
    assert url == "http://127.0.0.1:9/hooks"


def test_field_errors_name_the_options_and_arguments_the_operator_typed(run):
    result = run(
        "partner", "add", "Bad", "--name", "x", "--market", "DE", "--market", "XX", "--locale", "!",
        "--webhook", "https://hooks.example.net/ok", "--webhook", "ftp://nope",
        ok=False,
    )  # fmt: skip
    assert result.exit_code == 1 and "Traceback" not in result.output
    message = result.output.strip()
    for named in ("CODE 'Bad':", "--market 'XX':", "--locale '!':", "--webhook 'ftp://nope':"):
        assert named in message
    for internal in ("code:", "markets.", "default_locale", "webhook_urls"):
        assert internal not in message
    assert message.count("\n") == 0, "one line"
    run("partner", "add", "nordlink", *PARTNER)
    assert run("endpoints", "add", "nordlink", "not a url", ok=False).output.startswith("Error: URL 'not a url':")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"--flavour": "webhooks"}, "'webhooks' is not one of 'standard', 'batch'"),
        ({"--name": "n" * 201}, "--name"),
        ({"--name": ""}, "--name"),
    ],
)
def test_option_values_click_can_check_are_refused_before_anything_runs(run, change, named):
    options = [part for option in (PROFILE | change).items() for part in option]
    result = run("partner", "add", "nordlink", *options, ok=False)
    assert result.exit_code == 2 and named in result.output
    assert run("partner", "list").output.strip() == "(none)"


def test_a_batch_partner_is_added_by_its_flavour(run):
    run("partner", "add", "selat", *PARTNER, "--flavour", "batch")
    assert run("partner", "list").output.splitlines()[1].split()[-2:] == ["batch", "active"]


def test_endpoint_commands_add_list_rotate_enable_delete(run):
    run("partner", "add", "nordlink", *PARTNER)
    assert run("endpoints", "list", "nordlink").output.strip() == "(none)"
    added = run("endpoints", "add", "nordlink", "https://hooks.example.net/n", "--description", "billing").output
    [(endpoint_id, _, first_secret)] = _created(added)
    listing = run("endpoints", "list", "nordlink").output.splitlines()
    assert listing[1].split() == [endpoint_id, "enabled", "closed", "0", "https://hooks.example.net/n", "billing"]

    rotated = run("endpoints", "rotate-secret", endpoint_id, "--overlap-hours", "2").output
    [(same_id, _, second_secret)] = _created(rotated)
    assert same_id == endpoint_id and second_secret != first_secret
    assert "the old secret keeps signing for 2 h" in rotated

    assert run("endpoints", "enable", endpoint_id).output.strip() == f"endpoint {endpoint_id} is enabled"
    deleted = run("endpoints", "delete", endpoint_id).output
    assert f"endpoint {endpoint_id} deleted; 0 pending deliveries" in deleted
    assert run("endpoints", "list", "nordlink").output.strip() == "(none)"


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["endpoints", "add", "ghost", "https://hooks.example.net/g"], "Error: No partner 'ghost'."),
        (["endpoints", "list", "ghost"], "Error: No partner 'ghost'."),
        (["endpoints", "rotate-secret", "ep_missing"], "Error: No webhook endpoint 'ep_missing'."),
        (["endpoints", "enable", "ep_missing"], "Error: No webhook endpoint 'ep_missing'."),
        (["endpoints", "delete", "ep_missing"], "Error: No webhook endpoint 'ep_missing'."),
        (["partner", "inbound-secret", "ghost"], "Error: No partner 'ghost'."),
        (["deliveries", "test-event", "ghost"], "Error: No partner 'ghost'."),
    ],
)
def test_unknown_partners_and_endpoints_are_one_line_errors(run, command, expected):
    result = run(*command, ok=False)
    assert result.exit_code == 1 and result.output.strip() == expected


def test_a_deleted_endpoint_is_unknown_to_the_endpoint_commands(run):
    run("partner", "add", "nordlink", *PARTNER, "--webhook", "https://hooks.example.net/n")
    endpoint_id = run("endpoints", "list", "nordlink").output.splitlines()[1].split()[0]
    run("endpoints", "delete", endpoint_id)
    result = run("endpoints", "rotate-secret", endpoint_id, ok=False)
    assert result.output.strip() == f"Error: No webhook endpoint '{endpoint_id}'."


def test_bad_option_values_of_the_endpoint_commands(run):
    run("partner", "add", "nordlink", *PARTNER)
    too_long = run("endpoints", "add", "nordlink", "https://hooks.example.net/n", "--description", "d" * 201, ok=False)
    assert too_long.exit_code == 2 and "--description" in too_long.output
    negative = run("endpoints", "rotate-secret", "ep_x", "--overlap-hours", "-1", ok=False)
    assert negative.exit_code == 2 and "--overlap-hours" in negative.output
    unknown_type = run("deliveries", "replay-dead", "--type", "subscription.nope", ok=False)
    assert unknown_type.exit_code == 2 and "gateway.test" in unknown_type.output


def test_the_inbound_secret_is_shown_once(run):
    run("partner", "add", "nordlink", *PARTNER)
    issued = run("partner", "inbound-secret", "nordlink").output
    [secret] = SECRET.findall(issued)
    assert secret not in run("partner", "show", "nordlink").output


def test_a_test_event_for_a_partner_without_endpoints_says_it_only_reaches_the_feed(run):
    run("partner", "add", "nordlink", *PARTNER)
    output = run("deliveries", "test-event", "nordlink").output
    assert "recorded" in output and "no enabled webhook endpoint" in output


def _commands(command: click.Command, path: tuple[str, ...] = ("gateway",)):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


def test_every_command_and_option_has_help():
    missing = [
        f"{' '.join(path)} {max(param.opts, key=len)}"
        for path, command in _commands(cli)
        for param in command.params
        if isinstance(param, click.Option) and not param.hidden and not param.help
    ]
    assert missing == []
    assert [" ".join(path) for path, command in _commands(cli) if not command.help] == []
    assert "Only this partner" in CliRunner().invoke(cli, ["deliveries", "replay-dead", "--help"]).output


def test_an_operator_onboards_a_partner_whose_test_event_verifies(run, sqlite_database, tmp_path, private_endpoints):
    """The shell path: partner with a webhook (secret printed), a key, a test event, a dispatcher run; the
    loopback receiver gets the event signed with the printed secret."""
    with Receiver() as receiver:
        added = run("partner", "add", "nordlink", *PARTNER, "--webhook", receiver.url).output
        [(endpoint_id, _, secret)] = _created(added)
        [token] = TOKEN.findall(run("key", "issue", "--partner", "nordlink", "--name", "billing system").output)
        sent = run("deliveries", "test-event", "nordlink").output
        event_id = re.search(r"test event (evt_[0-9a-f]+) recorded", sent).group(1)
        assert f"sends it to: {endpoint_id}" in sent
        run("dispatch", "--until-idle")
    [message] = receiver.events()
    verified = Webhook(secret).verify(message.body, message.headers)
    assert verified["type"] == "gateway.test" and message.headers["webhook-id"] == event_id
    delivered = run("deliveries", "list", "--partner", "nordlink", "--type", "gateway.test").output
    assert "delivered" in delivered

    # the key printed works on the partner API, which sees the same event in its feed
    app = create_app({"INSTANCE_PATH": str(tmp_path / "api"), "LOG_LEVEL": "WARNING", **sqlite_database.settings()})
    try:
        feed = app.test_client().get("/v1/events", headers=bearer(token))
        assert [item["id"] for item in feed.json["items"]] == [event_id]
        assert json.loads(message.body)["id"] == event_id
    finally:
        app_store(app).dispose()
