"""The plan: jobs (a notebook with its parameters), their results, the project layout of sources
and executed copies, and whether a job is stale against the manifest.

Imports: helpers.provenance, helpers.runner.manifest, helpers.runner.registry, helpers.runner.worker only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..provenance import sha256_json
from .manifest import manifest_path
from .registry import Notebook
from .worker import cell_marker


@dataclass
class Job:
    id: str
    notebook: Notebook
    country: str | None
    params: dict[str, str]
    parts: dict[str, Any]
    needs: list[str] = field(default_factory=list)
    expected: float | None = None

    @property
    def key(self) -> str:
        return sha256_json(self.parts)


@dataclass
class Result:
    status: Literal["ok", "failed", "timeout", "interrupted"]
    duration: float
    error: dict[str, Any] | None = None
    output: Path | None = None
    kernel_start: float = 0.0  # seconds this notebook waited for a kernel to (re)start (0: a warm kernel)
    new_kernel: bool = False  # ran on a kernel no notebook ran on before


def relative(p: Path, root: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(root.resolve()))
    except ValueError:
        return str(p)


class Layout:
    """The paths the runner uses, all under one project root."""

    def __init__(self, root: Path):
        self.root = root
        self.notebooks = root / "notebooks"
        self.processed = root / "data" / "processed"
        self.scored = self.processed / "scored.parquet"
        self.reports = root / "reports"
        self.executed = self.reports / "notebooks"
        self.running = self.executed / ".running"
        self.logs = self.executed / ".logs"
        self.manifest = manifest_path(root)

    def source(self, nb: Notebook) -> Path:
        return self.notebooks / f"{nb.name}.ipynb"

    def output(self, job_id: str) -> Path:
        return self.executed / f"{job_id}.ipynb"

    def failed(self, job_id: str) -> Path:
        return self.executed / f"FAILED_{job_id}.ipynb"

    def running_files(self, job_id: str) -> tuple[Path, Path, Path]:
        """A running job's files: the notebook papermill writes, its cell marker, the worker's result."""
        notebook = self.running / f"{job_id}.ipynb"
        return notebook, cell_marker(notebook), self.running / f"{job_id}.result.json"


def is_stale(job: Job, man: dict[str, Any], lay: Layout) -> bool:
    entry = man["jobs"].get(job.id)
    return (entry is None or entry.get("key") != job.key or entry.get("status") != "ok"
            or not lay.output(job.id).is_file())
