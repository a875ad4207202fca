"""results.json: the machine-readable verdict (format ``smsconform-results/1``, see results.py)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_json(results: dict[str, Any], path: Path) -> Path:
    """Write already-redacted results; UTF-8 with the documents' accents kept as they are."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path
