"""Scenario files: a simulated community chat, step by step; the demo and the end-to-end tests share them."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class ScenarioError(Exception):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Person(_Strict):
    id: str
    name: str


class RoomSpec(_Strict):
    id: str
    topic: str
    members: tuple[str, ...] = ()


_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(value: str | int | float) -> timedelta:
    if isinstance(value, (int, float)):
        return timedelta(seconds=value)
    match = _DURATION_RE.match(str(value))
    if match is None:
        raise ValueError(f"duration must look like 30s, 45m, 26h or 3d, not {value!r}")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        return False


class Step(_Strict):
    room: str | None = None
    dm: str | None = None        # private message from this contact to the bot
    sender: str | None = Field(default=None, alias="from")
    text: str | None = None
    id: str | None = None        # WeChat message id; default: a fresh unique one
    kind: str = "text"
    image: str | None = None     # a picture file to post (room or dm step); relative to the scenario file
    wait: str | int | None = None
    offline: str | int | None = None  # the bot is stopped this long, then starts again on the same database
    rename: str | None = None    # contact id ...
    to: str | None = None        # ... renames themselves to this display name

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_action(self) -> "Step":
        actions = [self.room is not None, self.dm is not None, self.wait is not None, self.rename is not None,
                   self.offline is not None]
        if sum(actions) != 1:
            raise ValueError("each step is exactly one of: room message, dm, wait, offline, rename")
        if self.room is not None and (self.sender is None or (self.text is None and self.image is None)):
            raise ValueError("a room step needs `from` and `text` or `image`")
        if self.dm is not None and self.text is None and self.image is None:
            raise ValueError("a dm step needs `text` or `image`")
        if self.image is not None and not _is_file(Path(self.image)):
            raise ValueError(f"image file {self.image} not found")
        if self.rename is not None and self.to is None:
            raise ValueError("a rename step needs `to`")
        for duration in (self.wait, self.offline):
            if duration is not None:
                parse_duration(duration)
        return self

    @property
    def file(self) -> tuple[str, bytes] | None:
        """An image step's (file name, bytes)."""
        return (Path(self.image).name, Path(self.image).read_bytes()) if self.image is not None else None

    @property
    def delay(self) -> timedelta:
        return parse_duration(self.wait) if self.wait is not None else timedelta(0)

    @property
    def offline_for(self) -> timedelta:
        return parse_duration(self.offline) if self.offline is not None else timedelta(0)


class Scenario(_Strict):
    start: datetime
    self_: Person = Field(default=Person(id="wxid_mulin", name="睦邻助手"), alias="self")
    contacts: tuple[Person, ...] = ()
    rooms: tuple[RoomSpec, ...] = ()
    steps: tuple[Step, ...] = ()

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _references(self) -> "Scenario":
        if self.start.tzinfo is None:
            raise ValueError("start needs a timezone, e.g. 2026-11-23T08:57:00+08:00")
        people = {p.id for p in self.contacts}
        rooms = {r.id for r in self.rooms}
        for room in self.rooms:
            for member in room.members:
                if member not in people:
                    raise ValueError(f"room {room.id}: member {member!r} is not in contacts")
        for i, step in enumerate(self.steps):
            for who in (step.sender, step.dm, step.rename):
                if who is not None and who not in people:
                    raise ValueError(f"steps[{i}]: contact {who!r} is not in contacts")
            if step.room is not None and step.room not in rooms:
                raise ValueError(f"steps[{i}]: room {step.room!r} is not in rooms")
        return self


def parse_scenario(data: Any, source: str = "scenario") -> Scenario:
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ScenarioError(f"{source}: {problems}") from None


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, ValueError) as exc:  # ValueError: impossible dates such as 0000-00-00
        raise ScenarioError(f"{path}: {exc}") from exc
    steps = data.get("steps") if isinstance(data, dict) else None
    for step in steps if isinstance(steps, list) else []:
        if isinstance(step, dict) and isinstance(step.get("image"), str):
            beside = path.parent / step["image"]  # relative to the scenario file, else to the working directory
            step["image"] = str(beside) if _is_file(beside) else step["image"]
    return parse_scenario(data, str(path))
