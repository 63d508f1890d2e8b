"""Pictures of a regularization path and of a cross-validation curve (matplotlib)."""
import numpy as np


def _axes(ax):
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # an optional extra: say how to get it
        raise ImportError(
            "fastpen's plots need matplotlib: pip install matplotlib") from exc
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    return ax


def plot_path(alphas, coefs, *, selected_alpha=None, feature_names=None, n_labels=8,
              ax=None):
    """Coefficients against alpha (log scale), the selected alpha marked.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,)
    coefs : array-like of shape (n_features, n_alphas)
        As returned by :func:`fastpen.lasso_path` / :func:`fastpen.enet_path`.
    selected_alpha : float, default=None
        Drawn as a vertical line (e.g. ``LassoCV().alpha_``).
    feature_names : sequence of str, default=None
        Labels for the largest coefficients at the end of the path.
    n_labels : int, default=8
        How many of the largest final coefficients get a label.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes
    """
    ax = _axes(ax)
    alphas = np.asarray(alphas, dtype=np.float64)
    coefs = np.asarray(coefs, dtype=np.float64)
    if coefs.ndim != 2 or coefs.shape[1] != alphas.shape[0]:
        raise ValueError(
            f"coefs must have shape (n_features, {alphas.shape[0]}), got {coefs.shape}")
    active = np.flatnonzero(np.any(coefs != 0, axis=1))
    for j in active:
        ax.plot(alphas, coefs[j], linewidth=1)
    ax.set_xscale("log")
    ax.invert_xaxis()  # from the empty model on the left to the dense one on the right
    ax.axhline(0.0, color="0.6", linewidth=0.6)
    if selected_alpha is not None:
        ax.axvline(selected_alpha, color="black", linestyle="--", linewidth=1,
                   label=f"selected alpha = {selected_alpha:.3g}")
        ax.legend(loc="best", fontsize="small")
    if feature_names is not None and active.size:
        final = coefs[:, -1]
        labelled = active[np.argsort(-np.abs(final[active]))][:n_labels]
        low, high = ax.get_ylim()
        heights = _spread_labels(final[labelled], (low, high))
        for j, height in zip(labelled, heights):
            moved = abs(height - final[j]) > 1e-9 * (high - low)
            # at the end of its curve, moved up or down (with a line back to the
            # curve) where labels of close coefficients would overlap
            ax.annotate(str(feature_names[j]), (alphas[-1], final[j]), fontsize="x-small",
                        xytext=(6 if moved else 3, height),
                        textcoords=("offset points", "data"), va="center",
                        arrowprops=dict(arrowstyle="-", linewidth=0.4, color="0.5")
                        if moved else None)
    ax.set_xlabel("alpha (log scale)")
    ax.set_ylabel("coefficient")
    ax.set_title(f"Regularization path: {active.size} features enter")
    return ax


def _spread_labels(values, limits, gap_fraction=0.04):
    """Label heights near `values`, at least `gap_fraction` of the axis apart (one line
    of small text on a figure of usual height), kept inside `limits` where they fit."""
    values = np.asarray(values, dtype=np.float64)
    low, high = limits
    gap = gap_fraction * (high - low)
    order = np.argsort(values)
    heights = values[order].copy()
    for k in range(1, heights.size):  # upwards: each at least a gap above the one below
        heights[k] = max(heights[k], heights[k - 1] + gap)
    overflow = heights[-1] - high if heights.size else 0.0
    if overflow > 0:  # then down from the top, back inside the axis
        heights[-1] -= overflow
        for k in range(heights.size - 2, -1, -1):
            heights[k] = min(heights[k], heights[k + 1] - gap)
    spread = np.empty_like(heights)
    spread[order] = heights
    return spread


def plot_cv(model, *, ax=None):
    """Mean cross-validation error against alpha, with its standard-error band.

    Parameters
    ----------
    model : fitted :class:`fastpen.LassoCV` or :class:`fastpen.ElasticNetCV`
        For several l1_ratios, the curve of the chosen ``l1_ratio_`` is drawn.
    ax : matplotlib Axes, default=None

    Returns
    -------
    ax : matplotlib Axes
    """
    if not hasattr(model, "mse_path_"):
        raise ValueError("plot_cv needs a fitted LassoCV or ElasticNetCV")
    ax = _axes(ax)
    # alphas_ is (n_l1_ratios, n_alphas) for several l1_ratios, unless the alphas were
    # given (one grid for all, 1-D); mse_path_ is squeezed as scikit-learn's (a grid
    # of one alpha leaves it 1-D): both read as 2-D / 3-D
    l1_ratios = np.atleast_1d(getattr(model, "l1_ratio", 1.0))
    alphas = np.atleast_2d(model.alphas_)
    if alphas.shape[0] != l1_ratios.size:
        alphas = np.broadcast_to(alphas[:1], (l1_ratios.size, alphas.shape[1]))
    mse = np.asarray(model.mse_path_).reshape(alphas.shape + (-1,))
    index = int(np.argmin(np.abs(l1_ratios - model.l1_ratio_))) if l1_ratios.size > 1 else 0
    mse, alphas = mse[index], alphas[index]
    mean = mse.mean(axis=1)
    error = mse.std(axis=1, ddof=1) / np.sqrt(mse.shape[1]) if mse.shape[1] > 1 else 0 * mean
    ax.plot(alphas, mean, color="C0", label="mean CV error")
    ax.fill_between(alphas, mean - error, mean + error, color="C0", alpha=0.2,
                    label="one standard error")
    ax.axvline(model.alpha_, color="black", linestyle="--", linewidth=1,
               label=f"alpha_ = {model.alpha_:.3g} ({getattr(model, 'alpha_rule', 'min')})")
    ax.set_xscale("log")
    ax.invert_xaxis()
    ax.set_xlabel("alpha (log scale)")
    ax.set_ylabel("mean squared error")
    ax.set_title("Cross-validation")
    ax.legend(loc="best", fontsize="small")
    return ax
