"""Prometheus metrics: requests by route and status, latency histograms. One registry per app."""

from __future__ import annotations

import glob
import logging
import os
import time

from flask import Flask, Response, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from gateway.delivery.queue_metrics import queue_exposition
from gateway.domain.clock import utcnow
from gateway.runtime import store

EXTENSION = "gateway.metrics"
log = logging.getLogger("gateway.metrics")


class HttpMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gateway_http_requests",
            "HTTP requests handled, by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "gateway_http_request_duration_seconds",
            "Time to handle a request, by route template and method.",
            ["route", "method"],
            registry=self.registry,
        )
        self._children: dict[tuple[str, str, int], tuple] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one request and its latency. The labelled children are looked up once per label set and
        kept: `labels()` validates and locks on every call, which shows on the busiest routes."""
        key = (route, method, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route, method),
            )
        children[0].inc()
        children[1].observe(seconds)

    def exposition(self) -> bytes:
        # Under gunicorn each worker writes its own files; the collector sums them, so /metrics shows
        # the whole server whichever worker answers.
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if directory:
            registry = CollectorRegistry()
            registry.register(WorkerFiles(directory, HTTP_METRIC_KINDS))
            return generate_latest(registry)
        return generate_latest(self.registry)


# The kinds of metric HttpMetrics has: what the workers' files hold for it, summed over the workers.
HTTP_METRIC_KINDS = ("counter", "histogram")


class WorkerFiles(Collector):
    """prometheus_client's MultiProcessCollector, reading only the files of some kinds of metric.

    With PROMETHEUS_MULTIPROC_DIR set, every Gauge in the process writes its values to the directory too, even one
    built for a single scrape: the delivery queue's gauges (read from the store at each scrape) left one file per
    worker, which MultiProcessCollector read back as one series per worker and partner (a `pid` label), kept at
    the value each worker last saw, after the queue had emptied and beside the fresh series. Only the HTTP
    metrics are summed over the workers; the queue is read from the store, the same for every worker.
    """

    def __init__(self, directory: str, kinds: tuple[str, ...]) -> None:
        self.directory = directory
        self.kinds = kinds

    def collect(self):
        # Files are named <kind>_<pid>.db (gauges: gauge_<mode>_<pid>.db).
        files = [path for kind in self.kinds for path in glob.glob(os.path.join(self.directory, f"{kind}_*.db"))]
        return MultiProcessCollector.merge(files, accumulate=True)


def install_metrics(app: Flask) -> HttpMetrics:
    metrics = HttpMetrics()
    app.extensions[EXTENSION] = metrics

    @app.after_request
    def record(response):
        current = request._get_current_object()  # once: every use of the proxy looks the context up again
        # The route template, not the path: ids in paths would make the label set unbounded.
        route = current.url_rule.rule if current.url_rule else "(unmatched)"
        # g.started: set for every request by the request logging (gateway.logs), installed before this.
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        metrics.observe(route, current.method, response.status_code, elapsed)
        return response

    return metrics


def metrics_response(app: Flask) -> Response:
    """HTTP metrics summed over the workers, then the delivery queue as the store shows it now."""
    body = app.extensions[EXTENSION].exposition()
    try:
        body += queue_exposition(store(), utcnow())
    except SQLAlchemyError:  # the store is down: /readyz says so; the HTTP metrics are still worth having
        log.warning("delivery queue metrics left out: the store cannot be read", exc_info=True)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)
