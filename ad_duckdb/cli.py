"""The ``ad-duckdb`` command: the group, its commands (each family in a module of its own) and ``main``. Errors
become one readable line (``click.ClickException``, clifail) at this boundary."""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
from typing import Any, NoReturn

import click

from . import (
    clinotes,
    comparecmd,
    evaluatecmds,
    explaincmd,
    filecmds,
    interrupts,
    lifecycle,
    optionwords,
    outputerrors,
    pysource,
    repaircmds,
    scorecmd,
    showcmds,
    sqlcmd,
    stdfds,
    traincmd,
    usageerrors,
    versioncmds,
)
from .clicommand import _Command
from .clifail import (
    EXIT_CODES_HELP,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    _failure,
    _interrupted,
    _interrupted_starting,
    _reader_gone,
    _unencodable,
)
from .clinotes import _MADE_ERROR
from .exceptions import AdDuckDBWarning, is_interrupt
from .servecmd import serve
from .utf8text import as_utf8


def _finite_wait(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """--wait's value, refused (exit 2) unless finite. Why: click's range lets nan through (no comparison holds for
    it), and a job with --wait nan (or inf, AD_DUCKDB_WAIT=inf) said "waiting up to nans" and waited for ever."""
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is no number of seconds; give the longest wait, e.g. --wait 600.", ctx, param)
    return value


class _Group(click.Group):
    command_class = _Command

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        # Why: click turns a KeyboardInterrupt (a SIGTERM too, interrupts.Terminated) while it reads the arguments
        # into "Aborted!" and exit 1, the code of any other failure; invoke's handling has not begun
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as e:  # the group's own (--wait x): the Error line first, as for a command's
            raise usageerrors.leading(e) from e
        except KeyboardInterrupt as e:
            raise _interrupted_starting() from e

    def invoke(self, ctx: click.Context) -> Any:
        # Why here: click turns a KeyboardInterrupt into a bare "Aborted!" with exit 1 (any other error), and DuckDB's
        # own answer to Ctrl-C in a query reached the user as a RuntimeError traceback.
        shell = pysource.COMMAND_LINE.set(True)
        try:
            return super().invoke(ctx)
        except click.UsageError as e:  # a command's arguments or options: the Error line first (usageerrors)
            raise usageerrors.leading(e) from e
        except click.ClickException as e:
            # not one that says what was written already
            if is_interrupt(e) and e.exit_code not in (EXIT_INTERRUPTED, EXIT_TERMINATED):
                raise _interrupted() from e
            raise
        except AdDuckDBWarning as e:  # a note made an error (_warn) in a command without _notes (show, list)
            raise _failure(f"{e}{_MADE_ERROR}") from e
        except BrokenPipeError:
            # Why here: click answers a closed pipe with exit 1, the code of any other error.
            raise SystemExit(_reader_gone()) from None
        except OSError as e:
            if outputerrors.is_output_error(e):  # outside _open (export DB MODEL -): a traceback
                raise click.ClickException(outputerrors.output_failed(e)) from e
            raise
        except UnicodeEncodeError as e:
            # Why: a cron job's locale (Latin-1, or PYTHONIOENCODING) cannot print every value; a traceback there
            # neither names the value nor the fix.
            raise _unencodable(e) from e
        except BaseException as e:
            if is_interrupt(e):
                raise _interrupted() from e
            raise
        finally:
            pysource.COMMAND_LINE.reset(shell)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES_HELP)
@click.version_option(package_name="ad_duckdb")
@click.option("--wait", type=click.FloatRange(min=0), default=0, envvar="AD_DUCKDB_WAIT", show_envvar=True,
              callback=_finite_wait,
              help="When another process holds the database file (DuckDB allows one writer), retry for up to this "
                   "many seconds instead of failing at once (exit code 4), saying so on stderr (a note naming the holder's "
                   "PID).  [default: 0]")
@click.option("--who", metavar="NAME", envvar=lifecycle.USER_VAR, show_envvar=True,
              help="Who the changelog (`ad-duckdb history`, ad_model_log) names for what this command stores, promotes, "
                   "rolls back or drops, e.g. --who airflow:nightly_retrain; default: the operating system's user.")
@click.pass_context
def cli(ctx: click.Context, wait: float, who: str | None) -> None:
    """Anomaly detection inside DuckDB: train an autoencoder on a table, store it in the same
    database, and score rows from SQL.

    \b
    Quick start (example data: from the repository's folder, or an sdist's, which carries examples/):
      python examples/transactions/generate.py warehouse.duckdb
      ad-duckdb train warehouse.duckdb tx_ae transactions -f count -f amount
      ad-duckdb score warehouse.duckdb tx_ae transactions --top 10
      ad-duckdb sql warehouse.duckdb "SELECT *, anomaly_score('tx_ae', count, amount) AS s FROM transactions ORDER BY s DESC LIMIT 5"
    """
    # the library's messages name the command line's flags (--tz), not Python's keywords (optionwords)
    spoken = optionwords.SURFACE.set("cli")
    ctx.call_on_close(lambda: optionwords.SURFACE.reset(spoken))
    if who is not None:
        token = lifecycle.BY.set(who)
        # Why reset: a process running several commands (a test, a notebook's CliRunner) must not name this one's
        # --who for the next
        ctx.call_on_close(lambda: lifecycle.BY.reset(token))


# Each command in a module of its own (a family of them: showcmds, evaluatecmds, filecmds, versioncmds). In this
# order: --help sorts them, but the examples of each command's --help, run one after the other as written
# (tests/test_cli.py), build on the ones before (compare's tx_ae@1 before drop's example drops it).
for _command in (traincmd.train, scorecmd.score, showcmds.list_cmd, showcmds.show, comparecmd.compare, showcmds.drop,
                 sqlcmd.sql, explaincmd.explain, evaluatecmds.evaluate, evaluatecmds.threshold,
                 evaluatecmds.check_threshold, filecmds.export_cmd, filecmds.import_cmd, filecmds.dbt_package, serve,
                 *versioncmds.COMMANDS, *repaircmds.COMMANDS):  # promote, rollback, history, restore-thresholds
    cli.add_command(_command)


def main() -> None:
    clinotes.take_warning_filters()
    stdfds.hold_closed()  # before any file is opened: one must not take a closed stdout's or stderr's number
    outputerrors.mark_stdout()
    try:
        _watch_ctrl_c()
        args = [as_utf8(a, sys.getfilesystemencoding(), f"argument {i}") for i, a in enumerate(sys.argv[1:], 1)]
    except ValueError as e:
        sys.stderr.write(f"Error: {e}\n")
        raise SystemExit(click.UsageError.exit_code) from None
    except KeyboardInterrupt:
        # Why: SIGTERM's handler is in place from _watch_ctrl_c on, and one landing here (a loaded machine spends a
        # while starting the watcher thread) printed a traceback and exited 1
        err = _interrupted_starting()
        err.show()
        raise SystemExit(err.exit_code) from None
    try:
        cli(args=args, prog_name="ad-duckdb")
    except SystemExit as e:
        # Why flush here: output still buffered is otherwise written at exit, where a closed pipe prints
        # "Exception ignored ... BrokenPipeError" and exits 120.
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            raise SystemExit(_reader_gone() if e.code in (0, None) else e.code) from None
        except OSError as full:
            if e.code not in (0, None) or not outputerrors.is_output_error(full):
                raise
            _output_error_exit(full)
        raise
    except BrokenPipeError:  # stderr's reader gone too (`2>&1 | head`), as click printed an error
        raise SystemExit(_reader_gone(sys.stderr)) from None
    except OSError as e:  # --help into a full disk: click writes it before any command runs
        if not outputerrors.is_output_error(e):
            raise
        _output_error_exit(e)


def _watch_ctrl_c() -> None:
    """Make Ctrl-C stop a running DuckDB query at once: Python's handler only raises KeyboardInterrupt when the main
    thread runs Python again, and DuckDB notices the signal itself only now and then, so a long query ran on.

    Why a wakeup fd: the C-level handler writes to it in whichever thread the signal lands, even while the main
    thread waits in DuckDB without the GIL; a thread reading it interrupts the open connections and their cursors
    (``interrupts``), whose queries then fail with DuckDB's InterruptException (shown as the interrupted error,
    exit 130).

    SIGTERM (Airflow's task timeout, ``kill PID``, a Kubernetes pod stop) is handled as a Ctrl-C, exit 143: by
    default it ended the process at once, with no message and no word on what was stored. Not if it was ignored
    when we started (``nohup``-like parents): that choice is the caller's. ``serve`` installs its own handlers.
    """
    r, w = os.pipe()
    os.set_blocking(w, False)
    signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    interrupts.watched_by(w)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, interrupts.raise_terminated)

    def watch() -> None:
        # Why blocked here: a signal landing in this thread left the main thread waiting in `sql`'s prompt (readline's
        # select) until the next key; blocked, the kernel gives it to the main thread, and the wakeup fd still fires
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        while True:
            interrupts.on_wakeup(os.read(r, 64))

    threading.Thread(target=watch, name="ad-duckdb-ctrl-c", daemon=True).start()


def _output_error_exit(e: OSError) -> NoReturn:
    """End the process on a failed write of stdout outside a command, as a command's error would."""
    err = click.ClickException(outputerrors.output_failed(e))
    err.show()
    raise SystemExit(err.exit_code) from None


if __name__ == "__main__":
    main()
