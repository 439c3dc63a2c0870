"""ad_duckdb's notes (``AdDuckDBWarning``) in a dbt run, as dbt warnings.

A dbt Python model that trains runs in dbt's own process, where Python printed a note to stderr as a bare warning
pointing into ad_duckdb; dbt's log (``logs/dbt.log``, ``--log-format json``), which a scheduled run is read from,
never had it. Only how a shown note is printed changes: warning filters still decide whether it is shown at all or
raised (``PYTHONWARNINGS=error::UserWarning`` makes it an error, as elsewhere).
"""

from __future__ import annotations

import warnings
from typing import TextIO

from .exceptions import AdDuckDBWarning
from .optionwords import without_cli

_MARK = "_ad_duckdb_dbt_notes"


def relay_notes() -> None:
    """Print every shown ``AdDuckDBWarning`` through dbt's logger from now on; other warnings as before. Idempotent."""
    previous = warnings.showwarning
    if getattr(previous, _MARK, False):
        return
    from dbt.adapters.events.logging import AdapterLogger

    logger = AdapterLogger("ad_duckdb")

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: TextIO | None = None,
             line: str | None = None) -> None:
        if issubclass(category, AdDuckDBWarning):
            # Why without the command line's flags: a dbt run's notes come from train_model's or the macro's keywords
            # (source=, where=), and its user has no `ad-duckdb` command to pass --source to
            logger.warning(f"note: {without_cli(str(message))}")
            return
        previous(message, category, filename, lineno, file, line)

    setattr(show, _MARK, True)
    # Why once, for the process, rather than around each call: dbt runs Python models on several threads at once,
    # and swapping the global hook per call could leave one thread's swap in place for good
    warnings.showwarning = show
