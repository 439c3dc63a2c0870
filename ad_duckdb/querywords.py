"""The fix for ``ad-duckdb sql DB SELECT count(*) FROM t``: a query left unquoted reaches the command as many words
(QUERY of sql, SOURCE of train, score, ..., threshold's --source).

Why not join the words into the query (as some CLIs do): the shell has already changed them. An unquoted ``*``
becomes the names of the files of the current directory, and the quotes of a 'literal' are gone, so the joined text
would run another query than the one typed, or fail on file names. The message says to quote the query, with the
command to paste, and names the file names when the words hold those of the whole directory (a ``*`` expanded).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from typing import Any

import click
from click.core import ParameterSource

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


def unquoted_query_message(command: Sequence[str], argument: str, words: Sequence[str], cwd: str = ".") -> str:
    """The usage error for ``argument`` (QUERY, SOURCE, --source) given as ``words`` (its value and the extra
    arguments after it), with the command to run instead: the words of ``command`` and the query as one quoted word."""
    star = _expanded_star(words, cwd)
    if star is not None:
        start, end = star
        names = ", ".join(words[start:end])
        query = " ".join([*words[:start], "*", *words[end:]])
        why = (f"the shell replaced the * of the query by the names of the files in this directory ({names}): quote "
               "the whole query, which keeps its *")
    elif words and words[0].startswith(".") and len(words[0].split()) > 1:
        # Why its own fix: '.mode csv' and the query given as two quoted arguments were told to be joined by a
        # space, and '.mode csv SELECT 1' then failed: a dot command ends at its line's end
        body = "\n".join(words)
        fix = " ".join([*map(shlex.quote, command), _ansi_c(body)])
        return (f"{argument} is one argument, and it came as {len(words)}, the first a dot command ({words[0]}), which "
                f"ends at its line's end: put each on a line of its own in one argument, {fix}"
                + (f"; or give the format as an option: --format {words[0].split()[1]}"
                   if words[0].split()[0] == ".mode" else ""))
    else:
        query = " ".join(words)
        why = ("quote the whole query (left unquoted, the shell splits it into words, replaces a * by file names "
               "and drops the quotes of a 'literal')")
    fix = " ".join([*map(shlex.quote, command), shell_word(query)])
    return f"{argument} is one argument, and the query came as {len(words)} words; {why}: {fix}"


def _ansi_c(text: str) -> str:
    """``text`` as one bash word in ANSI-C quotes ($'...'), in which \\n is a line break."""
    return "$'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


def command_without(ctx: click.Context, param: str) -> list[str]:
    """The command line of ``ctx`` as given, up to the value of ``param`` (the query): the group's options, the
    command, the arguments before ``param``, the options given, then ``param``'s option name when it is an option.
    Why from the parsed values, not the raw words: which word was an option's value and which the query's is only
    known after parsing; options the environment or a default gave are left out, as the user did not type them."""
    words = ["ad-duckdb"]
    if ctx.parent is not None:
        words += _given(ctx.parent, "")[1]
    args, opts = _given(ctx, param)
    words += [ctx.info_name or ctx.command.name or "", *args, *opts]
    query = next(p for p in ctx.command.params if p.name == param)
    if isinstance(query, click.Option):
        words.append(_long(query.opts))
    return words


def _given(ctx: click.Context, skip: str) -> tuple[list[str], list[str]]:
    args: list[str] = []
    opts: list[str] = []
    for p in ctx.command.params:
        if p.name is None or p.name == skip or ctx.get_parameter_source(p.name) is not ParameterSource.COMMANDLINE:
            continue
        value = ctx.params.get(p.name)
        if isinstance(p, click.Option):
            opts += _option_words(p, value)
        elif value is not None:
            args.append(_text(value))
    return args, opts


def _option_words(p: click.Option, value: Any) -> list[str]:
    if p.is_flag:
        if p.is_bool_flag and not value:
            return [_long(p.secondary_opts)] if p.secondary_opts else []
        return [_long(p.opts)]
    values = value if p.multiple else [value]
    return [w for v in values if v is not None for w in (_long(p.opts), _text(v))]


def _long(opts: Sequence[str]) -> str:
    return next((o for o in opts if o.startswith("--")), opts[0])


def _text(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)  # the shortest text that reads back as the same float
    return str(getattr(value, "name", value)) if hasattr(value, "read") else str(value)
