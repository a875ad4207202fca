"""One request and its answer, kept as evidence for reports, with secrets redacted."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Exchange:
    dialect: str
    operation: str
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str
    status: int
    response_headers: dict[str, str]
    text: str
    elapsed_ms: float
    parsed: Any = None
    notes: list[str] = field(default_factory=list)

    def json_object(self) -> dict[str, Any] | None:
        """The answer as a JSON object, or None when it is not one (a refusal in text, a junk body)."""
        try:
            body = json.loads(self.text)
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def evidence(self, secrets: list[str]) -> dict[str, Any]:
        def clean(value: str) -> str:
            for secret in secrets:
                if secret and len(secret) >= 3:
                    value = value.replace(secret, "<redacted>")
            return value

        headers = {k: ("<redacted>" if k.lower() == "authorization" else clean(v))
                   for k, v in self.request_headers.items()}
        return {
            "dialect": self.dialect, "operation": self.operation,
            "request": {"method": self.method, "url": clean(self.url), "headers": headers,
                        "body": clean(self.request_body[:4000])},
            "response": {"status": self.status, "headers": self.response_headers,
                         "body": clean(self.text[:4000])},
            "elapsed_ms": round(self.elapsed_ms, 2),
        }


# Every exchange a test makes is appended here; the plugin attaches a failing test's exchanges to its report.
RECORDED: list[Exchange] = []
