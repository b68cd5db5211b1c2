"""民情日报 and 周会审: the daily digest to each secretary (and staff groups if configured), once per period.

A secretary's digest covers their community only; street staff (`digest.street`) and staff groups get one
over all communities, titled with the `community:` (street) name.

The digest due now is the latest scheduled one at or before `now`. If it was missed (the bot was
down), it goes out once, marked 补发; older missed ones are not sent at all. Every digest covers
everything since the previous one (the first: since the database first served), over any holidays.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import Session

from core.config import Config
from core.workcalendar import WorkCalendar
from handlers import texts
from handlers.chart import weekly_png
from handlers.context import Ctx
from handlers.spotcheck import kept_days, visible_in
from storage import inbox, kpi, notices, spotcheck
from storage.models import Ticket
from storage.threads import chases

LATE_AFTER = timedelta(minutes=30)   # later than this after its time, a digest says it is 补发
LOOKBACK_DAYS = 40                   # the furthest back a missed digest is looked for
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = "一二三四五六日"


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    def describe(self, tz) -> str:  # noqa: ANN001
        first = self.start.astimezone(tz)
        last = (self.end - timedelta(seconds=1)).astimezone(tz)
        if first.date() == last.date():
            return f"{first.month}月{first.day}日"
        return f"{first.month}月{first.day}日—{last.month}月{last.day}日"


def scheduled_before(config: Config, calendar: WorkCalendar, now: datetime) -> datetime | None:
    """The latest digest time at or before `now` (working days only, if so configured)."""
    local = now.astimezone(calendar.tz)
    for back in range(LOOKBACK_DAYS):
        day = local.date() - timedelta(days=back)
        at = datetime.combine(day, config.digest.at, calendar.tz)
        if at <= now and (config.digest.days == "everyday" or calendar.is_workday(day)):
            return at
    return None


def midnight(day: date, tz) -> datetime:  # noqa: ANN001
    return datetime.combine(day, time(0), tz)


def audience(config: Config, community_id: str | None) -> tuple[str, kpi.Scope]:
    """The digest's title name and which tickets it counts: one community's, or all (None)."""
    found = config.community_by_id(community_id) if community_id is not None else None
    if found is None:
        return config.community.name, None
    if len(config.all_communities()) == 1:
        return found.name, None
    grids = [g.id for g in config.grids_of(found.id)]
    return found.name, kpi.community_scope(grids, [g.room for g in config.groups_of(found.id)])


def render_daily(*, session: Session, config: Config, calendar: WorkCalendar, period: Period, now: datetime,
                 late: bool = False, community: str | None = None) -> str:
    tz = calendar.tz
    today = now.astimezone(tz)
    name, scope = audience(config, community)
    act = kpi.activity(session=session, since=period.start, until=period.end, scope=scope)
    head = f"【{name}民情日报】{today.month}月{today.day}日（周{WEEKDAY_NAMES[today.weekday()]}）"
    if late:
        head += f"\n（补发：助手曾离线，本期涵盖{period.describe(tz)}）"
    lines = [head, f"{period.describe(tz)}：新增{act.new}件，接单{act.accepted}件，办结{act.resolved}件，"
                   f"新超时{act.became_overdue}件。"]
    chased = chases(session=session, since=period.start, until=period.end, scope=scope)
    if chased:
        lines.append(f"居民催办{sum(chased.values())}次：" + " ".join(
            f"#{i}" + (f"×{n}" if n > 1 else "") for i, n in sorted(chased.items(), key=lambda kv: (-kv[1], kv[0]))[:8]))
    filed, voided = kpi.corrections(session=session, since=period.start, until=period.end, scope=scope)
    if filed or voided:
        lines.append(f"识别更正：网格员代登记{filed}件（助手漏识别），撤销{voided}件（助手误登记，不计入指标）。")
        if config.web.public_url:  # a secretary signs them there, and only signed ones teach the classifier
            lines.append(f"请在工作台“更正审核”确认：{config.web.public_url.rstrip('/')}/corrections")
    if config.web.public_url:  # messages the bot did not file, drawn for a look (抽查): the misses nobody reported
        waiting = spotcheck.pending(session=session, visible=visible_in(config, community),
                                    since=now - timedelta(days=kept_days(config)))
        if waiting:
            lines.append(f"抽查：{waiting}条助手没登记的群消息待看，看看有没有漏掉的诉求："
                         f"{config.web.public_url.rstrip('/')}/spotcheck")
    by_grid = kpi.open_by(session=session, column=Ticket.grid_id, scope=scope)
    total_open = sum(by_grid.values())
    lines.append(f"在办共{total_open}件。")
    if total_open:
        grids = {g.id: g.name for g in config.grids}
        lines.append("按网格：" + "，".join(f"{grids.get(g, '未派单') if g else '未派单'}{n}"
                                          for g, n in sorted(by_grid.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))))
        by_category = kpi.open_by(session=session, column=Ticket.category_name, scope=scope)
        lines.append("按类别：" + "，".join(f"{c}{n}" for c, n in sorted(by_category.items(), key=lambda kv: -kv[1])))
    count, late_tickets = kpi.overdue(session=session, now=now, scope=scope)
    if count:
        lines.append(f"超时未办（{count}件）：")
        for t in late_tickets:
            worker = config.staff_name(t.assignee_staff_id) or "待指派"
            days = calendar.working_days_late(t.due_at, now)
            lines.append(f"  #{t.id} {t.category_name} {texts.place(t)} {worker} "
                         f"{texts.status_name(t)}，{f'超时{days}个工作日' if days else '超时不足1个工作日'}")
        if count > len(late_tickets):
            lines.append(f"  ……另有{count - len(late_tickets)}件，发送“待办”查看全部")
    total, spots = kpi.hot_spots(session=session, since=now - timedelta(days=config.digest.hot_spot_days), until=now,
                                 min_reports=config.digest.hot_spot_reports, scope=scope)
    if spots:
        lines.append(f"热点{total}处（{config.digest.hot_spot_days}天内同一地点同类问题≥{config.digest.hot_spot_reports}次，"
                     f"建议主动治理）{'，前' + str(len(spots)) + '处' if total > len(spots) else ''}：")
        lines += [f"  {s.building} {s.category_name} {s.reports}次（{_ticket_list(s.tickets)}）" for s in spots]
    since = period.end - timedelta(days=config.digest.kpi_days)
    numbers = kpi.kpis(session=session, since=since, until=period.end, now=now, scope=scope)
    lines.append(f"近{config.digest.kpi_days}天指标（{numbers.tickets}件）：{format_rates(numbers)}")
    if config.web.public_url:
        lines.append(f"详情请登录工作台：{config.web.public_url.rstrip('/')}/dashboard")
    return "\n".join(lines)


def _ticket_list(ids: list[int], shown: int = 8) -> str:
    listed = " ".join(f"#{i}" for i in ids[:shown])
    return listed + (f" 等{len(ids)}件" if len(ids) > shown else "")


def format_rates(numbers: kpi.Kpis) -> str:
    return "；".join(f"{name}{'—' if value is None else f'{value:.0%}'}" for name, value in numbers.rates().items())


def render_weekly(*, session: Session, config: Config, calendar: WorkCalendar, week: Period, now: datetime,
                  community: str | None = None) -> str:
    tz = calendar.tz
    name, scope = audience(config, community)
    days = kpi.daily_counts(session=session, since=week.start, until=week.end, tz=tz, scope=scope)
    lines = [f"【{name}周会审】{week.describe(tz)}"]
    day = week.start.astimezone(tz).date()
    while midnight(day, tz) < week.end:
        counts = days.get(day.isoformat(), {"new": 0, "resolved": 0})
        lines.append(f"  {day.month}月{day.day}日 周{WEEKDAY_NAMES[day.weekday()]}：新增{counts['new']} 办结{counts['resolved']}")
        day += timedelta(days=1)
    numbers = kpi.kpis(session=session, since=week.start, until=week.end, now=now, scope=scope)
    lines.append(f"本周工单{numbers.tickets}件：{format_rates(numbers)}")
    lines.append("网格员：")
    by_worker = kpi.kpis_by_worker(session=session, since=week.start, until=week.end, now=now, scope=scope)
    workers = {g.worker for g in config.grids_of(community)} if scope is not None else None
    for staff in config.staff:
        if staff.role != "grid_worker" or (workers is not None and staff.id not in workers):
            continue
        mine = by_worker.get(staff.id, kpi.Kpis())
        lines.append(f"  {staff.name}：{mine.tickets}件；{format_rates(mine)}")
    return "\n".join(lines)


def weekly_chart(*, session: Session, week: Period, tz, scope: kpi.Scope = None) -> bytes:  # noqa: ANN001
    """The week's filed and resolved tickets per day, as a PNG."""
    days = kpi.daily_counts(session=session, since=week.start, until=week.end, tz=tz, scope=scope)
    first = week.start.astimezone(tz).date()
    last = first + timedelta(days=6)
    return weekly_png(first_day=first, days=days, title=f"周会审 {first.month}月{first.day}日—{last.month}月{last.day}日 新增与办结")


def chart_name(week: Period, tz) -> str:  # noqa: ANN001
    """The chart's file name in the chat: the week it shows, e.g. 周会审-2026-11-23至11-29.png."""
    first, last = week.start.astimezone(tz).date(), (week.end - timedelta(days=1)).astimezone(tz).date()
    return f"周会审-{first.isoformat()}至{last:%m-%d}.png"


def week_before(day: date, tz) -> Period:  # noqa: ANN001
    """The seven days that end at `day` 00:00 (for a Monday review: last Monday to Sunday)."""
    end = midnight(day, tz)
    return Period(start=end - timedelta(days=7), end=end)


def send_digests(ctx: Ctx) -> int:
    config, calendar, now = ctx.config, ctx.deps.calendar, ctx.now
    fire = scheduled_before(config, calendar, now)
    first_served = notices.first_start(session=ctx.session, now=now)
    if fire is None or fire < first_served:
        return 0  # nothing was owed before this database first served
    sent = 0
    end = midnight(fire.astimezone(calendar.tz).date(), calendar.tz)
    anyone = notices.last(session=ctx.session, kind="digest")
    for target, say, community in _recipients(ctx):
        key = f"digest:{target}:{fire.date().isoformat()}"
        previous = notices.last(session=ctx.session, kind="digest", target=target) or anyone
        period = Period(start=_since_previous(previous, first_served, end, calendar), end=end)
        late = now - fire > LATE_AFTER or (
            previous is not None and _missed_between(config, calendar, previous.scheduled_at, fire))
        if not notices.claim(session=ctx.session, key=key, kind="digest", target=target, scheduled_at=fire, now=now,
                             period_start=period.start, period_end=period.end, late=late):
            continue
        say(render_daily(session=ctx.session, config=config, calendar=calendar, period=period, now=now, late=late,
                         community=community))
        sent += 1
        weekly = config.digest.weekly_on
        if weekly and WEEKDAYS[fire.astimezone(calendar.tz).weekday()] == weekly and notices.claim(
                session=ctx.session, key=f"weekly:{target}:{fire.date().isoformat()}", kind="weekly", target=target,
                scheduled_at=fire, now=now, period_end=end):
            week = week_before(end.date(), calendar.tz)
            say(render_weekly(session=ctx.session, config=config, calendar=calendar, week=week, now=now,
                              community=community))
            chart = weekly_chart(session=ctx.session, week=week, tz=calendar.tz, scope=audience(config, community)[1])
            say("[周会审趋势图]", image=chart, image_name=chart_name(week, calendar.tz))
            sent += 1
    return sent


def _since_previous(previous, first_served: datetime, end: datetime, calendar: WorkCalendar) -> datetime:  # noqa: ANN001
    """Where a digest ending at `end` starts: where the previous one ended, whatever holidays and downtime lie
    between; for the first one, the day this database first served (at most LOOKBACK_DAYS back)."""
    if previous is not None and previous.period_end < end:
        return previous.period_end
    if previous is None:
        return max(midnight(first_served.astimezone(calendar.tz).date(), calendar.tz),
                   end - timedelta(days=LOOKBACK_DAYS))
    return end - timedelta(days=1)


def _missed_between(config: Config, calendar: WorkCalendar, earlier: datetime, later: datetime) -> bool:
    """Was a scheduled digest skipped between two sent ones (so this one covers a gap)?"""
    skipped = scheduled_before(config, calendar, later - timedelta(seconds=1))
    return skipped is not None and skipped > earlier


def _recipients(ctx: Ctx):  # noqa: ANN202
    """(notice target, how to send, community id or None for all communities) for each digest."""
    config = ctx.config
    readers = [s for s in config.staff if s.role == "secretary" or (s.role == "street" and config.digest.street)]
    for person in readers:
        wechat_id = ctx.deps.directory.wechat_id_of(person.id)
        if wechat_id:
            yield (person.id, lambda text, to=wechat_id, image=None, image_name="image.png":
                   ctx.say_private(to, text, image=image, image_name=image_name),
                   config.community_of_staff(person))
    if config.digest.to_staff_groups:
        for room in config.staff_groups:
            room_id = inbox.room_id_for(session=ctx.session, room=room)
            if room_id:
                yield (f"room:{room}", lambda text, to=room_id, image=None, image_name="image.png":
                       ctx.say_room(to, text, image=image, image_name=image_name), None)
