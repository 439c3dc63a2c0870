"""A blank line between a script's consecutive csv or json results on stdout, also across its dot commands."""

from __future__ import annotations

from typing import IO, Any


class GapStdout:
    """stdout for a script run step by step (its statements between dot commands): a step that writes after an
    earlier one wrote begins with a blank line, as the statements of one step are kept apart. Why: with a dot command
    between two statements (`.timer off`, `.tables`), the two results ran together, and a CSV reader took the second
    one's header for a row of the first."""

    def __init__(self, real: IO[str]) -> None:
        self.real = real
        self.wrote = False
        self.pending = False

    def next_step(self, apart: bool) -> None:
        """A new step begins; ``apart``: its output (csv or json) is kept apart from what came before."""
        self.pending = apart and self.wrote

    def write(self, text: str) -> int:
        if text:
            if self.pending:
                self.real.write("\n")
                self.pending = False
            self.wrote = True
        return self.real.write(text)

    def __getattr__(self, name: str) -> Any:  # isatty, flush, encoding, ...: the real stream's
        return getattr(self.real, name)
