"""Who is at the browser: the session cookie, the form (CSRF) token, and refusing what does not match.

A logged-in browser's forms carry its session's token; the login forms (no session yet) carry a token that is
also set as a cookie (double submit). Cookies are HttpOnly and SameSite=Lax, and Secure over https.
"""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from core.config import Staff
from storage.db import new_session
from storage.models import WebSession
from storage.weblogin import find_session

SESSION_COOKIE = "mulin_session"
LOGIN_COOKIE = "mulin_login"  # the login forms' token, before there is a session


@dataclass(frozen=True)
class Who:
    staff: Staff
    session: WebSession
    token: str


def current(request: Request) -> Who | None:
    """The logged-in staff member, or None (no cookie, an ended or expired session, or someone since removed from
    config.yaml)."""
    state = request.app.state
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with new_session(state.engine) as session:
        row = find_session(session=session, token=token, now=state.clock.now())
    staff = state.config.staff_by_id(row.staff_id) if row is not None else None
    return Who(staff, row, token) if staff is not None else None


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax", secure=_secure(request), path="/")


def form_token(request: Request, who: Who | None) -> str:
    """The token this page's forms must send back."""
    if who is not None:
        return who.session.csrf
    token = request.cookies.get(LOGIN_COOKIE) or getattr(request.state, "login_token", None)
    if token is None:
        token = secrets.token_urlsafe(24)
        request.state.login_token = token  # set as a cookie on the response (see keep_login_token)
    return token


def keep_login_token(response: Response, request: Request) -> Response:
    token = getattr(request.state, "login_token", None)
    if token is not None:
        set_cookie(response, request, LOGIN_COOKIE, token, max_age=3600)
    return response


def token_ok(request: Request, who: Who | None, sent: str | None) -> bool:
    expected = who.session.csrf if who is not None else request.cookies.get(LOGIN_COOKIE)
    return bool(expected and sent) and hmac.compare_digest(expected, sent)
