"""Figures of sections 0-2: matplotlib Figures drawn from the unsuppressed tables.

Each figure leaves out exactly the rows the published table hides (primary and
secondary suppression, :func:`helpers.disclosure.suppressed_rows`) and says so in its title.

Imports: helpers.disclosure (lazily), helpers.scored, helpers.describe.common.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

from ..scored import score_columns
from .common import POOLED, disclosure_min_n, score_label

_BAND_COLOURS = {"low": "#d7301f", "medium": "#fdae61", "high": "#1a9850"}
_SCORE_COLOURS = {"economic": "#1b9e77", "social": "#d95f02", "psychosocial": "#7570b3", "composite": "#333333"}


def _figure(**kwargs: Any) -> Figure:
    """A Figure not registered with pyplot: no global state, works headless."""
    from matplotlib.figure import Figure

    return Figure(layout="constrained", **kwargs)


def _big(table: pd.DataFrame, thr: int, count_cols: Sequence[str] | None = None) -> pd.Series:
    """Rows a figure may draw: those the published table shows (primary and secondary suppression)."""
    from ..disclosure import suppressed_rows

    cols = list(count_cols or table.attrs.get("count_cols") or ["n_respondents"])
    return ~suppressed_rows(table, count_cols=cols, threshold=thr)


def _complement(table: pd.DataFrame, keep: pd.Series, thr: int) -> bool:
    """Whether a figure leaves out a row that is not small itself (hidden by secondary suppression)."""
    cols = list(table.attrs.get("count_cols") or ["n_respondents"])
    n = table[cols].apply(pd.to_numeric, errors="coerce").fillna(0)
    return bool((~keep & (n >= thr).all(axis=1)).any())


def _note(dropped: Sequence[str], thr: int, what: str = "groups", *, complement: bool = False) -> str:
    """Title line naming what a figure leaves out under the disclosure threshold."""
    import textwrap

    if not len(dropped):
        return ""
    items = list(dict.fromkeys(str(d) for d in dropped))
    shown = ", ".join(items[:12]) + (f", ... ({len(items)} in all)" if len(items) > 12 else "")
    why = f"{what} with fewer than {thr} respondents" + (
        ", and the next-smallest, so that none can be recovered by subtraction" if complement else "")
    return "\n" + "\n".join(textwrap.wrap(f"not shown ({why}): {shown}", 90))


def _colour(score: str, i: int = 0) -> str:
    return _SCORE_COLOURS.get(score, f"C{i}")


def plot_score_distributions(df: pd.DataFrame, *, min_n: int | None = None, title: str = "",
                             bins: int = 10) -> Figure:
    """Histogram of each score (share of surveys), one panel per score.

    A bin holding fewer respondents than ``min_n`` is not drawn, nor, when it would be
    the only bin hidden, the next-smallest one (shares sum to 100%, so one hidden bin
    would be 100% minus the others); a score with fewer respondents in all is not
    drawn at all.  The title says what was left out.
    """
    from ..disclosure import complementary

    thr = disclosure_min_n(min_n)
    cols = score_columns(df)
    fig = _figure(figsize=(9, 6))
    axes = fig.subplots(2, math.ceil(len(cols) / 2), sharex=True, squeeze=False).ravel()
    edges = np.linspace(0, 1, bins + 1)
    dropped_bins = hidden_with = 0
    dropped_scores = []
    for i, (ax, c) in enumerate(zip(axes, cols, strict=False)):
        ok = df[c].notna()
        v, ids = df.loc[ok, c].to_numpy(float), df.loc[ok, "respondent_id"].to_numpy()
        ax.set_title(score_label(c))
        ax.set_xlim(0, 1)
        if pd.Series(ids).nunique() < thr:
            dropped_scores.append(score_label(c))
            ax.text(0.5, 0.5, f"fewer than {thr} respondents", ha="center", va="center", transform=ax.transAxes)
            continue
        which = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, bins - 1)
        resp = pd.Series(ids).groupby(which).nunique().reindex(range(bins), fill_value=0).to_numpy()
        share = np.bincount(which, minlength=bins) / len(v) * 100
        # shares sum to 100%: hidden bins would be 100 minus the others, so hide the next-smallest too
        nonempty = resp > 0
        small = nonempty & (resp < thr)
        small[nonempty] |= complementary(resp[nonempty], small[nonempty], np.zeros(int(nonempty.sum())), thr)
        keep = nonempty & ~small
        dropped_bins += int((nonempty & (resp < thr)).sum())
        hidden_with += int((small & (resp >= thr)).sum())
        ax.bar(edges[:-1][keep], share[keep], width=np.diff(edges)[keep], align="edge", color=_colour(score_label(c), i),
               alpha=0.8, edgecolor="white")
        ax.axvline(float(v.mean()), color="black", lw=1, ls="--")
        ax.set_ylabel("% of surveys")
    for ax in axes[len(cols):]:
        ax.set_visible(False)
    note = f"\n{dropped_bins} bin(s) with fewer than {thr} respondents not shown" if dropped_bins else ""
    if hidden_with:
        note += f", nor {hidden_with} more so that they cannot be recovered by subtraction"
    note += _note(dropped_scores, thr, "scores")
    fig.suptitle((title or "Score distributions") + " (dashed: mean)" + note, fontsize=10)
    return fig


def plot_band_shares(bands: pd.DataFrame, *, min_n: int | None = None, title: str = "") -> Figure:
    """Bars of the share of surveys in each band, per score, from :func:`band_shares`.

    Bands (cells) with fewer respondents than ``min_n`` are not drawn, nor the bands
    the published table hides by secondary suppression (shares sum to 100%).
    """
    thr = disclosure_min_n(min_n)
    keep = _big(bands, thr)
    scores = list(dict.fromkeys(bands["score"]))
    names = list(dict.fromkeys(bands["band"]))
    fig = _figure(figsize=(8, 4.5))
    ax = fig.subplots()
    width = 0.8 / max(len(names), 1)
    x = {s: i for i, s in enumerate(scores)}
    from matplotlib.patches import Patch

    handles = []
    for j, band in enumerate(names):
        colour = _BAND_COLOURS.get(band, f"C{j}")
        sub = bands[(bands["band"] == band) & keep]
        ax.bar([x[s] + (j - (len(names) - 1) / 2) * width for s in sub["score"]], sub["share"] * 100, width=width,
               color=colour, edgecolor="white")
        handles.append(Patch(color=colour, label=band))
    ax.set_xticks(range(len(scores)), scores)
    ax.set_ylim(0, 100)
    ax.set_ylabel("% of surveys")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(handles=handles, ncols=len(names), loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    dropped = [f"{r.score} {r.band}" for r in bands[~keep].itertuples(index=False)]
    ax.set_title((title or "Band shares") + _note(dropped, thr, "bands", complement=_complement(bands, keep, thr)), fontsize=10, pad=22)
    return fig


def plot_indicator_profile(profile: pd.DataFrame, *, min_n: int | None = None, title: str = "") -> Figure:
    """Country mean of each indicator (dot) against the pooled median (bar), from :func:`indicator_profile`."""
    thr = disclosure_min_n(min_n)
    keep = _big(profile, thr)
    p = profile[keep]
    fig = _figure(figsize=(7, 0.32 * max(len(profile), 3) + 1.5))
    ax = fig.subplots()
    labels = [f"{r.indicator} {r.label}" for r in p.itertuples(index=False)]
    y = np.arange(len(p))
    colours = [_colour(d, i) for i, d in enumerate(p["dimension"])]
    ax.scatter(p["pooled_median"], y, marker="|", s=250, color="grey", label="pooled median, all countries", zorder=2)
    ax.scatter(p["mean"], y, color=colours, label="country mean", zorder=3)
    ax.set_yticks(y, labels)
    ax.set_xlim(-0.02, 1.02)
    ax.invert_yaxis()
    ax.set_xlabel("indicator score")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=2, frameon=False)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title((title or "Indicators against the pooled median")
                 + _note(profile.loc[~keep, "indicator"].tolist(), thr, "indicators"), fontsize=10, pad=26)
    return fig


def plot_trajectory(table: pd.DataFrame, *, min_n: int | None = None, title: str = "") -> Figure:
    """Mean scores with 95% CI along :func:`trajectory` bins or :func:`by_wave` waves."""
    thr = disclosure_min_n(min_n)
    xcol = table.attrs.get("keys", [table.columns[0]])[0]
    keep = _big(table, thr)
    order = list(dict.fromkeys(table.loc[keep, xcol].astype(str)))
    pos = {k: i for i, k in enumerate(order)}
    fig = _figure(figsize=(8, 4.5))
    ax = fig.subplots()
    for i, (s, sub) in enumerate(table[keep].groupby("score", sort=False)):
        x = np.array([pos[str(v)] for v in sub[xcol]]) + (i - 1.5) * 0.06
        ax.errorbar(x, sub["mean"], yerr=[sub["mean"] - sub["ci_low"], sub["ci_high"] - sub["mean"]],
                    marker="o", capsize=3, color=_colour(s, i), label=s, lw=2 if s == "composite" else 1.2)
    ax.set_xticks(range(len(order)), order)
    ax.set_xlabel("months since return" if xcol == "months_since_return" else xcol)
    ax.set_ylabel("mean score (95% CI)")
    ax.set_ylim(0, 1)
    ax.grid(axis="y", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(ncols=4, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    dropped = table.loc[~keep, xcol].astype(str).tolist()
    ax.set_title((title or f"Scores by {xcol.replace('_', ' ')}")
                 + _note(dropped, thr, "bins", complement=_complement(table, keep, thr)), fontsize=10, pad=22)
    return fig


def plot_country_means(means: pd.DataFrame, *, min_n: int | None = None, title: str = "") -> Figure:
    """Forest plot: mean and 95% CI of each score per country, from :func:`country_means`.

    Countries are sorted by their composite mean; fieldwork countries are drawn in
    colour, the others in grey.  Countries under ``min_n`` respondents are left out.
    """
    thr = disclosure_min_n(min_n)
    keep = _big(means, thr)
    m = means[keep]
    scores = list(dict.fromkeys(means["score"]))
    sort_on = "composite" if "composite" in scores else scores[0]
    order = m[m["score"] == sort_on].sort_values("mean", kind="stable")["country"].tolist()
    order += sorted(set(m["country"]) - set(order))
    y = {c: i for i, c in enumerate(order)}
    fig = _figure(figsize=(3 * len(scores), 0.3 * max(len(order), 4) + 1.6))
    axes = fig.subplots(1, len(scores), sharey=True, squeeze=False).ravel()
    for ax, s in zip(axes, scores, strict=True):
        sub = m[m["score"] == s]
        for r in sub.itertuples(index=False):
            colour = "#c51b7d" if r.fieldwork else "#555555"
            ax.errorbar(r.mean, y[r.country], xerr=[[r.mean - r.ci_low], [r.ci_high - r.mean]], fmt="o",
                        color=colour, capsize=2, ms=4)
        ax.set_title(s)
        ax.grid(axis="x", alpha=0.3)
        ax.set_xlabel("mean (95% CI)")
    axes[0].set_yticks(range(len(order)), order)
    dropped = sorted(set(means["country"]) - set(order))
    fig.suptitle((title or "Mean scores by country (fieldwork countries in colour)") + _note(dropped, thr,
                 "countries", complement=_complement(means, keep, thr)), fontsize=10)
    return fig


def plot_dimension_profiles(profiles: pd.DataFrame, *, min_n: int | None = None, title: str = "") -> Figure:
    """Heatmap of mean scores per country, from :func:`dimension_profiles`.

    Cells show the mean; their colour is the difference from the pooled mean of the
    same score, so each column reads as "above or below the pooled average".
    """
    import seaborn as sns

    thr = disclosure_min_n(min_n)
    keep = _big(profiles, thr)
    p = profiles[keep].set_index("country")
    cols = [c for c in profiles.columns if c.startswith("mean_")]
    data = p[cols].rename(columns=lambda c: c.removeprefix("mean_"))
    pooled = profiles.set_index("country").loc[POOLED, cols].to_numpy(float) if POOLED in set(profiles["country"]) \
        else data.mean().to_numpy()
    diff = data - pooled
    lim = max(float(np.nanmax(np.abs(diff.to_numpy(float)))) if diff.size else 0.0, 0.01)
    fig = _figure(figsize=(6.5, 0.35 * max(len(data), 4) + 1.8))
    ax = fig.subplots()
    sns.heatmap(diff, annot=data, fmt=".2f", cmap="RdBu", vmin=-lim, vmax=lim, center=0, ax=ax,
                cbar_kws={"label": "difference from the pooled mean"}, linewidths=0.5)
    ax.set_ylabel("")
    ax.set_title((title or "Mean scores per country (colour: difference from the pooled mean)")
                 + _note(profiles.loc[~keep, "country"].tolist(), thr, "countries",
                         complement=_complement(profiles, keep, thr)), fontsize=10)
    return fig


def plot_correlations(corr: pd.DataFrame, *, min_n: int | None = None, title: str = "") -> Figure:
    """Heatmap of the Pearson correlations of dimension pairs, pooled and per country."""
    import seaborn as sns

    thr = disclosure_min_n(min_n)
    keep = _big(corr, thr)
    c = corr[keep].assign(pair=lambda d: d["dim_a"] + " -\n" + d["dim_b"])
    scopes = list(dict.fromkeys(c["scope"]))
    pairs = list(dict.fromkeys(c["pair"]))
    data = c.pivot(index="scope", columns="pair", values="pearson").reindex(index=scopes, columns=pairs)
    fig = _figure(figsize=(6.5, 0.35 * max(len(data), 4) + 1.8))
    ax = fig.subplots()
    sns.heatmap(data, annot=True, fmt=".2f", cmap="RdBu_r", vmin=-1, vmax=1, center=0, ax=ax,
                cbar_kws={"label": "Pearson r"}, linewidths=0.5)
    ax.tick_params(axis="x", labelrotation=0)
    ax.set_ylabel("")
    ax.set_xlabel("")
    dropped = sorted(set(corr["scope"]) - set(scopes))
    ax.set_title((title or "Correlation of the dimensions") + _note(dropped, thr, "countries"), fontsize=10)
    return fig
