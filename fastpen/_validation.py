"""Input and parameter validation shared by every public entry point.

Errors mirror scikit-learn's wording so that code catching them keeps working.
"""
import numbers

import numpy as np
import scipy.sparse as sp


def _describe(value):
    return repr(value) if isinstance(value, str) else str(value)


def check_real(value, name, owner, *, low=None, high=None, low_open=False, allow_none=False):
    """Check that `value` is a real number in [low, high] (or (low, high] if low_open)."""
    if value is None and allow_none:
        return value
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
    if ok and not np.isfinite(value):
        # (scikit-learn's intervals hold finite numbers only: inf is no alpha or tol)
        ok = False
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        lo = "-inf" if low is None else float(low)
        hi = "inf" if high is None else float(high)
        left = "(" if low_open or low is None else "["
        right = "]" if high is not None else ")"
        raise ValueError(
            f"The {name!r} parameter of {owner} must be a float in the range "
            f"{left}{lo}, {hi}{right}. Got {_describe(value)} instead."
        )
    return value


def check_int(value, name, owner, *, low=None, allow_none=False):
    """Check that `value` is an integer >= low."""
    if value is None and allow_none:
        return value
    ok = isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))
    if ok and low is not None:
        ok = value >= low
    if not ok:
        limits = f" in the range [{low}, inf)" if low is not None else ""
        raise ValueError(
            f"The {name!r} parameter of {owner} must be an int{limits}"
            f"{' or None' if allow_none else ''}. Got {_describe(value)} instead."
        )
    return int(value)


def check_bool(value, name, owner):
    """Check that `value` is a boolean."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(
            f"The {name!r} parameter of {owner} must be an instance of 'bool'. "
            f"Got {_describe(value)} instead."
        )
    return bool(value)


def check_options(value, name, owner, options):
    """Check that `value` is one of the strings in `options`."""
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(o) for o in sorted(options))
        raise ValueError(
            f"The {name!r} parameter of {owner} must be a str among {{{listed}}}. "
            f"Got {_describe(value)} instead."
        )
    return value


def check_random_state_param(value, owner):
    """Check a random_state parameter (an int, a RandomState or None), as scikit-learn
    does whether or not the estimator's options use it."""
    if isinstance(value, bool) or not (
            value is None or isinstance(value, np.random.RandomState)
            or (isinstance(value, numbers.Integral) and 0 <= value < 2**32)):
        raise ValueError(
            f"The 'random_state' parameter of {owner} must be an int in the range "
            f"[0, 4294967295], a RandomState instance or None. Got {value!r} instead."
        )
    return value


def check_sample_weight(sample_weight, n_samples):
    """Validate sample weights and rescale them to sum to n_samples.

    Returns None for unit weights (None or a scalar, as scikit-learn does), otherwise a
    new contiguous float64 array, for float32 X too: the caller's array is never
    modified. The engines take the weights' sum for n_samples in their centring terms
    (n mean_j, 1^T S q / n), which multiply its error by the columns' squared means.
    Cast to float32, weights sum to n only to about 1e-7, and coordinate descent
    diverged on float32 columns of mean 1e3 with unequal weights; n_samples doubles
    are little beside X.
    """
    if sample_weight is None or isinstance(sample_weight, numbers.Number):
        return None
    try:
        sw = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"sample_weight must be numeric: {exc}") from None
    if sw.ndim != 1:
        raise ValueError("Sample weights must be 1D array or scalar")
    if sw.shape != (n_samples,):
        raise ValueError(
            f"sample_weight.shape == {sw.shape}, expected {(n_samples,)}!"
        )
    if not np.all(np.isfinite(sw)):
        raise ValueError("Input sample_weight contains NaN or infinity.")
    if np.any(sw < 0):
        raise ValueError("Negative values in data passed to `sample_weight`")
    if not np.any(sw > 0):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    with np.errstate(over="ignore"):
        total = sw.sum()
    if not np.isfinite(total):
        # weights near the float64 maximum: their sum overflowed, and would have
        # rescaled every weight to 0
        sw = sw / sw.max()
        total = sw.sum()
    return np.ascontiguousarray(sw * (n_samples / total), dtype=np.float64)


def check_feature_vector(values, name, n_features, *, default):
    """Broadcast a scalar or validate an array of shape (n_features,) as float64."""
    if values is None:
        return np.full(n_features, default, dtype=np.float64)
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if arr.ndim == 0:
        arr = np.full(n_features, float(arr), dtype=np.float64)
    if arr.shape != (n_features,):
        raise ValueError(
            f"{name} must be a scalar or have shape ({n_features},), got {arr.shape}."
        )
    if np.any(np.isnan(arr)):
        raise ValueError(f"{name} contains NaN.")
    return np.array(arr, dtype=np.float64)  # own copy: callers may edit it


def check_penalty_factor(penalty_factor, n_features):
    """Per-feature penalty weights: finite and >= 0 (0 leaves a feature unpenalized).

    A uniform one (None, every feature weighted 1, or a scalar) is a read-only view of
    one number, with no memory per feature: on wide data each float64 vector of
    n_features is a sizeable share of a fit's memory (see `penalty_bases`)."""
    uniform = penalty_factor is None or np.ndim(penalty_factor) == 0
    pf = check_feature_vector(
        1.0 if penalty_factor is None else penalty_factor, "penalty_factor", 1 if uniform
        else n_features, default=1.0)
    if not np.all(np.isfinite(pf)) or np.any(pf < 0):
        raise ValueError("penalty_factor must be finite and non-negative.")
    return np.broadcast_to(pf[0], (n_features,)) if uniform else pf


def check_bounds(lower_bounds, upper_bounds, positive, n_features):
    """Per-coefficient box [lower, upper] with lower <= 0 <= upper (glmnet's limits).

    Returns (lower, upper) float64 arrays, or (None, None) when there is no constraint.
    `positive=True` is the same as lower bounds of 0.
    """
    if lower_bounds is None and upper_bounds is None and not positive:
        return None, None
    lower = check_feature_vector(lower_bounds, "lower_bounds", n_features, default=-np.inf)
    upper = check_feature_vector(upper_bounds, "upper_bounds", n_features, default=np.inf)
    if np.any(lower > 0):
        raise ValueError("lower_bounds must be <= 0 (so that 0 is a feasible coefficient).")
    if np.any(upper < 0):
        raise ValueError("upper_bounds must be >= 0 (so that 0 is a feasible coefficient).")
    if positive:
        lower = np.maximum(lower, 0.0)
    return lower, upper


def design_arrays(X):
    """The arrays the engines read, without copying X.

    Parameters
    ----------
    X : Fortran-contiguous ndarray or CSC sparse matrix / array
        Already validated (float32 or float64).

    Returns
    -------
    data, indices, indptr, is_sparse
        For dense X, `data` is a 1-D view of the Fortran buffer and the index arrays are
        empty. For CSC, the index arrays share one integer type (int32 or int64).
    """
    if sp.issparse(X):
        if X.format != "csc":
            raise ValueError("sparse X must be in CSC format here")
        indices, indptr = matched_index_arrays(X.indices, X.indptr)
        return X.data, indices, indptr, True
    if not X.flags.f_contiguous:
        raise ValueError("dense X must be Fortran-contiguous here")
    empty = np.empty(0, dtype=np.int32)
    return X.reshape(-1, order="F"), empty, empty, False


def matched_index_arrays(indices, indptr):
    """(indices, indptr) of one integer type, which the engines take for both.

    indptr is only n_compressed + 1 long: it is converted to the type of indices where
    its values fit (a wider indices would be a copy of nnz entries, needed only past
    2^31)."""
    if indices.dtype == indptr.dtype:
        return indices, indptr
    if indptr.size == 0 or int(indptr[-1]) <= np.iinfo(indices.dtype).max:
        return indices, indptr.astype(indices.dtype)
    return indices.astype(indptr.dtype), indptr


def canonical_csc(X):
    """CSC with sorted, summed duplicates; copies only when X is not already so."""
    return canonical_sparse(X if X.format == "csc" else X.tocsc())


def canonical_sparse(X):
    """CSR or CSC X (other formats converted to CSR) with sorted indices and repeated
    entries summed, as scipy reads them; copies only when X is not already so."""
    if X.format not in ("csr", "csc"):
        X = X.tocsr()
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X
