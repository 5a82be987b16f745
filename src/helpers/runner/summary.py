"""The end of a run: the failure summary naming each failed notebook, its cell and its error, and
the note on kernels kept for the next run.

Imports: helpers.runner.executor, helpers.runner.plan, helpers.runner.progress, helpers.runner.registry only.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from .executor import Executor
from .plan import Layout, Result, relative
from .progress import Progress, clock_text
from .registry import MAX_MESSAGE_LINES


def _describe_failure(job_id: str, res: Result, root: Path) -> str:
    e = res.error or {}
    if e.get("skipped"):
        return f"  {job_id}: not run: {e.get('evalue')}"
    evalue = str(e.get("evalue", "")).strip().splitlines()
    out = [f"  {job_id}: {e.get('ename', 'Error')}: {evalue[0] if evalue else ''}"]
    out += [f"      {ln}" for ln in evalue[1:MAX_MESSAGE_LINES]]  # e.g. the input problems of 00_prepare
    if len(evalue) > MAX_MESSAGE_LINES:
        out.append(f"      ... ({len(evalue) - MAX_MESSAGE_LINES} more lines in the executed notebook)")
    where = []
    if e.get("cell") is not None:
        where.append(f"cell {e['cell'] + 1}" + (f" (In [{e['exec_count']}])" if e.get("exec_count") else ""))
    if e.get("line"):
        where.append(e["line"])
    if where:
        out.append(f"      at {', '.join(where)}")
    out.append(f"      executed notebook: {relative(res.output, root)}" if res.output
               else "      no executed notebook was written")
    if e.get("log"):
        out.append(f"      worker log: {e['log']}")
    return "\n".join(out)


def keep_kernels(executor: Executor, progress: Progress, code: int) -> int:
    """Leave the workers waiting for the next run (``RSS_KEEP_KERNELS``) and say so; return ``code``."""
    n = executor.keep()
    if n:
        progress.line(f"rss run: {n} kernel{'s' if n != 1 else ''} kept warm for the next run for "
                      f"{clock_text(executor.keep_for)} (`rss stop` ends them now; RSS_KEEP_KERNELS=0 turns this off)")
    return code


def run_summary(lay: Layout, progress: Progress, results: dict[str, Result], man: dict[str, Any], *, built: bool,
             t_start: float) -> int:
    progress.close()
    took = clock_text(time.time() - t_start)
    failed = {k: r for k, r in results.items() if r.status != "ok"}
    if failed:
        lines = [f"rss run: {len(failed)} of {len(results)} notebooks failed after {took}; reports/report.html "
                 "was NOT rebuilt (the previous report, if any, is kept):"]
        lines += [_describe_failure(k, failed[k], lay.root) for k in sorted(failed)]
        progress.line("\n".join(lines))
        return 1
    ran = len(results)
    n_all = len(man.get("run", {}).get("expected", [])) - len(man.get("run", {}).get("not_run", []))
    stale = man.get("run", {}).get("stale", [])
    msg = (f"rss run: {ran} notebook{'s' if ran != 1 else ''} ran, {n_all - ran - len(stale)} up to date ({took}); "
           f"report {'rebuilt' if built else 'up to date'}: {relative(lay.reports / 'report.html', lay.root)}")
    progress.line(msg)
    if stale:
        progress.line(f"note: {len(stale)} notebook{'s' if len(stale) != 1 else ''} not rerun (--country) "
                      f"whose inputs changed, flagged in the report: {', '.join(stale)}")
    not_run = man.get("run", {}).get("not_run", [])
    if not_run:
        progress.line(f"note: {len(not_run)} notebook{'s' if len(not_run) != 1 else ''} never run (--country); "
                      f"the report says 'not computed yet' for them: {', '.join(not_run)}")
    return 0
