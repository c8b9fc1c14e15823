"""The campaign commands of `gateway`: preview, run and follow the inactivity campaign."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from gateway.cli.common import command_transaction, print_rows
from gateway.domain.clock import utcnow
from gateway.runtime import setting, store
from gateway.services import campaigns as campaign_service
from gateway.services.campaigns import CampaignSettings


@click.group()
def campaigns() -> None:
    """The inactive-membership campaign: preview, run, resume, follow."""


def _settings() -> CampaignSettings:
    return CampaignSettings.from_settings(current_app.config["GATEWAY"])


def _run_with_progress(campaign_id: str, total: int):
    with click.progressbar(length=max(total, 1), label="warning inactive members", file=sys.stderr) as bar:
        return campaign_service.run_campaign(store(), campaign_id, _settings(), clock=utcnow, on_chunk=bar.update)


@campaigns.command("inactivity")
@click.option("--dry-run", is_flag=True, help="Count who would be warned, by partner and market; change nothing.")
@with_appcontext
def inactivity(dry_run: bool) -> None:
    """Warn every inactive member not already warned (each gets a respond-by date), or preview with --dry-run."""
    with command_transaction() as session:
        campaign = campaign_service.start_campaign(
            session,
            dry_run=dry_run,
            policies=_settings().policies,
            respond_days=setting("INACTIVITY_RESPOND_DAYS"),
            now=utcnow(),
        )
    if dry_run:
        print_rows(campaign_service.count_rows(campaign.counts), ["partner", "market", "members"])
        click.echo(f"dry run {campaign.id}: {campaign.candidates} members would be warned; nothing changed")
        return
    finished = _run_with_progress(campaign.id, campaign.candidates)
    _report(finished)


def _report(campaign) -> None:
    print_rows(campaign_service.count_rows(campaign.counts), ["partner", "market", "members"])
    click.echo(
        f"campaign {campaign.id}: {campaign.status}, {campaign.warned} warned, "
        f"respond by {campaign.respond_by.date().isoformat()}"
    )


@campaigns.command("resume")
@click.argument("campaign_id")
@with_appcontext
def resume(campaign_id: str) -> None:
    """Carry on with a run that stopped part way (its lease must have run out, or be ours)."""
    with command_transaction() as session:
        campaign = campaign_service.get_campaign(session, campaign_id)
        remaining = max(campaign.candidates - campaign.warned, 0)
    finished = _run_with_progress(campaign_id, remaining)
    if finished is None:
        raise click.ClickException(f"Campaign {campaign_id} is finished or being run elsewhere.")
    _report(finished)


@campaigns.command("list")
@with_appcontext
def list_campaigns() -> None:
    """Campaign runs, oldest first."""
    with command_transaction() as session:
        rows = [
            {
                "id": campaign.id,
                "status": campaign.status,
                "dry_run": campaign.dry_run,
                "candidates": campaign.candidates,
                "warned": campaign.warned,
                "created_at": campaign.created_at.isoformat(timespec="seconds"),
            }
            for campaign in campaign_service.list_campaigns(session, limit=1000)
        ]
    print_rows(rows, ["id", "status", "dry_run", "candidates", "warned", "created_at"])


@campaigns.command("show")
@click.argument("campaign_id")
@with_appcontext
def show(campaign_id: str) -> None:
    """One run with its counts by partner and market."""
    with command_transaction() as session:
        campaign = campaign_service.get_campaign(session, campaign_id)
    _report(campaign)
