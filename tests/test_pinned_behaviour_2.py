"""Behaviours pinned by a second mutation-testing pass: each test fails on a plausible
bug (a "mutant" of the library) that no other test noticed. References are
scikit-learn, the optimality (KKT) conditions or exact formulas, never fastpen's own
past output."""
import math
import warnings

import numpy as np
import pytest
from sklearn import linear_model as sk
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold

import fastpen
from conftest import kkt_violation, make_problem


# --------------------------------------------------------------------------- LassoCV

def test_one_se_rule_with_zero_standard_error_takes_the_minimum():
    # two folds that are the same data: every alpha has the same error on both, the
    # standard error is 0 and the 1-SE alpha is the minimum itself (inclusive <=)
    X0, y0 = make_problem(seed=101, n_samples=30, n_features=20)
    X, y = np.asfortranarray(np.vstack([X0, X0])), np.concatenate([y0, y0])
    first, second = np.arange(30), np.arange(30, 60)
    folds = [(first, second), (second, first)]
    model = fastpen.LassoCV(cv=folds, alphas=10, alpha_rule="1se", tol=1e-10).fit(X, y)
    np.testing.assert_array_equal(model.mse_path_[:, 0], model.mse_path_[:, 1])
    assert model.alpha_ == model.alphas_[np.argmin(model.mse_path_.mean(axis=1))]


# wide: the refit is an ElasticNet fit; tall: it runs on the folds' shared Gram moments
SHAPES = pytest.mark.parametrize("shape", [(40, 60), (200, 10)], ids=["wide", "tall"])


@SHAPES
def test_elasticnetcv_refits_at_the_chosen_l1_ratio(shape):
    X, y = make_problem(*shape, seed=3)
    ratios = [0.1, 0.9]
    model = fastpen.ElasticNetCV(l1_ratio=ratios, alphas=20, tol=1e-10,
                                 cv=KFold(4, shuffle=True, random_state=0)).fit(X, y)
    assert model.l1_ratio_ != ratios[0]  # (else the test proves nothing)
    assert kkt_violation(X, y, model.coef_, model.intercept_, model.alpha_,
                         l1_ratio=model.l1_ratio_) <= 1e-6


@SHAPES
def test_lassocv_refit_keeps_the_positive_constraint(shape):
    X, y = make_problem(*shape, seed=3)
    y = y - X[:, 2]
    model = fastpen.LassoCV(positive=True, alphas=20, tol=1e-10,
                            cv=KFold(4, shuffle=True, random_state=0)).fit(X, y)
    free = fastpen.Lasso(alpha=model.alpha_, tol=1e-10).fit(X, y)
    assert free.coef_.min() < 0  # the constraint binds at alpha_
    assert model.coef_.min() >= 0
    assert kkt_violation(X, y, model.coef_, model.intercept_, model.alpha_,
                         lower=0.0) <= 1e-6


@SHAPES
def test_lassocv_grid_and_refit_use_the_penalty_factors(shape):
    X, y = make_problem(*shape, seed=5)
    pf = np.linspace(0.5, 2.0, X.shape[1])
    pf[1] = 0.0
    model = fastpen.LassoCV(penalty_factor=pf, alphas=10, tol=1e-10, cv=3).fit(X, y)
    # alpha_max: the largest |x_j^T yc| / (n pf_j) over the penalized features
    corr = (X - X.mean(axis=0)).T @ (y - y.mean()) / X.shape[0]
    penalized = pf > 0
    assert model.alphas_[0] == pytest.approx(
        np.max(np.abs(corr[penalized]) / pf[penalized]), rel=1e-10)
    assert kkt_violation(X, y, model.coef_, model.intercept_, model.alpha_,
                         penalty_factor=pf) <= 1e-6


def test_cv_grid_uses_eps():
    X, y = make_problem(seed=7)
    for eps in (1e-2, 1e-4):
        ours = fastpen.LassoCV(eps=eps, alphas=6, cv=3).fit(X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            theirs = sk.LassoCV(eps=eps, alphas=6, cv=3).fit(X, y)
        np.testing.assert_allclose(ours.alphas_, theirs.alphas_, rtol=1e-10)


def test_eps_message_is_sklearns():
    # the error names an open interval (0.0, inf) for eps, word for word as scikit-learn
    X, y = make_problem(seed=9)
    with pytest.raises(ValueError) as theirs:
        sk.LassoCV(eps=0.0).fit(X, y)
    with pytest.raises(ValueError) as ours:
        fastpen.LassoCV(eps=0.0).fit(X, y)
    assert str(ours.value) == str(theirs.value)


# ---------------------------------------------------------------------- paths, grids

def test_coef_init_is_the_start_of_the_path():
    # started at the optimum, one epoch certifies it; from zero it would not converge
    X, y = make_problem(seed=11)
    alpha = 0.02
    best = fastpen.Lasso(alpha=alpha, fit_intercept=False, tol=1e-12,
                         max_iter=100_000).fit(X, y).coef_
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        _, coefs, _ = fastpen.lasso_path(X, y, alphas=[alpha], coef_init=best, max_iter=1,
                                         tol=1e-6)
    np.testing.assert_allclose(coefs[:, 0], best, atol=1e-6)


def test_alpha_max_skips_unpenalized_features():
    # a feature with penalty factor 0 (here the most correlated one) does not set alpha_max
    X, y = make_problem(seed=13)
    corr = (X - X.mean(axis=0)).T @ (y - y.mean()) / X.shape[0]
    pf = np.ones(X.shape[1])
    pf[np.argmax(np.abs(corr))] = 0.0
    pf[-1] = 0.0  # and the constant column, whose centred correlation is 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no 0 / 0
        grid = fastpen.alpha_grid(X, y, penalty_factor=pf, n_alphas=4)
    assert grid[0] == pytest.approx(np.max(np.abs(corr[pf > 0])), rel=1e-10)


def test_lasso_path_positive_is_sklearns():
    X, y = make_problem(seed=15)
    y = y - X[:, 3]
    ours = fastpen.lasso_path(X, y, alphas=8, positive=True, tol=1e-10)
    theirs = sk.lasso_path(X, y, alphas=8, positive=True, tol=1e-10, max_iter=100_000)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10)
    assert ours[1].min() >= 0
    np.testing.assert_allclose(ours[1], theirs[1], atol=1e-6)


def test_constant_target_grid_is_sklearns():
    # alpha_max = 0: scikit-learn's grid is every alpha at float64's resolution (1e-15)
    X, _ = make_problem(seed=17)
    y = np.full(X.shape[0], 2.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = sk.LassoCV(alphas=4, cv=3).fit(X, y).alphas_
    np.testing.assert_array_equal(fastpen.alpha_grid(X, y, n_alphas=4), theirs)
    np.testing.assert_array_equal(fastpen.LassoCV(alphas=4, cv=3).fit(X, y).alphas_, theirs)


# ----------------------------------------------------------------- ElasticNet / Lasso

def test_without_warm_start_every_fit_starts_from_zero():
    # two unconverged fits of the same problem are the same iterate
    X, y = make_problem(seed=19)
    model = fastpen.Lasso(alpha=0.01, max_iter=2, tol=1e-14)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = model.fit(X, y).coef_.copy()
        second = model.fit(X, y).coef_
    np.testing.assert_array_equal(first, second)


def test_warm_start_leaves_the_previous_coef_array_alone():
    X, y = make_problem(seed=21)
    model = fastpen.Lasso(alpha=0.1, warm_start=True).fit(X, y)
    previous = model.coef_
    snapshot = previous.copy()
    model.set_params(alpha=0.01).fit(X, y)
    np.testing.assert_array_equal(previous, snapshot)
    assert not np.array_equal(model.coef_, snapshot)


def test_warm_start_with_fewer_features_starts_cold():
    X, y = make_problem(seed=23)
    model = fastpen.Lasso(alpha=0.01, warm_start=True, tol=1e-10).fit(X, y)
    model.fit(X[:, :10], y)
    assert model.coef_.shape == (10,)
    assert kkt_violation(X[:, :10], y, model.coef_, model.intercept_, 0.01) <= 1e-6


def test_multitarget_intercept_dtype_is_sklearns():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 4)).astype(np.float32)
    Y = rng.standard_normal((30, 2)).astype(np.float32)
    ours = fastpen.ElasticNet(alpha=0.1).fit(X, Y).intercept_
    theirs = sk.ElasticNet(alpha=0.1).fit(X, Y).intercept_
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape


def test_positive_tightens_negative_lower_bounds():
    # positive=True is a lower bound of 0: with lower_bounds=-1 given too, the tighter wins
    X, y = make_problem(seed=25)
    y = y - 2 * X[:, 4]
    model = fastpen.Lasso(alpha=0.01, positive=True, lower_bounds=-1.0, tol=1e-10).fit(X, y)
    assert model.coef_.min() >= 0
    assert kkt_violation(X, y, model.coef_, model.intercept_, 0.01, lower=0.0) <= 1e-6


def test_random_state_range_is_sklearns():
    X, y = make_problem(seed=27)
    for estimator in (sk.Lasso(random_state=2**32), fastpen.Lasso(random_state=2**32)):
        with pytest.raises(ValueError, match="random_state"):
            estimator.fit(X, y)
    fastpen.Lasso(random_state=2**32 - 1, selection="random").fit(X, y)


# ------------------------------------------------------------------ stability selection

def _shah_samworth(q, p, threshold, n_pairs):
    """min(worst case, unimodal) bound, eq. (8) of Shah & Samworth (2013)."""
    worst = q**2 / ((2 * threshold - 1) * p)
    theta = q / p
    if threshold > 0.75:
        c = 4 * (1 - threshold + 1 / (2 * n_pairs)) / (1 + 1 / n_pairs)
    elif threshold > min(0.5 + theta**2, 0.5 + 1 / (2 * n_pairs) + 0.75 * theta**2):
        c = 1 / (2 * (2 * threshold - 1 - 1 / (2 * n_pairs)))
    else:
        return worst
    return min(worst, c * q**2 / p)


def test_unimodal_bound_at_three_quarters_uses_the_first_branch():
    # the first constant holds on (lower end, 3/4], the second on (3/4, 1]
    q, p, n_pairs = 3.0, 100, 50
    expected = _shah_samworth(q, p, 0.75, n_pairs)
    assert expected == pytest.approx(q**2 / p / (2 * (0.5 - 1 / (2 * n_pairs))))
    from fastpen._stability import unimodal_bound

    assert unimodal_bound(q, p, 0.75, n_pairs) == pytest.approx(expected, rel=1e-12)


def test_false_selection_bound_counts_pairs():
    # B in Shah & Samworth's constants is the number of complementary pairs, n_resamples/2
    X, y = make_problem(seed=31, n_samples=60)
    selector = fastpen.StabilitySelection(n_resamples=4, alphas=10, max_selected=None,
                                          random_state=0).fit(X, y)
    q, p = selector.average_selected_, X.shape[1]
    for threshold in (0.6, 0.9):
        assert selector.false_selection_bound(threshold, assumption="unimodal") == \
            pytest.approx(_shah_samworth(q, p, threshold, 2), rel=1e-12)


@pytest.fixture
def recorded_rows(monkeypatch):
    """The rows of each subsample stability selection fits, as it draws them."""
    import fastpen._stability as stability

    seen = []
    original = stability._resample_chunk

    def recording(X, y, rows, *args, **kwargs):
        seen.append(np.array(rows))
        return original(X, y, rows, *args, **kwargs)

    monkeypatch.setattr(stability, "_resample_chunk", recording)
    return seen


def test_independent_subsamples_are_drawn_without_replacement(recorded_rows):
    seen = recorded_rows
    X, y = make_problem(seed=33, n_samples=50)
    fastpen.StabilitySelection(n_resamples=20, sample_fraction=0.8, alphas=3,
                               max_selected=None, random_state=0).fit(X, y)
    assert len(seen) == 20
    for rows in seen:
        assert rows.size == 40 and np.unique(rows).size == 40


def test_stability_grid_without_intercept_starts_at_the_uncentred_alpha_max():
    X, y = make_problem(seed=35, n_samples=60)
    selector = fastpen.StabilitySelection(n_resamples=2, alphas=4, max_selected=None,
                                          fit_intercept=False, random_state=0).fit(X, y)
    assert selector.alphas_[0] == pytest.approx(np.max(np.abs(X.T @ y)) / X.shape[0],
                                                rel=1e-10)


def test_stability_fits_are_the_elastic_net_of_l1_ratio(recorded_rows):
    # each subsample's selection at alpha is the support of its elastic net (l1_ratio as
    # given), here checked against scikit-learn's on the recorded subsamples
    seen = recorded_rows
    X, y = make_problem(seed=37, n_samples=60, n_features=15)
    selector = fastpen.StabilitySelection(n_resamples=2, alphas=6, l1_ratio=0.7,
                                          max_selected=None, tol=1e-12,
                                          random_state=0).fit(X, y)
    assert len(seen) == 2
    supports = []
    for rows in seen:
        Xs, ys = X[rows], y[rows]
        _, coefs, _ = sk.enet_path(Xs - Xs.mean(axis=0), ys - ys.mean(), l1_ratio=0.7,
                                   alphas=selector.alphas_, tol=1e-12, max_iter=100_000)
        supports.append(np.abs(coefs) > 1e-10)
    np.testing.assert_array_equal(selector.stability_scores_, np.mean(supports, axis=0))


def test_region_keeps_the_alpha_whose_average_equals_max_selected():
    # the region goes down the grid while the average selection is *at most* max_selected
    X, y = make_problem(seed=39, n_samples=60)
    params = dict(n_resamples=4, alphas=12, random_state=0)
    whole = fastpen.StabilitySelection(max_selected=None, **params).fit(X, y)
    capped = fastpen.StabilitySelection(max_selected=whole.average_selected_,
                                        **params).fit(X, y)
    np.testing.assert_array_equal(capped.alphas_, whole.alphas_)


def test_given_stability_alphas_are_sorted_decreasing():
    X, y = make_problem(seed=41, n_samples=60)
    params = dict(n_resamples=4, max_selected=None, random_state=0)
    shuffled = fastpen.StabilitySelection(alphas=[0.05, 0.5, 0.1, 1.0], **params).fit(X, y)
    ordered = fastpen.StabilitySelection(alphas=[1.0, 0.5, 0.1, 0.05], **params).fit(X, y)
    np.testing.assert_array_equal(shuffled.alphas_, [1.0, 0.5, 0.1, 0.05])
    np.testing.assert_array_equal(shuffled.stability_scores_, ordered.stability_scores_)


# ------------------------------------------------------------------------------ Ridge

@pytest.mark.parametrize("alphas", [[0.1, 1.0, 10.0], [10.0, 1.0, 0.1]])
def test_ridgecv_per_target_ties_take_the_first_alpha_as_sklearn(alphas):
    # constant columns: every alpha ties for every target; scikit-learn keeps the first
    rng = np.random.default_rng(0)
    X = np.ones((20, 3)) * [1.0, 2.0, 3.0]
    Y = rng.standard_normal((20, 2))
    ours = fastpen.RidgeCV(alphas=alphas, alpha_per_target=True).fit(X, Y)
    theirs = sk.RidgeCV(alphas=alphas, alpha_per_target=True).fit(X, Y)
    np.testing.assert_array_equal(ours.alpha_, theirs.alpha_)
    np.testing.assert_array_equal(ours.alpha_, [alphas[0]] * 2)


# -------------------------------------------------------------------------------- CLI

def _csv_problem(path, n_samples=80, seed=0):
    """y = 3 a - 2 b + noise; c, d, e are noise. Returns X, y as written."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.standard_normal((n_samples, 5)), columns=list("abcde"))
    frame["y"] = 3 * frame.a - 2 * frame.b + 0.5 * rng.standard_normal(n_samples)
    frame.to_csv(path, index=False)
    return frame[list("abcde")].to_numpy(), frame.y.to_numpy()


def test_cli_select_uses_eps(tmp_path):
    import json

    from fastpen._cli import main

    X, y = _csv_problem(tmp_path / "data.csv")
    out = tmp_path / "sel.json"
    assert main(["select", str(tmp_path / "data.csv"), "-t", "y", "--eps", "0.01",
                 "--n-alphas", "5", "--out", str(out), "-q"]) == 0
    report = json.loads(out.read_text())
    theirs = sk.LassoCV(eps=0.01, alphas=5, cv=KFold(5, shuffle=True, random_state=0)).fit(X, y)
    assert report["alpha"] != pytest.approx(theirs.alphas_[0])  # (else eps is moot)
    assert report["alpha"] == pytest.approx(theirs.alpha_, rel=1e-10)


def test_cli_stability_uses_weakness(tmp_path):
    import json

    from fastpen._cli import main

    X, y = _csv_problem(tmp_path / "data.csv", seed=1)
    out = tmp_path / "sel.json"
    assert main(["select", str(tmp_path / "data.csv"), "-t", "y", "--stability",
                 "--weakness", "0.3", "--n-resamples", "10", "--n-alphas", "10",
                 "--eps", "0.05", "--max-selected", "none", "--threshold", "0.6",
                 "--out", str(out), "-q"]) == 0
    report = json.loads(out.read_text())
    listed = {row["feature"]: (row["probability"], row["alpha"]) for row in report["selected"]}
    params = dict(alphas=10, eps=0.05, n_resamples=10, threshold=0.6, max_selected=None,
                  random_state=0)

    def rows(selector):
        # each selected feature: its probability and the largest alpha where its score
        # reaches the threshold
        reached = selector.stability_scores_ >= 0.6
        return {name: (p, selector.alphas_[np.argmax(reached[j])])
                for j, (name, p) in enumerate(zip("abcde", selector.selection_probabilities_))
                if p >= 0.6}

    weak = rows(fastpen.StabilitySelection(weakness=0.3, **params).fit(X, y))
    plain = rows(fastpen.StabilitySelection(**params).fit(X, y))
    assert weak != plain  # (else weakness is moot)
    assert set(listed) == set(weak)
    for name, (p, alpha) in weak.items():
        assert listed[name] == pytest.approx((p, alpha), rel=1e-5)


def test_cli_l1_ratio_zero_is_a_usage_error(tmp_path, capsys):
    # l1 ratios are in (0, 1]: 0 has no alpha grid, and argparse refuses it up front
    from fastpen._cli import EXIT_USAGE, main

    _csv_problem(tmp_path / "data.csv")
    with pytest.raises(SystemExit) as exit_:
        main(["select", str(tmp_path / "data.csv"), "-t", "y", "--l1-ratio", "0.5,0"])
    assert exit_.value.code == EXIT_USAGE
    assert "(0, 1]" in capsys.readouterr().err


def test_cli_fit_negative_show_lists_nothing(tmp_path, capsys):
    from fastpen._cli import main

    _csv_problem(tmp_path / "data.csv")
    outputs = []
    for show in ("0", "-2"):
        assert main(["fit", str(tmp_path / "data.csv"), "-t", "y", "--alpha", "0.01",
                     "--show", show]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    assert len(outputs[0].splitlines()) == 1  # the summary line, no coefficient table


# ------------------------------------------------------------------------------ plots

def test_plot_cv_band_is_one_standard_error():
    # the band is mean +- sample standard deviation (ddof=1) / sqrt(n_folds), the
    # standard error of the 1-SE rule
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = make_problem(seed=43)
    model = fastpen.LassoCV(cv=4, alphas=8).fit(X, y)
    ax = fastpen.plot_cv(model)
    mean = model.mse_path_.mean(axis=1)
    se = model.mse_path_.std(axis=1, ddof=1) / 2.0
    vertices = ax.collections[0].get_paths()[0].vertices
    for alpha, low, high in zip(model.alphas_, mean - se, mean + se):
        at = vertices[np.isclose(vertices[:, 0], alpha, rtol=1e-12), 1]
        assert np.any(np.isclose(at, high, rtol=1e-12)) and np.any(np.isclose(at, low, rtol=1e-12))
    plt.close(ax.figure)


def test_plot_path_labels_the_largest_final_coefficients():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = make_problem(seed=45, n_informative=10)
    alphas, coefs, _ = fastpen.lasso_path(X, y, alphas=10, fit_intercept=True)
    names = [f"f{j}" for j in range(X.shape[1])]
    ax = fastpen.plot_path(alphas, coefs, feature_names=names, n_labels=3)
    final = np.abs(coefs[:, -1])
    assert np.count_nonzero(final) > 3
    expected = {names[j] for j in np.argsort(-final)[:3]}
    assert {text.get_text() for text in ax.texts} == expected
    plt.close(ax.figure)
