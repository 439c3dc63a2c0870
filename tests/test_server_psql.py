"""`ad-duckdb serve`: psql 15's meta-commands, run by the real psql against the catalogue test database.

Each either answers honestly (an empty list where DuckDB has no such thing: tablespaces but its one, foreign
servers, text search configurations, ...) or fails with the server's own message saying what to use instead; none
may fail with DuckDB's error about a catalogue table or function it lacks. (\\d, \\dt, \\l, \\df and the others
that worked before: test_server.py, test_server_catalog.py.)
"""

from __future__ import annotations

import shutil
import subprocess

import duckdb
import psycopg
import pytest
from test_server_catalog import shop

from test_server import PSQL_MISSING, Server

__all__ = ["shop"]  # the fixture, imported for pytest

# meta-command -> what its output shows: DuckDB's answer, or none ("(0 rows)", psql's "Did not find ...")
ANSWERS = {
    "\\db": "pg_default | duckdb |",  # DuckDB's one tablespace; its files are the database's (Location empty)
    "\\db+": "pg_default | duckdb |",
    "\\dd": "(0 rows)",  # DuckDB has no comments on constraints, rules or triggers
    "\\dd customers": "(0 rows)",
    "\\dD+": "(0 rows)",
    "\\dT": "(0 rows)",  # the built-in types are pg_catalog's (they were listed as main's, as user types)
    "\\dT+": "(0 rows)",
    "\\dTS integer": "pg_catalog | integer",
    "\\ddp": "(0 rows)",
    "\\dy": "(0 rows)",
    "\\dy+": "(0 rows)",
    "\\dL": "(0 rows)",  # no procedural languages
    "\\dL+": "(0 rows)",
    "\\dLS": " sql      | duckdb | t",
    "\\dc": "(0 rows)",
    "\\dc+": "(0 rows)",
    "\\dF": "(0 rows)",
    "\\dF+": "Did not find any text search configurations.",
    "\\dFd": "(0 rows)",
    "\\dFp": "(0 rows)",
    "\\dFt": "(0 rows)",
    "\\drds": "Did not find any settings.",
    "\\dRp": "(0 rows)",
    "\\dRp+": "Did not find any publications.",
    "\\dRs": "(0 rows)",
    "\\dRs+": "(0 rows)",
    "\\dAc+": "(0 rows)",
    "\\dAf": "(0 rows)",
    "\\dAo": "(0 rows)",
    "\\dAp": "(0 rows)",
    "\\des": "(0 rows)",
    "\\des+": "(0 rows)",
    "\\dew": "(0 rows)",
    "\\dew+": "(0 rows)",
    "\\det": "(0 rows)",
    "\\det+": "(0 rows)",
    "\\deu": "(0 rows)",
    "\\deu+": "(0 rows)",
    "\\dl": "(0 rows)",
    "\\dX": "(0 rows)",
    "\\dP+": "(0 rows)",
    "\\dO": "(0 rows)",
    "\\df+ anomaly_score": "| internal |",  # built into the server process, no source
    "\\di+": "orders_note | index | duckdb | orders | permanent",  # DuckDB's says "temporary"
    "\\sv big_customers": "CREATE OR REPLACE VIEW main.big_customers AS\nSELECT id, ",
    "\\sv+ other.items_v": "CREATE OR REPLACE VIEW other.items_v AS",
    "\\dx": "| pg_catalog | Adds support for JSON operations",  # DuckDB's loaded extensions (test below)
    "\\dx js*": "| pg_catalog | Adds support for JSON operations",
}

# meta-command -> words of the server's refusal (SQLSTATE 0A000), which says what to use instead
REFUSALS = {
    "\\do": "duckdb_functions()",  # DuckDB's operators are built in, with no catalogue: an empty list would lie
    "\\do+ ||": "duckdb_functions()",
    "\\dC": "TRY_CAST",
    "\\sf anomaly_score": "function_name = 'anomaly_score'",  # no source kept; a macro's only in parts
    "\\sf+ main.plain_macro(integer)": "function_name = 'plain_macro'",
    "\\dconfig": "duckdb_settings()",
    "\\dconfig work_mem": "duckdb_settings()",
    # DuckDB records which functions an extension added (one oid for all overloads of a name), nothing else of it
    "\\dx+ json": "extension_name = 'json'",
}


def _run(server: Server, command: str) -> subprocess.CompletedProcess[str]:
    psql = shutil.which("psql")
    assert psql, PSQL_MISSING
    return subprocess.run([psql, server.url(), "-X", "-v", "VERBOSITY=verbose", "-c", command], capture_output=True,
                          text=True, timeout=60)


@pytest.mark.parametrize("command", [*ANSWERS, *REFUSALS])
def test_psql_meta_command_answers_honestly_or_says_what_to_use(shop: Server, command: str) -> None:
    r = _run(shop, command)
    if command in ANSWERS:
        assert "ERROR" not in r.stderr, (command, r.stderr)
        if ANSWERS[command].startswith("Did not find"):  # psql says so on stderr, exit status 1, as with PostgreSQL
            assert ANSWERS[command] in r.stderr, (command, r.stderr)
        else:
            assert r.returncode == 0 and ANSWERS[command] in r.stdout, (command, r.stdout)
    else:
        assert r.returncode != 0 and "ERROR:  " in r.stderr, (command, r.stderr)
        if command.startswith("\\sf"):  # psql prints only the message of its function lookup: the query's own code
            with psycopg.connect(shop.url(), autocommit=True) as conn, pytest.raises(psycopg.Error) as err:
                conn.execute("SELECT 'anomaly_score'::pg_catalog.regproc::pg_catalog.oid")
            assert err.value.sqlstate == "0A000"
        else:  # VERBOSITY=verbose prints the SQLSTATE: 0A000, feature_not_supported
            assert "ERROR:  0A000: " in r.stderr, (command, r.stderr)
        assert "not supported by ad-duckdb serve" in r.stderr and REFUSALS[command] in r.stderr, (command, r.stderr)


def test_psql_dx_lists_the_extensions_duckdb_has_loaded(shop: Server) -> None:
    # was refused: duckdb_extensions() reads the extension folder, which the server cannot once it is serving
    r = _run(shop, "\\dx")
    assert r.returncode == 0, r.stderr
    rows = [[c.strip() for c in line.split("|")] for line in r.stdout.splitlines()[3:] if line.count("|") == 3]
    con = duckdb.connect()
    try:
        want = con.execute("SELECT extension_name, extension_version, 'pg_catalog', description FROM "
                           "duckdb_extensions() WHERE loaded ORDER BY 1").fetchall()
    finally:
        con.close()
    assert rows == [list(w) for w in want] and ["json", duckdb.__version__] != rows[0][:2], r.stdout
    with psycopg.connect(shop.url(), autocommit=True) as conn:
        # PostgreSQL's columns; the extensions' objects are where the server lists DuckDB's functions
        got = conn.execute("SELECT e.extname, e.extrelocatable, n.nspname, obj_description(e.oid, 'pg_extension') "
                           "IS NULL, d.description FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n "
                           "ON n.oid = e.extnamespace JOIN pg_catalog.pg_description d ON d.objoid = e.oid AND "
                           "d.classoid = 'pg_catalog.pg_extension'::regclass WHERE e.extname = 'json'").fetchall()
        assert got == [("json", False, "pg_catalog", True, "Adds support for JSON operations")]
        # a loaded extension's function is there; none loads from a file
        assert conn.execute("SELECT count(*) > 0 FROM duckdb_functions() WHERE extension_name = 'json'").fetchone() \
            == (True,)
        with pytest.raises(psycopg.Error, match="disabled"):
            conn.execute("LOAD httpfs")
