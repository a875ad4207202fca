"""results.json: the machine-readable verdict (format ``smsconform-results/1``, see results.py)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_json(results: dict[str, Any], path: Path) -> Path:
    """Write already-redacted results; UTF-8 with the documents' accents kept as they are.

    Atomically (a temporary file, then a rename): certify rewrites results.json as tests finish, and a run
    killed from outside must leave the last complete file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
