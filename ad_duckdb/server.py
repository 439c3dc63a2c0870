"""``ad-duckdb serve``: a DuckDB database, with the anomaly functions, over the PostgreSQL wire protocol.

BI tools (Superset, Metabase, Tableau), psql, psycopg and SQLAlchemy connect as to PostgreSQL and run
``SELECT anomaly_score('tx_ae', count, amount) FROM transactions`` live. A Python UDF exists only in the
process that registered it, so the server is that process.

Why a small server of our own rather than buenavista 0.5.0 (the one PostgreSQL-wire library that installs
here): its DuckDB backend calls ``fetch_record_batch()``, removed in DuckDB 2.0, and replacing that means
overriding ``DuckDBSession.execute_sql`` whole (it is not an extension point). That method also decides
transaction state by substring (any query containing "begin" starts one), drops unknown ``SET`` statements
silently, and its errors carry no SQLSTATE. The protocol subset BI clients need fits in this one module.

Security is DuckDB's, not ours: the file is opened read-only (unless ``--read-write``), and after the
functions are registered the server runs ``SET enable_external_access = false`` (no file, network,
ATTACH, COPY TO or extension access) and ``SET lock_configuration = true`` (no client can undo it).
No SQL text is filtered; the few rewrites below only answer PostgreSQL catalogue chatter DuckDB lacks.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import hmac
import ipaddress
import logging
import math
import os
import re
import secrets
import shutil
import signal
import socket
import socketserver
import struct
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import duckdb
import numpy as np

from . import jsonvalues
from .features import quote_ident, quote_literal
from .jsonvalues import interval_text
from .udfs import refresh as refresh_functions
from .udfs import register

log = logging.getLogger("ad_duckdb.server")

PASSWORD_ENV = "AD_DUCKDB_SERVER_PASSWORD"
# What clients see as the PostgreSQL version: libpq and SQLAlchemy parse "major.minor" from it.
PG_VERSION = "15.0"

_SSL_REQUEST, _GSS_REQUEST, _CANCEL_REQUEST, _PROTOCOL_3 = 80877103, 80877104, 80877102, 196608

# DuckDB type name -> (PostgreSQL type OID, type size); nested types go out as json, unknown ones as text.
_OIDS: dict[str, tuple[int, int]] = {
    "BOOLEAN": (16, 1), "TINYINT": (21, 2), "SMALLINT": (21, 2), "INTEGER": (23, 4), "BIGINT": (20, 8),
    "UTINYINT": (21, 2), "USMALLINT": (23, 4), "UINTEGER": (20, 8), "UBIGINT": (1700, -1), "HUGEINT": (1700, -1),
    "UHUGEINT": (1700, -1), "BIGNUM": (1700, -1), "VARINT": (1700, -1), "FLOAT": (700, 4), "DOUBLE": (701, 8),
    "VARCHAR": (25, -1), "BLOB": (17, -1), "DATE": (1082, 4), "TIME": (1083, 8), "TIME WITH TIME ZONE": (1266, 12),
    "TIMESTAMP": (1114, 8), "TIMESTAMP_S": (1114, 8), "TIMESTAMP_MS": (1114, 8), "TIMESTAMP_NS": (1114, 8),
    "TIMESTAMP WITH TIME ZONE": (1184, 8), "INTERVAL": (1186, 16), "UUID": (2950, 16), "JSON": (114, -1),
}
_TEXT, _JSON = (25, -1), (114, -1)

# Answers to `SHOW name` for PostgreSQL settings DuckDB does not have (SQLAlchemy asks on connect).
_PG_SHOW = {
    "standard_conforming_strings": "on", "transaction isolation level": "serializable",
    "transaction_isolation": "serializable", "server_version": PG_VERSION, "server_encoding": "UTF8",
    "client_encoding": "UTF8", "datestyle": "ISO, MDY", "intervalstyle": "postgres", "integer_datetimes": "on",
    "max_identifier_length": "63", "default_transaction_read_only": "off", "lc_collate": "C", "lc_ctype": "C",
    "statement_timeout": "0", "extra_float_digits": "3", "application_name": "", "is_superuser": "off",
    "server_version_num": str(int(PG_VERSION.split(".")[0]) * 10000 + int(PG_VERSION.split(".")[1])),
}
# PostgreSQL-only session settings clients SET on connect; DuckDB has no such option, so SET is a no-op.
_PG_ONLY_SETTINGS = {
    "application_name", "client_encoding", "datestyle", "intervalstyle", "extra_float_digits", "statement_timeout",
    "lock_timeout", "idle_in_transaction_session_timeout", "client_min_messages", "standard_conforming_strings",
    "bytea_output", "jit", "default_transaction_isolation", "default_transaction_read_only", "session characteristics",
}
_SHOW_RE = re.compile(r"^\s*show\s+([a-z_ ]+?)\s*;?\s*$", re.I)
_SET_RE = re.compile(r"^\s*set\s+(session\s+characteristics|(?:session\s+|local\s+)?[a-z_]+)\b[^;]*;?\s*$", re.I)
_TXN_WORD = re.compile(r"^\s*(begin|start|commit|end|rollback|abort|savepoint|release)\b", re.I)
_SET_SCOPE = re.compile(r"^(session|local) (?!characteristics)")
_VERSION_RE = re.compile(r"^\s*select\s+(?:pg_catalog\s*\.\s*)?version\s*\(\s*\)\s*;?\s*$", re.I)
_BEGIN_RE = re.compile(r"^\s*(begin|start\s+transaction)\b[^;]*;?\s*$", re.I)
_SAVEPOINT_RE = re.compile(r"^\s*(savepoint|release|rollback\s+to)\b[^;]*;?\s*$", re.I)
_DISCARD_RE = re.compile(r"^\s*discard\s+(all|plans|sequences|temp|temporary)\s*;?\s*$", re.I)
_TIMEZONE_RE = re.compile(r"^\s*set\s+(?:session\s+|local\s+)?(?:time\s+zone|timezone)\s*(?:to\s+|=\s*)?'?([^';]*)'?\s*;?\s*$",
                          re.I)
_DEALLOCATE_RE = re.compile(r"^\s*deallocate\s+(?:prepare\s+)?(\"[^\"]+\"|\w+)\s*;?\s*$", re.I)
_REGTYPE_RE = re.compile(r"::\s*regtype\b|\bCOLLATE\s+pg_catalog\s*\.\s*\"?default\"?|"
                         r"\bpg_catalog\s*\.\s*(?=(?:to_regtype|pg_get_userbyid)\s*\()", re.I)
# Session helpers for catalogue queries drivers send; temporary macros live in memory, never in the file.
_SESSION_MACROS = ("to_regtype", "pg_get_userbyid")  # created by _SESSION_SQL; DISCARD keeps them
_SESSION_SQL = (
    "CREATE OR REPLACE TEMP MACRO to_regtype(pg_type_name_arg) AS "
    "(SELECT oid FROM pg_catalog.pg_type WHERE typname = pg_type_name_arg LIMIT 1)",
    "CREATE OR REPLACE TEMP MACRO pg_get_userbyid(pg_role_oid_arg) AS 'duckdb'",
)
# 'name'::regclass (JDBC's getTables, as Metabase and DBeaver call it): the relation's oid, by its name.
_REGCLASS_RE = re.compile(r"\s*::\s*regclass\b", re.I)

# DuckDB error class -> SQLSTATE, so clients can tell a syntax error from a refused write.
_SQLSTATE: list[tuple[type[BaseException], str]] = [
    (duckdb.ParserException, "42601"), (duckdb.CatalogException, "42P01"), (duckdb.BinderException, "42703"),
    (duckdb.PermissionException, "42501"), (duckdb.ConversionException, "22P02"),
    (duckdb.OutOfRangeException, "22003"), (duckdb.ConstraintException, "23000"),
    (duckdb.TransactionException, "25P02"), (duckdb.InterruptException, "57014"),
    (duckdb.NotImplementedException, "0A000"), (duckdb.OutOfMemoryException, "53200"),
    (duckdb.IOException, "58030"), (duckdb.InvalidInputException, "22023"),
]


class ProtocolError(Exception):
    """A client sent something this server does not speak; carries its SQLSTATE."""

    def __init__(self, message: str, sqlstate: str = "08P01") -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def sqlstate(e: BaseException) -> str:
    """The SQLSTATE for a DuckDB error."""
    if isinstance(e, ProtocolError):
        return e.sqlstate
    if "read-only mode" in str(e):
        return "25006"  # read_only_sql_transaction
    if "configuration has been locked" in str(e):
        return "42501"
    return next((code for cls, code in _SQLSTATE if isinstance(e, cls)), "XX000")


# ---------------------------------------------------------------- values out (text format) and in

_PG_EPOCH = dt.datetime(2000, 1, 1)  # dates and timestamps in the binary format count from here


def _same_zone(cur: duckdb.DuckDBPyConnection, a: str, b: str) -> bool:
    """Whether zones ``a`` and ``b`` agree (UTC and Etc/UTC, say): the same offsets in winter and in summer."""
    try:
        q = ("SELECT list(timezone(z, TIMESTAMPTZ '2026-01-15 12:00:00+00') = timezone(?, TIMESTAMPTZ '2026-01-15 "
             "12:00:00+00') AND timezone(z, TIMESTAMPTZ '2026-07-15 12:00:00+00') = timezone(?, TIMESTAMPTZ "
             "'2026-07-15 12:00:00+00')) FROM (SELECT ? AS z)")
        return bool(cur.execute(q, [b, b, a]).fetchall()[0][0][0])
    except duckdb.Error:
        return False


def _float_text(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return repr(v)


def _text(v: Any, oid: int) -> bytes:
    """One value in PostgreSQL's text format for type ``oid``."""
    if isinstance(v, bool):
        s = "t" if v else "f"
    elif isinstance(v, float):
        # a FLOAT (float4) as its shortest float32 digits: 0.1, not the float64 0.10000000149011612
        s = _float_text(v) if oid != 700 or not math.isfinite(v) else str(np.float32(v))
    elif isinstance(v, decimal.Decimal):
        s = format(v, "f")
    elif isinstance(v, dt.datetime):
        s = v.isoformat(sep=" ")
    elif isinstance(v, dt.date | dt.time | uuid.UUID):
        s = str(v)
    elif isinstance(v, dt.timedelta):
        s = interval_text(v)
    elif isinstance(v, bytes | bytearray | memoryview):
        s = "\\x" + bytes(v).hex()
    elif oid == 114 and not isinstance(v, str):
        s = jsonvalues.dumps(v)
    else:
        s = str(v)
    return s.encode()


def _micros(v: dt.timedelta) -> int:
    return (v.days * 86_400 + v.seconds) * 1_000_000 + v.microseconds


def _numeric_to_binary(v: decimal.Decimal | int) -> bytes:
    """PostgreSQL's binary numeric (the inverse of ``_numeric_binary``)."""
    d = decimal.Decimal(v)
    if d.is_nan():
        return struct.pack("!hhHh", 0, 0, 0xC000, 0)
    if d.is_infinite():
        return struct.pack("!hhHh", 0, 0, 0xF000 if d < 0 else 0xD000, 0)
    sign, digits, exp = d.as_tuple()
    assert isinstance(exp, int)
    dscale = max(0, -exp)
    # Pad the decimal digits so the point falls on a base-10000 boundary on both sides.
    text = "".join(map(str, digits)) + "0" * max(0, exp)
    int_len = len(text) - dscale
    lead = (-int_len) % 4
    text = "0" * lead + text + "0" * ((-dscale) % 4)
    groups = [int(text[i:i + 4]) for i in range(0, len(text), 4)]
    weight = (int_len + lead) // 4 - 1
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        weight = 0
    return struct.pack(f"!hhHh{len(groups)}h", len(groups), weight, 0x4000 if sign else 0, dscale, *groups)


def _binary(v: Any, oid: int) -> bytes:
    """One value in PostgreSQL's binary format for type ``oid`` (types without one go as their text bytes)."""
    if oid == 16:
        return b"\x01" if v else b"\x00"
    if oid in _INT_FORMATS:
        return struct.pack(_INT_FORMATS[oid], v)
    if oid == 700:
        return struct.pack("!f", v)
    if oid == 701:
        return struct.pack("!d", v)
    if oid == 1700:
        return _numeric_to_binary(v)
    if oid == 1082:
        return struct.pack("!i", (v - _PG_EPOCH.date()).days)
    if oid == 1083:
        if isinstance(v, str):  # DuckDB hands TIME '24:00:00' over as text (Python's time stops at 23:59:59)
            return struct.pack("!q", 86_400_000_000)
        return struct.pack("!q", ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond)
    if oid == 1266:  # time of day and the zone's offset in seconds west of UTC
        off = v.utcoffset() or dt.timedelta(0)
        micros = ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond
        return struct.pack("!qi", micros, -int(off.total_seconds()))
    if oid == 1114:
        return struct.pack("!q", _micros(v.replace(tzinfo=None) - _PG_EPOCH))
    if oid == 1184:
        return struct.pack("!q", _micros(v.astimezone(dt.timezone.utc).replace(tzinfo=None) - _PG_EPOCH))
    if oid == 1186:
        return struct.pack("!qii", v.seconds * 1_000_000 + v.microseconds, v.days, 0)
    if oid == 2950:
        return v.bytes
    if oid == 17:
        return bytes(v)
    return _text(v, oid)  # text, varchar, json: the binary format is the text itself


_INT_FORMATS = {21: "!h", 23: "!i", 20: "!q"}


def _as_told(v: Any, oid: int, told: int, column: str) -> Any:
    """Value ``v`` (of type ``oid``) as the type the client was told at Describe, or a refusal naming the fix."""
    if told in (25, 1043, 114):
        return _text(v, oid).decode()
    if told in _INT_FORMATS and not isinstance(v, bool) and isinstance(v, int | float | decimal.Decimal) \
            and float(v).is_integer():
        return int(v)
    if told in (700, 701) and isinstance(v, int | float | decimal.Decimal) and not isinstance(v, bool):
        return float(v)
    if told == 1700 and isinstance(v, int | float | decimal.Decimal) and not isinstance(v, bool):
        return decimal.Decimal(str(v)) if isinstance(v, float) else decimal.Decimal(v)
    raise ProtocolError(
        f"Column {column!r} was described as type OID {told}, but this run returns type OID {oid} (its type depends "
        "on the parameters); cast it in the query, e.g. CAST(... AS DOUBLE).", "42804")


def _type_of(t: Any) -> tuple[int, int]:
    name = str(t).upper()
    if name in _OIDS:
        return _OIDS[name]
    if name.endswith("]") or name.startswith(("STRUCT", "MAP", "UNION")):
        return _JSON  # before DECIMAL: DECIMAL(9,2)[] is a list
    if name.startswith("DECIMAL"):
        return (1700, -1)
    return _TEXT


_PARAM_TEXT: dict[int, Callable[[str], Any]] = {
    16: lambda s: s.lower() in ("t", "true", "1", "on", "yes", "y"),
    20: int, 21: int, 23: int, 26: int, 700: float, 701: float, 1700: decimal.Decimal,
    # bytea's hex text form (\x00ff); DuckDB would read '\x00ff' as the byte 0 then the characters "ff"
    17: lambda s: bytes.fromhex(s[2:]) if s.startswith("\\x") else s.encode(),
}
_PARAM_BINARY: dict[int, Callable[[bytes], Any]] = {
    16: lambda b: b != b"\x00", 21: lambda b: struct.unpack("!h", b)[0], 23: lambda b: struct.unpack("!i", b)[0],
    20: lambda b: struct.unpack("!q", b)[0], 26: lambda b: struct.unpack("!I", b)[0],
    700: lambda b: struct.unpack("!f", b)[0], 701: lambda b: struct.unpack("!d", b)[0],
    25: lambda b: b.decode(), 1043: lambda b: b.decode(), 19: lambda b: b.decode(), 17: bytes, 0: lambda b: b.decode(),
}



def _numeric_binary(b: bytes) -> decimal.Decimal:
    """PostgreSQL's binary numeric: base-10000 digits with a weight, a sign and a display scale."""
    ndigits, weight, sign, dscale = struct.unpack("!hhHh", b[:8])
    if sign == 0xC000:
        return decimal.Decimal("NaN")
    if sign in (0xD000, 0xF000):
        return decimal.Decimal("-Infinity" if sign == 0xF000 else "Infinity")
    digits = struct.unpack(f"!{ndigits}h", b[8:8 + 2 * ndigits])
    # Why a local context: the default 28 significant digits cannot hold NUMERIC(38) or larger values.
    with decimal.localcontext() as ctx:
        ctx.prec = 4 * (max(ndigits, weight + 1) + 1) + max(dscale, 0) + 4
        value = sum((decimal.Decimal(d).scaleb(4 * (weight - i)) for i, d in enumerate(digits)), decimal.Decimal(0))
        value = value.quantize(decimal.Decimal(1).scaleb(-dscale)) if ndigits else decimal.Decimal(0)
    return -value if sign == 0x4000 else value


def _interval_binary(b: bytes) -> dt.timedelta:
    micros, days, months = struct.unpack("!qii", b)
    return dt.timedelta(days=days + 30 * months, microseconds=micros)


# Binary parameters psycopg sends by default (its "%s" picks binary for dates, numbers, UUIDs, ...).
_PARAM_BINARY.update({
    1082: lambda b: (_PG_EPOCH + dt.timedelta(days=struct.unpack("!i", b)[0])).date(),
    1083: lambda b: (_PG_EPOCH + dt.timedelta(microseconds=struct.unpack("!q", b)[0])).time(),
    1114: lambda b: _PG_EPOCH + dt.timedelta(microseconds=struct.unpack("!q", b)[0]),
    1184: lambda b: (_PG_EPOCH + dt.timedelta(microseconds=struct.unpack("!q", b)[0])).replace(tzinfo=dt.timezone.utc),
    1700: _numeric_binary, 1186: _interval_binary, 2950: lambda b: uuid.UUID(bytes=b),
    114: lambda b: b.decode(), 3802: lambda b: b[1:].decode(),  # jsonb: a version byte, then the text
})


# Array type OID -> element type OID, for array parameters (``x = ANY(%s)`` with a Python list).
_ARRAY_OF = {1000: 16, 1005: 21, 1007: 23, 1016: 20, 1028: 26, 1021: 700, 1022: 701, 1231: 1700, 1009: 25,
             1015: 1043, 1014: 1042, 1182: 1082, 1183: 1083, 1115: 1114, 1185: 1184, 2951: 2950}
_ARRAY_OID_OF = {elem: arr for arr, elem in _ARRAY_OF.items() if elem != 1043}  # element OID -> its array OID
_DATE_ONLY_TZ = re.compile(r"^(\d{4,}-\d\d-\d\d)(?: BC)? [+-]\d\d(?::?\d\d)?$")


def _array_text(text: str, conv: Callable[[str], Any]) -> list[Any]:
    """PostgreSQL's array literal (``{1,2,NULL}``, ``{"a,b","c"}``, nested braces) as a Python list."""
    pos = 0

    def parse() -> list[Any]:
        nonlocal pos
        if text[pos] != "{":
            raise ValueError(f"malformed array literal: {text!r}")
        pos += 1
        out: list[Any] = []
        while pos < len(text):
            c = text[pos]
            if c == "}":
                pos += 1
                return out
            if c in ", ":
                pos += 1
            elif c == "{":
                out.append(parse())
            elif c == '"':
                pos += 1
                buf = []
                while text[pos] != '"':
                    if text[pos] == "\\":
                        pos += 1
                    buf.append(text[pos])
                    pos += 1
                pos += 1
                out.append(conv("".join(buf)))
            else:
                end = pos
                while text[end] not in ",}":
                    end += 1
                item = text[pos:end].strip()
                pos = end
                out.append(None if item.upper() == "NULL" else conv(item))
        raise ValueError(f"malformed array literal: {text!r}")

    return parse()


def _array_binary(b: bytes) -> list[Any]:
    """PostgreSQL's binary array: dimensions, then each element's length and bytes."""
    ndim, _, elem = struct.unpack("!iii", b[:12])
    dims = [struct.unpack("!ii", b[12 + 8 * i:20 + 8 * i])[0] for i in range(ndim)]
    conv = _PARAM_BINARY.get(elem)
    if conv is None:
        raise ProtocolError(f"Binary array parameters of element type OID {elem} are not supported; send them as "
                            "text.", "0A000")
    pos = 12 + 8 * ndim
    flat: list[Any] = []
    for _ in range(math.prod(dims) if ndim else 0):
        (n,) = struct.unpack("!i", b[pos:pos + 4])
        pos += 4
        flat.append(None if n < 0 else conv(b[pos:pos + n]))
        pos += max(n, 0)
    for size in reversed(dims[1:]):  # regroup the flat elements into nested lists, innermost first
        flat = [flat[i:i + size] for i in range(0, len(flat), size)]
    return flat


def _numeric_param(d: decimal.Decimal) -> decimal.Decimal | int:
    """A NUMERIC parameter DuckDB binds exactly: DECIMAL holds 38 digits (wider ones it would bind as DOUBLE,
    silently rounded), HUGEINT whole numbers up to 2^127."""
    if not d.is_finite():
        return d
    _, digits, exp = d.as_tuple()
    assert isinstance(exp, int)
    # the DECIMAL width it needs: its digits and any zeros its exponent adds (1E+40 is 41 digits, 1E-40 is 40)
    if max(len(digits) + max(exp, 0), -exp) <= 38:
        return d
    if d == d.to_integral_value() and -(2**127) <= d < 2**127:
        return int(d)
    raise ProtocolError(f"The NUMERIC parameter {d} has more digits than DuckDB's DECIMAL holds (38); send it as "
                        "text and cast it in the query, or round it.", "22003")


def decode_param(raw: bytes | None, oid: int, fmt: int) -> Any:
    """A Bind parameter as the Python value DuckDB should bind (text types stay strings; DuckDB casts them)."""
    if raw is None:
        return None
    if oid == 1700:
        return _numeric_param(_numeric_binary(raw) if fmt else decimal.Decimal(raw.decode()))
    if fmt == 0:
        text = raw.decode()
        if oid in _ARRAY_OF:
            return _array_text(text, _PARAM_TEXT.get(_ARRAY_OF[oid], str))
        conv = _PARAM_TEXT.get(oid)
        if conv is None and oid == 0:
            # JDBC's setDate sends an untyped "2026-01-11 +00"; DuckDB casts no date with a zone, so drop it.
            m = _DATE_ONLY_TZ.match(text)
            return m.group(1) if m and " BC" not in text else text
        return conv(text) if conv else text
    if oid in _ARRAY_OF:
        return _array_binary(raw)
    conv_b = _PARAM_BINARY.get(oid)
    if conv_b is None:
        raise ProtocolError(f"Binary parameters of type OID {oid} are not supported; send them as text.", "0A000")
    return conv_b(raw)


# ---------------------------------------------------------------- one statement's result


@dataclass
class Result:
    """Columns (name, oid, size), a row iterator, and the command tag for CommandComplete."""

    tag: str
    columns: list[tuple[str, int, int]] | None = None
    rows: Iterator[tuple[Any, ...]] = field(default_factory=lambda: iter(()))
    sent: int = 0

    @classmethod
    def constant(cls, name: str, value: str) -> Result:
        return cls("SHOW", [(name, 25, -1)], iter([(value,)]))


# Rows of a paged result read into memory so another statement can run (Session.release); beyond this, refuse.
MAX_BUFFERED_ROWS = 1_000_000


def _raising(e: BaseException) -> Iterator[tuple[Any, ...]]:
    raise e
    yield ()  # a generator: the error surfaces when the rows are read


def _keyword_tag(sql: str) -> str:
    words = re.sub(r"\(.*", "", sql.strip()).split()[:6]
    if not words:
        return ""
    head = words[0].upper()
    if head in ("CREATE", "DROP", "ALTER"):
        obj = [w.upper() for w in words[1:] if w.upper() not in ("OR", "REPLACE", "TEMP", "TEMPORARY", "IF",
                                                                 "NOT", "EXISTS", "UNIQUE", "PERSISTENT")]
        return f"{head} {obj[0]}" if obj else head
    return head


class Session:
    """One client's state: its DuckDB cursor, prepared statements, portals and transaction status."""

    def __init__(self, cur: duckdb.DuckDBPyConnection) -> None:
        self.cur = cur
        for q in _SESSION_SQL:
            cur.execute(q)
        self.status = b"I"  # ReadyForQuery: I idle, T in a transaction, E failed transaction
        self.statements: dict[str, tuple[str, list[int]]] = {}
        self.portals: dict[str, Portal] = {}
        self.live: Result | None = None  # the result still reading from the cursor (a suspended portal)
        self.busy = False  # a statement runs or its rows are being sent (what a CancelRequest may interrupt)
        self.implicit = False  # the extended protocol's implicit transaction, open until Sync
        self.implicit_failed = False
        self.described: dict[str, list[tuple[str, int, int]] | None] = {}  # each statement's Describe answer

    def _rows(self, r: Result) -> Iterator[tuple[Any, ...]]:
        """The cursor's rows; an error while they are read fails the transaction, as one at execute does."""
        try:
            while True:
                chunk = self.cur.fetchmany(1024)
                if not chunk:
                    return
                yield from chunk
        except duckdb.Error:
            if self.status == b"T":
                self.status = b"E"
            raise
        finally:
            if self.live is r:
                self.live = None

    def release(self) -> None:
        """Read the rest of a suspended result into memory, before the cursor runs another statement.

        Why: a cursor holds one result, and executing the next statement discards the unread rows of the
        previous one. JDBC with a fetch size reads a result page by page and may run other queries between
        pages; each page must still come back whole.
        """
        r, self.live = self.live, None
        if r is None:
            return
        rest = []
        try:
            for row in r.rows:
                rest.append(row)
                if len(rest) > MAX_BUFFERED_ROWS:
                    break
        except duckdb.Error as e:
            r.rows = _raising(e)  # the portal's next Execute reports it
            return
        if len(rest) > MAX_BUFFERED_ROWS:
            # Too many to hold: the open result is given up (its next page is an error, never a gap) and so is
            # the transaction, as PostgreSQL would after an error.
            e = ProtocolError(
                f"A result left open between pages has more than {MAX_BUFFERED_ROWS:,} unread rows, too many to hold "
                "while another statement runs on this connection; read it to the end (or close it) first, or run "
                "the other statement on another connection.", "54000")
            r.rows = _raising(e)
            if self.status == b"T":
                self.status = b"E"
            raise e
        r.rows = iter(rest)

    def forget(self, r: Result | None) -> None:
        """A portal was closed: its unread rows are never needed (not even read into memory)."""
        if r is not None and r is self.live:
            self.live = None

    def compat(self, sql: str) -> Result | str:
        """Answer PostgreSQL-only chatter DuckDB does not understand; otherwise the SQL to run."""
        if _VERSION_RE.match(sql):
            import ad_duckdb

            return Result("SELECT", [("version", 25, -1)], iter([(
                f"PostgreSQL {PG_VERSION} (ad_duckdb {ad_duckdb.__version__} on DuckDB {duckdb.__version__})",)]))
        m = _SHOW_RE.match(sql)
        if m and " ".join(m.group(1).lower().split()) in _PG_SHOW:
            key = " ".join(m.group(1).lower().split())
            return Result.constant(key.replace(" ", "_"), _PG_SHOW[key])
        m = _SET_RE.match(sql)
        if m and _SET_SCOPE.sub("", " ".join(m.group(1).lower().split())) in _PG_ONLY_SETTINGS:
            return Result("SET")
        if _BEGIN_RE.match(sql):
            return "BEGIN"  # DuckDB's BEGIN takes no isolation / read-only options; its own is serializable
        m = _SAVEPOINT_RE.match(sql)
        if m:
            # DuckDB has no savepoints. Drivers (psycopg's nested transaction()) set one around catalogue
            # lookups; that is harmless as long as nothing failed. After a failure there is nothing to go
            # back to, so say so instead of pretending.
            verb = m.group(1).upper()
            if verb.startswith("ROLLBACK") and self.status == b"E":
                raise ProtocolError("Savepoints are not supported (DuckDB has none); the transaction failed, "
                                    "ROLLBACK it and start again.", "0A000")
            return Result("ROLLBACK" if verb.startswith("ROLLBACK") else verb)
        m = _TIMEZONE_RE.match(sql)
        if m:
            # The time zone is part of the locked configuration; asking for the one in force is fine (Metabase does).
            self.release()
            zone = self.cur.execute("SELECT current_setting('TimeZone')").fetchall()[0][0]
            asked = m.group(1).strip()
            if asked.lower() not in (zone.lower(), "default", "local") and not _same_zone(self.cur, asked, zone):
                raise ProtocolError(f"The server's time zone is {zone!r} and cannot be changed per session; start "
                                    f"the server with TZ={m.group(1).strip()} in its environment, or convert in SQL "
                                    "(timezone('...', ts)).", "0A000")
            return Result("SET")
        m = _DISCARD_RE.match(sql)
        if m:
            what = m.group(1).upper().replace("TEMPORARY", "TEMP")
            if what == "ALL" and self.status != b"I":
                raise ProtocolError("DISCARD ALL cannot run inside a transaction block", "25001")
            if what in ("ALL", "PLANS"):
                self.statements.clear()  # what a pooler needs: no prepared statement survives
                self.described.clear()
            if what in ("ALL", "TEMP"):
                self.release()
                # the previous user's temporary tables and views must not reach the next one (our macros stay)
                for name, kind in self.cur.execute(
                        "SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE temporary UNION ALL "
                        "SELECT view_name, 'VIEW' FROM duckdb_views() WHERE temporary AND NOT internal UNION ALL "
                        "SELECT sequence_name, 'SEQUENCE' FROM duckdb_sequences() WHERE temporary UNION ALL "
                        "SELECT DISTINCT function_name, CASE function_type WHEN 'table_macro' THEN 'MACRO TABLE' "
                        "ELSE 'MACRO' END FROM duckdb_functions() WHERE database_name = 'temp' AND NOT internal "
                        "AND function_type IN ('macro', 'table_macro')").fetchall():
                    if kind.startswith("MACRO") and name in _SESSION_MACROS:
                        continue
                    self.cur.execute(f"DROP {kind} IF EXISTS temp.main.{quote_ident(name)}")
            return Result(f"DISCARD {what}")
        m = _DEALLOCATE_RE.match(sql)
        if m:
            # Prepared statements live in this server's session (the protocol's Parse), not in DuckDB.
            name = m.group(1).strip('"')
            if name.upper() == "ALL":
                self.statements.clear()
            else:
                self.statements.pop(name, None)
            return Result("DEALLOCATE")
        # Catalogue lookups as psycopg and psql send them: DuckDB has no regtype type and no pg_catalog."default"
        # collation; to_regtype and pg_get_userbyid are session macros (_SESSION_SQL).
        return _catalog_rewrites(sql)

    def run(self, sql: str, params: list[Any] | None = None) -> Iterator[Result]:
        """Execute the statements of ``sql`` one by one; each result must be read before the next runs."""
        try:
            parts = [st.query for st in duckdb.extract_statements(sql)]
        except duckdb.Error:
            # PostgreSQL-only syntax DuckDB cannot parse (BEGIN ISOLATION LEVEL ...): split at the semicolons
            # DuckDB's tokenizer sees (not those in strings or comments); compat answers those parts.
            parts = _split_statements(sql)
        # As PostgreSQL does, several statements outside a transaction run as one: an error part-way keeps
        # none of the earlier writes (unless the text itself manages transactions).
        implicit = (len(parts) > 1 and self.status == b"I"
                    and not any(_TXN_WORD.match(p) for p in parts))
        if implicit:
            self.release()
            self.cur.execute("BEGIN")
        try:
            # Each statement on its own: a PostgreSQL-only SET first must not swallow the statements after it.
            for part in parts or [sql]:
                c = self.compat(part)
                if isinstance(c, Result):
                    yield c
                    continue
                stmts = duckdb.extract_statements(c)
                for st in stmts:
                    yield self._one(st, params if len(parts) == 1 and len(stmts) == 1 else None)
        except BaseException:
            if implicit:
                self.cur.execute("ROLLBACK")
            raise
        if implicit:
            self.cur.execute("COMMIT")

    def run_one(self, sql: str, params: list[Any] | None) -> Result:
        """Execute one prepared statement (the extended protocol allows exactly one)."""
        c = self.compat(sql)
        if isinstance(c, Result):
            return c
        stmts = duckdb.extract_statements(c)
        if len(stmts) != 1:
            raise ProtocolError("cannot insert multiple commands into a prepared statement", "42601")
        st = stmts[0]
        if st.type.name == "TRANSACTION" and self.implicit:
            # BEGIN inside the implicit transaction makes it explicit (it is open already); COMMIT / ROLLBACK end it
            self.implicit = False
            if _keyword_tag(st.query) in ("BEGIN", "START"):
                self.status = b"T"
                return Result("BEGIN")
            self.status = b"T"  # so _one runs this COMMIT / ROLLBACK on the open transaction
        elif self.status == b"I" and not self.implicit and st.type.name != "TRANSACTION":
            # As in PostgreSQL, the statements up to Sync form one transaction: a batch (JDBC's executeBatch,
            # psycopg's executemany) that fails part-way keeps none of its writes.
            self.release()
            self.cur.execute("BEGIN")
            self.implicit = True
        return self._one(st, params)

    def sync(self) -> None:
        """Sync: commit the implicit transaction, or roll it back after an error (``failed``)."""
        failed, self.implicit_failed = self.implicit_failed, False
        try:
            if self.implicit:
                self.implicit = False
                self.live = None
                self.cur.execute("ROLLBACK" if failed else "COMMIT")
        finally:
            if self.status == b"I":
                self.end_of_transaction()  # Sync ends the implicit transaction, and its portals with it

    def _one(self, st: Any, params: list[Any] | None) -> Result:
        query = st.query
        kind = st.type.name
        head = _keyword_tag(query)
        if kind == "TRANSACTION" and head in ("COMMIT", "END") and self.status == b"E":
            query, head = "ROLLBACK", "ROLLBACK"  # PostgreSQL turns COMMIT of a failed transaction into ROLLBACK
        if kind == "TRANSACTION" and head in ("COMMIT", "END", "ROLLBACK", "ABORT") and self.status == b"I" \
                and not self.implicit:
            return Result("ROLLBACK" if head in ("ROLLBACK", "ABORT") else "COMMIT")  # PostgreSQL only warns
        try:
            if kind == "TRANSACTION" and head not in ("BEGIN", "START"):
                self.live = None  # the transaction's end closes its open results: nothing to read ahead
            else:
                self.release()
            self.cur.execute(query, params) if params else self.cur.execute(query)
        except (duckdb.Error, ProtocolError):
            if self.status == b"T":
                self.status = b"E"
            raise
        if kind == "TRANSACTION":
            self.status = b"T" if head in ("BEGIN", "START") else b"I"
            if self.status == b"I":
                self.end_of_transaction()
            return Result(head)
        desc = self.cur.description
        if desc is None:
            return Result(head)
        if kind in ("INSERT", "UPDATE", "DELETE", "CREATE", "COPY") and [d[0] for d in desc] == ["Count"]:
            rows = self.cur.fetchall()  # empty for CREATE VIEW / MACRO / SCHEMA / SEQUENCE / TYPE
            n = rows[0][0] if rows else 0
            return Result(f"INSERT 0 {n}" if kind == "INSERT" else f"{head} {n}" if kind != "CREATE" else head)
        cols = [(d[0], *_type_of(d[1])) for d in desc]
        r = Result("SELECT" if kind == "SELECT" else head, cols)
        r.rows = self._rows(r)
        self.live = r
        return r

    def end_of_transaction(self) -> None:
        """Portals end with their transaction, as in PostgreSQL (so their unread rows are never buffered)."""
        self.live = None
        self.portals.clear()

    def describe(self, sql: str, n_params: int) -> list[tuple[str, int, int]] | None:
        """Result columns of a prepared SELECT without running it (DuckDB relations are lazy); else None."""
        c = self.compat(sql)
        if isinstance(c, Result):
            return c.columns
        try:
            stmts = duckdb.extract_statements(c)
            if len(stmts) != 1 or stmts[0].type.name != "SELECT":
                return None
            self.release()  # binding on this cursor would discard a suspended portal's unread rows
            return _columns(self.cur, c, n_params)
        except duckdb.Error:
            return None


def _tokens(sql: str) -> list[tuple[int, Any]]:
    """DuckDB's tokens of ``sql`` as (character position, kind); the tokenizer counts UTF-8 bytes."""
    tokens = duckdb.tokenize(sql)
    raw = sql.encode()
    if len(raw) == len(sql):
        return list(tokens)
    char_at = [0] * (len(raw) + 1)  # byte offset -> character index
    pos = 0
    for i, ch in enumerate(sql):
        n = len(ch.encode())
        char_at[pos:pos + n] = [i] * n
        pos += n
    char_at[len(raw)] = len(sql)
    return [(char_at[p], kind) for p, kind in tokens]


# Parameter types a client declares -> the DuckDB type it means. Why cast: DuckDB types an unannotated parameter by
# its value, so JDBC's setLong(5) would make an INTEGER column one run and setLong(3e9) a BIGINT the next, while
# the client decodes every run by the types it was told once.
_CAST_OF = {16: "BOOLEAN", 21: "SMALLINT", 23: "INTEGER", 20: "BIGINT", 700: "FLOAT", 701: "DOUBLE", 1082: "DATE",
            1083: "TIME", 1114: "TIMESTAMP", 1184: "TIMESTAMPTZ", 1186: "INTERVAL", 2950: "UUID", 17: "BLOB"}


_OID_OF_CAST = {"boolean": 16, "bool": 16, "smallint": 21, "int2": 21, "integer": 23, "int": 23, "int4": 23,
                "bigint": 20, "int8": 20, "real": 700, "float4": 700, "float": 701, "double": 701, "float8": 701,
                "numeric": 1700, "decimal": 1700, "date": 1082, "timestamp": 1114, "timestamptz": 1184,
                "uuid": 2950, "varchar": 25, "text": 25, "interval": 1186, "double precision": 701,
                "timestamp with time zone": 1184, "timestamp without time zone": 1114}
_TYPE_NAME = r"([a-z0-9_]+(?:\s+precision|\s+with(?:out)?\s+time\s+zone)?(?:\s*\[\s*\])?)"
_PARAM_CAST_RE = re.compile(rf"\$(\d+)\s*::\s*{_TYPE_NAME}|CAST\s*\(\s*\$(\d+)\s+AS\s+{_TYPE_NAME}", re.I)


def _parameter_casts(sql: str) -> dict[int, int]:
    """Parameter number -> type OID, for parameters the query casts ($1::INTEGER, CAST($2 AS DATE)), read outside
    string literals; drivers that ask the server for parameter types (asyncpg) then send values, not text."""
    out: dict[int, int] = {}
    last = 0
    for start, end in [*_string_spans(sql), (len(sql), len(sql))]:
        for m in _PARAM_CAST_RE.finditer(sql[last:start]):
            n, t = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            t = " ".join(t.lower().replace("[", " [").split())
            array = t.endswith("]")
            t = t.rstrip("[] ")
            oid = _OID_OF_CAST.get(t)
            if oid is not None and array:
                oid = _ARRAY_OID_OF.get(oid)  # a list parameter: the array type of that element
            if oid is not None:
                out.setdefault(int(n), oid)
        last = end
    return out


def _typed_parameters(sql: str, oids: list[int]) -> str:
    """``$n`` as ``CAST($n AS T)`` for each parameter whose type the client declared (found by DuckDB's tokenizer,
    so never inside a string or a comment)."""
    if not any(o in _CAST_OF for o in oids):
        return sql
    try:
        tokens = _tokens(sql)
    except duckdb.Error:
        return sql
    out, last = [], 0
    for (pos, kind), (nxt, nkind) in zip(tokens, tokens[1:], strict=False):
        if kind == duckdb.token_type.operator and sql[pos] == "$" and nkind == duckdb.token_type.numeric_const \
                and nxt == pos + 1:
            digits = re.match(r"\d+", sql[nxt:])
            if digits and 0 < int(digits.group()) <= len(oids) and oids[int(digits.group()) - 1] in _CAST_OF:
                out += [sql[last:pos], f"CAST(${digits.group()} AS {_CAST_OF[oids[int(digits.group()) - 1]]})"]
                last = nxt + len(digits.group())
    return "".join([*out, sql[last:]])


def _string_spans(sql: str) -> list[tuple[int, int]]:
    """Where the string literals of ``sql`` are ([start, end) pairs), by DuckDB's tokenizer."""
    try:
        tokens = _tokens(sql)
    except duckdb.Error:
        return []
    spans = []
    for i, (pos, kind) in enumerate(tokens):
        if kind != duckdb.token_type.string_const:
            continue
        end = tokens[i + 1][0] if i + 1 < len(tokens) else len(sql)
        if sql[pos] == "'":  # a plain literal ends at its closing quote ('' is a quote inside it)
            j = pos + 1
            while j < len(sql) and (sql[j] != "'" or sql[j + 1:j + 2] == "'"):
                j += 2 if sql[j] == "'" else 1
            end = min(j + 1, end)
        spans.append((pos, end))
    return spans


def _catalog_rewrites(sql: str) -> str:
    """The catalogue rewrites (``_REGTYPE_RE``; ``'name'::regclass`` as that relation's oid), outside string
    literals only: a literal that merely contains ``::regtype`` stays as written."""
    out, last = [], 0
    for start, end in _string_spans(sql):
        out.append(_REGTYPE_RE.sub("", sql[last:start]))
        literal, last = sql[start:end], end
        m = _REGCLASS_RE.match(sql, end) if literal.startswith("'") else None
        if m:
            name = literal[1:-1].replace("''", "'").split(".")[-1]  # a schema-qualified name: the relation's own
            literal, last = f"(SELECT oid FROM pg_catalog.pg_class WHERE relname = {quote_literal(name)} LIMIT 1)", m.end()
        out.append(literal)
    out.append(_REGTYPE_RE.sub("", sql[last:]))
    return "".join(out)


def _split_statements(sql: str) -> list[str]:
    """``sql`` cut at its statement-ending semicolons, by DuckDB's tokenizer; parts that are only comments dropped."""
    try:
        tokens = _tokens(sql)
    except duckdb.Error:
        return [sql]
    cuts = [pos for pos, kind in tokens if kind == duckdb.token_type.operator and sql[pos] == ";"]
    starts = [0, *(c + 1 for c in cuts)]
    ends = [*cuts, len(sql)]
    parts = []
    for a, b in zip(starts, ends, strict=True):
        inner = [k for pos, k in tokens if a <= pos < b and k != duckdb.token_type.comment]
        if inner:
            parts.append(sql[a:b])
    return parts or [sql]


def _columns(cur: duckdb.DuckDBPyConnection, sql: str, n_params: int) -> list[tuple[str, int, int]]:
    """Result columns of a SELECT; a DuckDB relation binds the query without running it."""
    rel = cur.sql(sql, params=[None] * n_params) if n_params else cur.sql(sql)
    return [(name, *_type_of(t)) for name, t in zip(rel.columns, rel.types, strict=True)]


@dataclass
class Portal:
    sql: str
    params: list[Any]
    result_formats: list[int] = field(default_factory=list)  # Bind's: none (all text), one for all, or one each
    result: Result | None = None
    described: list[tuple[str, int, int]] | None = None  # the columns the client was told (Describe)

    def formats(self, n: int) -> list[int]:
        f = self.result_formats
        if len(f) not in (0, 1, n) or any(c not in (0, 1) for c in f):
            raise ProtocolError(f"Bind gave result format codes {f} for {n} columns; each must be 0 (text) or 1 "
                                "(binary), one for all or one per column.")
        return [f[0]] * n if len(f) == 1 else f or [0] * n


# ---------------------------------------------------------------- the served database


class Backend:
    """One opened database instance: the parent connection owning the functions, and its open sessions."""

    def __init__(self, path: str, *, read_write: bool, snapshot_dir: str | None = None) -> None:
        self.path = path
        self.snapshot_dir = snapshot_dir
        self.sessions = 0
        self.retired = False
        self.con = duckdb.connect(path, read_only=not read_write)
        register(self.con)
        # Why after register: registering reads ad_models through the normal path; from here on DuckDB
        # itself refuses files, network, ATTACH, COPY TO and extensions, and refuses to undo that.
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")

    def models(self) -> list[str]:
        from .udfs import registry

        return sorted(registry(self.con).by_ref)

    def close(self) -> None:
        self.con.close()
        if self.snapshot_dir:
            shutil.rmtree(self.snapshot_dir, ignore_errors=True)


def take_snapshot(source: str) -> tuple[str, str]:
    """Copy ``source`` into a private temporary file through DuckDB (a consistent copy); (path, its folder).

    The source is attached read-only for the copy only, so training and dbt can write it the rest of the time.
    """
    folder = tempfile.mkdtemp(prefix="ad_duckdb_serve_")
    dst = str(Path(folder) / "snapshot.duckdb")
    helper = duckdb.connect(":memory:")
    try:
        helper.execute("ATTACH ? AS src (READ_ONLY)", [source])
        helper.execute("ATTACH ? AS dst", [dst])
        helper.execute("COPY FROM DATABASE src TO dst")
    except duckdb.Error:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        helper.close()
    return dst, folder


@dataclass
class ServerConfig:
    database: str
    host: str = "127.0.0.1"
    port: int = 5433
    password: str | None = None
    read_write: bool = False
    snapshot: bool = False


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class PGServer(socketserver.ThreadingTCPServer):
    """A threaded TCP server; each client gets its own cursor of the current backend's connection."""

    daemon_threads = True  # close_all() waits for the sessions itself, with a time limit
    allow_reuse_address = True
    block_on_close = False

    def __init__(self, config: ServerConfig) -> None:
        if not Path(config.database).exists():
            raise click.ClickException(f"No database file {config.database!r}; create it first (e.g. ad-duckdb train).")
        if config.snapshot and config.read_write:
            raise click.ClickException("--snapshot serves a read-only copy; it cannot be combined with --read-write.")
        if not is_loopback(config.host) and not config.password:
            raise click.ClickException(
                f"Refusing to listen on {config.host} without a password: set --password or {PASSWORD_ENV}, "
                "or keep the default --host 127.0.0.1.")
        self.config = config
        self._lock = threading.Lock()
        self._clients: dict[tuple[int, int], tuple[socket.socket, Session]] = {}
        self._pids = iter(range(1000, 2**31))
        self.backend = self._open_backend()
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        self.address_family = family
        super().__init__((config.host, config.port), Handler)

    def _open_backend(self) -> Backend:
        cfg = self.config
        try:
            if cfg.snapshot:
                path, folder = take_snapshot(cfg.database)
                return Backend(path, read_write=False, snapshot_dir=folder)
            return Backend(cfg.database, read_write=cfg.read_write)
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise click.ClickException(
                    f"Cannot open {cfg.database!r}: another process has it open for writing ({e}). DuckDB allows "
                    "one writing process per file: wait for the training / dbt run to finish, or serve a copy "
                    "with --snapshot.") from e
            raise

    def reload(self) -> str:
        """Snapshot mode: take a fresh copy and serve it to new clients. Otherwise: re-read the stored models."""
        if not self.config.snapshot:
            refresh_functions(self.backend.con)
            return "models refreshed: " + ", ".join(self.backend.models())
        new = self._open_backend()
        with self._lock:
            old, self.backend = self.backend, new
            old.retired = True
            close_old = old.sessions == 0
        if close_old:
            old.close()
        return "new snapshot: " + ", ".join(new.models())

    def open_session(self, sock: socket.socket) -> tuple[Backend, Session, int, int]:
        with self._lock:
            backend = self.backend
            cur = backend.con.cursor()
            try:
                session = Session(cur)
            except duckdb.Error:
                cur.close()
                raise
            backend.sessions += 1
            pid, key = next(self._pids), secrets.randbits(31)
            self._clients[(pid, key)] = (sock, session)
        return backend, session, pid, key

    def close_session(self, backend: Backend, session: Session, pid: int, key: int) -> None:
        with self._lock:
            self._clients.pop((pid, key), None)
            session.cur.close()
            backend.sessions -= 1
            close_old = backend.retired and backend.sessions == 0
        if close_old:
            backend.close()

    def cancel(self, pid: int, key: int) -> None:
        with self._lock:
            client = self._clients.get((pid, key))
        # As in PostgreSQL, a cancel reaches only a running statement: between statements (or between the
        # pages of a result) interrupting would abort the client's transaction for nothing.
        if client is not None and client[1].busy:
            client[1].cur.interrupt()

    def close_all(self, timeout: float = 30.0) -> None:
        """Disconnect clients, wait for their sessions to end, then close the database.

        Why wait: the functions die with the parent connection, and DuckDB refuses to close a connection
        while a cursor of it still runs a query.
        """
        self.server_close()
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                clients = list(self._clients.values())
            if not clients or time.monotonic() > deadline:
                break
            for sock, session in clients:
                session.cur.interrupt()  # repeated: an interrupt between two statements of a batch is lost
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            time.sleep(0.1)
        try:
            self.backend.close()
        except duckdb.Error as e:
            log.warning("could not close the database cleanly: %s", e)


# ---------------------------------------------------------------- the protocol, one client


class Handler(socketserver.BaseRequestHandler):
    server: PGServer

    def setup(self) -> None:
        self.rfile = self.request.makefile("rb")
        self.out = bytearray()

    # -- low-level IO
    def read_exact(self, n: int) -> bytes:
        data = self.rfile.read(n)
        if len(data) != n:
            raise ConnectionError("client closed the connection")
        return data

    def send(self, kind: bytes, body: bytes = b"") -> None:
        self.out += kind + struct.pack("!i", len(body) + 4) + body
        if len(self.out) > 1 << 16:
            self.flush()

    def flush(self) -> None:
        if self.out:
            self.request.sendall(self.out)
            self.out.clear()

    def send_error(self, e: BaseException) -> None:
        msg = str(e).replace("\x00", "")
        fields = [b"SERROR", b"VERROR", b"C" + sqlstate(e).encode(), b"M" + msg.encode()]
        self.send(b"E", b"\x00".join(fields) + b"\x00\x00")

    def ready(self, status: bytes) -> None:
        self.send(b"Z", status)
        self.flush()

    # -- startup and authentication
    def startup(self) -> dict[str, str] | None:
        while True:
            n = struct.unpack("!i", self.read_exact(4))[0]
            if not 8 <= n <= 10000:
                return None
            body = self.read_exact(n - 4)
            code = struct.unpack("!i", body[:4])[0]
            if code in (_SSL_REQUEST, _GSS_REQUEST):
                self.request.sendall(b"N")  # no TLS: clients with sslmode=prefer go on in plain text
                continue
            if code == _CANCEL_REQUEST:
                pid, key = struct.unpack("!ii", body[4:12])
                self.server.cancel(pid, key)
                return None
            if code != _PROTOCOL_3:
                self.send_error(ProtocolError(f"Unsupported frontend protocol {code >> 16}.{code & 0xFFFF}."))
                self.flush()
                return None
            parts = body[4:].split(b"\x00")
            return {parts[i].decode(): parts[i + 1].decode() for i in range(0, len(parts) - 1, 2) if parts[i]}

    def authenticate(self, user: str) -> bool:
        password = self.server.config.password
        if password:
            # md5 rather than cleartext: the password never crosses the (unencrypted) wire.
            salt = os.urandom(4)
            self.send(b"R", struct.pack("!i", 5) + salt)
            self.flush()
            kind = self.read_exact(1)
            n = struct.unpack("!i", self.read_exact(4))[0]
            got = self.read_exact(n - 4).rstrip(b"\x00")
            inner = hashlib.md5((password + user).encode()).hexdigest().encode()
            want = b"md5" + hashlib.md5(inner + salt).hexdigest().encode()
            if kind != b"p" or not hmac.compare_digest(got, want):
                e = ProtocolError(f'password authentication failed for user "{user}"', "28P01")
                self.send_error(e)
                self.flush()
                log.warning("refused %s: wrong or missing password", self.client_address[0])
                return False
        self.send(b"R", struct.pack("!i", 0))
        return True

    def handle(self) -> None:
        try:
            params = self.startup()
            if params is None:
                return
            user = params.get("user", "")
            if not self.authenticate(user):
                return
        except (ConnectionError, OSError, struct.error):
            return
        try:
            backend, session, pid, key = self.server.open_session(self.request)
        except duckdb.Error as e:
            self.send_error(e)
            self.flush()
            return
        try:
            import ad_duckdb

            tz = session.cur.execute("SELECT current_setting('TimeZone')").fetchall()[0][0]
            for k, v in {"server_version": f"{PG_VERSION} (ad_duckdb {ad_duckdb.__version__})",
                         "server_encoding": "UTF8", "client_encoding": "UTF8", "DateStyle": "ISO, MDY",
                         "IntervalStyle": "postgres", "TimeZone": tz, "integer_datetimes": "on",
                         "standard_conforming_strings": "on", "is_superuser": "off", "session_authorization": user,
                         "application_name": params.get("application_name", "")}.items():
                self.send(b"S", k.encode() + b"\x00" + v.encode() + b"\x00")
            self.send(b"K", struct.pack("!ii", pid, key))
            self.ready(session.status)
            self.loop(session)
        except (ConnectionError, OSError):
            pass
        finally:
            self.server.close_session(backend, session, pid, key)

    def loop(self, s: Session) -> None:
        skip_to_sync = False  # after an error in the extended protocol, PostgreSQL ignores messages until Sync
        while True:
            kind = self.read_exact(1)
            n = struct.unpack("!i", self.read_exact(4))[0]
            body = self.read_exact(n - 4)
            if kind == b"X":
                return
            if kind == b"S":
                skip_to_sync = False
                try:
                    s.sync()
                except duckdb.Error as e:  # the COMMIT of the implicit transaction failed: the client must know
                    self.send_error(e)
                self.ready(s.status)
                continue
            if kind == b"H":
                self.flush()
                continue
            if skip_to_sync:
                continue
            s.busy = True
            try:
                if kind == b"Q":
                    self.simple_query(s, body.rstrip(b"\x00").decode())
                elif kind == b"P":
                    self.parse(s, body)
                elif kind == b"B":
                    self.bind(s, body)
                elif kind == b"D":
                    self.describe(s, body)
                elif kind == b"E":
                    self.execute(s, body)
                elif kind == b"C":
                    name = body[1:].rstrip(b"\x00").decode()
                    if body[:1] == b"S":
                        s.statements.pop(name, None)
                        s.described.pop(name, None)
                    else:
                        closed = s.portals.pop(name, None)
                        s.forget(closed.result if closed else None)
                    self.send(b"3")
                elif kind in (b"d", b"c", b"f"):
                    continue  # COPY FROM STDIN data: not supported, the COPY itself already failed
                else:
                    raise ProtocolError(f"Unsupported message type {kind!r}.", "0A000")
            except (ConnectionError, OSError):
                raise
            except Exception as e:  # noqa: BLE001 - any failure is this client's error, never the server's end
                if not isinstance(e, duckdb.Error | ProtocolError | ValueError | struct.error):
                    log.exception("unexpected error serving %s", self.client_address[0])
                self.send_error(e)
                if kind == b"Q":
                    self.ready(s.status)
                else:
                    skip_to_sync = True
                    s.implicit_failed = s.implicit
                    self.flush()
            finally:
                s.busy = False

    # -- simple query protocol
    def simple_query(self, s: Session, sql: str) -> None:
        if s.implicit:  # extended-protocol statements not yet ended by a Sync: a Query ends them first
            s.sync()
        if not sql.strip().strip(";").strip():
            self.send(b"I")
            self.ready(s.status)
            return
        try:
            for r in s.run(sql):
                if r.columns is not None:
                    self.row_description(r.columns)
                self.data_rows(r, 0)
        except duckdb.Error as e:
            self.send_error(e)
        self.ready(s.status)

    # -- extended query protocol
    def parse(self, s: Session, body: bytes) -> None:
        name, rest = body.split(b"\x00", 1)
        query, rest = rest.split(b"\x00", 1)
        (n,) = struct.unpack("!h", rest[:2])
        oids = list(struct.unpack(f"!{n}i", rest[2:2 + 4 * n])) if n else []
        s.statements[name.decode()] = (_typed_parameters(query.decode(), oids), oids)
        s.described.pop(name.decode(), None)
        self.send(b"1")

    def bind(self, s: Session, body: bytes) -> None:
        portal, rest = body.split(b"\x00", 1)
        stmt, rest = rest.split(b"\x00", 1)
        if stmt.decode() not in s.statements:
            raise ProtocolError(f'prepared statement "{stmt.decode()}" does not exist', "26000")
        sql, oids = s.statements[stmt.decode()]
        pos = 0

        def i16() -> int:
            nonlocal pos
            v = struct.unpack("!h", rest[pos:pos + 2])[0]
            pos += 2
            return int(v)

        formats = [i16() for _ in range(i16())]
        values: list[bytes | None] = []
        for _ in range(i16()):
            ln = struct.unpack("!i", rest[pos:pos + 4])[0]
            pos += 4
            values.append(None if ln < 0 else rest[pos:pos + ln])
            if ln > 0:
                pos += ln
        result_formats = [i16() for _ in range(i16())]
        params = []
        for i, raw in enumerate(values):
            fmt = formats[0] if len(formats) == 1 else formats[i] if formats else 0
            params.append(decode_param(raw, oids[i] if i < len(oids) else 0, fmt))
        if len(formats) not in (0, 1, len(values)) or any(c not in (0, 1) for c in formats):
            raise ProtocolError(f"Bind gave parameter format codes {formats} for {len(values)} parameters.")
        old = s.portals.get(portal.decode())
        s.forget(old.result if old else None)
        s.portals[portal.decode()] = Portal(sql, params, result_formats, described=s.described.get(stmt.decode()))
        self.send(b"2")

    def _run_portal(self, s: Session, p: Portal) -> Result:
        if p.result is None:
            p.result = s.run_one(p.sql, p.params or None)
        return p.result

    def describe(self, s: Session, body: bytes) -> None:
        what, name = body[:1], body[1:].rstrip(b"\x00").decode()
        if what == b"S":
            if name not in s.statements:
                raise ProtocolError(f'prepared statement "{name}" does not exist', "26000")
            sql, oids = s.statements[name]
            n = max([len(oids), *(int(x) for x in re.findall(r"\$(\d+)", sql))])
            # A parameter the client left untyped takes the type the query casts it to ($1::INTEGER), else text
            # (DuckDB casts text to the type the query needs). Bind then decodes by these types.
            cast = _parameter_casts(sql)
            oids = [o or cast.get(i + 1, 0) for i, o in enumerate(oids + [0] * (n - len(oids)))]
            s.statements[name] = (sql, oids)
            types = [o or 25 for o in oids]
            self.send(b"t", struct.pack(f"!h{n}i", n, *types))
            cols = s.described[name] = s.describe(sql, n)
        else:
            if name not in s.portals:
                raise ProtocolError(f'portal "{name}" does not exist', "34000")
            p = s.portals[name]
            cols = p.described = self._run_portal(s, p).columns
            if cols is not None:
                self.row_description(cols, p.formats(len(cols)))
                return
        if cols is None:
            self.send(b"n")
        else:
            self.row_description(cols)

    def execute(self, s: Session, body: bytes) -> None:
        name, rest = body.split(b"\x00", 1)
        (max_rows,) = struct.unpack("!i", rest[:4])
        portal = s.portals.get(name.decode())
        if portal is None:
            raise ProtocolError(f'portal "{name.decode()}" does not exist', "34000")
        if portal.sql.strip().strip(";").strip() == "":
            self.send(b"I")
            return
        if s.status == b"E" and not _TXN_WORD.match(portal.sql):
            raise ProtocolError("current transaction is aborted, commands ignored until end of transaction block",
                                "25P02")
        r = self._run_portal(s, portal)
        self.data_rows(r, max_rows, portal.formats(len(r.columns)) if r.columns else None, portal.described)

    # -- results
    def row_description(self, cols: list[tuple[str, int, int]], formats: list[int] | None = None) -> None:
        body = struct.pack("!h", len(cols))
        for i, (name, oid, size) in enumerate(cols):
            body += name.encode() + b"\x00" + struct.pack("!ihihih", 0, 0, oid, size, -1, formats[i] if formats else 0)
        self.send(b"T", body)

    def data_rows(self, r: Result, max_rows: int, formats: list[int] | None = None,
                  described: list[tuple[str, int, int]] | None = None) -> None:
        if r.columns is None:
            self.send(b"C", r.tag.encode() + b"\x00")
            return
        # Binary where the client asked for it (JDBC does from a statement's fifth run on, psycopg's binary cursors).
        encoders = [_binary if formats and formats[i] else _text for i in range(len(r.columns))]
        oids = [c[1] for c in r.columns]
        # The client decodes by the types it was told at Describe; a run whose parameters changed a column's type
        # is sent as that type, or refused, never as bytes of another type.
        told = [c[1] for c in described] if described and len(described) == len(oids) else oids
        page = 0  # rows sent by this Execute (its row limit counts these, not the portal's total)
        for row in r.rows:
            body = bytearray(struct.pack("!h", len(row)))
            for i, (v, oid, enc) in enumerate(zip(row, oids, encoders, strict=True)):
                if v is None:
                    body += b"\xff\xff\xff\xff"
                    continue
                if told[i] != oid:
                    v, oid = _as_told(v, oid, told[i], r.columns[i][0]), told[i]
                try:
                    t = enc(v, oid)
                except (struct.error, OverflowError) as e:
                    raise ProtocolError(f"Column {r.columns[i][0]!r}: {v!r} does not fit type OID {oid} ({e}); cast it in "
                                        "the query.", "22003") from e
                body += struct.pack("!i", len(t)) + t
            self.send(b"D", bytes(body))
            r.sent += 1
            page += 1
            if max_rows and page == max_rows:
                self.send(b"s")  # PortalSuspended: the client asks for more with another Execute
                return
        # PostgreSQL's tags count rows, also those of INSERT / UPDATE / DELETE ... RETURNING
        tag = {"SELECT": f"SELECT {r.sent}", "INSERT": f"INSERT 0 {r.sent}", "UPDATE": f"UPDATE {r.sent}",
               "DELETE": f"DELETE {r.sent}"}.get(r.tag, r.tag)
        self.send(b"C", tag.encode() + b"\x00")


# ---------------------------------------------------------------- the command


def run_server(config: ServerConfig, ready: Callable[[PGServer], None] | None = None) -> None:
    """Serve until SIGINT / SIGTERM; SIGHUP reloads (a fresh snapshot with --snapshot, else re-read models)."""
    server = PGServer(config)
    threads: list[threading.Thread] = []

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    def reload(*_: Any) -> None:
        def work() -> None:
            try:
                log.warning("reloaded: %s", server.reload())
            except (duckdb.Error, click.ClickException) as e:
                log.warning("reload failed, still serving the previous copy: %s", e)

        t = threading.Thread(target=work, daemon=True)
        threads.append(t)
        t.start()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, reload)
    if ready is not None:
        ready(server)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        for t in threads:
            t.join(timeout=30)
        server.close_all()


@click.command("serve")
@click.argument("db")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback requires a password.")
@click.option("--port", type=int, default=5433, show_default=True, help="TCP port (0 picks a free one).")
@click.option("--password", envvar=PASSWORD_ENV, show_envvar=True,
              help="Password every client must give (any user name). Default: none, loopback only.")
@click.option("--read-write", is_flag=True, help="Open DB for writing (default: read-only).")
@click.option("--snapshot", is_flag=True,
              help="Serve a private copy of DB, so training and dbt can write DB meanwhile; SIGHUP takes a new copy.")
def serve(db: str, host: str, port: int, password: str | None, read_write: bool, snapshot: bool) -> None:
    """Serve DB over the PostgreSQL wire protocol, with the anomaly functions registered.

    psql, psycopg, SQLAlchemy, Superset, Metabase and Tableau connect as to PostgreSQL (any user and
    database name) and run anomaly_score(...) live. Read-only and loopback-only by default; DuckDB itself
    refuses file, network, ATTACH, COPY and extension access. SIGHUP re-reads the models (with --snapshot:
    takes a fresh copy).

    \b
    Example:
      ad-duckdb serve warehouse.duckdb --port 5433
      psql "postgresql://analyst@127.0.0.1:5433/warehouse" -c "SELECT anomaly_score('tx_ae', 3, 120.0)"
    """
    logging.basicConfig(level=logging.WARNING, format="ad-duckdb serve: %(message)s", stream=sys.stderr)
    config = ServerConfig(db, host, port, password or None, read_write, snapshot)

    def ready(server: PGServer) -> None:
        h, p = server.server_address[:2]
        mode = "read-write" if read_write else "read-only snapshot" if snapshot else "read-only"
        models = ", ".join(server.backend.models()) or "none yet"
        click.echo(f"serving {db} ({mode}; models: {models}) on {h}:{p}")
        click.echo(f"connect: postgresql://USER@{h}:{p}/{Path(db).stem}")
        sys.stdout.flush()

    run_server(config, ready)
