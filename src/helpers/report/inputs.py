"""What the report says about its inputs: whether the data is synthetic and why, country names,
and the key that tells whether the report must be rebuilt.

Imports: helpers.paths, helpers.report.translate.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import paths
from .translate import N_


def _input_dir(manifest: dict[str, Any], root: Path) -> Path | None:
    src = manifest.get("inputs", {}).get("source")
    if src:
        p = Path(src)
    elif root.resolve() == paths.ROOT.resolve():
        try:
            p = paths.data_source()
        except paths.DataSourceError:
            return None
    else:
        p = root / "data" / "raw"
    return p if p.is_dir() else p.parent


def is_synthetic(numbers: dict[str, Any], manifest: dict[str, Any], root: Path) -> tuple[bool | None, str]:
    """Whether the data is synthetic, and how that is known.

    True when ``prepare.json`` says ``"synthetic": true`` or the input folder holds a
    ``truth.json`` (the synthetic generator writes the planted effects there); False
    when ``prepare.json`` says false and there is no ``truth.json``; None when nothing
    says.
    """
    flag = numbers.get("prepare", {}).get("synthetic") if isinstance(numbers.get("prepare"), dict) else None
    d = _input_dir(manifest, root)
    truth = bool(d and (d / "truth.json").is_file()) or any(
        Path(f.get("path", "")).name == "truth.json" for f in manifest.get("inputs", {}).get("files", []))
    if flag is True:
        return True, N_("prepare.json says the data is synthetic")
    if truth:
        return True, N_("the input folder holds truth.json (planted effects of the synthetic generator)")
    if flag is False:
        return False, N_("prepare.json says the data is not synthetic and the input has no truth.json")
    return None, N_("not determined (no prepare.json yet)")


def country_label(iso: str) -> str:
    try:
        import pycountry

        c = pycountry.countries.get(alpha_3=iso)
    except Exception:  # noqa: BLE001 -- a name is a nicety
        return ""
    return getattr(c, "common_name", None) or getattr(c, "name", "") if c else ""


def report_key(root: Path, manifest: dict[str, Any], hasher: Callable[[Path], str] | None = None) -> str:
    """Hash everything the report is built from (outputs, run state, the report package's code, column catalogue and
    message catalogues)."""
    hasher = hasher or (lambda p: hashlib.sha256(p.read_bytes()).hexdigest())
    reports = root / "reports"
    files = []
    for sub, pats in (("tables", ("*.csv",)), ("figures", ("*.png", "*.svg")), ("numbers", ("*.json",))):
        for pat in pats:
            files += [(f"{sub}/{p.name}", hasher(p)) for p in sorted((reports / sub).glob(pat))]
    run = manifest.get("run", {})
    jobs = {k: [v.get("key"), v.get("status")] for k, v in sorted(manifest.get("jobs", {}).items())}
    code = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for p in [*sorted(here.iterdir()), *sorted((here / "locale").rglob("*.po"))]:  # the catalogues: its texts
        if p.suffix in (".py", ".yml", ".po"):
            code.update(str(p.relative_to(here)).encode() + b"\0" + p.read_bytes() + b"\0")
    state = {"code": code.hexdigest(), "files": files, "jobs": jobs,
             "countries": run.get("countries"), "stale": run.get("stale"), "missing": run.get("missing_notebooks"),
             "inputs": {k: v for k, v in manifest.get("inputs", {}).items() if k != "source"}}
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()
