"""The register of linked cells: every published count, as the set of surveys or respondents it counts.

The differencing audit (:mod:`helpers.checks.linked`) treats everything the workspace
publishes as one set of linked tables, as statistical offices do (tau-argus,
sdcTable).  This module reads the published files and registers each count they show,
or hide, as a :class:`Cell`: its *unit* (surveys, or respondents) and a *predicate*
over the attributes of that unit (``country``, ``wave``, ``reason`` -- which scores a
survey has --, and per-table attributes such as ``sex``, ``band_social`` or
``months``).  A cell counts the units whose attributes satisfy its predicate, so two
cells of different tables that count the same units are the same linear expression,
and a total is the sum of the cells it is a margin of -- whatever table each is in.

Registered (the counts the report, the CSVs, the workbook and ``numbers.json`` publish;
the workbook and the report show the CSVs' rows, so they add no cell of their own):

* surveys: ``prepare_surveys_by_country`` (country), ``prepare_surveys_by_country_wave``
  (country x wave), ``prepare_exclusions`` and ``_by_country`` (reason), the
  missingness tables' survey counts (country), ``country_*_sample`` (country, wave,
  and each categorical attribute of the returnee), ``*_scores``, ``cross_means``
  (country x score), ``*_waves`` (x wave), ``*_trajectory`` (x months since return),
  ``*_bands`` (x band of the score), ``cross_correlations`` (surveys with both
  scores), ``cross_fieldwork`` (groups of countries), ``numbers/prepare.json``
  (totals, surveys by wave, excluded) and ``numbers/country_*.json`` (totals);
* respondents: the per-country totals, the sample's categorical attributes, and
  ``share_female`` of ``numbers/country_*.json`` (a ratio: female / (female + male)).

A respondent count of a row with a wave is a survey count (one survey per respondent
and wave, by the data contract).  Not registered: respondent counts of a score or a
status, which count a returnee once however many of their surveys qualify (they enter
no sum), the item counts of the missingness tables, and the sample sizes of model
tables (``n_obs``, ``n_clusters``, ...).

Imports: the standard library, helpers.checks.hits.
"""

from __future__ import annotations

import csv
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .hits import number, show

__all__ = ["Cell", "Ratio", "Register", "register", "SURVEYS", "RESPONDENTS", "CORE"]

SURVEYS, RESPONDENTS = "surveys", "respondents"
#: The attributes every system of the audit has, per unit; any other attribute is a table's own.
CORE = {SURVEYS: ("country", "wave", "reason"), RESPONDENTS: ("country",)}
DEFAULT_DIMENSIONS = ("economic", "social", "psychosocial")
COMPOSITE = "composite"
SCORED = "composite scored"
COUNTRY_TABLE = re.compile(r"^country_([A-Z]{3})_(\w+)$")
COUNTRY_NUMBERS = re.compile(r"^country_([A-Z]{3})$")

Pred = tuple[tuple[str, frozenset[str]], ...]


@dataclass(frozen=True)
class Cell:
    """One published (``value``) or hidden (``value is None``) count."""

    unit: str
    pred: Pred
    value: float | None
    path: str
    where: str
    column: str
    mark: str = ""
    #: hidden because its row is under the threshold (primary suppression), not to protect another row
    primary: bool = False

    def label(self) -> str:
        return ", ".join(f"{a}={'|'.join(sorted(v)) if len(v) < 4 else f'{len(v)} levels'}" for a, v in self.pred)


@dataclass(frozen=True)
class Ratio:
    """A published share: ``lo <= count(num) / count(den) <= hi``, ``num`` a subset of ``den``."""

    unit: str
    num: Pred
    den: Pred
    lo: float
    hi: float
    path: str
    where: str


@dataclass
class Register:
    """The cells and ratios found, and the levels of each attribute of each unit."""

    cells: list[Cell] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)
    levels: dict[str, dict[str, set[str]]] = field(default_factory=lambda: {SURVEYS: {}, RESPONDENTS: {}})
    files: list[Path] = field(default_factory=list)


def reasons(dims: Iterable[str]) -> list[str]:
    """Every ``reason`` a survey can have, as :func:`helpers.describe.exclusions` writes them.

    Examples
    --------
    >>> reasons(["economic", "social"])
    ['composite scored', 'composite missing', 'no economic score', 'no social score', 'no economic score; no social score']
    """
    dims = list(dims)
    out = [SCORED, "composite missing"]
    for k in range(1, len(dims) + 1):
        out += ["; ".join(f"no {d} score" for d in combo) for combo in itertools.combinations(dims, k)]
    return out


class _Builder:
    def __init__(self, root: Path, dims: list[str]) -> None:
        self.root, self.dims = root, dims
        self.reg = Register()
        self.all_reasons = reasons(dims)
        for r in self.all_reasons:
            self.level(SURVEYS, "reason", r)

    def level(self, unit: str, attr: str, value: str) -> None:
        self.reg.levels[unit].setdefault(attr, set()).add(value)

    def has(self, score: str) -> frozenset[str]:
        """The reasons of surveys that have ``score``."""
        if score == COMPOSITE:
            return frozenset({SCORED})
        return frozenset(r for r in self.all_reasons if f"no {score} score" not in r.split("; "))

    def reason_set(self, reason: str) -> frozenset[str]:
        """The reasons a row of the exclusions tables counts (``no social score``: every pattern without it)."""
        if reason == "no composite score":
            return frozenset(self.all_reasons) - {SCORED}
        m = re.fullmatch(r"no (\w+) score", reason)
        if m and m.group(1) in self.dims:
            return frozenset(self.all_reasons) - self.has(m.group(1))
        return frozenset({reason})

    def count(self, unit: str, pred: dict[str, Any], row: dict[str, str], column: str, path: str,
              where: str) -> None:
        """Register ``row[column]`` of a published table: hidden when the row is suppressed, primary when it
        is under the threshold."""
        self.add(unit, pred, row.get(column), path, where, column, hidden=_sup(row), primary=_primary(row))

    def add(self, unit: str, pred: dict[str, Any], text: Any, path: str, where: str, column: str,
            hidden: bool = False, primary: bool = False) -> None:
        p: dict[str, frozenset[str]] = {}
        for a, v in pred.items():
            vals = frozenset(v) if isinstance(v, (set, frozenset)) else frozenset({str(v)})
            for x in vals:
                self.level(unit, a, x)
            p[a] = vals
        text = "" if text is None else str(text).strip()
        value = number(text)
        if value is None and not (hidden or text == "x" or text.startswith("<")):
            return  # a blank count of a row that is not suppressed: nothing published, nothing hidden
        self.reg.cells.append(Cell(unit, tuple(sorted(p.items())), value, path, where, column,
                                   "" if value is not None else text,
                                   value is None and (primary or text.startswith("<"))))


def _sup(row: dict[str, str]) -> bool:
    return str(row.get("suppressed", "")).strip().lower() == "true"


def _primary(row: dict[str, str]) -> bool:
    return _sup(row) and any(re.fullmatch(r"<\d+", str(v).strip()) for v in row.values())


def _rows(path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        for row in reader:
            yield str(reader.line_num), row


def _dims(tables: Path) -> list[str]:
    seen: list[str] = []
    p = tables / "cross_means.csv"
    if p.is_file():
        for _, r in _rows(p):
            s = r.get("score", "")
            if s and s != COMPOSITE and s not in seen:
                seen.append(s)
    return seen or list(DEFAULT_DIMENSIONS)


def _survey_and_people(b: _Builder, pred: dict[str, Any], r: dict[str, str], path: str, where: str) -> None:
    b.count(SURVEYS, pred, r, "n_surveys", path, where)
    if "wave" in pred:
        b.count(SURVEYS, pred, r, "n_respondents", path, where)
    elif "reason" not in pred:
        b.count(RESPONDENTS, pred, r, "n_respondents", path, where)


def _table(b: _Builder, stem: str, path: Path) -> None:
    shown = show(path, b.root)
    m = COUNTRY_TABLE.match(stem)
    iso, kind = (m.group(1), m.group(2)) if m else (None, stem)
    rows = list(_rows(path))
    if stem in ("prepare_surveys_by_country", "prepare_surveys_by_country_wave"):
        for w, r in rows:
            pred = {"country": r["country"], **({"wave": r["wave"]} if "wave" in r else {})}
            _survey_and_people(b, pred, r, shown, w)
    elif stem in ("prepare_exclusions", "prepare_exclusions_by_country"):
        for w, r in rows:
            group = {"country": r["country"]} if "country" in r else {}
            b.count(SURVEYS, {**group, "reason": b.reason_set(r["reason"])}, r, "n_surveys", shown, w)
            if "n_respondents_group" in r:  # the group's respondents (before: the row's, which enter no sum)
                b.count(RESPONDENTS, group, r, "n_respondents_group", shown, w)
    elif stem in ("prepare_missingness", "prepare_missingness_by_country"):
        for w, r in rows:  # every question's row counts all surveys of its group
            _survey_and_people(b, {"country": r["country"]} if "country" in r else {}, r, shown, w)
    elif stem == "cross_means" or (iso and kind in ("scores", "waves")):
        for w, r in rows:
            pred: dict[str, Any] = {"country": r.get("country", iso), "reason": b.has(r["score"])}
            if "wave" in r:
                pred["wave"] = r["wave"]
            _survey_and_people(b, pred, r, shown, w)
    elif iso and kind == "trajectory":
        for w, r in rows:
            pred = {"country": iso, "reason": b.has(r["score"]), "months": r["months_since_return"]}
            b.count(SURVEYS, pred, r, "n_surveys", shown, w)
    elif iso and kind == "bands":
        for w, r in rows:
            has = b.has(r["score"])
            total = "score_surveys" if "score_surveys" in r else "n_surveys"
            b.count(SURVEYS, {"country": iso, "reason": has}, r, total, shown, w)
            b.count(SURVEYS, {"country": iso, "reason": has, f"band_{r['score']}": r["band"]}, r,
                    "n_surveys_in_band", shown, w)
    elif iso and kind == "sample":
        per_var: dict[str, int] = {}
        for _, r in rows:
            per_var[r["variable"]] = per_var.get(r["variable"], 0) + 1
        for w, r in rows:
            var = r["variable"]
            if var == "surveys":
                _survey_and_people(b, {"country": iso}, r, shown, w)
            elif var == "wave":
                _survey_and_people(b, {"country": iso, "wave": r["level"]}, r, shown, w)
            elif per_var[var] > 1:  # a categorical attribute of the returnee: its levels add up to the total
                _survey_and_people(b, {"country": iso, var: r["level"]}, r, shown, w)
    elif stem == "cross_correlations":
        for w, r in rows:
            pred = {"reason": b.has(r["dim_a"]) & b.has(r["dim_b"])}
            if r["scope"] != "pooled":
                pred["country"] = r["scope"]
            b.count(SURVEYS, pred, r, "n_surveys", shown, w)
    elif stem == "cross_fieldwork":
        for w, r in rows:
            for side in ("fieldwork", "other"):
                countries = {c.strip() for c in r.get(f"countries_{side}", "").split(",") if c.strip()}
                if countries:
                    b.add(SURVEYS, {"country": countries, "reason": b.has(r["score"])},
                          r.get(f"n_surveys_{side}"), shown, w, f"n_surveys_{side}")


def _decimals_tolerance(v: float) -> float:
    """Half a unit of the last digit ``v`` is written with (as JSON writes it)."""
    text = repr(float(v))
    if "e" in text:
        return abs(v) * 1e-15
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10 ** (-decimals)


def _numbers(b: _Builder, stem: str, path: Path) -> None:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    if not isinstance(obj, dict):
        return
    shown = show(path, b.root)
    m = COUNTRY_NUMBERS.match(stem)
    if stem == "prepare":
        b.add(SURVEYS, {}, obj.get("n_surveys"), shown, "n_surveys", "n_surveys")
        b.add(RESPONDENTS, {}, obj.get("n_respondents"), shown, "n_respondents", "n_respondents")
        b.add(SURVEYS, {"reason": {SCORED}}, obj.get("n_with_composite"), shown, "n_with_composite", "n_surveys")
        b.add(SURVEYS, {"reason": set(b.all_reasons) - {SCORED}}, obj.get("n_excluded"), shown, "n_excluded",
              "n_surveys")
        for wave, n in (obj.get("surveys_by_wave") or {}).items():
            b.add(SURVEYS, {"wave": str(wave)}, n, shown, f"surveys_by_wave.{wave}", "n_surveys")
    elif m:
        iso = m.group(1)
        b.add(SURVEYS, {"country": iso}, obj.get("n_surveys"), shown, "n_surveys", "n_surveys")
        b.add(RESPONDENTS, {"country": iso}, obj.get("n_respondents"), shown, "n_respondents", "n_respondents")
        share = obj.get("share_female")
        if isinstance(share, (int, float)) and not isinstance(share, bool):
            tol = _decimals_tolerance(share)
            for s in ("F", "M"):
                b.level(RESPONDENTS, "sex", s)
            b.reg.ratios.append(Ratio(RESPONDENTS, (("country", frozenset({iso})), ("sex", frozenset({"F"}))),
                                      (("country", frozenset({iso})), ("sex", frozenset({"F", "M"}))),
                                      share - tol, share + tol, shown, "share_female"))


def register(root: Path) -> Register:
    """Read every published table and numbers file under ``root/reports`` into one :class:`Register`."""
    tables = root / "reports" / "tables"
    b = _Builder(root, _dims(tables))
    for path in sorted(tables.glob("*.csv")):
        b.reg.files.append(path)
        _table(b, path.stem, path)
    for path in sorted((root / "reports" / "numbers").glob("*.json")):
        b.reg.files.append(path)
        _numbers(b, path.stem, path)
    return b.reg
