"""Tests of the synthetic dataset (``helpers.synthetic``).

Two datasets are made once per module: a tiny one written to files (read back
through the loader, both CSV flavours and the labelled XLSX), and a full-size
panel kept in memory for the estimation checks (power).  Every expected number
comes from ``truth.json`` / the returned truth, never from the outputs.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import synthetic
from helpers.loader import load
from helpers.scheme import load_scheme, scheme_from_dict
from helpers.scoring import score
from helpers.synthetic import files as synthetic_files

SEED = 20200
SMALL = 0.05  # ~600 respondents: files and loader round trip
PANEL_SCALE = 1.0  # ~20,000 surveys: power for the mentoring estimates


@pytest.fixture(scope="module")
def scheme():
    return load_scheme()


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic")
    files = synthetic.write_dataset(out, seed=SEED, scale=SMALL)
    truth = json.loads((out / "truth.json").read_text(encoding="utf-8"))
    return out, files, truth


@pytest.fixture(scope="module")
def loaded(written, scheme):
    out, _, _ = written
    return load(out, scheme=scheme)


@pytest.fixture(scope="module")
def panel(scheme):
    df, truth = synthetic.simulate(seed=SEED + 1, scale=PANEL_SCALE, scheme=scheme)
    return score(df, scheme), truth


def _treated(df: pd.DataFrame) -> pd.Series:
    return (df["mentored"] == 1) & df["mentoring_start"].notna() & (df["survey_date"] >= df["mentoring_start"])


def _did(df: pd.DataFrame, outcome: str, fieldwork: list[str]):
    """Two-way FE (respondent, wave) DiD, SEs clustered by respondent."""
    from linearmodels.panel import PanelOLS

    d = df[df["country"].isin(fieldwork) & df[outcome].notna()].copy()
    d["treated"] = _treated(d).astype(float)
    d["rid"] = d["respondent_id"].astype(str)
    p = d.set_index(["rid", "wave"])
    # The respondent effects are nested in the respondent clusters: they must not
    # be counted in the degrees of freedom (linearmodels counts them by default
    # with cluster_entity=True, which inflates the SE by about half here).
    return PanelOLS(p[outcome], p[["treated"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True, auto_df=False, count_effects=False)


# ----------------------------------------------------------------------------- files


def test_files_layout(written):
    out, files, truth = written
    names = sorted(p.name for p in out.iterdir())
    expected = sorted([f["name"] for f in truth["files"]] + ["truth.json"])
    assert names == expected  # no temporary files left behind
    assert [p.name for p in files] == [f["name"] for f in truth["files"]] + ["truth.json"]
    assert len(truth["files"]) == len(truth["countries"]) == 17
    formats = [f["format"] for f in truth["files"]]
    assert formats.count("xlsx") == 1 and formats.count("csv") == 16
    for f in truth["files"]:
        raw = (out / f["name"]).read_bytes()
        assert f["name"] == f"{f['country'].lower()}.{f['format']}"
        if f["format"] == "csv":
            assert raw.startswith(b"\xef\xbb\xbf") == f["bom"]
            header = raw.decode("utf-8-sig").split("\n", 1)[0]
            assert header.startswith(f"respondent_id{f['sep']}country{f['sep']}wave")
            assert re.search(r"\d{4}-\d{2}-\d{2}", raw.decode("utf-8-sig"))
    flavours = {(f["sep"], f["bom"]) for f in truth["files"] if f["format"] == "csv"}
    assert flavours == {(",", False), (";", True)}
    assert sum(f.get("sep") == ";" for f in truth["files"]) == 1


def test_xlsx_carries_labels_and_fixed_timestamps(written, scheme):
    import openpyxl

    out, _, truth = written
    (meta,) = [f for f in truth["files"] if f["format"] == "xlsx"]
    assert meta["answers"] == "labels"
    country = next(c for c in truth["countries"] if c["iso3"] == meta["country"])
    assert not country["fieldwork"]
    raw = (out / meta["name"]).read_bytes()
    wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True)
    assert wb.sheetnames == ["rss"]
    rows = list(wb["rss"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert len(body) == meta["n_rows"]
    allowed = {q.id: set(q.labels.values()) | set(scheme.special_codes.values()) | {None} for q in scheme.questions}
    for q in scheme.question_ids:
        values = {r[header.index(q)] for r in body}
        assert values <= allowed[q], q
        assert any(isinstance(v, str) for v in values), q
    wb.close()
    z = zipfile.ZipFile(io.BytesIO(raw))
    assert {i.date_time for i in z.infolist()} == {synthetic.FIXED_TIMESTAMP.timetuple()[:6]}
    core = z.read("docProps/core.xml").decode()
    stamp = synthetic.FIXED_TIMESTAMP.strftime("%Y-%m-%dT%H:%M:%S")
    assert core.count(stamp) == 2  # created and modified


def test_loader_reads_every_file_and_scores(loaded, written, scheme):
    _, _, truth = written
    assert len(loaded.files) == len(truth["files"])
    by_name = {Path(f.path).name: f for f in loaded.files}
    for f in truth["files"]:
        assert by_name[f["name"]].rows == f["n_rows"]
        assert by_name[f["name"]].format == f["format"]
    assert [Path(p).name for p in loaded.ignored_files] == ["truth.json"]
    scored = score(loaded.data, scheme)
    assert scored["score_composite"].notna().mean() >= 0.95
    for col in scheme.score_columns:
        s = scored[col].dropna()
        assert s.between(0, 1).all()


def test_truth_matches_files(loaded, written):
    _, _, truth = written
    data = loaded.data
    assert truth["n_surveys"] == len(data) == sum(f["n_rows"] for f in truth["files"])
    assert truth["n_respondents"] == data["respondent_id"].nunique()
    assert truth["seed"] == SEED and truth["scale"] == SMALL
    per_country = data.groupby("country", observed=True).agg(
        n_surveys=("wave", "size"), n_respondents=("respondent_id", "nunique"))
    assert sorted(per_country.index) == sorted(c["iso3"] for c in truth["countries"])
    for c in truth["countries"]:
        assert per_country.loc[c["iso3"], "n_surveys"] == c["n_surveys"]
        assert per_country.loc[c["iso3"], "n_respondents"] == c["n_respondents"] >= 1
        mentored = data.loc[data["country"] == c["iso3"]].groupby("respondent_id")["mentored"].max().sum()
        assert mentored == c["n_mentored"]
        if not c["fieldwork"]:
            assert c["n_mentored"] == 0
    assert sorted(c["iso3"] for c in truth["countries"] if c["fieldwork"]) == sorted(truth["fieldwork_countries"])
    for f in truth["files"]:
        assert (data["country"] == f["country"]).sum() == f["n_rows"]


def test_files_round_trip_to_simulate(loaded, scheme):
    """What the loader reads back (codes, labels, dates, empty cells) is exactly what was simulated."""
    sim, _ = synthetic.simulate(seed=SEED, scale=SMALL, scheme=scheme)
    got = loaded.data.sort_values(["respondent_id", "wave"]).reset_index(drop=True)
    exp = sim.sort_values(["respondent_id", "wave"]).reset_index(drop=True)
    assert len(got) == len(exp)
    for col in ["respondent_id", "country", "sex", "return_from"]:
        assert got[col].astype(object).where(got[col].notna(), None).tolist() == \
            exp[col].astype(object).where(exp[col].notna(), None).tolist(), col
    for col in ["wave", "mentored", "age", "assist_economic", "assist_social", "assist_psychosocial",
                *scheme.question_ids]:
        a = pd.to_numeric(got[col]).to_numpy(dtype=float, na_value=np.nan)
        b = pd.to_numeric(exp[col]).to_numpy(dtype=float, na_value=np.nan)
        np.testing.assert_array_equal(a, b, err_msg=col)
    for col in ["survey_date", "return_date", "mentoring_start"]:
        a = got[col].dt.strftime("%Y-%m-%d").fillna("").tolist()
        b = exp[col].dt.strftime("%Y-%m-%d").fillna("").tolist()
        assert a == b, col


# ---------------------------------------------------------------------- data content


def test_design_at_default_scale(panel, scheme):
    df, truth = panel
    sizes = [c["n_respondents"] for c in truth["countries"]]
    assert len(sizes) == 17 and min(sizes) < 60 and max(sizes) > 2000
    assert 11_000 <= truth["n_respondents"] <= 13_000
    assert 18_000 <= truth["n_surveys"] <= 22_000 and truth["n_surveys"] == len(df)
    assert len(truth["fieldwork_countries"]) == 3
    ids = df["respondent_id"].astype(str)
    assert ids.str.fullmatch(r"R[0-9A-F]{7}").all()
    assert df.groupby("respondent_id")["country"].nunique().max() == 1
    assert not df.duplicated(["respondent_id", "wave"]).any()
    # dates
    start, end = pd.Timestamp(truth["period"]["start"]), pd.Timestamp(truth["period"]["end"])
    assert df["survey_date"].between(start, end).all()
    assert (df["return_date"] <= df["survey_date"]).all()
    assert df["survey_date"].max() <= pd.Timestamp.today()
    months = (df["survey_date"] - df["return_date"]).dt.days / (365.25 / 12)
    wm = truth["wave_months"]
    for w in (1, 2, 3):
        expect = wm["first_mean"] + (w - 1) * wm["gap_mean"]
        assert abs(months[df["wave"] == w].mean() - expect) < 0.5
    # waves are consecutive per respondent, attrition as planted
    waves = df.groupby("respondent_id")["wave"].agg(["min", "max", "size"])
    assert (waves["min"] == 1).all() and (waves["max"] == waves["size"]).all()
    fw = df[df["country"].isin(truth["fieldwork_countries"])].groupby("respondent_id")["wave"].max()
    att = truth["attrition"]["fieldwork"]
    assert abs((fw >= 2).mean() - att["p_wave2"]) < 0.03
    assert abs((fw >= 3).sum() / (fw >= 2).sum() - att["p_wave3_given_wave2"]) < 0.04
    # covariates
    assert df["age"].dropna().between(15, 99).all()
    first = df[df["wave"] == 1]
    assert first["age"].dropna().between(18, 45).mean() > 0.8
    assert 0.15 < (first["sex"] == "F").sum() / first["sex"].notna().sum() < 0.35
    assert 0 < first["sex"].isna().mean() < 0.06
    for col in synthetic.ASSIST:
        assert set(df[col].unique()) <= {0, 1}
    assert (df["weight"] > 0).all()


def test_mentoring_design(panel):
    df, truth = panel
    fieldwork = set(truth["fieldwork_countries"])
    assert set(df.loc[df["mentored"] == 1, "country"]) == fieldwork
    assert df.groupby("respondent_id")["mentored"].nunique().max() == 1
    assert df.loc[df["mentored"] == 0, "mentoring_start"].isna().all()
    m = df[df["mentored"] == 1]
    assert m["mentoring_start"].notna().all()
    wide = m.pivot_table(index="respondent_id", columns="wave", values="survey_date", aggfunc="first")
    start = m.groupby("respondent_id")["mentoring_start"].first()
    assert (start > wide[1]).all()
    both = wide[2].notna()
    assert both.any() and (start[both.index[both]] < wide.loc[both, 2]).all()
    assert truth["n_mentored"] == m["respondent_id"].nunique()
    eff = truth["mentoring_effect"]
    assert 0.03 <= eff["composite"] <= 0.05
    dims = [d for d in eff if d != "composite"]
    assert abs(eff["composite"] - np.mean([eff[d] for d in dims])) < 1e-9


def test_item_answers_and_missingness(panel, scheme):
    df, truth = panel
    n = len(df)
    for q in scheme.questions:
        col = df[q.id]
        codes = set(col.dropna().astype(int).unique())
        assert codes <= set(q.scores) | {97, 98, 99}, q.id
        assert set(q.scores) <= codes, q.id  # every answer level is used
        t = truth["items"][q.id]
        tol = lambda p: 5 * np.sqrt(p * (1 - p) / n) + 1e-3  # noqa: E731
        applicable = col != 97
        share98 = (col[applicable] == 98).mean()
        assert abs(share98 - t["p98"]) < tol(t["p98"]), q.id
        assert abs((col[applicable] == 99).mean() - t["p99"]) < tol(t["p99"]), q.id
        assert col.isna().mean() < 0.01, q.id
        if "p97_no_school_age_children" in t:
            assert abs((col == 97).mean() - t["p97_no_school_age_children"]) < 0.02
        else:
            assert not (col == 97).any(), q.id
    scored = df
    assert scored["score_composite"].notna().mean() >= 0.99
    for d in scheme.dimensions:
        assert scored[f"score_{d}"].notna().mean() >= 0.99


def test_economic_dimension_is_foundational(panel, scheme):
    df, truth = panel
    model = truth["latent_model"]
    found = model["foundational_dimension"]
    assert found == "economic"
    for d in scheme.dimensions:
        if d == found:
            continue
        loading = model["dimensions"][d]["economic_loading"]
        assert loading > 0
        pair = df[[f"score_{found}", f"score_{d}"]].dropna()
        r = pair.corr().iloc[0, 1]
        half_width = 1.96 / np.sqrt(len(pair) - 3)  # Fisher z
        assert np.arctanh(r) - half_width > 0, (d, r)


def test_did_recovers_planted_effect(panel):
    df, truth = panel
    planted = truth["mentoring_effect"]["composite"]
    res = _did(df, "score_composite", truth["fieldwork_countries"])
    b, se = res.params["treated"], res.std_errors["treated"]
    lo, hi = res.conf_int().loc["treated"]
    assert lo <= planted <= hi, (b, se, planted)
    assert abs(b - planted) < 0.02
    assert b - 1.96 * se > 0  # the small effect is detected
    for d in ("economic", "social", "psychosocial"):
        bd = _did(df, f"score_{d}", truth["fieldwork_countries"]).params["treated"]
        assert abs(bd - truth["mentoring_effect"][d]) < 0.02, d


def test_naive_difference_is_biased_upward(panel):
    df, truth = panel
    planted = truth["mentoring_effect"]["composite"]
    assert truth["naive_bias_direction"] == "positive" and truth["selection"]["ability_coefficient"] > 0
    d = df[df["country"].isin(truth["fieldwork_countries"]) & (df["wave"] >= 2)]
    a = d.loc[d["mentored"] == 1, "score_composite"].dropna()
    b = d.loc[d["mentored"] == 0, "score_composite"].dropna()
    diff = a.mean() - b.mean()
    se = np.sqrt(a.var() / len(a) + b.var() / len(b))
    assert diff - 1.96 * se > planted, (diff, se, planted)
    # and before mentoring starts (wave 1) the mentored already score higher: selection
    w1 = df[df["country"].isin(truth["fieldwork_countries"]) & (df["wave"] == 1)]
    pre = w1.groupby("mentored")["score_composite"].mean()
    assert pre[1] > pre[0]


# ------------------------------------------------------------------- determinism, API


def test_same_seed_byte_identical_other_seed_differs(tmp_path, written):
    out, _, _ = written
    again = synthetic.write_dataset(tmp_path / "again", seed=SEED, scale=SMALL)
    for p in again:
        assert p.read_bytes() == (out / p.name).read_bytes(), p.name
    other = synthetic.write_dataset(tmp_path / "other", seed=SEED + 7, scale=SMALL)
    for p in other:
        assert p.read_bytes() != (out / p.name).read_bytes(), p.name


def test_failed_write_leaves_folder_untouched(tmp_path, monkeypatch):
    out = tmp_path / "data"
    synthetic.write_dataset(out, seed=1, scale=0.02)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(synthetic_files, "_xlsx_bytes", boom)
    with pytest.raises(RuntimeError):
        synthetic.write_dataset(out, seed=2, scale=0.02)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_tiny_scale_keeps_every_country():
    df, truth = synthetic.simulate(seed=3, scale=0.001)
    assert df["country"].nunique() == 17
    counts = df.groupby("country")["respondent_id"].nunique()
    assert counts.min() >= 1
    assert all(c["n_respondents"] == counts[c["iso3"]] for c in truth["countries"])


@pytest.mark.parametrize("kwargs", [{"scale": 0}, {"scale": -1.0}, {"scale": float("nan")}, {"seed": -1}])
def test_bad_options_rejected(kwargs):
    with pytest.raises(ValueError):
        synthetic.simulate(**kwargs)


def test_other_scheme_drives_the_questions():
    doc = yaml.safe_load(Path(load_scheme().source).read_text(encoding="utf-8"))
    psy = next(d for d in doc["dimensions"] if d["id"] == "psychosocial")
    p5 = next(i for i in psy["indicators"] if i["id"] == "P5")
    p5["questions"] = [q for q in p5["questions"] if q["id"] != "psy_wants_support"]
    custom = scheme_from_dict(doc)
    df, truth = synthetic.simulate(seed=5, scale=0.02, scheme=custom)
    assert "psy_wants_support" not in df.columns
    assert set(custom.question_ids) <= set(df.columns)
    assert set(truth["items"]) == set(custom.question_ids)
    assert score(df, custom)["score_composite"].notna().mean() >= 0.95
