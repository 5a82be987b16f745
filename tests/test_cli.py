"""The ``rss`` command line, as analysts and the Makefile call it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
from conftest import make_records

RSS = [sys.executable, "-m", "helpers.cli"]


def run(*args, cwd):
    env = {**os.environ, "RSS_DATA": ""}
    env.pop("RSS_DATA")
    return subprocess.run([*RSS, *args], cwd=cwd, capture_output=True, text=True, env=env, check=False)


def test_validate_prints_every_mistake_and_exits_1(tmp_path, scheme):
    df = make_records(scheme).astype(object)
    df.loc[0, "eco_food_reduce"] = 7
    df.loc[4, "return_date"] = "2021-01-01"
    df.loc[8, "country"] = "SENEGAL"
    df.to_csv(tmp_path / "sen.csv", index=False)
    r = run("validate", "sen.csv", cwd=tmp_path)
    assert r.returncode == 1 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert lines[0] == "rss validate: 3 problems in the input:"
    assert lines[1:] == [
        "sen.csv row 2, column eco_food_reduce: 7 is not an answer code (allowed 1-5, or 97/98/99)",
        "sen.csv row 6, column return_date: '2021-01-01' is after survey_date: a returnee is surveyed after return",
        "sen.csv row 10, column country: 'SENEGAL' is not an ISO 3166-1 alpha-3 country code (e.g. GIN, MAR, SEN)",
    ]


def test_validate_ok_exits_0(tmp_path, scheme):
    make_records(scheme).to_csv(tmp_path / "sen.csv", index=False)
    r = run("validate", "sen.csv", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "12 surveys, 12 respondents, 1 countries (SEN)" in r.stdout


def test_score_writes_parquet_and_bad_input_leaves_previous_output_untouched(tmp_path, scheme):
    good = make_records(scheme)
    good.to_csv(tmp_path / "sen.csv", index=False)
    r = run("score", "sen.csv", "-o", "out/scored.parquet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out" / "scored.parquet"
    scored = pd.read_parquet(out)
    assert len(scored) == 12 and scored["score_composite"].between(0, 1).all()
    before = out.read_bytes()
    bad = good.astype(object)
    bad.loc[0, "psy_safety"] = 8
    bad.to_csv(tmp_path / "sen.csv", index=False)
    r = run("score", "sen.csv", "-o", "out/scored.parquet", cwd=tmp_path)
    assert r.returncode == 1 and "column psy_safety: 8 is not an answer code" in r.stderr
    assert out.read_bytes() == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["scored.parquet"]  # no temporary left behind


def test_score_with_another_scheme_and_a_broken_scheme(tmp_path, scheme):
    make_records(scheme).to_csv(tmp_path / "sen.csv", index=False)
    text = (Path(__file__).parents[1] / "src/helpers/schemes/rss-default.yaml").read_text()
    (tmp_path / "broken.yaml").write_text(text.replace("weight: 0.2", "weight: 0.25", 1))
    r = run("score", "sen.csv", "-o", "s.parquet", "--scheme", "broken.yaml", cwd=tmp_path)
    assert r.returncode == 1
    assert "indicator weights sum to 1.05, expected 1" in r.stderr
    assert not (tmp_path / "s.parquet").exists()


def test_validate_refuses_real_and_synthetic_data_mixed(tmp_path, scheme):
    root = tmp_path / "proj"
    (root / "data/raw/synthetic").mkdir(parents=True)
    make_records(scheme).to_csv(root / "data/raw/synthetic/a.csv", index=False)
    make_records(scheme, seed=3).to_csv(root / "data/raw/real.csv", index=False)
    env = {**os.environ, "RSS_ROOT": str(root)}
    env.pop("RSS_DATA", None)
    r = subprocess.run([*RSS, "validate"], cwd=tmp_path, capture_output=True, text=True, env=env, check=False)
    assert r.returncode == 1
    assert "holds real data (real.csv) and the synthetic dataset synthetic/" in r.stderr
