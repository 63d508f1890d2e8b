"""Stability selection: Lasso paths on complementary half-samples, with error control.

Meinshausen & Buhlmann (2010), *Stability selection*, JRSS-B 72: fit the Lasso on many
subsamples over a region of alphas (optionally the randomized Lasso, whose penalty on
feature j is divided by a random weight W_j in [weakness, 1]); a feature's stability
score at alpha is the fraction of subsamples that select it, and the stable features are
those whose score reaches a threshold somewhere in the region. Shah & Samworth (2013),
*Variable selection with error control: another look at stability selection*, JRSS-B
75: drawing the half-samples as complementary pairs makes the bound on the expected
number of false selections hold without exchangeability assumptions.
"""
import math
import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._engine import cancel_workers_on_interrupt, run_task
from ._path import alpha_grid, column_norms, enet_path, material_coefficients
from ._validation import (
    canonical_csc, check_bool, check_int, check_options, check_random_state_param, check_real,
)

# alphas fitted per resample between two looks at the end of the region: past it the
# resamples stop together; each stretch costs one row copy and one cold strong-rule step
_ALPHAS_PER_CHUNK = 20


def worst_case_bound(average_selected, n_features, threshold):
    """Meinshausen & Buhlmann's bound on the expected number of false selections.

    ``E(V) <= q^2 / ((2 threshold - 1) p)``, where q is the average number of features
    one subsample selects over the alpha region and p the number of features
    (Meinshausen & Buhlmann 2010, Theorem 1). Shah & Samworth (2013, Theorem 1) show
    that with complementary pairs it holds with no assumption on the data, for the
    features whose selection probability is at most q / p.

    Parameters
    ----------
    average_selected : float
        q, the average size of one subsample's selection over the region.
    n_features : int
        p.
    threshold : float
        The selection threshold; the bound is infinite at or below 1/2.

    Returns
    -------
    bound : float
    """
    if threshold <= 0.5:
        return math.inf
    return average_selected ** 2 / ((2 * threshold - 1) * n_features)


def unimodal_bound(average_selected, n_features, threshold, n_pairs):
    """Shah & Samworth's tighter bound when the selection probabilities are unimodal.

    ``E(V) <= C(threshold, B) q^2 / p`` with B complementary pairs, where
    ``C = 1 / (2 (2 threshold - 1 - 1/(2B)))`` for thresholds up to 3/4 and
    ``C = 4 (1 - threshold + 1/(2B)) / (1 + 1/B)`` above (Shah & Samworth 2013,
    equation (8)). Below its range of validity (threshold at most
    ``min(1/2 + theta^2, 1/2 + 1/(2B) + 3 theta^2 / 4)`` with theta = q / p, or where
    the first constant is not positive) it gives no bound, and the worst-case bound is
    returned instead.

    Parameters
    ----------
    average_selected : float
    n_features : int
    threshold : float
    n_pairs : int
        B, the number of complementary pairs.

    Returns
    -------
    bound : float
        The smaller of this bound (where it applies) and :func:`worst_case_bound`.
    """
    worst = worst_case_bound(average_selected, n_features, threshold)
    theta = average_selected / n_features
    half_step = 1 / (2 * n_pairs)
    if threshold > 0.75:
        constant = 4 * (1 - threshold + half_step) / (1 + 1 / n_pairs)
    elif (threshold > min(0.5 + theta ** 2, 0.5 + half_step + 0.75 * theta ** 2)
          and 2 * threshold - 1 - half_step > 0):
        # (with theta^2 < 1/(4B) the range starts where this constant is not yet
        # positive: no bound there)
        constant = 1 / (2 * (2 * threshold - 1 - half_step))
    else:
        return worst
    return min(worst, constant * average_selected ** 2 / n_features)


def _subsample_rows(X, rows):
    """The rows of X in the layout the engines read (Fortran dense or CSC)."""
    if sp.issparse(X):
        return canonical_csc(X[rows])
    # columns of the C-ordered transpose: one contiguous copy, already Fortran for X
    return np.take(X.T, rows, axis=1).T


def _resample_chunk(X, y, rows, penalty_factor, alphas, coef, path_params, norms):
    """Fit one subsample's path on a stretch of the grid, warm-started from ``coef``.

    Returns which features are selected at each alpha, the last coefficients (the warm
    start of the next stretch) and the most iterations one alpha took. A coefficient
    at the rounding level (`material_coefficients`, with `norms` the columns' norms on
    the subsample) is no selection: a column duplicating a selected one would
    otherwise be counted in every fit.
    """
    _, coefs, _, n_iters = enet_path(_subsample_rows(X, rows), y[rows], alphas=alphas,
                                     coef_init=coef, penalty_factor=penalty_factor,
                                     check_input=False, return_n_iter=True, **path_params)
    selected = material_coefficients(coefs, norms, y[rows], path_params["fit_intercept"])
    return selected, coefs[:, -1].copy(), max(n_iters)


class _Progress:
    """A tqdm bar counting alpha fits (or nothing)."""

    def __init__(self, total, enabled):
        self.bar = None
        if enabled:
            try:
                from tqdm.auto import tqdm
            except ImportError:  # the bar is a comfort, not a requirement
                return
            self.bar = tqdm(total=total, desc="stability resamples", unit="fit",
                            leave=False)

    def update(self, n):
        if self.bar is not None:
            self.bar.update(n)

    def close(self):
        if self.bar is not None:
            self.bar.close()


class StabilitySelection(SelectorMixin, BaseEstimator):
    """Stability selection with the (randomized) Lasso and complementary pairs.

    Fits the Lasso path on ``n_resamples`` subsamples of the rows, all on one alpha grid
    with warm starts along it. With ``sample_fraction=0.5`` the subsamples come in
    complementary pairs (two disjoint halves), as Shah & Samworth (2013) recommend. With
    ``weakness < 1`` each fit is the randomized Lasso of Meinshausen & Buhlmann (2010):
    feature j's penalty is divided by a weight drawn uniformly in [weakness, 1] (through
    ``penalty_factor``).

    The alpha region starts at alpha_max, where nothing is selected, and goes down the
    grid while the subsamples select, on average, at most ``max_selected`` features
    (their union over the region so far). A feature is selected when its stability
    score, the fraction of subsamples selecting it, reaches ``threshold`` at some alpha
    of the region; the expected number of false selections is then at most
    ``q^2 / ((2 threshold - 1) n_features)`` with q the average number of features a
    subsample selects over the region (``error_bound_``).

    The Lasso is not scale-invariant: put features on one scale first (e.g. a
    ``StandardScaler`` in a ``Pipeline``).

    Parameters
    ----------
    alphas : int or array-like, default=100
        Number of alphas on the generated grid (alpha_max down to ``eps * alpha_max``,
        from all the data), or the alphas themselves (sorted decreasing).
    eps : float, default=1e-3
        alpha_min / alpha_max of the generated grid.
    l1_ratio : float, default=1.0
        1 is the Lasso; below 1 the elastic net (in (0, 1]).
    n_resamples : int, default=100
        Number of subsample fits (even when ``sample_fraction=0.5``: they come in
        ``n_resamples / 2`` complementary pairs).
    sample_fraction : float, default=0.5
        Subsample size as a fraction of n_samples. 0.5 draws complementary pairs of
        floor(n_samples / 2) rows each, the setting of both papers' error bounds; any
        other value draws independent subsamples and reports no bound.
    weakness : float, default=1.0
        Lower end of the random feature weights, in (0, 1]. 1 is plain stability
        selection; Meinshausen & Buhlmann suggest 0.2 to 0.8 (the randomized Lasso) when
        features are strongly correlated.
    threshold : float, default=0.75
        Stability score a feature must reach to be selected, in (0, 1]; the error bound
        needs it above 1/2.
    max_selected : 'auto', float or None, default='auto'
        End of the alpha region: the largest average number of features a subsample may
        select over it. 'auto' is ``sqrt((2 threshold - 1) n_features)``, which bounds
        the expected number of false selections by 1; None keeps the whole grid.
    fit_intercept : bool, default=True
    tol : float, default=1e-4
        Duality-gap tolerance of every fit.
    max_iter : int, default=1000
    n_jobs : int, default=None
        Resamples fitted in parallel threads (the engine releases the GIL).
    random_state : int, RandomState instance or None, default=None
        Draws the subsamples and the weights; the same seed gives the same result
        whatever ``n_jobs``.
    verbose : bool or int, default=0
        Show a progress bar (tqdm) over the fits.

    Attributes
    ----------
    alphas_ : ndarray of shape (n_alphas,)
        The alpha region (decreasing): the grid down to where it was cut.
    stability_scores_ : ndarray of shape (n_features, n_alphas)
        Fraction of the subsamples that select each feature at each alpha of the region.
    selection_probabilities_ : ndarray of shape (n_features,)
        Each feature's largest stability score over the region.
    average_selected_ : float
        q: the average number of features one subsample selects over the region.
    error_bound_ : float
        Bound on the expected number of false selections at ``threshold``
        (:func:`worst_case_bound`); NaN when the subsamples are not complementary
        pairs, infinite when ``threshold <= 0.5``.
    n_iter_ : int
        The most iterations (epochs) one alpha fit took: near ``max_iter`` means some
        fits stopped before converging.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string column names.

    References
    ----------
    N. Meinshausen and P. Buhlmann (2010), Stability selection. JRSS-B 72(4), 417-473.
    R. D. Shah and R. J. Samworth (2013), Variable selection with error control: another
    look at stability selection. JRSS-B 75(1), 55-80.

    Examples
    --------
    >>> import numpy as np
    >>> from fastpen import StabilitySelection
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((80, 30))
    >>> y = 3 * X[:, 0] - 2 * X[:, 1] + rng.standard_normal(80)
    >>> selector = StabilitySelection(n_resamples=50, random_state=0).fit(X, y)
    >>> selector.get_support(indices=True)
    array([0, 1])
    """

    def __init__(self, *, alphas=100, eps=1e-3, l1_ratio=1.0, n_resamples=100,
                 sample_fraction=0.5, weakness=1.0, threshold=0.75, max_selected="auto",
                 fit_intercept=True, tol=1e-4, max_iter=1000, n_jobs=None,
                 random_state=None, verbose=0):
        self.alphas = alphas
        self.eps = eps
        self.l1_ratio = l1_ratio
        self.n_resamples = n_resamples
        self.sample_fraction = sample_fraction
        self.weakness = weakness
        self.threshold = threshold
        self.max_selected = max_selected
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    def _check_params(self):
        name = type(self).__name__
        check_real(self.eps, "eps", name, low=0, low_open=True)
        check_real(self.l1_ratio, "l1_ratio", name, low=0, high=1, low_open=True)
        check_int(self.n_resamples, "n_resamples", name, low=2)
        check_real(self.sample_fraction, "sample_fraction", name, low=0, high=1,
                   low_open=True)
        if self.sample_fraction == 1:
            raise ValueError(
                f"The 'sample_fraction' parameter of {name} must be below 1: every "
                "subsample would be the whole data.")
        check_real(self.weakness, "weakness", name, low=0, high=1, low_open=True)
        check_real(self.threshold, "threshold", name, low=0, high=1, low_open=True)
        check_bool(self.fit_intercept, "fit_intercept", name)
        check_random_state_param(self.random_state, name)
        check_real(self.tol, "tol", name, low=0)
        check_int(self.max_iter, "max_iter", name, low=1)
        if self.sample_fraction == 0.5 and self.n_resamples % 2:
            raise ValueError(
                f"The 'n_resamples' parameter of {name} must be even with "
                f"sample_fraction=0.5 (complementary pairs). Got {self.n_resamples}.")
        if isinstance(self.max_selected, str):
            check_options(self.max_selected, "max_selected", name, {"auto"})
            if self.threshold <= 0.5:
                raise ValueError(
                    f"max_selected='auto' needs a threshold above 0.5 (it keeps the "
                    f"bound at one false selection). Got threshold={self.threshold}; "
                    "give max_selected a number, or None for the whole grid.")
        elif self.max_selected is not None:
            check_real(self.max_selected, "max_selected", name, low=0, low_open=True)
        if not (isinstance(self.alphas, numbers.Integral) and not isinstance(self.alphas, bool)):
            alphas = np.asarray(self.alphas, dtype=np.float64)
            if alphas.ndim != 1 or alphas.size == 0 or not np.all(np.isfinite(alphas)) \
                    or np.any(alphas <= 0):
                raise ValueError(
                    f"The 'alphas' parameter of {name} must be an int >= 1 or an array of "
                    f"positive floats. Got {self.alphas!r} instead.")
        else:
            check_int(self.alphas, "alphas", name, low=1)

    def _grid(self, X, y):
        if isinstance(self.alphas, numbers.Integral):
            return alpha_grid(X, y, l1_ratio=self.l1_ratio, eps=self.eps,
                              n_alphas=self.alphas, fit_intercept=self.fit_intercept)
        return np.sort(np.asarray(self.alphas, dtype=np.float64))[::-1]

    def _draw_resamples(self, n_samples, n_features, rng):
        """Rows and penalty factors of every fit, drawn up front (reproducible in threads)."""
        size = int(self.sample_fraction * n_samples)
        if size < 2 or (self.sample_fraction == 0.5 and 2 * size > n_samples):
            raise ValueError(
                f"{n_samples} samples are too few for subsamples of "
                f"sample_fraction={self.sample_fraction}: each needs at least 2 rows.")
        rows = []
        if self.sample_fraction == 0.5:
            for _ in range(self.n_resamples // 2):
                order = rng.permutation(n_samples)
                # two disjoint halves (one row is left out when n_samples is odd)
                rows += [np.sort(order[:size]), np.sort(order[size:2 * size])]
        else:
            rows = [np.sort(rng.choice(n_samples, size, replace=False))
                    for _ in range(self.n_resamples)]
        if self.weakness == 1:
            factors = [None] * self.n_resamples
        else:
            # randomized Lasso: penalty |w_j| / W_j with W_j uniform in [weakness, 1]
            factors = [1 / rng.uniform(self.weakness, 1, n_features)
                       for _ in range(self.n_resamples)]
        return rows, factors

    def _max_selected(self, n_features):
        if self.max_selected == "auto":
            return math.sqrt((2 * self.threshold - 1) * n_features)
        return self.max_selected

    def fit(self, X, y):
        """Fit the Lasso paths on the subsamples and score every feature.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)

        Returns
        -------
        self : object
        """
        self._check_params()
        X, y = validate_data(self, X, y, accept_sparse=["csc", "csr", "coo"],
                             accept_large_sparse=True, dtype=[np.float64, np.float32],
                             order="F", y_numeric=True)
        if sp.issparse(X):
            X = canonical_csc(X)
        y = np.ascontiguousarray(y, dtype=X.dtype)
        n_samples, n_features = X.shape
        rng = check_random_state(self.random_state)
        rows, factors = self._draw_resamples(n_samples, n_features, rng)
        # the subsamples' column norms, roughly: only their scale matters to tell a
        # coefficient from rounding
        norms = column_norms(X) * math.sqrt(len(rows[0]) / n_samples)
        grid = self._grid(X, y)
        region_limit = self._max_selected(n_features)

        path_params = dict(l1_ratio=self.l1_ratio, fit_intercept=self.fit_intercept,
                           tol=self.tol, max_iter=self.max_iter)
        n_fits = self.n_resamples
        counts = np.zeros((n_features, grid.size), dtype=np.int64)
        ever_selected = np.zeros((n_fits, n_features), dtype=bool)
        union_sizes = np.zeros((n_fits, grid.size))
        coefs = [None] * n_fits
        most_iterations = 0
        region_end = grid.size
        progress = _Progress(n_fits * grid.size, bool(self.verbose))
        with warnings.catch_warnings(record=True) as caught, \
                cancel_workers_on_interrupt() as call, \
                Parallel(n_jobs=self.n_jobs, prefer="threads",
                         return_as="generator") as parallel:
            warnings.simplefilter("always", ConvergenceWarning)
            for start in range(0, grid.size, _ALPHAS_PER_CHUNK):
                stretch = grid[start:start + _ALPHAS_PER_CHUNK]
                # (results in order as they come: the bar moves here, not in the
                # workers, which may be processes that cannot share it)
                results = parallel(
                    delayed(run_task)(call, _resample_chunk, X, y, rows[b], factors[b],
                                      stretch, coefs[b], path_params, norms)
                    for b in range(n_fits))
                for b, (selected, last, n_iter) in enumerate(results):
                    progress.update(stretch.size)
                    most_iterations = max(most_iterations, n_iter)
                    counts[:, start:start + stretch.size] += selected
                    union = np.logical_or.accumulate(
                        np.column_stack([ever_selected[b], selected]), axis=1)[:, 1:]
                    union_sizes[b, start:start + stretch.size] = union.sum(axis=0)
                    ever_selected[b] = union[:, -1]
                    coefs[b] = last
                if region_limit is not None:
                    average = union_sizes[:, start:start + stretch.size].mean(axis=0)
                    too_many = average > region_limit
                    if np.any(too_many):
                        region_end = start + int(np.argmax(too_many))
                        break
        progress.close()
        self._report_warnings(caught, n_fits)
        if region_end == 0:
            # even alpha_max selects too many (a user grid starting below it)
            region_end = 1
        if region_end < 3 and grid.size >= 3:
            warnings.warn(
                f"The alpha region holds only {region_end} alpha(s) of the grid: the "
                "subsamples select more than max_selected features right away. Use a "
                "finer grid (more alphas, or alphas starting at alpha_max) or a larger "
                "max_selected.", UserWarning, stacklevel=2)

        self.alphas_ = grid[:region_end]
        self.stability_scores_ = counts[:, :region_end] / n_fits
        self.selection_probabilities_ = self.stability_scores_.max(axis=1)
        self.average_selected_ = float(union_sizes[:, region_end - 1].mean())
        self.n_iter_ = most_iterations
        if self.sample_fraction == 0.5:
            self.error_bound_ = worst_case_bound(self.average_selected_, n_features,
                                                 self.threshold)
        else:
            self.error_bound_ = math.nan
        return self

    @staticmethod
    def _report_warnings(caught, n_fits):
        """One summary for the paths that did not converge; other warnings as they were."""
        unconverged = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
        for w in caught:
            if not issubclass(w.category, ConvergenceWarning):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if unconverged:
            warnings.warn(
                f"{len(unconverged)} alpha fit(s) over the {n_fits} subsamples did not "
                "converge; the stability scores may be slightly off. Increase max_iter "
                "or tol, or put the features on one scale.", ConvergenceWarning,
                stacklevel=3)

    def _get_support_mask(self):
        check_is_fitted(self)
        check_real(self.threshold, "threshold", type(self).__name__, low=0, high=1,
                   low_open=True)
        return self.selection_probabilities_ >= self.threshold

    def false_selection_bound(self, threshold=None, *, assumption="none"):
        """Bound on the expected number of false selections at a threshold.

        Parameters
        ----------
        threshold : float, default=None
            The estimator's ``threshold`` when None.
        assumption : {'none', 'unimodal'}, default='none'
            'none' is :func:`worst_case_bound`; 'unimodal' is Shah & Samworth's tighter
            :func:`unimodal_bound`, valid when the features' selection probabilities have
            unimodal distributions.

        Returns
        -------
        bound : float
            NaN unless the subsamples were complementary pairs.
        """
        check_is_fitted(self)
        threshold = self.threshold if threshold is None else threshold
        check_real(threshold, "threshold", "false_selection_bound", low=0, high=1,
                   low_open=True)
        check_options(assumption, "assumption", "false_selection_bound", {"none", "unimodal"})
        if self.sample_fraction != 0.5:
            return math.nan
        if assumption == "unimodal":
            return unimodal_bound(self.average_selected_, self.n_features_in_, threshold,
                                  self.n_resamples // 2)
        return worst_case_bound(self.average_selected_, self.n_features_in_, threshold)

    def plot_stability(self, *, feature_names=None, n_labels=10, ax=None):
        """Stability paths: each feature's score against alpha, the threshold marked.

        Selected features are drawn in colour (the ``n_labels`` most stable labelled),
        the others in grey.

        Parameters
        ----------
        feature_names : sequence of str, default=None
            Labels; ``feature_names_in_`` (or x0, x1, ...) when None.
        n_labels : int, default=10
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.

        Returns
        -------
        ax : matplotlib Axes
        """
        from ._plot import _axes

        check_is_fitted(self)
        ax = _axes(ax)
        if feature_names is None:
            feature_names = getattr(self, "feature_names_in_", None)
        if feature_names is None:
            feature_names = [f"x{j}" for j in range(self.n_features_in_)]
        selected = self._get_support_mask()
        ever = np.flatnonzero((self.selection_probabilities_ > 0) & ~selected)
        for j in ever:
            ax.plot(self.alphas_, self.stability_scores_[j], color="0.75", linewidth=0.6)
        order = np.flatnonzero(selected)
        order = order[np.argsort(-self.selection_probabilities_[order])]
        for rank, j in enumerate(order):
            ax.plot(self.alphas_, self.stability_scores_[j], linewidth=1.5,
                    label=str(feature_names[j]) if rank < n_labels else None)
        ax.axhline(self.threshold, color="black", linestyle="--", linewidth=1,
                   label=f"threshold {self.threshold:g}")
        ax.set_xscale("log")
        ax.invert_xaxis()  # from the empty model on the left, as plot_path
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("alpha (log scale)")
        ax.set_ylabel("selection probability")
        bound = "" if math.isnan(self.error_bound_) else (
            f", E(false selections) <= {self.error_bound_:.2g}")
        ax.set_title(f"Stability selection: {order.size} of {self.n_features_in_} "
                     f"features{bound}", fontsize="medium")
        ax.legend(loc="upper left", fontsize="x-small")
        return ax

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        return tags
