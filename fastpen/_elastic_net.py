"""ElasticNet and Lasso estimators: drop-ins for scikit-learn's, on fastpen's engine."""
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._engine import (
    SOLVERS, Design, given_gram, solve_enet, statistics_and_gram, use_gram, warn_not_converged,
)
from ._path import enet_path
from ._validation import (
    canonical_csc,
    check_bool,
    check_bounds,
    check_int,
    check_options,
    check_random_state_param,
    check_penalty_factor,
    check_real,
    check_sample_weight,
)



def validate_enet_X(estimator, X, y, *, reset=True):
    """Validate X and y without copying or upcasting X where the engine can read it.

    Dense X becomes Fortran float32/float64 (a copy only for C-ordered or integer input);
    sparse X becomes canonical CSC with int32 or int64 indices, never densified.
    """
    X, y = validate_data(
        estimator,
        X,
        y,
        reset=reset,
        accept_sparse=["csc", "csr", "coo"],
        accept_large_sparse=True,
        dtype=[np.float64, np.float32],
        order="F",
        copy=False,
        multi_output=True,
        y_numeric=True,
    )
    if sp.issparse(X):
        X = canonical_csc(X)
    y = check_array(y, dtype=X.dtype.type, ensure_2d=False, copy=False, order="C")
    return X, y


def linear_predict(estimator, X):
    """X @ coef_.T + intercept_ for a fitted estimator, X validated against its fit."""
    check_is_fitted(estimator)
    X = validate_data(estimator, X, accept_sparse=["csr", "csc", "coo"], reset=False,
                      accept_large_sparse=True)
    coef = np.asarray(estimator.coef_)
    predicted = np.asarray(X @ coef.T) + estimator.intercept_
    # float32 X on a model fitted on float32 gives float32 predictions, as scikit-learn's
    # (a single target's intercept_ stays the float64 one the gap certified: rounded
    # once, at the end); a model fitted on float64 predicts in float64
    if np.result_type(X.dtype, coef.dtype) == np.float32:
        return predicted.astype(np.float32, copy=False)
    return predicted


class ElasticNet(MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Linear regression with combined L1 and L2 priors, by coordinate descent.

    Minimises scikit-learn's objective::

        1 / (2 * n_samples) * sum_i s_i (y_i - x_i w - b)^2
        + alpha * sum_j pf_j * (l1_ratio * |w_j| + 0.5 * (1 - l1_ratio) * w_j^2)

    subject to ``lower_bounds <= w <= upper_bounds``, where s are the sample weights
    rescaled to sum to n_samples and pf the penalty factors (all ones by default).

    Parameters
    ----------
    alpha : float, default=1.0
        Constant that multiplies the penalty terms. ``alpha=0`` is ordinary least squares
        (and warns, as scikit-learn does).
    l1_ratio : float, default=0.5
        Mixing parameter in [0, 1]: 1 is the Lasso, 0 the ridge penalty.
    fit_intercept : bool, default=True
        Whether to fit an intercept. X is centred implicitly: it is never copied, and a
        coordinate update on sparse X touches only the column's nonzeros.
    precompute : bool, 'auto' or array-like of shape (n_features, n_features), default=False
        Run coordinate descent on the Gram matrix Q = Xc^T S Xc (solver='cd'):
        True always, 'auto' when n_samples > n_features and X is dense (or sparse
        float64 with at least n_features^2 stored entries), or a given Q (checked
        against X on a few entries, as scikit-learn does). Same solution, different cost: an
        epoch is O(n_features^2) instead of O(n_samples n_features). With an intercept
        and a column whose mean exceeds 1e4 times its standard deviation, implicit
        centring would cancel its digits: X with n_samples >= n_features (sparse X
        storing n_features^2 entries at least) then takes the Gram matrix, centred
        exactly, whatever this says; other X warn.
    max_iter : int, default=1000
        Maximum number of epochs (passes over the features).
    copy_X : bool, default=True
        Accepted for compatibility. fastpen never modifies X, so no copy is ever needed.
    tol : float, default=1e-4
        Stop when the duality gap is at most ``tol * ||y - mean(y)||_S^2`` (in the
        unscaled objective, scikit-learn's rule). ``dual_gap_`` reports the gap reached.
        The target is floored at what float64 rounding of the residual can certify
        (``n (4 eps max|y - mean(y)|)^2``, or ``64 eps ||y - mean(y)||^2`` on a Gram
        matrix): ``tol=0`` stops there, not at ``max_iter`` as in scikit-learn, unless
        terms ``|x_ij w_j|`` far above ``|y|`` round the residual above that floor (the
        fit then runs to ``max_iter`` and warns, as scikit-learn's does).
    warm_start : bool, default=False
        Start from the previous ``coef_``.
    positive : bool, default=False
        Constrain the coefficients to be non-negative (a lower bound of 0).
    random_state : int, RandomState instance or None, default=None
        Seed of the random coordinate order when ``selection='random'``.
    selection : {'cyclic', 'random'}, default='cyclic'
        Coordinate order: cyclic, or a random feature at each step.
    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature multipliers of the penalty (glmnet's ``penalty.factor``); 0 leaves a
        feature unpenalized. Used as given: unlike glmnet they are not rescaled to sum
        to n_features. None means all ones (scikit-learn's behaviour). The duality gap
        stays a bound with unpenalized features by projecting off their columns, which
        takes three square matrices of their number: up to 512 of them, or more while
        those matrices fit in the size of X. Beyond that a ``UserWarning`` says that
        ``dual_gap_`` is an estimate.
    lower_bounds, upper_bounds : float or array-like of shape (n_features,), default=None
        Box constraints on the coefficients (glmnet's ``lower.limits`` /
        ``upper.limits``); lower bounds must be <= 0 and upper bounds >= 0. None means
        unbounded.
    solver : {'cd', 'fista', 'ista'}, default='cd'
        'cd' is coordinate descent (with gap-safe screening and active-set cycling).
        'fista' is accelerated proximal gradient with adaptive restart, step 1/L from a
        power iteration with backtracking; 'ista' the plain proximal gradient, for
        reference. All stop on the same duality gap.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, in the dtype of X (float32 stays float32).
    intercept_ : float or ndarray of shape (n_targets,)
        Independent term.
    n_iter_ : int or list of int
        For each target: epochs for 'cd' (counted in full passes over the non-screened
        features; sweeps over the nonzero coefficients count as the fraction of a pass
        they read), iterations for 'fista' and 'ista'.
    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap reached, scaled as scikit-learn's (gap of the unscaled objective
        divided by n_samples): an upper bound on the suboptimality of the coefficients
        returned. The dual point is scikit-learn's rescaled residual or, with
        ``solver="cd"``, an extrapolation of the last residuals when that gives a
        smaller gap. For float32 X the solvers iterate in float64 and the dual point is
        that of the float64 iterate the float32 coefficients are rounded from (against
        it, the rounding costs the gap only second-order terms).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when X has string column names.
    sparse_coef_ : sparse matrix of shape (n_targets, n_features)
        ``coef_`` as a CSR matrix.

    See Also
    --------
    Lasso : the special case l1_ratio=1.

    Examples
    --------
    >>> import numpy as np
    >>> from fastpen import ElasticNet
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.5]])
    >>> y = np.array([0.1, 1.0, 2.1, 2.9])
    >>> model = ElasticNet(alpha=0.01).fit(X, y)
    >>> model.coef_.shape
    (2,)
    """

    def __init__(
        self,
        alpha=1.0,
        *,
        l1_ratio=0.5,
        fit_intercept=True,
        precompute=False,
        max_iter=1000,
        copy_X=True,
        tol=1e-4,
        warm_start=False,
        positive=False,
        random_state=None,
        selection="cyclic",
        penalty_factor=None,
        lower_bounds=None,
        upper_bounds=None,
        solver="cd",
    ):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.copy_X = copy_X
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection
        self.penalty_factor = penalty_factor
        self.lower_bounds = lower_bounds
        self.upper_bounds = upper_bounds
        self.solver = solver

    def _check_params(self):
        name = type(self).__name__
        check_real(self.alpha, "alpha", name, low=0)
        check_real(self.l1_ratio, "l1_ratio", name, low=0, high=1)
        check_bool(self.fit_intercept, "fit_intercept", name)
        check_int(self.max_iter, "max_iter", name, low=1)
        check_bool(self.copy_X, "copy_X", name)
        check_real(self.tol, "tol", name, low=0)
        check_bool(self.warm_start, "warm_start", name)
        check_bool(self.positive, "positive", name)
        check_options(self.selection, "selection", name, {"cyclic", "random"})
        check_random_state_param(self.random_state, name)
        check_options(self.solver, "solver", name, set(SOLVERS))
        if self.selection == "random" and self.solver != "cd":
            raise ValueError(
                f"selection='random' is a coordinate-descent option; solver={self.solver!r} "
                "has no coordinate order. Use solver='cd' or selection='cyclic'."
            )
        precompute = self.precompute
        if not (isinstance(precompute, (bool, np.bool_)) or (
            isinstance(precompute, str) and precompute == "auto"
        ) or hasattr(precompute, "shape") or isinstance(precompute, (list, tuple))):
            raise ValueError(
                f"The 'precompute' parameter of {name} must be an instance of 'bool', "
                f"'auto' or an array-like. Got {precompute!r} instead."
            )

    # (scikit-learn's: the path function, also reached through the estimator)
    path = staticmethod(enet_path)

    def fit(self, X, y, sample_weight=None, check_input=True):
        """Fit the model by coordinate descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Fortran-ordered float32/float64 arrays and CSC matrices (int32
            or int64 indices) are read in place; other layouts are converted once.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target, cast to the dtype of X. A 2-D y fits one model per target.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Sample weights, rescaled internally to sum to n_samples.
        check_input : bool, default=True
            Skip input validation when False (X must then be Fortran float or CSC).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._check_params()
        if self.alpha == 0:
            warnings.warn(
                "With alpha=0, this algorithm does not converge well. You are advised "
                "to use the LinearRegression estimator",
                stacklevel=2,
            )
        if check_input:
            X, y = validate_enet_X(self, X, y)
        else:
            if sp.issparse(X):
                X = canonical_csc(X)
            y = np.asarray(y, dtype=X.dtype)
            self.n_features_in_ = X.shape[1]
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_  # (a fit before's names, unchecked input)
        if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
            # (unchecked input too: the engines would read past the end of y)
            raise ValueError(f"y must have shape (n_samples,) or (n_samples, n_targets) "
                             f"with n_samples = {X.shape[0]}; got {y.shape}.")
        design = Design(X)
        n_samples, n_features = X.shape

        sample_weight = check_sample_weight(sample_weight, n_samples)
        penalty_factor = check_penalty_factor(self.penalty_factor, n_features)
        lower, upper = check_bounds(
            self.lower_bounds, self.upper_bounds, self.positive, n_features
        )
        Y = y[:, np.newaxis] if y.ndim == 1 else y
        n_targets = Y.shape[1]
        coef = self._initial_coef(n_targets, n_features, X.dtype)
        X_mean, norm2, gram = statistics_and_gram(
            design, sample_weight, self.fit_intercept,
            use_gram(self.precompute, design, self.solver), given_gram(self.precompute),
            solver=self.solver)
        # one step constant serves every target
        lipschitz = (design.lipschitz(sample_weight, self.fit_intercept)
                     if self.solver != "cd" else None)
        random = self.selection == "random"
        rng = check_random_state(self.random_state) if random else None

        # float64: the gap certifies coef_ with this intercept (y_mean - X_mean . coef_);
        # rounded to float32 it was up to half a float32 unit off (5e-4 at 1e4), a loss
        # the gap did not cover. A single target's is a float64 scalar anyway
        intercepts = np.zeros(n_targets)
        gaps = np.zeros(n_targets, dtype=X.dtype)
        n_iters = []
        for k in range(n_targets):
            target = np.ascontiguousarray(Y[:, k])
            w = np.ascontiguousarray(coef[k])
            solution = solve_enet(
                design, target, sample_weight=sample_weight, X_mean=X_mean, norm2=norm2,
                center=self.fit_intercept, coef=w, alpha=float(self.alpha),
                l1_ratio=float(self.l1_ratio), penalty_factor=penalty_factor,
                lower=lower, upper=upper, max_iter=self.max_iter, tol=float(self.tol),
                solver=self.solver, lipschitz=lipschitz, gram=gram,
                random=random, seed=rng.randint(1, 2**31 - 1) if random else 1,
            )
            if not solution.converged:
                warn_not_converged(
                    solution, no_l1=self.alpha * self.l1_ratio < np.finfo(np.float64).eps)
            coef[k] = w
            intercepts[k] = solution.intercept
            gaps[k] = solution.dual_gap
            n_iters.append(solution.n_iter)

        if n_targets == 1 and y.ndim == 1:
            self.coef_ = coef[0]
            self.intercept_ = np.float64(intercepts[0]) if self.fit_intercept else 0.0
            self.dual_gap_ = gaps[0]
            self.n_iter_ = n_iters[0]
        else:
            self.coef_ = coef[0] if n_targets == 1 else coef
            self.intercept_ = intercepts.astype(X.dtype) if self.fit_intercept else 0.0
            if n_targets == 1:
                self.dual_gap_ = gaps[0]
                self.n_iter_ = n_iters[0]
            else:
                self.dual_gap_ = gaps
                self.n_iter_ = n_iters

        if not (np.all(np.isfinite(self.coef_)) and np.all(np.isfinite(self.intercept_))):
            raise ValueError(
                "Coordinate descent iterations resulted in non-finite parameter values. "
                "The input data may contain large values and need to be preprocessed."
            )
        return self

    def _initial_coef(self, n_targets, n_features, dtype):
        if self.warm_start and hasattr(self, "coef_"):
            previous = np.atleast_2d(np.asarray(self.coef_))
            if previous.shape == (n_targets, n_features):
                return np.array(previous, dtype=dtype)
        return np.zeros((n_targets, n_features), dtype=dtype)

    @property
    def sparse_coef_(self):
        """Sparse representation of the fitted ``coef_`` (CSR matrix, 2-D, as in
        scikit-learn: ``*`` is its matrix product)."""
        return sp.csr_matrix(np.atleast_2d(self.coef_))

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
        """
        return linear_predict(self, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class Lasso(ElasticNet):
    """Linear model trained with an L1 penalty (the Lasso), by coordinate descent.

    Minimises scikit-learn's objective::

        1 / (2 * n_samples) * sum_i s_i (y_i - x_i w - b)^2 + alpha * sum_j pf_j |w_j|

    subject to ``lower_bounds <= w <= upper_bounds``. It is :class:`ElasticNet` with
    ``l1_ratio=1``; see there for the details of every parameter and attribute.

    Parameters
    ----------
    alpha : float, default=1.0
        Constant that multiplies the L1 term. ``alpha=0`` warns (use least squares).
    fit_intercept : bool, default=True
        Whether to fit an intercept (implicit centring; X is never copied).
    precompute : bool, 'auto' or array-like, default=False
        Coordinate descent on the Gram matrix: True, 'auto' (dense, n > p) or a given
        Q = Xc^T S Xc.
    copy_X : bool, default=True
        Accepted for compatibility; X is never modified.
    max_iter : int, default=1000
        Maximum number of epochs.
    tol : float, default=1e-4
        Duality-gap tolerance, relative to ``||y - mean(y)||_S^2`` (scikit-learn's rule;
        floored as :class:`ElasticNet`'s).
    warm_start : bool, default=False
        Start from the previous ``coef_``.
    positive : bool, default=False
        Constrain the coefficients to be non-negative.
    random_state : int, RandomState instance or None, default=None
        Seed of the random coordinate order.
    selection : {'cyclic', 'random'}, default='cyclic'
        Coordinate order.
    penalty_factor : array-like of shape (n_features,), default=None
        Per-feature penalty multipliers (0 = unpenalized), used as given.
    lower_bounds, upper_bounds : float or array-like of shape (n_features,), default=None
        Box constraints (lower <= 0 <= upper).
    solver : {'cd', 'fista', 'ista'}, default='cd'
        Coordinate descent, accelerated proximal gradient with adaptive restart, or plain
        proximal gradient.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, in the dtype of X.
    intercept_ : float or ndarray of shape (n_targets,)
        Independent term.
    n_iter_ : int or list of int
        Epochs ('cd', in full-pass equivalents) or iterations ('fista', 'ista') for each
        target.
    dual_gap_ : float or ndarray of shape (n_targets,)
        Duality gap reached (scikit-learn's scaling).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when X has string column names.
    sparse_coef_ : sparse matrix of shape (n_targets, n_features)
        ``coef_`` as a CSR matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from fastpen import Lasso
    >>> X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
    >>> model = Lasso(alpha=0.1).fit(X, [0.0, 1.0, 2.0])
    >>> np.round(model.coef_, 2)
    array([0.85, 0.  ])
    """

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept=True,
        precompute=False,
        copy_X=True,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        positive=False,
        random_state=None,
        selection="cyclic",
        penalty_factor=None,
        lower_bounds=None,
        upper_bounds=None,
        solver="cd",
    ):
        super().__init__(
            alpha=alpha,
            l1_ratio=1.0,
            fit_intercept=fit_intercept,
            precompute=precompute,
            max_iter=max_iter,
            copy_X=copy_X,
            tol=tol,
            warm_start=warm_start,
            positive=positive,
            random_state=random_state,
            selection=selection,
            penalty_factor=penalty_factor,
            lower_bounds=lower_bounds,
            upper_bounds=upper_bounds,
            solver=solver,
        )
