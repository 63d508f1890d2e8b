"""The proximal-gradient engine: same optimum as coordinate descent, and restart pays."""
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

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


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("solver", ["cd", "fista"])
@pytest.mark.parametrize("positive", [False, True])
def test_unpenalized_features_do_not_fake_convergence(sparse, dtype, fit_intercept,
                                                      solver, positive):
    """A zero penalty factor leaves a feature free: a dual point must be orthogonal to
    its column (with positive=True: while it is positive; at 0 its correlation must
    point back below 0). Built from the residual alone it is not, and the gap it gave
    fista read 0 far from the optimum; projected off the free columns (those at 0
    whose correlation points back left alone) it bounds the suboptimality, so the fit
    stops within its target of the optimum."""
    from conftest import kkt_violation, make_weights
    X, y = make_problem(n_samples=80, n_features=300, sparse=sparse, dtype=dtype,
                        seed=65)
    sample_weight = make_weights(80, seed=65)
    penalty_factor = np.ones(300)
    penalty_factor[np.random.default_rng(65).choice(300, 15, replace=False)] = 0.0
    alpha, l1_ratio = 0.5, 0.7
    common = dict(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                  penalty_factor=penalty_factor, max_iter=100_000, positive=positive)
    model = fastpen.ElasticNet(solver=solver, tol=1e-6, **common).fit(
        X, y, sample_weight=sample_weight)
    reference = fastpen.ElasticNet(solver="cd", tol=1e-13, **common).fit(
        X.astype(np.float64), y.astype(np.float64), sample_weight=sample_weight)

    def value(m):
        return objective(X, y, m.coef_, m.intercept_, alpha, l1_ratio, sample_weight,
                         penalty_factor)

    s = sample_weight / sample_weight.mean()
    yc = y - (np.average(y, weights=s) if fit_intercept else 0.0)
    target = 1e-6 * np.sum(s * yc.astype(np.float64) ** 2) / y.size
    rounding = 1e-5 * value(reference) if dtype == np.float32 else 0.0
    assert value(model) - value(reference) <= target + rounding
    assert model.dual_gap_ <= target * (1 + 1e-6) + rounding
    assert kkt_violation(X, y, model.coef_, model.intercept_, alpha, l1_ratio,
                         sample_weight, penalty_factor,
                         lower=0.0 if positive else None) < 1e-2


@pytest.mark.parametrize("solver", ["cd", "fista"])
def test_many_unpenalized_features_keep_the_gap_a_bound(solver):
    """The gap projects the dual point off the free columns through their Gram matrix,
    up to 512 of them or more while its matrices stay within the size of X. 520 free
    features of an 800 x 3000 X had fallen back to a gap that is not a bound: fista
    stopped 0.3 targets above the optimum, and cd 0.007, both with dual_gap_ = 0
    (fista 2e4 targets with 1500 of them, beyond the limit for this X: that warns)."""
    rng = np.random.default_rng(4)
    n, p, n_free = 800, 3000, 520
    X = rng.standard_normal((n, p))
    X[:, :n_free] += 0.5 * rng.standard_normal((n, 1))  # correlated free columns
    y = X[:, :5].sum(1) + X[:, n_free:n_free + 10] @ rng.standard_normal(10) + (
        rng.standard_normal(n))
    penalty_factor = np.ones(p)
    penalty_factor[:n_free] = 0.0
    alpha = 0.05
    common = dict(alpha=alpha, penalty_factor=penalty_factor, max_iter=100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = fastpen.Lasso(solver=solver, tol=1e-6, **common).fit(X, y)
    reference = fastpen.Lasso(tol=1e-13, **common).fit(X, y)

    def value(m):
        return objective(X, y, m.coef_, m.intercept_, alpha, 1.0, None, penalty_factor)

    target = 1e-6 * np.sum((y - y.mean()) ** 2) / n
    # (the reference is within 1e-7 of the target of the optimum)
    assert value(model) - value(reference) <= model.dual_gap_ + 1e-7 * target
    assert model.dual_gap_ <= target * (1 + 1e-6)

    penalty_factor[:1500] = 0.0
    limit = fastpen._enet.free_feature_limit(X.nbytes)
    assert limit < 1500
    with pytest.warns(UserWarning, match=f"more than the {limit} the duality gap"):
        fastpen.Lasso(solver=solver, tol=1e-6, **common).fit(X, y)


@pytest.mark.parametrize("unpenalized", [False, True])
def test_float32_fista_certifies_its_rounded_coefficients_at_tight_targets(unpenalized):
    """fista on float32 X rounds its coefficients to float32 before the last gap. Built
    again from the rounded residual, the dual point moved by the rounding's first
    order, and at tol=1e-8 fits ran to max_iter (28 of 60 in a check). The dual point
    of the float64 coefficients is still feasible: against it the rounding costs only
    the primal's change, as in coordinate descent."""
    for seed in range(4):
        rng = np.random.default_rng(seed)
        n, p = 120, 150
        X = rng.standard_normal((n, p)).astype(np.float32)
        y = (X[:, :5] @ rng.uniform(-3, 3, 5) + 0.5 * rng.standard_normal(n)).astype(
            np.float32)
        pf = np.ones(p)
        if unpenalized:
            pf[[7, 40]] = 0.0
        alpha = np.abs(X.T.astype(np.float64) @ (y - y.mean())).max() / n / 20
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            model = fastpen.ElasticNet(alpha=alpha, l1_ratio=0.7, solver="fista",
                                       penalty_factor=pf, tol=1e-8,
                                       max_iter=20_000).fit(X, y)
        assert model.n_iter_ < 2000
        reference = fastpen.ElasticNet(alpha=alpha, l1_ratio=0.7, penalty_factor=pf,
                                       tol=1e-12, max_iter=100_000).fit(
            X.astype(np.float64), y.astype(np.float64))
        yc = y.astype(np.float64) - y.mean()
        target = 1e-8 * yc @ yc / n
        distance = (objective(X, y, model.coef_, model.intercept_, alpha, 0.7, None, pf)
                    - objective(X, y, reference.coef_, reference.intercept_, alpha, 0.7,
                                None, pf))
        assert distance <= model.dual_gap_ + 1e-6 * target
        assert model.dual_gap_ <= target


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", ["cd", "fista"])
@pytest.mark.parametrize("bound", [0.7, -0.7, 0.5])
def test_unpenalized_feature_at_a_bound_float32_cannot_hold(dtype, solver, bound):
    """An unpenalized feature held at a one-sided bound: float32 X's coefficients are
    rounded to float32, which leaves it a hair inside 0.7 (0.69999999). Projected off
    as if inside, its gradient pushing against the bound kept the gap at 3 for 2000
    iterations; within rounding of its bound it is at it, and the fit converges."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 5))
    y = (X @ np.array([3.0, 1.0, 0.0, -1.0, 0.5]) * np.sign(bound)
         + 0.1 * rng.standard_normal(100))
    pf = np.array([0.0, 1.0, 1.0, 1.0, 1.0])
    bounds = dict(upper_bounds=bound) if bound > 0 else dict(lower_bounds=bound)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = fastpen.Lasso(alpha=0.01, penalty_factor=pf, solver=solver, tol=1e-6,
                              max_iter=2000, fit_intercept=False, **bounds).fit(
            X.astype(dtype), y.astype(dtype))
    assert model.coef_[0] == pytest.approx(bound, rel=1e-6)
    assert model.n_iter_ < 100


@pytest.mark.parametrize("solver,precompute", [("cd", False), ("cd", True),
                                                ("fista", False)])
@pytest.mark.parametrize("column_scale", [1.0, 1e4])
def test_nearly_collinear_unpenalized_features_keep_the_gap_a_bound(solver, precompute,
                                                                     column_scale):
    """x2 = x0 + x1 + 1e-5 z, all three unpenalized, and y along z: the optimum moves
    far along that direction, which the fit cannot reach in 50 epochs. Its gap must
    say so. The projection's basis had left x2 out (a pivot under 1e-10 of the largest),
    and the gap read 0 at 2e5 targets above the optimum; it is now chosen on the Gram
    matrix scaled to a unit diagonal (columns' units do not matter) down to a part off
    the others of 1e-6 of the column's norm."""
    rng = np.random.default_rng(8)
    n = 150
    x0, x1, z, x3 = rng.standard_normal((4, n))
    z /= np.linalg.norm(z)
    x2 = x0 + x1 + 1e-5 * np.linalg.norm(x0) * z
    X = np.asfortranarray(np.column_stack([x0, x1 * column_scale, x2, x3]))
    y = x0 - 2.0 * x1 + 0.5 * x2 + 0.5 * rng.standard_normal(n) + 2.0 * z * np.sqrt(n)
    pf = np.array([0.0, 0.0, 0.0, 1.0])
    free = X[:, :3]
    coef_free = np.linalg.lstsq(free, y, rcond=None)[0]
    r = y - free @ coef_free
    alpha = 2 * abs(x3 @ r) / n + 1e-3
    best = 0.5 * r @ r / n          # x3 stays at 0 there (alpha beats its correlation)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = fastpen.Lasso(alpha=alpha, penalty_factor=pf, fit_intercept=False,
                              tol=1e-6, max_iter=50, solver=solver,
                              precompute=precompute).fit(X, y)
    distance = objective(X, y, model.coef_, model.intercept_, alpha, 1.0, None, pf) - best
    assert distance > 1e-3 * np.mean(y ** 2)
    # (Gram storage's ||R||^2 = ||y||^2 - 2 w.X^T y + w.Q w cancels terms 1e4 times
    # larger here: rounding of 1e-4 of it)
    assert model.dual_gap_ >= distance * (1 - 1e-3)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_collinear_unpenalized_features(sparse):
    """Free columns that lie in the span of other free columns (here a copy and a sum)
    are left out of the projection's basis: projecting off the others removes them
    too, and fista still stops within its target of the optimum."""
    import scipy.sparse as sp
    from conftest import make_weights
    X, y = make_problem(n_samples=80, n_features=300, sparse=sparse, seed=65)
    free = np.random.default_rng(65).choice(300, 15, replace=False)
    Xd = X.toarray() if sparse else np.asarray(X)
    Xd = np.column_stack([Xd, Xd[:, free[0]], Xd[:, free[1]] + Xd[:, free[2]]])
    X = sp.csc_matrix(Xd) if sparse else np.asfortranarray(Xd)
    sample_weight = make_weights(80, seed=65)
    penalty_factor = np.ones(302)
    penalty_factor[free] = 0.0
    penalty_factor[300:] = 0.0
    common = dict(alpha=0.5, l1_ratio=0.7, penalty_factor=penalty_factor,
                  max_iter=100_000)
    model = fastpen.ElasticNet(solver="fista", tol=1e-6, **common).fit(
        X, y, sample_weight=sample_weight)
    # the reference solves the same problem without the two dependent columns (the same
    # span, so the same optimum): on X itself their rounding (1e-16 off the span) is a
    # direction an exact solver follows to coefficients of 1e11 for a 1e-5 lower
    # objective, which the rounding of the weights decides (cd at tol=1e-13 did so
    # after the weights were rescaled from their largest)
    reduced = dict(common, penalty_factor=penalty_factor[:300])
    X_reduced = X[:, :300]
    reference = fastpen.ElasticNet(solver="cd", tol=1e-13, **reduced).fit(
        X_reduced, y, sample_weight=sample_weight)
    s = sample_weight / sample_weight.mean()
    target = 1e-6 * np.sum(s * (y - np.average(y, weights=s)) ** 2) / y.size
    excess = (objective(X, y, model.coef_, model.intercept_, 0.5, 0.7, sample_weight,
                        penalty_factor)
              - objective(X_reduced, y, reference.coef_, reference.intercept_, 0.5, 0.7,
                          sample_weight, penalty_factor[:300]))
    assert excess <= target


@pytest.mark.parametrize("solver", ["cd", "fista"])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("scalar", [False, True], ids=["array", "scalar"])
def test_every_feature_unpenalized_reports_its_suboptimality(solver, positive, scalar):
    """penalty_factor all 0 is (bounded) least squares. Its gap had been the projected
    gradient's squared norm, in other units: fits stopped 8 targets above the optimum.
    The dual point is now the residual projected off every column: for least squares
    its gap is the suboptimality itself."""
    rng = np.random.default_rng(0)
    n, p = 100, 20
    X = np.asfortranarray(0.05 * rng.standard_normal((n, p)) + rng.standard_normal((n, 1)))
    y = X[:, :3].sum(axis=1) + 0.1 * rng.standard_normal(n)
    common = dict(alpha=0.1, penalty_factor=0.0 if scalar else np.zeros(p),
                  positive=positive, max_iter=100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = fastpen.Lasso(solver=solver, tol=1e-4, **common).fit(X, y)
    reference = fastpen.Lasso(solver="cd", tol=1e-13, **common).fit(X, y)

    def value(m):
        return objective(X, y, m.coef_, m.intercept_, 0.1, 1.0, None, np.zeros(p))

    target = 1e-4 * np.mean((y - y.mean()) ** 2)
    excess = value(model) - value(reference)
    assert excess <= model.dual_gap_ + 1e-9 * target
    assert model.dual_gap_ <= target


@pytest.mark.parametrize("solver", ["cd", "fista"])
@pytest.mark.parametrize("upper", [1.0, 0.5, np.inf])
def test_every_feature_unpenalized_and_boxed_reports_its_suboptimality(solver, upper):
    """Zero penalty factors and finite bounds on both sides: no feature is free (none
    has an infinite bound), so the gap had fallen back to the projected gradient's
    squared norm: 0.037 for a suboptimality of 0.111. Bounded features have finite
    conjugates: least squares' exact dual holds without projection."""
    X = np.array([[0.03], [0.0], [0.03]])
    y = np.array([4.7, 6.0, 6.4])
    common = dict(alpha=0.01, l1_ratio=0.5, fit_intercept=False, penalty_factor=[0.0],
                  lower_bounds=[-0.1], upper_bounds=[upper])
    model = fastpen.ElasticNet(tol=1e-2, solver=solver, **common).fit(X, y)
    optimum = min(upper, np.linalg.lstsq(X, y, rcond=None)[0][0])

    def value(coef):
        return 0.5 * np.mean((y - X @ np.atleast_1d(coef)) ** 2)

    excess = value(model.coef_) - value(optimum)
    assert excess <= model.dual_gap_ * (1 + 1e-9) + 1e-12


@pytest.mark.parametrize("solver", ["cd", "fista"])
def test_alpha_zero_with_some_zero_factors_keeps_its_rule(solver):
    """At alpha = 0 every feature is unpenalized, not only those of factor 0, which
    alone are projected off: the least-squares dual of all-zero factors does not hold
    there (fista had stopped 7.8 above the optimum with dual_gap_ = 0), and the fit
    keeps scikit-learn's alpha = 0 rule."""
    rng = np.random.default_rng(3)
    n, p = 200, 40
    X = rng.standard_normal((n, p))
    X[:, 1:] += 0.9 * X[:, :1]
    y = X @ rng.standard_normal(p) + rng.standard_normal(n)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    least_squares = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    penalty_factor = np.ones(p)
    penalty_factor[:3] = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # alpha = 0's advice, and a slow fista
        model = fastpen.Lasso(alpha=0.0, penalty_factor=penalty_factor, solver=solver,
                              tol=1e-4, max_iter=3000).fit(X, y)

    def value(w):
        return 0.5 * np.sum((yc - Xc @ w) ** 2) / n

    assert value(model.coef_) - value(least_squares) < 1e-3 * np.mean(yc ** 2)


def test_fista_path_on_large_means_reaches_every_target():
    """The sufficient-decrease test compared two objectives, whose rounding (columns of
    mean 1e3) failed short steps near a warm start's solution: the Lipschitz constant,
    carried along the path, grew to 9e20, and 52 of 90 alphas stalled above the target
    whatever max_iter. It is now ||Xc d||^2 <= L ||d||^2 on the products' difference."""
    rng = np.random.default_rng(1)
    n, p = 100, 400
    X = rng.standard_normal((n, p)) + 1e3 * (1 + rng.random(p))
    X = np.asfortranarray(X.astype(np.float32).astype(np.float64))
    beta = np.zeros(p)
    beta[:5] = [1, -2, 1.5, 0.5, 3]
    y = X @ beta + rng.standard_normal(n)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        _, _, gaps = fastpen.lasso_path(X, y, fit_intercept=True, alphas=90, tol=1e-6,
                                        solver="fista", max_iter=20000)
    assert np.all(gaps <= 1e-6 * np.sum((y - y.mean()) ** 2) / n)


@pytest.mark.parametrize("solver", ["fista", "ista"])
def test_step_size_of_very_large_x(solver):
    """X scaled by 1e80 (y by the same, alpha by its square) is the same problem: the
    power iteration's squared norms had overflowed from |X| ~ 1e77, the step size was
    NaN and fista diverged (coefficients 2.2e161). Where even ||X||^2 is no float64
    the solver says so."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 10))
    y = X[:, 0] + 0.3 * rng.standard_normal(30)
    alpha = 0.1 * np.max(np.abs(X.T @ y)) / 30
    expected = fastpen.Lasso(alpha=alpha, fit_intercept=False, solver=solver).fit(X, y)
    for scale in (1e80, 1e150):
        model = fastpen.Lasso(alpha=alpha * scale**2, fit_intercept=False,
                              solver=solver).fit(X * scale, y * scale)
        np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="solver='cd'"):
        fastpen.Lasso(alpha=1.0, fit_intercept=False, solver=solver).fit(
            X * 1e170, y * 1e170)


@pytest.mark.parametrize("solver", ["cd", "fista"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("bound", [1e12, 1e16, 1e100])
def test_large_finite_bounds_converge_as_infinite_ones(bound, l1_ratio, solver):
    """Bounds of +-1e16 that no coefficient reaches: the dual point was not rescaled
    for finite bounds, and the bound times v's rounding past l1 held the gap above the
    target (1000 epochs, gap 2.2; 2e84 at 1e100). The gap also tries the point scaled
    inside every |v| <= l1, where finite bounds cost nothing."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 50))
    y = X[:, :5] @ np.array([1, -2, 1.5, 0.5, 3]) + rng.standard_normal(200)
    common = dict(alpha=0.05, l1_ratio=l1_ratio, solver=solver)
    free = fastpen.ElasticNet(**common).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        bounded = fastpen.ElasticNet(lower_bounds=-bound, upper_bounds=bound,
                                     **common).fit(X, y)
    assert bounded.n_iter_ <= 2 * free.n_iter_
    np.testing.assert_allclose(bounded.coef_, free.coef_, rtol=1e-4, atol=1e-6)


def test_too_many_free_features_keep_the_fallback_gap():
    """Every factor 0 and more free features than the gap projects off: the exact
    least-squares dual (which needs them all projected) had been taken all the same,
    skipping their infinite conjugates: fista stopped at iteration 40 with a gap of 0,
    201 above the optimum."""
    rng = np.random.default_rng(0)
    n, p = 700, 560
    X = rng.standard_normal((n, p)) + 2 * rng.standard_normal((n, 1))
    y = X @ rng.standard_normal(p) + rng.standard_normal(n)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    best = yc - Xc @ np.linalg.lstsq(Xc, yc, rcond=None)[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = fastpen.Lasso(alpha=1.0, penalty_factor=np.zeros(p), solver="fista",
                              tol=1e-4, max_iter=3000).fit(X, y)
    r = y - X @ model.coef_ - model.intercept_
    excess = 0.5 * (r @ r - best @ best) / n
    assert excess <= 1e-3 * np.mean(yc**2)
