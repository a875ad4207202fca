"""The wire dialects: each parses its requests into core calls and renders the core's answers."""
from __future__ import annotations

from importlib import import_module
from typing import Any

# Order matters only where paths overlap: the control API and the specific prefixes before fcati's "/".
MODULES = ("control", "mensagem", "speedmarket", "painel", "wbsapi", "servicesms", "fcati")


def build_all(app: Any) -> list[Any]:
    from ..console import build as console  # the web console: a client of the control API, on the same port

    return [import_module(f"{__name__}.{name}").build(app) for name in MODULES] + [console(app)]
