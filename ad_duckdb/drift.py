"""The note on scored rows that moved away from the training data: far more of them above the default threshold than
it flags on the training rows, with the columns whose values left the training range. Never imports torch.

Why: a model trained in one operating range (SKAB's pump at a flow of about 122) flags every row of another (a flow
of about 32) with every threshold, and nothing told the user that the data moved rather than that everything is
anomalous. Counted while scoring, from the rows and scores it already has: nothing is scored twice. The SQL
functions see 2048 rows at a time, not the set: batchdrift notes a batch's column that left its range.
"""

from __future__ import annotations

import warnings

import numpy as np

from . import optionwords
from .categorical import SHARES_KEY, is_slot
from .features import RANGE_QUANTILE_UNLABELLED, FeatureSpec, raw_values, signed_log
from .numbertext import share_text
from .scoring import LoadedModel
from .sqltext import sql_name
from .thresholds import QUANTILES

# The note's rule: at least MIN_ROWS rows, at least MIN_SHARE of them above the default threshold, and at least
# MIN_RATIO times the share it flags on the training rows. Why these: an ordinary anomaly rate (a few percent, or a
# contamination of 10% on data that has 10%) stays below 20%, and 5x keeps a loose threshold (a contamination of 0.1
# flagging 20% of new rows) from firing; fewer than 500 rows say little about a share.
MIN_ROWS = 500
MIN_SHARE = 0.20
MIN_RATIO = 5.0
# A column has moved when at least this share of the rows lies outside its training range, or its median is at least
# this many robust spreads (the model's scaling unit) from the training median; at most MAX_COLUMNS named, largest
# first. Why half: SKAB's valve1 scored by a model of its own normal rows had a fifth of its rows above the threshold
# and 13% outside the flow range (its labelled anomalies, a third of the rows), with the flow median where it was.
MOVED_OUTSIDE = 0.5
MOVED_SPREADS = 2.0
MAX_COLUMNS = 3
# Rows kept for the medians: every row at a multiple of one stride over all the rows scored, the stride doubled (and
# the sample thinned by half) whenever the sample would outgrow this, so memory stays flat however many rows are
# scored (64k rows x d float64: 15 MiB at d = 30).
SAMPLE_ROWS = 1 << 16
# float32 input (to_matrix) against float64 bounds: a training value at the edge must not count as outside.
_EDGE = 1e-6
# A column's NULL share is named beside its share outside the range from this share up: a column mostly NULL in the
# scored rows is news of its own, and the share outside is of the rows with a value.
NULL_NOTED = 0.05
# The second rule, for rows that moved without crossing the threshold in numbers (every amount doubled, a currency
# change: 2.6% flagged against 1%): the population stability index of the scores over the training scores' deciles,
# noted from MIN_PSI (0.25 is the usual reading of a significant shift). Why the scores: the model stores each
# column's median, spread and range, not its distribution, and the score is the model's view of the whole row.
# Measured (bench: held-out rows of the training data): 0.008 for the transactions, 0.015 to 0.067 on 5 ADBench
# files (500 rows or more); a doubled amount 0.93, a count 3 higher 0.32, an amount 1.6x 0.30, 1.3x 0.045.
MIN_PSI = 0.25
PSI_BINS = 10
# A column is named as having moved, beside a PSI note, from this many robust spreads between its medians
PSI_NAMED_SPREADS = 0.25
# A text column is named when a category's share of the rows (or any other value's) moved by this much from its
# share in training (the model's SHARES_KEY metric); one without that metric (stored before it), when this share of
# the rows holds values that are not categories. Why 10 points: a channel mix of 60/30/10 is read as it is by a model,
# so a shift of a few points is noise, and one of 10 changes what the typical row is.
TEXT_SHIFT = 0.1
# The training-score quantile the note goes by when the model stores neither 'default' nor a p90 ... p999 threshold.
FALLBACK_QUANTILE = 0.99


def _cut(lm: LoadedModel) -> tuple[float | None, str]:
    """The threshold the note counts rows above, and what it is called: 'default', else (removed by the user) the
    largest stored training quantile (p999, p99, ...), else the FALLBACK_QUANTILE point of the training scores."""
    if "default" in lm.thresholds:
        return lm.thresholds["default"], "the model's default threshold"
    stored = [(v, k) for k, v in lm.thresholds.items() if k in QUANTILES]
    if stored:
        v, k = max(stored)
        return v, f"the model's threshold {k!r} (it has no 'default' threshold)"
    if lm.quantiles is not None:
        v = float(np.quantile(lm.quantiles, FALLBACK_QUANTILE))
        return v, (f"the {FALLBACK_QUANTILE:.0%} point of the model's training scores (it has no 'default' or "
                   "p90 ... p999 threshold)")
    return None, ""


def _score_bins(lm: LoadedModel) -> tuple[np.ndarray, np.ndarray]:
    """The training scores' PSI_BINS-quantiles as bin edges (a run of tied scores makes one edge) and the share of
    training rows in each bin (a score equal to an edge goes below it, as ``score > threshold`` flags); empty
    without stored quantiles."""
    if lm.quantiles is None or not len(lm.quantiles):
        return np.zeros(0), np.zeros(0)
    edges = np.unique(np.quantile(lm.quantiles, np.linspace(0.0, 1.0, PSI_BINS + 1)[1:-1]))
    above = np.array([lm.share_above(float(e)) for e in edges])
    expected = -np.diff(np.concatenate([[1.0], above, [0.0]]))
    return edges, np.clip(expected, 0.0, 1.0)


def _shift(f: FeatureSpec, value: float) -> float:
    """How many robust spreads ``value`` lies from the training median, in the model's own scaled units."""
    t = float(signed_log(np.array([value]))[0]) if f.transform == "slog" else value
    return (t - f.center) / f.scale


def _side(above: float, below: float) -> str:
    """Where a column's values outside its training range lie: 'above', 'below', or both with their shares.
    Why said: "outside its training range 1 to 84" left the user to find out whether the counts had grown or
    shrunk, which is the first thing a check of the column's source asks."""
    if below <= 0.05 * above:
        return "above"
    if above <= 0.05 * below:
        return "below"
    return f"outside ({share_text(above)} above, {share_text(below)} below)"


def _factor(median: float, trained: float) -> float | None:
    """The scored median as a multiple of the training median, where both are positive and it moved 2x or more."""
    if not (median > 0 and trained > 0):
        return None
    r = median / trained
    return r if r >= 2 or r <= 0.5 else None


def _ratio_text(r: float) -> str:
    return f"{r:.3g}x" if r >= 1 else f"1/{1 / r:.3g}"


def _how_far(f: FeatureSpec, median: float) -> str:
    """How far the scored median lies from the training one: a factor where both are positive and apart 2x or more,
    else in robust spreads (the model's scaling unit)."""
    r = _factor(median, f.fill)
    return f" ({_ratio_text(r)})" if r is not None else f" ({_shift(f, median):+.2f} spreads)"


# A factor within this of a power of ten (10x, 100x, 1/1000) reads as a change of units
_UNITS_TOLERANCE = 0.1


def _checks(moved: list[tuple[str, float | None]]) -> str:
    """What to check of the named columns when their new values are not normal: their source, and their units
    where a column's median moved by about a power of ten (cents read as dollars give 100x)."""
    names = " and ".join(repr(n) for n, _ in moved)
    said = f"check {names} at {'their' if len(moved) > 1 else 'its'} source (a load, a join or a parse that changed)"
    for n, r in moved:
        k = round(float(np.log10(r))) if r is not None else 0
        if r is None or k == 0 or abs(r / 10.0**k - 1) > _UNITS_TOLERANCE:
            continue
        back = f"{sql_name(n)} / {10**k}" if k > 0 else f"{sql_name(n)} * {10**-k}"
        said += (f"; {n!r}, at {_ratio_text(r)} its training median, looks like other units (dollars as cents are "
                 f"100x): score a query that converts it back ({back} AS {sql_name(n)})")
    return said


def apart(values: list[float]) -> list[str]:
    """``values`` to 4 significant digits, or as many more (up to 12) as tell the different ones apart.

    Why: a pressure in pascals of 101300 to 101349 in training, read 400 Pa high, was noted as "outside its
    training range 1.013e+05 to 1.013e+05; median 1.017e+05 against 1.013e+05", a range of one number."""
    distinct = len({v for v in values if np.isfinite(v)})
    for digits in range(4, 13):
        texts = [f"{v:.{digits}g}" for v in values]
        if len({t for t, v in zip(texts, values, strict=True) if np.isfinite(v)}) == distinct:
            return texts
    return texts


def _exact(category: str) -> str:
    """That a text value is read as a category only when it is the category exactly, with ``category`` changed as an
    upstream load changes it (case, a trailing space)."""
    case = category.swapcase()
    return (f"case and spaces count: {case!r} or {category + ' '!r} is not {category!r}" if case != category else
            f"spaces count: {category + ' '!r} is not {category!r}")


def train_where(lm: LoadedModel) -> str:
    """What trains on chosen rows, in the words of where ``lm``'s rows were scored: a command's (``score``, ``sql``),
    Python's and dbt's, or both from ``serve``, whose clients train elsewhere by either."""
    cli, python = "ad-duckdb train ... --where", "ad_duckdb.train(..., where=...)"
    if lm.surface == "serve":
        return f"{cli}, or {python}"
    # SQL functions run on DuckDB's threads, where SURFACE is not set: their surface is the model's
    return cli if lm.surface in ("sql", "command") or optionwords.SURFACE.get() == "cli" else python


class DriftTally:
    """Counts, over the scored batches, the rows above the default threshold, and keeps a bounded sample of the rows
    for each column's share outside its training range and its median; ``note`` says whether the rows moved.

    Why the shares from the sample: counting every row outside its range cost a quarter of the scoring time at
    d = 30 (2.6 ms per 65,536 rows, against about 11 ms to score them); the sample costs about 50 ms over 10M rows
    (a copy of the first batch, then a few hundred rows a batch), and its tens of thousands of rows give a share to
    within a point, plenty for a note."""

    def __init__(self, lm: LoadedModel) -> None:
        self.lm = lm
        self.threshold, self.cut_name = _cut(lm)
        specs = lm.rec.features
        lo = np.array([float(raw_values(f, np.array(f.lo))) for f in specs])
        hi = np.array([float(raw_values(f, np.array(f.hi))) for f in specs])
        self.lo = lo - _EDGE * np.maximum(np.abs(lo), 1e-30)
        self.hi = hi + _EDGE * np.maximum(np.abs(hi), 1e-30)
        self.rows = 0
        self.flagged = 0
        self._sample: list[np.ndarray] = []
        self._kept = 0
        self._stride = 1
        self._seen = 0
        self._scores: list[np.ndarray] = []  # the sampled rows' scores, for the PSI rule
        # the training scores' deciles (ties merged) and the share of training rows between each two
        self.edges, self.expected = _score_bins(lm)
        self.checks = "check the columns' units and source"  # named by _moved

    def add(self, X: np.ndarray, scores: np.ndarray) -> None:
        """One batch: raw feature values [n, d] (NaN for missing) and their scores."""
        if self.threshold is None or not len(X):
            return
        self.rows += len(X)
        self.flagged += int(np.count_nonzero(scores > self.threshold))
        # One stride over all the rows, not so many rows a batch: a short last batch taken in full outweighed the
        # rows before it (the end of a time-ordered log, where the drift is). The sample holds the rows at multiples
        # of the stride from the first, so every other one of them is at a multiple of twice the stride.
        while self._kept + -(-len(X) // self._stride) > SAMPLE_ROWS and self._kept:
            kept = np.concatenate(self._sample)[::2]
            self._scores = [np.concatenate(self._scores)[::2]]
            self._sample, self._kept, self._stride = [kept], len(kept), self._stride * 2
        while -(-len(X) // self._stride) > SAMPLE_ROWS:
            self._stride *= 2
        first = -self._seen % self._stride
        part = np.array(X[first:: self._stride], dtype=np.float64)  # a copy: a view would hold the whole batch
        self._seen += len(X)
        self._sample.append(part)
        self._scores.append(np.array(scores[first:: self._stride], dtype=np.float64))
        self._kept += len(part)

    def note(self, rows_text: str) -> str | None:
        """The note, or None when the rows do not meet the rule. ``rows_text``: what the rows are, e.g.
        "rows of 'valve1'"."""
        lm = self.lm
        if self.threshold is None or self.rows < MIN_ROWS or lm.quantiles is None:
            return None
        share = self.flagged / self.rows
        expected = lm.share_above(self.threshold)
        if share < MIN_SHARE or share < MIN_RATIO * expected:
            return self._psi_note(rows_text, share, expected)
        head = (
            f"{share_text(share)} of the {self.rows} {rows_text} score above {self.cut_name} "
            f"({self.threshold:.6g}), which flags {share_text(expected)} of its training rows (noted when at least "
            f"{MIN_RATIO:g}x that share, and {share_text(MIN_SHARE)}, of {MIN_ROWS} or more rows score above it)."
        )
        moved = self._moved()
        if not moved:
            return (f"{head} No column's median is far from its training median, and most rows lie inside each "
                    "column's training range: either these rows hold that many anomalies, or they combine the columns "
                    "in a way training did not see. Look at the top rows (anomaly_explain names their columns); if "
                    f"they are normal, train on rows like them ({train_where(self.lm)}).")
        return (f"{head} These rows have likely moved away from the model's training data, rather than all being "
                f"anomalies. Columns that moved, largest first: {'; '.join(moved)}. If these values are normal now, "
                f"train a model on rows of the new range ({train_where(self.lm)}); "
                f"if not, {self.checks}.")

    def binned(self) -> np.ndarray:
        """How many sampled rows with every value score in each bin of the training scores. Why those rows: a NULL is
        scored as the training median, which makes its row more typical than it is, so a column NULL in many rows
        would read as a shift of the scores. Why the sample (every row up to SAMPLE_ROWS): a NaN test of every
        value scored cost as much as the sample saves."""
        if not len(self.expected) or not self._sample:
            return np.zeros(len(self.expected), dtype=np.int64)
        X, s = np.concatenate(self._sample), np.concatenate(self._scores)
        s = s[np.isfinite(s) & ~np.isnan(X).any(axis=1)]
        return np.bincount(np.searchsorted(self.edges, s, side="left"), minlength=len(self.expected))

    def psi(self, binned: np.ndarray) -> float | None:
        """The population stability index of ``binned`` (``binned()``) against the training scores; None without
        rows or stored quantiles."""
        n = int(binned.sum())
        if not n or not len(self.expected):
            return None
        a = np.maximum(binned / n, 1e-4)
        e = np.maximum(self.expected, 1e-4)
        return float(np.sum((a - e) * np.log(a / e)))

    def _psi_note(self, rows_text: str, share: float, expected: float) -> str | None:
        binned = self.binned()
        psi = self.psi(binned)
        if psi is None or psi < MIN_PSI or int(binned.sum()) < MIN_ROWS:
            return None
        n, low = int(binned.sum()), float(binned[0]) / int(binned.sum())
        rows = (f"{self.rows} {rows_text}" if n == self.rows else
                f"{self.rows} {rows_text} ({n} sampled rows with every value)")
        head = (f"the scores of the {rows} are distributed unlike the training rows' (population stability "
                f"index {psi:.2f} over the training scores' deciles; noted from {MIN_PSI:g}, and rows like the "
                f"training ones give under 0.1): {share_text(share)} score above {self.cut_name} ({self.threshold:.6g}), "
                f"which flags {share_text(expected)} of its training rows, and {share_text(low)} score in the "
                f"training scores' lowest {share_text(float(self.expected[0]))}.")
        moved, mix = self._medians_moved(), self.text_shifts()
        where = (f" Columns whose medians moved most, in robust spreads (the model's scaling unit): {'; '.join(moved)}."
                 if moved else "" if mix else " No column's median moved by a quarter of its spread: the columns are "
                 "combined in a way training did not see.")
        where += f" Text columns whose values' mix moved: {'; '.join(mix[:MAX_COLUMNS])}." if mix else ""
        return (f"{head}{where} The thresholds no longer flag the share of these rows they were set for. If these "
                "values are normal now, train a model on rows like them (ad-duckdb train ... --where, or where= in "
                "Python) or stage one (--no-promote) and compare; if not, check the columns' units and source.")

    def _medians_moved(self) -> list[str]:
        """The columns whose sampled median is PSI_NAMED_SPREADS or more from the training median, largest first."""
        sample = np.concatenate(self._sample)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            medians = np.nanmedian(sample, axis=0)
        found = []
        for j, f in enumerate(self.lm.rec.features):
            med = float(medians[j])
            if not np.isfinite(med) or is_slot(f):  # a category's 0/1 input has no median to speak of
                continue
            spreads = _shift(f, med)
            if abs(spreads) >= PSI_NAMED_SPREADS:
                med_t, fill_t = apart([med, f.fill])
                found.append((abs(spreads), f"{f.name!r} (median {med_t} against {fill_t} in training, "
                                            f"{spreads:+.2f} spreads)"))
        found.sort(key=lambda m: m[0], reverse=True)
        shown = [t for _, t in found[:MAX_COLUMNS]]
        if len(found) > MAX_COLUMNS:
            more = len(found) - MAX_COLUMNS
            shown[-1] += f"; and {more} more column{'s' if more > 1 else ''}"
        return shown

    def text_shifts(self) -> list[str]:
        """The text columns whose category shares moved (``_text_shifts``), largest shift first."""
        return [t for _, t, _ in self._text_shifts(np.concatenate(self._sample))] if self._sample else []

    def _text_shifts(self, sample: np.ndarray) -> list[tuple[float, str, str]]:
        """(shift, text, column) for each text column whose category shares in ``sample`` moved TEXT_SHIFT or more from
        training's: the category that moved most, and any other value's share. Why: the medians said nothing of a
        text column, so a channel mix turned over (nearly every row 'phone', 10% in training) was not named."""
        lay = self.lm.layout
        if lay is None or not len(sample):
            return []
        trained = self.lm.rec.metrics.get(SHARES_KEY) or {}
        found: list[tuple[float, str, str]] = []
        at = lay.numeric
        for name, cats in lay.text:
            now = sample[:, at : at + len(cats) + 1].mean(axis=0)
            at += len(cats) + 1
            was = trained.get(name)
            if was is None or len(was) != len(now):  # stored before the shares were: the unseen values' share alone
                if now[-1] >= TEXT_SHIFT:
                    found.append((float(now[-1]), f"{name!r} ({share_text(float(now[-1]))} of the rows hold a value "
                                  "that is not a training category)", name))
                continue
            diff = now - np.asarray(was, dtype=np.float64)
            j = int(np.argmax(np.abs(diff)))
            if abs(diff[j]) < TEXT_SHIFT:
                continue
            what = repr(cats[j]) if j < len(cats) else "any other value"
            text = (f"{name!r} (category shares moved most at {what}: {share_text(float(now[j]))} of the rows against "
                    f"{share_text(float(was[j]))} in training"
                    + (f"; any other value {share_text(float(now[-1]))} against {share_text(float(was[-1]))}"
                       if j < len(cats) and max(now[-1], was[-1]) > 0 else "") + ")")
            found.append((float(abs(diff[j])), text, name))
        found.sort(key=lambda m: m[0], reverse=True)
        return found

    def _text_moved(self, sample: np.ndarray) -> list[tuple[float, float, str, str, float | None]]:
        """The text columns whose values are mostly none of their training categories (``_moved``'s entries).

        Why: an upstream change of case ('WEB' for 'web') read every row as "any other value" and flagged 95% of
        them, and the note said no column had moved."""
        lay = self.lm.layout
        if lay is None:
            return []
        found: list[tuple[float, float, str, str, float | None]] = []
        at = lay.numeric
        for name, cats in lay.text:
            at += len(cats) + 1
            out = float(np.mean(sample[:, at - 1]))  # its "any other value" input (a NULL reads as the first)
            if out >= MOVED_OUTSIDE:
                listed = ", ".join(repr(c) for c in cats[:6]) + (", ..." if len(cats) > 6 else "")
                found.append((out, 0.0, f"{name!r} ({share_text(out)} of the rows hold a value that is not one of its "
                              f"{len(cats)} training categories ({listed}), read as any other value; "
                              f"{_exact(cats[0])})", name, None))
        return found

    def _moved(self) -> list[str]:
        """The columns that moved, largest first, each with its share outside the training range and its median."""
        sample = np.concatenate(self._sample)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "All-NaN slice": a column NULL in every sampled row
            medians = np.nanmedian(sample, axis=0)
            # NaN (NULL) is neither in nor out: the share outside is of the rows with a value
            valued = np.count_nonzero(~np.isnan(sample), axis=0)
            above = np.count_nonzero(sample > self.hi, axis=0) / np.maximum(valued, 1)
            below = np.count_nonzero(sample < self.lo, axis=0) / np.maximum(valued, 1)
            outside = above + below
        found = []
        # Why said: unlabelled training bounds its range by the middle values (the anomalies among its rows lie
        # outside), so "training range 9.99 to 33" of counts that ran to 400 read as a wrong number
        middle = (f" (the middle {1 - 2 * RANGE_QUANTILE_UNLABELLED:.0%} of its training values)"
                  if self.lm.rec.metrics.get("robust") else "")
        for j, f in enumerate(self.lm.rec.features):
            if is_slot(f):  # a text column's 0/1 input: no range or median to speak of (its rare values score high)
                continue
            out = float(outside[j])
            null = 1.0 - float(valued[j]) / len(sample)
            med = float(medians[j])
            spreads = abs(_shift(f, med)) if np.isfinite(med) else 0.0
            # A column NULL in most rows is not named for that alone: scoring fills a NULL with the training median,
            # so NULLs do not raise a score; its NULL share is said beside a column that moved.
            if out >= MOVED_OUTSIDE or spreads >= MOVED_SPREADS:
                lo, hi = (float(raw_values(f, np.array(v))) for v in (f.lo, f.hi))
                lo_t, hi_t, med_t, fill_t = apart([lo, hi, med, f.fill])
                text = (f"{f.name!r} ({share_text(out)} of the rows with a value "
                        f"{_side(float(above[j]), float(below[j]))} its training range {lo_t} to {hi_t}{middle}"
                        + (f"; median {med_t} against {fill_t} in training{_how_far(f, med)}" if np.isfinite(med)
                           else "")
                        + (f"; {share_text(null)} of the rows NULL" if null >= NULL_NOTED else "") + ")")
                found.append((out, spreads, text, f.name, _factor(med, f.fill) if np.isfinite(med) else None))
        found += self._text_moved(sample)
        named = {m[3] for m in found}
        found += [(shift, 0.0, text, name, None) for shift, text, name in self._text_shifts(sample) if name not in named]
        found.sort(key=lambda m: (m[0], m[1]), reverse=True)
        shown = [t for _, _, t, _, _ in found[:MAX_COLUMNS]]
        self.checks = _checks([(name, factor) for _, _, _, name, factor in found[:MAX_COLUMNS]])
        if len(found) > MAX_COLUMNS:
            more = len(found) - MAX_COLUMNS
            shown[-1] += f"; and {more} more column{'s' if more > 1 else ''}"
        return shown

