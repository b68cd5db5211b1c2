from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from storage.db import new_session
from storage.models import Ticket, TicketEvent, TicketStatus
from storage.tickets import TRANSITIONS, IllegalTransition, create_ticket, events_of, transition

SHANGHAI = ZoneInfo("Asia/Shanghai")  # community.timezone in config.yaml

NOW = datetime(2026, 11, 23, 8, 57, tzinfo=SHANGHAI)


def new_ticket(session, message_id="m1"):
    return create_ticket(session=session, now=NOW, source_message_id=message_id, text="A2积水", category="drainage",
                         category_name="排水", reporter_id="wxid_zhang", reporter_name="张阿姨")


def test_times_come_back_timezone_aware_and_equal(engine):
    with new_session(engine) as session:
        ticket = new_ticket(session)
        session.commit()
        ticket_id = ticket.id
    with new_session(engine) as session:
        stored = session.get(Ticket, ticket_id)
        assert stored.created_at.tzinfo is not None
        assert stored.created_at == NOW  # same instant, whatever the backend stored


def test_naive_time_is_refused(engine):
    with new_session(engine) as session:
        with pytest.raises(Exception, match="naive"):
            create_ticket(session=session, now=datetime(2026, 11, 23), source_message_id="m", text="t",
                          category="other", category_name="其他", reporter_id="r", reporter_name="r")
            session.commit()


def test_happy_path_writes_an_event_per_change(engine):
    with new_session(engine) as session:
        ticket = new_ticket(session)
        transition(session=session, ticket=ticket, action="assigned", actor_id="mulin", now=NOW,
                   assignee_staff_id="wangfang", grid_id="g1")
        transition(session=session, ticket=ticket, action="accepted", actor_id="wxid_wangfang", now=NOW + timedelta(minutes=5))
        transition(session=session, ticket=ticket, action="resolved", actor_id="wxid_wangfang", now=NOW + timedelta(hours=1),
                   note="已清理")
        transition(session=session, ticket=ticket, action="closed", actor_id="wxid_zhang", now=NOW + timedelta(hours=2))
        session.commit()
        trail = [(e.kind, e.from_status, e.to_status, e.actor_id) for e in events_of(session=session, ticket_id=ticket.id)]
    assert trail == [("created", None, "new", "wxid_zhang"), ("assigned", "new", "assigned", "mulin"),
                     ("accepted", "assigned", "accepted", "wxid_wangfang"),
                     ("resolved", "accepted", "resolved", "wxid_wangfang"), ("closed", "resolved", "closed", "wxid_zhang")]
    assert ticket.status == TicketStatus.CLOSED and ticket.resolution_note == "已清理"


@pytest.mark.parametrize("action, status", [
    (action, status) for action, rule in TRANSITIONS.items() for status in TicketStatus if status not in rule.sources])
def test_every_illegal_transition_is_refused_and_changes_nothing(engine, action, status):
    with new_session(engine) as session:
        ticket = new_ticket(session)
        ticket.status = status
        before = session.exec(select(TicketEvent)).all()
        with pytest.raises(IllegalTransition, match="不能"):
            transition(session=session, ticket=ticket, action=action, actor_id="x", now=NOW)
        assert ticket.status == status
        assert session.exec(select(TicketEvent)).all() == before


def test_reopen_counts_and_clears_resolution(engine):
    with new_session(engine) as session:
        ticket = new_ticket(session)
        for action in ("assigned", "accepted", "resolved"):
            transition(session=session, ticket=ticket, action=action, actor_id="x", now=NOW, assignee_staff_id="wangfang")
        ticket.followup_due_at = NOW + timedelta(days=3)
        transition(session=session, ticket=ticket, action="reopened", actor_id="wxid_zhang", now=NOW)
        assert (ticket.status, ticket.reopen_count, ticket.resolved_at, ticket.followup_due_at) == \
            (TicketStatus.ASSIGNED, 1, None, None)
        assert ticket.assignee_staff_id == "wangfang"  # back to the same worker
