"""What `explain` says of a row: its values against the training values, the score's terms, its rank."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .clinumbers import _against_spread, _raw_spread, _spread_places
from .features import CLIP, FeatureSpec, is_integer_type, raw_values, transform
from .scoring import LoadedModel
from .texttable import cell_text as _cell_text
from .texttable import float_text as _float_text

# Within this many robust spreads (IQR / 1.349, after the column's signed log if it has one) of the training
# median, a value is common on its own: about 1 in 20 values of a normal column lies further out.
TYPICAL_SPREADS = 2.0


# Up to this many columns `explain` prints a line for each; beyond, typical columns with a share under MINOR_SHARE, or
# past this many lines, are summed into one line. Why: a 60-column model printed 60 lines per row, most of them
# "0.0% ... typical", which hid the few columns that matter (a column far from its median keeps its line at any
# share); and a typical row's thin shares (1-8% each) still printed 35 lines before "nothing stands out".
EXPLAIN_ALL_LINES = 12


MINOR_SHARE = 0.005


# What each of the score's terms (anomaly_terms) measures, said as what it means for the row.
TERM_MEANINGS = {
    "reconstruction": "its values break how the columns go together",
    "neighbour": "it lies far from every group of training rows",
    "range": "a value lies outside the range 99% of training values were in",
}


# The range term's meaning for a model trained with robust=False, whose range is every training value's
WHOLE_RANGE_MEANING = "a value lies outside every training value's range"


# A term this small is float32 rounding, not a measure (terms are in robust units, a typical row's about 1 each).
TERM_NOISE = 1e-5


# Why apart: a model of one column has no columns to go together; its reconstruction fails on a value unlike those
# it was trained on
ONE_COLUMN_RECONSTRUCTION = "its value is unlike the training values"


def _terms_text(terms: dict[str, float], flagged: bool, one_column: bool = False, robust: bool = True) -> str:
    """The score's terms on one line and, for a flagged row, what the largest means: why it is odd, by kind
    (``robust``: the model's training range is the middle 99% of its values, else all of them).

    Why not for a row under the threshold: a typical row's reconstruction and neighbour terms are each about 1 (each
    is divided by its training median), so its largest term says nothing about it."""
    # Why 0 under TERM_NOISE: the graph computes in float32, so a value at the end of the training range came out
    # 1e-7 beyond it, printed "range 2.38e-07" for a row whose every value is inside
    terms = {k: 0.0 if abs(v) < TERM_NOISE else v for k, v in terms.items()}
    parts = " + ".join(f"{name} {value:.3g}" for name, value in terms.items())
    top = max(terms, key=lambda k: terms[k])
    total = sum(terms.values())
    if not flagged or not total > 0:
        return f"terms: {parts}"
    def said(name: str) -> str:
        meaning = ONE_COLUMN_RECONSTRUCTION if one_column and name == "reconstruction" else \
            WHOLE_RANGE_MEANING if name == "range" and not robust else TERM_MEANINGS[name]
        return f"{name} ({terms[name] / total:.0%}: {meaning})"

    if terms[top] / total >= 0.5:
        return f"terms: {parts}: mostly {said(top)}"
    # Why the next one too: a top term under half is not "mostly" the score, and the next is then about as large
    second = max((k for k in terms if k != top), key=lambda k: terms[k])
    return f"terms: {parts}: {said(top)} and {said(second)}"


def _against_text(lm: LoadedModel, e: list[dict[str, Any]], scored: np.ndarray, given: np.ndarray) -> str:
    """"b against a: with a at 61.3 instead, the row would score 2.1": the column with the largest share and the
    one it is odd against (``partner.relation_partner``); the two largest shares where no one column is, if the
    second is a real part of the score; "" where neither names a pair."""
    from .partner import relation_partner

    names = lm.feature_names
    top = names.index(e[0]["feature"])
    found = relation_partner(lm, scored, ~np.isnan(given), top)
    if found is not None:
        other = names[found.column]
        shown = _typical_number(lm.rec.features[found.column], found.value)
        # the score at the value as printed, so that the reader who puts it back in gets the score said
        row = np.array(scored, dtype=np.float64)
        row[found.column] = float(shown)
        score = float(lm.scores(row[None, :], missing=False)[0])
        return f"{names[top]} against {other}: with {other} at {shown} instead, the row would score {score:.3g}"
    # Why a floor: a column at its median has no share, and naming one of 0% said the row broke a relation with it
    if len(e) > 1 and e[1]["share"] >= MINOR_PAIR_SHARE:
        return f"{e[0]['feature']} against {e[1]['feature']}"
    return ""


# The share the second column needs to be named beside the first when no one column's move makes the row fit.
MINOR_PAIR_SHARE = 0.1


def _column_number(spec: FeatureSpec, v: float) -> str:
    """A value of a column as explain prints it: a whole number of an integer column without ".0" (a median of
    8.0 cards), others against the column's spread (``_against_spread``)."""
    if is_integer_type(spec.sql_type) and float(v).is_integer() and abs(v) < 2**53:
        return str(int(v))
    return _against_spread(v, _raw_spread(spec))


def _spreads_input(value: Any) -> float:
    """A feature's value as the model takes it (NaN for NULL), for ``LoadedModel.as_scored``."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _feature_value(row: dict[str, Any], name: str) -> Any:
    """The row's value of a feature, matched as DuckDB matches column names (case-insensitively)."""
    if name in row:
        return row[name]
    return next((v for k, v in row.items() if k.lower() == name.lower()), None)


def row_spreads(specs: Sequence[FeatureSpec], values: np.ndarray) -> np.ndarray:
    """How many robust spreads each value of a row lies from its column's training median (signed; NaN for a missing
    value): ``features.transform`` of the whole row in one call (a call a value was most of explain's own CPU at 150
    columns), its fill of a missing value undone."""
    values = np.asarray(values, dtype=np.float64)
    z = transform(values[None, :], specs)[0]
    z[np.isnan(values)] = np.nan
    return z


def _kept_constant(spec: FeatureSpec) -> bool:
    """Whether the column held one value in every training row (kept with constant_columns='keep').

    Why it matters: such a column has no spread; features.fit_specs measures it in units of its value, so 8 against
    an only value of 5 is 0.6 "spreads", yet any other value is outside its training range (the range term counts it).
    """
    return (spec.lo == spec.hi == 0.0 and spec.transform == "none" and spec.center == spec.fill
            and spec.scale == max(abs(spec.fill), 1.0))


def _typical(spec: FeatureSpec, z: float) -> bool:
    """Whether a value ``z`` spreads from the training median is common on its own.

    Why the training range too: a column that is never negative with its median near zero has values within
    TYPICAL_SPREADS below zero, which no training row held (and the score's range term counts as out of range).
    """
    if _kept_constant(spec):
        return abs(z) < 1e-12
    return abs(z) <= TYPICAL_SPREADS and spec.lo <= z <= spec.hi


def _value_text(spec: FeatureSpec, value: Any, z: float, scored: float, robust: bool = True) -> str:
    """Where ``value`` stands against the column's training values; ``scored``: the value the row was scored with
    (for a missing one, what scoring chose: ``LoadedModel.as_scored``); ``robust``: the model's training range is
    the middle 99% of the column's values (its 0.5% and 99.5% quantiles), else all of them."""
    # Why _cell_text: the row line above says amount=NULL; Python's str said "value None". Why a float as tables
    # print it: a lag() difference read "value 5.564688029999999" beside "training median -0.02" (the row line above
    # keeps every digit, to paste into --where)
    shown = _float_text(value) if isinstance(value, float) and math.isfinite(value) else _cell_text(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        # against the spread: a large value with a small one (epoch seconds, a BIGINT near 9e18) printed as 9e+18
        median = _column_number(spec, spec.fill)
        # Why the value itself: beside a count of 500 the amount is scored in proportion to it, not at the median
        # this line printed alone, so the reader could not tell what the row was judged with
        used = _column_number(spec, scored)
        at = f"{median}, its median" if used == median else f"{used} (median {median})"
        return f"value {shown}: missing, scored at its most typical value beside the others: {at}{_fill_beyond(spec, scored, robust)}"
    if _kept_constant(spec):
        where = "typical" if _typical(spec, z) else "outside the training range"
        # Why .10g: a large value with no spread (epoch seconds) must not print as 1.7e+09
        return f"value {shown}, every training row held {spec.fill:.10g}: {where}"
    # the training range said as what it is. Why: "beyond the training range's top, 84" read as the largest training
    # value, where robust training (the default) takes the 0.5% and 99.5% quantiles, and a reader who had trained
    # on a row of 3,000 took the line for a mistake
    # to the digits of the typical range printed beside it
    bottom, top, held = _range_held(spec, robust)
    end = top if z > spec.hi else bottom
    if _typical(spec, z):
        where = "typical"
    elif abs(z) <= TYPICAL_SPREADS:  # near the median, yet past the end of the training range
        where = f"{'above' if z > spec.hi else 'below'} {end}: {held}"
    elif abs(z) >= CLIP:  # the graph clips there too: the count beyond it is not known, only that it is far out
        where = f"more than {CLIP:.0f} spreads {'above' if z > 0 else 'below'} it"
    else:
        where = f"{abs(z):.3g} spreads {'above' if z > 0 else 'below'} it"
    if abs(z) > TYPICAL_SPREADS and not spec.lo <= z <= spec.hi:
        # Why: the score's range term counts such a value, and "mostly range: a value lies outside the training
        # range" named none of the row's columns as that value
        where += f", beyond {end}: {held}"
    median, lo, hi = _typical_range(spec)
    typical = f"typical range {lo} to {hi}" if lo != hi else f"typical value {lo}"  # not "range 0 to 0"
    return f"value {shown}, training median {median}, {typical}: {where}"


def _fill_beyond(spec: FeatureSpec, scored: float, robust: bool) -> str:
    """", beyond 29.8: 99% of training values were between ..." when a missing value was scored at a value outside the
    column's training range, else "".

    Why: the value a NULL takes beside a partner far out (a count 5 times the largest) is in proportion to it, beyond
    the range, and the score's range term counts it; the line said only "scored at 79.3 (median 20)", so the range
    term the terms line named had no column to show for it."""
    if _kept_constant(spec) or not math.isfinite(scored):
        return ""
    z = float(transform(np.array([[scored]], dtype=np.float64), [spec])[0, 0])
    if spec.lo <= z <= spec.hi:
        return ""
    bottom, top, held = _range_held(spec, robust)
    return f", beyond {top if z > spec.hi else bottom}: {held} (the score's range term counts it)"


def _range_held(spec: FeatureSpec, robust: bool) -> tuple[str, str, str]:
    """The training range's ends as printed, and what they are ("99% of training values were between 1 and 84")."""
    bottom, top = (_typical_number(spec, float(v)) for v in raw_values(spec, np.array([spec.lo, spec.hi])))
    held = (f"99% of training values were between {bottom} and {top}" if robust else
            f"every training value was between {bottom} and {top}")
    return bottom, top, held


def _typical_range(spec: FeatureSpec) -> tuple[str, str, str]:
    """The training median and the raw values within TYPICAL_SPREADS of it and inside the training range, as
    printed: ("17.8", "1.0", "183.4").

    Why: spreads are counted after a heavy-tailed column's signed log, so "4.9 spreads above it" cannot be mapped
    back to money or counts by the reader; the range can. Cut to the training range: a count or amount that is
    never negative printed "typical range -9.0 to 42.4". Printed to 3 significant digits of the range's width
    (the median too: it printed 10 digits, 49.71847993), so that large values with a small spread (epoch seconds)
    keep the digits that differ.
    """
    lo, hi = _typical_band(spec)
    # Why the tolerance: the signed log's round trip puts a training value of 1 at 1.0000000000000002, whose
    # ceiling (2) left out of the range the value that _typical calls typical
    whole = ((math.ceil(lo - 1e-9 * max(1.0, abs(lo))), math.floor(hi + 1e-9 * max(1.0, abs(hi))))
             if math.isfinite(lo) and math.isfinite(hi) else (1, 0))
    if is_integer_type(spec.sql_type) and whole[0] <= whole[1]:
        # Why the whole numbers inside: an INTEGER column read "median 0.000, typical range 0.000 to 0.997", counts
        # no row holds; a value is typical exactly when it lies in the range printed
        median = f"{spec.fill:.0f}" if spec.fill.is_integer() else _float_text(spec.fill)
        return median, str(whole[0]), str(whole[1])
    if not (math.isfinite(lo) and math.isfinite(hi)) or max(abs(lo), abs(hi)) >= 1e15 or hi <= lo:
        return f"{spec.fill:.10g}", f"{lo:.3g}", f"{hi:.3g}"
    dec = _spread_places(hi - lo)
    # z: a value that rounds to zero prints 0.000, not -0.000 (a smallest training value of -0.0001)
    return f"{spec.fill:z.{dec}f}", f"{lo:z.{dec}f}", f"{hi:z.{dec}f}"


def _typical_band(spec: FeatureSpec) -> tuple[float, float]:
    """The raw values within TYPICAL_SPREADS of the training median and inside the training range (``_typical_range``)."""
    band = np.clip([-TYPICAL_SPREADS, TYPICAL_SPREADS], spec.lo, spec.hi)
    lo, hi = (float(v) for v in raw_values(spec, band))
    return lo, hi


def _typical_number(spec: FeatureSpec, v: float) -> str:
    """A typical value of a column to the digits ``_typical_range`` prints the median and range with, beside which it
    is read (the value that makes a row fit: "amount at 98", not "at 97.7078" beside "median 259")."""
    lo, hi = _typical_band(spec)
    if (is_integer_type(spec.sql_type) or not (math.isfinite(lo) and math.isfinite(hi))
            or max(abs(lo), abs(hi)) >= 1e15 or hi <= lo):
        return _column_number(spec, v)
    return f"{v:z.{_spread_places(hi - lo)}f}"


def _rank_text(score: float, percentile: float, quantiles: list[float]) -> str:
    """Where a score stands among the training rows' scores.

    Why not always "higher than p%": the highest training row is not higher than itself, yet its percentile
    is 1.0 and printed 100.00%; and a share just under 1 must not round up to 100.00%.
    """
    if quantiles:
        low, high = quantiles[0], quantiles[-1]
        # a training row scored again may differ from its training score in the last float32 bits
        if math.isclose(score, high, rel_tol=1e-6):
            return "as high as the highest training row's score"
        if score > high:
            return f"above every training row's score (the highest was {high:.6g})"
        if score < low and not math.isclose(score, low, rel_tol=1e-6):
            return f"below every training row's score (the lowest was {low:.6g})"
    return f"higher than {math.floor(percentile * 10_000) / 100:.2f}% of training rows"
