"""Defects in the suite's former blind spots (issue 12, items 5-9): isolation between accounts, number shapes,
the served WSDL, and codes only a reserved number, an account or a fault reaches.

Each is a mistake an implementer makes when a check is written once and forgotten elsewhere: the ownership
test kept in one query and dropped in its neighbour, a country code stripped "helpfully", the WSDL's address
left at the developer's machine.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

from lxml import etree

from smsconform.emulator.core.campaigns import Campaigns
from smsconform.emulator.core.service import Core
from smsconform.emulator.dialects.fcati import Fcati
from smsconform.emulator.dialects.mensagem import Mensagem
from smsconform.emulator.dialects.painel import Painel
from smsconform.emulator.dialects.speedmarket import Speedmarket
from smsconform.emulator.dialects.soap import WSDL_NS, WSDL_SOAP11, WSDL_SOAP12, ServiceDescription
from smsconform.emulator.dialects.soap import parser as _parser
from smsconform.emulator.dialects.wbsapi import Wbsapi

from .registry import Patches, defect

_OWNED = "client_id = ? AND "


@contextmanager
def _ownership_forgotten() -> Iterator[None]:
    """For the length of one operation, the core's look-ups find any client's message or campaign: the
    `client_id` condition an implementation forgets in one place while keeping it everywhere else."""
    message, messages, get = Core.message, Core.messages, Campaigns.get

    def any_message(self: Core, **kwargs: Any) -> Any:
        return message(self, **{**kwargs, "client_id": None})

    def any_messages(self: Core, where: str = "1=1", params: Any = (), limit: int = 10000) -> Any:
        if where.startswith(_OWNED):
            where, params = where[len(_OWNED):], list(params)[1:]
        return messages(self, where, params, limit)

    def any_campaign(self: Campaigns, client_id: int, campaign_id: int) -> Any:
        row = self.core.store.db.execute("SELECT client_id FROM campaigns WHERE id = ?", (campaign_id,)).fetchone()
        return get(self, row[0], campaign_id) if row else None

    Core.message, Core.messages, Campaigns.get = any_message, any_messages, any_campaign  # type: ignore[method-assign]
    try:
        yield
    finally:
        Core.message, Core.messages, Campaigns.get = message, messages, get  # type: ignore[method-assign]


def _unowned(p: Patches, owner: type, name: str) -> None:
    """``owner.name`` runs with the ownership check forgotten."""

    def factory(method: Callable[..., Any]) -> Callable[..., Any]:
        def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
            with _ownership_forgotten():
                return method(self, *args, **kwargs)

        return patched

    p.wrap(owner, name, factory)


# -- isolation between accounts (isolation.yaml) --------------------------------------------------------
# name, dialect, rules, summary, where the documents say whose object it is, the operation that forgets
_FOREIGN: tuple[tuple[str, str, tuple[str, ...], str, str, type, str], ...] = (
    ("mensagem.cacl-foreign-message-cancelled", "mensagem", ("isolation:mensagem.cacl", "code:mensagem.cacl.255"),
     "cacl cancels a hash of another account's message (the cancel looks the hash up without the client)",
     "003 § Cancelamento de Mensagens: 'h Hash (Protocolo) de retorno após o sucesso na inclusão da mensagem'; "
     "255 MENSAGEM NAO ENCONTRADA", Mensagem, "cacl"),
    ("wbsapi.status-foreign-message-read", "wbsapi", ("isolation:wbsapi.status",),
     "status answers the status and number of another account's message",
     "003 § Método status: 'Identificacao Usuário do sistema autorizado a efetuar o login e envio'",
     Wbsapi, "status"),
    ("wbsapi.cancel-foreign-message-cancelled", "wbsapi", ("isolation:wbsapi.cancel",),
     "cancel cancels another account's waiting message",
     "003 § Método cancel: 'Identificacao Usuário do sistema autorizado a efetuar o login e envio'",
     Wbsapi, "cancel"),
    ("speedmarket.mt_id-foreign-message-listed", "speedmarket", ("isolation:speedmarket.mt_id",),
     "mt_id lists another account's message by its id",
     "001 § Consulta de Status por Identificador: 'o id ou o campaign_id obtido na resposta do envio'",
     Speedmarket, "mt_id"),
    ("painel.getstatus-foreign-campaign-read", "painel", ("isolation:painel.getstatus",),
     "getstatus answers another account's campaign, destinations and all",
     "002 § Obtendo a campanha: 'action=getstatus&lgn=<login Api>&pwd=<senha Api>&id=<ID Campanha>'",
     Painel, "getstatus"),
    ("painel.holdsms-foreign-campaign-held", "painel", ("isolation:painel.holdsms",),
     "holdsms holds another account's campaign",
     "002 § Prender a campanha: 'action=holdsms&lgn=<login Api>&pwd=<senha Api>&id=<ID Campanha>'", Painel, "holdsms"),
    ("painel.releasesms-foreign-campaign-released", "painel", ("isolation:painel.releasesms",),
     "releasesms releases another account's held campaign",
     "002 § Liberar a campanha: 'action=releasesms&lgn=<login Api>&pwd=<senha Api>&id=<ID Campanha>'",
     Painel, "releasesms"),
)
for _name, _dialect, _rules, _summary, _violates, _owner, _method in _FOREIGN:
    defect(_name, _dialect, _rules, _summary, _violates)(
        lambda p, owner=_owner, method=_method: _unowned(p, owner, method))


# -- the served WSDL (test_wbsapi.py) -----------------------------------------------------------------------
_ALL_WSDL = tuple(f"wsdl:wbsapi.{op}" for op in ("sendUnique", "sendMultiple", "inBox", "status", "cancel"))
_WSDL_VIOLATES = ("003 § API – WEBSERVICE: the service description wbsapi.asmx?WSDL; WSDL 1.1 § 3.8: a port's "
                  "soap:address is where its operations are sent")


def _served_wsdl(p: Patches, change: Callable[[Any, str], None]) -> None:
    """The WSDL served with ``change(tree, location)`` done to its tree instead of the plain rewrite."""
    def with_address(self: ServiceDescription, location: str) -> bytes:
        tree = etree.fromstring(self.raw, _parser(keep_comments=True))
        change(tree, location)
        return etree.tostring(tree, xml_declaration=True, encoding="utf-8")

    p.replace(ServiceDescription, "with_address", with_address)


def _addresses(tree: Any, namespaces: tuple[str, ...], location: str) -> None:
    """Point the addresses of the given SOAP versions' ports (WSDL_SOAP11, WSDL_SOAP12) at ``location``."""
    for ns in namespaces:
        for address in tree.iter(f"{{{ns}}}address"):
            address.set("location", location)


@defect("wbsapi.wsdl-address-left-at-the-contract", "wbsapi", _ALL_WSDL,
        "?WSDL serves the contract file as it is: its soap:address names 127.0.0.1:2738, not where it is served",
        _WSDL_VIOLATES)
def wsdl_address_unchanged(p: Patches) -> None:
    _served_wsdl(p, lambda tree, location: None)


@defect("wbsapi.wsdl-soap12-address-stale", "wbsapi", _ALL_WSDL,
        "?WSDL rewrites soap:address but leaves soap12:address at the contract's address",
        _WSDL_VIOLATES)
def wsdl_soap12_stale(p: Patches) -> None:
    _served_wsdl(p, lambda tree, location: _addresses(tree, (WSDL_SOAP11,), location))


@defect("wbsapi.wsdl-address-without-path", "wbsapi", _ALL_WSDL,
        "?WSDL addresses the host's root (http://host/), not /wbsapi.asmx where the service answers",
        _WSDL_VIOLATES)
def wsdl_without_path(p: Patches) -> None:
    def change(tree: Any, location: str) -> None:
        _addresses(tree, (WSDL_SOAP11, WSDL_SOAP12), location.rsplit("/", 1)[0] + "/")

    _served_wsdl(p, change)


@defect("wbsapi.wsdl-soap12-binding-lacks-cancel", "wbsapi", ("wsdl:wbsapi.cancel",),
        "the served WSDL's SOAP 1.2 binding leaves out cancel (the service still answers it)",
        "003 § Método cancel; contracts/wsdl/wbsapi.wsdl binds the five operations in SOAP 1.1 and 1.2")
def wsdl_soap12_lacks_cancel(p: Patches) -> None:
    def change(tree: Any, location: str) -> None:
        _addresses(tree, (WSDL_SOAP11, WSDL_SOAP12), location)
        for binding in tree.iter(f"{{{WSDL_NS}}}binding"):
            if binding.find(f"{{{WSDL_SOAP12}}}binding") is None:
                continue
            for op in list(binding.iter(f"{{{WSDL_NS}}}operation")):
                if op.get("name") == "cancel":
                    op.getparent().remove(op)

    _served_wsdl(p, change)


# -- number shapes (numbers.yaml) ---------------------------------------------------------------------------
def _rewrite_number(p: Patches, owner: type, name: str, key: str, fix: Callable[[str], str]) -> None:
    """``owner.name`` rewrites the number in ``key`` of its first mapping argument (the request's parameters or
    JSON body) before going on: the "helpful" normalisation an implementation adds for its own client's shape."""

    def factory(method: Callable[..., Any]) -> Callable[..., Any]:
        def patched(self: Any, *args: Any) -> Any:
            args = list(args)
            index = next(i for i, a in enumerate(args) if isinstance(a, dict))
            values = dict(args[index])
            if isinstance(values.get(key), (str, int)):
                values[key] = fix(str(values[key]))
                args[index] = values
            return method(self, *args)

        return patched

    p.wrap(owner, name, factory)


def _strip_country(number: str) -> str:
    digits = number.lstrip("+")
    return digits[2:] if digits.startswith("55") and len(digits) in (12, 13) else number


# name, dialect, rules, summary, what the documents say, the operation, its number parameter, the rewrite
_SHAPES: tuple[tuple[str, str, tuple[str, ...], str, str, type, str, str, Callable[[str], str]], ...] = (
    ("mensagem.send-country-code-stripped", "mensagem",
     ("number:mensagem.send.country_code", "number:mensagem.send.country_code_without_ninth"),
     "send takes 55 + DDD + number by dropping the 55, and sends it",
     "003 § Envio de SMS Simples: 'até 11 dígitos (DDNNNNNNNNN)'", Mensagem, "send", "n", _strip_country),
    ("mensagem.send-plus-dropped", "mensagem", ("number:mensagem.send.plus_country_code",),
     "send drops a leading + (and the 55 after it) instead of refusing the number",
     "003 § Envio de SMS Simples: 'Somente números.'", Mensagem, "send", "n",
     lambda n: _strip_country(n) if n.startswith("+") else n),
    ("wbsapi.sendUnique-country-code-stripped", "wbsapi",
     ("number:wbsapi.sendUnique.country_code", "number:wbsapi.sendUnique.plus_country_code"),
     "sendUnique takes +55 / 55 + DDD + number by dropping the country code",
     "003 § Método sendUnique: 'Número do telefone para qual será enviada a mensagem (DD9NNNNNNNN)'",
     Wbsapi, "send_unique", "Telefone", _strip_country),
    ("painel.sendsms-default-ddd-added", "painel", ("number:painel.sendsms.without_ddd",),
     "sendsms completes a number given without DDD with the DDD 11 instead of refusing it",
     "002 § Enviando SMS pela API: 'No campo <numero>, informe o telefone de destino com ddd.'",
     Painel, "sendsms", "numbers", lambda n: ",".join("11" + x if len(x) in (8, 9) else x for x in n.split(","))),
    ("speedmarket.send-single-country-code-stripped", "speedmarket",
     ("number:speedmarket.send-single.country_code", "number:speedmarket.send-single.plus_country_code"),
     "send-single takes a number with its DDI 55 by dropping it",
     "001 § Envio Individual: 'number*Número do telefone do destinatário sem DDI (55).'",
     Speedmarket, "send_single", "number", _strip_country),
    ("fcati.enviar-national-recipient-completed", "fcati", ("number:fcati.enviar.national",),
     "enviar takes a national recipient (DDD + number) by putting 55 in front",
     "field-notes.md § fcati: '`recipient` is country code + DDD + number'", Fcati, "enviar", "recipient",
     lambda r: "55" + r if r.isdigit() and len(r) in (10, 11) else r),
    ("fcati.enviar-plus-dropped", "fcati", ("number:fcati.enviar.plus_country_code",),
     "enviar drops a leading + of the recipient instead of refusing it",
     "field-notes.md § fcati: 'digits only, no spaces or symbols'", Fcati, "enviar", "recipient",
     lambda r: r.lstrip("+")),
)
for _name, _dialect, _rules, _summary, _violates, _owner, _method, _key, _fix in _SHAPES:
    defect(_name, _dialect, _rules, _summary, _violates)(
        lambda p, owner=_owner, method=_method, key=_key, fix=_fix: _rewrite_number(p, owner, method, key, fix))


# -- codes only a fault reaches (codes.yaml `fault` triggers) ----------------------------------------------
def _answered_as(p: Patches, owner: type, instead: dict[str, str]) -> None:
    """``owner``'s code book answers some reasons with another reason's code: the catch-all error handler
    that renders every platform failure as the one it was written for."""

    def adjust(dialect: Any) -> None:
        lookup = dialect.codes.for_reason
        dialect.codes.for_reason = lambda operation, reason: lookup(operation, instead.get(reason, reason))

    p.after_init(owner, adjust)


@defect("mensagem.credit-update-error-as-retry", "mensagem",
        ("code:mensagem.send.94", "code:mensagem.mult.94"),
        "a failure to update the credits is answered 0 TENDE NOVAMENTE instead of 94 ERRO AO ATUALIZAR CREDITOS",
        "003 § Envio de SMS Simples, Resultados: '94 ERRO AO ATUALIZAR CREDITOS'")
def credit_update_error_as_retry(p: Patches) -> None:
    _answered_as(p, Mensagem, {"credit_update_error": "retry"})


@defect("wbsapi.invalid-client-as-bad-credentials", "wbsapi",
        ("code:wbsapi.sendUnique.99", "code:wbsapi.sendMultiple.99"),
        "an invalid client is answered 98 USUARIO OU SENHA INVALIDO(A), the wrong-credentials code, instead of 99",
        "003 § Método sendUnique, Resultados: '99 CLIENTE INVALIDO'")
def invalid_client_as_bad_credentials(p: Patches) -> None:
    _answered_as(p, Wbsapi, {"invalid_client": "bad_credentials"})
