"""Patsy formula designs: the columns a formula uses and fast categorical coding for statsmodels.

The formulas of :mod:`helpers.stats` and :mod:`helpers.describe` go through these:
which columns a formula names, which it uses only as ``C(col)``, and those columns
given as pandas Categoricals with exactly patsy's levels, so patsy codes them without
a Python loop (the same design matrix, column names and dropped rows).

Imports: no helpers module.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

__all__ = ["formula_columns", "c_only_columns", "patsy_c", "patsy_env", "formula_rows", "patsy_categories",
           "PLAIN_LEVELS"]


def formula_columns(formula: str, df: pd.DataFrame) -> list[str]:
    """Column names a patsy formula refers to (names and ``Q("...")`` strings)."""
    names: list[str] = []
    for side in formula.split("~"):
        for piece in side.replace("\n", " ").split("+"):
            piece = piece.strip()
            for part in [piece, *piece.replace(":", "*").split("*")]:
                try:
                    tree = ast.parse(part.strip() or "0", mode="eval")
                except SyntaxError:
                    continue
                for node in ast.walk(tree):
                    if isinstance(node, ast.Name):
                        names.append(node.id)
                    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                        names.append(node.value)
    cols = [c for c in dict.fromkeys(names) if c in df.columns]
    return cols


def c_only_columns(formula: str, df: pd.DataFrame) -> list[str]:
    """Columns of ``df`` a patsy formula uses only as ``C(col)`` / ``C(Q("col"))`` (first argument of ``C``)."""
    in_c: list[str] = []
    plain: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "C" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Name):
                in_c.append(first.id)
            elif (isinstance(first, ast.Call) and isinstance(first.func, ast.Name) and first.func.id == "Q"
                  and len(first.args) == 1 and isinstance(first.args[0], ast.Constant)
                  and isinstance(first.args[0].value, str)):
                in_c.append(first.args[0].value)
            else:
                visit(first)
            for child in [*node.args[1:], *(k.value for k in node.keywords)]:
                visit(child)
            return
        if isinstance(node, ast.Name):
            plain.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            plain.add(node.value)
        for child in ast.iter_child_nodes(node):
            visit(child)

    for side in formula.split("~"):
        try:
            tree = ast.parse(side.replace("\n", " ").strip() or "0", mode="eval")
        except SyntaxError:
            return []
        visit(tree)
    return [c for c in dict.fromkeys(in_c) if c in df.columns and c not in plain]


def patsy_c(data: Any, contrast: Any = None, levels: Any = None) -> Any:
    """patsy's ``C()``, passing a pandas Categorical without ``contrast`` or ``levels`` through as it is.

    patsy codes the values of ``C(x)`` one by one in Python; a bare pandas
    Categorical it codes with its own codes (categories as levels, missing as
    missing): the same levels, columns and names, much faster.  Used as ``C`` in
    the formulas of :func:`fit_ols` (with :func:`patsy_categories`).
    """
    if contrast is None and levels is None and isinstance(getattr(data, "dtype", None), pd.CategoricalDtype):
        return data
    from patsy.builtins import C

    return C(data, contrast, levels)


def patsy_env() -> dict[str, Any]:
    """Names the formulas of :func:`fit_ols` see besides the data and patsy's builtins.

    This module's names (numpy as ``np``, pandas as ``pd``) with ``C`` = :func:`patsy_c`;
    a dict, as statsmodels wants it (an ``EvalEnvironment`` is deprecated there).
    """
    return {**globals(), "C": patsy_c}


def formula_rows(formula: str, data: pd.DataFrame, env: Mapping[str, Any]) -> pd.Index:
    """Labels of the rows of ``data`` a statsmodels formula model keeps (patsy drops those with a missing value).

    The design matrices as statsmodels builds them (same missing-value rule), without
    setting up a model on them.
    """
    from patsy import EvalEnvironment, NAAction, dmatrices

    _, x = dmatrices(formula, data, eval_env=EvalEnvironment([{k: v} for k, v in env.items()]),
                     NA_action=NAAction(on_NA="drop", NA_types=["None", "NaN"]), return_type="dataframe")
    return x.index


def patsy_categories(data: pd.DataFrame, cols: Sequence[str]) -> pd.DataFrame:
    """``data`` with ``cols`` as pandas Categoricals holding exactly the levels patsy would find.

    patsy reads the levels of plain (object or numeric) data value by value in
    Python, slow on thousands of rows; given a Categorical it takes its categories.
    The categories are the distinct non-missing values sorted as patsy sorts them
    (``SortAnythingKey``), so the design matrix, its column names and the rows
    dropped for missing values are the same as with the plain column.
    """
    if not cols:
        return data
    from patsy.util import SortAnythingKey

    out = data.copy(deep=False)
    for c in cols:
        values = data[c].to_numpy(dtype=object)
        present = values[pd.notna(values)]
        if pd.api.types.infer_dtype(present, skipna=False) not in PLAIN_LEVELS:
            continue  # e.g. booleans (patsy always gives them both levels) or mixed types: left to patsy
        levels = sorted(pd.unique(present), key=SortAnythingKey)
        out[c] = pd.Categorical(values, categories=levels)
    return out


#: Kinds of values (``pandas.api.types.infer_dtype``) whose levels :func:`patsy_categories` sets itself.
PLAIN_LEVELS = frozenset({"string", "integer", "floating", "mixed-integer-float", "empty"})
