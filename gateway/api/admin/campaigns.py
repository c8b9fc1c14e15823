"""Operator API for campaigns: preview or start the inactivity campaign, and follow a run as a job."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from contracts.campaigns import CampaignCreateSchema, CampaignListQuerySchema, CampaignPageSchema, CampaignSchema
from gateway.api.http.auth import requires
from gateway.api.http.idempotent import idempotent
from gateway.api.http.pagination import page, time_and_id_after
from gateway.api.http.uow import reading
from gateway.domain.clock import utcnow
from gateway.domain.keys import Scope
from gateway.runtime import setting
from gateway.services import campaigns as campaign_service
from gateway.services.campaigns import CampaignSettings
from gateway.store.models import Campaign

blp = Blueprint("campaigns", __name__)


def campaign_body(campaign: Campaign) -> dict[str, Any]:
    return {
        "id": campaign.id,
        "kind": campaign.kind,
        "status": campaign.status,
        "dry_run": campaign.dry_run,
        "respond_by": campaign.respond_by,
        "candidates": campaign.candidates,
        "warned": campaign.warned,
        "counts": campaign_service.count_rows(campaign.counts),
        "created_at": campaign.created_at,
        "started_at": campaign.started_at,
        "finished_at": campaign.finished_at,
    }


@blp.route("/campaigns")
class Campaigns(MethodView):
    @requires(Scope.ADMIN)
    @idempotent
    @blp.arguments(CampaignCreateSchema)
    @blp.response(201, CampaignSchema)
    def post(self, body, session):
        """Preview (dry run, the default) or start an inactivity campaign run; `gateway scheduler run` runs it"""
        campaign = campaign_service.start_campaign(
            session,
            dry_run=body["dry_run"],
            policies=CampaignSettings.from_settings(current_app.config["GATEWAY"]).policies,
            respond_days=setting("INACTIVITY_RESPOND_DAYS"),
            now=utcnow(),
        )
        location = url_for("admin.campaigns.CampaignItem", campaign_id=campaign.id)
        return campaign_body(campaign), {"Location": location}

    @requires(Scope.ADMIN)
    @blp.arguments(CampaignListQuerySchema, location="query")
    @blp.response(200, CampaignPageSchema)
    def get(self, query):
        """List campaign runs, oldest first"""
        with reading() as session:
            found = campaign_service.list_campaigns(session, limit=query["limit"] + 1, after=time_and_id_after(query))
            body = page(found, query["limit"], key=lambda run: [run.created_at.isoformat(), run.id])
            body["items"] = [campaign_body(run) for run in body["items"]]
            return body


@blp.route("/campaigns/<campaign_id>")
class CampaignItem(MethodView):
    @requires(Scope.ADMIN)
    @blp.response(200, CampaignSchema)
    def get(self, campaign_id):
        """One campaign run: status, progress (warned of candidates) and counts by partner and market"""
        with reading() as session:
            return campaign_body(campaign_service.get_campaign(session, campaign_id))
