"""The report's longer sections: country pages, methods, the data statement, provenance and the
lineage of every output.

Imports: helpers.lineage, helpers.report.collect, helpers.report.formatting, helpers.report.inputs, helpers.report.markup, helpers.report.sections,
helpers.report.translate, helpers.report.values.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import lineage
from .collect import Outputs
from .formatting import esc, fmt, humanize_key, number_html
from .inputs import country_label
from .markup import Html, figure_html, numbers_html, table_html
from .sections import COUNTRY_STEM
from .translate import N_, country_name
from .translate import gettext as _
from .values import status_text


def country_section(h: Html, countries: list[str], out: Outputs, files: dict[str, list[str]],
                     jobs: dict[str, Any], threshold: int, sheets: dict[str, str]) -> None:
    if not countries:
        h('<p class="todo">' + _("Not computed yet: no country in the scored data yet (run <code>rss run</code>).")
          + "</p>")
        return
    nums = {c: out.numbers.get(f"country_{c}") for c in countries}
    dicts = [d for d in nums.values() if isinstance(d, dict)]
    numeric = [k for d in dicts for k, v in d.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    numeric = [k for k in dict.fromkeys(numeric) if all(k in d for d in dicts)]
    preferred = [k for k in ("n_surveys", "n_respondents", "mean_score_composite", "mean_composite") if k in numeric]
    common = (preferred + [k for k in numeric if k.startswith("mean_") and k not in preferred])[:5]
    h(f'<table id="countries"><thead><tr><th>{esc(_("Country"))}</th><th>{esc(_("Name"))}</th>',
      *(f"<th>{esc(humanize_key(k))}</th>" for k in common), f"<th>{esc(_('Profile'))}</th></tr></thead><tbody>")
    for c in countries:
        job = next((v for v in jobs.values() if v.get("country") == c), None)
        has = isinstance(nums[c], dict) or any(COUNTRY_STEM.match(s).group(1) == c for s in
                                               [*files.get("tables", []), *files.get("figures", [])])
        state = _("computed") if has else _("not computed yet")
        if job and job.get("status") != "ok":
            state += _(" (last run: {status})", status=status_text(str(job.get("status"))))
        cells = "".join(f'<td class="n">{number_html(nums[c][k], f"country_{c}.{k}")}</td>' if isinstance(nums[c], dict)
                        and nums[c].get(k) is not None else "<td>—</td>" for k in common)
        h(f'<tr><td><a href="#country-{esc(c)}">{esc(c)}</a></td><td>{esc(country_name(c, country_label(c)))}</td>{cells}'
          f"<td>{esc(state)}</td></tr>")
    h("</tbody></table>")
    for c in countries:
        name = country_name(c, country_label(c))
        h(f'<section class="country" id="country-{esc(c)}"><h3>{esc(c)}{" — " + esc(name) if name else ""}</h3>',
          '<p class="muted"><a href="#countries">' + esc(_("back to the country table")) + "</a></p>")
        t = [s for s in files.get("tables", []) if COUNTRY_STEM.match(s).group(1) == c]
        f = [s for s in files.get("figures", []) if COUNTRY_STEM.match(s).group(1) == c]
        if not t and not f and nums[c] is None:
            h('<p class="todo">' + _("Not computed yet: no outputs for {c} (<code>reports/numbers/country_{c}.json</code>, "
                                     "<code>reports/tables/country_{c}_*.csv</code>).", c=esc(c)) + "</p>")
        else:
            if nums[c] is not None:
                h(numbers_html(nums[c], f"country_{c}"))
            for stem in f:
                h(figure_html(stem, out.figures[stem]))
            for stem in t:
                h(table_html(stem, out.tables[stem], threshold, sheets.get(stem)))
        h("</section>")


def methods_section(h: Html, prepare: dict[str, Any], threshold: int, numbers: dict[str, Any] | None = None) -> None:
    numbers = numbers or {}
    mentoring = numbers.get("mentoring") if isinstance(numbers.get("mentoring"), dict) else {}
    scheme = prepare.get("scheme") or prepare.get("scheme_id")
    thr = number_html(threshold, "prepare.disclosure_threshold" if "disclosure_threshold" in prepare else "default")
    placebo = mentoring.get("placebo_identified")
    h('<section id="methods"><h2>' + _("Methods") + "</h2>", *(_(p, thr=thr, scheme=esc(scheme or "")) if p else ""
                                                             for p in (
      N_("<h4>Scores</h4><p>Answers to the RSS questions are scored item by item (special codes 97/98/99 and empty "
      "answers are missing, never zero), averaged with the scheme's weights into the 15 indicators, the three "
      "dimension scores (economic, social, psychosocial) and a composite, each in [0, 1]; a dimension is missing "
      "when too little of its weight was answered. "),
      (N_("This run used scheme <code>{scheme}</code>. ") if scheme else ""),
      N_("The workspace's default scheme follows the public shape of the RSS; it is <b>not</b> IOM's official "
      "weight table.</p>"),
      N_("<h4>Section 2: comparison, interdependence, determinants</h4><p>Country means with t-based 95% intervals "
      "(surveys of all waves pooled, clustered by respondent). Correlations of the dimensions are computed on each "
      "respondent's first survey, one row per respondent, so Fisher's z interval (which assumes independent rows) "
      "holds. The social and psychosocial scores are regressed on the economic score by OLS with country fixed "
      "effects, then also with sex, age, months since return, country of migration, assistance and wave. The "
      "cross-lagged models in levels are pooled OLS on consecutive waves of the same respondent (the score at wave "
      "t on its own value and the other dimension's value at t-1, with country and wave effects, in both "
      "directions); a lagged score also measures a respondent's lasting level, which pushes both cross-lags up, so "
      "they are descriptive. <b>Whether the economic dimension leads</b> is asked within each returnee: first "
      "differences remove the returnee's stable level, and the differenced lags are instrumented by the levels "
      "two waves back (Anderson &amp; Hsiao 1982; the random-intercept cross-lagged panel model of Hamaker, Kuiper "
      "&amp; Grasman 2015 separates the same two parts but needs a structural-equation package and is barely "
      "identified with three waves; fixed effects with a lagged outcome would be biased, Nickell 1981), by "
      "two-stage least squares with months since return, mentoring status and calendar quarter as controls, "
      "clustered by respondent, in both directions. The verdict follows from the 95% intervals only: "
      "<i>leads</i> when the economic cross-lag's interval lies above 0 and the reverse's does not, for every "
      "other dimension; <i>does not lead</i> when the intervals lie below 0.05 score points per point; otherwise "
      "<i>cannot tell at this size</i>. <code>make validate</code> checks the intervals' coverage, the rate of "
      "wrong \"leads\" verdicts on data with no lead, and the power, on simulated data. The "
      "determinants are OLS of each score on assistance, sex, age, months since return and country of migration "
      "with country fixed effects.</p>"),
      N_("<h4>Section 3: mentoring effect</h4><p>In the countries with mentored returnees. <b>Balance</b>: each "
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
      "principal components. "),
      (N_("On these data the placebo check is <b>not identified</b>: mentoring always started between a "
         "returnee's first and second survey, so no mentored returnee has two surveys before it, pre-trends "
         "cannot be tested, and the robustness table says so instead of showing an estimate. ")
         if placebo is False else ""),
      N_("Bootstrap is not used: every variance is analytic.</p>"),
      N_("<h4>Section 4: weight sensitivity</h4><p>Within each dimension, the indicators are re-weighted by the first "
      "principal component of their correlation matrix (loadings made non-negative, scaled to sum to 1); the "
      "dimension scores and the composite are recomputed with the scheme's composite weights. The scheme's own "
      "weights are recovered from the scored data (on complete surveys a dimension score is exactly the weighted "
      "mean of its indicators). Country rankings are compared by Spearman's rank correlation of the country means "
      "and side by side; the mentoring estimators are rerun on the re-weighted scores.</p>"),
      N_("<h4>Standard errors</h4><p>Every standard error is <b>clustered by respondent</b> (a returnee surveyed at "
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
      "not survey weights, so survey weights, where the data has them, would not belong there.</p>"),
      N_("<h4>Disclosure control</h4><p>No table or figure shows a cell built on fewer than "
      "{thr} respondents: such cells are suppressed and marked. For estimates the count is the respondents "
      "behind the row: the clusters, both sides of a mentoring comparison (mentored and not), the smaller cell of "
      "a category (e.g. a rare country of migration) or the group of a heterogeneity row.</p>"),
      N_("<h4>What is not claimed</h4><ul><li>Mentored returnees were not randomly assigned: the mentoring estimates "
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
      "<h4>Disclosure control</h4><p>No table or figure shows a cell built on fewer than {thr} respondents: such "
      "a cell's counts read \"&lt;{thr}\" and its values are left blank. Where the rows of a table add up to "
      "something published (categories of a variable with their total, bands whose shares sum to one, country "
      "means beside the pooled mean), hidden rows could be recovered by subtraction, so in a group with a hidden "
      "row the rows with the next-smallest counts are hidden too (their counts read \"x\") until at least two "
      "are hidden and they hold at least {thr} respondents between them; figures leave out exactly the rows "
      "their tables hide.</p>"
      "<p><b>Linked tables.</b> The published tables, the workbook, this report and the key numbers are treated "
      "as one set of linked tables, as statistical offices do: every count they publish or hide is registered "
      "as the surveys or respondents it counts (country, wave, which scores a survey has, sex, band, months "
      "since return...), and before release a differencing audit solves, for every hidden count, the smallest "
      "and largest value that all published counts together allow (linear programmes, by addition and "
      "subtraction along every registered margin at once). A hidden count whose bounds are less than "
      "{thr} apart fails the release, naming the cells that reveal it (<code>rss check</code>). What the "
      "policy protects: counts of people (and their surveys) in any cross-classification. What it does not: "
      "the number of surveys and respondents of each country and in all (sample sizes), and counts that are "
      "the difference of two published totals -- such as the surveys without a given score, which are all "
      "surveys minus those with the score (whose count the score's mean, SD and standard error give anyway); "
      "these are published, never blanked, and the exclusions table shows one row per missing score rather "
      "than their combinations, which no published total gives. A key number that would recover a hidden "
      "cell is withheld: the pooled surveys of a wave in which a country's count is hidden, the share of women "
      "of a country whose sex counts are hidden. Limits: respondent counts of a score or status (a returnee "
      "counted once however many of their surveys qualify), the item counts of the missingness tables and the "
      "sample sizes of model tables enter no sum and are not audited; the intruder is assumed to know that "
      "counts are not negative, not the suppression rule (which, being public, tells that two hidden rows "
      "summing to k hold at most k &minus; {thr} in the small one).</p>"
      "<p>Before release, every published file is also scanned for cells under the threshold, for respondent "
      "identifiers (as written or hashed) and for individual-level rows (<code>rss check</code>).</p>"
      "</section>"))))


def data_statement_section(h: Html, man: dict[str, Any], root: Path, synthetic: bool | None, why: str,
                    threshold: int) -> None:
    inputs = man.get("inputs", {})
    h(f'<section id="data-statement"><h2>{esc(_("Data statement"))}</h2>')
    src = inputs.get("shown_as") or inputs.get("source")
    files = inputs.get("files") or []
    where = _("<code>{src}</code>, ", src=esc(src)) if src else _("Not recorded (no run yet), ")
    h("<p>" + (_('<b>Source.</b> {where}{n} file; its sha256 checksum is in the <a href="#provenance">provenance</a>.',
                 where=where, n=fmt(len(files))) if len(files) == 1 else
               _('<b>Source.</b> {where}{n} files; their sha256 checksums are in the <a href="#provenance">'
                 'provenance</a>.', where=where, n=fmt(len(files)))) + "</p>")
    if synthetic:
        h("<p>" + _("<b>Synthetic data.</b> The input is the workspace's synthetic dataset ({why}): records "
                    "generated with effects planted at known sizes to test the analysis. The figures in this report "
                    "are synthetic and are <b>not</b> IOM results.", why=esc(_(why))) + "</p>",
          "<p>" + _("<b>Rights.</b> Generated by this workspace; it describes no person and may be shared freely.")
          + "</p>")
    elif synthetic is False:
        h("<p>" + _("<b>Real data.</b> The input is RSS survey data ({why}).", why=esc(_(why))) + "</p>",
          "<p>" + _("<b>Rights.</b> RSS records are personal data about returnees, collected by IOM and its partners; "
                    "they stay with the data controller and are not redistributed. Sharing this report is subject "
                    "to the data owner's terms.") + "</p>")
    else:
        h("<p>" + _("<b>Synthetic or real:</b> {why}.", why=esc(_(why))) + "</p>")
    h("<p>" + _("<b>No microdata.</b> This report and <code>tables.xlsx</code> hold aggregates only (counts, means, "
                "estimates and figures built from them): no survey record, respondent identifier or free-text "
                "answer. Cells built on fewer than {thr} respondents are suppressed, and no suppressed cell can be "
                "recovered from the published counts together (the differencing audit of the methods, <i>Linked "
                "tables</i>); the sample size of each country and counts that are differences of published totals "
                "(e.g. surveys without a score) are published, not protected.",
                thr=number_html(threshold, 'disclosure_threshold')) + "</p></section>")


def provenance_section(h: Html, man: dict[str, Any], root: Path, git_state: Callable, package_versions: Callable) -> None:
    run = man.get("run", {})
    git = run.get("git") or git_state(root)
    h(f'<section id="provenance"><h2>{esc(_("Provenance"))}</h2>')
    commit = git.get("commit")
    dirty = git.get("dirty")
    h("<p>" + _("<b>Code.</b> git commit <code>{commit}</code>", commit=esc(commit or _("unknown (not a git checkout)")))
      + ("" if dirty is None else _(", working tree <b>dirty</b> (uncommitted changes)") if dirty
         else _(", working tree clean"))
      + _(". Each notebook's own commit is in the table of runs.") + "</p>")
    if run:
        h("<p>" + _("<b>Run.</b> started {started}, finished {finished}; {jobs} parallel workers, timeout {timeout} s "
                    "per notebook", started=esc(run.get('started', '?')), finished=esc(run.get('finished', '?')),
                    jobs=esc(fmt(run.get('jobs', '?'))), timeout=esc(fmt(run.get('timeout', '?'))))
          + (_(", one country only: {c}", c=esc(run['country'])) if run.get("country") else "")
          + (_(", forced rerun") if run.get("force") else "") + ".</p>")
    inputs = man.get("inputs", {})
    h(f"<h4>{esc(_('Input files'))}</h4>")
    if inputs.get("files"):
        h(f"<table><thead><tr><th>{esc(_('file'))}</th><th>{esc(_('bytes'))}</th><th>sha256</th></tr></thead><tbody>",
          *(f'<tr><td>{esc(f["path"])}</td><td class="n">{esc(fmt(f.get("bytes", "")))}</td>'
            f'<td class="mono">{esc(f["sha256"])}</td></tr>' for f in inputs["files"]), "</tbody></table>")
        if inputs.get("scheme"):
            sch = inputs["scheme"]
            h("<p>" + (_('Scheme file <code>{path}</code>, sha256 <span class="mono">{sha}</span>.', path=esc(sch["path"]),
                         sha=esc(sch["sha256"])) if sch.get("sha256") else
                       _("Scheme <code>{path}</code>, shipped with the helpers (versioned with the code).",
                         path=esc(sch["path"]))) + "</p>")
    else:
        h('<p class="todo">' + _("Not recorded: no run of <code>rss run</code> yet.") + "</p>")
    versions = run.get("packages") or package_versions()
    h(f"<h4>{esc(_('Packages'))}</h4><table><tbody>",
      *(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in versions.items()), "</tbody></table>")
    jobs = man.get("jobs", {})
    h(f"<h4>{esc(_('Notebook runs and parameters'))}</h4>")
    if jobs:
        stale = set(run.get("stale") or [])
        h("<table><thead><tr>", *(f"<th>{esc(t)}</th>" for t in (_("notebook"), _("status"), _("seconds"),
                                                                  _("finished (UTC)"), _("parameters"), _("commit"),
                                                                  _("executed copy"))),
          "</tr></thead><tbody>")
        for k in sorted(jobs):
            v = jobs[k]
            st = status_text(v.get("status", "?")) + (_(" (stale: inputs changed since)") if k in stale else "")
            c = (v.get("git") or {}).get("commit")
            h(f'<tr><td>{esc(k)}</td><td>{esc(st)}</td><td class="n" data-volatile>{esc(fmt(v.get("duration", "")))}</td>'
              f'<td data-volatile>{esc(v.get("finished", ""))}</td><td class="mono">{esc(json.dumps(v.get("params", {})))}</td>'
              f'<td class="mono">{esc((c or "")[:10])}{"+dirty" if (v.get("git") or {}).get("dirty") else ""}</td>'
              f'<td class="mono">{esc(v.get("output") or "")}</td></tr>')
        h("</tbody></table>")
        total = sum(float(v.get("duration") or 0) for v in jobs.values())
        h('<p class="muted">' + _("Total notebook time {t} s (summed over workers).",
                                  t=f"<span data-volatile>{esc(fmt(round(total, 1)))}</span>") + "</p>")
    else:
        h('<p class="todo">' + _("Not recorded: no notebook has run yet.") + "</p>")
    if run.get("missing_notebooks"):
        h('<p class="muted">' + _("Registered but not written yet: {names}.",
                                  names=esc(", ".join(run["missing_notebooks"]))) + "</p>")
    h("</section>")


def lineage_section(h: Html, found: list[dict[str, str]]) -> None:
    """Where every output comes from: notebook cell, then the helper function (from :mod:`helpers.lineage`)."""
    rows = lineage.grouped(found)
    unknown = [r["output"] for r in found if not r["function"]]
    h(f'<section id="lineage"><h2>{esc(_("Where each output comes from"))}</h2><p>'
      + _('Each of the {n} published tables, figures and key numbers, with the notebook cell that published it and '
          'the helper function that computed it (cells counted as JupyterLab shows them, from 1). One row per '
          'output, every key of <code>numbers.json</code> separately: <a href="lineage.csv"><code>reports/'
          'lineage.csv</code></a>. Below, the outputs of each country are folded into one row (<code>country_{iso3}'
          '</code>) and a section of numbers into one row per function.', n=fmt(len(found)), iso3="{ISO3}") + "</p>")
    if unknown:
        h('<p class="todo">' + _("No notebook cell accounts for: {names}.", names=esc(", ".join(unknown))) + "</p>")
    h("<table><thead><tr>", *(f"<th>{esc(t)}</th>" for t in (_("output"), _("kind"), _("outputs"), _("notebook"),
                                                              _("cell"), _("helper function"))), "</tr></thead><tbody>",
      *(f'<tr><td class="mono">{esc(r["output"])}</td><td>{esc(_(r["kind"]))}</td><td class="n">{esc(fmt(r["count"]))}</td>'
        f'<td class="mono">{esc(r["notebook"])}</td><td class="n">{esc(fmt(r["cell"]))}</td>'
        f'<td class="mono">{esc(", ".join(lineage.display(f) for f in r["function"].split("; ") if f))}</td></tr>'
        for r in rows), "</tbody></table></section>")
