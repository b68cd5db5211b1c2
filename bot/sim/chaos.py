"""The crash test and `mulin bench chaos`: two real processes, a stream of messages, kill -9 at random.

`mulin sim` plays a generated stream (complaints from templates x buildings, chatter, stickers and system
lines from residents of the configured groups) and keeps a log of everything the bot sent, surviving
the bot. It runs with --buffer, keeping what is posted while the bot is dead for its next connection: real
gateways drop those, so "nothing lost" here means nothing lost that reached the gateway's buffer or mulin. `mulin run` serves it over TCP gRPC and is killed with SIGKILL several times (seeded) and
restarted on the same database; the gateway link is also cut a few times. Then the database and the
sent log are checked: every complaint has exactly one ticket, every ticket's filed acknowledgement went
out exactly once, nothing lost, nothing doubled, and the highest per-group rate seen.
"""
from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from bisect import bisect_left
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import yaml

from core.config import Config

SELF_ID = "wxid_mulin"
# each template with the category it is (the generator's own truth, never asked of the classifier under test)
TEMPLATES = [
    ("{b}楼道灯不亮了，麻烦来修一下", "lighting"), ("{b}门口的路灯坏了好几天了", "lighting"),
    ("{b}电梯又坏了，老人上不去楼", "elevator"), ("{b}楼下积水很深，没法走", "drainage"),
    ("{b}下水道堵了，污水冒出来了", "drainage"), ("{b}家里停水了，什么时候来水", "water"),
    ("{b}暖气不热，屋里才十五度", "heating"), ("{b}楼道里有煤气味，麻烦来看看", "gas"),
    ("{b}垃圾好几天没人清了，臭死了", "sanitation"), ("{b}门口的树枝断了挂在电线上", "greenery"),
    ("{b}路面塌了一个坑，很危险", "road"), ("{b}消防通道被车堵死了，没人管", "fire_safety"),
    ("{b}楼上装修噪音太大，晚上睡不着", "noise"), ("{b}有人在楼顶搭违建，麻烦管管", "construction"),
    ("{b}单元门坏了关不上", "property"), ("{b}充电桩坏了，电动车充不了电", "parking"),
    ("{b}楼道堆满了杂物，有安全隐患", "fire_safety"), ("{b}外墙瓷砖掉了，差点砸到人", "property"),
    ("{b}水管漏水，楼道里全是水", "water"), ("{b}停电了，什么时候恢复", "power"),
    ("{b}草坪好久没人修剪了", "greenery"), ("{b}广场舞音响太吵了，每天晚上", "noise"),
    ("{b}井盖松了，走上去咣当响", "road"),
]
# none of these is a request: a ticket from one is a failure
CHATTER = ["好的谢谢", "收到", "今晚几点停电通知看到了吗", "辛苦了👍", "明天几点开会", "[红包]恭喜发财，大吉大利",
           "早上好", "今天天气不错", "谁家的快递放错了", "晚上一起跳广场舞吗", "哈哈哈", "周末菜市场有活动",
           "孩子放学了吗", "谢谢网格员", "大家注意保暖", "楼下新开了一家超市", "有人知道社区医院几点开门吗",
           "已经修好了，谢谢", "好的", "👍👍👍", "下午有雨，记得收衣服", "欢迎新邻居", "明白", "感谢物业"]
NON_TEXT = ["image", "sticker", "voice", "system", "recalled", "mini_program", "chat_history"]
FILED = re.compile(r"已登记为工单#(\d+)")
NEW_TICKET = re.compile(r"【新工单#(\d+)】")


@dataclass
class Stream:
    scenario: dict[str, Any]
    key_of: dict[str, tuple]  # complaint message id -> the problem it reports (category, building)
    others: set[str]          # chatter and non-text message ids: never a ticket

    @property
    def messages(self) -> int:
        return len(self.key_of) + len(self.others)


def build_stream(config: Config, *, messages: int, seed: int, complaint_share: float = 0.35,
                 repeat_share: float = 0.15) -> Stream:
    """A seeded mix. Complaints are distinct problems unless deliberately repeated by a neighbour (then merged).
    A problem is one template in one building; one template per category and building, so two problems never
    share a category and place and the expected tickets follow from the stream alone. Private categories
    (answered privately, not in the group) are left out."""
    rng = random.Random(seed)
    rooms, people, problems = [], [], []
    for i, group in enumerate(config.groups):
        room_id = f"4000{i + 1}@chatroom"
        residents = [f"wxid_chaos_{i}_{j}" for j in range(5)]
        rooms.append({"id": room_id, "topic": group.room, "members": residents})
        people += [{"id": r, "name": f"{group.room[:2]}居民{j}"} for j, r in enumerate(residents)]
        grid = config.grid_by_id(group.grid)
        taken: set[tuple[str, str]] = set()
        for template, category in TEMPLATES:
            for building in grid.buildings:
                if category in config.private_categories or (category, building.name) in taken:
                    continue
                taken.add((category, building.name))
                problems.append((room_id, residents, template.format(b=building.name), (category, building.name)))
    chatter = list(CHATTER)
    rng.shuffle(problems)
    staff = [{"id": s.wechat_id, "name": s.name} for s in config.staff if s.wechat_id]
    steps, key_of, others, filed = [], {}, set(), []
    reporters: dict[tuple, set[str]] = defaultdict(set)  # nobody reports the same problem twice: every reply differs
    for n in range(messages):
        message_id = f"chaos-{seed}-{n:05d}"
        roll = rng.random()
        repeatable = [f for f in filed if len(reporters[f[3]]) < len(f[1])]
        if roll < complaint_share and (problems or repeatable):
            if repeatable and (rng.random() < repeat_share or not problems):
                room_id, residents, text, key = rng.choice(repeatable)  # a neighbour reports the same problem
            else:
                room_id, residents, text, key = problems.pop()
                filed.append((room_id, residents, text, key))
            sender = rng.choice([r for r in residents if r not in reporters[key]])
            reporters[key].add(sender)
            key_of[message_id] = key
            steps.append({"room": room_id, "from": sender, "text": text, "id": message_id})
            continue
        room = rng.choice(rooms)
        step = {"room": room["id"], "from": rng.choice(room["members"]), "id": message_id}
        if roll < complaint_share + 0.05:
            kind = rng.choice(NON_TEXT)
            step.update(kind=kind, text="居民加入了群聊" if kind == "system" else "")
        else:
            step["text"] = rng.choice(chatter)
        others.add(message_id)
        steps.append(step)
    scenario = {"start": "2026-11-23T09:00:00+08:00", "self": {"id": SELF_ID, "name": "睦邻助手"},
                "contacts": people + staff, "rooms": rooms, "steps": steps}
    return Stream(scenario=scenario, key_of=key_of, others=others)


@dataclass
class ChaosResult:
    messages: int = 0
    kills: int = 0
    drops: int = 0
    complaints: int = 0
    expected_tickets: int = 0
    tickets: int = 0
    duplicates: int = 0         # tickets beyond one per problem
    lost: int = 0               # messages not stored and handled, complaints without their ticket
    acks_missing: int = 0       # tickets whose filed acknowledgement never reached the group
    in_flight_repeats: int = 0  # WeChat messages that arrived twice (the one in flight at a kill or a cut link)
    repeated_acks: int = 0      # filed acknowledgements inside those repeats
    resent: int = 0             # outbox rows found in flight at a restart and sent again (each may repeat)
    sent: int = 0
    max_rate_3s: int = 0        # most messages one group got within any 3 s
    max_rate_60s: int = 0       # ... within any 60 s
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def max_in_window(times: list[float], window: float) -> int:
    """The most timestamps inside any window of this length (times sorted)."""
    return max((bisect_left(times, t + window) - i for i, t in enumerate(times)), default=0)


def check(stream: Stream, engine, sent: list[dict[str, Any]], result: ChaosResult) -> ChaosResult:
    """Compare the database and the gateway's sent log with what the stream must have produced."""
    from sqlmodel import col, select

    from storage.db import new_session
    from storage.models import IncomingMessage, MessageState, OutboxMessage, Ticket
    from storage.outbox import count_resent

    with new_session(engine) as session:
        inbox = {r.message_id: r for r in session.exec(select(IncomingMessage))}
        tickets = {t.id: t for t in session.exec(select(Ticket))}
        result.resent = count_resent(session=session)
        repeated = list(session.exec(select(OutboxMessage).where(
            (OutboxMessage.resent > 0) | (OutboxMessage.attempts > 1))))
        # a merged message is one send: a repeat of its head repeats every row merged into it
        merged = list(session.exec(select(OutboxMessage).where(
            col(OutboxMessage.merged_into).in_([r.id for r in repeated]))))
        in_flight = {r.ticket_id for r in [*repeated, *merged]}
    problems = result.problems
    result.messages, result.complaints = stream.messages, len(stream.key_of)
    result.tickets, result.sent = len(tickets), len(sent)
    ticket_of_key: dict[tuple, set[int]] = defaultdict(set)
    for message_id in [*stream.key_of, *stream.others]:
        row = inbox.get(message_id)
        if row is None or row.state != MessageState.PROCESSED:
            result.lost += 1
            problems.append(f"message {message_id}: {'never stored' if row is None else row.state.value}")
        elif message_id in stream.key_of:
            if row.ticket_id is None:
                result.lost += 1
                problems.append(f"complaint {message_id} has no ticket")
            else:
                ticket_of_key[stream.key_of[message_id]].add(row.ticket_id)
        elif row.ticket_id is not None:
            problems.append(f"chatter {message_id} became ticket #{row.ticket_id}")
    result.expected_tickets = len(set(stream.key_of.values()))
    result.duplicates = max(0, len(tickets) - result.expected_tickets) + sum(
        len(ids) - 1 for ids in ticket_of_key.values())
    if result.duplicates:
        problems.append(f"{result.duplicates} duplicate ticket(s)")
    for key, ids in ticket_of_key.items():
        for ticket_id in ids:
            source = tickets[ticket_id].source_message_id if ticket_id in tickets else None
            if stream.key_of.get(source) != key:
                problems.append(f"ticket #{ticket_id} was filed from {source}, not from a report of {key[:2]}")
    # pacing may merge several replies into one WeChat message: count every acknowledgement inside
    acks = Counter(int(m.group(1)) for s in sent if s["room"] for m in FILED.finditer(s["text"]))
    notices = Counter(int(m.group(1)) for s in sent if s["to"] for m in NEW_TICKET.finditer(s["text"]))
    result.acks_missing = sum(1 for t in tickets if acks[t] == 0)
    result.repeated_acks = sum(n - 1 for n in acks.values() if n > 1)
    copies = Counter((s["room"] or s["to"], s["text"]) for s in sent)
    result.in_flight_repeats = sum(n - 1 for n in copies.values() if n > 1)
    if result.in_flight_repeats > result.kills + result.drops:  # one send at a time: one in flight per fault
        problems.append(f"{result.in_flight_repeats} messages arrived twice after {result.kills + result.drops} faults")
    # a second acknowledgement or notice is only allowed from a row the bot knows was in flight
    twice = sorted(t for told in (acks, notices) for t, n in told.items() if n > 1 and t not in in_flight)
    if twice:
        problems.append(f"tickets told twice without a send in flight: {twice}")
    if result.acks_missing:
        problems.append(f"{result.acks_missing} ticket(s) never acknowledged in the group")
    if set(acks) - set(tickets):
        problems.append(f"acknowledgements for tickets that do not exist: {sorted(set(acks) - set(tickets))}")
    per_room: dict[str, list[float]] = defaultdict(list)
    for s in sent:
        if s["room"]:
            per_room[s["room"]].append(datetime.fromisoformat(s["at"]).timestamp())
    for times in per_room.values():
        times.sort()
        result.max_rate_3s = max(result.max_rate_3s, max_in_window(times, 3))
        result.max_rate_60s = max(result.max_rate_60s, max_in_window(times, 60))
    return result


class _Process:
    """A child `mulin ...` process whose output goes to a file we can poll."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str], cwd: Path) -> None:
        self.log = log
        self._out = open(log, "w", encoding="utf-8")
        self.proc = subprocess.Popen([sys.executable, "-m", "bot.cli", *args], stdout=self._out,
                                     stderr=subprocess.STDOUT, env=env, cwd=cwd)

    def wait_for(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            content = self.log.read_text(encoding="utf-8")
            if text in content:
                return content
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.log.name} exited with {self.proc.returncode}:\n{content[-2000:]}")
            time.sleep(0.05)
        raise TimeoutError(f"{self.log.name}: no {text!r} within {timeout:.0f} s")

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def finish(self, timeout: float = 15) -> None:
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._out.close()


def _settled(engine, expected: int) -> bool:
    """Every message stored and handled, and nothing waiting to be sent."""
    from sqlmodel import func, select

    from storage.db import new_session
    from storage.models import IncomingMessage, MessageState, OutboxMessage, OutboxState

    with new_session(engine) as session:
        done = session.exec(select(func.count()).select_from(IncomingMessage)
                            .where(IncomingMessage.state == MessageState.PROCESSED)).one()
        waiting = session.exec(select(func.count()).select_from(OutboxMessage)
                               .where(OutboxMessage.state.in_([OutboxState.PENDING, OutboxState.HELD]))).one()
    return done >= expected and waiting == 0


def paced_config(config_path: Path, workdir: Path, group_interval: float) -> Path:
    """The community's config with faster pacing, so thousands of messages fit in minutes; no quiet hours
    (the test may run at night) and no daily cap. The rates are still enforced, and checked."""
    data = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    data["sending"] = {**(data.get("sending") or {}), "group_interval_seconds": group_interval,
                       "private_interval_seconds": group_interval / 2, "per_minute": int(120 / group_interval),
                       "group_daily_cap": 1_000_000, "quiet_start": "00:00", "quiet_end": "00:00",
                       "retry_seconds": 1, "retry_max_seconds": 5}
    path = workdir / "chaos-config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def run_chaos(*, config_path: Path, config: Config, database_url: str, workdir: Path, messages: int,
              kills: int, drops: int, seed: int, pause: float = 0.03, timeout: float = 300,
              group_interval: float | None = 0.5, out: TextIO | None = None) -> ChaosResult:
    """Play the stream through `mulin sim`, kill -9 and restart `mulin run` `kills` times; then check.

    group_interval: run the bot with this faster pacing (see paced_config); None keeps the config's own."""
    from storage import schema
    from storage.db import make_engine

    def say(line: str) -> None:
        if out is not None:
            print(line, file=out, flush=True)

    started = time.monotonic()
    rng = random.Random(seed)
    stream = build_stream(config, messages=messages, seed=seed)
    if group_interval is not None:
        config_path = paced_config(config_path, workdir, group_interval)
        say(f"pacing for this run: one message per group every {group_interval} s, "
            f"{int(120 / group_interval)} per minute in all (config {config_path.name})")
    scenario_path, sent_log = workdir / "chaos-scenario.yaml", workdir / "sent.jsonl"
    scenario_path.write_text(yaml.safe_dump(stream.scenario, allow_unicode=True), encoding="utf-8")
    sent_log.write_text("", encoding="utf-8")
    engine = make_engine(database_url)
    schema.upgrade(engine)  # as an operator would before `mulin run`
    env = {**os.environ, "MULIN_DATABASE_URL": database_url, "WECHATY_LOG": "error", "PYTHONUNBUFFERED": "1",
           "WECHATY_PUPPET_SERVICE_TOKEN": "insecure_chaos", "WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_CLIENT": "true"}
    env.pop("WECHATY_PUPPET_SERVICE_ENDPOINT", None)
    root = Path(__file__).resolve().parent.parent
    # a gateway that keeps what arrives while the bot is dead (--buffer): the test is of what reaches mulin
    sim = _Process(["-v", "sim", "--port", "0", "--scenario", str(scenario_path), "--pause", str(pause), "--quiet",
                    "--sent-log", str(sent_log), "--buffer", "--replay", "10"], workdir / "sim.log", env, root)
    result = ChaosResult()
    bots: list[_Process] = []
    try:
        port = re.search(r"127\.0\.0\.1:(\d+)", sim.wait_for("模拟网关监听", 60)).group(1)
        env["WECHATY_PUPPET_SERVICE_ENDPOINT"] = f"127.0.0.1:{port}"

        def start_bot() -> _Process:
            bot = _Process(["run", "--config", str(config_path)], workdir / f"bot-{len(bots)}.log", env, root)
            bots.append(bot)
            bot.wait_for("睦邻已连接", 60)
            return bot

        bot = start_bot()
        say(f"stream of {stream.messages} messages ({len(stream.key_of)} complaints, "
            f"{len(set(stream.key_of.values()))} distinct problems), {kills} kills, {drops} link drops, seed {seed}")
        faults = ["kill"] * kills + ["drop"] * drops
        rng.shuffle(faults)
        for fault in faults:
            time.sleep(rng.uniform(0.3, 2.5))  # let it work a while, then strike at a random moment
            if fault == "kill":
                bot.proc.send_signal(signal.SIGKILL)
                bot.proc.wait()
                result.kills += 1
                say(f"  kill -9 #{result.kills} at {time.monotonic() - started:5.1f} s; restarting")
                bot = start_bot()
            else:
                sim.signal(signal.SIGUSR1)
                result.drops += 1
                say(f"  gateway link cut #{result.drops} at {time.monotonic() - started:5.1f} s")
        sim.wait_for("场景播放完毕", timeout)
        deadline = time.monotonic() + timeout
        while not _settled(engine, stream.messages):
            if time.monotonic() > deadline:
                result.problems.append(f"not settled within {timeout:.0f} s")
                break
            time.sleep(0.3)
        time.sleep(1.0)  # a last reply in flight reaches the log
    finally:
        for bot in bots:
            bot.finish()
        sim.finish()
    sent = [json.loads(line) for line in sent_log.read_text(encoding="utf-8").splitlines() if line.strip()]
    check(stream, engine, sent, result)
    engine.dispose()
    result.seconds = time.monotonic() - started
    return result


def report(result: ChaosResult, out: TextIO) -> None:
    print(f"messages {result.messages}  complaints {result.complaints}  kills {result.kills}  "
          f"link drops {result.drops}", file=out)
    print(f"tickets {result.tickets} (expected {result.expected_tickets})  duplicates {result.duplicates}  "
          f"lost {result.lost}  acknowledgements missing {result.acks_missing}  "
          f"in-flight repeats {result.in_flight_repeats} message(s) holding {result.repeated_acks} acknowledgement(s) "
          f"({result.resent} rows found in flight at restarts)", file=out)
    print(f"messages sent {result.sent}  max per group: {result.max_rate_3s} in any 3 s, "
          f"{result.max_rate_60s} in any 60 s  ({result.seconds:.0f} s)", file=out)
    for problem in result.problems[:20]:
        print(f"  PROBLEM: {problem}", file=out)
    print("OK" if result.ok else f"FAILED ({len(result.problems)} problems)", file=out)
