"""Small things users hit: -q for --quiet, the note on --where turning robust training off, README's incremental
scoring line on text ids, labels as a list of records, an all-NULL category column's message."""

from __future__ import annotations

import re
from pathlib import Path

import click
import duckdb

from ad_duckdb.cli import cli

from conftest import ROOT, cli_in_process


def _commands_with_quiet() -> list[str]:
    return sorted(name for name, cmd in cli.commands.items()
                  if any("--quiet" in p.opts for p in cmd.params if isinstance(p, click.Option)))


def test_every_command_with_quiet_takes_q_and_its_help_shows_it() -> None:
    names = _commands_with_quiet()
    assert {"train", "score", "sql", "evaluate", "threshold"} <= set(names), names
    for name in names:
        opts = next(p.opts for p in cli.commands[name].params if isinstance(p, click.Option) and "--quiet" in p.opts)
        assert opts == ["-q", "--quiet"], (name, opts)
        # -q means nothing else on any command (nor on the group, whose options come before the command)
        others = [p for p in cli.commands[name].params if isinstance(p, click.Option) and "-q" in p.opts + p.secondary_opts]
        assert len(others) == 1, name
        assert "-q, --quiet" in cli_in_process(name, "--help").stdout, name
    assert not any("-q" in p.opts for p in cli.params if isinstance(p, click.Option))
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    listed = re.search(r"`--quiet` \(or `-q`: ([a-z, -]+)\)", readme)
    assert listed and sorted(listed.group(1).split(", ")) == names, listed


def test_train_q_shows_no_progress(tmp_path: Path) -> None:
    path = str(tmp_path / "q.duckdb")
    with duckdb.connect(path) as con:
        con.execute("CREATE TABLE t AS SELECT i AS id, random() AS a, random() * 3 AS b FROM range(200) r(i)")
    loud = cli_in_process("train", path, "m", "t", "-f", "a", "-f", "b", "--epochs", "1")
    assert loud.returncode == 0, loud.stderr
    assert "train" in loud.stderr and loud.stderr.strip(), loud.stderr
    res = cli_in_process("train", path, "m", "t", "-f", "a", "-f", "b", "--epochs", "1", "-q")
    assert res.returncode == 0, res.stderr
    assert res.stderr == "", res.stderr
    assert "stored m@2" in res.stdout, res.stdout


def test_train_with_where_says_robust_training_is_off_and_how_to_keep_it(tmp_path: Path) -> None:
    # A filter on dates is no "normal rows only" filter, yet --where turned robust training off without a word
    path = str(tmp_path / "w.duckdb")
    with duckdb.connect(path) as con:
        con.execute("CREATE TABLE t AS SELECT DATE '2024-01-01' + i::INTEGER AS day, random() AS a, random() * 3 AS b "
                    "FROM range(300) r(i)")
    train = ("train", path, "m", "t", "-f", "a", "-f", "b", "-q", "--epochs", "1")
    res = cli_in_process(*train, "--where", "day < '2024-09-01'")
    assert res.returncode == 0, res.stderr
    said = [x for x in res.stdout.splitlines() if x.startswith("robust training off")]
    assert said == ["robust training off: the rows --where \"day < '2024-09-01'\" keeps are taken as normal; if they "
                    "may hold anomalies (the filter picks dates or a region, not labels), add --robust"], res.stdout
    assert res.stderr == "", res.stderr  # a line of the summary, not a note: a job stopping on notes goes on
    with duckdb.connect(path) as con:
        robust = con.execute("SELECT version, json_extract(metrics, '$.robust')::BOOLEAN FROM ad_models "
                             "ORDER BY version").fetchall()
    assert robust == [(1, False)]
    # chosen by the user either way, or no filter: nothing to say
    for given in (("--where", "day < '2024-09-01'", "--robust"), ("--where", "day < '2024-09-01'", "--no-robust"), ()):
        res = cli_in_process(*train, *given)
        assert res.returncode == 0, res.stderr
        assert "robust training" not in res.stdout, (given, res.stdout)
