"""`ad-duckdb serve`: regtype and regclass values as PostgreSQL prints them (a select list's are names: ``integer``,
the relation's), while a comparison or a join reads them as the oids they are; and round(numeric, n)'s scale n. Real
clients (psql, psycopg) against the session's shared server of tests/test_server.py's warehouse."""

from __future__ import annotations

import decimal
import shutil
import subprocess

import psycopg
import pytest
from psycopg.types import TypeInfo

from test_server import PSQL_MISSING, Server


def _psql(server: Server, sql: str) -> list[str]:
    psql = shutil.which("psql")
    assert psql, PSQL_MISSING
    out = subprocess.run([psql, server.url(), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_psql_prints_a_regtype_as_its_name(server: Server) -> None:
    """``23::regtype`` printed 23 and ``'int4'::regtype`` int4: PostgreSQL's regtype prints format_type's name,
    whether the value was an oid or a name (any of PostgreSQL's spellings of it), and so does to_regtype."""
    assert _psql(server, "SELECT 23::regtype, 'int4'::regtype, 'INTEGER'::pg_catalog.regtype, "
                         "CAST('float8' AS regtype), 'character varying(20)'::regtype, 'int8[]'::regtype, "
                         "1700::regtype::text, to_regtype('bool'), to_regtype('double precision')::text") \
        == ["integer|integer|integer|double precision|character varying|bigint[]|numeric|boolean|double precision"]
    assert _psql(server, "SELECT a.attname, a.atttypid::regtype FROM pg_catalog.pg_attribute a "
                         "WHERE a.attrelid = 'transactions'::regclass AND a.attnum > 0 ORDER BY a.attnum") \
        == ["transaction_id|bigint", "count|integer", "amount|numeric", "amount_d|double precision"]


def test_a_regtype_compares_and_joins_as_its_oid(server: Server) -> None:
    """``'int4'::regtype = 23`` and ``'int4'::regtype::oid`` failed on converting 'int4' to a number; in a
    comparison, a join or a cast to oid a regtype is the type's oid, as in PostgreSQL."""
    with psycopg.connect(server.url(), autocommit=True) as conn:
        assert conn.execute("SELECT 'int4'::regtype = 23, 'int4'::regtype::oid = 23, 'text'::regtype::oid, "
                            "%s::regtype::oid", ["bigint"]).fetchone() == (True, True, 25, 20)
        assert conn.execute("SELECT t.typname FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t "
                            "ON t.oid = a.atttypid::regtype WHERE a.attrelid = 'transactions'::regclass "
                            "AND a.atttypid = 'integer'::regtype").fetchall() == [("int4",)]
        # psycopg's type lookup reads oid::regtype::text (its registry's key) by to_regtype(name)
        info = TypeInfo.fetch(conn, "integer")
        assert info is not None and (info.oid, info.regtype) == (23, "integer")
        assert conn.execute("SELECT to_regtype('no_such_type')").fetchone() == (None,)
        with pytest.raises(psycopg.errors.UndefinedObject, match='type "no_such_type" does not exist'):
            conn.execute("SELECT 'no_such_type'::regtype")


def test_to_regclass_prints_the_relations_name_and_compares_as_its_oid(server: Server) -> None:
    """to_regclass('t') printed the oid; PostgreSQL prints the relation's name (and NULL for no relation), as
    ``'t'::regclass`` already did here, while it stays the oid in a comparison or a WHERE clause."""
    assert _psql(server, "SELECT to_regclass('transactions'), pg_catalog.to_regclass('main.transactions')::text, "
                         "to_regclass('no_such') IS NULL") == ["transactions|transactions|t"]
    with psycopg.connect(server.url(), autocommit=True) as conn:
        cur = conn.execute("SELECT to_regclass('transactions') AS r, "
                           "to_regclass('transactions') = 'transactions'::regclass")
        assert cur.description is not None and cur.description[0].name == "r"
        assert cur.fetchone() == ("transactions", True)
        assert conn.execute("SELECT count(*) FROM pg_catalog.pg_attribute WHERE attrelid = "
                            "to_regclass('transactions') AND attnum > 0").fetchone() == (4,)


def test_round_of_a_numeric_has_the_scale_asked_for(server: Server) -> None:
    """round(1.25::numeric(10,2), 3) was 1.25 (DuckDB keeps the decimal's own scale when asked for more decimals);
    PostgreSQL's result has the scale asked for, 1.250, and rounds half away from zero to fewer."""
    assert _psql(server, "SELECT round(1.25::numeric(10,2), 3), round(-2.345::numeric(10,3), 2), "
                         "round(1234.5::numeric(10,1), -2), round(amount, 4) FROM transactions "
                         "WHERE transaction_id = 1") [0].split("|")[:3] == ["1.250", "-2.35", "1200"]
    with psycopg.connect(server.url(), autocommit=True) as conn:
        value, amount = conn.execute("SELECT round(amount, 4), amount FROM transactions "
                                     "WHERE transaction_id = 1").fetchone() or (None, None)
        assert isinstance(value, decimal.Decimal) and value == amount and value.as_tuple().exponent == -4
