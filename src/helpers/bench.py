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
    code: str  # Python run in a fresh process; prints a JSON dict with "seconds", "peak_mib" (and *_seconds)


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


@bench("report", "full report on the default data in a fresh project (outputs cleared), then a no-op rerun "
       "and a rerun after one country's input changed", "full <= 60 s, no-op <= 1 s, one country <= 10 s",
       setup=lambda: _ensure_default_data())
def _report() -> str:
    return f"""
import json, os, resource, shutil, subprocess, sys, tempfile, time
from pathlib import Path
import nbformat
import pandas as pd
from helpers.io import write_csv
root = Path(tempfile.mkdtemp(prefix="rss-bench-"))
shutil.copytree({str(paths.NOTEBOOKS)!r}, root / "notebooks")
shutil.copytree({str(paths.SYNTHETIC)!r}, root / "data" / "raw" / "synthetic")
env = {{**os.environ, "RSS_ROOT": str(root)}}
env.pop("RSS_DATA", None)
rss = [sys.executable, "-m", "helpers.cli", "run"]

def timed():
    t0 = time.perf_counter()
    subprocess.run(rss, env=env, check=True, capture_output=True)
    return time.perf_counter() - t0

full = timed()
noop = timed()
csv = root / "data" / "raw" / "synthetic" / "som.csv"   # the smallest country: change one answer
df = pd.read_csv(csv, dtype=str, keep_default_na=False)
df.loc[0, "eco_employed"] = "1" if df.loc[0, "eco_employed"] != "1" else "0"
write_csv(csv, df)  # atomically, as every write of the workspace
one = timed()
split = []
for f in sorted((root / "reports" / "notebooks").glob("*.ipynb")):
    nb = nbformat.read(f, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tags = [c.metadata.get("tags", []) for c in code]
    after = max(i for i, t in enumerate(tags) if "parameters" in t or "injected-parameters" in t) + 1
    cell_time = [c.metadata.get("papermill", {{}}).get("duration") or 0.0 for c in code]
    total = nb.metadata["papermill"]["duration"]
    split.append({{"notebook": f.stem, "total": total, "kernel_and_overhead": total - sum(cell_time),
                  "imports": cell_time[after], "work": sum(cell_time) - cell_time[after]}})
shutil.rmtree(root)
med = {{k: sorted(s[k] for s in split)[len(split) // 2] for k in ("total", "kernel_and_overhead", "imports", "work")}}
print(json.dumps({{"seconds": full, "noop_seconds": noop, "one_country_seconds": one,
                  "peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
                  "notebooks": len(split), "median_notebook_split": med, "split": split}}))
"""


def _ensure_default_data() -> None:
    if not (paths.SYNTHETIC / "truth.json").exists():
        raise SystemExit("make bench needs the default data: run `make data` first")


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
        spread = {k: _spread([r[k] for r in runs]) for k in runs[-1]
                  if k in ("seconds", "peak_mib") or k.endswith("_seconds")}
        results[b.name] = {
            "what": b.what, "target": b.target, "runs": repeat,
            **{k: v for k, v in runs[-1].items() if k not in spread},  # details of the last run
            **spread,
        }
        _print_row(b.name, results[b.name])
    return results


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _print_row(name: str, r: dict) -> None:
    s, m = r["seconds"], r["peak_mib"]
    print(f"{name:<16} {s['median']:8.2f} s  (min {s['min']:.2f}, max {s['max']:.2f})  "
          f"peak {m['median']:7.0f} MiB   target {r['target']:<22} {r['what']}", flush=True)
    for k, v in r.items():
        if k.endswith("_seconds"):
            print(f"  {k:<14} {v['median']:8.2f} s  (min {v['min']:.2f}, max {v['max']:.2f})", flush=True)
    if "median_notebook_split" in r:
        sp = r["median_notebook_split"]
        print(f"  per notebook (median of {r['notebooks']}, last run): total {sp['total']:.2f} s = kernel start and "
              f"papermill {sp['kernel_and_overhead']:.2f} s + imports {sp['imports']:.2f} s + work {sp['work']:.2f} s",
              flush=True)


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
