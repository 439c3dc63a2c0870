"""serve: the SQL functions' notes (a text value that differs from a category only in case or spaces, textvalues)
sent to the client whose statement said them, as a PostgreSQL NOTICE, beside the log's line.

Why: the note went to the server's log alone, which a BI tool's user never reads, while the rows it was about scored
as outliers. DuckDB tells a Python function nothing of the query it runs in (it may run on DuckDB's own threads), so
the note goes to the one running statement that names the model it is about (or the one running statement, if
only one runs); with several running statements naming it, the log alone has it.

Why no better: nothing ties a call to its statement. DuckDB runs a Python function on whichever of its threads runs
that part of the query (measured: a 5,000-row statement's calls all ran on a worker thread, not the session's, while
a 10-row one's ran on the session's), so a thread names no session; and the functions live in the database's one
catalog (a session's cursor cannot register its own under the same name: "already exists"), so no session-own copy
can say whose it is. A NOTICE to each statement naming the model would tell clients whose rows hold no such value.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# the running statements' sessions, by id
_BUSY: dict[int, Any] = {}
_LOCK = threading.Lock()
# a note's call, as textvalues writes it: anomaly_score('tx_t@1', ...)
_CALL = re.compile(r"\w+\('([^']*)'")


@contextmanager
def statement(session: Any) -> Iterator[None]:
    """``session`` runs a statement (its text in ``session.query``) until the block ends. Each statement's notes of
    text values are said again (``said_again``), to each client that runs one."""
    said_again()
    with _LOCK:
        _BUSY[id(session)] = session
    try:
        yield
    finally:
        with _LOCK:
            _BUSY.pop(id(session), None)


def said_again() -> None:
    """Forget which text notes the models said (``LoadedModel.said``) so the next statement gets its own; the drift
    notes (batchdrift) stay said once for the server's run, as its log says them."""
    from .batchdrift import MOVED
    from .udfs import loaded_models

    for lm in loaded_models():
        for key in list(lm.said):  # a copy: another session's statement may add to it meanwhile
            if key[1] != MOVED:
                lm.said.discard(key)


def deliver(message: str) -> bool:
    """Add ``message`` to the notices of the running statement it is about; whether one was found."""
    m = _CALL.match(message)
    name = m.group(1).split("@")[0].lower() if m else ""
    with _LOCK:
        busy = list(_BUSY.values())
    named = [s for s in busy if name and name in str(getattr(s, "query", "")).lower()]
    to = named if len(named) == 1 else busy if len(busy) == 1 and not named else []
    for s in to:
        note = (message, "01000", "NOTICE")
        if note not in s.notices:
            s.notices.append(note)
    return bool(to)
