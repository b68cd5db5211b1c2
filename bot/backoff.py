"""Exponential backoff with a cap: how long to wait before the next try at a gateway or a database."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Backoff:
    initial: float = 1.0
    cap: float = 30.0
    factor: float = 2.0
    attempts: int = 0

    def next(self) -> float:
        """The wait before the next attempt: initial, then doubling, never above cap."""
        delay = min(self.cap, self.initial * self.factor ** self.attempts)
        self.attempts += 1
        return delay

    def reset(self) -> None:
        self.attempts = 0
