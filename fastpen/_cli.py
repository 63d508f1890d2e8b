"""The ``fastpen`` command: feature selection, paths, fit and predict on data files.

``fastpen select DATA --target COL`` (LassoCV, ElasticNetCV or stability selection),
``fastpen path``, ``fastpen fit``, ``fastpen predict`` and ``fastpen demo``. Tables go to
standard output; notes, warnings and progress bars to standard error. Bad input ends
with one line, ``fastpen: error: ...``, and exit status 1 (2 for a bad command line).
"""
import argparse
import contextlib
import csv
import json
import math
import os
import sys
import threading
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# path fits between two progress updates (each stretch warm-starts the next)
_PATH_STRETCH = 10
_LISTED_AT_MOST = 12


class CommandError(Exception):
    """A problem with the user's input, reported as one line."""


def _listing(items, at_most=_LISTED_AT_MOST):
    """'a, b, c' with the rest counted: error lines stay one line."""
    items = [str(item) for item in items]
    shown = ", ".join(items[:at_most])
    return shown + (f", ... ({len(items) - at_most} more)" if len(items) > at_most else "")


def _first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# --------------------------------------------------------------------------- messages

class _Console:
    """Notes and warnings on standard error, one line each; progress bars on terminals."""

    def __init__(self, quiet):
        self.quiet = quiet
        self.show_progress = not quiet and sys.stderr.isatty()
        self.warned = {}

    def note(self, message):
        if not self.quiet:
            print(f"fastpen: {message}", file=sys.stderr)

    def warning(self, message, category, *args, **kwargs):
        # one line per kind of warning: a path of non-converged fits would repeat itself
        name = category.__name__
        self.warned[name] = self.warned.get(name, 0) + 1
        if self.warned[name] == 1:
            print(f"fastpen: warning: {_first_line(message)}", file=sys.stderr)

    def close(self):
        for name, count in self.warned.items():
            if count > 1:
                print(f"fastpen: warning: ... and {count - 1} more {name}(s)", file=sys.stderr)

    def progress(self, total, description):
        if not self.show_progress:
            return _NoProgress()
        try:
            from tqdm.auto import tqdm
        except ImportError:  # the bar is optional
            return _NoProgress()
        return tqdm(total=total, desc=description, leave=False)


class _NoProgress:
    def update(self, n=1):
        pass

    def close(self):
        pass


@contextlib.contextmanager
def _counting_folds(progress, enabled):
    """Run joblib's thread pool so that every finished CV fold advances ``progress``.

    LassoCV hands its folds to joblib; a thread backend that counts finished tasks shows
    them without touching the estimator. Only used for a bar on a terminal; when joblib
    is older than this backend expects, the folds simply run without a bar.
    """
    try:
        from joblib import parallel_config
        from joblib.parallel import ThreadingBackend
    except ImportError:
        enabled = False
    if not enabled:
        yield
        return
    lock = threading.Lock()

    class CountingThreads(ThreadingBackend):
        def configure(self, n_jobs=1, parallel=None, **backend_kwargs):
            n_workers = self.effective_n_jobs(n_jobs)
            self.parallel = parallel
            self._n_jobs = n_workers
            # joblib runs one job inline, past the backend: claim two workers so that
            # every fold goes through submit(); the pool keeps n_workers threads
            return max(n_workers, 2)

        def submit(self, func, callback=None):
            def counted():
                result = func()
                with lock:  # folds finish in several threads
                    progress.update(len(func) if hasattr(func, "__len__") else 1)
                return result

            return super().submit(counted, callback)

    with parallel_config(backend=CountingThreads()):
        yield


# ------------------------------------------------------------------------ reading data

@dataclass
class Dataset:
    """A design matrix read from a file, with its feature names and target."""

    X: object
    y: object
    feature_names: list
    target_name: object
    source: str
    named: bool  # feature names came from the file (a header or a names array)
    kind: str  # 'csv', 'tsv', 'npz' or 'libsvm'
    rows: object = None  # the file's rows X holds (0-based), when some were dropped
    file_rows: int = 0  # and how many the file had

    @property
    def is_table(self):
        return self.kind in ("csv", "tsv")


_SUFFIX_FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".npz": "npz",
                   ".svm": "libsvm", ".libsvm": "libsvm", ".svmlight": "libsvm"}
_COMPRESSION_SUFFIXES = {".gz", ".bz2", ".xz", ".zip", ".zst"}
_SNIFF_BYTES = 65536


def _is_svmlight_line(line):
    """'label idx:value idx:value ...' (and qid:, and a # comment), as libsvm writes."""
    fields = line.split("#", 1)[0].split()
    if not fields:
        return False
    try:
        [float(label) for label in fields[0].split(",")]
        for field in fields[1:]:
            index, value = field.split(":")
            if index != "qid":
                int(index)
            float(value)
    except ValueError:
        return False
    return True


def _sniff_format(path):
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if head.startswith(b"PK\x03\x04"):  # a zip archive: numpy's .npz
        return "npz"
    lines = head.decode("utf-8", errors="replace").splitlines()
    if len(head) == _SNIFF_BYTES:
        lines = lines[:-1]  # the last line may be cut
    lines = [line for line in lines if line.strip() and not line.lstrip().startswith("#")][:5]
    looks_svmlight = lines and all(_is_svmlight_line(line) for line in lines)
    if looks_svmlight and any(":" in line for line in lines):
        return "libsvm"
    return "tsv" if lines and "\t" in lines[0] else "csv"


def detect_format(path, given=None):
    """The file format: as given, from the file name's suffix, or from its first lines."""
    if given:
        return given
    suffixes = [suffix.lower() for suffix in path.suffixes]
    while suffixes and suffixes[-1] in _COMPRESSION_SUFFIXES:
        suffixes.pop()
    if suffixes and suffixes[-1] in _SUFFIX_FORMATS:
        return _SUFFIX_FORMATS[suffixes[-1]]
    return _sniff_format(path)


def _pandas():
    try:
        import pandas
    except ImportError:
        raise CommandError(
            "reading CSV/TSV files needs pandas: pip install pandas") from None
    return pandas


def _read_table(path, kind, header=True):
    """The table of a CSV/TSV file. Without a header its columns are named by their
    position from 0 ('0', '1', ...). Spaces after a separator are dropped ('a, b')."""
    pd = _pandas()
    options = dict(sep="\t" if kind == "tsv" else ",", skipinitialspace=True)
    try:
        with warnings.catch_warnings():
            # index_col=False: a row with more fields than the header is an error, not
            # an index column that shifts every other column (trailing separators on
            # every row are still read); pandas only warns about it
            warnings.simplefilter("error", pd.errors.ParserWarning)
            frame = pd.read_csv(path, index_col=False, header=0 if header else None,
                                **options)
        names = (pd.read_csv(path, header=None, nrows=1, dtype=str, keep_default_na=False,
                             **options).iloc[0].tolist() if header else None)
    except pd.errors.ParserWarning:
        raise CommandError(f"cannot read {path} as {kind.upper()}: some rows have more "
                           "fields than the header") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise CommandError(f"cannot read {path} as {kind.upper()}: {_first_line(exc)}") from None
    if header:
        # pandas renames a repeated name ('y', 'y.1'): the copy could be the target itself
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise CommandError(f"{path} repeats the column name(s) {_listing(repeated)}: "
                               "every column needs its own name")
    else:
        frame.columns = [str(j) for j in range(frame.shape[1])]
    if frame.shape[0] == 0:
        raise CommandError(f"{path} has a header but no data rows")
    return frame


def _looks_like_data(names):
    """Whether every column name is a number: the header is then likely a data row."""
    try:
        [float(name) for name in names]
    except ValueError:
        return False
    return True


def _non_numeric_example(column):
    """The first value of a column that is not a number, and its 1-based row."""
    pd = _pandas()
    converted = pd.to_numeric(column, errors="coerce")
    bad = np.flatnonzero(converted.isna().to_numpy() & column.notna().to_numpy())
    if bad.size == 0:
        return ""
    return f" (e.g. {column.iloc[bad[0]]!r} in data row {bad[0] + 1})"


def _header_hint(column, header):
    """A hint when, read with --no-header, a column's only non-number is its first
    value: the file's first line is then a header."""
    if header or len(column) < 2:
        return ""
    pd = _pandas()
    numbers = pd.to_numeric(column, errors="coerce").notna().to_numpy()
    if not numbers[0] and numbers[1:].all():
        return "; the first line looks like a header: leave out --no-header"
    return ""


def _table_dataset(frame, path, kind, target, drop_non_numeric, console, need_target=True,
                   columns=None, header=True):
    pd = _pandas()
    wanted = None if columns is None else [str(name) for name in columns]
    columns = [str(name) for name in frame.columns]
    frame.columns = columns
    y = None
    if target is None and need_target:
        what = "its position from 0 (-1: the last)" if not header else "one of: " + _listing(
            columns)
        raise CommandError(f"--target is needed for {path}: name the column to predict, "
                           f"{what}")
    if not header and target is not None:
        try:
            position = int(target)
        except ValueError:
            raise CommandError(f"--target {target}: with --no-header, give the target "
                               "column's position from 0 (-1: the last)") from None
        if not -len(columns) <= position < len(columns):
            raise CommandError(f"--target {target}: {path} has {len(columns)} columns")
        target = columns[position]
    if target is not None and target not in columns:
        if need_target:
            hint = (" (one column only: fastpen reads comma-separated CSV and "
                    "tab-separated TSV)" if len(columns) == 1 else
                    " (the first line is all numbers: if the file has no header, use "
                    "--no-header)" if _looks_like_data(columns) else "")
            raise CommandError(f"no column {target!r} in {path}; its columns are: "
                               f"{_listing(columns)}{hint}")
        target = None  # predicting: a file without its target column is fine
    if header and wanted is None and _looks_like_data(columns):
        warnings.warn(f"the header of {path} is all numbers ({_listing(columns, 4)}): if "
                      "it is a data row, use --no-header", UserWarning)
    if need_target:
        column = frame[target]
        if not pd.api.types.is_numeric_dtype(column):
            raise CommandError(f"the target column {target!r} is not numeric"
                               f"{_non_numeric_example(column)}"
                               f"{_header_hint(column, header)}")
        y = column.to_numpy(dtype=np.float64)
    if wanted is not None:  # a fitted model's columns: the others do not matter
        missing = [name for name in wanted if name not in columns]
        if missing:
            raise CommandError(f"{path} lacks column(s) the model was fitted on: "
                               f"{_listing(missing)}")
        features = list(wanted)
    else:
        features = [name for name in columns if name != target]
        # a column without a name is a row index (pandas' to_csv writes one), not data
        unnamed = [name for name in features if header and name.startswith("Unnamed: ")]
        if unnamed:
            console.note(f"left out {len(unnamed)} column(s) without a name (a row index?): "
                         f"column(s) {_listing([columns.index(n) + 1 for n in unnamed])}")
            features = [name for name in features if name not in unnamed]
    non_numeric = [name for name in features if not pd.api.types.is_numeric_dtype(frame[name])]
    if non_numeric:
        if not drop_non_numeric:
            advice = (_header_hint(frame[non_numeric[0]], header)
                      or "; use --drop-non-numeric to leave them out")
            raise CommandError(
                f"non-numeric column(s) in {path}: {_listing(non_numeric)}"
                f"{_non_numeric_example(frame[non_numeric[0]])}{advice}")
        console.note(f"left out non-numeric column(s): {_listing(non_numeric)}")
        features = [name for name in features if name not in non_numeric]
    if not features:
        raise CommandError(f"{path} has no numeric feature columns besides the target")
    X = np.asfortranarray(frame[features].to_numpy(dtype=np.float64))
    if not header:
        return Dataset(X, y, [f"x{name}" for name in features],
                       None if target is None else f"x{target}", str(path), named=False,
                       kind=kind)
    return Dataset(X, y, features, target, str(path), named=True, kind=kind)


def _read_npz(path, target, need_target):
    if not zipfile.is_zipfile(path):
        raise CommandError(f"{path} is not a .npz archive (arrays saved by np.savez); "
                           "--format names another format")
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise CommandError(f"cannot read {path} as .npz: {_first_line(exc)}") from None
    if not hasattr(archive, "files"):
        raise CommandError(f"{path} holds one array, not X and y: save it with np.savez")
    try:
        with archive:
            return _npz_dataset(archive, path, target, need_target)
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        # a damaged member, or one numpy will not read without pickle
        raise CommandError(f"cannot read {path} as .npz: {_first_line(exc)}") from None


def _npz_dataset(archive, path, target, need_target):
    """X, y and the feature names from an open .npz archive (see `_read_npz`)."""
    keys = archive.files
    if {"format", "shape", "data", "indices", "indptr"} <= set(keys):
        X = sp.load_npz(path).tocsc()
    elif "X" in keys:
        X = archive["X"]
    else:
        raise CommandError(f"no array 'X' in {path} (it has: {_listing(keys)}); expected "
                           "arrays X and y, or a scipy sparse matrix with y")
    if X.ndim != 2:
        raise CommandError(f"X in {path} has shape {X.shape}: it must be 2-D")
    if X.dtype.kind not in "biuf":
        raise CommandError(f"X in {path} is not numeric (dtype {X.dtype})")
    target_key = target or "y"
    y = None
    if need_target:
        if target_key not in keys:
            raise CommandError(f"no array {target_key!r} in {path} (it has: "
                               f"{_listing(keys)}); name the target array with --target")
        y = np.asarray(archive[target_key])
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise CommandError(f"the target {target_key!r} in {path} has shape {y.shape}: "
                               "it must be 1-D")
        if y.dtype.kind not in "biuf":
            raise CommandError(f"the target {target_key!r} in {path} is not numeric")
        if y.shape[0] != X.shape[0]:
            raise CommandError(f"{path}: X has {X.shape[0]} rows but {target_key!r} has "
                               f"{y.shape[0]} values")
        y = y.astype(np.float64)
    names = None
    if "feature_names" in keys:
        try:
            names = archive["feature_names"]
        except ValueError:
            raise CommandError(
                f"feature_names in {path} is an array of Python objects: save the "
                "names as strings (np.asarray(names, dtype=str))") from None
    named = names is not None
    if named:
        names = [str(name) for name in np.ravel(names)]
        if len(names) != X.shape[1]:
            raise CommandError(f"feature_names in {path} has {len(names)} names for "
                               f"{X.shape[1]} columns of X")
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise CommandError(f"feature_names in {path} repeats {_listing(repeated)}: "
                               "every feature needs its own name")
    else:
        names = [f"x{j}" for j in range(X.shape[1])]
    if not sp.issparse(X):
        X = np.asfortranarray(X, dtype=np.float64 if X.dtype.kind != "f" else X.dtype)
    else:
        X = X.astype(np.float64) if X.dtype.kind != "f" else X
    return Dataset(X, y, names, target_key if need_target else None, str(path), named, "npz")


def _read_svmlight(path, n_features=None):
    from sklearn.datasets import load_svmlight_file

    try:
        # zero_based=True: column j is index j of the file, whichever base it uses
        X, y = load_svmlight_file(str(path), n_features=n_features, zero_based=True)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path} as libsvm/svmlight: {_first_line(exc)}") from None
    if X.shape[0] == 0:
        raise CommandError(f"{path} has no data rows")
    names = [f"x{j}" for j in range(X.shape[1])]
    return Dataset(X.tocsc(), np.asarray(y, dtype=np.float64), names, "label", str(path),
                   False, "libsvm")


def _rows_listing(rows, table):
    """'data row 3' / 'rows 2, 5' (1-based; a table's rows counted after its header)."""
    kind = "data row" if table else "row"
    plural = "s" if len(rows) > 1 else ""
    return f"{kind}{plural} " + _listing([row + 1 for row in rows], at_most=5)


def _drop_non_finite(data, dropna, console, min_rows=2):
    """Refuse (or with --dropna drop) the rows with missing or infinite values; the rows
    kept are then in `data.rows`."""
    X, y = data.X, data.y
    if sp.issparse(X):
        coo = X.tocoo()
        bad = ~np.isfinite(coo.data)
        bad_rows, bad_cols = coo.row[bad], coo.col[bad]
    else:
        bad_rows, bad_cols = np.nonzero(~np.isfinite(X))
    bad_target = np.flatnonzero(~np.isfinite(y)) if y is not None else np.empty(0, int)
    count = bad_rows.size + bad_target.size
    if count == 0:
        return data
    rows = np.union1d(bad_rows, bad_target)
    columns = [data.feature_names[j] for j in np.unique(bad_cols)]
    if bad_target.size:
        columns.append(data.target_name or "the target")
    # a column with no value at all cannot be mended by dropping rows
    empty = [data.feature_names[j] for j, c in zip(*np.unique(bad_cols, return_counts=True))
             if c == X.shape[0]]
    if empty:
        raise CommandError(
            f"column(s) {_listing(empty)} of {data.source} have no finite value at all: "
            "remove them from the file (--dropna drops rows, and would drop every one)")
    if not dropna:
        raise CommandError(
            f"{count} missing or infinite value(s) in {data.source}, in "
            f"{_rows_listing(rows, data.is_table)} and column(s) {_listing(columns)}; use "
            "--dropna to drop those rows")
    keep = np.setdiff1d(np.arange(X.shape[0]), rows)
    if keep.size < min_rows:
        raise CommandError(f"only {keep.size} row(s) of {data.source} have no missing or "
                           "infinite values")
    console.note(f"dropped {rows.size} row(s) with missing or infinite values "
                 f"({_rows_listing(rows, data.is_table)})")
    kept = X[keep]
    data.X = kept.tocsc() if sp.issparse(kept) else np.asfortranarray(kept)
    data.y = None if y is None else y[keep]
    data.rows, data.file_rows = keep, X.shape[0]
    return data


def load_dataset(path, *, target=None, data_format=None, drop_non_numeric=False,
                 dropna=False, console=None, need_target=True, columns=None, header=True):
    """Read a CSV/TSV, libsvm/svmlight or .npz file into a :class:`Dataset`.

    Parameters
    ----------
    path : str or Path
    target : str, default=None
        The target column (CSV/TSV) or array (.npz, default 'y').
    data_format : {'csv', 'tsv', 'libsvm', 'npz'}, default=None
        Detected from the name, else from the first lines, when None.
    drop_non_numeric, dropna : bool, default=False
        Leave out non-numeric feature columns / rows with missing values instead of
        stopping.
    console : _Console, default=None
        Where notes go (nowhere when None).
    need_target : bool, default=True
        False when predicting: the target may be absent.
    columns : list of str, default=None
        The feature columns of a table to keep (a fitted model's); all others when None.
    header : bool, default=True
        Whether a CSV/TSV file starts with a header. Without one, `target` is the
        target column's position from 0 (negative: from the end) and the features are
        named x0, x1, ... by their column.

    Returns
    -------
    Dataset

    Raises
    ------
    CommandError
        With a one-line message, for every problem with the file or its contents.
    """
    console = console or _Console(quiet=True)
    path = Path(path)
    if not path.exists():
        raise CommandError(f"no such file: {path}")
    if path.is_dir():
        raise CommandError(f"{path} is a directory, not a data file")
    kind = detect_format(path, data_format)
    if kind in ("csv", "tsv"):
        data = _table_dataset(_read_table(path, kind, header), path, kind, target,
                              drop_non_numeric, console, need_target, columns, header)
    elif kind == "npz":
        data = _read_npz(path, target, need_target)
    else:
        data = _read_svmlight(path)
        if not need_target:
            data.y = None
    # a fit needs two rows; a prediction one
    min_rows = 2 if need_target else 1
    if data.X.shape[0] < min_rows:
        raise CommandError(f"{path} has {data.X.shape[0]} row(s): at least {min_rows} are "
                           "needed")
    return _drop_non_finite(data, dropna, console, min_rows)


def _check_data_varies(data):
    """A constant target, or features that are all constant, leave nothing to fit."""
    if np.ptp(data.y) == 0:
        raise CommandError(f"the target {data.target_name or 'y'!r} is constant (every value "
                           f"is {data.y[0]:g}): there is nothing to explain")
    # (scipy's sparse max and min count the implicit zeros)
    highest, lowest = data.X.max(axis=0), data.X.min(axis=0)
    varies = np.ravel(highest.toarray() if sp.issparse(highest) else highest) != np.ravel(
        lowest.toarray() if sp.issparse(lowest) else lowest)
    if not np.any(varies):
        raise CommandError(f"no feature of {data.source} varies (every column is constant): "
                           "there is nothing to select from")


def _check_folds(n_samples, n_folds):
    if n_samples < 4:
        raise CommandError(f"{n_samples} samples are too few for cross-validation: each of "
                           "at least 2 folds needs at least 2 samples")
    if n_samples < 2 * n_folds:
        raise CommandError(
            f"{n_samples} samples are too few for {n_folds}-fold cross-validation: each fold "
            f"needs at least 2 samples (use --cv {n_samples // 2} or less)")


def _standardized(X, standardize):
    """Columns scaled to unit variance (and centred when dense) when asked."""
    if not standardize:
        return X
    from sklearn.preprocessing import StandardScaler

    # sparse data is only scaled: the intercept centres it implicitly all the same
    scaled = StandardScaler(with_mean=not sp.issparse(X)).fit_transform(X)
    return scaled.tocsc() if sp.issparse(scaled) else np.asfortranarray(scaled)


# ------------------------------------------------------------------------------ output

def _format_table(headers, rows):
    """Aligned text columns: the first left-aligned, the others right-aligned."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(headers[i])] + [len(row[i]) for row in cells]) for i in range(len(headers))]

    def line(values):
        first = values[0].ljust(widths[0])
        rest = [value.rjust(width) for value, width in zip(values[1:], widths[1:])]
        return "  ".join([first] + rest).rstrip()

    return "\n".join([line(headers)] + [line(row) for row in cells])


def _out_kind(path, allowed):
    suffix = Path(path).suffix.lower()
    if suffix not in allowed:
        raise CommandError(f"--out {path}: the file name must end in {' or '.join(allowed)}")
    return suffix


def _write_rows(path, headers, rows):
    try:
        handle = sys.stdout if path in (None, "-") else open(path, "w", newline="")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
    with contextlib.ExitStack() as stack:
        if handle is not sys.stdout:
            stack.enter_context(handle)
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(rows)


def _json_ready(value):
    """`value` with its non-finite floats as None: JSON has no Infinity or NaN."""
    if isinstance(value, dict):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _write_json(path, payload):
    try:
        with open(path, "w") as handle:
            json.dump(_json_ready(payload), handle, indent=2, allow_nan=False)
            handle.write("\n")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise CommandError("--plot needs matplotlib: pip install matplotlib") from None
    matplotlib.use("Agg")  # files only: no window, no display needed
    import matplotlib.pyplot as plt

    return plt


def _figure_path(path):
    """The file a plot goes to: matplotlib adds .png to a name without a suffix."""
    return path if Path(path).suffix else f"{path}.png"


def _save_figure(figure, path, console):
    path = _figure_path(path)
    try:
        figure.savefig(path, dpi=110)
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot write the plot {path}: {_first_line(exc)}") from None
    console.note(f"wrote {path}")


# --------------------------------------------------------------------------- modelling

def _l1_ratios(text):
    try:
        ratios = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number or a comma-separated list of numbers") from None
    if not all(0 < ratio <= 1 for ratio in ratios):
        raise argparse.ArgumentTypeError(f"l1 ratios must be in (0, 1], got {text}")
    return ratios


def _path_with_progress(X, y, alphas, l1_ratio, console):
    """enet_path on all the data, a stretch of alphas at a time for the progress bar."""
    from ._path import enet_path

    progress = console.progress(alphas.size, "path")
    coefs = np.zeros((X.shape[1], alphas.size))
    coef = None
    try:
        for start in range(0, alphas.size, _PATH_STRETCH):
            stretch = alphas[start:start + _PATH_STRETCH]
            _, part, _ = enet_path(X, y, l1_ratio=l1_ratio, alphas=stretch, coef_init=coef,
                                   fit_intercept=True)
            coefs[:, start:start + stretch.size] = part
            coef = part[:, -1]
            progress.update(stretch.size)
    finally:
        progress.close()
    return coefs


def _material(coefs, X, y, norms=None):
    """Which coefficients are selections, not rounding (see
    ``fastpen._path.material_coefficients``; X as the model saw it, or its column
    norms)."""
    from ._path import column_norms, material_coefficients

    return material_coefficients(coefs, column_norms(X) if norms is None else norms, y)


def _note_rounding(console, coef, material):
    """Say how many nonzero coefficients were left out as rounding."""
    from ._path import ROUNDING_FACTOR

    count = int(np.count_nonzero(coef)) - int(np.count_nonzero(material))
    if count:
        console.note(f"{count} nonzero coefficient(s) at the rounding level are not counted "
                     f"(|coef| ||x|| under {ROUNDING_FACTOR:g} float64 roundings of "
                     "||y - mean||: ties of coordinate descent, e.g. columns that duplicate "
                     "selected ones)")


def _entry_alphas(alphas, coefs):
    """For each feature, the largest alpha at which it is in the path (NaN: never);
    `coefs` may be a mask of the coefficients that count."""
    nonzero = coefs != 0
    first = np.argmax(nonzero, axis=1)
    return np.where(nonzero.any(axis=1), alphas[first], np.nan)


def _number(value):
    return "" if value is None or math.isnan(value) else f"{value:.6g}"


def _write_selection(args, console, headers, rows, about):
    """--out: the selected features as CSV rows, or as JSON with what produced them."""
    if not args.out:
        return
    if _out_kind(args.out, [".csv", ".json"]) == ".csv":
        _write_rows(args.out, headers, rows)
    else:
        _write_json(args.out, {**about, "selected": [dict(zip(headers, row)) for row in rows]})
    console.note(f"wrote {args.out}")


def _select_cv(args, data, X, console):
    from sklearn.model_selection import KFold

    from ._cv import ElasticNetCV, LassoCV

    _check_folds(X.shape[0], args.cv)
    folds = KFold(args.cv, shuffle=True, random_state=args.seed)
    common = dict(cv=folds, alphas=args.n_alphas, eps=args.eps, alpha_rule=args.rule,
                  n_jobs=args.n_jobs)
    if args.l1_ratio is None:
        model, ratios = LassoCV(**common), [1.0]
    else:
        ratios = args.l1_ratio
        model = ElasticNetCV(l1_ratio=ratios if len(ratios) > 1 else ratios[0], **common)
    progress = console.progress(args.cv * len(ratios), "CV folds")
    try:
        with _counting_folds(progress, console.show_progress):
            model.fit(X, data.y)
    finally:
        progress.close()
    l1_ratio = getattr(model, "l1_ratio_", 1.0)
    grids = np.atleast_2d(model.alphas_)
    alphas = grids[int(np.argmin(np.abs(np.asarray(ratios) - l1_ratio)))]
    coefs = _path_with_progress(X, data.y, alphas, l1_ratio, console)
    from ._path import column_norms

    norms = column_norms(X)
    entry = _entry_alphas(alphas, _material(coefs, X, data.y, norms))
    material = _material(model.coef_, X, data.y, norms)
    _note_rounding(console, model.coef_, material)
    errors = np.asarray(model.mse_path_, dtype=np.float64).mean(axis=-1)
    if errors.ndim == 2:  # (l1_ratios, alphas): the chosen ratio's
        errors = errors[int(np.argmin(np.abs(np.asarray(ratios) - l1_ratio)))]
    if alphas.size > 1 and int(np.argmin(errors)) == alphas.size - 1:
        console.note(f"the cross-validated error is lowest at the grid's smallest alpha "
                     f"({alphas[-1]:.6g} = alpha_max * eps): a smaller --eps may find a "
                     "lower one")
    selected = np.flatnonzero(material)
    # a feature in the refit but not on the path (a tie at the tolerance) enters at alpha_
    entry[selected] = np.where(np.isnan(entry[selected]), model.alpha_, entry[selected])
    order = selected[np.lexsort((-np.abs(model.coef_[selected]), -entry[selected]))]
    rows = [(data.feature_names[j], float(model.coef_[j]), float(entry[j])) for j in order]

    name = "LassoCV" if args.l1_ratio is None else f"ElasticNetCV (l1_ratio {l1_ratio:g})"
    scale = ", standardized" if args.standardize else ""
    print(f"{name}, {args.cv}-fold CV, rule {args.rule}: alpha = {model.alpha_:.6g}; "
          f"{len(rows)} of {X.shape[1]} features selected ({data.source}, "
          f"{X.shape[0]} samples{scale})")
    if rows:
        print(_format_table(["feature", "coefficient", "entered at alpha"],
                            [(n, _number(c), _number(a)) for n, c, a in rows]))
    _write_selection(args, console, ["feature", "coefficient", "entry_alpha"], rows, {
        "data": data.source, "method": "LassoCV" if args.l1_ratio is None else "ElasticNetCV",
        "l1_ratio": l1_ratio, "alpha": model.alpha_, "rule": args.rule, "cv": args.cv,
        "standardized": args.standardize, "n_samples": X.shape[0], "n_features": X.shape[1]})
    if args.plot:
        from ._plot import plot_cv, plot_path

        plt = _pyplot()
        figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
        plot_path(alphas, coefs, selected_alpha=model.alpha_, feature_names=data.feature_names,
                  ax=left)
        plot_cv(model, ax=right)
        figure.suptitle(f"{Path(data.source).name}: {len(rows)} of {X.shape[1]} features "
                        f"selected ({name}, rule {args.rule})")
        figure.tight_layout()
        _save_figure(figure, args.plot, console)
        plt.close(figure)


def _parse_max_selected(text):
    if text.lower() in ("auto", "none"):
        return "auto" if text.lower() == "auto" else None
    return _positive_number(text)


def _select_stable(args, data, X, console):
    from ._stability import StabilitySelection

    if args.l1_ratio is not None and len(args.l1_ratio) > 1:
        raise CommandError("--stability takes one --l1-ratio, not a list")
    if args.max_selected == "auto" and args.threshold <= 0.5:
        raise CommandError(f"--max-selected auto needs a --threshold above 0.5 (it bounds "
                           f"the false selections by 1), got {args.threshold:g}: give "
                           "--max-selected a number, or none for the whole grid")
    selector = StabilitySelection(
        alphas=args.n_alphas, eps=args.eps,
        l1_ratio=1.0 if args.l1_ratio is None else args.l1_ratio[0],
        n_resamples=args.n_resamples, weakness=args.weakness, threshold=args.threshold,
        max_selected=args.max_selected, n_jobs=args.n_jobs, random_state=args.seed,
        verbose=console.show_progress)
    selector.fit(X, data.y)
    support = selector.get_support(indices=True)
    scores = selector.stability_scores_
    # the largest alpha at which the feature's score reaches the threshold
    reached = scores >= selector.threshold
    first = selector.alphas_[np.argmax(reached, axis=1)]
    order = support[np.lexsort((-selector.selection_probabilities_[support], -first[support]))]
    rows = [(data.feature_names[j], float(selector.selection_probabilities_[j]), float(first[j]))
            for j in order]
    bound = selector.error_bound_
    scale = ", standardized" if args.standardize else ""
    method = ("stability selection" if args.l1_ratio is None else
              f"stability selection (elastic net, l1_ratio {args.l1_ratio[0]:g})")
    print(f"{method}, {args.n_resamples} half-sample fits, threshold "
          f"{args.threshold:g}: {len(rows)} of {X.shape[1]} features selected; expected false "
          f"selections <= {bound:.3g} (q = {selector.average_selected_:.3g} features per fit; "
          f"{data.source}, {X.shape[0]} samples{scale})")
    if rows:
        print(_format_table(["feature", "probability", "stable from alpha"],
                            [(n, f"{p:.2f}", _number(a)) for n, p, a in rows]))
    _write_selection(args, console, ["feature", "probability", "alpha"], rows, {
        "data": data.source, "method": "stability selection",
        "l1_ratio": 1.0 if args.l1_ratio is None else args.l1_ratio[0],
        "n_resamples": args.n_resamples, "threshold": args.threshold,
        "weakness": args.weakness, "error_bound": bound,
        "average_selected": selector.average_selected_, "standardized": args.standardize,
        "n_samples": X.shape[0], "n_features": X.shape[1]})
    if args.plot:
        plt = _pyplot()
        ax = selector.plot_stability(feature_names=data.feature_names)
        ax.figure.tight_layout()
        _save_figure(ax.figure, args.plot, console)
        plt.close(ax.figure)


def _load(args, console, need_target=True, columns=None):
    return load_dataset(args.data, target=args.target, data_format=args.format,
                        drop_non_numeric=args.drop_non_numeric, dropna=args.dropna,
                        console=console, need_target=need_target, columns=columns,
                        header=not args.no_header)


def _check_outputs(args, out_suffixes=None, stdout_allowed=True):
    """Refuse a bad --out name, an output in a folder that does not exist, or --plot
    without matplotlib, before any work."""
    out = getattr(args, "out", None)
    if out == "-" and not stdout_allowed:
        raise CommandError(f"--out -: {args.command} prints its table already; give a file "
                           f"name ending in {' or '.join(out_suffixes)}")
    if out not in (None, "-"):
        _out_kind(out, out_suffixes)
    plot = getattr(args, "plot", None)
    for option, name in (("--out", None if out == "-" else out),
                         ("--plot", plot and _figure_path(plot)),
                         ("--save", getattr(args, "save", None))):
        if name and not Path(name).resolve().parent.is_dir():
            raise CommandError(f"{option} {name}: no folder {Path(name).parent}")
    if plot:
        _pyplot()


# the options of one way of selecting, with their defaults: given with the other way,
# they are refused rather than ignored
_CV_OPTIONS = {"rule": "min", "cv": 5}
_STABILITY_OPTIONS = {"n_resamples": 100, "threshold": 0.75, "weakness": 1.0,
                      "max_selected": "auto"}
_UNSET = object()  # the default of those options: not given (--max-selected none is None)


def _settle_options(args, used, unused, unused_for):
    """Fill in the defaults of the options `used`; refuse the ones of `unused` given
    (they are for `unused_for` only)."""
    given = [f"--{name.replace('_', '-')}" for name in unused
             if getattr(args, name) is not _UNSET]
    if given:
        raise CommandError(f"{' and '.join(given)} {'is' if len(given) == 1 else 'are'} only "
                           f"for {unused_for}")
    for name, default in used.items():
        if getattr(args, name) is _UNSET:
            setattr(args, name, default)


def _cmd_select(args, console):
    if args.stability:
        _settle_options(args, _STABILITY_OPTIONS, _CV_OPTIONS,
                        "the cross-validated selection (without --stability)")
    else:
        _settle_options(args, _CV_OPTIONS, _STABILITY_OPTIONS,
                        "stability selection (add --stability)")
    _check_outputs(args, [".csv", ".json"], stdout_allowed=False)
    data = _load(args, console)
    _check_data_varies(data)
    X = _standardized(data.X, args.standardize)
    if args.stability:
        _select_stable(args, data, X, console)
    else:
        _select_cv(args, data, X, console)


def _cmd_path(args, console):
    from ._path import alpha_grid

    _check_outputs(args, [".csv"])
    data = _load(args, console)
    _check_data_varies(data)
    X = _standardized(data.X, args.standardize)
    alphas = alpha_grid(X, data.y, l1_ratio=args.l1_ratio, eps=args.eps,
                        n_alphas=args.n_alphas, fit_intercept=True)
    coefs = _path_with_progress(X, data.y, alphas, args.l1_ratio, console)
    entered = np.flatnonzero(np.any(_material(coefs, X, data.y), axis=1))
    headers = ["alpha"] + [data.feature_names[j] for j in entered]
    rows = [[repr(float(alpha))] + [repr(float(value)) for value in coefs[entered, k]]
            for k, alpha in enumerate(alphas)]
    _write_rows(args.out, headers, rows)
    if args.out not in (None, "-"):
        console.note(f"wrote {args.out}: {alphas.size} alphas, the {entered.size} of "
                     f"{X.shape[1]} features that enter the path")
    if args.plot:
        from ._plot import plot_path

        plt = _pyplot()
        ax = plot_path(alphas, coefs, feature_names=data.feature_names)
        ax.figure.tight_layout()
        _save_figure(ax.figure, args.plot, console)
        plt.close(ax.figure)


def _cmd_fit(args, console):
    import joblib

    from ._elastic_net import ElasticNet, Lasso
    from ._ridge import Ridge

    if args.l1_ratio is not None and args.model != "enet":
        raise CommandError(f"--l1-ratio does not apply to --model {args.model} (it mixes "
                           "the elastic net's penalties: --model enet)")
    _check_outputs(args)
    data = _load(args, console)
    _check_data_varies(data)
    if args.model == "lasso":
        model = Lasso(alpha=args.alpha)
    elif args.model == "enet":
        model = ElasticNet(alpha=args.alpha,
                           l1_ratio=0.5 if args.l1_ratio is None else args.l1_ratio)
    else:
        model = Ridge(alpha=args.alpha)
    if args.standardize:
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        model = make_pipeline(StandardScaler(with_mean=not sp.issparse(data.X)), model)
    X = data.X
    if data.named and not sp.issparse(X):
        # fitted on named columns, the model checks them again at predict time
        X = _pandas().DataFrame(X, columns=data.feature_names)
    model.fit(X, data.y)
    estimator = model[-1] if args.standardize else model
    coef = np.ravel(estimator.coef_)
    r2 = model.score(X, data.y)
    if args.standardize:
        # the standardized columns' norms, from the fitted scaler (no second copy of X):
        # centred dense columns of unit variance have norm sqrt(n) (0 when constant),
        # sparse ones are only divided by their scale
        from ._path import column_norms

        scaler = model[0]
        norms = (column_norms(data.X) / scaler.scale_ if sp.issparse(data.X) else
                 np.sqrt(data.X.shape[0] * scaler.var_) / scaler.scale_)
        material = _material(coef, None, data.y, norms)
    else:
        material = _material(coef, data.X, data.y)
    _note_rounding(console, coef, material)
    nonzero = np.flatnonzero(material)
    print(f"{type(estimator).__name__}(alpha={args.alpha:g}) on {data.source}: {X.shape[0]} "
          f"samples, {coef.size} features, {nonzero.size} nonzero coefficients, training "
          f"R^2 = {r2:.4f}")
    order = nonzero[np.argsort(-np.abs(coef[nonzero]), kind="stable")]
    shown = order[:max(args.show, 0)]
    if shown.size:
        scale = " (standardized)" if args.standardize else ""
        print(_format_table(["feature", f"coefficient{scale}"],
                            [(data.feature_names[j], _number(float(coef[j]))) for j in shown]))
        if order.size > shown.size:
            print(f"... and {order.size - shown.size} more (--show N lists more)")
    if args.save:
        try:
            joblib.dump(model, args.save)
        except OSError as exc:
            raise CommandError(f"cannot write {args.save}: {exc.strerror or exc}") from None
        console.note(f"saved the model to {args.save}")


def _load_model(path):
    import joblib

    path = Path(path)
    if not path.exists():
        raise CommandError(f"no such file: {path}")
    try:
        model = joblib.load(path)
    except Exception as exc:  # joblib raises many kinds on a file that is not its own
        raise CommandError(f"cannot load a model from {path}: not a file saved by "
                           f"'fastpen fit' ({_first_line(exc)})") from None
    if not hasattr(model, "predict") or not hasattr(model, "n_features_in_"):
        raise CommandError(f"{path} does not hold a fitted model (it holds a "
                           f"{type(model).__name__})")
    return model


def _cmd_predict(args, console):
    _check_outputs(args, [".csv"])
    model = _load_model(args.model)
    n_features = model.n_features_in_
    names = getattr(model, "feature_names_in_", None)
    names = None if names is None else [str(name) for name in names]
    path = Path(args.data)
    if path.is_file() and detect_format(path, args.format) == "libsvm":
        # as many columns as the model takes, even where the file's last ones are empty
        data = _drop_non_finite(_read_svmlight(path, n_features=n_features), args.dropna,
                                console, min_rows=1)
    else:
        data = _load(args, console, need_target=False, columns=names)
    X = data.X
    if names is not None:
        missing = [name for name in names if name not in data.feature_names]
        if missing:
            raise CommandError(f"{data.source} lacks feature(s) the model was fitted on: "
                               f"{_listing(missing)}")
        position = {name: j for j, name in enumerate(data.feature_names)}
        X = _pandas().DataFrame(X[:, [position[name] for name in names]], columns=names)
    elif X.shape[1] != n_features:
        raise CommandError(f"the model takes {n_features} features, {data.source} has "
                           f"{X.shape[1]}")
    predictions = np.ravel(model.predict(X))
    cells = [repr(float(value)) for value in predictions]
    if data.rows is not None:
        # one line per row of the file: the rows --dropna left out get an empty cell
        every_row = [""] * data.file_rows
        for row, cell in zip(data.rows, cells):
            every_row[row] = cell
        cells = every_row
    _write_rows(args.out, ["prediction"], [[cell] for cell in cells])
    if args.out not in (None, "-"):
        console.note(f"wrote {predictions.size} predictions to {args.out}")


def _cmd_demo(args, console):
    from ._demo import run_demo

    run_demo()


# ------------------------------------------------------------------------ command line

class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line."""

    def error(self, message):
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def _checked_number(convert, accept, requirement):
    """An argparse type: the text as a number, refused unless ``accept(number)``."""
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            kind = "a whole number" if convert is int else "a number"
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        if not (math.isfinite(value) and accept(value)):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text}")
        return value

    return parse


_positive_int = _checked_number(int, lambda value: value >= 1, "at least 1")
_at_least_two = _checked_number(int, lambda value: value >= 2, "at least 2")
_unit_interval = _checked_number(float, lambda value: 0 < value <= 1, "in (0, 1]")
_non_negative = _checked_number(float, lambda value: value >= 0, ">= 0")
_positive_number = _checked_number(float, lambda value: value > 0, "'auto', 'none' or > 0")


def _add_data_arguments(parser, *, predicting=False):
    parser.add_argument("data", metavar="DATA",
                        help="CSV/TSV file with a header, libsvm/svmlight file, or .npz with "
                             "arrays X and y (or a scipy sparse matrix and y)")
    parser.add_argument("--target", "-t", metavar="COL",
                        help="the column to predict (CSV/TSV; with --no-header its position "
                             "from 0, -1 the last); the target array's name in a .npz "
                             "(default y); libsvm files carry their own")
    parser.add_argument("--no-header", action="store_true",
                        help="the CSV/TSV file has no header: its first line is data "
                             "(features are then named x0, x1, ... by their column)")
    parser.add_argument("--format", choices=["csv", "tsv", "libsvm", "npz"],
                        help="the file format (default: from the name's suffix, else sniffed)")
    parser.add_argument("--drop-non-numeric", action="store_true",
                        help="leave out non-numeric columns instead of stopping")
    parser.add_argument("--dropna", action="store_true",
                        help="leave out rows with missing or infinite values instead of "
                             "stopping" + (" (their prediction is an empty cell)"
                                           if predicting else ""))
    if not predicting:
        parser.add_argument("--standardize", action="store_true",
                            help="scale every feature to unit variance first (coefficients "
                                 "are then per standard deviation)")


def _add_grid_arguments(parser):
    parser.add_argument("--n-alphas", type=_positive_int, default=100, metavar="N",
                        help="alphas on the grid (default 100)")
    parser.add_argument("--eps", type=_unit_interval, default=1e-3, metavar="E",
                        help="alpha_min / alpha_max of the grid (default 0.001)")


def _add_quiet_argument(parser):
    parser.add_argument("--quiet", "-q", action="store_true",
                        help="no progress bars or notes (errors and warnings still show)")


def build_parser():
    """The ``fastpen`` argument parser (its sub-commands and options)."""
    parser = _Parser(prog="fastpen",
                     description="Fast penalized linear regression: select features, "
                                 "fit and predict from CSV/TSV, libsvm or .npz files.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=_Parser)

    select = commands.add_parser(
        "select", help="which features matter: LassoCV/ElasticNetCV, or stability selection",
        description="Fit LassoCV (ElasticNetCV with --l1-ratio) and list the selected "
                    "features with their coefficient and the alpha at which they enter the "
                    "path; with --stability, stability selection with its error bound.")
    _add_data_arguments(select)
    _add_grid_arguments(select)
    select.add_argument("--l1-ratio", type=_l1_ratios, metavar="R[,R...]",
                        help="elastic net: one ratio in (0, 1], or a list to search")
    select.add_argument("--rule", choices=["min", "1se"], default=_UNSET,
                        help="alpha with the least CV error, or the largest within one "
                             "standard error of it (default min)")
    select.add_argument("--cv", type=_at_least_two, default=_UNSET, metavar="K",
                        help="number of CV folds (default 5, shuffled with --seed)")
    select.add_argument("--n-jobs", type=int, default=None, metavar="N",
                        help="threads for the folds or the resamples (default 1)")
    select.add_argument("--seed", type=int, default=0,
                        help="random seed of the folds and resamples (default 0)")
    select.add_argument("--out", metavar="FILE.csv|FILE.json",
                        help="also write the selected features to a file")
    select.add_argument("--plot", metavar="FILE.png",
                        help="draw the path with the chosen alpha and the CV curve (with "
                             "--stability: the stability paths)")
    _add_quiet_argument(select)
    stability = select.add_argument_group("stability selection")
    stability.add_argument("--stability", action="store_true",
                           help="stability selection (complementary half-samples) instead "
                                "of cross-validation")
    stability.add_argument("--n-resamples", type=_at_least_two, default=_UNSET, metavar="N",
                           help="half-sample fits, an even number (default 100)")
    stability.add_argument("--threshold", type=_unit_interval, default=_UNSET,
                           help="selection probability to reach (default 0.75)")
    stability.add_argument("--weakness", type=_unit_interval, default=_UNSET,
                           help="randomized Lasso: penalty weights in [weakness, 1] "
                                "(default 1: none)")
    stability.add_argument("--max-selected", type=_parse_max_selected, default=_UNSET,
                           metavar="Q",
                           help="end of the alpha region: features one fit may select on "
                                "average ('auto' bounds the false selections by 1; 'none')")
    select.set_defaults(handler=_cmd_select)

    path = commands.add_parser(
        "path", help="write the coefficient path (CSV) and draw it",
        description="The Lasso (or elastic-net) path on all the data, as CSV: one row per "
                    "alpha, one column per feature that enters.")
    _add_data_arguments(path)
    _add_grid_arguments(path)
    path.add_argument("--l1-ratio", type=_unit_interval, default=1.0,
                      help="elastic-net mixing in (0, 1] (default 1: the Lasso)")
    path.add_argument("--out", metavar="FILE.csv", help="where to write (default: stdout)")
    path.add_argument("--plot", metavar="FILE.png", help="draw the path")
    _add_quiet_argument(path)
    path.set_defaults(handler=_cmd_path)

    fit = commands.add_parser(
        "fit", help="fit one model and save it",
        description="Fit one model at a given alpha and save it with joblib.")
    _add_data_arguments(fit)
    fit.add_argument("--model", choices=["lasso", "enet", "ridge"], default="lasso",
                     help="default lasso")
    fit.add_argument("--alpha", type=_non_negative, required=True,
                     help="penalty strength (Ridge's alpha has no 1/(2 n) scaling)")
    fit.add_argument("--l1-ratio", type=_unit_interval, default=None,
                     help="elastic-net mixing (--model enet; default 0.5)")
    fit.add_argument("--save", metavar="MODEL.joblib", help="save the fitted model")
    fit.add_argument("--show", type=int, default=20, metavar="N",
                     help="list the N largest coefficients (default 20)")
    _add_quiet_argument(fit)
    fit.set_defaults(handler=_cmd_fit)

    predict = commands.add_parser(
        "predict", help="predict with a saved model",
        description="Predict with a model saved by 'fastpen fit' (load only files you "
                    "trust: joblib files can run code). Writes one prediction per row.")
    predict.add_argument("model", metavar="MODEL.joblib")
    _add_data_arguments(predict, predicting=True)
    predict.add_argument("--out", metavar="FILE.csv", help="where to write (default: stdout)")
    _add_quiet_argument(predict)
    predict.set_defaults(handler=_cmd_predict)

    demo = commands.add_parser("demo", help="fit Lasso on built-in data next to scikit-learn")
    _add_quiet_argument(demo)
    demo.set_defaults(handler=_cmd_demo)
    return parser


def main(argv=None):
    """Entry point of the ``fastpen`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    console = _Console(args.quiet)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = console.warning
            args.handler(args, console)
    except CommandError as exc:
        print(f"fastpen: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("fastpen: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # the reader of the output stopped early (`| head`): end quietly, and keep
        # Python from complaining again when it flushes stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    except (ValueError, TypeError, OSError, MemoryError) as exc:
        # raised below the command (a solver, a reader): still one line
        print(f"fastpen: error: {_first_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # a bug: still one line, named for the report
        print(f"fastpen: error: unexpected {type(exc).__name__}: {_first_line(exc)}",
              file=sys.stderr)
        return EXIT_ERROR
    finally:
        console.close()
    return 0
