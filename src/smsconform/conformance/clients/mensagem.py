"""The mensagem client: GET /sms/<function> with `u` first, as the document recommends."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
import uuid
from typing import Any
from urllib.parse import quote

from ...contracts import load_contracts
from ..exchange import Exchange
from .base import HttpDialectClient, NotExercised, Result

TEST_TEXT = "smsconform teste de conformidade"
MD5 = re.compile(r"[0-9a-f]{32}")
LISTS = ("crdtf", "cnnvl", "cnus", "crctn")


def far_future() -> str:
    """A schedule a day ahead in Brasília time, the providers' clock."""
    brt = timezone(timedelta(hours=-3))
    return (datetime.now(brt) + timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")


class MensagemClient(HttpDialectClient):
    dialect = "mensagem"

    def call(self, operation: str, params: dict[str, Any], account: str = "main") -> Exchange:
        self.require(operation)
        merged = {**self.credentials(account), **params}  # a trigger may override the credential itself
        query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in merged.items() if v is not None)
        return self.send(operation, "GET", f"{self.spec.base_url}/sms/{operation}?{query}")

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
            return {"d": f"CC {uuid.uuid4().hex[:12]}"}
        if operation == "cadus":
            return {"n": "SMSCONFORM TESTE", "d": f"sc_{uuid.uuid4().hex[:10]}", "p": "Senha123", "t": "0"}
        if operation == "altus":
            created = self.call("cadus", self.valid_request("cadus")).text.split(";")
            if len(created) < 2 or created[0] != "1":
                raise AssertionError(f"could not create a user to change: {';'.join(created)!r}")
            return {"id": created[1], "n": "SMSCONFORM ALTERADO"}
        if operation == "cact":
            created = self.call("cict", self.valid_request("cict")).text.split(";")
            if not created[0].isdigit():
                raise AssertionError(f"could not create a cost centre to change: {';'.join(created)!r}")
            return {"id": created[0], "e": "qa@example.com"}
        raise NotExercised(f"no valid request is known for mensagem.{operation}")

    def send_one(self, account: str = "main", number: str | None = None, scheduled: bool = False,
                 **extra: Any) -> str:
        """Send one message and return its MD5 protocol (used by flows that need an existing message).

        ``scheduled`` puts it a day ahead, so it stays waiting whatever the target's clock does."""
        if scheduled:
            extra.setdefault("d", far_future())
        exchange = self.call("send", {"n": number or self.number(), "m": TEST_TEXT, **extra}, account)
        first = exchange.text.strip().split(";")
        if len(first) < 2 or first[0] != "1":
            raise AssertionError(f"could not send a message to build the state: {exchange.text!r}")
        return first[1]

    def cancel_one(self, digest: str) -> None:
        self.call("cacl", {"h": digest})

    def hash_param(self, operation: str) -> str:
        return "h"

    def result(self, operation: str, exchange: Exchange) -> Result:
        """The answer's code and text. A multi-line answer (mult) is read at its first refused line,
        since a trigger mixes a valid number with the one that must be refused."""
        lines = exchange.text.strip().splitlines() or [""]
        line = next((ln for ln in lines if ln.split(";")[0] not in ("1", "")), lines[0])
        fields = line.split(";")
        code = fields[0]
        if operation == "oper" and line.startswith("CODIGO DA OPERADORA;"):
            return Result("NNNNN", None)  # a header line, then one `code;name` line per operator
        if operation in LISTS and fields[0] == "1":
            return Result("1", None)  # listing answers carry records, not the code's text
        if operation == "cadus" and code == "1" and len(fields) >= 3:
            return Result(code, fields[2])  # 1;<user id>;TEXT
        if operation == "cacl" and len(fields) >= 3:
            return Result(fields[1], fields[2])
        if operation == "cict" and code.isdigit() and not load_contracts().catalog.has_code(self.dialect, operation, code):
            code = "NNNN"  # the success answer carries the new cost centre's id where the code would be
        if operation in ("send", "mult") and code == "1" and len(fields) >= 2 and MD5.fullmatch(fields[1]):
            return Result(code, None)  # 1;<md5>[;<number>]: success carries the protocol, not its text
        return Result(code, fields[1] if len(fields) > 1 else None)
