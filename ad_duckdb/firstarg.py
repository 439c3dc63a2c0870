"""The values of an anomaly function's first feature argument, for the fix of DuckDB's binder error on it.

Why: the functions type their first feature DOUBLE, so DuckDB refuses a text one ("No function matches ...") before
they run, and the fix could only be the general TRY_CAST(col AS DOUBLE), which reads every "1.234,50" or "$1,234.50"
as NULL; the functions name the expression for such amounts in every other place, from the values they see. Here the
values are read by the user's own SELECT with the argument as its only column: DuckDB's parser gives the statement
as JSON (json_serialize_sql), and json_deserialize_sql turns it back into SQL.
"""

from __future__ import annotations

import json
import re
from typing import Any

import duckdb

from .callshape import argument_types, call_shape_hint
from .exceptions import is_interrupt
from .features import is_numeric_type
from .numberhints import as_number_hint
from .sqltext import sql_tokens
from .udfnames import FUNCTIONS, NO_FEATURES

# Values read for the judgement, as the functions judge a batch by its first 10,000 (arrownumbers.text_numbers_hint).
_ROWS = 10_000


def first_argument_values(con: duckdb.DuckDBPyConnection, statement: str, func: str, index: int) -> list[str] | None:
    """Up to ``_ROWS`` non-NULL values of argument ``index`` of the first call of ``func`` in ``statement``, read by
    its SELECT (its FROM and WHERE, without its grouping, order or limit); None where that cannot be done (not
    a SELECT, no such call, a WHERE that fails the same way)."""
    try:
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [statement]).fetchall()[0][0])
    except Exception as e:
        if is_interrupt(e):
            raise
        return None
    if tree.get("error") or len(tree.get("statements", [])) != 1:
        return None
    found = _call_in(tree["statements"][0]["node"], func.lower(), index, None)
    if found is None:
        return None
    node, arg = found
    node.update(select_list=[arg], modifiers=[], group_expressions=[], group_sets=[], having=None, qualify=None,
                aggregate_handling="STANDARD_HANDLING")
    statement_node = tree["statements"][0]
    # the SELECT around the call alone (an outer ORDER BY s names the score it no longer has), then within the whole
    # statement (a CTE it reads); a WHERE that calls the function (WHERE is_anomaly(...)) fails as the statement
    # did: then the rows without it
    wholes = ([{**statement_node, "node": node}] if statement_node["node"] is not node else []) + [statement_node]
    for whole, where in [(w, c) for w in wholes for c in (node.get("where_clause"), None)]:
        node["where_clause"] = where
        probe = {**tree, "statements": [whole]}
        try:
            sql = con.execute("SELECT json_deserialize_sql(?::JSON)", [json.dumps(probe)]).fetchall()[0][0]
            rows = con.sql(sql).limit(_ROWS).fetchall()  # the user's own SELECT, as DuckDB wrote it back
        except Exception as e:
            if is_interrupt(e):
                raise
            continue
        return [str(r[0]) for r in rows if r and r[0] is not None]
    return None


def _call_in(tree: Any, func: str, index: int, select: dict[str, Any] | None) -> tuple[dict[str, Any], Any] | None:
    """The innermost SELECT node around the first call of ``func`` in ``tree``, and that call's argument ``index``."""
    if isinstance(tree, dict):
        if tree.get("type") == "SELECT_NODE":
            select = tree
        if tree.get("class") == "FUNCTION" and str(tree.get("function_name", "")).lower() == func:
            args = [a.get("expression") if isinstance(a, dict) and "expression" in a else a
                    for a in tree.get("arguments") or tree.get("children") or []]
            return (select, args[index]) if select is not None and len(args) > index else None
        items = list(tree.values())
    elif isinstance(tree, list):
        items = tree
    else:
        return None
    for item in items:
        found = _call_in(item, func, index, select)
        if found is not None:
            return found
    return None


# DuckDB's binder refuses a non-numeric first feature argument before our functions see it (their first feature is
# typed DOUBLE): "No function matches ... 'anomaly_score(STRING_LITERAL, BOOLEAN, DOUBLE)'".
# (the functions that take feature arguments: udfnames.FUNCTIONS but NO_FEATURES)
_BINDER_MISMATCH = re.compile(r"No function matches the given name and argument types "
                              rf"'({'|'.join(f for f in FUNCTIONS if f not in NO_FEATURES)})\((.*?)\)'(?=\.)")


def first_feature_hint(error: str, con: duckdb.DuckDBPyConnection | None = None, statement: str = "") -> str:
    """For DuckDB's binder error on an anomaly function's non-numeric first feature: what the argument is and the fix
    (the functions' own errors say so for the other arguments); else "". ``con`` and ``statement``: to read a text
    argument's values, for the expression that reads amounts written as an export writes them ("1.234,50")."""
    shape = call_shape_hint(error, statement)  # the model's name or every feature left out
    if shape:
        return shape
    m = _BINDER_MISMATCH.search(error)
    if m is None:
        return ""
    types = argument_types(m.group(2))
    first = 2 if m.group(1) == "is_anomaly_at" else 1  # after the model (and the threshold name)
    if first == 2 and len(types) > 1 and types[1] not in ("VARCHAR", "STRING_LITERAL", '"NULL"', "NULL"):
        # a cut given as a number (PyOD's threshold_), or the name left out: the name's place holds a number
        return (f" (is_anomaly_at's second argument is the name of a stored threshold, here {types[1]}: "
                "is_anomaly_at(MODEL, 'p99', x1, ...), with 'default', 'p90', 'p95', 'p99', 'p999' or a name stored "
                "by `ad-duckdb threshold` (`ad-duckdb show DB MODEL` lists them); to cut at a score of your own, "
                "anomaly_score(MODEL, x1, ...) > N, or store it: ad-duckdb threshold DB MODEL NAME --method manual "
                "--value N)")
    if len(types) <= first or is_numeric_type(types[first]):
        return ""
    in_order = _text_model_call(con, statement, m.group(1)) if con is not None else None
    if in_order is not None:
        return (f" ({m.group(1)}'s first feature argument is {types[first]}: the model's text features come after "
                f"its numeric ones (DuckDB reads the first feature as a number), so call {in_order})")
    fix = as_number_hint("col", types[first])
    if con is not None and types[first] == "VARCHAR":
        import pyarrow as pa

        from .arrownumbers import text_numbers_hint

        values = first_argument_values(con, statement, m.group(1), first)
        fix = (text_numbers_hint(pa.array(values, pa.string())) if values else None) or fix
    return (f" ({m.group(1)}'s first feature argument is {types[first]}, not a number: pass the model's columns in "
            f"its order, which `ad-duckdb show DB MODEL` lists, or turn this one into a number: {fix})")


def _text_model_call(con: duckdb.DuckDBPyConnection, statement: str, func: str) -> str | None:
    """The call of ``func`` in the model's order, where ``statement`` calls it with one model's name and that model
    has text features (a text first argument is then one of them, out of place); else None."""
    from . import categorical, storeload
    from .sqltext import sql_name

    named = {a[0] for a in _call_arguments(statement, func.lower()) if a and re.fullmatch(r"'(?:[^']|'')*'", a[0])}
    if len(named) != 1:
        return None
    model = named.pop()
    try:
        rec = storeload.load(con, model[1:-1].replace("''", "'"))
    except Exception as e:  # no such model, no store here: the general hint stands
        if is_interrupt(e):
            raise
        return None
    if categorical.layout(rec.features) is None:
        return None
    threshold = ", 'threshold_name'" if func == "is_anomaly_at" else ""
    return f"{func}({model}{threshold}, {', '.join(sql_name(n) for n in categorical.column_names(rec.features))})"


# A non-numeric feature argument, as first_feature_hint (the first) and the functions themselves (the others) say it
_NOT_A_NUMBER = (
    re.compile(r"\((?P<func>\w+)'s first feature argument is (?P<type>.+?), not a number: "),
    re.compile(r"(?P<func>\w+)\('(?:[^']|'')*', \.\.\.\): feature argument (?P<pos>\d+)"
               r"(?: \(the model was trained on .*? there\))? is (?P<type>.+?), not a number\. "),
)


def name_the_argument(message: str, statement: str) -> str:
    """``message`` with its fix for a non-numeric feature argument (``as_number_hint``) written for the argument of
    ``statement`` it is about (`flag::INTEGER`, not `col::INTEGER`); unchanged when the statement does not say which
    (no such call found, or calls of that function differing there).

    Why: with several arguments of a type (two BOOLEAN flags, a date and a timestamp), "col" left the user to work
    out which one was meant."""
    for pattern in _NOT_A_NUMBER:
        m = pattern.search(message)
        if m is None:
            continue
        func, sql_type = m.group("func"), m.group("type")
        generic = as_number_hint("col", sql_type)
        skip = 2 if func == "is_anomaly_at" else 1  # the model (and the threshold name) come first
        index = skip + int(m.groupdict().get("pos") or 1) - 1
        calls = _call_arguments(statement, func)
        args = {a[index] for a in calls if len(a) > index}
        amounts = _AMOUNTS_FIX.search(message)  # the expression for the argument's own values ("$1,234.50")
        if (generic not in message and not amounts) or len(args) != 1 or len(calls) != sum(len(a) > index for a in calls):
            return message
        arg = args.pop()
        if len(arg) > 60 or "\n" in arg:
            return message
        if amounts:  # an expression inside a function call: no parentheses needed
            named = re.sub(r"\bcol\b", lambda _, a=arg: a, amounts.group(1), count=1)
            return message[:amounts.start(1)] + named + message[amounts.end(1):]
        return message.replace(generic, as_number_hint(arg, sql_type), 1)
    return message


# arrownumbers.text_numbers_hint's expression, written for the placeholder col
_AMOUNTS_FIX = re.compile(r"into a number: (TRY_CAST\(.*? AS DOUBLE\)) reads numbers written as these are")


def _call_arguments(statement: str, func: str) -> list[list[str]]:
    """The argument texts of each call of ``func`` in ``statement``, read with DuckDB's tokenizer (so a comma or a
    parenthesis in a string or a comment is not taken for one); [] where it cannot read the statement."""
    try:
        tokens = sql_tokens(statement)
    except duckdb.Error:
        return []
    ends = [p for p, _ in tokens[1:]] + [len(statement)]
    texts = [statement[p:end].rstrip() for (p, _), end in zip(tokens, ends, strict=True)]
    comments = [(p, p + len(t)) for (p, k), t in zip(tokens, texts, strict=True) if k == duckdb.token_type.comment]

    def span(a: int, b: int) -> str:
        """The statement from a to b, without its comments."""
        parts, at = [], a
        for c0, c1 in comments:
            if a <= c0 < b:
                parts.append(statement[at:c0])
                at = min(c1, b)
        parts.append(statement[at:b])
        return " ".join("".join(parts).split()) if comments else statement[a:b].strip()

    calls: list[list[str]] = []
    for i, (_, kind) in enumerate(tokens[:-1]):
        if kind != duckdb.token_type.identifier or texts[i].lower() != func or not texts[i + 1].startswith("("):
            continue
        args: list[str] = []
        depth, start = 0, tokens[i + 1][0] + 1
        for (q, k), text in zip(tokens[i + 1:], texts[i + 1:], strict=True):
            if k != duckdb.token_type.operator:
                continue
            for j, ch in enumerate(text):
                if ch in "([{":
                    depth += 1
                elif ch in ")]}":
                    depth -= 1
                    if depth == 0:
                        args.append(span(start, q + j))
                        break
                elif ch == "," and depth == 1:
                    args.append(span(start, q + j))
                    start = q + j + 1
            if depth == 0:
                calls.append(args)
                break
    return calls


_TEXT_LITERAL = re.compile(r"Could not convert string '((?:[^']|'')*)' to (?:DOUBLE|FLOAT|DECIMAL)")


def literal_argument_hint(error: str, statement: str) -> str:
    """The fix when DuckDB could not read a text literal given as a feature of an anomaly function as a number:
    ``is_anomaly('m', 'p95', ...)``, a threshold's name where the first feature goes; else "".

    Why: DuckDB's "Could not convert string 'p95' to DOUBLE" named neither the function nor its argument, where
    every other wrong call of the functions names the fix."""
    m = _TEXT_LITERAL.search(error)
    if not m:
        return ""
    value = m.group(1)
    text = rf"'{re.escape(value.replace(chr(39), chr(39) * 2))}'"
    names = "|".join(f for f in FUNCTIONS if f not in NO_FEATURES)
    call = re.search(rf"(?i)\b({names})\s*\(\s*('(?:[^']|'')*')\s*,\s*((?:'(?:[^']|'')*'\s*,\s*)?){text}", statement)
    if call is None:
        return ""
    func, model, between = call.group(1).lower(), call.group(2), call.group(3)
    if func == "is_anomaly_at" and not between:
        return ""  # the threshold's place takes text: DuckDB's message is about another argument
    said = f" (the text {value!r} is given to {func} where the model's first feature goes, as a number"
    if func == "is_anomaly" and not between:
        return (f"{said}; a threshold by name goes to is_anomaly_at({model}, {value!r}, ...), which takes the model, "
                "the threshold's name, then the features)")
    return f"{said}: pass the feature's column)"
