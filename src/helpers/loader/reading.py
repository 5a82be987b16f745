"""Loading an input: every file read, checked and typed, every problem reported at once.

Imports: helpers.loader.parquet, helpers.loader.problems, helpers.loader.readers, helpers.loader.records, helpers.paths, helpers.scheme.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

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


def read_file(f: Path, name: str, scheme: Scheme) -> tuple[pd.DataFrame | None, list[Problem], list[str],
                                                             FileInfo | None]:
    """One data file read and checked as a whole (:func:`~helpers.loader.records.prepare_file`).

    Returns its records as read, with ``_file`` (``name``) and ``_row`` (None when the file
    cannot be used), its problems, its unused columns, and what it is (None when it cannot
    be read at all).
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
    info = FileInfo(path=name, format=fmt, sha256=hashlib.sha256(raw).hexdigest(), rows=0)
    del raw
    prepared, problems, unused = prepare_file(df, name, scheme)
    if prepared is not None:
        info = replace(info, rows=len(prepared))
    return prepared, problems, unused, info


def load_partition(path: str | Path, name: str, scheme: Scheme,
                   today: dt.date) -> tuple[pd.DataFrame | None, pd.DataFrame | None, list[Problem]]:
    """One file of a partitioned input checked alone, as :func:`load` checks it among the others.

    Every check of :func:`load` that looks at one record at a time gives the same
    problems on the file alone (they are listed per file); the one check across files,
    duplicated (respondent_id, wave), needs every file: :func:`load_partition` returns
    the file's :func:`~helpers.loader.records.record_keys` for
    :func:`~helpers.loader.records.partition_checks`.  ``name`` is the file as the
    problems name it (the caller's :func:`display_path`, not the worker's).

    Returns ``(data, keys, problems)``: the records typed as :func:`load` returns them
    (the categories of :data:`~helpers.loader.records.OBSERVED_CATEGORIES` are this
    file's) and their keys, or ``(None, None, problems)``.
    """
    prepared, problems, _unused, _info = read_file(Path(path), name, scheme)
    if prepared is None or problems:
        return None, None, problems
    typed, problems = validate(prepared, scheme, today)
    del prepared
    if problems:
        return None, None, problems
    return finish(typed), record_keys(typed), []
