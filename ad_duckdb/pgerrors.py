"""Errors as PostgreSQL clients see them: ``ProtocolError`` and the SQLSTATE of any error (ErrorResponse's code)."""

from __future__ import annotations

import re

import duckdb

# DuckDB error class -> SQLSTATE, so clients can tell a syntax error from a refused write.
_SQLSTATE: list[tuple[type[BaseException], str]] = [
    (duckdb.ParserException, "42601"), (duckdb.CatalogException, "42P01"), (duckdb.BinderException, "42703"),
    (duckdb.PermissionException, "42501"), (duckdb.ConversionException, "22P02"),
    (duckdb.OutOfRangeException, "22003"), (duckdb.ConstraintException, "23000"),
    (duckdb.TransactionException, "25P02"), (duckdb.InterruptException, "57014"),
    (duckdb.NotImplementedException, "0A000"), (duckdb.OutOfMemoryException, "53200"),
    (duckdb.IOException, "58030"), (duckdb.InvalidInputException, "22023"),
]


class ProtocolError(Exception):
    """A client sent something this server does not speak; carries its SQLSTATE."""

    def __init__(self, message: str, sqlstate: str = "08P01", hint: str = "", routine: str = "") -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.hint = hint  # ErrorResponse's HINT, where PostgreSQL's own error has one
        # ErrorResponse's ROUTINE, where a driver tells PostgreSQL's error by it (asyncpg: RevalidateCachedQuery)
        self.routine = routine


# pg_notify(), NOTIFY as a function: "does not exist" (42883) read as a misspelt name; it is a feature the server lacks,
# as LISTEN / NOTIFY (pgcommands.LISTEN_REFUSED), whose SQLSTATE and advice it gets.
_PG_NOTIFY_RE = re.compile(r'Function with name "?pg_notify"? does not exist', re.I)
PG_NOTIFY_REFUSED = ("pg_notify() (NOTIFY) is not supported by ad-duckdb serve: DuckDB has no notification channels; "
                     "poll a table for changes instead (a row the notifier inserts, which the listener selects by a "
                     "rising id or time).")


# set_config() where the server cannot run it once as its SET before the query (pgcommands.set_config_items): per row of a
# FROM, of a column's value, in a CASE. DuckDB has no such function, and said so with 'Did you mean "set_bit"?'.
_SET_CONFIG_MISSING_RE = re.compile(r'Function with name "?set_config"? does not exist', re.I)
SET_CONFIG_REFUSED = ("set_config() runs in ad-duckdb serve once, as the SET it stands for, before the query: in a "
                      "SELECT without FROM, of constants or parameters, not in a CASE. A call per row (with FROM, of a "
                      "column's value) or in a CASE is not supported: send SELECT set_config('app.tenant', $1, false) "
                      "or SET app.tenant = 'value' first, then the query.")


def feature_error(e: BaseException) -> BaseException:
    """``e``, or the 0A000 of a PostgreSQL feature the server lacks that DuckDB reported as a missing function."""
    if isinstance(e, duckdb.CatalogException) and _PG_NOTIFY_RE.search(str(e)):
        return ProtocolError(PG_NOTIFY_REFUSED, "0A000")
    if isinstance(e, duckdb.CatalogException) and _SET_CONFIG_MISSING_RE.search(str(e)):
        return ProtocolError(SET_CONFIG_REFUSED, "0A000")
    return e


def in_failed_transaction() -> ProtocolError:
    """PostgreSQL's refusal of a statement in a transaction block an error has aborted (until ROLLBACK)."""
    return ProtocolError("current transaction is aborted, commands ignored until end of transaction block", "25P02")


# round(x, n) of a double (pgresulttypes' refusal, raised by DuckDB's error()): PostgreSQL's 42883 and its hint, with
# the cast that rounds
ROUND_DOUBLE_REFUSED = "function round(double precision, integer) does not exist"
ROUND_DOUBLE_HINT = ("No function matches the given name and argument types. You might need to add explicit type "
                     "casts: round(x::numeric, n) rounds to n decimals.")


def sqlstate(e: BaseException) -> str:
    """The SQLSTATE for a DuckDB error."""
    if isinstance(e, ProtocolError):
        return e.sqlstate
    if "read-only mode" in str(e):
        return "25006"  # read_only_sql_transaction
    if "configuration has been locked" in str(e):
        return "42501"
    if "unrecognized configuration parameter" in str(e):
        # undefined_object, as PostgreSQL reports it (a driver may carry on after exactly this code; asyncpg's
        # current_setting('jit') probe is answered, pgcommands.JIT_PROBE_RE)
        return "42704"
    if isinstance(e, duckdb.InvalidInputException) and re.search(r'relation ".*" does not exist', str(e)):
        return "42P01"  # undefined_table: a missing name cast to regclass (pgcatalog's pg_regclass), as PostgreSQL's
    if isinstance(e, duckdb.InvalidInputException) and re.search(r'type ".*" does not exist', str(e)):
        return "42704"  # undefined_object: a missing name cast to regtype (pgregtype's pg_regtype), as PostgreSQL's
    if isinstance(e, duckdb.CatalogException) and "Function with name" in str(e) and "does not exist" in str(e) \
            or isinstance(e, duckdb.InvalidInputException) and str(e).endswith(ROUND_DOUBLE_REFUSED):
        return "42883"  # undefined_function
    return next((code for cls, code in _SQLSTATE if isinstance(e, cls)), "XX000")


# What the server's reading of a bare ::numeric (pgsyntax._CAST_TYPES: DECIMAL(38,10)) cannot hold, from 10^28 up.
# (not "Could not convert string 'x'": a string that is no number, whatever the type's size)
_DECIMAL_OVERFLOW_RE = re.compile(r"Could not cast value .* to DECIMAL\(38,10\)|out of range for (?:type )?DECIMAL\(38,10\)"
                                  r"|DECIMAL\(38,10\) out of range")
DECIMAL_HINT = ("A numeric without a precision (::numeric, CAST(x AS numeric)) is DECIMAL(38,10) here: DuckDB's "
                "widest exact decimal, 28 digits before the point and 10 after (PostgreSQL's numeric has no limit). "
                "For larger values cast to ::numeric(38,0) (whole numbers below 10^38) or ::double.")


def hint_for(message: str) -> str:
    """The HINT an error's ``message`` gets where the server's own reading of the SQL explains it, else ''."""
    if message.endswith(ROUND_DOUBLE_REFUSED):
        return ROUND_DOUBLE_HINT
    return DECIMAL_HINT if _DECIMAL_OVERFLOW_RE.search(message) else ""
