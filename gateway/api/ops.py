"""Operational endpoints: liveness, readiness, metrics, and the pages that problem `type`s point to."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from gateway.http.problems import PROBLEM_TYPES, problem
from gateway.metrics import metrics_response
from gateway.runtime import store
from gateway.store import migrate

blp = Blueprint("ops", __name__)
log = logging.getLogger("gateway.ops")

# Routes anyone may call: the auth matrix test checks every other route demands a key.
PUBLIC_ENDPOINTS = {"ops.healthz", "ops.readyz", "ops.metrics", "ops.problem_type"}


@blp.get("/healthz")
def healthz():
    """Alive: the process answers. Says nothing about the store (that is /readyz)."""
    return jsonify(status="ok")


@blp.get("/readyz")
def readyz():
    """Ready: the store answers and has every migration applied; 503 otherwise, so a balancer skips us."""
    try:
        store().ping()
        current = migrate.current_revision(store().engine)
    except SQLAlchemyError as error:
        log.warning("store unreachable", extra={"fields": {"error": type(error).__name__}})
        return problem("not-ready", "The store cannot be reached.")
    head = migrate.head_revision()
    if current != head:
        return problem(
            "not-ready",
            f"The store is at migration {current}, the code needs {head}: run 'gateway db upgrade'.",
        )
    return jsonify(status="ready", migration=current)


@blp.get("/metrics")
def metrics():
    return metrics_response(current_app)


@blp.get("/problems/<slug>")
def problem_type(slug: str):
    """Human-readable description of a problem type, so every `type` URI resolves to something."""
    if slug not in PROBLEM_TYPES:
        abort(404)
    status, title, meaning = PROBLEM_TYPES[slug]
    text = f"{title} ({status})\n\n{meaning}\n"
    return Response(text, mimetype="text/plain")
