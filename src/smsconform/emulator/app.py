"""The emulator as one request handler: routing to dialects, the journal, injected faults, tick-on-request."""
from __future__ import annotations

import logging
import re
import random
import time
import traceback
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from ..reports.redact import Redactor
from .core import Core
from .guard import ControlGuard
from .http import MAX_BODY, Request, Response

log = logging.getLogger("smsconform.emulator")

JOURNAL_BYTES = 4000
UNJOURNALED = frozenset({"control", "console"})  # steering and looking are not exchanges with a provider
SECRET_PARAMS = frozenset({"password", "pwd", "u", "user", "lgn", "identificacao", "token"})


class Dialect(Protocol):
    name: str

    def matches(self, request: Request) -> bool: ...

    def handle(self, request: Request) -> Response: ...

    def failure(self, request: Request) -> Response:
        """What the dialect answers when the emulator itself fails: its documented retry answer."""
        ...


@dataclass
class Fault:
    kind: str                    # latency | http500 | drop | refuse
    rate: float = 1.0            # share of matching requests
    path: str = ""               # path prefix it applies to ("" = all but the control API)
    ms: int = 0                  # latency
    remaining: int | None = None  # how many more times; None = until cleared
    reason: str | None = None    # refuse: the semantic reason the operation answers (codes.yaml), e.g. retry

    def applies(self, request: Request, rng: random.Random) -> bool:
        if request.path.startswith(("/_emulator", "/_console")):
            return False
        if self.path and not request.path.startswith(self.path):
            return False
        if self.remaining is not None and self.remaining <= 0:
            return False
        return rng.random() < self.rate


@dataclass
class Outcome:
    """A response and what the transport must do around it (wait, or drop the connection)."""

    response: Response
    delay: float = 0.0
    drop: bool = False


_SOAP_SECRET = re.compile(r"(<(?:[\w.-]+:)?(?:Identificacao|User|Pwd)\b[^>]*>)[^<]*(</(?:[\w.-]+:)?(?:Identificacao|User|Pwd)>)",
                          re.IGNORECASE)
_JSON_SECRET = re.compile(r'("(?:%s)"\s*:\s*)(?:"(?:[^"\\]|\\.)*"?|[^,}\]\s]+)' % "|".join(sorted(SECRET_PARAMS)),
                          re.IGNORECASE)


def _redact(pairs: list[tuple[str, str]], secrets: Redactor) -> list[tuple[str, str]]:
    return [(k, "***" if k.lower() in SECRET_PARAMS else secrets.text(v)) for k, v in pairs]


def _redact_body(body: str, secrets: Redactor) -> str:
    """SOAP carries the credential in the body (wbsapi's Identificacao, ServiceSms's User and Pwd), speedmarket's JSON in user and
    password; then any account secret left (under another name, encoded) goes too."""
    return secrets.text(_JSON_SECRET.sub(r'\1"***"', _SOAP_SECRET.sub(r"\1***\2", body)))


def _account_secrets(core: Core) -> Redactor:
    """Every credential the emulator's accounts have, in every spelling a request or an answer can hold."""
    rows = core.store.db.execute("SELECT login, password, integration_user, token FROM users").fetchall()
    return Redactor.of((value for row in rows for value in row if value), placeholder="***")


@dataclass
class EmulatorApp:
    core: Core
    dialects: list[Any] = field(default_factory=list)
    journal: deque = field(default_factory=lambda: deque(maxlen=10000))
    faults: list[Fault] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(2738))
    closing: bool = False   # the server is stopping: long-lived streams (console events) end
    # Set by the server: delivers every callback due now (bounded); a clock move awaits it before answering.
    deliver_due: Any = None
    control_guard: ControlGuard = field(default_factory=ControlGuard)  # who may call /_emulator/ (guard.py)
    _last_tick: float = 0.0
    _last_request: float = 0.0
    _journal_seq: int = 0
    _formatted: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)  # journal_entries' cache
    _formatted_with: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.dialects:
            from .dialects import build_all

            self.dialects = build_all(self)

    def _dialect_for(self, request: Request) -> Any | None:
        for dialect in self.dialects:
            if dialect.matches(request):
                return dialect
        return None

    def failure(self, request: Request) -> Response:
        """What a request is answered when the emulator could not complete it: its dialect's documented
        retry answer (a group commit that failed, group_commit.py), else a plain 503."""
        dialect = self._dialect_for(request)
        try:
            return dialect.failure(request) if dialect is not None else Response.text("Service Unavailable", 503)
        except Exception:
            log.error("no failure answer for %s %s\n%s", request.method, request.path, traceback.format_exc())
            return Response.text("Service Unavailable", 503)

    def idle_for(self) -> float:
        """Seconds since the last request: the background loop settles lazy messages only when idle."""
        return time.monotonic() - self._last_request

    def handle(self, request: Request) -> Outcome:
        started = time.perf_counter()
        self._last_request = time.monotonic()
        dialect = self._dialect_for(request)
        name = dialect.name if dialect else "-"
        outcome = Outcome(Response.text("Not Found", 404))
        fault = next((f for f in self.faults if f.applies(request, self.rng)), None)
        if fault is not None:
            if fault.remaining is not None:
                fault.remaining -= 1
            if fault.kind == "http500":
                outcome = Outcome(Response.text("Internal Server Error (injected fault)", 500))
            elif fault.kind == "drop":
                outcome = Outcome(Response.text(""), drop=True)
        if fault is not None and fault.kind == "refuse":
            self.core.accounts.refuse_next = fault.reason
        if fault is None or fault.kind in ("latency", "refuse"):
            if len(request.body) > MAX_BODY:
                outcome = Outcome(Response.text("Request Entity Too Large", 413))
            elif dialect is not None:
                try:
                    wall = time.monotonic()
                    if wall - self._last_tick > 0.05 and name not in UNJOURNALED:
                        self._last_tick = wall
                        self.core.tick(settle=False)  # readers settle what they read (Core.settle)
                    outcome = Outcome(dialect.handle(request))
                except Exception:  # the emulator must answer, never crash: log it and answer as documented
                    log.error("unexpected error in %s %s\n%s", request.method, request.path, traceback.format_exc())
                    outcome = Outcome(dialect.failure(request))
            if fault is not None:
                outcome.delay = fault.ms / 1000
        self.core.accounts.refuse_next = None  # a refuse fault never outlives its request
        if name not in UNJOURNALED:
            self._record(request, name, outcome, time.perf_counter() - started)
        return outcome

    def _record(self, request: Request, dialect: str, outcome: Outcome, took: float) -> None:
        """Keep the raw exchange; it is formatted (and its credentials redacted) only when read."""
        self._journal_seq += 1
        # The journal's memory stays bounded (10,000 entries, each cut to JOURNAL_BYTES): a mult of 1000 numbers
        # carries 12 KB in its query, about 30 KB an entry with its parsed copy, so kept whole 5 million
        # messages' requests alone would hold 150 MB (issue 15). The cut query is parsed again when read.
        if len(request.body) > JOURNAL_BYTES or len(request.query_string) > JOURNAL_BYTES:
            request = replace(request, body=request.body[:JOURNAL_BYTES],
                              query_string=request.query_string[:JOURNAL_BYTES], _query=None)
        response = outcome.response
        kept = (response.status, response.body[:JOURNAL_BYTES], outcome.drop)
        self.journal.append((self._journal_seq, self.core.now(), dialect, request, kept, took))

    @property
    def journal_seq(self) -> int:
        """How many exchanges were journaled so far (it only grows; the console's live view watches it)."""
        return self._journal_seq

    def journal_entries(self) -> list[dict[str, Any]]:
        """Every kept exchange, its credentials redacted. Redacting costs a search for every spelling of
        every account secret, so an entry is formatted once and kept until the accounts' secrets change."""
        secrets = _account_secrets(self.core)
        if self._formatted_with != secrets.forms or len(self._formatted) > 2 * (self.journal.maxlen or 10000):
            self._formatted, self._formatted_with = {}, secrets.forms
        out = []
        for entry in self.journal:
            formatted = self._formatted.get(entry[0])
            if formatted is None:
                formatted = self._formatted[entry[0]] = _journal_entry(entry, secrets)
            out.append(dict(formatted))
        return out


def _journal_entry(entry: tuple[Any, ...], secrets: Redactor) -> dict[str, Any]:
    seq, at, dialect, request, (status, response, dropped), took = entry
    body = request.body[:4000].decode("utf-8", "replace")
    return {
        "seq": seq,
        "at": at,
        "dialect": dialect,
        "method": request.method,
        "path": request.path,
        "query": _redact(request.query, secrets),
        "body": _redact_body(body, secrets) if request.content_type in ("application/json", "text/xml",
                                                                        "application/soap+xml")
        else ("<form>" if body else ""),
        "status": status,
        "response": secrets.text(response.decode("utf-8", "replace")),
        "dropped": dropped,
        "ms": round(took * 1000, 3),
    }
