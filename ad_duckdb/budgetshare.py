"""What a flag_budget threshold chosen on labelled rows flags of the rows its model was trained on.

Why: flag_budget meets its budget on the labelled rows, and labelled rows are mostly richer in anomalies than the
traffic (every known fraud and a few normal rows beside them). On 40 reviewed rows, 8 of them anomalies, a budget
of 5% chose a cut flagging 2 of the 40, and 0.3% of the 20,000 transactions the model trained on: a risk committee
reading "flags at most 5%" would plan for fifteen times the alerts it gets. ``threshold`` prints both shares."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import scoretail
from .numbertext import share_text
from .store import Threshold
from .thresholds import LABELLED

# the two shares differ by more than this factor either way: said
RATIO = 2.0


def quantiles_of(m: dict[str, Any] | None) -> np.ndarray | None:
    """A stored version's training-score quantiles (its metrics' ``score_quantiles``), None where it has none (or a
    malformed list of an imported file)."""
    q = (m or {}).get("score_quantiles")
    if not isinstance(q, list) or len(q) < 2 or not all(isinstance(v, int | float) for v in q):
        return None
    return np.asarray(q, dtype=np.float64)


def training_share(quantiles: np.ndarray | None, value: float, metrics: dict[str, Any] | None = None) -> float | None:
    """The share of the training rows scoring above ``value``, read from the model's 1001 training-score quantiles
    (to within 0.1% of the rows) and, where ``metrics`` keeps them, its exact top scores (``scoretail``: as the share
    ``threshold --method manual`` and evaluate say); None without them."""
    if quantiles is None or len(quantiles) < 2:
        return None
    q, p = scoretail.points(np.asarray(quantiles, dtype=np.float64), metrics)
    if value < q[0]:
        return 1.0
    if value >= q[-1]:
        return 0.0
    # the last of a run of equal quantiles: scores at the value are not above it
    k = int(np.searchsorted(q, value, side="right"))  # q[k - 1] <= value < q[k]
    lo, hi = q[k - 1], q[k]
    at = p[k - 1] + (p[k] - p[k - 1]) * ((value - lo) / (hi - lo) if hi > lo else 0.0)
    return float(1.0 - at)


def _both(source: str | None, t: Threshold, quantiles: np.ndarray | None,
          metrics: dict[str, Any] | None = None) -> str | None:
    """"it flags X of the labelled rows and Y of the training rows of ``source`` (from their score quantiles" of
    ``t``, where the two shares differ by more than ``RATIO`` either way; None where they agree or the quantiles are
    unknown."""
    train = training_share(quantiles, t.value, metrics)
    here = t.flagged_share
    if train is None or here is None or here / RATIO <= train <= here * RATIO:
        return None
    rows = f"the training rows of {source}" if source else "its training rows"
    return f"it flags {share_text(here)} of the labelled rows and {share_text(train)} of {rows} (from their score quantiles"


def line(source: str | None, t: Threshold, target: float, quantiles: np.ndarray | None,
         metrics: dict[str, Any] | None = None) -> str | None:
    """What ``threshold`` prints after storing flag_budget threshold ``t`` (budget ``target``): the share of its
    model's training rows (of ``source``) it flags beside the share of the labelled rows, where the two differ by
    more than ``RATIO`` either way; None where they agree or the quantiles are unknown.

    Why said as facts, not as a note that the labelled rows are too rich in anomalies: a model trained on rows
    known normal flags few of them at a cut that flags a random sample's anomalies, and the rows do not tell the
    two apart."""
    both = _both(source, t, quantiles, metrics)
    if both is None:
        return None
    return (f"{both}): the two differ where the labelled rows hold more anomalies than the training rows. To "
            f"budget the alerts of the traffic: --method alarm_rate --rate {share_text(target)} on rows believed "
            "normal, or flag_budget on a random sample of labelled rows.")


def labelled_line(source: str | None, t: Threshold, quantiles: np.ndarray | None,
                  metrics: dict[str, Any] | None = None) -> str | None:
    """What ``threshold`` prints after storing ``t``, chosen on labelled rows by a method other than flag_budget
    (``line``'s): the share of its model's training rows it flags beside the share of the labelled rows its
    ``flagged_share`` is, where the two differ by more than ``RATIO`` either way; None where they agree or the
    quantiles are unknown.

    Why: "flagged_share 0.200" of a max_f1 cut on 40 reviewed rows holding every known fraud read as 20% of the
    traffic, where the cut flagged about 1% of the rows the model trained on."""
    both = _both(source, t, quantiles, metrics)
    if both is None:
        return None
    return f"{both}; flagged_share above is the former): the alerts to plan on traffic like the training rows are the latter."


# what a stored threshold's flagged_share is a share of, by its method (``of_rows``)
OF_TRAINING, OF_LABELLED, OF_CHOSEN_ON = "training rows", "labelled rows", "rows it was chosen on"


def of_rows(t: Threshold) -> str:
    """What ``t.flagged_share`` is a share of: the training rows (a cut from the training scores, set by hand or
    carried), the labelled rows (a goal on labels) or the rows it was chosen on (alarm_rate's stretch)."""
    if t.method in LABELLED:
        return OF_LABELLED
    return OF_CHOSEN_ON if t.method == "alarm_rate" else OF_TRAINING


def split(t: Threshold, quantiles: np.ndarray | None,
          metrics: dict[str, Any] | None = None) -> tuple[float | None, float | None]:
    """``t``'s share of the model's training rows flagged and its share of the other rows it was chosen on (None
    for a cut chosen on the training scores): the two shares `show` prints apart.

    Why apart: one column held 0.012 for `default` (of the training rows) beside 0.63 for a max_f1 cut (of
    labelled rows two thirds frauds), where that cut flags about 6% of the training rows."""
    if of_rows(t) == OF_TRAINING:
        return t.flagged_share, None
    return training_share(quantiles, t.value, metrics), t.flagged_share
