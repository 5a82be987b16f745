"""What a notebook's inputs are, as hashes: the input files, the notebook itself and the
scored data's fingerprint (per-country slices and pooled medians), so that only what changed reruns.

Imports: helpers.provenance, helpers.runner.registry only.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..provenance import sha256_json
from .registry import ISO3, POOLED_PREFIXES, RunError

#: Suffixes of the files the loader reads (others in the input folder are documentation).
DATA_SUFFIXES = (".csv", ".xlsx", ".parquet")


def notebook_hash(path: Path) -> str:
    """Hash what papermill executes of a notebook: cell types, sources, tags, language."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = []
    for c in nb.get("cells", []):
        src = c.get("source", "")
        cells.append([c.get("cell_type"), "".join(src) if isinstance(src, list) else src,
                      sorted(c.get("metadata", {}).get("tags", []))])
    lang = nb.get("metadata", {}).get("kernelspec", {}).get("language")
    return sha256_json({"cells": cells, "language": lang})


def input_files(source: Path) -> list[Path]:
    """Every file of the input (a file, or a folder searched recursively; hidden entries skipped)."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise RunError(f"input not found: {source} (run `make data` for the synthetic default, or set RSS_DATA "
                       "or --data to a file or folder of RSS records)")
    out = []
    for p in sorted(source.rglob("*")):
        rel = p.relative_to(source)
        if p.is_file() and not any(part.startswith(".") for part in rel.parts):
            out.append(p)
    if not out:
        raise RunError(f"input folder {source} holds no files (run `make data`, or set RSS_DATA or --data)")
    return out


def scored_fingerprint(path: Path, prefixes: tuple[str, ...] = POOLED_PREFIXES) -> dict[str, Any]:
    """Hash each country's rows of the scored data, and the pooled medians.

    Returns ``{"countries": {ISO3: sha256}, "pooled": sha256}``.  A country's hash
    covers the column names and types and, in file order, the hash of each of its
    rows (``pandas.util.hash_pandas_object``): it changes exactly when that
    country's rows change.  ``pooled`` hashes the medians of the numeric columns
    starting with ``prefixes`` over all countries (rounded to 12 digits).

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "s.parquet"
    >>> df = pd.DataFrame({"country": ["SEN", "SEN", "GIN"], "score_x": [0.1, 0.9, 0.5], "note": ["", "", ""]})
    >>> df.to_parquet(f)
    >>> a = scored_fingerprint(f)
    >>> df.loc[0, "note"] = "edited"; df.to_parquet(f)
    >>> b = scored_fingerprint(f)
    >>> a["countries"]["SEN"] != b["countries"]["SEN"], a["countries"]["GIN"] == b["countries"]["GIN"]
    (True, True)
    >>> a["pooled"] == b["pooled"]
    True
    """
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    df = pq.read_table(path, use_threads=False).to_pandas()
    if "country" not in df.columns:
        raise RunError(f"{path} has no column 'country': it is not the scored data 00_prepare writes")
    countries = df["country"].astype("string")
    bad = sorted({c for c in countries.dropna().unique() if not ISO3.match(str(c))})
    if bad or countries.isna().any():
        shown = ", ".join(repr(c) for c in bad[:5]) or "missing values"
        raise RunError(f"{path}: column 'country' holds {shown}; expected ISO 3166-1 alpha-3 codes such as SEN")
    schema = sha256_json([[c, str(t)] for c, t in df.dtypes.items()])
    rows = pd.util.hash_pandas_object(df, index=False).to_numpy()
    codes = countries.to_numpy()
    out = {}
    for c in sorted(set(codes)):
        h = hashlib.sha256(schema.encode())
        h.update(np.ascontiguousarray(rows[codes == c]).tobytes())
        out[str(c)] = h.hexdigest()
    pooled = {}
    for col in df.columns:
        if col.startswith(prefixes) and pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col]):
            m = df[col].median(skipna=True)
            pooled[col] = None if pd.isna(m) else round(float(m), 12)
    return {"countries": out, "pooled": sha256_json(pooled)}
