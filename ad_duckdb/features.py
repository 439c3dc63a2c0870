"""Feature specs: which columns a model reads, how each is transformed, and the missing-value policy.

Policy (documented in the README, tested in tests/test_features.py):

* NULL and NaN, at training and at scoring time, are replaced by the column's training median,
  so the row is judged on its other columns. Training reports how many values were filled.
* +Inf / -Inf are kept as "extremely large": after scaling, every value is clipped to
  ``[-CLIP, CLIP]`` robust units, so the score is large but finite.
* A column that is constant, entirely NULL, or not numeric is refused with an error naming it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .exceptions import BadInputError

CLIP = 1000.0
# Why: a robust z-score beyond this on the training data itself means the column spans orders of
# magnitude (counts, amounts); a signed log turns such tails into a scale the network can learn.
HEAVY_TAIL_Z = 20.0

# Why quantiles, not min/max: unlabelled training data contain the anomalies themselves, and a
# range stretched to include them would never call them out of range.
RANGE_QUANTILE = 0.005

_NUMERIC = re.compile(
    r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|"
    r"FLOAT|DOUBLE|REAL|DECIMAL(\(\d+,\s*\d+\))?|NUMERIC(\(\d+,\s*\d+\))?|INT\d*)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class FeatureSpec:
    """One model input: its column name, SQL type, transform and fitted constants."""

    name: str
    sql_type: str
    transform: str  # 'none' or 'slog' (sign(x) * log1p(|x|))
    fill: float  # raw training median, used for NULL / NaN
    center: float  # median of the transformed column
    scale: float  # robust spread of the transformed column
    lo: float  # training 0.5% quantile in scaled units
    hi: float  # training 99.5% quantile in scaled units

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, object]) -> FeatureSpec:
        return cls(
            name=str(d["name"]),
            sql_type=str(d["sql_type"]),
            transform=str(d["transform"]),
            fill=float(d["fill"]),  # type: ignore[arg-type]
            center=float(d["center"]),  # type: ignore[arg-type]
            scale=float(d["scale"]),  # type: ignore[arg-type]
            lo=float(d["lo"]),  # type: ignore[arg-type]
            hi=float(d["hi"]),  # type: ignore[arg-type]
        )


def specs_to_json(specs: Sequence[FeatureSpec]) -> str:
    return json.dumps([s.to_json() for s in specs])


def specs_from_json(text: str) -> list[FeatureSpec]:
    return [FeatureSpec.from_json(d) for d in json.loads(text)]


def is_numeric_type(sql_type: str) -> bool:
    return bool(_NUMERIC.match(sql_type.strip()))


def quote_ident(name: str) -> str:
    """Quote an identifier for generated SQL (double quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*){0,2}$")
_QUERY_START = re.compile(r"^\s*(\(|SELECT\b|WITH\b|FROM\b|VALUES\b|SUMMARIZE\b|PIVOT\b)", re.IGNORECASE)


def source_sql(source: str) -> str:
    """Turn a table name, view name, table function call or query into a FROM item.

    A plain (possibly schema-qualified) name is quoted part by part; a query becomes a subquery;
    a table function such as ``read_parquet('x.parquet')`` is used as written.
    """
    s = source.strip().rstrip(";")
    if not s:
        raise BadInputError("The source is empty: give a table name, a view, or a SELECT query.")
    if _QUERY_START.match(s):
        return f"({s}) AS _ad_src"
    if _PLAIN_NAME.match(s):
        return ".".join(quote_ident(p) for p in s.split("."))
    if "(" in s and s.endswith(")"):
        return s
    return quote_ident(s)


def describe(cur: object, source: str) -> list[tuple[str, str]]:
    """Column names and SQL types of a source."""
    try:
        rows = cur.execute(f"DESCRIBE SELECT * FROM {source_sql(source)}").fetchall()  # type: ignore[attr-defined]
    except Exception as e:
        raise BadInputError(
            f"Cannot read the source {source!r}: {e}. Give an existing table or view name, "
            "a table function such as read_parquet('file.parquet'), or a SELECT query."
        ) from e
    return [(str(r[0]), str(r[1])) for r in rows]


def choose_columns(
    columns: list[tuple[str, str]], features: Sequence[str] | None, source: str
) -> list[tuple[str, str]]:
    """Pick the feature columns, checking that each exists and is numeric."""
    by_lower = {name.lower(): (name, t) for name, t in columns}
    if features is None:
        chosen = [(n, t) for n, t in columns if is_numeric_type(t)]
        if not chosen:
            listing = ", ".join(f"{n} {t}" for n, t in columns)
            raise BadInputError(
                f"The source {source!r} has no numeric column to train on (columns: {listing}). "
                "Cast columns to a number in a query, e.g. SELECT CAST(x AS DOUBLE) AS x FROM ..."
            )
        return chosen
    if isinstance(features, str):
        features = [features]
    if len(features) == 0:
        raise BadInputError("features=[] names no column: pass the numeric columns to train on.")
    if len({f.lower() for f in features}) != len(features):
        raise BadInputError(f"features={list(features)!r} names a column twice; list each column once.")
    out = []
    for f in features:
        hit = by_lower.get(f.lower())
        if hit is None:
            known = ", ".join(n for n, _ in columns)
            raise BadInputError(f"Column {f!r} is not in {source!r}; its columns are: {known}.")
        if not is_numeric_type(hit[1]):
            raise BadInputError(
                f"Column {hit[0]!r} of {source!r} is {hit[1]}, not numeric. Drop it from features, "
                f"or cast it in a query: SELECT CAST({quote_ident(hit[0])} AS DOUBLE) AS ... FROM ..."
            )
        out.append(hit)
    return out


def load_matrix(
    cur: object, source: str, names: Sequence[str], where: str | None = None, limit: int | None = None
) -> np.ndarray:
    """Read the feature columns as a float64 matrix; SQL NULL becomes NaN."""
    cols = ", ".join(f"CAST({quote_ident(n)} AS DOUBLE)" for n in names)
    q = f"SELECT {cols} FROM {source_sql(source)}"
    if where:
        q += f" WHERE {where}"
    if limit is not None:
        q += f" LIMIT {int(limit)}"
    try:
        tbl = cur.sql(q).to_arrow_table()  # type: ignore[attr-defined]
    except Exception as e:
        raise BadInputError(f"Cannot read features {list(names)} from {source!r} (where={where!r}): {e}") from e
    if tbl.num_rows == 0:
        return np.empty((0, len(names)))
    return np.stack(
        [tbl.column(i).to_numpy().astype(np.float64, copy=False) for i in range(len(names))], axis=1
    )


def signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def _spread(v: np.ndarray) -> float:
    q1, q3 = np.percentile(v, [25, 75])
    s = float(q3 - q1) / 1.349
    if s <= 1e-12:
        s = float(np.std(v))
    return s


def fit_specs(
    X: np.ndarray, names: Sequence[str], sql_types: Sequence[str], *, model: str, source: str
) -> tuple[list[FeatureSpec], dict[str, int]]:
    """Choose each column's transform and constants from training data.

    Returns the specs and the count of filled (NULL/NaN) values per column.
    """
    n, d = X.shape
    if n == 0:
        raise BadInputError(
            f"Model {model!r}: the source {source!r} has no rows to train on (after the filter). "
            "Check the table and the where= filter."
        )
    specs: list[FeatureSpec] = []
    filled: dict[str, int] = {}
    for j in range(d):
        col = X[:, j]
        finite = col[np.isfinite(col)]
        missing = int(np.isnan(col).sum())
        filled[names[j]] = missing
        if finite.size == 0:
            raise BadInputError(
                f"Model {model!r}: column {names[j]!r} has no finite value in {source!r} "
                "(all NULL, NaN or infinite); drop it from features."
            )
        if float(finite.min()) == float(finite.max()):
            raise BadInputError(
                f"Model {model!r}: column {names[j]!r} is constant ({float(finite[0])!r} in every row) in {source!r}, "
                "so it cannot tell rows apart; drop it from features."
            )
        fill = float(np.median(finite))
        center0 = float(np.median(finite))
        s0 = _spread(finite)
        zmax = float(np.max(np.abs(finite - center0))) / s0 if s0 > 0 else 0.0
        transform = "slog" if zmax > HEAVY_TAIL_Z else "none"
        t = signed_log(finite) if transform == "slog" else finite
        center = float(np.median(t))
        scale = _spread(t)
        if not np.isfinite(scale) or scale <= 1e-12:
            scale = 1.0
        z = np.clip((t - center) / scale, -CLIP, CLIP)
        specs.append(
            FeatureSpec(
                name=names[j],
                sql_type=sql_types[j],
                transform=transform,
                fill=fill,
                center=center,
                scale=scale,
                lo=float(np.quantile(z, RANGE_QUANTILE)),
                hi=float(np.quantile(z, 1.0 - RANGE_QUANTILE)),
            )
        )
    return specs, filled


def transform(X: np.ndarray, specs: Sequence[FeatureSpec]) -> np.ndarray:
    """Raw values to scaled units, exactly as the exported graph does (float64 reference)."""
    out = np.empty(X.shape, dtype=np.float64)
    for j, s in enumerate(specs):
        col = np.where(np.isnan(X[:, j]), s.fill, X[:, j])
        if s.transform == "slog":
            col = signed_log(col)
        with np.errstate(over="ignore", invalid="ignore"):
            out[:, j] = np.clip((col - s.center) / s.scale, -CLIP, CLIP)
    return out
