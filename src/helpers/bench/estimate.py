"""A paper estimate of a larger run on N Dask workers, from the per-notebook seconds and memory the
``cluster`` benchmark measured (``reports/bench/bench.json``).

``python -m helpers.bench.estimate --scale 1000 --workers 1 2 4 8`` prints, for each N: the total
notebook-seconds, the makespan of the runner's own order (``00_prepare`` first, then the longest
notebooks first onto the first free worker, as :mod:`helpers.runner.executor` orders them by expected
time) and the memory one worker needs (the largest process measured, scaled).

The assumptions, printed with the table: each notebook's time and memory grow linearly with the
number of surveys (``--exponent`` changes that), workers are as fast as the benchmark machine's cores,
and the data is read from a shared path at the local disk's speed.  It is an estimate, not a
measurement: the cross-country notebook is one task, so it bounds the makespan whatever N is.

Imports: helpers.paths.
"""

from __future__ import annotations

import argparse
import heapq
import json
import sys
from pathlib import Path
from typing import Any

from .. import paths


def makespan(seconds: dict[str, float], workers: int, first: str = "00_prepare") -> float:
    """Seconds until the last notebook ends: ``first`` alone, then longest-first onto the first free worker.

    Examples
    --------
    >>> makespan({"00_prepare": 10, "a": 30, "b": 20, "c": 10}, 2)
    40.0
    >>> makespan({"00_prepare": 10, "a": 30, "b": 20, "c": 10}, 1)
    70.0
    """
    start = float(seconds.get(first, 0.0))
    free = [start] * workers
    for s in sorted((v for k, v in seconds.items() if k != first), reverse=True):
        t = heapq.heappop(free)
        heapq.heappush(free, t + float(s))
    return max(free)


def estimate(row: dict[str, Any], scale: float, workers: list[int], exponent: float = 1.0) -> dict[str, Any]:
    """The estimate of ``scale`` (x the default data) from one ``cluster`` benchmark row."""
    factor = (scale / float(row["scale"])) ** exponent
    per = {k: v * factor for k, v in row["cluster_notebook_seconds"].items()}
    return {
        "scale": scale, "measured_scale": row["scale"], "surveys": round(row["surveys"] * scale / row["scale"]),
        "factor": factor, "total_seconds": sum(per.values()), "longest": max(per, key=per.get),
        "longest_seconds": max(per.values()), "worker_mib": row["cluster_largest_process_mib"] * factor,
        "makespan_seconds": {n: makespan(per, n) for n in workers},
    }


def table(e: dict[str, Any]) -> str:
    lines = [f"x{e['scale']:g} ({e['surveys']:,} surveys), from the x{e['measured_scale']:g} cluster benchmark "
             f"scaled by {e['factor']:.1f}:",
             f"  notebook time in all: {e['total_seconds'] / 3600:.1f} h; longest single notebook "
             f"{e['longest']} {e['longest_seconds'] / 60:.0f} min; memory of the largest process "
             f"{e['worker_mib'] / 1024:.0f} GiB",
             "  | workers | makespan | speed-up over 1 |", "  |---|---|---|"]
    one = e["makespan_seconds"].get(1) or makespan({}, 1)
    for n, s in e["makespan_seconds"].items():
        lines.append(f"  | {n} | {s / 60:.0f} min | {one / s:.2f} |" if one else f"  | {n} | {s / 60:.0f} min | |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m helpers.bench.estimate", description=__doc__.splitlines()[0])
    p.add_argument("--scale", type=float, default=1000, help="size to estimate, x the default data (default 1000)")
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    p.add_argument("--exponent", type=float, default=1.0, help="time ~ surveys**exponent (default 1: linear)")
    p.add_argument("--bench", type=Path, default=None, help="bench.json (default reports/bench/bench.json)")
    args = p.parse_args(argv)
    path = args.bench or paths.REPORTS / "bench" / "bench.json"
    try:
        row = json.loads(path.read_text())["results"]["cluster"]
    except (OSError, ValueError, KeyError):
        print(f"{path}: no cluster benchmark; run `python -m helpers.bench --only cluster` first", file=sys.stderr)
        return 2
    workers = sorted(set([1, *args.workers]))
    print(table(estimate(row, args.scale, workers, args.exponent)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
