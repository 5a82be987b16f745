"""Publish results: the one way notebooks write tables, figures and key numbers.

Every output goes under ``reports/`` (paths from :mod:`helpers.paths`, read when a
function is called, so ``RSS_ROOT`` or a test's monkeypatch redirects them), is
written atomically (:mod:`helpers.io`) and, for tables, passes disclosure control
first.

Disclosure control
------------------
Primary suppression: a row whose respondent count is below the threshold (default
10; ``RSS_DISCLOSURE_THRESHOLD`` overrides it) keeps its key columns (what the row
is about: country, score, band, ...), shows its counts as ``"<10"``, has every
other value blanked and gets ``suppressed = True``.  A row with several count
columns (e.g. mentored and not mentored) is suppressed when any of them is below
the threshold; a missing count counts as zero.

Secondary (complementary) suppression: when the rows of a *group* add up to
something published (counts by category beside their total, shares that sum to 1,
group means beside the pooled mean), one hidden row could be recovered by
subtraction.  So when exactly one row of a group is suppressed, the row with the
next-smallest count of that group is suppressed too (ties: the first in table
order); its counts read ``"x"`` and its values are blanked, ``suppressed = True``.
Groups are declared by the function that built the table, in
``df.attrs["groups"]``: the key columns whose values identify a group (``[]``: the
whole table is one group), or given explicitly; without a declaration rows are not
grouped and only primary suppression applies.  Figures use the same rows
(:func:`suppressed_rows`), so a figure never shows what its table hides.

Limits, stated in the report's methods: groups are one-dimensional (in a table
classified two ways, e.g. country x wave, only the declared way is protected);
differencing *across* tables or against ``numbers.json`` is not audited (a total
published elsewhere is assumed to be the group's own total); and the protection
interval can be narrow: a reader who knows the rule knows the second hidden row
holds at least the threshold, so if two hidden rows sum to ``k`` the small one is
at most ``k - threshold`` (e.g. 1 when they sum to 11).

Which columns are counts and which are keys is declared by the function that built
the table, in ``df.attrs["count_cols"]`` and ``df.attrs["keys"]`` (every table of
:mod:`helpers.describe` does so), or given explicitly.  Without a declaration, the
count columns are those named ``n_respondents*``, and the keys are the non-numeric
columns; a table with no count column at all is refused unless ``count_cols=()``
says it is not built on respondents.

:func:`write_table` records what it applied (threshold, counts, keys, groups) in
``reports/.disclosure/<name>.json``, which ``rss check`` (:mod:`helpers.checks`)
reads to verify every published table.

Imports: helpers.disclosure, helpers.i18n, helpers.io, helpers.paths.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import i18n, io, paths
from .disclosure import (
    DEFAULT_THRESHOLD,
    SECONDARY_MARK,
    complementary,
    disclosure_threshold,
    suppress,
    suppressed_rows,
)

__all__ = ["DEFAULT_THRESHOLD", "SECONDARY_MARK", "disclosure_threshold", "suppress", "suppressed_rows",
           "complementary", "write_table", "disclosure_path", "save_figure", "record_numbers", "clean_numbers"]

#: Format of the disclosure records written beside the tables.
DISCLOSURE_FORMAT = 1
#: Figure formats written by :func:`save_figure`.
FIGURE_FORMATS = ("png", "svg")
#: Resolution of PNG figures.
PNG_DPI = 150
#: Fixed salt for the ids matplotlib writes into SVG files, so they do not change between runs.
SVG_HASHSALT = "rss-workspace"
#: Decimals kept for floats in numbers files.
NUMBER_DECIMALS = 6


def disclosure_path(name: str) -> Path:
    """Where :func:`write_table` records the disclosure control of table ``name``."""
    return paths.TABLES.parent / ".disclosure" / f"{name}.json"


def write_table(df: pd.DataFrame, name: str, *, count_cols: Sequence[str] | None = None,
                threshold: int | None = None, keys: Sequence[str] | None = None,
                groups: Sequence[str] | None = None) -> Path:
    """Write ``reports/tables/<name>.csv`` atomically, after disclosure control.

    Parameters
    ----------
    df
        The table; see :func:`suppress` for how counts, keys and groups are found.
    name
        File name without extension (letters, digits, ``_``, ``-``).
    count_cols, threshold, keys, groups
        Passed to :func:`suppress`.

    Returns
    -------
    pathlib.Path
        The written file.  What disclosure control applied (threshold, count, key
        and group columns, rows suppressed) is recorded in
        :func:`disclosure_path` for ``rss check``.
    """
    _check_name(name)
    return _write(suppress(df, count_cols=count_cols, threshold=threshold, keys=keys, groups=groups), name)


def publish(df: pd.DataFrame, name: str, *, count_cols: Sequence[str] | None = None,
            threshold: int | None = None, keys: Sequence[str] | None = None,
            groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Write a table as :func:`write_table` does and return the published (suppressed) table to display.

    A notebook shows exactly what it published, and disclosure control runs once.
    """
    _check_name(name)
    table = suppress(df, count_cols=count_cols, threshold=threshold, keys=keys, groups=groups)
    _write(table, name)
    return table


def _write(table: pd.DataFrame, name: str) -> Path:
    """Write a suppressed table and its disclosure record (for ``rss check``)."""
    path = io.write_csv(paths.TABLES / f"{name}.csv", table, float_format="%.6g")
    io.write_json(disclosure_path(name), {"format": DISCLOSURE_FORMAT, "table": f"tables/{name}.csv",
                                          "columns": [str(c) for c in table.columns],
                                          **table.attrs["disclosure"]})
    return path


def _check_name(name: str) -> None:
    ok = name and all(ch.isalnum() or ch in "_-" for ch in name)
    if not ok:
        raise ValueError(f"output name {name!r} must be letters, digits, '_' or '-' (no folders or extensions)")


def save_figure(fig: Any, name: str) -> list[Path]:
    """Write ``reports/figures/<name>.png`` and ``.svg`` atomically and reproducibly, then close ``fig``.

    Parameters
    ----------
    fig
        A matplotlib Figure.
    name
        File name without extension.

    Returns
    -------
    list of pathlib.Path
        The PNG then the SVG file.

    Notes
    -----
    The same figure gives byte-identical files on every run: no date or software
    stamp in the metadata, and a fixed ``svg.hashsalt`` for the ids of SVG elements.

    The figure's layout engine (constrained layout, as the helpers' plots use) runs
    once, while the PNG is drawn; the SVG is drawn with the positions it found.
    Left on, the engine would lay the figure out again for the SVG, which costs
    about as much as drawing it (measured: 17 figures of one rerun, 1.1 s of 7.2 s).
    Both files have the same layout, up to the rounding of text extents at the PNG's
    resolution instead of the SVG's 72 points per inch.
    """
    import matplotlib as mpl
    import matplotlib.pyplot as plt

    _check_name(name)
    written = []
    engine = fig.get_layout_engine()
    meta = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}
    try:
        with mpl.rc_context({"svg.hashsalt": SVG_HASHSALT, "svg.fonttype": "path"}):
            for fmt in FIGURE_FORMATS:
                target = paths.FIGURES / f"{name}.{fmt}"
                with io.atomic_path(target) as tmp:
                    fig.savefig(tmp, format=fmt, dpi=PNG_DPI, metadata=meta[fmt])
                written.append(target)
                if engine is not None:  # laid out by this first draw: keep those positions
                    fig.set_layout_engine("none")
            _translated(fig, name, meta["png"], engine)
    finally:
        plt.close(fig)
    return written


def translated_figure(name: str, lang: str, folder: Path | None = None) -> Path:
    """Where :func:`save_figure` writes the ``lang`` version of figure ``name`` (PNG only: what the report shows),
    under ``folder`` (default the project's ``reports/figures``)."""
    return (folder or paths.FIGURES) / lang / f"{name}.png"


def figure_gaps(name: str, lang: str, folder: Path | None = None) -> Path:
    """The texts of figure ``name`` with no ``lang`` entry (a JSON list), written only when there are some."""
    return (folder or paths.FIGURES) / lang / f"{name}.missing.json"


def _translated(fig: Any, name: str, meta: dict[str, Any], engine: Any) -> None:
    """Write the figure in each language ``RSS_REPORT_LANG`` asks for; remove the others' stale files.

    The English files are written first; the texts are then translated in place
    (:func:`helpers.i18n.translate_figure`) and laid out again by the figure's own engine.
    """
    wanted = i18n.report_langs()
    for lang in i18n.LANGS[1:]:
        target, gaps = translated_figure(name, lang), figure_gaps(name, lang)
        if lang not in wanted:
            target.unlink(missing_ok=True)  # from an earlier run: it would show what this run no longer computes
            gaps.unlink(missing_ok=True)
            continue
        missing = i18n.translate_figure(fig, lang)
        if engine is not None:
            fig.set_layout_engine(engine)
        if missing:  # written before the PNG and removed after it: a PNG never shows English texts unlisted
            io.write_json(gaps, missing)
        with io.atomic_path(target) as tmp:
            fig.savefig(tmp, format="png", dpi=PNG_DPI, metadata=meta)
        if not missing:
            gaps.unlink(missing_ok=True)


def clean_numbers(obj: Any, *, decimals: int = NUMBER_DECIMALS) -> Any:
    """Return ``obj`` as plain JSON values: floats rounded, NaN as ``None``, numpy types unwrapped.

    Examples
    --------
    >>> clean_numbers({"b": np.float64(1 / 3), "a": [np.int64(2), float("nan")], "c": np.bool_(True)})
    {'b': 0.333333, 'a': [2, None], 'c': True}
    """
    if isinstance(obj, Mapping):
        return {str(k): clean_numbers(v, decimals=decimals) for k, v in obj.items()}
    if isinstance(obj, (str, bytes)):
        return obj if isinstance(obj, str) else obj.decode("utf-8")
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if obj is None or obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, (pd.Timestamp, dt.date)):
        return obj.isoformat()
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        if not math.isfinite(f):
            return None
        r = round(f, decimals)
        return 0.0 if r == 0 else r  # no "-0.0"
    if isinstance(obj, (pd.Series, np.ndarray)):
        return [clean_numbers(v, decimals=decimals) for v in obj.tolist()]
    if isinstance(obj, Iterable):
        return [clean_numbers(v, decimals=decimals) for v in obj]
    raise TypeError(f"cannot record {type(obj).__name__} {obj!r} as a number: use str, int, float, bool, None, "
                    "lists or mappings")


def record_numbers(section: str, mapping: Mapping[str, Any]) -> Path:
    """Write the key numbers of one section to ``reports/numbers/<section>.json``.

    Parameters
    ----------
    section
        Section name (e.g. ``prepare``, ``country_SEN``, ``cross_country``).
    mapping
        Numbers (and short texts, lists, nested mappings) the report quotes.

    Returns
    -------
    pathlib.Path
        The written file: sorted keys, floats rounded to 6 decimals, NaN as ``null``.
        The report builder merges all sections into ``reports/numbers.json``.
    """
    _check_name(section)
    if not isinstance(mapping, Mapping):
        raise TypeError(f"record_numbers needs a mapping of name -> value; found {type(mapping).__name__}")
    return io.write_json(paths.NUMBERS / f"{section}.json", clean_numbers(mapping))
