"""``make bench``: speed and memory, measured, never asserted in tests.

Each benchmark runs its work in a fresh Python process several times and reports the
median, min and max wall time and the peak resident memory of that process
(``ru_maxrss``, imports included).  Results go to ``reports/bench/bench.json`` and a
printed table.

    python -m helpers.bench                 # everything
    python -m helpers.bench --only load_score_1m --repeat 5
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import paths
from .io import write_json

__all__ = ["main"]

BENCH_DIR = paths.REPORTS / "bench"
CACHE = paths.PROCESSED / "bench"


@dataclass
class Bench:
    name: str
    what: str
    target: str
    setup: Callable[[], None] | None
    code: str  # Python run in a fresh process; must print a JSON dict with "seconds"


REGISTRY: list[Bench] = []


def bench(name: str, what: str, target: str, setup: Callable[[], None] | None = None):
    def deco(fn: Callable[[], str]) -> Callable[[], str]:
        REGISTRY.append(Bench(name, what, target, setup, textwrap.dedent(fn())))
        return fn

    return deco


def _big_parquet() -> Path:
    return CACHE / "rss_1m.parquet"


def _make_big_parquet() -> None:
    """Write ~1,000,000 synthetic surveys to Parquet once (cached in data/processed/bench)."""
    target = _big_parquet()
    if target.exists():
        return
    from .io import write_parquet
    from .synthetic import simulate

    df, _ = simulate(seed=1, scale=50)
    write_parquet(target, df)


_PEAK = """
import json, resource, sys
print(json.dumps({"seconds": SECONDS, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  **EXTRA}))
"""


def _timed(body: str, extra: str = "{}") -> str:
    return (
        "import time\n"
        + body.replace("START", "t0 = time.perf_counter()").replace("STOP", "SECONDS = time.perf_counter() - t0")
        + _PEAK.replace("EXTRA", extra)
    )


@bench("load_score_1m", "load + validate + score ~1,000,000 surveys from Parquet", "<= 2 s, <= 1024 MiB",
       setup=_make_big_parquet)
def _load_score_1m() -> str:
    return _timed(f"""
from helpers.loader import load
from helpers.scoring import score
START
res = load({str(_big_parquet())!r})
out = score(res.data, res.scheme)
STOP
n = len(out)
""", '{"rows": n}')


@bench("synth_default", "generate and write the default synthetic dataset (~20,000 surveys)", "<= 5 s")
def _synth_default() -> str:
    return _timed("""
import tempfile
from helpers.synthetic import write_dataset
d = tempfile.mkdtemp()
START
files = write_dataset(d)
STOP
""")


@bench("synth_1m", "simulate ~1,000,000 surveys in memory (scale 50)", "<= 60 s")
def _synth_1m() -> str:
    return _timed("""
from helpers.synthetic import simulate
START
df, truth = simulate(seed=1, scale=50)
STOP
n = len(df)
""", '{"rows": n}')


def _run_once(code: str) -> dict:
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"benchmark failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def run(only: list[str] | None = None, repeat: int = 3) -> dict:
    results = {}
    for b in REGISTRY:
        if only and b.name not in only:
            continue
        if b.setup:
            b.setup()
        runs = [_run_once(b.code) for _ in range(repeat)]
        secs = [r["seconds"] for r in runs]
        mem = [r["peak_mib"] for r in runs]
        results[b.name] = {
            "what": b.what, "target": b.target, "runs": repeat,
            "seconds": {"median": statistics.median(secs), "min": min(secs), "max": max(secs)},
            "peak_mib": {"median": statistics.median(mem), "min": min(mem), "max": max(mem)},
            **{k: v for k, v in runs[0].items() if k not in ("seconds", "peak_mib")},
        }
        _print_row(b.name, results[b.name])
    return results


def _print_row(name: str, r: dict) -> None:
    s, m = r["seconds"], r["peak_mib"]
    print(f"{name:<16} {s['median']:8.2f} s  (min {s['min']:.2f}, max {s['max']:.2f})  "
          f"peak {m['median']:7.0f} MiB   target {r['target']:<22} {r['what']}", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m helpers.bench", description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", help=f"benchmarks to run: {', '.join(b.name for b in REGISTRY)}")
    p.add_argument("--repeat", type=int, default=3, help="runs per benchmark (median, min, max)")
    args = p.parse_args(argv)
    print(f"{'benchmark':<16} {'median':>10}  {'(min, max)':<22} {'peak memory':<16} target", flush=True)
    t0 = time.perf_counter()
    results = run(args.only, args.repeat)
    out = BENCH_DIR / "bench.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    merged = {**previous.get("results", {}), **results}
    write_json(out, {
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "cpus": __import__("os").cpu_count()},
        "results": merged,
    })
    print(f"wrote {out} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
