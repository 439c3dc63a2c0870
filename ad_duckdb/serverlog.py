"""The server's log (the ``ad_duckdb.server`` logger, stderr): the library's notes as its lines (``notes_to_log``)."""

from __future__ import annotations

import logging
from typing import Any

from . import servenotes

log = logging.getLogger("ad_duckdb.server")


def notes_to_log() -> None:
    """The library's notes (``AdDuckDBWarning``: the SQL functions' note of a text value that differs from a category
    only in case or spaces, textvalues) as lines of the log, ``note: ...``. Why: Python printed them as warnings (a
    source path and line, then a line of code) amid the log's timed lines. Other warnings are shown as before."""
    import warnings

    from .exceptions import AdDuckDBWarning

    shown = warnings.showwarning
    logged: set[str] = set()

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None,
             line: str | None = None) -> None:
        if issubclass(category, AdDuckDBWarning):
            # to the client whose statement said it (a NOTICE), and once for the server's run to the log
            servenotes.deliver(str(message))
            if str(message) not in logged:
                logged.add(str(message))
                log.warning("note: %s", message)
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    # each statement's note reaches its client (servenotes): Python's default says a warning once per code line
    warnings.simplefilter("always", AdDuckDBWarning)
