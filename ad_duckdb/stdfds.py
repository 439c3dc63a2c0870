"""Standard streams a scheduler closed (``>&-``, ``2>&-``, a daemon's closed descriptors): the descriptors are held
by /dev/null, and a closed stdout is an output error, as a full disk is.

Why: with descriptor 1 or 2 closed, the next file the process opened (the database, an exported model) took that
number, so anything written to "stdout" or "stderr" below Python (a library's log line) went into that file. And
Python then has ``sys.stdout = None``: click dropped every line without a word and the command's exit flushed None
("AttributeError: 'NoneType' object has no attribute 'flush'", a traceback, exit 1); with stderr closed, click wrote
the error line into stdout, in the middle of a CSV a job kept.
"""

from __future__ import annotations

import errno
import io
import os
import sys

from .outputerrors import mark_error


class _ClosedOutput(io.TextIOBase):
    """``sys.stdout`` when descriptor 1 was closed: each write fails as writing to a closed descriptor does (EBADF),
    marked as an output error (``outputerrors``), so the command ends with the output error's one line, exit 1."""

    def write(self, s: str) -> int:
        if not s:
            return 0
        raise mark_error(OSError(errno.EBADF, "standard output is closed (>&-)"))

    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        pass


def _closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


def hold_closed() -> None:
    """Open /dev/null on each of descriptors 0, 1, 2 that is closed (the lowest free number is the one taken, so in
    order); then a closed stdout fails at its first write, and a closed stderr drops the notes and errors, as asked.
    Called by the command line's ``main`` before anything is opened or written."""
    for fd in (0, 1, 2):
        if _closed(fd):
            held = os.open(os.devnull, os.O_RDWR)
            if held != fd:  # a lower one was open after all: put it where it belongs
                os.dup2(held, fd)
                os.close(held)
    # Why apart from the descriptors: Python saw them closed at its start (None), whatever holds them now
    if sys.stdout is None:
        sys.stdout = _ClosedOutput()
    if sys.stderr is None:
        sys.stderr = io.TextIOWrapper(io.FileIO(os.devnull, "w"), encoding="utf-8", errors="replace",
                                      write_through=True)
