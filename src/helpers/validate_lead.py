"""Monte-Carlo check of "does the economic dimension lead": coverage, false "leads" rate and power.

    python -m helpers.validate_lead                  # 200 datasets per setting
    python -m helpers.validate_lead --reps 100 --workers 2

For each setting (the planted lead: 0.10 as in the default data, or none; the data size: the default
scale 1 and scale 0.3) it simulates ``reps`` datasets (:func:`helpers.synthetic.simulate` with
``economic_lead``, seeds ``seed0 ..``), scores them with the default scheme and fits
:func:`helpers.stats.fit_lead` of the economic score on the social and on the psychosocial score. It
reports, per setting: the share of 95% CIs of the cross-lags (economic -> other, and the reverse, whose
planted value is 0) that cover the planted value (nominal 95%); the mean bias; the mean SE against the SD
of the estimates; and how often the overall verdict is "leads", "does not lead" or "cannot tell at this
size". With a lead planted the "leads" share is the power; without, it is the false "leads" rate (target
at most 5%). The Monte-Carlo standard error of a share ``c`` over ``R`` datasets is
:math:`\\sqrt{c(1-c)/R}` (1.5 points at R = 200). Results go to ``reports/validate/mc_lead.json``. Not
part of the test suite: it takes minutes.

Imports: helpers.io, helpers.paths, helpers.scheme, helpers.scoring, helpers.stats, helpers.synthetic.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from . import paths
from .io import write_json

__all__ = ["run", "main", "OUT", "SETTINGS"]

OUT = paths.REPORTS / "validate" / "mc_lead.json"
OTHERS = ("score_social", "score_psychosocial")
ECONOMIC = "score_economic"
#: (name, planted lead, scale)
SETTINGS = (("lead, default size", 0.10, 1.0), ("no lead, default size", 0.0, 1.0),
            ("lead, x0.3", 0.10, 0.3), ("no lead, x0.3", 0.0, 0.3))
FALSE_LEADS_TARGET = 0.05


def _one(args: tuple[int, float, float]) -> dict[str, Any]:
    seed, lead, scale = args
    from .scheme import load_scheme
    from .scoring import score
    from .stats import fit_lead, overall_verdict, verdict
    from .synthetic import simulate

    df, _truth = simulate(seed=seed, scale=scale, economic_lead=lead)
    scored = score(df, load_scheme())
    out: dict[str, Any] = {"seed": seed}
    verdicts = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for y in OTHERS:
            t = fit_lead(scored, ECONOMIC, y)
            rows = t[t["cross_lag"].astype(bool)]
            for x, z, planted in ((ECONOMIC, y, lead), (y, ECONOMIC, 0.0)):
                r = rows[(rows["term"] == f"{x}_lag") & (rows["outcome"] == z)].iloc[0]
                out[f"{x}->{z}"] = {"estimate": float(r["estimate"]), "std_error": float(r["std_error"]),
                                    "covered": bool(r["ci_lower"] <= planted <= r["ci_upper"]),
                                    "planted": planted, "n_respondents": int(r["n_respondents"])}
            verdicts[y] = verdict(t, ECONOMIC, y)
    out["verdicts"] = verdicts
    out["overall"] = overall_verdict(verdicts)
    return out


def _coef(reps: list[dict[str, Any]], key: str) -> dict[str, Any]:
    est = np.array([r[key]["estimate"] for r in reps])
    se = np.array([r[key]["std_error"] for r in reps])
    cov = float(np.mean([r[key]["covered"] for r in reps]))
    planted = float(reps[0][key]["planted"])
    return {"planted": planted, "coverage": cov, "coverage_mc_se": math.sqrt(cov * (1 - cov) / len(reps)),
            "mean_estimate": float(est.mean()), "mean_bias": float(est.mean() - planted),
            "sd_estimates": float(est.std(ddof=1)), "se_ratio": float(se.mean() / est.std(ddof=1)),
            "mean_n_respondents": float(np.mean([r[key]["n_respondents"] for r in reps]))}


def _setting(results: list[dict[str, Any]], lead: float, scale: float) -> dict[str, Any]:
    from .stats import VERDICTS

    n = len(results)
    shares = {v: float(np.mean([r["overall"] == v for r in results])) for v in VERDICTS}
    keys = [f"{ECONOMIC}->{y}" for y in OTHERS] + [f"{y}->{ECONOMIC}" for y in OTHERS]
    return {"planted_lead": lead, "scale": scale, "reps": n, "verdict_shares": shares,
            "leads_share_mc_se": math.sqrt(shares["leads"] * (1 - shares["leads"]) / n),
            "coefficients": {k: _coef(results, k) for k in keys}}


def run(*, reps: int = 200, seed0: int = 1, workers: int = 2,
        settings: tuple[tuple[str, float, float], ...] = SETTINGS) -> dict[str, Any]:
    """Run every setting and return the summary (nothing written)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    t0 = time.perf_counter()
    out: dict[str, Any] = {"what": "Monte-Carlo of helpers.stats.fit_lead and its verdict on simulated datasets "
                                   "with and without a planted economic lead",
                           "reps": reps, "seeds_from": seed0, "workers": workers, "settings": {}}
    ctx = mp.get_context("spawn")
    for name, lead, scale in settings:
        jobs = [(seed0 + i, lead, scale) for i in range(reps)]
        if workers > 1:
            with ctx.Pool(workers) as pool:
                results = pool.map(_one, jobs, chunksize=max(1, reps // (4 * workers)))
        else:
            results = [_one(j) for j in jobs]
        out["settings"][name] = _setting(results, lead, scale)
    out["runtime_seconds"] = round(time.perf_counter() - t0, 1)
    return out


def table(res: dict[str, Any]) -> list[str]:
    """The summary as Markdown table lines (one per setting)."""
    lines = ["| setting | returnees with 3 waves | coverage eco->social | eco->psychosocial | reverse social | "
             "reverse psychosocial | \"leads\" | \"does not lead\" | \"cannot tell\" |", "|---" * 9 + "|"]
    for name, s in res["settings"].items():
        c = s["coefficients"]
        cov = [f"{100 * c[k]['coverage']:.1f}%" for k in (f"{ECONOMIC}->score_social",
                                                            f"{ECONOMIC}->score_psychosocial",
                                                            f"score_social->{ECONOMIC}",
                                                            f"score_psychosocial->{ECONOMIC}")]
        v = s["verdict_shares"]
        n = c[f"{ECONOMIC}->score_social"]["mean_n_respondents"]
        lines.append(f"| {name} | {n:,.0f} | " + " | ".join(cov) + f" | {100 * v['leads']:.1f}% | "
                     f"{100 * v['does not lead']:.1f}% | {100 * v['cannot tell at this size']:.1f}% |")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.validate_lead", description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200, help="simulated datasets per setting (default 200)")
    ap.add_argument("--seed0", type=int, default=1, help="first seed (default 1)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--out", type=Path, default=OUT, help=f"JSON output (default {OUT.relative_to(paths.ROOT)})")
    a = ap.parse_args(argv)
    if a.reps < 2:
        ap.error("--reps must be at least 2")
    res = run(reps=a.reps, seed0=a.seed0, workers=a.workers)
    write_json(a.out, res)
    print("\n".join(table(res)))
    false_rates = [s["verdict_shares"]["leads"] for s in res["settings"].values() if s["planted_lead"] == 0]
    ok = all(r <= FALSE_LEADS_TARGET for r in false_rates)
    print(f"false \"leads\" rate without a planted lead: {', '.join(f'{100 * r:.1f}%' for r in false_rates)} "
          f"(target at most {100 * FALSE_LEADS_TARGET:.0f}%: {'ok' if ok else 'OVER'}); "
          f"runtime {res['runtime_seconds']:.0f} s with {a.workers} worker(s); wrote {a.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
