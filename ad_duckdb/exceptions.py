"""Typed errors. Every message names the model, the column or value, and the fix.

Messages must read well on their own, because DuckDB reports an error raised inside a
SQL function as ``Python exception occurred while executing the UDF: ValueError: ...``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable


class AdDuckDBError(Exception):
    """Base class of every error raised by ad_duckdb."""


class ModelNotFoundError(AdDuckDBError, LookupError):
    """No stored model (or version) matches the name. ``guessed``: the message names a stored model close to it (a
    typo), so advice for a model that is not stored yet (the dbt plugin's) would mislead; ``dropped``: the model or
    version was dropped, and is never trained again under that number."""

    def __init__(self, *args: object, guessed: bool = False, dropped: bool = False) -> None:
        super().__init__(*args)
        self.guessed = guessed
        self.dropped = dropped


class ThresholdNotFoundError(AdDuckDBError, LookupError):
    """No stored threshold matches the name."""


class FeatureMismatchError(AdDuckDBError, ValueError):
    """The columns given do not match the model's feature list."""


class BadInputError(AdDuckDBError, ValueError):
    """A table, column, value or parameter cannot be used as given."""


class OptionError(BadInputError):
    """An argument's value, or a combination of arguments, is wrong whatever the data (the command line exits 2).
    ``cli``: the same message in the command line's spelling (``--n-models 3``, not ``n_models=3``), where the
    options it names are flags there too; the command line shows it instead."""

    def __init__(self, *args: object, cli: str | None = None) -> None:
        super().__init__(*args)
        self.cli = cli


class BadReferenceError(OptionError):
    """A model reference of no valid form ('name' or 'name@N', N >= 1), e.g. 'tx_ae@0' or 'tx_ae@1@2'."""


class DatabaseUnavailableError(BadInputError):
    """The database file cannot be opened as asked (not a DuckDB file, a read-only file or file system)."""


class DatabaseLockedError(BadInputError):
    """Another process holds the database file (DuckDB allows one writing process per file): retry later."""


class SourceNotFoundError(BadInputError):
    """The source table, view, file or a column named in it does not exist."""


class UnusableColumnsError(BadInputError):
    """Training columns that cannot train a model (``columns``) among the ``features`` training was given or chose,
    so a fix (the command line's -f example) can name the features left, not columns the default had left out."""

    def __init__(self, message: str, columns: list[str], features: list[str] | None = None) -> None:
        super().__init__(message)
        self.columns = columns
        self.features = list(features or [])


class ConstantColumnsError(UnusableColumnsError):
    """Training columns hold one value in every training row; ``columns`` names them all, so a fix (the command
    line's -f example) can leave every one out, not only the first."""


class NoRowsError(BadInputError):
    """The source (after the filter) has no rows to train on or to evaluate."""


class NoTimesError(BadInputError):
    """The scores-over-time plot's column holds no time to draw (NULL or infinite in every row, or the source has no
    rows): ``note`` says so without the model, for the command line's and evaluate's notes, where the other plots go
    ahead."""

    def __init__(self, model: str, note: str) -> None:
        super().__init__(f"Model {model!r}: {note}")
        self.note = note


class IntegrityError(AdDuckDBError):
    """A stored or imported model failed a safety or integrity check."""


class UnboundedGraphError(IntegrityError):
    """A model's graph has a node whose cost cannot be bounded before it runs (see onnxshapes).

    Its parts are kept so that training, whose own exporter wrote the graph, can say so instead of treating the
    graph as a hostile file (export.parity_check).
    """

    def __init__(self, message: str, *, node: int, op: str, output: str, reason: str, unknown_operator: bool) -> None:
        super().__init__(message)
        self.node, self.op, self.output, self.reason = node, op, output, reason
        self.unknown_operator = unknown_operator


class NotFittedError(AdDuckDBError, ValueError, AttributeError):
    """A detector was used before ``fit``."""


class MissingDependencyError(AdDuckDBError, ImportError):
    """A training-only dependency (torch, onnx) is not installed."""


class AdDuckDBWarning(UserWarning):
    """Training went ahead, but on a choice made for you (default features) or on rows too few to trust.

    The command line prints these as ``note: ...`` lines; in Python they are ``warnings.warn`` warnings.
    """


# How DuckDB reports an error raised inside a SQL function: "Invalid Input Error: Python exception occurred while
# executing the UDF: ModelNotFoundError: No model ..."
_UDF_WRAPPER = re.compile(r"(?:Invalid Input Error: )?Python exception occurred while executing the UDF: "
                          r"(?P<kind>\w+): ")


def raised_in_function(duckdb_text: str) -> type[AdDuckDBError] | None:
    """The ad_duckdb error class a SQL function raised, as DuckDB's error text names it; None for another error."""
    m = _UDF_WRAPPER.search(duckdb_text)
    kind = globals().get(m.group("kind")) if m else None
    return kind if isinstance(kind, type) and issubclass(kind, AdDuckDBError) else None


def without_function_wrapper(duckdb_text: str) -> str:
    """DuckDB's text of an error one of our SQL functions raised, as our own message: it names the model and the fix
    on its own, and DuckDB's wrapper (_UDF_WRAPPER) only buried it (the CLI's errors, the server's ErrorResponse).
    Any other error's text is returned as it is."""
    return _UDF_WRAPPER.sub("", duckdb_text) if raised_in_function(duckdb_text) is not None else duckdb_text


def is_interrupt(e: BaseException | None) -> bool:
    """Whether ``e``, or an error it was raised from, is a Ctrl-C: Python's ``KeyboardInterrupt``, or DuckDB's
    answer to one in a query it ran (a bare ``RuntimeError('Query interrupted')`` when DuckDB saw the signal itself,
    ``InterruptException`` for ``connection.interrupt()``, and ``OSError('INTERRUPT Error: ...')`` when it lands
    between two batches of an Arrow stream, ``to_arrow_reader``, which passes DuckDB's error on as an I/O error).

    Why the chain: code that turns a failed read into a message of ours ("Cannot read features ...") must not make
    a user's Ctrl-C look like bad input (exit 1); it re-raises when this is true, and the CLI looks through wrappers.
    """
    import duckdb

    seen: set[int] = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, KeyboardInterrupt | duckdb.InterruptException) or (
                type(e) is RuntimeError and str(e) == "Query interrupted") or (
                type(e) is OSError and str(e).startswith("INTERRUPT Error:")) or (
                isinstance(e, duckdb.Error) and interrupted_in_function(str(e))):
            return True
        e = e.__cause__ or e.__context__
    return False


def interrupted_in_function(duckdb_text: str) -> bool:
    """Whether DuckDB's error text is its wrapper of a Ctrl-C (or SIGTERM) that landed in a SQL function's Python.

    Why: a scoring query spends its time in anomaly_score's Python, where Python's handler raises the
    KeyboardInterrupt; DuckDB passes it on as an Invalid Input Error with only its name in the text, no cause."""
    return _UDF_INTERRUPTED.search(duckdb_text) is not None


# A KeyboardInterrupt has no message, so DuckDB's text may end at its ':' (where _UDF_WRAPPER wants a space)
_UDF_INTERRUPTED = re.compile(r"Python exception occurred while executing the UDF: (?:KeyboardInterrupt|Terminated)\b")


def held_by_reader(duckdb_lock_text: str) -> str | None:
    """DuckDB's lock error text without its read-only sentence when the process holding the file is a reader; None
    when it is a writer.

    Why: DuckDB adds "However, you would be able to open this database in read-only mode" only when the holder's
    lock is a reader's (measured, DuckDB 2.0): then "open it read-only" is no fix, the holder already is. The
    sentence goes ("by using the -readonly parameter" is about DuckDB's own CLI); the holder's PID stays.
    """
    text, n = re.subn(r"\s*However, you would be able to open this database in read-only mode.*?(?=\s*See also|$)", "",
                      duckdb_lock_text, flags=re.S)
    return text if n else None


def clean_up_after(failure: BaseException, step: Callable[[], object], what: str) -> None:
    """Run cleanup ``step`` while ``failure`` propagates; an error of the step is logged and noted on ``failure``.

    Why: raised from an ``except`` block, the cleanup's error replaced the failure it cleaned up after, so a user
    whose server could not start (a port in use) read only that a close went wrong. The caller re-raises ``failure``.
    """
    try:
        step()
    except BaseException as e:  # noqa: BLE001 - whatever the cleanup raises, the failure is what the user must see
        failure.add_note(f"{what} failed too: {type(e).__name__}: {e}")
        logging.getLogger("ad_duckdb").warning("%s failed too (%s: %s)", what, type(e).__name__, e)
