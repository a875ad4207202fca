"""pytest plugin that runs the conformance suite against a benign variant of the emulator: ``-p variants.plugin``.

``--variant NAME`` (or ``SMSCONFORM_VARIANT``) applies the variant to the emulator classes before the suite
starts its embedded emulator, as ``--defect`` does for a defect. It is loaded with the defects plugin, whose
selection options (``--defect-scope``, ``--defect-rules-map``) it uses and which undoes its patches.
"""
from __future__ import annotations

import os

import pytest

from defects import plugin as defects_plugin
from defects.registry import DefectError, applied

from .registry import load_all

ENV = "SMSCONFORM_VARIANT"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("smsconform-variants", "conformant variants of the emulator (self-check)")
    group.addoption("--variant", default=os.environ.get(ENV) or None, metavar="NAME",
                    help=f"apply this benign variant to the emulator (default: ${ENV})")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    name = config.getoption("variant")
    if not name:
        return
    if config.getoption("defect", None):
        raise pytest.UsageError("--variant and --defect cannot be combined")
    variants = load_all()
    if name not in variants:
        raise pytest.UsageError(f"--variant: unknown variant {name!r}; known: {', '.join(sorted(variants))}")
    try:  # undone by the defects plugin's pytest_unconfigure
        config.stash[defects_plugin._PATCHES] = applied(variants[name].apply)
    except DefectError as exc:
        raise pytest.UsageError(f"--variant {name}: cannot be applied: {exc}") from None


def pytest_report_header(config: pytest.Config) -> list[str]:
    name = config.getoption("variant")
    if not name:
        return []
    item = load_all()[name]
    return [f"smsconform variant: {name} ({item.dialect}) decides otherwise {', '.join(item.rules) or 'no catalog rule'}"]
