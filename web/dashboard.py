"""/dashboard: today and the last 30 days, the six KPIs per grid and per worker, the trend and the hot spots, all
from storage/kpi.py (the digest's own numbers) within the viewer's scope."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from core.config import Config, Staff
from core.workcalendar import WorkCalendar
from handlers.digest import WEEKDAY_NAMES, midnight
from storage import kpi
from storage.kpi import KPI_DEFINITIONS, Scope
from storage.models import Ticket
from web import spotcheck
from web.corrections import may_review
from web.scope import grids_in

DAYS = 30


def categories(*, session: Session, scope: Scope) -> list[tuple[str, str]]:
    """The categories of the tickets one may see, for the ledger's filter."""
    query = select(Ticket.category, Ticket.category_name).distinct()
    if scope is not None:
        query = query.where(scope)
    return sorted(set(session.exec(query)))


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _rates(numbers: kpi.Kpis) -> list[str]:
    return [_percent(v) for v in numbers.rates().values()]


def build(*, session: Session, config: Config, calendar: WorkCalendar, now: datetime, staff: Staff,
          seen: Scope) -> dict:
    tz = calendar.tz
    today_start = midnight(now.astimezone(tz).date(), tz)
    month_start = today_start - timedelta(days=DAYS - 1)
    today = kpi.activity(session=session, since=today_start, until=now, scope=seen)
    month = kpi.activity(session=session, since=month_start, until=now, scope=seen)
    open_now = sum(kpi.open_by(session=session, column=Ticket.status, scope=seen).values())
    overdue_now, _ = kpi.overdue(session=session, now=now, limit=0, scope=seen)
    since = now - timedelta(days=config.digest.kpi_days)
    by_grid = kpi.kpis_by_grid(session=session, since=since, until=now, now=now, scope=seen)
    grids = [{"name": g.name, "worker": config.staff_name(g.worker), "tickets": by_grid.get(g.id, kpi.Kpis()).tickets,
              "rates": _rates(by_grid.get(g.id, kpi.Kpis()))} for g in grids_in(config, staff)]
    by_worker = kpi.kpis_by_worker(session=session, since=since, until=now, now=now, scope=seen)
    workers = [{"name": config.staff_name(staff_id), "tickets": numbers.tickets, "rates": _rates(numbers)}
               for staff_id, numbers in sorted(by_worker.items())]
    total = kpi.kpis(session=session, since=since, until=now, now=now, scope=seen)
    counts = kpi.daily_counts(session=session, since=month_start, until=now, tz=tz, scope=seen)
    trend = []
    for n in range(DAYS):
        day = month_start.astimezone(tz).date() + timedelta(days=n)
        got = counts.get(day.isoformat(), {"new": 0, "resolved": 0})
        trend.append({"label": f"{day.month}-{day.day}", "weekday": f"周{WEEKDAY_NAMES[day.weekday()]}",
                      "new": got["new"], "resolved": got["resolved"]})
    heard = kpi.hearing(session=session, since=month_start, until=now, scope=seen)
    spots_total, spots = kpi.hot_spots(session=session, since=month_start, until=now,
                                       min_reports=config.digest.hot_spot_reports, scope=seen)
    return {"today": today, "month": month, "open_now": open_now, "overdue_now": overdue_now, "days": DAYS,
            "kpi_days": config.digest.kpi_days, "kpi_names": list(KPI_DEFINITIONS), "definitions": KPI_DEFINITIONS,
            "grids": grids, "workers": workers, "total": {"tickets": total.tickets, "rates": _rates(total)},
            "trend": trend, "peak": max([1, *(max(d["new"], d["resolved"]) for d in trend)]),
            "spots": spots, "spots_total": spots_total, "hot_spot_reports": config.digest.hot_spot_reports,
            "heard": heard, "false_alarms": _percent(heard.false_alarm_rate), "found": _percent(heard.found_rate),
            "spot": (spotcheck.estimate_for(session=session, config=config, staff=staff)
                     if may_review(staff) else None)}
