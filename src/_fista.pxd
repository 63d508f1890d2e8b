# Proximal-gradient engine (ISTA / FISTA with adaptive restart) for every separable penalty.
#
# It shares everything but the iteration with the coordinate-descent engine: the column
# primitives and matrix products (`_columns.pxd`), the per-coordinate prox and the duality
# gap (`_penalty.pxd`), the residual summaries, gap check and interrupt check
# (`_engine_common.pxd`). The prox step is `prox_coordinate` with curvature L: the CD
# update is the same function with curvature ||x_j||^2.
#
# Each iteration costs one X^T r (the gradient at the extrapolated point) and one X w at the
# new point (only its nonzero coefficients' columns); X at the extrapolated point is a
# linear combination of the last two, never a third product.
#
from cython cimport floating
from libc.math cimport fabs, sqrt, INFINITY
from libc.string cimport memcpy

from _columns cimport (
    index_t, feature_t, Storage, DENSE, SPARSE, GRAM, X_times, Xt_times, col_size,
)
from _penalty cimport (
    GapKind, GAP_L1, PenaltyWeights, l1_weight, l2_weight, prox_coordinate,
    grows_unpenalized,
)
from _engine_common cimport (
    Residual, Progress, compute_gap, check_interrupt, gap_kind, gap_target,
    round_to_float32, rounding_floor_reached, residual_summaries,
)

cdef enum:
    # backtracking raises L by 25% at most this many times in one iteration
    MAX_BACKTRACKS = 200


cdef inline void centred_residual(
    Py_ssize_t n, const floating* y, const double* Xv, const double* sw, bint center,
    double* weighted_residual, double* weighted_sum,
) noexcept nogil:
    """Write S R for R = y - X v - c (c the optimal intercept shift), and 1^T S R to
    `weighted_sum`."""
    cdef Py_ssize_t i
    cdef double s, offset = 0.0, r, total = 0.0
    if center:
        for i in range(n):
            offset += (sw[i] if sw != NULL else 1.0) * (y[i] - Xv[i])
        offset /= n
    for i in range(n):
        s = sw[i] if sw != NULL else 1.0
        r = y[i] - Xv[i] - offset
        weighted_residual[i] = s * r
        total += s * r
    weighted_sum[0] = total


cdef inline int prox_grad_solve(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, int p,
    const floating* y, double y_mean, const double* sw,
    const double* X_mean, bint center, const double* norm2,
    double* x, PenaltyWeights penalty,
    const double* lower, const double* upper,
    int max_iter, double tol_abs, double* lipschitz, bint accelerated, bint restart,
    int gap_freq, double* x_point, double* x_new, double* Xx, double* Xx_new,
    double* Xy, double* r, double* q, double* weighted_q, double* grad,
    feature_t* active, double* gap_out, int* n_iter_out, int* n_restarts_out,
) except -1 nogil:
    """Minimise 1/2 ||yc - Xc x||_S^2 + sum_j h_j(x_j); x is the start and the result."""
    cdef Py_ssize_t i, j, f, n_active = 0
    cdef int it, n_iter = 0, back, n_restarts = 0, converged = 0
    cdef double L = lipschitz[0], t = 1.0, t_next, beta, sum_r, quad, moved, moved_sum, d, s_i
    cdef double gap = INFINITY, dual_scale, momentum_test, step_change, gap_before
    cdef double primal_norm2, penalty_change
    cdef int rounding_misses = 0
    # whether any vector gives a feasible dual point (l1 penalties, and unpenalized
    # features free to grow only if the gap projects off them), so that a gap's dual
    # point stays one after rounding
    cdef bint same_dual
    cdef double lo = -INFINITY, hi = INFINITY
    # the sufficient-decrease test is computed in float64 (iterates and products,
    # float32 X included): only its rounding is forgiven
    cdef double rounding = 1e-12
    cdef GapKind kind = gap_kind(p, penalty)
    cdef Residual res
    cdef Progress progress
    cdef Py_ssize_t matrix_size = (X_indptr[p] if storage == SPARSE else <Py_ssize_t> n * p)
    progress.work = 0
    # (read by compute_gap with Gram storage only, which fista is never given)
    res.y_norm2 = 0.0

    same_dual = kind == GAP_L1
    for j in range(p):
        if penalty.free == NULL and grows_unpenalized(penalty, lower, upper, j):
            same_dual = False
        if norm2[j] == 0.0:
            x[j] = 0.0  # a constant column cannot change the fit
        else:
            active[n_active] = j
            n_active += 1
    X_times(X_data, X_indices, X_indptr, storage, n, p, x, Xx)
    memcpy(x_point, x, p * sizeof(double))
    memcpy(Xy, Xx, n * sizeof(double))

    for it in range(max_iter + 1):
        if it % gap_freq == 0 or it == max_iter:
            # duality gap at the current iterate x (not the extrapolated point)
            for i in range(n):
                q[i] = y[i] - Xx[i]
            gap = compute_gap(X_data, X_indices, X_indptr, storage, n, y, y_mean, sw,
                              X_mean, center, norm2, x, q, weighted_q, grad, penalty,
                              lower, upper, active, n_active, kind, &res, &dual_scale)
            primal_norm2 = res.norm2
            penalty_change = 0.0
            if (floating is float and (gap <= tol_abs or it == max_iter)
                    and round_to_float32(x, p, penalty, lower, upper, &penalty_change)):
                # float32 X: the float32 coefficients returned are the ones certified
                # (their gap taken again: once per solve, at its end)
                gap_before = gap
                X_times(X_data, X_indices, X_indptr, storage, n, p, x, Xx)
                for i in range(n):
                    q[i] = y[i] - Xx[i]
                if same_dual:
                    # the dual point of the float64 coefficients is still feasible, and
                    # against it the rounding costs the gap only its primal change (a
                    # dual point built again from the rounded residual moves by the
                    # first order: see cd_solve)
                    residual_summaries(n, q, y, y_mean, sw, center, &res)
                    gap += 0.5 * (res.norm2 - primal_norm2) + penalty_change
                else:
                    gap = compute_gap(X_data, X_indices, X_indptr, storage, n, y, y_mean,
                                      sw, X_mean, center, norm2, x, q, weighted_q, grad,
                                      penalty, lower, upper, active, n_active, kind, &res,
                                      &dual_scale)
                if rounding_floor_reached(gap_before, gap, tol_abs, &rounding_misses):
                    break
            if gap <= tol_abs:
                converged = 1
                break
            if it == max_iter:
                break
        n_iter = it + 1

        # gradient of the smooth part at the extrapolated point: -Xc^T S R
        centred_residual(n, y, Xy, sw, center, r, &sum_r)
        Xt_times(X_data, X_indices, X_indptr, storage, n, p, r, grad)
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
                x_new[j] = prox_coordinate(
                    L * x_point[j] + grad[j], L, l1_weight(penalty, j),
                    l2_weight(penalty, j), lo, hi)
            X_times(X_data, X_indices, X_indptr, storage, n, p, x_new, Xx_new)
            # accept the step if the quadratic model at the point bounds f from above.
            # f is quadratic, so that is ||Xc (x_new - y)||_S^2 <= L ||x_new - y||^2,
            # taken on the products' difference: compared as two objectives, the
            # rounding of f (large means: 1e-12 of it and more) failed short steps near
            # the solution, and L grew without end (9e20 along a path)
            quad = 0.0
            for j in range(p):
                step_change = x_new[j] - x_point[j]
                quad += step_change * step_change
            moved = 0.0
            moved_sum = 0.0
            for i in range(n):
                s_i = sw[i] if sw != NULL else 1.0
                d = Xx_new[i] - Xy[i]
                moved += s_i * d * d
                moved_sum += s_i * d
            if center:
                moved -= moved_sum * moved_sum / n
            if quad == 0.0 or moved <= L * quad * (1.0 + rounding):
                break
            L *= 1.25

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
            x_point[j] = x_new[j] + beta * (x_new[j] - x[j])
            x[j] = x_new[j]
        for i in range(n):
            Xy[i] = Xx_new[i] + beta * (Xx_new[i] - Xx[i])
            Xx[i] = Xx_new[i]
        progress.work += 2 * matrix_size
        check_interrupt(&progress)
    lipschitz[0] = L
    gap_out[0] = gap
    n_iter_out[0] = n_iter
    n_restarts_out[0] = n_restarts
    return converged
