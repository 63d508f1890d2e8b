# Pieces every engine shares: the residual and its summaries, the duality gap on the
# active set, gap-safe screening, and the interrupt check. An engine only decides how the
# coefficients move; how far they are from optimal is computed here, once.
#
# The residual is kept raw, q = y - X w (no centring of X), and centring for the
# intercept is implicit: the centred gradient is x_j^T S q - mean_j * (1^T S q).
from cython cimport floating
from libc.math cimport fabs, sqrt
from cpython.exc cimport PyErr_CheckSignals

from _columns cimport index_t, Storage, DENSE, SPARSE, GRAM, col_dot, col_axpy
from _penalty cimport GapKind, GAP_L1, GAP_L2, GAP_NONE, duality_gap

cdef enum:
    # check for Ctrl-C after this many matrix entries have been touched (~10 ms of work)
    INTERRUPT_CHECK_WORK = 1 << 24


cdef struct Residual:
    # sum_i s_i q_i: the centring offset, kept up to date in O(1) per coordinate update
    double weighted_sum
    # R^T S R and R^T S yc for the true (centred) residual R = q - sq / n
    double norm2
    double dot_y
    # GRAM storage only: ||yc||_S^2, which the gradient vector cannot give back
    double y_norm2


cdef inline void residual_summaries(
    Py_ssize_t n, floating* q, const floating* y, double y_mean,
    const floating* sw, bint center, Residual* res,
) noexcept nogil:
    """Recompute the residual sums exactly and re-centre q.

    Shifting q by a constant changes neither the centred gradient nor R, so q is moved
    back to weighted mean 0: the running offset then restarts from 0 instead of drifting,
    and dots with q do not cancel against large column means.
    """
    cdef Py_ssize_t i
    cdef double s, sq = 0.0, offset, r, norm2 = 0.0, dot_y = 0.0
    if center:
        for i in range(n):
            sq += (sw[i] if sw != NULL else 1.0) * q[i]
        offset = sq / n
        for i in range(n):
            q[i] -= <floating> offset
    for i in range(n):
        s = sw[i] if sw != NULL else 1.0
        r = q[i]
        norm2 += s * r * r
        dot_y += s * r * (y[i] - y_mean)
    res.weighted_sum = 0.0
    if center:
        # what is left of the mean after rounding the shift
        for i in range(n):
            res.weighted_sum += (sw[i] if sw != NULL else 1.0) * q[i]
    res.norm2 = norm2
    res.dot_y = dot_y


cdef inline double compute_gap(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, const floating* y, double y_mean, const floating* sw,
    const double* X_mean, bint center, const double* norm2,
    const floating* w, floating* q, floating* weighted_q, double* grad,
    const double* l1w, const double* l2w, const double* lower, const double* upper,
    const Py_ssize_t* active, Py_ssize_t n_active, GapKind kind,
    Residual* res, double* dual_scale,
) noexcept nogil:
    """Refresh the residual sums and the centred gradient on the active set; return the gap."""
    cdef Py_ssize_t i, f, j
    cdef const floating* qs = q
    cdef double w_dot_xty = 0.0, w_dot_grad = 0.0
    if storage == GRAM:
        # q is the gradient Xc^T S R and y is Xc^T S yc, so with Q w = y - q:
        # ||R||^2 = ||yc||^2 - 2 w.y + w.Q w and R.yc = ||yc||^2 - w.y
        for j in range(n):
            w_dot_xty += w[j] * y[j]
            w_dot_grad += w[j] * q[j]
        res.norm2 = res.y_norm2 - w_dot_xty - w_dot_grad
        res.dot_y = res.y_norm2 - w_dot_xty
        res.weighted_sum = 0.0
        for f in range(n_active):
            grad[active[f]] = q[active[f]]
        return duality_gap(n_active, active, w, grad, l1w, l2w, lower, upper, norm2,
                           res.norm2, res.dot_y, kind, dual_scale)
    residual_summaries(n, q, y, y_mean, sw, center, res)
    if sw != NULL:
        # one pass of S q so that the gradient below is plain BLAS dots
        for i in range(n):
            weighted_q[i] = sw[i] * q[i]
        qs = weighted_q
    for f in range(n_active):
        j = active[f]
        grad[j] = col_dot(X_data, X_indices, X_indptr, storage, n, j, qs)
        if center:
            grad[j] -= X_mean[j] * res.weighted_sum
    return duality_gap(n_active, active, w, grad, l1w, l2w, lower, upper, norm2,
                       res.norm2, res.dot_y, kind, dual_scale)


cdef inline Py_ssize_t screen(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, const double* X_mean, bint center, const double* norm2,
    floating* w, floating* q, const double* grad, const double* l1w, const double* l2w,
    Py_ssize_t* active, Py_ssize_t n_active, double gap, double dual_scale, Residual* res,
) noexcept nogil:
    """Gap-safe rule (Fercoq et al. 2015, Ndiaye et al. 2017): drop features provably zero.

    The dual is 1-strongly concave, so the optimal dual point lies within sqrt(2 gap) of the
    current one; feature j is zero at the optimum when even the worst point in that ball
    satisfies |x_j^T theta| < l1_j. Returns the new size of the active set.
    """
    cdef Py_ssize_t f, j, kept = 0
    cdef double radius = sqrt(2.0 * gap) if gap > 0.0 else 0.0
    cdef double v
    for f in range(n_active):
        j = active[f]
        v = dual_scale * (grad[j] - l2w[j] * w[j])
        if l1w[j] > 0.0 and l1w[j] - fabs(v) > radius * sqrt(norm2[j] + l2w[j]):
            if w[j] != 0.0:
                col_axpy(X_data, X_indices, X_indptr, storage, n, j, w[j], q)
                if center:
                    res.weighted_sum += w[j] * n * X_mean[j]
                w[j] = 0.0
        else:
            active[kept] = j
            kept += 1
    return kept


cdef inline void reset_residual(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, Py_ssize_t p, const floating* y, const floating* w, floating* q,
) noexcept nogil:
    """q = y - X w, computed afresh."""
    cdef Py_ssize_t i, j
    for i in range(n):
        q[i] = y[i]
    for j in range(p):
        if w[j] != 0.0:
            col_axpy(X_data, X_indices, X_indptr, storage, n, j, -w[j], q)


cdef struct Progress:
    double d_w_max  # largest coefficient change of the last sweep
    double w_max  # largest coefficient after it
    Py_ssize_t work  # matrix entries touched since the last interrupt check


cdef inline int check_interrupt(Progress* progress) except -1 nogil:
    """Let Ctrl-C through every INTERRUPT_CHECK_WORK matrix entries (raises KeyboardInterrupt)."""
    if progress.work >= INTERRUPT_CHECK_WORK:
        progress.work = 0
        with gil:
            PyErr_CheckSignals()
    return 0



cdef inline GapKind gap_kind(Py_ssize_t p, const double* l1w, const double* l2w) noexcept nogil:
    """Which dual certifies the penalty: any l1 > 0, else any l2 > 0, else none."""
    cdef Py_ssize_t j
    cdef GapKind kind = GAP_NONE
    for j in range(p):
        if l1w[j] > 0.0:
            return GAP_L1
        if l2w[j] > 0.0:
            kind = GAP_L2
    return kind


cdef inline double gap_target(
    const floating* y, Py_ssize_t n, double y_mean, const floating* sw, double tol,
) noexcept nogil:
    """scikit-learn's target tol * ||yc||_S^2, floored at what the residual's rounding can
    certify: with a constant y the target is 0 (scikit-learn's issue #20144) and the
    fit must still converge."""
    cdef Py_ssize_t i
    cdef double s, target = 0.0, y_absmax = 0.0
    cdef double eps = 1.1920928955078125e-07 if floating is float else 2.220446049250313e-16
    for i in range(n):
        s = sw[i] if sw != NULL else 1.0
        target += s * (y[i] - y_mean) * (y[i] - y_mean)
        y_absmax = max(y_absmax, fabs(y[i]))
    return max(tol * target, n * (4.0 * eps * y_absmax) ** 2)
