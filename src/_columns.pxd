# Column primitives over the design matrix X, shared by every engine.
#
# X is described by (data, indices, indptr, storage, n_samples):
# - DENSE: `data` is the Fortran-ordered buffer of X (column j starts at j * n_samples),
#   `indices` / `indptr` are unused;
# - SPARSE: CSC arrays, with int32 or int64 indices (fused `index_t`);
# - GRAM: `data` is the p x p matrix Q = Xc^T S Xc and "n_samples" is p. The engines'
#   residual is then the gradient vector Xc^T S R: the dot of column j with it is its
#   j-th entry, and a coefficient change updates it with a column of Q (glmnet's
#   covariance updates). Nothing else in an engine changes.
# The dense/sparse branch is taken once per column, never per element, so one
# source serves both layouts; `floating` gives float32 and float64.
# Dense columns use BLAS level 1 (contiguous), sparse ones a tight loop.
#
# The vectors the columns meet (`vector_t`) have their own precision: the engines keep
# the residual and the coefficients in float64 for float32 X too. A float32 residual
# q = y - X w carries rounding of the size of the fitted values, not of the residual:
# at a solution the gap computed from it was 0.3x to 1.5x the target (P3's last
# alphas); and CD and Anderson steps on float32 coefficients stall on their rounding.
# float32 paths took 1.2x to 5x the epochs of float64 ones.
from cython cimport floating
from libc.stdint cimport int32_t, int64_t
from scipy.linalg.cython_blas cimport ddot, dsdot, daxpy, saxpy, dgemv, sgemv

# a feature's index in the engines' lists of features (active sets, supports): half the
# memory of Py_ssize_t on wide data, where such lists are p long (enet_solve_path
# refuses more features than it holds)
ctypedef int32_t feature_t

ctypedef fused index_t:
    int32_t
    int64_t

ctypedef fused vector_t:
    float
    double

cdef enum:
    # dense columns (and Gram columns) up to this length are dotted and updated by an
    # inline loop: the call and dispatch of BLAS level 1 costs more there
    SHORT_COLUMN = 16

cdef enum Storage:
    DENSE = 0
    SPARSE = 1
    GRAM = 2


cdef inline double col_dot(
    const floating* data, const index_t* indices, const index_t* indptr,
    int storage, int n_samples, Py_ssize_t j, const vector_t* v,
) noexcept nogil:
    """Return x_j^T v, accumulated in double (float32 columns included: float32
    accumulation loses the gradient to cancellation when columns have large means)."""
    cdef Py_ssize_t k, end
    cdef double acc = 0.0, acc1 = 0.0, acc2 = 0.0, acc3 = 0.0
    cdef int one = 1
    cdef const floating* col
    if storage == SPARSE:
        # four running sums: one would chain every add on the one before (its latency,
        # not the loads, would set the pace on columns of a few dozen entries)
        k = indptr[j]
        end = indptr[j + 1]
        while k + 4 <= end:
            acc += data[k] * v[indices[k]]
            acc1 += data[k + 1] * v[indices[k + 1]]
            acc2 += data[k + 2] * v[indices[k + 2]]
            acc3 += data[k + 3] * v[indices[k + 3]]
            k += 4
        while k < end:
            acc += data[k] * v[indices[k]]
            k += 1
        return (acc + acc1) + (acc2 + acc3)
    if storage == GRAM:
        return v[j]
    if n_samples > SHORT_COLUMN:
        if floating is double and vector_t is double:
            return ddot(&n_samples, <double*> &data[j * n_samples], &one, <double*> v, &one)
        elif floating is float and vector_t is float:
            return dsdot(&n_samples, <float*> &data[j * n_samples], &one, <float*> v, &one)
    # short columns (a BLAS call's overhead exceeds the loop) and mixed precisions (no
    # BLAS routine): four sums, as above
    col = &data[j * n_samples]
    k = 0
    while k + 4 <= n_samples:
        acc += col[k] * <double> v[k]
        acc1 += col[k + 1] * <double> v[k + 1]
        acc2 += col[k + 2] * <double> v[k + 2]
        acc3 += col[k + 3] * <double> v[k + 3]
        k += 4
    while k < n_samples:
        acc += col[k] * <double> v[k]
        k += 1
    return (acc + acc1) + (acc2 + acc3)


cdef inline double col_dot_weighted(
    const floating* data, const index_t* indices, const index_t* indptr,
    int storage, int n_samples, Py_ssize_t j, const vector_t* v,
    const double* weights,
) noexcept nogil:
    """Return x_j^T diag(weights) v; plain x_j^T v when weights is NULL."""
    cdef Py_ssize_t k, i
    cdef double acc = 0.0
    cdef const floating* col
    if weights == NULL:
        return col_dot(data, indices, indptr, storage, n_samples, j, v)
    if storage == SPARSE:
        for k in range(indptr[j], indptr[j + 1]):
            i = indices[k]
            acc += <double> data[k] * weights[i] * v[i]
        return acc
    col = &data[j * n_samples]
    for i in range(n_samples):
        acc += <double> col[i] * weights[i] * v[i]
    return acc


cdef inline void column_products(
    const floating* data, const index_t* indices, const index_t* indptr,
    int storage, int n_samples, const feature_t* columns, Py_ssize_t n_columns,
    Py_ssize_t b, const double* weights, double* scratch, double* out,
) noexcept nogil:
    """out[a] = x_{columns[a]}^T diag(weights) x_{columns[b]} for a = b .. n_columns - 1
    (plain products when weights is NULL): column b of the lower triangle of a Gram
    matrix. A sparse column b is scattered into `scratch` (n_samples zeros, left zeroed)
    so that each product costs only the other column's nonzeros."""
    cdef Py_ssize_t a, k, jb = columns[b]
    if storage == SPARSE:
        for k in range(indptr[jb], indptr[jb + 1]):
            scratch[indices[k]] = data[k]
        for a in range(b, n_columns):
            out[a] = col_dot_weighted(data, indices, indptr, storage, n_samples,
                                      columns[a], <const double*> scratch, weights)
        for k in range(indptr[jb], indptr[jb + 1]):
            scratch[indices[k]] = 0.0
        return
    for a in range(b, n_columns):
        out[a] = col_dot_weighted(data, indices, indptr, storage, n_samples, columns[a],
                                  &data[jb * n_samples], weights)


cdef inline void centred_products(
    const floating* data, const index_t* indices, const index_t* indptr,
    int storage, int n_samples, const double* weights, const double* X_mean,
    bint center, const double* norm2, const feature_t* columns, Py_ssize_t n_columns,
    Py_ssize_t b, double* scratch, double* out,
) noexcept nogil:
    """out[a] = xc_{columns[a]}^T diag(weights) xc_{columns[b]} for a = b ..
    n_columns - 1, the centred columns' products (centred when `center`): column b of
    the lower triangle of their Gram matrix, the diagonal entry norm2's (computed
    without the cancellation below). With GRAM storage a block of Q. `scratch`: see
    `column_products`."""
    cdef Py_ssize_t a, jb = columns[b]
    if storage == GRAM:
        for a in range(b + 1, n_columns):
            out[a] = data[columns[a] + jb * n_samples]
    else:
        column_products(data, indices, indptr, storage, n_samples, columns, n_columns, b,
                        weights, scratch, out)
        if center:
            # weights sum to n: sum s (x_a - m_a)(x_b - m_b) = x_a.S x_b - n m_a m_b
            for a in range(b + 1, n_columns):
                out[a] -= n_samples * X_mean[columns[a]] * X_mean[jb]
    out[b] = norm2[jb]


cdef inline void col_axpy(
    const floating* data, const index_t* indices, const index_t* indptr,
    int storage, int n_samples, Py_ssize_t j, double a, vector_t* v,
) noexcept nogil:
    """v += a * x_j (in the precision of v)."""
    cdef Py_ssize_t k
    cdef int one = 1
    cdef float a_single = <float> a
    cdef const floating* col
    if storage == SPARSE:
        for k in range(indptr[j], indptr[j + 1]):
            v[indices[k]] += <vector_t> (a * data[k])
        return
    if n_samples > SHORT_COLUMN:
        if floating is double and vector_t is double:
            daxpy(&n_samples, &a, <double*> &data[j * n_samples], &one, <double*> v, &one)
            return
        elif floating is float and vector_t is float:
            saxpy(&n_samples, &a_single, <float*> &data[j * n_samples], &one, <float*> v,
                  &one)
            return
    # short columns (a BLAS call's overhead exceeds the loop: the Gram matrix of a dozen
    # features) and mixed precisions
    col = &data[j * n_samples]
    for k in range(n_samples):
        v[k] += <vector_t> (a * col[k])


cdef inline Py_ssize_t col_size(
    const index_t* indptr, int storage, int n_samples, Py_ssize_t j,
) noexcept nogil:
    """Number of stored entries of column j (the work one column operation costs)."""
    if storage == SPARSE:
        return indptr[j + 1] - indptr[j]
    return n_samples


cdef inline void X_times(
    const floating* data, const index_t* indices, const index_t* indptr,
    int storage, int n_samples, int n_features, const vector_t* w, vector_t* out,
) noexcept nogil:
    """out = X w. Only columns with w_j != 0 are read (a sparse w is cheap); a dense X
    with a mostly nonzero w uses BLAS gemv."""
    cdef Py_ssize_t i, j, nonzero = 0
    cdef char* no_trans = b"N"
    cdef int one = 1
    cdef floating unit = 1.0, zero = 0.0
    for j in range(n_features):
        if w[j] != 0.0:
            nonzero += 1
    if storage != SPARSE and nonzero * 4 > n_features:
        if floating is float and vector_t is float:
            sgemv(no_trans, &n_samples, &n_features, &unit, <float*> data, &n_samples,
                  <float*> w, &one, &zero, <float*> out, &one)
            return
        if floating is double and vector_t is double:
            dgemv(no_trans, &n_samples, &n_features, &unit, <double*> data, &n_samples,
                  <double*> w, &one, &zero, <double*> out, &one)
            return
    for i in range(n_samples):
        out[i] = 0.0
    for j in range(n_features):
        if w[j] != 0.0:
            col_axpy(data, indices, indptr, storage, n_samples, j, w[j], out)


cdef inline void columns_dot(
    const floating* data, const index_t* indices, const index_t* indptr,
    int storage, int n_samples, Py_ssize_t first, Py_ssize_t count, const vector_t* v,
    double* out,
) noexcept nogil:
    """out[j] = x_j^T v (col_dot's value) for the consecutive columns j = first ..
    first + count - 1, in double: one BLAS dgemv for dense float64 (a call per column
    costs more than the dot itself on short columns), column dots otherwise (float32
    accumulation would lose the gradient to cancellation)."""
    cdef Py_ssize_t j
    cdef char* trans = b"T"
    cdef int one = 1, n_columns = <int> count
    cdef double unit = 1.0, zero = 0.0
    if floating is double and vector_t is double:
        if storage == DENSE and count > 1:
            dgemv(trans, &n_samples, &n_columns, &unit, <double*> &data[first * n_samples],
                  &n_samples, <double*> v, &one, &zero, &out[first], &one)
            return
    for j in range(first, first + count):
        out[j] = col_dot(data, indices, indptr, storage, n_samples, j, v)


cdef inline void Xt_times(
    const floating* data, const index_t* indices, const index_t* indptr,
    int storage, int n_samples, int n_features, const vector_t* v, double* out,
) noexcept nogil:
    """out = X^T v in double (see columns_dot)."""
    columns_dot(data, indices, indptr, storage, n_samples, 0, n_features, v, out)
