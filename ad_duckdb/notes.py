"""The library's notes (``AdDuckDBWarning``), each said at the user's line: the first frame outside this package.

Why computed, not a ``stacklevel`` counted by hand: a hand count is right only for the path it was counted on. A new
wrapper (a decorator, a ``with``, a helper function) or a second public function reaching the same note shifted it,
and a notebook then showed the note at a line of ad_duckdb rather than at the user's call, where ``-W`` filters by
module and ``warnings.catch_warnings`` records by location expect it. (Python 3.12's ``skip_file_prefixes`` would
do this; 3.11 has no such thing, so the stack is walked.)
"""

from __future__ import annotations

import sys
import warnings
from types import FrameType

from .exceptions import AdDuckDBWarning


def ours(frame: FrameType) -> bool:
    """Whether ``frame`` runs this package's code (not a user's module named, say, ``ad_duckdb_jobs``)."""
    module = str(frame.f_globals.get("__name__", ""))
    return module == "ad_duckdb" or module.startswith("ad_duckdb.")


# Where a note of a SQL function is said on a thread DuckDB started: its stack holds no frame of the caller's (the
# caller's thread waits in DuckDB), so no line of theirs can be named; a line of ours, with its source, read as a
# fault of the library. Why this name: a file name that is none, so no source line is printed under it.
NO_CALLER = "<SQL function on a DuckDB thread>"


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a ``warnings.warn`` called by this function's caller point at the first frame
    outside this package. Where every frame is ours (a thread DuckDB or the library started), the outermost: a
    level past the stack's end would be reported as file "sys", line 1."""
    frame: FrameType = sys._getframe(1)
    level = 1
    while ours(frame) and frame.f_back is not None:
        frame, level = frame.f_back, level + 1
    return level


def _user_frame(frame: FrameType) -> FrameType | None:
    """The first frame outside this package from ``frame`` outwards; None where every frame is ours."""
    while ours(frame) and frame.f_back is not None:
        frame = frame.f_back
    return None if ours(frame) else frame


def warn(message: str, category: type[Warning] = AdDuckDBWarning) -> None:
    """``warnings.warn(message, category)`` at the user's line (``user_stacklevel``); at no line (``NO_CALLER``) on a
    thread whose frames are all ours."""
    if _user_frame(sys._getframe(1)) is None:
        warnings.warn_explicit(message, category, NO_CALLER, 0, module="ad_duckdb")
        return
    warnings.warn(message, category, stacklevel=user_stacklevel())


def show(message: str, category: type[Warning] = AdDuckDBWarning) -> None:
    """Show ``message`` as a note filtered "always" would be (``warnings.showwarning``: stderr, or what a caller put
    there, a recorder or a logger), at the user's line (at none on a thread whose frames are all ours); for a note
    that ``warn`` raised (warnings made errors) where raising would fail what it is said of."""
    frame = _user_frame(sys._getframe(1))
    if frame is None:
        warnings.showwarning(message, category, NO_CALLER, 0)
    else:
        warnings.showwarning(message, category, frame.f_code.co_filename, frame.f_lineno)
