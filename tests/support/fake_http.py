"""A stand-in for the aiohttp client, to unit-test one adapter without a socket: it records each POST and
answers from a script (a status, headers and body, or an exception). The real client is tested against
real receivers on loopback in tests/delivery."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scripted:
    status: int = 204
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    error: BaseException | None = None  # raised instead of answering


@dataclass(frozen=True)
class Sent:
    url: str
    body: bytes
    headers: dict[str, str]


class _Content:
    def __init__(self, body: bytes) -> None:
        self._body = body

    async def read(self, limit: int = -1) -> bytes:
        await asyncio.sleep(0)
        taken = self._body if limit < 0 else self._body[:limit]
        self._body = self._body[len(taken) :]
        return taken


class _Response:
    def __init__(self, answer: Scripted) -> None:
        self.status = answer.status
        self.headers = dict(answer.headers)
        self.content = _Content(answer.body)
        self.closed = False

    def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> _Response:
        return self

    async def __aexit__(self, *_exc) -> None:
        return None


class _Call:
    def __init__(self, client: FakeClient, url: str, body: bytes, headers: dict[str, str]) -> None:
        self.client, self.url, self.body, self.headers = client, url, body, headers

    async def __aenter__(self) -> _Response:
        self.client.sent.append(Sent(self.url, self.body, self.headers))
        answer = self.client.answers[min(len(self.client.sent), len(self.client.answers)) - 1]
        if answer.error is not None:
            raise answer.error
        return _Response(answer)

    async def __aexit__(self, *_exc) -> None:
        return None


class FakeClient:
    """Answers the n-th POST with answers[n] (the last one repeats)."""

    def __init__(self, *answers: Scripted) -> None:
        self.answers = list(answers) or [Scripted()]
        self.sent: list[Sent] = []

    def post(self, url: str, *, data: bytes, headers: Mapping[str, str], allow_redirects: bool = True) -> _Call:
        assert allow_redirects is False, "deliveries never follow redirects"
        return _Call(self, url, data, dict(headers))
