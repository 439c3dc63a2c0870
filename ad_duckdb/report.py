"""``Report``: what ``evaluate`` returns, the table ``print(report)`` shows, and the plots it draws for a notebook."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import costs, intervals, sampled
from .histfigures import label_hist_figure
from .numbertext import count_text, share_text, value_text
from .prfigure import pr_figure
from .reportcosts import Costs

INTERVALS_SHORT = ("Kish's effective sample size (sum w)^2 / sum w^2 of each class as its count (recall's: of the "
                   "caught and the missed apart; precision's from recall's and the false-alarm rate's, or "
                   "Wilson's of the flagged rows where they weigh alike)")


@dataclass
class Report:
    """What ``ad_duckdb.evaluate`` returns: headline metrics, metrics at each stored threshold, the curve; its
    ``pr_curve()`` and ``score_hist()`` draw the plots ``plots_dir=`` writes, as figures for a notebook (it keeps the
    evaluated rows' scores and labels for them: 9 bytes a row)."""

    model: str
    rows: int
    anomalies: int
    auc_roc: float
    auc_pr: float
    at_thresholds: dict[str, dict[str, float]]
    table: list[dict[str, float]] = field(default_factory=list)
    plots: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what to keep in mind about these figures
    costs: Costs | None = None  # with evaluate's miss_cost= and alarm_cost=
    # with evaluate's anomaly_share=: the share each threshold's precision_at_share is at
    anomaly_share: float | None = None
    # evaluate's 95% interval of auc_roc, from its rows (``intervals.auc_roc``); None: from the figure and the counts
    auc_roc_ci: intervals.AUCInterval | None = None

    @property
    def weights(self) -> dict[str, Any] | None:
        """With evaluate's ``weight=``: the column, the rows and anomalies the weights stand for, Kish's effective
        sizes of each class, the rows of weight 0, and what the intervals take (``weights.summary``); ``rows`` and
        ``anomalies`` stay the rows read. None without weights."""
        kept: dict[str, Any] | None = getattr(self, "_weights", None)
        return kept

    @property
    def goal_checks(self) -> list[dict[str, Any]]:
        """Each stored threshold chosen for a target (min_precision, min_recall) on other labelled rows than these,
        checked against it here (``goalcheck.checks``): ``threshold``, ``method``, ``figure``, ``target``,
        ``chosen_on``, ``there``, ``here``, ``here_lo``, ``here_hi``, ``verdict`` (``met``, ``missed``, ``not
        shown``; ``flags none`` for a cut above every score here, its figure None), ``flagged``, ``anomalies_here``
        and ``rows_here``. Why an attribute, not a field: as ``weights``."""
        kept: list[dict[str, Any]] = getattr(self, "_goal_checks", [])
        return kept

    @goal_checks.setter
    def goal_checks(self, done: list[dict[str, Any]]) -> None:
        self._goal_checks = done

    def keep_weights(self, summary: dict[str, Any]) -> None:
        """Keep ``weights``. Why an attribute, not a field: an unweighted report's fields (``asdict``, ``evaluate
        --format json``) stay what they were."""
        self._weights = summary

    @property
    def auc_roc_interval(self) -> tuple[float, float]:
        """95% interval of ``auc_roc`` on as many labelled rows: how far the figure could move on another sample
        (``auc_roc_interval_method`` says how it was made)."""
        ci = self._auc_ci()
        return ci.low, ci.high

    @property
    def auc_roc_interval_method(self) -> str:
        return self._auc_ci().method

    def _auc_ci(self) -> intervals.AUCInterval:
        if self.auc_roc_ci is not None:
            return self.auc_roc_ci
        return intervals.newcombe(self.auc_roc, self.anomalies, self.rows - self.anomalies)

    def __str__(self) -> str:
        return self.text()

    def text(self, notes: bool = True) -> str:
        """What ``print(report)`` shows; ``notes=False``: without the ``note:`` lines (``evaluate`` run with
        PYTHONWARNINGS=ignore::UserWarning, which leaves every note out)."""
        lo, hi = self.auc_roc_interval
        roc = ("undefined (no labelled anomaly)" if self.rows and not self.anomalies
               else "undefined (no normal rows)" if np.isnan(self.auc_roc)
               else f"{self.auc_roc:.4f} (95% interval {lo:.3f}-{hi:.3f})")
        # as wide as the longest name: a name of 14 characters or more (precision90_confident) pushed its row's
        # figures right of the header's
        w = max([14, *(len(n) + 1 for n in self.at_thresholds)])
        rows, anomalies = self._held()
        lines = [
            f"model {self.model}: {self.rows} rows, {self.anomalies} labelled {'anomaly' if self.anomalies == 1 else 'anomalies'} "
            f"({self._weighted_text()}{share_text(anomalies / max(rows, 1e-300))})",
            f"AUC-ROC {roc}   AUC-PR {'undefined' if np.isnan(self.auc_pr) else f'{self.auc_pr:.4f}'}",
            *self._weights_lines(),
            *(f"note: {n}" for n in (self.notes if notes else ())),
            "",
        ]
        if self.rows and not self.anomalies:  # rows labelled normal only: their false alarms, the figure they define
            from . import normalonly

            lines += normalonly.lines(self, w)
            if self.costs is not None:
                lines += ["", *self.costs.lines(self.at_thresholds, rows, anomalies, w)]
            return "\n".join(lines + (["", "plots: " + ", ".join(self.plots)] if self.plots else []))
        lines += [
            f"{'threshold':<{w}}{'value':>12}{'precision':>11}{'(95%)':>13}{'recall':>9}{'(95%)':>13}{'F1':>8}"
            f"{'flagged_labelled':>18}",
        ]

        def interval(m: dict[str, float], what: str) -> str:
            a, b = m.get(f"{what}_lo", np.nan), m.get(f"{what}_hi", np.nan)
            return "" if np.isnan(a) else f"{a:.3f}-{b:.3f}"

        for name, m in self.at_thresholds.items():
            # a threshold that flags no row has no precision (0.000 read as "every flag wrong"); share_text: 1 row in
            # 300,000 flagged read "0.00%", as none
            prec = f"{m['precision']:>11.3f}" if m.get("tp", 1) + m.get("fp", 1) else f"{'-':>11}"
            lines.append(
                f"{name:<{w}}{value_text(m['value']):>12}{prec}{interval(m, 'precision'):>13}"
                f"{m['recall']:>9.3f}{interval(m, 'recall'):>13}{m['f1']:>8.3f}{share_text(m['flagged_share']):>18}"
            )
        if self.at_thresholds:
            lines.append("(95%: the range the true precision and recall lie in, with 95% confidence, judged from this many "
                         "labelled rows; Wilson intervals, given each threshold's value: one chosen on these rows reads better "
                         f"here than it will elsewhere; AUC-ROC's: "
                         f"{self.auc_roc_interval_method})")
        if self.goal_checks:
            from . import goalcheck

            lines += ["", *goalcheck.lines(self.goal_checks)]
        if self.anomaly_share is not None and self.at_thresholds:
            here = share_text(anomalies / max(rows, 1e-300))
            lines += ["", f"precision at anomalies {costs.stated_share(self.anomaly_share)} of rows (these {count_text(rows)} "
                          f"rows hold {here}), from each threshold's recall and false-alarm rate here (95%: "
                          f"{intervals.SHARE_METHOD}; a false-alarm rate of few normal rows moves it far):",
                      f"{'threshold':<{w}}{'value':>12}{'precision':>11}{'(95%)':>15}"]
            for name, m in self.at_thresholds.items():
                p = m.get("precision_at_share", np.nan)
                lines.append(f"{name:<{w}}{value_text(m['value']):>12}{'-' if np.isnan(p) else f'{p:.3f}':>11}"
                             f"{interval(m, 'precision_at_share'):>15}")
        if self.costs is not None:
            lines += ["", *self.costs.lines(self.at_thresholds, rows, anomalies, w)]
        if self.plots:
            lines += ["", "plots: " + ", ".join(self.plots)]
        return "\n".join(lines)

    def _held(self) -> tuple[float, float]:
        """The rows and anomalies the figures count: the rows read, or with weights what they stand for."""
        if self.weights is None:
            return self.rows, self.anomalies
        return self.weights["rows"], self.weights["anomalies"]

    def _weighted_text(self) -> str:
        if self.weights is None:
            return ""
        rows, anomalies = self._held()
        # before the share, which is of the rows the weights stand for: after "40 labelled anomalies (" it read as
        # a share of the rows read
        return f"weighted by {self.weights['column']}: {count_text(rows)} rows, {count_text(anomalies)} anomalies, "

    def _weights_lines(self) -> list[str]:
        """What the weights do to the figures, said under them. Why: a precision of 0.9 on weighted rows and one on
        the rows as read differ by the sampling, and the intervals' certainty is not the weighted rows' count."""
        if self.weights is None:
            return []
        k = self.weights
        zero = k.get("zero_weight_rows", 0)
        return [f"weights: each row counts as its {k['column']!r} rows (as scikit-learn's sample_weight); the 95% "
                f"intervals take {INTERVALS_SHORT}: {k['effective_anomalies']:.1f} anomalies, "
                f"{k['effective_normal']:.1f} normal rows" + (f"; {zero} rows of weight 0 left out" if zero else "")
                + (f"; {sampled.SAID}" if k.get("sampled") == sampled.NORMAL else "")]

    def __repr__(self) -> str:
        """One short line: the dataclass repr held every threshold's every figure and the whole candidate table,
        about 5,000 characters, in a plain REPL, a list of reports or a log line."""
        notes = f", {len(self.notes)} note(s)" if self.notes else ""
        return (f"Report(model={self.model!r}, rows={self.rows}, anomalies={self.anomalies}, "
                f"auc_roc={self.auc_roc:.4f}, auc_pr={self.auc_pr:.4f}, thresholds={list(self.at_thresholds)}{notes}; "
                "print(report) for the table)")

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        """What IPython and Jupyter show for a report left as a cell's last expression: the table ``print`` shows.
        Without it they showed the dataclass repr, every field on one line of a few thousand characters."""
        p.text(str(self))

    def keep_scores(self, scores: np.ndarray, labels: np.ndarray, thresholds: dict[str, float],
                    source: str | None, weights: np.ndarray | None = None, sampled: str | None = None) -> None:
        """Keep what ``pr_curve`` and ``score_hist`` draw (``weights``: each row's, evaluate's ``weight=``;
        ``sampled``: evaluate's, so the points' intervals are the report's). Why an attribute, not a field:
        ``asdict`` (``evaluate --format json``) would print every row's score."""
        self._drawn = (np.asarray(scores, dtype=np.float64), np.asarray(labels).astype(bool), dict(thresholds), source)
        self._drawn_weights = None if weights is None else np.asarray(weights, dtype=np.float64)
        self._drawn_sampled = sampled

    def pr_curve(self) -> Any:
        """The precision-recall curve ``evaluate(plots_dir=)`` writes (``<model>_pr_curve.png``), each threshold a
        point on it, as a matplotlib Figure: a notebook shows it as a cell's value, ``fig.savefig(path)`` writes it.
        Not registered with pyplot, as ``plot_scores``' figure. Needs matplotlib (the ``[plots]`` extra). Rows all
        labelled normal have no curve (BadInputError)."""
        s, y, marked, source = self._kept()
        if not y.any():
            from .exceptions import BadInputError

            raise BadInputError(f"Report of {self.model!r}: no row labelled an anomaly (1), so there is no precision-"
                                "recall curve to draw (recall is undefined); score_hist() draws these rows' scores, "
                                "and at_thresholds holds each threshold's false-alarm rate.")
        return pr_figure(s, y, self.model, marked, source, getattr(self, "_drawn_weights", None),
                         getattr(self, "_drawn_sampled", None))

    def score_hist(self) -> Any:
        """The histogram of the scores by label ``evaluate(plots_dir=)`` writes (``<model>_score_hist.png``), each
        threshold a line, as a matplotlib Figure (see ``pr_curve``)."""
        s, y, marked, source = self._kept()
        return label_hist_figure(s, y, self.model, marked, source, getattr(self, "_drawn_weights", None))

    def _kept(self) -> tuple[np.ndarray, np.ndarray, dict[str, float], str | None]:
        drawn: tuple[np.ndarray, np.ndarray, dict[str, float], str | None] | None = getattr(self, "_drawn", None)
        if drawn is None:
            from .exceptions import BadInputError

            raise BadInputError(f"Report of {self.model!r} holds no scores to draw: only a report ad_duckdb.evaluate "
                                "returns keeps its rows' scores and labels for pr_curve() and score_hist().")
        return drawn
