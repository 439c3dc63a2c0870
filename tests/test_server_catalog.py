"""`ad-duckdb serve`: the catalogue questions BI tools ask to list and describe tables, against a real server.

SQLAlchemy's reflection (what Superset's "sync columns" and pandas.read_sql_table run), psql's \\d NAME and the
catalogue queries of the PostgreSQL JDBC driver's DatabaseMetaData, on a database with primary keys, unique,
check and foreign-key constraints, an index, comments, a view and a second schema. Every answer is checked
against what DuckDB itself holds; nothing here may be invented (no foreign keys on a table without them).
"""

from __future__ import annotations

import shutil
import subprocess
from contextlib import AbstractContextManager

import duckdb
import pandas as pd
import psycopg
import pytest
from sqlalchemy import MetaData, Table, create_engine, inspect, types

from test_server import PSQL_MISSING, Server, serve, shared_server


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Server:
    """The read-only server of a shop database, one per test process for the files that take it by name."""
    def start() -> AbstractContextManager[Server]:
        path = str(tmp_path_factory.mktemp("catalog") / "shop.duckdb")
        con = duckdb.connect(path)
        con.execute("""
            CREATE TABLE customers (id INTEGER PRIMARY KEY, email VARCHAR UNIQUE NOT NULL, name VARCHAR DEFAULT 'x',
              score DOUBLE CHECK (score >= 0), created TIMESTAMP, amount DECIMAL(12,2), flag BOOLEAN, visits BIGINT,
              born DATE, seen TIMESTAMPTZ, tags INTEGER[]);
            CREATE TABLE orders (order_id BIGINT, customer_id INTEGER REFERENCES customers(id), qty SMALLINT NOT NULL,
              note VARCHAR, PRIMARY KEY (order_id, qty), UNIQUE (customer_id, note));
            CREATE INDEX orders_note ON orders(note);
            CREATE TABLE plain (x INTEGER);
            CREATE VIEW big_customers AS SELECT id, name FROM customers WHERE score > 10;
            CREATE SCHEMA other;
            CREATE TABLE other.items (k INTEGER PRIMARY KEY, v VARCHAR);
            CREATE VIEW other.items_v AS SELECT k FROM other.items;
            COMMENT ON TABLE customers IS 'who buys';
            COMMENT ON COLUMN customers.email IS 'their mail';
            INSERT INTO customers VALUES (1, 'a@b', 'A', 12.5, TIMESTAMP '2024-01-02 03:04:05', 1.25, true, 3,
              DATE '1990-01-01', NULL, [1, 2]);
            INSERT INTO other.items VALUES (7, 'seven');
        """)
        con.close()
        return serve(path)

    return shared_server(request, "shop", start)


DIALECTS = ["postgresql+psycopg", "postgresql+psycopg2"]  # Superset's default driver is psycopg2


@pytest.mark.parametrize("dialect", DIALECTS)
def test_sqlalchemy_reflects_columns_with_postgres_types(shop: Server, dialect: str) -> None:
    engine = create_engine(shop.url().replace("postgresql://", f"{dialect}://"))
    try:
        insp = inspect(engine)
        cols = {c["name"]: c for c in insp.get_columns("customers")}
        assert list(cols) == ["id", "email", "name", "score", "created", "amount", "flag", "visits", "born", "seen",
                              "tags"]
        want = {"id": types.INTEGER, "email": types.VARCHAR, "score": types.DOUBLE_PRECISION,
                "created": types.TIMESTAMP, "amount": types.NUMERIC, "flag": types.BOOLEAN, "visits": types.BIGINT,
                "born": types.DATE, "seen": types.TIMESTAMP, "tags": types.ARRAY}
        for name, t in want.items():
            assert isinstance(cols[name]["type"], t), (name, cols[name]["type"])
        assert (cols["amount"]["type"].precision, cols["amount"]["type"].scale) == (12, 2)
        assert isinstance(cols["tags"]["type"].item_type, types.INTEGER)  # INTEGER[] reflects as an array of integers
        assert cols["seen"]["type"].timezone and not cols["created"]["type"].timezone
        assert [c for c in cols if not cols[c]["nullable"]] == ["id", "email"]
        assert cols["name"]["default"] == "'x'" and cols["id"]["default"] is None
        assert cols["email"]["comment"] == "their mail"
        assert [c["name"] for c in insp.get_columns("big_customers")] == ["id", "name"]
        assert [(c["name"], c["nullable"]) for c in insp.get_columns("items", schema="other")] == [
            ("k", False), ("v", True)]
    finally:
        engine.dispose()


@pytest.mark.parametrize("dialect", DIALECTS)
def test_sqlalchemy_reflects_keys_indexes_comments_and_views(shop: Server, dialect: str) -> None:
    engine = create_engine(shop.url().replace("postgresql://", f"{dialect}://"))
    try:
        insp = inspect(engine)
        # only the default schema's tables: every schema's were listed before
        assert sorted(insp.get_table_names()) == ["customers", "orders", "plain"]
        assert insp.get_table_names(schema="other") == ["items"]
        assert insp.get_view_names() == ["big_customers"] and insp.get_view_names(schema="other") == ["items_v"]
        assert {"main", "other"} <= set(insp.get_schema_names())
        assert insp.has_table("orders") and insp.has_table("items", schema="other") and not insp.has_table("items")
        pk = insp.get_pk_constraint("orders")
        assert (pk["constrained_columns"], pk["name"]) == (["order_id", "qty"], "orders_order_id_qty_pkey")
        assert insp.get_pk_constraint("items", schema="other")["constrained_columns"] == ["k"]
        assert insp.get_pk_constraint("plain")["constrained_columns"] == []
        fks = insp.get_foreign_keys("orders")
        assert [(f["constrained_columns"], f["referred_table"], f["referred_columns"]) for f in fks] == [
            (["customer_id"], "customers", ["id"])]
        assert insp.get_foreign_keys("customers") == [] and insp.get_foreign_keys("plain") == []
        assert [(u["name"], u["column_names"]) for u in insp.get_unique_constraints("customers")] == [
            ("customers_email_key", ["email"])]
        assert [u["column_names"] for u in insp.get_unique_constraints("orders")] == [["customer_id", "note"]]
        assert [(c["name"], c["sqltext"]) for c in insp.get_check_constraints("customers")] == [
            ("customers_score_check", "score >= 0")]
        assert insp.get_check_constraints("orders") == []
        # as from PostgreSQL: a UNIQUE constraint's index (named after it) is listed and marked as its duplicate;
        # the primary key's is not
        idx = insp.get_indexes("orders")
        assert [(i["name"], i["column_names"], i["unique"], i.get("duplicates_constraint")) for i in idx] == [
            ("orders_customer_id_note_key", ["customer_id", "note"], True, "orders_customer_id_note_key"),
            ("orders_note", ["note"], False, None)]
        assert [(i["name"], i["column_names"]) for i in insp.get_indexes("customers")] == [
            ("customers_email_key", ["email"])]
        assert insp.get_indexes("plain") == []
        assert insp.get_table_comment("customers") == {"text": "who buys"}
        assert insp.get_table_comment("orders") == {"text": None}
        assert insp.get_view_definition("big_customers").startswith("SELECT id, ")

        orders = Table("orders", MetaData(), autoload_with=engine)
        assert [c.name for c in orders.primary_key] == ["order_id", "qty"]
        assert [fk.target_fullname for fk in orders.c.customer_id.foreign_keys] == ["customers.id"]
        view = Table("big_customers", MetaData(), autoload_with=engine)
        assert [c.name for c in view.c] == ["id", "name"]
        frame = pd.read_sql_table("customers", engine)
        assert frame.loc[0, "email"] == "a@b" and frame.loc[0, "amount"] == 1.25
        assert pd.read_sql_table("items", engine, schema="other").to_dict("records") == [{"k": 7, "v": "seven"}]
    finally:
        engine.dispose()


def _psql(shop: Server, command: str) -> str:
    psql = shutil.which("psql")
    assert psql, PSQL_MISSING
    r = subprocess.run([psql, shop.url(), "-X", "-c", command], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "ERROR" not in r.stderr, (command, r.stderr)
    return r.stdout


def _rows(out: str) -> dict[str, list[str]]:
    return {c[0]: c[1:] for c in ([x.strip() for x in line.split("|")] for line in out.splitlines())
            if len(c) > 3 and c[0] and c[0] != "Column"}


def test_psql_describes_a_table_and_a_view(shop: Server) -> None:
    out = _psql(shop, "\\d customers")
    assert 'Table "main.customers"' in out
    rows = _rows(out)
    assert rows["id"][:3] == ["integer", "", "not null"]
    assert rows["email"][:3] == ["character varying", "", "not null"]
    assert rows["amount"][:3] == ["numeric(12,2)", "", ""]
    assert rows["seen"][0] == "timestamp with time zone"
    assert rows["name"][3] == "'x'"
    assert '"customers_score_check" CHECK((score >= 0))' in out
    orders = _psql(shop, "\\d orders")
    assert '"orders_note" CREATE INDEX orders_note ON orders(note)' in orders
    # the constraints' own indexes, as psql shows PostgreSQL's (what follows USING: DuckDB's ART)
    assert '"orders_order_id_qty_pkey" PRIMARY KEY, art (order_id, qty)' in orders
    assert '"orders_customer_id_note_key" UNIQUE CONSTRAINT, art (customer_id, note)' in orders
    plus = _psql(shop, "\\d+ customers")
    assert _rows(plus)["email"][-1] == "their mail"
    view = _psql(shop, "\\d+ big_customers")
    assert 'View "main.big_customers"' in view and list(_rows(view)) == ["id", "name"]
    assert "View definition:" in view and "FROM customers WHERE (score > 10)" in view
    assert 'Table "other.items"' in _psql(shop, "\\d other.items")


def test_catalogue_rewrites_leave_literals_and_comments_alone(shop: Server) -> None:
    with psycopg.connect(shop.url(), autocommit=True) as conn:
        got = conn.execute("SELECT 'x::regclass CAST(y AS REGCLASS) current_setting($1)' /* c::regclass */, "
                           "'customers'::regclass = 'main.customers'::pg_catalog.regclass, "
                           "CAST(%s AS REGCLASS) IS NULL", ("pg_catalog.no_such_table",)).fetchone()
        assert got == ("x::regclass CAST(y AS REGCLASS) current_setting($1)", True, True)
        oid = conn.execute("SELECT oid FROM pg_catalog.pg_class WHERE relname = 'customers'").fetchone()
        # a regclass result prints as the relation's name, as PostgreSQL's; cast to oid, it is the number
        assert conn.execute("SELECT 'customers'::regclass, 'customers'::regclass::oid").fetchone() == ("customers", *oid)
        # a parameter names a setting too (SQLAlchemy with psycopg 3); an unknown one is still an error
        assert conn.execute("SELECT current_setting(%s)", ("TimeZone",)).fetchone()[0]
        with pytest.raises(psycopg.Error) as err:
            conn.execute("SELECT current_setting(%s)", ("no_such_setting",))
        assert err.value.sqlstate == "42704"
        # the catalogue objects are temporary, in memory: the server's security settings stay as they were
        assert conn.execute("SELECT current_setting('enable_external_access'), "
                            "current_setting('lock_configuration')").fetchone() == (False, True)



def test_catalogue_rewrites_leave_a_users_own_query_alone(shop: Server) -> None:
    """The rewrites run on every statement: a user's column named indkey (or an array column whose name ends so)
    is no pg_index column, and format() with DuckDB's {} placeholders is DuckDB's, whatever % it prints."""
    with psycopg.connect(shop.url(), autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE readings (indkey INTEGER, windkey INTEGER[], indoption VARCHAR)")
        conn.execute("INSERT INTO readings VALUES (5, [7, 8], 'x')")
        for prepare in (False, True):
            cur = conn.execute("SELECT indkey, windkey[1], r.indoption, format('{} is %Low', indkey) FROM readings r",
                               prepare=prepare)
            assert cur.fetchall() == [(5, 7, "x", "5 is %Low")]
            assert [d.name for d in cur.description][:3] == ["indkey", "windkey", "indoption"]  # PostgreSQL's names


def test_pg_user_pg_authid_and_pg_shadow_are_the_one_role(shop: Server) -> None:
    """pgAdmin, DataGrip and DBeaver read the user catalogues (were "Table with name pg_user does not exist"): the
    one role pg_roles shows (current_user, oid 0, owner of every table), with PostgreSQL's columns and no password:
    pg_user shows it masked, as PostgreSQL does, pg_authid and pg_shadow NULL; no groups."""
    with psycopg.connect(shop.url(user="alice"), autocommit=True) as conn:
        role = conn.execute("SELECT rolname, oid, rolsuper, rolcreatedb, rolreplication, rolbypassrls, rolvaliduntil, "
                            "rolconfig FROM pg_catalog.pg_roles").fetchall()
        assert role == [("duckdb", 0, False, False, False, False, None, None)]
        cur = conn.execute("SELECT * FROM pg_catalog.pg_user")
        assert [d.name for d in cur.description] == ["usename", "usesysid", "usecreatedb", "usesuper", "userepl",
                                                     "usebypassrls", "passwd", "valuntil", "useconfig"]
        assert cur.fetchall() == [("duckdb", 0, False, False, False, False, "********", None, None)]
        cur = conn.execute('SELECT * FROM "pg_catalog"."pg_shadow"')
        assert [d.name for d in cur.description] == ["usename", "usesysid", "usecreatedb", "usesuper", "userepl",
                                                     "usebypassrls", "passwd", "valuntil", "useconfig"]
        assert cur.fetchall() == [("duckdb", 0, False, False, False, False, None, None, None)]
        cur = conn.execute("SELECT * FROM pg_authid")
        assert [d.name for d in cur.description] == ["oid", "rolname", "rolsuper", "rolinherit", "rolcreaterole",
                                                     "rolcreatedb", "rolcanlogin", "rolreplication", "rolbypassrls",
                                                     "rolconnlimit", "rolpassword", "rolvaliduntil"]
        assert cur.fetchall() == [(0, "duckdb", False, True, False, False, True, False, False, -1, None, None)]
        # pgAdmin's check on connecting, and a table's owner by name
        assert conn.execute("SELECT usesuper, usecreatedb FROM pg_catalog.pg_user WHERE usename = current_user"
                            ).fetchall() == [(False, False)]
        assert conn.execute("SELECT u.usename FROM pg_catalog.pg_class c JOIN pg_catalog.pg_user u ON "
                            "u.usesysid = c.relowner WHERE c.relname = 'customers'").fetchall() == [("duckdb",)]
        assert conn.execute("SELECT a.rolname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_authid a ON "
                            "a.oid = c.relowner WHERE c.relname = 'customers'").fetchall() == [("duckdb",)]
        cur = conn.execute("SELECT * FROM pg_catalog.pg_group")
        assert [d.name for d in cur.description] == ["groname", "grosysid", "grolist"] and cur.fetchall() == []
        assert conn.execute("SELECT count(*) FROM pg_catalog.pg_user_mappings").fetchall() == [(0,)]


# The shape of Npgsql's type loading at connect (Power BI Desktop's PostgreSQL connector is Npgsql): one simple
# Query with several statements, read in text; each type's receive function joined from pg_proc by oid, arrays told
# by that function being array_recv. Npgsql 4 (older Power BI) joins pg_proc with an INNER JOIN, so a type whose
# typreceive names no pg_proc row is not loaded at all. Written here in that shape, not copied from Npgsql.
_NPGSQL_LIKE_TYPES = """SELECT version();
SELECT ns.nspname, t.oid, t.typname,
  CASE WHEN p.proname = 'array_recv' THEN 'a' ELSE t.typtype END AS kind,
  CASE WHEN p.proname = 'array_recv' THEN t.typelem WHEN t.typtype = 'd' THEN t.typbasetype END AS elem,
  t.typnotnull, e.typtype AS elemkind
FROM pg_type AS t
JOIN pg_namespace AS ns ON ns.oid = t.typnamespace
JOIN pg_proc AS p ON p.oid = t.typreceive
LEFT JOIN pg_type AS e ON e.oid = t.typelem
LEFT JOIN pg_proc AS ep ON (ep.oid = e.typreceive)
LEFT JOIN pg_range ON (pg_range.rngtypid = t.oid)
LEFT JOIN pg_class AS c ON c.oid = t.typrelid
WHERE t.typtype IN ('b', 'e', 'd', 'r') OR (t.typtype = 'c' AND c.relkind = 'c')
ORDER BY CASE WHEN p.proname = 'array_recv' THEN 1 ELSE 0 END, t.oid;
SELECT typ.oid, att.attname FROM pg_type AS typ JOIN pg_class AS cls ON cls.oid = typ.typrelid
JOIN pg_attribute AS att ON att.attrelid = typ.typrelid WHERE typ.typtype = 'c' AND cls.relkind = 'c';
SELECT pg_type.oid, enumlabel FROM pg_enum JOIN pg_type ON pg_type.oid = enumtypid ORDER BY oid, enumsortorder;
"""


def test_npgsql_type_loading_lists_base_array_and_enum_types(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Was: Conversion Error "Could not convert string 'array_recv' to INT64" (typreceive is a function's name
    here, PostgreSQL's regproc an oid), so Npgsql, and Power BI with it, could not connect."""
    path = str(tmp_path_factory.mktemp("npgsql") / "moods.duckdb")
    con = duckdb.connect(path)
    con.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy'); CREATE TABLE t (m mood, x INTEGER[])")
    con.close()
    with serve(path) as s, psycopg.connect(s.url(), autocommit=True) as conn:
        cur = conn.execute(_NPGSQL_LIKE_TYPES.replace("\n", "\r\n"), prepare=False)  # \r\n: Windows, as Power BI
        assert cur.fetchone()[0].startswith("PostgreSQL 15")
        assert cur.nextset()
        rows = {r[2]: r for r in cur.fetchall()}
        for name, oid in [("bool", 16), ("int4", 23), ("int8", 20), ("float8", 701), ("text", 25), ("varchar", 1043),
                          ("numeric", 1700), ("date", 1082), ("timestamp", 1114), ("timestamptz", 1184),
                          ("uuid", 2950), ("bytea", 17), ("json", 114)]:
            assert rows[name][:5] == ("pg_catalog", oid, name, "b", None), rows.get(name)
        assert rows["_int4"][1:5] == (1007, "_int4", "a", 23) and rows["_int4"][6] == "b"
        assert rows["_float8"][3:5] == ("a", 701) and rows["_text"][3:5] == ("a", 25)
        assert rows["mood"][0] == "main" and rows["mood"][3] == "e"
        assert all(r[5] is False for r in rows.values())
        assert cur.nextset() and cur.fetchall() == []  # no free-standing composite types in DuckDB
        assert cur.nextset() and cur.fetchall() == [(rows["mood"][1], x) for x in ("sad", "ok", "happy")]
        assert not cur.nextset()
        # PostgreSQL's regproc prints the function's name
        assert conn.execute("SELECT typreceive, typinput FROM pg_type WHERE typname = '_int4'").fetchone() == (
            "array_recv", "array_in")
        assert conn.execute("SELECT p.proname FROM pg_type t JOIN pg_proc p ON p.oid = t.typreceive "
                            "WHERE t.typname = 'int4'").fetchall() == [("int4recv",)]


def test_regproc_join_rewrite_leaves_a_users_own_typinput_column(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Was: any ``X.oid = Y.typinput`` became ``X.oid = pg_regproc_oid(Y.typinput)`` (NULL for every value but a
    catalogue function's name), so a user's own tables with such columns joined to no row at all, silently."""
    path = str(tmp_path_factory.mktemp("regproc") / "own.duckdb")
    con = duckdb.connect(path)
    con.execute("CREATE TABLE parts (oid INTEGER, typinput INTEGER); INSERT INTO parts VALUES (1, 1), (2, 3);"
                "CREATE TABLE kinds (oid INTEGER); INSERT INTO kinds VALUES (1), (3)")
    con.close()
    with serve(path) as s, psycopg.connect(s.url(), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM kinds k JOIN parts p ON k.oid = p.typinput").fetchone() == (2,)
        assert conn.execute("SELECT count(*) FROM parts p JOIN kinds k ON p.typinput = k.oid").fetchone() == (2,)
        # the catalogue's own join still finds the function
        assert conn.execute("SELECT p.proname FROM pg_type t JOIN pg_proc p ON p.oid = t.typinput "
                            "WHERE t.typname = '_int4'").fetchall() == [("array_in",)]


# psql 15's \d, as `psql -E` prints it (\dt is the same with relkind IN ('r','p',''))
PSQL_D_QUERY = """SELECT n.nspname as "Schema",
  c.relname as "Name",
  CASE c.relkind WHEN 'r' THEN 'table' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'i' THEN 'index' WHEN 'S' THEN 'sequence' WHEN 't' THEN 'TOAST table' WHEN 'f' THEN 'foreign table' WHEN 'p' THEN 'partitioned table' WHEN 'I' THEN 'partitioned index' END as "Type",
  pg_catalog.pg_get_userbyid(c.relowner) as "Owner"
FROM pg_catalog.pg_class c
     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam
WHERE c.relkind IN ('r','p','v','m','S','f','')
      AND n.nspname <> 'pg_catalog'
      AND n.nspname !~ '^pg_toast'
      AND n.nspname <> 'information_schema'
  AND pg_catalog.pg_table_is_visible(c.oid)
ORDER BY 1,2;"""  # noqa: E501 (as psql sends it)


def test_psql_d_lists_the_sessions_temporary_tables_as_postgresql_does(shop: Server) -> None:
    """psql's \\d and \\dt left out the session's temporary tables and views (DuckDB's temp schema was no row of
    pg_namespace, so the join gave no schema); PostgreSQL lists them in the session's pg_temp_N schema. The
    server's own catalogue views, temporary too, stay out, and another session's temporary tables are not listed."""
    psql = shutil.which("psql")
    assert psql, PSQL_MISSING
    script = ("CREATE TEMP TABLE scratch (x INT);\nCREATE TEMP VIEW scratch_v AS SELECT 1 AS y;\n"
              "SELECT 'pid=' || pg_backend_pid() AS p;\n\\d\n\\dt\n\\dv\n\\d scratch\n\\df\n")
    r = subprocess.run([psql, shop.url(), "-X", "-v", "ON_ERROR_STOP=1"], input=script, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and "ERROR" not in r.stderr, r.stderr
    pid = r.stdout.split("pid=", 1)[1].split()[0]
    lists = [[[x.strip() for x in line.split("|")] for line in part.splitlines() if line.count("|") == 3]
             for part in r.stdout.split("List of relations")[1:]]
    d, dt, dv = ([row[:3] for row in rows[1:]] for rows in lists)
    temp = f"pg_temp_{pid}"
    assert d == [["main", "big_customers", "view"], ["main", "customers", "table"], ["main", "orders", "table"],
                 ["main", "plain", "table"], [temp, "scratch", "table"], [temp, "scratch_v", "view"]], r.stdout
    assert dt == [row for row in d if row[2] == "table"] and dv == [row for row in d if row[2] == "view"]
    assert f'Table "{temp}.scratch"' in r.stdout and "x      | integer" in r.stdout, r.stdout
    assert "(0 rows)" in r.stdout.split("List of functions")[1], r.stdout  # the server's own macros stay out
    with psycopg.connect(shop.url(), autocommit=True) as conn, psycopg.connect(shop.url(), autocommit=True) as other:
        conn.execute("CREATE TEMP TABLE mine (x INT)")
        listed = conn.execute(PSQL_D_QUERY).fetchall()
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        assert (f"pg_temp_{pid}", "mine", "table", "duckdb") in listed
        assert not [row for row in listed if row[0] != "main" and row[1] != "mine"], listed
        assert not [row for row in other.execute(PSQL_D_QUERY).fetchall() if row[1] == "mine"]
        assert conn.execute("SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname LIKE 'pg\\_temp\\_%'"
                            ).fetchall() == [(f"pg_temp_{pid}",)]


def test_pg_database_lists_no_duckdb_internal_database(shop: Server) -> None:
    """pg_database listed DuckDB's own system and temp databases beside the served file: psql's \\l showed three
    databases, and DBeaver with "Show all databases" (its query below) three database nodes, each connecting to the
    same file (the server serves one, whatever name a client asks for), every table listed thrice."""
    psql = shutil.which("psql")
    assert psql, PSQL_MISSING
    with psycopg.connect(shop.url(), autocommit=True, cursor_factory=psycopg.RawCursor) as conn:
        rows = conn.execute("SELECT db.oid,db.*\nFROM pg_catalog.pg_database db WHERE NOT datistemplate AND "
                            "datallowconn\nORDER BY db.datname").fetchall()
        assert len(rows) == 1 and "shop" in rows[0], rows
        assert conn.execute("SELECT datname FROM pg_catalog.pg_database").fetchall() == [("shop",)]
        assert conn.execute("SELECT count(*) FROM pg_catalog.pg_database db WHERE NOT datistemplate AND "
                            "datallowconn AND db.datname = $1", ["shop"]).fetchall() == [(1,)]
    r = subprocess.run([psql, shop.url(), "-X", "-A", "-t", "-c", "\\l"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and [line.split("|")[0] for line in r.stdout.splitlines()] == ["shop"], (r.stdout,
                                                                                                    r.stderr)


def test_pg_tables_and_pg_views_list_what_pg_class_lists(shop: Server) -> None:
    """pg_views was DuckDB's, over every view it has: DuckDB's own (duckdb_columns, duckdb_logs, ...) and the
    server's session views (pg_class, pg_type, ...) were views of schema main, 69 of them beside the one the file
    has (Metabase's table privileges, which read it, listed them as the user's tables); pg_tables put the session's
    temporary tables in main. Both now list what pg_class does, under the schemas pg_namespace names."""
    with psycopg.connect(shop.url(), autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE scratch (x INT)")
        pid = conn.execute("SELECT pg_backend_pid()").fetchall()[0][0]
        tables = conn.execute("SELECT schemaname, tablename, hasindexes FROM pg_catalog.pg_tables "
                              "ORDER BY 1, 2").fetchall()
        assert tables == [("main", "customers", True), ("main", "orders", True), ("main", "plain", False),
                          ("other", "items", True), (f"pg_temp_{pid}", "scratch", False)]
        views = conn.execute("SELECT schemaname, viewname, definition FROM pg_catalog.pg_views WHERE schemaname "
                             "NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2").fetchall()
        assert [v[:2] for v in views] == [("main", "big_customers"), ("other", "items_v")]
        assert views[0][2].startswith("SELECT id, \"name\" FROM customers") or "FROM customers" in views[0][2]
        assert conn.execute("SELECT count(*) FROM pg_catalog.pg_views WHERE schemaname = 'pg_catalog'"
                            ).fetchall()[0][0] > 0  # PostgreSQL lists its catalogue's views too
