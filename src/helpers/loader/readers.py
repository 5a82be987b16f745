"""Finding the data files of an input, and reading CSV and XLSX files into frames of text.

A reader returns a frame or raises :class:`FileProblem` (the file as a whole cannot
be read); it never looks at the values.  Parquet is :mod:`helpers.loader.parquet`.

Imports: helpers.paths, helpers.loader.problems.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import paths
from .problems import Problem

DATA_SUFFIXES = {".csv", ".xlsx", ".parquet"}
#: Files a data folder may hold beside the data (documentation, metadata); skipped.
IGNORED_SUFFIXES = {".json", ".md", ".txt", ".yaml", ".yml"}


@dataclass(frozen=True)
class FileInfo:
    path: str
    format: str
    sha256: str
    rows: int




def display_path(path: Path) -> str:
    """Show a path as the analyst typed it: relative to the working folder when inside it."""
    for base in (Path.cwd(), paths.ROOT):
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            continue
    return str(path)


def find_files(path: str | Path) -> tuple[list[Path], list[Path], list[Problem]]:
    """List the data files of ``path`` (a file or a folder, searched recursively).

    Returns data files, skipped non-data files and problems (unknown file types,
    a path that does not exist, a folder with no data).
    """
    p = Path(path)
    if not p.exists():
        return [], [], [Problem(display_path(p), "no such file or folder (set RSS_DATA to a file or folder of RSS data)")]
    if p.is_file():
        if p.suffix.lower() not in DATA_SUFFIXES:
            return [], [], [Problem(display_path(p), f"unknown file type {p.suffix or '(none)'!r}: expected .csv, .xlsx or "
                                                 f".parquet")]
        return [p], [], []
    data, skipped, problems = [], [], []
    for f in sorted(q for q in p.rglob("*") if q.is_file()):
        rel = f.relative_to(p)
        if any(part.startswith(".") for part in rel.parts) or f.name.startswith("~$"):
            continue  # hidden files, editor lock files
        suffix = f.suffix.lower()
        if suffix in DATA_SUFFIXES:
            data.append(f)
        elif suffix in IGNORED_SUFFIXES:
            skipped.append(f)
        else:
            problems.append(Problem(display_path(f), f"unknown file type {suffix or '(none)'!r}: expected .csv, .xlsx or "
                                                 f".parquet (documentation may be .md, .txt, .json or .yaml)"))
    if not data and not problems:
        problems.append(Problem(display_path(p), "folder holds no data files (.csv, .xlsx, .parquet)"))
    return data, skipped, problems


# --------------------------------------------------------------------------- readers
# Each reader returns (frame, first_row_number) or raises FileProblem.  Frames hold
# text (object/str) columns, except Parquet whose native types are kept for speed.

class FileProblem(Exception):
    pass


def read_csv(raw: bytes) -> pd.DataFrame:
    if not raw.strip():
        raise FileProblem("empty file: no header and no records")
    if b"\x00" in raw[:65536]:
        raise FileProblem("binary content, not a CSV text file (is it another format renamed .csv?)")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FileProblem(f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at line {line} cannot be decoded "
                           f"(save the file as UTF-8)") from None
    first = text.split("\n", 1)[0]
    delim = ";" if first.count(";") > first.count(",") else ","
    header = next(csv.reader([first], delimiter=delim))
    check_header(header)
    try:
        df = pd.read_csv(io.StringIO(text), sep=delim, dtype=str, keep_default_na=False, na_filter=False,
                         skip_blank_lines=False, engine="c")
    except pd.errors.ParserError as exc:
        raise FileProblem(f"not a well-formed {'semicolon' if delim == ';' else 'comma'}-separated file: {exc}") \
            from None
    df.columns = [c.strip() for c in header] if len(header) == df.shape[1] else df.columns
    return df


def check_header(header: list[str]) -> None:
    names = [str(h).strip().lower() for h in header]
    dupes = sorted({n for n in names if names.count(n) > 1 and n})
    if dupes:
        raise FileProblem(f"duplicated column(s) in the header: {', '.join(dupes)}")


def _cell_text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def read_xlsx(raw: bytes) -> pd.DataFrame:
    from python_calamine import CalamineWorkbook

    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise FileProblem("not a readable .xlsx workbook (the file is not an Office Open XML zip)")
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(raw))
        sheet = "rss" if "rss" in wb.sheet_names else wb.sheet_names[0]
        rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for broken workbooks
        raise FileProblem(f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    rows = [[_cell_text(v) for v in r] for r in rows]
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows or not any(rows[0]):
        others = [n for n in wb.sheet_names if n != sheet]
        hint = (f"; the records are read from the sheet named 'rss', else the first sheet (this workbook also has "
                f"{', '.join(repr(n) for n in others[:5])}: rename the one holding the records to 'rss')"
                if others else "")
        raise FileProblem(f"workbook has no data (sheet {sheet!r} is empty{hint})")
    header = [h.strip() for h in rows[0]]
    while header and not header[-1]:
        header.pop()
    check_header(header)
    body = [list(r[: len(header)]) + [""] * (len(header) - len(r)) for r in rows[1:]]
    return pd.DataFrame(body, columns=header, dtype=object)



def file_sha256(path: str | Path) -> str:
    """Return the sha256 of a file, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
