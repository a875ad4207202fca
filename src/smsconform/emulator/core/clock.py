"""A virtual clock: real time shifted by an offset, or frozen, moved on purpose through the control API.

Every status change is scheduled on this clock, so a test can let hours pass in a millisecond and a
client developer can still watch messages move in real time when nobody touches the clock.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

BRT = timezone(timedelta(hours=-3), "BRT")


class VirtualClock:
    def __init__(self, *, frozen_at: float | None = None, offset: float = 0.0) -> None:
        self._frozen_at = frozen_at
        self._offset = offset

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def now(self) -> float:
        """Seconds since the epoch, on the virtual clock."""
        if self._frozen_at is not None:
            return self._frozen_at
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        if self._frozen_at is not None:
            self._frozen_at += seconds
        else:
            self._offset += seconds
        return self.now()

    def set(self, moment: float) -> float:
        if moment < self.now():
            raise ValueError("the clock only moves forward")
        if self._frozen_at is not None:
            self._frozen_at = moment
        else:
            self._offset = moment - time.time()
        return self.now()

    def freeze(self) -> None:
        if self._frozen_at is None:
            self._frozen_at = self.now()

    def run(self) -> None:
        if self._frozen_at is not None:
            self._offset = self._frozen_at - time.time()
            self._frozen_at = None

    def state(self) -> dict[str, object]:
        return {"now": self.now(), "frozen": self.frozen, "offset": self._offset}

    @classmethod
    def from_state(cls, state: dict[str, object]) -> "VirtualClock":
        now = float(state["now"])  # type: ignore[arg-type]
        if state.get("frozen"):
            return cls(frozen_at=now)
        return cls(offset=float(state.get("offset", 0.0)))  # type: ignore[arg-type]


def local(moment: float) -> datetime:
    """A clock reading in Brasília time, which the providers print (no daylight saving since 2019)."""
    return datetime.fromtimestamp(moment, BRT)


def parse_local(text: str, fmt: str) -> float:
    return datetime.strptime(text, fmt).replace(tzinfo=BRT).timestamp()
