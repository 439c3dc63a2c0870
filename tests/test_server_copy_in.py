"""`ad-duckdb serve`: COPY table [(columns)] FROM STDIN with the clients that send it (psql's \\copy ... from,
psycopg 3's cursor.copy, psycopg2's copy_expert / copy_from, asyncpg's copy_to_table / copy_records_to_table,
PgJDBC's CopyManager.copyIn, the extended protocol) against real --read-write servers. The servers and the minimal
protocol client come from tests/test_server.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import io
import json
import re
import shutil
import struct
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import duckdb
import psycopg
import psycopg2
import pytest

import test_server
from test_server import PSQL_MISSING, Server, Wire, serve

server = test_server.server  # the read-only server of tests/test_server.py
warehouse = test_server.warehouse

TABLES = """
CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR, price DECIMAL(10, 2), day DATE, ok BOOLEAN,
                    raw BLOB, tags INTEGER[], seen TIMESTAMPTZ, note VARCHAR DEFAULT 'none');
CREATE TABLE big (n BIGINT, s VARCHAR, x DOUBLE);
CREATE TABLE typed (i SMALLINT, b BIGINT, f DOUBLE, r FLOAT, d DECIMAL(12, 3), t VARCHAR, dd DATE, ts TIMESTAMP,
                    tz TIMESTAMPTZ, u UUID, bin BLOB, ok BOOLEAN, iv INTERVAL, j JSON);
CREATE VIEW items_view AS SELECT * FROM items;
"""


@pytest.fixture(scope="module")
def rw(warehouse: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A --read-write server on a copy of the warehouse (it has the model tables) with tables to load."""
    db = str(tmp_path_factory.mktemp("copy_in") / "rw.duckdb")
    shutil.copy(warehouse, db)
    con = duckdb.connect(db)
    con.execute(TABLES)
    con.close()
    with serve(db, "--read-write") as s:
        yield s


@pytest.fixture
def conn(rw: Server) -> Iterator[psycopg.Connection]:
    with psycopg.connect(rw.url(), autocommit=True) as c:
        c.execute("DELETE FROM items")
        c.execute("DELETE FROM big")
        c.execute("DELETE FROM typed")
        yield c


def _items(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute("SELECT id, name, price, day, ok, raw, tags, note FROM items ORDER BY id").fetchall()


# ---------------------------------------------------------------- psql


def test_psql_copy_from_csv_and_text_files(rw: Server, conn: psycopg.Connection, tmp_path: Path) -> None:
    psql = shutil.which("psql")
    assert psql, PSQL_MISSING
    csv_file, text_file, semi = tmp_path / "items.csv", tmp_path / "items.txt", tmp_path / "semi.csv"
    csv_file.write_text('id,name,price,day,ok,raw,tags\n1,"a,b",1.50,2024-01-02,on,\\x0102,"{1,2}"\n'
                        '2,,NaN,2024-01-03,f,,\n3,"two\nlines ""quoted""",3,2024-01-04,t,ab,[3]\n'.replace("NaN", "2"))
    text_file.write_text("10\ttab\\there\\\\back\t\\N\t2024-02-01\tt\t\\\\x00ff\t{7,8}\n"
                         "11\toct\\101 hex\\x42 nl\\nend\t0.5\t\\N\t\\N\t\\N\t\\N\n")
    semi.write_text("id;name\r\n20;semi\r\n21;NA\r\n")
    r = subprocess.run(
        [psql, rw.url(), "-X", "-v", "ON_ERROR_STOP=1",
         "-c", f"\\copy items (id, name, price, day, ok, raw, tags) from '{csv_file}' with (format csv, header)",
         "-c", f"\\copy items (id, name, price, day, ok, raw, tags) from '{text_file}'",
         # the old spelling, CRLF line ends
         "-c", f"\\copy items (id, name) from '{semi}' with csv header delimiter ';' null 'NA'"],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.split("\n")[:3] == ["COPY 3", "COPY 2", "COPY 2"], (r.stdout, r.stderr)
    D = decimal.Decimal
    assert _items(conn) == [
        (1, "a,b", D("1.50"), dt.date(2024, 1, 2), True, b"\x01\x02", [1, 2], "none"),
        (2, None, D("2.00"), dt.date(2024, 1, 3), False, None, None, "none"),
        (3, 'two\nlines "quoted"', D("3.00"), dt.date(2024, 1, 4), True, b"ab", [3], "none"),
        (10, "tab\there\\back", None, dt.date(2024, 2, 1), True, b"\x00\xff", [7, 8], "none"),
        (11, "octA hexB nl\nend", D("0.50"), None, None, None, None, "none"),
        (20, "semi", None, None, None, None, None, "none"),
        (21, None, None, None, None, None, None, "none"),
    ]
    # a bad value: all rows or none, with the line and column as PostgreSQL's CONTEXT names them
    bad = tmp_path / "bad.csv"
    bad.write_text("30,fine\n31,fine\nthirty-two,bad\n")
    r = subprocess.run([psql, rw.url(), "-X", "-c", f"\\copy items (id, name) from '{bad}' csv"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "Could not convert string 'thirty-two'" in r.stderr, r.stderr
    assert 'CONTEXT:  COPY items, line 3, column id: "thirty-two"' in r.stderr, r.stderr
    assert conn.execute("SELECT count(*) FROM items WHERE id >= 30").fetchall() == [(0,)]
    # in a transaction block the COPY joins it: ROLLBACK takes its rows back
    r = subprocess.run([psql, rw.url(), "-X", "-v", "ON_ERROR_STOP=1", "-c", "BEGIN",
                        "-c", f"\\copy items (id, name) from '{semi}' with csv header delimiter ';'",
                        "-c", "SELECT count(*) FROM items WHERE id >= 20", "-c", "ROLLBACK"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "Duplicate key" in r.stderr, r.stderr  # 20 and 21 are there already
    assert conn.execute("SELECT count(*) FROM items").fetchall() == [(7,)]


# ---------------------------------------------------------------- psycopg 3


def test_psycopg_copy_rows_and_blocks(conn: psycopg.Connection) -> None:
    cur = conn.cursor()
    tricky = "tab\there, back\\slash, new\nline, \\N, quote \" and comma ,"
    with cur.copy("COPY items (id, name, price, day, ok, raw, tags) FROM STDIN") as copy:
        copy.write_row((1, tricky, decimal.Decimal("9.99"), dt.date(2026, 1, 11), True, b"\x00\x01\xff", [4, 5]))
        copy.write_row((2, None, None, None, None, None, None))
        copy.write_row((3, "", 0, dt.date(1999, 12, 31), False, b"", []))
    assert cur.rowcount == 3 and cur.statusmessage == "COPY 3"
    got = _items(conn)
    assert got[0] == (1, tricky, decimal.Decimal("9.99"), dt.date(2026, 1, 11), True, b"\x00\x01\xff", [4, 5], "none")
    assert got[1] == (2, None, None, None, None, None, None, "none")
    assert got[2][:6] == (3, "", 0, dt.date(1999, 12, 31), False, b"") and got[2][6] == []
    # raw CSV written in blocks that split lines, quoted fields and a UTF-8 character anywhere
    data = 'id,name\n10,"x,y"\n11,"line\nbreak"\n12,né\n13,""\n14,\n'.encode()
    with cur.copy("COPY items (id, name) FROM STDIN WITH (FORMAT csv, HEADER true)") as copy:
        for i in range(0, len(data), 3):
            copy.write(data[i:i + 3])
    assert cur.rowcount == 5
    assert conn.execute("SELECT id, name FROM items WHERE id >= 10 ORDER BY id").fetchall() == [
        (10, "x,y"), (11, "line\nbreak"), (12, "né"), (13, ""), (14, None)]
    # the options COPY TO STDOUT takes: DELIMITER, NULL, QUOTE, ESCAPE, HEADER MATCH, E'' strings, ENCODING
    with cur.copy("COPY items (id, name) FROM STDIN (FORMAT csv, HEADER match, DELIMITER '|', NULL 'NULL', "
                  "QUOTE '''', ESCAPE '\\', ENCODING 'UTF8')") as copy:
        copy.write("id|name\n20|'it\\'s|quoted'\n21|NULL\n22|'NULL'\n")
    assert conn.execute("SELECT id, name FROM items WHERE id >= 20 ORDER BY id").fetchall() == [
        (20, "it's|quoted"), (21, None), (22, "NULL")]
    with cur.copy("COPY items (id, name) FROM STDIN DELIMITER E'\\073' NULL ''") as copy:
        copy.write("30;a\\;b\n31;\n\\.\nignored after the end marker\n")
    assert conn.execute("SELECT id, name FROM items WHERE id >= 30 ORDER BY id").fetchall() == [(30, "a;b"), (31, None)]
    # a default fills the columns the COPY does not name
    assert conn.execute("SELECT DISTINCT note FROM items").fetchall() == [("none",)]


def test_psycopg_copy_in_a_transaction_and_binary(conn: psycopg.Connection) -> None:
    conn.autocommit = False
    cur = conn.cursor()
    with cur.copy("COPY items (id, name) FROM STDIN") as copy:
        copy.write_row((1, "kept"))
    conn.commit()
    with cur.copy("COPY items (id, name) FROM STDIN") as copy:
        copy.write_row((2, "rolled back"))
    assert conn.execute("SELECT count(*) FROM items").fetchall() == [(2,)]  # visible in its transaction
    conn.rollback()
    assert conn.execute("SELECT id FROM items").fetchall() == [(1,)]
    conn.commit()
    # psycopg's binary COPY, its types named as PostgreSQL's
    row = (7, 2**40, 1.25, 0.5, decimal.Decimal("-12.345"), "tëxt\t\n", dt.date(2026, 3, 1),
           dt.datetime(2026, 3, 1, 12, 30, 0, 123456), dt.datetime(2026, 3, 1, 12, 30, tzinfo=dt.UTC),
           uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), b"\x00\xff", True, dt.timedelta(days=2, seconds=5),
           '{"a": [1, 2]}')
    with cur.copy("COPY typed FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["int2", "int8", "float8", "float4", "numeric", "text", "date", "timestamp", "timestamptz",
                        "uuid", "bytea", "bool", "interval", "json"])
        copy.write_row(row)
        copy.write_row((None,) * 14)
    conn.commit()
    got = conn.execute("SELECT * FROM typed ORDER BY i NULLS LAST").fetchall()
    assert got[1] == (None,) * 14
    assert got[0][:13] == row[:13] and json.loads(got[0][13]) == {"a": [1, 2]}


def test_copy_errors_are_postgres_errors_and_the_session_goes_on(conn: psycopg.Connection) -> None:
    cur = conn.cursor()
    cases: list[tuple[str, str, type[psycopg.Error], str]] = [
        ("COPY items (id, price) FROM STDIN", "1\tcheap\n", psycopg.errors.InvalidTextRepresentation,
         'line 1, column price: "cheap"'),
        ("COPY items (id, name) FROM STDIN", "1\ta\textra\n", psycopg.errors.BadCopyFileFormat,
         "extra data after last expected column"),
        ("COPY items (id, name) FROM STDIN", "1\ta\n2\n", psycopg.errors.BadCopyFileFormat,
         'missing data for column "name"'),
        ("COPY items (id, name) FROM STDIN CSV", '1,"never closed\n', psycopg.errors.BadCopyFileFormat,
         "unterminated CSV quoted field"),
        ("COPY items (id, name) FROM STDIN", "1\ta\r\n2\tb\n", psycopg.errors.BadCopyFileFormat,
         "literal newline found in data"),
        ("COPY items (id, name) FROM STDIN CSV HEADER MATCH", "id,nom\n", psycopg.errors.BadCopyFileFormat,
         "column name mismatch in header line field 2"),
        ("COPY items (id) FROM STDIN", "1\n1\n", psycopg.errors.UniqueViolation, "duplicate key"),
        ("COPY no_such_table FROM STDIN", "1\n", psycopg.errors.UndefinedTable, "no_such_table"),
        ("COPY items (id, nope) FROM STDIN", "1\n", psycopg.errors.UndefinedColumn, "nope"),
        ("COPY items_view FROM STDIN", "1\n", psycopg.Error, "not an table"),
        ("COPY items FROM STDIN (FORMAT csv, FORCE_NULL (name))", "", psycopg.errors.FeatureNotSupported,
         "FORCE_NULL"),
        ("COPY items FROM STDIN (FORMAT parquet)", "", psycopg.errors.FeatureNotSupported, "FORMAT parquet"),
        ("COPY items FROM STDIN WITH (QUOTE '\"')", "", psycopg.errors.FeatureNotSupported, "only in CSV mode"),
        ("COPY ad_models FROM STDIN", "", psycopg.errors.InsufficientPrivilege, "keeps its models"),
        ("COPY main.ad_thresholds (model) FROM STDIN", "", psycopg.errors.InsufficientPrivilege, "never a write"),
        ("COPY ad_model_versions FROM STDIN CSV", "", psycopg.errors.InsufficientPrivilege, "never a write"),
    ]
    for sql, data, error, text in cases:
        with pytest.raises(error, match=text if "(" not in text else None) as err:
            with cur.copy(sql) as copy:
                copy.write(data)
        assert text in str(err.value) + (err.value.diag.context or ""), (sql, str(err.value))
        assert conn.execute("SELECT count(*) FROM items").fetchall() == [(0,)], sql
    # the CONTEXT of a bad value names the table, line and column, as PostgreSQL's does
    with pytest.raises(psycopg.errors.InvalidTextRepresentation) as err:
        with cur.copy("COPY items (id, day) FROM STDIN CSV HEADER") as copy:
            copy.write("id,day\n1,2024-01-01\n2,yesterday\n")
    assert err.value.diag.context == 'COPY items, line 3, column day: "yesterday"'
    # and the message names it too, not the loader's own column (DuckDB said "source column c1")
    assert "column day" in str(err.value) and not re.search(r"\bc\d\b", str(err.value)), str(err.value)
    # an exception in the client's block sends CopyFail (psycopg raises the client's exception): nothing loaded
    with pytest.raises(ZeroDivisionError):
        with cur.copy("COPY items (id, name) FROM STDIN") as copy:
            copy.write_row((1, "a"))
            raise ZeroDivisionError("the client gave up")
    assert conn.execute("SELECT count(*) FROM items").fetchall() == [(0,)]
    # a failed COPY in a transaction block fails the block, as in PostgreSQL
    conn.execute("BEGIN")
    conn.execute("INSERT INTO items (id) VALUES (99)")
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        with cur.copy("COPY items (id) FROM STDIN") as copy:
            copy.write("x\n")
    with pytest.raises(psycopg.errors.InFailedSqlTransaction):
        conn.execute("SELECT 1")
    conn.execute("ROLLBACK")
    assert conn.execute("SELECT count(*) FROM items").fetchall() == [(0,)]
    with cur.copy("COPY items (id) FROM STDIN") as copy:
        copy.write("5\n")
    assert conn.execute("SELECT id FROM items").fetchall() == [(5,)]


def test_read_only_server_refuses_copy_before_any_data(server: Server) -> None:
    """psql's \\copy ... from used to fail with 'Cannot access file "/dev/stdin"', then with a refusal by name; on a
    read-only server it is DuckDB's read-only refusal (25006), before the client is asked for data."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction, match="read-only mode"):
            with conn.cursor().copy("COPY transactions FROM STDIN") as copy:
                copy.write("1\t2\t3\t4\n")
        assert conn.execute("SELECT count(*) FROM transactions").fetchall() == [(2000,)]
    w = Wire(server)
    w.msg(b"Q", b"COPY transactions FROM STDIN\x00")
    kinds = []
    while True:
        kind, _ = w.read()
        kinds.append(kind)
        if kind == b"Z":
            break
    w.sock.close()
    assert kinds == [b"E", b"Z"]  # no CopyInResponse


# ---------------------------------------------------------------- the protocol itself


def test_copy_in_simple_and_extended_protocol_messages(rw: Server, conn: psycopg.Connection) -> None:
    w = Wire(rw)
    # simple: CopyInResponse (text, 2 columns), CopyData split anywhere, CopyDone -> COPY 2, then the next statement
    # of the same Query
    w.msg(b"Q", b"COPY items (id, name) FROM STDIN; SELECT count(*) FROM items\x00")
    kind, body = w.read()
    assert kind == b"G" and body == struct.pack("!bhhh", 0, 2, 0, 0)
    w.msg(b"d", b"1\tone\n2\t")
    w.msg(b"H")  # Flush and Sync are ignored during COPY
    w.msg(b"d", b"two\n")
    w.msg(b"c")
    got = w.until_ready()
    assert [(k, b.rstrip(b"\x00")) for k, b in got if k in (b"C", b"D")] == [
        (b"C", b"COPY 2"), (b"D", b"\x00\x01\x00\x00\x00\x012"), (b"C", b"SELECT 1")]
    assert got[-1] == (b"Z", b"I")
    # extended: Parse / Bind / Describe (NoData) / Execute, then the data; committed at Sync
    w.msg(b"P", b"\x00COPY items (id, name) FROM STDIN CSV\x00\x00\x00")
    w.msg(b"B", b"\x00\x00" + struct.pack("!hhh", 0, 0, 0))
    w.msg(b"D", b"P\x00")
    w.msg(b"E", b"\x00" + struct.pack("!i", 0))
    w.msg(b"H")
    assert [w.read()[0] for _ in range(4)] == [b"1", b"2", b"n", b"G"]
    w.msg(b"d", b"3,three\n")
    w.msg(b"c")
    w.msg(b"S")
    got = w.until_ready()
    assert [(k, b.rstrip(b"\x00")) for k, b in got] == [(b"C", b"COPY 1"), (b"Z", b"I")]
    # an error mid-COPY in the extended protocol: ErrorResponse, then every message is ignored until Sync
    w.msg(b"P", b"\x00COPY items (id) FROM STDIN\x00\x00\x00")
    w.msg(b"B", b"\x00\x00" + struct.pack("!hhh", 0, 0, 0))
    w.msg(b"E", b"\x00" + struct.pack("!i", 0))
    w.msg(b"H")
    assert [w.read()[0] for _ in range(3)] == [b"1", b"2", b"G"]
    w.msg(b"d", b"4\nfour\n")
    w.msg(b"d", b"5\n")
    w.msg(b"c")
    w.msg(b"S")
    got = w.until_ready()
    fields = {f[:1]: f[1:] for f in got[0][1].split(b"\x00") if f}
    assert got[0][0] == b"E" and fields[b"C"] == b"22P02" and fields[b"W"] == b'COPY items, line 2, column id: "four"'
    assert got[-1] == (b"Z", b"I") and len(got) == 2
    # CopyFail in the simple protocol: 57014, nothing kept, the session goes on
    w.msg(b"Q", b"COPY items (id) FROM STDIN\x00")
    assert w.read()[0] == b"G"
    w.msg(b"d", b"6\n")
    w.msg(b"f", b"changed my mind\x00")
    got = w.until_ready()
    fields = {f[:1]: f[1:] for f in got[0][1].split(b"\x00") if f}
    assert fields[b"C"] == b"57014" and b"changed my mind" in fields[b"M"] and got[-1] == (b"Z", b"I")
    w.msg(b"d", b"late data is dropped\n")
    w.msg(b"c")
    w.msg(b"Q", b"SELECT 1\x00")
    assert [k for k, _ in w.until_ready()] == [b"T", b"D", b"C", b"Z"]
    w.sock.close()
    assert conn.execute("SELECT id, name FROM items ORDER BY id").fetchall() == [(1, "one"), (2, "two"), (3, "three")]


# ---------------------------------------------------------------- input that hung or broke the reader


def _copy_wire(rw: Server, sql: str, chunks: list[bytes], seconds: float) -> list[tuple[bytes, bytes]]:
    """Send ``chunks`` as the CopyData of ``sql`` (simple protocol), then CopyDone; every message up to
    ReadyForQuery, which must come within ``seconds`` (the socket times out otherwise)."""
    w = Wire(rw)
    try:
        w.sock.settimeout(seconds)
        w.msg(b"Q", sql.encode() + b"\x00")
        assert w.read()[0] == b"G"
        for chunk in chunks:
            w.msg(b"d", chunk)
        w.msg(b"c")
        return w.until_ready()
    finally:
        w.sock.close()


def test_csv_line_breaks_in_quotes_after_long_fields_load_at_once(rw: Server, conn: psycopg.Connection) -> None:
    """A quoted field going on to the next line after a 26-character field took seconds a row, with the server's
    every session waiting (a regular expression backtracking exponentially, holding the GIL); one spanning 20,000
    lines took ten seconds (each line re-read the whole record). Both load at once."""
    rows = [f"{i},{'n' * 26},\"first\nsecond\"\n".encode() for i in range(3)]
    long_field = b'3,long,"' + b"x\n" * 20000 + b'"\n'
    got = _copy_wire(rw, "COPY items (id, name, note) FROM STDIN (FORMAT csv)", [*rows, long_field], seconds=10)
    assert [(k, b.rstrip(b"\x00")) for k, b in got] == [(b"C", b"COPY 4"), (b"Z", b"I")]
    assert conn.execute("SELECT id, name, note FROM items ORDER BY id").fetchall() == [
        *((i, "n" * 26, "first\nsecond") for i in range(3)), (3, "long", "x\n" * 20000)]


def test_a_row_longer_than_a_batch_loads(rw: Server, conn: psycopg.Connection) -> None:
    """A row whose data came in CopyData of 8 MB (a batch's worth) or more before it ended failed with a Python
    error ("zip() argument 2 is longer than argument 1"): the server made a batch of no rows."""
    value = "v" * (9 << 20)
    binary = (b"PGCOPY\n\xff\r\n\x00" + struct.pack("!iih", 0, 0, 2) + struct.pack("!ii", 4, 2)
              + struct.pack("!i", len(value)) + value.encode() + struct.pack("!h", -1))
    for fmt, data in [("text", f"0\t{value}\n".encode()), ("csv", f'1,"{value}"\n'.encode()), ("binary", binary)]:
        chunks = [data[at:at + (1 << 20)] for at in range(0, len(data), 1 << 20)]
        got = _copy_wire(rw, f"COPY items (id, name) FROM STDIN (FORMAT {fmt})", chunks, seconds=30)
        assert [(k, b.rstrip(b"\x00")) for k, b in got] == [(b"C", b"COPY 1"), (b"Z", b"I")], fmt
    assert conn.execute("SELECT id, length(name) FROM items ORDER BY id").fetchall() == [(i, 9 << 20) for i in range(3)]


def test_long_lines_in_small_copydata_load_in_linear_time(rw: Server, conn: psycopg.Connection) -> None:
    """A 32 MB line in CopyData of 4 KB (as a client reading a file in small pieces sends it) took over a minute:
    each piece copied the line so far. A row continued by 600,000 escaped newlines (backslash, newline) took half a
    minute: each line joined the row so far again."""
    line = b"0\t" + b"v" * (32 << 20) + b"\n"
    escaped = b"1\t" + b"x\\\n" * 600_000 + b"y\n"
    chunks = [line[at:at + 4096] for at in range(0, len(line), 4096)] + [escaped]
    got = _copy_wire(rw, "COPY items (id, name) FROM STDIN", chunks, seconds=15)
    assert [(k, b.rstrip(b"\x00")) for k, b in got] == [(b"C", b"COPY 2"), (b"Z", b"I")]
    assert conn.execute("SELECT id, length(name), name[-3:] FROM items ORDER BY id").fetchall() == [
        (0, 32 << 20, "vvv"), (1, 1_200_001, "x\ny")]


def test_binary_lengths_below_minus_one_are_refused(rw: Server, conn: psycopg.Connection) -> None:
    """A field length of -5 loaded as NULL (only -1 is NULL; PostgreSQL: 22P04 invalid field size), and a negative
    header extension length started the rows inside the header."""
    header = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
    row = struct.pack("!h", 2) + struct.pack("!ii", 4, 7) + struct.pack("!i", -5)
    for data, message in [(header + row + struct.pack("!h", -1), b"invalid field size"),
                          (header[:-4] + struct.pack("!i", -15) + struct.pack("!h", -1), b"invalid COPY file header")]:
        got = _copy_wire(rw, "COPY items (id, name) FROM STDIN (FORMAT binary)", [data], seconds=10)
        fields = {f[:1]: f[1:] for f in got[0][1].split(b"\x00") if f}
        assert got[0][0] == b"E" and fields[b"C"] == b"22P04" and message in fields[b"M"], got
        assert got[-1] == (b"Z", b"I")
    assert conn.execute("SELECT count(*) FROM items").fetchall() == [(0,)]


def test_a_message_length_under_four_ends_the_connection(rw: Server, conn: psycopg.Connection) -> None:
    """A message whose length field is under 4 (its own 4 bytes) made the server read until the client closed,
    during COPY and between statements: the session hung. PostgreSQL: FATAL 08P01 invalid message length, and the
    connection ends (where the next message starts is lost); the COPY's rows are not kept."""
    for copy in (True, False):
        w = Wire(rw)
        w.sock.settimeout(10)
        if copy:
            w.msg(b"Q", b"COPY items (id) FROM STDIN\x00")
            assert w.read()[0] == b"G"
            w.msg(b"d", b"1\n")
        w.sock.sendall((b"d" if copy else b"Q") + struct.pack("!i", 3))
        kind, body = w.read()
        fields = {f[:1]: f[1:] for f in body.split(b"\x00") if f}
        assert kind == b"E" and fields[b"S"] == b"FATAL" and fields[b"C"] == b"08P01", body
        assert w.sock.recv(1) == b""  # closed
        w.sock.close()
    assert conn.execute("SELECT count(*) FROM items").fetchall() == [(0,)]


# ---------------------------------------------------------------- psycopg2 and asyncpg


def test_psycopg2_copy_expert_and_copy_from(rw: Server, conn: psycopg.Connection) -> None:
    pg = psycopg2.connect(rw.url())
    try:
        cur = pg.cursor()
        cur.copy_expert("COPY items (id, name, price) FROM STDIN WITH CSV HEADER",
                        io.StringIO("id,name,price\n1,Superset,1.5\n2,\"quoted, name\",\n"))
        assert cur.rowcount == 2
        cur.copy_from(io.StringIO("3\tthree\n4\t\\N\n"), "items", columns=("id", "name"))
        pg.rollback()  # psycopg2 opened a transaction: both COPYs go
        assert conn.execute("SELECT count(*) FROM items").fetchall() == [(0,)]
        cur.copy_from(io.StringIO("3|three\n4|\\N\n"), "items", sep="|", columns=("id", "name"))
        pg.commit()
    finally:
        pg.close()
    assert conn.execute("SELECT id, name FROM items ORDER BY id").fetchall() == [(3, "three"), (4, None)]


def test_asyncpg_copy_to_table_and_records(rw: Server, conn: psycopg.Connection) -> None:
    async def go() -> tuple[str, str, str]:
        c = await asyncpg.connect(rw.url())
        try:
            a = await c.copy_to_table("items", source=io.BytesIO(b"1,one\n2,two\n"), columns=["id", "name"],
                                      format="csv")
            # binary COPY, the types asyncpg learns from SELECT ... LIMIT 1 on the table (an INTEGER[] is int4[])
            b = await c.copy_records_to_table(
                "items", records=[(10, "ten", decimal.Decimal("1.25"), dt.date(2026, 1, 2), True, b"\x01", [1, 2],
                                   dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC), None)])
            d = await c.copy_records_to_table("big", records=((i, f"s{i}", i / 2) for i in range(20000)))
            return a, b, d
        finally:
            await c.close()

    assert asyncio.run(go()) == ("COPY 2", "COPY 1", "COPY 20000")
    assert _items(conn)[2] == (10, "ten", decimal.Decimal("1.25"), dt.date(2026, 1, 2), True, b"\x01", [1, 2], None)
    assert conn.execute("SELECT count(*), sum(n), sum(x) FROM big").fetchall() == [(20000, 199990000, 99995000.0)]



def test_asyncpg_binary_copy_into_oid_and_timetz_arrays(conn: psycopg.Connection, rw: Server) -> None:
    """A UINTEGER[] column is oid[] and a TIMETZ[] one timetz[] (they were json, which asyncpg sent as text): binary
    COPY into them was refused as unsupported, while asyncpg sends them as it was told."""
    conn.execute("CREATE TABLE lists_in (u UINTEGER[], t TIMETZ[])")
    east = dt.timezone(dt.timedelta(hours=1, minutes=30))

    async def go() -> str:
        c = await asyncpg.connect(rw.url())
        try:
            return await c.copy_records_to_table("lists_in", records=[
                ([1, None, 4_000_000_000], [dt.time(3, 4, 5, 6, tzinfo=east), None]), ([], []), (None, None)])
        finally:
            await c.close()

    assert asyncio.run(go()) == "COPY 3"
    assert conn.execute("SELECT u, t::VARCHAR[] FROM lists_in").fetchall() == [
        ([1, None, 4_000_000_000], ["03:04:05.000006+01:30", None]), ([], []), (None, None)]


# ---------------------------------------------------------------- PgJDBC (Metabase's CSV upload)

# ---------------------------------------------------------------- memory


def _peak_mib(pid: int) -> int:
    import re

    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) // 1024  # type: ignore[union-attr]


def test_a_large_copy_streams_in_batches(rw: Server, conn: psycopg.Connection) -> None:
    """3 million rows (219 MB of CSV) raise the server's peak memory by far less than the input (measured: about
    80 MB, DuckDB's cache of the new table's blocks): the data reach DuckDB a batch at a time, never all at once.
    A first, small COPY pays the fixed cost (threads' allocator arenas) before the measurement."""
    block = "".join(f"{i},{'x' * 60}{i},{i * 0.5}\n" for i in range(10000)).encode()
    with conn.cursor().copy("COPY big FROM STDIN (FORMAT csv)") as copy:
        for _ in range(50):
            copy.write(block)
    before = _peak_mib(rw.proc.pid)
    with conn.cursor().copy("COPY big FROM STDIN (FORMAT csv)") as copy:
        for _ in range(300):
            copy.write(block)
    assert conn.execute("SELECT count(*) FROM big").fetchall() == [(3_500_000,)]
    grown = _peak_mib(rw.proc.pid) - before
    assert grown < 160, (before, grown)


def test_plain_csv_lines_read_at_once_keep_their_order_values_and_line_numbers(conn: psycopg.Connection) -> None:
    """Plain lines (values and delimiters only) are split by Arrow a CopyData at a time (pgcopybulk), the others line
    by line: rows of both kinds, in CopyData that mix them, load in their order with the same values, and an error
    names the line it is on, counted across both."""
    plain = "".join(f"{i},p{i},{i / 4}\n" for i in range(1, 1001)).encode()
    quoted = b'1001,"a, ""quoted"" one",\n1002,,0.5\n'
    tail = "".join(f"{i},p{i},\n" for i in range(1003, 2001)).encode()
    with conn.cursor().copy("COPY big FROM STDIN (FORMAT csv)") as copy:
        copy.write(plain[:5000])  # ends inside a line: the rest waits for the next CopyData
        copy.write(plain[5000:] + quoted)
        copy.write(tail)
    rows = conn.execute("SELECT n, s, x FROM big ORDER BY n").fetchall()
    want = [(i, f"p{i}", i / 4) for i in range(1, 1001)] + [(1001, 'a, "quoted" one', None), (1002, None, 0.5)] + [
        (i, f"p{i}", None) for i in range(1003, 2001)]
    assert rows == want
    conn.execute("DELETE FROM big")
    with pytest.raises(psycopg.Error) as err:
        with conn.cursor().copy("COPY big FROM STDIN (FORMAT csv)") as copy:
            copy.write(plain + quoted + tail.replace(b"1500,p1500,", b"1500,p1500,half"))
    assert err.value.diag.context == 'COPY big, line 1500, column x: "half"', err.value.diag.context
    assert conn.execute("SELECT count(*) FROM big").fetchall() == [(0,)]
