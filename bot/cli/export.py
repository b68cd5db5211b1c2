"""`mulin export open311|xlsx|corrections`: tickets for the street office's systems, the 12345 ledger (台账), and
the staff's corrections of the classifier as labelled lines."""
from __future__ import annotations

import json
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from core.config import Config
from bot.exitcodes import EXIT_CONFIG, EXIT_DATABASE, EXIT_SCHEMA
from handlers.digest import Period, midnight
from handlers.export.corrections import correction_lines
from handlers.export.ledger import ledger
from handlers.export.open311 import service_requests
from storage import schema
from storage.db import DatabaseError, make_engine, new_session
from storage.attachments import first_photos
from storage.export import latest_notes, tickets_since


class _Refused(Exception):
    """A bad argument or an unusable database: the message is printed and the exit code returned."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _since(since: str | None, tz: ZoneInfo) -> datetime | None:
    try:
        return midnight(date.fromisoformat(since), tz) if since else None
    except ValueError:
        raise _Refused(f"日期格式应为 YYYY-MM-DD：{since!r} (bad --since)", EXIT_CONFIG) from None


def _engine(url: str):  # noqa: ANN202
    engine = make_engine(url)
    try:
        schema.check_or_create(engine)
    except DatabaseError as exc:
        engine.dispose()
        raise _Refused(f"数据库错误 (database error): {exc}", EXIT_DATABASE) from None
    except schema.SchemaError as exc:
        engine.dispose()
        raise _Refused(str(exc), EXIT_SCHEMA) from None
    return engine


def _refusing(run):  # noqa: ANN001,ANN202
    def wrapper(**kwargs) -> int:  # noqa: ANN003
        try:
            return run(**kwargs)
        except _Refused as exc:
            print(exc, file=sys.stderr)
            return exc.code
    return wrapper


@_refusing
def export_open311(*, config: Config, database_url: str, since: str | None, out_path: str | None,
                   out: TextIO) -> int:
    tz = ZoneInfo(config.community.timezone)
    start = _since(since, tz)
    engine = _engine(database_url)
    with new_session(engine) as session:
        tickets = tickets_since(session=session, since=start)
        photos = first_photos(session=session, ticket_ids=[t.id for t in tickets]) if (config.photos.public_url or config.web.public_url) else {}
        requests = service_requests(tickets, config=config, tz=tz, notes=latest_notes(session=session, since=start),
                                    photos=photos)
    engine.dispose()
    # one request a line: readable, and the C encoder (indent= would fall back to the pure-Python one)
    text = "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in requests) + "\n]\n" if requests else "[]\n"
    return _write(text, out_path, out, f"已导出 {len(requests)} 张工单到 {out_path}")


def _write(text: str, out_path: str | None, out: TextIO, done: str) -> int:
    """To the file (saying so on stderr) or to `out`."""
    if out_path:
        Path(out_path).write_text(text, encoding="utf-8")
        print(done, file=sys.stderr)
    else:
        out.write(text)
    return 0


@_refusing
def export_xlsx(*, config: Config, database_url: str, since: str | None, out_path: str | None, now: datetime,
                out: TextIO) -> int:
    """KPIs cover the tickets filed since --since, or in the digest's last `kpi_days` days."""
    tz = ZoneInfo(config.community.timezone)
    start = _since(since, tz)
    period = Period(start=start or now - timedelta(days=config.digest.kpi_days), end=now)
    engine = _engine(database_url)
    with new_session(engine) as session:
        book = ledger(session=session, config=config, tz=tz, since=start, period=period, now=now)
    engine.dispose()
    path = out_path or f"工单台账-{now.astimezone(tz).date().isoformat()}.xlsx"
    book.save(path)
    out.write(f"台账已写入 {path}（{book.worksheets[0].max_row - 1} 张工单）\n")
    return 0


@_refusing
def export_corrections(*, config: Config, database_url: str, since: str | None, out_path: str | None,
                       out: TextIO, reviewed_only: bool = False) -> int:
    """One JSON line per correction, in the shape of the classifier's labelled files (tests/data/classifier/): a
    message a staff member filed by hand is a request of the ticket's category, a voided ticket is none, unless a
    person has signed other labels for it on the console's 更正审核 page. Phone and ID numbers are masked. A line
    nobody signed has `"reviewed_by": null`, and classifier.train refuses it; `reviewed_only`: only signed lines,
    ready for tests/data/classifier/groups/. The group messages signed on the 抽查 page follow."""
    tz = ZoneInfo(config.community.timezone)
    start = _since(since, tz)
    engine = _engine(database_url)
    with new_session(engine) as session:
        lines = correction_lines(session=session, since=start, reviewed_only=reviewed_only)
    engine.dispose()
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    return _write(text, out_path, out, f"已导出 {len(lines)} 条更正到 {out_path}")
