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
    """Surveys with and without a composite score, and which scores are missing.

    A composite is missing when a dimension score is; a dimension score is missing
    when its answered indicators carry less than the scheme's minimum share of the
    dimension's weight (too many empty or 97/98/99 answers).

    Disclosure: every count here is the difference of two totals the report
    publishes anyway -- all surveys of the group, and its surveys with the score
    (in the scores tables and ``cross_means``, where the score's standard error
    and SD give it too) -- so hiding it would protect nothing and blank a total
    printed elsewhere.  The table is therefore coarsened, not suppressed: one row
    per missing score (a survey without two scores is in both rows, so the rows
    of the excluded surveys overlap and do not add up), never the combinations of
    missing scores, which no published total gives.  The rows of a group are
    hidden only when the group itself has fewer respondents than the threshold
    (``n_respondents_group``, the group's respondents, is the disclosure count).

    Returns
    -------
    pandas.DataFrame
        [``by``], ``status`` (``scored`` or ``excluded``), ``reason``
        (``composite scored``, ``no composite score``, ``no <dimension> score``),
        ``n_surveys``, ``share_of_surveys``, ``n_respondents_group`` (respondents of the
        group, the same on each of its rows).
        Every group has every row, zeros included.
    """
    dims = [c for c in score_columns(df) if c != "score_composite"]
    flags = {"composite scored": df["score_composite"].notna(), "no composite score": df["score_composite"].isna()}
    for c in dims:
        flags[f"no {score_label(c)} score"] = df[c].isna()
    status = {k: ("scored" if k == "composite scored" else "excluded") for k in flags}
    work = pd.DataFrame(flags, index=df.index)
    if by:
        work[by] = df[by]
        counts = work.groupby(by, sort=True)[list(flags)].sum()
        sizes = df.groupby(by, sort=True).size()
        resp = df.groupby(by, sort=True)["respondent_id"].nunique()
        groups = [(key, counts.loc[key], int(sizes[key]), int(resp[key])) for key in counts.index]
    else:
        groups = [(None, work[list(flags)].sum(), len(df), int(df["respondent_id"].nunique()))]
    rows = []
    for key, n_by, n, n_resp in groups:
        for reason in flags:
            row = {} if by is None else {by: key}
            k = int(n_by[reason])
            row.update(status=status[reason], reason=reason, n_surveys=k, share_of_surveys=k / n if n else np.nan,
                       n_respondents_group=n_resp)
            rows.append(row)
    out = pd.DataFrame(rows)
    return disclosed_table(out, keys=([by] if by else []) + ["status", "reason"], count_cols=["n_respondents_group"],
                           groups=None)
