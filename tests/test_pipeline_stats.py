"""The statistics notebooks end to end: 00_prepare, 20, 30 and 40 on a small synthetic dataset.

A temporary project (``RSS_ROOT`` redirects :mod:`helpers.paths` in the kernels, as
``tests/test_runner.py`` does for the runner) holds a synthetic dataset at 15% of
the default size; papermill executes the repository's notebooks there, with the
kernel spec of this interpreter (as the runner does).  Then the five tidy tables
the report and other tools rely on are checked against the contract: exact leading
columns, the required estimators and outcomes, finite numbers in every row that
disclosure control did not suppress; and the key numbers carry the headlines.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pandas as pd
import pytest

from helpers import stats
from helpers.synthetic import write_dataset

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
PIPELINE = ("00_prepare", "20_cross_country", "30_mentoring", "40_weight_sensitivity")
TIDY_FILES = ("mentoring_effects", "mentoring_balance", "dimension_interdependence", "determinants",
              "weight_sensitivity")
SCALE = 0.15


def execute(name: str, root: Path) -> Path:
    """Run one notebook with papermill in a kernel of this interpreter; return the executed copy."""
    import papermill as pm
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    out = root / "executed" / f"{name}.ipynb"
    out.parent.mkdir(exist_ok=True)
    km = KernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[]))
    pm.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(out), parameters={}, kernel_name="python3", km=km,
                        progress_bar=False, cwd=str(root), start_timeout=120)
    return out


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A temporary project after the four notebooks ran (once for the module)."""
    root = tmp_path_factory.mktemp("stats-pipeline")
    write_dataset(root / "data" / "raw" / "synthetic", seed=7, scale=SCALE)
    saved = {k: os.environ.get(k) for k in ("RSS_ROOT", "RSS_DATA", "RSS_DISCLOSURE_THRESHOLD")}
    os.environ["RSS_ROOT"] = str(root)
    os.environ.pop("RSS_DATA", None)
    os.environ.pop("RSS_DISCLOSURE_THRESHOLD", None)
    try:
        for name in PIPELINE:
            execute(name, root)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return root


def table(root: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(root / "reports" / "tables" / f"{name}.csv")


@pytest.mark.parametrize("name", TIDY_FILES)
def test_tidy_contract_leading_columns_and_finite_numbers(project, name):
    t = table(project, name)
    assert list(t.columns[: len(stats.TIDY_COLUMNS)]) == list(stats.TIDY_COLUMNS)
    assert "suppressed" in t.columns and len(t) > 0
    shown = t[~t["suppressed"].astype(bool)]
    assert len(shown) > 0, f"{name}: every row suppressed"
    for col in ("estimate", "std_error", "ci_lower", "ci_upper", "p_value"):
        values = pd.to_numeric(shown[col], errors="coerce")
        assert values.map(math.isfinite).all(), (name, col, shown.loc[~values.map(math.isfinite), "outcome"].tolist())
    assert (shown["ci_lower"] <= shown["estimate"]).all() and (shown["estimate"] <= shown["ci_upper"]).all()
    assert shown["p_value"].between(0, 1).all()
    assert (pd.to_numeric(shown["n_obs"]) > 0).all()
    assert shown["cov_type"].notna().all() and shown["outcome"].notna().all() and shown["estimator"].notna().all()
    # suppressed rows keep what they are about and show no number
    hidden = t[t["suppressed"].astype(bool)]
    assert hidden["estimate"].isna().all() and hidden["outcome"].notna().all()


def test_required_estimators_and_outcomes(project):
    eff = table(project, "mentoring_effects")
    assert set(stats.ESTIMATORS) <= set(eff["estimator"])
    assert set(stats.OUTCOMES) <= set(eff["outcome"])
    assert len(eff) == len(stats.ESTIMATORS) * len(stats.OUTCOMES)
    assert not eff["suppressed"].any()  # the synthetic fieldwork samples are far above the threshold
    ws = table(project, "weight_sensitivity")
    assert set(ws["scheme"]) == {"scheme", "pca"} and "did_panel" in set(ws["estimator"])
    inter = table(project, "dimension_interdependence")
    assert {"pearson_correlation", "ols_on_economic", "ols_on_economic_controls", "cross_lagged"} <= set(
        inter["estimator"])
    assert {"all"} < set(inter["group"].dropna())  # pooled and per country
    det = table(project, "determinants")
    assert set(stats.OUTCOMES) == set(det["outcome"]) and "assist_economic" in set(det["term"])
    bal = table(project, "mentoring_balance")
    assert set(bal["estimator"]) == {"difference_in_means"}
    assert {"score_composite", "assist_economic", "age"} <= set(bal["outcome"])


def test_did_recovers_planted_effect_and_numbers_carry_headlines(project):
    truth = json.loads((project / "data" / "raw" / "synthetic" / "truth.json").read_text())
    eff = table(project, "mentoring_effects").set_index(["outcome", "estimator"])
    did = eff.loc[("score_composite", "did_panel")]
    planted = truth["mentoring_effect"]["composite"]
    # a wide tolerance: 15% of the default data; the CI is checked at full size in test_stats
    assert did["ci_lower"] - 2 * did["std_error"] <= planted <= did["ci_upper"] + 2 * did["std_error"]
    numbers = {s: json.loads((project / "reports" / "numbers" / f"{s}.json").read_text())
               for s in ("mentoring", "weight_sensitivity", "cross_country")}
    m = numbers["mentoring"]
    assert m["synthetic"] is True and m["planted_composite"] == pytest.approx(planted)
    assert m["did_composite"] == pytest.approx(did["estimate"], abs=1e-6)
    assert f"{m['did_composite']:.3f}" in m["headlines"][0] and "planted" in m["headlines"][0]
    assert m["placebo_identified"] is False and any("not identified" in h for h in m["headlines"])
    assert numbers["weight_sensitivity"]["headlines"] and numbers["weight_sensitivity"]["spearman_composite"] > 0.8
    cross = numbers["cross_country"]
    assert "on_economic_social" in cross and any("economic" in h for h in cross["headlines"])
    assert "mean_composite" in cross  # the descriptive numbers are still there


def test_outputs_have_no_absolute_paths_and_figures_exist(project):
    for name in PIPELINE[1:]:
        text = (project / "executed" / f"{name}.ipynb").read_text()
        nb = json.loads(text)
        outputs = json.dumps([c.get("outputs", []) for c in nb["cells"]])
        assert str(project) not in outputs and "/tmp/" not in outputs, name
    figures = {p.name for p in (project / "reports" / "figures").glob("*.png")}
    assert {"mentoring_coefficients.png", "mentoring_event_study.png", "dimension_interdependence.png",
            "determinants.png", "weight_sensitivity_effects.png"} <= figures
