"""Where the provider documents are: the seed files the catalog cites (``000_...txt`` to ``003_...txt``) and
field-notes.md. They are not distributed with this repository; tests that check a quote verbatim read
them from ``SMSCONFORM_SEEDS`` (their folder) and ``SMSCONFORM_FIELD_NOTES`` (the notes file; default:
field-notes.md beside that folder), or from a ``shared/`` folder next to the checkout when these are unset.
"""
from __future__ import annotations

import os
from pathlib import Path

from .paths import contracts_dir


def seeds_dir() -> Path:
    override = os.environ.get("SMSCONFORM_SEEDS")
    if override:
        return Path(override)
    return contracts_dir().parent.parent / "shared" / "seeds"


def field_notes() -> Path:
    override = os.environ.get("SMSCONFORM_FIELD_NOTES")
    if override:
        return Path(override)
    return seeds_dir().parent / "field-notes.md"
