"""``make bench``: speed and memory, measured, never asserted in tests.

Every benchmark runs in a fresh Python process, several times (``--repeat``), and
reports the median, min and max of each figure.  Results go to
``reports/bench/bench.json`` (merged with earlier results of other benchmarks) and a
printed table.

    python -m helpers.bench                               # everything (~45 min on 2 cores)
    python -m helpers.bench --only report --repeat 5
    python -m helpers.bench --only scaling --scales 1 10

Benchmarks (the numbers of issue 8):

``first_run`` (issue 18)
    What a newcomer lives through: a fresh ``git clone`` of HEAD (``--ref`` another
    commit) with its environment installed (``make setup``, not timed), no data, no
    outputs, no kept kernels, no project bytecode; then ``make report`` as typed (wall
    time, and its parts: data generation, ``rss run``, ``rss check``) and the ratio of
    its ``rss run`` to the one-process script of the same analyses run in the same clone.
    Then, in that clone, ``make report`` again as typed: with nothing changed (reuses the
    outputs, the manifest, the kept kernels and the check record), after one answer of
    Somalia changed, then of Guinea (the mentoring estimates change too), both on the
    kept kernels, and Somalia again with keeping off.  And where the first run's
    notebook time went: kernel start, papermill, imports cell, reading data, figures,
    other work (CPU-seconds summed over notebooks), when 30_mentoring and the last
    notebook finished, and what compiling the project's bytecode costs.
``report`` (1, 2, 4)
    The warm figures: a fresh temporary project (the notebooks, the default synthetic
    data, no outputs, no manifest, no kept kernels) on a machine that ran the workspace
    before: the full ``rss run`` (notebooks and report); the same analyses as one plain
    Python process (every notebook exported with jupytext, its parameters injected as
    papermill would, run one after another in one interpreter, after the outputs were
    cleared again) and the ratio full / script; the split of every executed notebook
    into kernel start, papermill overhead, imports cell and work.
``load_score_1m`` (5)
    Load, validate and score ~1,000,000 surveys from Parquet: time and peak memory.
``scaling`` (6)
    The full report at the default size x1, x10, x50 (``--scales``): time and peak
    memory.
``cluster`` (issue 14, :mod:`.reach`)
    The full report at x50 (the last of ``--scales``) on the local pool and on ``--cluster
    local``: time, peak memory of the process tree and of its largest process, and each
    notebook's seconds (``python -m helpers.bench.estimate`` turns them into a paper
    estimate of a larger run on N workers).
``french`` (issue 14, :mod:`.reach`)
    The full report on the default data in English, then with ``--lang fr`` (figures drawn
    again in French, ``report.fr.html``): time and peak memory of each, and their ratio.
``score_cluster`` (:mod:`.reach`)
    ``rss score`` of the ~1,000,000 surveys of ``load_score_1m`` split into 4 hive-style
    Parquet partitions a country, in one process and on ``--cluster local`` (``--jobs``
    workers): time, peak memory of the process tree, of its largest process and of the
    command's own process (on the cluster: the client, which assembles the output).
``make_test`` (7)
    ``make test`` in this checkout, with the environment installed.
``synth_default``, ``synth_1m``
    Writing the default synthetic dataset; simulating ~1,000,000 surveys in memory.

Peak memory is the process's own ``ru_maxrss`` for single-process benchmarks; for
runs with workers and kernels it is the largest *sum* of the resident memory of the
process tree, sampled every 0.1 s (shared pages count once per process: an upper bound).

Imports: helpers.bench.measure, helpers.bench.reach, helpers.bench.registry, helpers.io, helpers.loader, helpers.paths, helpers.runner, helpers.runner.pool, helpers.scoring, helpers.synthetic.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .. import paths
from ..io import write_json
from ..runner.pool import KEEP_ENV, stop_kept
from . import reach  # noqa: F401  (registers the cluster, score_cluster and french benchmarks)
from .measure import TreePeak, peak_self_mib, run_measured
from .registry import (
    BENCH_DIR,
    REGISTRY,
    bench,
    big_parquet,
    clear_outputs,
    ensure_default_data,
    make_big_parquet,
    project,
    stop_and_remove,
)

__all__ = ["main"]

#: Scales of the default dataset for the scaling benchmark.
SCALES = (1, 10, 50)


def _rss_run(root: Path, env: dict[str, str], jobs: int) -> tuple[float, float]:
    seconds, mib, _out = run_measured([sys.executable, "-m", "helpers.cli", "run", "--jobs", str(jobs)], env=env,
                                       cwd=root)
    return seconds, mib


def _stop_and_remove_kernels(root: Path) -> None:
    """Stop the kernels the project's last run kept, so the script does not share the cores with them."""
    stop_kept(root)


# ------------------------------------------------------------------------------------------------ the script


def export_script(root: Path, jobs: list[dict[str, Any]]) -> str:
    """One plain Python program running ``jobs`` (notebook, parameters) in order, as papermill would.

    Each notebook is parameterised with papermill (the same injected cell) and exported
    with jupytext; each runs in a fresh namespace, in one interpreter.
    """
    import jupytext
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    parts = ["import os, sys, time\n", f"os.chdir({str(root)!r})\n", "_times = {}\n"]
    for i, job in enumerate(jobs):
        nb = load_notebook_node(str(root / "notebooks" / f"{job['notebook']}.ipynb"))  # as papermill reads it
        nb = parameterize_notebook(nb, job["params"], kernel_name="python3", language="python")
        code = jupytext.writes(nb, fmt="py:percent")
        parts.append(f"_code_{i} = compile({code!r}, {job['id'] + '.py'!r}, 'exec')\n")
    for i, job in enumerate(jobs):
        parts.append(f"_t = time.perf_counter()\nexec(_code_{i}, {{'__name__': '__main__'}})\n"
                     f"_times[{job['id']!r}] = time.perf_counter() - _t\n")
    parts.append("import json\nprint('TIMES ' + json.dumps(_times))\n")
    return "".join(parts)


def _script_jobs(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The jobs of a full run in dependency order: prepare, countries, once-notebooks."""
    from ..runner import REGISTRY as NOTEBOOKS

    kinds = {nb.name: nb.kind for nb in NOTEBOOKS}
    order = {"prepare": 0, "country": 1, "once": 2}
    jobs = [{"id": jid, "notebook": j["notebook"], "params": j["params"]} for jid, j in manifest["jobs"].items()]
    return sorted(jobs, key=lambda j: (order[kinds[j["notebook"]]], j["id"]))


# ------------------------------------------------------------------------------------------------ benchmarks


@bench("report", "warm full run: a fresh temporary project (notebooks + default data, no outputs, manifest nor "
       "kept kernels) on a machine that has run the workspace before (reuses: the project's bytecode, the OS file "
       "cache); full rss run; the same analyses as one plain Python process (ratio full / script)",
       "ratio <= 1.0", setup=ensure_default_data)
def _report(opts: dict[str, Any]) -> dict[str, Any]:
    jobs = opts["jobs"]
    root, env = project()
    try:
        full, peak = _rss_run(root, env, jobs)
        manifest = json.loads((root / "reports" / ".manifest.json").read_text())
        split = _split(root, manifest)
        script = root / "all_notebooks.py"
        script.write_text(export_script(root, _script_jobs(manifest)))
        _stop_and_remove_kernels(root)
        clear_outputs(root)
        script_s, script_mib, out = run_measured([sys.executable, str(script)], cwd=root, env=env)
        times = json.loads(next(ln for ln in out.splitlines() if ln.startswith("TIMES "))[6:])
    finally:
        stop_and_remove(root)
    med = {k: statistics.median(s[k] for s in split) for k in split[0] if k != "notebook"}
    return {"seconds": full, "peak_mib": peak, "script_seconds": script_s, "script_peak_mib": script_mib,
            "ratio": full / script_s, "notebooks": len(split), "median_notebook_split": med,
            "split": split, "script_notebook_seconds": times}


def _split(root: Path, manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Per executed notebook: kernel (re)start it waited for, papermill overhead, imports cell, the rest."""
    import nbformat

    split = []
    for jid, job in sorted(manifest["jobs"].items()):
        nb = nbformat.read(root / "reports" / "notebooks" / f"{jid}.ipynb", as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        tags = [c.metadata.get("tags", []) for c in code]
        after = max(i for i, t in enumerate(tags) if "parameters" in t or "injected-parameters" in t) + 1
        cell_time = [c.metadata.get("papermill", {}).get("duration") or 0.0 for c in code]
        total = job["duration"]
        kernel = job.get("kernel_start", 0.0)
        split.append({"notebook": jid, "total": total, "kernel_start": kernel,
                      "papermill": max(total - kernel - sum(cell_time), 0.0),
                      "imports": cell_time[after], "work": sum(cell_time) - cell_time[after]})
    return split


# ------------------------------------------------------------------------------------------- what users type


#: Where ``first_run`` keeps its clone between runs (its ``.venv`` is installed once per ``make bench``).
CLONE = Path(tempfile.gettempdir()) / "rss-bench-first-run"
#: The commit ``first_run`` clones (``--ref``; default this checkout's HEAD), e.g. an older one for "before".
REF = "HEAD"


def _make_clone() -> None:
    """A ``git clone`` of this checkout at :data:`REF` with its environment installed (``make setup``), once."""
    head = subprocess.run(["git", "-C", str(paths.ROOT), "rev-parse", REF], capture_output=True, text=True,
                          check=True).stdout.strip()
    if (CLONE / ".venv" / ".installed").exists():
        have = subprocess.run(["git", "-C", str(CLONE), "rev-parse", "HEAD"], capture_output=True, text=True,
                              check=False).stdout.strip()
        if have == head:
            return
    _stop_clone()
    shutil.rmtree(CLONE, ignore_errors=True)
    subprocess.run(["git", "clone", "--quiet", str(paths.ROOT), str(CLONE)], check=True)
    subprocess.run(["git", "-C", str(CLONE), "checkout", "--quiet", head], check=True)
    subprocess.run(["make", "-C", str(CLONE), "setup"], check=True, capture_output=True)


def _stop_clone() -> None:
    rss = CLONE / ".venv" / "bin" / "rss"
    if rss.exists():
        subprocess.run([str(rss), "stop"], cwd=CLONE, capture_output=True, check=False,
                       env={k: v for k, v in os.environ.items() if k not in ("RSS_ROOT", "RSS_DATA")})


def _pristine_clone() -> None:
    """The clone as ``git clone`` left it, but its installed ``.venv``: no data, outputs, kernels nor bytecode."""
    _stop_clone()
    subprocess.run(["git", "-C", str(CLONE), "clean", "-xdfq", "-e", ".venv"], check=True)
    subprocess.run(["git", "-C", str(CLONE), "checkout", "--quiet", "--", "."], check=True)
    for d in CLONE.rglob("__pycache__"):
        if ".venv" not in d.relative_to(CLONE).parts:
            shutil.rmtree(d, ignore_errors=True)


def _make_report(env: dict[str, str], *extra: str) -> dict[str, float]:
    """``make report`` in the clone, as typed; its wall time and the parts between the commands make echoes."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(["make", "report", *extra], cwd=CLONE, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    peak = TreePeak(proc.pid)
    marks: dict[str, float] = {}
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        word = line.split()
        if len(word) >= 2 and word[0].endswith("/rss") and word[1] in ("run", "check") and word[1] not in marks:
            marks[word[1]] = time.perf_counter() - t0
    proc.wait()
    wall = time.perf_counter() - t0
    mib = peak.stop()
    if proc.returncode != 0 or set(marks) != {"run", "check"}:
        raise RuntimeError(f"make report failed ({proc.returncode}):\n{''.join(lines)[-4000:]}")
    return {"seconds": wall, "peak_mib": mib, "setup_data_seconds": marks["run"],
            "run_seconds": marks["check"] - marks["run"], "check_seconds": wall - marks["check"]}


#: What a cell spends its time on, by what its source calls (first match wins).
CELL_KINDS = (("read_data", ("read_scored", "read_parquet", "load(", "loader.")),
              ("figures", ("save_figure", "plt.", "sns.", ".plot(")))


def first_run_split(root: Path) -> dict[str, Any]:
    """Where the notebook time of a run went: kernel start, papermill, imports cell, reading data, figures, the rest.

    Summed over the executed notebooks (CPU-seconds of the pool, not wall time: the
    pool runs notebooks side by side), from papermill's per-cell durations; plus the
    critical path: when the last notebook (and 30_mentoring) finished after the run began.
    """
    import datetime as dt

    import nbformat

    manifest = json.loads((root / "reports" / ".manifest.json").read_text())
    totals = dict.fromkeys(("kernel_start", "papermill", "imports", "read_data", "figures", "other_work"), 0.0)
    spans = {}
    for part in _split(root, manifest):
        for k in ("kernel_start", "papermill", "imports"):
            totals[k] += part[k]
    for jid in manifest["jobs"]:
        nb = nbformat.read(root / "reports" / "notebooks" / f"{jid}.ipynb", as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        tags = [c.metadata.get("tags", []) for c in code]
        after = max(i for i, t in enumerate(tags) if "parameters" in t or "injected-parameters" in t) + 1
        for i, c in enumerate(code):
            if i == after:
                continue
            d = c.metadata.get("papermill", {}).get("duration") or 0.0
            kind = next((k for k, keys in CELL_KINDS if any(key in c.source for key in keys)), "other_work")
            totals[kind] += d
        pm = nb.metadata.get("papermill", {})
        if pm.get("start_time") and pm.get("end_time"):
            spans[jid] = (dt.datetime.fromisoformat(pm["start_time"]), dt.datetime.fromisoformat(pm["end_time"]))
    begin = min(s for s, _ in spans.values())
    return {**{f"{k}_cpu_seconds": v for k, v in totals.items()},
            "last_notebook_done_after_seconds": max((e - begin).total_seconds() for _, e in spans.values()),
            "mentoring_start_after_seconds": (spans["30_mentoring"][0] - begin).total_seconds(),
            "mentoring_done_after_seconds": (spans["30_mentoring"][1] - begin).total_seconds()}


def _bytecode_seconds() -> float:
    """Compiling the project's own bytecode (src/helpers, once): what a first import pays beyond a warm one."""
    code = ("import compileall, pathlib, time, sys; t = time.perf_counter(); "
            "compileall.compile_dir(pathlib.Path(sys.argv[1]), quiet=1, force=True, legacy=False); "
            "print(time.perf_counter() - t)")
    tmp = Path(tempfile.mkdtemp(prefix="rss-bench-pyc-"))
    try:
        shutil.copytree(CLONE / "src" / "helpers", tmp / "helpers")
        out = subprocess.run([str(CLONE / ".venv" / "bin" / "python"), "-c", code, str(tmp / "helpers")],
                             capture_output=True, text=True, check=True).stdout
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return float(out.strip().splitlines()[-1])


@bench("first_run", "a newcomer's `make report` as typed: a fresh `git clone` of HEAD with its environment "
       "installed, no data, outputs, kept kernels, cache or project bytecode; then, in the same clone, `make "
       "report` again with nothing changed (reuses: outputs, manifest, kept kernels, the check record), after one "
       "answer of Somalia changed, then of Guinea (reuse the kept kernels), then Somalia with keeping off; and "
       "the one-process script of the same analyses (warm: after those runs)",
       "first-run rss run <= 1.0 x script; no-op make report <= 1 s; one country <= 10 s", setup=_make_clone)
def _first_run(opts: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd

    from ..io import write_csv

    _pristine_clone()
    env = {k: v for k, v in os.environ.items() if k not in ("RSS_ROOT", "RSS_DATA", KEEP_ENV)}
    env["JOBS"] = str(opts["jobs"])
    try:
        first = _make_report(env)
        split = first_run_split(CLONE)
        manifest = json.loads((CLONE / "reports" / ".manifest.json").read_text())
        noop = _make_report(env)
        raw = CLONE / "data" / "raw" / "synthetic"
        originals = {f: f.read_bytes() for f in raw.glob("*.csv")}

        def change_one_answer(name: str) -> None:
            csv = raw / name
            df = pd.read_csv(csv, dtype=str, keep_default_na=False)
            df.loc[0, "eco_employed"] = "1" if df.loc[0, "eco_employed"] != "1" else "0"
            write_csv(csv, df)

        change_one_answer("som.csv")
        one = _make_report(env)
        change_one_answer("gin.csv")
        fieldwork = _make_report(env)
        change_one_answer("som.csv")
        one_cold = _make_report({**env, KEEP_ENV: "0"})
        for f, data in originals.items():  # the script runs the same analyses on the same input
            f.write_bytes(data)
        subprocess.run(["git", "-C", str(CLONE), "clean", "-xdfq", "-e", ".venv", "-e", "data/raw"], check=True)
        subprocess.run(["git", "-C", str(CLONE), "checkout", "--quiet", "--", "."], check=True)
        script = CLONE / "all_notebooks.py"
        script.write_text(export_script(CLONE, _script_jobs(manifest)))
        script_s, script_mib, _out = run_measured([str(CLONE / ".venv" / "bin" / "python"), str(script)],
                                                   cwd=CLONE, env=env)
        bytecode = _bytecode_seconds()
    finally:
        _stop_clone()
    commit = subprocess.run(["git", "-C", str(CLONE), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()
    return {"commit": commit, "seconds": first["seconds"], "peak_mib": first["peak_mib"],
            "setup_data_seconds": first["setup_data_seconds"], "run_seconds": first["run_seconds"],
            "check_seconds": first["check_seconds"], "script_seconds": script_s, "script_peak_mib": script_mib,
            "ratio": first["run_seconds"] / script_s, "bytecode_compile_seconds": bytecode,
            "noop_make_report_seconds": noop["seconds"], "noop_check_seconds": noop["check_seconds"],
            "one_country_make_report_seconds": one["seconds"],
            "one_fieldwork_country_make_report_seconds": fieldwork["seconds"],
            "one_country_keep_off_make_report_seconds": one_cold["seconds"],
            **{f"split_{k}": v for k, v in split.items()}}


@bench("load_score_1m", "load + validate + score ~1,000,000 surveys from Parquet", "<= 2 s, <= 1024 MiB",
       setup=make_big_parquet)
def _load_score_1m(opts: dict[str, Any]) -> dict[str, Any]:
    from ..loader import load
    from ..scoring import score

    t0 = time.perf_counter()
    res = load(big_parquet())
    out = score(res.data, res.scheme)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "peak_mib": peak_self_mib(), "rows": len(out)}


@bench("scaling", "full report at the default size x1, x10, x50 (fresh project each): time and peak memory",
       "x50 <= 10 x the x1 time")
def _scaling(opts: dict[str, Any]) -> dict[str, Any]:
    res: dict[str, Any] = {}
    for s in opts["scales"]:
        root, env = project(scale=s)
        try:
            seconds, mib = _rss_run(root, env, opts["jobs"])
            surveys = json.loads((root / "reports" / "numbers.json").read_text())["prepare"]["n_surveys"]
        finally:
            stop_and_remove(root)  # kept kernels of a x50 run hold gigabytes
        res[f"x{s}_seconds"], res[f"x{s}_peak_mib"], res[f"x{s}_surveys"] = seconds, mib, surveys
    first, last = opts["scales"][0], opts["scales"][-1]
    res["seconds"], res["peak_mib"] = res[f"x{last}_seconds"], res[f"x{last}_peak_mib"]
    res["time_ratio"] = res[f"x{last}_seconds"] / res[f"x{first}_seconds"]
    return res


@bench("make_test", "`make test` wall time (environment installed)", "well under 15 min")
def _make_test(opts: dict[str, Any]) -> dict[str, Any]:
    seconds, mib, _out = run_measured(["make", "-C", str(paths.ROOT), "test"])
    return {"seconds": seconds, "peak_mib": mib}


@bench("synth_default", "generate and write the default synthetic dataset (~20,000 surveys)", "<= 5 s")
def _synth_default(opts: dict[str, Any]) -> dict[str, Any]:
    from ..synthetic import write_dataset

    d = tempfile.mkdtemp()
    try:
        t0 = time.perf_counter()
        write_dataset(d)
        seconds = time.perf_counter() - t0
    finally:
        shutil.rmtree(d, ignore_errors=True)
    return {"seconds": seconds, "peak_mib": peak_self_mib()}


@bench("synth_1m", "simulate ~1,000,000 surveys in memory (scale 50)", "<= 60 s")
def _synth_1m(opts: dict[str, Any]) -> dict[str, Any]:
    from ..synthetic import simulate

    t0 = time.perf_counter()
    df, _truth = simulate(seed=1, scale=50)
    return {"seconds": time.perf_counter() - t0, "peak_mib": peak_self_mib(), "rows": len(df)}


# ------------------------------------------------------------------------------------------------ driver


def _run_once(name: str, opts: dict[str, Any]) -> dict[str, Any]:
    """Run one benchmark in a fresh process; return its figures."""
    code = (f"import json, sys\nfrom helpers import bench\nb = next(b for b in bench.REGISTRY if b.name == {name!r})\n"
            f"print('RESULT ' + json.dumps(b.fn(json.loads(sys.argv[1])), default=float))\n")
    r = subprocess.run([sys.executable, "-c", code, json.dumps(opts)], capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"benchmark {name} failed:\n{r.stderr[-6000:]}")
    return json.loads(next(ln for ln in r.stdout.splitlines() if ln.startswith("RESULT "))[7:])


def _spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def _is_figure(key: str, value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and (
        key in ("seconds", "peak_mib", "ratio", "time_ratio") or key.endswith(("_seconds", "_peak_mib")))


def run(only: list[str] | None = None, repeat: int = 3, opts: dict[str, Any] | None = None) -> dict[str, Any]:
    opts = opts or {}
    results = {}
    for b in REGISTRY:
        if only and b.name not in only:
            continue
        if b.setup:
            b.setup()
        runs = [_run_once(b.name, opts) for _ in range(repeat)]
        spread = {k: _spread([r[k] for r in runs]) for k, v in runs[-1].items() if _is_figure(k, v)}
        results[b.name] = {
            "what": b.what, "target": b.target, "runs": repeat, "options": opts,
            **{k: v for k, v in runs[-1].items() if k not in spread},  # details of the last run
            **spread,
        }
        _print_row(b.name, results[b.name])
    return results


def _fmt(v: dict[str, float], unit: str) -> str:
    if unit == "MiB":
        return f"{v['median']:8.0f} MiB (min {v['min']:.0f}, max {v['max']:.0f})"
    if unit == "x":
        return f"{v['median']:8.2f}     (min {v['min']:.2f}, max {v['max']:.2f})"
    return f"{v['median']:8.2f} s   (min {v['min']:.2f}, max {v['max']:.2f})"


def _print_row(name: str, r: dict[str, Any]) -> None:
    print(f"{name}  [{r['runs']} run{'s' if r['runs'] != 1 else ''}; target {r['target']}]  {r['what']}", flush=True)
    for k, v in r.items():
        if isinstance(v, dict) and set(v) == {"median", "min", "max"}:
            unit = "MiB" if k.endswith("peak_mib") else "x" if k.endswith("ratio") else "s"
            print(f"  {k:<30} {_fmt(v, unit)}", flush=True)
    if "median_notebook_split" in r:
        sp = r["median_notebook_split"]
        print(f"  per notebook (median of {r['notebooks']}, last run): total {sp['total']:.2f} s = kernel start "
              f"{sp['kernel_start']:.2f} + papermill {sp['papermill']:.2f} + imports cell {sp['imports']:.2f} + "
              f"work {sp['work']:.2f}", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m helpers.bench", description=__doc__.splitlines()[0])
    p.add_argument("--only", nargs="*", help=f"benchmarks to run: {', '.join(b.name for b in REGISTRY)}")
    p.add_argument("--repeat", type=int, default=3, help="runs per benchmark (median, min, max)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="rss run --jobs (default: all cores)")
    p.add_argument("--ref", default="HEAD", help="commit the first_run benchmark clones (default HEAD)")
    p.add_argument("--scales", type=float, nargs="+", default=list(SCALES), help="sizes for the scaling benchmark")
    args = p.parse_args(argv)
    global REF
    REF = args.ref
    scales = [int(s) if float(s).is_integer() else s for s in args.scales]
    t0 = time.perf_counter()
    results = run(args.only, args.repeat, {"jobs": args.jobs, "scales": scales})
    out = BENCH_DIR / "bench.json"
    previous = json.loads(out.read_text()) if out.exists() else {}
    merged = {**previous.get("results", {}), **results}
    write_json(out, {
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "results": merged,
    })
    print(f"wrote {out} ({time.perf_counter() - t0:.0f} s)")
    return 0

