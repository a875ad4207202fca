"""A virtual clock: real time shifted by an offset, or frozen, moved on purpose through the control API.

Every status change is scheduled on this clock, so a test can let hours pass in a millisecond and a
client developer can still watch messages move in real time when nobody touches the clock.
"""
from __future__ import annotations

import math
import time
from datetime import datetime, timedelta, timezone

BRT = timezone(timedelta(hours=-3), "BRT")

# The readings the clock may take: from the epoch to 9999-01-01 in Brasília time. Every reading is printed
# as a date (answers, callbacks, the journal) and every delay the lifecycle schedules after it (a 48-hour
# late DLR, an expiry) must still be a date, so the clock stops a year short of datetime's last day. A
# NaN or infinite reading would make every later answer fail, and be saved with the state: refused.
EARLIEST = 0.0
LATEST = datetime(9999, 1, 1, tzinfo=BRT).timestamp()


class ClockError(ValueError):
    """A move the clock refuses; the clock is left as it was."""


def checked(moment: float) -> float:
    """The moment itself if the clock can show it, else ClockError (a finite reading within the dates)."""
    if isinstance(moment, bool) or not isinstance(moment, (int, float)):
        raise ClockError(f"a clock reading is a number of seconds, not {type(moment).__name__}")
    if not math.isfinite(moment) or not EARLIEST <= moment <= LATEST:
        raise ClockError(f"the clock can show moments from 1970-01-01 to 9999-01-01 (epoch {EARLIEST:.0f}"
                         f" to {LATEST:.0f}), not {moment!r}")
    return float(moment)


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

    def after(self, seconds: float) -> float:
        """The reading ``seconds`` from now, checked; the clock does not move."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
            raise ClockError(f"advance is a finite number of seconds, not {seconds!r}")
        if seconds < 0:
            raise ClockError("the clock only moves forward")
        return checked(self.now() + seconds)

    def advance(self, seconds: float) -> float:
        self.after(seconds)  # checked before anything moves
        if self._frozen_at is not None:
            self._frozen_at += seconds
        else:
            self._offset += seconds
        return self.now()

    def set(self, moment: float) -> float:
        checked(moment)
        if moment < self.now():
            raise ClockError("the clock only moves forward")
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
        """The clock a saved state describes; ClockError if that state is not a clock it could have had."""
        if not isinstance(state, dict):
            raise ClockError(f"a saved clock is an object, not {type(state).__name__}")
        if state.get("frozen"):
            return cls(frozen_at=checked(state.get("now")))  # type: ignore[arg-type]
        offset = state.get("offset", 0.0)
        if isinstance(offset, bool) or not isinstance(offset, (int, float)) or not math.isfinite(offset):
            raise ClockError(f"a saved clock offset is a finite number, not {offset!r}")
        clock = cls(offset=float(offset))
        checked(clock.now())
        return clock


def local(moment: float) -> datetime:
    """A clock reading in Brasília time, which the providers print (no daylight saving since 2019)."""
    return datetime.fromtimestamp(moment, BRT)


def parse_local(text: str, fmt: str) -> float:
    return datetime.strptime(text, fmt).replace(tzinfo=BRT).timestamp()
