"""Python side of the engines: X prepared once, column statistics, penalty weights."""
import numpy as np

from . import _cd, _design
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


def solve_enet(
    design, y, *, sample_weight, X_mean, norm2, center, coef, alpha, l1_ratio,
    penalty_factor, lower, upper, max_iter, tol, random=False, seed=1, screening=True,
):
    """Solve one elastic-net problem with the coordinate-descent engine.

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
    random : bool
    seed : int
    screening : bool

    Returns
    -------
    intercept : float
    dual_gap : float
        scikit-learn's ``dual_gap_`` (the n-scaled gap divided by n_samples).
    gap_target : float
        The n-scaled gap target tol * ||yc||_S^2.
    n_iter : int
    converged : bool
    gap_raw : float
        The n-scaled gap (the number scikit-learn prints in its warning).
    """
    n = design.n_samples
    y_mean = weighted_mean(y, sample_weight) if center else 0.0
    l1w, l2w = penalty_weights(n, alpha, l1_ratio, penalty_factor)
    sw = _EMPTY.astype(design.dtype) if sample_weight is None else sample_weight
    gap, tol_abs, n_iter, converged = _cd.enet_coordinate_descent(
        design.data, design.indices, design.indptr, design.is_sparse, n,
        y, y_mean, sw, X_mean, norm2, center, coef, l1w, l2w,
        _EMPTY if lower is None else lower, _EMPTY if upper is None else upper,
        int(max_iter), float(tol), bool(random), int(seed) & 0xFFFFFFFF, bool(screening),
    )
    intercept = y_mean - float(np.dot(X_mean, coef)) if center else 0.0
    return intercept, gap / n, tol_abs, n_iter, converged, gap
