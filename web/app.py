"""The web console as a Starlette app: login, the ledger, one ticket's case, the numbers, downloads, Open311.

Every handler runs its database work on a worker thread (run_in_threadpool) with its own session; time comes from
the clock given to build_app, so tests drive it like the bot's.
"""
from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from core.config import Config
from core.types import Outgoing
from core.workcalendar import WorkCalendar
from handlers.context import Ctx, Deps
from handlers.digest import Period
from handlers.export.corrections import correction_lines
from handlers.export.ledger import ledger
from handlers.staff_commands import assign_to, extend, supervise, supervises
from storage.attachments import photo, ticket_photos
from storage.db import new_session
from storage.outbox import enqueue
from storage.staff import StaffDirectory
from storage.tickets import IllegalTransition, events_of
from storage.weblogin import (LoginRefused, end_session, new_code, open_session, redeem_code, redeem_link)
from web import auth, corrections, dashboard, open311, present, query, scope, spotcheck

log = logging.getLogger("mulin.web")
HERE = Path(__file__).resolve().parent


class RowId(Convertor):
    """A row number in a path: digits that fit a database integer (a longer one is no row: 404, not an error)."""

    regex = "[0-9]{1,18}"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", RowId())


def build_app(*, config: Config, engine: Engine, clock) -> Starlette:  # noqa: ANN001 - SystemClock or FakeClock
    templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
    routes = [
        Route("/", home), Route("/login", login, methods=["GET", "POST"]),
        Route("/login/code", login_code, methods=["GET", "POST"]), Route("/login/link/{token}", login_link),
        Route("/logout", logout, methods=["POST"]),
        Route("/tickets", tickets), Route("/tickets.xlsx", tickets_xlsx), Route("/tickets.open311.json", tickets_open311),
        Route("/tickets/{number:id}", ticket_page),
        Route("/tickets/{number:id}/{action:str}", ticket_action, methods=["POST"]),
        Route("/photos/{photo_id:id}", photo_file),
        Route("/dashboard", dashboard_page),
        Route("/corrections", corrections_page), Route("/corrections.jsonl", corrections_jsonl),
        Route("/corrections/{number:id}", correction_review, methods=["POST"]),
        Route("/spotcheck", spotcheck_page), Route("/spotcheck/{number:id}", spotcheck_review, methods=["POST"]),
        Mount("/open311/v2", routes=open311.routes()),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error})
    app.state.config, app.state.engine, app.state.clock = config, engine, clock
    app.state.calendar = WorkCalendar(tz=config.tz, holidays=config.calendar.holidays, workdays=config.calendar.workdays)
    app.state.templates = templates
    app.state.services = open311.services()
    return app


# ---- plumbing ------------------------------------------------------------------------------------------------
def render(request: Request, name: str, who: auth.Who | None, status_code: int = 200, **context: Any) -> HTMLResponse:
    state = request.app.state
    html = state.templates.get_template(name).render(
        request=request, who=who, csrf=auth.form_token(request, who), community=state.config.community.name,
        role_names=ROLE_NAMES, **context)
    return auth.keep_login_token(HTMLResponse(html, status_code=status_code), request)


ROLE_NAMES = {"grid_worker": "网格员", "secretary": "社区书记", "street": "街道"}
ERRORS = {401: "请先登录。", 403: "请求无效（表单已过期或来源不明），请返回刷新页面后重试。", 404: "没有找到这个页面或工单。",
          405: "不支持这种请求方式。"}


async def _http_error(request: Request, exc: HTTPException) -> Response:
    if request.url.path.startswith("/open311/"):
        return JSONResponse([{"code": exc.status_code, "description": exc.detail}], status_code=exc.status_code)
    who = await run_in_threadpool(auth.current, request)
    return render(request, "error.html", who, status_code=exc.status_code,
                  message=ERRORS.get(exc.status_code, "出错了，请稍后再试。"))


def page(*, login: bool = True) -> Callable:
    """A handler run on a worker thread as fn(request, who, form); `login`: others go to /login first. A POST
    must carry the form token of this browser (its session's, or the login cookie's before login): else 403."""
    def decorate(fn: Callable) -> Callable:
        @wraps(fn)
        async def endpoint(request: Request) -> Response:
            form = await request.form() if request.method == "POST" else FormData()
            who = await run_in_threadpool(auth.current, request)
            if login and who is None:
                if request.method != "GET":
                    raise HTTPException(403)
                return RedirectResponse(f"/login?next={quote(request.url.path + ('?' + request.url.query if request.url.query else ''))}",
                                        status_code=303)
            if request.method == "POST" and not auth.token_ok(request, who, form.get("csrf")):
                log.warning("refused a POST to %s without its form token", request.url.path)
                raise HTTPException(403)
            return await run_in_threadpool(fn, request, who, form)
        return endpoint
    return decorate


def _safe_next(target: str | None) -> str:
    # only a path on this site: "//host" and "/\\host" would lead the browser to another one
    return target if target and target.startswith("/") and target[1:2] not in ("/", "\\") else "/tickets"


def _login_response(request: Request, staff_id: str, target: str | None) -> Response:
    state = request.app.state
    with new_session(state.engine) as session:
        token, _ = open_session(session=session, staff_id=staff_id, now=state.clock.now(),
                                hours=state.config.web.session_hours)
    response = RedirectResponse(_safe_next(target), status_code=303)
    auth.set_cookie(response, request, auth.SESSION_COOKIE, token, max_age=int(state.config.web.session_hours * 3600))
    response.delete_cookie(auth.LOGIN_COOKIE, path="/")
    log.info("staff %s logged in to the web console", staff_id)
    return response


# ---- login -----------------------------------------------------------------------------------------------------
@page(login=False)
def home(request: Request, who: auth.Who | None, form: FormData) -> Response:
    return RedirectResponse("/tickets" if who else "/login", status_code=303)


@page(login=False)
def login(request: Request, who: auth.Who | None, form: FormData) -> Response:
    """Step 1: the staff id. The code goes to the WeChat bound to it, written to the outbox for the bot to send."""
    target = request.query_params.get("next") or form.get("next")
    if request.method == "GET":
        return render(request, "login.html", who, next=_safe_next(target))
    staff_id = (form.get("staff_id") or "").strip()[:64]
    state = request.app.state
    staff = state.config.staff_by_id(staff_id)
    if staff is not None:
        with new_session(state.engine) as session:
            directory = StaffDirectory()
            directory.reload(session=session)
            wechat_id = directory.wechat_id_of(staff.id) or staff.wechat_id
            now = state.clock.now()
            code = new_code(session=session, staff_id=staff.id, now=now) if wechat_id else None
            if code is not None:
                # urgent: a code asked for in quiet hours must still arrive
                enqueue(session=session, out=Outgoing(text=f"您的睦邻工作台登录验证码：{code}，5分钟内有效，只能用一次。"
                                                           "如非本人操作，请忽略。", to_id=wechat_id), now=now, urgent=True)
            session.commit()
        if wechat_id is None:
            log.warning("web login asked for staff %s, who has no WeChat binding", staff.id)
    # the same answer whether or not the id exists: the page does not tell who is staff
    return RedirectResponse(f"/login/code?staff={quote(staff_id)}&next={quote(_safe_next(target))}", status_code=303)


@page(login=False)
def login_code(request: Request, who: auth.Who | None, form: FormData) -> Response:
    """Step 2: the 6-digit code from WeChat."""
    params = form if request.method == "POST" else request.query_params
    staff_id, target = (params.get("staff") or "")[:64], params.get("next")
    if request.method == "GET":
        return render(request, "login_code.html", who, staff=staff_id, next=_safe_next(target), error="")
    state = request.app.state
    code = (form.get("code") or "").strip()
    try:
        if not (code.isdigit() and len(code) == 6):
            raise LoginRefused("验证码是6位数字，请检查后重新输入。")
        with new_session(state.engine) as session:
            redeem_code(session=session, staff_id=staff_id, code=code, now=state.clock.now())
        if state.config.staff_by_id(staff_id) is None:
            raise LoginRefused("该工号已不在配置中，请联系管理员。")
    except LoginRefused as exc:
        return render(request, "login_code.html", who, status_code=400, staff=staff_id, next=_safe_next(target),
                      error=str(exc))
    return _login_response(request, staff_id, target)


@page(login=False)
def login_link(request: Request, who: auth.Who | None, form: FormData) -> Response:
    state = request.app.state
    try:
        with new_session(state.engine) as session:
            staff_id = redeem_link(session=session, token=request.path_params["token"][:100], now=state.clock.now())
        if state.config.staff_by_id(staff_id) is None:
            raise LoginRefused("该工号已不在配置中，请联系管理员。")
    except LoginRefused as exc:
        return render(request, "error.html", who, status_code=400, message=str(exc))
    return _login_response(request, staff_id, "/tickets")


@page()
def logout(request: Request, who: auth.Who, form: FormData) -> Response:
    state = request.app.state
    with new_session(state.engine) as session:
        end_session(session=session, token=who.token, now=state.clock.now())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


# ---- the ledger and one ticket ------------------------------------------------------------------------------------
def _filtered(request: Request, who: auth.Who) -> tuple[query.Filters, list[str], Any]:
    filters, problems = query.Filters.parse(request.query_params)
    return filters, problems, scope.of_staff(request.app.state.config, who.staff)


@page()
def tickets(request: Request, who: auth.Who, form: FormData) -> Response:
    state = request.app.state
    config, now = state.config, state.clock.now()
    filters, problems, seen = _filtered(request, who)
    with new_session(state.engine) as session:
        total, rows = query.page_of(session=session, filters=filters, scope=seen, now=now, tz=config.tz)
        categories = sorted(set(dashboard.categories(session=session, scope=seen)) | {(t.category, t.category_name) for t in rows})
    pages = max(1, -(-total // query.PAGE_SIZE))
    return render(request, "tickets.html", who, filters=filters, problems=problems, total=total, pages=pages,
                  rows=[present.row(t, config=config, calendar=state.calendar, now=now) for t in rows],
                  grids=scope.grids_in(config, who.staff), categories=categories, statuses=query.STATUS_FILTERS,
                  sorts=query.SORT_NAMES, download=filters.query_string(page=1))


def _action_ctx(session, state, who: auth.Who) -> Ctx:  # noqa: ANN001
    directory = StaffDirectory()
    directory.reload(session=session)
    deps = Deps(config=state.config, classifier=None, directory=directory, calendar=state.calendar)
    return Ctx(deps=deps, session=session, msg=None, now=state.clock.now(), staff=who.staff)


def _may_act(ctx: Ctx, ticket) -> bool:  # noqa: ANN001
    """The web's secretary actions follow the chat's rule: a secretary, on a ticket of their community."""
    return ctx.staff.role == "secretary" and supervises(ctx, ticket)


@page()
def ticket_page(request: Request, who: auth.Who, form: FormData, notice: str = "", error: str = "") -> Response:
    state = request.app.state
    with new_session(state.engine) as session:
        ticket = query.visible(session=session, ticket_id=request.path_params["number"],
                               scope=scope.of_staff(state.config, who.staff))
        if ticket is None:
            raise HTTPException(404)
        ctx = _action_ctx(session, state, who)
        shown = present.case(session, ticket, config=state.config, calendar=state.calendar,
                             directory=ctx.deps.directory, now=ctx.now)
        actions = _may_act(ctx, ticket)
        photos = ticket_photos(session=session, ticket_id=ticket.id, with_data=False)
    workers = [s for s in state.config.staff if s.role == "grid_worker"]
    return render(request, "ticket.html", who, status_code=400 if error else 200, t=shown, actions=actions,
                  photos=photos, tz=state.config.tz,
                  workers=workers, notice=notice or DONE.get(request.query_params.get("done", ""), ""), error=error,
                  max_extension=state.config.tickets.max_extension_days)


@page()
def photo_file(request: Request, who: auth.Who, form: FormData) -> Response:
    """A ticket's photo, full size, to those who may see the ticket (anyone else: 404, as for the ticket)."""
    state = request.app.state
    with new_session(state.engine) as session:
        shown = photo(session=session, attachment_id=request.path_params["photo_id"])
        if shown is None or query.visible(session=session, ticket_id=shown.ticket_id,
                                          scope=scope.of_staff(state.config, who.staff)) is None:
            raise HTTPException(404)
    return Response(shown.data, media_type=shown.mime,
                    headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
                             "Content-Disposition": f"inline; filename*=UTF-8''{quote(shown.name)}"})


ACTIONS = ("supervise", "assign", "extend")
# the notice after an action: chosen by the action's name in the address, never text from it (a link could say anything)
DONE = {"supervise": "已督办，网格员会在微信里收到。", "assign": "已指派，新的网格员会在微信里收到。",
        "extend": "已批准延期，网格员会在微信里收到新的期限。"}


@page()
def ticket_action(request: Request, who: auth.Who, form: FormData) -> Response:
    """督办, 指派 and 延期 from the case page, through the chat commands' own functions: a ticket_event each, and their
    WeChat messages in the outbox for the bot to send."""
    state = request.app.state
    number, action = request.path_params["number"], request.path_params["action"]
    if action not in ACTIONS:
        raise HTTPException(404)
    with new_session(state.engine) as session:
        ticket = query.visible(session=session, ticket_id=number, scope=scope.of_staff(state.config, who.staff))
        if ticket is None:
            raise HTTPException(404)
        ctx = _action_ctx(session, state, who)
        if not _may_act(ctx, ticket):
            raise HTTPException(403)
        actor = ctx.deps.directory.wechat_id_of(who.staff.id) or who.staff.id
        before = len(events_of(session=session, ticket_id=number))
        note = (form.get("note") or "").strip()[:500]
        try:
            if action == "supervise":
                if not note:
                    return ticket_page.__wrapped__(request, who, form, error="请写上督办意见。")
                answer = supervise(ctx, ticket, note, actor_id=actor)
            elif action == "assign":
                answer = assign_to(ctx, ticket, (form.get("worker") or "")[:64], actor_id=actor)
            else:
                days = form.get("days") or ""
                if not days.isdigit():
                    return ticket_page.__wrapped__(request, who, form, error=f"延期天数应为1到{state.config.tickets.max_extension_days}之间的整数。")
                answer = extend(ctx, ticket, int(days), note, actor_id=actor)
        except IllegalTransition as exc:
            session.rollback()
            return ticket_page.__wrapped__(request, who, form, error=str(exc))
        changed = len(events_of(session=session, ticket_id=number)) > before
        session.commit()
    if not changed:  # refused by the rule (unknown worker, too many days...): the answer says why
        return ticket_page.__wrapped__(request, who, form, error=answer)
    log.info("staff %s: %s on ticket %s from the web console", who.staff.id, action, number)
    return RedirectResponse(f"/tickets/{number}?done={action}", status_code=303)


# ---- numbers and downloads ---------------------------------------------------------------------------------------
@page()
def dashboard_page(request: Request, who: auth.Who, form: FormData) -> Response:
    state = request.app.state
    with new_session(state.engine) as session:
        numbers = dashboard.build(session=session, config=state.config, calendar=state.calendar, now=state.clock.now(),
                                  staff=who.staff, seen=scope.of_staff(state.config, who.staff))
    return render(request, "dashboard.html", who, d=numbers)


def _download(request: Request, who: auth.Who, make: Callable, media_type: str, name: str, suffix: str) -> Response:
    """The tickets of the current filter within the user's scope, made into a file by make(session, tickets, seen,
    now), sent as the attachment <name>-<local date><suffix>."""
    state = request.app.state
    now = state.clock.now()
    filters, _, seen = _filtered(request, who)
    with new_session(state.engine) as session:
        found = query.all_of(session=session, filters=filters, scope=seen, now=now, tz=state.config.tz)
        body = make(session, found, seen, now)
    filename = f"{name}-{now.astimezone(state.config.tz).date().isoformat()}{suffix}"
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


@page()
def tickets_xlsx(request: Request, who: auth.Who, form: FormData) -> Response:
    """The 12345 ledger of the current filter; its KPI sheet over the digest's window, within the user's scope."""
    config = request.app.state.config

    def make(session, found, seen, now) -> bytes:  # noqa: ANN001
        book = ledger(session=session, config=config, tz=config.tz, since=None, now=now, tickets=found, scope=seen,
                      period=Period(start=now - timedelta(days=config.digest.kpi_days), end=now),
                      grids=scope.grids_in(config, who.staff))
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    return _download(request, who, make, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     "工单台账", ".xlsx")


@page()
def tickets_open311(request: Request, who: auth.Who, form: FormData) -> Response:
    config = request.app.state.config

    def make(session, found, seen, now) -> bytes:  # noqa: ANN001
        return open311.as_json(found, config=config, session=session).encode()
    return _download(request, who, make, "application/json", "open311", ".json")


# ---- the staff's corrections of the classifier ------------------------------------------------------------------
def _not_reviewer(request: Request, who: auth.Who) -> Response | None:
    """The refusal page for a grid worker (who made the corrections: someone else reads them), else None."""
    if corrections.may_review(who.staff):
        return None
    return render(request, "error.html", who, status_code=403, message="更正审核由社区书记或街道负责。")


def _pending_only(request: Request) -> bool:
    """A review page lists only what waits for a reading, unless asked for all (?show=all)."""
    return request.query_params.get("show") != "all"


def _back_to_review(request: Request, path: str, done: str) -> RedirectResponse:
    """After a signature: the review page again, as it was shown, saying what was done."""
    back = "" if _pending_only(request) else "&show=all"
    return RedirectResponse(f"{path}?done={done}{back}", status_code=303)


def _me(session, state, who: auth.Who) -> set[str]:  # noqa: ANN001
    """The ids a staff member's own actions carry: their staff id and the WeChat ids bound to it."""
    directory = StaffDirectory()
    directory.reload(session=session)
    return {who.staff.id, *(i for i in (directory.wechat_id_of(who.staff.id), who.staff.wechat_id) if i)}


@page()
def corrections_page(request: Request, who: auth.Who, form: FormData, error: str = "",
                     sent: tuple | None = None, status: int = 400) -> Response:
    if refused := _not_reviewer(request, who):
        return refused
    state = request.app.state
    pending_only = _pending_only(request)
    done = request.query_params.get("done", "")
    with new_session(state.engine) as session:
        shown = corrections.page(session=session, config=state.config, scope=scope.of_staff(state.config, who.staff),
                                 categories=corrections.categories(), pending_only=pending_only,
                                 me=_me(session, state, who), sent=sent)
    return render(request, "corrections.html", who, status_code=status if error else 200, d=shown,
                  categories=corrections.categories(), pending_only=pending_only, error=error,
                  notice=f"已审核 #{done}，谢谢。" if done.isdigit() and len(done) < 19 else "")


@page()
def correction_review(request: Request, who: auth.Who, form: FormData) -> Response:
    """Sign one correction's labels; labels LABELS.md does not allow are refused with the reason and the form as
    sent, nothing saved; so is one's own correction."""
    if refused := _not_reviewer(request, who):
        return refused
    state = request.app.state
    number = request.path_params["number"]
    labels, problem = corrections.sent_labels(form)
    if problem:
        return corrections_page.__wrapped__(request, who, form, error=f"#{number}：{problem}", sent=(number, labels))
    with new_session(state.engine) as session:
        try:
            signed = corrections.sign(session=session, ticket_id=number, scope=scope.of_staff(state.config, who.staff),
                                      labels=labels, staff=who.staff, me=_me(session, state, who),
                                      now=state.clock.now())
        except corrections.OwnCorrection:
            return corrections_page.__wrapped__(request, who, form, error=corrections.OWN, status=403)
        if not signed:
            raise HTTPException(404)
        session.commit()
    log.info("staff %s signed the labels of correction #%s", who.staff.id, number)
    return _back_to_review(request, "/corrections", str(number))


@page()
def spotcheck_page(request: Request, who: auth.Who, form: FormData, error: str = "",
                   sent: tuple | None = None) -> Response:
    if refused := _not_reviewer(request, who):
        return refused
    state = request.app.state
    pending_only = _pending_only(request)
    done = request.query_params.get("done", "")
    with new_session(state.engine) as session:
        shown = spotcheck.page(session=session, config=state.config, staff=who.staff, now=state.clock.now(),
                               pending_only=pending_only, sent=sent)
    return render(request, "spotcheck.html", who, status_code=400 if error else 200, d=shown,
                  categories=corrections.categories(), pending_only=pending_only, error=error,
                  notice="已审核，谢谢。" if done == "1" else "")


@page()
def spotcheck_review(request: Request, who: auth.Who, form: FormData) -> Response:
    """Sign one drawn message's labels; labels LABELS.md does not allow are refused with the reason and the form as
    sent, nothing saved."""
    if refused := _not_reviewer(request, who):
        return refused
    state = request.app.state
    number = request.path_params["number"]
    labels, problem = corrections.sent_labels(form)
    if problem:
        return spotcheck_page.__wrapped__(request, who, form, error=problem, sent=(number, labels))
    with new_session(state.engine) as session:
        if not spotcheck.sign(session=session, config=state.config, staff=who.staff, row_id=number, labels=labels,
                              now=state.clock.now()):
            raise HTTPException(404)
        session.commit()
    log.info("staff %s signed the labels of drawn message row %s", who.staff.id, number)
    return _back_to_review(request, "/spotcheck", "1")


@page()
def corrections_jsonl(request: Request, who: auth.Who, form: FormData) -> Response:
    """The signed corrections and 抽查 readings one may see, one JSON line each, for tests/data/classifier/groups/."""
    if refused := _not_reviewer(request, who):
        return refused
    state = request.app.state
    with new_session(state.engine) as session:
        lines = correction_lines(session=session, since=None, scope=scope.of_staff(state.config, who.staff),
                                 visible=spotcheck.visible(state.config, who.staff), reviewed_only=True)
    body = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    filename = f"更正标注-{state.clock.now().astimezone(state.config.tz).date().isoformat()}.jsonl"
    return Response(body.encode(), media_type="application/jsonl; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


def serve(*, config: Config, engine: Engine, clock, host: str, port: int) -> None:  # noqa: ANN001
    import uvicorn

    uvicorn.run(build_app(config=config, engine=engine, clock=clock), host=host, port=port, log_level="warning",
                proxy_headers=True)

