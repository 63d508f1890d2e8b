"""The engine reaches scikit-learn's optimum and satisfies KKT on the full grid:
dense/sparse x float32/float64 x fit_intercept x sample_weight x positive x l1_ratio."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.exceptions import ConvergenceWarning

import fastpen
from conftest import kkt_violation, make_problem, make_weights, objective

# float32 results are rounded to float32 (the engines iterate in float64): ask what
# scikit-learn's float32 solver can reach, to compare with it
TOL = {np.float64: 1e-12, np.float32: 1e-7}
RTOL_OBJECTIVE = {np.float64: 1e-7, np.float32: 1e-4}
KKT_TOL = {np.float64: 1e-6, np.float32: 2e-3}


def fit_both(X, y, *, alpha, l1_ratio, fit_intercept, sample_weight, positive, dtype,
             solver="cd"):
    tol = TOL[dtype]
    common = dict(alpha=alpha, fit_intercept=fit_intercept, positive=positive,
                  tol=tol, max_iter=100_000)
    with warnings.catch_warnings():
        # ours reaches these tolerances, float32 and fista included
        warnings.simplefilter("error", ConvergenceWarning)
        ours = fastpen.ElasticNet(l1_ratio=l1_ratio, solver=solver, **common).fit(
            X, y, sample_weight=sample_weight)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn may not reach float32 tolerances
        theirs = sk.ElasticNet(l1_ratio=l1_ratio, **common).fit(X, y, sample_weight=sample_weight)
    return ours, theirs


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("positive", [False, True], ids=["signed", "positive"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("solver", ["cd", "fista"])
def test_objective_and_kkt_match_sklearn(sparse, dtype, fit_intercept, weighted, positive,
                                         l1_ratio, solver):
    X, y = make_problem(sparse=sparse, dtype=dtype, seed=3)
    sw = make_weights(X.shape[0]) if weighted else None
    alpha_max = np.max(np.abs((X.T @ (y - y.mean())))) / X.shape[0]
    alpha = 0.05 * alpha_max / l1_ratio
    ours, theirs = fit_both(X, y, alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                            sample_weight=sw, positive=positive, dtype=dtype, solver=solver)

    assert ours.coef_.dtype == dtype
    obj_ours = objective(X, y, ours.coef_, ours.intercept_, alpha, l1_ratio, sw)
    obj_theirs = objective(X, y, theirs.coef_, theirs.intercept_, alpha, l1_ratio, sw)
    # never worse than scikit-learn beyond the tolerance (better is fine)
    assert obj_ours <= obj_theirs * (1 + RTOL_OBJECTIVE[dtype])
    assert obj_ours == pytest.approx(obj_theirs, rel=RTOL_OBJECTIVE[dtype])
    assert kkt_violation(X, y, ours.coef_, ours.intercept_, alpha, l1_ratio, sw,
                         lower=0.0 if positive else None) <= KKT_TOL[dtype] * alpha_max
    if positive:
        assert np.all(ours.coef_ >= 0)
    if not fit_intercept:
        assert ours.intercept_ == 0.0
    # the problem is interesting: some features in, some out
    assert 0 < np.count_nonzero(ours.coef_) < X.shape[1]


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("solver", ["cd", "fista", "ista"])
def test_dual_gap_is_sklearns_quantity(sparse, fit_intercept, solver):
    """dual_gap_ is scikit-learn's gap, recomputed here from the returned coef."""
    X, y = make_problem(sparse=sparse, seed=5)
    alpha, l1_ratio = 0.05, 0.7
    model = fastpen.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-3, solver=solver,
                               fit_intercept=fit_intercept).fit(X, y)
    Xd = X.toarray() if sp.issparse(X) else X
    yc = y - y.mean() if fit_intercept else y
    Xc = Xd - Xd.mean(axis=0) if fit_intercept else Xd
    n = X.shape[0]
    R = yc - Xc @ model.coef_
    a, b = alpha * l1_ratio * n, alpha * (1 - l1_ratio) * n
    XtA = Xc.T @ R - b * model.coef_
    scale = min(1.0, a / np.max(np.abs(XtA)))
    primal = 0.5 * (R @ R + b * model.coef_ @ model.coef_) + a * np.abs(model.coef_).sum()
    dual = -0.5 * scale**2 * (R @ R + b * model.coef_ @ model.coef_) + scale * R @ yc
    gap = (primal - dual) / n
    assert model.dual_gap_ <= 1e-3 * (yc @ yc) / n
    # screening drops features from the dual only when they are provably inactive, and
    # an extrapolated dual point is used only when it is better
    assert model.dual_gap_ <= gap * (1 + 1e-6) + 1e-12
    if solver != "cd":
        assert model.dual_gap_ == pytest.approx(gap, rel=1e-6, abs=1e-12)
    # a gap bounds the suboptimality: check against a far tighter solution
    best = fastpen.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-14, max_iter=100_000,
                              fit_intercept=fit_intercept).fit(X, y)
    suboptimality = (objective(X, y, model.coef_, model.intercept_, alpha, l1_ratio, None)
                     - objective(X, y, best.coef_, best.intercept_, alpha, l1_ratio, None))
    assert suboptimality <= model.dual_gap_ * (1 + 1e-6) + 1e-12


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_random_selection_reaches_same_optimum(sparse):
    X, y = make_problem(sparse=sparse, seed=7)
    cyclic = fastpen.Lasso(alpha=0.05, tol=1e-12, max_iter=100_000).fit(X, y)
    random = fastpen.Lasso(alpha=0.05, tol=1e-12, max_iter=100_000, selection="random",
                           random_state=0).fit(X, y)
    again = fastpen.Lasso(alpha=0.05, tol=1e-12, max_iter=100_000, selection="random",
                          random_state=0).fit(X, y)
    np.testing.assert_allclose(random.coef_, cyclic.coef_, atol=1e-7)
    np.testing.assert_array_equal(random.coef_, again.coef_)


def test_unpenalized_and_zero_alpha():
    X, y = make_problem(seed=11, n_samples=80, n_features=10)
    with pytest.warns(UserWarning, match="alpha=0"):
        ols = fastpen.Lasso(alpha=0.0, tol=1e-12, max_iter=100_000).fit(X, y)
    reference = sk.LinearRegression().fit(X, y)
    np.testing.assert_allclose(ols.predict(X), reference.predict(X), rtol=1e-7, atol=1e-7)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_zero_alpha_with_a_constant_column_whose_mean_rounds(sparse, dtype):
    # a column of 0.1s centres to rounding noise, not to 0 (its mean is a sum of n
    # inexact terms): it must count as constant, or alpha=0 divides by that noise
    X, y = make_problem(seed=13, n_samples=500, n_features=6, dtype=dtype)
    X = np.column_stack([X[:, :-1], np.full(500, 0.1)]).astype(dtype)
    if sparse:
        X = sp.csc_matrix(X)
    with pytest.warns(UserWarning, match="alpha=0"):
        ols = fastpen.Lasso(alpha=0.0, tol=1e-12 if dtype == np.float64 else 1e-6,
                            max_iter=100_000).fit(X, y)
    assert ols.coef_[-1] == 0
    reference = sk.LinearRegression().fit(X, y)
    tol = 1e-7 if dtype == np.float64 else 1e-3
    np.testing.assert_allclose(ols.predict(X), reference.predict(X), rtol=tol, atol=tol)


@pytest.mark.parametrize("solver", ["cd", "fista"])
def test_ridge_limit_l1_ratio_zero(solver):
    """l1_ratio=0 is ridge regression: compare with the closed form."""
    X, y = make_problem(seed=12, n_samples=70, n_features=15)
    alpha = 0.3
    model = fastpen.ElasticNet(alpha=alpha, l1_ratio=0.0, tol=1e-14, max_iter=100_000,
                               solver=solver).fit(X, y)
    n = X.shape[0]
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    # 1/(2n)||yc - Xc w||^2 + alpha/2 ||w||^2  =>  (Xc^T Xc + n alpha I) w = Xc^T yc
    w = np.linalg.solve(Xc.T @ Xc + n * alpha * np.eye(X.shape[1]), Xc.T @ yc)
    # the n-scaled objective is (n alpha)-strongly convex: ||w - w*||^2 <= 2 gap / (n alpha)
    gap_bound = 1e-14 * (yc @ yc)
    np.testing.assert_allclose(model.coef_, w, rtol=0,
                               atol=np.sqrt(2 * gap_bound / (n * alpha)))
    assert model.dual_gap_ * n <= gap_bound


def test_convergence_warning_reports_gap():
    X, y = make_problem(seed=13)
    with pytest.warns(Warning) as record:
        fastpen.Lasso(alpha=1e-4, max_iter=1, tol=1e-12).fit(X, y)
    messages = [str(r.message) for r in record if r.category.__name__ == "ConvergenceWarning"]
    assert messages and "Duality gap" in messages[0] and "tolerance" in messages[0]
