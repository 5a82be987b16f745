"""Scan what the workspace publishes before anyone shares it: ``rss check`` (run by ``make report``).

    rss check [--root DIR] [--threshold N] [--ids-from PATH] [--no-disclosure] [--no-identifiers]
    python -m helpers.checks [same options]

Four scans; every hit is listed as ``file:line: what`` (``file[sheet]:row`` for a
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
2. **Differencing audit** (:mod:`helpers.checks.linked`): the published outputs are
   one set of linked tables.  Every count that a CSV, the workbook, the report or
   ``numbers.json`` publishes or hides is registered (:mod:`helpers.checks.cells`)
   as the surveys or respondents it counts; the bounds of each hidden count are
   solved for from all the published ones at once (linear programmes, HiGHS), and a
   hidden count whose bounds are less than the threshold apart is a hit naming the
   cell and the published cells that reveal it.
3. **Identifiers**: every file under ``reports/`` (hidden ones too: the runner's
   manifest and logs; workbooks are unzipped and their XML read; images and other
   binaries are read as bytes) and the committed notebooks ``notebooks/*.ipynb``
   (and their paired ``.py``) are searched for the respondent ids of the scored
   data (``data/processed/scored.parquet``, or ``--ids-from`` a scored file or the
   input): as written, in any letter case, and as the hexadecimal md5, sha1,
   sha256 or sha512 digest of the id (as written, lower- or upper-cased), whole or
   cut to its first 12 or more digits.
4. **Individual-level outputs**: no output of an executed or committed notebook
   displays a table (or Series) with a ``respondent_id`` column.

Limits: an id is matched as a whole token (a run of the characters ids are made
of), so an id glued to other such characters, salted or keyed hashes, and
encodings other than those above are not found; ids shorter than 5 characters, or
all digits and shorter than 8, would match ordinary numbers and are searched only
as digests.  Aggregates that single out a person without naming them (a count of
1 in a cross-tabulation) are the disclosure scan's business, not this one's.

Incremental: each scan is cut into one unit per published file, and a file is
scanned again only when its bytes (sha256), the ids, the threshold or the checks
code changed since the last pass (:mod:`helpers.checks.state`, recorded in
``reports/.check.json``); otherwise its earlier result, hits included, is replayed.
``rss check --all`` ignores the record and scans everything.

The package: ``hits`` (what a hit is), ``state`` (the record), ``tables`` (the
disclosure scan), ``cells`` and ``linked`` (the differencing audit), ``identifiers`` (the id scan, one Aho-Corasick pass per file),
``individual`` (individual-level outputs), and here the command.

Imports: the standard library, helpers.paths, helpers.settings, helpers.checks.*.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .hits import CheckError, Hit
from .identifiers import IdMatcher, identifier_summary, identifier_units, respondent_ids
from .individual import individual_summary, individual_units
from .linked import linked_summary, linked_unit
from .state import Record
from .tables import disclosure_summary, disclosure_units

__all__ = ["Hit", "CheckError", "check_disclosure", "check_linked", "check_identifiers", "check_individual_outputs",
           "respondent_ids", "IdMatcher", "run_checks", "add_arguments", "main"]

#: At most this many hits are printed per scan (the count of the rest follows).
MAX_SHOWN = 200


def check_disclosure(root: str | Path, *, threshold: int | None = None,
                     record: Record | None = None) -> tuple[list[Hit], str]:
    """Check every published table against the disclosure rule; return the hits and a summary line."""
    from ..settings import disclosure_threshold

    root = Path(root)
    thr = disclosure_threshold(threshold)
    rec = record or Record(None)
    hits, counts = rec.run(disclosure_units(root, thr))
    return hits, disclosure_summary(counts, thr)


def check_linked(root: str | Path, *, threshold: int | None = None,
                 record: Record | None = None) -> tuple[list[Hit], str]:
    """The differencing audit: no hidden count may be recoverable from all published counts together."""
    from ..settings import disclosure_threshold

    root = Path(root)
    thr = disclosure_threshold(threshold)
    rec = record or Record(None)
    hits, counts = rec.run([linked_unit(root, thr)])
    return hits, linked_summary(counts, thr)


def check_identifiers(root: str | Path, ids: Sequence[str] | None = None, *, source: str = "",
                      ids_from: str | Path | None = None, record: Record | None = None) -> tuple[list[Hit], str]:
    """Search the published files and the notebooks for respondent ids; return the hits and a summary line.

    ``ids`` given, else read from ``ids_from`` or the scored data (only when a file has to be searched).
    """
    root = Path(root)
    rec = record or Record(None)
    units = list(identifier_units(root, rec, ids_from=ids_from, ids=ids))
    hits, counts = rec.run(units)
    if not source and ids is None:
        from .hits import show
        from .identifiers import ids_source

        source = show(ids_source(root, ids_from), root)
    return hits, identifier_summary(counts, len(units), source)


def check_individual_outputs(root: str | Path, *, record: Record | None = None) -> tuple[list[Hit], str]:
    """Find notebook outputs that display a table with a ``respondent_id`` column (individual-level rows)."""
    root = Path(root)
    rec = record or Record(None)
    hits, counts = rec.run(individual_units(root))
    return hits, individual_summary(counts)


def run_checks(*, root: str | Path | None = None, threshold: int | None = None, ids_from: str | Path | None = None,
               disclosure: bool = True, identifiers: bool = True, everything: bool = False,
               stream: Any = None) -> int:
    """Run the scans and print what they found; return 0 (clean), 1 (hits) or 2 (cannot check).

    Files unchanged since the last pass are not scanned again unless ``everything`` (``--all``).
    """
    from .. import paths
    from ..settings import SettingError

    out = stream or sys.stdout
    err = stream or sys.stderr
    root = Path(root) if root else paths.ROOT
    record = Record.load(root, fresh=everything)
    results: list[tuple[list[Hit], str]] = []
    try:
        if disclosure:
            results.append(check_disclosure(root, threshold=threshold, record=record))
            results.append(check_linked(root, threshold=threshold, record=record))
        if identifiers:
            results.append(check_identifiers(root, ids_from=ids_from, record=record))
            results.append(check_individual_outputs(root, record=record))
    except (CheckError, SettingError) as exc:
        print(f"rss check: {exc}", file=err)
        return 2
    record.save()
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
    n_units = record.rescanned + record.reused
    scanned = ("every file scanned (--all)" if everything else
               f"{record.rescanned} of {n_units} file scans redone, the rest unchanged since the last pass")
    if total:
        print(f"rss check: FAILED, {total} problem{'s' if total != 1 else ''}: fix them before sharing anything "
              f"under reports/ ({scanned})", file=err)
        return 1
    print(f"rss check: ok ({scanned})", file=out)
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
    p.add_argument("--all", action="store_true", dest="everything",
                   help="scan every file again, ignoring what the last pass recorded (reports/.check.json)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m helpers.checks", description=__doc__.splitlines()[0])
    add_arguments(p)
    a = p.parse_args(argv)
    return run_checks(root=a.root, threshold=a.threshold, ids_from=a.ids_from, disclosure=not a.no_disclosure,
                      identifiers=not a.no_identifiers, everything=a.everything)
