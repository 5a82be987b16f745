"""The content-keyed cache of results and figures (:mod:`helpers.cache`).

A cached result must be the result: reused only for inputs of the same content with
the same code and packages, returned equal, with the warnings its computation gave.
A figure is skipped only while the files it wrote are on disk unchanged.  And the
mentoring notebook's use of it rests on one fact checked here: the mentoring
analyses give the same tables on the countries where mentoring ran as on all.
"""

from __future__ import annotations

import warnings

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from helpers import cache, describe, paths, stats
from helpers.scheme import load_scheme
from helpers.scoring import score
from helpers.synthetic import simulate


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    monkeypatch.setattr(paths, "PROCESSED", tmp_path / "data" / "processed")
    monkeypatch.setattr(paths, "FIGURES", tmp_path / "reports" / "figures")
    return tmp_path


FRAME = pd.DataFrame({"x": [1.0, np.nan, 3.0], "g": pd.Categorical(["a", "b", "a"]), "n": [1, 2, 3],
                      "d": pd.to_datetime(["2020-01-01", None, "2021-05-02"]), "s": ["u", None, "w"]})


@pytest.mark.parametrize("change", [
    lambda d: d.assign(x=[1.0, np.nan, 3.5]),  # a value
    lambda d: d.assign(x=[1.0, 0.0, 3.0]),  # a missing value filled
    lambda d: d.rename(columns={"x": "y"}),  # a column name
    lambda d: d.assign(n=d["n"].astype(float)),  # a dtype, same values
    lambda d: d.set_axis([0, 1, 5]),  # the index
    lambda d: d.iloc[[0, 2, 1]],  # row order
    lambda d: d[["g", "x", "n", "d", "s"]],  # column order
    lambda d: d.assign(g=pd.Categorical(["a", "b", "a"], categories=["b", "a"])),  # categories' order
], ids=["value", "nan", "name", "dtype", "index", "rows", "columns", "categories"])
def test_a_frame_is_keyed_by_its_whole_content(change):
    assert cache.fingerprint(FRAME) == cache.fingerprint(FRAME.copy())
    assert cache.fingerprint(change(FRAME.copy())) != cache.fingerprint(FRAME)


def test_attrs_arrays_and_plain_values_are_keyed_and_other_objects_are_not():
    tagged = FRAME.copy()
    tagged.attrs["count_cols"] = ["n"]
    assert cache.fingerprint(tagged) != cache.fingerprint(FRAME)
    assert cache.fingerprint(np.arange(3)) != cache.fingerprint(np.arange(3.0))
    assert cache.fingerprint([1, "a"], {"k": (1, 2)}) == cache.fingerprint([1, "a"], {"k": (1, 2)})
    assert cache.fingerprint({"k": 1}) != cache.fingerprint({"k": 1.0})
    assert cache.fingerprint(FRAME, open) is None


def test_a_result_is_computed_once_per_content_and_returned_equal(root):
    calls = []

    def means(df, by, *, col="x"):
        calls.append(by)
        return df.groupby(by, observed=True)[col].mean()

    first = cache.result(means, FRAME, "g")
    again = cache.result(means, FRAME.copy(), "g")
    assert len(calls) == 1
    pd.testing.assert_series_equal(first, again)
    pd.testing.assert_series_equal(again, means(FRAME, "g"))
    cache.result(means, FRAME, "g", col="n")  # other arguments
    cache.result(means, FRAME.assign(x=[2.0, 2.0, 2.0]), "g")  # other data
    assert len(calls) == 4
    assert sorted(p.name.split("-")[0] for p in (root / "data" / "processed" / ".cache").glob("*.pkl")) == \
        ["means"] * 3


def test_a_result_is_recomputed_when_the_code_or_packages_change(root, monkeypatch):
    calls = []

    def total(df):
        calls.append(1)
        return float(df["x"].sum())

    cache.result(total, FRAME)
    monkeypatch.setattr(cache, "_code", lambda: "another version of the helpers")
    cache.result(total, FRAME)
    assert len(calls) == 2


def test_warnings_of_the_computation_are_raised_again_when_it_is_reused(root):
    def noisy(df):
        warnings.warn("only 2 clusters", RuntimeWarning, stacklevel=1)
        return len(df)

    for _ in range(2):
        with pytest.warns(RuntimeWarning, match="only 2 clusters"):
            assert cache.result(noisy, FRAME) == 3


def test_a_damaged_entry_is_recomputed_and_old_entries_are_pruned(root):
    calls = []

    def ident(v):
        calls.append(v)
        return v

    assert cache.result(ident, 1) == 1
    (entry,) = (root / "data" / "processed" / ".cache").glob("ident-*.pkl")
    entry.write_bytes(b"cut sh")
    assert cache.result(ident, 1) == 1 and calls == [1, 1]
    for v in range(2, 2 + cache.KEEP + 3):
        cache.result(ident, v)
    assert len(list(entry.parent.glob("ident-*.pkl"))) == cache.KEEP


def test_a_cache_that_cannot_be_written_costs_time_not_results(root, monkeypatch):
    def full_disk(target, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache.io, "write_bytes", full_disk)
    calls = []

    def square(v):
        calls.append(v)
        return v * v

    for _ in range(2):
        with pytest.warns(UserWarning, match=r"could not store square-.*No space left on device"):
            assert cache.result(square, 3) == 9
    assert calls == [3, 3]


def test_a_figure_is_drawn_again_only_when_what_it_shows_or_its_files_changed(root):
    drawn = []

    def plot(values, *, title=""):
        drawn.append(title)
        fig = Figure(figsize=(2, 2))
        fig.subplots().plot(values)
        fig.suptitle(title)
        return fig

    png, svg = cache.figure("f", plot, [1, 2, 3], title="a")
    assert png == root / "reports" / "figures" / "f.png" and svg.suffix == ".svg"
    before = png.read_bytes()
    assert cache.figure("f", plot, [1, 2, 3], title="a") == [png, svg] and drawn == ["a"]
    assert png.read_bytes() == before
    cache.figure("f", plot, [1, 2, 3], title="b")  # what it shows
    cache.figure("f", plot, [1, 2, 3], title="a")
    svg.write_text("<svg/>")  # a file changed on disk
    cache.figure("f", plot, [1, 2, 3], title="a")
    png.unlink()  # or gone
    cache.figure("f", plot, [1, 2, 3], title="a")
    with mpl.rc_context({"lines.linewidth": 4}):  # the style it is drawn with
        cache.figure("f", plot, [1, 2, 3], title="a")
    cache.figure("f", plot, [1, 2, 3], title="a")
    assert drawn == ["a", "b", "a", "a", "a", "a", "a"]
    assert png.read_bytes() == before  # the same figure, the same bytes


def test_a_figure_is_drawn_again_when_its_languages_change(root, monkeypatch):
    drawn = []

    def plot(values):
        drawn.append(len(drawn))
        fig = Figure(figsize=(2, 2))
        fig.subplots().plot(values)
        fig.suptitle("SEN: scores by wave")
        return fig

    french = root / "reports" / "figures" / "fr" / "f.png"
    monkeypatch.delenv("RSS_REPORT_LANG", raising=False)
    cache.figure("f", plot, [1, 2, 3])
    monkeypatch.setenv("RSS_REPORT_LANG", "fr")
    cache.figure("f", plot, [1, 2, 3])  # English files on disk, unchanged: drawn again for French
    assert french.is_file() and len(drawn) == 2
    cache.figure("f", plot, [1, 2, 3])
    assert len(drawn) == 2
    french.unlink()  # the French file gone
    cache.figure("f", plot, [1, 2, 3])
    assert french.is_file() and len(drawn) == 3
    monkeypatch.delenv("RSS_REPORT_LANG")
    cache.figure("f", plot, [1, 2, 3])  # back to English: drawn again, the French file removed
    assert not french.exists() and len(drawn) == 4


@pytest.fixture(scope="module")
def scored():
    df, _ = simulate(seed=11, scale=0.25)
    return score(df, load_scheme())


def test_the_mentoring_analyses_read_only_the_countries_where_mentoring_ran(scored):
    """What lets notebook 30 key its cached results on those countries' rows (``panel``), not on all."""
    panel = scored[scored["country"].isin(describe.fieldwork_countries(scored))]
    assert 0 < len(panel) < len(scored)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pd.testing.assert_frame_equal(stats.mentoring_effects(panel), stats.mentoring_effects(scored))
        pd.testing.assert_frame_equal(stats.baseline(panel), stats.baseline(scored))
        pd.testing.assert_frame_equal(stats.cross_section(panel), stats.cross_section(scored))


def test_the_weight_notebook_takes_section_3_rows_as_they_are(scored):
    """40_weight_sensitivity reuses rows of 30_mentoring's table: they equal its own estimation."""
    estimators = ["raw_difference", "ols_fe", "did_panel"]
    panel = scored[scored["country"].isin(describe.fieldwork_countries(scored))]
    _, pca_scored = stats.pca_rescore(scored)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        section3 = stats.mentoring_effects(panel)
        reused = stats.by_scheme({
            "scheme": section3[section3["estimator"].isin(estimators)].reset_index(drop=True),
            "pca": stats.mentoring_effects(pca_scored, estimators=estimators),
        })
        direct = stats.effects_by_scheme({"scheme": scored, "pca": pca_scored}, estimators=estimators)
    pd.testing.assert_frame_equal(reused, direct)
    assert reused.attrs == direct.attrs
