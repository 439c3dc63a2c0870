"""A Ctrl-C (or SIGTERM) while the `ad-duckdb` command exits, after it ended: Python's shutdown waits for threads
and runs the exit hooks that close our connections, and a Ctrl-C there printed "Exception ignored ...
KeyboardInterrupt" with a traceback (exit as the command's), or killed Python by SIGINT (exit -2) once its handler
was gone. Here it is one line and exit 130 (143 for SIGTERM), as a Ctrl-C anywhere earlier.

Why deferred to the last exit hook rather than exiting at once: the hooks close connections (a checkpoint of the
file), which a second Ctrl-C still cuts short. Why ignored after that hook: no code of ours runs any more, the command
has ended and said so, and Python's teardown restores the default handler, whose Ctrl-C is a death by SIGINT."""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
from types import FrameType

EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143

_ended = [0]  # the command's exit code
_stopped: list[int] = []  # the signals received while exiting


def hook_last() -> None:
    """Register the last exit hook: called before the command line is imported, whose modules register theirs
    (atexit runs the last registered first)."""
    atexit.register(_last)


def exiting(code: object, own_sigterm: bool) -> None:
    """The command ended with ``code`` (SystemExit's): from here a Ctrl-C, or a SIGTERM the command handled
    (``own_sigterm``), is said once Python's shutdown has run our exit hooks."""
    _ended[0] = _code(code)
    signal.signal(signal.SIGINT, _received)
    if own_sigterm:
        signal.signal(signal.SIGTERM, _received)


def interrupted_as_it_ended(code: object) -> None:
    """A Ctrl-C (raised as KeyboardInterrupt) as the command returned, before ``exiting``: said as one landing later."""
    _ended[0] = _code(code)
    _stopped.append(signal.SIGINT)
    _say_and_exit()


def _code(code: object) -> int:
    """SystemExit's code as the process's exit code (None: 0; a message: 1, as Python exits with it)."""
    return code if isinstance(code, int) else 0 if code is None else 1


def _received(signum: int, frame: FrameType | None) -> None:
    if _stopped:  # a second one: the shutdown is not to be waited for
        _say_and_exit()
    _stopped.append(signum)


def _say_and_exit() -> None:
    by = "SIGTERM" if _stopped[0] == signal.SIGTERM else "Ctrl-C"
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            if stream is not None:
                stream.flush()
    line = f"Error: interrupted ({by}) while the command was exiting, after it had ended (exit code {_ended[0]}).\n"
    with contextlib.suppress(OSError):
        os.write(2, line.encode())
    os._exit(EXIT_TERMINATED if by == "SIGTERM" else EXIT_INTERRUPTED)


def _last() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is _received:
            signal.signal(signum, signal.SIG_IGN)
    if _stopped:
        _say_and_exit()
