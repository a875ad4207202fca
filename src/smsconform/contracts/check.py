"""`smsconform contracts check`: load every contract and cross-check them, as a user or CI would."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from . import HTTP_DIALECTS, Contracts, load_contracts

_FIXTURE = re.compile(r"\{fixtures\.([a-z_]+)\.([a-z0-9_]+)")


@dataclass
class CheckReport:
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed

    def lines(self) -> list[str]:
        out = [f"ok    {p}" for p in self.passed] + [f"FAIL  {f}" for f in self.failed]
        out.append(f"{len(self.passed)} passed, {len(self.failed)} failed")
        return out


def _openapi(c: Contracts) -> str:
    from openapi_spec_validator import validate

    names = [*HTTP_DIALECTS, "emulator-control"]
    for name in names:
        validate(c.openapi(name))
    return f"OpenAPI 3.1: {', '.join(names)} valid"


def _grammars(c: Contracts) -> str:
    used = set()
    for name in HTTP_DIALECTS:
        used |= set(re.findall(r"x-grammar['\"]?:\s*['\"]?([a-z]+#[a-z0-9_]+)", c.openapi_path(name).read_text()))
    for ref in sorted(used):
        file, _, start = ref.partition("#")
        parser = c.grammar(file)
        if start not in parser.options.start:
            raise ValueError(f"x-grammar {ref} names no start rule of grammars/{file}.lark")
    return f"grammars: every x-grammar of the OpenAPI files resolves ({len(used)} formats)"


def _examples(c: Contracts) -> str:
    from .examples import check_examples

    count = check_examples(c)
    return f"documented exchanges: {count} checked against their grammar or schema"


def _wsdl(c: Contracts) -> str:
    import zeep
    from zeep.transports import Transport

    class Offline(Transport):
        def load(self, url):  # the WSDL is self-contained: nothing may come from the network
            if str(url).startswith(("http://", "https://")):
                raise OSError(f"refusing to fetch {url}")
            return super().load(url)

    expected = {"wbsapi": {"sendUnique", "sendMultiple", "inBox", "status", "cancel"},
                "servicesms": {"GetBalance", "GetStatus", "GetStatusByRef", "SendSMS", "SetHoldSMS", "SetReleaseSMS"}}
    for name, operations in expected.items():
        client = zeep.Client(str(c.service_wsdl_path(name)), transport=Offline())
        ops = set()
        for service in client.wsdl.services.values():
            for port in service.ports.values():
                ops |= set(port.binding._operations)
        if ops != operations:
            raise ValueError(f"{name}.wsdl operations {sorted(ops)} != {sorted(operations)}")
    return ("WSDL: wbsapi loads in zeep with the five documented operations, servicesms with the six "
            "field-notes.md observes")


def _cross(c: Contracts) -> str:
    cat = c.catalog
    profile = c.emulator_profile
    problems = []
    for code in cat.codes:
        trigger = code.trigger or {}
        account = trigger.get("account")
        if account and account not in profile.get("accounts", {}):
            problems.append(f"{code.id}: trigger account {account!r} is not in the emulator profile")
        for value in (trigger.get("set") or {}).values():
            for group, key in _FIXTURE.findall(str(value)):
                if key not in profile.get(group, {}):
                    problems.append(f"{code.id}: trigger fixture {group}.{key} is not in the emulator profile")
        if "limit" in trigger:
            try:
                cat.limit(trigger["limit"]["id"])
            except KeyError as exc:
                problems.append(f"{code.id}: {exc}")
    for machine in cat.machines:
        for state in machine.states:
            table = state.status_codes or machine.status_codes
            dialect, _, operation = table.partition(".")
            if not cat.has_code(dialect, operation, state.code):
                problems.append(f"{machine.id}: state {state.code} has no code in {table}")
    for rule in cat.isolation:
        for operation, code in ((rule.operation, rule.answer), *(
                [(rule.owner_after["operation"], rule.owner_after["code"])] if rule.owner_after else [])):
            if not cat.has_code(rule.dialect, operation, code):
                problems.append(f"{rule.id}: {rule.dialect}.{operation} has no code {code!r}")
    for shape in cat.numbers:
        if not cat.has_code(shape.dialect, shape.operation, shape.answer):
            problems.append(f"{shape.id}: {shape.dialect}.{shape.operation} has no code {shape.answer!r}")
    reasons = {(code.dialect, code.semantic) for code in cat.codes}
    seen_substitutes: set[tuple[str, str]] = set()
    for sub in cat.substitutes:
        if (sub.dialect, sub.reason) in seen_substitutes:
            problems.append(f"substitutes: {sub.dialect}/{sub.reason} is listed twice")
        seen_substitutes.add((sub.dialect, sub.reason))
        for reason in sub.answer_as:
            if not any(r == reason and (sub.dialect in ("*", d)) for d, r in reasons):
                problems.append(f"substitutes: {sub.dialect}/{sub.reason} answers as {reason!r}, which no code of "
                                f"{'any dialect' if sub.dialect == '*' else sub.dialect} has")
    if problems:
        raise ValueError("; ".join(problems[:10]) + (f" (+{len(problems) - 10} more)" if len(problems) > 10 else ""))
    return (f"catalog: {len(cat.codes)} codes, {len(cat.limits)} limits, {len(cat.machines)} machines, "
            f"{len(cat.callbacks)} callbacks, {len(cat.contradictions)} contradictions, {len(cat.substitutes)} "
            "substitutes; triggers, states and substitutes resolve")


CHECKS: list[Callable[[Contracts], str]] = [_cross, _openapi, _grammars, _examples, _wsdl]


def check_all() -> CheckReport:
    contracts = load_contracts()
    report = CheckReport()
    for check in CHECKS:
        try:
            report.passed.append(check(contracts))
        except Exception as exc:  # each check reports its own failure; the rest still run
            report.failed.append(f"{check.__name__.strip('_')}: {type(exc).__name__}: {exc}")
    return report
