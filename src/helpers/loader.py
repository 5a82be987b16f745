"""Read RSS survey records as analysts receive them (``../shared/spec/data-contract.md``).

The loader reads a file or a folder of files (CSV in UTF-8 with or without BOM,
comma or semicolon separated; XLSX, sheet ``rss`` else the first; Parquet), checks
the whole input before anything is written, and reports every problem at once:
file, row number as a spreadsheet shows it (the header is row 1, so the first
record is row 2; for Parquet the same numbering is used), column, offending value
and what was expected.  Raw files are only ever opened for reading.  A respondent
id is never quoted in a message (a duplicated one is located by its two rows):
messages end up in terminals, CI logs and the failed notebooks under ``reports/``.

Checks are vectorised per column, so a million Parquet rows load in about a second.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import paths
from .scheme import MAX_CODE, Scheme, code_slots, load_scheme

__all__ = ["Problem", "DataError", "FileInfo", "LoadResult", "load", "find_files", "CONTRACT_COLUMNS"]

DATA_SUFFIXES = {".csv", ".xlsx", ".parquet"}
#: Files a data folder may hold beside the data (documentation, metadata); skipped.
IGNORED_SUFFIXES = {".json", ".md", ".txt", ".yaml", ".yml"}
#: How many rows are listed per (file, column, problem) before the rest are counted.
MAX_ROWS_LISTED = 20

REQUIRED = ["respondent_id", "country", "wave", "survey_date", "return_date", "mentored"]
OPTIONAL = ["sex", "age", "return_from", "mentoring_start", "assist_economic", "assist_social",
            "assist_psychosocial", "weight"]
CONTRACT_COLUMNS = REQUIRED + OPTIONAL
SPECIAL = (97, 98, 99)
DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Problem:
    """One problem of the input, located as precisely as possible."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: object = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column is not None:
            where += ("," if self.row is not None else ",") + f" column {self.column}"
        if self.row is not None and self.value is not None:
            return f"{where}: {_show(self.value)} {self.message}"
        return f"{where}: {self.message}"


class DataError(ValueError):
    """The input breaks the data contract; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        n = len(problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the input:"
        super().__init__("\n".join([head, *(str(p) for p in problems)]))


@dataclass(frozen=True)
class FileInfo:
    path: str
    format: str
    sha256: str
    rows: int


@dataclass
class LoadResult:
    """What :func:`load` read: the typed records and what it noticed."""

    data: pd.DataFrame
    files: list[FileInfo]
    scheme: Scheme
    unused_columns: dict[str, list[str]] = field(default_factory=dict)
    ignored_files: list[str] = field(default_factory=list)

    def summary(self) -> str:
        d = self.data
        lines = [
            f"{len(self.files)} file(s), {len(d):,} surveys, {d['respondent_id'].nunique():,} respondents, "
            f"{d['country'].nunique()} countries ({', '.join(sorted(d['country'].unique()))}), scheme {self.scheme.id}",
        ]
        for f, cols in self.unused_columns.items():
            lines.append(f"unused columns in {f}: {', '.join(cols)}")
        for f in self.ignored_files:
            lines.append(f"not data, skipped: {f}")
        return "\n".join(lines)


def _show(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "empty"
    text = str(value)
    if text == "":
        return "empty"
    try:
        float(text)
        return text
    except ValueError:
        return repr(text)


def _display(path: Path) -> str:
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
        return [], [], [Problem(_display(p), "no such file or folder (set RSS_DATA to a file or folder of RSS data)")]
    if p.is_file():
        if p.suffix.lower() not in DATA_SUFFIXES:
            return [], [], [Problem(_display(p), f"unknown file type {p.suffix or '(none)'!r}: expected .csv, .xlsx or "
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
            problems.append(Problem(_display(f), f"unknown file type {suffix or '(none)'!r}: expected .csv, .xlsx or "
                                                 f".parquet (documentation may be .md, .txt, .json or .yaml)"))
    if not data and not problems:
        problems.append(Problem(_display(p), "folder holds no data files (.csv, .xlsx, .parquet)"))
    return data, skipped, problems


# --------------------------------------------------------------------------- readers
# Each reader returns (frame, first_row_number) or raises _FileProblem.  Frames hold
# text (object/str) columns, except Parquet whose native types are kept for speed.


class _FileProblem(Exception):
    pass


def _read_csv(raw: bytes) -> pd.DataFrame:
    if not raw.strip():
        raise _FileProblem("empty file: no header and no records")
    if b"\x00" in raw[:65536]:
        raise _FileProblem("binary content, not a CSV text file (is it another format renamed .csv?)")
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _FileProblem(f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at line {line} cannot be decoded "
                           f"(save the file as UTF-8)") from None
    first = text.split("\n", 1)[0]
    delim = ";" if first.count(";") > first.count(",") else ","
    header = next(csv.reader([first], delimiter=delim))
    _check_header(header)
    try:
        df = pd.read_csv(io.StringIO(text), sep=delim, dtype=str, keep_default_na=False, na_filter=False,
                         skip_blank_lines=False, engine="c")
    except pd.errors.ParserError as exc:
        raise _FileProblem(f"not a well-formed {'semicolon' if delim == ';' else 'comma'}-separated file: {exc}") \
            from None
    df.columns = [c.strip() for c in header] if len(header) == df.shape[1] else df.columns
    return df


def _check_header(header: list[str]) -> None:
    names = [str(h).strip().lower() for h in header]
    dupes = sorted({n for n in names if names.count(n) > 1 and n})
    if dupes:
        raise _FileProblem(f"duplicated column(s) in the header: {', '.join(dupes)}")


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


def _read_xlsx(raw: bytes) -> pd.DataFrame:
    from python_calamine import CalamineWorkbook

    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise _FileProblem("not a readable .xlsx workbook (the file is not an Office Open XML zip)")
    try:
        wb = CalamineWorkbook.from_filelike(io.BytesIO(raw))
        sheet = "rss" if "rss" in wb.sheet_names else wb.sheet_names[0]
        rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for broken workbooks
        raise _FileProblem(f"not a readable .xlsx workbook ({type(exc).__name__}: {exc})") from None
    rows = [[_cell_text(v) for v in r] for r in rows]
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows or not any(rows[0]):
        others = [n for n in wb.sheet_names if n != sheet]
        hint = (f"; the records are read from the sheet named 'rss', else the first sheet (this workbook also has "
                f"{', '.join(repr(n) for n in others[:5])}: rename the one holding the records to 'rss')"
                if others else "")
        raise _FileProblem(f"workbook has no data (sheet {sheet!r} is empty{hint})")
    header = [h.strip() for h in rows[0]]
    while header and not header[-1]:
        header.pop()
    _check_header(header)
    body = [list(r[: len(header)]) + [""] * (len(header) - len(r)) for r in rows[1:]]
    return pd.DataFrame(body, columns=header, dtype=object)


def _read_parquet(raw: bytes) -> pd.DataFrame:
    frame = _read_parquet_narrow(raw)
    if frame is not None:
        return frame
    # what _read_parquet_narrow does not take (a broken file, duplicated columns, no columns) is read whole, so
    # that its problem is reported in the same words as ever
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(raw))
    except Exception as exc:
        raise _FileProblem(f"not a readable Parquet file ({type(exc).__name__}: {exc})") from None
    _check_header(table.column_names)
    # split_blocks + self_destruct: arrow memory is released column by column as pandas takes it over
    return table.to_pandas(date_as_object=False, split_blocks=True, self_destruct=True)


#: Integer types a Parquet integer column is narrowed to, smallest first.
_NARROW_INTS = (np.dtype(np.int8), np.dtype(np.int16), np.dtype(np.int32))
#: Integer dtypes as the pandas metadata of a Parquet file names them: numpy's, and pandas' nullable ones.
_NUMPY_INTS = {"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"}
_NULLABLE_INTS = {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"}


def _read_parquet_narrow(raw: bytes) -> pd.DataFrame | None:
    """What ``pq.read_table(...).to_pandas()`` gives, with integer columns in their narrowest integer type.

    Read whole, a million rows of 64-bit answer codes sit in memory twice (Arrow, then
    pandas) before the checks turn them into int8.  Here the columns are read one at a
    time, each integer column is cast to the smallest integer type that holds its values
    (answer codes fit in int8), and the narrowed table is converted to pandas once.  The
    values and their kind are those of the whole-file read: numpy integers stay numpy
    integers, pandas' nullable integers (``Int64`` in the file's pandas metadata) stay
    nullable, integer columns with missing values that pandas turns into floats are left
    alone; so every check, message and loaded value is the same.  ``None`` when the file
    cannot be read so.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    try:
        dataset = pq.ParquetDataset(pa.BufferReader(raw))
        schema = dataset.schema
        _check_header(schema.names)
        pandas_meta = schema.pandas_metadata or {}
        column_meta = {c.get("field_name", c["name"]): c for c in pandas_meta.get("columns", [])}
        fields, arrays = [], []
        for field in schema:
            col = dataset.read(columns=[field.name]).column(0)
            meta = column_meta.get(field.name)
            pandas_type = meta["numpy_type"] if meta else None
            nullable = pandas_type in _NULLABLE_INTS
            if (pa.types.is_integer(col.type) and col.null_count < len(col)
                    and (nullable or (pandas_type in (None, *_NUMPY_INTS) and col.null_count == 0))):
                bounds = pc.min_max(col)
                lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
                narrow = next((t for t in _NARROW_INTS if np.iinfo(t).min <= lo and hi <= np.iinfo(t).max), None)
                if narrow is not None:
                    col = col.cast(pa.from_numpy_dtype(narrow))
                    field = field.with_type(col.type)
                    if nullable:  # pandas converts the column with the dtype the metadata names: Int64 -> Int8
                        meta["numpy_type"] = narrow.name.capitalize()
            fields.append(field)
            arrays.append(col)
        if not arrays:
            return None
        metadata = {**(schema.metadata or {}), **({b"pandas": json.dumps(pandas_meta).encode()} if pandas_meta else {})}
        table = pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=metadata))
        del arrays  # the table holds the columns: self_destruct below can free each as pandas takes it over
    except Exception:  # whatever the problem, the whole-file read in _read_parquet reports it
        return None
    return table.to_pandas(date_as_object=False, split_blocks=True, self_destruct=True)


# ---------------------------------------------------------------------- validation


class _Checks:
    """Collects problems for one file, listing at most MAX_ROWS_LISTED rows per kind.

    Offending values are formatted only for the rows that are listed, so checking a
    million clean rows costs no string conversion.
    """

    def __init__(self, files: pd.Categorical, rows: np.ndarray):
        self.files = files  # file name of each record
        self.rows = rows  # spreadsheet row number of each record
        self.problems: list[Problem] = []

    def rows_bad(self, mask: np.ndarray, column: str, values: pd.Series, message: str) -> None:
        """Report the records in ``mask``: the first MAX_ROWS_LISTED of each file, then a count."""
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        codes = self.files.codes[idx]
        for code in np.unique(codes):
            in_file = idx[codes == code]
            name = str(self.files.categories[code])
            shown = values.iloc[in_file[:MAX_ROWS_LISTED]]
            if pd.api.types.is_datetime64_any_dtype(shown.dtype):
                shown = shown.dt.strftime("%Y-%m-%d")
            for i, v in zip(in_file[:MAX_ROWS_LISTED], shown.to_numpy(dtype=object), strict=True):
                v = "" if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else str(v).strip()
                self.problems.append(Problem(name, message, row=int(self.rows[i]), column=column, value=v))
            if len(in_file) > MAX_ROWS_LISTED:
                self.problems.append(Problem(name, f"... and {len(in_file) - MAX_ROWS_LISTED:,} more rows with the "
                                                   f"same problem", column=column))


def _is_textual(s: pd.Series) -> bool:
    return s.dtype == object or pd.api.types.is_string_dtype(s.dtype) or isinstance(s.dtype, pd.CategoricalDtype)


def _text(s: pd.Series) -> pd.Series:
    """Stripped text of a textual column, '' for missing."""
    if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:
        return s.fillna("").str.strip()
    return s.astype(object).where(s.notna(), "").astype(str).str.strip()


def _factor(s: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """Codes and stripped distinct texts of a textual column (missing -> code -1).

    Columns such as country, dates or answer codes hold few distinct values, so
    parsing the distinct values and mapping back is much cheaper than parsing every cell.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return codes, _text(pd.Series(uniques, dtype=object))


def _take(values: np.ndarray, codes: np.ndarray, fill) -> np.ndarray:
    """``values[codes]`` with ``fill`` where the code is -1 (missing)."""
    if len(values) == 0:
        return np.full(len(codes), fill, dtype=object if isinstance(fill, str) else None)
    out = values[np.where(codes >= 0, codes, 0)]
    out[codes < 0] = fill
    return out


def _blank(s: pd.Series) -> np.ndarray:
    """Missing cells: NA, or empty text."""
    if pd.api.types.is_string_dtype(s.dtype) and s.dtype != object:  # arrow-backed: vectorised in C
        return (s.isna() | (s.str.strip() == "")).to_numpy(dtype=bool, na_value=True)
    if _is_textual(s):
        codes, uniq = _factor(s)
        return _take((uniq == "").to_numpy(), codes, True).astype(bool)
    return s.isna().to_numpy()


def _numbers(s: pd.Series, labels: dict[str, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Values as float (NaN when missing) and a mask of non-empty cells that are not numbers (or labels)."""
    if _is_textual(s):
        codes, t = _factor(s)
        num = pd.to_numeric(t.where(t != ""), errors="coerce").astype(float)
        if labels:
            num = num.where(num.notna(), t.str.lower().map(labels).astype(float))
        uv = num.to_numpy(dtype=float, na_value=np.nan)
        ubad = (t != "").to_numpy() & np.isnan(uv)
        return _take(uv, codes, np.nan).astype(float), _take(ubad, codes, False).astype(bool)
    if pd.api.types.is_bool_dtype(s.dtype):
        s = s.astype("Int8")
    if pd.api.types.is_numeric_dtype(s.dtype):
        v = s.to_numpy(dtype=float, na_value=np.nan)
    else:
        v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return v, np.zeros(len(v), dtype=bool)


def _parse_int(s: pd.Series, chk: _Checks, column: str, *, lo: int | None, hi: int | None,
               expected: str) -> np.ndarray:
    """Parse an integer column (text or numeric) into float with NaN for missing or bad."""
    v, bad = _numbers(s)
    with np.errstate(invalid="ignore"):
        bad |= ~np.isnan(v) & (np.floor(v) != v)
        if lo is not None:
            bad |= v < lo
        if hi is not None:
            bad |= v > hi
    chk.rows_bad(bad, column, s, expected)
    return np.where(bad, np.nan, v)


def _required(s: pd.Series, chk: _Checks, column: str) -> None:
    chk.rows_bad(_blank(s), column, s, f"is missing: {column} is required")


def _parse_codes(s: pd.Series, chk: _Checks, q: str, scheme: Scheme) -> pd.Series:
    """Answer codes (or labels) of one question as Int8, special codes kept."""
    table = np.zeros(MAX_CODE + 2, dtype=bool)
    table[sorted(set(scheme.question(q).scores) | set(SPECIAL))] = True
    if s.dtype.kind in ("i", "u") and s.dtype.itemsize <= 4:  # integer codes (Parquet): no float round trip
        codes = code_slots(s)  # missing or out of range -> the slot of no code
        invalid = ~table.take(codes)
        chk.rows_bad(s.notna().to_numpy() & invalid, q, s, f"is not an answer code ({scheme.allowed_codes(q)})")
        codes[invalid] = 0
        return pd.arrays.IntegerArray(codes.astype(np.int8), invalid)
    v, unparsed = _numbers(s, scheme.label_map(q))
    if unparsed.any():
        chk.rows_bad(unparsed, q, s, f"is not an answer code or label of {q} ({scheme.allowed_codes(q)})")
    with np.errstate(invalid="ignore"):
        inrange = ~np.isnan(v) & (v >= 0) & (v <= MAX_CODE) & (np.floor(v) == v)
    ok = np.zeros(len(v), dtype=bool)
    ok[inrange] = table[v[inrange].astype(np.intp)]
    bad = ~np.isnan(v) & ~ok
    chk.rows_bad(bad, q, s, f"is not an answer code ({scheme.allowed_codes(q)})")
    return pd.arrays.IntegerArray(np.where(ok, v, 0).astype(np.int8), ~ok)


def _parse_date(s: pd.Series, chk: _Checks, column: str) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)
        return s.dt.normalize().astype("datetime64[s]")
    codes, t = _factor(s)
    parsed = pd.to_datetime(t.where(t != ""), format="%Y-%m-%d", errors="coerce").astype("datetime64[s]")
    ubad = (t != "").to_numpy() & parsed.isna().to_numpy()
    chk.rows_bad(_take(ubad, codes, False).astype(bool), column, s, "is not a date YYYY-MM-DD")
    return pd.Series(_take(parsed.to_numpy(), codes, np.datetime64("NaT")), index=s.index, dtype="datetime64[s]")


def _parse_choice(s: pd.Series, chk: _Checks, column: str, allowed: set[str], expected: str) -> pd.Series:
    """A column of codes from a fixed set (case-insensitive); missing or bad -> NA."""
    codes, t = _factor(s.astype(object) if not _is_textual(s) else s)
    t = t.str.upper()
    ubad = (t != "").to_numpy() & ~t.isin(allowed).to_numpy()
    chk.rows_bad(_take(ubad, codes, False).astype(bool), column, s, expected)
    # categorical: what pd.Categorical makes of the codes (sorted categories), computed on the distinct values only
    good = pd.Categorical(pd.Series(t.where((t != "") & ~ubad).to_numpy(dtype=object), dtype=object))
    return pd.Series(pd.Categorical.from_codes(_take(good.codes, codes, -1), dtype=good.dtype), index=s.index)


def _iso3() -> set[str]:
    import pycountry

    return {c.alpha_3 for c in pycountry.countries}


def _prepare_file(df: pd.DataFrame, name: str, scheme: Scheme) -> tuple[pd.DataFrame | None, list[Problem],
                                                                        list[str]]:
    """File-level checks (records present, required columns); the records with ``_file`` and ``_row``."""
    df.columns = [str(c).strip().lower() for c in df.columns]
    rows = np.arange(len(df)) + 2
    if len(df) and any(_is_textual(df[c]) for c in df.columns):
        # records that are entirely empty (blank lines, formatted-but-empty spreadsheet rows); columns are only
        # looked at while some record may still be empty (the first usually settles it)
        empty = np.ones(len(df), dtype=bool)
        for c in df.columns:
            empty = empty & _blank(df[c])
            if not empty.any():
                break
        if empty.any():
            df, rows = df.loc[~empty].reset_index(drop=True), rows[~empty]
    if len(df) == 0:
        return None, [Problem(name, "no records: the file has a header but no data rows")], []
    qids = scheme.question_ids
    missing = [c for c in REQUIRED + qids if c not in df.columns]
    if missing:
        present = ", ".join(list(df.columns[:6])) + (", ..." if df.shape[1] > 6 else "")
        hint = " (only one column was found: is the delimiter a comma or semicolon?)" if df.shape[1] == 1 else ""
        return None, [Problem(name, f"missing required column(s): {', '.join(missing)}; found {df.shape[1]} "
                                    f"column(s): {present}{hint}")], []
    unused = [c for c in df.columns if c not in CONTRACT_COLUMNS and c not in qids]
    df = df.drop(columns=unused)
    df["_file"] = pd.Categorical.from_codes(np.zeros(len(df), dtype=np.int8), categories=[name])  # 1 byte a row
    df["_row"] = rows
    return df, [], unused


def _validate(df: pd.DataFrame, scheme: Scheme, today: dt.date) -> tuple[pd.DataFrame, list[Problem]]:
    """Check the records of one or more files column by column; return them typed.

    Files of the same kind (text: CSV and XLSX; native: Parquet) are stacked and
    checked in one pass, so many small files cost no more than one large file.
    """
    chk = _Checks(pd.Categorical(df["_file"]), df["_row"].to_numpy())
    qids = scheme.question_ids
    n = len(df)
    out: dict[str, object] = {}

    for col in REQUIRED:
        _required(df[col], chk, col)
    rid = df["respondent_id"]
    out["respondent_id"] = (_text(rid) if _is_textual(rid) else rid.astype(str)).astype("str")
    iso3 = _iso3()
    out["country"] = _parse_choice(df["country"], chk, "country", iso3,
                                   "is not an ISO 3166-1 alpha-3 country code (e.g. GIN, MAR, SEN)")
    out["wave"] = _parse_int(df["wave"], chk, "wave", lo=1, hi=None, expected="is not a wave number (integer >= 1)")
    out["survey_date"] = survey = _parse_date(df["survey_date"], chk, "survey_date")
    out["return_date"] = ret = _parse_date(df["return_date"], chk, "return_date")
    chk.rows_bad((survey > pd.Timestamp(today)).to_numpy(), "survey_date", survey,
                 f"is in the future (today is {today.isoformat()})")
    chk.rows_bad((ret > survey).to_numpy(), "return_date", ret,
                 "is after survey_date: a returnee is surveyed after return")
    out["mentored"] = _parse_int(df["mentored"], chk, "mentored", lo=0, hi=1, expected="is not 0 or 1")

    out["sex"] = (_parse_choice(df["sex"], chk, "sex", {"F", "M"}, "is not F or M (leave empty when unknown)")
                  if "sex" in df else pd.Series(None, index=df.index, dtype=object))
    out["age"] = pd.array(_parse_int(df["age"], chk, "age", lo=15, hi=99,
                                     expected="is not an age in years from 15 to 99") if "age" in df
                          else np.full(n, np.nan), dtype="Int16")
    out["return_from"] = (_parse_choice(df["return_from"], chk, "return_from", iso3 | {"EU", "OTHER"},
                                        "is not an ISO3 country code, EU or OTHER")
                          if "return_from" in df else pd.Series(None, index=df.index, dtype=object))
    out["mentoring_start"] = (_parse_date(df["mentoring_start"], chk, "mentoring_start") if "mentoring_start" in df
                              else pd.Series(pd.NaT, index=df.index, dtype="datetime64[s]"))
    for col in ("assist_economic", "assist_social", "assist_psychosocial"):
        out[col] = pd.array(_parse_int(df[col], chk, col, lo=0, hi=1, expected="is not 0 or 1 (or empty)")
                            if col in df else np.full(n, np.nan), dtype="Int8")
    if "weight" in df:
        w, unparsed = _numbers(df["weight"])
        with np.errstate(invalid="ignore"):
            bad = unparsed | (~np.isnan(w) & ~((w > 0) & np.isfinite(w)))
        chk.rows_bad(bad, "weight", df["weight"], "is not a survey weight (a number > 0)")
        out["weight"] = np.where(np.isnan(w), 1.0, w)
    else:
        out["weight"] = np.ones(n)
    for q in qids:
        out[q] = _parse_codes(df[q], chk, q, scheme)
    out["_file"] = df["_file"]  # text already: no round trip through a million Python objects
    out["_row"] = df["_row"].to_numpy()
    return pd.DataFrame(out, index=df.index, copy=False), chk.problems


def _finish(data: pd.DataFrame) -> pd.DataFrame:
    """Final types of the loaded frame and the derived ``months_since_return``."""
    data = data.drop(columns=["_row", "_file"])
    data["wave"] = data["wave"].astype("int64")
    data["mentored"] = data["mentored"].astype("int8")
    data["sex"] = pd.Categorical(data["sex"], categories=["F", "M"])
    for col in ("country", "return_from"):  # few distinct values: categorical, sorted categories
        data[col] = pd.Categorical(data[col])
    days = (data["survey_date"] - data["return_date"]).dt.days.astype(float)
    data["months_since_return"] = days / DAYS_PER_MONTH
    return data


def load(path: str | Path | None = None, *, scheme: Scheme | str | Path | None = None,
         today: dt.date | None = None) -> LoadResult:
    """Read, check and type RSS records from a file or a folder of files.

    Parameters
    ----------
    path
        A ``.csv``/``.xlsx``/``.parquet`` file or a folder (searched recursively);
        default :func:`helpers.paths.data_source` (``RSS_DATA`` or ``data/raw``).
    scheme
        The scoring scheme whose questions the data must carry (default
        ``rss-default``).
    today
        Date after which a ``survey_date`` is rejected as in the future.

    Returns
    -------
    LoadResult
        ``data``: one row per survey, typed,
        with ``months_since_return`` (days / 30.44), in file order (files sorted by
        path, rows as in the file); item columns keep the raw
        codes, special codes 97/98/99 included (scoring treats them as missing).

    Raises
    ------
    DataError
        Listing every problem of every file at once.
    """
    scheme = scheme if isinstance(scheme, Scheme) else load_scheme(scheme)
    today = today or dt.date.today()
    src = Path(path) if path is not None else paths.data_source()
    files, skipped, problems = find_files(src)
    groups: dict[bool, list[pd.DataFrame]] = {True: [], False: []}  # textual files, native (Parquet) files
    infos, unused_all = [], {}
    for f in files:
        name = _display(f)
        with open(f, "rb") as fh:  # raw data is only ever read
            raw = fh.read()
        sha = hashlib.sha256(raw).hexdigest()
        fmt = f.suffix.lower().lstrip(".")
        try:
            if fmt == "csv":
                df = _read_csv(raw)
            elif fmt == "xlsx":
                df = _read_xlsx(raw)
            else:
                df = _read_parquet(raw)
        except _FileProblem as exc:
            problems.append(Problem(name, str(exc)))
            continue
        prepared, file_problems, unused = _prepare_file(df, name, scheme)
        problems.extend(file_problems)
        if unused:
            unused_all[name] = unused
        infos.append(FileInfo(path=name, format=fmt, sha256=sha, rows=0 if prepared is None else len(prepared)))
        if prepared is not None:
            groups[fmt != "parquet"].append(prepared)
    frames = []
    for group in groups.values():
        if group:
            stacked = pd.concat(group, ignore_index=True) if len(group) > 1 else group[0]
            group.clear()  # the raw frames are no longer needed: free them before typing the next group
            typed, group_problems = _validate(stacked, scheme, today)
            del stacked
            problems.extend(group_problems)
            frames.append(typed)
    if frames and not problems:
        data = pd.concat(frames, ignore_index=True)
        problems.extend(_cross_checks(data))
    if problems:
        problems.sort(key=lambda p: (p.file, p.row or 0))  # stable: per file, file-level first, then by row
        raise DataError(problems)
    data = _finish(data)
    return LoadResult(data=data, files=infos, scheme=scheme, unused_columns=unused_all,
                      ignored_files=[_display(s) for s in skipped])


def _cross_checks(data: pd.DataFrame) -> list[Problem]:
    """Checks across rows and files: duplicated (respondent_id, wave)."""
    key = data[["respondent_id", "wave"]]
    dup = key.duplicated(keep=False).to_numpy()
    problems: list[Problem] = []
    if dup.any():
        sub = data.loc[dup, ["respondent_id", "wave", "_file", "_row"]]
        first = sub.groupby(["respondent_id", "wave"], sort=False).head(1).set_index(["respondent_id", "wave"])
        later = sub[sub.duplicated(["respondent_id", "wave"], keep="first")]
        for n, r in enumerate(later.itertuples(index=False)):
            if n == MAX_ROWS_LISTED:
                problems.append(Problem(r._2, f"... and {len(later) - MAX_ROWS_LISTED:,} more duplicated "
                                              f"(respondent_id, wave) rows", column="respondent_id"))
                break
            f = first.loc[(r.respondent_id, r.wave)]
            # the id itself is not repeated: messages end up in logs and failed notebooks (row numbers locate it)
            problems.append(Problem(r._2, f"has the same respondent_id and wave ({int(r.wave)}) as {f['_file']} row "
                                          f"{int(f['_row'])}: each (respondent_id, wave) must be unique",
                                    row=int(r._3), column="respondent_id"))
    return problems


def file_sha256(path: str | Path) -> str:
    """Return the sha256 of a file, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()

