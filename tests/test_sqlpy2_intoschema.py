"""`score --into Scores.V2` where DB has no schema `Scores`: the error gives the command that creates the schema
(the CLI's own, not bare SQL) and, for one table whose name holds the dot, the quoted name; each runs as given."""

from __future__ import annotations

import re
import shlex

import pytest
from click.testing import CliRunner
from test_sqlpy2_attached import stored

import ad_duckdb
from ad_duckdb.cli import cli


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(stored(tmp_path_factory.mktemp("into") / "w.duckdb", "m"))


def test_the_cli_says_how_to_create_the_schema_or_quote_the_name(db: str) -> None:
    r = CliRunner().invoke(cli, ["score", db, "m", "t", "--into", "Scores.V2", "--quiet"])
    assert r.exit_code != 0
    msg = r.output
    assert "schema 'Scores' does not exist" in msg, msg
    create = re.search(r"Create it first: (ad-duckdb sql --write \S+ '[^']+')", msg)
    assert create, msg
    quoted = re.search(r"quote it: --into ('\"Scores\.V2\"')", msg)
    assert quoted, msg
    assert "into=" not in msg, msg  # the CLI's words, not the Python keyword
    # the quoted name writes one table named Scores.V2
    r = CliRunner().invoke(cli, ["score", db, "m", "t", "--into", *shlex.split(quoted.group(1)), "--quiet"])
    assert r.exit_code == 0, r.output
    # the schema's command, then the name as given
    r = CliRunner().invoke(cli, shlex.split(create.group(1))[1:])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(cli, ["score", db, "m", "t", "--into", "Scores.V2", "--quiet"])
    assert r.exit_code == 0, r.output


def test_python_says_how_to_create_the_schema_or_quote_the_name(db: str) -> None:
    con = ad_duckdb.connect(db)
    try:
        with pytest.raises(ad_duckdb.BadInputError) as e:
            ad_duckdb.score(con, "m", "t", into="Daily.Scores")
    finally:
        con.close()
    msg = str(e.value)
    assert "Create it first (CREATE SCHEMA \"Daily\")" in msg, msg
    assert "quote it: into='\"Daily.Scores\"'" in msg, msg
    assert "--into" not in msg, msg
