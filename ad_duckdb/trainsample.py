"""What a model trained on a source above ``max_train_rows`` learned from: a seeded sample of its training rows
(the thresholds are scored on all of them), so of any rows of that source only about the sample's share were
ever seen by its network.

Why its own module: train's summary, ``show``, and the notes that rows were trained on (alarm_rate, evaluate's
optimistic figures) all say it; "4000 of these rows are rows m@1 was trained on, which score lower than rows it
did not see" was nine tenths wrong for a model that learned from a tenth of them.
"""

from __future__ import annotations

from typing import Any


def sample_size(train_rows: int | None, metrics: dict[str, Any] | None) -> int | None:
    """The rows the network learned from, when a source above max_train_rows was sampled; else None.

    Why: ``train_rows`` counts the rows the thresholds were scored on, all of the source's; read alone, it said a
    model of a 10M-row table had learned from all of them, not from its seeded sample of 1M.
    """
    m = metrics or {}
    used, held_out = m.get("train_rows_used"), m.get("validation_rows")
    if not isinstance(used, int) or not isinstance(held_out, int) or not isinstance(train_rows, int):
        return None
    return used + held_out if used + held_out < train_rows else None


def learned_part(ref: str, train_rows: int | None, metrics: dict[str, Any] | None, rows: int) -> str:
    """For ``rows`` of a model's training rows, the clause saying its network learned from a sample and about how
    many of them that holds (the sample is drawn evenly over the training rows); '' when it learned from all."""
    sample = sample_size(train_rows, metrics)
    if sample is None or not train_rows:
        return ""
    return (f"the network of {ref} learned from a seeded sample of {sample:,} of its {train_rows:,} training rows, "
            f"about {round(rows * sample / train_rows):,} of these")
