"""Reading a Parquet file, its integer columns narrowed to the smallest integer type.

Imports: helpers.loader.readers.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

from .readers import FileProblem, check_header


def read_parquet(raw: bytes) -> pd.DataFrame:
    frame = _read_parquet_narrow(raw)
    if frame is not None:
        return frame
    # what _read_parquet_narrow does not take (a broken file, duplicated columns, no columns) is read whole, so
    # that its problem is reported in the same words as ever
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(raw))
    except Exception as exc:
        raise FileProblem(f"not a readable Parquet file ({type(exc).__name__}: {exc})") from None
    check_header(table.column_names)
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
        check_header(schema.names)
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
    except Exception:  # whatever the problem, the whole-file read in read_parquet reports it
        return None
    return table.to_pandas(date_as_object=False, split_blocks=True, self_destruct=True)
