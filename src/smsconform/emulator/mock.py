"""In-process mocks: httpx (through respx) and requests (through responses) answered by the emulator itself.

    from smsconform.emulator import mock

    with mock() as sms:                           # http://127.0.0.1:2738, the emulator's own address
        httpx.get("http://127.0.0.1:2738/sms/send", params={...})
        sms.advance(10)                           # the virtual clock, as POST /_emulator/clock does

    @mock("http://127.0.0.1:2738", "http://54.233.99.254", frozen=True)   # and the providers' hosts
    def test_client(sms_emulator): ...            # a parameter of that name receives the handle

No socket is opened: a request to one of the mocked base URLs becomes an emulator `Request` and goes
through the very `EmulatorApp.handle` the server runs (the same dialects, journal, faults and control API
under `/_emulator/`), on a fresh `Core(":memory:")`. Requests to any other URL pass through untouched
(``passthrough=False`` refuses them instead). Status, DLR and MO callbacks are delivered after each request
to the receivers' real URLs with urllib, which neither mock patches, as the server's background sender
would (``callbacks=False`` leaves them in the outbox; ``deliver_callbacks()`` sends them on demand).

`emulator_mock_fixture()` is the generator behind the pytest fixture `sms_emulator` (frozen clock).
"""
from __future__ import annotations

import functools
import inspect
import re
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Callable, Iterator, TypeVar
from urllib.parse import unquote, urlsplit

import httpx
import requests
import respx
import responses

from . import callback_targets
from .app import EmulatorApp, Outcome
from .core import Core
from .guard import TOKEN_HEADER, ControlGuard
from .http import Request

DEFAULT_BASE_URL = "http://127.0.0.1:2738"
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
HANDLE_PARAMETER = "sms_emulator"
CALLBACK_TIMEOUT = 5.0

F = TypeVar("F", bound=Callable[..., Any])


def _pattern(base_url: str) -> re.Pattern[str]:
    """The base URL and anything under it, not a longer host or port (`:27380` is not `:2738`)."""
    return re.compile("^" + re.escape(base_url.rstrip("/")) + r"(?:[/?#]|$)", re.IGNORECASE)


class EmulatorMock:
    """The handle of one mocked emulator: ``core`` and ``app`` are the objects answering the requests."""

    def __init__(self, urls: tuple[str, ...], *, frozen: bool = False, passthrough: bool = True,
                 callbacks: bool = True, control_token: str | None = None) -> None:
        if not urls:
            raise ValueError("mock() needs at least one base URL")
        self.urls = tuple(u.rstrip("/") for u in urls)
        # The control API answers the mocked hosts (as the server answers its bound address), and with a
        # token only requests carrying it, as a server started with --control-token does.
        self.guard = ControlGuard(frozenset((urlsplit(u).hostname or "").lower() for u in self.urls),
                                  token=control_token)
        self.frozen = frozen
        self.passthrough = passthrough
        self.callbacks = callbacks
        self.core: Core | None = None
        self.app: EmulatorApp | None = None
        self._patterns = [(_pattern(u), urlsplit(u).path.rstrip("/")) for u in self.urls]
        self._lock = threading.RLock()
        self._respx: respx.MockRouter | None = None
        self._responses: responses.RequestsMock | None = None

    # -- life cycle -----------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.urls[0]

    @property
    def active(self) -> bool:
        return self._respx is not None

    def start(self) -> "EmulatorMock":
        """A fresh emulator (in-memory state, seeded profile) and both patches."""
        if self.active:
            raise RuntimeError("this mock is already active")
        self.core = Core(":memory:", frozen=self.frozen)
        self.app = EmulatorApp(self.core, control_guard=self.guard)
        router = respx.MockRouter(assert_all_called=False, assert_all_mocked=not self.passthrough)
        for pattern, _ in self._patterns:
            router.route(url__regex=pattern.pattern).mock(side_effect=self._httpx_side_effect)
        if self.passthrough:
            router.route().pass_through()
        rsps = responses.RequestsMock(assert_all_requests_are_fired=False)
        for pattern, _ in self._patterns:
            for method in HTTP_METHODS:
                rsps.add_callback(method, pattern, callback=self._requests_callback, content_type=None)
        if self.passthrough:
            rsps.add_passthru(re.compile(".*"))
        router.start()
        try:
            rsps.start()
        except BaseException:
            router.stop(quiet=True)
            raise
        self._respx, self._responses = router, rsps
        return self

    def stop(self) -> None:
        router, rsps = self._respx, self._responses
        self._respx = self._responses = None
        try:
            if rsps is not None:
                rsps.stop(allow_assert=False)
                rsps.reset()
        finally:
            if router is not None:
                router.stop(quiet=True)
            if self.core is not None:
                self.core.store.close()

    def __enter__(self) -> "EmulatorMock":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __call__(self, func: F) -> F:
        """As a decorator: a fresh emulator for each call; a parameter named `sms_emulator` gets the handle."""
        wants_handle = HANDLE_PARAMETER in inspect.signature(func).parameters

        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self:
                    if wants_handle:
                        kwargs[HANDLE_PARAMETER] = self
                    return await func(*args, **kwargs)
            wrapper: Callable[..., Any] = async_wrapper
        else:
            @functools.wraps(func)
            def sync_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self:
                    if wants_handle:
                        kwargs[HANDLE_PARAMETER] = self
                    return func(*args, **kwargs)
            wrapper = sync_wrapper
        if wants_handle:   # pytest must not look for a fixture of that name
            signature = inspect.signature(func)
            wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
                parameters=[p for n, p in signature.parameters.items() if n != HANDLE_PARAMETER])
        return wrapper  # type: ignore[return-value]

    # -- the shared path: one emulator request ------------------------------------------------------
    def _path(self, url: str) -> str:
        """The request path as the emulator sees it: decoded, without the base URL's own path prefix."""
        path = unquote(urlsplit(url).path) or "/"
        for pattern, prefix in self._patterns:
            if prefix and pattern.match(url) and path.startswith(prefix):
                return path[len(prefix):] or "/"
        return path

    def handle(self, method: str, url: str, headers: dict[str, str], body: bytes) -> Outcome:
        if self.app is None:
            raise RuntimeError("the mock is not active")
        lowered = {k.lower(): v for k, v in headers.items()}
        # requests adds Host below the adapter `responses` replaces: give the app the Host a socket would
        # carry, so what it renders from it (the served WSDL's address) names the mocked base URL.
        lowered.setdefault("host", urlsplit(url).netloc)
        request = Request(method=method.upper(), path=self._path(url),
                          query_string=urlsplit(url).query.encode("latin-1", "replace"), headers=lowered, body=body)
        with self._lock:
            outcome = self.app.handle(request)
        if outcome.delay:
            time.sleep(outcome.delay)
        if self.callbacks:
            self.deliver_callbacks()
        return outcome

    def _httpx_side_effect(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        outcome = self.handle(request.method, str(request.url), dict(request.headers), body)
        if outcome.drop:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response (injected fault)",
                                            request=request)
        response = outcome.response
        return httpx.Response(response.status, headers=response.all_headers(), content=response.body,
                              request=request)

    def _requests_callback(self, prepared: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        body = prepared.body
        if body is None:
            data = b""
        elif isinstance(body, str):
            data = body.encode("utf-8")
        elif isinstance(body, (bytes, bytearray)):
            data = bytes(body)
        else:   # an iterable of chunks
            data = b"".join(c.encode("utf-8") if isinstance(c, str) else bytes(c) for c in body)
        outcome = self.handle(prepared.method or "GET", prepared.url or "", dict(prepared.headers), data)
        if outcome.drop:
            raise requests.exceptions.ConnectionError("Connection aborted (injected fault)", request=prepared)
        response = outcome.response
        headers = {k.title(): v for k, v in response.all_headers() if k.lower() != "content-length"}
        return response.status, headers, response.body

    # -- conveniences ---------------------------------------------------------------------------------
    def control(self, method: str, path: str, body: Any = None) -> Any:
        """Call the control API (`/_emulator<path>`) directly: control("POST", "/clock", {"advance": 10})."""
        import json

        payload = json.dumps(body).encode() if body is not None else b""
        headers = {"content-type": "application/json"}
        if self.guard.token is not None:
            headers[TOKEN_HEADER] = self.guard.token
        outcome = self.handle(method, self.base_url + "/_emulator" + path, headers, payload)
        return json.loads(outcome.response.body or b"null")

    def advance(self, seconds: float) -> float:
        """Move the virtual clock (and every status change due by then), then deliver the callbacks."""
        if self.core is None:
            raise RuntimeError("the mock is not active")
        with self._lock:
            now = self.core.advance(seconds)
        if self.callbacks:
            self.deliver_callbacks()
        return now

    def deliver_callbacks(self) -> int:
        """Send the outbox's due callbacks now, outside the lock (a receiver may call the emulator back)."""
        if self.core is None:
            return 0
        with self._lock:
            due = self.core.due_callbacks()
        for item in due:
            error: str | None = None
            why = callback_targets.refusal(item["url"])
            try:
                if why is not None:
                    raise ValueError(f"not called: {why}")
                req = urllib.request.Request(item["url"], method=item["method"],
                                             data=(item["body"] or "").encode() if item["method"] == "POST" else None)
                with urllib.request.urlopen(req, timeout=CALLBACK_TIMEOUT) as answer:   # noqa: S310 (loopback)
                    if not 200 <= answer.status < 300:
                        error = f"HTTP {answer.status}"
            except urllib.error.HTTPError as exc:
                error = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            with self._lock:
                self.core.callback_done(item["id"], error)
        return len(due)


def mock(base_url: str = DEFAULT_BASE_URL, *more_urls: str, frozen: bool = False, passthrough: bool = True,
         callbacks: bool = True, control_token: str | None = None) -> EmulatorMock:
    """Route httpx and requests calls for these base URLs to an in-process emulator (see the module doc)."""
    return EmulatorMock((base_url, *more_urls), frozen=frozen, passthrough=passthrough, callbacks=callbacks,
                        control_token=control_token)


def emulator_mock_fixture() -> Iterator[EmulatorMock]:
    """The pytest fixture `sms_emulator`: a mocked emulator at its own address, with a frozen clock."""
    with mock(frozen=True) as handle:
        yield handle
