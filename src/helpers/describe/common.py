"""What every description shares: the data it selects, the constants and the table contract.

Country and fieldwork selection, the synthetic-data flag, the respondent counts and
labels used by every table, and :func:`disclosed_table`, which attaches the
disclosure metadata (``keys``, ``count_cols``, ``groups``) that
:func:`helpers.outputs.write_table` reads.

Imports: helpers.disclosure (lazily, in :func:`disclosure_min_n`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

SPECIAL_CODES = {97: "not applicable", 98: "does not know", 99: "refused"}
#: Months-since-return bins of the trajectory: [0, 3), [3, 6), ... [36, inf).
MONTH_EDGES = (0, 3, 6, 9, 12, 18, 24, 36, math.inf)
#: Controls of the adjusted mentored-vs-not difference.
DEFAULT_CONTROLS = ("sex", "age", "months_since_return", "wave")
ASSIST = ("assist_economic", "assist_social", "assist_psychosocial")
POOLED = "pooled"


def disclosure_min_n(min_n: int | None) -> int:
    """The disclosure threshold: ``min_n``, else :func:`helpers.disclosure.disclosure_threshold`'s default."""
    from ..disclosure import disclosure_threshold

    return disclosure_threshold(min_n)


def disclosed_table(df: pd.DataFrame, *, keys: Sequence[str], count_cols: Sequence[str],
                    groups: Sequence[str] | None = None) -> pd.DataFrame:
    """Attach disclosure metadata; ``groups``: key columns of rows that add up to a published figure."""
    df = df.reset_index(drop=True)
    df.attrs = {"keys": list(keys), "count_cols": list(count_cols)}
    if groups is not None:
        df.attrs["groups"] = list(groups)
    return df


def score_label(col: str) -> str:
    """A score or indicator column's short name: ``score_social`` -> ``social``, ``ind_e1`` -> ``e1``."""
    return col.removeprefix("score_").removeprefix("ind_")


def country_data(df: pd.DataFrame, country: str) -> pd.DataFrame:
    """Return the surveys of one country (ISO3 code, any case).

    Raises
    ------
    ValueError
        Naming the countries the data holds, when ``country`` is not one of them.
    """
    code = str(country).strip().upper()
    out = df[df["country"] == code]
    if out.empty:
        have = ", ".join(sorted(df["country"].dropna().unique()))
        raise ValueError(f"country {country!r} is not in the data; countries present: {have}")
    return out.reset_index(drop=True)


def fieldwork_countries(df: pd.DataFrame) -> list[str]:
    """Return the countries with any mentored returnee (``mentored == 1``), sorted.

    Examples
    --------
    >>> fieldwork_countries(pd.DataFrame({"country": ["A", "A", "B"], "mentored": [0, 1, 0]}))
    ['A']
    """
    m = pd.to_numeric(df["mentored"], errors="coerce") == 1
    return sorted(str(c) for c in df.loc[m, "country"].dropna().unique())


def is_synthetic(source: str | Path) -> bool:
    """Say whether an input is the synthetic dataset: its folder holds a ``truth.json``.

    A ``truth.json`` beside the data is what :mod:`helpers.synthetic` writes; real
    exports do not carry one.  The file's ``synthetic``/``generator`` keys are not
    required: its presence is enough, so a partial or edited one still flags the run.
    """
    p = Path(source)
    folder = p if p.is_dir() else p.parent
    return (folder / "truth.json").is_file()


def n_respondents(df: pd.DataFrame) -> int:
    """Distinct respondents of ``df``."""
    return int(df["respondent_id"].nunique())


def first_survey(df: pd.DataFrame) -> pd.DataFrame:
    """Each respondent's first survey (lowest wave)."""
    return df.sort_values(["respondent_id", "wave"], kind="stable").drop_duplicates("respondent_id")
