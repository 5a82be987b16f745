"""Publishing: disclosure control of tables, reproducible figures, numbers files.

Every test writes under ``tmp_path``: the ``reports`` fixture points the
``helpers.paths`` constants there, so the real ``reports/`` folder is never touched.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from helpers import outputs, paths


@pytest.fixture
def reports(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "TABLES", tmp_path / "tables")
    monkeypatch.setattr(paths, "FIGURES", tmp_path / "figures")
    monkeypatch.setattr(paths, "NUMBERS", tmp_path / "numbers")
    monkeypatch.delenv("RSS_DISCLOSURE_THRESHOLD", raising=False)
    return tmp_path


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def two_groups(n_a: int = 9, n_b: int = 10) -> pd.DataFrame:
    return pd.DataFrame({"country": ["AAA", "BBB"], "n_surveys": [n_a + 3, n_b + 2], "n_respondents": [n_a, n_b],
                         "mean": [0.123456, 0.654321], "best": ["social", "economic"]})


# ------------------------------------------------------------------- threshold


def test_threshold_default_env_and_explicit(monkeypatch):
    monkeypatch.delenv("RSS_DISCLOSURE_THRESHOLD", raising=False)
    assert outputs.disclosure_threshold() == 10
    monkeypatch.setenv("RSS_DISCLOSURE_THRESHOLD", "25")
    assert outputs.disclosure_threshold() == 25
    assert outputs.disclosure_threshold(5) == 5  # explicit beats the environment


@pytest.mark.parametrize("bad", ["ten", "2.5", "0"], ids=["text", "fraction", "zero"])
def test_threshold_rejects_bad_env(monkeypatch, bad):
    monkeypatch.setenv("RSS_DISCLOSURE_THRESHOLD", bad)
    with pytest.raises(ValueError, match="RSS_DISCLOSURE_THRESHOLD|threshold"):
        outputs.disclosure_threshold()


# ----------------------------------------------------------------- suppression


def test_nine_respondents_suppressed_ten_kept(reports):
    path = outputs.write_table(two_groups(9, 10), "t", keys=["country"])
    assert path == reports / "tables" / "t.csv"
    t = read(path)
    a, b = t.iloc[0], t.iloc[1]
    # 9 respondents: counts shown as <10, every value blank, marked
    assert (a["country"], a["n_respondents"], a["n_surveys"], a["mean"], a["best"], a["suppressed"]) == \
        ("AAA", "<10", "", "", "", "True")
    # 10 respondents: published as is
    assert (b["country"], b["n_respondents"], b["n_surveys"], b["mean"], b["best"], b["suppressed"]) == \
        ("BBB", "10", "12", "0.654321", "economic", "False")


def test_env_threshold_applies(reports, monkeypatch):
    monkeypatch.setenv("RSS_DISCLOSURE_THRESHOLD", "20")
    t = read(outputs.write_table(two_groups(15, 20), "t", keys=["country"]))
    assert t["n_respondents"].tolist() == ["<20", "20"]
    assert t["suppressed"].tolist() == ["True", "False"]


def test_explicit_threshold_argument(reports):
    t = read(outputs.write_table(two_groups(4, 5), "t", threshold=5, keys=["country"]))
    assert t["n_respondents"].tolist() == ["<5", "5"]


def test_any_small_count_suppresses_the_row():
    df = pd.DataFrame({"score": ["a", "b", "c"], "n_respondents_mentored": [30, 9, 30],
                       "n_respondents_not": [30, 30, 10], "diff": [0.1, 0.2, 0.3]})
    out = outputs.suppress(df, threshold=10)
    assert out["suppressed"].tolist() == [False, True, False]
    assert out["n_respondents_mentored"].tolist() == ["30", "<10", "30"]
    assert out["n_respondents_not"].tolist() == ["30", "<10", "10"]
    assert out["diff"].isna().tolist() == [False, True, False]


def test_declared_attrs_are_used_and_non_key_text_is_blanked():
    df = two_groups(9, 10)
    df.attrs = {"keys": ["country"], "count_cols": ["n_respondents"]}
    out = outputs.suppress(df)
    assert out.loc[0, "country"] == "AAA"  # key kept
    assert pd.isna(out.loc[0, "best"])  # text derived from the small group blanked
    assert out.loc[1, "best"] == "economic"


def test_default_keys_are_the_text_columns():
    out = outputs.suppress(two_groups(9, 10))
    assert out.loc[0, "best"] == "social"  # undeclared text is taken as a key
    assert pd.isna(out.loc[0, "mean"])


def test_missing_count_is_suppressed():
    df = pd.DataFrame({"g": ["x", "y"], "n_respondents": [np.nan, 50], "v": [1.0, 2.0]})
    assert outputs.suppress(df)["suppressed"].tolist() == [True, False]


def test_table_without_counts_is_refused_unless_declared(reports):
    df = pd.DataFrame({"file": ["a.csv"], "rows": [3]})
    with pytest.raises(ValueError, match="count_cols"):
        outputs.write_table(df, "files")
    t = read(outputs.write_table(df, "files", count_cols=()))
    assert t.to_dict("records") == [{"file": "a.csv", "rows": "3", "suppressed": "False"}]


def test_unknown_count_column_is_named():
    with pytest.raises(KeyError, match="n_people"):
        outputs.suppress(two_groups(), count_cols=["n_people"])


def test_suppress_does_not_change_its_input():
    df = two_groups(9, 10)
    before = df.copy()
    outputs.suppress(df)
    pd.testing.assert_frame_equal(df, before)


def test_write_leaves_only_the_table(reports):
    outputs.write_table(two_groups(), "t")
    outputs.write_table(two_groups(20, 30), "t")  # replaced, atomically
    assert sorted(p.name for p in (reports / "tables").iterdir()) == ["t.csv"]
    assert read(reports / "tables" / "t.csv")["n_respondents"].tolist() == ["20", "30"]


@pytest.mark.parametrize("name", ["../escape", "a/b", "x.csv", ""], ids=["parent", "folder", "extension", "empty"])
def test_bad_names_rejected(reports, name):
    with pytest.raises(ValueError, match="output name"):
        outputs.write_table(two_groups(), name)


# --------------------------------------------------------------------- figures


def _figure():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [0.2, 0.5, 0.4], label="line")
    ax.set_title("a title")
    ax.legend()
    return fig


def test_save_figure_is_reproducible_and_closes(reports):
    import matplotlib.pyplot as plt

    fig = _figure()
    png, svg = outputs.save_figure(fig, "f")
    assert (png, svg) == (reports / "figures" / "f.png", reports / "figures" / "f.svg")
    assert not plt.fignum_exists(fig.number)
    first = png.read_bytes(), svg.read_bytes()
    outputs.save_figure(_figure(), "f")
    assert (png.read_bytes(), svg.read_bytes()) == first  # byte-identical on a second run
    assert png.read_bytes().startswith(b"\x89PNG") and b"Software" not in png.read_bytes()
    text = svg.read_text()
    assert "<dc:date>" not in text and "<dc:creator>" not in text
    assert sorted(p.name for p in (reports / "figures").iterdir()) == ["f.png", "f.svg"]


def test_save_figure_lays_out_once_and_the_svg_keeps_that_layout(reports, monkeypatch, tmp_path):
    import re

    import matplotlib.pyplot as plt
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    def axes_box(svg_text):  # the axes background patch: its path is the first "M x y L ..." after id="axes_1"
        tail = svg_text[svg_text.index('id="axes_1"'):]
        return [float(v) for v in re.search(r'd="M ([-\d.]+) ([-\d.]+) \s*L ([-\d.]+) ([-\d.]+)', tail).groups()]

    def figure():
        fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
        ax.plot([0, 1], [0, 1])
        ax.set_ylabel("a long label that constrained layout must make room for\nover two lines")
        return fig

    reference = tmp_path / "reference.svg"  # matplotlib laying the figure out for the SVG itself
    figure().savefig(reference, format="svg", dpi=outputs.PNG_DPI)
    plt.close("all")
    calls = []
    real = ConstrainedLayoutEngine.execute
    monkeypatch.setattr(ConstrainedLayoutEngine, "execute", lambda self, fig: (calls.append(1), real(self, fig)))
    fig = figure()
    default_box = axes_box(_svg_of_unlaid_figure())
    _, svg = outputs.save_figure(fig, "laid")
    assert len(calls) == 1  # once, for the PNG
    box, ref = axes_box(svg.read_text()), axes_box(reference.read_text())
    assert box == pytest.approx(ref, abs=0.5)  # the constrained layout, within half a point
    assert box != pytest.approx(default_box, abs=5)  # and not matplotlib's default axes position


def _svg_of_unlaid_figure():
    import io as _io

    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    buf = _io.StringIO()
    fig.savefig(buf, format="svg", dpi=outputs.PNG_DPI)
    plt.close(fig)
    return buf.getvalue()


# --------------------------------------------------------------------- numbers


def test_record_numbers_rounds_sorts_and_cleans(reports):
    path = outputs.record_numbers("sec", {"b": np.float64(1 / 3), "a": {"z": np.int64(7), "y": float("nan")},
                                          "c": [np.bool_(True), -1e-9, "SEN"]})
    assert path == reports / "numbers" / "sec.json"
    text = path.read_text()
    assert json.loads(text) == {"a": {"y": None, "z": 7}, "b": 0.333333, "c": [True, 0.0, "SEN"]}
    assert text.index('"a"') < text.index('"b"') < text.index('"c"')  # sorted keys
    assert text.index('"y"') < text.index('"z"')


def test_record_numbers_refuses_objects(reports):
    with pytest.raises(TypeError, match="cannot record"):
        outputs.record_numbers("sec", {"x": object()})


def test_publish_writes_and_returns_the_same_suppressed_table(reports):
    shown = outputs.publish(two_groups(9, 10), "p", keys=["country"])
    written = read(reports / "tables" / "p.csv")
    assert list(shown["suppressed"]) == [True, False]
    assert pd.isna(shown.loc[0, "mean"]) and written.loc[0, "mean"] == ""
    assert written.loc[1, "mean"] == "0.654321" and shown.loc[1, "mean"] == 0.654321
    pd.testing.assert_frame_equal(shown, outputs.suppress(two_groups(9, 10), keys=["country"]))
