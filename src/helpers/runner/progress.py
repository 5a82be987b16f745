"""The progress line of ``rss run``: one line per finished notebook, a live status with the ETA
on a terminal.

Imports: helpers.runner.plan only.
"""

from __future__ import annotations

import shutil
import time
from typing import TextIO

from .plan import Result


def clock_text(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class Progress:
    """Progress of a run: one updating line on a terminal, plain lines otherwise (CI logs)."""

    def __init__(self, stream: TextIO, *, tty: bool | None = None):
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.t0 = time.monotonic()
        self.done = 0
        self.total = 0
        self._shown = False
        self._last_draw = 0.0

    def line(self, text: str) -> None:
        self._clear()
        print(text, file=self.stream, flush=True)

    def _clear(self) -> None:
        if self.tty and self._shown:
            self.stream.write("\r\x1b[K")
            self._shown = False

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def status(self, running: list[str], eta: float | None, *, force: bool = False) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < 0.25:
            return
        self._last_draw = now
        width = shutil.get_terminal_size((100, 20)).columns
        text = (f"[{self.done}/{self.total}] {clock_text(self.elapsed())} elapsed, ETA {clock_text(eta)}"
                f" | running: {', '.join(running) or '-'}")
        if len(text) > width - 1:
            text = text[: max(width - 2, 10)] + "…"
        self.stream.write("\r\x1b[K" + text)
        self.stream.flush()
        self._shown = True

    def finished(self, job_id: str, res: Result, eta: float | None) -> None:
        self.done += 1
        word = {"ok": "done", "failed": "FAILED", "timeout": "TIMEOUT", "interrupted": "stopped"}[res.status]
        text = f"[{self.done}/{self.total}] {word:<7} {job_id}  {res.duration:.1f}s"
        if self.tty:
            self.line(text)
        else:
            self.line(f"{text}  (elapsed {clock_text(self.elapsed())}, ETA {clock_text(eta)})")

    def close(self) -> None:
        self._clear()
