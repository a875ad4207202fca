"""What every dialect shares: its codes and limits, looked up in the catalog by operation and reason."""
from __future__ import annotations

from functools import lru_cache

from ...contracts import Catalog, Code, Limit

class CodeBook:
    """A dialect's view of the catalog."""

    def __init__(self, catalog: Catalog, dialect: str) -> None:
        self.catalog = catalog
        self.dialect = dialect
        self._for_reason = lru_cache(maxsize=512)(self._lookup)

    def _lookup(self, operation: str, reason: str) -> Code:
        tried = (reason, *self.catalog.substitutes_for(self.dialect, reason))  # contracts/catalog/substitutes.yaml
        for candidate in tried:
            try:
                return self.catalog.by_reason(self.dialect, operation, candidate)
            except KeyError:
                continue
        raise KeyError(f"{self.dialect}.{operation} documents no code for {reason!r} (nor {tried[1:]})")

    def for_reason(self, operation: str, reason: str) -> Code:
        return self._for_reason(operation, reason)

    def code(self, operation: str, code: str) -> Code:
        return self.catalog.code(self.dialect, operation, code)

    def bounds(self, limit_id: str) -> tuple[int, int]:
        """A limit's (min, max) from limits.yaml: the emulator has no bounds of its own."""
        limit = self.catalog.limit(limit_id)
        if limit.min is None or limit.max is None:
            raise KeyError(f"limits.yaml {limit_id} needs both min and max")
        return int(limit.min), int(limit.max)

    def limit(self, operation: str, param: str, unit: str | None = None) -> Limit | None:
        for lim in self.catalog.limits:
            if (lim.dialect == self.dialect and operation in lim.operations and lim.param == param
                    and (unit is None or lim.unit == unit)):
                return lim
        return None

    def state_code(self, machine: str, core_state: str) -> str | None:
        """The status code a dialect's machine renders a core state as."""
        for state in self.catalog.machine(machine).states:
            if state.core == core_state:
                return state.code
        return None
