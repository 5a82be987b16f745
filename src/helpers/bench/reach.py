"""Benchmarks of the workspace's reach past one machine and one language: the batch on a Dask
``LocalCluster`` against the local pool (``cluster``), ``rss score`` of Parquet partitions on it
(``score_cluster``), and the full run with the French report against the English one (``french``).

Imports: helpers.bench.measure, helpers.bench.registry.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from .measure import measure, run_peaks
from .registry import (
    CACHE,
    bench,
    big_parquet,
    clear_outputs,
    ensure_default_data,
    make_big_parquet,
    project,
    stop_and_remove,
)


def _full_runs(root: Path, env: dict[str, str], jobs: int,
               variants: tuple[tuple[str, list[str]], ...]) -> dict[str, tuple[float, float, float, dict[str, Any]]]:
    """``rss run`` of the project once per variant (its extra options), each on cleared outputs with no kept
    kernels: ``{name: (seconds, peak of all processes, peak of the largest, the manifest's jobs)}``."""
    env = {**env, "RSS_KEEP_KERNELS": "0"}
    out = {}
    for name, extra in variants:
        clear_outputs(root)
        cmd = [sys.executable, "-m", "helpers.cli", "run", "--jobs", str(jobs), *extra]
        seconds, tree, largest, _out = run_peaks(cmd, env=env, cwd=root)
        out[name] = seconds, tree, largest, json.loads((root / "reports" / ".manifest.json").read_text())["jobs"]
    return out


@bench("cluster", "full report at x50 (--scales, last) on the local pool and on `--cluster local` (a "
       "LocalCluster of --jobs workers): time, peak memory of all processes and of the largest one, per-notebook "
       "seconds (what the README's x1000 estimate uses)", "cluster within 15 % of the pool")
def _cluster(opts: dict[str, Any]) -> dict[str, Any]:
    scale = opts["scales"][-1]
    root, env = project(scale=scale)
    res: dict[str, Any] = {"scale": scale, "jobs": opts["jobs"]}
    try:
        runs = _full_runs(root, env, opts["jobs"], (("pool", []), ("cluster", ["--cluster", "local"])))
        for name, (seconds, tree, largest, jobs) in runs.items():
            res[f"{name}_seconds"], res[f"{name}_peak_mib"] = seconds, tree
            res[f"{name}_largest_process_mib"] = largest
            res[f"{name}_notebook_seconds"] = {k: v["duration"] for k, v in sorted(jobs.items())}
        res["surveys"] = json.loads((root / "reports" / "numbers.json").read_text())["prepare"]["n_surveys"]
    finally:
        stop_and_remove(root)
    res["seconds"], res["peak_mib"] = res["cluster_seconds"], res["cluster_peak_mib"]
    res["cluster_over_pool"] = res["cluster_seconds"] / res["pool_seconds"]
    return res


def _parts() -> Path:
    return CACHE / "rss_1m_parts"


def _make_parts() -> None:
    """The ~1,000,000 surveys of :func:`make_big_parquet` as hive-style partitions, 4 a country (cached)."""
    import pandas as pd

    if _parts().exists():
        return
    make_big_parquet()
    df = pd.read_parquet(big_parquet())
    tmp = Path(tempfile.mkdtemp(dir=CACHE))
    for iso3, sub in df.groupby("country", sort=True):
        (tmp / f"country={iso3}").mkdir()
        size = -(-len(sub) // 4)
        for i in range(4):
            sub.iloc[i * size:(i + 1) * size].to_parquet(tmp / f"country={iso3}" / f"part-{i}.parquet", index=False)
    tmp.rename(_parts())


@bench("score_cluster", "`rss score` of ~1,000,000 surveys in Parquet partitions (4 a country), in one process "
       "and on `--cluster local` (--jobs workers): time, peak memory of all processes, of the largest and of the "
       "command's own process (the client)", "cluster client well under the local process", setup=_make_parts)
def _score_cluster(opts: dict[str, Any]) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="rss-bench-"))
    res: dict[str, Any] = {"partitions": len(list(_parts().rglob("*.parquet"))), "jobs": opts["jobs"]}
    try:
        for name, extra in (("local", []), ("cluster", ["--cluster", "local", "--jobs", str(opts["jobs"])])):
            m = measure([sys.executable, "-m", "helpers.cli", "score", str(_parts()), "-o",
                         str(out / f"{name}.parquet"), *extra])
            res[f"{name}_seconds"], res[f"{name}_peak_mib"] = m.seconds, m.tree_mib
            res[f"{name}_largest_process_mib"], res[f"{name}_client_peak_mib"] = m.largest_mib, m.own_mib
    finally:
        shutil.rmtree(out, ignore_errors=True)
    res["seconds"], res["peak_mib"] = res["cluster_seconds"], res["cluster_peak_mib"]
    return res


@bench("french", "full report on the default data in English (`rss run`), then with the French report (`rss run "
       "--lang fr`: every figure drawn again in French, report.fr.html built too), each on a cleared project: "
       "time and peak memory of all processes", "French run within 25 % of the English one",
       setup=ensure_default_data)
def _french(opts: dict[str, Any]) -> dict[str, Any]:
    root, env = project()
    res: dict[str, Any] = {"jobs": opts["jobs"]}
    try:
        runs = _full_runs(root, env, opts["jobs"], (("english", []), ("french", ["--lang", "fr"])))
        for name, (seconds, tree, _largest, _jobs) in runs.items():
            res[f"{name}_seconds"], res[f"{name}_peak_mib"] = seconds, tree
        res["french_figures"] = len(list((root / "reports" / "figures" / "fr").glob("*.png")))
        res["report_fr_kib"] = (root / "reports" / "report.fr.html").stat().st_size / 1024
    finally:
        stop_and_remove(root)
    res["seconds"], res["peak_mib"] = res["french_seconds"], res["french_peak_mib"]
    res["french_over_english"] = res["french_seconds"] / res["english_seconds"]
    return res
