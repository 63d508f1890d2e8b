"""LassoCV / ElasticNetCV: the same choice as scikit-learn on the same folds, and more."""
import warnings

import numpy as np
import pytest
from sklearn import linear_model as sk
from sklearn.model_selection import KFold
from sklearn.utils.estimator_checks import parametrize_with_checks

import fastpen
from conftest import make_problem, make_weights


# a tight tol: the sample-weight equivalence checks compare predictions to 1e-7, which
# two fits reach only when both are converged well beyond the default tol
@parametrize_with_checks([fastpen.LassoCV(cv=3, alphas=5, tol=1e-10),
                          fastpen.ElasticNetCV(cv=3, alphas=5, tol=1e-10)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
# tall: dense folds run on Gram matrices from shared moments (precompute='auto')
@pytest.mark.parametrize("shape", [(90, 40), (240, 12)], ids=["wide", "tall"])
def test_lassocv_chooses_sklearns_alpha(sparse, dtype, fit_intercept, weighted, shape):
    X, y = make_problem(sparse=sparse, dtype=dtype, seed=61, n_samples=shape[0],
                        n_features=shape[1])
    sw = make_weights(X.shape[0]) if weighted else None
    folds = KFold(4, shuffle=True, random_state=0)
    tol = 1e-8 if dtype == np.float64 else 1e-6  # what float32 can certify
    ours = fastpen.LassoCV(cv=folds, alphas=25, tol=tol, max_iter=100_000,
                           fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
    # reference: scikit-learn in float64 on the same data and grid (without an intercept
    # it leaves the weights out of its own grid, so the grid is passed)
    theirs = sk.LassoCV(cv=folds, alphas=ours.alphas_, tol=1e-8, max_iter=100_000,
                        fit_intercept=fit_intercept)
    theirs.fit(X.astype(np.float64), y.astype(np.float64), sample_weight=sw)
    if dtype == np.float64:
        assert ours.alpha_ == theirs.alpha_
        np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-5)
        np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-5, atol=1e-6)
    else:
        # float32 errors can swap near-tied neighbours: the choice must be as good
        mean = theirs.mse_path_.mean(axis=1)
        chosen = np.flatnonzero(np.isclose(theirs.alphas_, ours.alpha_))[0]
        assert mean[chosen] <= mean.min() * (1 + 1e-3)
        # tall: coordinate descent on a float32 Gram matrix certifies a gap of about
        # 64 eps ||y||^2 (its residual norm is a difference of such terms)
        rtol = 3e-3 if shape[0] > 2 * shape[1] else 1e-3
        np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=rtol)
    assert not hasattr(ours, "l1_ratio_")


def test_elasticnetcv_chooses_sklearns_alpha_and_l1_ratio():
    X, y = make_problem(seed=62, n_samples=100)
    folds = KFold(5, shuffle=True, random_state=1)
    ours = fastpen.ElasticNetCV(l1_ratio=[0.2, 0.6, 1.0], cv=folds, alphas=20, tol=1e-8,
                                max_iter=100_000).fit(X, y)
    theirs = sk.ElasticNetCV(l1_ratio=[0.2, 0.6, 1.0], cv=folds, alphas=20, tol=1e-8,
                             max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(ours.alphas_, theirs.alphas_)
    assert (ours.alpha_, ours.l1_ratio_) == (theirs.alpha_, theirs.l1_ratio_)
    assert ours.mse_path_.shape == theirs.mse_path_.shape == (3, 20, 5)
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-5)


def test_threads_and_serial_agree():
    X, y = make_problem(seed=63, n_samples=120, sparse=True)
    serial = fastpen.LassoCV(cv=4, alphas=20, n_jobs=1).fit(X, y)
    threaded = fastpen.LassoCV(cv=4, alphas=20, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(serial.mse_path_, threaded.mse_path_)
    np.testing.assert_array_equal(serial.coef_, threaded.coef_)


def test_one_standard_error_rule():
    X, y = make_problem(seed=64, n_samples=120)
    folds = KFold(5, shuffle=True, random_state=2)
    best = fastpen.LassoCV(cv=folds, alphas=30).fit(X, y)
    sparse_choice = fastpen.LassoCV(cv=folds, alphas=30, alpha_rule="1se").fit(X, y)
    mean = best.mse_path_.mean(axis=1)
    i_min = np.argmin(mean)
    se = best.mse_path_[i_min].std(ddof=1) / np.sqrt(5)
    chosen = np.flatnonzero(best.alphas_ == sparse_choice.alpha_)[0]
    assert sparse_choice.alpha_ >= best.alpha_
    assert mean[chosen] <= mean[i_min] + se
    assert chosen == 0 or mean[chosen - 1] > mean[i_min] + se  # the largest such alpha
    assert np.count_nonzero(sparse_choice.coef_) <= np.count_nonzero(best.coef_)


def test_store_path_keeps_each_fold():
    X, y = make_problem(seed=65, n_samples=80)
    folds = list(KFold(4).split(X))
    model = fastpen.LassoCV(cv=folds, alphas=10, store_path=True, tol=1e-10).fit(X, y)
    assert model.coef_path_.shape == (1, 4, X.shape[1], 10)
    assert model.intercept_path_.shape == (1, 4, 10)
    train, _ = folds[2]
    reference = fastpen.Lasso(alpha=model.alphas_[6], tol=1e-10).fit(X[train], y[train])
    np.testing.assert_allclose(model.coef_path_[0, 2, :, 6], reference.coef_, atol=1e-7)
    assert model.intercept_path_[0, 2, 6] == pytest.approx(reference.intercept_, abs=1e-7)


def test_penalty_factor_reaches_the_folds():
    X, y = make_problem(seed=66, n_samples=80)
    pf = np.ones(X.shape[1])
    pf[:3] = 0.0
    model = fastpen.LassoCV(cv=3, alphas=10, penalty_factor=pf).fit(X, y)
    assert np.all(model.coef_[:3] != 0)  # unpenalized features are never zeroed


def test_bad_parameters():
    X, y = make_problem(seed=67)
    with pytest.raises(ValueError, match="alpha_rule"):
        fastpen.LassoCV(alpha_rule="max").fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio"):
        fastpen.ElasticNetCV(l1_ratio=[0.5, 2.0]).fit(X, y)
    with pytest.raises(ValueError, match="alphas"):
        fastpen.LassoCV(alphas=[-1.0, 1.0]).fit(X, y)
    with pytest.raises(ValueError, match="multi-task|MultiTask"):
        fastpen.LassoCV().fit(X, np.column_stack([y, y]))
    with pytest.raises(ValueError, match="eps"):
        fastpen.LassoCV(eps=np.inf).fit(X, y)
    # a test fold of zero total weight has no mean squared error (its NaN had chosen
    # the largest alpha, and a model of zeros)
    weights = np.ones(X.shape[0])
    weights[:X.shape[0] // 3] = 0.0
    with pytest.raises(ValueError, match="test fold 0"):
        fastpen.LassoCV(cv=KFold(3)).fit(X, y, sample_weight=weights)


def test_given_alphas_are_one_grid_for_every_l1_ratio():
    """scikit-learn's alphas_ is the given grid (n_alphas,), whatever the l1_ratios;
    a grid it makes has one row per l1_ratio."""
    X, y = make_problem(seed=68)
    given = fastpen.ElasticNetCV(l1_ratio=[0.2, 0.8], alphas=[0.01, 1.0, 0.1]).fit(X, y)
    np.testing.assert_array_equal(given.alphas_, [1.0, 0.1, 0.01])
    made = fastpen.ElasticNetCV(l1_ratio=[0.2, 0.8], alphas=5).fit(X, y)
    assert made.alphas_.shape == (2, 5)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_gram_folds_match_copied_folds(dtype, fit_intercept, weighted):
    # the fold's Gram matrix from the whole data's moments minus the held-out rows'
    # must give the fold's own fit, shuffled folds (rows out of order) included
    X, y = make_problem(seed=66, n_samples=300, n_features=15, dtype=dtype)
    X[:, 3] += 50.0  # a large mean: centring by moments must not lose it
    sw = make_weights(X.shape[0]) if weighted else None
    folds = KFold(5, shuffle=True, random_state=3)
    tol = 1e-10 if dtype == np.float64 else 1e-6
    fits = [fastpen.LassoCV(cv=folds, alphas=15, tol=tol, precompute=precompute,
                            fit_intercept=fit_intercept, max_iter=100_000)
            .fit(X, y, sample_weight=sw) for precompute in ("auto", False)]
    # float32: a float32 Gram matrix certifies a gap of about 64 eps ||y||^2 only
    rtol = 1e-7 if dtype == np.float64 else 1e-2
    np.testing.assert_allclose(fits[0].mse_path_, fits[1].mse_path_, rtol=rtol)
    # the grids come from two computations of X^T y: equal up to rounding
    np.testing.assert_allclose(fits[0].alphas_, fits[1].alphas_, rtol=1e-6)
    assert np.argmin(fits[0].mse_path_.mean(axis=1)) == np.argmin(fits[1].mse_path_.mean(axis=1))


def test_gram_folds_with_overlapping_held_out_sets():
    # ShuffleSplit's held-out sets do not partition the rows: the whole moments are then
    # computed by row blocks, and each fold subtracts its own held-out moments
    from sklearn.model_selection import ShuffleSplit
    X, y = make_problem(seed=67, n_samples=300, n_features=15)
    folds = ShuffleSplit(4, test_size=0.3, random_state=0)
    fits = [fastpen.LassoCV(cv=folds, alphas=15, tol=1e-10, precompute=precompute,
                            max_iter=100_000).fit(X, y) for precompute in ("auto", False)]
    np.testing.assert_allclose(fits[0].mse_path_, fits[1].mse_path_, rtol=1e-7)
    np.testing.assert_allclose(fits[0].coef_, fits[1].coef_, rtol=1e-7, atol=1e-9)
    assert fits[0].alpha_ == fits[1].alpha_


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_prediction_batches_end_at_their_byte_budget(monkeypatch, sparse, dtype):
    """Held-out predictions wait in batches of alphas; a batch whose supports would
    pass _PREDICTION_BYTES ends early. Batching changes when the predictions are
    made, not what they are."""
    from fastpen import _cv
    from fastpen._engine import HeldOutRows
    X, y = make_problem(sparse=sparse, dtype=dtype, seed=62, n_samples=60,
                        n_features=150)
    widths = []
    predict = HeldOutRows.predict

    def recorded(self, support, values):
        widths.append(values.shape[1])
        return predict(self, support, values)

    monkeypatch.setattr(HeldOutRows, "predict", recorded)
    default = fastpen.LassoCV(cv=3, alphas=30, tol=1e-8).fit(X, y)
    assert max(widths) > 1
    widths.clear()
    # one nonzero coefficient already passes one byte: each alpha is predicted alone,
    # but for an empty support (alpha_max's, on most folds), which waits for the next
    monkeypatch.setattr(_cv, "_PREDICTION_BYTES", 1)
    tight = fastpen.LassoCV(cv=3, alphas=30, tol=1e-8).fit(X, y)
    assert len(widths) >= 3 * 29 and max(widths) <= 2
    np.testing.assert_allclose(tight.mse_path_, default.mse_path_,
                               rtol=1e-5 if dtype == np.float32 else 1e-12)
    assert tight.alpha_ == default.alpha_


def _bootstrap_splits(n, seed):
    rng = np.random.default_rng(seed)
    # training rows drawn with replacement, held-out rows that repeat some
    return [(rng.integers(0, n, n), np.r_[np.arange(k, k + n // 4), np.arange(k, k + 5)])
            for k in (0, n // 2)]


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "sparse"])
@pytest.mark.parametrize("precompute", ["auto", False])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("splits", ["time-series", "partial-shuffle", "bootstrap", "overlap"])
def test_splits_that_are_not_partitions(sparse, precompute, weighted, splits):
    """A fold trains on its `train` rows, as X[train] does: not on all the rows outside
    its held-out set (time series, shuffle splits with train_size + test_size < 1),
    with repeated rows counted as often as they appear (bootstrap), even when the
    held-out rows are trained on too. (The tall dense case runs on shared moments.)"""
    from sklearn.model_selection import ShuffleSplit, TimeSeriesSplit
    X, y = make_problem(sparse=sparse, dtype=np.float64, seed=62, n_samples=240,
                        n_features=8)
    y[180:] = 0.0  # the last rows differ: training on them changes the errors
    n = X.shape[0]
    cv = {"time-series": TimeSeriesSplit(3),
          "partial-shuffle": ShuffleSplit(3, train_size=0.3, test_size=0.2, random_state=0),
          "bootstrap": _bootstrap_splits(n, 0),
          "overlap": [(np.arange(n), np.arange(0, n, 3)), (np.arange(n // 2), np.arange(n))],
          }[splits]
    if not isinstance(cv, list):
        cv = list(cv.split(X))
    sw = make_weights(n) if weighted else None
    alphas = np.geomspace(0.5, 0.005, 6)
    ours = fastpen.LassoCV(cv=cv, alphas=alphas, precompute=precompute, tol=1e-10,
                           max_iter=100_000).fit(X, y, sample_weight=sw)
    theirs = sk.LassoCV(cv=cv, alphas=alphas, tol=1e-10, max_iter=100_000).fit(
        X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.mse_path_, theirs.mse_path_, rtol=1e-6)
    assert ours.alpha_ == pytest.approx(theirs.alpha_)


def test_one_se_rule_needs_two_splits():
    X, y = make_problem(sparse=False, dtype=np.float64, seed=63, n_samples=60,
                        n_features=8)
    one_split = [(np.arange(40), np.arange(40, 60))]
    with pytest.raises(ValueError, match="alpha_rule='1se'.*at least 2"):
        fastpen.LassoCV(alpha_rule="1se", cv=one_split).fit(X, y)
    fastpen.LassoCV(alpha_rule="min", cv=one_split).fit(X, y)


def test_groups_are_routed_to_the_splitter():
    """With metadata routing on, a Pipeline or cross_validate routes `groups` to the
    CV splitter, as for scikit-learn's LassoCV; without it, fit takes them directly."""
    import sklearn
    from sklearn.model_selection import GroupKFold, cross_validate
    from sklearn.pipeline import Pipeline

    X, y = make_problem(sparse=False, dtype=np.float64, seed=64, n_samples=120,
                        n_features=6)
    groups = np.arange(120) % 6
    direct = fastpen.LassoCV(cv=GroupKFold(3), tol=1e-10).fit(X, y, groups=groups)
    with sklearn.config_context(enable_metadata_routing=True):
        ours = Pipeline([("m", fastpen.LassoCV(cv=GroupKFold(3), tol=1e-10))]).fit(
            X, y, groups=groups)
        theirs = Pipeline([("m", sk.LassoCV(cv=GroupKFold(3), tol=1e-10))]).fit(
            X, y, groups=groups)
        scores = cross_validate(fastpen.LassoCV(cv=GroupKFold(3)), X, y,
                                params={"groups": groups}, cv=GroupKFold(2))
    assert ours[-1].alpha_ == pytest.approx(theirs[-1].alpha_)
    assert direct.alpha_ == ours[-1].alpha_
    assert np.all(np.isfinite(scores["test_score"]))


@pytest.mark.parametrize("params, name", [
    (dict(n_jobs=2.5), "n_jobs"), (dict(copy_X=1), "copy_X"),
    (dict(precompute="x"), "precompute"), (dict(verbose="x"), "verbose"),
    (dict(l1_ratio="a"), "l1_ratio"), (dict(l1_ratio=[]), "l1_ratio"),
    (dict(alphas="x"), "alphas"),
])
def test_cv_parameters_are_validated(params, name):
    X, y = make_problem(sparse=False, dtype=np.float64, seed=65, n_samples=40,
                        n_features=5)
    with pytest.raises(ValueError, match=f"'{name}' parameter of ElasticNetCV"):
        fastpen.ElasticNetCV(cv=3, **params).fit(X, y)


@pytest.mark.parametrize("precompute", ["auto", False])
def test_refit_at_alpha_zero_warns(precompute):
    """alpha_ = 0 refits as Lasso(alpha=0) does: with scikit-learn's warning, whether
    the refit runs on the folds' shared Gram matrix (tall dense X) or on X."""
    X, y = make_problem(sparse=False, dtype=np.float64, seed=66, n_samples=120,
                        n_features=5)
    with pytest.warns(UserWarning, match="alpha=0"):
        model = fastpen.LassoCV(alphas=[0.0], cv=3, precompute=precompute).fit(X, y)
    assert model.alpha_ == 0.0


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_a_given_gram_matrix_warns_that_folds_compute_their_own(fit_intercept):
    X, y = make_problem(sparse=False, dtype=np.float64, seed=67, n_samples=80,
                        n_features=5)
    with pytest.warns(UserWarning, match="Gram matrix"):
        given = fastpen.LassoCV(cv=3, precompute=X.T @ X, fit_intercept=fit_intercept,
                                tol=1e-10).fit(X, y)
    computed = fastpen.LassoCV(cv=3, precompute=True, fit_intercept=fit_intercept,
                               tol=1e-10).fit(X, y)
    assert given.alpha_ == pytest.approx(computed.alpha_, rel=1e-12)


_INTERRUPTED_FOLDS = """
import signal, sys, threading, time, warnings
signal.signal(signal.SIGINT, signal.default_int_handler)
warnings.simplefilter("ignore")
import numpy as np
from fastpen import LassoCV
rng = np.random.default_rng(0)
X = np.asfortranarray(rng.standard_normal((2000, 3000)))
y = X[:, :20].sum(axis=1) + rng.standard_normal(2000)
threading.Timer(1.0, signal.pthread_kill,
                (threading.main_thread().ident, signal.SIGINT)).start()
try:
    LassoCV(cv=3, tol=1e-12, max_iter=100000, n_jobs=2).fit(X, y)
    print("finished")
except KeyboardInterrupt:
    start = time.perf_counter()
    while threading.active_count() > 1 and time.perf_counter() - start < 60:
        time.sleep(0.01)
    print(time.perf_counter() - start)
"""


def test_ctrl_c_stops_the_folds_running_in_worker_threads():
    """A signal reaches only the main thread: after Ctrl-C, LassoCV(n_jobs=2)'s folds
    had run on in their worker threads until their paths ended (6 s here). They now
    stop at their next interrupt check."""
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-c", _INTERRUPTED_FOLDS],
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() != "finished", "the fit ended before the interrupt"
    assert float(result.stdout.strip()) < 2.0, result.stdout + result.stderr


def test_a_cancelled_call_leaves_other_calls_running():
    """A Ctrl-C cancels its own call's tasks only: a cancellation count shared by all
    had made a LassoCV running in another thread read its folds as cancelled
    (TypeError), and stopped unrelated fits."""
    import threading
    import time
    from fastpen._engine import cancel_workers_on_interrupt
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2000))
    y = X[:, :30] @ rng.standard_normal(30) + rng.standard_normal(200)
    expected = fastpen.LassoCV(cv=5, tol=1e-8).fit(X, y)
    outcome = {}

    def fit():
        try:
            outcome["model"] = fastpen.LassoCV(cv=5, tol=1e-8, n_jobs=2).fit(X, y)
        except BaseException as error:  # noqa: BLE001 (the test reports it)
            outcome["error"] = repr(error)

    thread = threading.Thread(target=fit)
    thread.start()
    time.sleep(0.2)
    with pytest.raises(KeyboardInterrupt):
        with cancel_workers_on_interrupt():
            raise KeyboardInterrupt
    thread.join()
    assert "error" not in outcome, outcome.get("error")
    np.testing.assert_allclose(outcome["model"].mse_path_, expected.mse_path_, rtol=1e-10)
