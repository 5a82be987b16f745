"""``rss run``: checks the configuration, plans what is stale, runs it (:mod:`.executor`), records
the manifest and builds the report when every notebook succeeded.

Imports: helpers.i18n, helpers.io, helpers.paths, helpers.provenance, helpers.report, helpers.runner.cluster, helpers.runner.executor, helpers.runner.fingerprint, helpers.runner.manifest, helpers.runner.plan, helpers.runner.pool, helpers.runner.progress, helpers.runner.registry, helpers.runner.summary, helpers.scheme, helpers.settings only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from .. import i18n, paths
from ..provenance import FileHasher, git_state, helpers_hash, package_versions, sha256_json
from .executor import Executor, expected_seconds, sweep_temporaries
from .fingerprint import DATA_SUFFIXES, input_files, notebook_hash, scored_fingerprint
from .manifest import MANIFEST_FORMAT, load_manifest
from .plan import Job, Layout, Result, is_stale, relative
from .progress import Progress
from .registry import DEFAULT_TIMEOUT, NOTEBOOK_ENV, REGISTRY, Notebook, RunError
from .summary import keep_kernels, run_summary


def _check_scheme(scheme: str | Path) -> None:
    """Validate a ``--scheme`` before any notebook runs (the prepare notebook would fail on it later)."""
    from ..scheme import SchemeError, load_scheme

    try:
        load_scheme(scheme)
    except SchemeError as exc:
        raise RunError(f"--scheme {scheme}: {exc}") from None


def _count_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _prune_countries(lay: Layout, man: dict[str, Any], countries: set[str], country_nbs: list[Notebook],
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
                  *(lay.reports / "figures").glob(f"*/country_{c}_*"),
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
def _lock(lay: Layout):
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
        fresh_kernels: bool = False, cluster: str | None = None, lang: str = "en") -> int:
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
    cluster
        Run the notebooks as tasks of this ``dask.distributed`` scheduler (``"local"``:
        a LocalCluster of ``jobs`` workers); default the local pool.  See :mod:`.cluster`.
    lang
        ``"fr"``: the notebooks also draw their figures in French (``RSS_REPORT_LANG``, part of
        every notebook's key, so switching language reruns them) and ``reports/report.fr.html`` is
        built beside ``report.html``; a text without a French entry fails the run (exit 1) naming it.

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
    if lang not in i18n.LANGS:
        raise RunError(f"--lang {lang!r}: expected one of {', '.join(i18n.LANGS)}")
    if lang == "en":
        os.environ.pop(i18n.LANG_ENV, None)
    else:
        os.environ[i18n.LANG_ENV] = lang
    lay = Layout(paths.ROOT)
    progress = Progress(stream, tty=tty)
    cleanups: list[Any] = []
    with _lock(lay), _sigterm_interrupts():
        try:
            return _run(lay, progress, country=country, jobs=jobs or _count_cpus(), timeout=timeout, data=data,
                        scheme=scheme, force=force, registry=registry, fresh=fresh_kernels, cleanups=cleanups,
                        cluster=(cluster, jobs))
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


def _run(lay: Layout, progress: Progress, *, country, jobs, timeout, data, scheme, force, registry, fresh,
         cleanups, cluster=(None, None)) -> int:
    t_start = time.time()
    from ..settings import SettingError, disclosure_threshold
    from . import pool

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
        raise RunError(f"input {relative(source, lay.root)} {what}" + (f" [input from {origin}]" if origin else ""))
    base = source if source.is_dir() else source.parent
    inputs = [{"path": relative(f, base), "bytes": f.stat().st_size, "sha256": hasher(f)} for f in files]
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
    sweep_temporaries(lay)  # temporaries of a run that was killed outright (nothing runs now: we hold the lock)

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
    common = {"helpers": helpers_hash(), "env": sha256_json(versions),
              "settings": {k: os.environ.get(k) for k in NOTEBOOK_ENV}}
    nb_hash = {}
    for nb in present:
        try:
            nb_hash[nb.name] = notebook_hash(lay.source(nb))
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            raise RunError(f"{relative(lay.source(nb), lay.root)} cannot be read as a notebook ({type(exc).__name__}: "
                           f"{exc}); restore it, or recreate it from its .py with `jupytext --sync`") from None

    def params_for(nb: Notebook, iso: str | None) -> dict[str, str]:
        values = {"data": str(source) if explicit_data else "", "processed": "", "country": iso or "",
                  "scheme": str(scheme_part["path"]) if scheme_part else None}
        return {p: values[p] for p in nb.params if values.get(p) is not None}

    all_params = [(nb, params_for(nb, "XXX" if nb.kind == "country" else None)) for nb in present]

    def save() -> None:
        from ..io import write_json

        man["format"] = MANIFEST_FORMAT
        man["files"] = {**hasher.used}
        write_json(lay.manifest, man)

    if cluster[0]:
        from .cluster import ClusterExecutor

        executor: Executor = ClusterExecutor(lay, man, address=cluster[0], jobs=cluster[1], timeout=timeout,
                                             progress=progress, save=save)
    else:
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
            checked = sha256_json([[nb.name, nb_hash[nb.name], sorted(params)] for nb, params in all_params])
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
                 "data": sha256_json([inputs, scheme_part])}
        prep_jobs.append(Job(nb.name, nb, None, params_for(nb, None), parts,
                             expected=expected_seconds(man["jobs"].get(nb.name, {}))))
    scored_ok = lay.scored.is_file() and man.get("scored", {}).get("sha256") == hasher(lay.scored)
    prep_todo = [j for j in prep_jobs if force or not scored_ok or is_stale(j, man, lay)]
    progress.total = len(prep_todo)
    if prep_todo:
        # every worker starts now: while the prepare step runs on one, the others start and warm their kernels
        if not get_ready(jobs):
            return 2
        progress.line(f"rss run: {', '.join(j.id for j in prep_todo)} on {relative(source, lay.root)} ...")
        results.update(executor.run(prep_todo, set()))
        if any(r.status != "ok" for r in results.values()):
            save()
            code = run_summary(lay, progress, results, man, built=False, t_start=t_start)
            progress.line("rss run: no other notebook was run: they all read what the prepare step writes")
            return code
        if not lay.scored.is_file():
            raise RunError(f"{prep_todo[0].id} succeeded but wrote no {relative(lay.scored, lay.root)}")

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
                     "scored": sha256_json(fp["countries"])}  # content, not file bytes
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
        j.expected = expected_seconds(man["jobs"].get(j.id, {}))

    _prune_countries(lay, man, set(countries), [nb for nb in present if nb.kind == "country"], progress)

    if country is not None:
        todo = [j for j in rest if j.country == country]
    else:
        todo = [j for j in rest if force or is_stale(j, man, lay)]
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
                      f"({len(rest) - len(todo)} up to date, {len(countries)} countries) on {executor.where}")
        done_ok = {j.id for j in rest if j not in todo}
        results.update(executor.run(todo, done_ok))
    if executor.keep_for <= 0:
        # the workers shut their kernels down (freeing their memory) while the report is built; close() waits
        executor.stop()
    if missing:
        progress.line(f"not written yet (skipped; their report sections say so): {', '.join(missing)}")

    stale_ids = sorted(j.id for j in rest if j.id in man["jobs"] and is_stale(j, man, lay))
    never_run = sorted(j.id for j in rest if j.id not in man["jobs"])
    man["run"] = {
        "started": dt.datetime.fromtimestamp(t_start, dt.UTC).isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "countries": countries, "jobs": jobs, "timeout": timeout, "force": force, "country": country,
        "ran": sorted(results), "stale": stale_ids, "not_run": never_run, "expected": sorted([*prep_keys, *by_name]),
        "missing_notebooks": missing, "packages": versions,
    }
    man["inputs"] = {"source": str(source), "shown_as": relative(source, lay.root), "files": inputs,
                     "scheme": scheme_part}
    failed = {k: r for k, r in results.items() if r.status != "ok"}
    if failed:
        save()
        return keep_kernels(executor, progress, run_summary(lay, progress, results, man, built=False, t_start=t_start))

    # ---- report
    from .. import report as _report  # cheap: heavy imports happen inside build_report

    key = _report.report_key(lay.root, man, hasher)
    langs = i18n.report_langs()
    current = (man.get("report", {}).get("key") == key and (lay.reports / "report.html").is_file()
               and (lay.reports / "tables.xlsx").is_file()
               and all((lay.reports / f"report.{x}.html").is_file() for x in langs))
    built = False
    untranslated: list[str] = []
    if not current or results:
        progress.line("rss run: building reports/report.html and reports/tables.xlsx ...")
        if executor.git is None:
            executor.git = git_state(lay.root)
        man["run"]["git"] = executor.git
        _report.build_report(lay.root, manifest=man)  # removes report.fr.html: rebuilt below when asked for
        for x in langs:
            progress.line(f"rss run: building reports/report.{x}.html ...")
            try:
                _report.build_report(lay.root, manifest=man, lang=x)
            except _report.MissingTranslations as exc:  # the English report stands; the run fails naming the texts
                (lay.reports / f"report.{x}.html").unlink(missing_ok=True)
                progress.line(f"rss run: {exc}")
                untranslated.append(x)
        man["report"] = {"key": _report.report_key(lay.root, man, hasher),
                         "built": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        built = True
    save()
    code = keep_kernels(executor, progress, run_summary(lay, progress, results, man, built=built, t_start=t_start))
    return code or (1 if untranslated else 0)
