"""Where the contracts live: a checkout's contracts/, or the copy packaged inside the wheel."""
from __future__ import annotations

import os
from pathlib import Path


def contracts_dir() -> Path:
    override = os.environ.get("SMSCONFORM_CONTRACTS")
    if override:
        return Path(override)
    here = Path(__file__).resolve()
    checkout = here.parents[3] / "contracts"
    if (checkout / "catalog").is_dir():
        return checkout
    return here.parents[1] / "_contracts"
