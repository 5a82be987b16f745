"""Section 0 of ``../shared/spec/analyses.md``: what the data covers, what is missing, what is excluded.

Surveys and respondents per country and wave, missing and special answer codes per
question, and the surveys without a composite score.

Imports: helpers.scored, helpers.describe.common.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..scored import scheme_info, score_columns
from .common import SPECIAL_CODES, disclosed_table, fieldwork_countries, n_respondents, score_label


def surveys_by_country(df: pd.DataFrame) -> pd.DataFrame:
    """Surveys, respondents, waves and months since return per country.

    Returns
    -------
    pandas.DataFrame
        ``country``, ``fieldwork`` (any mentored returnee), ``n_surveys``,
        ``n_respondents``, ``n_waves`` (highest wave), ``months_median``,
        ``months_p25``, ``months_p75``.
    """
    fw = set(fieldwork_countries(df))
    g = df.groupby("country", sort=True)
    out = pd.DataFrame({
        "n_surveys": g.size(),
        "n_respondents": g["respondent_id"].nunique(),
        "n_waves": g["wave"].max(),
        "months_median": g["months_since_return"].median(),
        "months_p25": g["months_since_return"].quantile(0.25),
        "months_p75": g["months_since_return"].quantile(0.75),
    }).reset_index()
    out.insert(1, "fieldwork", out["country"].isin(fw))
    return disclosed_table(out, keys=["country", "fieldwork"], count_cols=["n_respondents"], groups=[])


def surveys_by_country_wave(df: pd.DataFrame) -> pd.DataFrame:
    """Surveys and respondents per country and wave, with months since return.

    Returns
    -------
    pandas.DataFrame
        ``country``, ``wave``, ``n_surveys``, ``n_respondents``, ``months_median``,
        ``months_p25``, ``months_p75``.
    """
    g = df.groupby(["country", "wave"], sort=True)
    out = pd.DataFrame({
        "n_surveys": g.size(),
        "n_respondents": g["respondent_id"].nunique(),
        "months_median": g["months_since_return"].median(),
        "months_p25": g["months_since_return"].quantile(0.25),
        "months_p75": g["months_since_return"].quantile(0.75),
    }).reset_index()
    return disclosed_table(out, keys=["country", "wave"], count_cols=["n_respondents"], groups=["country"])


def missingness(df: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Answered, empty and special codes (97/98/99) per question.

    Parameters
    ----------
    df
        Loaded or scored records (item columns hold raw codes).
    by
        Optional grouping column (e.g. ``"country"``); default pooled.

    Returns
    -------
    pandas.DataFrame
        [``by``], ``question``, ``dimension``, ``indicator``, ``n_surveys``,
        ``n_respondents``, ``n_answered``, ``n_empty``, ``n_97``, ``n_98``,
        ``n_99``, ``share_missing`` (empty or special, of surveys).
    """
    info = scheme_info(df)
    qs = [q for q in info["questions"] if q in df.columns]
    codes = df[qs].apply(pd.to_numeric, errors="coerce")
    counted = {"empty": codes.isna(), **{c: codes == c for c in SPECIAL_CODES}}
    if by:  # counts of every group at once (one groupby per count), the groups in the order of df.groupby
        grouped = df.groupby(by, sort=True)
        sizes, respondents = grouped.size(), grouped["respondent_id"].nunique()
        sums = {k: v.groupby(df[by], sort=True).sum() for k, v in counted.items()}
        groups = [(key, int(sizes[key]), int(respondents[key]), {k: v.loc[key] for k, v in sums.items()})
                  for key in sizes.index]
    else:
        groups = [(None, len(df), n_respondents(df), {k: v.sum() for k, v in counted.items()})]
    rows = []
    for key, n, n_resp, sums_of in groups:
        empty = sums_of["empty"]
        spec = {c: sums_of[c] for c in SPECIAL_CODES}
        for q in qs:
            r = {} if by is None else {by: key}
            n_missing = int(empty[q]) + sum(int(spec[c][q]) for c in SPECIAL_CODES)
            r.update(question=q, dimension=info["questions"][q]["dimension"],
                     indicator=info["questions"][q]["indicator"], n_surveys=n, n_respondents=n_resp,
                     n_answered=n - n_missing, n_empty=int(empty[q]),
                     **{f"n_{c}": int(spec[c][q]) for c in SPECIAL_CODES},
                     share_missing=n_missing / n if n else np.nan)
            rows.append(r)
    out = pd.DataFrame(rows)
    keys = ([by] if by else []) + ["question", "dimension", "indicator"]
    # by group: the groups of a question add up to its pooled row (published in the pooled table)
    return disclosed_table(out, keys=keys, count_cols=["n_respondents"], groups=["question"] if by else None)


def exclusions(df: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Surveys with and without a composite score, and why one is missing.

    A composite is missing when a dimension score is; a dimension score is missing
    when its answered indicators carry less than the scheme's minimum share of the
    dimension's weight (too many empty or 97/98/99 answers).

    Returns
    -------
    pandas.DataFrame
        [``by``], ``status`` (``scored`` or ``excluded``), ``reason``
        (``composite scored`` or ``no <dimension> score`` joined by ``; ``),
        ``n_surveys``, ``n_respondents``, ``share_of_surveys``.  Every group has a
        ``scored`` row, even with zero surveys.
    """
    dims = [c for c in score_columns(df) if c != "score_composite"]
    text = np.full(len(df), "", dtype=object)
    for c in dims:
        part = np.where(df[c].isna().to_numpy(), f"no {score_label(c)} score", "")
        text = np.where((text != "") & (part != ""), text + "; " + part, text + part)
    excluded = df["score_composite"].isna().to_numpy()
    reason = np.where(excluded, np.where(text == "", "composite missing", text), "composite scored")
    work = df.assign(status=np.where(excluded, "excluded", "scored"), reason=reason)
    agg = {"n_surveys": ("respondent_id", "size"), "n_respondents": ("respondent_id", "nunique")}
    if by:  # one groupby for all groups, then each group's rows as a groupby of the group alone gives them
        sizes = work.groupby(by, sort=True).size()
        every = work.groupby([by, "status", "reason"], sort=True).agg(**agg)
        present = set(every.index.get_level_values(0))
        empty = every.iloc[:0].reset_index(level=0, drop=True)
        groups = [(key, int(sizes[key]), (every.loc[key] if key in present else empty).reset_index())
                  for key in sizes.index]
    else:
        groups = [(None, len(work), work.groupby(["status", "reason"], sort=True).agg(**agg).reset_index())]
    rows = []
    for key, n, counts in groups:
        if not (counts["status"] == "scored").any():
            counts = pd.concat([pd.DataFrame({"status": ["scored"], "reason": ["composite scored"],
                                              "n_surveys": [0], "n_respondents": [0]}), counts])
        counts = counts.sort_values(["status", "reason"], ascending=[False, True], kind="stable")
        for r in counts.to_dict("records"):
            row = {} if by is None else {by: key}
            row.update(status=r["status"], reason=r["reason"], n_surveys=int(r["n_surveys"]),
                       n_respondents=int(r["n_respondents"]), share_of_surveys=r["n_surveys"] / n if n else np.nan)
            rows.append(row)
    out = pd.DataFrame(rows)
    return disclosed_table(out, keys=([by] if by else []) + ["status", "reason"], count_cols=["n_respondents"],
                  groups=[by] if by else [])
