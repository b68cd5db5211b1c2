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
