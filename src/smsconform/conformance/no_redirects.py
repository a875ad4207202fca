"""The target is only what the profile names: no client of the suite follows a redirect.

A hostile or misconfigured sandbox could otherwise make a CI runner request any address (an internal
service, a cloud metadata endpoint), and the redirected answer would be judged as the target's. So every
client here sends with redirects off (httpx's default, ``allow_redirects=False`` for requests, which zeep's
transport and schemathesis use too) and a redirect answer is a failure that names where it pointed.
"""
from __future__ import annotations

from typing import Any

import requests


class Redirected(AssertionError):
    """The target answered a redirect; the message names the Location the suite did not follow."""


def refuse_redirect(url: str, status: int, location: str | None) -> None:
    raise Redirected(f"{url} answered HTTP {status} redirecting to {location!r}: the suite follows no redirect "
                     "(the target is only what its profile names)")


class NoRedirectSession(requests.Session):
    """A requests session that never follows a redirect, whatever its caller asks, and fails on one."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False  # no proxy or netrc of the environment: loopback and the profile only

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        response = super().request(method, url, *args, **kwargs)
        if response.is_redirect:
            refuse_redirect(str(url), response.status_code, response.headers.get("location"))
        return response
