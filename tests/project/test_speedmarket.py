"""speedmarket through the real emulator server: every method, every reachable responseCode, the status
levels and both callbacks, and what real clients send (field-notes.md)."""
from __future__ import annotations

import base64
import json
import time
from typing import Any, Iterator

import httpx
import pytest

from smsconform.contracts import load_contracts
from smsconform.emulator.http import json_text
from smsconform.emulator.server import Emulator

PROFILE = load_contracts().emulator_profile
NUMBERS = PROFILE["numbers"]
VALID = NUMBERS["valid"]
DEMO = ("demo", "demo123")
BASE = "/webservice-rest"
SEND_KEYS = ["success", "responseCode", "responseDescription", "credit", "balance", "id"]


# -- fixtures: one real server per module, reset before each test --------------------------------------

@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emu = Emulator(db=tmp_path_factory.mktemp("speedmarket") / "emulator.sqlite3", port=0, smpp_port=0, frozen=True)
    with emu.running():
        yield emu


@pytest.fixture(autouse=True)
def fresh(http: httpx.Client) -> None:
    assert http.post("/_emulator/reset").status_code == 200


# -- helpers --------------------------------------------------------------------------------------------

def single(http: httpx.Client, method: str = "GET", auth: tuple[str, str] | None = DEMO, **params: Any) -> dict[str, Any]:
    query = {"type": 0, "number": VALID[0], "content": "Mensagem de teste"} | params
    if auth is not None:
        query = {"user": auth[0], "password": auth[1]} | query
    response = http.request(method, f"{BASE}/send-single", params={k: v for k, v in query.items() if v is not None})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def call(http: httpx.Client, name: str, auth: tuple[str, str] = DEMO, **params: Any) -> dict[str, Any]:
    response = http.get(f"{BASE}/{name}", params={"user": auth[0], "password": auth[1]} | params)
    assert response.status_code == 200, response.text
    return response.json()


def batch(http: httpx.Client, body: Any, auth: tuple[str, str] = DEMO, **kw: Any) -> dict[str, Any]:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = http.post(f"{BASE}/send-multiple", auth=auth, content=content, **kw)
    assert response.status_code == 200, response.text
    return response.json()


def account(name: str) -> tuple[str, str]:
    spec = PROFILE["accounts"][name]
    return spec["login"], spec["password"]


def advance(control: Any, seconds: float) -> None:
    control("POST", "/clock", {"advance": seconds})


def statuses(http: httpx.Client, *ids: str) -> dict[str, str]:
    answer = call(http, "mt_id", id=",".join(ids))
    return {m["id"]: m["status"] for m in answer["messages"]}


def refused(answer: dict[str, Any], code: str, text: str) -> None:
    assert answer["success"] is False
    assert answer["responseCode"] == code
    assert answer["responseDescription"] == text


# -- send-single --------------------------------------------------------------------------------------

@pytest.mark.rules("code:speedmarket.send-single.000")
def test_send_single_get_answers_documented_shape(http: httpx.Client) -> None:
    before = call(http, "balance")["balance_1"]
    answer = single(http)
    assert list(answer) == SEND_KEYS                                  # clients parse by position
    assert answer["success"] is True and answer["responseCode"] == "000"
    assert answer["responseDescription"] == "Success queued"
    assert answer["credit"] == "1" and answer["id"].isdigit()
    assert isinstance(answer["balance"], str) and int(answer["balance"]) == int(before) - 1


def test_send_single_post_form_basic_auth_php_suffix_and_unknown_params(http: httpx.Client) -> None:
    form = {"type": "0", "number": VALID[1], "content": "Olá, formulário", "campaing_id": "typo", "utf8": "1"}
    response = http.post(f"{BASE}/send-single.php", data=form, auth=DEMO)
    assert response.status_code == 200 and response.json()["responseCode"] == "000"
    with_params = http.post(f"{BASE}/send-single", data={"user": "demo", "password": "demo123", **form})
    assert with_params.json()["responseCode"] == "000"
    trailing = http.get(f"{BASE}/send-single/", params={"type": 0, "number": VALID[2], "content": "x"}, auth=DEMO)
    assert trailing.json()["responseCode"] == "000"
    # the misspelt campaing_id is ignored, not taken for campaign_id
    found = call(http, "mt_id", id=response.json()["id"])["messages"][0]
    assert found["campaign_id"] == ""


def test_send_single_ucs2_text_costs_per_segment(http: httpx.Client) -> None:
    answer = single(http, content="ç" * 71)                          # UCS-2: 70, then 67 per part
    assert answer["credit"] == "2"


@pytest.mark.rules("code:speedmarket.send-single.002")
def test_scheduled_and_timezone(http: httpx.Client, control: Any) -> None:
    now = control("GET", "/clock")["epoch"]
    later = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now + 3600 - 3 * 3600))   # Brasília, one hour ahead
    answer = single(http, schedule=later, timezone="-03:00")
    assert (answer["responseCode"], answer["responseDescription"]) == ("002", "Scheduled")
    iso = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now + 7200))
    assert single(http, schedule=iso)["responseCode"] == "002"       # ISO-8601 with an offset (observed)
    past = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now - 86400))
    assert single(http, schedule=past)["responseCode"] == "000"      # already due: sent at once
    advance(control, 1800)
    assert statuses(http, answer["id"])[answer["id"]] == "-1"        # still waiting for its time
    advance(control, 1800 + 10)
    assert statuses(http, answer["id"])[answer["id"]] in ("0", "1")


@pytest.mark.parametrize(
    ("params", "auth", "code", "text"),
    [
        ({"password": "senha-errada"}, None, "010", "User or password is invalid"),
        ({}, ("demo", "errada"), "010", "User or password is invalid"),
        ({"type": 9}, DEMO, "020", "Empty or invalid type"),
        ({"type": "abc"}, DEMO, "020", "Empty or invalid type"),
        ({"type": None}, DEMO, "020", "Empty or invalid type"),
        ({"content": ""}, DEMO, "030", "Empty message content"),
        ({"type": 6, "content": "não é uma URL"}, DEMO, "030", "Empty message content"),
        ({"schedule": "31/02/2020 25:61"}, DEMO, "040", "Scheduling date invalid or incorrect"),
        ({"number": NUMBERS["bad_ddd"]}, DEMO, "050", "Empty or invalid number"),
        ({"number": NUMBERS["alpha"]}, DEMO, "050", "Empty or invalid number"),
        ({"number": ""}, DEMO, "050", "Empty or invalid number"),
        ({"country_code": 1}, DEMO, "060", "International sending not allowed"),
        ({"number": NUMBERS["rejected"]}, DEMO, "070", "Message rejected by server"),
        ({"timezone": "+99:99"}, DEMO, "140", "Incorrect time zone"),
        ({"type": 6, "content": "http://127.0.0.1/imagem.gif"}, DEMO, "150", "File extension not allowed"),
        ({"type": 8, "content": "http://127.0.0.1/video.avi"}, DEMO, "150", "File extension not allowed"),
    ],
)
def test_send_single_refusals(http: httpx.Client, params: dict[str, Any], auth: Any, code: str, text: str) -> None:
    if auth is None:
        params = {"user": "demo"} | params
    answer = single(http, auth=auth, **params)
    refused(answer, code, text)
    assert list(answer)[:5] == SEND_KEYS[:5] and answer["credit"] == "0"


def test_missing_or_malformed_credentials(http: httpx.Client) -> None:
    refused(single(http, auth=None), "010", "User or password is invalid")
    bad_basic = http.get(f"{BASE}/balance", headers={"Authorization": "Basic %%%not-base64"})
    refused(bad_basic.json(), "010", "User or password is invalid")
    no_colon = http.get(f"{BASE}/balance", headers={"Authorization": "Basic " + base64.b64encode(b"demo").decode()})
    refused(no_colon.json(), "010", "User or password is invalid")


@pytest.mark.parametrize(
    ("fixture", "code", "text"),
    [
        ("no_credits", "080", "Insufficient or expired balance"),
        ("blocked", "090", "Blocked account – Please contact support"),
        ("user_disabled", "010", "User or password is invalid"),
    ],
)
def test_account_refusals(http: httpx.Client, fixture: str, code: str, text: str) -> None:
    refused(single(http, auth=account(fixture)), code, text)


def test_expired_credits_answer_080(http: httpx.Client, emulator: Emulator) -> None:
    with emulator.core.store.lock:
        emulator.core.store.db.execute("UPDATE clients SET expiration = 1 WHERE name = 'DEMO'")
    refused(single(http), "080", "Insufficient or expired balance")


@pytest.mark.rules("code:speedmarket.send-single.070/duplicate")
def test_campaign_id_duplicate_protection(http: httpx.Client) -> None:
    protected = account("duplicate_protection")
    assert single(http, auth=protected, campaign_id="c-1")["responseCode"] == "000"
    refused(single(http, auth=protected, campaign_id="c-1"), "070", "Message rejected by server")
    assert single(http, auth=protected, campaign_id="c-2")["responseCode"] == "000"
    # without the protection the same campaign_id is accepted twice
    assert single(http, campaign_id="c-1")["responseCode"] == "000"
    assert single(http, campaign_id="c-1")["responseCode"] == "000"


def test_maintenance_answers_100(http: httpx.Client, emulator: Emulator) -> None:
    with emulator.core.store.lock:
        emulator.core.store.set_meta("maintenance", "speedmarket")
    refused(single(http), "100", "This service is currently under maintenance")
    refused(call(http, "balance"), "100", "This service is currently under maintenance")


def test_internal_failure_answers_110_not_5xx(http: httpx.Client, emulator: Emulator,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("simulated fault")

    monkeypatch.setattr(emulator.core, "submit", broken)
    response = http.get(f"{BASE}/send-single", params={"type": 0, "number": VALID[0], "content": "x"}, auth=DEMO)
    assert response.status_code == 200
    refused(response.json(), "110", "There was an error processing, please try again, or contact us")


def test_unknown_method_answers_160(http: httpx.Client) -> None:
    for path in (f"{BASE}/send-everything", f"{BASE}/", BASE):
        response = http.get(path, auth=DEMO)
        assert response.status_code == 200
        refused(response.json(), "160", "Unknown method or unknown parameter")


# -- content rules by type ----------------------------------------------------------------------------

def test_whatsapp_media_types_and_caption(http: httpx.Client) -> None:
    balance = call(http, "balance")
    image = single(http, type=6, content="https://127.0.0.1/foto.JPG?v=1", caption="c" * 490)
    assert image["responseCode"] == "000"
    assert image["balance"] == str(int(balance["balance_4"]) - 1)    # WhatsApp bills balance_4
    assert single(http, type=8, content="http://127.0.0.1/video.mp4")["responseCode"] == "000"
    assert single(http, type=5, content="texto WhatsApp")["responseCode"] == "000"
    assert single(http, type=3, content="torpedo de voz")["responseCode"] == "000"
    assert single(http, type=7, content="http://127.0.0.1/audio.ogg")["responseCode"] == "000"
    long_caption = single(http, type=6, content="https://127.0.0.1/foto.jpg", caption="c" * 491)
    assert long_caption["success"] is False and long_caption["responseCode"] == "070"
    # SMS ignores the caption ("Parâmetro não utilizado")
    assert single(http, type=0, caption="c" * 1000)["responseCode"] == "000"


def test_pools_by_type(http: httpx.Client) -> None:
    before = call(http, "balance")
    single(http, type=0)
    single(http, type=2)
    single(http, type=3, content="voz")
    after = call(http, "balance")
    assert int(after["balance_1"]) == int(before["balance_1"]) - 1
    assert int(after["balance_2"]) == int(before["balance_2"]) - 1
    assert int(after["balance_3"]) == int(before["balance_3"]) - 1
    assert after["balance_4"] == before["balance_4"]


# -- send-multiple ------------------------------------------------------------------------------------

@pytest.mark.rules("limit:speedmarket.send-multiple.messages", "code:speedmarket.send-multiple.001")
def test_send_multiple_5000_accepted(http: httpx.Client) -> None:
    messages = [{"number": VALID[i % len(VALID)], "content": "Lote", "campaign_id": f"L{i}"} for i in range(5000)]
    answer = batch(http, {"defaultValues": {"type": 0}, "messages": messages})
    assert list(answer) == ["success", "responseCode", "responseDescription", "credit", "balance",
                            "totalProcessed", "totalSuccess", "messages"]
    assert (answer["success"], answer["responseCode"], answer["responseDescription"]) == (True, "001", "Batch processed")
    assert answer["totalProcessed"] == "5000" and answer["totalSuccess"] == "5000" and answer["credit"] == "5000"
    assert len(answer["messages"]) == 5000
    first = answer["messages"][0]
    assert list(first)[:4] == ["success", "responseCode", "responseDescription", "credit"]
    assert first["responseCode"] == "000" and first["credit"] == "1"
    assert len({m["id"] for m in answer["messages"]}) == 5000


@pytest.mark.rules("code:speedmarket.send-multiple.120")
def test_send_multiple_5001_refused_with_120(http: httpx.Client) -> None:
    before = call(http, "balance")["balance_1"]
    messages = [{"number": VALID[0], "content": "x"}] * 5001
    refused(batch(http, {"defaultValues": {"type": 0}, "messages": messages}), "120", "Message array cannot exceed 5000")
    assert call(http, "balance")["balance_1"] == before
    assert call(http, "mt_date", start_date="2000-01-01T00:00:00", end_date="2100-01-01T00:00:00")["messageCount"] == 0


@pytest.mark.parametrize("body", [
    {"messages": []},
    {"defaultValues": {"type": 0}},
    {"messages": "não é uma lista"},
    b"{not json at all",
    b"\x00\xff\xfe\x89PNG binary junk",
    b"",
    b"[]",
])
def test_send_multiple_empty_or_junk_is_130(http: httpx.Client, body: Any) -> None:
    answer = batch(http, body)
    refused(answer, "130", "Message array is empty")


def test_send_multiple_per_message_results_in_order(http: httpx.Client) -> None:
    body = {
        "defaultValues": {"type": 2, "timezone": "-03:00"},
        "messages": [
            {"country_code": 55, "number": int(VALID[0]), "content": "Mensagem de teste", "campaign_id": "001"},
            {"number": NUMBERS["bad_ddd"], "content": "x"},
            {"number": VALID[1], "content": ""},
            {"number": VALID[1], "content": "x", "type": 42},
            {"number": VALID[1], "content": "x", "schedule": "ontem"},
            {"number": VALID[1], "content": "x", "country_code": 351},
            {"number": NUMBERS["rejected"], "content": "x"},
            {"number": VALID[1], "content": "x", "timezone": "+25:00"},
            {"number": VALID[1], "content": "http://h/a.png", "type": 6},
            {"number": VALID[2], "content": "x", "schedule": "2099-01-01 12:00:00"},
            "not an object",
        ],
    }
    response = http.post(f"{BASE}/send-multiple", auth=DEMO, content=json.dumps(body).encode())
    answer = response.json()
    # the per-message results are spliced from templates: the text is exactly what json_text writes
    assert response.text == json_text(answer)
    codes = [m["responseCode"] for m in answer["messages"]]
    assert codes == ["000", "050", "030", "020", "040", "060", "070", "140", "150", "002", "050"]
    assert [m["success"] for m in answer["messages"]] == [True] + [False] * 8 + [True, False]
    assert answer["totalProcessed"] == "11" and answer["totalSuccess"] == "2" and answer["credit"] == "2"


def test_send_multiple_without_json_content_type_and_document_example(http: httpx.Client) -> None:
    body = {"defaultValues": {"type": 2, "schedule": "2025-08-22 14:55:00", "timezone": "-03:00"},
            "messages": [{"country_code": 55, "number": 14999999999, "content": "Mensagem de teste", "campaign_id": "001"},
                         {"country_code": 55, "number": 14999999999, "content": "Mensagem de teste", "campaign_id": "002"}]}
    answer = batch(http, body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer["responseCode"] == "001" and answer["totalSuccess"] == "2"
    answer = batch(http, {"user": "demo", "password": "demo123", **body}, auth=None)   # credentials in the body
    assert answer["responseCode"] == "001"


def test_send_multiple_account_refusals(http: httpx.Client) -> None:
    messages = [{"number": VALID[0], "content": "x"}]
    refused(batch(http, {"defaultValues": {"type": 0}, "messages": messages}, auth=("demo", "x")),
            "010", "User or password is invalid")
    refused(batch(http, {"defaultValues": {"type": 0}, "messages": messages}, auth=account("no_credits")),
            "080", "Insufficient or expired balance")
    refused(batch(http, {"defaultValues": {"type": 0}, "messages": messages}, auth=account("blocked")),
            "090", "Blocked account – Please contact support")


def test_send_multiple_duplicate_campaign_ids_in_one_batch(http: httpx.Client) -> None:
    messages = [{"number": VALID[0], "content": "x", "campaign_id": "dup"}] * 2
    answer = batch(http, {"defaultValues": {"type": 0}, "messages": messages}, auth=account("duplicate_protection"))
    assert [m["responseCode"] for m in answer["messages"]] == ["000", "070"]


# -- statuses: the three levels ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("number", "type_", "at_once", "final"),
    [
        (VALID[0], 0, "-1", "1"),
        (NUMBERS["outcome_failed"], 0, "-1", "9"),
        (NUMBERS["outcome_no_dlr"], 0, "-1", "0"),
        (NUMBERS["outcome_error"], 0, "-1", "8"),
        (NUMBERS["outcome_invalid"], 0, "-1", "-3"),
        (NUMBERS["blacklisted"], 0, "-1", "-5"),   # prepared first, blocked at the operator level
        (NUMBERS["landline"], 0, "-1", "-4"),
        (NUMBERS["no_coverage"], 0, "-1", "-9"),
        (NUMBERS["content_blocked"], 0, "-1", "-8"),
        (NUMBERS["no_whatsapp"], 5, "-1", "-7"),
        (NUMBERS["no_whatsapp"], 0, "-1", "1"),
        (NUMBERS["antifraud"], 0, "3", "3"),
    ],
)
def test_status_levels(http: httpx.Client, control: Any, number: str, type_: int, at_once: str, final: str) -> None:
    answer = single(http, number=number, type=type_)
    assert answer["responseCode"] == "000"
    assert statuses(http, answer["id"])[answer["id"]] == at_once
    advance(control, 600)
    assert statuses(http, answer["id"])[answer["id"]] == final


def test_expired_outcome_and_intermediate_levels(http: httpx.Client, control: Any) -> None:
    answer = single(http, number=NUMBERS["outcome_expired"])
    seen = []
    for step in (0, 1.5, 2, 5, 86400):
        advance(control, step) if step else None
        seen.append(statuses(http, answer["id"])[answer["id"]])
    # The operator level has one first status, 0 or 7 (seed 001 "Status de entrega na operadora"):
    # an expiring message is still preparing (3) until the operator lets it expire, never 0 then 7.
    assert seen == ["-1", "3", "3", "3", "7"]


# -- queries --------------------------------------------------------------------------------------------

def test_mt_id_by_ids_and_campaign_ids(http: httpx.Client) -> None:
    a = single(http, campaign_id="abc1")["id"]
    b = single(http, campaign_id="abc2", number=VALID[1])["id"]
    single(http, campaign_id="other")
    by_id = call(http, "mt_id", id=f"{a},{b}")
    assert (by_id["success"], by_id["responseCode"], by_id["responseDescription"]) == (True, "200", "Successful search")
    assert by_id["messageCount"] == 2 and [m["id"] for m in by_id["messages"]] == [a, b]
    item = by_id["messages"][0]
    assert list(item)[:4] == ["number", "sent_date", "status", "carrier_name"]
    assert item["number"] == VALID[0] and isinstance(item["status"], str) and item["carrier_name"]
    by_campaign = call(http, "mt_id", campaign_id="abc1,abc2")
    assert [m["campaign_id"] for m in by_campaign["messages"]] == ["abc1", "abc2"]
    post = http.post(f"{BASE}/mt_id", data={"user": "demo", "password": "demo123", "id": a}).json()
    assert post["messageCount"] == 1
    refused(call(http, "mt_id"), "170", "Invalid search attributes")
    refused(call(http, "mt_id", id="1,x"), "170", "Invalid search attributes")
    assert call(http, "mt_id", id="999999")["messageCount"] == 0


def test_mt_id_only_sees_own_messages(http: httpx.Client) -> None:
    mine = single(http)["id"]
    assert call(http, "mt_id", auth=account("duplicate_protection"), id=mine)["messageCount"] == 0


@pytest.mark.rules("limit:speedmarket.mt_id.retention")
def test_queries_keep_32_days(http: httpx.Client, control: Any) -> None:
    old = single(http, campaign_id="old")["id"]
    advance(control, 31 * 86400)
    assert call(http, "mt_id", id=old)["messageCount"] == 1
    advance(control, 2 * 86400)
    assert call(http, "mt_id", id=old)["messageCount"] == 0
    assert call(http, "mt_date", start_date="2000-01-01T00:00:00", end_date="2100-01-01T00:00:00")["messageCount"] == 0


def test_mt_date_window_type_status_and_timezone(http: httpx.Client, control: Any) -> None:
    now = control("GET", "/clock")["epoch"]
    single(http, type=0)
    single(http, type=2, number=VALID[1])
    single(http, type=0, number=NUMBERS["blacklisted"])
    advance(control, 60)
    brt = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t - 3 * 3600))  # noqa: E731
    window = {"start_date": brt(now - 60), "end_date": brt(now + 60)}
    everything = call(http, "mt_date", **window)
    assert everything["messageCount"] == 3
    assert call(http, "mt_date", type=2, **window)["messageCount"] == 1
    only = call(http, "mt_date", status="1", **window)
    assert {m["status"] for m in only["messages"]} == {"1"} and only["messageCount"] == 2
    assert call(http, "mt_date", status="0,1,-5", **window)["messageCount"] == 3
    spaced = {"start_date": window["start_date"].replace("T", " "), "end_date": window["end_date"].replace("T", " ")}
    assert call(http, "mt_date", **spaced)["messageCount"] == 3
    # the same instants read in UTC are three hours later: nothing was sent then
    assert call(http, "mt_date", timezone="+00:00", **window)["messageCount"] == 0
    assert call(http, "mt_date", start_date=brt(now + 3600), end_date=brt(now + 7200))["messageCount"] == 0
    refused(call(http, "mt_date", start_date="ontem", end_date=window["end_date"]), "170", "Invalid search attributes")
    refused(call(http, "mt_date", start_date=window["end_date"], end_date=window["start_date"]),
            "170", "Invalid search attributes")
    refused(call(http, "mt_date", status="x", **window), "170", "Invalid search attributes")
    refused(call(http, "mt_date", timezone="+99:99", **window), "140", "Incorrect time zone")
    refused(call(http, "mt_date", auth=("demo", "x"), **window), "010", "User or password is invalid")


def _hash_of(control: Any, message_id: str) -> str:
    return next(m["hash"] for m in control("GET", "/messages") if str(m["id"]) == message_id)


def test_mo_new_returns_each_reply_once(http: httpx.Client, control: Any) -> None:
    sms = single(http, campaign_id="enquete", type=2)["id"]
    control("POST", "/mo", {"number": VALID[0], "text": "SIM", "reply_to": _hash_of(control, sms)})
    control("POST", "/mo", {"number": VALID[3], "text": "espontânea"})
    filtered = call(http, "mo_new", type=0)   # the reply answers a type 2 message; the other answers none
    assert [m["content"] for m in filtered["messages"]] == ["espontânea"]
    first = call(http, "mo_new")
    assert (first["responseCode"], first["messageCount"]) == ("200", 1)
    reply = first["messages"][0]
    assert reply["number"] == "55" + VALID[0] and reply["content"] == "SIM" and reply["campaign_id"] == "enquete"
    assert call(http, "mo_new")["messageCount"] == 0
    refused(call(http, "mo_new", type="99"), "170", "Invalid search attributes")


def test_mo_by_period_and_campaign_id(http: httpx.Client, control: Any) -> None:
    now = control("GET", "/clock")["epoch"]
    sms = single(http, campaign_id="abc123")["id"]
    control("POST", "/mo", {"number": VALID[0], "text": "Recebido", "reply_to": _hash_of(control, sms)})
    control("POST", "/mo", {"number": VALID[1], "text": "outra"})
    brt = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t - 3 * 3600))  # noqa: E731
    window = {"start_date": brt(now - 60), "end_date": brt(now + 60)}
    assert call(http, "mo", **window)["messageCount"] == 2
    assert call(http, "mo", **window)["messageCount"] == 2      # a period query marks nothing
    only = call(http, "mo", campaign_id="abc123", **window)
    assert only["messageCount"] == 1 and only["messages"][0]["content"] == "Recebido"
    assert call(http, "mo_new")["messageCount"] == 2
    refused(call(http, "mo", start_date="x", end_date="y"), "170", "Invalid search attributes")
    advance(control, 33 * 86400)
    assert call(http, "mo", start_date=brt(now - 60), end_date=brt(now + 40 * 86400))["messageCount"] == 0


def test_balance_keys_types_and_order(http: httpx.Client, control: Any) -> None:
    answer = call(http, "balance")
    assert list(answer) == ["success", "responseCode", "responseDescription", "balance_1", "balance_2",
                            "balance_3", "balance_4", "activation", "expiration"]
    assert (answer["success"], answer["responseCode"], answer["responseDescription"]) == (True, "200", "Successful search")
    credits = PROFILE["accounts"]["main"]["credits"]
    assert answer["balance_1"] == str(credits["long"]) and answer["balance_4"] == str(credits["whatsapp"])
    assert all(isinstance(answer[k], str) for k in ("balance_1", "balance_2", "balance_3", "balance_4"))
    assert answer["expiration"].endswith("23:59:59") and answer["activation"] < answer["expiration"]
    assert call(http, "balance") == answer                        # activation is kept, not recomputed
    control("POST", "/credits", {"account": "main", "kind": "voice", "amount": 5})
    assert call(http, "balance")["balance_3"] == str(credits["voice"] + 5)
    refused(call(http, "balance", auth=account("blocked")), "090", "Blocked account – Please contact support")


# -- callbacks (001 § Callbacks da API) ------------------------------------------------------------------

def test_status_and_mo_callbacks(http: httpx.Client, control: Any, receiver: Any) -> None:
    receiver.calls.clear()
    control("POST", "/callbacks", {"dialect": "speedmarket", "kind": "status", "url": receiver.url + "/callback.php"})
    control("POST", "/callbacks", {"dialect": "speedmarket", "kind": "mo", "url": receiver.url + "/mo.php?x=1"})
    sent = single(http, campaign_id="abc123")["id"]
    blocked = single(http, number=NUMBERS["blacklisted"])["id"]
    advance(control, 2)                                                       # queued: nothing is called back
    assert receiver.calls == []                                               # (preparation level)
    advance(control, 1)                                                       # at the operator, or blocked there
    calls = receiver.wait(2)
    assert sorted((c["id"], c["status"]) for c in calls) == sorted([(blocked, "-5"), (sent, "0")])
    advance(control, 10)                                                      # and at the handset
    calls = receiver.wait(3)
    # the server's sender delivers due callbacks concurrently: order them by their status date
    mine = sorted((c for c in calls if c["id"] == sent), key=lambda c: c["date"])
    assert [c["status"] for c in mine] == ["0", "1"]                          # never -1 or 3
    first = mine[0]
    assert list(k for k in first if not k.startswith("_"))[:5] == ["campaign_id", "id", "status", "date", "carrier"]
    assert first["campaign_id"] == "abc123" and first["_path"] == "/callback.php"
    assert len(first["date"]) == 19 and first["carrier"] and first["number"] == "55" + VALID[0]
    assert "+" in first["_query"].split("date=")[1].split("&")[0]              # 2017-01-01+15:00:00
    control("POST", "/mo", {"number": VALID[0], "text": "Recebido", "reply_to": _hash_of(control, sent)})
    mo = receiver.wait(4)[-1]
    assert mo["_path"] == "/mo.php" and mo["x"] == "1"
    assert list(k for k in mo if not k.startswith("_") and k != "x") == \
        ["number", "content", "campaign_id", "id", "status", "date", "carrier"]
    assert (mo["number"], mo["content"], mo["campaign_id"], mo["id"], mo["status"]) == \
        ("55" + VALID[0], "Recebido", "abc123", sent, "4")


def test_junk_never_5xx(http: httpx.Client) -> None:
    junk = [b"\x00\x01\x02\xff" * 100, b"{\"type\": ", "ção=%%%&&==".encode(), b"<xml/>"]
    for path in ("send-single", "send-multiple", "mt_id", "mt_date", "mo_new", "mo", "balance", "nope"):
        for body in junk:
            response = http.post(f"{BASE}/{path}", content=body, auth=DEMO)
            assert response.status_code == 200, (path, body, response.text)
            assert response.json()["success"] is False or path in ("balance", "mo_new")
