"""Loading an input: every file read, checked and typed, every problem reported at once.

Imports: helpers.loader.parquet, helpers.loader.problems, helpers.loader.readers, helpers.loader.records, helpers.paths, helpers.scheme.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from .. import paths
from ..scheme import Scheme, load_scheme
from .parquet import read_parquet
from .problems import DataError, Problem, in_order
from .readers import FileInfo, FileProblem, display_path, find_files, read_csv, read_xlsx
from .records import cross_checks, finish, prepare_file, record_keys, validate


@dataclass
class LoadResult:
    """What :func:`load` read: the typed records and what it noticed."""

    data: pd.DataFrame
    files: list[FileInfo]
    scheme: Scheme
    unused_columns: dict[str, list[str]] = field(default_factory=dict)
    ignored_files: list[str] = field(default_factory=list)

    def summary(self) -> str:
        d = self.data
        lines = [
            f"{len(self.files)} file(s), {len(d):,} surveys, {d['respondent_id'].nunique():,} respondents, "
            f"{d['country'].nunique()} countries ({', '.join(sorted(d['country'].unique()))}), scheme {self.scheme.id}",
        ]
        for f, cols in self.unused_columns.items():
            lines.append(f"unused columns in {f}: {', '.join(cols)}")
        for f in self.ignored_files:
            lines.append(f"not data, skipped: {f}")
        return "\n".join(lines)


def load(path: str | Path | None = None, *, scheme: Scheme | str | Path | None = None,
         today: dt.date | None = None) -> LoadResult:
    """Read, check and type RSS records from a file or a folder of files.

    Parameters
    ----------
    path
        A ``.csv``/``.xlsx``/``.parquet`` file or a folder (searched recursively);
        default :func:`helpers.paths.data_source` (``RSS_DATA`` or ``data/raw``).
    scheme
        The scoring scheme whose questions the data must carry (default
        ``rss-default``).
    today
        Date after which a ``survey_date`` is rejected as in the future.

    Returns
    -------
    LoadResult
        ``data``: one row per survey, typed,
        with ``months_since_return`` (days / 30.44), in file order (files sorted by
        path, rows as in the file); item columns keep the raw
        codes, special codes 97/98/99 included (scoring treats them as missing).

    Raises
    ------
    DataError
        Listing every problem of every file at once.
    """
    scheme = scheme if isinstance(scheme, Scheme) else load_scheme(scheme)
    today = today or dt.date.today()
    src = Path(path) if path is not None else paths.data_source()
    files, skipped, problems = find_files(src)
    groups: dict[bool, list[pd.DataFrame]] = {True: [], False: []}  # textual files, native (Parquet) files
    infos, unused_all = [], {}
    for f in files:
        name = display_path(f)
        prepared, file_problems, unused, info = read_file(f, name, scheme)
        problems.extend(file_problems)
        if unused:
            unused_all[name] = unused
        if info is not None:
            infos.append(info)
        if prepared is not None:
            groups[info.format != "parquet"].append(prepared)
    frames = []
    for group in groups.values():
        if group:
            stacked = pd.concat(group, ignore_index=True) if len(group) > 1 else group[0]
            group.clear()  # the raw frames are no longer needed: free them before typing the next group
            typed, group_problems = validate(stacked, scheme, today)
            del stacked
            problems.extend(group_problems)
            frames.append(typed)
    if frames and not problems:
        data = pd.concat(frames, ignore_index=True)
        problems.extend(cross_checks(data))
    if problems:
        raise DataError(in_order(problems))
    data = finish(data)
    return LoadResult(data=data, files=infos, scheme=scheme, unused_columns=unused_all,
                      ignored_files=[display_path(s) for s in skipped])


def read_file(f: Path, name: str, scheme: Scheme, casts: dict[str, Any] | None = None
              ) -> tuple[pd.DataFrame | None, list[Problem], list[str], FileInfo | None]:
    """One data file read and checked as a whole (:func:`~helpers.loader.records.prepare_file`).

    Returns its records as read, with ``_file`` (``name``) and ``_row`` (None when the file
    cannot be used), its problems, its unused columns, and what it is (None when it cannot
    be read at all).  ``casts``: dtypes some columns are given as soon as the file is read (the
    ones stacking the file among the others gives them, :func:`load_partition`).
    """
    with open(f, "rb") as fh:  # raw data is only ever read
        raw = fh.read()
    fmt = f.suffix.lower().lstrip(".")
    try:
        if fmt == "csv":
            df = read_csv(raw)
        elif fmt == "xlsx":
            df = read_xlsx(raw)
        else:
            df = read_parquet(raw)
    except FileProblem as exc:
        return None, [Problem(name, str(exc))], [], None
    if casts:
        df = df.astype({c: d for c, d in casts.items() if c in df.columns})
    info = FileInfo(path=name, format=fmt, sha256=hashlib.sha256(raw).hexdigest(), rows=0)
    del raw
    prepared, problems, unused = prepare_file(df, name, scheme)
    if prepared is not None:
        info = replace(info, rows=len(prepared))
    return prepared, problems, unused, info


def load_partition(path: str | Path, name: str, scheme: Scheme, today: dt.date, casts: dict[str, Any] | None = None,
                   hash_keys: tuple[str, str] | None = None
                   ) -> tuple[pd.DataFrame | None, pd.DataFrame | None, list[Problem]]:
    """One file of a partitioned input checked alone, as :func:`load` checks it among the others.

    Every check of :func:`load` that looks at one record at a time gives the same
    problems on the file alone (they are listed per file); the one check across files,
    duplicated (respondent_id, wave), needs every file: :func:`load_partition` returns
    the file's :func:`~helpers.loader.records.record_keys` for
    :func:`~helpers.loader.records.partition_checks`.  ``name`` is the file as the
    problems name it (the caller's :func:`display_path`, not the worker's).

    ``casts``: the dtypes :func:`load`'s stacking of the files would give some of this file's
    columns (an int column beside a float one in another file is float; see
    :func:`stacked_casts`), so that the values read, and the problems' words, are those of
    :func:`load`.  ``hash_keys``: the keys of the id hashes (one pair per run).

    Returns ``(data, keys, problems)``: the records typed as :func:`load` returns them
    (the categories of :data:`~helpers.loader.records.OBSERVED_CATEGORIES` are this
    file's) and their keys, or ``(None, None, problems)``.
    """
    prepared, problems, _unused, _info = read_file(Path(path), name, scheme, casts)
    if prepared is None or problems:
        return None, None, problems
    typed, problems = validate(prepared, scheme, today)
    del prepared
    if problems:
        return None, None, problems
    return finish(typed), record_keys(typed, hash_keys), []


def stacked_casts(paths: list[Path]) -> list[dict[str, Any]]:
    """For each Parquet file, the dtypes :func:`load` would give its columns by stacking it with the others.

    Read from the files' schemas only (their footers: no record is read).  A column that is
    int64 in one file and float64 in another (or missing from one) is float64 in all, as
    ``pandas.concat`` makes it; a datetime beside text is object.  Returns, per file, the
    columns whose dtype changes and their new dtype (empty when the files agree).
    """
    import numpy as np
    import pyarrow.parquet as pq

    def dummy(d: Any) -> pd.Series:  # one value of dtype d: concat's rules depend on the values being there
        if isinstance(d, np.dtype) and d.kind in "biufcmM":
            return pd.Series(np.zeros(1, dtype=d))
        try:
            return pd.Series([""], dtype=d)
        except (TypeError, ValueError):
            return pd.Series([""], dtype=object)

    def schema(p: Path) -> pd.Series | None:
        try:
            return pq.read_schema(p).empty_table().to_pandas().dtypes
        except Exception:  # noqa: BLE001 -- unreadable: the file's own check reports it, in the loader's words
            return None

    dtypes = [schema(p) for p in paths]
    known = [d for d in dtypes if d is not None]
    if len(known) < 2 or all(len(d) == len(known[0]) and d.equals(known[0]) for d in known[1:]):
        return [{} for _ in paths]
    stacked = pd.concat([pd.DataFrame({c: dummy(t) for c, t in d.items()}) for d in known], ignore_index=True).dtypes
    return [{} if d is None else {c: stacked[c] for c, t in d.items() if c in stacked and stacked[c] != t}
            for d in dtypes]
