"""The retention purge on a backlog: bounded batches per scan, parked messages kept until reviewed, ticket texts
and recent chatter kept; on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import func, select

from core.config import ConfigError, Privacy, parse_config
from handlers.context import Ctx, Deps
from handlers.privacy import purge_retention
from storage import health
from storage.db import new_session
from storage.models import IncomingMessage, MessageState
from storage.staff import StaffDirectory

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=timezone.utc)


def _row(n: int, *, age: timedelta, state=MessageState.PROCESSED, ticket_id=None) -> IncomingMessage:
    at = NOW - age
    return IncomingMessage(message_id=f"m{n}", fingerprint=f"f{n}", room_id="r1", sender_id="wxid_zhang",
                           sender_name="张阿姨", text=f"闲聊{n}", sent_at=at, received_at=at, state=state,
                           ticket_id=ticket_id)


def _scan(engine, config) -> int:
    with new_session(engine) as session:
        ctx = Ctx(deps=Deps(config=config, classifier=None, directory=StaffDirectory(), calendar=None),
                  session=session, msg=None, now=NOW, staff=None)
        return purge_retention(ctx)


def _with_text(engine) -> set[str]:
    with new_session(engine) as session:
        return {m.message_id for m in session.exec(select(IncomingMessage).where(IncomingMessage.text != ""))}


def test_a_backlog_is_purged_in_bounded_batches_and_parked_messages_wait_for_review(engine, config):
    old = timedelta(days=4)
    rows = [_row(n, age=old) for n in range(1200)]
    rows += [_row(2000 + n, age=old, ticket_id=1) for n in range(3)]                     # complaints
    rows += [_row(3000 + n, age=old, state=MessageState.PARKED) for n in range(2)]       # evidence of a fault
    rows += [_row(4000 + n, age=timedelta(days=2)) for n in range(4)]                    # recent chatter
    with new_session(engine) as session:
        session.add_all(rows)
        session.commit()
    slow = config.model_copy(update={"privacy": Privacy(batch=500, scan_seconds=1e-9)})
    assert [_scan(engine, slow) for _ in range(4)] == [500, 500, 200, 0]  # one batch per scan when time is short
    kept = {f"m{n}" for n in (2000, 2001, 2002, 3000, 3001, 4000, 4001, 4002, 4003)}
    assert _with_text(engine) == kept
    with new_session(engine) as session:
        assert health.review(session=session, now=NOW) == (2, 0)
    assert _scan(engine, config) == 2  # reviewed: under the window like the rest
    assert _with_text(engine) == kept - {"m3000", "m3001"}
    with new_session(engine) as session:
        assert session.exec(select(func.count()).select_from(IncomingMessage)).one() == len(rows)  # ids all kept
        purged = session.exec(select(IncomingMessage).where(IncomingMessage.message_id == "m7")).one()
        assert (purged.sender_name, purged.fingerprint, purged.purged_at) == ("", "f7", NOW)


def test_all_of_a_backlog_goes_in_one_scan_when_time_allows(engine, config):
    with new_session(engine) as session:
        session.add_all([_row(n, age=timedelta(days=10)) for n in range(1200)])
        session.commit()
    quick = config.model_copy(update={"privacy": Privacy(batch=500, scan_seconds=60)})
    assert _scan(engine, quick) == 1200 and _with_text(engine) == set()


def test_the_scan_keeps_drawn_texts_for_keep_days_and_readings_for_ticket_years(engine, config):
    """抽查: a drawn message's text outlives the chatter window until keep_days; a signed reading (masked text and
    labels) is deleted by the same scan once ticket_years have passed since it was signed."""
    from storage.models import MessageReview

    rows = [_row(1, age=timedelta(days=10)), _row(2, age=timedelta(days=15)), _row(3, age=timedelta(days=10))]
    rows[0].spot_check = rows[1].spot_check = "random"
    with new_session(engine) as session:
        session.add_all(rows)
        session.flush()
        for row, signed_ago in ((rows[0], timedelta(days=9)), (rows[1], timedelta(days=3 * 366))):
            session.add(MessageReview(message_row_id=row.id, sample="random", text=row.text, is_request=False,
                                      reviewer_id="lishuji", reviewer_name="李书记", reviewed_at=NOW - signed_ago))
        session.commit()
    assert _scan(engine, config) == 3  # m2 (15 days) and m3 (not drawn) emptied, one reading three years old gone
    assert _with_text(engine) == {"m1"}
    with new_session(engine) as session:
        assert [r.text for r in session.exec(select(MessageReview))] == ["闲聊1"]


@pytest.mark.parametrize("line, problem", [("chatter_days: 0", "应大于 0"), ("sent_days: 三十", "应为数字"),
                                           ("keep_forever: true", "未知的键")])
def test_privacy_config_is_validated_with_file_and_line(line, problem):
    text = ("community: {name: 测试社区}\nstaff:\n  - {id: w, name: 王, role: grid_worker}\n"
            "grids:\n  - {id: g1, name: 一网格, worker: w}\nprivacy:\n  " + line + "\n")
    with pytest.raises(ConfigError) as error:
        parse_config(text, "config.yaml")
    assert f"config.yaml:7: privacy." in str(error.value) and problem in str(error.value)
