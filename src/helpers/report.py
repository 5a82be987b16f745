"""Build ``reports/report.html`` and ``reports/tables.xlsx`` from what the notebooks wrote.

    rss report        (also run by ``rss run`` when every notebook succeeded)

The report is built from files, never from notebook cells:

* ``reports/numbers/<section>.json`` -- merged into ``reports/numbers.json``
  (``{"prepare": {...}, "country_SEN": {...}, "cross_country": {...}, ...}``); every
  number of the executive summary is taken from there and carries its key
  (``<span class="num" data-key="prepare.n_surveys">``);
* ``reports/tables/*.csv`` -- shown as HTML tables and written one sheet each to
  ``tables.xlsx`` (sheet names at most 31 characters and unique, a ``contents`` sheet
  maps them back to the files);
* ``reports/figures/*.png`` / ``*.svg`` -- embedded as base64 ``data:`` URIs (PNG
  preferred when both exist), so the single HTML file works offline, with no
  external CSS, script or image.

Files go to sections by name: ``country_<ISO3>_*`` to that country's page, and
``prepare_*``/``quality_*``/``data_*`` (section 0), ``cross_*``,
``dimension_interdependence*`` and ``determinants*`` (2), ``mentoring_*`` (3),
``weight_sensitivity*``/``weights_*`` (4); anything else to "Other outputs".  Inside
a section, the stems of its ``lead`` come first (a figure, then the table of the same
name), the other files after them.  A section with no file says "not computed yet".

A section's ``headlines`` (from its numbers file) open the section as its findings
and make the executive summary; a numbers file may also list ``summary_keys``, the
numbers the summary shows beside the headlines, each carrying its key.  Long text
columns of a table that repeat a few values (e.g. the covariance of tidy estimate
rows) are shown as lettered notes under the table (the CSV and the workbook keep them).

As a second line of defence for the disclosure rule, a table row whose ``n`` or
``n_respondents`` column is below the threshold (``disclosure_threshold`` of
``prepare.json``, default 10) is suppressed in both the HTML and the workbook, and the
table says how many rows were.

The synthetic-data banner is shown exactly when the data is synthetic: when
``prepare.json`` says ``"synthetic": true`` or the input folder holds ``truth.json``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import lineage, paths

__all__ = ["SECTIONS", "BANNER", "build_report", "report_key", "sheet_names", "is_synthetic", "main"]

BANNER = "SYNTHETIC DATA — figures are synthetic and are not IOM results"
DEFAULT_THRESHOLD = 10
MAX_ROWS_SHOWN = 200
N_COLUMNS = ("n", "n_respondents")
_COUNTRY = re.compile(r"^country_([A-Z]{3})(?:_|$)")
_INVALID_SHEET = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Section:
    id: str
    number: str
    title: str
    notebook: str
    prefixes: tuple[str, ...]
    intro: str
    lead: tuple[str, ...] = ()


SECTIONS: tuple[Section, ...] = (
    Section("prepare", "0", "Data preparation and quality", "00_prepare", ("prepare_", "quality_", "data_"),
            "Surveys per country and wave, respondents, months since return; missingness and special codes "
            "(97/98/99) per question; rows excluded and why; the scoring scheme used."),
    Section("country", "1", "Country profiles", "10_country_profile", ("country_",),
            "One profile per country, from one parameterised notebook: sample, score distributions and bands, "
            "indicator scores against the pooled median, scores by months since return and wave, and mentored "
            "versus not where the country has mentored returnees."),
    Section("cross_country", "2", "Cross-country comparison", "20_cross_country",
            ("cross_country_", "cross_", "dimension_interdependence", "determinants"),
            "Mean (95% CI) of each score by country, ranking and dimension profiles; fieldwork countries versus "
            "the others; interdependence of the dimensions (correlations, regressions on the economic score with "
            "country fixed effects, cross-lagged panel models); determinants with country fixed effects.",
            ("cross_means", "cross_ranking", "cross_dimension_profiles", "cross_fieldwork", "cross_correlations",
             "dimension_interdependence", "determinants")),
    Section("mentoring", "3", "Mentoring (ORION) effect", "30_mentoring", ("mentoring_",),
            "In the countries where it ran: balance of mentored versus not; raw, regression-adjusted, "
            "inverse-probability-weighted and difference-in-differences estimates with an event study; "
            "heterogeneity and robustness.",
            ("mentoring_coefficients", "mentoring_effects", "mentoring_event_study", "mentoring_balance",
             "mentoring_balance_joint", "mentoring_overlap", "mentoring_heterogeneity", "mentoring_robustness")),
    Section("weight_sensitivity", "4", "Weight sensitivity", "40_weight_sensitivity",
            ("weight_sensitivity", "weights_", "weight_"),
            "Data-derived weights (first principal component per dimension) beside the scheme's: do country "
            "rankings and the mentoring effect change?",
            ("weight_sensitivity_weights", "weight_sensitivity_ranks", "weight_sensitivity_rank_correlation",
             "weight_sensitivity_rankings", "weight_sensitivity_effects", "weight_sensitivity")),
)


# ---------------------------------------------------------------------------------------------------------------
# reading outputs


@dataclass
class Outputs:
    tables: dict[str, Path] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)
    numbers: dict[str, Any] = field(default_factory=dict)
    bad_numbers: dict[str, str] = field(default_factory=dict)


def _collect(reports: Path) -> Outputs:
    out = Outputs()
    for p in sorted((reports / "tables").glob("*.csv")):
        out.tables[p.stem] = p
    figs: dict[str, Path] = {}
    for p in sorted((reports / "figures").glob("*")):
        if p.suffix.lower() in (".png", ".svg") and not p.name.startswith("."):
            if p.stem not in figs or p.suffix.lower() == ".png":
                figs[p.stem] = p
    out.figures = figs
    for p in sorted((reports / "numbers").glob("*.json")):
        try:
            out.numbers[p.stem] = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            out.bad_numbers[p.stem] = str(exc)
    return out


def _section_of(stem: str) -> str:
    if _COUNTRY.match(stem):
        return "country"
    for s in SECTIONS:
        if s.id != "country" and (stem == s.id or stem.startswith(s.prefixes)):
            return s.id
    return "other"


def _read_csv(path: Path) -> list[list[str]]:
    import csv

    with open(path, newline="", encoding="utf-8-sig") as f:
        return [row for row in csv.reader(f)]


def _number(s: str) -> float | None:
    try:
        v = float(s)
    except (TypeError, ValueError):
        return None
    return v if v == v else None  # NaN is not a number to show


def suppress(rows: list[list[str]], threshold: int) -> tuple[list[list[str]], int]:
    """Suppress rows built on fewer than ``threshold`` respondents (by their ``n`` column).

    Examples
    --------
    >>> rows = [["group", "n", "mean"], ["a", "25", "0.5"], ["b", "3", "0.9"]]
    >>> suppress(rows, 10)
    ([['group', 'n', 'mean'], ['a', '25', '0.5'], ['b', '<10', 'suppressed']], 1)
    """
    if not rows:
        return rows, 0
    header = [h.strip().lower() for h in rows[0]]
    ncols = [i for i, h in enumerate(header) if h in N_COLUMNS or h.startswith("n_respondents")]
    if not ncols:
        return rows, 0
    out, k = [rows[0]], 0
    for row in rows[1:]:
        small = any(i < len(row) and (v := _number(row[i])) is not None and 0 < v < threshold for i in ncols)
        if small:
            k += 1
            row = [(f"<{threshold}" if i in ncols else "suppressed") if _number(c) is not None else c
                   for i, c in enumerate(row)]
        out.append(row)
    return out, k


# ---------------------------------------------------------------------------------------------------------------
# formatting


def esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def fmt(v: Any) -> str:
    """Format a number for prose: thousands separators, 3 significant digits.

    Examples
    --------
    >>> fmt(20000), fmt(0.623456), fmt(12.345), fmt(0.000123), fmt(True), fmt(3.0)
    ('20,000', '0.623', '12.3', '0.000123', 'yes', '3')
    """
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if v != v:
            return "n/a"
        if v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.3g}"
    return str(v)


def _cell(s: str) -> str:
    v = _number(s)
    if v is None or re.fullmatch(r"[+-]?\d+", s.strip()):
        return esc(s)
    return esc(f"{v:.4g}")


_ACRONYMS = {"did": "DiD", "ipw": "IPW", "aipw": "AIPW", "ci": "CI", "ols": "OLS", "fe": "FE", "pca": "PCA"}


def _humanize(key: str) -> str:
    """A key or file stem as a label.

    Examples
    --------
    >>> _humanize("did_composite_ci_low"), _humanize("prepare.n_surveys")
    ('DiD composite CI low', 'Prepare: n surveys')
    """
    k = key.replace("_", " ").replace(".", ": ").strip()
    k = " ".join(_ACRONYMS.get(w, w) for w in k.split(" "))
    return k[:1].upper() + k[1:]


def _num(value: Any, key: str) -> str:
    return f'<span class="num" data-key="{esc(key)}">{esc(fmt(value))}</span>'


def _scalars(obj: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, Any]]:
    """Flatten scalar entries of a numbers file (two levels), skipping the headlines."""
    out: list[tuple[str, Any]] = []
    if not isinstance(obj, dict):
        return out
    for k, v in obj.items():
        if k in ("headlines", "synthetic") and depth == 0:
            continue
        key = f"{prefix}{k}"
        if isinstance(v, (int, float, str, bool)) and v is not None:
            out.append((key, v))
        elif isinstance(v, dict) and depth < 1:
            out.extend(_scalars(v, key + ".", depth + 1))
    return out


def sheet_names(stems: list[str]) -> dict[str, str]:
    """Excel sheet names for table stems: at most 31 characters, no ``[]:*?/\\``, unique ignoring case.

    Examples
    --------
    >>> sheet_names(["country_SEN_indicators_vs_pooled_median", "country_SEN_indicators_vs_pooled_median_w2", "a/b"])
    {'country_SEN_indicators_vs_pooled_median': 'country_SEN_indicators_vs_poole', 'country_SEN_indicators_vs_pooled_median_w2': 'country_SEN_indicators_vs_poo~2', 'a/b': 'a_b'}
    """
    used = {"contents"}
    out = {}
    for stem in stems:
        base = _INVALID_SHEET.sub("_", stem).strip("'") or "table"
        name = base[:31]
        k = 2
        while name.lower() in used:
            suffix = f"~{k}"
            name = base[: 31 - len(suffix)] + suffix
            k += 1
        used.add(name.lower())
        out[stem] = name
    return out


# ---------------------------------------------------------------------------------------------------------------
# facts about the run


def _input_dir(manifest: dict[str, Any], root: Path) -> Path | None:
    src = manifest.get("inputs", {}).get("source")
    if src:
        p = Path(src)
    elif root.resolve() == paths.ROOT.resolve():
        try:
            p = paths.data_source()
        except paths.DataSourceError:
            return None
    else:
        p = root / "data" / "raw"
    return p if p.is_dir() else p.parent


def is_synthetic(numbers: dict[str, Any], manifest: dict[str, Any], root: Path) -> tuple[bool | None, str]:
    """Whether the data is synthetic, and how that is known.

    True when ``prepare.json`` says ``"synthetic": true`` or the input folder holds a
    ``truth.json`` (the synthetic generator writes the planted effects there); False
    when ``prepare.json`` says false and there is no ``truth.json``; None when nothing
    says.
    """
    flag = numbers.get("prepare", {}).get("synthetic") if isinstance(numbers.get("prepare"), dict) else None
    d = _input_dir(manifest, root)
    truth = bool(d and (d / "truth.json").is_file()) or any(
        Path(f.get("path", "")).name == "truth.json" for f in manifest.get("inputs", {}).get("files", []))
    if flag is True:
        return True, "prepare.json says the data is synthetic"
    if truth:
        return True, "the input folder holds truth.json (planted effects of the synthetic generator)"
    if flag is False:
        return False, "prepare.json says the data is not synthetic and the input has no truth.json"
    return None, "not determined (no prepare.json yet)"


def _country_name(iso: str) -> str:
    try:
        import pycountry

        c = pycountry.countries.get(alpha_3=iso)
    except Exception:  # noqa: BLE001 -- a name is a nicety
        return ""
    return getattr(c, "common_name", None) or getattr(c, "name", "") if c else ""


def report_key(root: Path, manifest: dict[str, Any], hasher: Callable[[Path], str] | None = None) -> str:
    """Hash everything the report is built from (outputs, run state, this module's code)."""
    hasher = hasher or (lambda p: hashlib.sha256(p.read_bytes()).hexdigest())
    reports = root / "reports"
    files = []
    for sub, pats in (("tables", ("*.csv",)), ("figures", ("*.png", "*.svg")), ("numbers", ("*.json",))):
        for pat in pats:
            files += [(f"{sub}/{p.name}", hasher(p)) for p in sorted((reports / sub).glob(pat))]
    run = manifest.get("run", {})
    jobs = {k: [v.get("key"), v.get("status")] for k, v in sorted(manifest.get("jobs", {}).items())}
    state = {"code": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(), "files": files, "jobs": jobs,
             "countries": run.get("countries"), "stale": run.get("stale"), "missing": run.get("missing_notebooks"),
             "inputs": {k: v for k, v in manifest.get("inputs", {}).items() if k != "source"}}
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()


# ---------------------------------------------------------------------------------------------------------------
# HTML pieces

CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;color:#1b1b1b;background:#fff}
main{max-width:1100px;margin:0 auto;padding:0 1.2rem 4rem}
h1{font-size:1.7rem;margin:1.2rem 0 .2rem}h2{border-bottom:2px solid #0b5394;padding-bottom:.2rem;margin-top:2.5rem}
h3{margin-top:2rem}h4{margin:1.2rem 0 .3rem}
.banner{position:sticky;top:0;z-index:9;background:#b00020;color:#fff;font-weight:700;text-align:center;
padding:.55rem;letter-spacing:.02em}
.note{background:#f4f6f8;border-left:4px solid #8a99a8;padding:.5rem .8rem;margin:.8rem 0}
.todo{background:#fff8e1;border-left:4px solid #e0a800;padding:.5rem .8rem;margin:.8rem 0}
.warn{background:#fdecea;border-left:4px solid #b00020;padding:.5rem .8rem;margin:.8rem 0}
.findings{background:#eef5fb;border-left:4px solid #0b5394;padding:.5rem .8rem;margin:.8rem 0}
.findings ul{margin:.3rem 0}ol.notes{font-size:.8rem;color:#444;margin:.2rem 0 1rem}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.86rem;display:block;overflow-x:auto;max-width:100%}
th,td{border:1px solid #d5dbe1;padding:.2rem .45rem;text-align:left;vertical-align:top}
th{background:#eef2f6}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
figure{margin:1rem 0}figure img{max-width:100%;height:auto;border:1px solid #e3e7eb}
figcaption{font-size:.85rem;color:#555}
nav.toc ol{columns:2}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em}
.num{font-weight:600}dl.kv{display:grid;grid-template-columns:max-content auto;gap:.1rem 1rem}dl.kv dt{color:#444}
dl.kv dd{margin:0}.muted{color:#666}section.country{border-top:1px dashed #ccd;margin-top:2rem}
@media print{.banner{position:static}}
"""


class _Html:
    def __init__(self) -> None:
        self.parts: list[str] = []

    def __call__(self, *s: str) -> None:
        self.parts.extend(s)

    def text(self) -> str:
        return "".join(self.parts)


def _table_html(stem: str, path: Path, threshold: int, sheet: str | None) -> str:
    rows, k = suppress(_read_csv(path), threshold)
    if not rows:
        return f'<p class="note">Table <code>{esc(path.name)}</code> is empty.</p>'
    head, body = rows[0], rows[1:]
    body, notes = _footnoted(head, body)
    h = [f'<h4 id="table-{esc(stem)}">{esc(_humanize(stem))}</h4><table><thead><tr>']
    h += [f"<th>{esc(c)}</th>" for c in head]
    h.append("</tr></thead><tbody>")
    for row in body[:MAX_ROWS_SHOWN]:
        h.append("<tr>" + "".join(f'<td class="{"n" if _number(c) is not None else ""}">{_cell(c)}</td>'
                                  for c in row) + "</tr>")
    h.append("</tbody></table>")
    if notes:
        h.append('<ol class="notes" type="a">' + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ol>")
    where = f"<code>reports/tables/{esc(path.name)}</code>"
    if sheet:
        where += f", sheet <code>{esc(sheet)}</code> of <code>tables.xlsx</code>"
    note = (f"First {MAX_ROWS_SHOWN} of {len(body):,} rows shown; all in {where}." if len(body) > MAX_ROWS_SHOWN
            else f"File: {where}.")
    if k:
        note += f" {k} row{'s' if k != 1 else ''} suppressed: fewer than {threshold} respondents."
    h.append(f'<p class="muted">{note}</p>')
    return "".join(h)


def _footnoted(head: list[str], body: list[list[str]], *, long: int = 24,
               most: int = 8) -> tuple[list[list[str]], list[str]]:
    """Replace long texts that repeat in a column (at most ``most`` distinct) by note letters ``[a]``, ``[b]``.

    Examples
    --------
    >>> body, notes = _footnoted(["x", "cov"], [["1", "clustered by respondent_id, " * 2], ["2", "short"]])
    >>> [r[1] for r in body], len(notes)
    (['[a]', 'short'], 1)
    """
    notes: list[str] = []
    cols = []
    for j in range(len(head)):
        vals = [r[j] for r in body if j < len(r)]
        distinct = list(dict.fromkeys(v for v in vals if len(v) > long))
        if distinct and len(distinct) <= most:
            cols.append((j, distinct))
    if not cols:
        return body, notes
    letter = {}
    for _j, distinct in cols:
        for v in distinct:
            if v not in letter:
                letter[v] = chr(ord("a") + len(notes)) if len(notes) < 26 else str(len(notes) + 1)
                notes.append(v)
    index = {j for j, _ in cols}
    out = [[f"[{letter[c]}]" if i in index and c in letter else c for i, c in enumerate(r)] for r in body]
    return out, notes


def _figure_html(stem: str, path: Path) -> str:
    mime = "image/png" if path.suffix.lower() == ".png" else "image/svg+xml"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f'<figure id="figure-{esc(stem)}"><img src="data:{mime};base64,{data}" alt="{esc(_humanize(stem))}">'
            f"<figcaption>{esc(_humanize(stem))} <span class=\"mono\">({esc(path.name)})</span></figcaption></figure>")


def _numbers_html(obj: Any, source: str) -> str:
    items = _scalars(obj)
    if not items:
        return ""
    rows = "".join(f"<dt>{esc(_humanize(k))}</dt><dd>{_num(v, f'{source}.{k}')}</dd>" for k, v in items)
    return (f"<details><summary>Key numbers ({len(items)}, from <code>numbers.json</code>: {esc(source)})</summary>"
            f'<dl class="kv">{rows}</dl></details>')


def _key_first(items: list[tuple[str, Any]], k: int) -> list[tuple[str, Any]]:
    """Pick ``k`` headline-like numbers: counts, means, effects and differences before intervals and p-values."""
    def rank(key: str) -> int:
        leaf = key.rsplit(".", 1)[-1]
        if leaf.startswith(("ci_", "se_")) or "_ci_" in leaf or leaf.endswith(("_p", "_se")) or leaf.startswith("p_"):
            return 2
        if leaf.startswith(("n_", "mean_")) or any(w in leaf for w in ("effect", "diff", "rank", "corr")):
            return 0
        return 1
    return sorted(items, key=lambda kv: rank(kv[0]))[:k]


def _ordered(files: dict[str, list[str]], lead: tuple[str, ...]) -> list[tuple[str, str]]:
    """Files of a section in showing order: each ``lead`` stem (figure, then table), then the rest.

    Examples
    --------
    >>> _ordered({"figures": ["a", "b"], "tables": ["a", "c"]}, ("b", "a"))
    [('figure', 'b'), ('figure', 'a'), ('table', 'a'), ('table', 'c')]
    """
    figs, tabs = list(files.get("figures", [])), list(files.get("tables", []))
    out = []
    for stem in lead:
        if stem in figs:
            out.append(("figure", stem))
        if stem in tabs:
            out.append(("table", stem))
    out += [("figure", f) for f in figs if f not in lead]
    out += [("table", t) for t in tabs if t not in lead]
    return out


def _summary_keys(obj: Any) -> list[tuple[str, Any]]:
    """The ``summary_keys`` of a numbers file that hold a value, in the order listed."""
    keys = obj.get("summary_keys") if isinstance(obj, dict) else None
    if not isinstance(keys, list):
        return []
    return [(str(k), obj[k]) for k in keys if isinstance(obj.get(k), (int, float, str, bool))]


def _headlines(obj: Any) -> list[str]:
    h = obj.get("headlines") if isinstance(obj, dict) else None
    return [str(x) for x in h] if isinstance(h, list) else []


# ---------------------------------------------------------------------------------------------------------------
# build


def build_report(root: Path | None = None, *, manifest: dict[str, Any] | None = None) -> dict[str, Path]:
    """Write ``report.html``, ``tables.xlsx`` and ``numbers.json`` under ``root/reports`` atomically.

    Parameters
    ----------
    root
        Project root (default :data:`helpers.paths.ROOT`).
    manifest
        The runner's manifest (default: read ``reports/.manifest.json``); it gives
        the countries, the run times, the parameters and the input checksums.

    Returns
    -------
    dict
        ``{"html": ..., "xlsx": ..., "numbers": ...}`` paths written.
    """
    from .io import write_json, write_text
    from .provenance import git_state, package_versions
    from .runner.manifest import load_manifest

    root = Path(root or paths.ROOT)
    reports = root / "reports"
    man = manifest if manifest is not None else load_manifest(root)
    out = _collect(reports)
    numbers_path = write_json(reports / "numbers.json", out.numbers)
    lineage_path, lineage_rows = lineage.write(reports, root / "notebooks")

    prepare = out.numbers.get("prepare") if isinstance(out.numbers.get("prepare"), dict) else {}
    threshold = int(prepare.get("disclosure_threshold", DEFAULT_THRESHOLD) or DEFAULT_THRESHOLD)
    synthetic, synth_why = is_synthetic(out.numbers, man, root)
    run = man.get("run", {})
    jobs = man.get("jobs", {})
    countries = run.get("countries") or sorted({m.group(1) for s in [*out.tables, *out.figures, *out.numbers]
                                                if (m := _COUNTRY.match(s))})
    stale = run.get("stale") or []
    sheets = sheet_names(list(out.tables))

    # distribute files
    by_section: dict[str, dict[str, list[str]]] = {}
    for kind, stems in (("tables", out.tables), ("figures", out.figures)):
        for stem in stems:
            sec = _section_of(stem)
            if sec == "country" and _COUNTRY.match(stem).group(1) not in countries:
                continue
            by_section.setdefault(sec, {"tables": [], "figures": []})[kind].append(stem)

    h = _Html()
    title = "Reintegration outcomes of returnees: comparative RSS analysis"
    h('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
      '<meta name="viewport" content="width=device-width,initial-scale=1">',
      f"<title>{esc(title)}{' (SYNTHETIC DATA)' if synthetic else ''}</title><style>{CSS}</style></head><body>")
    if synthetic:
        h(f'<div class="banner" id="synthetic-banner" role="alert">{esc(BANNER)}</div>')
    h("<main>", f"<h1>{esc(title)}</h1>",
      '<p class="muted">A rerun of the comparative analysis of <i>Mentoring Returnees: Study on Reintegration '
      "Outcomes Through a Comparative Lens</i> (IOM with Samuel Hall and the University of Sussex, 2020), scored "
      "with the Reintegration Sustainability Survey (RSS), on the data described in the "
      '<a href="#data-statement">data statement</a>. Built '
      f"<span data-volatile>{esc(dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC'))}</span> from the files "
      "the notebooks wrote.</p>")
    if stale:
        h(f'<div class="warn">Out of date: {len(stale)} notebook{"s" if len(stale) != 1 else ""} '
          f"({esc(', '.join(stale))}) {'were' if len(stale) != 1 else 'was'} not rerun after "
          f"{'their' if len(stale) != 1 else 'its'} inputs changed (a <code>--country</code> run). "
          "Run <code>rss run</code> (<code>make report</code>) to bring the whole report up to date.</div>")
    failed_before = sorted(k for k, v in jobs.items() if v.get("status") != "ok")
    if failed_before:
        h(f'<div class="warn">The last run of {esc(", ".join(failed_before))} did not succeed; the outputs shown '
          "for them are from an earlier run, if any.</div>")
    if out.bad_numbers:
        h(f'<div class="warn">Unreadable numbers files, left out: {esc(", ".join(sorted(out.bad_numbers)))}.</div>')

    toc = [("summary", "Executive summary")] + [(s.id, f"{s.number}. {s.title}") for s in SECTIONS]
    if by_section.get("other"):
        toc.append(("other", "Other outputs"))
    toc += [("methods", "Methods"), ("data-statement", "Data statement"), ("provenance", "Provenance"),
            ("lineage", "Where each output comes from")]
    h('<nav class="toc"><h2>Contents</h2><ol>', *(f'<li><a href="#{i}">{esc(t)}</a></li>' for i, t in toc),
      "</ol></nav>")

    # ---- executive summary
    h('<section id="summary"><h2>Executive summary</h2>')
    heads = [(sec, x) for sec in ("prepare", "cross_country", "mentoring", "weight_sensitivity")
             for x in _headlines(out.numbers.get(sec))]
    if prepare and not _headlines(prepare):
        bits = []
        if "n_surveys" in prepare:
            bits.append(f"{_num(prepare['n_surveys'], 'prepare.n_surveys')} surveys")
        if "n_respondents" in prepare:
            bits.append(f"of {_num(prepare['n_respondents'], 'prepare.n_respondents')} returnees")
        if "n_countries" in prepare:
            bits.append(f"in {_num(prepare['n_countries'], 'prepare.n_countries')} countries")
        if bits:
            scheme = prepare.get("scheme") or prepare.get("scheme_id")
            h(f"<p>The analysis covers {' '.join(bits)}"
              + (f", scored with scheme <code>{esc(scheme)}</code>" if scheme else "") + ".</p>")
    if heads:
        h("<ul>", *(f'<li>{esc(x)} <span class="muted">({esc(sec)}.json)</span></li>' for sec, x in heads), "</ul>")
    for s in SECTIONS:
        keyed = _summary_keys(out.numbers.get(s.id)) if _headlines(out.numbers.get(s.id)) else []
        if keyed:
            h(f"<h4>{esc(s.number)}. {esc(s.title)}: headline numbers</h4><table><tbody>")
            h(*(f'<tr><td>{esc(_humanize(k))}</td><td class="n">{_num(v, f"{s.id}.{k}")}</td></tr>' for k, v in keyed))
            h("</tbody></table>")
    for s in SECTIONS:
        if s.id == "country" or _headlines(out.numbers.get(s.id)):
            continue
        items = _scalars(out.numbers.get(s.id))
        if not items:
            continue
        shown = _key_first(items, 8)
        h(f"<h4>{esc(s.number)}. {esc(s.title)}: key numbers</h4><table><tbody>")
        h(*(f'<tr><td>{esc(_humanize(k))}</td><td class="n">{_num(v, f"{s.id}.{k}")}</td></tr>' for k, v in shown))
        h("</tbody></table>")
        if len(items) > len(shown):
            h(f'<p class="muted">{len(items) - len(shown)} more in <a href="#{esc(s.id)}">section '
              f"{esc(s.number)}</a>.</p>")
    missing = [s for s in SECTIONS if s.id != "country" and s.id not in out.numbers]
    if missing:
        h('<p class="todo">Not computed yet: ' + ", ".join(f'<a href="#{s.id}">{esc(s.number)}. {esc(s.title)}</a>'
                                                           for s in missing) + ".</p>")
    h('<p class="muted">Every number in this summary is read from <code>reports/numbers.json</code>, written by '
      "the notebooks; none is typed by hand.</p></section>")

    # ---- sections
    for s in SECTIONS:
        h(f'<section id="{s.id}"><h2>{esc(s.number)}. {esc(s.title)}</h2><p>{esc(s.intro)}</p>')
        if s.id == "country":
            _country_section(h, countries, out, by_section.get("country", {}), jobs, threshold, sheets)
        else:
            files = by_section.get(s.id, {"tables": [], "figures": []})
            nums = out.numbers.get(s.id)
            if not files["tables"] and not files["figures"] and nums is None:
                h(f'<p class="todo">Not computed yet: notebook <code>{esc(s.notebook)}</code> has written no '
                  f"outputs (<code>reports/numbers/{esc(s.id)}.json</code>, <code>reports/tables/"
                  f"{esc(s.prefixes[0])}*.csv</code>, <code>reports/figures/{esc(s.prefixes[0])}*</code>).</p>")
            else:
                found = _headlines(nums)
                if found:
                    h('<div class="findings"><b>Findings</b><ul>', *(f"<li>{esc(x)}</li>" for x in found),
                      f'</ul><p class="muted">From <code>reports/numbers/{esc(s.id)}.json</code>.</p></div>')
                if nums is not None:
                    h(_numbers_html(nums, s.id))
                for kind, stem in _ordered(files, s.lead):
                    if kind == "figure":
                        h(_figure_html(stem, out.figures[stem]))
                    else:
                        h(_table_html(stem, out.tables[stem], threshold, sheets.get(stem)))
        h("</section>")
    if by_section.get("other"):
        files = by_section["other"]
        h('<section id="other"><h2>Other outputs</h2><p class="muted">Files whose names match no section.</p>')
        for stem in files["figures"]:
            h(_figure_html(stem, out.figures[stem]))
        for stem in files["tables"]:
            h(_table_html(stem, out.tables[stem], threshold, sheets.get(stem)))
        h("</section>")

    _methods(h, prepare, threshold, out.numbers)
    _data_statement(h, man, root, synthetic, synth_why, threshold)
    _provenance(h, man, root, git_state, package_versions)
    _lineage(h, lineage_rows)
    h("</main></body></html>\n")

    html_path = write_text(reports / "report.html", h.text())
    xlsx_path = _write_xlsx(reports / "tables.xlsx", out, sheets, threshold)
    return {"html": html_path, "xlsx": xlsx_path, "numbers": numbers_path, "lineage": lineage_path}


def _country_section(h: _Html, countries: list[str], out: Outputs, files: dict[str, list[str]],
                     jobs: dict[str, Any], threshold: int, sheets: dict[str, str]) -> None:
    if not countries:
        h('<p class="todo">Not computed yet: no country in the scored data yet (run <code>rss run</code>).</p>')
        return
    nums = {c: out.numbers.get(f"country_{c}") for c in countries}
    dicts = [d for d in nums.values() if isinstance(d, dict)]
    numeric = [k for d in dicts for k, v in d.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    numeric = [k for k in dict.fromkeys(numeric) if all(k in d for d in dicts)]
    preferred = [k for k in ("n_surveys", "n_respondents", "mean_score_composite", "mean_composite") if k in numeric]
    common = (preferred + [k for k in numeric if k.startswith("mean_") and k not in preferred])[:5]
    h('<table id="countries"><thead><tr><th>Country</th><th>Name</th>',
      *(f"<th>{esc(_humanize(k))}</th>" for k in common), "<th>Profile</th></tr></thead><tbody>")
    for c in countries:
        job = next((v for v in jobs.values() if v.get("country") == c), None)
        has = isinstance(nums[c], dict) or any(_COUNTRY.match(s).group(1) == c for s in
                                               [*files.get("tables", []), *files.get("figures", [])])
        state = "computed" if has else "not computed yet"
        if job and job.get("status") != "ok":
            state += f" (last run: {job.get('status')})"
        cells = "".join(f'<td class="n">{_num(nums[c][k], f"country_{c}.{k}")}</td>' if isinstance(nums[c], dict)
                        and nums[c].get(k) is not None else "<td>—</td>" for k in common)
        h(f'<tr><td><a href="#country-{esc(c)}">{esc(c)}</a></td><td>{esc(_country_name(c))}</td>{cells}'
          f"<td>{esc(state)}</td></tr>")
    h("</tbody></table>")
    for c in countries:
        name = _country_name(c)
        h(f'<section class="country" id="country-{esc(c)}"><h3>{esc(c)}{" — " + esc(name) if name else ""}</h3>',
          '<p class="muted"><a href="#countries">back to the country table</a></p>')
        t = [s for s in files.get("tables", []) if _COUNTRY.match(s).group(1) == c]
        f = [s for s in files.get("figures", []) if _COUNTRY.match(s).group(1) == c]
        if not t and not f and nums[c] is None:
            h(f'<p class="todo">Not computed yet: no outputs for {esc(c)} (<code>reports/numbers/country_{esc(c)}'
              f".json</code>, <code>reports/tables/country_{esc(c)}_*.csv</code>).</p>")
        else:
            if nums[c] is not None:
                h(_numbers_html(nums[c], f"country_{c}"))
            for stem in f:
                h(_figure_html(stem, out.figures[stem]))
            for stem in t:
                h(_table_html(stem, out.tables[stem], threshold, sheets.get(stem)))
        h("</section>")


def _methods(h: _Html, prepare: dict[str, Any], threshold: int, numbers: dict[str, Any] | None = None) -> None:
    numbers = numbers or {}
    mentoring = numbers.get("mentoring") if isinstance(numbers.get("mentoring"), dict) else {}
    scheme = prepare.get("scheme") or prepare.get("scheme_id")
    thr = _num(threshold, "prepare.disclosure_threshold" if "disclosure_threshold" in prepare else "default")
    placebo = mentoring.get("placebo_identified")
    h('<section id="methods"><h2>Methods</h2>',
      "<h4>Scores</h4><p>Answers to the RSS questions are scored item by item (special codes 97/98/99 and empty "
      "answers are missing, never zero), averaged with the scheme's weights into the 15 indicators, the three "
      "dimension scores (economic, social, psychosocial) and a composite, each in [0, 1]; a dimension is missing "
      "when too little of its weight was answered. "
      + (f"This run used scheme <code>{esc(scheme)}</code>. " if scheme else "")
      + "The workspace's default scheme follows the public shape of the RSS; it is <b>not</b> IOM's official "
      "weight table.</p>",
      "<h4>Section 2: comparison, interdependence, determinants</h4><p>Country means with t-based 95% intervals "
      "(surveys of all waves pooled, clustered by respondent). Correlations of the dimensions are computed on each "
      "respondent's first survey, one row per respondent, so Fisher's z interval (which assumes independent rows) "
      "holds. The social and psychosocial scores are regressed on the economic score by OLS with country fixed "
      "effects, then also with sex, age, months since return, country of migration, assistance and wave. The "
      "cross-lagged models are pooled OLS on consecutive waves of the same respondent: the score at wave t on its "
      "own value and the other dimension's value at t-1, with country and wave effects, in both directions; they "
      "have no respondent fixed effects, because with three waves a lagged outcome with fixed effects is badly "
      "biased (Nickell 1981), and a lagged score measures a respondent's lasting level with noise, which pushes "
      "both cross-lags up, so the two directions are compared rather than either tested against zero. The "
      "determinants are OLS of each score on assistance, sex, age, months since return and country of migration "
      "with country fixed effects.</p>",
      "<h4>Section 3: mentoring effect</h4><p>In the countries with mentored returnees. <b>Balance</b>: each "
      "returnee's first survey before mentoring started, future mentees against never-mentored returnees: means, "
      "differences, normalised differences and a joint F-test (as Stata's <code>iebaltab</code>). <b>Estimators</b>, "
      "each with its standard error, 95% interval, p-value, observations, respondents and covariance: "
      "<code>raw_difference</code> (difference of means), <code>ols_fe</code> (regression with the covariates and "
      "country and wave fixed effects), <code>ipw</code> (inverse-probability weighting, normalised weights, ATE) "
      "and <code>aipw</code> (doubly robust), all four on the surveys after mentoring started (wave 2 on), mentored "
      "against never mentored, on the same rows; and <code>did_panel</code>, difference-in-differences on all waves "
      "with respondent and wave effects (<code>linearmodels.PanelOLS</code>), treatment from "
      "<code>mentoring_start</code> on. The first four identify the effect only if selection into mentoring runs "
      "through the observed characteristics; the DiD allows selection on any lasting trait but needs parallel "
      "trends and no anticipation. The <b>event study</b> replaces the treatment dummy by dummies of waves since "
      "the start (reference: the last wave before). <b>Heterogeneity</b>: the DiD within groups of sex, country of "
      "migration and each assistance type, and the difference between groups in one model with common wave "
      "effects. <b>Robustness</b>: a placebo start one wave early on the surveys before mentoring; IPW and AIPW on "
      "the surveys with a propensity score in [0.1, 0.9] (Crump et al. 2009); the DiD on scores re-weighted by "
      "principal components. "
      + ("On these data the placebo check is <b>not identified</b>: mentoring always started between a "
         "returnee's first and second survey, so no mentored returnee has two surveys before it, pre-trends "
         "cannot be tested, and the robustness table says so instead of showing an estimate. "
         if placebo is False else "")
      + "Bootstrap is not used: every variance is analytic.</p>",
      "<h4>Section 4: weight sensitivity</h4><p>Within each dimension, the indicators are re-weighted by the first "
      "principal component of their correlation matrix (loadings made non-negative, scaled to sum to 1); the "
      "dimension scores and the composite are recomputed with the scheme's composite weights. The scheme's own "
      "weights are recovered from the scored data (on complete surveys a dimension score is exactly the weighted "
      "mean of its indicators). Country rankings are compared by Spearman's rank correlation of the country means "
      "and side by side; the mentoring estimators are rerun on the re-weighted scores.</p>",
      "<h4>Standard errors</h4><p>Every standard error is <b>clustered by respondent</b> (a returnee surveyed at "
      "several waves contributes correlated surveys), <b>not by country</b>. Cluster-robust variances need many "
      "clusters: with 17 countries, and only three where mentoring ran, a country-clustered variance rests on 17 "
      "(or 3) effective observations, is biased downwards, and its t reference over-rejects, more so with "
      "unequal country sizes (Cameron, Gelbach & Miller 2008; MacKinnon & Webb 2017). Countries therefore enter as "
      "fixed effects, which absorb every country-level difference; what is not covered is a shock common to the "
      "returnees of one country in one wave, for which a wild-cluster bootstrap by country would be the check "
      "(not run). Regressions use CR1, the G/(G-1)·(N-1)/(N-K) factor with t(G-1) inference (Stata's "
      "<code>regress, vce(cluster id)</code>). The DiD and event study use <code>PanelOLS</code> clustered by "
      "respondent with <code>debiased=True, group_debias=True, count_effects=False</code>: the absorbed respondent "
      "effects are nested in the clusters and are not counted, giving Stata's <code>xtreg, fe vce(cluster id)"
      "</code> factor and t(G-1); linearmodels' default would count them and, in these short panels, widen the "
      "intervals about 1.5 times (coverage above 99% in the workspace's Monte-Carlo check). IPW and AIPW use the "
      "M-estimation sandwich of the stacked propensity, outcome and mean equations (so the estimated propensity "
      "score is accounted for), summed within respondents. Correlations use Fisher's z on independent rows. No "
      "weights enter any estimate: <code>PanelOLS(weights=...)</code> takes inverse-variance (precision) weights, "
      "not survey weights, so survey weights, where the data has them, would not belong there.</p>",
      "<h4>Disclosure control</h4><p>No table or figure shows a cell built on fewer than "
      f"{thr} respondents: such cells are suppressed and marked. For estimates the count is the respondents "
      "behind the row: the clusters, both sides of a mentoring comparison (mentored and not), the smaller cell of "
      "a category (e.g. a rare country of migration) or the group of a heterogeneity row.</p>",
      "<h4>What is not claimed</h4><ul><li>Mentored returnees were not randomly assigned: the mentoring estimates "
      "rest on the stated controls, weighting and parallel trends, and are associations under those assumptions; "
      "where the cross-sectional estimators and the DiD disagree, the difference is the selection on "
      "characteristics the data does not hold."
      "</li><li>The regressions between dimensions and the cross-lagged models describe associations and timing, "
      "not causal effects of one dimension on another; the determinants are associations (assistance is not "
      "randomly assigned either).</li>"
      "<li>Country comparisons compare samples, which need not represent all returnees of a country.</li>"
      "<li>Principal-component weights are not better weights, only a check of how much the conclusions lean on "
      "the scheme's.</li>"
      "<li>The scores are not IOM's official RSS scores unless the official weight table was supplied as a scheme."
      "</li><li>Results on synthetic data say nothing about returnees; they only test the pipeline.</li></ul>"
      f"<h4>Disclosure control</h4><p>No table or figure shows a cell built on fewer than {thr} respondents: such "
      f"a cell's counts read \"&lt;{thr}\" and its values are left blank. Where the rows of a table add up to "
      "something published (categories of a variable with their total, bands whose shares sum to one, country "
      "means beside the pooled mean), one hidden row could be recovered by subtraction, so whenever exactly one "
      "row of such a group is hidden, the row with the next-smallest count in that group is hidden too (its counts "
      "read \"x\"); figures leave out exactly the rows their tables hide. This protects each table along one "
      "grouping only; differences between tables, or with the key numbers, are not audited; and because the rule "
      f"is public, two hidden rows summing to k tell a reader that the small one holds at most k &minus; {thr} "
      "respondents. Before release, every published file is scanned for cells under the threshold, for "
      "respondent identifiers (as written or hashed) and for individual-level rows (<code>rss check</code>).</p>"
      "</section>")


def _data_statement(h: _Html, man: dict[str, Any], root: Path, synthetic: bool | None, why: str,
                    threshold: int) -> None:
    inputs = man.get("inputs", {})
    h('<section id="data-statement"><h2>Data statement</h2>')
    src = inputs.get("shown_as") or inputs.get("source")
    files = inputs.get("files") or []
    h(f"<p><b>Source.</b> {('<code>' + esc(src) + '</code>, ') if src else 'Not recorded (no run yet), '}"
      f"{len(files)} file{'s' if len(files) != 1 else ''}; their sha256 checksums are in the "
      '<a href="#provenance">provenance</a>.</p>')
    if synthetic:
        h(f"<p><b>Synthetic data.</b> The input is the workspace's synthetic dataset ({esc(why)}): records "
          "generated with effects planted at known sizes to test the analysis. The figures in this report are "
          "synthetic and are <b>not</b> IOM results.</p>",
          "<p><b>Rights.</b> Generated by this workspace; it describes no person and may be shared freely.</p>")
    elif synthetic is False:
        h(f"<p><b>Real data.</b> The input is RSS survey data ({esc(why)}).</p>",
          "<p><b>Rights.</b> RSS records are personal data about returnees, collected by IOM and its partners; "
          "they stay with the data controller and are not redistributed. Sharing this report is subject to the "
          "data owner's terms.</p>")
    else:
        h(f"<p><b>Synthetic or real:</b> {esc(why)}.</p>")
    h("<p><b>No microdata.</b> This report and <code>tables.xlsx</code> hold aggregates only (counts, means, "
      "estimates and figures built from them): no survey record, respondent identifier or free-text answer. Cells "
      f"built on fewer than {_num(threshold, 'disclosure_threshold')} respondents are suppressed.</p></section>")


def _provenance(h: _Html, man: dict[str, Any], root: Path, git_state: Callable, package_versions: Callable) -> None:
    run = man.get("run", {})
    git = run.get("git") or git_state(root)
    h('<section id="provenance"><h2>Provenance</h2>')
    commit = git.get("commit")
    dirty = git.get("dirty")
    h(f"<p><b>Code.</b> git commit <code>{esc(commit or 'unknown (not a git checkout)')}</code>"
      + ("" if dirty is None else f", working tree {'<b>dirty</b> (uncommitted changes)' if dirty else 'clean'}")
      + ". Each notebook's own commit is in the table of runs.</p>")
    if run:
        h(f"<p><b>Run.</b> started {esc(run.get('started', '?'))}, finished {esc(run.get('finished', '?'))}; "
          f"{esc(run.get('jobs', '?'))} parallel workers, timeout {esc(run.get('timeout', '?'))} s per notebook"
          + (f", one country only: {esc(run['country'])}" if run.get("country") else "")
          + (", forced rerun" if run.get("force") else "") + ".</p>")
    inputs = man.get("inputs", {})
    h("<h4>Input files</h4>")
    if inputs.get("files"):
        h("<table><thead><tr><th>file</th><th>bytes</th><th>sha256</th></tr></thead><tbody>",
          *(f'<tr><td>{esc(f["path"])}</td><td class="n">{esc(fmt(f.get("bytes", "")))}</td>'
            f'<td class="mono">{esc(f["sha256"])}</td></tr>' for f in inputs["files"]), "</tbody></table>")
        if inputs.get("scheme"):
            sch = inputs["scheme"]
            h(f'<p>Scheme file <code>{esc(sch["path"])}</code>, sha256 <span class="mono">{esc(sch["sha256"])}'
              "</span>.</p>" if sch.get("sha256") else
              f"<p>Scheme <code>{esc(sch['path'])}</code>, shipped with the helpers (versioned with the code).</p>")
    else:
        h('<p class="todo">Not recorded: no run of <code>rss run</code> yet.</p>')
    versions = run.get("packages") or package_versions()
    h("<h4>Packages</h4><table><tbody>",
      *(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in versions.items()), "</tbody></table>")
    jobs = man.get("jobs", {})
    h("<h4>Notebook runs and parameters</h4>")
    if jobs:
        stale = set(run.get("stale") or [])
        h("<table><thead><tr><th>notebook</th><th>status</th><th>seconds</th><th>finished (UTC)</th>"
          "<th>parameters</th><th>commit</th><th>executed copy</th></tr></thead><tbody>")
        for k in sorted(jobs):
            v = jobs[k]
            st = v.get("status", "?") + (" (stale: inputs changed since)" if k in stale else "")
            c = (v.get("git") or {}).get("commit")
            h(f'<tr><td>{esc(k)}</td><td>{esc(st)}</td><td class="n" data-volatile>{esc(fmt(v.get("duration", "")))}</td>'
              f'<td data-volatile>{esc(v.get("finished", ""))}</td><td class="mono">{esc(json.dumps(v.get("params", {})))}</td>'
              f'<td class="mono">{esc((c or "")[:10])}{"+dirty" if (v.get("git") or {}).get("dirty") else ""}</td>'
              f'<td class="mono">{esc(v.get("output") or "")}</td></tr>')
        h("</tbody></table>")
        total = sum(float(v.get("duration") or 0) for v in jobs.values())
        h(f'<p class="muted">Total notebook time <span data-volatile>{esc(fmt(round(total, 1)))}</span> s (summed '
          'over workers).</p>')
    else:
        h('<p class="todo">Not recorded: no notebook has run yet.</p>')
    if run.get("missing_notebooks"):
        h(f'<p class="muted">Registered but not written yet: {esc(", ".join(run["missing_notebooks"]))}.</p>')
    h("</section>")


def _lineage(h: _Html, found: list[dict[str, str]]) -> None:
    """Where every output comes from: notebook cell, then the helper function (from :mod:`helpers.lineage`)."""
    rows = lineage.grouped(found)
    unknown = [r["output"] for r in found if not r["function"]]
    h('<section id="lineage"><h2>Where each output comes from</h2>'
      f'<p>Each of the {len(found)} published tables, figures and key numbers, with the notebook cell that '
      'published it and the helper function that computed it (cells counted as JupyterLab shows them, from 1). '
      'One row per output, every key of <code>numbers.json</code> separately: '
      '<a href="lineage.csv"><code>reports/lineage.csv</code></a>. Below, the outputs of each country are '
      'folded into one row (<code>country_{ISO3}</code>) and a section of numbers into one row per function.</p>')
    if unknown:
        h(f'<p class="todo">No notebook cell accounts for: {esc(", ".join(unknown))}.</p>')
    h("<table><thead><tr><th>output</th><th>kind</th><th>outputs</th><th>notebook</th><th>cell</th>"
      "<th>helper function</th></tr></thead><tbody>",
      *(f'<tr><td class="mono">{esc(r["output"])}</td><td>{esc(r["kind"])}</td><td class="n">{esc(r["count"])}</td>'
        f'<td class="mono">{esc(r["notebook"])}</td><td class="n">{esc(r["cell"])}</td>'
        f'<td class="mono">{esc(", ".join(lineage.display(f) for f in r["function"].split("; ") if f))}</td></tr>'
        for r in rows), "</tbody></table></section>")


def _write_xlsx(target: Path, out: Outputs, sheets: dict[str, str], threshold: int) -> Path:
    """Write the workbook of every table (XlsxWriter, row by row), atomically and byte-reproducibly.

    XlsxWriter writes the same bytes for the same content when the workbook's creation
    date is fixed (its zip entries carry a fixed date of their own); it takes half the
    time openpyxl took (0.43 s against 0.83 s for the 143 tables of the default run).
    Text is written as text: nothing is turned into a formula, a number or a link.
    """
    import io as _io

    import xlsxwriter

    from .io import FIXED_TIMESTAMP, write_bytes

    buf = _io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"constant_memory": True, "strings_to_formulas": False,
                                   "strings_to_numbers": False, "strings_to_urls": False})
    wb.set_properties({"created": FIXED_TIMESTAMP})
    contents = wb.add_worksheet("contents")
    contents.write_row(0, 0, ["sheet", "file", "section"])
    for i, (stem, name) in enumerate(sheets.items(), start=1):
        contents.write_row(i, 0, [name, f"reports/tables/{out.tables[stem].name}", _section_of(stem)])
    for stem, name in sheets.items():
        ws = wb.add_worksheet(name)
        rows, _k = suppress(_read_csv(out.tables[stem]), threshold)
        for i, row in enumerate(rows):
            ws.write_row(i, 0, row if i == 0 else [_typed(c) for c in row])
    wb.close()
    write_bytes(target, buf.getvalue())
    return target


def _typed(s: str) -> Any:
    if re.fullmatch(r"[+-]?\d{1,15}", s.strip()):
        return int(s)
    v = _number(s)
    if v is not None and s.strip().lower() not in ("inf", "-inf", "+inf", "infinity", "-infinity"):
        return v
    return s if s != "" else None


def main() -> int:
    """``rss report``: build the report from the current outputs."""
    built = build_report(paths.ROOT)
    print(f"wrote {built['html']} and {built['xlsx']} (numbers merged into {built['numbers']})")
    return 0
