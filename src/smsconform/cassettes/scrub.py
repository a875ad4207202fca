"""Credentials out of cassettes, before vcrpy keeps a request: placeholders for every way a dialect logs in.

The documented parameters are replaced by name (vcrpy's ``filter_headers``, ``filter_query_parameters`` and
``filter_post_data_parameters``): the Authorization header (Bearer for fcati, Basic for speedmarket), the
query and form parameters ``u`` (mensagem), ``user``/``password`` (speedmarket), ``lgn``/``pwd`` (painel),
``h`` only where it is the user (mensagem ``recv``; elsewhere ``h`` is a message hash), and the SOAP
``Identificacao`` element (wbsapi). Then a last pass replaces any value of the profile's secrets wherever
it still appears (a URL path, a header, an answer that echoes a login), in the forms a file could hold it.
Requests to anything but the target's dialects (its control API, the suite's own callback receiver) are
not recorded at all.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..reports.redact import Redactor

# Square brackets, not angle brackets: a placeholder must keep a SOAP body well-formed XML.
USER, PASSWORD, TOKEN, SECRET, AUTHORIZATION = "[USER]", "[PASSWORD]", "[TOKEN]", "[SECRET]", "[AUTHORIZATION]"
HEADERS = (("authorization", AUTHORIZATION), ("proxy-authorization", AUTHORIZATION))
PARAMETERS = (("u", USER), ("user", USER), ("password", PASSWORD), ("lgn", USER), ("pwd", PASSWORD),
              ("token", TOKEN), ("Identificacao", USER))
USER_AS_H = ("/sms/recv",)  # mensagem recv: "h | Usuário" (003 § Recebimento de Mensagens (MO))
_SOAP_USER = re.compile(r"(<(?:[\w.-]+:)?Identificacao\b[^>]*>)(.*?)(</(?:[\w.-]+:)?Identificacao>)",
                        re.S | re.IGNORECASE)


def _origin(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port, parts.path


def _under(url: str, prefix: str) -> bool:
    """Whether a URL is at or below a base URL (default ports and host case normalised, as clients send)."""
    scheme, host, port, path = _origin(url)
    p_scheme, p_host, p_port, p_path = _origin(prefix)
    base = p_path.rstrip("/")
    return (scheme, host, port) == (p_scheme, p_host, p_port) and (path == base or path.startswith(base + "/")
                                                                   or not base)


def _replace_query(uri: str, names: dict[str, str]) -> str:
    parts = urlsplit(uri)
    if not parts.query:
        return uri
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(k in names for k, _ in pairs):
        return uri
    return urlunsplit(parts._replace(query=urlencode([(k, names.get(k, v)) for k, v in pairs])))


@dataclass(frozen=True)
class Scrubber:
    secrets: tuple[str, ...]
    keep: tuple[str, ...] = ()     # URL prefixes of the target's dialects; empty: keep every request
    drop: tuple[str, ...] = ()     # URL prefixes never recorded (the control API)

    def vcr_options(self) -> dict[str, Any]:
        """The vcrpy configuration that applies this scrubbing before anything is recorded."""
        return {
            "filter_headers": list(HEADERS),
            "filter_query_parameters": list(PARAMETERS),
            "filter_post_data_parameters": list(PARAMETERS),
            "before_record_request": self.request,
            "before_record_response": self.response,
            "decode_compressed_response": True,
        }

    @property
    def redactor(self) -> Redactor:
        return _redactor(self.secrets)

    def wanted(self, uri: str) -> bool:
        if any(_under(uri, prefix) for prefix in self.drop):
            return False
        return not self.keep or any(_under(uri, prefix) for prefix in self.keep)

    def request(self, request: Any) -> Any:
        """vcrpy's before_record_request: None drops the request; otherwise a copy without credentials."""
        if not self.wanted(request.uri):
            return None
        if urlsplit(request.uri).path.endswith(USER_AS_H):
            request.uri = _replace_query(request.uri, {"h": USER})
        redactor = self.redactor
        body = request.body
        if isinstance(body, (bytes, bytearray)):
            try:
                text = _SOAP_USER.sub(lambda m: m.group(1) + USER + m.group(3), body.decode("utf-8"))
                request.body = redactor.text(text).encode("utf-8")
            except UnicodeDecodeError:
                pass  # not text: nothing a credential placeholder could be written into
        elif isinstance(body, str):
            request.body = redactor.text(_SOAP_USER.sub(lambda m: m.group(1) + USER + m.group(3), body))
        request.uri = redactor.text(request.uri)
        headers = {k: redactor.text(v if isinstance(v, str) else str(v)) for k, v in request.headers.items()}
        if request.body is not None and body is not None:  # the body may have changed length
            for name in [k for k in headers if k.lower() == "content-length"]:
                headers[name] = str(len(request.body if isinstance(request.body, (bytes, bytearray))
                                        else str(request.body).encode("utf-8")))
        request.headers = headers
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        """vcrpy's before_record_response: an answer that echoes a credential keeps only a placeholder."""
        redactor = self.redactor
        if not redactor.forms:
            return response
        body = response.get("body", {}).get("string")
        changed = False
        if isinstance(body, (bytes, bytearray)):
            text = body.decode("utf-8", "replace")
            if redactor.hit(text):
                response["body"]["string"], changed = redactor.text(text).encode("utf-8"), True
        elif isinstance(body, str) and redactor.hit(body):
            response["body"]["string"], changed = redactor.text(body), True
        headers = {k: [redactor.text(str(v)) for v in (vs if isinstance(vs, list) else [vs])]
                   for k, vs in (response.get("headers") or {}).items()}
        if changed:
            new = response["body"]["string"]
            for name in [k for k in headers if k.lower() == "content-length"]:
                headers[name] = [str(len(new if isinstance(new, (bytes, bytearray)) else new.encode("utf-8")))]
        response["headers"] = headers
        return response


@lru_cache(maxsize=8)
def _redactor(secrets: tuple[str, ...]) -> Redactor:
    return Redactor.of(secrets, placeholder=SECRET)

