"""Target profiles: a complete one loads with its secrets from the environment; a broken one names its key."""
from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from smsconform.conformance.target import ProfileError, load_profile

COMPLETE = """
name = "acme-sandbox"

[time]
mode = "real"
max_wait = 120

[dialects.mensagem]
base_url = "https://sandbox.acme.example:2738"
credentials = { u = "${ACME_U}" }
operations = ["send", "mult", "cacl"]

[dialects.speedmarket]
base_url = "https://sandbox.acme.example"
credentials = { user = "qa", password = "${ACME_PASSWORD}" }

[dialects.smpp]
host = "smpp.acme.example"
port = 9500
credentials = { system_id = "${ACME_U}", password = "${ACME_PASSWORD}" }

[fixtures.accounts.no_credits]
mensagem = { u = "0badc0de" }

[fixtures.numbers]
valid = ["11991110001", "21991110002"]
blacklisted = "11990000090"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "target.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_complete_profile_loads_with_secrets_from_the_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ACME_U", "1a2b3c4d")
    monkeypatch.setenv("ACME_PASSWORD", "s3cr3t")
    target = load_profile(write(tmp_path, COMPLETE))
    assert target.name == "acme-sandbox"
    assert target.dialect("mensagem").credentials == {"u": "1a2b3c4d"}
    assert target.dialect("mensagem").offers("cacl") and not target.dialect("mensagem").offers("cnus")
    assert target.dialect("smpp").port == 9500
    assert target.fixtures.account("no_credits", "mensagem") == {"u": "0badc0de"}
    assert target.fixtures.number("blacklisted") == "11990000090"
    assert target.time.mode == "real" and target.time.max_wait == 120
    assert {"1a2b3c4d", "s3cr3t", "0badc0de"} <= set(target.secrets())


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda t: t.replace("${ACME_U}", "${MISSING_VAR}"), "MISSING_VAR"),
        (lambda t: t.replace('base_url = "https://sandbox.acme.example:2738"', 'base_url = "ftp://x"'),
         "dialects.mensagem.base_url"),
        (lambda t: t.replace("[dialects.speedmarket]", "[dialects.speedmarkt]"), "dialects.speedmarkt"),
        (lambda t: t.replace('user = "qa"', 'usr = "qa"'), "dialects.speedmarket.credentials"),
        (lambda t: t.replace("port = 9500", 'port = "9500"'), "dialects.smpp"),
        (lambda t: t.replace('mode = "real"', 'mode = "sometimes"'), "time.mode"),
        (lambda t: t.replace('mode = "real"', 'mode = "control"'), "time.control_url"),
        (lambda t: t.replace('blacklisted = "11990000090"', "blacklisted = 11990000090"), "fixtures.numbers.blacklisted"),
        (lambda t: t.replace("[time]", "[time"), "not valid TOML"),
    ],
)
def test_a_malformed_profile_names_its_key(tmp_path, monkeypatch, change, named) -> None:
    monkeypatch.setenv("ACME_U", "1a2b3c4d")
    monkeypatch.setenv("ACME_PASSWORD", "s3cr3t")
    with pytest.raises(ProfileError) as caught:
        load_profile(write(tmp_path, change(COMPLETE)))
    assert named in str(caught.value) and str(tmp_path) in str(caught.value)


def test_a_missing_profile_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ProfileError, match="no such target profile"):
        load_profile(tmp_path / "nope.toml")


def test_the_plugin_fixture_answers_in_process(sms_emulator) -> None:
    answer = httpx.get("http://127.0.0.1:2738/sms/send", params={"u": "d642dfa0", "n": "11991110001", "m": "oi"})
    assert answer.text.startswith("1;")
    assert sms_emulator.control("GET", "/messages")[0]["number"] == "11991110001"
