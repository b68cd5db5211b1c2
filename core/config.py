"""config.yaml: the community's structure, staff and groups, validated at load.

A wrong key, a worker who does not exist or a building in two grids is a `ConfigError` naming the key
and its line; the CLI turns it into exit code 2.
"""
from __future__ import annotations

import os
from datetime import date, time as dtime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.workcalendar import Span

DEFAULT_CONFIG = Path("config.yaml")
IMPLICIT_COMMUNITY = "community"  # the id of the one community of a config without `communities:`


class ConfigError(Exception):
    """A config file that cannot be used; the message names the file, key and line."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Community(_Strict):
    name: str  # the community; with `communities:`, the whole deployment (the street office, 街道)
    timezone: str = "Asia/Shanghai"  # an IANA zone: every clock time (digest, quiet hours, working days, texts)
    bot_name: str = "睦邻助手"        # how the bot introduces itself in help replies

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"未知的时区 '{value}'，请写 IANA 时区名，如 Asia/Shanghai") from None
        return value


class CommunityRef(_Strict):
    """One community of a street (`communities:`): its grids and secretaries name it by id."""

    id: str
    name: str


class WeChat(_Strict):
    endpoint: str = ""
    token: str = ""
    reconnect_max_seconds: float = Field(default=30, ge=1)  # backoff after a lost link: 1 s, 2 s, 4 s ... up to this
    give_up_minutes: float = Field(default=0, ge=0)  # 0: keep reconnecting forever; else exit 3 after this long
    tls: bool = True  # false only for a gateway started with WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER=true
    watchdog_seconds: float = Field(default=15, gt=0)  # ding this often; silent for 3x this: the link is dead


class Account(_Strict):
    """One WeChat bot account, served by its own `mulin run --account NAME` process."""

    name: str
    endpoint: str = ""   # its puppet-service gateway (host:port); the environment still wins
    token: str = ""
    groups: tuple[str, ...] = ()  # room topics or ids from groups/staff_groups it serves; empty: all of them


class Database(_Strict):
    url: str = "sqlite:///data/mulin.db"


class Staff(_Strict):
    id: str
    name: str
    role: Literal["grid_worker", "secretary", "street"]  # street: 街道, receives escalations (and digests over all)
    wechat_id: str | None = None  # None: binds at run time with a one-time code
    community: str | None = None  # a secretary's community id; needed when `communities:` lists several


class Building(_Strict):
    name: str
    aliases: tuple[str, ...] = ()


class Grid(_Strict):
    id: str
    name: str
    worker: str
    buildings: tuple[Building, ...] = ()
    community: str | None = None  # community id; needed when `communities:` lists several

    @field_validator("buildings", mode="before")
    @classmethod
    def _names_as_buildings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value


class Group(_Strict):
    room: str  # room topic or room id
    grid: str


class TicketPolicy(_Strict):
    duplicate_window_hours: float = Field(default=72, gt=0)   # an open ticket this recent can absorb a repeat report
    duplicate_similarity: float = Field(default=60, ge=0, le=100)  # rapidfuzz score (0-100) for the same problem
    place_wait_minutes: float = Field(default=30, gt=0)       # how long to wait for the reporter to name the building
    followup_days: float = Field(default=3, gt=0)             # no rating by then: closed as 未评价
    max_extension_days: int = Field(default=10, gt=0)
    late_minutes: float = Field(default=10, gt=0)  # older messages (after an outage) get one summary per group
    repeat_reply_minutes: float = Field(default=30, gt=0)  # one answer per person and ticket to repeats this close
    split_seconds: float = Field(default=20, ge=0)  # one person's messages this close together are one utterance


def _span(value: Any) -> Any:
    return Span.parse(value) if isinstance(value, (str, int, float)) else value


class Photos(_Strict):
    """Residents' photos of a problem, and the grid worker's 整改后 photo."""

    max_mb: float = Field(default=5, gt=0, le=100)  # bigger images are recorded as too large and not fetched
    window_minutes: float = Field(default=3, gt=0)  # a resident's image this close to their own complaint joins it
    after_minutes: float = Field(default=10, gt=0)  # a worker's private image this close to 办结 N is the after-photo
    per_ticket: int = Field(default=9, ge=1)        # at most this many photos on one ticket (WeChat's nine-grid)
    public_url: str | None = None  # the web console's public address; Open311 media_url links under it

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * 1024 * 1024)


class Deadlines(_Strict):
    accept: Span
    resolve: Span

    _spans = field_validator("accept", "resolve", mode="before")(_span)


class EscalationLevel(_Strict):
    name: str                   # 社区书记, 街道 ...
    staff: tuple[str, ...] = Field(min_length=1)


class Sla(_Strict):
    """12345 practice in Shandong: accept in 1 working day, finish in 5, emergencies the same day."""

    normal: Deadlines = Deadlines(accept=Span(1, "wd"), resolve=Span(5, "wd"))
    urgent: Deadlines = Deadlines(accept=Span(1, "h"), resolve=Span(24, "h"))
    categories: dict[str, Deadlines] = {}     # per-category overrides for non-urgent tickets
    return_within: Span = Span(2, "wd")       # a wrong assignment may be handed back this long after it arrived
    remind_at: float = Field(default=0.8, gt=0, lt=1)  # remind the worker at this share of the time
    escalate_every: Span = Span(1, "wd")      # each further level of the chain after this much more time
    escalation: tuple[EscalationLevel, ...] = ()  # after the grid worker; empty: the community's secretaries

    _spans = field_validator("return_within", "escalate_every", mode="before")(_span)


class CalendarOverrides(_Strict):
    holidays: tuple[date, ...] = ()   # extra days off (e.g. next year's holidays before chinese-calendar has them)
    workdays: tuple[date, ...] = ()   # extra make-up working days (调休)


def _sexagesimal(value: Any) -> Any:
    """YAML 1.1 reads an unquoted 8:30 as the base-60 integer 510: read it back as 08:30, not 00:08:30."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < 24 * 60:
            raise ValueError(f"时间应写成带引号的 \"08:30\"，{value} 不是一天中的时刻")
        return dtime(value // 60, value % 60)
    return value


class Digest(_Strict):
    at: dtime = dtime(8, 0)                # when the daily digest goes out
    days: Literal["workdays", "everyday"] = "workdays"
    to_staff_groups: bool = False
    weekly_on: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] | None = "mon"
    hot_spot_reports: int = Field(default=3, ge=2)   # the same place and category this often ...
    hot_spot_days: int = Field(default=7, ge=1)      # ... within these days is a hot spot (主动治理)
    kpi_days: int = Field(default=30, ge=1)          # KPIs cover tickets filed in this many days
    street: bool = False   # street-role staff also get a digest over all communities

    _at = field_validator("at", mode="before")(lambda value: _sexagesimal(value))


class SendingPolicy(_Strict):
    """WeChat mutes or bans accounts that send too fast; these limits keep the bot under the radar."""

    group_interval_seconds: float = Field(default=3, ge=0)    # at most one message per group this often
    private_interval_seconds: float = Field(default=1, ge=0)  # the same for one private chat
    per_minute: int = Field(default=20, gt=0)                 # across all chats, in any 60 s window
    group_daily_cap: int = Field(default=100, gt=0)           # per group per local day; urgent ones still go
    merge_window_seconds: float = Field(default=10, ge=0)     # waiting replies this close together become one
    merge_max: int = Field(default=5, ge=1)                   # at most this many replies in one message
    quiet_start: dtime = dtime(22, 0)                         # quiet hours: proactive notices wait until quiet_end
    quiet_end: dtime = dtime(7, 0)                            # (equal to quiet_start: no quiet hours)
    retry_seconds: float = Field(default=5, gt=0)             # a failed send is retried after 5 s, 10 s, 20 s ...
    retry_max_seconds: float = Field(default=300, gt=0)
    max_attempts: int = Field(default=10, ge=1)               # then the reply is marked failed and logged

    _times = field_validator("quiet_start", "quiet_end", mode="before")(lambda value: _sexagesimal(value))


class Privacy(_Strict):
    """How long what residents wrote is kept (个人信息保护法: no longer than needed); the purge runs in the due-scan."""

    chatter_days: float = Field(default=3, gt=0)   # text of a message that became no ticket
    sent_days: float = Field(default=30, gt=0)     # text of a sent message, counted from its delivery
    ticket_years: float = Field(default=3, gt=0)   # closed this long: reporter and followers pseudonymised
    batch: int = Field(default=500, ge=1)          # rows per purge transaction
    scan_seconds: float = Field(default=2, gt=0)   # purge time per due-scan at most; the rest waits a minute


class SpotCheck(_Strict):
    """抽查: a share of the residents' group messages the bot did not file is kept (masked on the page) for a
    secretary to read against classifier/LABELS.md: the misses nobody reported, and real group text to train on.
    `random_rate` of all such messages (the unbiased sample the console's miss estimate rests on) and `near_rate`
    of those that hold the rules' words of a problem; each kept `keep_days` before the usual purge. 0 turns a
    stratum off."""

    random_rate: float = Field(default=0.02, ge=0, le=1)
    near_rate: float = Field(default=0.1, ge=0, le=1)
    keep_days: float = Field(default=14, gt=0)


class Health(_Strict):
    """`mulin status` thresholds and the Prometheus endpoint of `mulin run`."""

    metrics_port: int = Field(default=0, ge=0, le=65535)  # 0: no metrics endpoint
    metrics_host: str = "127.0.0.1"                       # local only by default
    scan_late_minutes: float = Field(default=5, gt=0)     # no due-scan for this long: degraded
    backlog_minutes: float = Field(default=5, gt=0)       # a message stored this long and not handled: degraded
    outbox_late_hours: float = Field(default=24, gt=0)    # a reply waiting this long (past quiet hours and caps)


class ApiKey(_Strict):
    """A key for the read-only Open311 API; `community`: the key sees only that community's tickets."""

    name: str
    key: str = Field(min_length=16)
    community: str | None = None


class Web(_Strict):
    """`mulin web serve`: the console for secretaries and the street office, and the Open311 API."""

    public_url: str = ""   # e.g. https://mulin.example.org: the daily digest ends with a link to the console
    api_keys: tuple[ApiKey, ...] = ()
    session_hours: float = Field(default=8, gt=0)


class Config(_Strict):
    community: Community
    communities: tuple[CommunityRef, ...] = ()  # a street's communities; empty: everything belongs to `community`
    wechat: WeChat = WeChat()
    database: Database = Database()
    staff: tuple[Staff, ...] = Field(min_length=1)
    grids: tuple[Grid, ...] = Field(min_length=1)
    groups: tuple[Group, ...] = ()
    staff_groups: tuple[str, ...] = ()  # room topics or ids where staff may also send commands
    private_categories: tuple[str, ...] = ("dispute", "public_safety")
    tickets: TicketPolicy = TicketPolicy()
    photos: Photos = Photos()
    sla: Sla = Sla()
    calendar: CalendarOverrides = CalendarOverrides()
    digest: Digest = Digest()
    sending: SendingPolicy = SendingPolicy()
    accounts: tuple[Account, ...] = ()  # several bot accounts on one database; empty: the one `wechat:` account
    privacy: Privacy = Privacy()
    spot_check: SpotCheck = SpotCheck()
    health: Health = Health()
    web: Web = Web()

    @property
    def tz(self) -> ZoneInfo:
        """The community's zone (`community.timezone`)."""
        return ZoneInfo(self.community.timezone)

    @model_validator(mode="after")
    def _references(self) -> "Config":
        staff_ids = [s.id for s in self.staff]
        _unique(staff_ids, "staff", "id")
        _unique([s.wechat_id for s in self.staff if s.wechat_id], "staff", "wechat_id")
        _unique([g.id for g in self.grids], "grids", "id")
        for i, grid in enumerate(self.grids):
            worker = self.staff_by_id(grid.worker)
            if worker is None:
                raise _RefError(("grids", i, "worker"), f"网格 {grid.id} 的网格员 {grid.worker!r} 不在 staff 中")
            if worker.role != "grid_worker":
                raise _RefError(("grids", i, "worker"),
                                f"网格 {grid.id} 的网格员 {grid.worker!r} 的角色是 {worker.role}，应为 grid_worker")
        seen: dict[str, str] = {}
        for i, grid in enumerate(self.grids):
            for building in grid.buildings:
                for name in (building.name, *building.aliases):
                    if name in seen:
                        where = f"同时属于网格 {seen[name]} 和 {grid.id}" if seen[name] != grid.id else f"在网格 {grid.id} 中重复"
                        raise _RefError(("grids", i, "buildings"), f"楼栋 {name!r} {where}")
                    seen[name] = grid.id
        self._community_references()
        grid_ids = {g.id for g in self.grids}
        for i, group in enumerate(self.groups):
            if group.grid not in grid_ids:
                raise _RefError(("groups", i, "grid"), f"群 {group.room!r} 的默认网格 {group.grid!r} 不存在")
            if group.room in self.staff_groups:
                raise _RefError(("groups", i, "room"), f"群 {group.room!r} 既是居民群又在 staff_groups 中：居民的诉求会被当作"
                                                       "工作人员消息忽略，请只写在一处")
        _unique([g.room for g in self.groups], "groups", "room")
        for i, level in enumerate(self.sla.escalation):
            for member in level.staff:
                if self.staff_by_id(member) is None:
                    raise _RefError(("sla", "escalation", i, "staff"), f"督办层级 {level.name} 的人员 {member!r} 不在 staff 中")
        _unique([a.name for a in self.accounts], "accounts", "name")
        _unique([k.name for k in self.web.api_keys], "web.api_keys", "name")
        _unique([k.key for k in self.web.api_keys], "web.api_keys", "key")
        for i, key in enumerate(self.web.api_keys):
            if key.community is not None and self.community_by_id(key.community) is None:
                raise _RefError(("web", "api_keys", i, "community"), f"接口密钥 {key.name} 的社区 {key.community!r} 不存在")
        known = {g.room for g in self.groups} | set(self.staff_groups)
        for i, account in enumerate(self.accounts):
            for room in account.groups:
                if room not in known:
                    raise _RefError(("accounts", i, "groups"), f"账号 {account.name} 的群 {room!r} 不在 groups 或 staff_groups 中")
        if self.accounts:
            served = {room for a in self.accounts for room in (a.groups or known)}
            missing = sorted(known - served)
            if missing:
                raise _RefError(("accounts",), f"群 {missing[0]!r} 没有任何账号服务 (no account serves this group)")
        return self

    def _community_references(self) -> None:
        _unique([c.id for c in self.communities], "communities", "id")
        known, several = {c.id for c in self.communities}, len(self.communities) > 1
        for section, items in (("grids", self.grids), ("staff", self.staff)):
            for i, item in enumerate(items):
                what = f"网格 {item.id}" if section == "grids" else f"人员 {item.id}"
                if item.community is not None and item.community not in known:
                    raise _RefError((section, i, "community"), f"{what} 的社区 {item.community!r} 不在 communities 中")
                if section == "staff" and item.community is not None and item.role != "secretary":
                    raise _RefError((section, i, "community"), f"{what} 不是书记：只有书记 (secretary) 属于某个社区")
                needs = section == "grids" or item.role == "secretary"
                if needs and item.community is None and several:
                    raise _RefError((section, i, "community"), f"{what} 未指定社区：communities 有多个时必须写 community")

    # ---- communities: with one community (or none listed) everything belongs to it ------
    def all_communities(self) -> tuple[CommunityRef, ...]:
        return self.communities or (CommunityRef(id=IMPLICIT_COMMUNITY, name=self.community.name),)

    def community_by_id(self, community_id: str) -> CommunityRef | None:
        return next((c for c in self.all_communities() if c.id == community_id), None)

    def _only_community(self) -> str | None:
        found = self.all_communities()
        return found[0].id if len(found) == 1 else None

    def community_of_grid(self, grid_id: str | None) -> str | None:
        grid = self.grid_by_id(grid_id) if grid_id else None
        return (grid.community if grid else None) or self._only_community()

    def community_of(self, grid_id: str | None, room_id: str | None = None, topic: str | None = None) -> str | None:
        """A ticket's community: its grid's, else its group's default grid's; None when neither is known."""
        if self.grid_by_id(grid_id or "") is None and room_id is not None:
            group = self.group_for(room_id, topic)
            grid_id = group.grid if group else None
        return self.community_of_grid(grid_id)

    def community_of_staff(self, staff: Staff) -> str | None:
        """The community a secretary supervises; None for everyone else (street staff see all)."""
        return (staff.community or self._only_community()) if staff.role == "secretary" else None

    def secretaries_of(self, community_id: str | None) -> list[Staff]:
        """The community's secretaries; all of them when the community is unknown (None)."""
        return [s for s in self.secretaries() if community_id is None or self.community_of_staff(s) == community_id]

    def grids_of(self, community_id: str) -> list[Grid]:
        return [g for g in self.grids if self.community_of_grid(g.id) == community_id]

    def groups_of(self, community_id: str) -> list[Group]:
        return [g for g in self.groups if self.community_of_grid(g.grid) == community_id]

    # ---- lookups used by routing -------------------------------------------------------
    def staff_by_id(self, staff_id: str) -> Staff | None:
        return next((s for s in self.staff if s.id == staff_id), None)

    def staff_name(self, staff_id: str | None) -> str | None:
        """The one lookup of an assignee's name: the configured name, or the id of someone since removed from
        config.yaml who still holds tickets; None when nobody is assigned."""
        if not staff_id:
            return None
        staff = self.staff_by_id(staff_id)
        return staff.name if staff else staff_id

    def grid_by_id(self, grid_id: str) -> Grid | None:
        return next((g for g in self.grids if g.id == grid_id), None)

    def grid_of_building(self, building: str) -> Grid | None:
        return next((g for g in self.grids if any(b.name == building for b in g.buildings)), None)

    def group_for(self, room_id: str, topic: str | None) -> Group | None:
        return next((g for g in self.groups if g.room in (room_id, topic)), None)

    def is_staff_group(self, room_id: str, topic: str | None) -> bool:
        return any(room in (room_id, topic) for room in self.staff_groups)

    def find_staff(self, name_or_id: str) -> Staff | None:
        """For 转/指派: a staff member by id or by configured name (names in config are trusted, chat names are not)."""
        return next((s for s in self.staff if name_or_id in (s.id, s.name)), None)

    def find_grid(self, name_or_id: str) -> Grid | None:
        return next((g for g in self.grids if name_or_id in (g.id, g.name)), None)

    def building_aliases(self) -> dict[str, list[str]]:
        return {b.name: list(b.aliases) for g in self.grids for b in g.buildings}

    def secretaries(self) -> list[Staff]:
        return [s for s in self.staff if s.role == "secretary"]

    def escalation_chain(self, community_id: str | None = None) -> list[tuple[str, list[Staff]]]:
        """Who hears about a breach of a ticket in this community, level by level after the grid worker.

        Secretaries of other communities are left out of every level: a secretary supervises one community.
        """
        if self.sla.escalation:
            return [(level.name, [s for s in map(self.staff_by_id, level.staff) if self._concerns(s, community_id)])
                    for level in self.sla.escalation]
        return [("社区书记", self.secretaries_of(community_id))]

    def _concerns(self, staff: Staff, community_id: str | None) -> bool:
        return community_id is None or staff.role != "secretary" or self.community_of_staff(staff) == community_id

    def account(self, name: str | None) -> Account | None:
        """The named account; None (and no name) when the config has no `accounts:`."""
        if name is None:
            return None
        found = next((a for a in self.accounts if a.name == name), None)
        if found is None:
            names = ", ".join(a.name for a in self.accounts) or "（未配置 accounts）"
            raise ConfigError(f"没有名为 {name!r} 的账号，可选：{names} (unknown account)")
        return found

    def serves(self, account: Account | None, room_id: str, topic: str | None) -> bool:
        """Whether this account is meant to serve the group (every account serves every group it lists)."""
        return account is None or not account.groups or any(room in (room_id, topic) for room in account.groups)

    def deadlines_for(self, category: str, urgent: bool) -> Deadlines:
        if urgent:
            return self.sla.urgent
        return self.sla.categories.get(category, self.sla.normal)


class _RefError(ValueError):
    def __init__(self, loc: tuple[Any, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def _unique(values: list[str], section: str, key: str) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if value in seen:
            raise _RefError((section, i, key), f"{section}.{key} 重复：{value!r}")
        seen.add(value)


def _line_of(root: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Walk the YAML node tree along a pydantic error location to find the 1-based line."""
    node, line = root, None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _format_loc(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in loc).replace(".[", "[")


_YAML_PROBLEMS = (  # PyYAML's words -> what to fix, in Chinese
    ("mapping values are not allowed", "这里不能有冒号：值里有冒号（如时间 8:30）请加引号，或检查上一行的缩进"),
    ("could not find expected ':'", "缺少冒号，或上一行的引号没有配对"),
    ("cannot start any token", "不能用 Tab 或这个字符开头：请用空格缩进，特殊字符请加引号"),
    ("expected <block end>", "缩进不一致：同一层的键要对齐"),
    ("expected ',' or '}'", "花括号 {…} 没有正确闭合，或项之间缺少逗号"),
    ("expected ',' or ']'", "方括号 […] 没有正确闭合，或项之间缺少逗号"),
    ("found unexpected end of stream", "引号或括号没有配对"),
    ("did not find expected key", "缩进不一致，或列表项前缺少“- ”"),
    ("did not find expected '-' indicator", "列表项前缺少“- ”，或缩进不一致"),
    ("found undefined alias", "用了未定义的别名（*名字）"),
)


def _yaml_error(source: str, exc: Exception) -> ConfigError:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    hint = next((chinese for english, chinese in _YAML_PROBLEMS if english in problem), "格式不正确")
    where = f"{source}:{mark.line + 1}: 第{mark.line + 1}行第{mark.column + 1}列" if mark is not None else source
    return ConfigError(f"{where}: YAML 格式错误：{hint} (invalid YAML: {problem})")


def _duplicate_keys(node: yaml.Node | None, source: str) -> None:
    """YAML lets a later key silently replace an earlier one; in a config that hides a mistake."""
    if isinstance(node, yaml.MappingNode):
        first: dict[Any, int] = {}
        for key, value in node.value:
            line = key.start_mark.line + 1
            if isinstance(key, yaml.ScalarNode) and key.value in first:
                raise ConfigError(f"{source}:{line}: 键 {key.value!r} 重复（第 {first[key.value]} 行已经写过），"
                                  f"后写的会覆盖前面的，请合并成一处 (duplicate key)")
            if isinstance(key, yaml.ScalarNode):
                first[key.value] = line
            _duplicate_keys(value, source)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _duplicate_keys(item, source)


def _parse_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """(root node, data), read by libyaml where PyYAML has it (~15 ms less at every start); a document it rejects is
    read again by PyYAML itself, whose error words _YAML_PROBLEMS knows."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return yaml.compose(text, Loader=fast), yaml.load(text, Loader=fast)  # noqa: S506 - a safe loader
        except yaml.YAMLError:
            pass
    return yaml.compose(text), yaml.safe_load(text)


def parse_config(text: str, source: str = "config.yaml") -> Config:
    try:
        root, data = _parse_yaml(text)
    except yaml.YAMLError as exc:
        raise _yaml_error(source, exc) from None
    except ValueError as exc:  # impossible dates such as 0000-00-00
        raise ConfigError(f"{source}: YAML 中的日期或数值无效，例如 0000-00-00 (invalid value in YAML): {exc}") from None
    _duplicate_keys(root, source)
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: 顶层必须是键值表 (top level must be a mapping)")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            ctx_error = (err.get("ctx") or {}).get("error")
            loc = tuple(ctx_error.loc) if isinstance(ctx_error, _RefError) else tuple(
                p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
            line = _line_of(root, loc)
            where = f"{source}:{line}" if line else source
            message = str(ctx_error) if isinstance(ctx_error, _RefError) else _explain(err)
            problems.append(f"{where}: {_format_loc(loc) or '(top)'}: {message}")
        raise ConfigError("\n".join(problems)) from None


_EXPLAIN = {  # pydantic error types -> Chinese, with the limits pydantic gives in `ctx`
    "extra_forbidden": "未知的键 (unknown key)",
    "missing": "缺少必填项 (required)",
    "literal_error": "取值应为 {expected}，不是 {input!r}",
    "enum": "取值应为 {expected}，不是 {input!r}",
    "int_parsing": "应为整数，不是 {input!r}", "int_type": "应为整数，不是 {input!r}",
    "int_from_float": "应为整数，不是 {input!r}",
    "float_parsing": "应为数字，不是 {input!r}", "float_type": "应为数字，不是 {input!r}",
    "bool_parsing": "应为 true 或 false，不是 {input!r}", "bool_type": "应为 true 或 false，不是 {input!r}",
    "string_type": "应为文字，不是 {input!r}",
    "greater_than": "应大于 {gt}，不是 {input!r}", "greater_than_equal": "应不小于 {ge}，不是 {input!r}",
    "less_than": "应小于 {lt}，不是 {input!r}", "less_than_equal": "应不大于 {le}，不是 {input!r}",
    "too_short": "至少要有 {min_length} 项", "too_long": "最多 {max_length} 项",
    "time_parsing": "时间应写成带引号的 \"08:30\"，不是 {input!r}", "time_type": "时间应写成带引号的 \"08:30\"",
    "date_parsing": "日期应写成 2027-01-01，不是 {input!r}", "date_type": "日期应写成 2027-01-01，不是 {input!r}",
    "date_from_datetime_parsing": "日期应写成 2027-01-01，不是 {input!r}",
    "list_type": "应为列表 […]", "tuple_type": "应为列表 […]",
    "dict_type": "应为键值表 {…}", "model_type": "应为键值表 {…}", "model_attributes_type": "应为键值表 {…}",
}


def _explain(err: dict[str, Any]) -> str:
    kind = err["type"]
    if kind == "value_error":
        return err["msg"].removeprefix("Value error, ")
    template = _EXPLAIN.get(kind)
    if template is None:
        return f"取值无效 ({err['msg']})"
    try:
        limits = {k: v.replace(" or ", " 或 ") if isinstance(v, str) else v for k, v in (err.get("ctx") or {}).items()}
        return template.format(input=err.get("input"), **limits)
    except (KeyError, IndexError):
        return f"取值无效 ({err['msg']})"


def load_config(path: str | Path | None = None) -> Config:
    path = Path(path or os.environ.get("MULIN_CONFIG") or DEFAULT_CONFIG)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"无法读取配置文件 {path}：{exc.strerror} (cannot read config)") from exc
    return parse_config(text, str(path))


def database_url(config: Config) -> str:
    return os.environ.get("MULIN_DATABASE_URL") or config.database.url


def gateway(config: Config, account: Account | None = None) -> tuple[str, str]:
    endpoint = os.environ.get("WECHATY_PUPPET_SERVICE_ENDPOINT") or (account and account.endpoint) or config.wechat.endpoint
    token = os.environ.get("WECHATY_PUPPET_SERVICE_TOKEN") or (account and account.token) or config.wechat.token
    return endpoint, token
