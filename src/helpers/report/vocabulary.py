"""The finite sets of texts the report shows from data, each with its gettext context: the key
names of ``numbers.json`` as templates, the words and templates of table values, the headline
templates of every branch of the code that writes them, and the default scheme's names.

What writes them: the numbers keys and headlines ``helpers.stats.numbers`` and
``helpers.describe.numbers``; the table values ``helpers.describe`` (``coverage``, ``scores``),
``helpers.stats`` (``contract``, ``selection``, ``panel``, ``mentoring``, ``publish``,
``sensitivity``, ``balance``, ``interdependence``, ``lead``) and ``helpers.report.collect``
(``suppressed``).  ``tests/test_report_fr.py`` feeds each writer's branches through the French
lookup.  :func:`messages` gives them all to ``python -m helpers.report.translate extract``.

Imports: no other helpers module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

#: Names of the scores in keys (``did_composite``) and values; filled by context ``score``.
SCORES = ("economic", "social", "psychosocial", "composite")

#: Columns holding machine names (questions, indicators, estimators, formulas): shown as they are.
MACHINE_COLUMNS = frozenset({"question", "indicator", "estimator", "model", "adj_model", "direction", "check"})

#: The context of a column's values (default ``value``); ``scheme``: names the scoring scheme gives.
COLUMN_CONTEXT = {"score": "score", "dimension": "dimension", "dim_a": "dimension", "dim_b": "dimension",
                  "strongest": "dimension", "weakest": "dimension", "variable": "variable", "by": "variable",
                  "term": "variable", "outcome": "variable",
                  "band": "scheme", "label": "scheme"}

#: Keys of ``numbers.json`` holding a text the scoring scheme gives.
SCHEME_KEYS = ("scheme_title",)

#: The humanised keys with a score, country or number in them, as templates (context ``key``):
#: ``did_composite_ci_low`` reads "DiD {score} CI low" with score "composite".
KEYS = (
    "AIPW {score}", "AIPW {score} PCA", "AIPW {score} scheme", "Baseline diff {score}", "Baseline normdiff {score}",
    "CI high {score}", "CI low {score}", "Corr first {score} {score2}", "Corr first {score} {score2} CI high",
    "Corr first {score} {score2} CI low", "Country {code} bands", "Country {code} distributions",
    "Country {code} indicators", "Country {code} mentoring", "Country {code} sample", "Country {code} scores",
    "Country {code} trajectory", "Country {code} waves", "Cross lag {score} to {score2}",
    "Cross lag {score} to {score2} CI high", "Cross lag {score} to {score2} CI low", "DiD covers planted {score}",
    "DiD {score}", "DiD {score} CI high", "DiD {score} CI low", "DiD {score} PCA", "DiD {score} PCA CI high",
    "DiD {score} PCA CI low", "DiD {score} change", "DiD {score} p", "DiD {score} scheme",
    "DiD {score} scheme CI high", "DiD {score} scheme CI low", "Fieldwork diff CI high {score}",
    "Fieldwork diff CI low {score}", "Fieldwork diff p {score}", "Fieldwork diff {score}", "Fieldwork mean {score}",
    "Highest {score}", "IPW {score}", "IPW {score} PCA", "IPW {score} scheme", "Lead covers planted {score}",
    "Lead verdict {score}", "Lead {score} to {score2}", "Lead {score} to {score2} CI high",
    "Lead {score} to {score2} CI low", "Lowest {score}", "Max rank change {score}", "Mean {score}",
    "Median country pearson {score} {score2}", "Mentoring {score} adj CI high", "Mentoring {score} adj CI low",
    "Mentoring {score} adj diff", "Mentoring {score} adj p", "Mentoring {score} raw CI high",
    "Mentoring {score} raw CI low", "Mentoring {score} raw diff", "Mentoring {score} raw p", "N with {score}",
    "OLS FE {score}", "OLS FE {score} PCA", "OLS FE {score} scheme", "On {score} controls {score2}",
    "On {score} controls {score2} CI high", "On {score} controls {score2} CI low", "On {score} controls {score2} p",
    "On {score} {score2}", "On {score} {score2} CI high", "On {score} {score2} CI low", "On {score} {score2} p",
    "Other mean {score}", "Pearson {score} {score2}", "Placebo {score}", "Placebo {score} CI high",
    "Placebo {score} CI low", "Planted lead {score}", "Planted {score}", "Raw {score}", "Raw {score} CI high",
    "Raw {score} CI low", "Raw {score} PCA", "Raw {score} p", "Raw {score} scheme", "Scheme PCA DiD {score}",
    "Sex difference {score}", "Sex difference {score} p", "Spearman {score}", "Surveys by wave: {n}",
    "Trimmed AIPW {score}", "Trimmed IPW {score}", "{score} foundational", "{score} lead", "{score} leads",
)

#: The humanised keys and file stems without a placeholder (no context): the key names the numbers
#: writers use, the stems of the tables and figures the notebooks publish, the rest of a country stem.
PLAIN_KEYS = (
    "Bands", "Country", "Cross correlations", "Cross dimension profiles", "Cross fieldwork", "Cross means",
    "Cross ranking", "Determinants", "DiD n clusters", "DiD n obs", "DiD n respondents control",
    "DiD n respondents treated", "Dimension interdependence", "Disclosure threshold", "Distributions",
    "Has mentored", "Indicators", "Joint test f", "Joint test p", "Lead n respondents", "Max weight difference",
    "Max weight difference indicator", "Median age", "Median months since return", "Mentoring", "Mentoring balance",
    "Mentoring balance joint", "Mentoring coefficients", "Mentoring effects", "Mentoring event study",
    "Mentoring heterogeneity", "Mentoring overlap", "Mentoring robustness", "N countries", "N countries ranked",
    "N excluded", "N respondents", "N respondents mentored", "N surveys", "N waves", "Placebo identified",
    "Placebo note", "Prepare exclusions", "Prepare exclusions by country", "Prepare missingness",
    "Prepare missingness by country", "Prepare surveys by country", "Prepare surveys by country wave", "Sample",
    "Scheme id", "Scheme official", "Scheme title", "Scores", "Share female", "Suppressed", "Trajectory", "Waves",
    "Weight sensitivity", "Weight sensitivity effects", "Weight sensitivity rank correlation",
    "Weight sensitivity rankings", "Weight sensitivity ranks", "Weight sensitivity weights",
)

#: Exact words of table values and numbers, by context.
WORDS: dict[str, tuple[str, ...]] = {
    # the score named in a row (helpers.describe: score_label), in the masculine of "score"
    "score": SCORES,
    # a dimension named in a row (cross_dimension_profiles, cross_correlations, indicator tables), feminine
    "dimension": SCORES,
    # variables of the data contract named in a row (sample description, heterogeneity, balance)
    "variable": ("surveys", "wave", "sex", "age", "months_since_return", "assist_economic", "assist_social",
                 "assist_psychosocial", "mentored", "return_from", "country"),
    "value": (
        # helpers.describe.coverage.exclusions
        "scored", "excluded", "composite scored", "no composite score",
        # helpers.describe.scores.sample_description (levels), helpers.describe.common.POOLED
        "all", "unknown", "yes", "no", "years, first survey", "months, all surveys", "pooled",
        # helpers.stats.selection.overlap_table, helpers.stats.balance (groups); model terms (helpers.stats.mentoring,
        # helpers.stats.sensitivity.placebo_timing)
        "treated", "control", "placebo",
        # helpers.stats.lead.VERDICTS (numbers: lead_verdict_<d>, economic_leads)
        "leads", "does not lead", "cannot tell at this size",
        # names of the two weightings (helpers.stats.weights, weight_sensitivity_effects.scheme)
        "scheme", "pca",
        # helpers.stats.contract / interdependence / lead covariance labels without a placeholder
        "heteroskedasticity-robust HC1, t(N-K)", "conventional (homoskedastic), t(N-K)",
        "M-estimation sandwich (propensity estimated), HC0, normal", "Fisher z, independent rows", "cluster",
        # helpers.stats.balance.joint_test
        "F-test: all slopes of group on the variables are 0",
        # helpers.stats.sensitivity.placebo_timing (also numbers: placebo_note)
        "not identified: no treated entity has an untreated period both before and after the placebo start",
        # helpers.stats.publish.robustness
        "scores recomputed with the pca weights", "scores recomputed with the scheme weights",
        # helpers.report.collect.suppress
        "suppressed",
    ),
}

#: Templates of table values (context ``value``): see :func:`helpers.report.translate.fill` for the names.
VALUE_TEMPLATES = (
    # helpers.describe.coverage.exclusions
    "no {score} score",
    # helpers.stats.publish.heterogeneity labels and terms, helpers.stats.panel.fit_event_study terms
    "{var}={code}", "{var}: {code}", "treated x {clause}", "{clause} (reference)",
    # helpers.stats.contract covariance labels (CR1_COV, DID_COV and its counted variant, M_COV), selection, scores
    "cluster-robust CR1 by {code}, t(G-1)", "cluster-robust (CR1) by {code}, t(G-1)",
    "heteroskedasticity-robust {code}, t(N-K)", "linearmodels {code}",
    "cluster-robust by {code} (PanelOLS clustered, debiased, group_debias, absorbed effects not counted: "
    "G/(G-1)*(N-1)/(N-K) as Stata xtreg fe vce(cluster)), t(G-1)",
    "cluster-robust by {code} (PanelOLS clustered, debiased, group_debias, absorbed effects counted: "
    "G/(G-1)*(N-1)/(N-K) as Stata xtreg fe vce(cluster)), t(G-1)",
    "M-estimation sandwich (propensity estimated), cluster-robust by {code}, G/(G-1), t(G-1)",
    # helpers.stats.mentoring.mentoring_effects samples
    "{var} >= {num}, countries with mentoring ({codes}), treated vs never treated, complete covariates",
    "all {var}s, countries with mentoring ({codes})",
    # helpers.stats.selection._separating_note, helpers.stats.publish.robustness notes
    "{codes} occur(s) in one group only: left out of the propensity model (rows pooled with the reference level)",
    "propensity in [{num}, {num2}]", "propensity in [{num}, {num2}]; {clause}",
    "scores recomputed with the {word} weights",
)

#: Every headline sentence the numbers writers can produce (context ``headline``), one per branch.
HEADLINES = (
    # helpers.describe.numbers.prepare_numbers
    "Synthetic data: the figures are not IOM results.",
    "{n} surveys of {r} respondents in {c} countries, scored with the scheme {id} (not the official IOM weights); "
    "{x} surveys without a composite score.",
    "{n} surveys of {r} respondents in {c} countries, scored with the scheme {id} (not the official IOM weights); "
    "{x} survey without a composite score.",
    "{n} surveys of {r} respondents in {c} countries, scored with the scheme {id}; {x} surveys without a composite "
    "score.",
    "{n} surveys of {r} respondents in {c} countries, scored with the scheme {id}; {x} survey without a composite "
    "score.",
    # helpers.describe.numbers.cross_numbers
    "Mean composite score by country ranges from {lo} ({code_lo}) to {hi} ({code_hi}) over the {n} countries with "
    "at least {thr} respondents.",
    "Fieldwork countries ({codes}) against the others: composite {a} vs {b}, difference {d} (95% CI {lo} to {hi}); "
    "descriptive, not an effect of mentoring.",
    # helpers.stats.numbers.interdependence_numbers
    "The dimensions move together: surveys with a 0.1 higher economic score have {a} higher social and {b} higher "
    "psychosocial scores (country fixed effects; an association, not an effect).",
    # helpers.stats.numbers.lead_numbers
    "Whether the economic dimension is foundational, within each returnee (first differences, lagged levels as "
    "instruments, {n} returnees with three waves): a one-point change of the economic score is followed one wave "
    "later by {parts}. Verdict: {clause}.",
    # helpers.stats.numbers.mentoring_numbers
    "Mentoring effect on the composite score: {d} (95% CI {lo} to {hi}, {clause_p}; difference-in-differences with "
    "respondent and wave effects, {t} respondents surveyed after their mentoring began and {c} others in "
    "{clause_where}); the effect planted in the synthetic data is {p}, inside the interval.",
    "Mentoring effect on the composite score: {d} (95% CI {lo} to {hi}, {clause_p}; difference-in-differences with "
    "respondent and wave effects, {t} respondents surveyed after their mentoring began and {c} others in "
    "{clause_where}); the effect planted in the synthetic data is {p}, outside the interval.",
    "Mentoring effect on the composite score: {d} (95% CI {lo} to {hi}, {clause_p}; difference-in-differences with "
    "respondent and wave effects, {t} respondents surveyed after their mentoring began and {c} others in "
    "{clause_where}).",
    "The difference-in-differences estimate of the mentoring effect on the composite score is not available for "
    "{clause_where} (too few respondents, or no mentored respondent observed before and after the start).",
    "The raw mentored-vs-not difference in the composite ({raw}) is {k} times the DiD estimate: before mentoring "
    "started, future mentees already scored {b} higher (baseline); regression, IPW and AIPW, which adjust for "
    "observed characteristics only, give {clause}.",
    "The raw mentored-vs-not difference in the composite ({raw}) is {k} times the DiD estimate: before mentoring "
    "started, future mentees already scored {b} lower (baseline); regression, IPW and AIPW, which adjust for "
    "observed characteristics only, give {clause}.",
    "The raw mentored-vs-not difference in the composite ({raw}) is {k} times the DiD estimate; regression, IPW and "
    "AIPW, which adjust for observed characteristics only, give {clause}.",
    "The raw mentored-vs-not difference in the composite ({raw}) is {k} times the DiD estimate: before mentoring "
    "started, future mentees already scored {b} higher (baseline).",
    "The raw mentored-vs-not difference in the composite ({raw}) is {k} times the DiD estimate: before mentoring "
    "started, future mentees already scored {b} lower (baseline).",
    "The raw mentored-vs-not difference in the composite ({raw}) is {k} times the DiD estimate.",
    "By dimension (DiD): {list}; planted {list_planted}.",
    "By dimension (DiD): {list}.",
    "The placebo-timing check is not identified on these data: no mentored respondent has two surveys before "
    "mentoring started, so pre-trends cannot be tested; the DiD rests on the parallel-trends assumption.",
    "Placebo timing (mentoring pretended to start one wave early): {x} (95% CI {lo} to {hi}).",
    # helpers.stats.numbers.weight_numbers
    "With weights derived from the data (first principal component of each dimension's indicators) instead of the "
    "scheme's, country rankings on the composite {clause}: Spearman rank correlation {rho} over {n} countries, "
    "largest move {k} places; the DiD mentoring effect on the composite is {b} (95% CI {lo} to {hi}) against {a} "
    "with the scheme's weights.",
    "With weights derived from the data (first principal component of each dimension's indicators) instead of the "
    "scheme's, country rankings on the composite {clause}: Spearman rank correlation {rho} over {n} countries, "
    "largest move {k} place; the DiD mentoring effect on the composite is {b} (95% CI {lo} to {hi}) against {a} "
    "with the scheme's weights.",
    "With weights derived from the data (first principal component of each dimension's indicators) instead of the "
    "scheme's, country rankings on the composite {clause}: Spearman rank correlation {rho} over {n} countries, "
    "largest move {k} places.",
    "With weights derived from the data (first principal component of each dimension's indicators) instead of the "
    "scheme's, country rankings on the composite {clause}: Spearman rank correlation {rho} over {n} countries, "
    "largest move {k} place.",
)

#: Pieces of headlines (context ``headline part``): what a ``{clause}``, ``{list}`` or ``{parts}`` captures.
HEADLINE_PARTS = (
    # lead_numbers: one part per other dimension, and the verdict (helpers.stats.lead.VERDICTS; SESOI)
    "{dim} {b} (95% CI {lo} to {hi}), planted {p}; reverse {r} (95% CI {rlo} to {rhi})",
    "{dim} {b} (95% CI {lo} to {hi}); reverse {r} (95% CI {rlo} to {rhi})",
    "the economic dimension leads: its changes are followed by changes of the others, not the reverse",
    "the economic dimension does not lead: any lead is below {x} score points per point",
    "these data cannot tell at this size whether the economic dimension leads",
    # mentoring_numbers: the p-value (_p_text), where, the span of the adjusted estimates, a dimension's DiD
    "p < 0.001", "p = {p}", "p n/a", "the countries where it ran", "{a} to {b}", "{dim} {x} ({lo} to {hi})",
    # weight_numbers: how much the rankings change
    "change little", "change somewhat", "change markedly",
)

#: Run states of the manifest (``helpers.runner``), shown in the provenance and the country table.
STATUSES = ("ok", "failed", "timeout")

#: Kinds of output of the lineage table (``helpers.lineage.rows``).
LINEAGE_KINDS = ("table", "figure", "number")

#: The default scoring scheme, whose title, band names and indicator labels the report shows.
DEFAULT_SCHEME = Path(__file__).resolve().parents[1] / "schemes" / "rss-default.yaml"


def scheme_texts(path: Path = DEFAULT_SCHEME) -> list[str]:
    """The texts of a scheme file the report shows (context ``scheme``): title, band names, indicator labels."""
    import yaml

    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    out = [str(doc.get("title") or "")] + [str(b["name"]) for b in doc.get("bands") or [] if b.get("name")]
    for d in doc.get("dimensions") or []:
        out += [str(i["label"]) for i in d.get("indicators") or [] if i.get("label")]
    out += [str(i["label"]) for i in doc.get("indicators") or [] if i.get("label")]
    return [t for t in dict.fromkeys(out) if t]


def messages() -> Iterator[tuple[str | None, str, str]]:
    """(context, msgid, where) of every text above, for the ``.pot``."""
    here = "src/helpers/report/vocabulary.py"
    for k in KEYS:
        yield "key", k, here
    for k in PLAIN_KEYS:
        yield None, k, here
    for context, words in WORDS.items():
        for w in words:
            yield context, w, here
    for t in VALUE_TEMPLATES:
        yield "value", t, here
    for t in HEADLINES:
        yield "headline", t, here
    for t in HEADLINE_PARTS:
        yield "headline part", t, here
    for s in (*STATUSES, *LINEAGE_KINDS):
        yield None, s, here
    yield "number list separator", ", ", here
    for t in scheme_texts():
        yield "scheme", t, "src/helpers/schemes/rss-default.yaml"
