"""A project built by ``rss run`` with every real notebook, shared by the browser and JupyterLab tests.

``tests/test_browser.py`` opens its ``reports/report.html`` in headless Chromium;
``tests/test_lab_server.py`` re-executes two of its notebooks through a JupyterLab
server and compares their key numbers with the ones this batch run wrote.

Built once per test session, shared by the xdist workers (``conftest.built_once``),
read only: a test that changes it copies it first.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import SYNTHETIC_SCALE, built_once, run_rss

REPO = Path(__file__).resolve().parents[1]
#: Synthetic files kept: the three fieldwork countries (the mentoring notebook needs them), Somalia
#: (8 respondents at this scale: suppressed rows and figures), Côte d'Ivoire (a workbook with answer labels).
FILES = ("gin.csv", "mar.csv", "sen.csv", "som.csv", "civ.xlsx", "truth.json")
COUNTRIES = ("CIV", "GIN", "MAR", "SEN", "SOM")


@pytest.fixture(scope="session")
def full_project(tmp_path_factory) -> Path:
    """Root of a project after ``rss run --jobs 2 --lang fr`` of every notebook in ``notebooks/`` (all succeeded):
    the figures in English and in French, ``report.html`` and ``report.fr.html``."""

    def build(root: Path) -> None:
        (root / "notebooks").mkdir(parents=True)
        for nb in sorted(REPO.glob("notebooks/[0-9]*.ipynb")):
            shutil.copy2(nb, root / "notebooks")
            shutil.copy2(nb.with_suffix(".py"), root / "notebooks")
        gen = root.parent / "generated"
        r = run_rss(root, "synth", "-o", str(gen), "--scale", str(SYNTHETIC_SCALE))
        assert r.returncode == 0, r.stderr
        raw = root / "data" / "raw" / "synthetic"
        raw.mkdir(parents=True)
        for name in FILES:
            shutil.copy2(gen / name, raw / name)
        r = run_rss(root, "run", "--jobs", "2", "--timeout", "240", "--lang", "fr", timeout=600)
        (root.parent / "run_stderr.txt").write_text(r.stderr)
        assert r.returncode == 0, r.stderr

    return built_once(tmp_path_factory, "full-built", build)
