"""Defects of rate limits at their boundaries (issue 12): a once-a-minute window counted wrong. Each is
caught by test_rate_limits.py under the rate: rule of the boundary it moves (30, 59 or 60 seconds)."""
from __future__ import annotations

import dataclasses

from smsconform.emulator.dialects.painel import Painel

from .registry import Patches, defect


def _window(p: Patches, action: str, seconds: float) -> None:
    """painel's ``action`` lets one call through every ``seconds`` instead of every 60."""

    def adjust(self: Painel) -> None:
        self._rates[action] = dataclasses.replace(self._rates[action], max=60.0 / seconds)

    p.after_init(Painel, adjust)


@defect("rates.painel-getstatus-half-minute", "painel", ["rate:painel.getstatus.rate.30s"],
        "getstatus counts its window as 30 seconds: a second call 30 s after the first is answered",
        "002 § Obtendo a campanha: 'Esse comando só poderá ser solicitado de 1 em 1 minuto.'")
def painel_getstatus_half_minute(p: Patches) -> None:
    _window(p, "getstatus", 30.0)


@defect("rates.painel-getbalance-58-seconds", "painel", ["rate:painel.getbalance.rate.59s"],
        "getbalance's window is 58 seconds (a rounding of the minute): a call 59 s after the first is answered",
        "002 § Saldo do usuário: 'Esse comando só poderá ser solicitado de 1 em 1 minuto.'")
def painel_getbalance_58_seconds(p: Patches) -> None:
    _window(p, "getbalance", 58.0)


@defect("rates.painel-getstatus-61-seconds", "painel", ["rate:painel.getstatus.rate.60s"],
        "getstatus's window is 61 seconds: a call a full minute after the first is still refused",
        "002 § Obtendo a campanha: 'Esse comando só poderá ser solicitado de 1 em 1 minuto.'")
def painel_getstatus_61_seconds(p: Patches) -> None:
    _window(p, "getstatus", 61.0)
