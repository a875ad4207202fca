"""What an interop test does when its client is missing: fail in CI (scripts/test installed everything,
so an absence there is a broken install), skip elsewhere with the command that installs it."""
from __future__ import annotations

import pytest

from interop_clients import INSTALL_HINT, require


@pytest.mark.parametrize("ci", ["true", "1"])
def test_a_missing_client_fails_in_ci(ci: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="scripts/install-interop"):
        require("a client", present=False)


def test_a_missing_client_is_skipped_with_its_install_command_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="scripts/install-interop"):
        require("a client", present=False)
    assert "scripts/install-interop" in INSTALL_HINT


def test_a_present_client_runs_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    require("a client", present=True)
