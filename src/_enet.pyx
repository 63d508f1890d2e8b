"""One entry point to the engines: coordinate descent (`_cd.pxd`) and proximal gradient
(`_fista.pxd`), for every separable penalty, dense or CSC X, float32 or float64."""
import numpy as np

from cpython.mem cimport PyMem_RawFree
from cython cimport floating
from libc.math cimport sqrt
from libc.string cimport memcpy
from libc.stdint cimport uint32_t, INT32_MAX

from _columns cimport (
    index_t, feature_t, Storage, DENSE, SPARSE, GRAM, centred_products,
)
from _engine_common cimport (
    Residual, fastpen_cancel_call, fastpen_set_task_call, gap_target,
)
from _penalty cimport PenaltyWeights, FreeFeatures

from _cd cimport (
    cd_solve, NewtonSpace, RingSpace, SupportLists, init_newton_space,
    free_newton_space, bit_set_bytes,
    gathered_products,
    EXTRAPOLATION_DEPTH, ANDERSON_DEPTH, NEWTON_MAX_SUPPORT,
)
from _fista cimport prox_grad_solve

SOLVERS = ("cd", "fista", "ista")


def _work(workspace, name, shape, dtype, zeroed, kept=False):
    """A work array of this shape and dtype: the one kept in `workspace` when it fits,
    else a new one (kept there for the next call). `zeroed`: filled with zeros;
    `kept`: its contents are the call before's (zeros when new)."""
    array = None if workspace is None else workspace.get(name)
    if array is None or array.shape != shape or array.dtype != dtype:
        array = (np.zeros(shape, dtype=dtype) if zeroed or kept
                 else np.empty(shape, dtype=dtype))
        if workspace is not None:
            workspace[name] = array
    elif zeroed:
        array.fill(0)
    return array


def _kept(workspace, name, shape, dtype):
    """Whether `workspace` holds an array `name` of this shape and dtype (whose contents
    _work(..., kept=True) then hands back)."""
    array = None if workspace is None else workspace.get(name)
    return array is not None and array.shape == shape and array.dtype == dtype


# free features a gap projects off whatever the size of X: their Gram matrix, a set's
# and its factor (three times FREE_MAX^2 doubles, 6.3 MB)
FREE_MAX = 512


def free_feature_limit(Py_ssize_t data_nbytes):
    """How many free features (unpenalized, with an infinite bound) the gap projects
    off for X whose values take `data_nbytes` bytes (the buffer of a dense X, the values
    of a sparse one, or Q with Gram storage): FREE_MAX, or more while their three
    m x m matrices stay within the size of X. Beyond it the gap adds their 1-D
    decreases, which is not a bound (`solve_enet_path` warns)."""
    return max(FREE_MAX, <Py_ssize_t> sqrt(data_nbytes / (3.0 * sizeof(double))))


def free_feature_set(l1_base, l2_base, norm2, lower, upper):
    """The free features: unpenalized (both bases 0), not constant, with an infinite
    bound (`lower`/`upper` empty for none). Their columns are what the gap projects off
    (`FreeFeatures`); `solve_enet_path` warns when there are more than
    `free_feature_limit`. A uniform base that is not zero (stride-0 views) has none
    without looking at every feature."""
    l1_base, l2_base = np.asarray(l1_base), np.asarray(l2_base)
    if l1_base.size and l1_base.strides == (0,) and l2_base.strides == (0,) and (
            l1_base[0] != 0.0 or l2_base[0] != 0.0):
        return np.empty(0, dtype=np.intp)
    free = np.flatnonzero((l1_base == 0.0) & (l2_base == 0.0) & (np.asarray(norm2) > 0.0))
    if np.asarray(lower).size:
        free = free[np.isneginf(np.asarray(lower)[free]) | np.isposinf(np.asarray(upper)[free])]
    return free


cdef double[::1] _free_gram(
    const floating* data, const index_t* indices, const index_t* indptr, int storage,
    int n, const double* sw, const double* X_mean, bint center, const double* norm2,
    const feature_t[::1] free_list,
):
    """The centred Gram matrix Xc_F^T S Xc_F of the features in `free_list` (lower
    triangle, column-major), built as a Newton step's Hessian (`centred_products`)."""
    cdef int m = <int> free_list.shape[0], b
    cdef double[::1] gram = np.zeros(m * m)
    cdef double[::1] scratch = np.zeros(n if storage == SPARSE else 1)
    with nogil:
        for b in range(m):
            centred_products(data, indices, indptr, storage, n, sw, X_mean, center,
                             norm2, &free_list[0], m, b, &scratch[0], &gram[b * m])
    return gram


def enet_solve_path(
    const floating[::1] X_data,
    const index_t[::1] X_indices,
    const index_t[::1] X_indptr,
    int storage,
    Py_ssize_t n_samples,
    const floating[::1] y,
    double y_mean,
    const double[::1] sample_weight,
    const double[:] X_mean,
    const double[::1] norm2,
    bint center,
    w,
    const double[:] l1_base,
    const double[:] l2_base,
    const double[::1] scales,
    const double[::1] lower,
    const double[::1] upper,
    int max_iter,
    double tol,
    double[::1] gaps,
    int[::1] n_iters,
    unsigned char[::1] converged,
    coefs=None,
    str solver="cd",
    bint random=False,
    const uint32_t[::1] seeds=None,
    bint screening=True,
    double inner_ratio=0.1,
    bint extrapolation=False,
    bint anderson=False,
    bint settle_anderson=True,
    bint newton=True,
    double lipschitz=0.0,
    bint restart=True,
    int gap_freq=10,
    double y_norm2=0.0,
    start_set=None,
    double strong_ratio=0.0,
    dict workspace=None,
    previous_coef=None,
    const double[::1] previous_scales=None,
    bint gradient_bounds=True,
    bint continues=False,
):
    """Minimise 1/2 ||yc - Xc w||_S^2 + sum_j h_j(w_j) along a sequence of penalties.

    This is scikit-learn's elastic-net objective multiplied by n_samples, with
    h_j(t) = l1_weight[j] |t| + l2_weight[j] / 2 t^2 + indicator(lower[j] <= t <= upper[j])
    and, at step k, l1_weight = scales[k] * l1_base, l2_weight = scales[k] * l2_base.
    Each problem starts from the solution of the one before (`w` holds it). A whole
    path in one call: per alpha, what is left is the engine's own work (a call per
    alpha from Python costs more than the solve on small data).

    Parameters
    ----------
    X_data, X_indices, X_indptr : arrays
        Fortran buffer of a dense X (pass empty index arrays), or CSC arrays.
    storage : int
        0 dense, 1 sparse (CSC), 2 Gram (see `_columns.pxd`).
    n_samples : int
    y : array of shape (n_samples,)
    y_mean : float
        Weighted mean of y when centring, else 0.
    sample_weight : array of shape (n_samples,) or (0,)
        Weights summing to n_samples, or empty for unit weights.
    X_mean, norm2 : float64 arrays of shape (n_features,)
        From `fastpen._design.column_stats`. X_mean is only read when centring (it
        may then be any view, e.g. of one zero); it must be contiguous when it is.
    center : bool
        Fit an intercept (implicit centring).
    w : float64 or float32 array of shape (n_features,)
        Start point, overwritten with the solution. The engines move float64
        coefficients whatever the dtypes; float32 ones (float32 X, or a float64 Gram
        matrix of float32 X) get the float64 solution rounded to float32, each step's
        gap certifying the rounded coefficients.
    l1_base, l2_base : float64 arrays of shape (n_features,)
        Strided: a uniform one may be a view of one number (stride 0). When both
        are, the engines keep each step's weights as two numbers (`PenaltyWeights`).
    scales : float64 array of shape (n_alphas,)
        Decreasing along a path (alphas, with the bases n_samples * l1_ratio * the
        penalty factors and n_samples * (1 - l1_ratio) * the penalty factors).
    lower, upper : float64 arrays of shape (n_features,) or (0,)
        Bounds with lower <= 0 <= upper (+-inf allowed), or empty for none.
    max_iter : int
        Epochs (cd, counted in full-pass equivalents) or iterations (fista, ista).
    tol : float
        Stop when the gap is <= tol * ||yc||_S^2 (scikit-learn's rule).
    gaps : float64 array of shape (n_alphas,)
        Out: the duality gap reached at each step (n-scaled; divided by n_samples it
        is scikit-learn's dual_gap_), never below 0.
    n_iters : int array of shape (n_alphas,)
        Out: epochs (cd) or iterations (fista, ista) of each step.
    converged : uint8 array of shape (n_alphas,)
        Out: whether each step reached the target.
    coefs : array of shape (n_alphas, n_features), of the dtype of `w`, or None
        Out: each step's solution (None: only `w`, the last one, is kept).
    solver : {"cd", "fista", "ista"}
    random : bool
        cd: random instead of cyclic coordinate order.
    seeds : uint32 array of shape (n_alphas,) or None
        cd: seed of the random order of each step.
    screening : bool
        cd: gap-safe screening of features that are provably zero.
    inner_ratio : float
        cd: between full sweeps the nonzero coefficients are swept until their largest
        change is below inner_ratio times that of the last full sweep (or tol).
    extrapolation : bool
        cd: also try the dual point extrapolated from the last residuals (celer's dual
        extrapolation) at each gap check, and keep the better one.
    anderson : bool
        cd: Anderson extrapolation of the coefficients after every sweep over the
        support (from the last 5 sweeps' starts and ends), kept when it lowers the
        objective.
        This and `extrapolation` are off by default: their iterates depend on the
        history while the support still changes, so on a rank-deficient problem
        weighted and row-repeated fits end at different points of the nearly flat
        optimum (scikit-learn's sample-weight equivalence check for LassoCV failed with
        them on, even at tol=1e-10, when they were added: before the Anderson jumps
        were kept in their orthant and before the Newton steps' null-space moves).
    settle_anderson : bool
        cd: the same Anderson steps on supports whose kept sweeps take at most an
        eighth of X's size, from their first sweep (they were tried once a support had
        been swept 10 times, or once a full sweep had left it as it was; from the first
        sweep the paths of P3 and trump_tweets_tfidf took 16% and 7% less time, P4's
        the same). On by default: the scikit-learn checks hold with it.
    newton : bool
        cd: Newton steps on a support that coordinate descent settles slowly (at most
        NEWTON_MAX_SUPPORT features; with Gram storage too), each kept only when it
        lowers the objective; coefficients a step would take across zero (or a bound)
        stop there and leave the support. On a support with more features than its
        rank, moves along the null space zero the surplus (see `_cd.newton_step`).
    lipschitz : float
        fista/ista: initial step 1/lipschitz (from `fastpen._design.lipschitz_constant`);
        backtracking raises it when the quadratic upper bound fails.
    restart : bool
        fista: adaptive gradient restart of the momentum (O'Donoghue & Candes 2015).
    gap_freq : int
        The gap is computed at least every `gap_freq` epochs / iterations.
    start_set : bool array of shape (n_features,) or None
        cd: solve first on these features (and the nonzero ones), then on all; e.g. the
        given rule. Never changes the solution.
    strong_ratio : float
        cd: alpha_prev / alpha of the first step when `w` is the solution at alpha_prev
        (the later steps use scales[k - 1] / scales[k]); the engine then starts on the
        features the sequential strong rule keeps (checked by the full gap in the end,
        so it never changes the solution either). 0 for none.
    workspace : dict or None
        Keeps the work arrays between calls (a path solves 100 problems of one shape):
        they are allocated once instead of once per alpha, which also spares the
        allocator's per-thread arenas the churn that inflates resident memory.
    previous_coef : array of shape (n_features,) or None
        cd: the solution at previous_scales[0], when the path goes on from an earlier
        call (with `w` its solution at previous_scales[1]).
    previous_scales : float64 array of shape (2,) or None
        cd: the scales of the two steps before the first one (the one before last
        first); with the solutions at both, each step starts from the path's tangent
        (see `predict_along_path` in `_cd.pxd`), later steps from their own two.
    gradient_bounds : bool
        cd along a path: certify the zero coefficients whose gradient bound (from the
        last gap that read every column) stays below their threshold without reading
        their columns (see `best_gap` in `_cd.pxd`). The gaps are the same.
    continues : bool
        cd: the path goes on in a later call with the same `workspace` (from `w`). The
        gradient that certified the last step, and the gradient bounds' anchor, are then
        handed over to it, so that the call that follows starts as the next step of one
        call would (no pass over X for its first gap).
    y_norm2 : float
        GRAM storage only: ||yc||_S^2. Then X_data is the Fortran buffer of
        Q = Xc^T S Xc, n_samples is n_features, y is Xc^T S yc, norm2 is diag(Q), and
        there is no centring or weighting left to do (center=False, no weights).

    Returns
    -------
    tol_abs : float
        The gap target tol * ||yc||_S^2.
    lipschitz : float
        fista/ista: the step constant finally used (0 for cd).
    n_restarts : int
        fista: how many times the momentum restarted (over all steps).
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    # the coefficients in float32 (returned rounded, and certified as rounded) or
    # float64, whatever the dtype of X: a Gram matrix is float64 for float32 X too
    cdef bint single = w.dtype == np.float32
    if not single and w.dtype != np.float64:
        raise ValueError(f"w must be float32 or float64, got {w.dtype}")
    if coefs is not None and coefs.dtype != w.dtype:
        raise ValueError("coefs must have the dtype of w")
    cdef float[::1] w_single
    cdef double[::1] w_double
    cdef float[:, ::1] coefs_single
    cdef double[:, ::1] coefs_double
    if single:
        w_single = w
        coefs_single = coefs
    else:
        w_double = w
        coefs_double = coefs
    cdef Py_ssize_t n_features = w.shape[0]
    cdef int n = <int> n_samples, p = <int> n_features
    cdef const double* sw = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    cdef const index_t* indices = &X_indices[0] if X_indices.shape[0] > 0 else NULL
    cdef const index_t* indptr = &X_indptr[0] if X_indptr.shape[0] > 0 else NULL
    cdef const floating* data = &X_data[0] if X_data.shape[0] > 0 else NULL
    cdef const double* lo = &lower[0] if lower.shape[0] > 0 else NULL
    cdef const double* hi = &upper[0] if upper.shape[0] > 0 else NULL
    cdef double tol_abs, gap = 0.0, L = lipschitz if lipschitz > 0 else 1.0
    cdef int n_iter = 0, done = 0, n_restarts = 0, restarts = 0
    cdef bint use_cd = solver == "cd", accelerated = solver == "fista"
    if n_features > INT32_MAX:
        raise ValueError(f"at most {INT32_MAX} features (got {n_features})")
    if l1_base.shape[0] != n_features or l2_base.shape[0] != n_features:
        raise ValueError("l1_base and l2_base must have one entry per feature")
    if center and (X_mean.shape[0] != n_features or (
            n_features > 1 and X_mean.strides[0] != sizeof(double))):
        raise ValueError("X_mean must be a contiguous array of one entry per feature")
    # without centring the engines never read the means (NULL makes sure of it)
    cdef const double* means = &X_mean[0] if center and n_features > 0 else NULL
    if n_features == 0:
        gaps[:scales.shape[0]] = 0.0
        n_iters[:scales.shape[0]] = 0
        converged[:scales.shape[0]] = True
        return 0.0, 0.0, 0
    # workspaces, in float64 whatever the dtype of X (see _columns.pxd): rows of length
    # n_samples (the residual and what is built from it) and n_features (iterates, the
    # gradient), and the index lists of the active features
    cdef double[:, ::1] sample_space = _work(
        workspace, "sample", (2 if use_cd else 6, n_samples), np.float64, False)
    # proximal gradient's two coefficient-sized iterates (coordinate descent has none)
    cdef double[:, ::1] feature_space = _work(
        workspace, "feature", (2, 1 if use_cd else n_features), np.float64, False)
    # the coefficients the engines move: float64 (w itself for float64; for float32 a
    # copy, rounded back as each step ends: see `round_to_float32`)
    cdef double[::1] coef_space
    cdef double* coef
    cdef Py_ssize_t feature
    if single:
        coef_space = _work(workspace, "coef", (n_features,), np.float64, False)
        for feature in range(n_features):
            coef_space[feature] = w_single[feature]
        coef = &coef_space[0]
    else:
        coef = &w_double[0]
    # a start outside the bounds (a warm start or coef_init from looser ones) is
    # clipped into them: the engines' iterates stay feasible from there, and their gap
    # has no term for a point outside (a start at the old optimum was returned as
    # converged, outside the new bounds)
    if lo != NULL:
        for feature in range(n_features):
            coef[feature] = min(max(coef[feature], lo[feature]), hi[feature])
    # what the call before handed over (see `continues`): the certified gradient (in
    # `grad`) with the sums of its residual, and whether the bounds' anchor is valid;
    # invalid until this call ends normally
    cdef double[::1] handover = _work(workspace, "handover", (6,), np.float64, False,
                                      kept=True)
    cdef bint carried_in = (use_cd and storage != GRAM and handover[0] != 0.0
                            and _kept(workspace, "grad", (n_features,), np.float64))
    cdef bint anchor_in = (
        handover[5] != 0.0 and _kept(workspace, "anchor_q", (n_samples,), np.float64)
        and _kept(workspace, "anchor_grad", (n_features,), np.float64))
    handover[0] = 0.0
    handover[5] = 0.0
    cdef double[::1] grad = _work(workspace, "grad", (n_features,), np.float64,
                                  not carried_in, kept=carried_in)
    # the active features; cd along a path: the ones the first gap kept, while the
    # strong rule's set is solved (`reserve`)
    cdef bint keeps_reserve = use_cd and (scales.shape[0] > 1 or strong_ratio > 0.0)
    cdef feature_t[:, ::1] index_space = _work(
        workspace, "index", (2 if keeps_reserve else 1, n_features), np.int32, False)
    # cd: the support's lists (grown by cd_solve; see SupportLists)
    cdef SupportLists support_lists
    support_lists.data = NULL
    support_lists.capacity = 0
    # cd: the gradient at the extrapolated dual point; the ring of the last residuals
    # and their extrapolation
    cdef bint extrapolate = use_cd and extrapolation and storage != GRAM
    cdef double[:, ::1] ranking_space = _work(
        workspace, "ranking", (1, n_features if extrapolate else 1), np.float64, True)
    cdef bint accelerate = use_cd and anderson and storage != GRAM
    # Anderson on the supports (see cd_solve): on supports of up to settle_capacity
    # features, whose sweeps' ends and steps stay under an eighth of the size of X,
    # or of 16384 features (under 2 MB of them) when X is small (we8there's path:
    # supports of 1300 to 2400 features in a 0.8 MB X; 2.8 -> 1.4 s with them)
    cdef bint settle = use_cd and settle_anderson and not accelerate and storage != GRAM
    cdef Py_ssize_t anderson_capacity = n_features if accelerate else (
        min(n_features, max(<Py_ssize_t> 16384, <Py_ssize_t> (
            X_data.shape[0] / (8.0 * (2 * ANDERSON_DEPTH + 4))))) if settle else 0)
    # the last residuals and their extrapolation; the trial residual of an Anderson step
    # in the last row
    cdef Py_ssize_t ring_rows = EXTRAPOLATION_DEPTH + 2 if (extrapolate or accelerate) else 1
    cdef double[:, ::1] ring_space = _work(
        workspace, "ring",
        (ring_rows, n_samples if (extrapolate or accelerate or settle) else 1),
        np.float64, False)
    # Anderson: the last sweeps' ends and steps on the support, the next start and a
    # trial point (grown by cd_solve to the supports it serves, up to anderson_capacity
    # features), and the ends' residuals (allocated by cd_solve for the supports that
    # need them)
    cdef RingSpace anderson_space
    anderson_space.data = NULL
    anderson_space.size = 0
    anderson_space.residuals = NULL
    anderson_space.residuals_size = 0
    # cd: the Hessian (and its factor) and step of a Newton step on a support of at
    # most newton_cap features: both matrices kept under an eighth of X, or under
    # 1 MB (256 x 256) when X is small (its space is allocated when a support needs
    # it). On p >> n data CD passes through supports of a few times n features,
    # where it creeps and only Newton's null-space moves help (riboflavin, 71 x 4088:
    # supports of up to 294 in a 2.3 MB X). With Gram storage a block of Q, of which
    # there is one already
    cdef Py_ssize_t newton_cap = 0
    if use_cd and newton:
        newton_cap = min(<Py_ssize_t> NEWTON_MAX_SUPPORT, n_features, n_features
                         if storage == GRAM else max(<Py_ssize_t> 256, <Py_ssize_t> sqrt(
                             X_data.shape[0] * sizeof(floating) / 128.0)))
    cdef NewtonSpace newton_space
    init_newton_space(&newton_space)
    # the support the last whole Newton step solved, kept in the workspace so that a
    # path cut in several calls takes the same steps
    cdef unsigned char[::1] solved = _work(
        workspace, "solved", (bit_set_bytes(n_features) if use_cd and newton else 1,),
        np.uint8, False, kept=True)
    cdef Py_ssize_t[::1] solved_size = _work(workspace, "solved_size", (1,), np.intp,
                                             False, kept=True)
    newton_space.solved = &solved[0]
    newton_space.solved_size = solved_size[0]
    cdef const unsigned char[::1] start_mask
    cdef const unsigned char* start = NULL
    cdef const double[::1] previous_double
    if start_set is not None:
        start_mask = np.ascontiguousarray(start_set, dtype=np.uint8)
        if start_mask.shape[0] != n_features:
            raise ValueError("start_set must have one entry per feature")
        start = &start_mask[0]
    cdef Py_ssize_t n_alphas = scales.shape[0], k, j
    # cd along a path: the residual and gradient that bound later gradients
    cdef bint bounds = (use_cd and gradient_bounds and storage != GRAM and lo == NULL
                        and (n_alphas > 1 or continues or anchor_in))
    cdef double[::1] anchor_q = _work(
        workspace, "anchor_q", (n_samples if bounds else 1,), np.float64, False,
        kept=True)
    cdef double[::1] anchor_grad = _work(
        workspace, "anchor_grad", (n_features if bounds else 1,), np.float64, False,
        kept=True)
    cdef bint anchor_ok = bounds and anchor_in
    if gaps.shape[0] < n_alphas or n_iters.shape[0] < n_alphas or (
            converged.shape[0] < n_alphas):
        raise ValueError("gaps, n_iters and converged need one entry per scale")
    if coefs is not None and (coefs.shape[0] < n_alphas or coefs.shape[1] != n_features):
        raise ValueError("coefs must have shape (n_alphas, n_features)")
    if seeds is not None and seeds.shape[0] < n_alphas:
        raise ValueError("seeds needs one entry per scale")
    if storage == GRAM:
        if solver != "cd":
            raise ValueError("Gram storage is for coordinate descent only")
        # ||R||^2 comes out of a difference of O(||yc||^2) terms: its rounding is the floor
        tol_abs = max(tol, 64 * (1.2e-7 if floating is float else 2.3e-16)) * y_norm2
    else:
        tol_abs = gap_target(&y[0], n_samples, y_mean, sw, tol)
    # the penalty weights of the current step: one pair for every feature when both
    # bases are uniform (read-only views of one number, stride 0: see
    # `check_penalty_factor`)
    cdef bint uniform = (l1_base.strides[0] == 0 and l2_base.strides[0] == 0) or p == 1
    cdef Py_ssize_t n_weights = 1 if uniform else n_features
    cdef double[:, ::1] weights = _work(workspace, "weights", (2, n_weights), np.float64,
                                        False)
    cdef PenaltyWeights penalty
    penalty.l1 = &weights[0, 0]
    penalty.l2 = &weights[1, 0]
    penalty.mask = 0 if uniform else -1
    # the free features (unpenalized, with an infinite bound): a dual point must meet
    # their conjugates' constraints (see `project_off_free`), with Gram storage too
    # (their Gram matrix is then Q's entries); a uniform penalty has none
    # (or only them, then the gap is the projected gradient's). Beyond
    # `free_feature_limit` of them the gap falls back to adding their 1-D decreases (not
    # a bound: fista could stop early there).
    cdef FreeFeatures free_space
    cdef feature_t[::1] free_list, free_features
    cdef double[::1] free_gram, free_doubles
    cdef int[::1] free_ints
    cdef char[::1] free_chosen
    cdef Py_ssize_t m
    penalty.free = NULL
    penalty.zero_factors = False
    # (a uniform zero base is a zero penalty_factor, every feature free; alpha = 0
    # scales a nonzero base to 0 and keeps scikit-learn's rule)
    if not uniform or (l1_base[0] == 0.0 and l2_base[0] == 0.0):
        free = free_feature_set(l1_base, l2_base, norm2, lower, upper)
        free_limit = free_feature_limit(X_data.shape[0] * sizeof(floating))
        # (least squares' exact dual needs every free feature projected off: beyond
        # free_limit of them its gap would skip their infinite conjugates)
        penalty.zero_factors = (not np.any(np.asarray(l1_base))
                                and not np.any(np.asarray(l2_base))
                                and free.size <= free_limit)
        if 0 < free.size <= free_limit:
            m = free.size
            free_list = free.astype(np.int32)
            free_gram = _free_gram(data, indices, indptr, storage, n, sw, means, center,
                                   &norm2[0], free_list)
            # the factor, the set's Gram matrix, the projection and its coefficients,
            # the factorisation's work, the basis's and every free column's inverse norm
            doubles = np.empty(2 * m * m + n_samples + 5 * m)
            doubles[2 * m * m + n_samples + 4 * m:] = 1.0 / np.sqrt(np.maximum(
                np.diagonal(np.asarray(free_gram).reshape(m, m)), 1e-300))
            free_doubles = doubles
            free_ints = np.empty(2 * m, dtype=np.intc)
            free_features = np.empty(2 * m, dtype=np.int32)
            free_chosen = np.zeros(m, dtype=np.int8)
            free_space.features = &free_list[0]
            free_space.count = m
            free_space.gram = &free_gram[0]
            free_space.members = &free_ints[0]
            free_space.n_members = -1
            free_space.factor = &free_doubles[0]
            free_space.pivots = &free_ints[m]
            free_space.rank = 0
            free_space.basis = &free_features[0]
            free_space.chosen = &free_chosen[0]
            free_space.outside = &free_features[m]
            free_space.sub_gram = &free_doubles[m * m]
            free_space.work = &free_doubles[2 * m * m]
            free_space.basis_scale = &free_doubles[2 * m * m + n_samples + 3 * m]
            free_space.inverse_norms = &free_doubles[2 * m * m + n_samples + 4 * m]
            penalty.free = &free_space
    cdef double ratio = strong_ratio
    # the gradient that certified one step, for the next (see cd_solve)
    cdef Residual carried
    cdef bint carried_ok = carried_in
    if carried_in:
        carried.weighted_sum = handover[1]
        carried.norm2 = handover[2]
        carried.dot_y = handover[3]
        carried.y_norm2 = handover[4]
    # the two solutions before the current step's start, for the path's tangent
    # (cd_solve's predict_along_path): each step's start is kept in row k % 2
    # (a path cut in several calls passes the solution before `w`'s and both scales, so
    # that the cuts do not change the path)
    cdef bint predict = use_cd and (scales.shape[0] > 2 or previous_scales is not None)
    cdef double[:, ::1] starts = _work(
        workspace, "starts", (2, n_features if predict else 1), np.float64, False)
    # the scale each row of `starts` solves (0: none), and the one `w` solves
    cdef double[2] row_scales
    row_scales[0] = 0.0
    row_scales[1] = 0.0
    cdef double entry_scale = 0.0
    cdef double factor
    if predict and previous_scales is not None:
        if previous_scales.shape[0] != 2:
            raise ValueError("previous_scales must hold two scales")
        entry_scale = previous_scales[1]
        if previous_coef is not None:
            if previous_coef.shape[0] != n_features:
                raise ValueError("previous_coef must have one entry per feature")
            previous_double = np.asarray(previous_coef, dtype=np.float64)
            for j in range(n_features):
                starts[1, j] = previous_double[j]
            row_scales[1] = previous_scales[0]
    try:
        with nogil:
            for k in range(n_alphas):
                for j in range(n_weights):
                    weights[0, j] = scales[k] * l1_base[j]
                    weights[1, j] = scales[k] * l2_base[j]
                if k > 0:
                    ratio = scales[k - 1] / scales[k] if scales[k] > 0.0 else 0.0
                gap = 0.0
                n_iter = 0
                factor = 0.0
                if predict:
                    for j in range(n_features):
                        starts[k % 2, j] = coef[j]
                    row_scales[k % 2] = scales[k - 1] if k > 0 else entry_scale
                    if (row_scales[(k + 1) % 2] > row_scales[k % 2] > scales[k]
                            and scales[k] > 0.0):
                        factor = ((row_scales[k % 2] - scales[k])
                                  / (row_scales[(k + 1) % 2] - row_scales[k % 2]))
                if use_cd:
                    done = cd_solve(
                        data, indices, indptr, storage, n, n_features,
                        &y[0], y_mean, sw, means, center, &norm2[0], y_norm2,
                        coef, &sample_space[0, 0], &sample_space[1, 0], &grad[0],
                        &ranking_space[0, 0],
                        &ring_space[0, 0] if extrapolate else NULL,
                        &ring_space[ring_rows - 1, 0]
                        if (extrapolate or accelerate or settle) else NULL,
                        &anderson_space if anderson_capacity > 0 else NULL,
                        &index_space[0, 0], &support_lists, penalty, lo, hi,
                        max_iter, tol, tol_abs, random,
                        seeds[k] if seeds is not None else 1,
                        screening, max(gap_freq, 1), inner_ratio, extrapolate, accelerate,
                        anderson_capacity if settle else 0, start if k == 0 else NULL,
                        ratio if storage != GRAM else 0.0,
                        &index_space[1, 0] if keeps_reserve else NULL,
                        &newton_space, newton_cap,
                        k + 1 < n_alphas or continues, &carried, &carried_ok,
                        &starts[(k + 1) % 2, 0] if factor > 0.0 else NULL, factor,
                        &anchor_q[0], &anchor_grad[0], &anchor_ok if bounds else NULL,
                        single, &gap, &n_iter,
                    )
                else:
                    done = prox_grad_solve(
                        data, indices, indptr, storage, n, p,
                        &y[0], y_mean, sw, means, center, &norm2[0], coef,
                        penalty, lo, hi, max_iter, tol_abs, &L,
                        accelerated, restart, max(gap_freq, 1),
                        &feature_space[0, 0], &feature_space[1, 0],
                        &sample_space[0, 0], &sample_space[1, 0], &sample_space[2, 0],
                        &sample_space[3, 0], &sample_space[4, 0], &sample_space[5, 0],
                        &grad[0], &index_space[0, 0], &gap, &n_iter, &restarts,
                    )
                    n_restarts += restarts
                # a gap is never negative: below zero it is the rounding of an exact
                # solution
                gaps[k] = max(gap, 0.0)
                n_iters[k] = n_iter
                converged[k] = done
                if coefs is not None and single:
                    for j in range(n_features):
                        coefs_single[k, j] = <float> coef[j]
                elif coefs is not None:
                    memcpy(&coefs_double[k, 0], coef, n_features * sizeof(double))
    finally:
        free_newton_space(&newton_space)
        PyMem_RawFree(anderson_space.data)
        PyMem_RawFree(anderson_space.residuals)
        PyMem_RawFree(support_lists.data)
        if use_cd and newton:
            solved_size[0] = newton_space.solved_size
    if single:
        # (exact: the engines end each step on float32 values)
        for feature in range(n_features):
            w_single[feature] = <float> coef[feature]
    if continues:
        handover[0] = carried_ok
        handover[1] = carried.weighted_sum
        handover[2] = carried.norm2
        handover[3] = carried.dot_y
        handover[4] = carried.y_norm2
        handover[5] = anchor_ok
    return tol_abs, (0.0 if use_cd else L), n_restarts


def newton_products(const floating[::1, :] X, supports, sample_weight=None):
    """The products x_a^T S x_b of the dense columns of each support in `supports`, as
    the Newton steps of one solve get them in turn: from the products kept since the
    step before, with only those of the new columns computed (`gathered_products`).

    For tests: each must be X_S^T S X_S (S = diag(sample_weight)), whichever features
    left and came back between the steps. Returns one symmetric array per support,
    with zeros on the diagonal (the steps take it from the column norms)."""
    cdef int n = <int> X.shape[0]
    cdef Py_ssize_t p = X.shape[1]
    cdef int s
    cdef NewtonSpace space
    cdef feature_t[::1] support
    cdef double[:, ::1] saved
    cdef double[::1] gathered, block, order
    cdef double[::1] weights
    cdef const double* sw = NULL
    if sample_weight is not None:
        weights = np.ascontiguousarray(sample_weight, dtype=np.float64)
        sw = &weights[0]
    out = []
    init_newton_space(&space)
    try:
        for features in supports:
            support = np.ascontiguousarray(features, dtype=np.int32)
            s = <int> support.shape[0]
            saved = np.zeros((s, s))
            gathered = np.empty(n * s)
            block = np.empty(s * s)
            order = np.empty(s)
            gathered_products(&X[0, 0], n, p, sw, &support[0], s, &gathered[0], &block[0],
                              &order[0], &saved[0, 0], &space)
            # saved[a + b s] (a > b) is row b, column a of the C-ordered array
            upper = np.triu(np.asarray(saved), 1)
            out.append(upper + upper.T)
    finally:
        free_newton_space(&space)
    return out


def cancel_call(long call):
    """Make the loops of call `call`'s tasks, in any thread, raise KeyboardInterrupt at
    their next interrupt check (see `check_interrupt` in _engine_common.pxd)."""
    fastpen_cancel_call(call)


def set_task_call(long call):
    """Tie this thread's loops to call `call` (0: none) until set again."""
    fastpen_set_task_call(call)
