"""Docs are tests: every SQL function and CLI command is documented, and the README's SQL runs."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

import ad_duckdb
from ad_duckdb.cli import cli
from ad_duckdb.udfnames import FUNCTIONS

from conftest import FAST, ROOT

README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_documented(name: str) -> None:
    assert f"`{name}(" in README


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_command_documented(name: str) -> None:
    assert f"ad-duckdb {name}" in README or f"`{name}`" in README


def test_readmes_links_within_it_reach_a_heading() -> None:
    """Each [text](#anchor) names a heading of the README by GitHub's rule (lower case, punctuation dropped, spaces
    as hyphens, a repeated heading's anchor numbered), headings inside code blocks not counted."""
    prose = re.sub(r"```.*?```", "", README, flags=re.S)
    seen: dict[str, int] = {}
    anchors = set()
    for head in re.findall(r"^#{1,6} (.+)$", prose, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", head.strip().lower()).replace(" ", "-")
        anchors.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    links = re.findall(r"\]\(#([^)]+)\)", prose)
    assert links, "the README's contents line links its sections"
    assert [a for a in links if a not in anchors] == []


def test_readme_and_recipes_sql_run(sensor_db: Path, tmp_path: Path) -> None:
    shutil.copyfile(sensor_db, tmp_path / "r.duckdb")
    con = ad_duckdb.connect(str(tmp_path / "r.duckdb"))
    try:
        con.execute("CREATE TABLE transactions AS SELECT range AS transaction_id, DATE '2026-01-01' + "
                    "(range % 30)::INTEGER AS day, 1 + range % 20 AS count, (1 + range % 20) * (20 + range % 7) "
                    "AS amount FROM range(3000)")
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        blocks = re.findall(r"```sql\n(.*?)```", README, flags=re.S)
        # dbt model files in the README hold Jinja ({{ ref(...) }}); they run in tests/test_dbt.py instead
        stmts = [s for b in blocks if "{{" not in b and "{%" not in b for s in b.split(";") if s.strip()]
        stmts += [s for s in (ROOT / "sql" / "recipes.sql").read_text().split(";")
                  if re.sub(r"--[^\n]*", "", s).strip()]
        assert len(stmts) >= 7
        for s in stmts:
            con.execute(s).fetchall()
    finally:
        con.close()


# Two days of readings a minute apart: a daily temperature cycle, temperature stuck at 70 for the hour from
# 2024-05-02 09:20 (labelled), and pressure missing for 40 minutes from 2024-05-02 17:40 (not labelled: a gap).
SENSORS = """CREATE TABLE sensors AS
SELECT TIMESTAMP '2024-05-01 00:00:00' + INTERVAL (range) MINUTE AS datetime,
       CASE WHEN range BETWEEN 2000 AND 2059 THEN 70.0
            ELSE 70 + 5 * sin(2 * pi() * range / 1440) + 0.3 * sin(range * 12.9898) END AS temperature,
       CASE WHEN range BETWEEN 2500 AND 2539 THEN NULL
            ELSE 2 + 0.1 * sin(2 * pi() * range / 1440) + 0.05 * cos(range * 78.233) END AS pressure,
       (range BETWEEN 2000 AND 2059)::INTEGER AS anomaly
FROM range(2880)"""


def _sensor_section() -> str:
    return README.split("### Sensor and time-series tables", 1)[1].split("\n## ", 1)[0]


def _sensor_model(con: duckdb.DuckDBPyConnection) -> None:
    """The sensors table and the model the README's sensor section trains on it (its view, its command)."""
    con.execute(SENSORS)
    view = re.findall(r"```sql\n(.*?)```", _sensor_section(), flags=re.S)[0]
    con.execute(view)
    assert '--where "anomaly = 0"' in _sensor_section()
    with pytest.warns(ad_duckdb.AdDuckDBWarning) as notes:
        ad_duckdb.train(con, "sensor_ae", "sensor_features", where="anomaly = 0", progress=False)
    said = " ".join(str(n.message) for n in notes)
    assert "'datetime' (TIMESTAMP) of 'sensor_features' is left out" in said and "'anomaly', which where=" in said


@pytest.fixture(scope="module")
def sensor_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file holding the sensors table and the README section's model, trained once (its notes checked once) and
    byte-copied by each test that reads it, as each trained its own."""
    path = tmp_path_factory.mktemp("sensors") / "sensors.duckdb"
    con = ad_duckdb.connect(str(path))
    try:
        _sensor_model(con)
    finally:
        con.close()
    return path


def test_readme_sensor_section_is_true(sensor_db: Path, tmp_path: Path) -> None:
    """The per-hour query flags the stuck hour, not the warm-up rows of the rolling window, not the hour pressure is
    missing (which it counts), and the first row, with no lag(), still gets a score."""
    shutil.copyfile(sensor_db, tmp_path / "s.duckdb")
    con = ad_duckdb.connect(str(tmp_path / "s.duckdb"))
    try:
        assert ad_duckdb.load_model(con, "sensor_ae").feature_names == [
            "temperature", "pressure", "temp_change", "temp_spread"]
        per_hour = re.findall(r"```sql\n(.*?)```", _sensor_section(), flags=re.S)[1]
        rows = {str(h): (m, f) for h, _, m, _, f in con.execute(per_hour).fetchall()}
        stuck = [h for h, (_, f) in rows.items() if f >= 20]
        assert stuck == ["2024-05-02 09:00:00", "2024-05-02 10:00:00"]
        assert rows["2024-05-01 00:00:00"][1] == 0  # warm-up: the rolling spread is NULL, not an odd value
        assert rows["2024-05-02 17:00:00"] == (20, 0) and rows["2024-05-02 18:00:00"] == (20, 0)
        first = con.execute("SELECT temp_change, anomaly_score('sensor_ae', temperature, pressure, temp_change, "
                            "temp_spread) FROM sensor_features ORDER BY datetime LIMIT 1").fetchall()[0]
        assert first[0] is None and first[1] is not None
    finally:
        con.close()


def test_schema_shipped_in_package() -> None:
    from importlib import resources

    assert "CREATE TABLE IF NOT EXISTS ad_models" in resources.files("ad_duckdb").joinpath("sql/schema.sql").read_text()
    assert duckdb.__version__.startswith("2.")


def test_public_api_has_docstrings_and_train_teaches_by_example() -> None:
    """help(ad_duckdb.load_model) and help(ad_duckdb.list_models) printed nothing, and help(ad_duckdb.train) had no
    example; the example is run here, so it stays true."""
    import doctest

    bare = [n for n in ad_duckdb.__all__ if n != "__version__" and not (getattr(ad_duckdb, n).__doc__ or "").strip()]
    assert bare == []
    (test,) = doctest.DocTestFinder().find(ad_duckdb.train, "train", globs={})
    assert len(test.examples) >= 3
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_readme_says_what_bigquery_mls_detect_anomalies_is_here(tmp_path: Path) -> None:
    """A BigQuery ML user looks for ML.DETECT_ANOMALIES(MODEL m, STRUCT(0.02 AS contamination), TABLE t): the README
    names the threshold call and the query, and both run as written and flag the stated share of the training rows."""
    para = re.search(r"Coming from BigQuery ML, (.*?)\n\n", README, flags=re.S)
    assert para is not None
    text = " ".join(para.group(1).split())
    assert "`ML.DETECT_ANOMALIES(MODEL tx_ae, STRUCT(0.02 AS contamination), TABLE transactions)`" in text
    call = 'ad_duckdb.set_threshold(con, "tx_ae", "c2", "contamination", target=0.02)'
    assert f"`{call}`" in text and "`ad-duckdb threshold DB tx_ae c2 --method contamination --target 0.02`" in text
    query = re.search(r"`(SELECT \*, anomaly_score.*? FROM transactions)`", text)
    assert query is not None
    con = ad_duckdb.connect(str(tmp_path / "bq.duckdb"))
    try:
        con.execute("SELECT setseed(0.5)")
        con.execute("CREATE TABLE transactions AS SELECT range AS transaction_id, 1 + (random() * 20)::INTEGER AS count, "
                    "round(random() * 500, 2) AS amount FROM range(2000)")
        ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
        ad_duckdb.set_threshold(con, "tx_ae", "c2", "contamination", target=0.02)  # `call`, as the README writes it
        rows = con.execute(f"SELECT is_anomaly, score > anomaly_threshold('tx_ae', 'c2') FROM ({query.group(1)})"
                           ).fetchall()
        assert all(a == b for a, b in rows)
        assert sum(a for a, _ in rows) / len(rows) == pytest.approx(0.02, abs=0.003)
    finally:
        con.close()


def test_score_says_it_returns_an_arrow_table_and_how_to_get_a_dataframe() -> None:
    """ad_duckdb.score(con, model, source) without into= returns a pyarrow Table, which a notebook prints column by
    column as chunks; neither help(ad_duckdb.score) nor the README showed that call, or the DataFrame a pandas user
    looks for. The docstring's example is run here, so it stays true."""
    import doctest

    (test,) = doctest.DocTestFinder().find(ad_duckdb.score, "score", globs={})
    assert any(".to_pandas()" in e.source for e in test.examples)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
    quick_start = README.split("From Python:", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert re.search(r"ad_duckdb\.score\(con, \"tx_ae\", \"transactions\"\)\.to_pandas\(\)", quick_start)


def test_readme_sensor_gap_expressions_null_the_readings_after_a_gap_only() -> None:
    """The bullet on gaps: its lag() and window expressions, put into the section's view, make the change and the
    spread NULL just after readings stop for a while, and leave every other row as the view has it."""
    text = " ".join(_sensor_section().split())
    change = re.search(r"`(CASE WHEN datetime - lag\(datetime\).*?END)`", text)
    spread = re.search(r"`(AND datetime - min\(datetime\) OVER last30 <= INTERVAL \d+ SECOND)`", text)
    assert change and spread, "the README's gap expressions"
    view = re.findall(r"```sql\n(.*?)```", _sensor_section(), flags=re.S)[0]
    gaps = (view.replace("sensor_features", "sensor_gaps")
            .replace("temperature - lag(temperature) OVER w AS", f"{change.group(1)} AS")
            .replace("count(*) OVER last30 = 30 THEN", f"count(*) OVER last30 = 30 {spread.group(1)} THEN"))
    assert gaps.count(change.group(1)) == 1 and gaps.count(spread.group(1)) == 1
    con = duckdb.connect()
    try:
        # one reading a second (some 2 s apart), and none for ten minutes after the 500th
        con.execute("CREATE TABLE sensors AS SELECT TIMESTAMP '2024-05-01' + INTERVAL (range + range // 7 + "
                    "CASE WHEN range >= 500 THEN 600 ELSE 0 END) SECOND AS datetime, 0 AS anomaly, "
                    "70 + sin(range / 9.0) AS temperature, 2.0 AS pressure FROM range(1000)")
        con.execute(view)
        con.execute(gaps)
        diff = con.execute(
            "SELECT g.temp_change IS NULL, g.temp_spread IS NULL, count(*) FROM sensor_features f JOIN sensor_gaps g "
            "USING (datetime) WHERE f.temp_change IS DISTINCT FROM g.temp_change OR f.temp_spread IS DISTINCT FROM "
            "g.temp_spread GROUP BY ALL ORDER BY ALL").fetchall()
        # the change of the first reading after the gap; the spread of the 29 windows that span it
        assert diff == [(False, True, 28), (True, True, 1)], diff
    finally:
        con.close()


def test_readme_counts_the_functions_psqls_df_lists() -> None:
    """The README said `\\df anomaly*` lists "the four `anomaly_*` functions" after anomaly_terms made them five; the
    number is read back from the README and compared with the functions a pattern `anomaly*` matches."""
    m = re.search(r"`\\df anomaly\*` lists the (\w+) `anomaly_\*` functions", README)
    assert m is not None, "README no longer says what \\df anomaly* lists"
    words = {"three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}
    assert words.get(m.group(1)) == len([f for f in FUNCTIONS if f.startswith("anomaly")])


def test_readme_exit_codes_are_the_ones_help_lists() -> None:
    """The README's exit-code list (for cron and Airflow jobs) and `ad-duckdb --help`'s name the same codes with the
    same meanings, so a code added or renumbered in one cannot leave the other stale."""
    from ad_duckdb.clifail import EXIT_CODES_HELP

    para = " ".join(README.split("and the exit code says what failed: ", 1)[1].split("(`ad-duckdb --help` lists", 1)[0]
                    .split())
    helped = " ".join(EXIT_CODES_HELP.split("Exit codes: ", 1)[1].split("Errors go to", 1)[0].split())
    numbers = [int(n) for n in re.findall(r"(?:^|[,;] )(\d+) ", para)]
    assert numbers == [int(n) for n in re.findall(r"(?:^|; )(\d+) ", helped)] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 130, 143, 141]
    for item in re.split(r"; ", helped):
        code, meaning = item.split(" ", 1)
        # the README words the signals and the file's reasons its own way; the others are the same words
        if int(code) not in (3, 4, 130, 143, 141):
            assert f"{code} {meaning.rstrip('.')}" in para, (code, meaning)


def _public_functions() -> list[tuple[str, object]]:
    """ad_duckdb's public functions, and compare_versions."""
    import inspect

    from ad_duckdb.compare import compare_versions

    found = [(n, getattr(ad_duckdb, n)) for n in ad_duckdb.__all__ if not n.startswith("_")]
    return [(n, f) for n, f in found if inspect.isfunction(f)] + [("compare_versions", compare_versions)]


@pytest.mark.parametrize(("name", "func"), _public_functions())
def test_public_docstrings_name_every_parameter(name: str, func: object) -> None:
    """help(ad_duckdb.import_model) did not say what its name=None does (the file's own name is used), nor
    help(score) what replace= and batch_rows= do, nor help(set_threshold) label= and where=: each parameter a
    caller may pass (not ``con``) is named in the docstring."""
    import inspect

    doc = inspect.getdoc(func) or ""
    params = [p for p in inspect.signature(func).parameters if p not in ("self", "con") and not p.startswith("_")]
    assert [p for p in params if not re.search(rf"\b{p}\b", doc)] == [], name


def test_import_model_without_a_name_stores_the_files_own_as_its_docstring_says(tmp_path: Path) -> None:
    """import_model(con, path) with name=None stores the model under the name it was exported under."""
    import inspect

    src, dst = ad_duckdb.connect(), ad_duckdb.connect()
    try:
        src.execute("CREATE TABLE t AS SELECT range % 7 AS a, range % 5 AS b FROM range(300)")
        ad_duckdb.train(src, "orig_ae", "t", features=["a", "b"], **FAST)
        path = ad_duckdb.export_model(src, "orig_ae", tmp_path / "renamed_file.onnx")
        assert ad_duckdb.import_model(dst, path).name == "orig_ae"
    finally:
        src.close()
        dst.close()
    assert "the name stored in the file" in (inspect.getdoc(ad_duckdb.import_model) or "")


def test_compare_versions_is_a_top_level_name_as_the_other_api_functions() -> None:
    # A notebook user types ad_duckdb.compare_versions as ad_duckdb.evaluate; it was a bare AttributeError.
    from ad_duckdb.compare import compare_versions

    assert ad_duckdb.compare_versions is compare_versions
    assert "compare_versions" in ad_duckdb.__all__ and "compare_versions" in dir(ad_duckdb)


def _documented_command_lines() -> list[str]:
    """Each `ad-duckdb ...` line a user copies: the examples of `ad-duckdb --help` and of every command's, the
    README's sh and bash blocks, and its inline commands written out whole (no `...` or `[--option]` placeholders)."""
    import click

    top = click.Context(cli, info_name="ad-duckdb")
    lines = [line.strip() for line in cli.get_help(top).splitlines() if line.strip().startswith("ad-duckdb ")]
    for name, cmd in sorted(cli.commands.items()):
        text = cmd.get_help(click.Context(cmd, info_name=name, parent=top))
        text = re.sub(r"\n {5,}(?!ad-duckdb|psql)", " ", text)  # an example wrapped onto an indented next line
        lines += [line.strip() for line in text.splitlines() if line.strip().startswith("ad-duckdb ")]
    for block in re.findall(r"```(?:sh|bash)\n(.*?)```", README, flags=re.S):
        lines += [line.strip() for line in block.splitlines() if line.strip().startswith("ad-duckdb ")]
    lines += [" ".join(c.split()) for c in re.findall(r"`(ad-duckdb [a-z]+ [^`]+)`", README)
              if "..." not in c and "[" not in c and re.search(r"\bDB\b|\.duckdb\b", c)]
    return lines


@pytest.mark.parametrize("line", _documented_command_lines())
def test_documented_command_lines_parse(line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A documented command line names only options the command has, with values it takes, and as many arguments as
    it wants: it parses as written (shell pipes and redirections cut off; nothing is run). A renamed option or choice
    then fails here, not in a user's terminal."""
    import shlex

    import click

    monkeypatch.chdir(tmp_path)
    words = shlex.split(line, comments=True)
    for i, w in enumerate(words):
        if w in ("|", "||", "&", "&&", ";", ">", "<") or w.startswith((">", "<")):
            words = words[:i]
            break
    for w in words:
        if w.endswith(".sql"):  # --file opens its file while the line is parsed
            (tmp_path / w).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / w).write_text("SELECT 1;")
    at = next(i for i, w in enumerate(words) if w in cli.commands)  # after the group's own options (--wait 600)
    try:
        with cli.make_context("ad-duckdb", words[1:at + 1]) as ctx:
            cli.commands[words[at]].make_context(words[at], words[at + 1:], parent=ctx).close()
    except click.ClickException as e:
        pytest.fail(f"{line!r}: {e.format_message()}")


def test_code_sizes_scoring_cost_reads_the_same_in_the_help_docstrings_and_readme() -> None:
    # Before: `ad-duckdb train --help` gave --code-sizes "about 4-5x the scoring time" a few lines above its own example's
    # "about x3", and ad_duckdb.train's docstring 4-5x, where README (Quality and speed) measures x2.9-3.8 (x3-4).
    from click.testing import CliRunner

    from ad_duckdb.trainer import TrainParams

    help_text = " ".join(CliRunner().invoke(cli, ["train", "--help"], terminal_width=200).output.split())
    texts = {"train --help": help_text, "ad_duckdb.train": " ".join((ad_duckdb.train.__doc__ or "").split()),
             "TrainParams.with_code_sizes": " ".join((TrainParams.with_code_sizes.__doc__ or "").split())}
    said = {where: re.findall(r"(\d(?:\.\d+)?-\d(?:\.\d+)?)x the scoring time|x(\d(?:-\d)?) the scoring time|"
                              r"ONNX x(\d-\d)", text) for where, text in texts.items()}
    figures = {where: {next(g for g in m if g) for m in found} for where, found in said.items()}
    assert all(figures.values()), figures  # each names the cost
    assert all(f <= {"3", "3-4"} for f in figures.values()), figures


def test_readme_python_why_example_runs() -> None:
    """The README's Python "why" (AutoEncoderDetector.explain) beside anomaly_explain runs, and its rows are the
    flagged ones, each named by its transaction_id, with the columns it says."""
    from conftest import make_transactions

    section = README.split("The same \"why\" in Python", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert "det.explain(" in code
    con = ad_duckdb.connect(":memory:")
    try:
        make_transactions(con, n=600)
        scope: dict[str, object] = {"con": con}
        # FAST: the README's default training, shortened for the test
        exec(code.replace("AutoEncoderDetector()", "AutoEncoderDetector(**FAST)"), {"FAST": FAST, **scope}, scope)
    finally:
        con.close()
    why, flagged = scope["why"], scope["flagged"]
    assert list(why.columns) == ["feature_1", "share_1", "feature_2", "share_2", "imputed"]  # type: ignore[attr-defined]
    assert list(why.index) == list(flagged.index) and len(why) > 0  # type: ignore[attr-defined]
    assert set(why["feature_1"]) <= {"count", "amount"}  # type: ignore[index]


def test_readme_s_pyod_and_bigquery_ml_table_names_what_is_here() -> None:
    """The README's table from PyOD's and BigQuery ML's names to ours: each PyOD attribute and method it says is
    the same is on a fitted detector, each parameter it renames is refused with the name it gives, PyOD's default
    contamination is PyOD's, and each SQL function it names is one of ours."""
    import numpy as np
    from pyod.models.base import BaseDetector

    from ad_duckdb.detector import AutoEncoderDetector
    from ad_duckdb.detectorparams import _OTHER_NAMES
    from ad_duckdb.trainer import TrainParams

    table = README.split("Coming from PyOD, or from the rest of BigQuery ML", 1)[1].split("\n\n", 2)[1]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    det = AutoEncoderDetector(epochs=1, n_models=1, progress=False).fit(np.random.default_rng(0).normal(size=(100, 3)))
    for theirs, ours, _ in rows:
        if ours == "the same":
            for name in re.findall(r"`(?:clf\.)?(\w+)[(`]", theirs):
                assert hasattr(det, name), name
        theirs_names = re.findall(r"`(\w+)`", theirs)
        ours_names = re.findall(r"`(\w+)`", ours)
        if theirs_names and len(theirs_names) == len(ours_names) and "random_state" in theirs_names:
            for a, b in zip(theirs_names, ours_names, strict=True):
                assert _OTHER_NAMES[a] == b and b in TrainParams.__dataclass_fields__, (a, b)
                with pytest.raises(ad_duckdb.BadInputError, match=rf"\b{a}= is {b}= here"):
                    AutoEncoderDetector(**{a: 1}).fit(np.zeros((30, 2)))
        for function in re.findall(r"`(\w+)\('tx_ae'", ours):
            assert function in FUNCTIONS, function
    first = next(r for r in rows if r[0].startswith("`AutoEncoder(contamination"))
    assert f"default {TrainParams().contamination} here, {BaseDetector.__init__.__defaults__[0]} in PyOD" in first[2]
