"""The identifier scan of ``rss check``: respondent ids, raw or hashed, in anything published.

Every file under ``reports/`` (hidden ones too: the runner's manifest and logs;
workbooks are unzipped and their XML read; images and other binaries are read as
bytes) and the committed notebooks ``notebooks/*.ipynb`` (and their paired ``.py``)
are searched for the respondent ids of the scored data: as written, in any letter
case, and as the hexadecimal md5, sha1, sha256 or sha512 digest of the id (as
written, lower- or upper-cased), whole or cut to its first 12 or more digits.

The ids are found in one pass over a text with an Aho-Corasick automaton
(``ahocorasick-rs``, a Rust implementation: one pass whatever the number of ids),
then kept only where they are a whole token (a run of the characters ids are made
of), as before.  Digests are found as runs of 12 or more hex digits, looked up by
their first 12.  Each file is one :class:`~helpers.checks.state.Unit` whose salt is
the sha256 of the ids' source file, so a file is searched again only when its bytes,
the ids or the checks code changed; the ids are read and the automaton built only
when some file has to be searched.  The record ``reports/.check.json`` is not
searched (it is the checks' own file and holds no id nor digest of one).

Imports: helpers.checks.hits, helpers.checks.state, helpers.loader.
"""

from __future__ import annotations

import bisect
import hashlib
import io as _io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from .hits import CheckError, Hit, show
from .state import RECORD_NAME, Record, Unit

__all__ = ["MIN_ID_LENGTH", "MIN_NUMERIC_ID_LENGTH", "MIN_DIGEST_PREFIX", "DIGESTS", "IdMatcher",
           "respondent_ids", "ids_source", "files_for_ids", "identifier_units", "identifier_summary"]

#: Ids shorter than this are searched only as digests (they would match ordinary words or numbers).
MIN_ID_LENGTH = 5
#: All-digit ids shorter than this are searched only as digests (they would match counts).
MIN_NUMERIC_ID_LENGTH = 8
#: Shortest prefix of a hex digest recognised as a truncated hash of an id.
MIN_DIGEST_PREFIX = 12
DIGESTS = ("md5", "sha1", "sha256", "sha512")


def ids_source(root: Path, ids_from: str | Path | None = None) -> Path:
    """Where the ids are read: ``ids_from``, else ``data/processed/scored.parquet`` under ``root``."""
    src = Path(ids_from) if ids_from else root / "data" / "processed" / "scored.parquet"
    if not src.exists():
        if ids_from:
            raise CheckError(f"--ids-from {ids_from}: no such file or folder")
        raise CheckError(f"no respondent ids to search for: {show(src, root)} does not exist (run `rss run` "
                         "first, or pass --ids-from with the input file or folder)")
    return src


def respondent_ids(root: str | Path, ids_from: str | Path | None = None) -> tuple[list[str], str]:
    """The respondent ids to search for, and where they came from.

    ``ids_from`` (a scored Parquet file or the input, a file or folder) else
    ``data/processed/scored.parquet`` under ``root``.
    """
    root = Path(root)
    src = ids_source(root, ids_from)
    if src.is_file() and src.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            col = pq.read_table(src, columns=["respondent_id"]).column(0)
        except Exception as exc:  # noqa: BLE001
            raise CheckError(f"{show(src, root)}: cannot read its respondent_id column ({exc})") from None
        ids = [str(v) for v in col.to_pylist() if v is not None]
    else:
        from ..loader import load

        ids = [str(v) for v in load(src).data["respondent_id"]]
    return sorted(set(ids)), show(src, root)


class IdMatcher:
    """Find respondent ids, raw or transformed, in text.

    Examples
    --------
    >>> m = IdMatcher(["R12AB34", "R99ZZ01"])
    >>> [k for _pos, k in m.find("rows of R12AB34 and r99zz01; id-" + hashlib.sha256(b"R12AB34").hexdigest())]
    ['as written', 'in another letter case', 'as its sha256 hex digest']
    >>> m.find("R12AB345 and xR12AB34 are other tokens")
    []
    >>> [k for _pos, k in m.find("key " + hashlib.md5(b"r12ab34").hexdigest()[:14] + ".")]
    ['as the first 14 digits of its md5 hex digest']
    """

    def __init__(self, ids: Iterable[str]):
        ids = [str(i) for i in ids if str(i).strip()]
        self.n = len(ids)
        self.raw = {i.strip() for i in ids}
        searchable = [i for i in self.raw if len(i) >= MIN_ID_LENGTH and not (i.isdigit() and
                                                                               len(i) < MIN_NUMERIC_ID_LENGTH)]
        self.n_digest_only = len(self.raw) - len(searchable)
        self.folded = sorted({i.lower() for i in searchable})
        # a token: a run of letters and digits, and of the other characters ids use (e.g. "-" in "GIN-00123")
        self.token_chars = frozenset("0123456789abcdefghijklmnopqrstuvwxyz").union(
            ch for i in self.folded for ch in i)
        self.automaton = None
        if self.folded:
            import ahocorasick_rs

            self.automaton = ahocorasick_rs.AhoCorasick(self.folded, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)
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

    def _tokens(self, text: str, low: str) -> Iterator[tuple[int, str]]:
        """Ids that are a whole token of ``low`` (the lower-cased ``text``)."""
        if self.automaton is None:
            return
        # ids are made of token characters only, so a match never spans two tokens: a leftmost-longest
        # match that is a whole token is exactly a token equal to an id
        chars = self.token_chars
        end_of = len(low)
        for k, start, end in self.automaton.find_matches_as_indexes(low):
            if (start and low[start - 1] in chars) or (end < end_of and low[end] in chars):
                continue
            exact = text[start:end] in self.raw
            yield start, "as written" if exact else "in another letter case"
            del k

    def find(self, text: str) -> list[tuple[int, str]]:
        """(position, form) of every id found in ``text``, in order."""
        low = text.lower()
        found = list(self._tokens(text, low))
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


def _scan_text(text: str, matcher: IdMatcher, shown: str, hits: list[Hit], prefix: str = "") -> None:
    found = matcher.find(text)
    if not found:
        return
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    for pos, form in found:
        hits.append(Hit(shown, f"{prefix}{bisect.bisect_right(starts, pos)}", f"a respondent id {form}"))


def files_for_ids(root: Path) -> list[Path]:
    """The files searched for ids: everything under ``reports/`` but the checks' record, and the notebooks."""
    reports = root / "reports"
    record = reports / RECORD_NAME
    files = [p for p in sorted(reports.rglob("*")) if p.is_file() and p != record] if reports.is_dir() else []
    nbs = root / "notebooks"
    if nbs.is_dir():
        files += sorted(p for p in nbs.iterdir() if p.is_file() and p.suffix in (".ipynb", ".py"))
    return files


def scan_file(root: Path, path: Path, matcher: IdMatcher) -> list[Hit]:
    """The ids found in one file (the members of a zip, e.g. a workbook, each on its own)."""
    hits: list[Hit] = []
    shown = show(path, root)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [Hit(shown, None, f"cannot be read ({exc})")]
    if data[:4] == b"PK\x03\x04":  # a zip: a workbook (xlsx), or any Office file
        try:
            with zipfile.ZipFile(_io.BytesIO(data)) as z:
                for member in z.namelist():
                    _scan_text(z.read(member).decode("utf-8", errors="replace"), matcher, f"{shown}[{member}]", hits)
            return hits
        except zipfile.BadZipFile:
            pass
    _scan_text(data.decode("utf-8", errors="replace"), matcher, shown, hits)
    return hits


class _Lazy:
    """The ids and their matcher, read and built at the first file that has to be searched."""

    def __init__(self, root: Path, ids_from: str | Path | None, ids: Sequence[str] | None):
        self.root, self.ids_from, self.ids = root, ids_from, ids
        self._matcher: IdMatcher | None = None

    def matcher(self) -> IdMatcher:
        if self._matcher is None:
            ids = self.ids if self.ids is not None else respondent_ids(self.root, self.ids_from)[0]
            self._matcher = IdMatcher(ids)
        return self._matcher


def _ids_salt(record: Record, src: Path | None, ids: Sequence[str] | None) -> str:
    if ids is not None:
        return "ids " + hashlib.sha256("\0".join(sorted(set(map(str, ids)))).encode()).hexdigest()
    assert src is not None
    if src.is_dir():
        parts = sorted(p for p in src.rglob("*") if p.is_file())
        return "ids " + hashlib.sha256("".join(f"{p}\0{record.digest(p)}\0" for p in parts).encode()).hexdigest()
    return "ids " + record.digest(src)


def identifier_units(root: Path, record: Record, *, ids_from: str | Path | None = None,
                     ids: Sequence[str] | None = None) -> Iterator[Unit]:
    """One unit per file searched; ``ids`` given directly, else read (lazily) from ``ids_from`` or the scored data."""
    src = None if ids is not None else ids_source(root, ids_from)
    salt = _ids_salt(record, src, ids)
    lazy = _Lazy(root, ids_from, ids)

    def compute(p: Path) -> tuple[list[Hit], dict[str, int]]:
        m = lazy.matcher()
        return scan_file(root, p, m), {"files": 1, "ids": len(m.raw), "digest_only": m.n_digest_only}

    for path in files_for_ids(root):
        yield Unit("identifiers", (path,), lambda p=path: compute(p), salt)


def identifier_summary(counts: dict[str, int], n_files: int, source: str) -> str:
    """The summary line of the identifier scan (``counts`` summed over its units)."""
    n_ids = counts.get("ids", 0) // max(n_files, 1) if n_files else 0
    n_short = counts.get("digest_only", 0) // max(n_files, 1) if n_files else 0
    note = (f"; {n_short:,} ids too short (or all digits) to search as text were searched as digests"
            if n_short else "")
    return (f"identifiers: {n_ids:,} respondent ids{f' from {source}' if source else ''}, searched as "
            f"written, in any letter case and as {'/'.join(DIGESTS)} hex digests (whole or first "
            f"{MIN_DIGEST_PREFIX}+ digits), in {n_files} files (reports/, notebooks/){note}")
