"""How large the background loop's next settling chunk is (Core.settle(limit=...)).

A chunk holds the event loop, and so every request that arrives meanwhile, for as long as it takes. On a
quiet machine SETTLE_CHUNK messages take about 20 ms; on a shared one (two cores, many processes) the same
chunk takes several times that in wall time, and a status read during a large clock move waited up to
800 ms (issue 15, 5 million messages). So the chunk is sized by the wall time the last one took: about
BUDGET_SECONDS each, never more than SETTLE_CHUNK, never fewer than LEAST (below that the per-chunk work
dominates), growing back at most twofold a chunk when the machine is quiet again.
"""
from __future__ import annotations

from dataclasses import dataclass

from .core.service import SETTLE_CHUNK

BUDGET_SECONDS = 0.008
LEAST = 200


@dataclass
class SettlePace:
    budget: float = BUDGET_SECONDS
    most: int = SETTLE_CHUNK
    least: int = LEAST
    limit: int = SETTLE_CHUNK

    def took(self, seconds: float) -> None:
        """Size the next chunk from how long the last one, of ``limit`` messages, took."""
        scaled = self.limit * self.budget / max(seconds, 1e-6)
        self.limit = int(max(self.least, min(self.most, self.limit * 2, scaled)))
