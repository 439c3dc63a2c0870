"""An error's ``LINE n:`` context (DuckDB's quote of the statement, with a caret under the error) as the client's SQL.

The server runs a rewrite of the client's statement (PostgreSQL's column names ``AS "count"``, ``public.t`` as
``main.t``, ``::numeric`` as ``::DECIMAL(38,10)``, ...), so DuckDB's parser and binder errors quoted SQL the user
never wrote, and their caret counted the rewrite's characters. Here the caret's place in the SQL run is mapped back
to the client's text (the tokens both share), which is then quoted in DuckDB's layout. Only errors pay
for it: a statement that runs is not looked at.
"""

from __future__ import annotations

import re

import duckdb

from .sqltext import sql_words
from .textwidth import width

# DuckDB's quote: "\n\nLINE n: " + ["..."] + a part of the statement's line n + ["..."] + "\n" + spaces + carets.
_CONTEXT_RE = re.compile(r"\n\nLINE (\d+): (.*)\n( *)(\^+)[ \t]*\Z")
_TRUNCATED = "..."
_RESYNC = 12  # tokens a rewrite adds or replaces in one place, at most (DECIMAL(38,10) AS "numeric": 8)
_WINDOW = 60  # terminal columns quoted on each side of the error, about DuckDB's own (120 in all)


def user_sql_error(message: str, ran: str, written: str) -> str:
    """``message`` (an error of running ``ran``) with its ``LINE n:`` quote of ``ran`` turned into one of ``written``,
    the client's SQL ``ran`` was rewritten from; without the quote where the error's place cannot be found."""
    m = _CONTEXT_RE.search(message)
    if m is None or ran == written:
        return message
    head = message[:m.start()]
    span = _error_span(ran, int(m.group(1)), m.group(2), len(m.group(3)) - len(f"LINE {m.group(1)}: "),
                       len(m.group(4)))
    if span is None:
        return head  # better no quote than one of SQL the client never sent (so below, where it cannot be mapped)
    mapped = _mapped(ran, written, *span)
    return head if mapped is None else head + "\n\n" + _quote(written, *mapped)


def _lines(sql: str) -> list[tuple[int, str]]:
    """Each line's offset and text, lines split as DuckDB counts them (at every \\n and \\r)."""
    out, at = [], 0
    for part in re.split(r"[\r\n]", sql):
        out.append((at, part))
        at += len(part) + 1
    return out


def _chars_in(text: str, columns: int) -> int:
    """How many of ``text``'s first characters take ``columns`` terminal columns."""
    used = 0
    for i, c in enumerate(text):
        if used >= columns:
            return i
        used += width(c)
    return len(text)


def _error_span(ran: str, line_no: int, shown: str, caret_cols: int, carets: int) -> tuple[int, int] | None:
    """The error's (start, end) in ``ran``, from DuckDB's quote of line ``line_no``: ``shown`` (with "..." where it
    cut the line) and the caret, ``caret_cols`` columns into ``shown``, ``carets`` wide. None if not found."""
    lines = _lines(ran)
    if not 1 <= line_no <= len(lines):
        return None
    line_at, line = lines[line_no - 1]
    # the quote's "..." may be DuckDB's cut or the line's own text: the reading that is found in the line wins
    for lead in ((True, False) if shown.startswith(_TRUNCATED) else (False,)):
        body = shown[len(_TRUNCATED):] if lead else shown
        for tail in ((True, False) if body.endswith(_TRUNCATED) else (False,)):
            text = body[:-len(_TRUNCATED)] if tail else body
            at = line.find(text) if lead else (0 if line.startswith(text) else -1)
            if at < 0 or (not tail and at + len(text) != len(line)):
                continue
            cols = caret_cols - (len(_TRUNCATED) if lead else 0)
            if cols < 0:
                continue
            first = _chars_in(text, cols)
            n = max(1, _chars_in(text[first:], carets))
            return line_at + at + first, line_at + at + first + n
    return None


def _aligned(ta: list[str], tb: list[str]) -> dict[int, int]:
    """The tokens of ``ta`` (the SQL run) that are ``tb``'s (the client's), by index. The rewrites add or replace a
    few tokens in place (an alias, a type spelled out), so a walk that takes equal tokens and, where they differ,
    resumes at the nearest place where three tokens agree again is enough. Why not difflib: its time grows with the
    square of a statement's tokens, minutes for a select list of a thousand items."""
    pairs: dict[int, int] = {}
    i = j = 0
    while i < len(ta) and j < len(tb):
        if ta[i] == tb[j]:
            pairs[i] = j
            i, j = i + 1, j + 1
            continue
        step = next(((da, total - da) for total in range(1, 2 * _RESYNC + 1) for da in range(total + 1)
                     if da <= _RESYNC and total - da <= _RESYNC and i + da < len(ta) and j + total - da < len(tb)
                     and ta[i + da:i + da + 3] == tb[j + total - da:j + total - da + 3]), None)
        if step is None:
            break
        i, j = i + step[0], j + step[1]
    return pairs


def _mapped(ran: str, written: str, start: int, end: int) -> tuple[int, int] | None:
    """``ran``'s characters start:end as the span of ``written`` they came from, matched token by token (DuckDB's
    tokenizer, _aligned): a rewrite's own tokens (a type spelled out, an alias added) map to what they replaced, or
    to where they were put; None when that cannot be told. Why tokens: by characters, ``DECIMAL(38,10) AS
    "numeric"`` matched ``numeric`` to the alias."""
    try:
        a, b = sql_words(ran), sql_words(written)
    except duckdb.Error:
        return None
    if not a or not b:
        return None
    pairs = _aligned([t for _, t, _ in a], [t for _, t, _ in b])
    k_start = max((i for i, (p, _, _) in enumerate(a) if p <= start), default=0)
    k_end = max((i for i, (p, _, _) in enumerate(a) if p < end), default=k_start)

    def region(k: int) -> tuple[int, int]:
        """The client's tokens [first, last) in place of the run's unmatched token ``k``."""
        before = max((i for i in pairs if i < k), default=None)
        after = min((i for i in pairs if i > k), default=None)
        return (pairs[before] + 1 if before is not None else 0), (pairs[after] if after is not None else len(b))

    if k_start in pairs:
        j = pairs[k_start]
        new_start = b[j][0] + min(max(start - a[k_start][0], 0), max(len(b[j][1]) - 1, 0))
    else:
        first, _ = region(k_start)
        new_start = b[first][0] if first < len(b) else len(written)
    if k_end in pairs:
        j = pairs[k_end]
        new_end = b[j][0] + len(b[j][1]) - max(a[k_end][0] + len(a[k_end][1]) - end, 0)
    else:
        first, last = region(k_end)
        new_end = b[last - 1][0] + len(b[last - 1][1]) if last > first else new_start + 1
    return new_start, max(new_end, new_start + 1)


def _quote(sql: str, start: int, end: int) -> str:
    """DuckDB's layout of an error at ``sql[start:end]``: its line (cut to about 120 columns around it) and carets."""
    line_no, line_at, line = 1, 0, sql
    for n, (at, text) in enumerate(_lines(sql), 1):
        if at <= start <= at + len(text):
            line_no, line_at, line = n, at, text
            break
    a, b = start - line_at, min(max(end - line_at, start - line_at + 1), len(line))
    first, last = a, b
    if width(line) <= 2 * _WINDOW:
        first, last = 0, len(line)  # a line that fits is quoted whole, as DuckDB quotes it
    while first > 0 and width(line[first - 1:a]) <= _WINDOW:
        first -= 1
    while last < len(line) and width(line[b:last + 1]) <= _WINDOW:
        last += 1
    lead = _TRUNCATED if first > 0 else ""
    label = f"LINE {line_no}: "
    return (f"{label}{lead}{line[first:last]}{_TRUNCATED if last < len(line) else ''}\n"
            f"{' ' * (len(label) + len(lead) + width(line[first:a]))}{'^' * max(1, width(line[a:b]))}")
