"""The fix for ``ad-duckdb sql DB SELECT count(*) FROM t``: a query left unquoted reaches the command as many words.

Why not join the words into the query (as some CLIs do): the shell has already changed them. An unquoted ``*``
becomes the names of the files of the current directory, and the quotes of a 'literal' are gone, so the joined text
would run another query than the one typed, or fail on file names. The message says to quote the query, with the
command to paste, and names the file names when the words hold those of the whole directory (a ``*`` expanded).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence

from .sqltext import shell_word


def _expanded_star(words: Sequence[str], cwd: str) -> tuple[int, int] | None:
    """Where in ``words`` the shell put the names of the files of ``cwd`` for a ``*``: the slice [start, end), or
    None. Why every name, each once: a word that happens to name a file (a table called like a folder) is no
    expansion; the set of the directory's names is, as bash expands ``*`` (hidden names only with dotglob)."""
    try:
        every = set(os.listdir(cwd))
    except OSError:
        return None
    visible = {n for n in every if not n.startswith(".")}
    if not visible:
        return None
    start = 0
    while start < len(words):
        end = start
        while end < len(words) and words[end] in every:
            end += 1
        run = words[start:end]
        if run and len(set(run)) == len(run) and visible <= set(run):
            return start, end
        start = end + 1
    return None


def unquoted_query_message(db: str, words: Sequence[str], options: Sequence[str], cwd: str = ".") -> str:
    """The usage error for QUERY given as ``words`` (the query argument and the extra arguments after it), with the
    command to run instead: DB, the ``options`` given, and the query as one quoted word."""
    star = _expanded_star(words, cwd)
    if star is not None:
        start, end = star
        names = ", ".join(words[start:end])
        query = " ".join([*words[:start], "*", *words[end:]])
        why = (f"the shell replaced the * of the query by the names of the files in this directory ({names}): quote "
               "the whole query, which keeps its *")
    else:
        query = " ".join(words)
        why = ("quote the whole query (left unquoted, the shell splits it into words, replaces a * by file names "
               "and drops the quotes of a 'literal')")
    command = " ".join(["ad-duckdb sql", shlex.quote(db), *map(shlex.quote, options), shell_word(query)])
    return f"QUERY is one argument, and the query came as {len(words)} words; {why}: {command}"
