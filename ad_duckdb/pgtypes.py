"""PostgreSQL types of DuckDB values: type OIDs, and the codecs between Python values and the wire.

Out: each result value in PostgreSQL's text format (``encode_text``) or binary format (``encode_binary``), for the
type OID ``type_of`` gives its DuckDB column type. In: Bind parameters (``decode_param``), text or binary, as the
Python values DuckDB binds. Pure functions of values and OIDs: no connection, no SQL text (that is ``pgsql``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import struct
import uuid
from collections.abc import Callable
from typing import Any

from . import jsonvalues
from .pgerrors import ProtocolError
from .pgfloattext import duckdb_interval_parts, duckdb_interval_text, float_text, interval_parts_text
from .pgintervalrows import Interval

# DuckDB type name -> (PostgreSQL type OID, type size); nested types go out as json, unknown ones as text.
_OIDS: dict[str, tuple[int, int]] = {
    "BOOLEAN": (16, 1), "TINYINT": (21, 2), "SMALLINT": (21, 2), "INTEGER": (23, 4), "BIGINT": (20, 8),
    "UTINYINT": (21, 2), "USMALLINT": (23, 4), "UINTEGER": (20, 8), "UBIGINT": (1700, -1), "HUGEINT": (1700, -1),
    "UHUGEINT": (1700, -1), "BIGNUM": (1700, -1), "VARINT": (1700, -1), "FLOAT": (700, 4), "DOUBLE": (701, 8),
    "VARCHAR": (25, -1), "BLOB": (17, -1), "DATE": (1082, 4), "TIME": (1083, 8), "TIME WITH TIME ZONE": (1266, 12),
    "TIMESTAMP": (1114, 8), "TIMESTAMP_S": (1114, 8), "TIMESTAMP_MS": (1114, 8), "TIMESTAMP_NS": (1114, 8),
    "TIMESTAMP WITH TIME ZONE": (1184, 8), "INTERVAL": (1186, 16), "UUID": (2950, 16), "JSON": (114, -1),
}
_TEXT, _JSON, _INT2VECTOR, _JSONB = (25, -1), (114, -1), (22, -1), (3802, -1)
# a number with its own text (pgavgout's avg of integers, pgvaluescale's VALUES): numeric, written as that text; the
# double first, which an ORDER BY of it sorts by
NUMERIC_TEXT = "STRUCT(PG_SORT DOUBLE, PG_NUMERIC VARCHAR)"
_LIST_SUFFIX = re.compile(r"\[\d*\]$")  # INTEGER[] (a LIST) or INTEGER[3] (an ARRAY): a list's element type
# array_out quotes an element with these (or an empty one, or one spelled NULL)
_ARRAY_QUOTE = re.compile(r'[{},"\\\s]')
# The longest identifier the server announces (SHOW max_identifier_length, PostgreSQL's NAMEDATALEN - 1), and so
# the length of its name type (pg_type's typlen, NAMEDATALEN; PgJDBC's getMaxTableNameLength & co. subtract one).
# DuckDB's own names have no limit: longer ones work, clients that keep to this never make one DuckDB refuses.
MAX_IDENTIFIER_LENGTH = 63
TYPE_OIDS = _OIDS  # read by the server's catalogue (pg_attribute), so a column is listed as the type it is sent as
# PostgreSQL's names of those OIDs, as its format_type() writes them: SQLAlchemy and psql read a column's type from
# that text (SQLAlchemy's type map knows "double precision", not DuckDB's "DOUBLE" or pg_type's "float8").
PG_TYPE_NAMES = {16: "boolean", 21: "smallint", 23: "integer", 20: "bigint", 700: "real", 701: "double precision",
                 1700: "numeric", 25: "text", 1043: "character varying", 17: "bytea", 1082: "date",
                 1083: "time without time zone", 1266: "time with time zone", 1114: "timestamp without time zone",
                 1184: "timestamp with time zone", 1186: "interval", 2950: "uuid", 114: "json", 26: "oid", 19: "name",
                 22: "int2vector", 3802: "jsonb"}
# ... and pg_type's names of them (typname; information_schema.columns.udt_name, which Metabase's field sync reads).
PG_TYPNAMES = {16: "bool", 21: "int2", 23: "int4", 20: "int8", 700: "float4", 701: "float8", 1700: "numeric", 25: "text",
               1043: "varchar", 17: "bytea", 1082: "date", 1083: "time", 1266: "timetz", 1114: "timestamp",
               1184: "timestamptz", 1186: "interval", 2950: "uuid", 114: "json", 26: "oid", 19: "name",
               3802: "jsonb"}


# ---------------------------------------------------------------- values out (text format) and in

_PG_EPOCH = dt.datetime(2000, 1, 1)  # dates and timestamps in the binary format count from here


def _array_text(v: list[Any] | tuple[Any, ...], elem: int) -> str:
    """PostgreSQL's array_out: {1,2,NULL}, an element quoted when it is empty, NULL, or has a brace, comma, quote,
    backslash or white space."""
    parts = []
    for x in v:
        if x is None:
            parts.append("NULL")
            continue
        t = encode_text(x, elem).decode()
        if t == "" or t.upper() == "NULL" or _ARRAY_QUOTE.search(t):
            t = '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'
        parts.append(t)
    return "{" + ",".join(parts) + "}"


def _record_text(v: tuple[Any, ...]) -> str:
    """PostgreSQL's record_out of DuckDB's unnamed struct (a TUPLE, sent as text): (1.5,"a b",,t), a field quoted
    when it is empty or has a parenthesis, comma, quote, backslash or white space, a NULL left empty. Why: it went
    out as Python's repr of a tuple, (Decimal('1.5'), 'a b', None, True)."""
    parts = []
    for x in v:
        if x is None:
            parts.append("")
            continue
        t = encode_text(x, _FIELD_OIDS.get(type(x), 25)).decode()
        if t == "" or _RECORD_QUOTE.search(t):
            t = '"' + t.replace("\\", "\\\\").replace('"', '""') + '"'
        parts.append(t)
    return "(" + ",".join(parts) + ")"


_RECORD_QUOTE = re.compile(r'[(),"\\\s]')
# a record field's type, as its Python value tells it (the text of each, as encode_text writes that type's)
_FIELD_OIDS = {bool: 16, float: 701, dict: 114, list: 114, tuple: 25}


def encode_text(v: Any, oid: int) -> bytes:
    """One value in PostgreSQL's text format for type ``oid``."""
    if isinstance(v, list | tuple) and oid in _ARRAY_OF:  # a LIST, or a fixed-size ARRAY (a tuple)
        return _array_text(v, _ARRAY_OF[oid]).encode()
    if isinstance(v, tuple) and oid == 25:  # (a TUPLE: type_of's text)
        return _record_text(v).encode()
    if isinstance(v, bool):
        s = "t" if v else "f"
    elif isinstance(v, float):
        # PostgreSQL's text (pgfloattext); a FLOAT (float4) as its shortest float32 digits: 0.1, not the float64
        # 0.10000000149011612
        s = float_text(v, oid == 700)
    elif isinstance(v, decimal.Decimal):
        s = format(v, "f")
    elif isinstance(v, dict) and oid == 1700:  # (NUMERIC_TEXT: the double, and PostgreSQL's text of it)
        s = v["pg_numeric"]
    elif isinstance(v, dt.datetime):
        s = v.isoformat(sep=" ")
    elif isinstance(v, dt.date | dt.time | uuid.UUID):
        s = str(v)
    elif isinstance(v, Interval):
        s = interval_parts_text(*v)
    elif isinstance(v, dt.timedelta):
        # (a timedelta's months are days already: whole days, then the time, of one sign as PostgreSQL's justify)
        micros = _micros(v)
        days = -(-micros // 86_400_000_000) if micros < 0 else micros // 86_400_000_000
        s = interval_parts_text(0, days, micros - days * 86_400_000_000)
    elif oid == 1186 and isinstance(v, str):  # (pgintervalout's DuckDB text, with the months)
        s = duckdb_interval_text(v)
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


def encode_binary(v: Any, oid: int) -> bytes:
    """One value in PostgreSQL's binary format for type ``oid`` (types without one go as their text bytes)."""
    if isinstance(v, list | tuple) and oid in _ARRAY_OF:  # a LIST, or a fixed-size ARRAY (a tuple)
        elem = _ARRAY_OF[oid]
        if not v:  # PostgreSQL's empty array: no dimensions
            return struct.pack("!iii", 0, 0, elem)
        items = [b"\xff\xff\xff\xff" if x is None else struct.pack("!i", len(b := encode_binary(x, elem))) + b
                 for x in v]
        return struct.pack("!iiiii", 1, int(None in v), elem, len(v), 1) + b"".join(items)
    if oid == 16:
        return b"\x01" if v else b"\x00"
    if oid in _INT_FORMATS:
        return struct.pack(_INT_FORMATS[oid], v)
    if oid == 700:
        return struct.pack("!f", v)
    if oid == 701:
        return struct.pack("!d", v)
    if oid == 1700:
        return _numeric_to_binary(decimal.Decimal(v["pg_numeric"]) if isinstance(v, dict) else v)
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
        return struct.pack("!q", _micros(v.astimezone(dt.UTC).replace(tzinfo=None) - _PG_EPOCH))
    if oid == 1186:
        if isinstance(v, Interval):  # (pgintervalrows' months, days and microseconds)
            return struct.pack("!qii", v.micros, v.days, v.months)
        if isinstance(v, str):  # (pgintervalout's DuckDB text, with the months)
            months, days, micros = duckdb_interval_parts(v) or (0, 0, 0)
            return struct.pack("!qii", micros, days, months)
        return struct.pack("!qii", v.seconds * 1_000_000 + v.microseconds, v.days, 0)
    if oid == 2950:
        return v.bytes
    if oid == 17:
        return bytes(v)
    if oid == 22:  # int2vector: a one-dimensional int2 array, subscripted from 0
        keys = [int(k) for k in str(v).split()]
        return struct.pack(f"!iiiii{'ih' * len(keys)}", 1, 0, 21, len(keys), 0,
                           *[x for k in keys for x in (2, k)])
    if oid == 3802:  # jsonb: a version byte, then the text
        return b"\x01" + encode_text(v, oid)
    return encode_text(v, oid)  # text, varchar, json: the binary format is the text itself


_INT_FORMATS = {21: "!h", 23: "!i", 20: "!q", 26: "!I"}


def as_told(v: Any, oid: int, told: int, column: str) -> Any:
    """Value ``v`` (of type ``oid``) as the type the client was told at Describe, or a refusal naming the fix."""
    if told in (25, 1043, 114, 3802):
        return encode_text(v, oid).decode()
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


def type_of(t: Any) -> tuple[int, int]:
    name = str(t).upper()
    if name in _OIDS:
        return _OIDS[name]
    if name == "UNION(INT2VECTOR VARCHAR)":
        return _INT2VECTOR  # an int2vector's text (the session macro pg_int2vector_out)
    if name == "UNION(JSONB JSON)":
        return _JSONB  # a jsonb value (pgjsonbout)
    if name == NUMERIC_TEXT:
        return 1700, -1
    if name == "UNION(\"INTERVAL\" VARCHAR)":  # (a keyword: DuckDB quotes the member name)
        return _OIDS["INTERVAL"]  # an interval's DuckDB text, with its months (pgintervalout)
    if name.startswith(("STRUCT", "MAP", "UNION")):
        return _JSON
    if name.endswith("]"):  # before DECIMAL: DECIMAL(9,2)[] is a list
        # a list of scalars is PostgreSQL's array of them (INTEGER[] int4[], JSON[] json[]), which clients decode
        # into a list; lists of lists and of structs are json (a PostgreSQL array is rectangular, of one type)
        elem = _LIST_SUFFIX.sub("", name)
        if elem.endswith("]") or elem.startswith(("STRUCT", "MAP", "UNION")):
            return _JSON
        if elem == "UINTEGER":
            return 1028, -1  # oid[]: PostgreSQL's oid is an unsigned 32-bit integer (the catalogue's atttypid)
        return ARRAY_OID_OF.get(type_of(elem)[0], 1009), -1
    if name.startswith("DECIMAL"):
        return (1700, -1)
    return _TEXT


def _bool_param(text: str) -> bool:
    """PostgreSQL's boolean input (boolin): any prefix of true / false / yes / no, on / off, 1 / 0; anything else is
    refused, not read as false."""
    word = text.strip().lower()
    for value, spellings in ((True, ("true", "yes", "on", "1")), (False, ("false", "no", "off", "0"))):
        if word and any(s.startswith(word) and (len(word) > 1 or s not in ("on", "off")) for s in spellings):
            return value
    raise ValueError(f"invalid input syntax for type boolean: {text!r}")


_PARAM_TEXT: dict[int, Callable[[str], Any]] = {
    16: _bool_param,
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


def _timetz_binary(b: bytes) -> str:
    """PostgreSQL's binary timetz (microseconds of the day, the zone's offset in seconds west of UTC) as the text
    DuckDB casts to TIME WITH TIME ZONE (Python's time stops before 24:00:00, which timetz holds)."""
    micros, west = struct.unpack("!qi", b)
    hours, rest = divmod(micros, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    zone_minutes, zone_seconds = divmod(abs(west), 60)
    zone = f"{'-' if west > 0 else '+'}{zone_minutes // 60:02}:{zone_minutes % 60:02}"
    return f"{hours:02}:{minutes:02}:{rest / 1_000_000:09.6f}{zone}" + (f":{zone_seconds:02}" if zone_seconds else "")


def _interval_binary(b: bytes) -> dt.timedelta:
    micros, days, months = struct.unpack("!qii", b)
    return dt.timedelta(days=days + 30 * months, microseconds=micros)


# Binary parameters psycopg sends by default (its "%s" picks binary for dates, numbers, UUIDs, ...).
_PARAM_BINARY.update({
    1082: lambda b: (_PG_EPOCH + dt.timedelta(days=struct.unpack("!i", b)[0])).date(),
    1083: lambda b: (_PG_EPOCH + dt.timedelta(microseconds=struct.unpack("!q", b)[0])).time(),
    1114: lambda b: _PG_EPOCH + dt.timedelta(microseconds=struct.unpack("!q", b)[0]),
    1184: lambda b: (_PG_EPOCH + dt.timedelta(microseconds=struct.unpack("!q", b)[0])).replace(tzinfo=dt.UTC),
    1700: _numeric_binary, 1186: _interval_binary, 2950: lambda b: uuid.UUID(bytes=b), 1266: _timetz_binary,
    114: lambda b: b.decode(), 3802: lambda b: b[1:].decode(),  # jsonb: a version byte, then the text
})


# Array type OID -> element type OID, for array parameters (``x = ANY(%s)`` with a Python list).
# Also the types DuckDB's lists of scalars are sent as (type_of).
_ARRAY_OF = {1000: 16, 1005: 21, 1007: 23, 1016: 20, 1028: 26, 1021: 700, 1022: 701, 1231: 1700, 1009: 25,
             1015: 1043, 1014: 1042, 1182: 1082, 1183: 1083, 1115: 1114, 1185: 1184, 2951: 2950, 199: 114,
             1001: 17, 1187: 1186, 1270: 1266}
ARRAY_OID_OF = {elem: arr for arr, elem in _ARRAY_OF.items() if elem != 1043}  # element OID -> its array OID
ARRAY_ELEMENT_OF = dict(_ARRAY_OF)  # the catalogue's array types (pgcatalog's pg_type)
# ... named as PostgreSQL names them: format_type's integer[], pg_type's _int4
PG_TYPE_NAMES.update({arr: PG_TYPE_NAMES[elem] + "[]" for arr, elem in _ARRAY_OF.items() if elem in PG_TYPE_NAMES})
PG_TYPNAMES.update({arr: "_" + PG_TYPNAMES[elem] for arr, elem in _ARRAY_OF.items() if elem in PG_TYPNAMES})
_DATE_ONLY_TZ = re.compile(r"^(\d{4,}-\d\d-\d\d)(?: BC)? [+-]\d\d(?::?\d\d)?$")


def array_text(text: str, conv: Callable[[str], Any]) -> list[Any]:
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


def _text_param(text: str, oid: int) -> Any:
    if oid == 1700:
        return _numeric_param(decimal.Decimal(text))
    if oid in _ARRAY_OF:
        return array_text(text, _PARAM_TEXT.get(_ARRAY_OF[oid], str))
    conv = _PARAM_TEXT.get(oid)
    if conv is None and oid in (0, 1082):
        # JDBC's setDate sends "2026-01-11 +00", untyped (also once a Describe told it the parameter is a date);
        # DuckDB casts no date with a zone, so drop it.
        m = _DATE_ONLY_TZ.match(text)
        return m.group(1) if m and " BC" not in text else text
    return conv(text) if conv else text


def parameter_oid(t: Any) -> int:
    """The type OID to describe a parameter DuckDB binds as type ``t`` (ParameterDescription): its column type's,
    where Bind reads values of that type in both formats; else 0, described as text (DuckDB casts text)."""
    name = str(t).upper()
    if name == "UNKNOWN" or name.startswith(("STRUCT", "MAP", "UNION")):
        return 0
    oid = type_of(t)[0]
    if oid == 114 and name != "JSON":  # a list of lists: json, which DuckDB would not cast back to the list
        return 0
    return oid if oid in _PARAM_BINARY or _ARRAY_OF.get(oid) in _PARAM_BINARY else 0


def decode_param(raw: bytes | None, oid: int, fmt: int) -> Any:
    """A Bind parameter as the Python value DuckDB should bind (text types stay strings; DuckDB casts them)."""
    if raw is None:
        return None
    if fmt == 0:
        text = raw.decode()
        try:
            return _text_param(text, oid)
        except (ValueError, ArithmeticError) as e:  # as PostgreSQL's input functions refuse it (not Python's words)
            raise ProtocolError(f'invalid input syntax for type {PG_TYPE_NAMES.get(oid, f"OID {oid}")}: "{text}"',
                                "22P02") from e
    if oid == 1700:
        return _numeric_param(_numeric_binary(raw))
    if oid in _ARRAY_OF:
        return _array_binary(raw)
    conv_b = _PARAM_BINARY.get(oid)
    if conv_b is None:
        raise ProtocolError(f"Binary parameters of type OID {oid} are not supported; send them as text.", "0A000")
    return conv_b(raw)

# The functions pg_type's regproc columns name (typreceive of each type, the arrays' input/output), by PostgreSQL's
# names, and the oid pg_proc lists each under (pgcatalog): Npgsql's type loading (Power BI) joins pg_proc on
# typreceive's oid and tells arrays by proname = 'array_recv'; Npgsql 4 joins it with an INNER JOIN, so a type whose
# receive function pg_proc lacks is not loaded at all. None of them is callable: they are PostgreSQL's binary I/O,
# which the server does itself (encode_binary, decode_param). Their oids are below PostgreSQL's first user oid
# (16384), where no DuckDB function oid is.
RECEIVE_FUNCTIONS = {"bool": "boolrecv", "bytea": "bytearecv", "name": "namerecv", "int8": "int8recv",
                     "int2": "int2recv", "int4": "int4recv", "text": "textrecv", "oid": "oidrecv", "json": "json_recv",
                     "float4": "float4recv", "float8": "float8recv", "varchar": "varcharrecv", "date": "date_recv",
                     "time": "time_recv", "timestamp": "timestamp_recv", "timestamptz": "timestamptz_recv",
                     "interval": "interval_recv", "timetz": "timetz_recv", "bit": "bit_recv",
                     "numeric": "numeric_recv", "uuid": "uuid_recv", "jsonb": "jsonb_recv"}
TYPE_IO_FUNCTION_OIDS = {name: 16000 + i for i, name in enumerate(
    sorted({*RECEIVE_FUNCTIONS.values(), "enum_recv", "array_recv", "array_in", "array_out", "array_send"}))}
