"""Who may steer the emulator: the control API refuses what a hostile web page could make a browser send.

The control API resets state, injects faults and registers URLs the emulator then calls, so a page open
in the developer's browser must not reach it:

- cross-site requests (CSRF): a POST with a body must say ``Content-Type: application/json``, which no
  HTML form and no "simple" cross-origin fetch can send without a CORS preflight (never granted here);
  a request whose ``Origin`` is not the emulator's own (``scheme://Host``) is refused, and so is one a
  browser marks ``Sec-Fetch-Site: cross-site``. Same-origin pages (the web console) keep working.
- DNS rebinding: a hostile name resolved to 127.0.0.1 still arrives with that name in ``Host``; only the
  bound address, a loopback name (``localhost``, ``*.localhost``, 127.0.0.0/8, ``::1``) or, when the
  emulator listens on every interface, an IP address (a rebinding attack always carries a name) pass.
- shared setups: an optional token (``--control-token`` or SMSCONFORM_CONTROL_TOKEN), sent in the
  ``X-Emulator-Token`` header (or, on a GET only, as ``?token=``: the web console's event stream cannot
  set a header), without which nothing under /_emulator/ answers.

The provider dialects are not guarded: real clients send them anything, from anywhere.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from .http import Request, Response

TOKEN_HEADER = "x-emulator-token"
TOKEN_ENV = "SMSCONFORM_CONTROL_TOKEN"
TOKEN_QUERY = "token"   # a GET may carry it as ?token= instead: a browser's EventSource cannot set headers
LOOPBACK_NAMES = frozenset({"localhost"})
WILDCARD_ADDRESSES = frozenset({"0.0.0.0", "::", ""})


def env_token() -> str | None:
    """The control token the environment gives (empty counts as none)."""
    return os.environ.get(TOKEN_ENV) or None


def host_name(authority: str) -> str:
    """The host of a ``Host`` header or URL authority, lowercase, without port, brackets or final dot."""
    authority = authority.strip().lower()
    if authority.startswith("["):
        return authority[1:].partition("]")[0]
    if authority.count(":") > 1:  # a bare IPv6 address
        return authority
    return authority.partition(":")[0].rstrip(".")


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def is_loopback(name: str) -> bool:
    """Whether a host name or address can only mean this machine."""
    name = host_name(name)
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    address = _ip(name)
    return address is not None and address.is_loopback


def _refused(status: int, why: str) -> Response:
    return Response.json({"error": why}, status)


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (content_type.startswith("application/")
                                                   and content_type.endswith("+json"))


@dataclass(frozen=True)
class ControlGuard:
    """The checks every control request passes before it is routed; `refusal` is None when it may go on."""

    hosts: frozenset[str] = frozenset()   # names besides the loopback ones that Host may carry
    any_address: bool = False             # bound to every interface: any IP address in Host is ours
    token: str | None = None

    def __post_init__(self) -> None:
        if self.token is not None and not (self.token.isascii() and self.token.isprintable() and self.token.strip()
                                           == self.token and self.token):
            raise ValueError("a control token is visible ASCII (it travels in an HTTP header), without spaces "
                             "at its ends")

    @classmethod
    def for_bind(cls, host: str, token: str | None = None) -> "ControlGuard":
        name = host_name(host)
        return cls(frozenset({name}), any_address=name in WILDCARD_ADDRESSES, token=token)

    def host_allowed(self, authority: str) -> bool:
        name = host_name(authority)
        if is_loopback(name) or name in self.hosts:
            return True
        return self.any_address and _ip(name) is not None

    def refusal(self, request: Request) -> Response | None:
        headers = request.headers
        host = headers.get("host")
        if host is not None and not self.host_allowed(host):
            return _refused(403, f"Host {host!r} is not this emulator's address nor a loopback name "
                                 "(a DNS-rebinding request?)")
        origin = headers.get("origin")
        if origin is not None and (host is None or urlsplit(origin).netloc.lower() != host.strip().lower()):
            return _refused(403, f"Origin {origin!r} is not this emulator's own: the control API is not "
                                 "for other sites")
        if headers.get("sec-fetch-site", "").lower() == "cross-site":
            return _refused(403, "a cross-site request: the control API is not for other sites")
        if request.method == "POST" and (request.body or "content-type" in headers) \
                and not _is_json(request.content_type):
            return _refused(415, "a control request body is JSON: send Content-Type: application/json")
        if self.token is not None:
            given = headers.get(TOKEN_HEADER, "")
            if not given and request.method == "GET":  # EventSource (the console's live view) sets no header
                given = next((v for k, v in request.query if k == TOKEN_QUERY), "")
            if not hmac.compare_digest(given.encode("latin-1", "replace"), self.token.encode("ascii")):
                return _refused(401, f"this emulator's control API needs its token in the {TOKEN_HEADER} header")
        return None
