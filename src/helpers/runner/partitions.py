"""Scoring a partitioned input on a ``dask.distributed`` cluster: ``rss score PATH -o OUT --cluster ADDRESS``.

    rss score /shared/rss_export/ -o /shared/scored.parquet --cluster tcp://scheduler:8786
    rss score data/big/ -o data/processed/scored.parquet --cluster local --jobs 2

``PATH`` is a Parquet file or a folder of them, searched recursively as the loader
searches it (hive-style subfolders such as ``country=SEN/part-0.parquet`` included;
the folder names are not read as columns, the files carry every column).  Each file is
a partition and one task: the worker reads the file itself from the shared path,
checks and types it as :func:`helpers.loader.load` would (:func:`~helpers.loader.load_partition`),
scores it and writes the scored partition into a temporary folder beside ``OUT``
(``.<OUT name>.<random>.parts``).  Nothing of the records travels from the client: a
task is sent a path, the display name of the file, the scheme and today's date, and
returns its problems or its record keys (:func:`helpers.loader.records.record_keys`:
two 64-bit hashes of each ``respondent_id``, the wave and the row; 28 bytes a survey).

The client then checks across partitions what needs every file, the uniqueness of
(``respondent_id``, ``wave``), on those keys (:func:`~helpers.loader.partition_checks`,
the loader's own check, so the same lines), and assembles ``OUT``: partition by
partition, row group by row group (at most :data:`ROW_GROUP` rows in memory), into one
temporary file renamed onto ``OUT``.  The columns whose categories are the values
present (:data:`~helpers.loader.OBSERVED_CATEGORIES`: country, return_from) are
re-encoded with the categories of all partitions, so ``OUT`` reads back as the very
table ``rss score`` without ``--cluster`` writes: same rows, order, values, dtypes and
categories, same Arrow schema and pandas metadata.  The bytes differ: the local writer
puts up to 1,048,576 rows in a row group, here a row group is at most :data:`ROW_GROUP`
rows of one partition (keeping every row group whole would hold the data in memory).

Bad input gets the lines ``rss score`` prints (file, row, column, value), every
problem at once; nothing is written: the temporary folder goes, ``OUT`` is untouched.
What cannot be checked partition-wise: nothing the loader checks.  The files are typed
apart, but a column whose type differs between files (int64 here, float64 there) is given
on reading the type stacking gives it (:func:`~helpers.loader.stacked_casts`, from the
files' footers), so the values and the problems are those of the loader.  Files of another format are refused (the loader
stacks CSV/XLSX before Parquet; score those without ``--cluster``).

What the cluster must provide: the input and the folder of ``OUT`` at the same paths
on every worker, and the same installed project; both are asked of every worker before
anything runs (:func:`~helpers.runner.cluster.check_workers`).  A worker that dies
mid-partition is harmless: the scheduler runs the task again elsewhere, and the
partition is written atomically.

Imports: helpers.io, helpers.loader, helpers.paths, helpers.runner.cluster, helpers.scheme, helpers.scoring.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..scheme import Scheme
from .cluster import check_workers, close, connect

#: Seconds a failed or interrupted run waits for its running tasks before it removes the partitions' folder.
CANCEL_WAIT = 60.0
#: Rows in a row group of a scored partition, and so at most in the client's memory while ``OUT`` is assembled.
ROW_GROUP = 131_072


@dataclass(frozen=True)
class Scored:
    """What :func:`score_on_cluster` wrote."""

    path: Path
    rows: int
    composite: int
    partitions: int


def score_partition(spec: dict[str, Any]) -> dict[str, Any]:
    """A Dask task: check, type and score one file; write the scored partition to ``spec["out"]``.

    Returns the file's problems, or its record keys, row counts and the categories of
    :data:`~helpers.loader.OBSERVED_CATEGORIES`.  With ``out`` None it only checks.
    """
    from ..io import write_parquet
    from ..loader import OBSERVED_CATEGORIES, load_partition
    from ..scoring import score

    data, keys, problems = load_partition(spec["path"], spec["name"], spec["scheme"], spec["today"],
                                          spec.get("casts"), spec.get("hash_keys"))
    if problems or spec["out"] is None:
        return {"problems": problems}
    scored = score(data, spec["scheme"])
    del data
    if not Path(spec["out"]).parent.is_dir():  # the run ended (failed, interrupted) and removed its folder: write nothing
        return {"problems": [], "gone": True}
    write_parquet(spec["out"], scored, row_group_size=ROW_GROUP)
    return {"problems": [], "keys": keys, "rows": len(scored), "composite": int(scored["score_composite"].notna().sum()),
            "categories": {c: list(scored[c].cat.categories) for c in OBSERVED_CATEGORIES}}


def score_on_cluster(path: str | Path | None, out: str | Path, scheme: Scheme, address: str, *,
                     workers: int | None = None, today: dt.date | None = None) -> Scored:
    """Validate and score the Parquet partitions of ``path`` on the cluster at ``address``; write ``out``.

    Raises :class:`~helpers.loader.DataError` (every problem, as ``rss score`` lists
    them) or :class:`~helpers.runner.registry.RunError` (the cluster cannot be used);
    then nothing was written.
    """
    from .. import paths
    from ..io import atomic_path, usual_mode
    from ..loader import DataError, Problem, display_path, find_files, in_order, partition_checks, stacked_casts

    today = today or dt.date.today()
    files, _skipped, problems = find_files(Path(path) if path is not None else paths.data_source())
    names = [display_path(f) for f in files]
    problems += [Problem(n, "is not a Parquet file: rss score --cluster scores Parquet partitions only (convert it, "
                            "or score without --cluster)") for f, n in zip(files, names, strict=True)
                 if f.suffix.lower() != ".parquet"]
    parts = [(f.absolute(), n) for f, n in zip(files, names, strict=True) if f.suffix.lower() == ".parquet"]
    if not parts:
        raise DataError(in_order(problems))
    target = Path(out).absolute()
    made = [d for d in (target.parent, *target.parent.parents) if not d.exists()]  # removed again if it fails
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".parts", dir=target.parent))
    folder.chmod(usual_mode(0o777))  # the usual permissions (mkdtemp makes 0700): workers run as the same user
    casts = stacked_casts([f for f, _ in parts])  # from the files' footers: the client reads no record
    hash_keys = (secrets.token_hex(8), secrets.token_hex(8))  # this run's: the hashes cannot be matched to guesses
    client = cluster = futures = None
    try:
        client, cluster = connect(address, workers)
        check_workers(client, folder, address=address, shared=str(target.parent),
                      paths=[str(f) for f, _ in parts])
        run = uuid.uuid4().hex[:8]
        scored = [folder / f"part-{i:06d}.parquet" for i in range(len(parts))]
        specs = [{"path": str(f), "name": n, "scheme": scheme, "today": today, "out": None if problems else str(s),
                  "casts": c, "hash_keys": hash_keys} for (f, n), s, c in zip(parts, scored, casts, strict=True)]
        futures = [client.submit(score_partition, spec, key=f"rss-score-{run}-{i}", pure=False)
                   for i, spec in enumerate(specs)]
        results = client.gather(futures)
        futures = None
        problems += [p for r in results for p in r["problems"]]
        if not problems:
            problems = partition_checks([r.pop("keys") for r in results], [n for _, n in parts])
        if problems:
            raise DataError(in_order(problems))
        categories = {c: sorted(set().union(*(r["categories"][c] for r in results))) for c in results[0]["categories"]}
        with atomic_path(target) as tmp:
            assemble(tmp, scored, categories)
        return Scored(Path(out), sum(r["rows"] for r in results), sum(r["composite"] for r in results), len(parts))
    finally:
        if futures is not None and client is not None:
            client.cancel(futures)  # a task already running is not stopped: let it end before the folder goes
            with contextlib.suppress(Exception):
                from distributed import wait

                wait(futures, timeout=CANCEL_WAIT)
        close(client, cluster)
        shutil.rmtree(folder, ignore_errors=True)  # a task ending later finds it gone and writes nothing
        if not target.exists():  # failed: the folders made for OUT go too (nothing is written)
            for d in made:
                with contextlib.suppress(OSError):
                    d.rmdir()


def assemble(target: Path, parts: list[Path], categories: dict[str, list[str]]) -> None:
    """Write the scored ``parts`` one after the other into ``target``, row group by row group.

    The columns of ``categories`` are re-encoded with those categories (their order is
    the one given); the schema and its pandas metadata are those of the first part with
    these categories, i.e. what pandas writes for the whole table.
    """
    import pyarrow.parquet as pq

    schema = None
    writer = None
    try:
        for part in parts:
            pf = pq.ParquetFile(part)
            if schema is None:
                schema = _schema(pf.schema_arrow, categories)
                writer = pq.ParquetWriter(target, schema)
            for i in range(pf.num_row_groups):
                writer.write_table(_conform(pf.read_row_group(i), schema, categories))
            pf.close()
    finally:
        if writer is not None:
            writer.close()


def _schema(first: Any, categories: dict[str, list[str]]) -> Any:
    """``first`` with each column of ``categories`` given the dictionary type pandas gives those categories.

    A column without any category (no value in any part) is left as it is: Parquet stores
    it as a column of nulls in every part, as in the whole table.
    """
    import pandas as pd
    import pyarrow as pa

    meta = json.loads(first.metadata[b"pandas"])
    fields = list(first)
    for col, cats in categories.items():
        if not cats:
            continue
        empty = pd.Categorical([], categories=cats)
        i = first.get_field_index(col)
        fields[i] = fields[i].with_type(pa.array(empty).type)
        entry = next(m for m in meta["columns"] if m["field_name"] == col)
        entry["numpy_type"] = empty.codes.dtype.name
        entry["metadata"]["num_categories"] = len(cats)
    return pa.schema(fields, metadata={**first.metadata, b"pandas": json.dumps(meta).encode()})


def _conform(table: Any, schema: Any, categories: dict[str, list[str]]) -> Any:
    """One row group of a part with ``schema``: the dictionaries of ``categories`` re-encoded onto all categories."""
    import pyarrow as pa

    columns = []
    for field in schema:
        col = table.column(field.name)
        if categories.get(field.name):
            every = pa.array(categories[field.name], type=field.type.value_type)
            col = pa.chunked_array([_recode(chunk, every, field.type.index_type) for chunk in col.chunks],
                                   type=field.type)
        elif col.type != field.type:
            col = col.cast(field.type)
        columns.append(col)
    return pa.Table.from_arrays(columns, schema=schema)


def _recode(chunk: Any, every: Any, index_type: Any) -> Any:
    """A dictionary-encoded chunk encoded onto the dictionary ``every`` (which holds all its values)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(chunk.type):
        codes = pc.index_in(chunk.dictionary.cast(every.type), value_set=every).take(chunk.indices)
    else:  # a part without any value in this column: Parquet keeps it as a column of nulls
        codes = pa.nulls(len(chunk))
    return pa.DictionaryArray.from_arrays(codes.cast(index_type), every)
