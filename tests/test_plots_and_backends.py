"""Plots (headless) and folds sent to a dask cluster through joblib."""
import matplotlib

matplotlib.use("Agg")  # headless: the tests write PNG files

import numpy as np
import pytest
from sklearn.model_selection import KFold

import fastpen
from conftest import make_problem


def test_plot_path_and_cv_write_pngs(tmp_path):
    import matplotlib.pyplot as plt

    X, y = make_problem(seed=81, n_samples=100)
    model = fastpen.LassoCV(cv=4, alphas=30).fit(X, y)
    alphas, coefs, _ = fastpen.lasso_path(X, y, alphas=model.alphas_, fit_intercept=True)
    ax = fastpen.plot_path(alphas, coefs, selected_alpha=model.alpha_,
                           feature_names=[f"x{j}" for j in range(X.shape[1])])
    assert len(ax.get_lines()) >= np.count_nonzero(np.any(coefs != 0, axis=1))
    assert ax.get_xscale() == "log"
    ax.figure.savefig(tmp_path / "path.png")
    ax = fastpen.plot_cv(model)
    mean_line = ax.get_lines()[0]
    np.testing.assert_allclose(mean_line.get_ydata(), model.mse_path_.mean(axis=1))
    ax.figure.savefig(tmp_path / "cv.png")
    plt.close("all")
    for name in ("path.png", "cv.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="coefs"):
        fastpen.plot_path(alphas, coefs[:, :3])


@pytest.mark.parametrize("alphas", [6, [10.0, 1.0, 0.1, 0.01]], ids=["grids", "given"])
def test_plot_cv_draws_the_chosen_l1_ratio(alphas):
    """Several l1_ratios: the curve is the chosen one's, whether alphas_ holds a grid
    per l1_ratio or the one given grid (1-D, as in scikit-learn)."""
    import matplotlib.pyplot as plt

    X, y = make_problem(seed=83, n_samples=60, n_features=8)
    ratios = [0.05, 0.5, 1.0]
    model = fastpen.ElasticNetCV(l1_ratio=ratios, alphas=alphas, cv=3).fit(X, y)
    k = ratios.index(model.l1_ratio_)
    ax = fastpen.plot_cv(model)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(),
                               model.mse_path_[k].mean(axis=1))
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(),
                               np.atleast_2d(model.alphas_)[k if np.ndim(model.alphas_) == 2
                                                            else 0])
    plt.close("all")


def test_lassocv_on_a_dask_cluster_matches_the_local_run():
    distributed = pytest.importorskip("distributed")
    from joblib import parallel_backend

    X, y = make_problem(seed=82, n_samples=120)
    folds = KFold(4, shuffle=True, random_state=0)
    local = fastpen.LassoCV(cv=folds, alphas=20, n_jobs=2).fit(X, y)
    # worker processes talking TCP on loopback: the folds really leave this process
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", protocol="tcp://",
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        with parallel_backend("dask"):
            remote = fastpen.LassoCV(cv=folds, alphas=20, n_jobs=2).fit(X, y)
    assert remote.alpha_ == local.alpha_
    np.testing.assert_array_equal(remote.coef_, local.coef_)
    np.testing.assert_array_equal(remote.mse_path_, local.mse_path_)


def test_path_labels_do_not_overlap():
    """Labels of close final coefficients are spread at least a line apart, in the
    coefficients' order and inside the axis; labels with room stay where they are."""
    from fastpen._plot import _spread_labels

    values = np.array([5.0, 0.1, 0.0, -0.05, 9.95, -3.0])
    limits = (-4.0, 10.0)
    gap = 0.04 * (limits[1] - limits[0])
    heights = _spread_labels(values, limits)
    order = np.argsort(values)
    assert np.all(np.diff(heights[order]) >= gap - 1e-12)
    assert heights.max() <= limits[1] and heights.min() >= limits[0]
    np.testing.assert_array_equal(heights[[0, 5]], values[[0, 5]])  # room: not moved
    far = np.array([-3.0, 0.0, 3.0])
    np.testing.assert_array_equal(_spread_labels(far, limits), far)
