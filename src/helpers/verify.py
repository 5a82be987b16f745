"""Build the report twice in clean folders and compare the results: ``make verify``.

    python -m helpers.verify [--jobs N] [--timeout S] [--keep]

Two temporary project roots get the same notebooks (``notebooks/*.ipynb`` and their
paired ``.py``) and the same input; ``rss run`` builds everything in each, in a
fresh process (``RSS_ROOT`` set), and the two ``reports/`` trees are compared:

* tables (``reports/tables/*.csv``) and their disclosure records
  (``reports/.disclosure/*.json``): byte-identical;
* ``reports/numbers.json`` and ``reports/numbers/*.json``: byte-identical;
* figures (``reports/figures/*.png``, ``*.svg``): byte-identical;
* ``reports/tables.xlsx``: byte-identical, or identical up to its zip entry
  timestamps and the workbook's created/modified dates (said so; not a failure: a
  workbook writer stamps the clock unless told a fixed date, as the report's is);
* ``reports/report.html``: identical once the run-time provenance is set aside --
  the content of every element marked ``data-volatile`` and, for a report that
  does not mark them yet, the fragments matched by :data:`VOLATILE_PATTERNS`
  (build time, run start and finish, each notebook's seconds and finish time,
  total notebook time).

Every difference is printed (file, and the first differing line or fragment);
the exit status is 1 when anything differs or a build fails, 0 otherwise.

The synthetic dataset is copied into both roots.  Any other input (real RSS
records) is not copied -- personal data is not duplicated into temporary
folders -- but read in place by both runs through ``RSS_DATA`` (read-only).
The temporary roots are removed at the end unless ``--keep``.

Imports: helpers.paths.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from . import paths

__all__ = ["VOLATILE_PATTERNS", "normalise_html", "compare_trees", "build", "main"]

#: Elements whose content is run-time provenance: ``<td data-volatile>5.09</td>``.
VOLATILE_ELEMENT = re.compile(r"(<(\w+)\b[^>]*\bdata-volatile\b[^>]*>).*?(</\2>)", re.S)
#: Run-time provenance in a report that does not mark it: (pattern, replacement).
VOLATILE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Built \d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)? UTC"), "Built <time> UTC"),
    (re.compile(r"started [0-9T:+.\-]+, finished [0-9T:+.\-]+"), "started <time>, finished <time>"),
    (re.compile(r'<td class="n">[^<]*</td><td>\d{4}-\d\d-\d\dT[^<]*</td>'),
     '<td class="n"><seconds></td><td><time></td>'),
    (re.compile(r"Total notebook time [^<]*? s \(summed over workers\)"), "Total notebook time <seconds> s"),
)
#: Members of a workbook's zip that carry its dates, and the elements holding them.
_CORE = "docProps/core.xml"
_CORE_DATES = re.compile(r"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>")


def normalise_html(text: str) -> str:
    """Set aside the run-time provenance of a report (see the module notes).

    Examples
    --------
    >>> a = '<p>Built 2026-01-02 10:00 UTC</p><td data-volatile>5.1</td><td>ok</td>'
    >>> b = '<p>Built 2026-01-03 11:30 UTC</p><td data-volatile>7.9</td><td>ok</td>'
    >>> normalise_html(a) == normalise_html(b)
    True
    """
    text = VOLATILE_ELEMENT.sub(lambda m: m.group(1) + "\u2026" + m.group(3), text)
    for pattern, repl in VOLATILE_PATTERNS:
        text = pattern.sub(repl, text)
    return text


@dataclass
class Comparison:
    """What :func:`compare_trees` found."""

    same: dict[str, int] = field(default_factory=dict)
    differ: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differ


def _first_difference(a: bytes, b: bytes) -> str:
    try:
        la, lb = a.decode("utf-8").splitlines(), b.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return f"bytes differ ({len(a):,} vs {len(b):,} bytes)"
    for i, (x, y) in enumerate(zip(la, lb, strict=False), start=1):
        if x != y:
            return f"line {i}: {x[:160]!r} vs {y[:160]!r}"
    return f"{len(la)} vs {len(lb)} lines"


def _fragments(a: str, b: str, limit: int = 8) -> list[str]:
    ta, tb = re.split(r"(?=<)", a), re.split(r"(?=<)", b)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes():
        if op != "equal":
            out.append(f"{''.join(ta[i1:i2])[:160]!r} vs {''.join(tb[j1:j2])[:160]!r}")
            if len(out) == limit:
                out.append("...")
                break
    return out


def _xlsx_same(a: Path, b: Path) -> tuple[bool, str]:
    """Compare two workbooks member by member, ignoring zip timestamps and the workbook dates."""
    try:
        with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
            if za.namelist() != zb.namelist():
                return False, f"different members: {sorted(set(za.namelist()) ^ set(zb.namelist()))}"
            for name in za.namelist():
                x, y = za.read(name), zb.read(name)
                if name == _CORE:
                    x, y = (_CORE_DATES.sub("", v.decode("utf-8")).encode() for v in (x, y))
                if x != y:
                    return False, f"member {name} differs: {_first_difference(x, y)}"
    except zipfile.BadZipFile as exc:
        return False, f"not a readable workbook ({exc})"
    return True, ""


GROUPS = (
    ("tables", ("tables/*.csv",)),
    ("disclosure records", (".disclosure/*.json",)),
    ("numbers", ("numbers.json", "numbers/*.json")),
    ("figures", ("figures/*.png", "figures/*.svg")),
)


def compare_trees(a: str | Path, b: str | Path) -> Comparison:
    """Compare the published outputs of two ``reports/`` folders (see the module notes)."""
    a, b = Path(a), Path(b)
    res = Comparison()
    for group, patterns in GROUPS:
        names = sorted({p.relative_to(root).as_posix() for root in (a, b) for pat in patterns for p in root.glob(pat)})
        n = 0
        for name in names:
            pa, pb = a / name, b / name
            if not pa.is_file() or not pb.is_file():
                res.differ.append(f"reports/{name}: only in build {'A' if pa.is_file() else 'B'}")
                continue
            x, y = pa.read_bytes(), pb.read_bytes()
            if x == y:
                n += 1
            else:
                res.differ.append(f"reports/{name}: {_first_difference(x, y)}")
        res.same[group] = n
    xa, xb = a / "tables.xlsx", b / "tables.xlsx"
    if xa.is_file() and xb.is_file():
        if xa.read_bytes() == xb.read_bytes():
            res.same["tables.xlsx"] = 1
            res.notes.append("reports/tables.xlsx: byte-identical")
        else:
            same, why = _xlsx_same(xa, xb)
            if same:
                res.same["tables.xlsx"] = 1
                res.notes.append("reports/tables.xlsx: identical up to its zip timestamps and the workbook's "
                                 "created/modified dates (the report writes it with a fixed date: byte-identical)")
            else:
                res.differ.append(f"reports/tables.xlsx: {why}")
    elif xa.is_file() or xb.is_file():
        res.differ.append(f"reports/tables.xlsx: only in build {'A' if xa.is_file() else 'B'}")
    ha, hb = a / "report.html", b / "report.html"
    if ha.is_file() and hb.is_file():
        ta, tb = ha.read_text(encoding="utf-8"), hb.read_text(encoding="utf-8")
        if ta == tb:
            res.same["report.html"] = 1
            res.notes.append("reports/report.html: byte-identical")
        else:
            na, nb = normalise_html(ta), normalise_html(tb)
            if na == nb:
                res.same["report.html"] = 1
                res.notes.append("reports/report.html: identical outside its run-time provenance (build time, run "
                                 "start and finish, notebook seconds and finish times)")
            else:
                res.differ.append("reports/report.html: differs outside its run-time provenance:\n      "
                                  + "\n      ".join(_fragments(na, nb)))
    elif ha.is_file() or hb.is_file():
        res.differ.append(f"reports/report.html: only in build {'A' if ha.is_file() else 'B'}")
    return res


def _source() -> tuple[Path, bool]:
    """The input, and whether it is the synthetic dataset (copied) rather than real data (read in place)."""
    src = paths.data_source()
    if not src.exists():
        raise SystemExit(f"verify: input not found: {src} (run `make data`, or set RSS_DATA)")
    synthetic = src.is_dir() and ((src / "truth.json").is_file() or src.resolve() == paths.SYNTHETIC.resolve())
    return src, synthetic


def build(root: Path, source: Path, synthetic: bool, *, jobs: int, timeout: float) -> tuple[bool, str, float]:
    """Set up one temporary project at ``root`` and run the pipeline in it."""
    nbs = root / "notebooks"
    nbs.mkdir(parents=True)
    for p in sorted(paths.NOTEBOOKS.glob("*")):
        if p.is_file() and p.suffix in (".ipynb", ".py"):
            shutil.copy2(p, nbs / p.name)
    env = {k: v for k, v in os.environ.items() if k != "RSS_DATA"}
    env["RSS_ROOT"] = str(root)
    if synthetic:
        shutil.copytree(source, root / "data" / "raw" / "synthetic")
    else:
        env["RSS_DATA"] = str(source)
    (root / "data" / "processed").mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "helpers.cli", "run", "--jobs", str(jobs), "--timeout", str(timeout)],
                       cwd=root, env=env, capture_output=True, text=True, check=False)
    took = time.monotonic() - t0
    tail = [ln for ln in r.stderr.splitlines() if ln.startswith("rss run:") or ln.startswith("  ")]
    return r.returncode == 0, "\n".join(tail[-20:]), took


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m helpers.verify", description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="notebooks run at once in each build")
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds one notebook may run")
    ap.add_argument("--keep", action="store_true", help="keep the two temporary project roots")
    a = ap.parse_args(argv)
    try:
        source, synthetic = _source()
    except paths.DataSourceError as exc:
        print(f"verify: {exc}", file=sys.stderr)
        return 2
    base = Path(tempfile.mkdtemp(prefix="rss-verify-"))  # private (0700): real data is not copied anyway
    shown = paths.SYNTHETIC.relative_to(paths.ROOT) if synthetic and source.resolve() == paths.SYNTHETIC.resolve() \
        else source
    print(f"verify: building the report twice from {shown} ({'copied' if synthetic else 'read in place'}) in {base}")
    try:
        roots = {}
        for label in ("A", "B"):
            root = base / label.lower()
            ok, tail, took = build(root, source, synthetic, jobs=a.jobs, timeout=a.timeout)
            print(f"  build {label}: {'ok' if ok else 'FAILED'} ({took:.0f} s)")
            if not ok:
                print("    " + tail.replace("\n", "\n    "), file=sys.stderr)
                print("verify: a build failed; nothing compared", file=sys.stderr)
                return 1
            roots[label] = root
        res = compare_trees(roots["A"] / "reports", roots["B"] / "reports")
        counts = ", ".join(f"{k} {v}" for k, v in res.same.items())
        print(f"verify: identical: {counts}")
        for note in res.notes:
            print(f"  {note}")
        if res.differ:
            print(f"verify: {len(res.differ)} output{'s' if len(res.differ) != 1 else ''} differ between the two "
                  "builds:", file=sys.stderr)
            for d in res.differ:
                print(f"  {d}", file=sys.stderr)
            if not a.keep:
                print("  (rerun with --keep to inspect the two builds)", file=sys.stderr)
            return 1
        print("verify: the two builds agree")
        return 0
    finally:
        if a.keep:
            print(f"verify: kept {base / 'a'} and {base / 'b'}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
