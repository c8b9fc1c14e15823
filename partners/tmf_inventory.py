"""Reading a partner's own TMF637 Product Inventory: GET {base}/product a page at a time (TMF630 offset and limit),
each page under a deadline and a size cap, through a client that reaches public addresses only; whatever the
partner's server does, the pull ends with its products or with one typed InventoryError.

The pull is a generator: one page is held at a time, so a listing of millions of products costs no more memory
than one of a thousand. It runs its own event loop (the caller is synchronous: a CLI command, a job), with the
connection checks of partners.transport: unless internal addresses are allowed (GATEWAY_ALLOW_PRIVATE_ENDPOINTS),
every address is checked as its socket is made, so a name that points inside when the pull runs is refused before
a byte is sent. Redirects are not followed (the configured URL is the one checked), proxies in the environment
are not used, and nothing the partner sends, nor the token, is echoed into a message unescaped.

When to stop: at an empty page, or once the offset reaches the X-Total-Count the pages announce. The pages must
agree on that count and the products read must come to it, otherwise the inventory changed while it was read
(offset paging then skips or repeats products) and the pull fails rather than hand over a roster with customers
missing, whom a reconciliation would list as only at the gateway and cancel when applied.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

from partners.base import error_class_of
from partners.transport import PublicResolver, public_socket

USER_AGENT = "partner-gateway/1 (tmf-inventory)"
# What a token may hold to travel in an Authorization header as it is: visible ASCII, no spaces or line breaks
# (RFC 6750's b64token is narrower; opaque tokens of other issuers are let through).
MAX_TOKEN_LENGTH = 4096
BEARER_TOKEN = re.compile(rf"[\x21-\x7e]{{1,{MAX_TOKEN_LENGTH}}}")
NOT_A_TOKEN = f"A bearer token: 1 to {MAX_TOKEN_LENGTH} visible ASCII characters, without spaces or line breaks."
# How much of a refusal's body is shown in the error (a TMF Error's reason and message fit).
REFUSAL_EXCERPT_BYTES = 300
_INFLATE_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
_READ_BYTES = 64 * 1024
# Statuses that say "not now" rather than "never": retried. 501 and 505 are not passing states.
_TRANSIENT = {408, 425, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class PullLimits:
    """The bounds a pull keeps whatever the partner's server does."""

    page_size: int = 500  # products asked for per page (limit=)
    max_page_bytes: int = 8 * 1024 * 1024  # a page's body, inflated; more is refused, not read
    page_deadline: float = 60.0  # seconds for one page, from connecting to its last byte
    connect_timeout: float = 10.0
    attempts: int = 4  # tries per page while the inventory is unavailable
    first_retry_wait: float = 1.0  # seconds; doubling from there, with jitter
    max_retry_wait: float = 30.0  # a Retry-After longer than this is cut to it
    max_products: int = 20_000_000  # a listing longer than this is taken for one that never ends


DEFAULT_LIMITS = PullLimits()


class InventoryError(Exception):
    """The partner's inventory could not be read; the message says why in a sentence (never with the token)."""


class InventoryUnavailable(InventoryError):
    """Not reached, no whole page in time, the body broke off, or an answer that says "later" (408, 429, 5xx):
    retried (retry_policy), and raised once the tries are spent."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InventoryRefused(InventoryError):
    """401 or 403: the inventory does not take the gateway's token."""


class InventoryForbidden(InventoryError):
    """The inventory's host is, or resolved to, an address the gateway may not reach (loopback, private)."""


class InvalidInventoryAnswer(InventoryError):
    """An answer that is no page of products: a redirect, another status, not JSON, not a list, too large, or a
    server that does not page by offset. Not retried: asking again gets the same."""


class InventoryChanged(InventoryError):
    """The pages disagree on how many products there are, or the products read do not come to that count: the
    inventory changed while it was read. Reading it again later gives a whole roster."""


@dataclass(frozen=True)
class Page:
    products: list[Any]
    total: int | None  # the X-Total-Count announced, when the server sent a usable one


# Called after each page with the products read so far and the total announced (None when none was).
PageProgress = Callable[[int, int | None], None]


def read_products(
    base_url: str,
    token: str | None,
    *,
    allow_private: bool,
    limits: PullLimits = DEFAULT_LIMITS,
    on_page: PageProgress | None = None,
) -> Iterator[Any]:
    """Every product of the inventory at `base_url` (…/productInventory/v4) in its listing's order, one page
    held at a time; an InventoryError when the whole listing cannot be read. A product is whatever the page's
    array held (the caller judges each one). Close the generator when stopping early."""
    listing = base_url.rstrip("/") + "/product"
    if token is not None and not BEARER_TOKEN.fullmatch(token):
        # Checked where the token is set, and again here: a line break in it would write headers of its own.
        raise InventoryRefused(f"{listing}: the configured token is not a bearer token (visible ASCII only)")
    with asyncio.Runner() as runner:
        http = runner.run(_client(allow_private, limits))
        try:
            yield from _pages(runner, http, listing, token, limits, on_page)
        finally:
            runner.run(http.close())


def _pages(
    runner: asyncio.Runner,
    http: aiohttp.ClientSession,
    listing: str,
    token: str | None,
    limits: PullLimits,
    on_page: PageProgress | None,
) -> Iterator[Any]:
    offset, announced = 0, None
    previous_first: object = _NOTHING
    while True:
        page = runner.run(_page_with_retries(http, listing, token, offset, limits))
        if page.total is not None:
            if announced is not None and page.total != announced:
                raise InventoryChanged(
                    f"{listing}: the inventory changed while it was read (X-Total-Count {announced}, then "
                    f"{page.total} at offset {offset}); reconcile again"
                )
            announced = page.total
        if not page.products:
            break
        if page.products[0] == previous_first:
            raise InvalidInventoryAnswer(
                f"{_where(listing, offset)}: the same products again as at the offset before: the server does not "
                "page by offset (TMF630 offset and limit)"
            )
        previous_first = page.products[0]
        offset += len(page.products)
        if offset > limits.max_products:
            raise InvalidInventoryAnswer(
                f"{listing}: more than {limits.max_products} products listed; taken for a listing that never ends"
            )
        if on_page is not None:
            on_page(offset, announced)
        yield from page.products
        if announced is not None and offset >= announced:
            break
    if announced is not None and offset != announced:
        raise InventoryChanged(
            f"{listing}: {offset} products listed where X-Total-Count announced {announced}: the inventory changed "
            "while it was read; reconcile again"
        )


_NOTHING = object()


def _where(listing: str, offset: int) -> str:
    return f"{listing} (offset {offset})"


def retry_policy(limits: PullLimits) -> AsyncRetrying:
    """How a page is retried: while the inventory is unavailable, up to `limits.attempts` tries, waiting
    exponentially longer with jitter, or as long as a Retry-After asks (up to limits.max_retry_wait); any other
    failure at once. The last failure is raised as it was."""
    return AsyncRetrying(
        stop=stop_after_attempt(limits.attempts),
        wait=lambda state: retry_wait(state, limits),
        retry=retry_if_exception_type(InventoryUnavailable),
        reraise=True,
    )


def retry_wait(state: RetryCallState, limits: PullLimits) -> float:
    """Seconds before the next try: first_retry_wait doubling per try, a quarter of it random (pulls started
    together spread out), at least what a Retry-After asked, never more than max_retry_wait."""
    backoff = limits.first_retry_wait * 2 ** (state.attempt_number - 1)
    jitter = backoff * 0.25 * random.random()  # spreads pulls retrying together
    error = state.outcome.exception() if state.outcome is not None else None
    asked = getattr(error, "retry_after", None) or 0.0
    return min(max(backoff + jitter, asked), limits.max_retry_wait)


async def _page_with_retries(
    http: aiohttp.ClientSession, listing: str, token: str | None, offset: int, limits: PullLimits
) -> Page:
    try:
        return await retry_policy(limits)(_page, http, listing, token, offset, limits)
    except InventoryUnavailable as error:
        tries = "once" if limits.attempts == 1 else f"{limits.attempts} times"
        raise InventoryUnavailable(f"{error} (tried {tries})", error.retry_after) from None


async def _client(allow_private: bool, limits: PullLimits) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(
        limit=1,  # one page at a time
        socket_factory=None if allow_private else public_socket,
        resolver=None if allow_private else PublicResolver(),
        enable_cleanup_closed=True,
    )
    return aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "gzip"},
        auto_decompress=False,  # inflated here, no further than the cap
        trust_env=False,
        timeout=aiohttp.ClientTimeout(total=None, connect=limits.connect_timeout),  # the page's deadline rules
    )


async def _page(http: aiohttp.ClientSession, listing: str, token: str | None, offset: int, limits: PullLimits) -> Page:
    """One page, over within limits.page_deadline whatever the server does."""
    where = _where(listing, offset)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    query = {"offset": str(offset), "limit": str(limits.page_size)}
    try:
        async with asyncio.timeout(limits.page_deadline):
            async with http.get(listing, params=query, headers=headers, allow_redirects=False) as response:
                await _check_answer(response, where, token)
                body = await _read_capped(response, limits.max_page_bytes, where)
                total = _count(response.headers.get("X-Total-Count"))
    except aiohttp.ConnectionTimeoutError:
        raise InventoryUnavailable(f"{where}: no connection within {limits.connect_timeout:g} s") from None
    except TimeoutError:
        raise InventoryUnavailable(f"{where}: no whole page within {limits.page_deadline:g} s") from None
    except InventoryError:
        raise
    except (aiohttp.ClientError, OSError, ValueError) as error:
        kind = error_class_of(error)
        if kind == "ForbiddenAddress":
            raise InventoryForbidden(
                f"{where}: the host is not a public address; the gateway reaches public inventories only"
            ) from None
        raise InventoryUnavailable(f"{where}: {_KINDS.get(kind, kind)}") from None
    return Page(_products(body, where), total)


_KINDS = {
    "ConnectionError": "the connection failed or was dropped",
    "NameResolutionError": "the host name does not resolve",
    "TLSError": "the TLS handshake failed",
    "PayloadError": "the body broke off",
    "InvalidResponse": "not an HTTP answer",
}


async def _check_answer(response: aiohttp.ClientResponse, where: str, token: str | None) -> None:
    status = response.status
    if status in (200, 206):  # 206: a partial page, as TMF630 answers when more remain
        media_type = (response.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if media_type and media_type != "application/json" and not media_type.endswith("+json"):
            response.close()
            raise InvalidInventoryAnswer(f"{where}: answered {_shown(media_type)}, not JSON")
        return
    said = await _refusal_excerpt(response)
    if 300 <= status < 400:
        location = _shown(response.headers.get("Location", ""))
        raise InvalidInventoryAnswer(
            f"{where}: redirected ({status}) to {location}; the gateway follows no redirects: configure the "
            "inventory's own URL"
        )
    if status in (401, 403):
        what = "refused the gateway's token" if token else "asks for a token and none is configured"
        raise InventoryRefused(f"{where}: {what} ({status}){said}")
    if status in _TRANSIENT or (status >= 500 and status not in (501, 505)):
        raise InventoryUnavailable(f"{where}: answered {status}{said}", _retry_after(response.headers))
    if status == 404:
        raise InvalidInventoryAnswer(
            f"{where}: no product listing there (404){said}; the URL must be the API's base, …/productInventory/v4"
        )
    raise InvalidInventoryAnswer(f"{where}: answered {status}{said}")


async def _refusal_excerpt(response: aiohttp.ClientResponse) -> str:
    """': <what the body says>' from the first bytes of a refusal (a TMF Error's reason and message when it is
    one), or nothing; never more than REFUSAL_EXCERPT_BYTES are read."""
    try:
        raw = await response.content.read(REFUSAL_EXCERPT_BYTES)
    except (aiohttp.ClientError, OSError, ValueError):
        return ""
    response.close()  # the rest is not read: the connection is dropped
    if response.headers.get("Content-Encoding", "identity").strip().lower() != "identity":
        return ""  # a compressed excerpt says nothing readable
    text = raw.decode("utf-8", "replace")
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict):
        parts = [document.get(name) for name in ("reason", "message")]
        text = " - ".join(part for part in parts if isinstance(part, str)) or text
    text = " ".join(_UNSHOWABLE.sub(" ", text).split())
    return f": {text}" if text else ""


async def _read_capped(response: aiohttp.ClientResponse, cap: int, where: str) -> bytes:
    """The body, inflated when gzip or deflate, at most `cap` bytes of it: past that the connection is dropped and
    the page refused."""
    too_large = InvalidInventoryAnswer(
        f"{where}: a page larger than {cap // (1024 * 1024)} MiB; ask for fewer products per page"
    )
    encoding = (response.headers.get("Content-Encoding") or "identity").strip().lower()
    if encoding != "identity" and encoding not in _INFLATE_WBITS:
        response.close()
        raise InvalidInventoryAnswer(f"{where}: a body in {_shown(encoding)}, which the gateway did not ask for")
    if encoding == "identity" and (response.content_length or 0) > cap:
        response.close()
        raise too_large
    inflater = zlib.decompressobj(_INFLATE_WBITS[encoding]) if encoding != "identity" else None
    body = bytearray()
    while chunk := await response.content.read(_READ_BYTES):
        if inflater is not None:
            try:
                chunk = inflater.decompress(chunk, cap + 1 - len(body))  # inflated no further than the cap
            except zlib.error:
                response.close()
                raise InvalidInventoryAnswer(f"{where}: the body is not the {encoding} it says it is") from None
        body += chunk
        if len(body) > cap:
            response.close()  # the rest is never read
            raise too_large
    if inflater is not None and not inflater.eof:
        response.close()
        raise InvalidInventoryAnswer(f"{where}: the {encoding} body ends before its end")
    return bytes(body)


def _products(body: bytes, where: str) -> list[Any]:
    try:
        document = json.loads(body)
    except ValueError:  # UnicodeDecodeError included
        raise InvalidInventoryAnswer(f"{where}: the body is not JSON") from None
    if not isinstance(document, list):
        raise InvalidInventoryAnswer(
            f"{where}: the body is a JSON {type(document).__name__}, not the array of products TMF637 lists"
        )
    return document


def _count(value: str | None) -> int | None:
    """X-Total-Count as a number; None when absent or not a plain count (it is then not relied on)."""
    if value is None or not value.strip().isdecimal() or not value.strip().isascii():
        return None
    return int(value.strip()) if len(value.strip()) <= 18 else None


def _retry_after(headers) -> float | None:
    """Retry-After in seconds (a number of seconds or an HTTP date); None when absent or unreadable."""
    value = (headers.get("Retry-After") or "").strip()
    if value.isascii() and value.isdecimal() and len(value) <= 9:
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


# Control characters (a terminal's escape sequences among them) and lone surrogates: never shown as sent.
_UNSHOWABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _shown(text: str, limit: int = 120) -> str:
    """Text the partner sent, as a message may show it: quoted, escaped, cut short."""
    cut = text[:limit] + ("…" if len(text) > limit else "")
    return repr(cut)
