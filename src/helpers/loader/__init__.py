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

Modules (one idea each; this package re-exports their public names)
-------------------------------------------------------------------
* :mod:`~helpers.loader.problems`: a problem located by file, row, column and value; collecting them.
* :mod:`~helpers.loader.readers`: finding the data files; reading CSV and XLSX.
* :mod:`~helpers.loader.parquet`: reading Parquet, integer columns narrowed.
* :mod:`~helpers.loader.columns`: checking and typing one column.
* :mod:`~helpers.loader.records`: the data contract applied to records, within and across files.
* :mod:`~helpers.loader.reading`: :func:`load`, the one entry point; :func:`load_partition`, one file of a
  partitioned input checked alone (``rss score --cluster``), whose keys :func:`partition_checks` checks across files.

Imports: its own submodules (which import helpers.paths and helpers.scheme).
"""

from __future__ import annotations

from .parquet import read_parquet as read_parquet
from .problems import MAX_ROWS_LISTED as MAX_ROWS_LISTED
from .problems import DataError, Problem
from .problems import in_order as in_order
from .readers import DATA_SUFFIXES as DATA_SUFFIXES
from .readers import IGNORED_SUFFIXES as IGNORED_SUFFIXES
from .readers import FileInfo, find_files
from .readers import display_path as display_path
from .readers import file_sha256 as file_sha256
from .reading import LoadResult, load
from .reading import load_partition as load_partition
from .reading import stacked_casts as stacked_casts
from .records import CONTRACT_COLUMNS
from .records import DAYS_PER_MONTH as DAYS_PER_MONTH
from .records import OBSERVED_CATEGORIES as OBSERVED_CATEGORIES
from .records import OPTIONAL as OPTIONAL
from .records import REQUIRED as REQUIRED
from .records import SPECIAL as SPECIAL
from .records import partition_checks as partition_checks

__all__ = ["Problem", "DataError", "FileInfo", "LoadResult", "load", "find_files", "CONTRACT_COLUMNS"]
