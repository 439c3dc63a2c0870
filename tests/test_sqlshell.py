"""The `ad-duckdb sql DB` prompt: what ends a statement, what ends the session, and what a session leaves behind."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from test_cli import _terminal_session

from ad_duckdb import interrupts, sqlshell

from conftest import cli_in_process, wait_reading_terminal


@pytest.fixture
def empty_db(tmp_path: Path) -> str:
    path = str(tmp_path / "e.duckdb")
    duckdb.connect(path).close()
    return path


def test_a_syntax_error_or_a_dot_command_ends_the_statement_not_the_session(empty_db: str) -> None:
    """A typo (SELEC 1;) ended the whole session with exit 1: the parser's error came from splitting the text into
    statements, before the per-statement handling. An unknown dot command (`.tabels`) left the prompt waiting for a ';'
    in which even `.quit` was taken for SQL. A ';' ending a line inside a string ran the statement half-typed."""
    code, out = _terminal_session(empty_db, [
        "SELEC 1;\n",
        "SELECT 42 AS answer;\n",
        ".tabels\n",
        "SELECT length('it;\n",  # the string goes on: this is no statement's end
        "s') AS n;\n",
        "SELECT 1\n",  # a statement half-typed: .quit leaves all the same, as psql's \q does
        ".quit\n",
    ])
    assert code == 0, out
    assert 'Error: Parser Error: syntax error at or near "SELEC"' in out
    assert re.search(r"answer\s*\n-+\s*\n\s*42", out), out
    assert re.search(r"\.tabels\nError: \.tabels is not a command here.*\nad> ", out), out
    assert re.search(r"n\s*\n-+\s*\n5\s*\n", out), out  # i, t, ;, the line end, s


def test_sigterm_at_the_prompt_keeps_the_new_database_the_session_wrote(tmp_path: Path) -> None:
    """`sql --write new.duckdb` on a terminal: a SIGTERM (a closed SSH session's supervisor, `kill PID`) at the
    prompt removed the new file, with every table the session had created and reported ok."""
    db = tmp_path / "new.duckdb"
    code, out = _terminal_session(str(db), ["CREATE TABLE kept AS SELECT 7 AS x;\n", signal.SIGTERM],
                                  options=("--write",))
    assert code == 143, out
    assert "Error: interrupted (SIGTERM) before the command finished" in out
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.sql("SELECT x FROM kept").fetchall() == [(7,)]
    finally:
        con.close()


def test_a_sigterm_after_a_ctrl_c_at_the_prompt_still_ends_the_session() -> None:
    """The CLI's watcher thread notes each signal (interrupts.note) while the main thread handles it; after a Ctrl-C
    at the prompt the prompt forgot it, and a note of that Ctrl-C arriving after that made a later SIGTERM read as a
    Ctrl-C: the session went on, and as the SIGTERM handler raises once, no SIGTERM ended it any more. Here the
    real note and handler run in that order."""
    calls = iter(["ctrl-c", "late note", "sigterm", "eof"])

    def read(prompt: str) -> str:
        step = next(calls)
        if step == "ctrl-c":
            raise KeyboardInterrupt  # Python's SIGINT handler, in the main thread
        if step == "late note":
            interrupts.note(signal.SIGINT)  # the watcher thread's note of that Ctrl-C, late
            return ""
        if step == "sigterm":
            interrupts.raise_terminated(signal.SIGTERM, None)  # the SIGTERM handler, in the main thread
        raise EOFError

    try:
        with pytest.raises(interrupts.Terminated):
            sqlshell.interact(lambda text: None, "banner", lambda line: None, read)
        assert interrupts.stopped_by_sigterm()  # what makes the CLI say SIGTERM and exit 143
    finally:  # this process's signal state as it was: the handler raises once, and the flags are for a whole run
        interrupts.received = None
        interrupts._TERMINATING.clear()
        interrupts._SIGTERM_NOTED.clear()


@pytest.mark.parametrize(("text", "ends"), [
    ("SELECT 'multi;", False), ("SELECT 'multi;\nline';", True), ('SELECT 1 AS "a;', False),
    ("SELECT $$one;", False), ("SELECT $$one;\ntwo$$;", True), ("SELECT $t$ a;$$ b;", False),
    ("SELECT $t$ a;$$ b $t$;", True), ("PREPARE p AS SELECT $1;", True), ("SELECT E'it\\'s;", False),
    ("SELECT E'it\\'s;';", True), ("SELECT 'a\\';", True), ("SELECT 1 /* open;", False),
    ("SELECT 1 /* a /* b */ still a comment;", False), ("SELECT 1 /* a /* b */ c */;", True),
    ("SELECT 1; /* done */", True), ("SELECT 1/2;", True), ("SELECT 1 -- c;\n;", True),
])
def test_the_prompt_knows_when_a_statement_ends_in_duckdb_syntax(text: str, ends: bool) -> None:
    """Checked against DuckDB itself: strings may span lines, dollar-quoted strings ($$ or $tag$) and E'' escapes
    hold a ';', and /* */ comments nest. A ';' inside any of them ran the statement half-typed."""
    assert sqlshell.complete(text) is ends
    if ends:
        assert len(duckdb.extract_statements(text)) == 1  # DuckDB agrees it is one whole statement


@pytest.mark.parametrize("line", [".quit", ".exit", "quit", "exit;", "\\q", ".QUIT", "Exit"])
def test_the_quit_words_leave(line: str) -> None:
    typed = iter([line, "SELECT 'never run';"])
    ran: list[str] = []
    sqlshell.interact(ran.append, "banner", ran.append, lambda prompt: next(typed))
    assert ran == []


def test_the_prompt_shows_the_first_rows_of_a_large_result(empty_db: str) -> None:
    """SELECT * of a large table at the prompt printed every row (a million scored transactions: minutes of output)
    before the next prompt; the prompt's table now shows the first PROMPT_ROWS, reads no more, and says how to get
    the rest. A result of exactly that many rows is shown whole, with no note; csv is data: every row."""
    from ad_duckdb.sqlrun import PROMPT_ROWS

    code, out = _terminal_session(empty_db, [
        "SELECT range AS i FROM range(100000000000);\n",  # reading every row would not end
        f"SELECT range AS j FROM range({PROMPT_ROWS});\n",
        ".quit\n",
    ])
    assert code == 0, out
    first = out[out.index("range(100000000000)"):out.index(f"range({PROMPT_ROWS})")]
    shown = re.findall(r"^\s*(\d+)\s*$", first, re.MULTILINE)
    assert shown == [str(i) for i in range(PROMPT_ROWS)], first
    assert f"note: the first {PROMPT_ROWS} rows; the prompt shows no more" in first
    rest = out[out.index(f"range({PROMPT_ROWS})"):]
    assert re.findall(r"^\s*(\d+)\s*$", rest, re.MULTILINE) == [str(i) for i in range(PROMPT_ROWS)]
    assert "note:" not in rest
    code, out = _terminal_session(empty_db, ["SELECT range AS k FROM range(100);\n", ".quit\n"],
                                  options=("--format", "csv"))
    assert code == 0 and "note:" not in out, out
    assert re.findall(r"^(\d+)\r?$", out, re.MULTILINE) == [str(i) for i in range(100)], out


def test_enter_on_an_empty_prompt_starts_no_statement() -> None:
    """An empty line at `ad>` turned the prompt into `...`, as if a statement had begun (psql stays at its prompt)."""
    typed = iter(["", "   ", "SELECT 1;", EOFError])
    prompts: list[str] = []
    ran: list[str] = []

    def read(prompt: str) -> str:
        prompts.append(prompt)
        item = next(typed)
        if item is EOFError:
            raise EOFError
        return str(item)

    sqlshell.interact(ran.append, "banner", ran.append, read)
    assert prompts == [sqlshell.PROMPT] * 4 and ran == ["SELECT 1;"]


def test_the_up_arrow_recalls_a_statement_of_an_earlier_session(empty_db: str, tmp_path: Path) -> None:
    """Each session started with no history (psql and DuckDB's shell keep one): the statement typed yesterday had to
    be typed again. AD_DUCKDB_HISTORY names the file (default ~/.ad_duckdb_history)."""
    history = tmp_path / "history"
    code, out = _terminal_session(empty_db, ["SELECT 6 * 7 AS answer;\n", ".quit\n"], history=history)
    assert code == 0 and "SELECT 6 * 7 AS answer;" in history.read_text(), out
    up = "\x1b[A"  # the terminal's up-arrow key
    code, out = _terminal_session(empty_db, [f"{up}{up}\n", ".quit\n"], history=history)  # past .quit, the SELECT
    assert code == 0 and re.search(r"answer\s*\n-+\s*\n\s*42", out), out


def test_a_writer_locked_out_by_an_open_prompt_is_told_so(tmp_path: Path) -> None:
    """An `ad-duckdb sql` prompt left open holds the file like any reader; a training run then named servers, BI
    tools and scoring jobs as what to stop, not the prompt in another terminal, the likeliest holder."""
    db = tmp_path / "held.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE tx AS SELECT range AS id, range % 7 AS count, range % 13 * 2.5 AS amount FROM range(200)")
    con.close()
    refused: list[str] = []

    def train_meanwhile() -> None:
        from test_cli_ops import cli_process

        p = cli_process("train", str(db), "tx_ae", "tx", "-f", "count", "-f", "amount", "--epochs", "1", "--quiet")
        refused.append(f"{p.returncode} {p.stderr}")

    code, out = _terminal_session(str(db), [train_meanwhile, ".quit\n"])
    assert code == 0, out
    assert refused[0].startswith("4 Error: Cannot open") and "an `ad-duckdb sql` prompt: .quit" in refused[0], refused


def _answers(out: str) -> dict[str, str]:
    """Each prompt line typed in a transcript, with what it printed."""
    parts = (p.split("\n", 1) for p in out.split("ad> ")[1:])
    return {p[0]: p[1] if len(p) > 1 else "" for p in parts}


def test_an_error_in_a_dot_command_ends_the_command_not_the_session() -> None:
    """.models on a database with a table of its own named ad_models ended the whole session (exit 1: its TEMP
    tables, open transaction and in-memory data gone) instead of showing the error and reading on, as an error in a
    statement does."""
    code, out = _terminal_session(":memory:", [
        "CREATE TABLE ad_models(x INT);\n",
        ".models\n",
        "SELECT 42 AS still_here;\n",
        ".quit\n",
    ], options=("--write",))
    assert code == 0, out
    answers = _answers(out)
    assert answers[".models"].startswith("Error: Table 'ad_models' in this database is not ad_duckdb's model store")
    assert re.search(r"still_here\s*\n-+\s*\n\s*42", answers["SELECT 42 AS still_here;"]), out


def test_tables_and_describe_list_every_row_at_the_prompt(empty_db: str) -> None:
    """.tables in a database of 45 tables, and \\d of a table of 45 columns, showed 40 and said "Add LIMIT ... OFFSET
    for others", which a dot command has no place for: the rest could not be listed at the prompt at all."""
    from ad_duckdb.sqlrun import PROMPT_ROWS

    con = duckdb.connect(empty_db)
    for i in range(PROMPT_ROWS + 5):
        con.execute(f"CREATE TABLE t_{i:02d}(i INT)")
    con.execute(f"CREATE TABLE wide({', '.join(f'c{i:02d} INT' for i in range(PROMPT_ROWS + 5))})")
    con.close()
    code, out = _terminal_session(empty_db, [".tables\n", "\\d wide\n", ".quit\n"])
    assert code == 0 and "note:" not in out, out
    answers = _answers(out)
    assert re.findall(r"^(t_\d+)\s+table", answers[".tables"], re.MULTILINE) == [
        f"t_{i:02d}" for i in range(PROMPT_ROWS + 5)], out
    assert re.findall(r"^(c\d+)\s+INTEGER", answers["\\d wide"], re.MULTILINE) == [
        f"c{i:02d}" for i in range(PROMPT_ROWS + 5)], out


def test_tables_with_a_pattern_lists_the_tables_it_matches(empty_db: str) -> None:
    """`.tables t_4%` (DuckDB's shell: the tables matching a LIKE pattern) and psql's `\\dt other` listed every table:
    the pattern was dropped without a word."""
    con = duckdb.connect(empty_db)
    con.execute("CREATE TABLE t_39(i INT); CREATE TABLE t_40(i INT); CREATE TABLE T_41(i INT); CREATE TABLE other(i INT)")
    con.execute("CREATE SCHEMA s; CREATE TABLE s.t_42(i INT); CREATE VIEW t_43 AS SELECT 1 AS i")
    con.close()
    code, out = _terminal_session(empty_db, [".tables t_4%\n", "\\dt other\n", ".tables nothing%\n", ".quit\n"])
    assert code == 0, out
    answers = _answers(out)
    assert re.findall(r"^(\S+)\s+(?:table|view)\s*$", answers[".tables t_4%"], re.MULTILINE) == [
        "T_41", "s.t_42", "t_40", "t_43"], out
    assert re.findall(r"^(\S+)\s+table\s*$", answers["\\dt other"], re.MULTILINE) == ["other"], out
    assert "no table or view matches 'nothing%'" in answers[".tables nothing%"], out


def test_a_dot_commands_pattern_may_be_in_quotes(empty_db: str) -> None:
    """DuckDB's shell takes a dot command's argument in quotes (`.schema "My Table"`, `.tables 'my%'`); here the
    quotes were part of the pattern, so it matched nothing and the prompt said no such table existed."""
    con = duckdb.connect(empty_db)
    con.execute('CREATE TABLE "My Table"(x INT); CREATE TABLE other(y INT)')
    con.close()
    code, out = _terminal_session(empty_db, ['.schema "My Table"\n', ".schema 'oth%'\n", ".tables 'my%'\n", ".quit\n"])
    assert code == 0, out
    answers = _answers(out)
    assert answers['.schema "My Table"'].strip() == 'CREATE TABLE "My Table"(x INTEGER);', out
    assert answers[".schema 'oth%'"].strip() == "CREATE TABLE other(y INTEGER);", out
    assert re.findall(r"^(.+?)\s+table\s*$", answers[".tables 'my%'"], re.MULTILINE) == ["My Table"], out


def _piped(db: str, script: str, *options: str, dash: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """``ad-duckdb sql DB < script``: standard input not a terminal, so no prompt. Run in this process (click's
    CliRunner, whose standard input is the script and no terminal): the tests are about what the command does with
    the script; the ones of a terminal or a Ctrl-C start a process."""
    return cli_in_process("sql", *options, db, *dash, input=script)


def test_a_piped_script_takes_the_prompts_dot_commands(tmp_path: Path) -> None:
    """A report script written for DuckDB's shell (`.mode csv` at its top, `.tables` to log what is there) failed
    whole on its first line with a parser error: a piped script or --file took SQL only, the prompt alone took the
    dot commands. A line starting with '.' inside a statement, string or comment is SQL, as in DuckDB's shell."""
    db = str(tmp_path / "r.duckdb")
    script = "\n".join([
        "-- the weekly report",
        ".mode csv",
        "SELECT 1 AS a, 'x' AS b;",
        "CREATE TABLE t(i INT, note VARCHAR);",
        ".tables",
        "\\d t",
        "SELECT",
        ".5 AS half, '",
        ".tables' AS s;",
        "/*",
        ".schema",
        "*/",
        ".mode json",
        "SELECT 2 AS c;",
    ])
    res = _piped(db, script, "--write")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "a,b\n1,x\n" in out and "name,kind\nt,table\n" in out, out
    assert re.search(r"^i,INTEGER,", out, re.MULTILINE) and re.search(r"^note,VARCHAR,", out, re.MULTILINE), out
    assert 'half,s\n0.5,"\n.tables"\n' in out, out
    assert "CREATE TABLE" not in out, out  # .schema was inside a comment
    assert json.loads(out[out.index("[\n"):]) == [{"c": 2}], out
    assert out.index("a,b") < out.index("name,kind") < out.index("half,s") < out.index('"c"'), out


def test_a_scripts_bad_dot_command_stops_it_and_names_the_line(tmp_path: Path) -> None:
    """As a failing statement stops a script: what came before ran and printed, nothing after runs, and the error
    names the line, which in a long report is what the user looks for."""
    db = str(tmp_path / "r.duckdb")
    duckdb.connect(db).close()
    res = _piped(db, "SELECT 1 AS first;\n\n.tabels\nSELECT 2 AS never;\n")
    assert res.returncode != 0
    assert "first" in res.stdout and "never" not in res.stdout, res.stdout
    assert res.stderr.startswith("Error: line 3: .tabels is not a command here"), res.stderr
    res = _piped(db, "SELECT 1 AS first;\n.mode xml\nSELECT 2 AS never;\n")
    assert res.returncode != 0 and "never" not in res.stdout
    assert "line 2: .mode xml: the formats are table, csv, json" in res.stderr, res.stderr
    res = _piped(db, "SELECT 1 AS one;\n.quit\nSELECT 2 AS two;\n")  # .quit ends a script, as in DuckDB's shell
    assert res.returncode == 0 and "one" in res.stdout and "two" not in res.stdout, res.stdout + res.stderr
    res = _piped(db, "-- only a comment\n")  # no error, as in psql: a note on stderr
    assert res.returncode == 0 and "no SQL statement to run" in res.stderr, res.stderr


def test_a_query_argument_or_file_may_be_a_dot_command(tmp_path: Path) -> None:
    """`duckdb DB ".tables"` lists the tables; here it was sent to DuckDB's parser, which refused the '.'."""
    from test_cli import run

    db = str(tmp_path / "r.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE tx(i INT)")
    con.close()
    assert re.search(r"^tx\s+table", run("sql", db, ".tables"), re.MULTILINE)
    report = tmp_path / "report.sql"
    report.write_text(".mode csv\nSELECT count(*) AS n FROM tx;\n")
    assert run("sql", db, "--file", str(report)) == "n\n0\n"


def test_read_runs_a_script_at_the_prompt_or_in_a_script(tmp_path: Path) -> None:
    """DuckDB's shell `.read FILE` (psql's `\\i FILE`): a team's saved report run from the prompt; before, the prompt
    said it was not a command, so the report's SQL had to be pasted in."""
    db = str(tmp_path / "r.duckdb")
    duckdb.connect(db).close()
    report = tmp_path / "report.sql"
    report.write_text(".mode csv\nSELECT 40 + 2 AS answer;\n")
    missing = tmp_path / "nowhere.sql"
    code, out = _terminal_session(db, [f".read {report}\n", "SELECT 'still csv' AS s;\n", f"\\i '{missing}'\n",
                                       ".quit\n"])
    assert code == 0, out
    answers = _answers(out)
    assert answers[f".read {report}"].replace("\r", "").startswith("answer\n42\n"), out
    assert "s\nstill csv" in answers["SELECT 'still csv' AS s;"].replace("\r", ""), out  # its .mode holds after
    assert answers[f"\\i '{missing}'"].startswith(f"Error: \\i: cannot read {missing}"), out
    # from a script, and a script that reads itself is stopped, not run until the stack overflows
    loop = tmp_path / "loop.sql"
    loop.write_text(f"SELECT 1 AS once;\n.read {loop}\n")
    res = _piped(db, f".read {report}\n")
    assert res.returncode == 0 and res.stdout == "answer\n42\n", res.stdout + res.stderr
    res = _piped(db, f".read {loop}\n")
    assert res.returncode != 0 and f".read {loop}" in res.stderr and "reads itself" in res.stderr, res.stderr


def test_a_dot_commands_quoted_argument_is_read_as_sqlite3s_shell_reads_it(empty_db: str, tmp_path: Path) -> None:
    """`.read "it's \\"q\\".sql"` looked for the file it's \\"q\\".sql: the backslashes before the quotes were kept,
    where DuckDB's shell and sqlite3's take them as escapes in double quotes (and every character as itself in single
    quotes). Text after a quoted path was read as part of it, or dropped."""
    for name, answer in (('it\'s "q".sql', 1), ("back\\slash.sql", 2), ("tab\tx.sql", 3)):
        (tmp_path / name).write_text(f".mode csv\nSELECT {answer} AS answer;\n")
    for line, answer in ((f'.read "{tmp_path}/it\'s \\"q\\".sql"', 1), (f"\\i '{tmp_path}/back\\slash.sql'", 2),
                         (f'.read "{tmp_path}/back\\\\slash.sql"', 2), (f'.read "{tmp_path}/tab\\tx.sql"', 3),
                         (f'.read "{tmp_path}/tab\\011x.sql"', 3)):
        res = _piped(empty_db, line + "\n")
        assert res.returncode == 0 and res.stdout == f"answer\n{answer}\n", (line, res.stdout + res.stderr)
    res = _piped(empty_db, f".read '{tmp_path}/back\\slash.sql' more.sql\n")
    assert res.returncode != 0 and res.stdout == "", res.stdout
    assert ".read takes one argument: 'more.sql' follows the quoted" in res.stderr, res.stderr


@pytest.mark.parametrize(("script", "kinds"), [
    ("SELECT 1;\n.tables\nSELECT 2;", ["sql", "command", "sql"]),
    ("SELECT '\n.tables\n';", ["sql"]),
    ("/* a\n.tables\n*/ SELECT 1;", ["sql"]),
    ("SELECT\n.5;", ["sql"]),
    ("-- header\n.mode csv\n-- trailer", ["command"]),
    ("  .mode csv\n\\dt", ["command", "command"]),
])
def test_a_scripts_steps_are_statements_and_dot_commands_in_order(script: str, kinds: list[str]) -> None:
    assert [s.kind for s in sqlshell.script_steps(script)] == kinds


def test_psql_patterns_list_and_describe_the_tables_they_match(tmp_path: Path) -> None:
    """psql's `\\dt tx*` and `\\d tx*` (any text as *, one character as ?): the first matched nothing (the pattern
    was read as ILIKE, where * is a star) and the second was sent to DESCRIBE, which refused it as a name."""
    db = str(tmp_path / "r.duckdb")
    con = duckdb.connect(db)
    con.execute('CREATE TABLE tx_a(i INT); CREATE TABLE "tx b"(amount DOUBLE); CREATE TABLE other(y INT)')
    con.execute("CREATE SCHEMA s; CREATE VIEW s.tx_c AS SELECT 1 AS k")
    con.close()
    res = _piped(db, "\\dt tx*\n\\d tx*\n\\d ?ther\n\\d nothing*\n")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert re.findall(r"^(\S+(?: b)?)\s+(?:table|view)\s*$", out, re.MULTILINE) == ["s.tx_c", "tx b", "tx_a"], out
    described = re.findall(r"^(.+):\n.*\n-+.*\n(\w+)", out, re.MULTILINE)
    assert described == [("tx b", "amount"), ("tx_a", "i"), ("s.tx_c", "k"), ("other", "y")], out
    assert "no table or view matches 'nothing*'" in out, out


def test_once_and_output_take_a_dot_commands_listing_too(tmp_path: Path) -> None:
    """`.once tables.csv` then `.tables` (or `.models`, `\\d t`): as in DuckDB's shell, the listing goes to the file.
    Here it went to the screen, and the .once waited for the next query, which then landed in the file instead."""
    db = str(tmp_path / "r.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE tx AS SELECT range AS i FROM range(3)")
    con.close()
    tables, cols, log = tmp_path / "tables.csv", tmp_path / "cols.csv", tmp_path / "log.txt"
    res = _piped(db, f".mode csv\n.once {tables}\n.tables\nSELECT 'screen' AS s;\n.once {cols}\n\\d tx\n"
                     f".output {log}\n.schema\n.output\nSELECT 'back' AS s;\n")
    assert res.returncode == 0, res.stderr
    assert tables.read_text().replace("\r\n", "\n") == "name,kind\ntx,table\n"
    assert "column_name" in cols.read_text() and "\ni," in cols.read_text(), cols.read_text()
    assert "CREATE TABLE tx" in log.read_text(), log.read_text()
    assert res.stdout.replace("\r\n", "\n") == "s\nscreen\n\ns\nback\n", res.stdout  # two results on the screen, kept apart


def test_a_psql_star_given_to_tables_says_that_tables_takes_like_patterns(tmp_path: Path) -> None:
    """`.tables tx*` said only "no table or view matches 'tx*'" beside a table tx_a: .tables and .schema take LIKE
    patterns (%), \\dt psql's (*)."""
    db = str(tmp_path / "r.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE tx_a(i INT)")
    con.close()
    res = _piped(db, ".tables tx*\n.schema tx*\n")
    assert res.returncode == 0, res.stderr
    for cmd in (".tables", ".schema"):
        assert (f"no table or view matches 'tx*' ({cmd} takes LIKE patterns, % for any text and _ for one character: "
                f"{cmd} tx%; \\dt takes psql's tx*)") in res.stdout, res.stdout


def test_timer_on_prints_each_statements_run_time_on_stderr(tmp_path: Path) -> None:
    """DuckDB's shell `.timer on`, the way an analyst sees what scoring costs; on stderr, so a csv result stays data.
    The value is not asserted (wall-clock time on a shared machine), only that each statement gets one."""
    db = str(tmp_path / "r.duckdb")
    duckdb.connect(db).close()
    res = _piped(db, ".mode csv\n.timer on\nSELECT 1 AS a;\nSELECT 2 AS b;\n.timer off\nSELECT 3 AS c;\n.timer\n")
    assert res.returncode == 0, res.stderr
    # a blank line between two results, also across a dot command (test_results_either_side_of_a_dot_command_...)
    assert res.stdout == "a\n1\n\nb\n2\n\nc\n3\n\noff\n", res.stdout
    assert re.fullmatch(r"(Run Time \(s\): real \d+\.\d{3}\n){2}", res.stderr), res.stderr
    res = _piped(db, ".timer maybe\n")
    assert res.returncode != 0 and "line 1: .timer maybe: say .timer on or .timer off" in res.stderr, res.stderr


def test_once_and_output_write_results_to_a_file(tmp_path: Path) -> None:
    """DuckDB's shell `.once top.csv` then a query: the analyst's way to hand the flagged rows to someone. Here it was
    "not a command", and in table mode a file would have held the prompt's first 40 rows only."""
    db = str(tmp_path / "r.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE t AS SELECT range AS i FROM range(100)")
    con.close()
    once, log = tmp_path / "once.csv", tmp_path / "log.txt"
    code, out = _terminal_session(db, [
        ".mode csv\n", f".once {once}\n", "SELECT i FROM t ORDER BY i;\n", "SELECT 'screen' AS s;\n",
        ".mode table\n", f"\\o {log}\n", "SELECT count(*) AS n FROM t;\n", "SELECT i FROM t;\n", ".output\n",
        "SELECT 'back' AS s;\n", f".once {tmp_path / 'no_such_dir' / 'x.csv'}\n", ".quit\n"])
    assert code == 0, out
    assert once.read_text().replace("\r\n", "\n") == "i\n" + "".join(f"{i}\n" for i in range(100))
    answers = _answers(out.replace("\r", ""))
    assert "s\nscreen" in answers["SELECT 'screen' AS s;"], out  # .once: the next result only
    assert answers["SELECT i FROM t ORDER BY i;"] == "", out
    logged = log.read_text()
    assert re.search(r"^\s*n\s*\n-+\s*\n100\s*\n", logged), logged
    assert len(re.findall(r"^\s*\d+\s*$", logged, re.MULTILINE)) == 101, logged  # every row, not the prompt's first 40
    assert "back" in answers["SELECT 'back' AS s;"], out
    assert answers[f".once {tmp_path / 'no_such_dir' / 'x.csv'}"].startswith("Error: .once: cannot write"), out
    # in a script too
    res = _piped(db, f".mode csv\n.once {once}\nSELECT 7 AS seven;\nSELECT 8 AS eight;\n")
    assert res.returncode == 0 and res.stdout.replace("\r\n", "\n") == "eight\n8\n", res.stdout + res.stderr
    assert once.read_text().replace("\r\n", "\n") == "seven\n7\n"


@pytest.mark.parametrize(("text", "ends"), [("SELECT 'é';", True), ("SELECT 'é' AS \"Montant (€)\";", True),
                                            ("SELECT '€;", False), ("SELECT 1 -- déjà;\n;", True)])
def test_the_prompt_knows_when_a_statement_with_accents_ends(text: str, ends: bool) -> None:
    """DuckDB's tokenizer counts UTF-8 bytes: read as characters, its offsets made the ';' that ends
    SELECT 'é'; look like no ';' at all, and the prompt waited for more."""
    assert sqlshell.complete(text) is ends


@pytest.mark.parametrize("script", ["", "\n  \n", "-- nothing to do this week\n"])
def test_a_piped_script_without_statements_is_no_error(tmp_path: Path, script: str) -> None:
    """A generator that wrote no statement (`gen_sql | ad-duckdb sql DB -`) exited 2 with a usage error, which
    stopped `set -e` scripts; psql and DuckDB's shell run an empty script and exit 0."""
    db = str(tmp_path / "r.duckdb")
    duckdb.connect(db).close()
    for options in ((), ("--format", "json")):
        for dash in ((), ("-",)):
            res = _piped(db, script, *options, dash=dash)
            assert res.returncode == 0 and res.stdout == "", (options, dash, res.stdout, res.stderr)
            assert "no SQL statement" in res.stderr, res.stderr  # said, on stderr
    f = tmp_path / "empty.sql"
    f.write_text(script)
    res = _piped(db, "", "--file", str(f))
    assert res.returncode == 0 and res.stdout == "", res.stdout + res.stderr


def test_json_and_csv_output_hold_only_the_results(tmp_path: Path) -> None:
    """`sql --format json "CREATE TABLE ...; INSERT ..." | jq` failed on the `ok` printed after statements without
    rows; with --format json or csv stdout holds the results alone (each statement with rows: its array, or its
    header and rows), the `ok` goes to stderr."""
    db = str(tmp_path / "r.duckdb")
    duckdb.connect(db).close()
    for fmt in ("json", "csv"):
        res = _piped(db, f"CREATE TABLE t_{fmt}(a INTEGER); INSERT INTO t_{fmt} VALUES (1), (2); SET threads = 1;",
                     "--write", "--format", fmt)
        assert res.returncode == 0 and res.stdout == "" and res.stderr == "ok\n", (fmt, res.stdout, res.stderr)
    res = _piped(db, "CREATE TEMP TABLE x AS SELECT 1 AS a; SELECT * FROM x; DROP TABLE x; SELECT 2 AS b;",
                 "--format", "json")
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert [json.loads(part) for part in res.stdout.split("\n\n")] == [[{"a": 1}], [{"b": 2}]], res.stdout
    res = _piped(db, ".mode json\nCREATE TEMP TABLE y(a INTEGER);\n")  # a script's own .mode: the same
    assert res.returncode == 0 and res.stdout == "" and res.stderr == "ok\n", res.stdout + res.stderr
    res = _piped(db, "\\d nope*\n", "--format", "csv")  # a dot command's note too
    assert res.returncode == 0 and res.stdout == "" and "no table or view matches 'nope*'" in res.stderr, res
    res = _piped(db, "CREATE TEMP TABLE y(a INTEGER);\n")  # the table format still answers on stdout, as psql
    assert res.returncode == 0 and res.stdout == "ok\n", res.stdout + res.stderr


def test_wide_characters_keep_the_table_columns_aligned(tmp_path: Path) -> None:
    """A CJK value takes two terminal columns per character, but the table padded and clipped by characters: the
    columns after a '日本語' cell (or under a header beside one) started further right than their header, and a
    60-character cell of them filled 120 columns. A combining accent (e + U+0301) takes none."""
    import unicodedata

    def width(text: str) -> int:
        return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
                   for c in text)

    db = str(tmp_path / "w.duckdb")
    duckdb.connect(db).close()
    res = _piped(db, "SELECT * FROM (VALUES ('日本語テキスト', 1), ('abc', 22), ('cafe' || chr(769), 3), "
                     "(repeat('語', 80), 4)) t(name, n);\n")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("name") and len(lines) == 6, res.stdout
    ends = {width(line.rstrip()) for line in lines if line.strip()}
    assert len(ends) == 1, res.stdout  # the n column (numbers: right-aligned) ends at one terminal column on every line
    assert all(width(line.rstrip()) <= 60 + 2 + 2 for line in lines), res.stdout  # a clipped cell: 60 columns at most
    assert "…" in lines[5], res.stdout


def test_tables_and_psql_patterns_list_the_attached_files_tables(tmp_path: Path) -> None:
    """`sql DB --attach lake.duckdb`, then `.tables`: only DB's own tables were listed, and `\\dt lake.*` or `\\d lake.*`
    said no table or view matched, though `\\d lake.main.tx` described it: the attached file, the reason for the
    option, looked empty. Its tables and views are listed as the sources are named, lake.main.tx."""
    db, lake = str(tmp_path / "m.duckdb"), str(tmp_path / "lake.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE own(a INTEGER)")
    con.close()
    con = duckdb.connect(lake)
    con.execute("CREATE TABLE tx(amount DOUBLE, note VARCHAR); CREATE VIEW big AS SELECT * FROM tx WHERE amount > 9")
    con.close()
    res = _piped(db, ".tables\n\\dt lake.*\n\\d lake.*\n.tables own\n", "--attach", lake)
    assert res.returncode == 0, res.stderr
    assert re.search(r"^lake\.main\.big\s+view\s*$", res.stdout, re.M), res.stdout
    assert len(re.findall(r"^lake\.main\.tx\s+table\s*$", res.stdout, re.M)) == 2, res.stdout  # .tables and \dt lake.*
    assert re.search(r"^lake\.main\.tx:\n.*\n-+.*\namount\s+DOUBLE.*\nnote\s+VARCHAR", res.stdout, re.M), res.stdout
    assert "no table or view matches" not in res.stdout, res.stdout
    assert res.stdout.rstrip().endswith("own   table"), res.stdout  # a pattern still picks DB's own


def test_the_up_arrow_recalls_a_statement_typed_over_lines_whole(empty_db: str, tmp_path: Path) -> None:
    """A statement typed over three lines came back one line at a time: the up arrow gave its last line alone
    ("  FROM range(3);"), which ran as a syntax error. DuckDB's shell and psql recall the whole statement."""
    up = "\x1b[A"
    code, out = _terminal_session(empty_db, ["SELECT sum(range)\n", "  AS total\n", "  FROM range(3);\n", f"{up}\n",
                                             ".quit\n"], history=tmp_path / "history")
    assert code == 0 and "Error" not in out, out
    assert len(re.findall(r"total\s*\n-+\s*\n\s*3\s*\n", out)) == 2, out


def test_a_statement_typed_over_lines_is_recalled_whole_in_a_later_session(empty_db: str, tmp_path: Path) -> None:
    """The history file holds a line per entry, so the statement kept whole came back as its lines, one at a time,
    in the next session."""
    history = tmp_path / "history"
    code, out = _terminal_session(empty_db, ["SELECT sum(range)\n", "  AS total FROM range(4);\n", ".quit\n"],
                                  history=history)
    assert code == 0, out
    up = "\x1b[A"
    code, out = _terminal_session(empty_db, [f"{up}{up}\n", ".quit\n"], history=history)  # past .quit: the SELECT
    assert code == 0 and "Error" not in out and re.search(r"total\s*\n-+\s*\n\s*6\s*\n", out), out


def test_schema_shows_the_attached_files_create_statements(tmp_path: Path) -> None:
    """`sql DB --attach lake.duckdb`, then `.schema`: only DB's own CREATE statements, while `.tables` and `\\d` listed
    the lake's tables. Each attached file's come after DB's, under a comment naming the file's database, since its
    statements name a table as its own file does (CREATE TABLE tx), which here is lake.main.tx."""
    db, lake = str(tmp_path / "m.duckdb"), str(tmp_path / "lake.duckdb")
    con = duckdb.connect(db)
    con.execute("CREATE TABLE own(a INTEGER)")
    con.close()
    con = duckdb.connect(lake)
    con.execute("CREATE TABLE tx(amount DOUBLE); CREATE VIEW big AS SELECT * FROM tx WHERE amount > 9")
    con.close()
    res = _piped(db, ".schema\n.schema lake.main.t%\n.schema own\n", "--attach", lake)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[:4] == ["CREATE TABLE own(a INTEGER);", "-- lake (attached)", "CREATE TABLE tx(amount DOUBLE);",
                         "CREATE VIEW big AS SELECT * FROM tx WHERE (amount > 9);"], res.stdout
    assert lines[4:] == ["-- lake (attached)", "CREATE TABLE tx(amount DOUBLE);", "CREATE TABLE own(a INTEGER);"], \
        res.stdout


def test_numbers_are_right_aligned_and_text_left_in_the_table() -> None:
    """Numbers were left-aligned like text, so 1234 over 1 read by its first digit; psql and DuckDB's shell
    right-align numeric columns (integers, decimals, floats: NULL too) and keep text, dates and booleans left. The
    padding counts terminal columns, so a CJK value beside a number keeps the columns straight."""
    res = _piped(":memory:", "SELECT * FROM (VALUES ('a', 1, 2.5::DOUBLE, 10.25::DECIMAL(6,2), DATE '2024-01-02', true), "
                             "('日本', 1234, NULL, 3.5, DATE '2024-03-04', false)) t(name, n, f, d, day, ok);\n")
    assert res.returncode == 0, res.stderr
    assert [line.rstrip() for line in res.stdout.splitlines()] == [
        "name     n     f      d  day         ok",
        "----  ----  ----  -----  ----------  -----",
        "a        1   2.5  10.25  2024-01-02  true",
        "日本  1234  NULL   3.50  2024-03-04  false",
    ], res.stdout


def _stdout_on_terminal(args: list[str], columns: int) -> tuple[int, str, str]:
    """``ad-duckdb sql ...`` with stdout on a real pseudo-terminal ``columns`` wide (stdin and stderr pipes); its
    exit code, what the terminal showed and stderr."""
    import fcntl
    import os
    import pty
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}  # the terminal's own width counts
    proc = subprocess.Popen([sys.executable, "-m", "ad_duckdb", "sql", *args], stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    out = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 120)
            assert ready, out.decode(errors="replace")
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the command ended: its side of the terminal is closed
                break
            if not chunk:
                break
            out += chunk
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
        os.close(master)
    return proc.returncode, out.decode().replace("\r\n", "\n"), err.decode()


# 14 columns of 9 characters each and a 3-character one: 13 * 11 + 4 = 147 terminal columns with their gaps
_WIDE = "SELECT " + ", ".join(f"'{c * 9}' AS col_{c}" for c in "abcdefghijklm") + ", 1 AS end_;"


def test_a_result_wider_than_the_terminal_hides_middle_columns(tmp_path: Path) -> None:
    """A result wider than the terminal wrapped each row over lines, the columns no longer under their names;
    DuckDB's shell hides the middle columns behind a '…' column and says so. On a terminal only: a pipe or a file
    gets every column, and so do csv and json."""
    db = str(tmp_path / "w.duckdb")
    duckdb.connect(db).close()
    code, out, err = _stdout_on_terminal([db, _WIDE], 80)
    assert code == 0, out + err
    lines = out.splitlines()
    assert len(lines) == 3 and all(len(line.rstrip()) <= 80 for line in lines), out
    names = lines[0].split()
    assert names[0] == "col_a" and names[-1] == "end_" and "…" in names, out  # the first and last columns kept
    hidden = 14 - (len(names) - 1)
    assert hidden > 0 and lines[2].split()[0] == "a" * 9 and lines[2].split()[-1] == "1", out
    assert lines[2].split()[names.index("…")] == "…", out
    assert f"{hidden} of 14 columns hidden" in err and "--format csv" in err and ".mode csv" in err, err
    first_hidden = "col_" + "abcdefghijklm"[names.index("…")]
    assert f"({first_hidden} … col_" in err, err  # the hidden ones named
    code, out, err = _stdout_on_terminal([db, _WIDE], 200)  # wide enough: every column, no note
    assert code == 0 and out.splitlines()[0].split()[-1] == "end_" and len(out.splitlines()[0].split()) == 14, out
    assert "hidden" not in err, err
    res = _piped(db, _WIDE)  # a pipe: every column
    assert res.returncode == 0 and len(res.stdout.splitlines()[0].split()) == 14 and "hidden" not in res.stderr, res
    code, out, err = _stdout_on_terminal([db, _WIDE, "--format", "csv"], 80)
    assert code == 0 and out.splitlines()[0].count(",") == 13, out


def test_the_prompt_hides_middle_columns_but_once_writes_them_all(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """At the prompt a wide result hides its middle columns to fit the terminal (COLUMNS, as the shell sets it,
    says how wide); `.once FILE` writes every column to the file."""
    db = str(tmp_path / "w.duckdb")
    duckdb.connect(db).close()
    monkeypatch.setenv("COLUMNS", "60")
    saved = tmp_path / "all.txt"
    code, out = _terminal_session(db, [_WIDE + "\n", f".once {saved}\n", _WIDE + "\n", ".quit\n"])
    assert code == 0, out
    table = out[out.index("end_;\n") + len("end_;\n"):].splitlines()
    assert table[0].split()[0] == "col_a" and table[0].split()[-1] == "end_" and "…" in table[0], out
    assert all(len(line.rstrip()) <= 60 for line in table[:3]), out
    assert re.search(r"note: \d+ of 14 columns hidden", out), out
    assert len(saved.read_text().splitlines()[0].split()) == 14, saved.read_text()


@pytest.mark.parametrize("script", [";", ";;", " ;\n;\n", "-- only this\n;\n"])
def test_a_piped_script_of_semicolons_alone_is_an_empty_script(tmp_path: Path, script: str) -> None:
    """A script of ';' alone (a generator's empty statement) exited 2 with "No SQL statement to run", while one of
    comments alone ran as empty: both are empty scripts, exit 0 with the note on stderr, as in psql."""
    db = str(tmp_path / "s.duckdb")
    duckdb.connect(db).close()
    res = _piped(db, script)
    assert res.returncode == 0 and res.stdout == "" and "no SQL statement" in res.stderr, res
    f = tmp_path / "semi.sql"
    f.write_text(script)
    res = _piped(db, "", "--file", str(f))
    assert res.returncode == 0 and res.stdout == "" and "no SQL statement" in res.stderr, res
    res = _piped(db, f".mode csv\n{script}\nSELECT 7 AS n;\n")  # among dot commands and statements: skipped
    assert res.returncode == 0 and res.stdout == "n\n7\n", res


def test_the_prompt_shows_where_a_syntax_error_is(empty_db: str) -> None:
    """DuckDB's parser error points at the mistake (LINE 2: ... and a ^ under it); the prompt joined it into one line
    and dropped the ^, so a long statement's typo had to be found by eye. The prompt shows the pointer as DuckDB's
    shell and psql do; a script's errors stay one line, for logs and greps. A ';' alone at the prompt is no error."""
    code, out = _terminal_session(empty_db, ["SELEC 1;\n", "SELECT 1 AS a,\n", "  2 FRM t;\n", ";\n",
                                             "SELECT 3 AS b;\n", ".quit\n"])
    assert code == 0, out
    assert 'Error: Parser Error: syntax error at or near "SELEC"\nLINE 1: SELEC 1;\n        ^^^^^\n' in out, out
    assert 'Error: Parser Error: syntax error at or near "t"\nLINE 2:   2 FRM t;\n                ^\n' in out, out
    after = out[out.index("FRM t;"):]
    assert after.count("\nError: ") == 1 and re.search(r"b\n-\n3\n", after), out  # the ';' alone: nothing said
    res = _piped(empty_db, "SELECT 1 AS a,\n  2 FRM t;\n")
    assert res.returncode == 1 and res.stderr.count("\n") == 1, res.stderr
    assert 'syntax error at or near "t" LINE 2:   2 FRM t;' in res.stderr, res.stderr


@pytest.mark.parametrize("inherited", [signal.SIG_DFL, signal.SIG_IGN], ids=["sigint-default", "sigint-ignored"])
def test_ctrl_c_in_a_scoring_query_at_the_prompt_stops_the_statement_only(tmp_path: Path, inherited: int) -> None:
    """Ctrl-C typed while anomaly_score ran (where a scoring query spends its time) printed "Error: Invalid Input
    Error: Python exception occurred while executing the UDF: KeyboardInterrupt:", as if the statement were wrong.
    And a prompt started with SIGINT ignored (a wrapper script's `trap '' INT`, a test run started in the background
    as CI runners do: the child inherits the ignore) did nothing at all on Ctrl-C: the query ran on, which is how
    this test once waited 120 s for an answer in CI. Both dispositions are set here, whatever this run inherited.
    A real terminal: the key goes through its line discipline."""
    import fcntl
    import os
    import pty
    import select
    import termios

    import ad_duckdb

    from conftest import FAST, make_transactions

    db = str(tmp_path / "m.duckdb")
    con = ad_duckdb.connect(db)
    make_transactions(con, n=600)
    ad_duckdb.train(con, "tx_ae", "transactions", features=["count", "amount"], **FAST)
    con.close()
    master, slave = pty.openpty()

    def own_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        signal.signal(signal.SIGINT, inherited)

    proc = subprocess.Popen([sys.executable, "-m", "ad_duckdb", "sql", db], stdin=slave, stdout=slave, stderr=slave,
                            preexec_fn=own_terminal, env={**os.environ, "AD_DUCKDB_HISTORY": ""})
    os.close(slave)
    out = b""

    def read(wait: float) -> bytes | None:
        """What the session wrote within ``wait`` seconds (b"": nothing); None once it ended."""
        if not select.select([master], [], [], wait)[0]:
            return b""
        try:
            return os.read(master, 4096) or None
        except OSError:  # the session ended: its side of the terminal is closed
            return None

    def until_prompt(start: int) -> None:
        nonlocal out
        while not out[start:].endswith(b"ad> "):
            chunk = read(120)  # a hang guard only
            assert chunk, f"no prompt ({'the session ended' if chunk is None else 'no answer within 120 s'}); " \
                          f"transcript: {out.decode(errors='replace')}"
            out += chunk

    try:
        until_prompt(0)
        typed = len(out)
        os.write(master, b"SELECT sum(anomaly_score('tx_ae', r % 50, r % 900)) FROM range(1000000000) t(r);\n")
        ticks = os.sysconf("SC_CLK_TCK")
        while True:  # CPU time, not the clock (a loaded machine): well into the scoring, past opening and binding
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            if (int(fields[11]) + int(fields[12])) / ticks > 3:
                break
            chunk = read(0.1)
            assert chunk is not None and not (out + chunk)[typed:].endswith(b"ad> "), \
                f"the statement ended before the Ctrl-C; transcript: {(out + (chunk or b'')).decode(errors='replace')}"
            out += chunk
        pressed = len(out)
        os.write(master, b"\x03")
        until_prompt(pressed)  # whatever the statement's end said: asserted below, not waited for
        answer = out[pressed:].decode(errors="replace")
        os.write(master, b"SELECT 'after' AS still;\n.quit\n")
        while (chunk := read(120)) is not None:
            assert chunk, f"no answer within 120 s; transcript: {out.decode(errors='replace')}"
            out += chunk
        assert proc.wait(timeout=120) == 0, out.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
    text = out.decode(errors="replace")
    assert "Error: interrupted (Ctrl-C); the statement stopped, the session goes on." in answer, text
    assert "Invalid Input" not in answer and "KeyboardInterrupt" not in answer, text
    assert re.search(r"still\s*\r\n-+\s*\r\nafter\s*\r\n", text), text  # the session went on: the next statement ran


# Runs the real command with its watcher thread held off (the wrapper below) until the test creates the file
# HOLD_GATE names, as a loaded machine may hold it off; the watcher removes the file once it handled the Ctrl-C.
_HELD_WATCHER = """
import os, sys, time
from ad_duckdb import interrupts
handle = interrupts.on_wakeup
def held(got):
    if 2 in got:  # SIGINT's number
        while not os.path.exists(os.environ["HOLD_GATE"]):
            time.sleep(0.01)
    handle(got)
    if 2 in got:
        os.unlink(os.environ["HOLD_GATE"])
interrupts.on_wakeup = held
sys.argv[0] = "ad-duckdb"
from ad_duckdb.launch import main
main()
"""


def test_a_late_ctrl_c_watcher_does_not_interrupt_the_next_statement(tmp_path: Path, empty_db: str) -> None:
    """The watcher thread turns a Ctrl-C into DuckDB's interrupt while the main thread turns it into Python's
    KeyboardInterrupt. Held off long enough (a loaded machine, the GIL), it interrupted the statement typed after
    the Ctrl-C, as DuckDB clears an interrupt only when a statement starts: that statement failed with "interrupted"
    though no key was pressed while it ran. Here the statement reads a FIFO, so it runs until the test writes it,
    and the watcher is held until the statement began (or, as the prompt now waits for it, for a few seconds)."""
    import errno
    import fcntl
    import os
    import pty
    import select
    import termios
    import time

    fifo = tmp_path / "rows.csv"
    os.mkfifo(fifo)
    gate = tmp_path / "gate"
    master, slave = pty.openpty()

    def own_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    proc = subprocess.Popen([sys.executable, "-c", _HELD_WATCHER, "sql", empty_db], stdin=slave, stdout=slave,
                            stderr=slave, preexec_fn=own_terminal,
                            env={**os.environ, "AD_DUCKDB_HISTORY": "", "HOLD_GATE": str(gate)})
    os.close(slave)
    out = b""

    def until_prompt(start: int) -> None:
        nonlocal out
        while not out[start:].endswith(b"ad> "):
            assert select.select([master], [], [], 120)[0], f"no prompt within 120 s: {out.decode(errors='replace')}"
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the session ended
                chunk = b""
            assert chunk, f"the session ended: {out.decode(errors='replace')}"
            out += chunk

    def writer(wait: float) -> int | None:
        """The FIFO's write end once the statement opened it to read, within ``wait`` seconds; None if it did not."""
        deadline = time.monotonic() + wait
        while True:
            try:
                return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as e:
                if e.errno != errno.ENXIO or time.monotonic() > deadline:  # ENXIO: no reader yet
                    if e.errno != errno.ENXIO:
                        raise
                    return None
            time.sleep(0.01)

    try:
        until_prompt(0)
        pressed = len(out)
        wait_reading_terminal(proc.pid, out)  # a Ctrl-C before readline waits would wait for the next key
        os.write(master, b"\x03")  # at the prompt: the main thread takes it at once, the watcher is held
        until_prompt(pressed)
        typed = len(out)
        os.write(master, f"SELECT count(*) AS n FROM read_csv('{fifo}', columns={{'a': 'INT', 'b': 'INT'}}, "
                         "header=false, auto_detect=false);\n".encode())
        # the statement started (before the fix), or it waits for the watcher (after it: up to 30 s, caught_up's
        # timeout, after which it starts all the same: the wait here is shorter, and longer than the 5 s that
        # timeout was, which a loaded machine could hold the watcher off for)
        fd = writer(6)
        gate.touch()
        deadline = time.monotonic() + 120
        while gate.exists():  # the watcher handled the Ctrl-C: its interrupt, if any, was given
            assert time.monotonic() < deadline, "the watcher never handled the Ctrl-C"
            time.sleep(0.01)
        if fd is None:
            fd = writer(120)
        assert fd is not None, f"the statement never read the FIFO: {out.decode(errors='replace')}"
        os.set_blocking(fd, True)
        os.write(fd, b"1,2\n3,4\n5,6\n")
        os.close(fd)
        until_prompt(typed)
        answer = out[typed:].decode(errors="replace")
        os.write(master, b".quit\n")
        assert proc.wait(timeout=120) == 0, out.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert "interrupted" not in answer, answer
    assert re.search(r"n\s*\r\n-+\s*\r\n\s*3\s*\r\n", answer), answer


def test_caught_up_waits_for_the_watcher_to_handle_the_signals_sent_before() -> None:
    """The prompt's wait after a Ctrl-C (interrupts.caught_up), on a real pipe and watcher thread held off half a
    second: it returns once the watcher handled the signal already in the pipe (noted it, interrupted the tracked
    connection), not before and not at its timeout; a statement run after it is not interrupted."""
    import os
    import threading

    r, w = os.pipe()
    con = interrupts.track(duckdb.connect())
    release = threading.Event()

    def watcher() -> None:
        release.wait()
        while got := os.read(r, 64):
            interrupts.on_wakeup(got)

    thread = threading.Thread(target=watcher, daemon=True)
    thread.start()
    try:
        assert interrupts.received is None
        os.write(w, bytes([signal.SIGINT]))  # what Python's C-level handler writes when a Ctrl-C comes
        interrupts.watched_by(w)
        threading.Timer(0.5, release.set).start()
        # Why a long timeout and no clock: the wait must end because the watcher caught up (its answer), on a
        # loaded machine too, and not before the watcher was let go
        assert interrupts.caught_up(timeout=120) is True  # the watcher read the mark: not the timeout
        assert release.is_set()  # not before the watcher ran
        assert interrupts.received == signal.SIGINT  # the watcher handled the Ctrl-C before caught_up returned
        assert con.sql("SELECT count(*) FROM range(1000)").fetchall() == [(1000,)]
    finally:
        release.set()
        interrupts.received = None
        interrupts._pipe = None
        os.close(w)  # the watcher reads the end and stops
        thread.join(10)
        os.close(r)
        con.close()


def test_caught_up_without_a_watcher_does_not_wait() -> None:
    """The library's users (no CLI, so no watcher thread) run sqlshell.interact too: nothing to wait for."""
    assert interrupts._pipe is None
    assert interrupts.caught_up() is True  # at once: nothing written, no wait (its answer with a watcher: waited)


def test_a_wide_middle_column_hides_only_itself_where_the_narrow_ones_beside_it_fit(tmp_path: Path) -> None:
    """Columns were taken from either end in turn until one did not fit, so a wide column stopped the narrow ones
    past it too: (id, a 30-wide note, f, t) on a 40-wide terminal showed `id … t`, hiding f, which fit. Each end
    goes on taking columns while the other cannot; the hidden ones stay one run in the middle."""
    db = str(tmp_path / "n.duckdb")
    duckdb.connect(db).close()
    query = f"SELECT 1 AS id, '{'x' * 30}' AS note, 2.5 AS f, 'abc' AS t;"
    lines, err = _fitted_table(db, query, 40)
    assert lines[0].split() == ["id", "…", "f", "t"] and lines[2].split() == ["1", "…", "2.5", "abc"], lines
    assert "1 of 4 columns hidden (note)" in err, err
    # a single column wider than the terminal is shown whole (nothing to hide), and so is a narrow terminal's first
    code, out, err = _stdout_on_terminal([db, f"SELECT '{'y' * 50}' AS only;"], 20)
    assert code == 0 and out.splitlines()[2] == "y" * 50 and "hidden" not in err, out + err
    code, out, err = _stdout_on_terminal([db, query], 5)
    assert code == 0 and out.splitlines()[0].split() == ["id", "…"], out + err
    assert "3 of 4 columns hidden (note … t)" in err, err


def test_a_first_column_wider_than_the_terminal_is_cut_to_fit_beside_the_hidden_ones(tmp_path: Path) -> None:
    """The first column is kept however wide, and was printed whole beside the '…' column: a 50-wide first column on
    a 30-wide terminal wrapped every row over lines, the '…' and the header no longer above their values. Its values
    (and name) are cut with '…' to what the terminal leaves, as DuckDB's shell does, and the note says so and how
    to see them whole."""
    db = str(tmp_path / "f.duckdb")
    duckdb.connect(db).close()
    query = f"SELECT '{'ab ' * 16}z' AS description, 1 AS id, 2.5 AS score UNION ALL SELECT 'short', 2, 3.5;"
    lines, err = _fitted_table(db, query, 30)
    assert len(lines) == 4 and lines[0].split()[-1] == "…", lines
    assert lines[2].rstrip().endswith("…") and "z" not in lines[2], lines
    assert lines[2].startswith("ab ab") and lines[3].split() == ["short", "…"], lines
    assert "2 of 3 columns hidden (id … score)" in err and "the values of 'description' cut" in err, err
    assert "--format csv" in err and ".mode csv" in err, err
    # wide enough for the first column and the '…': whole, as before
    code, out, err = _stdout_on_terminal([db, query], 60)
    assert code == 0 and out.splitlines()[2].startswith("ab " * 16 + "z"), out + err
    assert "cut" not in err, err


def _fitted_table(db: str, query: str, columns: int) -> tuple[list[str], str]:
    """The lines ``ad-duckdb sql DB QUERY`` shows on a terminal ``columns`` wide, each checked to fit it, and stderr."""
    code, out, err = _stdout_on_terminal([db, query], columns)
    assert code == 0, out + err
    lines = out.splitlines()
    assert all(len(line.rstrip()) <= columns for line in lines), out
    return lines, err


def test_results_either_side_of_a_dot_command_are_kept_apart_in_csv_and_json(tmp_path: Path) -> None:
    """README: with csv or json, "a blank line between consecutive statements' results". A dot command between two
    statements (`.timer off`, `.tables` logging what is there) dropped it, so a CSV reader took the second result's
    header for a row of the first."""
    db = str(tmp_path / "r.duckdb")
    duckdb.connect(db).execute("CREATE TABLE t AS SELECT 1 AS i").close()
    res = _piped(db, "SELECT 1 AS a;\n.timer off\nSELECT 2 AS b;\n.tables\nSELECT 3 AS c;\n", "--format", "csv")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "a\n1\n\nb\n2\n\nname,kind\nt,table\n\nc\n3\n", res.stdout
    res = _piped(db, "SELECT 1 AS a;\n.timer off\nSELECT 2 AS b;\n", "--format", "json")
    assert res.returncode == 0, res.stderr
    assert res.stdout == '[\n {\n  "a": 1\n }\n]\n\n[\n {\n  "b": 2\n }\n]\n', res.stdout
