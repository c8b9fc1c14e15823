"""The `gateway` command: one group per area, each in a module of its own, put together here.

The command modules know nothing of each other or of this package's root: each defines its click commands,
and `cli` (gateway.cli.root) is given them below. `gateway --help` lists them.
"""

from __future__ import annotations

from gateway.cli import (
    campaigns,
    db,
    delivery,
    endpoints,
    faq,
    keys,
    partners,
    reconcile,
    scheduler,
    serving,
    sharing,
)
from gateway.cli.root import cli

COMMANDS = (
    db.db,
    partners.partner,
    endpoints.endpoints,
    keys.key,
    serving.serve,
    serving.demo,
    scheduler.scheduler,
    reconcile.reconcile,
    delivery.dispatch,
    delivery.deliveries,
    campaigns.campaigns,
    faq.faq,
    sharing.sharing,
)
for command in COMMANDS:
    cli.add_command(command)


def main() -> None:
    cli.main(prog_name="gateway")


__all__ = ["cli", "main"]
