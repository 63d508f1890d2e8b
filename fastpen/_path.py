"""Regularization paths: the alpha grid, lasso_path and enet_path."""
import numbers
import warnings
from collections import namedtuple

import numpy as np
import scipy.sparse as sp
from sklearn.utils import assert_all_finite, check_array, check_random_state

from ._engine import (
    SOLVERS, Design, PathSolution, _user_stacklevel, given_gram, solve_enet_path,
    statistics_and_gram, use_gram, warn_not_converged, weighted_mean,
)
from ._validation import (
    canonical_csc,
    check_bool,
    check_bounds,
    check_int,
    check_options,
    check_penalty_factor,
    check_real,
    check_sample_weight,
)


def _already_valid(X, y):
    """Whether X and y are already what `_validate_path_data` makes of them: Fortran
    float32/64 or canonical CSC, finite, 2-D with a sample, y 1-D float of the same
    dtype and length, finite. Then scikit-learn's check_array (whose own overhead
    exceeds a small path's whole solve) has nothing to do."""
    if sp.issparse(X):
        if X.format != "csc" or not X.has_canonical_format:
            return False
        values = X.data
    elif isinstance(X, np.ndarray) and type(X) is np.ndarray:
        if X.ndim != 2 or not X.flags.f_contiguous:
            return False
        values = X
    else:
        return False
    return (X.dtype in (np.float64, np.float32) and X.ndim == 2 and X.shape[0] > 0
            and X.shape[1] > 0 and type(y) is np.ndarray and y.dtype == X.dtype
            and y.shape == (X.shape[0],) and y.flags.c_contiguous
            and _all_finite(values) and _all_finite(y))


def _all_finite(values):
    """Whether every value is finite, with no temporary of X's size.

    A finite sum settles it in one pass (scikit-learn's check starts so too, behind a
    dispatch that costs more than a small path's whole solve); an infinite or NaN sum,
    which finite values can also reach by overflow, goes to scikit-learn's check."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(np.add.reduce(values, axis=None)):
            return True
    try:
        assert_all_finite(values)
    except ValueError:
        return False
    return True


def _validate_path_data(X, y, check_input):
    """X as the engines read it (Fortran dense or CSC, float32/64, no copy when possible)."""
    if check_input and not _already_valid(X, y):
        X = check_array(X, accept_sparse=["csc", "csr", "coo"], dtype=[np.float64, np.float32],
                        order="F", accept_large_sparse=True)
        y = check_array(y, dtype=X.dtype.type, ensure_2d=False, order="C")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(
                "y must be 1-D: fastpen paths fit one target (multi-task paths are not "
                f"supported); got y with shape {y.shape}. Call the path once per column."
            )
        if y.shape[0] != X.shape[0]:
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: "
                f"[{X.shape[0]}, {y.shape[0]}]"
            )
    if sp.issparse(X):
        X = canonical_csc(X)
    if np.ndim(y) != 1 or np.shape(y)[0] != X.shape[0]:
        # (unchecked input too: the engines would read past the end of y)
        raise ValueError(f"y must have shape (n_samples,) with n_samples = {X.shape[0]}; "
                         f"got {np.shape(y)}.")
    return X, y


# A coefficient whose whole contribution to the fit, |w_j| ||x_j||, is below this many
# float64 roundings of ||y|| cannot be told from zero. Coordinate descent leaves such
# values on ties (duplicated or nested columns, where |x_j^T r| meets alpha n up to
# rounding): on trump_tweets_tfidf, 20 coefficients contributed 8e-19 to 3e-15 of
# ||y - ybar||, and the smallest real one 2.3e-8.
ROUNDING_FACTOR = 1e3


def column_norms(X):
    """||x_j|| of each column (uncentred: no cancellation, and never below the centred
    norm, so that a selection judged on it is never dropped for a large mean), without
    a copy of Fortran or CSC X."""
    if sp.issparse(X):
        X = canonical_csc(X)
    else:
        X = np.asfortranarray(X)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    return np.sqrt(Design(X).column_stats(None, False)[1])


def material_coefficients(coefs, norms, y, fit_intercept=True):
    """Mask of the coefficients that are selections, not rounding.

    Parameters
    ----------
    coefs : ndarray of shape (n_features,) or (n_features, n_alphas)
    norms : ndarray of shape (n_features,)
        ``column_norms(X)``.
    y : ndarray of shape (n_samples,)
    fit_intercept : bool
        Whether y's scale is taken about its mean.

    Returns
    -------
    mask : bool ndarray of the shape of `coefs`
        ``|w_j| ||x_j|| > ROUNDING_FACTOR * eps * ||y - ybar||``: what is below cannot be
        told from zero at float64's precision (see ROUNDING_FACTOR).
    """
    y = np.asarray(y, dtype=np.float64)
    centred = y - y.mean() if fit_intercept else y
    largest = float(np.max(np.abs(centred))) if centred.size else 0.0
    # (scaled: the sum of squares of a y near 1e154 would overflow, and the floor with it)
    scale = largest * np.linalg.norm(centred / largest) if largest > 0 else 0.0
    floor = ROUNDING_FACTOR * np.finfo(np.float64).eps * scale
    coefs = np.asarray(coefs)
    norms = np.asarray(norms, dtype=np.float64).reshape((-1,) + (1,) * (coefs.ndim - 1))
    # (written so that a NaN coefficient, a diverged fit, counts: it is not hidden)
    return ~(np.abs(coefs) * norms <= floor) & (coefs != 0)


def _grid(design, X_mean, y, sample_weight, fit_intercept, penalty_factor, positive,
          l1_ratio, eps, n_alphas):
    """The alpha grid from an already prepared design and its column means."""
    return grid_from_correlation(
        centred_correlation(design, X_mean, y, sample_weight, fit_intercept),
        design.n_samples, penalty_factor, positive, l1_ratio, eps, n_alphas)


def centred_correlation(design, X_mean, y, sample_weight, fit_intercept):
    """Xc^T S yc in float64, with one read of X (centring is implicit)."""
    y64 = np.asarray(y, dtype=np.float64)
    yc = y64 - weighted_mean(y64, sample_weight) if fit_intercept else y64
    s = np.ones_like(yc) if sample_weight is None else np.asarray(sample_weight, np.float64)
    # X^T (s yc) with X read as it is; Xc^T S yc = X^T S yc - mean * 1^T S yc
    correlation = design.xt_dot(s * yc)
    correlation -= X_mean * np.sum(s * yc)
    return correlation


def grid_from_correlation(correlation, n_samples, penalty_factor, positive, l1_ratio, eps,
                          n_alphas):
    """The geometric grid from alpha_max, given Xc^T S yc (weights summing to n_samples).

    alpha_max = max_j |(Xc^T S yc)_j| / pf_j / (n_samples l1_ratio) over the penalized
    features (the signed max when positive).
    """
    if l1_ratio == 0:
        raise ValueError(
            "Automatic alpha grid generation is not supported for l1_ratio=0. Please "
            "supply a grid by providing the appropriate `alphas=` argument."
        )
    penalized = penalty_factor > 0
    top = 0.0
    if np.any(penalized):
        scaled = correlation[penalized] / penalty_factor[penalized]
        top = max(0.0, float(np.max(scaled))) if positive else float(np.max(np.abs(scaled)))
    alpha_max = top / (n_samples * l1_ratio)
    resolution = np.finfo(np.float64).resolution
    if alpha_max <= resolution:
        return np.full(n_alphas, resolution)
    return np.geomspace(alpha_max, alpha_max * eps, num=n_alphas)


def alpha_grid(X, y, *, l1_ratio=1.0, eps=1e-3, n_alphas=100, fit_intercept=True,
               sample_weight=None, positive=False, penalty_factor=None):
    """Geometric grid of alphas from alpha_max down to eps * alpha_max.

    alpha_max is the smallest alpha for which every penalized coefficient is zero,
    computed from the data with the intercept (implicit centring), the sample weights and
    the penalty factors, without copying or densifying X. Same grid as scikit-learn's
    (``LassoCV().alphas_``) when there are no penalty factors.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    l1_ratio : float, default=1.0
        Elastic-net mixing, in (0, 1].
    eps : float, default=1e-3
        Length of the path: alpha_min / alpha_max.
    n_alphas : int, default=100
        Number of alphas.
    fit_intercept : bool, default=True
    sample_weight : array-like of shape (n_samples,), default=None
    positive : bool, default=False
        Only positive correlations can make a coefficient enter.
    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature penalty multipliers (0 = unpenalized, ignored for alpha_max).

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        Decreasing.
    """
    check_real(l1_ratio, "l1_ratio", "alpha_grid", low=0, high=1)
    check_real(eps, "eps", "alpha_grid", low=0, low_open=True)
    n_alphas = check_int(n_alphas, "n_alphas", "alpha_grid", low=1)
    X, y = _validate_path_data(X, y, True)
    design = Design(X)
    sw = check_sample_weight(sample_weight, X.shape[0])
    pf = check_penalty_factor(penalty_factor, X.shape[1])
    X_mean, _ = design.column_stats(sw, fit_intercept)
    return _grid(design, X_mean, y, sw, fit_intercept, pf, positive, l1_ratio, eps, n_alphas)


def enet_path(X, y, *, l1_ratio=0.5, eps=1e-3, n_alphas=None, alphas=100,
              precompute="auto", Xy=None, copy_X=True, coef_init=None, verbose=False,
              return_n_iter=False, positive=False, check_input=True, fit_intercept=False,
              sample_weight=None, penalty_factor=None, lower_bounds=None, upper_bounds=None,
              tol=1e-4, max_iter=1000, selection="cyclic", random_state=None, solver="cd"):
    """Elastic-net path: one fit per alpha, each warm-started from the previous one.

    Same signature and returns as scikit-learn's ``enet_path`` (>= 1.7) for one target,
    plus fastpen's options. Like scikit-learn's, it fits no intercept unless asked
    (``fit_intercept=True`` centres implicitly, without copying X).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Read in place when Fortran float32/float64 or CSC.
    y : array-like of shape (n_samples,)
    l1_ratio : float, default=0.5
    eps : float, default=1e-3
        alpha_min / alpha_max when the grid is generated.
    n_alphas : int, default=None
        Old spelling of an integer ``alphas``: still accepted, with a FutureWarning
        (deprecated in scikit-learn 1.9).
    alphas : int or array-like, default=100
        Number of alphas on the generated grid, or the alphas themselves (sorted
        decreasing before use). None, deprecated as in scikit-learn 1.9 (with a
        FutureWarning), is 100.
    precompute : bool, 'auto' or array-like, default='auto'
        Coordinate descent on the Gram matrix Q = Xc^T S Xc: 'auto' when
        n_samples > n_features and X is dense, or sparse float64 with at least
        n_features^2 stored entries; True always; or a given Q (checked against X).
    Xy : array-like of shape (n_features,), default=None
        Accepted for compatibility (the grid is computed from X and y).
    copy_X : bool, default=True
        Accepted for compatibility; X is never modified.
    coef_init : array-like of shape (n_features,), default=None
        Start of the first fit.
    verbose : bool or int, default=False
        Print one line per alpha.
    return_n_iter : bool, default=False
    positive : bool, default=False
    check_input : bool, default=True
    fit_intercept : bool, default=False
    sample_weight : array-like of shape (n_samples,), default=None
    penalty_factor : array-like of shape (n_features,), default=None
    lower_bounds, upper_bounds : float or array-like of shape (n_features,), default=None
    tol : float, default=1e-4
        Duality-gap tolerance of every fit (scikit-learn's scaling).
    max_iter : int, default=1000
    selection : {'cyclic', 'random'}, default='cyclic'
    random_state : int, RandomState instance or None, default=None
    solver : {'cd', 'fista', 'ista'}, default='cd'

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
    coefs : ndarray of shape (n_features, n_alphas), or (1, n_features, n_alphas) for y
        of shape (n_samples, 1), as scikit-learn returns it
    dual_gaps : ndarray of shape (n_alphas,)
    n_iters : list of int
        Only with ``return_n_iter=True``.
    """
    name = "enet_path"
    check_real(l1_ratio, "l1_ratio", name, low=0, high=1)
    check_real(eps, "eps", name, low=0, low_open=True)
    check_real(tol, "tol", name, low=0)
    max_iter = check_int(max_iter, "max_iter", name, low=1)
    check_bool(positive, "positive", name)
    check_bool(fit_intercept, "fit_intercept", name)
    check_options(selection, "selection", name, {"cyclic", "random"})
    check_options(solver, "solver", name, set(SOLVERS))
    if n_alphas is not None:
        # (scikit-learn 1.9's deprecations, with its warnings)
        warnings.warn(
            "'n_alphas' is deprecated (as in scikit-learn 1.9): 'alphas' takes the "
            "number of alphas. Pass alphas=n_alphas instead.", FutureWarning,
            stacklevel=_user_stacklevel())
    if alphas is None:
        warnings.warn("'alphas=None' is deprecated (as in scikit-learn 1.9): pass "
                      "alphas=100, or another number of alphas.", FutureWarning,
                      stacklevel=_user_stacklevel())
    if n_alphas is not None or alphas is None:
        alphas = 100 if n_alphas is None else n_alphas
    # y of shape (n_samples, 1): scikit-learn's coefs then have a target axis
    target_axis = np.ndim(y) == 2
    X, y = _validate_path_data(X, y, check_input)
    n_samples, n_features = X.shape
    sw = check_sample_weight(sample_weight, n_samples)
    pf = check_penalty_factor(penalty_factor, n_features)
    lower, upper = check_bounds(lower_bounds, upper_bounds, positive, n_features)

    design = Design(X)
    X_mean, norm2, gram = statistics_and_gram(
        design, sw, fit_intercept, use_gram(precompute, design, solver),
        given_gram(precompute), solver=solver)
    if isinstance(alphas, numbers.Integral) and not isinstance(alphas, bool):
        alphas = _grid(design, X_mean, y, sw, fit_intercept, pf, positive, l1_ratio, eps,
                       check_int(alphas, "alphas", name, low=1))
    else:
        try:
            alphas = np.sort(np.asarray(alphas, dtype=np.float64).ravel())[::-1]
        except (TypeError, ValueError):
            alphas = np.array([np.nan])  # reported below
        if alphas.size == 0 or not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
            raise ValueError("alphas must be non-negative finite numbers (or a count).")

    coef = np.zeros(n_features, dtype=X.dtype)
    if coef_init is not None:
        init = np.asarray(coef_init, dtype=X.dtype).ravel()
        if init.size != n_features:
            raise ValueError(f"coef_init must hold n_features = {n_features} values, "
                             f"got shape {np.shape(coef_init)}.")
        coef[:] = init

    # one row per alpha (contiguous writes), returned as its (n_features, n_alphas) view
    coef_rows = np.empty((alphas.size, n_features), dtype=X.dtype)
    dual_gaps = np.empty(alphas.size)
    n_iters = np.empty(alphas.size, dtype=int)
    for start, stop, result in path_blocks(
        design, y, coef, alphas, sample_weight=sw, X_mean=X_mean, norm2=norm2,
        fit_intercept=fit_intercept, l1_ratio=l1_ratio, penalty_factor=pf, lower=lower,
        upper=upper, max_iter=max_iter, tol=tol, solver=solver, selection=selection,
        random_state=random_state, gram=gram, coef_rows=coef_rows,
    ):
        dual_gaps[start:stop] = result.dual_gap
        n_iters[start:stop] = result.n_iter
    if verbose:
        for k, alpha in enumerate(alphas):
            print(f"alpha {alpha:.4e}: {np.count_nonzero(coef_rows[k])} nonzero, "
                  f"{n_iters[k]} iterations, gap {dual_gaps[k]:.2e}")
    coefs = coef_rows.T[None] if target_axis else coef_rows.T
    if return_n_iter:
        return alphas, coefs, dual_gaps, n_iters.tolist()
    return alphas, coefs, dual_gaps


def path_solutions(design, y, coef, alphas, **options):
    """Solve along decreasing `alphas`, each fit warm-started from the previous one.

    A generator, so that a caller can use each solution as it comes (cross-validation
    predicts the held-out rows and forgets the coefficients) instead of holding the
    (n_features, n_alphas) path.

    Parameters
    ----------
    design : Design
    y : ndarray of shape (n_samples,)
    coef : ndarray of shape (n_features,), dtype of X
        Start point, updated in place: after each yield it holds that alpha's solution.
    alphas : ndarray of float, decreasing
    **options
        sample_weight, X_mean, norm2, fit_intercept, l1_ratio, penalty_factor, lower,
        upper, max_iter, tol, solver, selection, random_state: as :func:`enet_path`
        (validated; weights rescaled to sum to n_samples); gram: a GramDesign or None.

    Yields
    ------
    k, alpha, solution
        The index in `alphas`, the alpha and the engine's :class:`Solution`.
    """
    for start, stop, result in path_blocks(design, y, coef, alphas, **options):
        for k in range(start, stop):
            coef[:] = result.coefs[k - start]
            yield k, alphas[k], result.solution(k - start)


def path_blocks(design, y, coef, alphas, *, sample_weight, X_mean, norm2, fit_intercept,
                l1_ratio, penalty_factor, lower, upper, max_iter, tol, solver, selection,
                random_state, gram=None, coef_rows=None):
    """Solve along decreasing `alphas` in blocks of alphas, each solved in one call of
    the engine (per alpha, a call from Python costs more than a solve on small data),
    each fit warm-started from the previous one.

    Parameters
    ----------
    design, y, coef, alphas, sample_weight, ..., gram
        As :func:`path_solutions` (`coef` ends at the last alpha's solution).
    coef_rows : ndarray of shape (n_alphas, n_features), dtype of X, or None
        Where to write the solutions (one block, then). None: blocks whose solutions
        stay small beside X, in a buffer reused from block to block.

    Yields
    ------
    start, stop, result
        The block's alphas are alphas[start:stop]; `result` is the engine's
        :class:`PathSolution` with, as `result.coefs`, the block's solutions (rows).
    """
    lipschitz = design.lipschitz(sample_weight, fit_intercept) if solver != "cd" else None
    if y is not None:  # None: a Gram design carries its target moments
        y = np.ascontiguousarray(y)
    random = selection == "random"
    rng = check_random_state(random_state) if random else None
    # one set of work arrays for the whole path, not one per alpha
    workspace = {}
    alphas = np.asarray(alphas, dtype=np.float64)
    if coef_rows is not None:
        block = max(1, len(alphas))
    else:
        x_bytes = (gram.data.nbytes if gram is not None
                   else design.data.nbytes + design.indices.nbytes)
        block = int(min(len(alphas), max(1, max(_BLOCK_BYTES, x_bytes // _X_FRACTION)
                                         // (coef.size * coef.itemsize))))
        buffer = np.empty((block, coef.size), dtype=coef.dtype)
    # the solution at the alpha before the one `coef` solves, for the engine's tangent
    # start (see solve_enet_path's `history`)
    coef_before = None
    for start in range(0, len(alphas), block):
        stop = min(start + block, len(alphas))
        coefs = coef_rows[start:stop] if coef_rows is not None else buffer[:stop - start]
        history = (coef_before, alphas[start - 2] if start > 1 else 0.0,
                   alphas[start - 1]) if start > 0 else None
        if stop < len(alphas) and stop - start < 2:
            coef_before = coef.copy()
        # the sequential strong rule (Tibshirani et al. 2012), applied by the engine on
        # the gradient at the previous solution it computes anyway (for the first alpha
        # of a block; the engine takes the ratios within it)
        previous = alphas[start - 1] if start > 0 else 0.0
        result = solve_enet_path(
            design, y, sample_weight=sample_weight, X_mean=X_mean, norm2=norm2,
            center=fit_intercept, coef=coef, alphas=alphas[start:stop],
            l1_ratio=float(l1_ratio), penalty_factor=penalty_factor, lower=lower,
            upper=upper, max_iter=max_iter, tol=float(tol), solver=solver,
            lipschitz=lipschitz, random=random, gram=gram,
            strong_ratio=previous / alphas[start] if previous and alphas[start] > 0 else 0.0,
            seeds=rng.randint(1, 2**31 - 1, size=stop - start) if random else None,
            workspace=workspace, coefs=coefs, history=history,
            continues=stop < len(alphas),
        )
        if stop < len(alphas) and stop - start >= 2:
            coef_before = coefs[stop - start - 2].copy()
        for k in np.flatnonzero(~result.converged):
            warn_not_converged(result.solution(k), stacklevel=4)
        yield start, stop, _BlockResult(*result, coefs)


class _BlockResult(namedtuple("_BlockResult", PathSolution._fields + ("coefs",))):
    """A block's :class:`PathSolution` and its solutions."""

    __slots__ = ()
    solution = PathSolution.solution


# bytes of solutions a block of alphas may hold (see path_solutions): at least
# _BLOCK_BYTES, else a _X_FRACTION-th of the size of X
_BLOCK_BYTES = 1 << 18
_X_FRACTION = 16


def lasso_path(X, y, *, eps=1e-3, n_alphas=None, alphas=100, precompute="auto", Xy=None,
               copy_X=True, coef_init=None, verbose=False, return_n_iter=False,
               positive=False, **params):
    """Lasso path: :func:`enet_path` with ``l1_ratio=1``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    eps : float, default=1e-3
    n_alphas : int, default=None
        Old spelling of an integer ``alphas``.
    alphas : int or array-like, default=100
    precompute, Xy, copy_X : accepted for compatibility
    coef_init : array-like of shape (n_features,), default=None
    verbose : bool, default=False
    return_n_iter : bool, default=False
    positive : bool, default=False
    **params
        Passed to :func:`enet_path` (tol, max_iter, fit_intercept, sample_weight,
        penalty_factor, bounds, selection, random_state, solver, check_input).

    Returns
    -------
    alphas, coefs, dual_gaps[, n_iters]
        As :func:`enet_path`.
    """
    return enet_path(X, y, l1_ratio=1.0, eps=eps, n_alphas=n_alphas, alphas=alphas,
                     precompute=precompute, Xy=Xy, copy_X=copy_X, coef_init=coef_init,
                     verbose=verbose, return_n_iter=return_n_iter, positive=positive,
                     **params)
