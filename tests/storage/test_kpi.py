"""KPIs and hot spots on hand-built tickets whose expected numbers are obvious, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage import kpi
from storage.db import new_session
from storage.models import Ticket, TicketEvent, TicketStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")  # community.timezone in config.yaml

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI)
S = TicketStatus


def make(session, n: int, **fields) -> Ticket:  # noqa: ANN001
    base = dict(category="drainage", category_name="排水", text="积水", reporter_id="r", reporter_name="居民",
                source_message_id=f"m{n}", created_at=NOW - timedelta(days=2), updated_at=NOW, status=S.ASSIGNED,
                assigned_at=NOW - timedelta(days=2), accept_due_at=NOW - timedelta(days=1),
                resolve_due_at=NOW + timedelta(days=3))
    base.update(fields)
    ticket = Ticket(**base)
    session.add(ticket)
    return ticket


@pytest.fixture
def filled(engine):
    day = timedelta(days=1)
    with new_session(engine) as session:
        # on time, resolved on time, satisfied
        make(session, 1, status=S.CLOSED, accepted_at=NOW - 2 * day, resolved_at=NOW - day, rating="satisfied",
             building="A2")
        # accepted late, resolved late (after its due), basically satisfied, reopened once before
        make(session, 2, status=S.CLOSED, accepted_at=NOW - day / 2, resolved_at=NOW, rating="basically",
             resolve_due_at=NOW - day, reopen_count=1, building="A2")
        # never accepted and past the accept deadline; returned once
        make(session, 3, return_count=1, building="A2", follower_count=1)
        # not yet due to accept: counts in no response figure
        make(session, 4, accept_due_at=NOW + day, category="lighting", category_name="照明", building="A2")
        # resolved, dissatisfied, on time
        make(session, 5, status=S.RESOLVED, accepted_at=NOW - 2 * day, resolved_at=NOW - day, rating="dissatisfied")
        # filed long ago: outside every window
        make(session, 6, created_at=NOW - 60 * day, building="A2")
        session.commit()
    return engine


def test_kpis_follow_their_definitions(filled):
    with new_session(filled) as session:
        numbers = kpi.kpis(session=session, since=NOW - timedelta(days=30), until=NOW, now=NOW)
    assert numbers.tickets == 5
    rates = numbers.rates()
    assert rates["响应率"] == pytest.approx(2 / 4)        # 1 and 5 on time; 2 late; 3 overdue; 4 not yet due
    assert rates["解决率"] == pytest.approx(3 / 5)        # 1, 2 closed and 5 resolved
    assert rates["满意率"] == pytest.approx((1 + 0.9) / 3)  # dissatisfied counts as rated
    assert rates["按时办结率"] == pytest.approx(2 / 3)
    assert rates["回退率"] == pytest.approx(1 / 5)
    assert rates["重办率"] == pytest.approx(1 / 3)


def test_no_tickets_means_no_rate_rather_than_zero(engine):
    with new_session(engine) as session:
        numbers = kpi.kpis(session=session, since=NOW - timedelta(days=30), until=NOW, now=NOW)
    assert numbers.tickets == 0 and set(numbers.rates().values()) == {None}


def test_hot_spot_counts_repeat_reports_and_ignores_old_and_other_categories(filled):
    with new_session(filled) as session:
        total, spots = kpi.hot_spots(session=session, since=NOW - timedelta(days=7), until=NOW, min_reports=3)
        none = kpi.hot_spots(session=session, since=NOW - timedelta(days=7), until=NOW, min_reports=5)
    # tickets 1, 2, 3 (+1 follower) are drainage at A2 in the week; 4 is lighting; 6 is too old
    assert total == 1
    assert [(s.building, s.category, s.reports, s.tickets) for s in spots] == [("A2", "drainage", 4, [1, 2, 3])]
    assert none == (0, [])


def test_overdue_lists_open_tickets_past_their_deadline_most_overdue_first(filled):
    with new_session(filled) as session:
        for ticket_id, due in ((3, NOW - timedelta(hours=5)), (4, NOW - timedelta(days=3)), (5, NOW - timedelta(days=9))):
            ticket = session.get(Ticket, ticket_id)
            ticket.due_at = due
            session.add(ticket)
        session.commit()
        total, rows = kpi.overdue(session=session, now=NOW)
    assert total == 2 and [t.id for t in rows] == [4, 3]  # 5 is resolved, so not overdue


def test_hot_spots_are_capped_but_counted(filled):
    with new_session(filled) as session:
        total, spots = kpi.hot_spots(session=session, since=NOW - timedelta(days=7), until=NOW, min_reports=1, limit=1)
    assert total == 2 and [(s.category, s.tickets) for s in spots] == [("drainage", [1, 2, 3])]


def test_kpis_by_grid_split_the_same_counts_and_keep_unrouted_under_none(filled):
    with new_session(filled) as session:
        for ticket_id, grid in ((1, "g1"), (2, "g1"), (3, "g2")):
            ticket = session.get(Ticket, ticket_id)
            ticket.grid_id = grid
            session.add(ticket)
        session.commit()
        by_grid = kpi.kpis_by_grid(session=session, since=NOW - timedelta(days=30), until=NOW, now=NOW)
    assert {g: k.tickets for g, k in by_grid.items()} == {"g1": 2, "g2": 1, None: 2}
    assert by_grid["g1"].rates()["响应率"] == pytest.approx(1 / 2)   # 1 on time, 2 late
    assert by_grid["g2"].rates()["回退率"] == 1 and by_grid["g2"].rates()["满意率"] is None


def test_community_scope_counts_its_grids_and_its_groups_unrouted_tickets(engine):
    from storage import notices
    from storage.models import TicketEvent

    day = timedelta(days=1)
    with new_session(engine) as session:
        make(session, 1, grid_id="g1", building="A2")                          # ours by grid
        make(session, 2, grid_id=None, room_id="1@chatroom", room_topic="我们的群")  # ours: unrouted, from our group
        make(session, 3, grid_id="g9", room_id="1@chatroom", room_topic="我们的群")  # routed elsewhere: not ours
        make(session, 4, grid_id=None, room_id="9@chatroom", room_topic="别人的群")
        session.flush()
        for ticket_id in (1, 3):
            session.add(TicketEvent(ticket_id=ticket_id, kind="accepted", actor_id="w", at=NOW - day))
            notices.claim(session=session, key=f"escalate1:{ticket_id}:accept:x", kind="escalate", target=str(ticket_id),
                          scheduled_at=NOW - day, now=NOW)
        session.commit()
        ours = kpi.community_scope(["g1", "g2"], ["我们的群"])
        act = kpi.activity(session=session, since=NOW - 7 * day, until=NOW, scope=ours)
        everyone = kpi.activity(session=session, since=NOW - 7 * day, until=NOW)
        numbers = kpi.kpis(session=session, since=NOW - 7 * day, until=NOW, now=NOW, scope=ours)
        by_grid = kpi.open_by(session=session, column=Ticket.grid_id, scope=ours)
    assert (act.new, act.accepted, act.became_overdue) == (2, 1, 1)
    assert (everyone.new, everyone.accepted, everyone.became_overdue) == (4, 2, 2)
    assert numbers.tickets == 2 and by_grid == {"g1": 1, None: 1}


def test_a_voided_ticket_counts_in_no_number(filled):
    """撤销: chatter the classifier filed is closed by staff and leaves every figure as it was."""
    window = dict(since=NOW - timedelta(days=30), until=NOW)
    with new_session(filled) as session:
        before = (kpi.kpis(session=session, now=NOW, **window), kpi.activity(session=session, **window),
                  kpi.hot_spots(session=session, min_reports=3, **window)[0],
                  kpi.daily_counts(session=session, tz=SHANGHAI, **window))
        # a chatter line filed at A2 (the hot spot's building), accepted, then voided
        voided = make(session, 7, status=S.CLOSED, voided=True, accepted_at=NOW - timedelta(days=1), building="A2",
                      accept_due_at=NOW - timedelta(days=1), resolved_at=NOW - timedelta(hours=1))
        session.flush()
        for kind in ("accepted", "resolved"):  # its moves, which activity and the daily chart count from the trail
            session.add(TicketEvent(ticket_id=voided.id, kind=kind, actor_id="w", at=NOW - timedelta(hours=2)))
        session.commit()
        after = (kpi.kpis(session=session, now=NOW, **window), kpi.activity(session=session, **window),
                 kpi.hot_spots(session=session, min_reports=3, **window)[0],
                 kpi.daily_counts(session=session, tz=SHANGHAI, **window))
        make(session, 8, status=S.CLOSED, accepted_at=NOW - timedelta(days=1), building="A2")  # the same, kept
        session.commit()
        counted = kpi.kpis(session=session, now=NOW, **window)
    assert after == before
    assert counted.tickets == before[0].tickets + 1  # the check could fail: an unvoided one does count


def test_hearing_counts_the_bots_filings_its_voids_and_the_hand_filings(engine):
    """Four tickets the bot filed in the period (one voided), two filed by staff (one voided later: it was no
    request after all, so no miss), and one bot filing before the period."""
    with new_session(engine) as session:
        tickets = [make(session, n) for n in range(1, 8)]
        tickets[1].voided = True
        tickets[5].voided = True
        tickets[6].created_at = NOW - timedelta(days=40)
        session.flush()
        for n, ticket in enumerate(tickets):
            actor = "wxid_wangfang" if n in (4, 5) else ticket.reporter_id
            session.add(TicketEvent(ticket_id=ticket.id, kind="created", actor_id=actor, at=ticket.created_at))
        session.commit()
        heard = kpi.hearing(session=session, since=NOW - timedelta(days=30), until=NOW)
    assert (heard.filed, heard.voided, heard.missed) == (4, 1, 1)
    assert heard.false_alarm_rate == 0.25 and heard.found_rate == 0.75
    assert kpi.Hearing(0, 0, 0).false_alarm_rate is None and kpi.Hearing(0, 0, 0).found_rate is None
