"""Time is passed in: the real clock in production, a fake one in the demo and tests."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, tzinfo


class SystemClock:
    """The real time, in the community's zone (`Config.tz`)."""

    def __init__(self, tz: tzinfo) -> None:
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(self.tz)

    async def sleep_until(self, when: datetime | None, wake: asyncio.Event) -> None:
        """Return at `when` (never, if None) or as soon as `wake` is set."""
        timeout = None if when is None else max((when - self.now()).total_seconds(), 0)
        try:
            await asyncio.wait_for(wake.wait(), timeout)
        except asyncio.TimeoutError:
            pass


class FakeClock:
    """A clock that only moves when told to; shared by the simulator and the app in one process."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start time")
        self._now = start
        self._moved: list[asyncio.Future[None]] = []

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("time does not go backwards")
        self.set(self._now + delta)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(self._now.tzinfo)  # times read back from the database are UTC
        moved, self._moved = self._moved, []
        for future in moved:
            if not future.done():
                future.set_result(None)

    async def sleep_until(self, when: datetime | None, wake: asyncio.Event) -> None:
        """Return once the clock has been moved to `when` or later (never, if None), or `wake` is set."""
        while not wake.is_set() and (when is None or self._now < when):
            moved = asyncio.get_running_loop().create_future()
            self._moved.append(moved)
            woken = asyncio.ensure_future(wake.wait())
            try:
                await asyncio.wait({moved, woken}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                woken.cancel()
