"""The web console's list, filters, callbacks and settings, used as a person would in Debian's headless
Chromium, each effect checked through the control API: messages of other dialects in the list; the filter
form narrowing a list that stays paged on the server; a callback whose receiver fails, with every attempt
and the retry schedule; the clock, outcome, fault and credit forms and a confirmed reset; and the token
prompt of `smsconform emulator` started with a control token."""
from __future__ import annotations

import time
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import jsonschema
import pytest

from smsconform.contracts import load_contracts
from smsconform.contracts.yamlfile import load_yaml
from smsconform.emulator.dialects.control_schema import _inlined
from smsconform.emulator.server import Emulator

from console_page import ROWS, cells, needs_chromium, page, send, shot  # noqa: F401 (page: a fixture)
from devtools_browser import Browser
from realmode import emulator_process, free_port

CONTRACTS = load_contracts()
ACCOUNTS = CONTRACTS.emulator_profile["accounts"]
MAIN, SECOND = ACCOUNTS["main"], ACCOUNTS["postpaid"]   # a second account that can send
RETRY = load_yaml(CONTRACTS.root / "emulator" / "lifecycle.yaml")[0]["callbacks"]
BRT = timezone(timedelta(hours=-3))  # the emulator's local time, which the console's date fields take
PAGE = 50                            # the control API's page when no limit is given (emulator-control.yaml)
CONTROL = CONTRACTS.openapi("emulator-control")
MESSAGE = _inlined(CONTROL["paths"]["/_emulator/message"]["get"]["responses"]["200"]["content"]["application/json"]
                   ["schema"], CONTROL)


def _local(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, BRT).strftime("%Y-%m-%dT%H:%M:%S")


def _until(page: Browser, ok: Callable[[list[list[str]]], bool], what: str, timeout: float = 10.0) -> list[list[str]]:
    """The list's rows once they satisfy ok (the list is redrawn asynchronously after each action)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = cells(page)
        if ok(rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"the list never showed {what}: {[r[1:8] for r in rows][:8]} ({len(rows)} rows)")
        time.sleep(0.1)


def _pages_asked(page: Browser) -> list[str]:
    """The pages of messages the console asked the control API for, as the browser recorded them."""
    return page.js("performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/messages/page'))")


# -- 1. messages of every dialect ---------------------------------------------------------------------

@pytest.fixture
def with_smpp(tmp_path: Path) -> Iterator[Emulator]:
    emu = Emulator(db=tmp_path / "emulator.sqlite3", port=0, smpp_port=free_port(), frozen=True)
    with emu.running():
        yield emu


def _smpp_submit(emu: Emulator, number: str, text: str) -> None:
    """One UCS-2 submit_sm, bound as the main account's integration user (contracts/smpp/profile.yaml)."""
    import smpplib.client

    warnings.filterwarnings("ignore", category=DeprecationWarning, module="smpplib")
    client = smpplib.client.Client("127.0.0.1", emu.smpp_port, timeout=5, allow_unknown_opt_params=True)
    client.connect()
    try:
        client.bind_transmitter(system_id=MAIN["integration_user"], password=MAIN["password"],
                                system_type=CONTRACTS.smpp["system_type"]["value"])
        client.send_message(source_addr_ton=1, source_addr_npi=1, source_addr="5511930000000", dest_addr_ton=1,
                            dest_addr_npi=1, destination_addr="55" + number, data_coding=8,
                            short_message=text.encode("utf-16-be"), registered_delivery=0)
        assert client.read_pdu().status == 0
    finally:
        client._socket.close()


@needs_chromium
def test_messages_of_every_dialect_show_their_dialect_account_kind_and_parts(with_smpp, page) -> None:
    page.open(f"{with_smpp.base_url}/_console/")
    with httpx.Client(base_url=with_smpp.base_url, timeout=10, trust_env=False) as http:
        send(http, "11991110001", "pela mensagem")
        send(http, "21991110002", "de outra conta", u=SECOND["integration_user"])
        answer = http.get("/webservice-rest/send-single", auth=(MAIN["login"], MAIN["password"]),
                          params={"type": 1, "number": "31991110003", "content": "x" * 200}).json()
        assert answer["responseCode"] == "000", answer
    _smpp_submit(with_smpp, "41991110004", "ação por SMPP")
    rows = _until(page, lambda rows: len(rows) == 4, "the four messages")
    assert {row[1]: row[2:8] for row in rows} == {
        "11991110001": ["pela mensagem", "1 · GSM-7", "mensagem", MAIN["login"], "long", "waiting"],
        "21991110002": ["de outra conta", "1 · GSM-7", "mensagem", SECOND["login"], "long", "waiting"],
        "31991110003": ["x" * 200, "2 · GSM-7", "speedmarket", MAIN["login"], "short", "waiting"],  # type 1: short
        "41991110004": ["ação por SMPP", "1 · UCS-2", "smpp", MAIN["login"], "long", "waiting"],
    }
    shot(page, "dialects")


# -- 2. the filter form -------------------------------------------------------------------------------

@needs_chromium
def test_the_filter_form_narrows_the_list_and_it_stays_paged_on_the_server(emulator, http, control, page) -> None:
    lot = [f"1199112{i:04d}" for i in range(1, 56)]
    assert len(http.get("/sms/mult", params={"u": MAIN["integration_user"], "n": ";".join(lot), "m": "lote"})
               .text.splitlines()) == len(lot)
    control("POST", "/outcomes", {"number": "31991110006", "outcome": "undelivered"})
    send(http, "31991110006", "vai falhar")
    send(http, "21991110005", "da outra conta", u=SECOND["integration_user"])
    assert http.get("/webservice-rest/send-single", auth=(MAIN["login"], MAIN["password"]),
                    params={"type": 0, "number": "11991110009", "content": "do speedmarket"}).json()["responseCode"] == "000"
    middle = control("POST", "/clock", {"advance": 10})["epoch"] + 1800
    control("POST", "/clock", {"advance": 3600})
    send(http, "41991110007", "mais tarde")
    mensagem = len(lot) + 3

    page.open(f"{emulator.base_url}/_console/")
    _until(page, lambda rows: len(rows) == PAGE, "the first page")
    assert not page.js("document.querySelector('#more').hidden"), "no way to the older messages"

    page.choose("#filters [name=dialect]", "speedmarket")
    page.click("#filters button[type=submit]")
    _until(page, lambda rows: [r[1:6] for r in rows] == [["11991110009", "do speedmarket", "1 · GSM-7", "speedmarket", "demo"]],
           "only the speedmarket message")
    page.click("#filters button[type=reset]")
    _until(page, lambda rows: len(rows) == PAGE, "the first page again")

    page.choose("#filters [name=state]", "undelivered")
    page.click("#filters button[type=submit]")
    _until(page, lambda rows: [(r[1], r[7]) for r in rows] == [("31991110006", "undelivered")], "the undelivered one")
    page.click("#filters button[type=reset]")

    page.type("#filters [name=account]", SECOND["login"])
    page.click("#filters button[type=submit]")
    _until(page, lambda rows: [(r[1], r[5]) for r in rows] == [("21991110005", SECOND["login"])], "the second account's")
    page.click("#filters button[type=reset]")

    page.enter_datetime("#filters [name=since]", _local(middle))
    page.click("#filters button[type=submit]")
    _until(page, lambda rows: [r[1] for r in rows] == ["41991110007"], "what came after the hour")
    page.click("#filters button[type=reset]")

    page.choose("#filters [name=dialect]", "mensagem")
    page.enter_datetime("#filters [name=until]", _local(middle))
    page.click("#filters button[type=submit]")
    first = _until(page, lambda rows: len(rows) == PAGE and all(r[4] == "mensagem" for r in rows)
                   and "41991110007" not in [r[1] for r in rows], "a first page of mensagem messages before the hour")
    assert not page.js("document.querySelector('#more').hidden")
    first_asked = _pages_asked(page)[-1]
    page.js("performance.clearResourceTimings()")
    page.click("#more")
    rows = _until(page, lambda rows: len(rows) > PAGE, "the older mensagem messages")
    assert len(rows) == mensagem - 1 and all(r[4] == "mensagem" for r in rows), [r[1:5] for r in rows[PAGE:]]
    assert sorted(r[1] for r in rows) == sorted([*lot, "31991110006", "21991110005"]) and rows[:PAGE] == first
    assert page.js("document.querySelector('#more').hidden"), "an older page offered after the last"
    # the server cut both pages: the console asked for each with the filters, the next one with a cursor
    assert "dialect=mensagem" in first_asked and "until=" in first_asked and "before=" not in first_asked, first_asked
    [older] = _pages_asked(page)
    last_id = page.js(f"document.querySelectorAll('{ROWS}')[{PAGE - 1}].dataset.id")
    assert "dialect=mensagem" in older and "until=" in older and f"before={last_id}" in older, older
    shot(page, "filters")


# -- 3. one message's callbacks -----------------------------------------------------------------------

def _callback_seen(page: Browser) -> dict[str, Any]:
    return page.js("""(() => { const c = document.querySelector('#detail-callbacks .callback'); if (!c) return null;
      return { state: c.querySelector('.callback-state').textContent,
               attempts: [...c.querySelectorAll('table.attempts tbody tr')].map(tr => ({
                 ok: tr.dataset.ok, wall: Number(tr.dataset.wall), cells: [...tr.cells].map(td => td.textContent) })),
               schedule: [...c.querySelectorAll('.schedule li')].map(li => ({
                 attempt: Number(li.dataset.attempt), wall: Number(li.dataset.wall), text: li.textContent })),
               policy: c.querySelector('.policy').textContent }; })()""")


@needs_chromium
def test_a_failing_callback_shows_every_attempt_and_its_retry_schedule(emulator, http, control, page, receiver) -> None:
    url = f"{receiver.url}/status"
    receiver.status = 500
    try:
        control("POST", "/callbacks", {"dialect": "mensagem", "kind": "status", "url": url})
        send(http, "51991110008", "com callback")
        page.open(f"{emulator.base_url}/_console/")
        page.wait_for(f"document.querySelector('{ROWS}')", what="the message's row")
        page.click(f"{ROWS} td button")
        page.wait_for("!document.querySelector('#detail').hidden", what="the message's details")
        page.click("button[data-advance='10']")   # sent: the status callback is due, and its receiver fails
        failed = page.wait_for("(() => { const c = document.querySelectorAll('#detail-callbacks table.attempts "
                               "tbody tr[data-ok=no]').length; return c >= 2 ? c : 0; })()",
                               what="two failed attempts")
        seen = _callback_seen(page)
        tries = seen["attempts"]
        assert len(tries) >= failed and all(a["ok"] == "no" and a["cells"][3].startswith(url + "?") and
                                            a["cells"][4].startswith("HTTP 500") for a in tries), tries
        # the schedule: attempt n failed waits retry_seconds[n-1], the last delay repeating, until give_up_after
        plan, n, schedule = RETRY["retry_seconds"], len(tries), seen["schedule"]
        assert schedule[0]["attempt"] == n + 1 and f"attempt {n + 1} at" in schedule[0]["text"], schedule
        assert abs(schedule[0]["wall"] - tries[-1]["wall"] - plan[n - 1]) < 0.5, (schedule[0], tries[-1])
        shown = [s for s in schedule if "more" not in s["text"]]
        assert [round(b["wall"] - a["wall"], 3) for a, b in zip(shown, shown[1:])] == \
            [plan[min(a["attempt"] - 1, len(plan) - 1)] for a in shown[:-1]]
        assert schedule[-1]["attempt"] == RETRY["give_up_after"], schedule[-1]
        assert str(RETRY["give_up_after"]) in seen["policy"] and ", ".join(map(str, plan)) in seen["policy"]
        message_id = page.js(f"document.querySelector('{ROWS}').dataset.id")
        answer = http.get("/_emulator/message", params={"id": message_id}).json()
        jsonschema.validate(answer, MESSAGE)   # what emulator-control.yaml documents of a retried callback
        [api] = [c for c in answer["callbacks"] if c["url"].startswith(url + "?")]
        assert api["pending"] and api["retry_schedule"][0]["attempt"] == len(api["attempts"]) + 1 > n
        page.js("document.querySelector('#detail-callbacks').scrollIntoView()")
        shot(page, "callback-retrying")
        receiver.status = 200   # the receiver is back: the next attempt is delivered
        page.wait_for("document.querySelector('#detail-callbacks .callback-state').textContent.startsWith('delivered')",
                      timeout=20, what="the callback delivered")
        seen = _callback_seen(page)
    finally:
        receiver.status = 200
    assert [a["ok"] for a in seen["attempts"]] == ["no"] * (len(seen["attempts"]) - 1) + ["yes"]
    assert seen["attempts"][-1]["cells"][4].startswith("HTTP 200") and seen["schedule"] == []
    answer = http.get("/_emulator/message", params={"id": message_id}).json()
    jsonschema.validate(answer, MESSAGE)
    assert [c["retry_schedule"] for c in answer["callbacks"]] == [[]] * len(answer["callbacks"])
    assert len([c for c in receiver.calls if c["_path"] == "/status"]) >= len(seen["attempts"])


# -- 4. the clock, outcome, fault and credit forms, and a confirmed reset -------------------------------

@needs_chromium
def test_the_settings_forms_and_a_confirmed_reset_steer_the_emulator(emulator, http, control, page) -> None:
    send(http, "11991110001", "antes do reset")
    page.open(f"{emulator.base_url}/_console/")
    assert control("GET", "/clock")["frozen"] is True
    page.click("#clock-toggle")
    page.wait_for("document.querySelector('#clock-state').textContent === 'running'", what="a running clock")
    assert control("GET", "/clock")["frozen"] is False and page.text("#clock-toggle") == "Freeze"
    page.click("#clock-toggle")
    page.wait_for("document.querySelector('#clock-state').textContent === 'frozen'", what="a frozen clock")
    assert control("GET", "/clock")["frozen"] is True

    page.click("nav a[data-view=settings]")
    page.wait_for("document.querySelector('#accounts tbody tr')", what="the accounts")
    page.type("#outcomes [name=number]", "21991110002")
    page.choose("#outcomes [name=outcome]", "expired")
    page.click("#outcomes button[type=submit]")
    page.wait_for("document.querySelector('#outcome-list').textContent.includes('21991110002: expired')",
                  what="the outcome in the list")
    assert {"number": "21991110002", "outcome": "expired"} in control("GET", "/outcomes/list")

    page.choose("#faults [name=kind]", "http500")
    page.type("#faults [name=path]", "/sms/")
    page.type("#faults [name=count]", "1")
    page.click("#faults button[type=submit]")
    page.wait_for("document.querySelector('#fault-list li')", what="the fault in the list")
    [fault] = control("GET", "/faults")
    assert (fault["kind"], fault["path"], fault["remaining"], fault["rate"]) == ("http500", "/sms/", 1, 1.0), fault
    assert [http.get("/sms/send", params={"u": MAIN["integration_user"], "n": "11991110001", "m": "x"}).status_code
            for _ in range(2)] == [500, 200], "not a fault for one request"
    page.click("#faults-clear")
    page.wait_for("!document.querySelector('#fault-list li')", what="no fault in the list")
    assert control("GET", "/faults") == []

    def balance(kind: str) -> int:
        return next(a for a in control("GET", "/accounts") if a["login"] == MAIN["login"])["credits"][kind]

    before = balance("short")
    page.choose("#credits [name=kind]", "short")
    page.js("document.querySelector('#credits [name=amount]').select()")   # replace the default amount
    page.call("Input.insertText", text="250")
    page.click("#credits button[type=submit]")
    page.wait_for(f"document.querySelector('#live').textContent.includes('{before + 250} short')",
                  what="the new balance")
    assert balance("short") == before + 250

    page.click("#reset")
    page.click("#reset-yes")
    page.wait_for("document.querySelector('#live').textContent === 'The emulator was reset.'", what="the reset")
    assert control("GET", "/messages/page")["items"] == [] and control("GET", "/outcomes/list") == []
    assert balance("short") == MAIN["credits"]["short"], "the accounts were not seeded again"
    assert page.js("document.querySelector('#reset-confirm').hidden")
    shot(page, "settings")


# -- 5. an emulator with a control token --------------------------------------------------------------

@needs_chromium
def test_the_console_asks_for_the_control_token_then_lists_and_streams(tmp_path: Path) -> None:
    token = "console-secret"
    with emulator_process(tmp_path, env={"SMSCONFORM_CONTROL_TOKEN": token}, token=token) as (port, _), \
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10, trust_env=False) as http, \
            Browser() as page:
        send(http, "11991110001", "antes do token")
        page.open(f"http://127.0.0.1:{port}/_console/", ready=False)
        asked = page.wait_for_dialog()
        assert asked["type"] == "prompt" and "token" in asked["message"], asked
        page.wait_for("document.querySelector('#live').textContent.includes('could not start')",
                      what="that the console could not start without it")
        assert cells(page) == [] and not page.js("document.body.dataset.ready")

        page.prompt_answer = token
        page.open(f"http://127.0.0.1:{port}/_console/")
        assert page.wait_for_dialog(2)["type"] == "prompt"
        _until(page, lambda rows: [r[2] for r in rows] == ["antes do token"], "the message sent before")
        page.js("window.__opened = 'this page'")
        send(http, "21991110002", "depois do token")
        _until(page, lambda rows: [r[2] for r in rows] == ["depois do token", "antes do token"],
               "the new message, live")
        assert page.js("window.__opened") == "this page", "the page reloaded"
        assert len(page.dialogs) == 2, "asked again once it had the token"
        shot(page, "token")
