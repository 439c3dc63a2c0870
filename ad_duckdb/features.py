"""Feature specs: which columns a model reads, how each is transformed, and the missing-value policy.

Policy (documented in the README, tested in tests/test_features.py):

* NULL and NaN are replaced by the column's training median at training time (training reports how many
  values were filled); at scoring time a missing value takes its column's most typical value beside the row's
  others (missing.fill_missing), so the row is judged on the values it has.
* +Inf / -Inf are kept as "extremely large": after scaling, every value is clipped to
  ``[-CLIP, CLIP]`` robust units, so the score is large but finite.
* A column that is constant, entirely NULL, or not numeric is refused with an error naming it (not numeric:
  ``featurechoice.choose_columns``); so is one whose training values exceed 1e38 (the model computes in float32):
  rescale it in the query.
* Without a feature list, every numeric column is a feature except id-like ones (``featurechoice.default_features``);
  what was left out, and why, is reported as an ``AdDuckDBWarning``.
* Fewer than ``MIN_TRAIN_ROWS`` training rows are refused; fewer than ``FEW_TRAIN_ROWS`` get a warning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from . import jsonvalues, notes
from .dbtrun import empty_run_hint
from .exceptions import BadInputError, ConstantColumnsError, NoRowsError, UnusableColumnsError
from .heavytail import HEAVY_TAIL_SKEW, heavy_tailed  # noqa: F401  (the limit, read here before)
from .namelists import _listed_features, listing
from .numberhints import _from_item
from .optionwords import FIT, SURFACE, no_value_refused, opt
from .sqltext import quote_ident

CLIP = 1000.0
# the sql_type fit_specs gives a text column's 0/1 input (categorical.py)
SLOT_TYPE = "CATEGORY SLOT"
# Which columns take the signed log (a long tail turned into a scale the network can learn): heavytail.py
# Training values must stay well inside float32 (max 3.4e38), the precision the exported model computes in.
FLOAT32_SAFE = 1e38

# Why 20: below it the scaling (median, IQR) and the thresholds (quantiles of the training scores) rest on a
# handful of rows, and the latent bank has fewer than 2 centroids (trainer.CENTROID_ROWS rows each) or groups
# of fewer than 2 codes; a model of 2 rows was stored with a threshold flagging half of them.
MIN_TRAIN_ROWS = 20
# Below this, no rows are held out for early stopping under 50 (trainer.fit_ensemble) and the default
# threshold (contamination 1%) cannot flag fewer than one training row in this many: trained, with a warning.
FEW_TRAIN_ROWS = 100

# The training range is [min, max] of rows known to be normal. Why quantiles for unlabelled data:
# they contain the anomalies themselves, and a range stretched to include them never calls them out.
RANGE_QUANTILE_UNLABELLED = 0.005

_INTEGER = re.compile(r"^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|INT\d*)$",
                      re.IGNORECASE)
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
    lo: float  # low end of the training range in scaled units
    hi: float  # high end of the training range in scaled units
    # a text column's 0/1 input (transform 'onehot'): the value it stands for (categorical.py); None otherwise
    category: str | None = None

    def to_json(self) -> dict[str, object]:
        d = asdict(self)
        if self.category is None:  # a numeric feature's JSON stays as it was before text features
            del d["category"]
        return d

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
            category=None if d.get("category") is None else str(d["category"]),
        )


def specs_to_json(specs: Sequence[FeatureSpec]) -> str:
    return json.dumps([s.to_json() for s in specs])


def specs_from_json(text: str) -> list[FeatureSpec]:
    return [FeatureSpec.from_json(d) for d in jsonvalues.loads(text)]


def is_numeric_type(sql_type: str) -> bool:
    return bool(_NUMERIC.match(sql_type.strip()))


def is_integer_type(sql_type: str) -> bool:
    return bool(_INTEGER.match(sql_type.strip()))


def warn_if_few_rows(n: int, *, model: str, source: str) -> None:
    """Warn when a model is trained on enough rows to be stored (``MIN_TRAIN_ROWS``) but few to trust."""
    if MIN_TRAIN_ROWS <= n < FEW_TRAIN_ROWS:
        notes.warn(
            f"Model {model!r} is trained on only {n} rows of {source!r}: with fewer than {FEW_TRAIN_ROWS}, its scaling "
            f"and thresholds rest on few rows (the share of them a threshold flags moves in steps of one training row in "
            f"{n}, {1 / n:.1%}, whatever the contamination, and tied scores can leave it flagging none). Train on more "
            f"rows if you have them.",
        )


def signed_log(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.log1p(np.abs(x))


def raw_values(spec: FeatureSpec, z: np.ndarray) -> np.ndarray:
    """The raw values at ``z`` robust units of a column: the inverse of ``transform`` (inside the clip)."""
    t = spec.center + spec.scale * np.asarray(z, dtype=np.float64)
    return np.sign(t) * np.expm1(np.abs(t)) if spec.transform == "slog" else t


def _spread(v: np.ndarray) -> float:
    q1, q3 = np.percentile(v, [25, 75])
    s = float(q3 - q1) / 1.349
    if s <= 1e-12:
        s = float(np.std(v))
    return s


def _drop_from_x(name: str, j: int, frame: bool) -> str:
    return f"X.drop(columns=[{name!r}])" if frame else f"np.delete(X, {j}, axis=1)"


# Beyond 2^53 a DOUBLE no longer holds every whole number, and the model reads every column as DOUBLE.
_DOUBLE_EXACT = 2.0**53


def _exact_type(sql_type: str) -> bool:
    """Whether the column's own type tells apart values a DOUBLE may not (whole numbers, decimals)."""
    t = sql_type.strip().upper()
    return is_integer_type(t) or t.startswith(("DECIMAL", "NUMERIC"))


def _lost_digits_error(model: str, name: str, source: str | None, value: float,
                       names: Sequence[str]) -> UnusableColumnsError:
    """A column that reads as one DOUBLE, in a type that may hold different values there (ids or counters near 2^64).

    Why not "constant": the column may well vary, in digits a DOUBLE of that size drops, and leaving it out (that
    message's fix) would lose it; its distance from a base keeps them. An UnusableColumnsError (``names``: the
    features), so that trained without features= it also gives the others to train on."""
    q = quote_ident(name)
    return UnusableColumnsError(
        f"Model {model!r}: column {name!r} reads as one value ({value!r}) in every row of {source!r} once read as "
        f"DOUBLE, as the model reads every column; at that size a DOUBLE holds about 16 significant digits (it tells "
        f"apart only values {float(np.spacing(abs(value))):g} apart), so whole numbers that differ in their last digits "
        f"read alike. If the column varies, train on its distance from its smallest value: find that with SELECT "
        f"min({q}) FROM ..., then train on SELECT *, {q} - <that value> AS {quote_ident(name + '_offset')} FROM ... "
        "and score with the same expression. If it is constant, leave it out of "
        f"{opt('features', flag='feature')} (the columns to keep), or pass {opt('constant_columns', 'keep')} to score "
        "any other value as out of the training range.",
        [name], list(names),
    )


def _one_value(col: np.ndarray) -> float | None:
    """The column's one finite value, if it has one in every row that is finite (and at least one such row)."""
    finite = col[np.isfinite(col)]
    return float(finite[0]) if finite.size and float(finite.min()) == float(finite.max()) else None


def _constant_columns_error(constant: list[tuple[int, float]], names: Sequence[str], model: str, source: str | None,
                            frame: bool) -> ConstantColumnsError:
    """One error for several constant columns, naming how many and the first ones.

    Why: a wide table (ADBench's InternetAds: 247 of 1,555 columns constant under its normal rows) met one error per
    column, each only after the last was fixed."""
    shown = [f"{names[k]!r} ({v!r})" if source is not None or frame else f"{k} ({v!r})" for k, v in constant]
    listed = listing(shown)
    what = f"{len(constant)} columns"
    keep = "constant_columns='keep'"
    if source is None:
        # nan-aware: fit takes NaN as a missing value, and np.ptp of a column holding one is NaN (the column dropped)
        drop = "X.loc[:, X.nunique() > 1]" if frame else "X[:, np.nanmax(X, axis=0) > np.nanmin(X, axis=0)]"
        where = "are constant" if frame else "of X are constant"
        message = (f"AutoEncoderDetector.fit: {what} {where} (one value in every row): {listed}, so they cannot tell "
                   f"training rows apart; drop them from X before fitting ({drop}), or pass {keep} to score any other "
                   "value as out of the training range.")
    else:
        message = (f"Model {model!r}: {what} are constant in {source!r} (one value in every row): {listed}, so they "
                   f"cannot tell training rows apart; leave them out of {opt('features', flag='feature')} (the columns to keep), or "
                   f"pass {opt('constant_columns', 'keep')} to score any other value as out of the training range.")
    return ConstantColumnsError(message, [names[k] for k, _ in constant], list(names))


def check_row_count(n: int, model: str, source: str | None) -> None:
    """Refuse ``n`` training rows when a model cannot be fitted on so few; ``source`` None: the rows are the ``X``
    given to ``AutoEncoderDetector.fit`` (a frame with text columns too, which is trained through a table of its own
    that the message must not name)."""
    arr = source is None
    if n == 0:
        raise NoRowsError(
            "AutoEncoderDetector.fit: X has no rows to fit on." if arr else
            f"Model {model!r}: the source {source!r} has no rows to train on (after the filter)."
            f"{empty_run_hint() or ' Check the table and the ' + opt('where') + ' filter.'}"
        )
    if n < MIN_TRAIN_ROWS:
        # Checked before the columns: one row makes every column constant, which is not the problem to report.
        rows = f"{n} row{'' if n == 1 else 's'}"
        why = f"needs at least {MIN_TRAIN_ROWS}: its scaling and thresholds are statistics of the training rows."
        raise BadInputError(
            f"AutoEncoderDetector.fit: X has only {rows} to fit on, and a model {why} Fit on more rows." if arr else
            f"Model {model!r}: the source {source!r} has only {rows} to train on, and a model {why} Train "
            f"on more rows: a larger table or query, or a wider filter ({opt('where')})."
        )


def _category(source: str | None, name: str) -> bool:
    """Whether column ``name`` of ``source`` is a category of numbers of the caller's DataFrame or Arrow table (read
    as its numbers, as DuckDB reads it)."""
    from .pysource import category_keys

    return source is not None and name.lower() in category_keys(source)


def fit_specs(
    X: np.ndarray, names: Sequence[str], sql_types: Sequence[str], *, model: str, source: str | None,
    range_quantile: float = 0.0, constant_columns: str = "error", frame: bool = False,
) -> tuple[list[FeatureSpec], dict[str, int]]:
    """Choose each column's transform and constants from training data.

    ``constant_columns="keep"`` keeps a column that has one value in every training row: any other
    value then counts as outside the training range (in units of max(|value|, 1)).
    ``source=None``: the rows are an array or DataFrame given to ``AutoEncoderDetector.fit`` itself, so errors say
    how to fix ``X`` (``frame``: a DataFrame) rather than a table, ``features=`` or ``where=``.
    Returns the specs and the count of filled (NULL/NaN) values per column.
    """
    if source is not None and SURFACE.get() == FIT:
        # the rows of a frame AutoEncoderDetector.fit trains through a table of its own (detectorfit.py): said of X,
        # not of that table, its model name and train's features=, which the caller has none of
        source, frame = None, True
    n, d = X.shape
    arr = source is None
    check_row_count(n, model, source)
    specs: list[FeatureSpec] = []
    filled: dict[str, int] = {}
    for j in range(d):
        col = X[:, j]
        if sql_types[j] == SLOT_TYPE:  # a text column's 0/1 input (categorical.py): read as it is
            from .categorical import slot_spec

            specs.append(slot_spec(names[j], col, range_quantile))
            filled[names[j]] = 0
            continue
        finite = col[np.isfinite(col)]
        missing = int(np.isnan(col).sum())
        filled[names[j]] = missing
        which = f"column {names[j]!r}" if frame else f"column {j} of X"  # an array's columns have no names
        if finite.size == 0:
            if not arr and _category(source, names[j]):
                # Why apart: a category of numbers is read as its numbers, and "no finite value" said it of a
                # category column that holds no value at all
                raise UnusableColumnsError(no_value_refused(model, names[j], "category column"), [names[j]], list(names))
            raise UnusableColumnsError(
                f"AutoEncoderDetector.fit: {which} has no finite value (all NaN or "
                f"infinite); drop it from X before fitting: {_drop_from_x(names[j], j, frame)}." if arr else
                f"Model {model!r}: column {names[j]!r} has no finite value in {source!r} (all NULL, NaN or "
                "infinite); leave it out by listing the columns to train on "
                f"({_listed_features()}).",
                [names[j]], list(names),
            )
        big = float(np.max(np.abs(finite)))
        if big > FLOAT32_SAFE:
            # Why refuse: the model computes in float32 (onnxruntime), where such values and the constants
            # fitted to them overflow to inf, and the column would score as one constant or as NaN.
            beyond = f"beyond what a model's float32 arithmetic holds (about {FLOAT32_SAFE:.0e})"
            scaled = f"{quote_ident(names[j])} / 1e{int(np.log10(big)) - 3}"
            raise BadInputError(
                f"AutoEncoderDetector.fit: {which} holds values as large as {big:.3g}, "
                f"{beyond}. Rescale it before fitting, e.g. divide it by 1e{int(np.log10(big)) - 3}." if arr else
                f"Model {model!r}: column {names[j]!r} holds values as large as {big:.3g} in {source!r}, {beyond}. "
                # Why REPLACE, under the column's own name: with a new column beside it, SELECT * still held the
                # column, and training on the query without features= failed the same way
                f"Rescale it in a query and train on that: SELECT * REPLACE ({scaled} AS {quote_ident(names[j])}) "
                f"FROM {_from_item(source) if source else '...'}, and score with the same expression: {scaled}."
            )
        if float(finite.min()) == float(finite.max()):
            c0 = float(finite[0])
            if constant_columns != "keep" and not arr and abs(c0) >= _DOUBLE_EXACT and _exact_type(sql_types[j]):
                raise _lost_digits_error(model, names[j], source, c0, names)
            if constant_columns != "keep":
                # a text column's category inputs are not columns to leave out (an "any other value" input no
                # training row holds is always 0): the loop above keeps them as they are
                others = [(k, v) for k in range(j + 1, d)
                          if sql_types[k] != SLOT_TYPE and (v := _one_value(X[:, k])) is not None]
                if others:
                    raise _constant_columns_error([(j, c0), *others], names, model, source, frame)
                # Why the count: a column holding one value in a few rows and NULL in the rest was said to hold it
                # "in every row", which the user could see was not so
                rows = ("in every row" if finite.size == n else
                        f"in the {finite.size} of {n} rows that hold a value; the others are NULL, NaN or "
                        "infinite")
                raise ConstantColumnsError(
                    f"AutoEncoderDetector.fit: {which} is constant "
                    f"({float(finite[0])!r} {rows}), so it cannot tell training rows apart; drop it from X "
                    f"({_drop_from_x(names[j], j, frame)}), or pass constant_columns='keep' to score any "
                    "other value as out of the training range." if arr else
                    f"Model {model!r}: column {names[j]!r} is constant ({float(finite[0])!r} {rows}) in "
                    f"{source!r}, so it cannot tell training rows apart; leave it out of "
                    f"{opt('features', flag='feature')} (the columns to keep), or pass {opt('constant_columns', 'keep')} to "
                    "score any other value as out of the training range.",
                    [names[j]], list(names),
                )
            c = float(finite[0])
            specs.append(FeatureSpec(name=names[j], sql_type=sql_types[j], transform="none", fill=c, center=c,
                                     scale=max(abs(c), 1.0), lo=0.0, hi=0.0))
            continue
        fill = float(np.median(finite))
        transform = "slog" if heavy_tailed(finite) else "none"  # one far value alone does not make a tail
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
                lo=float(np.quantile(z, range_quantile)),
                hi=float(np.quantile(z, 1.0 - range_quantile)),
            )
        )
    return specs, filled


def transform(X: np.ndarray, specs: Sequence[FeatureSpec]) -> np.ndarray:
    """Raw values to scaled units, exactly as the exported graph does (float64 reference)."""
    out = np.empty(X.shape, dtype=np.float64)
    d = len(specs)
    # Every column at once, in the arithmetic a column alone took: the constants in the type a Python float takes
    # beside X (float32 for a float32 model's rows), the signed log on a contiguous copy. Why: one numpy call per
    # column was half the fixed cost of each 2048-row call with a NULL in it (missing.fill_missing) at 21 columns.
    dt = np.result_type(X.dtype, 0.0)
    V = np.where(np.isnan(X[:, :d]), np.array([s.fill for s in specs], dtype=dt), X[:, :d])
    logged = [j for j, s in enumerate(specs) if s.transform == "slog"]
    if logged:
        V[:, logged] = signed_log(V[:, logged])
    center, scale = np.array([s.center for s in specs], dtype=dt), np.array([s.scale for s in specs], dtype=dt)
    with np.errstate(over="ignore", invalid="ignore"):
        out[:, :d] = np.clip((V - center) / scale, -CLIP, CLIP)
    return out
