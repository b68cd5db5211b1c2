"""Logging in to the web console without passwords: one-time codes (sent by WeChat) and links, and sessions.

Secrets are random; the database keeps only their SHA-256, so a copy of the database opens no browser session.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from storage.models import WebLogin, WebLoginAttempt, WebSession

CODE_VALID = timedelta(minutes=5)
LINK_VALID = timedelta(minutes=10)
CODE_RESEND_AFTER = timedelta(minutes=1)   # one code a minute per staff id: the form cannot flood their WeChat
MAX_WRONG_CODES = 5
LOCK_FOR = timedelta(minutes=15)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class LoginRefused(Exception):
    """The message is for the person at the login page."""


def new_code(*, session: Session, staff_id: str, now: datetime) -> str | None:
    """A fresh 6-digit code (older unused ones stop working); None when one was made less than a minute ago."""
    recent = session.exec(select(WebLogin).where(WebLogin.staff_id == staff_id, WebLogin.kind == "code",
                                                 WebLogin.created_at > now - CODE_RESEND_AFTER)).first()
    if recent is not None:
        return None
    _retire(session, staff_id, "code", now)
    code = f"{secrets.randbelow(10**6):06d}"
    session.add(WebLogin(staff_id=staff_id, kind="code", secret_hash=_hash(code), created_at=now,
                         expires_at=now + CODE_VALID))
    return code


def new_link_token(*, session: Session, staff_id: str, now: datetime) -> str:
    token = secrets.token_urlsafe(24)
    session.add(WebLogin(staff_id=staff_id, kind="link", secret_hash=_hash(token), created_at=now,
                         expires_at=now + LINK_VALID))
    session.commit()
    return token


def _retire(session: Session, staff_id: str, kind: str, now: datetime) -> None:
    for row in session.exec(select(WebLogin).where(WebLogin.staff_id == staff_id, WebLogin.kind == kind,
                                                   col(WebLogin.used_at).is_(None))):
        row.used_at = now
        session.add(row)


def locked_until(*, session: Session, staff_id: str, now: datetime) -> datetime | None:
    """5 wrong codes within 15 minutes lock the staff id until 15 minutes after the 5th."""
    wrong = session.exec(select(WebLoginAttempt.at).where(
        WebLoginAttempt.staff_id == staff_id, WebLoginAttempt.ok == False,  # noqa: E712
        WebLoginAttempt.at > now - LOCK_FOR).order_by(col(WebLoginAttempt.at).desc())).all()
    if len(wrong) < MAX_WRONG_CODES:
        return None
    return wrong[MAX_WRONG_CODES - 1] + LOCK_FOR


def redeem_code(*, session: Session, staff_id: str, code: str, now: datetime) -> None:
    """Use the staff member's current code once; raises LoginRefused with a reason. Commits either way."""
    if locked_until(session=session, staff_id=staff_id, now=now) is not None:
        raise LoginRefused("验证码错误次数过多，该工号已锁定15分钟，请稍后再试。")
    row = session.exec(select(WebLogin).where(
        WebLogin.staff_id == staff_id, WebLogin.kind == "code", col(WebLogin.used_at).is_(None),
        WebLogin.expires_at > now).order_by(col(WebLogin.id).desc())).first()
    ok = row is not None and hmac.compare_digest(row.secret_hash, _hash(code.strip()))
    session.add(WebLoginAttempt(staff_id=staff_id, at=now, ok=ok))
    if ok:
        row.used_at = now
        session.add(row)
    session.commit()
    if not ok:
        left = MAX_WRONG_CODES - session.exec(select(func.count()).select_from(WebLoginAttempt).where(
            WebLoginAttempt.staff_id == staff_id, WebLoginAttempt.ok == False,  # noqa: E712
            WebLoginAttempt.at > now - LOCK_FOR)).one()
        if left <= 0:
            raise LoginRefused("验证码错误次数过多，该工号已锁定15分钟，请稍后再试。")
        raise LoginRefused(f"验证码不正确或已过期（5分钟内有效，只能用一次），还可以再试{left}次。")


def redeem_link(*, session: Session, token: str, now: datetime) -> str:
    """The staff id of a valid, unused link token, which is used up; raises LoginRefused."""
    row = session.exec(select(WebLogin).where(WebLogin.kind == "link", WebLogin.secret_hash == _hash(token))).first()
    if row is None or row.used_at is not None or row.expires_at <= now:
        raise LoginRefused("登录链接无效、已用过或已过期（10分钟内有效，只能用一次），请重新获取。")
    row.used_at = now
    session.add(row)
    session.commit()
    return row.staff_id


def open_session(*, session: Session, staff_id: str, now: datetime, hours: float) -> tuple[str, WebSession]:
    """A new browser session: (the cookie's token, the row)."""
    token = secrets.token_urlsafe(32)
    row = WebSession(token_hash=_hash(token), staff_id=staff_id, csrf=secrets.token_urlsafe(24), created_at=now,
                     expires_at=now + timedelta(hours=hours))
    session.add(row)
    session.commit()
    return token, row


def find_session(*, session: Session, token: str, now: datetime) -> WebSession | None:
    row = session.get(WebSession, _hash(token))
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    return row


def end_session(*, session: Session, token: str, now: datetime) -> None:
    row = session.get(WebSession, _hash(token))
    if row is not None and row.ended_at is None:
        row.ended_at = now
        session.add(row)
        session.commit()
