"""Fast clustered covariance: :func:`cov_cluster` (linearmodels' estimator without its Python loop over
clusters), installed into linearmodels by :func:`use_fast_cov_cluster`, and :func:`wcross`, the small
weighted cross-product the fits use without BLAS threads.

Imports: no other helpers module only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def wcross(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """:math:`X' \\mathrm{diag}(w) X` without BLAS threads.

    These small products run many times; multi-threaded BLAS on them is slow when
    several notebooks share the cores (threads oversubscribed), einsum is not.
    """
    return np.einsum("ij,i,ik->jk", x, w, x, optimize=False)


def cov_cluster(z: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """``linearmodels.shared.covariance.cov_cluster`` without its Python loop over the clusters.

    The same estimator -- :math:`\\frac1n\\sum_g z_g z_g'` with :math:`z_g` the sum of
    ``z`` over cluster ``g`` -- and the same checks and messages; the cluster sums
    come from one ``np.add.reduceat`` and the sum of their outer products from one
    matrix product.  linearmodels 7.1 loops over the clusters in Python, which was
    about a third of each panel fit here (one cluster per respondent: thousands of
    clusters).  :func:`use_fast_cov_cluster` installs it in linearmodels; the results
    agree with linearmodels' own to rounding (``tests/test_fast_paths.py``).

    Examples
    --------
    >>> z = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> cov_cluster(z, np.array([0, 1, 0])) * 3
    array([[45., 60.],
           [60., 80.]])
    """
    if pd.isnull(clusters).any():
        raise ValueError("clusters cannot contain missing values.")
    order = np.argsort(clusters)
    clusters = np.asarray(clusters)[order]
    starts = np.flatnonzero(np.r_[True, clusters[:-1] != clusters[1:]])
    if len(starts) < 2:
        raise ValueError("A clustered covariance requires at least two clusters, but clusters has one group.")
    sums = np.add.reduceat(np.asarray(z)[order], starts, axis=0)
    return (sums.T @ sums) / z.shape[0]


def use_fast_cov_cluster() -> None:
    """Make linearmodels' clustered covariances use :func:`cov_cluster` (idempotent; the helpers call it)."""
    import linearmodels.iv.covariance as iv_cov
    import linearmodels.panel.covariance as panel_cov

    for module in (panel_cov, iv_cov):
        if module.cov_cluster is not cov_cluster:
            module.cov_cluster = cov_cluster
