"""The pacer: one record of rate-limited turns per target, shared by every client and process of a run."""
from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from smsconform.conformance.pacer import Pacer, TurnTooFar, account_key


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_000_000.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def test_two_callers_of_one_target_get_consecutive_turns(tmp_path: Path) -> None:
    clock = FakeClock()
    key = account_key("painel", "getstatus", {"lgn": "demo", "pwd": "x"})
    first, second = (Pacer(tmp_path / "p.json", now=clock.now, sleep=clock.sleep) for _ in range(2))
    first.wait_turn(key, 60, 600)
    assert clock.slept == []  # nobody called before: at once
    second.wait_turn(key, 60, 600)  # another client (another test): waits for the turn after the first
    assert clock.slept == [pytest.approx(60.5)]
    other = account_key("painel", "getbalance", {"lgn": "demo", "pwd": "x"})
    first.wait_turn(other, 60, 600)  # another operation has its own turns
    assert len(clock.slept) == 1


def test_a_turn_beyond_max_wait_is_refused_and_books_nothing(tmp_path: Path) -> None:
    clock = FakeClock()
    pacer = Pacer(tmp_path / "p.json", now=clock.now, sleep=clock.sleep)
    pacer.wait_turn("painel.getstatus@a", 60, 90)
    with pytest.raises(TurnTooFar, match=r"painel.getstatus is allowed once every 60 s; .* beyond time.max_wait \(30 s\)"):
        pacer.wait_turn("painel.getstatus@a", 60, 30)
    assert pacer.last("painel.getstatus@a") == clock.t  # still the first turn
    assert clock.slept == []


def test_a_call_made_outside_the_plan_moves_the_next_turn(tmp_path: Path) -> None:
    clock = FakeClock()
    pacer = Pacer(tmp_path / "p.json", now=clock.now, sleep=clock.sleep)
    pacer.made("painel.getbalance@a")  # e.g. the limit family's unpaced call
    clock.t += 10
    pacer.wait_turn("painel.getbalance@a", 60, 600)
    assert clock.slept == [pytest.approx(50.5)]


def test_accounts_are_recorded_by_digest_never_by_login(tmp_path: Path) -> None:
    pacer = Pacer(tmp_path / "p.json")
    pacer.made(account_key("painel", "getstatus", {"lgn": "secret-login", "pwd": "secret-password"}))
    text = (tmp_path / "p.json").read_text()
    assert "secret" not in text and "painel.getstatus@" in text


def _book(path: str, out: "multiprocessing.Queue[float]") -> None:
    out.put(Pacer(Path(path), sleep=lambda s: None).book("painel.getstatus@a", 1.0, 600))


def test_processes_book_distinct_turns_through_the_file_lock(tmp_path: Path) -> None:
    """xdist workers are processes: each must see the turns the others booked."""
    path = str(tmp_path / "p.json")
    out: "multiprocessing.Queue[float]" = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_book, args=(path, out)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    turns = sorted(out.get(timeout=5) for _ in procs)
    gaps = [b - a for a, b in zip(turns, turns[1:])]
    assert all(g >= 1.5 - 1e-6 for g in gaps), turns  # window 1 s + margin 0.5 s between any two turns
    assert turns[0] <= time.time() + 1


def test_a_real_time_run_spreads_the_tests_that_need_a_turn() -> None:
    from smsconform.conformance.run_plan import needs_turn, spread

    assert needs_turn(["limit:painel.getstatus.rate"]) and needs_turn(["code:painel.getbalance.1"])
    assert needs_turn(["machine:painel.campaign"]) and needs_turn(["grammar:painel.getstatus_data"])
    assert needs_turn(["openapi:painel.painel_getstatus_post"])
    assert not needs_turn(["code:painel.sendsms.1", "code:mensagem.send.1"])
    items = [f"t{i}" for i in range(9)] + ["p1", "p2"]
    planned = spread(items, lambda name: name.startswith("p"))
    assert sorted(planned) == sorted(items)
    assert planned == ["t0", "t1", "t2", "p1", "t3", "t4", "t5", "p2", "t6", "t7", "t8"]
