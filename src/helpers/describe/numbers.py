"""Key numbers (``numbers.json``) of data preparation, a country profile and the cross-country comparison.

Every number is under disclosure control: what rests on fewer respondents than the
threshold is ``None`` or ``"<threshold"``.

Imports: helpers.paths (lazily), helpers.scored, helpers.loader (for typing only), helpers.disclosure (lazily),
helpers.describe.common, helpers.describe.coverage (lazily), helpers.describe.intervals.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from ..loader import LoadResult

from ..scored import score_columns
from .common import POOLED, disclosure_min_n, fieldwork_countries, first_survey, n_respondents, score_label
from .intervals import mean_ci


def _relative(path: str, source: Path) -> str:
    """``path`` (as the loader shows it) relative to the input folder, else its name."""
    from .. import paths

    p = Path(path)
    candidates = [p] if p.is_absolute() else [Path.cwd() / p, paths.ROOT / p]
    found = next((c for c in candidates if c.exists()), candidates[0])
    base = source if source.is_dir() else source.parent
    try:
        return found.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return p.name


def _surveys_by_wave(scored: pd.DataFrame, thr: int) -> dict[str, int | None]:
    """Surveys per wave, pooled; withheld for a wave where ``prepare_surveys_by_country_wave`` hides a country."""
    from ..disclosure import suppressed_rows
    from .coverage import surveys_by_country_wave

    by_cw = surveys_by_country_wave(scored)
    hidden = set(by_cw.loc[suppressed_rows(by_cw, threshold=thr).to_numpy(), "wave"].astype(int))
    return {str(int(w)): (None if int(w) in hidden else int(n))
            for w, n in scored["wave"].value_counts().sort_index().items()}


def prepare_numbers(result: LoadResult, scored: pd.DataFrame, *, source: str | Path,
                    synthetic: bool) -> dict[str, Any]:
    """Key numbers of data preparation (no absolute paths: files relative to the input folder).

    Returns
    -------
    dict
        ``headlines`` (sentences for the executive summary), ``n_surveys``,
        ``n_respondents``, ``n_countries``, ``countries``,
        ``fieldwork_countries``, ``surveys_by_wave`` (``None`` for a wave in which
        a country's count is suppressed: the pooled total minus the countries
        shown would give it), ``n_with_composite``, ``n_excluded`` (a difference
        of published totals, always shown), ``scheme_id``, ``scheme_title``, ``scheme_official``,
        ``synthetic``, ``input_files`` (``file``, ``format``, ``rows``,
        ``sha256``), ``unused_columns``, ``ignored_files``, ``disclosure_threshold``.
    """
    src = Path(source)
    countries = sorted(str(c) for c in scored["country"].unique())
    n_comp = int(scored["score_composite"].notna().sum())
    # the surveys without a composite score are the difference of two totals the report publishes anyway (all
    # surveys; surveys with a composite score, by country in cross_means): not a protected count, never blanked
    thr = disclosure_min_n(None)
    n_excluded = len(scored) - n_comp
    by_wave = _surveys_by_wave(scored, thr)
    scheme_text = result.scheme.id + ("" if result.scheme.official else " (not the official IOM weights)")
    excl_text = f"{n_excluded:,} survey{'' if n_excluded == 1 else 's'}"
    headlines = [f"{len(scored):,} surveys of {n_respondents(scored):,} respondents in {len(countries)} countries, "
                 f"scored with the scheme {scheme_text}; {excl_text} without a composite score."]
    if synthetic:
        headlines.insert(0, "Synthetic data: the figures are not IOM results.")
    return {
        "headlines": headlines,
        "n_surveys": len(scored), "n_respondents": n_respondents(scored), "n_countries": len(countries),
        "countries": countries, "fieldwork_countries": fieldwork_countries(scored),
        "surveys_by_wave": by_wave,
        "n_with_composite": n_comp, "n_excluded": n_excluded,
        "scheme_id": result.scheme.id, "scheme_title": result.scheme.title,
        "scheme_official": bool(result.scheme.official), "synthetic": bool(synthetic),
        "input_files": [{"file": _relative(f.path, src), "format": f.format, "rows": f.rows, "sha256": f.sha256}
                        for f in result.files],
        "unused_columns": {_relative(f, src): cols for f, cols in result.unused_columns.items()},
        "ignored_files": [_relative(f, src) for f in result.ignored_files],
        "disclosure_threshold": thr,
    }


def country_numbers(df: pd.DataFrame, *, country: str, mentoring: pd.DataFrame | None = None,
                    min_n: int | None = None, level: float = 0.95) -> dict[str, Any]:
    """Key numbers of one country's profile, under disclosure control.

    Parameters
    ----------
    df
        The country's scored records.
    country
        Its ISO3 code (recorded as given, upper case).
    mentoring
        Its :func:`mentored_comparison` table, if any.
    min_n
        Disclosure threshold (default :func:`helpers.outputs.disclosure_threshold`).

    Returns
    -------
    dict
        ``country``, ``suppressed``, ``n_surveys``, ``n_respondents`` (``"<10"``
        when suppressed, with every statistic ``None``), ``n_waves``,
        ``mean_<score>``/``ci_low_<score>``/``ci_high_<score>``, ``share_female``
        (of respondents with a known sex; ``None`` when a sex count is under the
        threshold, since the share and the other counts would give it), ``median_age``,
        ``median_months_since_return``, ``has_mentored``, ``mentoring_<score>_raw``
        and ``_adj`` differences with their CI and p (``None`` when either group is
        under the threshold).
    """
    thr = disclosure_min_n(min_n)
    n_resp = n_respondents(df)
    out: dict[str, Any] = {"country": str(country).upper(), "suppressed": n_resp < thr}
    first = first_survey(df)
    sex = first["sex"].astype(object).where(first["sex"].notna(), "unknown").astype(str)
    known = sex[sex.isin(["F", "M"])]
    # the share gives female = share x (female + male): published only when the sample table shows every
    # sex count, else it would recover the ones it hides (helpers.checks.linked audits this)
    every_sex_shown = bool(len(sex)) and int(sex.value_counts().min()) >= thr
    out.update(n_surveys=len(df), n_respondents=n_resp, n_waves=int(df["wave"].max()),
               share_female=float((known == "F").mean()) if len(known) >= thr and every_sex_shown else None,
               median_age=float(pd.to_numeric(first["age"], errors="coerce").median()),
               median_months_since_return=float(df["months_since_return"].median()))
    for c in score_columns(df):
        ok = df[c].notna()
        r = mean_ci(df.loc[ok, c], groups=df.loc[ok, "respondent_id"], level=level)
        big = r["n_clusters"] >= thr
        for k in ("mean", "ci_low", "ci_high"):
            out[f"{k}_{score_label(c)}"] = r[k] if big else None
    m = pd.to_numeric(df["mentored"], errors="coerce") == 1
    out["has_mentored"] = bool(m.any())
    n_m = int(df.loc[m, "respondent_id"].nunique())
    out["n_respondents_mentored"] = n_m if n_m == 0 or n_m >= thr else f"<{thr}"
    if mentoring is not None and len(mentoring):
        for r in mentoring.itertuples(index=False):
            big = r.n_respondents_mentored >= thr and r.n_respondents_not >= thr
            for kind in ("raw", "adj"):
                for stat in ("diff", "ci_low", "ci_high", "p"):
                    key = f"mentoring_{r.score}_{kind}_{stat}"
                    out[key] = getattr(r, f"{kind}_{stat}") if big else None
    if out["suppressed"]:  # same keys as any other country, so reports can tabulate them side by side
        out = {k: (v if k in ("country", "suppressed") else None) for k, v in out.items()}
        out["n_respondents"] = f"<{thr}"
    return out


def cross_numbers(df: pd.DataFrame, *, means: pd.DataFrame, ranking: pd.DataFrame,
                  fieldwork: pd.DataFrame, correlations: pd.DataFrame, min_n: int | None = None,
                  level: float = 0.95) -> dict[str, Any]:
    """Key numbers of the descriptive cross-country comparison, under disclosure control.

    Returns
    -------
    dict
        ``headlines`` (sentences for the executive summary), ``n_countries``,
        ``countries_shown``, ``countries_suppressed`` (fewer
        respondents than the threshold), ``fieldwork_countries``, pooled
        ``mean_<score>`` with CI, ``highest_<score>``/``lowest_<score>`` (country
        among those shown), ``fieldwork_mean_<score>``, ``other_mean_<score>``,
        ``fieldwork_diff_<score>`` with CI and p, ``pearson_<a>_<b>`` pooled and
        ``median_country_pearson_<a>_<b>`` over the countries shown.
    """
    thr = disclosure_min_n(min_n)
    shown = ranking.loc[ranking["n_respondents"] >= thr, "country"].tolist()
    out: dict[str, Any] = {
        "n_countries": int(ranking["country"].nunique()), "countries_shown": sorted(shown),
        "countries_suppressed": sorted(set(ranking["country"]) - set(shown)),
        "fieldwork_countries": fieldwork_countries(df), "disclosure_threshold": thr,
    }
    for c in score_columns(df):
        s = score_label(c)
        ok = df[c].notna()
        r = mean_ci(df.loc[ok, c], groups=df.loc[ok, "respondent_id"], level=level)
        out.update({f"mean_{s}": r["mean"], f"ci_low_{s}": r["ci_low"], f"ci_high_{s}": r["ci_high"]})
        sub = means[(means["score"] == s) & means["country"].isin(shown)].sort_values("mean", kind="stable")
        out[f"highest_{s}"] = sub["country"].iloc[-1] if len(sub) else None
        out[f"lowest_{s}"] = sub["country"].iloc[0] if len(sub) else None
    for r in fieldwork.itertuples(index=False):
        big = r.n_respondents_fieldwork >= thr and r.n_respondents_other >= thr
        for k, v in (("fieldwork_mean", r.mean_fieldwork), ("other_mean", r.mean_other), ("fieldwork_diff", r.diff),
                     ("fieldwork_diff_ci_low", r.diff_ci_low), ("fieldwork_diff_ci_high", r.diff_ci_high),
                     ("fieldwork_diff_p", r.diff_p)):
            out[f"{k}_{r.score}"] = v if big else None
    hi, lo = out.get("highest_composite"), out.get("lowest_composite")
    if hi and lo:
        m = means[means["score"] == "composite"].set_index("country")["mean"]
        out["headlines"] = [f"Mean composite score by country ranges from {m[lo]:.2f} ({lo}) to {m[hi]:.2f} ({hi}) "
                            f"over the {len(shown)} countries with at least {thr} respondents."]
    if out.get("fieldwork_diff_composite") is not None:
        out.setdefault("headlines", []).append(
            f"Fieldwork countries ({', '.join(out['fieldwork_countries'])}) against the others: composite "
            f"{out['fieldwork_mean_composite']:.3f} vs {out['other_mean_composite']:.3f}, difference "
            f"{out['fieldwork_diff_composite']:.3f} (95% CI {out['fieldwork_diff_ci_low_composite']:.3f} to "
            f"{out['fieldwork_diff_ci_high_composite']:.3f}); descriptive, not an effect of mentoring.")
    corr = correlations[correlations["n_respondents"] >= thr]
    for (a, b), sub in corr.groupby(["dim_a", "dim_b"], sort=False):
        pooled = sub.loc[sub["scope"] == POOLED, "pearson"]
        out[f"pearson_{a}_{b}"] = float(pooled.iloc[0]) if len(pooled) else None
        per = sub.loc[sub["scope"] != POOLED, "pearson"].dropna()
        out[f"median_country_pearson_{a}_{b}"] = float(per.median()) if len(per) else None
    return out
