"""Cluster-wide work runs in one process at a time; a process that dies gives its lock up with its connection."""
from __future__ import annotations

import contextlib
from datetime import datetime, timezone

import pytest
from sqlalchemy import text
from sqlmodel import select

from core.types import Outgoing
from storage import outbox
from storage.db import make_engine, new_session
from storage.locks import cluster_lock, lock_key

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)


def test_lock_keys_are_stable_across_processes():
    assert lock_key("mulin-sweeps") == 1893628118  # crc32: the same in every process, unlike hash()


def test_only_one_engine_holds_the_lock_until_its_connections_close(engine, database_url):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serves a single process: the lock is always granted")
    other = make_engine(database_url)
    try:
        with cluster_lock(engine, "t") as first:
            with cluster_lock(other, "t") as second:
                assert (first, second) == (True, False)
        with cluster_lock(other, "t") as after_release:
            assert after_release
        holder = make_engine(database_url)  # a process that dies while holding the lock
        lock = cluster_lock(holder, "t")
        assert lock.__enter__() is True
        with cluster_lock(other, "t") as blocked:
            assert not blocked
        with other.connect() as conn:  # its connection is gone, as when the process is killed
            # with a timeout the call waits until the backend has exited (and so let go of its lock); without one it
            # only signals, and the takeover below could run first (it did, twice in about thirty runs)
            killed = conn.execute(text("SELECT pg_terminate_backend(pid, 5000) FROM pg_locks "
                                       "WHERE locktype = 'advisory' AND objid = :key"),
                                  {"key": lock_key("t")}).scalars().all()
        assert killed == [True]
        with cluster_lock(other, "t") as taken_over:
            assert taken_over
        with contextlib.suppress(Exception):  # unlocking on the dead connection fails; nothing to release
            lock.__exit__(None, None, None)
        holder.dispose()
    finally:
        other.dispose()


def test_a_claim_is_all_or_nothing_when_another_process_took_a_row(engine, database_url):
    other = make_engine(database_url)
    try:
        with new_session(engine) as session:
            for body in ("一", "二"):
                outbox.enqueue(session=session, out=Outgoing(text=body, room_id="r@chatroom"), now=NOW)
            session.commit()
            ids = [r.id for r in outbox.pending(session=session)]
        with new_session(other) as theirs:
            assert outbox.claim(session=theirs, ids=ids[1:], now=NOW, by="south")
        with new_session(engine) as mine:
            assert not outbox.claim(session=mine, ids=ids, now=NOW, by="north")
            assert [r.id for r in outbox.pending(session=mine)] == ids[:1]  # the failed claim changed nothing
            assert outbox.claim(session=mine, ids=ids[:1], now=NOW, by="north")
            assert outbox.recover_in_flight(session=mine, accounts=["north"])[0].id == ids[0]
            assert [r.id for r in outbox.pending(session=mine)] == ids[:1]  # south's send is south's to finish
    finally:
        other.dispose()


def test_two_processes_seeding_the_same_bindings_take_turns(engine, database_url):
    """Two `mulin run --account` processes start together and both seed the config's staff bindings. The first
    holds its transaction open (its commit waits) while the second seeds: the second must wait for it and then
    find the row, not insert it again (that was a UniqueViolation that killed one process at start)."""
    import threading
    import time

    from storage.models import StaffBinding
    from storage.staff import seed_bindings

    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serves a single process")
    other = make_engine(database_url)
    pairs = [("wangfang", "wxid_wangfang")]
    second_started = threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        with new_session(engine) as session:
            real_commit = session.commit

            def slow_commit() -> None:  # the second process runs while this transaction is still open
                second_started.wait(10)
                time.sleep(0.5)
                real_commit()

            session.commit = slow_commit  # type: ignore[method-assign]
            seed_bindings(session=session, pairs=pairs, now=NOW)

    def second() -> None:
        try:
            with new_session(other) as session:
                second_started.set()
                seed_bindings(session=session, pairs=pairs, now=NOW)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    try:
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        threads[0].start()
        time.sleep(0.2)  # the first is inside its transaction
        threads[1].start()
        for t in threads:
            t.join(30)
        assert not errors, errors
        with new_session(engine) as session:
            assert [(b.staff_id, b.wechat_id) for b in session.exec(select(StaffBinding))] == pairs
    finally:
        other.dispose()
