"""A message in its caller's words: the library says an option as its Python keyword with the command line's flag
beside it (``series= (CLI: --series)``, ``(source=, where=; CLI: --source, --where)``), which reads right from
Python and from the command line; the dbt macro ``ad_duckdb_set_threshold`` takes the keywords as its arguments, and
its users have no command line to read a flag for.

Why rewritten at the boundary, not written per caller: the messages are raised deep in the library, which does not
know who called it; the dbt function (dbtthreshold) is the one way in from a dbt run, so it says them in the macro's
arguments there.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Any

from .sqltext import shell_word

ASIDE = "CLI: "

# Where the library was called from: "cli" for the command line (its group callback sets it for the command's run),
# "" for Python and dbt, whose spelling is the keyword. Why a context variable: the messages are raised deep in the
# library, which would otherwise have to be handed the caller's name through every call.
SURFACE: ContextVar[str] = ContextVar("ad_duckdb_surface", default="")
# "fit": AutoEncoderDetector.fit of a frame with text columns, which trains through an in-memory table (detectorfit)
FIT = "fit"
# a value a shell reads as one word as it is (a zone, a column, 0.5%): written bare, others quoted
_PLAIN = re.compile(r"[\w./%:+-]+")


def opt(keyword: str, value: Any = None, flag: str | None = None, py: str | None = None) -> str:
    """An option as the caller spells it: ``tz=`` (``tz='Europe/Paris'`` with a value) from Python and dbt,
    ``--tz`` (``--tz Europe/Paris``; ``True`` the flag alone, ``False`` its ``--no-`` form) from the command line.
    ``flag``: the command line's name where it is not the keyword's (``columns=`` is ``--column``, ``n=`` ``--top``);
    ``py``: the value as Python code where not its repr (a filter in double quotes, ``where="x = 'a'"``).

    Why not ``tz= (CLI: --tz)``: each reader got the other's spelling beside their own, and a Python user read of a
    flag they cannot pass (the messages that keep that form are said in Python's words from dbt: ``without_cli``)."""
    if SURFACE.get() == "cli":
        name = (flag or keyword).replace("_", "-")
        if value is None or value is True:
            return "--" + name
        if value is False:
            return "--no-" + name
        text = f"{value:g}" if isinstance(value, float) else str(value)
        return f"--{name} {text if _PLAIN.fullmatch(text) else shell_word(text)}"
    if value is None:
        return f"{keyword}="
    if py is not None:
        return f"{keyword}={py}"
    return f"{keyword}={value:g}" if isinstance(value, float) else f"{keyword}={value!r}"


def got(value: Any) -> str:
    """What a check was given, for its message: "none was given" for an option left out (the command line's
    ``--value`` not passed read as "got None", a word of Python's), else ``got 5``."""
    return "none was given" if value is None else f"got {value!r}"


def either(python: str, cli: str) -> str:
    """``python`` (a call, ``ad_duckdb.set_threshold(con, ...)``) from Python and dbt, ``cli`` (a command) from the
    command line: what to run, said once, in the caller's words."""
    return cli if SURFACE.get() == "cli" else python


def column_refused(model: str, column: str) -> tuple[str, str]:
    """(the start of a message about a feature ``column`` of ``model`` that training refuses, how to leave it out),
    in the caller's words: ``Model 'm': `` and "leave it out of features", or from ``AutoEncoderDetector.fit`` (whose
    model and table are its own) ``AutoEncoderDetector.fit: `` and "drop it from X (X.drop(columns=['c']))"."""
    if SURFACE.get() == FIT:
        return "AutoEncoderDetector.fit: ", f"drop it from X (X.drop(columns=[{column!r}]))"
    return f"Model {model!r}: ", "leave it out of features"


def no_value_refused(model: str, column: str, kind: str = "text column") -> str:
    """The refusal of a training ``column`` that holds no value at all (every row NULL, or None in a frame), in the
    caller's words (``column_refused``), with both fixes: leave it out, or train on rows where it has values (filling
    it with one value would make it a constant, refused in turn)."""
    who, leave_out = column_refused(model, column)
    rows = ("fit on rows where it has values" if SURFACE.get() == FIT else
            f"train on rows where it has values (another source, or {opt('where')} picking them)")
    return (f"{who}{kind} {column!r} has no non-NULL value in the training rows (all NULL), so it tells no row from "
            f"another; {leave_out}, or {rows}.")


def features_opt(names: list[str] | tuple[str, ...]) -> str:
    """Features to train on as the caller names them: ``features=['a', 'b c']``, or ``-f a -f 'b c'``."""
    return either(f"features={list(names)!r}", " ".join(f"-f {shell_word(n) if not _PLAIN.fullmatch(n) else n}"
                                                        for n in names))


def stored(keyword: str, value: Any = None, flag: str | None = None) -> str:
    """An option in text stored in the database (a threshold's ``chosen_on``), which any surface reads later:
    ``timestamps_in='Europe/Paris' (CLI: --timestamps-in Europe/Paris)``, whose aside dbt's reader drops
    (``without_cli``). Why not ``opt``: the caller that stored it is not the one that reads it; a statement stored
    from Python named ``timestamps_in=`` alone to the command line's ``show`` and ``check-threshold``."""
    spelled = []
    for surface in ("", "cli"):
        token = SURFACE.set(surface)
        try:
            spelled.append(opt(keyword, value, flag))
        finally:
            SURFACE.reset(token)
    return f"{spelled[0]} ({ASIDE}{spelled[1]})"


# ``stored``'s pair: the keyword (with its value, quoted or bare) and the command line's aside
_STORED = re.compile(r"\b\w+=(?:'[^']*'|\"[^\"]*\"|[^\s(;,]*) \(" + ASIDE + r"([^()]*)\)")


def said_stored(text: str) -> str:
    """Stored text (``stored``'s pairs) for the caller who reads it: the command line's flag from the command line,
    the keyword from Python and dbt."""
    if SURFACE.get() == "cli":
        return _STORED.sub(lambda m: m.group(1), text)
    return without_cli(text)


def opts(*keywords: str) -> str:
    """Several options as the caller spells them, e.g. ``source=, where=`` or ``--source, --where``."""
    return ", ".join(opt(k) for k in keywords)


def _close(text: str, start: int, inner: bool = False) -> int:
    """The index of the ``)`` closing the parenthesis open at ``start`` (the aside's), or -1; ``inner``: or of a
    ``;`` ending the aside before it (``(where="x = 0", CLI: --where 'x = 0'; that leaves ...)``)."""
    depth = 0
    quote = ""
    for i in range(start, len(text)):
        c = text[i]
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"" and (i == 0 or not text[i - 1].isalnum()):  # an opening quote, not an apostrophe (row's)
            quote = c
        elif c == "(":
            depth += 1
        elif c == ";" and inner and depth == 0:
            return i
        elif c == ")":
            if depth == 0:
                return i
            depth -= 1
    return -1


def without_cli(text: str) -> str:
    """``text`` without its command-line asides: ``x= (CLI: --x)`` as ``x=``, ``(x=, y=; CLI: --x, --y)`` as
    ``(x=, y=)``; other text as it is."""
    out: list[str] = []
    i = 0
    while (at := text.find(ASIDE, i)) >= 0:
        before = text[i:at]
        if before.endswith("("):  # a whole aside: " (CLI: ...)" goes, with the space before it
            end = _close(text, at)
            if end < 0:
                break
            out.append(before[:-1].rstrip(" "))
        elif before.endswith(("; ", ", ")):  # the end of a parenthesis: "; CLI: ..." goes, its ")" stays
            end = _close(text, at, inner=True)
            if end < 0:
                break
            out.append(before[:-2])
            end -= 1  # keep what closes it: ")" or "; the rest"
        else:  # "CLI:" in some other place (a quoted value): left as it is
            out.append(text[i:at + len(ASIDE)])
            i = at + len(ASIDE)
            continue
        i = end + 1
    out.append(text[i:])
    return "".join(out)
