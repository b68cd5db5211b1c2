"""The signed labels of staff corrections (label_review, storage.export.save_review), on SQLite and PostgreSQL."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

from storage.db import new_session
from storage.export import reviews_of, save_review
from storage.tickets import create_ticket, transition

NOW = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)


def _voided(engine) -> int:  # noqa: ANN001
    with new_session(engine) as session:
        ticket = create_ticket(session=session, now=NOW, source_message_id="m1", text="爪机也快停电了",
                               category="power", category_name="供电", reporter_id="wxid_li", reporter_name="李大爷")
        transition(session=session, ticket=ticket, action="voided", actor_id="wxid_wangfang", now=NOW, note="手机")
        session.commit()
        return ticket.id


def _sign(session, ticket_id: int, name: str, at: datetime, request: bool = False) -> None:  # noqa: ANN001
    save_review(session=session, ticket_id=ticket_id, is_request=request, category="power" if request else None,
                urgent=False, reviewer_id=name, reviewer_name=name, now=at)


def test_a_second_signature_while_the_first_is_not_yet_committed_waits_and_then_replaces_it(engine):
    """Two secretaries press 确认 on the same line at once: the second waits for the first and replaces it, no
    unique-key error (a read-then-insert would fail here every time)."""
    ticket_id = _voided(engine)
    errors: list[BaseException] = []
    with new_session(engine) as first:
        _sign(first, ticket_id, "李书记", NOW)
        first.flush()

        def second() -> None:
            try:
                with new_session(engine) as session:
                    _sign(session, ticket_id, "街道王主任", NOW + timedelta(seconds=1), request=True)
                    session.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)  # the second is waiting for the first's row
        first.commit()
    thread.join(30)
    assert errors == [] and not thread.is_alive()
    with new_session(engine) as session:
        row = reviews_of(session=session, ticket_ids=[ticket_id])[ticket_id]
    assert (row.reviewer_name, row.is_request, row.category) == ("街道王主任", True, "power")


def test_voiding_or_restoring_again_forgets_the_signature(engine):
    ticket_id = _voided(engine)
    with new_session(engine) as session:
        _sign(session, ticket_id, "李书记", NOW)
        session.commit()
        assert list(reviews_of(session=session, ticket_ids=[ticket_id])) == [ticket_id]
        from storage.models import Ticket

        transition(session=session, ticket=session.get(Ticket, ticket_id), action="restored", actor_id="wxid_wangfang",
                   now=NOW + timedelta(hours=1))
        session.commit()
        assert reviews_of(session=session, ticket_ids=[ticket_id]) == {}
