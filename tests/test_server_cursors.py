"""`ad-duckdb serve`: SQL cursors (DECLARE / FETCH / MOVE / CLOSE) and COPY ... TO STDOUT, with the clients that
use them (psycopg 3 and psycopg2 named cursors, psql's FETCH_COUNT and \\copy, Tableau's extract pattern) against
real servers. The servers and the minimal protocol client come from tests/test_server.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import psycopg
import psycopg2
import pytest

import test_server
from test_server import PSQL_MISSING, Server, Wire, data_row

# The fixtures of tests/test_server.py, shared rather than copied (pytest finds fixtures by module attribute).
server = test_server.server
warehouse = test_server.warehouse

SCORE = "anomaly_score('tx_ae', count, amount)"
QUERY = f"SELECT transaction_id, {SCORE} AS score FROM transactions ORDER BY transaction_id"


def _all_rows(server: Server) -> list[tuple[int, float]]:
    with psycopg.connect(server.url(), autocommit=True) as conn:
        return conn.execute(QUERY).fetchall()


def _simple(w: Wire, sql: str) -> list[tuple[bytes, bytes]]:
    """One simple-protocol Query; every message up to ReadyForQuery (errors included)."""
    w.msg(b"Q", sql.encode() + b"\x00")
    return w.until_ready()


def _tags(messages: list[tuple[bytes, bytes]]) -> list[str]:
    return [body.rstrip(b"\x00").decode() for kind, body in messages if kind == b"C"]


def _rows(messages: list[tuple[bytes, bytes]]) -> list[list[str]]:
    return [data_row(body) for kind, body in messages if kind == b"D"]


def _error(messages: list[tuple[bytes, bytes]]) -> tuple[str, str] | None:
    for kind, body in messages:
        if kind == b"E":
            fields = {f[:1]: f[1:].decode() for f in body.split(b"\x00") if f}
            return fields[b"C"], fields[b"M"]
    return None


# ---------------------------------------------------------------- psycopg 3


def test_psycopg_named_cursor_reads_a_scored_query_in_pages(server: Server) -> None:
    want = _all_rows(server)
    with psycopg.connect(server.url()) as conn:
        with conn.cursor(name="pages") as cur:
            cur.execute(f"SELECT transaction_id, {SCORE} AS score FROM transactions WHERE transaction_id > %s "
                        "ORDER BY transaction_id", (10,))
            # the columns are known before any row is fetched (psycopg Describes the cursor's portal)
            assert [d.name for d in cur.description] == ["transaction_id", "score"]
            first = cur.fetchmany(3)
            one = cur.fetchone()
            cur.itersize = 500  # iteration fetches 500 rows at a time
            rest = list(cur)
        assert first + [one] + rest == want[10:]
        # without HOLD the cursor ends with its transaction, as in PostgreSQL
        conn.execute("DECLARE gone CURSOR FOR SELECT 1")
        conn.commit()
        with pytest.raises(psycopg.errors.InvalidCursorName, match='cursor "gone" does not exist'):
            conn.execute("FETCH 1 FROM gone")
        conn.rollback()
        # a cursor declared in SQL, read through a named cursor of that name ("stealing" it)
        conn.execute("DECLARE stolen CURSOR FOR SELECT range AS n FROM range(5)")
        with conn.cursor(name="stolen") as cur:
            assert cur.fetchall() == [(n,) for n in range(5)]
        # closing a named cursor never executed, inside a transaction: psycopg asks pg_cursors whether it exists
        conn.execute("DECLARE listed CURSOR WITH HOLD FOR SELECT 1")
        with conn.cursor(name="never"):
            pass
        assert conn.execute("SELECT name, is_holdable FROM pg_catalog.pg_cursors").fetchall() == [("listed", True)]
        # a DECLARE written over several lines, and pg_cursors named in a comment and quoted: the view's text (the
        # statement, newline and all) must not land in the comment, where the newline would end it
        conn.execute("DECLARE lines CURSOR FOR\nSELECT 1")
        assert conn.execute('SELECT name, statement FROM "pg_catalog"."pg_cursors" -- from pg_cursors\n'
                            "ORDER BY name").fetchall() == [("lines", "DECLARE lines CURSOR FOR\nSELECT 1"),
                                                            ("listed", "DECLARE listed CURSOR WITH HOLD FOR SELECT 1")]


def test_psycopg_withhold_binary_and_what_is_refused(server: Server) -> None:
    want = _all_rows(server)
    with psycopg.connect(server.url()) as conn:
        with conn.cursor(name="held", withhold=True) as cur:
            cur.execute(QUERY)
            head = cur.fetchmany(100)
            conn.commit()  # WITH HOLD: the cursor outlives the transaction
            assert head + cur.fetchall() == want
        with conn.cursor(name="scrolly", scrollable=True) as cur:
            with pytest.raises(psycopg.errors.FeatureNotSupported, match="forward only") as err:
                cur.execute(QUERY)
            assert "FETCH [NEXT | FORWARD] [n | ALL]" in str(err.value)  # it says what works
        conn.rollback()
        with conn.cursor(name="fwd") as cur:
            cur.execute(QUERY)
            cur.scroll(5)  # forward: fine
            assert cur.fetchone() == want[5]
            with pytest.raises(psycopg.errors.FeatureNotSupported, match="backward is not supported"):
                cur.scroll(-2)
        conn.rollback()
    with psycopg.connect(server.url(), autocommit=True) as conn:
        # outside a transaction: WITH HOLD works, without it fails as in PostgreSQL
        with conn.cursor(name="auto", withhold=True, binary=True) as cur:
            cur.execute(QUERY)
            assert cur.fetchmany(7) == want[:7] and cur.fetchall() == want[7:]
        with pytest.raises(psycopg.errors.NoActiveSqlTransaction,
                           match="DECLARE CURSOR can only be used in transaction blocks"):
            with conn.cursor(name="nohold") as cur:
                cur.execute(QUERY)


# ---------------------------------------------------------------- psycopg2 (Superset's driver)


def test_psycopg2_named_cursors(server: Server) -> None:
    want = _all_rows(server)
    conn = psycopg2.connect(server.url())
    try:
        cur = conn.cursor("superset")
        cur.itersize = 300
        cur.execute(f"SELECT transaction_id, {SCORE} AS score FROM transactions ORDER BY transaction_id")
        first = cur.fetchmany(2)
        assert [d.name for d in cur.description] == ["transaction_id", "score"]
        assert first + list(cur) == want
        cur.close()
        conn.commit()
        held = conn.cursor("held", withhold=True)
        held.execute(QUERY)
        assert held.fetchone() == want[0]
        conn.commit()
        held.scroll(10)  # MOVE 10
        assert held.fetchone() == want[11]
        held.scroll(20, mode="absolute")  # MOVE ABSOLUTE 20: forward of the current row
        assert held.fetchone() == want[20]
        with pytest.raises(psycopg2.errors.FeatureNotSupported, match="going back to row 3"):
            held.scroll(3, mode="absolute")
        conn.rollback()
        assert len(held.fetchall()) == len(want) - 21  # a refused MOVE leaves the held cursor where it was
        held.close()
    finally:
        conn.close()


# ---------------------------------------------------------------- Tableau, psqlODBC and psql


def test_tableau_extract_pattern_streams_pages(server: Server) -> None:
    """What Tableau does for an extract: BEGIN; DECLARE ... WITH HOLD; FETCH 10000 IN ... until a short page;
    CLOSE; COMMIT (through psqlODBC, which sends DECLARE and the first FETCH in one Query)."""
    name = '"SQL_CUR0x7f3a2c001e40"'
    w = Wire(server)
    try:
        sql = "SELECT range AS n, range * 2 AS twice FROM range(25000)"
        got = _simple(w, f"BEGIN;declare {name} cursor with hold for {sql};fetch 10000 in {name}")
        assert _tags(got) == ["BEGIN", "DECLARE CURSOR", "FETCH 10000"]
        rows = _rows(got)
        while True:
            page = _simple(w, f"fetch 10000 in {name}")
            rows += _rows(page)
            if _tags(page) != ["FETCH 10000"]:
                assert _tags(page) == ["FETCH 5000"]
                break
        assert _tags(_simple(w, f"fetch 10000 in {name}")) == ["FETCH 0"]
        assert _tags(_simple(w, f"close {name}")) == ["CLOSE CURSOR"]
        assert _tags(_simple(w, "COMMIT")) == ["COMMIT"]
        assert [[int(a), int(b)] for a, b in rows] == [[n, 2 * n] for n in range(25000)]
        # psqlODBC outside a transaction: DECLARE ... WITH HOLD and FETCH in one Query, the cursor read afterwards
        got = _simple(w, f"declare {name} cursor with hold for {sql};fetch 100 in {name}")
        assert _tags(got) == ["DECLARE CURSOR", "FETCH 100"] and got[-1] == (b"Z", b"I")
        more = _simple(w, f"fetch all in {name}")
        assert _tags(more) == ["FETCH 24900"] and _rows(more)[0] == ["100", "200"]
        assert _tags(_simple(w, "close all")) == ["CLOSE CURSOR ALL"]
    finally:
        w.close()


def test_psql_fetch_count_uses_a_cursor(server: Server) -> None:
    """psql's FETCH_COUNT reads through DECLARE / FETCH FORWARD n / CLOSE in a transaction of its own."""
    psql = shutil.which("psql")
    assert psql, PSQL_MISSING
    query = f"SELECT transaction_id, round({SCORE}, 9) AS score FROM transactions ORDER BY transaction_id"
    args = [psql, server.url(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1"]
    plain = subprocess.run([*args, "-c", query], capture_output=True, text=True, timeout=60, check=True).stdout
    paged = subprocess.run([*args, "-v", "FETCH_COUNT=100", "-c", query], capture_output=True, text=True, timeout=60)
    assert paged.returncode == 0, paged.stderr
    assert paged.stdout == plain and len(plain.splitlines()) == 2000


# ---------------------------------------------------------------- PostgreSQL's semantics


def test_cursor_tags_positions_and_errors_are_postgres(server: Server) -> None:
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute("BEGIN")
        cur = conn.execute("DECLARE c NO SCROLL CURSOR WITHOUT HOLD FOR SELECT range AS n FROM range(20)")
        assert cur.statusmessage == "DECLARE CURSOR" and cur.description is None
        assert conn.execute("MOVE 5 IN c").statusmessage == "MOVE 5"
        cur = conn.execute("FETCH 3 FROM c")
        assert cur.fetchall() == [(5,), (6,), (7,)] and cur.statusmessage == "FETCH 3"
        assert [d.name for d in cur.description] == ["n"]
        assert conn.execute("FETCH c").fetchall() == [(8,)]  # NEXT, the default
        assert conn.execute("FETCH 0 FROM c").fetchall() == [(8,)]  # the current row again
        assert conn.execute("FETCH RELATIVE 2 FROM c").fetchall() == [(10,)]
        assert conn.execute("FETCH ABSOLUTE 15 FROM c").fetchall() == [(14,)]
        # comments around the statement (an editor's, a tool's tag) are not part of it
        assert conn.execute("/* page */ FETCH 2 FROM c -- next").fetchall() == [(15,), (16,)]
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="forward only"):
            conn.execute("FETCH BACKWARD 2 FROM c")
        conn.execute("ROLLBACK")
        conn.execute("BEGIN")
        conn.execute("DECLARE c CURSOR FOR SELECT range AS n FROM range(20)")
        cur = conn.execute("FETCH FORWARD ALL FROM c")
        assert len(cur.fetchall()) == 20 and cur.statusmessage == "FETCH 20"
        assert conn.execute("FETCH NEXT FROM c").statusmessage == "FETCH 0"  # past the end: no rows
        # LAST from past the end is the last row, behind the cursor: refused, never an empty answer
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="past its last row"):
            conn.execute("FETCH LAST FROM c")
        conn.execute("ROLLBACK")
        conn.execute("BEGIN")
        conn.execute("DECLARE c CURSOR FOR SELECT range AS n FROM range(20)")
        assert conn.execute("FETCH LAST FROM c").fetchall() == [(19,)]
        assert conn.execute("FETCH LAST FROM c").fetchall() == [(19,)]  # on the last row: that row again
        assert conn.execute("FETCH 0 FROM c").fetchall() == [(19,)]
        assert conn.execute("FETCH NEXT FROM c").fetchall() == []
        with pytest.raises(psycopg.errors.DuplicateCursor, match='cursor "c" already exists'):
            conn.execute("DECLARE c CURSOR FOR SELECT 1")
        conn.execute("ROLLBACK")
        conn.execute("BEGIN")
        conn.execute('DECLARE "Mixed" CURSOR FOR SELECT 1 AS one, 2 AS two')
        assert conn.execute('FETCH 1 FROM "Mixed"').fetchall() == [(1, 2)]
        with pytest.raises(psycopg.errors.InvalidCursorName, match='cursor "mixed" does not exist'):
            conn.execute("FETCH 1 FROM Mixed")  # unquoted names fold to lower case
        conn.execute("ROLLBACK")
        conn.execute("BEGIN")
        with pytest.raises(psycopg.errors.InvalidCursorDefinition, match="SELECT"):
            conn.execute("DECLARE w CURSOR FOR CREATE TABLE x (a INT)")
        conn.execute("ROLLBACK")
        # a WITH HOLD cursor survives COMMIT, but not the ROLLBACK of the transaction that declared it
        conn.execute("BEGIN")
        conn.execute("DECLARE kept CURSOR WITH HOLD FOR SELECT range AS n FROM range(3)")
        conn.execute("COMMIT")
        conn.execute("BEGIN")
        conn.execute("DECLARE dropped CURSOR WITH HOLD FOR SELECT 1")
        conn.execute("ROLLBACK")
        assert conn.execute("FETCH ALL FROM kept").fetchall() == [(0,), (1,), (2,)]
        with pytest.raises(psycopg.errors.InvalidCursorName):
            conn.execute("FETCH ALL FROM dropped")
        assert conn.execute("CLOSE kept").statusmessage == "CLOSE CURSOR"
        with pytest.raises(psycopg.errors.InvalidCursorName):
            conn.execute("CLOSE kept")


def test_other_statements_between_fetches_follow_the_paging_rule(server: Server) -> None:
    """One rule for a result left open (JDBC's pages, an SQL cursor): another statement on the connection reads
    it into memory first, up to 1,000,000 rows; beyond that the other statement is refused and says why."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("DECLARE a CURSOR FOR SELECT range AS n FROM range(5000)")
        conn.execute("DECLARE b CURSOR FOR SELECT range * 10 AS n FROM range(300)")  # a second cursor, read after
        head = conn.execute("FETCH 100 FROM a").fetchall()
        assert conn.execute(f"SELECT {SCORE} FROM transactions LIMIT 1").fetchall()[0][0] > 0
        b = conn.execute("FETCH ALL FROM b").fetchall()
        rest = conn.execute("FETCH ALL FROM a").fetchall()
        assert [n for n, in head + rest] == list(range(5000)) and [n for n, in b] == list(range(0, 3000, 10))
        conn.rollback()
        conn.execute("DECLARE huge CURSOR FOR SELECT range AS n FROM range(3000000)")
        assert conn.execute("FETCH 2 FROM huge").fetchall() == [(0,), (1,)]
        with pytest.raises(psycopg.errors.ProgramLimitExceeded, match='cursor "huge".*1,000,000 unread rows'):
            conn.execute("SELECT 1")
        conn.rollback()
        assert conn.execute("SELECT 2").fetchall() == [(2,)]


def _peak_mib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) // 1024  # type: ignore[union-attr]


def test_a_cursor_over_ten_million_rows_streams(server: Server) -> None:
    """Fetching pages of a 10M-row query (about 1.2 GB as rows) leaves the server's peak memory where it was:
    the cursor reads DuckDB's result as it streams, never all of it."""
    before = _peak_mib(server.proc.pid)
    with psycopg.connect(server.url()) as conn:
        with conn.cursor(name="big") as cur:
            cur.execute("SELECT range AS n, repeat('x', 100) || range::VARCHAR AS s FROM range(10000000)")
            for _ in range(5):
                page = cur.fetchmany(10000)
            assert page[-1][0] == 49999 and page[-1][1].endswith("49999")
        conn.rollback()
    assert _peak_mib(server.proc.pid) < before + 400, (before, _peak_mib(server.proc.pid))


# ---------------------------------------------------------------- COPY ... TO STDOUT


def test_psql_copy_to_a_file(server: Server, tmp_path: Path) -> None:
    psql = shutil.which("psql")
    assert psql, PSQL_MISSING
    csv_file, text_file, old_file = tmp_path / "scores.csv", tmp_path / "t.txt", tmp_path / "old.csv"
    r = subprocess.run(
        [psql, server.url(), "-X", "-v", "ON_ERROR_STOP=1",
         "-c", f"\\copy (SELECT transaction_id, {SCORE} AS score FROM transactions ORDER BY 1) to '{csv_file}' "
               "with (format csv, header)",
         "-c", f"\\copy transactions to '{text_file}'",
         # the old spelling, with a quoted option last (psql sends it as written, without parentheses)
         "-c", f"\\copy transactions (transaction_id, count) to '{old_file}' with csv header delimiter ';'"],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.split("\n")[:3] == ["COPY 2000"] * 3, (r.stdout, r.stderr)
    assert old_file.read_text().splitlines()[0] == "transaction_id;count"
    lines = csv_file.read_text().splitlines()
    assert lines[0] == "transaction_id,score" and len(lines) == 2001
    want = _all_rows(server)
    assert [(int(a), float(b)) for a, b in (x.split(",") for x in lines[1:])] == [(i, pytest.approx(s, rel=1e-12))
                                                                                 for i, s in want]
    assert len(text_file.read_text().splitlines()) == 2000 and text_file.read_text().count("\t") == 2000 * 3


def test_psycopg_copy_formats_as_postgres(server: Server) -> None:
    tricky = ("SELECT * FROM (VALUES (1, 'tab\there', 'a,b'), (2, NULL, ''), (3, 'back\\slash\nline', "
              "'say \"hi\"')) v(id, t, c) ORDER BY id")
    with psycopg.connect(server.url(), autocommit=True) as conn:
        cur = conn.cursor()
        with cur.copy(f"COPY ({tricky}) TO STDOUT") as copy:
            text = b"".join(bytes(b) for b in copy).decode()
        assert cur.rowcount == 3
        assert text == "1\ttab\\there\ta,b\n2\t\\N\t\n3\tback\\\\slash\\nline\tsay \"hi\"\n"
        with cur.copy(f"COPY ({tricky}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy:
            csv = b"".join(bytes(b) for b in copy).decode()
        assert csv == 'id,t,c\n1,tab\there,"a,b"\n2,,""\n3,"back\\slash\nline","say ""hi"""\n'
        with cur.copy("COPY (SELECT 1 AS a, NULL AS b) TO STDOUT (FORMAT csv, DELIMITER ';', NULL 'NA')") as copy:
            assert b"".join(bytes(b) for b in copy) == b"1;NA\n"
        # E'' options as PostgreSQL reads them: \ooo, \uXXXX, a backslash before any other character is that character
        with cur.copy("COPY (SELECT 1 AS a, NULL AS b, 2 AS c) TO STDOUT DELIMITER E'\\073' NULL E'né\\u00e9'") as copy:
            assert b"".join(bytes(b) for b in copy).decode() == "1;né\u00e9;2\n"
        with cur.copy("COPY (SELECT 1 AS a, 2 AS b) TO STDOUT DELIMITER E'\\x'") as copy:
            assert b"".join(bytes(b) for b in copy) == b"1x2\n"
        # comments are no options (a .sql file's trailing note), and a COPY to a file that mentions STDOUT in one is
        # DuckDB's to refuse
        with cur.copy("COPY (SELECT 1 /* ) */ AS a, '--' AS b) TO STDOUT WITH CSV -- for the report") as copy:
            assert b"".join(bytes(b) for b in copy) == b"1,--\n"
        with pytest.raises(psycopg.Error, match="disabled by configuration"):
            conn.execute("COPY (SELECT 1) TO '/tmp/ad_duckdb_copy_leak.csv' /* not to stdout */")
        # typed rows through psycopg's own COPY reader
        with cur.copy("COPY transactions (transaction_id, count) TO STDOUT") as copy:
            copy.set_types(["int8", "int4"])
            rows = list(copy.rows())
        assert len(rows) == 2000 and rows[0][0] == 1
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="FORMAT binary is not supported"):
            with cur.copy("COPY transactions TO STDOUT (FORMAT binary)") as copy:
                list(copy)
        # a COPY to a file stays refused by DuckDB (no file access); STDOUT only streams to the client
        with pytest.raises(psycopg.Error, match="disabled by configuration") as err:
            conn.execute("COPY (SELECT 1) TO '/tmp/ad_duckdb_copy_leak.csv'")
        assert err.value.sqlstate == "42501" and not Path("/tmp/ad_duckdb_copy_leak.csv").exists()

