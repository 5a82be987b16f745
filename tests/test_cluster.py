"""``rss run --cluster local``: the notebook batch as tasks of a dask.distributed LocalCluster of 2 workers.

The fixture project and notebooks are those of ``tests/test_runner.py``
(``tests/fixtures/README.md``).  The local run and the cluster run must publish the same
bytes; a worker killed mid-notebook, a notebook that raises and one that hangs past the
timeout each fail alone, named, while the others complete.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import published_outputs
from test_runner import FAIL_TIMEOUT, ROWS, TIMEOUT, make_project, manifest, rss_run

from helpers.runner import cluster

pytest.importorskip("distributed")


def outputs(root: Path) -> dict[str, str]:
    """sha256 of the published outputs, by path inside the project: tables, figures, numbers, scored data.

    Left out: what records when it was made (the report's build time, the executed notebooks' timestamps).
    """
    out = {str(Path(k).relative_to(root)): v for k, v in published_outputs(root).items()}
    return {k: v for k, v in out.items() if not k.startswith("reports/notebooks/")
            and not k.endswith(("report.html", "tables.xlsx", "lineage.csv"))}


def test_a_local_cluster_of_two_workers_publishes_the_same_bytes_as_the_local_pool(tmp_path):
    local = make_project(tmp_path / "local")
    on_cluster = make_project(tmp_path / "cluster")
    r = rss_run(local, "--timeout", TIMEOUT)
    assert r.returncode == 0, r.stderr
    r = rss_run(on_cluster, "--timeout", TIMEOUT, "--cluster", "local")
    assert r.returncode == 0, r.stderr
    assert "on Dask cluster local (2 at once)" in r.stderr
    mine, theirs = outputs(local), outputs(on_cluster)
    assert any(k.startswith("reports/tables/country_") for k in mine)
    assert mine == theirs
    # every notebook ran as a task on a worker of the cluster, not in this process
    m = manifest(on_cluster)
    assert {v["status"] for v in m["jobs"].values()} == {"ok"} and len(m["jobs"]) == 5
    log = (on_cluster / "reports" / "notebooks" / ".logs" / "10_country_profile_SEN.log").read_text()
    assert "ran on the Dask worker tcp://127.0.0.1:" in log
    # the same plan: a second run finds nothing to do
    r = rss_run(on_cluster, "--timeout", TIMEOUT, "--cluster", "local")
    assert r.returncode == 0, r.stderr
    assert manifest(on_cluster)["run"]["ran"] == []


def test_a_killed_worker_a_failure_and_a_timeout_fail_alone_and_are_named(tmp_path):
    # SEN raises, MAR sleeps past the timeout, GIN loops until its worker is killed
    notes = {"R2": "boom", "R6": "sleep"}
    root = make_project(tmp_path / "proj", [(*r[:4], notes.get(r[0], "")) for r in ROWS])
    (root / "SLOW_GIN").touch()
    e = {k: v for k, v in os.environ.items() if k not in ("RSS_DATA", "RSS_DISCLOSURE_THRESHOLD")}
    e["RSS_ROOT"] = str(root)
    proc = subprocess.Popen([sys.executable, "-m", "helpers.cli", "run", "--jobs", "2", "--timeout", FAIL_TIMEOUT,
                             "--cluster", "local"], cwd=root, env=e, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    attempt = root / "reports" / "notebooks" / ".running" / "10_country_profile_GIN.attempt"
    deadline = time.monotonic() + 120
    while not (root / "SLOW_GIN.started").exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert (root / "SLOW_GIN.started").exists(), proc.communicate()[1]
    worker = json.loads(attempt.read_text())
    os.kill(worker["pid"], signal.SIGKILL)  # the Dask worker process running GIN's notebook
    (root / "SLOW_GIN").unlink()
    _out, err = proc.communicate(timeout=180)
    assert proc.returncode == 1, err
    status = {k: v["status"] for k, v in manifest(root)["jobs"].items()}
    assert status == {"00_prepare": "ok", "10_country_profile_GIN": "failed", "10_country_profile_MAR": "timeout",
                      "10_country_profile_SEN": "failed", "20_cross_country": "ok"}
    assert f"10_country_profile_GIN: WorkerDied: the Dask worker running it ({worker['worker']}) ended" in err
    assert "10_country_profile_SEN: ValueError: planted failure for SEN" in err
    assert f"10_country_profile_MAR: Timeout: still running after {FAIL_TIMEOUT} s" in err
    assert "'if \"sleep\" in notes:'" in err
    # the others are complete; the killed one published nothing and is not counted as done
    tables = root / "reports" / "tables"
    assert (tables / "cross_country_means.csv").is_file()
    assert not (tables / "country_GIN_summary.csv").exists()
    assert not (root / "reports" / "notebooks" / "10_country_profile_GIN.ipynb").exists()
    assert not (root / "reports" / "report.html").exists()


def test_an_unreachable_scheduler_and_a_worker_that_does_not_see_the_project_are_refused(tmp_path, monkeypatch):
    from helpers.provenance import helpers_hash
    from helpers.runner.registry import RunError

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 2.0)
    ex = cluster.ClusterExecutor.__new__(cluster.ClusterExecutor)
    ex.address, ex.requested = "tcp://127.0.0.1:9", None
    with pytest.raises(RunError, match=r"--cluster tcp://127.0.0.1:9: cannot reach the Dask scheduler"):
        ex._connect()
    # what each worker is asked before the batch: another folder at that path, or other helpers, is seen
    token = tmp_path / "probe"
    token.write_text("abc")
    assert cluster.probe(str(token), "abc")["sees_project"]
    assert not cluster.probe(str(token), "abd")["sees_project"]
    assert not cluster.probe(str(tmp_path / "elsewhere"), "abc")["sees_project"]
    assert cluster.probe(str(token), "abc")["helpers"] == helpers_hash()


def test_the_cluster_comes_from_the_option_else_rss_cluster_and_tasks_get_the_run_settings(tmp_path):
    assert cluster.cluster_address(None, {}) is None
    assert cluster.cluster_address(None, {"RSS_CLUSTER": " tcp://h:8786 "}) == "tcp://h:8786"
    assert cluster.cluster_address("local", {"RSS_CLUSTER": "tcp://h:8786"}) == "local"
    env = cluster.task_env(tmp_path, {"RSS_DATA": "/d", "RSS_CLUSTER": "x", "HOME": "/root",
                                      "RSS_DISCLOSURE_THRESHOLD": "5"})
    assert env == {"RSS_DATA": "/d", "RSS_DISCLOSURE_THRESHOLD": "5", "RSS_ROOT": str(tmp_path),
                   "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
