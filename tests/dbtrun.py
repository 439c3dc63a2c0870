"""`dbt <args>` run in this process with dbt-core's programmatic runner (dbtRunner), for tests that read its output.

Why: a `dbt` subprocess spends ~2 s of CPU importing dbt, dbt-duckdb, torch and ad_duckdb before it reads the
project; the tests run dozens. The real dbt runs all the same (its command line parsed by the same click commands,
the same adapter, plugin, macros and Python models); only the interpreter is shared. What a separate process gave
for free is rebuilt per call, so no run leaks into the next or into the test:

- the environment: `DBT_*` variables of the developer are left out, as the subprocess did, and usage stats are off;
- the working directory: the project folder, for `--profiles-dir .`;
- the output: dbt's console log and anything printed go to the returned stdout/stderr, as a process's would;
- warnings: Python's default filters and printing (pytest's "error" filter and recorder are set aside), and
  ad_duckdb's relay of notes to dbt's logger (a process-wide hook) is undone afterwards;
- dbt's flags and event loggers are put back as they were;
- dbt-duckdb's class-level environment (the open DuckDB database of the run) is closed, so the test opens the file
  on its own terms and the next run opens its own project's file.

A new project folder's first run starts from a parse of the same project and profile with none of its files
(`_seed_partial_parse`): dbt then parses only the project's own files, not the ~500 macros of dbt and dbt-duckdb that
every full parse reads (~1 s of CPU a run), as it does in a user's folder from the second run on.

Tests about the `dbt` executable itself (a fresh interpreter's exit, what it prints at shutdown) keep a subprocess:
test_dbt.run_dbt_process.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import hashlib
import io
import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

import dbt.flags
from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.cli.main import dbtRunner
from dbt_common.events.event_manager_client import get_event_manager


@contextlib.contextmanager
def _clean_env() -> Iterator[None]:
    saved = dict(os.environ)
    # Why: a developer's DBT_PROFILES_DIR or DBT_TARGET must not redirect the run
    for key in [k for k in os.environ if k.startswith("DBT_")]:
        del os.environ[key]
    os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"  # no network
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _python_default_warnings() -> Iterator[None]:
    """Warnings as a fresh `python` shows them: printed to stderr once per place, deprecations hidden."""
    with warnings.catch_warnings():  # restores filters and showwarning (ad_duckdb.dbtnotes replaces it) on exit
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.simplefilter("ignore", category)
        warnings.showwarning = warnings._showwarning_orig  # type: ignore[attr-defined]  # not pytest's recorder
        yield


@contextlib.contextmanager
def _dbt_globals_kept() -> Iterator[None]:
    """dbt's process-wide flags and event manager as they were: a later in-process call (train_model reads the
    flags, e.g. EMPTY after a `dbt build --empty`) must not see this run's, nor log to its folder."""
    flags = dbt.flags.get_flags()
    manager = get_event_manager()
    loggers, callbacks = list(manager.loggers), list(manager.callbacks)
    try:
        yield
    finally:
        dbt.flags.set_flags(flags)
        for logger in manager.loggers:
            python_logger = getattr(logger, "_python_logger", None)
            if logger not in loggers and python_logger is not None:
                for handler in list(python_logger.handlers):  # logs/dbt.log's file, closed as at a process's exit
                    handler.close()
                    python_logger.removeHandler(handler)
        manager.loggers[:] = loggers
        manager.callbacks[:] = callbacks


class _LoopsMade(asyncio.DefaultEventLoopPolicy):
    """The default policy, keeping the loops it makes."""

    def __init__(self) -> None:
        super().__init__()
        self.made: list[asyncio.AbstractEventLoop] = []

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        loop = super().new_event_loop()
        self.made.append(loop)
        return loop


@contextlib.contextmanager
def _thread_loops_closed() -> Iterator[None]:
    """Close the event loops dbt-duckdb makes for each of its threads (environments.ensure_event_loop), as a process's
    exit did. Why: left open, each was found by the garbage collector during some later test, whose warnings-as-errors
    then failed it with "unclosed event loop" and its sockets."""
    previous = asyncio.get_event_loop_policy()
    policy = _LoopsMade()
    asyncio.set_event_loop_policy(policy)
    try:
        yield
    finally:
        asyncio.set_event_loop_policy(previous)
        for loop in policy.made:
            if not loop.is_running():
                loop.close()


def _close_duckdb_environment() -> None:
    """Close the database dbt-duckdb keeps open at class level after a run (a process's exit closed it)."""
    with DuckDBConnectionManager._LOCK:
        env = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
        DuckDBConnectionManager._LOGGED_MESSAGES.clear()  # "once per dbt execution"
    if env is not None:
        env.close()


# dbt's commands that parse the project (deps, debug, clean do not)
_PARSING = {"build", "run", "test", "compile", "parse", "run-operation", "seed", "snapshot", "show", "ls", "list"}
# (dbt_project.yml, profiles.yml) -> the folder of a parse of that project with no files of its own; None when seen
# once only (a parse made for a project run once would cost more than it saves) or when that parse failed
_PARSED: dict[str, Path | None] = {}
_SEEN: set[str] = set()


def _parse_key(args: list[str], cwd: Path) -> str | None:
    """What a full parse of ``cwd``'s files depends on besides the files, when a parse of none of them can stand in."""
    if not args or args[0] not in _PARSING or (cwd / "target" / "partial_parse.msgpack").exists():
        return None
    # Why these left out: --vars, --target, a profile elsewhere change the parse's checks (dbt would say "Unable to do
    # partial parsing" and parse it all); packages add projects of their own
    if {"--vars", "--target", "-t", "--profile", "--no-partial-parse"} & set(args) or \
            "--profiles-dir" not in args or args[args.index("--profiles-dir") + 1:][:1] != ["."]:
        return None
    if any((cwd / name).exists() for name in ("packages.yml", "dependencies.yml", "dbt_packages")):
        return None
    try:
        return hashlib.sha256((cwd / "dbt_project.yml").read_bytes() + b"\0" + (cwd / "profiles.yml").read_bytes()
                              ).hexdigest()
    except OSError:
        return None


def _seed_partial_parse(args: list[str], cwd: Path) -> None:
    """Copy into ``cwd``'s target/ the partial_parse.msgpack of a parse of the same project and profile with no models,
    macros or tests of its own: dbt compares each file's checksum with the saved ones, so it parses all of ``cwd``'s
    own files (each one new to it) and takes the macros of dbt and dbt-duckdb, unchanged, from the saved parse."""
    key = _parse_key(args, cwd)
    if key is None:
        return
    if key not in _SEEN:
        _SEEN.add(key)
        return
    if key not in _PARSED:
        root = Path(tempfile.mkdtemp(prefix="dbt_parsed_"))
        atexit.register(shutil.rmtree, root, True)
        for name in ("dbt_project.yml", "profiles.yml"):
            shutil.copy(cwd / name, root / name)
        parsed = _invoke(["parse", "--profiles-dir", "."], root).returncode == 0
        _PARSED[key] = root if parsed and (root / "target" / "partial_parse.msgpack").is_file() else None
    saved = _PARSED[key]
    if saved is None:
        return
    (cwd / "target").mkdir(exist_ok=True)
    shutil.copy(saved / "target" / "partial_parse.msgpack", cwd / "target" / "partial_parse.msgpack")


def run_dbt(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """`dbt <args>` in ``cwd``; the exit code is the dbt command line's (0 ok, 1 failed, 2 an error dbt raised)."""
    _seed_partial_parse(args, cwd)
    return _invoke(args, cwd)


def _invoke(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    out, err = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    with _clean_env(), _python_default_warnings(), _dbt_globals_kept(), _thread_loops_closed(), \
            contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        os.chdir(cwd)
        try:
            result = dbtRunner().invoke(list(args))
        finally:
            os.chdir(previous)
            _close_duckdb_environment()
    # dbt's own log already said what failed ("Encountered an error: ..."), as the command line prints it
    code = 0 if result.success else 2 if result.exception is not None else 1
    return subprocess.CompletedProcess(["dbt", *args], code, out.getvalue(), err.getvalue())
