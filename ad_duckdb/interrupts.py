"""The DuckDB connections and cursors a Ctrl-C (or SIGTERM) must stop: the CLI's watcher (``cli._watch_ctrl_c``)
interrupts them; and which of the two signals stopped the command, for its message and exit code.

Why cursors too: ``con.interrupt()`` stops only the query of that one connection object, and the long queries of
the library (the scan and the ``CREATE TABLE ... AS`` of ``score --into``, the read of ``train``) run on cursors of
it (``con.cursor()``), which it does not reach; those ran on until DuckDB noticed the signal itself, now and then.
"""
from __future__ import annotations

import functools
import os
import signal
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import duckdb

_LIVE: weakref.WeakSet[duckdb.DuckDBPyConnection] = weakref.WeakSet()
_LOCK = threading.Lock()  # the watcher's thread reads the set while the main thread adds to it


def track(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Let a Ctrl-C interrupt ``con``'s queries; returns ``con``. Weakly held: a closed, dropped one just goes."""
    with _LOCK:
        _LIVE.add(con)
    return con


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """``con.cursor()``, tracked so that a Ctrl-C interrupts the queries run on it."""
    return track(con.cursor())


def interrupt_all() -> None:
    """Interrupt the running query, if any, of every tracked connection and cursor."""
    with _LOCK:
        live = list(_LIVE)
    for con in live:
        try:
            con.interrupt()
        except duckdb.Error:
            pass  # closed meanwhile: nothing of it to stop


# What caught_up() writes into the watcher's pipe: no signal has number 0
_MARK = 0
_pipe: int | None = None  # the write end of the watcher's wakeup fd, once a watcher reads it
_CAUGHT_UP = threading.Condition()
_marks_written = 0
_marks_read = 0


def watched_by(pipe: int) -> None:
    """The CLI's watcher thread reads the wakeup fd whose write end is ``pipe``: caught_up() waits for it."""
    global _pipe
    _pipe = pipe


def on_wakeup(got: bytes) -> None:
    """The CLI's watcher thread's handling of what it read from its wakeup fd: a byte per signal, its number; and
    caught_up()'s marks, counted once the signals read with them (those before them, at least) are handled."""
    global _marks_read
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signum in got:
            note(signum)
            interrupt_all()
    if _MARK in got:
        with _CAUGHT_UP:
            _marks_read += got.count(_MARK)
            _CAUGHT_UP.notify_all()


def caught_up(timeout: float = 30.0) -> bool:
    """For the main thread, after a Ctrl-C and before the next statement (``sql``'s prompt): wait until the watcher
    handled every signal that arrived so far. No watcher (the library, not the CLI): nothing to wait for.

    Why: the watcher learns of a Ctrl-C from its wakeup fd, and may be held off (the GIL, a loaded machine) while the
    main thread, told by KeyboardInterrupt, ends the statement and starts the next one; the watcher's interrupt then
    stopped that next statement, as DuckDB clears an interrupt only when a statement starts. A statement number
    the watcher compared would not do: read late, a signal's byte does not say which statement it came in. The mark
    does: the pipe keeps the order, so once the watcher read the mark, it read every signal sent before it.
    ``timeout``: a watcher stuck that long (it should never be) delays the prompt no more; half a minute, as a loaded
    machine can hold the watcher off for seconds (5 s let the late interrupt through). Returns whether the watcher
    caught up (True also with no watcher), False when the wait gave up.
    """
    global _marks_written
    if _pipe is None:
        return True
    try:
        os.write(_pipe, bytes([_MARK]))
    except BlockingIOError:  # the pipe full of signals unread: the watcher is far behind, and no wait would do
        return False
    with _CAUGHT_UP:
        _marks_written += 1
        written = _marks_written
        return _CAUGHT_UP.wait_for(lambda: _marks_read >= written, timeout)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler's timeout, ``kill PID``, a Kubernetes pod stop), raised where Ctrl-C raises
    KeyboardInterrupt.

    Why a KeyboardInterrupt: every path that rolls back and reports a Ctrl-C (``store``'s transactions,
    ``exceptions.is_interrupt``) then does the same for SIGTERM, which otherwise ended the process at once, silently.
    """


_TERMINATING = threading.Event()
_SIGTERM_NOTED = threading.Event()  # never cleared: a session that goes on after a Ctrl-C still ends on a SIGTERM
received: int | None = None  # the stopping signal that arrived first (SIGINT or SIGTERM); None: none yet


def note(signum: int) -> None:
    """Remember the first stopping signal: a SIGTERM after a Ctrl-C (or the reverse) does not change what is said."""
    global received
    if signum == signal.SIGTERM:
        _SIGTERM_NOTED.set()
    if received is None:
        received = signum


def stopping() -> bool:
    """Whether a stopping signal (Ctrl-C, SIGTERM) was noted and not forgiven (``go_on_after_ctrl_c``): for work
    made of several statements, which checks between them, as an interrupt that lands there reaches no query."""
    return received is not None


def go_on_after_ctrl_c() -> bool:
    """For a command that goes on after a Ctrl-C (``sql``'s prompt): whether it may. No once a SIGTERM arrived, which
    is then what stopped it; yes otherwise, and the Ctrl-C is forgotten, so the next signal is told apart afresh.

    Why not ``received`` alone: the watcher thread notes a signal while the main thread handles it, so its note of a
    Ctrl-C may come after the prompt forgot that Ctrl-C, and a SIGTERM after it then read as one more Ctrl-C.
    """
    global received
    if _SIGTERM_NOTED.is_set():
        received = signal.SIGTERM
        return False
    received = None
    return True


def raise_terminated(signum: int, _frame: object) -> None:
    """SIGTERM's handler in the main thread: raise ``Terminated``, once. Why once: a second SIGTERM while the first
    one's rollback runs would break off that cleanup, and the process is stopping already."""
    note(signum)
    if not _TERMINATING.is_set():
        _TERMINATING.set()
        raise Terminated


def stopped_by_sigterm() -> bool:
    """Whether SIGTERM, not a Ctrl-C, stopped the command."""
    return received == signal.SIGTERM


@contextmanager
def ctrl_c_at_the_prompt() -> Iterator[None]:
    """For the ``sql`` prompt on a terminal: Ctrl-C stops the running statement even when the process started with
    SIGINT ignored, as psql's and DuckDB's shells take it; restored as it was after.

    Why: an ignored SIGINT is inherited (a wrapper script's ``trap '' INT``, a test run started in the background,
    as CI runners do), and Python then installs no handler for it, so neither KeyboardInterrupt nor the watcher's
    wakeup fd saw the key: a scoring query ran on, deaf to it. Only at the prompt: there the key is typed by the
    user at that terminal, while a job's ignore (`score ... &`, kept off the terminal's Ctrl-C) is its caller's.
    """
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)



def signalled(e: BaseException) -> bool:
    """Whether ``e`` is one of DuckDB's forms of a signal (Ctrl-C, SIGTERM) that landed in its query: a bare
    ``RuntimeError('Query interrupted')``, or its wrapper of the KeyboardInterrupt a SQL function's Python raised.
    Not ``con.interrupt()`` from another thread: that stays DuckDB's InterruptException, which its caller asked for
    and may wait on."""
    from .exceptions import interrupted_in_function

    return (type(e) is RuntimeError and str(e) == "Query interrupted") or (
        isinstance(e, duckdb.Error) and interrupted_in_function(str(e)))


def as_interrupt(what: str, writes: bool = True) -> KeyboardInterrupt:
    """The KeyboardInterrupt (``Terminated`` after a SIGTERM) to raise for a signal DuckDB wrapped, ``what``
    having been stopped; ``writes``: whether it may write (then the message says nothing half-written is kept)."""
    stop = Terminated if stopped_by_sigterm() else KeyboardInterrupt
    kept = "; nothing half-written is kept (each write is one transaction)" if writes else ""
    return stop(f"{what} interrupted{kept}: run it again")


@contextmanager
def raised_as_interrupt(call: str, *models: str) -> Iterator[None]:
    """Around the body of ``call`` (a public function of the library, run on ``models``): DuckDB's forms of a Ctrl-C
    raised as what they are, a ``KeyboardInterrupt`` (``Terminated`` after a SIGTERM) naming the call and its
    model(s), from DuckDB's error. A query stopped by ``con.interrupt()`` keeps DuckDB's ``InterruptException``.

    Why: a notebook's interrupt button during ``score``, ``evaluate``, ``set_threshold``, ``plot_scores``,
    ``compare_versions`` or ``train``'s read gave "InvalidInputException: Python exception occurred while executing
    the UDF: KeyboardInterrupt" (read as a wrong query) or "RuntimeError: Query interrupted"; code that catches
    KeyboardInterrupt missed it. Each write is one transaction, so nothing half-written is left, which the message
    says."""
    named = [m for m in models if isinstance(m, str)]
    with_what = f" with {', '.join(repr(m) for m in named)}" if named else ""
    try:
        yield
    except KeyboardInterrupt as e:
        # Python's own, bare: the Ctrl-C landed before DuckDB ran (the call's checks, a model's load); said as the
        # one that lands mid-query is, not as a bare KeyboardInterrupt that says nothing of what was kept
        if e.args:
            raise
        raise as_interrupt(f"ad_duckdb.{call}{with_what}") from e
    except (RuntimeError, duckdb.Error) as e:
        if not signalled(e):
            raise
        raise as_interrupt(f"ad_duckdb.{call}{with_what}") from e


F = TypeVar("F", bound=Callable[..., Any])


def said_as_interrupt(call: str) -> Callable[[F], F]:
    """``raised_as_interrupt(call, model)`` around the whole of a function of the Python API called as
    ``fn(con, model, ...)``: from its first line, so a Ctrl-C in its checks before the body's own ``with`` is said
    the same way."""
    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(con: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
            with raised_as_interrupt(call, model):
                return fn(con, model, *args, **kwargs)
        return wrapper  # type: ignore[return-value]
    return wrap
