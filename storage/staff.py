"""Who is staff: WeChat contact id -> staff id. Seeded from config; 绑定 codes add more at run time."""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, func, select

from storage.locks import wait_in_transaction
from storage.models import BindAttempt, BindCode, StaffBinding


def seed_bindings(*, session: Session, pairs: list[tuple[str, str]], now: datetime) -> None:
    """Make the config's (staff id, wechat id) pairs true in the database; config wins on conflict. Processes
    starting together (one per account) take turns, or both would insert the same binding."""
    wait_in_transaction(session, "seed_bindings")
    for staff_id, wechat_id in pairs:
        for stale in session.exec(select(StaffBinding).where(StaffBinding.wechat_id == wechat_id,
                                                             StaffBinding.staff_id != staff_id)):
            session.delete(stale)
        session.flush()
        row = session.get(StaffBinding, staff_id)
        if row is None:
            session.add(StaffBinding(staff_id=staff_id, wechat_id=wechat_id, bound_at=now))
        elif row.wechat_id != wechat_id:
            row.wechat_id = wechat_id
            row.bound_at = now
            session.add(row)
    session.commit()


class StaffDirectory:
    """An in-memory copy of the bindings, read on every message; reloaded whenever a binding changes."""

    def __init__(self) -> None:
        self._by_wechat: dict[str, str] = {}
        self._by_staff: dict[str, str] = {}

    def reload(self, *, session: Session) -> None:
        rows = session.exec(select(StaffBinding)).all()
        self._by_wechat = {r.wechat_id: r.staff_id for r in rows}
        self._by_staff = {r.staff_id: r.wechat_id for r in rows}

    def bind(self, staff_id: str, wechat_id: str) -> None:
        self._by_wechat = {w: s for w, s in self._by_wechat.items() if s != staff_id and w != wechat_id}
        self._by_wechat[wechat_id] = staff_id
        self._by_staff = {s: w for w, s in self._by_wechat.items()}

    def staff_id_of(self, wechat_id: str) -> str | None:
        return self._by_wechat.get(wechat_id)

    def wechat_id_of(self, staff_id: str) -> str | None:
        return self._by_staff.get(staff_id)


def create_bind_code(*, session: Session, staff_id: str, now: datetime, valid: timedelta = timedelta(hours=24)) -> str:
    code = f"{secrets.randbelow(10**8):08d}"
    session.add(BindCode(code=code, staff_id=staff_id, created_at=now, expires_at=now + valid))
    session.commit()
    return code


def redeem_bind_code(*, session: Session, code: str, wechat_id: str, now: datetime,
                     max_failures: int = 5, window: timedelta = timedelta(hours=1)) -> str | None:
    """Bind wechat_id to the code's staff member; returns the staff id, or raises BindError with a reason."""
    failures = session.exec(select(func.count()).select_from(BindAttempt).where(
        BindAttempt.contact_id == wechat_id, BindAttempt.ok == False, BindAttempt.at > now - window)).one()  # noqa: E712
    if failures >= max_failures:
        raise BindError("尝试次数过多，请一小时后再试。")
    row = session.get(BindCode, code)
    ok = row is not None and row.used_at is None and row.expires_at > now
    session.add(BindAttempt(contact_id=wechat_id, at=now, ok=ok))
    if not ok:
        session.commit()
        raise BindError("绑定码无效或已过期，请向社区书记重新获取。")
    row.used_by, row.used_at = wechat_id, now
    session.add(row)
    seed_bindings(session=session, pairs=[(row.staff_id, wechat_id)], now=now)
    return row.staff_id


class BindError(Exception):
    """A 绑定 that cannot be done; the message is for the person who tried."""
