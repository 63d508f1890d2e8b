"""Cross-validated Lasso and ElasticNet: LassoCV and ElasticNetCV."""
import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state, column_or_1d
from sklearn.utils.metadata_routing import (
    MetadataRouter, MethodMapping, _routing_enabled, process_routing,
)

from ._elastic_net import ElasticNet, linear_predict, validate_enet_X
from ._engine import (
    SOLVERS, Design, HeldOutRows, cancel_workers_on_interrupt, row_means, row_moments,
    run_task, solve_enet, statistics_and_gram, take_rows, use_gram, warn_not_converged,
)
from ._path import (
    centred_correlation, enet_path, grid_from_correlation, lasso_path, path_solutions,
)
from ._validation import (
    check_bool,
    check_bounds,
    check_int,
    check_options,
    check_random_state_param,
    check_penalty_factor,
    check_real,
    check_sample_weight,
)


def _fold_path(X, y, sample_weight, train, test, alphas, l1_ratio, path_params,
               store_path, moments=None, fold_index=0):
    """Fit the path on one training fold; return the test MSE per alpha (and the path).

    The held-out rows are predicted in place as the path goes, in batches of alphas, from
    the columns their coefficients use; no (n_features, n_alphas) array is kept unless
    `store_path`. The training rows are one copy of X (`take_rows`), or, with `moments`
    (dense X, n >> p), none: the fold's Gram matrix is the whole one minus that of the
    held-out rows.
    """
    params = dict(path_params)
    fit_intercept = params.pop("fit_intercept")
    precompute = params.pop("precompute")
    n_features = X.shape[1]
    pf = check_penalty_factor(params.pop("penalty_factor"), n_features)
    lower, upper = check_bounds(params.pop("lower_bounds"), params.pop("upper_bounds"),
                                params.pop("positive"), n_features)
    # a row a split repeats (bootstrap splits) counts as often as it appears, as in
    # X[train]: its weight is multiplied by its count
    test_rows, test_counts = np.unique(np.asarray(test, dtype=np.intp), return_counts=True)
    held_out = HeldOutRows(X, test_rows)
    y_test = np.asarray(y[test_rows], dtype=np.float64)
    w_test = _counted_weights(sample_weight, test_rows, test_counts)
    if moments is not None:
        design, gram = moments.fold(fold_index, train, test)
        X_mean, norm2, sw_train, y_train = gram.X_mean, gram.norm2, None, None
    else:
        train, train_counts = np.unique(np.asarray(train, dtype=np.intp), return_counts=True)
        X_train, train = take_rows(X, train)
        design = Design(X_train)
        sw_train = check_sample_weight(
            _counted_weights(sample_weight, train, train_counts), len(train))
        # (a Gram matrix passed as `precompute` is the whole data's: each fold computes
        # its own)
        X_mean, norm2, gram = statistics_and_gram(
            design, sw_train, fit_intercept, use_gram(precompute, design, params["solver"]),
            solver=params["solver"])
        y_train = y[train]
    coef = np.zeros(n_features, dtype=X.dtype)
    mse = np.empty(alphas.size)
    intercepts = np.empty(alphas.size)
    coef_path = np.empty((n_features, alphas.size), dtype=X.dtype) if store_path else None
    # predictions wait in batches for one pass over the held-out rows (a pass per alpha
    # would reread them 100 times); a batch keeps only its coefficients' supports, and
    # ends early once they and the block of their values would pass _PREDICTION_BYTES
    # (the late alphas of a wide path: 32 supports of 16000 features took 7.8 MB on P3)
    batch = min(alphas.size,
                max(_PREDICTION_BATCH, _PREDICTION_BYTES // (8 * max(1, test.size))))
    supports = []
    index_dtype = np.int32 if n_features <= np.iinfo(np.int32).max else np.intp
    entry_bytes = np.dtype(index_dtype).itemsize + X.dtype.itemsize
    held_entries = 0
    widest = 0

    def predict(start, stop):
        union = np.unique(np.concatenate([support for support, _ in supports]))
        values = np.zeros((union.size, stop - start), dtype=X.dtype, order="F")
        for t, (support, nonzero) in enumerate(supports):
            values[np.searchsorted(union, support), t] = nonzero
        # residuals squared in place: no batch-sized temporaries
        residuals = np.asarray(held_out.predict(union, values), dtype=np.float64)
        residuals += intercepts[start:stop]
        residuals -= y_test[:, None]
        residuals *= residuals
        mse[start:stop] = (residuals.mean(axis=0) if w_test is None
                           else (w_test @ residuals) / w_test.sum())
        supports.clear()

    start = 0
    for k, _, solution in path_solutions(
        design, y_train, coef, alphas, sample_weight=sw_train, X_mean=X_mean, norm2=norm2,
        fit_intercept=fit_intercept, l1_ratio=l1_ratio, penalty_factor=pf, lower=lower,
        upper=upper, gram=gram, **params,
    ):
        support = np.flatnonzero(coef).astype(index_dtype)
        supports.append((support, coef[support]))
        held_entries += support.size
        widest = max(widest, support.size)
        intercepts[k] = solution.intercept
        if store_path:
            coef_path[:, k] = coef
        count = k + 1 - start
        held_bytes = held_entries * entry_bytes + count * widest * X.dtype.itemsize
        if count == batch or k + 1 == alphas.size or held_bytes >= _PREDICTION_BYTES:
            predict(start, k + 1)
            start = k + 1
            held_entries = 0
            widest = 0
    return mse, ((coef_path, intercepts) if store_path else None)


def _counted_weights(sample_weight, rows, counts):
    """The weights of distinct `rows` that a split repeats `counts` times: None when
    every count is 1 and there are no weights."""
    if np.all(counts == 1):
        return None if sample_weight is None else sample_weight[rows]
    weights = counts.astype(np.float64)
    if sample_weight is not None:
        weights *= sample_weight[rows]
    return weights


# alphas whose held-out predictions are computed together: at least this many, more
# while their predictions fit in _PREDICTION_BYTES
_PREDICTION_BATCH = 10
_PREDICTION_BYTES = 1 << 20


class _GramMoments:
    """Raw moments of a dense X (X^T S X, X^T s, X^T S y and the sums) for every fold.

    A fold's centred Gram matrix Q = Xc^T S Xc over its training rows follows from the
    whole data's moments minus those of its held-out rows. The rows are read in place
    (`row_moments`), in parallel pieces: with K-fold X is read once in all, otherwise
    once for the whole plus once per held-out set. Used when n_samples >> n_features,
    where coordinate descent runs on Q.

    Parameters
    ----------
    X : Fortran ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
    sample_weight : ndarray of shape (n_samples,) or None
        Weights of any positive scale.
    fit_intercept : bool
    n_jobs : int or None
        Row blocks computed in parallel threads.
    """

    BLOCK_ROWS = 4096
    SHIFT_ROWS = 1024

    def __init__(self, X, y, sample_weight, fit_intercept, n_jobs, folds):
        self.dtype = X.dtype
        self.n_samples, self.n_features = X.shape
        self.fit_intercept = fit_intercept
        n = X.shape[0]
        # with an intercept, the moments are taken about the whole data's means: a
        # fold's centring then subtracts small terms instead of cancelling large ones
        # (any point near the means will do: those of the first rows cost no pass over X)
        self.x_shift, self.y_shift = None, 0.0
        if fit_intercept and sample_weight is not None:
            # the weighted means (a pass over X): a row that outweighs the others by
            # 1e12 or more leaves the shifted moments' rank-one term cancelling unless the
            # shift is its own value to that accuracy (see GramDesign)
            s = np.asarray(sample_weight, np.float64)
            self.x_shift = Design(X).column_stats(s, True)[0]
            self.y_shift = float(s @ np.asarray(y, np.float64)) / s.sum()
        elif fit_intercept:
            head = slice(0, min(n, self.SHIFT_ROWS))
            s = np.ones(head.stop)
            self.x_shift = np.asarray(X[head].T @ s.astype(X.dtype), np.float64) / s.sum()
            self.y_shift = float(s @ np.asarray(y[head], np.float64)) / s.sum()
        held_out = np.concatenate([test for _, test in folds])
        self.held_out = None
        # a fold is the whole data minus its held-out rows only where its training rows
        # are exactly the others (not so for time-series, partial shuffle or bootstrap
        # splits): the others' moments are taken from their own rows. So too where the
        # held-out rows outweigh the others past _COMPLEMENT_RATIO: the difference would
        # keep the rounding of the held-out rows' moments, not the others' digits
        self.complement = [
            _partitions(n, train, test) and (
                sample_weight is None or np.sum(sample_weight[test])
                <= _COMPLEMENT_RATIO * np.sum(sample_weight[train]))
            for train, test in folds]
        # X, y and the weights of every task: the rows are read in place
        self._data = (X, y, sample_weight)
        if (all(self.complement) and held_out.size == n and len(folds) * X.shape[1] <= n
                and np.all(np.bincount(held_out, minlength=n) == 1)):
            # the held-out sets partition the rows (K-fold): the whole moments are the
            # sum of theirs, so X is read once in all (the K p x p moments are kept,
            # at most the size of X)
            # each held-out set in a few pieces: K tasks on fewer workers would leave
            # one idle for the last round
            pieces = [np.array_split(np.sort(test), _MOMENT_PIECES) for _, test in folds]
            parts = Parallel(n_jobs=n_jobs, prefer="threads")(
                delayed(self._moments)(piece) for fold_pieces in pieces for piece in fold_pieces
            )
            self.held_out = [
                [sum(values) for values in zip(*parts[k:k + _MOMENT_PIECES])]
                for k in range(0, len(parts), _MOMENT_PIECES)
            ]
            self.whole = [sum(values) for values in zip(*self.held_out)]
            return
        blocks = np.array_split(np.arange(n), max(1, n // self.BLOCK_ROWS))
        parts = Parallel(n_jobs=n_jobs, prefer="threads")(
            delayed(self._moments)(block) for block in blocks
        )
        self.whole = [sum(values) for values in zip(*parts)]

    def _moments(self, rows, shift=None):
        """(B^T S B, B^T s, B^T S z, sum s, sum s z, sum s z^2) of the rows B of X
        (shifted by `shift`, (x_shift, y_shift), by default the whole data's;
        z = y - y_shift), in float64 (the products in the dtype of X)."""
        X, y, sample_weight = self._data
        x_shift, y_shift = (self.x_shift, self.y_shift) if shift is None else shift
        return row_moments(X, rows, y, sample_weight, x_shift, y_shift)

    def correlation(self, n_samples):
        """Xc^T S yc of all the rows (weights summing to n_samples): the alpha grid's."""
        _, xs, xsy, total, sy, _ = self.whole
        if self.fit_intercept:
            xsy = xsy - xs * (sy / total)
        return (n_samples / total) * xsy

    def fold(self, index, train, test):
        """(design, gram) of training fold `index`: the whole moments minus those of its
        held-out rows `test` (where `train` is all the others), else those of the rows
        `train` (repeats counted). `index` None: all the rows (the refit)."""
        x_shift, y_shift = self.x_shift, self.y_shift
        if index is None:
            n_train = self.n_samples
            moments = self.whole
        elif not self.complement[index]:
            n_train = len(train)
            rows = np.sort(np.asarray(train, dtype=np.intp))
            X, y, sample_weight = self._data
            if self.fit_intercept and sample_weight is not None:
                # weighted rows: shifted by their own means (a pass of p per row), the
                # whole data's being those of a row that may outweigh them by 1e13 and
                # lie far from them (coefficients 1.3e-3 off, mse 11%)
                x_shift, y_shift = row_means(X, rows, y, sample_weight)
            moments = self._moments(rows, (x_shift, y_shift))
        else:
            n_train = len(train)
            held_out = (self.held_out[index] if self.held_out is not None
                        else self._moments(np.sort(np.asarray(test, dtype=np.intp))))
            moments = [a - b for a, b in zip(self.whole, held_out)]
        G, xs, xsy, total, sy, syy = moments
        # the engines' weights sum to n_train: rescale the moments accordingly
        scale = n_train / total
        if self.fit_intercept:
            # the fold's means of the shifted data, then of the data
            x_mean, y_mean = xs / total, sy / total
            Q = scale * (G - total * np.outer(x_mean, x_mean))
            xty = scale * (xsy - total * x_mean * y_mean)
            y_norm2 = scale * (syy - total * y_mean * y_mean)
            x_mean, y_mean = x_mean + x_shift, y_mean + y_shift
        else:
            Q, xty, y_norm2 = scale * G, scale * xsy, scale * syy
            x_mean, y_mean = np.zeros(self.n_features), 0.0
        diag = np.diag(Q).copy()
        # columns constant over the training rows, up to the rounding of the difference
        diag[diag <= 64 * np.finfo(self.dtype).eps * scale * np.diag(G)] = 0.0
        gram = _FoldGram(np.asfortranarray(Q, dtype=np.float64), diag, x_mean,
                         np.asarray(xty, dtype=np.float64), max(y_norm2, 0.0), y_mean)
        return _FoldShape(n_train, self.n_features, self.dtype), gram


# pieces of each held-out set whose moments are computed as separate tasks
_MOMENT_PIECES = 2


class _FoldShape:
    """What the engines read of a design when they run on a Gram matrix."""

    def __init__(self, n_samples, n_features, dtype):
        self.n_samples, self.n_features, self.dtype = n_samples, n_features, dtype


class _FoldGram:
    """A training fold's Q = Xc^T S Xc and target moments, for ``solve_enet(gram=...)``."""

    def __init__(self, Q, norm2, X_mean, xty, y_norm2, y_mean):
        self.Q, self.norm2, self.X_mean = Q, norm2, X_mean
        self.data = Q.reshape(-1, order="F")
        self._target = (xty, y_norm2, y_mean)

    def target(self, y):
        """(Xc^T S yc, ||yc||_S^2, y_mean): fixed for the fold, whatever `y` is."""
        return self._target


# a fold's moments as the whole's minus its held-out rows' lose about
# log10(held-out weight / training weight) digits
_COMPLEMENT_RATIO = 1e4


def _partitions(n_samples, train, test):
    """Whether `train` and `test` split the rows 0..n_samples-1, each row once."""
    if len(train) + len(test) != n_samples:
        return False
    return bool(np.all(np.bincount(np.concatenate([train, test]).astype(np.intp),
                                   minlength=n_samples) == 1))


def _gram_folds(precompute, X, solver, folds):
    """Whether the folds run on Gram matrices from shared moments: dense X, cd, and
    ('auto') every training fold at least twice as tall as wide, so that Q stays
    smaller than the fold it replaces."""
    if sp.issparse(X) or solver != "cd" or not isinstance(precompute, (bool, np.bool_, str)):
        return False
    if isinstance(precompute, str):
        return min(len(train) for train, _ in folds) >= 2 * X.shape[1]
    return bool(precompute)


class ElasticNetCV(RegressorMixin, BaseEstimator):
    """Elastic net with the regularization chosen by cross-validation.

    A drop-in for scikit-learn's ``ElasticNetCV``: same parameters, attributes, alpha
    grid and fold handling (folds run in parallel threads: the engines release the
    GIL, and ``joblib.parallel_backend`` sends them elsewhere, dask included). Beyond it:

    - ``alpha_rule='1se'``: the largest alpha whose mean CV error is within one standard
      error of the minimum (glmnet's lambda.1se; scikit-learn issue #6630);
    - ``store_path=True`` keeps every fold's coefficient path (``coef_path_``,
      ``intercept_path_``; scikit-learn issue #28726);
    - ``penalty_factor``, ``lower_bounds``, ``upper_bounds`` and ``solver`` are passed to
      every fit.

    Parameters
    ----------
    l1_ratio : float or list of float, default=0.5
        Elastic-net mixing; a list is searched together with alpha.
    eps : float, default=1e-3
        alpha_min / alpha_max of the generated grid.
    alphas : int or array-like, default=100
        Number of alphas on the generated grid (per l1_ratio), or the alphas.
    fit_intercept : bool, default=True
    precompute : bool, 'auto' or array-like, default='auto'
        Accepted for compatibility; does not change the solution.
    max_iter : int, default=1000
    tol : float, default=1e-4
        Duality-gap tolerance of every fit (scikit-learn's scaling).
    cv : int, cross-validation generator or iterable, default=None
        As scikit-learn (None is 5-fold).
    copy_X : bool, default=True
        Accepted for compatibility; X is never modified.
    verbose : bool or int, default=0
    n_jobs : int, default=None
        Parallel folds (threads).
    positive : bool, default=False
    random_state : int, RandomState instance or None, default=None
    selection : {'cyclic', 'random'}, default='cyclic'
    alpha_rule : {'min', '1se'}, default='min'
        Alpha with the smallest mean CV error, or the largest within one standard error
        of it.
    store_path : bool, default=False
        Keep every fold's coefficient path.
    penalty_factor : array-like of shape (n_features,), default=None
    lower_bounds, upper_bounds : float or array-like of shape (n_features,), default=None
    solver : {'cd', 'fista', 'ista'}, default='cd'

    Attributes
    ----------
    alpha_ : float
    l1_ratio_ : float
    alphas_ : ndarray of shape (n_alphas,) or (n_l1_ratio, n_alphas)
    mse_path_ : ndarray of shape (n_alphas, n_folds) or (n_l1_ratio, n_alphas, n_folds)
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    dual_gap_ : float
    n_iter_ : int
    coef_path_ : ndarray of shape (n_l1_ratio, n_folds, n_features, n_alphas)
        Only with ``store_path=True``; ``intercept_path_`` has shape
        (n_l1_ratio, n_folds, n_alphas).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    """

    def __init__(self, *, l1_ratio=0.5, eps=1e-3, alphas=100, fit_intercept=True,
                 precompute="auto", max_iter=1000, tol=1e-4, cv=None, copy_X=True,
                 verbose=0, n_jobs=None, positive=False, random_state=None,
                 selection="cyclic", alpha_rule="min", store_path=False,
                 penalty_factor=None, lower_bounds=None, upper_bounds=None, solver="cd"):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.copy_X = copy_X
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.alpha_rule = alpha_rule
        self.store_path = store_path
        self.penalty_factor = penalty_factor
        self.lower_bounds = lower_bounds
        self.upper_bounds = upper_bounds
        self.solver = solver

    _reports_l1_ratio = True

    def _l1_ratios(self):
        try:
            ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64))
        except (TypeError, ValueError):
            raise ValueError(
                f"The 'l1_ratio' parameter of {type(self).__name__} must be a float in "
                f"the range [0, 1] or an array-like of them. Got {self.l1_ratio!r} "
                "instead.") from None
        if ratios.size == 0:
            raise ValueError(f"The 'l1_ratio' parameter of {type(self).__name__} must "
                             "hold at least one value.")
        for ratio in ratios:
            check_real(float(ratio), "l1_ratio", type(self).__name__, low=0, high=1)
        return ratios

    def _check_params(self):
        name = type(self).__name__
        check_real(self.eps, "eps", name, low=0, low_open=True)
        check_bool(self.fit_intercept, "fit_intercept", name)
        check_int(self.max_iter, "max_iter", name, low=1)
        check_real(self.tol, "tol", name, low=0)
        check_bool(self.positive, "positive", name)
        check_options(self.selection, "selection", name, {"cyclic", "random"})
        check_random_state_param(self.random_state, name)
        check_options(self.alpha_rule, "alpha_rule", name, {"min", "1se"})
        check_bool(self.store_path, "store_path", name)
        check_options(self.solver, "solver", name, set(SOLVERS))
        check_bool(self.copy_X, "copy_X", name)
        check_int(self.n_jobs, "n_jobs", name, allow_none=True)
        if not isinstance(self.verbose, numbers.Integral):
            raise ValueError(f"The 'verbose' parameter of {name} must be an int or a bool. "
                             f"Got {self.verbose!r} instead.")
        if isinstance(self.precompute, str):
            check_options(self.precompute, "precompute", name, {"auto"})
        if isinstance(self.alphas, numbers.Integral) and not isinstance(self.alphas, bool):
            check_int(self.alphas, "alphas", name, low=1)
        else:
            try:
                alphas = np.asarray(self.alphas, dtype=np.float64)
            except (TypeError, ValueError):
                alphas = np.array([np.nan])  # reported below
            if alphas.ndim != 1 or alphas.size == 0 or np.any(~np.isfinite(alphas)) or np.any(alphas < 0):
                raise ValueError(
                    f"The 'alphas' parameter of {name} must be an int >= 1 or an array of "
                    f"non-negative floats. Got {self.alphas!r} instead."
                )

    path = staticmethod(enet_path)  # (as in scikit-learn)

    def fit(self, X, y, sample_weight=None, **params):
        """Choose alpha (and l1_ratio) by cross-validation, then refit on all the data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : float or array-like of shape (n_samples,), default=None
            Used in every fit and to weight the test errors.
        **params : dict
            Passed to the CV splitter's ``split`` (e.g. ``groups``).

        Returns
        -------
        self : object
        """
        self._check_params()
        l1_ratios = self._l1_ratios()
        # mse_path_ takes the type of X and y as given, as scikit-learn's
        try:
            errors_dtype = np.result_type(
                getattr(X, "dtype", np.float64), getattr(y, "dtype", np.float64),
                np.float32)
        except TypeError:  # (non-numeric input: validation says so next)
            errors_dtype = np.float64
        X, y = validate_enet_X(self, X, y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim != 1:
            raise ValueError(
                f"For multi-task outputs, use MultiTask{type(self).__name__} (scikit-learn's "
                "name; fastpen has no multi-task estimators): fastpen's CV estimators take "
                "a 1-D y."
            )
        sw = check_sample_weight(sample_weight, X.shape[0])

        if _routing_enabled():
            # (groups and the like reach the splitter through the metadata router)
            params = process_routing(self, "fit", sample_weight=sample_weight,
                                     **params).splitter.split
        folds = list(check_cv(self.cv).split(X, y, **params))
        if self.alpha_rule == "1se" and len(folds) < 2:
            raise ValueError(
                "alpha_rule='1se' needs the standard error of the folds' errors, so at "
                f"least 2 CV splits; got {len(folds)}. Use alpha_rule='min'.")
        if sw is not None:
            for index, (_, test) in enumerate(folds):
                if not np.any(sw[test] > 0):
                    # (its weighted mean squared error is 0 / 0: scikit-learn raises too)
                    raise ValueError(
                        f"The sample weights of test fold {index} sum to zero: its "
                        "weighted mean squared error is undefined. Use folds that "
                        "each hold a sample of nonzero weight.")
        if not isinstance(self.precompute, (bool, np.bool_, str)):
            # (scikit-learn's message with an intercept; without one it checks the
            # whole data's matrix against each fold's rows, and fails)
            warnings.warn(
                "Gram matrix was provided but X was centered to fit intercept: "
                "recomputing Gram matrix." if self.fit_intercept else
                "A Gram matrix passed as 'precompute' is that of all the rows: each "
                "cross-validation fold computes its own.", UserWarning, stacklevel=2)
        moments = None
        if _gram_folds(self.precompute, X, self.solver, folds):
            moments = _GramMoments(X, y, sw, self.fit_intercept, self.n_jobs, folds)
        grids = self._alpha_grids(X, y, sw, l1_ratios, moments)
        path_params = dict(
            fit_intercept=self.fit_intercept, tol=self.tol, max_iter=self.max_iter,
            positive=self.positive, selection=self.selection,
            random_state=self.random_state, penalty_factor=self.penalty_factor,
            lower_bounds=self.lower_bounds, upper_bounds=self.upper_bounds,
            solver=self.solver, precompute=self.precompute,
        )
        with cancel_workers_on_interrupt() as call:
            results = Parallel(n_jobs=self.n_jobs, verbose=self.verbose, prefer="threads")(
                delayed(run_task)(call, _fold_path, X, y, sw, train, test, grid, ratio,
                                  path_params, self.store_path, moments, index)
                for ratio, grid in zip(l1_ratios, grids)
                for index, (train, test) in enumerate(folds)
            )
        n_l1, n_folds = len(l1_ratios), len(folds)
        mse = np.array([r[0] for r in results]).reshape(n_l1, n_folds, -1)
        mean = mse.mean(axis=1)  # (n_l1, n_alphas)
        best_l1, best_alpha = np.unravel_index(np.argmin(mean), mean.shape)
        if self.alpha_rule == "1se":
            standard_error = mse[best_l1].std(axis=0, ddof=1) / np.sqrt(n_folds)
            threshold = mean[best_l1, best_alpha] + standard_error[best_alpha]
            # alphas decrease along the grid: the first within the threshold is the largest
            best_alpha = int(np.flatnonzero(mean[best_l1] <= threshold)[0])
        self.alpha_ = np.float64(grids[best_l1, best_alpha])
        self.l1_ratio_ = np.float64(l1_ratios[best_l1])
        # (alpha_ was chosen on the float64 errors)
        self.mse_path_ = np.squeeze(np.moveaxis(mse, 2, 1)).astype(
            errors_dtype if errors_dtype in (np.float32, np.float64) else np.float64,
            copy=False)
        given = not isinstance(self.alphas, numbers.Integral) or isinstance(self.alphas, bool)
        # (scikit-learn: given alphas are one grid whatever the l1_ratios)
        self.alphas_ = grids[0] if n_l1 == 1 or given else grids
        if self.store_path:
            self.coef_path_ = np.array([r[1][0] for r in results]).reshape(
                n_l1, n_folds, X.shape[1], -1)
            self.intercept_path_ = np.array([r[1][1] for r in results]).reshape(
                n_l1, n_folds, -1)

        if moments is not None:
            self._refit_on_gram(moments, X.shape[0])
            if not self._reports_l1_ratio:
                del self.l1_ratio_
            return self
        model = ElasticNet(
            alpha=self.alpha_, l1_ratio=self.l1_ratio_, fit_intercept=self.fit_intercept,
            max_iter=self.max_iter, tol=self.tol, positive=self.positive,
            random_state=self.random_state, selection=self.selection,
            penalty_factor=self.penalty_factor, lower_bounds=self.lower_bounds,
            upper_bounds=self.upper_bounds, solver=self.solver,
            precompute=False,
        ).fit(X, y, sample_weight=sample_weight, check_input=False)
        self.coef_ = model.coef_
        self.intercept_ = model.intercept_
        self.dual_gap_ = model.dual_gap_
        self.n_iter_ = model.n_iter_
        if not self._reports_l1_ratio:
            del self.l1_ratio_
        return self

    def get_metadata_routing(self):
        """Metadata routing of this object: its own requests, and ``fit``'s metadata
        routed to the CV splitter's ``split`` (``groups``), as in scikit-learn.

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
        """
        return (MetadataRouter(owner=self).add_self_request(self)
                .add(splitter=check_cv(self.cv),
                     method_mapping=MethodMapping().add(caller="fit", callee="split")))

    def _alpha_grids(self, X, y, sw, l1_ratios, moments):
        """The alpha grid of every l1_ratio, (n_l1_ratio, n_alphas), from one read of X
        (none with the moments); its p-sized intermediates are gone before the folds."""
        if not isinstance(self.alphas, numbers.Integral) or isinstance(self.alphas, bool):
            return np.tile(np.sort(np.asarray(self.alphas, np.float64))[::-1],
                           (len(l1_ratios), 1))
        if moments is not None:
            correlation = moments.correlation(X.shape[0])
        else:
            design = Design(X)
            X_mean, _ = design.column_stats(sw, self.fit_intercept)
            correlation = centred_correlation(design, X_mean, y, sw, self.fit_intercept)
        pf = check_penalty_factor(self.penalty_factor, X.shape[1])
        return np.array([
            grid_from_correlation(correlation, X.shape[0], pf, self.positive, ratio,
                                  self.eps, self.alphas)
            for ratio in l1_ratios
        ])

    def _refit_on_gram(self, moments, n_samples):
        """The final fit at (alpha_, l1_ratio_) on all the rows, from the Gram matrix the
        folds' moments already give (ElasticNet's fit, without reading X again)."""
        design, gram = moments.fold(None, None, None)
        n_features = design.n_features
        pf = check_penalty_factor(self.penalty_factor, n_features)
        lower, upper = check_bounds(self.lower_bounds, self.upper_bounds, self.positive,
                                    n_features)
        coef = np.zeros(n_features, dtype=design.dtype)
        if self.alpha_ == 0:
            warnings.warn(
                "With alpha=0, this algorithm does not converge well. You are advised "
                "to use the LinearRegression estimator", stacklevel=3)
        random = self.selection == "random"
        rng = check_random_state(self.random_state) if random else None
        solution = solve_enet(
            design, None, sample_weight=None, X_mean=gram.X_mean, norm2=gram.norm2,
            center=self.fit_intercept, coef=coef, alpha=self.alpha_,
            l1_ratio=self.l1_ratio_, penalty_factor=pf, lower=lower, upper=upper,
            max_iter=self.max_iter, tol=float(self.tol), solver="cd", gram=gram,
            random=random, seed=rng.randint(1, 2**31 - 1) if random else 1,
        )
        if not solution.converged:
            warn_not_converged(solution, stacklevel=3)
        self.coef_ = coef
        self.intercept_ = np.float64(solution.intercept) if self.fit_intercept else 0.0
        self.dual_gap_ = design.dtype.type(solution.dual_gap)
        self.n_iter_ = solution.n_iter

    def predict(self, X):
        """Predict with the refitted model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        return linear_predict(self, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class LassoCV(ElasticNetCV):
    """Lasso with alpha chosen by cross-validation: :class:`ElasticNetCV` with
    ``l1_ratio=1``.

    Parameters
    ----------
    eps : float, default=1e-3
    alphas : int or array-like, default=100
    fit_intercept : bool, default=True
    precompute : bool, 'auto' or array-like, default='auto'
    max_iter : int, default=1000
    tol : float, default=1e-4
    copy_X : bool, default=True
    cv : int, cross-validation generator or iterable, default=None
    verbose : bool or int, default=False
    n_jobs : int, default=None
    positive : bool, default=False
    random_state : int, RandomState instance or None, default=None
    selection : {'cyclic', 'random'}, default='cyclic'
    alpha_rule : {'min', '1se'}, default='min'
    store_path : bool, default=False
    penalty_factor : array-like of shape (n_features,), default=None
    lower_bounds, upper_bounds : float or array-like, default=None
    solver : {'cd', 'fista', 'ista'}, default='cd'

    Attributes
    ----------
    alpha_ : float
    alphas_ : ndarray of shape (n_alphas,)
    mse_path_ : ndarray of shape (n_alphas, n_folds)
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    dual_gap_ : float
    n_iter_ : int
    coef_path_ : ndarray of shape (1, n_folds, n_features, n_alphas)
        Only with ``store_path=True``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
    """

    path = staticmethod(lasso_path)  # (as in scikit-learn)

    def __init__(self, *, eps=1e-3, alphas=100, fit_intercept=True, precompute="auto",
                 max_iter=1000, tol=1e-4, copy_X=True, cv=None, verbose=False, n_jobs=None,
                 positive=False, random_state=None, selection="cyclic", alpha_rule="min",
                 store_path=False, penalty_factor=None, lower_bounds=None,
                 upper_bounds=None, solver="cd"):
        super().__init__(
            l1_ratio=1.0, eps=eps, alphas=alphas, fit_intercept=fit_intercept,
            precompute=precompute, max_iter=max_iter, tol=tol, cv=cv, copy_X=copy_X,
            verbose=verbose, n_jobs=n_jobs, positive=positive, random_state=random_state,
            selection=selection, alpha_rule=alpha_rule, store_path=store_path,
            penalty_factor=penalty_factor, lower_bounds=lower_bounds,
            upper_bounds=upper_bounds, solver=solver,
        )

    # as scikit-learn's: LassoCV reports no l1_ratio_
    _reports_l1_ratio = False
