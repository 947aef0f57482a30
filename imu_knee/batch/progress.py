"""A small progress bar on stderr (a redrawn line on a terminal, plain lines otherwise)."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    def __init__(self, total: int, label: str = "analysing", stream=None, enabled: bool = True,
                 width: int = 28):
        self.total = max(int(total), 0)
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.width = width
        self.done = 0
        self.failed = 0
        self.started = time.perf_counter()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())

    def update(self, name: str = "", failed: bool = False) -> None:
        self.done += 1
        self.failed += int(failed)
        if not self.enabled:
            return
        elapsed = time.perf_counter() - self.started
        left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        fail = f", {self.failed} failed" if self.failed else ""
        if self.tty:
            filled = int(self.width * self.done / max(self.total, 1))
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total}{fail}"
                              f"  {elapsed:.0f} s, ~{left:.0f} s left ")
            if self.done >= self.total:
                self.stream.write("\n")
        else:
            state = "FAILED " if failed else ""
            self.stream.write(f"imu-knee: {self.done}/{self.total} {state}{name}"
                              f" ({elapsed:.1f} s{fail})\n")
        self.stream.flush()
