"""``COPY table [(columns)] FROM STDIN``: reading PostgreSQL's text, CSV and binary COPY data as it arrives, and
loading it into DuckDB.

The server (``wirecopy.WireCopy``, a part of ``wirehandler.Handler``) owns the protocol (CopyInResponse, CopyData /
CopyDone / CopyFail) and the transaction; this module never imports it. A ``Loader`` runs one ``INSERT INTO table (columns) SELECT ... FROM``
a stream of Arrow batches: DuckDB asks for the next batch when it wants one, and the Loader makes it from the
next CopyData messages (whole lines, CSV records, binary tuples), so memory holds a batch, never the input.
DuckDB converts each value to its column's type: text and CSV values arrive as strings (its casts read
PostgreSQL's output of numbers, dates, timestamps, intervals, UUIDs and JSON); the few PostgreSQL spellings it does
not read are converted on the way (bytea's ``\\x0102``, booleans' ``on`` / ``off``, arrays' ``{1,2}``).

Errors are PostgreSQL's: 22P04 for malformed COPY data (a missing or extra column, an unterminated CSV quote),
22P02 for a value its column's type does not read, 22021 for bytes that are no UTF-8, 23505 / 23502 for a
duplicate key / a NULL in a NOT NULL column, each with PostgreSQL's CONTEXT (``CopyError.where``: ``COPY t, line
3, column a: "x"``).
"""

from __future__ import annotations

import re
import struct
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import duckdb
import pyarrow as pa

from .pgcopy import CopyIn
from .pgcopybulk import plain_columns
from .pgerrors import ProtocolError, sqlstate
from .pgtypes import ARRAY_ELEMENT_OF, array_text, decode_param, type_of
from .sqltext import quote_ident

BATCH_ROWS = 50_000  # rows per Arrow batch DuckDB reads ...
BATCH_BYTES = 8 << 20  # ... or fewer, when their input is this large
_BATCH_VIEW = "__ad_duckdb_copy_in"
_STORE_TABLES = ("ad_models", "ad_thresholds", "ad_model_versions", "ad_model_current", "ad_model_log")  # storetables.STORE_TABLES
_BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


class CopyError(ProtocolError):
    """An error in the COPY data, with where it is (PostgreSQL's CONTEXT: ``COPY t, line 3, column a: "x"``)."""

    def __init__(self, message: str, code: str, where: str = "") -> None:
        super().__init__(message, code)
        self.where = where


Row = list[Any]


# ---------------------------------------------------------------- text format

_TEXT_ESCAPE_RE = re.compile(rb"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|([\s\S]))")
_TEXT_CHARS = {b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v"}
_BARE_CR_RE = re.compile(rb"(?:^|[^\\])(?:\\\\)*\r")  # a carriage return no backslash escapes


def _text_escape(m: re.Match[bytes]) -> bytes:
    if m.group(1) is not None:
        return bytes([int(m.group(1), 8) & 0xFF])
    if m.group(2) is not None:
        return bytes([int(m.group(2), 16)])
    c = m.group(3)
    return _TEXT_CHARS.get(c, c)


def _odd_backslashes(b: bytes) -> bool:
    return (len(b) - len(b.rstrip(b"\\"))) % 2 == 1


def _utf8(b: bytes) -> str:
    try:
        return b.decode()
    except UnicodeDecodeError as e:
        bad = b[e.start:e.start + 1].hex()
        raise CopyError(f'invalid byte sequence for encoding "UTF8": 0x{bad}', "22021") from e


class _LineReader:
    """What the text and CSV formats share: the input's physical lines as they complete (a line ends at ``\\n``; the
    last one may lack it), each read by ``_line``: a row, or None while the row goes on (``pending``)."""

    def __init__(self) -> None:
        # Why a bytearray: a long line comes in many CopyData, and ``bytes +=`` copied all of it at each one
        self.rest = bytearray()
        self.pending: list[Any] = []  # the lines so far of a row that goes on in the next line
        self.crlf: bool | None = None  # the first line's ending decides, as in PostgreSQL
        self.done = False  # after \. PostgreSQL reads the rest of the input and ignores it

    def feed(self, data: bytes, line_no: Callable[[], int]) -> Iterator[Row]:
        self.rest += data
        if b"\n" in data:
            *lines, self.rest = self.rest.split(b"\n")
            yield from self._rows(lines, line_no)

    def end(self, line_no: Callable[[], int]) -> Iterator[Row]:
        rest, self.rest = self.rest, bytearray()
        yield from self._rows([rest] if rest else [], line_no)
        if self.pending and not self.done:
            raise self._unended(line_no)

    def _rows(self, lines: list[bytearray], line_no: Callable[[], int]) -> Iterator[Row]:
        for raw in lines:
            if self.done:
                return
            row = self._line(bytes(raw), line_no)
            if row is not None:
                yield row

    def _line(self, raw: bytes, line_no: Callable[[], int]) -> Row | None:
        raise NotImplementedError

    def _unended(self, line_no: Callable[[], int]) -> CopyError:
        """The error for input that ends inside a row."""
        raise NotImplementedError


class TextReader(_LineReader):
    """PostgreSQL's text format: one row a line, fields split at the delimiter, ``\\N`` NULL, backslash escapes
    (``\\t``, ``\\n``, ``\\\\``, octal ``\\ooo``, hex ``\\xhh``; a backslash before any other character is that
    character, also before the delimiter or a newline), ``\\.`` alone on a line ends the data."""

    def __init__(self, spec: CopyIn) -> None:
        super().__init__()
        self.delim = spec.delimiter.encode()
        self.null = spec.null.encode()

    def _unended(self, line_no: Callable[[], int]) -> CopyError:
        return CopyError("end-of-copy marker corrupt: the last line ends in a backslash", "22P04")

    def _line(self, raw: bytes, line_no: Callable[[], int]) -> Row | None:
        if raw.endswith(b"\\") and _odd_backslashes(raw):
            self.pending.append(raw)  # a backslash before the newline: the newline is data
            return None
        if self.pending:  # joined once, when the row ends (joining at each line was quadratic)
            raw = b"\n".join([*self.pending, raw])
            self.pending = []
        if self.crlf is None:
            self.crlf = raw.endswith(b"\r")
        if self.crlf:
            if not raw.endswith(b"\r"):
                raise CopyError("literal newline found in data", "22P04", f"line {line_no() + 1}")
            raw = raw[:-1]
        if b"\r" in raw and _BARE_CR_RE.search(raw):
            raise CopyError("literal carriage return found in data", "22P04",
                            f"line {line_no() + 1} (write it as \\r)")
        if raw == b"\\.":
            self.done = True
            return None
        parts = raw.split(self.delim)
        if b"\\" in raw:
            # a delimiter after an odd number of backslashes is data (PostgreSQL writes a comma delimiter as \,)
            i = 0
            while i < len(parts) - 1:
                if parts[i].endswith(b"\\") and _odd_backslashes(parts[i]):
                    parts[i:i + 2] = [parts[i] + self.delim + parts[i + 1]]
                else:
                    i += 1
            return [None if p == self.null else _utf8(_TEXT_ESCAPE_RE.sub(_text_escape, p)) if b"\\" in p
                    else _utf8(p) for p in parts]
        return [None if p == self.null else _utf8(p) for p in parts]


# ---------------------------------------------------------------- CSV


class CsvReader(_LineReader):
    """PostgreSQL's CSV: fields split at the delimiter, quoted ones may hold delimiters, quotes (doubled, or after
    ESCAPE) and line breaks; an unquoted field equal to NULL (default: empty) is NULL, a quoted one never is."""

    def __init__(self, spec: CopyIn) -> None:
        super().__init__()
        d, q, e = (re.escape(c) for c in (spec.delimiter, spec.quote, spec.escape))
        self.delim, self.quote, self.null = spec.delimiter, spec.quote, spec.null
        if spec.escape == spec.quote:
            inner = f"(?:[^{q}]|{q}{q})*"
            self.unescape: Callable[[str], str] = lambda s: s.replace(spec.quote * 2, spec.quote)
        else:
            inner = f"(?:[^{q}{e}]|{e}[{q}{e}]|{e}(?![{q}{e}]))*"
            esc = re.compile(f"{e}([{q}{e}])")
            self.unescape = lambda s: esc.sub(r"\1", s)
        self.token = re.compile(f"{q}({inner}){q}|({d})|([^{d}{q}]+)", re.S)
        self.quote_or_escape = re.compile(f"[{q}{e}]")
        self.escape = spec.escape
        self.in_quotes = False  # whether a quoted field is open at the end of the last line

    def _unended(self, line_no: Callable[[], int]) -> CopyError:
        return CopyError("unterminated CSV quoted field", "22P04", f"line {line_no() + 1}")

    def _quotes_open(self, line: str, inside: bool) -> bool:
        """Whether a quoted field is open at the end of ``line``, given whether one was at its start. Why a scan of
        the new line alone: a regular expression over the whole record backtracked exponentially in the length of
        an unquoted field before an open quote, and re-reading the record at each of its lines was quadratic."""
        if self.escape == self.quote:
            return inside != (line.count(self.quote) % 2 == 1)  # a doubled quote inside is two: no change
        i = 0
        while True:
            if not inside:
                i = line.find(self.quote, i)
                if i < 0:
                    return False
                inside, i = True, i + 1
                continue
            m = self.quote_or_escape.search(line, i)
            if m is None:
                return True
            i = m.end()
            if m.group() == self.quote:
                inside = False
            elif line[i:i + 1] in (self.quote, self.escape):
                i += 1  # an escaped quote or escape is data; ESCAPE before anything else is itself

    def plain_lines(self, data: bytes, fields: int) -> list[pa.Array] | None:
        """``feed``'s rows of ``data`` as string columns, where the complete lines so far are all plain rows of
        ``fields`` values (pgcopybulk), none inside a quoted field or the end marker; None otherwise, with nothing
        read (``feed`` reads them then)."""
        if self.pending or self.in_quotes or self.done or self.crlf:
            return None
        end = data.rfind(b"\n")
        if end < 0:
            return None
        whole = bytes(self.rest) + data[:end]
        if self.quote.encode() in whole or b"\\." in whole:
            return None
        columns = plain_columns(whole, self.delim, self.null, fields)
        if columns is None:
            return None
        self.rest = bytearray(data[end + 1:])
        self.crlf = False  # no line of them ends with a carriage return: the first line decides, as in feed
        return columns

    def _line(self, raw: bytes, line_no: Callable[[], int]) -> Row | None:
        line = _utf8(raw)
        self.in_quotes = self._quotes_open(line, self.in_quotes)
        if self.in_quotes:
            self.pending.append(line)  # a quoted field goes on in the next line
            return None
        if self.pending:
            line = "\n".join([*self.pending, line])
            self.pending = []
        if self.crlf is None:
            self.crlf = line.endswith("\r")
        if self.crlf and line.endswith("\r"):
            line = line[:-1]
        if line == "\\.":
            self.done = True
            return None
        if self.quote not in line:
            return [None if f == self.null else f for f in line.split(self.delim)]
        row: Row = []
        parts: list[str] = []
        quoted = False
        for m in self.token.finditer(line):
            if m.group(2) is not None:
                row.append(None if not quoted and "".join(parts) == self.null else "".join(parts))
                parts, quoted = [], False
            elif m.group(3) is not None:
                parts.append(m.group(3))
            else:
                parts.append(self.unescape(m.group(1)))
                quoted = True
        row.append(None if not quoted and "".join(parts) == self.null else "".join(parts))
        return row


# ---------------------------------------------------------------- binary


class BinaryReader:
    """PostgreSQL's binary COPY (asyncpg's ``copy_records_to_table``): a signature and header, then per row a field
    count and each field's length and bytes in the binary format of its column's type, then -1."""

    def __init__(self, oids: list[int]) -> None:
        self.oids = oids
        self.buf = bytearray()
        self.pos = 0
        self.started = False
        self.done = False

    def feed(self, data: bytes, line_no: Callable[[], int]) -> Iterator[Row]:
        if self.done:
            if data:
                raise CopyError("received copy data after EOF marker", "22P04")
            return
        self.buf += data
        if not self.started:
            if len(self.buf) < 19:
                return
            if bytes(self.buf[:11]) != _BINARY_SIGNATURE:
                raise CopyError("COPY file signature not recognized", "22P04")
            flags, ext = struct.unpack("!ii", self.buf[11:19])
            if flags & (1 << 16):
                raise CopyError("COPY data with OIDs is not supported", "0A000")
            if ext < 0:  # read as a length, it would start the rows inside the header
                raise CopyError("invalid COPY file header (missing length)", "22P04")
            if len(self.buf) < 19 + ext:
                return
            self.pos, self.started = 19 + ext, True
        while not self.done:
            row = self._row(line_no)
            if row is None:
                break
            yield row
        del self.buf[:self.pos]
        self.pos = 0
        if self.done and self.buf:
            raise CopyError("received copy data after EOF marker", "22P04")

    def _row(self, line_no: Callable[[], int]) -> Row | None:
        buf, pos = self.buf, self.pos
        if len(buf) < pos + 2:
            return None
        (n,) = struct.unpack_from("!h", buf, pos)
        if n == -1:
            self.pos, self.done = pos + 2, True
            return None
        if n != len(self.oids):
            raise CopyError(f"row field count is {n}, expected {len(self.oids)}", "22P04", f"line {line_no() + 1}")
        pos += 2
        fields: list[bytes | None] = []
        for _ in range(n):
            if len(buf) < pos + 4:
                return None
            (size,) = struct.unpack_from("!i", buf, pos)
            pos += 4
            if size == -1:
                fields.append(None)
                continue
            if size < 0:  # no NULL, no length: the bytes after it cannot be read
                raise CopyError("invalid field size", "22P04", f"line {line_no() + 1}, column {len(fields) + 1}")
            if len(buf) < pos + size:
                return None
            fields.append(bytes(buf[pos:pos + size]))
            pos += size
        self.pos = pos
        row: Row = []
        for i, (raw, oid) in enumerate(zip(fields, self.oids, strict=True)):
            try:
                row.append(_binary_value(raw, oid))
            except (struct.error, ValueError, OverflowError) as e:
                raise CopyError(f"incorrect binary data format ({e})", "22P03",
                                f"line {line_no() + 1}, column {i + 1}") from e
        return row

    def end(self, line_no: Callable[[], int]) -> Iterator[Row]:
        if not self.started:
            raise CopyError("COPY file signature not recognized", "22P04")
        if not self.done and self.buf:  # no trailer is fine (as in PostgreSQL), half a row is not
            raise CopyError("unexpected EOF in COPY data", "22P04", f"line {line_no() + 1}")
        return iter(())


def _binary_value(raw: bytes | None, oid: int) -> Any:
    v = decode_param(raw, oid, 1)
    if oid in (1700, 2950):
        return None if v is None else str(v)  # NUMERIC and UUID reach DuckDB as their text, which it casts exactly
    if v is not None and ARRAY_ELEMENT_OF.get(oid) in (1700, 2950):  # a list column's array: its elements so too
        return [None if x is None else str(x) for x in v]
    return v


# Arrow types for binary values, by PostgreSQL type OID (text and CSV values are all strings)
_ARROW_OF: dict[int, pa.DataType] = {
    16: pa.bool_(), 21: pa.int64(), 23: pa.int64(), 20: pa.int64(), 700: pa.float64(), 701: pa.float64(),
    1700: pa.string(), 25: pa.string(), 1043: pa.string(), 114: pa.string(), 17: pa.binary(), 1082: pa.date32(),
    1083: pa.time64("us"), 1114: pa.timestamp("us"), 1184: pa.timestamp("us", tz="UTC"),
    1186: pa.duration("us"), 2950: pa.string(), 26: pa.int64(), 1266: pa.string(),
}
# a list column of those (pgtypes.type_of sends it as the element's array type, and asyncpg sends that back)
_ARROW_OF.update({arr: pa.list_(_ARROW_OF[elem]) for arr, elem in ARRAY_ELEMENT_OF.items() if elem in _ARROW_OF})


# ---------------------------------------------------------------- the target and the batches


def _list_text(v: str | None) -> str | None:
    """PostgreSQL's array text ({1,2}, {"a,b",NULL}, nested braces) as DuckDB's list text, which its casts read."""
    if v is None or not v.lstrip().startswith("{"):
        return v

    def text(x: Any) -> str:
        if isinstance(x, list):
            return "[" + ", ".join(text(y) for y in x) + "]"
        return "NULL" if x is None else '"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"'

    try:
        return text(array_text(v.strip(), str))
    except (ValueError, IndexError) as e:
        raise ValueError(v) from e


def _list_depth(type_name: str) -> int:
    m = re.search(r"(?:\[\d*\])+$", type_name)
    return m.group(0).count("[") if m and not type_name.startswith(("STRUCT", "MAP", "UNION")) else 0


class Loader:
    """One COPY FROM STDIN: the target's columns and types (checked before the client is asked for data: a missing
    table or column, a view, a read-only database and the model store's tables are refused), the reader of its
    format, and the rows of the batch being made."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, spec: CopyIn) -> None:
        last = spec.table.split(".")[-1].strip().strip('"').lower()
        if last in _STORE_TABLES:
            raise ProtocolError(f"{spec.table} is where ad_duckdb keeps its models; it is never a write target (train "
                                "models with ad-duckdb train). Load the rows into a table of your own.", "42501")
        self.cur, self.spec = cur, spec
        # the table and columns as the client's own COPY statement wrote them (its SQL, which it could run as it is)
        table, cols = spec.table, ", ".join(spec.columns) if spec.columns else "*"
        # DuckDB binds the columns without reading the table; an INSERT of no rows then asks whether the table takes
        # rows at all (a view, a read-only database) before the client is told to send any
        rel = cur.sql(f"SELECT {cols} FROM {table}")
        self.names = list(rel.columns)
        self.types = [str(t) for t in rel.types]
        if len(set(n.lower() for n in self.names)) != len(self.names):
            raise ProtocolError(f"a column of {spec.table} is named more than once in COPY's column list", "42701")
        self.target = target = f"{table} ({', '.join(quote_ident(n) for n in self.names)})"
        nulls = ", ".join(["NULL"] * len(self.names))
        cur.execute(f"INSERT INTO {target} SELECT {nulls} WHERE false")
        self.oids = [type_of(t)[0] for t in self.types]
        if spec.binary:
            bad = [(n, t) for n, t, o in zip(self.names, self.types, self.oids, strict=True) if o not in _ARROW_OF]
            if bad:
                raise ProtocolError(f"COPY ... FROM STDIN (FORMAT binary) into column {bad[0][0]} ({bad[0][1]}) is not "
                                    "supported by ad-duckdb serve; use FORMAT csv or text.", "0A000")
            self.reader: TextReader | CsvReader | BinaryReader = BinaryReader(self.oids)
        else:
            self.reader = CsvReader(spec) if spec.csv else TextReader(spec)
        self.header = bool(spec.header)
        self.lines = 0  # rows read (and the header): PostgreSQL's line number of the row being read
        self.rows: list[Row] = []
        # the batch's columns read before ``rows``, a block of string columns per CopyData read at once (plain_lines)
        self.blocks: list[list[pa.Array]] = []
        self.count = 0  # the batch's rows: those of the blocks and ``rows``
        self.first_line = 1
        self.exprs = [self._expr(i, t) for i, t in enumerate(self.types)]
        self.schema = pa.schema([*(pa.field(f"c{i}", self._arrow(o)) for i, o in enumerate(self.oids)),
                                 pa.field("line", pa.int64())])
        self.recent: deque[pa.RecordBatch] = deque(maxlen=4)  # the last batches sent, to find a failed value in
        self.failure: BaseException | None = None  # what stopped the reading (bad data, CopyFail, a lost client)

    def _arrow(self, oid: int) -> pa.DataType:
        return _ARROW_OF[oid] if self.spec.binary else pa.string()

    def _expr(self, i: int, type_name: str) -> str:
        c = f"c{i}"
        if self.spec.binary:
            return c
        if type_name == "BLOB":  # bytea's hex text form; DuckDB reads '\x01' escapes, not \x0102
            return f"CASE WHEN starts_with({c}, '\\x') THEN unhex({c}[3:]) ELSE CAST({c} AS BLOB) END"
        if type_name == "BOOLEAN":  # PostgreSQL also reads on / off, which DuckDB does not
            return f"CASE lower(trim({c})) WHEN 'on' THEN true WHEN 'off' THEN false ELSE CAST({c} AS BOOLEAN) END"
        return c

    def _line_no(self) -> int:
        return self.lines

    def run(self, data: Callable[[], bytes | None]) -> int:
        """Load every row the client sends (``data()``: the next CopyData's bytes, None at CopyDone) with one INSERT;
        the number of rows loaded (the tag's ``COPY n``).

        Why one INSERT reading a stream of Arrow batches: DuckDB pulls the next batch when it wants one, so the
        server holds a batch, never the input; and a view registered per batch is a catalogue entry DuckDB keeps,
        with its batch, until the transaction ends (the memory grew with the input).
        """
        reader = pa.RecordBatchReader.from_batches(self.schema, self._batches(data))
        self.cur.register(_BATCH_VIEW, reader)
        target, exprs = self.target, ", ".join(self.exprs)  # exprs: the batch's columns c0, c1, ... as fixed templates
        try:
            rows = self.cur.execute(f"INSERT INTO {target} SELECT {exprs} FROM {_BATCH_VIEW}").fetchall()
        except duckdb.Error as e:
            if self.failure is not None:
                raise self.failure from None  # the reading's own error, not DuckDB's report of it
            if isinstance(e, duckdb.ConstraintException):
                # PostgreSQL's codes for the two constraints a load meets most (the server's default: 23000)
                text = str(e)
                code = "23505" if "uplicate key" in text else "23502" if "NOT NULL" in text else sqlstate(e)
                raise CopyError(text.split("\n")[0], code, f"COPY {self.spec.table}") from e
            if isinstance(e, duckdb.ConversionException | duckdb.OutOfRangeException | duckdb.InvalidInputException) \
                    and "read-only mode" not in str(e):
                raise self._located(e) from e
            raise
        finally:
            try:
                self.cur.unregister(_BATCH_VIEW)
            except duckdb.Error:
                pass  # a failed INSERT aborted the transaction, and the view goes with it
        return int(rows[0][0]) if rows else 0

    def _batches(self, data: Callable[[], bytes | None]) -> Iterator[pa.RecordBatch]:
        """The rows of the client's data, a batch at a time (DuckDB asks for each, from its own threads)."""
        try:
            pending = 0
            while (chunk := data()) is not None:
                pending += len(chunk)
                if not self._take_plain(chunk):
                    self._take(self.reader.feed(chunk, self._line_no))
                # (a row longer than BATCH_BYTES is a batch when it ends: a batch of no rows has no columns)
                if self.count and (self.count >= BATCH_ROWS or pending >= BATCH_BYTES):
                    yield self._batch()
                    pending = 0
            self._take(self.reader.end(self._line_no))
            if self.count:
                yield self._batch()
        except CopyError as e:
            self.failure = self._where(e)
            raise
        except BaseException as e:
            self.failure = e
            raise

    def _where(self, e: CopyError) -> CopyError:
        if not e.where.startswith("COPY "):
            e.where = f"COPY {self.spec.table}, {e.where or f'line {self.lines + 1}'}"
        return e

    def _take_plain(self, chunk: bytes) -> bool:
        """Whether ``chunk``'s complete lines were read at once, as string columns (CsvReader.plain_lines)."""
        if not isinstance(self.reader, CsvReader) or self.header:
            return False
        columns = self.reader.plain_lines(chunk, len(self.names))
        if columns is None:
            return False
        columns = [self._column(i, c.to_pylist()) if _list_depth(self.types[i]) else c for i, c in enumerate(columns)]
        if self.rows:  # the rows read before them, first
            self.blocks.append(self._columns(self.rows))
            self.rows = []
        self.blocks.append(columns)
        self.lines += len(columns[0])
        self.count += len(columns[0])
        return True

    def _take(self, rows: Iterator[Row]) -> None:
        n = len(self.names)
        for row in rows:
            self.lines += 1
            if self.header:
                self.header = False
                self._check_header(row)
                self.first_line = self.lines + 1
                continue
            if len(row) != n:
                if len(row) > n:
                    raise CopyError("extra data after last expected column", "22P04",
                                    f"COPY {self.spec.table}, line {self.lines}")
                raise CopyError(f'missing data for column "{self.names[len(row)]}"', "22P04",
                                f"COPY {self.spec.table}, line {self.lines}")
            self.rows.append(row)
            self.count += 1

    def _check_header(self, row: Row) -> None:
        if self.spec.header != "match":
            return
        where = f"COPY {self.spec.table}, line {self.lines}"
        if len(row) != len(self.names):
            raise CopyError(f"wrong number of fields in header line: got {len(row)}, expected {len(self.names)}",
                            "22P04", where)
        for i, (got, want) in enumerate(zip(row, self.names, strict=True)):
            if got is None or got != want:
                raise CopyError(f'column name mismatch in header line field {i + 1}: got "{got}", expected "{want}"',
                                "22P04", where)

    def _columns(self, rows: list[Row]) -> list[pa.Array]:
        """``rows`` as a column each (strings for text and CSV, typed values for binary)."""
        return [self._column(i, column) for i, column in enumerate(zip(*rows, strict=True))]

    def _column(self, i: int, values: Sequence[Any]) -> pa.Array:
        """Column ``i``'s ``values``, an array's PostgreSQL text (``{1,2}``) as the list text DuckDB reads."""
        if not self.spec.binary and _list_depth(self.types[i]) and any(v is not None and v.lstrip().startswith("{")
                                                                      for v in values):
            try:
                values = [_list_text(v) for v in values]
            except ValueError as e:
                raise CopyError(f'malformed array literal: "{e}"', "22P02",
                                f"COPY {self.spec.table}, column {self.names[i]}") from e
        return pa.array(values, type=self.schema.field(i).type)

    def _batch(self) -> pa.RecordBatch:
        """The rows read so far as one Arrow batch, with each row's line number."""
        if self.rows:
            self.blocks.append(self._columns(self.rows))
            self.rows = []
        arrays = [pa.concat_arrays([block[i] for block in self.blocks]) for i in range(len(self.names))]
        arrays.append(pa.array(range(self.first_line, self.first_line + self.count), type=pa.int64()))
        self.blocks, self.count = [], 0
        self.first_line = self.lines + 1
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
        self.recent.append(batch)
        return batch

    def _located(self, e: duckdb.Error) -> Exception:
        """The row and column whose value failed, as PostgreSQL's CONTEXT names them (``COPY t, line 3, column a:
        "x"``), looked for in the last batches sent, on a connection of its own (this one's transaction failed)."""
        # DuckDB names the batch's column (c0, c1, ...); the client knows the table's
        first = re.sub(r"\bcolumn c(\d+)\b", lambda m: f"column {quote_ident(self.names[int(m.group(1))])}",
                       str(e).split("\n")[0])
        code = "22P02" if isinstance(e, duckdb.ConversionException) else sqlstate(e)
        if not self.recent:
            return CopyError(first, code, f"COPY {self.spec.table}")
        try:
            aux = self.cur.cursor()
        except duckdb.Error:
            return CopyError(first, code, f"COPY {self.spec.table}")
        try:
            batches = aux.from_arrow(pa.Table.from_batches(list(self.recent), schema=self.schema))
            for i, (name, type_name) in enumerate(zip(self.names, self.types, strict=True)):
                if type_name == "VARCHAR":
                    continue
                rel = batches.query(_BATCH_VIEW, (
                    f"SELECT line, CAST(c{i} AS VARCHAR) FROM {_BATCH_VIEW} WHERE c{i} IS NOT NULL AND "
                    f"try(CAST({self.exprs[i]} AS {type_name})) IS NULL ORDER BY line LIMIT 1"))
                assert rel is not None  # None is for a statement that returns no rows, never a SELECT
                found = rel.fetchall()
                if found:
                    line, value = found[0]
                    return CopyError(first, code, f'COPY {self.spec.table}, line {line}, column {name}: "{value}"')
        except duckdb.Error:
            pass
        finally:
            aux.close()
        return CopyError(first, code, f"COPY {self.spec.table}")
