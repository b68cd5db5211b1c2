"""Open311 GeoReport v2, read-only: services, requests and one request, as JSON, the fields of `mulin export open311`.

Every call needs `api_key`, one of `web.api_keys` in config.yaml; a key with `community:` sees only that community's
tickets. A wrong or missing key gets 401 and a JSON error, and no data.
"""
from __future__ import annotations

import hmac
import json
from datetime import date, datetime
from pathlib import Path

import yaml
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from classifier import DEFAULT_RULES
from core.config import ApiKey, Config
from handlers.export.open311 import service_requests
from storage.attachments import first_photos
from storage.db import new_session
from storage.export import latest_notes
from storage.models import Ticket
from storage.tickets import OPEN_STATUSES
from web import scope

MAX_REQUESTS = 1000    # at most this many requests a call, newest first (GeoReport v2 lets a server limit them)


def services() -> list[dict]:
    """The categories the classifier files tickets under, as GeoReport services."""
    rules = yaml.safe_load(Path(DEFAULT_RULES).read_text(encoding="utf-8"))
    return [{"service_code": c["code"], "service_name": c["name"], "description": c["name"], "metadata": False,
             "type": "realtime", "keywords": "", "group": "社区诉求"} for c in rules["categories"]]


def as_json(tickets: list[Ticket], *, config: Config, session: Session) -> str:
    """The tickets as GeoReport requests, each with its latest note and (under web.public_url or photos.public_url)
    its first photo's media_url."""
    notes = latest_notes(session=session, since=None) if tickets else {}
    photos = (first_photos(session=session, ticket_ids=[t.id for t in tickets])
              if tickets and (config.photos.public_url or config.web.public_url) else {})
    return json.dumps(service_requests(tickets, config=config, tz=config.tz, notes=notes, photos=photos),
                      ensure_ascii=False)


def _error(code: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": code, "description": description}], status_code=code)


def _key(request: Request) -> ApiKey | None:
    sent = request.query_params.get("api_key") or ""
    for key in request.app.state.config.web.api_keys:
        if sent and hmac.compare_digest(key.key.encode(), sent.encode()):
            return key
    return None


class BadParameter(ValueError):
    pass


def _moment(raw: str | None, name: str, config: Config) -> datetime | None:
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00")) if "T" in raw else \
            datetime.combine(date.fromisoformat(raw.strip()), datetime.min.time())
    except ValueError:
        raise BadParameter(f"{name} must be ISO 8601, e.g. 2026-11-23T00:00:00+08:00 (日期格式应为 ISO 8601)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=config.tz)


def _listed(raw: str | None) -> list[str]:
    return [part.strip() for part in (raw or "").split(",") if part.strip()]


def _find(session: Session, request: Request, key: ApiKey, one: str | None) -> list[Ticket]:
    config, params = request.app.state.config, request.query_params
    where = [] if (seen := scope.of_api_key(config, key)) is None else [seen]
    ids = [one] if one is not None else _listed(params.get("service_request_id"))
    if ids:
        if not all(i.isdigit() and len(i) < 10 for i in ids):
            return []
        where.append(col(Ticket.id).in_([int(i) for i in ids]))
    else:
        start = _moment(params.get("start_date"), "start_date", config)
        end = _moment(params.get("end_date"), "end_date", config)
        if start is not None:
            where.append(Ticket.created_at >= start)
        if end is not None:
            where.append(Ticket.created_at <= end)
        codes = _listed(params.get("service_code"))
        if codes:
            where.append(col(Ticket.category).in_(codes))
        status = params.get("status")
        if status == "open":
            where.append(col(Ticket.status).in_(OPEN_STATUSES))
        elif status == "closed":
            where.append(col(Ticket.status).not_in(OPEN_STATUSES))
        elif status:
            raise BadParameter("status must be open or closed (状态应为 open 或 closed)")
    return list(session.exec(select(Ticket).where(*where).order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc())
                             .limit(MAX_REQUESTS)))


def _requests(request: Request, key: ApiKey, one: str | None) -> Response:
    state = request.app.state
    try:
        with new_session(state.engine) as session:
            found = _find(session, request, key, one)
            if one is not None and not found:
                return _error(404, f"service request {one[:12]} not found (没有这张工单)")
            body = as_json(found, config=state.config, session=session)
    except BadParameter as exc:
        return _error(400, str(exc))
    return Response(body, media_type="application/json")


def _keyed(handler):  # noqa: ANN001,ANN202
    async def endpoint(request: Request) -> Response:
        key = _key(request)
        if key is None:
            return _error(401, "api_key missing or invalid (缺少或错误的 api_key)")
        return await run_in_threadpool(handler, request, key)
    return endpoint


@_keyed
def _services(request: Request, key: ApiKey) -> Response:
    return JSONResponse(request.app.state.services)


@_keyed
def _request_list(request: Request, key: ApiKey) -> Response:
    return _requests(request, key, None)


@_keyed
def _request_one(request: Request, key: ApiKey) -> Response:
    return _requests(request, key, request.path_params["id"][:20])


def routes() -> list[Route]:
    return [Route("/services.json", _services), Route("/requests.json", _request_list),
            Route("/requests/{id}.json", _request_one)]
