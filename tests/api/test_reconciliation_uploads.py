"""A roster upload that ends before the length its client announced is refused and compares nothing.

Under gunicorn the body reaches the app already framed (wsgi.input_terminated): a client gone mid-upload reads
as a normal end of data there, so these tests hand the app a body the same way, shorter than its Content-Length.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind
from gateway.store.models import Reconciliation, Subscription
from tests.support.api import app_store, bearer
from tests.support.seeding import add_subscription

REFS = [f"cust-{index}" for index in range(4)]


@pytest.fixture
def partner(app, seed):
    seed.partner("nordlink", markets=["DE"])
    with app_store(app).transaction() as session:
        for ref in REFS:
            add_subscription(session, "nordlink", ref, now=utcnow())
    return bearer(seed.token(KeyKind.PARTNER, "nordlink"))


def _cut_upload(client, headers, *, announced_extra: int, key: str | None = None):
    """The roster's header and first customer only, announced as longer than that."""
    sent = b"partner_ref,status,plan\ncust-0,active,standard\n"
    return client.post(
        "/v1/reconciliations",
        headers={**headers, **({"Idempotency-Key": key} if key else {})},
        environ_overrides={
            "wsgi.input": io.BytesIO(sent),
            "wsgi.input_terminated": True,
            "CONTENT_LENGTH": str(len(sent) + announced_extra),
            "CONTENT_TYPE": "text/csv",
        },
    )


@pytest.mark.parametrize("key", [None, "upload-1"], ids=["streamed", "spooled-with-a-key"])
def test_a_cut_off_roster_is_a_400_and_reports_nobody_missing(app, client, partner, key):
    refused = _cut_upload(client, partner, announced_extra=500, key=key)
    assert refused.status_code == 400, refused.get_data(as_text=True)
    assert refused.mimetype == "application/problem+json" and "bytes announced" in refused.json["detail"]
    with app_store(app).read() as session:
        jobs = session.scalars(select(Reconciliation)).all()
        # Streamed, the job had started and failed; spooled, the cut showed before any job began.
        assert [job.status for job in jobs] == ([] if key else ["failed"])
        assert all(job.counts["only_at_gateway"] == 0 for job in jobs)
        assert set(session.scalars(select(Subscription.status))) == {"active"}
    if key:  # the key was never claimed: the whole roster, sent again with it, is compared
        whole = b"partner_ref,status,plan\n" + b"".join(f"{ref},active,standard\n".encode() for ref in REFS)
        retried = client.post(
            "/v1/reconciliations", data=whole, content_type="text/csv", headers={**partner, "Idempotency-Key": key}
        )
        assert retried.status_code == 201 and retried.json["rows"] == len(REFS)
        assert retried.headers["Location"].endswith(f"/v1/reconciliations/{retried.json['id']}")
        replayed = client.post(
            "/v1/reconciliations", data=whole, content_type="text/csv", headers={**partner, "Idempotency-Key": key}
        )
        assert replayed.headers["Location"] == retried.headers["Location"] and replayed.json == retried.json


def test_a_body_of_exactly_the_announced_length_is_compared(client, partner):
    accepted = _cut_upload(client, partner, announced_extra=0)
    assert accepted.status_code == 201
    assert accepted.json["rows"] == 1 and accepted.json["counts"]["only_at_gateway"] == len(REFS) - 1
