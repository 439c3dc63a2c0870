"""``COPY ... TO STDOUT`` and ``COPY ... FROM STDIN`` as PostgreSQL clients send them (psql's ``\\copy``, psycopg's
``cursor.copy``, PgJDBC's ``CopyManager``): recognising the statement and its options, and writing rows in
PostgreSQL's text and CSV formats (reading them is ``pgcopyin``).

The server (``pgsession.Session``) runs the query and sends the lines as CopyData; this module never imports it. A
COPY to a *file* is not handled here: it reaches DuckDB, which refuses it (the server turns file access off).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .pgerrors import ProtocolError
from .pgsql import bare_text
from .pgtypes import encode_text

_NAME = r'(?:"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*)'
_COPY_RE = re.compile(
    rf"^\s*copy\s+(?:\((?P<query>.*)\)|(?P<table>{_NAME}(?:\s*\.\s*{_NAME})*)\s*(?:\((?P<cols>[^()]*)\))?)"
    r"\s*to\s+stdout\b(?P<opts>.*)$", re.I | re.S)
_COPY_IN_RE = re.compile(
    rf"^\s*copy\s+(?P<table>{_NAME}(?:\s*\.\s*{_NAME})*)\s*(?:\((?P<cols>[^()]*)\))?\s*from\s+stdin\b(?P<opts>.*)$",
    re.I | re.S)
_COPY_START_RE = re.compile(r"\s*copy\b", re.I)
_TOKEN_RE = re.compile(r"[eE]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[\w.]+|\S")
_BOOL = {"true": True, "on": True, "1": True, "false": False, "off": False, "0": False}
_SUPPORTED = ("supported: FORMAT csv | text, HEADER [true | false], DELIMITER 'c', NULL 'text', QUOTE 'c', "
              "ESCAPE 'c', ENCODING 'UTF8'")


@dataclass(frozen=True)
class CopyIn:
    """What a ``COPY table [(columns)] FROM STDIN`` loads and how its lines read (``pgcopyin`` reads them)."""

    table: str  # as written: identifiers only (the pattern admits no other text)
    columns: tuple[str, ...] = ()  # as written; empty for every column of the table
    csv: bool = False
    binary: bool = False
    header: bool | str = False  # True, False or "match" (the header's names must be the columns')
    delimiter: str = "\t"
    null: str = "\\N"
    quote: str = '"'
    escape: str = '"'


@dataclass(frozen=True)
class CopyOut:
    """What a ``COPY ... TO STDOUT`` reads (``query``) and how it writes each line."""

    query: str
    csv: bool = False
    header: bool = False
    delimiter: str = "\t"
    null: str = "\\N"
    quote: str = '"'
    escape: str = '"'

    def header_line(self, names: list[str]) -> bytes:
        return self._line([self._field(n) for n in names])

    def line(self, row: tuple[Any, ...], oids: list[int]) -> bytes:
        return self._line([self.null if v is None else self._field(encode_text(v, oid).decode())
                           for v, oid in zip(row, oids, strict=True)])

    def _line(self, fields: list[str]) -> bytes:
        return (self.delimiter.join(fields) + "\n").encode()

    def _field(self, s: str) -> str:
        if not self.csv:
            s = s.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
            return s.replace(self.delimiter, "\\" + self.delimiter) if self.delimiter != "\t" else s
        # As PostgreSQL: quoted when it holds a delimiter, quote or line break, or could be read back as NULL
        if s == self.null or s == "\\." or any(c in s for c in (self.delimiter, self.quote, "\n", "\r")):
            if self.escape != self.quote:
                s = s.replace(self.escape, self.escape * 2)
            return self.quote + s.replace(self.quote, self.escape + self.quote) + self.quote
        return s


# PostgreSQL's E'' escapes: \b \f \n \r \t, octal \ooo, hex \xhh, \uXXXX, \UXXXXXXXX; any other character after a
# backslash is itself (\\, \'). (Python's unicode_escape differs: it fails on \x without digits and reads the
# literal's non-ASCII text as Latin-1.)
_E_ESCAPE_RE = re.compile(r"\\([0-7]{1,3}|x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.S)
_E_CHARS = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _e_char(m: re.Match[str]) -> str:
    e = m.group(1)
    if e[0] in "xuU" and len(e) > 1:
        return chr(int(e[1:], 16))
    if e[0] in "01234567":
        return chr(int(e, 8))
    return _E_CHARS.get(e, e)


def _literal(token: str, option: str) -> str:
    if token[:2] in ("E'", "e'"):
        return _E_ESCAPE_RE.sub(_e_char, token[2:-1].replace("''", "'"))
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    raise ProtocolError(f"COPY option {option.upper()} takes a quoted string ('...'), not {token}", "42601")


def _columns(text: str | None) -> tuple[str, ...]:
    """``COPY table (a, "B c")``'s column list, each name as written (an identifier, never an expression)."""
    if text is None:
        return ()
    names = tuple(n.strip() for n in text.split(","))
    if not all(re.fullmatch(_NAME, n, re.I) for n in names):
        raise ProtocolError(f"COPY's column list ({text.strip()}) takes column names only", "42601")
    return names


def _options(opts_text: str, into: bool) -> dict[str, Any]:
    """COPY's options in the new (``WITH (FORMAT csv, HEADER)``) and the old (``WITH CSV HEADER DELIMITER ';'``)
    spellings; ``into`` for COPY ... FROM STDIN, which also reads FORMAT binary and HEADER MATCH."""
    opts: dict[str, Any] = {}
    tokens = [t for t in _TOKEN_RE.findall(opts_text) if t not in ("(", ")", ",")]
    direction = "FROM STDIN" if into else "TO STDOUT"
    i = 0
    while i < len(tokens):
        word = tokens[i].lower()
        arg = tokens[i + 1] if i + 1 < len(tokens) else ""
        i += 1
        if word == "with":
            continue
        if word in ("format", "csv", "text", "binary"):
            fmt = arg.lower().strip("'\"") if word == "format" else word
            i += word == "format"
            if fmt not in (("csv", "text", "binary") if into else ("csv", "text")):
                raise ProtocolError(f"COPY ... {direction} in FORMAT {fmt or '?'} is not supported by ad-duckdb serve; "
                                    f"use FORMAT csv or text (the default){' or binary' if into else ''}.", "0A000")
            opts["format"] = fmt
        elif word == "header":
            opts["header"] = True
            value = arg.lower().strip("'")
            if value in _BOOL:
                opts["header"] = _BOOL[value]
                i += 1
            elif value == "match":
                if not into:
                    raise ProtocolError('cannot use "match" with HEADER in COPY TO', "0A000")
                opts["header"] = "match"
                i += 1
        elif word in ("delimiter", "null", "quote", "escape", "encoding"):
            if arg.lower() == "as":  # the old syntax: DELIMITER AS ';'
                i += 1
                arg = tokens[i] if i < len(tokens) else ""
            value = _literal(arg, word)
            i += 1
            if word == "encoding":
                if value.replace("-", "").upper() != "UTF8":
                    raise ProtocolError(f"COPY ... ENCODING {value!r} is not supported: ad-duckdb serve "
                                        f"{'reads' if into else 'sends'} UTF8; convert on the client.", "0A000")
                continue
            if word != "null" and len(value.encode()) != 1:
                raise ProtocolError(f"COPY {word} must be a single one-byte character, not {value!r}", "22023")
            opts[word] = value
        else:
            raise ProtocolError(f"COPY option {tokens[i - 1]!r} is not supported by ad-duckdb serve ({_SUPPORTED}"
                                f"{'; FORMAT binary and HEADER MATCH for FROM STDIN' if into else ''}).", "0A000")
    fmt = opts.pop("format", "text")
    # PostgreSQL's own checks of the options (ProcessCopyOptions), with its SQLSTATEs
    if fmt == "binary":
        for word in ("delimiter", "null", "quote", "escape"):
            if word in opts:
                raise ProtocolError(f"cannot specify {word.upper()} in BINARY mode", "42601")
        if opts.get("header"):
            raise ProtocolError("cannot specify HEADER in BINARY mode", "0A000")
    if fmt != "csv":
        for word in ("quote", "escape"):
            if word in opts:
                raise ProtocolError(f"COPY {word} available only in CSV mode", "0A000")
    defaults = {"delimiter": ",", "null": ""} if fmt == "csv" else {}
    opts = {**defaults, **opts}
    delim = opts.get("delimiter", "\t")
    if delim in "\r\n":
        raise ProtocolError("COPY delimiter cannot be newline or carriage return", "22023")
    if "\r" in opts.get("null", "") or "\n" in opts.get("null", ""):
        raise ProtocolError("COPY null representation cannot use newline or carriage return", "22023")
    if into and fmt == "text" and delim in "\\.abcdefghijklmnopqrstuvwxyz0123456789":  # it would read as an escape
        raise ProtocolError(f'COPY delimiter cannot be "{delim}"', "22023")
    if fmt == "csv" and delim == opts.get("quote", '"'):
        raise ProtocolError("COPY delimiter and quote must be different", "22023")
    if fmt == "csv" and delim in opts.get("null", ""):
        raise ProtocolError("COPY delimiter character must not appear in the NULL specification", "22023")
    opts["csv"] = fmt == "csv"
    opts["binary"] = fmt == "binary"
    return opts


def parse(sql: str) -> CopyOut | CopyIn | None:
    """The ``COPY ... TO STDOUT`` or ``COPY ... FROM STDIN`` that ``sql`` is, or None. ``COPY table [(columns)] TO
    STDOUT`` reads the whole table."""
    if not _COPY_START_RE.match(sql):  # every statement comes here: most are no COPY, and need no tokenizing
        return None
    sql = bare_text(sql, comments=True, strings=False)  # a comment (-- a note) is no option
    bare = bare_text(sql)
    m = _COPY_IN_RE.match(bare)
    if m:
        opts = _options(sql[m.start("opts"):m.end("opts")].rstrip().rstrip(";"), into=True)
        cols = _columns(sql[m.start("cols"):m.end("cols")] if m.group("cols") is not None else None)
        return CopyIn(sql[m.start("table"):m.end("table")], cols, **opts)
    m = _COPY_RE.match(bare)  # matched where no string literal is, cut from the text as sent
    if not m:
        if re.match(r"^\s*copy\b.*\bto\s+stdout\b", bare, re.I | re.S):
            raise ProtocolError("This form of COPY ... TO STDOUT is not understood by ad-duckdb serve; write it as "
                                "COPY (SELECT ...) TO STDOUT [WITH (FORMAT csv, HEADER)] or COPY table [(columns)] TO "
                                "STDOUT [WITH (...)].", "42601")
        if re.match(r"^\s*copy\b.*\bfrom\s+stdin\b", bare, re.I | re.S):
            raise ProtocolError("This form of COPY ... FROM STDIN is not understood by ad-duckdb serve; write it as "
                                "COPY table [(columns)] FROM STDIN [WITH (FORMAT csv, HEADER)] (a query, or WHERE, "
                                "cannot be a COPY's target here).", "42601")
        return None
    if m.group("query") is not None:
        query = sql[m.start("query"):m.end("query")]
    else:
        listed = sql[m.start("cols"):m.end("cols")] if m.group("cols") is not None else "*"
        query = f"SELECT {listed} FROM {sql[m.start('table'):m.end('table')]}"
    # The options end where the text as sent ends, less a trailing ``;`` (a blanked literal ends them too: ';')
    opts = _options(sql[m.start("opts"):m.end("opts")].rstrip().rstrip(";"), into=False)
    opts.pop("binary")
    return CopyOut(query, **opts)
