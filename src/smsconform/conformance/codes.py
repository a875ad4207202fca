"""What the code families share: which codes are request answers, and how an answer is held to its code."""
from __future__ import annotations

from typing import Any

import pytest

from ..contracts import Code

# Status tables are not request answers: the transitions and callbacks families observe them.
STATUS_TABLES = ("message-status", "callback-status", "callback-dlr", "campaign-status")


def code_params(codes: list[Code]) -> list[Any]:
    """One pytest parameter per code, marked with its rule id and dialect."""
    return [pytest.param(c, id=c.id, marks=[pytest.mark.rules(c.id), pytest.mark.dialect(c.dialect)]) for c in codes]


def assert_answers(code: Code, result: Any, after: str = "") -> None:
    """The answer carries the code on the wire and, where the dialect returns one, its text verbatim."""
    assert result.code == code.wire, (
        f"{code.id}: {after}expected code {code.wire} ({code.text}), got {result.code!r} ({result.text!r})"
        f" [{code.source}]"
    )
    if result.text is not None:
        assert result.text == code.text, (
            f"{code.id}: code {code.wire} must read {code.text!r} verbatim, got {result.text!r} [{code.source}]"
        )
