"""Scored data and the scheme it carries: reading ``scored.parquet`` and the scheme structure in ``attrs``.

Scored records (one row per survey) carry the structure of the scheme that scored
them (dimensions, indicators, questions) in ``df.attrs["rss_scheme"]``, frozen
read-only, so later notebooks label tables without reloading the scheme.

Imports: helpers.scheme.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from .scheme import Scheme

__all__ = ["ATTRS_KEY", "read_scored", "attach_scheme", "scheme_info", "score_columns"]

#: Key of the scheme structure in ``DataFrame.attrs``.
ATTRS_KEY = "rss_scheme"


class _Shared:
    """What :class:`_Frozen` and :class:`_FrozenList` share: copies are the object itself, changes raise."""

    __slots__ = ()
    _base: type  # the built-in type frozen (dict or list)

    def _read_only(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(f"the scheme structure in DataFrame.attrs is read-only; copy it with "
                        f"{self._base.__name__}(...) to change it")

    def __deepcopy__(self, memo: dict[int, Any]) -> _Shared:
        return self

    def __copy__(self) -> _Shared:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._base(self),))


class _Frozen(_Shared, dict):
    """A read-only dict that :func:`copy.deepcopy` returns as it is.

    pandas deep-copies ``DataFrame.attrs`` into the result of every operation
    (selection, assignment, groupby, merge ...); the scheme structure held there
    (:func:`attach_scheme`) is a few hundred small objects, and copying it again
    and again took a noticeable share of the analysis notebooks' time.  Frozen,
    it can be shared safely.  It is still a ``dict`` (``isinstance``, ``==``,
    JSON and Parquet metadata unchanged); lists inside are frozen too
    (:class:`_FrozenList`).
    """

    __slots__ = ()
    _base = dict
    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _Shared._read_only  # type: ignore[assignment]


class _FrozenList(_Shared, list):
    """A read-only list that :func:`copy.deepcopy` returns as it is (see :class:`_Frozen`)."""

    __slots__ = ()
    _base = list
    __setitem__ = __delitem__ = __iadd__ = __imul__ = append = extend = insert = pop = remove = clear = sort = \
        reverse = _Shared._read_only  # type: ignore[assignment]


def _freeze(obj: Any) -> Any:
    """``obj`` with every dict and list in it made read-only (:class:`_Frozen`, :class:`_FrozenList`)."""
    if isinstance(obj, dict):
        return _Frozen({k: _freeze(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return _FrozenList(_freeze(v) for v in obj)
    return obj


def _frozen_attrs(df: pd.DataFrame) -> pd.DataFrame:
    """Freeze the scheme structure in ``df.attrs`` in place (see :class:`_Frozen`); return ``df``."""
    info = df.attrs.get(ATTRS_KEY)
    if isinstance(info, dict) and not isinstance(info, _Frozen):
        df.attrs[ATTRS_KEY] = _freeze(info)
    return df


def read_scored(path: str | Path) -> pd.DataFrame:
    """Read scored records: ``path`` is ``scored.parquet`` or the folder holding it.

    Raises
    ------
    FileNotFoundError
        Saying how to make the file.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "scored.parquet"
    if not p.is_file():
        raise FileNotFoundError(f"no scored data at {p}: run notebooks/00_prepare (or `rss score DATA -o "
                                f"{p}`) first")
    return _frozen_attrs(pd.read_parquet(p))


def attach_scheme(df: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Return ``df`` carrying the scheme's structure in ``attrs`` (kept by Parquet).

    Later notebooks read scored data without knowing which scheme scored it; the
    structure stored here (dimensions, indicators and their labels, questions) lets
    them label tables without reloading the scheme.
    """
    out = df.copy()
    out.attrs = {**df.attrs, ATTRS_KEY: _freeze({
        "id": scheme.id, "title": scheme.title, "official": bool(scheme.official),
        "dimensions": list(scheme.dimensions),
        "indicators": {i.id: {"label": i.label, "dimension": i.dimension} for i in scheme.indicators},
        "questions": {q.id: {"indicator": q.indicator, "dimension": q.dimension} for q in scheme.questions},
    })}
    return out


def scheme_info(df: pd.DataFrame) -> dict[str, Any]:
    """Return the scheme structure of scored data (see :func:`attach_scheme`).

    Data scored without it (e.g. by ``rss score``) falls back to the default scheme
    when its indicator columns match, and raises otherwise.
    """
    info = df.attrs.get(ATTRS_KEY)
    if isinstance(info, str):  # defensive: attrs written as JSON text
        info = json.loads(info)
    if info:
        return info
    from .scheme import load_scheme

    default = load_scheme()
    if all(c in df.columns for c in default.indicator_columns):
        return attach_scheme(df.iloc[:0], default).attrs[ATTRS_KEY]
    found = [c for c in df.columns if c.startswith("ind_")]
    raise ValueError(f"scored data does not say which scheme scored it and its indicators ({', '.join(found)}) "
                     f"are not those of the default scheme: score it with notebooks/00_prepare")


def score_columns(df: pd.DataFrame) -> list[str]:
    """Return the score columns of scored data: the dimensions, then ``score_composite``."""
    dims = [c for c in df.columns if c.startswith("score_") and c != "score_composite"]
    info = df.attrs.get(ATTRS_KEY)
    if info:
        dims = [f"score_{d}" for d in info["dimensions"] if f"score_{d}" in df.columns]
    return dims + (["score_composite"] if "score_composite" in df.columns else [])
