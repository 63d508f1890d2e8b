"""``python -m fastpen demo``: fastpen's Lasso next to scikit-learn's on two problems."""
import time
import warnings

import numpy as np


def _objective(X, y, model, alpha):
    r = y - X @ model.coef_ - model.intercept_
    return 0.5 * float(r @ r) / X.shape[0] + alpha * float(np.abs(model.coef_).sum())


def _best_time(fit, repeats=3):
    best, model = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        model = fit()
        best = min(best, time.perf_counter() - start)
    return best, model


def _compare(title, X, y, alpha, feature_names, tol=1e-6):
    from sklearn.linear_model import Lasso as SklearnLasso

    from . import Lasso

    print(f"\n{title}: n_samples={X.shape[0]}, n_features={X.shape[1]}, "
          f"alpha={alpha:.4g}, tol={tol:g} (same duality-gap rule for both)")
    rows = []
    for name, cls in (("fastpen", Lasso), ("scikit-learn", SklearnLasso)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a demo that did not converge is no demo
            seconds, model = _best_time(lambda: cls(alpha=alpha, tol=tol, max_iter=100_000).fit(X, y))
        rows.append((name, seconds, _objective(X, y, model, alpha), model))
    print(f"  {'solver':<13}{'time (ms)':>10}{'objective':>22}{'nonzeros':>10}")
    for name, seconds, obj, model in rows:
        print(f"  {name:<13}{1e3 * seconds:>10.2f}{obj:>22.12f}{np.count_nonzero(model.coef_):>10d}")
    ours, theirs = rows[0], rows[1]
    print(f"  speed-up: {theirs[1] / ours[1]:.1f}x; objective difference: {ours[2] - theirs[2]:+.2e}")
    selected = np.flatnonzero(ours[3].coef_)
    shown = ", ".join(f"{feature_names[j]} ({ours[3].coef_[j]:+.3g})" for j in selected[:12])
    more = f" ... and {len(selected) - 12} more" if len(selected) > 12 else ""
    print(f"  selected by fastpen: {shown}{more}")
    same = set(selected) == set(np.flatnonzero(theirs[3].coef_))
    print(f"  same support as scikit-learn: {'yes' if same else 'no'}")


def run_demo():
    """Fit Lasso on scikit-learn's diabetes data and on a generated p >> n problem."""
    from sklearn.datasets import load_diabetes

    from . import Lasso

    data = load_diabetes()
    X, y = np.asfortranarray(data.data), data.target
    alpha_max = np.max(np.abs(X.T @ (y - y.mean()))) / X.shape[0]
    _compare("Diabetes (scikit-learn's bundled data)", X, y, alpha_max / 100, data.feature_names)

    rng = np.random.default_rng(0)
    n, p, k = 200, 5000, 20
    Z = rng.standard_normal((n, p))
    X = Z.copy()
    for j in range(1, p):  # AR(1) correlation between neighbouring features
        X[:, j] = 0.5 * X[:, j - 1] + np.sqrt(0.75) * Z[:, j]
    X = np.asfortranarray(X)
    w = np.zeros(p)
    w[rng.choice(p, k, replace=False)] = rng.standard_normal(k)
    signal = X @ w
    y = signal + rng.standard_normal(n) * np.std(signal) / 3
    alpha_max = np.max(np.abs(X.T @ (y - y.mean()))) / n
    names = [f"x{j}" for j in range(p)]
    _compare("Generated p >> n (AR(1) rho=0.5, 20 true features)", X, y, alpha_max / 10, names)
    model = Lasso(alpha=alpha_max / 10, tol=1e-6).fit(X, y)
    found = np.intersect1d(np.flatnonzero(model.coef_), np.flatnonzero(w))
    print(f"  true features recovered by fastpen: {len(found)} of {k}")
