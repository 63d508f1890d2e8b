"""Property-based: on any small problem, the returned coefficients satisfy KKT."""
import warnings

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

import fastpen
from conftest import kkt_violation


@st.composite
def problems(draw):
    n = draw(st.integers(2, 25))
    p = draw(st.integers(1, 15))
    # magnitudes in [1e-3, 10] or exact zeros: the degeneracy under test is structural
    # (zeros, repeats, constant columns); denormal scales make the optimum itself ~1e37
    values = st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=64).map(
        lambda v: 0.0 if abs(v) < 1e-3 else v)
    X = draw(arrays(np.float64, (n, p), elements=values))
    # many exact zeros, repeated and constant columns are where solvers break
    X[np.abs(X) < draw(st.floats(0, 5))] = 0.0
    y = draw(arrays(np.float64, (n,), elements=values))
    return X, y


@settings(max_examples=150, deadline=None)
@given(problem=problems(), alpha_fraction=st.floats(0.01, 1.2),
       l1_ratio=st.sampled_from([1.0, 0.7, 0.2]), fit_intercept=st.booleans(),
       sparse=st.booleans(), positive=st.booleans())
def test_kkt_holds_on_any_problem(problem, alpha_fraction, l1_ratio, fit_intercept, sparse,
                                  positive):
    X, y = problem
    n = X.shape[0]
    yc = y - y.mean() if fit_intercept else y
    Xc = X - X.mean(axis=0) if fit_intercept else X
    alpha_max = np.max(np.abs(Xc.T @ yc)) / (n * l1_ratio)
    if alpha_max == 0:
        alpha_max = 1.0
    alpha = alpha_fraction * alpha_max
    model = fastpen.ElasticNet(alpha=alpha, l1_ratio=l1_ratio, fit_intercept=fit_intercept,
                               positive=positive, tol=1e-12, max_iter=200_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(sp.csc_matrix(X) if sparse else np.asfortranarray(X), y)
    scale = max(1.0, np.abs(Xc).max() * np.abs(yc).max())
    assert kkt_violation(X, y, model.coef_, model.intercept_, alpha, l1_ratio,
                         lower=0.0 if positive else None) <= 1e-6 * scale
    if alpha_fraction >= 1.0 and not positive:
        assert np.all(model.coef_ == 0)  # above alpha_max nothing enters
