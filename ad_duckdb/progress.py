"""Progress on stderr (training steps, rows scored): a tqdm bar on a terminal (or in a notebook), a few plain lines in a log.

Why two forms: a bar redraws itself with ``\\r`` about twice a second, which a job log (cron, Airflow, CI) keeps as
one ever-growing line or as hundreds of lines; a log wants a line at start, a line now and then, and how it ended.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from typing import Any, Protocol, TextIO

# A log line at most every LINE_SHARE of the steps and LINE_SECONDS apart, whichever gives fewer lines, so a short
# training writes its first and last line only and a long one about ten. Why also HEARTBEAT_SECONDS: a budget far
# beyond what early stopping will use (--epochs 1000000) would otherwise leave the log silent for hours.
LINE_SHARE = 0.1
LINE_SECONDS = 30.0
HEARTBEAT_SECONDS = 600.0


class Progress(Protocol):
    def advance(self, ran: int, val_loss: float) -> None:
        """``ran`` steps done; the validation loss just measured."""

    def finish(self, ran: int, best: float, stopped_early: bool) -> None:
        """The loop ended after ``ran`` steps (not called when it was interrupted)."""

    def close(self) -> None: ...


def _is_terminal(stream: TextIO) -> bool:
    # Why the kernel's stream too: a notebook renders the bar's \r, but its stderr says it is no terminal.
    return stream.isatty() or type(stream).__module__.startswith("ipykernel")


def start(total: int, desc: str, enabled: bool, patience: int) -> Progress:
    """Progress of a training of ``total`` optimizer steps on stderr: a bar on a terminal, lines elsewhere, nothing when
    not ``enabled``."""
    stream = sys.stderr
    if not enabled or stream is None:  # pythonw and some services have no stderr at all
        return _Silent()
    if _is_terminal(stream):
        return _Bar(total, desc)
    return _Lines(total, desc, patience, stream)


class _Silent:
    def advance(self, ran: int, val_loss: float) -> None:
        pass

    def finish(self, ran: int, best: float, stopped_early: bool) -> None:
        pass

    def close(self) -> None:
        pass


class _Bar:
    def __init__(self, total: int, desc: str) -> None:
        # Why not tqdm.auto alone: in a Jupyter kernel without ipywidgets (not a dependency of ours) it warns
        # "TqdmWarning: IProgress not found. Please update jupyter and ipywidgets" at the first training, about a package
        # the user never asked for; the text bar it then falls back to is the one chosen here without the warning.
        if importlib.util.find_spec("ipywidgets") is None:
            from tqdm.std import tqdm
        else:
            from tqdm.auto import tqdm
        self.total = total
        self.bar: Any = tqdm(total=total, desc=desc, unit="step", file=sys.stderr, leave=False, mininterval=0.5)

    def advance(self, ran: int, val_loss: float) -> None:
        self.bar.set_postfix(val_loss=f"{val_loss:.4g}", refresh=False)
        self.bar.update(ran - self.bar.n)

    def finish(self, ran: int, best: float, stopped_early: bool) -> None:
        self.bar.update(self.total - self.bar.n)

    def close(self) -> None:
        self.bar.close()


class _Lines:
    def __init__(self, total: int, desc: str, patience: int, stream: TextIO) -> None:
        self.total, self.desc, self.patience, self.stream = total, desc, patience, stream
        self.t0 = self.last_time = time.monotonic()
        self.last_step = 0
        self._say(f"0/{total} steps")

    def _say(self, text: str) -> None:
        print(f"{self.desc}: {text}", file=self.stream, flush=True)  # flushed: a log is read while the job runs

    def _elapsed(self) -> str:
        return f"{time.monotonic() - self.t0:.0f}s"

    def advance(self, ran: int, val_loss: float) -> None:
        now = time.monotonic()
        since = now - self.last_time
        due = ran - self.last_step >= LINE_SHARE * self.total and since >= LINE_SECONDS
        if (due or since >= HEARTBEAT_SECONDS) and ran < self.total:  # the last step is finish's line
            self._say(f"{ran}/{self.total} steps ({100 * ran // self.total}%), val_loss {val_loss:.4g}, {self._elapsed()}")
            self.last_step, self.last_time = ran, now

    def finish(self, ran: int, best: float, stopped_early: bool) -> None:
        how = (f"stopped early at {ran}/{self.total} steps: val_loss did not improve in {self.patience} checks"
               if stopped_early else f"{ran}/{self.total} steps")
        loss = f", best val_loss {best:.4g}" if best < float("inf") else ""
        self._say(f"{how}{loss}, {self._elapsed()}")

    def close(self) -> None:
        pass


# Scoring reports rows, not steps: how many rows a source holds (a query, a glob of files) is not known before it is
# read. A log line every ROW_LINE_SECONDS, none before: a run shorter than that ends with its own result line alone,
# as before. A bar appears after ROW_BAR_DELAY seconds, so a quick scoring does not flash one on the terminal.
ROW_LINE_SECONDS = LINE_SECONDS
ROW_BAR_DELAY = 2.0


class RowProgress(Protocol):
    def advance(self, rows: int) -> None:
        """``rows`` more rows done."""

    def close(self) -> None: ...


def rows(desc: str, enabled: bool, total: int | None = None) -> RowProgress:
    """Progress of a pass over rows on stderr: a bar on a terminal, lines elsewhere, nothing when not ``enabled``;
    ``total``: the rows the pass will read, where known (training counts them first; a scoring does not)."""
    stream = sys.stderr
    if not enabled or stream is None:
        return _SilentRows()
    # Why the check: tqdm comes with the train extra; a scoring-only install (a BI host, a dbt runner) scores into a
    # table from a terminal too, and gets the log's lines there rather than an ImportError after the model loaded
    if _is_terminal(stream) and importlib.util.find_spec("tqdm") is not None:
        return _RowBar(desc, total)
    return _RowLines(desc, stream, total)


class _SilentRows:
    def advance(self, rows: int) -> None:
        pass

    def close(self) -> None:
        pass


class _RowBar:
    def __init__(self, desc: str, total: int | None) -> None:
        from tqdm.std import tqdm  # often a counter without a total: the text bar is all a notebook needs here too

        self.bar: Any = tqdm(desc=desc, total=total, unit=" rows", unit_scale=True, file=sys.stderr, leave=False, mininterval=0.5,
                             delay=ROW_BAR_DELAY)

    def advance(self, rows: int) -> None:
        self.bar.update(rows)

    def close(self) -> None:
        self.bar.close()


class _RowLines:
    def __init__(self, desc: str, stream: TextIO, total: int | None) -> None:
        self.desc, self.stream, self.total = desc, stream, total
        self.t0 = self.last_time = time.monotonic()
        self.n = 0

    def advance(self, rows: int) -> None:
        self.n += rows
        now = time.monotonic()
        if now - self.last_time >= ROW_LINE_SECONDS:
            # flushed: a log is read while the job runs
            done = f"{self.n}/{self.total} rows ({100 * self.n // self.total}%)" if self.total else f"{self.n} rows"
            print(f"{self.desc}: {done}, {now - self.t0:.0f}s", file=self.stream, flush=True)
            self.last_time = now

    def close(self) -> None:
        pass


# A query's progress is a share, DuckDB's own estimate of the work done (``query_progress()``), not rows: the rows a
# statement scores are not known to it before it runs, and a `SELECT sum(anomaly_score(...))` returns one row.
class ShareProgress(Protocol):
    def update(self, percent: float) -> None:
        """``percent`` of the work done so far (0 to 100)."""

    def close(self) -> None: ...


def share(desc: str, enabled: bool) -> ShareProgress:
    """Progress of one long statement on stderr: a bar on a terminal (after ROW_BAR_DELAY seconds), a line every
    ROW_LINE_SECONDS in a log, nothing when not ``enabled``."""
    stream = sys.stderr
    if not enabled or stream is None:
        return _SilentShare()
    if _is_terminal(stream) and importlib.util.find_spec("tqdm") is not None:
        return _ShareBar(desc)
    return _ShareLines(desc, stream)


class _SilentShare:
    def update(self, percent: float) -> None:
        pass

    def close(self) -> None:
        pass


class _ShareBar:
    def __init__(self, desc: str) -> None:
        from tqdm.std import tqdm

        self.bar: Any = tqdm(desc=desc, total=100, bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]",
                             file=sys.stderr, leave=False, mininterval=0.5, delay=ROW_BAR_DELAY)

    def update(self, percent: float) -> None:
        self.bar.update(max(0.0, min(percent, 100.0)) - self.bar.n)

    def close(self) -> None:
        self.bar.close()


class _ShareLines:
    def __init__(self, desc: str, stream: TextIO) -> None:
        self.desc, self.stream = desc, stream
        self.t0 = self.last_time = time.monotonic()

    def update(self, percent: float) -> None:
        now = time.monotonic()
        if now - self.last_time >= ROW_LINE_SECONDS:
            print(f"{self.desc}: {percent:.0f}%, {now - self.t0:.0f}s", file=self.stream, flush=True)
            self.last_time = now

    def close(self) -> None:
        pass
