"""speedmarket: the REST/JSON API under /webservice-rest/ (seed 001), as the real service behaves (field-notes.md).

Every answer is JSON with HTTP 200, logical errors included (`success: false`, field-notes.md): clients
judge by `success`, never by the HTTP status. Codes and texts come from the catalog (codes.yaml,
operations send-single, send-multiple, mt_id, mt_date, mo_new, mo, balance, method, message-status);
limits from limits.yaml. What the real clients send is accepted as the service accepts it: Basic auth or
`user`/`password` in the query or a form body, send-single as GET or POST, a JSON body without a JSON
Content-Type, unknown parameters (the misspelt `campaing_id`, `utf8=1`) ignored, a `.php` path suffix.

Blacklisted, landline and no-coverage numbers are accepted and then get their negative status, as the
seed's status table implies ("Blocked – Black listed" is a *status*, not a refusal): the core is asked
with ``Submission(block_as_status=True)``.

Choices the seed leaves open (inferred, kept here because they are wire behaviour, not codes):
- credit pools: `type` 0 bills the SMS pool (`long`, balance_1), 1 and 2 "SMS Interativo" the `short`
  pool (balance_2), 3 and 4 voice (balance_3), 5 to 8 WhatsApp (balance_4);
- a schedule in the past is sent at once (000), as a client whose clock runs behind expects;
- the emulator never fetches media: the image/video rules it checks are the URL and its extension, not
  the 1MB/2MB sizes (limits.yaml speedmarket.send-single.image/video), which need the file;
- send-multiple's per-message answers carry the message `id` after `credit` when accepted (the seed's
  sample has no way to track a message otherwise; extra keys do not disturb positional parsers);
- a body that is not a JSON object with a `messages` list reads as an empty array (130); its field names
  are read as documented (lower case), each message's fields over `defaultValues`;
- a caption over the 490 characters gets 070 while limits.yaml names no code for it.
"""
from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import urlencode, urlsplit

from ..core import Core, Refused
from ..core import messages as m
from ..core.accounts import Principal
from ..core.clock import BRT, local
from ..core.inbox import Inbound, Inbox
from ..core.messages import Accepted, Message, Submission
from ..http import Request, Response, is_text, json_text
from .base import CodeBook
from ..core.numbers import is_digits, is_row_id

NAME = "speedmarket"
PREFIX = "/webservice-rest"
MACHINE = "speedmarket.message"
MAINTENANCE_META = "maintenance"   # store meta: comma-separated dialect names (or "all") under maintenance

KIND_BY_TYPE = {0: "long", 1: "short", 2: "short", 3: "voice", 4: "voice",
                5: "whatsapp", 6: "whatsapp", 7: "whatsapp", 8: "whatsapp"}
BALANCE_KEYS = (("balance_1", "long"), ("balance_2", "short"), ("balance_3", "voice"), ("balance_4", "whatsapp"))
SMS_TYPES = frozenset({0, 1, 2})
MEDIA_TYPES = {4: "audio", 6: "image", 7: "audio", 8: "video"}      # content is a URL
CAPTION_TYPES = frozenset({6, 8})                                    # "legenda de imagem ou vídeo"
WHATSAPP_TYPES = frozenset({5, 6, 7, 8})
# The seed names the extension of the image (.jpg) and video (.mp4); limits.yaml ties them to `type`.
EXTENSION_LIMITS = {6: "speedmarket.send-single.image", 8: "speedmarket.send-single.video"}
DOCUMENTED_EXTENSIONS = {6: (".jpg",), 8: (".mp4",)}   # 001 § Envio Individual: "Aceito arquivo .jpg" / ".mp4"

# Core refusals the speedmarket tables have no code for, and the code of theirs that says the same.
REASON_FOR = {
    "alpha_in_number": "bad_number", "invalid_record": "bad_number", "bad_ddd": "bad_number",
    "prefix_ddd_mismatch": "bad_number", "bad_operator_prefix": "bad_number", "landline": "bad_number",
    "number_invalidated_by_dlr": "bad_number", "procon": "rejected", "cost_centre_required": "rejected",
    "mode_not_allowed": "bad_type", "no_privilege": "blocked_account", "too_many_chars": "empty_message",
}
# Core states with no speedmarket status of their own, and the status that renders them.
STATE_FOR = {m.HELD: m.QUEUED}
# What a blocked message (core state `blocked`) is blocked for, by the number's reserved fixture.
BLOCK_REASONS = ("blacklisted", "no_coverage", "no_whatsapp", "content_blocked")
PREPARATION = frozenset({m.WAITING, m.QUEUED, m.PAUSED, m.HELD})   # "não é retornado por Callback"

_TIMEZONE = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def _stamp(moment: float, tz: timezone = BRT) -> str:
    return datetime.fromtimestamp(moment, tz).strftime("%Y-%m-%d %H:%M:%S")


def parse_timezone(raw: str | None) -> timezone | None:
    """`-03:00` (001: "Fuso horário em formato UTC"); None when absent, Refused when malformed."""
    if raw is None or not str(raw).strip():
        return None
    match = _TIMEZONE.match(str(raw).strip())
    if not match:
        raise Refused("bad_timezone", str(raw))
    sign, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3))
    if hours > 14 or minutes > 59 or (hours == 14 and minutes):
        raise Refused("bad_timezone", str(raw))
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if sign == "-" else delta)


def parse_moment(raw: Any, tz: timezone | None, reason: str, *, end_of_day: bool = False) -> float:
    """ISO-8601 with a `T` or a space, an optional offset (which wins over ``tz``), or a bare date."""
    text = str(raw).strip() if raw is not None else ""
    if not text:
        raise Refused(reason, "empty")
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Refused(reason, text) from None
    if len(text) == 10 and end_of_day:
        dt = dt.replace(hour=23, minute=59, second=59)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz or BRT)
    return dt.timestamp()


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip() if value is not None else ""
    if is_digits(text.lstrip("-")):
        return int(text)
    return None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Speedmarket:
    name = NAME

    def __init__(self, core: Core) -> None:
        self.core = core
        self.codes = CodeBook(core.contracts.catalog, NAME)
        self.inbox = Inbox(core, NAME)
        self.methods: dict[str, Callable[[Principal, dict[str, Any], Any], dict[str, Any] | Response]] = {
            "send-single": self.send_single, "send-multiple": self.send_multiple, "mt_id": self.mt_id,
            "mt_date": self.mt_date, "mo_new": self.mo_new, "mo": self.mo, "balance": self.balance,
        }
        catalog = core.contracts.catalog
        self._message_limit = catalog.limit("speedmarket.send-multiple.messages")
        self.codes.bounds(self._message_limit.name)  # both bounds must be in limits.yaml: refuse to start without
        self._type_limit = catalog.limit("speedmarket.send-single.type")
        self._type_low = int(self._type_limit.min) if self._type_limit.min is not None else min(KIND_BY_TYPE)
        self._type_high = int(self._type_limit.max) if self._type_limit.max is not None else max(KIND_BY_TYPE)
        self._caption_limit = catalog.limit("speedmarket.send-single.caption")
        self._mt_days = catalog.limit("speedmarket.mt_id.retention").max or 32
        self._mo_days = catalog.limit("speedmarket.mo.retention").max or 32
        self._machine = catalog.machine(MACHINE) if any(x.name == MACHINE for x in catalog.machines) else None
        self._operators = {str(o["code"]): str(o["name"]) for o in core.profile.get("operators", [])}
        self._mo_status = self._callback_value("speedmarket.mo", "status")
        core.renderers[NAME] = self.render_status_callback
        core.renderers[f"{NAME}:mo"] = self.render_mo_callback

    # -- routing --------------------------------------------------------------------------------------
    def matches(self, request: Request) -> bool:
        path = request.path.lower()
        return path == PREFIX or path.startswith(PREFIX + "/")

    @staticmethod
    def _method(request: Request) -> str:
        name = request.path[len(PREFIX):].strip("/").lower()
        return name[:-4] if name.endswith(".php") else name

    def handle(self, request: Request) -> Response:
        method = self._method(request)
        handler = self.methods.get(method)
        if handler is None:
            return Response.json(self.refusal("method", "unknown_method"))
        try:
            if self._maintenance():
                raise Refused("maintenance")
            body = self._json_body(request)
            params = self._params(request, body)
            who = self._who(request, params)
            if who.blocked:
                raise Refused("blocked_account")
            answer = handler(who, params, body)
            return answer if isinstance(answer, Response) else Response.json(answer)
        except Refused as refusal:
            return Response.json(self.refusal(method, refusal.reason, self._refusal_extra(method, refusal)))

    def failure(self, request: Request) -> Response:
        method = self._method(request)
        return Response.json(self.refusal(method if method in self.methods else "method", "processing_error"))

    # -- codes ----------------------------------------------------------------------------------------
    def code(self, operation: str, reason: str, *also: str) -> tuple[str, str, bool]:
        """(wire responseCode, responseDescription, success) for a reason; `070/duplicate` is sent as 070.

        ``also`` names operations whose table answers when ``operation``'s has no code for the reason
        (send-multiple's per-message codes "are those of send-single", codes.yaml).
        """
        reason = REASON_FOR.get(reason, reason)
        for table in (operation, *also):
            try:
                code = self.codes.for_reason(table, reason)
                break
            except KeyError:
                continue
        else:
            code = self.codes.for_reason(operation, "processing_error")
        return code.code.split("/")[0], code.text, code.success

    def refusal(self, operation: str, reason: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        wire, text, success = self.code(operation, reason)
        out: dict[str, Any] = {"success": success, "responseCode": wire, "responseDescription": text}
        if extra:
            out.update(extra)
        return out

    def _refusal_extra(self, method: str, refusal: Refused) -> dict[str, Any] | None:
        """A refused send keeps the documented shape: `credit` "0" and the `balance` (001 § Envio Individual)."""
        if method not in ("send-single", "send-multiple"):
            return None
        balance = getattr(refusal, "balance", None)
        return {"credit": "0", "balance": str(balance if balance is not None else 0)}

    def _maintenance(self) -> bool:
        value = self.core.store.meta(MAINTENANCE_META) or ""
        names = {v.strip().lower() for v in value.split(",") if v.strip()}
        return NAME in names or "all" in names

    # -- request parsing ------------------------------------------------------------------------------
    @staticmethod
    def _json_body(request: Request) -> Any:
        stripped = request.body.lstrip()
        if not stripped or stripped[:1] not in (b"{", b"["):
            return None
        try:
            return request.json()
        except (ValueError, UnicodeDecodeError):
            return None

    @staticmethod
    def _params(request: Request, body: Any) -> dict[str, Any]:
        """Query string, then a form body, then a JSON object body; the first occurrence of a name wins."""
        params: dict[str, Any] = request.params(lower=True)
        if isinstance(body, dict):
            for key, value in body.items():
                if isinstance(key, str) and not isinstance(value, (dict, list)):
                    params.setdefault(key.lower(), value)
        return params

    def _who(self, request: Request, params: dict[str, Any]) -> Principal:
        header = request.headers.get("authorization", "")
        if header[:6].lower() == "basic ":
            try:
                decoded = base64.b64decode(header[6:].strip() + "==", validate=False).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise Refused("bad_credentials") from None
            user, sep, password = decoded.partition(":")
            if not sep:
                raise Refused("bad_credentials")
            return self.core.accounts.by_login(user, password)
        user, password = params.get("user"), params.get("password")
        if not user or password is None:
            raise Refused("bad_credentials")
        return self.core.accounts.by_login(_as_text(user), _as_text(password))

    # -- sending --------------------------------------------------------------------------------------
    def _balance_of(self, who: Principal, kind: str) -> int:
        return self.core.accounts.balance(who.client_id)[kind]

    def _expired(self, who: Principal) -> bool:
        row = self.core.store.db.execute("SELECT expiration FROM clients WHERE id = ?", (who.client_id,)).fetchone()
        moment = self._moment_of(row[0]) if row else None
        return moment is not None and moment < self.core.now()

    def _item(self, fields: dict[str, Any], who: Principal, seen: set[str], tz_cache: dict[Any, Any]) -> Submission:
        """One message's fields (defaults already merged) as a Submission, or Refused with its reason.

        On send-multiple's hot path (5000 per request): the common JSON types take the short branches.
        """
        raw_type = fields.get("type")
        type_ = raw_type if type(raw_type) is int else _as_int(raw_type)
        if type_ is None or not self._type_low <= type_ <= self._type_high or type_ not in KIND_BY_TYPE:
            raise Refused("bad_type", _as_text(raw_type))
        country = fields.get("country_code")
        if country is not None and country != 55 and _as_text(country).strip() not in ("", "55", "+55"):
            if _as_int(country) is None:
                raise Refused("bad_number", _as_text(country))
            if not who.international:
                raise Refused("international", _as_text(country))
        raw_number = fields.get("number")
        number = (raw_number if type(raw_number) is str else _as_text(raw_number)).strip()
        if not number:
            raise Refused("bad_number", "empty")
        raw_content = fields.get("content")
        content = raw_content if type(raw_content) is str else _as_text(raw_content)
        if (type_ in MEDIA_TYPES or type_ in CAPTION_TYPES or not content.strip()  # plain text: nothing more to check
                or not (content.isascii() or is_text(content))):                 # but that it is text
            self._check_content(type_, content, fields.get("caption"))
        schedule, zone = fields.get("schedule"), fields.get("timezone")
        if isinstance(schedule, (dict, list)):  # no cache key, and no time either: _schedule refuses its text
            schedule = _as_text(schedule)
        if isinstance(zone, (dict, list)):
            zone = _as_text(zone)
        key = (schedule, zone)
        schedule_at = tz_cache[key] if key in tz_cache else tz_cache.setdefault(key, self._schedule(*key))
        campaign_id = fields.get("campaign_id")
        if type(campaign_id) is not str or not campaign_id:
            campaign_id = _as_text(campaign_id) if campaign_id not in (None, "") else None
        if campaign_id is not None and who.duplicate_protection:
            if campaign_id in seen or self.core.store.db.execute(
                    "SELECT 1 FROM messages WHERE client_id = ? AND campaign_id = ? LIMIT 1",
                    (who.client_id, campaign_id)).fetchone():
                raise Refused("duplicate", campaign_id)
            seen.add(campaign_id)
        block = "no_whatsapp" if (type_ in WHATSAPP_TYPES
                                  and self.core.reserved.get(number) == "no_whatsapp") else None
        return Submission(number, content, kind=KIND_BY_TYPE[type_], type=type_, schedule_at=schedule_at,
                          campaign_id=campaign_id, block_as_status=True, block=block)

    def _check_content(self, type_: int, content: str, caption: Any) -> None:
        if not content.strip():
            raise Refused("empty_message")
        if not is_text(content):  # "Empty or invalid message": a lone surrogate is no character
            raise Refused("empty_message", "content holds a lone surrogate")
        media = MEDIA_TYPES.get(type_)
        if media is not None:
            parts = urlsplit(content.strip())
            if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
                raise Refused("empty_message", "content is not a URL")
            allowed = DOCUMENTED_EXTENSIONS.get(type_)
            if allowed and not parts.path.lower().endswith(allowed):
                raise Refused("bad_file_extension", parts.path)
        if type_ in CAPTION_TYPES and caption is not None and self._caption_limit.max is not None:
            if len(_as_text(caption)) > self._caption_limit.max:
                raise Refused(self._limit_reason("send-single", self._caption_limit.above_code, "rejected"))

    def _limit_reason(self, operation: str, code: str | None, fallback: str) -> str:
        if code is None:
            return fallback
        try:
            return self.codes.code(operation, code).semantic
        except KeyError:
            return fallback

    def _schedule(self, raw: Any, tz_raw: Any) -> float | None:
        tz = parse_timezone(_as_text(tz_raw) if tz_raw is not None else None)
        if raw is None or not _as_text(raw).strip():
            return None
        moment = parse_moment(raw, tz, "bad_schedule")
        return moment if moment > self.core.now() else None

    def _submit(self, who: Principal, items: list[Submission]) -> list[Accepted | Refused]:
        if self._expired(who):
            raise Refused("insufficient_credits", "expired")
        results = self.core.submit(who, NAME, items)
        now = self.core.now()
        for result in results:
            if isinstance(result, Accepted) and result.block:
                msg = self.core.message(id=result.id)
                if msg is not None:
                    self.core._enqueue_callbacks(msg, msg.state, now)   # the operator-level status is known at once
        return results

    def _result_code(self, result: Accepted) -> str:
        return "scheduled" if result.scheduled else "ok"

    def send_single(self, who: Principal, params: dict[str, Any], body: Any) -> dict[str, Any]:
        kind = KIND_BY_TYPE.get(_as_int(params.get("type")) or 0, "long")
        try:
            item = self._item(params, who, set(), {})
            result = self._submit(who, [item])[0]
        except Refused as refusal:
            refusal.balance = self._balance_of(who, kind)  # type: ignore[attr-defined]
            raise
        if isinstance(result, Refused):
            result.balance = self._balance_of(who, kind)  # type: ignore[attr-defined]
            raise result
        wire, text, success = self.code("send-single", self._result_code(result))
        return {"success": success, "responseCode": wire, "responseDescription": text, "credit": str(result.cost),
                "balance": str(self._balance_of(who, item.kind)), "id": str(result.id)}

    def send_multiple(self, who: Principal, params: dict[str, Any], body: Any) -> Response:
        if isinstance(body, list):
            body = {"messages": body}
        raw = body.get("messages") if isinstance(body, dict) else None
        messages = raw if isinstance(raw, list) else []
        defaults = body.get("defaultValues") if isinstance(body, dict) else None
        defaults = defaults if isinstance(defaults, dict) else {}
        low, high = int(self._message_limit.min), int(self._message_limit.max)  # type: ignore[arg-type]
        kind = KIND_BY_TYPE.get(_as_int(defaults.get("type")) or 0, "long")
        if len(messages) < low or len(messages) > high:
            reason = self._limit_reason("send-multiple", self._message_limit.below_code if len(messages) < low
                                        else self._message_limit.above_code,
                                        "batch_empty" if len(messages) < low else "batch_too_large")
            error = Refused(reason, str(len(messages)))
            error.balance = self._balance_of(who, kind)  # type: ignore[attr-defined]
            raise error
        results: list[Accepted | Refused | None] = [None] * len(messages)
        items: list[Submission] = []
        where: list[int] = []
        seen: set[str] = set()
        tz_cache: dict[Any, Any] = {}
        for index, message in enumerate(messages):
            try:
                if not isinstance(message, dict):
                    raise Refused("bad_number", "not an object")
                fields = {**defaults, **message} if defaults else message
                items.append(self._item(fields, who, seen, tz_cache))
                where.append(index)
            except Refused as refusal:
                results[index] = refusal
        try:
            accepted = self._submit(who, items) if items else []
        except Refused as refusal:
            refusal.balance = self._balance_of(who, items[0].kind if items else kind)  # type: ignore[attr-defined]
            raise
        for index, result in zip(where, accepted):
            results[index] = result
        rows: list[str] = []
        credit = ok = 0
        templates: dict[str, tuple[str, str, str]] = {}
        refused: dict[str, str] = {}
        for result in results:
            if isinstance(result, Accepted):
                reason = self._result_code(result)
                before, between, after = templates.get(reason) or templates.setdefault(reason, self._row_template(reason))
                rows.append(f"{before}{result.cost}{between}{result.id}{after}")
                credit += result.cost
                ok += 1
            else:
                reason = result.reason if result is not None else "processing_error"
                rows.append(refused.get(reason) or refused.setdefault(reason, self._refused_row(reason)))
        wire, text, success = self.code("send-multiple", "batch_processed")
        balance_kind = items[0].kind if items else kind
        head = json_text({"success": success, "responseCode": wire, "responseDescription": text, "credit": str(credit),
                          "balance": str(self._balance_of(who, balance_kind)), "totalProcessed": str(len(messages)),
                          "totalSuccess": str(ok), "messages": []})
        return Response.json_text(head[:-len("[]}")] + "[" + ",".join(rows) + "]}")

    # Up to 5000 per-message results: each is a template of its code with the credit and id filled in, as
    # json_text would write them (a test holds the two to one output), for 5000 dicts through json.dumps
    # cost more than the rest of the answer.
    def _row_template(self, reason: str) -> tuple[str, str, str]:
        wire, text, success = self.code("send-multiple", reason, "send-single")
        rendered = json_text({"success": success, "responseCode": wire, "responseDescription": text,
                              "credit": "\x00", "id": "\x01"})
        before, rest = rendered.split("\\u0000", 1)
        between, after = rest.split("\\u0001", 1)
        return before, between, after

    def _refused_row(self, reason: str) -> str:
        wire, text, success = self.code("send-multiple", reason, "send-single")
        return json_text({"success": success, "responseCode": wire, "responseDescription": text, "credit": "0"})

    # -- statuses -------------------------------------------------------------------------------------
    def block_reason(self, msg: Message) -> str:
        """Why a blocked message was blocked: its number's reserved fixture, else a landline."""
        fixture = self.core.reserved.get(msg.number)
        if fixture in BLOCK_REASONS:
            return fixture  # type: ignore[return-value]
        return "landline"

    def status_reason(self, msg: Message) -> str:
        if msg.state == m.BLOCKED:
            return self.block_reason(msg)
        if msg.state == m.ERROR and msg.entered(m.SENT) is None:
            return m.REJECTED   # refused before reaching the handset: "Message Rejected by operator" (8)
        if msg.state == m.REJECTED and msg.entered(m.SENT) is not None:
            # after "received to operator" (0) only the handset level follows (0 -> 1, 9, -2): a rejection
            # the operator reports that late is a message the handset did not receive (9)
            return m.UNDELIVERED
        if msg.state == m.SENT and msg.outcome == m.EXPIRED:
            # The operator level has one first status: 0 received, or 7 expired, never 0 then 7 (seed 001,
            # "Status de entrega na operadora"); until the operator lets it expire it is still preparing.
            return m.QUEUED
        return STATE_FOR.get(msg.state, msg.state)

    def status_code(self, msg: Message) -> str:
        reason = self.status_reason(msg)
        try:
            return self.codes.for_reason("message-status", reason).code
        except KeyError:
            if self._machine is not None:
                code = self.codes.state_code(MACHINE, msg.state)
                if code is not None:
                    return code
            return self.codes.for_reason("message-status", m.WAITING).code

    def carrier(self, operator: str | None) -> str:
        return self._operators.get(str(operator), "") if operator else ""

    # -- queries --------------------------------------------------------------------------------------
    def _retained_since(self, days: float) -> float:
        return self.core.now() - days * 86400

    def _type_filter(self, params: dict[str, Any]) -> int | None:
        raw = params.get("type")
        if raw is None or not _as_text(raw).strip():
            return None
        value = _as_int(raw)
        if value is None or value not in KIND_BY_TYPE:
            raise Refused("bad_search", f"type {raw}")
        return value

    def _period(self, params: dict[str, Any]) -> tuple[float, float, timezone]:
        tz = parse_timezone(_as_text(params.get("timezone")) if params.get("timezone") is not None else None) or BRT
        start = parse_moment(params.get("start_date"), tz, "bad_search")
        end = parse_moment(params.get("end_date"), tz, "bad_search", end_of_day=True)
        if end < start:
            raise Refused("bad_search", "end_date before start_date")
        return start, end, tz

    def _search_ok(self, operation: str) -> dict[str, Any]:
        wire, text, success = self.code(operation, "search_ok")
        return {"success": success, "responseCode": wire, "responseDescription": text}

    def _render_mt(self, msg: Message, tz: timezone) -> dict[str, Any]:
        return {"number": msg.number, "sent_date": _stamp(msg.schedule_at or msg.created_at, tz),
                "status": self.status_code(msg), "carrier_name": self.carrier(msg.operator), "id": str(msg.id),
                "campaign_id": msg.campaign_id or "", "type": msg.type}

    def _mt_answer(self, operation: str, found: list[Message], tz: timezone) -> dict[str, Any]:
        out = self._search_ok(operation)
        out["messageCount"] = len(found)
        out["messages"] = [self._render_mt(msg, tz) for msg in found]
        return out

    def mt_id(self, who: Principal, params: dict[str, Any], body: Any) -> dict[str, Any]:
        ids = [v.strip() for v in _as_text(params.get("id")).split(",") if v.strip()]
        campaigns = [v.strip() for v in _as_text(params.get("campaign_id")).split(",") if v.strip()]
        if not ids and not campaigns:
            raise Refused("bad_search", "id or campaign_id")
        if not all(is_row_id(v) for v in ids):
            raise Refused("bad_search", "id")
        where, args = [], []
        if ids:
            where.append(f"id IN ({','.join('?' * len(ids))})")
            args.extend(int(v) for v in ids)
        if campaigns:
            where.append(f"campaign_id IN ({','.join('?' * len(campaigns))})")
            args.extend(campaigns)
        found = self.core.messages(
            f"client_id = ? AND created_at >= ? AND dialect = ? AND ({' OR '.join(where)})",
            (who.client_id, self._retained_since(self._mt_days), NAME, *args))
        return self._mt_answer("mt_id", found, BRT)

    def mt_date(self, who: Principal, params: dict[str, Any], body: Any) -> dict[str, Any]:
        start, end, tz = self._period(params)
        type_ = self._type_filter(params)
        statuses: set[str] | None = None
        raw = _as_text(params.get("status")).strip()
        if raw:
            statuses = {s.strip() for s in raw.split(",") if s.strip()}
            if not all(is_digits(s.lstrip("-")) for s in statuses):
                raise Refused("bad_search", "status")
            statuses = {str(int(s)) for s in statuses}
        where = "client_id = ? AND dialect = ? AND created_at >= ? AND created_at <= ? AND created_at >= ?"
        args: list[Any] = [who.client_id, NAME, start, end, self._retained_since(self._mt_days)]
        if type_ is not None:
            where += " AND type = ?"
            args.append(type_)
        found = self.core.messages(where, args, limit=100_000)
        if statuses is not None:
            found = [msg for msg in found if self.status_code(msg) in statuses]
        return self._mt_answer("mt_date", found, tz)

    def _render_mo(self, item: Inbound, tz: timezone) -> dict[str, Any]:
        return {"id": str(item.id), "number": "55" + item.number, "content": item.text,
                "campaign_id": item.campaign_id or "", "date": _stamp(item.received_at, tz),
                "carrier": self.carrier(item.operator)}

    def _mo_answer(self, operation: str, found: list[Inbound], tz: timezone) -> dict[str, Any]:
        out = self._search_ok(operation)
        out["messageCount"] = len(found)
        out["messages"] = [self._render_mo(item, tz) for item in found]
        return out

    def mo_new(self, who: Principal, params: dict[str, Any], body: Any) -> dict[str, Any]:
        type_ = self._type_filter(params)
        found = self.inbox.unread(who.client_id, since=self._retained_since(self._mo_days), type=type_)
        return self._mo_answer("mo_new", found, BRT)

    def mo(self, who: Principal, params: dict[str, Any], body: Any) -> dict[str, Any]:
        start, end, tz = self._period(params)
        type_ = self._type_filter(params)
        campaigns = [v.strip() for v in _as_text(params.get("campaign_id")).split(",") if v.strip()]
        start = max(start, self._retained_since(self._mo_days))
        found = self.inbox.between(who.client_id, start, end, type=type_, campaign_ids=campaigns or None)
        return self._mo_answer("mo", found, tz)

    # -- balance --------------------------------------------------------------------------------------
    @staticmethod
    def _moment_of(value: Any) -> float | None:
        if value is None or value == "":
            return None
        if isinstance(value, (int, float)):
            return float(value)
        try:
            dt = datetime.fromisoformat(str(value))
        except ValueError:
            return None
        return (dt if dt.tzinfo else dt.replace(tzinfo=BRT)).timestamp()

    def _validity(self, who: Principal) -> tuple[float, float]:
        """The credits' last activation and expiration; an account seeded without them gets them now
        (activation now, expiration a year later at 23:59:59, the shape of the seed's example), kept."""
        db = self.core.store.db
        row = db.execute("SELECT activation, expiration FROM clients WHERE id = ?", (who.client_id,)).fetchone()
        activation, expiration = self._moment_of(row[0]), self._moment_of(row[1])
        if activation is None or expiration is None:
            now = self.core.now()
            activation = activation if activation is not None else now
            if expiration is None:
                end = local(activation) + timedelta(days=365)
                expiration = end.replace(hour=23, minute=59, second=59, microsecond=0).timestamp()
            with self.core.store.transaction():
                db.execute("UPDATE clients SET activation = ?, expiration = ? WHERE id = ?",
                           (activation, expiration, who.client_id))
        return activation, expiration

    def balance(self, who: Principal, params: dict[str, Any], body: Any) -> dict[str, Any]:
        pools = self.core.accounts.balance(who.client_id)
        out = self._search_ok("balance")
        for key, kind in BALANCE_KEYS:
            out[key] = str(pools.get(kind, 0))
        activation, expiration = self._validity(who)
        out["activation"] = _stamp(activation)
        out["expiration"] = _stamp(expiration)
        return out

    # -- callbacks (001 § Callbacks da API) -----------------------------------------------------------
    def _callback_value(self, callback_id: str, param: str) -> str | None:
        try:
            callback = self.core.contracts.catalog.callback(callback_id)
        except KeyError:
            return None
        for p in callback.params:
            if p.name == param and p.values:
                return p.values[0]
        return None

    def _ordered(self, callback_id: str, values: dict[str, str | None]) -> str:
        """The query string in the catalog's parameter order (names it does not list go last)."""
        try:
            order = [p.name for p in self.core.contracts.catalog.callback(callback_id).params]
        except KeyError:
            order = []
        names = [n for n in order if n in values] + [n for n in values if n not in order]
        return urlencode([(n, values[n]) for n in names if values[n] not in (None, "")])

    @staticmethod
    def _join(url: str, query: str) -> str:
        return url + ("&" if "?" in url else "?") + query

    def render_status_callback(self, core: Core, msg: Message, state: str, at: float) -> list[tuple[str, str, str, None]]:
        if state in PREPARATION or self.status_reason(msg) in PREPARATION:
            return []
        url = core.accounts.callback_url(msg.client_id, NAME, "status")
        if not url:
            return []
        values = {"campaign_id": msg.campaign_id, "id": str(msg.id), "status": self.status_code(msg),
                  "date": _stamp(at), "carrier": self.carrier(msg.operator), "number": "55" + msg.number}
        return [("status", self._join(url, self._ordered("speedmarket.status", values)), "GET", None)]

    def render_mo_callback(self, core: Core, mo: dict[str, Any], state: str, at: float) -> list[tuple[str, str, str, None]]:
        url = core.accounts.callback_url(mo["client_id"], NAME, "mo")
        if not url or self._mo_status is None:
            return []
        original: Message | None = mo["original"]
        values = {"number": "55" + mo["number"], "content": mo["text"],
                  "campaign_id": original.campaign_id if original else None,
                  "id": str(original.id) if original else str(mo["id"]), "status": self._mo_status,
                  "date": _stamp(at), "carrier": self.carrier(original.operator) if original else None}
        return [("mo", self._join(url, self._ordered("speedmarket.mo", values)), "GET", None)]


def build(app: Any) -> Speedmarket:
    return Speedmarket(app.core)
