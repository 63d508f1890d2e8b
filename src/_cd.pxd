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
from libc.string cimport memcpy, memset
from cpython.mem cimport PyMem_RawFree, PyMem_RawMalloc, PyMem_RawRealloc
from scipy.linalg.cython_blas cimport dgemm, dgemv, dsyrk, dtrsv
from scipy.linalg.cython_lapack cimport dpotrs

from _columns cimport (
    index_t, feature_t, Storage, DENSE, SPARSE, GRAM, col_dot_weighted, col_axpy,
    col_size, centred_products,
)
from _penalty cimport (
    GapKind, GAP_L1, PenaltyWeights, l1_weight, l2_weight, prox_coordinate, duality_gap,
    grows_unpenalized,
)
from _engine_common cimport (
    Residual, Progress, compute_gap, gap_at_vector, extrapolate_residual,
    affine_combination, screen, factor_hessian,
    reset_residual, residual_summaries, check_interrupt, gap_kind, gap_target,
    round_to_float32, rounding_floor_reached,
)

cdef enum:
    # cap on the sweeps over the nonzero coefficients between two full sweeps
    MAX_SUPPORT_SWEEPS = 1000
    # residuals combined by dual extrapolation (celer's K + 1 = 6)
    EXTRAPOLATION_DEPTH = 5
    # sweeps combined by Anderson extrapolation of the coefficients (skglm's 5)
    ANDERSON_DEPTH = 5
    # largest support a Newton step is tried on (its Hessian is NEWTON_MAX_SUPPORT^2)
    NEWTON_MAX_SUPPORT = 400
    # sweeps over one support before its first Newton step, whatever its size
    NEWTON_MIN_SWEEPS = 10
    # ... and of more than n_support / NEWTON_SWEEP_DIVISOR (the Hessian costs n_support / 2)
    NEWTON_SWEEP_DIVISOR = 2
    # ... n_support / NEWTON_DENSE_DIVISOR for dense X, whose Hessian is one BLAS-3 call
    NEWTON_DENSE_DIVISOR = 8
    # outcomes of a Newton step: not taken; taken up to a coefficient that left the
    # support (or a bound); taken whole
    NEWTON_REFUSED = 0
    NEWTON_PARTIAL = 1
    NEWTON_FULL = 2
    # Newton steps in a row while each zeroes coefficients (riboflavin's supports of
    # 60 to 70 features take up to a dozen: its path without intercept took 158 ms
    # with 4, 90 ms with 40)
    NEWTON_ATTEMPTS = 40
    # a sweep count the sweeps over a support never reach
    NEVER = MAX_SUPPORT_SWEEPS + 1
    # features by which a support may differ from the one the last whole Newton step
    # solved, beyond s / 64, for a step to be due at once
    NEWTON_NEAR_SUPPORT = 4
    # restricted phases started again on the support and the violators, per solve
    # (after that, every feature is swept)
    MAX_WIDENINGS = 4


cdef struct NewtonSpace:
    # the Newton step's work space, grown to the supports it is tried on (2 s^2 + 7 s
    # doubles), so that a cap meant for the odd large support costs nothing until then
    double* data
    Py_ssize_t size
    # the support the last whole Newton step solved (a bit set of p bits, or NULL, and
    # its size, 0 for none), kept from one alpha of a path to the next
    unsigned char* solved
    Py_ssize_t solved_size
    # whether that step was taken at the current alpha
    bint solved_here
    # the Hessian of the last Newton step on gathered dense columns (of one engine
    # call), for the next: products[a + b * cache_cap] = x_a^T S x_b (uncentred) for
    # the features in slots a and b, the n_slots features of that step's support.
    # Along a path supports change a few features at a time, so a step computes the
    # products of its new columns only (`gathered_products`). slot_of: p entries (-1:
    # not kept) or NULL; feature_in_slot: cache_cap entries
    double* products
    feature_t* slot_of
    feature_t* feature_in_slot
    Py_ssize_t n_slots
    Py_ssize_t cache_cap


cdef inline void forget_allocations(NewtonSpace* space) noexcept nogil:
    """No memory held (after it was freed, or before any)."""
    space.data = NULL
    space.size = 0
    space.products = NULL
    space.slot_of = NULL
    space.feature_in_slot = NULL
    space.n_slots = 0
    space.cache_cap = 0


cdef inline void init_newton_space(NewtonSpace* space) noexcept nogil:
    """An empty work space (no memory yet) and no solved support."""
    forget_allocations(space)
    space.solved = NULL
    space.solved_size = 0
    space.solved_here = False


cdef inline void free_newton_space(NewtonSpace* space) noexcept nogil:
    """Free what the Newton steps allocated (the solved mask belongs to the caller)."""
    PyMem_RawFree(space.data)
    PyMem_RawFree(space.products)
    PyMem_RawFree(space.slot_of)
    PyMem_RawFree(space.feature_in_slot)
    forget_allocations(space)


cdef inline Py_ssize_t bit_set_bytes(Py_ssize_t p) noexcept nogil:
    """The bytes of a set of p features kept as bits (a flag per byte would be 0.1 MB
    for p = 100000, a share of a wide fit's memory)."""
    return (p + 7) // 8


cdef inline bint in_bit_set(const unsigned char* bits, Py_ssize_t j) noexcept nogil:
    return (bits[j >> 3] >> (j & 7)) & 1


cdef inline bint solved_before(
    const feature_t* support, Py_ssize_t n_support, const double* w,
    const NewtonSpace* space,
) noexcept nogil:
    """Whether the last whole Newton step (at this alpha or the one before) solved this
    support, or one that differs from it by at most NEWTON_NEAR_SUPPORT + s / 64
    features: along a path the supports change a few features at a time, and a
    Newton step on them is then due at once (the solution moves along the path's
    tangent, which the step follows exactly while the signs hold)."""
    cdef Py_ssize_t f, s = 0, outside = 0, differences
    if space.solved == NULL or space.solved_size == 0:
        return False
    for f in range(n_support):
        if w[support[f]] != 0.0:
            s += 1
            if not in_bit_set(space.solved, support[f]):
                outside += 1
    # |S - M| + |M - S|, with |M - S| = |M| - (s - |S - M|)
    differences = 2 * outside + space.solved_size - s
    if differences == 0 and space.solved_here:
        # solved at this alpha already: what is left is rounding, which a step again
        # would only chase
        return False
    return differences <= NEWTON_NEAR_SUPPORT + s // 64


cdef inline uint32_t xorshift(uint32_t* state) noexcept nogil:
    cdef uint32_t x = state[0]
    x ^= x << 13
    x ^= x >> 17
    x ^= x << 5
    state[0] = x
    return x


cdef inline void move_coefficient(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, const double* X_mean, bint center, Py_ssize_t j, double d,
    double* w, double* q, Residual* res,
) noexcept nogil:
    """w_j += d, with the residual q -= d x_j and its centring offset kept in step."""
    col_axpy(X_data, X_indices, X_indptr, storage, n, j, -d, q)
    if center:
        res.weighted_sum -= d * n * X_mean[j]
    w[j] += d


cdef inline void sweep(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, const double* sw, const double* X_mean, bint center,
    const double* norm2, double* w, double* q, PenaltyWeights penalty,
    const double* lower, const double* upper, const feature_t* features,
    Py_ssize_t n_features, bint random, uint32_t* rng_state, Residual* res,
    Progress* progress,
) noexcept nogil:
    """One pass of exact coordinate minimisation over `features` (cyclic or random)."""
    cdef Py_ssize_t f, j
    cdef double g, z, d, lo = -INFINITY, hi = INFINITY
    cdef double w_j, w_new
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
        w_new = prox_coordinate(z, norm2[j], l1_weight(penalty, j), l2_weight(penalty, j),
                                lo, hi)
        if w_new != w_j:
            d = w_new - w_j
            move_coefficient(X_data, X_indices, X_indptr, storage, n, X_mean, center, j,
                             d, w, q, res)
            w[j] = w_new
            progress.work += col_size(X_indptr, storage, n, j)
            if fabs(d) > progress.d_w_max:
                progress.d_w_max = fabs(d)
        if fabs(w_new) > progress.w_max:
            progress.w_max = fabs(w_new)
        progress.work += col_size(X_indptr, storage, n, j)


cdef inline Py_ssize_t all_features(
    Py_ssize_t p, const double* norm2, const double* w, const unsigned char* start_set,
    feature_t* active,
) noexcept nogil:
    """Fill `active` with the non-constant features (those in start_set or nonzero when
    a start set is given); return how many."""
    cdef Py_ssize_t j, count = 0
    for j in range(p):
        if norm2[j] > 0.0 and (start_set == NULL or start_set[j] or w[j] != 0.0):
            active[count] = j
            count += 1
    return count


cdef inline Py_ssize_t strong_set(
    const feature_t* candidates, Py_ssize_t n_candidates, const double* w,
    const double* grad, PenaltyWeights penalty, double threshold_scale, feature_t* kept,
) noexcept nogil:
    """The sequential strong rule (Tibshirani et al. 2012): of `candidates`, the nonzero
    coefficients and the zero ones with |grad_j| >= threshold_scale l1_j, written to
    `kept` (which may be `candidates` itself); returns how many."""
    cdef Py_ssize_t f, j, count = 0
    for f in range(n_candidates):
        j = candidates[f]
        if w[j] != 0.0 or fabs(grad[j]) >= l1_weight(penalty, j) * threshold_scale:
            kept[count] = j
            count += 1
    return count


cdef inline Py_ssize_t restore_features(
    Py_ssize_t p, const double* norm2, const double* w, const feature_t* reserve,
    Py_ssize_t n_reserve, feature_t* active,
) noexcept nogil:
    """Every feature back after a restricted phase: those kept in `reserve` (the ones
    the first gap did not screen) when there is one, else all non-constant ones."""
    if n_reserve > 0:
        memcpy(active, reserve, n_reserve * sizeof(feature_t))
        return n_reserve
    return all_features(p, norm2, w, NULL, active)


cdef inline double penalised_objective(
    Py_ssize_t n, const double* q, const double* sw, bint center,
    const double* w, const feature_t* features, Py_ssize_t n_features,
    PenaltyWeights penalty,
) noexcept nogil:
    """1/2 ||R||_S^2 + the penalty of the coefficients of `features` (the others are
    untouched by the caller, so they cancel from a comparison), with R the centred q."""
    cdef Py_ssize_t i, f, j
    cdef double s, total = 0.0, sq = 0.0, value = 0.0
    for i in range(n):
        s = sw[i] if sw != NULL else 1.0
        total += s * q[i] * q[i]
        sq += s * q[i]
    if center:
        total -= sq * sq / n
    value = 0.5 * total
    for f in range(n_features):
        j = features[f]
        value += (l1_weight(penalty, j) * fabs(w[j])
                  + 0.5 * l2_weight(penalty, j) * w[j] * w[j])
    return value


cdef inline bint anderson_step(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, const double* sw, bint center, const double* X_mean,
    double* w, double* q, const feature_t* support, Py_ssize_t n_support,
    const double* w_ring, const double* q_ring, const double* step_products,
    int newest, double* q_trial, double* w_trial, PenaltyWeights penalty,
    const double* lower, const double* upper, Residual* res,
) noexcept nogil:
    """Anderson extrapolation of the coefficients on a fixed support (type II, over
    the last ANDERSON_DEPTH sweeps).

    CD on a nearly singular support converges slowly but almost linearly: a sweep is
    an affine map T there. Each sweep k gives a pair, its start x_k and its end T(x_k);
    the affine combination of the last ANDERSON_DEPTH ends whose weights cancel the
    steps T(x_k) - x_k best jumps ahead. Pairs stay valid across a jump (the jump is
    only the next start), so, unlike skglm's extrapolation of a plain run of
    iterates, a step can be tried after every sweep with no restart. The jump is kept
    only when it lowers the objective, so it never hurts convergence.

    `w_ring` holds ANDERSON_DEPTH + 1 ends then as many steps T(x_k) - x_k (n_support
    each), `q_ring` the ends' residuals (n each), in slots taken in turn, and
    `step_products` the steps' products (slots a, b at a + b (ANDERSON_DEPTH + 1),
    kept by `record_iterate` as each step comes: a sweep adds ANDERSON_DEPTH of them,
    not the window's 15); `newest` is the slot of the last sweep. The residual is
    affine in w and the weights sum to 1, so the jump's residual is the same
    combination of the ends' residuals: O(depth n) where a pass over the support's
    columns costs more (dense columns: with both, P4's path took 28% less time).
    Without `q_ring` (NULL: the support's columns hold fewer entries, as sparse ones
    do) the trial residual is q moved by the support's columns instead. Returns True
    when the jump was kept (w and q are then updated).
    """
    cdef int a, b, k, slot
    cdef Py_ssize_t f, j, i
    cdef double acc, t, before, after, combined
    cdef double gram[ANDERSON_DEPTH * ANDERSON_DEPTH]
    cdef double z[ANDERSON_DEPTH]
    cdef const double* ends[ANDERSON_DEPTH]
    cdef const double* end_residuals[ANDERSON_DEPTH]
    cdef int slots[ANDERSON_DEPTH]
    cdef int depth = ANDERSON_DEPTH
    for k in range(depth):
        slot = ((newest - depth + 1 + k) % (depth + 1) + depth + 1) % (depth + 1)
        slots[k] = slot
        ends[k] = &w_ring[slot * n_support]
        end_residuals[k] = &q_ring[slot * n] if q_ring != NULL else NULL
    for a in range(depth):
        for b in range(depth):
            gram[a * depth + b] = step_products[slots[a] + slots[b] * (depth + 1)]
    if not affine_combination(gram, depth, z):
        return False
    # the trial point (kept in its box) and its residual
    if q_ring != NULL:
        for i in range(n):
            acc = 0.0
            for k in range(depth):
                acc += z[k] * end_residuals[k][i]
            q_trial[i] = acc
    else:
        memcpy(q_trial, q, n * sizeof(double))
    for f in range(n_support):
        j = support[f]
        acc = 0.0
        for k in range(depth):
            acc += z[k] * ends[k][f]
        combined = acc
        if lower != NULL:
            acc = min(max(acc, lower[j]), upper[j])
        if acc * w[j] < 0.0:
            # kept in the current orthant: on a slow linear tail the combination
            # overshoots a few small coefficients across zero, where the l1 term it
            # ignores makes the whole jump fail the objective test (P4: 7 of 230
            # jumps kept without this, 25 of 29 with it)
            acc = 0.0
        w_trial[f] = acc
        if q_ring == NULL:
            col_axpy(X_data, X_indices, X_indptr, storage, n, j, w[j] - acc, q_trial)
        elif acc != combined:
            # moved off the combination: its column corrects the residual
            col_axpy(X_data, X_indices, X_indptr, storage, n, j, combined - acc, q_trial)
    before = penalised_objective(n, q, sw, center, w, support, n_support, penalty)
    for f in range(n_support):
        t = w[support[f]]
        w[support[f]] = w_trial[f]
        w_trial[f] = t
    after = penalised_objective(n, q_trial, sw, center, w, support, n_support, penalty)
    if not after < before:
        for f in range(n_support):
            w[support[f]] = w_trial[f]
        return False
    for i in range(n):
        q[i] = q_trial[i]
    if center:
        # the running centring offset restarts from the new residual
        acc = 0.0
        for i in range(n):
            acc += (sw[i] if sw != NULL else 1.0) * q[i]
        res.weighted_sum = acc
    return True


cdef struct RingSpace:
    # the Anderson step's sweeps' ends and steps on a support, the next start and a
    # trial point ((2 ANDERSON_DEPTH + 4) doubles per feature of the support), grown to
    # the supports it serves: a fit whose supports stay small pays for them only
    double* data
    Py_ssize_t size
    # the ends' residuals (ANDERSON_DEPTH + 1 of n), for supports whose columns hold
    # more entries than they do (see `residual_ring`)
    double* residuals
    Py_ssize_t residuals_size


cdef inline bint reserve_items(
    void** data, Py_ssize_t* size, Py_ssize_t needed, size_t item_size,
) noexcept nogil:
    """Grow a work buffer (`data`, `size` items of item_size bytes) to at least
    `needed` items; its contents are not kept (each user writes it afresh). False when
    memory runs out."""
    if size[0] < needed:
        PyMem_RawFree(data[0])
        size[0] = 0
        data[0] = PyMem_RawMalloc(needed * item_size)
        if data[0] == NULL:
            return False
        size[0] = needed
    return True


cdef struct SupportLists:
    # two lists of features, `capacity` entries each, in one block: the support (the
    # nonzero coefficients, in active-set order) and the features a Newton step or the
    # path's tangent moves (a subset of it), grown with the supports: p entries each
    # would cost 0.8 MB on a p = 100000 problem whose supports stay small
    feature_t* data
    Py_ssize_t capacity


cdef inline int support_room(
    SupportLists* lists, Py_ssize_t s, feature_t** support, feature_t** chosen,
) except -1 nogil:
    """Make room in `lists` for s features, by half their size at least (a path's
    supports grow a few features at a time), keeping the support's list; point
    `support` and `chosen` at the two lists."""
    cdef Py_ssize_t capacity = lists.capacity
    cdef feature_t* data
    if capacity < s:
        capacity = max(s, capacity + capacity // 2, <Py_ssize_t> 16)
        data = <feature_t*> PyMem_RawRealloc(lists.data, 2 * capacity * sizeof(feature_t))
        if data == NULL:
            with gil:
                raise MemoryError("no memory for the lists of the support's features")
        lists.data = data
        lists.capacity = capacity
    support[0] = lists.data
    chosen[0] = &lists.data[lists.capacity]
    return 0


cdef inline Py_ssize_t count_support(
    const double* w, const feature_t* active, Py_ssize_t n_active,
) noexcept nogil:
    """How many of the `active` features have a nonzero coefficient."""
    cdef Py_ssize_t f, count = 0
    for f in range(n_active):
        if w[active[f]] != 0.0:
            count += 1
    return count


cdef inline bint reserve_ring(
    RingSpace* space, Py_ssize_t n_support, Py_ssize_t capacity,
) noexcept nogil:
    """Grow the ring to a support of n_support <= capacity features, by half its size
    at least (along a path the supports grow a few features at a time; a new support
    starts a new ring)."""
    cdef Py_ssize_t per_feature = 2 * ANDERSON_DEPTH + 4
    cdef Py_ssize_t needed = per_feature * n_support
    if space.size < needed:
        needed = max(needed, min(per_feature * capacity, space.size + space.size // 2))
    return reserve_items(<void**> &space.data, &space.size, needed, sizeof(double))


cdef inline double* residual_ring(
    RingSpace* space, const index_t* X_indptr, int storage, int n,
    const feature_t* support, Py_ssize_t n_support,
) noexcept nogil:
    """The ring of residuals an Anderson step on `support` combines, or NULL when the
    support's columns hold no more entries than the ring would (ANDERSON_DEPTH + 1 of
    n): the jump's residual is then q moved by those columns (one scattered update per
    entry, against ANDERSON_DEPTH + 1 reads of n for the combination), so the ring
    never costs more memory than the columns it spares a pass over. 0.96 MB on P3,
    whose supports at alpha_max/10 and /100 hold fewer entries (/100: 5.3 n). In
    instructions, against the ring from 2 n entries: P3 at alpha_max/100 +1.0%, P3's
    and trump_tweets_tfidf's paths -0.1% and +0.1%; with no ring at all, P3 at
    alpha_max/1000 (supports of 16 n entries) takes +11%."""
    cdef Py_ssize_t f, entries = 0
    cdef Py_ssize_t budget = (ANDERSON_DEPTH + 1) * <Py_ssize_t> n
    for f in range(n_support):
        entries += col_size(X_indptr, storage, n, support[f])
        if entries > budget:
            if reserve_items(<void**> &space.residuals, &space.residuals_size,
                             (ANDERSON_DEPTH + 1) * <Py_ssize_t> n, sizeof(double)):
                return space.residuals
            return NULL
    return NULL


cdef inline bint reserve_newton_space(NewtonSpace* space, Py_ssize_t needed) noexcept nogil:
    """Grow the Newton work space to `needed` doubles (each step fills it afresh)."""
    return reserve_items(<void**> &space.data, &space.size, needed, sizeof(double))


cdef inline double objective_before_move(
    int storage, Py_ssize_t n, const double* q, const double* sw, bint center,
    const double* w, const feature_t* support, Py_ssize_t s, PenaltyWeights penalty,
    double* q_before,
) noexcept nogil:
    """The objective (up to terms the move leaves alone) that `newton_move` compares a
    move of the `support` coefficients with. With Gram storage q is the gradient, not
    a residual: the value is the penalty alone, and `q_before` takes the gradient on
    the support, from which newton_move gets the smooth part's exact change along d,
    -d^T q + d^T Q d / 2 = -d^T (q_before + q_after) / 2, free of the ||yc||^2-sized
    terms a value of the objective would carry."""
    cdef Py_ssize_t b, jb
    cdef double before = 0.0
    if storage != GRAM:
        return penalised_objective(n, q, sw, center, w, support, s, penalty)
    for b in range(s):
        jb = support[b]
        q_before[b] = q[jb]
        before += (l1_weight(penalty, jb) * fabs(w[jb])
                   + 0.5 * l2_weight(penalty, jb) * w[jb] * w[jb])
    return before


cdef inline bint reserve_product_cache(
    NewtonSpace* space, Py_ssize_t p, Py_ssize_t s,
) noexcept nogil:
    """Make room in `space` for the products of s columns (p: the number of
    features); False when memory runs out."""
    cdef Py_ssize_t j, k
    cdef double* products
    cdef feature_t* features
    if space.slot_of == NULL:
        space.slot_of = <feature_t*> PyMem_RawRealloc(NULL, p * sizeof(feature_t))
        if space.slot_of == NULL:
            return False
        for j in range(p):
            space.slot_of[j] = -1
    if space.cache_cap >= s:
        return True
    products = <double*> PyMem_RawRealloc(space.products, s * s * sizeof(double))
    if products == NULL:
        return False
    space.products = products
    features = <feature_t*> PyMem_RawRealloc(space.feature_in_slot, s * sizeof(feature_t))
    if features == NULL:
        return False
    space.feature_in_slot = features
    # the kept products were laid out for the smaller capacity: start again
    for k in range(space.n_slots):
        space.slot_of[space.feature_in_slot[k]] = -1
    space.n_slots = 0
    space.cache_cap = s
    return True


cdef inline int gathered_products(
    const floating* X_data, int n, Py_ssize_t p, const double* sw,
    const feature_t* support, int s, double* gathered, double* block, double* order,
    double* saved, NewtonSpace* space,
) noexcept nogil:
    """saved[a + b s] = x_a^T S x_b (uncentred) for a > b, the support's dense columns
    a and b, by BLAS-3 for the columns that were not in the support of the step before
    (whose products `space` keeps; they then keep this support's). Returns how many
    columns were new.

    `gathered` (n x s doubles) takes the columns S^1/2 x_j, new ones first, `order`
    (s) their support positions, `block` (s x s) their products."""
    cdef Py_ssize_t a, b, c, i, r, row, col
    cdef int m = 0, rows = n, fresh = 0
    cdef double plus_one = 1.0, zero = 0.0
    cdef const floating* column
    cdef char* lower_triangle = b"L"
    cdef char* transposed = b"T"
    cdef char* plain = b"N"
    cdef bint keep = reserve_product_cache(space, p, s)
    cdef Py_ssize_t cap = space.cache_cap
    if keep:
        for b in range(s):
            if space.slot_of[support[b]] < 0:
                m += 1
    else:
        m = s
    # the new columns first (in support order), then the kept ones
    for b in range(s):
        if m == s or space.slot_of[support[b]] < 0:
            order[fresh] = <double> b
            fresh += 1
    for b in range(s):
        if m < s and space.slot_of[support[b]] >= 0:
            order[fresh] = <double> b
            fresh += 1
    for c in range(s if m > 0 else 0):
        column = &X_data[<Py_ssize_t> support[<Py_ssize_t> order[c]] * n]
        if sw != NULL:
            for i in range(n):
                gathered[i + c * n] = column[i] * sqrt(sw[i])
        else:
            for i in range(n):
                gathered[i + c * n] = column[i]
    if m == s:
        # (in support order)
        dsyrk(lower_triangle, transposed, &s, &rows, &plus_one, gathered, &rows, &zero,
              saved, &s)
    else:
        for b in range(s):
            col = space.slot_of[support[b]] * cap
            for a in range(b + 1, s):
                if space.slot_of[support[a]] >= 0 and col >= 0:
                    saved[a + b * s] = space.products[space.slot_of[support[a]] + col]
        if m > 0:
            # the new columns against every column of the support
            dgemm(transposed, plain, &m, &s, &rows, &plus_one, gathered, &rows, gathered,
                  &rows, &zero, block, &m)
            for c in range(s):
                for r in range(m):
                    row = max(<Py_ssize_t> order[r], <Py_ssize_t> order[c])
                    col = min(<Py_ssize_t> order[r], <Py_ssize_t> order[c])
                    saved[row + col * s] = block[r + c * m]
    if keep:
        # the cache now holds this support, in support order
        for c in range(space.n_slots):
            space.slot_of[space.feature_in_slot[c]] = -1
        for b in range(s):
            space.slot_of[support[b]] = b
            space.feature_in_slot[b] = support[b]
            for a in range(b + 1, s):
                space.products[a + b * cap] = saved[a + b * s]
                space.products[b + a * cap] = saved[a + b * s]
        space.n_slots = s
    return m


cdef inline int newton_step(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, const double* sw, const double* X_mean, bint center,
    const double* norm2, double* w, double* q, double* scratch,
    feature_t* support, Py_ssize_t n_support, Py_ssize_t p,
    PenaltyWeights penalty, const double* lower, const double* upper,
    double* saved, double* hessian, double* step, double* moved, double* factor_work,
    int* pivots, double* gathered, NewtonSpace* space, double* work, Residual* res,
    Progress* progress,
) except -1 nogil:
    """Newton steps on a support with its signs held: the exact minimiser there.

    With the support S and the signs of w_S right, the objective restricted to them is
    a quadratic, (Xc_S^T S Xc_S + diag(l2)) w_S = Xc_S^T S yc - l1 sign(w_S), and one
    Cholesky solve lands on its minimiser, where CD on nearly collinear columns creeps
    (its contraction is 1 - the smallest eigenvalue ratio). When signs would flip (or
    bounds be crossed), the whole step with those coefficients set to zero is tried
    first, then the step up to the first crossing. A move is kept only when the
    objective drops, so a wrong support costs the solve and nothing else. A step that
    zeroes coefficients leaves a smaller support whose signs may now be right: up to
    NEWTON_ATTEMPTS steps are taken in a row, each on the Hessian of the one before
    with the zeroed rows and columns taken out (`saved` keeps it), so the columns'
    dots are computed once. Unlike the extrapolations it depends on the current point
    only, not on a history of iterates.

    A support with more features than the data's rank (CD passes through such
    supports on p >> n problems, and creeps there: the restricted problem is flat in
    the null space) has a singular Hessian. There a move along the null space of the
    columns leaves the fit as it is and lowers the l1 penalty until a coefficient
    reaches zero (`null_space_direction`); such moves repeat until the support has
    full rank, and do not count among the NEWTON_ATTEMPTS.

    `support` (compacted in place as coefficients leave) has n_support entries;
    `saved` and `hessian` hold n_support^2 doubles, `step` and `moved` n_support,
    `factor_work` 4 n_support, `pivots` n_support ints; `gathered`, n x n_support
    doubles for dense X (else NULL), takes the support's columns so that the Hessian
    is one BLAS-3 product, of the columns whose products `space` does not keep from
    the steps before (`gathered_products`; p: the number of features).
    `work` is increased by the work done, in column dots. Returns the outcome of the
    last step taken, NEWTON_PARTIAL (coefficients left the support) or NEWTON_FULL,
    or NEWTON_REFUSED when none was; the Hessian lets Ctrl-C through as the sweeps do.
    """
    cdef Py_ssize_t a, b, i, jb, kept
    cdef int s = <int> n_support, attempts = 0, fresh = 0
    cdef int outcome = NEWTON_REFUSED, result = NEWTON_REFUSED
    cdef bint null_step = False
    if n_support < 1:
        return NEWTON_REFUSED
    # the Hessian's lower triangle, in `saved`
    if storage == SPARSE:
        for i in range(n):
            scratch[i] = 0.0
    if gathered != NULL:
        # S^1/2 X_S in one block, and its Gram matrix by BLAS-3 (several times the
        # speed of the column dots: the step then pays for itself sooner), of the
        # columns the steps before did not have only
        fresh = gathered_products(X_data, n, p, sw, support, s, gathered, hessian, moved,
                                  saved, space)
        progress.work += fresh * n
        check_interrupt(progress)
    for b in range(s):
        jb = support[b]
        if gathered != NULL:
            if center:
                for a in range(b + 1, s):
                    saved[a + b * s] -= n * X_mean[support[a]] * X_mean[jb]
        else:
            # (with GRAM storage a block of Q)
            centred_products(X_data, X_indices, X_indptr, storage, n, sw, X_mean, center,
                             norm2, support, s, b, scratch, &saved[b * s])
            if storage != GRAM:
                progress.work += (s - b) * col_size(X_indptr, storage, n, jb)
                check_interrupt(progress)
        saved[b + b * s] = norm2[jb] + l2_weight(penalty, jb)
    if storage != GRAM:
        # (all of the Hessian's products, kept ones included: the epochs a path reports
        # do not depend on which products the steps before left, e.g. on how the path
        # was cut into engine calls)
        work[0] += 0.5 * s * s
    while attempts < NEWTON_ATTEMPTS:
        outcome = newton_move_once(
            X_data, X_indices, X_indptr, storage, n, sw, X_mean, center, w, q, scratch,
            support, s, penalty, lower, upper, saved, hessian, step, moved, factor_work,
            pivots, &null_step, res)
        work[0] += s + s / 6.0 * s * s / n
        if outcome != NEWTON_REFUSED:
            result = outcome
        if outcome != NEWTON_PARTIAL:
            break
        if not null_step:
            # each null-space move zeroes one of the coefficients beyond the rank, so
            # there are fewer than n_support of them: they need no cap of their own
            attempts += 1
        # take the zeroed coefficients' rows and columns out of the saved Hessian, in
        # place: each entry moves to a lower index, taken in increasing order
        kept = 0
        for b in range(s):
            if w[support[b]] != 0.0:
                moved[kept] = <double> b  # the old position of the kept b-th
                support[kept] = support[b]
                kept += 1
        for b in range(kept):
            for a in range(b, kept):
                saved[a + b * kept] = saved[<Py_ssize_t> moved[a] + <Py_ssize_t> moved[b] * s]
        s = <int> kept
        if s == 0:
            break
    return result


cdef inline double null_space_direction(
    const double* factor, int s, int rank, const double* v, const double* u,
    const double* held, double* d,
) noexcept nogil:
    """A descent direction in the null space of a singular Hessian, from its pivoted
    Cholesky factor; returns its rate of descent.

    With the pivoted H = [L1; L2] [L1; L2]^T (L1 rank x rank), the vectors
    d = [a; b] with a = -L1^-T L2^T b make H d = 0: the fit does not move, and the
    objective changes at the rate -v^T d for v minus its gradient. b = v2 - L2 L1^-1 v1
    makes that rate -||b||^2, the steepest in this parametrisation; the dependent
    coefficients flagged in `held` (one flag per row of L2) keep b = 0. `v` and `d` in
    pivoted order, `u` = L1^-1 v1."""
    cdef int one = 1, dependent = s - rank, k
    cdef double plus_one = 1.0, minus_one = -1.0, zero = 0.0, rate = 0.0
    cdef char* lower_triangle = b"L"
    cdef char* plain = b"N"
    cdef char* transposed = b"T"
    # b = v2 - L2 u
    memcpy(&d[rank], &v[rank], dependent * sizeof(double))
    dgemv(plain, &dependent, &rank, &minus_one, <double*> &factor[rank], &s, <double*> u,
          &one, &plus_one, &d[rank], &one)
    for k in range(dependent):
        if held[k] != 0.0:
            d[rank + k] = 0.0
        rate += d[rank + k] * d[rank + k]
    # a = -L1^-T L2^T b
    dgemv(transposed, &dependent, &rank, &minus_one, <double*> &factor[rank], &s,
          &d[rank], &one, &zero, d, &one)
    dtrsv(lower_triangle, transposed, plain, &rank, <double*> factor, &s, d, &one)
    return rate


cdef inline int newton_move_once(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, const double* sw, const double* X_mean, bint center,
    double* w, double* q, double* scratch, const feature_t* support, int s,
    PenaltyWeights penalty, const double* lower, const double* upper,
    const double* saved, double* hessian, double* step, double* moved,
    double* factor_work, int* pivots, bint* null_step, Residual* res,
) noexcept nogil:
    """One step of `newton_step` on the Hessian in `saved` (lower triangle), factorised
    in `hessian` (`factor_hessian`): the gradient at w, the solve (or, on a singular
    Hessian, a null-space direction), the moves. Returns NEWTON_REFUSED,
    NEWTON_PARTIAL or NEWTON_FULL; `null_step` tells whether the move was along the
    null space."""
    cdef Py_ssize_t b, jb, crossed = -1, position
    cdef int info = 0, one = 1, rank = 0, outcome
    cdef char* lower_triangle = b"L"
    cdef char* plain = b"N"
    cdef double acc, largest = 0.0
    # factor_work: dpstrf's work, then minus the gradient and the null-space direction
    # (pivoted order), L1^-1 of the gradient's pivot part, and the held flags
    cdef double* gradient = factor_work
    cdef double* direction = &factor_work[s]
    cdef double* solved = &factor_work[2 * s]
    cdef double* held = &factor_work[3 * s]
    null_step[0] = False
    for b in range(s):
        jb = support[b]
        if storage == GRAM:
            # q is the gradient itself
            acc = q[jb]
        else:
            acc = col_dot_weighted(X_data, X_indices, X_indptr, storage, n, jb, q, sw)
            if center:
                acc -= X_mean[jb] * res.weighted_sum
        # minus the gradient of the restricted objective at w
        step[b] = (acc - (l1_weight(penalty, jb) if w[jb] > 0.0 else -l1_weight(penalty, jb))
                   - l2_weight(penalty, jb) * w[jb])
        largest = max(largest, saved[b + b * s])
    rank = factor_hessian(saved, hessian, s, largest, pivots, factor_work)
    if rank == 0:
        return NEWTON_REFUSED
    # the last pivot kept below 1e-10 (a condition number beyond about 1e10): no
    # clear rank, and a solve through it would be mostly rounding. Where the rank is
    # clear the steps depend on the data, not on the rounding (weighted and
    # row-repeated fits take the same ones)
    if hessian[(rank - 1) * (s + 1)] * hessian[(rank - 1) * (s + 1)] < 1e-10 * largest:
        return NEWTON_REFUSED
    # the solves in pivoted order (moved holds the permuted right-hand side)
    for b in range(s):
        moved[b] = step[pivots[b] - 1]
    if rank < s:
        # more columns than rank: moves along the null space, each to the coefficient
        # it zeroes. While that is a dependent one, the factor still holds for the
        # others (that coefficient just stays at zero); a pivot one ends the run
        memcpy(gradient, moved, s * sizeof(double))
        memcpy(solved, gradient, rank * sizeof(double))
        dtrsv(lower_triangle, plain, plain, &rank, hessian, &s, solved, &one)
        for b in range(s - rank):
            held[b] = 0.0
        while null_space_direction(hessian, s, rank, gradient, solved, held,
                                   direction) > 0.0:
            for b in range(s):
                step[pivots[b] - 1] = direction[b]
            if take_step(X_data, X_indices, X_indptr, storage, n, sw, X_mean, center, w,
                         q, scratch, support, s, penalty, lower, upper, step, moved,
                         True, &crossed, res) == NEWTON_REFUSED:
                # flat along the null space, or a move lost in rounding
                break
            null_step[0] = True
            position = 0
            while position < s and pivots[position] - 1 != crossed:
                position += 1
            if position < rank or position == s:
                return NEWTON_PARTIAL
            held[position - rank] = 1.0
        # the Newton step on the pivot columns, the dependent ones held where they are
        memcpy(moved, gradient, rank * sizeof(double))
        for b in range(rank, s):
            moved[b] = 0.0
    dpotrs(lower_triangle, &rank, &one, hessian, &s, moved, &s, &info)
    if info != 0:
        return NEWTON_REFUSED
    for b in range(s):
        step[pivots[b] - 1] = moved[b]
    outcome = take_step(X_data, X_indices, X_indptr, storage, n, sw, X_mean, center, w,
                        q, scratch, support, s, penalty, lower, upper, step, moved,
                        False, &crossed, res)
    if outcome == NEWTON_REFUSED and null_step[0]:
        return NEWTON_PARTIAL
    if outcome != NEWTON_REFUSED:
        null_step[0] = False
    return outcome


cdef inline int take_step(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, const double* sw, const double* X_mean, bint center,
    double* w, double* q, double* scratch, const feature_t* support, int s,
    PenaltyWeights penalty, const double* lower, const double* upper,
    const double* step, double* moved, bint unbounded, Py_ssize_t* crossed,
    Residual* res,
) noexcept nogil:
    """Move along a Newton `step` (or, `unbounded`, a null-space direction) as far as
    the model holds; returns NEWTON_REFUSED, NEWTON_PARTIAL or NEWTON_FULL, and in
    `crossed` the support position of the coefficient the move stopped at (-1: none,
    or a bound)."""
    cdef Py_ssize_t b, jb, crossing = -1
    cdef double before
    # along the step the model is exact until a coefficient reaches zero (or a
    # bound): the step up to there, after which that coefficient leaves the support
    # (homotopy's move). A null-space direction has no length of its own: the
    # objective falls along it until the first crossing
    cdef double fraction = INFINITY if unbounded else 1.0
    for b in range(s):
        jb = support[b]
        if step[b] * w[jb] < 0.0 and -w[jb] / step[b] < fraction:
            fraction = -w[jb] / step[b]
            crossing = b
        if lower != NULL:
            # (an infinite bound gives an infinite fraction)
            if step[b] < 0.0 and (lower[jb] - w[jb]) / step[b] < fraction:
                fraction = (lower[jb] - w[jb]) / step[b]
                crossing = -1
            if step[b] > 0.0 and (upper[jb] - w[jb]) / step[b] < fraction:
                fraction = (upper[jb] - w[jb]) / step[b]
                crossing = -1
    crossed[0] = crossing
    if fraction <= 0.0 or fraction == INFINITY:
        return NEWTON_REFUSED
    before = objective_before_move(storage, n, q, sw, center, w, support, s, penalty,
                                   scratch)
    if fraction < 1.0 and not unbounded and newton_move(
            X_data, X_indices, X_indptr, storage, n, sw, X_mean, center, w, q, scratch,
            support, s, penalty, lower, upper, step, 1.0, -1, moved, before, res):
        # the whole step with the coefficients it would flip set to zero instead (the
        # orthant projection): all those that are leaving leave at once, where the
        # step to the first crossing takes one per step
        return NEWTON_PARTIAL
    if newton_move(X_data, X_indices, X_indptr, storage, n, sw, X_mean, center, w, q,
                   scratch, support, s, penalty, lower, upper, step, fraction, crossing,
                   moved, before, res):
        return NEWTON_FULL if fraction == 1.0 else NEWTON_PARTIAL
    return NEWTON_REFUSED


cdef inline bint newton_move(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, const double* sw, const double* X_mean, bint center,
    double* w, double* q, const double* q_before, const feature_t* support,
    int s, PenaltyWeights penalty, const double* lower,
    const double* upper, const double* step, double fraction, Py_ssize_t crossing,
    double* moved, double before, Residual* res,
) noexcept nogil:
    """Move the support's coefficients by `fraction` of the Newton `step`, keep the
    move when the objective drops below `before`, else undo it.

    Coefficients the move would take across zero stop at zero (with fraction 1, the
    orthant projection; `crossing` is the one the step to the first crossing stops
    at), and bounds clip. `q_before`: with Gram storage, the gradient before the move
    (on the support, in support order)."""
    cdef Py_ssize_t b, jb
    cdef double after, target
    cdef double d
    for b in range(s):
        jb = support[b]
        target = w[jb] + fraction * step[b]
        if b == crossing or target * w[jb] <= 0.0:
            d = -w[jb]  # exactly zero, not a rounding residue of the other sign
        else:
            d = target - w[jb]
            if lower != NULL:
                d = (min(max(w[jb] + d, lower[jb]), upper[jb]) - w[jb])
        moved[b] = d
        if d != 0.0:
            move_coefficient(X_data, X_indices, X_indptr, storage, n, X_mean, center, jb,
                             d, w, q, res)
    if storage == GRAM:
        after = 0.0
        for b in range(s):
            jb = support[b]
            after += (-0.5 * moved[b] * (q_before[b] + q[jb])
                      + l1_weight(penalty, jb) * fabs(w[jb])
                      + 0.5 * l2_weight(penalty, jb) * w[jb] * w[jb])
    else:
        after = penalised_objective(n, q, sw, center, w, support, s, penalty)
    if after < before:
        return True
    for b in range(s):
        if moved[b] != 0.0:
            move_coefficient(X_data, X_indices, X_indptr, storage, n, X_mean, center,
                             support[b], -moved[b], w, q, res)
    return False


cdef inline bint gathers_columns(
    Py_ssize_t n_support, int storage, Py_ssize_t p, size_t itemsize,
) noexcept nogil:
    """Whether the Newton step gathers the support's dense columns for a BLAS-3
    Hessian: while that block (in float64) stays under an eighth of X (of n x p items
    of `itemsize` bytes); else their dots are taken one by one."""
    return storage == DENSE and n_support * 64 <= p * <Py_ssize_t> itemsize


cdef inline Py_ssize_t newton_due_sweeps(
    Py_ssize_t n_support, int storage, int n, Py_ssize_t p, size_t itemsize,
) noexcept nogil:
    """Sweeps over a support that cost as much as its Newton step: when one is due.

    In sample space the Hessian's s^2 / 2 column dots cost about s / 2 sweeps of the
    support, and a few times less when the columns are gathered for one BLAS-3
    product (`gathers_columns`) (measured: a step due after s / 8 sweeps took P1's path from 174 to 124
    ms); with Gram storage it is a block of Q already there, and the Cholesky
    factorisation's s^3 / 6 flops cost s^2 / (6 p) sweeps (each an axpy of length p per
    coordinate). At least NEWTON_MIN_SWEEPS (NEWTON_MIN_SWEEPS / 2 on Gram): the first
    sweeps on a support still change it."""
    if storage == GRAM:
        return max(<Py_ssize_t> NEWTON_MIN_SWEEPS // 2, n_support * n_support // (6 * n))
    if gathers_columns(n_support, storage, p, itemsize):
        return max(<Py_ssize_t> NEWTON_MIN_SWEEPS, n_support // NEWTON_DENSE_DIVISOR)
    return max(<Py_ssize_t> NEWTON_MIN_SWEEPS, n_support // NEWTON_SWEEP_DIVISOR)


cdef inline int try_newton(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, Py_ssize_t p, const floating* y, double y_mean,
    const double* sw, const double* X_mean, bint center,
    const double* norm2, double* w, double* q, double* scratch,
    const feature_t* support, Py_ssize_t n_support, Py_ssize_t n_active,
    PenaltyWeights penalty, const double* lower, const double* upper,
    NewtonSpace* space, feature_t* chosen, Residual* res, Progress* progress,
    double* epochs, int* n_snapshots, int* n_iterates,
) except -1 nogil:
    """Newton steps (`newton_step`) on the nonzero coefficients of `support` (gathered
    in `chosen`: a sweep since the support was listed may have zeroed some), their
    work counted in epochs; a step taken breaks the sequences the extrapolations read.
    Returns the outcome of the last step taken (NEWTON_PARTIAL or NEWTON_FULL), or
    NEWTON_REFUSED when none was."""
    cdef Py_ssize_t f, n_chosen = 0
    cdef int result
    cdef double work = 0.0
    cdef bint gather
    cdef double* newton_space
    for f in range(n_support):
        if w[support[f]] != 0.0:
            chosen[n_chosen] = support[f]
            n_chosen += 1
    gather = gathers_columns(n_chosen, storage, p, sizeof(floating))
    if not reserve_newton_space(
            space, 2 * n_chosen * n_chosen + 7 * n_chosen + (n * n_chosen if gather else 0)):
        return NEWTON_REFUSED
    newton_space = space.data
    result = newton_step(
        X_data, X_indices, X_indptr, storage, n, sw, X_mean, center, norm2, w, q,
        scratch, chosen, n_chosen, p, penalty, lower, upper, newton_space,
        &newton_space[n_chosen * n_chosen], &newton_space[2 * n_chosen * n_chosen],
        &newton_space[2 * n_chosen * n_chosen + n_chosen],
        &newton_space[2 * n_chosen * n_chosen + 2 * n_chosen],
        # the pivots' ints, in the last n_chosen doubles (an int fits in a double)
        <int*> &newton_space[2 * n_chosen * n_chosen + 6 * n_chosen],
        &newton_space[2 * n_chosen * n_chosen + 7 * n_chosen] if gather else NULL,
        space, &work, res, progress)
    if result == NEWTON_FULL and space.solved != NULL:
        # (p bits against the step's s^2 n flops)
        memset(space.solved, 0, bit_set_bytes(p))
        space.solved_size = 0
        space.solved_here = True
        for f in range(n_support):
            if w[support[f]] != 0.0:
                space.solved[support[f] >> 3] |= <unsigned char> (1 << (support[f] & 7))
                space.solved_size += 1
    if result != NEWTON_REFUSED:
        n_snapshots[0] = 0
        n_iterates[0] = 0
        # the steps move every coefficient of the support, null-space moves by as much
        # as it takes to zero one (their columns cancel): the residual's rounding from
        # those updates is rebuilt away
        reset_residual(X_data, X_indices, X_indptr, storage, n, p, y, w, q)
        if storage != GRAM:
            residual_summaries(n, q, y, y_mean, sw, center, res)
        work += n_chosen
    # column dots (of length n; with Gram storage, the same flops) per epoch
    epochs[0] += work / n_active
    return result


cdef inline bint predict_along_path(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, const double* sw, const double* X_mean, bint center,
    double* w, double* q, double* scratch, const double* w_before,
    double factor, const feature_t* active, Py_ssize_t n_active,
    PenaltyWeights penalty, const double* lower, const double* upper,
    NewtonSpace* space, feature_t* chosen, Residual* res,
) noexcept nogil:
    """Move the warm start along the path's tangent: w += factor (w - w_before).

    On a fixed support with fixed signs the solution is affine in alpha for the lasso
    (smooth for the elastic net), so the last two solutions of a path predict the next
    one to second order where the warm start alone is first order: CD starts from a
    gap about (factor-sized step)^2 times smaller. Coefficients the move would take
    across zero stop there (the orthant is kept); new ones are not guessed. The move
    is kept only when it lowers the objective. `factor` is (alpha_{k-1} - alpha_k) /
    (alpha_{k-2} - alpha_{k-1}) for w = the solution at alpha_{k-1} and w_before the
    one at alpha_{k-2}; `chosen` takes the moved features. Returns whether it moved."""
    cdef Py_ssize_t f, j, s = 0
    cdef double before
    cdef double* step
    for f in range(n_active):
        j = active[f]
        if w[j] != 0.0 and w[j] != w_before[j]:
            chosen[s] = j
            s += 1
    if s == 0 or not reserve_newton_space(space, 2 * s):
        return False
    step = space.data
    for f in range(s):
        j = chosen[f]
        step[f] = factor * (w[j] - w_before[j])
    before = objective_before_move(storage, n, q, sw, center, w, chosen, s, penalty,
                                   scratch)
    return newton_move(X_data, X_indices, X_indptr, storage, n, sw, X_mean, center, w, q,
                       scratch, chosen, <int> s, penalty, lower, upper, step, 1.0, -1,
                       &space.data[s], before, res)


cdef inline void record_iterate(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, const double* sw, bint center, const double* X_mean,
    double* w, double* q, const feature_t* support, Py_ssize_t n_support,
    double* ring, double* w_ring, double* q_ring, double* step_products,
    double* q_trial, double* w_trial, PenaltyWeights penalty,
    const double* lower, const double* upper, bint use_extrapolation,
    bint use_anderson, int* n_snapshots, int* n_iterates, Residual* res,
) noexcept nogil:
    """After a sweep over a fixed set of features: keep the residual (dual
    extrapolation) and the sweep's end (Anderson), and once ANDERSON_DEPTH sweeps of
    the set have their start kept too, try an Anderson step (`anderson_step`) after
    every sweep. Sweeps over one set are iterates of one nearly linear map: the case
    both extrapolations are made for. `n_iterates` counts the sweeps since the set was
    last changed (0: the caller starts a new set, whose first sweep's start is not
    kept). `w_ring`: the sweeps' ends, their steps and the next sweep's start
    (n_support each); `q_ring`, `step_products`: see `anderson_step`."""
    cdef Py_ssize_t f
    cdef int slot, other, k
    cdef int depth = ANDERSON_DEPTH
    cdef double* end_row
    cdef double* step_row
    cdef double* start_row
    cdef double acc
    if use_extrapolation:
        memcpy(&ring[(n_snapshots[0] % (EXTRAPOLATION_DEPTH + 1)) * n], q,
               n * sizeof(double))
        n_snapshots[0] += 1
    if use_anderson:
        # the sweep's end and its residual, and its step from the start kept after the
        # sweep before, with that step's products with the steps since the set began
        # (its first sweep has no start kept)
        slot = n_iterates[0] % (depth + 1)
        end_row = &w_ring[slot * n_support]
        step_row = &w_ring[(depth + 1 + slot) * n_support]
        start_row = &w_ring[(2 * depth + 2) * n_support]
        for f in range(n_support):
            end_row[f] = w[support[f]]
        if q_ring != NULL:
            memcpy(&q_ring[slot * n], q, n * sizeof(double))
        if n_iterates[0] > 0:
            for f in range(n_support):
                step_row[f] = end_row[f] - start_row[f]
            for k in range(max(1, n_iterates[0] - depth + 1), n_iterates[0] + 1):
                other = k % (depth + 1)
                acc = 0.0
                for f in range(n_support):
                    acc += step_row[f] * w_ring[(depth + 1 + other) * n_support + f]
                step_products[slot + other * (depth + 1)] = acc
                step_products[other + slot * (depth + 1)] = acc
        n_iterates[0] += 1
        if n_iterates[0] > depth:
            if anderson_step(X_data, X_indices, X_indptr, storage, n, sw, center, X_mean,
                             w, q, support, n_support, w_ring, q_ring, step_products,
                             slot, q_trial, w_trial, penalty, lower, upper, res):
                # a jump breaks the run of residuals dual extrapolation reads
                n_snapshots[0] = 0
        # the next sweep's start: the jump, if one was kept
        for f in range(n_support):
            start_row[f] = w[support[f]]


cdef inline void keep_anchor(
    Py_ssize_t n, const double* q, const double* grad, const feature_t* active,
    Py_ssize_t n_active, double* anchor_q, double* anchor_grad, bint* anchor_ok,
) noexcept nogil:
    """Keep q and the gradient of the features in `active` (all of them) as the anchor
    of later gradient bounds (`features_to_check`)."""
    cdef Py_ssize_t f
    memcpy(anchor_q, q, n * sizeof(double))
    for f in range(n_active):
        anchor_grad[active[f]] = grad[active[f]]
    anchor_ok[0] = True


cdef inline Py_ssize_t features_to_check(
    Py_ssize_t n, const double* q, const double* anchor_q, const double* sw,
    bint center, const double* anchor_grad, const double* norm2, const double* w,
    PenaltyWeights penalty, double limit_factor, const feature_t* active,
    Py_ssize_t n_active, Py_ssize_t max_checked, feature_t* checked, double* grad,
) noexcept nogil:
    """The features of `active` whose gradient at q must be computed for the gap; the
    others are certified without reading their column.

    For a centred column x_j, |x_j^T S q - x_j^T S a| <= ||x_j||_S ||q - a - c||_S for
    any constant c (the mean of q - a here), so the gradient g_j at q is within
    sqrt(norm2_j) * drift of its value at the anchor a. A zero coefficient whose bound
    stays below limit_factor * l1_j cannot touch the dual point's scaling nor add to
    the gap (its conjugate term is 0): a gap over the `checked` features only is the
    gap over all of them. Its grad entry becomes that limit, an upper bound on |g_j|
    (the screening and strong rules that read it stay safe, only less sharp).

    Writes the features to check into `checked`; returns how many, or -1 when there
    would be more than max_checked (then a whole pass is cheaper; grad is partly
    overwritten, as the pass will be).
    """
    cdef Py_ssize_t i, f, j, count = 0
    cdef double s, d, total = 0.0, mean = 0.0, drift2 = 0.0, anchor_norm2 = 0.0
    cdef double limit, slack
    if center:
        for i in range(n):
            s = sw[i] if sw != NULL else 1.0
            total += s
            mean += s * (q[i] - anchor_q[i])
        mean /= total
    for i in range(n):
        s = sw[i] if sw != NULL else 1.0
        d = q[i] - anchor_q[i] - mean
        drift2 += s * d * d
        anchor_norm2 += s * anchor_q[i] * anchor_q[i]
    # the rounding of the anchor's dot products, within 1e-9 ||x_j|| ||a|| whatever n
    drift2 = (sqrt(drift2) + 1e-9 * sqrt(anchor_norm2)) ** 2
    for f in range(n_active):
        j = active[f]
        limit = limit_factor * l1_weight(penalty, j)
        slack = limit - fabs(anchor_grad[j])
        if w[j] == 0.0 and slack > 0.0 and norm2[j] * drift2 < slack * slack:
            grad[j] = limit
        else:
            if count >= max_checked:
                return -1
            checked[count] = j
            count += 1
    return count


cdef inline double best_gap(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, const floating* y, double y_mean, const double* sw,
    const double* X_mean, bint center, const double* norm2,
    const double* w, double* q, double* weighted_q, double* grad, double* grad_acc,
    const double* ring, int n_snapshots, double* q_acc,
    PenaltyWeights penalty, const double* lower, const double* upper,
    const feature_t* active, Py_ssize_t n_active, GapKind kind, bint use_extrapolation,
    Residual* res, Residual* res_acc, double* dual_scale, double* scale_acc,
    bint* acc_wins, double* anchor_q, double* anchor_grad, bint* anchor_ok,
    double limit_factor, Py_ssize_t n_features_all, feature_t* checked,
) noexcept nogil:
    """The gap at w over `active` from the better of two dual points: the rescaled
    residual, and the one extrapolated from the last EXTRAPOLATION_DEPTH + 1 residuals
    in `ring`.

    When an anchor is kept (anchor_ok not NULL and set; not with extrapolation), only
    the columns that its gradient bounds do not certify are read (`features_to_check`,
    `checked`: space for n_active indices), unless they are many; a gap that reads every
    feature's column becomes the anchor."""
    cdef double gap, gap_acc
    cdef Py_ssize_t n_checked = -1
    cdef const feature_t* features = active
    if anchor_ok != NULL and anchor_ok[0]:
        # past a quarter of the columns, one pass over all of them is about as cheap
        # and renews the anchor
        n_checked = features_to_check(n, q, anchor_q, sw, center, anchor_grad, norm2, w,
                                      penalty, limit_factor, active, n_active,
                                      n_active // 4, checked, grad)
    if n_checked >= 0:
        features = checked
    gap = compute_gap(X_data, X_indices, X_indptr, storage, n, y, y_mean, sw, X_mean,
                      center, norm2, w, q, weighted_q, grad, penalty, lower, upper,
                      features, n_checked if n_checked >= 0 else n_active, kind, res,
                      dual_scale)
    if n_checked < 0 and anchor_ok != NULL and n_active == n_features_all:
        keep_anchor(n, q, grad, active, n_active, anchor_q, anchor_grad, anchor_ok)
    acc_wins[0] = False
    if use_extrapolation and n_snapshots > EXTRAPOLATION_DEPTH and extrapolate_residual(
        n, EXTRAPOLATION_DEPTH, ring, (n_snapshots - 1) % (EXTRAPOLATION_DEPTH + 1), sw,
        center, q_acc,
    ):
        gap_acc = gap_at_vector(X_data, X_indices, X_indptr, storage, n, y, y_mean, sw,
                                   X_mean, center, norm2, w, q_acc, weighted_q, grad_acc,
                                   penalty, lower, upper, active, n_active, kind,
                                   res.norm2, res_acc, scale_acc)
        if gap_acc < gap:
            acc_wins[0] = True
            return gap_acc
    return gap


cdef inline int cd_solve(
    const floating* X_data, const index_t* X_indices, const index_t* X_indptr,
    int storage, int n, Py_ssize_t p,
    const floating* y, double y_mean, const double* sw,
    const double* X_mean, bint center, const double* norm2, double y_norm2,
    double* w, double* q, double* weighted_q, double* grad, double* grad_acc,
    double* ring, double* q_acc, RingSpace* anderson_space,
    feature_t* active, SupportLists* lists, PenaltyWeights penalty,
    const double* lower, const double* upper,
    int max_iter, double tol, double tol_abs, bint random, uint32_t seed,
    bint screening, int gap_freq, double inner_ratio, bint use_extrapolation,
    bint use_anderson, Py_ssize_t settle_anderson, const unsigned char* start_set,
    double strong_ratio,
    feature_t* reserve, NewtonSpace* newton_space, Py_ssize_t newton_cap,
    bint carry, Residual* carried, bint* carried_ok,
    const double* w_before, double predict_factor,
    double* anchor_q, double* anchor_grad, bint* anchor_ok, bint round_single,
    double* gap_out, int* n_iter_out,
) except -1 nogil:
    """Run coordinate descent until the duality gap is <= tol_abs or max_iter epochs.

    Full sweeps over the non-screened features alternate with sweeps over the nonzero
    coefficients only (active-set cycling). While cycling, after every sweep (once
    ANDERSON_DEPTH are kept) an Anderson step extrapolates the support's coefficients
    (kept only when it lowers the objective): always with `use_anderson`, or, with
    `settle_anderson` > 0, on supports of at most that many features (`anderson_space`,
    grown as needed: their sweeps' ends and steps, a start, and the ends' residuals
    where a support's columns hold more entries than they do).
    With `use_extrapolation` the residuals are kept for dual extrapolation: each gap
    check takes the better of the rescaled residual and the extrapolated one as dual
    point, and gap-safe screening uses that point.

    `start_set` (a mask, or NULL) restricts the first phase to those features and the
    nonzero ones; once that restricted problem converges, every feature comes back and
    only the full gap certifies, so a wrong start set costs time, never correctness.
    When that full gap fails, the strong rule on its gradient (of every feature) makes
    a new start set, up to MAX_WIDENINGS times.
    `strong_ratio` > 0 (alpha_prev / alpha along a path, with `reserve` a buffer of p
    indices) builds such a start set here, by the sequential strong rule (Tibshirani
    et al. 2012) on the gradient at the warm start: a zero coefficient with
    |g_j| < l1_j (2 - strong_ratio) waits. That gradient comes from the first full gap,
    which also screens, so the features coming back later are the unscreened ones kept
    in `reserve`. Returns 1 when converged, 0 otherwise; raises KeyboardInterrupt on
    Ctrl-C.

    A support that CD settles slowly (nearly collinear columns) gets a Newton step
    (`newton_step`) once the sweeps spent on it cost as much as its Hessian, when it has
    at most `newton_cap` features (0 for none; `newton_space` grows as needed, the
    caller frees it), or at once when it is within a few
    features of the support the last whole Newton step solved (`solved_before`).

    With `round_single` (the coefficients are returned in float32) each certified
    result is rounded to float32 first (`round_to_float32`), and its gap is the rounded
    coefficients'.

    With `anchor_ok` (or NULL) a residual and the gradient of every feature at it
    (`anchor_q`, `anchor_grad`; kept from one call to the next along a path) bound
    the gradient later: a gap over every feature reads only the columns the bounds do
    not certify (`best_gap`). Without box constraints and with a true l1 dual
    only.

    `w_before` (or NULL), the solution at the alpha before the one w solves, and
    `predict_factor` start this alpha from the path's tangent (`predict_along_path`),
    after the first gap, its screening and the strong rule have read the warm start.

    Along a path the gradient that certified one alpha is the first one the next
    needs (same coefficients): with `carry`, a solve that ends with the gradient of
    every feature in `grad` says so in `carried_ok`, with the sums of the vector it
    was taken against in `carried`; a solve called with `carried_ok` set starts from
    them instead of a pass over X. (The restricted phase then ends on every feature,
    not only the ones the first gap did not screen, so that its last gradient covers
    all of them: it costs the screened features' columns, and saves a whole pass.)
    """
    cdef Py_ssize_t f, j, n_active = 0, n_support, n_features_all = 0
    # the support's features, and the ones a Newton step or the tangent moves (in
    # `lists`, which grows with the supports)
    cdef feature_t* support = NULL
    cdef feature_t* chosen = NULL
    cdef Residual certified
    cdef int full_sweeps_on_support = 0
    cdef bint anderson_here
    cdef double* w_ring = NULL
    cdef double* w_trial = NULL
    cdef double* q_ring = NULL
    cdef Py_ssize_t newton_at
    cdef int outcome
    # coordinate changes this small against the largest coefficient are rounding (the
    # coefficients are float64 for float32 X too: see `round_to_float32`)
    cdef double rounding = 16.0 * 2.220446049250313e-16
    cdef bint support_changed, rounded
    cdef double penalty_change = 0.0, rounded_norm2
    cdef Py_ssize_t previous_support = -1
    cdef int inner, n_iter = 0, n_full_sweeps = 0
    cdef double epochs = 0.0, inner_tol, checked_at = 0.0
    cdef bint gap_is_current = True
    cdef bint restricted = start_set != NULL
    cdef Py_ssize_t n_reserve = 0, n_restricted
    cdef int n_widenings = 0
    cdef double threshold_scale = 2.0 - strong_ratio
    cdef bint screening_allowed
    cdef double gap, dual_scale = 1.0
    cdef Progress progress
    cdef uint32_t rng_state = seed if seed != 0 else 1
    cdef Residual res, res_acc
    cdef double scale_acc = 1.0, primal_norm2
    cdef bint acc_wins = False
    cdef int n_snapshots = 0, n_iterates = 0
    # the products of the last Anderson steps (see record_iterate)
    cdef double anderson_products[(ANDERSON_DEPTH + 1) * (ANDERSON_DEPTH + 1)]
    cdef GapKind kind = gap_kind(p, penalty)
    cdef int converged = 0, rounding_misses = 0
    cdef double gap_before
    # whether the gap's dual point may be any vector (a true dual: l1 penalties and no
    # free unpenalized feature), so that the drifted residual still certifies
    cdef bint any_vector_dual = True
    # ... with Gram storage too (where no residual drifts, and the shortcut below
    # that keeps the drifted one does not apply)
    cdef bint true_dual
    cdef double limit_factor
    progress.work = 0
    res.y_norm2 = y_norm2
    newton_space.solved_here = False
    if penalty.free != NULL:
        # the gradient a gap leaves is then taken at the residual projected off the
        # free columns (see `project_off_free`), not at the one the next solve starts on
        carry = False

    for j in range(p):
        # zero (constant) columns cannot move the fit: their coefficient is 0
        if norm2[j] == 0.0:
            w[j] = 0.0
        # an unpenalized feature free to grow has no feasible dual rescaling: the gap is
        # then not a true gap and cannot certify that a feature is zero
        if grows_unpenalized(penalty, lower, upper, j):
            screening = False
            any_vector_dual = False
    if kind != GAP_L1:
        screening = False
        any_vector_dual = False
    true_dual = any_vector_dual
    if storage == GRAM:
        # its gap is computed from w and the gradient, no residual to drift from
        any_vector_dual = False
    # extrapolation needs a true dual (the cases where screening is allowed) and the
    # residual of the sample space (not the Gram gradient)
    use_extrapolation = use_extrapolation and screening and storage != GRAM and ring != NULL
    use_anderson = use_anderson and storage != GRAM and anderson_space != NULL
    if storage == GRAM or anderson_space == NULL:
        settle_anderson = 0
    if (lower != NULL or kind != GAP_L1 or not any_vector_dual or use_extrapolation
            or storage == GRAM):
        anchor_ok = NULL
    # a zero coefficient is left unread only while its bound stays below the strong
    # rule's threshold at the next alpha (a geometric grid's next ratio is this one's),
    # so that the bound the next strong rule reads does not widen its set
    limit_factor = (1.0 - 1e-9) * (min(1.0, 2.0 / strong_ratio - 1.0)
                                   if strong_ratio > 1.0 else 1.0)

    # q = y - X w
    reset_residual(X_data, X_indices, X_indptr, storage, n, p, y, w, q)
    n_active = all_features(p, norm2, w, start_set, active)
    if start_set == NULL:
        n_features_all = n_active
    else:
        for j in range(p):
            if norm2[j] > 0.0:
                n_features_all += 1
    screening_allowed = screening
    # the support's list is also where best_gap lists the features its bounds do not
    # certify: up to a quarter of them
    support_room(lists, n_features_all // 4 if anchor_ok != NULL else 0, &support, &chosen)
    if carry and carried_ok[0] and start_set == NULL and storage != GRAM:
        # the gradient of every feature at these coefficients, from the solve before:
        # the gap against the vector it was taken on (a valid dual point), the primal
        # from the fresh residual (whose sums the sweeps read)
        residual_summaries(n, q, y, y_mean, sw, center, &res)
        gap = duality_gap(n_active, active, w, grad, penalty, lower, upper, norm2,
                          res.norm2, carried.norm2, carried.dot_y, kind, &dual_scale)
    else:
        # also initialises the residual summaries (the centring offset) the sweeps read;
        # with an anchor, from the columns its bounds do not certify
        gap = best_gap(X_data, X_indices, X_indptr, storage, n, y, y_mean, sw, X_mean,
                       center, norm2, w, q, weighted_q, grad, grad_acc, ring, 0, q_acc,
                       penalty, lower, upper, active, n_active, kind, False, &res,
                       &res_acc, &dual_scale, &scale_acc, &acc_wins, anchor_q,
                       anchor_grad, NULL if restricted else anchor_ok, limit_factor,
                       n_features_all, support)
    carried_ok[0] = False
    if not restricted:
        if gap <= tol_abs:
            gap_out[0] = gap
            n_iter_out[0] = 0
            return 1
        if screening:
            n_active = screen(X_data, X_indices, X_indptr, storage, n, X_mean, center,
                              norm2, w, q, grad, penalty, active, n_active, gap,
                              dual_scale, &res)
        if strong_ratio > 0.0 and reserve != NULL:
            memcpy(reserve, active, n_active * sizeof(feature_t))
            n_reserve = n_active
            n_active = strong_set(reserve, n_reserve, w, grad, penalty, threshold_scale,
                                  active)
            if n_active < n_reserve:
                restricted = True
                screening = False
                gap_is_current = False
    else:
        # a gap over a restricted set certifies nothing about the others: no screening
        screening = False
    if w_before != NULL and predict_factor > 0.0:
        # after the gap and the screening of the warm start (the strong rule reads its
        # gradient, as the sequential rule is defined), a second-order start
        support_room(lists, count_support(w, active, n_active), &support, &chosen)
        if predict_along_path(X_data, X_indices, X_indptr, storage, n, sw, X_mean, center,
                              w, q, weighted_q, w_before, predict_factor, active,
                              n_active, penalty, lower, upper, newton_space, chosen,
                              &res):
            gap_is_current = False

    # `epochs` counts work in full sweeps of the active set: a sweep over s of its m
    # features adds s / m, so max_iter bounds the passes over X, whatever the mix.
    while epochs < max_iter:
        sweep(X_data, X_indices, X_indptr, storage, n, sw, X_mean, center, norm2, w, q,
              penalty, lower, upper, active, n_active, random, &rng_state, &res, &progress)
        epochs += 1.0
        n_full_sweeps += 1
        check_interrupt(&progress)
        if (
            n_full_sweeps % gap_freq == 0
            or epochs - checked_at >= gap_freq
            or progress.w_max == 0.0
            or progress.d_w_max <= tol * progress.w_max
        ):
            gap = best_gap(
                X_data, X_indices, X_indptr, storage, n, y, y_mean, sw, X_mean, center,
                norm2, w, q, weighted_q, grad, grad_acc, ring, n_snapshots, q_acc, penalty,
                lower, upper, active, n_active, kind, use_extrapolation, &res,
                &res_acc, &dual_scale, &scale_acc, &acc_wins, anchor_q, anchor_grad,
                NULL if restricted else anchor_ok, limit_factor, n_features_all, support)
            gap_is_current = True
            checked_at = epochs
            if gap <= tol_abs and restricted:
                # the restricted problem is solved: bring every feature back and let
                # the full gap decide
                restricted = False
                screening = screening_allowed
                n_active = restore_features(p, norm2, w, reserve,
                                            0 if carry else n_reserve, active)
                gap = best_gap(
                    X_data, X_indices, X_indptr, storage, n, y, y_mean, sw, X_mean,
                    center, norm2, w, q, weighted_q, grad, grad_acc, ring, n_snapshots,
                    q_acc, penalty, lower, upper, active, n_active, kind,
                    use_extrapolation, &res, &res_acc, &dual_scale, &scale_acc,
                    &acc_wins, anchor_q, anchor_grad, anchor_ok, limit_factor,
                    n_features_all, support)
                if gap > tol_abs and n_widenings < MAX_WIDENINGS:
                    # features the start set left out violate their bound: a start
                    # set again, by the strong rule on the gradient of every feature
                    # (at hand), not a sweep of every feature, then the full gap
                    # decides again (glmnet's strong-set check; P3's path: sweeps of
                    # 100000 features after the start sets of its late alphas missed
                    # a few)
                    n_widenings += 1
                    n_restricted = strong_set(active, n_active, w, grad, penalty,
                                              min(1.0, threshold_scale), active)
                    if n_restricted < n_active:
                        n_active = n_restricted
                        restricted = True
                        screening = False
                        gap_is_current = False
                        previous_support = -1
                        continue
            if gap <= tol_abs:
                # the residual was updated incrementally many times: its rounding drift
                # could fake convergence, so confirm on a fresh residual
                primal_norm2 = res.norm2
                # the sums of the vector `grad` was taken on
                certified = res
                # float32 X: the coefficients returned are float32, so they are the
                # ones certified
                penalty_change = 0.0
                gap_before = gap
                rounded = round_single and round_to_float32(w, p, penalty, lower, upper,
                                                            &penalty_change)
                reset_residual(X_data, X_indices, X_indptr, storage, n, p, y, w, q)
                if use_extrapolation or any_vector_dual:
                    # any fixed vector gives a valid dual point (the drifted residual
                    # included): only the primal changes, and no second gradient is
                    # needed. (Against the same dual point the rounding costs the gap
                    # only its second order; a dual point built again from the rounded
                    # residual would move by the first: 0.13 to 0.25 of the target on
                    # P3's last alphas.)
                    residual_summaries(n, q, y, y_mean, sw, center, &res)
                    gap += 0.5 * (res.norm2 - primal_norm2) + penalty_change
                elif rounded and true_dual:
                    # Gram storage: the same dual point, and the primal of the rounded
                    # coefficients, from Q w = y - q: ||R||^2 = ||yc||^2 - w.y - w.q
                    rounded_norm2 = y_norm2
                    for j in range(p):
                        rounded_norm2 -= w[j] * (y[j] + q[j])
                    gap += 0.5 * (rounded_norm2 - primal_norm2) + penalty_change
                else:
                    # (the gradient bounds hold on the fresh residual too: only the
                    # columns they do not certify are read again)
                    gap = best_gap(X_data, X_indices, X_indptr, storage, n, y, y_mean,
                                   sw, X_mean, center, norm2, w, q, weighted_q, grad,
                                   grad_acc, ring, 0, q_acc, penalty, lower, upper,
                                   active, n_active, kind, False, &res, &res_acc,
                                   &dual_scale, &scale_acc, &acc_wins, anchor_q,
                                   anchor_grad, anchor_ok, limit_factor, n_features_all,
                                   support)
                    certified = res
                if gap <= tol_abs:
                    converged = 1
                    if carry and n_active == n_features_all and storage != GRAM:
                        carried[0] = certified
                        carried_ok[0] = True
                    break
                if rounded and rounding_floor_reached(gap_before, gap, tol_abs,
                                                      &rounding_misses):
                    break
            if screening:
                n_active = screen(X_data, X_indices, X_indptr, storage, n, X_mean, center,
                                  norm2, w, q, grad_acc if acc_wins else grad, penalty,
                                  active, n_active, gap,
                                  scale_acc if acc_wins else dual_scale, &res)
        else:
            gap_is_current = False

        # Active-set cycling (Friedman et al. 2010): sweep only the nonzero coefficients
        # until they settle, then go back to a full sweep that lets new features in.
        # the support in active-set order, noting whether the full sweep changed it
        n_support = 0
        support_changed = False
        for f in range(n_active):
            if w[active[f]] != 0.0:
                if n_support == lists.capacity:
                    # (a longer support than any before: changed)
                    support_room(lists, n_support + 1, &support, &chosen)
                if n_support >= previous_support or support[n_support] != active[f]:
                    support_changed = True
                support[n_support] = active[f]
                n_support += 1
        support_changed = support_changed or n_support != previous_support
        previous_support = n_support
        if n_support == 0:
            continue
        if n_support == n_active:
            # no cycling: the full sweeps are the iteration on this support
            full_sweeps_on_support += 1
            if n_support <= newton_cap and (
                    full_sweeps_on_support >= newton_due_sweeps(
                        n_support, storage, n, p, sizeof(floating))
                    or solved_before(support, n_support, w, newton_space)):
                full_sweeps_on_support = 0
                try_newton(X_data, X_indices, X_indptr, storage, n, p, y, y_mean, sw,
                           X_mean, center, norm2, w, q, weighted_q, support, n_support,
                           n_active, penalty, lower, upper, newton_space, chosen,
                           &res, &progress, &epochs, &n_snapshots, &n_iterates)
                gap_is_current = False
            continue
        full_sweeps_on_support = 0
        # settle the support an order beyond the full sweep's progress, not to tol:
        # while features still enter, converging a support that will change is waste.
        # Once a full sweep leaves it as it was, the full sweeps and their gap checks
        # only slow its convergence down: settle it an order beyond its own first
        # sweep (d_w alone cannot say when to stop there: in a slow linear tail the
        # coordinate changes reach tol long before the gap does)
        inner_tol = (max(tol * progress.w_max, inner_ratio * progress.d_w_max)
                     if support_changed else -1.0)
        n_snapshots = 0
        n_iterates = 0
        # a Newton step once the sweeps have cost as much; again after a step that
        # stopped where a coefficient left (the support is then smaller, and may now be
        # right), not after a refusal (that support's Hessian stays what it was)
        newton_at = (NEVER if n_support > newton_cap
                     else 1 if solved_before(support, n_support, w, newton_space)
                     else newton_due_sweeps(n_support, storage, n, p, sizeof(floating)))
        anderson_here = ((use_anderson or n_support <= settle_anderson)
                         and reserve_ring(anderson_space, n_support,
                                          p if use_anderson else settle_anderson))
        if anderson_here:
            w_ring = anderson_space.data
            w_trial = &w_ring[(2 * ANDERSON_DEPTH + 3) * n_support]
            q_ring = residual_ring(anderson_space, X_indptr, storage, n, support,
                                   n_support)
        for inner in range(MAX_SUPPORT_SWEEPS):
            if epochs >= max_iter:
                break
            sweep(X_data, X_indices, X_indptr, storage, n, sw, X_mean, center, norm2, w,
                  q, penalty, lower, upper, support, n_support, random, &rng_state, &res,
                  &progress)
            epochs += n_support / <double> n_active
            gap_is_current = False
            check_interrupt(&progress)
            record_iterate(X_data, X_indices, X_indptr, storage, n, sw, center, X_mean,
                           w, q, support, n_support, ring, w_ring, q_ring,
                           anderson_products, q_acc, w_trial, penalty, lower, upper,
                           use_extrapolation, anderson_here, &n_snapshots, &n_iterates, &res)
            if progress.d_w_max <= rounding * progress.w_max:
                # changes at the rounding of the coefficients: settled, whatever the
                # target below says (after an exact Newton step they never shrink)
                break
            if inner_tol < 0.0:
                # the gap shrinks about as d_w^2 along a linear tail: aim at the target
                inner_tol = progress.d_w_max * min(0.8, max(
                    1e-3, 0.8 * sqrt(tol_abs / gap) if gap > tol_abs else 0.8))
            elif progress.d_w_max <= inner_tol:
                break
            if inner + 1 >= newton_at:
                newton_at = NEVER
                outcome = try_newton(
                    X_data, X_indices, X_indptr, storage, n, p, y, y_mean, sw, X_mean,
                    center, norm2, w, q, weighted_q, support, n_support, n_active,
                    penalty, lower, upper, newton_space, chosen, &res, &progress,
                    &epochs, &n_snapshots, &n_iterates)
                if outcome == NEWTON_FULL:
                    # the support's problem is solved: on to the full sweep
                    break
                if outcome == NEWTON_PARTIAL:
                    newton_at = inner + 1 + newton_due_sweeps(
                        n_support, storage, n, p, sizeof(floating))

    if not converged and restricted:
        n_active = restore_features(p, norm2, w, reserve, n_reserve, active)
        gap_is_current = False
    if not converged and round_single and round_to_float32(w, p, penalty, lower, upper,
                                                           &penalty_change):
        reset_residual(X_data, X_indices, X_indptr, storage, n, p, y, w, q)
        gap_is_current = False
    if not converged and not gap_is_current:
        gap = compute_gap(X_data, X_indices, X_indptr, storage, n, y, y_mean, sw, X_mean,
                          center, norm2, w, q, weighted_q, grad, penalty, lower, upper,
                          active, n_active, kind, &res, &dual_scale)
        converged = gap <= tol_abs
    # epochs count in fractions (support sweeps, Newton steps) and the budget is checked
    # between them: the last one's share can pass it (scikit-learn: n_iter_ <= max_iter)
    n_iter = min(<int> ceil(epochs), max_iter)
    gap_out[0] = gap
    n_iter_out[0] = n_iter
    return converged
