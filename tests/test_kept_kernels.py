"""Kernels kept warm between runs (``RSS_KEEP_KERNELS``, :mod:`helpers.runner.pool`).

A run that ends leaves its workers, each with its kernel, waiting for the next run of
the same project; that run uses them instead of starting new ones, unless what they
were started with changed.  They end by themselves after the time set, when keeping is
turned off, on ``rss stop``, and never outlive an interrupted run.  The fixture
notebooks of ``tests/test_runner.py`` run in a temporary project, as there.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_faults import kernels
from test_runner import ROWS, TIMEOUT, built, manifest, rss_run, write_rows  # noqa: F401 (built)

from helpers.runner import pool

pytestmark = pytest.mark.skipif(not pool.supported(), reason="workers are kept on Linux only")

KEEP = {"RSS_KEEP_KERNELS": "120"}


@pytest.fixture
def project(built, tmp_path):  # noqa: F811 (the fixture imported above)
    root = Path(shutil.copytree(built, tmp_path / "proj", symlinks=True))
    yield root
    rss(root, "stop")  # whatever a test left running


def rss(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {**os.environ, "RSS_ROOT": str(root), **(env or {})}
    return subprocess.run([sys.executable, "-m", "helpers.cli", *args], cwd=root, env=e, capture_output=True,
                          text=True, timeout=120, check=False)


def gone(root: Path, within: float = 20.0) -> bool:
    deadline = time.monotonic() + within
    while kernels(root) and time.monotonic() < deadline:
        time.sleep(0.2)
    return kernels(root) == []


def waiting(root: Path, n: int = 2, within: float = 20.0) -> list[Path]:
    """The sockets of the kept workers, once ``n`` wait (a worker importing when its run ended binds it after)."""
    deadline = time.monotonic() + within
    while len(pool._sockets(root)) < n and time.monotonic() < deadline:
        time.sleep(0.1)
    return pool._sockets(root)


def new_kernels(root: Path) -> dict[str, bool]:
    return {jid: j["new_kernel"] for jid, j in manifest(root)["jobs"].items() if jid in manifest(root)["run"]["ran"]}


def test_the_next_run_uses_the_kept_kernels_and_rss_stop_ends_them(project):
    r = rss_run(project, "--force", "--timeout", TIMEOUT, env=KEEP)
    assert r.returncode == 0, r.stderr
    assert "rss run: 2 kernels kept warm for the next run for 2:00" in r.stderr
    assert len(pool._sockets(project)) == 2  # made by the runner before it ended: a run right after finds them
    kept = sorted(kernels(project))
    assert len(kept) == 2  # the runner has ended; its two kernels wait

    write_rows(project / "data" / "raw" / "all.csv", [*ROWS[:-1], ("R7", "MAR", 0.85, 1.0, "")])
    r = rss_run(project, "--timeout", TIMEOUT, env=KEEP)
    assert r.returncode == 0, r.stderr
    ran = new_kernels(project)
    assert set(ran) == {"00_prepare", "10_country_profile_MAR", "20_cross_country"}
    assert not any(ran.values()), ran  # no notebook started a kernel: each ran on a kept one
    assert all(manifest(project)["jobs"][j]["kernel_start"] == 0 for j in ran)
    assert sorted(kernels(project)) == kept
    # the kept workers wrote this run's log lines to this run's worker logs
    logs = sorted(p.name for p in (project / "reports" / "notebooks" / ".logs").glob("worker-*.log"))
    assert logs == ["worker-1.log", "worker-2.log"]

    r = rss(project, "stop")
    assert r.returncode == 0 and "rss stop: 2 kept kernels" in r.stdout, r.stdout + r.stderr
    assert gone(project) and pool._sockets(project) == []
    # and a run after that starts its own again
    r = rss_run(project, "--force", "--timeout", TIMEOUT, env=KEEP)
    assert r.returncode == 0, r.stderr
    assert new_kernels(project)["00_prepare"] is True


def test_kept_kernels_are_not_used_when_the_environment_changed(project):
    r = rss_run(project, "--force", "--timeout", TIMEOUT, env=KEEP)
    assert r.returncode == 0, r.stderr
    assert len(waiting(project)) == 2
    old = set(kernels(project))
    assert len(old) == 2
    # a variable a notebook could read: the kept kernels (started without it) are not used, and are stopped
    r = rss_run(project, "--force", "--timeout", TIMEOUT, env={**KEEP, "RSS_TEST_SETTING": "1"})
    assert r.returncode == 0, r.stderr
    assert new_kernels(project)["00_prepare"] is True
    deadline = time.monotonic() + 20
    while set(kernels(project)) & old and time.monotonic() < deadline:
        time.sleep(0.2)
    now = set(kernels(project))
    assert len(now) == 2 and not now & old


def test_kept_kernels_end_after_the_time_set_or_when_keeping_is_off(project):
    r = rss_run(project, "--force", "--timeout", TIMEOUT, env={"RSS_KEEP_KERNELS": "1"})
    assert r.returncode == 0, r.stderr
    assert "kept warm for the next run for 0:01" in r.stderr
    assert gone(project, within=15)
    assert pool._sockets(project) == []

    r = rss_run(project, "--force", "--timeout", TIMEOUT, env=KEEP)
    assert r.returncode == 0 and len(waiting(project)) == 2, r.stderr
    r = rss_run(project, "--force", "--timeout", TIMEOUT, env={"RSS_KEEP_KERNELS": "0"})
    assert r.returncode == 0, r.stderr
    assert "kept warm" not in r.stderr
    assert new_kernels(project)["00_prepare"] is True  # not used: keeping is off, and the kept ones are stopped
    assert gone(project)


def test_a_kept_worker_that_died_is_replaced(project):
    r = rss_run(project, "--force", "--timeout", TIMEOUT, env=KEEP)
    assert r.returncode == 0, r.stderr
    sockets = waiting(project)
    assert len(sockets) == 2
    pid = int(sockets[0].stem.rsplit("-", 1)[1])
    os.kill(pid, signal.SIGKILL)  # its socket file stays behind
    r = rss_run(project, "--force", "--timeout", TIMEOUT, env=KEEP)
    assert r.returncode == 0, r.stderr
    assert new_kernels(project)["00_prepare"] is False  # the live one was used, and a new one started beside it
    now = waiting(project)
    assert sockets[0] not in now and sockets[1] in now and len(now) == 2  # the dead one's file removed
    assert len(kernels(project)) == 2


def test_a_bad_keep_setting_is_refused_and_changes_nothing(project):
    before = manifest(project)
    r = rss_run(project, "--force", env={"RSS_KEEP_KERNELS": "ten minutes"})
    assert r.returncode == 2
    assert "RSS_KEEP_KERNELS='ten minutes': expected the seconds a run's kernels are kept" in r.stderr
    assert manifest(project) == before and kernels(project) == []


def test_the_key_ignores_what_differs_between_shells_and_nothing_else(tmp_path, monkeypatch):
    versions = {"numpy": "1"}
    k = pool.key(tmp_path, versions)
    monkeypatch.setenv("SHLVL", "7")
    monkeypatch.setenv("MAKEFLAGS", "-j2 --jobserver-auth=3,4")
    monkeypatch.setenv("RSS_KEEP_KERNELS", "5")
    assert pool.key(tmp_path, versions) == k
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert pool.key(tmp_path, versions) != k
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert pool.key(tmp_path, {"numpy": "2"}) != k
    assert pool.key(tmp_path / "other", versions) != k


@pytest.mark.parametrize("value, seconds", [("", pool.DEFAULT_KEEP), ("0", 0.0), ("90", 90.0), (" 2.5 ", 2.5)])
def test_keep_seconds(value, seconds):
    assert pool.keep_seconds({"RSS_KEEP_KERNELS": value}) == seconds


@pytest.mark.parametrize("value", ["-1", "inf", "nan", "10m"])
def test_keep_seconds_refuses(value):
    with pytest.raises(ValueError, match=f"RSS_KEEP_KERNELS={value!r}: expected"):
        pool.keep_seconds({"RSS_KEEP_KERNELS": value})
