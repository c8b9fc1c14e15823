"""Partner API for roster reconciliation: upload a roster, read the drift report, apply the repairs."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from typing import IO

from flask import Response, request, stream_with_context, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from werkzeug.exceptions import ClientDisconnected

from contracts.reconciliations import (
    ReconciliationItemPageSchema,
    ReconciliationItemQuerySchema,
    ReconciliationSchema,
)
from gateway.api.http import uow
from gateway.api.http.auth import current_partner_code, requires
from gateway.api.http.idempotent import first_step, idempotent_in_steps, keep_claim, key_sent
from gateway.api.http.pagination import number_after, page
from gateway.domain.clock import utcnow
from gateway.domain.errors import InvalidInput
from gateway.domain.keys import Scope
from gateway.domain.roster import RosterFormat, read_roster, text_lines
from gateway.http.guards import accepts_body
from gateway.runtime import store
from gateway.services import idempotency
from gateway.services import reconciliation as reconciliation_service

blp = Blueprint("reconciliations", __name__)

SPOOL_CHUNK_BYTES = 1024 * 1024
ROSTER_MEDIA_TYPES = {"text/csv": RosterFormat.CSV, "application/x-ndjson": RosterFormat.NDJSON}
ROSTER_BODY = {
    "required": True,
    "description": "The roster: one row per customer with partner_ref, status (active, suspended, cancelled) "
    "and plan. CSV with a header line, or NDJSON with one object per line. Read as a stream.",
    "content": {
        "text/csv": {"schema": {"type": "string"}, "example": "partner_ref,status,plan\ncust-1,active,standard\n"},
        "application/x-ndjson": {"schema": {"type": "string"}},
    },
}


def _own_job(session, job_id: str):
    return reconciliation_service.get(session, job_id, partner_code=current_partner_code())


def _job_location(job_id: str) -> str:
    return url_for("partner.reconciliations.ReconciliationJob", reconciliation_id=job_id)


class WholeBody(io.RawIOBase):
    """The request body, which may not end before the Content-Length its client announced.

    gunicorn hands the app a body it has framed itself (wsgi.input_terminated), and a client gone mid-upload
    then reads as a normal end of data. For a roster that would be the worst outcome: every customer after
    the cut would be reported only at the gateway, and applying that would cancel them. So a short body is
    a ClientDisconnected (400): the job fails and nothing is compared.
    """

    def __init__(self, stream: IO[bytes], announced: int | None) -> None:
        super().__init__()
        self._stream, self._announced, self._read = stream, announced, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        if not data and self._announced is not None and self._read < self._announced:
            raise ClientDisconnected(
                f"The roster ended after {self._read} of the {self._announced} bytes announced: nothing was compared."
            )
        buffer[: len(data)] = data
        self._read += len(data)
        return len(data)


def _spooled(stream: IO[bytes], roster_format: RosterFormat, into: IO[bytes]) -> str:
    """Copy the roster to a temporary file, hashing it on the way: its fingerprint, in constant memory."""

    def parts() -> Iterator[bytes]:
        yield f"{roster_format}\n".encode()  # the same bytes as CSV and as NDJSON are different requests
        while chunk := stream.read(SPOOL_CHUNK_BYTES):
            into.write(chunk)
            yield chunk

    request_fingerprint = idempotency.streamed_fingerprint(request.method, request.path, parts())
    into.seek(0)
    return request_fingerprint


@blp.route("/reconciliations")
class Reconciliations(MethodView):
    @requires(Scope.SUBSCRIPTIONS_WRITE)
    @idempotent_in_steps
    @accepts_body(*ROSTER_MEDIA_TYPES, limit_setting="MAX_ROSTER_BYTES")
    @blp.doc(requestBody=ROSTER_BODY)
    @blp.response(
        201,
        ReconciliationSchema,
        headers={"Location": {"description": "Where the job is read again.", "schema": {"type": "string"}}},
    )
    def post(self):
        """Compare a roster with the gateway (a dry run: nothing changes until the job is applied)

        With an Idempotency-Key the roster is first copied to a temporary file while it is hashed (memory stays
        flat), then the key is claimed as the job starts; the job's response is kept for retries.
        """
        roster_format = ROSTER_MEDIA_TYPES.get(request.mimetype)
        if roster_format is None:  # no body at all: the guard only checks bodies that are there
            raise InvalidInput({"Content-Type": "Send the roster as text/csv or application/x-ndjson."}, "header")
        # A roster can take minutes to arrive: hand back the read connection authentication used, so no
        # transaction stays open on it for that long.
        uow.close_request_rows()
        with ExitStack() as cleanup:
            uploaded = WholeBody(request.stream, request.content_length)
            body, request_fingerprint = uploaded, None
            if key_sent():  # the whole roster first: its fingerprint decides whether this is a retry
                body = cleanup.enter_context(tempfile.TemporaryFile())
                request_fingerprint = _spooled(uploaded, roster_format, body)
            rows = read_roster(text_lines(body), roster_format)  # a CSV header is checked here
            with first_step(request_fingerprint) as step:
                job = reconciliation_service.create_job(step.session, current_partner_code(), roster_format, utcnow())
                step.headers["Location"] = _job_location(job.id)
            finished = reconciliation_service.run(store(), job.id, rows, progress=keep_claim)
            return finished, 201, {"Location": _job_location(job.id)}  # kept with the key: a replay has it too


@blp.route("/reconciliations/<reconciliation_id>")
class ReconciliationJob(MethodView):
    @requires(Scope.SUBSCRIPTIONS_READ)
    @blp.response(200, ReconciliationSchema)
    def get(self, reconciliation_id):
        """A reconciliation's progress and counts"""
        with uow.reading() as session:
            return _own_job(session, reconciliation_id)


@blp.route("/reconciliations/<reconciliation_id>/items")
class ReconciliationItems(MethodView):
    @requires(Scope.SUBSCRIPTIONS_READ)
    @blp.arguments(ReconciliationItemQuerySchema, location="query")
    @blp.response(200, ReconciliationItemPageSchema)
    def get(self, query, reconciliation_id):
        """The rows of the drift report, by kind"""
        after = number_after(query)
        with uow.reading() as session:
            _own_job(session, reconciliation_id)
            found = reconciliation_service.list_items(
                session, reconciliation_id, kind=query.get("kind"), after_id=after, limit=query["limit"] + 1
            )
        return page(found, query["limit"], key=lambda item: [str(item.id)])


@blp.route("/reconciliations/<reconciliation_id>/report.csv")
class ReconciliationReport(MethodView):
    @requires(Scope.SUBSCRIPTIONS_READ)
    @blp.response(200, {"type": "string"}, content_type="text/csv")
    def get(self, reconciliation_id):
        """The whole drift report as CSV, streamed"""
        with uow.reading() as session:
            _own_job(session, reconciliation_id)
        report = reconciliation_service.report_csv(store(), reconciliation_id)
        filename = f"{reconciliation_id}.csv"
        return Response(
            stream_with_context(report),
            mimetype="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


@blp.route("/reconciliations/<reconciliation_id>/apply")
class ReconciliationApply(MethodView):
    @requires(Scope.SUBSCRIPTIONS_WRITE)
    @idempotent_in_steps
    @blp.response(200, ReconciliationSchema)
    def post(self, reconciliation_id):
        """Make the repairs: each goes through the lifecycle and sends its event; applying twice changes nothing

        A repair whose subscription changed since the comparison, or that the lifecycle refuses, is not made;
        its item says why. The repairs are committed in chunks; an Idempotency-Key is claimed before the first.
        """
        uow.close_request_rows()
        body = request.get_data()
        fingerprints = (
            idempotency.fingerprint(request.method, request.path, body),
            idempotency.fingerprint_as_bytes(request.method, request.path, body),
        )
        with first_step(*fingerprints) as step:
            reconciliation_service.check_applicable(
                step.session, reconciliation_id, partner_code=current_partner_code()
            )
            step.headers["Location"] = _job_location(reconciliation_id)
        return reconciliation_service.apply(
            store(), reconciliation_id, partner_code=current_partner_code(), now=utcnow(), progress=keep_claim
        )
