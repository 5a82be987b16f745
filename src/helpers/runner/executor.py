"""Scheduling: the worker slots, the order and parallelism of jobs, timeouts, kept workers, and
recording each result into the manifest as it finishes.

Imports: helpers.io, helpers.runner.plan, helpers.runner.pool, helpers.runner.progress, helpers.runner.registry, helpers.runner.worker only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .plan import Job, Layout, Result, relative
from .progress import Progress
from .registry import Notebook
from .worker import cell_marker, import_for_fingerprint, import_papermill_fast, kill_process, serve


class _Slot:
    """The runner's end of a worker process (:func:`serve`): its process and the connection to it."""

    def __init__(self, conn: Any, proc: Any):
        self.conn, self.proc = conn, proc

    @classmethod
    def start(cls, ctx: Any, cfg: dict[str, Any], number: int) -> _Slot:
        """A new worker: forked into a session of its own where workers can be kept (Linux), else by ``ctx``."""
        conn, child = ctx.Pipe()
        if cfg["own_session"]:
            from . import pool

            proc = pool.fork(serve, child, cfg, keep_fds=(child.fileno(),))
        else:
            # daemon: should one ever be left running, the interpreter's exit terminates it, not waits for it
            proc = ctx.Process(target=serve, args=(child, cfg), name=f"rss-worker-{number}", daemon=True)
            proc.start()
        child.close()
        return cls(conn, proc)

    def send(self, spec: dict[str, Any]) -> None:
        self.conn.send(spec)

    def done(self) -> bool:
        """Whether the worker reported its notebook finished (False when it died instead)."""
        try:
            if self.conn.poll():
                self.conn.recv()
                return True
        except (EOFError, OSError):
            pass
        return False

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)

    def keep(self, seconds: float, root: Path, key: str) -> bool:
        """Let the worker wait for the next run on a socket made here (:mod:`helpers.pool`); forget it here.

        False (and the worker is told to stop) when no socket can be made.
        """
        from multiprocessing.reduction import send_handle

        from . import pool

        where = None
        with contextlib.suppress(OSError):
            where = pool.listen(root, key, self.proc.pid)
        if where is None:
            self.stop()
            return False
        listener = where.pop("socket")
        try:
            self.conn.send({"keep": seconds, **where})
            send_handle(self.conn, listener.fileno(), self.proc.pid)
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                os.unlink(where["path"])
            return False
        finally:
            listener.close()
        self.conn.close()
        self.proc.release()
        return True

    # what the scheduling loop of :meth:`Executor.run` asks of a running job's slot
    def waitables(self) -> list[Any]:
        return [self.conn, self.proc.sentinel]

    def ended(self) -> tuple[bool, int | None]:
        """Whether the worker died without reporting (and its exit code); it is reaped."""
        if self.proc.is_alive():
            return False, None
        self.proc.join()
        self.conn.close()
        return True, self.proc.exitcode

    def kill(self) -> None:
        kill_process(self.proc)
        self.conn.close()

    def join(self, timeout: float = 10.0) -> None:
        self.proc.join(timeout)
        if self.proc.is_alive():
            kill_process(self.proc)
        self.conn.close()


class Executor:
    """Run jobs on worker processes that each keep a kernel, at most ``jobs`` at a time, each with a timeout.

    A worker runs its notebooks one after another on the same kernel, reset between them
    (:func:`serve`); a worker that timed out or died is replaced by a new one.
    """

    def __init__(self, lay: Layout, man: dict[str, Any], *, jobs: int, timeout: float, progress: Progress,
                 save: Any, fresh: bool = False, keep: float = 0.0, key: Any = None):
        self.lay, self.man, self.jobs, self.timeout = lay, man, max(1, jobs), timeout
        self.progress, self.save, self.fresh = progress, save, fresh
        # seconds the workers wait for the next run when this one ends (helpers.pool), and what they must match
        # (computed when first needed: a run with nothing to do never hashes the helpers for it)
        self.keep_for, self._key_of, self._key = (0.0 if fresh else keep), key, None
        self.adopted = False  # the kept workers of earlier runs were looked for
        self.kept = 0  # workers left waiting for the next run
        self.ctx = None
        self.idle: list[_Slot] = []  # workers with a kernel, waiting for a notebook
        self.stopping: list[_Slot] = []  # workers told to stop, not yet waited for
        self.every: list[_Slot] = []  # every worker started, whatever became of it (all are killed on Ctrl-C)
        self.slots = 0  # workers started so far (their number names their log)
        self.git: dict[str, Any] | None = None
        self.durations: list[float] = []
        self.slack = 0.0  # seconds past the timeout before the runner stops a job itself (a cluster's task stops first)
        self._imports: threading.Thread | None = None

    @property
    def where(self) -> str:
        """How the progress line names where the notebooks run."""
        return f"{self.jobs} worker{'s' if self.jobs != 1 else ''}"

    @property
    def key(self) -> str:
        """The pool key of this run's workers (:func:`helpers.pool.key`); "" when keeping is off."""
        if self._key is None:
            self._key = self._key_of() if self._key_of is not None and self.keep_for > 0 else ""
        return self._key

    # papermill is imported only in boot() and check(), i.e. only when something must run
    def boot(self, n: int) -> None:
        """Have ``n`` workers (at most ``jobs``) ready: the kept ones of an earlier run, else new ones.

        New workers are forked once papermill is imported, so that their kernels start at
        once.  Then, in a thread of this process, import what :func:`scored_fingerprint`
        needs (pandas, pyarrow), while the workers start their kernels and the first
        notebook runs; :meth:`_new_slot` waits for that thread before it forks another worker.
        """
        if not self.adopted:
            self.adopted = True
            self._adopt()
        self.open(n)
        if self._imports is None:
            self._imports = threading.Thread(target=import_for_fingerprint, name="rss-imports", daemon=True)
            self._imports.start()

    def imported(self) -> None:
        """Wait for the imports :meth:`boot` started in a thread (no fork may happen while one is importing)."""
        if self._imports is not None:
            self._imports.join()

    def check(self, notebooks: list[tuple[Notebook, dict[str, str]]]) -> list[str]:
        """Check every notebook's parameters (papermill's view of them); return the problems found."""
        import_papermill_fast()
        import papermill as pm

        problems = []
        for nb, params in notebooks:
            src = self.lay.source(nb)
            rel = relative(src, self.lay.root)
            try:
                declared = pm.inspect_notebook(str(src))
            except Exception as exc:  # noqa: BLE001
                problems.append(f"{rel}: cannot be read as a notebook ({type(exc).__name__}: {exc})")
                continue
            if not declared:
                problems.append(f"{rel}: no cell tagged `parameters`; the runner passes {', '.join(params)}")
                continue
            names = ", ".join(declared) or "none"
            for p in params:
                if p not in declared:
                    problems.append(f"{rel}: unknown parameter {p!r}: the runner passes it but the notebook's "
                                    f"`parameters` cell declares only {names}")
                    continue
                t = declared[p].get("inferred_type_name") or "None"
                if t == "None":  # no annotation: papermill infers nothing, the default's literal tells
                    import ast

                    with contextlib.suppress(ValueError, SyntaxError, TypeError):
                        value = ast.literal_eval(str(declared[p].get("default", "''")))
                        t = "None" if value is None or isinstance(value, str) else type(value).__name__
                if t not in ("None", "str") and "str" not in t:
                    problems.append(f"{rel}: parameter {p!r} is declared as {t}, but the runner passes strings")
        return problems

    def _eta(self, pending: list[Job], running: dict[str, tuple[Any, float, Job]]) -> float | None:
        known = [j.expected for j in [*pending, *(r[2] for r in running.values())] if j.expected]
        known = known or self.durations  # first run: what this run's finished notebooks took
        fallback = (sum(known) / len(known)) if known else None
        work = 0.0
        now = time.monotonic()
        for j in pending:
            if j.expected is None and fallback is None:
                return None
            work += j.expected or fallback
        for _proc, start, j in running.values():
            exp = j.expected or fallback
            if exp is None:
                return None
            work += max(exp - (now - start), 1.0)
        return work / self.jobs

    def _adopt(self) -> None:
        """Take the workers an earlier run kept (:mod:`helpers.pool`); when keeping is off, stop them."""
        from . import pool

        if not pool.supported():
            return
        if self.keep_for <= 0:
            pool.stop_kept(self.lay.root, wait=None)
            return
        for conn, proc in pool.adopt(self.lay.root, self.key, self.jobs):
            self.slots += 1
            log = self.lay.logs / f"worker-{self.slots}.log"
            try:
                conn.send({"log": str(log)})
            except OSError:
                conn.close()
                continue
            slot = _Slot(conn, proc)
            self.every.append(slot)
            self.idle.append(slot)

    def open(self, n: int) -> None:
        """Start workers (each with its kernel) until ``n`` wait for work, at most ``jobs``."""
        while len(self.idle) < min(n, self.jobs):
            self.idle.append(self._new_slot())

    def _new_slot(self) -> _Slot:
        self.imported()
        if self.ctx is None:
            import multiprocessing as mp

            import_papermill_fast()
            # fork (papermill stays imported: no re-import per notebook) where it is safe; spawn elsewhere
            method = "fork" if sys.platform == "linux" and "fork" in mp.get_all_start_methods() else "spawn"
            self.ctx = mp.get_context(method)
        self.lay.logs.mkdir(parents=True, exist_ok=True)
        self.slots += 1
        from . import pool

        cfg = {"root": str(self.lay.root), "fresh": self.fresh, "own_session": pool.supported(), "key": self.key,
               "log": str(self.lay.logs / f"worker-{self.slots}.log")}
        slot = _Slot.start(self.ctx, cfg, self.slots)
        self.every.append(slot)
        return slot

    def keep(self) -> int:
        """Leave the idle workers waiting for the next run (when keeping is on); return how many."""
        if self.keep_for > 0:
            for slot in self.idle:
                if slot.keep(self.keep_for, self.lay.root, self.key):
                    self.every.remove(slot)
                    self.kept += 1
                else:
                    self.stopping.append(slot)
            self.idle = []
        return self.kept

    def stop(self) -> None:
        """Tell the idle workers to stop (each shuts its kernel down); :meth:`close` waits for them."""
        for slot in self.idle:
            slot.stop()
        self.stopping, self.idle = [*self.stopping, *self.idle], []

    def close(self) -> None:
        """Stop the idle workers and their kernels, and wait for them (each is killed if it takes long)."""
        self.stop()
        slots, self.stopping = self.stopping, []
        for slot in slots:
            slot.join()
        self.imported()

    def run(self, todo: list[Job], done_ok: set[str]) -> dict[str, Result]:
        """Run ``todo`` respecting ``needs`` (a job runs when all it needs is in ``done_ok``)."""
        from multiprocessing.connection import wait

        self.lay.running.mkdir(parents=True, exist_ok=True)
        self.lay.logs.mkdir(parents=True, exist_ok=True)
        results: dict[str, Result] = {}
        # longest first by the previous run; never run: the pooled notebooks (all countries' rows) first
        pending = sorted(todo, key=lambda j: (-(j.expected if j.expected is not None else float("inf")),
                                              j.notebook.kind != "once", j.id))
        running: dict[str, tuple[_Slot, float, Job]] = {}
        todo_ids = {j.id for j in todo}
        try:
            while pending or running:
                # jobs whose needs failed are not run
                for j in list(pending):
                    bad = [n for n in j.needs if n in results and results[n].status != "ok"]
                    if bad:
                        pending.remove(j)
                        results[j.id] = Result("failed", 0.0, {"skipped": True, "ename": "NotRun",
                                                               "evalue": f"needs {', '.join(bad)}, which failed"})
                        self.progress.finished(j.id, results[j.id], self._eta(pending, running))
                # start ready jobs, longest first
                for j in list(pending):
                    if len(running) >= self.jobs:
                        break
                    if all(n in done_ok or (n not in todo_ids) or
                           (n in results and results[n].status == "ok") for n in j.needs):
                        pending.remove(j)
                        running[j.id] = (self._start(j), time.monotonic(), j)
                if not running:
                    for j in pending:  # cannot start: a cycle of needs in the registry
                        results[j.id] = Result("failed", 0.0, {"skipped": True, "ename": "NotRun",
                                                               "evalue": f"needs {', '.join(j.needs)}: a cycle"})
                    break
                self.progress.status(sorted(running), self._eta(pending, running))
                now = time.monotonic()
                next_deadline = min(start + self.timeout + self.slack for _s, start, _j in running.values())
                wait(list(dict.fromkeys(w for s, _t, _j in running.values() for w in s.waitables())),
                     timeout=max(0.05, min(0.5 if self.progress.tty else 5.0, next_deadline - now)))
                now = time.monotonic()
                for jid, (slot, start, job) in list(running.items()):
                    if slot.done():
                        del running[jid]
                        results[jid] = self._finish(job, now - start, None, timed_out=False)
                        self._free(slot)
                    elif (dead := slot.ended())[0]:
                        del running[jid]
                        results[jid] = self._finish(job, now - start, dead[1], timed_out=False)
                    elif now - start > self.timeout + self.slack:
                        slot.kill()
                        del running[jid]
                        results[jid] = self._finish(job, now - start, None, timed_out=True)
                    else:
                        continue
                    self.progress.finished(jid, results[jid], self._eta(pending, running))
        except KeyboardInterrupt:
            for jid, (slot, start, job) in running.items():
                slot.kill()
                results[jid] = Result("interrupted", time.monotonic() - start)
                self._record(job, results[jid])
                for f in self.lay.running_files(jid):
                    with contextlib.suppress(FileNotFoundError):
                        f.unlink()
            running.clear()
            for slot in self.every:  # the idle ones, and any caught between the idle list and the running one
                if slot.proc.is_alive():
                    kill_process(slot.proc)
            self.idle = []
            self.save()
            raise
        finally:
            if not running:  # nothing writes any more: sweep what killed writers left behind
                sweep_temporaries(self.lay)
        return results

    def _free(self, slot: _Slot) -> None:
        """A slot whose notebook finished: its worker waits for the next one."""
        self.idle.append(slot)

    def _spec(self, job: Job) -> dict[str, Any]:
        """What a worker needs to run ``job`` (paths, parameters); the job's running files are cleared first."""
        lay = self.lay
        notebook, _marker, result = files = lay.running_files(job.id)
        for f in files:
            with contextlib.suppress(FileNotFoundError):
                f.unlink()
        return {"id": job.id, "input": str(lay.source(job.notebook)), "output": str(notebook),
                "params": job.params, "cwd": str(lay.root), "log": str(lay.logs / f"{job.id}.log"),
                "result": str(result)}

    def _start(self, job: Job) -> _Slot:
        spec = self._spec(job)
        slot = self.idle.pop(0) if self.idle else self._new_slot()
        slot.send(spec)
        return slot

    def _finish(self, job: Job, duration: float, exitcode: int | None, *, timed_out: bool) -> Result:
        lay = self.lay
        tmp, marker, res_file = lay.running_files(job.id)
        info: dict[str, Any] | None = None
        with contextlib.suppress(OSError, ValueError):
            info = json.loads(res_file.read_text(encoding="utf-8"))
        with contextlib.suppress(FileNotFoundError):
            res_file.unlink()
        timed_out = timed_out or (info or {}).get("status") == "timeout"  # a cluster's task stopped itself
        if timed_out:
            cell = _running_cell(tmp)
            info = {"status": "timeout", "ename": "Timeout",
                    "evalue": f"still running after {self.timeout:g} s (--timeout {self.timeout:g}); stopped it "
                              "and its kernel", **cell}
        elif info is None:
            code = f" with exit code {exitcode}" if exitcode is not None else ""
            info = {"status": "failed", "ename": "WorkerDied",
                    "evalue": f"the worker process ended{code} without a result"}
        elif info.get("ename") == "DeadKernelError":
            info = {**info, "evalue": "the kernel died while running the notebook (killed by a signal, e.g. out "
                                      "of memory, or it called os._exit); the outputs of that notebook are "
                                      "incomplete", **_running_cell(tmp)}
        with contextlib.suppress(FileNotFoundError):
            marker.unlink()
        status = info.pop("status")
        kernel_start = float(info.pop("kernel_start", 0.0) or 0.0)
        new_kernel = bool(info.pop("new_kernel", False))
        if status == "ok" and tmp.is_file():
            os.replace(tmp, lay.output(job.id))
            with contextlib.suppress(FileNotFoundError):
                lay.failed(job.id).unlink()
            res = Result("ok", duration, None, lay.output(job.id), kernel_start, new_kernel)
        else:
            if status == "ok":  # papermill reported success but wrote nothing
                status, info = "failed", {"ename": "NoOutput", "evalue": "no executed notebook was written"}
            out = None
            if tmp.is_file() and not _readable_json(tmp):  # killed while papermill was saving it
                tmp.unlink()
                info["evalue"] = f"{info.get('evalue', '')} (its executed notebook was cut short while being saved: " \
                                 "not kept)"
            if tmp.is_file():
                os.replace(tmp, lay.failed(job.id))
                out = lay.failed(job.id)
            info["log"] = relative(lay.logs / f"{job.id}.log", lay.root)
            res = Result(status, duration, info, out, kernel_start, new_kernel)
        self._record(job, res)
        self.save()
        self.durations.append(duration)
        return res

    def _record(self, job: Job, res: Result) -> None:
        prev = self.man["jobs"].get(job.id, {})
        self.man["jobs"][job.id] = {
            "notebook": job.notebook.name, "country": job.country, "params": job.params, "key": job.key,
            "parts": job.parts, "status": res.status, "duration": round(res.duration, 3),
            "kernel_start": round(res.kernel_start, 3), "new_kernel": res.new_kernel,
            "longest": _longest(prev, job, res),
            "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "output": relative(res.output, self.lay.root) if res.output else None,
            "error": res.error, "git": self.git,
        }


def _longest(prev: dict[str, Any], job: Job, res: Result) -> float | None:
    """The longest successful run of this job's notebook with this code (what the scheduler plans with).

    A notebook whose results come partly from :mod:`helpers.cache` runs much faster
    when its inputs barely changed than when they did; planning with the last run only
    would start it last, after a run where it was quick.  Forgotten when the notebook,
    the helpers or the packages change.
    """
    same = all(prev.get("parts", {}).get(k) == job.parts.get(k) for k in ("notebook", "helpers", "env"))
    old = prev.get("longest") if same else None
    new = round(res.duration, 3) if res.status == "ok" else None
    return max((v for v in (old, new) if v is not None), default=None)


def expected_seconds(entry: dict[str, Any]) -> float | None:
    """Seconds a job is planned to take: its longest run (:func:`_longest`), else its last."""
    return entry.get("longest") or entry.get("duration")


def _readable_json(path: Path) -> bool:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True


def _running_cell(nb_path: Path) -> dict[str, Any]:
    """Where a stopped notebook was: the cell the worker's marker names (:func:`cell_marker`), else the
    cell papermill marked ``running`` when it saved.

    When the kernel died, papermill finishes the notebook itself and marks no cell
    running: the cell is then the last one it started.
    """
    try:
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    cells = nb.get("cells", [])
    meta = [c.get("metadata", {}).get("papermill", {}) for c in cells]
    at = None
    with contextlib.suppress(OSError, ValueError):
        at = int(cell_marker(nb_path).read_text())
        at = at if 0 <= at < len(cells) else None
    if at is None:
        at = next((i for i, m in enumerate(meta) if m.get("status") == "running"), None)
    if at is None:
        started = [i for i, m in enumerate(meta) if m.get("start_time") and cells[i].get("cell_type") == "code"]
        at = started[-1] if started else None
    if at is None:
        return {}
    src = cells[at].get("source", "")
    src = "".join(src) if isinstance(src, list) else src
    first = next((ln.strip() for ln in src.splitlines() if ln.strip()), "")
    return {"cell": at, "line": f"the cell starting {first!r}" if first else None}


def sweep_temporaries(lay: Layout) -> list[Path]:
    """Remove temporaries of killed writers under ``reports/`` and ``data/processed/`` (nothing may be running)."""
    from ..io import remove_temporaries

    gone = remove_temporaries([lay.reports, lay.processed])
    if lay.running.is_dir():
        for p in lay.running.iterdir():
            with contextlib.suppress(OSError):
                p.unlink()
                gone.append(p)
    return gone
