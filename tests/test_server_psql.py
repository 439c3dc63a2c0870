"""`ad-duckdb serve`: psql 15's meta-commands, run by the real psql against the catalogue test database.

Each either answers honestly (an empty list where DuckDB has no such thing: tablespaces but its one, foreign
servers, text search configurations, ...) or fails with the server's own message saying what to use instead; none
may fail with DuckDB's error about a catalogue table or function it lacks. (\\d, \\dt, \\l, \\df and the others
that worked before: test_server.py, test_server_catalog.py.)
"""

from __future__ import annotations

import shutil
import subprocess
from contextlib import nullcontext

import duckdb
import psycopg
import pytest
from test_server_catalog import shop

from test_server import PSQL_MISSING, Server, serve

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
    "\\dx+ no_such_ext": 'Did not find any extension named "no_such_ext".',  # (test below for one that exists)
}

# meta-command -> words of the server's refusal (SQLSTATE 0A000), which says what to use instead
REFUSALS = {
    "\\do": "duckdb_functions()",  # DuckDB's operators are built in, with no catalogue: an empty list would lie
    "\\do+ ||": "duckdb_functions()",
    "\\dC": "TRY_CAST",
    "\\sf anomaly_score": "function_name = 'anomaly_score'",  # no source kept; a macro's only in parts
    "\\sf+ pg_catalog.list_first(integer[])": "function_name = 'list_first'",  # a DuckDB macro: parts only
    "\\sf ANOMALY_SCORE": "function_name = 'anomaly_score'",  # names fold to lower case, as PostgreSQL's
    "\\dconfig": "duckdb_settings()",
    "\\dconfig work_mem": "duckdb_settings()",
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


def test_psql_sv_of_a_missing_view_says_it_does_not_exist_as_postgresql_does(shop: Server) -> None:
    """psql's \\sv NAME looks the name up with 'NAME'::regclass, which answered NULL for a missing relation, so psql
    printed "ERROR:  (not available)". PostgreSQL's lookup fails with relation "NAME" does not exist (42P01); a
    pg_catalog name the server does not emulate stays NULL (clients join catalogues by it, as before)."""
    for command, name in [("\\sv nosuch", "nosuch"), ("\\sv+ main.nosuch", "main.nosuch")]:
        r = _run(shop, command)
        # psql prints only the lookup's message (no SQLSTATE), as with PostgreSQL
        assert r.returncode != 0 and f'ERROR:  relation "{name}" does not exist' in r.stderr, (command, r.stderr)
        assert "(not available)" not in r.stderr, (command, r.stderr)
    with psycopg.connect(shop.url(), autocommit=True) as conn:
        with pytest.raises(psycopg.Error) as err:
            conn.execute("SELECT 'nosuch'::regclass")
        assert err.value.sqlstate == "42P01" and str(err.value).startswith('relation "nosuch" does not exist')
        assert conn.execute("SELECT 'pg_catalog.pg_no_such_catalogue'::regclass IS NULL, "
                            "CAST(NULL AS REGCLASS) IS NULL").fetchone() == (True, True)


def test_psql_sf_of_a_missing_function_says_it_does_not_exist_as_postgresql_does(shop: Server) -> None:
    """psql's \\sf NAME (and \\ef NAME) looks the name up with 'NAME'::regproc (regprocedure with argument
    types), which the server refused for any name: "a function's definition ... is not supported" sent the user
    looking for the definition of a function that does not exist. PostgreSQL's lookup fails with function "NAME"
    does not exist (42883); one that exists is still refused (REFUSALS above)."""
    # (\\ef sends the same lookup, but psql -c has no query buffer to edit: "no query buffer", before any query)
    for command, name in [("\\sf nosuch", "nosuch"), ("\\sf+ main.nosuch(integer)", "main.nosuch(integer)"),
                          # anomaly_score exists, but in pg_catalog (the server's functions, as \\df lists them)
                          ("\\sf other.anomaly_score", "other.anomaly_score"),
                          # the server's own catalogue macros are none of the database's functions
                          ("\\sf pg_regclass", "pg_regclass")]:
        r = _run(shop, command)
        # psql prints only the lookup's message (no SQLSTATE), as with PostgreSQL
        assert r.returncode != 0 and f'ERROR:  function "{name}" does not exist' in r.stderr, (command, r.stderr)
        assert "not supported" not in r.stderr, (command, r.stderr)
    assert "is not supported by ad-duckdb serve" in _run(shop, "\\sf pg_catalog.anomaly_score").stderr
    with psycopg.connect(shop.url(), autocommit=True) as conn:
        with pytest.raises(psycopg.Error) as err:
            conn.execute("SELECT 'nosuch'::pg_catalog.regproc::pg_catalog.oid")
        assert err.value.sqlstate == "42883" and str(err.value).startswith('function "nosuch" does not exist')
        with pytest.raises(psycopg.Error) as err:
            conn.execute("SELECT 'a..b'::pg_catalog.regproc::pg_catalog.oid")
        assert err.value.sqlstate == "42602" and "'a..b'" in str(err.value)
        # the session carries on: the lookup's error fails no later statement
        assert conn.execute("SELECT 1").fetchone() == (1,)


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


def _table(out: str) -> list[list[str]]:
    """psql's aligned table rows (after the title and the header), as lists of cells."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if set(line) <= {"-", "+"} and line) + 1
    return [[c.strip() for c in line.split("|")] for line in lines[start:] if line and not line.startswith("(")]


@pytest.mark.parametrize("read_write", [False, True])
def test_psql_du_lists_the_one_role_with_what_the_server_allows_it(shop: Server, tmp_path_factory:
                                                                   pytest.TempPathFactory, read_write: bool) -> None:
    # was refused (DuckDB has no roles): now DuckDB's one user, current_user, which owns everything (\\dt's Owner)
    path = str(tmp_path_factory.mktemp("rw") / "rw.duckdb")
    duckdb.connect(path).close()
    with serve(path, "--read-write") if read_write else nullcontext(shop) as server:
        for cmd in ("\\du", "\\dg"):
            r = _run(server, cmd)
            assert r.returncode == 0 and "ERROR" not in r.stderr, (cmd, r.stderr)
            # no attributes: not a superuser (is_superuser off), no roles or databases to create; a member of none
            assert _table(r.stdout) == [["duckdb", "", "{}"]], (cmd, r.stdout)
        r = _run(server, "\\du+")
        assert r.returncode == 0, r.stderr
        mode = "read-write: it may change" if read_write else "read-only: it may not change"
        assert _table(r.stdout) == [["duckdb", "", "{}", "every client of ad-duckdb serve, whatever user name it "
                                     f"gives; {mode} the database"]], r.stdout
        with psycopg.connect(server.url(), autocommit=True) as conn:
            # the role the server answers as: current_user, pg_get_userbyid of the owners' oid 0
            assert conn.execute("SELECT r.rolname = current_user, r.oid, pg_catalog.pg_get_userbyid(r.oid), "
                                "r.rolsuper, r.rolcanlogin, r.rolcreatedb FROM pg_catalog.pg_roles r").fetchall() \
                == [(True, 0, "duckdb", False, True, False)]
            assert conn.execute("SELECT count(*) FROM pg_catalog.pg_auth_members").fetchall() == [(0,)]
            # PgJDBC's getTablePrivileges and getColumnPrivileges (as 42.6 writes them): the owner's privileges
            want = "{duckdb=arwdDx/duckdb}" if read_write else "{duckdb=r/duckdb}"
            table = "made" if read_write else "customers"
            if read_write:
                conn.execute("CREATE TABLE made (x INTEGER)")
            assert conn.execute("SELECT n.nspname,c.relname,r.rolname,c.relacl FROM pg_catalog.pg_namespace n, "
                                "pg_catalog.pg_class c, pg_catalog.pg_roles r WHERE c.relnamespace = n.oid AND "
                                "c.relowner = r.oid AND c.relkind IN ('r','p','v','m','f') AND n.nspname LIKE 'main' "
                                f"AND c.relname LIKE '{table}' ORDER BY nspname, relname").fetchall() \
                == [("main", table, "duckdb", [want[1:-1]])]
            assert conn.execute("SELECT n.nspname,c.relname,r.rolname,c.relacl, a.attacl,  a.attname  FROM "
                                "pg_catalog.pg_namespace n, pg_catalog.pg_class c,  pg_catalog.pg_roles r, "
                                "pg_catalog.pg_attribute a  WHERE c.relnamespace = n.oid  AND c.relowner = r.oid  AND "
                                "c.oid = a.attrelid  AND c.relkind = 'r'  AND a.attnum > 0 AND NOT a.attisdropped  "
                                f"AND c.relname = '{table}' ORDER BY attname LIMIT 1").fetchall()[0][2:5] \
                == ("duckdb", [want[1:-1]], None)
        if not read_write:
            # a table's privileges (psql's \\dp, PgJDBC's getTablePrivileges): reading only, as the server allows
            r = _run(server, "\\dp customers")
            assert r.returncode == 0 and _table(r.stdout) == [["main", "customers", "table", "duckdb=r/duckdb", "",
                                                              ""]], r.stdout
        else:
            r = _run(server, "\\dp made")
            assert r.returncode == 0 and _table(r.stdout) == [["main", "made", "table", "duckdb=arwdDx/duckdb", "",
                                                              ""]], r.stdout


def test_psql_dx_plus_lists_what_an_extension_added(shop: Server) -> None:
    # was refused: DuckDB names the extension of each function overload and type it added (duckdb_functions(),
    # duckdb_types()), which is what PostgreSQL's pg_depend says of an extension's objects
    r = _run(shop, "\\dx+ json")
    assert r.returncode == 0 and "ERROR" not in r.stderr, r.stderr
    assert 'Objects in extension "json"' in r.stdout and "Object description" in r.stdout, r.stdout
    got = [row[0] for row in _table(r.stdout)]
    con = duckdb.connect()
    try:
        overloads, names = con.execute("SELECT count(*), count(DISTINCT function_name) FROM duckdb_functions() "
                                       "WHERE extension_name = 'json'").fetchone() or (0, 0)
    finally:
        con.close()
    assert len(got) == overloads + 1 and names > 10, r.stdout  # every overload, and the JSON type
    assert got == sorted(got), got  # psql's ORDER BY 1
    # each overload by its argument types, as DuckDB names them (as \\df prints them); operators as operators
    for line in ("function json_extract(JSON,VARCHAR)", "function json_extract(VARCHAR,BIGINT)",
                 "function to_json(VARIADIC ANY)", "operator ->>(JSON,VARCHAR)", "type JSON"):
        assert line in got, (line, got)
    assert not any("anomaly" in g for g in got)
    with psycopg.connect(shop.url(), autocommit=True) as conn:
        # pg_depend joins pg_proc by the function's oid, and pg_describe_object answers outside psql's query too
        assert conn.execute("SELECT DISTINCT p.proname FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_proc p ON "
                            "p.oid = d.objid JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid WHERE d.deptype = "
                            "'e' AND e.extname = 'json' AND p.proname = 'to_json'").fetchall() == [("to_json",)]
        assert conn.execute("SELECT pg_catalog.pg_describe_object('pg_catalog.pg_extension'::regclass, oid, 0) FROM "
                            "pg_catalog.pg_extension WHERE extname = 'json'").fetchall() == [("extension json",)]
        # a name with overloads shares one oid: which one is not known, so none (PostgreSQL's NULL for no object)
        assert conn.execute("SELECT pg_catalog.pg_describe_object('pg_catalog.pg_proc'::regclass, p.oid, 0) FROM "
                            "pg_catalog.pg_proc p WHERE p.proname = 'json_extract' LIMIT 1").fetchall() == [(None,)]
        # the same text in a string literal is only text
        assert conn.execute("SELECT 'pg_describe_object(classid, objid, 0)'").fetchall() == \
            [("pg_describe_object(classid, objid, 0)",)]
