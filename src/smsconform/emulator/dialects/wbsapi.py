"""wbsapi: the provider's SOAP web service `wbsapi.asmx` v1.20 (seed 003 § API – WEBSERVICE).

The same platform as the mensagem HTTP API, so the same core, accounts, credits and messages: a message
sent here is cancelled by `/sms/cacl` and the other way round. It answers as an ASP.NET .asmx service
does (soap.py: SOAP 1.1 and 1.2 at `/wbsapi.asmx`, `?WSDL`, the operations pages, SOAP Faults for what
the SOAP stack cannot read), because that is what the seed's pages are (the operations list, "To test the
operation using the HTTP POST protocol"); and, as those pages offer, `POST /wbsapi.asmx/<operation>` with
a form body. Everything the service understands gets its documented code in the result.

Every result is one string, formatted as the mensagem API formats the same answer (the WSDL's
annotations name the grammar: `mensagem#send_answer`, `#mult_answer`, `#recv_answer`, `#cacl_answer`).

Callbacks: messages are submitted under the dialect name "mensagem", not "wbsapi". The seed documents one
call-back registration for the platform (003 § Cadastro de Call-back), none for the web service, so a
message sent by SOAP reports its status, DLR and replies through the account's mensagem call-backs, as the
same message sent by HTTP would; no second callback format is invented for wbsapi.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any, Callable
from xml.sax.saxutils import escape

from ...contracts.yamlfile import load_yaml
from ..core import Core, Refused
from ..core import messages as m
from ..core.accounts import Principal
from ..core.clock import BRT, local
from ..core.inbox import Inbox
from ..core.messages import KIND_BY_F, Accepted, Message, Submission
from ..http import Request, Response, parse_pairs
from .base import CodeBook
from .mensagem import MESSAGE_LEVEL, _stamp
from .soap import AsmxService, Operation, Params, ServiceDescription, SoapFault, element_params, xml_text
from ..core.numbers import is_digits

NAME = "wbsapi"
PATH = "/wbsapi.asmx"
SUBMIT_AS = "mensagem"  # see the module docstring: the platform's call-backs are mensagem's
MACHINE = "wbsapi.message"

# A protocol of a message the platform does not know: cacl's 255, the same platform's answer for a hash it
# cannot find (wbsapi's status and cancel tables print none; inferred).
NOT_FOUND = ("mensagem", "message-status", "255")
_HASH = re.compile(r"^[0-9a-fA-F]{32}$")


# -- the dialect ------------------------------------------------------------------------------------

class Wbsapi(AsmxService):
    name = NAME

    def __init__(self, core: Core) -> None:
        self.core = core
        self.codes = CodeBook(core.contracts.catalog, NAME)
        super().__init__(ServiceDescription(core.contracts.wsdl_path.read_bytes()))
        self.handlers: dict[str, Callable[[Params], str]] = {
            "sendUnique": self.send_unique, "sendMultiple": self.send_multiple, "inBox": self.inbox,
            "status": self.status, "cancel": self.cancel,
        }
        missing = set(self.description.operations) ^ set(self.handlers)
        if missing:
            raise RuntimeError(f"wbsapi.wsdl and the dialect disagree on operations: {sorted(missing)}")
        self._code = lru_cache(maxsize=256)(self._lookup)

    # -- routing --------------------------------------------------------------------------------------
    def matches(self, request: Request) -> bool:
        path = request.path.lower()
        return path == PATH or path.startswith(PATH + "/")

    def handle(self, request: Request) -> Response:
        rest = request.path[len(PATH):].strip("/")
        if request.method in ("GET", "HEAD"):
            return self._get(request, rest)
        if request.method != "POST":
            response = Response.text("Method Not Allowed", 405)
            response.headers.append(("allow", "GET, POST"))
            return response
        if rest:
            return self._http_post(request, rest)
        return self.soap(request)

    # -- GET: WSDL and pages --------------------------------------------------------------------------
    def _get(self, request: Request, rest: str) -> Response:
        keys = {k.lower(): v for k, v in request.query}
        if not rest and "wsdl" in keys:
            return self.wsdl(request, PATH)
        if not rest and keys.get("op") in self.description.operations:
            return self.page(self.description.operations[keys["op"]], PATH)
        if not rest:
            return self.page(None, PATH)
        return Response.text("Request format is unrecognized for URL unexpectedly ending in "
                             f"'/{rest}'.", 500)

    # -- the HTTP POST protocol of the test pages -----------------------------------------------------
    def _http_post(self, request: Request, operation: str) -> Response:
        op = self.description.by_lower.get(operation.lower())
        if op is None:
            return Response.text(f"System.InvalidOperationException: {operation} Web Service method name "
                                 "is not valid.", 500)
        params: Params = {k: v for k, v in reversed(parse_pairs(request.body) + request.query)}
        try:
            result = self._invoke(op, params)
        except SoapFault as fault:
            return Response.text(f"System.InvalidOperationException: {fault.message}", 500)
        ns = escape(self.description.namespace, {'"': "&quot;"})
        text = f'<?xml version="1.0" encoding="utf-8"?>\n<string xmlns="{ns}">{xml_text(result)}</string>'
        return Response.xml(text)

    # -- SOAP ------------------------------------------------------------------------------------------
    def run(self, op: Operation, element: Any, context: Any) -> str:
        return xml_text(self._invoke(op, element_params(element)))

    def _invoke(self, op: Operation, params: Params) -> str:
        """Run one operation; a refusal is rendered as the operation's `<code>;<TEXT>` line."""
        try:
            return self.handlers[op.name](params)
        except Refused as refusal:
            return self.error(op.name, refusal.reason)

    # -- codes ----------------------------------------------------------------------------------------
    def _lookup(self, operation: str, reason: str) -> tuple[str, str]:
        code = self.codes.for_reason(operation, reason)  # substitutes.yaml, or KeyError -> Server fault
        return code.code, code.text

    def error(self, operation: str, reason: str) -> str:
        code, text = self._code(operation, reason)
        return f"{code};{text}"

    def _who(self, params: Params) -> Principal:
        return self.core.accounts.by_integration_user(params.get("Identificacao") or "")

    # -- typed parameters (what .asmx deserializes; a value not of its XSD type is a Fault) -----------
    @staticmethod
    def _int(params: Params, name: str, *, low: int | None = None, high: int | None = None) -> int | None:
        raw = params.get(name)
        if raw is None or not raw.strip():
            return None
        try:
            value = int(raw.strip())
        except ValueError:
            raise SoapFault("client", f"Server was unable to read request: {name} {raw!r} is not an integer.") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise SoapFault("client", f"Server was unable to read request: {name} {value} is out of range.")
        return value

    @staticmethod
    def _datetime(params: Params, name: str) -> float | None:
        raw = params.get(name)
        if raw is None or not raw.strip():
            return None
        return _moment(raw.strip(), name)

    @cached_property
    def _idexterno_range(self) -> tuple[int, int]:
        return self.codes.bounds("wbsapi.sendUnique.IdExterno")

    @cached_property
    def _text_limits(self) -> dict[str, int]:
        """Mensagem's maximum length per TipoMensagem, from limits.yaml (its `set` names the type)."""
        limits: dict[str, int] = {}
        raw = load_yaml(self.core.contracts.root / "catalog" / "limits.yaml")[0]
        for entry in raw.get("entries", []):
            if (entry.get("dialect") == NAME and "sendUnique" in entry.get("operations", ())
                    and entry.get("param") == "Mensagem" and entry.get("unit") == "chars"
                    and entry.get("max") is not None):
                tipo = str((entry.get("set") or {}).get("TipoMensagem", "0"))
                limits[tipo] = int(entry["max"])
        return limits

    def _text(self, text: str | None, tipo: int, *, pipes_allowed: bool = True) -> str:
        """The message as stored: blank is refused, the single quote becomes a space (003 § LEIA ANTES DE
        INICIAR; inferred for wbsapi: the reason given, old handsets, holds for every interface), and the
        TipoMensagem's limit gives 84 (600 for 0 or 1, 140 for 2: "Mensagem com até 600 caracteres para
        tipo 0 ou 1 e até 140 caracteres tipo 2")."""
        text = (text or "").replace("'", " ")
        if not text.strip():
            raise Refused("empty_message")
        if not pipes_allowed and "|" in text:
            raise Refused("bad_inner_delimiter")
        limits = self._text_limits
        limit = limits.get(str(tipo), limits.get("0"))
        if limit is not None and len(text) > limit:
            raise Refused("too_many_chars", str(len(text)))
        return text

    def _tipo(self, value: int | None) -> int:
        tipo = 0 if value is None else value
        if tipo not in KIND_BY_F or tipo > 2:  # TipoMensagem 0, 1, 2 (wbsapi has no 4: contradictions.yaml)
            raise Refused("mode_not_allowed", str(tipo))
        return tipo

    def _centre(self, who: Principal, centre: int | None) -> int | None:
        if centre is not None and not self.core.accounts.cost_centre_active(who.client_id, centre):
            raise Refused("invalid_record", "CentroCustos")
        return centre

    # -- sendUnique -----------------------------------------------------------------------------------
    def send_unique(self, params: Params) -> str:
        """One message. The number is validated here, not by the schema, so 91/95/96 come back as codes;
        an empty Telefone is 87 and a list of numbers 88 (inferred: the only ways one number can be too
        few or too many)."""
        tipo_raw = self._int(params, "TipoMensagem")
        centre = self._int(params, "CentroCustos")
        low, high = self._idexterno_range
        external = self._int(params, "IdExterno", low=low, high=high)
        schedule_at = self._datetime(params, "Agenda")
        who = self._who(params)
        tipo = self._tipo(tipo_raw)
        self.core.check_can_send(who, KIND_BY_F[tipo])
        number = (params.get("Telefone") or "").strip()
        if not number:
            raise Refused("too_few_numbers")
        if len([n for n in re.split(r"[;,|]", number) if n.strip()]) > 1:
            raise Refused("too_many_numbers")
        text = self._text(params.get("Mensagem"), tipo, pipes_allowed=False)
        item = Submission(number, text, kind=KIND_BY_F[tipo], type=tipo, schedule_at=schedule_at,
                          external_id=None if external is None else str(external),
                          cost_centre=self._centre(who, centre))
        result = self.core.submit(who, SUBMIT_AS, [item])[0]
        if isinstance(result, Refused):
            raise result
        return f"{self._code('sendUnique', 'ok')[0]};{result.hash}"

    # -- sendMultiple ---------------------------------------------------------------------------------
    def send_multiple(self, params: Params) -> str:
        """Records `number|message[|id externo[|agenda[|tipo[|centro]]]]` joined by ";" (wbsapi#conteudo),
        1..1000; one answer line per record in input order (mensagem#mult_answer), or one request line."""
        who = self._who(params)
        records = [r for r in (params.get("Conteudo") or "").split(";") if r.strip()]
        low, high = self.codes.bounds("wbsapi.sendMultiple.records")
        if len(records) < low:
            raise Refused("too_few_numbers", str(len(records)))
        if len(records) > high:
            raise Refused("too_many_numbers", str(len(records)))
        items: list[Submission] = []
        pre: dict[int, Refused] = {}
        for index, record in enumerate(records):
            fields = record.split("|")
            try:
                items.append(self._record(who, fields))
            except Refused as refusal:
                pre[index] = refusal
                items.append(Submission(fields[0].strip(), ""))
        valid = [(i, item) for i, item in enumerate(items) if i not in pre]
        accepted = self.core.submit(who, SUBMIT_AS, [item for _, item in valid]) if valid else []
        results: dict[int, Accepted | Refused] = dict(pre)
        for (i, _), result in zip(valid, accepted):
            results[i] = result
        ok = self._code("sendMultiple", "ok")[0]
        lines = []
        for i, item in enumerate(items):
            result = results[i]
            if isinstance(result, Refused):
                lines.append(f"{self.error('sendMultiple', result.reason)};{item.number}")
            else:
                lines.append(f"{ok};{result.hash};{result.number}")
        return "\n".join(lines)

    def _record(self, who: Principal, fields: list[str]) -> Submission:
        if not 2 <= len(fields) <= 6:
            raise Refused("bad_inner_delimiter", str(len(fields)))
        fields = [f.strip() for f in fields[:1]] + fields[1:2] + [f.strip() for f in fields[2:]]
        fields += [""] * (6 - len(fields))
        number, message, external, agenda, tipo_raw, centre_raw = fields
        if tipo_raw and not is_digits(tipo_raw):
            raise Refused("invalid_record", "TipoMensagem")
        tipo = self._tipo(int(tipo_raw) if tipo_raw else None)
        text = self._text(message, tipo)
        low, high = self._idexterno_range
        if external and not (is_digits(external) and low <= int(external) <= high):
            raise Refused("invalid_record", "Id externo")
        schedule_at = None
        if agenda:
            try:
                schedule_at = _moment(agenda, "Agenda")
            except SoapFault:
                raise Refused("invalid_record", "Agenda") from None
        if centre_raw and not is_digits(centre_raw):
            raise Refused("invalid_record", "CentroCustos")
        centre = self._centre(who, int(centre_raw) if centre_raw else None)
        return Submission(number, text, kind=KIND_BY_F[tipo], type=tipo, schedule_at=schedule_at,
                          external_id=str(int(external)) if external else None, cost_centre=centre)

    # -- inBox ----------------------------------------------------------------------------------------
    def inbox(self, params: Params) -> str:
        """Replies received between DataInicial and DataFinal (today 00:00:00.000 to 23:59:59.999 on the
        virtual clock when omitted); Reexibir 1 shows again what was already shown, 0 only new ones.

        Lines are recv's seven fields (mensagem#recv_answer): `1;<md5>;<date>;<sender>;<message>;<id
        externo>;<referencia>`. The MD5 is the protocol of the message replied to; an unsolicited reply
        has none, so it gets an MD5 protocol of its own (inferred: every line carries one). `;` and line
        breaks in a reply become spaces, the format having no escape. No reply: the code and text of a
        query that succeeded, `1;SUCESSO` (003 § Método inBox lists "1 SUCESSO" as the method's result; an
        empty string carries no code at all; mensagem#inbox_answer).
        """
        start = self._datetime(params, "DataInicial")
        end = self._datetime(params, "DataFinal")
        again = self._int(params, "Reexibir") == 1
        who = self._who(params)
        today = local(self.core.now()).replace(hour=0, minute=0, second=0, microsecond=0)
        start = today.timestamp() if start is None else start
        end = (today + timedelta(days=1)).timestamp() - 0.001 if end is None else end
        inbox = Inbox(self.core, "mensagem")  # the 003 provider's inbox, not speedmarket's
        found = [mo for mo in inbox.between(who.client_id, start, end) if again or not mo.fetched]
        inbox.mark_read(found)
        ok, ok_text = self._code("inBox", "ok")
        lines = []
        for mo in found:
            digest = mo.hash or hashlib.md5(f"{self.core.secret}:mo:{mo.id}".encode()).hexdigest()
            text = re.sub(r"[;\r\n]", " ", mo.text)
            lines.append(f"{ok};{digest};{_stamp(mo.received_at)};{mo.number};{text};{mo.external_id or ''};")
        return "\n".join(lines) if lines else f"{ok};{ok_text}"

    # -- status and cancel ----------------------------------------------------------------------------
    def _hashes(self, operation: str, params: Params) -> list[str]:
        """Up to 1000 MD5 protocols joined by ";" (wbsapi#hash_list); anything else is 86 LAYOUT INESPERADO."""
        hashes = [h.strip().lower() for h in (params.get("Hash") or "").split(";") if h.strip()]
        _, high = self.codes.bounds(f"wbsapi.{operation}.hashes")
        if not hashes or len(hashes) > high or not all(_HASH.match(h) for h in hashes):
            raise Refused("bad_layout", "Hash")
        return hashes

    def _line(self, operation: str, digest: str, msg: Message | None, at: float) -> str:
        """`<hash>;<status>;<TEXT>;<id externo>;<number>;<yyyy-MM-dd HH:mm:ss.fff>` (mensagem#cacl_answer)."""
        if msg is None:
            code = self.codes.catalog.code(*NOT_FOUND)
            return f"{digest};{code.code};{code.text};;;{_stamp(at)}"
        state = MESSAGE_LEVEL.get(m.message_level(msg), m.message_level(msg))
        status = self.codes.state_code(MACHINE, state) or self.codes.state_code(MACHINE, "waiting") or "0"
        table = operation if self.codes.catalog.has_code(NAME, operation, status) else "status"
        text = self.codes.code(table, status).text
        return f"{digest};{status};{text};{msg.external_id or ''};{msg.number};{_stamp(at)}"

    def status(self, params: Params) -> str:
        """Each hash's status, at the time it entered it; another client's message is not found."""
        hashes = self._hashes("status", params)
        who = self._who(params)
        ids = [i for i in self.core.ids_for(hashes) if i is not None]  # a protocol names its message id
        marks = ",".join("?" * len(ids))
        found = {msg.hash: msg for msg in self.core.messages(f"client_id = ? AND id IN ({marks})",
                                                        [who.client_id, *ids], len(ids))} if ids else {}
        now = self.core.now()
        lines = []
        for digest in hashes:
            msg = found.get(digest)
            lines.append(self._line("status", digest, msg, (msg.states()[-1][1] if msg else now)))
        return "\n".join(lines)

    def cancel(self, params: Params) -> str:
        """Cancel each hash; only a waiting message cancels (003 § Cancelamento de Mensagens), the others
        answer their current status. The date is the command's, as cacl's; one transaction for all."""
        hashes = self._hashes("cancel", params)
        who = self._who(params)
        now = self.core.now()
        with self.core.store.transaction():
            return "\n".join(self._line("cancel", digest, self.core.cancel(who, digest), now) for digest in hashes)


# -- helpers ----------------------------------------------------------------------------------------

def _moment(text: str, name: str) -> float:
    """An xs:dateTime (or the seed's `yyyy-MM-dd HH:mm:ss`) as epoch seconds; without an offset it is
    Brasília time, the providers' clock."""
    try:
        value = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        raise SoapFault("client", f"Server was unable to read request: {name} {text!r} is not a valid "
                        "xs:dateTime.") from None
    return (value if value.tzinfo else value.replace(tzinfo=BRT)).timestamp()


def build(app: Any) -> Wbsapi:
    return Wbsapi(app.core)


__all__ = ["Wbsapi", "ServiceDescription", "SoapFault", "build"]
