"""Ridge, RidgeCV and ridge_path: drop-ins for scikit-learn's, without copying X.

Every solver works on the centred, weighted design ``Z = S^{1/2} (X - 1 xbar^T)`` and the
centred, weighted targets ``t = S^{1/2} (y - ybar)``, where ``S = diag(s)`` holds the raw
sample weights and ``xbar``, ``ybar`` are the s-weighted means (zero without an
intercept). Ridge is then ``min_w ||t - Z w||^2 + alpha ||w||^2`` with the intercept
``ybar - xbar^T w``. Z is never formed: it is applied through products with X, and the
Gram matrix ``Z^T Z`` (p x p) or the kernel ``Z Z^T`` (n x n) is built from X by BLAS on
bounded chunks of rows or columns, with the centring applied either inside the chunk or as
a rank-one correction.
"""
import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, MultiOutputMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv
from sklearn.utils import check_array
from sklearn.utils.metadata_routing import (
    MetadataRouter, MethodMapping, _routing_enabled, process_routing,
)
from sklearn.utils.validation import validate_data

from ._elastic_net import linear_predict
from ._design import cholesky_lower, cholesky_solve, symmetric_eigh
from ._engine import (
    CHUNK, Design, centred_rows_gram, compressed_blocks, minor_blocks, mixed_budget,
    _UNINTERRUPTED_PRODUCT, solve_enet, sparse_gram, subtract_outer,
)
from ._validation import (
    canonical_csc,
    canonical_sparse,
    check_bool,
    check_int,
    check_options,
    check_random_state_param,
    check_real,
    check_sample_weight,
)

SOLVERS = ("auto", "cholesky", "svd", "cg", "cd", "fista")
# scikit-learn's iterative solvers, taken by the fastpen solver that plays their part
# (the same solution: they solve the same strictly convex problem)
_SKLEARN_SOLVERS = {"sparse_cg": "cg", "lsqr": "cg", "sag": "cg", "saga": "cg",
                    "lbfgs": "cd"}
_EXACT = ("cholesky", "svd")

# The iterative solvers certify ||coef - exact|| <= _CERTIFY * tol * ||coef||. scikit-learn's
# iterative ridge solvers read tol as a relative residual, whose coefficient error is
# typically 1e-4 to 1e-5 at the default tol=1e-4. Certifying the error itself an order
# below tol makes the default certify 1e-5; the bounds are conservative (by 2x to 100x
# on the bench problems), so the coefficients typically match the exact ones to ~1e-6.
_CERTIFY = 1e-1

# Dense p x p or n x n matrices above this size are not formed by solver="auto"
# (sparse X then uses conjugate gradients) or by RidgeCV(cv=K).
_MAX_DENSE_BYTES = 2**30

# With the rank-one centring X^T X - n xbar xbar^T, an entry loses about
# log10(raw / centred) digits to cancellation; above this ratio the Gram matrix (or
# kernel) is rebuilt from explicitly centred chunks instead.
_CANCELLATION_LIMIT = 1e4
# Sparse X made dense for its centring costs far more: from float64 sums, only where
# half their digits cancel.
_SPARSE_CANCELLATION_LIMIT = 1e8


# ---------------------------------------------------------------------------------------
# validation


def _validate_X_y(estimator, X, y, *, reset=True):
    """Validate X and y without copying X where it is usable as it is.

    Dense X is used in C or Fortran order (a copy only for non-contiguous, integer or
    object input); CSR and CSC matrices are used as they are, other sparse formats are
    converted once to CSR. y is cast to the dtype of X (it is small).
    """
    X, y = validate_data(
        estimator, X, y, reset=reset, accept_sparse=["csr", "csc", "coo"],
        accept_large_sparse=True, dtype=[np.float64, np.float32], copy=False,
        multi_output=True, y_numeric=True,
    )
    if sp.issparse(X):
        X = canonical_sparse(X)
    elif not (X.flags.c_contiguous or X.flags.f_contiguous):
        X = np.asfortranarray(X)
    y = check_array(y, dtype=X.dtype.type, ensure_2d=False, copy=False)
    return X, y


def _raw_sample_weight(sample_weight, n_samples):
    """Validated sample weights as a new float64 array, not rescaled (None = unit weights).

    Ridge's objective uses the weights as given (scaling them all by k is the same as
    dividing alpha by k), so a scalar weight is a weight for every sample, as in
    scikit-learn's Ridge.
    """
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number) and not isinstance(sample_weight, bool):
        value = float(sample_weight)
        if not np.isfinite(value):
            raise ValueError("Input sample_weight contains NaN or infinity.")
        if value < 0:
            raise ValueError("Negative values in data passed to `sample_weight`")
        if value == 0:
            raise ValueError("Sample weights must contain at least one non-zero number.")
        return np.full(n_samples, value)
    check_sample_weight(sample_weight, n_samples)  # raises on bad weights
    return np.array(sample_weight, dtype=np.float64).reshape(n_samples)


def _target_alphas(alpha, n_targets, owner):
    """alpha as a float64 array of shape (n_targets,): a scalar or one value per target."""
    if isinstance(alpha, numbers.Real) and not isinstance(alpha, (bool, np.bool_)):
        check_real(alpha, "alpha", owner, low=0)
        values = np.full(n_targets, float(alpha))
    else:
        try:
            values = np.asarray(alpha, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"The 'alpha' parameter of {owner} must be a float in the range [0.0, inf) "
                f"or an array-like of such floats. Got {alpha!r} instead."
            ) from None
        if values.ndim > 1 or values.size == 0:
            raise ValueError(
                f"The 'alpha' parameter of {owner} must be a scalar or a 1-D array of "
                f"one value per target. Got shape {values.shape}."
            )
        values = values.reshape(-1)
        if values.size not in (1, n_targets):
            raise ValueError(
                "Number of targets and number of penalties do not correspond: "
                f"{values.size} != {n_targets} (the 'alpha' parameter of {owner})."
            )
        if np.any(np.isnan(values)) or np.any(values < 0):
            raise ValueError(
                f"The 'alpha' parameter of {owner} must contain floats in the range "
                f"[0.0, inf). Got {alpha!r} instead."
            )
        values = np.broadcast_to(values, (n_targets,)).copy()
    if not np.all(np.isfinite(values)):
        raise ValueError(f"The 'alpha' parameter of {owner} must be finite.")
    return values


def _check_alpha_grid(alphas, owner, *, strictly_positive):
    """The RidgeCV grid as a float64 array; scikit-learn's rules (alpha > 0 for LOO)."""
    if isinstance(alphas, numbers.Real) and not isinstance(alphas, (bool, np.bool_)):
        grid = np.array([float(alphas)])
    else:
        try:
            grid = np.asarray(alphas, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise ValueError(
                f"The 'alphas' parameter of {owner} must be an array-like of floats or a "
                f"float. Got {alphas!r} instead."
            ) from None
    if grid.size == 0:
        raise ValueError(f"The 'alphas' parameter of {owner} must not be empty.")
    low = "(0.0, inf)" if strictly_positive else "[0.0, inf)"
    bad = ~np.isfinite(grid) | ((grid <= 0) if strictly_positive else (grid < 0))
    if np.any(bad):
        index = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"The 'alphas' parameter of {owner} must contain finite floats in the range "
            f"{low}{' (leave-one-out needs alpha > 0)' if strictly_positive else ''}. "
            f"Got alphas[{index}] = {grid[index]!r}."
        )
    return grid


# ---------------------------------------------------------------------------------------
# the centred, weighted design


def _row_steps(n_rows, n_cols):
    step = max(1, CHUNK // max(n_cols, 1))
    for start in range(0, n_rows, step):
        yield start, min(start + step, n_rows)


def _squared_blocks(X):
    """Blocks of X (see compressed_blocks) with their values squared, in float64."""
    for start, stop, block in compressed_blocks(X):
        data = block.data.astype(np.float64)
        data *= data
        kind = sp.csc_matrix if X.format == "csc" else sp.csr_matrix
        yield start, stop, kind((data, block.indices, block.indptr), shape=block.shape)


def _sparse_row_sq_sums(X):
    """sum_j X_ij^2 for CSR or CSC X, in float64, with bounded temporaries (as sparse
    products with a vector of ones: faster than bincount)."""
    n, p = X.shape
    out = np.zeros(n)
    for start, stop, squared in _squared_blocks(X):
        if X.format == "csc":
            out += squared @ np.ones(stop - start)
        else:
            out[start:stop] = squared @ np.ones(p)
    return out


def _sparse_col_sq_sums(X, weights):
    """sum_i s_i X_ij^2 for CSR or CSC X, in float64, with bounded temporaries."""
    n, p = X.shape
    s = np.ones(n) if weights is None else weights
    out = np.zeros(p)
    for start, stop, squared in _squared_blocks(X):
        if X.format == "csc":
            out[start:stop] = squared.T @ s
        else:
            out += squared.T @ s[start:stop]
    return out


def _sparse_times(X, v):
    """X v in float64 for a sparse X and v of shape (p,) or (p, k); float32 X's blocks
    are converted one at a time (scipy's product with a float64 v would convert all of
    X at once)."""
    if X.dtype == np.float64:
        return X @ v
    out = np.zeros((X.shape[0],) + np.shape(v)[1:])
    for start, stop, block in compressed_blocks(X):
        block = block.astype(np.float64)
        if X.format == "csc":
            out += block @ v[start:stop]
        else:
            out[start:stop] = block @ v
    return out


class _Centred:
    """X seen as Z = S^{1/2} (X - 1 xbar^T) through products, never formed.

    Parameters
    ----------
    X : C- or F-contiguous ndarray, or CSR / CSC matrix, float32 or float64
    sample_weight : ndarray of shape (n_samples,) or None
        Raw weights (not rescaled).
    center : bool
        Centre with the weighted column means (fit_intercept).
    """

    def __init__(self, X, sample_weight, center):
        self.X = X
        self.sparse = sp.issparse(X)
        self.n, self.p = X.shape
        self.dtype = X.dtype
        self.center = bool(center)
        # set by gram(): centring as a rank-one correction loses no accuracy on this X
        self.rank_one_ok = False
        if sample_weight is None:
            self.sw = None
            self.sqrt_sw = None
            self.W = float(self.n)
        else:
            self.sw = sample_weight
            self.sqrt_sw = np.sqrt(sample_weight)
            self.W = float(sample_weight.sum())
        if self.center:
            weights = np.ones(self.n) if self.sw is None else self.sw
            self.xbar = self.xt_dot(weights) / self.W
        else:
            self.xbar = np.zeros(self.p)

    # ---- raw products, float64 (float32 X by bounded float64 blocks: a float64 vector
    # in numpy's product would upcast all of X at once)
    def x_dot(self, v, fast=False):
        """X v in float64, for v of shape (p,) or (p, k); float32 X's products are
        summed in float64 too, from float64 v, over bounded float64 blocks of X. With
        `fast` (conjugate gradients' products, whose accuracy their tolerance sets),
        float32 X's products stay float32."""
        if self.dtype == np.float64 or fast:
            return np.asarray(self.X @ np.ascontiguousarray(v, dtype=self.dtype),
                              dtype=np.float64)
        v = np.asarray(v, dtype=np.float64)
        if self.sparse:
            return _sparse_times(self.X, v)
        out = np.empty((self.n,) + v.shape[1:])
        for i0, i1 in _row_steps(self.n, self.p):
            out[i0:i1] = self.X[i0:i1].astype(np.float64) @ v
        return out

    def xt_dot(self, u, fast=False):
        """X^T u in float64, for u of shape (n,) or (n, k) (float32 X as in `x_dot`)."""
        if self.dtype == np.float64 or fast:
            return np.asarray(self.X.T @ np.ascontiguousarray(u, dtype=self.dtype),
                              dtype=np.float64)
        u = np.asarray(u, dtype=np.float64)
        if self.sparse:
            return _sparse_times(self.X.T, u)
        out = np.zeros((self.p,) + u.shape[1:])
        for i0, i1 in _row_steps(self.n, self.p):
            out += self.X[i0:i1].astype(np.float64).T @ u[i0:i1]
        return out

    # ---- products with Z
    def z_dot(self, v, fast=False):
        """Z v for v of shape (p,) or (p, k) (`fast` as in `x_dot`)."""
        out = self.x_dot(v, fast)
        if self.center:
            out -= self.xbar @ v
        if self.sqrt_sw is not None:
            out *= self.sqrt_sw if out.ndim == 1 else self.sqrt_sw[:, None]
        return out

    def zt_dot(self, u, fast=False):
        """Z^T u for u of shape (n,) or (n, k) (`fast` as in `x_dot`)."""
        if self.sqrt_sw is not None:
            u = u * (self.sqrt_sw if u.ndim == 1 else self.sqrt_sw[:, None])
        out = self.xt_dot(u, fast)
        if self.center:
            out -= np.multiply.outer(self.xbar, u.sum(axis=0))
        return out

    def targets(self, Y):
        """(ybar, t): weighted target means and t = S^{1/2} (Y - ybar), float64 (n, T)."""
        Y = np.asarray(Y, dtype=np.float64)
        if self.center:
            ybar = (Y.sum(axis=0) if self.sw is None else self.sw @ Y) / self.W
        else:
            ybar = np.zeros(Y.shape[1])
        t = Y - ybar
        if self.sqrt_sw is not None:
            t *= self.sqrt_sw[:, None]
        return ybar, t

    def intercepts(self, ybar, coef):
        """ybar - xbar^T w for coef of shape (T, p)."""
        if not self.center:
            return np.zeros(coef.shape[0])
        return ybar - coef @ self.xbar

    # ---- Gram matrix Z^T Z and kernel Z Z^T (float64)
    def gram(self, alpha_min=0.0):
        """Z^T Z, p x p, float64."""
        if self.sparse:
            G = sparse_gram(self.X, self.sw)  # float64 sums, float32 X included
            if not self.center:
                return G
            raw = np.diag(G).copy()
            subtract_outer(G, self.xbar, self.xbar, times=self.W)
            # float64 sums keep 1e8 of cancellation to 1e-8
            if not self._cancels(raw, np.diag(G), alpha_min, _SPARSE_CANCELLATION_LIMIT):
                return G
            # X^T S X - W m m^T cancelled the digits of large means (error 3.6e3 at
            # means of 1e8 +- 1): the rows centred a chunk at a time instead (the
            # columns whose means cancel are dense anyway)
            return self._chunked_gram()
        X = self.X
        # (a product long enough to outlast a Ctrl-C goes by chunks, checked between)
        quick = self.n * self.p ** 2 <= _UNINTERRUPTED_PRODUCT
        # (float32 X's products summed in float32 lost the small directions: the
        # chunks below, in float64)
        if self.sqrt_sw is None and self.dtype == np.float64 and quick:
            G = np.asarray(X.T @ X, dtype=np.float64)  # syrk, no copy of X
            if not self.center:
                return G
            raw = np.diag(G).copy()
            G -= self.n * np.outer(self.xbar, self.xbar)
            if not self._cancels(raw, np.diag(G), alpha_min):
                self.rank_one_ok = True
                return G
        return self._chunked_gram()

    def _cancels(self, raw, centred, alpha_min, limit=_CANCELLATION_LIMIT):
        scale = np.maximum(centred, 0.0) + alpha_min
        scale = np.maximum(scale, np.finfo(np.float64).tiny)
        return bool(np.any(raw > limit * scale))

    def _chunked_gram(self):
        """sum over row chunks of B^T B with B = S^{1/2} (X_rows - xbar): exact centring."""
        return centred_rows_gram(self.X, self.sqrt_sw, self.xbar if self.center else None,
                                 np.float64)

    def centred_kernel(self, alpha_min=0.0):
        """(X - 1 xbar^T)(X - 1 xbar^T)^T, n x n, float64, without the weights."""
        X = self.X
        # (float32 dense X's product would be summed in float32: the chunks below; so
        # too a product long enough to outlast a Ctrl-C)
        quick = self.p * self.n ** 2 <= _UNINTERRUPTED_PRODUCT
        far = None
        if self.sparse or (self.dtype == np.float64 and quick):
            if self.sparse:
                # columns whose mean is far above their spread (dense anyway) are
                # centred explicitly, apart; the rank-one terms centre the others
                far = self._far_columns() if self.center else None
                xbar = self.xbar if far is None else np.where(far, 0.0, self.xbar)
                a = _sparse_times(X, xbar) if self.center else None
                K = sparse_gram(X.T, None if far is None else (~far).astype(np.float64))
            else:
                xbar = self.xbar
                a = self.x_dot(self.xbar) if self.center else None
                K = np.asarray(X @ X.T, np.float64)
            if not self.center:
                return K
            raw = np.diag(K).copy()
            K -= a[:, None]
            K -= a[None, :]
            K += xbar @ xbar
            # the weights scale the diagonal later; compare before scaling. Sparse
            # columns are made dense only where even float64 sums lose half their
            # digits (as in `gram`)
            if ((self.sparse or self.dtype == np.float64) and not self._cancels(
                    raw, np.diag(K), alpha_min,
                    _SPARSE_CANCELLATION_LIMIT if self.sparse else _CANCELLATION_LIMIT)):
                if far is not None:
                    self._add_centred_columns(K, np.flatnonzero(far))
                return K
        # explicitly centred column chunks: B = X_cols - xbar_cols, K += B B^T (sparse
        # columns whose means cancel are dense anyway: their chunks in float64, taken
        # from CSR X by `minor_blocks`, since its column slices would each read all of X)
        K = np.zeros((self.n, self.n))
        xbar = self.xbar
        if self.sparse and X.format == "csr":
            chunks = minor_blocks(X, max_minor=CHUNK // max(self.n, 1))
        else:
            # (a quarter of CHUNK: the float64 chunk is a copy, and its product may
            # copy it again)
            step = max(1, CHUNK // 4 // max(self.n, 1))
            chunks = ((j0, min(j0 + step, self.p), X[:, j0:j0 + step])
                      for j0 in range(0, self.p, step))
        for j0, j1, columns in chunks:
            # float64 chunks: float32 X's products summed in float32 lost the small
            # directions
            B = (columns.toarray() if self.sparse else columns).astype(np.float64)
            B -= xbar[j0:j1]
            K += B @ B.T
        return K

    def _far_columns(self):
        """Mask of the columns of sparse X whose mean is over 100 times their spread
        (their centring alone would cancel 4 digits), or None when there is none."""
        raw, centred = self.column_sq_sums()
        far = (raw > _CANCELLATION_LIMIT * centred) & (raw > 0)
        return far if np.any(far) else None

    def _add_centred_columns(self, K, columns):
        """K += B B^T for the given columns of sparse X, explicitly centred (float64),
        a few at a time."""
        step = max(1, CHUNK // max(self.n, 1))
        for k0 in range(0, columns.size, step):
            chosen = columns[k0:k0 + step]
            B = self.X[:, chosen].toarray().astype(np.float64)
            B -= self.xbar[chosen]
            K += B @ B.T

    def kernel(self, alpha_min=0.0):
        """Z Z^T, n x n, float64."""
        K = self.centred_kernel(alpha_min)
        if self.sqrt_sw is not None:
            K *= self.sqrt_sw[:, None]
            K *= self.sqrt_sw[None, :]
        return K

    # ---- diagonals (Jacobi preconditioners)
    def column_sq_sums(self):
        """(sum_i s_i x_ij^2, sum_i s_i (x_ij - xbar_j)^2): one pass over X, kept (the
        scale tests, the far-mean columns and conjugate gradients' preconditioner all
        read them)."""
        if getattr(self, "_column_sq_sums", None) is None:
            if self.sparse:
                raw = _sparse_col_sq_sums(self.X, self.sw)
            else:
                raw = np.zeros(self.p)
                for i0, i1 in _row_steps(self.n, self.p):
                    B = np.asarray(self.X[i0:i1], dtype=np.float64)
                    raw += (B * B).T @ (np.ones(i1 - i0) if self.sw is None
                                        else self.sw[i0:i1])
            self._column_sq_sums = (raw, np.maximum(raw - self.W * self.xbar**2, 0.0))
        return self._column_sq_sums

    def z_col_sq_norms(self):
        """diag(Z^T Z) = sum_i s_i (x_ij - xbar_j)^2."""
        return self.column_sq_sums()[1]

    def z_row_sq_norms(self):
        """diag(Z Z^T) = s_i ||x_i - xbar||^2."""
        if self.sparse:
            raw = _sparse_row_sq_sums(self.X)
        else:
            raw = np.zeros(self.n)
            for i0, i1 in _row_steps(self.n, self.p):
                B = np.asarray(self.X[i0:i1], dtype=np.float64)
                raw[i0:i1] = np.einsum("ij,ij->i", B, B)
        if self.center:
            raw = raw - 2.0 * self.x_dot(self.xbar) + self.xbar @ self.xbar
        raw = np.maximum(raw, 0.0)
        return raw if self.sw is None else raw * self.sw

    def row_block(self, rows):
        """X[rows] as a (small) dense or sparse block, for chunked gathers."""
        return self.X[rows]


# ---------------------------------------------------------------------------------------
# exact solvers


def _filter(eigenvalues, alpha):
    """1 / (lambda + alpha), with directions at rounding level dropped (pseudo-inverse)."""
    lam = np.maximum(eigenvalues, 0.0)
    top = lam.max() if lam.size else 0.0
    cutoff = top * max(lam.size, 1) * np.finfo(np.float64).eps
    denominator = lam[:, None] + np.atleast_1d(alpha)[None, :]
    out = np.zeros_like(denominator)
    keep = denominator > cutoff
    out[keep] = 1.0 / denominator[keep]
    return out


# The eigenvalues of a symmetric M are rounded by about m eps max|M|, whatever their
# size: 1 / (lambda + alpha) of a direction near 0 is then only as good as that rounding
# is small beside alpha. A Cholesky factor of M + alpha I keeps the accuracy of each
# column's own scale instead (it is invariant to diagonal scaling). Alphas past this
# ratio of rounding to the smallest diagonal entry plus alpha are solved by Cholesky.
_SPECTRAL_ROUNDING = 1e-8


def _spectral_rounding(d, m):
    """(m eps max d, min positive d) for the diagonal d of an m x m PSD matrix (Z^T Z's:
    the columns' squared norms), or None when no alpha > 0 can be spoiled by the
    rounding of its eigenvalues (columns of comparable scale)."""
    positive = d[d > 0]
    if positive.size == 0:
        return None
    rounding = m * np.finfo(np.float64).eps * positive.max()
    if rounding <= _SPECTRAL_ROUNDING * positive.min():
        return None
    return rounding, positive.min()


def _spoiled_alphas(rounding, alphas):
    """Indices of the alphas > 0 that the eigenvalues' rounding could spoil."""
    if rounding is None:
        return np.empty(0, dtype=int)
    size, smallest = rounding
    alphas = np.atleast_1d(alphas)
    return np.flatnonzero((alphas > 0) & (size > _SPECTRAL_ROUNDING * (smallest + alphas)))


def _spectral_solutions(M, alphas, B):
    """(M + alpha I)^+ B for every alpha, (m, A, T): one eigendecomposition (M is left
    unchanged), and Cholesky for the alphas its rounding could spoil (badly scaled
    columns: a Unix time beside a rate zeroed the rate's coefficient)."""
    m, A, T = M.shape[0], len(alphas), B.shape[1]
    rounding = _spectral_rounding(np.diag(M), M.shape[0])
    eigenvalues, V = _eigh(M.copy())
    F = _filter(eigenvalues, alphas)
    out = (V @ (F[:, :, None] * (V.T @ B)[:, None, :]).reshape(m, A * T)).reshape(m, A, T)
    for a in _spoiled_alphas(rounding, alphas):
        solution = _cholesky_solve(M, float(alphas[a]), B)
        if solution is not None:
            out[:, a, :] = solution
    return out


def _eigh(A):
    """Eigendecomposition of a symmetric matrix (overwritten), ascending eigenvalues."""
    return symmetric_eigh(A)


def _cholesky_solve(A, alpha, B):
    """Solve (A + alpha I) X = B by Cholesky, or None when it is (numerically) singular.

    A is left unchanged. A pivot below rounding level of its column's diagonal entry
    means the matrix is singular for practical purposes (alpha=0 on rank-deficient
    data): the caller then falls back to the pseudo-inverse, as scikit-learn does.
    """
    M = np.array(A, dtype=np.float64, order="F")
    M.flat[:: M.shape[0] + 1] += alpha
    diagonal = np.diag(M).copy()
    if cholesky_lower(M) != 0:
        return None
    factor = M  # (its lower triangle)
    # a pivot at the rounding level of its own column's diagonal (not of the largest
    # one: a column of small scale beside a large one is no sign of singularity), and
    # below alpha / 2 (in exact arithmetic every pivot of A + alpha I is at least alpha:
    # one that is, however small beside its diagonal, is no sign of singularity either)
    pivots = np.diag(factor) ** 2
    if pivots.size and np.any(
            (pivots <= M.shape[0] * np.finfo(np.float64).eps * diagonal)
            & (pivots < 0.5 * alpha)):
        return None
    solution = np.array(B, dtype=np.float64, order="F", ndmin=2)
    if solution.shape[0] != M.shape[0]:
        solution = solution.T.copy(order="F")  # a 1-D B
    cholesky_solve(factor, solution)
    return solution.reshape(np.shape(B))


def _groups(alphas):
    """Targets grouped by alpha: [(alpha, indices)], one factorisation per distinct alpha."""
    values, inverse = np.unique(alphas, return_inverse=True)
    return [(float(a), np.flatnonzero(inverse == k)) for k, a in enumerate(values)]


def _primal_mode(design):
    """Work on the p x p Gram matrix (n >= p) or on the n x n kernel (p > n)."""
    return design.n >= design.p


# wide X with columns of very different scales is solved on its Gram matrix up to this
# many features (a p x p matrix of 32 MB)
_WIDE_PRIMAL_LIMIT = 2048


def _scale_safe_coef(design, t, coef_for):
    """The leave-one-out's coefficient function, or, for columns whose scales differ
    past the eigenvalues' rounding, Cholesky's solution (see `_spectral_rounding`): the
    eigendecomposition's had given 0.1786 for 0.0247. (For the leave-one-out's own
    decompositions that do not take the far-scale columns apart.)"""
    if _spectral_rounding(design.z_col_sq_norms(), min(design.n, design.p)) is None:
        return coef_for

    def exact(alpha_per_target):
        solved = _solve_cholesky(design, t, np.asarray(alpha_per_target, dtype=np.float64))
        return solved if solved is not None else coef_for(alpha_per_target)
    return exact


def _direct_primal(design):
    """`_primal_mode`, and wide X of at most _WIDE_PRIMAL_LIMIT features whose columns'
    scales differ so much that the kernel's rounding hides the small ones: the kernel
    sums every column into each entry (a Unix time beside a column of scale 1e-4 left
    the latter's coefficient 1e-20 for 4.7e-5), where a Cholesky factor of the Gram
    matrix keeps each column's own scale (see `_spectral_rounding`)."""
    if _primal_mode(design):
        return True
    if design.p > _WIDE_PRIMAL_LIMIT:
        return False
    return _spectral_rounding(design.z_col_sq_norms(), design.n) is not None


def _solve_cholesky(design, t, alphas):
    """Coefficients (T, p) by Cholesky on Z^T Z + alpha I or Z Z^T + alpha I, or None."""
    groups = _groups(alphas)
    if _direct_primal(design):
        G = design.gram(alpha_min=alphas.min())
        b = design.zt_dot(t)
        coef = np.empty((t.shape[1], design.p))
        for alpha, idx in groups:
            solution = _cholesky_solve(G, alpha, b[:, idx])
            if solution is None:
                return None
            coef[idx] = solution.T
        return coef
    K = design.kernel(alpha_min=alphas.min())
    dual = np.empty_like(t)
    for alpha, idx in groups:
        solution = _cholesky_solve(K, alpha, t[:, idx])
        if solution is None:
            return None
        dual[:, idx] = solution
    return design.zt_dot(dual).T


class _Spectrum:
    """Eigendecomposition of Z^T Z (n >= p) or Z Z^T (p > n): ridge for any alpha.

    Z's singular values are the square roots of the eigenvalues and its singular vectors
    are the eigenvectors (right ones for Z^T Z, left ones for Z Z^T): this is the SVD of Z
    obtained without a working copy of X (LAPACK's SVD would overwrite one).
    """

    def __init__(self, design, t, alpha_min=0.0):
        self.design = design
        self.primal = _direct_primal(design)
        M = design.gram(alpha_min) if self.primal else design.kernel(alpha_min)
        self.right = design.zt_dot(t) if self.primal else t
        # badly scaled columns: M kept for the alphas its eigenvalues' rounding spoils
        self.rounding = _spectral_rounding(np.diag(M), M.shape[0])
        self.matrix = M.copy() if self.rounding is not None else None
        self.eigenvalues, self.vectors = _eigh(M)
        self.projected = self.vectors.T @ self.right  # V^T Z^T t, or U^T t

    def coef(self, alphas, targets=None):
        """Coefficients for one alpha per column: returns (p, k) for projected[:, targets]."""
        projected = self.projected if targets is None else self.projected[:, targets]
        F = _filter(self.eigenvalues, alphas)
        inner = self.vectors @ (F * projected)
        for k in _spoiled_alphas(self.rounding, alphas):
            column = (k if targets is None else np.atleast_1d(targets)[k])
            solution = _cholesky_solve(self.matrix, float(alphas[k]),
                                       self.right[:, [column]])
            if solution is not None:
                inner[:, k] = solution[:, 0]
        return inner if self.primal else self.design.zt_dot(inner)

    def path(self, alphas):
        """Coefficients for every alpha and target: (n_alphas, T, p)."""
        T = self.projected.shape[1]
        F = _filter(self.eigenvalues, alphas)  # (m, A)
        inner = (self.vectors @ (F[:, :, None] * self.projected[:, None, :]).reshape(
            F.shape[0], -1)).reshape(F.shape[0], len(alphas), T)
        for a in _spoiled_alphas(self.rounding, alphas):
            solution = _cholesky_solve(self.matrix, float(alphas[a]), self.right)
            if solution is not None:
                inner[:, a, :] = solution
        inner = inner.reshape(F.shape[0], -1)
        coefs = inner if self.primal else self.design.zt_dot(inner)
        return coefs.reshape(-1, len(alphas), T).transpose(1, 2, 0)


def _solve_svd(design, t, alphas):
    spectrum = _Spectrum(design, t, alpha_min=alphas.min())
    coef = np.empty((t.shape[1], design.p))
    for alpha, idx in _groups(alphas):
        coef[idx] = spectrum.coef(np.full(len(idx), alpha), idx).T
    return coef


# ---------------------------------------------------------------------------------------
# conjugate gradients


def _pcg(apply, b, inverse_diagonal, *, alpha, dual, eps, max_iter, exact_residual):
    """Jacobi-preconditioned conjugate gradients on A x = b, A = Z^T Z + alpha I (primal)
    or Z Z^T + alpha I (dual), stopped on a certified relative error of the coefficients.

    The certificate: the primal error is A^{-1} r, so ||w - w*|| <= ||r|| / alpha. In the
    dual, w = Z^T x and ||Z^T (Z Z^T + alpha I)^{-1}|| = max sigma / (sigma^2 + alpha)
    <= 1 / (2 sqrt(alpha)), so ||w - w*|| <= ||r|| / (2 sqrt(alpha)); ||w||^2 = x^T Z Z^T x
    = x^T (b - r) - alpha ||x||^2 costs no product. With alpha = 0 there is no certificate
    and the relative residual ||r|| / ||b|| <= eps is used.

    Returns (x, n_iter, converged).
    """
    x = np.zeros_like(b)
    b_norm = np.linalg.norm(b)
    if b_norm == 0.0:
        return x, 0, True
    r = b.copy()
    z = inverse_diagonal * r
    d = z.copy()
    rz = r @ z
    rechecks = 0

    def certified(x, r):
        r_norm = np.linalg.norm(r)
        if alpha <= 0.0:
            return r_norm <= eps * b_norm
        if dual:
            w_norm = np.sqrt(max(x @ (b - r) - alpha * (x @ x), 0.0))
            return r_norm <= eps * 2.0 * np.sqrt(alpha) * w_norm
        return r_norm <= eps * alpha * np.linalg.norm(x)

    for k in range(1, max_iter + 1):
        Ad = apply(d)
        curvature = d @ Ad
        if not curvature > 0.0:  # breakdown: r is zero to rounding
            return x, k, True
        step = rz / curvature
        x += step * d
        r -= step * Ad
        if certified(x, r):
            if not exact_residual or rechecks >= 3:
                return x, k, True
            # the recursive residual drifts from b - A x: confirm on the true one
            r = b - apply(x)
            rechecks += 1
            if certified(x, r):
                return x, k, True
            z = inverse_diagonal * r
            d = z.copy()
            rz = r @ z
            continue
        z = inverse_diagonal * r
        rz_next = r @ z
        d *= rz_next / rz
        d += z
        rz = rz_next
    return x, max_iter, False


def _solve_cg(design, t, alphas, *, eps, max_iter):
    """Coefficients (T, p) by preconditioned CG, matrix-free; (coef, n_iter, converged)."""
    T = t.shape[1]
    primal = _primal_mode(design)
    size = design.p if primal else design.n
    iterations = 10 * size if max_iter is None else max_iter
    diagonal = design.z_col_sq_norms() if primal else design.z_row_sq_norms()
    exact_residual = design.dtype == np.float64  # float32 products cannot confirm it
    coef = np.empty((T, design.p))
    n_iter = np.zeros(T, dtype=np.int32)
    converged = np.ones(T, dtype=bool)
    for k in range(T):
        alpha = float(alphas[k])
        shifted = diagonal + alpha
        inverse = np.where(shifted > 0, 1.0 / np.where(shifted > 0, shifted, 1.0), 1.0)
        if primal:
            def apply(v, alpha=alpha):
                return design.zt_dot(design.z_dot(v, True), True) + alpha * v
            rhs = design.zt_dot(t[:, k])
        else:
            def apply(u, alpha=alpha):
                return design.z_dot(design.zt_dot(u, True), True) + alpha * u
            rhs = t[:, k]
        x, n_iter[k], converged[k] = _pcg(
            apply, rhs, inverse, alpha=alpha, dual=not primal, eps=eps,
            max_iter=iterations, exact_residual=exact_residual,
        )
        coef[k] = x if primal else design.zt_dot(x)
    return coef, n_iter, converged


# ---------------------------------------------------------------------------------------
# coordinate descent and FISTA (fastpen's elastic-net engines with l1_ratio = 0)


def _solve_engine(X, Y, alphas, sample_weight, center, *, solver, eps, max_iter, positive):
    """Coefficients (T, p) from fastpen's engines; (coef, n_iter, converged, gaps,
    floored): `floored` is the relative error certified where the rounding of products
    set the target above eps (else 0).

    Ridge's ``sum_i s_i r_i^2 + alpha ||w||^2`` with raw weights s (W = sum(s)) is
    2 W times ElasticNet's ``1/(2n) sum_i s'_i r_i^2 + a/2 ||w||^2`` with s' = s n / W
    (weights summing to n) and a = alpha / W, l1_ratio = 0: the same minimiser.

    Two certificates of the relative error, both from the strong convexity of
    f(w) = 1/2 ||t - Z w||^2 + alpha/2 ||w||^2 (modulus alpha):
    - the engines' duality gap: the n-scaled objective is (n a)-strongly convex, so
      ||w - w*||^2 <= 2 gap / (n a). The gap target is set from the coefficients' norm
      (a first guess ||w*|| >= ||Z^T t|| / (2 L + alpha), then the solution's norm).
    - the gradient: ||w - w*|| <= ||grad f(w)|| / alpha. A gap below the rounding level of
      the dtype cannot be measured, and sqrt(gap) caps the first certificate near
      sqrt(eps_machine); the second is linear, so more epochs are run until it holds.
    With positive=True the gradient is replaced by the projected-gradient mapping.
    """
    if sp.issparse(X):
        X = canonical_csc(X)
    elif not X.flags.f_contiguous:
        X = np.asfortranarray(X)  # the engines read columns: one conversion, as ElasticNet
    engine = Design(X)
    n, p = X.shape
    dtype = X.dtype
    if sample_weight is None:
        W, scaled = float(n), None
    else:
        W = float(sample_weight.sum())
        scaled = np.ascontiguousarray(sample_weight * (n / W), dtype=np.float64)
    X_mean, norm2 = engine.column_stats(scaled, center)
    lipschitz = engine.lipschitz(scaled, center)
    lower = np.zeros(p) if positive else None
    upper = np.full(p, np.inf) if positive else None
    penalty_factor = np.ones(p)
    rounding = np.finfo(dtype).eps
    floor = 10.0 * rounding  # a relative gap below this is rounding noise
    trace = float(norm2.sum())  # trace of the engines' Gram matrix, for rounding bounds
    budget = 10_000 if max_iter is None else max_iter
    # the engines' scaling: weights s' summing to n, alpha_en = alpha / W
    centred = _Centred(X, None if scaled is None else scaled.astype(np.float64), center)

    def gradient_error(w, alpha, t):
        """||w - w*|| bound from the (projected) gradient of the n-scaled objective."""
        strong = n * alpha / W
        g = centred.zt_dot(centred.z_dot(w) - t) + strong * w
        if positive:  # projected-gradient step: zero where the bound is active
            g = np.where((w <= 0) & (g > 0), 0.0, g)
        return np.linalg.norm(g) / strong

    T = Y.shape[1]
    coef = np.zeros((T, p))
    n_iter = np.zeros(T, dtype=np.int32)
    converged = np.ones(T, dtype=bool)
    gaps = np.zeros(T)
    # the relative error certified where the products' rounding, not eps, set the target
    floored = np.zeros(T)
    for k in range(T):
        y = np.ascontiguousarray(Y[:, k], dtype=dtype)
        _, yc = centred.targets(y[:, None])
        t = yc[:, 0]
        yc2 = float(t @ t)  # ||y - ybar||^2 under s'
        if yc2 == 0.0:
            continue
        alpha = float(alphas[k])
        strong = n * alpha / W  # modulus of the engine's n-scaled objective
        w = np.zeros(p, dtype=dtype)
        if strong > 0:
            guess = np.linalg.norm(centred.zt_dot(t)) / (2.0 * lipschitz + strong)
            tol = eps**2 * strong * guess**2 / (2.0 * yc2)
        else:
            tol = eps
        used, certified, first, stalls, best = 0, False, True, 0, np.inf
        while used < budget:
            # after the first call the gap is at its target (or at rounding level): run
            # epochs in rounds of a quarter of the work so far and check the gradient; a
            # negative gap target makes the engine run exactly max_iter epochs
            rounds_iter = budget - used if first else min(budget - used, max(10, used // 4))
            solution = solve_enet(
                engine, y, sample_weight=scaled, X_mean=X_mean, norm2=norm2,
                center=center, coef=w, alpha=alpha / W, l1_ratio=0.0,
                penalty_factor=penalty_factor, lower=lower, upper=upper,
                max_iter=max(rounds_iter, 1), tol=float(max(tol, floor)) if first else -1.0,
                solver=solver, lipschitz=lipschitz if solver != "cd" else None,
            )
            used += solution.n_iter
            gaps[k] = solution.gap
            if strong <= 0:
                certified = solution.converged
                break
            w64 = w.astype(np.float64)
            w_norm = float(np.linalg.norm(w64))
            # what products in X's dtype can resolve: the certificate is not asked below it
            attainable = 8.0 * rounding * (trace * w_norm + np.sqrt(trace * yc2)) / strong
            target = max(eps * w_norm, attainable)
            floored[k] = attainable / w_norm if attainable > eps * w_norm else 0.0
            # a gap at rounding level (it can even come out negative) certifies nothing
            needed_gap = 0.5 * strong * target**2
            if needed_gap >= floor * yc2 and solution.gap <= needed_gap:
                certified = True
                break
            error = gradient_error(w64, alpha, t)
            if error <= target:
                certified = True
                break
            if first and not solution.converged:
                break  # the budget ran out on the first call
            if not first and solution.n_iter == 0:
                break  # the engine's gap is at rounding level: it stops before an epoch
            first = False
            stalls = stalls + 1 if error > 0.5 * best else 0
            best = min(best, error)
            if stalls >= 3:  # no progress left to make in this dtype
                break
        coef[k] = w
        n_iter[k] = used
        converged[k] = certified
        if not certified:
            floored[k] = 0.0
    return coef, n_iter, converged, gaps, floored


# ---------------------------------------------------------------------------------------
# solver choice


def _sparse_costs(X):
    """Estimated seconds of the exact route on sparse X, and of one CG iteration.

    Calibrated on one core of a recent x86 (scipy's sparse kernels, OpenBLAS): the
    sparse product X^T X (or X X^T) costs ~6 ns per multiply plus ~25 ns per entry it
    produces, densifying and centring the m x m result ~10 passes over it, Cholesky
    m^3 / 3 flops at ~50 GFlop/s; a CG iteration is two products with X (~1.1 ns per
    nonzero each) plus vector work and ~40 us of interpreter overhead.
    """
    n, p = X.shape
    m = min(n, p)
    # X^T X: each row contributes nnz_row^2 multiplies; X X^T: each column nnz_col^2
    rows = n >= p
    if (X.format == "csr") == rows:
        counts = np.diff(X.indptr)
    else:  # bincount casts indices to intp: count chunk by chunk, not on a copy of them
        counts = np.zeros(n if rows else p, dtype=np.int64)
        for lo in range(0, X.nnz, CHUNK):
            counts += np.bincount(X.indices[lo:lo + CHUNK], minlength=counts.shape[0])
    products = float(np.sum(counts.astype(np.float64) ** 2))
    exact = (6e-9 * products + 25e-9 * min(float(m) * m, products) + 1e-8 * m * m
             + m**3 / 3.0 / 50e9)
    if 8.0 * m * m > _MAX_DENSE_BYTES:
        exact = np.inf
    iteration = 2.2e-9 * X.nnz + 8e-9 * (n + p) + 4e-5
    return exact, iteration


def _auto_solver(X, alphas, positive):
    """The solver for 'auto' before any work: 'cd' for positive, 'cholesky' (or 'svd' for
    many distinct alphas) for dense X; for sparse X, 'cg' first (see _fit_ridge)."""
    if positive:
        return "cd"
    if sp.issparse(X):
        return "cg"
    # one eigendecomposition beats many factorisations
    return "svd" if len(np.unique(alphas)) > 8 else "cholesky"


def _warn_cg(eps, n_iter, converged):
    warnings.warn(
        f"cg did not certify the requested accuracy (relative coefficient error "
        f"{eps:.1e}) within {int(n_iter.max())} iterations for "
        f"{int((~converged).sum())} target(s); increase max_iter.",
        ConvergenceWarning, stacklevel=4,
    )


def _fit_ridge(X, Y, alphas, sample_weight, *, fit_intercept, solver, tol, max_iter,
               positive):
    """Solve ridge for every target. Returns (coef (T, p), intercept (T,), n_iter, solver)."""
    automatic = solver == "auto"
    if automatic:
        solver = _auto_solver(X, alphas, positive)
    design = _Centred(X, sample_weight, fit_intercept)
    eps = _CERTIFY * tol
    n_iter = None
    if automatic and solver == "cg":
        # sparse X: CG's iteration count is not known in advance, so give it the time the
        # exact route would take; if it has not certified its answer by then, take the
        # exact route (at worst twice the better of the two)
        exact, iteration = _sparse_costs(X)
        budget = exact / (iteration * Y.shape[1])
        if budget < 5:
            solver = "svd" if len(np.unique(alphas)) > 8 else "cholesky"
        else:
            ybar, t = design.targets(Y)
            limit = max_iter if np.isinf(budget) else min(int(budget), max_iter or np.inf)
            coef, n_iter, converged = _solve_cg(design, t, alphas, eps=eps,
                                                max_iter=None if limit is None else int(limit))
            if np.isinf(budget) or converged.all():
                if not converged.all():
                    _warn_cg(eps, n_iter, converged)
                return coef, design.intercepts(ybar, coef), n_iter, "cg"
            solver, n_iter = "cholesky", None
    if solver in _EXACT:
        ybar, t = design.targets(Y)
        coef = _solve_cholesky(design, t, alphas) if solver == "cholesky" else None
        if coef is None:
            solver = "svd"  # singular (alpha = 0 on rank-deficient X): pseudo-inverse
            coef = _solve_svd(design, t, alphas)
    elif solver == "cg":
        ybar, t = design.targets(Y)
        coef, n_iter, converged = _solve_cg(design, t, alphas, eps=eps, max_iter=max_iter)
        if not converged.all():
            _warn_cg(eps, n_iter, converged)
    else:
        ybar, _ = design.targets(Y)
        coef, n_iter, converged, gaps, floored = _solve_engine(
            X, Y, alphas, sample_weight, fit_intercept, solver=solver, eps=eps,
            max_iter=max_iter, positive=positive,
        )
        # (past the documented reach of the engines' certificate in float64, 1e-8:
        # columns of scales 1e-8 to 1e8 had left fista's coefficients 1.4e-3 off,
        # unwarned; float32's bound, a worst case, passes its documented 1e-3 often)
        if X.dtype == np.float64 and floored.max() > max(eps, 1e-8):
            warnings.warn(
                f"solver={solver!r} certified the coefficients to a relative error of "
                f"{floored.max():.1e} only, above the requested {eps:.1e}: the rounding "
                "of products with columns of very different scales bounds what its "
                "certificate resolves. solver='cholesky' or 'cg' reach higher "
                "accuracy.", ConvergenceWarning, stacklevel=3)
        if not converged.all():
            budget = 10_000 if max_iter is None else max_iter
            advice = ("You might want to increase the number of iterations."
                      if n_iter.max() >= budget else
                      f"The engines stop on a duality gap, which cannot resolve the "
                      f"coefficients beyond about the square root of {X.dtype}'s rounding; "
                      "solver='cholesky' or 'cg' reach higher accuracy.")
            warnings.warn(
                "Objective did not converge to the requested accuracy (relative "
                f"coefficient error {eps:.1e}). Duality gap: {gaps.max():.6e}. " + advice,
                ConvergenceWarning, stacklevel=3,
            )
    intercept = design.intercepts(ybar, coef)
    return coef, intercept, n_iter, solver


# ---------------------------------------------------------------------------------------
# leave-one-out for many alphas from one eigendecomposition


def _loo_errors(design, t, alphas):
    """Leave-one-out residuals of every alpha, from one eigendecomposition.

    Returns looe of shape (n, A, T) in the weighted scale (scikit-learn's: sqrt(s_i) times
    the residual of sample i) and a function giving the coefficients (T, p) for one alpha
    per target. The formulas are those of Rifkin and Lippert (2007), with scikit-learn's
    intercept correction: with G = Z Z^T + alpha I, c = G^{-1} t and
    d = diag(G^{-1}) - (G^{-1} sqrt(s)) sqrt(s) / sum(s) (the second term only with an
    intercept), looe = c / d.

    Kernel mode (n <= p): K = Z Z^T = Q L Q^T and every alpha costs O(n^2).
    Gram mode (n > p): Z^T Z = V L V^T; then alpha c = t - P D P^T t and
    alpha d = 1 - diag(P D P^T) - (sqrt(s) - P D P^T sqrt(s)) sqrt(s) / sum(s), with
    P = Z V and D = (L + alpha)^-1. P is computed by chunks of rows and never held whole.
    With an intercept Z^T sqrt(s) = Xc^T s = 0, so the Gram-mode correction is s / sum(s)
    (scikit-learn computes it numerically: the same up to rounding). Columns whose
    squared norms lie beyond what one eigendecomposition resolves (`_far_scale_columns`)
    are taken apart, by a Schur complement per alpha (`_SchurParts`).
    """
    n, p = design.n, design.p
    T = t.shape[1]
    A = len(alphas)
    root = np.ones(n) if design.sqrt_sw is None else design.sqrt_sw
    looe = np.empty((n, A, T))
    if n <= p:
        # (wide X keeps the kernel even where its columns' scales differ: the Gram
        # mode's Schur complements need the other columns' Gram matrix of full rank,
        # and cancelled to errors 350 times too large without it)
        eigenvalues, Q = _eigh(design.kernel(alpha_min=alphas.min()))
        D = 1.0 / (eigenvalues[:, None] + alphas[None, :])  # (n, A)
        QTt = Q.T @ t
        c = (Q @ (D[:, :, None] * QTt[:, None, :]).reshape(n, A * T)).reshape(n, A, T)
        d = (Q * Q) @ D
        if design.center:
            # sqrt(s) is the kernel's null direction (Z^T sqrt(s) = Xc^T s = 0). Computed
            # through the decomposition, the correction cancels that direction's term of
            # diag(G^-1) exactly, rounding of its eigenvalue included (s / (alpha sum(s))
            # would leave it: 1e-6 relative at alpha = 1e-3)
            d -= (Q @ (D * (Q.T @ root)[:, None])) * root[:, None] / design.W
        np.divide(c, d[:, :, None], out=looe)

        def coef(alpha_per_target):
            F = 1.0 / (eigenvalues[:, None] + alpha_per_target[None, :])
            return design.zt_dot(Q @ (F * QTt)).T

        return looe, _scale_safe_coef(design, t, coef)

    G = design.gram(alpha_min=alphas.min())
    far = _far_scale_columns(np.diag(G))
    too_many = far.size > _FAR_SCALE_MAX
    if too_many:
        far = far[:0]  # the eigendecomposition's errors, as in scikit-learn
    rest = np.setdiff1d(np.arange(p), far)
    b = design.zt_dot(t)  # Z^T t, (p, T)
    part = _SchurParts(G, rest, far, b, alphas)
    _gram_loo_residuals(design, t, root, part, looe)
    return looe, _scale_safe_coef(design, t, part.coef) if too_many else part.coef


# Columns whose squared norms lie beyond what one eigendecomposition resolves are taken
# apart in the Gram-mode leave-one-out (a Schur complement per alpha) up to this many;
# beyond, their alphas keep the eigendecomposition's errors (as in scikit-learn).
_FAR_SCALE_MAX = 16


def _far_scale_columns(d):
    """Columns to take apart from a PSD matrix of diagonal d so that the others'
    eigenvalues round below _SPECTRAL_ROUNDING of their smallest diagonal entry (see
    `_spectral_rounding`): those outside the widest range of positive squared norms
    whose ratio passes the test. Empty for columns of comparable scale."""
    if _spectral_rounding(d, d.size) is None:
        return np.empty(0, dtype=np.intp)
    positive = np.flatnonzero(d > 0)
    order = positive[np.argsort(d[positive], kind="stable")]
    values = d[order]
    # for each smallest entry values[i], the end of the range it admits
    ends = np.searchsorted(values, _SPECTRAL_ROUNDING * values
                           / (d.size * np.finfo(np.float64).eps), side="right")
    first = int(np.argmax(ends - np.arange(values.size)))
    return np.sort(np.r_[order[:first], order[ends[first]:]])


class _SchurParts:
    """(Z^T Z + alpha I)^-1 for every alpha from one eigendecomposition of the Gram
    matrix's well-scaled columns `rest` (G_RR = V L V^T) and, per alpha, the Schur
    complement of the far-scale columns `far`:
    S = G_FF + alpha I - C D C^T, with C = G_FR V and D = (L + alpha)^-1.

    With P = Z_R V and U = Z_F - P D C^T (rows), Z (G + alpha I)^-1 Z^T has diagonal
    sum_k P_ik^2 D_k + ||R^T u_i||^2 (S^-1 = R R^T), and the coefficients are w_F = S^-1 (b_F - C D
    V^T b_R), V^T w_R = D (V^T b_R - C^T w_F). Without far columns this is the
    eigendecomposition of G alone (one pass over X, O(p) per alpha and row)."""

    def __init__(self, G, rest, far, b, alphas):
        self.rest, self.far = rest, far
        self.all_rest = far.size == 0
        T, A, f = b.shape[1], len(alphas), far.size
        G_RR = G if self.all_rest else G[np.ix_(rest, rest)]
        C = G[np.ix_(far, rest)]
        self.G_FF = G[np.ix_(far, far)]
        self.eigenvalues, self.V = _eigh(G_RR)  # G_RR (G itself without far columns)
        self.C = C @ self.V
        self.Vb = self.V.T @ b[rest]
        self.b_far = b[far]
        self.D = 1.0 / (self.eigenvalues[:, None] + alphas[None, :])  # (|R|, A)
        self.S_factor = np.empty((A, f, f))  # R with S^-1 = R R^T, per alpha
        self.w_far = np.empty((A, f, T))
        if f:
            inner = np.empty((rest.size, A, T))  # V^T w_R
            for k in range(A):
                self.S_factor[k], self.w_far[k], inner[:, k] = self._solve(
                    alphas[k], self.D[:, k], slice(None))
        else:
            inner = self.D[:, :, None] * self.Vb[:, None, :]
        self.inner = inner.reshape(rest.size, A * T)
        # C^T D for every alpha, (|R|, |F| A): P D C^T is P times it
        self.CD = (self.C.T[:, :, None] * self.D[:, None, :]).reshape(rest.size, f * A)

    def _solve(self, alpha, D, targets):
        """(R with S^-1 = R R^T, w_F, V^T w_R) at one alpha (D = (L + alpha)^-1) for
        these targets."""
        f = self.far.size
        CD = self.C * D
        Vb = self.Vb[:, targets]
        if not f:
            return np.empty((0, 0)), np.empty((0, Vb.shape[1])), D[:, None] * Vb
        S = self.G_FF - CD @ self.C.T
        S.flat[:: f + 1] += alpha
        # S^-1 = R R^T from an eigendecomposition of S equilibrated by its diagonal,
        # kept factored (a pseudo-inverse of S as it is dropped a column of 1e-6 beside
        # a Unix time, and an explicit S^-1 lost the large directions' share)
        scale = np.sqrt(np.maximum(np.diag(S), np.finfo(np.float64).tiny))
        lam, Q = np.linalg.eigh(S / scale[:, None] / scale[None, :])
        keep = lam > f * np.finfo(np.float64).eps * lam.max()
        R = np.zeros((f, f))
        R[:, :keep.sum()] = (Q[:, keep] / np.sqrt(lam[keep])) / scale[:, None]
        w_far = R @ (R.T @ (self.b_far[:, targets] - CD @ Vb))
        return R, w_far, D[:, None] * (Vb - self.C.T @ w_far)

    def coef(self, alpha_per_target):
        """Coefficients (T, p) for one alpha per target."""
        coef = np.empty((len(alpha_per_target), self.rest.size + self.far.size))
        for j, alpha in enumerate(alpha_per_target):
            _, w_far, inner = self._solve(alpha, 1.0 / (self.eigenvalues + alpha), [j])
            coef[j, self.rest] = self.V @ inner[:, 0]
            coef[j, self.far] = w_far[:, 0]
        return coef


def _gram_loo_residuals(design, t, root, part, looe):
    """Leave-one-out residuals into looe (n, A, T) from `part` (`_SchurParts`).
    P = Z_R V is formed by chunks (of rows, or of V's columns for CSC X) and never held
    whole."""
    n, p = design.n, design.p
    A, T = looe.shape[1:]
    V, D, rest, far = part.V, part.D, part.rest, part.far
    k = V.shape[1]
    # (P = Z V in float64 for float32 X too, from float64 blocks of X: summed in
    # float32 they lost the small directions)
    xbar_V = design.xbar[rest] @ V
    if far.size:
        # the far columns of Z, (n, |F|): few
        selector = np.zeros((p, far.size))
        selector[far, np.arange(far.size)] = 1.0
        Z_far = design.z_dot(selector)

    def finish(rows, fitted, leverage, PDC):
        """looe from Z_R's share of Z w for every alpha (rows, A*T), of
        diag(P D P^T) (rows, A) and P D C^T (rows, A, |F|)."""
        r = root[rows]
        fitted = fitted.reshape(-1, A, T)
        if PDC is not None:
            U = Z_far[rows, None, :] - PDC
            leverage += (np.einsum("raf,afg->rag", U, part.S_factor, optimize=True)
                         ** 2).sum(axis=-1)
            fitted += np.einsum("rf,aft->rat", Z_far[rows], part.w_far)
        out = looe[rows]  # a view: alpha c and alpha d are formed in place
        np.subtract(t[rows, None, :], fitted, out=out)
        alpha_d = np.subtract(1.0, leverage, out=leverage)
        if design.center:
            # Z^T sqrt(s) = Xc^T s = 0: the correction is sqrt(s) sqrt(s) / sum(s)
            alpha_d -= (r * r)[:, None] / design.W
        out /= alpha_d[:, :, None]

    def far_products(P, CD_part):
        """P D C^T, (rows, A, |F|)."""
        if not far.size:
            return None
        return (P @ CD_part).reshape(P.shape[0], far.size, A).transpose(0, 2, 1)

    if design.sparse and design.X.format == "csc":
        # rows of a CSC matrix cost a scan of all of X each: take P = Z V by blocks of
        # eigenvectors instead (X @ V_K is cheap on CSC) and accumulate over the blocks
        fitted = np.zeros((n, A * T))
        leverage = np.zeros((n, A))
        width = max(1, CHUNK // max(n, 1))
        for k0 in range(0, k, width):
            k1 = min(k0 + width, k)
            V_block = V[:, k0:k1]
            if not part.all_rest:
                V_block = np.zeros((p, k1 - k0))
                V_block[rest] = V[:, k0:k1]
            # (float64 blocks of float32 X for each chunk of V: float32 sums here left
            # the leave-one-out errors 4e-4 off; the price is float64's time)
            P = _sparse_times(design.X, V_block)
            if design.center:
                P -= xbar_V[k0:k1]
            if design.sqrt_sw is not None:
                P *= root[:, None]
            fitted += P @ part.inner[k0:k1]
            np.multiply(P, P, out=P)
            leverage += P @ D[k0:k1]
        # the far columns one alpha at a time: P D C^T = Z_R (V D C^T), n x |F| each
        for a in range(A if far.size else 0):
            M = np.zeros((p, far.size))
            M[rest] = V @ (D[:, a, None] * part.C.T)
            U = Z_far - (_sparse_times(design.X, M) - design.xbar @ M) * root[:, None]
            leverage[:, a] += ((U @ part.S_factor[a]) ** 2).sum(axis=1)
            fitted[:, a * T:(a + 1) * T] += Z_far @ part.w_far[a]
        finish(slice(0, n), fitted, leverage, None)
        return
    # (with far columns a chunk holds six arrays of its rows' size, not three: a
    # quarter of the rows each)
    for i0, i1 in _row_steps(n, max(p, A * T, A * far.size) * (4 if far.size else 1)):
        block = design.row_block(slice(i0, i1)).astype(np.float64, copy=False)
        if not part.all_rest:
            block = block[:, rest]
        # P = S^{1/2} (X_rows - xbar) V: centred as a rank-one term where that is
        # exact enough (sparse X, or the Gram matrix's test), else inside the chunk
        if design.sparse or design.rank_one_ok or not design.center:
            P = np.asarray(block @ V)
            if design.center:
                P -= xbar_V
        else:
            P = np.asarray((block - design.xbar[rest]) @ V)
        if design.sqrt_sw is not None:
            P *= root[i0:i1, None]
        fitted = P @ part.inner
        PDC = far_products(P, part.CD)
        np.multiply(P, P, out=P)
        finish(slice(i0, i1), fitted, P @ D, PDC)


def _loo_full_predictions(design, Y, ybar, alphas, looe):
    """Leave-one-out predictions in the original scale, (n, A, T).

    y_i - looe_i / sqrt(s_i); a sample of zero weight does not change the fit, so its
    prediction is the full model's (scikit-learn divides by zero there and gets NaN).
    """
    root = np.ones(design.n) if design.sqrt_sw is None else design.sqrt_sw
    Yf = np.asarray(Y, dtype=np.float64)
    positive = root > 0
    predictions = np.empty_like(looe)
    predictions[positive] = Yf[positive][:, None, :] - looe[positive] / root[positive, None, None]
    zero = np.flatnonzero(~positive)
    if zero.size:
        _, t = design.targets(Y)
        spectrum = _Spectrum(design, t, alpha_min=alphas.min())
        coefs = spectrum.path(alphas)  # (A, T, p)
        A, T, p = coefs.shape
        W = coefs.reshape(A * T, p).T
        block = design.row_block(zero)
        fitted = (block.astype(np.float64, copy=False) @ W).reshape(-1, A, T)
        intercepts = (ybar[None, :] - coefs @ design.xbar) if design.center else 0.0
        predictions[zero] = fitted + intercepts
    return predictions


def _r2_scores(y_true, predictions, sample_weight):
    """R^2 of predictions (n, A, T) against y_true (n, T) for every alpha at once: what
    sklearn.metrics.r2_score returns (force_finite, uniform average over targets)."""
    n = y_true.shape[0]
    if n < 2:
        return np.full(predictions.shape[1], np.nan)  # r2_score: undefined, NaN
    w = np.ones(n) if sample_weight is None else sample_weight
    residual = y_true[:, None, :] - predictions
    numerator = np.einsum("i,iat->at", w, residual * residual)
    centred = y_true - (w @ y_true) / w.sum()
    denominator = w @ (centred * centred)  # (T,)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = np.where(denominator != 0, 1.0 - numerator / denominator,
                      np.where(numerator == 0, 1.0, 0.0))
    return r2.mean(axis=1)


class _PredictionsAsInput(RegressorMixin, BaseEstimator):
    """Stand-in estimator whose predictions are its input, to score precomputed predictions
    with a scikit-learn scorer (what scikit-learn's own leave-one-out mode does)."""

    def fit(self, X, y=None):
        return self

    def predict(self, X):
        return X


# ---------------------------------------------------------------------------------------
# K-fold cross-validation for many alphas


def _split_blocks(splits, n):
    """Blocks of samples whose sums build every training set.

    When the test sets are disjoint and each training set is the complement of its test
    set (KFold, GroupKFold, ...), the blocks are the test sets (plus the samples in no test
    set) and training set k is the sum of all blocks but k: the data are read once.
    Otherwise every training set is its own block.
    """
    owner = np.full(n, -1)
    partition = True
    for k, (train, test) in enumerate(splits):
        if np.any(owner[test] >= 0) or len(train) + len(test) != n:
            partition = False
            break
        owner[test] = k
    if partition:
        for train, test in splits:
            mask = np.ones(n, dtype=bool)
            mask[test] = False
            if not np.array_equal(np.sort(train), np.flatnonzero(mask)):
                partition = False
                break
    if partition:
        blocks = [np.asarray(test) for _, test in splits]
        rest = np.flatnonzero(owner < 0)
        if rest.size:
            blocks.append(rest)
        members = [[b for b in range(len(blocks)) if b != k] for k in range(len(splits))]
        return blocks, members, True
    return [np.asarray(train) for train, _ in splits], [[k] for k in range(len(splits))], False


def _row_pieces(rows, design):
    """Chunks of an index array: slices (views of X) when it is a contiguous range, else
    index arrays (bounded gathered copies). Dense chunks hold CHUNK elements; sparse ones
    a number of nonzeros (taking rows of CSC scans all of X: at most ~16 pieces per pass)."""
    if design.sparse:
        budget = mixed_budget(design.X) if design.X.format == "csc" else CHUNK
        step = max(1, int(budget * design.n // max(design.X.nnz, 1)))
    else:
        step = max(1, CHUNK // max(design.p, 1))
    rows = np.asarray(rows)
    contiguous = rows.size > 0 and rows[-1] - rows[0] + 1 == rows.size and bool(
        np.all(np.diff(rows) == 1))
    for i0 in range(0, rows.size, step):
        i1 = min(i0 + step, rows.size)
        yield i0, i1, (slice(rows[0] + i0, rows[0] + i1) if contiguous else rows[i0:i1])


def _gather_rows(design, rows, W):
    """X[rows] @ W by chunks of rows, float64."""
    out = np.empty((len(rows), W.shape[1]))
    W = np.asarray(W, dtype=np.float64)
    for i0, i1, piece in _row_pieces(rows, design):
        # (float64 blocks: float32 X's predictions summed in float32 lost the
        # differences between folds)
        out[i0:i1] = design.row_block(piece).astype(np.float64, copy=False) @ W
    return out


def _dense_rows(design, block):
    """A block of rows as dense arrays: itself when dense, else CHUNK entries at a time
    in float64 (sparse rows are only made dense where a shift cancels their means)."""
    if not design.sparse:
        yield slice(None), block
        return
    for i0, i1 in _row_steps(block.shape[0], design.p):
        yield slice(i0, i1), block[i0:i1].toarray().astype(np.float64, copy=False)


def _block_moments(design, Y, rows, shift, y_shift):
    """sum over rows of s_i (x_i - m)(x_i - m)^T, s_i (x_i - m), s_i (x_i - m)(y_i - mu)^T,
    s_i (y_i - mu), s_i; dense blocks are centred by m inside the chunk. Sparse blocks
    are summed in float64 (scipy sums float32 products in float32), and shifted only by
    a nonzero m (dense chunks then)."""
    p = design.p
    T = Y.shape[1]
    G = np.zeros((p, p))
    u = np.zeros(p)
    r = np.zeros((p, T))
    v = np.zeros(T)
    weight = 0.0
    shifted = bool(np.any(shift))
    dtype = np.float64 if design.sparse else design.dtype
    shift_dt = shift.astype(dtype)
    for _, _, piece in _row_pieces(rows, design):
        s = np.ones(Y[piece].shape[0]) if design.sw is None else design.sw[piece]
        Yc = np.asarray(Y[piece], dtype=np.float64) - y_shift
        sYc = (s[:, None] * Yc).astype(dtype)
        block = design.row_block(piece)
        if design.sparse and not shifted:
            block = sp.csr_matrix(block)  # a bounded block of rows
            if block.dtype != np.float64:
                block = block.astype(np.float64)
            G += sparse_gram(block, None if design.sw is None else s)
            u += block.T @ s
            r += np.asarray(block.T @ sYc)
        else:
            for sub, dense in _dense_rows(design, block):
                B = dense - shift_dt if shifted else dense  # unshifted: a view, no copy
                u += np.asarray(B.T @ s[sub].astype(dtype), dtype=np.float64)
                r += np.asarray(B.T @ sYc[sub], dtype=np.float64)
                if design.sw is not None:
                    B = B * np.sqrt(s[sub]).astype(dtype)[:, None]
                G += B.T @ B  # syrk
        v += s @ Yc
        weight += float(s.sum())
    return G, u, r, v, weight


def _kfold_scores(design, Y, alphas, splits, score):
    """Test scores (n_splits, A) of every alpha on every split, and the full-data solver.

    Gram mode (n > p): the weighted second moments of blocks of rows (one pass over X)
    give every training Gram matrix; one eigendecomposition per split gives all alphas.
    Kernel mode (n <= p): one n x n kernel of X centred with the full weighted mean gives
    every training kernel (re-centred with the training mean in O(n^2)) and the
    test-against-training kernel used to predict.
    """
    n, p = design.n, design.p
    T = Y.shape[1]
    A = len(alphas)
    Yf = np.asarray(Y, dtype=np.float64)
    s_all = np.ones(n) if design.sw is None else design.sw
    scores = np.empty((len(splits), A))
    if n > p:
        y_shift = (s_all @ Yf / design.W) if design.center else np.zeros(T)
        blocks, members, partition = _split_blocks(splits, n)
        # raw second moments, centred per split as a rank-one term (the fastest: views of
        # X, no temporaries), unless that cancels digits; then centre the chunks on xbar
        chunked = design.center and not design.sparse and (
            design.dtype != np.float64 or design.sw is not None)
        shift = design.xbar if chunked else np.zeros(p)
        moments = [_block_moments(design, Yf, b, shift, y_shift) for b in blocks]
        if design.center and not chunked:
            raw = sum(np.diag(m[0]) for m in moments)
            if design._cancels(raw, raw - design.W * design.xbar**2, alphas.min(),
                               _SPARSE_CANCELLATION_LIMIT if design.sparse
                               else _CANCELLATION_LIMIT):
                shift = design.xbar
                moments = [_block_moments(design, Yf, b, shift, y_shift) for b in blocks]
        for k, (train, test) in enumerate(splits):
            G, u, r, v, Wt = (sum(moments[b][i] for b in members[k]) for i in range(5))
            delta = u / Wt if design.center else np.zeros(p)
            epsilon = v / Wt if design.center else np.zeros(T)
            if design.center:
                G = G - Wt * np.outer(delta, delta)
                r = r - Wt * np.outer(delta, epsilon)
            coefs = _spectral_solutions(G, alphas, r).reshape(p, A * T)
            x_mean = shift + delta
            y_mean = y_shift + epsilon
            fitted = _gather_rows(design, np.asarray(test), coefs)
            intercepts = np.tile(y_mean, A) - x_mean @ coefs if design.center else 0.0
            predictions = (fitted + intercepts).reshape(len(test), A, T)
            scores[k] = score(Yf[test], predictions, test)

        def refit(alpha):
            if partition:
                G, u, r, v, Wt = (sum(m[i] for m in moments) for i in range(5))
                if design.center:
                    delta, epsilon = u / Wt, v / Wt
                    G = G - Wt * np.outer(delta, delta)
                    r = r - Wt * np.outer(delta, epsilon)
                solution = _cholesky_solve(G, alpha, r)
                if solution is not None:
                    return solution.T
            ybar, t = design.targets(Yf)
            coef = _solve_cholesky(design, t, np.full(T, alpha))
            return coef if coef is not None else _solve_svd(design, t, np.full(T, alpha))

        return scores, refit

    Kraw = design.centred_kernel()  # centred with the full weighted mean (or not at all)
    for k, (train, test) in enumerate(splits):
        train, test = np.asarray(train), np.asarray(test)
        s = s_all[train]
        Wt = float(s.sum())
        Ktt = Kraw[np.ix_(train, train)]
        Kvt = Kraw[np.ix_(test, train)]
        if design.center:
            # re-centre on the training mean: <x_i - xt, x_j - xt> from <x_i - m, x_j - m>
            a = Kraw[:, train] @ s / Wt
            aa = s @ a[train] / Wt
            Ktt -= a[train][:, None] + a[train][None, :] - aa
            Kvt -= a[test][:, None] + a[train][None, :] - aa
            y_mean = s @ Yf[train] / Wt
        else:
            y_mean = np.zeros(T)
        root = np.sqrt(s)
        t = root[:, None] * (Yf[train] - y_mean)
        Ktt *= root[:, None]
        Ktt *= root[None, :]
        dual = _spectral_solutions(Ktt, alphas, t).reshape(len(train), A * T)
        predictions = (Kvt @ (root[:, None] * dual)).reshape(len(test), A, T) + y_mean
        scores[k] = score(Yf[test], predictions, test)

    def refit(alpha):
        root = np.ones(n) if design.sqrt_sw is None else design.sqrt_sw
        K = Kraw * root[:, None] * root[None, :]
        _, t = design.targets(Yf)
        dual = _cholesky_solve(K, alpha, t)
        if dual is None:
            return _solve_svd(design, t, np.full(T, alpha))
        return design.zt_dot(dual).T

    return scores, refit


def _kfold_scores_iterative(X, Y, sample_weight, fit_intercept, alphas, splits, score,
                            tol):
    """K-fold scores by one CG fit per split and alpha, for data too large for a dense
    n x n or p x p matrix. Training on a split is fitting with the other weights set to 0."""
    n = X.shape[0]
    Yf = np.asarray(Y, dtype=np.float64)
    base = np.ones(n) if sample_weight is None else sample_weight
    scores = np.empty((len(splits), len(alphas)))
    T = Y.shape[1]
    for k, (train, test) in enumerate(splits):
        weights = np.zeros(n)
        weights[train] = base[train]
        for a, alpha in enumerate(alphas):
            coef, intercept, _, _ = _fit_ridge(
                X, Y, np.full(T, alpha), weights, fit_intercept=fit_intercept,
                solver="cg", tol=tol, max_iter=None, positive=False)
            design = _Centred(X, None, False)
            fitted = _gather_rows(design, np.asarray(test), coef.T)
            scores[k, a] = score(Yf[test], (fitted + intercept)[:, None, :], test)[0]

    def refit(alpha):
        coef, _, _, _ = _fit_ridge(X, Y, np.full(T, alpha), sample_weight,
                                   fit_intercept=fit_intercept, solver="auto", tol=tol,
                                   max_iter=None, positive=False)
        return coef

    return scores, refit


# ---------------------------------------------------------------------------------------
# estimators


def _shape_attributes(model, coef, intercept, y_ndim, fit_intercept, dtype):
    """scikit-learn's Ridge shapes: 1-D coef_ for one target, even when y is 2-D."""
    coef = coef.astype(dtype)
    intercept = intercept.astype(dtype)
    if coef.shape[0] == 1:
        model.coef_ = coef[0]
        if not fit_intercept:
            model.intercept_ = 0.0
        else:
            model.intercept_ = intercept[0] if y_ndim == 1 else intercept
    else:
        model.coef_ = coef
        model.intercept_ = intercept if fit_intercept else 0.0


class _LinearPredictor:
    """predict and the sparse-input tag shared by Ridge and RidgeCV."""

    def predict(self, X):
        """Predict with the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            Predicted values.
        """
        return linear_predict(self, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class Ridge(_LinearPredictor, MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Linear least squares with l2 regularization, without copying X.

    Minimises scikit-learn's Ridge objective::

        sum_i s_i (y_i - x_i w - b)^2 + alpha * ||w||^2

    with the sample weights s used as given (not rescaled: multiplying them all by k is
    the same as dividing alpha by k). Note the scaling: unlike Lasso/ElasticNet there is
    no 1/(2 n_samples) in front of the data term.

    Parameters
    ----------
    alpha : float or array-like of shape (n_targets,), default=1.0
        Strength of the penalty, >= 0; one value per target when an array is given.
        ``alpha=0`` is least squares (the pseudo-inverse solution on rank-deficient X).
    fit_intercept : bool, default=True
        Whether to fit an intercept. X is centred implicitly: it is never copied, and
        sparse X is never densified.
    copy_X : bool, default=True
        Accepted for compatibility. fastpen never modifies X, so no copy is ever needed.
    max_iter : int, default=None
        Maximum number of iterations of the iterative solvers: CG iterations for 'cg'
        (None: 10 times the size of the system), epochs for 'cd' and iterations for
        'fista' (None: 10000). The exact solvers ignore it.
    tol : float, default=1e-4
        Accuracy of the iterative solvers ('cg', 'cd', 'fista'): they stop once
        ``||coef_ - exact|| <= 0.1 * tol * ||coef_||`` is certified (a bound that uses
        alpha as the smallest curvature, so the actual error is usually 2 to 100 times
        smaller: the default gives the exact solvers' coefficients to about six digits).
        With alpha=0 there is no certificate and they stop on a relative residual of
        0.1 * tol. float32 X limits the accuracy to that of float32 products, and 'cd' /
        'fista' to what their duality gap resolves (about 1e-8 relative in float64,
        1e-3 in float32). The exact solvers ignore tol.
    solver : {'auto', 'cholesky', 'svd', 'cg', 'cd', 'fista', 'sparse_cg', 'lsqr', \
'sag', 'saga', 'lbfgs'}, default='auto'
        - 'auto': 'cholesky' for dense X (on the Gram matrix when n_samples >=
          n_features, on the kernel matrix otherwise); for sparse X, 'cholesky' or 'cg'
          from an estimate of their costs ('cg' when the dense n x n or p x p matrix would
          be large); 'svd' when there are more than 8 distinct per-target alphas; 'cd'
          with ``positive=True``. The choice is recorded in ``solver_``.
        - 'cholesky': Cholesky factorisation (LAPACK through scipy) of
          ``Xc^T S Xc + alpha I`` when n_samples >= n_features, of the kernel
          ``S^1/2 Xc Xc^T S^1/2 + alpha I`` otherwise (then ``w = Xc^T S^1/2 c``). Falls
          back to 'svd' when the matrix is singular (``solver_`` then says 'svd').
        - 'svd': the singular value decomposition of ``S^1/2 Xc``, obtained from the
          eigendecomposition of the same Gram or kernel matrix (LAPACK through scipy),
          so X is never copied; the most robust choice for singular problems.
        - 'cg': conjugate gradients, matrix-free (products with X and X^T only), on the
          normal equations (n_samples >= n_features) or on the kernel system, with a
          Jacobi preconditioner (centred column or row norms).
        - 'cd', 'fista': fastpen's coordinate-descent and accelerated proximal-gradient
          engines (those of ElasticNet with l1_ratio=0 and alpha / sum(s)). They read X by
          columns: C-ordered dense X and CSR X are converted once to Fortran / CSC.

        - scikit-learn's 'sparse_cg', 'lsqr', 'sag' and 'saga' run 'cg', and 'lbfgs'
          (``positive=True`` only, as in scikit-learn) runs 'cd'; ``solver_`` names the
          one that ran.

        Every solver accepts dense and sparse X, with or without intercept.
    positive : bool, default=False
        Constrain the coefficients to be non-negative; only with 'auto' (which then uses
        'cd'), 'cd', 'fista' or 'lbfgs'.
    random_state : int, RandomState instance or None, default=None
        Accepted for compatibility (scikit-learn's 'sag' and 'saga' use it); no fastpen
        solver is random.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, in the dtype of X (float32 stays float32).
    intercept_ : float or ndarray of shape (n_targets,)
        Independent term; 0.0 when ``fit_intercept=False``.
    n_iter_ : None or ndarray of shape (n_targets,)
        Iterations of 'cg' (or epochs of 'cd', iterations of 'fista') for each target;
        None for the exact solvers.
    solver_ : str
        The solver used.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when X has string column names.

    See Also
    --------
    RidgeCV : Ridge with efficient leave-one-out or K-fold choice of alpha.
    ridge_path : Coefficients for many alphas from one decomposition.

    Examples
    --------
    >>> import numpy as np
    >>> from fastpen import Ridge
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.5]])
    >>> y = np.array([0.1, 1.0, 2.1, 2.9])
    >>> model = Ridge(alpha=0.1).fit(X, y)
    >>> model.solver_
    'cholesky'
    """

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept=True,
        copy_X=True,
        max_iter=None,
        tol=1e-4,
        solver="auto",
        positive=False,
        random_state=None,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.copy_X = copy_X
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver
        self.positive = positive
        self.random_state = random_state

    def _check_params(self):
        name = type(self).__name__
        check_bool(self.fit_intercept, "fit_intercept", name)
        check_bool(self.copy_X, "copy_X", name)
        check_int(self.max_iter, "max_iter", name, low=1, allow_none=True)
        check_real(self.tol, "tol", name, low=0)
        check_options(self.solver, "solver", name, set(SOLVERS) | set(_SKLEARN_SOLVERS))
        check_bool(self.positive, "positive", name)
        if self.positive and self.solver not in ("auto", "cd", "fista", "lbfgs"):
            raise ValueError(
                f"solver={self.solver!r} does not support positive fitting (the 'positive' "
                f"parameter of {name}). Use solver='auto', 'cd', 'fista' or 'lbfgs', or "
                "positive=False."
            )
        if self.solver == "lbfgs" and not self.positive:
            raise ValueError("'lbfgs' solver can be used only when positive=True. "
                             "Please use another solver.")
        check_random_state_param(self.random_state, name)

    def fit(self, X, y, sample_weight=None):
        """Fit the ridge regression model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. C- or Fortran-ordered float32/float64 arrays and CSR/CSC
            matrices are read in place; other layouts are converted once.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values, cast to the dtype of X.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Individual weights for each sample, used as given (a float weights every
            sample).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        self._check_params()
        X, y = _validate_X_y(self, X, y)
        n_samples = X.shape[0]
        Y = y.reshape(n_samples, -1)
        alphas = _target_alphas(self.alpha, Y.shape[1], type(self).__name__)
        weights = _raw_sample_weight(sample_weight, n_samples)
        coef, intercept, n_iter, solver = _fit_ridge(
            X, Y, alphas, weights, fit_intercept=self.fit_intercept,
            solver=_SKLEARN_SOLVERS.get(self.solver, self.solver),
            tol=float(self.tol), max_iter=self.max_iter, positive=bool(self.positive),
        )
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
            raise ValueError(
                "Ridge produced non-finite coefficients. The input data may contain "
                "values too large for the dtype of X."
            )
        _shape_attributes(self, coef, intercept, y.ndim, self.fit_intercept, X.dtype)
        self.n_iter_ = n_iter
        self.solver_ = solver
        return self



class RidgeCV(_LinearPredictor, MultiOutputMixin, RegressorMixin, BaseEstimator):
    """Ridge regression with alpha chosen by efficient cross-validation.

    By default (``cv=None``) alpha is chosen by exact leave-one-out cross-validation,
    computed for every alpha from one eigendecomposition of ``Xc^T S Xc`` (when
    n_samples > n_features) or of ``S^1/2 Xc Xc^T S^1/2``, as scikit-learn's RidgeCV
    does: the same scores, the same ``alpha_``. With ``cv=K`` (or a splitter) the folds'
    matrices are built from one pass over X and one eigendecomposition per fold serves
    every alpha.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,) or float, default=(0.1, 1.0, 10.0)
        Values of alpha to try (Ridge's scaling). Leave-one-out needs alpha > 0; with
        ``cv`` alpha=0 is allowed.
    fit_intercept : bool, default=True
        Whether to fit an intercept (implicit centring; X is never copied).
    scoring : str, callable or None, default=None
        Scorer for the choice of alpha. None: negative mean squared error of the
        leave-one-out residuals (in the sample-weighted scale, as scikit-learn) when
        ``cv=None``, R^2 otherwise. A scorer is given precomputed predictions through a
        stand-in estimator whose ``predict`` returns its input (as scikit-learn does for
        leave-one-out), so it must score predictions only.
    cv : int, cross-validation generator, iterable or None, default=None
        None for efficient leave-one-out; an int K for KFold(K) (no shuffling); a
        splitter or an iterable of (train, test) index arrays otherwise. Sample weights
        weight the training fits, and the test scores when the scorer accepts
        ``sample_weight`` (R^2 does), as scikit-learn 1.9's grid search does.
    gcv_mode : {'auto', 'svd', 'eigen'} or None, default=None
        Accepted for compatibility: every mode uses the eigendecomposition of the smaller
        of the two matrices above, which gives the SVD of the centred, weighted X without
        copying it.
    store_cv_results : bool, default=False
        Store the leave-one-out values in ``cv_results_`` (``cv=None`` only).
    alpha_per_target : bool, default=False
        Choose alpha separately for each target (``cv=None`` only).

    Attributes
    ----------
    alpha_ : float or ndarray of shape (n_targets,)
        The chosen alpha (one per target with ``alpha_per_target=True``).
    best_score_ : float or ndarray of shape (n_targets,)
        Cross-validation score of the chosen alpha.
    cv_results_ : ndarray of shape (n_samples, n_alphas) or (n_samples, n_targets, n_alphas)
        With ``store_cv_results=True``: squared leave-one-out errors (weighted scale) when
        ``scoring=None``, leave-one-out predictions otherwise.
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients at the chosen alpha, in the dtype of X.
    intercept_ : float or ndarray of shape (n_targets,)
        Independent term; 0.0 when ``fit_intercept=False``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when X has string column names.

    Notes
    -----
    Leave-one-out costs one Gram (or kernel) matrix and its eigendecomposition; when
    n_samples > n_features it also projects every sample on the eigenvectors (a product
    of X with a p x p matrix), which the leave-one-out residuals need. The kernel mode
    and K-fold are a little more than one Ridge fit. The p x p or n x n matrix must fit
    in memory (K-fold falls back to one 'cg' fit per fold and alpha when it would exceed
    1 GiB).

    A sample of zero weight does not change any fit; with a scorer its leave-one-out
    prediction is the full model's (scikit-learn returns NaN there).

    Examples
    --------
    >>> import numpy as np
    >>> from fastpen import RidgeCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 5))
    >>> y = X @ [1.0, 2.0, 0.0, 0.0, -1.0] + 0.1 * rng.standard_normal(50)
    >>> RidgeCV(alphas=[0.01, 0.1, 1.0, 10.0]).fit(X, y).alpha_
    0.01
    """

    def __init__(
        self,
        alphas=(0.1, 1.0, 10.0),
        *,
        fit_intercept=True,
        scoring=None,
        cv=None,
        gcv_mode=None,
        store_cv_results=False,
        alpha_per_target=False,
    ):
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.scoring = scoring
        self.cv = cv
        self.gcv_mode = gcv_mode
        self.store_cv_results = store_cv_results
        self.alpha_per_target = alpha_per_target

    def _check_params(self):
        name = type(self).__name__
        check_bool(self.fit_intercept, "fit_intercept", name)
        check_bool(self.store_cv_results, "store_cv_results", name)
        check_bool(self.alpha_per_target, "alpha_per_target", name)
        if self.gcv_mode is not None:
            check_options(self.gcv_mode, "gcv_mode", name, {"auto", "svd", "eigen"})
        if not (self.scoring is None or isinstance(self.scoring, str) or callable(self.scoring)):
            raise ValueError(
                f"The 'scoring' parameter of {name} must be a str, a callable or None. "
                f"Got {self.scoring!r} instead."
            )
        if self.cv is not None:
            if self.store_cv_results:
                raise ValueError("cv!=None and store_cv_results=True are incompatible")
            if self.alpha_per_target:
                raise ValueError("cv!=None and alpha_per_target=True are incompatible")
        return _check_alpha_grid(self.alphas, name, strictly_positive=self.cv is None)

    def fit(self, X, y, sample_weight=None, **params):
        """Fit Ridge regression with the alpha chosen by cross-validation.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, read in place (see :class:`Ridge`).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        sample_weight : float or array-like of shape (n_samples,), default=None
            Individual weights for each sample, used as given.
        **params : dict
            Passed to the CV splitter's ``split`` (e.g. ``groups``; through the
            metadata router when it is enabled). Only with ``cv`` given.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        grid = self._check_params()
        if params and self.cv is None:
            raise ValueError(
                f"Parameters {sorted(params)} go to the cross-validation splitter's "
                "split, and leave-one-out (cv=None) has none: pass cv.")
        if params and _routing_enabled():
            params = process_routing(self, "fit", sample_weight=sample_weight,
                                     **params).splitter.split
        X, y = _validate_X_y(self, X, y)
        n_samples = X.shape[0]
        Y = y.reshape(n_samples, -1)
        weights = _raw_sample_weight(sample_weight, n_samples)
        y_score = np.asarray(y, dtype=np.float64)
        scorer = None if self.scoring is None else check_scoring(self, scoring=self.scoring)
        design = _Centred(X, weights, self.fit_intercept)
        if self.cv is None:
            coef = self._fit_loo(design, Y, y_score, grid, weights, scorer, y.ndim)
        else:
            coef = self._fit_kfold(X, design, Y, y_score, grid, weights, scorer, y.ndim,
                                   params)
        ybar, _ = design.targets(Y)
        intercept = design.intercepts(ybar, coef)
        _shape_attributes(self, coef, intercept, y.ndim, self.fit_intercept, X.dtype)
        if self.store_cv_results:
            self.cv_results_ = self.cv_results_.astype(X.dtype, copy=False)
        return self

    def _fit_loo(self, design, Y, y_score, grid, weights, scorer, y_ndim):
        T = Y.shape[1]
        A = len(grid)
        _, t = design.targets(Y)
        looe, coef_for = _loo_errors(design, t, grid)
        per_target = self.alpha_per_target and T > 1
        if scorer is None:
            values = looe**2
            if self.alpha_per_target:
                scores = -values.mean(axis=0)  # (A, T)
            else:
                scores = -values.mean(axis=(0, 2))
        else:
            ybar, _ = design.targets(Y)
            values = _loo_full_predictions(design, Y, ybar, grid, looe)
            params = {} if weights is None else {"sample_weight": weights}
            identity = _PredictionsAsInput()
            Ys = y_score.reshape(len(y_score), -1)
            if self.alpha_per_target:
                scores = np.array([[scorer(identity, values[:, a, j], Ys[:, j], **params)
                                    for j in range(T)] for a in range(A)])
            else:
                shaped = values[:, :, 0] if y_ndim == 1 else values
                scores = np.array([scorer(identity, shaped[:, a], y_score, **params)
                                   for a in range(A)])
        if per_target:
            best = np.zeros(T, dtype=int)
            for a in range(1, A):  # first of the best, as scikit-learn (strict >)
                better = scores[a] > scores[best, np.arange(T)]
                best[better] = a
            self.alpha_ = grid[best]
            self.best_score_ = scores[best, np.arange(T)]
            coef = coef_for(self.alpha_)
        else:
            flat = scores.reshape(A, -1)[:, 0] if scores.ndim == 2 else scores
            best = 0
            for a in range(1, A):
                if flat[a] > flat[best]:
                    best = a
            self.alpha_ = float(grid[best])  # (a float, as scikit-learn's)
            if self.alpha_per_target and y_ndim == 2:
                self.best_score_ = scores[best].reshape(-1)  # scikit-learn: shape (1,)
            else:
                self.best_score_ = np.float64(flat[best])
            coef = coef_for(np.full(T, self.alpha_))
        if self.store_cv_results:
            self.cv_results_ = (values[:, :, 0] if y_ndim == 1
                                else values.transpose(0, 2, 1)).copy()
        return coef

    def get_metadata_routing(self):
        """Metadata routing of this object: its own requests, and ``fit``'s metadata
        routed to the CV splitter's ``split`` (``groups``), as in scikit-learn.

        Returns
        -------
        routing : sklearn.utils.metadata_routing.MetadataRouter
        """
        router = MetadataRouter(owner=self).add_self_request(self)
        if self.cv is None:
            return router
        return router.add(splitter=check_cv(self.cv),
                          method_mapping=MethodMapping().add(caller="fit", callee="split"))

    def _fit_kfold(self, X, design, Y, y_score, grid, weights, scorer, y_ndim,
                   split_params):
        cv = check_cv(self.cv, y_score, classifier=False)
        # splitters index X through sklearn.utils.indexable, which converts a CSC matrix
        # to CSR (a copy of X); they only need its length
        split_X = np.empty((X.shape[0], 0)) if sp.issparse(X) and X.format != "csr" else X
        splits = [(np.asarray(tr), np.asarray(te))
                  for tr, te in cv.split(split_X, y_score, **split_params)]
        identity = _PredictionsAsInput()
        # scikit-learn's search forwards sample_weight to the test-fold scorer when the
        # scorer accepts it (R^2 does): learnt on the first call
        weighted = [weights is not None]

        def score_one(y_test, predictions, test):
            if y_ndim == 1:
                y_test, predictions = y_test[:, 0], predictions[:, 0]
            if weighted[0]:
                try:
                    return scorer(identity, predictions, y_test, sample_weight=weights[test])
                except TypeError:
                    weighted[0] = False
            return scorer(identity, predictions, y_test)

        def score(y_test, predictions, test):
            """Scores of predictions (n_test, A, T): shape (A,)."""
            if scorer is None:
                return _r2_scores(y_test, predictions,
                                  None if weights is None else weights[test])
            return np.array([score_one(y_test, predictions[:, a, :], test)
                             for a in range(predictions.shape[1])])

        Ys = y_score.reshape(len(y_score), -1)
        m = min(design.n, design.p)
        if 8.0 * m * m <= _MAX_DENSE_BYTES:
            scores, refit = _kfold_scores(design, Ys, grid, splits, score)
        else:
            scores, refit = _kfold_scores_iterative(
                X, Y, weights, self.fit_intercept, grid, splits, score, tol=1e-4)
        mean = scores.mean(axis=0)
        best = int(np.argmax(np.where(np.isnan(mean), -np.inf, mean)))
        self.alpha_ = np.float64(grid[best])
        self.best_score_ = np.float64(mean[best])
        return refit(self.alpha_)



def ridge_path(X, y, alphas, *, sample_weight=None, fit_intercept=True):
    """Ridge coefficients for many alphas from one decomposition.

    One eigendecomposition of ``Xc^T S Xc`` (n_samples >= n_features) or of
    ``S^1/2 Xc Xc^T S^1/2`` gives the SVD of the centred, weighted X (without copying X);
    each alpha then costs a product with the singular vectors. The objective is Ridge's,
    ``sum_i s_i (y_i - x_i w - b)^2 + alpha ||w||^2``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data, read in place.
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        Target values.
    alphas : array-like of shape (n_alphas,)
        Penalties, >= 0 (alpha=0 gives the pseudo-inverse solution).
    sample_weight : float or array-like of shape (n_samples,), default=None
        Sample weights, used as given.
    fit_intercept : bool, default=True
        Whether to fit an intercept (implicit centring).

    Returns
    -------
    alphas : ndarray of shape (n_alphas,)
        The penalties, in the order given.
    coefs : ndarray of shape (n_features, n_alphas) or (n_targets, n_features, n_alphas)
        Coefficients along the path (lasso_path's layout), in the dtype of X.
    intercepts : ndarray of shape (n_alphas,) or (n_targets, n_alphas)
        Intercepts along the path (zeros without an intercept).
    """
    check_bool(fit_intercept, "fit_intercept", "ridge_path")
    grid = _check_alpha_grid(alphas, "ridge_path", strictly_positive=False)
    X = check_array(X, accept_sparse=["csr", "csc", "coo"], accept_large_sparse=True,
                    dtype=[np.float64, np.float32], copy=False, input_name="X")
    if sp.issparse(X):
        X = canonical_sparse(X)
    elif not (X.flags.c_contiguous or X.flags.f_contiguous):
        X = np.asfortranarray(X)
    y = check_array(y, dtype=X.dtype.type, ensure_2d=False, copy=False, input_name="y")
    if y.ndim > 2 or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"y must have shape (n_samples,) or (n_samples, n_targets) with n_samples = "
            f"{X.shape[0]} (the rows of X); got {y.shape}."
        )
    Y = y.reshape(X.shape[0], -1)
    design = _Centred(X, _raw_sample_weight(sample_weight, X.shape[0]), fit_intercept)
    ybar, t = design.targets(Y)
    coefs = _Spectrum(design, t, alpha_min=grid.min()).path(grid)  # (A, T, p)
    intercepts = (ybar[None, :] - coefs @ design.xbar) if fit_intercept else np.zeros(
        coefs.shape[:2])
    coefs = coefs.transpose(1, 2, 0).astype(X.dtype)  # (T, p, A)
    intercepts = intercepts.T  # (T, A)
    if y.ndim == 1:
        return grid, coefs[0], intercepts[0]
    return grid, coefs, intercepts
