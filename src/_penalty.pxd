# The separable penalty shared by every engine, for one coefficient t:
#
#     h(t) = l1 * |t| + l2 / 2 * t^2 + indicator(lower <= t <= upper),   lower <= 0 <= upper
#
# with l1 = n * alpha * penalty_factor * l1_ratio and l2 = n * alpha * penalty_factor *
# (1 - l1_ratio): the engines work on the objective multiplied by n_samples (as
# scikit-learn's kernels do). Lasso, ElasticNet, Ridge, penalty factors, positive=True and
# box constraints are all values of (l1, l2, lower, upper); no engine knows which one it is
# solving. Infinite bounds are +-INFINITY.
from libc.math cimport fabs, INFINITY
from _columns cimport feature_t


cdef struct FreeFeatures:
    # the unpenalized features (l1 = l2 = 0) with an infinite bound: the conjugate of
    # one free either way is the indicator of x_j^T theta = 0, of one with a single
    # finite bound (positive=True) that of x_j^T theta <= 0 (or >= 0), with equality
    # while the coefficient is inside its bound. A gap's dual point is built from the
    # residual projected off the centred columns of a set of them (`project_off_free`
    # in _engine_common.pxd): those free either way or inside their bound, and those at
    # their bound whose gradient would point out of it.
    # `count` features in `features`; `gram`: their centred Gram matrix Xc_F^T S Xc_F
    # (lower triangle, column-major, count x count), `inverse_norms` 1 / ||xc_j||_S
    const feature_t* features
    Py_ssize_t count
    const double* gram
    const double* inverse_norms
    # the set last projected off: its members' positions in `features` (n_members of
    # them; -1 before the first gap), the lower Cholesky factor of its Gram matrix
    # scaled to a unit diagonal (`factor`, leading dimension n_members, pivoted:
    # `pivots`) of rank `rank`, and
    # the features of that basis in pivot order (`basis`, with their inverse norms in
    # `basis_scale`)
    int* members
    int n_members
    double* factor
    int* pivots
    int rank
    feature_t* basis
    double* basis_scale
    # scratch: `chosen` flags (count), `outside` features (count), `sub_gram` (count^2)
    # and `work` (n_samples + 3 count doubles: the projection, its coefficients and
    # the pivoted factorisation's work)
    char* chosen
    feature_t* outside
    double* sub_gram
    double* work


cdef struct PenaltyWeights:
    # the l1 and l2 weights of every feature at one step of a path: feature j's at
    # [j & mask], so that a uniform penalty (mask 0, the default) keeps two numbers,
    # not two vectors of p (1.6 MB on a p = 100000 problem), and a per-feature one
    # (mask -1) its vectors; a mask costs one AND where an index would be read anyway
    const double* l1
    const double* l2
    Py_ssize_t mask
    # the unpenalized features whose conjugate is an indicator a dual point must meet
    # (see `FreeFeatures`); NULL when there are none, or too many (the gap then adds
    # their 1-D decreases instead, which is not a bound)
    FreeFeatures* free
    # every penalty factor is 0 (every feature unpenalized at any alpha, not a uniform
    # alpha = 0): the gap is then least squares' exact dual (`gap_kind`)
    bint zero_factors


cdef inline double l1_weight(PenaltyWeights penalty, Py_ssize_t j) noexcept nogil:
    return penalty.l1[j & penalty.mask]


cdef inline double l2_weight(PenaltyWeights penalty, Py_ssize_t j) noexcept nogil:
    return penalty.l2[j & penalty.mask]


cdef inline bint grows_unpenalized(
    PenaltyWeights penalty, const double* lower, const double* upper, Py_ssize_t j,
) noexcept nogil:
    """Feature j has no penalty and an infinite bound: no rescaling of a dual point
    meets its conjugate's constraint (only a projection off its column does:
    `FreeFeatures`)."""
    return l1_weight(penalty, j) == 0.0 and l2_weight(penalty, j) == 0.0 and (
        lower == NULL or lower[j] == -INFINITY or upper[j] == INFINITY)


cdef inline double clip(double t, double lower, double upper) noexcept nogil:
    if t < lower:
        return lower
    if t > upper:
        return upper
    return t


cdef inline double soft_threshold(double u, double threshold) noexcept nogil:
    if u > threshold:
        return u - threshold
    if u < -threshold:
        return u + threshold
    return 0.0


cdef inline double prox_coordinate(
    double z, double curvature, double l1, double l2, double lower, double upper,
) noexcept nogil:
    """Minimise curvature/2 t^2 - z t + h(t) over t.

    With z = curvature * w_j + gradient_j this is the exact coordinate-descent update, and
    with curvature = 1/step the proximal-gradient step. Clipping after the unconstrained
    1-D minimiser is exact because the problem is convex and one-dimensional.
    """
    cdef double denominator = curvature + l2
    if denominator <= 0.0:
        return clip(0.0, lower, upper)
    return clip(soft_threshold(z, l1) / denominator, lower, upper)


cdef inline double l1_box_conjugate(
    double u, double l1, double lower, double upper,
) noexcept nogil:
    """Fenchel conjugate of l1 |t| + indicator([lower, upper]) at u, for lower <= 0 <= upper.

    An infinite bound whose side is violated gives +inf; the engines rescale the dual
    point (`dual_scale_limit`) so that this never happens, hence 0 is returned there.
    """
    if u > l1 and upper != INFINITY:
        return upper * (u - l1)
    if u < -l1 and lower != -INFINITY:
        return lower * (u + l1)
    return 0.0


cdef inline double l2_box_conjugate(
    double u, double l2, double lower, double upper,
) noexcept nogil:
    """Fenchel conjugate of l2/2 t^2 + indicator([lower, upper]) at u (l2 > 0)."""
    cdef double t = clip(u / l2, lower, upper)
    return u * t - 0.5 * l2 * t * t


cdef inline double dual_scale_limit(
    double v, double l1, double lower, double upper,
) noexcept nogil:
    """Largest k in (0, 1] such that the conjugate of l1|t| + box is finite at k * v."""
    if v > l1 and upper == INFINITY:
        return l1 / v
    if v < -l1 and lower == -INFINITY:
        return -l1 / v
    return 1.0


cdef inline bint is_unbounded_direction(double v, double lower, double upper) noexcept nogil:
    """True when the gradient v points towards an infinite bound."""
    return (v > 0.0 and upper == INFINITY) or (v < 0.0 and lower == -INFINITY)


cdef inline double projected_gradient(
    double v, double t, double lower, double upper,
) noexcept nogil:
    """Component of the descent direction v that the box lets t follow (0 at an active bound)."""
    if v > 0.0 and t >= upper:
        return 0.0
    if v < 0.0 and t <= lower:
        return 0.0
    return v


# Which dual the gap uses (chosen once per fit from the penalty's values).
cdef enum GapKind:
    GAP_L1 = 0   # some l1 > 0: the dual of the l1 problem on the data augmented by sqrt(l2) I,
                 # with the residual rescaled to be feasible (scikit-learn's formulation A)
    GAP_L2 = 1   # l1 = 0, l2 > 0: the exact dual, no rescaling needed (formulation B)
    GAP_NONE = 2 # no penalty: squared norm of the projected gradient (scikit-learn's OLS rule)


cdef inline double duality_gap(
    Py_ssize_t n_active, const feature_t* active,
    const double* w, const double* grad,
    PenaltyWeights penalty, const double* lower, const double* upper,
    const double* norm2, double residual_norm2, double dual_norm2, double dual_dot_y,
    GapKind kind, double* dual_scale,
) noexcept nogil:
    """Duality gap of the n-scaled problem 1/2 ||R||_S^2 + sum_j h_j(w_j).

    The primal value uses the residual R of w (`residual_norm2` = ||R||_S^2). The dual
    point is built from a vector V of the sample space, rescaled to be feasible: V = R
    itself, or an extrapolation of past residuals (any V gives a valid dual point).
    `grad[j]` is (Xc^T S V)_j for the features j = active[0 .. n_active-1]; features outside
    the active set are zero and provably stay zero (screened), so they do not enter.
    `dual_norm2` is ||V||_S^2 and `dual_dot_y` is V^T S yc. `lower` / `upper` are NULL when
    there are no bounds.
    Unpenalized features that could move towards an infinite bound have no feasible dual
    rescaling. The engines build the dual point off their columns (`project_off_free`
    in _engine_common.pxd), so that v is 0 or points into the bound there; only beyond
    the most free features that projection handles does v point out, and then the 1-D
    decrease v^2 / (2 (||x_j||^2 + l2_j)) still available is added instead: what a
    coordinate step can gain, not a bound on the suboptimality.
    The dual rescaling factor is written to `dual_scale` (used by gap-safe screening).
    """
    cdef Py_ssize_t f, j
    cdef double v, lo = -INFINITY, hi = INFINITY, scale = 1.0
    cdef double l1_norm = 0.0, l2_norm2 = 0.0, conjugates = 0.0, unscaled = 0.0
    cdef double primal, dual, largest_ratio, l1, l2
    # the rescaling that would meet every penalized feature's |v| <= l1, bounds or not
    cdef double inner_ratio = 1.0, inner_scale = 1.0, inner_conjugates = 0.0, inner_dual

    if kind == GAP_NONE:
        for f in range(n_active):
            j = active[f]
            if lower != NULL:
                lo = lower[j]
                hi = upper[j]
            v = projected_gradient(grad[j], w[j], lo, hi)
            unscaled += v * v
        dual_scale[0] = 1.0
        return unscaled

    if kind == GAP_L1 and lower == NULL:
        # no bounds (the common case), in a lean pass: the rescaling is
        # 1 / max(1, max_j |v_j| / l1_j), and an unpenalized feature (l1 = l2 = 0)
        # adds its 1-D decrease wherever v_j != 0 (the loop below, without its
        # per-feature bound logic; the primal and dual values are the same after)
        largest_ratio = 1.0
        for f in range(n_active):
            j = active[f]
            l1 = l1_weight(penalty, j)
            l2 = l2_weight(penalty, j)
            l1_norm += l1 * fabs(w[j])
            l2_norm2 += l2 * w[j] * w[j]
            v = fabs(grad[j] - l2 * w[j])
            if v > l1 * largest_ratio:
                if l1 > 0.0:
                    largest_ratio = v / l1
                elif l2 == 0.0 and norm2[j] > 0.0:
                    unscaled += v * v / (2.0 * norm2[j])
        scale = 1.0 / largest_ratio
    else:
        for f in range(n_active):
            j = active[f]
            l1 = l1_weight(penalty, j)
            l2 = l2_weight(penalty, j)
            l1_norm += l1 * fabs(w[j])
            l2_norm2 += l2 * w[j] * w[j]
            if lower != NULL:
                lo = lower[j]
                hi = upper[j]
            v = grad[j] - l2 * w[j] if kind == GAP_L1 else grad[j]
            if l1 == 0.0 and l2 == 0.0 and is_unbounded_direction(v, lo, hi):
                if norm2[j] > 0.0:
                    unscaled += v * v / (2.0 * norm2[j])
            elif kind == GAP_L1 and l1 > 0.0:
                scale = min(scale, dual_scale_limit(v, l1, lo, hi))
                if fabs(v) > l1 * inner_ratio:
                    inner_ratio = fabs(v) / l1

    primal = 0.5 * (residual_norm2 + l2_norm2) + l1_norm
    if kind == GAP_L1:
        # conjugate terms only arise from finite bounds; evaluate them at the scaled point
        if lower != NULL:
            inner_scale = 1.0 / inner_ratio
            for f in range(n_active):
                j = active[f]
                l1 = l1_weight(penalty, j)
                l2 = l2_weight(penalty, j)
                v = grad[j] - l2 * w[j]
                if l1 == 0.0 and l2 == 0.0 and is_unbounded_direction(v, lower[j], upper[j]):
                    continue
                conjugates += l1_box_conjugate(scale * v, l1, lower[j], upper[j])
                if l1 == 0.0 and inner_scale < scale:
                    inner_conjugates += l1_box_conjugate(inner_scale * v, 0.0, lower[j],
                                                         upper[j])
        dual = -0.5 * scale * scale * (dual_norm2 + l2_norm2) + scale * dual_dot_y - conjugates
        if lower != NULL and inner_scale < scale:
            # the point scaled inside every penalized feature's |v| <= l1 as well: there
            # their finite bounds cost nothing, where at `scale` a bound of 1e16 times
            # the rounding of v past l1 had held the gap above the target for good
            inner_dual = (-0.5 * inner_scale * inner_scale * (dual_norm2 + l2_norm2)
                          + inner_scale * dual_dot_y - inner_conjugates)
            if inner_dual > dual:
                dual = inner_dual
                scale = inner_scale
    else:
        for f in range(n_active):
            j = active[f]
            if lower != NULL:
                lo = lower[j]
                hi = upper[j]
            v = grad[j]
            l2 = l2_weight(penalty, j)
            if l2 > 0.0:
                conjugates += l2_box_conjugate(v, l2, lo, hi)
            elif not is_unbounded_direction(v, lo, hi):
                conjugates += l1_box_conjugate(v, 0.0, lo, hi)
        dual = -0.5 * dual_norm2 + dual_dot_y - conjugates
    dual_scale[0] = scale
    return primal - dual + unscaled
