"""The pacing policy alone: plain values in, a plan out; no database, no clock."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from core.config import ConfigError, SendingPolicy, parse_config
from bot.pacing import CAP, INTERVAL, QUIET, RATE, RETRY, History, Pacer, Pending, Send

SHANGHAI = ZoneInfo("Asia/Shanghai")  # community.timezone in config.yaml

ROOT = Path(__file__).resolve().parents[2]
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=SHANGHAI)
NIGHT = datetime(2026, 11, 23, 23, 0, tzinfo=SHANGHAI)
G1, G2, P1 = "g1@chatroom", "g2@chatroom", "wxid_a"
S = timedelta(seconds=1)


def pacer(**changes) -> Pacer:
    return Pacer(SendingPolicy(**changes), SHANGHAI)


def row(i: int, conv: str = G1, at: datetime = NOON, **kw) -> Pending:
    return Pending(id=i, conversation=conv, is_room=conv.endswith("@chatroom"), created_at=at, **kw)


def sends(conv: str, *times: datetime) -> tuple[Send, ...]:
    return tuple(Send(conv, conv.endswith("@chatroom"), t) for t in times)


def test_a_group_waits_its_interval_a_private_chat_its_own():
    history = History(recent=sends(G1, NOON - 2 * S) + sends(P1, NOON - 2 * S))
    plan = pacer().plan(NOON, [row(1, G1), row(2, P1)], history)
    assert [b.ids for b in plan.batches] == [(2,)]
    assert [(w.conversation, w.until, w.reason) for w in plan.waits] == [(G1, NOON + S, INTERVAL)]


def test_the_rate_per_minute_counts_every_chat_and_says_when_a_slot_frees():
    recent = tuple(Send(f"wxid_{i}", False, NOON - timedelta(seconds=59 - i)) for i in range(19))
    plan = pacer().plan(NOON, [row(1, G1), row(2, G2), row(3, P1)], History(recent=recent))
    assert [b.ids for b in plan.batches] == [(1,)]  # the 20th send of the minute
    assert {(w.conversation, w.until, w.reason) for w in plan.waits} == {
        (G2, NOON - 59 * S + timedelta(minutes=1), RATE), (P1, NOON - 58 * S + timedelta(minutes=1), RATE)}


def test_waiting_replies_to_one_chat_within_the_window_become_one_message():
    rows = [row(i, G1, NOON + i * 3 * S) for i in range(1, 5)] + [row(9, G1, NOON + 30 * S)]
    plan = pacer(merge_max=3).plan(NOON + 40 * S, rows, History())
    assert [b.ids for b in plan.batches] == [(1, 2, 3)]  # merge_max; row 9 is outside the 10 s window anyway
    assert [(w.row_id, w.until, w.reason) for w in plan.waits] == [(4, NOON + 43 * S, INTERVAL)]
    plan = pacer().plan(NOON + 40 * S, rows, History())
    assert [b.ids for b in plan.batches] == [(1, 2, 3, 4)]


def test_quiet_hours_hold_notices_but_not_replies_or_urgent_ones():
    rows = [row(1, G1, NIGHT), row(2, G1, NIGHT, reply=True), row(3, P1, NIGHT), row(4, G2, NIGHT, urgent=True)]
    plan = pacer(merge_window_seconds=0).plan(NIGHT, rows, History())
    assert [b.ids for b in plan.batches] == [(4,), (2,)]  # urgent first; the held notice is passed by the reply
    morning = datetime(2026, 11, 24, 7, 0, tzinfo=SHANGHAI)
    assert {(w.row_id, w.until, w.reason) for w in plan.waits} == {(1, morning, QUIET), (3, morning, QUIET)}


def test_quiet_hours_edges():
    p = pacer()
    day = datetime(2026, 11, 23, tzinfo=SHANGHAI)
    assert p.quiet_until(day.replace(hour=21, minute=59)) is None
    assert p.quiet_until(day.replace(hour=22)) == day.replace(day=24, hour=7)
    assert p.quiet_until(day.replace(hour=6, minute=59)) == day.replace(hour=7)
    assert p.quiet_until(day.replace(hour=7)) is None
    assert pacer(quiet_start=time(1), quiet_end=time(5)).quiet_until(day.replace(hour=3)) == day.replace(hour=5)
    assert pacer(quiet_start=time(0), quiet_end=time(0)).quiet_until(day.replace(hour=3)) is None


def test_daily_cap_holds_non_urgent_until_the_next_local_day():
    history = History(today={G1: 100})
    plan = pacer().plan(NOON, [row(1, G1), row(2, G1, urgent=True)], history)
    assert [b.ids for b in plan.batches] == [(2,)]
    assert [(w.row_id, w.until, w.reason) for w in plan.waits] == [(1, datetime(2026, 11, 24, tzinfo=SHANGHAI), CAP)]


def test_urgent_goes_first_when_the_rate_is_short():
    recent = tuple(Send(f"wxid_{i}", False, NOON - 30 * S) for i in range(19))
    rows = [row(1, G1), row(2, P1, reply=True), row(3, G2, urgent=True)]
    assert [b.ids for b in pacer().plan(NOON, rows, History(recent=recent)).batches] == [(3,)]
    recent = recent[1:]
    assert [b.ids for b in pacer().plan(NOON, rows, History(recent=recent)).batches] == [(3,), (2,)]


def test_a_failed_send_holds_back_its_chat_only():
    rows = [row(1, G1, next_attempt_at=NOON + 5 * S), row(2, G1), row(3, G2)]
    plan = pacer().plan(NOON, rows, History())
    assert [b.ids for b in plan.batches] == [(3,)]
    assert [(w.row_id, w.until, w.reason) for w in plan.waits] == [(1, NOON + 5 * S, RETRY)]
    assert [b.ids for b in pacer().plan(NOON + 5 * S, rows, History()).batches] == [(1, 2), (3,)]


def test_backoff_doubles_and_is_capped():
    assert [pacer().retry_delay(n).total_seconds() for n in range(1, 10)] == [5, 10, 20, 40, 80, 160, 300, 300, 300]


arrivals = st.lists(st.tuples(st.sampled_from([G1, G2, P1, "wxid_b"]), st.integers(0, 600),
                              st.booleans(), st.booleans()), min_size=1, max_size=80)


@given(arrivals)
def test_simulated_traffic_never_breaks_a_limit_and_everything_goes(items):
    """Replies arrive at random (deciseconds); the pacer is asked at each due time, as the sender task does."""
    p = pacer(quiet_start=time(0), quiet_end=time(0))
    rows = [row(i, conv, NOON + timedelta(seconds=t / 10), urgent=u, reply=r)
            for i, (conv, t, u, r) in enumerate(sorted(items, key=lambda x: x[1]), start=1)]
    history, waiting, now, out = History(), [], NOON, []
    arriving = list(rows)
    for _ in range(10_000):
        waiting += [r for r in arriving if r.created_at <= now]
        arriving = [r for r in arriving if r.created_at > now]
        plan = p.plan(now, waiting, history)
        waiting, history = p.after_send(waiting, history, [(b, now) for b in plan.batches], {})
        out += [(b, now) for b in plan.batches]
        later = [t for t in (plan.next_due(), arriving[0].created_at if arriving else None) if t is not None]
        if not later:
            break
        now = max(now, min(later))
    sent_ids = [i for b, _ in out for i in b.ids]
    assert sorted(sent_ids) == [r.id for r in rows]  # every reply went exactly once
    for conv in {r.conversation for r in rows}:
        times = [at for b, at in out if b.conversation == conv]
        gap = p.group_interval if conv.endswith("@chatroom") else p.private_interval
        assert all(b - a >= gap for a, b in zip(times, times[1:]))
        ids = [i for b, _ in out if b.conversation == conv for i in b.ids]
        assert ids == sorted(ids)  # order kept per chat
    times = sorted(at for _, at in out)
    assert all(b - a >= timedelta(minutes=1) for a, b in zip(times, times[20:]))  # no 60 s with more than 20


def test_the_sending_section_is_validated_and_unquoted_times_still_read_as_times():
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    config = parse_config(text.replace('quiet_start: "22:00"', "quiet_start: 22:30"))
    assert config.sending.quiet_start == time(22, 30) and config.sending.per_minute == 20
    with pytest.raises(ConfigError, match=r"config.yaml:\d+: sending.per_minute"):
        parse_config(text.replace("per_minute: 20", "per_minute: 0"))
