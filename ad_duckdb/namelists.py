"""How a message lists names: the first ten and a count of the rest, and how the caller names the features to
train on (``features=[...]`` in Python, ``-f`` on the command line)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from .optionwords import either

_LISTED = 10  # columns named in a note before "and N more"


def _listed_features() -> str:
    """How to list the features, in the caller's spelling."""
    return either("features=[...]", "-f COLUMN, once per column")


def cli_feature_flags(names: Sequence[str]) -> str:
    """``-f a -f 'b c'``: the command-line options that name these features (quoted for a shell)."""
    return " ".join(f"-f {shlex.quote(n)}" for n in names)


def listing(items: Sequence[str]) -> str:
    """``a, b, c and 7 more``: the first ten items, the rest counted (a wide table's 1,555 names are not read)."""
    more = len(items) - _LISTED
    return ", ".join(items[:_LISTED]) + (f" and {more} more" if more > 0 else "")
