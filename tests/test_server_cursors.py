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
        with conn.cursor(name="fwd", scrollable=False) as cur:
            cur.execute(QUERY)
            cur.scroll(5)  # forward: fine
            assert cur.fetchone() == want[5]
            with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="cursor can only scan forward") as e:
                cur.scroll(-2)
            assert e.value.diag.message_hint.startswith("Declare it with SCROLL option to enable backward scan.")
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
        with pytest.raises(psycopg2.errors.ObjectNotInPrerequisiteState, match="cursor can only scan forward"):
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
    # (round(double precision, integer) does not exist in PostgreSQL, nor here: the score is cast to numeric)
    query = f"SELECT transaction_id, round(({SCORE})::numeric, 9) AS score FROM transactions ORDER BY transaction_id"
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
        assert conn.execute("MOVE 0 IN c").statusmessage == "MOVE 1"  # on a row (FETCH 0: see NO_SCROLL_SCRIPT)
        assert conn.execute("FETCH RELATIVE 2 FROM c").fetchall() == [(10,)]
        assert conn.execute("FETCH ABSOLUTE 15 FROM c").fetchall() == [(14,)]
        # comments around the statement (an editor's, a tool's tag) are not part of it
        assert conn.execute("/* page */ FETCH 2 FROM c -- next").fetchall() == [(15,), (16,)]
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState) as e:
            conn.execute("FETCH BACKWARD 2 FROM c")
        assert e.value.diag.message_primary == "cursor can only scan forward"  # PostgreSQL's words
        conn.execute("ROLLBACK")
        conn.execute("BEGIN")
        conn.execute("DECLARE c CURSOR FOR SELECT range AS n FROM range(20)")
        cur = conn.execute("FETCH FORWARD ALL FROM c")
        assert len(cur.fetchall()) == 20 and cur.statusmessage == "FETCH 20"
        assert conn.execute("FETCH NEXT FROM c").statusmessage == "FETCH 0"  # past the end: no rows
        # LAST from past the end is the last row, behind the cursor: refused, never an empty answer
        with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="cursor can only scan forward"):
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


# PostgreSQL 15's answers on a SCROLL cursor over the rows 1..5, one statement after another from a fresh DECLARE:
# (statement, rows, tag). Positions: before the first row, on a row, past the last (pquery.c's DoPortalRunFetch).
SCROLL_SCRIPT = [
    ("FETCH PRIOR FROM s", [], "FETCH 0"),  # before the first row already
    ("FETCH 2 FROM s", [1, 2], "FETCH 2"),
    ("FETCH PRIOR FROM s", [1], "FETCH 1"),
    ("FETCH BACKWARD 1 FROM s", [], "FETCH 0"),  # now before the first row
    ("FETCH NEXT FROM s", [1], "FETCH 1"),
    ("FETCH LAST FROM s", [5], "FETCH 1"),
    ("FETCH NEXT FROM s", [], "FETCH 0"),  # past the last row
    ("FETCH PRIOR FROM s", [5], "FETCH 1"),  # back from past the end: the last row
    ("FETCH BACKWARD ALL FROM s", [4, 3, 2, 1], "FETCH 4"),
    ("FETCH FORWARD ALL FROM s", [1, 2, 3, 4, 5], "FETCH 5"),
    ("FETCH ABSOLUTE 2 FROM s", [2], "FETCH 1"),
    ("FETCH ABSOLUTE -2 FROM s", [4], "FETCH 1"),
    ("FETCH RELATIVE -2 FROM s", [2], "FETCH 1"),
    ("FETCH RELATIVE 0 FROM s", [2], "FETCH 1"),
    ("FETCH 0 FROM s", [2], "FETCH 1"),
    ("FETCH -1 FROM s", [1], "FETCH 1"),  # a negative count goes backward
    ("FETCH BACKWARD -2 FROM s", [2, 3], "FETCH 2"),  # and a negative BACKWARD forward
    ("FETCH ABSOLUTE 9 FROM s", [], "FETCH 0"),  # past the last row
    ("FETCH 0 FROM s", [], "FETCH 0"),  # on no row
    ("FETCH RELATIVE -1 FROM s", [5], "FETCH 1"),
    ("FETCH ABSOLUTE -9 FROM s", [], "FETCH 0"),  # before the first row
    ("FETCH RELATIVE 2 FROM s", [2], "FETCH 1"),
    ("FETCH ABSOLUTE 0 FROM s", [], "FETCH 0"),  # before the first row
    ("FETCH FIRST FROM s", [1], "FETCH 1"),
    ("MOVE FORWARD 3 FROM s", [], "MOVE 3"),
    ("FETCH NEXT FROM s", [5], "FETCH 1"),
    ("MOVE BACKWARD ALL FROM s", [], "MOVE 4"),
    ("MOVE 0 FROM s", [], "MOVE 0"),  # before the first row: on none
    ("MOVE ABSOLUTE 3 FROM s", [], "MOVE 1"),
    ("MOVE 0 FROM s", [], "MOVE 1"),
    ("MOVE FORWARD 10 FROM s", [], "MOVE 2"),
    ("MOVE RELATIVE -1 FROM s", [], "MOVE 1"),
    ("FETCH NEXT FROM s", [], "FETCH 0"),  # MOVE RELATIVE -1 from past the end landed on the last row
    ("MOVE ABSOLUTE -1 FROM s", [], "MOVE 1"),
    ("FETCH PRIOR FROM s", [4], "FETCH 1"),
]


def test_scroll_cursors_move_both_ways_as_postgres(server: Server) -> None:
    w = Wire(server)
    try:
        assert _tags(_simple(w, "BEGIN; DECLARE s SCROLL CURSOR FOR SELECT range AS n FROM range(1, 6)")) == [
            "BEGIN", "DECLARE CURSOR"]
        for sql, rows, tag in SCROLL_SCRIPT:
            got = _simple(w, sql)
            assert (_error(got), [int(n) for n, in _rows(got)], _tags(got)) == (None, rows, [tag]), sql
        got = _simple(w, "SELECT name, is_scrollable FROM pg_cursors")
        assert _rows(got) == [["s", "t"]]
        _simple(w, "ROLLBACK")
        # an empty result: every direction finds no row
        _simple(w, "BEGIN; DECLARE e SCROLL CURSOR FOR SELECT 1 AS n WHERE false")
        for sql in ("FETCH LAST FROM e", "FETCH PRIOR FROM e", "FETCH ABSOLUTE -1 FROM e", "FETCH NEXT FROM e"):
            assert _tags(_simple(w, sql)) == ["FETCH 0"], sql
        _simple(w, "ROLLBACK")
        got = _simple(w, "BEGIN; DECLARE x SCROLL NO SCROLL CURSOR FOR SELECT 1")
        assert _error(got) == ("42P11", "cannot specify both SCROLL and NO SCROLL")
        _simple(w, "ROLLBACK")
    finally:
        w.close()


@pytest.mark.parametrize("sql", [
    "FETCH PRIOR FROM c", "FETCH BACKWARD 1 FROM c", "FETCH BACKWARD ALL FROM c", "FETCH -1 FROM c",
    "FETCH RELATIVE -1 FROM c", "FETCH ABSOLUTE 1 FROM c", "FETCH FIRST FROM c", "FETCH ABSOLUTE 0 FROM c",
    "FETCH ABSOLUTE -2 FROM c", "MOVE BACKWARD 1 FROM c", "MOVE ABSOLUTE 2 FROM c", "MOVE -3 FROM c"])
def test_a_cursor_without_scroll_refuses_to_go_back_as_postgres(server: Server, sql: str) -> None:
    """On row 3 of a cursor declared without SCROLL (or NO SCROLL) every move back is PostgreSQL's error, 55000 with
    its hint, and fails the transaction; the forward moves around it work."""
    w = Wire(server)
    try:
        for declare in ("DECLARE c CURSOR FOR", "DECLARE c NO SCROLL CURSOR FOR"):
            got = _simple(w, f"BEGIN; {declare} SELECT range AS n FROM range(1, 6); FETCH 3 FROM c")
            assert _tags(got) == ["BEGIN", "DECLARE CURSOR", "FETCH 3"]
            got = _simple(w, sql)
            assert _error(got) == ("55000", "cursor can only scan forward") and got[-1] == (b"Z", b"E"), sql
            hint = next(f for kind, body in got if kind == b"E" for f in body.split(b"\x00") if f[:1] == b"H")
            assert hint.startswith(b"HDeclare it with SCROLL option to enable backward scan.")
            _simple(w, "ROLLBACK")
            # forward of row 3 is served
            got = _simple(w, f"BEGIN; {declare} SELECT range AS n FROM range(1, 6); FETCH 3 FROM c; "
                             "FETCH ABSOLUTE 4 FROM c; FETCH RELATIVE 1 FROM c; FETCH NEXT FROM c")
            assert _rows(got) == [["1"], ["2"], ["3"], ["4"], ["5"]]
            _simple(w, "ROLLBACK")
        # Declared without SCROLL (PostgreSQL would make this plain query's cursor scrollable), what the one row
        # kept answers is answered: ABSOLUTE 3 on row 3, FETCH 0, LAST reading to the end
        got = _simple(w, "BEGIN; DECLARE c CURSOR FOR SELECT range AS n FROM range(1, 6); FETCH 3 FROM c; "
                         "FETCH ABSOLUTE 3 FROM c; FETCH 0 FROM c; FETCH LAST FROM c; FETCH NEXT FROM c")
        assert _error(got) is None and _rows(got) == [["1"], ["2"], ["3"], ["3"], ["3"], ["5"]]
        _simple(w, "ROLLBACK")
    finally:
        w.close()


# PostgreSQL's answers on a NO SCROLL cursor over the rows 1..5, each from a fresh DECLARE after the moves given:
# (moves, statement, rows and tag, or None for its refusal, 55000 "cursor can only scan forward"). From pquery.c
# (PostgreSQL 15 to 18): FETCH 0 on a row steps back to read it again (PortalRunSelect backward: refused), on no row
# returns none; BACKWARD 0 steps back even on no row; MOVE 0 only counts the row it is on; ABSOLUTE n at or behind
# the position rewinds or steps back (past the end, position is the row count + 1); LAST reads to the end and steps
# back; ABSOLUTE 0 and MOVE BACKWARD ALL rewind, which DoPortalRewind allows only on a cursor not yet moved.
NO_SCROLL_SCRIPT: list[tuple[str, str, tuple[list[int], str] | None]] = [
    ("", "FETCH 0 FROM c", ([], "FETCH 0")),
    ("", "FETCH RELATIVE 0 FROM c", ([], "FETCH 0")),
    ("", "FETCH BACKWARD 0 FROM c", None),
    ("", "MOVE BACKWARD 0 FROM c", ([], "MOVE 0")),
    ("", "MOVE BACKWARD ALL FROM c", ([], "MOVE 0")),
    ("", "FETCH BACKWARD ALL FROM c", None),
    ("", "FETCH ABSOLUTE 0 FROM c", ([], "FETCH 0")),
    ("", "FETCH FIRST FROM c", ([1], "FETCH 1")),
    ("", "FETCH LAST FROM c", None),
    ("FETCH 3 FROM c", "FETCH 0 FROM c", None),
    ("FETCH 3 FROM c", "FETCH RELATIVE 0 FROM c", None),
    ("FETCH 3 FROM c", "FETCH BACKWARD 0 FROM c", None),
    ("FETCH 3 FROM c", "MOVE 0 FROM c", ([], "MOVE 1")),
    ("FETCH 3 FROM c", "MOVE BACKWARD 0 FROM c", ([], "MOVE 1")),
    ("FETCH 3 FROM c", "FETCH ABSOLUTE 3 FROM c", None),
    ("FETCH 3 FROM c", "MOVE ABSOLUTE 3 FROM c", None),
    ("FETCH 3 FROM c", "FETCH ABSOLUTE 4 FROM c", ([4], "FETCH 1")),
    ("FETCH 3 FROM c", "MOVE BACKWARD ALL FROM c", None),
    ("FETCH 3 FROM c", "FETCH LAST FROM c", None),
    ("FETCH 3 FROM c", "MOVE LAST FROM c", None),
    ("FETCH ALL FROM c", "FETCH 0 FROM c", ([], "FETCH 0")),
    ("FETCH ALL FROM c", "MOVE 0 FROM c", ([], "MOVE 0")),
    ("FETCH ALL FROM c", "FETCH ABSOLUTE 6 FROM c", None),
    ("FETCH ALL FROM c", "FETCH ABSOLUTE 7 FROM c", ([], "FETCH 0")),
]


def test_a_no_scroll_cursor_refuses_what_postgres_refuses(server: Server) -> None:
    w = Wire(server)
    try:
        for moves, sql, want in NO_SCROLL_SCRIPT:
            got = _simple(w, "BEGIN; DECLARE c NO SCROLL CURSOR FOR SELECT range AS n FROM range(1, 6); " + moves)
            assert _error(got) is None, moves
            got = _simple(w, sql)
            if want is None:
                assert _error(got) == ("55000", "cursor can only scan forward"), (moves, sql)
            else:
                assert (_error(got), [int(n) for n, in _rows(got)], _tags(got)) == (None, want[0], [want[1]]), (
                    moves, sql)
            _simple(w, "ROLLBACK")
        # a cursor declared without SCROLL says MOVE 0 to MOVE BACKWARD ALL before its first row, as PostgreSQL
        got = _simple(w, "BEGIN; DECLARE c CURSOR FOR SELECT range AS n FROM range(1, 6); MOVE BACKWARD ALL FROM c; "
                         "FETCH NEXT FROM c")
        assert (_error(got), _tags(got)[-2:], _rows(got)) == (None, ["MOVE 0", "FETCH 1"], [["1"]])
        _simple(w, "ROLLBACK")
    finally:
        w.close()


def test_psycopg_and_psycopg2_scrollable_cursors(server: Server) -> None:
    """psycopg's scrollable=True declares SCROLL; scroll(n) is MOVE n, scroll(n, 'absolute') MOVE ABSOLUTE n."""
    want = _all_rows(server)
    with psycopg.connect(server.url()) as conn:
        with conn.cursor(name="scrolly", scrollable=True) as cur:
            cur.execute(QUERY)
            assert cur.fetchmany(10) == want[:10]
            cur.scroll(-4)
            assert cur.fetchone() == want[6]
            cur.scroll(0, mode="absolute")
            assert cur.fetchmany(2) == want[:2]
            cur.scroll(1500, mode="absolute")
            assert cur.fetchone() == want[1500]
            assert cur.fetchall() == want[1501:]
            cur.scroll(-3)  # from past the end, as PostgreSQL: the last row is one step back
            assert cur.fetchall() == want[-2:]
        conn.rollback()
    conn2 = psycopg2.connect(server.url())
    try:
        held = conn2.cursor("held", scrollable=True, withhold=True)
        held.execute(QUERY)
        assert held.fetchmany(5) == want[:5]
        conn2.commit()  # WITH HOLD and SCROLL: both ways after COMMIT
        held.scroll(-5)
        assert held.fetchone() == want[0]
        held.scroll(100, mode="absolute")
        assert held.fetchone() == want[100]
        held.close()
    finally:
        conn2.close()


def test_a_scroll_cursor_keeps_at_most_a_million_rows(server: Server) -> None:
    """A SCROLL cursor keeps what it has read to go back; past 1,000,000 rows it stops with 54000 saying so (and
    the transaction with it), rather than hold an unbounded result."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("DECLARE big SCROLL CURSOR FOR SELECT range AS n FROM range(1000005)")
        assert conn.execute("FETCH ABSOLUTE 1000000 FROM big").fetchall() == [(999999,)]
        assert conn.execute("FETCH PRIOR FROM big").fetchall() == [(999998,)]
        with pytest.raises(psycopg.errors.ProgramLimitExceeded,
                           match='SCROLL cursor "big" has read 1,000,000 rows.*without SCROLL'):
            conn.execute("FETCH LAST FROM big")
        conn.rollback()
        # its kept rows count against what another statement may make the server hold of its unread ones, and the
        # refusal says so (it said "more than 1,000,000 unread rows" of the 400,005 left)
        conn.execute("DECLARE big SCROLL CURSOR FOR SELECT range AS n FROM range(1000005)")
        assert conn.execute("FETCH ABSOLUTE 600000 FROM big").fetchall() == [(599999,)]
        with pytest.raises(psycopg.errors.ProgramLimitExceeded) as e:
            conn.execute("SELECT 1")
        assert re.search(r'\(cursor "big"\) has more than 400,000 unread rows besides the 600,000 its SCROLL cursor '
                         r"keeps, more than the 1,000,000 rows", str(e.value)), str(e.value)
        conn.rollback()


def test_a_scroll_cursor_of_exactly_a_million_rows_reads_to_its_end(server: Server) -> None:
    """1,000,000 rows is within the keep limit: reading past the last of them found the end. It was refused with
    54000 instead (the cursor read a 1,000,001st row only to learn there was none, and counted it as kept)."""
    with psycopg.connect(server.url()) as conn:
        conn.execute("DECLARE m SCROLL CURSOR FOR SELECT range AS n FROM range(1000000)")
        assert conn.execute("MOVE FORWARD ALL FROM m").statusmessage == "MOVE 1000000"
        assert conn.execute("FETCH NEXT FROM m").fetchall() == []  # past the end, as PostgreSQL
        assert conn.execute("FETCH PRIOR FROM m").fetchall() == [(999999,)]
        assert conn.execute("FETCH LAST FROM m").fetchall() == [(999999,)]
        assert conn.execute("FETCH ABSOLUTE -1000000 FROM m").fetchall() == [(0,)]
        conn.rollback()


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
    # the peak set back to now (Linux's clear_refs): the server, shared with other test files, may have peaked higher
    # before, which would hide this query's own
    Path(f"/proc/{server.proc.pid}/clear_refs").write_text("5")
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

