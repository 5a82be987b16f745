"""Lineage: every published table, figure and number names its notebook cell and helper function.

Runs on the project built by ``rss run`` with every real notebook (``full_project``), so a
notebook that publishes in a way the lineage reader does not follow fails here.
"""

from __future__ import annotations

import csv
import importlib
import json
import shutil
from pathlib import Path

import pytest
from full_project import full_project  # noqa: F401  (the fixture)

from helpers import lineage


def _cell_source(notebook: Path, number: int) -> str:
    return "".join(json.loads(notebook.read_text())["cells"][number - 1]["source"])


def test_every_output_names_a_cell_and_a_function_that_exist(full_project):  # noqa: F811
    reports = full_project / "reports"
    found = {r["output"]: r for r in csv.DictReader((reports / "lineage.csv").open())}
    tables = {f"tables/{p.name}" for p in (reports / "tables").glob("*.csv")}
    numbers = json.loads((reports / "numbers.json").read_text())
    keys = {f"numbers.json: {s}.{k}" for s, v in numbers.items() for k in v}
    assert tables and keys and tables | keys <= set(found)
    # every figure, and (the project is built with --lang fr) its French PNG
    assert len([r for r in found.values() if r["kind"] == "figure"]) == len(list((reports / "figures").glob("*.png"))) + (
        len(list((reports / "figures").glob("fr/*.png")))) > len(list((reports / "figures").glob("*.png")))
    for output, r in found.items():
        assert r["notebook"] and r["cell"] and r["function"], output
        for f in r["function"].split("; "):
            module, _, name = f.rpartition(".")
            assert callable(getattr(importlib.import_module(module), name)), (output, f)
        src = _cell_source(full_project / r["notebook"], int(r["cell"]))
        assert "outputs." in src or "cache.figure" in src, (output, r["cell"])


def test_known_lineage(full_project):  # noqa: F811
    found = {r["output"]: r for r in lineage.rows(full_project / "reports", full_project / "notebooks")}
    means = found["tables/cross_means.csv"]
    assert (means["notebook"], means["function"]) == ("notebooks/20_cross_country.ipynb",
                                                      "helpers.describe.countries.country_means")
    assert 'outputs.publish(means, "cross_means")' in _cell_source(full_project / means["notebook"],
                                                                     int(means["cell"]))
    assert found["tables/country_GIN_scores.csv"]["notebook"] == "notebooks/10_country_profile.ipynb"
    assert found["figures/mentoring_coefficients.png/.svg"]["function"] == "helpers.stats.mentoring.plot_coefficients"
    # a merged mapping: each key goes to the helper that wrote it, a key set in the notebook to its own helper
    lag = found["numbers.json: cross_country.cross_lag_economic_to_social"]["function"]
    assert lag == "helpers.stats.numbers.interdependence_numbers"
    assert found["numbers.json: mentoring.synthetic"]["function"] == "helpers.describe.common.is_synthetic"
    assert found["numbers.json: mentoring.ols_fe_composite"]["function"] == \
        "helpers.stats.numbers.mentoring_numbers"
    # the interdependence table is stacked from three estimators: lineage looks through stats.combine
    assert found["tables/dimension_interdependence.csv"]["function"].split("; ") == [
        "helpers.stats.interdependence.dimension_correlations", "helpers.stats.interdependence.fit_on_economic",
        "helpers.stats.interdependence.cross_lagged"]


def test_an_output_no_cell_accounts_for_is_shown_as_such(full_project, tmp_path):  # noqa: F811
    reports = tmp_path / "reports"
    shutil.copytree(full_project / "reports", reports, ignore=shutil.ignore_patterns("notebooks"))
    (reports / "tables" / "written_by_hand.csv").write_text("a\n1\n")
    found = {r["output"]: r for r in lineage.rows(reports, full_project / "notebooks")}
    assert found["tables/written_by_hand.csv"]["function"] == ""
    assert found["tables/cross_means.csv"]["function"]


@pytest.mark.parametrize("source, expected", [
    ('outputs.publish(stats.fit_ols(d, "y"), "t1")', "helpers.stats.selection.fit_ols"),
    ('x = cache.result(stats.fit_did, d, "y")\noutputs.write_table(x.round(3), f"did_{c}")',
     "helpers.stats.panel.fit_did"),
    ('x = describe.country_means(d)\ny = x\noutputs.publish(y[y.n > 1], "t3")', "helpers.describe.countries.country_means"),
])
def test_the_reader_follows_assignments_memos_and_fstrings(tmp_path, source, expected):
    nb = {"cells": [{"cell_type": "code", "source": "from helpers import cache, describe, outputs, stats\n"},
                    {"cell_type": "markdown", "source": "text"},
                    {"cell_type": "code", "source": source}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "50_x.ipynb").write_text(json.dumps(nb))
    (entry,) = lineage.entries(tmp_path)
    assert entry.origin.cell == 3 and tuple(lineage.qualified(f) for f in entry.origin.functions) == (expected,)
