"""JupyterLab on a real server gives the numbers of the batch run, and leaves no process behind.

``jupyter lab --no-browser`` from the project's ``.venv`` serves the notebooks of a copy
of ``full_project`` (a project built by ``rss run``) on a free loopback port with a
random token.  Through its REST API (``/api/contents``, ``/api/kernelspecs``,
``/api/kernels``) and the kernel WebSocket API (``/api/kernels/<id>/channels``) the test
lists ``notebooks/``, starts the project kernel "RSS workspace (.venv)" once per notebook,
executes every cell of ``10_country_profile.ipynb`` for one country (its parameters
injected as papermill injects them) and of ``30_mentoring.ipynb``, as someone working
in JupyterLab would, and compares what they wrote (``reports/numbers/<section>.json``)
and printed (the cell tagged ``nbval-check-output``) with the batch run.  The copy's
result cache is emptied first, so the mentoring estimates are computed again, not
read back.  Then ``POST /api/shutdown``: the server and its kernels must be gone.

Nothing outside temporary folders is touched: the server's Jupyter config, data and
runtime folders and IPython's are temporary, and the kernelspec ``make lab`` installs
(``ipykernel install --sys-prefix --name rss-workspace``) is installed into a temporary
prefix on ``JUPYTER_PATH`` when ``.venv`` does not have it yet.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import nbformat
import psutil
import pytest
import websocket
from full_project import full_project  # noqa: F401 (the session fixture)
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from helpers import nbcheck

KERNEL = "rss-workspace"
KERNEL_DISPLAY = "RSS workspace (.venv)"
COUNTRY = "GIN"  # a fieldwork country (its profile has the mentored comparison), not the default SEN
#: notebook -> (the parameters the runner passes, as in the batch run; the numbers file it writes)
RUNS = {
    "10_country_profile": ({"country": COUNTRY, "processed": ""}, f"country_{COUNTRY}"),
    "30_mentoring": ({"processed": ""}, "mentoring"),
}
#: batch copy of each notebook under reports/notebooks/
EXECUTED = {"10_country_profile": f"10_country_profile_{COUNTRY}.ipynb", "30_mentoring": "30_mentoring.ipynb"}
WAIT = 300  # seconds: a guard against a hang (the server's start, one cell), never a measured time


class Lab:
    """A running ``jupyter lab`` server: its process, base URL and token."""

    def __init__(self, proc: subprocess.Popen, url: str, token: str):
        self.proc, self.url, self.token = proc, url.rstrip("/"), token

    def api(self, method: str, path: str, body: dict | None = None) -> tuple[int, object]:
        req = urllib.request.Request(self.url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")


def server_env(tmp: Path, project: Path, token: str) -> dict[str, str]:
    """The server's environment: the copy as project root, every Jupyter/IPython folder temporary."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("RSS_DATA", "RSS_DISCLOSURE_THRESHOLD", "JUPYTER_PATH", "JUPYTER_PREFER_ENV_PATH")
           and not k.startswith(("JPY_", "JUPYTERLAB_"))}
    dirs = {"JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data", "JUPYTER_RUNTIME_DIR": "runtime",
            "IPYTHONDIR": "ipython", "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
            "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces"}
    for var, name in dirs.items():
        (tmp / name).mkdir(parents=True, exist_ok=True)
        env[var] = str(tmp / name)
    env.update(RSS_ROOT=str(project), JUPYTER_TOKEN=token, PYTHONUNBUFFERED="1")
    return env


def ensure_kernelspec(env: dict[str, str], prefix: Path) -> str:
    """Register the project kernel where the server will look, if it is not there; say where it came from."""
    find = [sys.executable, "-c", "import json; from jupyter_client.kernelspec import KernelSpecManager as K; "
            "print(json.dumps(K().find_kernel_specs()))"]
    found = json.loads(subprocess.run(find, env=env, capture_output=True, text=True, check=True).stdout)
    if KERNEL in found:
        return f"found {found[KERNEL]}"
    subprocess.run([sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix), "--name", KERNEL,
                    "--display-name", KERNEL_DISPLAY], env=env, capture_output=True, text=True, check=True)
    env["JUPYTER_PATH"] = str(prefix / "share" / "jupyter")
    found = json.loads(subprocess.run(find, env=env, capture_output=True, text=True, check=True).stdout)
    assert KERNEL in found, found
    return f"installed into {found[KERNEL]}"


def start_lab(env: dict[str, str], root_dir: Path, log: Path) -> Lab:
    """``jupyter lab --no-browser`` on 127.0.0.1, a port the system picks; wait until its API answers."""
    jupyter = Path(sys.executable).with_name("jupyter")
    cmd = [str(jupyter), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", "--ServerApp.port=0",
           "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root_dir}"]
    if os.geteuid() == 0:  # CI runs as root
        cmd.append("--allow-root")
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    info = Path(env["JUPYTER_RUNTIME_DIR"]) / f"jpserver-{proc.pid}.json"
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{log.read_text()}")
        if info.is_file():
            try:
                url = json.loads(info.read_text())["url"]
            except (ValueError, KeyError):
                url = None  # being written
            if url:
                lab = Lab(proc, url, env["JUPYTER_TOKEN"])
                try:
                    if lab.api("GET", "/api/status")[0] == 200:
                        return lab
                except OSError:
                    pass
        time.sleep(0.2)
    proc.kill()
    pytest.fail(f"jupyter lab did not answer within {WAIT} s:\n{log.read_text()}")


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def execute(ws: websocket.WebSocket, code: str, where: str) -> dict:
    """Run ``code`` in the kernel behind ``ws``; return its stdout and outputs (fail on an error)."""
    msg_id = uuid.uuid4().hex
    ws.send(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test", "session": uuid.uuid4().hex,
                   "date": "", "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True}}))
    stdout, outputs, reply, idle = [], [], None, False
    while reply is None or not idle:
        msg = json.loads(ws.recv())
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "execute_reply":
            reply = content
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
        elif kind == "stream" and content["name"] == "stdout":
            stdout.append(content["text"])
        elif kind in ("execute_result", "display_data"):
            outputs.append(content["data"])
        elif kind == "error":
            pytest.fail(f"{where}: {content['ename']}: {content['evalue']}\n"
                        + _ANSI.sub("", "\n".join(content["traceback"])))
    assert reply["status"] == "ok", f"{where}: {reply}"
    return {"stdout": "".join(stdout), "outputs": outputs}


def check_cell_text(nb) -> str:
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and nbcheck.CHECK_TAG in c.metadata.get("tags", [])]
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")


def injected_source(nb) -> str:
    (cell,) = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    return cell.source


def differences(batch: dict, lab: dict) -> list[str]:
    """Keys whose values differ (floats: by more than the 1e-6 to which numbers files are rounded)."""

    def same(a, b) -> bool:
        if isinstance(a, bool) or isinstance(b, bool):
            return a is b
        if isinstance(a, float) or isinstance(b, float):
            return (isinstance(a, (int, float)) and isinstance(b, (int, float))
                    and math.isclose(a, b, rel_tol=0, abs_tol=1e-6))
        if isinstance(a, dict) and isinstance(b, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list) and isinstance(b, list):
            return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
        return a == b

    return [f"{k}: batch {batch.get(k, '(absent)')!r}, JupyterLab {lab.get(k, '(absent)')!r}"
            for k in sorted(batch.keys() | lab.keys()) if k not in batch or k not in lab or not same(batch[k], lab[k])]


def test_jupyterlab_executes_the_notebooks_as_the_batch_run_and_shuts_down_whole(full_project, tmp_path):  # noqa: F811
    batch_reports = full_project / "reports"
    project = tmp_path / "proj"
    shutil.copytree(full_project, project, symlinks=True)
    shutil.rmtree(project / "data" / "processed" / ".cache", ignore_errors=True)  # estimate again, not read back
    numbers = project / "reports" / "numbers"
    for _, section in RUNS.values():
        (numbers / f"{section}.json").unlink()
    untouched = {p.name: p.stat().st_mtime_ns for p in numbers.glob("*.json")}

    token = secrets.token_hex(24)
    env = server_env(tmp_path / "jupyter", project, token)
    where_kernel = ensure_kernelspec(env, tmp_path / "kernel-prefix")
    lab = start_lab(env, project / "notebooks", tmp_path / "jupyter-lab.log")
    kernel_pids: list[int] = []
    descendants: list[psutil.Process] = []
    report: list[str] = [f"kernelspec {KERNEL}: {where_kernel}", f"server {lab.url} (pid {lab.proc.pid})"]
    try:
        # notebooks/ as JupyterLab's file browser lists it
        status, listing = lab.api("GET", "/api/contents/")
        assert status == 200, listing
        assert {c["name"] for c in listing["content"]} == {p.name for p in (project / "notebooks").iterdir()}
        listed = {c["name"] for c in listing["content"] if c["type"] == "notebook"}  # jupytext: the .py too
        assert {p.name for p in (project / "notebooks").glob("*.ipynb")} <= listed
        assert {"10_country_profile.ipynb", "30_mentoring.ipynb"} <= listed

        # the project kernel, as `make lab` registers it: the .venv's Python
        status, specs = lab.api("GET", "/api/kernelspecs")
        assert status == 200, specs
        spec = specs["kernelspecs"][KERNEL]["spec"]
        assert spec["display_name"] == KERNEL_DISPLAY and spec["argv"][0] == sys.executable, spec

        for name, (params, section) in RUNS.items():
            status, model = lab.api("GET", f"/api/contents/{name}.ipynb?content=1")
            assert status == 200 and model["type"] == "notebook", model
            # what papermill does with a notebook: load it (papermill's own loader), inject the parameters
            fetched = tmp_path / f"{name}.fetched.ipynb"
            fetched.write_text(json.dumps(model["content"]))
            nb = parameterize_notebook(load_notebook_node(str(fetched)), params)
            batch_nb = nbformat.read(batch_reports / "notebooks" / EXECUTED[name], as_version=4)
            assert injected_source(nb) == injected_source(batch_nb)  # the parameters of the batch run

            status, kernel = lab.api("POST", "/api/kernels", {"name": KERNEL, "path": f"{name}.ipynb"})
            assert status == 201, kernel
            ws_url = lab.url.replace("http://", "ws://", 1) + f"/api/kernels/{kernel['id']}/channels"
            ws = websocket.create_connection(f"{ws_url}?session_id={uuid.uuid4().hex}", timeout=WAIT,
                                             header=[f"Authorization: token {lab.token}"])
            try:
                probe = json.loads(execute(ws, "print(__import__('json').dumps({'pid': __import__('os').getpid(), "
                                           "'python': __import__('sys').executable, 'cwd': __import__('os').getcwd(), "
                                           "'root': str(__import__('helpers.paths').paths.ROOT)}))",
                                           f"{name}: probe")["stdout"])
                # the kernel is the .venv's Python, in notebooks/ as JupyterLab starts it, writing into the copy
                assert probe["python"] == sys.executable
                assert Path(probe["cwd"]) == (project / "notebooks").resolve()
                assert Path(probe["root"]) == project.resolve()
                kernel_pids.append(probe["pid"])
                printed = ""
                for k, cell in enumerate(nb.cells):
                    if cell.cell_type == "code":
                        out = execute(ws, cell.source, f"{name} cell {k}")
                        if nbcheck.CHECK_TAG in cell.metadata.get("tags", []):
                            printed = out["stdout"]
            finally:
                ws.close()

            # what it printed and wrote is what the batch run printed and wrote
            assert printed and printed == check_cell_text(batch_nb), (printed, check_cell_text(batch_nb))
            batch = json.loads((batch_reports / "numbers" / f"{section}.json").read_text())
            mine = json.loads((numbers / f"{section}.json").read_text())
            assert differences(batch, mine) == []
            exact = sum(batch[k] == mine[k] for k in batch)
            report.append(f"{name} ({', '.join(f'{k}={v!r}' for k, v in params.items())}): the {len(batch)} "
                          f"entries of reports/numbers/{section}.json agree ({exact} exactly); the key-number cell "
                          "printed the same lines:")
            report += [f"    {line}" for line in printed.splitlines()]
        # the default country (SEN) and the other sections were not written again
        assert {p.name: p.stat().st_mtime_ns for p in numbers.glob("*.json") if p.name in untouched} == untouched

        # every process the server started, before it is shut down
        descendants = psutil.Process(lab.proc.pid).children(recursive=True)
        assert set(kernel_pids) <= {p.pid for p in descendants}, (kernel_pids, descendants)
        status, _ = lab.api("POST", "/api/shutdown")
        assert status == 200
        assert lab.proc.wait(timeout=WAIT) == 0
    finally:
        if not descendants and lab.proc.poll() is None:  # failed before the snapshot above
            descendants = psutil.Process(lab.proc.pid).children(recursive=True)
        if lab.proc.poll() is None:  # shutdown did not end it: terminate, then kill (and fail below)
            os.killpg(lab.proc.pid, signal.SIGTERM)
            try:
                lab.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(lab.proc.pid, signal.SIGKILL)
                lab.proc.wait()
        gone, alive = psutil.wait_procs(descendants, timeout=30)
        for p in alive:
            p.kill()

    assert alive == [], f"left running after the server's shutdown: {alive}"
    assert len(gone) == len(descendants) >= len(RUNS)
    # nor any other process of this server (they all carry its runtime folder in their environment)
    marker = env["JUPYTER_RUNTIME_DIR"]
    strays = []
    for p in psutil.process_iter(["pid", "name"]):
        try:
            if p.environ().get("JUPYTER_RUNTIME_DIR") == marker:
                strays.append(p)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            pass
    assert strays == []
    assert sorted(p.name for p in Path(marker).iterdir() if p.suffix == ".json") == []  # server and kernel files
    report.append(f"shut down: server exited 0; {len(descendants)} processes it started "
                  f"(kernels {kernel_pids}) all gone")
    print("\n".join(report))


def test_the_comparison_of_numbers_files_sees_a_changed_number():
    batch = {"n": 12, "mean": 0.478985, "ci": [0.1, 0.2], "flag": True, "text": "GIN", "none": None}
    assert differences(batch, dict(batch)) == []
    assert differences(batch, {**batch, "mean": 0.4789855}) == []  # within the rounding of the files
    for key, value in [("n", 13), ("mean", 0.478987), ("ci", [0.1, 0.21]), ("flag", 1), ("text", "SEN"),
                       ("none", 0.0)]:
        assert [d.split(":")[0] for d in differences(batch, {**batch, key: value})] == [key]
    assert differences(batch, {k: v for k, v in batch.items() if k != "n"}) == ["n: batch 12, JupyterLab '(absent)'"]
