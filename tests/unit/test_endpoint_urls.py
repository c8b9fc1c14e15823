"""Webhook URLs: https and public hosts only, unless the operator allows private ones; checked again on
every connection (partners.transport), where DNS rebinding would otherwise slip through."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest

from gateway.domain.partners import HTTPS_REQUIRED, INTERNAL_HOST, NOT_AN_ENDPOINT, check_endpoint_url
from partners.base import post
from partners.transport import delivery_client, is_public_address


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("https://hooks.partner.example/gateway", None),
        ("https://203.0.113.9/x", INTERNAL_HOST),  # documentation range: not globally routable
        ("https://8.8.8.8/hooks", None),
        ("http://hooks.partner.example/gateway", HTTPS_REQUIRED),
        ("https://localhost/x", INTERNAL_HOST),
        ("https://api.localhost/x", INTERNAL_HOST),
        ("https://127.0.0.1:8443/x", INTERNAL_HOST),
        ("https://10.1.2.3/x", INTERNAL_HOST),
        ("https://192.168.0.10/x", INTERNAL_HOST),
        ("https://169.254.169.254/latest/meta-data", INTERNAL_HOST),
        ("https://printer.local/x", INTERNAL_HOST),
        ("ftp://hooks.partner.example/", NOT_AN_ENDPOINT),
        ("not a url", NOT_AN_ENDPOINT),
    ],
)
def test_registration_rules(url, error):
    assert check_endpoint_url(url) == ({} if error is None else {"url": error})


def test_the_operator_can_allow_private_endpoints_for_tests_and_demos():
    assert check_endpoint_url("http://127.0.0.1:8001/hooks/x", allow_private=True) == {}
    assert check_endpoint_url("not a url", allow_private=True) == {"url": NOT_AN_ENDPOINT}


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),
        ("169.254.1.1", False),
        ("fe80::1%eth0", False),
        ("2606:4700::1111", True),
        ("224.0.0.1", False),
    ],
)
def test_which_addresses_are_public(address, public):
    assert is_public_address(address) is public


@pytest.fixture
def listener():
    """A TCP listener on loopback that records whether any byte reached it."""
    server = socket.create_server(("127.0.0.1", 0))
    received = []

    def accept():
        try:
            connection, _ = server.accept()
        except OSError:
            return
        with connection:
            connection.settimeout(1)
            try:
                received.append(connection.recv(100))
            except OSError:
                received.append(b"")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    server.close()
    thread.join(timeout=2)


def _post(url: str, *, allow_private: bool, timeout: float):
    async def go():
        async with delivery_client(allow_private=allow_private) as client:
            return await post(client, url, body=b"{}", headers={}, timeout=timeout, now=None)

    return asyncio.run(go())


def test_a_name_that_resolves_to_loopback_is_refused_before_anything_is_sent(listener):
    """What DNS rebinding would do: a name (here `localhost`) that points inside at send time."""
    port, received = listener
    attempt = _post(f"http://localhost:{port}/hooks", allow_private=False, timeout=2)
    assert attempt.status is None and attempt.error_class == "ForbiddenAddress"
    assert received in ([], [b""]), "not a byte may reach an internal address"


def test_an_internal_address_in_the_url_itself_is_refused_too(listener):
    port, received = listener
    attempt = _post(f"http://127.0.0.1:{port}/hooks", allow_private=False, timeout=2)
    assert attempt.status is None and attempt.error_class == "ForbiddenAddress"
    assert received in ([], [b""])


def test_the_allowing_client_reaches_loopback(listener):
    port, received = listener
    attempt = _post(f"http://127.0.0.1:{port}/hooks", allow_private=True, timeout=0.5)
    assert attempt.status is None and attempt.error_class == "ConnectionError"  # the listener hangs up, silent
    assert received and received[0].startswith(b"POST /hooks")
