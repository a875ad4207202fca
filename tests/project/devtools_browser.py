"""Debian's headless Chromium driven over the DevTools protocol, as a person would use a page: open it,
click, type, read what it shows, take a screenshot. No WebDriver and no browser download: the browser is
/usr/bin/chromium (scripts/ensure-chromium), the protocol a websocket (websocket-client)."""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import websocket

CHROMIUM = Path("/usr/bin/chromium")
# --lang pins the order a datetime-local field takes its parts in (en-US: month, day, year, then the time)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--lang=en-US",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--remote-allow-origins=*")


class Browser:
    """One headless Chromium with one page; ``with Browser(size) as page: page.open(url) ...``."""

    def __init__(self, width: int = 1280, height: int = 900) -> None:
        self.size = (width, height)
        self._ids = count(1)
        self.dialogs: list[dict[str, Any]] = []   # every alert/confirm/prompt the page opened
        self.prompt_answer: str | None = None     # what a person types into a prompt; None dismisses it

    def __enter__(self) -> "Browser":
        self.profile = Path(tempfile.mkdtemp(prefix="smsconform-chromium-"))
        self.process = subprocess.Popen(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={self.profile}", f"--window-size={self.size[0]},{self.size[1]}",
             "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.__exit__(None, None, None)
                raise RuntimeError("Chromium did not open its DevTools port")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        pages = [t for t in httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=10).json() if t["type"] == "page"]
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=self.size[0], height=self.size[1],
                  deviceScaleFactor=1, mobile=False)
        return self

    def __exit__(self, *exc: Any) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            ws.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("method") == "Page.javascriptDialogOpening":
                self._answer(message["params"])
            elif message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def _answer(self, dialog: dict[str, Any]) -> None:
        """A dialog blocks the page until answered: answer it as soon as it opens (its reply is ignored)."""
        self.dialogs.append(dialog)
        self.ws.send(json.dumps({"id": next(self._ids), "method": "Page.handleJavaScriptDialog",
                                 "params": {"accept": self.prompt_answer is not None,
                                            "promptText": self.prompt_answer or ""}}))

    # -- what a person does -----------------------------------------------------------------------
    def open(self, url: str, ready: bool = True) -> None:
        self.call("Page.navigate", url=url)
        if ready:
            self.wait_for("document.body && document.body.dataset.ready === 'true'", what=f"{url} to be ready")

    def wait_for_dialog(self, number: int = 1, timeout: float = 15.0) -> dict[str, Any]:
        """The page's number-th dialog (answered with prompt_answer as it opened)."""
        deadline = time.monotonic() + timeout
        while len(self.dialogs) < number:
            if time.monotonic() > deadline:
                raise AssertionError(f"the page opened {len(self.dialogs)} dialogs, not {number}, within {timeout} s")
            self.js("0")
            time.sleep(0.05)
        return self.dialogs[number - 1]

    def js(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 15.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = self.js(f"(() => {{ try {{ const v = ({expression}); return v instanceof Node ? true : v; }}"
                            f" catch (e) {{ return null; }} }})()")
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"the page did not show {what or expression} within {timeout} s")
            time.sleep(0.1)

    def click(self, selector: str) -> None:
        """A real mouse click at the element's centre (so a hidden or covered element cannot be clicked)."""
        box = self.js(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null;"
                      f" e.scrollIntoView({{block: 'center'}}); const r = e.getBoundingClientRect();"
                      f" return r.width && r.height ? [r.x + r.width / 2, r.y + r.height / 2] : null; }})()")
        if not box:
            raise AssertionError(f"nothing visible to click at {selector}")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def type(self, selector: str, text: str) -> None:
        """Focus the field and type into it, as the keyboard would."""
        self.click(selector)
        self.call("Input.insertText", text=text)

    def keys(self, text: str) -> None:
        """Type each character as a key press (what a date field or a select's type-ahead listens to)."""
        for ch in text:
            code = f"Digit{ch}" if ch.isdigit() else f"Key{ch.upper()}"
            self.call("Input.dispatchKeyEvent", type="rawKeyDown", key=ch, code=code, windowsVirtualKeyCode=ord(ch.upper()))
            self.call("Input.dispatchKeyEvent", type="char", key=ch, text=ch)
            self.call("Input.dispatchKeyEvent", type="keyUp", key=ch, code=code, windowsVirtualKeyCode=ord(ch.upper()))

    def press(self, key: str, code: int) -> None:
        """A named key (ArrowRight 39, Tab 9, Enter 13, ...)."""
        for kind in ("rawKeyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key=key, code=key, windowsVirtualKeyCode=code)

    def focus(self, selector: str) -> None:
        """Bring the keyboard to a field, as Tab would (a click would open a select's or a date's picker)."""
        if not self.js(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return false;"
                       f" e.focus(); return document.activeElement === e; }})()"):
            raise AssertionError(f"nothing to focus at {selector}")

    def choose(self, selector: str, option: str) -> None:
        """Pick a select's option by typing its text, as a keyboard user does."""
        self.focus(selector)
        self.keys(option)
        chosen = self.js(f"document.querySelector({json.dumps(selector)}).value")
        if chosen != option:
            raise AssertionError(f"typing {option!r} into {selector} chose {chosen!r}")

    def enter_datetime(self, selector: str, moment: str) -> None:
        """Type ``YYYY-MM-DDTHH:MM:SS`` into a datetime-local field part by part (en-US: month, day, year,
        then hour, minute, second and AM/PM), as a person does without the picker."""
        date, clock = moment.split("T")
        year, month, day = date.split("-")
        hour, minute, second = (int(x) for x in clock.split(":"))
        self.focus(selector)
        self.keys(month + day + year)
        self.press("ArrowRight", 39)   # a year field takes up to six digits: move on by hand
        self.keys(f"{(hour % 12) or 12:02d}{minute:02d}{second:02d}{'P' if hour >= 12 else 'A'}")
        typed = self.js(f"document.querySelector({json.dumps(selector)}).value")
        if typed not in (moment, moment.removesuffix(":00")):   # the field drops a zero second
            raise AssertionError(f"typing {moment} into {selector} gave {typed!r}")

    def text(self, selector: str) -> str:
        return self.js(f"(document.querySelector({json.dumps(selector)}) || {{}}).textContent || ''")

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)["data"]
        path.write_bytes(base64.b64decode(data))
        return path
