"""Run the notebook pipeline: ``rss run`` (and ``make report``).

    rss run [--country ISO3] [--jobs N] [--timeout S] [--data PATH] [--scheme FILE] [--force] [--cluster ADDRESS]

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
starts in a small marker file for the timeout message (:func:`pool_engine`).

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

from ..provenance import KEY_PACKAGES, NOT_KERNEL_CODE, FileHasher, git_state, helpers_hash, package_versions
from .batch import pair_differs, run
from .executor import Executor
from .fingerprint import DATA_SUFFIXES, input_files, notebook_hash, scored_fingerprint
from .manifest import MANIFEST_FORMAT, load_manifest, manifest_path
from .plan import Job, Result
from .progress import Progress
from .registry import DEFAULT_TIMEOUT, MAX_MESSAGE_LINES, NOTEBOOK_ENV, POOLED_PREFIXES, REGISTRY, Notebook, RunError
from .worker import SAVE_EVERY, WARM_MODULES

__all__ = [
    "Notebook",
    "REGISTRY",
    "KEY_PACKAGES",
    "RunError",
    "run",
    "manifest_path",
    "load_manifest",
    "scored_fingerprint",
    "DATA_SUFFIXES",
    "DEFAULT_TIMEOUT",
    "Executor",
    "FileHasher",
    "Job",
    "MANIFEST_FORMAT",
    "MAX_MESSAGE_LINES",
    "NOTEBOOK_ENV",
    "NOT_KERNEL_CODE",
    "POOLED_PREFIXES",
    "Progress",
    "Result",
    "SAVE_EVERY",
    "WARM_MODULES",
    "git_state",
    "helpers_hash",
    "input_files",
    "notebook_hash",
    "package_versions",
    "pair_differs",
]
