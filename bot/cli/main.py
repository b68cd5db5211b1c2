"""The `mulin` command. Imports are lazy so `mulin classify` starts without loading wechaty or SQL."""
from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from pathlib import Path

from bot.exitcodes import EXIT_CONFIG, EXIT_GATEWAY, EXIT_SCHEMA

DEFAULT_SCENARIO = Path("scenarios/demo.yaml")


def _config(path: str | None):  # noqa: ANN202
    from core.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        print(f"配置错误 (config error):\n{exc}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None


def _import_jieba():  # noqa: ANN202
    """jieba imports pkg_resources (~0.15 s: it scans every installed package) only to open its own data files;
    when that import fails jieba opens the same files by their path. Kept from it here, so `mulin run` starts sooner."""
    if "jieba" not in sys.modules and "pkg_resources" not in sys.modules:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # makes `import pkg_resources` fail at once
        try:
            import jieba  # noqa: F401
        finally:
            del sys.modules["pkg_resources"]
    import jieba

    return jieba


def _classifier(config):  # noqa: ANN001,ANN202
    jieba = _import_jieba()

    import classifier

    # jieba sets its own logger to DEBUG on import and prints dictionary loading; operators want quiet starts
    if not logging.getLogger().isEnabledFor(logging.INFO):
        jieba.setLogLevel(logging.WARNING)
    return classifier.load(config)


def _classifier_in_background(config):  # noqa: ANN001,ANN202
    """A Future of the classifier, loaded on a thread started now (about a tenth of a second of rules and model)
    while the caller goes on connecting; a daemon thread, so a start that fails at once does not wait for it."""
    import threading
    from concurrent.futures import Future

    _import_jieba()  # here, not on the thread: the main thread's imports must not meet pkg_resources blocked
    future: Future = Future()

    def load() -> None:
        try:
            future.set_result(_classifier(config))
        except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for the classifier
            future.set_exception(exc)

    threading.Thread(target=load, name="classifier-load", daemon=True).start()
    return future


def cmd_demo(args: argparse.Namespace) -> int:
    from bot.sim.demo import fresh_demo_database, play
    from bot.sim.scenario import ScenarioError, load_scenario

    config = _config(args.config)
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print(f"场景文件错误 (scenario error): {exc}", file=sys.stderr)
        return EXIT_CONFIG
    transcript = open(args.transcript_jsonl, "w", encoding="utf-8") if args.transcript_jsonl else None
    try:
        print(f"睦邻 mulin 演示：{config.community.name}，模拟微信网关 + python-wechaty（本机回环 gRPC）\n")
        community = play(config=config, scenario=scenario, database_url=args.database or fresh_demo_database(),
                         classifier=_classifier(config), out=sys.stdout, transcript=transcript)
    finally:
        if transcript is not None:
            transcript.close()
    tickets = {r["ticket"] for r in community.ticket_events()}
    print(f"\n演示结束：{len(community.records)} 条记录，{len(tickets)} 张工单。")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    gc.disable()  # on again once ready (bot.run): collections while the start builds its heap cost ~0.2 s of CPU
    from core.config import ConfigError, database_url, gateway

    config = _config(args.config)
    try:
        account = config.account(args.account)
    except ConfigError as exc:
        print(f"配置错误 (config error): {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if account is None and config.accounts:
        names = ", ".join(a.name for a in config.accounts)
        print(f"配置错误 (config error): config.yaml 配置了多个账号，请用 --account 指定本进程服务哪一个：{names} "
              "(several accounts configured: pass --account NAME)", file=sys.stderr)
        return EXIT_CONFIG
    endpoint, token = gateway(config, account)
    if not endpoint:  # before the classifier loads: fail in a blink, not after seconds
        print("微信网关错误 (gateway error): 未配置微信网关地址：请设置 WECHATY_PUPPET_SERVICE_ENDPOINT 或 "
              "config.yaml 的 wechat.endpoint (no puppet-service endpoint configured)", file=sys.stderr)
        return EXIT_GATEWAY
    if not token:
        print("微信网关错误 (gateway error): 未配置网关令牌 (token)：请设置 WECHATY_PUPPET_SERVICE_TOKEN 或 "
              "config.yaml 的 wechat.token (no puppet-service token configured)", file=sys.stderr)
        return EXIT_GATEWAY
    classifier = _classifier_in_background(config)  # first, so it loads while the rest imports and connects
    import asyncio

    from bot.run import serve

    return asyncio.run(serve(config=config, endpoint=endpoint, token=token, database_url=database_url(config),
                             classifier=classifier, account=account.name if account else None))


def cmd_sim(args: argparse.Namespace) -> int:
    import asyncio

    from bot.sim.server import serve_simulator

    return asyncio.run(serve_simulator(port=args.port, scenario_path=args.scenario, step_pause=args.pause,
                                       sent_log=args.sent_log, replay=args.replay, quiet=args.quiet,
                                       accounts=args.accounts, buffer=args.buffer))


def cmd_classify(args: argparse.Namespace) -> int:
    from classifier.cli import ConfigBuildings, run_classify
    from handlers.quotes import judged_record  # a quote reply is judged by its reply: shown as "text"

    # only the building names are needed: read them with yaml alone, so a one-line classify starts fast
    path = args.config or ("config.yaml" if Path("config.yaml").exists() else None)
    try:
        buildings = ConfigBuildings(path) if path else None
    except (OSError, KeyError, TypeError, ValueError) as exc:
        print(f"配置错误 (config error): {path}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.eval not in (None, "-"):
        try:
            with open(args.eval, encoding="utf-8-sig") as lines:
                return run_classify(map(judged_record, lines), sys.stdout, _classifier(buildings), True,
                                    totals_only=args.totals)
        except OSError as exc:
            print(f"无法读取标注文件 (cannot read labelled file): {exc}", file=sys.stderr)
            return EXIT_CONFIG
    return run_classify(map(judged_record, sys.stdin), sys.stdout, _classifier(buildings), args.eval is not None,
                        totals_only=args.totals)


def cmd_tickets(args: argparse.Namespace) -> int:
    from core.config import database_url
    from bot.cli.tickets import print_tickets

    config = _config(args.config)
    return print_tickets(database_url(config), statuses=args.status, as_json=args.json, out=sys.stdout,
                         tz=config.tz)


def cmd_staff_invite(args: argparse.Namespace) -> int:
    from core.clock import SystemClock
    from core.config import database_url
    from bot.cli.db import open_database
    from storage.db import new_session
    from storage.models import StaffBinding
    from storage.staff import create_bind_code

    config = _config(args.config)
    staff = config.staff_by_id(args.staff_id)
    if staff is None:
        print(f"没有这位工作人员：{args.staff_id}（staff ids: {', '.join(s.id for s in config.staff)}）", file=sys.stderr)
        return EXIT_CONFIG
    if staff.wechat_id:  # the config's binding is restored at every start: a code could not change it
        print(f"{staff.name} 已在配置文件中绑定微信 {staff.wechat_id}，不需要绑定码；要换微信，请修改 config.yaml "
              f"中 {staff.id} 的 wechat_id 后重启。", file=sys.stderr)
        return 1
    engine = open_database(database_url(config))
    with new_session(engine) as session:
        bound = getattr(session.get(StaffBinding, staff.id), "wechat_id", None)
        code = create_bind_code(session=session, staff_id=staff.id, now=SystemClock(config.tz).now())
    engine.dispose()
    if bound is not None:
        print(f"注意：{staff.name} 已绑定微信 {bound}；用下面的绑定码绑定后，将改为绑定新的微信。")
    print(f"{staff.name} 的绑定码：{code}（24 小时内有效，只能用一次）\n请让 {staff.name} 私聊机器人发送：绑定 {code}")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from bot.cli import db as db_cli

    if args.db_command == "revision":
        return db_cli.db_revision(args.message, sys.stdout)
    from core.config import database_url

    url = database_url(_config(args.config))
    return (db_cli.db_upgrade if args.db_command == "upgrade" else db_cli.db_current)(url, sys.stdout)


def cmd_digest(args: argparse.Namespace) -> int:
    from core.config import database_url
    from bot.cli.digest import print_digest

    config = _config(args.config)
    return print_digest(config=config, database_url=database_url(config), day=args.date, weekly=args.weekly,
                        png=args.png, out=sys.stdout, community=args.community)


def cmd_export(args: argparse.Namespace) -> int:
    from core.clock import SystemClock
    from core.config import database_url
    from bot.cli.export import export_corrections, export_open311, export_xlsx

    config = _config(args.config)
    if args.format == "corrections":
        return export_corrections(config=config, database_url=database_url(config), since=args.since,
                                  out_path=args.out, out=sys.stdout, reviewed_only=args.reviewed)
    if args.format == "open311":
        return export_open311(config=config, database_url=database_url(config), since=args.since, out_path=args.out,
                              out=sys.stdout)
    return export_xlsx(config=config, database_url=database_url(config), since=args.since, out_path=args.out,
                       now=SystemClock(config.tz).now(), out=sys.stdout)


def cmd_privacy(args: argparse.Namespace) -> int:
    from core.clock import SystemClock
    from core.config import database_url
    from bot.cli import privacy

    config = _config(args.config)
    if args.privacy_command == "notice":
        return privacy.print_notice(config=config, out=sys.stdout)
    now = SystemClock(config.tz).now()
    if args.privacy_command == "export":
        return privacy.export(database_url=database_url(config), contact=args.contact, now=now, out_path=args.out,
                              out=sys.stdout)
    return privacy.erase(database_url=database_url(config), contact=args.contact, now=now, out=sys.stdout)


def cmd_status(args: argparse.Namespace) -> int:
    from core.clock import SystemClock
    from core.config import database_url
    from bot.cli.status import status

    config = _config(args.config)
    return status(config=config, database_url=database_url(config), now=SystemClock(config.tz).now(),
                  as_json=args.json, ack=args.ack, out=sys.stdout)


def cmd_web(args: argparse.Namespace) -> int:
    from bot.cli.web import web_link, web_serve

    config = _config(args.config)
    if args.web_command == "link":
        return web_link(config=config, staff_id=args.staff, base=args.url, out=sys.stdout)
    return web_serve(config=config, host=args.host, port=args.port, out=sys.stderr)


def cmd_bench(args: argparse.Namespace) -> int:
    if args.what == "classify":
        import jieba

        from classifier.bench import run_bench

        jieba.setLogLevel(logging.WARNING)
        return run_bench(sys.stdout, [sys.executable, "-m", "bot.cli"])
    if args.what == "chaos":
        return cmd_bench_chaos(args)
    if args.what == "digest":
        from bot.bench.digest import bench_digest

        return bench_digest(config=_config(args.config), tickets=args.tickets, pg_url=args.pg, rounds=args.rounds,
                            out=sys.stdout)
    if args.what == "scale":
        return cmd_bench_scale(args)
    if args.what == "privacy":
        from bot.bench.privacy import bench_privacy

        return bench_privacy(messages=args.messages or 100_000, pg_url=args.pg, out=sys.stdout)
    if args.what == "schema":
        from bot.bench.schema import bench_schema

        return bench_schema(pg_url=args.pg, rounds=args.rounds, out=sys.stdout)
    from bot.bench.e2e import bench_e2e

    config = _config(args.config)
    return bench_e2e(config=config, classifier=_classifier(config), messages=args.messages or 300, out=sys.stdout,
                     config_path=args.config)


def cmd_bench_scale(args: argparse.Namespace) -> int:
    import os
    import tempfile

    from bot.bench.scale import bench_scale

    url = args.pg or os.environ.get("MULIN_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print("bench scale 需要 PostgreSQL：请用 --pg postgresql+psycopg://... 指定 (needs a PostgreSQL URL)",
              file=sys.stderr)
        return EXIT_CONFIG
    with tempfile.TemporaryDirectory() as tmp:
        return bench_scale(config_path=Path(args.config or "config.yaml"), pg_url=url, messages=args.messages or 2000,
                           rounds=min(args.rounds, 3), out=sys.stdout, tmp=Path(tmp))


def cmd_bench_chaos(args: argparse.Namespace) -> int:
    import tempfile

    from bot.sim.chaos import report, run_chaos
    from sqlalchemy import inspect

    from storage.db import make_engine

    config_path = Path(args.config or os.environ.get("MULIN_CONFIG") or "config.yaml").resolve()
    config = _config(str(config_path))
    with tempfile.TemporaryDirectory(prefix="mulin-chaos-") as tmp:
        url = args.database or f"sqlite:///{tmp}/chaos.db"
        engine = make_engine(url)
        if inspect(engine).has_table("incoming_message"):
            print(f"bench chaos needs an empty database; {url.split('@')[-1]} already has mulin tables", file=sys.stderr)
            return EXIT_CONFIG
        engine.dispose()
        result = run_chaos(config_path=config_path, config=config, database_url=url,
                           workdir=Path(tmp), messages=args.messages or 2000, kills=args.kills, drops=args.drops,
                           seed=args.seed, pause=args.pause, out=sys.stdout,
                           group_interval=None if args.group_interval == 0 else args.group_interval)
        report(result, sys.stdout)
    return 0 if result.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mulin", description="睦邻：社区居民群诉求受理机器人")
    parser.add_argument("-v", "--verbose", action="store_true", help="log INFO to stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="在模拟微信群里演示一遍（模拟网关 + 真实 wechaty）")
    demo.add_argument("--config")
    demo.add_argument("--scenario", default=str(DEFAULT_SCENARIO))
    demo.add_argument("--transcript-jsonl")
    demo.add_argument("--database", help="database URL (default: a fresh data/demo.db)")
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="连接真实的微信网关（puppet service）运行")
    run.add_argument("--config")
    run.add_argument("--account", help="config.yaml accounts: 中的账号名（一个街道多个账号时，每个进程服务一个）")
    run.set_defaults(func=cmd_run)

    sim = sub.add_parser("sim", help="单独运行模拟网关，供另一个进程的 mulin run 连接")
    sim.add_argument("--port", type=int, default=8788)
    sim.add_argument("--scenario")
    sim.add_argument("--pause", type=float, default=1.0, help="seconds between scenario steps")
    sim.add_argument("--sent-log", help="append every message the bot sends to this JSON-lines file")
    sim.add_argument("--buffer", action="store_true",
                     help="keep events while no bot is connected (a real gateway drops them)")
    sim.add_argument("--replay", type=float, default=0, metavar="SECONDS",
                     help="when a connection ends, re-send its message events of the last SECONDS to the next one")
    sim.add_argument("--quiet", action="store_true", help="do not print each message")
    sim.add_argument("--accounts", type=int, default=1, help="bot accounts (one gateway each, ports --port, +1, ...)")
    sim.set_defaults(func=cmd_sim)

    classify = sub.add_parser("classify", help="从标准输入逐行分类，输出 JSON")
    classify.add_argument("--config")
    classify.add_argument("--eval", nargs="?", const="-", metavar="FILE",
                          help="给带标注的 JSON 行打分（FILE 或标准输入）：总计、分类别、分来源")
    classify.add_argument("--totals", action="store_true", help="只打印总计，不打印出错的行（用于真实测试集）")
    classify.set_defaults(func=cmd_classify)

    tickets = sub.add_parser("tickets", help="列出工单")
    tickets.add_argument("--config")
    tickets.add_argument("--status", action="append", help="new|assigned|accepted|resolved|closed|returned")
    tickets.add_argument("--json", action="store_true")
    tickets.set_defaults(func=cmd_tickets)

    staff = sub.add_parser("staff", help="工作人员管理")
    staff_sub = staff.add_subparsers(dest="staff_command", required=True)
    invite = staff_sub.add_parser("invite", help="生成一次性绑定码（24 小时有效）")
    invite.add_argument("staff_id")
    invite.add_argument("--config")
    invite.set_defaults(func=cmd_staff_invite)

    db = sub.add_parser("db", help="数据库结构迁移（alembic）")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    for name, text in (("upgrade", "新建或升级数据库到最新结构（database.url / MULIN_DATABASE_URL）"),
                       ("current", "显示数据库结构版本，以及是否落后（落后时退出码 5）")):
        command = db_sub.add_parser(name, help=text)
        command.add_argument("--config")
        command.set_defaults(func=cmd_db)
    revision = db_sub.add_parser("revision", help="开发者：按 storage/models.py 的改动生成下一个迁移文件")
    revision.add_argument("-m", "--message", required=True)
    revision.set_defaults(func=cmd_db)

    digest = sub.add_parser("digest", help="打印民情日报（或 --weekly 周会审），供运维查看")
    digest.add_argument("--config")
    digest.add_argument("--date", help="YYYY-MM-DD: the digest as sent that morning (default: today)")
    digest.add_argument("--weekly", action="store_true", help="the weekly review of the 7 days before --date")
    digest.add_argument("--png", help="also write the weekly trend chart to this PNG file")
    digest.add_argument("--community", help="one community's digest, by its id in communities: (default: all)")
    digest.set_defaults(func=cmd_digest)

    export = sub.add_parser("export", help="导出工单：Open311 JSON（街道系统）、12345 式台账 xlsx，或网格员对分类的更正")
    export.add_argument("format", choices=["open311", "xlsx", "corrections"])
    export.add_argument("--config")
    export.add_argument("--since", help="YYYY-MM-DD: tickets filed or changed since that day (default: all)")
    export.add_argument("--out", help="file to write (open311, corrections default: stdout; xlsx default: "
                                      "工单台账-<date>.xlsx)")
    export.add_argument("--reviewed", action="store_true",
                        help="corrections: only the lines a person signed on the console's 更正审核 page")
    export.set_defaults(func=cmd_export)

    privacy = sub.add_parser("privacy", help="个人信息：导出、删除某位居民的信息，打印入群告知")
    privacy_sub = privacy.add_subparsers(dest="privacy_command", required=True)
    for name, text in (("export", "以 JSON 导出数据库里与这个微信号有关的全部信息"),
                       ("erase", "删除这个微信号的消息内容，工单上的反映人改为化名（工单和统计保留）")):
        command = privacy_sub.add_parser(name, help=text)
        command.add_argument("--contact", required=True, metavar="WXID", help="the resident's WeChat contact id")
        command.add_argument("--config")
        if name == "export":
            command.add_argument("--out", help="file to write (default: stdout)")
        command.set_defaults(func=cmd_privacy)
    notice = privacy_sub.add_parser("notice", help="打印入群时张贴的个人信息说明（按 config.yaml 的保存期限）")
    notice.add_argument("--config")
    notice.set_defaults(func=cmd_privacy)

    status = sub.add_parser("status", help="运行状态（退出码 0 正常、1 降级、2 停止），供 systemd/docker 健康检查")
    status.add_argument("--config")
    status.add_argument("--json", action="store_true")
    status.add_argument("--ack", action="store_true",
                        help="mark parked messages and failed sends as looked at (they stop counting as degraded)")
    status.set_defaults(func=cmd_status)

    web = sub.add_parser("web", help="网页工作台（台账、工单详情、统计、下载）和 Open311 接口")
    web_sub = web.add_subparsers(dest="web_command", required=True)
    serve = web_sub.add_parser("serve", help="启动网页工作台")
    serve.add_argument("--config")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.set_defaults(func=cmd_web)
    link = web_sub.add_parser("link", help="打印一次性登录链接（10 分钟有效），用于首次设置和测试")
    link.add_argument("--staff", required=True, help="staff id in config.yaml")
    link.add_argument("--config")
    link.add_argument("--url", help="the console's address (default: web.public_url, else http://127.0.0.1:8080)")
    link.set_defaults(func=cmd_web)

    bench = sub.add_parser("bench", help="基准测试，结果并排打印比值")
    bench.add_argument("what", choices=["e2e", "classify", "digest", "chaos", "scale", "schema", "privacy"])
    bench.add_argument("--config")
    bench.add_argument("--messages", type=int, help="e2e: per round (300); chaos: the stream (2000); privacy: group messages (100000)")
    bench.add_argument("--tickets", type=int, default=100_000, help="digest: tickets to build")
    bench.add_argument("--rounds", type=int, default=5, help="digest, schema: interleaved rounds")
    bench.add_argument("--pg", help="digest, schema, privacy: also run on this PostgreSQL URL; scale: the PostgreSQL "
                       "to use (default MULIN_DATABASE_URL); all in a throwaway schema")
    bench.add_argument("--kills", type=int, default=5, help="chaos: kill -9 the bot this many times")
    bench.add_argument("--drops", type=int, default=2, help="chaos: cut the gateway link this many times")
    bench.add_argument("--seed", type=int, default=7, help="chaos: random seed for the stream and the kills")
    bench.add_argument("--pause", type=float, default=0.03, help="chaos: seconds between messages")
    bench.add_argument("--database", help="chaos: an EMPTY database URL (default: a temporary SQLite file)")
    bench.add_argument("--group-interval", type=float, default=0.5,
                       help="chaos: pacing per group for the run, seconds (0: the config's own, which is slow)")
    bench.set_defaults(func=cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from bot.logmask import install

    install()  # residents' phone and ID numbers never reach a log file
    os.environ.setdefault("WECHATY_LOG", "error")
    code: int | str | None = None
    try:
        code = args.func(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # the reader closed the pipe (`mulin tickets | head`): stop quietly, and let the exit flush write nowhere
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
        return code
    except SystemExit as exc:
        code = exc.code
        raise
    finally:
        if code == EXIT_SCHEMA and getattr(args, "config", None):
            # `mulin db upgrade` alone would upgrade the database of the default config.yaml, not this one
            print(f"本命令用的是 --config {args.config}，请运行：mulin db upgrade --config {args.config}", file=sys.stderr)

