"""Which URLs the emulator will call back: loopback by default, so that it cannot be turned on a network.

The emulator delivers status, DLR and MO callbacks to URLs its clients give (the control API's
/_emulator/callbacks, painel's url_callback). Left open, that makes it a request forger (SSRF) for anyone
who can reach it: a request to the cloud metadata address, to a router's admin page, to an internal
service. The receivers a test or a client developer runs are on this machine, so:

- a callback URL is ``http`` or ``https``, names a host and carries no user or password;
- its host is a loopback one (``localhost``, ``*.localhost``, 127.0.0.0/8, ``::1``), or one listed in
  SMSCONFORM_CALLBACK_HOSTS (comma-separated names, addresses or networks, e.g.
  ``host.docker.internal,10.0.0.0/8``; ``*`` lets any host through);
- even with ``*``, a link-local (169.254.0.0/16: the cloud metadata service; fe80::/10), multicast,
  unspecified or reserved address is refused.

The control API refuses another URL with 400; painel's url_callback, which the provider's API accepts
as given, is checked again when it is due: the emulator does not call it and records why in the outbox.
"""
from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

from .guard import is_loopback

HOSTS_ENV = "SMSCONFORM_CALLBACK_HOSTS"
MAX_URL = 2048


def _allowed_extra(name: str, allowed: list[str]) -> bool:
    address = _address(name)
    for entry in allowed:
        if entry == "*" or entry == name:
            return True
        if address is not None and "/" in entry:
            try:
                if address in ipaddress.ip_network(entry, strict=False):
                    return True
            except ValueError:
                continue
    return False


def _address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:169.254.169.254 is 169.254.169.254
    return mapped or address


def refusal(url: object, allowed: str | None = None) -> str | None:
    """Why the emulator will not call ``url`` back, or None when it will (see the module doc)."""
    if not isinstance(url, str):
        return "a callback URL is a string"
    if len(url) > MAX_URL:
        return f"a callback URL has at most {MAX_URL} characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError as exc:
        return f"not a URL: {exc}"
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "a callback URL is http:// or https:// with a host"
    if parts.username is not None or parts.password is not None:
        return "a callback URL carries no user or password"
    name = parts.hostname.lower().rstrip(".")
    if is_loopback(name):
        return None
    address = _address(name)
    if address is not None and (address.is_link_local or address.is_multicast or address.is_unspecified
                                or address.is_reserved):
        return f"{name} is a link-local, multicast, unspecified or reserved address: never called back"
    extra = [e.strip().lower() for e in (os.environ.get(HOSTS_ENV, "") if allowed is None else allowed).split(",")]
    if _allowed_extra(name, [e for e in extra if e]):
        return None
    return (f"the emulator calls back loopback hosts only; {name} is not one (list it in {HOSTS_ENV} to "
            "allow it)")
