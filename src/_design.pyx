"""Statistics of the design matrix that every engine needs, computed without copying X."""
import numpy as np

from cython cimport floating
from libc.math cimport INFINITY, fabs, sqrt
from libc.stdint cimport int64_t

from _columns cimport (
    index_t, Storage, DENSE, SPARSE, GRAM, X_times, Xt_times,
)
from scipy.linalg.cython_blas cimport dsyrk, ssyrk, dgemv, sgemv, dgemm, sgemm
from scipy.linalg.cython_lapack cimport dpotrf, dpotrs, dsyevd
from _engine_common cimport (
    Progress, check_interrupt, fastpen_cancel_call, fastpen_set_task_call,
)


def column_stats(
    const floating[::1] X_data,
    const index_t[::1] X_indices,
    const index_t[::1] X_indptr,
    int storage,
    Py_ssize_t n_samples,
    Py_ssize_t n_features,
    const double[::1] sample_weight,
    bint center,
):
    """Weighted column means and centred squared norms of X, in float64.

    Parameters
    ----------
    X_data, X_indices, X_indptr : arrays
        Fortran buffer of a dense X (indices unused) or the CSC arrays of a sparse X.
    storage : int
        0 dense, 1 sparse (CSC), 2 Gram (see `_columns.pxd`).
    n_samples, n_features : int
    sample_weight : array of shape (n_samples,) or (0,)
        Weights s summing to n_samples, or an empty array for unit weights.
    center : bool
        Whether the columns are centred (fit_intercept).

    Returns
    -------
    X_mean : ndarray of shape (n_features,)
        s^T x_j / n; when not centring, a read-only view of one zero (a vector of
        n_features zeros would be a sizeable share of a wide fit's memory).
    norm2 : ndarray of shape (n_features,)
        ||x_j - X_mean_j||_S^2. Columns that are constant up to rounding get exactly 0,
        so the engines skip them instead of dividing by noise.
    """
    X_mean_arr = (np.zeros(n_features, dtype=np.float64) if center
                  else np.broadcast_to(np.float64(0.0), (n_features,)))
    norm2_arr = np.zeros(n_features, dtype=np.float64)
    cdef double[::1] X_mean = X_mean_arr if center else None
    cdef double[::1] norm2 = norm2_arr
    cdef const double* weights = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    cdef const floating* data = &X_data[0] if X_data.shape[0] > 0 else NULL
    cdef const index_t* indices = &X_indices[0] if X_indices.shape[0] > 0 else NULL
    cdef const index_t* indptr = &X_indptr[0] if X_indptr.shape[0] > 0 else NULL
    cdef Py_ssize_t i, j, k, start
    cdef double mean, raw, centred, x, s, eps, data_eps, stored, drift, corrected
    # the rounding left by centring: of the data's precision, and of the sum of n
    # float64 terms the mean comes from (a float64 column of n = 500 values 0.1 kept
    # a centred norm of 4e-28 with the first alone, and alpha=0 divided by it)
    data_eps = np.finfo(np.float32 if floating is float else np.float64).eps
    eps = max(data_eps, n_samples * np.finfo(np.float64).eps)
    with nogil:
        for j in range(n_features):
            start = j * n_samples  # (dense columns' offset)
            mean = 0.0
            raw = 0.0
            centred = 0.0
            drift = 0.0
            if storage == SPARSE:
                stored = 0.0
                for k in range(indptr[j], indptr[j + 1]):
                    s = weights[indices[k]] if weights != NULL else 1.0
                    mean += s * data[k]
                    raw += s * data[k] * data[k]
                    stored += s
                mean = mean / n_samples if center else 0.0
                # s (x - m)^2 over the stored entries, and s m^2 over the others (whose
                # weights are n minus the stored ones'): no difference of large terms,
                # so a constant column centres to the rounding of its mean, as dense
                for k in range(indptr[j], indptr[j + 1]):
                    s = weights[indices[k]] if weights != NULL else 1.0
                    centred += s * (data[k] - mean) * (data[k] - mean)
                if indptr[j + 1] - indptr[j] < n_samples:
                    centred += (n_samples - stored) * mean * mean
            else:
                for i in range(n_samples):
                    s = weights[i] if weights != NULL else 1.0
                    x = data[start + i]
                    mean += s * x
                    raw += s * x * x
                mean = mean / n_samples if center else 0.0
                for i in range(n_samples):
                    s = weights[i] if weights != NULL else 1.0
                    x = data[start + i] - mean
                    centred += s * x * x
            if center:
                X_mean[j] = mean
            # constant columns leave only rounding noise after centring
            if centred > 16.0 * eps * eps * raw:
                norm2[j] = centred
            elif center:
                # below the mean's rounding: the sum's drift from the mean corrects it
                # (sum s (x - m')^2 = sum s (x - m)^2 - (sum s (x - m))^2 / n), down to
                # the data's own precision (3e10 + 1e-3 z had been taken as constant);
                # a pass more, for these columns only
                if storage == SPARSE:
                    stored = 0.0
                    for k in range(indptr[j], indptr[j + 1]):
                        s = weights[indices[k]] if weights != NULL else 1.0
                        drift += s * (data[k] - mean)
                        stored += s
                    drift -= (n_samples - stored) * mean
                else:
                    for i in range(n_samples):
                        s = weights[i] if weights != NULL else 1.0
                        drift += s * (data[start + i] - mean)
                corrected = centred - drift * drift / n_samples
                norm2[j] = corrected if corrected > 16.0 * data_eps * data_eps * raw else 0.0
    return X_mean_arr, norm2_arr


def lipschitz_constant(
    const floating[::1] X_data,
    const index_t[::1] X_indices,
    const index_t[::1] X_indptr,
    int storage,
    Py_ssize_t n_samples,
    Py_ssize_t n_features,
    const double[::1] sample_weight,
    bint center,
    int max_iter=100,
    double rtol=1e-2,
):
    """Largest eigenvalue of Xc^T S Xc by power iteration, without forming Xc.

    The Rayleigh quotient approaches the eigenvalue from below; the engine's backtracking
    corrects an estimate that is still low.

    Returns
    -------
    lipschitz : float
        Lipschitz constant of the gradient of 1/2 ||yc - Xc w||_S^2.
    """
    if floating is float:
        dtype = np.float32
    else:
        dtype = np.float64
    v_arr = np.full(n_features, 1.0 / np.sqrt(max(n_features, 1)), dtype=dtype)
    u_arr = np.empty(n_samples, dtype=dtype)
    z_arr = np.empty(n_features, dtype=np.float64)
    cdef floating[::1] v = v_arr
    cdef floating[::1] u = u_arr
    cdef double[::1] z = z_arr
    cdef const double* sw = &sample_weight[0] if sample_weight.shape[0] > 0 else NULL
    cdef const index_t* indices = &X_indices[0] if X_indices.shape[0] > 0 else NULL
    cdef const index_t* indptr = &X_indptr[0] if X_indptr.shape[0] > 0 else NULL
    cdef const floating* data = &X_data[0] if X_data.shape[0] > 0 else NULL
    cdef Py_ssize_t i, j
    cdef int it
    cdef double lam = 0.0, previous, mean, norm, vv, vz, largest
    if n_features == 0 or n_samples == 0:
        return 0.0
    with nogil:
        for it in range(max_iter):
            X_times(data, indices, indptr, storage, <int> n_samples, <int> n_features,
                    &v[0], &u[0])
            mean = 0.0
            if center:
                for i in range(n_samples):
                    mean += (sw[i] if sw != NULL else 1.0) * u[i]
                mean /= n_samples
            for i in range(n_samples):  # u = S Xc v
                u[i] = <floating> ((sw[i] if sw != NULL else 1.0) * (u[i] - mean))
            Xt_times(data, indices, indptr, storage, <int> n_samples, <int> n_features,
                     &u[0], &z[0])
            vv = 0.0
            vz = 0.0
            norm = 0.0
            largest = 0.0
            for j in range(n_features):
                vv += v[j] * v[j]
                vz += v[j] * z[j]
                largest = max(largest, fabs(z[j]))
            previous = lam
            lam = vz / vv
            if largest == 0.0 or not largest < INFINITY:
                break
            # ||z|| scaled by its largest entry: z ~ ||X||^2, whose squares overflow
            # from |X| ~ 1e77 (fista then took a NaN step size)
            for j in range(n_features):
                norm += (z[j] / largest) * (z[j] / largest)
            norm = largest * sqrt(norm)
            for j in range(n_features):
                v[j] = <floating> (z[j] / norm)
            if fabs(lam - previous) <= rtol * lam:
                break
    return lam


# the dtype rows are gathered into: X's own (fold copies, predictions), or float64
# (moments, whatever the dtype of X)
ctypedef fused gathered_t:
    float
    double


cdef inline void gather_rows(
    const floating* X_data, Py_ssize_t n_samples, const Py_ssize_t* rows, Py_ssize_t m,
    const Py_ssize_t* cols, Py_ssize_t n_cols, const double* shift, const gathered_t* scale,
    gathered_t* out,
) noexcept nogil:
    """out (m x n_cols, Fortran) = (X[rows, cols] - shift[cols]) * scale[:, None] for a
    dense Fortran X: the one row gather of fold copies, moments and predictions.

    `cols` NULL: the first n_cols columns; `shift` / `scale` NULL: none. Column by column,
    so each column's rows are read in order (a plain copy when they are a run, as with
    unshuffled K-fold).
    """
    cdef Py_ssize_t c, r, col
    cdef double offset
    cdef bint run = m > 0 and rows[m - 1] - rows[0] == m - 1
    # (rows that repeat or go back, such as 0, 0, 2, can span m - 1 too)
    r = 1
    while run and r < m:
        run = rows[r] == rows[r - 1] + 1
        r += 1
    for c in range(n_cols):
        col = (cols[c] if cols != NULL else c) * n_samples
        offset = shift[cols[c] if cols != NULL else c] if shift != NULL else 0.0
        if scale != NULL:
            for r in range(m):
                out[c * m + r] = <gathered_t> ((X_data[col + rows[r]] - offset) * scale[r])
        elif run:
            col += rows[0]
            for r in range(m):
                out[c * m + r] = <gathered_t> (X_data[col + r] - offset)
        else:
            for r in range(m):
                out[c * m + r] = <gathered_t> (X_data[col + rows[r]] - offset)


def take_rows(
    const floating[::1] X_data,
    const index_t[::1] X_indices,
    const index_t[::1] X_indptr,
    int storage,
    Py_ssize_t n_samples,
    Py_ssize_t n_features,
    const Py_ssize_t[::1] new_row,
    const Py_ssize_t[::1] rows,
    Py_ssize_t n_rows,
    floating[::1] out_data,
    index_t[::1] out_indices,
    index_t[::1] out_indptr,
):
    """Copy the rows of X with new_row[i] >= 0 into new_row[i] of a new X, in one pass.

    The rows of a cross-validation fold, without the intermediates of fancy indexing (a
    C-ordered copy then a Fortran one, or a CSR conversion of a CSC X): the result is
    exactly one fold-sized copy, in the layout the engines read.

    Parameters
    ----------
    X_data, X_indices, X_indptr : arrays
        Fortran buffer of a dense X (indices unused) or CSC arrays.
    storage : int
        0 dense, 1 sparse (CSC).
    n_samples, n_features : int
    new_row : intp array of shape (n_samples,)
        Row of the result for each row of X, -1 for rows left out; increasing over
        the kept rows keeps CSC indices sorted.
    rows : intp array of shape (n_rows,)
        The kept rows in increasing order (new_row[rows[r]] == r): a dense X is read
        only there.
    n_rows : int
        Rows kept.
    out_data : array
        Fortran buffer of n_rows x n_features (dense), or room for the kept entries
        (sparse: count them with ``np.count_nonzero(new_row[X.indices] >= 0)``).
    out_indices, out_indptr : arrays
        Sparse only (empty for dense): room for the kept entries and n_features + 1.
    """
    cdef Py_ssize_t i, j, k, r, m = 0
    with nogil:
        if storage == DENSE:
            if n_rows > 0 and n_features > 0:
                gather_rows(&X_data[0], n_samples, &rows[0], n_rows, NULL, n_features,
                            NULL, NULL, &out_data[0])
        else:
            out_indptr[0] = 0
            for j in range(n_features):
                for k in range(X_indptr[j], X_indptr[j + 1]):
                    r = new_row[X_indices[k]]
                    if r >= 0:
                        out_data[m] = X_data[k]
                        out_indices[m] = <index_t> r
                        m += 1
                out_indptr[j + 1] = <index_t> m


def xt_dot(
    const floating[::1] X_data,
    const index_t[::1] X_indices,
    const index_t[::1] X_indptr,
    int storage,
    Py_ssize_t n_samples,
    Py_ssize_t n_features,
    const double[::1] v,
):
    """X^T v in float64 without converting X: numpy's X.T @ v with a float32 X and a
    float64 v would first copy X to float64. Column dots accumulate in double, from the
    float64 v (not rounded to the dtype of X).

    Parameters
    ----------
    X_data, X_indices, X_indptr : arrays
        Fortran buffer of a dense X (indices unused) or CSC arrays.
    storage : int
        0 dense, 1 sparse (CSC).
    n_samples, n_features : int
    v : float64 array of shape (n_samples,)

    Returns
    -------
    ndarray of shape (n_features,), float64
    """
    cdef double[::1] out = np.zeros(n_features)
    if n_samples > 0 and n_features > 0:
        with nogil:
            Xt_times(&X_data[0], &X_indices[0] if X_indices.shape[0] > 0 else NULL,
                     &X_indptr[0] if X_indptr.shape[0] > 0 else NULL, storage,
                     <int> n_samples, <int> n_features, &v[0], &out[0])
    return np.asarray(out)


cdef inline void add_transposed_product(
    int m, int p, const floating* B, const floating* v, floating* partial, double* acc,
) noexcept nogil:
    """acc += B^T v for a Fortran m x p block B (BLAS gemv in the block's dtype)."""
    cdef char* trans = b"T"
    cdef int one = 1, j
    cdef floating unit = 1.0, zero = 0.0
    if floating is float:
        sgemv(trans, &m, &p, &unit, <float*> B, &m, <float*> v, &one, &zero, partial, &one)
    else:
        dgemv(trans, &m, &p, &unit, <double*> B, &m, <double*> v, &one, &zero, partial, &one)
    for j in range(p):
        acc[j] += partial[j]


def row_moments(
    const floating[::1] X_data,
    Py_ssize_t n_samples,
    Py_ssize_t n_features,
    const Py_ssize_t[::1] rows,
    const double[::1] y,
    const double[::1] weights,
    const double[::1] x_shift,
    double y_shift,
    Py_ssize_t chunk_rows,
):
    """Weighted moments of some rows of a dense X about a shift, without copying them.

    With B the rows minus `x_shift` and z = y[rows] - y_shift: B^T S B, B^T s, B^T S z,
    sum s, sum s z and sum s z^2. The rows are gathered `chunk_rows` at a time into a
    buffer that stays in cache, scaled by sqrt(s), and added to B^T S B by BLAS syrk:
    X is read once, in any row order, and no fold-sized copy is made. The shift
    (near the column means) keeps large means from cancelling in float arithmetic.

    Parameters
    ----------
    X_data : array
        Fortran buffer of a dense X of shape (n_samples, n_features).
    n_samples, n_features : int
    rows : intp array
        Rows to use (any order, each once).
    y : float64 array of shape (n_rows,)
        The target on those rows, in the order of `rows`.
    weights : float64 array of shape (n_rows,) or (0,)
        Non-negative weights s of those rows, or empty for unit weights.
    x_shift : float64 array of shape (n_features,) or (0,)
        Subtracted from every row (empty: no shift).
    y_shift : float
    chunk_rows : int
        Rows gathered at a time.

    Returns
    -------
    gram : ndarray of shape (n_features, n_features), float64
        B^T S B (symmetric; products in the dtype of X).
    x_sum, xy_sum : ndarray of shape (n_features,), float64
    total, y_sum, yy_sum : float
    """
    # the rows are gathered into float64 and their products summed in float64 for
    # float32 X too: summed in float32 over n rows, Q was off by about sqrt(n) float32
    # units, and the gaps computed on it no bound (n = 200000: coefficients 1.8e-6 from
    # the float64 optimum, a suboptimality 1600 times the reported gap)
    cdef Py_ssize_t n_rows = rows.shape[0]
    cdef Py_ssize_t chunk = max(1, min(chunk_rows, n_rows))
    buffer_arr = np.empty(chunk * n_features)
    gram_arr = np.zeros((n_features, n_features), order="F")
    scaled_arr = np.empty((2, chunk))
    partial_arr = np.empty(n_features)
    x_sum_arr = np.zeros(n_features)
    xy_sum_arr = np.zeros(n_features)
    cdef double[::1] buffer = buffer_arr
    cdef double[::1, :] gram = gram_arr
    cdef double[:, ::1] scaled = scaled_arr
    cdef double[::1] partial = partial_arr
    cdef double[::1] x_sum = x_sum_arr
    cdef double[::1] xy_sum = xy_sum_arr
    cdef bint weighted = weights.shape[0] > 0
    cdef bint shifted = x_shift.shape[0] > 0
    cdef double total = 0.0, y_sum = 0.0, yy_sum = 0.0, s, root, z
    cdef Py_ssize_t start, m, r, j
    cdef int m_int, p_int = <int> n_features, one = 1
    cdef double unit = 1.0
    cdef char* upper = b"U"
    cdef char* trans = b"T"
    cdef Progress progress
    progress.work = 0
    if n_rows == 0 or n_features == 0:
        return (np.zeros((n_features, n_features)), x_sum_arr, xy_sum_arr, 0.0, 0.0, 0.0)
    with nogil:
        start = 0
        while start < n_rows:
            m = min(chunk, n_rows - start)
            m_int = <int> m
            for r in range(m):
                s = weights[start + r] if weighted else 1.0
                root = sqrt(s)
                z = y[start + r] - y_shift
                total += s
                y_sum += s * z
                yy_sum += s * z * z
                scaled[0, r] = root
                scaled[1, r] = root * z
            gather_rows(&X_data[0], n_samples, &rows[start], m, NULL, n_features,
                        &x_shift[0] if shifted else NULL,
                        &scaled[0, 0] if weighted else NULL, &buffer[0])
            dsyrk(upper, trans, &p_int, &m_int, &unit, &buffer[0], &m_int, &unit,
                  &gram[0, 0], &p_int)
            add_transposed_product(m_int, p_int, &buffer[0], &scaled[0, 0], &partial[0],
                                   &x_sum[0])
            add_transposed_product(m_int, p_int, &buffer[0], &scaled[1, 0], &partial[0],
                                   &xy_sum[0])
            start += m
            # (syrk's work: half a product of the chunk's m x p entries with themselves)
            progress.work += m * n_features * (n_features + 1) // 2
            check_interrupt(&progress)
    full_arr = np.empty((n_features, n_features), order="F")
    cdef double[::1, :] full = full_arr
    with nogil:
        # syrk filled the upper triangle (i <= j)
        for j in range(n_features):
            for r in range(j + 1):
                full[r, j] = gram[r, j]
                full[j, r] = gram[r, j]
    return full_arr, x_sum_arr, xy_sum_arr, total, y_sum, yy_sum


def rows_times(
    const floating[::1] X_data,
    const index_t[::1] X_indices,
    const index_t[::1] X_indptr,
    int storage,
    Py_ssize_t n_samples,
    const Py_ssize_t[::1] new_row,
    const Py_ssize_t[::1] rows,
    const Py_ssize_t[::1] cols,
    const floating[::1, :] W,
    floating[::1, :] out,
    Py_ssize_t chunk_rows,
):
    """out = X[rows][:, cols] @ W, reading only those columns and never copying the rows.

    The held-out predictions of a cross-validation fold for a batch of coefficient
    vectors: `cols` is the union of their supports, so a sparse path reads a few
    columns. A dense X is gathered `chunk_rows` rows at a time into a buffer for BLAS
    gemm; a CSC X is scattered entry by entry.

    Parameters
    ----------
    X_data, X_indices, X_indptr : arrays
        Fortran buffer of a dense X (indices unused) or CSC arrays.
    storage : int
        0 dense, 1 sparse (CSC).
    n_samples : int
    new_row : intp array of shape (n_samples,)
        Row of `out` for each row of X, -1 for rows left out (sparse X).
    rows : intp array of shape (n_rows,)
        The rows, in the order of `out` (new_row[rows[r]] == r).
    cols : intp array of shape (n_cols,)
    W : Fortran array of shape (n_cols, n_vectors)
    out : Fortran array of shape (n_rows, n_vectors)
        Overwritten.
    chunk_rows : int
        Rows gathered at a time (dense X).
    """
    cdef Py_ssize_t n_rows = rows.shape[0], n_cols = cols.shape[0]
    cdef Py_ssize_t n_vectors = W.shape[1]
    cdef Py_ssize_t i, j, k, r, c, t, start, m
    cdef Py_ssize_t chunk = max(1, min(chunk_rows, n_rows))
    cdef floating x
    cdef floating unit = 1.0, zero = 0.0
    cdef int m_int, b_int = <int> n_vectors, k_int = <int> n_cols, ld_out = <int> n_rows
    cdef char* no_trans = b"N"
    cdef floating[::1] buffer
    if n_rows == 0 or n_vectors == 0:
        return
    if n_cols == 0 or storage == SPARSE:
        with nogil:
            for t in range(n_vectors):
                for r in range(n_rows):
                    out[r, t] = 0.0
            for c in range(n_cols):
                j = cols[c]
                for k in range(X_indptr[j], X_indptr[j + 1]):
                    r = new_row[X_indices[k]]
                    if r >= 0:
                        x = X_data[k]
                        for t in range(n_vectors):
                            out[r, t] += x * W[c, t]
        return
    buffer = np.empty(chunk * n_cols, dtype=np.float32 if floating is float else np.float64)
    with nogil:
        start = 0
        while start < n_rows:
            m = min(chunk, n_rows - start)
            m_int = <int> m
            gather_rows(&X_data[0], n_samples, &rows[start], m, &cols[0], n_cols, NULL,
                        NULL, &buffer[0])
            if floating is float:
                sgemm(no_trans, no_trans, &m_int, &b_int, &k_int, &unit, &buffer[0], &m_int,
                      <float*> &W[0, 0], &k_int, &zero, &out[start, 0], &ld_out)
            else:
                dgemm(no_trans, no_trans, &m_int, &b_int, &k_int, &unit, &buffer[0], &m_int,
                      <double*> &W[0, 0], &k_int, &zero, &out[start, 0], &ld_out)
            start += m


def minor_counts(const index_t[::1] X_indices, Py_ssize_t n_minor):
    """Stored entries per row of a CSC X (per column of a CSR X), as int64: what
    `np.bincount(X.indices)` gives, without its int64 copy of the indices.

    Parameters
    ----------
    X_indices : index array of a CSC or CSR matrix
    n_minor : int
        Rows of a CSC X (columns of a CSR X).

    Returns
    -------
    ndarray of shape (n_minor,), int64
    """
    cdef int64_t[::1] counts = np.zeros(n_minor, dtype=np.int64)
    cdef Py_ssize_t k
    with nogil:
        for k in range(X_indices.shape[0]):
            counts[X_indices[k]] += 1
    return np.asarray(counts)


def minor_block(
    const floating[::1] X_data,
    const index_t[::1] X_indices,
    const index_t[::1] X_indptr,
    index_t[::1] cursor,
    Py_ssize_t minor_start,
    Py_ssize_t minor_stop,
    index_t[::1] fill,
    double[::1] out_data,
    index_t[::1] out_indices,
):
    """The rows [minor_start, minor_stop) of a CSC X as a CSR block in float64 (the
    columns of a CSR X as a CSC block), without reading X's other entries.

    Blocks taken in increasing order share `cursor`, each major slice's position in X
    (X_indptr[:-1] to start): a slice's entries below `minor_stop` are its next ones,
    since its indices are sorted. All blocks together read X once, where slicing the
    minor axis in scipy reads all of X per block, and converting X to the other format
    copies all of it at once.

    Parameters
    ----------
    X_data, X_indices, X_indptr : CSC (or CSR) arrays with sorted indices
    cursor : index array of shape (n_major,)
        Advanced past the block's entries.
    minor_start, minor_stop : int
        The block; `minor_start` is where the previous block stopped (or 0).
    fill : index array of shape (minor_stop - minor_start,)
        The block's row pointers (its indptr without the last), advanced as its rows
        are filled.
    out_data, out_indices : arrays
        Room for the block's entries (see `minor_counts`); the indices are X's major
        ones (columns of a CSC X), sorted within each row.
    """
    cdef Py_ssize_t n_major = X_indptr.shape[0] - 1
    cdef Py_ssize_t j, k, end, slot
    with nogil:
        for j in range(n_major):
            k = cursor[j]
            end = X_indptr[j + 1]
            while k < end and X_indices[k] < minor_stop:
                slot = fill[X_indices[k] - minor_start]
                out_data[slot] = X_data[k]
                out_indices[slot] = <index_t> j
                fill[X_indices[k] - minor_start] = <index_t> (slot + 1)
                k += 1
            cursor[j] = <index_t> k


def add_row_products(
    const floating[::1] B_data,
    const index_t[::1] B_indices,
    const index_t[::1] B_indptr,
    const double[::1] row_weights,
    double[:, ::1] G,
):
    """G += B^T diag(row_weights) B for a CSR block B of rows, into the upper triangle
    of G (`mirror_upper` completes it), summed in float64 (float32 B included) with no
    temporary: scipy's product sums float32 in float32, and builds a sparse p x p
    result first, of up to 1.5 times G.

    Parameters
    ----------
    B_data, B_indices, B_indptr : CSR arrays (indices unsorted or repeated allowed)
    row_weights : array of shape (n_rows,) or (0,) for unit weights
    G : C-ordered array of shape (n_features, n_features)
    """
    cdef Py_ssize_t n_rows = B_indptr.shape[0] - 1
    cdef Py_ssize_t i, a, b, end, j, k
    cdef double scaled
    cdef bint weighted = row_weights.shape[0] > 0
    cdef Progress progress
    progress.work = 0
    with nogil:
        for i in range(n_rows):
            end = B_indptr[i + 1]
            progress.work += (end - B_indptr[i]) * (end - B_indptr[i] + 1) // 2
            check_interrupt(&progress)
            for a in range(B_indptr[i], end):
                scaled = B_data[a] * row_weights[i] if weighted else B_data[a]
                j = B_indices[a]
                G[j, j] += scaled * B_data[a]
                for b in range(a + 1, end):
                    k = B_indices[b]
                    if k > j:
                        G[j, k] += scaled * B_data[b]
                    elif k < j:
                        G[k, j] += scaled * B_data[b]
                    else:  # a repeated index: both products of the pair
                        G[j, j] += 2.0 * scaled * B_data[b]


def mirror_upper(double[:, ::1] G):
    """Copy the upper triangle of a square G into its lower one."""
    cdef Py_ssize_t p = G.shape[0], j, k
    with nogil:
        for j in range(p):
            for k in range(j + 1, p):
                G[k, j] = G[j, k]


# LAPACK for Ridge's exact solvers with the GIL released (scipy.linalg's wrappers hold
# it: threaded fits had stalled each other for seconds)
def _fortran_symmetric(A):
    """A symmetric float64 matrix as a Fortran array of the same memory (its transpose
    for C order: the same matrix), or a Fortran copy."""
    if A.dtype == np.float64 and A.flags.c_contiguous and not A.flags.f_contiguous:
        return A.T
    return np.asfortranarray(A, dtype=np.float64)


def symmetric_eigh(A):
    """Eigenvalues (ascending) and eigenvectors of a symmetric float64 matrix, by LAPACK
    dsyevd on its lower triangle, without the GIL. A contiguous A is overwritten: the
    eigenvectors (columns of the returned Fortran array) take its memory."""
    F = _fortran_symmetric(A)
    cdef double[::1, :] a = F
    cdef int n = <int> a.shape[0], lda = max(n, 1), info = 0, lwork = -1, liwork = -1
    cdef int iwork_size = 0
    cdef double work_size = 0.0
    eigenvalues = np.empty(n)
    if n == 0:
        return eigenvalues, F
    cdef double[::1] w = eigenvalues
    dsyevd(b"V", b"L", &n, &a[0, 0], &lda, &w[0], &work_size, &lwork, &iwork_size,
           &liwork, &info)
    lwork = <int> work_size
    liwork = iwork_size
    cdef double[::1] work = np.empty(max(lwork, 1))
    cdef int[::1] iwork = np.empty(max(liwork, 1), dtype=np.intc)
    with nogil:
        dsyevd(b"V", b"L", &n, &a[0, 0], &lda, &w[0], &work[0], &lwork, &iwork[0],
               &liwork, &info)
    if info != 0:
        raise np.linalg.LinAlgError(f"The eigendecomposition failed (LAPACK info {info}).")
    return eigenvalues, F


def cholesky_lower(double[::1, :] M):
    """Overwrite the lower triangle of M (Fortran, float64) with its Cholesky factor
    (LAPACK dpotrf, without the GIL). Returns LAPACK's info: 0, or the order of the
    first minor that is not positive definite."""
    cdef int n = <int> M.shape[0], lda = max(n, 1), info = 0
    if n > 0:
        with nogil:
            dpotrf(b"L", &n, &M[0, 0], &lda, &info)
    return info


def cholesky_solve(const double[::1, :] L, double[::1, :] B):
    """Overwrite B (Fortran, float64) with (L L^T)^-1 B for the lower factor L of
    `cholesky_lower` (LAPACK dpotrs, without the GIL)."""
    cdef int n = <int> L.shape[0], k = <int> B.shape[1], lda = max(n, 1), info = 0
    if n > 0 and k > 0:
        with nogil:
            # (dpotrs only reads the factor; its prototype has no const)
            dpotrs(b"L", &n, &k, <double*> &L[0, 0], &lda, &B[0, 0], &lda, &info)


def cancel_call(long call):
    """Make the loops of call `call`'s tasks, in any thread, raise KeyboardInterrupt at
    their next interrupt check (see `check_interrupt` in _engine_common.pxd)."""
    fastpen_cancel_call(call)


def set_task_call(long call):
    """Tie this thread's loops to call `call` (0: none) until set again."""
    fastpen_set_task_call(call)
