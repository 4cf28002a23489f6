"""A one-line progress bar on stderr, shown only where someone is watching."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO


def wanted(requested: bool | None, stream: TextIO) -> bool:
    """``requested`` when given; otherwise on a terminal, and never when the ``CI`` variable is set."""
    if requested is not None:
        return requested
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("CI")


class Progress:
    """``[#####-----]  120/300 rows  40%  3.1 s, about 4.6 s left``, redrawn at most ten times a second.

    Parameters
    ----------
    total
        Rows in the sweep.
    done
        Rows already finished (read from the results file when resuming).
    enabled
        Draw anything at all.
    """

    WIDTH = 30

    def __init__(self, total: int, done: int = 0, *, enabled: bool, stream: TextIO | None = None) -> None:
        self.total, self.done, self.enabled = total, done, enabled
        self.stream = stream or sys.stderr
        self._start = time.monotonic()
        self._first = done
        self._drawn = 0.0
        self._draw(force=True)

    def advance(self, rows: int) -> None:
        self.done += rows
        self._draw(force=self.done >= self.total)

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._drawn < 0.1):
            return
        self._drawn = now
        share = self.done / self.total if self.total else 1.0
        filled = int(self.WIDTH * share)
        elapsed = now - self._start
        line = f"[{'#' * filled}{'-' * (self.WIDTH - filled)}] {self.done:>{len(str(self.total))}}/{self.total} rows " \
               f"{100 * share:3.0f}%  {elapsed:.1f} s"
        new = self.done - self._first
        if 0 < new and self.done < self.total:
            line += f", about {elapsed / new * (self.total - self.done):.1f} s left"
        self.stream.write("\r" + line.ljust(79))
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
