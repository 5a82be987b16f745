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

A hidden cell fails when those bounds are less than the disclosure threshold apart: the
hit names the cell, its bounds and the published cells that pin it (those whose dual
value is not zero at either optimum).  Published cells that contradict one another
(no solution) are a finding too: the register does not describe what was published.

The atoms of one programme are the product of the levels of its attributes.  Each
unit has core attributes (surveys: country, wave, reason; respondents: country); a
table's own attribute (a sample characteristic, a band, months since return) gets a
programme of its own, core plus that attribute, holding every cell expressible in it.
So the audit finds every derivation within the core and through any one table-own
attribute; a derivation that would need two table-own attributes at once (no
published table crosses two) is outside it.  The intruder is not assumed to know the
suppression rule (that a ``<10`` cell is under 10): only that counts are >= 0.

Imports: the standard library, numpy, scipy, helpers.checks.cells, helpers.checks.hits,
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


def _programme(system: _System, published: list[Cell], ratios: list[Ratio]):
    from scipy import sparse

    rows, b, names = [], [], []
    seen: dict[tuple, float] = {}
    for c in published:
        key = c.pred
        if key in seen:
            continue
        seen[key] = float(c.value)
        rows.append(system.row(c.pred))
        b.append(float(c.value))
        names.append(f"{c.path}:{c.where} {c.column}")
    ub_rows, ub_b, ub_names = [], [], []
    for r in ratios:
        num, den = system.row(r.num), system.row(r.den)
        ub_rows += [r.lo * den - num, num - r.hi * den]  # lo * den <= num <= hi * den
        ub_b += [0.0, 0.0]
        ub_names += [f"{r.path}: {r.where}"] * 2
    a_eq = sparse.csr_matrix(np.array(rows)) if rows else None
    a_ub = sparse.csr_matrix(np.array(ub_rows)) if ub_rows else None
    return a_eq, np.array(b), names, a_ub, np.array(ub_b), ub_names


def _bounds(system: _System, target: Cell, prog) -> tuple[float, float, set[str]] | None:
    from scipy.optimize import linprog

    a_eq, b_eq, names, a_ub, b_ub, ub_names = prog
    c = system.row(target.pred)
    out, why = [], set()
    for sign in (1.0, -1.0):
        res = linprog(sign * c, A_ub=a_ub, b_ub=b_ub if a_ub is not None else None, A_eq=a_eq,
                      b_eq=b_eq if a_eq is not None else None, bounds=(0, None), method="highs")
        if res.status == 3:  # unbounded: no finite upper bound
            out.append(np.inf)
            continue
        if res.status != 0:
            return None
        out.append(sign * res.fun)
        if a_eq is not None and res.eqlin is not None:
            why |= {names[i] for i in np.flatnonzero(np.abs(res.eqlin.marginals) > 1e-9)}
        if a_ub is not None and res.ineqlin is not None:
            why |= {ub_names[i] for i in np.flatnonzero(np.abs(res.ineqlin.marginals) > 1e-9)}
    return out[0], out[1], why


def _systems(reg: Register, unit: str) -> Iterator[_System]:
    core = CORE[unit]
    extras = sorted({tuple(sorted(a for a, _ in c.pred if a not in core)) for c in reg.cells if c.unit == unit}
                    | {tuple(sorted(a for a, _ in r.num + r.den if a not in core)) for r in reg.ratios
                       if r.unit == unit})
    for extra in extras:
        yield _System(core + tuple(dict.fromkeys(extra)), reg.levels[unit])


def audit(reg: Register, thr: int) -> tuple[list[Bound], list[Hit], dict[str, int]]:
    """Bound every hidden cell of ``reg``; return the bounds, the hits and counts for the summary line."""
    bounds: dict[tuple, Bound] = {}
    hits: list[Hit] = []
    n_programmes = 0
    for unit in CORE:
        cells = [c for c in reg.cells if c.unit == unit]
        for system in _systems(reg, unit):
            inside = [c for c in cells if system.holds(c.pred)]
            hidden = [c for c in inside if c.value is None]
            if not hidden:
                continue
            published = [c for c in inside if c.value is not None]
            ratios = [r for r in reg.ratios if r.unit == unit and system.holds(r.num + r.den)]
            prog = _programme(system, published, ratios)
            n_programmes += 1
            for c in hidden:
                key = (c.path, c.where, c.column)
                got = _bounds(system, c, prog)
                if got is None:
                    hits.append(Hit(c.path, c.where, f"the published counts contradict one another in the audit of "
                                                     f"{unit} by {' x '.join(system.attrs)}: the register of linked "
                                                     "cells (helpers.checks.cells) does not describe these tables"))
                    break
                low, high, why = got
                old = bounds.get(key)
                if old is None or high - low < old.high - old.low:
                    bounds[key] = Bound(c, low, high, tuple(sorted(why)))
    for b in bounds.values():
        if b.high - b.low < thr:
            c = b.cell
            shown = c.mark or "hidden"
            hits.append(Hit(c.path, c.where, f"hidden {c.column} ({shown}; {c.unit} with {c.label()}) is between "
                                             f"{b.low:g} and {b.high:g} by addition and subtraction of published "
                                             f"counts, less than the threshold {thr} apart; revealed by: "
                                             f"{'; '.join(b.revealed_by) or 'the cells above'}"))
    counts = {"linked_cells": len(reg.cells), "linked_hidden": len(bounds), "linked_programmes": n_programmes,
              "linked_tables": len(reg.files)}
    return list(bounds.values()), hits, counts


def _run(root: Path, thr: int) -> tuple[list[Hit], dict[str, int]]:
    _bounds_found, hits, counts = audit(register(root, thr), thr)
    return hits, counts


def linked_unit(root: Path, thr: int) -> Unit:
    """The audit as one unit of ``rss check``: it reads every table, record and numbers file together."""
    reports = root / "reports"
    files = (sorted((reports / "tables").glob("*.csv")) + sorted((reports / "numbers").glob("*.json")))
    return Unit("linked", tuple(files), lambda: _run(root, thr), f"threshold {thr}")


def linked_summary(counts: dict[str, int], thr: int) -> str:
    return (f"differencing audit: {counts.get('linked_hidden', 0)} hidden counts bounded against "
            f"{counts.get('linked_cells', 0)} registered cells of {counts.get('linked_tables', 0)} tables and numbers "
            f"files ({counts.get('linked_programmes', 0)} linear programmes), threshold {thr}")
