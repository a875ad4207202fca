from __future__ import annotations


class Refused(Exception):
    """A request the provider refuses, named by its semantic reason (see DEVELOPERS.md)."""

    def __init__(self, reason: str, detail: str = "", *, index: int | None = None) -> None:
        self.reason = reason
        self.detail = detail
        self.index = index
        super().__init__(f"{reason}: {detail}" if detail else reason)
