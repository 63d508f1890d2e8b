"""Behaviours pinned by a mutation-testing pass: each test fails on a plausible bug (a
"mutant" of the library) that no other test noticed."""
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import fastpen
from conftest import make_problem, objective


def test_random_selection_uses_random_state():
    # selection='random' draws its coordinate order from random_state: the same seed
    # gives the same bits, and different seeds stop at different iterates of a loose tol
    X, y = make_problem(seed=3)
    fits = [fastpen.Lasso(alpha=0.01, selection="random", random_state=seed, tol=1e-2)
            .fit(X, y).coef_ for seed in (0, 0, 1, 2, 3)]
    np.testing.assert_array_equal(fits[0], fits[1])
    assert len({coef.tobytes() for coef in fits[1:]}) > 1


def test_positive_alpha_grid_starts_at_the_largest_positive_correlation():
    # with positive=True, w = 0 is optimal iff every centred correlation x_j^T yc / n
    # is <= alpha: alpha_max is the largest signed correlation, not the largest |.|
    X, y = make_problem(seed=5)
    Xc = X - X.mean(axis=0)
    corr = Xc.T @ (y - y.mean()) / X.shape[0]
    j = int(np.argmax(np.abs(corr)))
    y = 2 * y.mean() - y if corr[j] > 0 else y  # make the strongest correlation negative
    corr = Xc.T @ (y - y.mean()) / X.shape[0]
    assert np.max(np.abs(corr)) > np.max(corr) > 0
    grid = fastpen.alpha_grid(X, y, positive=True, n_alphas=5)
    np.testing.assert_allclose(grid[0], np.max(corr), rtol=1e-10)
    below = fastpen.Lasso(alpha=grid[0] * (1 - 1e-3), positive=True, tol=1e-10).fit(X, y)
    assert np.any(below.coef_ > 0)


def _lasso_gap(X, y, coef, alpha):
    """The n-scaled-then-divided (scikit-learn's) duality gap of an unweighted Lasso with
    intercept at `coef`, against the rescaled residual: what the engines report when
    their last gap is the plain residual's (any better dual point only lowers it)."""
    Xc = X - X.mean(axis=0)
    yc = y - y.mean()
    n = X.shape[0]
    R = yc - Xc @ coef
    g = Xc.T @ R
    scale = min(1.0, n * alpha / np.max(np.abs(g)))
    primal = 0.5 * R @ R + n * alpha * np.abs(coef).sum()
    dual = -0.5 * scale**2 * (R @ R) + scale * (R @ yc)
    return (primal - dual) / n


@pytest.mark.parametrize("solver", ["cd", "fista"])
def test_unconverged_dual_gap_is_that_of_the_returned_coefficients(solver):
    # stopped by max_iter, dual_gap_ must certify coef_ itself, not an earlier iterate
    X, y = make_problem(seed=11)
    for max_iter in range(2, 9):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = fastpen.Lasso(alpha=0.002, tol=1e-14, max_iter=max_iter,
                                  solver=solver).fit(X, y)
        reference = _lasso_gap(X, y, model.coef_, 0.002)
        assert model.dual_gap_ <= reference * (1 + 1e-9) + 1e-15, max_iter


def test_gap_target_is_weighted():
    # the target is tol * ||y - mean(y)||_S^2 under the (rescaled) sample weights: rows of
    # weight 0 with a wild target must not loosen it
    X, y = make_problem(seed=17)
    y = y.copy()
    sw = np.ones_like(y)
    sw[:5] = 0.0
    y[:5] += 1e3
    tol = 1e-6
    model = fastpen.Lasso(alpha=0.01, tol=tol).fit(X, y, sample_weight=sw)
    s = sw * y.size / sw.sum()
    ybar = np.dot(s, y) / y.size
    target = tol * np.dot(s, (y - ybar) ** 2) / y.size
    assert model.dual_gap_ <= target
    # and the fit is the one of the rows kept
    kept = fastpen.Lasso(alpha=0.01, tol=1e-10).fit(X[5:], y[5:])
    np.testing.assert_allclose(model.coef_, kept.coef_, atol=1e-3)


def test_one_standard_error_rule_uses_the_sample_standard_deviation():
    # glmnet's lambda.1se: the largest alpha whose mean CV error is within one standard
    # error (sample standard deviation of the folds' errors / sqrt(n_folds)) of the min
    from sklearn.model_selection import KFold

    for seed in range(4):
        X, y = make_problem(seed=70 + seed, n_samples=100)
        folds = KFold(5, shuffle=True, random_state=seed)
        model = fastpen.LassoCV(cv=folds, alphas=100, alpha_rule="1se").fit(X, y)
        mean = model.mse_path_.mean(axis=1)
        i_min = int(np.argmin(mean))
        se = model.mse_path_[i_min].std(ddof=1) / np.sqrt(5)
        expected = int(np.flatnonzero(mean <= mean[i_min] + se)[0])
        assert model.alpha_ == model.alphas_[expected], seed


def test_stability_subsamples_are_complementary_pairs(monkeypatch):
    # sample_fraction=0.5 draws complementary pairs: two disjoint halves of the rows
    import fastpen._stability as stability

    seen = {}
    original = stability._resample_chunk

    def recording(X, y, rows, *args, **kwargs):
        seen.setdefault(rows.tobytes(), rows.copy())
        return original(X, y, rows, *args, **kwargs)

    monkeypatch.setattr(stability, "_resample_chunk", recording)
    X, y = make_problem(seed=19, n_samples=41)
    fastpen.StabilitySelection(n_resamples=6, alphas=5, max_selected=None,
                               random_state=0).fit(X, y)
    subsamples = list(seen.values())
    assert len(subsamples) == 6
    for rows in subsamples:
        assert rows.size == 20 and np.unique(rows).size == 20
    # each subsample has exactly one complement among the others
    for a, rows in enumerate(subsamples):
        partners = [b for b, other in enumerate(subsamples)
                    if b != a and np.intersect1d(rows, other).size == 0]
        assert len(partners) == 1


def test_randomized_lasso_penalty_factors_are_one_over_the_weights(monkeypatch):
    # weakness w: the penalty on |w_j| is divided by W_j ~ U[w, 1], a factor in [1, 1/w]
    import fastpen._stability as stability

    factors = []
    original = stability._resample_chunk

    def recording(X, y, rows, penalty_factor, *args, **kwargs):
        factors.append(np.array(penalty_factor))
        return original(X, y, rows, penalty_factor, *args, **kwargs)

    monkeypatch.setattr(stability, "_resample_chunk", recording)
    X, y = make_problem(seed=21, n_samples=40)
    fastpen.StabilitySelection(n_resamples=4, alphas=5, weakness=0.5, max_selected=None,
                               random_state=0).fit(X, y)
    factors = np.concatenate(factors)
    assert factors.min() >= 1.0 and factors.max() <= 2.0
    assert factors.max() > 1.5


def test_stability_threshold_is_inclusive():
    # a feature whose selection probability equals the threshold is selected
    X, y = make_problem(seed=23, n_samples=60)
    selector = fastpen.StabilitySelection(n_resamples=8, alphas=10, max_selected=None,
                                          random_state=0).fit(X, y)
    probabilities = selector.selection_probabilities_
    for level in np.unique(probabilities[probabilities > 0]):
        selector.set_params(threshold=float(level))
        np.testing.assert_array_equal(selector.get_support(), probabilities >= level)


def test_unchecked_input_with_a_short_y_raises():
    # check_input=False skips validation, but a y shorter than X would have the engine
    # read past its end: its length is still checked
    X, y = make_problem(seed=29)
    with pytest.raises(ValueError, match="n_samples"):
        fastpen.Lasso(alpha=0.1).fit(X, y[:-3], check_input=False)


@pytest.mark.parametrize("alphas", [[0.1, 1.0, 10.0], [10.0, 1.0, 0.1]])
def test_ridgecv_ties_take_the_first_alpha_as_sklearn(alphas):
    # constant columns: every alpha has the same leave-one-out error; scikit-learn keeps
    # the first alpha of the grid as given (strict improvement only)
    from sklearn import linear_model as sk

    rng = np.random.default_rng(0)
    X = np.ones((20, 3)) * [1.0, 2.0, 3.0]
    y = rng.standard_normal(20)
    ours = fastpen.RidgeCV(alphas=alphas).fit(X, y)
    theirs = sk.RidgeCV(alphas=alphas).fit(X, y)
    assert ours.alpha_ == theirs.alpha_ == alphas[0]


def test_cli_fit_lists_coefficients_by_magnitude(tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    from fastpen._cli import main

    rng = np.random.default_rng(0)
    values = rng.standard_normal((80, 5))
    frame = pd.DataFrame(values, columns=["a", "b", "c", "d", "e"])
    frame["y"] = 3 * frame.a - 2 * frame.b + 0.5 * frame.c + 0.5 * rng.standard_normal(80)
    frame.to_csv(tmp_path / "data.csv", index=False)
    assert main(["fit", str(tmp_path / "data.csv"), "-t", "y", "--model", "lasso",
                 "--alpha", "0.01"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    listed = [(row[0], float(row[1])) for row in rows
              if len(row) == 2 and row[0] in {"a", "b", "c", "d", "e"}]
    assert len(listed) >= 3 and any(c < 0 for _, c in listed)
    magnitudes = [abs(c) for _, c in listed]
    assert magnitudes == sorted(magnitudes, reverse=True)


@pytest.mark.parametrize("solver", ["cd", "fista"])
def test_float32_gap_counts_the_penalty_change_of_rounding(solver):
    # float32 X: the coefficients are rounded to float32 at the end and the gap is that
    # of the rounded ones. Rounding moves the penalty at first order (large coefficients:
    # a float32 unit of 1e3 is 6e-5), so a gap that left that change out came out
    # negative (reported as 0.0): a claim that float32 coefficients are exactly optimal
    X, y = make_problem(seed=1)
    X = np.asfortranarray(X * 1e-3, dtype=np.float32)
    y = y.astype(np.float32)
    for alpha in (1e-3, 3e-4):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = fastpen.Lasso(alpha=alpha, tol=1e-10, max_iter=100_000,
                                  solver=solver).fit(X, y)
        assert model.dual_gap_ > 0, alpha


def test_ridge_scalar_zero_sample_weight_raises():
    X, y = make_problem(seed=31)
    with pytest.raises(ValueError, match="non-zero"):
        fastpen.Ridge(alpha=1.0).fit(X, y, sample_weight=0)


def test_convergence_warning_without_l1_advises_ridge():
    # scikit-learn's message for l1_ratio=0 points at Ridge
    X, y = make_problem(seed=37)
    with pytest.warns(ConvergenceWarning, match="Ridge"):
        fastpen.ElasticNet(alpha=0.1, l1_ratio=0.0, max_iter=1, tol=1e-12).fit(X, y)


def test_stability_average_selected_is_over_the_union_of_the_region(monkeypatch):
    # q (average_selected_) counts, for each subsample, the features it selects anywhere
    # in the alpha region (the union), averaged over the subsamples
    import fastpen._stability as stability

    unions = {}
    original = stability._resample_chunk

    def recording(X, y, rows, *args, **kwargs):
        selected, last, n_iter = original(X, y, rows, *args, **kwargs)
        key = rows.tobytes()
        unions[key] = unions.get(key, 0) | np.asarray(selected).any(axis=1)
        return selected, last, n_iter

    monkeypatch.setattr(stability, "_resample_chunk", recording)
    X, y = make_problem(seed=41, n_samples=80, n_features=30)
    selector = fastpen.StabilitySelection(n_resamples=10, alphas=30, max_selected=None,
                                          random_state=0).fit(X, y)
    assert len(unions) == 10
    expected = np.mean([u.sum() for u in unions.values()])
    assert selector.average_selected_ == pytest.approx(expected)


@pytest.mark.xfail(strict=True, reason="a limitation documented under tol: the target's "
                   "rounding floor n (4 eps max|y|)^2 leaves out the residual's rounding "
                   "from terms |x_ij w_j| >> |y|, so tol=0 (or 1e-12) runs to max_iter")
@pytest.mark.parametrize("tol", [0.0, 1e-12])
def test_tol_zero_stops_at_the_rounding_floor_with_large_coefficients(tol):
    # found by test_properties' hypothesis search (replayed from its database); the
    # optimum has coefficients of 250 on a column of 1e-3 for |y| <= 1
    X = np.asfortranarray([[0.0, 0.0, 1e-3], [0.0, 0.0, 0.0], [0.0, 2.0, 1.0]])
    y = np.array([1.0, 0.0, 0.0])
    alpha = 0.5 * np.max(np.abs(X.T @ y)) / 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fastpen.Lasso(alpha=alpha, fit_intercept=False, tol=tol, max_iter=2000).fit(X, y)


def test_gap_bounds_suboptimality_with_one_unpenalized_feature():
    # one feature with penalty_factor 0, nearly collinear with a penalized one: the gap
    # projects the dual point off its column even when it is the only one, so that
    # dual_gap_ stays a bound on the suboptimality (the 1-D decrease a coordinate step
    # could make is not: fista then stopped with dual_gap_ = 0 above the optimum)
    rng = np.random.default_rng(0)
    n = 50
    pf = np.array([0.0, 1, 1, 1, 1])
    for trial in range(4):
        z, u = rng.standard_normal(n), rng.standard_normal(n)
        X = np.asfortranarray(np.column_stack([z, z + 0.01 * u, rng.standard_normal((n, 3))]))
        y = 3 * X[:, 1] - 2 * X[:, 0] + 0.1 * rng.standard_normal(n)
        for alpha in (0.1, 0.01):
            ref = fastpen.Lasso(alpha=alpha, penalty_factor=pf, tol=1e-14,
                                max_iter=100_000).fit(X, y)
            best = objective(X, y, ref.coef_, ref.intercept_, alpha, penalty_factor=pf)
            model = fastpen.Lasso(alpha=alpha, penalty_factor=pf, tol=1e-4, solver="fista",
                                  max_iter=100_000).fit(X, y)
            sub = objective(X, y, model.coef_, model.intercept_, alpha,
                            penalty_factor=pf) - best
            assert sub <= model.dual_gap_ * (1 + 1e-3) + 1e-13, (trial, alpha)


def test_alpha_zero_with_bounds_converges_at_an_active_bound():
    # alpha=0 (scikit-learn's rule: squared norm of the projected gradient): at a
    # coefficient held at its bound the gradient pointing out of the box is no
    # suboptimality, and must not keep the fit from converging
    from conftest import kkt_violation

    X, y = make_problem(seed=43)
    y = y - 3 * X[:, 2]  # a coefficient the positive constraint holds at 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # alpha=0's advice
        warnings.simplefilter("error", ConvergenceWarning)
        model = fastpen.Lasso(alpha=0.0, positive=True, tol=1e-10, max_iter=5000).fit(X, y)
    assert np.any(model.coef_ == 0)
    assert kkt_violation(X, y, model.coef_, model.intercept_, 0.0, lower=0.0) <= 1e-6
