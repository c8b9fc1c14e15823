"""JSON logs, one object per line, with the request id; anything that looks like a secret is scrubbed."""

from __future__ import annotations

import logging
import math
import re
import secrets
import sys
import time
from datetime import UTC, datetime

import orjson
from flask import Flask, g, has_request_context, request

from gateway.domain.keys import TOKEN_LIKE

REQUEST_ID_HEADER = "X-Request-Id"
# A caller's id is kept when it is short and plain; anything else could forge or break log lines.
ACCEPTABLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
SECRETS = [
    (TOKEN_LIKE, "gw_[REDACTED]"),
    (re.compile(r"whsec_[A-Za-z0-9+/=]+"), "whsec_[REDACTED]"),
    (re.compile(r"(bearer\s+)\S+", re.IGNORECASE), r"\1[REDACTED]"),
]


def scrub(text: str) -> str:
    # Cheap checks first: nearly no line holds a secret. A key's prefix (gw_<12 hex>) is on every access line
    # and is not one, so look for a whole token rather than for "gw_".
    if TOKEN_LIKE.search(text) is None and "whsec_" not in text and "bearer" not in text.lower():
        return text
    for pattern, replacement in SECRETS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    _second: tuple[int, str] = (0, "")  # the last second a line was logged in, written out to the second

    def format(self, record: logging.LogRecord) -> str:
        # Structured fields travel as extra={"fields": {...}}: one attribute to look up, not a scan of all.
        fields = getattr(record, "fields", None) or {}
        if "request_id" not in fields and has_request_context() and g.get("request_id"):
            fields = {"request_id": g.request_id, **fields}
        if record.exc_info:
            fields = {**fields, "exception": self.formatException(record.exc_info)}
        return self.line(record.created, record.levelname, record.name, record.getMessage(), fields)

    def line(self, created: float, level: str, logger: str, message: str, fields: dict) -> str:
        """One log line: when, how grave, from where, what, and the structured fields, secrets scrubbed."""
        entry = {"time": self._time(created), "level": level, "logger": logger, "message": message, **fields}
        return scrub(orjson.dumps(entry, default=str).decode())

    def _time(self, created: float) -> str:
        """ISO 8601 in UTC to the millisecond. Most lines fall in the same second as the one before, so the
        date and time up to the second are written out once per second: in full, every access line paid
        about 3 µs for it."""
        fraction, whole = math.modf(created)
        second, microsecond = divmod(int(whole) * 1_000_000 + round(fraction * 1_000_000), 1_000_000)
        cached, written = JsonFormatter._second  # one read: another thread may replace it meanwhile
        if cached != second:
            written = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            JsonFormatter._second = (second, written)
        return f"{written}.{microsecond // 1000:03d}+00:00"


def configure_logging(level: str) -> None:
    """One JSON handler on the `gateway` logger, installed once per process however many apps are created."""
    # Our lines carry no caller, so skip the stack walk that finds it for every record (the costly one of the
    # optimisations the logging HOWTO lists; a format naming %(filename)s or %(lineno)d still works). Thread and
    # process ids are gathered as usual: other formatters in the process print them (gunicorn's own lines are
    # `[%(process)d] ...`, and failed with `--- Logging error ---` while their id was None), and they cost about
    # 2 µs per record, which the per-request access line does not pay (it makes no record, see AccessLog).
    logging._srcfile = None
    logger = logging.getLogger("gateway")
    logger.setLevel(level.upper())
    if not any(getattr(handler, "_gateway_json", False) for handler in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._gateway_json = True  # AccessLog writes to this one itself
        logger.addHandler(handler)
        logger.propagate = False


class AccessLog:
    """One line per request, on the `gateway.access` logger.

    Through Logger.info a line cost about 15 µs (a LogRecord, the handler's lock and calls, the formatter), a
    twentieth of the status lookup's throughput. So the line goes to the gateway's own JSON handler
    (configure_logging) straight to its stream, in the formatter's format. Any other handler on the way (a
    test's, an embedding app's) gets an ordinary record, and a logger with filters sends every line the
    ordinary way.
    """

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def request(self, fields: dict) -> None:
        logger = self.logger
        if not logger.isEnabledFor(logging.INFO):
            return
        if logger.filters:
            logger.info("request", extra={"fields": fields})
            return
        created, record, current = time.time(), None, logger
        while current is not None:
            for handler in current.handlers:
                if handler.level > logging.INFO:
                    continue
                direct = _is_gateway_handler(handler)
                if direct and self._write(
                    handler, handler.formatter.line(created, "INFO", logger.name, "request", fields)
                ):
                    continue
                if record is None:
                    record = logger.makeRecord(logger.name, logging.INFO, "(access)", 0, "request", (), None)
                    record.created, record.fields = created, fields
                # A failed direct write is reported as emit() would report it, not written a second time.
                if direct:
                    handler.handleError(record)
                else:
                    handler.handle(record)
            current = current.parent if current.propagate else None

    @staticmethod
    def _write(handler: logging.StreamHandler, line: str) -> bool:
        """Write as StreamHandler.emit would; False if the stream fails."""
        try:
            with handler.lock:
                handler.stream.write(line + handler.terminator)
                handler.stream.flush()
        except Exception:  # a closed or broken stream: the caller reports it the logging module's way
            return False
        return True


def _is_gateway_handler(handler: logging.Handler) -> bool:
    """configure_logging's handler, as it installed it: no filters, the JSON formatter's own format()."""
    return (
        getattr(handler, "_gateway_json", False)
        and not handler.filters
        and getattr(type(handler.formatter), "format", None) is JsonFormatter.format
    )


access_log = AccessLog(logging.getLogger("gateway.access"))


def install_request_logging(app: Flask) -> None:
    """Give every request an id (the caller's X-Request-Id when acceptable), echo it, log one access line."""

    # The hooks run on every request: `request` and `g` are looked up once each (every use of the proxies
    # resolves the context again), and ids are random hex rather than UUID objects.

    @app.before_request
    def assign_request_id() -> None:
        offered = request._get_current_object().headers.get(REQUEST_ID_HEADER, "")
        context = g._get_current_object()
        context.request_id = offered if ACCEPTABLE_REQUEST_ID.match(offered) else secrets.token_hex(16)
        context.started = time.perf_counter()

    @app.after_request
    def log_request(response):
        current, context = request._get_current_object(), g._get_current_object()
        request_id = context.get("request_id") or secrets.token_hex(16)
        response.headers[REQUEST_ID_HEADER] = request_id
        principal = context.get("principal")
        access_log.request(
            {
                "request_id": request_id,
                "method": current.method,
                "path": current.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - context.get("started", time.perf_counter())) * 1000, 2),
                "partner": principal.partner_code if principal else None,
                "key_prefix": principal.key_prefix if principal else None,
            }
        )
        return response
