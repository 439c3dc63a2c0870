"""What DuckDB's failure to read a CSV or Parquet source means, and the read_csv / read_parquet option that fixes it.

Why: DuckDB's own CSV errors are long and general ("Set the correct encoding, if available ... e.g.,
encoding='UTF-16'"); an analyst with a bank export needs the one call that reads it, with their file in it.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from .exceptions import BadInputError
from .sqltext import is_query, quote_ident, quote_literal, source_sql, sql_name
from .textnumbers import text_as_number

_CALL = re.compile(r"(?is)\s*(read_csv(?:_auto)?\s*\(.*\))\s*;?\s*")
_PARQUET_CALL = re.compile(r"(?is)\s*((?:read_)?parquet(?:_scan)?\s*\(.*\))\s*;?\s*")
# A folder of Parquet files is typed from its first file; a later file whose column DuckDB cannot cast to that type:
_FILE_TYPE = re.compile(r'(?s)In file "(.*?)" the column "(.*?)" has type (.+?), but we are trying to read it as '
                        r"type (.+?)\.\s")
# ... and a later file that lacks a column of the first (renamed or dropped by the export that wrote it):
_FILE_LACKS = re.compile(r'(?s)column "(.*?)" was read from the original file "(.*?)", but could not be found in file '
                         r'"(.*?)"\.\s*Candidate names: (.*?)(?:\s+If you are trying|$)')
# ... and a CSV of a glob that DuckDB reads with another layout than the first (its columns all "missing"):
_GLOB_LAYOUT = re.compile(r"(?s)Schema mismatch between globbed files\..*?Current file: (.*?)\s+Column with name")
# ... and a Parquet file without its footer (DuckDB 2.0's words; "magic bytes" are the file's last four, PAR1):
_NO_FOOTER = re.compile(r"(?s)No magic bytes found at end of file '(.*?)'")
_CONVERT = re.compile(r'(?s)converting column "(.*?)"\. Could not convert string "(.*?)" to \'(\w+)\'')


def _split_args(text: str) -> list[str]:
    """The top-level comma-separated parts of a call's argument text (commas inside quotes, brackets or parentheses
    are not separators)."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _option_value(arg: str, name: str) -> str | None:
    """The value text of ``arg`` if it is the named argument ``name`` (``name=v`` or ``name := v``), else None."""
    m = re.fullmatch(rf"(?is){re.escape(name)}\s*:?=\s*(.+)", arg)
    return m.group(1).strip() if m else None


def _merged(name: str, old: str, new: str) -> str:
    """The value for option ``name`` when the call already had ``old``: a nullstr list keeps the call's own missing
    markers; any other option takes the new value."""
    if name.lower() != "nullstr":
        return new
    items = _split_args(old[1:-1]) if old.startswith("[") and old.endswith("]") else [old]
    return "[" + ", ".join(dict.fromkeys([*items, *_split_args(new[1:-1])])) + "]"


def with_csv_options(source: str, options: str) -> str:
    """The read_csv call that reads ``source`` with ``options`` (one ``name=value``) added: the source's own call, or
    one around its path; for a query, its read_csv(...) with a word on where the options go. An option the call
    already has is replaced (DuckDB refuses a named argument given twice)."""
    return _with_options(source, options, _CALL, "read_csv")


def _with_options(source: str, options: str, pattern: re.Pattern[str], function: str) -> str:
    """``with_csv_options`` for the reading ``function`` whose calls ``pattern`` matches."""
    s = source.strip()
    call = pattern.fullmatch(s)
    if call:
        text = call.group(1)
        head, args = text[: text.index("(") + 1], _split_args(text[text.index("(") + 1: -1])
        name, new = (x.strip() for x in options.split("=", 1))
        kept = [a for a in args if _option_value(a, name) is None]
        olds = [v for a in args if (v := _option_value(a, name)) is not None]
        value = _merged(name, olds[-1], new) if olds else new
        return f"{head}{', '.join([*kept, f'{name}={value}'])})"
    if is_query(s) or "(" in s:
        return f"the query's {function}(...) with {options} added"
    path = s[1:-1].replace("''", "'") if len(s) >= 2 and s[0] == s[-1] == "'" else s
    return f"{function}({quote_literal(path)}, {options})"


def read_fix(source: str, error: str) -> str | None:
    """The cause and fix of a failed read of ``source`` (DuckDB's message ``error``), or None if it is not one
    we know."""
    if "not utf-8 encoded" in error.lower() or "not latin-1 encoded" in error.lower():
        windows = _windows_file(source)
        if windows:
            return _windows_fix(windows, source)
        if "not latin-1 encoded" in error.lower():
            return None
        latin = with_csv_options(source, "encoding='latin-1'")
        return f"the file is not UTF-8 (a Latin-1 or Windows export, with bytes such as é or ü). Read it with {latin}"
    m = _CONVERT.search(error)
    if m and "auto-detected" in error:
        column, value, sql_type = m.groups()
        if value.strip().lower() == column.lower():
            return _header_again_fix(source, column, sql_type)
        totals = _totals_row_fix(source, column, value, sql_type)
        if totals:
            return totals
        nullstr = f"nullstr=[{quote_literal(value)}, '']"
        return (f"DuckDB typed column {column!r} {sql_type} from the file's first rows, but a later row holds "
                f"{value!r}. If {value!r} means a missing value, read it with {with_csv_options(source, nullstr)}; "
                f"otherwise {with_csv_options(source, 'sample_size=-1')} types each column from every row")
    m = _NO_FOOTER.search(error)
    if m:
        # Why said: Parquet writes its columns' places last, so a file copied in or written as the training reads it
        # ends without them; DuckDB's words named the bytes, not the cause, and a rerun a minute later works
        return (f"file {m.group(1)!r} lacks the footer a Parquet writer adds last, so it is not a whole Parquet file: one "
                "still being written (or copied in) as it was read, or cut short by a copy that failed. Wait until it "
                "is written and run again, or move it out of the files read")
    m = _GLOB_LAYOUT.search(error)
    if m:
        return _cut_csv_fix(source, m.group(1))
    m = _FILE_TYPE.search(error)
    if m:
        path, column, held, wanted = m.groups()
        return _parquet_type_fix(source, path, column, held, wanted)
    m = _FILE_LACKS.search(error)
    if m:
        column, first, path, names = m.groups()
        return _parquet_rename_fix(source, column, first, path, [n.strip() for n in names.split(",") if n.strip()])
    return None


# Bytes of a text that is not UTF-8 (as surrogateescape decodes them) that Windows' cp1252 reads as € ‚ „ … – — ‘ ’
# “ ” ™ and the like, and DuckDB's Latin-1 refuses ("File is not latin-1 encoded")
_WINDOWS_ONLY = re.compile("[\udc80-\udc9f]")
_SNIFFED = 1 << 24  # bytes of each file looked at


def _windows_file(source: str) -> str | None:
    """The first file of a CSV ``source`` (a path, a glob or a read_csv call on one) whose bytes only Windows' cp1252
    reads, or None (a query, no such file, or none of those bytes)."""
    import glob

    s = source.strip()
    call = _CALL.fullmatch(s)
    first = _split_args(call.group(1)[call.group(1).index("(") + 1: -1])[:1] if call else [s]
    if not first or is_query(first[0]) or "(" in first[0]:
        return None
    path = first[0][1:-1].replace("''", "'") if len(first[0]) >= 2 and first[0][0] == first[0][-1] == "'" else first[0]
    for name in sorted(glob.glob(path))[:20]:
        try:
            with open(name, "rb") as f:
                data = f.read(_SNIFFED)
        except OSError:
            continue
        # a sequence cut at the end of what was read is no stray byte
        text = (data[:-4] if len(data) == _SNIFFED else data).decode("utf-8", errors="surrogateescape")
        if _WINDOWS_ONLY.search(text):
            return name
    return None


def _windows_fix(name: str, source: str) -> str:
    """How to read a Windows (cp1252) export: as UTF-8, converted. Why not encoding='latin-1': DuckDB reads only UTF-8,
    UTF-16 and Latin-1 without its encodings extension, and Latin-1 has no €, curly quotes or dashes."""
    import shlex

    path = Path(name)
    out = str(path.with_name(f"{path.stem}.utf8{path.suffix}"))
    several = " (each file of the glob)" if name != source.strip().strip("'") and "*" in source else ""
    return (f"the file {name!r} is a Windows export (cp1252: bytes such as € or curly quotes, which neither UTF-8 nor "
            f"Latin-1, the encodings DuckDB reads, has). Convert it to UTF-8{several} and read that: iconv -f cp1252 "
            f"-t utf-8 {shlex.quote(name)} > {shlex.quote(out)} (in Python: Path({out!r}).write_text(Path({name!r})."
            "read_text(encoding='cp1252'), encoding='utf-8'))")


# What the first cell of a spreadsheet's totals row says (English, French, German, Spanish, Dutch, Italian).
TOTALS = re.compile(r"(?i)\s*(grand\s+)?(total|totals|sum|subtotal|somme|summe|gesamt|totaal|totale)\s*:?\s*")
# A totals row's label beside a group's name, as a report's subtotal rows write it: "North Total" (Excel's Data >
# Subtotal), "Subtotal North", "Total: North". Only for a row found to be a total by its values (totalsrow), whose
# filter is checked against the sums: a few words either side are a label, not a sentence.
TOTALS_LABEL = re.compile(r"(?i)\s*([^\s:]+\s+){0,3}(grand\s+|sub-?)?(total|totals|sum|subtotal|somme|summe|gesamt|"
                          r"zwischensumme|totaal|totale)\s*:?(\s+\S+){0,3}\s*")


def _totals_row_fix(source: str, column: str, value: str, sql_type: str) -> str | None:
    """For a CSV whose later row holds 'Total' in a number column: the read that drops that row and keeps the column's
    type; None for other values, or a query source (whose read_csv call is not ours to rewrite).

    Why not nullstr, the fix for a missing-value marker: it keeps the row, whose amounts sum all the others, to train
    on and to score as the top anomaly; and a WHERE on the NULL it gives would drop rows whose value is missing too."""
    if not TOTALS.fullmatch(value):
        return None
    reads = with_csv_options(source, f"types={{{quote_literal(column)}: 'VARCHAR'}}")
    if reads.startswith("the query"):
        return None
    c = quote_ident(column)
    query = f"SELECT * REPLACE (TRY_CAST({c} AS {sql_type}) AS {c}) FROM {reads} WHERE {c} IS DISTINCT FROM {quote_literal(value)}"
    return (f"a later row holds {value!r} in column {column!r} ({sql_type} in the file's first rows): a totals row, "
            "which as a row would train and score as one transaction the size of all the others. Read the file "
            f"without it: {query}")


def _header_again_fix(source: str, column: str, sql_type: str) -> str:
    """For a CSV whose later line repeats the header (files joined with their headers): the read that leaves such
    lines out. Why not nullstr or sample_size=-1, the fixes of a stray value: the first turns the line into a row of
    NULLs (and stops on the next column's name), the second types every column VARCHAR."""
    reads = with_csv_options(source, "ignore_errors=true")
    return (f"a later line repeats the header (files joined with their headers), whose {column!r} is no {sql_type}. "
            f"Read it with: {reads}, which leaves out the lines that do not read as the columns' types (add "
            "store_rejects=true to list them in reject_errors)")


def one_column_fix(cur: object, source: str, columns: list[tuple[str, str]]) -> str | None:
    """For a CSV that DuckDB read as one text column named like its whole header ('id,count,amount'): why, and the
    read that splits it; None for other sources, or when that read does not split it either.

    Why: DuckDB's sniffer falls back to one column when no delimiter splits every line alike, as when the last line
    is cut off (a file still being written); the columns then looked missing ("Column 'count' is not in ...; its
    columns are: id,count,amount") or not numbers, with no word of the file."""
    s = source.strip()
    path = s.strip("'").lower()
    csv = bool(_CALL.fullmatch(s)) or ("(" not in s and not is_query(s) and
                                       any(e in path for e in (".csv", ".tsv", ".txt")))
    if not csv or len(columns) != 1 or columns[0][1].upper() != "VARCHAR" or "ignore_errors" in s.lower():
        return None
    name = columns[0][0]
    if len([p for p in re.split(r"[,;\t|]", name) if p.strip()]) < 2:
        return None
    reads = with_csv_options(source, "ignore_errors=true")
    if reads.startswith("the query"):
        return None
    try:
        split = cur.execute(f"DESCRIBE SELECT * FROM {source_sql(reads)}").fetchall()  # type: ignore[attr-defined]
    except Exception:  # not a fix, then: DuckDB's one column stands, with the messages about it
        return None
    if len(split) < 2:
        return None
    return (f"DuckDB read it as one text column, {name!r}, as no delimiter splits all its lines alike: a line has "
            "fewer or more fields than the header (the last one cut off while the file is still being written, or a "
            f"value with an unquoted delimiter). If the file is complete, read it with {reads}, which leaves out such "
            "lines (add store_rejects=true to list them in reject_errors); if it is being written, wait until it is")


def _cut_csv_fix(source: str, path: str) -> str | None:
    """For a CSV glob whose file ``path`` DuckDB reads as one text column (``one_column_fix``: its last line cut off
    while it is being written), the read that leaves such lines out; None otherwise (DuckDB's union_by_name advice
    then stands, for an export whose columns changed). Why not union_by_name: that file's lines become one text column
    beside the others, which are NULL in its rows."""
    import duckdb

    if with_csv_options(source, "ignore_errors=true").startswith("the query"):
        return None
    con = duckdb.connect()  # the one file, alone, as DuckDB sniffs it: no caller's connection at hand here
    try:
        columns = [(str(r[0]), str(r[1])) for r in
                   con.execute(f"DESCRIBE SELECT * FROM read_csv({quote_literal(path)})").fetchall()]
        one = one_column_fix(con, quote_literal(path), columns)
    except duckdb.Error:
        return None
    finally:
        con.close()
    if one is None:
        return None
    reads = with_csv_options(source, "ignore_errors=true")
    return (f"file {path!r} has none of the first file's columns: DuckDB read it as one text column, {columns[0][0]!r}, "
            "as no delimiter splits all its lines alike (a line with fewer or more fields than the header: the last "
            f"one cut off while the file is still being written, or a value with an unquoted delimiter). If the files "
            f"are complete, read it with {reads}, which leaves out such lines (add store_rejects=true to list them in "
            "reject_errors); if that one is being written, wait until it is")


def _parquet_rename_fix(source: str, column: str, first: str, path: str, names: list[str]) -> str:
    """The fix for a Parquet file that lacks ``column`` of the first file: read the files by name, with the column
    it was renamed to (the one of the file's ``names`` that holds the old name) read as ``column``.

    Why not union_by_name=true alone, as DuckDB advises: that file's rows then have ``column`` NULL, which scoring
    fills in, so they score as rows without it, with no word said. Why no closer guess: the nearest name by spelling
    is often another column the files share (amount -> count), and a wrong one would read it as the amount."""
    reads = _with_options(source, "union_by_name=true", _PARQUET_CALL, "read_parquet")
    lacks = (f"file {path!r} has no column {column!r} (its columns: {', '.join(names)}), which the first file "
             f"{first!r} has")
    # Why only names that hold the old one (amount -> total_amount), not names it holds: a column the first file
    # has too is one such (transaction_id of a missing transaction_id_1), and would be read as the other
    holding = [n for n in names if column.lower() in n.lower()]
    guess = holding if len(holding) == 1 else []
    if reads.startswith("the query") or not guess:
        return (f"{lacks}. Read the files by name, with {reads}, and {column!r} from the column that file holds it in: "
                f"coalesce({sql_name(column)}, <its name there>) AS {sql_name(column)}")
    new = guess[0]
    return (f"{lacks}; if it is {new!r} there, read the files by name, and the two as one: SELECT * EXCLUDE "
            f"({sql_name(new)}) REPLACE (coalesce({sql_name(column)}, {sql_name(new)}) AS {sql_name(column)}) FROM {reads}")


def _parquet_type_fix(source: str, path: str, column: str, held: str, wanted: str) -> str:
    """The fix for a Parquet file whose ``column`` is ``held`` where the folder's first file (DuckDB's schema) has
    ``wanted``: read the files by name, union_by_name=true, which types the column as all files allow, then the
    column as the first file's type. Why TRY_CAST: the text that stopped DuckDB's cast ('' for a missing value)
    becomes NULL, a missing value, rather than stopping the read again."""
    reads = _with_options(source, "union_by_name=true", _PARQUET_CALL, "read_parquet")
    numeric = re.compile(r"(?i)(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|U\w*INT|FLOAT|DOUBLE|DECIMAL)")
    if numeric.match(wanted) and numeric.match(held):
        # A wider number (DOUBLE after DECIMAL(8,2)): union_by_name types the column as both files allow. Why no
        # cast back: the value too large for the first file's type, the one that stopped DuckDB, would become NULL,
        # filled in with the median, and the largest amount of the folder would score as a typical one.
        return (f"file {path!r} holds column {column!r} as {held}, where the first file has {wanted} (DuckDB types "
                f"the columns of several Parquet files from the first one, and a value of that file does not fit). "
                f"Read it with {reads}")
    cast = (text_as_number(column, None) if numeric.match(wanted) and held.upper() == "VARCHAR"
            else f"TRY_CAST({quote_ident(column)} AS {wanted})")
    query = (f"SELECT * REPLACE ({cast} AS {quote_ident(column)}) FROM {reads}" if not reads.startswith("the query")
             else f"{reads}, and {cast} AS {quote_ident(column)} in its select list")
    return (f"file {path!r} holds column {column!r} as {held}, where the first file has {wanted} (DuckDB types the "
            f"columns of several Parquet files from the first one). Read it with {query}")


def read_error(who: str, source: str, e: BaseException) -> BadInputError | None:
    """``who``'s error for a failed read of ``source`` that ``read_fix`` knows, DuckDB's words kept at its end; None
    for others. Why the split: a failed read mid-stream reaches us as "reading the stream registered as ... failed:",
    whose name is ours, not the user's."""
    fix = read_fix(source, str(e))
    if fix is None:
        return None
    return BadInputError(f"{who}: cannot read {source!r}: {fix}. ({said(str(e).split(' failed: ', 1)[-1])}.)")


_STREAM_FAILED = re.compile(r"reading the stream registered as '__ad_\w+' failed: (?:IOError: )?")


def stream_error(who: str, source: str, e: BaseException) -> BaseException | None:
    """The source's own error that stopped the scoring mid-way (a row its query cannot compute: error(), a cast of
    text, a division), as ``who``'s, in DuckDB's words and of DuckDB's kind; None for another error. Why: DuckDB
    reports it as a failed read of our stream, "reading the stream registered as '__ad_scored' failed: IOError: ...
    Detail: Python exception: Traceback (most recent call last): ...", our Python traceback in the error's one line."""
    m = _STREAM_FAILED.search(str(e))
    if m is None:
        return None
    return type(e)(f"{who}: cannot read {source!r}: {said(str(e)[m.end():])}.")


def passed_on_error(who: str, source: str, e: OSError) -> BaseException:
    """The source's own error that stopped the scoring mid-way, as pyarrow passed DuckDB's on to a reader of the
    scores (an ``OSError`` holding "Conversion Error: ..."): ``who``'s, in DuckDB's words and of DuckDB's kind
    (``duckdb.ConversionException``), as the same query run alone raises it; ``duckdb.Error`` for a kind it does not
    name. Why: the bare OSError named neither the model nor the source, and a caller's ``except duckdb.Error`` missed
    it."""
    m = re.match(r"([A-Z][A-Za-z ]*?) Error: ", str(e))
    kind = getattr(duckdb, m[1].title().replace(" ", "") + "Exception", None) if m else None
    cls = kind if isinstance(kind, type) and issubclass(kind, duckdb.Error) else duckdb.Error
    return cls(f"{who}: cannot read {source!r}: {said(str(e))}.")


def said(error: str) -> str:
    """DuckDB's words for a failed read whose fix ``read_fix`` gives, without what repeats it or is not the user's:
    the "Detail: Python exception: Traceback ..." of our stream (a read that failed mid-way), the "LINE 1" excerpt
    of our query, and DuckDB's general advice on reading several Parquet files (and the columns a file has instead),
    which the fix makes specific."""
    text = error.split("Detail: Python exception", 1)[0].split("\nLINE ", 1)[0]
    return re.split(r'\s+In file ".*?" the column |\.\s+Candidate names: ', text, maxsplit=1)[0].strip().rstrip(".")
