"""Issue 6: the 100-alpha Lasso path and 5-fold LassoCV against the peers.

Path: every solver gets the same grid (100 alphas, eps=1e-3, scikit-learn's grid with
the intercept) and must reach, at every alpha, our duality-gap target (gap <= tol *
||y - ybar||^2 / n, tol=1e-6), checked by our own gap function (peers.py):

- fastpen.lasso_path and scikit-learn's enet_path stop on that gap themselves
  (scikit-learn's path has no intercept: it gets X and y centred beforehand, untimed,
  as LassoCV does; sparse X gets X_offset instead, as LassoCV passes it);
- celer_path (same centring), skglm's Lasso.path (native intercept) and glmnet (native
  intercept, lambda_path = the grid, standardize=False) stop on their own criteria: their
  loosest tolerance for which every alpha reaches the target is searched, untimed, and
  that setting is timed. glmnet is also timed at its own default (thresh 1e-7): the
  table shows the gap it reaches there.

LassoCV: fastpen.LassoCV(cv=5) with n_jobs=1 and n_jobs=2 against scikit-learn's
LassoCV (same folds, grid and tol), and the peak memory of fastpen's LassoCV measured in
a subprocess (peak RSS minus the RSS after loading X), relative to the size of X.

Medians of --repeats runs after a warm-up, interleaved, BLAS on one thread. A solver
whose settled run exceeds --cap seconds is timed once (marked 1 run); one that does not
finish within --hard-cap is reported as such.

    python bench/bench_path.py                                  # P1..P4, 5 repeats
    python bench/bench_path.py --quick                          # P1,P2, 2 repeats
    python bench/bench_path.py --problems P1,riboflavin --repeats 3 --out path.md
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers as P  # noqa: E402

DEFAULT_PEERS = "fastpen,sklearn,celer,skglm,glmnet,glmnet-default"


# --------------------------------------------------------------------------- path
def path_make_run(X, y, alphas, fit_intercept):
    prepared = {}  # solver name -> data prepared (untimed) once

    def make_run_for(solver):
        if solver.name not in prepared:
            prepared[solver.name] = solver.prepare_path(X, y, fit_intercept)
        Xp, yp, extra = prepared[solver.name]

        def make_run(setting):
            return lambda: solver.path(Xp, yp, alphas, fit_intercept, setting, extra)
        return make_run
    return make_run_for


def path_evaluate(X, y, alphas, fit_intercept, X_mean, result):
    coefs, intercepts = result
    if intercepts is None:
        intercepts = [P.optimal_intercept(X, y, coefs[:, k], fit_intercept, X_mean)
                      for k in range(coefs.shape[1])]
    return P.path_quality(X, y, alphas, coefs, intercepts, fit_intercept)


def run_path(name, X, y, solvers, args, fit_intercept=True):
    """Time the path of every solver on one problem; returns the table rows (dicts)."""
    alphas = P.grid(X, y, fit_intercept)
    target = P.gap_target(y, fit_intercept)
    X_mean = P.column_means(X)

    def worst_ratio(result):
        gaps, _ = path_evaluate(X, y, alphas, fit_intercept, X_mean, result)
        return float(np.max(gaps)) / target

    with threadpool_limits(limits=1):
        # the forked children inherit the one-thread limit
        infos = P.compare(solvers, path_make_run(X, y, alphas, fit_intercept),
                          worst_ratio, args.repeats, args.cap, args.hard_cap, args.steps)
    objs = {}
    for s in solvers:
        info = infos[s.name]
        if "result" in info:
            gaps, o = path_evaluate(X, y, alphas, fit_intercept, X_mean, info["result"])
            info["gaps"], objs[s.name] = gaps, o
    best = np.min(np.vstack(list(objs.values())), axis=0) if objs else None
    rows = []
    fp_time = infos.get("fastpen cd", {}).get("time")
    for s in solvers:
        info = infos[s.name]
        row = {"problem": name, "solver": s.name, "setting": info.get("setting"),
               "status": info["status"], "time": info.get("time"),
               "runs": info.get("runs"), "capped": info.get("capped", False),
               "coarse": info.get("coarse", False),
               "evals": info.get("evals"), "note": info.get("note", "")}
        if "gaps" in info:
            row["worst_ratio"] = float(np.max(info["gaps"])) / target
            row["n_over"] = int(np.sum(info["gaps"] > target))
            row["obj_best"] = float(np.max(objs[s.name] - best))
        if fp_time and row["time"]:
            row["vs_fastpen"] = row["time"] / fp_time
        rows.append(row)
    return rows


def fmt_setting(solver_name, setting):
    if setting is None:
        return "-"
    if solver_name.startswith("fastpen") or solver_name == "scikit-learn":
        return f"tol={setting:g}"
    if solver_name.startswith("glmnet"):
        return f"thresh={setting:.2g}"
    return f"tol={setting:.2g}"


PATH_HEADER = ("| problem | solver | setting | path time | runs | time / fastpen "
               "| worst gap/target | alphas over target | max obj - best |")
PATH_SEP = "|---|---|---|---:|---:|---:|---:|---:|---:|"


def path_row_md(r):
    if r["status"] != "ok":
        return (f"| {r['problem']} | {r['solver']} | {fmt_setting(r['solver'], r['setting'])}"
                f" | {r['status']} | | | | | |")
    runs = f"{r['runs']}" + (" (capped)" if r.get("capped") else "")
    setting = fmt_setting(r["solver"], r["setting"]) + (" (coarse)" if r["coarse"] else "")
    return (f"| {r['problem']} | {r['solver']} | {setting} | {P.fmt_ms(r['time'])} | {runs} "
            f"| {P.fmt_ratio(r.get('vs_fastpen'))} | {r['worst_ratio']:.3g} "
            f"| {r['n_over']}/100 | {r['obj_best']:.1e} |")


def _parse_time(text):
    value, unit = text.split()
    return float(value) / (1e3 if unit == "ms" else 1.0)


def parse_path_cells(cells):
    """A path row dict from the cells of a line printed by path_row_md."""
    problem, solver, setting = cells[:3]
    row = {"problem": problem, "solver": solver, "setting": None,
           "coarse": "(coarse)" in setting}
    if setting != "-":
        row["setting"] = float(setting.split("=")[1].split()[0])
    if cells[5] == "":
        row["status"] = cells[3]
    else:
        row.update(status="ok", time=_parse_time(cells[3]),
                   runs=int(cells[4].split()[0]), capped="(capped)" in cells[4],
                   worst_ratio=float(cells[6]), n_over=int(cells[7].split("/")[0]),
                   obj_best=float(cells[8]))
        if cells[5] != "-":
            row["vs_fastpen"] = float(cells[5].rstrip("x"))
    return row


def read_path_rows(path):
    """Path rows back from a bench_path.py --out file (to reuse a long run's path table).

    Returns {problem: [row dict, ...]} with the fields path_row_md prints.
    """
    rows = {}
    in_table = False
    for line in Path(path).read_text().splitlines():
        if line.startswith(PATH_HEADER[:40]):
            in_table = True
            continue
        if in_table and not line.startswith("|"):
            in_table = False
        if not in_table or line.startswith("|---"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        row = parse_path_cells(cells)
        row["from_file"] = str(path)
        problem = row["problem"]
        rows.setdefault(problem, []).append(row)
    return rows


def path_acceptance(rows_by_problem, shapes):
    """Lines on issue 6's path targets (fastpen faster than scikit-learn everywhere,
    >= 5x on p >> n) and issue 7's (fastpen <= 1.0x the fastest peer reaching the
    target)."""
    lines = []
    for name, rows in rows_by_problem.items():
        by = {r["solver"]: r for r in rows}
        fp = by.get("fastpen cd")
        if not fp or fp.get("time") is None:
            lines.append(f"- {name}: fastpen has no timing ({fp and fp['status']})")
            continue
        fp_ok = fp.get("n_over", 1) == 0
        n, p = shapes[name]
        pgn = p >= 5 * n
        sk = by.get("scikit-learn")
        parts = [f"{name} ({n}x{p}{', p >> n' if pgn else ''}): fastpen "
                 f"{P.fmt_ms(fp['time'])}{'' if fp_ok else ' (MISSES the gap target)'}"]
        if sk and sk.get("time"):
            speed = sk["time"] / fp["time"]
            need = 5.0 if pgn else 1.0
            parts.append(f"scikit-learn/fastpen = {speed:.2f}x (need > {need:g}x: "
                         f"{'met' if speed > need else 'MISSED'})")
        elif sk:
            parts.append(f"scikit-learn: {sk['status']}")
        peers = [r for r in rows if r["solver"] not in ("fastpen cd", "fastpen fista",
                                                        "glmnet default")
                 and r.get("time") and r.get("n_over", 1) == 0]
        if peers:
            fastest = min(peers, key=lambda r: r["time"])
            ratio = fp["time"] / fastest["time"]
            parts.append(f"fastpen / fastest peer at the target ({fastest['solver']}) = "
                         f"{ratio:.2f}x (need <= 1.0x: {'met' if ratio <= 1.0 else 'MISSED'})")
        gd = by.get("glmnet default")
        if gd and gd.get("time"):
            parts.append(f"glmnet at its default threshold {P.fmt_ms(gd['time'])} with "
                         f"worst gap {gd['worst_ratio']:.3g}x the target")
        lines.append("- " + "; ".join(parts))
    return lines


# --------------------------------------------------------------------------- LassoCV
class CVRunner(P.Solver):
    search = None

    def __init__(self, name, make):
        self.name = name
        self.make = make


def cv_solvers(peers, fit_intercept):
    import fastpen
    out = []
    for n_jobs in (1, 2):
        out.append(CVRunner(f"fastpen LassoCV n_jobs={n_jobs}", lambda tol, nj=n_jobs:
                            fastpen.LassoCV(cv=5, n_jobs=nj, tol=tol, max_iter=P.MAX_ITER,
                                            fit_intercept=fit_intercept)))
    if "sklearn" in peers:
        from sklearn.linear_model import LassoCV
        out.append(CVRunner("scikit-learn LassoCV n_jobs=1", lambda tol: LassoCV(
            cv=5, n_jobs=1, tol=tol, max_iter=P.MAX_ITER, fit_intercept=fit_intercept)))
    return out


def run_cv(name, X, y, peers, args, fit_intercept=True):
    solvers = cv_solvers(peers, fit_intercept)
    absent = {}
    if "celer" in peers:
        try:
            import celer
            celer.LassoCV(cv=2, tol=1e-3).fit(X[:50], y[:50])
        except Exception as exc:  # noqa: BLE001
            absent["celer LassoCV"] = f"{type(exc).__name__}: {str(exc)[:90]}"
    target = P.gap_target(y, fit_intercept)

    def make_run_for(s):
        def make_run(setting):
            def run():
                with P._quiet():
                    m = s.make(setting).fit(X, y)
                return (np.asarray(m.coef_), float(m.intercept_), float(m.alpha_))
            return run
        return make_run

    def ratio(res):
        return P.duality_gap(X, y, res[0], res[1], res[2], fit_intercept) / target

    with threadpool_limits(limits=1):
        infos = P.compare(solvers, make_run_for, ratio, args.repeats, args.cap,
                          args.hard_cap, args.steps)
    t1 = infos["fastpen LassoCV n_jobs=1"].get("time")
    rows = []
    for s in solvers:
        info = infos[s.name]
        row = {"problem": name, "solver": s.name, "status": info["status"],
               "time": info.get("time"), "runs": info.get("runs")}
        if "result" in info:
            row["alpha"] = info["result"][2]
            row["ratio"] = ratio(info["result"])
        if t1 and row["time"]:
            row["vs"] = row["time"] / t1
        rows.append(row)
    for k, why in absent.items():
        rows.append({"problem": name, "solver": k, "status": f"absent ({why})"})
    return rows


CV_HEADER = ("| problem | solver | time | runs | time / fastpen n_jobs=1 | alpha_ "
             "| gap/target of the refit |")
CV_SEP = "|---|---|---:|---:|---:|---:|---:|"


def cv_row_md(r):
    if r["status"] != "ok":
        return f"| {r['problem']} | {r['solver']} | {r['status']} | | | | |"
    return (f"| {r['problem']} | {r['solver']} | {P.fmt_ms(r['time'])} | {r['runs']} "
            f"| {P.fmt_ratio(r.get('vs'))} | {r['alpha']:.4g} | {r['ratio']:.3g} |")


MEM_HEADER = ("| problem | LassoCV n_jobs | size of X | peak RSS above baseline | "
              "/ size of X | per running job / size of X | tracemalloc peak / size of X |")
MEM_SEP = "|---|---:|---:|---:|---:|---:|---:|"


def run_cv_memory(name, fit_intercept, timeout):
    rows = []
    for n_jobs in (1, 2):
        res = P.memory_probe("memory-cv", name, n_jobs=n_jobs, intercept=fit_intercept,
                             timeout=timeout)
        if "error" in res:
            rows.append(f"| {name} | {n_jobs} | | {res['error']} | | | |")
            continue
        xb = res["x_bytes"]
        extra = res["rss_extra"]
        rows.append(f"| {name} | {n_jobs} | {xb / 2**20:.1f} MiB | {extra / 2**20:.1f} MiB "
                    f"| {extra / xb:.2f} | {extra / xb / n_jobs:.2f} "
                    f"| {res['traced_peak'] / xb:.2f} |")
    return rows


# --------------------------------------------------------------------------- main
def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", default=",".join(P.GENERATED),
                    help="comma-separated, from " + ",".join(P.all_problems()))
    ap.add_argument("--peers", default=DEFAULT_PEERS,
                    help="comma-separated subset of " + DEFAULT_PEERS + ",fista")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true",
                    help="P1,P2 unless --problems is given, 2 repeats, caps 20/120 s")
    ap.add_argument("--cap", type=float, default=30.0,
                    help="a run slower than this (s) is timed once")
    ap.add_argument("--hard-cap", type=float, default=600.0,
                    help="a run slower than this (s) is abandoned")
    ap.add_argument("--steps", type=int, default=2,
                    help="bisection steps of the tolerance search (factor 10^(1/2^steps))")
    ap.add_argument("--intercept", choices=["yes", "no"], default="yes")
    ap.add_argument("--no-path", action="store_true")
    ap.add_argument("--no-cv", action="store_true")
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--out", default=None, help="also write the tables (markdown) here")
    args = ap.parse_args(argv)
    if args.quick:
        args.repeats = min(args.repeats, 2)
        args.cap, args.hard_cap = min(args.cap, 20.0), min(args.hard_cap, 120.0)
        if "--problems" not in " ".join(argv or sys.argv):
            args.problems = "P1,P2"
    args.problems = [p.strip() for p in args.problems.split(",") if p.strip()]
    unknown = [p for p in args.problems if p not in P.all_problems()]
    if unknown:
        ap.error(f"unknown problems {unknown}; choose from {P.all_problems()}")
    args.peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    args.fit_intercept = args.intercept == "yes"
    return args


def main(argv=None):
    args = parse_args(argv)
    import fastpen
    import sklearn
    out = []

    def emit(line=""):
        print(line, flush=True)
        out.append(line)

    solvers, absent = P.make_solvers(args.peers)
    versions = [f"fastpen {fastpen.__version__}", f"scikit-learn {sklearn.__version__}"]
    for mod in ("celer", "skglm", "glmnet"):
        try:
            versions.append(f"{mod} {__import__(mod).__version__}")
        except Exception:  # noqa: BLE001
            pass
    emit(f"# Lasso path and LassoCV (issue 6)\n")
    emit(f"{', '.join(versions)}; numpy {np.__version__}.")
    emit(f"tol={P.TOL} (gap <= tol ||y - ybar||^2 / n, our gap function), "
         f"intercept={'yes' if args.fit_intercept else 'no'}, 100 alphas, eps=1e-3; "
         f"median of {args.repeats} after a warm-up, interleaved, BLAS 1 thread; "
         f"runs over {args.cap:g} s timed once, abandoned after {args.hard_cap:g} s; "
         f"tolerance search with {args.steps} bisection steps.")
    for name, why in absent.items():
        emit(f"- absent: {name} ({why})")
    emit()
    shapes, path_rows, cv_rows, mem_rows = {}, {}, [], []
    descs = []
    t_start = time.perf_counter()
    for name in args.problems:
        X, y, desc = P.load_problem(name)
        shapes[name] = X.shape
        descs.append(f"- {name}: {desc}")
        print(f"[{time.perf_counter() - t_start:.0f} s] {name}: {desc}", flush=True)
        if not args.no_path:
            rows = run_path(name, X, y, solvers, args, args.fit_intercept)
            path_rows[name] = rows
            for r in rows:
                print("  " + path_row_md(r), flush=True)
        if not args.no_cv:
            rows = run_cv(name, X, y, args.peers, args, args.fit_intercept)
            cv_rows.extend(rows)
            for r in rows:
                print("  " + cv_row_md(r), flush=True)
        if not args.no_memory:
            rows = run_cv_memory(name, args.fit_intercept, args.hard_cap * 2)
            mem_rows.extend(rows)
            for r in rows:
                print("  " + r, flush=True)
        del X, y
    emit("Problems:\n")
    for d in descs:
        emit(d)
    emit()
    if path_rows:
        emit("## 100-alpha path\n")
        emit(PATH_HEADER)
        emit(PATH_SEP)
        for rows in path_rows.values():
            for r in rows:
                emit(path_row_md(r))
        emit()
        emit("`time / fastpen` > 1 means fastpen is faster. `worst gap/target` is the "
             "largest, over the 100 alphas, of the gap (our computation) over the target; "
             "<= 1 everywhere means the path is at the target. glmnet default: its own "
             "threshold, not brought to the target.\n")
        emit("Acceptance (path):\n")
        for line in path_acceptance(path_rows, shapes):
            emit(line)
        emit()
    if cv_rows:
        emit("## LassoCV (5 folds)\n")
        emit(CV_HEADER)
        emit(CV_SEP)
        for r in cv_rows:
            emit(cv_row_md(r))
        emit()
        emit("Acceptance (LassoCV n_jobs=2 at least 1.6x faster than n_jobs=1):\n")
        by = {}
        for r in cv_rows:
            by.setdefault(r["problem"], {})[r["solver"]] = r
        for name, d in by.items():
            a, b = d.get("fastpen LassoCV n_jobs=1"), d.get("fastpen LassoCV n_jobs=2")
            if a and b and a.get("time") and b.get("time"):
                sp_ = a["time"] / b["time"]
                emit(f"- {name}: n_jobs=1 {P.fmt_ms(a['time'])}, n_jobs=2 "
                     f"{P.fmt_ms(b['time'])}: speed-up {sp_:.2f}x "
                     f"({'met' if sp_ >= 1.6 else 'MISSED'})")
        emit()
    if mem_rows:
        emit("## Peak memory of fastpen's LassoCV (subprocess)\n")
        emit(MEM_HEADER)
        emit(MEM_SEP)
        for r in mem_rows:
            emit(r)
        emit()
        emit("Peak RSS above the RSS measured after loading X (and a small warm-up fit), "
             "the heap's free pages given back first (malloc_trim), "
             "reset with /proc/self/clear_refs, transparent huge pages off for the "
             "probe; one training fold is 0.8 of X, so the "
             "target is at most about 0.8 per running job (plus small per-fold vectors).")
        emit()
    print(f"total {time.perf_counter() - t_start:.0f} s", flush=True)
    if args.out:
        Path(args.out).write_text("\n".join(out) + "\n")
        print(f"written to {args.out}")


if __name__ == "__main__":
    main()
