"""The background loop's settling chunks are sized by the wall time they take (issue 15: a status read during
a large clock move waits at most about one chunk)."""
from __future__ import annotations

from smsconform.emulator.core.service import SETTLE_CHUNK
from smsconform.emulator.settle_pace import BUDGET_SECONDS, LEAST, SettlePace


def test_a_slow_chunk_makes_the_next_one_smaller_in_proportion() -> None:
    pace = SettlePace()
    assert pace.limit == SETTLE_CHUNK
    pace.took(BUDGET_SECONDS * 4)
    assert pace.limit == SETTLE_CHUNK // 4


def test_the_chunk_stays_between_its_bounds_and_grows_back_at_most_twofold() -> None:
    pace = SettlePace()
    pace.took(10.0)
    assert pace.limit == LEAST
    pace.took(BUDGET_SECONDS / 100)
    assert pace.limit == 2 * LEAST
    for _ in range(20):
        pace.took(0.0)
    assert pace.limit == SETTLE_CHUNK
