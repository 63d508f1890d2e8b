"""Benchmark fastpen.Lasso against sklearn.linear_model.Lasso.

Four seeded problems (dense Fortran float64 with AR(1)-correlated columns, and one
sparse CSC problem), two alphas (alpha_max/10, alpha_max/100), with and without an
intercept. Both solvers stop on the same duality-gap target (tol * ||y - ybar||^2 with an
intercept, tol * ||y||^2 without), BLAS is pinned to one thread, each solver gets one
warm-up fit per problem, and the timed fits are interleaved (fastpen, sklearn, fastpen,
...). The table reports median wall times and each solver's objective minus the best
objective of the two, so a solver that stopped early is visible.

    python bench/bench_lasso.py                    # everything, 5 repeats
    python bench/bench_lasso.py --quick            # 2 repeats, alpha_max/10 only
    python bench/bench_lasso.py --problems P1,P3 --intercept yes --out table.md
"""
import argparse
import gc
import statistics
import sys
import time
import warnings

import numpy as np
import scipy
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso as SkLasso
from threadpoolctl import threadpool_limits

import fastpen

TOL = 1e-6
MAX_ITER = 100_000
SNR = 3.0  # ||X w_true|| / ||noise||
REL_OBJ_WARN = 1e-6  # flag objectives differing by more than this, relative

# name -> (kind, n, p, rho or density, k, seed)
PROBLEMS = {
    "P1": ("dense", 200, 10_000, 0.5, 20, 1),
    "P2": ("dense", 20_000, 500, 0.5, 50, 2),
    "P3": ("sparse", 20_000, 100_000, 0.001, 100, 3),
    "P4": ("dense", 2_000, 5_000, 0.7, 100, 4),
}
ALPHA_DIVISORS = (10, 100)


# --------------------------------------------------------------------------- data
def ar1_design(rng, n, p, rho):
    """Fortran float64 X whose columns follow x_j = rho x_{j-1} + sqrt(1 - rho^2) z_j."""
    X = np.empty((n, p), dtype=np.float64, order="F")
    X[:, 0] = rng.standard_normal(n)
    c = np.sqrt(1.0 - rho * rho)
    for j in range(1, p):
        X[:, j] = rho * X[:, j - 1] + c * rng.standard_normal(n)
    return np.asfortranarray(X)


def sparse_design(rng, n, p, density):
    """CSC float64 X with lognormal nonzeros and int32 indices/indptr."""
    X = sp.random(n, p, density=density, format="csc", dtype=np.float64, rng=rng,
                  data_rvs=lambda size: rng.lognormal(size=size))
    X = sp.csc_matrix(X)
    X.sum_duplicates()
    X.sort_indices()
    X.indices = X.indices.astype(np.int32, copy=False)
    X.indptr = X.indptr.astype(np.int32, copy=False)
    return X


def make_problem(name):
    kind, n, p, param, k, seed = PROBLEMS[name]
    rng = np.random.default_rng(seed)
    if kind == "dense":
        X = ar1_design(rng, n, p, param)
        desc = f"dense {n}x{p} rho={param} k={k}"
    else:
        X = sparse_design(rng, n, p, param)
        desc = f"sparse CSC {n}x{p} density={param} nnz={X.nnz} k={k}"
    w_true = np.zeros(p)
    support = rng.choice(p, size=k, replace=False)
    w_true[support] = rng.choice([-1.0, 1.0], size=k) * rng.uniform(0.5, 2.0, size=k)
    signal = np.asarray(X @ w_true).ravel()
    noise = rng.standard_normal(n)
    noise *= np.linalg.norm(signal) / (SNR * np.linalg.norm(noise))
    y = signal + noise
    return X, y, desc


def alpha_max(X, y, fit_intercept):
    n = X.shape[0]
    if not fit_intercept:
        return float(np.max(np.abs(X.T @ y))) / n
    if sp.issparse(X):
        col_sums = np.asarray(X.sum(axis=0)).ravel()
        grad = X.T @ y - y.mean() * col_sums  # X^T (y - ybar) without densifying X
    else:
        grad = X.T @ (y - y.mean())
    return float(np.max(np.abs(grad))) / n


def objective(X, y, coef, intercept, alpha):
    n = X.shape[0]
    coef = np.asarray(coef, dtype=np.float64)
    r = y - np.asarray(X @ coef).ravel() - float(intercept)
    return float(r @ r) / (2.0 * n) + alpha * float(np.abs(coef).sum())


def xtr_time(X, y, repeats=20):
    """Median time of one full X^T r product (the memory-bandwidth floor of an epoch)."""
    r = y - y.mean()
    XT = X.T
    XT @ r
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        XT @ r
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# --------------------------------------------------------------------------- solvers
SOLVERS = {
    "fastpen": lambda alpha, fi: fastpen.Lasso(alpha, tol=TOL, fit_intercept=fi,
                                               max_iter=MAX_ITER),
    "sklearn": lambda alpha, fi: SkLasso(alpha, tol=TOL, fit_intercept=fi,
                                         max_iter=MAX_ITER),
}


def timed_fit(name, alpha, fit_intercept, X, y):
    model = SOLVERS[name](alpha, fit_intercept)
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        model.fit(X, y)
        elapsed = time.perf_counter() - t0
    n_conv = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    others = [f"{w.category.__name__}: {w.message}" for w in caught
              if not issubclass(w.category, ConvergenceWarning)]
    return model, elapsed, n_conv, others


# --------------------------------------------------------------------------- output
HEADER = (
    "| problem | intercept | alpha | fastpen ms | sklearn ms | ratio skl/fp "
    "| fastpen obj-best | sklearn obj-best | nnz fp | nnz skl | n_iter fp | n_iter skl "
    "| dual_gap_ fp | dual_gap_ skl |"
)
SEPARATOR = "|" + "|".join(["---"] * 3 + ["---:"] * 11) + "|"


class Out:
    def __init__(self, path):
        self.lines = []
        self.path = path

    def row(self, line):
        self.lines.append(line)
        print(line, flush=True)

    def save(self, preamble, notes):
        if self.path is None:
            return
        with open(self.path, "w") as fh:
            fh.write("\n".join(preamble) + "\n\n")
            fh.write("\n".join(self.lines) + "\n")
            if notes:
                fh.write("\nNotes:\n\n" + "\n".join(f"- {s}" for s in notes) + "\n")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default=",".join(PROBLEMS),
                        help="comma-separated subset of " + ",".join(PROBLEMS))
    parser.add_argument("--repeats", type=int, default=5, help="timed fits per solver")
    parser.add_argument("--intercept", choices=["both", "yes", "no"], default="both")
    parser.add_argument("--quick", action="store_true",
                        help="repeats=2 and only alpha_max/10")
    parser.add_argument("--out", default=None, help="also write the table to this file")
    args = parser.parse_args(argv)
    args.problems = [s.strip().upper() for s in args.problems.split(",") if s.strip()]
    unknown = [s for s in args.problems if s not in PROBLEMS]
    if unknown:
        parser.error(f"unknown problems {unknown}; choose from {list(PROBLEMS)}")
    if args.quick:
        args.repeats = 2
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    args.divisors = (10,) if args.quick else ALPHA_DIVISORS
    args.intercepts = {"both": (False, True), "yes": (True,), "no": (False,)}[args.intercept]
    return args


def main(argv=None):
    args = parse_args(argv)
    import sklearn
    preamble = [
        f"fastpen {fastpen.__version__}, scikit-learn {sklearn.__version__}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}",
        f"tol={TOL}, max_iter={MAX_ITER}, repeats={args.repeats} (median wall time, "
        f"interleaved, BLAS 1 thread), SNR={SNR}",
    ]
    for line in preamble:
        print(line, flush=True)
    print(flush=True)

    out = Out(args.out)
    notes = []
    header_printed = False
    with threadpool_limits(limits=1):
        for pname in args.problems:
            t0 = time.perf_counter()
            X, y, desc = make_problem(pname)
            floor = xtr_time(X, y)
            line = (f"{pname}: {desc}; generated in {time.perf_counter() - t0:.1f} s; "
                    f"one X^T r product: {floor * 1e3:.3f} ms")
            print(line, flush=True)
            preamble.append(line)
            if not header_printed:
                out.row(HEADER)
                out.row(SEPARATOR)
                header_printed = True

            warmed = False
            for fit_intercept in args.intercepts:
                amax = alpha_max(X, y, fit_intercept)
                for div in args.divisors:
                    alpha = amax / div
                    if not warmed:  # one warm-up fit per solver per problem
                        for s in SOLVERS:
                            timed_fit(s, alpha, fit_intercept, X, y)
                        warmed = True
                    times = {s: [] for s in SOLVERS}
                    models = {}
                    conv = {s: 0 for s in SOLVERS}
                    for _ in range(args.repeats):
                        for s in SOLVERS:  # interleaved: fastpen, sklearn, fastpen, ...
                            model, dt, n_conv, others = timed_fit(
                                s, alpha, fit_intercept, X, y)
                            times[s].append(dt)
                            models[s] = model
                            conv[s] += n_conv
                            for msg in others:
                                notes.append(f"{pname} intercept={fit_intercept} "
                                             f"amax/{div} {s}: {msg}")
                    obj = {s: objective(X, y, m.coef_, m.intercept_, alpha)
                           for s, m in models.items()}
                    best = min(obj.values())
                    med = {s: statistics.median(t) * 1e3 for s, t in times.items()}
                    fp, sk = models["fastpen"], models["sklearn"]
                    out.row(
                        f"| {pname} | {'yes' if fit_intercept else 'no'} | amax/{div} "
                        f"| {med['fastpen']:.1f} | {med['sklearn']:.1f} "
                        f"| {med['sklearn'] / med['fastpen']:.2f} "
                        f"| {obj['fastpen'] - best:.2e} | {obj['sklearn'] - best:.2e} "
                        f"| {np.count_nonzero(fp.coef_)} | {np.count_nonzero(sk.coef_)} "
                        f"| {fp.n_iter_} | {sk.n_iter_} "
                        f"| {float(fp.dual_gap_):.2e} | {float(sk.dual_gap_):.2e} |"
                    )
                    tag = f"{pname} intercept={'yes' if fit_intercept else 'no'} amax/{div}"
                    for s in SOLVERS:
                        if conv[s]:
                            notes.append(f"{tag} {s}: ConvergenceWarning in "
                                         f"{conv[s]}/{args.repeats} timed fits")
                    rel = abs(obj["fastpen"] - obj["sklearn"]) / max(abs(best), 1e-300)
                    if rel > REL_OBJ_WARN:
                        notes.append(f"{tag}: objectives differ by {rel:.2e} relative "
                                     f"(fastpen {obj['fastpen']:.10g}, "
                                     f"sklearn {obj['sklearn']:.10g})")
            del X, y
            gc.collect()

    print(flush=True)
    if notes:
        print("Notes:", flush=True)
        for s in notes:
            print(f"- {s}", flush=True)
    else:
        print("Notes: no ConvergenceWarning, objectives agree within "
              f"{REL_OBJ_WARN:g} relative.", flush=True)
    out.save(preamble, notes)
    if args.out:
        print(f"table written to {args.out}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
