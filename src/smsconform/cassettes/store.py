"""Reading and writing cassettes in vcrpy's own format (version 1), with our notes beside each interaction.

Files are vcrpy cassettes that vcrpy itself can replay; each interaction may carry an extra ``smsconform``
mapping (the test or documented example it comes from, its dialect), which vcrpy ignores. Reading goes
through vcrpy's safe YAML loader only (vcrpy >= 8.2.1 refuses ``!!python/object`` tags), because
cassettes may come from others.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urlsplit

import yaml
from vcr.request import Request
from vcr.serialize import CASSETTE_FORMAT_VERSION
from vcr.serializers import compat, yamlserializer


class CassetteError(Exception):
    """A file that is not a readable cassette."""


@dataclass
class Interaction:
    request: Request
    response: dict[str, Any]
    meta: dict[str, Any] = field(default_factory=dict)

    # -- the request ------------------------------------------------------------------------------
    @property
    def method(self) -> str:
        return str(self.request.method).upper()

    @property
    def path(self) -> str:
        return urlsplit(self.request.uri).path or "/"

    def query(self) -> dict[str, str]:
        """Query parameters as a server reads them (split on & and the first =, then decoded)."""
        raw = urlsplit(self.request.uri).query
        pairs = (item.partition("=") for item in raw.split("&") if item)
        return {unquote_plus(k): unquote_plus(v) for k, _, v in pairs}

    def query_keys(self) -> set[str]:
        """The query's names, lower-cased, with or without a value (``?WSDL``)."""
        raw = urlsplit(self.request.uri).query
        return {unquote_plus(item.partition("=")[0]).lower() for item in raw.split("&") if item}

    def request_text(self) -> str:
        body = self.request.body
        if body is None:
            return ""
        return body.decode("utf-8", "replace") if isinstance(body, (bytes, bytearray)) else str(body)

    def request_header(self, name: str) -> str | None:
        for key, value in (self.request.headers or {}).items():
            if key.lower() == name.lower():
                return value[0] if isinstance(value, list) else value
        return None

    def form(self) -> dict[str, str]:
        if "x-www-form-urlencoded" not in (self.request_header("content-type") or ""):
            return {}
        pairs = (item.partition("=") for item in self.request_text().split("&") if item)
        return {unquote_plus(k): unquote_plus(v) for k, _, v in pairs}

    # -- the answer -------------------------------------------------------------------------------
    @property
    def status(self) -> int:
        return int((self.response.get("status") or {}).get("code", 0))

    def header(self, name: str) -> str | None:
        for key, values in (self.response.get("headers") or {}).items():
            if key.lower() == name.lower():
                return values[0] if isinstance(values, list) and values else values
        return None

    @property
    def media_type(self) -> str | None:
        value = self.header("content-type")
        if not value:
            return None
        message = Message()
        message["content-type"] = value
        return message.get_content_type()

    @property
    def text(self) -> str:
        body = (self.response.get("body") or {}).get("string", b"")
        if isinstance(body, str):
            return body
        charset = "utf-8"
        value = self.header("content-type")
        if value:
            message = Message()
            message["content-type"] = value
            charset = message.get_content_charset() or "utf-8"
        return bytes(body).decode(charset, "replace")

    def label(self) -> str:
        return f"{self.method} {self.path}"


def interaction_dict(interaction: Interaction) -> dict[str, Any]:
    out = {"request": compat.convert_to_unicode(interaction.request._to_dict()),
           "response": compat.convert_to_unicode(interaction.response)}
    if interaction.meta:
        out["smsconform"] = interaction.meta
    return out


def write_cassette(path: Path, interactions: list[Interaction], metadata: dict[str, Any] | None = None) -> Path:
    data: dict[str, Any] = {"version": CASSETTE_FORMAT_VERSION,
                            "interactions": [interaction_dict(i) for i in interactions]}
    if metadata:
        data["metadata"] = metadata
    path.parent.mkdir(parents=True, exist_ok=True)
    # vcrpy's own dumper escapes every accent; the safe dumper with unicode keeps the documents' Portuguese
    # readable, and vcrpy's safe loader reads it back the same.
    path.write_text(yaml.dump(data, Dumper=yaml.SafeDumper, allow_unicode=True, width=110), encoding="utf-8")
    return path


def read_cassette(path: Path) -> tuple[list[Interaction], dict[str, Any]]:
    try:
        data = yamlserializer.deserialize(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise CassetteError(f"{path}: not UTF-8 text ({exc})") from None
    except yaml.YAMLError as exc:  # includes the safe loader's refusal of python/object tags
        raise CassetteError(f"{path}: not a safe vcrpy cassette: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
        raise CassetteError(f"{path}: no `interactions` list: not a vcrpy cassette (format {CASSETTE_FORMAT_VERSION})")
    out = []
    for index, raw in enumerate(data["interactions"]):
        try:
            request = Request._from_dict(raw["request"])
            response = compat.convert_to_bytes(raw["response"])
        except (KeyError, TypeError, AttributeError) as exc:
            raise CassetteError(f"{path}: interaction {index}: malformed ({exc})") from None
        out.append(Interaction(request, response, dict(raw.get("smsconform") or {})))
    return out, dict(data.get("metadata") or {})
