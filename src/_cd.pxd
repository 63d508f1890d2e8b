# Coordinate-descent engine for every separable penalty (L1, L2, L1 + L2, bounds).
#
# One source for dense Fortran and CSC sparse X, float32 and float64 (fused types in
# `_columns.pxd`); the penalty is `_penalty.pxd`. The loops run without the GIL.
#
# Centring for the intercept is implicit (see ``notes/design.md``): the engine keeps the raw
# residual q = y - X w and the scalar sq = 1^T S q. The centred gradient is
# x_j^T S q - mean_j * sq, so one coordinate update costs O(nnz of column j) for sparse X.
#
from cython cimport floating
from libc.math cimport ceil, fabs, sqrt, INFINITY
from libc.stdint cimport uint32_t

from _columns cimport index_t, Storage, DENSE, SPARSE, GRAM, col_dot_weighted, col_axpy, col_size
from _penalty cimport GapKind, GAP_L1, prox_coordinate
from _engine_common cimport (
    Residual, Progress, compute_gap, screen, reset_residual, check_interrupt, gap_kind,
    gap_target,
)
# Cap on the sweeps over the nonzero coefficients between two full sweeps.
cdef enum:
    MAX_SUPPORT_SWEEPS = 1000


cdef inline uint32_t xorshift(uint32_t* state) noexcept nogil:
    cdef uint32_t x = state[0]
    x ^= x << 13
    x ^= x >> 17
    x ^= x << 5
    state[0] = x
    return x


cdef inline void sweep(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, const floating* sw, const double* X_mean, bint center,
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
        g = col_dot_weighted(X_data, X_indices, X_indptr, storage, n, j, q, sw)
        if center:
            g -= X_mean[j] * res.weighted_sum
        if lower != NULL:
            lo = lower[j]
            hi = upper[j]
        z = norm2[j] * w_j + g
        w_new = <floating> prox_coordinate(z, norm2[j], l1w[j], l2w[j], lo, hi)
        if w_new != w_j:
            d = w_new - w_j
            col_axpy(X_data, X_indices, X_indptr, storage, n, j, <floating> -d, q)
            if center:
                res.weighted_sum -= d * n * X_mean[j]
            w[j] = w_new
            progress.work += col_size(X_indptr, storage, n, j)
            if fabs(d) > progress.d_w_max:
                progress.d_w_max = fabs(d)
        if fabs(w_new) > progress.w_max:
            progress.w_max = fabs(w_new)
        progress.work += col_size(X_indptr, storage, n, j)


cdef inline Py_ssize_t all_features(
    Py_ssize_t p, const double* norm2, const floating* w, const unsigned char* start_set,
    Py_ssize_t* active,
) noexcept nogil:
    """Fill `active` with the non-constant features (those in start_set or nonzero when
    a start set is given); return how many."""
    cdef Py_ssize_t j, count = 0
    for j in range(p):
        if norm2[j] > 0.0 and (start_set == NULL or start_set[j] or w[j] != 0.0):
            active[count] = j
            count += 1
    return count


cdef inline int cd_solve(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, Py_ssize_t p,
    const floating* y, double y_mean, const floating* sw,
    const double* X_mean, bint center, const double* norm2, double y_norm2,
    floating* w, floating* q, floating* weighted_q, double* grad, Py_ssize_t* active,
    Py_ssize_t* support, const double* l1w, const double* l2w, const double* lower, const double* upper,
    int max_iter, double tol, double tol_abs, bint random, uint32_t seed,
    bint screening, int gap_freq, double inner_ratio, const unsigned char* start_set,
    double* gap_out, int* n_iter_out,
) except -1 nogil:
    """Run coordinate descent until the duality gap is <= tol_abs or max_iter epochs.

    `start_set` (a mask, or NULL) restricts the first phase to those features and the
    nonzero ones (e.g. a sequential strong rule along a path); once that restricted
    problem converges, every feature comes back and only the full gap certifies, so a
    wrong start set costs time, never correctness. Returns 1 when converged, 0
    otherwise; raises KeyboardInterrupt on Ctrl-C.
    """
    cdef Py_ssize_t f, j, n_active = 0, n_support
    cdef int inner, n_iter = 0, n_full_sweeps = 0
    cdef double epochs = 0.0, inner_tol
    cdef bint gap_is_current = True
    cdef bint restricted = start_set != NULL
    cdef bint screening_allowed
    cdef double gap, dual_scale = 1.0
    cdef Progress progress
    cdef uint32_t rng_state = seed if seed != 0 else 1
    cdef Residual res
    cdef GapKind kind = gap_kind(p, l1w, l2w)
    cdef int converged = 0
    progress.work = 0
    res.y_norm2 = y_norm2

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
    reset_residual(X_data, X_indices, X_indptr, storage, n, p, y, w, q)
    n_active = all_features(p, norm2, w, start_set, active)
    screening_allowed = screening
    # also initialises the residual summaries (the centring offset) the sweeps read
    gap = compute_gap(X_data, X_indices, X_indptr, storage, n, y, y_mean, sw, X_mean,
                      center, norm2, w, q, weighted_q, grad, l1w, l2w, lower, upper,
                      active, n_active, kind, &res, &dual_scale)
    if not restricted:
        if gap <= tol_abs:
            gap_out[0] = gap
            n_iter_out[0] = 0
            return 1
        if screening:
            n_active = screen(X_data, X_indices, X_indptr, storage, n, X_mean, center,
                              norm2, w, q, grad, l1w, l2w, active, n_active, gap,
                              dual_scale, &res)
    else:
        # a gap over a restricted set certifies nothing about the others: no screening
        screening = False

    # `epochs` counts work in full sweeps of the active set: a sweep over s of its m
    # features adds s / m, so max_iter bounds the passes over X, whatever the mix.
    while epochs < max_iter:
        sweep(X_data, X_indices, X_indptr, storage, n, sw, X_mean, center, norm2, w, q,
              l1w, l2w, lower, upper, active, n_active, random, &rng_state, &res, &progress)
        epochs += 1.0
        n_full_sweeps += 1
        check_interrupt(&progress)
        if (
            n_full_sweeps % gap_freq == 0
            or progress.w_max == 0.0
            or progress.d_w_max <= tol * progress.w_max
        ):
            gap = compute_gap(X_data, X_indices, X_indptr, storage, n, y, y_mean, sw,
                              X_mean, center, norm2, w, q, weighted_q, grad, l1w, l2w,
                              lower, upper, active, n_active, kind, &res, &dual_scale)
            gap_is_current = True
            if gap <= tol_abs:
                # the residual was updated incrementally many times: in float32 its
                # rounding drift can fake convergence, so confirm on a fresh residual
                reset_residual(X_data, X_indices, X_indptr, storage, n, p, y, w, q)
                gap = compute_gap(X_data, X_indices, X_indptr, storage, n, y, y_mean, sw,
                                  X_mean, center, norm2, w, q, weighted_q, grad, l1w, l2w,
                                  lower, upper, active, n_active, kind, &res, &dual_scale)
                if gap <= tol_abs and restricted:
                    # the restricted problem is solved: bring every feature back and
                    # let the full gap decide
                    restricted = False
                    screening = screening_allowed
                    n_active = all_features(p, norm2, w, NULL, active)
                    gap = compute_gap(X_data, X_indices, X_indptr, storage, n, y, y_mean,
                                      sw, X_mean, center, norm2, w, q, weighted_q, grad,
                                      l1w, l2w, lower, upper, active, n_active, kind, &res,
                                      &dual_scale)
                if gap <= tol_abs:
                    converged = 1
                    break
            if screening:
                n_active = screen(X_data, X_indices, X_indptr, storage, n, X_mean, center,
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
            sweep(X_data, X_indices, X_indptr, storage, n, sw, X_mean, center, norm2, w,
                  q, l1w, l2w, lower, upper, support, n_support, random, &rng_state, &res,
                  &progress)
            epochs += n_support / <double> n_active
            gap_is_current = False
            check_interrupt(&progress)
            if progress.d_w_max <= inner_tol:
                break

    if not converged and restricted:
        n_active = all_features(p, norm2, w, NULL, active)
        gap_is_current = False
    if not converged and not gap_is_current:
        gap = compute_gap(X_data, X_indices, X_indptr, storage, n, y, y_mean, sw, X_mean,
                          center, norm2, w, q, weighted_q, grad, l1w, l2w, lower, upper,
                          active, n_active, kind, &res, &dual_scale)
        converged = gap <= tol_abs
    n_iter = <int> ceil(epochs)
    gap_out[0] = gap
    n_iter_out[0] = n_iter
    return converged
