"""idempotency secrets withheld: responses kept for Idempotency-Key retries lose the secrets they showed once

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 00:10:00.000000
"""

import json
import re

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# As gateway.services.idempotency.withhold_secrets at this revision (a migration keeps its own copy: the code's
# may change after it): a whsec_ secret or a gw_ key token, as a field's whole value, becomes null with
# `<field>_withheld: true` beside it; inside a longer text, "[withheld]".
SHOWN_ONCE = re.compile(r"whsec_[A-Za-z0-9+/=]+|gw_[0-9a-f]{12}_[0-9a-f]{48}")

records = sa.table(
    "idempotency_records",
    sa.column("owner", sa.String),
    sa.column("key", sa.String),
    sa.column("body", sa.Text),
)


def _withheld(value):
    if isinstance(value, dict):
        kept, withheld = {}, []
        for name, item in value.items():
            if isinstance(item, str) and SHOWN_ONCE.fullmatch(item):
                kept[name] = None
                withheld.append(f"{name}_withheld")
            else:
                kept[name] = _withheld(item)
        kept.update(dict.fromkeys(withheld, True))
        return kept
    if isinstance(value, list):
        return [_withheld(item) for item in value]
    if isinstance(value, str):
        return SHOWN_ONCE.sub("[withheld]", value)
    return value


def _without_secrets(body: str) -> str:
    try:
        return json.dumps(_withheld(json.loads(body)), separators=(",", ":"))
    except ValueError:
        return SHOWN_ONCE.sub("[withheld]", body)


def upgrade() -> None:
    connection = op.get_bind()
    # Records live a day (GATEWAY_IDEMPOTENCY_TTL_HOURS): few rows, read once.
    found = connection.execute(
        sa.select(records.c.owner, records.c.key, records.c.body).where(
            records.c.body.contains("whsec_", autoescape=True) | records.c.body.contains("gw_", autoescape=True)
        )
    ).all()
    for owner, key, body in found:
        if SHOWN_ONCE.search(body) is None:
            continue
        connection.execute(
            sa.update(records).where(records.c.owner == owner, records.c.key == key).values(body=_without_secrets(body))
        )


def downgrade() -> None:
    pass  # the secrets are gone for good; the withheld bodies are valid responses for the code before
