"""The 12345-style ledger (台账): one row per ticket, the KPIs per grid, and what the numbers mean."""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, tzinfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import Session

from core.config import Config, Grid
from handlers.digest import Period
from handlers.export.fields import grid_name, is_overdue, where, worker_name
from handlers.followup import RATING_NAMES
from handlers.texts import mask, mask_name
from storage import kpi
from storage.export import tickets_since
from storage.kpi import KPI_DEFINITIONS, Kpis, Scope
from storage.models import Ticket
from storage.tickets import VOIDED_RESULT

TICKET_SHEET, KPI_SHEET, NOTES_SHEET = "工单台账", "网格KPI", "说明"
TICKET_HEADERS = ("工单号", "类别", "紧急", "诉求内容", "地点", "网格", "反映人", "来源群", "受理时间", "派单时间",
                  "接单时间", "办结时间", "办理时限", "是否超期", "网格员", "办理结果", "满意度", "重办次数")
KPI_HEADERS = ("网格", "网格员", "工单数", *KPI_DEFINITIONS)
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
UNROUTED = "未分网格"
TOTAL = "全社区"
SCOPE_TOTAL = "合计"  # a web user's own grids or community


_ANSI_RE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")  # terminal colour and cursor codes
_FORMULA_START = ("=", "+", "-", "@")


def _cell_text(value: object) -> object:
    """What residents typed, as Excel can hold it: escape codes and control characters dropped."""
    if not isinstance(value, str):
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", _ANSI_RE.sub("", value))


def _append(sheet: Worksheet, values) -> None:  # noqa: ANN001
    """A row of plain values; a text that Excel would read as a formula (= + - @, also after spaces) stays text."""
    row = [_cell_text(v) for v in values]
    sheet.append(row)
    # cells looked up one by one: `max_row` and `sheet[n]` scan every cell on each call (10,000 tickets took 76 s)
    at = sheet._current_row
    for column, value in enumerate(row, start=1):
        if isinstance(value, str) and value.lstrip().startswith(_FORMULA_START):
            cell = sheet.cell(row=at, column=column)
            cell.data_type = "s"
            cell.quotePrefix = True


def _local(at: datetime | None, tz: tzinfo) -> datetime | None:
    """Excel has no time zones: the community's wall-clock time."""
    return at.astimezone(tz).replace(tzinfo=None) if at else None


def ticket_row(ticket: Ticket, *, config: Config, tz: tzinfo, now: datetime) -> list:
    return [
        ticket.id, ticket.category_name, "是" if ticket.urgent else "否", mask(ticket.text), where(ticket),
        grid_name(config, ticket), mask_name(ticket.reporter_name), ticket.room_topic or "私聊",
        *(_local(at, tz) for at in (ticket.created_at, ticket.assigned_at, ticket.accepted_at, ticket.resolved_at,
                                     ticket.resolve_due_at)),
        "是" if is_overdue(ticket, now) else "否", worker_name(config, ticket),
        VOIDED_RESULT if ticket.voided else
        mask(ticket.resolution_note) if ticket.resolution_note and not ticket.status.is_open else "",
        RATING_NAMES.get(ticket.rating, "") if ticket.rating else "", ticket.reopen_count,
    ]


def kpi_row(grid: str, worker: str, numbers: Kpis) -> list:
    return [grid, worker, numbers.tickets, *(("—" if v is None else v) for v in numbers.rates().values())]


def _width(value: object) -> int:
    if isinstance(value, datetime):
        return 16
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(value if value is not None else ""))


def _finish(sheet: Worksheet, *, max_width: int = 40) -> None:
    """Bold frozen header, widths from the content (CJK counts double), real datetimes shown as such."""
    sheet.freeze_panes = "A2"
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in sheet.iter_cols():
        width = max(_width(c.value) for c in column)
        sheet.column_dimensions[column[0].column_letter].width = min(width + 2, max_width)
        for cell in column[1:]:
            if isinstance(cell.value, datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(cell.value, float):
                cell.number_format = "0.0%"
            elif isinstance(cell.value, str) and _width(cell.value) > max_width:
                cell.alignment = Alignment(wrap_text=True, vertical="top")


def _fmt(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def ledger(*, session: Session, config: Config, tz: tzinfo, since: datetime | None, period: Period,
           now: datetime, tickets: list[Ticket] | None = None, scope: Scope = None,
           grids: list[Grid] | None = None) -> Workbook:
    """Tickets filed or changed since `since` (all when None), or exactly `tickets` (the web console's filter);
    KPIs over the tickets filed in `period`, within `scope` (a web user's), for `grids` (default: all)."""
    book = Workbook()
    sheet = book.active
    sheet.title = TICKET_SHEET
    sheet.append(TICKET_HEADERS)
    for ticket in tickets_since(session=session, since=since) if tickets is None else tickets:
        _append(sheet, ticket_row(ticket, config=config, tz=tz, now=now))
    _finish(sheet)

    kpi_sheet = book.create_sheet(KPI_SHEET)
    kpi_sheet.append(KPI_HEADERS)
    by_grid = kpi.kpis_by_grid(session=session, since=period.start, until=period.end, now=now, scope=scope)
    for grid in config.grids if grids is None else grids:
        _append(kpi_sheet, kpi_row(grid.name, config.staff_name(grid.worker), by_grid.pop(grid.id, Kpis())))
    for grid_id, numbers in sorted(by_grid.items(), key=lambda kv: (kv[0] is None, kv[0] or "")):
        _append(kpi_sheet, kpi_row(grid_id or UNROUTED, "", numbers))  # a grid since removed from config, or none yet
    _append(kpi_sheet, kpi_row(TOTAL if scope is None else SCOPE_TOTAL, "",
                           kpi.kpis(session=session, since=period.start, until=period.end, now=now, scope=scope)))
    _finish(kpi_sheet)

    notes = book.create_sheet(NOTES_SHEET)
    _append(notes, ("项目", "内容"))
    _append(notes, ("社区", config.community.name))
    scope_note = f"{_fmt(since, tz)} 以来登记或有变动的工单" if since else "全部工单"
    _append(notes, ("工单台账范围", scope_note if tickets is None else "工作台当前筛选条件下的工单"))
    _append(notes, ("KPI统计区间", f"{_fmt(period.start, tz)} 至 {_fmt(period.end, tz)} 登记的工单，按生成时的状态计算"))
    _append(notes, ("生成时间", _local(now.replace(microsecond=0), tz)))
    _append(notes, ("脱敏", "反映人只显示昵称首字；诉求内容、地点和办理结果中的手机号、身份证号已打码"))
    for name, definition in KPI_DEFINITIONS.items():
        _append(notes, (name, definition))
    _finish(notes, max_width=80)
    return book
