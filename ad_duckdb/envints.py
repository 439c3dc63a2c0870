"""Positive whole numbers read from environment variables (limits a deployment sets without code)."""

from __future__ import annotations

import os

from .exceptions import BadInputError


def positive_int(variable: str, default: int, what: str, example: int) -> int:
    """``variable``'s value as a positive whole number, ``default`` when it is unset or blank. Why refused rather than
    ignored: a typo must not silently leave the default in force. ``what`` says what the number counts, in the
    error ("bytes", "feature values to ..."), and ``example`` is a value that would be taken."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) == 0:
        raise BadInputError(f"{variable} must be a positive whole number of {what}, e.g. {example}; got {raw!r}.")
    return int(raw)
