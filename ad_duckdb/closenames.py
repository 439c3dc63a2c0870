"""The names close to a misspelt one: the "Did you mean 'amount'?" of an error that names a column, a model or a
source that is not there."""

from __future__ import annotations

import difflib
from collections.abc import Sequence


def close_names(name: str, candidates: Sequence[str], n: int = 2, cutoff: float = 0.75) -> list[str]:
    """The ``candidates`` close to a misspelt ``name`` (any case), closest first: those a swap of two neighbouring
    letters makes of it, then difflib's.

    Why swaps first: difflib's ratio of a short name with two letters swapped ('dya' for 'day': 0.67, 'st' for 'ts':
    0.5) is under any cutoff that keeps unrelated short names out, and a swap is the commonest typo."""
    by_lower = {c.lower(): c for c in candidates}
    low = name.lower()
    swaps = {low[:i] + low[i + 1] + low[i] + low[i + 2:] for i in range(len(low) - 1)} - {low}
    close = [c for c in by_lower if c in swaps]
    close += [c for c in difflib.get_close_matches(low, list(by_lower), n=n, cutoff=cutoff) if c not in close]
    return [by_lower[c] for c in close[:n]]


def did_you_mean(name: str, candidates: Sequence[str], n: int = 2, cutoff: float = 0.75) -> str:
    """" Did you mean 'amount'?" for a misspelt name with a close match among ``candidates`` (any case), else ""."""
    close = close_names(name, candidates, n, cutoff)
    return f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
