"""Who is staff: WeChat contact id -> staff id. Seeded from config; 绑定 codes add more at run time."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from storage.models import StaffBinding


def seed_bindings(*, session: Session, pairs: list[tuple[str, str]], now: datetime) -> None:
    """Make the config's (staff id, wechat id) pairs true in the database; config wins on conflict."""
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


def staff_id_of(*, session: Session, wechat_id: str) -> str | None:
    row = session.exec(select(StaffBinding).where(StaffBinding.wechat_id == wechat_id)).first()
    return row.staff_id if row else None


def wechat_id_of(*, session: Session, staff_id: str) -> str | None:
    row = session.get(StaffBinding, staff_id)
    return row.wechat_id if row else None


class StaffDirectory:
    """An in-memory copy of the bindings, read on every message; reloaded whenever a binding changes."""

    def __init__(self) -> None:
        self._by_wechat: dict[str, str] = {}
        self._by_staff: dict[str, str] = {}

    def reload(self, *, session: Session) -> None:
        rows = session.exec(select(StaffBinding)).all()
        self._by_wechat = {r.wechat_id: r.staff_id for r in rows}
        self._by_staff = {r.staff_id: r.wechat_id for r in rows}

    def staff_id_of(self, wechat_id: str) -> str | None:
        return self._by_wechat.get(wechat_id)

    def wechat_id_of(self, staff_id: str) -> str | None:
        return self._by_staff.get(staff_id)
