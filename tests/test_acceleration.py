"""The CD engine's accelerations (Anderson extrapolation of the coefficients, dual
extrapolation of the residual) change how fast it gets there, never where it gets."""
import functools
import warnings
import types

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

import fastpen
import fastpen._engine as engine
from conftest import kkt_violation, make_problem, make_weights, objective


def hard_problem(sparse, dtype, seed=11):
    """p > n with strongly correlated columns: CD on the support converges slowly, the
    case both extrapolations are for."""
    rng = np.random.default_rng(seed)
    n, p = 50, 120
    Z = rng.standard_normal((n, p))
    X = Z.copy()
    for j in range(1, p):
        X[:, j] = 0.9 * X[:, j - 1] + np.sqrt(1 - 0.81) * Z[:, j]
    X += 1.0
    if sparse:
        X[np.abs(Z) < 0.3] = 0.0  # about a quarter of the entries stored as zeros
        X = sp.csc_matrix(X)
    w = np.zeros(p)
    w[rng.choice(p, 10, replace=False)] = rng.standard_normal(10)
    y = np.asarray(X @ w).ravel() + 0.1 * rng.standard_normal(n)
    X = X.astype(dtype) if sparse else np.asfortranarray(X, dtype=dtype)
    return X, y.astype(dtype)


def with_engine_options(monkeypatch, **options):
    """Make every fit call the CD engine with these options (the Newton step and the
    settled-support Anderson steps off unless given, so that each is measured on its
    own against plain coordinate descent)."""
    options.setdefault("newton", False)
    options.setdefault("settle_anderson", False)
    solve = functools.partial(engine._enet.enet_solve_path, **options)
    monkeypatch.setattr(engine, "_enet", types.SimpleNamespace(enet_solve_path=solve))


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_accelerations_reach_the_same_optimum(monkeypatch, sparse, dtype, fit_intercept,
                                              weighted):
    X, y = hard_problem(sparse, dtype)
    sw = make_weights(X.shape[0]) if weighted else None
    alpha = 0.002
    tol = 1e-10 if dtype == np.float64 else 1e-6
    results = {}
    for anderson in (True, False):
        for extrapolation in (True, False):
            with monkeypatch.context() as patch:
                with_engine_options(patch, anderson=anderson, extrapolation=extrapolation)
                model = fastpen.Lasso(alpha=alpha, tol=tol, max_iter=1_000_000,
                                      fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
            results[anderson, extrapolation] = model
    plain = results[False, False]
    obj_plain = objective(X, y, plain.coef_, plain.intercept_, alpha, 1.0, sw)
    rtol = 1e-8 if dtype == np.float64 else 1e-4
    for (anderson, extrapolation), model in results.items():
        obj = objective(X, y, model.coef_, model.intercept_, alpha, 1.0, sw)
        # each objective is within its certified gap of the optimum (float64); float32
        # certifies less than it can represent
        bound = (model.dual_gap_ + plain.dual_gap_ if dtype == np.float64
                 else rtol * abs(obj_plain))
        assert abs(obj - obj_plain) <= bound + 1e-12 * abs(obj_plain)
        assert kkt_violation(X, y, model.coef_, model.intercept_, alpha, 1.0, sw) <= (
            1e-4 if dtype == np.float64 else 1e-2)
    if dtype == np.float64:
        # on this problem Anderson steps cut the work several times over
        assert results[True, True].n_iter_ * 2 <= plain.n_iter_


def test_anderson_respects_bounds(monkeypatch):
    X, y = hard_problem(False, np.float64)
    with_engine_options(monkeypatch, anderson=True)
    model = fastpen.Lasso(alpha=0.002, positive=True, tol=1e-10, max_iter=1_000_000).fit(X, y)
    assert np.all(model.coef_ >= 0)
    assert kkt_violation(X, y, model.coef_, model.intercept_, 0.002, 1.0, None,
                         lower=0.0) <= 1e-4


@pytest.mark.parametrize("storage", ["dense", "sparse", "gram"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_newton_steps_reach_the_same_optimum_sooner(monkeypatch, storage, dtype,
                                                     fit_intercept, weighted):
    # "gram": coordinate descent on Q = Xc^T S Xc, where the Hessian is a block of Q
    X, y = hard_problem(storage == "sparse", dtype)
    sw = make_weights(X.shape[0]) if weighted else None
    alpha = 0.002
    tol = 1e-10 if dtype == np.float64 else 1e-6
    results = {}
    for newton in (True, False):
        with monkeypatch.context() as patch:
            with_engine_options(patch, newton=newton)
            results[newton] = fastpen.Lasso(alpha=alpha, tol=tol, max_iter=1_000_000,
                                            fit_intercept=fit_intercept,
                                            precompute=storage == "gram").fit(
                X, y, sample_weight=sw)
    rtol = 1e-8 if dtype == np.float64 else 1e-4
    objectives = {newton: objective(X, y, model.coef_, model.intercept_, alpha, 1.0, sw)
                  for newton, model in results.items()}
    bound = (results[True].dual_gap_ + results[False].dual_gap_ if dtype == np.float64
             else rtol * abs(objectives[False]))
    assert abs(objectives[True] - objectives[False]) <= bound + 1e-12 * abs(objectives[False])
    assert kkt_violation(X, y, results[True].coef_, results[True].intercept_, alpha, 1.0,
                         sw) <= (1e-4 if dtype == np.float64 else 1e-2)
    if dtype == np.float64:
        # nearly collinear columns: CD creeps, the Newton step lands
        assert results[True].n_iter_ * 1.5 <= results[False].n_iter_


def test_newton_step_ends_a_stall_on_nearly_collinear_columns():
    # two columns with cosine 0.99995: CD contracts by about 1 - 1e-4 per epoch and did
    # not reach tol=1e-12 in 200000 epochs (found by the property test)
    X = np.array([[0, 4, 3], [0, 0, 0.03125], [0, 0, 0]], dtype=float)
    y = np.array([0, 1, 0.0])
    alpha = 0.5 * np.max(np.abs(X.T @ y)) / 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = fastpen.Lasso(alpha=alpha, fit_intercept=False, tol=1e-12,
                              max_iter=200_000).fit(X, y)
    assert model.n_iter_ < 1000
    assert kkt_violation(X, y, model.coef_, 0.0, alpha, 1.0) <= 1e-9


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_newton_hessian_kept_between_steps_is_the_supports_gram(dtype, weighted):
    # the steps of one solve keep the products of the support before and compute only
    # the new columns': through features that leave and come back, a support that
    # outgrows the kept block, and one that shares nothing with the one before, each
    # Hessian must still be X_S^T S X_S
    rng = np.random.default_rng(3)
    X = np.asfortranarray(rng.standard_normal((40, 60)) + 2.0, dtype=dtype)
    weights = rng.uniform(0.5, 2.0, 40) if weighted else None
    supports = [
        list(range(10)),
        list(range(8)) + [12, 13],          # 8 and 9 leave, 12 and 13 come
        list(range(10)),                    # 8 and 9 come back
        [5, 2, 9, 1],                       # a smaller one, in another order
        list(range(0, 60, 2)),              # more columns than kept so far
        list(range(1, 60, 2)),              # nothing in common
        list(range(1, 60, 2))[::-1],        # the same, reversed
    ]
    X64 = np.asarray(X, dtype=np.float64)
    scale = np.ones(40) if weights is None else weights  # (float64 for float32 X too)
    for support, hessian in zip(supports, fastpen._enet.newton_products(
            X, supports, sample_weight=weights)):
        columns = X64[:, support]
        expected = columns.T @ (scale[:, None] * columns)
        np.fill_diagonal(expected, 0.0)
        np.testing.assert_allclose(hessian, expected, rtol=1e-12,
                                   atol=1e-12 * np.abs(expected).max())


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_null_space_moves_end_the_creep_on_supports_wider_than_the_rank(
        monkeypatch, sparse, fit_intercept):
    # 15 distinct rows (each twice) and 30 columns: CD passes through supports of more
    # columns than the rank, flat along the null space, where it creeps (thousands of
    # epochs to tol=1e-10); moves along the null space zero the surplus coefficients
    rng = np.random.RandomState(42)
    X = rng.rand(15, 30)
    y = rng.randint(0, 3, size=15).astype(float)
    X, y = np.vstack([X, X]), np.hstack([y, y])
    Xc = X - X.mean(axis=0) if fit_intercept else X
    yc = y - y.mean() if fit_intercept else y
    alpha = np.max(np.abs(Xc.T @ yc)) / len(y) / 1000
    X = sp.csc_matrix(X) if sparse else np.asfortranarray(X)
    results = {}
    for newton in (True, False):
        with monkeypatch.context() as patch:
            with_engine_options(patch, newton=newton)
            results[newton] = fastpen.Lasso(alpha=alpha, tol=1e-10, max_iter=1_000_000,
                                            fit_intercept=fit_intercept).fit(X, y)
    objectives = {newton: objective(X, y, model.coef_, model.intercept_, alpha, 1.0)
                  for newton, model in results.items()}
    bound = results[True].dual_gap_ + results[False].dual_gap_
    assert abs(objectives[True] - objectives[False]) <= bound + 1e-12 * objectives[False]
    assert kkt_violation(X, y, results[True].coef_, results[True].intercept_, alpha,
                         1.0) <= 1e-6
    assert results[True].n_iter_ * 5 <= results[False].n_iter_


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_gradient_bounds_certify_only_what_holds(monkeypatch, sparse, dtype, fit_intercept,
                                                 weighted, l1_ratio):
    # along a path the gap over every feature reads only the columns that the bounds
    # from the last full gradient do not certify; a bound too small would let a feature
    # that violates its optimality condition go unseen, and the gap reported would
    # then be below the true suboptimality (float64: against a far tighter path without
    # bounds; float32: against the same path without bounds)
    X, y = make_problem(n_samples=60, n_features=1000, sparse=sparse, dtype=dtype,
                        n_informative=15, seed=5)
    sw = make_weights(X.shape[0]) if weighted else None
    paths = {}
    tight = dtype == np.float64
    for bounds, tol in ((True, 1e-10 if tight else 1e-6), (False, 1e-14 if tight else 1e-6)):
        with monkeypatch.context() as patch:
            solve = functools.partial(engine._enet.enet_solve_path, gradient_bounds=bounds)
            patch.setattr(engine, "_enet", types.SimpleNamespace(enet_solve_path=solve))
            with warnings.catch_warnings():
                # every alpha converges (a float32 restricted phase once drifted away
                # from its target here, until max_iter)
                # (the float64 reference may stop at rounding just above its 1e-14)
                warnings.simplefilter("error" if bounds else "ignore", ConvergenceWarning)
                paths[bounds] = fastpen.enet_path(
                    X, y, l1_ratio=l1_ratio, alphas=80, fit_intercept=fit_intercept,
                    sample_weight=sw, tol=tol, max_iter=100_000)
    alphas, coefs, gaps = paths[True]
    _, coefs_best, gaps_best = paths[False]
    Xd = X.toarray() if sparse else X
    s = np.ones(X.shape[0]) if sw is None else sw
    for k, alpha in enumerate(alphas):
        intercepts = [
            (s @ (y - Xd @ c)) / s.sum() if fit_intercept else 0.0
            for c in (coefs[:, k], coefs_best[:, k])
        ]
        assert kkt_violation(X, y, coefs[:, k], intercepts[0], alpha, l1_ratio, sw) <= (
            1e-5 if dtype == np.float64 else 1e-2)
        obj, obj_best = (objective(X, y, c, b, alpha, l1_ratio, sw)
                         for c, b in zip((coefs[:, k], coefs_best[:, k]), intercepts))
        if dtype == np.float64:
            assert obj - obj_best <= gaps[k] * (1 + 1e-6) + gaps_best[k] + 1e-13 * obj_best
        else:
            # float32 certifies less than it can represent
            assert abs(obj - obj_best) <= 1e-3 * obj_best
    assert np.count_nonzero(coefs[:, -1]) >= 15
