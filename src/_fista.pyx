"""Proximal-gradient engine (ISTA / FISTA with adaptive restart) for every separable penalty.

It shares everything but the iteration with the coordinate-descent engine: the column
primitives and matrix products (`_columns.pxd`), the per-coordinate prox and the duality
gap (`_penalty.pxd`), the residual summaries, gap check and interrupt check
(`_engine_common.pxd`). The prox step is `prox_coordinate` with curvature L: the CD
update is the same function with curvature ||x_j||^2.

Each iteration costs one X^T r (the gradient at the extrapolated point) and one X w at the
new point (only its nonzero coefficients' columns); X at the extrapolated point is a
linear combination of the last two, never a third product.
"""
import numpy as np

from cython cimport floating
from libc.math cimport fabs, sqrt, INFINITY
from libc.string cimport memcpy

from _columns cimport index_t, X_times, Xt_times, col_size
from _penalty cimport GapKind, prox_coordinate
from _engine_common cimport (
    Residual, Progress, compute_gap, check_interrupt, gap_kind, gap_target,
)

# Backtracking multiplies L by this when the quadratic upper bound fails.
cdef double BACKTRACK_FACTOR = 2.0
cdef int MAX_BACKTRACKS = 60


cdef double centred_residual(
    Py_ssize_t n, const floating* y, const floating* Xv, const floating* sw, bint center,
    floating* weighted_residual, double* weighted_sum,
) noexcept nogil:
    """Write S R for R = y - X v - c (c the optimal intercept shift); return 1/2 ||R||_S^2."""
    cdef Py_ssize_t i
    cdef double s, offset = 0.0, r, value = 0.0, total = 0.0
    if center:
        for i in range(n):
            offset += (sw[i] if sw != NULL else 1.0) * (y[i] - Xv[i])
        offset /= n
    for i in range(n):
        s = sw[i] if sw != NULL else 1.0
        r = y[i] - Xv[i] - offset
        value += s * r * r
        if weighted_residual != NULL:
            weighted_residual[i] = <floating> (s * r)
        total += s * r
    weighted_sum[0] = total
    return 0.5 * value


cdef int prox_grad_solve(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    bint is_sparse, int n, int p,
    const floating* y, double y_mean, const floating* sw,
    const double* X_mean, bint center, const double* norm2,
    floating* x, const double* l1w, const double* l2w,
    const double* lower, const double* upper,
    int max_iter, double tol_abs, double* lipschitz, bint accelerated, bint restart,
    int gap_freq, floating* x_point, floating* x_new, floating* Xx, floating* Xx_new,
    floating* Xy, floating* r, floating* q, floating* weighted_q, double* grad,
    Py_ssize_t* active, double* gap_out, int* n_iter_out, int* n_restarts_out,
) except -1 nogil:
    """Minimise 1/2 ||yc - Xc x||_S^2 + sum_j h_j(x_j); x is the start and the result."""
    cdef Py_ssize_t i, j, f, n_active = 0
    cdef int it, n_iter = 0, back, n_restarts = 0, converged = 0
    cdef double L = lipschitz[0], t = 1.0, t_next, beta, f_y, f_x, sum_r, linear, quad
    cdef double gap = INFINITY, dual_scale, momentum_test, step_change
    cdef double lo = -INFINITY, hi = INFINITY
    # the sufficient-decrease test compares objectives computed from products in the
    # dtype of X: in float32 their rounding alone would fail it and shrink the step
    cdef double rounding = 1e-5 if floating is float else 1e-12
    cdef GapKind kind = gap_kind(p, l1w, l2w)
    cdef Residual res
    cdef Progress progress
    cdef Py_ssize_t matrix_size = (X_indptr[p] if is_sparse else <Py_ssize_t> n * p)
    progress.work = 0

    for j in range(p):
        if norm2[j] == 0.0:
            x[j] = 0.0  # a constant column cannot change the fit
        else:
            active[n_active] = j
            n_active += 1
    X_times(X_data, X_indices, X_indptr, is_sparse, n, p, x, Xx)
    memcpy(x_point, x, p * sizeof(floating))
    memcpy(Xy, Xx, n * sizeof(floating))

    for it in range(max_iter + 1):
        if it % gap_freq == 0 or it == max_iter:
            # duality gap at the current iterate x (not the extrapolated point)
            for i in range(n):
                q[i] = y[i] - Xx[i]
            gap = compute_gap(X_data, X_indices, X_indptr, is_sparse, n, y, y_mean, sw,
                              X_mean, center, norm2, x, q, weighted_q, grad, l1w, l2w,
                              lower, upper, active, n_active, kind, &res, &dual_scale)
            if gap <= tol_abs:
                converged = 1
                break
            if it == max_iter:
                break
        n_iter = it + 1

        # gradient of the smooth part at the extrapolated point: -Xc^T S R
        f_y = centred_residual(n, y, Xy, sw, center, r, &sum_r)
        Xt_times(X_data, X_indices, X_indptr, is_sparse, n, p, r, grad)
        if center:
            for j in range(p):
                grad[j] -= X_mean[j] * sum_r

        for back in range(MAX_BACKTRACKS):
            for j in range(p):
                if norm2[j] == 0.0:
                    x_new[j] = 0.0
                    continue
                if lower != NULL:
                    lo = lower[j]
                    hi = upper[j]
                x_new[j] = <floating> prox_coordinate(
                    L * x_point[j] + grad[j], L, l1w[j], l2w[j], lo, hi)
            X_times(X_data, X_indices, X_indptr, is_sparse, n, p, x_new, Xx_new)
            f_x = centred_residual(n, y, Xx_new, sw, center, NULL, &sum_r)
            # accept the step if the quadratic model at the point bounds f from above
            linear = 0.0
            quad = 0.0
            for j in range(p):
                step_change = x_new[j] - x_point[j]
                linear -= grad[j] * step_change
                quad += step_change * step_change
            if f_x <= f_y + linear + 0.5 * L * quad + rounding * fabs(f_y):
                break
            L *= BACKTRACK_FACTOR

        beta = 0.0
        if accelerated:
            # O'Donoghue & Candes (2015) gradient restart: drop the momentum when the
            # step taken points against the direction the momentum pushed in
            momentum_test = 0.0
            for j in range(p):
                momentum_test += (x_point[j] - x_new[j]) * (x_new[j] - x[j])
            if restart and momentum_test > 0.0:
                t = 1.0
                n_restarts += 1
            else:
                t_next = 0.5 * (1.0 + sqrt(1.0 + 4.0 * t * t))
                beta = (t - 1.0) / t_next
                t = t_next
        for j in range(p):
            x_point[j] = <floating> (x_new[j] + beta * (x_new[j] - x[j]))
            x[j] = x_new[j]
        for i in range(n):
            Xy[i] = <floating> (Xx_new[i] + beta * (Xx_new[i] - Xx[i]))
            Xx[i] = Xx_new[i]
        progress.work += 2 * matrix_size
        check_interrupt(&progress)
    lipschitz[0] = L
    gap_out[0] = gap
    n_iter_out[0] = n_iter
    n_restarts_out[0] = n_restarts
    return converged


def lipschitz_constant(
    const floating[::1] X_data,
    const index_t[::1] X_indices,
    const index_t[::1] X_indptr,
    bint is_sparse,
    Py_ssize_t n_samples,
    Py_ssize_t n_features,
    const floating[::1] sample_weight,
    bint center,
    int max_iter=100,
    double rtol=1e-3,
):
    """Largest eigenvalue of Xc^T S Xc by power iteration, without forming Xc.

    The Rayleigh quotient approaches the eigenvalue from below; the engine's backtracking
    corrects an estimate that is still low.

    Returns
    -------
    lipschitz : float
        Lipschitz constant of the gradient of 1/2 ||yc - Xc w||_S^2.
    """
    if floating is float:
        dtype = np.float32
    else:
        dtype = np.float64
    v_arr = np.full(n_features, 1.0 / np.sqrt(max(n_features, 1)), dtype=dtype)
    u_arr = np.empty(n_samples, dtype=dtype)
    z_arr = np.empty(n_features, dtype=np.float64)
    cdef floating[::1] v = v_arr
    cdef floating[::1] u = u_arr
    cdef double[::1] z = z_arr
    cdef const floating* sw = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    cdef const index_t* indices = &X_indices[0] if X_indices.shape[0] > 0 else NULL
    cdef const index_t* indptr = &X_indptr[0] if X_indptr.shape[0] > 0 else NULL
    cdef const floating* data = &X_data[0] if X_data.shape[0] > 0 else NULL
    cdef Py_ssize_t i, j
    cdef int it
    cdef double lam = 0.0, previous, mean, norm, vv, vz
    if n_features == 0 or n_samples == 0:
        return 0.0
    with nogil:
        for it in range(max_iter):
            X_times(data, indices, indptr, is_sparse, <int> n_samples, <int> n_features,
                    &v[0], &u[0])
            mean = 0.0
            if center:
                for i in range(n_samples):
                    mean += (sw[i] if sw != NULL else 1.0) * u[i]
                mean /= n_samples
            for i in range(n_samples):  # u = S Xc v
                u[i] = <floating> ((sw[i] if sw != NULL else 1.0) * (u[i] - mean))
            Xt_times(data, indices, indptr, is_sparse, <int> n_samples, <int> n_features,
                     &u[0], &z[0])
            vv = 0.0
            vz = 0.0
            norm = 0.0
            for j in range(n_features):
                vv += v[j] * v[j]
                vz += v[j] * z[j]
                norm += z[j] * z[j]
            previous = lam
            lam = vz / vv
            if norm == 0.0:
                break
            norm = sqrt(norm)
            for j in range(n_features):
                v[j] = <floating> (z[j] / norm)
            if fabs(lam - previous) <= rtol * lam:
                break
    return lam


def enet_proximal_gradient(
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
    double lipschitz,
    bint accelerated=True,
    bint restart=True,
    int gap_freq=10,
):
    """Minimise 1/2 ||yc - Xc w||_S^2 + sum_j h_j(w_j) by proximal gradient.

    Same problem, arguments and stopping rule as
    `fastpen._cd.enet_coordinate_descent`, with these differences:

    Parameters
    ----------
    lipschitz : float
        Initial step is 1 / lipschitz (from `lipschitz_constant`, scaled up slightly);
        backtracking raises it when the quadratic upper bound fails.
    accelerated : bool
        FISTA (Beck & Teboulle 2009) when True, ISTA when False.
    restart : bool
        Adaptive gradient restart of the momentum (O'Donoghue & Candes 2015).
    gap_freq : int
        Iterations between duality-gap checks.

    Returns
    -------
    gap, tol_abs, n_iter, converged, lipschitz, n_restarts
        The n-scaled gap, its target, the iterations run, whether the target was met,
        the step constant finally used, and how many times the momentum restarted.
    """
    cdef Py_ssize_t n_features = w.shape[0]
    cdef Py_ssize_t i
    cdef const floating* sw = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    cdef const index_t* indices = &X_indices[0] if X_indices.shape[0] > 0 else NULL
    cdef const index_t* indptr = &X_indptr[0] if X_indptr.shape[0] > 0 else NULL
    cdef const floating* data = &X_data[0] if X_data.shape[0] > 0 else NULL
    cdef const double* lo = &lower[0] if lower.shape[0] > 0 else NULL
    cdef const double* hi = &upper[0] if upper.shape[0] > 0 else NULL
    cdef double tol_abs, gap = 0.0, L = lipschitz if lipschitz > 0 else 1.0
    cdef int n_iter = 0, converged = 0, n_restarts = 0
    if n_features == 0:
        return 0.0, 0.0, 0, True, L, 0
    dtype = np.float32 if floating is float else np.float64
    cdef floating[:, ::1] point_space = np.empty((2, n_features), dtype=dtype)
    cdef floating[:, ::1] sample_space = np.empty((6, n_samples), dtype=dtype)
    cdef double[::1] grad = np.empty(n_features, dtype=np.float64)
    cdef Py_ssize_t[::1] active = np.empty(n_features, dtype=np.intp)
    tol_abs = gap_target(&y[0], n_samples, y_mean, sw, tol)
    with nogil:
        converged = prox_grad_solve(
            data, indices, indptr, is_sparse, <int> n_samples, <int> n_features,
            &y[0], y_mean, sw, &X_mean[0], center, &norm2[0], &w[0],
            &l1_weight[0], &l2_weight[0], lo, hi, max_iter, tol_abs, &L,
            accelerated, restart, max(gap_freq, 1),
            &point_space[0, 0], &point_space[1, 0],
            &sample_space[0, 0], &sample_space[1, 0], &sample_space[2, 0],
            &sample_space[3, 0], &sample_space[4, 0], &sample_space[5, 0],
            &grad[0], &active[0], &gap, &n_iter, &n_restarts,
        )
    return gap, tol_abs, n_iter, bool(converged), L, n_restarts
