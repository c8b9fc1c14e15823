"""Operational endpoints: liveness, readiness, metrics, the pages that problem `type`s point to, and the files of
the API explorer at /docs."""

from __future__ import annotations

import logging
from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Response, abort, current_app, jsonify, send_from_directory
from sqlalchemy.exc import SQLAlchemyError

from gateway.http.problems import PROBLEM_TYPES, problem
from gateway.metrics import metrics_response
from gateway.runtime import store
from gateway.store import migrate

blp = Blueprint("ops", __name__)
log = logging.getLogger("gateway.ops")

# Routes anyone may call: the auth matrix test checks every other route demands a key.
PUBLIC_ENDPOINTS = {"ops.healthz", "ops.readyz", "ops.metrics", "ops.problem_type", "ops.docs_asset"}

# Swagger UI's files, served by the gateway itself so /docs works without internet and runs exactly the version
# installed with it (the flask-swagger-ui wheel ships Swagger UI 5's dist; only its files are used). The three
# the explorer page loads (flask-smorest's swagger_ui.html), nothing else from that folder.
DOCS_ASSETS_URL = "/docs/assets/"
DOCS_ASSETS_FOLDER = Path(flask_swagger_ui.__file__).parent / "dist"
DOCS_ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"})
DOCS_ASSETS_MAX_AGE = 24 * 3600


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


@blp.get(f"{DOCS_ASSETS_URL}<name>")
def docs_asset(name: str):
    """One of the files the API explorer at /docs loads."""
    if name not in DOCS_ASSETS:
        abort(404)
    return send_from_directory(DOCS_ASSETS_FOLDER, name, max_age=DOCS_ASSETS_MAX_AGE)
