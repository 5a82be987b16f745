"""Regression checks of the notebooks with nbval: key-number cells and baselines.

nbval re-executes every notebook in ``notebooks/`` (``make test``) and compares, in
lax mode, only the cells tagged ``nbval-check-output``: each notebook has one such
cell that prints its key numbers, rounded, through :func:`key_numbers`.  The
committed ``.ipynb`` files are the baselines, executed with their default
parameters on a small synthetic dataset (:data:`NBVAL_ROOT`):

    python -m helpers.nbcheck data        # the small dataset nbval and the baselines use
    python -m helpers.nbcheck baseline    # re-execute notebooks/*.ipynb in place (make baseline)

Imports: helpers.io, helpers.loader, helpers.paths, helpers.scoring, helpers.synthetic.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from . import paths

__all__ = ["key_numbers", "NBVAL_ROOT", "NBVAL_SEED", "NBVAL_SCALE", "CHECK_TAG", "prepare_data", "baseline"]

#: Project root (``RSS_ROOT``) under which nbval and the baselines run the notebooks.
NBVAL_ROOT: Path = paths.ROOT / ".nbval"
NBVAL_SEED = 7
NBVAL_SCALE = 0.03
CHECK_TAG = "nbval-check-output"


def key_numbers(mapping: Mapping[str, Any], keys: Iterable[str], *, digits: int = 3) -> str:
    """Format key numbers one per line, floats rounded, for a strictly compared nbval cell.

    Examples
    --------
    >>> print(key_numbers({"n": 12, "mean": 0.123456, "ci": [0.1, 0.14999], "x": None}, ["n", "mean", "ci", "x", "y"]))
    n: 12
    mean: 0.123
    ci: [0.1, 0.15]
    x: None
    y: (absent)
    """

    def fmt(v: Any) -> str:
        if isinstance(v, bool) or v is None or isinstance(v, (int, str)):
            return str(v)
        if isinstance(v, float):
            return "nan" if math.isnan(v) else repr(round(v, digits) + 0.0)  # + 0.0: no "-0.0"
        if isinstance(v, Mapping):
            return "{" + ", ".join(f"{k}: {fmt(x)}" for k, x in v.items()) + "}"
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(fmt(x) for x in v) + "]"
        return str(v)

    return "\n".join(f"{k}: {fmt(mapping[k]) if k in mapping else '(absent)'}" for k in keys)


def _env() -> dict[str, str]:
    env = {**os.environ, "RSS_ROOT": str(NBVAL_ROOT)}
    env.pop("RSS_DATA", None)
    return env


def prepare_data(*, force: bool = False) -> Path:
    """Write the small synthetic dataset and its scored data under :data:`NBVAL_ROOT` (once)."""
    raw = NBVAL_ROOT / "data" / "raw" / "synthetic"
    scored = NBVAL_ROOT / "data" / "processed" / "scored.parquet"
    stamp = NBVAL_ROOT / "data" / ".stamp"
    generator = max(p.stat().st_mtime for p in (Path(__file__).parent / "synthetic").glob("*.py"))
    want = f"seed={NBVAL_SEED} scale={NBVAL_SCALE} synthetic={generator}"
    if not force and scored.exists() and stamp.exists() and stamp.read_text() == want:
        return NBVAL_ROOT
    from .io import write_parquet, write_text
    from .loader import load
    from .scoring import score
    from .synthetic import write_dataset

    write_dataset(raw, seed=NBVAL_SEED, scale=NBVAL_SCALE)
    res = load(raw)
    write_parquet(scored, score(res.data, res.scheme))
    write_text(stamp, want)
    return NBVAL_ROOT


def baseline(notebooks: list[Path] | None = None) -> list[Path]:
    """Execute notebooks in place with their defaults on the nbval data: the committed baselines."""
    import nbformat
    from nbclient import NotebookClient

    prepare_data()
    notebooks = [Path(p).resolve() for p in notebooks] if notebooks else sorted(paths.NOTEBOOKS.glob("[0-9]*.ipynb"))
    os.environ.update({"RSS_ROOT": str(NBVAL_ROOT)})
    os.environ.pop("RSS_DATA", None)
    from .io import write_text

    for nb_path in notebooks:
        nb = nbformat.read(nb_path, as_version=4)
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(nb_path.parent)}}
                       ).execute()
        for cell in nb.cells:  # execution metadata carries timestamps: keep baselines stable
            cell.metadata.pop("execution", None)
        write_text(nb_path, nbformat.writes(nb) + "\n")
        print(f"baseline: {nb_path.relative_to(paths.ROOT)}", flush=True)
    subprocess.run([sys.executable, "-m", "jupytext", "--sync", "--quiet",
                    *[str(p.with_suffix(".py")) for p in notebooks]], check=True)
    return notebooks


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m helpers.nbcheck", description=__doc__.splitlines()[0])
    p.add_argument("what", choices=["data", "baseline"])
    p.add_argument("notebooks", nargs="*", type=Path, help="baseline only these .ipynb files")
    args = p.parse_args(argv)
    if args.what == "data":
        print(prepare_data())
    else:
        baseline(args.notebooks or None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
