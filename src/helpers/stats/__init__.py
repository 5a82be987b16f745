"""Statistics of the comparative study, one estimator family a module; this package re-exports their public names.

Modules, in import order (a module imports only those above it, and helpers' L0/L1 modules):

* :mod:`~helpers.stats.contract`: the tidy result contract and the study's constants;
* :mod:`~helpers.stats.covariance`: the fast clustered covariance installed in linearmodels;
* :mod:`~helpers.stats.figures`: figures of published tables, and the pyplot-free Figure;
* :mod:`~helpers.stats.prep`: preparing data for an estimator;
* :mod:`~helpers.stats.balance`: covariate balance and joint orthogonality;
* :mod:`~helpers.stats.selection`: OLS with fixed effects, propensity scores, IPW, AIPW, overlap;
* :mod:`~helpers.stats.panel`: the PanelOLS difference-in-differences and the event study;
* :mod:`~helpers.stats.interdependence`: correlations, cross-lagged regressions, determinants;
* :mod:`~helpers.stats.lead`: whether the economic dimension leads (within-person cross-lags, a verdict);
* :mod:`~helpers.stats.mentoring`: the mentoring table of every estimator;
* :mod:`~helpers.stats.sensitivity`: subgroups, placebo timing, other schemes;
* :mod:`~helpers.stats.weights`: scoring schemes from the data (PCA, implied weights, ranks);
* :mod:`~helpers.stats.publish`: tables as the notebooks publish them;
* :mod:`~helpers.stats.numbers`: key numbers and headline sentences.

Imports: the modules above, which import helpers.design, helpers.disclosure, helpers.scheme and
helpers.scored (never describe, outputs, runner or report).

Every estimator takes any DataFrame and column names or a formula (not only RSS
columns), so each can be checked against published examples, and returns a tidy
frame whose first columns are exactly :data:`TIDY_COLUMNS` (one row per estimate),
usually together with the results object.  Estimation is kept apart from
formatting and plotting: nothing here prints, writes a file or calls
``plt.show()``; the ``plot_*`` functions return a :class:`matplotlib.figure.Figure`
that is not registered with pyplot.

Covariance choices (spelled out in each row's ``cov_type``)
-------------------------------------------------------------
* Cross-sectional regressions (:func:`fit_ols`, :func:`determinants`,
  :func:`balance_table`): cluster-robust CR1 by respondent with t(G - 1)
  inference, statsmodels' ``cov_type="cluster"`` with ``use_t=True``, which is
  Stata's ``regress, vce(cluster id)``; HC1 when no cluster is given.  With 17
  countries, clustering by country would rest on 17 clusters (and only three
  fieldwork countries for the mentoring effect): the cluster-robust variance is
  then biased downwards and its t(G - 1) reference unreliable (Cameron & Miller
  2015), so the workspace clusters by respondent and absorbs countries as fixed
  effects.
* IPW and AIPW (:func:`fit_ipw`, :func:`fit_aipw`): M-estimation sandwich of the
  stacked estimating equations (propensity logit, outcome regressions, potential
  outcome means), so the estimation of the propensity score is accounted for;
  cluster-robust by respondent with a G/(G - 1) factor and t(G - 1); without
  clusters it is HC0 with normal inference, statsmodels'
  ``TreatmentEffect`` GMM covariance, against which it is tested.
* Difference-in-differences (:func:`fit_did`): ``linearmodels.PanelOLS`` with
  entity and time effects, clustered by entity, ``debiased=True,
  group_debias=True, auto_df=False, count_effects=False``: the small-sample factor
  is G/(G - 1) (N - 1)/(N - K), Stata's ``xtreg, fe vce(cluster id)``; see
  :func:`fit_did` for why the absorbed effects are not counted.
"""

from __future__ import annotations

from .balance import balance_table, joint_orthogonality
from .contract import (
    COVARIATES,
    EFFECT_COUNTS,
    ESTIMATORS,
    OUTCOMES,
    TIDY_COLUMNS,
    tidy,
)
from .covariance import cov_cluster, use_fast_cov_cluster
from .figures import plot_overlap, plot_rank_shift, plot_weights
from .interdependence import cross_lagged, determinants, dimension_correlations, fit_on_economic
from .lead import SESOI, VERDICTS, fit_lead, overall_verdict, planted_lead, verdict
from .mentoring import cross_section, mentoring_effects, plot_coefficients, short_term
from .numbers import interdependence_numbers, lead_numbers, mentoring_numbers, merge_numbers, weight_numbers
from .panel import (
    event_study,
    event_time,
    fit_did,
    plot_event_study,
    treatment_indicator,
)
from .prep import (
    FEW_CLUSTERS,
)
from .publish import (
    balance_joint_test,
    baseline,
    combine,
    determinants_table,
    event_studies,
    first_surveys,
    heterogeneity,
    robustness,
    tidy_balance,
)
from .selection import IPWResult, fit_aipw, fit_ipw, fit_ols, fit_panel, overlap_table, propensity_score
from .sensitivity import by_scheme, did_by_group, effects_by_scheme, placebo_timing
from .weights import (
    compare_rankings,
    compare_weights,
    dimension_indicators,
    implied_weights,
    pca_rescore,
    pca_weights,
    planted_effects,
    rank_table,
    rescore,
    scheme_weights,
)

__all__ = [
    "TIDY_COLUMNS",
    "OUTCOMES",
    "COVARIATES",
    "ESTIMATORS",
    "tidy",
    "balance_table",
    "joint_orthogonality",
    "fit_ols",
    "fit_panel",
    "propensity_score",
    "fit_ipw",
    "fit_aipw",
    "overlap_table",
    "treatment_indicator",
    "event_time",
    "fit_did",
    "event_study",
    "plot_event_study",
    "dimension_correlations",
    "fit_on_economic",
    "cross_lagged",
    "fit_lead",
    "lead_numbers",
    "overall_verdict",
    "planted_lead",
    "verdict",
    "SESOI",
    "VERDICTS",
    "determinants",
    "did_by_group",
    "placebo_timing",
    "effects_by_scheme",
    "pca_weights",
    "scheme_weights",
    "compare_weights",
    "rescore",
    "compare_rankings",
    "cross_section",
    "mentoring_effects",
    "plot_coefficients",
    "short_term",
    "IPWResult",
    "FEW_CLUSTERS",
    "EFFECT_COUNTS",
    "first_surveys",
    "baseline",
    "tidy_balance",
    "balance_joint_test",
    "combine",
    "determinants_table",
    "heterogeneity",
    "event_studies",
    "robustness",
    "planted_effects",
    "dimension_indicators",
    "implied_weights",
    "pca_rescore",
    "rank_table",
    "merge_numbers",
    "interdependence_numbers",
    "mentoring_numbers",
    "weight_numbers",
    "plot_overlap",
    "plot_weights",
    "plot_rank_shift",
    # also public
    "by_scheme",
    "cov_cluster",
    "use_fast_cov_cluster",
]
