"""What a cut's errors cost: a missed anomaly (false negative) and a false alarm (false positive) each at a price,
per row of the traffic it will judge. ``thresholds`` chooses the cheapest cut (``min_cost``) with it, ``metrics``
reports each threshold's cost (``evaluate``'s ``miss_cost=`` and ``alarm_cost=``).

Why per row, and at a stated anomaly share: labelled rows are often richer in anomalies than live traffic (a test
split holding every known fraud, an undersample of half frauds); counted as they are, they overstate what misses
cost per row and move the cheapest cut down. ``anomaly_share`` weighs their misses and false alarms to the share
the cut will meet.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import optionwords
from .exceptions import BadInputError, OptionError


@dataclass(frozen=True)
class Prices:
    """What each error costs, and the share of anomalies in the rows a cut will judge (``None``: the labelled
    rows' own share)."""

    miss_cost: float
    alarm_cost: float
    anomaly_share: float | None = None


def _is_number(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float, np.floating, np.integer)) and bool(np.isfinite(v))


def prices(miss_cost: Any, alarm_cost: Any, anomaly_share: Any, who: str) -> Prices:
    """``Prices`` of checked values, or an ``OptionError`` that starts with ``who`` ("Threshold 'x' ... needs").

    Why above 0: a free miss makes flagging nothing cheapest, and a free alarm flagging everything; neither is a cut
    that needed choosing, and a negative cost (a typo, or a saving put as a cost) would reward errors."""
    if miss_cost is None and alarm_cost is None:  # both asked for at once, not one after the other
        raise OptionError(f"{who} {optionwords.opt('miss_cost')} and {optionwords.opt('alarm_cost')}: what a missed anomaly "
                          "(a false negative) and a false alarm (a false positive, a normal row flagged) cost, numbers "
                          "above 0, e.g. 400 and 5.")
    for arg, v, what, example in (("miss_cost", miss_cost, "a missed anomaly (a false negative)", 400),
                                  ("alarm_cost", alarm_cost, "a false alarm (a false positive, a normal row flagged)", 5)):
        if not _is_number(v) or v <= 0:
            raise OptionError(f"{who} {optionwords.opt(arg)}, the cost of {what}, a number above 0, "
                              f"e.g. {example}; got {v!r}.")
    return Prices(float(miss_cost), float(alarm_cost), share(anomaly_share, who))


def share(anomaly_share: Any, who: str) -> float | None:
    """A checked ``anomaly_share`` (None stays None), or an ``OptionError`` that starts with ``who``."""
    if anomaly_share is not None and not (_is_number(anomaly_share) and 0 < anomaly_share < 1):
        pct = (f" (for {anomaly_share:g}%, {optionwords.opt('anomaly_share', anomaly_share / 100)})"
               if _is_number(anomaly_share) and 1 <= anomaly_share < 100 else "")
        raise OptionError(f"{who} {optionwords.opt('anomaly_share')} in (0, 1), the share of anomalies in the rows "
                          f"the threshold will judge, e.g. 0.002 for 0.2%; got {anomaly_share!r}{pct}.")
    return None if anomaly_share is None else float(anomaly_share)


def cost_text(v: float) -> str:
    """A cost as given: 400, 2.5, 1,000,000 (not 1e+06)."""
    return f"{v:,.10g}"


def amount_text(v: float) -> str:
    """A cost as a report says it: 1,250 (whole above 100), 1.193, 0.002273; 9.445e+305 (not 306 digits)."""
    return f"{v:,.0f}" if 100 <= abs(v) < 1e15 else f"{v:.4g}"


def _alarms(n: float) -> str:
    return f"{n:.0f} false alarm{'' if n == 1 else 's'}"


def stated_share(v: float) -> str:
    """An anomaly share as given, to three digits (0.172%, 0.015%): every report of the prices says it so."""
    return f"{100 * v:.3g}%"


@dataclass
class CutCosts:
    """Misses, false alarms and the cost per row at each cut of a ``thresholds.curve``, on ``n`` labelled rows of
    which ``pos`` are anomalies; ``none``: the cost per row of flagging no row."""

    missed: np.ndarray
    alarms: np.ndarray
    per_row: np.ndarray
    none: float
    n: float  # rows, or with weights what they stand for
    pos: float


def per_row(missed: Any, alarms: Any, n: int, pos: int, p: Prices) -> Any:
    """The cost per row of ``missed`` anomalies and ``alarms`` false alarms counted on ``n`` labelled rows (``pos``
    anomalies), at ``p``'s anomaly share (elementwise)."""
    if p.anomaly_share is None:
        # the total first: cuts of equal cost stay exactly equal, so ties break the same way at any prices
        return (missed * p.miss_cost + alarms * p.alarm_cost) / n
    # rows of one class (evaluate reports recall on anomalies alone) give the other nothing to weigh
    miss_w = p.anomaly_share * p.miss_cost / pos if pos else 0.0
    alarm_w = (1 - p.anomaly_share) * p.alarm_cost / (n - pos) if n > pos else 0.0
    return missed * miss_w + alarms * alarm_w


def check_totals(p: Prices, n: int) -> None:
    """An ``OptionError`` when what errors cost on ``n`` labelled rows, or per 10,000 rows, is beyond a float.

    Why: each cut's total was then inf, so the cheapest was whichever came first (a min_cost threshold of recall
    0.03 was stored), and the reports said "inf per row". Those totals are at most the dearer price times the
    rows; prices in a larger unit pick the same cut."""
    if not math.isfinite(max(p.miss_cost, p.alarm_cost) * max(n, 10_000)):
        raise OptionError(f"{optionwords.opt('miss_cost', p.miss_cost)} and {optionwords.opt('alarm_cost', p.alarm_cost)} "
                          f"overflow a float (above {sys.float_info.max:.3g}) in what errors cost on "
                          f"these {n:,} labelled rows; give both in a larger unit (thousands or millions), which "
                          "picks the same cut.")


def at_cuts(c: dict[str, np.ndarray], n: int, p: Prices) -> CutCosts:
    """``CutCosts`` of every cut of ``curve`` ``c`` (of ``n`` rows); ``check_totals`` first. Of a ``weights.curve``,
    the rows are what the weights stand for (``n`` unread)."""
    if "weighted" in c:  # a weights.curve: the weights of the rows flagged and the anomalies among them
        flagged, tp = c["flagged"], c["tp"]
        n = float(flagged[-1])  # type: ignore[assignment]
        check_totals(p, n)  # type: ignore[arg-type]
        pos: float = float(tp[-1])
        missed, alarms = pos - tp, flagged - tp
        return CutCosts(missed, alarms, per_row(missed, alarms, n, pos, p),  # type: ignore[arg-type]
                        float(per_row(pos, 0, n, pos, p)), n, pos)  # type: ignore[arg-type]
    check_totals(p, n)
    flagged = np.rint(c["flagged_share"] * n)
    tp = np.rint(c["precision"] * flagged)
    pos = int(tp[-1])  # the last cut flags every row, so catches every anomaly
    missed, alarms = pos - tp, flagged - tp
    return CutCosts(missed, alarms, per_row(missed, alarms, n, pos, p), float(per_row(pos, 0, n, pos, p)), n, pos)


def cheapest(k: CutCosts) -> int:
    """The index of the cheapest cut. Ties go to the cut flagging fewest rows: as cheap, with fewer rows to review;
    and so a dearer miss never gives a higher cut (the monotony a user checks by raising miss_cost)."""
    return int(np.argmin(k.per_row))


def _rows(v: float) -> str:
    """A count of rows, or of what weighted rows stand for (whole: plain; else to 6 digits)."""
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.6g}"


def note(k: CutCosts, i: int, p: Prices) -> str:
    """What cut ``i`` costs, said as a manager reads it (stored at the end of a min_cost threshold's ``chosen_on``)."""
    head = f"costs {cost_text(p.miss_cost)} per missed anomaly and {cost_text(p.alarm_cost)} per false alarm"
    v = float(k.per_row[i])
    if p.anomaly_share is None:
        return (f"{head}: {k.missed[i]:.0f} missed and {_alarms(k.alarms[i])} cost {amount_text(v * k.n)} on "
                f"these {_rows(k.n)} rows, {amount_text(v)} per row ({amount_text(v * 10_000)} per 10,000 rows like them)")
    return (f"{head}, anomalies {stated_share(p.anomaly_share)} of rows: {k.missed[i]:.0f} of {_rows(k.pos)} anomalies missed and "
            f"{k.alarms[i]:.0f} of {_rows(k.n - k.pos)} normal rows flagged here, {amount_text(v)} per row "
            f"({amount_text(v * 10_000)} per 10,000 rows)")


# what ``note`` writes, read back by ``stated``
_NOTE = re.compile(r"(?:^|; )costs (\S+) per missed anomaly and (\S+) per false alarm(?:, anomalies (\S+) of rows)?: "
                   r"[^;]*$")


def stated(chosen_on: str | None) -> str | None:
    """The prices a min_cost threshold's ``chosen_on`` ends with, short: ``miss 400, alarm 5, anomalies 0.2%``."""
    m = _NOTE.search(chosen_on or "")
    if m is None:
        return None
    return f"miss {m[1]}, alarm {m[2]}" + (f", anomalies {m[3]}" if m[3] else "")


def refuse_flagging_none(k: CutCosts, i: int, p: Prices) -> None:
    """An error when flagging no row costs less than cut ``i``.

    Why refused, not stored as a cut above every score: such a cut flags whatever new rows score higher, a review
    rule nobody chose; the answer "reviews cost more than the flags save" is the user's to act on."""
    if k.none < k.per_row[i]:
        raise BadInputError(
            f"At these costs flagging no row is cheapest: missing all {_rows(k.pos)} anomalies costs {amount_text(k.none)} "
            f"per row, and the cheapest cut {amount_text(float(k.per_row[i]))} ({k.missed[i]:.0f} missed, "
            f"{_alarms(k.alarms[i])} at {cost_text(p.alarm_cost)} each); raise {optionwords.opt('miss_cost')} or "
            f"lower {optionwords.opt('alarm_cost')} if they are not what errors cost, or use a model that ranks these "
            "anomalies higher.")
