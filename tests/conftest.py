"""Shared fixtures: the default scheme and small, valid RSS records built from it.

The records here are made directly from the data contract (not by the synthetic
generator), so loader and scoring tests do not depend on the generator.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.scheme import load_scheme

# Runs started by the tests keep no kernels for a next run (helpers.pool): none may outlive the test session.
# tests/test_kept_kernels.py turns keeping on where it tests it.
os.environ["RSS_KEEP_KERNELS"] = "0"


@pytest.fixture(scope="session")
def scheme():
    return load_scheme()


def make_records(scheme, n: int = 12, seed: int = 0, country: str = "SEN") -> pd.DataFrame:
    """Return ``n`` valid survey records (text-free, codes as ints)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        r = {
            "respondent_id": f"R{seed:02d}{i:05d}",
            "country": country,
            "wave": 1,
            "survey_date": "2020-06-15",
            "return_date": "2020-01-10",
            "sex": "F" if i % 3 == 0 else "M",
            "age": 20 + i % 30,
            "return_from": "EU",
            "mentored": i % 2,
            "mentoring_start": "2020-07-01" if i % 2 else "",
            "assist_economic": 1,
            "assist_social": 0,
            "assist_psychosocial": i % 2,
        }
        for q in scheme.questions:
            r[q.id] = int(rng.choice(sorted(q.scores)))
        rows.append(r)
    return pd.DataFrame(rows)


@pytest.fixture
def records(scheme):
    return make_records(scheme)


# ------------------------------------------------------------------ a real pipeline on synthetic data

#: The real notebooks the synthetic project runs (30_/40_ are left out: they are not needed here and slow).
PIPELINE_NOTEBOOKS = ("00_prepare", "10_country_profile", "20_cross_country")
#: Synthetic files kept: Somalia (8 respondents at this scale: suppressed), Morocco (semicolon, BOM, mentored),
#: Côte d'Ivoire (a workbook with answer labels), and truth.json (the data is synthetic).
SYNTHETIC_FILES = ("som.csv", "mar.csv", "civ.xlsx", "truth.json")
SYNTHETIC_SCALE = 0.03


def run_rss(root, *args, env=None, timeout=300):
    """``rss ARGS`` in a subprocess with ``RSS_ROOT=root`` (no RSS_DATA or threshold from outside)."""
    import os
    import subprocess
    import sys

    e = {k: v for k, v in os.environ.items() if k not in ("RSS_DATA", "RSS_DISCLOSURE_THRESHOLD")}
    e.update(RSS_ROOT=str(root), **(env or {}))
    return subprocess.run([sys.executable, "-m", "helpers.cli", *args], cwd=root, env=e, capture_output=True,
                          text=True, timeout=timeout, check=False)


def file_hashes(*folders) -> dict[str, str]:
    """sha256 of every file under ``folders`` (recursively), by path."""
    import hashlib
    from pathlib import Path

    out = {}
    for folder in folders:
        folder = Path(folder)
        if folder.is_dir():
            for p in sorted(folder.rglob("*")):
                if p.is_file():
                    out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


#: Runner state under reports/ (not outputs): the manifest, the lock, the workers' logs and scratch files.
RUNNER_STATE = (".manifest.json", ".run.lock", "notebooks/.logs/", "notebooks/.running/")


def published_outputs(root) -> dict[str, str]:
    """sha256 of every output under ``reports/`` and ``data/processed/``, runner state left out."""
    from pathlib import Path

    rep = str(Path(root) / "reports") + "/"
    return {k: v for k, v in file_hashes(Path(root) / "reports", Path(root) / "data" / "processed").items()
            if not (k.startswith(rep) and k[len(rep):].startswith(RUNNER_STATE))}


def built_once(tmp_path_factory, name: str, build) -> Path:
    """Build a project once per test session, shared by the xdist workers (file lock); return its root.

    ``build(root)`` runs only when no complete build (a ``reports/report.html``) exists yet.
    """
    import fcntl
    import os
    import shutil

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    root = shared / name / "proj"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "reports" / "report.html").is_file():
            shutil.rmtree(root.parent, ignore_errors=True)
            build(root)
    return root


@pytest.fixture(scope="session")
def synthetic_project(tmp_path_factory):
    """A project after a complete run of the real notebooks on a small synthetic dataset.

    Built once, shared by the xdist workers (file lock), read only: tests that change
    it copy it first.  ``raw_before`` in the folder holds the hashes of ``data/raw``
    taken before the run.
    """
    import json
    import shutil

    def build(root: Path) -> None:
        repo = Path(__file__).resolve().parents[1]
        (root / "notebooks").mkdir(parents=True)
        for name in PIPELINE_NOTEBOOKS:
            for suffix in (".ipynb", ".py"):
                shutil.copy2(repo / "notebooks" / f"{name}{suffix}", root / "notebooks")
        gen = root.parent / "generated"
        r = run_rss(root, "synth", "-o", str(gen), "--scale", str(SYNTHETIC_SCALE))
        assert r.returncode == 0, r.stderr
        raw = root / "data" / "raw" / "synthetic"
        raw.mkdir(parents=True)
        for name in SYNTHETIC_FILES:
            shutil.copy2(gen / name, raw / name)
        (root.parent / "raw_before.json").write_text(json.dumps({
            "sha256": file_hashes(root / "data" / "raw"),
            "mtime_ns": {str(p): p.stat().st_mtime_ns for p in sorted((root / "data" / "raw").rglob("*"))}}))
        r = run_rss(root, "run", "--jobs", "2", "--timeout", "240", timeout=600)
        (root.parent / "run_stderr.txt").write_text(r.stderr)
        assert r.returncode == 0, r.stderr

    return built_once(tmp_path_factory, "synthetic-built", build)


@pytest.fixture
def tables_project(tmp_path, monkeypatch):
    """An empty project whose tables, figures and numbers helpers.outputs writes (paths redirected under tmp_path)."""
    from helpers import paths

    root = tmp_path / "proj"
    for sub in ("reports/tables", "reports/figures", "reports/numbers", "reports/notebooks", "notebooks",
                "data/processed"):
        (root / sub).mkdir(parents=True)
    monkeypatch.setattr(paths, "TABLES", root / "reports" / "tables")
    monkeypatch.setattr(paths, "FIGURES", root / "reports" / "figures")
    monkeypatch.setattr(paths, "NUMBERS", root / "reports" / "numbers")
    return root
