"""Operator API for keys: issue, list, read, rotate and revoke them (never showing a secret twice)."""

from __future__ import annotations

from datetime import timedelta

from flask.views import MethodView
from flask_smorest import Blueprint

from contracts.keys import (
    IssuedKeySchema,
    KeyIssueSchema,
    KeyListQuerySchema,
    KeyPageSchema,
    KeyRotateSchema,
    KeySchema,
)
from gateway.api.http.auth import requires
from gateway.api.http.idempotent import idempotent
from gateway.api.http.pagination import page, time_and_id_after
from gateway.api.http.uow import in_transaction, reading
from gateway.api.shared.presenters import key_body
from gateway.domain.clock import utcnow
from gateway.domain.keys import KeyKind, Scope
from gateway.runtime import setting
from gateway.services import keys as key_service

blp = Blueprint("keys", __name__)


@blp.route("/keys")
class Keys(MethodView):
    @requires(Scope.ADMIN)
    @blp.arguments(KeyListQuerySchema, location="query")
    @blp.response(200, KeyPageSchema)
    def get(self, query):
        """List keys (never their secrets), oldest first"""
        after = time_and_id_after(query)
        now = utcnow()
        with reading() as session:
            found = key_service.list_keys(
                session,
                limit=query["limit"] + 1,
                after=after,
                partner_code=query.get("partner"),
                kind=query.get("kind"),
            )
        body = page(found, query["limit"], key=lambda key: [key.created_at.isoformat(), key.id])
        body["items"] = [key_body(key, now) for key in body["items"]]
        return body

    @requires(Scope.ADMIN)
    # No @idempotent: the stored response would keep the token in clear; a retry issues another key.
    @in_transaction
    @blp.arguments(KeyIssueSchema)
    @blp.response(201, IssuedKeySchema)
    def post(self, body, session):
        """Issue a key; the token is in this response only"""
        now = utcnow()
        issued = key_service.issue_key(
            session,
            kind=KeyKind(body["kind"]),
            scopes=body["scopes"],
            name=body["name"],
            partner_code=body.get("partner"),
            now=now,
        )
        return key_body(issued.key, now, token=issued.token)


@blp.route("/keys/<key_id>")
class KeyItem(MethodView):
    @requires(Scope.ADMIN)
    @blp.response(200, KeySchema)
    def get(self, key_id):
        """Show one key"""
        with reading() as session:
            return key_body(key_service.get_key(session, key_id), utcnow())


@blp.route("/keys/<key_id>/rotate")
class KeyRotate(MethodView):
    @requires(Scope.ADMIN)
    # No @idempotent: the stored response would keep the token in clear; a retry issues another key.
    @in_transaction
    @blp.arguments(KeyRotateSchema, required=False)
    @blp.response(201, IssuedKeySchema)
    def post(self, body, key_id, session):
        """Rotate a key: a successor is issued, the old key works until the overlap ends"""
        hours = body.get("overlap_hours", setting("KEY_ROTATION_OVERLAP_HOURS"))
        now = utcnow()
        issued = key_service.rotate_key(session, key_id, overlap=timedelta(hours=hours), now=now)
        return key_body(issued.key, now, token=issued.token)


@blp.route("/keys/<key_id>/revoke")
class KeyRevoke(MethodView):
    @requires(Scope.ADMIN)
    @idempotent
    @blp.response(200, KeySchema)
    def post(self, key_id, session):
        """Revoke a key: refused from the next request on"""
        now = utcnow()
        return key_body(key_service.revoke_key(session, key_id, now=now), now)
