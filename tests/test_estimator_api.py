"""Estimator behaviour: scikit-learn compatibility, extensions, input handling, reliability."""
import pickle
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_selection import SelectFromModel
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import fastpen
from conftest import kkt_violation, make_problem, make_weights, objective


@parametrize_with_checks([fastpen.Lasso(), fastpen.ElasticNet(),
                          fastpen.Lasso(solver="fista"), fastpen.ElasticNet(solver="fista")])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_penalty_factor_equals_rescaled_columns(sparse, fit_intercept):
    """sum_j pf_j |w_j| is the Lasso on columns x_j / pf_j with w_j = v_j / pf_j."""
    X, y = make_problem(sparse=sparse, seed=21)
    pf = np.random.default_rng(0).uniform(0.3, 3.0, X.shape[1])
    alpha = 0.02
    ours = fastpen.Lasso(alpha=alpha, penalty_factor=pf, tol=1e-12, max_iter=100_000,
                         fit_intercept=fit_intercept).fit(X, y)
    X_scaled = X @ sp.diags(1 / pf) if sparse else X / pf
    theirs = sk.Lasso(alpha=alpha, tol=1e-12, max_iter=100_000,
                      fit_intercept=fit_intercept).fit(X_scaled, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_ / pf, rtol=1e-6, atol=1e-8)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, rel=1e-7, abs=1e-9)
    assert objective(X, y, ours.coef_, ours.intercept_, alpha, penalty_factor=pf) == pytest.approx(
        objective(X_scaled, y, theirs.coef_, theirs.intercept_, alpha), rel=1e-9)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
@pytest.mark.parametrize("solver", ["cd", "fista"])
def test_unpenalized_features_satisfy_kkt(sparse, l1_ratio, solver):
    X, y = make_problem(sparse=sparse, seed=22)
    pf = np.ones(X.shape[1])
    pf[[1, 4, 9]] = 0.0  # unpenalized: their gradient must vanish
    alpha = 0.5
    model = fastpen.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, penalty_factor=pf, tol=1e-12,
                               max_iter=100_000, solver=solver).fit(X, y)
    assert kkt_violation(X, y, model.coef_, model.intercept_, alpha, l1_ratio,
                         penalty_factor=pf) < 1e-6
    assert np.all(model.coef_[[1, 4, 9]] != 0)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_gap_without_bounds_is_the_gap_with_infinite_ones(sparse, fit_intercept, l1_ratio):
    # the engine's gap has a lean pass for the case without bounds; infinite bounds take
    # the general one, on the same iterates: the two gaps must agree (unpenalized
    # features, whose 1-D decrease the gap adds, included)
    X, y = make_problem(sparse=sparse, seed=22)
    pf = np.ones(X.shape[1])
    pf[[1, 4, 9]] = 0.0
    options = dict(alpha=0.5, l1_ratio=l1_ratio, penalty_factor=pf, tol=1e-4,
                   fit_intercept=fit_intercept)
    plain = fastpen.ElasticNet(**options).fit(X, y)
    boxed = fastpen.ElasticNet(lower_bounds=-np.inf, upper_bounds=np.inf, **options).fit(X, y)
    np.testing.assert_array_equal(plain.coef_, boxed.coef_)
    assert plain.n_iter_ == boxed.n_iter_
    assert plain.dual_gap_ == pytest.approx(boxed.dual_gap_, rel=1e-9)
    assert plain.dual_gap_ > 0.0


@pytest.mark.parametrize("solver,precompute", [("cd", False), ("cd", True),
                                                ("fista", False)])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("bound", [0.3, 1.1])
def test_float32_coefficients_stay_inside_bounds_float32_cannot_hold(
        solver, precompute, fit_intercept, bound):
    """float32 X's coefficients are rounded to float32: 0.3 rounds to 0.30000001, over
    an upper bound of 0.3 (one ulp out, on every coefficient held at the bound). The
    rounding now takes the float32 on the inside."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 5)).astype(np.float32)
    y = (X @ np.array([3.0, 1.0, 0.0, -1.0, 0.5])
         + 0.1 * rng.standard_normal(100)).astype(np.float32)
    model = fastpen.Lasso(alpha=0.01, solver=solver, precompute=precompute,
                          lower_bounds=-bound, upper_bounds=bound,
                          fit_intercept=fit_intercept).fit(X, y)
    coef = model.coef_.astype(np.float64)
    assert model.coef_.dtype == np.float32
    assert np.sum(np.abs(coef) > 0.99 * bound) >= 3  # held at the bounds
    assert np.all(coef <= bound) and np.all(coef >= -bound)


@pytest.mark.parametrize("solver,precompute", [("cd", False), ("cd", True),
                                                ("fista", False)])
def test_float32_rounding_floor_stops_with_a_warning(solver, precompute):
    """float32 coefficients held at a bound of 0.3 are rounded inside it, which costs
    the objective a first-order term no iteration removes: a target of 1e-10 cannot be
    certified. The fit says so after a few gaps (its float64 iterate well within the
    target each time), not after max_iter."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 40)).astype(np.float32)
    y = (X @ rng.uniform(-3, 3, 40) + 0.1 * rng.standard_normal(60)).astype(np.float32)
    common = dict(alpha=0.01, solver=solver, precompute=precompute, lower_bounds=-0.3,
                  upper_bounds=0.3, max_iter=20_000)
    with pytest.warns(ConvergenceWarning):
        model = fastpen.Lasso(tol=1e-10, **common).fit(X, y)
    assert model.n_iter_ < 1000
    assert np.all(np.abs(model.coef_.astype(np.float64)) <= 0.3)
    # the same fit at a target float32 can meet converges as before
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fastpen.Lasso(tol=1e-6, **common).fit(X, y)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("solver", ["cd", "fista"])
def test_box_constraints_hold_with_kkt(sparse, dtype, weighted, solver):
    X, y = make_problem(sparse=sparse, dtype=dtype, seed=23)
    sw = make_weights(X.shape[0]) if weighted else None
    p = X.shape[1]
    tol = 1e-10 if dtype == np.float64 else 1e-6  # float32 gaps are noisy below ~1e-6
    free = fastpen.Lasso(alpha=0.01, tol=tol, max_iter=100_000).fit(X, y, sample_weight=sw)
    # bounds that cut into the unconstrained solution, one side each, some infinite
    lower = np.where(free.coef_ < 0, 0.5 * free.coef_, -np.inf)
    upper = np.where(free.coef_ > 0, 0.5 * free.coef_, np.inf)
    lower[::5] = 0.0
    model = fastpen.Lasso(alpha=0.01, lower_bounds=lower, upper_bounds=upper, tol=tol,
                          max_iter=100_000, solver=solver).fit(X, y, sample_weight=sw)
    assert np.all(model.coef_ >= lower) and np.all(model.coef_ <= upper)
    assert np.any(model.coef_ == upper) or np.any(model.coef_ == lower)
    kkt_tol = 1e-6 if dtype == np.float64 else 1e-3
    assert kkt_violation(X, y, model.coef_, model.intercept_, 0.01, 1.0, sw,
                         lower=lower, upper=upper) < kkt_tol
    # scalar bounds broadcast, and positive=True is a lower bound of 0
    a = fastpen.Lasso(alpha=0.01, lower_bounds=0.0, tol=tol, max_iter=100_000,
                      solver=solver).fit(X, y)
    b = fastpen.Lasso(alpha=0.01, positive=True, tol=tol, max_iter=100_000,
                      solver=solver).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert p == model.coef_.shape[0]


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_inputs_are_not_modified(sparse):
    X, y = make_problem(sparse=sparse, seed=24)
    sw = make_weights(X.shape[0])
    X_before = X.copy()
    y_before, sw_before = y.copy(), sw.copy()
    fastpen.ElasticNet(alpha=0.01).fit(X, y, sample_weight=sw)
    if sparse:
        assert (X != X_before).nnz == 0
    else:
        np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    np.testing.assert_array_equal(sw, sw_before)


def test_read_only_inputs_are_accepted():
    X, y = make_problem(seed=25)
    X.flags.writeable = False
    y.flags.writeable = False
    fastpen.Lasso(alpha=0.01).fit(X, y)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_float32_is_not_upcast_or_copied(sparse):
    """float32 Fortran / CSC X is read in place: the fit allocates far less than X."""
    rng = np.random.default_rng(0)
    if sparse:
        X = sp.random(4000, 2000, density=0.05, format="csc", dtype=np.float32, rng=rng)
        x_bytes = X.data.nbytes + X.indices.nbytes
    else:
        X = np.asfortranarray(rng.standard_normal((4000, 500)), dtype=np.float32)
        x_bytes = X.nbytes
    y = rng.standard_normal(4000).astype(np.float32)
    model = fastpen.Lasso(alpha=0.01, fit_intercept=True)
    tracemalloc.start()
    model.fit(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert model.coef_.dtype == np.float32
    assert peak < 0.25 * x_bytes, f"fit allocated {peak} bytes for an X of {x_bytes}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [0.1, 0.001], ids=["empty", "supported"])
def test_wide_fit_allocates_a_few_vectors_per_feature(dtype, fit_intercept, alpha):
    """On wide sparse data each vector of n_features is a sizeable share of a fit's
    memory. A fit keeps four and a half (means, norms, coefficients, gradient, an int32
    index list), no means without an intercept (they would all be zero), none for a
    uniform penalty factor (its weights are two numbers), and lists and rings only as
    large as the supports they serve."""
    n_samples, n_features = 300, 50000
    rng = np.random.default_rng(0)
    X = sp.random(n_samples, n_features, density=0.002, format="csc", dtype=dtype,
                  rng=rng)
    y = (X @ rng.standard_normal(n_features) + rng.standard_normal(n_samples)).astype(dtype)
    model = fastpen.Lasso(alpha=alpha, fit_intercept=fit_intercept, max_iter=10000)
    tracemalloc.start()
    model.fit(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert alpha == 0.1 or np.count_nonzero(model.coef_) > 100
    # (float32 X: coef_ in float32 beside the engine's float64 coefficients; the check
    # for columns of large mean had taken four temporaries of p: 5.24 vectors)
    vectors = (4.75 if fit_intercept else 3.75) + (0.5 if dtype == np.float32 else 0.0)
    budget = 8 * (vectors * n_features + 64 * n_samples)
    assert peak < budget, f"fit allocated {peak / (8 * n_features):.1f} vectors of p"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_tall_fit_keeps_no_residual_ring_for_a_light_support(dtype, fit_intercept):
    """Anderson steps combine the residuals of the last sweeps' ends (6 vectors of
    n) only for supports whose columns hold more entries than that ring would; a
    lighter support's jump moves the residual by its columns instead."""
    n_samples, n_features = 20000, 2000
    rng = np.random.default_rng(0)
    X = sp.random(n_samples, n_features, density=0.01, format="csc", dtype=dtype,
                  rng=rng)
    y = (X @ rng.standard_normal(n_features)
         + 0.1 * rng.standard_normal(n_samples)).astype(dtype)
    model = fastpen.Lasso(alpha=0.004, fit_intercept=fit_intercept, max_iter=10000)
    tracemalloc.start()
    model.fit(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    support_entries = np.diff(X.indptr)[model.coef_ != 0].sum()
    # the case this test is about: a support heavier than 2 n entries, lighter than 6 n
    assert 2 * n_samples < support_entries < 6 * n_samples
    budget = 8 * (6 * n_features + 5 * n_samples)
    extra_n = (peak - 48 * n_features) / (8 * n_samples)
    assert peak < budget, f"fit allocated {extra_n:.1f} vectors of n beyond 6 of p"


@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("fmt", ["csc", "csr", "coo"])
def test_sparse_formats_and_index_types(index_dtype, fmt):
    X, y = make_problem(sparse=True, seed=26)
    reference = fastpen.Lasso(alpha=0.01, tol=1e-10).fit(X.toarray(), y)
    Xs = sp.csc_matrix(X)
    Xs.indices = Xs.indices.astype(index_dtype)
    Xs.indptr = Xs.indptr.astype(index_dtype)
    Xs = Xs.asformat(fmt)
    if fmt != "coo":
        Xs.indices = Xs.indices.astype(index_dtype)
        Xs.indptr = Xs.indptr.astype(index_dtype)
    model = fastpen.Lasso(alpha=0.01, tol=1e-10).fit(Xs, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-7)
    np.testing.assert_allclose(model.predict(Xs), reference.predict(X.toarray()), atol=1e-6)


def test_sparse_with_duplicate_entries():
    X, y = make_problem(sparse=True, seed=27)
    # store every entry twice, as two halves: same matrix, non-canonical storage
    starts, ends = X.indptr[:-1], X.indptr[1:]
    indices = np.concatenate([np.r_[X.indices[a:b], X.indices[a:b]] for a, b in zip(starts, ends)])
    data = np.concatenate([np.r_[X.data[a:b], X.data[a:b]] / 2 for a, b in zip(starts, ends)])
    dup = sp.csc_matrix((data, indices, 2 * X.indptr), shape=X.shape)
    dup.has_canonical_format = False
    assert not dup.has_canonical_format
    a = fastpen.Lasso(alpha=0.01, tol=1e-10).fit(X, y)
    b = fastpen.Lasso(alpha=0.01, tol=1e-10).fit(dup, y)
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-8)


def test_libsvm_file_with_int64_indices(shared_data):
    from sklearn.datasets import load_svmlight_file

    X, y = load_svmlight_file(str(shared_data / "housing_scale"))
    assert X.indices.dtype == np.int64
    model = fastpen.Lasso(alpha=0.01, tol=1e-10).fit(X, y)
    dense = sk.Lasso(alpha=0.01, tol=1e-10).fit(X.toarray(), y)
    assert objective(X, y, model.coef_, model.intercept_, 0.01) == pytest.approx(
        objective(X, y, dense.coef_, dense.intercept_, 0.01), rel=1e-9)


def test_pandas_input_keeps_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = make_problem(seed=28, n_features=6)
    frame = pd.DataFrame(X, columns=[f"gene_{i}" for i in range(6)])
    model = fastpen.Lasso(alpha=0.01).fit(frame, pd.Series(y))
    assert list(model.feature_names_in_) == list(frame.columns)
    assert model.n_features_in_ == 6
    np.testing.assert_allclose(model.predict(frame), model.predict(X))


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("solver", ["cd", "fista"])
def test_warm_start(sparse, solver):
    X, y = make_problem(sparse=sparse, seed=29)
    model = fastpen.Lasso(alpha=0.02, tol=1e-10, warm_start=True, solver=solver,
                          max_iter=100_000).fit(X, y)
    first, cold_iterations = model.coef_.copy(), model.n_iter_
    model.fit(X, y)
    # the start point is optimal: at most the few sweeps that rebuild an extrapolated
    # dual point (the plain residual's gap may not certify what the extrapolated one did)
    assert model.n_iter_ <= max(1, cold_iterations // 4)
    np.testing.assert_allclose(model.coef_, first, atol=1e-7)
    # warm start from another alpha reaches the same optimum as a cold start
    model.set_params(alpha=0.005).fit(X, y)
    cold = fastpen.Lasso(alpha=0.005, tol=1e-10).fit(X, y)
    np.testing.assert_allclose(model.coef_, cold.coef_, atol=1e-6)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("solver", ["cd", "fista"])
def test_two_dimensional_y(sparse, solver):
    X, y = make_problem(sparse=sparse, seed=30)
    Y = np.column_stack([y, -2 * y + 1, np.sin(y)])
    multi = fastpen.ElasticNet(alpha=0.01, l1_ratio=0.8, tol=1e-10, solver=solver,
                               max_iter=100_000).fit(X, Y)
    assert multi.coef_.shape == (3, X.shape[1])
    assert multi.intercept_.shape == (3,) and multi.dual_gap_.shape == (3,)
    assert len(multi.n_iter_) == 3
    for k in range(3):
        single = fastpen.ElasticNet(alpha=0.01, l1_ratio=0.8, tol=1e-10, solver=solver,
                                    max_iter=100_000).fit(X, Y[:, k])
        np.testing.assert_allclose(multi.coef_[k], single.coef_, atol=1e-12)
        assert multi.intercept_[k] == pytest.approx(single.intercept_)
    assert multi.predict(X).shape == (X.shape[0], 3)
    assert multi.sparse_coef_.shape == (3, X.shape[1])


def test_works_in_sklearn_tools():
    X, y = make_problem(seed=31, n_samples=120)
    pipe = make_pipeline(StandardScaler(), fastpen.Lasso(alpha=0.05)).fit(X, y)
    assert pipe.score(X, y) > 0.5
    grid = GridSearchCV(fastpen.ElasticNet(), {"alpha": [0.01, 0.1], "l1_ratio": [0.5, 1.0]},
                        cv=3).fit(X, y)
    assert grid.best_params_["alpha"] in (0.01, 0.1)
    selector = SelectFromModel(fastpen.Lasso(alpha=0.1)).fit(X, y)
    assert 0 < selector.get_support().sum() < X.shape[1]
    model = fastpen.Lasso(alpha=0.05, penalty_factor=np.ones(X.shape[1])).fit(X, y)
    copy = clone(model)
    assert copy.get_params()["alpha"] == 0.05 and not hasattr(copy, "coef_")
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"alpha": -1.0}, "alpha"),
        ({"l1_ratio": 1.5}, "l1_ratio"),
        ({"l1_ratio": -0.1}, "l1_ratio"),
        ({"max_iter": 0}, "max_iter"),
        ({"tol": -1.0}, "tol"),
        ({"alpha": np.inf}, "alpha"),
        ({"tol": np.inf}, "tol"),
        ({"selection": "greedy"}, "selection"),
        ({"solver": "newton"}, "solver"),
        ({"solver": "fista", "selection": "random"}, "selection"),
        ({"penalty_factor": -np.ones(40)}, "penalty_factor"),
        ({"penalty_factor": np.ones(3)}, "penalty_factor"),
        ({"lower_bounds": 1.0}, "lower_bounds"),
        ({"upper_bounds": -1.0}, "upper_bounds"),
        ({"precompute": np.eye(3)}, "precompute"),
        ({"random_state": "a"}, "random_state"),
    ],
)
def test_bad_parameters_raise(params, match):
    X, y = make_problem(seed=32)
    with pytest.raises(ValueError, match=match):
        fastpen.ElasticNet(**params).fit(X, y)


@pytest.mark.parametrize("precompute", [False, True])
def test_n_iter_never_passes_max_iter(precompute):
    """cd counts epochs in fractions and checks its budget between them: n_iter_ had
    reached 15 with max_iter=10 (scikit-learn keeps n_iter_ <= max_iter)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((30, 5))
    y = X @ rng.standard_normal(5) + 0.1 * rng.standard_normal(30)
    for max_iter in (5, 10, 100):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = fastpen.Lasso(alpha=0.01, tol=0.0, max_iter=max_iter,
                                  precompute=precompute).fit(X, y)
        assert 1 <= model.n_iter_ <= max_iter


def test_huge_sample_weights_do_not_overflow():
    """Weights whose sum overflows float64 (1e308 each) had all been rescaled to 0, and
    the fit returned zeros: they are scaled by the largest first."""
    X, y = make_problem(seed=34, n_samples=60)
    expected = fastpen.Lasso(alpha=0.05).fit(X, y)
    for model in (fastpen.Lasso(alpha=0.05), fastpen.LassoCV(alphas=[0.05], cv=3)):
        model.fit(X, y, sample_weight=np.full(60, 1e308))
        np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-6, atol=1e-9)


def test_bad_data_raise():
    X, y = make_problem(seed=33)
    model = fastpen.Lasso(alpha=0.1)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(bad, y)
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        model.fit(bad, y)
    bad_y = y.copy()
    bad_y[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        model.fit(X, bad_y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        model.fit(X, y[:-1])
    with pytest.raises(ValueError):
        model.fit(np.empty((0, 3)), np.empty(0))
    with pytest.raises(ValueError):
        model.fit([["a", "b"], ["c", "d"]], [1.0, 2.0])
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(X, y, sample_weight=np.ones(5))
    with pytest.raises(ValueError, match="Negative"):
        model.fit(X, y, sample_weight=-np.ones(X.shape[0]))
    with pytest.raises(ValueError, match="sample_weight"):
        model.fit(X, y, sample_weight=np.full(X.shape[0], np.nan))
    fitted = fastpen.Lasso(alpha=0.1).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        fitted.predict(X[:, :5])


def _slow_problem(n_samples=1000, n_features=2000, rho=0.99):
    """Strongly correlated columns and a tiny alpha: thousands of epochs to converge."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((n_samples, n_features))
    X = Z.copy()
    for j in range(1, n_features):
        X[:, j] = rho * X[:, j - 1] + np.sqrt(1 - rho**2) * Z[:, j]
    return np.asfortranarray(X), rng.standard_normal(n_samples)


_LONG_FIT = """
import signal
import numpy as np, fastpen
# Python's own Ctrl-C handler, as in a user's terminal (a shell that starts this run in
# the background makes the process ignore SIGINT)
signal.signal(signal.SIGINT, signal.default_int_handler)
rng = np.random.default_rng(0)
Z = rng.standard_normal((1000, 2000))
X = Z.copy()
for j in range(1, 2000):
    X[:, j] = 0.99 * X[:, j - 1] + np.sqrt(1 - 0.99**2) * Z[:, j]
X = np.asfortranarray(X)
y = rng.standard_normal(1000)
print("fitting", flush=True)
{fit}
print("finished", flush=True)
"""


@pytest.mark.parametrize("fit", [
    "fastpen.Lasso(alpha=1e-6, tol=1e-14, max_iter=10**6).fit(X, y)",
    # a path solves its alphas inside one engine call: the interrupt leaves it too
    "fastpen.lasso_path(X, y, alphas=[1e-2, 1e-6], tol=1e-14, max_iter=10**6)",
], ids=["fit", "path"])
def test_ctrl_c_interrupts_a_long_fit(fit):
    """SIGINT during a fit raises KeyboardInterrupt promptly instead of finishing the fit.

    Run in a fresh interpreter, as a user's script is: the signal goes to that process
    only, whatever other tests left behind in this one.
    """
    process = subprocess.Popen([sys.executable, "-c", _LONG_FIT.format(fit=fit)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "fitting"
        time.sleep(1.0)  # well inside the fit: without the check it runs for minutes
        start = time.perf_counter()
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert time.perf_counter() - start < 30
    assert process.returncode != 0
    assert "KeyboardInterrupt" in stderr


def test_fit_releases_the_gil():
    """While a fit runs in a thread, Python code in the main thread keeps running."""
    X, y = _slow_problem()
    model = fastpen.Lasso(alpha=1e-6, tol=1e-14, max_iter=300)
    done = threading.Event()

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
        done.set()

    thread = threading.Thread(target=fit)
    thread.start()
    time.sleep(0.05)  # let the fit enter the engine
    ticks = 0
    while not done.is_set():
        ticks += 1
    thread.join()
    # a GIL-holding fit would leave this loop a handful of switch intervals at most
    assert ticks > 10_000


@pytest.mark.parametrize("solver", ["cd", "fista"])
@pytest.mark.parametrize("precompute", [False, True])
def test_a_start_outside_new_bounds_is_clipped_into_them(solver, precompute):
    """A warm start (or coef_init) from looser bounds had been returned as it was,
    outside the new ones, with dual_gap_ = 0 and n_iter_ = 0: the gap has no term for
    a point outside the box. The start is clipped into it first."""
    if solver == "fista" and precompute:
        pytest.skip("Gram storage is for cd")
    X, y = make_problem(seed=36, n_samples=80, n_features=20)
    common = dict(alpha=0.01, solver=solver, precompute=precompute, tol=1e-8,
                  max_iter=100_000)
    for bounds in (dict(positive=True), dict(lower_bounds=-0.2, upper_bounds=0.2)):
        model = fastpen.Lasso(warm_start=True, **common).fit(X, y)
        assert model.coef_.min() < -0.2  # the start lies outside both boxes
        model.set_params(**bounds).fit(X, y)
        cold = fastpen.Lasso(**common, **bounds).fit(X, y)
        lower = 0.0 if "positive" in bounds else -0.2
        assert model.coef_.min() >= lower
        np.testing.assert_allclose(model.coef_, cold.coef_, atol=1e-4)
    _, coefs, _ = fastpen.lasso_path(X, y, alphas=[0.01], coef_init=model.coef_ * 0 - 1.0,
                                     lower_bounds=-0.2, upper_bounds=0.2, solver=solver)
    assert coefs.min() >= -0.2


def test_float32_intercept_is_the_certified_one():
    """The gap certifies coef_ with the intercept y_mean - X_mean . coef_ in float64;
    rounded to float32 it was half a float32 unit off (5e-4 at 1e4)."""
    rng = np.random.default_rng(37)
    X = rng.standard_normal((200, 5)).astype(np.float32)
    y = (X @ rng.standard_normal(5) + 1e4).astype(np.float32)
    model = fastpen.Lasso(alpha=0.01, tol=1e-8).fit(X, y)
    exact = (np.mean(y, dtype=np.float64)
             - X.astype(np.float64).mean(axis=0) @ model.coef_.astype(np.float64))
    assert model.intercept_ == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("kind", ["uniform", "exponential", "outlier"])
def test_float32_paths_with_unequal_weights_on_large_means(kind, sparse):
    """The engines take the weights' sum for n_samples in their centring terms, whose
    error the columns' squared means multiply. Cast to float32, weights summed to n only
    to about 1e-7: on float32 columns of mean 1e3, coordinate descent diverged (with
    the exponential weights, NaN coefficients on 5 of this path's 90 alphas and 46
    ConvergenceWarnings). The weights stay float64 now: each alpha must be solved as
    well as on the same values in float64."""
    rng = np.random.default_rng(0)
    n, p = 60, 200
    X = np.asfortranarray(1e3 + rng.standard_normal((n, p)), dtype=np.float32)
    y = X[:, :5].astype(np.float64) @ rng.standard_normal(5) + rng.standard_normal(n)
    weights = {"uniform": rng.uniform(0.5, 2.0, n), "exponential": rng.exponential(size=n),
               "outlier": np.r_[np.full(3, 50.0), np.ones(n - 3)]}[kind]
    X64 = X.astype(np.float64)
    common = dict(l1_ratio=1.0, alphas=90, sample_weight=weights, fit_intercept=True,
                  precompute=False, tol=1e-6, max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        alphas, coefs, gaps = fastpen.enet_path(sp.csc_matrix(X) if sparse else X, y,
                                                **common)
        _, coefs64, _ = fastpen.enet_path(X64, y, **common)
    assert np.all(np.isfinite(coefs))
    s = weights * n / weights.sum()
    target = 1e-6 * np.sum(s * (y - s @ y / n) ** 2) / n
    for k, alpha in enumerate(alphas):
        values = []
        for coef in (coefs[:, k], coefs64[:, k]):
            coef = coef.astype(np.float64)
            intercept = s @ (y - X64 @ coef) / n
            values.append(objective(X64, y, coef, intercept, alpha, sample_weight=weights))
        assert values[0] - values[1] <= 2 * target, k


def test_path_checks_valid_x_without_a_temporary_of_its_size():
    """lasso_path's fast check of already valid X (finite values) allocated a boolean
    array of X's size: a quarter of float32 X."""
    rng = np.random.default_rng(1)
    X = np.asfortranarray(rng.standard_normal((20000, 200)), dtype=np.float32)
    y = rng.standard_normal(20000).astype(np.float32)
    tracemalloc.start()
    fastpen.lasso_path(X, y, alphas=3, precompute=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 0.05 * X.nbytes + 12 * 8 * X.shape[0], (peak, X.nbytes)
    X[7, 3] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        fastpen.lasso_path(X, y, alphas=3)


def test_mixed_index_types_do_not_copy_the_indices():
    """CSC X with int32 indices and an int64 indptr (arrays set by hand): the engines'
    one integer type is the indices', indptr (n_features + 1 long) converted."""
    X = sp.random(20000, 2000, density=0.01, format="csc", random_state=0)
    y = np.random.default_rng(0).standard_normal(20000)
    expected = fastpen.Lasso(alpha=0.01).fit(X, y).coef_
    X.indptr = X.indptr.astype(np.int64)
    tracemalloc.start()
    model = fastpen.Lasso(alpha=0.01).fit(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    np.testing.assert_array_equal(model.coef_, expected)
    assert peak < 0.5 * X.indices.nbytes, (peak, X.indices.nbytes)


def test_path_is_reached_through_the_estimators():
    """scikit-learn's `Lasso.path(...)`, `ElasticNetCV.path(...)`: the path functions."""
    X, y = make_problem(seed=90)
    for cls, function in ((fastpen.Lasso, fastpen.enet_path),
                          (fastpen.ElasticNet, fastpen.enet_path),
                          (fastpen.ElasticNetCV, fastpen.enet_path),
                          (fastpen.LassoCV, fastpen.lasso_path)):
        assert cls.path is function
    ours = fastpen.Lasso.path(X, y, l1_ratio=1.0, alphas=5, tol=1e-12, max_iter=100_000)
    theirs = sk.Lasso.path(X, y, l1_ratio=1.0, alphas=5, tol=1e-12, max_iter=100_000)
    np.testing.assert_allclose(ours[0], theirs[0])
    np.testing.assert_allclose(ours[1], theirs[1], atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_attribute_types_are_scikit_learns(dtype):
    """sparse_coef_ is a CSR matrix (`*` its matrix product); a single target's
    intercept_ and the CV estimators' alpha_ and l1_ratio_ are numpy scalars."""
    X, y = make_problem(seed=91)
    X = X.astype(dtype)
    ours = fastpen.Lasso(alpha=0.01).fit(X, y)
    theirs = sk.Lasso(alpha=0.01).fit(X, y)
    assert sp.isspmatrix_csr(ours.sparse_coef_)
    assert (ours.sparse_coef_ * sp.csr_matrix(X).T).shape == (
        theirs.sparse_coef_ * sp.csr_matrix(X).T).shape == (1, X.shape[0])
    # (float64 whatever X's dtype: the intercept the gap certified)
    assert isinstance(ours.intercept_, np.float64)
    cv = fastpen.LassoCV(cv=3, alphas=5).fit(X, y)
    for name in ("alpha_", "intercept_"):
        assert isinstance(getattr(cv, name), np.floating), name
    assert isinstance(fastpen.ElasticNetCV(cv=3, alphas=5).fit(X, y).l1_ratio_, np.floating)


def test_unchecked_refit_forgets_the_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = make_problem(seed=92)
    model = fastpen.Lasso(alpha=0.01).fit(pd.DataFrame(X).add_prefix("f"), y)
    assert len(model.feature_names_in_) == X.shape[1]
    model.fit(np.asfortranarray(X[:, :5]), y, check_input=False)
    assert model.n_features_in_ == 5 and not hasattr(model, "feature_names_in_")


@pytest.mark.parametrize("solver", ["cd", "fista"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
def test_target_far_from_zero_against_its_spread(solver, sparse):
    """y = 1e14 + 1e-2 z: the residual's rounding (eps |y|) floored the gap's target
    5000 times above tol's, and the fit stopped at iteration 0 with zero coefficients.
    y is now centred before the engine reads it."""
    rng = np.random.default_rng(0)
    n = 100
    X = rng.standard_normal((n, 10))
    y = 1e14 + 1e-2 * (X[:, 0] + 0.5 * rng.standard_normal(n))
    yc = y - y.mean()
    A = sp.csc_matrix(X) if sparse else X
    expected = fastpen.Lasso(alpha=1e-5, tol=1e-10, solver=solver).fit(A, yc)
    model = fastpen.Lasso(alpha=1e-5, tol=1e-10, solver=solver).fit(A, y)
    assert model.n_iter_ > 0
    np.testing.assert_allclose(model.coef_, expected.coef_, rtol=1e-5, atol=1e-9)
    assert model.intercept_ == pytest.approx(y.mean() + expected.intercept_, abs=0.05)
    coefs = fastpen.lasso_path(A, y, alphas=[1e-4, 1e-5], tol=1e-10, solver=solver,
                               fit_intercept=True)[1]
    np.testing.assert_allclose(coefs[:, 1], expected.coef_, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("layout", ["dense-gram", "dense", "csc"])
def test_small_spread_around_a_large_mean_is_no_constant(layout):
    """3e10 + 1e-3 z holds 94 distinct values: the mean's rounding had hidden its
    spread, the column was taken as constant and its coefficient (998) set to 0. The
    centred norm is corrected by the sum's drift from the mean."""
    rng = np.random.default_rng(1)
    n = 100
    z = rng.standard_normal(n)
    X = np.column_stack([rng.standard_normal(n), 3e10 + 1e-3 * z])
    y = z + 0.1 * rng.standard_normal(n)
    expected = fastpen.Lasso(alpha=1e-7, tol=1e-12).fit(X - X.mean(axis=0), y).coef_
    A = sp.csc_matrix(X) if layout == "csc" else X
    with warnings.catch_warnings():
        # (sparse X warns to centre it first, as its implicit centring would cancel)
        warnings.simplefilter("ignore", UserWarning)
        model = fastpen.Lasso(alpha=1e-7, tol=1e-12,
                              precompute=layout == "dense-gram").fit(A, y)
    np.testing.assert_allclose(model.coef_, expected, rtol=1e-2, atol=1e-4)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_float32_output_types_are_sklearns(sparse, fit_intercept):
    """float32 X: predictions and mse_path_ in float32, as scikit-learn's (the float64
    intercept_, the certified one, had made every prediction float64)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 8)).astype(np.float32)
    y = (X[:, 0] - X[:, 3] + 0.1 * rng.standard_normal(60)).astype(np.float32)
    X = sp.csc_matrix(X) if sparse else X
    for name, params in (("Lasso", dict(alpha=0.05)), ("ElasticNet", dict(alpha=0.05)),
                         ("LassoCV", dict(cv=3)), ("ElasticNetCV", dict(cv=3))):
        ours = getattr(fastpen, name)(fit_intercept=fit_intercept, **params).fit(X, y)
        theirs = getattr(sk, name)(fit_intercept=fit_intercept, **params).fit(X, y)
        assert ours.predict(X).dtype == theirs.predict(X).dtype, name
        if name.endswith("CV"):
            assert ours.mse_path_.dtype == theirs.mse_path_.dtype, name
            # float32 X with float64 y: the errors in float64, as scikit-learn's
            y64 = y.astype(np.float64)
            ours = getattr(fastpen, name)(fit_intercept=fit_intercept, **params).fit(X, y64)
            theirs = getattr(sk, name)(fit_intercept=fit_intercept, **params).fit(X, y64)
            assert ours.mse_path_.dtype == theirs.mse_path_.dtype, name
        # a model fitted on float64 predicts float32 X in float64, unrounded
        X64 = X.astype(np.float64)
        ours = getattr(fastpen, name)(fit_intercept=fit_intercept, **params).fit(X64, y)
        theirs = getattr(sk, name)(fit_intercept=fit_intercept, **params).fit(X64, y)
        assert ours.predict(X).dtype == theirs.predict(X).dtype == np.float64, name
        np.testing.assert_array_equal(ours.predict(X), ours.predict(X64))


def test_cv_on_text_is_sklearns_value_error():
    """The output type of mse_path_ is worked out before validation: text input must
    still get scikit-learn's ValueError, not a type-promotion error."""
    X = np.array([["a", "b"]] * 10)
    y = np.arange(10.0)
    with pytest.raises(ValueError) as theirs:
        sk.LassoCV(cv=2).fit(X, y)
    with pytest.raises(ValueError) as ours:
        fastpen.LassoCV(cv=2).fit(X, y)
    assert str(ours.value) == str(theirs.value)
