"""fcati through the real emulator server: saldo and enviar at both addresses, and every inferred refusal."""
from __future__ import annotations

from typing import Any, Iterator

import httpx
import pytest

from smsconform.contracts import load_contracts
from smsconform.emulator.server import Emulator

PROFILE = load_contracts().emulator_profile
NUMBERS = PROFILE["numbers"]
TOKEN = {"Authorization": "Bearer " + PROFILE["accounts"]["main"]["token"]}
PATHS = ("/webhook/api-sms", "/")
RECIPIENT = "55" + NUMBERS["valid"][0]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emu = Emulator(db=tmp_path_factory.mktemp("fcati") / "emulator.sqlite3", port=0, smpp_port=0, frozen=True)
    with emu.running():
        yield emu


@pytest.fixture(autouse=True)
def fresh(http: httpx.Client) -> None:
    assert http.post("/_emulator/reset").status_code == 200


def post(http: httpx.Client, body: Any, path: str = "/webhook/api-sms", headers: dict[str, str] = TOKEN,
         **kw: Any) -> httpx.Response:
    if isinstance(body, bytes):
        return http.post(path, content=body, headers=headers, **kw)
    return http.post(path, json=body, headers=headers, **kw)


def refusal(response: httpx.Response, status: int, text: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"message": text}


@pytest.mark.parametrize("path", PATHS)
def test_saldo(http: httpx.Client, path: str) -> None:
    response = post(http, {"acao": "saldo"}, path)
    assert response.status_code == 200
    assert response.json() == {"balance": PROFILE["accounts"]["main"]["credits"]["long"]}
    assert isinstance(response.json()["balance"], int)


@pytest.mark.parametrize("path", PATHS)
def test_enviar(http: httpx.Client, control: Any, path: str) -> None:
    before = post(http, {"acao": "saldo"}).json()["balance"]
    response = post(http, {"acao": "enviar", "recipient": RECIPIENT, "text": "Olá do FCATI"}, path)
    assert response.status_code == 200
    answer = response.json()
    assert list(answer) == ["messageId", "message", "remaining_balance"]
    assert isinstance(answer["messageId"], str) and answer["messageId"].isdigit()
    assert answer["message"] == "Mensagem enviada com sucesso!"
    assert answer["remaining_balance"] == before - 1 and isinstance(answer["remaining_balance"], int)
    control("POST", "/clock", {"advance": 60})
    stored = control("GET", "/messages", dialect="fcati")
    assert [(m["id"], m["number"], m["state"]) for m in stored] == [(int(answer["messageId"]), NUMBERS["valid"][0], "delivered")]


def test_json_without_content_type_and_integer_recipient(http: httpx.Client) -> None:
    body = b'{"acao": "enviar", "recipient": %s, "text": "sem content-type"}' % RECIPIENT.encode()
    response = http.post("/webhook/api-sms", content=body, headers=TOKEN | {"Content-Type": "text/plain"})
    assert response.status_code == 200 and response.json()["messageId"].isdigit()


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer token-invalido"},
                                     {"Authorization": "Basic ZGVtbzpkZW1vMTIz"}, {"Authorization": "Bearer"},
                                     {"Authorization": "Bearer " + PROFILE["accounts"]["user_disabled"]["token"]}])
def test_missing_or_wrong_token_is_401(http: httpx.Client, headers: dict[str, str]) -> None:
    for path in PATHS:
        for body in ({"acao": "saldo"}, {"acao": "enviar", "recipient": RECIPIENT, "text": "x"}, b"junk"):
            refusal(post(http, body, path, headers=headers), 401, "Token ausente ou inválido")


@pytest.mark.parametrize("body", [
    b"", b"{not json", b"\x00\xff\xfe\x89binary", b"[1, 2]", b'"saldo"', {}, {"acao": None},
    {"acao": "enviar", "text": "x"},
    {"acao": "enviar", "recipient": RECIPIENT},
    {"acao": "enviar", "recipient": RECIPIENT, "text": "   "},
    {"acao": "enviar", "recipient": "11947651152", "text": "x"},            # no country code: 11 digits
    {"acao": "enviar", "recipient": "55119476511520", "text": "x"},         # 14 digits
    {"acao": "enviar", "recipient": "+55 11 94765-1152", "text": "x"},      # "digits only, no spaces or symbols"
    {"acao": "enviar", "recipient": "5520991110091", "text": "x"},          # DDD 20 does not exist
    {"acao": "enviar", "recipient": "55" + NUMBERS["blacklisted"], "text": "x"},
    {"acao": "enviar", "recipient": ["5511947651152"], "text": "x"},
])
def test_malformed_is_400(http: httpx.Client, body: Any) -> None:
    for path in PATHS:
        refusal(post(http, body, path), 400, "Requisição inválida")


def test_unknown_acao_is_400(http: httpx.Client) -> None:
    for path in PATHS:
        refusal(post(http, {"acao": "desconhecida"}, path), 400, "Ação desconhecida")


def test_insufficient_balance_is_402(http: httpx.Client) -> None:
    headers = {"Authorization": "Bearer " + PROFILE["accounts"]["no_credits"]["token"]}
    refusal(post(http, {"acao": "enviar", "recipient": RECIPIENT, "text": "x"}, headers=headers), 402, "Saldo insuficiente")
    assert post(http, {"acao": "saldo"}, headers=headers).json() == {"balance": 0}


def test_only_post_and_only_its_paths(http: httpx.Client) -> None:
    refusal(http.get("/webhook/api-sms", headers=TOKEN), 400, "Requisição inválida")
    root = http.get("/", headers=TOKEN, follow_redirects=False)     # `/` answers fcati POSTs only;
    assert root.status_code == 302 and root.headers["location"] == "/_console/"  # a GET is a person: the console
    # the root catches no other dialect's path
    assert http.post("/sms/send", params={"u": "x"}, headers=TOKEN).text.startswith("9")
    assert http.post("/webservice-rest/balance", headers=TOKEN).json()["responseCode"] == "010"
    assert http.post("/_emulator/reset").json()["reset"] is True
    assert http.post("/painel/api.ashx", headers=TOKEN).text == "0:OPERACAO INVALIDA"
