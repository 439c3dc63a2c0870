"""``score(threshold=0.02)`` / ``score --threshold 0.02``: a number where a stored threshold's name goes, said as what
stores that share of the training rows under a name, in the caller's words.

Why: ``threshold=`` names a stored cut (as ``is_anomaly_at`` does); PyOD's ``contamination=0.02`` and BigQuery ML's
``STRUCT(0.02 AS contamination)`` give a share there. From the command line the number arrived as the name '0.02', and
the missing-threshold fix said to store a cut named '0.02' at the 0.995 quantile.
"""

from __future__ import annotations

import shlex
from typing import Any

from . import typedpaths
from .optionwords import either, opt

EXAMPLE_SHARE = 0.02
NAME = "c2"


def as_number(threshold: Any) -> float | None:
    """``threshold`` as the number it reads as (a str the command line passed, or a Python number), else None."""
    if isinstance(threshold, bool):
        return None
    if isinstance(threshold, (int, float)):
        return float(threshold)
    try:
        return float(threshold) if isinstance(threshold, str) else None
    except ValueError:
        return None


def hint(cur: Any, model: str, threshold: Any) -> str:
    """What stores the share ``threshold`` gives (an example share where it is not one) and then scores at it."""
    number = as_number(threshold)
    share = number if number is not None and 0 < number <= 0.5 else EXAMPLE_SHARE
    python = f"ad_duckdb.set_threshold(con, {model!r}, {NAME!r}, 'contamination', target={share!r})"
    cli = " ".join(shlex.quote(w) for w in ("ad-duckdb", "threshold", typedpaths.cli_db(cur), model, NAME, "--method",
                                            "contamination", "--target", f"{share:g}"))
    return (f"Scoring with {model!r}: {opt('threshold')} names a stored threshold (e.g. 'default', 'p99'); got "
            f"{threshold!r}. For a share of the training rows, store it once: {either(python, cli)}, then "
            f"{opt('threshold', NAME)}.")
