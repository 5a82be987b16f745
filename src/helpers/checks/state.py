"""What ``rss check`` remembers between passes, so it rescans only outputs whose bytes changed.

A scan is cut into :class:`Unit` s: one published file (or a file with the records
it is read with), a function that scans it, and a *salt* for anything else the result
depends on (the threshold; for the identifier scan, the digest of the ids' source).
A unit's key is the sha256 of the checks code, its scan, its salt and the sha256 of
each of its input files; its result (hits and the counts for the summary line) is
kept in ``reports/.check.json`` under that key.  The next pass computes every key
again and reuses the result of each unit whose key it has seen: the same hits come
out, in the same order, with the same exit status, and nothing is skipped that
changed.  File digests are themselves reused while a file's size, modification time
(ns) and inode are unchanged, as git's index does; ``rss check --all`` ignores the
record and rescans everything.

The record holds digests of published files, counts and the hits' texts (which never
show a respondent id), never an id or a digest of one.  ``rss check`` does not scan
it for ids: it is its own file.

Imports: the standard library, helpers.io, helpers.checks.hits.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .hits import Hit

__all__ = ["Unit", "Record", "RECORD_NAME", "code_digest"]

#: The record's file, under ``reports/``.
RECORD_NAME = ".check.json"
RECORD_FORMAT = 1


@dataclass
class Unit:
    """One piece of a scan: ``compute()`` returns its hits and its counts for the summary line."""

    scan: str
    inputs: tuple[Path, ...]
    compute: Callable[[], tuple[list[Hit], dict[str, int]]]
    salt: str = ""


def code_digest() -> str:
    """sha256 of the checks package's own source: a change of the scans invalidates every result."""
    h = hashlib.sha256()
    for p in sorted(Path(__file__).parent.glob("*.py")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


@dataclass
class Record:
    """The results of the last pass, keyed by unit key; file digests by path with their stat."""

    path: Path | None
    results: dict[str, Any] = field(default_factory=dict)
    files: dict[str, list[Any]] = field(default_factory=dict)
    seen_results: dict[str, Any] = field(default_factory=dict)
    seen_files: dict[str, list[Any]] = field(default_factory=dict)
    code: str = ""
    rescanned: int = 0
    reused: int = 0
    scanned_files: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, root: Path, *, fresh: bool = False) -> Record:
        """The record of ``root`` (empty when ``fresh``, missing, unreadable or from other checks code)."""
        path = root / "reports" / RECORD_NAME
        rec = cls(path if (root / "reports").is_dir() else None, code=code_digest())
        if fresh or rec.path is None:
            return rec
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return rec
        if isinstance(data, dict) and data.get("format") == RECORD_FORMAT and data.get("code") == rec.code:
            rec.results = data.get("results") or {}
            rec.files = data.get("files") or {}
        return rec

    def digest(self, path: Path) -> str:
        """sha256 of a file's bytes ("-" when it does not exist), reused while its stat is unchanged."""
        try:
            st = path.stat()
        except OSError:
            return "-"
        stat = [st.st_size, st.st_mtime_ns, st.st_ino]
        key = str(path)
        known = self.seen_files.get(key) or self.files.get(key)
        if known and known[:3] == stat:
            self.seen_files[key] = known
            return known[3]
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        self.seen_files[key] = [*stat, h.hexdigest()]
        return h.hexdigest()

    def key(self, unit: Unit) -> str:
        h = hashlib.sha256(f"{self.code}\0{unit.scan}\0{unit.salt}".encode())
        for p in unit.inputs:
            h.update(f"\0{p.name}\0{self.digest(p)}".encode())
        return h.hexdigest()

    def run(self, units: Iterable[Unit]) -> tuple[list[Hit], dict[str, int]]:
        """Hits (in unit order) and summed counts of ``units``, each reused or computed."""
        hits: list[Hit] = []
        counts: dict[str, int] = {}
        for unit in units:
            k = self.key(unit)
            got = self.seen_results.get(k) or self.results.get(k)
            if got is None:
                found, n = unit.compute()
                got = {"hits": [h.to_json() for h in found], "counts": n}
                self.rescanned += 1
                if unit.inputs:
                    self.scanned_files.add(str(unit.inputs[0]))
            else:
                self.reused += 1
            self.seen_results[k] = got
            hits += [Hit.from_json(v) for v in got["hits"]]
            for name, v in got["counts"].items():
                counts[name] = counts.get(name, 0) + int(v)
        return hits, counts

    def save(self) -> None:
        """Write what this pass saw (only that: results of files gone or changed are dropped), atomically."""
        if self.path is None:
            return
        from .. import io

        data = {"format": RECORD_FORMAT, "code": self.code, "results": self.seen_results, "files": self.seen_files}
        try:
            io.write_json(self.path, data)
        except OSError:  # a read-only reports/: the next pass rescans, nothing else changes
            if self.path.exists():
                try:
                    os.unlink(self.path)
                except OSError:
                    pass
