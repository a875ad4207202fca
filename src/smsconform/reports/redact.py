"""Keeping a target's credentials out of everything smsconform writes.

A secret can reach a report or a cassette in forms other than its own text: percent-encoded in a URL,
escaped in JSON or HTML, or inside an HTTP Basic header as Base64 of ``user:password``. ``Redactor`` replaces
every such form before a text is written; ``find_secrets`` looks for them in files already written, so a
test (and ``certify`` itself) can prove that none got through.
"""
from __future__ import annotations

import base64
import binascii
import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator
from urllib.parse import quote, quote_plus

PLACEHOLDER = "<redacted>"
MIN_LENGTH = 3  # shorter values would match ordinary text everywhere (the plugin's evidence uses the same bound)
_BASIC = re.compile(r"(?i)(basic\s+)([A-Za-z0-9+/]{4,}={0,2})")


# What URL encoders leave unescaped: nothing (quote_plus, urlencode), "/" (quote's default), and the
# characters RFC 3986 allows in a query (httpx, browsers).
_URL_SAFE = ("", "/", "/:@!$'()*,;", "/:@!$&'()*+,;=")


def _spellings(value: str) -> set[str]:
    """One secret as a body can carry it: clear, URL-encoded (UTF-8 or Latin-1, any safe set), JSON (with
    and without ASCII escapes, with ``\\/``), HTML and XML (named and numeric references)."""
    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
             json.dumps(value)[1:-1].replace("/", "\\/"), html.escape(value, quote=True),
             html.escape(value, quote=False), html.escape(value).replace("&#x27;", "&apos;"),
             html.escape(value).encode("ascii", "xmlcharrefreplace").decode("ascii")}
    encodings = ["utf-8"] + (["latin-1"] if value.encode("latin-1", "ignore").decode("latin-1") == value else [])
    for encoding in encodings:
        for safe in _URL_SAFE:
            forms |= {quote(value, safe=safe, encoding=encoding), quote_plus(value, safe=safe, encoding=encoding)}
    return forms


def secret_forms(secrets: Iterable[str]) -> list[str]:
    """Every spelling of the secrets that can appear in a written file, longest first. Matching ignores
    case (Redactor), and the upper- and lower-case secret are spelled too: an answer that upper-cases a
    login (mensagem cnus) also upper-cases its percent-encoded bytes."""
    forms: set[str] = set()
    for value in {s for s in secrets if s and len(s) >= MIN_LENGTH}:
        for variant in {value, value.upper(), value.lower()}:
            forms |= _spellings(variant)
    return sorted((f for f in forms if len(f) >= MIN_LENGTH), key=len, reverse=True)


def _decoded(token: str) -> str:
    try:
        return base64.b64decode(token + "=" * (-len(token) % 4), validate=False).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return ""


# Texts redacted once are remembered: certify rewrites results.json every few seconds with mostly the same
# strings (rule sources, quotes, exchanges), and one pass of the pattern over a text costs far more than a look-up.
MEMO_ENTRIES = 50_000


@dataclass(frozen=True)
class Redactor:
    forms: tuple[str, ...] = ()
    placeholder: str = PLACEHOLDER
    _pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    _memo: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, secrets: Iterable[str], placeholder: str = PLACEHOLDER) -> "Redactor":
        forms = tuple(secret_forms(secrets))
        pattern = re.compile("|".join(map(re.escape, forms)), re.IGNORECASE) if forms else None
        return cls(forms, placeholder, pattern)

    def text(self, value: str) -> str:
        if self._pattern is None:
            return value
        done = self._memo.get(value)
        if done is None:
            if len(self._memo) >= MEMO_ENTRIES:
                self._memo.clear()
            done = self._memo[value] = self._redacted(value)
        return done

    def _redacted(self, value: str) -> str:
        assert self._pattern is not None
        value = _BASIC.sub(lambda m: m.group(1) + self.placeholder if self.hit(_decoded(m.group(2))) else m.group(0),
                           value)
        return self._pattern.sub(self.placeholder, value)

    def hit(self, value: str) -> bool:
        return self._pattern is not None and self._pattern.search(value) is not None

    def data(self, value: Any) -> Any:
        """A copy of a JSON-like structure with every string (keys too) redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.data(k): self.data(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.data(v) for v in value]
        return value


@dataclass(frozen=True)
class Leak:
    path: Path
    line: int
    how: str

    def __str__(self) -> str:  # never prints the secret itself
        return f"{self.path}:{self.line}: holds a credential of the target ({self.how})"


def find_secrets(paths: Iterable[Path], secrets: Iterable[str]) -> list[Leak]:
    """Every line, in the files under ``paths``, where a secret appears (as text, encoded, or in a Basic header)."""
    redactor = Redactor.of(secrets)
    leaks: list[Leak] = []
    if not redactor.forms:
        return leaks
    for path in _files(paths):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if redactor.hit(line):
                leaks.append(Leak(path, number, "in clear or encoded"))
            elif any(redactor.hit(_decoded(m.group(2))) for m in _BASIC.finditer(line)):
                leaks.append(Leak(path, number, "in an HTTP Basic header"))
    return leaks


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        elif path.is_file():
            yield path
