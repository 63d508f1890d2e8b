"""Shared problem builders and independent (numpy) references for the tests."""
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def make_problem(n_samples=60, n_features=40, *, sparse=False, dtype=np.float64,
                 n_informative=5, seed=0, density=0.3):
    """Correlated regression problem; sparse X is CSC with lognormal entries."""
    rng = np.random.default_rng(seed)
    if sparse:
        base = sp.random(n_samples, n_features - 2, density=density, format="csc", rng=rng,
                         data_rvs=lambda k: rng.lognormal(size=k))
        shifted = sp.csc_matrix(3.0 + rng.random((n_samples, 1)))  # centring matters
        empty = sp.csc_matrix((n_samples, 1))  # a column with no entries
        X = sp.hstack([base, shifted, empty], format="csc").astype(dtype)
    else:
        Z = rng.standard_normal((n_samples, n_features))
        X = Z.copy()
        for j in range(1, n_features):
            X[:, j] = 0.5 * X[:, j - 1] + np.sqrt(0.75) * Z[:, j]
        X[:, 0] += 5.0  # a column far from centred
        X[:, -1] = 2.0  # constant: zero once centred
        X = np.asfortranarray(X, dtype=dtype)
    w = np.zeros(n_features)
    w[rng.choice(n_features, n_informative, replace=False)] = rng.standard_normal(n_informative) * 2
    y = np.asarray(X @ w).ravel() + 0.5 * rng.standard_normal(n_samples) + 1.5
    return X, y.astype(dtype)


def make_weights(n_samples, seed=1):
    rng = np.random.default_rng(seed)
    sw = rng.uniform(0.2, 3.0, n_samples)
    sw[::7] = 0.0  # zero weights must simply drop the sample
    return sw


def objective(X, y, coef, intercept, alpha, l1_ratio=1.0, sample_weight=None,
              penalty_factor=None):
    """scikit-learn's elastic-net objective, evaluated in float64."""
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X)
    Xd = Xd.astype(np.float64)
    coef = np.asarray(coef, dtype=np.float64)
    r = np.asarray(y, dtype=np.float64) - Xd @ coef - float(intercept)
    n = Xd.shape[0]
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float) * n / np.sum(sample_weight)
    pf = np.ones_like(coef) if penalty_factor is None else np.asarray(penalty_factor, float)
    penalty = alpha * np.sum(pf * (l1_ratio * np.abs(coef) + 0.5 * (1 - l1_ratio) * coef**2))
    return 0.5 * np.sum(s * r * r) / n + penalty


def centred_gradient(X, y, coef, intercept, sample_weight=None):
    """(1/n) X^T S r at (coef, intercept): minus the gradient of the data term."""
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X)
    Xd = Xd.astype(np.float64)
    n = Xd.shape[0]
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float) * n / np.sum(sample_weight)
    r = np.asarray(y, np.float64) - Xd @ np.asarray(coef, np.float64) - float(intercept)
    return Xd.T @ (s * r) / n


def kkt_violation(X, y, coef, intercept, alpha, l1_ratio=1.0, sample_weight=None,
                  penalty_factor=None, lower=None, upper=None):
    """Largest violation of the optimality conditions of the box-constrained elastic net."""
    coef = np.asarray(coef, np.float64)
    p = coef.shape[0]
    pf = np.ones(p) if penalty_factor is None else np.asarray(penalty_factor, float)
    lo = np.full(p, -np.inf) if lower is None else np.broadcast_to(lower, p)
    hi = np.full(p, np.inf) if upper is None else np.broadcast_to(upper, p)
    g = centred_gradient(X, y, coef, intercept, sample_weight) - alpha * pf * (1 - l1_ratio) * coef
    a = alpha * pf * l1_ratio
    viol = np.zeros(p)
    for j in range(p):
        w = coef[j]
        # subgradient condition g_j in a_j * sign(w_j) + normal cone of the box at w_j
        if w > 0:
            low_ok, high_ok = a[j], a[j] if w < hi[j] else np.inf
        elif w < 0:
            low_ok, high_ok = (-a[j] if w > lo[j] else -np.inf), -a[j]
        else:
            low_ok = -a[j] if lo[j] < 0 else -np.inf
            high_ok = a[j] if hi[j] > 0 else np.inf
        viol[j] = max(low_ok - g[j], g[j] - high_ok, 0.0)
        assert lo[j] - 1e-12 <= w <= hi[j] + 1e-12, "coefficient outside its bounds"
    return viol.max()


@pytest.fixture(scope="session")
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA
