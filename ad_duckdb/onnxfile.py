"""The self-contained ``.onnx`` file: the model's ONNX bytes with its metadata appended as
``ModelProto.metadata_props``; writing one whole (or not at all) and reading one back with every check."""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
from pathlib import Path
from typing import Any, BinaryIO

from . import filegoals, filevalues, graphfills, integrity, jsonvalues, modelnames, notafile, readers, store, storedmetrics, storeload, stringinputs
from .exceptions import BadInputError, IntegrityError, SourceNotFoundError
from .features import FeatureSpec
from .onnxproto import encode_varint, len_field
from .onnxshapes import quote
from .optionwords import either, opt
from .savefile import write_whole
from .store import ModelRecord, Threshold

METADATA_KEY = "ad_duckdb"  # the metadata_props key of the JSON metadata
STDIN = "standard input"  # where `ad-duckdb import DB -` reads the file from


def metadata_entry(value: str) -> bytes:
    """Protobuf bytes of one ``metadata_props`` entry (field 14 of ModelProto; key=1, value=2).

    Appending a repeated field to a serialized message is valid protobuf, so no onnx package is needed.
    """
    k, v = METADATA_KEY.encode(), value.encode()
    entry = b"\x0a" + encode_varint(len(k)) + k + b"\x12" + encode_varint(len(v)) + v
    return b"\x72" + encode_varint(len(entry)) + entry


def record_metadata(rec: ModelRecord) -> dict[str, Any]:
    """Everything but the ONNX bytes, as JSON-ready data (embedded in exported .onnx files)."""
    return {
        "name": rec.name, "version": rec.version, "kind": rec.kind, "format_version": rec.format_version,
        "features": [f.to_json() for f in rec.features], "source": rec.source, "train_rows": rec.train_rows,
        "params": rec.params, "metrics": rec.metrics, "lib_versions": rec.lib_versions,
        "created_at": rec.created_at.isoformat(), "sha256": rec.sha256,
        "thresholds": [t.__dict__ for t in rec.thresholds],
        # Why beside the thresholds, not in each: an older ad_duckdb builds Threshold(**t) and would refuse the key
        "threshold_times": {t.name: rec.threshold_times[t.name].isoformat() for t in rec.thresholds
                            if t.name in rec.threshold_times},
    }


def metadata_digest(meta: dict[str, Any]) -> str:
    """sha256 of the metadata itself (features, thresholds, quantiles), which the graph's sha256 does not cover."""
    body = {k: v for k, v in meta.items() if k != "metadata_sha256"}
    return store.sha256_hex(json.dumps(body, sort_keys=True).encode())


MAX_THRESHOLDS = 10_000  # in one imported file (record_from_metadata)


def record_from_metadata(meta: dict[str, Any], onnx: bytes) -> ModelRecord:
    """The record ``meta`` describes; its errors read on from "Model file 'PATH': " (see read_file)."""
    fmt = meta.get("format_version")
    # Why checked before any int(): a file of another tool (or an edited one) stopped import with a traceback.
    if type(fmt) is not int or fmt < 1:
        raise IntegrityError(f"its ad_duckdb metadata has format_version {quote(str(fmt)[:40])}, not a "
                             "whole number from 1; the file was not written by ad_duckdb's export_model.")
    if fmt > store.FORMAT_VERSION:
        raise IntegrityError(
            f"it has format_version {fmt}; this ad_duckdb reads format_version {store.FORMAT_VERSION} at most, so the "
            "file was written by a newer ad_duckdb. Upgrade ad_duckdb to read it."
        )
    name = meta.get("name")
    if not isinstance(name, str) or not modelnames.valid_name(name):
        # Why here: the name reaches every later message, whole (a file can hold a megabyte of escapes in it)
        raise IntegrityError(f"its ad_duckdb metadata names the model {quote(str(name))}, which is not "
                             "a valid model name; the file was not written by ad_duckdb's export_model.")
    version = meta.get("version", 0)
    if type(version) is not int:
        raise IntegrityError(f"its ad_duckdb metadata has version {quote(str(version)[:40])}, not a "
                             "whole number; the file was not written by ad_duckdb's export_model.")
    filevalues.check(meta)
    try:
        times = meta.get("threshold_times") or {}  # an older file has none: its thresholds take the model's time
        rec = ModelRecord(
            name=name, version=version, kind=str(meta["kind"]),
            features=[FeatureSpec.from_json(f) for f in meta["features"]], onnx=onnx, source=meta.get("source"),
            train_rows=meta.get("train_rows"), params=dict(meta.get("params") or {}),
            metrics=dict(meta.get("metrics") or {}), lib_versions=dict(meta.get("lib_versions") or {}),
            created_at=_utc_time(meta["created_at"]), format_version=fmt,
            sha256=str(meta.get("sha256", "")), thresholds=[Threshold(**t) for t in meta.get("thresholds", [])],
            threshold_times={str(k): _utc_time(v) for k, v in dict(times).items()},
        )
        storedmetrics.check(rec.metrics)
        rec.metrics = filegoals.from_file(rec.metrics)  # its goals' SQL is the file writer's: kept, never run
        readers.check(rec.lib_versions, f"its model {rec.ref}")
        if not all(isinstance(t.value, int | float) and not isinstance(t.value, bool) for t in rec.thresholds):
            raise ValueError("a threshold's value must be a number")
        # Why: each threshold is a row stored in the import's transaction, so a file listing 100,000 of them held the
        # database's write lock for over ten minutes; a model's own are a handful
        if len(rec.thresholds) > MAX_THRESHOLDS:
            raise ValueError(f"{len(rec.thresholds)} thresholds, over the {MAX_THRESHOLDS} a file may hold")
        if rec.train_rows is not None and not (type(rec.train_rows) is int and 0 <= rec.train_rows < 1 << 63):
            raise ValueError("train_rows must be a whole number of rows")
        return rec
    except (KeyError, TypeError, ValueError) as e:
        raise IntegrityError(f"its ad_duckdb metadata is incomplete or malformed ({e!r}); export it again from the database "
                             "it came from.") from e


def _utc_time(text: str) -> dt.datetime:
    """A time of the metadata as the store keeps times: UTC, without a zone. Why: export writes them so, but a time
    with a zone ('...Z', '+05:00': a file written or edited by another tool) stopped the import with a TypeError
    where it was compared with the stored versions' times."""
    t = dt.datetime.fromisoformat(text)
    return t if t.tzinfo is None else t.astimezone(dt.UTC).replace(tzinfo=None)


def write_file(rec: ModelRecord, path: Path, *, replace: bool, string_inputs: bool = False) -> Path:
    """Write ``rec`` with its metadata (and the metadata's own sha256) to ``path``; an existing file only with
    ``replace``. The file appears whole or not at all (written beside it, then renamed). ``string_inputs``: the graph
    takes each text feature as strings (stringinputs.py)."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if path.exists() and not replace:
        raise BadInputError(f"{str(path)!r} exists; pass {opt('replace', True)} to overwrite it, or choose another "
                            "path.")
    if path.exists() and path.suffix.lower() != ".onnx":  # a file named .onnx is the user's to replace, whatever it holds
        _check_replaceable(path)
    if not path.parent.is_dir():  # named here: the error would otherwise name the temporary file
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
    data = file_bytes(rec, string_inputs=string_inputs)
    return write_whole(path, lambda t: t.write_bytes(data))


def _check_replaceable(path: Path) -> None:
    """Refuse to replace a file that is no model file (a DuckDB database, a Parquet or text file of rows). Why: with
    the arguments swapped, ``export ... victim.duckdb --replace`` (a line copied from a script) turned another
    database of models into a 59 KB ONNX file without a word, and ``tx.parquet`` likewise lost its rows."""
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return  # not readable: the write says why, if it fails
    if not head or head[:1] == b"\x08":  # empty, or ONNX's ModelProto: its first field, ir_version, is tag 0x08
        return
    kind = ("a DuckDB database" if notafile.is_duckdb_header(head) else "a Parquet file" if head[:4] == b"PAR1"
            else "a text file" if _what_it_is(head) else "a file that is not an ONNX model")
    raise BadInputError(f"{str(path)!r} is {kind}, not an .onnx model file: {opt('replace', True)} replaces a model "
                        f"file only, so it was left as it is. Export to a new path, e.g. {path.with_suffix('.onnx').name}; "
                        "delete the file first if it really is to go.")


def file_bytes(rec: ModelRecord, *, string_inputs: bool = False) -> bytes:
    """The bytes of the file ``write_file`` writes: the graph with its metadata (and the metadata's own sha256)."""
    fields = record_metadata(rec)
    graph = rec.onnx
    if string_inputs:  # the metadata's sha256 stays the stored graph's: import restores that graph (stringinputs.py)
        graph, fields[stringinputs.KEY] = stringinputs.build(rec)
    meta = json.dumps({**fields, "metadata_sha256": metadata_digest(fields)}, sort_keys=True)
    return graph + metadata_entry(meta)


def read_file(path: Path) -> ModelRecord:
    """Read and check a file written by ``export_model``; no onnxruntime load before the checks pass."""
    if path.is_dir():
        raise BadInputError(f"{str(path)!r} is a folder, not a model file; give the .onnx file that export_model wrote.")
    if not path.exists():  # exit code 6, as a missing source file (README)
        raise SourceNotFoundError(f"Model file {str(path)!r} does not exist.")
    if not path.is_file():
        # Why read as a stream: a pipe (`ad-duckdb import DB <(curl ...)`, a named pipe) is there but is no regular
        # file, and was said not to exist
        with path.open("rb") as f:
            data = f.read(_max_file_bytes() + 1)
        if len(data) > _max_file_bytes():
            raise IntegrityError(f"Model file {str(path)!r} is over {_max_file_bytes()} bytes, the limit; raise "
                                 "AD_DUCKDB_MAX_MODEL_BYTES.")
        return read_bytes(data, repr(str(path)), path.name)
    size = path.stat().st_size
    if size > _max_file_bytes():
        raise IntegrityError(f"Model file {str(path)!r} is {size} bytes, over the limit; raise AD_DUCKDB_MAX_MODEL_BYTES.")
    return read_bytes(path.read_bytes(), repr(str(path)), path.name)


def read_stream(stream: BinaryIO) -> ModelRecord:
    """Read and check a file written by ``export_model`` from ``stream`` (``import DB -``'s standard input)."""
    data = stream.read(_max_file_bytes() + 1)
    if len(data) > _max_file_bytes():
        raise IntegrityError(f"The model file on {STDIN} is over {_max_file_bytes()} bytes, the limit; raise "
                             "AD_DUCKDB_MAX_MODEL_BYTES.")
    return read_bytes(data, f"on {STDIN}", STDIN)


def _max_file_bytes() -> int:
    return storeload.max_model_bytes() + 1_000_000


def _what_it_is(data: bytes) -> str:
    """What a file that is no ONNX model looks like, for its refusal ("" where it cannot be told). Why: a Parquet or
    CSV file of rows given to import (the rows to train on, at hand) was said to be "not a well-formed ONNX model
    (field number 0)" alone."""
    if data[:4] == b"PAR1":
        kind, read = "a Parquet file", "read_parquet('rows.parquet')"
    else:
        head = data[:4096].decode("utf-8", errors="ignore")
        if len(head) < min(len(data), 4096) // 2 or not all(ch.isprintable() or ch in "\r\n\t" for ch in head):
            return ""
        kind, read = "a text file (CSV, JSON or other text)", "read_csv('rows.csv')"
    how = either(f'ad_duckdb.train(con, "NAME", "{read}")', f'ad-duckdb train DB NAME "{read}"')
    return f" It is {kind}, not an .onnx file written by export_model; rows to train on are a source: {how}."


def read_bytes(data: bytes, where: str, origin: str) -> ModelRecord:
    """Check the bytes of a file written by ``export_model`` and return its record. ``where`` follows "Model file "
    in messages (a quoted path, or "on standard input"); ``origin`` names it after the model's name."""
    if not data:  # an interrupted copy or download: "no metadata" would send the user looking for the wrong cause
        raise IntegrityError(f"Model file {where} is empty (0 bytes); copy or export it again.")
    if notafile.is_duckdb_header(data):  # the database given where the model file goes
        raise BadInputError(f"Model file {where} is a DuckDB database, not an .onnx file written by export_model: "
                            "import takes the database first, then the file (ad-duckdb import DB PATH).")
    try:
        meta_text = integrity.metadata_props(data).get(METADATA_KEY)
    except IntegrityError as e:
        raise IntegrityError(f"Model file {where}: {e}{_what_it_is(data)}") from e
    if not meta_text:
        # Why not "export it with export_model": that writes a model stored in a database, no help for a file of
        # another tool (sklearn-onnx, PyOD), whose graph has none of the inputs, outputs and checks a stored model has
        raise IntegrityError(
            f"Model file {where} has no ad_duckdb metadata: ad_duckdb reads only model files written by `ad-duckdb "
            "export` (ad_duckdb.export_model), not another tool's model, nor a file whose metadata was stripped. "
            "Export the model again from the database that stores it, or train it with ad_duckdb."
        )
    tail = metadata_entry(meta_text)
    if not data.endswith(tail):
        raise IntegrityError(f"Model file {where}: its metadata is not where export_model puts it; the file was altered.")
    try:
        meta = jsonvalues.loads(meta_text)
    except ValueError as e:
        raise IntegrityError(f"Model file {where}: its ad_duckdb metadata is not valid JSON ({e}).") from e
    if not isinstance(meta, dict):
        raise IntegrityError(f"Model file {where}: its ad_duckdb metadata is not a JSON object.")
    # (files exported before the metadata carried its own sha256 have none to check)
    if "metadata_sha256" in meta and meta["metadata_sha256"] != metadata_digest(meta):
        raise IntegrityError(
            f"Model file {where}: the sha256 of its metadata (features, thresholds) does not match; the file "
            "was altered. Export it again from the database it came from."
        )
    try:
        # Why the graph after the record: a file of a newer format, or not ours, is told so before its layout is judged
        rec = record_from_metadata(meta, data[: -len(tail)])
        rec.onnx = stringinputs.stored_graph(_graph_of_producer_file(rec.onnx, meta), meta)
    except IntegrityError as e:  # named here: a models= list or a dbt profile may hold several files
        raise IntegrityError(f"Model file {where}: {e}") from e
    if store.sha256_hex(rec.onnx) != rec.sha256:
        raise IntegrityError(
            f"Model file {where}: the sha256 of its graph does not match its metadata; the file was altered."
        )
    try:
        stringinputs.check(rec, data[: -len(tail)], meta)
    except IntegrityError as e:
        raise IntegrityError(f"Model file {where}: {e}") from e
    # The graph must fit the feature list it claims, with no external data or custom operators.
    try:
        integrity.check_onnx(rec.onnx, model=f"{rec.name} (from {origin})", n_features=len(rec.features),
                             max_bytes=storeload.max_model_bytes())
    except IntegrityError as e:
        width = graphfills.input_width(rec.onnx)
        if width is None or width == len(rec.features):
            raise
        # Why said so: "re-train it, or import a model exported by ad_duckdb" sent the user away from the file's fault
        raise IntegrityError(
            f"Model file {where}: its graph takes {width} input column(s) (x [n, {width}]), but its ad_duckdb "
            f"metadata lists {len(rec.features)} feature(s) ({graphfills.names(rec.features)}): the feature list is "
            "not the graph's (edited, or another model's); the model was not imported: export it again from the "
            "database it came from (ad-duckdb export DB MODEL FILE), or train it again.") from e
    try:
        graphfills.check(rec.onnx, rec.features)
    except IntegrityError as e:
        raise IntegrityError(f"Model file {where}: {e}") from e
    return rec


def _graph_of_producer_file(body: bytes, meta: dict[str, Any]) -> bytes:
    """The stored graph in ``body`` (the file without its metadata). Files of f02ea31 .. b62705b appended
    ``producer_name`` 'ad_duckdb', ``producer_version`` and ``model_version`` (ModelProto fields 2, 3 and 5) to the
    graph and said so in their metadata (``graph_bytes``, ``producer_version``): their graph is the first
    ``graph_bytes``, followed by exactly those fields, which no sha256 covers. Why still read: a file exported by
    those releases is intact, and was refused as altered once they were no longer written."""
    if "graph_bytes" not in meta:
        return body
    n, producer, version = meta.get("graph_bytes"), meta.get("producer_version"), meta.get("version")
    if type(n) is not int or not 0 < n <= len(body) or not isinstance(producer, str) or type(version) is not int \
            or body[n:] != (len_field(2, b"ad_duckdb") + len_field(3, producer.encode()) + encode_varint(5 << 3)
                            + encode_varint(version)):
        raise IntegrityError("its producer name, producer version or model version is not what export_model wrote; "
                             "the file was altered. Export it again from the database it came from.")
    return body[:n]
