"""PostgreSQL's ``#`` operator, bitwise XOR of integers (``flags # 4``), which DuckDB cannot parse ('syntax error at
or near "#"'): DuckDB has the function ``xor``. Each ``a # b`` becomes a call of the session's macro XOR (pgcatalog),
which pgcolnames names ``?column?``, as PostgreSQL names an operator's column.

The operands are read as PostgreSQL's grammar binds them: ``#`` is one of its "other operators", below ``+ - * / %
^`` and above comparisons, left-associative with ``&``, ``|``, ``<<``, ``>>`` and ``||``: ``a & b # c + 1`` is
``xor(a & b, c + 1)``, ``a # b & c`` is ``xor(a, b) & c``. A CASE ... END is one operand, and a CASE's END (``ELSE
x # 1 END``) or a bare alias (``x # 1 f``) ends the one before it. An operand this cannot read
leaves the statement to DuckDB's own error. A call's ``OVER (...)`` (or ``OVER name``) and ``FILTER (...)`` are
the call's (``row_number() OVER (ORDER BY id) # 1``). Runs after pgjsonpath, whose ``#>`` / ``#>>`` it must not
read. pgjsonb reads the operands of ``||``, ``@>``, ``<@`` and ``?`` with it (operand_start, operand_end): PostgreSQL binds them
all alike.
"""

from __future__ import annotations

from .pgsumscope import Tokens
from .sqltext import words_if

XOR = "pg_xor"
# operators binding tighter than #: part of either operand
_TIGHTER = frozenset(("+", "-", "*", "/", "//", "%", "^", "**", ".", "::"))
# operators of #'s own level: part of the left operand only (left-associative)
_SAME = frozenset(("&", "|", "<<", ">>", "||", "->", "->>", "@>", "<@", "&&", "~", "!~", "~*", "!~*", "^@"))
# words that are no operand's part: an operand before or after them ends, or (those that may end one, a CASE's END,
# a window's OVER) this gives up
_GIVE_UP = frozenset(("within", "collate", "at"))
# what follows a call and is its part: a window's OVER (...) or OVER name, an aggregate's FILTER (...)
_CALL_CLAUSES = frozenset(("over", "filter"))
# what opens a nested part, read away from the # (step 1: rightwards), and what shuts it
_OPEN = {1: ("(", "[", "case"), -1: (")", "]", "end")}
_DEPTH = {"(": 1, "[": 1, "case": 1, ")": -1, "]": -1, "end": -1}
# tokens after which an operand is complete: a value or a name follows only as another part (an alias, a clause)
_VALUE_KINDS = ("identifier", "string_const", "numeric_const", "keyword")
# keywords that name a call (the casts the server adds to a declared parameter, CAST($1 AS INTEGER), among them)
_CALLS = frozenset(("cast", "try_cast", "coalesce", "nullif", "greatest", "least", "extract", "position",
                    "substring", "trim", "overlay", "grouping", "left", "right"))


def xor_operators(sql: str) -> str:
    """``sql`` with each ``a # b`` as ``pg_xor(a, b)``, left to right."""
    for _ in range(sql.count("#")):
        toks = words_if(sql, "#")
        if not toks:
            return sql
        op = next((k for k in range(1, len(toks) - 1) if toks[k][1] == "#"), None)
        if op is None or toks[op + 1][1] == "-" and toks[op + 1][0] == toks[op][0] + 1:
            return sql  # (#- is PostgreSQL's jsonb operator of its own, which DuckDB lacks: its error stands)
        left, right = _left(toks, op), _right(toks, op)
        if left is None or right is None:
            return sql
        start, end = toks[left][0], toks[right][0] + len(toks[right][1])
        sql = (f"{sql[:start]}{XOR}({sql[start:toks[op][0]].rstrip()}, "
               f"{sql[toks[op][0] + 1:end].lstrip()}){sql[end:]}")
    return sql


def operand_start(toks: Tokens, op: int) -> int | None:
    """The first token of the operand left of token ``op``, read as ``#``'s left operand (module doc)."""
    return _left(toks, op)


def operand_end(toks: Tokens, op: int) -> int | None:
    """The last token of the operand right of token ``op``, read as ``#``'s right operand (module doc)."""
    return _right(toks, op)


def _part(toks: Tokens, j: int) -> bool | None:
    """Whether token ``j`` (not a parenthesis) may be part of an operand: True, False where one ends, None where
    this gives up."""
    w, kind = toks[j][1].lower(), toks[j][2]
    if w in _GIVE_UP:
        return None
    if kind in ("identifier", "string_const", "numeric_const"):
        return True
    if kind == "keyword":  # a value (NULL, TRUE), a type's name after ::, a call (CAST(...)), else a clause's word
        return w in ("null", "true", "false") or j > 0 and toks[j - 1][1] == "::" \
            or w in _CALLS and j + 1 < len(toks) and toks[j + 1][1] == "(" \
            or w == "array" and j + 1 < len(toks) and toks[j + 1][1] in ("[", "(")  # ARRAY['a', 'b']
    return w in _TIGHTER or w in ("$", "?")


def _left(toks: Tokens, op: int) -> int | None:
    """The first token of the left operand of the ``#`` at ``op``."""
    return _operand(toks, op, -1)


def _right(toks: Tokens, op: int) -> int | None:
    """The last token of the right operand of the ``#`` at ``op``."""
    return _operand(toks, op, 1)


def _operand(toks: Tokens, op: int, step: int) -> int | None:
    """The far token of the operand beside the ``#`` at ``op``, read away from it (``step`` -1: the left one)."""
    j, far = op + step, None
    while 0 <= j < len(toks):
        w = toks[j][1]
        if w.lower() in _CALL_CLAUSES and far is not None and toks[j - 1 if step > 0 else j + 1][1] in (")", "(") \
                or step > 0 and far is not None and toks[far][1].lower() == "over" and toks[j][2] == "identifier":
            far, j = j, j + step  # f(x) OVER w # 1: the call's clause (and a window's name after OVER) is the call's
            continue
        if step > 0 and far is not None and toks[j][2] in _VALUE_KINDS and w != "(" and _complete(toks, far):
            break  # x # 1 f: f is the column's alias (PostgreSQL's AS is optional); ELSE x # 1 END: the CASE's end
        if w.lower() in _OPEN[step]:
            matched = _matched(toks, j, step)
            if matched is None:
                return None
            j = matched
        elif not (step < 0 and w in _SAME and far is not None):  # (left-associative: a & b # c is (a & b) # c)
            part = _part(toks, j)
            if part is None:
                return None
            if not part:
                break
        far, j = j, j + step
    return far


def _matched(toks: Tokens, j: int, step: int) -> int | None:
    """The token that shuts (``step`` 1) or opens (-1) the parenthesis, bracket or CASE ... END at token ``j``."""
    depth = 0
    while 0 <= j < len(toks):
        depth += _DEPTH.get(toks[j][1].lower(), 0) * step
        if depth == 0:
            return j
        j += step
    return None


def _complete(toks: Tokens, far: int) -> bool:
    """Whether the right operand read up to token ``far`` is complete: it ends with a value, a name or a shut
    parenthesis (not an operator, nor a type's name a parenthesis may follow: numeric(10, 2))."""
    w, kind = toks[far][1], toks[far][2]
    return w in (")", "]") or w.lower() == "end" or kind in ("identifier", "string_const", "numeric_const") \
        or kind == "keyword" and w.lower() in ("null", "true", "false") or far > 0 and toks[far - 1][1] == "::"
