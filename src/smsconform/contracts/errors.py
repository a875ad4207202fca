from __future__ import annotations

from pathlib import Path


class ContractError(Exception):
    """A contract file that cannot be used, with the place it went wrong."""

    def __init__(self, path: Path | str, line: int | None, message: str) -> None:
        self.path = Path(path)
        self.line = line
        self.message = message
        where = f"{self.path}:{line}" if line else str(self.path)
        super().__init__(f"{where}: {message}")
