"""Names in SQL: every identifier or literal that reaches generated SQL is quoted or parameterised.

Each test tries an injection through one way in (model names, table names, column names with
spaces and quotes, ``into=`` targets, threshold names, sources, ``where=``, the CLI's explain) and
checks that a ``victim`` table survives and that the odd-but-legal names still work.
``source=`` queries and ``where=`` are user SQL by design: they are limited to one SELECT.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli
from ad_duckdb.exceptions import BadInputError, ModelNotFoundError

from conftest import ROOT

ODD_TABLE = 'tx " odd; DROP TABLE victim; --'
ODD_COUNT = 'n of "items"'
ODD_AMOUNT = "amount; DROP TABLE victim --"
ODD_LABEL = "is 'fraud'"
PAYLOADS = [
    "x'; DROP TABLE victim; --",
    'x"; DROP TABLE victim; --',
    "x); DROP TABLE victim; --",
    "x(); DROP TABLE victim; CREATE TABLE y()",
    "victim2 AS SELECT 1; DROP TABLE victim; --",
    "(SELECT 1); DROP TABLE victim",
    "x' OR '1'='1",
    "x\\'; DROP TABLE victim; --",
    "x\n; DROP TABLE victim",
    "x/*", "x--",
]


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def victim_ok(con: duckdb.DuckDBPyConnection) -> bool:
    return con.execute("SELECT count(*) FROM victim").fetchall()[0][0] == 3


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A file database: a victim table, and model odd_ae trained on a table and columns with hostile names."""
    path = tmp_path_factory.mktemp("inj") / "inj.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        con.execute("CREATE TABLE victim AS SELECT * FROM range(3)")
        rng = np.random.default_rng(0)
        count = rng.poisson(8, 600) + 1
        amount = np.round(count * rng.lognormal(3.0, 0.25, 600), 2)
        label = (rng.random(600) < 0.05).astype(int)
        con.execute(
            f"CREATE TABLE {_q(ODD_TABLE)} AS SELECT unnest(?)::INTEGER AS {_q(ODD_COUNT)}, "
            f"unnest(?)::DOUBLE AS {_q(ODD_AMOUNT)}, unnest(?)::INTEGER AS {_q(ODD_LABEL)}, unnest(?)::BIGINT AS id",
            [count.tolist(), amount.tolist(), label.tolist(), list(range(600))],
        )
        info = ad_duckdb.train(con, "odd_ae", ODD_TABLE, features=[ODD_COUNT, ODD_AMOUNT], n_models=1,
                               max_steps=200, progress=False)
        assert info.features == [ODD_COUNT, ODD_AMOUNT]
        assert victim_ok(con)
    finally:
        con.close()
    yield path


@pytest.fixture
def con(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    c = ad_duckdb.connect(str(db))
    try:
        yield c
        assert victim_ok(c)  # after every test: the victim table survived
    finally:
        c.close()


def test_odd_table_and_column_names_work_end_to_end(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    cols = f"{_q(ODD_COUNT)}, {_q(ODD_AMOUNT)}"
    sql_scores = [r[0] for r in con.execute(f"SELECT anomaly_score('odd_ae', {cols}) FROM {_q(ODD_TABLE)} ORDER BY id")
                  .fetchall()]
    into = 'scores "x"; DROP TABLE victim; --'
    n = ad_duckdb.score(con, "odd_ae", ODD_TABLE, into=into, columns=["id", ODD_LABEL], explain=True)
    assert n == 600
    bulk = [r[0] for r in con.execute(f"SELECT anomaly_score FROM {_q(into)} ORDER BY id").fetchall()]
    np.testing.assert_allclose(bulk, sql_scores, rtol=1e-6)
    # The explanation names the odd columns exactly.
    names = {p["feature"] for r in con.execute(f"SELECT anomaly_explain FROM {_q(into)}").fetchall() for p in r[0]}
    assert names == {ODD_COUNT, ODD_AMOUNT}
    rep = ad_duckdb.evaluate(con, "odd_ae", ODD_TABLE, label=ODD_LABEL, where=f"{_q(ODD_LABEL)} IN (0, 1)",
                             into="eval; DROP TABLE victim")
    assert rep.rows == 600
    assert con.execute('SELECT count(*) > 0 FROM "eval; DROP TABLE victim"').fetchall()[0][0]
    th = ad_duckdb.set_threshold(con, "odd_ae", "best; DROP TABLE victim", "max_f1", source=ODD_TABLE, label=ODD_LABEL)
    assert th.name == "best; DROP TABLE victim"
    p = ad_duckdb.export_model(con, "odd_ae", tmp_path / "odd.onnx")
    assert ad_duckdb.import_model(con, p, name="odd_copy").features == [ODD_COUNT, ODD_AMOUNT]


@pytest.mark.parametrize("payload", [p for p in PAYLOADS if p != "x--"])  # 'x--' is a legal model name
def test_model_names_are_validated_or_parameterised(con: duckdb.DuckDBPyConnection, payload: str,
                                                    tmp_path: Path) -> None:
    before = con.execute("SELECT count(*) FROM ad_models").fetchall()[0][0]
    with pytest.raises(BadInputError, match=r"is not valid: use letters, digits"):
        ad_duckdb.train(con, payload, ODD_TABLE, features=[ODD_COUNT, ODD_AMOUNT], n_models=1, max_steps=10)
    p = ad_duckdb.export_model(con, "odd_ae", tmp_path / "m.onnx")
    with pytest.raises(BadInputError, match=r"is not valid"):
        ad_duckdb.import_model(con, p, name=payload)
    for call in (lambda: ad_duckdb.load_model(con, payload), lambda: ad_duckdb.drop_model(con, payload),
                 lambda: ad_duckdb.score(con, payload, ODD_TABLE),
                 lambda: ad_duckdb.set_threshold(con, payload, "t", "manual", value=1.0)):
        # refused by a name check or looked up as a bound value; either way the message quotes the name back whole
        with pytest.raises((ModelNotFoundError, BadInputError), match=re.escape(repr(payload))):
            call()
    with pytest.raises(duckdb.InvalidInputException, match=r"ModelNotFoundError|BadInputError"):
        con.execute("SELECT anomaly_score(?, 1, 2)", [payload]).fetchall()
    assert con.execute("SELECT count(*) FROM ad_models").fetchall()[0][0] == before


@pytest.mark.parametrize("payload", PAYLOADS)
def test_into_targets_are_quoted(con: duckdb.DuckDBPyConnection, payload: str) -> None:
    n = ad_duckdb.score(con, "odd_ae", ODD_TABLE, into=payload, columns=["id"], replace=True)
    assert n == 600
    # The table exists under exactly that name: the text was an identifier, not SQL.
    assert con.execute(f"SELECT count(*) FROM {_q(payload.strip())}").fetchall()[0][0] == 600
    ad_duckdb.evaluate(con, "odd_ae", ODD_TABLE, label=ODD_LABEL, into=payload + "_eval")
    assert con.execute(f"SELECT count(*) > 0 FROM {_q(payload.strip() + '_eval')}").fetchall()[0][0]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_threshold_names_are_parameterised(con: duckdb.DuckDBPyConnection, payload: str) -> None:
    ad_duckdb.set_threshold(con, "odd_ae", payload, "manual", value=0.125)
    assert con.execute("SELECT anomaly_threshold('odd_ae', ?)", [payload]).fetchall()[0][0] == 0.125
    stored = con.execute("SELECT value FROM ad_thresholds WHERE model = 'odd_ae' AND threshold_name = ?",
                         [payload]).fetchall()
    assert stored == [(0.125,)]
    got = con.execute(f"SELECT is_anomaly_at('odd_ae', ?, {_q(ODD_COUNT)}, {_q(ODD_AMOUNT)}) FROM {_q(ODD_TABLE)}",
                      [payload]).fetchall()
    assert len(got) == 600


SEVERAL = r"must be one table, view, table function or SELECT query, not several statements"
SOURCES = [  # each with why it is refused: several statements, or (a bare name) one quoted name that does not exist
    ("range(3); DROP TABLE victim; SELECT (1)", SEVERAL),
    ("SELECT 1; DROP TABLE victim", SEVERAL),
    ('"victim"; DROP TABLE victim', SEVERAL),
    ("victim; DROP TABLE victim", r"Table with name victim; DROP TABLE victim does not exist"),
    ("read_csv('/etc/passwd'); DROP TABLE victim; SELECT (1)", SEVERAL),
    ("(SELECT 1) AS x; DROP TABLE victim; SELECT (1)", SEVERAL),
]


@pytest.mark.parametrize(("source", "why"), SOURCES)
def test_sources_cannot_smuggle_a_second_statement(con: duckdb.DuckDBPyConnection, source: str, why: str) -> None:
    # Before: a query source with a `;` (SELECT 1; DROP ...) was refused as "not valid SQL here (Parser Error ...)"
    # quoting our SELECT * FROM (...) around it, not as the several statements it was.
    for call in (lambda: ad_duckdb.train(con, "never", source, n_models=1, max_steps=10),
                 lambda: ad_duckdb.score(con, "odd_ae", source, into="never_scores"),
                 lambda: ad_duckdb.evaluate(con, "odd_ae", source, label="x")):
        with pytest.raises(BadInputError, match=re.escape(repr(source)) + ".*" + why):
            call()
    assert "never" not in {m["name"] for m in ad_duckdb.list_models(con)}


WHERES = [
    "1=1; DROP TABLE victim",
    "true); DROP TABLE victim; --",
    "1=1; DROP TABLE victim; SELECT 1 WHERE (1=1",
    "true /* ; DROP TABLE victim */; DROP TABLE victim",
]


@pytest.mark.parametrize("where", WHERES)
def test_where_is_one_expression(con: duckdb.DuckDBPyConnection, where: str) -> None:
    # Before: a filter was told it "must be one table, view, table function or SELECT query", or got a parser error
    # quoting our WHERE (...) around it.
    refused = (r"The filter " + re.escape(repr(where))
               + r" must be one condition, such as \"label = 0\", not several statements")
    with pytest.raises(BadInputError, match=refused):
        ad_duckdb.train(con, "never", ODD_TABLE, features=[ODD_COUNT, ODD_AMOUNT], where=where, n_models=1,
                        max_steps=10)
    with pytest.raises(BadInputError, match=refused):
        ad_duckdb.evaluate(con, "odd_ae", ODD_TABLE, label=ODD_LABEL, where=where)


ESCAPES = [
    "1=1) UNION ALL SELECT 1, 2 FROM (SELECT 1",
    "true) OR (true",
    "id < 300) AS _x, (SELECT 1",
]


@pytest.mark.parametrize("where", ESCAPES)
def test_where_cannot_close_our_parenthesis(con: duckdb.DuckDBPyConnection, where: str) -> None:
    # Before: a filter closing the parenthesis ad_duckdb puts around it was still one SELECT, so it was run: the
    # UNION trained a model on a row the table does not hold (train stored 'never' on 601 rows).
    refused = (r"The filter " + re.escape(repr(where)) + r" closes a parenthesis it did not open")
    with pytest.raises(BadInputError, match=refused):
        ad_duckdb.train(con, "never", ODD_TABLE, features=[ODD_COUNT, ODD_AMOUNT], where=where, n_models=1,
                        max_steps=10, progress=False)
    with pytest.raises(BadInputError, match=refused):
        ad_duckdb.evaluate(con, "odd_ae", ODD_TABLE, label=ODD_LABEL, where=where)
    assert "never" not in {m["name"] for m in ad_duckdb.list_models(con)}


def test_where_with_balanced_parentheses_still_works(con: duckdb.DuckDBPyConnection) -> None:
    # A ')' inside a string or a comment is not a parenthesis of the SQL.
    rep = ad_duckdb.evaluate(con, "odd_ae", ODD_TABLE, label=ODD_LABEL,
                             where="(id < 300) AND ')' <> '(' -- closes ) here")
    assert rep.rows == 300


@pytest.mark.parametrize("where", ["1=1;", "1=1 ;  ", "1=1; -- pasted"])
def test_a_where_ending_in_a_semicolon_is_told_to_drop_it(con: duckdb.DuckDBPyConnection, where: str) -> None:
    # Before: a filter pasted with its statement's ';' got the parser's error, quoting our
    # "SELECT * FROM (SELECT 1) AS _w WHERE (1=1;" around it, which the user never wrote.
    told = f"The filter {where!r} must be one condition, such as \"label = 0\", without the ';' at its end"
    for call in (lambda: ad_duckdb.train(con, "never", ODD_TABLE, features=[ODD_COUNT, ODD_AMOUNT], where=where,
                                         n_models=1, max_steps=10),
                 lambda: ad_duckdb.evaluate(con, "odd_ae", ODD_TABLE, label=ODD_LABEL, where=where)):
        with pytest.raises(BadInputError) as e:
            call()
        msg = str(e.value)
        assert told in msg and "_w" not in msg and "Parser Error" not in msg, msg


def test_where_with_a_trailing_comment_still_works(con: duckdb.DuckDBPyConnection) -> None:
    rep = ad_duckdb.evaluate(con, "odd_ae", ODD_TABLE, label=ODD_LABEL, where="id < 300 -- first half")
    assert rep.rows == 300


def test_cli_explain_quotes_everything(db: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["explain", str(db), "odd_ae", ODD_TABLE, "--where", "id = 7"])
    assert ok.exit_code == 0, ok.output
    assert ODD_COUNT in ok.output and ODD_AMOUNT in ok.output
    for args in (["explain", str(db), "odd_ae'; DROP TABLE victim; --", ODD_TABLE, "--where", "id = 7"],
                 ["explain", str(db), "odd_ae", ODD_TABLE, "--where", "id = 7; DROP TABLE victim"],
                 ["explain", str(db), "odd_ae", "range(3); DROP TABLE victim; SELECT (1)", "--where", "true"],
                 ["score", str(db), "odd_ae", ODD_TABLE, "--into", "x'; DROP TABLE victim; --", "--replace"],
                 ["train", str(db), "x'; DROP TABLE victim", ODD_TABLE, "--quiet"]):
        res = runner.invoke(cli, args)
        if args[0] == "score":
            assert res.exit_code == 0, res.output  # a table with that literal name
        else:
            assert res.exit_code != 0 and "Error" in res.output, (args, res.output)
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert victim_ok(con)
        assert con.execute("""SELECT count(*) FROM "x'; DROP TABLE victim; --\"""").fetchall()[0][0] == 600
    finally:
        con.close()


# --- a static check: what the package interpolates into SQL --------------------------------------

# Calls whose result is safe to interpolate (they quote, or reduce to an int), and names that hold only
# such results (checked where they are built; listed so that a new interpolation needs a review).
# compare._scores_sql: anomaly_score(quote_literal(ref), quote_ident(column), ...)
_QUOTING_CALLS = {"quote_ident", "quote_literal", "source_sql", "table_sql", "where_sql", "int", "_scores_sql"}
_REVIEWED_NAMES = {
    # dbtcallmodels: DuckDB's own json_deserialize_sql of a view's parsed query (its parser's tree, written back)
    "deserialized",
    # firstappend: quote_ident'ed names with SCORE_TYPES or the types DuckDB's DESCRIBE gives
    "placeholder_items", "placeholder_cols",
    # categorical.choose_categories: SELECT quote_ident(column) FROM source_sql(source) with where_sql(where)
    "column_rows",
    "_COLS", "_TOKEN_FN", "_DIGEST", "_THRESHOLD_COLS",  # module constants
    "SEARCH_PATH_SQL",           # pgcatalogsql's fixed expression of the search path (SHOW search_path)
    "_TEMP_KINDS",               # server DISCARD: fixed words, looked up (a subscript of it is allowed)
    "extra_sql", "fsql", "cols",  # joins of quote_ident(...)
    "target",                     # table_sql(into)
    "ref", "args",                # cli explain: ref is quote_literal(model); args joins quote_ident(...)
    "terms",                      # cli explain: "" or anomaly_terms(ref, args) of the two above
    "scores", "counts",           # compare: anomaly_score(quote_literal(ref), quote_ident...); fixed aggregates
    # compare: source_sql(source) + where_sql(where), or the fixed name of the registered labelled scores
    "scored",
    "label_cols", "label_read",   # compare._labelled_rows: quote_ident(label / weight) and their CASTs
    # serve's COPY FROM STDIN: the table and column list as the client's own COPY statement wrote them (SQL it could
    # run as it is); exprs and nulls are fixed templates over the batch's columns c0, c1, ...
    "table", "exprs", "nulls", "_BATCH_VIEW",
    # timeplot: epoch_us(CAST(quote_ident(time) ...)) and coalesce(CAST(quote_ident(label) ...) = 1, false)
    "t_us_sql", "lab_sql",
    # timeplot: t_us_sql minus int(lo), or its least(... // int(width), int(...)), in CASE WHEN t_us_sql IS NOT NULL
    "bucket",
    "items",                      # appendrepeats.id_column: fixed aggregates of quote_ident(candidate) each
    "from_item",                  # callerview: source_sql(source) or table_sql(into), as its callers pass it
    # catalognames.quoting_fix: each part quote_ident(...) or a quoted part the user wrote, the whole checked to be a
    # dotted name (name_parts) before it is run
    "fixed",
    # score(into=): quote_ident(column), or CAST(quote_ident(column) AS type) with the type as DuckDB's DESCRIBE of the
    # source renders it (its own SQL, literals escaped: ENUM('it''s'))
    "typed_sql",
    # intotable.check_append_types: can_cast_implicitly(NULL::type, NULL::type), each type as DuckDB's DESCRIBE of
    # the table or the source renders it, or a fixed one of SCORE_TYPES
    "new_type_sql", "held_type_sql",
    # totalsrow.scored_totals_note: table_sql(into), or "__scored" (the registered top rows) and source_sql(source);
    # sums joins sum(quote_ident(feature)::DOUBLE), count(*) FILTER (WHERE quote_ident(feature) <> 0)
    "top_from", "sums_from", "sums",
    # intotable.check_append_values: guarded(quote_ident(column), ...) and its condition, with quote_literal texts and
    # the types as DuckDB's DESCRIBE renders them (as new_type_sql / held_type_sql)
    "guards", "lost_sql",
    # appendrepeats.Split: a table_sql(into) target, or "(SELECT * FROM target WHERE rowid <= $1)" of it, or the
    # fixed name of the staged rows (partitionreplace.STAGED)
    "held_rows", "added_rows",
    # partitionreplace: the fixed name of the temporary table of a run's rows; "o.c IS NOT DISTINCT FROM p.c" of
    # quote_ident(column) each, joined by AND; and quote_ident(column) each joined by ", "
    "staged", "STAGED", "keys_match", "cols_sql",
    # replacewhere: clause is where_sql(replace_where) (one condition, checked as where= is); new_rows is target or the
    # fixed name of the staged rows (partitionreplace.STAGED)
    "clause", "new_rows",
}


def test_package_interpolates_only_quoted_values_into_sql() -> None:
    bad: list[str] = []
    # every module, so that a new one is covered without being listed
    for path in sorted((ROOT / "ad_duckdb").glob("*.py")):
        mod = path.stem
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("execute", "executemany", "sql", "query") and node.args):
                continue
            arg = node.args[0]
            if not isinstance(arg, ast.JoinedStr):
                continue
            for v in arg.values:
                if not isinstance(v, ast.FormattedValue):
                    continue
                e = v.value
                if isinstance(e, ast.Subscript) and isinstance(e.value, ast.Name) and e.value.id.startswith("_"):
                    e = e.value  # a lookup in a module constant (a KeyError, never other text, for a stray key)
                ok = (isinstance(e, ast.Name) and e.id in _REVIEWED_NAMES) or (
                    isinstance(e, ast.Call) and isinstance(e.func, ast.Name) and e.func.id in _QUOTING_CALLS)
                if not ok:
                    bad.append(f"{mod}.py:{node.lineno}: {{{ast.unparse(e)}}}")
    assert bad == [], "SQL built from unquoted values; quote them (sqltext.quote_ident / table_sql) or use ? params"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_alarm_rate_time_column_and_where_are_quoted_or_refused(con: duckdb.DuckDBPyConnection, payload: str) -> None:
    """threshold --method alarm_rate reads a time column by name and the rows of --where: an odd time column name
    works quoted, a name that is no column is refused by name, and a --where that is no filter runs no statement."""
    odd_time = 'at "when"; DROP TABLE victim; --'
    con.execute(f"CREATE OR REPLACE VIEW odd_times AS SELECT *, TIMESTAMP '2024-01-01' + INTERVAL 1 MINUTE * id "
                f"AS {_q(odd_time)} FROM {_q(ODD_TABLE)}")
    th = ad_duckdb.set_threshold(con, "odd_ae", "odd_rate", "alarm_rate", source="odd_times", per_hour=3, time=odd_time)
    assert "flags 30 of 600 rows" in (th.chosen_on or "")
    with pytest.raises(BadInputError, match="is not in 'odd_times'"):
        ad_duckdb.set_threshold(con, "odd_ae", "odd_rate", "alarm_rate", source="odd_times", per_hour=3, time=payload)
    with pytest.raises(BadInputError):
        ad_duckdb.set_threshold(con, "odd_ae", "odd_rate", "alarm_rate", source="odd_times", rate=0.05, where=payload)


def test_a_weight_column_of_odd_name_is_read_as_a_name(con: duckdb.DuckDBPyConnection) -> None:
    """evaluate / set_threshold weight=: the column's name is quoted as one, and a payload that names no column is
    refused as a missing column, the victim table intact."""
    odd = 'w"; DROP TABLE victim; --'
    src = f"SELECT *, 2.0 AS {_q(odd)} FROM {_q(ODD_TABLE)}"
    rep = ad_duckdb.evaluate(con, "odd_ae", src, label=ODD_LABEL, weight=odd)
    assert rep.weights is not None and rep.weights["rows"] == 1200.0
    th = ad_duckdb.set_threshold(con, "odd_ae", "weighted best", "max_f1", source=src, label=ODD_LABEL, weight=odd)
    assert f"weighted by {odd}: " in (th.chosen_on or "")
    for payload in PAYLOADS:
        with pytest.raises(ad_duckdb.SourceNotFoundError, match="is not in"):
            ad_duckdb.evaluate(con, "odd_ae", ODD_TABLE, label=ODD_LABEL, weight=payload)
