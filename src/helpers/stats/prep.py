"""Preparing data for an estimator: required columns, complete rows, months since return, a binary
treatment, a numeric design with dummies, full-rank columns, cluster codes and the few-clusters warning.

Imports: helpers.stats.contract, helpers.stats.covariance only.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .contract import DAYS_PER_MONTH
from .covariance import wcross


def require_columns(df: pd.DataFrame, cols: Sequence[str], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"{what} needs column(s) {', '.join(map(repr, missing))}; the data has "
                       f"{', '.join(map(str, list(df.columns)[:12]))}{', ...' if df.shape[1] > 12 else ''}")


def is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)


def clean_frame(df: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    """Copy of ``df[cols]`` with plain dtypes: floats (NaN) and objects (NaN) for patsy/numpy."""
    out = {}
    for c in dict.fromkeys(cols):
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            out[c] = s
        elif is_numeric(s):
            out[c] = s.astype("float64") if not pd.api.types.is_extension_array_dtype(s.dtype) else \
                s.astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
        else:
            out[c] = s.astype(object).where(s.notna(), np.nan)
    return pd.DataFrame(out, index=df.index)


def with_months(df: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    """Add ``months_since_return`` (days / (365.25/12), as the loader does) when asked for and absent."""
    if "months_since_return" in cols and "months_since_return" not in df.columns \
            and {"survey_date", "return_date"} <= set(df.columns):
        days = (pd.to_datetime(df["survey_date"]) - pd.to_datetime(df["return_date"])).dt.days
        df = df.assign(months_since_return=days / DAYS_PER_MONTH)
    return df


def as_binary(s: pd.Series, name: str) -> np.ndarray:
    x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isnan(x) & (x != 0) & (x != 1)
    if bad.any():
        vals = ", ".join(map(str, pd.unique(x[bad])[:5]))
        raise ValueError(f"column {name!r} must be 0/1 (or boolean); found {vals}")
    return x


def term_label(col: str, categorical: bool) -> str:
    name = col if col.isidentifier() else f"Q({col!r})"
    return f"C({name})" if categorical else name


def group_codes(s: pd.Series) -> np.ndarray:
    return pd.factorize(s.astype(str))[0]


#: Below this many clusters a cluster-robust covariance is flagged as unreliable.
FEW_CLUSTERS = 30


def warn_few_clusters(n_clusters: int, name: str) -> None:
    if n_clusters < FEW_CLUSTERS:
        warnings.warn(f"only {n_clusters} clusters of {name!r}: cluster-robust standard errors are unreliable with "
                      f"fewer than {FEW_CLUSTERS} (cluster by respondent, or use a wild-cluster bootstrap)",
                      UserWarning, stacklevel=3)


def dummy_design(df: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    """Numeric design (no intercept): numeric columns as floats, others as dummies (first level dropped)."""
    parts = []
    for c in covariates:
        s = df[c]
        if is_numeric(s):
            parts.append(pd.DataFrame({c: s.astype("Float64").to_numpy(dtype=float, na_value=np.nan)},
                                      index=df.index))
        else:
            obj = s.astype(object).where(s.notna(), np.nan)
            d = pd.get_dummies(obj, prefix=c, prefix_sep="=", drop_first=True, dtype=float)
            d[obj.isna().to_numpy()] = np.nan
            parts.append(d)
    return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=df.index)


def full_rank(x: np.ndarray, names: list[str], *, keep_first: bool = True) -> tuple[np.ndarray, list[str]]:
    """Drop constant (other than the intercept) and linearly dependent columns (pivoted QR)."""
    from scipy.linalg import qr

    sd = x.std(axis=0)
    keep = [j for j in range(x.shape[1]) if sd[j] > 0 or (keep_first and j == 0)]
    x, names = x[:, keep], [names[j] for j in keep]
    if x.shape[1] == 0:
        return x, names
    scale = np.where(np.abs(x).max(axis=0) > 0, np.abs(x).max(axis=0), 1.0)
    xs = x / scale
    # fast path: a well-conditioned design is of full rank by the QR criterion below, since
    # |r_kk| / |r_11| >= 1 / cond(X) for a pivoted QR; cond(X'X) = cond(X)^2 comes from a k x k matrix
    if np.linalg.cond(wcross(xs, np.ones(len(xs)))) < 1e10:
        return x, names
    _, r, piv = qr(xs, mode="economic", pivoting=True)
    d = np.abs(np.diag(r))
    rank = int((d > d.max() * 1e-10).sum()) if d.size else 0
    cols = sorted(piv[:rank])
    if keep_first and 0 not in cols:
        cols = sorted([0, *cols[:-1]])
    return x[:, cols], [names[j] for j in cols]
