"""``COPY ... TO STDOUT`` as PostgreSQL clients send it (psql's ``\\copy ... to``, psycopg's ``cursor.copy``):
recognising the statement and writing its rows in PostgreSQL's text and CSV formats.

The server (``server.Session``) runs the query and sends the lines as CopyData; this module never imports it. A
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
_COPY_START_RE = re.compile(r"\s*copy\b", re.I)
_TOKEN_RE = re.compile(r"[eE]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|[\w.]+|\S")
_BOOL = {"true": True, "on": True, "1": True, "false": False, "off": False, "0": False}
_SUPPORTED = ("supported: FORMAT csv | text, HEADER [true | false], DELIMITER 'c', NULL 'text', QUOTE 'c', "
              "ESCAPE 'c', ENCODING 'UTF8'")


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


def parse(sql: str) -> CopyOut | None:
    """The ``COPY ... TO STDOUT`` that ``sql`` is, or None. ``COPY table [(columns)]`` reads the whole table."""
    if not _COPY_START_RE.match(sql):  # every statement comes here: most are no COPY, and need no tokenizing
        return None
    sql = bare_text(sql, comments=True, strings=False)  # a comment (-- a note) is no option
    bare = bare_text(sql)
    m = _COPY_RE.match(bare)  # matched where no string literal is, cut from the text as sent
    if not m:
        if re.match(r"^\s*copy\b.*\bto\s+stdout\b", bare, re.I | re.S):
            raise ProtocolError("This form of COPY ... TO STDOUT is not understood by ad-duckdb serve; write it as "
                                "COPY (SELECT ...) TO STDOUT [WITH (FORMAT csv, HEADER)] or COPY table [(columns)] TO "
                                "STDOUT [WITH (...)].", "42601")
        return None
    if m.group("query") is not None:
        query = sql[m.start("query"):m.end("query")]
    else:
        cols = sql[m.start("cols"):m.end("cols")] if m.group("cols") is not None else "*"
        query = f"SELECT {cols} FROM {sql[m.start('table'):m.end('table')]}"
    opts: dict[str, Any] = {}
    # The options end where the text as sent ends, less a trailing ``;`` (a blanked literal ends them too: ';')
    opts_text = sql[m.start("opts"):m.end("opts")].rstrip().rstrip(";")
    tokens = [t for t in _TOKEN_RE.findall(opts_text) if t not in ("(", ")", ",")]
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
            if fmt not in ("csv", "text"):
                raise ProtocolError(f"COPY ... TO STDOUT in FORMAT {fmt or '?'} is not supported by ad-duckdb serve; "
                                    "use FORMAT csv or text (the default).", "0A000")
            opts["csv"] = fmt == "csv"
        elif word == "header":
            opts["header"] = True
            if arg.lower().strip("'") in _BOOL:
                opts["header"] = _BOOL[arg.lower().strip("'")]
                i += 1
        elif word in ("delimiter", "null", "quote", "escape", "encoding"):
            if arg.lower() == "as":  # the old syntax: DELIMITER AS ';'
                i += 1
                arg = tokens[i] if i < len(tokens) else ""
            value = _literal(arg, word)
            i += 1
            if word == "encoding":
                if value.replace("-", "").upper() != "UTF8":
                    raise ProtocolError(f"COPY ... ENCODING {value!r} is not supported: ad-duckdb serve sends UTF8; "
                                        "convert on the client.", "0A000")
                continue
            if word != "null" and len(value) != 1:
                raise ProtocolError(f"COPY {word} must be a single one-byte character, not {value!r}", "22023")
            opts[word] = value
        else:
            raise ProtocolError(f"COPY option {tokens[i - 1]!r} is not supported by ad-duckdb serve ({_SUPPORTED}).",
                                "0A000")
    csv = opts.pop("csv", False)
    defaults = {"delimiter": ",", "null": ""} if csv else {}
    return CopyOut(query, csv=csv, **{**defaults, **opts})
