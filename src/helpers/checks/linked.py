"""The differencing audit of ``rss check``: can a hidden count be worked out from everything published?

Every count the workspace publishes or hides is a cell of the register
(:mod:`helpers.checks.cells`): a set of surveys (or respondents) described by their
attributes.  The audit writes the unknown numbers of units of each combination of
attributes (an *atom*: country x wave x reason x ... ) as the variables of a linear
programme, every published count as an equality over the atoms it adds up, every
published share as two inequalities, and every atom as >= 0.  For each hidden cell it
then solves for the smallest and the largest value the published cells allow
(``scipy.optimize.linprog``, HiGHS): what an intruder can learn by addition and
subtraction along every registered margin at once, across tables.

A cell hidden for being under the threshold (primary suppression) fails when those
bounds are less than the threshold apart: the hit names the cell, its bounds and the
published cells that pin it (those whose dual value is not zero at either optimum).
Cells hidden only to protect others (``x``) may be recovered as long as no primary cell
is (the standard of tau-argus and sdcTable), and three cases are not findings: a cell
known to be empty (the margin it is part of is a published zero: nobody to disclose), a
country's or all countries' total (its sample size, which the policy publishes), and a
cell bounded only by "none to all of its country" or known to be all of it (a country
with fewer respondents than the threshold, of which nothing beyond its size is said).  Published cells that contradict one another
(no solution) are a finding too: the register does not describe what was published.

The atoms of one programme are the product of the levels of its attributes.  Each
unit has core attributes (surveys: country, wave, reason; respondents: country); a
table's own attribute (a sample characteristic, a band, months since return) gets a
programme of its own, core plus that attribute, holding every cell expressible in it.
So the audit finds every derivation within the core and through any one table-own
attribute; a derivation that would need two table-own attributes at once (no
published table crosses two) is outside it.  The intruder is not assumed to know the
suppression rule (that a ``<10`` cell is under 10): only that counts are >= 0.

Imports: the standard library, numpy, scipy (sparse matrices), highspy, helpers.checks.cells, helpers.checks.hits,
helpers.checks.state.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cells import CORE, Cell, Ratio, Register, register
from .hits import Hit
from .state import Unit

__all__ = ["Bound", "audit", "linked_unit", "linked_summary"]


@dataclass(frozen=True)
class Bound:
    """What the published cells allow a hidden cell to be."""

    cell: Cell
    low: float
    high: float
    revealed_by: tuple[str, ...]


class _System:
    """The atoms of one programme: the product of the levels of ``attrs``."""

    def __init__(self, attrs: tuple[str, ...], levels: dict[str, set[str]]) -> None:
        self.attrs = attrs
        self.levels = {a: sorted(levels.get(a, set())) or ["(any)"] for a in attrs}
        self.size = int(np.prod([len(self.levels[a]) for a in attrs])) if attrs else 1

    def holds(self, pred: tuple[tuple[str, frozenset[str]], ...]) -> bool:
        return all(a in self.attrs for a, _ in pred)

    def row(self, pred: tuple[tuple[str, frozenset[str]], ...]) -> np.ndarray:
        allowed = dict(pred)
        vec = np.ones(1)
        for a in self.attrs:
            lv = self.levels[a]
            mask = np.array([x in allowed[a] for x in lv] if a in allowed else [True] * len(lv), dtype=float)
            vec = np.multiply.outer(vec, mask).ravel()
        return vec


def _quiet_highs():
    """A HiGHS instance that prints nothing (its constructor writes a banner to the C-level stdout)."""
    import ctypes
    import os
    import sys

    import highspy

    sys.stdout.flush()
    saved, devnull = os.dup(1), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        ctypes.CDLL(None).fflush(None)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    return h


class _Programme:
    """One system's published cells as a HiGHS model; :meth:`bounds` re-solves it per hidden cell.

    The model is loaded once and only its objective changes from one hidden cell to
    the next, so HiGHS starts each solve from the last optimal basis (a few simplex
    iterations instead of a solve from scratch: ~50x faster than one
    ``scipy.optimize.linprog`` call per bound).
    """

    def __init__(self, system: _System, published: list[Cell], ratios: list[Ratio]) -> None:
        import highspy
        from scipy import sparse

        self.system = system
        rows, lower, upper, self.names = [], [], [], []
        seen: set[tuple] = set()
        for c in published:
            if c.pred in seen:
                continue
            seen.add(c.pred)
            rows.append(system.row(c.pred))
            lower.append(float(c.value))
            upper.append(float(c.value))
            self.names.append(f"{c.path}:{c.where} {c.column}")
        for r in ratios:
            num, den = system.row(r.num), system.row(r.den)
            rows += [num - r.lo * den, num - r.hi * den]  # lo * den <= num <= hi * den
            lower += [0.0, -highspy.kHighsInf]
            upper += [highspy.kHighsInf, 0.0]
            self.names += [f"{r.path}: {r.where}"] * 2
        h = _quiet_highs()
        h.setOptionValue("presolve", "off")  # keep the basis between solves: only the objective changes
        h.setOptionValue("simplex_strategy", 4)  # primal simplex: the last basis stays feasible
        lp = highspy.HighsLp()
        n = system.size
        lp.num_col_, lp.num_row_ = n, len(rows)
        lp.col_cost_ = np.zeros(n)
        lp.col_lower_ = np.zeros(n)
        lp.col_upper_ = np.full(n, highspy.kHighsInf)
        lp.row_lower_ = np.array(lower, dtype=float)
        lp.row_upper_ = np.array(upper, dtype=float)
        a = sparse.csc_matrix(np.array(rows, dtype=float).reshape(len(rows), n))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr
        lp.a_matrix_.index_ = a.indices
        lp.a_matrix_.value_ = a.data
        h.passModel(lp)
        self.h, self.n, self.hs = h, n, highspy
        self.columns = np.arange(n, dtype=np.int32)

    def feasible(self) -> bool:
        """Whether the published counts agree with one another (any solution at all)."""
        self.h.changeColsCost(self.n, self.columns, np.zeros(self.n))
        self.h.run()
        return self.h.getModelStatus() != self.hs.HighsModelStatus.kInfeasible

    def bounds(self, target: Cell) -> tuple[float, float, set[str]] | None:
        """Smallest and largest value of ``target``, and the published cells binding at either; None: infeasible."""
        c = self.system.row(target.pred)
        out, why = [], set()
        for sign in (1.0, -1.0):
            self.h.changeColsCost(self.n, self.columns, sign * c)
            self.h.run()
            status = self.h.getModelStatus()
            if status == self.hs.HighsModelStatus.kUnbounded:
                out.append(np.inf)
                continue
            if status != self.hs.HighsModelStatus.kOptimal:
                if status == self.hs.HighsModelStatus.kInfeasible:
                    return None
                raise RuntimeError(f"the differencing audit's solver stopped with {status}")
            out.append(sign * self.h.getInfo().objective_function_value)
            dual = np.asarray(self.h.getSolution().row_dual)
            why |= {self.names[i] for i in np.flatnonzero(np.abs(dual) > 1e-9)}
        return out[0], out[1], why


def _systems(reg: Register, unit: str) -> Iterator[_System]:
    core = CORE[unit]
    extras = sorted({tuple(sorted(a for a, _ in c.pred if a not in core)) for c in reg.cells if c.unit == unit}
                    | {tuple(sorted(a for a, _ in r.num + r.den if a not in core)) for r in reg.ratios
                       if r.unit == unit})
    for extra in extras:
        yield _System(core + tuple(dict.fromkeys(extra)), reg.levels[unit])


def _country_of(c: Cell) -> str | None:
    levels = dict(c.pred).get("country")
    return next(iter(levels)) if levels is not None and len(levels) == 1 else None


def audit(reg: Register, thr: int) -> tuple[list[Bound], list[Hit], dict[str, int]]:
    """Bound every cell of ``reg`` hidden as under the threshold; return the bounds, the hits, the summary counts.

    A hit is a *primary* hidden cell (its row is under the threshold) whose bounds
    are less than ``thr`` apart -- unless the cell is a country's (or all
    countries') total, a sample size the policy publishes, or its bounds are
    "between none and all of its country" or "all of its country" (a country
    with fewer respondents than the threshold: nothing wider is possible, and
    nothing is said beyond its size).
    """
    bounds: dict[tuple, Bound] = {}
    hits: list[Hit] = []
    n_programmes = 0
    country_total: dict[tuple[str, str], tuple[float, float]] = {}
    for unit in CORE:
        cells = [c for c in reg.cells if c.unit == unit]
        for system in _systems(reg, unit):
            inside = [c for c in cells if system.holds(c.pred)]
            # only a cell hidden for being small can fail: the others are the unknowns that protect it
            hidden = [c for c in inside if c.value is None and c.primary]
            base = system.attrs == CORE[unit]
            if not hidden and not base:
                continue
            published = [c for c in inside if c.value is not None]
            ratios = [r for r in reg.ratios if r.unit == unit and system.holds(r.num + r.den)]
            prog = _Programme(system, published, ratios)
            n_programmes += 1
            if not prog.feasible():
                where = sorted({c.path for c in published})
                hits.append(Hit(where[0] if where else "reports", None,
                                f"the published counts contradict one another in the audit of {unit} by "
                                f"{' x '.join(system.attrs)} ({', '.join(where[:6])}): the register of linked cells "
                                "(helpers.checks.cells) does not describe these tables"))
                continue
            solved: dict[tuple, tuple[float, float, set[str]] | None] = {}
            for c in hidden:
                key = (c.path, c.where, c.column)
                if c.pred not in solved:
                    solved[c.pred] = prog.bounds(c)
                got = solved[c.pred]
                if got is None:  # feasible above: cannot happen, but never report a bound that was not found
                    continue
                low, high, why = got
                old = bounds.get(key)
                if old is None or high - low < old.high - old.low:
                    bounds[key] = Bound(c, low, high, tuple(sorted(why)))
            if base:
                for iso in sorted({x for c in hidden if (x := _country_of(c))}):
                    total = Cell(unit, (("country", frozenset({iso})),), None, "", "", "")
                    got = prog.bounds(total)
                    country_total[(unit, iso)] = (got[0], got[1]) if got else (0.0, np.inf)
    for b in bounds.values():
        c = b.cell
        if b.high - b.low >= thr or b.high <= 0.5 or all(a == "country" for a, _ in c.pred):
            continue  # b.high 0: known to be empty (a published zero margin), nobody in it to disclose
        iso = _country_of(c)
        t_low, t_high = country_total.get((c.unit, iso), (np.nan, np.nan)) if iso else (np.nan, np.nan)
        if b.high >= t_high - 0.5 and (b.low <= 0.5 or b.low >= t_low - 0.5):
            continue  # "none to all of the country", or "all of it": nothing beyond its sample size
        hits.append(Hit(c.path, c.where, f"hidden {c.column} ({c.mark or 'hidden'}; {c.unit} with {c.label()}) is "
                                         f"between {b.low:g} and {b.high:g} by addition and subtraction of published "
                                         f"counts, less than the threshold {thr} apart; revealed by: "
                                         f"{'; '.join(b.revealed_by) or 'the cells above'}"))
    counts = {"linked_cells": len(reg.cells), "linked_hidden": len(bounds), "linked_programmes": n_programmes,
              "linked_tables": len(reg.files)}
    return list(bounds.values()), hits, counts


def _run(root: Path, thr: int) -> tuple[list[Hit], dict[str, int]]:
    _bounds_found, hits, counts = audit(register(root), thr)
    return hits, counts


def linked_unit(root: Path, thr: int) -> Unit:
    """The audit as one unit of ``rss check``: it reads every table, record and numbers file together."""
    reports = root / "reports"
    files = (sorted((reports / "tables").glob("*.csv")) + sorted((reports / "numbers").glob("*.json")))
    return Unit("linked", tuple(files), lambda: _run(root, thr), f"threshold {thr}")


def linked_summary(counts: dict[str, int], thr: int) -> str:
    return (f"differencing audit: {counts.get('linked_hidden', 0)} counts hidden as under the threshold bounded against "
            f"{counts.get('linked_cells', 0)} registered cells of {counts.get('linked_tables', 0)} tables and numbers "
            f"files ({counts.get('linked_programmes', 0)} linear programmes), threshold {thr}")
