"""Ridge, RidgeCV and ridge_path: against scikit-learn, brute force, and their contracts."""
import functools
import pickle
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, ShuffleSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

import fastpen._engine as engine_module
import fastpen._ridge as ridge_module

from fastpen._elastic_net import ElasticNet
from fastpen._ridge import Ridge, RidgeCV, ridge_path
from conftest import make_problem, make_weights

EXACT = ("cholesky", "svd")
ITERATIVE = ("cg", "cd", "fista")
SOLVERS = ("auto",) + EXACT + ITERATIVE
SHAPES = {"tall": (60, 40), "wide": (40, 80)}
EPS32 = float(np.finfo(np.float32).eps)


@pytest.fixture(autouse=True, scope="module")
def one_blas_thread():
    """Multithreaded OpenBLAS on a small shared machine can spin for a second on a
    40-column product: one thread keeps this file's runtime predictable."""
    with threadpool_limits(limits=1):
        yield


def dense64(X):
    """A dense float64 copy for the references (the tests may copy; fastpen may not)."""
    return (X.toarray() if sp.issparse(X) else np.asarray(X)).astype(np.float64)


def sk_ridge(X, y, alpha, sample_weight=None, fit_intercept=True):
    """scikit-learn's exact Ridge on dense float64 data (its sparse+intercept solvers are
    iterative with tol 1e-4)."""
    return sk.Ridge(alpha=alpha, solver="cholesky", fit_intercept=fit_intercept).fit(
        dense64(X), np.asarray(y, np.float64), sample_weight=sample_weight)


def centred_weighted(X, y, sample_weight, fit_intercept):
    """Z = S^1/2 (X - xbar) and t = S^1/2 (y - ybar) in float64 (test-side reference)."""
    Xd, yd = dense64(X), np.asarray(y, np.float64)
    s = np.ones(len(yd)) if sample_weight is None else np.asarray(sample_weight, float)
    if fit_intercept:
        Xd = Xd - s @ Xd / s.sum()
        yd = yd - s @ yd / s.sum()
    r = np.sqrt(s)
    return Xd * r[:, None], yd * r if yd.ndim == 1 else yd * r[:, None]


def float32_bound(X, y, sample_weight, fit_intercept, alpha, coef):
    """What float32 arithmetic can resolve, ||w - w*|| <~ 8 eps32 (tr(Z^T Z) ||w|| +
    sqrt(tr(Z^T Z)) ||t||) / alpha: the error of a product with Z (or of the Gram matrix)
    in float32, amplified by at most 1/alpha, the inverse of the smallest curvature."""
    Z, t = centred_weighted(X, y, sample_weight, fit_intercept)
    trace = float(np.sum(Z * Z))
    return 8 * EPS32 * (trace * np.linalg.norm(coef) + np.sqrt(trace) * np.linalg.norm(t)) / alpha


# --------------------------------------------------------------------------- solvers


@pytest.mark.parametrize("shape", list(SHAPES), ids=list(SHAPES))
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_every_solver_matches_sklearn(shape, sparse, dtype, fit_intercept, weighted, solver):
    X, y = make_problem(*SHAPES[shape], sparse=sparse, dtype=dtype, seed=3)
    sw = make_weights(X.shape[0]) if weighted else None
    alpha, tol = 1.3, 1e-6
    ref = sk_ridge(X, y, alpha, sw, fit_intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = Ridge(alpha=alpha, solver=solver, tol=tol, fit_intercept=fit_intercept).fit(
            X, y, sample_weight=sw)
    assert model.coef_.dtype == dtype and model.coef_.shape == ref.coef_.shape
    w_ref = ref.coef_
    error = np.linalg.norm(model.coef_.astype(np.float64) - w_ref)
    exact = solver in EXACT or (solver == "auto" and model.solver_ in EXACT)
    if dtype == np.float64 and exact:
        np.testing.assert_allclose(model.coef_, w_ref, rtol=1e-8, atol=1e-12 * np.abs(w_ref).max())
        bound = 1e-8 * np.linalg.norm(w_ref)
    elif dtype == np.float64:
        # the certificate: ||w - w*|| <= 0.1 tol ||w|| (plus the reference's rounding)
        bound = 0.1 * tol * np.linalg.norm(w_ref) * 1.001 + 1e-12 * np.linalg.norm(w_ref)
        assert error <= bound
    else:
        bound = (0.0 if exact else 0.1 * tol * np.linalg.norm(w_ref)) + 2 * float32_bound(
            X, y, sw, fit_intercept, alpha, w_ref)
        assert error <= bound
    # the intercept follows the coefficients through the (weighted) means
    xbar = dense64(X).T @ (np.ones(len(y)) if sw is None else sw) / (len(y) if sw is None else sw.sum())
    slack = np.linalg.norm(xbar) * bound + 1e-9 * (1 + abs(ref.intercept_))
    assert abs(float(model.intercept_) - float(ref.intercept_)) <= (slack if fit_intercept else 0)
    assert model.n_iter_ is None if exact else model.n_iter_.shape == (1,)


@pytest.mark.parametrize("layout", ["C", "csr", "coo"])
def test_other_layouts_give_the_same_coefficients(layout):
    """C-ordered dense and CSR X are read as they are; COO is converted once."""
    X, y = make_problem(50, 30, seed=4)
    sw = make_weights(50)
    reference = Ridge(alpha=0.7).fit(X, y, sample_weight=sw)
    other = {"C": np.ascontiguousarray(X), "csr": sp.csr_matrix(X), "coo": sp.coo_matrix(X)}[layout]
    for solver in SOLVERS:
        model = Ridge(alpha=0.7, solver=solver, tol=1e-7).fit(other, y, sample_weight=sw)
        tol = 1e-10 if solver in EXACT + ("auto",) else 1e-7
        np.testing.assert_allclose(model.coef_, reference.coef_, rtol=tol, atol=tol)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("solver", SOLVERS)
def test_alpha_per_target(sparse, solver):
    X, y = make_problem(50, 30, sparse=sparse, seed=6)
    rng = np.random.default_rng(6)
    Y = np.c_[y, -2 * y + rng.standard_normal(50), rng.standard_normal(50)]
    alphas = np.array([0.1, 3.0, 30.0])
    ref = sk_ridge(X, Y, alphas)
    model = Ridge(alpha=alphas, solver=solver, tol=1e-6).fit(X, Y)
    assert model.coef_.shape == (3, 30) and model.intercept_.shape == (3,)
    for k in range(3):
        w = ref.coef_[k]
        if solver in EXACT:
            np.testing.assert_allclose(model.coef_[k], w, rtol=1e-8, atol=1e-12)
        else:
            assert np.linalg.norm(model.coef_[k] - w) <= 1e-7 * np.linalg.norm(w) * 1.001 + 1e-12
    # a single alpha in a list is broadcast, as in scikit-learn
    single = Ridge(alpha=[3.0], solver="cholesky").fit(X, Y)
    np.testing.assert_allclose(single.coef_, sk_ridge(X, Y, 3.0).coef_, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_attribute_shapes_follow_sklearn(fit_intercept):
    X, y = make_problem(30, 8, seed=7)
    for target in (y, y[:, None], np.c_[y, y]):
        ours = Ridge(fit_intercept=fit_intercept).fit(X, target)
        theirs = sk.Ridge(fit_intercept=fit_intercept).fit(X, target)
        assert ours.coef_.shape == theirs.coef_.shape
        assert np.shape(ours.intercept_) == np.shape(theirs.intercept_)
        assert ours.solver_ == theirs.solver_ == "cholesky"
        assert ours.predict(X).shape == theirs.predict(X).shape
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-10)


def test_sample_weight_semantics():
    """Raw weights (not rescaled): scaling them by k is alpha / k; integer weights are
    repeated samples; a zero weight drops the sample."""
    X, y = make_problem(40, 12, seed=8)
    base = Ridge(alpha=2.0).fit(X, y)
    scaled = Ridge(alpha=2.0 * 3.0).fit(X, y, sample_weight=3.0)
    np.testing.assert_allclose(scaled.coef_, base.coef_, rtol=1e-10, atol=1e-12)
    assert Ridge(alpha=2.0).fit(X, y, sample_weight=3.0).coef_ != pytest.approx(base.coef_)
    counts = np.random.default_rng(8).integers(0, 4, size=40)
    weighted = Ridge(alpha=2.0).fit(X, y, sample_weight=counts)
    repeated = Ridge(alpha=2.0).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-9, atol=1e-12)
    assert weighted.intercept_ == pytest.approx(repeated.intercept_, rel=1e-9)
    for solver in ("cg", "cd", "fista"):
        model = Ridge(alpha=2.0, solver=solver, tol=1e-6).fit(X, y, sample_weight=counts)
        assert np.linalg.norm(model.coef_ - repeated.coef_) <= 1.1e-7 * np.linalg.norm(repeated.coef_)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_ridge_is_elastic_net_with_alpha_over_total_weight(sparse):
    """sum s r^2 + alpha ||w||^2 (raw s) has the minimiser of ElasticNet's
    1/(2n) sum s' r^2 + a/2 ||w||^2 with s' = s n / sum(s), a = alpha / sum(s), l1_ratio=0."""
    X, y = make_problem(60, 25, sparse=sparse, seed=9)
    sw = make_weights(60) * 7.0  # raw weights far from summing to n
    alpha = 4.0
    ridge = Ridge(alpha=alpha, solver="cholesky").fit(X, y, sample_weight=sw)
    enet = ElasticNet(alpha=alpha / sw.sum(), l1_ratio=0.0, tol=1e-14, max_iter=100_000).fit(
        X, y, sample_weight=sw)
    n = X.shape[0]
    Z, t = centred_weighted(X, y, sw * n / sw.sum(), True)
    strong = n * alpha / sw.sum()
    # the engine's n-scaled objective is (n a)-strongly convex: ||w - w*||^2 <= 2 gap / (n a)
    radius = np.sqrt(2 * enet.dual_gap_ * n / strong)
    assert np.linalg.norm(enet.coef_ - ridge.coef_) <= radius + 1e-12
    assert enet.intercept_ == pytest.approx(ridge.intercept_, abs=1e-6)


def test_auto_choices():
    rng = np.random.default_rng(10)
    tall, y_tall = make_problem(80, 20, seed=10)
    wide, y_wide = make_problem(20, 80, seed=10)
    assert Ridge().fit(tall, y_tall).solver_ == "cholesky"
    assert Ridge().fit(wide, y_wide).solver_ == "cholesky"
    assert Ridge(alpha=np.arange(1.0, 11.0)).fit(tall, np.tile(y_tall[:, None], 10)).solver_ == "svd"
    assert Ridge(positive=True).fit(tall, y_tall).solver_ == "cd"
    small = sp.random(50, 30, density=0.2, format="csc", rng=rng)
    assert Ridge().fit(small, rng.standard_normal(50)).solver_ == "cholesky"
    # a sparse X whose n x n kernel would cost far more than a few CG iterations
    large = sp.random(1500, 20000, density=0.002, format="csc", rng=rng)
    y_large = rng.standard_normal(1500)
    auto = Ridge().fit(large, y_large)
    assert auto.solver_ == "cg" and auto.n_iter_[0] >= 1
    exact = Ridge(solver="cholesky").fit(large, y_large)
    assert np.linalg.norm(auto.coef_ - exact.coef_) <= 1e-5 * np.linalg.norm(exact.coef_)


def test_singular_problem_falls_back_to_svd():
    """alpha=0 on rank-deficient X: Cholesky fails, the pseudo-inverse (minimum norm) is
    returned and solver_ says so, as in scikit-learn."""
    rng = np.random.default_rng(11)
    B = rng.standard_normal((30, 4))
    X = np.asfortranarray(B @ rng.standard_normal((4, 10)))  # rank 4 < 10 features
    y = rng.standard_normal(30)
    model = Ridge(alpha=0.0, solver="cholesky").fit(X, y)
    assert model.solver_ == "svd"
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    minimum_norm = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    np.testing.assert_allclose(model.coef_, minimum_norm, rtol=1e-7, atol=1e-9)
    wide = Ridge(alpha=0.0).fit(X[:, :8].T.copy(), rng.standard_normal(8))  # 8 x 30, p > n
    assert wide.solver_ == "svd"


@pytest.mark.parametrize("solver", ["cd", "fista"])
def test_positive_satisfies_kkt(solver):
    X, y = make_problem(60, 20, seed=12)
    alpha = 5.0
    model = Ridge(alpha=alpha, positive=True, solver=solver, tol=1e-6).fit(X, y)
    w = model.coef_
    assert np.all(w >= 0) and np.any(w == 0) and np.any(w > 0)
    Z, t = centred_weighted(X, y, None, True)
    gradient = Z.T @ (Z @ w - t) + alpha * w  # of 1/2 ||t - Z w||^2 + alpha/2 ||w||^2
    scale = np.linalg.norm(Z.T @ t)
    assert np.all(np.abs(gradient[w > 0]) <= 1e-5 * scale)
    assert np.all(gradient[w == 0] >= -1e-5 * scale)
    lbfgs = sk.Ridge(alpha=alpha, positive=True, solver="lbfgs", tol=1e-10).fit(X, y)
    np.testing.assert_allclose(w, lbfgs.coef_, atol=1e-4 * np.abs(w).max())


@pytest.mark.parametrize("solver", ["cg", "cd", "fista"])
def test_iteration_budget_warns(solver):
    X, y = make_problem(60, 40, seed=13)
    with pytest.warns(ConvergenceWarning, match="accuracy"):
        model = Ridge(alpha=0.01, solver=solver, max_iter=2, tol=1e-8).fit(X, y)
    assert model.n_iter_[0] <= 2


# --------------------------------------------------------------------------- RidgeCV

ALPHAS = np.logspace(-3, 3, 13)


def two_targets(y):
    return np.c_[y, 2 * y + np.random.default_rng(0).standard_normal(len(y))]


@pytest.mark.parametrize("shape", list(SHAPES), ids=list(SHAPES))
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("targets", [1, 2])
def test_ridgecv_leave_one_out_matches_sklearn(shape, sparse, fit_intercept, weighted, targets):
    X, y = make_problem(*SHAPES[shape], sparse=sparse, seed=5)
    y = y if targets == 1 else two_targets(y)
    sw = make_weights(X.shape[0]) if weighted else None
    for options in ({}, {"alpha_per_target": True, "store_cv_results": True}):
        ours = RidgeCV(alphas=ALPHAS, fit_intercept=fit_intercept, **options).fit(
            X, y, sample_weight=sw)
        theirs = sk.RidgeCV(alphas=ALPHAS, fit_intercept=fit_intercept, **options).fit(
            X, y, sample_weight=sw)
        np.testing.assert_array_equal(ours.alpha_, theirs.alpha_)
        assert np.shape(ours.best_score_) == np.shape(theirs.best_score_)
        np.testing.assert_allclose(ours.best_score_, theirs.best_score_, rtol=1e-8)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-8,
                                   atol=1e-12 * np.abs(theirs.coef_).max())
        np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-8, atol=1e-10)
        if options:
            np.testing.assert_allclose(ours.cv_results_, theirs.cv_results_, rtol=1e-7,
                                       atol=1e-10 * np.abs(theirs.cv_results_).max())


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_ridgecv_leave_one_out_with_a_scorer(sparse):
    X, y = make_problem(45, 30, sparse=sparse, seed=14)
    sw = make_weights(45) + 0.5  # positive: scikit-learn returns NaN for zero weights here
    kwargs = dict(alphas=ALPHAS, scoring="neg_mean_absolute_error", store_cv_results=True)
    ours = RidgeCV(**kwargs).fit(X, y, sample_weight=sw)
    theirs = sk.RidgeCV(**kwargs).fit(X, y, sample_weight=sw)
    assert ours.alpha_ == theirs.alpha_
    assert ours.best_score_ == pytest.approx(theirs.best_score_, rel=1e-9)
    np.testing.assert_allclose(ours.cv_results_, theirs.cv_results_, rtol=1e-9)


@pytest.mark.parametrize("shape", list(SHAPES), ids=list(SHAPES))
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_leave_one_out_predictions_equal_refits(shape, sparse):
    """Brute force, without scikit-learn: the stored leave-one-out prediction of sample i is
    the prediction of a fit without i; a sample of zero weight gets the full model's."""
    n, p = {"tall": (24, 10), "wide": (14, 30)}[shape]
    X, y = make_problem(n, p, sparse=sparse, seed=15)
    sw = make_weights(n)
    alphas = np.array([0.3, 3.0])
    model = RidgeCV(alphas=alphas, scoring="neg_mean_squared_error",
                    store_cv_results=True).fit(X, y, sample_weight=sw)
    for a, alpha in enumerate(alphas):
        full = Ridge(alpha=alpha).fit(X, y, sample_weight=sw)
        for i in range(n):
            keep = np.arange(n) != i
            if sw[i] == 0:
                expected = full.predict(X[i:i + 1])[0]
            else:
                expected = Ridge(alpha=alpha).fit(X[keep], y[keep], sample_weight=sw[keep]).predict(
                    X[i:i + 1])[0]
            assert model.cv_results_[i, a] == pytest.approx(expected, rel=1e-8, abs=1e-9)


@pytest.mark.parametrize("shape", list(SHAPES), ids=list(SHAPES))
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("cv", ["kfold", "shuffle"])
def test_ridgecv_kfold_matches_sklearn(shape, sparse, fit_intercept, weighted, cv):
    """Same folds, same alpha_ and best_score_. scikit-learn fits sparse folds with
    'sparse_cg' at tol 1e-4, so the reference is computed on the dense copy."""
    X, y = make_problem(*SHAPES[shape], sparse=sparse, seed=16)
    sw = make_weights(X.shape[0]) if weighted else None
    splitter = KFold(5) if cv == "kfold" else ShuffleSplit(4, test_size=0.3, random_state=0)
    for targets, scoring in ((1, None), (2, "neg_mean_squared_error")):
        target = y if targets == 1 else two_targets(y)
        ours = RidgeCV(alphas=ALPHAS, cv=splitter, scoring=scoring,
                       fit_intercept=fit_intercept).fit(X, target, sample_weight=sw)
        theirs = sk.RidgeCV(alphas=ALPHAS, cv=splitter, scoring=scoring,
                            fit_intercept=fit_intercept).fit(dense64(X), target, sample_weight=sw)
        assert ours.alpha_ == theirs.alpha_
        assert ours.best_score_ == pytest.approx(theirs.best_score_, rel=1e-9)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-8,
                                   atol=1e-12 * np.abs(theirs.coef_).max())
    # an int is KFold(K), as in scikit-learn
    assert RidgeCV(alphas=ALPHAS, cv=5).fit(X, y, sample_weight=sw).alpha_ == sk.RidgeCV(
        alphas=ALPHAS, cv=5).fit(dense64(X), y, sample_weight=sw).alpha_


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_ridgecv_kfold_without_room_for_a_dense_matrix(sparse, monkeypatch):
    """When neither the p x p nor the n x n matrix fits, each fold and alpha is one 'cg'
    fit (the other samples weighted 0): the same choice, scores to the CG accuracy."""
    X, y = make_problem(60, 30, sparse=sparse, seed=26)
    sw = make_weights(60)
    exact = RidgeCV(alphas=ALPHAS, cv=4).fit(X, y, sample_weight=sw)
    monkeypatch.setattr(ridge_module, "_MAX_DENSE_BYTES", 8 * 20 * 20)
    iterative = RidgeCV(alphas=ALPHAS, cv=4).fit(X, y, sample_weight=sw)
    assert iterative.alpha_ == exact.alpha_
    assert iterative.best_score_ == pytest.approx(exact.best_score_, rel=1e-5)
    np.testing.assert_allclose(iterative.coef_, exact.coef_, rtol=1e-4, atol=1e-6)


def test_ridgecv_float32_keeps_dtype():
    X, y = make_problem(60, 20, dtype=np.float32, seed=17)
    ours = RidgeCV(alphas=ALPHAS, store_cv_results=True).fit(X, y)
    reference = RidgeCV(alphas=ALPHAS).fit(X.astype(np.float64), y.astype(np.float64))
    assert ours.coef_.dtype == np.float32 and ours.cv_results_.dtype == np.float32
    assert ours.alpha_ == reference.alpha_
    assert ours.best_score_ == pytest.approx(reference.best_score_, rel=1e-4)


# --------------------------------------------------------------------------- ridge_path


@pytest.mark.parametrize("shape", list(SHAPES), ids=list(SHAPES))
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_ridge_path_equals_separate_fits(shape, sparse, weighted):
    X, y = make_problem(*SHAPES[shape], sparse=sparse, seed=18)
    sw = make_weights(X.shape[0]) if weighted else None
    alphas = np.array([10.0, 0.01, 1.0, 100.0])
    for target in (y, two_targets(y)):
        returned, coefs, intercepts = ridge_path(X, target, alphas, sample_weight=sw)
        np.testing.assert_array_equal(returned, alphas)
        T = 1 if target.ndim == 1 else target.shape[1]
        assert coefs.shape == ((X.shape[1], 4) if T == 1 else (T, X.shape[1], 4))
        for a, alpha in enumerate(alphas):
            fit = sk_ridge(X, target, alpha, sw)
            path_coef = coefs[..., a]
            np.testing.assert_allclose(path_coef, fit.coef_, rtol=1e-8,
                                       atol=1e-12 * np.abs(fit.coef_).max())
            np.testing.assert_allclose(intercepts[..., a], fit.intercept_, rtol=1e-8, atol=1e-10)


def test_ridge_path_without_intercept_and_float32():
    X, y = make_problem(50, 20, dtype=np.float32, seed=19)
    _, coefs, intercepts = ridge_path(X, y, [0.5, 5.0], fit_intercept=False)
    assert coefs.dtype == np.float32 and np.all(intercepts == 0)
    ref = sk_ridge(X, y, 5.0, fit_intercept=False).coef_
    assert np.linalg.norm(coefs[:, 1] - ref) <= 2 * float32_bound(X, y, None, False, 5.0, ref)


# --------------------------------------------------------------------------- contracts

EXPECTED_FAILURES = {
    "check_non_transformer_estimators_n_iter": (
        "n_iter_ is None for the exact solvers, as in scikit-learn (whose own Ridge marks "
        "this check as an expected failure)"),
}


@parametrize_with_checks(
    [Ridge(), RidgeCV(), Ridge(solver="cg"), Ridge(solver="cd"), RidgeCV(cv=3)],
    expected_failed_checks=lambda est: EXPECTED_FAILURES if isinstance(est, Ridge) and
    est.solver in ("auto", "cholesky", "svd") else {},
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_works_with_sklearn_tools():
    X, y = make_problem(60, 10, seed=20)
    search = GridSearchCV(Ridge(), {"alpha": [0.1, 1.0, 10.0]}, cv=3).fit(X, y)
    assert search.best_estimator_.solver_ == "cholesky"
    pipe = make_pipeline(StandardScaler(), RidgeCV(alphas=ALPHAS)).fit(X, y)
    restored = pickle.loads(pickle.dumps(pipe))
    np.testing.assert_array_equal(restored.predict(X), pipe.predict(X))
    assert clone(Ridge(alpha=[1.0, 2.0])).alpha == [1.0, 2.0]


def _inputs(layout, seed=21):
    X, y = make_problem(40, 25, sparse=layout in ("csc", "csr"), seed=seed)
    if layout == "csr":
        X = X.tocsr()
    elif layout == "C":
        X = np.ascontiguousarray(X)
    return X, y, make_weights(40)


@pytest.mark.parametrize("layout", ["F", "C", "csc", "csr"])
def test_inputs_are_not_modified(layout):
    X, y, sw = _inputs(layout)
    snapshot = (X.copy(), y.copy(), sw.copy())
    Y = two_targets(y)
    for solver in SOLVERS:
        Ridge(alpha=0.5, solver=solver).fit(X, Y, sample_weight=sw)
    RidgeCV(alphas=ALPHAS, store_cv_results=True).fit(X, y, sample_weight=sw)
    RidgeCV(alphas=ALPHAS, cv=4).fit(X, y, sample_weight=sw)
    ridge_path(X, y, ALPHAS, sample_weight=sw)
    if sp.issparse(X):
        assert (X != snapshot[0]).nnz == 0 and X.format == snapshot[0].format
    else:
        np.testing.assert_array_equal(X, snapshot[0])
    np.testing.assert_array_equal(y, snapshot[1])
    np.testing.assert_array_equal(sw, snapshot[2])


def test_read_only_inputs_are_accepted():
    X, y, sw = _inputs("F")
    for array in (X, y, sw):
        array.flags.writeable = False
    for solver in SOLVERS:
        Ridge(solver=solver).fit(X, y, sample_weight=sw)
    RidgeCV().fit(X, y, sample_weight=sw)


@functools.lru_cache(maxsize=None)
def large_float32(layout, n=100_000, p=100):
    rng = np.random.default_rng(22)
    if layout in ("csc", "csr"):
        X = sp.random(n, p, density=0.5, format=layout, dtype=np.float32, rng=rng)
        size = X.data.nbytes + X.indices.nbytes
    else:
        X = rng.standard_normal((n, p), dtype=np.float32)
        X = np.asfortranarray(X) if layout == "F" else X
        size = X.nbytes
    return X, rng.standard_normal(n).astype(np.float32), rng.uniform(0.5, 2.0, n), size


@pytest.mark.parametrize("layout", ["F", "C", "csc", "csr"])
@pytest.mark.parametrize("estimator", [Ridge(), Ridge(solver="cholesky"), Ridge(solver="cg"),
                                       RidgeCV(), RidgeCV(cv=5)],
                         ids=["auto", "cholesky", "cg", "RidgeCV", "RidgeCV-5fold"])
def test_float32_is_read_in_place(layout, estimator, monkeypatch):
    """The fit allocates far less than X: no copy, no upcast, no densifying. Temporaries
    built from X (centred or weighted chunks) are bounded by CHUNK elements, made small
    here so that the bound shows on a test-sized X."""
    # the constant lives with the sparse helpers in _engine; _ridge reads its own import
    monkeypatch.setattr(ridge_module, "CHUNK", 2**14)
    monkeypatch.setattr(engine_module, "CHUNK", 2**14)
    X, y, sw, size = large_float32(layout)
    n, p = X.shape
    tracemalloc.start()
    model = clone(estimator).fit(X, y, sample_weight=sw)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert model.coef_.dtype == np.float32
    # float64 n-vectors (weights, targets, residuals, and n x n_alphas leave-one-out
    # errors) and p x p matrices (Gram, eigenvectors, one per fold) are allowed; a copy of
    # X, or of its values alone, is not (X is 40 MB, the allowance about 27 MB)
    n_vectors = 12 + (6 * 3 if isinstance(estimator, RidgeCV) else 0)
    assert peak < 0.2 * size + n_vectors * 8 * n + 16 * 8 * p * p, (peak, size)


BAD_PARAMS = [
    (dict(alpha=-1.0), "alpha"),
    (dict(alpha=np.nan), "alpha"),
    (dict(alpha=[1.0, -2.0]), "alpha"),
    (dict(alpha=[1.0, 2.0, 3.0]), "alpha"),
    (dict(alpha=[[1.0]]), "alpha"),
    (dict(alpha="big"), "alpha"),
    (dict(tol=-1e-3), "tol"),
    (dict(max_iter=0), "max_iter"),
    (dict(solver="newton"), "solver"),
    (dict(fit_intercept="yes"), "fit_intercept"),
    (dict(positive=True, solver="cholesky"), "positive"),
    (dict(random_state="seed"), "random_state"),
]


@pytest.mark.parametrize("params, name", BAD_PARAMS)
def test_bad_parameters_raise_value_errors_naming_them(params, name):
    X, y = make_problem(20, 5, seed=23)
    with pytest.raises(ValueError, match=name):
        Ridge(**params).fit(X, np.c_[y, y])


def test_bad_data_raise_value_errors():
    X, y = make_problem(20, 5, seed=24)
    X_nan = X.copy()
    X_nan[3, 2] = np.nan
    y_inf = y.copy()
    y_inf[0] = np.inf
    cases = [
        (lambda: Ridge().fit(X_nan, y), "NaN"),
        (lambda: Ridge().fit(X, y_inf), "infinity"),
        (lambda: Ridge().fit(X, y[:-1]), "inconsistent numbers of samples"),
        (lambda: Ridge().fit(X, y, sample_weight=-np.ones(20)), "sample_weight"),
        (lambda: Ridge().fit(X, y, sample_weight=np.ones(19)), "sample_weight"),
        (lambda: Ridge().fit(X, y, sample_weight=-2.0), "sample_weight"),
        (lambda: Ridge().fit(X, y).predict(X[:, :3]), "features"),
        (lambda: RidgeCV(alphas=[0.0, 1.0]).fit(X, y), "alphas"),
        (lambda: RidgeCV(alphas=[-1.0, 1.0], cv=3).fit(X, y), "alphas"),
        (lambda: RidgeCV(alphas=[]).fit(X, y), "alphas"),
        (lambda: RidgeCV(cv=3, store_cv_results=True).fit(X, y), "store_cv_results"),
        (lambda: RidgeCV(cv=3, alpha_per_target=True).fit(X, y), "alpha_per_target"),
        (lambda: RidgeCV(gcv_mode="qr").fit(X, y), "gcv_mode"),
        (lambda: RidgeCV(scoring=3).fit(X, y), "scoring"),
        (lambda: RidgeCV(scoring="no-such-metric").fit(X, y), "scoring"),
        (lambda: ridge_path(X, y, [1.0, -1.0]), "alphas"),
        (lambda: ridge_path(X, y[:-1], [1.0]), "y"),
        (lambda: ridge_path(X_nan, y, [1.0]), "NaN"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()
    # alpha=0 is allowed with K-fold (no leave-one-out division by zero)
    assert RidgeCV(alphas=[0.0, 1.0], cv=3).fit(X, y).alpha_ in (0.0, 1.0)


def test_sparse_gram_with_large_means_is_centred_exactly():
    """Sparse X's Gram matrix X^T S X - W m m^T cancels the digits of large means
    (coefficients off by 3.6e3 at means of 1e8 +- 1): the rows are then centred a chunk
    at a time, as for dense X."""
    rng = np.random.default_rng(20)
    Z = rng.standard_normal((1000, 5))
    y = Z @ np.arange(1.0, 6.0) + 0.1 * rng.standard_normal(1000)
    expected = Ridge(alpha=1.0).fit(Z, y).coef_
    for shift in (1e6, 1e8):
        model = Ridge(alpha=1.0).fit(sp.csr_matrix(Z + shift), y)
        np.testing.assert_allclose(model.coef_, expected, atol=1e-6)


def _large_mean_problem(n, p, seed=0):
    """float32 X with half its columns at means of 1e2 to 1e3 (spread 1)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    X[:, :p // 2] += rng.uniform(1e2, 1e3, p // 2)
    X32 = X.astype(np.float32)
    X64 = X32.astype(np.float64)
    y = X64[:, :4] @ np.array([1.0, -2.0, 1.5, 0.5]) + 0.5 * rng.standard_normal(n)
    return X32, X64, y, rng.exponential(size=n)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_float32_kernel_with_large_means(fmt, weighted):
    """Wide sparse float32 X: scipy summed X X^T in float32, and the centring cancelled
    it (objective 1.0e6 for 0.44; a path's coefficients 50 off)."""
    X32, X64, y, w = _large_mean_problem(60, 100)
    sw = w if weighted else None
    s = np.ones(60) if sw is None else sw
    A = getattr(sp, f"{fmt}_matrix")(X32)

    def objective(coef, intercept):
        r = y - X64 @ coef - intercept
        return s @ r ** 2 + 0.1 * coef @ coef

    exact = Ridge(alpha=0.1).fit(X64, y, sample_weight=sw)
    model = Ridge(alpha=0.1).fit(A, y, sample_weight=sw)
    assert objective(model.coef_, model.intercept_) == pytest.approx(
        objective(exact.coef_, exact.intercept_), rel=1e-4)
    coefs = ridge_path(A, y, alphas=[10.0, 0.1], sample_weight=sw, fit_intercept=True)[1]
    np.testing.assert_allclose(coefs[:, -1], exact.coef_, atol=1e-3 * np.abs(exact.coef_).max())


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_float32_kfold_moments_with_large_means(fmt, weighted):
    """Tall sparse float32 X under K-fold RidgeCV: the blocks' moments were summed in
    float32 with float32 weights and centred by a cancelling rank-one term (alpha_ 31.6
    where every float64 fit picks 3.16)."""
    X32, X64, y, w = _large_mean_problem(200, 15)
    sw = w if weighted else None
    alphas = np.logspace(-3, 3, 13)
    exact = RidgeCV(alphas=alphas, cv=KFold(4)).fit(X64, y, sample_weight=sw)
    model = RidgeCV(alphas=alphas, cv=KFold(4)).fit(getattr(sp, f"{fmt}_matrix")(X32), y,
                                                    sample_weight=sw)
    assert model.alpha_ == exact.alpha_
    assert model.best_score_ == pytest.approx(exact.best_score_, rel=1e-5)


def test_sparse_kernel_of_cancelling_means_reads_csr_in_place(monkeypatch):
    """Wide CSR X whose column means cancel even float64 sums (1e9 +- 1): the kernel
    is built from centred dense chunks of columns, taken from CSR X a block at a time,
    not from a CSC copy of it."""
    monkeypatch.setattr(ridge_module, "CHUNK", 2**14)
    monkeypatch.setattr(engine_module, "CHUNK", 2**14)
    rng = np.random.default_rng(23)
    n, p = 200, 40000
    X = sp.random(n, p, density=0.05, format="csr", rng=rng)
    X = sp.hstack([sp.csr_matrix(1e9 + rng.standard_normal((n, 1))), X], format="csr")
    y = np.asarray(X[:, 1:6].sum(axis=1)).ravel() + 0.1 * rng.standard_normal(n)
    tracemalloc.start()
    model = Ridge(alpha=1.0).fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    x_bytes = X.data.nbytes + X.indices.nbytes
    assert peak < 0.2 * x_bytes + 8 * 8 * n * n + 3 * 8 * p, (peak, x_bytes)
    Z = X.toarray()
    Z -= Z.mean(axis=0)
    expected = np.linalg.solve(Z @ Z.T + np.eye(n), y - y.mean())
    np.testing.assert_allclose(model.coef_, Z.T @ expected, atol=1e-6)


@pytest.mark.parametrize("fmt", ["csc", "csr"])
@pytest.mark.parametrize("estimator", [Ridge(), Ridge(solver="svd"), Ridge(solver="cg"),
                                       RidgeCV(alphas=[0.1, 1.0, 10.0]),
                                       RidgeCV(alphas=[0.1, 1.0, 10.0], cv=3)],
                         ids=["auto", "svd", "cg", "RidgeCV", "RidgeCV-3fold"])
def test_repeated_sparse_entries_stand_for_their_sum(fmt, estimator):
    """scipy reads entries stored twice at one place as their sum: so does Ridge (the
    products had counted each on its own: coefficients 1.41 off)."""
    rng = np.random.default_rng(24)
    y = rng.standard_normal(50)
    C = sp.random(50, 6, density=0.5, format="csc", random_state=0)
    doubled = sp.csc_matrix((np.repeat(C.data / 2, 2), np.repeat(C.indices, 2),
                             np.r_[0, np.cumsum(2 * np.diff(C.indptr))]), shape=C.shape)
    doubled = doubled.asformat(fmt) if fmt == "csc" else sp.csr_matrix(
        (np.repeat(C.tocsr().data / 2, 2), np.repeat(C.tocsr().indices, 2),
         np.r_[0, np.cumsum(2 * np.diff(C.tocsr().indptr))]), shape=C.shape)
    assert doubled.nnz == 2 * C.nnz
    expected = clone(estimator).fit(C, y).coef_
    np.testing.assert_allclose(clone(estimator).fit(doubled, y).coef_, expected,
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ridge_path(doubled, y, alphas=[1.0])[1],
                               ridge_path(C, y, alphas=[1.0])[1], rtol=1e-10, atol=1e-12)


def _timestamp_and_rate(n=200, seed=25):
    rng = np.random.default_rng(seed)
    t = 1.7e9 + rng.uniform(0, 3e7, n)  # a Unix time over a year
    r = rng.uniform(0, 0.05, n)  # a rate
    X = np.c_[t, r]
    y = 1e-7 * (t - t.mean()) + 40 * r + 0.01 * rng.standard_normal(n)
    return X, y


def _exact_ridge(X, y, alpha):
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    p = X.shape[1]
    return np.linalg.lstsq(np.vstack([Xc, np.sqrt(alpha) * np.eye(p)]),
                           np.r_[yc, np.zeros(p)], rcond=None)[0]


@pytest.mark.parametrize("alpha", [1e-2, 1.0, 100.0])
def test_a_small_scale_column_beside_a_large_one_keeps_its_coefficient(alpha):
    """A Unix time beside a rate: the rate's eigen-direction is far below the rounding
    of the Gram matrix's eigenvalues, and the pseudo-inverse's cutoff (and the Cholesky
    pivot test, relative to the largest pivot) had zeroed its coefficient (1.59 -> 0),
    with alpha > 0 where the system is well defined. Cholesky, invariant to scaling,
    solves those alphas."""
    X, y = _timestamp_and_rate()
    expected = _exact_ridge(X, y, alpha)
    for solver in ("auto", "cholesky", "svd"):
        np.testing.assert_allclose(Ridge(alpha=alpha, solver=solver).fit(X, y).coef_,
                                   expected, rtol=1e-6)
    np.testing.assert_allclose(ridge_path(X, y, [alpha, 10 * alpha])[1][:, 0], expected,
                               rtol=1e-6)
    folds = list(KFold(5, shuffle=True, random_state=0).split(X))
    alphas = [alpha, 10 * alpha]
    ours = RidgeCV(alphas=alphas, cv=folds).fit(X, y)
    theirs = sk.RidgeCV(alphas=alphas, cv=folds).fit(X, y)
    assert ours.alpha_ == theirs.alpha_
    np.testing.assert_allclose(ours.coef_, _exact_ridge(X, y, ours.alpha_), rtol=1e-6)


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("layout", ["F", "C", "csr", "csc"])
def test_float32_products_are_summed_in_float64(fit_intercept, layout):
    """float32 X of mean 1e4: X^T X and X^T y summed in float32 lost the small
    directions (leave-one-out errors flat over alpha, the wrong alpha_, coefficients
    1e-1 off); summed in float64 from float32 values they are exact to float64 rounding."""
    rng = np.random.default_rng(26)
    X32 = (rng.standard_normal((40, 6)) + 1e4).astype(np.float32)
    X64 = X32.astype(np.float64)
    y = rng.standard_normal(40) + 0.3 * (X64[:, 0] - 1e4)
    A = {"F": np.asfortranarray(X32), "C": np.ascontiguousarray(X32),
         "csr": sp.csr_matrix(X32), "csc": sp.csc_matrix(X32)}[layout]
    alphas = np.logspace(-3, 3, 13)
    ours = RidgeCV(alphas=alphas, fit_intercept=fit_intercept,
                   store_cv_results=True).fit(A, y)
    theirs = sk.RidgeCV(alphas=alphas, fit_intercept=fit_intercept,
                        store_cv_results=True).fit(X64, y)
    np.testing.assert_allclose(ours.cv_results_, theirs.cv_results_, rtol=1e-4)
    assert ours.alpha_ == theirs.alpha_
    Xc = X64 - X64.mean(axis=0) if fit_intercept else X64
    yc = y - y.mean() if fit_intercept else y
    exact = np.linalg.solve(Xc.T @ Xc + 1000 * np.eye(6), Xc.T @ yc)
    coef = Ridge(alpha=1000, fit_intercept=fit_intercept).fit(A, y).coef_
    assert np.abs(coef - exact).max() <= 1e-5 * np.abs(exact).max()


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_wide_sparse_kernel_centres_only_far_columns_apart(fmt, weighted):
    """Wide sparse X with a few dense columns of large mean (1e5 and 1e9 +- 1): those
    are centred explicitly, the sparse ones by rank-one terms (all columns had been made
    dense, 4.5x to 18x the time); the coefficients are those of centred X."""
    rng = np.random.default_rng(27)
    n, p = 120, 3000
    S = sp.random(n, p, density=0.01, format="csc", random_state=1)
    far = np.c_[1e5 + rng.standard_normal(n), 1e9 + rng.standard_normal(n)]
    X = sp.hstack([sp.csc_matrix(far), S], format=fmt)
    y = far[:, 0] - 1e5 + np.asarray(S[:, :5].sum(axis=1)).ravel() + 0.1 * rng.standard_normal(n)
    sw = rng.uniform(0.5, 2.0, n) if weighted else np.ones(n)
    Z = X.toarray()
    Z -= sw @ Z / sw.sum()
    yc = y - sw @ y / sw.sum()
    Zs = np.sqrt(sw)[:, None] * Z  # w = Zs^T (Zs Zs^T + I)^-1 S^1/2 yc
    expected = Zs.T @ np.linalg.solve(Zs @ Zs.T + np.eye(n), np.sqrt(sw) * yc)
    model = Ridge(alpha=1.0).fit(X, y, sample_weight=sw if weighted else None)
    # (1e9 + x is stored to 1.2e-7: the floor of its column's coefficient)
    np.testing.assert_allclose(model.coef_, expected, rtol=1e-6, atol=2e-7)


def _wide_timestamp_and_small_column():
    """n = 60 < p = 200: a Unix time, a column of scale 1e-4, and standard normals."""
    rng = np.random.default_rng(2)
    n, p = 60, 200
    X = rng.standard_normal((n, p))
    X[:, 0] = 1.7e9 + 3e7 * rng.standard_normal(n)
    X[:, 1] *= 1e-4
    y = 1e4 * X[:, 1] + 1e-8 * X[:, 0] + 0.1 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("solver", ["auto", "cholesky", "svd"])
def test_wide_x_with_a_small_scale_column_is_solved_on_its_gram_matrix(solver):
    """n < p: the kernel sums every column into each entry, and a Unix time's rounding
    hid a column of scale 1e-4 (coefficient 1e-20 for 4.79e-5). Such X, when not too
    wide, is solved on its Gram matrix, whose Cholesky factor keeps each column's scale;
    the reference is an SVD of the centred X (scikit-learn's 'svd')."""
    X, y = _wide_timestamp_and_small_column()
    n = X.shape[0]
    U, sigma, Vt = np.linalg.svd(X - X.mean(axis=0), full_matrices=False)
    expected = Vt.T @ (sigma / (sigma**2 + 1.0) * (U.T @ (y - y.mean())))
    coef = Ridge(alpha=1.0, solver=solver).fit(X, y).coef_
    np.testing.assert_allclose(coef[1], expected[1], rtol=1e-4)
    np.testing.assert_allclose(ridge_path(X, y, [1.0])[1][:, 0], coef, rtol=1e-6, atol=1e-12)


def test_leave_one_out_coefficients_of_badly_scaled_columns_are_ridges():
    """RidgeCV's coefficients at its alpha_ are Ridge's there: for a Unix time beside a
    rate they come from Cholesky, not from the eigendecomposition whose rounding spoils
    the rate's direction."""
    rng = np.random.default_rng(0)
    n = 300
    t = 1.7e9 + rng.uniform(0, 3e7, n)
    r = rng.uniform(0, 0.05, n)
    X = np.c_[t, r, rng.standard_normal((n, 28))]
    y = 1e-7 * (t - t.mean()) + 40 * r + 0.01 * rng.standard_normal(n)
    loo = RidgeCV(alphas=[1.0]).fit(X, y)
    np.testing.assert_allclose(loo.coef_, Ridge(alpha=1.0).fit(X, y).coef_, rtol=1e-9,
                               atol=1e-15)


def _refit_loo_errors(X, y, alpha, sample_weight, fit_intercept):
    """Leave-one-out residuals (sqrt(s_i) times sample i's) by n refits, each solved on
    columns scaled to unit norm (exact whatever the columns' scales)."""
    n = len(y)
    out = np.empty(n)
    for i in range(n):
        keep = np.arange(n) != i
        s = sample_weight[keep]
        xm = s @ X[keep] / s.sum() if fit_intercept else np.zeros(X.shape[1])
        ym = s @ y[keep] / s.sum() if fit_intercept else 0.0
        Z = np.sqrt(s)[:, None] * (X[keep] - xm)
        scale = np.linalg.norm(Z, axis=0)
        scale[scale == 0] = 1.0
        Zs = Z / scale
        v = np.linalg.solve(Zs.T @ Zs + alpha * np.diag(1.0 / scale**2),
                            Zs.T @ (np.sqrt(s) * (y[keep] - ym)))
        out[i] = np.sqrt(sample_weight[i]) * (y[i] - ym - (X[i] - xm) @ (v / scale))
    return out


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layout", ["F", "csr", "csc"])
def test_leave_one_out_errors_of_badly_scaled_columns_are_exact(layout, dtype, weighted,
                                                                 fit_intercept):
    """A Unix time beside a rate: the eigendecomposition's rounding of the Gram matrix
    had put the leave-one-out errors up to 17% off at alpha = 1e-3 (as in
    scikit-learn). The far column is now taken apart by a Schur complement."""
    rng = np.random.default_rng(0)
    n = 150
    t = 1.7e9 + rng.uniform(0, 3e7, n)
    rate = rng.uniform(0, 0.05, n)
    X = np.c_[t, rate, rng.standard_normal((n, 28))].astype(dtype)
    X64 = X.astype(np.float64)
    y = 1e-7 * (X64[:, 0] - X64[:, 0].mean()) + 40 * X64[:, 1] + 0.01 * rng.standard_normal(n)
    y = y.astype(dtype).astype(np.float64)  # (as RidgeCV casts it)
    sw = rng.uniform(0.5, 2.0, n) if weighted else np.ones(n)
    alphas = np.array([1e-3, 1e-1, 10.0])
    A = {"F": np.asfortranarray(X), "csr": sp.csr_matrix(X), "csc": sp.csc_matrix(X)}[layout]
    model = RidgeCV(alphas=alphas, fit_intercept=fit_intercept, store_cv_results=True)
    model.fit(A, y, sample_weight=sw if weighted else None)
    expected = np.column_stack([_refit_loo_errors(X64, y, a, sw, fit_intercept) ** 2
                                for a in alphas])
    np.testing.assert_allclose(model.cv_results_, expected, rtol=1e-6,
                               atol=1e-9 * expected.max())
    best = alphas[np.argmin(expected.mean(axis=0))]
    assert model.alpha_ == best
    np.testing.assert_allclose(model.coef_, Ridge(alpha=best, fit_intercept=fit_intercept)
                               .fit(A, y, sample_weight=sw if weighted else None).coef_,
                               rtol=1e-7, atol=1e-15)


@pytest.mark.parametrize("solver", ["sparse_cg", "lsqr", "sag", "saga"])
def test_scikit_learn_solver_names_run_a_fastpen_solver(solver):
    X, y = make_problem(seed=93)
    ours = Ridge(alpha=1.0, solver=solver, tol=1e-10).fit(X, y)
    assert ours.solver_ == "cg"
    np.testing.assert_allclose(ours.coef_, Ridge(alpha=1.0, solver="cholesky").fit(X, y).coef_,
                               rtol=1e-7, atol=1e-10)


def test_lbfgs_is_for_positive_fits_as_in_scikit_learn():
    X, y = make_problem(seed=94)
    ours = Ridge(alpha=1.0, solver="lbfgs", positive=True, tol=1e-10).fit(X, y)
    theirs = sk.Ridge(alpha=1.0, solver="lbfgs", positive=True, tol=1e-10).fit(X, y)
    assert ours.solver_ == "cd"

    def objective(model):
        return (np.sum((y - X @ model.coef_ - model.intercept_) ** 2)
                + np.sum(model.coef_ ** 2))
    assert np.all(ours.coef_ >= 0)
    assert objective(ours) <= objective(theirs) * (1 + 1e-9)
    with pytest.raises(ValueError, match="'lbfgs' solver can be used only when positive=True"):
        Ridge(solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="does not support positive fitting"):
        Ridge(solver="sag", positive=True).fit(X, y)


@pytest.mark.parametrize("routing", [False, True], ids=["direct", "routed"])
def test_ridgecv_passes_groups_to_its_splitter(routing):
    """RidgeCV.fit(X, y, groups=g) with a group splitter (a TypeError before)."""
    import sklearn
    from sklearn.model_selection import GroupKFold
    rng = np.random.default_rng(95)
    X = rng.standard_normal((60, 5))
    y = X @ np.ones(5) + rng.standard_normal(60)
    groups = np.arange(60) % 5
    alphas = np.logspace(-2, 3, 11)
    with sklearn.config_context(enable_metadata_routing=routing):
        ours = RidgeCV(alphas=alphas, cv=GroupKFold(3)).fit(X, y, groups=groups)
        if routing:
            theirs = sk.RidgeCV(alphas=alphas, cv=GroupKFold(3)).fit(X, y, groups=groups)
            assert ours.alpha_ == theirs.alpha_
            assert ours.best_score_ == pytest.approx(theirs.best_score_, rel=1e-9)
    manual = RidgeCV(alphas=alphas, cv=list(GroupKFold(3).split(X, y, groups))).fit(X, y)
    assert ours.alpha_ == manual.alpha_
    with pytest.raises(ValueError, match="leave-one-out"):
        RidgeCV(alphas=alphas).fit(X, y, groups=groups)


@pytest.mark.parametrize("fit", ["svd", "loo", "path"])
def test_ridge_decompositions_release_the_gil(fit):
    """Ridge's eigendecompositions and Cholesky factors run in LAPACK without the GIL
    (scipy.linalg's wrappers hold it: a thread fitting Ridge(solver='svd') or RidgeCV
    had stopped every other thread for 0.5 s at a time)."""
    import threading
    import time
    rng = np.random.default_rng(96)
    X = rng.standard_normal((1500, 1200))
    y = X[:, :10].sum(axis=1) + rng.standard_normal(1500)
    run = {"svd": lambda: Ridge(solver="svd").fit(X, y),
           "loo": lambda: RidgeCV().fit(X, y),
           "path": lambda: ridge_path(X, y, [0.1, 1.0])}[fit]
    with threadpool_limits(1):
        thread = threading.Thread(target=run)
        thread.start()
        longest, last = 0.0, time.perf_counter()
        while thread.is_alive():
            time.sleep(0.001)
            now = time.perf_counter()
            longest, last = max(longest, now - last), now
        thread.join()
    assert longest < 0.15, f"the main thread waited {longest:.2f} s"


@pytest.mark.parametrize("solver", ["cd", "fista"])
def test_engines_warn_when_rounding_bounds_their_certificate(solver):
    """Columns of scales 1e-8, 1 and 1e8 with weights 1e-6 to 1e6: the rounding bound
    of the engines' certificate passed the requested accuracy and fista's coefficients
    came out 1.4e-3 off, without a warning. Well-scaled float64 X gives none."""
    rng = np.random.default_rng(12)
    n, p = 10, 3
    X = rng.standard_normal((n, p)) * np.logspace(-8, 8, p)
    y = X @ rng.standard_normal(p) + rng.standard_normal(n)
    sw = 10.0 ** rng.uniform(-6, 6, n)
    alpha = 1e-9 * np.linalg.norm(X) ** 2
    with pytest.warns(ConvergenceWarning, match="certified the coefficients"):
        Ridge(alpha=alpha, fit_intercept=False, solver=solver).fit(X, y, sample_weight=sw)
    X, y = make_problem(seed=97)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        Ridge(alpha=1.0, solver=solver).fit(X, y)


def test_wide_leave_one_out_with_columns_of_three_scales():
    """6 x 20 with columns of scales 1e-3, 1 and 1e3: wide X keeps the kernel's
    leave-one-out (a Gram-mode Schur complement had cancelled to errors of 873 for
    2.49), as scikit-learn."""
    rng = np.random.default_rng(1)
    for _ in range(24):
        X = rng.standard_normal((6, 20)) * rng.choice([1e-3, 1.0, 1e3], size=20)
        y = rng.standard_normal(6)
    alphas = (1e-3, 0.1, 1.0, 10.0)
    ours = RidgeCV(alphas=alphas, store_cv_results=True).fit(X, y)
    theirs = sk.RidgeCV(alphas=alphas, store_cv_results=True).fit(X, y)
    np.testing.assert_allclose(ours.cv_results_, theirs.cv_results_, rtol=1e-4)


@pytest.mark.parametrize("layout", ["F", "csr", "csc"])
def test_leave_one_out_with_far_columns_on_both_sides(layout):
    """A Unix time and a column of scale 1e-6 are both far from the others: the
    Schur complement's pseudo-inverse dropped the small one's direction (errors 1.45
    for 0.0107, coefficient 3.6e-22 for 1.0e6). It is now equilibrated and kept
    factored. A Unix time twice (an explicit inverse lost the large direction: one
    sample's error 335% off)."""
    rng = np.random.default_rng(0)
    n = 40
    X = np.column_stack([1.6e9 + rng.uniform(0, 3e7, n), 1e-6 * rng.standard_normal(n),
                         rng.standard_normal((n, 2))])
    y = X[:, 1] * 1e6 + X[:, 2] + 0.1 * rng.standard_normal(n)
    t = 1.7e9 + rng.uniform(0, 3e7, 3 * n)
    X2 = np.column_stack([t, t, rng.uniform(0, 0.05, 3 * n), rng.standard_normal((3 * n, 10))])
    y2 = 1e-7 * (t - t.mean()) + 40 * X2[:, 2] + 0.1 * rng.standard_normal(3 * n)
    for X, y, alphas in ((X, y, [1e-13, 1e-12, 1e-11]), (X2, y2, [50.0])):
        A = {"F": np.asfortranarray(X), "csr": sp.csr_matrix(X), "csc": sp.csc_matrix(X)}[layout]
        model = RidgeCV(alphas=alphas, store_cv_results=True).fit(A, y)
        expected = np.column_stack([
            _refit_loo_errors(X, y, a, np.ones(len(y)), True) ** 2 for a in alphas])
        np.testing.assert_allclose(model.cv_results_, expected, rtol=1e-6,
                                   atol=1e-9 * expected.max())
