"""Provenance of a run: sha256 helpers, the hash of the helpers code the kernels import
(:func:`helpers_hash`), package versions and git state -- what the runner keys notebooks on, what the
memo cache and the kept kernels compare, and what the report's provenance section shows.

Imports: no other helpers module.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: Packages whose versions key every run and are listed in the report's provenance.
KEY_PACKAGES = ("numpy", "pandas", "pyarrow", "scipy", "statsmodels", "linearmodels", "matplotlib", "seaborn",
                "pyyaml", "pycountry", "highspy", "openpyxl", "papermill", "nbclient", "nbformat", "ipykernel", "jupytext")


#: Modules and packages of helpers that no notebook imports (by the first part of their path under
#: ``src/helpers``): editing them reruns nothing.
NOT_KERNEL_CODE = frozenset({"runner", "report", "cli", "bench", "checks", "verify", "lineage", "validate_mc",
                             "validate_lead"})


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_json(obj: Any) -> str:
    return _sha256_bytes(json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode())


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class FileHasher:
    """sha256 of files, cached by (size, mtime_ns) across runs like git's index.

    An entry is not cached while the file's mtime is within two seconds of now (a
    file rewritten within the same clock tick would otherwise keep a stale hash).
    """

    def __init__(self, cache: dict[str, dict[str, Any]] | None = None):
        self.old = dict(cache or {})
        self.used: dict[str, dict[str, Any]] = {}

    def __call__(self, path: Path) -> str:
        key = str(Path(path).resolve())
        st = os.stat(key)
        hit = self.old.get(key)
        if hit and hit.get("size") == st.st_size and hit.get("mtime_ns") == st.st_mtime_ns:
            self.used[key] = hit
            return hit["sha256"]
        sha = _sha256_file(Path(key))
        if time.time_ns() - st.st_mtime_ns > 2_000_000_000:
            self.used[key] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha}
        return sha


def helpers_hash(exclude: Iterable[str] = NOT_KERNEL_CODE) -> str:
    """Hash the helpers code the kernels import (every file under ``src/helpers`` but the modules in ``exclude``).

    With ``exclude=()``: the whole package, the runner's own code included (what a kept
    worker runs, :func:`helpers.pool.key`).  Reading and hashing it takes about 1 ms.
    """
    pkg = Path(__file__).resolve().parent
    exclude = frozenset(exclude)
    h = hashlib.sha256()
    for p in sorted(pkg.rglob("*")):
        rel = p.relative_to(pkg)
        if not p.is_file() or "__pycache__" in rel.parts or p.suffix == ".pyc" or rel.parts[0].removesuffix(".py") in exclude:
            continue
        h.update(str(rel).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def package_versions(names: Iterable[str] = KEY_PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (``"not installed"`` when absent), plus Python's."""
    from importlib import metadata

    out = {"python": sys.version.split()[0]}
    for n in names:
        try:
            out[n] = metadata.version(n)
        except metadata.PackageNotFoundError:
            out[n] = "not installed"
    return out


def git_state(root: Path) -> dict[str, Any]:
    """Commit and dirty flag of the checkout at ``root`` (``None`` when it is not one)."""
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain"], capture_output=True, text=True,
                                timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": bool(status.strip())}


