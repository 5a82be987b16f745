"""The data contract applied to records: required columns, each column checked, rows checked across files.

:func:`prepare_file` checks a file as a whole (records present, required columns),
:func:`validate` checks and types every column of stacked files, :func:`cross_checks`
looks across rows and files (duplicated respondent and wave), :func:`finish` gives the
loaded frame its final types.  Files checked apart (``rss score --cluster``, one file
a task) meet across files through :func:`record_keys` and :func:`partition_checks`.

Imports: helpers.scheme, helpers.loader.problems, helpers.loader.columns.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ..scheme import MAX_CODE, Scheme, code_slots
from .columns import (
    blank_cells,
    check_required,
    is_textual,
    parse_choice,
    parse_date,
    parse_int,
    parse_numbers,
    stripped_text,
)
from .problems import MAX_ROWS_LISTED, Checks, Problem

REQUIRED = ["respondent_id", "country", "wave", "survey_date", "return_date", "mentored"]
OPTIONAL = ["sex", "age", "return_from", "mentoring_start", "assist_economic", "assist_social",
            "assist_psychosocial", "weight"]
CONTRACT_COLUMNS = REQUIRED + OPTIONAL
SPECIAL = (97, 98, 99)
DAYS_PER_MONTH = 365.25 / 12
#: Categorical columns of the loaded frame whose categories are the values present, sorted (few distinct values);
#: ``sex`` and the score bands have fixed categories.
OBSERVED_CATEGORIES = ("country", "return_from")


def _parse_codes(s: pd.Series, chk: Checks, q: str, scheme: Scheme) -> pd.Series:
    """Answer codes (or labels) of one question as Int8, special codes kept."""
    table = np.zeros(MAX_CODE + 2, dtype=bool)
    table[sorted(set(scheme.question(q).scores) | set(SPECIAL))] = True
    if s.dtype.kind in ("i", "u") and s.dtype.itemsize <= 4:  # integer codes (Parquet): no float round trip
        codes = code_slots(s)  # missing or out of range -> the slot of no code
        invalid = ~table.take(codes)
        chk.rows_bad(s.notna().to_numpy() & invalid, q, s, f"is not an answer code ({scheme.allowed_codes(q)})")
        codes[invalid] = 0
        return pd.arrays.IntegerArray(codes.astype(np.int8), invalid)
    v, unparsed = parse_numbers(s, scheme.label_map(q))
    if unparsed.any():
        chk.rows_bad(unparsed, q, s, f"is not an answer code or label of {q} ({scheme.allowed_codes(q)})")
    with np.errstate(invalid="ignore"):
        inrange = ~np.isnan(v) & (v >= 0) & (v <= MAX_CODE) & (np.floor(v) == v)
    ok = np.zeros(len(v), dtype=bool)
    ok[inrange] = table[v[inrange].astype(np.intp)]
    bad = ~np.isnan(v) & ~ok
    chk.rows_bad(bad, q, s, f"is not an answer code ({scheme.allowed_codes(q)})")
    return pd.arrays.IntegerArray(np.where(ok, v, 0).astype(np.int8), ~ok)



def _iso3() -> set[str]:
    import pycountry

    return {c.alpha_3 for c in pycountry.countries}


def prepare_file(df: pd.DataFrame, name: str, scheme: Scheme) -> tuple[pd.DataFrame | None, list[Problem],
                                                                        list[str]]:
    """File-level checks (records present, required columns); the records with ``_file`` and ``_row``."""
    df.columns = [str(c).strip().lower() for c in df.columns]
    rows = np.arange(len(df)) + 2
    if len(df) and any(is_textual(df[c]) for c in df.columns):
        # records that are entirely empty (blank lines, formatted-but-empty spreadsheet rows); columns are only
        # looked at while some record may still be empty (the first usually settles it)
        empty = np.ones(len(df), dtype=bool)
        for c in df.columns:
            empty = empty & blank_cells(df[c])
            if not empty.any():
                break
        if empty.any():
            df, rows = df.loc[~empty].reset_index(drop=True), rows[~empty]
    if len(df) == 0:
        return None, [Problem(name, "no records: the file has a header but no data rows")], []
    qids = scheme.question_ids
    missing = [c for c in REQUIRED + qids if c not in df.columns]
    if missing:
        present = ", ".join(list(df.columns[:6])) + (", ..." if df.shape[1] > 6 else "")
        hint = " (only one column was found: is the delimiter a comma or semicolon?)" if df.shape[1] == 1 else ""
        return None, [Problem(name, f"missing required column(s): {', '.join(missing)}; found {df.shape[1]} "
                                    f"column(s): {present}{hint}")], []
    unused = [c for c in df.columns if c not in CONTRACT_COLUMNS and c not in qids]
    df = df.drop(columns=unused)
    df["_file"] = pd.Categorical.from_codes(np.zeros(len(df), dtype=np.int8), categories=[name])  # 1 byte a row
    df["_row"] = rows
    return df, [], unused


def validate(df: pd.DataFrame, scheme: Scheme, today: dt.date) -> tuple[pd.DataFrame, list[Problem]]:
    """Check the records of one or more files column by column; return them typed.

    Files of the same kind (text: CSV and XLSX; native: Parquet) are stacked and
    checked in one pass, so many small files cost no more than one large file.
    """
    chk = Checks(pd.Categorical(df["_file"]), df["_row"].to_numpy())
    qids = scheme.question_ids
    n = len(df)
    out: dict[str, object] = {}

    for col in REQUIRED:
        check_required(df[col], chk, col)
    rid = df["respondent_id"]
    out["respondent_id"] = (stripped_text(rid) if is_textual(rid) else rid.astype(str)).astype("str")
    iso3 = _iso3()
    out["country"] = parse_choice(df["country"], chk, "country", iso3,
                                   "is not an ISO 3166-1 alpha-3 country code (e.g. GIN, MAR, SEN)")
    out["wave"] = parse_int(df["wave"], chk, "wave", lo=1, hi=None, expected="is not a wave number (integer >= 1)")
    out["survey_date"] = survey = parse_date(df["survey_date"], chk, "survey_date")
    out["return_date"] = ret = parse_date(df["return_date"], chk, "return_date")
    chk.rows_bad((survey > pd.Timestamp(today)).to_numpy(), "survey_date", survey,
                 f"is in the future (today is {today.isoformat()})")
    chk.rows_bad((ret > survey).to_numpy(), "return_date", ret,
                 "is after survey_date: a returnee is surveyed after return")
    out["mentored"] = parse_int(df["mentored"], chk, "mentored", lo=0, hi=1, expected="is not 0 or 1")

    out["sex"] = (parse_choice(df["sex"], chk, "sex", {"F", "M"}, "is not F or M (leave empty when unknown)")
                  if "sex" in df else pd.Series(None, index=df.index, dtype=object))
    out["age"] = pd.array(parse_int(df["age"], chk, "age", lo=15, hi=99,
                                     expected="is not an age in years from 15 to 99") if "age" in df
                          else np.full(n, np.nan), dtype="Int16")
    out["return_from"] = (parse_choice(df["return_from"], chk, "return_from", iso3 | {"EU", "OTHER"},
                                        "is not an ISO3 country code, EU or OTHER")
                          if "return_from" in df else pd.Series(None, index=df.index, dtype=object))
    out["mentoring_start"] = (parse_date(df["mentoring_start"], chk, "mentoring_start") if "mentoring_start" in df
                              else pd.Series(pd.NaT, index=df.index, dtype="datetime64[s]"))
    for col in ("assist_economic", "assist_social", "assist_psychosocial"):
        out[col] = pd.array(parse_int(df[col], chk, col, lo=0, hi=1, expected="is not 0 or 1 (or empty)")
                            if col in df else np.full(n, np.nan), dtype="Int8")
    if "weight" in df:
        w, unparsed = parse_numbers(df["weight"])
        with np.errstate(invalid="ignore"):
            bad = unparsed | (~np.isnan(w) & ~((w > 0) & np.isfinite(w)))
        chk.rows_bad(bad, "weight", df["weight"], "is not a survey weight (a number > 0)")
        out["weight"] = np.where(np.isnan(w), 1.0, w)
    else:
        out["weight"] = np.ones(n)
    for q in qids:
        out[q] = _parse_codes(df[q], chk, q, scheme)
    out["_file"] = df["_file"]  # text already: no round trip through a million Python objects
    out["_row"] = df["_row"].to_numpy()
    return pd.DataFrame(out, index=df.index, copy=False), chk.problems


def finish(data: pd.DataFrame) -> pd.DataFrame:
    """Final types of the loaded frame and the derived ``months_since_return``."""
    data = data.drop(columns=["_row", "_file"])
    data["wave"] = data["wave"].astype("int64")
    data["mentored"] = data["mentored"].astype("int8")
    data["sex"] = pd.Categorical(data["sex"], categories=["F", "M"])
    for col in OBSERVED_CATEGORIES:
        data[col] = pd.Categorical(data[col])
    days = (data["survey_date"] - data["return_date"]).dt.days.astype(float)
    data["months_since_return"] = days / DAYS_PER_MONTH
    return data



def cross_checks(data: pd.DataFrame, ids: tuple[str, ...] = ("respondent_id",)) -> list[Problem]:
    """Checks across rows and files: duplicated (respondent_id, wave).

    ``ids`` are the columns that stand for the respondent: ``respondent_id`` itself, or
    its hashes :data:`ID_HASHES` when the files were checked apart (:func:`partition_checks`).
    """
    key = [*ids, "wave"]
    dup = data.duplicated(key, keep=False).to_numpy()
    problems: list[Problem] = []
    if dup.any():
        sub = data.loc[dup, [*key, "_file", "_row"]]
        first = sub.groupby(key, sort=False).head(1).set_index(key)
        later = sub[sub.duplicated(key, keep="first")]
        rows = zip(later[key].itertuples(index=False, name=None), later["_file"], later["_row"], strict=True)
        for n, (k, file, row) in enumerate(rows):
            if n == MAX_ROWS_LISTED:
                problems.append(Problem(file, f"... and {len(later) - MAX_ROWS_LISTED:,} more duplicated "
                                              f"(respondent_id, wave) rows", column="respondent_id"))
                break
            f = first.loc[k]
            # the id itself is not repeated: messages end up in logs and failed notebooks (row numbers locate it)
            problems.append(Problem(file, f"has the same respondent_id and wave ({int(k[-1])}) as {f['_file']} row "
                                          f"{int(f['_row'])}: each (respondent_id, wave) must be unique",
                                    row=int(row), column="respondent_id"))
    return problems


#: The columns of :func:`record_keys` that stand for ``respondent_id``: two 64-bit hashes of it (SipHash, two keys).
ID_HASHES = ("_id_hash_a", "_id_hash_b")
_HASH_KEYS = ("rss-respondent-1", "rss-respondent-2")


def record_keys(data: pd.DataFrame, hash_keys: tuple[str, str] | None = None) -> pd.DataFrame:
    """What :func:`cross_checks` needs of one file's checked records when files are checked apart.

    ``respondent_id`` as two 64-bit hashes (:data:`ID_HASHES`: the id stays on the machine
    that read the file, and the keys take 28 bytes a record whatever its length), ``wave``
    and ``_row``; the file is known by its position (:func:`partition_checks`).  Two
    records get the same pair of hashes when their ids are equal; two different ids would
    need a 128-bit collision (about n^2 / 2^129 for n records: 1e-21 at a billion).
    ``hash_keys``: two 16-character SipHash keys; ``rss score --cluster`` draws a random pair
    per run, so that the hashes the client sees cannot be matched against guessed ids.
    """
    rid = data["respondent_id"]
    hashes = {h: pd.util.hash_pandas_object(rid, index=False, hash_key=k).to_numpy()
              for h, k in zip(ID_HASHES, hash_keys or _HASH_KEYS, strict=True)}
    return pd.DataFrame({**hashes, "wave": data["wave"].to_numpy(), "_row": data["_row"].to_numpy(dtype=np.int32)})


def partition_checks(keys: list[pd.DataFrame], names: list[str]) -> list[Problem]:
    """:func:`cross_checks` over files checked apart, from their :func:`record_keys` (``names[i]`` is ``keys[i]``'s
    file; files in the order :func:`helpers.loader.load` stacks them): the same problems, in the same words.

    A first pass looks at one 64-bit number a record (a hash of the id mixed with the
    wave), so that the full comparison, and its memory, is spent only on the records it
    flags: equal keys always give equal numbers, and the flagged records keep their order.
    """
    data = pd.concat(keys, ignore_index=True) if keys else pd.DataFrame(columns=[*ID_HASHES, "wave", "_row"])
    with np.errstate(over="ignore"):
        mixed = data[ID_HASHES[0]].to_numpy(dtype=np.uint64) ^ (
            data["wave"].to_numpy(dtype=np.float64).view(np.uint64) * np.uint64(0x9E3779B97F4A7C15))
    maybe = pd.Series(mixed).duplicated(keep=False).to_numpy()
    del mixed
    codes = np.repeat(np.arange(len(keys), dtype=np.int32), [len(k) for k in keys])[maybe]
    data = data.loc[maybe].reset_index(drop=True)
    data["_file"] = pd.Categorical.from_codes(codes, categories=names)
    return cross_checks(data, ids=ID_HASHES)
