"""The run manifest (``reports/.manifest.json``): where it lives and how it is read back.

Imports: helpers.paths only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .. import paths

MANIFEST_FORMAT = 1


def manifest_path(root: Path | None = None) -> Path:
    return (root or paths.ROOT) / "reports" / ".manifest.json"


def load_manifest(root: Path | None = None) -> dict[str, Any]:
    """Read ``reports/.manifest.json`` (an empty manifest when absent or unreadable)."""
    p = manifest_path(root)
    try:
        man = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"format": MANIFEST_FORMAT, "jobs": {}}
    if man.get("format") != MANIFEST_FORMAT:
        return {"format": MANIFEST_FORMAT, "jobs": {}}
    man.setdefault("jobs", {})
    return man
