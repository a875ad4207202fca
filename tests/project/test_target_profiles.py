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


@pytest.mark.parametrize(
    ("change", "key", "nearest"),
    [
        (lambda t: t.replace('credentials = { u = "${ACME_U}" }', 'credentails = { u = "${ACME_U}" }'),
         "dialects.mensagem.credentails", "credentials"),
        (lambda t: t.replace('base_url = "https://sandbox.acme.example"\n', 'base_ulr = "https://sandbox.acme.example"\n'),
         "dialects.speedmarket.base_ulr", "base_url"),
        (lambda t: t.replace("[time]", "[tiem]"), "tiem", "time"),
        (lambda t: t + '\n[http]\ntimeuot = 5\n', "http.timeuot", "timeout"),
        (lambda t: t.replace("max_wait = 120", "max_wait = 120\nmax_wiat = 5"), "time.max_wiat", "max_wait"),
        (lambda t: t.replace("[fixtures.accounts.no_credits]", "[fixtures.accounts.no_credit]"),
         "fixtures.accounts.no_credit", "no_credits"),
        (lambda t: t.replace('blacklisted = "11990000090"', 'blacklist = "11990000090"'),
         "fixtures.numbers.blacklist", "blacklisted"),
        (lambda t: 'nmae = "x"\n' + t, "nmae", "name"),
    ],
)
def test_an_unknown_key_is_refused_with_the_nearest_known_one(tmp_path, monkeypatch, change, key, nearest) -> None:
    """A typo must not load silently (the suite would run with empty credentials or no fixtures)."""
    monkeypatch.setenv("ACME_U", "1a2b3c4d")
    monkeypatch.setenv("ACME_PASSWORD", "s3cr3t")
    with pytest.raises(ProfileError) as caught:
        load_profile(write(tmp_path, change(COMPLETE)))
    message = str(caught.value)
    assert str(tmp_path) in message and f"unknown key {key}" in message and repr(nearest) in message, message


def test_a_profile_that_is_not_utf8_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "São Paulo"\n'.encode("latin-1"))
    with pytest.raises(ProfileError, match="not UTF-8") as caught:
        load_profile(path)
    assert str(path) in str(caught.value)


def test_an_unset_variable_names_its_key_without_a_leading_dot(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("ACME_U", raising=False)
    monkeypatch.setenv("ACME_PASSWORD", "s3cr3t")
    with pytest.raises(ProfileError) as caught:
        load_profile(write(tmp_path, COMPLETE))
    assert ": dialects.mensagem.credentials.u: environment variable ACME_U is not set" in str(caught.value)


def test_http_timeout_and_strict_are_read(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ACME_U", "1a2b3c4d")
    monkeypatch.setenv("ACME_PASSWORD", "s3cr3t")
    default = load_profile(write(tmp_path, COMPLETE))
    assert default.http_timeout == 30.0 and default.strict is False
    target = load_profile(write(tmp_path, "strict = true\n" + COMPLETE + "\n[http]\ntimeout = 2.5\n"))
    assert target.http_timeout == 2.5 and target.strict is True
    with pytest.raises(ProfileError, match="http.timeout"):
        load_profile(write(tmp_path, COMPLETE + "\n[http]\ntimeout = 0\n"))


def test_smpp_max_rate_is_read_into_the_target(tmp_path, monkeypatch) -> None:
    """`[smpp] max_rate` is what the SMPP family's throttling test reads (target.extra)."""
    monkeypatch.setenv("ACME_U", "1a2b3c4d")
    monkeypatch.setenv("ACME_PASSWORD", "s3cr3t")
    target = load_profile(write(tmp_path, COMPLETE + "\n[smpp]\nmax_rate = 50\n"))
    assert target.extra == {"smpp": {"max_rate": 50}}
    with pytest.raises(ProfileError, match="unknown key smpp.max_rat; did you mean 'max_rate'"):
        load_profile(write(tmp_path, COMPLETE + "\n[smpp]\nmax_rat = 50\n"))
