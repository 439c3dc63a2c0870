"""A warehouse's awkward names (unicode, spaces, quotes, reserved words) through train, score, explain and notes."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb import sqltext
from ad_duckdb.cli import cli

from conftest import FAST


@pytest.fixture
def german(tmp_path: Path) -> Iterator[str]:
    """A file database with schema Vertrieb and table Verkäufe (columns "Betrag €", 数量, "Is Fraud?")."""
    path = str(tmp_path / "lager.duckdb")
    con = duckdb.connect(path)
    rng = np.random.default_rng(0)
    n = 600
    con.execute("CREATE SCHEMA Vertrieb")
    con.execute('CREATE TABLE Vertrieb.Verkäufe AS SELECT unnest(?)::DOUBLE AS "Betrag €", '
                'unnest(?)::INTEGER AS 数量, unnest(?)::INTEGER AS "Is Fraud?"',
                [rng.normal(100, 10, n).tolist(), rng.integers(1, 10, n).tolist(),
                 (rng.random(n) < 0.05).astype(int).tolist()])
    con.close()
    yield path


@pytest.fixture
def con(tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection on a fresh database file, closed after the test."""
    c = ad_duckdb.connect(str(tmp_path / "w.duckdb"))
    yield c
    c.close()


@pytest.mark.parametrize("name, parts", [
    ("Vertrieb.Verkäufe", ["Vertrieb", "Verkäufe"]),
    ("Größe", ["Größe"]),
    ('lake."Raw Zone".数量_2024', ["lake", "Raw Zone", "数量_2024"]),
])
def test_a_non_ascii_bare_name_is_split_as_duckdb_reads_it(name: str, parts: list[str]) -> None:
    # DuckDB reads any non-ASCII letter as part of a bare identifier: Vertrieb.Verkäufe is schema and table
    assert sqltext.name_parts(name) == parts
    assert sqltext.table_sql(name) == ".".join(sqltext.quote_ident(p) for p in parts)
    assert sqltext.source_sql(name) == ".".join(sqltext.quote_ident(p) for p in parts)


def test_a_unicode_space_is_not_taken_for_part_of_a_bare_name() -> None:
    # DuckDB's parser ends an identifier at a no-break space: such a text is no dotted name, and is quoted whole
    assert sqltext.name_parts("Vertrieb.Ver\u00a0käufe") is None


def test_a_schema_qualified_table_with_an_umlaut_trains_and_scores_into_its_schema(german: str) -> None:
    con = ad_duckdb.connect(german)
    try:
        info = ad_duckdb.train(con, "vk", "Vertrieb.Verkäufe", features=["Betrag €", "数量"], **FAST)
        assert info.train_rows == 600
        ad_duckdb.score(con, "vk", "Vertrieb.Verkäufe", into="Vertrieb.Ergebnisse_ü")
        # into the schema the name says, as DuckDB's own CREATE TABLE Vertrieb.Ergebnisse_ü would put it
        assert con.execute("SELECT count(*) FROM Vertrieb.Ergebnisse_ü").fetchall() == [(600,)]
        assert con.execute("SELECT schema_name FROM duckdb_tables() WHERE table_name = 'Ergebnisse_ü'"
                           ).fetchall() == [("Vertrieb",)]
    finally:
        con.close()


def test_the_cli_scores_a_schema_qualified_table_with_an_umlaut(german: str) -> None:
    res = CliRunner().invoke(cli, ["train", german, "vk", "Vertrieb.Verkäufe", "-f", "Betrag €", "-f", "数量",
                                   "--quiet", "--epochs", "2"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["score", german, "vk", "Vertrieb.Verkäufe", "--into", "Vertrieb.Scores_Ü"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    con = duckdb.connect(german, read_only=True)
    try:
        assert con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE table_name LIKE 'Scores%'"
                           ).fetchall() == [("Vertrieb", "Scores_Ü")]
    finally:
        con.close()


def test_the_label_note_quotes_a_label_named_with_a_space_so_its_fixes_run(con: duckdb.DuckDBPyConnection,
                                                                           tmp_path: Path) -> None:
    """A label named "Is Fraud?" was suggested as where="Is Fraud? = 0" (CLI: --where "Is Fraud? = 0", --label Is
    Fraud?): a syntax error in SQL and two words in a shell. The filter quotes the name; the CLI words are quoted."""
    con.execute('CREATE TABLE t AS SELECT (range % 50)::DOUBLE AS a, (range * 7 % 13)::DOUBLE AS b, '
                '(range % 40 = 0)::INTEGER AS "Is Fraud?" FROM range(600)')
    with pytest.warns(ad_duckdb.AdDuckDBWarning) as got:
        ad_duckdb.train(con, "m", "t", **FAST)
    note = next(str(w.message) for w in got if "named like a label" in str(w.message))
    assert "evaluate with label='Is Fraud?'" in note
    assert """where='"Is Fraud?" = 0'""" in note
    # from the command line, the words, read as a shell reads them, are one --where and one --label of the right text
    db = str(tmp_path / "cli.duckdb")
    with duckdb.connect(db) as other:
        other.execute('CREATE TABLE t AS SELECT (range % 50)::DOUBLE AS a, (range * 7 % 13)::DOUBLE AS b, '
                      '(range % 40 = 0)::INTEGER AS "Is Fraud?" FROM range(600)')
    said = CliRunner().invoke(cli, ["train", db, "m3", "t", "--epochs", "1", "--quiet"]).output
    said = " ".join(said.split())
    assert "evaluate with --label 'Is Fraud?'" in said, said
    cli_where = said.split("(--where ", 1)[1].split("; that leaves", 1)[0]
    assert shlex.split(cli_where) == ['"Is Fraud?" = 0']
    with pytest.warns(ad_duckdb.AdDuckDBWarning, match="holds at one value"):
        info = ad_duckdb.train(con, "m2", "t", where=shlex.split(cli_where)[0], **FAST)
    assert info.features == ["a", "b"]


def test_explain_lines_up_the_shares_of_a_wide_character_column_name(german: str) -> None:
    """A column named 数量 (two terminal columns a character) was padded by characters: its share and bar stood two
    columns right of every other column's."""
    from ad_duckdb.textwidth import width

    res = CliRunner().invoke(cli, ["train", german, "vk", "Vertrieb.Verkäufe", "-f", "Betrag €", "-f", "数量",
                                   "--quiet", "--epochs", "2"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["explain", german, "vk", "Vertrieb.Verkäufe", "--where", "数量 > 0", "--limit",
                                   "1"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    lines = [ln for ln in res.output.splitlines() if ln.startswith(("  Betrag €", "  数量"))]
    assert len(lines) == 2, res.output
    # the share ends at the same terminal column on both lines
    assert len({width(ln[:ln.index("%") + 1]) for ln in lines}) == 1, lines


def test_evaluate_notes_quote_the_threshold_names_they_list(con: duckdb.DuckDBPyConnection) -> None:
    """Threshold names are free text: 'w f1' and 'a, b' were listed bare ("Threshold(s) a, b, w f1 were chosen"),
    which read as three or four thresholds."""
    con.execute('CREATE TABLE t AS SELECT range AS id, (range % 50)::DOUBLE + 40 * (range % 40 = 0)::INTEGER AS a, '
                '(range * 7 % 13)::DOUBLE AS b, (range % 40 = 0)::INTEGER AS "Is Fraud?" FROM range(1200)')
    ad_duckdb.train(con, "m", "t", features=["a", "b"], where='"Is Fraud?" = 0 AND id < 600', **FAST)
    for name in ("w f1", "a, b"):
        ad_duckdb.set_threshold(con, "m", name, "max_f1", source="t", label="Is Fraud?", where="id >= 600")
    ad_duckdb.set_threshold(con, "m", "all rows", "max_f1", source="t", label="Is Fraud?")
    rep = ad_duckdb.evaluate(con, "m", "t", label="Is Fraud?", where="id >= 600")
    same = next(n for n in rep.notes if "were chosen on these same labelled rows" in n)
    assert same.startswith("Threshold(s) 'a, b', 'w f1' were chosen"), same
    shared = next(n for n in rep.notes if "include rows here" in n)
    assert "include rows here: 'all rows' (all 600 of them): " in shared, shared


@pytest.mark.parametrize("name, suggested", [("Modèle_ä", "Modele_a"), ("Betrüger-Konto", "Betruger-Konto"),
                                             ("Größe 2", "Grosse_2"), ("数量", "tx_ae")])
def test_a_model_name_with_non_ascii_letters_is_told_which_and_offered_one_that_works(
        name: str, suggested: str, con: duckdb.DuckDBPyConnection) -> None:
    """'Modèle_ä' was refused with "use letters, ...": è and ä are letters, so the message read as wrong. It names
    the characters that are not allowed and offers the name spelt in ASCII, which trains."""
    con.execute("CREATE TABLE t AS SELECT (range % 50)::DOUBLE AS a, (range * 7 % 13)::DOUBLE AS b FROM range(300)")
    with pytest.raises(ad_duckdb.OptionError) as e:
        ad_duckdb.train(con, name, "t", **FAST)
    msg = str(e.value)
    assert "ASCII" in msg and f"e.g. {suggested!r}" in msg, msg
    assert ad_duckdb.train(con, suggested, "t", **FAST).name == suggested


def test_dot_commands_take_a_quoted_schema_qualified_name(german: str) -> None:
    """.schema "Sales Data"."Tx Table" (a name as a statement writes it) said "no table or view matches": the outer
    quotes were taken off and the inner ones kept, so the pattern was 'Sales Data"."Tx Table'."""
    con = duckdb.connect(german)
    con.execute('CREATE SCHEMA "Sales Data"; CREATE TABLE "Sales Data"."Tx Table" ("Betrag €" DOUBLE)')
    con.close()
    res = CliRunner().invoke(cli, ["sql", german], input='.schema "Sales Data"."Tx Table"\n.tables "Sales Data".'
                             '"Tx%"\n.schema Vertrieb.Verkäufe\n', catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "no table or view matches" not in res.output, res.output
    assert 'CREATE TABLE "Sales Data"."Tx Table"("Betrag €" DOUBLE);' in res.output, res.output
    assert "Sales Data.Tx Table  table" in res.output, res.output
    assert "CREATE TABLE Vertrieb.Verkäufe(" in res.output or 'CREATE TABLE Vertrieb."Verkäufe"(' in res.output


def test_a_source_naming_an_attached_database_that_needs_quotes_is_shown_quoted(german: str, tmp_path: Path) -> None:
    """--attach 'lake-2024 €.duckdb' attaches it as "lake-2024 €"; the source lake-2024 €."Raw Zone".tx was told
    'Table ... does not exist! Did you mean "pg_namespace"?'. The error now gives the name with that part quoted,
    which reads the table."""
    lake = tmp_path / "lake-2024 €.duckdb"
    con = duckdb.connect(str(lake))
    con.execute('CREATE SCHEMA "Raw Zone"; CREATE TABLE "Raw Zone".tx AS SELECT range::DOUBLE AS a FROM range(300)')
    con.close()
    res = CliRunner().invoke(cli, ["train", german, "m", 'lake-2024 €."Raw Zone".tx', "--attach", str(lake),
                                   "--quiet", "--epochs", "2"], catch_exceptions=False)
    assert res.exit_code == 6, res.output
    assert '''write it "lake-2024 €"."Raw Zone".tx''' in res.output, res.output
    assert "pg_namespace" not in res.output
    res = CliRunner().invoke(cli, ["train", german, "m", '"lake-2024 €"."Raw Zone".tx', "--attach", str(lake),
                                   "--quiet", "--epochs", "2"], catch_exceptions=False)
    assert res.exit_code == 0, res.output


def test_into_a_schema_named_with_a_space_written_bare_is_refused_with_both_readings(
        con: duckdb.DuckDBPyConnection) -> None:
    """score --into 'Sales Data.Scores' (schema "Sales Data" exists) wrote a table named "Sales Data.Scores" in the
    main schema and said "wrote 2000 scored rows to Sales Data.Scores". DuckDB itself refuses that text as a syntax
    error; it is refused before scoring, with the quoted name of each reading."""
    con.execute('CREATE SCHEMA "Sales Data"')
    con.execute("CREATE TABLE t AS SELECT (range % 50)::DOUBLE AS a, (range * 7 % 13)::DOUBLE AS b FROM range(300)")
    ad_duckdb.train(con, "m", "t", **FAST)
    with pytest.raises(ad_duckdb.BadInputError) as e:
        ad_duckdb.score(con, "m", "t", into="Sales Data.Scores")
    msg = str(e.value)
    assert '''"Sales Data".Scores''' in msg and '''"Sales Data.Scores"''' in msg, msg
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name LIKE '%Scores%'").fetchall() == [(0,)]
    ad_duckdb.score(con, "m", "t", into='"Sales Data".Scores')
    assert con.execute('SELECT count(*) FROM "Sales Data".Scores').fetchall() == [(300,)]


def test_a_table_of_the_whole_dotted_name_made_by_earlier_runs_is_appended_to_as_sql_reads_it(
        con: duckdb.DuckDBPyConnection) -> None:
    """An incremental job that made "Sales Data.Scores" in main before the refusal above is refused too (the text
    reads as either table; tests/test_pyapi4_api.py), told the quoted name that goes on appending to it."""
    con.execute('CREATE SCHEMA "Sales Data"')
    con.execute("CREATE TABLE t AS SELECT (range % 50)::DOUBLE AS a, (range * 7 % 13)::DOUBLE AS b FROM range(300)")
    ad_duckdb.train(con, "m", "t", **FAST)
    ad_duckdb.score(con, "m", "t", into='"Sales Data.Scores"')
    with pytest.raises(ad_duckdb.BadInputError, match="""exists in main.*into='"Sales Data.Scores"'"""):
        ad_duckdb.score(con, "m", "t", into="Sales Data.Scores", append=True)
    ad_duckdb.score(con, "m", "t", into='"Sales Data.Scores"', append=True)
    assert con.execute('SELECT count(*) FROM "Sales Data.Scores"').fetchall() == [(600,)]


@pytest.mark.parametrize("name", ["select.main.t", "from.t", "Select.T", "WITH.main.t", "values"])
def test_a_schema_or_database_named_as_a_query_keyword_is_a_name_not_a_query(name: str) -> None:
    # --attach select.duckdb names its database `select`: select.main.t was taken for a query ("syntax error at or
    # near '.'"), and a table named values (or select, which score --into writes) was a query of that one word
    assert not sqltext.is_query(name)
    parts = sqltext.name_parts(name)
    assert parts is not None and sqltext.source_sql(name) == ".".join(sqltext.quote_ident(p) for p in parts)
    for query in ("SELECT .5 AS x", "FROM t", "select * from t", "WITH q AS (SELECT 1) FROM q", "VALUES (1)",
                  "(FROM t)"):
        assert sqltext.is_query(query), query


def test_the_cli_scores_a_table_of_an_attached_database_named_select(tmp_path: Path) -> None:
    db, lake = str(tmp_path / "m.duckdb"), str(tmp_path / "select.duckdb")
    with duckdb.connect(lake) as c:
        c.execute("CREATE TABLE t AS SELECT range::DOUBLE AS a, (range % 7)::DOUBLE AS b FROM range(100)")
        c.execute('CREATE TABLE "values" AS FROM t')
    with ad_duckdb.connect(db) as c:
        c.execute(f"ATTACH '{lake}' AS l (READ_ONLY)")
        c.execute("CREATE TABLE t AS FROM l.t")
        ad_duckdb.train(c, "m", "t", **FAST)
    for source in ("select.main.t", "select.values"):
        res = CliRunner().invoke(cli, ["score", db, "m", source, "--attach", lake, "--top", "1", "--format", "csv"],
                                 catch_exceptions=False)
        assert res.exit_code == 0 and res.output.count("\n") == 2, (source, res.output)


def test_the_rename_a_scores_name_clash_offers_pastes_into_a_shell_for_a_quoted_source(tmp_path: Path) -> None:
    """A source named "Raw Zone"."Tx" holding a column is_anomaly of its own: the fix offered was
    e.g. "SELECT * RENAME (is_anomaly AS label) FROM "Raw Zone"."Tx"", whose double quotes end where the name's begin."""
    db = str(tmp_path / "w.duckdb")
    with ad_duckdb.connect(db) as c:
        c.execute('CREATE SCHEMA "Raw Zone"')
        c.execute('CREATE TABLE "Raw Zone"."Tx" AS SELECT range::DOUBLE AS a, (range % 7)::DOUBLE AS b, '
                  "(range % 50 = 0)::INTEGER AS is_anomaly FROM range(100)")
        ad_duckdb.train(c, "m", '"Raw Zone"."Tx"', features=["a", "b"], **FAST)
    res = CliRunner().invoke(cli, ["score", db, "m", '"Raw Zone"."Tx"', "--top", "1"], catch_exceptions=False)
    assert res.exit_code == 1, res.output
    offered = res.output.split("Rename it in a query and score that, e.g. ", 1)[1].split(", or keep only", 1)[0]
    assert offered == '\'SELECT * RENAME (is_anomaly AS label) FROM "Raw Zone"."Tx"\'', offered
    (source,) = shlex.split(offered)
    res = CliRunner().invoke(cli, ["score", db, "m", source, "--top", "1", "--format", "csv"], catch_exceptions=False)
    assert res.exit_code == 0 and res.output.splitlines()[0].startswith("a,b,label,anomaly_score"), res.output
