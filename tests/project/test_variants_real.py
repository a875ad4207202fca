"""The benign variants certified in real mode too (issue 18): served with a running clock, no control API,
through a profile whose time passes for real, as a provider's sandbox is certified.

A full real-mode certification takes about ten minutes per emulator, so the 24 variants are not run one by
one: variants/runner.py puts the variants of different dialects side by side in one server (and the ones
that patch the shared core alike together), runs the suite once per group on those dialects and their
variants' scopes, and runs the groups at once: they spend their time waiting for real time (status steps,
painel's once-a-minute queries), not computing. One test holds them all, so that under pytest-xdist the
groups still run concurrently on one worker while the other worker goes on.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from defects.runner import index_suite
from variants.registry import load_all
from variants.runner import judge, real_groups, run_real

VARIANTS = load_all()


def test_every_variant_is_in_one_real_mode_group_with_at_most_one_of_its_dialect() -> None:
    groups = real_groups(VARIANTS.values())
    names = [v.name for g in groups for v in g]
    assert sorted(names) == sorted(VARIANTS), "a variant left out of the real-mode runs, or run twice"
    for group in groups:
        dialects = [v.dialect for v in group]
        assert len(dialects) == len(set(dialects)), f"two variants of one dialect side by side: {group}"


def test_suite_certifies_every_variant_in_real_mode(tmp_path: Path) -> None:
    runs = run_real(VARIANTS.values(), tmp_path, index_suite(tmp_path / "index"))
    verdicts = {name: judge(item, runs[name]) for name, item in VARIANTS.items()}
    failed = {name: v.reason for name, v in verdicts.items() if not v.passed}
    seconds = {run.run.key: run.run.seconds for run in runs.values()}
    detail = "; ".join(f"{name}: {reason}" for name, reason in sorted(failed.items()))
    assert not failed, f"{len(failed)}/{len(VARIANTS)} variants not certified in real mode: {detail} (groups: {seconds})"
    for name, verdict in verdicts.items():
        assert verdict.certified, name
