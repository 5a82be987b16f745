"""Figures of published tables (propensity overlap, indicator weights, rank shifts) and
:func:`new_figure`, the pyplot-free Figure every ``plot_*`` function starts from.

Imports: no other helpers module only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def new_figure(**kwargs: Any) -> Figure:
    from matplotlib.figure import Figure

    return Figure(layout="constrained", **kwargs)


def plot_overlap(overlap: pd.DataFrame, *, bounds: tuple[float, float] = (0.05, 0.95), title: str = "") -> Figure:
    """Propensity-score overlap from :func:`overlap_table`: 5-25-50-75-95% quantiles per group.

    Only quantiles are drawn (no single respondent's value such as the min or max).

    Examples
    --------
    >>> d = pd.DataFrame({"t": [0, 1] * 20, "x": np.arange(40.0) % 7})
    >>> from helpers.stats import overlap_table
    >>> type(plot_overlap(overlap_table(d, "t", ["x"]))).__name__
    'Figure'
    """
    from matplotlib.patches import Rectangle

    fig = new_figure(figsize=(6.5, 2.4))
    ax = fig.subplots()
    groups = [g for g in ("treated", "control") if g in overlap.index]
    for i, g in enumerate(groups):
        r = overlap.loc[g]
        ax.plot([r["p05"], r["p95"]], [i, i], color="#1f4e79", lw=1.2)
        ax.add_patch(Rectangle((r["p25"], i - 0.2), r["p75"] - r["p25"], 0.4, facecolor="#9ecae1",
                               edgecolor="#1f4e79"))
        ax.plot([r["median"]] * 2, [i - 0.2, i + 0.2], color="#08306b", lw=2)
    for b in bounds:
        ax.axvline(b, color="#c0392b", lw=0.8, ls=":")
    ax.set_yticks(range(len(groups)), [f"{g} (5-95%)" for g in groups])
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, len(groups) - 0.4)
    ax.set_xlabel("estimated propensity score")
    share = overlap.loc["all", "share_outside"] if "all" in overlap.index else np.nan
    ax.set_title(title or f"Overlap: {share:.1%} of rows outside [{bounds[0]}, {bounds[1]}]", fontsize="medium")
    return fig


def plot_weights(weights: pd.DataFrame, *, names: tuple[str, str] = ("scheme_weight", "pca_weight"),
                 title: str = "") -> Figure:
    """Scheme and PCA weights of each indicator side by side (:func:`compare_weights`).

    Examples
    --------
    >>> w = pd.DataFrame({"dimension": ["x", "x"], "indicator": ["ind_A", "ind_B"], "scheme_weight": [0.5, 0.5],
    ...                   "pca_weight": [0.6, 0.4]})
    >>> len(plot_weights(w).axes)
    1
    """
    fig = new_figure(figsize=(6.5, 0.28 * len(weights) + 1.4))
    ax = fig.subplots()
    y = np.arange(len(weights))[::-1]
    for k, (col, colour) in enumerate(zip(names, ("#9ecae1", "#1f4e79"), strict=True)):
        ax.barh(y + (0.2 if k == 0 else -0.2), weights[col].to_numpy(float), height=0.4, color=colour,
                label=col.removesuffix("_weight"))
    ax.set_yticks(y, [f"{d[:3]} · {i.removeprefix('ind_')}" for d, i in zip(weights["dimension"],
                                                                          weights["indicator"], strict=True)])
    ax.set_xlabel("weight within the dimension")
    ax.legend(frameon=False, fontsize="small")
    if title:
        ax.set_title(title, fontsize="medium")
    return fig


def plot_rank_shift(ranks: pd.DataFrame, *, score: str = "composite", names: tuple[str, str] = ("scheme", "pca"),
                    by: str = "country", title: str = "") -> Figure:
    """Slope chart of group ranks under two scorings (:func:`rank_table`); unranked groups are left out.

    Examples
    --------
    >>> a = pd.DataFrame({"country": list("AABBCC"), "respondent_id": range(6), "score_composite": [1, 2, 3, 4, 5, 6.]})
    >>> from helpers.stats import rank_table
    >>> len(plot_rank_shift(rank_table(a, a.assign(score_composite=[6, 5, 4, 3, 2, 1.]))).axes)
    1
    """
    a, b = names
    sub = ranks[(ranks["score"] == score) & ranks[f"rank_{a}"].notna() & ranks[f"rank_{b}"].notna()]
    fig = new_figure(figsize=(4.8, 0.28 * max(len(sub), 3) + 1.2))
    ax = fig.subplots()
    for r in sub.itertuples(index=False):
        ra, rb = float(getattr(r, f"rank_{a}")), float(getattr(r, f"rank_{b}"))
        ax.plot([0, 1], [ra, rb], color="#c0392b" if ra != rb else "#1f4e79", lw=1, marker="o", ms=3)
        name = str(getattr(r, by))
        ax.text(-0.04, ra, name, ha="right", va="center", fontsize="small")
        ax.text(1.04, rb, name, ha="left", va="center", fontsize="small")
    ax.set_xlim(-0.4, 1.4)
    ax.set_xticks([0, 1], [a, b])
    ax.invert_yaxis()
    ax.set_ylabel("rank (1 = highest mean)")
    ax.set_title(title or f"{score}: rank under {a} and {b} weights", fontsize="medium")
    return fig
