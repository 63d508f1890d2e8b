"""Coordinate descent on the Gram matrix (precompute) reaches the same optimum."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.exceptions import ConvergenceWarning

import fastpen
from fastpen._engine import Design, use_gram
from conftest import kkt_violation, make_problem, make_weights, objective


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_gram_matches_residual_updates(sparse, dtype, fit_intercept, weighted, l1_ratio):
    X, y = make_problem(sparse=sparse, dtype=dtype, seed=71, n_samples=120, n_features=30)
    sw = make_weights(X.shape[0]) if weighted else None
    tol = 1e-10 if dtype == np.float64 else 1e-6
    common = dict(alpha=0.02, l1_ratio=l1_ratio, tol=tol, max_iter=100_000,
                  fit_intercept=fit_intercept)
    naive = fastpen.ElasticNet(precompute=False, **common).fit(X, y, sample_weight=sw)
    gram = fastpen.ElasticNet(precompute=True, **common).fit(X, y, sample_weight=sw)
    rtol = 1e-8 if dtype == np.float64 else 1e-4
    assert gram.coef_.dtype == dtype
    assert objective(X, y, gram.coef_, gram.intercept_, 0.02, l1_ratio, sw) == pytest.approx(
        objective(X, y, naive.coef_, naive.intercept_, 0.02, l1_ratio, sw), rel=rtol)
    kkt_tol = 1e-6 if dtype == np.float64 else 1e-2
    assert kkt_violation(X, y, gram.coef_, gram.intercept_, 0.02, l1_ratio, sw) < kkt_tol


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_means_that_would_cancel_take_the_exact_gram(dtype, weighted):
    """Implicit centring's gradient x_j^T S q - mean_j 1^T S q cancels about
    (mean / spread)^2 times the rounding: columns of 1e8 +- 1 (float64) made the
    default fit diverge (coefficients of 1e96 on CSC X, dual_gap_ = inf on dense X).
    Tall X then runs on the Gram matrix, centred exactly (even with precompute=False);
    wide X and fista warn."""
    rng = np.random.default_rng(19)
    Z = rng.standard_normal((300, 6))
    y = Z @ np.array([1.0, 2.0, 0.0, -1.0, 0.5, 0.0]) + 0.1 * rng.standard_normal(300)
    shift = 1e8 if dtype == np.float64 else 3e4  # over 1e4 times the spread
    X = np.asfortranarray(Z + shift, dtype=dtype)
    sw = make_weights(300, seed=19) if weighted else None
    # the same problem, centred in float64 first: the reference (the intercept absorbs it)
    X_centred = X.astype(np.float64) - np.average(X.astype(np.float64), axis=0, weights=sw)
    common = dict(alpha=0.01, tol=1e-8, max_iter=10_000)
    expected = fastpen.Lasso(**common).fit(X_centred, y, sample_weight=sw).coef_
    for data in (X, sp.csc_matrix(X)):
        for model in (fastpen.Lasso(**common),
                      fastpen.LassoCV(alphas=[0.01], cv=3, tol=1e-8, precompute=False)):
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                model.fit(data, y, sample_weight=sw)
            np.testing.assert_allclose(model.coef_, expected, atol=1e-6)
    with warnings.catch_warnings():
        # (those fits lose the precision the warning speaks of)
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(UserWarning, match="mean over 10000 times"):
            fastpen.Lasso(solver="fista", **common).fit(X, y, sample_weight=sw)
        # wide: its Gram matrix would outgrow X
        with pytest.warns(UserWarning, match="mean over 10000 times"):
            fastpen.Lasso(**common).fit(X[:4], y[:4])


def test_float32_gram_sums_in_float64():
    """The Gram matrix of float32 X is that of its values in float64: its rows had been
    summed in float32 (ssyrk), off by about sqrt(n) float32 units, and the gaps
    computed on it bounded another problem (n = 200000: coefficients 1.8e-6 from the
    float64 optimum, a suboptimality 1600 times the reported gap)."""
    rng = np.random.default_rng(0)
    X = np.asfortranarray(rng.standard_normal((50_000, 5)) + 2.0, dtype=np.float32)
    exact = X.astype(np.float64) - X.astype(np.float64).mean(axis=0)
    Q = fastpen._engine.GramDesign(Design(X), None, True).Q
    np.testing.assert_allclose(Q, exact.T @ exact, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_gram_centres_large_means_without_cancelling_them(dtype, weighted):
    # X^T X - n m m^T in float32 loses every digit of a column of mean 1000 (the
    # coefficients came out wrong by 2.5); the rows are centred before their products
    rng = np.random.default_rng(3)
    Z = rng.standard_normal((3000, 12))
    y = (Z @ rng.standard_normal(12) + rng.standard_normal(3000)).astype(dtype)
    X = np.asfortranarray(Z + np.array([1000.0] * 6 + [0.0] * 6), dtype=dtype)
    sw = rng.random(3000) if weighted else None
    tol = 1e-10 if dtype == np.float64 else 1e-6
    common = dict(alpha=0.01, tol=tol, max_iter=100_000)
    with warnings.catch_warnings():
        # both converge (a float32 residual recomputed at every gap check that did not
        # improve once kept the naive fit above its target until max_iter)
        warnings.simplefilter("error", ConvergenceWarning)
        gram = fastpen.Lasso(precompute=True, **common).fit(X, y, sample_weight=sw)
        naive = fastpen.Lasso(precompute=False, **common).fit(X, y, sample_weight=sw)
    atol = 1e-7 if dtype == np.float64 else 1e-3
    np.testing.assert_allclose(gram.coef_, naive.coef_, atol=atol)
    if dtype == np.float64:
        # (float32 coefficients times a mean of 1000 cannot meet KKT to this precision,
        # whichever solver found them)
        assert kkt_violation(X, y, gram.coef_, gram.intercept_, 0.01, 1.0, sw) < 1e-6


def test_gram_with_penalty_factors_and_bounds():
    X, y = make_problem(seed=72, n_samples=150, n_features=25)
    pf = np.linspace(0, 2, 25)
    lower, upper = -0.3, 0.5
    kwargs = dict(alpha=0.01, penalty_factor=pf, lower_bounds=lower, upper_bounds=upper,
                  tol=1e-12, max_iter=100_000)
    gram = fastpen.Lasso(precompute=True, **kwargs).fit(X, y)
    naive = fastpen.Lasso(precompute=False, **kwargs).fit(X, y)
    np.testing.assert_allclose(gram.coef_, naive.coef_, atol=1e-7)
    assert kkt_violation(X, y, gram.coef_, gram.intercept_, 0.01, 1.0, None,
                         penalty_factor=pf, lower=lower, upper=upper) < 1e-6


@pytest.mark.parametrize("precompute", [True, False], ids=["gram", "residual"])
@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gap_bounds_the_suboptimality_with_unpenalized_features(precompute, positive,
                                                                fit_intercept):
    """Wherever a fit stops, dual_gap_ is at least its distance to the optimum, also
    with unpenalized (free) features, whose conjugates are indicators a dual point
    must meet. Their 1-D decreases, added to the gap instead, were not a bound: after
    1 to 8 epochs on correlated free columns the gap read below the true
    suboptimality (Gram storage: 42 of 200 such stops; positive=True: 11 of 200)."""
    for seed in range(74, 78):
        rng = np.random.default_rng(seed)
        n, p = 800, 30
        X = rng.standard_normal((n, p))
        # free columns nearly in the span of others: a coordinate step on one cannot
        # gain what moving them together can
        X[:, :4] += 3 * X[:, 4:8] + 0.01 * rng.standard_normal((n, 4))
        X = np.asfortranarray(X)
        y = X[:, :6] @ rng.standard_normal(6) + rng.standard_normal(n)
        pf = np.ones(p)
        pf[[0, 1, 2, 3, 11, 17]] = 0.0
        alpha = np.abs(X.T @ (y - y.mean())).max() / n / 100
        common = dict(alpha=alpha, fit_intercept=fit_intercept, penalty_factor=pf,
                      positive=positive)
        reference = fastpen.Lasso(tol=1e-14, max_iter=100_000, **common).fit(X, y)
        best = objective(X, y, reference.coef_, reference.intercept_, alpha, 1.0, None,
                         pf)
        for max_iter in (1, 2, 3, 5, 8):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model = fastpen.Lasso(tol=1e-12, precompute=precompute,
                                      max_iter=max_iter, **common).fit(X, y)
            distance = objective(X, y, model.coef_, model.intercept_, alpha, 1.0, None,
                                 pf) - best
            assert model.dual_gap_ >= distance * (1 - 1e-6) - 1e-12, (seed, max_iter)


def test_given_gram_is_used_and_checked():
    X, y = make_problem(seed=73, n_samples=100, n_features=20)
    Xc = X - X.mean(axis=0)
    Q = Xc.T @ Xc
    given = fastpen.Lasso(alpha=0.02, precompute=Q, tol=1e-12).fit(Xc, y)
    naive = fastpen.Lasso(alpha=0.02, precompute=False, tol=1e-12).fit(Xc, y)
    np.testing.assert_allclose(given.coef_, naive.coef_, atol=1e-8)
    with pytest.raises(ValueError, match="does not match X"):
        fastpen.Lasso(alpha=0.02, precompute=2 * Q).fit(Xc, y)
    raw = fastpen.Lasso(alpha=0.02, precompute=X.T @ X, fit_intercept=False,
                        tol=1e-12).fit(X, y)
    np.testing.assert_allclose(raw.coef_, fastpen.Lasso(
        alpha=0.02, fit_intercept=False, tol=1e-12).fit(X, y).coef_, atol=1e-8)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("estimator", ["Lasso", "ElasticNet", "lasso_path"])
def test_gram_of_uncentred_x_with_an_intercept_is_recomputed(estimator, weighted):
    """scikit-learn's rule: a Gram matrix given for X whose columns are not centred,
    with an intercept, is recomputed with a warning (fastpen had raised)."""
    X, y = make_problem(seed=75, n_samples=100, n_features=20)
    X = X + 1.0
    sw = np.random.default_rng(1).uniform(0.5, 2.0, len(y)) if weighted else None
    message = "Gram matrix was provided but X was centered to fit intercept"
    if estimator == "lasso_path":
        expected = fastpen.lasso_path(X, y, alphas=[0.1, 0.02], tol=1e-12,
                                      fit_intercept=True, sample_weight=sw)[1]
        with pytest.warns(UserWarning, match=message):
            coef = fastpen.lasso_path(X, y, alphas=[0.1, 0.02], tol=1e-12,
                                      fit_intercept=True, sample_weight=sw,
                                      precompute=X.T @ X)[1]
        np.testing.assert_allclose(coef, expected, atol=1e-8)
        return
    cls = getattr(fastpen, estimator)
    expected = cls(alpha=0.02, tol=1e-12).fit(X, y, sample_weight=sw).coef_
    with pytest.warns(UserWarning, match=message):
        model = cls(alpha=0.02, tol=1e-12, precompute=X.T @ X).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(model.coef_, expected, atol=1e-8)
    reference = getattr(sk, estimator)(alpha=0.02, tol=1e-12, precompute=X.T @ X)
    with pytest.warns(UserWarning, match=message):
        reference.fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-6)


def test_path_uses_gram_for_tall_data_and_matches():
    X, y = make_problem(seed=74, n_samples=300, n_features=20)
    auto = fastpen.lasso_path(X, y, alphas=20, tol=1e-10, fit_intercept=True)
    naive = fastpen.lasso_path(X, y, alphas=20, tol=1e-10, fit_intercept=True,
                               precompute=False)
    np.testing.assert_allclose(auto[1], naive[1], atol=1e-7)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_auto_gram_for_narrow_sparse_data(weighted):
    # narrow sparse X (n_features^2 <= nnz): 'auto' runs on Q, built column by column
    # (float64 for float32 X too); wider sparse X with precompute=True builds Q with
    # scipy's product
    narrow, y = make_problem(sparse=True, seed=75, n_samples=400, n_features=12)
    wide, y_wide = make_problem(sparse=True, seed=76, n_samples=100, n_features=60,
                                density=0.05)
    narrow32 = narrow.astype(np.float32)
    assert narrow.shape[1] ** 2 <= narrow.nnz and wide.shape[1] ** 2 > wide.nnz
    assert use_gram("auto", Design(narrow), "cd")
    assert use_gram("auto", Design(narrow32), "cd")
    assert not use_gram("auto", Design(wide), "cd")
    for X, target, precompute in [(narrow, y, "auto"), (wide, y_wide, True),
                                  (narrow32, y.astype(np.float32), "auto")]:
        sw = make_weights(X.shape[0]) if weighted else None
        common = dict(alphas=15, tol=1e-10, fit_intercept=True, sample_weight=sw)
        alphas, gram_coefs, _ = fastpen.lasso_path(X, target, precompute=precompute,
                                                   **common)
        _, naive_coefs, _ = fastpen.lasso_path(X, target, precompute=False, **common)
        for k, alpha in enumerate(alphas):
            intercept = _intercept(X, target, gram_coefs[:, k], sw)
            assert objective(X, target, gram_coefs[:, k], intercept, alpha, 1.0, sw) == (
                pytest.approx(objective(X, target, naive_coefs[:, k],
                                        _intercept(X, target, naive_coefs[:, k], sw),
                                        alpha, 1.0, sw), rel=1e-8))
        assert kkt_violation(X, target, gram_coefs[:, -1], intercept, alphas[-1], 1.0,
                             sw) < 1e-6


def _intercept(X, y, coef, sw):
    s = np.ones(X.shape[0]) if sw is None else sw
    return float(s @ (y - X @ coef) / s.sum())


@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gram_pass_gives_the_column_statistics_of_column_stats(dtype, weighted, center):
    # GramDesign without given statistics takes them from the pass that computes Q:
    # the same means, the same centred norms (a constant column exactly 0), the same Q
    from fastpen._engine import Design, GramDesign

    rng = np.random.default_rng(11)
    X = rng.standard_normal((500, 9)) + np.array([1000.0] * 3 + [0.0] * 6)
    X[:, 4] = 0.1  # constant: zero once centred, whatever the rounding of its mean
    X = np.asfortranarray(X, dtype=dtype)
    sw = None
    if weighted:
        sw = rng.random(500)
        sw = sw * (500 / sw.sum())  # (float64 for float32 X too, as the engines take)
    design = Design(X)
    X_mean, norm2 = design.column_stats(sw, center)
    one_pass = GramDesign(design, sw, center)
    two_passes = GramDesign(design, sw, center, stats=(X_mean, norm2))
    rtol = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(one_pass.X_mean, X_mean, rtol=rtol)
    np.testing.assert_allclose(one_pass.centred_norm2, norm2, rtol=rtol)
    assert (one_pass.centred_norm2 == 0).tolist() == (norm2 == 0).tolist()
    assert one_pass.centred_norm2[4] == 0 or not center
    scale = np.abs(two_passes.Q).max()
    np.testing.assert_allclose(one_pass.Q, two_passes.Q, atol=rtol * scale)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("precompute", [True, False], ids=["gram", "residual"])
def test_float32_meets_tight_targets_with_and_without_gram(l1_ratio, precompute):
    """float32 X is solved in float64 (Q, X^T y, residual, coefficients), and its
    coefficients, rounded to float32, are certified against the float64 iterate's dual
    point: tol=1e-10 is met, not floored at what a float32 Q resolved (7.7e-6, which
    let a float32 Gram fit stop far above the target asked for)."""
    X, y = make_problem(n_samples=300, n_features=20, dtype=np.float32, seed=4)
    X64, y64 = X.astype(np.float64), y.astype(np.float64)
    target = 1e-10 * np.sum((y64 - y64.mean()) ** 2) / len(y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = fastpen.ElasticNet(alpha=0.01, l1_ratio=l1_ratio, tol=1e-10,
                                   max_iter=10_000, precompute=precompute).fit(X, y)
    assert model.coef_.dtype == np.float32
    assert model.dual_gap_ <= target
    # as good as float64's solution (the intercept taken exactly: float32 rounds it)
    best = fastpen.ElasticNet(alpha=0.01, l1_ratio=l1_ratio, tol=1e-14, max_iter=100_000,
                              precompute=precompute).fit(X64, y64)
    coef = model.coef_.astype(np.float64)
    intercept = np.mean(y64 - X64 @ coef)
    assert (objective(X64, y64, coef, intercept, 0.01, l1_ratio)
            - objective(X64, y64, best.coef_, best.intercept_, 0.01, l1_ratio)) <= target


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_gram_centres_a_large_mean_exactly(dtype):
    """Sparse X's Q = X^T S X - n m m^T cancels a large mean's digits, and in float32
    scipy sums the products in float32 too (a coefficient of 19.1 for 1.025): columns
    whose mean passes the limit are centred row by row in float64 instead."""
    rng = np.random.default_rng(5)
    n, p = 400, 100  # p^2 > nnz: scipy's product
    Z = sp.random(n, p, density=0.02, random_state=5, format="csc").toarray()
    Z[:, 0] = 1e3 + rng.standard_normal(n)  # dense, mean 1000 +- 1
    y = Z[:, 0] - 1e3 + Z[:, 1:4].sum(axis=1) + 0.1 * rng.standard_normal(n)
    X = sp.csc_matrix(Z.astype(dtype))
    centred = Z.astype(dtype).astype(np.float64)
    centred -= centred.mean(axis=0)
    expected = fastpen.Lasso(alpha=1e-3, tol=1e-10).fit(centred, y).coef_
    for precompute in (True, "auto"):
        model = fastpen.Lasso(alpha=1e-3, tol=1e-10, precompute=precompute).fit(X, y)
        np.testing.assert_allclose(model.coef_, expected, atol=1e-5)


def _traced_peak(fit):
    import tracemalloc
    tracemalloc.start()
    try:
        model = fit()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return model, peak


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_wide_sparse_float32_gram_reads_x_in_place(weighted, monkeypatch):
    """precompute=True on sparse float32 X with more Gram entries than stored ones:
    the products are summed in float64 from blocks of rows a bounded size each, not
    from a float64 copy of X (nor scipy's sparse product of Q's size, nor the
    temporaries of the centring's outer product)."""
    import fastpen._engine as engine_module
    monkeypatch.setattr(engine_module, "CHUNK", 2**13)
    rng = np.random.default_rng(3)
    n, p = 20000, 600
    X = sp.random(n, p, density=0.025, format="csc", dtype=np.float32, rng=rng)
    assert p * p > X.nnz
    X.data += 1.0  # a mean that cancels a float32 sum's digits, not float64 ones
    y = (X @ np.r_[np.ones(5), np.zeros(p - 5)] + rng.standard_normal(n)).astype(np.float32)
    sw = make_weights(n) if weighted else None
    model, peak = _traced_peak(lambda: fastpen.Lasso(alpha=1e-3, precompute=True, tol=1e-8)
                               .fit(X, y, sample_weight=sw))
    copy_bytes = X.data.size * 12  # float64 values and their indices
    gram_bytes = 8 * p * p
    assert peak < 1.2 * gram_bytes + 0.1 * copy_bytes + 8 * 8 * n, (peak, gram_bytes)
    X64 = X.astype(np.float64)
    expected = fastpen.Lasso(alpha=1e-3, precompute=False, tol=1e-8).fit(
        X64, y.astype(np.float64), sample_weight=sw)
    assert objective(X64, y.astype(np.float64), model.coef_.astype(np.float64),
                     float(model.intercept_), 1e-3, 1.0, sw) == pytest.approx(
        objective(X64, y.astype(np.float64), expected.coef_, expected.intercept_, 1e-3,
                  1.0, sw), rel=1e-5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_gram_of_cancelling_means_reads_x_in_place(dtype, monkeypatch):
    """A column whose mean is far above its spread makes sparse X's Gram matrix centred
    row by row; the rows are taken from CSC X a block at a time, not from a CSR copy."""
    import fastpen._engine as engine_module
    monkeypatch.setattr(engine_module, "CHUNK", 2**12)
    rng = np.random.default_rng(4)
    n, p = 40000, 40
    Z = sp.random(n, p, density=0.3, format="csc", rng=rng).toarray()
    shift = 1e6 if dtype == np.float64 else 3e4
    Z[:, 0] = shift + rng.standard_normal(n)
    y = Z[:, 0] - shift + Z[:, 1:4].sum(axis=1) + 0.1 * rng.standard_normal(n)
    X = sp.csc_matrix(Z.astype(dtype))
    model, peak = _traced_peak(lambda: fastpen.Lasso(alpha=1e-3, tol=1e-10).fit(X, y))
    x_bytes = X.data.nbytes + X.indices.nbytes
    assert peak < 0.2 * x_bytes + 4 * 8 * n, (peak, x_bytes)
    centred = Z.astype(dtype).astype(np.float64)
    centred -= centred.mean(axis=0)
    expected = fastpen.Lasso(alpha=1e-3, tol=1e-10).fit(centred, y).coef_
    np.testing.assert_allclose(model.coef_, expected, atol=1e-5)


@pytest.mark.parametrize("fmt", ["csc", "csr"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("order", ["sorted", "unsorted", "repeated"])
def test_minor_blocks_and_sparse_gram_match_dense_products(fmt, dtype, index_dtype, order):
    """Blocks of rows of CSC X (columns of CSR X) put back together are X, in float64,
    whatever the budget; X^T S X from them (and from CSR's own rows) is the float64
    product, unsorted or repeated indices included."""
    from fastpen._engine import minor_blocks, sparse_gram
    rng = np.random.default_rng(8)
    X = sp.random(300, 200, density=0.05, format=fmt, dtype=dtype, rng=rng)
    if order != "sorted":
        for j in range(X.indptr.size - 1):
            a, b = X.indptr[j], X.indptr[j + 1]
            X.indices[a:b] = X.indices[a:b][::-1].copy()
            X.data[a:b] = X.data[a:b][::-1].copy()
            if order == "repeated" and b - a > 1:
                X.indices[a] = X.indices[a + 1]  # two entries at one place: summed
        X.has_sorted_indices = False
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    dense = X.astype(np.float64).toarray()  # repeated entries summed in float64
    axis = 0 if fmt == "csc" else 1
    for budget, max_minor in [(50, None), (1000, 7), (10**9, None), (1, None)]:
        blocks = list(minor_blocks(X, budget, max_minor))
        for start, stop, block in blocks:
            assert block.dtype == np.float64
            assert max_minor is None or stop - start <= max_minor
            assert block.has_sorted_indices
        np.testing.assert_array_equal(
            np.concatenate([block.toarray() for _, _, block in blocks], axis=axis), dense)
    w = rng.uniform(0.0, 2.0, 300)
    for weights in (None, w):
        expected = dense.T @ (dense if weights is None else dense * weights[:, None])
        G = sparse_gram(X, weights)
        np.testing.assert_allclose(G, expected, rtol=1e-13, atol=1e-13 * np.abs(expected).max())
        assert np.array_equal(G, G.T)


@pytest.mark.parametrize("heavy_row", [5, 30, 55])
@pytest.mark.parametrize("weight", [1e12, 1e16])
def test_gram_moments_of_a_row_that_outweighs_the_rest(weight, heavy_row):
    """One sample weight 1e12 to 1e16 times the others': the Gram matrix shifted by the
    first rows' mean cancelled its rank-one term (coefficients 0.742 for 0.814 with a
    gap of 3e-31), and a fold's moments taken as the whole's minus its held-out rows'
    kept the rounding of the heavy row's (mse 0.975 for 1.035)."""
    rng = np.random.default_rng(3)
    n, p = 60, 5
    X = rng.standard_normal((n, p)) + 3.0
    y = X[:, 0] + rng.standard_normal(n)
    sw = np.ones(n)
    sw[heavy_row] = weight
    for alpha in (1e-3, 1e-19):
        expected = fastpen.Lasso(alpha=alpha, precompute=False, tol=1e-12).fit(
            X, y, sample_weight=sw)
        model = fastpen.Lasso(alpha=alpha, precompute=True, tol=1e-12).fit(
            X, y, sample_weight=sw)
        np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-8, atol=1e-10)
    alphas = [1e-3, 1e-6]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gram = fastpen.LassoCV(alphas=alphas, cv=3, tol=1e-12, precompute=True).fit(
            X, y, sample_weight=sw)
        direct = fastpen.LassoCV(alphas=alphas, cv=3, tol=1e-12, precompute=False).fit(
            X, y, sample_weight=sw)
    np.testing.assert_allclose(gram.mse_path_, direct.mse_path_, rtol=1e-9)


def test_fold_moments_of_a_heavy_row_far_from_the_others():
    """A row 1e6 away from the others that outweighs them by 1e13: the fold that holds
    it out took its rows' moments about the whole data's means (that row's), and the
    centring cancelled 12 digits (coefficients 1.3e-3 off, mse 11%)."""
    from sklearn.model_selection import KFold
    rng = np.random.default_rng(0)
    n = 400
    X = rng.standard_normal((n, 4))
    y = X @ [1.0, -2, 0, 0.5] + 0.1 * rng.standard_normal(n)
    X[0] = 1e6 + rng.standard_normal(4)
    y[0] = X[0] @ [1.0, -2, 0, 0.5]
    w = np.ones(n)
    w[0] = 1e13
    common = dict(alphas=np.geomspace(0.1, 1e-4, 10), cv=KFold(4), store_path=True,
                  tol=1e-12, max_iter=100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gram = fastpen.LassoCV(precompute=True, **common).fit(X, y, sample_weight=w)
        direct = fastpen.LassoCV(precompute=False, **common).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(gram.coef_path_, direct.coef_path_, atol=1e-8)
    np.testing.assert_allclose(gram.mse_path_, direct.mse_path_, rtol=1e-7)
