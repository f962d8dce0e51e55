"""A progress bar for long runs: instructions done of the statically known total, on stderr.

    bar = ProgressBar.on_stderr()       # None unless stderr is a terminal
    try:
        sim.run(program, progress=bar)
    finally:
        if bar is not None:
            bar.close()

A run calls `begin(expected)` with the instructions its loop tree executes, `update(done)`
every `INTERVAL` instructions and `end()`.  Nothing is drawn until the bar has existed for
`delay` seconds (2 s), then the line is redrawn at most every `refresh` seconds and erased by
`close()`.  A bar can span several runs (a chain's stages): each counts on from the
instructions of those before, and the total is the `total` given, or else the instructions
done before plus the current run's expected ones.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

#: Instructions between two calls of `update` (a power of two, cheap to check).
INTERVAL = 1 << 16


class ProgressBar:
    """One line on a terminal: a bar, instructions done of the total, rate, time left."""

    def __init__(
        self,
        stream: TextIO,
        total: int | None = None,
        delay: float = 2.0,
        refresh: float = 0.2,
        width: int = 30,
    ):
        self.fixed_total = total
        self.total = total
        self.stream = stream
        self.delay = delay
        self.refresh = refresh
        self.width = width
        self.before = 0
        self.done = 0
        self.started = time.monotonic()
        self.drawn_at: float | None = None

    @classmethod
    def on_stderr(cls, total: int | None = None) -> ProgressBar | None:
        """A bar on stderr, or None when stderr is not a terminal."""
        return cls(sys.stderr, total) if sys.stderr.isatty() else None

    def begin(self, expected: int) -> None:
        """A run starts that executes about `expected` instructions."""
        if self.fixed_total is None:
            self.total = self.before + expected

    def update(self, done: int) -> None:
        """`done` instructions of the current run are executed."""
        self.done = done
        now = time.monotonic()
        if now - self.started < self.delay:
            return
        if self.drawn_at is not None and now - self.drawn_at < self.refresh:
            return
        self.drawn_at = now
        self.stream.write("\r" + self.line(now - self.started) + "\x1b[K")
        self.stream.flush()

    def end(self) -> None:
        """The current run has ended; later runs count on from its instructions."""
        self.before += self.done
        self.done = 0

    def line(self, elapsed: float) -> str:
        """The text of the bar after `elapsed` seconds."""
        done = self.before + self.done
        rate = done / elapsed if elapsed > 0 else 0.0
        speed = f"{rate / 1e6:.2f} M instr/s"
        if not self.total:
            return f"{done:,} instructions  {speed}"
        share = min(done / self.total, 1.0)
        filled = round(share * self.width)
        left = (self.total - done) / rate if rate and done < self.total else 0.0
        return (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {100 * share:5.1f} %  "
            f"{done:,} / {self.total:,} instructions  {speed}  {left:.0f} s left"
        )

    def close(self) -> None:
        """Erase the line if one was drawn."""
        if self.drawn_at is not None:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn_at = None
