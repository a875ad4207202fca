"""The Lark grammars of contracts/grammars/: build them once, parse a named text format.

A text format is named ``<file>#<start rule>`` (``mensagem#send_answer``, DEVELOPERS.md). Each grammar
file declares its start rules in a ``//! start: a b c`` line, so the list lives in the contract, next to
the rules, and not in code. A file is built as LALR(1) with Lark's contextual lexer when its rules allow
it, because the emulator parses every incoming list parameter (``n``, ``c``, ``h``, ``Conteudo``) with
these parsers and an LALR parse is linear and allocation-light; a grammar that is not LALR still works,
through Earley, only slower (tests/project/test_grammars.py keeps the shipped files LALR).
"""
from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import lark
from lark.exceptions import GrammarError as LarkGrammarError
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.utils import logger as lark_logger

from .errors import ContractError

__all__ = ["GrammarError", "format_names", "grammar", "grammar_path", "parse", "split_format", "start_rules"]

_START_DIRECTIVE = re.compile(r"^//!\s*start:\s*(?P<names>.+?)\s*$", re.MULTILINE)


class GrammarError(ValueError):
    """A text that does not match its format; says which format and where, for reports and codes.

    A caller maps it to the dialect's documented refusal (the emulator) or quotes it in a failed check
    (the suite), so it carries the position and what the grammar expected there.
    """

    def __init__(self, fmt: str, line: int, column: int, pos: int, found: str, expected: tuple[str, ...],
                 context: str) -> None:
        self.format = fmt
        self.line = line
        self.column = column
        self.pos = pos
        self.found = found
        self.expected = expected
        self.context = context
        wanted = f"; expected {', '.join(expected)}" if expected else ""
        super().__init__(f"{fmt}: unexpected {found} at line {line}, column {column}{wanted}\n{context}")


def grammar_path(root: Path | str, name: str) -> Path:
    return Path(root) / "grammars" / f"{name}.lark"


def split_format(fmt: str) -> tuple[str, str]:
    """``"mensagem#send_answer"`` -> ``("mensagem", "send_answer")``."""
    name, sep, start = fmt.partition("#")
    if not sep or not name or not start:
        raise ValueError(f"a text format is named '<file>#<start rule>', not {fmt!r}")
    return name, start


def _read(root: Path, name: str) -> tuple[Path, str]:
    path = grammar_path(root, name)
    try:
        return path, path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ContractError(path, None, f"cannot read grammar: {exc.strerror}") from exc


def _starts(path: Path, text: str) -> tuple[str, ...]:
    found = _START_DIRECTIVE.search(text)
    if not found:
        raise ContractError(path, None, "no '//! start: <rule> ...' line naming the grammar's start rules")
    return tuple(found.group("names").split())


def start_rules(root: Path | str, name: str) -> tuple[str, ...]:
    """The start rules a grammar file declares, in their declared order."""
    return _start_rules(Path(root), name)


@lru_cache(maxsize=None)
def _start_rules(root: Path, name: str) -> tuple[str, ...]:
    path, text = _read(root, name)
    return _starts(path, text)


def grammar(root: Path | str, name: str) -> lark.Lark:
    """The parser of ``contracts/grammars/<name>.lark`` with all its start rules (built once per file).

    LALR when the grammar allows it, Earley otherwise; ``parser.options.parser`` says which.
    """
    return _grammar(Path(root), name)


@lru_cache(maxsize=None)
def _grammar(root: Path, name: str) -> lark.Lark:
    path, text = _read(root, name)
    starts = list(_starts(path, text))
    try:
        with _shift_reduce_conflicts() as conflicts:
            parser = lark.Lark(text, parser="lalr", lexer="contextual", start=starts)
        if not conflicts:
            return parser
        # Lark resolves a shift/reduce conflict as a shift, silently: the parser would then reject
        # some texts the grammar describes. Such a grammar is not LALR(1); Earley parses it exactly.
    except LarkGrammarError:
        pass  # a reduce/reduce conflict: not LALR(1) either
    except Exception as exc:  # a syntax error or an unknown start rule in the contract itself
        raise ContractError(path, _line_of(exc), f"invalid grammar: {exc}") from exc
    try:
        return lark.Lark(text, parser="earley", lexer="dynamic", start=starts)
    except Exception as exc:
        raise ContractError(path, _line_of(exc), f"invalid grammar: {exc}") from exc


class _Collect(logging.Filter):
    """Keeps Lark's conflict reports, and lets none of its build-time debug output through."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Shift/Reduce conflict"):
            self.messages.append(message)
        return record.levelno > logging.DEBUG


@contextmanager
def _shift_reduce_conflicts():
    """The shift/reduce conflicts Lark reports (at debug level) while it builds an LALR table."""
    collect, level = _Collect(), lark_logger.level
    lark_logger.addFilter(collect)
    lark_logger.setLevel(logging.DEBUG)
    try:
        yield collect.messages
    finally:
        lark_logger.setLevel(level)
        lark_logger.removeFilter(collect)


def _line_of(exc: Exception) -> int | None:
    line = getattr(exc, "line", None)
    if isinstance(line, int) and line > 0:
        return line
    found = re.search(r"[Ll]ine (\d+)", str(exc))
    return int(found.group(1)) if found else None


def parse(root: Path | str, fmt: str, text: str) -> lark.Tree:
    """Parse ``text`` as the format ``fmt`` (``"mensagem#cacl_answer"``); raise GrammarError if it is not."""
    name, start = split_format(fmt)
    root = Path(root)
    parser = _grammar(root, name)
    if start not in _start_rules(root, name):
        raise ContractError(grammar_path(root, name), None, f"no start rule {start!r} (format {fmt})")
    try:
        return parser.parse(text, start=start)
    except UnexpectedInput as exc:
        raise _describe(fmt, text, exc) from None


def format_names(root: Path | str) -> list[str]:
    """Every ``<file>#<start rule>`` the grammar files declare, sorted by file then declared order."""
    names: list[str] = []
    for path in sorted((Path(root) / "grammars").glob("*.lark")):
        names.extend(f"{path.stem}#{start}" for start in _start_rules(Path(root), path.stem))
    return names


def _describe(fmt: str, text: str, exc: UnexpectedInput) -> GrammarError:
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        pos = len(text)
        line = text.count("\n", 0, pos) + 1
        column = pos - (text.rfind("\n", 0, pos) + 1) + 1
        found = "end of text"
        expected = tuple(sorted(getattr(exc, "expected", ()) or ()))
        tail = text[text.rfind("\n", 0, pos) + 1:pos][-40:]
        return GrammarError(fmt, line, column, pos, found, expected, f"{tail}\n{' ' * len(tail)}^")
    elif isinstance(exc, UnexpectedCharacters):
        pos, line, column = exc.pos_in_stream, exc.line, exc.column
        found = f"character {text[pos:pos + 1]!r}"
        expected = tuple(sorted(exc.allowed or ()))
    else:
        assert isinstance(exc, UnexpectedToken)
        pos = exc.token.start_pos if exc.token.start_pos is not None else 0
        line, column = exc.line, exc.column
        found = repr(str(exc.token))  # its type is the root lexer's guess, misleading out of context
        expected = tuple(sorted(exc.expected or ()))
    return GrammarError(fmt, int(line), int(column), int(pos), found, expected, exc.get_context(text).rstrip("\n"))
