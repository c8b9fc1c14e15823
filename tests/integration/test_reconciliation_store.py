"""Reconciliation on a real store, SQLite and PostgreSQL, with chunks small enough to cross their borders."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from gateway.domain.clock import utcnow
from gateway.domain.lifecycle import Actor, Command
from gateway.domain.roster import RosterFormat, read_roster
from gateway.services import reconciliation
from gateway.services.partners import add_partner
from gateway.services.reconciliation.jobs import fail
from gateway.services.reconciliation.scratch import ROSTER_REFS
from gateway.services.subscriptions import apply_command
from gateway.store.models import OutboxEvent, ReconciliationItem, Subscription
from tests.support.parallel import all_at_once
from tests.support.seeding import add_subscription

ROSTER = """partner_ref,status,plan
a,active,standard
b,suspended,standard
a,active,standard
c,active,premium
zz,active,standard
b,active,standard
"""


def _add_nordlink(session, now):
    add_partner(
        session, code="nordlink", display_name="N", markets=["DE"], default_locale="de", flavour="standard", now=now
    )


def _partner_with_live(store, *refs):
    """nordlink with an active subscription per ref; their ids."""
    now = utcnow()
    with store.transaction() as session:
        _add_nordlink(session, now)
        return {ref: add_subscription(session, "nordlink", ref, now=now).id for ref in refs}


def _seed(store):
    return _partner_with_live(store, "a", "b", "c", "d")


def test_drift_across_chunk_borders_and_apply(store):
    _seed(store)
    job_id = reconciliation.start(store, "nordlink", RosterFormat.CSV, utcnow())
    progress = []
    job = reconciliation.run(
        store,
        job_id,
        read_roster(io.StringIO(ROSTER, newline=""), RosterFormat.CSV),
        chunk_rows=2,
        progress=progress.append,
    )
    # Rows as each chunk is staged; then a 0 after each page of the comparison (still at work, no rows).
    assert job.status == "completed" and job.rows == 6 and progress[:3] == [2, 2, 2] and set(progress[3:]) == {0}
    assert progress[3:]
    assert job.counts == {
        "bad_row": 2,
        "only_at_partner": 1,
        "only_at_gateway": 1,
        "status_mismatch": 1,
        "plan_mismatch": 1,
    }
    with store.read() as session:
        bad = session.scalars(
            select(ReconciliationItem.detail)
            .where(ReconciliationItem.kind == "bad_row")
            .order_by(ReconciliationItem.line)
        ).all()
        assert bad == ["duplicate partner_ref (also on line 2)", "duplicate partner_ref (also on line 3)"]

    applied = reconciliation.apply(store, job_id, now=utcnow())
    assert applied.repaired == 3
    assert reconciliation.apply(store, job_id, now=utcnow()).repaired == 3


def _run_broken_upload(store) -> str:
    """A job whose upload breaks off after every row of ROSTER (the client went away); its id."""
    job_id = reconciliation.start(store, "nordlink", RosterFormat.CSV, utcnow())

    def rows_then_break():
        yield from read_roster(io.StringIO(ROSTER, newline=""), RosterFormat.CSV)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        reconciliation.run(store, job_id, rows_then_break(), chunk_rows=2)
    return job_id


def test_a_broken_upload_marks_the_job_failed(store):
    _seed(store)
    job_id = _run_broken_upload(store)
    with store.read() as session:
        assert reconciliation.get(session, job_id).status == "failed"


def test_a_job_that_completed_is_never_marked_failed_afterwards(store):
    """Whatever fails after a job's last commit (the drop of its scratch table, say) leaves it completed."""
    _seed(store)
    job = _run(store, ROSTER)
    fail(store, job.id)
    with store.read() as session:
        assert reconciliation.get(session, job.id).status == "completed"


def test_a_roster_refs_table_left_on_a_connection_is_not_read_by_the_next_job(store):
    _seed(store)
    with store.engine.connect() as connection:  # the pool's only connection, which the job will use
        ROSTER_REFS.create(connection)
        connection.execute(
            ROSTER_REFS.insert(),
            [{"partner_ref": ref, "line": 2, "claim": None} for ref in ("a", "b", "c")],
        )
        connection.commit()
    assert store.engine.pool.checkedin() == 1
    job = _run(store, "partner_ref,status,plan\nd,active,standard\n")
    assert job.counts["only_at_gateway"] == 3  # a, b and c: the leftover rows named them


def test_each_job_compares_its_own_roster_only(store):
    """A job's refs stay with it: one that broke off leaves none for the next job on its connection, and two
    jobs at once (two threads, two connections) each see their own roster."""
    _seed(store)
    _run_broken_upload(store)
    # Leftovers naming a, b and c would hide them from 'only at the gateway'.
    job = _run(store, "partner_ref,status,plan\nd,active,standard\n")
    assert job.counts["only_at_gateway"] == 3

    rosters = ["partner_ref,status,plan\na,active,standard\n", "partner_ref,status,plan\nb,active,standard\n"]
    jobs = all_at_once(2, lambda index: _run(store, rosters[index]))
    with store.read() as session:
        missing = [
            {item.partner_ref for item in reconciliation.list_items(session, job.id, kind="only_at_gateway")}
            for job in jobs
        ]
    assert missing == [{"b", "c", "d"}, {"a", "c", "d"}]


def _compared(store):
    """The ROSTER compared: b to suspend (line 3), c to upgrade (line 5), d to cancel (only at the gateway)."""
    _seed(store)
    job_id = reconciliation.start(store, "nordlink", RosterFormat.CSV, utcnow())
    reconciliation.run(store, job_id, read_roster(io.StringIO(ROSTER, newline=""), RosterFormat.CSV))
    with store.read() as session:
        ids = dict(session.execute(select(Subscription.partner_ref, Subscription.id)).all())
    return job_id, ids


def _items_by_ref(store, job_id):
    with store.read() as session:
        return {item.partner_ref: item for item in reconciliation.list_items(session, job_id) if item.kind != "bad_row"}


def test_a_repair_whose_plan_moved_on_is_skipped_and_the_others_are_made(store):
    job_id, ids = _compared(store)
    with store.transaction() as session:  # after the comparison, c is upgraded by another path
        apply_command(
            session,
            session.get(Subscription, ids["c"]),
            Command.CHANGE_PLAN,
            actor=Actor.PARTNER,
            reason="",
            now=utcnow(),
            plan="premium",
        )

    job = reconciliation.apply(store, job_id, now=utcnow())

    assert job.repaired == 2
    items = _items_by_ref(store, job_id)
    assert items["c"].repaired_at is None and items["c"].repair is None
    assert items["c"].detail.endswith("not repaired: the subscription changed since the comparison")
    assert items["b"].repaired_at is not None and items["d"].repaired_at is not None
    with store.read() as session:
        assert session.get(Subscription, ids["b"]).status == "suspended"
        assert session.get(Subscription, ids["d"]).status == "cancelled"
    assert reconciliation.apply(store, job_id, now=utcnow()).repaired == 2  # a retry: nothing more, no error


def test_a_repair_the_lifecycle_refuses_is_recorded_on_its_item_and_the_others_are_made(store):
    job_id, ids = _compared(store)
    with store.transaction() as session:  # a repair the state machine refuses: resume an active subscription
        item = session.scalars(
            select(ReconciliationItem).where(
                ReconciliationItem.reconciliation_id == job_id,
                ReconciliationItem.partner_ref == "b",
                ReconciliationItem.kind == "status_mismatch",
            )
        ).one()
        item.repair = "resume"
        item.gateway_status = "active"
        sequence_before = session.get(Subscription, ids["b"]).sequence

    job = reconciliation.apply(store, job_id, now=utcnow())

    assert job.repaired == 2
    items = _items_by_ref(store, job_id)
    assert items["b"].repaired_at is None and items["b"].repair is None
    assert "not repaired: Cannot resume a subscription that is active" in items["b"].detail
    with store.read() as session:
        b = session.get(Subscription, ids["b"])
        assert b.status == "active" and b.sequence == sequence_before  # nothing half-done: no history, no event
        assert session.get(Subscription, ids["c"]).plan == "premium"
        assert session.get(Subscription, ids["d"]).status == "cancelled"
        resumed = select(func.count()).where(OutboxEvent.event_type == "subscription.resumed")
        assert session.scalar(resumed) == 0


# -- a bad row keeps its customer off 'only at the gateway' ------------------------------------------------------

BAD_ROWS_ROSTER = """partner_ref,status,plan
a,sometimes,standard
b,active,
c,active,platinum
x,active
d,active,standard
d,active,"standard
a,active,standard
"""  # a: unknown status; b: missing plan; c: unknown plan; x: too few fields (no such subscription); d: good;
# then a row with an unclosed quote after its ref (it names d), and a good row that duplicates the bad row a


def _events(session, subscription_id):
    query = select(OutboxEvent.event_type).where(OutboxEvent.subscription_id == subscription_id)
    return session.scalars(query.order_by(OutboxEvent.id)).all()


def _run(store, roster, *, roster_format=RosterFormat.CSV, chunk_rows=2):
    job_id = reconciliation.start(store, "nordlink", roster_format, utcnow())
    return reconciliation.run(
        store, job_id, read_roster(io.StringIO(roster, newline=""), roster_format), chunk_rows=chunk_rows
    )


def test_a_bad_row_for_a_live_subscription_keeps_it_off_only_at_the_gateway_and_apply_leaves_it(store):
    ids = _partner_with_live(store, "a", "b", "c", "d", "e")
    with store.read() as session:
        events_before = {ref: _events(session, subscription_id) for ref, subscription_id in ids.items()}

    job = _run(store, BAD_ROWS_ROSTER)  # chunks of two: bad and good rows of one ref on both sides of a border

    assert job.counts == {
        "bad_row": 6,
        "only_at_partner": 0,
        "only_at_gateway": 1,
        "status_mismatch": 0,
        "plan_mismatch": 0,
    }
    with store.read() as session:
        items = reconciliation.list_items(session, job.id)
        bad = {item.line: (item.partner_ref, item.detail) for item in items if item.kind == "bad_row"}
        assert bad[2] == ("a", "unknown status 'sometimes'; expected active, suspended or cancelled")
        assert bad[3] == ("b", "missing plan")
        assert bad[4][0] == "c" and bad[4][1].startswith("unknown plan 'platinum'")
        assert bad[5] == ("x", "2 fields where the header has 3")
        assert bad[7][0] == "d" and "unclosed quote" in bad[7][1]
        assert bad[8] == ("a", "duplicate partner_ref (also on line 2, a bad row)")
        [only] = [item for item in items if item.kind == "only_at_gateway"]
        assert only.partner_ref == "e"  # the one subscription no row names

    applied = reconciliation.apply(store, job.id, now=utcnow())

    assert applied.repaired == 1
    with store.read() as session:
        for ref in ("a", "b", "c", "d"):
            subscription = session.get(Subscription, ids[ref])
            assert (subscription.status, subscription.plan) == ("active", "standard"), ref
            assert _events(session, ids[ref]) == events_before[ref], ref  # no event for them
        assert session.get(Subscription, ids["e"]).status == "cancelled"
        assert _events(session, ids["e"]) == [*events_before["e"], "subscription.cancelled"]


def _statuses(store):
    with store.read() as session:
        return dict(session.execute(select(Subscription.partner_ref, Subscription.status)).all())


def test_a_bad_ndjson_row_keeps_its_ref_but_an_unreadable_line_lists_no_one_only_at_the_gateway(store):
    _partner_with_live(store, "a", "b", "c", "d")
    roster = (
        '{"partner_ref": "a", "status": "paused", "plan": "standard"}\n{"partner_ref": "b", "status": "active"\n'
        '{"partner_ref": "c", "status": "active", "plan": "standard"}\n'  # a good row: the roster is compared
    )

    job = _run(store, roster, roster_format=RosterFormat.NDJSON, chunk_rows=1)

    # b's line is not JSON: nothing in it can be trusted to name b, so who is missing (b? d?) cannot be said
    assert (job.counts["bad_row"], job.counts["only_at_gateway"]) == (2, 0)
    with store.read() as session:
        bad = [(item.line, item.partner_ref) for item in reconciliation.list_items(session, job.id, kind="bad_row")]
        assert bad == [(1, "a"), (2, None)]
    assert reconciliation.apply(store, job.id, now=utcnow()).repaired == 0
    assert set(_statuses(store).values()) == {"active"}


PRETTY_PRINTED = [
    '  {"partner_ref": "a", "status": "active", "plan": "standard"},',
    '  {"partner_ref": "b", "status": "suspended", "plan": "standard"},',
    '  {"partner_ref": "c", "status": "active", "plan": "standard"}',
]


@pytest.mark.parametrize("lines", [PRETTY_PRINTED, ["[", *PRETTY_PRINTED, "]"]], ids=["array-items", "whole-array"])
def test_a_pretty_printed_json_array_sent_as_ndjson_gets_no_one_cancelled(store, lines):
    """Every line but the last item's has a trailing comma: a bad row naming no one. The last item is a good row,
    so the roster counts as compared; the bad rows still mean it cannot say who is missing from it."""
    _partner_with_live(store, "a", "b", "c", "d", "e")

    job = _run(store, "\n".join(lines) + "\n", roster_format=RosterFormat.NDJSON)

    assert job.counts == {
        "bad_row": len(lines) - 1,
        "only_at_partner": 0,
        "only_at_gateway": 0,
        "status_mismatch": 0,
        "plan_mismatch": 0,
    }
    assert reconciliation.apply(store, job.id, now=utcnow()).repaired == 0
    assert set(_statuses(store).values()) == {"active"}


def test_a_quoted_partner_ref_over_two_lines_gets_no_one_cancelled(store):
    """Once read as one good row with partner_ref 'a,active,standard\\nb': a and b were then only at the gateway,
    and applying cancelled them, with no bad row reported."""
    _partner_with_live(store, "a", "b")

    job = _run(store, 'partner_ref,status,plan\n"a,active,standard\nb",active,standard\n')

    assert (job.counts["bad_row"], job.counts["only_at_partner"], job.counts["only_at_gateway"]) == (1, 1, 0)
    with store.read() as session:
        [bad] = reconciliation.list_items(session, job.id, kind="bad_row")
        assert (bad.line, bad.partner_ref) == (2, None) and "unclosed quote" in bad.detail
        [stranger] = reconciliation.list_items(session, job.id, kind="only_at_partner")
        assert (stranger.line, stranger.partner_ref) == (3, 'b"')
    assert reconciliation.apply(store, job.id, now=utcnow()).repaired == 0
    assert _statuses(store) == {"a": "active", "b": "active"}


def test_a_bad_row_whose_ref_holds_a_control_character_protects_no_one_so_lists_no_one(store):
    _partner_with_live(store, "a", "b", "c")
    roster = (
        '{"partner_ref": "a", "status": "active", "plan": "standard"}\n'
        '{"partner_ref": "b\\r\\nc", "status": "active", "plan": "standard"}\n'
    )

    job = _run(store, roster, roster_format=RosterFormat.NDJSON)

    assert (job.counts["bad_row"], job.counts["only_at_gateway"]) == (1, 0)
    with store.read() as session:
        [bad] = reconciliation.list_items(session, job.id, kind="bad_row")
        assert (bad.partner_ref, bad.detail) == (
            None,
            "partner_ref holds a control character or white space other than spaces",
        )


def test_a_good_row_before_a_bad_one_of_the_same_ref_is_compared(store):
    _seed(store)
    job = _run(store, "partner_ref,status,plan\na,suspended,standard\na,sometimes,standard\nb,active,standard\n")
    with store.read() as session:
        items = reconciliation.list_items(session, job.id)
        assert {(item.kind, item.partner_ref, item.line, item.repair) for item in items} == {
            ("status_mismatch", "a", 2, "suspend"),
            ("bad_row", "a", 3, None),
            ("only_at_gateway", "c", None, "cancel_now"),
            ("only_at_gateway", "d", None, "cancel_now"),
        }


# -- what the gateway has scheduled is not drift -------------------------------------------------------------------


def _partner_with(store, **plans):
    """nordlink with an active subscription per ref, on the plan given (upgraded to it from standard)."""
    now = utcnow()
    with store.transaction() as session:
        _add_nordlink(session, now)
        ids = {}
        for ref, plan in plans.items():
            subscription = add_subscription(session, "nordlink", ref, now=now)
            if plan != "standard":
                apply_command(
                    session, subscription, Command.CHANGE_PLAN, actor=Actor.PARTNER, reason="", now=now, plan=plan
                )
            ids[ref] = subscription.id
    return ids


def _command(store, subscription_id, command, reason="", **arguments):
    with store.transaction() as session:
        subscription = session.get(Subscription, subscription_id)
        apply_command(session, subscription, command, actor=Actor.PARTNER, reason=reason, now=utcnow(), **arguments)


def test_a_scheduled_downgrade_is_not_plan_drift_and_apply_changes_nothing(store):
    ids = _partner_with(store, down="premium", third="premium")
    _command(store, ids["down"], Command.CHANGE_PLAN, plan="standard_with_ads")
    _command(store, ids["third"], Command.CHANGE_PLAN, plan="standard_with_ads")
    with store.read() as session:
        before = {ref: _events(session, subscription_id) for ref, subscription_id in ids.items()}
        assert session.get(Subscription, ids["down"]).pending_plan == "standard_with_ads"

    job = _run(store, "partner_ref,status,plan\ndown,active,standard_with_ads\nthird,active,standard\n")

    with store.read() as session:
        [item] = reconciliation.list_items(session, job.id)
        assert (item.kind, item.partner_ref, item.repair) == ("plan_mismatch", "third", "change_plan")
        assert item.detail == "partner says standard, gateway has premium (standard_with_ads from the next period)"
    assert reconciliation.apply(store, job.id, now=utcnow()).repaired == 1
    with store.read() as session:
        down = session.get(Subscription, ids["down"])
        assert (down.plan, down.pending_plan) == ("premium", "standard_with_ads")
        assert _events(session, ids["down"]) == before["down"]  # no second plan change
        third = session.get(Subscription, ids["third"])
        assert (third.plan, third.pending_plan) == ("premium", "standard")  # the partner's plan, from the next period
        assert _events(session, ids["third"]) == [*before["third"], "subscription.plan_changed"]


def test_a_plan_mismatch_whose_plan_was_scheduled_since_the_comparison_is_not_repaired(store):
    ids = _partner_with(store, down="premium")
    job = _run(store, "partner_ref,status,plan\ndown,active,standard_with_ads\n")
    assert job.counts["plan_mismatch"] == 1
    _command(store, ids["down"], Command.CHANGE_PLAN, plan="standard_with_ads")  # the member downgrades meanwhile
    with store.read() as session:
        before = _events(session, ids["down"])

    assert reconciliation.apply(store, job.id, now=utcnow()).repaired == 0

    with store.read() as session:
        [item] = reconciliation.list_items(session, job.id)
        assert item.repair is None and item.repaired_at is None
        assert item.detail.endswith("not repaired: the subscription changed since the comparison")
        assert _events(session, ids["down"]) == before  # the downgrade was not scheduled a second time


def test_a_scheduled_cancellation_the_partner_lists_as_cancelled_is_not_drift(store):
    ids = _partner_with(store, leaving="standard", staying="standard", gone="standard")
    _command(store, ids["leaving"], Command.SCHEDULE_CANCELLATION, "member_request")
    _command(store, ids["staying"], Command.SCHEDULE_CANCELLATION, "member_request")
    with store.read() as session:
        before = {ref: _events(session, subscription_id) for ref, subscription_id in ids.items()}
        access_until = session.get(Subscription, ids["leaving"]).access_until

    roster = "partner_ref,status,plan\nleaving,cancelled,standard\nstaying,active,standard\ngone,cancelled,x\n"
    job = _run(store, roster)

    assert job.counts["status_mismatch"] == 0 and job.counts["only_at_gateway"] == 0
    reconciliation.apply(store, job.id, now=utcnow())
    with store.read() as session:
        leaving = session.get(Subscription, ids["leaving"])
        assert (leaving.status, leaving.access_until) == ("cancellation_scheduled", access_until)  # access kept
        assert session.get(Subscription, ids["staying"]).status == "cancellation_scheduled"
        assert session.get(Subscription, ids["gone"]).status == "active"  # a bad row: left for a person
        for ref, subscription_id in ids.items():
            assert _events(session, subscription_id) == before[ref], ref


@pytest.mark.parametrize(
    "roster",
    [
        "partner_ref,status,plan\na,gone,standard\nb,active,platinum\n",  # every row bad
        "partner_ref,status,plan\n",  # no row at all
    ],
    ids=["every-row-bad", "empty"],
)
def test_a_roster_with_no_row_to_compare_reports_no_one_only_at_the_gateway(store, roster):
    _seed(store)
    job_id = reconciliation.start(store, "nordlink", RosterFormat.CSV, utcnow())
    job = reconciliation.run(store, job_id, read_roster(io.StringIO(roster, newline=""), RosterFormat.CSV))
    assert job.status == "completed" and job.counts["only_at_gateway"] == 0
    assert job.counts["bad_row"] == roster.count("\n") - 1
    assert reconciliation.apply(store, job_id, now=utcnow()).repaired == 0
    with store.read() as session:
        statuses = session.scalars(select(Subscription.status)).all()
    assert sorted(statuses) == ["active"] * 4  # nobody cancelled for a broken file


def test_one_good_row_is_enough_to_list_the_others_only_at_the_gateway(store):
    _seed(store)
    job_id = reconciliation.start(store, "nordlink", RosterFormat.CSV, utcnow())
    roster = "partner_ref,status,plan\na,active,standard\nb,gone,standard\n"
    job = reconciliation.run(store, job_id, read_roster(io.StringIO(roster, newline=""), RosterFormat.CSV))
    assert job.counts["only_at_gateway"] == 2  # c and d; b's bad row still counts for b


def test_refs_with_quotes_backslashes_and_any_script_are_staged_and_matched_across_chunks(store):
    refs = ['quote"d', "back\\slash", "Zoë-東京", "emoji-🎬", "comma,ref"]
    _partner_with_live(store, *refs)
    quoted = [f'"{ref.replace(chr(34), chr(34) * 2)}"' for ref in refs]
    lines = [f"{ref},active,standard" for ref in quoted] + [f"{quoted[2]},active,standard"]  # one again, later
    roster = "partner_ref,status,plan\n" + "\n".join(lines) + "\n"
    job = _run(store, roster, chunk_rows=2)
    assert job.counts["only_at_gateway"] == 0 and job.counts["only_at_partner"] == 0
    assert job.counts["bad_row"] == 1  # the repeat, found through the refs an earlier chunk staged
    with store.read() as session:
        [repeat] = reconciliation.list_items(session, job.id, kind="bad_row")
    assert repeat.partner_ref == "Zoë-東京" and "also on line 4" in repeat.detail


def test_a_reference_taken_again_after_a_purge_is_compared_with_its_live_subscription(store):
    """Issue 22, item 7: a roster row is compared with the live subscription of its reference, not the purged one
    that had it before; a reference whose only subscription is purged is still compared with that one."""
    ids = _partner_with_live(store, "again", "gone")
    with store.transaction() as session:
        for ref in ("again", "gone"):
            session.get(Subscription, ids[ref]).status = "purged"
        back = add_subscription(session, "nordlink", "again", now=utcnow()).id  # active, plan standard

    job = _run(store, "partner_ref,status,plan\nagain,active,premium\ngone,active,standard\n")

    assert (
        job.counts["plan_mismatch"] == 1 and job.counts["status_mismatch"] == 1 and job.counts["only_at_partner"] == 0
    )
    items = _items_by_ref(store, job.id)
    assert (items["again"].kind, items["again"].subscription_id) == ("plan_mismatch", back)
    assert (items["gone"].kind, items["gone"].subscription_id, items["gone"].gateway_status) == (
        "status_mismatch",
        ids["gone"],
        "purged",
    )
