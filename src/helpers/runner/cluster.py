"""The notebook batch on a ``dask.distributed`` cluster: ``rss run --cluster ADDRESS`` (or ``RSS_CLUSTER``).

    rss run --cluster tcp://scheduler:8786    # an existing scheduler
    rss run --cluster local                   # a LocalCluster on this machine (--jobs workers)

Each notebook is one task submitted to the scheduler; everything else is the local
runner's: the same plan (what is stale, in what order, what needs what), the same
timeouts, failure isolation, progress line, manifest and report.  Only where a notebook
runs changes, so the outputs are byte-identical to a local run
(``tests/test_cluster.py``).

What a cluster must provide
---------------------------
* **The project folder at the same path on every worker** (an NFS or other shared
  mount): a task reads the notebook, the scored data and writes its outputs there,
  exactly as a local worker does; the runner moves the executed notebooks in place.
  Before anything runs, every worker is asked to read a token the runner has just
  written under ``reports/notebooks/.running/``, and a worker that cannot is refused
  by name.
* **The same installed project** (``make setup`` from the same checkout): a worker
  whose helpers code differs from the runner's (the hash the manifest keys runs on)
  is refused by name.
* Workers with one thread each (``dask worker --nthreads 1``): each task starts a
  kernel of its own, and the runner runs as many tasks at once as the cluster has
  threads (at most ``--jobs`` when given).

Nothing of the data travels over the wire: a task is sent paths, parameters and the
run's ``RSS_*`` settings, and returns the job id; its result (status, error line) is a
small JSON file in the shared folder.  The notebook itself reads what it reads, on the
worker.

Faults
------
* A notebook that raises fails alone, as locally.
* **Timeout**: the task itself stops its kernel once ``--timeout`` has passed (a
  cancelled Dask task cannot be stopped from outside) and reports the cell it was in;
  the runner gives up on a task that has not reported :data:`GRACE` seconds later.
* **A worker that dies** mid-notebook (killed, out of memory): the scheduler would run
  the task again elsewhere, but a notebook that was cut short may have written part of
  its outputs, so the second attempt does not run it: it finds the first attempt's
  marker (``.running/<id>.attempt``) and reports the notebook failed, naming the worker
  that died.  The run goes on with the others and exits 1, as locally.
* Ctrl-C cancels the tasks; a LocalCluster is shut down with its workers (their kernels
  notice their parent is gone within a second); on a remote cluster a running kernel
  is stopped by its task's timeout.

Imports: helpers.io, helpers.provenance, helpers.runner.executor, helpers.runner.plan, helpers.runner.registry, helpers.runner.worker only.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .executor import Executor
from .plan import Job
from .registry import NOTEBOOK_ENV, RunError

CLUSTER_ENV = "RSS_CLUSTER"
#: ``--cluster local``: a LocalCluster started (and shut down) by the run.
LOCAL = "local"
#: Seconds past ``--timeout`` the runner waits for a task that stops itself before giving up on it.
GRACE = 30.0
#: Seconds to connect to a scheduler.
CONNECT_TIMEOUT = 20.0


def cluster_address(arg: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """The cluster a run uses: ``--cluster``, else ``RSS_CLUSTER``, else None (the local pool)."""
    env = os.environ if env is None else env
    value = (arg if arg is not None else env.get(CLUSTER_ENV, "")).strip()
    return value or None


def task_env(root: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The variables a task sets for its kernel: the project root, the run's ``RSS_*`` settings, one BLAS thread."""
    env = os.environ if env is None else env
    out = {k: v for k, v in env.items() if k.startswith("RSS_") and k != CLUSTER_ENV}
    out.update({k: env[k] for k in NOTEBOOK_ENV if k in env})
    out["RSS_ROOT"] = str(root)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        out[var] = env.get(var, "1")
    return out


# ---------------------------------------------------------------------------------------------------------------
# on the workers


def probe(token: str, expected: str, paths: Sequence[str] = ()) -> dict[str, Any]:
    """Run on every worker before the work: does it see the shared folder (the token) and ``paths``, and run the
    same helpers?"""
    from ..provenance import helpers_hash

    try:
        seen = Path(token).read_text(encoding="utf-8") == expected
    except OSError:
        seen = False
    return {"sees_project": seen, "missing": [p for p in paths if not os.path.exists(p)], "helpers": helpers_hash(),
            "host": socket.gethostname(), "pid": os.getpid()}


def _worker_address() -> str:
    with contextlib.suppress(Exception):
        from distributed import get_worker

        return str(get_worker().address)
    return f"{socket.gethostname()} pid {os.getpid()}"


def run_task(spec: dict[str, Any]) -> str:
    """A Dask task: execute one notebook on a kernel of its own and write its result file; return the job id.

    ``spec`` is the local runner's (paths, parameters) plus ``attempt`` (the marker of
    a first attempt), ``env`` (:func:`task_env`) and ``timeout`` (seconds).
    """
    from ..io import write_text
    from .worker import PoolKernel, failure, import_papermill_fast, pool_engine

    here = {"worker": _worker_address(), "host": socket.gethostname(), "pid": os.getpid()}
    try:
        fd = os.open(spec["attempt"], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:  # the scheduler runs it again: the worker of the first attempt died
        try:
            first = json.loads(Path(spec["attempt"]).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            first = {}
        where = first.get("worker", "a worker")
        result = {"status": "failed", "ename": "WorkerDied",
                  "evalue": f"the Dask worker running it ({where}) ended mid-notebook (killed, or out of memory); "
                            "not run again, since it may have written part of its outputs"}
        write_text(spec["result"], json.dumps(result))
        return spec["id"]
    with os.fdopen(fd, "w") as f:
        json.dump(here, f)

    import_papermill_fast()
    import papermill as pm

    Path(spec["log"]).parent.mkdir(parents=True, exist_ok=True)
    log = open(spec["log"], "w", encoding="utf-8")  # noqa: SIM115 -- the kernel writes to it until it stops
    kernel = PoolKernel(spec["cwd"], fresh=True, env=spec["env"], output=log)
    timed_out = threading.Event()

    def stop_kernel() -> None:  # the timeout: kill the kernel (and its children); papermill then returns
        timed_out.set()
        with contextlib.suppress(Exception):
            import psutil

            proc = psutil.Process(kernel.km.provisioner.pid)
            for p in [*proc.children(recursive=True), proc]:
                with contextlib.suppress(Exception):
                    p.kill()

    t0 = time.perf_counter()
    timer = threading.Timer(float(spec["timeout"]), stop_kernel)
    timer.daemon = True
    result: dict[str, Any] = {"status": "ok", "new_kernel": True}
    try:
        timer.start()
        kernel.start()
        result["kernel_start"] = round(kernel.started, 3)
        pm.execute_notebook(spec["input"], spec["output"], parameters=spec["params"], kernel_name="python3",
                            engine_name=pool_engine(), km=kernel.km, kc=kernel.kc, progress_bar=False,
                            cwd=spec["cwd"], start_timeout=120)
    except BaseException as exc:  # noqa: BLE001 -- every failure is reported, none escapes the task
        result = {**failure(exc), "new_kernel": True}
    finally:
        timer.cancel()
        kernel.stop()
    if timed_out.is_set():
        result = {"status": "timeout", "new_kernel": True}
    with log:
        log.write(f"ran on the Dask worker {here['worker']} ({here['host']}, pid {here['pid']}) in "
                  f"{time.perf_counter() - t0:.2f} s: {result['status']}\n")
    write_text(spec["result"], json.dumps(result, default=str))
    return spec["id"]


# ---------------------------------------------------------------------------------------------------------------
# on the client (the runner, or rss score --cluster)


def connect(address: str, workers: int | None = None) -> tuple[Any, Any]:
    """A ``distributed.Client`` of the scheduler at ``address`` and, for ``local``, the LocalCluster started for it
    (``workers`` single-thread worker processes, default one a core; else None).  An unreachable scheduler is a
    :class:`RunError`."""
    import logging

    from distributed import Client, LocalCluster

    if address == LOCAL:
        n = workers or len(os.sched_getaffinity(0))
        local = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                             silence_logs=logging.ERROR)
        return Client(local), local
    try:
        return Client(address, timeout=CONNECT_TIMEOUT), None
    except (OSError, TimeoutError, ValueError) as exc:
        raise RunError(f"--cluster {address}: cannot reach the Dask scheduler ({type(exc).__name__}: {exc})") from None


def check_workers(client: Any, folder: Path, *, address: str, shared: str, paths: Sequence[str] = ()) -> None:
    """Refuse (:class:`RunError`) a cluster with a worker that does not see ``folder`` (a token written there) or
    one of ``paths``, or that runs other helpers code than this process; each such worker is named."""
    from ..provenance import helpers_hash

    token, expected = folder / f"probe-{uuid.uuid4().hex}", uuid.uuid4().hex
    token.write_text(expected, encoding="utf-8")
    try:
        seen = client.run(probe, str(token), expected, list(paths))
    finally:
        token.unlink()
    mine = helpers_hash()
    bad = [f"{w} ({info['host']}) does not see {shared} (a shared path is needed)"
           for w, info in sorted(seen.items()) if not info["sees_project"]]
    bad += [f"{w} ({info['host']}) does not see {missing} (a shared path is needed)"
            for w, info in sorted(seen.items()) if info["sees_project"] for missing in info["missing"][:1]]
    bad += [f"{w} ({info['host']}) runs other helpers code than this process (install the same checkout there)"
            for w, info in sorted(seen.items()) if info["sees_project"] and info["helpers"] != mine]
    if not seen:
        bad.append("the scheduler has no workers")
    if bad:
        raise RunError(f"--cluster {address}: " + "; ".join(bad))


def close(*closing: Any) -> None:
    """Close a client and the LocalCluster it was started with (either may be None), quietly."""
    for c in closing:
        if c is not None:
            with contextlib.suppress(Exception):
                c.close()


# ---------------------------------------------------------------------------------------------------------------
# on the runner


class _TaskSlot:
    """A running job's slot: its Dask future, and the pipe its completion wakes the scheduling loop through."""

    def __init__(self, future: Any, wake: int):
        self.future, self.wake = future, wake

    def waitables(self) -> list[Any]:
        return [self.wake]

    def _drain(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            while os.read(self.wake, 4096):
                pass

    def done(self) -> bool:
        self._drain()
        return self.future.done() and self.future.status == "finished"

    def ended(self) -> tuple[bool, int | None]:
        """The task failed or was cancelled without reporting (e.g. the scheduler gave up on it)."""
        return (self.future.done() and self.future.status != "finished"), None

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.future.cancel()


class ClusterExecutor(Executor):
    """:class:`Executor`'s scheduling on a Dask cluster: one task per notebook, no kept workers."""

    def __init__(self, lay: Any, man: dict[str, Any], *, address: str, jobs: int | None, timeout: float,
                 progress: Any, save: Any):
        super().__init__(lay, man, jobs=jobs or 1, timeout=timeout, progress=progress, save=save, fresh=True)
        self.address, self.requested = address, jobs
        self.client: Any = None
        self.cluster: Any = None
        self.slack = GRACE
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)

    @property
    def where(self) -> str:
        """How the progress line names the cluster."""
        return f"Dask cluster {self.address} ({self.jobs} at once)"

    def boot(self, n: int) -> None:  # noqa: ARG002 -- the cluster's workers are started by the cluster
        if self.client is None:
            self._connect()

    def _connect(self) -> None:
        self.client, self.cluster = connect(self.address, self.requested)
        self.lay.running.mkdir(parents=True, exist_ok=True)
        check_workers(self.client, self.lay.running, address=self.address,
                      shared=f"the project folder {self.lay.root}")
        threads = sum(self.client.nthreads().values())
        self.jobs = min(threads, self.requested) if self.requested and self.address != LOCAL else threads

    def imported(self) -> None:
        return None

    def open(self, n: int) -> None:  # noqa: ARG002
        return None

    def _wake(self, _future: Any) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_w, b"x")

    def _start(self, job: Job) -> _TaskSlot:  # type: ignore[override]
        spec = self._spec(job)
        attempt = self.lay.running / f"{job.id}.attempt"
        with contextlib.suppress(FileNotFoundError):
            attempt.unlink()
        spec.update(attempt=str(attempt), env=task_env(self.lay.root), timeout=self.timeout)
        future = self.client.submit(run_task, spec, key=f"rss-{job.id}-{uuid.uuid4().hex[:8]}", pure=False,
                                    retries=0)
        future.add_done_callback(self._wake)
        return _TaskSlot(future, self._wake_r)

    def _free(self, slot: Any) -> None:
        return None

    def keep(self) -> int:
        return 0

    def stop(self) -> None:
        return None

    def close(self) -> None:
        close(self.client, self.cluster)
        self.client = self.cluster = None
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._wake_r = self._wake_w = -1
