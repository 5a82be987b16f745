"""The batch runner (``rss run``) on tiny fixture notebooks in a temporary project.

The runner runs in a subprocess with ``RSS_ROOT`` set (``helpers.paths`` reads it at
import), exactly as ``make report`` calls it.  The fixture notebooks are described
in ``tests/fixtures/README.md``: the country profile raises on a row noted ``boom``
and sleeps past any timeout on a row noted ``sleep``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import built_once

from helpers import runner
from helpers.runner import executor as runner_executor
from helpers.runner import worker as runner_worker

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
PIPELINE = ("00_prepare", "10_country_profile", "20_cross_country")
ROWS = [  # respondent_id, country, score_composite, ind_a, note
    ("R1", "SEN", 0.50, 0.5, ""), ("R2", "SEN", 0.70, 1.0, ""), ("R3", "SEN", 0.90, 1.0, ""),
    ("R4", "GIN", 0.40, 0.0, ""), ("R5", "GIN", 0.60, 0.5, ""),
    ("R6", "MAR", 0.60, 0.5, ""), ("R7", "MAR", 0.80, 1.0, ""),
]
# a notebook under test takes ~2 s; generous so a loaded CI machine never times out a healthy one
TIMEOUT = "60"
# the run that has a notebook sleep past its timeout: long enough for a healthy notebook on a busy machine
FAIL_TIMEOUT = "10"


def write_rows(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["respondent_id,country,score_composite,ind_a,note"]
    lines += [",".join(str(x) for x in r) for r in rows]
    path.write_text("\n".join(lines) + "\n")


def make_project(root: Path, rows=ROWS) -> Path:
    (root / "notebooks").mkdir(parents=True)
    for name in PIPELINE:
        shutil.copy(FIXTURES / f"{name}.ipynb", root / "notebooks")
    write_rows(root / "data" / "raw" / "all.csv", rows)
    return root


def rss_run(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k not in ("RSS_DATA", "RSS_DISCLOSURE_THRESHOLD")}
    e.update(RSS_ROOT=str(root), **(env or {}))
    return subprocess.run([sys.executable, "-m", "helpers.cli", "run", "--jobs", "2", *args], cwd=root, env=e,
                          capture_output=True, text=True, timeout=240, check=False)


def manifest(root: Path) -> dict:
    return json.loads((root / "reports" / ".manifest.json").read_text())


def executed(root: Path) -> dict[str, int]:
    """Executed notebooks and their mtimes."""
    return {p.name: p.stat().st_mtime_ns for p in sorted((root / "reports" / "notebooks").glob("*.ipynb"))}


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """A project after one complete, successful run: built once, shared by the xdist workers, read only."""
    def build(root: Path) -> None:
        make_project(root)
        r = rss_run(root, "--timeout", TIMEOUT)
        assert r.returncode == 0, r.stderr
        (root.parent / "stderr.txt").write_text(r.stderr)

    return built_once(tmp_path_factory, "runner-built", build)


@pytest.fixture
def project(built, tmp_path) -> Path:
    """A private copy of the built project (so tests can change it)."""
    return Path(shutil.copytree(built, tmp_path / "proj", symlinks=True))


def test_every_country_gets_a_notebook_and_a_page(built):
    names = set(executed(built))
    assert names == {"00_prepare.ipynb", "20_cross_country.ipynb",
                     *(f"10_country_profile_{c}.ipynb" for c in ("SEN", "GIN", "MAR"))}
    html = (built / "reports" / "report.html").read_text()
    for c in ("SEN", "GIN", "MAR"):
        assert f'id="country-{c}"' in html and f'href="#country-{c}"' in html
    assert (built / "reports" / "tables.xlsx").is_file()
    numbers = json.loads((built / "reports" / "numbers.json").read_text())
    assert numbers["prepare"]["n_surveys"] == len(ROWS) and numbers["country_SEN"]["n_surveys"] == 3
    m = manifest(built)
    assert m["run"]["countries"] == ["GIN", "MAR", "SEN"]
    assert all(j["status"] == "ok" and j["duration"] > 0 for j in m["jobs"].values())
    assert m["jobs"]["10_country_profile_SEN"]["params"] == {"country": "SEN", "processed": ""}
    assert "SYNTHETIC DATA" not in html  # data/raw without truth.json, prepare.json says synthetic: false
    # off a terminal: plain lines, one per notebook, with count, elapsed and ETA; no carriage returns
    log = (built.parent / "stderr.txt").read_text()
    assert "\r" not in log
    assert re.search(r"^\[\d/5\] done    10_country_profile_SEN  [\d.]+s  \(elapsed \d:\d\d, ETA ", log, re.M)


def test_second_run_executes_nothing_and_one_country_reruns_only_what_depends_on_it(project):
    before = executed(project)
    html_before = (project / "reports" / "report.html").read_bytes()
    r = rss_run(project, "--timeout", TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert "0 notebooks ran" in r.stderr and "report up to date" in r.stderr
    assert executed(project) == before
    assert (project / "reports" / "report.html").read_bytes() == html_before

    # edit one SEN row (not a score: the pooled medians stay) -> prepare, SEN and the cross-country notebook
    rows = [r if r[0] != "R2" else (*r[:4], "edited") for r in ROWS]
    write_rows(project / "data" / "raw" / "all.csv", rows)
    r = rss_run(project, "--timeout", TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert manifest(project)["run"]["ran"] == ["00_prepare", "10_country_profile_SEN", "20_cross_country"]
    after = executed(project)
    for c in ("GIN", "MAR"):
        assert after[f"10_country_profile_{c}.ipynb"] == before[f"10_country_profile_{c}.ipynb"]
    assert after["10_country_profile_SEN.ipynb"] != before["10_country_profile_SEN.ipynb"]
    assert "report rebuilt" in r.stderr

    # --country reruns that country (and the report) only, even with nothing changed
    r = rss_run(project, "--country", "gin", "--timeout", TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert manifest(project)["run"]["ran"] == ["10_country_profile_GIN"]
    r = rss_run(project, "--country", "ZZZ")
    assert r.returncode == 2 and "'ZZZ' is not in the scored data" in r.stderr and "GIN, MAR, SEN" in r.stderr


def test_failures_keep_the_others_the_old_report_and_a_failed_notebook(tmp_path):
    root = make_project(tmp_path / "proj", [(*r[:4], {"R2": "boom", "R4": "sleep"}.get(r[0], "")) for r in ROWS])
    reports = root / "reports"
    reports.mkdir()
    (reports / "report.html").write_text("<html>the previous report</html>")
    (reports / "tables.xlsx").write_bytes(b"previous workbook")
    r = rss_run(root, "--timeout", FAIL_TIMEOUT)
    assert r.returncode == 1, r.stderr
    # the others finished
    m = manifest(root)
    assert {k: v["status"] for k, v in m["jobs"].items()} == {
        "00_prepare": "ok", "10_country_profile_GIN": "timeout", "10_country_profile_MAR": "ok",
        "10_country_profile_SEN": "failed", "20_cross_country": "ok"}
    assert (reports / "notebooks" / "10_country_profile_MAR.ipynb").is_file()
    # the previous report is untouched
    assert (reports / "report.html").read_text() == "<html>the previous report</html>"
    assert (reports / "tables.xlsx").read_bytes() == b"previous workbook"
    # the failed executed notebooks are kept, under clear names, with the error inside
    assert "planted failure for SEN" in (reports / "notebooks" / "FAILED_10_country_profile_SEN.ipynb").read_text()
    assert (reports / "notebooks" / "FAILED_10_country_profile_GIN.ipynb").is_file()
    assert not (reports / "notebooks" / "10_country_profile_SEN.ipynb").exists()
    # the summary says what failed and where
    err = r.stderr
    assert "2 of 5 notebooks failed" in err and "was NOT rebuilt" in err
    assert "10_country_profile_SEN: ValueError: planted failure for SEN" in err
    assert 'raise ValueError(f"planted failure for {country}")' in err and "at cell" in err
    assert "reports/notebooks/FAILED_10_country_profile_SEN.ipynb" in err
    assert f"10_country_profile_GIN: Timeout: still running after {FAIL_TIMEOUT} s" in err
    assert "'if \"sleep\" in notes:'" in err

    # fixed: the failed ones rerun (with what depends on the data), not MAR; the FAILED_ copies go
    write_rows(root / "data" / "raw" / "all.csv", ROWS)
    r = rss_run(root, "--timeout", TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert manifest(root)["run"]["ran"] == ["00_prepare", "10_country_profile_GIN", "10_country_profile_SEN",
                                            "20_cross_country"]
    assert not list((reports / "notebooks").glob("FAILED_*"))
    assert (reports / "report.html").read_text().startswith("<!DOCTYPE html>")


def test_other_data_via_rss_data_drops_gone_countries_and_shows_the_banner(project, tmp_path):
    other = tmp_path / "elsewhere" / "synthetic"
    write_rows(other / "export.csv", [("S1", "SEN", 0.5, 0.5, ""), ("B1", "BFA", 0.7, 1.0, "")])
    (other / "truth.json").write_text("{}")
    r = rss_run(project, "--timeout", TIMEOUT, env={"RSS_DATA": str(other)})
    assert r.returncode == 0, r.stderr
    m = manifest(project)
    assert m["run"]["countries"] == ["BFA", "SEN"]
    assert m["jobs"]["00_prepare"]["params"]["data"] == str(other.resolve())
    html = (project / "reports" / "report.html").read_text()
    assert 'id="country-BFA"' in html and 'id="country-GIN"' not in html
    assert "SYNTHETIC DATA — figures are synthetic and are not IOM results" in html
    assert not list((project / "reports").rglob("*GIN*"))
    assert "truth.json" in html and "export.csv" in html  # the input files, with checksums, in the provenance


def test_unknown_parameter_is_refused_before_anything_runs(tmp_path):
    root = make_project(tmp_path / "proj")
    shutil.copy(FIXTURES / "bad_parameters.ipynb", root / "notebooks" / "20_cross_country.ipynb")
    r = rss_run(root)
    assert r.returncode == 2
    assert "refused" in r.stderr
    assert ("notebooks/20_cross_country.ipynb: unknown parameter 'processed': the runner passes it but the "
            "notebook's `parameters` cell declares only procesed") in r.stderr
    assert not list((root / "reports").rglob("*.ipynb"))
    assert not (root / "reports" / "report.html").exists()


# ------------------------------------------------------------------------------------------- units, in process


def test_notebook_hash_ignores_outputs_and_sees_sources(tmp_path):
    nb = json.loads((FIXTURES / "20_cross_country.ipynb").read_text())
    a = tmp_path / "a.ipynb"
    a.write_text(json.dumps(nb))
    h = runner.notebook_hash(a)
    nb["cells"][2]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "hello"}]
    nb["cells"][2]["execution_count"] = 7
    a.write_text(json.dumps(nb))
    assert runner.notebook_hash(a) == h
    nb["cells"][2]["source"] += "\n# changed"
    a.write_text(json.dumps(nb))
    assert runner.notebook_hash(a) != h


def test_country_hashes_change_only_for_the_edited_country_and_pooled_medians(tmp_path):
    import pandas as pd

    f = tmp_path / "scored.parquet"
    df = pd.DataFrame(ROWS, columns=["respondent_id", "country", "score_composite", "ind_a", "note"])
    df.to_parquet(f)
    a = runner.scored_fingerprint(f)
    df.loc[df["respondent_id"] == "R3", "score_composite"] = 0.95  # above the median: the median stays
    df.to_parquet(f)
    b = runner.scored_fingerprint(f)
    assert [c for c in a["countries"] if a["countries"][c] != b["countries"][c]] == ["SEN"]
    assert a["pooled"] == b["pooled"]
    df.loc[df["respondent_id"] == "R1", "score_composite"] = 0.99  # crosses the median: every profile changes
    df.to_parquet(f)
    assert runner.scored_fingerprint(f)["pooled"] != b["pooled"]


def test_country_codes_must_be_iso3(tmp_path):
    import pandas as pd

    f = tmp_path / "scored.parquet"
    pd.DataFrame({"country": ["SEN", "../x"]}).to_parquet(f)
    with pytest.raises(runner.RunError, match="expected ISO 3166-1 alpha-3"):
        runner.scored_fingerprint(f)


def test_the_scheduler_plans_with_the_longest_run_of_the_same_notebook_version():
    """A notebook quick once (its results read back from helpers.cache) is still started early next time."""
    nb = runner.Notebook("30_x", "once", ())
    parts = {"notebook": "n1", "helpers": "h1", "env": "e1", "scored": "s1"}
    job = runner.Job("30_x", nb, None, {}, parts)
    ok = runner.Result("ok", 1.5)
    prev = {"parts": {**parts, "scored": "s0"}, "duration": 5.7, "longest": 5.7}
    assert runner_executor._longest(prev, job, ok) == 5.7  # other data, same code: the long run is remembered
    assert runner_executor.expected_seconds({"duration": 1.5, "longest": 5.7}) == 5.7
    assert runner_executor._longest({**prev, "longest": 1.0}, job, runner.Result("ok", 2.5)) == 2.5
    assert runner_executor._longest(prev, job, runner.Result("failed", 9.0)) == 5.7  # a failure says nothing of its length
    for changed in ("notebook", "helpers", "env"):  # other code: forgotten
        assert runner_executor._longest({**prev, "parts": {**parts, changed: "x"}}, job, ok) == 1.5
    assert runner_executor._longest({}, job, ok) == 1.5
    assert runner_executor.expected_seconds({"duration": 3.0}) == 3.0 and runner_executor.expected_seconds({}) is None


def test_file_hasher_reuses_unchanged_entries(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("a\n")
    os.utime(f, ns=(10**18, 10**18))  # long ago: cacheable
    h = runner.FileHasher()
    sha = h(f)
    cache = h.used
    assert runner.FileHasher(cache)(f) == sha
    f.write_text("b\n")
    os.utime(f, ns=(10**18 + 1, 10**18 + 1))
    assert runner.FileHasher(cache)(f) != sha


def test_error_line_is_found_in_an_ipython_traceback():
    tb = ["\x1b[0;31mValueError\x1b[0m  Traceback", "Cell \x1b[0;32mIn[4], line 2\x1b[0m",
          "\x1b[1;32m      1\x1b[0m if x:", "\x1b[0;32m----> 2\x1b[0m     raise ValueError('boom')", "ValueError: boom"]
    assert runner_worker._error_line(tb) == "line 2: raise ValueError('boom')"


def test_progress_prints_plain_lines_off_a_terminal(tmp_path):
    import io

    buf = io.StringIO()
    p = runner.Progress(buf, tty=False)
    p.total = 2
    p.status(["a"], 3.0)  # nothing: no updating line off a terminal
    p.finished("10_country_profile_SEN", runner.Result("ok", 1.5), 3.0)
    assert buf.getvalue().startswith("[1/2] done    10_country_profile_SEN  1.5s  (elapsed 0:00, ETA 0:03)")
    assert "\r" not in buf.getvalue()
