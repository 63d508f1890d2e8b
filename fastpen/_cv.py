"""Cross-validated Lasso and ElasticNet: LassoCV and ElasticNetCV."""
import numbers

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.model_selection import check_cv
from sklearn.utils import column_or_1d

from ._elastic_net import ElasticNet, linear_predict, validate_enet_X
from ._engine import SOLVERS
from ._path import alpha_grid, enet_path
from ._validation import (
    canonical_csc,
    check_bool,
    check_int,
    check_options,
    check_real,
    check_sample_weight,
)


def _fold_path(X, y, sample_weight, train, test, alphas, l1_ratio, path_params,
               store_path):
    """Fit the path on one training fold; return the test MSE per alpha (and the path).

    The training rows are one copy of X (row selection); the test rows are only read
    through a product with the coefficients.
    """
    X_train = X[train]
    if sp.issparse(X_train):
        X_train = canonical_csc(X_train)
    else:
        X_train = np.asfortranarray(X_train)
    sw_train = None if sample_weight is None else sample_weight[train]
    _, coefs, _ = enet_path(X_train, y[train], l1_ratio=l1_ratio, alphas=alphas,
                            sample_weight=sw_train, check_input=False, **path_params)
    if path_params["fit_intercept"]:
        s = np.ones(len(train)) if sw_train is None else np.asarray(sw_train, np.float64)
        x_mean = np.asarray(X_train.T @ s).ravel() / s.sum()
        intercepts = float(s @ y[train]) / s.sum() - x_mean @ coefs
    else:
        intercepts = np.zeros(alphas.size)
    del X_train
    predictions = np.asarray(X[test] @ coefs) + intercepts
    squared = (predictions - y[test][:, np.newaxis]) ** 2
    weights = None if sample_weight is None else sample_weight[test]
    mse = np.average(squared, axis=0, weights=weights)
    return mse, (coefs, intercepts) if store_path else None


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
        ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64))
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
        check_options(self.alpha_rule, "alpha_rule", name, {"min", "1se"})
        check_bool(self.store_path, "store_path", name)
        check_options(self.solver, "solver", name, set(SOLVERS))
        if isinstance(self.alphas, numbers.Integral) and not isinstance(self.alphas, bool):
            check_int(self.alphas, "alphas", name, low=1)
        else:
            alphas = np.asarray(self.alphas, dtype=np.float64)
            if alphas.ndim != 1 or alphas.size == 0 or np.any(~np.isfinite(alphas)) or np.any(alphas < 0):
                raise ValueError(
                    f"The 'alphas' parameter of {name} must be an int >= 1 or an array of "
                    f"non-negative floats. Got {self.alphas!r} instead."
                )

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
        X, y = validate_enet_X(self, X, y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if y.ndim != 1:
            raise ValueError(
                f"For multi-task outputs, use MultiTask{type(self).__name__}: fastpen's "
                "CV estimators take a 1-D y."
            )
        sw = check_sample_weight(sample_weight, X.shape[0], X.dtype)

        if isinstance(self.alphas, numbers.Integral) and not isinstance(self.alphas, bool):
            grids = np.array([
                alpha_grid(X, y, l1_ratio=ratio, eps=self.eps, n_alphas=self.alphas,
                           fit_intercept=self.fit_intercept, sample_weight=sw,
                           positive=self.positive, penalty_factor=self.penalty_factor)
                for ratio in l1_ratios
            ])
        else:
            grids = np.tile(np.sort(np.asarray(self.alphas, np.float64))[::-1],
                            (len(l1_ratios), 1))

        folds = list(check_cv(self.cv).split(X, y, **params))
        path_params = dict(
            fit_intercept=self.fit_intercept, tol=self.tol, max_iter=self.max_iter,
            positive=self.positive, selection=self.selection,
            random_state=self.random_state, penalty_factor=self.penalty_factor,
            lower_bounds=self.lower_bounds, upper_bounds=self.upper_bounds,
            solver=self.solver,
        )
        results = Parallel(n_jobs=self.n_jobs, verbose=self.verbose, prefer="threads")(
            delayed(_fold_path)(X, y, sw, train, test, grid, ratio, path_params,
                                self.store_path)
            for ratio, grid in zip(l1_ratios, grids)
            for train, test in folds
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
        self.alpha_ = float(grids[best_l1, best_alpha])
        self.l1_ratio_ = float(l1_ratios[best_l1])
        self.mse_path_ = np.squeeze(np.moveaxis(mse, 2, 1))
        self.alphas_ = grids[0] if n_l1 == 1 else grids
        if self.store_path:
            self.coef_path_ = np.array([r[1][0] for r in results]).reshape(
                n_l1, n_folds, X.shape[1], -1)
            self.intercept_path_ = np.array([r[1][1] for r in results]).reshape(
                n_l1, n_folds, -1)

        model = ElasticNet(
            alpha=self.alpha_, l1_ratio=self.l1_ratio_, fit_intercept=self.fit_intercept,
            max_iter=self.max_iter, tol=self.tol, positive=self.positive,
            random_state=self.random_state, selection=self.selection,
            penalty_factor=self.penalty_factor, lower_bounds=self.lower_bounds,
            upper_bounds=self.upper_bounds, solver=self.solver,
        ).fit(X, y, sample_weight=sample_weight, check_input=False)
        self.coef_ = model.coef_
        self.intercept_ = model.intercept_
        self.dual_gap_ = model.dual_gap_
        self.n_iter_ = model.n_iter_
        if not self._reports_l1_ratio:
            del self.l1_ratio_
        return self

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
