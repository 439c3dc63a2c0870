"""Two model versions on the same rows: what each flags at its own thresholds, how many rows both flag, how much
their top scores overlap, and where each version's thresholds came from (``ad-duckdb compare``); with labels, which
ranks the anomalies better, and whether the difference is more than chance (DeLong's paired test)."""

from __future__ import annotations

import math
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from . import batchdrift, interrupts, intervals, notes, optionwords, pairedflags, pysource, store, texttable, weights
from . import sampled as sampling
from .auc import auc_pr, curve_auc_roc
from .confusion import confusion
from .duckerrors import first_part, is_missing_column
from .exceptions import BadInputError, NoRowsError, OptionError, SourceNotFoundError, is_interrupt, raised_in_function
from .models import load_model
from .numbertext import count_text
from .pairedauc import PAIRED_DELONG, paired_auc_roc
from .sourcecols import source_features
from .sqltext import quote_ident, quote_literal, source_sql, where_sql
from .store import ModelRecord, Threshold
from .thresholds import curve as thresholds_curve
from .trainoverlap import _training_overlap
from .udfs import registry
from .weightedrank import weighted_spearman


@dataclass
class ThresholdComparison:
    """One threshold name: its value, method and origin in each version (None where that version lacks it) and the
    rows it flags there; ``both`` counts the rows both versions flag (None unless both have the name)."""

    name: str
    value_a: float | None
    value_b: float | None
    flagged_a: int | None
    flagged_b: int | None
    both: int | None
    method_a: str | None = None
    method_b: str | None = None
    chosen_on_a: str | None = None
    chosen_on_b: str | None = None
    # with labels: each version's precision and recall at its value (None where it lacks the name; precision None
    # also where it flags no row)
    precision_a: float | None = None
    recall_a: float | None = None
    precision_b: float | None = None
    recall_b: float | None = None
    # with label= and weight=: flagged_a, flagged_b and both as the rows the labelled rows stand for (each row its
    # weight, as the precisions and recalls count it); None without weight=. Why: 51 sampled rows flagged were read
    # against precisions of the 2,500 rows they stood for
    flagged_a_weighted: float | None = None
    flagged_b_weighted: float | None = None
    both_weighted: float | None = None
    # with labels: the 95% intervals of the precisions and recalls above, as evaluate gives them (Wilson's; with
    # weight=, evaluate --weight's); None where the figure is
    precision_a_lo: float | None = None
    precision_a_hi: float | None = None
    recall_a_lo: float | None = None
    recall_a_hi: float | None = None
    precision_b_lo: float | None = None
    precision_b_hi: float | None = None
    recall_b_lo: float | None = None
    recall_b_hi: float | None = None
    # with labels, where both versions have the name: the exact McNemar tests of the anomalies and of the normal
    # rows only one version flags (``pairedflags``). Why: the two precisions' intervals overlap where one version is
    # surely better; only the rows they disagree on tell them apart
    paired: list[pairedflags.FlagTest] | None = None


# Below this many labelled anomalies the paired test (its p-value a Student t's, ``pairedauc.paired_df``) holds its size
# but can tell only large differences: simulated, a version better by half a standard deviation of its anomalies'
# scores was found in 1-9% of draws on 3-5 anomalies, as often as two equal versions were (1-4.4%), and 6-24% on 10
# (bench/results/compare_delong_2026-12-05_t.md)
FEW_FOR_DELONG = 10


@dataclass
class LabelledComparison:
    """The two versions judged on the labelled rows (``label=``): each one's AUC-ROC and AUC-PR, and the
    difference of AUC-ROC ``b - a`` with its 95% interval and two-sided p-value (DeLong's paired test: a p-value
    below 0.05 says the difference is unlikely to be chance on rows like these)."""

    label: str
    rows: int
    anomalies: int
    auc_roc_a: float
    auc_roc_b: float
    auc_pr_a: float
    auc_pr_b: float
    auc_roc_diff: float
    auc_roc_diff_low: float
    auc_roc_diff_high: float
    p_value: float
    # with weight=: the column, what the rows stand for and Kish's effective sizes (``weights.summary``)
    weights: dict[str, Any] | None = None
    # how the interval and p-value were found: DeLong's paired test, or on an audit sample (the anomalies' weights
    # differing across a score) each version's AUC-ROC interval joined (``weights.PAIRED_AUDIT``), or where DeLong's
    # variance is 0 (both versions rank every labelled anomaly first) their score intervals joined
    # (``pairedauc.PAIRED_NO_SPREAD``)
    test: str = PAIRED_DELONG
    # DeLong's: the Student t's degrees of freedom its interval and p-value were read from (``pairedauc.paired_df``;
    # about the anomalies' count less 1 when they are few); None: the normal's, or an audit sample's test
    df: float | None = None


@dataclass
class VersionComparison:
    """``compare_versions``'s answer: ``a`` and ``b`` are the versions compared ('name@N'), ``rows`` the rows both
    scored, ``top_overlap`` how many of the ``top`` highest-scoring rows of each are the same rows, and
    ``rank_correlation`` the correlation of the two versions' score ranks over all rows (1: same order).

    ``top_tied_a`` / ``top_tied_b``: how many rows share that version's ``top``-th highest score when rows past the
    cut share it too (0 when the cut falls between two scores). Then which of them are in the top, and so
    ``top_overlap``, depends on the order rows are read in.

    ``same_model``: the two have identical ONNX bytes and features (a rollback import, a copy under another name),
    so score every row alike; only their thresholds can differ. ``sha256``: those bytes' digest, then."""

    a: str
    b: str
    source: str
    rows: int
    top: int
    top_overlap: int
    rank_correlation: float | None
    top_tied_a: int = 0
    top_tied_b: int = 0
    thresholds: list[ThresholdComparison] = field(default_factory=list)
    # the filter the rows were read under (None: every row), so a saved JSON answer says which rows it is about
    where: str | None = None
    labelled: LabelledComparison | None = None
    # with label= and weight=: the top-``top`` rows of what the labelled rows stand for (each row its weight; a row
    # straddling the cut, or rows tied there, in part) and how much of them both versions share, in rows stood for
    # (``weighted_top_overlap``); None without weight=. ``top_overlap`` stays the rows read
    top_overlap_weighted: float | None = None
    top_weighted: float | None = None
    same_model: bool = False
    sha256: str | None = None
    # with label= and weight=: the rank correlation of the rows the labelled rows stand for (Spearman's, each row
    # its weight: ``weightedrank``); None without weight= or where one version's scores are all equal.
    # ``rank_correlation`` stays the rows read
    rank_correlation_weighted: float | None = None

    def __str__(self) -> str:
        """The table ``ad-duckdb compare`` prints: each threshold's flags in both versions, the top-N overlap and
        rank correlation, and with labels each version's figures and DeLong's verdict."""
        a, b = self.a, self.b
        judged = self.labelled is not None
        column = self.labelled.weights["column"] if self.labelled is not None and self.labelled.weights else None
        weighted = column is not None
        w = " (weighted)" if weighted else ""
        lines = [f"{a} vs {b} on {self.rows} rows of {self.source}{f' where {self.where}' if self.where else ''}", ""]
        if self.same_model:
            # Why first: a 100% overlap and a rank correlation of 1 otherwise read as two models that agree
            lines.insert(1, f"{a} and {b} are the same model (identical ONNX bytes and features, sha256 "
                            f"{(self.sha256 or '')[:12]}…): they score every row alike, and only their thresholds can "
                            "differ.")
        lines += texttable.table(
            ["threshold", f"{a} value", f"{b} value", f"flagged {a}{w}", f"flagged {b}{w}", f"both{w}", f"only {a}{w}",
             f"only {b}{w}", *([f"precision {a}", f"recall {a}", f"precision {b}", f"recall {b}"] if judged else []),
             f"{b} origin"],
            [(t.name, t.value_a, t.value_b, *_flag_cells(t, weighted),
              *((_judged_cell(v, flagged, ends) for v, flagged, ends in (
                  (t.precision_a, t.flagged_a, (t.precision_a_lo, t.precision_a_hi)),
                  (t.recall_a, None, (t.recall_a_lo, t.recall_a_hi)),
                  (t.precision_b, t.flagged_b, (t.precision_b_lo, t.precision_b_hi)),
                  (t.recall_b, None, (t.recall_b_lo, t.recall_b_hi))))
                if judged else ()),
              None if t.method_b is None else f"{t.method_b}: {t.chosen_on_b or ''}") for t in self.thresholds]).lines
        if weighted:
            lines += [f"flagged, both and only count the rows the labelled rows stand for, each row its weight "
                      f"{column} (as the precisions and recalls; --format json: "
                      "flagged_a_weighted, ...; flagged_a, ...: the rows read)"]
        if judged:
            lines += _paired_lines(self.thresholds, a, b)
        n = min(self.top, self.rows)
        corr = _corr_text(self.rank_correlation)
        tied = " and ".join(f"{k} rows of {v}" for k, v in ((self.top_tied_a, a), (self.top_tied_b, b)) if k)
        ties = f" ({tied} tie at the cut: the overlap depends on their order)" if tied else ""
        lines += ["", f"top {n} scores: {self.top_overlap} rows in both ({self.top_overlap / n:.0%}){ties}; "
                      f"rank correlation of all {self.rows} rows: {corr}"]
        if self.top_overlap_weighted is not None and self.top_weighted:
            lines += [f"top {count_text(round(self.top_weighted, 9))} scores of the rows the labelled rows "
                      f"stand for (weighted by {column}): {count_text(round(self.top_overlap_weighted, 9))} "
                      f"in both ({self.top_overlap_weighted / self.top_weighted:.0%}; rows tied at the cut count in "
                      f"part); rank correlation of the rows stood for: {_corr_text(self.rank_correlation_weighted)} "
                      "(the line above counts the rows read)"]
        if self.labelled is not None:
            j = self.labelled
            better = b if j.auc_roc_diff > 0 else a
            verdict = (f"{better} ranks the anomalies better; the difference is unlikely to be chance (p < 0.05)"
                       if j.p_value < 0.05 else "the difference could be chance (p >= 0.05): neither version is shown "
                       "better")
            # weighted, the test's certainty is that of Kish's effective anomalies: 40 rows of which 3 weigh 50
            # were an effective 4.6, and the caveat of few anomalies was left out
            few = j.weights["effective_anomalies"] if j.weights else j.anomalies
            if few < FEW_FOR_DELONG and j.test != weights.PAIRED_AUDIT:
                counted = (f"an effective {few:.1f} labelled anomalies (Kish's, of the {j.anomalies} weighted)"
                           if j.weights else f"{j.anomalies} labelled anomal{'y' if j.anomalies == 1 else 'ies'}")
                # Why said when p >= 0.05: with 3-5 anomalies a clearly better version went unseen in 91-99% of
                # simulated draws, and "neither version is shown better" read as "they are alike"
                verdict += (f"; the p-value allows for only {counted}, but how large the difference is stays "
                            "uncertain (see the interval): label more anomalies to size it" if j.p_value < 0.05 else
                            f"; on only {counted} the test can tell only large differences apart, so this says "
                            "little about whether the versions are alike: label more anomalies to tell")
            k = j.weights
            weighed = (f", weighted by {k['column']} ({count_text(k['rows'])} rows, "
                       f"{count_text(k['anomalies'])} anomalies; Kish's effective sizes "
                       f"{k['effective_anomalies']:.1f} anomalies and {k['effective_normal']:.1f} normal rows stand for "
                       "the counts in the test)" if k else "")
            if k and k.get("sampled") == sampling.NORMAL:
                # Why said: the same weights without it may read as an audit's and get its joined intervals
                weighed += (f"; {optionwords.opt('sampled', sampling.NORMAL)}: every anomaly kept and only the "
                            "normal rows sampled, so DeLong's paired test holds")
            lines += [f"on {j.rows} rows labelled by {j.label} ({j.anomalies} anomalies){weighed}: AUC-ROC {a} "
                      f"{j.auc_roc_a:.4f}, {b} {j.auc_roc_b:.4f}; AUC-PR {a} {j.auc_pr_a:.4f}, {b} {j.auc_pr_b:.4f}",
                      f"AUC-ROC difference {b} - {a}: {j.auc_roc_diff:+.4f} (95% interval {j.auc_roc_diff_low:+.4f} "
                      f"to {j.auc_roc_diff_high:+.4f}, p = {j.p_value:.3g}, {j.test}{_df_text(j.df)}): {verdict}"]
            if j.test == weights.PAIRED_AUDIT:
                # Why not "the anomalies' weights differ": an audit that drew no anomaly below the alerts has every
                # anomaly at weight 1; it reads as one by its normal rows' weights (weights.auc_band)
                lines += ["the labelled rows are an audit sample (the weights "
                          f"{k['column'] if k else ''} differ across the score as an audit's do, alerts all reviewed "
                          "and the rest sampled, so an anomaly missed below the alerts may stand for more rows than one "
                          "caught): each AUC-ROC rests on the few audited anomalies below the "
                          "alerts, so the test is as uncertain as they leave it; DeLong's paired test alone called "
                          "equally good versions different in up to 41% of simulated audits, and no weighting gives it "
                          "power (bench/results/compare_audit_flags_2026-12-05.md). What this audit can tell is the "
                          "rows only one version flags at each threshold (the exact McNemar lines above, each cell at "
                          "its sampling rate); audit more rows below the alerts to compare the rankings."]
        return "\n".join(lines)

    def __repr__(self) -> str:
        """One short line, as evaluate's ``Report``: the dataclass repr held every threshold's every field."""
        corr = "None" if self.rank_correlation is None else f"{self.rank_correlation:.3f}"
        return (f"VersionComparison(a={self.a!r}, b={self.b!r}, rows={self.rows}, top_overlap={self.top_overlap}/"
                f"{min(self.top, self.rows)}, rank_correlation={corr}, thresholds={[t.name for t in self.thresholds]}"
                f"{', labelled' if self.labelled is not None else ''}; print(comparison) for the table)")

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        """What IPython and Jupyter show for a comparison left as a cell's last expression: the table ``print``
        shows."""
        p.text(str(self))


def _corr_text(corr: float | None) -> str:
    return "undefined (constant scores)" if corr is None else f"{corr:.3f}"


def _df_text(df: float | None) -> str:
    """The t's degrees of freedom as the verdict line names them: where they are few enough to matter."""
    return f", Student's t on {df:.1f} degrees of freedom" if df is not None and df < 100 else ""


def _flag_cells(t: ThresholdComparison, weighted: bool) -> tuple[Any, ...]:
    """A threshold's flagged, both and only counts as the table prints them: of the rows read, or with weights
    (``weighted``) of the rows they stand for (``count_text``: 2550, 1263.5)."""
    fa, fb, both = (t.flagged_a_weighted, t.flagged_b_weighted, t.both_weighted) if weighted else \
        (t.flagged_a, t.flagged_b, t.both)
    only_a = None if both is None or fa is None else fa - both
    only_b = None if both is None or fb is None else fb - both
    if not weighted:
        return fa, fb, both, only_a, only_b
    return tuple(None if v is None else texttable.Number(count_text(round(v, 9)))
                 for v in (fa, fb, both, only_a, only_b))


def _judged_cell(v: float | None, flagged: int | None,
                 ends: tuple[float | None, float | None] = (None, None)) -> texttable.Number | None:
    """A precision or recall of a labelled comparison with its 95% interval (``ends``), '0.912 (0.851-0.951)': '-'
    for the precision of a threshold that flags no row (as evaluate prints it), NULL where the version lacks the
    threshold."""
    if v is None:
        return texttable.Number("-") if flagged == 0 else None
    lo, hi = ends
    within = "" if lo is None or hi is None else f" ({texttable.figure(lo)}-{texttable.figure(hi)})"
    return texttable.Number(texttable.figure(v) + within)


def _paired_lines(thresholds: list[ThresholdComparison], a: str, b: str) -> list[str]:
    """The exact McNemar tests of each threshold both versions have, one line a threshold."""
    tested = [t for t in thresholds if t.paired]
    if not tested:
        return []
    out = ["", "rows only one version flags, at each threshold both have (exact McNemar test: p < 0.05 says the "
               "difference is unlikely to be chance on rows like these; the intervals above are each version's own, "
               "and overlap where the paired test can still tell):"]
    for t in tested:
        out.append(f"  {t.name}: " + "; ".join(pairedflags.verdict(p, a, b) for p in t.paired or []))
    return out


def _threshold_names(a: ModelRecord, b: ModelRecord) -> list[str]:
    """'default' first (what is_anomaly flags), then the names both versions have, then the rest, each sorted."""
    na, nb = {t.name for t in a.thresholds}, {t.name for t in b.thresholds}
    shared = sorted((na & nb) - {"default"})
    return [n for n in ["default"] if n in na | nb] + shared + sorted((na | nb) - set(shared) - {"default"})


def _same_version(a: str, b: str, rec: ModelRecord, versions: list[int]) -> BadInputError:
    """The error for two references to one version, suggesting two versions that exist (or saying there is one)."""
    if len(versions) < 2:
        return BadInputError(f"{a!r} and {b!r} are both {rec.ref}: {rec.name!r} has one version, {rec.ref}; train or "
                             "import another to compare with it.")
    other = max(v for v in versions if v != rec.version)
    pair = sorted([other, rec.version])
    return BadInputError(f"{a!r} and {b!r} are both {rec.ref}: name two versions, e.g. '{rec.name}@{pair[0]}' and "
                         f"'{rec.name}@{pair[1]}' (stored: {', '.join(str(v) for v in versions)}).")


def _scores_sql(rec: ModelRecord, cols: list[str]) -> str:
    """anomaly_score pinned to ``rec``'s version ('name@N', so a retrain mid-query changes nothing)."""
    return f"anomaly_score({quote_literal(rec.ref)}, {', '.join(quote_ident(c) for c in cols)})"


# Twice each row's average rank (Spearman's, ties sharing the mean of their places) is a whole number: summed as
# HUGEINT, the sums are exact whatever order DuckDB's threads add them in. Why not corr(): its floating-point
# partial sums, added in the order the threads finish, changed the last digits from run to run.
_RANK_SUMS = ("sum((2 * ka + na - 1)::HUGEINT)", "sum((2 * kb + nb - 1)::HUGEINT)",
              "sum((2 * ka + na - 1)::HUGEINT * (2 * kb + nb - 1))", "sum((2 * ka + na - 1)::HUGEINT * (2 * ka + na - 1))",
              "sum((2 * kb + nb - 1)::HUGEINT * (2 * kb + nb - 1))")


def _rank_correlation(n: int, sx: int | None, sy: int | None, sxy: int | None, sxx: int | None,
                      syy: int | None) -> float | None:
    """Pearson's correlation of the (doubled) ranks from their exact sums; None when one side's ranks are all equal
    (constant scores) or there are no rows."""
    if not n or sx is None or sy is None or sxy is None or sxx is None or syy is None:
        return None
    cov, vx, vy = n * int(sxy) - int(sx) * int(sy), n * int(sxx) - int(sx) ** 2, n * int(syy) - int(sy) ** 2
    if vx <= 0 or vy <= 0:
        return None
    return max(-1.0, min(1.0, cov / (math.sqrt(vx) * math.sqrt(vy))))


def compare_versions(con: duckdb.DuckDBPyConnection, a: str, b: str, source: str, *, where: str | None = None,
                     top: int = 100, label: str | None = None, weight: str | None = None,
                     sampled: str | None = None) -> VersionComparison:
    """Score ``source`` with two model versions and compare what they flag.

    Parameters
    ----------
    con : a connection with the SQL functions registered (``ad_duckdb.connect`` or ``register``).
    a, b : model references, 'name@N' or 'name' (its latest version); usually two versions of one name, but any two
        models whose features ``source`` holds.
    source : table, view, table function or SELECT query to score.
    where : optional SQL filter on ``source``.
    top : how many highest-scoring rows of each version to compare (default 100).
    label : optional column of ``source`` holding 1 (anomaly) or 0 (normal): adds each version's AUC-ROC, AUC-PR and
        precision / recall at each threshold, and whether the AUC-ROC difference is more than chance
        (``labelled``). At least 2 anomalies and 2 normal rows.
    weight : with ``label``, a column of ``source`` holding each labelled row's sample weight (normal rows sampled
        1 in 50: 50); each row then counts as that many in the AUCs, precisions and recalls (as scikit-learn's
        ``sample_weight``), the flagged counts, ``top_overlap_weighted`` and ``rank_correlation_weighted``, and
        DeLong's test takes Kish's effective sizes of each class; on an audit sample, the test is ``weights.PAIRED_AUDIT`` (``labelled.test``).
    sampled : with ``weight``, which rows the sample drew, as ``evaluate(sampled=)``: ``'rows'`` (the default: either
        class, as an audit, read from the weights as above) or ``'normal'`` (every anomaly kept at one weight, the
        normal rows sampled by their own strata, whatever the score): DeLong's paired test then holds and is the one
        used, and the precisions' and recalls' intervals are evaluate's of ``sampled='normal'``
        (``labelled.weights['sampled']``); anomalies of differing weights are refused there.

    Returns
    -------
    VersionComparison
        Per threshold name: each version's value, method, origin (``chosen_on``, e.g. "carried from tx_ae@7 ...")
        and flagged rows (``score > value``, as ``is_anomaly_at``), and the rows both flag; the overlap of the two
        top-``top`` lists and the rank correlation of all scores.
    """
    with interrupts.raised_as_interrupt("compare_versions", a, b), ExitStack() as within:
        if isinstance(top, bool) or not isinstance(top, int) or top < 1:
            raise OptionError(f"{optionwords.opt('top')} is how many highest-scoring rows to compare: a whole number "
                              f">= 1; got {top!r}.")
        if weight is not None and label is None:  # said first: it was said after both versions scored every row
            raise OptionError(f"{optionwords.opt('weight')} weighs labelled rows: give {optionwords.opt('label')} too.")
        sampling.check(f"compare {a!r} and {b!r}", sampled, weight)
        rec_a, rec_b = load_model(con, a), load_model(con, b)
        # Why: the rows are scored by the SQL function anomaly_score, which a connection of duckdb.connect(...) has
        # not until registered ("Scalar Function with name anomaly_score does not exist!"); score and evaluate
        # register them themselves
        reg = registry(con)
        # each version scores every row: a column that moved is said once, not once by each
        within.enter_context(batchdrift.once_for_both(reg.get(rec_a.ref), reg.get(rec_b.ref)))
        # a DataFrame or Arrow table of the caller's is read by its variable's name, as train and score read it
        cur = pysource.cursor(con, source, rereads=True)
        labelled: _LabelledRows | None = None
        try:
            if rec_a.ref == rec_b.ref:
                raise _same_version(a, b, rec_a, store.known_models(cur).get(rec_a.name, [rec_a.version]))
            cols_a, cols_b = source_features(cur, rec_a, source), source_features(cur, rec_b, source)
            names = _threshold_names(rec_a, rec_b)
            ta: list[Threshold | None] = [rec_a.threshold(n) for n in names]
            tb: list[Threshold | None] = [rec_b.threshold(n) for n in names]
            # one FILTER triple per threshold name; the values are named parameters, so no number is SQL text
            parts: list[str] = []
            params: dict[str, Any] = {"top": top}
            for k, (x, y) in enumerate(zip(ta, tb, strict=True)):
                params[f"a{k}"], params[f"b{k}"] = (x.value if x else None), (y.value if y else None)
                parts += [f"count(*) FILTER (WHERE sa > $a{k})", f"count(*) FILTER (WHERE sb > $b{k})",
                          f"count(*) FILTER (WHERE sa > $a{k} AND sb > $b{k})"]
            # a tie at the cut: the rows sharing the top-th score (its rank group) run past the top-th place
            ties = [f"coalesce(max(n{v}) FILTER (WHERE r{v} = $top AND k{v} + n{v} - 1 > $top), 0)" for v in "ab"]
            counts = ", ".join(["count(*)", "count(*) FILTER (WHERE ra <= $top AND rb <= $top)", *ties, *parts,
                                *_RANK_SUMS])
            if where:  # checked alone: in the query below DuckDB's message quoted our scoring SQL, the filter unnamed
                try:
                    cur.execute(f"SELECT * FROM {source_sql(source)}{where_sql(where)} LIMIT 0")
                except duckdb.Error as e:
                    raise (SourceNotFoundError if is_missing_column(e) else BadInputError)(
                        f"{optionwords.opt('where', where)} does not run on {source!r}: {first_part(str(e))}.") from None
            # with a label, the rows are scored once, with it: the counts below and the labelled figures read the
            # same scores. Why: each version scored every row twice (the second time for _judged), 60% of the CPU
            # of compare --label at 1M rows. None: the label does not read, and _judged says why
            if label is not None:
                _check_labels_first(con, cur, rec_a, rec_b, source, where, label, weight, sampled)
                labelled = _labelled_rows(cur, rec_a, rec_b, cols_a, cols_b, source, where, label, weight)
            scores = f"{_scores_sql(rec_a, cols_a)} AS sa, {_scores_sql(rec_b, cols_b)} AS sb"
            scored = f"{source_sql(source)}{where_sql(where or 'true')}"
            if labelled is not None:
                cur.register(_SCORED_VIEW, pa.table({"sa": labelled[0], "sb": labelled[1]}))
                scores, scored = "sa, sb", _SCORED_VIEW
            # MATERIALIZED: each version scores each row once, not once per window and aggregate that reads it.
            # Tied scores get their average rank (Spearman's), not row numbers in scan order: identical rows had a
            # "rank correlation" near 1, and constant scores must give none. The top-N keeps row numbers (N rows);
            # where ties straddle the cut, which tied rows count is read order, so their number is reported.
            try:
                row = cur.execute(
                    f"WITH s AS MATERIALIZED (SELECT {scores} FROM {scored}), r AS (SELECT sa, sb, "
                    f"row_number() OVER (ORDER BY sa DESC) AS ra, row_number() OVER (ORDER BY sb DESC) AS rb, "
                    "rank() OVER (ORDER BY sa DESC) AS ka, count(*) OVER (PARTITION BY sa) AS na, "
                    "rank() OVER (ORDER BY sb DESC) AS kb, count(*) OVER (PARTITION BY sb) AS nb FROM s "
                    f"WHERE sa IS NOT NULL AND sb IS NOT NULL) SELECT {counts} FROM r", params,
                ).fetchall()[0]
            except duckdb.Error as e:
                # Why: a row the source's query cannot compute (error(), a cast of text) was DuckDB's words alone,
                # "Invalid Input Error: boom", naming neither the versions nor the source; our functions' own
                # errors name them already, and a Ctrl-C stays one
                if is_interrupt(e) or raised_in_function(str(e)) is not None:
                    raise
                raise (SourceNotFoundError if is_missing_column(e) else BadInputError)(
                    f"Comparing {rec_a.ref} and {rec_b.ref}: cannot read {source!r}: {first_part(str(e))}.") from e
        finally:
            if labelled is not None:
                cur.unregister(_SCORED_VIEW)
            cur.close()
        if not row[0]:
            raise NoRowsError(f"No rows of {source}{' matching ' + repr(where) if where else ''} to compare {rec_a.ref} "
                              f"and {rec_b.ref} on: give a source with rows (or a --where that matches some).")
        corr = _rank_correlation(int(row[0]), *row[len(row) - len(_RANK_SUMS):])
        out = VersionComparison(rec_a.ref, rec_b.ref, source, int(row[0]), top, int(row[1]), corr, int(row[2]),
                                int(row[3]), where=where if where and where.strip() else None)
        if rec_a.sha256 == rec_b.sha256 and rec_a.features == rec_b.features:
            out.same_model, out.sha256 = True, rec_a.sha256
        for k, (n, x, y) in enumerate(zip(names, ta, tb, strict=True)):
            fa, fb, both = row[4 + 3 * k: 7 + 3 * k]
            out.thresholds.append(ThresholdComparison(
                n, x.value if x else None, y.value if y else None, int(fa) if x else None, int(fb) if y else None,
                int(both) if x and y else None, x.method if x else None, y.method if y else None,
                x.chosen_on if x else None, y.chosen_on if y else None))
        if label is not None:
            out.labelled = _judged(con, rec_a, rec_b, source, where, label, out.thresholds, labelled, weight, sampled)
            # evaluate's note on rows a version was trained on, for each: their figures flatter it (said in the
            # README only, while evaluate of the same rows said it)
            for rec in (rec_a, rec_b):
                overlap = _training_overlap(con, reg.get(rec.ref), source, where, label)
                if overlap:
                    notes.warn(overlap)
        if labelled is not None and labelled[3] is not None:
            w = np.where(labelled[3] > 0, labelled[3], 0.0)  # rows of weight 0 count as none
            out.top_overlap_weighted, out.top_weighted = weighted_top_overlap(labelled[0], labelled[1], w, top)
            out.rank_correlation_weighted = weighted_spearman(labelled[0], labelled[1], w)
        return out


def weighted_top_overlap(sa: np.ndarray, sb: np.ndarray, w: np.ndarray, top: int) -> tuple[float, float]:
    """How much of the ``top`` highest-scoring rows of what rows of weights ``w`` stand for both versions' tops
    share (in rows stood for), and the size of those tops (``top``, or the weights' sum where smaller).

    Why: with normal rows sampled 1 in 50, compare --weight's top 100 were 100 sampled rows, standing for
    thousands, while its flagged counts and figures were of the rows stood for. A row counts in a top for the part
    of its weight above the cut; rows tied at the cut share the rest in proportion to their weights, so the figure
    does not depend on the order rows are read in."""
    top_w = min(float(top), float(w.sum()))
    ina, inb = (_in_top(s, w, top_w) for s in (sa, sb))
    return float(np.minimum(ina, inb).sum()), top_w


def _in_top(s: np.ndarray, w: np.ndarray, top: float) -> np.ndarray:
    """Each row's weight within the ``top`` heaviest-scoring rows stood for: all of it above the cut, none below,
    and a share of the weight left at the cut for the rows whose score it falls on."""
    order = np.argsort(-s, kind="stable")
    ss, ws = s[order], w[order]
    starts = np.r_[0, np.flatnonzero(ss[1:] != ss[:-1]) + 1]
    group_w = np.add.reduceat(ws, starts) if len(ws) else ws
    before = np.r_[0.0, np.cumsum(group_w)[:-1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(group_w > 0, np.clip(top - before, 0.0, group_w) / group_w, 0.0)
    out = np.empty_like(ws)
    out[order] = ws * np.repeat(share, np.diff(np.r_[starts, len(ws)]))
    return out


def _judged(con: duckdb.DuckDBPyConnection, rec_a: ModelRecord, rec_b: ModelRecord, source: str, where: str | None,
            label: str, thresholds: list[ThresholdComparison], rows: _LabelledRows | None,
            weight: str | None = None, sampled: str | None = None) -> LabelledComparison:
    """Both versions judged on ``label`` (``compare_versions``), the thresholds' precision and recall filled in:
    ``rows``, the rows' two scores, label and weight (``_labelled_rows``; None where the label did not read);
    ``sampled``: ``compare_versions``'s."""
    from .invertedlabels import _inverted_labels

    if rows is None:  # the label did not read (_labelled_rows)
        raise _refused(con, rec_a, rec_b, source, where, label)
    sa, sb, y, wa, wcol = rows
    keep, summary = _usable_labels(con, rec_a, rec_b, source, where, label, y, wa, wcol, weight, sampled)
    w = None
    if keep is not None and wa is not None:
        sa, sb, y, w = sa[keep], sb[keep], y[keep], wa[keep]
    m = int(y.sum())
    for t in thresholds:
        for side, value, s in (("a", t.value_a, sa), ("b", t.value_b, sb)):
            if value is not None:
                c = confusion(s, y, value) if w is None else weights.confusion(s, y, w, value, sampled)
                # no flag, no precision (evaluate prints '-'): 0.0 read as every flag wrong
                flags = c["tp"] + c["fp"]
                setattr(t, f"precision_{side}", c["precision"] if flags else None)
                setattr(t, f"recall_{side}", c["recall"])
                for k in ("precision_lo", "precision_hi", "recall_lo", "recall_hi"):
                    v = float(c[k])
                    setattr(t, k.replace("_", f"_{side}_", 1),
                            v if math.isfinite(v) and (flags or k.startswith("recall")) else None)
        if t.value_a is not None and t.value_b is not None:
            fa_all, fb_all = sa > t.value_a, sb > t.value_b
            yb = y.astype(bool)
            t.paired = [pairedflags.test(fa_all, fb_all, w, rows, what, sampled)
                        for rows, what in ((yb, pairedflags.ANOMALIES), (~yb, pairedflags.NORMAL))]
        if w is not None:
            fa = None if t.value_a is None else sa > t.value_a
            fb = None if t.value_b is None else sb > t.value_b
            t.flagged_a_weighted = None if fa is None else float(w[fa].sum())
            t.flagged_b_weighted = None if fb is None else float(w[fb].sum())
            t.both_weighted = None if fa is None or fb is None else float(w[fa & fb].sum())
    # evaluate's question when the labels look inverted (1 = inlier). Why here too: the verdict below otherwise named
    # the version that ranks the real anomalies worse as the better one, without a word. One note: both versions
    # read the same labels. Why one curve a version: the check and AUC-PR each sorted the rows for their own
    if w is None:
        curves = [thresholds_curve(s, y) for s in (sa, sb)]
        note = next(filter(None, (_inverted_labels(rec, label, s, y, *_curve_auc(c, m, len(y) - m))
                                  for rec, s, c in zip((rec_a, rec_b), (sa, sb), curves, strict=True))), None)
        if note:
            notes.warn(note)
        p = paired_auc_roc(sa, sb, y)
        return LabelledComparison(label, len(y), m, p.auc_a, p.auc_b, auc_pr(sa, y, curves[0]),
                                  auc_pr(sb, y, curves[1]), p.diff, p.low, p.high, p.p_value, test=p.method,
                                  df=p.df)
    ca, cb = weights.curve(sa, y, w), weights.curve(sb, y, w)
    from .invertedlabels import _weighted_inverted

    note = _weighted_inverted(rec_a, label, sa, y, w, ca) or _weighted_inverted(rec_b, label, sb, y, w, cb)
    if note:
        notes.warn(note)
    try:
        p = weights.paired_auc_roc(sa, sb, y, w, curves=(ca, cb), sampled=sampled)
    except ValueError as e:  # effective sizes below 2: one heavy row of a class
        raise NoRowsError(f"label={label!r}, weight={weight!r}: {e} (a --where that keeps more labelled rows, or "
                          "more labels).") from None
    return LabelledComparison(label, len(y), m, p.auc_a, p.auc_b, auc_pr(sa, y, c=ca),
                              auc_pr(sb, y, c=cb), p.diff, p.low, p.high, p.p_value, summary, p.method,
                              p.df)


def _refused(con: duckdb.DuckDBPyConnection, rec_a: ModelRecord, rec_b: ModelRecord, source: str, where: str | None,
             label: object) -> BadInputError:
    """evaluate's own error for this label (it names the values, the missing column or the query that fixes it), for a
    label this comparison cannot use; read without scoring a row."""
    from .labelled import _labelled_scores

    for rec in (rec_a, rec_b):
        _labelled_scores(con, rec.ref, source, label, where, scored=False)  # type: ignore[arg-type]
    return BadInputError(f"{optionwords.opt('label', label)} must name a column of {source!r} holding 1 (anomaly) "
                         "or 0 (normal) in every row compared.")


def _usable_labels(con: duckdb.DuckDBPyConnection, rec_a: ModelRecord, rec_b: ModelRecord, source: str,
                   where: str | None, label: str, y: np.ndarray, wa: np.ndarray | None, wcol: str | None,
                   weight: str | None, sampled: str | None = None) -> tuple[np.ndarray | None, dict[str, Any] | None]:
    """Raise where the compared rows' labels ``y`` (and weights ``wa`` of column ``wcol``) cannot judge the versions:
    a value not 0 / 1, fewer than 2 of a class, anomalies of differing weights said to be all kept (``sampled``).
    Else the rows that count (weight > 0; None without weights) and the weights' summary. Reads labels and weights
    only: compare_versions calls it before scoring as well."""
    if not np.isin(y, (0.0, 1.0)).all():  # NaN (a NULL label) included
        raise _refused(con, rec_a, rec_b, source, where, label)
    keep, summary = None, None
    if wcol is not None and wa is not None:
        weights.check_values(rec_b.ref, source, where, wcol, wa)
        weights.check_classes(rec_b.ref, wcol, y, wa)
        sampling.check_anomalies(f"compare {rec_a.ref!r} and {rec_b.ref!r}", wcol, sampled, y, wa)
        summary = weights.summary(wcol, y, wa)
        if sampled is not None:  # only when said: the JSON of a comparison without it stays as it was
            summary["sampled"] = sampled
        keep = wa > 0  # a row of weight 0 counts as none
        y = y[keep]
    m = int(y.sum())
    if m < 2 or len(y) - m < 2:
        raise NoRowsError(f"label={label!r}: {m} labelled anomal{'y' if m == 1 else 'ies'} and {len(y) - m} normal "
                          f"row(s) among the {len(y)} compared; judging which version ranks anomalies better needs at "
                          "least 2 of each (a --where that keeps more labelled rows, or more labels).")
    return keep, summary


def _check_labels_first(con: duckdb.DuckDBPyConnection, cur: duckdb.DuckDBPyConnection, rec_a: ModelRecord,
                        rec_b: ModelRecord, source: str, where: str | None, label: object,
                        weight: str | None, sampled: str | None = None) -> None:
    """Raise what ``_judged`` would for a label (and weight) it cannot use, from the label and weight columns alone.

    Why: a label that was missing, not 0 / 1 or of one class was refused only after both versions had scored every
    row (and then one of them again, for evaluate's message), three scoring passes to say what one read of the label
    column tells. Every row scores (anomaly_score is never NULL), so the rows compared are the rows read here."""
    read = _label_values(cur, rec_a, rec_b, source, where, label, weight)
    if read is None or not isinstance(label, str):
        raise _refused(con, rec_a, rec_b, source, where, label)
    _usable_labels(con, rec_a, rec_b, source, where, label, *read, weight, sampled)


def _label_values(cur: duckdb.DuckDBPyConnection, rec_a: ModelRecord, rec_b: ModelRecord, source: str,
                  where: str | None, label: object,
                  weight: str | None) -> tuple[np.ndarray, np.ndarray | None, str | None] | None:
    """``label`` (as a float, NaN for NULL) and ``weight``'s values of the rows compared, and the weight column, as
    ``_labelled_rows`` reads them but without the scores; None where ``label`` is no usable name or does not read as
    a number."""
    if not isinstance(label, str) or not _label_usable(label, rec_a, rec_b):
        return None
    wcol = _weight_column(cur, rec_b, source, label, weight)
    label_read = _label_read(label, wcol)
    try:
        rows = cur.execute(f"SELECT {label_read} FROM {source_sql(source)}{where_sql(where or 'true')}").fetchnumpy()
    except duckdb.Error as e:
        if is_interrupt(e):
            raise
        return None
    y, *wa = (np.ma.filled(np.ma.asarray(rows[k], dtype=np.float64), np.nan) for k in rows)
    return y, (wa[0] if wa else None), wcol


def _weight_column(cur: duckdb.DuckDBPyConnection, rec_b: ModelRecord, source: str, label: str,
                   weight: str | None) -> str | None:
    """The weight column of ``source`` (``weights.check_column``: a missing or unusable one is said here), or None."""
    if weight is None:
        return None
    cols = cur.execute(f"DESCRIBE SELECT * FROM {source_sql(source)}").fetchall()
    return weights.check_column(rec_b.ref, source, weight, label, [(c, t) for c, t, *_ in cols])


def _label_read(label: str, wcol: str | None) -> str:
    """The SQL reading a row's label (and weight) as numbers."""
    read = f"CAST({quote_ident(label)} AS DOUBLE) + 0"
    return read if wcol is None else f"{read}, CAST({quote_ident(wcol)} AS DOUBLE) + 0"


def _curve_auc(c: dict[str, np.ndarray], n_pos: int, n_neg: int) -> tuple[float, intervals.AUCInterval]:
    """AUC-ROC and its interval from a version's curve, as ``_inverted_labels`` would work them out."""
    auc = curve_auc_roc(c, n_pos, n_neg)
    return auc, intervals.auc_roc(c, n_pos, n_neg, auc)


# The view the labelled rows' two scores are read back through (compare_versions), unregistered after
_SCORED_VIEW = "__ad_compare_scores"


def _label_usable(label: object, rec_a: ModelRecord, rec_b: ModelRecord) -> bool:
    """Whether ``label`` may name the label column: a name, and no feature of either version."""
    return isinstance(label, str) and bool(label) and label.lower() not in {
        f.name.lower() for rec in (rec_a, rec_b) for f in rec.features}


# The labelled rows' two scores, label, weight (None without one) and the weight column (_labelled_rows)
_LabelledRows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, str | None]


def _labelled_rows(cur: duckdb.DuckDBPyConnection, rec_a: ModelRecord, rec_b: ModelRecord, cols_a: list[str],
                   cols_b: list[str], source: str, where: str | None, label: object,
                   weight: str | None = None) -> _LabelledRows | None:
    """The two versions' scores, ``label`` (as a float, NaN for NULL) and ``weight``'s values of the rows both
    score; None where ``label`` is no usable name or does not read as a number."""
    if not isinstance(label, str) or not _label_usable(label, rec_a, rec_b):
        return None
    wcol = _weight_column(cur, rec_b, source, label, weight)
    # Why names of our own: beside a label column named sa or sb, "sa" was that column, and the label was refused
    # as not holding 0 / 1. Why MATERIALIZED: DuckDB moved the IS NOT NULL filter under the scores, so each
    # version scored every row twice, once for the filter and once for the value
    scores = f"{_scores_sql(rec_a, cols_a)} AS __ad_sa, {_scores_sql(rec_b, cols_b)} AS __ad_sb"
    label_cols = quote_ident(label) if wcol is None else f"{quote_ident(label)}, {quote_ident(wcol)}"
    label_read = _label_read(label, wcol)
    try:
        rows = cur.execute(
            f"WITH s AS MATERIALIZED (SELECT {scores}, {label_cols} FROM {source_sql(source)}"
            f"{where_sql(where or 'true')}) SELECT __ad_sa, __ad_sb, {label_read} FROM s "
            "WHERE __ad_sa IS NOT NULL AND __ad_sb IS NOT NULL"
        ).fetchnumpy()
    except duckdb.Error as e:
        if is_interrupt(e):
            raise
        return None
    # NULL as NaN: DuckDB hands a column with NULLs over as a masked array, whose plain values hide them
    sa, sb, y, *wa = (np.ma.filled(np.ma.asarray(rows[k], dtype=np.float64), np.nan) for k in rows)
    return sa, sb, y, (wa[0] if wa else None), wcol
