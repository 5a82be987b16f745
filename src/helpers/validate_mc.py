"""Monte-Carlo check of the difference-in-differences confidence interval.

    python -m helpers.validate_mc                    # 200 datasets at scale 0.3
    python -m helpers.validate_mc --reps 1000 --scale 0.3 --workers 2

Each replication simulates a synthetic dataset (:func:`helpers.synthetic.simulate`,
seeds ``seed0 .. seed0 + reps - 1``), scores it with the default scheme and fits
:func:`helpers.stats.fit_did` on the countries with mentoring, for the composite
(and, as a by-product, each dimension).  It reports the share of 95% CIs that
cover the planted effect (``truth["mentoring_effect"]``; nominal 95%, the check
asks for 93-97%), the mean bias, and the mean standard error against the
standard deviation of the estimates.  The Monte-Carlo standard error of a
coverage ``c`` over ``R`` replications is :math:`\\sqrt{c(1-c)/R}` (1.5 points at
R = 200).  Results go to ``reports/validate/mc_did.json``.  Not part of the test
suite: it takes minutes.

Imports: helpers.io, helpers.paths, helpers.scheme, helpers.scoring, helpers.stats, helpers.synthetic.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import platform
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from . import paths
from .io import write_json

__all__ = ["run", "main", "OUT"]

OUT = paths.REPORTS / "validate" / "mc_did.json"
OUTCOMES = ("score_composite", "score_economic", "score_social", "score_psychosocial")
LEVEL = 0.95


def _one(args: tuple[int, float]) -> dict[str, Any]:
    """Simulate, score and fit the DiD for one seed."""
    seed, scale = args
    from .scheme import load_scheme
    from .scoring import score
    from .stats import fit_did
    from .synthetic import simulate

    df, truth = simulate(seed=seed, scale=scale)
    scored = score(df, load_scheme())
    fw = scored[scored["country"].isin(truth["fieldwork_countries"])]
    out: dict[str, Any] = {"seed": seed}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out["linearmodels_default"] = _default_cov(fw, truth["mentoring_effect"]["composite"])
        for y in OUTCOMES:
            planted = truth["mentoring_effect"][y.removeprefix("score_")]
            f, _ = fit_did(fw, y, level=LEVEL)
            r = f.iloc[0]
            out[y] = {"estimate": float(r["estimate"]), "std_error": float(r["std_error"]),
                      "ci_lower": float(r["ci_lower"]), "ci_upper": float(r["ci_upper"]), "planted": planted,
                      "covered": bool(r["ci_lower"] <= planted <= r["ci_upper"]), "n_obs": int(r["n_obs"]),
                      "n_clusters": int(r["n_clusters"])}
    return out


def _default_cov(fw: Any, planted: float) -> dict[str, Any]:
    """The composite DiD with linearmodels' default clustered covariance (effects counted), for comparison."""
    import pandas as pd
    from linearmodels import PanelOLS
    from scipy import stats as st

    from .stats import treatment_indicator

    d = fw.assign(__d=treatment_indicator(fw)).dropna(subset=["score_composite", "__d"])
    d = d.assign(respondent_id=d["respondent_id"].astype(str)).set_index(["respondent_id", "wave"])
    res = PanelOLS(d["score_composite"], d[["__d"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True)
    b, se = float(res.params["__d"]), float(res.std_errors["__d"])
    q = float(st.t.ppf(0.5 + LEVEL / 2, res.df_resid))
    return {"estimate": b, "std_error": se, "covered": bool(b - q * se <= planted <= b + q * se),
            "n_entities": int(pd.Series(d.index.get_level_values(0)).nunique())}


def _summary(reps: list[dict[str, Any]], y: str) -> dict[str, Any]:
    est = np.array([r[y]["estimate"] for r in reps])
    se = np.array([r[y]["std_error"] for r in reps])
    planted = float(reps[0][y]["planted"])
    cov = float(np.mean([r[y]["covered"] for r in reps]))
    n = len(reps)
    return {
        "planted_effect": planted,
        "coverage": cov,
        "coverage_mc_se": math.sqrt(cov * (1 - cov) / n),
        "mean_estimate": float(est.mean()),
        "mean_bias": float(est.mean() - planted),
        "bias_mc_se": float(est.std(ddof=1) / math.sqrt(n)),
        "sd_estimates": float(est.std(ddof=1)),
        "mean_std_error": float(se.mean()),
        "se_ratio": float(se.mean() / est.std(ddof=1)),
        "mean_n_obs": float(np.mean([r[y]["n_obs"] for r in reps])),
        "mean_n_clusters": float(np.mean([r[y]["n_clusters"] for r in reps])),
    }


def run(*, reps: int = 200, scale: float = 0.3, seed0: int = 1, workers: int = 2) -> dict[str, Any]:
    """Run the Monte-Carlo and return the summary (nothing written)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # one BLAS thread per worker: no oversubscription
    t0 = time.perf_counter()
    jobs = [(seed0 + i, scale) for i in range(reps)]
    if workers > 1:
        ctx = mp.get_context("spawn")
        with ctx.Pool(workers) as pool:
            results = pool.map(_one, jobs, chunksize=max(1, reps // (4 * workers)))
    else:
        results = [_one(j) for j in jobs]
    elapsed = time.perf_counter() - t0
    import linearmodels

    return {
        "what": "coverage of the 95% CI of helpers.stats.fit_did (entity + wave effects, clustered by respondent, "
                "effects not counted) over simulated datasets; target 93-97%",
        "reps": reps, "scale": scale, "seeds": [seed0, seed0 + reps - 1], "workers": workers, "level": LEVEL,
        "runtime_seconds": round(elapsed, 1),
        "python": platform.python_version(), "linearmodels": linearmodels.__version__,
        "composite": _summary(results, "score_composite"),
        "dimensions": {y.removeprefix("score_"): _summary(results, y) for y in OUTCOMES[1:]},
        "composite_linearmodels_default_cov": {
            "what": "same composite DiD with PanelOLS.fit(cov_type='clustered', cluster_entity=True) defaults "
                    "(auto_df counts the entity and time effects), t(df_resid)",
            "coverage": float(np.mean([r["linearmodels_default"]["covered"] for r in results])),
            "mean_std_error": float(np.mean([r["linearmodels_default"]["std_error"] for r in results])),
            "se_ratio_to_ours": float(np.mean([r["linearmodels_default"]["std_error"] / r["score_composite"]["std_error"]
                                               for r in results])),
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.validate_mc", description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200, help="simulated datasets (default 200)")
    ap.add_argument("--scale", type=float, default=0.3, help="synthetic data scale (default 0.3)")
    ap.add_argument("--seed0", type=int, default=1, help="first seed (default 1)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--out", type=Path, default=OUT, help=f"JSON output (default {OUT.relative_to(paths.ROOT)})")
    a = ap.parse_args(argv)
    if a.reps < 2:
        ap.error("--reps must be at least 2")
    res = run(reps=a.reps, scale=a.scale, seed0=a.seed0, workers=a.workers)
    write_json(a.out, res)
    c = res["composite"]
    ok = 0.93 <= c["coverage"] <= 0.97
    print(f"DiD composite, {a.reps} datasets at scale {a.scale}: coverage of the 95% CI "
          f"{100 * c['coverage']:.1f}% (MC s.e. {100 * c['coverage_mc_se']:.1f}; target 93-97: "
          f"{'ok' if ok else 'OUTSIDE'})")
    print(f"  planted {c['planted_effect']:.4f}, mean estimate {c['mean_estimate']:.4f}, mean bias "
          f"{c['mean_bias']:+.5f} (MC s.e. {c['bias_mc_se']:.5f}); mean SE / SD of estimates {c['se_ratio']:.3f}")
    dflt = res["composite_linearmodels_default_cov"]
    print(f"  (linearmodels' default clustered covariance, effects counted: coverage {100 * dflt['coverage']:.1f}%, "
          f"SE {dflt['se_ratio_to_ours']:.2f}x ours)")
    for d, s in res["dimensions"].items():
        print(f"  {d:<13} coverage {100 * s['coverage']:.1f}%, bias {s['mean_bias']:+.5f}, SE/SD {s['se_ratio']:.3f}")
    print(f"  runtime {res['runtime_seconds']:.0f} s with {a.workers} worker(s); wrote {a.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
