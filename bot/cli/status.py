"""`mulin status [--json] [--ack]`: health from the database alone, with an exit code for systemd/docker checks.

0 healthy, 1 degraded (something needs a look: a gateway link down, a send failing, a parked message, a late
scan or backlog, one of several accounts stopped), 2 down (no process beating, or the database unusable).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from core.config import Config
from storage import health, schema
from storage.db import DatabaseError, make_engine, mask_url, new_session
from storage.nodes import DEFAULT_NODE, NODE_TIMEOUT

HEALTHY, DEGRADED, DOWN = 0, 1, 2
WORDS = {HEALTHY: "正常 (healthy)", DEGRADED: "降级 (degraded)", DOWN: "停止 (down)"}
NAMES = {HEALTHY: "healthy", DEGRADED: "degraded", DOWN: "down"}


@dataclass
class Report:
    code: int = HEALTHY
    problems: list[str] = field(default_factory=list)
    schema: dict[str, Any] = field(default_factory=dict)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    outbox: dict[str, Any] = field(default_factory=dict)
    last_scan: str | None = None
    last_scan_seconds: float | None = None
    last_digest: str | None = None

    def flag(self, code: int, problem: str) -> None:
        self.code = max(self.code, code)
        self.problems.append(problem)

    def as_dict(self) -> dict[str, Any]:
        return {"status": NAMES[self.code], "code": self.code, **asdict(self)}


def _iso(moment: datetime | None, tz) -> str | None:  # noqa: ANN001
    return moment.astimezone(tz).isoformat(timespec="seconds") if moment is not None else None


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "从未"
    seconds = max((now - moment).total_seconds(), 0)
    for unit, size in (("天", 86400), ("小时", 3600), ("分钟", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit}前"
    return f"{seconds:.0f}秒前"


def assess(*, evidence: health.Evidence, config: Config, now: datetime, schema_at: str | None) -> Report:
    tz, limits = config.tz, config.health
    report = Report(schema={"current": schema_at, "head": schema.head()})
    if schema_at != schema.head():
        report.flag(DOWN, f"数据库结构 {schema_at or '无'}，需要 {schema.head()}：请运行 mulin db upgrade")
    by_name = {node.account: node for node in evidence.nodes}
    names = [a.name for a in config.accounts] or [DEFAULT_NODE]
    alive = 0
    for name in names:
        node, inbox = by_name.get(name), evidence.inbox.get(name, health.Inbox())
        row: dict[str, Any] = {"account": name, "process": "down", "heartbeat_at": None, "gateway": None,
                               "gateway_since": None, "reconnects": 0, "last_received": _iso(inbox.last_received, tz),
                               "inbox": {"received": inbox.received, "failed": inbox.failed, "parked": inbox.parked,
                                         "parked_unreviewed": inbox.parked_unreviewed,
                                         "oldest_waiting": _iso(inbox.oldest_waiting, tz)}}
        report.accounts.append(row)
        if node is None:
            report.flag(DEGRADED, f"账号 {name}：从未启动（数据库里没有它的心跳）")
            continue
        row.update(heartbeat_at=_iso(node.heartbeat_at, tz), reconnects=node.reconnects,
                   gateway_since=_iso(node.link_since, tz),
                   gateway={True: "connected", False: "disconnected", None: "unknown"}[node.link_up])
        if now - node.heartbeat_at > NODE_TIMEOUT:
            report.flag(DEGRADED, f"账号 {name}：进程没有心跳（最后一次 {_ago(node.heartbeat_at, now)}）")
            continue
        row["process"] = "up"
        alive += 1
        if node.link_up is False:
            report.flag(DEGRADED, f"账号 {name}：微信网关断开（自 {_iso(node.link_since, tz)} 起，{_ago(node.link_since, now)}）")
        if inbox.oldest_waiting is not None and now - inbox.oldest_waiting > timedelta(minutes=limits.backlog_minutes):
            report.flag(DEGRADED, f"账号 {name}：有消息存了 {_ago(inbox.oldest_waiting, now)} 还没处理完")
        if inbox.parked_unreviewed:
            report.flag(DEGRADED, f"账号 {name}：{inbox.parked_unreviewed} 条消息处理失败已搁置，请查看日志后运行 "
                                  "mulin status --ack")
    if alive == 0:
        report.flag(DOWN, "没有正在运行的 mulin run 进程 (no process is beating)")
    out = evidence.outbox
    report.outbox = {"pending": out.pending, "sending": out.sending, "held": out.held, "failed": out.failed,
                     "failed_unreviewed": out.failed_unreviewed, "retrying": out.retrying,
                     "oldest_pending": _iso(out.oldest_pending, tz),
                     "oldest_pending_seconds": round((now - out.oldest_pending).total_seconds())
                     if out.oldest_pending else None}
    if out.retrying:
        report.flag(DEGRADED, f"{out.retrying} 条消息发送失败，正在重试")
    if out.failed_unreviewed:
        report.flag(DEGRADED, f"{out.failed_unreviewed} 条消息多次发送失败已放弃，请查看日志后运行 mulin status --ack")
    if out.oldest_pending is not None and now - out.oldest_pending > timedelta(hours=limits.outbox_late_hours):
        report.flag(DEGRADED, f"最早一条待发消息等了 {_ago(out.oldest_pending, now)}")
    scans = [n for n in evidence.nodes if n.scan_at is not None]
    last = max(scans, key=lambda n: n.scan_at, default=None)
    report.last_scan, report.last_scan_seconds = (_iso(last.scan_at, tz), last.scan_seconds) if last else (None, None)
    report.last_digest = _iso(evidence.last_digest, tz)
    if alive and (last is None or now - last.scan_at > timedelta(minutes=limits.scan_late_minutes)):
        report.flag(DEGRADED, f"定时扫描 {_ago(last.scan_at if last else None, now)} 运行过，应每分钟一次")
    return report


def render(report: Report, out: TextIO) -> None:
    at = report.schema.get("current")
    lines = [f"睦邻状态：{WORDS[report.code]}",
             f"数据库结构：{at or '无'}" + ("（最新）" if at == report.schema.get("head") else f"（最新为 {report.schema.get('head')}）")]
    for row in report.accounts:
        gateway = {"connected": "已连接", "disconnected": "断开", "unknown": "未知", None: "—"}[row["gateway"]]
        since = f"（自 {row['gateway_since']} 起）" if row["gateway_since"] else ""
        box = row["inbox"]
        lines.append(f"账号 {row['account']}：进程{'运行中' if row['process'] == 'up' else '未运行'}，心跳 "
                     f"{row['heartbeat_at'] or '无'}；网关{gateway}{since}，重连 {row['reconnects']} 次；最后收到消息 "
                     f"{row['last_received'] or '无'}；收件箱 待处理 {box['received']} / 待重试 {box['failed']} / "
                     f"搁置 {box['parked']}")
    o = report.outbox
    if o:
        oldest = f"，最早一条 {o['oldest_pending']}" if o["oldest_pending"] else ""
        lines.append(f"发件箱：待发 {o['pending']}{oldest} / 发送中 {o['sending']} / 暂存 {o['held']} / 失败 {o['failed']}"
                     f"（正在重试 {o['retrying']}）")
    seconds = f"（{report.last_scan_seconds:.2f} 秒）" if report.last_scan_seconds is not None else ""
    lines.append(f"最近扫描：{report.last_scan or '无'}{seconds}；最近日报：{report.last_digest or '无'}")
    lines += ["需要处理："] + [f"- {p}" for p in report.problems] if report.problems else []
    out.write("\n".join(lines) + "\n")


def status(*, config: Config, database_url: str, now: datetime, as_json: bool, ack: bool, out: TextIO) -> int:
    missing = database_url.startswith("sqlite:///") and not Path(database_url.split("sqlite:///", 1)[1]).exists()
    if missing:  # looking must not create it
        report = Report()
        report.flag(DOWN, f"数据库文件不存在 (no database file): {database_url}")
        return _print(report, as_json, out)
    engine = make_engine(database_url)
    try:
        try:
            schema_at = schema.current(engine)
            with new_session(engine) as session:
                if ack:
                    parked, failed = health.review(session=session, now=now)
                    out.write(f"已标记为已查看：搁置消息 {parked} 条，发送失败 {failed} 条\n")
                evidence = health.gather(session=session) if schema_at is not None else health.Evidence(nodes=[])
        except DatabaseError as exc:
            report = Report()
            report.flag(DOWN, f"数据库错误 (database error): {exc}")
        except Exception as exc:  # noqa: BLE001 - e.g. tables missing: the database is not usable
            report = Report()
            report.flag(DOWN, f"数据库无法读取 {mask_url(database_url)} (database unreadable): {type(exc).__name__}")
        else:
            report = assess(evidence=evidence, config=config, now=now, schema_at=schema_at)
    finally:
        engine.dispose()
    return _print(report, as_json, out)


def _print(report: Report, as_json: bool, out: TextIO) -> int:
    if as_json:
        out.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        render(report, out)
    return report.code
