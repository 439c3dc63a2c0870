"""Which labelled rows a weighted sample drew (``evaluate(weight=, sampled=)``, and as evaluate reads it,
``set_threshold``'s goals on labelled rows and ``compare_versions``): ``rows`` (either class, as an audit
that reviews the alerts and draws 1 in k of the rest) or ``normal`` (every anomaly kept at one weight, the normal
rows sampled at their own strata's rates, whatever the score).

Why said by the caller, not read from the weights: an audit that drew no anomaly below its alerts shows the same
anomaly weights as a sample that kept every anomaly, and its normal rows' weights rise as the score falls as a
merchant's or a day's rates may by chance. Read from the weights, a sample of normal rows by stratum got an audit's
AUC-ROC interval (the band of recall's intervals, 0.927-0.999 where DeLong's and Newcombe's give 0.991-0.999) and
recall's lower end counted missed anomalies in a stratum no anomaly was left out of; the guess that told the two
apart by the weights' order was reverted, since a rate per stratum can rise with the score's order as well.
"""

from __future__ import annotations

import numpy as np

from . import optionwords
from .exceptions import OptionError

ROWS, NORMAL = "rows", "normal"
CHOICES = (ROWS, NORMAL)
# the report's line and its JSON ``weights.sampled``
SAID = ("only the normal rows sampled (every anomaly kept): AUC-ROC's interval is DeLong's and Newcombe's, recall's "
        "Wilson's of the anomalies drawn")


def check(lead: str, sampled: str | None, weight: str | None) -> str | None:
    """``sampled`` checked before any row is read: one of ``CHOICES``, and only with a weight column. ``lead``: what
    the messages start with, naming the command and its model (``evaluate 'ae'``, ``Threshold 'p90' for 'ae@2'``)."""
    if sampled is None:
        return None
    if sampled not in CHOICES:
        raise OptionError(f"{lead}: {optionwords.opt('sampled', sampled)} is not a sampling; give "
                          f"{optionwords.opt('sampled', ROWS)} (either class sampled, as an audit: the default) or "
                          f"{optionwords.opt('sampled', NORMAL)} (every anomaly kept, the normal rows sampled).")
    if weight is None:
        raise OptionError(f"{lead}: {optionwords.opt('sampled', sampled)} describes the sample the "
                          f"{optionwords.opt('weight')} column's weights come from; pass "
                          f"{optionwords.opt('weight', 'COLUMN')} with it, or leave it out for rows that are not "
                          "a sample.")
    return sampled


def check_anomalies(lead: str, weight: str, sampled: str | None, y: np.ndarray, w: np.ndarray) -> None:
    """With ``sampled='normal'``, every anomaly (of weight above 0) weighs the same: kept, or drawn at one rate.
    Why refused, not read as said: anomalies of two weights were sampled by something (an audit's alerts and its
    draw below them), and DeLong's interval of them leaves out the misses the audit could not see. ``lead``: as
    ``check``'s."""
    if sampled != NORMAL:
        return
    yb = y.astype(bool)
    drawn = w[yb & (w > 0)]
    if len(drawn) and not np.isclose(drawn.min(), drawn.max(), rtol=1e-9):
        raise OptionError(f"{lead}: {optionwords.opt('sampled', NORMAL)} says every anomaly was kept, but "
                          f"the anomalies' weights in {weight!r} run from {drawn.min():g} to {drawn.max():g}, as an "
                          f"audit's (alerts reviewed, the rest drawn 1 in k); pass {optionwords.opt('sampled', ROWS)} "
                          f"(or leave {optionwords.opt('sampled')} out), whose intervals count the misses such an "
                          "audit may not have drawn.")
