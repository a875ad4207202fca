"""Build the state a code needs before its request (a catalog trigger's `state`), on any target.

A state is built through the dialect's own operations (send a message to a number whose outcome is
known, cancel it, create a login twice...) and, where time must pass or the provider must be put in a
mode, through the target's control API. A target without one cannot reach those states: the rule is
reported as not exercised.

No document says how long a status step takes ("O tempo de entrega é variável", 003), so time is moved
in small steps until the control API shows the message in the state (up to HORIZON), never by the
emulator's own 1 s / 2 s / 5 s.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

from .clients.base import NotExercised
from .triggers import Plan

# message_<state>: the outcome fixture whose number reaches that state, and the first step of time to let
# pass (then more, in steps of STEP, until the message is in the state).
MESSAGE_STATES: dict[str, tuple[str | None, float | None, bool]] = {
    #  state        number fixture      seconds     scheduled far ahead
    "waiting": (None, None, True),
    "queued": (None, 0.5, False),
    "sent": (None, 0.5, False),
    "error": ("outcome_error", 0.5, False),
    "invalid": ("outcome_invalid", 0.5, False),
    "held": ("antifraud", None, False),
    "cancelled": (None, None, True),
}


STEP = 0.5
HORIZON = 3 * 86400.0


def _state_of(control: Any, digest: str) -> str | None:
    try:
        found = control.messages(hash=digest)
    except Exception:  # noqa: BLE001 - a control API without /messages: the state cannot be watched
        return None
    return str(found[-1].get("state")) if isinstance(found, list) and found else None


def let_reach(control: Any, digest: str, state: str, first: float) -> None:
    """Move the target's clock until the message is in ``state``: in steps of STEP seconds, growing after
    a minute so that a carrier that takes hours is still waited for (up to HORIZON). Where the control API
    cannot show the message, only ``first`` passes."""
    control.advance(first)
    moved, step = first, STEP
    while _state_of(control, digest) not in (state, None) and moved < HORIZON:
        control.advance(step)
        moved += step
        if moved > 60:
            step = min(step * 2, 3600.0)


def _need_control(control: Any, state: str) -> Any:
    if control is None:
        raise NotExercised(f"state {state!r} needs a target with a control API (time.mode = \"control\")")
    return control


def message_state(client: Any, control: Any, state: str, operation: str) -> Plan:
    """Send one message and bring it to ``state``; the operation then names it by its protocol."""
    fixture, seconds, scheduled = MESSAGE_STATES[state]
    if seconds is not None:
        _need_control(control, state)
    number = None
    if fixture is not None:
        number = client.target.fixtures.number(fixture)
        if number is None:
            raise NotExercised(f"the target profile has no fixture numbers.{fixture}")
    send_one = getattr(client, "send_one", None)
    if send_one is None:
        raise NotExercised(f"the {client.dialect} client cannot send a message to build a state")
    digest = send_one(number=number, scheduled=scheduled)
    if state == "cancelled":
        client.cancel_one(digest)
    if seconds is not None:
        let_reach(control, digest, state, seconds)
    return Plan(operation, "main", {**client.valid_request(operation), client.hash_param(operation): digest})


def login_exists(client: Any, control: Any, state: str, operation: str) -> Plan:
    params = client.valid_request(operation)
    client.call(operation, params)  # the first registration succeeds; the plan repeats it
    return Plan(operation, "main", params)


@contextmanager
def maintenance(client: Any, control: Any) -> Iterator[None]:
    _need_control(control, "maintenance").maintenance([client.dialect])
    try:
        yield
    finally:
        control.maintenance([])


def reply_received(client: Any, control: Any, state: str, operation: str) -> Plan:
    """A handset's reply in the main account's inbox, from the first valid number: only the control API can
    make one arrive (a real handset is not the suite's)."""
    _need_control(control, state).inject_mo(client.number(0), "smsconform resposta", account="main")
    return Plan(operation, "main", client.valid_request(operation))


BUILDERS: dict[str, Callable[[Any, Any, str, str], Plan]] = {
    "reply_received": reply_received,
    **{f"message_{name}": (lambda c, k, s, o, _n=name: message_state(c, k, _n, o)) for name in MESSAGE_STATES},
    "login_exists": login_exists,
    "cost_centre_exists": login_exists,
}


@contextmanager
def refusing(control: Any, reason: str) -> Iterator[None]:
    """Provider requests answer their operation's code for ``reason`` (a `refuse` fault) while the one call
    runs: until cleared, since a client may first fetch what needs no log-in (a WSDL)."""
    _need_control(control, f"fault {reason}").refuse(reason)
    try:
        yield
    finally:
        control.clear_faults()


def plan_with_state(code: Any, client: Any, control: Any) -> tuple[Plan, Callable[[], Any]]:
    """The request that reaches ``code`` once its state is built, and the context it must run in."""
    if "fault" in code.trigger:  # a refusal the platform makes on its own (try again, credits not updated)
        reason = code.trigger["fault"]
        return Plan(code.operation, "main", client.valid_request(code.operation)), lambda: refusing(control, reason)
    state = code.trigger["state"]
    if state == "maintenance":
        return Plan(code.operation, "main", client.valid_request(code.operation)), lambda: maintenance(client, control)
    return build_state(state, client, control, code.operation, code.id), _nothing


def build_state(state: str, client: Any, control: Any, operation: str, rule_id: str) -> Plan:
    """Build ``state`` on the main account; the plan names the object it built for ``operation``."""
    builder = BUILDERS.get(state) or getattr(client, "build_state", None)
    if builder is None:
        raise NotExercised(f"no way to build state {state!r} for {rule_id}")
    return builder(client, control, state, operation)


@contextmanager
def _nothing() -> Iterator[None]:
    yield
