"""Users moving to ad_duckdb with their old code in hand: BigQuery ML's ML.DETECT_ANOMALIES with a contamination, in
one call; the README's "Coming from PyOD, BigQuery ML or a notebook" examples run as written."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

import ad_duckdb
from ad_duckdb.cli import cli

from conftest import FAST, make_transactions

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_score_flags_rows_at_a_named_threshold_as_detect_anomalies_contamination_does(tmp_path: Path) -> None:
    """BigQuery ML's ML.DETECT_ANOMALIES(MODEL m, STRUCT(0.02 AS contamination), TABLE t) returns t's columns with
    is_anomaly at that contamination. ad_duckdb.score (and score --into) wrote is_anomaly at the `default` threshold
    only, so the one call that gives a table's rows with their flags could not take the 2% cut the user stored:
    threshold= (CLI: --threshold) names the stored threshold is_anomaly is read at, as is_anomaly_at does."""
    db = str(tmp_path / "w.duckdb")
    con = ad_duckdb.connect(db)
    try:
        make_transactions(con, n=400)
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        ad_duckdb.set_threshold(con, "tx_ae", "c2", "contamination", target=0.02)
        want = {r[0]: r[1] for r in con.execute(
            "SELECT transaction_id, is_anomaly_at('tx_ae', 'c2', count, amount) FROM transactions").fetchall()}
        default = {r[0]: r[1] for r in con.execute(
            "SELECT transaction_id, is_anomaly('tx_ae', count, amount) FROM transactions").fetchall()}
        assert want != default  # 2% against the default 1%: the test tells the two apart
        got = ad_duckdb.score(con, "tx_ae", "transactions", threshold="c2").to_pylist()
        assert {r["transaction_id"]: r["is_anomaly"] for r in got} == want
        assert ad_duckdb.score(con, "tx_ae", "transactions", into="s", threshold="c2") == len(want)
        assert dict(con.execute("SELECT transaction_id, is_anomaly FROM s").fetchall()) == want
        with pytest.raises(ad_duckdb.AdDuckDBError, match=r"c3"):
            ad_duckdb.score(con, "tx_ae", "transactions", threshold="c3")
        # the contamination itself, as BigQuery ML takes it in the call, is refused with the call that stores it
        with pytest.raises(ad_duckdb.BadInputError, match=re.escape(
                "set_threshold(con, 'tx_ae', 'c2', 'contamination', target=0.05), then threshold='c2'")):
            ad_duckdb.score(con, "tx_ae", "transactions", threshold=0.05)  # type: ignore[arg-type]
    finally:
        con.close()
    res = CliRunner().invoke(cli, ["score", db, "tx_ae", "transactions", "--into", "s2", "--threshold", "c2",
                                   "--quiet"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    with duckdb.connect(db, read_only=True) as c:
        assert dict(c.execute("SELECT transaction_id, is_anomaly FROM s2").fetchall()) == want


def _section_blocks() -> list[str]:
    section = README.split("## Coming from PyOD, BigQuery ML or a notebook\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_readme_s_coming_from_examples_run_as_written_and_say_what_they_give(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A PyOD, a BigQuery ML and a notebook user each copy their block of the README's "Coming from" section: it runs
    as written (from the repository folder, the shared data beside it), and gives what its comments and the text
    below it say."""
    import numpy as np

    pyod, bigquery, notebook = _section_blocks()
    monkeypatch.chdir(ROOT)
    scope: dict[str, object] = {}
    exec(pyod, scope)
    clf, labels, scores = scope["clf"], scope["labels"], scope["scores"]
    assert labels[:5].all() and set(np.unique(labels)) <= {0, 1}  # type: ignore[index, call-overload]
    assert (labels == (scores > clf.threshold_)).all()  # type: ignore[attr-defined, operator]
    assert abs((clf.decision_scores_ > clf.threshold_).mean() - 0.05) < 0.002  # type: ignore[attr-defined]

    scope = {}
    with warnings.catch_warnings(record=True) as caught:  # train's note on the id it left out, as a user sees it
        warnings.simplefilter("always")
        exec(bigquery, scope)
    assert [str(w.message) for w in caught if "'transaction_id'" in str(w.message)], [str(w.message) for w in caught]
    flags, odd, con = scope["flags"], scope["odd"], scope["con"]
    assert list(flags.columns) == ["transaction_id", "count", "amount", "anomaly_score",  # type: ignore[attr-defined]
                                   "anomaly_percentile", "is_anomaly"]
    assert odd[0][0] == 2000 and odd[0][2] is True  # type: ignore[index]
    want = dict(con.execute("SELECT transaction_id, is_anomaly_at('tx_ae', 'c2', count, amount) "  # type: ignore[attr-defined]
                            "FROM transactions").fetchall())
    assert dict(zip(flags["transaction_id"], flags["is_anomaly"], strict=True)) == want  # type: ignore[index]
    con.close()  # type: ignore[attr-defined]

    scope = {}
    capsys.readouterr()
    with warnings.catch_warnings(record=True) as caught:  # train's note on the label where= holds at 0
        warnings.simplefilter("always")
        exec(notebook, scope)
    assert all("'Class'" in str(w.message) for w in caught), [str(w.message) for w in caught]
    printed = capsys.readouterr().out.strip()
    claim = re.search(r"It prints `(precision [\d.]+ at recall [\d.]+)` \(AUC-ROC ([\d.]+)\)", README)
    assert claim is not None and printed == claim[1], printed
    assert f"{scope['report'].auc_roc:.2f}" == claim[2]  # type: ignore[attr-defined]
    cut, con = scope["cut"], scope["con"]
    assert cut.precision > 0.93 and cut.recall >= 0.43  # type: ignore[attr-defined]  # the recipe's, beaten
    test = scope["test"]  # noqa: F841  (the DataFrame the README's block names 'test', read by its name)
    at_share = ad_duckdb.evaluate(con, "card_ae", "test", label="Class", anomaly_share=0.00172)  # type: ignore[arg-type]
    said = re.search(r"at the real data's 0\.172% the same cut's precision is ([\d.]+)", README)
    assert said is not None and f"{at_share.at_thresholds['r43']['precision_at_share']:.2f}" == said[1]
    assert scope["flagged"]["Class"].mean() > 0.9  # type: ignore[index]
    con.close()  # type: ignore[attr-defined]
