"""Proximal gradient against coordinate descent and against skglm's FISTA.

On the problems of bench_lasso.py (no intercept: skglm's FISTA has none), each solver is
timed until it reaches the same duality gap, tol * ||y||^2 with tol=1e-6:

- fastpen cd, fista and ista, and scikit-learn's Lasso stop on that gap themselves;
- skglm's FISTA stops on its own optimality measure, so it is run with tol=0 for the
  smallest iteration count whose result reaches the gap (found by doubling and bisection,
  untimed), and that run is timed. It computes its step from a full SVD / power method
  each fit; that is part of its cost, as the Lipschitz estimate is part of ours.

A solver that needs more than its cap (--max-iter) is reported as not reaching the target.
Medians of --repeats runs after a warm-up (numba compilation), interleaved, BLAS on one
thread. The table gives each solver's time, iterations and objective minus the best one.

    python bench/bench_fista.py                     # P1..P4, alpha_max/10 and /100
    python bench/bench_fista.py --problems P2 --repeats 3
"""
import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_lasso as base  # noqa: E402  (problem generators shared with the Lasso bench)

import fastpen  # noqa: E402
from sklearn.linear_model import Lasso as SkLasso  # noqa: E402

TOL = 1e-6


def duality_gap(X, y, coef, alpha):
    """scikit-learn's Lasso gap without intercept, divided by n (its dual_gap_)."""
    n = X.shape[0]
    R = y - np.asarray(X @ coef).ravel()
    XtR = np.asarray(X.T @ R).ravel()
    scale = min(1.0, alpha * n / max(np.max(np.abs(XtR)), 1e-300))
    primal = 0.5 * R @ R + alpha * n * np.abs(coef).sum()
    dual = -0.5 * scale**2 * (R @ R) + scale * (R @ y)
    return (primal - dual) / n


def skglm_fista(max_iter):
    from skglm import GeneralizedLinearEstimator
    from skglm.datafits import Quadratic
    from skglm.penalties import L1
    from skglm.solvers import FISTA

    def fit(X, y, alpha):
        model = GeneralizedLinearEstimator(Quadratic(), L1(alpha),
                                           FISTA(max_iter=max_iter, tol=0.0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X, y)
        return model.coef_
    return fit


def iterations_to_target(fit_for, X, y, alpha, target, cap):
    """Smallest iteration count whose result has gap <= target, or None above cap."""
    k = 8
    while True:
        if duality_gap(X, y, fit_for(k)(X, y, alpha), alpha) <= target:
            break
        if k >= cap:
            return None
        k = min(2 * k, cap)
    low, high = k // 2, k
    while high - low > max(1, high // 50):  # 2% is precise enough for a timing
        mid = (low + high) // 2
        if duality_gap(X, y, fit_for(mid)(X, y, alpha), alpha) <= target:
            high = mid
        else:
            low = mid
    return high


def gap_rule_fit(make_model):
    """A fit function for a model that stops on the gap itself; records convergence."""
    def fit(X, y, alpha):
        model = make_model(alpha)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model.fit(X, y)
        model.converged = not any("did not converge" in str(w.message) for w in caught)
        return model
    return fit


def fastpen_fit(solver, max_iter):
    return gap_rule_fit(lambda alpha: fastpen.Lasso(
        alpha, fit_intercept=False, tol=TOL, max_iter=max_iter, solver=solver))


def sklearn_fit(max_iter):
    return gap_rule_fit(lambda alpha: SkLasso(
        alpha, fit_intercept=False, tol=TOL, max_iter=max_iter))


def run(problems, divisors, repeats, cap):
    print(f"fastpen {fastpen.__version__}; tol={TOL} (gap <= tol ||y||^2), no intercept, "
          f"median of {repeats}, BLAS 1 thread, iteration cap {cap}\n")
    print("| problem | alpha | solver | ms | iterations | obj - best | reached gap |")
    print("|---|---|---|---:|---:|---:|---|")
    for name in problems:
        X, y, desc = base.make_problem(name)
        for divisor in divisors:
            alpha = base.alpha_max(X, y, False) / divisor
            target = TOL * float(y @ y) / X.shape[0]
            runs = {}
            with threadpool_limits(limits=1):
                k_skglm = None
                try:
                    skglm_fista(2)(X, y, alpha)  # numba compilation, untimed
                    k_skglm = iterations_to_target(skglm_fista, X, y, alpha, target, cap)
                except ImportError:
                    pass
                fits = {
                    "fastpen cd": fastpen_fit("cd", cap),
                    "fastpen fista": fastpen_fit("fista", cap),
                    "fastpen ista": fastpen_fit("ista", cap),
                    "sklearn cd": sklearn_fit(cap),
                }
                if k_skglm is not None:
                    fits["skglm fista"] = skglm_fista(k_skglm)
                for fit in fits.values():  # warm-up
                    fit(X, y, alpha)
                times = {key: [] for key in fits}
                for _ in range(repeats):
                    for key, fit in fits.items():
                        t0 = time.perf_counter()
                        result = fit(X, y, alpha)
                        times[key].append(time.perf_counter() - t0)
                        runs[key] = result
            objectives = {}
            for key, result in runs.items():
                coef = result if isinstance(result, np.ndarray) else result.coef_
                objectives[key] = base.objective(X, y, coef, 0.0, alpha)
            best = min(objectives.values())
            for key in fits:
                result = runs[key]
                coef = result if isinstance(result, np.ndarray) else result.coef_
                iters = k_skglm if isinstance(result, np.ndarray) else result.n_iter_
                # every solver judged by this script's own gap, not by its own report
                reached = duality_gap(X, y, coef, alpha) <= target
                print(f"| {name} | amax/{divisor} | {key} | {1e3 * statistics.median(times[key]):.1f} "
                      f"| {iters} | {objectives[key] - best:.2e} | {'yes' if reached else 'NO'} |",
                      flush=True)
            if k_skglm is not None:
                # skglm recomputes its step (SVD of dense X) at each fit: show its time
                # without it too, so the comparison does not rest on that one cost
                from skglm.datafits import Quadratic
                lip_times = []
                with threadpool_limits(limits=1):
                    for _ in range(repeats):
                        datafit = Quadratic()
                        t0 = time.perf_counter()
                        if sp.issparse(X):
                            datafit.get_global_lipschitz_sparse(X.data, X.indptr, X.indices, y)
                        else:
                            datafit.get_global_lipschitz(X, y)
                        lip_times.append(time.perf_counter() - t0)
                lip = statistics.median(lip_times)
                print(f"| {name} | amax/{divisor} | skglm fista without its step computation "
                      f"| {1e3 * (statistics.median(times['skglm fista']) - lip):.1f} "
                      f"| {k_skglm} | | |", flush=True)
            if k_skglm is None:
                print(f"| {name} | amax/{divisor} | skglm fista | - | > {cap} | - | NO |",
                      flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--problems", default="P1,P2,P3,P4")
    parser.add_argument("--alphas", default="10,100", help="divisors of alpha_max")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-iter", type=int, default=20_000)
    args = parser.parse_args(argv)
    run(args.problems.split(","), [int(d) for d in args.alphas.split(",")], args.repeats,
        args.max_iter)


if __name__ == "__main__":
    main()
