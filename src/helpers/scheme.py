"""Scoring schemes: YAML files that say how RSS answers become scores.

Two layouts are accepted (``../shared/spec/rss-scheme.md``):

* **indicator weights** (the default scheme): ``dimensions`` -> ``indicators``
  (each with a ``weight`` inside its dimension) -> ``questions``; questions of an
  indicator are averaged with equal weights; ``composite_weights`` per dimension.
* **explicit weights** (``weighting: explicit``, the shape of the official
  table): a flat ``indicators`` list (``id``, ``dimension``) and a flat
  ``questions`` list where each question names its ``indicator`` and carries its
  own ``weight`` inside its dimension and its ``composite_weight``.

Both are normalised to the same :class:`Scheme`: per question a weight inside its
dimension and a weight in the composite.  Missing answers are handled
hierarchically (inside the indicator first, then over the answered indicators of a
dimension), so an explicit scheme carrying the default's implied weights scores
exactly like the default.

Imports: helpers.paths.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from . import paths

__all__ = ["ANSWER_KINDS", "Question", "Indicator", "Scheme", "SchemeError", "load_scheme"]

#: Built-in answer kinds: code -> item score.
ANSWER_KINDS: dict[str, dict[int, float]] = {
    "likert5": {c: (c - 1) / 4 for c in range(1, 6)},
    "likert5_rev": {c: (5 - c) / 4 for c in range(1, 6)},
    "yes_good": {1: 1.0, 0: 0.0},
    "yes_bad": {1: 0.0, 0: 1.0},
}

WEIGHT_TOLERANCE = 1e-9
MAX_CODE = 99


def code_slots(s: Any) -> np.ndarray:
    """Integer answer codes (a pandas Series with an integer dtype) as positions in a question's code tables.

    The tables (:meth:`Scheme.score_table`, the loader's table of allowed codes) have
    ``MAX_CODE + 2`` slots; a missing or out-of-range code points at the last one,
    which holds no code.
    """
    codes = s.to_numpy(dtype=np.intp, na_value=MAX_CODE + 1, copy=True)
    codes[(codes < 0) | (codes > MAX_CODE)] = MAX_CODE + 1
    return codes


class SchemeError(ValueError):
    """A scheme file that cannot be used; ``problems`` lists every reason."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"scheme {source}: {len(problems)} problem(s)\n{lines}")


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    dimension: str
    indicator: str
    scores: dict[int, float]  # answer code -> item score in [0, 1]
    labels: dict[int, str]  # answer code -> label
    weight: float  # weight inside its dimension
    composite_weight: float  # weight inside the composite


@dataclass(frozen=True)
class Indicator:
    id: str
    label: str
    dimension: str
    questions: tuple[str, ...]

    @property
    def column(self) -> str:
        """Name of the indicator's score column in scored data."""
        return f"ind_{self.id}"


@dataclass(frozen=True)
class Scheme:
    """A validated scoring scheme."""

    id: str
    title: str
    official: bool
    source: str
    weighting: str  # "indicator" or "explicit"
    special_codes: dict[int, str]
    dimensions: tuple[str, ...]
    indicators: tuple[Indicator, ...]
    questions: tuple[Question, ...]
    min_dimension_weight: float
    band_names: tuple[str, ...]
    band_edges: tuple[float, ...]  # upper bounds of all bands but the last
    _label_to_code: dict[str, dict[str, int]] = field(default_factory=dict, repr=False)

    @property
    def question_ids(self) -> list[str]:
        return [q.id for q in self.questions]

    @property
    def score_columns(self) -> list[str]:
        """Dimension and composite score columns, in report order."""
        return [f"score_{d}" for d in self.dimensions] + ["score_composite"]

    @property
    def indicator_columns(self) -> list[str]:
        return [i.column for i in self.indicators]

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)

    def allowed_codes(self, qid: str) -> str:
        """Describe the codes a question accepts, for error messages."""
        codes = sorted(self.question(qid).scores)
        if codes == list(range(codes[0], codes[-1] + 1)) and len(codes) > 2:
            text = f"{codes[0]}-{codes[-1]}"
        else:
            text = ", ".join(str(c) for c in codes)
        special = "/".join(str(c) for c in sorted(self.special_codes))
        return f"allowed {text}, or {special}"

    def label_map(self, qid: str) -> dict[str, int]:
        """Map of normalised answer labels (lower case, stripped) to codes."""
        return self._label_to_code[qid]

    def score_table(self, qid: str) -> np.ndarray:
        """Lookup array ``table[code] -> item score`` (NaN for special/unknown codes)."""
        table = np.full(MAX_CODE + 2, np.nan)
        for code, score in self.question(qid).scores.items():
            table[code] = score
        return table

    def describe(self) -> str:
        kind = "official" if self.official else "workspace default, not the official IOM table"
        return f"{self.id} ({self.title}; {kind})"


def _number(value: Any) -> float:
    """Parse a YAML number or a fraction string such as ``1/3``."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return float(Fraction(value.strip()))
    raise ValueError(f"{value!r} is not a number")


class _Checker:
    """Collects every problem of a scheme file before failing."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)

    def number(self, where: str, value: Any, *, what: str) -> float | None:
        try:
            x = _number(value)
        except (ValueError, ZeroDivisionError):
            self.add(where, f"{what} {value!r} is not a number (expected e.g. 0.2 or 1/3)")
            return None
        if not math.isfinite(x) or x < 0:
            self.add(where, f"{what} {value!r} must be a non-negative number")
            return None
        return x

    def weights_sum(self, where: str, weights: Mapping[str, float | None], what: str) -> None:
        vals = [w for w in weights.values() if w is not None]
        if len(vals) == len(weights) and weights:
            total = math.fsum(vals)
            if abs(total - 1.0) > WEIGHT_TOLERANCE:
                self.add(where, f"{what} sum to {total:.12g}, expected 1 (to 1e-9)")


def _answers(chk: _Checker, where: str, q: Mapping[str, Any], label_sets: Mapping[str, Any]):
    """Return (scores, labels) of one question."""
    scores: dict[int, float] = {}
    labels: dict[int, str] = {}
    kind = q.get("kind")
    answers = q.get("answers")
    if kind is not None and answers is not None:
        chk.add(where, "give either 'kind' or 'answers', not both")
    elif kind is not None:
        if kind not in ANSWER_KINDS:
            known = ", ".join(sorted(ANSWER_KINDS))
            chk.add(where, f"unknown answer kind {kind!r} (known: {known}, or an 'answers' table)")
        else:
            scores = dict(ANSWER_KINDS[kind])
    elif answers is not None:
        if not isinstance(answers, Mapping) or not answers:
            chk.add(where, "'answers' must map answer codes to {score, label}")
        else:
            for code, spec in answers.items():
                if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= 96:
                    chk.add(where, f"answer code {code!r} must be an integer 0-96 (97-99 are special)")
                    continue
                if isinstance(spec, Mapping):
                    score, label = spec.get("score"), spec.get("label")
                else:
                    score, label = spec, None
                s = chk.number(f"{where} code {code}", score, what="score")
                if s is not None and s > 1:
                    chk.add(f"{where} code {code}", f"score {score!r} is above 1")
                elif s is not None:
                    scores[code] = s
                if label is not None:
                    labels[code] = str(label)
    else:
        chk.add(where, "no answer kind: give 'kind' (likert5, likert5_rev, yes_good, yes_bad) or 'answers'")

    label_spec = q.get("labels")
    if isinstance(label_spec, str):
        if label_spec not in label_sets:
            chk.add(where, f"unknown label set {label_spec!r} (defined: {', '.join(label_sets) or 'none'})")
        else:
            labels.update({int(k): str(v) for k, v in label_sets[label_spec].items()})
    elif isinstance(label_spec, Mapping):
        labels.update({int(k): str(v) for k, v in label_spec.items()})
    elif label_spec is not None:
        chk.add(where, "'labels' must name a label set or map codes to labels")
    for code in labels:
        if scores and code not in scores:
            chk.add(where, f"label for code {code} which is not an answer code of the question")
    normalised = [v.strip().lower() for v in labels.values()]
    if len(set(normalised)) != len(normalised):
        chk.add(where, "two answer codes share one label")
    return scores, labels


def _parse(doc: Any, source: str) -> Scheme:
    chk = _Checker(source)
    if not isinstance(doc, Mapping):
        raise SchemeError(source, ["the file is not a YAML mapping of scheme fields"])
    known = {
        "id", "title", "official", "weighting", "special_codes", "label_sets",
        "min_dimension_weight", "composite_weights", "bands", "dimensions",
        "indicators", "questions",
    }
    for key in doc:
        if key not in known:
            chk.add("", f"unknown field {key!r} (known: {', '.join(sorted(known))})")
    sid = doc.get("id")
    if not isinstance(sid, str) or not sid:
        chk.add("", "missing 'id' (the scheme's name, e.g. rss-default)")
        sid = "?"
    weighting = doc.get("weighting", "indicator")
    if weighting not in ("indicator", "explicit"):
        chk.add("weighting", f"{weighting!r} is neither 'indicator' nor 'explicit'")

    special = doc.get("special_codes", {97: "Not applicable", 98: "Does not know", 99: "Refused"})
    special_codes = {int(k): str(v) for k, v in special.items()}
    if sorted(special_codes) != [97, 98, 99]:
        chk.add("special_codes", f"must be exactly 97, 98 and 99, found {sorted(special_codes)}")
    label_sets = doc.get("label_sets", {}) or {}

    mdw = chk.number("min_dimension_weight", doc.get("min_dimension_weight", 0.6), what="value")
    if mdw is not None and mdw > 1:
        chk.add("min_dimension_weight", f"{mdw} is above 1")

    # bands
    band_names: list[str] = []
    band_edges: list[float] = []
    bands = doc.get("bands", [{"name": "low", "below": 0.33}, {"name": "medium", "below": 0.66}, {"name": "high"}])
    if not isinstance(bands, list) or len(bands) < 2:
        chk.add("bands", "give at least two bands, each {name, below}, the last without 'below'")
    else:
        for i, b in enumerate(bands):
            name = b.get("name") if isinstance(b, Mapping) else None
            if not name:
                chk.add(f"bands[{i}]", "band without a name")
                continue
            band_names.append(str(name))
            if i < len(bands) - 1:
                edge = chk.number(f"bands[{i}] ({name})", b.get("below"), what="upper bound 'below'")
                if edge is not None:
                    if edge > 1 or edge <= 0:
                        chk.add(f"bands[{i}] ({name})", f"upper bound {edge} is outside (0, 1]")
                    if band_edges and edge <= band_edges[-1]:
                        chk.add(f"bands[{i}] ({name})", f"bands out of order: {edge} is not above {band_edges[-1]}")
                    band_edges.append(edge)
            elif "below" in b:
                chk.add(f"bands[{i}] ({name})", "the last band has no upper bound; remove 'below'")
        if len(set(band_names)) != len(band_names):
            chk.add("bands", "duplicate band names")

    # structure -> flat rows
    rows: list[dict[str, Any]] = []  # one per question
    ind_rows: list[dict[str, Any]] = []
    dims: list[str] = []
    dim_weight: dict[str, float | None] = {}

    if weighting == "explicit":
        for i, ind in enumerate(doc.get("indicators") or []):
            where = f"indicators[{i}]"
            if not isinstance(ind, Mapping) or not ind.get("id") or not ind.get("dimension"):
                chk.add(where, "each indicator needs 'id' and 'dimension'")
                continue
            ind_rows.append({"id": str(ind["id"]), "label": str(ind.get("label", ind["id"])),
                             "dimension": str(ind["dimension"]), "where": where})
            if ind["dimension"] not in dims:
                dims.append(str(ind["dimension"]))
        if not ind_rows:
            chk.add("indicators", "an explicit-weights scheme needs a list of indicators")
        ind_dim = {r["id"]: r["dimension"] for r in ind_rows}
        for i, q in enumerate(doc.get("questions") or []):
            where = f"questions[{i}]"
            if not isinstance(q, Mapping) or not q.get("id"):
                chk.add(where, "question without an 'id'")
                continue
            where = f"{where} ({q['id']})"
            ind = q.get("indicator")
            if ind is None:
                chk.add(where, "question in no indicator (give 'indicator')")
                continue
            if ind not in ind_dim:
                chk.add(where, f"indicator {ind!r} is not in the indicators list")
                continue
            w = chk.number(where, q.get("weight"), what="weight")
            cw = chk.number(where, q.get("composite_weight"), what="composite_weight")
            rows.append({"q": q, "where": where, "indicator": str(ind), "dimension": ind_dim[ind],
                         "weight": w, "composite_weight": cw})
        if not rows:
            chk.add("questions", "an explicit-weights scheme needs a list of questions")
        if doc.get("composite_weights") is not None or doc.get("dimensions") is not None:
            chk.add("", "an explicit-weights scheme gives weights per question; remove 'dimensions'/'composite_weights'")
    else:
        if doc.get("questions") is not None or doc.get("indicators") is not None:
            chk.add("", "top-level 'questions'/'indicators' belong to 'weighting: explicit' schemes")
        dim_list = doc.get("dimensions")
        if not isinstance(dim_list, list) or not dim_list:
            chk.add("dimensions", "missing: give the dimensions with their indicators and questions")
            dim_list = []
        ind_weights: dict[str, float | None] = {}
        for di, d in enumerate(dim_list):
            dwhere = f"dimensions[{di}]"
            if not isinstance(d, Mapping) or not d.get("id"):
                chk.add(dwhere, "dimension without an 'id'")
                continue
            did = str(d["id"])
            dwhere = f"{dwhere} ({did})"
            if did in dims:
                chk.add(dwhere, f"duplicate dimension id {did!r}")
                continue
            dims.append(did)
            inds = d.get("indicators") or []
            if not inds:
                chk.add(dwhere, "dimension without indicators")
            this_dim: dict[str, float | None] = {}
            for ii, ind in enumerate(inds):
                iwhere = f"{dwhere}.indicators[{ii}]"
                if not isinstance(ind, Mapping) or not ind.get("id"):
                    chk.add(iwhere, "indicator without an 'id'")
                    continue
                iid = str(ind["id"])
                iwhere = f"{iwhere} ({iid})"
                w = chk.number(iwhere, ind.get("weight"), what="weight")
                this_dim[iid] = w
                ind_weights[iid] = w
                ind_rows.append({"id": iid, "label": str(ind.get("label", iid)), "dimension": did, "where": iwhere})
                qs = ind.get("questions") or []
                for qi, q in enumerate(qs):
                    qwhere = f"{iwhere}.questions[{qi}]"
                    if not isinstance(q, Mapping) or not q.get("id"):
                        chk.add(qwhere, "question without an 'id'")
                        continue
                    rows.append({"q": q, "where": f"{qwhere} ({q['id']})", "indicator": iid, "dimension": did,
                                 "weight": None, "composite_weight": None})
            chk.weights_sum(dwhere, this_dim, "indicator weights")
        cw = doc.get("composite_weights")
        if not isinstance(cw, Mapping):
            chk.add("composite_weights", "missing: give a weight per dimension")
            cw = {}
        for k in cw:
            if k not in dims:
                chk.add("composite_weights", f"weight for unknown dimension {k!r}")
        for did in dims:
            if did not in cw:
                chk.add("composite_weights", f"no weight for dimension {did!r}")
            else:
                dim_weight[did] = chk.number(f"composite_weights.{did}", cw[did], what="weight")
        if all(did in cw for did in dims):
            chk.weights_sum("composite_weights", dim_weight, "dimension weights")
        # implied question weights
        n_q: dict[str, int] = {}
        for r in rows:
            n_q[r["indicator"]] = n_q.get(r["indicator"], 0) + 1
        for r in rows:
            iw, dw = ind_weights.get(r["indicator"]), dim_weight.get(r["dimension"])
            if iw is not None:
                r["weight"] = iw / n_q[r["indicator"]]
                if dw is not None:
                    r["composite_weight"] = dw * r["weight"]

    # duplicates and empties
    seen_q: set[str] = set()
    for r in rows:
        qid = str(r["q"]["id"])
        if qid in seen_q:
            chk.add(r["where"], f"duplicate question id {qid!r}")
        seen_q.add(qid)
    seen_i: set[str] = set()
    for r in ind_rows:
        if r["id"] in seen_i:
            chk.add(r["where"], f"duplicate indicator id {r['id']!r}")
        seen_i.add(r["id"])
        if not any(q["indicator"] == r["id"] for q in rows):
            chk.add(r["where"], f"indicator {r['id']!r} has no questions")
    reserved = {"respondent_id", "country", "wave", "survey_date", "return_date", "sex", "age", "return_from",
                "mentored", "mentoring_start", "assist_economic", "assist_social", "assist_psychosocial", "weight"}
    for qid in seen_q & reserved:
        chk.add("questions", f"question id {qid!r} is a reserved column of the data contract")

    if weighting == "explicit":
        for d in dims:
            chk.weights_sum(f"dimension {d}", {r["where"]: r["weight"] for r in rows if r["dimension"] == d},
                            "question weights")
        chk.weights_sum("composite", {r["where"]: r["composite_weight"] for r in rows}, "composite weights")

    questions: list[Question] = []
    label_to_code: dict[str, dict[str, int]] = {}
    for r in rows:
        q = r["q"]
        scores, labels = _answers(chk, r["where"], q, label_sets)
        qid = str(q["id"])
        lab = {v.strip().lower(): c for c, v in labels.items()}
        for c, v in special_codes.items():
            lab.setdefault(v.strip().lower(), c)
        label_to_code[qid] = lab
        questions.append(Question(
            id=qid, text=str(q.get("text", "")), dimension=r["dimension"], indicator=r["indicator"],
            scores=scores, labels=labels, weight=r["weight"] or 0.0, composite_weight=r["composite_weight"] or 0.0,
        ))

    if chk.problems:
        raise SchemeError(source, chk.problems)

    indicators = tuple(
        Indicator(id=r["id"], label=r["label"], dimension=r["dimension"],
                  questions=tuple(q.id for q in questions if q.indicator == r["id"]))
        for r in ind_rows
    )
    return Scheme(
        id=sid, title=str(doc.get("title", sid)), official=bool(doc.get("official", False)), source=source,
        weighting=weighting, special_codes=special_codes, dimensions=tuple(dims), indicators=indicators,
        questions=tuple(questions), min_dimension_weight=float(mdw if mdw is not None else 0.6),
        band_names=tuple(band_names), band_edges=tuple(band_edges), _label_to_code=label_to_code,
    )


def load_scheme(path: str | Path | None = None) -> Scheme:
    """Read and validate a scheme file (default: the workspace's ``rss-default``).

    Parameters
    ----------
    path
        A YAML file, or the name of a scheme shipped in ``helpers/schemes``.

    Returns
    -------
    Scheme
        The validated scheme.

    Raises
    ------
    SchemeError
        Listing every problem of the file at once.

    Examples
    --------
    >>> s = load_scheme()
    >>> s.id, len(s.dimensions), len(s.indicators), len(s.questions)
    ('rss-default', 3, 15, 26)
    >>> round(s.question("eco_borrow_freq").weight, 3)
    0.1
    """
    if path is None:
        path = paths.DEFAULT_SCHEME
    p = Path(path)
    if not p.exists() and (paths.SCHEMES / f"{path}.yaml").exists():
        p = paths.SCHEMES / f"{path}.yaml"
    source = str(p)
    if not p.is_file():
        raise SchemeError(source, ["file not found"])
    try:
        # libyaml's loader when PyYAML has it (8x faster: 3 ms for the default scheme), the same documents
        doc = yaml.load(p.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except UnicodeDecodeError as exc:
        raise SchemeError(source, [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    except yaml.YAMLError as exc:
        raise SchemeError(source, [f"not valid YAML: {exc}"]) from None
    return _parse(doc, source)


def scheme_from_dict(doc: Mapping[str, Any], source: str = "<dict>") -> Scheme:
    """Validate a scheme given as a mapping (as it would be read from YAML)."""
    return _parse(doc, source)
