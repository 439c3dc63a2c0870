"""Which model a dbt node's code names, as written before dbt compiles it: in a call (``anomaly_score('tx_ae', ...)``)
or in a training (``train_model(session, 'tx_ae', ...)``), read through ``var()`` and ``config.get()``.

Why: the on-run-start order check runs before any node is compiled, so it reads the nodes' raw code. A name given by
a variable (``'{{ var("ad_model") }}'`` in SQL, ``name = dbt.config.get("ad_model")`` in a Python model, the way the
example project trains) was not seen, and a node scoring with it before its training passed the check silently. The
values are the run's own: the vars the macro reads at on-run-start (``--vars``, then those dbt_project.yml scopes to the
node's project, then what ``var()`` sees there), and each node's config (where dbt already rendered the
``{{ var(...) }}`` a YAML config holds). A name still unknown (a Jinja ``{% set %}``, a macro's result, a column) is
reported as not checked, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# var('x') / var("x", 'default') / config.get('x') / dbt.config.get('x', 'default')
_LOOKUP = re.compile(r"""(var|(?:dbt\s*\.\s*)?config\s*\.\s*get)\s*\(\s*(['"])([\w.-]+)\2\s*"""
                     r"""(?:,\s*(['"])([^'"]*)\4\s*)?\)""")
_JINJA = re.compile(r"\{\{\s*(.*?)\s*\}\}", re.DOTALL)
_QUOTED = re.compile(r"""^(['"])([^'"]*)\1$""")
_VAR_NAME = re.compile(r"""\bvar\s*\(\s*(['"])([\w.-]+)\1""")
_OPEN, _CLOSE = "([{", ")]}"


def arguments(code: str, start: int) -> list[str]:
    """The top-level arguments of the call whose ``(`` is at ``start`` in ``code``, as written (stripped)."""
    args: list[str] = []
    depth, quote, begin = 0, "", start + 1
    for i in range(start + 1, len(code)):
        c = code[i]
        if quote:
            quote = "" if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c in _OPEN:
            depth += 1
        elif c in _CLOSE and depth:
            depth -= 1
        elif c in ",)" and not depth:
            args.append(code[begin:i].strip())
            if c == ")":
                return args
            begin = i + 1
    return args


def var_names(code: str) -> list[str]:
    """The names ``var()`` reads in ``code`` (the macro passes their values with the node)."""
    return list(dict.fromkeys(m.group(2) for m in _VAR_NAME.finditer(code)))


def _lookup(expr: str, node: dict[str, Any]) -> str | None:
    """The value of ``var('x')`` or ``config.get('x')`` (``expr`` is exactly one), from the node; None when unset."""
    m = _LOOKUP.fullmatch(expr.strip())
    if m is None:
        return None
    given = (node.get("vars") if m.group(1) == "var" else node.get("config")) or {}
    value = given.get(m.group(3))
    # Why not var()'s default: a var the package's on-run-start does not see may be set where the node sees it (the
    # dbt_project.yml of the package the node is in; the project's scope, vars: {my_project: {ad_model: two_ae}}, on
    # a dbt whose config the macro cannot read), and the default then named another model (a correct view was
    # refused for that model's features)
    value = m.group(5) if value is None and m.group(1) != "var" else value
    return value if isinstance(value, str) else None


def rendered(text: str, node: dict[str, Any]) -> str | None:
    """``text`` with each ``{{ var(...) }}`` / ``{{ config.get(...) }}`` in it replaced by its value; None when one
    is not of those or has no value (a ``{{ m }}`` of a ``{% set %}``, a filter: dbt would have to render it)."""
    unknown = False

    def value(m: re.Match[str]) -> str:
        nonlocal unknown
        got = _lookup(m.group(1), node)
        unknown = unknown or got is None
        return got or ""

    out = _JINJA.sub(value, text)
    return None if unknown or "{%" in out else out


def called_name(arg: str, node: dict[str, Any]) -> str | None:
    """The model a SQL call's first argument ``arg`` names (``'tx_ae'``, ``'{{ var("m") }}'``), or None when the code
    does not tell (a column, an expression, a Jinja the check cannot render)."""
    text = rendered(arg, node)
    m = _QUOTED.match(text.strip()) if text is not None else None
    return m.group(2) if m else None


def trained_name(arg: str, code: str, node: dict[str, Any], depth: int = 0) -> str | None:
    """The model a Python model's ``train_model(session, <arg>, ...)`` trains: a literal, ``dbt.config.get('k')``, or
    a variable assigned once from one of those (``name = dbt.config.get("ad_model")``); None when it cannot tell."""
    arg = re.sub(r"^name\s*=\s*", "", arg.strip())
    if m := _QUOTED.match(arg):
        return m.group(2)
    if (got := _lookup(arg, node)) is not None:
        return got
    if depth == 0 and re.fullmatch(r"[A-Za-z_]\w*", arg):
        assigned = re.findall(rf"^[ \t]*{arg}[ \t]*=[ \t]*([^\n=][^\n]*)$", code, re.MULTILINE)
        if len(assigned) == 1:
            return trained_name(assigned[0], code, node, 1)
    return None


def calls(code: str, pattern: re.Pattern[str], position: int) -> Iterator[tuple[re.Match[str], str]]:
    """Each call ``pattern`` matches (ending at its ``(``) and the text of its argument ``position`` (0: the first)."""
    for m in pattern.finditer(code):
        args = arguments(code, m.end() - 1)
        if len(args) > position:
            yield m, args[position]
