"""Defects of query selectors (issue 12, "Every documented selector of a query"): a list read as its first
value, or a selector ignored. Each is caught by test_selectors.py under the selector's select: rule."""
from __future__ import annotations

from typing import Any

from smsconform.emulator.dialects.mensagem import Mensagem
from smsconform.emulator.dialects.speedmarket import Speedmarket
from smsconform.emulator.dialects.wbsapi import Wbsapi

from .registry import Patches, defect


def _params_changed(p: Patches, owner: type, name: str, change: Any) -> None:
    """``owner.name(self, [who,] params, ...)`` sees ``change(params)`` instead of the request's params."""

    def factory(original: Any) -> Any:
        def patched(self: Any, *args: Any) -> Any:
            args = list(args)
            at = 0 if owner is Mensagem else 1   # mensagem's functions take (params); speedmarket's (who, params, body)
            args[at] = change(dict(args[at]))
            return original(self, *args)

        return patched

    p.wrap(owner, name, factory)


def _first(separator: str, key: str) -> Any:
    def change(params: dict[str, Any]) -> dict[str, Any]:
        if params.get(key):
            params[key] = str(params[key]).split(separator)[0]
        return params

    return change


def _without(key: str) -> Any:
    def change(params: dict[str, Any]) -> dict[str, Any]:
        params.pop(key, None)
        return params

    return change


@defect("selectors.speedmarket-mt-id-first-only", "speedmarket", ["select:speedmarket.mt_id.id"],
        "mt_id with a comma list of ids answers only the first",
        "001 § Consulta de Status por Identificador: 'é possivel também realizar a consulta em lote, para isso basta "
        "separar os identificadores com vírgulas' (id=1,2)")
def speedmarket_mt_id_first_only(p: Patches) -> None:
    _params_changed(p, Speedmarket, "mt_id", _first(",", "id"))


@defect("selectors.speedmarket-campaign-list-first-only", "speedmarket", ["select:speedmarket.mt_id.campaign_id"],
        "mt_id with a comma list of campaign_id values answers only the first campaign",
        "001 § Consulta de Status por Identificador: 'mt_id?...&campaign_id=abc1,abc2'")
def speedmarket_campaign_list_first_only(p: Patches) -> None:
    _params_changed(p, Speedmarket, "mt_id", _first(",", "campaign_id"))


@defect("selectors.speedmarket-mt-date-type-ignored", "speedmarket", ["select:speedmarket.mt_date.type"],
        "mt_date ignores `type`: every service's messages of the period are answered",
        "001 § Consulta de Status por Período: 'consulta por período de tempo e tipo de serviço, através do "
        "parâmetro type'")
def speedmarket_mt_date_type_ignored(p: Patches) -> None:
    _params_changed(p, Speedmarket, "mt_date", _without("type"))


@defect("selectors.speedmarket-mt-date-status-first-only", "speedmarket", ["select:speedmarket.mt_date.status"],
        "mt_date reads `status=0,1` as its first status only",
        "001 § Consulta de Status por Período: '...&type=2&status=0,1'")
def speedmarket_mt_date_status_first_only(p: Patches) -> None:
    _params_changed(p, Speedmarket, "mt_date", _first(",", "status"))


@defect("selectors.speedmarket-mo-campaign-ignored", "speedmarket", ["select:speedmarket.mo.campaign_id"],
        "mo ignores `campaign_id`: every reply of the period is answered",
        "001 § Consulta de Mensagens Recebidas por Período: 'identificador da mensagem no sistema do cliente, "
        "através do parâmetro campaign_id'")
def speedmarket_mo_campaign_ignored(p: Patches) -> None:
    _params_changed(p, Speedmarket, "mo", _without("campaign_id"))


@defect("selectors.mensagem-cacl-first-hash-only", "mensagem", ["select:mensagem.cacl.h"],
        "cacl with several hashes cancels and answers only the first",
        "003 § Cancelamento de Mensagens: the example answers three hashes, one line each")
def mensagem_cacl_first_hash_only(p: Patches) -> None:
    _params_changed(p, Mensagem, "cacl", _first(";", "h"))


def _wbsapi_first_hash(p: Patches, operation: str) -> None:
    def factory(hashes: Any) -> Any:
        def patched(self: Wbsapi, op: str, params: Any) -> list[str]:
            found = hashes(self, op, params)
            return found[:1] if op == operation else found

        return patched

    p.wrap(Wbsapi, "_hashes", factory)


@defect("selectors.wbsapi-status-first-hash-only", "wbsapi", ["select:wbsapi.status.Hash"],
        "status with several hashes answers the first only",
        "003 § Método status: 'Código HASH em MD5 na inclusão até 1.000 registros na requisição demitador ponto e "
        "virgula (;)'")
def wbsapi_status_first_hash_only(p: Patches) -> None:
    _wbsapi_first_hash(p, "status")


@defect("selectors.wbsapi-cancel-first-hash-only", "wbsapi", ["select:wbsapi.cancel.Hash"],
        "cancel with several hashes cancels and answers the first only",
        "003 § Método cancel: 'Código HASH em MD5 na inclusão até 1.000 registros na requisição demitador ponto e "
        "virgula (;)'")
def wbsapi_cancel_first_hash_only(p: Patches) -> None:
    _wbsapi_first_hash(p, "cancel")
