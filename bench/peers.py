"""Shared pieces of bench_path.py and bench_suite.py: problems, an independent duality
gap, the solver wrappers (fastpen, scikit-learn, celer, skglm, glmnet), the search that
brings peers with their own stopping rule to our gap target, timing, and memory probes.

The gap target is scikit-learn's: gap <= TOL * ||y - ybar||^2 / n with an intercept,
TOL * ||y||^2 / n without (gaps here are in objective units, i.e. divided by n).

Memory probes run in a subprocess:
    python bench/peers.py memory --solver fastpen --problem P3 --divisor 10 --intercept 1
    python bench/peers.py memory-cv --problem P3 --n-jobs 2
"""
import argparse
import gc
import json
import math
import os
import statistics
import sys
import time
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import scipy.sparse as sp

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_lasso as base  # noqa: E402  (generated problems P1..P4)

TOL = 1e-6
MAX_ITER = 100_000
DATA_DIR = Path(os.environ.get("FASTPEN_DATA", HERE.parent.parent / "shared" / "data"))
GENERATED = ("P1", "P2", "P3", "P4")
# The penalty's mix alpha (l1_ratio |w|_1 + (1 - l1_ratio) / 2 ||w||^2), for every solver,
# gap and objective here; 1 is the Lasso. Set once, by set_l1_ratio, before a run.
L1_RATIO = 1.0
REAL = ("riboflavin", "leukemia", "diabetes64", "housing_scale", "we8there",
        "trump_tweets_tfidf")


def set_l1_ratio(l1_ratio):
    """Benchmark the elastic net of this mix (0 < l1_ratio <= 1) instead of the Lasso."""
    global L1_RATIO
    l1_ratio = float(l1_ratio)
    if not 0.0 < l1_ratio <= 1.0:
        raise ValueError(f"l1_ratio must be in (0, 1], got {l1_ratio}")
    L1_RATIO = l1_ratio


def is_lasso():
    return L1_RATIO == 1.0


# --------------------------------------------------------------------------- problems
def real_available():
    return [name for name in REAL
            if (DATA_DIR / name).exists() or (DATA_DIR / f"{name}.npz").exists()]


def all_problems():
    return list(GENERATED) + real_available()


def _csc32(X):
    X = sp.csc_matrix(X, dtype=np.float64)
    X.sum_duplicates()
    X.sort_indices()
    X.indices = X.indices.astype(np.int32)
    X.indptr = X.indptr.astype(np.int32)
    return X


def load_problem(name):
    """(X, y, description). Dense X is Fortran float64, sparse X is CSC float64 int32.

    Every solver gets the same arrays (the layout each of them reads without copying).
    """
    if name in GENERATED:
        return base.make_problem(name)
    if name == "housing_scale":
        from sklearn.datasets import load_svmlight_file
        X, y = load_svmlight_file(str(DATA_DIR / name))
        X = _csc32(X)  # CSR int64 as read; peers need CSC int32 (fastpen takes either)
        return X, np.asarray(y, np.float64), f"libsvm {X.shape[0]}x{X.shape[1]} as CSC"
    z = np.load(DATA_DIR / f"{name}.npz", allow_pickle=False)
    y = np.asarray(z["y"], dtype=np.float64).ravel()
    if "format" in z.files:
        X = _csc32(sp.load_npz(DATA_DIR / f"{name}.npz"))
        desc = f"sparse CSC {X.shape[0]}x{X.shape[1]} nnz={X.nnz}"
    else:
        X = np.asarray(z["X"], dtype=np.float64)
        if name == "leukemia":  # raw intensities: standardize rows, then columns
            X = (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)
            X = (X - X.mean(axis=0)) / X.std(axis=0)
        X = np.asfortranarray(X)
        desc = f"dense {X.shape[0]}x{X.shape[1]}"
        if name == "leukemia":
            desc += " standardized rows then columns"
    return X, y, desc


def x_nbytes(X):
    if sp.issparse(X):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


def p_much_larger(X):
    """'p >> n' for the acceptance targets: n_features >= 5 n_samples."""
    return X.shape[1] >= 5 * X.shape[0]


# --------------------------------------------------------------------------- math
def column_means(X):
    return np.asarray(X.mean(axis=0)).ravel()


def alpha_max(X, y, fit_intercept):
    """The smallest alpha whose solution is 0 (scikit-learn's: divided by l1_ratio)."""
    return base.alpha_max(X, y, fit_intercept) / L1_RATIO


def gap_target(y, fit_intercept, tol=TOL):
    yc = y - y.mean() if fit_intercept else y
    return tol * float(yc @ yc) / y.shape[0]


def optimal_intercept(X, y, coef, fit_intercept, X_mean=None):
    if not fit_intercept:
        return 0.0
    if X_mean is None:
        X_mean = column_means(X)
    return float(y.mean() - X_mean @ coef)


def objective(X, y, coef, intercept, alpha):
    coef = np.asarray(coef, dtype=np.float64).ravel()
    l1_part = base.objective(X, y, coef, intercept, alpha * L1_RATIO)
    return l1_part + 0.5 * alpha * (1.0 - L1_RATIO) * float(coef @ coef)


def duality_gap(X, y, coef, intercept, alpha, fit_intercept):
    """Elastic-net duality gap of (coef, intercept), in objective units, computed here
    (the Lasso's at l1_ratio = 1).

    The dual point is the (centred, with an intercept) residual rescaled into the dual
    feasible set, as scikit-learn does; the primal uses the solver's own intercept, so
    a non-optimal intercept shows up in the gap.
    """
    n = X.shape[0]
    coef = np.asarray(coef, dtype=np.float64).ravel()
    l1_reg, l2_reg = alpha * L1_RATIO * n, alpha * (1.0 - L1_RATIO) * n
    R = y - np.asarray(X @ coef).ravel() - float(intercept)
    Rc = R - R.mean() if fit_intercept else R
    XtR = np.asarray(X.T @ Rc).ravel() - l2_reg * coef
    dual_norm = max(float(np.max(np.abs(XtR))), 1e-300)
    scale = min(1.0, l1_reg / dual_norm)
    w_norm2 = float(coef @ coef)
    primal = 0.5 * float(R @ R) + l1_reg * float(np.abs(coef).sum()) + 0.5 * l2_reg * w_norm2
    dual = (-0.5 * scale ** 2 * float(Rc @ Rc) + scale * float(Rc @ y)
            - 0.5 * l2_reg * scale ** 2 * w_norm2)
    return (primal - dual) / n


def path_quality(X, y, alphas, coefs, intercepts, fit_intercept):
    """Per-alpha (gaps, objectives) of a path."""
    gaps, objs = [], []
    for k, alpha in enumerate(alphas):
        gaps.append(duality_gap(X, y, coefs[:, k], intercepts[k], alpha, fit_intercept))
        objs.append(objective(X, y, coefs[:, k], intercepts[k], alpha))
    return np.array(gaps), np.array(objs)


def grid(X, y, fit_intercept, n_alphas=100, eps=1e-3):
    """scikit-learn's grid (same as fastpen.alpha_grid and LassoCV().alphas_)."""
    amax = alpha_max(X, y, fit_intercept)
    return np.geomspace(amax, amax * eps, num=n_alphas)


# --------------------------------------------------------------------------- solvers
class _quiet(warnings.catch_warnings):
    """catch_warnings that ignores everything (ConvergenceWarning included)."""

    def __enter__(self):
        out = super().__enter__()
        warnings.simplefilter("ignore")
        return out


class Solver:
    """A solver under test.

    search: None when the solver stops on our gap rule itself (setting = TOL); 'tol' when
    its own stopping rule differs and its loosest tolerance reaching our target is
    searched (untimed); 'fixed' for a fixed setting of its own (glmnet's default).
    """
    name = ""
    search = None
    nominal = TOL  # first setting tried by the search
    module = None

    def available(self):
        if self.module is None:
            return True, ""
        try:
            __import__(self.module)
            return True, ""
        except Exception as exc:  # noqa: BLE001
            return False, f"{type(exc).__name__}: {exc}"

    def warm_compile(self):
        """One-off compilation (numba), untimed."""

    def prepare_path(self, X, y, fit_intercept):
        """Untimed data preparation for the path (default: none)."""
        return X, y, {}

    def tighter(self, s):
        return s / 10.0

    def looser(self, s):
        return s * 10.0

    def between(self, lo, hi):
        return math.sqrt(lo * hi)


class FastpenCD(Solver):
    name = "fastpen cd"
    solver = "cd"
    module = "fastpen"

    def fit(self, X, y, alpha, fit_intercept, setting=TOL):
        import fastpen
        with _quiet():
            m = fastpen.ElasticNet(alpha=alpha, l1_ratio=L1_RATIO, tol=setting,
                                   fit_intercept=fit_intercept, max_iter=MAX_ITER,
                                   solver=self.solver).fit(X, y)
        return m.coef_, float(m.intercept_)

    def path(self, X, y, alphas, fit_intercept, setting=TOL, extra=None):
        import fastpen
        with _quiet():
            _, coefs, _ = fastpen.enet_path(X, y, l1_ratio=L1_RATIO, alphas=alphas,
                                            eps=1e-3, tol=setting,
                                            fit_intercept=fit_intercept,
                                            max_iter=MAX_ITER, solver=self.solver)
        return coefs, None  # intercepts: ybar - xbar^T w (implicit centring)


class FastpenFista(FastpenCD):
    name = "fastpen fista"
    solver = "fista"


class Sklearn(Solver):
    name = "scikit-learn"
    module = "sklearn"

    def fit(self, X, y, alpha, fit_intercept, setting=TOL):
        from sklearn.linear_model import ElasticNet, Lasso
        model = Lasso if is_lasso() else partial(ElasticNet, l1_ratio=L1_RATIO)
        with _quiet():
            m = model(alpha=alpha, tol=setting, fit_intercept=fit_intercept,
                      max_iter=MAX_ITER).fit(X, y)
        return m.coef_, float(m.intercept_)

    def prepare_path(self, X, y, fit_intercept):
        # enet_path has no intercept: centre as LassoCV does (_pre_fit), untimed
        if not fit_intercept:
            return X, y, {}
        mean = column_means(X)
        if sp.issparse(X):
            return X, y - y.mean(), {"X_offset": mean, "X_scale": np.ones_like(mean)}
        return np.asfortranarray(X - mean), y - y.mean(), {}

    def path(self, X, y, alphas, fit_intercept, setting=TOL, extra=None):
        from sklearn.linear_model import enet_path
        with _quiet():
            _, coefs, _ = enet_path(X, y, l1_ratio=L1_RATIO, alphas=alphas, tol=setting,
                                    max_iter=MAX_ITER, precompute="auto",
                                    **(extra or {}))
        return coefs, None


class Celer(Solver):
    name = "celer"
    module = "celer"
    search = "tol"

    def fit(self, X, y, alpha, fit_intercept, setting=TOL):
        import celer
        with _quiet():
            model = (celer.Lasso if is_lasso()
                     else partial(celer.ElasticNet, l1_ratio=L1_RATIO))
            m = model(alpha=alpha, tol=setting, fit_intercept=fit_intercept,
                      max_iter=1000, max_epochs=500_000).fit(X, y)
        return m.coef_, float(m.intercept_)

    prepare_path = Sklearn.prepare_path

    def path(self, X, y, alphas, fit_intercept, setting=TOL, extra=None):
        from celer import celer_path
        with _quiet():
            _, coefs, _ = celer_path(X, y, "lasso", alphas=alphas, l1_ratio=L1_RATIO,
                                     tol=setting, max_iter=1000, max_epochs=500_000,
                                     prune=1, **(extra or {}))
        return coefs, None


class Skglm(Solver):
    name = "skglm"
    module = "skglm"
    search = "tol"
    nominal = 1e-6

    def warm_compile(self):
        rng = np.random.default_rng(0)
        for X in (np.asfortranarray(rng.standard_normal((20, 30))),
                  _csc32(sp.random(20, 30, density=0.3, random_state=0))):
            y = rng.standard_normal(20)
            for fi in (False, True):
                self.fit(X, y, 0.01, fi, 1e-4)
                self.path(X, y, np.array([0.1, 0.01]), fi, 1e-4)

    @staticmethod
    def _model(alpha, fit_intercept, setting):
        import skglm
        model = skglm.Lasso if is_lasso() else partial(skglm.ElasticNet, l1_ratio=L1_RATIO)
        return model(alpha=alpha, tol=setting, fit_intercept=fit_intercept, max_iter=1000,
                     max_epochs=500_000)

    def fit(self, X, y, alpha, fit_intercept, setting=TOL):
        with _quiet():
            m = self._model(alpha, fit_intercept, setting).fit(X, y)
        return m.coef_, float(m.intercept_)

    def path(self, X, y, alphas, fit_intercept, setting=TOL, extra=None):
        with _quiet():
            res = self._model(1.0, fit_intercept, setting).path(X, y, alphas)
        coefs = res[1]
        if fit_intercept:
            return coefs[:-1], coefs[-1]
        return coefs, np.zeros(len(alphas))


def glmnet_penalty(alphas, y):
    """glmnet's (lambdas, alpha) for scikit-learn's elastic net at `alphas` and L1_RATIO.

    glmnet solves the gaussian problem on y / s, s = y's standard deviation (centred,
    1 / n; with or without an intercept, `standardize=False` included), and rescales
    back: in y's units its l2 term is divided by s. So scikit-learn's (a, r) is
    glmnet's lambda = a (r + (1 - r) s) and alpha = r / (r + (1 - r) s) (checked: the
    same coefficients to 2e-8); for the Lasso (r = 1), lambda = a. (With sample weights,
    which the bench passes none of, s would be their weighted standard deviation.)"""
    lambdas = np.asarray(alphas, np.float64)
    if L1_RATIO == 1.0:
        return lambdas, 1.0
    spread = float(np.std(np.asarray(y, np.float64)))
    mix = L1_RATIO + (1.0 - L1_RATIO) * spread
    return lambdas * mix, L1_RATIO / mix


class Glmnet(Solver):
    """The glmnet package (python-glmnet 2.2.1, Fortran), standardize off, at the
    lambdas and alpha of scikit-learn's problem (`glmnet_penalty`).

    Its `tol` is glmnet's thresh (on the weighted squared coefficient change; default
    1e-7). 'glmnet' searches thresh for our target; 'glmnet default' keeps 1e-7.
    """
    name = "glmnet"
    module = "glmnet"
    search = "tol"
    nominal = 1e-7

    def _model(self, alphas, y, fit_intercept, setting):
        from glmnet import ElasticNet
        lambdas, mix = glmnet_penalty(alphas, y)
        # max_iter counts passes over the whole path in glmnet: leave it room
        return ElasticNet(alpha=mix, lambda_path=lambdas, standardize=False,
                          fit_intercept=fit_intercept, n_splits=0, tol=setting,
                          max_iter=100 * MAX_ITER)

    def fit(self, X, y, alpha, fit_intercept, setting=TOL):
        with _quiet():
            m = self._model([alpha], y, fit_intercept, setting).fit(X, y)
        return m.coef_path_[:, 0], float(m.intercept_path_[0])

    def path(self, X, y, alphas, fit_intercept, setting=TOL, extra=None):
        with _quiet():
            m = self._model(alphas, y, fit_intercept, setting).fit(X, y)
        coefs = np.zeros((X.shape[1], len(alphas)))
        k = m.coef_path_.shape[1]  # glmnet may stop the path early
        coefs[:, :k] = m.coef_path_
        intercepts = np.full(len(alphas), np.nan)
        intercepts[:k] = m.intercept_path_
        if k < len(alphas):
            intercepts[k:] = y.mean() if fit_intercept else 0.0
        return coefs, intercepts


class GlmnetDefault(Glmnet):
    name = "glmnet default"
    search = "fixed"


SOLVER_CLASSES = {c.name: c for c in (FastpenCD, FastpenFista, Sklearn, Celer, Skglm,
                                      Glmnet, GlmnetDefault)}
PEER_KEYS = {"fastpen": "fastpen cd", "cd": "fastpen cd", "fista": "fastpen fista",
             "sklearn": "scikit-learn", "scikit-learn": "scikit-learn", "celer": "celer",
             "skglm": "skglm", "glmnet": "glmnet", "glmnet-default": "glmnet default"}


def make_solvers(keys):
    """Solver objects for the given names, plus {name: reason} for absent peers."""
    solvers, absent = [], {}
    for key in keys:
        cls = SOLVER_CLASSES[PEER_KEYS.get(key, key)]
        s = cls()
        ok, why = s.available()
        if ok:
            try:
                s.warm_compile()
            except Exception as exc:  # noqa: BLE001
                ok, why = False, f"warm-up failed: {type(exc).__name__}: {exc}"
        if ok:
            solvers.append(s)
        else:
            absent[s.name] = why
    return solvers, absent


# --------------------------------------------------------------------------- search
class Abort(Exception):
    """A probe timed out or failed: stop searching in that direction."""


SLOW_MISSES = 3  # tries over the cap that miss the target before a search gives up


def loosest_setting(run, ok, nominal, tighter, looser, between, steps=2, cap=None,
                    floor=1e-20, ceiling=1.0):
    """Loosest setting whose result reaches the target (untimed search).

    run(setting) -> (seconds, result) or raises Abort; ok(result) -> bool. Starts at
    `nominal`, moves by factors of 10 until the answer changes, then bisects `steps`
    times (geometric midpoints). An evaluation slower than `cap` seconds, or an Abort,
    stops the refinement early (coarse=True); SLOW_MISSES such evaluations in a row
    that miss the target end the search without a setting.
    Returns (setting, (seconds, result), n_evaluations, coarse, note).
    """
    state = {"evals": 0, "slow": False}

    def evaluate(s):
        state["evals"] += 1
        out = run(s)
        if cap is not None and out[0] > cap:
            state["slow"] = True
        return out, ok(out[1])

    best_s = best = bad_s = None
    note = ""
    try:
        s = nominal
        out, good = evaluate(s)
        if good:
            best_s, best = s, out
            while not state["slow"] and looser(best_s) <= ceiling:
                s = looser(best_s)
                out, good = evaluate(s)
                if not good:
                    bad_s = s
                    break
                best_s, best = s, out
        else:
            bad_s = s
            slow_misses = 0
            while True:
                # tries over `cap` seconds that still miss: given up after SLOW_MISSES
                # (a peer at 90 s a try would otherwise tighten to `floor`, 14 tries)
                slow_misses = slow_misses + 1 if cap is not None and out[0] > cap else 0
                if slow_misses >= SLOW_MISSES:
                    return None, None, state["evals"], True, (
                        f"> {cap:g} s a try, {slow_misses} tries down to {bad_s:.3g}")
                s = tighter(bad_s)
                if s < floor:
                    return None, None, state["evals"], True, f"not reached at {floor:g}"
                out, good = evaluate(s)
                if good:
                    best_s, best = s, out
                    break
                bad_s = s
        for _ in range(steps if bad_s is not None else 0):
            if state["slow"]:
                break
            mid = between(best_s, bad_s)
            out, good = evaluate(mid)
            if good:
                best_s, best = mid, out
            else:
                bad_s = mid
    except Abort as exc:
        note = str(exc)
        if best_s is None:
            return None, None, state["evals"], True, note
        return best_s, best, state["evals"], True, note
    return best_s, best, state["evals"], state["slow"], note


def probe(fn, timeout):
    """Run fn() in a forked child (sees X without copying it); (seconds, result).

    Raises Abort on timeout (the child is killed) or on an error in fn.
    """
    import pickle
    import select
    import signal
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(r)
            t0 = time.perf_counter()
            res = fn()
            data = pickle.dumps((time.perf_counter() - t0, res), protocol=5)
        except BaseException as exc:  # noqa: BLE001
            data = pickle.dumps((None, f"{type(exc).__name__}: {exc}"))
        try:
            with os.fdopen(w, "wb") as fh:
                fh.write(data)
        finally:
            os._exit(0)
    os.close(w)
    deadline = time.monotonic() + timeout
    chunks = []
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise Abort(f"> {timeout:.0f} s")
            ready, _, _ = select.select([r], [], [], remaining)
            if ready:
                chunk = os.read(r, 1 << 22)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(r)
    os.waitpid(pid, 0)
    dt, res = pickle.loads(b"".join(chunks))
    if dt is None:
        raise Abort(f"error: {res}")
    return dt, res


def settle(solver, make_run, ratio_of, soft_cap, hard_cap, steps):
    """Find the solver's setting (untimed, in forked children).

    Gap-rule solvers run at TOL; 'fixed' ones at their nominal setting; 'tol' ones get
    the loosest setting whose result has ratio_of(result) <= 1.
    Returns a dict: setting, seconds (of that setting's probe), result, evals, coarse,
    status ('ok', or why there is no timing), note.
    """
    def logged(setting):
        t0 = time.perf_counter()
        try:
            dt, res = probe(make_run(setting), hard_cap)
        except Abort as exc:
            print(f"      {solver.name} setting={setting:.3g}: {exc}", file=sys.stderr,
                  flush=True)
            raise
        print(f"      {solver.name} setting={setting:.3g}: {dt:.3f} s, "
              f"ratio {ratio_of(res):.3g} ({time.perf_counter() - t0:.1f} s)",
              file=sys.stderr, flush=True)
        return dt, res

    if solver.search in (None, "fixed"):
        setting = TOL if solver.search is None else solver.nominal
        try:
            dt, res = logged(setting)
        except Abort as exc:
            return {"setting": setting, "status": str(exc), "evals": 1}
        return {"setting": setting, "seconds": dt, "result": res, "evals": 1,
                "coarse": False, "status": "ok", "note": ""}
    s, best, evals, coarse, note = loosest_setting(
        logged, lambda res: ratio_of(res) <= 1.0,
        solver.nominal, solver.tighter, solver.looser, solver.between, steps=steps,
        cap=soft_cap)
    if s is None:
        return {"setting": None, "status": "target not reached" + (
            f" ({note})" if note else ""), "evals": evals}
    return {"setting": s, "seconds": best[0], "result": best[1], "evals": evals,
            "coarse": coarse, "status": "ok", "note": note}


def compare(solvers, make_run_for, ratio_of, repeats, soft_cap, hard_cap, steps):
    """Settle every solver, then time them interleaved in this process.

    A solver whose settled run took more than soft_cap seconds is not re-run: its
    probe time is its one run. Returns {name: info dict} with 'time', 'runs', 'result'.
    """
    infos = {}
    for s in solvers:
        infos[s.name] = settle(s, make_run_for(s), ratio_of, soft_cap, hard_cap, steps)
    tasks = {}
    for s in solvers:
        info = infos[s.name]
        if info["status"] != "ok":
            continue
        if info["seconds"] > soft_cap:
            info.update(time=info["seconds"], runs=1, capped=True)
        else:
            tasks[s.name] = make_run_for(s)(info["setting"])
    timed_ = run_interleaved(tasks, repeats, soft_cap)
    for name, (t, runs, res, capped) in timed_.items():
        infos[name].update(time=t, runs=runs, result=res, capped=capped)
    return infos


# --------------------------------------------------------------------------- timing
def timed(fn):
    gc.collect()
    t0 = time.perf_counter()
    res = fn()
    return time.perf_counter() - t0, res


def fmt_ms(seconds):
    if seconds is None:
        return "-"
    ms = seconds * 1e3
    if ms >= 10_000:
        return f"{ms / 1e3:.1f} s"
    if ms >= 100:
        return f"{ms:.0f} ms"
    return f"{ms:.1f} ms"


def fmt_ratio(r):
    if r is None or not np.isfinite(r):
        return "-"
    return f"{r:.2f}x" if r < 100 else f"{r:.0f}x"


def run_interleaved(tasks, repeats, cap):
    """tasks: {key: fn}. Warm-up each once; then `repeats` rounds, interleaved.

    A task whose warm-up took longer than `cap` seconds keeps that one run (marked).
    Returns {key: (median seconds, n runs, last result, whether capped)}.
    """
    times, results, single = {}, {}, set()
    for key, fn in tasks.items():
        dt, res = timed(fn)
        results[key] = res
        times[key] = [dt]
        if cap is not None and dt > cap:
            single.add(key)
    for key in tasks:
        if key not in single:
            times[key] = []
    for _ in range(repeats):
        for key, fn in tasks.items():
            if key in single:
                continue
            dt, res = timed(fn)
            times[key].append(dt)
            results[key] = res
    return {k: (statistics.median(times[k]), len(times[k]), results[k], k in single)
            for k in tasks}


# --------------------------------------------------------------------------- memory
def _status_kb(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _release_free_memory():
    """Give the heap's free pages back to the system (glibc's malloc_trim), so that a
    fit that reuses memory freed before it (loading X leaves some) counts in the RSS
    like one that asks for new memory."""
    import ctypes
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _measure(fn):
    """Peak RSS above the baseline (bytes) of fn(), then tracemalloc's peak of a second
    call: tracing in the first would add its own tables (one entry per live block) to
    the RSS (0.8 MB of fastpen's 5.3 MB on P3 at alpha_max/10)."""
    import tracemalloc
    gc.collect()
    _release_free_memory()
    reset = _reset_peak()
    base_kb = _status_kb("VmRSS")
    fn()
    peak_kb = _status_kb("VmHWM")
    gc.collect()
    tracemalloc.start()
    fn()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"rss_extra": (peak_kb - base_kb) * 1024 if reset else None,
            "traced_peak": traced_peak}


def _disable_huge_pages():
    """Turn transparent huge pages off for this process (prctl PR_SET_THP_DISABLE).

    numpy asks for huge pages on arrays of 4 MB and more; once such arrays are freed
    (making a problem frees several), the allocator reuses their heap range for small
    ones, where the first touch of a page brings in 2 MB: the RSS of the same fit then
    moved by up to 2 MB between runs (4.1 to 5.5 MB for fastpen on P3 at
    alpha_max/10). With 4 kB pages the RSS counts what a fit touches."""
    import ctypes
    try:
        ctypes.CDLL("libc.so.6").prctl(41, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _child_memory(args):
    from threadpoolctl import threadpool_limits
    _disable_huge_pages()
    X, y, _ = load_problem(args.problem)
    if args.dtype != "float64":
        # converted before the baseline, as a user's own float32 data would be
        X = X.astype(args.dtype) if sp.issparse(X) else np.asfortranarray(X, args.dtype)
        y = y.astype(args.dtype)
    fi = bool(args.intercept)
    with threadpool_limits(limits=1):
        if args.command == "memory":
            solver = SOLVER_CLASSES[PEER_KEYS.get(args.solver, args.solver)]()
            solver.warm_compile()
            alpha = alpha_max(X, y, fi) / args.divisor
            # warm-up on a small slice of the same kind, so one-off allocations
            # (imports, compilation) are not counted
            solver.fit(X[:50], y[:50], alpha_max(X[:50], y[:50], fi) / 2, fi, 1e-3)
            out = _measure(lambda: solver.fit(X, y, alpha, fi, args.setting))
        else:
            import fastpen
            Xs, ys = X[:200], y[:200]
            fastpen.LassoCV(cv=3, n_jobs=args.n_jobs, tol=1e-3, alphas=5).fit(Xs, ys)
            out = _measure(lambda: fastpen.LassoCV(
                cv=5, n_jobs=args.n_jobs, tol=args.setting, max_iter=MAX_ITER,
                fit_intercept=fi).fit(X, y))
    out["x_bytes"] = x_nbytes(X)
    print(json.dumps(out))


def memory_probe(command, problem, solver="fastpen", divisor=10, intercept=True,
                 n_jobs=1, setting=TOL, timeout=1800):
    """Run a memory probe in a fresh interpreter (with this run's l1_ratio); returns its
    dict, or {'error': ...}."""
    import subprocess
    cmd = [sys.executable, str(HERE / "peers.py"), command, "--problem", problem,
           "--solver", solver, "--divisor", str(divisor), "--intercept",
           str(int(intercept)), "--n-jobs", str(n_jobs), "--setting", repr(setting),
           "--l1-ratio", repr(L1_RATIO)]
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout} s"}
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else
                f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description="memory probes (run in a subprocess)")
    parser.add_argument("command", choices=["memory", "memory-cv"])
    parser.add_argument("--problem", default="P3")
    parser.add_argument("--solver", default="fastpen")
    parser.add_argument("--divisor", type=float, default=10)
    parser.add_argument("--intercept", type=int, default=1)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--setting", type=float, default=TOL)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64",
                        help="X and y converted to this dtype before the baseline")
    parser.add_argument("--l1-ratio", type=float, default=1.0,
                        help="memory: an elastic net of this mix (1: the Lasso)")
    args = parser.parse_args(argv)
    set_l1_ratio(args.l1_ratio)
    _child_memory(args)


if __name__ == "__main__":
    main()
