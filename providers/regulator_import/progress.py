"""Progress of a regulator import, for the management commands to print.

A national file has tens of thousands of rows, so an operator is told how far both steps have got
(checking the file, then writing it). Kept apart because both steps report through it.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["PROGRESS_EVERY", "ProgressCallback"]

PROGRESS_EVERY = 1_000

# Progress: `progress(done, total, stage)` with stage "checked" (while reading the file) or
# "written" (while saving), every PROGRESS_EVERY rows and once at the end of each stage.
ProgressCallback = Callable[[int, int, str], None]


class Progress:
    def __init__(self, callback: ProgressCallback | None, total: int, stage: str):
        self.callback, self.total, self.stage, self.done = callback, total, stage, 0

    def step(self) -> None:
        self.done += 1
        if self.callback and self.done % PROGRESS_EVERY == 0:
            self.callback(self.done, self.total, self.stage)

    def finish(self) -> None:
        if self.callback and self.done % PROGRESS_EVERY:
            self.callback(self.done, self.total, self.stage)
