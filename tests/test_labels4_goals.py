"""evaluate on held-out rows: each threshold chosen for a goal on other labelled rows, checked against its goal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions


def _split(path: str) -> None:
    """A model trained on 3,000 transactions; 400 reviewed rows, 50 of them frauds (half blatant, half slight),
    split into a tuning half and a held-out half; a precision goal and a recall goal chosen on the tuning half."""
    con = ad_duckdb.connect(path)
    try:
        make_transactions(con, n=3000)
        ad_duckdb.train(con, "m", "transactions", features=["count", "amount"], **FAST)
        con.execute(
            "CREATE TABLE reviewed AS SELECT transaction_id, count * CASE WHEN transaction_id % 16 = 0 THEN 4 "
            "WHEN transaction_id % 8 = 0 THEN 1.6 ELSE 1 END AS count, amount, (transaction_id % 8 = 0)::INTEGER AS "
            "label, if(transaction_id <= 200, 'tune', 'holdout') AS part FROM transactions WHERE transaction_id <= 400")
        ad_duckdb.set_threshold(con, "m", "prec90", "min_precision", target=0.9, source="reviewed", label="label",
                                where="part = 'tune'")
        ad_duckdb.set_threshold(con, "m", "rec60", "min_recall", target=0.6, source="reviewed", label="label",
                                where="part = 'tune'")
    finally:
        con.close()


def _verdict(target: float, lo: float, hi: float) -> str:
    return "met" if lo >= target else "missed" if hi < target else "not shown"


def test_evaluate_on_held_out_rows_checks_each_goal_against_its_target(tmp_path: Path) -> None:
    """A data scientist defending "precision >= 0.9" chooses the cut on one half of the labels and evaluates on
    the other: evaluate printed prec90's precision on the held-out half among the other thresholds, and left it to
    the reader to remember its goal and to read its interval against it. It now checks each threshold chosen for a
    target (min_precision, min_recall) on other labelled rows: the target, the figure where it was chosen and here,
    the 95% interval here, and whether that shows the goal met (the whole interval at or above it), missed (the
    whole interval below) or not shown either way. Thresholds chosen on these same rows are not checked (their
    figures here are what they were fitted to)."""
    path = str(tmp_path / "g.duckdb")
    _split(path)
    con = ad_duckdb.connect(path, read_only=True)
    try:
        rep = ad_duckdb.evaluate(con, "m", "reviewed", label="label", where="part = 'holdout'")
        same = ad_duckdb.evaluate(con, "m", "reviewed", label="label", where="part = 'tune'")
        rec = ad_duckdb.load_model(con, "m")
    finally:
        con.close()
    by = {t.name: t for t in rec.thresholds}
    checks = {c["threshold"]: c for c in rep.goal_checks}
    assert set(checks) == {"prec90", "rec60"}, checks
    for name, figure, target in (("prec90", "precision", 0.9), ("rec60", "recall", 0.6)):
        c, m = checks[name], rep.at_thresholds[name]
        assert (c["method"], c["figure"], c["target"]) == (by[name].method, figure, target)
        assert c["chosen_on"] == "reviewed WHERE part = 'tune'"
        assert c["there"] == pytest.approx(getattr(by[name], figure))
        assert (c["here"], c["here_lo"], c["here_hi"]) == (m[figure], m[f"{figure}_lo"], m[f"{figure}_hi"])
        assert c["verdict"] == _verdict(target, m[f"{figure}_lo"], m[f"{figure}_hi"])
    assert same.goal_checks == []  # chosen on these rows: nothing held out to check

    res = CliRunner().invoke(cli, ["evaluate", path, "m", "reviewed", "--label", "label", "--where",
                                   "part = 'holdout'"])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    # the thresholds' flagged share is of these labelled rows, named as the candidate table and `show` name theirs
    head = next(x for x in lines if x.startswith("threshold ")).split()
    assert head[-1] == "flagged_labelled", head
    start = next(i for i, x in enumerate(lines) if x.startswith("goals checked on these held-out rows"))
    c = checks["prec90"]
    shown = next(x for x in lines[start:] if x.strip().startswith("prec90"))
    assert (f"min_precision >= 0.9 on reviewed WHERE part = 'tune' (precision there {c['there']:.3f}); here "
            f"{c['here']:.3f} (95% {c['here_lo']:.3f}-{c['here_hi']:.3f}):") in shown, shown
    assert {"met": "met:", "missed": "missed:", "not shown": "not shown either way:"}[c["verdict"]] in shown, shown

    res = CliRunner().invoke(cli, ["evaluate", path, "m", "reviewed", "--label", "label", "--where",
                                   "part = 'holdout'", "--format", "json"])
    doc = json.loads(res.stdout)
    assert {g["threshold"] for g in doc["goal_checks"]} == {"prec90", "rec60"}


def test_threshold_says_when_its_target_is_met_by_the_figure_but_not_by_its_interval(tmp_path: Path) -> None:
    """`threshold --method min_precision --target 0.9` on 40 reviewed rows stored a cut of precision 1.000 on 2
    flagged rows, "(95% 0.342-1.000)", and said nothing of the target: a manager read "precision >= 0.9" as shown.
    It now notes that the target is met by the figure, not by its interval, and names --confident and a check on
    held-out rows; with --confident (the interval's lower end meets it) there is nothing to note."""
    path = str(tmp_path / "n.duckdb")
    _split(path)
    run = CliRunner()
    res = run.invoke(cli, ["threshold", path, "m", "p9", "--method", "min_precision", "--target", "0.9", "--source",
                           "reviewed", "--label", "label", "--where", "part = 'tune'", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["precision"] >= 0.9 > doc["precision_lo"], doc  # the case: the figure meets it, the interval not
    said = (f"note: the precision target 0.9 is met by the figure {doc['precision']:.3f} on these rows, not by its "
            f"95% interval ({doc['precision_lo']:.3f}-{doc['precision_hi']:.3f})")
    assert said in res.stderr, res.stderr
    assert "--confident" in res.stderr and "held-out" in res.stderr, res.stderr
    res = run.invoke(cli, ["threshold", path, "m", "r5", "--method", "min_recall", "--target", "0.5", "--source",
                           "reviewed", "--label", "label", "--where", "part = 'tune'"])
    assert res.exit_code == 0, res.output
    assert "note: the recall target 0.5 is met by the figure" in res.stderr, res.stderr
    res = run.invoke(cli, ["threshold", path, "m", "r5c", "--method", "min_recall", "--target", "0.5", "--confident",
                           "--source", "reviewed", "--label", "label", "--where", "part = 'tune'"])
    assert res.exit_code == 0, res.output
    assert "is met by the figure" not in res.stderr, res.stderr
