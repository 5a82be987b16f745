"""The disclosure scan of ``rss check``: every published table, one unit of work per file.

A violation is a row whose respondent count is below the threshold and that is not
marked ``suppressed``; a suppressed row that still shows a count or a value; or, for
tables whose rows add up to a published total (their ``groups``), a group with
exactly one suppressed row, which subtraction would recover.  What a table's count,
key and group columns are is read from the record :func:`helpers.outputs.write_table`
writes (``reports/.disclosure/<name>.json``); a table without one is checked on its
``n_respondents*`` columns (else ``n``, else ``n_surveys*``), and the HTML tables
likewise.  Tables as a reader reads them keep the column names beside their labels: an
HTML header cell's ``data-col`` is its name, and a workbook whose ``contents`` sheet says
so has the names in a row under the labels (the rows after the table, its notes, are not
part of it); ``yes`` reads as true in a ``suppressed`` column.

Each published file is one :class:`~helpers.checks.state.Unit` (a CSV with its
record; the workbook with all records; ``report.html``; each executed notebook), so
``rss check`` rescans only the files whose bytes changed.

Imports: the standard library, python-calamine (the workbook), helpers.checks.hits,
helpers.checks.state.
"""

from __future__ import annotations

import csv
import html.parser
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .hits import Hit, blank, number, show
from .state import Unit

#: Columns of the contents sheet of a readable workbook (helpers.report.workbook): where each sheet's table is.
NAMES_ROW, LAST_ROW = "column names in row", "last row of the table"

__all__ = ["disclosure_units", "disclosure_summary", "notebook_outputs", "executed_notebooks"]


@dataclass
class Rules:
    """How to check one table: its count, key and group columns (``None``: not known)."""

    counts: list[str]
    keys: list[str] | None = None
    groups: list[str] | None = None
    declared: bool = False


def _infer_counts(header: Sequence[str]) -> list[str]:
    cols = [h for h in header if h.startswith("n_respondents")]
    if not cols:
        cols = [h for h in header if h == "n"]
    if not cols:
        cols = [h for h in header if h.startswith("n_surveys")]
    return cols


def _rules_for(header: list[str], record: dict[str, Any] | None, shown: str, hits: list[Hit]) -> Rules:
    if record is not None:
        if record.get("columns") == header:
            return Rules(list(record.get("count_cols") or []), list(record.get("keys") or []),
                         None if record.get("groups") is None else list(record["groups"]), declared=True)
        hits.append(Hit(shown, None, "its disclosure record (reports/.disclosure/) describes other columns: the "
                                     "table was not written by helpers.outputs.write_table in the same run; rerun "
                                     "the notebook that writes it"))
    return Rules(_infer_counts(header))


def _check_rows(header: list[str], rows: list[tuple[str, list[Any]]], rules: Rules, thr: int, shown: str,
                hits: list[Hit]) -> None:
    """Check the rows of one table: ``rows`` are (where, cells) pairs."""
    if not rules.counts or not header:
        return
    col = {h: i for i, h in enumerate(header)}
    counts = [c for c in rules.counts if c in col]
    sup_i = col.get("suppressed")
    value_cols = ([h for h in header if h not in counts and h != "suppressed" and h not in (rules.keys or [])]
                  if rules.keys is not None else [])
    flags: list[bool] = []
    for where, cells in rows:
        def cell(c: str, cells: list[Any] = cells) -> Any:
            return cells[col[c]] if col[c] < len(cells) else None

        suppressed = sup_i is not None and str(cell("suppressed")).strip().lower() in ("true", "yes")
        flags.append(suppressed)
        if suppressed:
            shows = [c for c in counts if number(cell(c)) is not None]
            shows += [c for c in value_cols if not blank(cell(c))]
            if shows:
                hits.append(Hit(shown, where, f"row marked suppressed still shows {', '.join(shows)}"))
            continue
        small = []
        for c in counts:
            v = number(cell(c))
            if v is not None and v < thr:
                small.append(f"{c} {v:g}")
            elif v is None and rules.declared and blank(cell(c)):
                small.append(f"{c} missing (counts as 0)")
            elif v is None and sup_i is not None and str(cell(c)).strip().startswith("<"):
                small.append(f"{c} {str(cell(c)).strip()}")  # shown as suppressed, but the row says it is not
        if small:
            hits.append(Hit(shown, where, f"{'; '.join(small)}: under the disclosure threshold {thr}, but the row is "
                                          "not suppressed (counts shown as <threshold, values blank, suppressed = "
                                          "True)"))
    if rules.groups is not None and sup_i is not None:
        gi = [col[g] for g in rules.groups if g in col]
        members: dict[tuple, list[int]] = {}
        for k, (_where, cells) in enumerate(rows):
            members.setdefault(tuple(cells[i] if i < len(cells) else None for i in gi), []).append(k)
        for key, ks in members.items():
            hidden = [k for k in ks if flags[k]]
            if len(ks) > 1 and len(hidden) == 1:
                label = ", ".join(f"{g}={v}" for g, v in zip(rules.groups, key, strict=False)) or "the whole table"
                hits.append(Hit(shown, rows[hidden[0]][0], f"the only suppressed row of its group ({label}): the "
                                                           "group's other rows and total give it by subtraction; "
                                                           "the next-smallest row must be suppressed too"))


def _records(root: Path) -> Path:
    return root / "reports" / ".disclosure"


def _record(root: Path, stem: str) -> dict[str, Any] | None:
    try:
        return json.loads((_records(root) / f"{stem}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _csv_table(root: Path, path: Path, thr: int) -> tuple[list[Hit], dict[str, int]]:
    hits: list[Hit] = []
    shown = show(path, root)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f)
            header = next(reader, [])
            rows = [(str(reader.line_num), r) for r in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [Hit(shown, None, f"cannot be read as a UTF-8 CSV table ({exc})")], {}
    rules = _rules_for(header, _record(root, path.stem), shown, hits)
    _check_rows(header, rows, rules, thr, shown, hits)
    return hits, {"csv": 1, "declared": int(rules.declared)}


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _workbook(root: Path, path: Path, thr: int) -> tuple[list[Hit], dict[str, int]]:
    """Every sheet of ``tables.xlsx`` (read with calamine: ~20x faster than openpyxl for the 143 sheets)."""
    from python_calamine import CalamineWorkbook

    shown = show(path, root)
    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheets = {name: wb.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in wb.sheet_names}
    except Exception as exc:  # noqa: BLE001 -- any unreadable workbook is a finding
        return [Hit(shown, None, f"cannot be read as a workbook ({type(exc).__name__}: {exc})")], {}
    hits: list[Hit] = []
    files: dict[str, str] = {}
    layout: dict[str, tuple[int, int]] = {}  # sheet -> (row of the column names, last row of the table), from 1
    contents = sheets.get("contents", [])
    head = [_cell_text(v) for v in contents[0]] if contents else []
    at = (head.index(NAMES_ROW), head.index(LAST_ROW)) if NAMES_ROW in head and LAST_ROW in head else None
    for r in contents[1:]:
        if r and r[0] and len(r) > 1 and r[1]:
            files[str(r[0])] = Path(str(r[1])).stem
            if at and max(at) < len(r) and number(r[at[0]]) is not None and number(r[at[1]]) is not None:
                layout[str(r[0])] = (int(number(r[at[0]])), int(number(r[at[1]])))
    n = 0
    for name, raw in sheets.items():
        if name == "contents":
            continue
        n += 1
        values = [[_cell_text(v) for v in r] for r in raw]
        names_row, last = layout.get(name, (1, len(values)))  # a readable sheet: labels above the names
        values = values[:last]
        while values and not any(values[-1]):
            values.pop()
        if len(values) < names_row:
            continue
        header = [h.strip() for h in values[names_row - 1]]
        while header and not header[-1]:
            header.pop()
        where = f"{shown}[{name}]"
        rules = _rules_for(header, _record(root, files[name]) if name in files else None, where, hits)
        rows = [(f"row {i}", r) for i, r in enumerate(values[names_row:], start=names_row + 1)]
        _check_rows(header, rows, rules, thr, where, hits)
    return hits, {"sheets": n}


class _TableParser(html.parser.HTMLParser):
    """Collect the tables of an HTML text: a list of (line, rows of cell texts)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[tuple[int, list[list[str]]]] = []
        self._stack: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._name: str | None = None  # the column name a header cell carries (data-col), over its label

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._stack.append([])
            self.tables.append((self.getpos()[0], self._stack[-1]))
        elif tag == "tr" and self._stack:
            self._stack[-1].append([])
        elif tag in ("td", "th") and self._stack and self._stack[-1]:
            self._cell = []
            self._name = dict(attrs).get("data-col") if tag == "th" else None

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._stack and self._stack[-1]:
            self._stack[-1][-1].append(self._name if self._name is not None else "".join(self._cell).strip())
            self._cell = None
        elif tag == "table" and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _html_tables(text: str, shown: str, where: str | None, thr: int, hits: list[Hit], *, french: bool = False) -> int:
    parser = _TableParser()
    try:
        parser.feed(text)
        parser.close()
    except Exception as exc:  # noqa: BLE001 -- html.parser is lenient; anything raised is a finding
        hits.append(Hit(shown, where, f"cannot be parsed as HTML ({exc})"))
        return 0
    n = 0
    for line, rows in parser.tables:
        rows = [r for r in rows if r]
        if french:
            rows = [rows[0], *([_from_french(c) for c in r] for r in rows[1:])] if rows else rows
        if len(rows) < 2:
            continue
        n += 1
        rules = Rules(_infer_counts(rows[0]))
        _check_rows(rows[0], [(where or f"{line}", r) for r in rows[1:]], rules, thr, shown, hits)
    return n


def _report_html(root: Path, path: Path, thr: int) -> tuple[list[Hit], dict[str, int]]:
    hits: list[Hit] = []
    n = _html_tables(path.read_text(encoding="utf-8", errors="replace"), show(path, root), None, thr, hits,
                     french=path.name.endswith(".fr.html"))
    return hits, {"html": n}


#: A French page's cells read as the English ones: ``1\u202f234`` is 1234, ``0,5`` is 0.5, ``oui`` is yes.
_FRENCH_WORDS = {"oui": "yes", "non": "no"}


def _from_french(cell: str) -> str:
    text = cell.strip()
    if text.lower() in _FRENCH_WORDS:
        return _FRENCH_WORDS[text.lower()]
    bare = re.sub(r"(?<=\d)[\u202f\u00a0 ](?=\d{3}(?!\d))", "", text)
    return bare.replace(",", ".") if re.fullmatch(r"[<>]?[+\-\u2212]?\d+(,\d+)?(\s?%)?", bare) else cell


def notebook_outputs(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    """(cell number from 1, output) of every output of a notebook; nothing when it cannot be read."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    for i, cell in enumerate(nb.get("cells", []), start=1):
        for out in cell.get("outputs", []) or []:
            if isinstance(out, dict):
                yield i, out


def text_of(value: Any) -> str:
    """A notebook output field as one string (nbformat stores multi-line text as a list)."""
    return "".join(value) if isinstance(value, list) else str(value or "")


def _notebook_tables(root: Path, path: Path, thr: int) -> tuple[list[Hit], dict[str, int]]:
    hits: list[Hit] = []
    n = 0
    for cell, out in notebook_outputs(path):
        data = out.get("data") or {}
        if "text/html" in data:
            n += _html_tables(text_of(data["text/html"]), show(path, root), f" cell {cell}", thr, hits)
    return hits, {"html": n}


def executed_notebooks(root: Path) -> list[Path]:
    """The executed notebooks under ``reports/``."""
    return sorted((root / "reports").rglob("*.ipynb")) if (root / "reports").is_dir() else []


def disclosure_units(root: Path, thr: int) -> Iterator[Unit]:
    """One unit per published table file: the CSVs, the workbook, the report, each executed notebook."""
    salt = f"threshold {thr}"
    records = _records(root)
    for path in sorted((root / "reports" / "tables").glob("*.csv")):
        yield Unit("disclosure", (path, records / f"{path.stem}.json"),
                   lambda p=path: _csv_table(root, p, thr), salt)
    xlsx = root / "reports" / "tables.xlsx"
    if xlsx.is_file():
        yield Unit("disclosure", (xlsx, *sorted(records.glob("*.json"))), lambda: _workbook(root, xlsx, thr), salt)
    for report in sorted((root / "reports").glob("report*.html")):  # report.html, and report.fr.html when built
        yield Unit("disclosure", (report,), lambda p=report: _report_html(root, p, thr), salt)
    for nb in executed_notebooks(root):
        yield Unit("disclosure", (nb,), lambda p=nb: _notebook_tables(root, p, thr), salt)


def disclosure_summary(counts: dict[str, int], thr: int) -> str:
    return (f"disclosure: {counts.get('csv', 0)} tables ({counts.get('declared', 0)} with their disclosure record), "
            f"{counts.get('sheets', 0)} sheets of tables.xlsx, {counts.get('html', 0)} HTML tables (report.html, "
            f"report.fr.html when built, executed notebooks), threshold {thr}")
