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
