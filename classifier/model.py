"""The result types handed to the rest of the app."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Location:
    building: str | None
    unit: str | None
    room: str | None
    floor: str | None
    raw: str


@dataclass(frozen=True)
class Classification:
    is_request: bool
    category: str
    category_name: str
    confidence: float
    urgent: bool = False
    urgent_reason: str | None = None
    location: Location | None = None
    matched: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)
