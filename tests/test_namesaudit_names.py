"""A warehouse's awkward names (unicode, spaces, quotes, reserved words) through train, score, explain and notes."""

from __future__ import annotations

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
