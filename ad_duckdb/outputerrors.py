"""Errors writing the command's standard output (a full disk under `ad-duckdb ... > out.json`), told apart from
errors writing the database or a file.

Why: an ``OSError`` from a write to stdout names no file, so "Error: No space left on device." could as well have
been the database's disk; a job's log must say which disk to free, and whether the database was written.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys

_MARK = "_ad_duckdb_stdout"


class _MarkingWriter(io.BufferedWriter):
    """stdout's bytes, as Python's own writer buffers them, marking the errors of writing them (``is_output_error``)."""

    def write(self, b: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            return super().write(b)
        except OSError as e:
            _mark(e)
            raise

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as e:
            _mark(e)
            raise


def _mark(e: OSError) -> None:
    # Why not a BrokenPipeError: that one is the reader gone (`| head`), which ends the command quietly, exit 141
    if not isinstance(e, BrokenPipeError):
        setattr(e, _MARK, True)


def mark_error(e: OSError) -> OSError:
    """``e``, marked as an error writing the output (``is_output_error``): a stdout of another kind's (stdfds)."""
    _mark(e)
    return e


def mark_stdout() -> None:
    """Make ``sys.stdout`` one whose write errors ``is_output_error`` recognises; the same file descriptor, encoding,
    error handler and buffering. Called once by the command line's ``main``, before anything is written."""
    out = sys.stdout
    try:
        fd = out.fileno()
        out.flush()
    except (AttributeError, OSError, ValueError):
        return  # no real stdout (closed, or a test's): nothing to mark
    raw = io.FileIO(fd, "w", closefd=False)
    sys.stdout = io.TextIOWrapper(_MarkingWriter(raw), encoding=out.encoding, errors=out.errors,
                                  line_buffering=bool(getattr(out, "line_buffering", False)),
                                  write_through=bool(getattr(out, "write_through", False)))


def is_output_error(e: BaseException) -> bool:
    """Whether ``e`` is an error writing the command's standard output."""
    return isinstance(e, OSError) and bool(getattr(e, _MARK, False))


def output_failed(e: OSError, done: str | None = None) -> str:
    """The message for ``e``, a failed write of the output; ``done``: what the command stored before it ("tx_ae@2 was
    stored"). The rest of the output is dropped: Python would write it again at exit, failing again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    with contextlib.suppress(OSError, ValueError):
        os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    what = e.strerror or str(e)
    # Why said: a model or threshold is stored before its line is printed, and a job's retry would store it again
    stored = (f"{done} before it, whole (no need to run the command again for it)" if done
              else "what the command stored in the database before it is kept whole (each model, threshold and "
                   "scores table is stored in one transaction)")
    fix = ("give the command an output (`> out.txt`, or `> /dev/null` to drop it)" if e.errno == errno.EBADF else
           "free space where it goes or send it elsewhere (`> /other/disk/out.json`)")
    return f"writing the output (stdout): {what}; the output is incomplete: {fix}; {stored}."
