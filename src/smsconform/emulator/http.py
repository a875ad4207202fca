"""A framework-free HTTP request and response, so the server and the in-process mocks run the same code."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

MAX_BODY = 16 * 1024 * 1024  # send-multiple with 5000 messages is about 1 MiB; anything far larger is refused


def _decode(raw: bytes) -> str:
    """Providers' clients send UTF-8, and older ones ISO-8859-1 (``%E7`` for ç): accept both."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def parse_pairs(data: bytes | str) -> list[tuple[str, str]]:
    """Parse a query string or form body, keeping blank values and order, tolerating raw spaces."""
    if isinstance(data, str):
        data = data.encode("latin-1", "replace") if not data.isascii() else data.encode()
    pairs = []
    if b"%" not in data and b"+" not in data:  # nothing escaped (a typical send): no unquoting to do
        for chunk in data.split(b"&"):
            if chunk:
                key, _, value = chunk.partition(b"=")
                pairs.append((_decode(key), _decode(value)))
        return pairs
    for chunk in data.split(b"&"):
        if not chunk:
            continue
        key, _, value = chunk.partition(b"=")
        pairs.append((_decode(unquote_to_bytes(key.replace(b"+", b" "))),
                      _decode(unquote_to_bytes(value.replace(b"+", b" ")))))
    return pairs


def is_text(value: str) -> bool:
    """Whether a string is text UTF-8 can carry: a JSON ``\\ud800`` escape decodes to a lone surrogate,
    which no store, encoder or terminal downstream accepts."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"{text} is out of range of a double")
    return number


def strict_json(text: str) -> Any:
    """json.loads without Python's extensions (NaN, Infinity, 1e400 read as inf), and a document nested
    deeper than the parser's stack a ValueError like any other malformed body, not a RecursionError."""
    try:
        return json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


@dataclass
class Request:
    method: str
    path: str
    query_string: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    _query: list[tuple[str, str]] | None = field(default=None, repr=False, compare=False)

    @property
    def query(self) -> list[tuple[str, str]]:
        if self._query is None:
            self._query = parse_pairs(self.query_string)
        return self._query

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def form(self) -> list[tuple[str, str]]:
        """A urlencoded body, whatever Content-Type the client sent (some send none)."""
        if not self.body or self.content_type in ("application/json", "text/xml", "application/soap+xml"):
            return []
        stripped = self.body.lstrip()
        if stripped[:1] in (b"{", b"[", b"<"):
            return []
        return parse_pairs(self.body)

    def params(self, *, lower: bool = False) -> dict[str, str]:
        """Query string then form body; the first occurrence of a name wins."""
        merged: dict[str, str] = {}
        for key, value in self.query + self.form():
            merged.setdefault(key.lower() if lower else key, value)
        return merged

    def json(self) -> Any:
        """The body as JSON, strictly: what no JSON parser elsewhere would read is malformed (ValueError)."""
        return strict_json(self.body.decode("utf-8-sig"))

    @property
    def url(self) -> str:
        return self.path + (("?" + self.query_string.decode("latin-1")) if self.query_string else "")


def json_text(data: Any) -> str:
    """How every JSON answer is written: compact, UTF-8 as is (the providers do not escape accents)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def text(cls, text: str, status: int = 200) -> "Response":
        return cls(status, text.encode("utf-8", "replace"))  # a lone surrogate echoed back becomes "?"

    @classmethod
    def json(cls, data: Any, status: int = 200) -> "Response":
        return cls.json_text(json_text(data), status)

    @classmethod
    def json_text(cls, text: str, status: int = 200) -> "Response":
        """A JSON answer already rendered by json_text() (or spliced from its pieces). A lone surrogate
        can only stand in a JSON string, where backslashreplace writes it as the escape it came in as."""
        return cls(status, text.encode("utf-8", "backslashreplace"), "application/json; charset=utf-8")

    @classmethod
    def xml(cls, text: str, status: int = 200, content_type: str = "text/xml; charset=utf-8") -> "Response":
        return cls(status, text.encode("utf-8"), content_type)

    def all_headers(self) -> list[tuple[str, str]]:
        return [("content-type", self.content_type), ("content-length", str(len(self.body))), *self.headers]
