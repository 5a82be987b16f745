"""Results and figures reused while their inputs are unchanged: a content-keyed cache.

    effects = cache.result(stats.mentoring_effects, panel)          # = stats.mentoring_effects(panel)
    saved = cache.figure("mentoring_coefficients", stats.plot_coefficients, effects, title="...")

A notebook reruns when anything it reads changed (:mod:`helpers.runner`), e.g. one
country's rows.  Parts of it may not read those rows: the mentoring analyses read
only the countries where mentoring ran.  Wrapped in :func:`result`, such a part is
computed once per content of its inputs and read back afterwards; wrapped in
:func:`figure`, a figure is drawn and written once per content of what it shows.

The key of an entry is the function's module and name, the arguments' *content*
(a DataFrame by :func:`pandas.util.hash_pandas_object` of its rows, index included,
plus its columns, dtypes and ``attrs``; arrays by their bytes; plain values by
value), the helpers code the kernels import (:func:`helpers.provenance.helpers_hash`,
as the runner keys notebooks), and the versions of the packages the analyses use; for a figure also matplotlib's
rcParams, the file name and the languages it is drawn in (``RSS_REPORT_LANG``).  An argument
of any other type (an open file, a function) makes the call uncacheable: it is
simply computed.  So an edited helper, another package version or different data
never reuse a result.  Warnings the computation raised are stored with its result
and raised again when it is reused, so a notebook shows the same either way.

Entries live in ``data/processed/.cache`` (git-ignored like the scored data they
derive from; delete the folder to empty it): a pickle per result, the newest
:data:`KEEP` per function kept; a figure's entry records the key and the sha256 of
the PNG and SVG it wrote (and of its French PNG), and is used only while they are unchanged on disk.

Imports: helpers.i18n, helpers.io, helpers.outputs, helpers.paths, helpers.provenance.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import pickle
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import i18n, io, paths

__all__ = ["result", "figure", "fingerprint", "KEEP"]

#: Results kept per function (the newest; older ones are deleted when a new one is written).
KEEP = 6
#: Packages whose versions key every entry.
PACKAGES = ("numpy", "pandas", "scipy", "statsmodels", "linearmodels", "matplotlib", "seaborn", "pyarrow")

#: rcParams that do not change a saved file (the interactive backend differs between JupyterLab and batch runs).
_NOT_DRAWN = frozenset({"backend", "backend_fallback", "interactive", "toolbar", "figure.max_open_warning",
                        "webagg.port", "webagg.address", "webagg.port_retries", "webagg.open_in_browser"})

_versions: dict[str, str] = {}


def _folder() -> Path:
    return paths.PROCESSED / ".cache"


class _Uncacheable(Exception):
    pass


def _feed(h: Any, obj: Any) -> None:
    if obj is None or isinstance(obj, (bool, int, float, str, bytes, np.generic)):
        h.update(f"{type(obj).__name__}:{obj!r};".encode())
    elif isinstance(obj, pd.DataFrame):
        h.update(b"DataFrame;")
        _feed(h, [[repr(c) for c in obj.columns], [repr(t) for t in obj.dtypes], list(obj.shape)])  # repr: categories too
        h.update(pd.util.hash_pandas_object(obj, index=True, categorize=True).to_numpy().tobytes())
        _feed(h, dict(obj.attrs))
    elif isinstance(obj, pd.Series):
        h.update(b"Series;")
        _feed(h, [str(obj.name), repr(obj.dtype), len(obj)])
        h.update(pd.util.hash_pandas_object(obj, index=True, categorize=True).to_numpy().tobytes())
        _feed(h, dict(obj.attrs))
    elif isinstance(obj, np.ndarray):
        if obj.dtype == object:
            _feed(h, ["ndarray", list(obj.shape), obj.tolist()])
        else:
            h.update(f"ndarray:{obj.dtype.str}:{obj.shape};".encode())
            h.update(np.ascontiguousarray(obj).tobytes())
    elif isinstance(obj, (list, tuple)):
        h.update(f"{type(obj).__name__}[{len(obj)}];".encode())
        for x in obj:
            _feed(h, x)
    elif isinstance(obj, Mapping):
        h.update(f"map[{len(obj)}];".encode())
        for k in sorted(obj, key=repr):
            _feed(h, k)
            _feed(h, obj[k])
    elif isinstance(obj, (set, frozenset)):
        _feed(h, sorted(obj, key=repr))
    else:
        raise _Uncacheable(type(obj).__name__)


def fingerprint(*objs: Any) -> str | None:
    """sha256 of the content of ``objs``; None when one of them is of a type not hashed by content.

    Examples
    --------
    >>> a = pd.DataFrame({"x": [1.0, None], "g": ["a", "b"]})
    >>> fingerprint(a) == fingerprint(a.copy()) != fingerprint(a.assign(x=[1.0, 2.0]))
    True
    >>> fingerprint(a, open) is None
    True
    """
    h = hashlib.sha256()
    try:
        for o in objs:
            _feed(h, o)
    except _Uncacheable:
        return None
    return h.hexdigest()


def _code() -> str:
    """The helpers code the kernels import (as the runner keys notebooks: re-read each call, ~1 ms) and the
    versions of :data:`PACKAGES` (read once per process)."""
    from .provenance import helpers_hash, package_versions

    if not _versions:
        _versions.update(package_versions(PACKAGES))
    return hashlib.sha256(f"{helpers_hash()}:{json.dumps(_versions, sort_keys=True)}".encode()).hexdigest()


def _key(fn: Callable[..., Any], args: tuple, kwargs: dict, *extra: Any) -> str | None:
    name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', getattr(fn, '__name__', '?'))}"
    data = fingerprint(name, args, kwargs, *extra)
    return None if data is None else hashlib.sha256(f"{_code()}:{data}".encode()).hexdigest()[:32]


def _mtime(p: Path) -> int:
    try:
        return p.stat().st_mtime_ns
    except OSError:  # removed meanwhile by another kernel's pruning
        return 0


def _prune(folder: Path, prefix: str) -> None:
    entries = sorted(folder.glob(f"{prefix}-*.pkl"), key=_mtime, reverse=True)
    for old in entries[KEEP:]:
        with contextlib.suppress(OSError):
            old.unlink()


def result(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, read back when the same function got inputs of the same content before.

    The entry is ``data/processed/.cache/<function name>-<key>.pkl`` (``tests/test_cache.py``).
    """
    key = _key(fn, args, kwargs)
    if key is None:
        return fn(*args, **kwargs)
    folder = _folder()
    prefix = getattr(fn, "__name__", "result")
    path = folder / f"{prefix}-{key}.pkl"
    try:
        with open(path, "rb") as f:
            entry = pickle.load(f)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError):
        entry = None
    if entry is not None:
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: pruned last
        for category, message in entry["warnings"]:
            warnings.warn(message, category, stacklevel=2)
        return entry["value"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = fn(*args, **kwargs)
    seen = []
    for w in caught:
        seen.append((w.category, str(w.message)))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    try:  # a cache that cannot be written (read-only folder, full disk) only costs the next run its time
        folder.mkdir(parents=True, exist_ok=True)
        io.write_bytes(path, pickle.dumps({"value": value, "warnings": seen}, protocol=pickle.HIGHEST_PROTOCOL))
        _prune(folder, prefix)
    except OSError as exc:
        warnings.warn(f"helpers.cache: could not store {path.name} ({exc}); the result is not reused", stacklevel=2)
    return value


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def figure(name: str, plot: Callable[..., Any], *args: Any, **kwargs: Any) -> list[Path]:
    """:func:`helpers.outputs.save_figure` of ``plot(*args, **kwargs)``, unless those files already show it.

    Returns the PNG and SVG paths, as ``save_figure``.  The figure is not drawn when
    the entry of ``name`` has this key and both files on disk are the ones it wrote.
    """
    import matplotlib as mpl

    from . import outputs

    rc = {k: repr(v) for k, v in mpl.rcParams.items() if k not in _NOT_DRAWN}
    langs = i18n.report_langs()  # the languages it is drawn in: a French run draws (and an English one removes) more
    rc["languages"] = repr(langs)
    key = _key(plot, args, kwargs, name, rc)
    folder = _folder() / "figures"
    entry_path = folder / f"{name}.json"
    if key is not None:
        try:
            entry = json.loads(entry_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            entry = None
        if entry and entry.get("key") == key:
            files = [Path(p) for p in entry["files"]]
            drawn = {**entry["files"], **entry.get("translated", {})}
            if all(_sha(paths.ROOT / p) == sha for p, sha in drawn.items()):
                return [paths.ROOT / p for p in files]
    saved = outputs.save_figure(plot(*args, **kwargs), name)
    if key is not None:
        files = {str(p.relative_to(paths.ROOT)): _sha(p) for p in saved}
        translated = {str(p.relative_to(paths.ROOT)): _sha(p)
                      for p in (outputs.translated_figure(name, x) for x in langs) if p.is_file()}
        with contextlib.suppress(OSError):  # not stored: the figure is drawn again next time
            folder.mkdir(parents=True, exist_ok=True)
            io.write_text(entry_path, json.dumps({"key": key, "files": files, "translated": translated}, indent=1))
    return saved
