"""The types of a prepared statement's parameters, as PostgreSQL infers them for its ParameterDescription.

A client that leaves a parameter untyped (OID 0) and then encodes values by the type the server describes (asyncpg,
PgJDBC's server-prepared statements, pgx) needs the type the query gives it: ``amount > $1`` amount's type,
``LIMIT $1`` int8. DuckDB's binder types them without running the statement; this module asks it, and ``server``
describes the rest as text (DuckDB casts text to the type the query needs).
"""

from __future__ import annotations

from typing import Any

import duckdb

from .pgsql import _words
from .pgtypes import parameter_oid
from .udfnames import FUNCTIONS, NO_FEATURES

_FLOAT8 = 701
# Arithmetic operators by how tightly they bind, as PostgreSQL's grammar (``^`` above ``* / %`` above ``+ -``).
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "//": 2, "%": 2, "^": 3, "**": 3}
_ARITHMETIC = set(_PRECEDENCE)
# What ends an operand of arithmetic (_operand_end): comparisons and the words between expressions.
_ENDS = {"=", "==", "<>", "!=", "<", ">", "<=", ">=", "select", "where", "and", "or", "not", "on", "when", "then", "else",
         "having", "by", "set", "returning", "between", "in", "is", "like", "ilike", "limit", "offset", "from", "as",
         "case", "values", "distinct", "qualify", "using", "end"}
_NUMBERS = {20, 21, 23, 700, 701, 1700}  # int8, int2, int4, float4, float8, numeric
# The anomaly functions' feature arguments (after the model, and is_anomaly_at's threshold name): numbers, which
# they take as DOUBLE (README), though registered as any type, which DuckDB's binder leaves a parameter UNKNOWN for.
_FEATURES_FROM = {name: 2 if name == "is_anomaly_at" else 1 for name in FUNCTIONS if name not in NO_FEATURES}


def parameter_oids(cur: duckdb.DuckDBPyConnection, sql: str) -> dict[int, int]:
    """Parameter number -> type OID, as DuckDB's binder types each parameter of the one statement ``sql`` from
    where it is used, and float8 for an anomaly function's feature; a parameter it leaves unknown (``SELECT $1``)
    is absent.

    Why DuckDB's private ``_bind``: its Python API has no public prepare, and ``duckdb_prepared_statements()`` lists
    every parameter as UNKNOWN. Without ``_bind`` (another DuckDB) none is known, as before: all are text."""
    bind = getattr(cur, "_bind", None)
    if bind is None:
        return {}
    # A number negated keeps its type, so ``a > -$1`` is typed as ``a > $1`` (DuckDB's binder leaves ``-$1``
    # unknown); kept only where that is a number: a date's parameter would not be one negated.
    sql, negated = _without_unary_minus(sql)
    out = _parameter_oids(bind, sql)
    return {n: oid for n, oid in out.items() if n not in negated or oid in _NUMBERS}


def _parameter_oids(bind: Any, sql: str) -> dict[int, int]:
    """``parameter_oids`` of ``sql`` by ``bind``, DuckDB's binder."""
    try:
        parameters = bind(sql)[2]
    except (duckdb.Error, TypeError, IndexError):  # an unbindable statement's error is Execute's to report
        return {}
    out = {int(n): oid for n, t in parameters if n.isdigit() and (oid := parameter_oid(t))}
    unknown = {int(n) for n, _ in parameters if n.isdigit()} - set(out)
    if unknown and any(name in sql.lower() for name in _FEATURES_FROM):
        out.update({n: _FLOAT8 for n in _feature_parameters(sql) if n in unknown})
    # Each round binds again with the parameters inferred so far cast to their types: in ``count * $1 > $2`` the
    # comparison types $2 once $1 is known.
    typed: dict[int, Any] = {}
    for _ in range(3):
        left = unknown - set(out) - set(typed)
        found = _inferred(bind, _cast(sql, typed), left) if left else {}
        if not found:
            break
        typed.update(found)
        try:
            again = bind(_cast(sql, typed))[2]
        except (duckdb.Error, TypeError, IndexError):
            break
        typed.update({int(n): t for n, t in again if n.isdigit() and int(n) in left and str(t).upper() != "UNKNOWN"})
    out.update({n: oid for n, t in typed.items() if n not in out and (oid := parameter_oid(t))})
    return out


def _cast(sql: str, typed: dict[int, Any]) -> str:
    """``sql`` with each parameter of ``typed`` cast to its type (``$1`` as ``CAST($1 AS INTEGER)``)."""
    if not typed:
        return sql
    toks = _words(sql)
    out, last = [], 0
    for i in range(len(toks) - 1):
        if toks[i][1] == "$" and toks[i + 1][1].isdigit() and (t := typed.get(int(toks[i + 1][1]))) is not None:
            end = toks[i + 1][0] + len(toks[i + 1][1])
            out += [sql[last:toks[i][0]], f"CAST({sql[toks[i][0]:end]} AS {t})"]
            last = end
    return "".join(out) + sql[last:]


def _inferred(bind: Any, sql: str, unknown: set[int]) -> dict[int, Any]:
    """Types PostgreSQL infers where DuckDB's binder leaves a parameter unknown: an operand of arithmetic
    (``$1 + 1``, ``count * $1``) the other operand's, when that is a number; ``x = ANY($1)`` / ``ALL($1)`` an array of
    ``x``'s. Each by binding the statement with the operator made a coalesce (``coalesce($1, 1)``) or a comparison
    (``x = $1``), which DuckDB types from the other side.

    Why numbers only for arithmetic: ``d + $1`` of a date is an integer or an interval in PostgreSQL, never the
    date the comparison would give; a parameter left text is what the client sent before."""
    try:
        toks = _words(sql)
    except duckdb.Error:
        return {}
    out: dict[int, Any] = {}
    for i in range(len(toks) - 1):
        if toks[i][1] != "$" or not toks[i + 1][1].isdigit() or (n := int(toks[i + 1][1])) not in unknown or n in out:
            continue
        around = [t[1].lower() for t in toks[max(i - 2, 0):i]], [t[1] for t in toks[i + 2:i + 3]]
        if around[0][-2:] in (["any", "("], ["all", "("], ["some", "("]) and around[1] == [")"]:
            probe = sql[:toks[i - 2][0]] + f"${n}" + sql[toks[i + 2][0] + 1:]
            if (t := _bound(bind, probe, n)) is not None and parameter_oid(duckdb.list_type(t)):
                out[n] = duckdb.list_type(t)
            continue
        op = _operator_of(toks, i)
        if op is None:
            continue
        # the operands whole (``t.x::BIGINT``, ``f(x)``, ``2 * y`` of a ``+``), as a coalesce of the two that keeps
        # their type where the sum stood: ``abs(x + $1)`` as ``abs(coalesce(x, $1))``
        level = _PRECEDENCE[toks[op][1]]
        a, b = _operand_end(toks, op, -1, level), _operand_end(toks, op, 1, level)
        start, end = toks[a][0], toks[b][0] + len(toks[b][1])
        probe = (f"{sql[:start]}coalesce({sql[start:toks[op][0]]},"
                 f"{sql[toks[op][0] + len(toks[op][1]):end]}){sql[end:]}")
        if (t := _bound(bind, probe, n)) is not None and parameter_oid(t) in _NUMBERS:
            out[n] = t
            continue
        if t is not None and str(t).upper() == "INTERVAL" and toks[op][1] == "*":
            # PostgreSQL's interval * float8: "the last $1 days", now() - $1 * interval '1 day', took a number
            out[n] = duckdb.sqltype("DOUBLE")
            continue
        other = [w for _, w, _ in (toks[op + 1:b + 1] if op > i else toks[a:op])]
        if len(other) == 2 and other[0] == "$" and other[1].isdigit() and int(other[1]) in unknown:
            # ``$1 + $2``: no typed side; the type of what the sum stands for (``a = $1 + $2``: a's), a number
            if (t := _bound(bind, f"{sql[:start]}${n}{sql[end:]}", n)) is not None and parameter_oid(t) in _NUMBERS:
                out[n] = t
    return out


def _operator_of(toks: list[tuple[int, str, str]], i: int) -> int | None:
    """The arithmetic operator parameter ``$`` at ``i`` is an operand of: of the two beside it, the one binding
    tighter, the left one of two alike (``a - $1 + 2``: ``-``; ``a + $1 * 2``: ``*``, as PostgreSQL reads them)."""
    left = i - 1 if i >= 1 and toks[i - 1][1] in _ARITHMETIC and not _unary(toks, i - 1) else None
    right = i + 2 if i + 2 < len(toks) and toks[i + 2][1] in _ARITHMETIC else None
    if right is not None and (left is None or _PRECEDENCE[toks[right][1]] > _PRECEDENCE[toks[left][1]]):
        return right
    return left


def _unary(toks: list[tuple[int, str, str]], j: int) -> bool:
    """Whether the ``-`` or ``+`` at ``j`` is a sign (``-$1``, ``a * -2``), not a subtraction or an addition."""
    if toks[j][1] not in ("-", "+"):
        return False
    before = toks[j - 1][1] if j else ""
    return not before or before in _ARITHMETIC or before.lower() in _ENDS or before in ("(", ",", "::")


def _without_unary_minus(sql: str) -> tuple[str, set[int]]:
    """``sql`` with the sign of each negated parameter (``-$1``, ``-($1)``) made a space, and those parameters'
    numbers."""
    try:
        toks = _words(sql)
    except duckdb.Error:
        return sql, set()
    words = [w for _, w, _ in toks]
    out, negated = sql, set()
    for j in range(len(toks) - 2):
        if words[j] != "-" or not _unary(toks, j):
            continue
        rest = words[j + 1:j + 5]
        if rest[:1] == ["("] and rest[3:4] == [")"]:
            rest = rest[1:3]
        if rest[:1] == ["$"] and len(rest) > 1 and rest[1].isdigit():
            negated.add(int(rest[1]))
            out = out[:toks[j][0]] + " " + out[toks[j][0] + 1:]
    return out, negated


def _operand_end(toks: list[tuple[int, str, str]], op: int, step: int, level: int) -> int:
    """The last token of the operand beside the operator at ``op`` (``step`` -1: the left one) of precedence
    ``level``: up to a comparison, a comma, an unmatched parenthesis, a clause's word (WHERE, AND, THEN, ...), or an
    operator binding looser (on the right also one alike: ``a - $1 + 2`` is ``(a - $1) + 2``)."""
    depth, i = 0, op
    while 0 <= i + step < len(toks):
        word = toks[i + step][1].lower()
        depth += {"(": 1, ")": -1}.get(word, 0) * step
        if depth < 0 or depth == 0 and (word in _ENDS or word in (",", ";")):
            break
        if depth == 0 and word in _PRECEDENCE and not _unary(toks, i + step) and (
                _PRECEDENCE[word] < level or step == 1 and _PRECEDENCE[word] == level):
            break
        i += step
    return i


def _bound(bind: Any, sql: str, n: int) -> Any:
    """The type DuckDB's binder gives parameter ``n`` of ``sql``; None if unknown or it cannot bind ``sql``."""
    try:
        types = dict(bind(sql)[2])
    except (duckdb.Error, TypeError, IndexError):
        return None
    t = types.get(str(n))
    return None if t is None or str(t).upper() == "UNKNOWN" else t


def _feature_parameters(sql: str) -> set[int]:
    """Numbers of the parameters passed straight as an anomaly function's feature (``$n``, or ``?`` by its place), in
    a statement of any kind: a SELECT, INSERT ... SELECT / VALUES, UPDATE ... SET, a DELETE's WHERE, CREATE TABLE AS.

    Why DuckDB's tokens, not its parse tree: ``json_serialize_sql`` serializes a SELECT only, so the features of a
    write were described as text and asyncpg refused the numbers it was given. The tokens never read a string or a
    comment; a call is a function's name followed by its parenthesis, its arguments split at its own commas."""
    try:
        toks = [text for _, text, _ in _words(sql)]
    except duckdb.Error:
        return set()
    marks = {i: n for n, i in enumerate((i for i, t in enumerate(toks) if t == "?"), start=1)}
    out = set()
    for i, name in enumerate(toks):
        first = _FEATURES_FROM.get(name.strip('"').lower())
        if first is None or toks[i + 1:i + 2] != ["("]:
            continue
        args: list[list[tuple[int, str]]] = [[]]
        depth = 0
        for j in range(i + 2, len(toks)):
            depth += {"(": 1, ")": -1}.get(toks[j], 0)
            if depth < 0:
                break
            if depth == 0 and toks[j] == ",":
                args.append([])
            else:
                args[-1].append((j, toks[j]))
        for arg in args[first:]:
            while len(arg) > 2 and arg[0][1] == "(" and arg[-1][1] == ")":
                arg = arg[1:-1]  # ($1)
            words = [t for _, t in arg]
            if len(words) == 2 and words[0] == "$" and words[1].isdigit():
                out.add(int(words[1]))
            elif words == ["?"]:
                out.add(marks[arg[0][0]])
    return out
