"""Model names and references: their form ('name', 'name@N'), and what is refused for a name."""

from __future__ import annotations

import re
import unicodedata

from .exceptions import BadInputError, BadReferenceError, OptionError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$")


def is_model_file(entry: str) -> bool:
    """Whether an entry of register(models=...) or the dbt plugin's 'models' is an exported file, not a name."""
    return entry.lower().endswith(".onnx")


def valid_name(name: str) -> bool:
    """Whether ``name`` has a model name's form (older releases' names ending in '.onnx' included)."""
    return bool(_NAME.fullmatch(name))


def check_name(name: object) -> str:
    if not isinstance(name, str) or not valid_name(name):
        # Why the characters named: 'Modèle_ä' refused with "use letters" read as wrong, è and ä being letters
        others = sorted({c for c in name if not c.isascii()}) if isinstance(name, str) else []
        ascii_only = (f" The letters are ASCII ones (a-z, A-Z), so {', '.join(map(repr, others))} cannot be in a "
                      "name." if others else "")
        raise OptionError(
            f"Model name {name!r} is not valid: use letters, digits, '_', '-' or '.', starting with a letter "
            f"or '_' (at most 128 characters), e.g. {_ascii_name(name)!r}.{ascii_only} '@' is reserved for versions "
            "('tx_ae@2')."
        )
    if is_model_file(name):
        # Why refused: a models= list holds names and exported files side by side, told apart by this ending.
        # OptionError, as any other invalid name: the command line exits 2 for it.
        raise OptionError(
            f"Model name {name!r} ends in '.onnx', which register(models=...) and the dbt plugin's 'models' "
            f"setting read as the path of an exported model file. Name it without the ending, e.g. "
            f"{name_without_onnx(name)!r}."
        )
    return name


def _ascii_name(name: object) -> str:
    """``name`` spelt as a valid model name (accents dropped, ß as ss, anything else '_'), or 'tx_ae' when little
    of it is left (a name in Chinese)."""
    if not isinstance(name, str):
        return "tx_ae"
    out = []
    for c in name[:128]:
        plain = "".join(d for d in unicodedata.normalize("NFKD", c) if d.isascii())
        plain = plain or (c.casefold() if c.casefold().isascii() else "")
        out.append(plain if re.fullmatch(r"[A-Za-z0-9_.\-]+", plain or "@") else "_")
    fixed = "".join(out)
    fixed = (fixed if re.match(r"[A-Za-z_]", fixed) else "_" + fixed)[:128]
    return fixed if valid_name(fixed) and re.search(r"[A-Za-z0-9]", fixed) and not is_model_file(fixed) else "tx_ae"


def name_without_onnx(name: str) -> str:
    """A valid name for ``name`` without its '.onnx' ending (releases before 2026-12-01 stored such names)."""
    stem = name[: -len(".onnx")].rstrip(".-") if is_model_file(name) else name
    return stem if valid_name(stem) else "model"


def not_a_model_name(ref: object) -> BadInputError:
    """The error for a model argument that is no name. What ``train`` or ``import_model`` returned (a ``ModelInfo``),
    ``load_model``'s ``ModelRecord`` and a detector ``from_store`` are told by the name they stand for.

    Why: a notebook keeps ``info = ad_duckdb.train(...)`` and passes ``info`` on, as a PyOD user passes the fitted
    detector; that read "TypeError: unhashable type: 'ModelInfo'", or printed the whole object."""
    stored = getattr(ref, "stored_ref_", None)  # AutoEncoderDetector.from_store's; None after fit
    pinned, attr = (stored, "det.stored_ref_") if isinstance(stored, str) else (getattr(ref, "ref", None), "ref")
    if isinstance(pinned, str) and "@" in pinned:
        what = type(ref).__name__
        if attr == "ref":
            attr = "info.ref" if what == "ModelInfo" else "rec.ref"
        return BadInputError(
            f"The model argument must be a model name; got the {what} of {pinned!r}. Pass its name: "
            f"{pinned.rpartition('@')[0]!r} (its latest version) or {pinned!r} ({attr}, this version).")
    return BadInputError(f"The model argument must be a model name such as 'tx_ae' (its latest version) or "
                         f"'tx_ae@2'; got {ref!r}.")


def parse_ref(ref: str) -> tuple[str, int | None]:
    """'name' -> (name, None); 'name@3' -> (name, 3). A reference of no valid form is a ``BadReferenceError``, an
    ``OptionError``: wrong whatever the data (the command line exits 2, as for its other wrong arguments)."""
    if not isinstance(ref, str):
        raise not_a_model_name(ref)
    if "@" in ref:
        name, _, ver = ref.rpartition("@")
        if not name or "@" in name:
            # Why here: a lookup of 'tx_ae@1' said "No model 'tx_ae@1'", as if such a name could be stored
            raise BadReferenceError(
                f"Model reference {ref!r} is malformed: a model name never holds '@' and cannot be empty ('@' only "
                "separates the version); use 'name' (its promoted version, else its newest) or 'name@N' for version "
                "N, e.g. 'tx_ae@2'."
            )
        # Why isascii: str.isdigit accepts '²' (int() then fails) and other scripts' digits ('١', '１'), which a
        # version written in SQL is never meant to be
        if not (ver.isascii() and ver.isdigit()) or int(ver) < 1:
            raise BadReferenceError(
                f"Model reference {ref!r} has a bad version {ver!r}: use 'name' (its promoted version, else its "
                "newest) or 'name@N' with N >= 1."
            )
        return name, int(ver)
    return ref, None
