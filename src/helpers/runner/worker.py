"""Executing a notebook in a worker process: the warm kernel kept per worker (the scientific stack
imported once), papermill driven with a cell marker saved as it runs, and the error line of a failure.

Imports: helpers.io, helpers.runner.pool only.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _error_line(traceback: list[str]) -> str | None:
    """Where an IPython traceback points: the cell's line and, if elsewhere, the line that raised.

    Examples
    --------
    >>> tb = ["Cell In[4], line 1", "----> 1 result = load(x)", "      2 y = 1", "",
    ...       "File /src/helpers/loader.py:571, in load(path)", "--> 571     raise DataError(problems)"]
    >>> _error_line(tb)
    'line 1: result = load(x); raised at helpers/loader.py:571 in load: raise DataError(problems)'
    """
    text = _ANSI.sub("", "\n".join(traceback or []))
    frames: list[tuple[str, str, str]] = []  # (header, line number, code)
    header = ""
    for ln in text.splitlines():
        if ln.startswith(("Cell In[", "File ", "Input In [")):
            header = ln.strip()
        elif (m := re.match(r"^-+>\s*(\d+)\s(.*)$", ln)):
            frames.append((header, m.group(1), m.group(2).strip()))
    if not frames:
        return None
    cell = next((f for f in frames if f[0].startswith(("Cell In[", "Input In ["))), frames[0])
    out = f"line {cell[1]}: {cell[2]}"
    last = frames[-1]
    if last is not cell:
        m = re.match(r"File (.+?):(\d+), in (\S+?)\(", last[0])
        where = last[0]
        if m:
            path = m.group(1)
            path = path[path.index("helpers/"):] if "helpers/" in path else Path(path).name
            where = f"{path}:{m.group(2)} in {m.group(3)}"
        out += f"; raised at {where}: {last[2]}"
    return out


def import_for_fingerprint() -> None:
    """Import what :func:`scored_fingerprint` uses (run in a thread while the prepare step runs)."""
    with contextlib.suppress(ImportError):  # the fingerprint reports a missing one itself
        import numpy  # noqa: F401
        import pandas  # noqa: F401
        import pyarrow.parquet  # noqa: F401


def import_papermill_fast() -> None:
    """Import papermill without the 2-3 s that ``rfc3987_syntax`` takes to build its grammar.

    papermill imports nbformat, which imports jsonschema, which imports the optional
    ``rfc3987_syntax`` (when installed) only to check the ``iri`` string format; the
    notebook schema never uses that format and nbformat validates without format
    checks.  Marking the module absent makes jsonschema skip that checker (it
    catches the ImportError) and cuts the import from ~3.4 s to ~0.6 s.  Only this
    process is affected, never the kernels.
    """
    if "papermill" not in sys.modules and "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
    import papermill  # noqa: F401


#: Modules a pooled kernel imports before its first notebook, while its worker has nothing to run: the
#: scientific stack the notebooks use through the helpers (most of it imported lazily inside them).
WARM_MODULES = ("IPython.display", "pandas", "pyarrow.parquet", "matplotlib.pyplot", "matplotlib.patches",
                "helpers.describe", "helpers.outputs", "helpers.io", "helpers.loader", "helpers.scoring",
                "helpers.nbcheck", "helpers.stats", "scipy.stats", "scipy.special", "scipy.linalg", "seaborn",
                "statsmodels.api", "statsmodels.formula.api", "linearmodels", "openpyxl")


# Kernel side of the pool, run once in a new kernel.  ``_rss_pool.snapshot()`` records the state of a kernel
# with nothing but imports done (after start, and after each warm-up import); ``_rss_pool.reset()``, run before
# every notebook, brings the kernel back to it: the user namespace, In/Out history and execution counter
# (IPython's own reset, new session: the first cell is [1] again), the environment, sys.path, the working
# directory, warning filters (and the "shown once" registries), matplotlib's rcParams and pyplot figures,
# numpy's error handling.  Imported modules stay: that is the point.  numpy and pyplot are imported first so
# that their state is recorded before any notebook can change it.
_KERNEL_INIT = r'''
def _rss_pool_init(cwd):
    import os, sys, types, warnings
    import numpy as np
    import matplotlib as mpl
    import matplotlib.pyplot as plt
    from IPython import get_ipython
    state = types.ModuleType("_rss_pool")

    def snapshot():
        state.environ, state.path, state.filters = dict(os.environ), list(sys.path), list(warnings.filters)
        state.rc, state.err = mpl.rcParams.copy(), np.geterr()

    def reset():
        get_ipython().reset(new_session=True)
        os.environ.clear()
        os.environ.update(state.environ)
        sys.path[:] = state.path
        os.chdir(cwd)
        warnings.filters[:] = state.filters
        getattr(warnings, "_filters_mutated", lambda: None)()
        plt.close("all")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mpl.rcParams.update(state.rc)
        np.seterr(**state.err)

    state.snapshot, state.reset = snapshot, reset
    sys.modules["_rss_pool"] = state
    snapshot()
'''


_RESET = "import sys as _s\n_s.modules['_rss_pool'].reset()\n"


# a first figure loads the fonts and the Agg renderer
_RENDER = ("import io as _io\nfrom matplotlib.figure import Figure as _F\n_f = _F(figsize=(1, 1))\n"
           "_f.gca().set_title('x')\n_f.savefig(_io.BytesIO(), format='png')\ndel _io, _F, _f\n")


#: Seconds between the saves of a running notebook (papermill saves it twice per cell, see :func:`pool_engine`).
SAVE_EVERY = 5.0


def cell_marker(output: str | Path) -> Path:
    """The file in which a worker records the index of the cell its notebook is running."""
    return Path(f"{output}.cell")


def pool_engine() -> str:
    """Register (once) a papermill engine that runs a notebook on a kernel the caller started and keeps.

    It also saves the running notebook less often.  papermill writes the whole notebook,
    images included, at the start and at the end of every cell (for the notebooks here
    that was 0.2-0.4 s of each notebook's run, on its critical path).  This engine writes
    the index of the cell it starts to a small marker file (:func:`cell_marker`: where
    a notebook stopped, for the runner's timeout message), and the notebook itself at
    the start, at the end of a cell when :data:`SAVE_EVERY` seconds have passed since the
    last save, during a long cell as papermill does (every 30 s), and at the end
    (failed or not).  A notebook killed by the timeout therefore keeps the outputs of
    its cells up to a few seconds before it hung; one whose kernel died keeps them all
    (papermill still saves at the end).
    """
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, NotebookExecutionManager, papermill_engines

    name = "rss-pooled"
    if name in papermill_engines._engines:
        return name

    class FewerSaves(NotebookExecutionManager):
        _skip = False

        def save(self, **kwargs):
            if not self._skip:
                super().save(**kwargs)

        def cell_start(self, cell, cell_index=None, **kwargs):
            if self.output_path:
                with contextlib.suppress(OSError):
                    cell_marker(self.output_path).write_text(str(cell_index))
            self._skip = True
            try:
                super().cell_start(cell, cell_index, **kwargs)
            finally:
                self._skip = False

        def cell_complete(self, cell, cell_index=None, **kwargs):
            self._skip = (self.now() - self.last_save_time).total_seconds() < SAVE_EVERY
            try:
                super().cell_complete(cell, cell_index, **kwargs)
            finally:
                self._skip = False

    class PooledEngine(NBClientEngine):
        """papermill's nbclient engine, on an existing kernel and kernel client (``km``, ``kc``)."""

        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, **kwargs):
            import logging

            if type(nb_man) is NotebookExecutionManager:
                nb_man.__class__ = FewerSaves
            kc = kwargs.pop("kc")
            for k in ("input_path", "timeout", "startup_timeout"):
                kwargs.pop(k, None)
            client = PapermillNotebookClient(nb_man, timeout=execution_timeout, startup_timeout=start_timeout,
                                             kernel_name=kernel_name, log=logging.getLogger("papermill"),
                                             log_output=log_output, stdout_file=stdout_file,
                                             stderr_file=stderr_file, **kwargs)
            client.kc = kc  # nbclient starts no kernel (km has one) and no client (kc is set), and stops neither
            return client.execute()

    papermill_engines.register(name, PooledEngine)
    return name


class PoolKernel:
    """One kernel of a worker: started once, warmed while idle, reset before each notebook, restarted if dead.

    With ``fresh=True`` every notebook gets a new kernel instead (the way a notebook runs on its own).
    """

    def __init__(self, root: str, *, fresh: bool, env: dict[str, str] | None = None, output: Any = None):
        self.root, self.fresh = root, fresh
        # a cluster's task: variables set for the kernel over this process's environment, and the file its own
        # output goes to (a local worker's descriptors 1 and 2 are its log already)
        self.env, self.output = env, output
        self.km: Any = None
        self.kc: Any = None
        self.used = False  # has run a notebook since it started
        self.warm: list[str] = []  # modules imported so far by the warm-up
        self.started = 0.0  # seconds the last start took (kernel and initialisation)

    def _call(self, coro_fn, *args, **kwargs):
        from jupyter_core.utils import run_sync

        return run_sync(coro_fn)(*args, **kwargs)

    def _exec(self, code: str, timeout: float = 300) -> None:
        reply = self._call(self.kc.execute_interactive, code, silent=True, store_history=False,
                           allow_stdin=False, timeout=timeout)
        if reply["content"].get("status") != "ok":
            c = reply["content"]
            raise RuntimeError(f"kernel set-up failed: {c.get('ename')}: {c.get('evalue')}")

    def start(self) -> None:
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import AsyncKernelManager

        t0 = time.perf_counter()
        self.stop()
        # A new manager each time (a stopped one has closed its ZeroMQ context).  No kernel dirs: "python3"
        # resolves to ipykernel's native spec, i.e. this interpreter.  The asynchronous manager matters: with a
        # blocking one, nbclient waits for a reply in a blocking call and never notices a kernel that died
        # (killed by a signal, out of memory) until the timeout.
        self.km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[]))
        extra: dict[str, Any] = {"env": {**os.environ, **self.env}} if self.env else {}
        if self.output is not None:
            extra.update(stdout=self.output, stderr=self.output)
        self._call(self.km.start_kernel, cwd=self.root, **extra)
        self.kc = self.km.client()
        self.kc.start_channels()
        self._call(self.kc.wait_for_ready, timeout=120)
        self.kc.allow_stdin = False
        if not self.fresh:
            self._exec(_KERNEL_INIT + f"\n_rss_pool_init({self.root!r})\n")
        self.used, self.warm = False, []
        self.started = time.perf_counter() - t0

    def alive(self) -> bool:
        try:
            return self.kc is not None and bool(self._call(self.km.is_alive))
        except Exception:  # noqa: BLE001
            return False

    def warm_up(self, idle) -> None:
        """Import :data:`WARM_MODULES` one by one while ``idle()`` (no notebook waiting); a missing one is skipped.

        A kernel that ran a notebook is reset first, so that the state recorded after each import is clean.
        """
        if self.fresh or not idle():
            return
        todo = [m for m in (*WARM_MODULES, "render") if m not in self.warm]
        if todo and self.used:
            self._exec(_RESET)
        for m in todo:
            if not idle():
                return
            code = _RENDER if m == "render" else f"try:\n    import {m}\nexcept ImportError:\n    pass\n"
            self._exec(code + "import sys as _s\n_s.modules['_rss_pool'].snapshot()\ndel _s\n")
            self.warm.append(m)

    def tidy(self, idle) -> None:
        """Between runs: back to the recorded state (frees the last notebook's objects), then warm up."""
        if self.fresh:
            return
        with contextlib.suppress(Exception):
            if self.used:
                self._exec(_RESET)
                self.used = False
            self.warm_up(idle)

    def prepare(self) -> float:
        """Make the kernel ready for a notebook; return the seconds a (re)start took (0 when reused)."""
        if self.fresh and self.used or not self.alive():
            self.start()
            return self.started
        if not self.fresh:  # back to the recorded state (a first notebook too: the set-up ran code)
            try:
                self._exec(_RESET)
            except Exception:  # noqa: BLE001 -- a kernel that cannot be reset is replaced by a new one
                self.start()
                return self.started
        return 0.0

    def stop(self) -> None:
        if self.kc is not None:
            with contextlib.suppress(Exception):
                self.kc.stop_channels()
            self.kc = None
        with contextlib.suppress(Exception):
            if self.km is not None and self.km.has_kernel:
                self._call(self.km.shutdown_kernel, now=True)
        self.km = None


def failure(exc: BaseException) -> dict[str, Any]:
    """The result a worker reports for a notebook that raised ``exc`` (papermill's cell and line when it has them)."""
    if type(exc).__name__ == "PapermillExecutionError":
        return {"status": "failed", "cell": exc.cell_index, "exec_count": exc.exec_count,
                "ename": exc.ename, "evalue": exc.evalue, "line": _error_line(exc.traceback)}
    return {"status": "failed", "ename": type(exc).__name__, "evalue": str(exc)}


def serve(conn: Any, cfg: dict[str, Any]) -> None:
    """A worker: owns one kernel and executes the notebooks the runner sends, one at a time.

    Receives job specs over ``conn`` (``None``: stop), writes each outcome to ``spec['result']``
    (atomically) and then sends the job id back.  Between notebooks, while nothing is waiting,
    it imports the scientific stack into its kernel (:data:`WARM_MODULES`), so that cost is paid
    once per worker rather than once per notebook.  Its own output goes to the job's log; the
    kernel's low-level output (not the notebook's, which papermill records) to the worker's log.
    """
    import signal

    from . import pool

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the workers
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's SIGTERM handler is not for workers
    os.environ["RSS_ROOT"] = cfg["root"]  # the kernel writes where the runner reads, whatever its caller's env
    # Notebooks already run side by side, one per core: BLAS threads inside each kernel only fight over the same
    # cores (measured: the statistics notebooks ran up to 2x slower).  One thread per kernel, unless the user says.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")

    def log_to(path: str) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)

    log_to(cfg["log"])
    from ..io import write_text

    import_papermill_fast()
    import papermill as pm

    engine = pool_engine()
    kernel = PoolKernel(cfg["root"], fresh=cfg["fresh"])
    # restart: seconds of a kernel start a notebook waited for (a start while no notebook was waiting is free);
    # new: the next notebook runs on a kernel nothing ran on before
    restart, new = 0.0, True
    try:
        try:
            kernel.start()
            restart = kernel.started if conn.poll() else 0.0
            kernel.warm_up(lambda: not conn.poll())
        except Exception:  # noqa: BLE001 -- the first notebook tries again and reports what fails
            pass
        while True:
            try:
                spec = conn.recv()
            except EOFError:  # the runner is gone
                break
            if spec is None:
                break
            if "keep" in spec:  # the run ended: wait for the next one on the socket it passes (helpers.pool)
                import socket
                from multiprocessing.reduction import recv_handle

                listener = socket.socket(fileno=recv_handle(conn))
                conn.close()
                taken = pool.wait_for_run(listener, spec, cfg["key"], cfg["root"], alive=kernel.alive,
                                          tidy=kernel.tidy)
                if taken is None:
                    break
                conn, cfg["log"] = taken  # the next run numbers its workers: this one's log is the one it says
                log_to(cfg["log"])
                restart, new = 0.0, False
                continue
            log_to(spec["log"])
            result: dict[str, Any] = {"status": "ok"}
            try:
                started = kernel.prepare()
                restart, new = restart + started, new or started > 0
                result.update(kernel_start=round(restart, 3), new_kernel=new)
                kernel.used = True
                pm.execute_notebook(spec["input"], spec["output"], parameters=spec["params"],
                                    kernel_name="python3", engine_name=engine, km=kernel.km, kc=kernel.kc,
                                    progress_bar=False, cwd=spec["cwd"], start_timeout=120)
            except BaseException as exc:  # noqa: BLE001 -- every failure is reported, none escapes the worker
                result = failure(exc)
            write_text(spec["result"], json.dumps(result, default=str))  # atomic: the parent never reads half
            sys.stdout.flush()
            sys.stderr.flush()
            log_to(cfg["log"])
            conn.send(spec["id"])
            restart, new = 0.0, False
            try:
                if not kernel.alive():  # died with its notebook: a new one, before the next is sent
                    kernel.start()
                    restart, new = (kernel.started if conn.poll() else 0.0), True
                kernel.warm_up(lambda c=conn: not c.poll())
            except Exception:  # noqa: BLE001 -- the next notebook tries again and reports what fails
                pass
    finally:
        kernel.stop()


def kill_process(proc: Any) -> None:
    """Kill a worker process and everything it started (its kernel, the kernel's children), then reap it.

    The kernel runs in a session of its own (jupyter_client starts it so), so killing
    the worker alone would leave it running -- and writing outputs -- until it notices
    its parent is gone (ipykernel polls once a second).
    """
    children = []
    try:
        import psutil  # a dependency of ipykernel

        children = psutil.Process(proc.pid).children(recursive=True)
    except Exception:  # noqa: BLE001 -- no psutil, or the worker already gone: the kernel exits on its own
        pass
    for child in children:
        with contextlib.suppress(Exception):
            child.kill()
    proc.kill()
    proc.join()
    if children:
        with contextlib.suppress(Exception):
            import psutil

            psutil.wait_procs(children, timeout=5)
