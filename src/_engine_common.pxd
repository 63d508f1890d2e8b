# Pieces every engine shares: the residual and its summaries, the duality gap on the
# active set, gap-safe screening, and the interrupt check. An engine only decides how the
# coefficients move; how far they are from optimal is computed here, once.
#
# The residual is kept raw, q = y - X w (no centring of X), and centring for the
# intercept is implicit: the centred gradient is x_j^T S q - mean_j * (1^T S q).
from cython cimport floating
from libc.math cimport fabs, sqrt, nextafterf, INFINITY
from cpython.exc cimport PyErr_CheckSignals, PyErr_SetNone

from libc.string cimport memcpy
from scipy.linalg.cython_lapack cimport dpotrf, dpotrs, dpstrf

from _columns cimport (
    index_t, feature_t, Storage, DENSE, SPARSE, GRAM, col_axpy, columns_dot,
)
from _penalty cimport (
    GapKind, GAP_L1, GAP_L2, GAP_NONE, PenaltyWeights, FreeFeatures, l1_weight, l2_weight,
    duality_gap, is_unbounded_direction,
)

cdef enum:
    # most residuals one dual extrapolation combines
    MAX_DEPTH = 8
    # float32 X: a solve stops (not converged) after this many gaps whose float64
    # coefficients were well within the target but whose float32 rounding was not
    # (`rounding_floor_reached`)
    ROUNDING_MISSES = 3
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
    Py_ssize_t n, double* q, const floating* y, double y_mean,
    const double* sw, bint center, Residual* res,
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
            q[i] -= offset
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


cdef inline void centred_gradient(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, const double* v, const double* sw, double* weighted_v,
    const double* X_mean, bint center, double weighted_sum,
    const feature_t* active, Py_ssize_t n_active, double* grad,
) noexcept nogil:
    """grad[j] = (Xc^T S v)_j for j in active, where weighted_sum = 1^T S v."""
    cdef Py_ssize_t i, f, j, run
    cdef const double* vs = v
    if sw != NULL:
        # one pass of S v so that the gradient below is plain BLAS products
        for i in range(n):
            weighted_v[i] = sw[i] * v[i]
        vs = weighted_v
    f = 0
    while f < n_active:
        # runs of consecutive columns (a gradient over every feature is one run) go to
        # BLAS as one matrix-vector product
        j = active[f]
        run = 1
        while f + run < n_active and active[f + run] == j + run:
            run += 1
        columns_dot(X_data, X_indices, X_indptr, storage, n, j, run, vs, grad)
        if center:
            for i in range(j, j + run):
                grad[i] -= X_mean[i] * weighted_sum
        f += run


cdef inline int factor_hessian(
    const double* saved, double* hessian, int s, double largest, int* pivots,
    double* work,
) noexcept nogil:
    """The Cholesky factor of the s x s Hessian in `saved` (lower triangle, whose
    largest diagonal entry is `largest`) into `hessian`, with its pivots (1-based, as
    LAPACK's; `work`: 2 s doubles); returns its rank (0: none).

    Unpivoted first (dpotrf, blocked: a few times the speed of the pivoted one on
    P1's supports of 200), kept when every pivot (squared) is above 1e-10 of the
    largest diagonal entry: a clear full rank. Else, pivoted (dpstrf), whose pivots
    below 1e-12 of the largest are rounding (the sparse Hessian's centring cancels
    terms of the size of the largest): the Hessian's rank ends there."""
    cdef int b, info = 0, rank = 0
    cdef char* lower_triangle = b"L"
    cdef double pivot_floor = 1e-12 * largest
    memcpy(hessian, saved, s * s * sizeof(double))
    dpotrf(lower_triangle, &s, hessian, &s, &info)
    if info == 0:
        for b in range(s):
            if hessian[b * (s + 1)] * hessian[b * (s + 1)] < 1e-10 * largest:
                info = b + 1
                break
    if info == 0:
        for b in range(s):
            pivots[b] = b + 1
        return s
    memcpy(hessian, saved, s * s * sizeof(double))
    dpstrf(lower_triangle, &s, hessian, &s, pivots, &rank, &pivot_floor, work, &info)
    if info < 0:
        return 0
    return rank


cdef inline void factor_free_set(
    FreeFeatures* free, Py_ssize_t size, double* work,
) noexcept nogil:
    """Factor the Gram matrix of the free features flagged in `free.chosen` (`size` of
    them; `work`: 2 count doubles), unless it is the set factored last. The matrix is
    scaled to a unit diagonal first, so that the rank the pivoted factor finds does not
    depend on the columns' units: a column goes out of the basis when its part off the
    others is under 1e-6 of its norm (`factor_hessian`'s floor), as rounding of the
    Gram matrix could not resolve it; `basis` then holds the features a projection
    uses, `basis_scale` their 1 / ||xc_j||_S."""
    cdef Py_ssize_t a, b, m = free.count
    cdef int s = 0, rank
    if size == free.n_members:
        for a in range(m):
            if free.chosen[a] and (s >= size or free.members[s] != a):
                break
            s += free.chosen[a]
        else:
            return
    s = 0
    for a in range(m):
        if free.chosen[a]:
            free.members[s] = <int> a
            s += 1
    for b in range(s):
        for a in range(b, s):
            free.sub_gram[a + b * s] = (free.gram[free.members[a] + free.members[b] * m]
                                        * free.inverse_norms[free.members[a]]
                                        * free.inverse_norms[free.members[b]])
    rank = factor_hessian(free.sub_gram, free.factor, s, 1.0, free.pivots,
                          work) if s > 0 else 0
    for a in range(rank):
        b = free.members[free.pivots[a] - 1]
        free.basis[a] = free.features[b]
        free.basis_scale[a] = free.inverse_norms[b]
    free.n_members = s
    free.rank = rank


cdef inline double* project_off_free(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, double* v, double* weighted_v, double* grad, const floating* y,
    double y_mean, const double* sw, const double* X_mean, bint center,
    const double* w, const double* lower, const double* upper,
    PenaltyWeights penalty, Residual* dual_res,
) noexcept nogil:
    """v minus its S-projection on the centred columns of a set of the free features
    (`FreeFeatures`), in free.work; its sums in `dual_res` (grad and weighted_v are
    scratch here).

    v is centred, with its sums in dual_res (with Gram storage v is the gradient
    Xc^T S R, and the result is the gradient at the projection). The set: the features free either way,
    those strictly inside their one finite bound, and, grown until none is left, those
    at it whose gradient at the projection points out of it. A dual point built from
    the result then meets every free feature's constraint: x_j^T theta = 0 in the set,
    pointing back into the bound outside it. For w's residual R near the optimum this
    is the residual of w with the free coefficients inside their bounds solved
    exactly, so the gap closes there, and is a bound on w's suboptimality everywhere,
    where the 1-D decreases of the free features are not (a fista fit with a zero
    penalty factor stopped 1.6e4 times its target above the optimum)."""
    cdef FreeFeatures* free = penalty.free
    cdef Py_ssize_t i, a, u, size = 0, n_outside
    cdef Py_ssize_t m = free.count
    cdef int one = 1, info = 0, rank
    cdef char* lower_triangle = b"L"
    cdef double* projected = free.work
    cdef double* delta = &free.work[n]
    cdef double shift
    cdef Residual v_sums = dual_res[0]
    cdef bint grown
    cdef double bound
    for a in range(m):
        u = free.features[a]
        free.chosen[a] = lower == NULL or (lower[u] == -INFINITY and upper[u] == INFINITY)
        if not free.chosen[a]:
            # inside its one finite bound, beyond rounding: float32 X's coefficients
            # are rounded to float32 at the end, which can leave one a hair inside a
            # bound float32 cannot hold (0.7 -> 0.69999999); projected off, its
            # gradient pushing against the bound would keep the gap open
            bound = lower[u] if lower[u] != -INFINITY else upper[u]
            free.chosen[a] = (lower[u] < w[u] < upper[u]
                              and fabs(w[u] - bound) > 1e-6 * fabs(bound))
        size += free.chosen[a]
    while True:
        factor_free_set(free, size, &free.work[n + m])
        rank = free.rank
        memcpy(projected, v, n * sizeof(double))
        if rank > 0:
            # delta = G_B^-1 Xc_B^T S v, then v - Xc_B delta (Xc delta = X delta -
            # 1 (X_mean . delta)); with Gram storage v is the gradient Xc^T S R (its
            # entries on B are Xc_B^T S R) and the same moves of Q's columns give the
            # gradient at the projection
            if storage == GRAM:
                for a in range(rank):
                    delta[a] = v[free.basis[a]] * free.basis_scale[a]
            else:
                centred_gradient(X_data, X_indices, X_indptr, storage, n, v, sw,
                                 weighted_v, X_mean, center, v_sums.weighted_sum,
                                 free.basis, rank, grad)
                for a in range(rank):
                    delta[a] = grad[free.basis[a]] * free.basis_scale[a]
            # (the factor is of D G_B D, D = diag(basis_scale): G_B^-1 = D (D G_B D)^-1 D)
            dpotrs(lower_triangle, &rank, &one, free.factor, &free.n_members, delta,
                   &rank, &info)
            for a in range(rank):
                delta[a] *= free.basis_scale[a]
            shift = 0.0
            for a in range(rank):
                u = free.basis[a]
                col_axpy(X_data, X_indices, X_indptr, storage, n, u, -delta[a], projected)
                if center:
                    shift += X_mean[u] * delta[a]
            if center:
                for i in range(n):
                    projected[i] += shift
        if storage == GRAM:
            # the projection takes off ||P R||^2 = delta . Xc_B^T S R from ||R||^2, and
            # delta . Xc_B^T S yc (y's entries on B) from R . yc
            dual_res.norm2 = v_sums.norm2
            dual_res.dot_y = v_sums.dot_y
            for a in range(rank):
                dual_res.norm2 -= delta[a] * v[free.basis[a]]
                dual_res.dot_y -= delta[a] * y[free.basis[a]]
        else:
            residual_summaries(n, projected, y, y_mean, sw, center, dual_res)
        if size == m:
            return projected
        # the ones at their bound: their gradient must point back into it
        if storage == GRAM:
            for a in range(m):
                grad[free.features[a]] = projected[free.features[a]]
        else:
            n_outside = 0
            for a in range(m):
                if not free.chosen[a]:
                    free.outside[n_outside] = free.features[a]
                    n_outside += 1
            centred_gradient(X_data, X_indices, X_indptr, storage, n, projected, sw,
                             weighted_v, X_mean, center, dual_res.weighted_sum,
                             free.outside, n_outside, grad)
        grown = False
        for a in range(m):
            u = free.features[a]
            if not free.chosen[a] and is_unbounded_direction(grad[u], lower[u], upper[u]):
                free.chosen[a] = True
                size += 1
                grown = True
        if not grown:
            return projected



cdef inline double gap_at_vector(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, const floating* y, double y_mean, const double* sw,
    const double* X_mean, bint center, const double* norm2,
    const double* w, double* v, double* weighted_v, double* grad,
    PenaltyWeights penalty, const double* lower, const double* upper,
    const feature_t* active, Py_ssize_t n_active, GapKind kind,
    double residual_norm2, Residual* dual_res, double* dual_scale,
) noexcept nogil:
    """The gap of w against the dual point built from the vector v (re-centred in place):
    w's own residual (then pass residual_norm2 < 0), or e.g. an extrapolated one, with
    `residual_norm2` = ||R||_S^2 of w's residual. Fills grad on the active set and the
    sums of v in `dual_res`. With free features (`project_off_free`) the dual point is
    built from v's projection off their columns, and grad is taken there."""
    cdef Residual projected_res
    cdef Residual* dual = dual_res
    residual_summaries(n, v, y, y_mean, sw, center, dual_res)
    if residual_norm2 < 0.0:
        residual_norm2 = dual_res.norm2
    if penalty.free != NULL and kind != GAP_NONE:
        # (dual_res keeps v's sums: the callers track their residual with them)
        projected_res = dual_res[0]
        dual = &projected_res
        v = project_off_free(X_data, X_indices, X_indptr, storage, n, v, weighted_v, grad,
                             y, y_mean, sw, X_mean, center, w, lower, upper, penalty,
                             dual)
    centred_gradient(X_data, X_indices, X_indptr, storage, n, v, sw, weighted_v, X_mean,
                     center, dual.weighted_sum, active, n_active, grad)
    return duality_gap(n_active, active, w, grad, penalty, lower, upper, norm2,
                       residual_norm2, dual.norm2, dual.dot_y, kind, dual_scale)


cdef inline double compute_gap(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, const floating* y, double y_mean, const double* sw,
    const double* X_mean, bint center, const double* norm2,
    const double* w, double* q, double* weighted_q, double* grad,
    PenaltyWeights penalty, const double* lower, const double* upper,
    const feature_t* active, Py_ssize_t n_active, GapKind kind,
    Residual* res, double* dual_scale,
) noexcept nogil:
    """Refresh the residual sums and the centred gradient on the active set; return the
    gap with the dual point built from the residual itself."""
    cdef Py_ssize_t j, f
    cdef double w_dot_xty = 0.0, w_dot_grad = 0.0
    cdef Residual dual
    cdef double* gradient
    if storage == GRAM:
        # q is the gradient Xc^T S R and y is Xc^T S yc, so with Q w = y - q:
        # ||R||^2 = ||yc||^2 - 2 w.y + w.Q w and R.yc = ||yc||^2 - w.y
        for j in range(n):
            w_dot_xty += w[j] * y[j]
            w_dot_grad += w[j] * q[j]
        res.norm2 = res.y_norm2 - w_dot_xty - w_dot_grad
        res.dot_y = res.y_norm2 - w_dot_xty
        res.weighted_sum = 0.0
        dual = res[0]
        gradient = q
        if penalty.free != NULL and kind != GAP_NONE:
            # the dual point from R projected off free columns (see `project_off_free`)
            gradient = project_off_free(X_data, X_indices, X_indptr, storage, n, q,
                                        weighted_q, grad, y, y_mean, sw, X_mean, center,
                                        w, lower, upper, penalty, &dual)
        for f in range(n_active):
            grad[active[f]] = gradient[active[f]]
        return duality_gap(n_active, active, w, grad, penalty, lower, upper, norm2,
                           res.norm2, dual.norm2, dual.dot_y, kind, dual_scale)
    return gap_at_vector(X_data, X_indices, X_indptr, storage, n, y, y_mean, sw, X_mean,
                         center, norm2, w, q, weighted_q, grad, penalty, lower, upper,
                         active, n_active, kind, -1.0, res, dual_scale)


cdef inline bint affine_combination(double* gram, int depth, double* c) noexcept nogil:
    """The weights c, sum c = 1, minimising c^T G c for the Gram matrix G of `depth`
    differences of iterates (Anderson / dual extrapolation): c = G^-1 1 / (1^T G^-1 1).

    G is overwritten. A tiny ridge keeps nearly collinear differences (close to
    convergence) solvable. Returns False when G is zero or the system is singular.
    """
    cdef int a, b, k, row, pivot_row
    cdef double t, trace = 0.0, total = 0.0
    for a in range(depth):
        trace += gram[a * depth + a]
    if not trace > 0.0:
        return False
    for a in range(depth):
        gram[a * depth + a] += 1e-10 * trace
        c[a] = 1.0
    # Gaussian elimination with partial pivoting on G c = 1
    for k in range(depth):
        pivot_row = k
        for row in range(k + 1, depth):
            if fabs(gram[row * depth + k]) > fabs(gram[pivot_row * depth + k]):
                pivot_row = row
        if gram[pivot_row * depth + k] == 0.0:
            return False
        if pivot_row != k:
            for b in range(depth):
                t = gram[k * depth + b]
                gram[k * depth + b] = gram[pivot_row * depth + b]
                gram[pivot_row * depth + b] = t
            t = c[k]
            c[k] = c[pivot_row]
            c[pivot_row] = t
        for row in range(k + 1, depth):
            t = gram[row * depth + k] / gram[k * depth + k]
            for b in range(k, depth):
                gram[row * depth + b] -= t * gram[k * depth + b]
            c[row] -= t * c[k]
    for k in range(depth - 1, -1, -1):
        t = c[k]
        for b in range(k + 1, depth):
            t -= gram[k * depth + b] * c[b]
        c[k] = t / gram[k * depth + k]
    for k in range(depth):
        total += c[k]
    if total == 0.0 or total != total:
        return False
    for k in range(depth):
        c[k] /= total
    return True


cdef inline bint extrapolate_residual(
    Py_ssize_t n, int depth, const double* ring, int newest, const double* sw,
    bint center, double* out,
) noexcept nogil:
    """Dual extrapolation (Massias, Gramfort & Salmon 2018, celer): from the last depth + 1
    residuals r_0 .. r_depth of a fixed-point iteration (CD sweeps over one set of
    features), the affine combination sum_k c_k r_(k+1), sum c = 1, that cancels the
    differences r_(k+1) - r_k best in the least-squares sense. Near convergence the
    iteration is linear and this lands much closer to the optimal residual than the last
    iterate, hence a much better dual point. `ring` holds depth + 1 rows of n, the newest
    at row `newest`. Differences are taken after centring when fitting an intercept.
    Writes `out` and returns True, or False when the system is too ill-conditioned.
    """
    cdef int a, b, k
    cdef Py_ssize_t i
    cdef double s, acc
    cdef double gram[MAX_DEPTH * MAX_DEPTH]
    cdef double sums[MAX_DEPTH]
    cdef double z[MAX_DEPTH]
    cdef const double* rows[MAX_DEPTH + 1]
    if depth < 1 or depth > MAX_DEPTH:
        return False
    for k in range(depth + 1):
        rows[k] = &ring[((newest - depth + k) % (depth + 1) + depth + 1) % (depth + 1) * n]
    for a in range(depth):
        acc = 0.0
        if center:
            for i in range(n):
                acc += (sw[i] if sw != NULL else 1.0) * (rows[a + 1][i] - rows[a][i])
        sums[a] = acc
    for a in range(depth):
        for b in range(a, depth):
            acc = 0.0
            for i in range(n):
                s = sw[i] if sw != NULL else 1.0
                acc += s * (rows[a + 1][i] - rows[a][i]) * (rows[b + 1][i] - rows[b][i])
            # <P d_a, P d_b>_S with P the weighted centring (the weights sum to n)
            acc -= sums[a] * sums[b] / n
            gram[a * depth + b] = acc
            gram[b * depth + a] = acc
    if not affine_combination(gram, depth, z):
        return False
    for i in range(n):
        acc = 0.0
        for k in range(depth):
            acc += z[k] * rows[k + 1][i]
        out[i] = acc
    return True


cdef inline Py_ssize_t screen(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, const double* X_mean, bint center, const double* norm2,
    double* w, double* q, const double* grad, PenaltyWeights penalty,
    feature_t* active, Py_ssize_t n_active, double gap, double dual_scale, Residual* res,
) noexcept nogil:
    """Gap-safe rule (Fercoq et al. 2015, Ndiaye et al. 2017): drop features provably zero.

    The dual is 1-strongly concave, so the optimal dual point lies within sqrt(2 gap) of the
    current one; feature j is zero at the optimum when even the worst point in that ball
    satisfies |x_j^T theta| < l1_j. Returns the new size of the active set.
    """
    cdef Py_ssize_t f, j, kept = 0
    # (l1 - |v|)^2 > 2 gap (norm2 + l2) with l1 > |v| is the test against the radius
    # sqrt(2 gap) sqrt(norm2 + l2), without a square root per feature
    cdef double radius2 = 2.0 * gap if gap > 0.0 else 0.0
    cdef double margin, l1, l2
    for f in range(n_active):
        j = active[f]
        l1 = l1_weight(penalty, j)
        l2 = l2_weight(penalty, j)
        margin = l1 - fabs(dual_scale * (grad[j] - l2 * w[j]))
        if l1 > 0.0 and margin > 0.0 and margin * margin > radius2 * (norm2[j] + l2):
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
    int storage, int n, Py_ssize_t p, const floating* y, const double* w, double* q,
) noexcept nogil:
    """q = y - X w, computed afresh."""
    cdef Py_ssize_t i, j
    for i in range(n):
        q[i] = y[i]
    for j in range(p):
        if w[j] != 0.0:
            col_axpy(X_data, X_indices, X_indptr, storage, n, j, -w[j], q)


cdef inline bint round_to_float32(
    double* w, Py_ssize_t p, PenaltyWeights penalty, const double* lower,
    const double* upper, double* penalty_change,
) noexcept nogil:
    """Round w in place to float32 values. The engines keep float64 coefficients for
    float32 X (CD and Anderson on float32 iterates stall on their rounding: paths took
    up to 1.7x the epochs of float64 ones); what they return, in the dtype of X, is
    rounded and certified as rounded. A value rounded across its bound (0.3 ->
    0.30000001 over an upper bound of 0.3) takes the float32 next to it inside (0 is
    one, so there is always one). Adds the change of the penalty to `penalty_change`
    (unless NULL); returns whether any coefficient changed."""
    cdef Py_ssize_t j
    cdef double rounded
    cdef float single
    cdef bint changed = False
    for j in range(p):
        single = <float> w[j]
        if lower != NULL:
            if single > upper[j]:
                single = nextafterf(single, -INFINITY)
            elif single < lower[j]:
                single = nextafterf(single, INFINITY)
        rounded = <double> single
        if rounded != w[j]:
            if penalty_change != NULL:
                penalty_change[0] += (
                    l1_weight(penalty, j) * (fabs(rounded) - fabs(w[j]))
                    + 0.5 * l2_weight(penalty, j) * (rounded * rounded - w[j] * w[j]))
            w[j] = rounded
            changed = True
    return changed


cdef inline bint rounding_floor_reached(
    double gap_before, double gap_rounded, double tol_abs, int* misses,
) noexcept nogil:
    """Whether float32 rounding keeps the coefficients from the target for good: the
    gap before rounding within a quarter of the target and the rounded one over it,
    ROUNDING_MISSES times. A coefficient held at a bound float32 cannot hold is
    rounded inside, which costs the objective its gradient times one ulp, a floor the
    iterations cannot lower (tol=1e-8 on small float32 problems: 20000 iterations and
    a ConvergenceWarning all the same)."""
    if gap_before <= 0.25 * tol_abs and gap_rounded > tol_abs:
        misses[0] += 1
    return misses[0] >= ROUNDING_MISSES


# Cancelled calls (`cancel_call`): a signal reaches only the main thread, so the loops
# of a call's tasks in worker threads (cross-validation folds, resamples) learn of a
# Ctrl-C through the call's slot. A task ties its thread to its call (`set_task_call`);
# loops outside tasks see only signals. Slots are per call id modulo CALL_SLOTS, so a
# call never cancels another's tasks. (One table per extension module.)
cdef extern from *:
    """
    #if defined(_MSC_VER)
    #define FASTPEN_THREAD_LOCAL __declspec(thread)
    #else
    #define FASTPEN_THREAD_LOCAL __thread
    #endif
    #define FASTPEN_CALL_SLOTS 1024
    static volatile long fastpen_cancelled_calls[FASTPEN_CALL_SLOTS];
    static FASTPEN_THREAD_LOCAL long fastpen_task_call = 0;
    static void fastpen_cancel_call(long call) {
        fastpen_cancelled_calls[call % FASTPEN_CALL_SLOTS] = call;
    }
    static void fastpen_set_task_call(long call) { fastpen_task_call = call; }
    static int fastpen_task_cancelled(void) {
        long call = fastpen_task_call;
        return call > 0 && fastpen_cancelled_calls[call % FASTPEN_CALL_SLOTS] == call;
    }
    """
    void fastpen_cancel_call(long call) noexcept nogil
    void fastpen_set_task_call(long call) noexcept nogil
    bint fastpen_task_cancelled() noexcept nogil


cdef struct Progress:
    double d_w_max  # largest coefficient change of the last sweep
    double w_max  # largest coefficient after it
    Py_ssize_t work  # matrix entries touched since the last interrupt check


cdef inline int check_interrupt(Progress* progress) except -1 nogil:
    """Let Ctrl-C through every INTERRUPT_CHECK_WORK matrix entries (raises
    KeyboardInterrupt), and the cancellation of this thread's task's call."""
    if progress.work >= INTERRUPT_CHECK_WORK:
        progress.work = 0
        if fastpen_task_cancelled():
            with gil:
                PyErr_SetNone(KeyboardInterrupt)
                return -1
        with gil:
            PyErr_CheckSignals()
    return 0



cdef inline GapKind gap_kind(Py_ssize_t p, PenaltyWeights penalty) noexcept nogil:
    """Which dual certifies the penalty: any l1 > 0, else any l2 > 0, else none.
    Every feature unpenalized by its factors (not a uniform alpha = 0, which keeps
    scikit-learn's rule): the exact dual of least squares, from the residual projected
    off their columns (`project_off_free`); its gap is the suboptimality, where the
    projected gradient's squared norm is in other units (fits stopped 8 targets above
    the optimum)."""
    cdef Py_ssize_t j
    cdef GapKind kind = GAP_NONE
    for j in range(p):
        if l1_weight(penalty, j) > 0.0:
            return GAP_L1
        if l2_weight(penalty, j) > 0.0:
            kind = GAP_L2
    if kind == GAP_NONE and penalty.zero_factors:
        # (not at alpha = 0 with some factors 0: the others are unpenalized too, and
        # not projected off; features bounded both ways need no projection: their
        # conjugates are finite, and without free ones `penalty.free` is NULL)
        return GAP_L2
    return kind


cdef inline double gap_target(
    const floating* y, Py_ssize_t n, double y_mean, const double* sw, double tol,
) noexcept nogil:
    """scikit-learn's target tol * ||yc||_S^2, floored at what the residual's rounding can
    certify: with a constant y the target is 0 (scikit-learn's issue #20144) and the
    fit must still converge. (The residual is float64 whatever the dtype of y.)"""
    cdef Py_ssize_t i
    cdef double s, target = 0.0, y_absmax = 0.0
    cdef double eps = 2.220446049250313e-16
    for i in range(n):
        s = sw[i] if sw != NULL else 1.0
        target += s * (y[i] - y_mean) * (y[i] - y_mean)
        y_absmax = max(y_absmax, fabs(y[i]))
    return max(tol * target, n * (4.0 * eps * y_absmax) ** 2)
