"""Time as a dependency: services ask an injected Clock, tests pass a FakeClock and move it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to (tests; and a batch, whose items share one moment)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self._now += timedelta(seconds=seconds)


def format_datetime(moment: datetime) -> str:
    """NGSI-LD DateTime: UTC, 'Z' suffix, microseconds (the spec allows up to six digits)."""
    # isoformat is C code and several times faster than strftime on this hot path (every write).
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
