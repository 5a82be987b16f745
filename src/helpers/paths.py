"""Every path of the workspace, built in one place from the project root.

Notebooks and the command line never build paths themselves: papermill runs a
notebook in the caller's folder and nbval in the notebook's, so relative paths
would point at different places.  The root is found once, from this file when
the package is installed editable from a checkout, else from ``RSS_ROOT`` or the
current folder.

Imports: no other helpers module.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "ROOT",
    "DATA",
    "RAW",
    "SYNTHETIC",
    "PROCESSED",
    "REPORTS",
    "TABLES",
    "FIGURES",
    "NUMBERS",
    "NOTEBOOKS",
    "SCHEMES",
    "DEFAULT_SCHEME",
    "data_source",
    "DataSourceError",
]


def _find_root() -> Path:
    env = os.environ.get("RSS_ROOT")
    if env:
        return Path(env).resolve()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "src" / "helpers").is_dir():
            return parent
    return Path.cwd().resolve()


ROOT: Path = _find_root()
DATA: Path = ROOT / "data"
RAW: Path = DATA / "raw"
SYNTHETIC: Path = RAW / "synthetic"
PROCESSED: Path = DATA / "processed"
REPORTS: Path = ROOT / "reports"
TABLES: Path = REPORTS / "tables"
FIGURES: Path = REPORTS / "figures"
NUMBERS: Path = REPORTS / "numbers"  # key numbers per section; the report merges them into numbers.json
NOTEBOOKS: Path = ROOT / "notebooks"
SCHEMES: Path = Path(__file__).resolve().parent / "schemes"
DEFAULT_SCHEME: Path = SCHEMES / "rss-default.yaml"


class DataSourceError(ValueError):
    """The configured input cannot be used as it is."""


def data_source() -> Path:
    """Return the input the pipeline reads.

    ``RSS_DATA`` when set (a file or folder); else ``data/raw``, or
    ``data/raw/synthetic`` when that generated dataset is all ``data/raw`` holds.
    Real files and the synthetic folder never mix: when ``data/raw`` holds both,
    this raises :class:`DataSourceError` naming what to do.
    """
    env = os.environ.get("RSS_DATA")
    if env:
        return Path(env).expanduser().resolve()
    if not RAW.is_dir():
        return RAW
    others = sorted(p.name for p in RAW.iterdir() if not p.name.startswith(".") and p.name != SYNTHETIC.name)
    if SYNTHETIC.is_dir() and others:
        raise DataSourceError(
            f"{RAW} holds real data ({', '.join(others[:3])}{', ...' if len(others) > 3 else ''}) and the synthetic "
            f"dataset {SYNTHETIC.name}/: remove {SYNTHETIC} or set RSS_DATA, so the two never mix"
        )
    return SYNTHETIC if SYNTHETIC.is_dir() else RAW
