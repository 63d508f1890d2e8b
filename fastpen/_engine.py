"""Python side of the engines: X prepared once, column statistics, penalty weights."""
from collections import namedtuple

import numpy as np

from . import _design, _enet
from ._validation import design_arrays

_EMPTY = np.empty(0, dtype=np.float64)


class Design:
    """A validated X (Fortran dense or canonical CSC) as the engines read it.

    Nothing is copied: the engines read the caller's buffers directly. Column means and
    centred norms depend on the sample weights and on centring, so they are computed on
    request by :meth:`column_stats`.
    """

    def __init__(self, X):
        self.X = X
        self.data, self.indices, self.indptr, self.is_sparse = design_arrays(X)
        self.n_samples, self.n_features = X.shape
        self.dtype = X.dtype

    def lipschitz(self, sample_weight, center):
        """Largest eigenvalue of Xc^T S Xc (power iteration), the proximal-gradient step."""
        sw = _EMPTY.astype(self.dtype) if sample_weight is None else sample_weight
        return _design.lipschitz_constant(
            self.data, self.indices, self.indptr, self.is_sparse,
            self.n_samples, self.n_features, sw, center,
        )

    def column_stats(self, sample_weight, center):
        """Return (X_mean, norm2), the weighted column means and centred squared norms."""
        sw = _EMPTY.astype(self.dtype) if sample_weight is None else sample_weight
        return _design.column_stats(
            self.data, self.indices, self.indptr, self.is_sparse,
            self.n_samples, self.n_features, sw, center,
        )


def weighted_mean(y, sample_weight):
    """Mean of y (float64) under weights that sum to n_samples, or the plain mean."""
    if sample_weight is None:
        return float(np.mean(y, dtype=np.float64))
    return float(np.dot(sample_weight.astype(np.float64), y) / y.shape[0])


def penalty_weights(n_samples, alpha, l1_ratio, penalty_factor):
    """Per-feature l1 and l2 weights of the n-scaled objective the engines minimise."""
    scale = n_samples * alpha * penalty_factor
    return scale * l1_ratio, scale * (1.0 - l1_ratio)


SOLVERS = _enet.SOLVERS

Solution = namedtuple(
    "Solution", ["intercept", "dual_gap", "gap_target", "n_iter", "converged", "gap"]
)
Solution.__doc__ = """Result of one solve.

intercept : float
dual_gap : float
    scikit-learn's ``dual_gap_`` (the n-scaled gap divided by n_samples).
gap_target : float
    The n-scaled target tol * ||yc||_S^2.
n_iter : int
    Epochs (cd) or iterations (fista, ista).
converged : bool
gap : float
    The n-scaled gap (the number scikit-learn prints in its warning).
"""

# The Rayleigh quotient approaches the top eigenvalue from below: start a little above it
# so that backtracking (which halves the step) is the exception.
LIPSCHITZ_MARGIN = 1.0


def solve_enet(
    design, y, *, sample_weight, X_mean, norm2, center, coef, alpha, l1_ratio,
    penalty_factor, lower, upper, max_iter, tol, solver="cd", random=False, seed=1,
    screening=True, lipschitz=None, restart=True,
):
    """Solve one elastic-net problem with the engine named by `solver`.

    Parameters
    ----------
    design : Design
    y : ndarray of shape (n_samples,), dtype of X
    sample_weight : ndarray or None
        Weights rescaled to sum to n_samples.
    X_mean, norm2 : ndarrays of shape (n_features,)
        From :meth:`Design.column_stats` with the same weights and centring.
    center : bool
    coef : ndarray of shape (n_features,), dtype of X
        Start point; overwritten with the solution.
    alpha, l1_ratio : float
    penalty_factor : ndarray of shape (n_features,)
    lower, upper : ndarrays of shape (n_features,) or None
    max_iter : int
    tol : float
    solver : {"cd", "fista", "ista"}
    random : bool
        Random coordinate order (cd only).
    seed : int
    screening : bool
        Gap-safe screening (cd only).
    lipschitz : float or None
        Step constant for fista/ista; computed by power iteration when None.
    restart : bool
        Adaptive momentum restart (fista only).

    Returns
    -------
    Solution
    """
    n = design.n_samples
    y_mean = weighted_mean(y, sample_weight) if center else 0.0
    l1w, l2w = penalty_weights(n, alpha, l1_ratio, penalty_factor)
    sw = _EMPTY.astype(design.dtype) if sample_weight is None else sample_weight
    if solver != "cd" and lipschitz is None:
        lipschitz = design.lipschitz(sample_weight, center)
    gap, tol_abs, n_iter, converged, _, _ = _enet.enet_solve(
        design.data, design.indices, design.indptr, design.is_sparse, n,
        y, y_mean, sw, X_mean, norm2, center, coef, l1w, l2w,
        _EMPTY if lower is None else lower, _EMPTY if upper is None else upper,
        int(max_iter), float(tol), solver=solver, random=bool(random),
        seed=int(seed) & 0xFFFFFFFF, screening=bool(screening),
        lipschitz=LIPSCHITZ_MARGIN * lipschitz if lipschitz else 0.0, restart=bool(restart),
    )
    intercept = y_mean - float(np.dot(X_mean, coef)) if center else 0.0
    return Solution(intercept, gap / n, tol_abs, n_iter, converged, gap)
