"""painel through the real emulator server: every action and failure, the once-a-minute rule, campaigns
held and released, the data_callback record, and the real service's answer shapes (field-notes.md)."""
from __future__ import annotations

import json
import time
from typing import Any, Iterator

import httpx
import pytest

from smsconform.contracts import load_contracts
from smsconform.emulator.server import Emulator

CONTRACTS = load_contracts()
PROFILE = CONTRACTS.emulator_profile
NUMBERS = PROFILE["numbers"]
VALID = NUMBERS["valid"]
LOGIN = {"lgn": "demo", "pwd": "demo123"}
PAINEL, SHORTCODE = "/painel/api.ashx", "/shortcode/api.ashx"
GRAMMAR = CONTRACTS.grammar("painel")
FAILED = "ERRO OCORRIDO DURANTE O PROCESSAMENTO"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emu = Emulator(db=tmp_path_factory.mktemp("painel") / "emulator.sqlite3", port=0, smpp_port=0, frozen=True)
    with emu.running():
        yield emu


@pytest.fixture(autouse=True)
def fresh(http: httpx.Client) -> None:
    assert http.post("/_emulator/reset").status_code == 200


def act(http: httpx.Client, action: str, path: str = PAINEL, login: dict[str, str] = LOGIN, **params: Any) -> Any:
    response = http.get(path, params={"action": action, **login, **params})
    assert response.status_code == 200, response.text
    return response.json()


def envelope(answer: Any, status: int, data: Any, msg: Any) -> None:
    assert list(answer) == ["status", "data", "msg"]                 # the real service's key order
    assert (answer["status"], answer["data"], answer["msg"]) == (status, data, msg)


def login_of(fixture: str) -> dict[str, str]:
    spec = PROFILE["accounts"][fixture]
    return {"lgn": spec["login"], "pwd": spec["password"]}


def lines(data: str) -> list[list[str]]:
    GRAMMAR.parse(data, start="getstatus_data")
    return [line.split(";") for line in data.splitlines()]


def advance(control: Any, seconds: float) -> None:
    control("POST", "/clock", {"advance": seconds})


def brt(control: Any, seconds_ahead: float) -> tuple[str, str]:
    moment = control("GET", "/clock")["epoch"] + seconds_ahead - 3 * 3600
    return time.strftime("%d/%m/%Y", time.gmtime(moment)), time.strftime("%H:%M", time.gmtime(moment))


# -- sendsms ----------------------------------------------------------------------------------------------

@pytest.mark.rules("code:painel.sendsms.1")
def test_sendsms_answers_campaign_id(http: httpx.Client) -> None:
    answer = act(http, "sendsms", msg="Feliz Natal", numbers="3199999999")
    assert isinstance(answer["data"], int) and answer["data"] > 0
    envelope(answer, 1, answer["data"], None)
    second = act(http, "sendsms", msg="Feliz Natal", numbers="3194136747,3192450023")
    assert second["data"] != answer["data"]


def test_sendsms_post_query_string_form_body_and_raw_text(http: httpx.Client) -> None:
    query = {"action": "sendsms", **LOGIN, "msg": "Olá", "numbers": VALID[0]}
    assert http.post(PAINEL, params=query, content=b"").json()["status"] == 1
    assert http.post(PAINEL, data=query).json()["status"] == 1
    raw = http.get(PAINEL + "?action=sendsms&lgn=demo&pwd=demo123&msg=Feliz Natal sem codificar&numbers=" + VALID[1])
    assert raw.json()["status"] == 1
    campaign = raw.json()["data"]
    advance_data = act(http, "getstatus", id=campaign)["data"]
    assert lines(advance_data)[0][12] == "Feliz Natal sem codificar"


def test_shortcode_path_bills_short_code(http: httpx.Client, control: Any) -> None:
    before = control("GET", "/accounts")[0]["credits"]
    assert act(http, "sendsms", path=SHORTCODE, msg="curto", numbers=VALID[0])["status"] == 1
    after = control("GET", "/accounts")[0]["credits"]
    assert after["short"] == before["short"] - 1 and after["long"] == before["long"]
    assert act(http, "getbalance", path=SHORTCODE)["data"] == after["short"]


@pytest.mark.parametrize(
    ("params", "login"),
    [
        ({"msg": ""}, LOGIN),
        ({"msg": "x", "numbers": NUMBERS["bad_ddd"]}, LOGIN),
        ({"msg": "x", "numbers": "553199999999"}, LOGIN),         # "não é permitido colocar o código do país"
        ({"msg": "x", "numbers": ""}, LOGIN),
        ({"msg": "x", "numbers": "31999,abc"}, LOGIN),
        ({"msg": "x", "jobdate": "31/02/2013", "jobtime": "16:00"}, LOGIN),
        ({"msg": "x", "jobdate": "24/12/2099", "jobtime": "25:00"}, LOGIN),
        ({"msg": "x"}, login_of("no_credits")),
        ({"msg": "x"}, login_of("no_privilege")),
    ],
)
def test_sendsms_failures(http: httpx.Client, params: dict[str, str], login: dict[str, str]) -> None:
    params = {"numbers": VALID[0]} | params
    envelope(act(http, "sendsms", login=login, **params), 0, None, FAILED)


@pytest.mark.parametrize("action", ["sendsms", "getstatus", "getbalance", "holdsms", "releasesms"])
def test_bad_login(http: httpx.Client, action: str) -> None:
    answer = act(http, action, login={"lgn": "demo", "pwd": "senha-errada"}, msg="x", numbers=VALID[0], id="1")
    envelope(answer, 0, None, "FALHA AO REALIZAR LOGIN")
    envelope(act(http, action, login={}, id="1"), 0, None, "FALHA AO REALIZAR LOGIN")


@pytest.mark.parametrize("action", ["naoexiste", "", "SENDSMSX"])
def test_unknown_action_is_plain_text(http: httpx.Client, action: str) -> None:
    for path in (PAINEL, SHORTCODE):
        response = http.get(path, params={"action": action, **LOGIN})
        assert response.status_code == 200 and response.text == "0:OPERACAO INVALIDA"
        assert response.headers["content-type"].startswith("text/plain")
        GRAMMAR.parse(response.text, start="invalid_operation")
    assert http.post(PAINEL, data={"lgn": "demo"}).text == "0:OPERACAO INVALIDA"


# -- getstatus and getbalance, once a minute ------------------------------------------------------------

def test_getstatus_lists_every_destination_in_order(http: httpx.Client, control: Any) -> None:
    numbers = [VALID[0], NUMBERS["bad_ddd"], NUMBERS["outcome_invalid"], "553199999999", VALID[1]]
    campaign = act(http, "sendsms", msg='Texto; com "aspas"', numbers=",".join(numbers))["data"]
    answer = act(http, "getstatus", id=campaign)
    envelope(answer, 1, answer["data"], None)
    rows = lines(answer["data"])
    assert [r[10] for r in rows] == numbers
    assert [r[6] for r in rows] == ["Aguardando envio", "Numero invalido", "Aguardando envio", "Numero invalido",
                                    "Aguardando envio"]
    assert all(len(r) >= 13 for r in rows)
    first = answer["data"].splitlines()[0]
    assert first.endswith('"Texto; com ""aspas"""')                 # quoted, the quote doubled
    assert rows[0][0].isdigit() and rows[0][9]                        # delivery id, carrier
    advance(control, 60)
    rows = lines(act(http, "getstatus", id=campaign)["data"])
    assert [r[6] for r in rows] == ["Sucesso", "Numero invalido", "Numero invalido", "Numero invalido", "Sucesso"]
    assert rows[0][4]                                                 # delivery time once sent


@pytest.mark.rules("limit:painel.getstatus.rate", "limit:painel.getbalance.rate")
def test_getstatus_and_getbalance_once_a_minute(http: httpx.Client, control: Any) -> None:
    campaign = act(http, "sendsms", msg="x", numbers=VALID[0])["data"]
    assert act(http, "getstatus", id=campaign)["status"] == 1
    envelope(act(http, "getstatus", id=campaign), 0, None, FAILED)
    balance = act(http, "getbalance")
    envelope(balance, 1, balance["data"], None)                      # its own minute, not getstatus's
    assert isinstance(balance["data"], int)
    envelope(act(http, "getbalance"), 0, None, FAILED)
    assert act(http, "getbalance", login=login_of("postpaid"))["status"] == 1   # per account
    advance(control, 59)
    assert act(http, "getstatus", id=campaign)["status"] == 0
    advance(control, 1)
    assert act(http, "getstatus", id=campaign)["status"] == 1
    assert act(http, "getbalance")["status"] == 1


def test_getbalance_is_the_long_code_balance(http: httpx.Client) -> None:
    assert act(http, "getbalance")["data"] == PROFILE["accounts"]["main"]["credits"]["long"]


def test_getstatus_unknown_or_foreign_campaign(http: httpx.Client, control: Any) -> None:
    envelope(act(http, "getstatus", id="999999999"), 0, None, FAILED)
    campaign = act(http, "sendsms", msg="x", numbers=VALID[0])["data"]
    advance(control, 60)
    envelope(act(http, "getstatus", login=login_of("postpaid"), id=campaign), 0, None, FAILED)


# -- holdsms / releasesms --------------------------------------------------------------------------------

def _states(control: Any) -> list[str]:
    return [m["state"] for m in control("GET", "/messages", dialect="painel")]


def test_hold_and_release_a_scheduled_campaign(http: httpx.Client, control: Any) -> None:
    jobdate, jobtime = brt(control, 3600)
    campaign = act(http, "sendsms", msg="agendada", numbers=f"{VALID[0]},{VALID[1]}", jobdate=jobdate, jobtime=jobtime)["data"]
    assert _states(control) == ["waiting", "waiting"]
    envelope(act(http, "holdsms", id=campaign), 1, None, "SUCESSO")
    assert _states(control) == ["paused", "paused"]
    envelope(act(http, "holdsms", id=campaign), 0, None, "ERRO OCORRIDO")      # already held
    advance(control, 7200)                                                       # its time passes, held
    assert _states(control) == ["paused", "paused"]
    envelope(act(http, "releasesms", id=campaign), 1, None, "SUCESSO")
    envelope(act(http, "releasesms", id=campaign), 0, None, "ERRO OCORRIDO")   # not held any more
    advance(control, 60)
    assert _states(control) == ["delivered", "delivered"]
    envelope(act(http, "holdsms", id=campaign), 0, None, "ERRO OCORRIDO")      # nothing left to hold


def test_release_before_schedule_keeps_waiting_for_it(http: httpx.Client, control: Any) -> None:
    jobdate, jobtime = brt(control, 3600)
    campaign = act(http, "sendsms", msg="x", numbers=VALID[0], jobdate=jobdate, jobtime=jobtime)["data"]
    act(http, "holdsms", id=campaign)
    act(http, "releasesms", id=campaign)
    advance(control, 600)
    assert _states(control) == ["waiting"]
    advance(control, 3600)
    assert _states(control) == ["delivered"]


def test_hold_release_unknown_campaign(http: httpx.Client) -> None:
    for action in ("holdsms", "releasesms"):
        envelope(act(http, action, id="999999999"), 0, None, "ERRO OCORRIDO")
        envelope(act(http, action, id="abc"), 0, None, "ERRO OCORRIDO")


def test_past_schedule_sends_at_once(http: httpx.Client, control: Any) -> None:
    act(http, "sendsms", msg="x", numbers=VALID[0], jobdate="24/12/2013", jobtime="16:00")
    advance(control, 60)
    assert _states(control) == ["delivered"]


# -- data_callback --------------------------------------------------------------------------------------

def test_data_callback_on_status_and_reply(http: httpx.Client, control: Any, receiver: Any) -> None:
    receiver.calls.clear()
    campaign = act(http, "sendsms", msg="Confirma?", numbers=f"{VALID[0]},{NUMBERS['outcome_invalid']}",
                   url_callback=receiver.url + "/retorno.aspx?origem=teste", interno_key="REF-42")["data"]
    advance(control, 2)
    advance(control, 10)
    calls = receiver.wait(2)
    assert all(c["origem"] == "teste" for c in calls)
    records = sorted(c["data_callback"] for c in calls)
    for record in records:
        GRAMMAR.parse(record, start="data_callback")
    fields = sorted(r.split(";") for r in records)
    assert [(f[0], f[1], f[2], f[4], f[5]) for f in fields] == [
        (str(campaign), NUMBERS["outcome_invalid"], "", "Numero invalido", "REF-42"),
        (str(campaign), VALID[0], "", "Sucesso", "REF-42"),
    ]
    assert len(fields[0][3]) == 19                                   # yyyy-MM-dd HH:mm:ss
    digest = next(m["hash"] for m in control("GET", "/messages") if m["number"] == VALID[0])
    control("POST", "/mo", {"number": VALID[0], "text": "SIM; pode ser", "reply_to": digest})
    reply = receiver.wait(3)[-1]["data_callback"]
    GRAMMAR.parse(reply, start="data_callback")
    assert reply.split(";")[:3] == [str(campaign), VALID[0], "SIM, pode ser"]
    assert reply.split(";")[4:] == ["Sucesso", "REF-42"]


def test_no_callback_without_url(http: httpx.Client, control: Any) -> None:
    act(http, "sendsms", msg="x", numbers=VALID[0])
    advance(control, 60)
    assert control("GET", "/outbox") == []


def test_junk_never_5xx(http: httpx.Client) -> None:
    for body in (b"\x00\xff\xfe" * 50, b"{\"action\": ", "ção=%%%&&==".encode(), b"action=sendsms&lgn"):
        for path in (PAINEL, SHORTCODE):
            response = http.post(path, content=body, params={"action": "sendsms", **LOGIN})
            assert response.status_code == 200
            assert json.loads(response.text)["status"] in (0, 1)
