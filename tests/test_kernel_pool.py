"""The runner's kernel pool: a worker keeps one kernel and resets it between notebooks.

Reusing a kernel saves its start and the import of the scientific stack for every
notebook but the first of each worker; it must not change what a notebook computes or
shows.  Checked two ways: the reset, piece by piece, on a kernel a notebook has dirtied;
and a whole pipeline run (the fixture notebooks of ``tests/test_runner.py``) with kernels
reused and with a fresh kernel per notebook (``--fresh-kernels``), whose outputs and
executed notebooks must be identical.
"""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import pytest
from test_runner import TIMEOUT, make_project, manifest, rss_run

from helpers.runner import worker as runner_worker


def _outputs(kernel: runner_worker.PoolKernel, code: str) -> list[str]:
    """Run ``code`` as a notebook cell would (stored in history) and return its stdout and its count."""
    from jupyter_core.utils import run_sync

    out: list[str] = []

    def hook(msg):
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])

    reply = run_sync(kernel.kc.execute_interactive)(code, store_history=True, output_hook=hook, timeout=60)
    assert reply["content"]["status"] == "ok", reply["content"]
    return ["".join(out), reply["content"]["execution_count"]]


@pytest.fixture
def kernel(tmp_path):
    k = runner_worker.PoolKernel(str(tmp_path), fresh=False)
    k.start()
    yield k
    k.stop()


PROBE = """
import json as _j, os as _o, sys as _s, warnings as _w
import matplotlib as _m, matplotlib.pyplot as _p, numpy as _n
print(_j.dumps({"leak": "leak" in globals(), "env": _o.environ.get("RSS_POOL_LEAK"), "cwd": _o.getcwd(),
                "path": "/nowhere" in _s.path, "filters": len(_w.filters), "lw": _m.rcParams["lines.linewidth"],
                "figs": len(_p.get_fignums()), "err": _n.geterr()["divide"], "In": len(In),
                "scheme_loaded": "helpers.scheme" in _s.modules}))
"""

DIRTY = """
import os, sys, warnings
import matplotlib as mpl, matplotlib.pyplot as plt, numpy as np
import helpers.scheme
leak = 1
os.environ["RSS_POOL_LEAK"] = "1"
sys.path.append("/nowhere")
os.chdir("/")
warnings.simplefilter("ignore")
mpl.rcParams["lines.linewidth"] = 9.0
plt.figure()
np.seterr(all="raise")
"""


def test_reset_brings_a_dirtied_kernel_back_to_its_fresh_state_but_keeps_the_imports(kernel, tmp_path):
    kernel.prepare()
    fresh, count = _outputs(kernel, PROBE)
    assert count == 1
    fresh = json.loads(fresh)
    assert fresh["cwd"] == str(tmp_path) and not fresh["leak"] and not fresh["scheme_loaded"]

    _outputs(kernel, DIRTY)
    dirty = json.loads(_outputs(kernel, PROBE)[0])
    assert dirty["leak"] and dirty["env"] == "1" and dirty["cwd"] == "/" and dirty["path"]
    assert dirty["lw"] == 9.0 and dirty["err"] == "raise"  # (the inline backend closes pyplot figures itself)
    assert dirty["filters"] == fresh["filters"] + 1

    assert kernel.prepare() == 0.0  # reused, not restarted
    again, count = _outputs(kernel, PROBE)
    assert count == 1  # the execution counter starts again: executed notebooks number their cells from [1]
    again = json.loads(again)
    assert again["scheme_loaded"]  # what was imported stays imported: the point of the pool
    assert {**again, "scheme_loaded": False, "In": 0} == {**fresh, "In": 0}


def test_a_dead_kernel_is_replaced_before_the_next_notebook(kernel):
    os.kill(kernel.km.provisioner.process.pid, signal.SIGKILL)
    kernel.km.provisioner.process.wait()
    assert not kernel.alive()
    assert kernel.prepare() > 0  # restarted
    assert kernel.alive() and _outputs(kernel, "print(6 * 7)")[0] == "42\n"


def _normalised(root: Path) -> dict[str, object]:
    """Every output file's bytes, and the executed notebooks' cell outputs and counts (paths made relative)."""
    found: dict[str, object] = {}
    for p in sorted((root / "reports").rglob("*")):
        rel = p.relative_to(root).as_posix()
        if not p.is_file() or "/." in rel or rel.endswith((".html", ".xlsx")):
            continue
        if p.suffix == ".ipynb":
            nb = json.loads(p.read_text(encoding="utf-8"))
            cells = [(c.get("execution_count"), c.get("outputs")) for c in nb["cells"] if c["cell_type"] == "code"]
            found[rel] = re.sub(re.escape(str(root)), "ROOT", json.dumps(cells, sort_keys=True))
        else:
            found[rel] = p.read_bytes()
    return found


def test_reused_and_fresh_kernels_give_identical_outputs(tmp_path):
    pooled, fresh = make_project(tmp_path / "pooled"), make_project(tmp_path / "fresh")
    for root, args in ((pooled, ()), (fresh, ("--fresh-kernels",))):
        r = rss_run(root, "--timeout", TIMEOUT, *args)
        assert r.returncode == 0, r.stderr
    a, b = _normalised(pooled), _normalised(fresh)
    assert len(a) > 10 and a == b
    # the pool was used: 5 notebooks on 2 workers run on 2 kernels; fresh kernels: one per notebook
    starts = {name: sum(j["new_kernel"] for j in manifest(root)["jobs"].values())
              for name, root in (("pooled", pooled), ("fresh", fresh))}
    assert starts == {"pooled": 2, "fresh": 5}


def test_a_kernel_that_cannot_be_reset_is_replaced(kernel):
    kernel.prepare()
    _outputs(kernel, "import sys\ndel sys.modules['_rss_pool']\nleak = 1")  # a notebook that broke the pool's state
    assert kernel.prepare() > 0  # not reset: restarted
    out, count = _outputs(kernel, "print('leak' in globals())")
    assert out == "False\n" and count == 1
