"""painel: the panel API `/painel/api.ashx?action=...` and its short-code twin `/shortcode/api.ashx` (seed 002).

Answers are the real service's JSON envelope `{"status", "data", "msg"}` in that key order (field-notes.md);
an unknown action gets the plain text `0:OPERACAO INVALIDA`. Every status and text comes from the catalog
(codes.yaml painel.*): the envelope `status` is the code before any `/` ("0/bad_credentials" is sent as
status 0), `msg` its text, or null where the text is empty.

A sendsms is a campaign (core/campaigns.py): its id is the answer's `data`; getstatus lists every
destination in request order, the refused ones included as "Numero invalido" (field-notes.md), and
holdsms/releasesms pause and resume the campaign's waiting messages. getstatus and getbalance may be called
once a minute per account ("Esse comando só poderá ser solicitado de 1 em 1 minuto"), on the virtual clock;
what a call within the minute gets is the catalog's inferred `rate_limited` code.

The data_callback record `codigo_campanha;celular;resposta;data_resposta;status;interno_key` travels as
the query parameter `data_callback` of a GET to the campaign's url_callback (callbacks.yaml
painel.data_callback), when a destination's status text changes and when a handset replies.
Choices the seed leaves open (inferred): `interno_key` is the sendsms parameter of that name; a `;` or a
line break inside a record field becomes `,` or a space (the record has no quoting); jobdate without
jobtime means 00:00, jobtime without jobdate today; a schedule already past sends at once.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Callable
from urllib.parse import urlencode

from ..core import Core, Refused
from ..core import messages as m
from ..core.accounts import Principal
from ..core.campaigns import Campaign, Campaigns, Refusal
from ..core.clock import BRT, local
from ..core.messages import Message, Submission
from ..http import Request, Response
from .base import CodeBook
from ..core.numbers import is_digits, is_row_id

NAME = "painel"
PATHS = {"/painel/api.ashx": "long", "/shortcode/api.ashx": "short"}
MACHINE = "painel.message"
RATE_LIMITS = {"getstatus": "painel.getstatus.rate", "getbalance": "painel.getbalance.rate"}
NUMBER_LIMIT = "painel.sendsms.number"
# Core states painel's four status texts do not name, and the one that renders each (inferred: a message
# not sent yet is waiting; one that reached the operator was sent; an operator refusal is "nao cadastrado").
STATE_FOR = {m.QUEUED: m.WAITING, m.PAUSED: m.WAITING, m.HELD: m.WAITING, m.CANCELLED: m.WAITING,
             m.DELIVERED: m.SENT, m.UNDELIVERED: m.SENT, m.EXPIRED: m.SENT, m.ERROR: m.REJECTED,
             m.BLOCKED: m.INVALID}
# Reasons the catalog has no painel code for, and the painel reason that says the same.
REASON_FOR = {"alpha_in_number": "bad_number", "invalid_record": "bad_number", "bad_ddd": "bad_number",
              "prefix_ddd_mismatch": "bad_number", "bad_operator_prefix": "bad_number", "landline": "bad_number",
              "blacklisted": "bad_number", "procon": "bad_number", "number_invalidated_by_dlr": "bad_number",
              "rejected": "bad_number"}
COLUMNS = 13


def _stamp(moment: float) -> str:
    return local(moment).strftime("%Y-%m-%d %H:%M:%S")


def _field(value: str | None) -> str:
    """A data_callback field: the record has no quoting, so its delimiter and line breaks cannot appear."""
    return (value or "").replace(";", ",").replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def _cell(value: str) -> str:
    """A getstatus cell: bare when it can be, else quoted with `"` (a quote inside doubled)."""
    value = value.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    if any(ch in value for ch in ';"'):
        return '"' + value.replace('"', '""') + '"'
    return value


class Painel:
    name = NAME

    def __init__(self, core: Core) -> None:
        self.core = core
        self.codes = CodeBook(core.contracts.catalog, NAME)
        self.campaigns = Campaigns(core)
        catalog = core.contracts.catalog
        self._number_limit = catalog.limit(NUMBER_LIMIT)
        self._rates = {action: catalog.limit(limit_id) for action, limit_id in RATE_LIMITS.items()}
        self._operators = {str(o["code"]): str(o["name"]) for o in core.profile.get("operators", [])}
        self.actions: dict[str, Callable[[Principal, str, dict[str, str]], dict[str, Any]]] = {
            "sendsms": self.sendsms, "getstatus": self.getstatus, "getbalance": self.getbalance,
            "holdsms": self.holdsms, "releasesms": self.releasesms,
        }
        core.renderers[NAME] = self.render_status_callback
        core.renderers[f"{NAME}:mo"] = self.render_mo_callback

    # -- routing --------------------------------------------------------------------------------------
    def matches(self, request: Request) -> bool:
        return request.path.lower().rstrip("/") in PATHS

    def handle(self, request: Request) -> Response:
        params = request.params(lower=True)
        action = params.get("action", "").strip().lower()
        handler = self.actions.get(action)
        if handler is None:
            code = self.codes.for_reason("action", "unknown_method")
            return Response.text(f"{code.code}:{code.text}")
        kind = PATHS[request.path.lower().rstrip("/")]
        try:
            who = self.core.accounts.by_login(params.get("lgn", ""), params.get("pwd", ""))
            return Response.json(handler(who, kind, params))
        except Refused as refusal:
            return Response.json(self.failure_envelope(action, refusal.reason))

    def failure(self, request: Request) -> Response:
        action = request.params(lower=True).get("action", "").strip().lower()
        return Response.json(self.failure_envelope(action if action in self.actions else "sendsms", "processing_error"))

    # -- rendering ------------------------------------------------------------------------------------
    def _code(self, operation: str, reason: str) -> Any:
        return nearest_code(self.codes, operation, reason)

    @staticmethod
    def _envelope(code: Any, data: Any) -> dict[str, Any]:
        return {"status": int(code.code.split("/")[0]), "data": data, "msg": code.text or None}

    def ok(self, operation: str, data: Any) -> dict[str, Any]:
        return self._envelope(self.codes.for_reason(operation, "ok"), data)

    def failure_envelope(self, operation: str, reason: str) -> dict[str, Any]:
        return self._envelope(self._code(operation, reason), None)

    def status_text(self, state: str) -> str:
        core_state = STATE_FOR.get(state, state)
        code = self.codes.state_code(MACHINE, core_state)
        if code is None:
            code = self.codes.state_code(MACHINE, m.WAITING) or ""
        return self.codes.code("message-status", code).text

    def refused_text(self) -> str:
        return self.status_text(m.INVALID)

    def carrier(self, operator: str | None) -> str:
        return self._operators.get(str(operator), "") if operator else ""

    # -- rate limit (once a minute per account) ----------------------------------------------------------
    def _rate(self, who: Principal, action: str) -> None:
        limit = self._rates[action]
        per_minute = limit.max or 1
        window = 60.0 / per_minute
        now = self.core.now()
        with self.core.store.transaction() as db:
            row = db.execute("SELECT at FROM rate_marks WHERE client_id = ? AND action = ?",
                             (who.client_id, f"{NAME}:{action}")).fetchone()
            if row is not None and now - row[0] < window:
                reason = self.codes.code(action, limit.above_code).semantic if limit.above_code else "rate_limited"
                raise Refused(reason, f"{action} again within {window:g} s")
            db.execute("INSERT OR REPLACE INTO rate_marks VALUES (?, ?, ?)", (who.client_id, f"{NAME}:{action}", now))

    # -- actions --------------------------------------------------------------------------------------
    def _schedule(self, params: dict[str, str]) -> float | None:
        date, time_ = params.get("jobdate", "").strip(), params.get("jobtime", "").strip()
        if not date and not time_:
            return None
        try:
            day = datetime.strptime(date, "%d/%m/%Y") if date else local(self.core.now()).replace(tzinfo=None)
            clock = datetime.strptime(time_, "%H:%M") if time_ else datetime(1900, 1, 1)
        except ValueError:
            raise Refused("bad_schedule", f"{date} {time_}") from None
        moment = day.replace(hour=clock.hour, minute=clock.minute, second=0, microsecond=0, tzinfo=BRT).timestamp()
        return moment if moment > self.core.now() else None

    def _number_ok(self, number: str) -> bool:
        low = int(self._number_limit.min or 10)
        high = int(self._number_limit.max or 11)
        return is_digits(number) and low <= len(number) <= high

    def sendsms(self, who: Principal, kind: str, params: dict[str, str]) -> dict[str, Any]:
        text = params.get("msg", "")
        if not text.strip():
            raise Refused("empty_message")
        schedule_at = self._schedule(params)
        numbers = params.get("numbers", "").split(",")
        campaign = self.send_campaign(who, kind, text, numbers, schedule_at=schedule_at,
                                      callback_url=params.get("url_callback", "").strip(),
                                      reference=params.get("interno_key", "").strip())
        return self.ok("sendsms", campaign)

    def send_campaign(self, who: Principal, kind: str, text: str, numbers: list[str], *,
                      schedule_at: float | None = None, callback_url: str = "", reference: str = "") -> int:
        """One campaign to ``numbers`` (blank ones ignored): its id, or Refused when nothing could be sent.
        api.ashx sendsms and ServiceSms.asmx SendSMS both send through here (one core, one campaign table)."""
        if not text.strip():
            raise Refused("empty_message")
        self.core.check_can_send(who, kind)
        numbers = [n.strip() for n in numbers if n.strip()]
        if not numbers:
            raise Refused("bad_number", "no numbers")
        with self.core.store.transaction():
            campaign = self.campaigns.create(who.client_id, NAME, callback_url=callback_url, reference=reference)
        refusals: list[tuple[int, str, str]] = []
        items: list[Submission] = []
        for position, number in enumerate(numbers):
            if not self._number_ok(number):
                refusals.append((position, number, "bad_number"))
                continue
            items.append(Submission(number, text, kind=kind, type=0, schedule_at=schedule_at, campaign=campaign))
        try:
            results = self.core.submit(who, NAME, items) if items else []
        except Refused:
            with self.core.store.transaction():
                self.campaigns.discard(campaign)
            raise
        valid = [i for i in range(len(numbers)) if i not in {p for p, _, _ in refusals}]
        for position, result in zip(valid, results):
            if isinstance(result, Refused):
                refusals.append((position, numbers[position], result.reason))
        with self.core.store.transaction():
            if len(refusals) == len(numbers):
                self.campaigns.discard(campaign)
                raise Refused(refusals[0][2], "every number refused")
            self.campaigns.record_refusals(campaign, refusals)
        return campaign

    def _campaign(self, who: Principal, params: dict[str, str]) -> Campaign:
        return self.find_campaign(who, params.get("id", "").strip())

    def find_campaign(self, who: Principal, raw: str) -> Campaign:
        """The account's campaign of that id, or Refused("not_found")."""
        campaign = self.campaigns.get(who.client_id, int(raw)) if is_row_id(raw) else None
        if campaign is None:
            raise Refused("not_found", raw)
        return campaign

    def _line(self, item: Message | Refusal) -> str:
        return ";".join(_cell(c) for c in self.cells(item))

    def cells(self, item: Message | Refusal) -> list[str]:
        """The 13 getstatus cells of one destination (field-notes.md), unquoted; ServiceSms's DataSet
        columns are some of them."""
        cells = [""] * COLUMNS
        if isinstance(item, Refusal):
            cells[2] = _stamp(item.created_at)
            cells[6] = self.refused_text()
            cells[10] = item.number
            return cells
        cells[0] = str(item.id)
        cells[2] = _stamp(item.created_at)
        sent = item.entered(m.SENT)
        cells[4] = _stamp(sent) if sent is not None else ""
        cells[6] = self.status_text(m.message_level(item))
        cells[9] = self.carrier(item.operator)
        cells[10] = item.number
        cells[12] = item.text
        return cells

    def getstatus(self, who: Principal, kind: str, params: dict[str, str]) -> dict[str, Any]:
        self._rate(who, "getstatus")
        campaign = self._campaign(who, params)
        lines = [self._line(item) for item in self.campaigns.destinations(campaign.id)]
        return self.ok("getstatus", "\r\n".join(lines))

    def getbalance(self, who: Principal, kind: str, params: dict[str, str]) -> dict[str, Any]:
        self._rate(who, "getbalance")
        return self.ok("getbalance", self.core.accounts.balance(who.client_id)[kind])

    def holdsms(self, who: Principal, kind: str, params: dict[str, str]) -> dict[str, Any]:
        self.campaigns.hold(self._campaign(who, params))
        return self.ok("holdsms", None)

    def releasesms(self, who: Principal, kind: str, params: dict[str, str]) -> dict[str, Any]:
        self.campaigns.release(self._campaign(who, params))
        return self.ok("releasesms", None)

    # -- data_callback --------------------------------------------------------------------------------
    def _callback_url(self, campaign: Campaign) -> str | None:
        return campaign.callback_url or self.core.accounts.callback_url(campaign.client_id, NAME, "data_callback")

    def _record(self, campaign: Campaign, number: str, reply: str, at: float, status: str) -> str:
        fields = [str(campaign.id), _field(number), _field(reply), _stamp(at), _field(status),
                  _field(campaign.reference)]
        return ";".join(fields)

    @staticmethod
    def _join(url: str, record: str) -> str:
        return url + ("&" if "?" in url else "?") + urlencode({"data_callback": record})

    def render_status_callback(self, core: Core, msg: Message, state: str, at: float) -> list[tuple[str, str, str, None]]:
        """A data_callback when the destination's status text changes (waiting -> queued changes nothing)."""
        if msg.campaign is None:
            return []
        states = msg.states()
        before = states[-2][0] if len(states) >= 2 else None
        text = self.status_text(m.message_level(msg, state))
        if before is not None and self.status_text(before) == text:
            return []
        campaign = self.campaigns.by_id(msg.campaign)
        url = self._callback_url(campaign) if campaign else None
        if not url or campaign is None:
            return []
        return [("data_callback", self._join(url, self._record(campaign, msg.number, "", at, text)), "GET", None)]

    def render_mo_callback(self, core: Core, mo: dict[str, Any], state: str, at: float) -> list[tuple[str, str, str, None]]:
        original: Message | None = mo["original"]
        if original is None or original.campaign is None:
            return []
        campaign = self.campaigns.by_id(original.campaign)
        url = self._callback_url(campaign) if campaign else None
        if not url or campaign is None:
            return []
        record = self._record(campaign, mo["number"], mo["text"], at, self.status_text(original.state))
        return [("mo", self._join(url, record), "GET", None)]


def nearest_code(codes: CodeBook, operation: str, reason: str) -> Any:
    """The operation's code for ``reason``, else for the painel reason that says the same, else its generic
    failure: painel's tables are short, and every refusal must still get one of them."""
    reason = REASON_FOR.get(reason, reason)
    for candidate in (reason, "processing_error", "not_found"):
        try:
            return codes.for_reason(operation, candidate)
        except KeyError:
            continue
    return next(c for c in codes.catalog.operation_codes(codes.dialect, operation) if not c.success)


def build(app: Any) -> Painel:
    return Painel(app.core)
