"""Faults of ``rss run``: a notebook that raises, hangs, or whose kernel is killed; a run interrupted.

Each leaves every other output complete, the previous report intact, a summary
naming what failed and where, a non-zero exit, no half-written file and no kernel
still running; an interrupted run is resumed by the next one, which runs only what
did not finish.  The fixture notebooks (``tests/fixtures/README.md``) run in a
temporary project (``RSS_ROOT``), as in ``tests/test_runner.py``, whose session
build this module shares.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_runner import FAIL_TIMEOUT, ROWS, TIMEOUT, built, manifest, rss_run, write_rows  # noqa: F401 (built)

from helpers import io, runner
from helpers.runner import executor as runner_executor


@pytest.fixture
def project(built, tmp_path) -> Path:  # noqa: F811 (the fixture imported above)
    return Path(shutil.copytree(built, tmp_path / "proj", symlinks=True))


def assert_whole(root: Path) -> None:
    """No temporary file left, and every output file parses."""
    assert io.temporaries([root]) == []
    for p in sorted((root / "reports").rglob("*")):
        if not p.is_file() or p.name == ".run.lock" or p.suffix == ".log":
            continue
        if p.suffix in (".json", ".ipynb"):
            json.loads(p.read_text(encoding="utf-8"))
        elif p.suffix == ".csv":
            rows = list(csv.reader(p.open(newline="", encoding="utf-8")))
            assert rows and all(len(r) == len(rows[0]) for r in rows), p
        elif p.suffix == ".png":
            assert p.read_bytes().startswith(b"\x89PNG"), p


def kernels(root: Path) -> list[int]:
    """Live processes started for this project (kernels and workers), by their RSS_ROOT."""
    import psutil

    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        try:
            if "ipykernel" in " ".join(proc.info["cmdline"] or []) and \
                    proc.environ().get("RSS_ROOT") == str(root):
                found.append(proc.info["pid"])
        except (psutil.Error, OSError):
            continue
    return found


def previous_report(root: Path) -> dict[str, bytes]:
    return {n: (root / "reports" / n).read_bytes() for n in ("report.html", "tables.xlsx", "numbers.json")}


def test_raise_hang_and_dead_kernel_each_leave_the_rest_whole(project):
    report = previous_report(project)
    notes = {"R2": "boom", "R4": "sleep", "R6": "kill"}  # SEN raises, GIN hangs, MAR's kernel is killed
    write_rows(project / "data" / "raw" / "all.csv",
               [(*r[:4], notes.get(r[0], "")) for r in ROWS] + [("R8", "BFA", 0.7, 1.0, "")])
    t0 = time.monotonic()
    r = rss_run(project, "--timeout", FAIL_TIMEOUT)
    assert r.returncode == 1, r.stderr
    jobs = manifest(project)["jobs"]
    assert {k: v["status"] for k, v in jobs.items()} == {
        "00_prepare": "ok", "10_country_profile_BFA": "ok", "10_country_profile_GIN": "timeout",
        "10_country_profile_MAR": "failed", "10_country_profile_SEN": "failed", "20_cross_country": "ok"}
    # the dead kernel is noticed at once, not when the timeout strikes
    assert jobs["10_country_profile_MAR"]["duration"] < float(FAIL_TIMEOUT)
    # a clear summary: what failed, how, where
    err = r.stderr
    assert "3 of 6 notebooks failed" in err and "reports/report.html was NOT rebuilt" in err
    assert "10_country_profile_MAR: DeadKernelError: the kernel died while running the notebook" in err
    assert "at cell 7, the cell starting 'if \"kill\" in notes:" in err
    assert "10_country_profile_SEN: ValueError: planted failure for SEN" in err
    assert f"10_country_profile_GIN: Timeout: still running after {FAIL_TIMEOUT} s" in err
    # the cell it hung in, although the notebook was last saved before it (the worker's cell marker tells)
    assert "at cell 6, the cell starting 'if \"sleep\" in notes:'" in err
    # every other output complete: the new country and the cross-country notebook that reads it
    out = project / "reports"
    assert (out / "notebooks" / "10_country_profile_BFA.ipynb").is_file()
    assert (out / "tables" / "country_BFA_summary.csv").is_file() and (out / "numbers" / "country_BFA.json").is_file()
    assert "BFA," in (out / "tables" / "cross_country_means.csv").read_text()
    for c in ("SEN", "GIN", "MAR"):
        assert json.loads((out / "notebooks" / f"FAILED_10_country_profile_{c}.ipynb").read_text())["cells"]
    # the previous report untouched, nothing half-written, no kernel left behind
    assert previous_report(project) == report
    assert_whole(project)
    assert kernels(project) == []
    assert time.monotonic() - t0 < 60


def test_interrupted_run_leaves_no_half_written_file_and_the_next_run_resumes(project):
    report = previous_report(project)
    (project / "SLOW_SEN").touch()  # SEN's notebook rewrites a table in a loop until stopped
    env = {k: v for k, v in os.environ.items() if k not in ("RSS_DATA", "RSS_DISCLOSURE_THRESHOLD")}
    env["RSS_ROOT"] = str(project)
    env["RSS_KEEP_KERNELS"] = "60"  # kernels are kept after a run that ends, never after an interrupted one
    t0 = time.time_ns()
    proc = subprocess.Popen([sys.executable, "-m", "helpers.cli", "run", "--jobs", "2", "--timeout", TIMEOUT,
                             "--force"], cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    others = [project / "reports" / "notebooks" / f"{n}.ipynb"
              for n in ("10_country_profile_GIN", "10_country_profile_MAR", "20_cross_country")]
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            if (project / "SLOW_SEN.started").exists() and all(p.stat().st_mtime_ns > t0 for p in others):
                break
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.5)  # SEN is mid-write now and then
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "rss run: interrupted; the notebooks that finished kept their outputs" in err
    jobs = manifest(project)["jobs"]
    assert jobs["10_country_profile_SEN"]["status"] == "interrupted"
    assert {jobs[n]["status"] for n in ("10_country_profile_GIN", "10_country_profile_MAR", "20_cross_country")} \
        == {"ok"}
    assert_whole(project)  # the loop's temporary file is gone; the table it replaced is whole
    assert kernels(project) == []
    assert previous_report(project) == report
    # the next run finishes only what did not
    (project / "SLOW_SEN").unlink()
    r = rss_run(project, "--timeout", TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert manifest(project)["run"]["ran"] == ["10_country_profile_SEN"]
    assert "report rebuilt" in r.stderr


def test_temporaries_of_a_run_killed_outright_are_swept_by_the_next(project):
    stale = [project / "reports" / "tables" / ".country_SEN_summary.csv.k2j3h4.tmp",
             project / "data" / "processed" / ".scored.parquet.a1b2c3.tmp"]
    for p in stale:
        p.write_text("half")
    r = rss_run(project, "--timeout", TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert not any(p.exists() for p in stale)


# ------------------------------------------------------------------------------------------- units, in process


def test_a_dead_kernel_is_placed_at_the_last_cell_papermill_started(tmp_path):
    meta = [{"status": "completed", "start_time": "t"}, {"status": "completed", "start_time": "t"},
            {"status": "completed", "start_time": None}]
    nb = {"cells": [{"cell_type": "code", "source": f"step_{i}()\n", "metadata": {"papermill": m}}
                    for i, m in enumerate(meta)]}
    p = tmp_path / "x.ipynb"
    p.write_text(json.dumps(nb))
    assert runner_executor._running_cell(p) == {"cell": 1, "line": "the cell starting 'step_1()'"}
    p.write_text('{"cells": [')  # cut short while being saved
    assert runner_executor._running_cell(p) == {} and not runner_executor._readable_json(p)


@pytest.mark.parametrize("jobs, timeout, message", [
    (0, 10.0, "--jobs must be a whole number"), (2, 0.0, "--timeout must be a number of seconds > 0"),
    (2, float("nan"), "--timeout must be"),
], ids=["jobs-0", "timeout-0", "timeout-nan"])
def test_run_refuses_unusable_jobs_and_timeouts(jobs, timeout, message):
    with pytest.raises(runner.RunError, match=message):
        runner.run(jobs=jobs, timeout=timeout)
