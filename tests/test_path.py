"""Paths: the alpha grid and enet_path/lasso_path against scikit-learn and KKT."""
import warnings

import numpy as np
import scipy.sparse as sp
import pytest
from sklearn import linear_model as sk
from sklearn.exceptions import ConvergenceWarning

import fastpen
from fastpen._engine import Design
from conftest import kkt_violation, make_problem, make_weights, objective


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.4])
def test_alpha_grid_is_sklearns(sparse, fit_intercept, weighted, l1_ratio):
    X, y = make_problem(sparse=sparse, seed=51)
    sw = make_weights(X.shape[0]) if weighted else None
    grid = fastpen.alpha_grid(X, y, l1_ratio=l1_ratio, eps=1e-2, n_alphas=20,
                              fit_intercept=fit_intercept, sample_weight=sw)
    if weighted and not fit_intercept:
        # scikit-learn's CV estimators drop the weights from their grid in this case;
        # check the defining property instead: alpha_max is where every coef is zero
        fit = lambda alpha: fastpen.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, tol=1e-12,
                                               fit_intercept=False).fit(X, y, sample_weight=sw)
        assert np.all(fit(grid[0]).coef_ == 0) and np.any(fit(0.99 * grid[0]).coef_ != 0)
        return
    reference = sk.ElasticNetCV(l1_ratio=l1_ratio, alphas=20, eps=1e-2, cv=2, max_iter=50,
                                fit_intercept=fit_intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference.fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(grid, reference.alphas_, rtol=1e-10)


def test_alpha_max_zeroes_everything_and_penalty_factors_count():
    X, y = make_problem(seed=52)
    pf = np.linspace(0.5, 2.0, X.shape[1])
    alpha_max = fastpen.alpha_grid(X, y, n_alphas=1, penalty_factor=pf)[0]
    at_max = fastpen.Lasso(alpha=alpha_max, penalty_factor=pf, tol=1e-12).fit(X, y)
    just_below = fastpen.Lasso(alpha=0.99 * alpha_max, penalty_factor=pf, tol=1e-12).fit(X, y)
    assert np.all(at_max.coef_ == 0) and np.any(just_below.coef_ != 0)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_path_matches_sklearn_enet_path(sparse, dtype, l1_ratio):
    X, y = make_problem(sparse=sparse, dtype=dtype, seed=53)
    tol = 1e-10 if dtype == np.float64 else 1e-6
    alphas, coefs, gaps, n_iters = fastpen.enet_path(
        X, y, l1_ratio=l1_ratio, alphas=30, eps=1e-3, tol=tol, max_iter=100_000,
        return_n_iter=True)
    # the reference is scikit-learn in float64 on the same (exactly representable) data:
    # its float32 solver stalls above the optimum
    X64 = X.astype(np.float64)
    ref_alphas, ref_coefs, _ = sk.enet_path(X64, y.astype(np.float64), l1_ratio=l1_ratio,
                                             alphas=alphas, tol=1e-10, max_iter=100_000)
    np.testing.assert_allclose(alphas, ref_alphas)
    assert coefs.shape == (X.shape[1], 30) and coefs.dtype == dtype
    assert len(n_iters) == 30 and gaps.shape == (30,)
    rtol = 1e-6 if dtype == np.float64 else 1e-4
    for k, alpha in enumerate(alphas):
        ours = objective(X, y, coefs[:, k], 0.0, alpha, l1_ratio)
        theirs = objective(X, y, ref_coefs[:, k], 0.0, alpha, l1_ratio)
        assert ours <= theirs * (1 + rtol)
        assert ours == pytest.approx(theirs, rel=rtol)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("solver", ["cd", "fista"])
def test_path_with_intercept_and_weights_is_kkt_at_every_alpha(sparse, solver):
    X, y = make_problem(sparse=sparse, seed=54)
    sw = make_weights(X.shape[0])
    alphas, coefs, _ = fastpen.lasso_path(X, y, alphas=15, fit_intercept=True,
                                          sample_weight=sw, tol=1e-12, max_iter=200_000,
                                          solver=solver)
    s = sw / sw.sum()
    Xd = X.toarray() if sparse else X
    for k, alpha in enumerate(alphas):
        intercept = s @ y - (s @ Xd) @ coefs[:, k]
        assert kkt_violation(X, y, coefs[:, k], intercept, alpha, 1.0, sw) < 1e-6
        if k in (3, 10):  # and the same optimum as scikit-learn's estimator
            reference = sk.Lasso(alpha=alpha, tol=1e-12, max_iter=200_000).fit(
                X, y, sample_weight=sw)
            assert objective(X, y, coefs[:, k], intercept, alpha, 1.0, sw) == pytest.approx(
                objective(X, y, reference.coef_, reference.intercept_, alpha, 1.0, sw),
                rel=1e-8)


def test_path_arguments():
    X, y = make_problem(seed=55)
    alphas, coefs, _ = fastpen.lasso_path(X, y, alphas=[0.01, 0.1, 0.05])
    np.testing.assert_array_equal(alphas, [0.1, 0.05, 0.01])  # sorted decreasing
    with pytest.warns(FutureWarning, match="n_alphas"):
        old_spelling = fastpen.lasso_path(X, y, n_alphas=7)[0]
    assert old_spelling.shape == (7,)
    # y of one column: coefs with a target axis, as scikit-learn's
    one_column = fastpen.lasso_path(X, y[:, None], alphas=[0.1, 0.01])[1]
    assert one_column.shape == (1, X.shape[1], 2)
    np.testing.assert_array_equal(one_column[0], fastpen.lasso_path(X, y, alphas=[0.1, 0.01])[1])
    with pytest.raises(ValueError, match="coef_init"):
        fastpen.lasso_path(X, y, coef_init=np.zeros(X.shape[1] + 1))
    # unchecked input is still checked for a y the engines would read past the end of
    with pytest.raises(ValueError, match="n_samples"):
        fastpen.lasso_path(X, y[:-3], check_input=False)
    with pytest.raises(ValueError, match="n_samples"):
        fastpen.Lasso().fit(X, y[:-3], check_input=False)
    with pytest.raises(ValueError, match="alphas must be"):
        fastpen.lasso_path(X, y, alphas="x")
    with pytest.raises(ValueError, match="not a sparse matrix"):
        fastpen.Lasso(precompute=sp.csr_matrix(np.eye(X.shape[1]))).fit(X, y)
    with pytest.warns(FutureWarning, match="alphas=None"):
        assert fastpen.lasso_path(X, y, alphas=None)[0].shape == (100,)
    with pytest.raises(ValueError, match="l1_ratio=0"):
        fastpen.enet_path(X, y, l1_ratio=0.0)
    with pytest.raises(ValueError, match="alphas"):
        fastpen.lasso_path(X, y, alphas=[-1.0])
    with pytest.raises(ValueError, match="1-D"):
        fastpen.lasso_path(X, np.column_stack([y, y]))


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_start_set_never_changes_the_solution(sparse, dtype, fit_intercept):
    """A strong-rule start set only orders the work: empty, random or full, the engine
    ends at the same certified optimum."""
    from fastpen._engine import Design, solve_enet

    X, y = make_problem(sparse=sparse, dtype=dtype, seed=56)
    design = Design(X)
    X_mean, norm2 = design.column_stats(None, fit_intercept)
    p = X.shape[1]
    tol = 1e-10 if dtype == np.float64 else 1e-6
    results = []
    rng = np.random.default_rng(0)
    for start_set in (None, np.zeros(p, bool), rng.random(p) < 0.3, np.ones(p, bool)):
        coef = np.zeros(p, dtype=dtype)
        solution = solve_enet(
            design, y, sample_weight=None, X_mean=X_mean, norm2=norm2, center=fit_intercept,
            coef=coef, alpha=0.01, l1_ratio=1.0, penalty_factor=np.ones(p), lower=None,
            upper=None, max_iter=100_000, tol=tol, start_set=start_set)
        assert solution.converged
        results.append(objective(X, y, coef, solution.intercept, 0.01))
    rtol = 1e-9 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(results, results[0], rtol=rtol)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_take_rows_copies_fold_rows_once_in_the_engine_layout(sparse, dtype):
    from fastpen._engine import take_rows
    X, _ = make_problem(sparse=sparse, dtype=dtype, seed=71, n_samples=50)
    if not sparse:
        X = np.asfortranarray(X)
    rows = np.random.default_rng(0).permutation(50)[:31]
    taken, sorted_rows = take_rows(X, rows)
    np.testing.assert_array_equal(sorted_rows, np.sort(rows))
    assert taken.dtype == dtype
    expected = X[sorted_rows]
    if sparse:
        assert taken.format == "csc" and taken.has_canonical_format
        np.testing.assert_array_equal(taken.toarray(), expected.toarray())
        # indices sorted within each column, as the engines' readers assume
        for j in range(taken.shape[1]):
            column = taken.indices[taken.indptr[j]:taken.indptr[j + 1]]
            assert np.all(np.diff(column) > 0)
    else:
        assert taken.flags.f_contiguous
        np.testing.assert_array_equal(taken, expected)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_held_out_rows_predict_in_place_from_the_support(sparse, dtype):
    from fastpen._engine import HeldOutRows
    X, _ = make_problem(sparse=sparse, dtype=dtype, seed=72, n_samples=60)
    if not sparse:
        X = np.asfortranarray(X)
    rng = np.random.default_rng(1)
    rows = rng.permutation(60)[:23]
    held_out = HeldOutRows(X, rows)
    np.testing.assert_array_equal(held_out.rows, np.sort(rows))
    support = np.sort(rng.permutation(X.shape[1])[:5])
    values = rng.standard_normal((5, 4)).astype(dtype)
    # a chunk smaller than the rows exercises the dense gather in several pieces
    held_out.CHUNK_BYTES = 64 * 5 * X.dtype.itemsize // 4
    predictions = held_out.predict(support, values)
    assert predictions.dtype == dtype
    W = np.zeros((X.shape[1], 4))
    W[support] = values
    expected = X[held_out.rows] @ W
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(predictions, expected, rtol=rtol, atol=rtol * np.abs(expected).max())
    # no column in the batch's support: every prediction is 0
    np.testing.assert_array_equal(held_out.predict(support[:0], values[:0]), 0.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("contiguous", [False, True], ids=["scattered", "run"])
def test_row_moments_match_the_shifted_weighted_products(dtype, weighted, contiguous):
    from fastpen._engine import row_moments
    rng = np.random.default_rng(2)
    # a large mean: the shift is what keeps it from cancelling
    X = np.asfortranarray(rng.standard_normal((300, 7)) + 50, dtype=dtype)
    y = rng.standard_normal(300) + 3
    w = rng.random(300) if weighted else None
    rows = np.arange(40, 250) if contiguous else rng.permutation(300)[:170]
    shift = X[:20].astype(np.float64).mean(axis=0)
    G, xs, xsy, total, sy, syy = row_moments(X, rows, y, w, shift, 3.0)
    B = X[rows].astype(np.float64) - shift
    z = y[rows] - 3.0
    s = np.ones(rows.size) if w is None else w[rows]
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(G, B.T @ (s[:, None] * B), rtol=rtol, atol=rtol * rows.size)
    np.testing.assert_allclose(xs, B.T @ s, rtol=rtol, atol=rtol * rows.size)
    np.testing.assert_allclose(xsy, B.T @ (s * z), rtol=rtol, atol=rtol * rows.size)
    np.testing.assert_allclose([total, sy, syy], [s.sum(), s @ z, s @ z**2], rtol=1e-12)
    assert np.array_equal(G, G.T)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("selection", ["cyclic", "random"])
@pytest.mark.parametrize("n_features", [80, 400])
def test_path_blocks_do_not_change_the_path(monkeypatch, sparse, selection, n_features):
    # enet_path solves the whole path in one engine call; the generator behind
    # cross-validation solves blocks that fit beside X. One alpha per block (the old
    # way) must give the same path, iteration for iteration: each call hands the
    # gradient that certified its last alpha, and the gradient bounds' anchor, over to
    # the next (with 400 features the Newton steps gather supports of up to 50 columns,
    # whose Hessian one call keeps from step to step and blocks compute afresh)
    X, y = make_problem(sparse=sparse, seed=81, n_samples=50, n_features=n_features)
    options = dict(tol=1e-8, fit_intercept=True, selection=selection, random_state=3)
    with warnings.catch_warnings():
        # every alpha converges (random order once stalled here: support sweeps at
        # rounding level after an exact Newton step, until max_iter)
        warnings.simplefilter("error", ConvergenceWarning)
        alphas, coefs, gaps, n_iters = fastpen.lasso_path(X, y, alphas=12,
                                                          return_n_iter=True, **options)
    monkeypatch.setattr(fastpen._path, "_BLOCK_BYTES", 1)
    monkeypatch.setattr(fastpen._path, "_X_FRACTION", 1 << 40)
    X, y = fastpen._path._validate_path_data(X, y, True)
    design = Design(X)
    X_mean, norm2 = design.column_stats(None, True)
    coef = np.zeros(X.shape[1])
    rows = []
    for k, alpha, solution in fastpen._path.path_solutions(
            design, y, coef, alphas, sample_weight=None, X_mean=X_mean, norm2=norm2,
            l1_ratio=1.0, penalty_factor=np.ones(X.shape[1]), lower=None, upper=None,
            max_iter=1000, solver="cd", **options):
        rows.append((coef.copy(), solution.dual_gap, solution.n_iter))
    np.testing.assert_array_equal(np.array([r[0] for r in rows]).T, coefs)
    np.testing.assert_array_equal([r[1] for r in rows], gaps)
    assert [r[2] for r in rows] == n_iters
    assert np.count_nonzero(coefs[:, -1]) > 5


@pytest.mark.parametrize("fit_intercept", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("storage", ["dense", "gram", "sparse"])
def test_path_tangent_lands_on_the_next_solution_of_a_fixed_support(storage, dtype,
                                                                     fit_intercept):
    # on a support whose signs hold, lasso solutions are affine in alpha: the engine's
    # start from the tangent through the two solutions before is the next solution,
    # where a start from the last solution alone needs the sweeps of a fresh solve
    rng = np.random.default_rng(5)
    n_samples, n_features = 300, 8
    X = rng.standard_normal((n_samples, n_features))
    X[:, 1] += 0.6 * X[:, 0]
    if storage == "sparse":
        X = sp.csc_matrix(X * (rng.random(X.shape) < 0.5))
    X = X.astype(dtype)
    y = (X @ np.linspace(1, 3, n_features) + 0.1 * rng.standard_normal(n_samples))
    y = y.astype(dtype)
    alphas = [0.5, 0.4, 0.3]
    tol = 1e-10 if dtype == np.float64 else 1e-6
    options = dict(tol=tol, fit_intercept=fit_intercept, return_n_iter=True,
                   precompute=storage == "gram")
    _, coefs, _, n_iters = fastpen.lasso_path(X, y, alphas=alphas, **options)
    signs = np.sign(coefs)
    assert np.all(signs != 0) and np.all(signs == signs[:, :1])
    _, restarted, _, restarted_iters = fastpen.lasso_path(
        X, y, alphas=alphas[2:], coef_init=coefs[:, 1], **options)
    # (one epoch of the gap check's sweep; rounding of the solutions before may ask
    # for another two)
    assert n_iters[2] <= 3 and 2 * n_iters[2] < restarted_iters[0]
    np.testing.assert_allclose(coefs[:, 2], restarted[:, 0],
                               rtol=1e-6 if dtype == np.float64 else 1e-3)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_float32_path_takes_the_epochs_of_float64(sparse, fit_intercept):
    """float32 X is solved with float64 coefficients and residual, each alpha's result
    rounded to float32 and certified as rounded: its path takes the epochs of float64's
    on the same numbers (1.15x to 5x of them with float32 iterates), every alpha at the
    target, and its coefficients are float64's rounded."""
    X32, y32 = make_problem(n_samples=300, n_features=1000, sparse=sparse,
                            dtype=np.float32, seed=2, density=0.05, n_informative=30)
    epochs, paths = {}, {}
    for X, y in ((X32.astype(np.float64), y32.astype(np.float64)), (X32, y32)):
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            alphas, coefs, gaps, n_iter = fastpen.lasso_path(
                X, y, alphas=50, eps=1e-3, tol=1e-6, max_iter=100_000,
                fit_intercept=fit_intercept, return_n_iter=True)
        assert coefs.dtype == X.dtype
        epochs[X.dtype], paths[X.dtype] = int(np.sum(n_iter)), (alphas, coefs)
    f32, f64 = np.dtype(np.float32), np.dtype(np.float64)
    assert epochs[f32] <= 1.1 * epochs[f64]
    # each alpha's float32 coefficients are within the target of its optimum (their
    # certified gap bounds that), so within it of float64's, which are at or above it
    X, y = X32.astype(np.float64), y32.astype(np.float64)
    yc = y - y.mean() if fit_intercept else y
    target = 1e-6 * np.dot(yc, yc) / X.shape[0]
    alphas, coefs = paths[f32]
    for k in range(0, 50, 7):
        values = []
        for coef in (coefs[:, k].astype(np.float64), paths[f64][1][:, k]):
            intercept = np.mean(y - X @ coef) if fit_intercept else 0.0
            values.append(objective(X, y, coef, intercept, alphas[k]))
        assert values[0] - values[1] <= target


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_engine_reads_the_column_means_only_when_centring(sparse):
    """Without an intercept the column means are a view of one zero that the engine
    never reads; with one, they must hold one entry per feature (the engine reads
    them without bounds checks)."""
    from fastpen._engine import solve_enet_path
    from fastpen._validation import check_bounds, check_penalty_factor
    X, y = make_problem(sparse=sparse, seed=63)
    design = Design(X)
    n_features = X.shape[1]
    alphas = np.array([0.05, 0.01])
    lower, upper = check_bounds(None, None, False, n_features)

    def solve(X_mean, center):
        _, norm2 = design.column_stats(None, center)
        coef = np.zeros(n_features)
        coefs = np.zeros((alphas.size, n_features))
        solve_enet_path(design, y, sample_weight=None, X_mean=X_mean, norm2=norm2,
                        center=center, coef=coef, alphas=alphas, l1_ratio=1.0,
                        penalty_factor=check_penalty_factor(None, n_features),
                        lower=lower, upper=upper, max_iter=1000, tol=1e-10,
                        coefs=coefs)
        return coefs

    zero_view, _ = design.column_stats(None, False)
    assert zero_view.strides == (0,) and not zero_view.flags.writeable
    reference = fastpen.lasso_path(X, y, alphas=alphas, tol=1e-10,
                                   fit_intercept=False)[1]
    np.testing.assert_allclose(solve(zero_view, False), reference.T, atol=1e-8)
    with pytest.raises(ValueError, match="X_mean"):
        solve(np.zeros(n_features - 1), True)
    with pytest.raises(ValueError, match="X_mean"):
        solve(np.zeros(2 * n_features)[::2], True)


@pytest.mark.parametrize("eps", [-1.0, 0.0, np.inf])
def test_path_rejects_a_bad_eps(eps):
    """enet_path made its grid from any eps: -1 gave NaN alphas, 0 numpy's error."""
    X, y = make_problem(seed=69)
    with pytest.raises(ValueError, match="'eps' parameter of enet_path"):
        fastpen.lasso_path(X, y, eps=eps)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("where", ["X", "y"])
def test_path_finiteness_check_on_ready_input(sparse, dtype, where):
    """Input already in the engines' layout skips check_array: its own finiteness check
    (a sum first) must still refuse NaN and inf, and must not take finite values whose
    sum overflows for infinite ones."""
    X, y = make_problem(n_samples=30, n_features=8, seed=71)
    X, y = np.asfortranarray(X, dtype=dtype), y.astype(dtype)
    big = np.finfo(dtype).max / 2
    for value, refused in ((np.nan, True), (np.inf, True), (big, False)):
        Xb, yb = X.copy(order="F"), y.copy()
        if where == "X":
            Xb[:3, 2] = value  # three halves of the maximum: their sum overflows
        else:
            yb[:3] = value
        Xb = sp.csc_matrix(Xb) if sparse else Xb
        if refused:
            with pytest.raises(ValueError, match="NaN|infinity"):
                fastpen.lasso_path(Xb, yb, n_alphas=3)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    fastpen.lasso_path(Xb, yb, n_alphas=3)
                except ValueError as exc:  # a refusal must not be the finiteness check's
                    assert "NaN" not in str(exc) and "infinity" not in str(exc)


def test_material_coefficients_tell_rounding_from_selections():
    """A coefficient counts when its contribution |w_j| ||x_j|| passes ROUNDING_FACTOR
    float64 roundings of ||y - ybar||; the norm is uncentred, so that a column of large
    mean never has a real coefficient taken for rounding."""
    from fastpen._path import ROUNDING_FACTOR, column_norms, material_coefficients

    rng = np.random.default_rng(5)
    X = rng.standard_normal((50, 4))
    X[:, 3] += 1e6  # centred norm ~7, uncentred ~7e6
    y = rng.standard_normal(50) + 3.0
    norms = column_norms(X)
    np.testing.assert_allclose(norms, np.linalg.norm(X, axis=0), rtol=1e-12)
    np.testing.assert_allclose(column_norms(sp.csr_matrix(X)), norms, rtol=1e-12)
    floor = ROUNDING_FACTOR * np.finfo(np.float64).eps * np.linalg.norm(y - y.mean())
    at = floor / norms  # each column's coefficient at the floor exactly
    coefs = np.column_stack([0.5 * at, 2 * at, np.zeros(4), -2 * at])
    mask = material_coefficients(coefs, norms, y)
    assert mask.shape == coefs.shape
    np.testing.assert_array_equal(mask, np.column_stack([[False] * 4, [True] * 4,
                                                         [False] * 4, [True] * 4]))
    # without an intercept y's scale is taken about 0: a larger floor
    assert not material_coefficients(2 * at, norms, y, fit_intercept=False).any()
    np.testing.assert_array_equal(material_coefficients(2 * at, norms, y), True)
    # y whose sum of squares overflows: the floor scales with it, it is not inf
    huge = y * 1e160
    np.testing.assert_array_equal(material_coefficients(2e160 * at, norms, huge), True)
    np.testing.assert_array_equal(material_coefficients(0.5e160 * at, norms, huge), False)
    # a NaN coefficient (a diverged fit) is not hidden as rounding
    assert material_coefficients(np.array([np.nan, 0, 0, 0]), norms, y)[0]
