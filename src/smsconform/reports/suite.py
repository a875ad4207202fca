"""Where the conformance suite lives: a checkout's tests/conformance, or the copy packaged in the wheel.

Found like ``contracts.paths.contracts_dir`` finds contracts/: ``smsconform certify`` must run the same suite
from a fresh clone (``pip install -e .``) and from an installed wheel (hatch force-includes
tests/conformance as ``smsconform/_suite``).
"""
from __future__ import annotations

import os
from pathlib import Path


def suite_dir() -> Path:
    override = os.environ.get("SMSCONFORM_SUITE")
    if override:
        return Path(override)
    here = Path(__file__).resolve()
    checkout = here.parents[3] / "tests" / "conformance"
    if checkout.is_dir():
        return checkout
    return here.parents[1] / "_suite"
