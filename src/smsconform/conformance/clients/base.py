"""What every HTTP dialect client shares: credentials by fixture account, exchanges recorded as evidence."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from ..exchange import RECORDED, Exchange
from ..no_redirects import refuse_redirect
from ..target import Target


class NotExercised(Exception):
    """The target cannot exercise this rule (no such fixture or operation): reported, never passed."""


@dataclass(frozen=True)
class Result:
    """An answer reduced to what the catalog speaks of: the code and, where the dialect returns one, its text."""

    code: str
    text: str | None
    success: bool | None = None


class DialectClient:
    """What every dialect client shares: the target's entry for its dialect, credentials by fixture account,
    and the operations the target offers."""

    dialect: str = ""
    list_separator: str = ";"

    def __init__(self, target: Target) -> None:
        self.target = target
        spec = target.dialect(self.dialect)
        if spec is None:
            raise NotExercised(f"the target does not offer {self.dialect}")
        self.spec = spec

    def credentials(self, account: str = "main") -> dict[str, str]:
        if account == "main":
            return dict(self.spec.credentials)
        creds = self.target.fixtures.account(account, self.dialect)
        if not creds:
            raise NotExercised(f"the target profile has no fixture account {account!r} for {self.dialect}")
        return dict(creds)

    def require(self, operation: str) -> None:
        if not self.spec.offers(operation):
            raise NotExercised(f"the target does not offer {self.dialect}.{operation}")

    def number(self, index: int = 0) -> str:
        return valid_number(self.target, index)

    def balance_is_paced(self) -> bool:
        """Whether reading the balance costs a rate-limit turn here (painel in real time): families then do
        not read it around every request; the state machines read it once for a whole test."""
        return False


def valid_number(target: Target, index: int = 0) -> str:
    """The profile's valid numbers in turn (fixtures.numbers.valid), or NotExercised without any."""
    valid = target.fixtures.numbers_of("valid")
    if not valid:
        raise NotExercised("the target profile lists no valid numbers (fixtures.numbers.valid)")
    return valid[index % len(valid)]


class HttpDialectClient(DialectClient):
    def __init__(self, target: Target) -> None:
        super().__init__(target)
        self.http = httpx.Client(timeout=target.http_timeout, trust_env=False, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def send(self, operation: str, method: str, url: str, **kwargs: Any) -> Exchange:
        started = time.perf_counter()
        response = self.http.request(method, url, **kwargs)
        if response.is_redirect:
            refuse_redirect(url, response.status_code, response.headers.get("location"))
        request = response.request
        exchange = Exchange(
            dialect=self.dialect, operation=operation, method=method, url=str(request.url),
            request_headers=dict(request.headers), request_body=request.content.decode("utf-8", "replace"),
            status=response.status_code, response_headers=dict(response.headers), text=response.text,
            elapsed_ms=(time.perf_counter() - started) * 1000,
        )
        RECORDED.append(exchange)
        return exchange

    # -- what each dialect defines --------------------------------------------------------------------
    def call(self, operation: str, params: dict[str, Any], account: str = "main") -> Exchange:
        raise NotImplementedError

    def valid_request(self, operation: str) -> dict[str, Any]:
        raise NotImplementedError

    def result(self, operation: str, exchange: Exchange) -> Result:
        raise NotImplementedError
