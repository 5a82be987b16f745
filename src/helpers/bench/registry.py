"""The benchmark registry (:func:`bench` registers a benchmark, :data:`REGISTRY` lists them) and what the
benchmarks share: a fresh temporary project, clearing and removing it, the ~1,000,000-survey Parquet file.

Imports: helpers.io (lazily), helpers.paths, helpers.runner.pool, helpers.synthetic (lazily).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import paths
from ..runner.pool import stop_kept

BENCH_DIR = paths.REPORTS / "bench"
CACHE = paths.PROCESSED / "bench"


@dataclass
class Bench:
    name: str
    what: str
    target: str
    fn: Callable[[dict[str, Any]], dict[str, Any]]  # runs in a fresh process; returns the figures of one run
    setup: Callable[[], None] | None = None


REGISTRY: list[Bench] = []


def bench(name: str, what: str, target: str, setup: Callable[[], None] | None = None):
    def deco(fn: Callable[[dict[str, Any]], dict[str, Any]]):
        REGISTRY.append(Bench(name, what, target, fn, setup))
        return fn

    return deco


def project(data: Path | None = None, *, scale: float | None = None) -> tuple[Path, dict[str, str]]:
    """A fresh temporary project: the notebooks and a copy of ``data`` (or synthetic data at ``scale``)."""
    root = Path(tempfile.mkdtemp(prefix="rss-bench-"))
    shutil.copytree(paths.NOTEBOOKS, root / "notebooks")
    env = {**os.environ, "RSS_ROOT": str(root)}
    env.pop("RSS_DATA", None)
    target = root / "data" / "raw" / "synthetic"
    if scale is None:
        shutil.copytree(data or paths.SYNTHETIC, target)
    else:
        subprocess.run([sys.executable, "-m", "helpers.cli", "synth", "-o", str(target), "--scale", str(scale)],
                       env=env, check=True, capture_output=True)
    return root, env


def stop_and_remove(root: Path) -> None:
    """Stop the kernels the project's last run kept (:mod:`helpers.runner.pool`), then remove the project."""
    stop_kept(root)
    shutil.rmtree(root, ignore_errors=True)


def clear_outputs(root: Path) -> None:
    for d in (root / "reports", root / "data" / "processed"):
        shutil.rmtree(d, ignore_errors=True)


def big_parquet() -> Path:
    return CACHE / "rss_1m.parquet"


def make_big_parquet() -> None:
    """Write ~1,000,000 synthetic surveys to Parquet once (cached in data/processed/bench)."""
    target = big_parquet()
    if target.exists():
        return
    from ..io import write_parquet
    from ..synthetic import simulate

    df, _ = simulate(seed=1, scale=50)
    write_parquet(target, df)


def ensure_default_data() -> None:
    if not (paths.SYNTHETIC / "truth.json").exists():
        raise SystemExit("make bench needs the default data: run `make data` first")
