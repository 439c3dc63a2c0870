"""train --carry-thresholds chooses a goal set with --sampled normal again as `threshold --sampled normal` chooses it
on the new version: the same cut (a --confident one's lower ends evaluate --sampled normal's), the same goal kept,
and `show` says so. Beside them the same goals read as an audit's (the default, rows), whose --confident cut differs
on these rows: a retrain dropping the sampling would give the audit's cut."""

from __future__ import annotations

import json
from typing import Any

import pytest
from builtonce import built_once
from click.testing import CliRunner
from test_sampled_threshold_compare import _build

import ad_duckdb
from ad_duckdb import store, thresholds, weights
from ad_duckdb.cli import cli
from ad_duckdb.store import ModelRecord

from conftest import FAST

# min_recall 0.6 on labels7's rows weighted by w (every anomaly of weight 1, the normal rows 1 to 7), four ways
GOALS = {"n": ["--sampled", "normal"], "nc": ["--sampled", "normal", "--confident"], "r": [], "rc": ["--confident"]}
ARGS = ["--method", "min_recall", "--target", "0.6", "--source", "t", "--label", "lab", "--weight", "w", "--quiet",
        "--format", "json"]
INTERVALS = ("precision_lo", "precision_hi", "recall_lo", "recall_hi")


def _threshold(db: str, model: str, name: str, extra: list[str]) -> dict[str, Any]:
    got = CliRunner().invoke(cli, ["threshold", db, model, name, *ARGS, *extra])
    assert got.exit_code == 0, got.output
    doc: dict[str, Any] = json.loads(got.stdout)
    return doc


@pytest.fixture(scope="module")
def carried(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, dict[str, Any]]]:
    """sampled_tc's ae@1 and ae@2 with GOALS set on ae (ae@2), ae@3 trained from them with carry_thresholds (300
    steps: a version on which the two readings' --confident cuts differ), and each goal chosen on ae@3 directly by
    `threshold` as d_NAME, whose JSON is returned."""
    db = str(built_once("sampled_tc", tmp_path_factory, _build) / "s.duckdb")
    for name, extra in GOALS.items():
        _threshold(db, "ae", name, extra)
    con = ad_duckdb.connect(db)
    try:
        info = ad_duckdb.train(con, "ae", "SELECT * FROM t WHERE lab = 0", features=["a", "b", "c"],
                               carry_thresholds=True, **{**FAST, "max_steps": 300})
    finally:
        con.close()
    assert info.ref == "ae@3"
    return db, {name: _threshold(db, "ae@3", f"d_{name}", extra) for name, extra in GOALS.items()}


def _versions(db: str) -> tuple[ModelRecord, ModelRecord, Any]:
    """ae@2 and ae@3, and evaluate --sampled normal of ae@3 on the labelled rows."""
    con = ad_duckdb.connect(db, read_only=True)
    try:
        old, new = (ad_duckdb.load_model(con, f"ae@{v}") for v in (2, 3))
        return old, new, ad_duckdb.evaluate(con, "ae@3", "t", label="lab", weight="w", sampled="normal")
    finally:
        con.close()


def test_a_carried_sampled_normal_goal_is_chosen_again_as_threshold_sampled_normal_chooses_it(
        carried: tuple[str, dict[str, dict[str, Any]]]) -> None:
    db, direct = carried
    old, new, rep = _versions(db)
    th, goals = {t.name: t for t in new.thresholds}, new.metrics[store.GOALS]
    for name in ("n", "nc"):
        t, d = th[name], th[f"d_{name}"]
        assert "chosen again for this version (the goal of ae@2)" in (t.chosen_on or ""), t.chosen_on
        assert (t.value, t.precision, t.recall, t.f1, t.flagged_share) == \
            (d.value, d.precision, d.recall, d.f1, d.flagged_share), name
        assert t.value == direct[name]["value"]
        # the goal kept for the next retrain: as set on ae@2, and as threshold stores it on ae@3
        assert goals[name] == old.metrics[store.GOALS][name] == goals[f"d_{name}"], name
        assert goals[name]["sampled"] == "normal" and goals[name]["confident"] == (name == "nc")
        assert weights.sampled_normal(t.chosen_on) and weights.SAMPLED_NORMAL in (t.chosen_on or "")
        # its intervals (the confident one's lower end at its cut) are evaluate --sampled normal's on ae@3
        got = thresholds.figure_intervals(t)
        for k in INTERVALS:
            assert got[k] == pytest.approx(rep.at_thresholds[name][k], rel=1e-9), (name, k)
            assert got[k] == pytest.approx(direct[name][k], rel=1e-9), (name, k)
    assert thresholds.figure_intervals(th["nc"])["recall_lo"] >= 0.6
    assert th["nc"].chosen_on.endswith(thresholds.CONFIDENT_NOTE)  # type: ignore[union-attr]


def test_a_carried_rows_goal_is_chosen_again_as_an_audits_and_differs_from_the_sampled_one(
        carried: tuple[str, dict[str, dict[str, Any]]]) -> None:
    """The default reading carried beside it: the same goals without --sampled are chosen again as `threshold`
    without it chooses them on ae@3, and there --confident's cut is lower (the audit's recall interval allows for
    missed anomalies of weight up to 7), so a retrain that dropped the sampling would store the audit's cut."""
    db, direct = carried
    old, new, _ = _versions(db)
    th, goals = {t.name: t for t in new.thresholds}, new.metrics[store.GOALS]
    for name in ("r", "rc"):
        t, d = th[name], th[f"d_{name}"]
        assert (t.value, t.precision, t.recall, t.flagged_share) == (d.value, d.precision, d.recall, d.flagged_share)
        assert t.value == direct[name]["value"] and "sampled" not in direct[name]
        assert goals[name] == old.metrics[store.GOALS][name] and "sampled" not in goals[name]
        assert not weights.sampled_normal(t.chosen_on)
    assert th["rc"].value < th["nc"].value - 0.5, (th["rc"].value, th["nc"].value)
    # without --confident the cut is the same (a weighted recall reads no sampling), its intervals not
    assert th["r"].value == th["n"].value
    assert thresholds.figure_intervals(th["r"])["recall_lo"] < thresholds.figure_intervals(th["n"])["recall_lo"]


def test_show_names_a_carried_goals_sampling(carried: tuple[str, dict[str, dict[str, Any]]]) -> None:
    """show's table clips chosen_on, where the sampling is said: its method column says it, as it says confident."""
    db, _ = carried
    res = CliRunner().invoke(cli, ["show", db, "ae@3"])
    assert res.exit_code == 0, res.output
    rows = {ln.split()[0]: ln for ln in res.stdout.splitlines() if ln.split()[:1] and ln.split()[0] in GOALS}
    assert "min_recall, sampled normal " in rows["n"], res.stdout
    assert "min_recall, confident, sampled normal " in rows["nc"], res.stdout
    assert "sampled" not in rows["r"] and "sampled" not in rows["rc"], res.stdout
    assert "min_recall, confident " in rows["rc"], res.stdout
    doc = json.loads(CliRunner().invoke(cli, ["show", db, "ae@3", "--format", "json"]).stdout)
    assert doc["metrics"][store.GOALS]["nc"]["sampled"] == "normal"


def test_trains_carried_line_names_the_goal_met_again(carried: tuple[str, dict[str, dict[str, Any]]],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """train --carry-thresholds prints a line a carried threshold: a precision and a recall read as any goal's, so
    the line names the goal met again, confident and sampled normal as show does."""
    from ad_duckdb.traincmd import _print_carried

    db, _ = carried
    _, new, _ = _versions(db)
    _print_carried([t for t in new.thresholds if t.name in GOALS])
    lines = {ln.split(":")[0].removeprefix("carried "): ln for ln in capsys.readouterr().out.splitlines()}
    assert "chosen again on labels (min_recall, sampled normal): precision " in lines["n"], lines
    assert "chosen again on labels (min_recall, confident, sampled normal): precision " in lines["nc"], lines
    assert "chosen again on labels (min_recall): precision " in lines["r"], lines
    assert "chosen again on labels (min_recall, confident): precision " in lines["rc"], lines
