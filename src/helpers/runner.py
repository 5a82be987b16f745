"""Run the notebook pipeline: ``rss run`` (and ``make report``).

    rss run [--country ISO3] [--jobs N] [--timeout S] [--data PATH] [--scheme FILE] [--force]

What it does, in order:

1. ``00_prepare`` runs first, on the raw input (a file or folder: ``--data``, else
   ``RSS_DATA``, else ``data/raw``), and writes ``data/processed/scored.parquet``.
2. The countries are read from the ``country`` column of that file (never from a
   list in code); every per-country notebook (``10_country_profile``) runs once per
   country, and every once-notebook (``20_cross_country``, later ``30_mentoring``,
   ``40_weight_sensitivity``) once, in parallel (``--jobs``, default: the number of
   cores), longest first by the longest earlier run of the same notebook version
   (unknown = longest).
3. When every notebook succeeded, ``reports/report.html`` and ``reports/tables.xlsx``
   are rebuilt (:mod:`helpers.report`); otherwise the previous report stays, the
   failed executed notebook is kept as ``reports/notebooks/FAILED_<name>.ipynb``, a
   summary names notebook, cell and exception line, and the exit status is 1.

Which notebooks exist and how they run is the :data:`REGISTRY` below, not code
paths: a new analysis is one more :class:`Notebook` entry.  An entry whose
``.ipynb`` does not exist yet is skipped and its report section says "not computed
yet".

Incrementality
--------------
Every notebook run is keyed by content hashes (``reports/.manifest.json``):

* ``notebook`` -- the cell types, sources and tags of the ``.ipynb`` (not its outputs);
* ``helpers`` -- every file of the ``helpers`` package the kernels import (all but
  the runner, the report builder, the command line and the benchmarks);
* ``env`` -- the Python version and the versions of the key packages; ``settings`` --
  the environment variables the notebooks read (:data:`NOTEBOOK_ENV`);
* ``params`` -- the parameters passed (as strings);
* the data it reads: for ``00_prepare`` the sha256 of every file of the input (and
  of ``--scheme``); for a per-country notebook the hash of *its country's rows* of
  ``scored.parquet`` plus the pooled medians of the ``ind_*``/``score_*`` columns
  (the profile compares the country with them); for a once-notebook the content of
  ``scored.parquet`` (the hashes of all countries' rows, not the file's bytes); plus
  the keys of the notebooks it ``needs``.

A notebook reruns when its key changed, its last run did not succeed, or its executed
copy is gone.  Editing one country's rows therefore reruns ``00_prepare``, that
country's profile and the once-notebooks, and no other country (unless the edit moves
a pooled median, which every profile shows).  File hashes are cached by (size,
mtime) like git's index, and nothing heavy (papermill, pyarrow) is imported unless
something must run: a run with nothing to do takes ~0.15 s of its own (0.7 s for the
whole ``rss run`` command, most of it the pandas import of the ``rss`` entry point).
When ``00_prepare`` reruns but writes the same rows (e.g. a new parameter that changes
nothing), nothing downstream reruns.

Kernels are reused.  Each of the ``--jobs`` worker processes (forked on Linux, so
papermill is imported once) starts one kernel, with the kernel spec of *this*
interpreter so a user-level ``python3`` kernel of another environment is never picked
up, and runs its notebooks on it one after another.  While a worker waits for work it
imports the scientific stack into its kernel (:data:`WARM_MODULES`); before each
notebook the kernel is reset to the state it had after those imports (namespace,
history and execution counter, environment, working directory, ``sys.path``, warning
filters, matplotlib rcParams and figures, numpy error handling; see
:data:`_KERNEL_INIT`).  A kernel that died is replaced before the next notebook; a
worker that timed out is killed with its kernel and replaced.  ``--fresh-kernels``
starts a new kernel for every notebook instead; both give identical outputs
(``tests/test_kernel_pool.py``).  Measured (``make bench``, median notebook of the default
run, before the pool): 4.95 s = 0.87 s kernel start and papermill + 0.31 s imports cell +
3.75 s work, the work including the lazy imports of the helpers.

The notebooks' parameters are checked once per notebook version (recorded in the
manifest), so a rerun starts its workers at once; while their kernels boot and the
prepare step runs, a thread imports what the scored-data fingerprint needs.  The
pooled papermill engine saves a running notebook every :data:`SAVE_EVERY` seconds and
at its end rather than at the start and end of every cell, and records the cell it
starts in a small marker file for the timeout message (:func:`_pool_engine`).

Workers outlive the run that started them (:mod:`helpers.pool`): when a run ends (its
notebooks succeeded or failed, but it was not interrupted or refused), each idle
worker is handed a Unix socket and waits on it, kernel warm, for the next run of the
same project, for ``RSS_KEEP_KERNELS`` seconds (default 600).  That run takes them
instead of starting its own, if nothing they were started with changed (the pool's
key: project, Python, helpers code, packages, environment); otherwise it stops them.
Workers are forked into sessions of their own, holding none of the runner's files
(the run lock, its output pipes).  ``rss stop`` ends kept workers at once;
``RSS_KEEP_KERNELS=0`` turns keeping off, and then the workers are told to stop and
shut their kernels down while the report is built.

Faults
------
* A notebook that raises, hangs past ``--timeout`` or whose kernel dies (killed by
  a signal, out of memory) fails alone: the others run, the previous report stays,
  the summary names notebook, cell and line, the exit status is 1.  A dead kernel
  is noticed within a second or two (the kernel manager is asynchronous, so
  nbclient polls it), not at the timeout.
* A timeout kills the worker *and* its kernel (and the kernel's children), so
  nothing keeps writing outputs after the runner moved on.
* Ctrl-C or SIGTERM stops every worker and kernel (those taken from an earlier run
  too; none is kept), records their notebooks as ``interrupted`` (the ones that
  finished keep their outputs and their manifest entries), and exits 130; the next
  run reruns only what did not finish.
* Every output is written to a temporary file and renamed (:mod:`helpers.io`); a
  writer killed outright leaves its ``.<name>.<random>.tmp``, which the runner
  removes whenever no notebook runs (at the start, after each stage, after an
  interrupt).  An executed notebook cut short while papermill was saving it is
  not kept.
* Settings, ``--scheme``, ``--jobs``/``--timeout`` and the input are checked
  before any notebook starts; a refusal changes nothing (exit 2).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from . import paths

__all__ = [
    "Notebook",
    "REGISTRY",
    "KEY_PACKAGES",
    "RunError",
    "run",
    "manifest_path",
    "load_manifest",
    "scored_fingerprint",
]

DEFAULT_TIMEOUT = 1800.0
#: Suffixes of the files the loader reads (others in the input folder are documentation).
DATA_SUFFIXES = (".csv", ".xlsx", ".parquet")
#: Lines of an exception message shown in the failure summary (the rest is in the FAILED_ notebook).
MAX_MESSAGE_LINES = 12
MANIFEST_FORMAT = 1
#: Packages whose versions key every run and are listed in the report's provenance.
KEY_PACKAGES = ("numpy", "pandas", "pyarrow", "scipy", "statsmodels", "linearmodels", "matplotlib", "seaborn",
                "pyyaml", "pycountry", "openpyxl", "papermill", "nbclient", "nbformat", "ipykernel", "jupytext")
#: Modules of the helpers package that no notebook imports: editing them reruns nothing.
NOT_KERNEL_CODE = frozenset({"runner.py", "pool.py", "report.py", "cli.py", "bench.py", "checks.py", "verify.py"})
#: Environment variables the notebooks read (besides RSS_ROOT/RSS_DATA): a change reruns every notebook.
NOTEBOOK_ENV = ("RSS_DISCLOSURE_THRESHOLD",)
#: Column prefixes whose pooled medians every country profile shows (see the module notes).
POOLED_PREFIXES = ("ind_", "score_")
_ISO3 = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Notebook:
    """One analysis notebook of the pipeline.

    Parameters
    ----------
    name
        File stem in ``notebooks/`` (the ``.ipynb`` papermill executes).
    kind
        ``"prepare"``: runs first, on the raw input; ``"country"``: runs once per
        country of the scored data (parameter ``country``); ``"once"``: runs once
        after ``prepare``.
    params
        Names of the parameters the runner passes; each must be declared in the
        notebook's cell tagged ``parameters`` (checked with ``papermill.inspect_notebook``).
    needs
        Names of other notebooks whose outputs this one reads (they run first, and
        a change of theirs reruns it).
    pooled
        For ``"country"`` notebooks: column prefixes whose pooled (all-country)
        medians the notebook uses; a change of them reruns every country.
    """

    name: str
    kind: Literal["prepare", "country", "once"]
    params: tuple[str, ...]
    needs: tuple[str, ...] = ()
    pooled: tuple[str, ...] = ()


REGISTRY: tuple[Notebook, ...] = (
    Notebook("00_prepare", "prepare", ("data", "scheme", "processed")),
    Notebook("10_country_profile", "country", ("country", "processed"), pooled=POOLED_PREFIXES),
    Notebook("20_cross_country", "once", ("processed",)),
    Notebook("30_mentoring", "once", ("processed",)),
    Notebook("40_weight_sensitivity", "once", ("processed",)),
)


class RunError(RuntimeError):
    """The pipeline cannot start as configured (the message says why and what to do)."""


# ---------------------------------------------------------------------------------------------------------------
# hashing


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sha256_json(obj: Any) -> str:
    return _sha256_bytes(json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode())


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class FileHasher:
    """sha256 of files, cached by (size, mtime_ns) across runs like git's index.

    An entry is not cached while the file's mtime is within two seconds of now (a
    file rewritten within the same clock tick would otherwise keep a stale hash).
    """

    def __init__(self, cache: dict[str, dict[str, Any]] | None = None):
        self.old = dict(cache or {})
        self.used: dict[str, dict[str, Any]] = {}

    def __call__(self, path: Path) -> str:
        key = str(Path(path).resolve())
        st = os.stat(key)
        hit = self.old.get(key)
        if hit and hit.get("size") == st.st_size and hit.get("mtime_ns") == st.st_mtime_ns:
            self.used[key] = hit
            return hit["sha256"]
        sha = _sha256_file(Path(key))
        if time.time_ns() - st.st_mtime_ns > 2_000_000_000:
            self.used[key] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha}
        return sha


def notebook_hash(path: Path) -> str:
    """Hash what papermill executes of a notebook: cell types, sources, tags, language."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = []
    for c in nb.get("cells", []):
        src = c.get("source", "")
        cells.append([c.get("cell_type"), "".join(src) if isinstance(src, list) else src,
                      sorted(c.get("metadata", {}).get("tags", []))])
    lang = nb.get("metadata", {}).get("kernelspec", {}).get("language")
    return _sha256_json({"cells": cells, "language": lang})


def helpers_hash(exclude: Iterable[str] = NOT_KERNEL_CODE) -> str:
    """Hash the helpers code the kernels import (every package file but those in ``exclude``).

    With ``exclude=()``: the whole package, the runner's own code included (what a kept
    worker runs, :func:`helpers.pool.key`).  Reading and hashing it takes about 1 ms.
    """
    pkg = Path(__file__).resolve().parent
    exclude = frozenset(exclude)
    h = hashlib.sha256()
    for p in sorted(pkg.rglob("*")):
        rel = p.relative_to(pkg)
        if not p.is_file() or "__pycache__" in rel.parts or p.suffix == ".pyc" or str(rel) in exclude:
            continue
        h.update(str(rel).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def package_versions(names: Iterable[str] = KEY_PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (``"not installed"`` when absent), plus Python's."""
    from importlib import metadata

    out = {"python": sys.version.split()[0]}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = "not installed"
    return out


def git_state(root: Path) -> dict[str, Any]:
    """Commit and dirty flag of the checkout at ``root`` (``None`` when it is not one)."""
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain"], capture_output=True, text=True,
                                timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(status.strip())}


def input_files(source: Path) -> list[Path]:
    """Every file of the input (a file, or a folder searched recursively; hidden entries skipped)."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise RunError(f"input not found: {source} (run `make data` for the synthetic default, or set RSS_DATA "
                       "or --data to a file or folder of RSS records)")
    out = []
    for p in sorted(source.rglob("*")):
        rel = p.relative_to(source)
        if p.is_file() and not any(part.startswith(".") for part in rel.parts):
            out.append(p)
    if not out:
        raise RunError(f"input folder {source} holds no files (run `make data`, or set RSS_DATA or --data)")
    return out


def scored_fingerprint(path: Path, prefixes: tuple[str, ...] = POOLED_PREFIXES) -> dict[str, Any]:
    """Hash each country's rows of the scored data, and the pooled medians.

    Returns ``{"countries": {ISO3: sha256}, "pooled": sha256}``.  A country's hash
    covers the column names and types and, in file order, the hash of each of its
    rows (``pandas.util.hash_pandas_object``): it changes exactly when that
    country's rows change.  ``pooled`` hashes the medians of the numeric columns
    starting with ``prefixes`` over all countries (rounded to 12 digits).

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "s.parquet"
    >>> df = pd.DataFrame({"country": ["SEN", "SEN", "GIN"], "score_x": [0.1, 0.9, 0.5], "note": ["", "", ""]})
    >>> df.to_parquet(f)
    >>> a = scored_fingerprint(f)
    >>> df.loc[0, "note"] = "edited"; df.to_parquet(f)
    >>> b = scored_fingerprint(f)
    >>> a["countries"]["SEN"] != b["countries"]["SEN"], a["countries"]["GIN"] == b["countries"]["GIN"]
    (True, True)
    >>> a["pooled"] == b["pooled"]
    True
    """
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    df = pq.read_table(path, use_threads=False).to_pandas()
    if "country" not in df.columns:
        raise RunError(f"{path} has no column 'country': it is not the scored data 00_prepare writes")
    countries = df["country"].astype("string")
    bad = sorted({c for c in countries.dropna().unique() if not _ISO3.match(str(c))})
    if bad or countries.isna().any():
        shown = ", ".join(repr(c) for c in bad[:5]) or "missing values"
        raise RunError(f"{path}: column 'country' holds {shown}; expected ISO 3166-1 alpha-3 codes such as SEN")
    schema = _sha256_json([[c, str(t)] for c, t in df.dtypes.items()])
    rows = pd.util.hash_pandas_object(df, index=False).to_numpy()
    codes = countries.to_numpy()
    out = {}
    for c in sorted(set(codes)):
        h = hashlib.sha256(schema.encode())
        h.update(np.ascontiguousarray(rows[codes == c]).tobytes())
        out[str(c)] = h.hexdigest()
    pooled = {}
    for col in df.columns:
        if col.startswith(prefixes) and pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col]):
            m = df[col].median(skipna=True)
            pooled[col] = None if pd.isna(m) else round(float(m), 12)
    return {"countries": out, "pooled": _sha256_json(pooled)}


# ---------------------------------------------------------------------------------------------------------------
# manifest


def manifest_path(root: Path | None = None) -> Path:
    return (root or paths.ROOT) / "reports" / ".manifest.json"


def load_manifest(root: Path | None = None) -> dict[str, Any]:
    """Read ``reports/.manifest.json`` (an empty manifest when absent or unreadable)."""
    p = manifest_path(root)
    try:
        man = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"format": MANIFEST_FORMAT, "jobs": {}}
    if man.get("format") != MANIFEST_FORMAT:
        return {"format": MANIFEST_FORMAT, "jobs": {}}
    man.setdefault("jobs", {})
    return man


# ---------------------------------------------------------------------------------------------------------------
# jobs


@dataclass
class Job:
    id: str
    notebook: Notebook
    country: str | None
    params: dict[str, str]
    parts: dict[str, Any]
    needs: list[str] = field(default_factory=list)
    expected: float | None = None

    @property
    def key(self) -> str:
        return _sha256_json(self.parts)


@dataclass
class Result:
    status: Literal["ok", "failed", "timeout", "interrupted"]
    duration: float
    error: dict[str, Any] | None = None
    output: Path | None = None
    kernel_start: float = 0.0  # seconds this notebook waited for a kernel to (re)start (0: a warm kernel)
    new_kernel: bool = False  # ran on a kernel no notebook ran on before


def _rel(p: Path, root: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(p)


class _Layout:
    """The paths the runner uses, all under one project root."""

    def __init__(self, root: Path):
        self.root = root
        self.notebooks = root / "notebooks"
        self.processed = root / "data" / "processed"
        self.scored = self.processed / "scored.parquet"
        self.reports = root / "reports"
        self.executed = self.reports / "notebooks"
        self.running = self.executed / ".running"
        self.logs = self.executed / ".logs"
        self.manifest = manifest_path(root)

    def source(self, nb: Notebook) -> Path:
        return self.notebooks / f"{nb.name}.ipynb"

    def output(self, job_id: str) -> Path:
        return self.executed / f"{job_id}.ipynb"

    def failed(self, job_id: str) -> Path:
        return self.executed / f"FAILED_{job_id}.ipynb"

    def running_files(self, job_id: str) -> tuple[Path, Path, Path]:
        """A running job's files: the notebook papermill writes, its cell marker, the worker's result."""
        notebook = self.running / f"{job_id}.ipynb"
        return notebook, _cell_marker(notebook), self.running / f"{job_id}.result.json"


def _is_stale(job: Job, man: dict[str, Any], lay: _Layout) -> bool:
    entry = man["jobs"].get(job.id)
    return (entry is None or entry.get("key") != job.key or entry.get("status") != "ok"
            or not lay.output(job.id).is_file())


# ---------------------------------------------------------------------------------------------------------------
# execution (worker side)


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


def _import_for_fingerprint() -> None:
    """Import what :func:`scored_fingerprint` uses (run in a thread while the prepare step runs)."""
    with contextlib.suppress(ImportError):  # the fingerprint reports a missing one itself
        import numpy  # noqa: F401
        import pandas  # noqa: F401
        import pyarrow.parquet  # noqa: F401


def _import_papermill_fast() -> None:
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


#: Seconds between the saves of a running notebook (papermill saves it twice per cell, see :func:`_pool_engine`).
SAVE_EVERY = 5.0


def _cell_marker(output: str | Path) -> Path:
    """The file in which a worker records the index of the cell its notebook is running."""
    return Path(f"{output}.cell")


def _pool_engine() -> str:
    """Register (once) a papermill engine that runs a notebook on a kernel the caller started and keeps.

    It also saves the running notebook less often.  papermill writes the whole notebook,
    images included, at the start and at the end of every cell (for the notebooks here
    that was 0.2-0.4 s of each notebook's run, on its critical path).  This engine writes
    the index of the cell it starts to a small marker file (:func:`_cell_marker`: where
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
                    _cell_marker(self.output_path).write_text(str(cell_index))
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


class _PoolKernel:
    """One kernel of a worker: started once, warmed while idle, reset before each notebook, restarted if dead.

    With ``fresh=True`` every notebook gets a new kernel instead (the way a notebook runs on its own).
    """

    def __init__(self, root: str, *, fresh: bool):
        self.root, self.fresh = root, fresh
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
        self._call(self.km.start_kernel, cwd=self.root)
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


def _serve(conn: Any, cfg: dict[str, Any]) -> None:
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
    from .io import write_text

    _import_papermill_fast()
    import papermill as pm

    engine = _pool_engine()
    kernel = _PoolKernel(cfg["root"], fresh=cfg["fresh"])
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
                if type(exc).__name__ == "PapermillExecutionError":
                    result = {"status": "failed", "cell": exc.cell_index, "exec_count": exc.exec_count,
                              "ename": exc.ename, "evalue": exc.evalue, "line": _error_line(exc.traceback)}
                else:
                    result = {"status": "failed", "ename": type(exc).__name__, "evalue": str(exc)}
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


def _kill(proc: Any) -> None:
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


# ---------------------------------------------------------------------------------------------------------------
# progress


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


class Progress:
    """Progress of a run: one updating line on a terminal, plain lines otherwise (CI logs)."""

    def __init__(self, stream: TextIO, *, tty: bool | None = None):
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.t0 = time.monotonic()
        self.done = 0
        self.total = 0
        self._shown = False
        self._last_draw = 0.0

    def line(self, text: str) -> None:
        self._clear()
        print(text, file=self.stream, flush=True)

    def _clear(self) -> None:
        if self.tty and self._shown:
            self.stream.write("\r\x1b[K")
            self._shown = False

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def status(self, running: list[str], eta: float | None, *, force: bool = False) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < 0.25:
            return
        self._last_draw = now
        width = shutil.get_terminal_size((100, 20)).columns
        text = (f"[{self.done}/{self.total}] {_clock(self.elapsed())} elapsed, ETA {_clock(eta)}"
                f" | running: {', '.join(running) or '-'}")
        if len(text) > width - 1:
            text = text[: max(width - 2, 10)] + "…"
        self.stream.write("\r\x1b[K" + text)
        self.stream.flush()
        self._shown = True

    def finished(self, job_id: str, res: Result, eta: float | None) -> None:
        self.done += 1
        word = {"ok": "done", "failed": "FAILED", "timeout": "TIMEOUT", "interrupted": "stopped"}[res.status]
        text = f"[{self.done}/{self.total}] {word:<7} {job_id}  {res.duration:.1f}s"
        if self.tty:
            self.line(text)
        else:
            self.line(f"{text}  (elapsed {_clock(self.elapsed())}, ETA {_clock(eta)})")

    def close(self) -> None:
        self._clear()


# ---------------------------------------------------------------------------------------------------------------
# execution (parent side)


class _Slot:
    """The runner's end of a worker process (:func:`_serve`): its process and the connection to it."""

    def __init__(self, conn: Any, proc: Any):
        self.conn, self.proc = conn, proc

    @classmethod
    def start(cls, ctx: Any, cfg: dict[str, Any], number: int) -> _Slot:
        """A new worker: forked into a session of its own where workers can be kept (Linux), else by ``ctx``."""
        conn, child = ctx.Pipe()
        if cfg["own_session"]:
            from . import pool

            proc = pool.fork(_serve, child, cfg, keep_fds=(child.fileno(),))
        else:
            # daemon: should one ever be left running, the interpreter's exit terminates it, not waits for it
            proc = ctx.Process(target=_serve, args=(child, cfg), name=f"rss-worker-{number}", daemon=True)
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

    def join(self, timeout: float = 10.0) -> None:
        self.proc.join(timeout)
        if self.proc.is_alive():
            _kill(self.proc)
        self.conn.close()


class Executor:
    """Run jobs on worker processes that each keep a kernel, at most ``jobs`` at a time, each with a timeout.

    A worker runs its notebooks one after another on the same kernel, reset between them
    (:func:`_serve`); a worker that timed out or died is replaced by a new one.
    """

    def __init__(self, lay: _Layout, man: dict[str, Any], *, jobs: int, timeout: float, progress: Progress,
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
        self._imports: threading.Thread | None = None

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
            self._imports = threading.Thread(target=_import_for_fingerprint, name="rss-imports", daemon=True)
            self._imports.start()

    def imported(self) -> None:
        """Wait for the imports :meth:`boot` started in a thread (no fork may happen while one is importing)."""
        if self._imports is not None:
            self._imports.join()

    def check(self, notebooks: list[tuple[Notebook, dict[str, str]]]) -> list[str]:
        """Check every notebook's parameters (papermill's view of them); return the problems found."""
        _import_papermill_fast()
        import papermill as pm

        problems = []
        for nb, params in notebooks:
            src = self.lay.source(nb)
            rel = _rel(src, self.lay.root)
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

            _import_papermill_fast()
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
                next_deadline = min(start + self.timeout for _s, start, _j in running.values())
                wait([w for s, _t, _j in running.values() for w in (s.conn, s.proc.sentinel)],
                     timeout=max(0.05, min(0.5 if self.progress.tty else 5.0, next_deadline - now)))
                now = time.monotonic()
                for jid, (slot, start, job) in list(running.items()):
                    if slot.done():
                        del running[jid]
                        results[jid] = self._finish(job, now - start, None, timed_out=False)
                        self.idle.append(slot)
                    elif not slot.proc.is_alive():
                        slot.proc.join()
                        slot.conn.close()
                        del running[jid]
                        results[jid] = self._finish(job, now - start, slot.proc.exitcode, timed_out=False)
                    elif now - start > self.timeout:
                        _kill(slot.proc)
                        slot.conn.close()
                        del running[jid]
                        results[jid] = self._finish(job, now - start, None, timed_out=True)
                    else:
                        continue
                    self.progress.finished(jid, results[jid], self._eta(pending, running))
        except KeyboardInterrupt:
            for jid, (slot, start, job) in running.items():
                _kill(slot.proc)
                results[jid] = Result("interrupted", time.monotonic() - start)
                self._record(job, results[jid])
                for f in self.lay.running_files(jid):
                    with contextlib.suppress(FileNotFoundError):
                        f.unlink()
            running.clear()
            for slot in self.every:  # the idle ones, and any caught between the idle list and the running one
                if slot.proc.is_alive():
                    _kill(slot.proc)
            self.idle = []
            self.save()
            raise
        finally:
            if not running:  # nothing writes any more: sweep what killed writers left behind
                _sweep(self.lay)
        return results

    def _start(self, job: Job) -> _Slot:
        lay = self.lay
        notebook, _marker, result = files = lay.running_files(job.id)
        for f in files:
            with contextlib.suppress(FileNotFoundError):
                f.unlink()
        spec = {"id": job.id, "input": str(lay.source(job.notebook)), "output": str(notebook),
                "params": job.params, "cwd": str(lay.root), "log": str(lay.logs / f"{job.id}.log"),
                "result": str(result)}
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
            info["log"] = _rel(lay.logs / f"{job.id}.log", lay.root)
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
            "output": _rel(res.output, self.lay.root) if res.output else None,
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


def _expected(entry: dict[str, Any]) -> float | None:
    """Seconds a job is planned to take: its longest run (:func:`_longest`), else its last."""
    return entry.get("longest") or entry.get("duration")


def _readable_json(path: Path) -> bool:
    try:
        json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True


def _running_cell(nb_path: Path) -> dict[str, Any]:
    """Where a stopped notebook was: the cell the worker's marker names (:func:`_cell_marker`), else the
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
        at = int(_cell_marker(nb_path).read_text())
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


def _sweep(lay: _Layout) -> list[Path]:
    """Remove temporaries of killed writers under ``reports/`` and ``data/processed/`` (nothing may be running)."""
    from .io import remove_temporaries

    gone = remove_temporaries([lay.reports, lay.processed])
    if lay.running.is_dir():
        for p in lay.running.iterdir():
            with contextlib.suppress(OSError):
                p.unlink()
                gone.append(p)
    return gone


# ---------------------------------------------------------------------------------------------------------------
# the run


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
    out.append(f"      executed notebook: {_rel(res.output, root)}" if res.output
               else "      no executed notebook was written")
    if e.get("log"):
        out.append(f"      worker log: {e['log']}")
    return "\n".join(out)


def _check_scheme(scheme: str | Path) -> None:
    """Validate a ``--scheme`` before any notebook runs (the prepare notebook would fail on it later)."""
    from .scheme import SchemeError, load_scheme

    try:
        load_scheme(scheme)
    except SchemeError as exc:
        raise RunError(f"--scheme {scheme}: {exc}") from None


def _count_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _prune_countries(lay: _Layout, man: dict[str, Any], countries: set[str], country_nbs: list[Notebook],
                     progress: Progress) -> None:
    """Remove the outputs of countries no longer in the data, so the report never shows them."""
    gone: set[str] = set()
    for jid, entry in list(man["jobs"].items()):
        if entry.get("country") and entry["country"] not in countries:
            gone.add(entry["country"])
            del man["jobs"][jid]
    for sub in ("tables", "figures"):
        for p in (lay.reports / sub).glob("country_*"):
            m = re.match(r"country_([A-Z]{3})_", p.name)
            if m and m.group(1) not in countries:
                gone.add(m.group(1))
    for c in sorted(gone):
        doomed = [*(lay.reports / "tables").glob(f"country_{c}_*"), *(lay.reports / "figures").glob(f"country_{c}_*"),
                  *(lay.reports / ".disclosure").glob(f"country_{c}_*"), lay.reports / "numbers" / f"country_{c}.json"]
        for nb in country_nbs:
            doomed += [lay.output(f"{nb.name}_{c}"), lay.failed(f"{nb.name}_{c}"), lay.logs / f"{nb.name}_{c}.log"]
        for p in doomed:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
    if gone:
        progress.line(f"removed the outputs of {len(gone)} countr{'y' if len(gone) == 1 else 'ies'} no longer in "
                      f"the data: {', '.join(sorted(gone))}")


@contextlib.contextmanager
def _lock(lay: _Layout):
    lay.reports.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(lay.reports / ".run.lock", "a") as f:  # a lock, never written: opened without truncating
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise RunError("another `rss run` is running in this project (reports/.run.lock); wait for it") from None
        yield


def pair_differs(py: Path, ipynb: Path) -> bool:
    """Whether a jupytext ``.py`` and its paired ``.ipynb`` hold different cells (type, source, tags)."""
    import jupytext

    def cells(nb) -> list[tuple[str, str, tuple[str, ...]]]:
        return [(c.cell_type, c.source.strip(), tuple(c.metadata.get("tags", ()))) for c in nb.cells]

    return cells(jupytext.read(py)) != cells(jupytext.read(ipynb))


def _pair_differs_cached(man: dict[str, Any], name: str, py: Path, ipynb: Path) -> bool:
    """:func:`pair_differs`, remembered in the manifest by the two files' hashes (jupytext imports slowly)."""
    key = {"py": hashlib.sha256(py.read_bytes()).hexdigest(), "ipynb": hashlib.sha256(ipynb.read_bytes()).hexdigest()}
    cached = man.setdefault("pairs", {}).get(name)
    if cached and {k: cached.get(k) for k in key} == key:
        return bool(cached["differs"])
    differs = pair_differs(py, ipynb)
    man["pairs"][name] = {**key, "differs": differs}
    return differs


def run(*, country: str | None = None, jobs: int | None = None, timeout: float = DEFAULT_TIMEOUT,
        data: str | Path | None = None, scheme: str | Path | None = None, force: bool = False,
        registry: tuple[Notebook, ...] = REGISTRY, stream: TextIO | None = None, tty: bool | None = None,
        fresh_kernels: bool = False) -> int:
    """Run the pipeline incrementally and rebuild the report; return the exit status.

    Parameters
    ----------
    country
        Rerun only this country's notebooks (forced), after ``00_prepare`` when its
        input changed; once-notebooks are not run (the report flags them if stale).
    jobs
        Notebooks run at the same time (default: the number of usable cores).
    timeout
        Seconds one notebook may run (kernel start included) before it is stopped.
    data
        Input file or folder (default: ``RSS_DATA``, else ``data/raw``).
    scheme
        Scoring-scheme file passed to ``00_prepare`` (default: the notebook's own).
    force
        Rerun every notebook, whatever the manifest says.
    fresh_kernels
        Start a new kernel for every notebook instead of reusing each worker's kernel
        (slower; the outputs are the same, which ``tests/test_runner.py`` checks).

    Returns
    -------
    int
        0 when every notebook succeeded and the report is current; 1 when a notebook
        failed (the previous report is kept); 2 when the run was refused
        (unknown parameter, unknown country).
    """
    stream = stream or sys.stderr
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise RunError(f"--jobs must be a whole number of notebooks run at once, >= 1; found {jobs!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:  # also NaN
        raise RunError(f"--timeout must be a number of seconds > 0; found {timeout!r}")
    lay = _Layout(paths.ROOT)
    progress = Progress(stream, tty=tty)
    cleanups: list[Any] = []
    with _lock(lay), _sigterm_interrupts():
        try:
            return _run(lay, progress, country=country, jobs=jobs or _count_cpus(), timeout=timeout, data=data,
                        scheme=scheme, force=force, registry=registry, fresh=fresh_kernels, cleanups=cleanups)
        finally:
            for cleanup in cleanups:
                cleanup()


@contextlib.contextmanager
def _sigterm_interrupts():
    """Treat SIGTERM (a CI job cancelled, ``timeout``, ``kill``) like Ctrl-C: stop workers, keep outputs whole."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(lay: _Layout, progress: Progress, *, country, jobs, timeout, data, scheme, force, registry, fresh,
         cleanups) -> int:
    t_start = time.time()
    from . import pool
    from .settings import SettingError, disclosure_threshold

    try:  # the notebooks read it; a bad value would fail every one of them
        disclosure_threshold()
    except SettingError as exc:
        raise RunError(str(exc)) from None
    try:
        keep = pool.keep_seconds()
    except ValueError as exc:
        raise RunError(str(exc)) from None
    man = load_manifest(lay.root)
    hasher = FileHasher(man.get("files"))
    if data:
        source = Path(data).expanduser().resolve()
        origin = f"--data {data}"
        os.environ["RSS_DATA"] = str(source)  # kernels (and their helpers.paths.data_source()) see the same input
    else:
        source = paths.data_source()
        origin = f"RSS_DATA={os.environ['RSS_DATA']}" if os.environ.get("RSS_DATA") else None
    explicit_data = bool(data) or bool(os.environ.get("RSS_DATA"))
    try:
        files = input_files(source)
    except RunError as exc:
        raise RunError(f"{exc} [input from {origin}]" if origin else str(exc)) from None
    data_files = [f for f in files if f.suffix.lower() in DATA_SUFFIXES]
    if not data_files:
        shown = ", ".join(f.name for f in files[:5]) + (", ..." if len(files) > 5 else "")
        what = ("is not a data file (.csv, .xlsx, .parquet)" if source.is_file()
                else f"holds no data files (.csv, .xlsx, .parquet), only {shown}")
        raise RunError(f"input {_rel(source, lay.root)} {what}" + (f" [input from {origin}]" if origin else ""))
    base = source if source.is_dir() else source.parent
    inputs = [{"path": _rel(f, base), "bytes": f.stat().st_size, "sha256": hasher(f)} for f in files]
    scheme_part = None
    if scheme:
        sp = Path(scheme).expanduser()
        if sp.is_file():
            _check_scheme(sp)
            scheme_part = {"path": str(sp.resolve()), "sha256": hasher(sp)}
        elif sp.suffix.lower() in (".yaml", ".yml") or len(sp.parts) > 1:
            raise RunError(f"scheme file not found: {sp} (--scheme takes a scheme YAML file, or the name of a "
                           "scheme shipped with the helpers such as rss-default)")
        else:  # a scheme shipped with helpers, by name (its file is part of the helpers hash)
            if not (paths.SCHEMES / f"{scheme}.yaml").is_file():
                shipped = ", ".join(sorted(p.stem for p in paths.SCHEMES.glob("*.yaml")))
                raise RunError(f"--scheme {scheme}: no such scheme file, and no scheme of that name ships with the "
                               f"helpers (shipped: {shipped})")
            _check_scheme(scheme)
            scheme_part = {"path": str(scheme), "sha256": None}
    _sweep(lay)  # temporaries of a run that was killed outright (nothing runs now: we hold the lock)

    present = [nb for nb in registry if lay.source(nb).is_file()]
    missing = [nb.name for nb in registry if nb not in present]
    prep = [nb for nb in present if nb.kind == "prepare"]
    if not any(nb.kind == "prepare" for nb in registry) or not prep:
        names = ", ".join(f"notebooks/{nb.name}.ipynb" for nb in registry if nb.kind == "prepare")
        raise RunError(f"no prepare notebook: {names or 'none registered'} not found (papermill executes the "
                       ".ipynb; create it from the .py with `jupytext --sync`)")
    for nb in present:
        py = lay.notebooks / f"{nb.name}.py"
        # mtimes are arbitrary after a git checkout: compare contents, and only when the .py looks newer
        if py.is_file() and py.stat().st_mtime > lay.source(nb).stat().st_mtime + 1 and \
                _pair_differs_cached(man, nb.name, py, lay.source(nb)):
            progress.line(f"warning: notebooks/{nb.name}.py differs from its .ipynb, which is what runs; "
                          f"sync them with `jupytext --sync notebooks/{nb.name}.py`")

    versions = package_versions()
    common = {"helpers": helpers_hash(), "env": _sha256_json(versions),
              "settings": {k: os.environ.get(k) for k in NOTEBOOK_ENV}}
    nb_hash = {}
    for nb in present:
        try:
            nb_hash[nb.name] = notebook_hash(lay.source(nb))
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            raise RunError(f"{_rel(lay.source(nb), lay.root)} cannot be read as a notebook ({type(exc).__name__}: "
                           f"{exc}); restore it, or recreate it from its .py with `jupytext --sync`") from None

    def params_for(nb: Notebook, iso: str | None) -> dict[str, str]:
        values = {"data": str(source) if explicit_data else "", "processed": "", "country": iso or "",
                  "scheme": str(scheme_part["path"]) if scheme_part else None}
        return {p: values[p] for p in nb.params if values.get(p) is not None}

    all_params = [(nb, params_for(nb, "XXX" if nb.kind == "country" else None)) for nb in present]

    def save() -> None:
        from .io import write_json

        man["format"] = MANIFEST_FORMAT
        man["files"] = {**hasher.used}
        write_json(lay.manifest, man)

    executor = Executor(lay, man, jobs=jobs, timeout=timeout, progress=progress, save=save, fresh=fresh,
                        keep=keep, key=lambda: pool.key(lay.root, versions))
    cleanups.append(executor.close)  # whatever happens, no worker outlives the run but those keep() handed on
    ready = False

    def get_ready(n: int) -> bool:
        """Check the notebooks' parameters, then start ``n`` workers (each starts its kernel).

        The check is skipped when these notebooks passed it with these parameters before
        (``checked`` in the manifest).  A refusal comes before any worker starts: it
        changes nothing, not even a worker log.
        """
        nonlocal ready
        if not ready:
            checked = _sha256_json([[nb.name, nb_hash[nb.name], sorted(params)] for nb, params in all_params])
            if man.get("checked") != checked:
                problems = executor.check(all_params)
                if problems:
                    progress.line("rss run: refused, the notebooks do not take the parameters the runner passes "
                                  "(papermill would only warn):\n" + "\n".join(f"  {p}" for p in problems))
                    return False
                man["checked"] = checked
            ready = True
        executor.boot(n)
        if executor.git is None:
            executor.git = git_state(lay.root)
        return True

    for stale in lay.running.glob("*") if lay.running.is_dir() else []:
        with contextlib.suppress(OSError):
            stale.unlink()

    # ---- stage 1: prepare
    results: dict[str, Result] = {}
    prep_jobs = []
    for nb in prep:
        parts = {"notebook": nb_hash[nb.name], **common, "params": params_for(nb, None),
                 "data": _sha256_json([inputs, scheme_part])}
        prep_jobs.append(Job(nb.name, nb, None, params_for(nb, None), parts,
                             expected=_expected(man["jobs"].get(nb.name, {}))))
    scored_ok = lay.scored.is_file() and man.get("scored", {}).get("sha256") == hasher(lay.scored)
    prep_todo = [j for j in prep_jobs if force or not scored_ok or _is_stale(j, man, lay)]
    progress.total = len(prep_todo)
    if prep_todo:
        # every worker starts now: while the prepare step runs on one, the others start and warm their kernels
        if not get_ready(jobs):
            return 2
        progress.line(f"rss run: {', '.join(j.id for j in prep_todo)} on {_rel(source, lay.root)} ...")
        results.update(executor.run(prep_todo, set()))
        if any(r.status != "ok" for r in results.values()):
            save()
            code = _summary(lay, progress, results, man, built=False, t_start=t_start)
            progress.line("rss run: no other notebook was run: they all read what the prepare step writes")
            return code
        if not lay.scored.is_file():
            raise RunError(f"{prep_todo[0].id} succeeded but wrote no {_rel(lay.scored, lay.root)}")

    # ---- stage 2: countries and once-notebooks
    executor.imported()  # pandas and pyarrow, imported in a thread while the prepare step ran
    scored_sha = hasher(lay.scored)
    fp = man.get("scored") if man.get("scored", {}).get("sha256") == scored_sha else None
    if fp is None or "countries" not in fp:
        fp = {"sha256": scored_sha, **scored_fingerprint(lay.scored)}
        man["scored"] = fp
    countries = sorted(fp["countries"])
    if country is not None and country not in fp["countries"]:
        progress.line(f"rss run: country {country!r} is not in the scored data; its countries are "
                      f"{', '.join(countries)}")
        if prep_todo:  # the prepare step ran: record it (otherwise nothing changed, and nothing is written)
            save()
        return 2
    prep_keys = {j.id: j.key for j in prep_jobs}
    rest: list[Job] = []
    for nb in present:
        if nb.kind == "country":
            for iso in countries:
                parts = {"notebook": nb_hash[nb.name], **common, "params": params_for(nb, iso),
                         "rows": fp["countries"][iso], "pooled": fp["pooled"] if nb.pooled else None}
                rest.append(Job(f"{nb.name}_{iso}", nb, iso, params_for(nb, iso), parts))
        elif nb.kind == "once":
            parts = {"notebook": nb_hash[nb.name], **common, "params": params_for(nb, None),
                     "scored": _sha256_json(fp["countries"])}  # content, not file bytes
            rest.append(Job(nb.name, nb, None, params_for(nb, None), parts))
    by_name = {j.id: j for j in rest}
    for j in rest:  # needs: key on what they need (in registry order, so needed keys exist first)
        for n in j.notebook.needs:
            if n in by_name:
                j.needs.append(n)
                j.parts.setdefault("needs", {})[n] = by_name[n].key
            elif n in prep_keys:
                j.parts.setdefault("needs", {})[n] = prep_keys[n]
    for j in rest:
        j.expected = _expected(man["jobs"].get(j.id, {}))

    _prune_countries(lay, man, set(countries), [nb for nb in present if nb.kind == "country"], progress)

    if country is not None:
        todo = [j for j in rest if j.country == country]
    else:
        todo = [j for j in rest if force or _is_stale(j, man, lay)]
        # a job whose need reruns, reruns
        changed = True
        while changed:
            changed = False
            ids = {j.id for j in todo}
            for j in rest:
                if j.id not in ids and any(n in ids for n in j.needs):
                    todo.append(j)
                    changed = True
    progress.total = len(prep_todo) + len(todo)
    if todo:
        if not get_ready(len(todo)):
            return 2
        progress.line(f"rss run: {len(todo)} notebook{'s' if len(todo) != 1 else ''} to run "
                      f"({len(rest) - len(todo)} up to date, {len(countries)} countries) on {jobs} "
                      f"worker{'s' if jobs != 1 else ''}")
        done_ok = {j.id for j in rest if j not in todo}
        results.update(executor.run(todo, done_ok))
    if executor.keep_for <= 0:
        # the workers shut their kernels down (freeing their memory) while the report is built; close() waits
        executor.stop()
    if missing:
        progress.line(f"not written yet (skipped; their report sections say so): {', '.join(missing)}")

    stale_ids = sorted(j.id for j in rest if j.id in man["jobs"] and _is_stale(j, man, lay))
    never_run = sorted(j.id for j in rest if j.id not in man["jobs"])
    man["run"] = {
        "started": dt.datetime.fromtimestamp(t_start, dt.UTC).isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "countries": countries, "jobs": jobs, "timeout": timeout, "force": force, "country": country,
        "ran": sorted(results), "stale": stale_ids, "not_run": never_run, "expected": sorted([*prep_keys, *by_name]),
        "missing_notebooks": missing, "packages": versions,
    }
    man["inputs"] = {"source": str(source), "shown_as": _rel(source, lay.root), "files": inputs,
                     "scheme": scheme_part}
    failed = {k: r for k, r in results.items() if r.status != "ok"}
    if failed:
        save()
        return _kept(executor, progress, _summary(lay, progress, results, man, built=False, t_start=t_start))

    # ---- report
    from . import report as _report  # cheap: heavy imports happen inside build_report

    key = _report.report_key(lay.root, man, hasher)
    current = (man.get("report", {}).get("key") == key and (lay.reports / "report.html").is_file()
               and (lay.reports / "tables.xlsx").is_file())
    built = False
    if not current or results:
        progress.line("rss run: building reports/report.html and reports/tables.xlsx ...")
        if executor.git is None:
            executor.git = git_state(lay.root)
        man["run"]["git"] = executor.git
        _report.build_report(lay.root, manifest=man)
        man["report"] = {"key": _report.report_key(lay.root, man, hasher),
                         "built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        built = True
    save()
    return _kept(executor, progress, _summary(lay, progress, results, man, built=built, t_start=t_start))


def _kept(executor: Executor, progress: Progress, code: int) -> int:
    """Leave the workers waiting for the next run (``RSS_KEEP_KERNELS``) and say so; return ``code``."""
    n = executor.keep()
    if n:
        progress.line(f"rss run: {n} kernel{'s' if n != 1 else ''} kept warm for the next run for "
                      f"{_clock(executor.keep_for)} (`rss stop` ends them now; RSS_KEEP_KERNELS=0 turns this off)")
    return code


def _summary(lay: _Layout, progress: Progress, results: dict[str, Result], man: dict[str, Any], *, built: bool,
             t_start: float) -> int:
    progress.close()
    took = _clock(time.time() - t_start)
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
           f"report {'rebuilt' if built else 'up to date'}: {_rel(lay.reports / 'report.html', lay.root)}")
    progress.line(msg)
    if stale:
        progress.line(f"note: {len(stale)} notebook{'s' if len(stale) != 1 else ''} not rerun (--country) "
                      f"whose inputs changed, flagged in the report: {', '.join(stale)}")
    not_run = man.get("run", {}).get("not_run", [])
    if not_run:
        progress.line(f"note: {len(not_run)} notebook{'s' if len(not_run) != 1 else ''} never run (--country); "
                      f"the report says 'not computed yet' for them: {', '.join(not_run)}")
    return 0
