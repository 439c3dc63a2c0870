"""Waiting for a database file another process holds: ``ad_duckdb.connect(wait=...)`` and ``ad-duckdb --wait``.

Why a wait and not a failure: DuckDB allows one writing process per file, so a nightly retrain that starts while a
scoring job (or the reverse) still runs failed at once; a cron or Airflow job would rather wait for the other to
finish. DuckDB itself has no busy timeout for its file lock, so the open is tried again until the wait is over.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import TypeVar

from . import lockholder
from .exceptions import DatabaseLockedError, OptionError

T = TypeVar("T")

log = logging.getLogger("ad_duckdb")

# Why at most this between tries: a job waiting on one that ends any moment starts soon after it, while the tries
# (an open and a refused lock each) cost nothing the holder notices.
_POLL_SECONDS = 0.5


def seconds(wait: object) -> float:
    """``wait=`` (``connect``'s, ``train``'s) as seconds; refused by name unless a number >= 0 (None: 0)."""
    if wait is None:
        return 0.0
    # Why finite: an infinite wait was "waiting up to infs" and never ended while the holder ran
    if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not 0 <= wait < float("inf"):
        raise OptionError(f"wait= is the seconds to wait for a database file another process holds, a finite number "
                          f">= 0 (e.g. wait=600); got {wait!r}.")
    return float(wait)


def waiting_note(error: DatabaseLockedError, wait: float, waited_with: str) -> str:
    """One line for a job's log when it starts to wait: what the file is and who holds it, and for how long.

    Why not the error itself: it runs to several sentences of fixes (stop the other process, --snapshot, --wait)
    that a job which is already waiting needs none of; its first clause names the file, DuckDB's text the holder."""
    text = str(error)
    what = text.split(" (", 1)[0]
    holder = re.search(r"held in (.+?) \((PID -?\d+)\)", text)
    held_by = f" ({holder.group(2)}, {holder.group(1)})" if holder else ""
    command = lockholder.describe(text)
    if "`" in command:  # its command rather than its interpreter: which job it waits for, and since when
        held_by = f" ({command.strip().removeprefix('It is ').removesuffix('.')})"
    return f"waiting up to {wait:g}s ({waited_with}) for the database file: {what}{held_by}"


def retry_while_locked(attempt: Callable[[], T], wait: float, *, waited_with: str, how_to_wait: str,
                       say: Callable[[str], object] | None = None) -> T:
    """``attempt()``, tried again while it raises DatabaseLockedError, for up to ``wait`` seconds.

    When the file stays held, the last error gets ``(waited Ns with WAITED_WITH)`` or, with no wait,
    ``how_to_wait`` (the option that waits). The first refusal is logged (INFO, logger ``ad_duckdb``), naming the
    holder as DuckDB does, so a job's log says what it waits for; ``say`` (the command line's note on stderr,
    where no logging is set up) gets it as one line too (``waiting_note``).
    """
    deadline = time.monotonic() + wait
    said = False
    while True:
        try:
            return attempt()
        except DatabaseLockedError as e:
            left = deadline - time.monotonic()
            if left <= 0:
                how = f" (waited {wait:g}s with {waited_with})" if wait else f" {how_to_wait}"
                raise DatabaseLockedError(f"{e}{how}") from e
            if not said:
                log.info("waiting up to %gs for the database file: %s", wait, e)
                if say is not None:
                    say(waiting_note(e, wait, waited_with))
                said = True
            time.sleep(min(_POLL_SECONDS, left))
