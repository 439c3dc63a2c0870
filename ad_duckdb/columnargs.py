"""Column names given to ``train`` (``features=``) or ``score`` (``columns=``): one name or a list of names."""

from __future__ import annotations

from typing import Any

from . import optionwords
from .exceptions import BadInputError


def _column_names(what: str, arg: str, flag: str, value: Any) -> list[str] | None:
    """Column names as given (None, one name, or an iterable of names) as a list; anything else refused.

    Why one string is one name: iterating it would take 'id' for the columns 'i' and 'd'.
    """
    if value is None or isinstance(value, str):
        return None if value is None else [value]
    try:
        names = list(value)
    except TypeError:
        names = None
    if names is None or not all(isinstance(n, str) for n in names):
        raise BadInputError(f"{what}: {optionwords.either(f'{arg}=', f'{flag} COLUMN')} takes a column name or a list of column names, e.g. "
                            f"['transaction_id', 'amount']; got {value!r}.")
    return names
