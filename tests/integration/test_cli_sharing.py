"""`gateway sharing`: list policies and who has acknowledged them, against a real SQLite store."""

from __future__ import annotations

import re
from datetime import timedelta

from gateway.domain.clock import utcnow
from gateway.services import sharing as sharing_service
from gateway.store.db import Store, make_engine
from tests.support.seeding import Seeder


def test_policies_and_pending_acknowledgements_are_listed(run, sqlite_database):
    assert run("sharing", "list").output.strip() == "(none)"
    store = Store(make_engine(sqlite_database.url))
    seed = Seeder(store)
    seed.partner("rheinfunk", markets=["DE"])
    seed.partner("alpenwelle", markets=["AT"], locale="en")
    now = utcnow()
    with store.transaction() as session:
        policy = sharing_service.create_policy(
            session,
            markets=["DE", "AT"],
            rule="one_household",
            extra_member={},
            effective_at=now + timedelta(days=10),
            lead=timedelta(days=30),
            now=now,
        )
    sharing_service.run_due_sharing_notices(store, now=now, reminder_schedule=[timedelta(days=3)])
    with store.transaction() as session:
        [(notice, _)] = sharing_service.list_partner_notices(session, "rheinfunk", limit=1)
        sharing_service.acknowledge(session, "rheinfunk", notice.id, key_id="key_x", now=now)
    store.dispose()

    listing = run("sharing", "list").output.splitlines()
    assert listing[0].split()[:4] == ["ID", "MARKETS", "RULE", "STATUS"]
    assert re.search(rf"{policy.id}\s+DE,AT\s+one_household\s+announced\s+.*\s1/2\s*$", listing[1])
    assert run("sharing", "list", "--status", "effective").output.strip() == "(none)"
    everyone = run("sharing", "acknowledgements", policy.id).output
    assert "rheinfunk" in everyone and "alpenwelle" in everyone
    pending = run("sharing", "acknowledgements", policy.id, "--pending").output
    assert "alpenwelle" in pending and "rheinfunk" not in pending
    missing = run("sharing", "acknowledgements", "shp_missing", ok=False)
    assert missing.exit_code == 1 and "No sharing policy 'shp_missing'" in missing.output
