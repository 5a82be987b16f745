"""The notebook regression checks (nbval) guard what they should, and the notebooks are clean.

`make test` runs nbval over every notebook on the small synthetic dataset of
helpers.nbcheck (`python -m helpers.nbcheck data`); these tests check the pieces
around it: baselines present and clean, pairs in sync, the sanitizer harmless to key
numbers, and that a changed helper result makes nbval fail, naming notebook and cell.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from helpers import nbcheck, paths
from helpers.runner import pair_differs

NOTEBOOKS = sorted(paths.NOTEBOOKS.glob("[0-9]*.ipynb"))
SANITIZE = Path(__file__).parent / "nbval_sanitize.cfg"
IDS = [nb.stem for nb in NOTEBOOKS]


def check_cells(nb_path: Path) -> list:
    nb = nbformat.read(nb_path, as_version=4)
    return [c for c in nb.cells if c.cell_type == "code" and nbcheck.CHECK_TAG in c.metadata.get("tags", [])]


def output_text(cell) -> str:
    return "".join(o.get("text", "") if o.output_type == "stream" else json.dumps(o.get("data", {}))
                   for o in cell.outputs)


def sanitizers() -> list[tuple[re.Pattern, str]]:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(SANITIZE)
    return [(re.compile(cfg[s]["regex"]), cfg[s]["replace"]) for s in cfg.sections()]


def sanitize(text: str) -> str:
    for rx, rep in sanitizers():
        text = rx.sub(rep, text)
    return text


def test_there_are_notebooks():
    assert {"00_prepare", "10_country_profile", "20_cross_country"} <= set(IDS)


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=IDS)
def test_py_and_ipynb_pair_in_sync(nb_path):
    py = nb_path.with_suffix(".py")
    assert py.is_file(), f"{py.name} missing: the .py (jupytext percent) is the reviewed source"
    assert not pair_differs(py, nb_path), f"{py.name} and {nb_path.name} differ: run `jupytext --sync {py}`"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=IDS)
def test_baseline_has_a_key_number_cell_with_output(nb_path):
    cells = check_cells(nb_path)
    assert cells, f"{nb_path.name} has no cell tagged {nbcheck.CHECK_TAG}"
    for c in cells:
        assert output_text(c).strip(), f"{nb_path.name}: the {nbcheck.CHECK_TAG} cell has no baseline output " \
                                       "(run `make baseline`)"
        assert re.search(r"\d", output_text(c))


ABSOLUTE = re.compile(r"(?<![\w.])/(?:home|root|tmp|work|Users|var|opt|mnt)/[\w.\-/]*")


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=IDS)
def test_committed_notebook_has_no_absolute_path_and_no_respondent_id(nb_path):
    text = nb_path.read_text(encoding="utf-8")
    assert not ABSOLUTE.findall(text), ABSOLUTE.findall(text)[:3]
    scored = nbcheck.NBVAL_ROOT / "data" / "processed" / "scored.parquet"
    if not scored.exists():
        nbcheck.prepare_data()
    ids = pd.read_parquet(scored, columns=["respondent_id"])["respondent_id"].astype(str).unique()
    leaked = [i for i in ids if i in text]
    assert not leaked, f"{nb_path.name} shows respondent ids: {leaked[:3]}"
    outputs = "".join(output_text(c) for c in nbformat.read(nb_path, 4).cells if c.cell_type == "code")
    assert not re.search(r"<th>respondent_id</th>|^\s*respondent_id\s", outputs, re.M), \
        "a notebook output shows individual rows (a table with a respondent_id column)"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=IDS)
def test_sanitizer_leaves_key_numbers_alone(nb_path):
    for cell in check_cells(nb_path):
        text = output_text(cell)
        assert sanitize(text) == text, "a sanitize rule rewrites a key-number line"
        numbers = re.findall(r"\d+\.\d+|\d+", text)
        assert numbers
        changed = text.replace(numbers[-1], str(int(numbers[-1].replace(".", "")) + 1), 1)
        assert sanitize(changed) != sanitize(text), "a changed key number would be hidden by the sanitizer"


def test_sanitizer_does_hide_what_legitimately_changes():
    text = ("run at 2026-11-28 23:29:02 from /tmp/pytest-of-root/x/scored.parquet, object at 0x7f3a2b1c4d50,"
            " <Figure size 640x480 with 2 Axes>, took 3.52 s\nDate:                  Sat, Nov 28 2026")
    out = sanitize(text)
    for gone in ("2026-11-28 23:29", "/tmp/pytest", "0x7f3a2b1c4d50", "640x480", "3.52 s", "Sat, Nov"):
        assert gone not in out, gone


def test_changed_helper_result_makes_nbval_fail_naming_notebook_and_cell(tmp_path):
    """Shift every composite score by +0.01 in a patched copy of the helpers: nbval must report it."""
    src = tmp_path / "src"
    shutil.copytree(paths.ROOT / "src" / "helpers", src / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    with open(src / "helpers" / "scoring.py", "a", encoding="utf-8") as fh:
        fh.write("\n\n_score = score\n\n\ndef score(df, scheme):  # patched by tests/test_nbval.py\n"
                 "    out = _score(df, scheme)\n"
                 "    out['score_composite'] = (out['score_composite'] + 0.01).clip(0, 1)\n"
                 "    return out\n")
    root = tmp_path / "project"
    shutil.copytree(nbcheck.NBVAL_ROOT / "data" / "raw", root / "data" / "raw")
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    for name in ("00_prepare", "10_country_profile"):
        shutil.copy(paths.NOTEBOOKS / f"{name}.ipynb", nbs)
    env = {**os.environ, "RSS_ROOT": str(root), "PYTHONPATH": str(src)}
    env.pop("RSS_DATA", None)
    r = subprocess.run([sys.executable, "-m", "pytest", "-vv", "-p", "no:cacheprovider", "-p", "no:xdist", "--nbval-lax",
                        "--nbval-sanitize-with", str(SANITIZE), "-o", "addopts=", "--rootdir", str(tmp_path),
                        str(nbs / "00_prepare.ipynb"), str(nbs / "10_country_profile.ipynb")],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out[-3000:]
    failed = re.findall(r"FAILED (\S+)", out)
    assert any("10_country_profile.ipynb::Cell" in f for f in failed), failed
    assert not any("00_prepare" in f for f in failed), failed  # its key numbers do not depend on scores
    baseline = next(line for c in check_cells(paths.NOTEBOOKS / "10_country_profile.ipynb")
                    for line in output_text(c).splitlines() if line.startswith("mean_composite:"))
    before = float(baseline.split(": ")[1])
    after = [float(v) for v in re.findall(r"mean_composite: (\d\.\d+)", out) if float(v) != before]
    assert baseline in out and after, out[-3000:]
    assert abs(after[0] - before - 0.01) <= 0.0011, (before, after)
