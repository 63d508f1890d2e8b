"""The proximal-gradient engine: same optimum as coordinate descent, and restart pays."""
import numpy as np
import pytest

import fastpen
from fastpen import _design
from fastpen._engine import Design, solve_enet
from conftest import make_problem, objective


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.3])
def test_fista_and_ista_reach_the_cd_objective(sparse, fit_intercept, l1_ratio):
    X, y = make_problem(sparse=sparse, seed=41)
    alpha = 0.02
    values = {}
    for solver in ("cd", "fista", "ista"):
        model = fastpen.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, solver=solver, tol=1e-12,
                                   max_iter=500_000, fit_intercept=fit_intercept).fit(X, y)
        values[solver] = objective(X, y, model.coef_, model.intercept_, alpha, l1_ratio)
    assert values["fista"] == pytest.approx(values["cd"], rel=1e-7)
    assert values["ista"] == pytest.approx(values["cd"], rel=1e-7)


def _ill_conditioned(n_samples=300, n_features=200, rho=0.95, seed=0):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n_samples, n_features))
    X = Z.copy()
    for j in range(1, n_features):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * Z[:, j]
    w = np.zeros(n_features)
    w[:10] = 1.0
    return np.asfortranarray(X), X @ w + 0.1 * rng.standard_normal(n_samples)


def _iterations(X, y, alpha, solver, restart):
    design = Design(X)
    X_mean, norm2 = design.column_stats(None, True)
    p = X.shape[1]
    solution = solve_enet(
        design, y, sample_weight=None, X_mean=X_mean, norm2=norm2, center=True,
        coef=np.zeros(p), alpha=alpha, l1_ratio=1.0, penalty_factor=np.ones(p),
        lower=None, upper=None, max_iter=200_000, tol=1e-10, solver=solver, restart=restart,
    )
    assert solution.converged
    return solution.n_iter


def test_adaptive_restart_needs_fewer_iterations():
    """On strongly correlated columns momentum overshoots; restarting it pays."""
    X, y = _ill_conditioned()
    alpha = 1e-3 * np.max(np.abs(X.T @ (y - y.mean()))) / X.shape[0]
    with_restart = _iterations(X, y, alpha, "fista", restart=True)
    without_restart = _iterations(X, y, alpha, "fista", restart=False)
    plain = _iterations(X, y, alpha, "ista", restart=False)
    assert with_restart < 0.7 * without_restart
    assert without_restart < plain


def test_backtracking_recovers_from_a_low_step_estimate():
    """A Lipschitz estimate 100x too low must still converge, to the same optimum."""
    X, y = make_problem(seed=42)
    design = Design(X)
    X_mean, norm2 = design.column_stats(None, True)
    p = X.shape[1]
    results = []
    for lipschitz in (None, design.lipschitz(None, True) / 100):
        coef = np.zeros(p)
        solution = solve_enet(
            design, y, sample_weight=None, X_mean=X_mean, norm2=norm2, center=True,
            coef=coef, alpha=0.02, l1_ratio=1.0, penalty_factor=np.ones(p), lower=None,
            upper=None, max_iter=100_000, tol=1e-12, solver="fista", lipschitz=lipschitz,
        )
        assert solution.converged
        results.append(coef)
    np.testing.assert_allclose(results[0], results[1], atol=1e-7)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("weighted", [False, True])
def test_lipschitz_constant_is_the_top_eigenvalue(sparse, weighted):
    X, _ = make_problem(sparse=sparse, seed=43)
    n = X.shape[0]
    sw = np.random.default_rng(0).uniform(0.5, 2, n) if weighted else None
    s = np.ones(n) if sw is None else sw * n / sw.sum()
    Xd = X.toarray() if sparse else X
    Xc = Xd - (s @ Xd) / n
    exact = np.linalg.eigvalsh(Xc.T @ (s[:, None] * Xc))[-1]
    design = Design(X)
    weights = None if sw is None else s.astype(X.dtype)
    # the solver's cheap estimate: a few per cent low at most, never above
    estimate = design.lipschitz(weights, True)
    assert exact * 0.95 <= estimate <= exact * (1 + 1e-12)
    # the same power iteration run to convergence finds the eigenvalue
    converged = _design.lipschitz_constant(
        design.data, design.indices, design.indptr, design.is_sparse, n, X.shape[1],
        np.empty(0) if weights is None else weights, True, 5000, 1e-12)
    assert converged == pytest.approx(exact, rel=1e-6)
