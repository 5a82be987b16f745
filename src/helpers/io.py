"""Atomic writes: every output goes to a temporary file, then is renamed into place.

A crash, a Ctrl-C or an exception while writing never leaves a half-written file
under its final name, and never damages the previous version.  A process killed
outright (``SIGKILL``, a dead kernel) cannot remove its temporary file: those are
named ``.<target name>.<random>.tmp`` (:data:`TEMPORARY`), never read by anything,
and :func:`remove_temporaries` sweeps them (the runner does so whenever no
notebook is running).

Importing this module is cheap (pandas and openpyxl are imported only by the
functions that need them), so the runner and its workers use it too.

Imports: no other helpers module.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from openpyxl import Workbook

__all__ = ["atomic_path", "usual_mode", "write_bytes", "write_text", "write_json", "write_parquet", "write_csv", "write_workbook",
           "TEMPORARY", "temporaries", "remove_temporaries", "FIXED_TIMESTAMP"]

#: Names of the temporary files :func:`atomic_path` creates (``.<target name>.<random>.tmp``).
TEMPORARY = re.compile(r"^\..+\.tmp$")
#: Timestamp written into workbooks (properties and zip entries), so the same content gives the same bytes.
FIXED_TIMESTAMP = dt.datetime(2020, 1, 1, 0, 0, 0)


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "a.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> (d / "a.txt").read_text()
    'done'
    >>> try:
    ...     with atomic_path(d / "a.txt") as tmp:
    ...         _ = tmp.write_text("half")
    ...         raise RuntimeError("crash")
    ... except RuntimeError:
    ...     pass
    >>> (d / "a.txt").read_text(), sorted(p.name for p in d.iterdir())
    ('done', ['a.txt'])
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, usual_mode(0o666))  # mkstemp creates 0600; outputs get the usual permissions
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def usual_mode(mode: int) -> int:
    """``mode`` less the process's umask: the permissions ``open`` or ``mkdir`` would give (mkstemp, mkdtemp: 0600, 0700)."""
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


def write_bytes(target: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``target`` atomically."""
    return write_bytes(target, text.encode("utf-8"))


def write_json(target: str | Path, obj: Any) -> Path:
    """Write ``obj`` as stable JSON (sorted keys, indent 2) atomically."""
    return write_text(target, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")


def write_parquet(target: str | Path, df: pd.DataFrame, row_group_size: int | None = None) -> Path:
    """Write ``df`` to Parquet atomically (no pandas index; pyarrow's row groups unless ``row_group_size``)."""
    with atomic_path(target) as tmp:
        df.to_parquet(tmp, index=False, row_group_size=row_group_size)
    return Path(target)


def write_csv(target: str | Path, df: pd.DataFrame, **kwargs: Any) -> Path:
    """Write ``df`` to CSV atomically (UTF-8, ``\\n`` line ends, no index by default)."""
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\n")
    with atomic_path(target) as tmp:
        df.to_csv(tmp, **kwargs)
    return Path(target)


def workbook_bytes(wb: Workbook, *, timestamp: dt.datetime = FIXED_TIMESTAMP) -> bytes:
    """Serialise an openpyxl workbook reproducibly: same content, same bytes.

    openpyxl stamps the workbook's ``modified`` property with the current time and
    every zip entry with the clock; both are fixed to ``timestamp`` here (the
    ``created`` property too), and entries are re-packed with fixed attributes.
    """
    import io as _io
    import zipfile

    from openpyxl.xml.functions import tostring

    wb.properties.created = timestamp
    buf = _io.BytesIO()
    wb.save(buf)
    wb.properties.created = timestamp
    wb.properties.modified = timestamp
    core = tostring(wb.properties.to_tree())
    out = _io.BytesIO()
    with zipfile.ZipFile(_io.BytesIO(buf.getvalue())) as src, \
            zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = core if info.filename == "docProps/core.xml" else src.read(info.filename)
            zi = zipfile.ZipInfo(info.filename, date_time=timestamp.timetuple()[:6])
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.create_system = 0
            zi.external_attr = 0o600 << 16
            dst.writestr(zi, data, compresslevel=6)
    return out.getvalue()


def write_workbook(target: str | Path, wb: Workbook) -> Path:
    """Write an openpyxl workbook to ``target`` atomically and byte-reproducibly (:func:`workbook_bytes`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from openpyxl import Workbook
    >>> def book():
    ...     wb = Workbook(write_only=True)
    ...     wb.create_sheet("t").append(["a", 1])
    ...     return wb
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> a, b = write_workbook(d / "a.xlsx", book()), write_workbook(d / "b.xlsx", book())
    >>> a.read_bytes() == b.read_bytes()
    True
    """
    return write_bytes(target, workbook_bytes(wb))


def temporaries(folders: Iterable[str | Path]) -> list[Path]:
    """Temporary files of :func:`atomic_path` left under ``folders`` (searched recursively)."""
    found: list[Path] = []
    for folder in folders:
        folder = Path(folder)
        if folder.is_dir():
            found += [p for p in folder.rglob(".*.tmp") if p.is_file() and TEMPORARY.match(p.name)]
    return sorted(found)


def remove_temporaries(folders: Iterable[str | Path]) -> list[Path]:
    """Remove the temporary files of writers that were killed; return what was removed.

    Call it only when no writer is running (a live writer's temporary file would go).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / ".t.csv.abc123.tmp").write_text("half"); _ = (d / "t.csv").write_text("whole")
    >>> [p.name for p in remove_temporaries([d])], sorted(p.name for p in d.iterdir())
    (['.t.csv.abc123.tmp'], ['t.csv'])
    """
    gone = []
    for p in temporaries(folders):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
            gone.append(p)
    return gone
