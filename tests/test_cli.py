"""The ``fastpen`` command, run as a user runs it: a subprocess on files the tests write."""
import csv
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file
from sklearn.model_selection import KFold

import fastpen
from fastpen._cli import CommandError, load_dataset

pd = pytest.importorskip("pandas")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run(*args, cwd):
    """``python -m fastpen ARGS`` outside the source tree, with pipes (not a terminal)."""
    return subprocess.run([sys.executable, "-m", "fastpen", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def assert_one_line_error(result, *fragments, status=1):
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("fastpen")
    assert "error:" in lines[0]
    for fragment in fragments:
        assert fragment in lines[0]


def table(n_samples=80, seed=0):
    """y = 3 a - 2 b + noise; c, d, e are noise; city is text."""
    rng = np.random.default_rng(seed)
    values = rng.standard_normal((n_samples, 5))
    frame = pd.DataFrame(values, columns=["a", "b", "c", "d", "e"])
    frame["city"] = rng.choice(["Lyon", "Oslo", "Lima"], n_samples)
    frame["y"] = 3 * frame.a - 2 * frame.b + 0.5 * rng.standard_normal(n_samples)
    return frame


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "data.csv"
    table().to_csv(path, index=False)
    return path


def test_select_csv_matches_lassocv_and_writes_json_and_plot(tmp_path, csv_file):
    result = run("select", csv_file, "--target", "y", "--drop-non-numeric",
                 "--out", "sel.json", "--plot", "sel.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "left out non-numeric column(s): city" in result.stderr
    assert "%|" not in result.stderr  # no progress bar when stderr is a pipe
    report = json.loads((tmp_path / "sel.json").read_text())
    # the same fit in this process: same folds (shuffled, seed 0), same grid
    frame = table()
    X, y = frame[["a", "b", "c", "d", "e"]].to_numpy(), frame.y.to_numpy()
    reference = fastpen.LassoCV(cv=KFold(5, shuffle=True, random_state=0)).fit(X, y)
    assert report["alpha"] == pytest.approx(reference.alpha_, rel=1e-12)
    listed = {row["feature"]: row for row in report["selected"]}
    expected = {name for name, coef in zip("abcde", reference.coef_) if coef != 0}
    assert set(listed) == expected and {"a", "b"} <= expected
    assert listed["a"]["coefficient"] == pytest.approx(reference.coef_[0], rel=1e-6)
    assert listed["b"]["coefficient"] < 0
    # entry alphas: where the full-data path on the CV grid first leaves zero
    _, coefs, _ = fastpen.lasso_path(X, y, alphas=reference.alphas_, fit_intercept=True)
    for j, name in enumerate("abcde"):
        if name in listed:
            first = reference.alphas_[np.flatnonzero(coefs[j])[0]]
            assert listed[name]["entry_alpha"] == pytest.approx(first, rel=1e-12)
    entries = [row["entry_alpha"] for row in report["selected"]]
    assert entries == sorted(entries, reverse=True)  # listed in the order they enter
    table_lines = result.stdout.splitlines()
    assert table_lines[1].split() == ["feature", "coefficient", "entered", "at", "alpha"]
    assert table_lines[2].split()[0] == report["selected"][0]["feature"]
    assert (tmp_path / "sel.png").read_bytes()[:8] == PNG_MAGIC


def test_select_elastic_net_with_the_one_standard_error_rule(tmp_path, csv_file):
    result = run("select", csv_file, "-t", "y", "--drop-non-numeric", "--l1-ratio", "0.5",
                 "--rule", "1se", "--cv", "4", "--standardize", "--out", "sel.csv",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    frame = table()
    X = frame[["a", "b", "c", "d", "e"]].to_numpy()
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    reference = fastpen.ElasticNetCV(l1_ratio=0.5, alpha_rule="1se",
                                     cv=KFold(4, shuffle=True, random_state=0)).fit(X, frame.y)
    assert f"alpha = {reference.alpha_:.6g}" in result.stdout
    with open(tmp_path / "sel.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["feature"] for row in rows} == {
        name for name, coef in zip("abcde", reference.coef_) if coef != 0}
    by_name = {row["feature"]: float(row["coefficient"]) for row in rows}
    assert by_name["a"] == pytest.approx(reference.coef_[0], rel=1e-6)


def test_select_libsvm_names_columns_by_their_index_in_the_file(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 6))
    y = 2 * X[:, 1] - 3 * X[:, 4] + 0.3 * rng.standard_normal(60)
    dump_svmlight_file(X, y, str(tmp_path / "data.svm"), zero_based=False)  # indices 1..6
    result = run("select", "data.svm", "--rule", "1se", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    selected = [line.split()[0] for line in result.stdout.splitlines()[2:]]
    assert selected[:2] == ["x5", "x2"]  # the file's indices of columns 4 and 1


def test_select_stability_on_sparse_npz_matches_the_estimator(tmp_path):
    rng = np.random.default_rng(2)
    X = sp.random(90, 120, density=0.4, format="csc", random_state=3,
                  data_rvs=rng.standard_normal)
    y = np.asarray(X[:, [3, 40]] @ np.array([3.0, -3.0])).ravel() + 0.3 * rng.standard_normal(90)
    sp.save_npz(tmp_path / "sparse.npz", X)
    arrays = dict(np.load(tmp_path / "sparse.npz"))
    np.savez(tmp_path / "sparse.npz", y=y, **arrays)
    result = run("select", "sparse.npz", "--stability", "--n-resamples", "20",
                 "--out", "stable.csv", "--plot", "stable.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    reference = fastpen.StabilitySelection(n_resamples=20, random_state=0).fit(X, y)
    with open(tmp_path / "stable.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(row["feature"] for row in rows) == sorted(
        f"x{j}" for j in reference.get_support(indices=True))
    assert {"x3", "x40"} <= {row["feature"] for row in rows}
    for row in rows:
        j = int(row["feature"][1:])
        assert float(row["probability"]) == reference.selection_probabilities_[j]
    assert f"expected false selections <= {reference.error_bound_:.3g}" in result.stdout
    assert (tmp_path / "stable.png").read_bytes()[:8] == PNG_MAGIC


def test_path_writes_the_lasso_path(tmp_path):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((50, 7))
    y = X[:, 0] - 2 * X[:, 3] + 0.2 * rng.standard_normal(50)
    names = np.array([f"g{j}" for j in range(7)])
    np.savez(tmp_path / "dense.npz", X=X, y=y, feature_names=names)
    result = run("path", "dense.npz", "--n-alphas", "25", "--out", "path.csv",
                 "--plot", "path.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = pd.read_csv(tmp_path / "path.csv")
    alphas, coefs, _ = fastpen.lasso_path(X, y, alphas=25, fit_intercept=True, tol=1e-10)
    np.testing.assert_allclose(written["alpha"], alphas, rtol=1e-12)
    entered = names[np.any(coefs != 0, axis=1)]
    assert list(written.columns[1:]) == [name for name in names if name in set(entered)]
    for name in written.columns[1:]:
        j = int(name[1:])
        np.testing.assert_allclose(written[name], coefs[j], atol=1e-3)
    assert (tmp_path / "path.png").read_bytes()[:8] == PNG_MAGIC


def test_fit_save_and_predict(tmp_path, csv_file):
    fitted = run("fit", csv_file, "-t", "y", "--drop-non-numeric", "--model", "enet",
                 "--alpha", "0.05", "--standardize", "--save", "model.joblib", cwd=tmp_path)
    assert fitted.returncode == 0, fitted.stderr
    new = table(n_samples=12, seed=5).drop(columns=["y"])[["e", "city", "a", "d", "c", "b"]]
    new.to_csv(tmp_path / "new.csv", index=False)  # other order, no target, a text column
    predicted = run("predict", "model.joblib", "new.csv", "--out", "pred.csv", cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr
    written = pd.read_csv(tmp_path / "pred.csv")["prediction"].to_numpy()
    # the same model fitted here
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = table()
    features = ["a", "b", "c", "d", "e"]
    model = make_pipeline(StandardScaler(), fastpen.ElasticNet(alpha=0.05, l1_ratio=0.5))
    model.fit(frame[features], frame.y)
    np.testing.assert_allclose(written, model.predict(new[features]), rtol=1e-10)
    # a file without one of the model's columns
    new.drop(columns=["d"]).to_csv(tmp_path / "short.csv", index=False)
    assert_one_line_error(run("predict", "model.joblib", "short.csv", cwd=tmp_path),
                          "lacks column(s) the model was fitted on: d")


def _with_missing_values(frame):
    frame.loc[[3, 7], "c"] = np.nan
    frame.loc[7, "y"] = np.nan
    return frame


BAD_INPUTS = {
    # case: (the data file's table, the target, what the one line must say)
    "missing file": (None, "y", ["no such file: data.csv"]),
    "unknown target": (lambda frame: frame, "price",
                       ["no column 'price'", "a, b, c, d, e, city, y"]),
    "non-numeric": (lambda frame: frame, "y",
                    ["non-numeric column(s) in data.csv: city", "--drop-non-numeric"]),
    "missing values": (lambda frame: _with_missing_values(frame.drop(columns=["city"])), "y",
                       ["3 missing or infinite value(s)", "data rows 4, 8", "column(s) c, y", "--dropna"]),
    "constant target": (lambda frame: frame.drop(columns=["city"]).assign(y=2.5), "y",
                        ["target 'y' is constant"]),
    "too few per fold": (lambda frame: frame.drop(columns=["city"]).head(7), "y",
                         ["7 samples are too few for 5-fold", "--cv 3"]),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_and_a_nonzero_exit(tmp_path, case):
    make_frame, target, expected = BAD_INPUTS[case]
    if make_frame is not None:
        make_frame(table(n_samples=20)).to_csv(tmp_path / "data.csv", index=False)
    args = ["select", "data.csv", "--target", target]
    assert_one_line_error(run(*args, cwd=tmp_path), *expected)
    if case == "missing values":  # --dropna drops the two rows instead
        result = run(*args, "--dropna", "--cv", "3", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "dropped 2 row(s) with missing or infinite values (data rows 4, 8)" in result.stderr
        assert "18 samples" in result.stdout


def test_usage_errors_are_one_line_from_the_console_script(tmp_path):
    script = shutil.which("fastpen")
    if script is None:
        pytest.skip("the fastpen console script is not installed")
    result = subprocess.run([script, "select", "data.csv", "--cv", "one"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert_one_line_error(result, "--cv", status=2)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_progress_bar_on_a_terminal_and_quiet_with_quiet(tmp_path, csv_file):
    import fcntl
    import struct
    import termios

    def on_terminal(*args):
        leader, follower = os.openpty()
        # a terminal 100 columns wide: tqdm draws nothing on a zero-width one
        fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        process = subprocess.Popen([sys.executable, "-m", "fastpen", *map(str, args)],
                                   cwd=tmp_path, stdin=follower, stdout=subprocess.DEVNULL,
                                   stderr=follower)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        assert process.wait(timeout=300) == 0
        return b"".join(chunks).decode(errors="replace")

    shown = on_terminal("select", csv_file, "-t", "y", "--drop-non-numeric")
    assert "CV folds" in shown and "path" in shown
    quiet = on_terminal("select", csv_file, "-t", "y", "--drop-non-numeric", "--quiet")
    assert "CV folds" not in quiet and quiet.strip() == ""


# the readers, in process: each bad file is one CommandError line

def test_reader_errors(tmp_path):
    np.savez(tmp_path / "no_target.npz", X=np.ones((4, 2)))
    with pytest.raises(CommandError, match=r"no array 'y' .*\(it has: X\)"):
        load_dataset(tmp_path / "no_target.npz")
    (tmp_path / "broken.svm").write_text("1 1:2 2:3\n2 1:oops\n")
    with pytest.raises(CommandError, match="cannot read .* as libsvm"):
        load_dataset(tmp_path / "broken.svm")
    (tmp_path / "semicolons.csv").write_text("a;b;y\n1;2;3\n4;5;6\n")
    with pytest.raises(CommandError, match="one column only"):
        load_dataset(tmp_path / "semicolons.csv", target="y")
    (tmp_path / "text_target.csv").write_text("a,y\n1,2\n2,n/a?\n3,4\n")
    with pytest.raises(CommandError, match=r"target column 'y' is not numeric .*'n/a\?'"):
        load_dataset(tmp_path / "text_target.csv", target="y")


def test_format_is_sniffed_without_a_suffix(tmp_path):
    rng = np.random.default_rng(6)
    X, y = rng.standard_normal((10, 3)), rng.standard_normal(10)
    dump_svmlight_file(X, y, str(tmp_path / "svm_data"), zero_based=True)
    np.savez(tmp_path / "arrays.npz", X=X, y=y)
    (tmp_path / "arrays.npz").rename(tmp_path / "arrays")
    pd.DataFrame(np.column_stack([X, y]), columns=["p", "q", "r", "t"]).to_csv(
        tmp_path / "tabbed", sep="\t", index=False)
    for name, target in [("svm_data", None), ("arrays", None), ("tabbed", "t")]:
        data = load_dataset(tmp_path / name, target=target)
        np.testing.assert_allclose(data.X.toarray() if sp.issparse(data.X) else data.X, X,
                                   rtol=1e-9)
        np.testing.assert_allclose(data.y, y, rtol=1e-9)


# found by a review of the command line (2026-12-07): each case was misread or refused

def test_tables_that_were_misread(tmp_path):
    # a repeated name: pandas had renamed the copy 'y.1', which could be selected as a
    # feature equal to the target
    (tmp_path / "repeated.csv").write_text("a,y,y\n1,3,3\n4,7,7\n7,8,8\n2,2,2\n")
    with pytest.raises(CommandError, match="repeats the column name.* y"):
        load_dataset(tmp_path / "repeated.csv", target="y")
    # one field more than the header on every row: pandas had made the first field an
    # index and shifted every column by one
    (tmp_path / "extra.csv").write_text("a,b,y\n1,2,3,4\n4,5,6,1\n7,8,9,2\n1,1,2,2\n")
    with pytest.raises(CommandError, match="more fields than the header"):
        load_dataset(tmp_path / "extra.csv", target="y")
    # a separator closing every row is still read
    (tmp_path / "trailing.csv").write_text("a,b,y\n1,2,3,\n4,5,6,\n7,8,10,\n")
    data = load_dataset(tmp_path / "trailing.csv", target="y")
    np.testing.assert_array_equal(data.y, [3, 6, 10])
    # spaces after the separators, and pandas' row index (a column without a name)
    pd.DataFrame({"a": [1.0, 4, 7, 2], "b": [2.0, 5, 8, 0], "y": [3.0, 6, 10, 1]}).to_csv(
        tmp_path / "indexed.csv")
    (tmp_path / "spaced.csv").write_text("a, b, y\n1, 2, 3\n4, 5, 6\n7, 8, 10\n")
    for name in ("indexed.csv", "spaced.csv"):
        data = load_dataset(tmp_path / name, target="y")
        assert data.feature_names == ["a", "b"]
        np.testing.assert_array_equal(data.X[:3], [[1, 2], [4, 5], [7, 8]])


def test_files_without_a_header(tmp_path):
    (tmp_path / "plain.csv").write_text("1,2,3\n4,5,6\n7,8,10\n1,1,1\n2,0,3\n")
    for target in ("2", "-1"):
        data = load_dataset(tmp_path / "plain.csv", target=target, header=False)
        assert data.X.shape == (5, 2) and data.feature_names == ["x0", "x1"]
        np.testing.assert_array_equal(data.y, [3, 6, 10, 1, 3])
    # read with a header, the first row is lost: the name it would take is refused with
    # a hint, and a name that exists is used with a warning
    with pytest.raises(CommandError, match="--no-header"):
        load_dataset(tmp_path / "plain.csv", target="7")
    with pytest.warns(UserWarning, match="all numbers"):
        load_dataset(tmp_path / "plain.csv", target="3")
    fitted = run("fit", "plain.csv", "--no-header", "-t", "-1", "--alpha", "0.01",
                 cwd=tmp_path)
    assert fitted.returncode == 0, fitted.stderr
    assert "5 samples, 2 features" in fitted.stdout


def test_predict_one_row_and_rows_left_out(tmp_path, csv_file):
    fitted = run("fit", csv_file, "-t", "y", "--drop-non-numeric", "--alpha", "0.05",
                 "--save", "model.joblib", cwd=tmp_path)
    assert fitted.returncode == 0, fitted.stderr
    new = table(n_samples=3, seed=8).drop(columns=["y", "city"])
    new.head(1).to_csv(tmp_path / "one.csv", index=False)
    new.loc[1, "c"] = np.nan
    new.to_csv(tmp_path / "gap.csv", index=False)
    model = fastpen.Lasso(alpha=0.05).fit(table()[list("abcde")], table().y)
    one = run("predict", "model.joblib", "one.csv", cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    np.testing.assert_allclose(float(one.stdout.split()[1]), model.predict(new.head(1))[0],
                               rtol=1e-9)
    # the row with a missing value keeps its line, empty: the others stay aligned
    gap = run("predict", "model.joblib", "gap.csv", "--dropna", "--out", "pred.csv",
              cwd=tmp_path)
    assert gap.returncode == 0, gap.stderr
    written = pd.read_csv(tmp_path / "pred.csv")["prediction"].to_numpy()
    assert written.shape == (3,) and np.isnan(written[1])
    np.testing.assert_allclose(written[[0, 2]], model.predict(new.iloc[[0, 2]]), rtol=1e-9)


def test_outputs_and_edge_grids(tmp_path):
    rng = np.random.default_rng(9)
    frame = pd.DataFrame(rng.standard_normal((30, 3)), columns=["a", "b", "c"])
    frame["y"] = frame.a + 0.1 * rng.standard_normal(30)
    frame.to_csv(tmp_path / "small.csv", index=False)
    # JSON has no Infinity: an unbounded error bound is written as null
    result = run("select", "small.csv", "-t", "y", "--stability", "--n-resamples", "10",
                 "--threshold", "0.5", "--max-selected", "none", "--out", "st.json",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "st.json").read_text()
    assert "Infinity" not in text and json.loads(text)["error_bound"] is None
    # a grid of one alpha: scikit-learn's squeezed mse_path_ is 1-D
    result = run("select", "small.csv", "-t", "y", "--n-alphas", "1", "--plot", "one.png",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "one.png").read_bytes().startswith(PNG_MAGIC)
    # refused before any fit: a folder that does not exist, and --out - for select
    assert_one_line_error(run("select", "small.csv", "-t", "y", "--out", "no/such.csv",
                              cwd=tmp_path), "no folder no")
    assert_one_line_error(run("select", "small.csv", "-t", "y", "--out", "-",
                              cwd=tmp_path), "prints its table")
    # features that are all constant, and too few rows for any cross-validation
    frame.assign(a=1.0, b=2.0, c=0.0).to_csv(tmp_path / "flat.csv", index=False)
    assert_one_line_error(run("select", "flat.csv", "-t", "y", cwd=tmp_path),
                          "no feature of flat.csv varies")
    frame.head(3).to_csv(tmp_path / "three.csv", index=False)
    assert_one_line_error(run("select", "three.csv", "-t", "y", "--cv", "2", cwd=tmp_path),
                          "too few for cross-validation")


def test_options_of_the_other_selection_are_refused_not_ignored(tmp_path, csv_file):
    # each was silently ignored: the cross-validation's options with --stability, the
    # stability selection's without it, and fit's --l1-ratio with a model that has none
    common = ["select", csv_file, "-t", "y", "--drop-non-numeric"]
    assert_one_line_error(run(*common, "--stability", "--rule", "1se", "--cv", "3",
                              cwd=tmp_path), "--rule and --cv are only for the cross-validated")
    assert_one_line_error(run(*common, "--threshold", "0.8", cwd=tmp_path),
                          "--threshold is only for stability selection")
    for model in ("lasso", "ridge"):
        assert_one_line_error(run("fit", csv_file, "-t", "y", "--drop-non-numeric", "-q",
                                  "--alpha", "0.1", "--model", model, "--l1-ratio", "0.3",
                                  cwd=tmp_path), f"--l1-ratio does not apply to --model {model}")
    # given where they apply, and 'none' (parsed as None) is not taken for 'not given'
    stable = run(*common, "--stability", "--l1-ratio", "0.5", "--max-selected", "none",
                 "--n-resamples", "10", "-q", "--out", "s.json", cwd=tmp_path)
    assert stable.returncode == 0, stable.stderr
    assert stable.stdout.startswith("stability selection (elastic net, l1_ratio 0.5), 10 ")
    about = json.loads((tmp_path / "s.json").read_text())
    assert about["l1_ratio"] == 0.5 and about["n_resamples"] == 10
    cv = run(*common, "--rule", "1se", "--cv", "3", "-q", cwd=tmp_path)
    assert cv.returncode == 0, cv.stderr
    assert "3-fold CV, rule 1se" in cv.stdout


def test_grid_edge_note(tmp_path, csv_file):
    """The note that the CV error is lowest at the grid's end: said for a coarse grid
    that stops early (whatever the rule), not for a grid of one alpha."""
    common = ["select", csv_file, "-t", "y", "--drop-non-numeric", "--cv", "3"]
    for rule in ("min", "1se"):
        coarse = run(*common, "--eps", "0.5", "--n-alphas", "4", "--rule", rule,
                     cwd=tmp_path)
        assert coarse.returncode == 0, coarse.stderr
        assert "lowest at the grid's smallest alpha" in coarse.stderr, rule
    single = run(*common, "--n-alphas", "1", cwd=tmp_path)
    assert single.returncode == 0, single.stderr
    assert "lowest at the grid's smallest alpha" not in single.stderr


def test_data_errors_point_at_the_right_mend(tmp_path):
    frame = table(n_samples=20).drop(columns=["city"])
    # a column without a single value: dropping rows (--dropna) cannot help
    frame.assign(empty=np.nan).to_csv(tmp_path / "empty.csv", index=False)
    assert_one_line_error(run("select", "empty.csv", "-t", "y", "--dropna", cwd=tmp_path),
                          "column(s) empty of empty.csv have no finite value at all")
    # --no-header on a file with a header: its names are the only non-numbers
    frame.to_csv(tmp_path / "named.csv", index=False)
    for target in ("-1", "0"):
        assert_one_line_error(run("select", "named.csv", "-t", target, "--no-header",
                                  cwd=tmp_path), "leave out --no-header")


def test_rounding_level_coefficients_are_not_selections(tmp_path):
    """Columns that duplicate others tie in coordinate descent, which can leave them
    coefficients of the size of rounding: fit's count leaves them out, and says so."""
    from fastpen._path import column_norms, material_coefficients

    rng = np.random.default_rng(2)
    X = rng.standard_normal((80, 12))
    X[:, 11], X[:, 10] = X[:, 0], X[:, 1]
    y = 2 * X[:, 0] + X[:, 1] - X[:, 2] + 0.3 * rng.standard_normal(80)
    coef = fastpen.Lasso(alpha=0.01).fit(X, y).coef_
    material = material_coefficients(coef, column_norms(X), y)
    left_out = np.count_nonzero(coef) - np.count_nonzero(material)
    if left_out == 0:
        pytest.skip("this fit leaves no coefficient at the rounding level")
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(12)]).assign(y=y)
    frame.to_csv(tmp_path / "dup.csv", index=False)
    fitted = run("fit", "dup.csv", "-t", "y", "--alpha", "0.01", cwd=tmp_path)
    assert fitted.returncode == 0, fitted.stderr
    assert f"{np.count_nonzero(material)} nonzero coefficients" in fitted.stdout
    assert f"{left_out} nonzero coefficient(s) at the rounding level" in fitted.stderr
    # --standardize: judged on the standardized columns (norms from the fitted scaler)
    from sklearn.preprocessing import StandardScaler

    scaled = StandardScaler().fit_transform(X)
    coef = fastpen.Lasso(alpha=0.01).fit(scaled, y).coef_
    count = np.count_nonzero(material_coefficients(coef, column_norms(scaled), y))
    fitted = run("fit", "dup.csv", "-t", "y", "--alpha", "0.01", "--standardize",
                 cwd=tmp_path)
    assert fitted.returncode == 0, fitted.stderr
    assert f"{count} nonzero coefficients" in fitted.stdout
