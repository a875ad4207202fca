"""Reading a target's credit pools the way each dialect shows them, so the credits families compare a
balance before and after a step by the names the catalog's `reading` and `pool` use.

- ``mensagem.crdtf``: fields 5, 6, 7 of the general distribution line, "Quantidade de créditos SMS Long
  code / Flash / Short code" (003 § Consultar Créditos) as ``long_code``, ``flash``, ``short_code``; an
  account distributed per user or cost centre prints several lines, which are summed per column;
- ``speedmarket.balance``: ``balance_1`` .. ``balance_4`` (001 § Consulta de Saldo);
- ``painel.getbalance``: its ``data`` (field-notes.md § painel); the client keeps the once-a-minute pace;
- ``fcati.saldo``: its ``balance`` (000 § Consultar Saldo).

wbsapi and SMPP have no balance operation of their own: the catalog reads their pools through the same
integration user's crdtf, which needs the target to offer mensagem too (else NotExercised).
"""
from __future__ import annotations

from typing import Any, Callable

from .clients.base import NotExercised
from .clients.speedmarket import _int as _digits

CRDTF_COLUMNS = {"long_code": 4, "flash": 5, "short_code": 6}
SPEEDMARKET_KEYS = ("balance_1", "balance_2", "balance_3", "balance_4")
# Credits every pool gets before a step on a target the suite can steer (a sandbox pays for real).
TOP_UP = 10_000
CONTROL_KINDS = ("long", "flash", "short", "voice", "whatsapp")
# Readings a dialect answers once a minute only (002 § Saldo do usuário): the second costs that wait.
PACED_SECONDS = {"painel.getbalance": 60.0}
REAL_WAIT_CAP = 90.0   # seconds of real time one test of these families may wait (a run must not wait minutes)


def _crdtf(clients: Callable[[str], Any]) -> dict[str, float]:
    client = clients("mensagem")
    exchange = client.call("crdtf", {})
    lines = [ln.split(";") for ln in exchange.text.strip().splitlines() if ln.strip()]
    if not lines or any(len(f) < 7 or f[0] != "1" for f in lines):
        raise AssertionError(f"mensagem.crdtf: no credit lines (1;mode;distribution;id;long;flash;short;) in "
                             f"{exchange.text[:300]!r}")
    out: dict[str, float] = {}
    for name, column in CRDTF_COLUMNS.items():
        values = [_digits(f[column]) for f in lines]
        if any(v is None for v in values):
            raise AssertionError(f"mensagem.crdtf: column {column + 1} is not a number in {exchange.text[:300]!r}")
        out[name] = float(sum(v for v in values if v is not None))
    return out


def _speedmarket(clients: Callable[[str], Any]) -> dict[str, float]:
    client = clients("speedmarket")
    exchange = client.call("balance", {})
    body = client.json(exchange)
    if not isinstance(body, dict):
        raise AssertionError(f"speedmarket.balance answered no JSON object: {exchange.text[:300]!r}")
    out: dict[str, float] = {}
    for key in SPEEDMARKET_KEYS:
        value = _digits(body.get(key))
        if value is None:
            raise AssertionError(f"speedmarket.balance: {key} is not an integer in {exchange.text[:300]!r}")
        out[key] = float(value)
    return out


READERS: dict[str, Callable[[Callable[[str], Any]], dict[str, float]]] = {
    "mensagem.crdtf": _crdtf,
    "speedmarket.balance": _speedmarket,
    "painel.getbalance": lambda clients: {"data": float(clients("painel").balance())},
    "fcati.saldo": lambda clients: {"balance": float(clients("fcati").balance())},
}


def read_pools(clients: Callable[[str], Any], reading: str) -> dict[str, float]:
    """Every pool ``reading`` shows for the main account, by the catalog's names."""
    reader = READERS.get(reading)
    if reader is None:
        raise NotExercised(f"no way to read the balance {reading!r}")
    return reader(clients)


def require_real_wait(seconds: float, target: Any, control: Any, what: str) -> None:
    """NotExercised unless ``seconds`` of real time fit the target's max_wait and REAL_WAIT_CAP (a target
    with a control API moves its clock instead, at no cost)."""
    if control is None and seconds > min(float(target.time.max_wait), REAL_WAIT_CAP):
        raise NotExercised(f"{what}: needs {seconds:g} s of real time (a clock the suite can move, or a max_wait "
                           f"and cap of at least that); this run does not wait that long")


def require_reading(reading: str, target: Any, control: Any, what: str) -> None:
    """A before/after comparison through a paced reading waits out its pace once."""
    require_real_wait(PACED_SECONDS.get(reading, 0.0), target, control, what)


def top_up(control: Any) -> None:
    """Enough credits in every pool for a step (only where the suite can steer the target)."""
    if control is None:
        return
    for kind in CONTROL_KINDS:
        control.credits(TOP_UP, kind)


def changes(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """How much each pool dropped (negative: it grew)."""
    return {name: before[name] - after.get(name, before[name]) for name in before}
