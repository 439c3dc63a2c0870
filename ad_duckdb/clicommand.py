"""The command classes: SQL arguments beginning with ``--``, and unquoted queries, told apart from options."""

from __future__ import annotations

import re

import click

from . import usageerrors
from .querywords import command_without, unquoted_query_message
from .sqltext import begins_query

# An option, or an option with its value after "=": no space or line break in its name.
_OPTION_SHAPE = re.compile(r"--[A-Za-z][\w-]*(=.*)?", re.S)

_OPTION_LIKE = re.compile(r"--?[A-Za-z][\w-]*")

_QUERY_AND_FILE = "Give the SQL either as QUERY or with --file PATH, not both."


class _Command(click.Command):
    """A command whose SQL arguments may begin with a ``-- comment`` line (a query copied from a SQL editor).

    Why: click takes any argument starting with ``--`` for an option and refuses it as unknown. Text of no
    option's shape (``-- my query``, a line break in the name) gets a leading space, which makes click read it
    as a value, and SQL ignores. Only text with a space or line break in it, as a comment line ending before the
    query has: a path such as ``--x.duckdb`` got the space too, so a new database was created as " --x.duckdb"
    (usageerrors.dash_path says how to give such a path).
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = list(args)  # click's parser takes the words out of the list it is given
        args = [f" {a}" if a.startswith("--") and a != "--" and not _OPTION_SHAPE.fullmatch(a)
                and any(c.isspace() for c in a) else a for a in args]
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as e:
            # click's parser raises an option's own errors ("Option '--into' requires an argument.") without the
            # command's context, which the usage line and the fix (usageerrors) are made from
            if e.ctx is None:
                e.ctx = ctx
            if isinstance(e, click.NoSuchOption):  # a path starting with '-' (-x.duckdb): how to give it
                raise usageerrors.dash_path(e, given) from None
            raise


class _QueryWordsCommand(_Command):
    """A command whose query argument (``query_param``) was given unquoted: its words after the first arrive as extra
    arguments, which are told to quote the query (the command to paste), not click's bare "Got unexpected extra
    arguments", which did not say what to do."""

    query_param = "source"
    argument = "SOURCE"
    # whether any words after the value are a query's; else only after one that begins a query (a table followed
    # by other words is another mistake, which click's own message names)
    any_words = False

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.allow_extra_args = True
        rest = super().parse_args(ctx, args)
        if not rest or ctx.resilient_parsing:
            return rest
        first = ctx.params.get(self.query_param)
        words = [first, *rest] if first is not None else rest
        mistyped = next((w for w in words if _OPTION_LIKE.fullmatch(w)), None)
        if mistyped is not None:  # ignore_unknown_options passed it on as a word
            raise usageerrors.no_such_option(mistyped, ctx)
        if first is None or not (self.any_words or begins_query(first)):
            raise click.UsageError(f"Got unexpected extra argument{'s' if len(rest) > 1 else ''} ({' '.join(rest)})",
                                   ctx)
        self.check_words(ctx)
        raise click.UsageError(unquoted_query_message(command_without(ctx, self.query_param), self.argument, words),
                               ctx)

    def check_words(self, ctx: click.Context) -> None:
        """A mistake to name before the quoting."""


class _ThresholdCommand(_QueryWordsCommand):
    argument = "The value of --source"


class _SqlCommand(_QueryWordsCommand):
    query_param = "query"
    argument = "QUERY"
    any_words = True

    def check_words(self, ctx: click.Context) -> None:
        if ctx.params["sql_file"] is not None:
            raise click.UsageError(_QUERY_AND_FILE, ctx)

