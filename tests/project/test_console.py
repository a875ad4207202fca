"""The web console, used as a person would in Debian's headless Chromium: it shows a message sent through
mensagem without a reload, shows its states advance after a clock move, and a reply typed in the phone view
reaches the client's MO callback. Screenshots land in the test artifacts (reports/artifacts/console/, or
$SMSCONFORM_ARTIFACTS/console/) and are checked to be real, non-blank pictures of the page."""
from __future__ import annotations

from pathlib import Path

import httpx

from smsconform.emulator.console import FILES

from console_page import DEMO_U, needs_chromium, page, send, shot  # noqa: F401 (page: a fixture)
from devtools_browser import Browser


@needs_chromium
def test_a_message_sent_through_mensagem_appears_without_a_reload(emulator, http, page) -> None:
    page.open(f"{emulator.base_url}/_console/")
    page.js("window.__opened = 'this page'")
    assert page.wait_for("document.querySelector('#empty') && !document.querySelector('#empty').hidden",
                         what="the empty list")
    send(http, "11991110001", "Olá, console")
    row = "#messages tbody tr"
    page.wait_for(f"document.querySelector('{row}') && document.querySelector('{row}').textContent.includes('Olá, console')",
                  what="the new message's row")
    assert page.js("window.__opened") == "this page", "the page reloaded"
    cells = page.js(f"[...document.querySelectorAll('{row} td')].map(td => td.textContent)")
    assert cells[1:7] == ["11991110001", "Olá, console", "1 · UCS-2", "mensagem", "demo", "long"], cells
    assert cells[7] == "waiting"
    shot(page, "messages")


@needs_chromium
def test_a_clock_move_advances_the_open_message_through_its_states(emulator, http, page) -> None:
    send(http, "21991110002", "states")
    page.open(f"{emulator.base_url}/_console/")
    page.wait_for("document.querySelector('#messages tbody tr')", what="the message's row")
    page.click("#messages tbody tr td button")
    page.wait_for("!document.querySelector('#detail').hidden", what="the message's details")
    assert page.js("[...document.querySelectorAll('#detail-timeline li')].map(li => li.dataset.state)") == ["waiting"]
    page.click("button[data-advance='10']")
    page.wait_for("[...document.querySelectorAll('#detail-timeline li')].map(li => li.dataset.state).join() === "
                  "'waiting,queued,sent,delivered'", what="the timeline up to delivered")
    page.wait_for("document.querySelector('#messages tbody tr').dataset.state === 'delivered'",
                  what="the row's new status")
    assert "demo" in page.text("#detail-fields") and "/sms/send" in page.text("#detail-exchanges")
    assert DEMO_U not in page.text("#detail-exchanges"), "the journal shows a credential"
    shot(page, "message-timeline")


@needs_chromium
def test_a_reply_from_the_phone_view_fires_the_mo_callback(emulator, http, page, receiver) -> None:
    http.post("/_emulator/callbacks", json={"dialect": "mensagem", "kind": "mo", "url": f"{receiver.url}/mo"})
    protocol = send(http, "31991110003", "Confirma a consulta? Responda SIM")
    page.open(f"{emulator.base_url}/_console/")
    page.wait_for("document.querySelector('#messages tbody tr')", what="the message's row")
    page.click("#messages tbody tr td:nth-child(2) button")
    page.wait_for("document.querySelector('#phone-number').textContent === '31991110003'", what="the phone view")
    before = len(receiver.calls)
    page.type("#reply-text", "SIM")
    page.click("#reply button[type=submit]")
    page.wait_for("[...document.querySelectorAll('#conversation .mo')].some(li => li.textContent.includes('SIM'))",
                  what="the reply in the conversation")
    calls = receiver.wait(before + 1, timeout=10)[before:]
    assert calls and calls[0]["_path"] == "/mo", calls
    assert "SIM" in calls[0]["_query"] and "31991110003" in calls[0]["_query"], calls[0]
    replies = http.get("/_emulator/conversation", params={"number": "31991110003"}).json()["items"]
    assert [i["reply_to"] for i in replies if i["direction"] == "mo"] == [protocol]
    shot(page, "phone")


@needs_chromium
def test_every_control_is_labelled_and_the_page_reads_in_a_narrow_window(emulator, http) -> None:
    send(http, "41991110004", "uma mensagem com um texto longo o bastante para quebrar a linha numa tela estreita")
    with Browser(390, 800) as narrow:
        narrow.open(f"{emulator.base_url}/_console/")
        narrow.wait_for("document.querySelector('#messages tbody tr')", what="the message's row")
        unlabelled = narrow.js("[...document.querySelectorAll('input, select, textarea')].filter(e => "
                               "!(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map(e => e.name)")
        assert unlabelled == []
        assert narrow.js("document.documentElement.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways"
        narrow.call("Input.dispatchKeyEvent", type="keyDown", key="Tab", code="Tab", windowsVirtualKeyCode=9)
        assert narrow.js("document.activeElement.tagName") in ("BUTTON", "A", "INPUT")
        narrow.js("location.hash = '#settings'")
        narrow.wait_for("document.querySelector('#accounts tbody tr')", what="the accounts")
        narrow.click("#reset")
        assert narrow.js("!document.querySelector('#reset-confirm').hidden"), "reset asks for a confirmation"
        assert narrow.js("document.documentElement.scrollWidth <= window.innerWidth + 1"), "settings scroll sideways"
        narrow.click("#reset-no")
        assert http.get("/_emulator/messages/page").json()["items"], "a reset that was not confirmed wiped the messages"
        shot(narrow, "narrow-settings")


def test_the_console_fetches_nothing_from_outside_and_says_so(http) -> None:
    page = http.get("/_console/")
    assert page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    for path in FILES:
        body = http.get(f"/_console{path}").text
        assert "http://" not in body and "https://" not in body and "//cdn" not in body, path
    assert http.get("/", follow_redirects=False).headers["location"] == "/_console/"


def test_pages_of_messages_are_cut_on_the_server_newest_first(http) -> None:
    numbers = [f"1199111{i:04d}" for i in range(1, 8)]
    for number in numbers:
        send(http, number, "page")
    first = http.get("/_emulator/messages/page", params={"limit": 3}).json()
    second = http.get("/_emulator/messages/page", params={"limit": 3, "before": first["next_before"]}).json()
    seen = [m["number"] for m in first["items"] + second["items"]]
    assert seen == numbers[::-1][:6]
    assert http.get("/_emulator/messages/page", params={"number": numbers[2]}).json()["items"][0]["number"] == numbers[2]
    assert http.get("/_emulator/messages/page", params={"text": "PAGE", "limit": 500}).json()["next_before"] is None
    assert http.get("/_emulator/messages/page", params={"limit": "x"}).status_code == 400
    assert http.get("/_emulator/message", params={"id": "999999"}).status_code == 409


def test_the_event_stream_obeys_the_control_token(tmp_path: Path) -> None:
    """EventSource sets no header: the console's stream carries the token as ?token=, and is refused without it."""
    from smsconform.emulator.server import Emulator

    emu = Emulator(db=tmp_path / "emulator.sqlite3", port=0, smpp_port=0, frozen=True, control_token="segredo")
    with emu.running(), httpx.Client(base_url=emu.base_url, timeout=10, trust_env=False) as client:
        assert client.get("/_emulator/events").status_code == 401
        assert client.get("/_emulator/events", params={"token": "outro"}).status_code == 401
        with client.stream("GET", "/_emulator/events", params={"token": "segredo"}) as stream:
            assert stream.status_code == 200
            first = next(line for line in stream.iter_lines() if line.startswith("data:"))
        assert '"version"' in first
