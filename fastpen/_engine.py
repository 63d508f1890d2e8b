"""Python side of the engines: X prepared once, column statistics, penalty weights."""
import sys
import warnings
import itertools
from collections import namedtuple
from contextlib import contextmanager

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

try:
    from . import _design, _enet
except ImportError as exc:  # a source tree without its in-place build
    raise ImportError(
        "fastpen's compiled extensions are missing: build them with `pip install -e .` "
        "(or `python setup.py build_ext --inplace`), or import fastpen from outside "
        "the source tree") from exc
from ._enet import free_feature_limit, free_feature_set
from ._validation import design_arrays, matched_index_arrays

_EMPTY = np.empty(0, dtype=np.float64)
_NO_INDEX = np.empty(0, dtype=np.int32)


class Design:
    """A validated X (Fortran dense or canonical CSC) as the engines read it.

    Nothing is copied: the engines read the caller's buffers directly. Column means and
    centred norms depend on the sample weights and on centring, so they are computed on
    request by :meth:`column_stats`.
    """

    def __init__(self, X):
        self.X = X
        self.data, self.indices, self.indptr, self.is_sparse = design_arrays(X)
        self.n_samples, self.n_features = X.shape
        self.dtype = X.dtype

    def lipschitz(self, sample_weight, center):
        """Largest eigenvalue of Xc^T S Xc (power iteration), the proximal-gradient step."""
        sw = _EMPTY if sample_weight is None else sample_weight
        lipschitz = _design.lipschitz_constant(
            self.data, self.indices, self.indptr, self.is_sparse,
            self.n_samples, self.n_features, sw, center,
        )
        if not np.isfinite(lipschitz):
            raise ValueError(
                "The values of X are too large for the proximal-gradient solvers: the "
                "step size, 1 / ||X||^2, is not a float64. Rescale X, or use solver='cd'.")
        return lipschitz

    def xt_dot(self, v):
        """X^T v in float64, X read as it is (v in float64)."""
        v = np.ascontiguousarray(v, dtype=np.float64)
        return _design.xt_dot(self.data, self.indices, self.indptr, int(self.is_sparse),
                              self.n_samples, self.n_features, v)

    def column_stats(self, sample_weight, center):
        """Return (X_mean, norm2), the weighted column means and centred squared norms."""
        sw = _EMPTY if sample_weight is None else sample_weight
        return _design.column_stats(
            self.data, self.indices, self.indptr, self.is_sparse,
            self.n_samples, self.n_features, sw, center,
        )


class GramDesign:
    """Q = Xc^T S Xc: coordinate descent in feature space.

    Worth it when n_samples > n_features (a CD epoch then costs O(p^2), not O(n p)):
    glmnet's covariance updates, scikit-learn's ``precompute``. Q is computed by BLAS
    syrk on rows gathered a few at a time, centred and weighted there, so that X is
    never copied whole.

    Parameters
    ----------
    design : Design
    sample_weight : ndarray or None
        Rescaled to sum to n_samples.
    center : bool
    gram : ndarray of shape (n_features, n_features), optional
        A precomputed Q to use instead (checked against X on a few entries).
    stats : tuple, optional
        ``design.column_stats(sample_weight, center)`` when already computed. Without
        them, for dense X, they come out of the pass that computes Q (one pass over X
        instead of two; see `centred_norm2`).

    Attributes
    ----------
    X_mean : ndarray of shape (n_features,)
        Weighted column means (zeros without centring).
    centred_norm2 : ndarray of shape (n_features,)
        As ``design.column_stats`` returns them (0 for constant columns).
    """

    def __init__(self, design, sample_weight, center, gram=None, stats=None):
        X = design.X
        self.design = design
        self.sample_weight = sample_weight
        self.center = center
        n = X.shape[0]
        if gram is not None:
            self.X_mean, centred_norm2 = stats or design.column_stats(sample_weight, center)
            Q = np.asarray(gram, dtype=np.float64)
            self._check(Q, X, sample_weight)
        elif design.is_sparse:
            self.X_mean, centred_norm2 = stats or design.column_stats(sample_weight, center)
            if center and cancelling_means(self.X_mean, centred_norm2, n):
                Q = centred_rows_gram(
                    X, None if sample_weight is None else np.sqrt(sample_weight),
                    self.X_mean)
            else:
                # float32 products summed in float32, minus n m m^T, gave a
                # coefficient of 19.1 for 1.025 at a mean of 1e3 +- 1: float64 sums
                Q = sparse_gram(X, sample_weight)
                if center:
                    subtract_outer(Q, self.X_mean, self.X_mean, times=n)
        else:
            shift = None if stats is None else stats[0]
            if shift is None and center and sample_weight is not None:
                # the weighted means (a pass over X): a shift by the first rows' mean
                # left B^T s far from 0 where a row outweighs the rest (weights 1e16 to
                # 1, coefficients 0.742 for 0.814 with a gap of 3e-31)
                shift = design.column_stats(sample_weight, center)[0]
            Q, self.X_mean, centred_norm2 = self._dense_gram(X, sample_weight, center, shift)
            if stats is not None:
                # the caller's, for statistics identical to those of its other uses
                self.X_mean, centred_norm2 = stats
        self.centred_norm2 = centred_norm2
        # a computed Q is exactly symmetric: its transpose is the Fortran array, no copy
        self.Q = (Q.T if gram is None and Q.flags.c_contiguous and not Q.flags.f_contiguous
                  else np.asfortranarray(Q))
        # constant columns stay out, as in the other storages
        self.norm2 = np.where(centred_norm2 == 0, 0.0, np.diag(self.Q).astype(np.float64))
        self.data = self.Q.reshape(-1, order="F")

    @staticmethod
    def _dense_gram(X, sample_weight, center, shift=None):
        """Q = Xc^T S Xc of a dense X in float64, with the column means and centred
        norms, all from one pass over X.

        With centring, the products of the rows minus a shift near the column means
        (`shift`, else the mean of the first rows), gathered a few at a time
        (`row_moments`), and the rank-one difference to the exact means taken out
        after: ``Xc^T S Xc = B^T S B - (B^T s)(B^T s)^T / n``. Not X^T S X - n m m^T,
        whose difference cancels the digits of large means (float32 columns of mean
        1000 gave coefficients off by 2.5 that way). Constant columns get a norm of
        exactly 0, as ``Design.column_stats`` gives them.
        """
        n = X.shape[0]
        if not center:
            # (float32 X: its products in float64, by row_moments; so too a product of
            # more than a second or so, which Ctrl-C could not stop inside numpy's syrk)
            quick = n * X.shape[1] ** 2 <= _UNINTERRUPTED_PRODUCT
            Q = (X.T @ X if sample_weight is None and X.dtype == np.float64 and quick
                 else row_moments(X, np.arange(n), np.zeros(n), sample_weight, None, 0.0)[0])
            return (np.asarray(Q, dtype=np.float64), np.zeros(X.shape[1]),
                    np.diag(Q).astype(np.float64))
        if shift is None:
            shift = np.asarray(X[:_SHIFT_ROWS], dtype=np.float64).mean(axis=0)
        BSB, Bs = row_moments(X, np.arange(n), np.zeros(n), sample_weight, shift, 0.0)[:2]
        Q = BSB
        subtract_outer(Q, Bs, Bs, over=n)
        X_mean = shift + Bs / n
        centred = np.diag(Q).astype(np.float64)
        # sum s x^2 from the same moments, for column_stats' threshold: what is left
        # after centring a constant column is rounding of that size
        raw = centred + n * X_mean ** 2
        # (the data's precision: moments about a shift near the means keep no rounding
        # of a sum of large terms; column_stats' corrected norms go as far)
        eps = np.finfo(X.dtype).eps
        norm2 = np.where(centred > 16.0 * eps * eps * raw, centred, 0.0)
        return np.asarray(Q, dtype=np.float64), X_mean, norm2

    def _check(self, Q, X, sample_weight):
        p = X.shape[1]
        if Q.shape != (p, p):
            raise ValueError(
                f"precompute (Gram matrix) must have shape ({p}, {p}), got {Q.shape}.")
        rng = np.random.default_rng(0)
        s = np.ones(X.shape[0]) if sample_weight is None else sample_weight
        for i, j in rng.integers(0, p, size=(3, 2)):
            xi = _column(X, i) - self.X_mean[i]
            xj = _column(X, j) - self.X_mean[j]
            expected = float(np.dot(s * xi, xj))
            if not np.isclose(Q[i, j], expected, rtol=1e-4, atol=1e-6 * max(1.0, abs(expected))):
                raise ValueError(
                    "The Gram matrix passed in via 'precompute' does not match X (entry "
                    f"[{i}, {j}] is {Q[i, j]}, expected {expected}): it must be "
                    "Xc^T S Xc of the (centred, weighted) data."
                )

    def target(self, y):
        """Return (Xc^T S yc, ||yc||_S^2, y_mean) for one target.

        Cached for the last target: a path solves the same y at every alpha, and X^T y
        is a full read of X.
        """
        cached = getattr(self, "_target", None)
        if cached is not None and cached[0] is y:
            return cached[1]
        result = self._target_stats(y)
        self._target = (y, result)
        return result

    def _target_stats(self, y):
        y64 = np.asarray(y, dtype=np.float64)
        y_mean = weighted_mean(y64, self.sample_weight) if self.center else 0.0
        s = 1.0 if self.sample_weight is None else self.sample_weight.astype(np.float64)
        weighted = s * (y64 - y_mean)
        Xty = self.design.xt_dot(weighted)
        Xty -= self.X_mean * weighted.sum()
        return Xty, float(weighted @ (y64 - y_mean)), y_mean


def subtract_outer(Q, u, v, times=1.0, over=1.0):
    """Q -= outer(u, v) * times / over in place, a few rows at a time: no temporaries of
    Q's size. Each entry is (u_i v_j) * times / over, so a symmetric Q stays exactly
    symmetric for u = v."""
    step = max(1, CHUNK // max(Q.shape[1], 1))
    for start in range(0, Q.shape[0], step):
        block = np.outer(u[start:start + step], v)
        if times != 1.0:
            block *= times
        if over != 1.0:
            block /= over
        Q[start:start + step] -= block


def take_rows(X, rows):
    """X[rows] as a new Fortran array or canonical CSC matrix, in one copy.

    Parameters
    ----------
    X : Fortran-contiguous ndarray or canonical CSC matrix
    rows : int array of distinct row indices
        Taken in increasing order (the caller reorders y and the weights the same way:
        the result is returned with the sorted rows).

    Returns
    -------
    X_rows, sorted_rows
    """
    rows = np.sort(np.asarray(rows, dtype=np.intp))
    n, p = X.shape
    new_row = np.full(n, -1, dtype=np.intp)
    new_row[rows] = np.arange(rows.size)
    data, indices, indptr, is_sparse = design_arrays(X)
    if is_sparse:
        kept = int(np.count_nonzero(new_row[indices] >= 0))
        # filled before the matrix is built: scipy prunes its arrays to indptr[-1]
        data_out = np.empty(kept, dtype=X.dtype)
        indices_out = np.empty(kept, dtype=indices.dtype)
        indptr_out = np.empty(p + 1, dtype=indptr.dtype)
        _design.take_rows(data, indices, indptr, 1, n, p, new_row, rows, rows.size,
                          data_out, indices_out, indptr_out)
        out = sp.csc_matrix((data_out, indices_out, indptr_out), shape=(rows.size, p))
        out.has_sorted_indices = True
        out.has_canonical_format = True
        return out, rows
    out = np.empty((rows.size, p), dtype=X.dtype, order="F")
    _design.take_rows(data, indices, indptr, 0, n, p, new_row, rows, rows.size,
                      out.reshape(-1, order="F"), indices, indptr)
    return out, rows


class HeldOutRows:
    """Some rows of X, read in place: predictions for batches of coefficient vectors.

    A cross-validation fold predicts its held-out rows at every alpha. Reading them
    where they are (only the columns some coefficient in the batch uses) needs no copy
    of the rows, and a sparse path touches a few columns.

    Parameters
    ----------
    X : Fortran-contiguous ndarray or canonical CSC matrix
    rows : int array of distinct row indices
        Sorted here: ``self.rows`` gives the order of the predictions.
    """

    # dense rows gathered at a time for gemm (a buffer that stays in cache)
    CHUNK_BYTES = 1 << 20

    def __init__(self, X, rows):
        self.rows = np.sort(np.asarray(rows, dtype=np.intp))
        self.n_samples, self.n_features = X.shape
        self.dtype = X.dtype
        self.arrays = design_arrays(X)
        self.new_row = _NO_ROWS
        if self.arrays[3]:
            self.new_row = np.full(X.shape[0], -1, dtype=np.intp)
            self.new_row[self.rows] = np.arange(self.rows.size)

    def predict(self, support, values):
        """X[rows] @ W for W with nonzero rows `support` holding `values`.

        Parameters
        ----------
        support : int array of shape (n_support,)
        values : ndarray of shape (n_support, n_vectors)

        Returns
        -------
        ndarray of shape (n_rows, n_vectors), dtype of X
        """
        data, indices, indptr, is_sparse = self.arrays
        W = np.asfortranarray(values, dtype=self.dtype)
        out = np.empty((self.rows.size, W.shape[1]), dtype=self.dtype, order="F")
        chunk = max(64, self.CHUNK_BYTES // max(1, support.size * self.dtype.itemsize))
        _design.rows_times(data, indices, indptr, int(is_sparse), self.n_samples,
                           self.new_row, self.rows, np.asarray(support, dtype=np.intp), W,
                           out, chunk)
        return out


_NO_ROWS = np.empty(0, dtype=np.intp)
# n p^2 of the longest Gram product left to a single BLAS call (about half a second on
# one core); longer ones go by chunks of rows, between which Ctrl-C is let through
_UNINTERRUPTED_PRODUCT = 2e9
# rows whose mean shifts X before its Gram matrix is taken (GramDesign)
_SHIFT_ROWS = 64


def row_moments(X, rows, y, sample_weight, x_shift, y_shift):
    """Moments of the rows `rows` of a dense Fortran X about (x_shift, y_shift), read in
    place: ``_design.row_moments``. `y` and `sample_weight` (or None) are full-length;
    `x_shift` None for no shift.

    Returns
    -------
    (B^T S B, B^T s, B^T S z, sum s, sum s z, sum s z^2), B = X[rows] - x_shift,
    z = y[rows] - y_shift, in float64.
    """
    rows = np.asarray(rows, dtype=np.intp)
    weights = _EMPTY if sample_weight is None else np.asarray(sample_weight[rows], np.float64)
    shift = _EMPTY if x_shift is None else np.asarray(x_shift, dtype=np.float64)
    chunk = max(64, HeldOutRows.CHUNK_BYTES // max(1, X.shape[1] * X.dtype.itemsize))
    return _design.row_moments(X.reshape(-1, order="F"), X.shape[0], X.shape[1], rows,
                               np.asarray(y[rows], dtype=np.float64), weights, shift,
                               float(y_shift), chunk)


def row_means(X, rows, y, sample_weight):
    """The weighted means of the rows `rows` of a dense X and of y[rows] (float64), by
    chunks of rows of at most HeldOutRows.CHUNK_BYTES: a pass of p per row where
    `row_moments` costs p^2. `sample_weight` is full-length."""
    rows = np.asarray(rows, dtype=np.intp)
    weights = np.asarray(sample_weight[rows], dtype=np.float64)
    chunk = max(64, HeldOutRows.CHUNK_BYTES // max(1, X.shape[1] * X.dtype.itemsize))
    x_sum = np.zeros(X.shape[1])
    for start in range(0, rows.size, chunk):
        x_sum += weights[start:start + chunk] @ X[rows[start:start + chunk]]
    total = weights.sum()
    return x_sum / total, float(weights @ np.asarray(y[rows], dtype=np.float64)) / total


# Temporaries built from X (a centred or weighted chunk of rows or columns) hold at most
# this many elements: bounded memory, and still long enough for BLAS to run at full speed.
CHUNK = 2**21


def compressed_blocks(X, budget=None):
    """Consecutive ranges of the compressed axis (columns of CSC, rows of CSR) holding at
    most `budget` nonzeros each (or one long row/column), as (start, stop, block): the
    block is a CSC/CSR matrix over views of X's arrays, not a copy."""
    kind = sp.csc_matrix if X.format == "csc" else sp.csr_matrix
    for start, stop, data, indices, indptr in compressed_block_arrays(X, budget):
        shape = (X.shape[0], stop - start) if X.format == "csc" else (stop - start, X.shape[1])
        yield start, stop, kind((data, indices, indptr), shape=shape, copy=False)


def compressed_block_arrays(X, budget=None):
    """`compressed_blocks` as the raw (start, stop, data, indices, indptr) of each
    block (views of X's data and indices, a new indptr), without the sparse matrix
    objects, whose construction and checks cost more than a small X's whole product."""
    budget = CHUNK if budget is None else budget
    indptr = X.indptr
    count = indptr.shape[0] - 1
    start = 0
    while start < count:
        limit = indptr[start] + budget
        stop = max(start + 1, int(np.searchsorted(indptr, limit, side="right")) - 1)
        stop = min(stop, count)
        lo, hi = indptr[start], indptr[stop]
        yield start, stop, X.data[lo:hi], X.indices[lo:hi], indptr[start:stop + 1] - lo
        start = stop


def minor_blocks(X, budget=None, max_minor=None):
    """Consecutive ranges of the minor axis (rows of CSC, columns of CSR) holding at most
    `budget` stored entries (or one long row/column) and `max_minor` rows/columns each,
    as (start, stop, block): the block is X[start:stop] of a CSC X as a CSR matrix
    (X[:, start:stop] of a CSR X as a CSC one), in float64, with sorted indices.

    All blocks together read X once (`_design.minor_block`), without a copy of all of X
    in the other format. X with unsorted indices, which that needs, is sliced by scipy
    instead, which reads all of X per block."""
    csc = X.format == "csc"
    kind = sp.csr_matrix if csc else sp.csc_matrix
    for start, stop, data, indices, indptr in minor_block_arrays(X, budget, max_minor):
        shape = (stop - start, X.shape[1]) if csc else (X.shape[0], stop - start)
        yield start, stop, kind((data, indices, indptr), shape=shape, copy=False)


def minor_block_arrays(X, budget=None, max_minor=None):
    """`minor_blocks` as the raw (start, stop, data, indices, indptr) of each block,
    without the sparse matrix objects (see `compressed_block_arrays`)."""
    budget = CHUNK if budget is None else budget
    csc = X.format == "csc"
    n_minor = X.shape[0] if csc else X.shape[1]
    max_minor = n_minor if max_minor is None else max(1, max_minor)
    data, indices, indptr, _ = design_arrays(X if csc else X.T)
    counts = _design.minor_counts(indices, n_minor)
    ends = np.concatenate(([0], np.cumsum(counts)))
    in_order = X.has_sorted_indices
    cursor = indptr[:-1].copy()
    kind = sp.csr_matrix if csc else sp.csc_matrix
    start = 0
    while start < n_minor:
        stop = int(np.searchsorted(ends, ends[start] + budget, side="right")) - 1
        stop = min(max(stop, start + 1), start + max_minor, n_minor)
        if not in_order:
            block = kind(X[start:stop] if csc else X[:, start:stop], dtype=np.float64)
            block.sort_indices()
            yield start, stop, block.data, block.indices, block.indptr
        else:
            block_indptr = (ends[start:stop + 1] - ends[start]).astype(indptr.dtype)
            block_data = np.empty(int(block_indptr[-1]))
            block_indices = np.empty(block_data.size, dtype=indices.dtype)
            _design.minor_block(data, indices, indptr, cursor, start, stop,
                                block_indptr[:-1].copy(), block_data, block_indices)
            yield start, stop, block_data, block_indices, block_indptr
        start = stop


def mixed_budget(X):
    """Blocks for a product that reads all of X once per block (scipy's sparse-sparse
    product walks its whole left operand): at most 16 of them, each at least CHUNK
    nonzeros, so the time stays within 16 passes and the copies within 1/16 of X."""
    return max(CHUNK, -(-X.nnz // 16))


def centred_rows_gram(X, sqrt_weights=None, shift=None, dtype=np.float64):
    """The sum over row chunks of B^T B, B = diag(sqrt_weights) (X_rows - shift) in
    `dtype` (no shift: X's rows): exact centring, where X^T S X - n m m^T cancels the
    digits of means far above their spread. A chunk holds CHUNK entries; sparse rows
    are made dense a chunk at a time (the columns that need this are dense anyway),
    taken from CSC X by `minor_blocks` (row slices of CSC read all of X each)."""
    n, p = X.shape
    shift = None if shift is None else np.asarray(shift).astype(dtype)
    root = None if sqrt_weights is None else np.asarray(sqrt_weights).astype(dtype)
    Q = np.zeros((p, p))
    # (a quarter of CHUNK: the chunk is copied, and numpy's product may copy it again)
    step = max(1, CHUNK // 4 // max(p, 1))
    if sp.issparse(X) and X.format == "csc":
        blocks = minor_blocks(X, max_minor=step)
    else:
        blocks = ((start, min(start + step, n), X[start:start + step])
                  for start in range(0, n, step))
    for start, stop, block in blocks:
        B = np.array(block.toarray() if sp.issparse(block) else block, dtype=dtype)
        if shift is not None:
            B -= shift
        if root is not None:
            B *= root[start:stop, None]
        Q += B.T @ B
    return Q


def sparse_gram(X, weights):
    """X^T S X of a CSC or CSR X as a dense float64 array, summed in float64, with
    temporaries bounded by CHUNK entries.

    Row by row, s_i x_i x_i^T added into the result (``_design.add_row_products``):
    over CSR X's own rows, or blocks of CSC X's rows (`minor_blocks`). That costs
    sum_i nnz_i^2, at most the p nnz of a column-by-column product (measured: equal on
    dense rows, 7x faster on sparse ones). scipy's product would sum float32 in
    float32, convert one operand to the other's format (all of X), and build a sparse
    result of up to 1.5 times the dense one first.
    """
    p = X.shape[1]
    w = None if weights is None else np.ascontiguousarray(weights, np.float64)
    G = np.zeros((p, p))
    blocks = minor_block_arrays(X) if X.format == "csc" else compressed_block_arrays(X)
    for start, stop, data, indices, indptr in blocks:
        indices, indptr = matched_index_arrays(indices, indptr)
        _design.add_row_products(data, indices, indptr,
                                 _EMPTY if w is None else w[start:stop], G)
    _design.mirror_upper(G)
    return G


def _column(X, j):
    return X[:, [j]].toarray().ravel() if sp.issparse(X) else X[:, j]


# |mean| / standard deviation of a column beyond which implicit centring loses the
# gradient: x_j^T S q - mean_j 1^T S q cancels about ratio^2 times the rounding
CANCELLING_RATIO = 1e4


def cancelling_means(X_mean, norm2, n_samples, ratio=CANCELLING_RATIO):
    """Whether a column's mean is over `ratio` times its spread: so large that implicit
    centring (the engines' residual updates, see `statistics_and_gram`) would cancel
    it away."""
    X_mean, norm2 = np.asarray(X_mean), np.asarray(norm2)
    # by blocks of columns: whole temporaries of p (four of them) had set the fit's
    # peak memory on wide X (0.9 MB above the engine's on P3)
    step = 8192
    for start in range(0, norm2.size, step):
        spread = np.sqrt(norm2[start:start + step] / n_samples)
        mean = X_mean[start:start + step]
        if np.any((spread > 0) & (np.abs(mean) > ratio * spread)):
            return True
    return False


def statistics_and_gram(design, sample_weight, center, with_gram, given=None,
                        solver="cd"):
    """Return (X_mean, norm2, gram): the column statistics (`Design.column_stats`) and,
    with `with_gram`, the :class:`GramDesign` (on the Gram matrix `given`, or computed;
    computed from dense X, it brings the statistics from its own pass), else None.

    Without it, the engines centre X implicitly: their residual is y - X w, and a
    gradient x_j^T S q - mean_j 1^T S q. With a column whose mean is more than
    CANCELLING_RATIO times its spread (1e8 +- 1, say) that difference cancels most of
    its digits, and coordinate descent diverged (coefficients of 1e96). There, with
    n_samples >= n_features (and, for sparse X, n_features^2 stored entries at most),
    coordinate descent runs on the Gram matrix instead, which is then centred exactly
    (a shift for dense X, centred rows for sparse X) and no larger than X. Elsewhere
    (wide X, or proximal gradient) a warning says to centre X first."""
    if with_gram:
        stats = None
        if given is not None and center:
            p = design.n_features
            if np.shape(given) != (p, p):
                raise ValueError("precompute (Gram matrix) must have shape "
                                 f"({p}, {p}), got {np.shape(given)}.")
            stats = design.column_stats(sample_weight, center)
            if not np.allclose(stats[0], 0.0):
                # scikit-learn's rule: a Gram matrix of uncentred X is recomputed
                warnings.warn("Gram matrix was provided but X was centered to fit "
                              "intercept: recomputing Gram matrix.", UserWarning,
                              stacklevel=_user_stacklevel())
                given = None
        gram = GramDesign(design, sample_weight, center, gram=given, stats=stats)
        return gram.X_mean, gram.centred_norm2, gram
    X_mean, norm2 = design.column_stats(sample_weight, center)
    if not (center and cancelling_means(X_mean, norm2, design.n_samples)):
        return X_mean, norm2, None
    n, p = design.n_samples, design.n_features
    if solver == "cd" and n >= p and (not design.is_sparse or p * p <= design.data.size):
        gram = GramDesign(design, sample_weight, center, stats=(X_mean, norm2))
        return X_mean, norm2, gram
    warnings.warn(
        f"Some columns of X have a mean over {CANCELLING_RATIO:g} times their standard "
        "deviation: centring them implicitly loses most of the precision of the fit. "
        "Centre X first (subtract the column means); with n_samples >= n_features, "
        "solver='cd' does it exactly.",
        UserWarning, stacklevel=_user_stacklevel())
    return X_mean, norm2, None


def given_gram(precompute):
    """The Gram matrix a `precompute` parameter passes (None for True, False, 'auto')."""
    if isinstance(precompute, (bool, np.bool_, str)):
        return None
    if sp.issparse(precompute):
        raise ValueError("precompute must be True, False, 'auto' or a dense Gram matrix "
                         "(array-like), not a sparse matrix.")
    return precompute


def use_gram(precompute, design, solver):
    """When to run coordinate descent on the Gram matrix.

    'auto': dense X with n_samples > n_features (scikit-learn's rule), and sparse X
    with n_samples > n_features whose Q has no more entries than X stores: a CD epoch
    on Q (an axpy of length p per moving coefficient) then costs no more than one on X,
    and a path or a fold computes Q once. Q is float64 whatever the dtype of X. Always
    when asked (True or an array, sparse X included); never for proximal gradient.
    """
    if solver != "cd":
        return False
    if isinstance(precompute, str):
        if design.n_samples <= design.n_features:
            return False
        return not design.is_sparse or design.n_features ** 2 <= design.data.size
    return not isinstance(precompute, (bool, np.bool_)) or bool(precompute)


def _offset_floors_target(y, y_mean, sample_weight, tol):
    """Whether the engines' floor on the gap's target, n (4 eps max|y|)^2 (what the
    residual's rounding can certify), passes tol ||y - ybar||_S^2: y far from 0
    against its spread (1e14 + 1e-2 z stopped at iteration 0, 3700 targets above the
    optimum)."""
    centred = np.asarray(y, dtype=np.float64) - y_mean
    spread = (centred @ centred if sample_weight is None
              else np.dot(sample_weight, centred * centred))
    floor = y.shape[0] * (4.0 * np.finfo(np.float64).eps * np.max(np.abs(y), initial=0.0)) ** 2
    return floor > tol * spread


# Ctrl-C during tasks in worker threads: a signal reaches only the main thread, whose
# Parallel call then raises while the workers' loops run on (for as long as a fold's path
# takes). `cancel_workers_on_interrupt` gives the call an id, and cancels it on the way
# out: its tasks (`run_task`) check it as they start, and their engine loops at their
# interrupt checks. Other calls, in other threads, run on.
_call_ids = itertools.count(1)
_cancelled_calls = set()


def run_task(call, function, *args, **kwargs):
    """function(*args, **kwargs) as a task of call `call` (an id from
    `cancel_workers_on_interrupt`; None: of no call): None without running once the call
    was cancelled, else run so that its cancellation stops every engine loop it runs."""
    if call is None:
        return function(*args, **kwargs)
    if call in _cancelled_calls:
        return None
    _enet.set_task_call(call)
    _design.set_task_call(call)
    try:
        return function(*args, **kwargs)
    finally:
        _enet.set_task_call(0)
        _design.set_task_call(0)


@contextmanager
def cancel_workers_on_interrupt():
    """Give the block a call id for its tasks; on KeyboardInterrupt in it, cancel the
    call's tasks (their running engine loops raise it too, the others do not start),
    then re-raise."""
    call = next(_call_ids)
    try:
        yield call
    except KeyboardInterrupt:
        _cancelled_calls.add(call)
        _enet.cancel_call(call)
        _design.cancel_call(call)
        raise


def weighted_mean(y, sample_weight):
    """Mean of y (float64) under weights that sum to n_samples, or the plain mean."""
    if sample_weight is None:
        return float(np.mean(y, dtype=np.float64))
    return float(np.dot(sample_weight.astype(np.float64), y) / y.shape[0])


SOLVERS = _enet.SOLVERS

Solution = namedtuple(
    "Solution", ["intercept", "dual_gap", "gap_target", "n_iter", "converged", "gap"]
)
Solution.__doc__ = """Result of one solve.

intercept : float
dual_gap : float
    scikit-learn's ``dual_gap_`` (the n-scaled gap divided by n_samples).
gap_target : float
    The n-scaled target tol * ||yc||_S^2.
n_iter : int
    Epochs (cd) or iterations (fista, ista).
converged : bool
gap : float
    The n-scaled gap (the number scikit-learn prints in its warning).
"""

class PathSolution(namedtuple("PathSolution", Solution._fields)):
    """Results of a solve along alphas: :class:`Solution`'s fields, each an array over
    the alphas (gap_target a float)."""

    __slots__ = ()

    def solution(self, k):
        """The :class:`Solution` at alpha k."""
        return Solution(float(self.intercept[k]), float(self.dual_gap[k]),
                        self.gap_target, int(self.n_iter[k]), bool(self.converged[k]),
                        float(self.gap[k]))


_MESSAGE_CONVERGENCE = (
    "Objective did not converge. You might want to increase "
    "the number of iterations, check the scale of the "
    "features or consider increasing regularisation."
)
_MESSAGE_NO_L1 = (
    "Linear regression models with a zero l1 penalization "
    "strength are more efficiently fitted using one of the "
    "solvers implemented in "
    "sklearn.linear_model.Ridge/RidgeCV instead."
)


def warn_not_converged(solution, no_l1=False, stacklevel=2):
    """scikit-learn's ConvergenceWarning for a solve that stopped short of its gap
    target (with its advice to use Ridge when there is no l1 penalty)."""
    message = (f"{_MESSAGE_CONVERGENCE} Duality gap: {solution.gap:.6e}, "
               f"tolerance: {solution.gap_target:.3e}")
    if no_l1:
        message += "\n" + _MESSAGE_NO_L1
    warnings.warn(message, ConvergenceWarning, stacklevel=stacklevel + 1)


# The Rayleigh quotient approaches the top eigenvalue from below: start a little above it
# so that backtracking (which halves the step) is the exception.
LIPSCHITZ_MARGIN = 1.0


def solve_enet(design, y, *, alpha, seed=1, **options):
    """Solve one elastic-net problem with the engine named by `solver`.

    Parameters
    ----------
    design : Design
    y : ndarray of shape (n_samples,), dtype of X
    alpha : float
    seed : int
        Seed of the random coordinate order (cd with ``random=True``).
    **options
        As :func:`solve_enet_path` (`coef` is the start point, overwritten with the
        solution; `strong_ratio` the ratio of the alpha it was solved at to `alpha`).

    Returns
    -------
    Solution
    """
    return solve_enet_path(design, y, alphas=np.array([float(alpha)]),
                           seeds=np.array([seed], dtype=np.int64), **options).solution(0)


def penalty_bases(penalty_factor, n_samples, l1_ratio):
    """The l1 and l2 weights of each feature at alpha = 1 (in the engine's scaling:
    n_samples times the objective's). A uniform `penalty_factor` (a view of one number,
    as `check_penalty_factor` gives for None) gives views of one number each: no memory
    per feature, the same weights."""
    l1_scale, l2_scale = n_samples * l1_ratio, n_samples * (1.0 - l1_ratio)
    if penalty_factor.ndim == 1 and penalty_factor.strides == (0,):
        shape = penalty_factor.shape
        return (np.broadcast_to(penalty_factor[0] * l1_scale, shape),
                np.broadcast_to(penalty_factor[0] * l2_scale, shape))
    return penalty_factor * l1_scale, penalty_factor * l2_scale


def warn_uncertified_free_features(l1_base, l2_base, norm2, lower, upper, data_nbytes):
    """Warn when more features are unpenalized, with an infinite bound, than the gap
    can project off (`fastpen._enet.free_feature_limit`): the gap then adds their 1-D
    decreases, an estimate that is not a bound on the suboptimality."""
    count = free_feature_set(l1_base, l2_base, norm2, _EMPTY if lower is None else lower,
                             _EMPTY if upper is None else upper).size
    limit = free_feature_limit(data_nbytes)
    if count > limit:
        warnings.warn(
            f"{count} features are unpenalized (penalty_factor 0) with no finite bound on "
            f"both sides, more than the {limit} the duality gap can project off for "
            "an X of this size: dual_gap_ is then an estimate, not a bound on the "
            "distance to the optimum, and solver='fista' may stop early. "
            "solver='cd' drives their gradients to zero in its sweeps.",
            UserWarning, stacklevel=_user_stacklevel())


def _user_stacklevel():
    """The stacklevel of the first caller outside fastpen, for a warning issued by the
    function that calls this one (fits, paths and CV reach the engine at different
    depths)."""
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("fastpen"):
        frame, level = frame.f_back, level + 1
    return level


def solve_enet_path(
    design, y, *, sample_weight, X_mean, norm2, center, coef, alphas, l1_ratio,
    penalty_factor, lower, upper, max_iter, tol, solver="cd", random=False, seeds=None,
    screening=True, lipschitz=None, restart=True, gram=None, start_set=None,
    strong_ratio=0.0, workspace=None, coefs=None, history=None, continues=False,
):
    """Solve the elastic net at each of `alphas` in turn, each from the solution before,
    in one call of the engine named by `solver` (``fastpen._enet.enet_solve_path``).

    Parameters
    ----------
    design : Design
    y : ndarray of shape (n_samples,), dtype of X
    sample_weight : ndarray or None
        Weights rescaled to sum to n_samples.
    X_mean, norm2 : ndarrays of shape (n_features,)
        From :meth:`Design.column_stats` with the same weights and centring.
    center : bool
    coef : ndarray of shape (n_features,), dtype of X
        Start point; overwritten with the solution at the last alpha.
    alphas : float64 ndarray of shape (n_alphas,)
        Decreasing along a path.
    l1_ratio : float
    penalty_factor : ndarray of shape (n_features,)
    lower, upper : ndarrays of shape (n_features,) or None
    max_iter : int
    tol : float
    solver : {"cd", "fista", "ista"}
    random : bool
        Random coordinate order (cd only).
    seeds : int array of shape (n_alphas,) or None
        Seeds of the random order, one per alpha.
    screening : bool
        Gap-safe screening (cd only).
    lipschitz : float or None
        Step constant for fista/ista; computed by power iteration when None.
    restart : bool
        Adaptive momentum restart (fista only).
    gram : GramDesign or None
        Run coordinate descent on Q = Xc^T S Xc instead of X (cd only).
    start_set : bool ndarray of shape (n_features,) or None
        Features to solve on first at the first alpha (cd only).
    strong_ratio : float
        alpha_prev / alphas[0] when `coef` is the solution at alpha_prev: the sequential
        strong rule, applied inside the engine (cd only; 0 for none). The later alphas
        use the ratio to the one before.
    workspace : dict or None
        The engine's work arrays, kept for the next call.
    coefs : ndarray of shape (n_alphas, n_features), dtype of X, or None
        Out: the solution at each alpha (None: not kept, beyond `coef`).
    history : tuple (coef_before, alpha_before, alpha_coef) or None
        When the path goes on from an earlier call: `coef` solves alpha_coef, and
        coef_before (dtype of X) alpha_before, the alpha before it (None: unknown).
        The engine starts each alpha from the path's tangent through the two solutions
        before it (cd only); the history makes that the same whether a path is solved
        in one call or several.
    continues : bool
        The path goes on in a later call with the same `workspace` (cd): the gradient
        that certified the last alpha is handed over to it, instead of a pass over X.

    Returns
    -------
    PathSolution
    """
    n = design.n_samples
    alphas = np.ascontiguousarray(alphas, dtype=np.float64)
    n_alphas = alphas.size
    if coefs is None and n_alphas > 1:
        # each alpha's intercept needs its coefficients
        coefs = np.empty((n_alphas, coef.size), dtype=coef.dtype)
    l1_base, l2_base = penalty_bases(penalty_factor, n, l1_ratio)
    gaps = np.empty(n_alphas)
    n_iters = np.empty(n_alphas, dtype=np.intc)
    converged = np.empty(n_alphas, dtype=np.uint8)
    warn_uncertified_free_features(
        l1_base, l2_base, gram.norm2 if gram is not None else norm2, lower, upper,
        gram.data.nbytes if gram is not None else design.data.nbytes)
    lower = _EMPTY if lower is None else lower
    upper = _EMPTY if upper is None else upper
    options = dict(
        solver=solver, random=bool(random), screening=bool(screening),
        seeds=None if seeds is None else (np.asarray(seeds) & 0xFFFFFFFF).astype(np.uint32),
        workspace=workspace,
    )
    if continues and solver == "cd" and workspace is not None:
        options.update(continues=True)
    if history is not None and solver == "cd":
        coef_before, alpha_before, alpha_coef = history
        options.update(previous_coef=coef_before, previous_scales=np.array(
            [alpha_before if coef_before is not None else 0.0, alpha_coef]))
    if gram is not None:
        # Q and X^T S yc are float64 whatever the dtype of X: float32 X is solved on them
        # in float64, its float32 coefficients rounded as each alpha is certified
        Xty, y_norm2, y_mean = gram.target(y)
        p = design.n_features
        tol_abs, _, _ = _enet.enet_solve_path(
            gram.data, _NO_INDEX, _NO_INDEX, 2, p, Xty, 0.0, _EMPTY, np.zeros(p),
            gram.norm2, False, coef, l1_base, l2_base, alphas, lower, upper,
            int(max_iter), float(tol), gaps, n_iters, converged, coefs,
            y_norm2=y_norm2, **options,
        )
        X_mean = gram.X_mean
    else:
        y_mean = weighted_mean(y, sample_weight) if center else 0.0
        y_shift = 0.0
        if center and _offset_floors_target(y, y_mean, sample_weight, tol):
            # the residual's rounding, eps |y|, floors the gap's target above tol's: y
            # centred here (a copy of y, not of X) is what the engine then reads
            y_shift = y_mean
            y = np.asarray(np.asarray(y, dtype=np.float64) - y_shift, dtype=y.dtype)
            y_mean = weighted_mean(y, sample_weight)
        if solver != "cd" and lipschitz is None:
            lipschitz = design.lipschitz(sample_weight, center)
        sw = _EMPTY if sample_weight is None else sample_weight
        tol_abs, _, _ = _enet.enet_solve_path(
            design.data, design.indices, design.indptr, int(design.is_sparse), n,
            y, y_mean, sw, X_mean, norm2, center, coef, l1_base, l2_base, alphas,
            lower, upper, int(max_iter), float(tol), gaps, n_iters, converged, coefs,
            lipschitz=LIPSCHITZ_MARGIN * lipschitz if lipschitz else 0.0,
            restart=bool(restart), start_set=start_set if solver == "cd" else None,
            strong_ratio=float(strong_ratio) if solver == "cd" else 0.0, **options,
        )
    if not center:
        intercepts = np.zeros(n_alphas)
    elif coefs is None:
        intercepts = np.full(n_alphas, y_mean - float(np.dot(X_mean, coef)))
    else:
        intercepts = y_mean - coefs[:n_alphas].astype(np.float64) @ X_mean
    if gram is None and center:
        intercepts += y_shift
    return PathSolution(intercepts, gaps / n, tol_abs, n_iters, converged.astype(bool),
                        gaps)
