"""Benchmark fastpen.Ridge / RidgeCV against scikit-learn's Ridge / RidgeCV.

The problems of bench_lasso.py (P1 dense 200x10000, P2 dense 20000x500, P3 sparse CSC
20000x100000 with density 0.001), alpha=1, with an intercept. Every fastpen solver and
every scikit-learn solver that applies is timed: BLAS pinned to one thread, one warm-up
fit each, then interleaved timed rounds (fastpen auto, fastpen cholesky, ..., sklearn
auto, ...); the tables show medians. scikit-learn's lbfgs needs positive=True and is not
run; its svd and cholesky cannot fit an intercept on sparse X.

Accuracy: `max|dcoef| vs skl` is max |coef - coef_ref| against scikit-learn's cholesky
(dense) or auto (sparse) solution, as asked; `rel err vs exact` is ||coef - w*|| / ||w*||
against the exact solution (scikit-learn's cholesky for dense X; for P3, where
scikit-learn has no exact sparse solver with an intercept, fastpen's cg at tol=1e-10,
which certifies a relative error below 1e-11).

RidgeCV: 100 alphas (logspace(-3, 3)); leave-one-out (cv=None) and 5-fold, each as a
multiple of one fastpen Ridge fit, against scikit-learn's RidgeCV(cv=None).

    python bench/bench_ridge.py                     # everything, 5 rounds
    python bench/bench_ridge.py --problems P1,P2 --repeats 7 --out ridge.md
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
from sklearn.linear_model import Ridge as SkRidge
from sklearn.linear_model import RidgeCV as SkRidgeCV
from threadpoolctl import threadpool_limits

import bench_lasso as base
import fastpen
from fastpen._ridge import Ridge, RidgeCV

ALPHA = 1.0
CV_ALPHAS = np.logspace(-3, 3, 100)
FASTPEN = ("auto", "cholesky", "svd", "cg", "cd", "fista")
SKLEARN = ("auto", "svd", "cholesky", "lsqr", "sparse_cg", "sag", "saga")

# Skipped because one fit takes over ~20 s (measured once, single thread, on the machine
# that produced the README table); "n/a" ones cannot run at all.
SKIP = {
    ("P1", "fastpen", "cd"): "over 20 s: 10000 epochs (9 s) leave a relative error of ~1; "
                             "coordinate descent on p >> n ridge converges very slowly",
    ("P3", "fastpen", "cd"): "over 20 s (42 s, 8620 epochs)",
    ("P3", "sklearn", "svd"): "n/a: scikit-learn's svd does not fit an intercept on sparse X",
    ("P3", "sklearn", "cholesky"): "n/a: scikit-learn's cholesky does not fit an intercept "
                                   "on sparse X",
    ("P3", "sklearn", "saga"): "n/a: scikit-learn's saga does not fit an intercept on sparse X",
}
SKIP_CV = {
    "P3": "leave-one-out needs the 20000 x 20000 kernel (3.2 GB) and its eigendecomposition "
          "in both libraries; 5-fold with 100 alphas is 500 CG fits in fastpen",
}


def make_estimator(library, solver):
    if library == "fastpen":
        return Ridge(alpha=ALPHA, solver=solver)
    return SkRidge(alpha=ALPHA, solver=solver)


def timed(estimator, X, y):
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        estimator.fit(X, y)
        elapsed = time.perf_counter() - t0
    notes = sorted({f"{w.category.__name__}: {str(w.message).splitlines()[0][:90]}"
                    for w in caught})
    return estimator, elapsed, notes


def exact_solution(name, X, y):
    if sp.issparse(X):
        return Ridge(alpha=ALPHA, solver="cg", tol=1e-10, max_iter=100_000).fit(X, y).coef_
    return SkRidge(alpha=ALPHA, solver="cholesky").fit(X, y).coef_


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", default="P1,P2,P3")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds (>= 5 advised)")
    parser.add_argument("--skip-slow", type=float, default=20.0,
                        help="seconds: a solver whose warm-up fit takes longer is not repeated")
    parser.add_argument("--out", default=None, help="also write the tables to this file")
    args = parser.parse_args(argv)
    args.problems = [s.strip().upper() for s in args.problems.split(",") if s.strip()]
    unknown = [s for s in args.problems if s not in ("P1", "P2", "P3")]
    if unknown:
        parser.error(f"unknown problems {unknown}")
    return args


def fmt_ms(seconds):
    return f"{seconds * 1e3:.1f}" if seconds < 100 else f"{seconds * 1e3:.0f}"


def main(argv=None):
    args = parse_args(argv)
    import sklearn
    lines = [
        f"fastpen {fastpen.__version__}, scikit-learn {sklearn.__version__}, numpy "
        f"{np.__version__}, scipy {scipy.__version__}; alpha={ALPHA}, fit_intercept=True, "
        f"median of {args.repeats} interleaved rounds, BLAS 1 thread",
        "",
    ]
    notes = []
    summary = []
    cv_rows = []
    out = []

    def emit(line=""):
        print(line, flush=True)
        out.append(line)

    for line in lines:
        emit(line)
    with threadpool_limits(limits=1):
        for name in args.problems:
            X, y, desc = base.make_problem(name)
            emit(f"**{name}**: {desc}")
            emit()
            exact = exact_solution(name, X, y)
            runs = [("fastpen", s) for s in FASTPEN] + [("sklearn", s) for s in SKLEARN]
            active, results = [], {}
            for library, solver in runs:  # warm-up, and the skips
                if (name, library, solver) in SKIP:
                    notes.append(f"{name} {library} {solver}: skipped, "
                                 f"{SKIP[(name, library, solver)]}")
                    continue
                model, elapsed, warn = timed(make_estimator(library, solver), X, y)
                results[(library, solver)] = {"model": model, "times": [], "warn": set(warn)}
                if elapsed > args.skip_slow:
                    results[(library, solver)]["times"].append(elapsed)
                    notes.append(f"{name} {library} {solver}: warm-up took {elapsed:.1f} s, "
                                 "over the limit: one run reported")
                else:
                    active.append((library, solver))
            for _ in range(args.repeats):  # interleaved rounds
                for key in active:
                    model, elapsed, warn = timed(make_estimator(*key), X, y)
                    results[key]["times"].append(elapsed)
                    results[key]["warn"].update(warn)
            reference = (results[("sklearn", "auto")] if sp.issparse(X)
                         else results[("sklearn", "cholesky")])["model"].coef_
            medians = {k: statistics.median(v["times"]) for k, v in results.items()}
            sk_keys = [k for k in medians if k[0] == "sklearn"]
            fastest_sk = min(sk_keys, key=medians.get)
            emit("| library | solver | solver_ | ms | / fastest sklearn | n_iter_ "
                 "| max abs dcoef vs skl | rel err vs exact |")
            emit("|---|---|---|---:|---:|---:|---:|---:|")
            for key, res in results.items():
                model = res["model"]
                n_iter = getattr(model, "n_iter_", None)
                n_iter = "-" if n_iter is None else int(np.max(n_iter))
                coef = np.asarray(model.coef_, dtype=np.float64)
                emit(f"| {key[0]} | {key[1]} | {getattr(model, 'solver_', '-')} "
                     f"| {fmt_ms(medians[key])} | {medians[key] / medians[fastest_sk]:.2f} "
                     f"| {n_iter} | {np.max(np.abs(coef - reference)):.1e} "
                     f"| {np.linalg.norm(coef - exact) / np.linalg.norm(exact):.1e} |")
                for w in sorted(res["warn"]):
                    notes.append(f"{name} {key[0]} {key[1]}: {w}")
            emit()
            auto = medians[("fastpen", "auto")]
            summary.append(
                f"| {name} | {results[('fastpen', 'auto')]['model'].solver_} | {fmt_ms(auto)} "
                f"| {fastest_sk[1]} | {fmt_ms(medians[fastest_sk])} "
                f"| {auto / medians[fastest_sk]:.2f} "
                f"| {'yes' if auto <= 1.1 * medians[fastest_sk] else 'NO'} "
                f"| {'yes' if auto < medians[fastest_sk] else 'no'} |")

            if name in SKIP_CV:
                notes.append(f"{name} RidgeCV: skipped, {SKIP_CV[name]}")
            else:
                cv_runs = {
                    "fastpen Ridge": lambda: Ridge(alpha=ALPHA),
                    "fastpen RidgeCV": lambda: RidgeCV(alphas=CV_ALPHAS),
                    "fastpen RidgeCV cv=5": lambda: RidgeCV(alphas=CV_ALPHAS, cv=5),
                    "sklearn RidgeCV": lambda: SkRidgeCV(alphas=CV_ALPHAS),
                }
                cv_times, cv_models, cv_active = {}, {}, []
                for label, make in cv_runs.items():
                    model, elapsed, _ = timed(make(), X, y)
                    cv_models[label], cv_times[label] = model, [elapsed]
                    if elapsed <= args.skip_slow:
                        cv_active.append(label)
                        cv_times[label] = []
                    else:
                        notes.append(f"{name} {label}: warm-up took {elapsed:.1f} s, "
                                     "one run reported")
                for _ in range(args.repeats):
                    for label in cv_active:
                        _, elapsed, _ = timed(cv_runs[label](), X, y)
                        cv_times[label].append(elapsed)
                med = {k: statistics.median(v) for k, v in cv_times.items()}
                fit = med["fastpen Ridge"]
                cv_rows.append(
                    f"| {name} | {fmt_ms(fit)} | {fmt_ms(med['fastpen RidgeCV'])} "
                    f"| {med['fastpen RidgeCV'] / fit:.1f} "
                    f"| {fmt_ms(med['fastpen RidgeCV cv=5'])} "
                    f"| {med['fastpen RidgeCV cv=5'] / fit:.1f} "
                    f"| {fmt_ms(med['sklearn RidgeCV'])} "
                    f"| {med['sklearn RidgeCV'] / med['fastpen RidgeCV']:.1f} "
                    f"| {cv_models['fastpen RidgeCV'].alpha_:.4g} / "
                    f"{cv_models['sklearn RidgeCV'].alpha_:.4g} |")
            del X, y
            gc.collect()

    emit("**solver='auto' against the fastest scikit-learn solver**")
    emit()
    emit("| problem | auto chose | auto ms | fastest sklearn | ms | ratio | within 1.1x "
         "| faster |")
    emit("|---|---|---:|---|---:|---:|---|---|")
    for row in summary:
        emit(row)
    emit()
    if cv_rows:
        emit(f"**RidgeCV, {len(CV_ALPHAS)} alphas** (times in ms; ratios to one fastpen "
             "Ridge fit)")
        emit()
        emit("| problem | Ridge fit | RidgeCV (LOO) | / fit | RidgeCV cv=5 | / fit "
             "| sklearn RidgeCV (LOO) | sklearn / fastpen | alpha_ fastpen / sklearn |")
        emit("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for row in cv_rows:
            emit(row)
        emit()
    emit("Notes:")
    emit()
    for note in notes or ["none"]:
        emit(f"- {note}")
    if args.out:
        with open(args.out, "w") as fh:
            fh.write("\n".join(out) + "\n")
        print(f"\ntables written to {args.out}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
