"""``smsconform record``: run the suite against a target and keep its HTTP exchanges as vcrpy cassettes.

One vcrpy cassette is open for the whole session (record mode ``all``: every request really goes to the
target), kept in memory only; its before-record hooks (``scrub.Scrubber``) drop what is not the target's
(the control API, the suite's own callback receiver) and replace credentials before vcrpy holds anything.
After each test its new exchanges are attributed to the test; at the end they are written, grouped by
dialect and test module, to ``<root>/<target>/<dialect>/<module>.yaml``, replacing that target's previous
recording. The files are then searched for every secret of the profile: any hit removes the file and
fails the command. The run is in one process (no xdist), so the exchanges keep their order.
"""
from __future__ import annotations

import re
import shutil
import sys
from collections import defaultdict
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any, Iterator, TextIO

import pytest
import vcr
from vcr.cassette import Cassette
from vcr.persisters.filesystem import CassetteNotFoundError

from .. import __version__
from ..contracts import DIALECTS, load_contracts
from ..conformance.target import ProfileError, Target
from ..reports.certify import TargetError, preflight
from ..reports.collect import FAILED, NOT_EXERCISED_STATUS, PASSED, Collector
from ..reports.identity import resolve_target
from ..reports.progress import Progress
from ..reports.redact import find_secrets
from ..reports.runner import SuiteRun, run
from .locate import locate
from .scrub import Scrubber
from .store import Interaction, write_cassette


class _InMemory:
    """A vcrpy persister that never touches the disk: the recording is written by us, grouped, at the end."""

    @staticmethod
    def load_cassette(cassette_path: Any, serializer: Any) -> Any:
        raise CassetteNotFoundError()

    @staticmethod
    def save_cassette(cassette_path: Any, cassette_dict: Any, serializer: Any) -> None:
        return None


class _RecordOnly(Cassette):  # type: ignore[misc]
    """A cassette that only records: vcrpy's record mode ``all`` still looks every new request up among the
    recorded ones (quadratic in a suite's thousands of exchanges) before deciding not to replay it."""

    def can_play_response_for(self, request: Any) -> bool:
        return False


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "target"


class Recorder:
    """A pytest plugin object: the session cassette, and who made each exchange."""

    def __init__(self, secrets: tuple[str, ...]) -> None:
        self.secrets = secrets
        self.cassette: Any = None
        self.grouped: dict[tuple[str, str], list[Interaction]] = defaultdict(list)
        self.target: Target | None = None

    @pytest.fixture(scope="session", autouse=True)
    def _smsconform_recording(self, sms_target: Target) -> Iterator[None]:
        self.target = sms_target
        keep = tuple(d.base_url for d in sms_target.dialects.values() if d.base_url)
        drop = tuple(u.rstrip("/") for u in (sms_target.time.control_url,) if u)
        scrubber = Scrubber(tuple(self.secrets) + tuple(sms_target.secrets()), keep=keep, drop=drop)
        recorder = vcr.VCR(record_mode="all", **scrubber.vcr_options())
        config = partial(recorder.get_merged_config, path="smsconform-session", persister=_InMemory)
        with _RecordOnly.use_arg_getter(config) as cassette:
            self.cassette = cassette
            yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
        start = len(self.cassette.data) if self.cassette is not None else 0
        yield
        if self.cassette is None:
            return
        marker = item.get_closest_marker("dialect")
        module = Path(str(item.path)).stem
        for request, response in list(self.cassette.data[start:]):
            inter = Interaction(request, response)
            dialect = marker.args[0] if marker else None
            if dialect is None:
                located = locate(inter, load_contracts())
                dialect = located.dialect if located else "other"
            inter.meta = {"test": item.nodeid, "dialect": dialect}
            self.grouped[(dialect, module)].append(inter)

    def write(self, root: Path, target_name: str, contracts_version: str) -> list[Path]:
        written = []
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        for (dialect, module), interactions in sorted(self.grouped.items()):
            metadata = {"target": target_name, "dialect": dialect, "module": module, "recorded_at": stamp,
                        "contracts": contracts_version, "smsconform": __version__,
                        "credentials": "replaced by placeholders ([USER], [PASSWORD], [AUTHORIZATION], [SECRET])"}
            written.append(write_cassette(root / dialect / f"{module}.yaml", interactions, metadata))
        return written


def record(suite: SuiteRun, root: Path, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Exit status: 0 recorded, 1 a credential was found in a written file (removed), 2 a target error."""
    contracts = load_contracts()
    try:
        target = resolve_target(suite.target, contracts)
        preflight(suite.target, suite.dialects)
    except (ProfileError, TargetError) as exc:
        err.write(f"smsconform record: {exc}\n")
        return 2
    recorder = Recorder(target.secrets)
    progress = Progress(out)
    collector = Collector(on_progress=progress)
    destination = root / safe_name(target.name)
    out.write(f"smsconform record: target {target.name}, exchanges to {destination}/<dialect>/\n")
    try:
        status = run(SuiteRun(suite.target, suite.dialects, suite.hypothesis_profile, None, suite.extra),
                     [collector, recorder])
    finally:
        progress.close()
    if status in (3, 4) and not collector.records:
        err.write(f"smsconform record: pytest could not run the suite (exit status {status})\n")
        return 2
    if destination.exists():
        shutil.rmtree(destination)
    written = recorder.write(destination, target.name, contracts.version)
    leaks = find_secrets(written, target.secrets)
    for leak in leaks:
        err.write(f"smsconform record: {leak}; file removed\n")
        leak.path.unlink(missing_ok=True)
    counts = collector.counts()
    per_dialect = defaultdict(int)
    for (dialect, _), interactions in recorder.grouped.items():
        per_dialect[dialect] += len(interactions)
    summary = ", ".join(f"{d} {per_dialect[d]}" for d in DIALECTS if per_dialect.get(d)) or "none"
    out.write(f"recorded {sum(per_dialect.values())} exchanges ({summary}) in {len(written)} cassettes under "
              f"{destination}; suite: {counts[PASSED]} passed, {counts[FAILED]} failed, "
              f"{counts[NOT_EXERCISED_STATUS]} not exercised\n")
    return 1 if leaks else 0
