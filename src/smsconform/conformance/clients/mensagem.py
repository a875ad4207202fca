"""The mensagem client: GET /sms/<function> with `u` first, as the document recommends."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..exchange import Exchange
from .base import HttpDialectClient, NotExercised, Result

TEST_TEXT = "smsconform teste de conformidade"


class MensagemClient(HttpDialectClient):
    dialect = "mensagem"

    def call(self, operation: str, params: dict[str, Any], account: str = "main") -> Exchange:
        self.require(operation)
        merged = {**self.credentials(account), **params}  # a trigger may override the credential itself
        query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in merged.items() if v is not None)
        return self.send(operation, "GET", f"{self.spec.base_url}/sms/{operation}?{query}")

    def number(self, index: int = 0) -> str:
        valid = self.target.fixtures.valid_numbers()
        if not valid:
            raise NotExercised("the target profile lists no valid numbers (fixtures.numbers.valid)")
        return valid[index % len(valid)]

    def valid_request(self, operation: str) -> dict[str, Any]:
        if operation == "send":
            return {"n": self.number(), "m": TEST_TEXT}
        if operation == "mult":
            return {"n": f"{self.number(0)};{self.number(1)}", "m": TEST_TEXT}
        if operation == "cacl":
            return {"h": self.send_one()}
        if operation in ("crdtf", "cnnvl", "cnus", "crctn", "oper", "stat", "stam", "recv"):
            return {}
        if operation == "cict":
            import uuid

            return {"d": f"CC {uuid.uuid4().hex[:12]}"}
        raise NotExercised(f"no valid request is known for mensagem.{operation}")

    def send_one(self, account: str = "main", **extra: Any) -> str:
        """Send one message and return its MD5 protocol (used by flows that need an existing message)."""
        exchange = self.call("send", {"n": self.number(), "m": TEST_TEXT, **extra}, account)
        first = exchange.text.strip().split(";")
        if len(first) < 2 or first[0] != "1":
            raise AssertionError(f"could not send a message to build the state: {exchange.text!r}")
        return first[1]

    def result(self, operation: str, exchange: Exchange) -> Result:
        line = exchange.text.strip().splitlines()[0] if exchange.text.strip() else ""
        fields = line.split(";")
        if operation == "cacl" and len(fields) >= 3:
            return Result(fields[1], fields[2])
        if operation == "cict" and len(fields) >= 2 and fields[0].isdigit():
            return Result("NNNN", fields[1])
        return Result(fields[0], fields[1] if len(fields) > 1 else None)
