"""The clock every date rule asks for "today" (recall windows, cut-offs, value dates).

It is passed in (through :class:`tools.config.ToolConfig`), never read from the environment where it
is used: the service runs on :class:`SystemClock`; evaluations and tests replay on a
:class:`FixedClock` so that a case dated 2026-11-20 is judged as of that day, whenever it runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Protocol


class Clock(Protocol):
    def today(self) -> date: ...

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock (UTC)."""

    def today(self) -> date:
        return date.today()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


@dataclass(frozen=True)
class FixedClock:
    """A clock stopped at ``day`` (``now()`` is noon UTC of it): evaluations replay on it."""

    day: date

    def today(self) -> date:
        return self.day

    def now(self) -> datetime:
        return datetime.combine(self.day, time(12), tzinfo=UTC)


def clock_for(fixed_day: date | None) -> Clock:
    return FixedClock(fixed_day) if fixed_day else SystemClock()
