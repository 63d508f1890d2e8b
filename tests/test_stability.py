"""Stability selection: recovery of a known support, the error bound, reproducibility."""
import math
import warnings

import matplotlib

matplotlib.use("Agg")  # headless: plot_stability draws into a file-less figure

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import fastpen
from fastpen._stability import unimodal_bound, worst_case_bound


def sparse_truth(n_samples=100, n_features=200, n_true=4, seed=0, noise=1.0):
    """AR(1)-correlated features, n_true of them carrying signal of magnitude 1.5 to 2."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n_samples, n_features))
    X = Z.copy()
    for j in range(1, n_features):
        X[:, j] = 0.4 * X[:, j - 1] + np.sqrt(1 - 0.4 ** 2) * Z[:, j]
    support = np.sort(rng.choice(n_features, n_true, replace=False))
    w = np.zeros(n_features)
    w[support] = rng.choice([-1.0, 1.0], n_true) * rng.uniform(1.5, 2.0, n_true)
    y = X @ w + noise * rng.standard_normal(n_samples)
    return X, y, support


@parametrize_with_checks([fastpen.StabilitySelection(n_resamples=10, alphas=10)])
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # tiny check data: short regions
        check(estimator)


def test_true_features_are_stable_and_false_ones_stay_under_the_threshold():
    X, y, support = sparse_truth()
    selector = fastpen.StabilitySelection(n_resamples=50, random_state=0).fit(X, y)
    probabilities = selector.selection_probabilities_
    false = np.setdiff1d(np.arange(X.shape[1]), support)
    assert probabilities[support].min() >= 0.9
    assert probabilities[false].max() < selector.threshold
    np.testing.assert_array_equal(selector.get_support(indices=True), support)
    assert selector.transform(X).shape == (X.shape[0], support.size)
    # scores are fractions of the 50 fits, and the selection probability is their max
    assert selector.stability_scores_.shape == (X.shape[1], selector.alphas_.size)
    np.testing.assert_allclose(selector.stability_scores_ * 50,
                               np.round(selector.stability_scores_ * 50), atol=1e-12)
    np.testing.assert_array_equal(probabilities, selector.stability_scores_.max(axis=1))


def test_error_bound_is_meinshausen_buhlmann_and_auto_keeps_it_under_one():
    X, y, _ = sparse_truth(seed=1)
    p = X.shape[1]
    selector = fastpen.StabilitySelection(n_resamples=40, threshold=0.8, random_state=1).fit(X, y)
    q = selector.average_selected_
    assert selector.error_bound_ == pytest.approx(q ** 2 / ((2 * 0.8 - 1) * p), rel=1e-12)
    # 'auto' cuts the region where q would pass sqrt((2 pi - 1) p): the bound stays <= 1
    assert q <= math.sqrt((2 * 0.8 - 1) * p)
    assert selector.error_bound_ <= 1
    assert selector.false_selection_bound(0.9) == pytest.approx(q ** 2 / (0.8 * p))
    assert math.isinf(selector.false_selection_bound(0.5))


def test_region_ends_where_the_average_selection_passes_max_selected():
    X, y, _ = sparse_truth(seed=2)
    grid = fastpen.alpha_grid(X, y, n_alphas=60)
    common = dict(n_resamples=20, random_state=2)
    cut = fastpen.StabilitySelection(alphas=grid, max_selected=8, **common).fit(X, y)
    n_region = cut.alphas_.size
    assert 1 < n_region < grid.size
    np.testing.assert_array_equal(cut.alphas_, grid[:n_region])
    # the same subsamples on the region alone, and on the region plus the next alpha
    region = fastpen.StabilitySelection(alphas=grid[:n_region], max_selected=None,
                                        **common).fit(X, y)
    np.testing.assert_array_equal(region.stability_scores_, cut.stability_scores_)
    assert region.average_selected_ == cut.average_selected_ <= 8
    longer = fastpen.StabilitySelection(alphas=grid[:n_region + 1], max_selected=None,
                                        **common).fit(X, y)
    assert longer.average_selected_ > 8


def test_scores_count_the_fits_that_select():
    X, y, _ = sparse_truth(n_samples=120, n_features=20, seed=3)
    alpha_max = fastpen.alpha_grid(X, y, n_alphas=1)[0]
    # far above alpha_max every half-sample fit is empty; near zero (p < n/2) every
    # fit keeps every feature
    common = dict(n_resamples=10, max_selected=None, random_state=3)
    empty = fastpen.StabilitySelection(alphas=[10 * alpha_max], **common).fit(X, y)
    full = fastpen.StabilitySelection(alphas=[1e-6 * alpha_max], **common).fit(X, y)
    assert np.all(empty.stability_scores_ == 0) and empty.average_selected_ == 0
    assert np.all(full.stability_scores_ == 1) and full.average_selected_ == X.shape[1]


def test_same_seed_same_result_whatever_the_threads():
    X, y, _ = sparse_truth(seed=4)
    params = dict(n_resamples=20, weakness=0.6, random_state=7)
    serial = fastpen.StabilitySelection(n_jobs=1, **params).fit(X, y)
    threaded = fastpen.StabilitySelection(n_jobs=2, **params).fit(X, y)
    np.testing.assert_array_equal(serial.stability_scores_, threaded.stability_scores_)
    np.testing.assert_array_equal(serial.alphas_, threaded.alphas_)
    other_seed = fastpen.StabilitySelection(n_jobs=1, **{**params, "random_state": 8}).fit(X, y)
    assert not np.array_equal(serial.stability_scores_, other_seed.stability_scores_)


def test_randomized_lasso_reweights_and_still_finds_the_support():
    X, y, support = sparse_truth(seed=5)
    plain = fastpen.StabilitySelection(n_resamples=30, random_state=5).fit(X, y)
    randomized = fastpen.StabilitySelection(n_resamples=30, weakness=0.5, random_state=5).fit(X, y)
    assert not np.array_equal(plain.stability_scores_, randomized.stability_scores_)
    np.testing.assert_array_equal(randomized.get_support(indices=True), support)


@pytest.mark.parametrize("layout", ["csc", "csr"])
def test_sparse_X_gives_the_dense_result(layout):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((100, 200)) * (rng.random((100, 200)) < 0.5)  # half empty
    support = np.array([12, 57, 130, 169])
    y = X[:, support] @ np.array([2.0, -2.0, 1.8, -1.6]) + 0.5 * rng.standard_normal(100)
    params = dict(n_resamples=20, random_state=6, tol=1e-8)
    dense = fastpen.StabilitySelection(**params).fit(X, y)
    sparse = fastpen.StabilitySelection(**params).fit(sp.csc_matrix(X).asformat(layout), y)
    np.testing.assert_allclose(sparse.alphas_, dense.alphas_, rtol=1e-12)
    np.testing.assert_allclose(sparse.stability_scores_, dense.stability_scores_, atol=0.05)
    np.testing.assert_array_equal(sparse.get_support(), dense.get_support())
    np.testing.assert_array_equal(sparse.get_support(indices=True), support)


def test_selector_in_a_pipeline_with_feature_names():
    pd = pytest.importorskip("pandas")
    X, y, support = sparse_truth(n_features=60, seed=7)
    frame = pd.DataFrame(X, columns=[f"gene{j}" for j in range(X.shape[1])])
    pipeline = make_pipeline(StandardScaler(),
                             fastpen.StabilitySelection(n_resamples=20, random_state=0),
                             LinearRegression())
    pipeline.fit(frame, y)
    selector = pipeline[1]
    assert list(selector.get_feature_names_out()) == [f"x{j}" for j in support]
    named = fastpen.StabilitySelection(n_resamples=20, random_state=0).fit(frame, y)
    assert list(named.get_feature_names_out()) == [f"gene{j}" for j in support]
    assert pipeline.score(frame, y) > 0.8


def test_unimodal_bound_is_tighter_and_follows_shah_samworth():
    q, p, pairs = 10.0, 1000, 50
    worst = worst_case_bound(q, p, 0.9)
    assert worst == pytest.approx(100 / (0.8 * 1000))
    # above 3/4: C = 4 (1 - tau + 1/(2B)) / (1 + 1/B) = 4 * 0.11 / 1.02
    assert unimodal_bound(q, p, 0.9, pairs) == pytest.approx(4 * 0.11 / 1.02 * 100 / 1000)
    # up to 3/4: C = 1 / (2 (2 tau - 1 - 1/(2B))) = 1 / (2 * 0.39)
    assert unimodal_bound(q, p, 0.7, pairs) == pytest.approx(100 / 1000 / 0.78)
    for threshold in np.linspace(0.51, 1.0, 25):
        assert unimodal_bound(q, p, threshold, pairs) <= worst_case_bound(q, p, threshold)
    # below its range of validity the unimodal bound says nothing: the worst case stands
    assert unimodal_bound(600.0, p, 0.52, 2) == worst_case_bound(600.0, p, 0.52)
    # where theta^2 < 1/(4B) that range starts before the constant turns positive: a
    # bound on a count is never negative, nor a division by zero
    for q_small, p_small, threshold, b in [(10, 1000, 0.501, 50), (10, 1000, 0.503, 50),
                                           (3.0, 100, 0.6, 2), (3.0, 100, 0.625, 2)]:
        bound = unimodal_bound(q_small, p_small, threshold, b)
        assert 0 <= bound <= worst_case_bound(q_small, p_small, threshold)
    assert math.isinf(worst_case_bound(q, p, 0.5))


def test_independent_subsamples_have_no_bound():
    X, y, _ = sparse_truth(seed=8)
    selector = fastpen.StabilitySelection(n_resamples=15, sample_fraction=0.6,
                                          random_state=0).fit(X, y)
    assert math.isnan(selector.error_bound_)
    assert math.isnan(selector.false_selection_bound(assumption="unimodal"))
    assert selector.stability_scores_.max() <= 1


def test_unconverged_fits_give_one_summary_warning():
    X, y, _ = sparse_truth(seed=9)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fastpen.StabilitySelection(n_resamples=10, max_iter=1, tol=1e-12, random_state=0).fit(X, y)
    convergence = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(convergence) == 1
    assert "did not converge" in str(convergence[0].message)


def test_plot_stability_draws_every_scored_feature_and_the_threshold():
    import matplotlib.pyplot as plt

    X, y, support = sparse_truth(n_features=40, seed=10)
    selector = fastpen.StabilitySelection(n_resamples=20, random_state=0).fit(X, y)
    ax = selector.plot_stability()
    scored = np.count_nonzero(selector.selection_probabilities_ > 0)
    lines = ax.get_lines()
    assert len(lines) == scored + 1  # plus the threshold line
    assert lines[-1].get_ydata()[0] == selector.threshold
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert sorted(labels[:-1]) == sorted(f"x{j}" for j in support)
    assert ax.get_xscale() == "log"
    plt.close(ax.figure)


@pytest.mark.parametrize("params, message", [
    (dict(n_resamples=11), "must be even"),
    (dict(weakness=0.0), "weakness"),
    (dict(sample_fraction=1.0), "below 1"),
    (dict(threshold=0.5), "threshold above 0.5"),
    (dict(alphas=[0.1, -1.0]), "alphas"),
    (dict(max_selected="many"), "max_selected"),
    (dict(random_state=-1), "random_state"),
])
def test_bad_parameters_are_named(params, message):
    X, y, _ = sparse_truth(n_features=10, seed=11)
    with pytest.raises(ValueError, match=message):
        fastpen.StabilitySelection(**params).fit(X, y)


def test_too_few_samples_for_half_samples():
    X = np.arange(6.0).reshape(3, 2)
    with pytest.raises(ValueError, match="too few"):
        fastpen.StabilitySelection(n_resamples=4).fit(X, np.array([1.0, 2.0, 4.0]))


def test_riboflavin_runs_under_its_bound(shared_data):
    data = np.load(shared_data / "riboflavin.npz")
    X, y = data["X"], data["y"]
    selector = fastpen.StabilitySelection(n_resamples=20, random_state=0).fit(X, y)
    assert selector.stability_scores_.shape[0] == X.shape[1] == 4088
    assert selector.error_bound_ <= 1
    # 35-row half-samples: no fit can hold more than 35 features at one alpha
    assert selector.get_support().sum() <= 35


def test_runs_on_a_process_backend():
    """Worker processes (joblib's loky, chosen by the user over the threads preferred)
    receive only what pickles: the progress bar stays in the calling process."""
    import joblib

    rng = np.random.default_rng(5)
    X = rng.standard_normal((120, 12))
    y = X[:, :3].sum(axis=1) + rng.standard_normal(120)
    threads = fastpen.StabilitySelection(n_resamples=4, random_state=0).fit(X, y)
    with joblib.parallel_backend("loky", n_jobs=2):
        processes = fastpen.StabilitySelection(n_resamples=4, random_state=0, verbose=1).fit(X, y)
    np.testing.assert_array_equal(processes.stability_scores_, threads.stability_scores_)
