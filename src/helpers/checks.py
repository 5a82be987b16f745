"""Scan what the workspace publishes before anyone shares it: ``rss check`` (run by ``make report``).

    rss check [--root DIR] [--threshold N] [--ids-from PATH] [--no-disclosure] [--no-identifiers]
    python -m helpers.checks [same options]

Three scans; every hit is listed as ``file:line: what`` (``file[sheet]:row`` for a
workbook, ``file: cell N`` for a notebook output) and the exit status is 1.  A
respondent id is never printed: the hit says where, and in what form.

1. **Disclosure** (the rule of :mod:`helpers.outputs`): every published table --
   ``reports/tables/*.csv``, each sheet of ``reports/tables.xlsx``, and the HTML
   tables of ``reports/report.html`` and of the executed notebooks' outputs.  A
   violation is a row whose respondent count is below the threshold and that is not
   marked ``suppressed``; a suppressed row that still shows a count or a value; or,
   for tables whose rows add up to a published total (their ``groups``), a group
   with exactly one suppressed row, which subtraction would recover.  What a
   table's count, key and group columns are is read from the record
   :func:`helpers.outputs.write_table` writes (``reports/.disclosure/<name>.json``);
   a table without one (not written through ``write_table``) is checked on its
   ``n_respondents*`` columns (else ``n``, else ``n_surveys*``), and the HTML tables
   likewise.
2. **Identifiers**: every file under ``reports/`` (hidden ones too: the runner's
   manifest and logs; workbooks are unzipped and their XML read; images and other
   binaries are read as bytes) and the committed notebooks ``notebooks/*.ipynb``
   (and their paired ``.py``) are searched for the respondent ids of the scored
   data (``data/processed/scored.parquet``, or ``--ids-from`` a scored file or the
   input): as written, in any letter case, and as the hexadecimal md5, sha1,
   sha256 or sha512 digest of the id (as written, lower- or upper-cased), whole or
   cut to its first 12 or more digits.
3. **Individual-level outputs**: no output of an executed or committed notebook
   displays a table (or Series) with a ``respondent_id`` column.

Limits: an id is matched as a whole token (a run of the characters ids are made
of), so an id glued to other such characters, salted or keyed hashes, and
encodings other than those above are not found; ids shorter than 5 characters, or
all digits and shorter than 8, would match ordinary numbers and are searched only
as digests.  Aggregates that single out a person without naming them (a count of
1 in a cross-tabulation) are the disclosure scan's business, not this one's.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import hashlib
import html.parser
import io as _io
import json
import re
import sys
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Hit", "CheckError", "check_disclosure", "check_identifiers", "check_individual_outputs",
           "respondent_ids", "IdMatcher", "run_checks", "add_arguments", "main"]

#: At most this many hits are printed per scan (the count of the rest follows).
MAX_SHOWN = 200
#: Ids shorter than this are searched only as digests (they would match ordinary words or numbers).
MIN_ID_LENGTH = 5
#: All-digit ids shorter than this are searched only as digests (they would match counts).
MIN_NUMERIC_ID_LENGTH = 8
#: Shortest prefix of a hex digest recognised as a truncated hash of an id.
MIN_DIGEST_PREFIX = 12
DIGESTS = ("md5", "sha1", "sha256", "sha512")
SUPPRESSED_MARKS = ("x",)


class CheckError(RuntimeError):
    """A scan cannot run as asked (e.g. no respondent ids to search for)."""


@dataclass(frozen=True)
class Hit:
    """One problem found: where (file and line, sheet row or notebook cell) and what."""

    path: str
    where: str | None
    message: str

    def __str__(self) -> str:
        sep = ":" if self.where and not self.where.startswith("[") else ""
        return f"{self.path}{sep}{self.where or ''}: {self.message}"


def _show(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def _number(text: Any) -> float | None:
    if text is None or isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return float(text) if text == text else None
    try:
        v = float(str(text).strip().replace(",", ""))
    except ValueError:
        return None
    return v if v == v else None


def _blank(value: Any) -> bool:
    return value is None or str(value).strip() in ("", "nan", "NaN", "<NA>", "None")


# ----------------------------------------------------------------------------------------------------- disclosure


@dataclass
class _Rules:
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


def _rules_for(header: list[str], record: dict[str, Any] | None, shown: str, hits: list[Hit]) -> _Rules:
    if record is not None:
        if record.get("columns") == header:
            return _Rules(list(record.get("count_cols") or []), list(record.get("keys") or []),
                          None if record.get("groups") is None else list(record["groups"]), declared=True)
        hits.append(Hit(shown, None, "its disclosure record (reports/.disclosure/) describes other columns: the "
                                     "table was not written by helpers.outputs.write_table in the same run; rerun "
                                     "the notebook that writes it"))
    return _Rules(_infer_counts(header))


def _check_rows(header: list[str], rows: list[tuple[str, list[Any]]], rules: _Rules, thr: int, shown: str,
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

        suppressed = sup_i is not None and str(cell("suppressed")).strip().lower() == "true"
        flags.append(suppressed)
        if suppressed:
            shows = [c for c in counts if _number(cell(c)) is not None]
            shows += [c for c in value_cols if not _blank(cell(c))]
            if shows:
                hits.append(Hit(shown, where, f"row marked suppressed still shows {', '.join(shows)}"))
            continue
        small = []
        for c in counts:
            v = _number(cell(c))
            if v is not None and v < thr:
                small.append(f"{c} {v:g}")
            elif v is None and rules.declared and _blank(cell(c)):
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


def _record(root: Path, stem: str) -> dict[str, Any] | None:
    p = root / "reports" / ".disclosure" / f"{stem}.json"
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _csv_tables(root: Path, thr: int, hits: list[Hit]) -> tuple[int, int]:
    n = declared = 0
    for path in sorted((root / "reports" / "tables").glob("*.csv")):
        shown = _show(path, root)
        try:
            with open(path, newline="", encoding="utf-8-sig") as f:
                reader = csv.reader(f)
                header = next(reader, [])
                rows = [(str(reader.line_num), r) for r in reader]
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            hits.append(Hit(shown, None, f"cannot be read as a UTF-8 CSV table ({exc})"))
            continue
        n += 1
        rules = _rules_for(header, _record(root, path.stem), shown, hits)
        declared += rules.declared
        _check_rows(header, rows, rules, thr, shown, hits)
    return n, declared


def _xlsx_tables(root: Path, thr: int, hits: list[Hit]) -> int:
    path = root / "reports" / "tables.xlsx"
    if not path.is_file():
        return 0
    from openpyxl import load_workbook

    shown = _show(path, root)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 -- any unreadable workbook is a finding
        hits.append(Hit(shown, None, f"cannot be read as a workbook ({type(exc).__name__}: {exc})"))
        return 0
    try:
        files: dict[str, str] = {}
        if "contents" in wb.sheetnames:
            for r in wb["contents"].iter_rows(min_row=2, values_only=True):
                if r and r[0] and len(r) > 1 and r[1]:
                    files[str(r[0])] = Path(str(r[1])).stem
        n = 0
        for name in wb.sheetnames:
            if name == "contents":
                continue
            n += 1
            values = [["" if v is None else str(v) for v in r] for r in wb[name].iter_rows(values_only=True)]
            if not values:
                continue
            header = [h.strip() for h in values[0]]
            while header and not header[-1]:
                header.pop()
            where = f"{shown}[{name}]"
            rules = _rules_for(header, _record(root, files[name]) if name in files else None, where, hits)
            rows = [(f"row {i}", r) for i, r in enumerate(values[1:], start=2)]
            _check_rows(header, rows, rules, thr, where, hits)
    finally:
        wb.close()
    return n


class _TableParser(html.parser.HTMLParser):
    """Collect the tables of an HTML text: a list of (line, rows of cell texts)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[tuple[int, list[list[str]]]] = []
        self._stack: list[list[list[str]]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._stack.append([])
            self.tables.append((self.getpos()[0], self._stack[-1]))
        elif tag == "tr" and self._stack:
            self._stack[-1].append([])
        elif tag in ("td", "th") and self._stack and self._stack[-1]:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._stack and self._stack[-1]:
            self._stack[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table" and self._stack:
            self._stack.pop()

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _html_tables(text: str, shown: str, where: str | None, thr: int, hits: list[Hit]) -> int:
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
        if len(rows) < 2:
            continue
        n += 1
        header = rows[0]
        rules = _Rules(_infer_counts(header))
        at = where or f"{line}"
        _check_rows(header, [(at, r) for r in rows[1:]], rules, thr, shown, hits)
    return n


def _notebook_outputs(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    """(cell number from 1, output) of every output of a notebook; nothing when it cannot be read."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    for i, cell in enumerate(nb.get("cells", []), start=1):
        for out in cell.get("outputs", []) or []:
            if isinstance(out, dict):
                yield i, out


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


def check_disclosure(root: str | Path, *, threshold: int | None = None) -> tuple[list[Hit], str]:
    """Check every published table against the disclosure rule; return the hits and a summary line."""
    from .settings import disclosure_threshold

    root = Path(root)
    thr = disclosure_threshold(threshold)
    hits: list[Hit] = []
    n_csv, n_declared = _csv_tables(root, thr, hits)
    n_sheets = _xlsx_tables(root, thr, hits)
    n_html = 0
    report = root / "reports" / "report.html"
    if report.is_file():
        n_html += _html_tables(report.read_text(encoding="utf-8", errors="replace"), _show(report, root), None, thr,
                               hits)
    for nb in _notebooks(root, executed_only=True):
        for cell, out in _notebook_outputs(nb):
            data = out.get("data") or {}
            if "text/html" in data:
                n_html += _html_tables(_text(data["text/html"]), _show(nb, root), f" cell {cell}", thr, hits)
    summary = (f"disclosure: {n_csv} tables ({n_declared} with their disclosure record), {n_sheets} sheets of "
               f"tables.xlsx, {n_html} HTML tables (report.html, executed notebooks), threshold {thr}")
    return hits, summary


# ---------------------------------------------------------------------------------------------------- identifiers


def respondent_ids(root: str | Path, ids_from: str | Path | None = None) -> tuple[list[str], str]:
    """The respondent ids to search for, and where they came from.

    ``ids_from`` (a scored Parquet file or the input, a file or folder) else
    ``data/processed/scored.parquet`` under ``root``.
    """
    root = Path(root)
    src = Path(ids_from) if ids_from else root / "data" / "processed" / "scored.parquet"
    if not src.exists():
        if ids_from:
            raise CheckError(f"--ids-from {ids_from}: no such file or folder")
        raise CheckError(f"no respondent ids to search for: {_show(src, root)} does not exist (run `rss run` "
                         "first, or pass --ids-from with the input file or folder)")
    if src.is_file() and src.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            col = pq.read_table(src, columns=["respondent_id"]).column(0)
        except Exception as exc:  # noqa: BLE001
            raise CheckError(f"{_show(src, root)}: cannot read its respondent_id column ({exc})") from None
        ids = [str(v) for v in col.to_pylist() if v is not None]
    else:
        from .loader import load

        ids = [str(v) for v in load(src).data["respondent_id"]]
    return sorted(set(ids)), _show(src, root)


class IdMatcher:
    """Find respondent ids, raw or transformed, in text.

    Examples
    --------
    >>> m = IdMatcher(["R12AB34", "R99ZZ01"])
    >>> [k for _pos, k in m.find("rows of R12AB34 and r99zz01; id-" + hashlib.sha256(b"R12AB34").hexdigest())]
    ['as written', 'in another letter case', 'as its sha256 hex digest']
    >>> m.find("R12AB345 and xR12AB34 are other tokens")
    []
    """

    def __init__(self, ids: Iterable[str]):
        ids = [str(i) for i in ids if str(i).strip()]
        self.n = len(ids)
        self.raw = {i.strip() for i in ids}
        searchable = [i for i in self.raw if len(i) >= MIN_ID_LENGTH and not (i.isdigit() and
                                                                               len(i) < MIN_NUMERIC_ID_LENGTH)]
        self.n_digest_only = len(self.raw) - len(searchable)
        self.folded = {i.lower() for i in searchable}
        # a token: a run of letters and digits, and of the other characters ids use (e.g. "-" in "GIN-00123")
        extra = sorted({ch for i in self.folded for ch in i if not (ch.isascii() and ch.isalnum())})
        self.token = re.compile("[0-9a-z" + "".join(re.escape(c) for c in extra) + "]+") if self.folded else None
        self.digests: dict[str, str] = {}
        for i in self.raw:
            for form in {i, i.lower(), i.upper()}:
                b = form.encode("utf-8")
                for algo in DIGESTS:
                    self.digests[hashlib.new(algo, b).hexdigest()] = algo
        self.prefixes: dict[str, list[str]] = {}
        for d in self.digests:
            self.prefixes.setdefault(d[:MIN_DIGEST_PREFIX], []).append(d)
        self.hex = re.compile("[0-9a-f]{" + str(MIN_DIGEST_PREFIX) + ",}")

    def find(self, text: str) -> list[tuple[int, str]]:
        """(position, form) of every id found in ``text``, in order."""
        low = text.lower()
        found: list[tuple[int, str]] = []
        if self.token is not None:
            for m in self.token.finditer(low):
                if m.group() in self.folded:
                    exact = text[m.start():m.end()] in self.raw
                    found.append((m.start(), "as written" if exact else "in another letter case"))
        for m in self.hex.finditer(low):
            tok = m.group()
            if tok in self.digests:
                found.append((m.start(), f"as its {self.digests[tok]} hex digest"))
                continue
            for d in self.prefixes.get(tok[:MIN_DIGEST_PREFIX], ()):
                if len(tok) < len(d) and d.startswith(tok):
                    found.append((m.start(), f"as the first {len(tok)} digits of its {self.digests[d]} hex digest"))
                    break
        return sorted(found)


def _line_of(text: str, starts: list[int], pos: int) -> int:
    return bisect.bisect_right(starts, pos)


def _scan_text(text: str, matcher: IdMatcher, shown: str, hits: list[Hit], prefix: str = "") -> None:
    found = matcher.find(text)
    if not found:
        return
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    for pos, form in found:
        hits.append(Hit(shown, f"{prefix}{_line_of(text, starts, pos)}", f"a respondent id {form}"))


def _notebooks(root: Path, *, executed_only: bool = False) -> list[Path]:
    found = sorted((root / "reports").rglob("*.ipynb")) if (root / "reports").is_dir() else []
    if not executed_only:
        found += sorted((root / "notebooks").glob("*.ipynb"))
    return found


def _files_for_ids(root: Path) -> list[Path]:
    files = [p for p in sorted((root / "reports").rglob("*")) if p.is_file()] if (root / "reports").is_dir() else []
    nbs = root / "notebooks"
    if nbs.is_dir():
        files += sorted(p for p in nbs.iterdir() if p.is_file() and p.suffix in (".ipynb", ".py"))
    return files


def check_identifiers(root: str | Path, ids: Sequence[str], *, source: str = "") -> tuple[list[Hit], str]:
    """Search the published files and the notebooks for respondent ids; return the hits and a summary line."""
    root = Path(root)
    matcher = IdMatcher(ids)
    hits: list[Hit] = []
    files = _files_for_ids(root)
    for path in files:
        shown = _show(path, root)
        try:
            data = path.read_bytes()
        except OSError as exc:
            hits.append(Hit(shown, None, f"cannot be read ({exc})"))
            continue
        if data[:4] == b"PK\x03\x04":  # a zip: a workbook (xlsx), or any Office file
            try:
                with zipfile.ZipFile(_io.BytesIO(data)) as z:
                    for member in z.namelist():
                        _scan_text(z.read(member).decode("utf-8", errors="replace"), matcher,
                                   f"{shown}[{member}]", hits)
                continue
            except zipfile.BadZipFile:
                pass
        _scan_text(data.decode("utf-8", errors="replace"), matcher, shown, hits)
    note = (f"; {matcher.n_digest_only:,} ids too short (or all digits) to search as text were searched as digests"
            if matcher.n_digest_only else "")
    summary = (f"identifiers: {len(matcher.raw):,} respondent ids{f' from {source}' if source else ''}, searched as "
               f"written, in any letter case and as {'/'.join(DIGESTS)} hex digests (whole or first "
               f"{MIN_DIGEST_PREFIX}+ digits), in {len(files)} files (reports/, notebooks/){note}")
    return hits, summary


_HTML_ID_COLUMN = re.compile(r"<th[^>]*>\s*respondent_id\s*</th>", re.I)
_SERIES_NAME = re.compile(r"\bName: respondent_id\b")


def _shows_individual_rows(out: dict[str, Any]) -> bool:
    data = out.get("data") or {}
    if _HTML_ID_COLUMN.search(_text(data.get("text/html", ""))):
        return True
    for text in (_text(data.get("text/plain", "")), _text(out.get("text", ""))):
        lines = text.splitlines()
        if sum(1 for ln in lines if ln.strip()) < 2:
            continue
        if _SERIES_NAME.search(text):
            return True
        # header lines of a DataFrame repr: the first line, and the first line of each block of a wide frame
        heads = [ln for k, ln in enumerate(lines) if ln.strip() and (k == 0 or not lines[k - 1].strip())]
        if any("respondent_id" in ln.replace("\\", " ").split() for ln in heads):
            return True
    return False


def check_individual_outputs(root: str | Path) -> tuple[list[Hit], str]:
    """Find notebook outputs that display a table with a ``respondent_id`` column (individual-level rows)."""
    root = Path(root)
    hits: list[Hit] = []
    nbs = _notebooks(root)
    for nb in nbs:
        for cell, out in _notebook_outputs(nb):
            if _shows_individual_rows(out):
                hits.append(Hit(_show(nb, root), f" cell {cell}", "an output displays rows with a respondent_id "
                                                                  "column: notebooks show aggregates only"))
    return hits, f"individual-level outputs: {len(nbs)} notebooks (executed and committed)"


# ------------------------------------------------------------------------------------------------------- command


def run_checks(*, root: str | Path | None = None, threshold: int | None = None, ids_from: str | Path | None = None,
               disclosure: bool = True, identifiers: bool = True, stream: Any = None) -> int:
    """Run the scans and print what they found; return 0 (clean), 1 (hits) or 2 (cannot check)."""
    from . import paths
    from .settings import SettingError

    out = stream or sys.stdout
    err = stream or sys.stderr
    root = Path(root) if root else paths.ROOT
    results: list[tuple[list[Hit], str]] = []
    try:
        if disclosure:
            results.append(check_disclosure(root, threshold=threshold))
        if identifiers:
            ids, source = respondent_ids(root, ids_from)
            results.append(check_identifiers(root, ids, source=source))
            results.append(check_individual_outputs(root))
    except (CheckError, SettingError) as exc:
        print(f"rss check: {exc}", file=err)
        return 2
    total = 0
    for hits, summary in results:
        total += len(hits)
        if not hits:
            print(f"rss check: {summary}: ok", file=out)
            continue
        print(f"rss check: {summary}: {len(hits)} problem{'s' if len(hits) != 1 else ''}", file=err)
        for h in hits[:MAX_SHOWN]:
            print(f"  {h}", file=err)
        if len(hits) > MAX_SHOWN:
            print(f"  ... and {len(hits) - MAX_SHOWN} more", file=err)
    if total:
        print(f"rss check: FAILED, {total} problem{'s' if total != 1 else ''}: fix them before sharing anything "
              "under reports/", file=err)
        return 1
    print("rss check: ok", file=out)
    return 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``rss check`` (shared with ``python -m helpers.checks``)."""
    p.add_argument("--root", metavar="DIR", help="project root (default: this checkout, or RSS_ROOT)")
    p.add_argument("--threshold", type=int, metavar="N", help="disclosure threshold (default: "
                   "RSS_DISCLOSURE_THRESHOLD, else 10)")
    p.add_argument("--ids-from", metavar="PATH", help="where to read the respondent ids (default: "
                   "data/processed/scored.parquet); a scored .parquet file or the input file or folder")
    p.add_argument("--no-disclosure", action="store_true", help="skip the disclosure scan")
    p.add_argument("--no-identifiers", action="store_true", help="skip the identifier and individual-level scans")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m helpers.checks", description=__doc__.splitlines()[0])
    add_arguments(p)
    a = p.parse_args(argv)
    return run_checks(root=a.root, threshold=a.threshold, ids_from=a.ids_from, disclosure=not a.no_disclosure,
                      identifiers=not a.no_identifiers)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
