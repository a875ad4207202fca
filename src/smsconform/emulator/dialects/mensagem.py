"""mensagem: the HTTP GET API on port 2738 (`/sms/<function>`), semicolon and pipe text answers (seed 003)."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Callable
from urllib.parse import urlencode

from ..core import Core, Refused
from ..core import messages as m
from ..core.accounts import Principal
from ..core.clock import local, parse_local
from ..core.messages import KIND_BY_F, Accepted, Message, Submission
from ..http import Request, Response
from .base import CodeBook
from ..core.numbers import is_digits, is_row_id

NAME = "mensagem"
PREFIX = "/sms/"
LOGIN_ALPHABET = re.compile(r"^[0-9A-Za-z_\-.@]+$")
EMAILS = re.compile(r"[^;|@\s]+@[^;|@\s]+(\|[^;|@\s]+@[^;|@\s]+)*")  # crctn joins them by pipes
EXTERNAL_ID = re.compile(r"[0-9A-Za-z-]+")  # "Campo Alpha numérico", and the '-' of the UUID it returns as
MACHINE = "mensagem.message"
# Message-level status: what happens at the handset (DLR) is reported by the DLR call-back, not here.
MESSAGE_LEVEL = {"delivered": "sent", "undelivered": "sent", "expired": "sent", "paused": "waiting",
                 "blocked": "invalid", "rejected": "error"}


def _stamp(moment: float, millis: bool = True) -> str:
    dt = local(moment)
    text = dt.strftime("%Y-%m-%d %H:%M:%S")
    return f"{text}.{dt.microsecond // 1000:03d}" if millis else text


class Mensagem:
    name = NAME

    def __init__(self, core: Core) -> None:
        self.core = core
        self.codes = CodeBook(core.contracts.catalog, NAME)
        self.functions: dict[str, Callable[[dict[str, str]], str]] = {
            "send": self.send, "mult": self.mult, "stat": self.out_of_date, "stam": self.out_of_date,
            "recv": self.out_of_date, "cacl": self.cacl, "crdtf": self.crdtf, "cnnvl": self.cnnvl,
            "cnus": self.cnus, "cadus": self.cadus, "altus": self.altus, "crctn": self.crctn,
            "cict": self.cict, "cact": self.cact, "oper": self.oper,
        }
        core.renderers[NAME] = self.render_callbacks
        core.renderers[f"{NAME}:mo"] = self.render_mo

    # -- routing --------------------------------------------------------------------------------------
    def matches(self, request: Request) -> bool:
        return request.path.lower().startswith(PREFIX)

    def handle(self, request: Request) -> Response:
        function = request.path[len(PREFIX):].strip("/").lower()
        handler = self.functions.get(function)
        if handler is None:
            return Response.text(self.error("send", "unknown_function"), 404)
        params = request.params(lower=True)
        try:
            return Response.text(handler(params))
        except Refused as refusal:
            return Response.text(self.error(function, refusal.reason))

    def failure(self, request: Request) -> Response:
        """The documented 'try again' answer; it must not fail itself, whatever the operation documents."""
        function = request.path[len(PREFIX):].strip("/").lower()
        try:
            return Response.text(self.error(function if function in self.functions else "send", "retry"))
        except KeyError:
            return Response.text(self.error("send", "retry"))

    # -- rendering ------------------------------------------------------------------------------------
    def error(self, operation: str, reason: str) -> str:
        code = self.codes.for_reason(operation, reason)
        return f"{code.code};{code.text}"

    def _who(self, params: dict[str, str]) -> Principal:
        return self.core.accounts.by_integration_user(params.get("u", ""))

    def _status(self, msg: Message) -> tuple[str, str]:
        state = MESSAGE_LEVEL.get(m.message_level(msg), m.message_level(msg))
        code = self.codes.state_code(MACHINE, state) or self.codes.state_code(MACHINE, "waiting") or "0"
        return code, self.codes.code("message-status", code).text

    # -- send and mult --------------------------------------------------------------------------------
    def _common(self, operation: str, params: dict[str, str], who: Principal) -> dict[str, Any]:
        """What send and mult share: type, schedule, cost centre, file, priority."""
        f = params.get("f", "0").strip() or "0"
        if not is_digits(f) or int(f) not in KIND_BY_F:
            raise Refused("mode_not_allowed", f)
        kind = KIND_BY_F[int(f)]
        schedule_at = None
        if params.get("d", "").strip():
            try:
                schedule_at = parse_local(params["d"].strip(), "%Y-%m-%d %H:%M:%S")
            except ValueError:
                raise Refused("invalid_record", "d") from None
        centre_param = "c" if operation == "send" else "t"
        centre = params.get(centre_param, "").strip()
        cost_centre = None
        if centre:
            if not is_row_id(centre) or not self.core.accounts.cost_centre_active(who.client_id, int(centre)):
                raise Refused("invalid_record", centre_param)
            cost_centre = int(centre)
        return {"kind": kind, "type": int(f), "schedule_at": schedule_at, "cost_centre": cost_centre,
                "file": params.get("arq") or None, "priority": params.get("fsd") == "1",
                "cleanup": params.get("z") == "1"}

    def _text(self, operation: str, text: str | None) -> str:
        text = (text or "").replace("'", " ")
        if not text.strip():
            raise Refused("empty_message")
        limit = self.codes.limit(operation, "m", "chars")
        if limit and limit.max is not None and len(text) > limit.max:
            raise Refused("too_many_chars", str(len(text)))
        return text

    def send(self, params: dict[str, str]) -> str:
        who = self._who(params)
        common = self._common("send", params, who)
        self.core.check_can_send(who, common["kind"])
        text = self._text("send", params.get("m"))
        external = params.get("id") or None
        id_limit = self.codes.limit("send", "id", "chars")
        if external and id_limit and id_limit.max is not None and len(external) > id_limit.max:
            raise Refused("invalid_record", "id")
        if external and not EXTERNAL_ID.fullmatch(external):
            raise Refused("invalid_record", "id: letters, digits and '-' only")
        result = self.core.submit(who, NAME, [Submission(params.get("n", ""), text, external_id=external, **common)])[0]
        if isinstance(result, Refused):
            raise result
        if result.state == "held":
            return self.error("send", "antifraud_hold")
        return f"{self.codes.for_reason('send', 'ok').code};{result.hash}"

    def mult(self, params: dict[str, str]) -> str:
        who = self._who(params)
        layout = params.get("l", "0").strip() or "0"
        if layout not in ("0", "1"):
            raise Refused("bad_layout", layout)
        common = self._common("mult", params, who)
        self.core.check_can_send(who, common["kind"])
        if layout == "0":
            raw = params.get("n", "")
            if "|" in raw:
                raise Refused("bad_inner_delimiter")
            numbers = [n.strip() for n in raw.split(";") if n.strip()]
            self._count(numbers, "n")
            text = self._text("mult", params.get("m"))
            items = [Submission(n, text, **common) for n in numbers]
            pre: dict[int, Refused] = {}
        else:
            records = [r for r in params.get("c", "").split(";") if r.strip()]
            self._count(records, "c")
            items, pre = [], {}
            for index, record in enumerate(records):
                fields = record.split("|")
                number = fields[0].strip()
                try:
                    if len(fields) not in (2, 3):
                        raise Refused("bad_inner_delimiter")
                    external = fields[2].strip() if len(fields) == 3 else None
                    if external is not None and not is_digits(external):
                        raise Refused("invalid_record", "id")
                    text = self._text("mult", fields[1])
                except Refused as refusal:
                    pre[index] = refusal
                    text, external = "", None
                items.append(Submission(number, text, external_id=external, **common))
        valid = [(i, item) for i, item in enumerate(items) if i not in pre]
        accepted = self.core.submit(who, NAME, [item for _, item in valid]) if valid else []
        results: list[Accepted | Refused] = [pre.get(i) for i in range(len(items))]  # type: ignore[misc]
        for (i, _), result in zip(valid, accepted):
            results[i] = result
        lines = []
        for item, result in zip(items, results):
            number = item.number.strip()
            if isinstance(result, Refused):
                lines.append(f"{self.error('mult', result.reason)};{number}")
            elif result.state == "held":
                lines.append(f"{self.error('mult', 'antifraud_hold')};{number}")
            else:
                lines.append(f"{self.codes.for_reason('mult', 'ok').code};{result.hash};{result.number}")
        return "\n".join(lines)

    def _count(self, entries: list[str], param: str) -> None:
        """mult's 2..1000 destinations: numbers in `n` (layout 0) or records in `c` (layout 1)."""
        limit = self.codes.limit("mult", param, "items")
        if limit is None or limit.min is None or limit.max is None:
            raise KeyError(f"limits.yaml has no bounds for mensagem.mult {param}")
        if len(entries) < limit.min:
            raise Refused("too_few_numbers", str(len(entries)))
        if len(entries) > limit.max:
            raise Refused("too_many_numbers", str(len(entries)))

    # -- status functions -----------------------------------------------------------------------------
    def out_of_date(self, params: dict[str, str]) -> str:
        """stat, stam and recv: discontinued on 29/02/2020; the system answers OUT-OF-DATE to all."""
        return "OUT-OF-DATE"

    def cacl(self, params: dict[str, str]) -> str:
        who = self._who(params)
        hashes = [h.strip() for h in params.get("h", "").split(";") if h.strip()]
        if not hashes:
            raise Refused("bad_layout", "h")
        now = _stamp(self.core.now())
        lines = []
        with self.core.store.transaction():
            for digest in hashes:
                msg = self.core.cancel(who, digest)
                if msg is None:
                    text = self.codes.code("message-status", "255").text
                    lines.append(f"{digest};255;{text};;;{now}")
                    continue
                code, text = self._status(msg)
                lines.append(f"{digest};{code};{text};{msg.external_id or ''};{msg.number};{now}")
        return "\n".join(lines)

    # -- account functions ----------------------------------------------------------------------------
    def crdtf(self, params: dict[str, str]) -> str:
        who = self._who(params)
        mode = "1" if who.prepaid else "0"
        ok = self.codes.for_reason("crdtf", "ok").code
        if who.distribution == 0:
            bal = self.core.accounts.balance(who.client_id)
            return f"{ok};{mode};0;0;{bal['long']};{bal['flash']};{bal['short']};"
        prefix = "user:" if who.distribution == 1 else "cc:"
        pools: dict[str, dict[str, int]] = {}
        for scope, kind, amount in self.core.accounts.credit_rows(who.client_id):
            if scope.startswith(prefix):
                pools.setdefault(scope[len(prefix):], {})[kind] = amount
        return "\n".join(
            f"{ok};{mode};{who.distribution};{key};{p.get('long', 0)};{p.get('flash', 0)};{p.get('short', 0)};"
            for key, p in sorted(pools.items(), key=lambda kv: int(kv[0]))
        )

    def cnnvl(self, params: dict[str, str]) -> str:
        who = self._who(params)
        ok = self.codes.for_reason("cnnvl", "ok").code
        return "\n".join(f"{ok};{level};{name};" for level, name in self.core.accounts.levels(who.client_id))

    def cnus(self, params: dict[str, str]) -> str:
        who = self._who(params)
        ok = self.codes.for_reason("cnus", "ok").code
        return "\n".join(
            f"{ok};{u['id']};{u['active']};{u['login']};{u['name']};{u['level']};"
            for u in self.core.accounts.users(who.client_id)
        )

    def _centres(self, raw: str | None) -> list[int]:
        ids = [c.strip() for c in (raw or "").split("|") if c.strip()]
        if not all(is_row_id(c) for c in ids):
            raise Refused("invalid_record", "c")
        return [int(c) for c in ids]

    def cadus(self, params: dict[str, str]) -> str:
        who = self._who(params)
        name, login, password = params.get("n", "").strip(), params.get("d", "").strip(), params.get("p", "")
        if not login or not LOGIN_ALPHABET.match(login):
            raise Refused("bad_login", login)
        if not name:
            raise Refused("bad_name")
        if not password:
            raise Refused("bad_password")
        level = params.get("t", "0").strip() or "0"
        if not is_row_id(level.lstrip("-")):
            raise Refused("bad_level", level)
        with self.core.store.transaction():
            user_id = self.core.accounts.add_user(who.client_id, name, login, password, int(level),
                                                  self._centres(params.get("c")))
        ok = self.codes.for_reason("cadus", "ok")
        return f"{ok.code};{user_id};{ok.text}"

    def altus(self, params: dict[str, str]) -> str:
        who = self._who(params)
        user_id = params.get("id", "").strip()
        if not is_row_id(user_id):
            raise Refused("user_not_found", user_id)
        changes: dict[str, Any] = {}
        if "n" in params:
            if not params["n"].strip():
                raise Refused("bad_name")
            changes["name"] = params["n"].strip()
        if "s" in params:
            if params["s"].strip() not in ("0", "1"):
                raise Refused("bad_situation", params["s"])
            changes["active"] = int(params["s"])
        if params.get("p"):
            changes["password"] = params["p"]
        if "t" in params:
            if not is_row_id(params["t"].strip()):
                raise Refused("bad_level", params["t"])
            changes["level"] = int(params["t"])
        if "c" in params:
            changes["cost_centres"] = self._centres(params["c"])
        with self.core.store.transaction():
            self.core.accounts.update_user(who.client_id, int(user_id), changes)
        ok = self.codes.for_reason("altus", "ok")
        return f"{ok.code};{ok.text}"

    def crctn(self, params: dict[str, str]) -> str:
        who = self._who(params)
        ok = self.codes.for_reason("crctn", "ok").code
        return "\n".join(
            f"{ok};{c['id']};{c['name']};{c['active']};{c['emails']};"
            for c in self.core.accounts.cost_centres(who.client_id)
        )

    def _checked(self, operation: str, param: str, value: str) -> str:
        limit = self.codes.limit(operation, param, "chars")
        if limit and limit.max is not None and len(value) > limit.max:
            raise Refused("retry", f"{param}: {len(value)} characters cannot be stored")
        return value

    def _emails(self, operation: str, raw: str) -> str:
        emails = self._checked(operation, "e", raw.strip())
        if emails and not EMAILS.fullmatch(emails):
            raise Refused("retry", "e: e-mail addresses joined by '|' only")
        return emails

    def cict(self, params: dict[str, str]) -> str:
        who = self._who(params)
        name = self._checked("cict", "d", params.get("d", "").strip())
        if not name:
            raise Refused("retry", "an empty name cannot be stored")
        emails = self._emails("cict", params.get("e", ""))
        with self.core.store.transaction():
            centre = self.core.accounts.add_cost_centre(who.client_id, name, emails)
        return f"{centre};{self.codes.for_reason('cict', 'ok').text}"

    def cact(self, params: dict[str, str]) -> str:
        who = self._who(params)
        centre = params.get("id", "").strip()
        if not is_row_id(centre):
            raise Refused("not_found", centre)
        changes: dict[str, Any] = {}
        if "s" in params:
            if params["s"].strip() not in ("0", "1"):
                raise Refused("invalid_record", "s")
            changes["active"] = int(params["s"])
        if "e" in params:
            changes["emails"] = self._emails("cact", params["e"])
        with self.core.store.transaction():
            self.core.accounts.update_cost_centre(who.client_id, int(centre), changes)
        ok = self.codes.for_reason("cact", "ok")
        return f"{ok.code};{ok.text}"

    def oper(self, params: dict[str, str]) -> str:
        self._who(params)
        header = self.core.profile.get("oper_header", "CODIGO DA OPERADORA;NOME DA OPERADORA")
        rows = [f"{o['code']};{o['name']}" for o in self.core.profile.get("operators", [])]
        return "\n".join([header, *rows])

    # -- callbacks (003 § Cadastro de Call-back) ------------------------------------------------------
    def _url(self, base: str, params: dict[str, str]) -> str:
        return base + ("&" if "?" in base else "?") + urlencode(params)

    def render_callbacks(self, core: Core, msg: Message, state: str, at: float) -> list[tuple[str, str, str, None]]:
        out = []
        for kind, operation, type_code in (("status", "callback-status", "2"), ("dlr", "callback-dlr", "3")):
            url = core.accounts.callback_url(msg.client_id, NAME, kind)
            if not url or (kind == "status" and m.message_level(msg, state) != state):
                continue   # a failure after sending is the DLR's: the status call-back said ENVIADO already
            try:
                code = self.codes.catalog.by_reason(NAME, operation, state).code
            except KeyError:
                continue
            params = {"msisdn": msg.number, "status": code, "date": _stamp(at, millis=False),
                      "type": type_code, "md5": msg.hash}
            if msg.external_id:
                params["uuid"] = msg.external_id
            out.append((kind, self._url(url, params), "GET", None))
        return out

    def render_mo(self, core: Core, mo: dict[str, Any], state: str, at: float) -> list[tuple[str, str, str, None]]:
        url = core.accounts.callback_url(mo["client_id"], NAME, "mo")
        if not url:
            return []
        original: Message | None = mo["original"]
        params = {"msisdn": mo["number"], "message": mo["text"], "date": _stamp(at, millis=False), "type": "1"}
        if original is not None:
            params["md5"] = original.hash
            if original.external_id:
                params["uuid"] = original.external_id
        return [("mo", self._url(url, params), "GET", None)]


def build(app: Any) -> Mensagem:
    return Mensagem(app.core)
