"""Dialect clients: how the suite speaks each interface, and how it reads each answer's code."""
from __future__ import annotations

from importlib import import_module
from typing import Any

from ..target import Target

CLIENTS = {
    "mensagem": "mensagem:MensagemClient",
    "speedmarket": "speedmarket:SpeedmarketClient",
    "painel": "painel:PainelClient",
    "fcati": "fcati:FcatiClient",
    "wbsapi": "wbsapi:WbsapiClient",
    "smpp": "smpp:SmppClient",
    "servicesms": "servicesms:ServiceSmsClient",
}


def client_for(target: Target, dialect: str) -> Any:
    module, cls = CLIENTS[dialect].split(":")
    return getattr(import_module(f"{__name__}.{module}"), cls)(target)
