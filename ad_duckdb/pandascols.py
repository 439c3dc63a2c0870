"""What a pandas column holds, judged for the detector's refusals of a frame that is not all numbers: text of words
(read as categories), text mixed with numbers, numbers held as categories or Python objects, and text that is mostly
numbers (with the pandas call that reads them)."""

from __future__ import annotations

from typing import Any


def _words(column: Any) -> bool:
    """Whether a pandas column is text of words (a category of strings, or strings not numbers), which ``fit`` reads
    as its categories (detectorfit) once every other column is numbers."""
    if str(column.dtype) == "category":
        return column.dtype.categories.dtype.kind not in "biufcmM"
    values = column.dropna().head(10_000)
    return bool(len(values)) and all(isinstance(v, str) for v in values) and _text_numbers(column) is None


def _mixed(column: Any) -> bool:
    """Whether an object column holds both strings and numbers (missing values aside), of its first 10,000 values."""
    import numbers
    from decimal import Decimal

    if column.dtype != object:
        return False
    kinds = set(column.dropna().head(10_000).map(type))
    return any(issubclass(k, str) for k in kinds) and any(issubclass(k, numbers.Real | Decimal) for k in kinds)


def _numbered_categories(X: Any) -> list[Any]:
    """A DataFrame's category columns whose categories are numbers (``pd.Categorical([1.5, 2.5])``, as
    ``pd.read_parquet`` reads a partition key): SQL scores their values, so the detector does too."""
    return [c for c, t in X.dtypes.items()
            if str(t) == "category" and t.categories.dtype.kind in "biuf"]


def _object_numbers(column: Any) -> bool:
    """Whether an object column holds only numbers and missing values: ``decimal.Decimal`` of ``pd.read_sql`` on a
    NUMERIC column, or Python ints and floats with ``None``, which numpy casts as they are (SQL takes DECIMAL)."""
    import numbers
    from decimal import Decimal

    if column.dtype != object:
        return False
    kinds = set(column.dropna().map(type))
    return all(issubclass(k, numbers.Real | Decimal) for k in kinds)


def _text_numbers(column: Any) -> str | None:
    """For a text column mostly of numbers (a CSV read without its decimal comma, or with a '-' for missing): what it
    holds and the pandas call that reads them as numbers; None for other columns. Judged on its first 10,000 values,
    as the SQL sources' hint is."""
    from .textnumbers import DECIMAL_COMMA, THOUSANDS, written_in, written_words

    if column.dtype.kind not in "OSU" and "str" not in str(column.dtype).lower():
        return None
    values = [str(v) for v in column.dropna().head(10_000) if isinstance(v, str)]
    if not values:
        return None
    # the judgement the SQL sources' hint makes (textnumbers.written_in), so a frame and a table read alike
    share, style = written_in(values)
    if share < 0.5:
        return None
    name = str(column.name)
    if style is not None and (style.money or style.negatives):
        return f"amounts ({written_words(style)}): X[{name!r}] = {_pandas_amounts(column, style)}"
    if style is not None and style.separator == DECIMAL_COMMA:
        return (f"written with a decimal comma (1.234,50): read the file with pd.read_csv(..., decimal=',', "
                f"thousands='.'), or X[{name!r}] = {_pandas_amounts(column, style)}")
    if style is not None and style.separator == THOUSANDS:
        return (f"written with thousands separators (1,234.50): read the file with pd.read_csv(..., thousands=','), "
                f"or X[{name!r}] = {_pandas_amounts(column, style)}")
    if share == 1:  # Why apart: no odd value to quote (a JSON API's numbers, or dtype=str)
        return f"numbers written as text: X[{name!r}] = pd.to_numeric(X[{name!r}])"
    odd = next(v for v in values if not written_in([v])[0])
    return (f"numbers apart from a few such as {odd!r}: X[{name!r}] = pd.to_numeric(X[{name!r}], errors='coerce') "
            "(a value that is not a number becomes NaN, a missing value)")


def _pandas_amounts(column: Any, style: Any) -> str:
    """The pandas call that reads ``column``'s amounts as ``written_in`` found them written (``style``): currency marks
    dropped, "(120.00)" and "120.00-" as -120.00, then the separators."""
    from .textnumbers import _MONEY_MARKS, _NEGATIVE, DECIMAL_COMMA, THOUSANDS

    marks = _MONEY_MARKS.replace("\\x{00A0}", "\\xa0").replace("\\x{202F}", "\\u202f")  # RE2 -> Python escapes
    call = f"X[{str(column.name)!r}].str.strip()"
    if style.money:
        call += f".str.replace(r'{marks}', '', regex=True)"  # no quote in either pattern
    if style.negatives:
        call += f".str.replace(r'{_NEGATIVE}', r'-\\1\\2', regex=True)"
    if style.separator == THOUSANDS:
        call += ".str.replace(',', '', regex=False)"
    elif style.separator == DECIMAL_COMMA:
        call += ".str.replace('.', '', regex=False).str.replace(',', '.', regex=False)"
    return f"pd.to_numeric({call}, errors='coerce') (a value that is not a number becomes NaN, a missing value)"
