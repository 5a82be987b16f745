"""Writing the synthetic dataset as a real export would arrive: one file per country (CSV, a
semicolon/BOM CSV, an XLSX workbook) and ``truth.json`` (:func:`write_dataset`).

Imports: helpers.io, helpers.scheme, helpers.synthetic.parameters, helpers.synthetic.simulation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from ..io import write_bytes
from ..scheme import Scheme
from .parameters import (
    CONTRACT_COLUMNS,
    COUNTRIES,
    DATE_COLUMNS,
    FIXED_TIMESTAMP,
    SEMICOLON_BOM_COUNTRY,
    XLSX_COUNTRY,
    XLSX_SHEET,
    resolve_scheme,
)
from .simulation import simulate


def _file_frame(sub: pd.DataFrame, scheme: Scheme, *, labels: bool) -> pd.DataFrame:
    """The columns as written: contract columns then items; codes or labels."""
    out = sub[CONTRACT_COLUMNS + scheme.question_ids].copy()
    if labels:
        special = {int(k): v for k, v in scheme.special_codes.items()}
        for q in scheme.questions:
            table = {**q.labels, **special}
            out[q.id] = out[q.id].map(table).astype(object).where(out[q.id].notna(), None)
    return out


def _csv_bytes(sub: pd.DataFrame, scheme: Scheme, *, sep: str, bom: bool) -> bytes:
    out = _file_frame(sub, scheme, labels=False)
    for col in DATE_COLUMNS:
        out[col] = out[col].dt.strftime("%Y-%m-%d")
    text = out.to_csv(index=False, sep=sep, lineterminator="\n", na_rep="")
    return ("\ufeff" if bom else "").encode("utf-8") + text.encode("utf-8")


def _xlsx_bytes(sub: pd.DataFrame, scheme: Scheme) -> bytes:
    from openpyxl import Workbook

    from ..io import workbook_bytes

    out = _file_frame(sub, scheme, labels=True)
    wb = Workbook(write_only=True)
    wb.properties.creator = "helpers.synthetic"
    wb.properties.created = FIXED_TIMESTAMP
    wb.properties.modified = FIXED_TIMESTAMP
    ws = wb.create_sheet(XLSX_SHEET)
    ws.append(list(out.columns))
    cols = []
    for name in out.columns:
        s = out[name]
        if name in DATE_COLUMNS:
            vals = [None if pd.isna(v) else v.date() for v in s]
        elif name == "weight":
            vals = [float(v) for v in s]
        else:
            vals = [None if pd.isna(v) else (int(v) if not isinstance(v, str) else v) for v in s.astype(object)]
        cols.append(vals)
    for row in zip(*cols, strict=True):  # writing one workbook row at a time is openpyxl's API
        ws.append(row)
    # openpyxl stamps the clock into the workbook and its zip entries: helpers.io fixes both
    return workbook_bytes(wb, timestamp=FIXED_TIMESTAMP)


def write_dataset(out_dir: str | Path, *, seed: int = 20200, scale: float = 1.0,
                  scheme: Scheme | str | Path | None = None) -> list[Path]:
    """Write the synthetic dataset: one file per country and ``truth.json``.

    Parameters
    ----------
    out_dir
        Folder to write into (created if needed).  Files of the same names are
        replaced atomically; nothing else in the folder is touched.
    seed, scale, scheme
        As for :func:`simulate`.

    Returns
    -------
    list of pathlib.Path
        The data files (in ``COUNTRIES`` order), then ``truth.json``.

    Notes
    -----
    Every country is a UTF-8 comma-separated ``<iso3>.csv`` (ISO dates, empty cell
    for missing) except ``SEMICOLON_BOM_COUNTRY`` (semicolon-separated, with a BOM)
    and ``XLSX_COUNTRY`` (``<iso3>.xlsx``, sheet ``rss``, answer labels instead of
    codes, date cells).  Each file is written to a temporary file in ``out_dir`` and
    renamed into place; the same seed gives byte-identical files.

    Examples
    --------
    >>> import tempfile
    >>> files = write_dataset(tempfile.mkdtemp(), seed=3, scale=0.02)
    >>> [f.name for f in files][:3], files[-1].name
    (['gin.csv', 'mar.csv', 'sen.csv'], 'truth.json')
    """
    scheme = resolve_scheme(scheme)
    df, truth = simulate(seed=seed, scale=scale, scheme=scheme)
    # Everything is rendered in memory first: a failure while generating leaves the
    # folder untouched; then each file is replaced atomically, truth.json last.
    payloads: list[tuple[str, bytes]] = []
    files: list[dict[str, Any]] = []
    country = df["country"].to_numpy()
    for iso3, *_ in COUNTRIES:
        sub = df.loc[country == iso3]
        if iso3 == XLSX_COUNTRY:
            name, data = f"{iso3.lower()}.xlsx", _xlsx_bytes(sub, scheme)
            meta = {"format": "xlsx", "sheet": XLSX_SHEET, "answers": "labels"}
        else:
            sep, bom = (";", True) if iso3 == SEMICOLON_BOM_COUNTRY else (",", False)
            name, data = f"{iso3.lower()}.csv", _csv_bytes(sub, scheme, sep=sep, bom=bom)
            meta = {"format": "csv", "sep": sep, "bom": bom, "answers": "codes"}
        payloads.append((name, data))
        files.append({"name": name, "country": iso3, "n_rows": int(len(sub)),
                      "n_respondents": int(sub["respondent_id"].nunique()), **meta})
    truth["files"] = files
    text = json.dumps(truth, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    payloads.append(("truth.json", text.encode("utf-8")))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [write_bytes(out / name, data) for name, data in payloads]
