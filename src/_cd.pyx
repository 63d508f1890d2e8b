"""Coordinate-descent engine for every separable penalty (L1, L2, L1 + L2, bounds).

One source for dense Fortran and CSC sparse X, float32 and float64 (fused types in
`_columns.pxd`); the penalty is `_penalty.pxd`. The loops run without the GIL.

Centring for the intercept is implicit (see ``notes/design.md``): the engine keeps the raw
residual q = y - X w and the scalar sq = 1^T S q. The centred gradient is
x_j^T S q - mean_j * sq, so one coordinate update costs O(nnz of column j) for sparse X.
"""
import numpy as np

from cython cimport floating
from libc.math cimport ceil, fabs, sqrt, INFINITY
from libc.stdint cimport uint32_t

from _columns cimport index_t, col_dot_weighted, col_axpy, col_size
from _penalty cimport GapKind, GAP_L1, prox_coordinate
from _engine_common cimport (
    Residual, Progress, compute_gap, screen, reset_residual, check_interrupt, gap_kind,
    gap_target,
)
# Cap on the sweeps over the nonzero coefficients between two full sweeps.
cdef int MAX_SUPPORT_SWEEPS = 1000


cdef inline uint32_t xorshift(uint32_t* state) noexcept nogil:
    cdef uint32_t x = state[0]
    x ^= x << 13
    x ^= x >> 17
    x ^= x << 5
    state[0] = x
    return x


cdef void sweep(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    bint is_sparse, int n, const floating* sw, const double* X_mean, bint center,
    const double* norm2, floating* w, floating* q, const double* l1w, const double* l2w,
    const double* lower, const double* upper, const Py_ssize_t* features,
    Py_ssize_t n_features, bint random, uint32_t* rng_state, Residual* res,
    Progress* progress,
) noexcept nogil:
    """One pass of exact coordinate minimisation over `features` (cyclic or random)."""
    cdef Py_ssize_t f, j
    cdef double g, z, d, lo = -INFINITY, hi = INFINITY
    cdef floating w_j, w_new
    progress.d_w_max = 0.0
    progress.w_max = 0.0
    for f in range(n_features):
        j = features[xorshift(rng_state) % n_features] if random else features[f]
        w_j = w[j]
        g = col_dot_weighted(X_data, X_indices, X_indptr, is_sparse, n, j, q, sw)
        if center:
            g -= X_mean[j] * res.weighted_sum
        if lower != NULL:
            lo = lower[j]
            hi = upper[j]
        z = norm2[j] * w_j + g
        w_new = <floating> prox_coordinate(z, norm2[j], l1w[j], l2w[j], lo, hi)
        if w_new != w_j:
            d = w_new - w_j
            col_axpy(X_data, X_indices, X_indptr, is_sparse, n, j, <floating> -d, q)
            if center:
                res.weighted_sum -= d * n * X_mean[j]
            w[j] = w_new
            progress.work += col_size(X_indptr, is_sparse, n, j)
            if fabs(d) > progress.d_w_max:
                progress.d_w_max = fabs(d)
        if fabs(w_new) > progress.w_max:
            progress.w_max = fabs(w_new)
        progress.work += col_size(X_indptr, is_sparse, n, j)


cdef int cd_solve(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    bint is_sparse, int n, Py_ssize_t p,
    const floating* y, double y_mean, const floating* sw,
    const double* X_mean, bint center, const double* norm2,
    floating* w, floating* q, floating* weighted_q, double* grad, Py_ssize_t* active,
    Py_ssize_t* support, const double* l1w, const double* l2w, const double* lower, const double* upper,
    int max_iter, double tol, double tol_abs, bint random, uint32_t seed,
    bint screening, int gap_freq, double inner_ratio,
    double* gap_out, int* n_iter_out,
) except -1 nogil:
    """Run coordinate descent until the duality gap is <= tol_abs or max_iter epochs.

    Returns 1 when converged, 0 otherwise; raises KeyboardInterrupt on Ctrl-C.
    """
    cdef Py_ssize_t f, j, n_active = 0, n_support
    cdef int inner, n_iter = 0, n_full_sweeps = 0
    cdef double epochs = 0.0, inner_tol
    cdef bint gap_is_current = True
    cdef double gap, dual_scale = 1.0
    cdef Progress progress
    cdef uint32_t rng_state = seed if seed != 0 else 1
    cdef Residual res
    cdef GapKind kind = gap_kind(p, l1w, l2w)
    cdef int converged = 0
    progress.work = 0

    for j in range(p):
        # an unpenalized feature free to grow has no feasible dual rescaling: the gap is
        # then not a true gap and cannot certify that a feature is zero
        if l1w[j] == 0.0 and l2w[j] == 0.0 and (
            lower == NULL or lower[j] == -INFINITY or upper[j] == INFINITY
        ):
            screening = False
    if kind != GAP_L1:
        screening = False

    # q = y - X w; zero (constant) columns cannot move the fit: their coefficient is 0
    for j in range(p):
        if norm2[j] == 0.0:
            w[j] = 0.0
    reset_residual(X_data, X_indices, X_indptr, is_sparse, n, p, y, w, q)
    for j in range(p):
        if norm2[j] > 0.0:
            active[n_active] = j
            n_active += 1

    gap = compute_gap(X_data, X_indices, X_indptr, is_sparse, n, y, y_mean, sw, X_mean,
                      center, norm2, w, q, weighted_q, grad, l1w, l2w, lower, upper,
                      active, n_active, kind, &res, &dual_scale)
    if gap <= tol_abs:
        gap_out[0] = gap
        n_iter_out[0] = 0
        return 1
    if screening:
        n_active = screen(X_data, X_indices, X_indptr, is_sparse, n, X_mean, center, norm2,
                          w, q, grad, l1w, l2w, active, n_active, gap, dual_scale, &res)

    # `epochs` counts work in full sweeps of the active set: a sweep over s of its m
    # features adds s / m, so max_iter bounds the passes over X, whatever the mix.
    while epochs < max_iter:
        sweep(X_data, X_indices, X_indptr, is_sparse, n, sw, X_mean, center, norm2, w, q,
              l1w, l2w, lower, upper, active, n_active, random, &rng_state, &res, &progress)
        epochs += 1.0
        n_full_sweeps += 1
        check_interrupt(&progress)
        if (
            n_full_sweeps % gap_freq == 0
            or progress.w_max == 0.0
            or progress.d_w_max <= tol * progress.w_max
        ):
            gap = compute_gap(X_data, X_indices, X_indptr, is_sparse, n, y, y_mean, sw,
                              X_mean, center, norm2, w, q, weighted_q, grad, l1w, l2w,
                              lower, upper, active, n_active, kind, &res, &dual_scale)
            gap_is_current = True
            if gap <= tol_abs:
                # the residual was updated incrementally many times: in float32 its
                # rounding drift can fake convergence, so confirm on a fresh residual
                reset_residual(X_data, X_indices, X_indptr, is_sparse, n, p, y, w, q)
                gap = compute_gap(X_data, X_indices, X_indptr, is_sparse, n, y, y_mean, sw,
                                  X_mean, center, norm2, w, q, weighted_q, grad, l1w, l2w,
                                  lower, upper, active, n_active, kind, &res, &dual_scale)
                if gap <= tol_abs:
                    converged = 1
                    break
            if screening:
                n_active = screen(X_data, X_indices, X_indptr, is_sparse, n, X_mean, center,
                                  norm2, w, q, grad, l1w, l2w, active, n_active, gap,
                                  dual_scale, &res)
        else:
            gap_is_current = False

        # Active-set cycling (Friedman et al. 2010): sweep only the nonzero coefficients
        # until they settle, then go back to a full sweep that lets new features in.
        n_support = 0
        for f in range(n_active):
            if w[active[f]] != 0.0:
                support[n_support] = active[f]
                n_support += 1
        if n_support == n_active or n_support == 0:
            continue
        # settle the support an order beyond the full sweep's progress, not to tol:
        # while features still enter, converging a support that will change is waste
        inner_tol = max(tol * progress.w_max, inner_ratio * progress.d_w_max)
        for inner in range(MAX_SUPPORT_SWEEPS):
            if epochs >= max_iter:
                break
            sweep(X_data, X_indices, X_indptr, is_sparse, n, sw, X_mean, center, norm2, w,
                  q, l1w, l2w, lower, upper, support, n_support, random, &rng_state, &res,
                  &progress)
            epochs += n_support / <double> n_active
            gap_is_current = False
            check_interrupt(&progress)
            if progress.d_w_max <= inner_tol:
                break

    if not converged and not gap_is_current:
        gap = compute_gap(X_data, X_indices, X_indptr, is_sparse, n, y, y_mean, sw, X_mean,
                          center, norm2, w, q, weighted_q, grad, l1w, l2w, lower, upper,
                          active, n_active, kind, &res, &dual_scale)
        converged = gap <= tol_abs
    n_iter = <int> ceil(epochs)
    gap_out[0] = gap
    n_iter_out[0] = n_iter
    return converged


def enet_coordinate_descent(
    const floating[::1] X_data,
    const index_t[::1] X_indices,
    const index_t[::1] X_indptr,
    bint is_sparse,
    Py_ssize_t n_samples,
    const floating[::1] y,
    double y_mean,
    const floating[::1] sample_weight,
    const double[::1] X_mean,
    const double[::1] norm2,
    bint center,
    floating[::1] w,
    const double[::1] l1_weight,
    const double[::1] l2_weight,
    const double[::1] lower,
    const double[::1] upper,
    int max_iter,
    double tol,
    bint random=False,
    uint32_t seed=1,
    bint screening=True,
    int gap_freq=10,
    double inner_ratio=0.1,
):
    """Minimise 1/2 ||yc - Xc w||_S^2 + sum_j h_j(w_j) by coordinate descent.

    The objective is scikit-learn's elastic net multiplied by n_samples:
    h_j(t) = l1_weight[j] |t| + l2_weight[j] / 2 t^2 + indicator(lower[j] <= t <= upper[j]).

    Parameters
    ----------
    X_data, X_indices, X_indptr : arrays
        Fortran buffer of a dense X (pass empty index arrays), or CSC arrays.
    is_sparse : bool
    n_samples : int
    y : array of shape (n_samples,)
    y_mean : float
        Weighted mean of y when centring, else 0.
    sample_weight : array of shape (n_samples,) or (0,)
        Weights summing to n_samples, or empty for unit weights.
    X_mean, norm2 : float64 arrays of shape (n_features,)
        From `fastpen._design.column_stats`.
    center : bool
        Fit an intercept (implicit centring).
    w : array of shape (n_features,)
        Start point, overwritten with the solution.
    l1_weight, l2_weight : float64 arrays of shape (n_features,)
    lower, upper : float64 arrays of shape (n_features,) or (0,)
        Bounds with lower <= 0 <= upper (+-inf allowed), or empty for none.
    max_iter : int
        Maximum number of epochs.
    tol : float
        Stop when the gap is <= tol * ||yc||_S^2 (scikit-learn's rule).
    random : bool
        Random instead of cyclic coordinate order.
    seed : int
        Seed of the random order.
    screening : bool
        Gap-safe screening of features that are provably zero.
    gap_freq : int
        The gap is computed at least every `gap_freq` epochs (and whenever the largest
        coefficient change is below tol times the largest coefficient).
    inner_ratio : float
        Between full sweeps, the nonzero coefficients are swept until their largest
        change is below inner_ratio times that of the last full sweep (or tol).

    Returns
    -------
    gap : float
        Duality gap reached (n-scaled; divide by n_samples for scikit-learn's dual_gap_).
    tol_abs : float
        The gap target tol * ||yc||_S^2.
    n_iter : int
        Epochs run.
    converged : bool
    """
    cdef Py_ssize_t n_features = w.shape[0]
    cdef Py_ssize_t i
    if floating is float:
        dtype = np.float32
    else:
        dtype = np.float64
    q_arr = np.empty(n_samples, dtype=dtype)
    weighted_q_arr = np.empty(n_samples if sample_weight.shape[0] > 0 else 1, dtype=dtype)
    grad_arr = np.zeros(n_features, dtype=np.float64)
    active_arr = np.empty(n_features, dtype=np.intp)
    support_arr = np.empty(n_features, dtype=np.intp)
    cdef floating[::1] q = q_arr
    cdef floating[::1] weighted_q = weighted_q_arr
    cdef double[::1] grad = grad_arr
    cdef Py_ssize_t[::1] active = active_arr
    cdef Py_ssize_t[::1] support = support_arr
    cdef const floating* sw = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    cdef const index_t* indices = &X_indices[0] if X_indices.shape[0] > 0 else NULL
    cdef const index_t* indptr = &X_indptr[0] if X_indptr.shape[0] > 0 else NULL
    cdef const floating* data = &X_data[0] if X_data.shape[0] > 0 else NULL
    cdef const double* lo = &lower[0] if lower.shape[0] > 0 else NULL
    cdef const double* hi = &upper[0] if upper.shape[0] > 0 else NULL
    cdef double tol_abs = 0.0, gap = 0.0
    cdef int n_iter = 0, converged = 0

    if n_features == 0:
        return 0.0, 0.0, 0, True
    with nogil:
        tol_abs = gap_target(&y[0], n_samples, y_mean, sw, tol)
        converged = cd_solve(
            data, indices, indptr, is_sparse, <int> n_samples, n_features,
            &y[0], y_mean, sw, &X_mean[0], center, &norm2[0],
            &w[0], &q[0], &weighted_q[0], &grad[0], &active[0], &support[0],
            &l1_weight[0], &l2_weight[0], lo, hi,
            max_iter, tol, tol_abs, random, seed, screening, max(gap_freq, 1), inner_ratio,
            &gap, &n_iter,
        )
    return gap, tol_abs, n_iter, bool(converged)
