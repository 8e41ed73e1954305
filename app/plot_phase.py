#!/usr/bin/env python3
"""The figures of a phase file (DIR/phase.h5, written by `dln aggregate`), drawn into DIR.

    plot_phase.py DIR [--pdf] [--point LR,DIM,ALPHA ...]

`dln plot DIR` runs this with an interpreter that has matplotlib and h5py (Debian 12:
python3-matplotlib 3.6, python3-h5py). Figures, each as PNG (and PDF with --pdf):

  regime_map          the phase diagram: the regime of every (lr, alpha), one panel per d and one
                      for the d -> infinity limit (the PDE); the first figure a reader sees
  heatmap_<quantity>  one summary quantity over (lr, alpha), same panels, with the divergence
                      boundary (at least half of the replicates diverged) drawn along cell edges
  risk_curves         risk against time at chosen points: SGD replicate mean and range, SDE, PDE
  gap_vs_dim          sup-over-time relative SGD-PDE gap against d on log-log axes, fitted slope

Every figure has a fixed size in pixels (width 7 in at 150 dpi: a full page width in print), so a
test can check it. Bad input is one line on stderr and exit status 2, like the rest of dln.
"""
import argparse
import configparser
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import h5py  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap, LogNorm, Normalize  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

DPI = 150
WIDTH = 7.0  # inches: a full text width in print; fonts below are sized for it
plt.rcParams.update({
    "font.size": 8.5, "axes.titlesize": 9, "axes.labelsize": 8.5, "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5, "legend.fontsize": 7.5, "figure.dpi": DPI, "savefig.dpi": DPI,
})

REGIMES = ["missing", "converged", "converging", "stalled", "collapsed", "diverged"]
REGIME_COLOURS = ["#ffffff", "#1a9850", "#a6d96a", "#fee08b", "#7b3294", "#d73027"]
REGIME_MEANING = {
    "converged": "converged: R(T) ≤ ε",
    "converging": "converging: still falling at T",
    "stalled": "stalled: stopped above ε",
    "collapsed": "collapsed: Q → 0, R stays",
    "diverged": "diverged",
    "missing": "not computed",
}
BOUNDARY = dict(colors="black", linewidths=1.6)
# The regime map's marker of the points where the PDE's linearisation predicts no convergence.
NO_CONVERGENCE = dict(marker="x", color="black", markersize=6, markeredgewidth=1.4, linestyle="none")


def fail(message):
    print(f"dln plot: error: {message}", file=sys.stderr)
    sys.exit(2)


class Phase:
    """What the figures need from phase.h5."""

    def __init__(self, path):
        try:
            f = h5py.File(path, "r")
        except OSError as e:
            fail(f"cannot read '{path}': {e}")
        with f:
            schema = f.attrs.get("schema", "")
            if isinstance(schema, bytes):
                schema = schema.decode()
            if schema != "dln-phase/1":
                fail(f"'{path}' is not a dln phase file (schema '{schema}')")
            self.lr = f["axes/lr"][:]
            self.dim = f["axes/dim"][:]
            self.alpha = f["axes/alpha"][:]
            self.time = f["time"][:]
            self.epsilon = float(f.attrs["epsilon"])
            config = f.attrs.get("config", "")
            self.config = configparser.ConfigParser()
            self.config.read_string(config.decode() if isinstance(config, bytes) else config)
            self.methods = {}
            for name in ("sgd", "sde", "pde"):
                if name in f:
                    self.methods[name] = {k: f[name][k][()] for k in f[name].keys()}
        self.noise = float(self.config.get("data", "noise", fallback="0"))
        self.parametrization = self.config.get("model", "parametrization", fallback="?")
        self.T = float(self.time[-1]) if len(self.time) else 0.0
        # Plot the axes in increasing order whatever order the sweep listed them in.
        self.lr_order = np.argsort(self.lr)
        self.alpha_order = np.argsort(self.alpha)

    def panels(self):
        """(method, dim index or None, title) for every panel of a map: each d, then the limit."""
        out = []
        for name in ("sgd", "sde"):
            if name in self.methods:
                for i, d in enumerate(self.dim):
                    out.append((name, i, f"{name.upper()}, d = {d}"))
        if "pde" in self.methods:
            out.append(("pde", None, "PDE, d → ∞"))
        return out

    def field(self, method, d_index, name):
        """A [lr, alpha] array (sorted axes) of one quantity, or None if the method lacks it."""
        data = self.methods[method].get(name)
        if data is None:
            return None
        if d_index is not None:
            data = data[:, d_index, :]
        return data[np.ix_(self.lr_order, self.alpha_order)].astype(float)

    def pair_field(self, method, name):
        """A [lr, alpha] array (sorted axes) of a per-(lr, alpha) quantity (predicted_rate,
        pde_error_estimate), or None if the method lacks it."""
        data = self.methods[method].get(name)
        if data is None:
            return None
        return data[np.ix_(self.lr_order, self.alpha_order)].astype(float)

    def risk_label(self):
        return "risk R(t)" if self.noise == 0 else "excess risk R(t) − σ²/2"


def edges(values):
    """Cell edges of a sorted positive axis on a log scale: geometric midpoints."""
    v = np.asarray(values, dtype=float)
    if len(v) == 1:
        return np.array([v[0] / 1.5, v[0] * 1.5])
    mid = np.sqrt(v[1:] * v[:-1])
    return np.concatenate([[v[0] ** 2 / mid[0]], mid, [v[-1] ** 2 / mid[-1]]])


def boundary_segments(diverged, x_edges, y_edges):
    """Cell edges between a diverged cell (>= half the replicates) and a computed other one."""
    div = np.where(np.isnan(diverged), np.nan, diverged >= 0.5)
    segments = []
    nx, ny = div.shape
    for i in range(nx):
        for j in range(ny):
            if i + 1 < nx and np.isfinite(div[i, j]) and np.isfinite(div[i + 1, j]) and div[i, j] != div[i + 1, j]:
                segments.append([(x_edges[i + 1], y_edges[j]), (x_edges[i + 1], y_edges[j + 1])])
            if j + 1 < ny and np.isfinite(div[i, j]) and np.isfinite(div[i, j + 1]) and div[i, j] != div[i, j + 1]:
                segments.append([(x_edges[i], y_edges[j + 1]), (x_edges[i + 1], y_edges[j + 1])])
    return segments


def setup_map_axes(ax, phase, x_edges, y_edges, title, first):
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(x_edges[0], x_edges[-1])
    ax.set_ylim(y_edges[0], y_edges[-1])
    lr = phase.lr[phase.lr_order]
    alpha = phase.alpha[phase.alpha_order]
    ax.set_xticks(lr)
    ax.set_xticklabels([f"{v:g}" for v in lr], rotation=0)
    ax.set_yticks(alpha)
    ax.set_yticklabels([f"{v:g}" for v in alpha])
    ax.minorticks_off()
    ax.set_xlabel("learning rate γ")
    if first:
        ax.set_ylabel("initialisation scale α")
    ax.set_title(title)


def add_bottom_legend(fig, handles, ncol):
    """A legend in a band added below the panels (matplotlib 3.6 has no loc="outside ...")."""
    rows = (len(handles) + ncol - 1) // ncol
    band = 0.1 + 0.2 * rows  # inches
    width, height = fig.get_size_inches()
    fig.set_size_inches(width, height + band)
    fig.get_layout_engine().set(rect=(0, band / (height + band), 1, 1 - band / (height + band)))
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=ncol, frameon=False)


def map_figure(phase, draw, panels=None, colorbar=None, legend=None, suptitle=None):
    """A row of panels over (lr, alpha), one per (method, d); draw(ax, method, d_index, X, Y)."""
    panels = panels or phase.panels()
    n = len(panels)
    cols = min(n, 4)
    rows = (n + cols - 1) // cols
    height = 0.7 + 2.2 * rows
    fig, axes = plt.subplots(rows, cols, figsize=(WIDTH, height), squeeze=False, sharey=True,
                             layout="constrained")
    x_edges = edges(phase.lr[phase.lr_order])
    y_edges = edges(phase.alpha[phase.alpha_order])
    mappable = None
    for k, (method, d_index, title) in enumerate(panels):
        ax = axes[k // cols][k % cols]
        mappable = draw(ax, method, d_index, x_edges, y_edges) or mappable
        diverged = phase.field(method, d_index, "diverged_fraction")
        segments = boundary_segments(diverged, x_edges, y_edges)
        if segments:
            ax.add_collection(LineCollection(segments, colors=BOUNDARY["colors"], linewidths=BOUNDARY["linewidths"]))
        setup_map_axes(ax, phase, x_edges, y_edges, title, k % cols == 0)
    for k in range(n, rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    if colorbar and mappable is not None:
        bar = fig.colorbar(mappable, ax=axes.ravel().tolist(), shrink=0.9, pad=0.02)
        bar.set_label(colorbar)
    if legend:
        add_bottom_legend(fig, legend, ncol=min(len(legend), 3))
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def describe(phase):
    c = phase.config
    get = lambda s, k: c.get(s, k, fallback="?")  # noqa: E731
    return (f"{get('model', 'parametrization')}, {get('data', 'spectrum')} data, s = {get('data', 'sparsity')}, "
            f"σ = {get('data', 'noise')}, T = {get('run', 'time')}, {get('run', 'seeds')} replicates")


def regime_map(phase):
    cmap = ListedColormap(REGIME_COLOURS)
    norm = BoundaryNorm(np.arange(-0.5, len(REGIMES) + 0.5), cmap.N)
    present = set()

    no_convergence = []

    def draw(ax, method, d_index, x_edges, y_edges):
        regime = phase.field(method, d_index, "regime")
        present.update(int(v) for v in np.unique(regime))
        ax.pcolormesh(x_edges, y_edges, regime.T, cmap=cmap, norm=norm, edgecolors="#999999", linewidth=0.3)
        # Where the PDE's linearisation at T predicts no convergence (rate rho <= 0, THEORY.md §5).
        rate = phase.pair_field(method, "predicted_rate")
        if rate is not None:
            i, j = np.nonzero(rate <= 0)
            if len(i):
                no_convergence.append(len(i))
                ax.plot(phase.lr[phase.lr_order][i], phase.alpha[phase.alpha_order][j], **NO_CONVERGENCE)
        return None

    # Drawn first to learn which regimes occur, so the legend lists only those.
    fig = map_figure(phase, draw, suptitle=f"Regimes (ε = {phase.epsilon:g})\n{describe(phase)}")
    legend = [Patch(facecolor=REGIME_COLOURS[k], edgecolor="#999999", label=REGIME_MEANING[REGIMES[k]])
              for k in range(len(REGIMES)) if k in present]
    legend.append(Patch(facecolor="none", edgecolor="black", linewidth=1.6, label="divergence boundary"))
    if no_convergence:
        legend.append(Line2D([], [], label="predicted rate ρ ≤ 0 (no convergence)", **NO_CONVERGENCE))
    add_bottom_legend(fig, legend, ncol=min(len(legend), 3))
    return fig


HEATMAPS = [
    # name, title, colour-bar label (symbol and unit), log colour scale
    ("risk_final_mean", "Final risk (replicate mean)", r"$R(T)$", True),
    ("risk_final_std", "Spread of the final risk over replicates", r"standard deviation of $R(T)$", True),
    ("time_to_epsilon", "Time to reach the excess risk ε", r"$t_\varepsilon$ (units of $d$ samples)", False),
    ("tail_rate", "Late-time exponential rate ρ: R − σ²/2 ∝ exp(−ρt) over the second half", r"$\rho$ (per unit time)", False),
    ("diverged_fraction", "Fraction of replicates diverged", "fraction diverged", False),
    ("curvature_final", "Curvature at T", r"$d\,\mathrm{tr}\,\nabla^2 R$ in $(p, q)$ at $T$", True),
    ("balance_final", "Balance at T (the effective initialisation)", r"$Q(T) = \mathrm{mean}_i\, p_i q_i$", True),
    ("false_support_final", "False support at T", r"fraction of null $i$ with $|w_i| > \tau$", False),
    ("gap_pde", "Gap of the replicate mean to the d → ∞ limit (PDE)", r"$\sup_t\, |R_d - R_\infty|\,/\,R_\infty$", True),
]


def heatmap(phase, name, title, label, log):
    # Only the panels that have the quantity: the PDE has no gap to itself.
    titled = [p for p in phase.panels() if phase.field(p[0], p[1], name) is not None]
    panels = [(m, d) for m, d, _ in titled]
    values = [phase.field(m, d, name) for m, d in panels]
    regimes = [phase.field(m, d, "regime") for m, d in panels]
    masked = []
    for v, r in zip(values, regimes):
        hide = ~np.isfinite(v)
        if name != "diverged_fraction":
            hide |= r == REGIMES.index("diverged")  # the survivors of a diverged point are not its value
        if log:
            hide |= ~(v > 0)
        masked.append(np.ma.masked_where(hide, v))
    finite = np.concatenate([m.compressed() for m in masked] or [np.array([])])
    if finite.size == 0:
        norm = Normalize(0, 1)
    elif log:
        lo, hi = finite.min(), finite.max()
        norm = LogNorm(lo, hi if hi > lo else lo * 10)
    elif name in ("diverged_fraction", "false_support_final"):
        norm = Normalize(0, 1)
    else:
        lo, hi = finite.min(), finite.max()
        norm = Normalize(lo, hi if hi > lo else lo + 1)
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("#dddddd")

    def draw(ax, method, d_index, x_edges, y_edges):
        k = panels.index((method, d_index))
        ax.set_facecolor("#dddddd")
        mesh = ax.pcolormesh(x_edges, y_edges, masked[k].T, cmap=cmap, norm=norm, edgecolors="#999999",
                             linewidth=0.3)
        div = regimes[k] == REGIMES.index("diverged")
        if name != "diverged_fraction" and div.any():
            ax.pcolor(x_edges, y_edges, np.ma.masked_where(~div, np.ones_like(div, float)).T, hatch="///",
                      facecolor="none", edgecolor="#999999", linewidth=0.0)
        return mesh

    legend = [Patch(facecolor="#dddddd", edgecolor="#999999", hatch="///", label="diverged"),
              Patch(facecolor="#dddddd", edgecolor="#999999",
                    label="ε not reached by T, or not computed" if name == "time_to_epsilon"
                    else "no value (not computed, or undefined)"),
              Patch(facecolor="none", edgecolor="black", linewidth=1.6, label="divergence boundary")]
    if name == "diverged_fraction":
        legend = legend[1:]
    return map_figure(phase, draw, panels=titled, colorbar=label, legend=legend,
                      suptitle=f"{title}\n{describe(phase)}")


def nearest(values, x):
    return int(np.argmin(np.abs(np.log(np.asarray(values, float)) - np.log(x))))


def chosen_points(phase, requests):
    if requests:
        points = []
        for text in requests:
            try:
                lr, dim, alpha = (float(v) for v in text.split(","))
            except ValueError:
                fail(f"--point: '{text}' is not LR,DIM,ALPHA")
            if min(lr, dim, alpha) <= 0:
                fail(f"--point: '{text}' has a value that is not positive")
            points.append((nearest(phase.lr, lr), nearest(phase.dim, dim), nearest(phase.alpha, alpha)))
        return points
    # Every lr (at most 6, spread evenly) at the largest d and the middle alpha: how SGD changes with γ.
    lrs = list(phase.lr_order)
    if len(lrs) > 6:
        lrs = [lrs[int(round(k))] for k in np.linspace(0, len(lrs) - 1, 6)]
    d = int(np.argmax(phase.dim)) if len(phase.dim) else 0
    a = int(phase.alpha_order[len(phase.alpha_order) // 2])
    return [(l, d, a) for l in lrs]


def risk_curves(phase, points):
    cols = min(len(points), 3)
    rows = (len(points) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(WIDTH, 0.8 + 2.1 * rows), squeeze=False, sharex=True,
                             layout="constrained")
    t = phase.time
    finite_min = []
    for k, (l, d, a) in enumerate(points):
        ax = axes[k // cols][k % cols]
        regime_text = []
        for method, colour in (("sgd", "C0"), ("sde", "C2")):
            m = phase.methods.get(method)
            if m is None:
                continue
            mean = m["excess_mean"][l, d, a]
            label = f"{method.upper()} (mean, range over replicates)" if method == "sgd" else f"{method.upper()} (mean)"
            if method == "sgd":
                ax.fill_between(t, m["excess_lo"][l, d, a], m["excess_hi"][l, d, a], color=colour, alpha=0.25,
                                linewidth=0)
            ax.plot(t, mean, color=colour, lw=1.4, label=label)
            regime_text.append(f"{method.upper()} {REGIMES[int(m['regime'][l, d, a])]}")
            fraction = m["diverged_fraction"][l, d, a]
            if fraction > 0:  # the curve is the mean of the replicates that did not diverge
                note = "all" if fraction == 1 else f"{fraction:.0%} of the"
                ax.text(0.5, 0.6 - 0.1 * (method == "sde"), f"{note} {method.upper()} replicates diverged",
                        transform=ax.transAxes, fontsize=7.5, color=colour, ha="center",
                        bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=1))
            finite_min.append(np.nanmin(np.where(mean > 0, mean, np.nan)) if np.any(mean > 0) else np.nan)
        pde = phase.methods.get("pde")
        if pde is not None:
            ax.plot(t, pde["excess_mean"][l, a], color="black", ls="--", lw=1.2, label="PDE (d → ∞)")
            regime_text.append(f"PDE {REGIMES[int(pde['regime'][l, a])]}")
        ax.axhline(phase.epsilon, color="#888888", lw=0.8, ls=":", label=f"ε = {phase.epsilon:g}")
        ax.set_yscale("log")
        ax.set_title(f"γ = {phase.lr[l]:g}, d = {phase.dim[d]}, α = {phase.alpha[a]:g}\n" + ", ".join(regime_text),
                     fontsize=8)
        if k // cols == rows - 1:
            ax.set_xlabel("time t (units of d samples)")
        if k % cols == 0:
            ax.set_ylabel(phase.risk_label())
        ax.grid(True, which="major", alpha=0.3)
    for k in range(len(points), rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    handles, _ = axes[0][0].get_legend_handles_labels()
    add_bottom_legend(fig, handles, ncol=min(len(handles), 4))
    fig.suptitle(f"Risk curves\n{describe(phase)}")
    return fig


def gap_vs_dim(phase):
    method = "sgd" if "sgd" in phase.methods else "sde"
    m = phase.methods.get(method)
    alphas = list(phase.alpha_order)
    cols = min(len(alphas), 3)
    rows = (len(alphas) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(WIDTH, 0.9 + 2.4 * rows), squeeze=False, sharey=True,
                             layout="constrained")
    dims = phase.dim.astype(float)
    x = np.geomspace(dims.min() / 1.3, dims.max() * 1.3, 50) if len(dims) else np.array([1.0])
    colours = plt.get_cmap("plasma")(np.linspace(0, 0.85, max(len(phase.lr), 1)))
    all_gaps = []
    for k, a in enumerate(alphas):
        ax = axes[k // cols][k % cols]
        shown = 0
        below_shown = []
        if m is not None and "gap_pde" in m:
            for c, l in enumerate(phase.lr_order):
                gaps = m["gap_pde"][l, :, a]
                ok = np.isfinite(gaps) & (gaps > 0)
                if not ok.any():
                    continue
                all_gaps.extend(gaps[ok])
                slope, prefactor = m["gap_exponent"][l, a], m["gap_prefactor"][l, a]
                label = f"γ = {phase.lr[l]:g}" + (f": slope {slope:+.2f}".replace("-", "−") if np.isfinite(slope) else "")
                ax.plot(dims[ok], gaps[ok], "o", color=colours[c], ms=4, label=label)
                # A gap below the PDE's own error estimate says nothing about d: hollow ring around it.
                estimate = m.get("pde_error_estimate")
                if estimate is not None and np.isfinite(estimate[l, a]):
                    below = ok & (np.abs(gaps) < estimate[l, a])
                    if below.any():
                        ax.plot(dims[below], gaps[below], "o", mfc="none", mec="black", ms=8, mew=0.8,
                                label="|gap| < PDE error estimate" if not below_shown else None)
                        below_shown.append(True)
                if np.isfinite(slope):
                    ax.plot(x, prefactor * x ** slope, "-", color=colours[c], lw=1)
                shown += 1
        if shown:
            ref = np.exp(np.mean(np.log(all_gaps[-shown:]))) if all_gaps else 1.0
            mid = np.sqrt(x[0] * x[-1])
            ax.plot(x, ref * (x / mid) ** -0.5, color="#777777", ls="--", lw=1, label="slope −1/2")
            # Below the panel, where it hides no point.
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False, fontsize=6.5,
                      handlelength=1.2, columnspacing=0.8)
        else:
            ax.text(0.5, 0.5, "no gap: no PDE, or every point\ndiverged or not computed", transform=ax.transAxes,
                    ha="center", va="center", color="#666666")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(dims)
        ax.set_xticklabels([f"{int(d)}" for d in dims])
        ax.minorticks_off() if len(dims) <= 6 else None
        ax.set_xlabel("dimension d")
        if k % cols == 0:
            ax.set_ylabel(rf"$\sup_t\, |R_{{\rm {method.upper()}}} - R_{{\rm PDE}}|\,/\,R_{{\rm PDE}}$")
        ax.set_title(f"α = {phase.alpha[a]:g}")
        ax.grid(True, which="both", alpha=0.3)
    for k in range(len(alphas), rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    fig.suptitle(f"Convergence to the d → ∞ limit\n{describe(phase)}")
    return fig


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir")
    parser.add_argument("--pdf", action="store_true")
    parser.add_argument("--point", action="append", default=[])
    args = parser.parse_args()
    path = os.path.join(args.dir, "phase.h5")
    if not os.path.isfile(path):
        fail(f"'{args.dir}' holds no phase.h5 (write it with dln aggregate)")
    phase = Phase(path)
    if not phase.methods:
        fail(f"'{path}' holds no method")

    points = chosen_points(phase, args.point)  # bad input is refused before any drawing
    figures = [("regime_map", regime_map(phase))]
    for name, title, label, log in HEATMAPS:
        if name == "gap_pde" and not any("gap_pde" in m for m in phase.methods.values()):
            continue
        figures.append((f"heatmap_{name}", heatmap(phase, name, title, label, log)))
    if "sgd" in phase.methods or "sde" in phase.methods:
        figures.append(("risk_curves", risk_curves(phase, points)))
        if "pde" in phase.methods:
            figures.append(("gap_vs_dim", gap_vs_dim(phase)))
    for name, fig in figures:
        for ext in ("png", "pdf") if args.pdf else ("png",):
            fig.savefig(os.path.join(args.dir, f"{name}.{ext}"))
        plt.close(fig)
    print(f"dln plot: {len(figures)} figures in {args.dir}: " + ", ".join(n for n, _ in figures))


if __name__ == "__main__":
    main()
