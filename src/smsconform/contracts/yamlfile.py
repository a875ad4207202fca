"""YAML loading that remembers line numbers, so a malformed contract is reported at its line."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import yaml

from .errors import ContractError


class _LineLoader(yaml.SafeLoader):
    pass


def load_yaml(path: Path) -> tuple[Any, yaml.Node]:
    """Return the data and the node tree (for line look-ups) of one YAML file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContractError(path, None, f"cannot read: {exc.strerror}") from exc
    try:
        node = yaml.compose(text, Loader=_LineLoader)
        data = yaml.load(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ContractError(path, line, f"invalid YAML: {exc.problem}") from exc
    return data, node


def line_of(node: yaml.Node | None, path: Iterable[Any]) -> int | None:
    """The line of the value at a JSON path inside a composed YAML node tree."""
    if node is None:
        return None
    current = node
    for key in path:
        if isinstance(current, yaml.MappingNode):
            for k, v in current.value:
                if k.value == key:
                    current = v
                    break
            else:
                break
        elif isinstance(current, yaml.SequenceNode) and isinstance(key, int) and key < len(current.value):
            current = current.value[key]
        else:
            break
    return current.start_mark.line + 1
