"""Measuring a benchmark: wall time and the peak resident memory of a command's process tree (and of its
largest process), sampled while it runs; the peak memory of this process.

Imports: no other helpers module.
"""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["Measured", "TreePeak", "measure", "peak_self_mib", "run_measured", "run_peaks"]



def peak_self_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class TreePeak:
    """Largest sum of resident memory of a process and its descendants, sampled every ``interval`` s."""

    def __init__(self, pid: int, interval: float = 0.1):
        import psutil  # a dependency of ipykernel

        self.proc, self.interval, self.peak = psutil.Process(pid), interval, 0
        self.largest = 0  # the largest resident memory of any one process of the tree
        self.root = 0  # the largest resident memory of the process itself
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            try:
                for p in [self.proc, *self.proc.children(recursive=True)]:
                    try:
                        rss = p.memory_info().rss
                        total += rss
                        self.largest = max(self.largest, rss)
                        if p is self.proc:
                            self.root = max(self.root, rss)
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak / 2**20


@dataclass(frozen=True)
class Measured:
    """A command run to completion: wall seconds, peak MiB of its process tree, of its largest process and of the
    command's own process, and its output."""

    seconds: float
    tree_mib: float
    largest_mib: float
    own_mib: float
    out: str


def measure(cmd: list[str], **kw: Any) -> Measured:
    """Run ``cmd`` to completion, sampling the memory of its process tree.  Fails loudly."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    peak = TreePeak(proc.pid)
    out, _ = proc.communicate()
    seconds = time.perf_counter() - t0
    mib = peak.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out[-4000:]}")
    return Measured(seconds, mib, peak.largest / 2**20, peak.root / 2**20, out)


def run_peaks(cmd: list[str], **kw: Any) -> tuple[float, float, float, str]:
    """Run ``cmd`` to completion; return (wall seconds, peak MiB of its process tree, peak MiB of its largest
    process, its output).  Fails loudly."""
    m = measure(cmd, **kw)
    return m.seconds, m.tree_mib, m.largest_mib, m.out


def run_measured(cmd: list[str], **kw: Any) -> tuple[float, float, str]:
    """Run ``cmd`` to completion; return (wall seconds, peak MiB of its process tree, its output).  Fails loudly."""
    seconds, mib, _largest, out = run_peaks(cmd, **kw)
    return seconds, mib, out
