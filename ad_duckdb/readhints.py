"""What DuckDB's failure to read a CSV source means, and the read_csv option that fixes it.

Why: DuckDB's own CSV errors are long and general ("Set the correct encoding, if available ... e.g.,
encoding='UTF-16'"); an analyst with a bank export needs the one call that reads it, with their file in it.
"""

from __future__ import annotations

import re

from .exceptions import BadInputError
from .sqltext import is_query, quote_literal

_CALL = re.compile(r"(?is)\s*(read_csv(?:_auto)?\s*\(.*\))\s*;?\s*")
_CONVERT = re.compile(r'(?s)converting column "(.*?)"\. Could not convert string "(.*?)" to \'(\w+)\'')


def _split_args(text: str) -> list[str]:
    """The top-level comma-separated parts of a call's argument text (commas inside quotes, brackets or parentheses
    are not separators)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _option_value(arg: str, name: str) -> str | None:
    """The value text of ``arg`` if it is the named argument ``name`` (``name=v`` or ``name := v``), else None."""
    m = re.fullmatch(rf"(?is){re.escape(name)}\s*:?=\s*(.+)", arg)
    return m.group(1).strip() if m else None


def _merged(name: str, old: str, new: str) -> str:
    """The value for option ``name`` when the call already had ``old``: a nullstr list keeps the call's own missing
    markers; any other option takes the new value."""
    if name.lower() != "nullstr":
        return new
    items = _split_args(old[1:-1]) if old.startswith("[") and old.endswith("]") else [old]
    return "[" + ", ".join(dict.fromkeys([*items, *_split_args(new[1:-1])])) + "]"


def with_csv_options(source: str, options: str) -> str:
    """The read_csv call that reads ``source`` with ``options`` (one ``name=value``) added: the source's own call, or
    one around its path; for a query, its read_csv(...) with a word on where the options go. An option the call
    already has is replaced (DuckDB refuses a named argument given twice)."""
    s = source.strip()
    call = _CALL.fullmatch(s)
    if call:
        text = call.group(1)
        head, args = text[: text.index("(") + 1], _split_args(text[text.index("(") + 1: -1])
        name, new = (x.strip() for x in options.split("=", 1))
        kept = [a for a in args if _option_value(a, name) is None]
        olds = [v for a in args if (v := _option_value(a, name)) is not None]
        value = _merged(name, olds[-1], new) if olds else new
        return f"{head}{', '.join([*kept, f'{name}={value}'])})"
    if is_query(s) or "(" in s:
        return f"the query's read_csv(...) with {options} added"
    path = s[1:-1].replace("''", "'") if len(s) >= 2 and s[0] == s[-1] == "'" else s
    return f"read_csv({quote_literal(path)}, {options})"


def read_fix(source: str, error: str) -> str | None:
    """The cause and fix of a failed read of ``source`` (DuckDB's message ``error``), or None if it is not one
    we know."""
    if "not utf-8 encoded" in error.lower():
        latin = with_csv_options(source, "encoding='latin-1'")
        return f"the file is not UTF-8 (a Latin-1 or Windows export, with bytes such as é or ü). Read it with {latin}"
    m = _CONVERT.search(error)
    if m and "auto-detected" in error:
        column, value, sql_type = m.groups()
        nullstr = f"nullstr=[{quote_literal(value)}, '']"
        return (f"DuckDB typed column {column!r} {sql_type} from the file's first rows, but a later row holds "
                f"{value!r}. If {value!r} means a missing value, read it with {with_csv_options(source, nullstr)}; "
                f"otherwise {with_csv_options(source, 'sample_size=-1')} types each column from every row")
    return None


def read_error(who: str, source: str, e: BaseException) -> BadInputError | None:
    """``who``'s error for a failed read of ``source`` that ``read_fix`` knows, DuckDB's words kept at its end; None
    for others. Why the split: a failed read mid-stream reaches us as "reading the stream registered as ... failed:",
    whose name is ours, not the user's."""
    fix = read_fix(source, str(e))
    if fix is None:
        return None
    inner = str(e).split(" failed: ", 1)[-1].rstrip(".")
    return BadInputError(f"{who}: cannot read {source!r}: {fix}. ({inner}.)")
