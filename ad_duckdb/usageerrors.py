"""Wrong arguments or options (exit code 2) said as the command's other errors are: the ``Error: ...`` line first.

Why: click prints a usage error as ``Usage: ...`` and ``Try '... --help'`` lines, then ``Error: ...``. A scheduler's
log read by its first line, or grepped for ``Error``, showed the usage line alone, or the error without the command
it was about; every other failure of ``ad-duckdb`` is one ``Error:`` line first. Here the error leads, saying what
to fix, and the usage follows as the hint.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Sequence
from typing import IO, Any

import click


class LeadingUsageError(click.UsageError):
    """A ``click.UsageError`` shown as ``Error: ...`` (with the fix), then the usage and the ``--help`` hint."""

    def show(self, file: IO[Any] | None = None) -> None:
        color = self.ctx.color if self.ctx is not None else None
        lines = [f"Error: {self.format_message()}"]
        if self.ctx is not None:
            lines.append(self.ctx.get_usage())
            if self.ctx.command.get_help_option(self.ctx) is not None:
                lines.append(f"Try '{self.ctx.command_path} --help' for help.")
        click.echo("\n".join(lines), file=file, err=file is None, color=color)


def leading(e: click.UsageError) -> click.UsageError:
    """``e`` as a ``LeadingUsageError`` whose message says the fix; ``e`` itself when it is shown otherwise (the
    help a bare ``ad-duckdb`` prints) or is one already."""
    if isinstance(e, LeadingUsageError) or type(e).show is not click.UsageError.show:
        return e
    return LeadingUsageError(e.format_message() + _fix(e), e.ctx)  # exit code 2, as every UsageError's


def no_such_option(word: str, ctx: click.Context) -> click.NoSuchOption:
    """click's own error for an option ``ctx``'s command lacks (with the close ones: "Did you mean --format?"), for a
    word that reached the command as an argument (``ignore_unknown_options``)."""
    known = [o for p in ctx.command.get_params(ctx) if isinstance(p, click.Option) for o in (*p.opts, *p.secondary_opts)]
    return click.NoSuchOption(word, possibilities=known, ctx=ctx)


def dash_path(e: click.NoSuchOption, args: Sequence[str]) -> click.UsageError:
    """``e`` with how to give a file whose name starts with '-' (``./-x.duckdb``, or ``--`` before the arguments)
    when the option it refuses is the start of a word of ``args`` that names a file, or looks like a file's name (a
    dot or a slash in it, and not a number); ``e`` itself otherwise. Why: a database named ``-x.duckdb`` got click's
    bare "No such option '-x'", which said neither that the path was read as options nor how to give it."""
    word = next((a for a in args if a.startswith(e.option_name) and a != "--"), None)
    if word is None or e.ctx is None or not _file_like(word):
        return e
    command = e.ctx.command_path
    again = shlex.join([*command.split(), *(f"./{a}" if a == word else a for a in args)])
    part = f" (from {word!r})" if word != e.option_name else ""
    return click.UsageError(
        f"No such option {e.option_name!r}{part}: a word starting with '-' is read as options. For a file of that "
        f"name write ./{word}, or put -- before the arguments (after the options): e.g. {again}", e.ctx)


def _file_like(word: str) -> bool:
    """Whether ``word`` names a file, or looks like a file's name rather than an option or a negative number."""
    try:
        float(word)
    except ValueError:
        pass
    else:
        return False
    try:
        if os.path.lexists(word):
            return True
    except (OSError, ValueError):  # a name too long, a NUL in it
        pass
    return "." in word or "/" in word


def _fix(e: click.UsageError) -> str:
    """What to do, where click's message says only what is wrong."""
    ctx = e.ctx
    if ctx is None:
        return ""
    command = ctx.command_path
    if isinstance(e, click.MissingParameter) and isinstance(e.param, click.Argument):
        pieces = [p for p in ctx.command.collect_usage_pieces(ctx) if p != "[OPTIONS]"]
        return f" {command} takes {' '.join(pieces)}{', in that order' if len(pieces) > 1 else ''}."
    if isinstance(e, click.MissingParameter) and isinstance(e.param, click.Option):
        return _give_as(e.param, ctx)
    if isinstance(e, click.BadOptionUsage) and e.message.endswith("requires an argument."):  # `--into` at the end
        option = next((p for p in ctx.command.get_params(ctx) if isinstance(p, click.Option)
                       and e.option_name in (*p.opts, *p.secondary_opts)), None)
        return _give_as(option, ctx) if option is not None else ""
    if e.message.startswith("Got unexpected extra argument"):
        # Why the options: one -f given two columns (-f a b) is the usual slip, the second read as an argument
        wanted = " ".join(p for p in ctx.command.collect_usage_pieces(ctx) if p != "[OPTIONS]")
        many = [min(p.opts, key=len) for p in ctx.command.get_params(ctx) if isinstance(p, click.Option) and p.multiple]
        again = f"; an option takes one value each: give it again for the next ({many[0]} a {many[0]} b)" if many else ""
        return f". {command} takes {wanted}{again}."
    if isinstance(e, click.NoSuchOption) and ctx.parent is not None:
        # Why: `ad-duckdb score ... --wait 30` is the usual slip (the --help of the command does not list it), and
        # click's "Did you mean --into?" sent the user away from the option they had right
        name = e.option_name.split("=")[0]
        group = ctx.parent
        if any(isinstance(p, click.Option) and name in p.opts for p in group.command.get_params(group)):
            return (f" {name} is an option of {group.command_path} itself, not of {ctx.info_name}: give it before the "
                    f"command, e.g. {group.command_path} {name} VALUE {ctx.info_name} ... ('{group.command_path} "
                    f"--help' lists these options).")
    if isinstance(e, click.NoSuchOption) and not e.possibilities:
        return f" '{command} --help' lists its options."
    if isinstance(ctx.command, click.Group) and e.message.startswith("No such command") and "Did you mean" not in \
            e.format_message():
        return f" The commands: {', '.join(ctx.command.list_commands(ctx))}."
    return ""


def _give_as(option: click.Option, ctx: click.Context) -> str:
    """`` Give it as --label TEXT (Label column: ...).``: the option with its value's kind and what it is for (the
    first sentence of its help, without what follows its first bracket: a long help read as a second message)."""
    # a sentence ends at ". ", but not at the "e.g. " or "i.e. " inside one: cut there, --where's help read "e.g)"
    first = re.split(r"(?<!\be\.g)(?<!\bi\.e)\.\s", option.help or "")[0]
    help_text = first.split(" (")[0].rstrip(".")
    said = f" ({help_text})" if help_text else ""
    return f" Give it as {max(option.opts, key=len)} {option.make_metavar(ctx)}{said}."
