#!/usr/bin/env python3
"""The figures of a phase file (DIR/phase.h5, schema dln-phase/2, written by `dln aggregate`), drawn into DIR.

    plot_phase.py DIR [--pdf] [--x AXIS] [--y AXIS] [--at KEY=VALUE ...] [--point POINT ...]

`dln plot DIR` runs this with an interpreter that has matplotlib and h5py (Debian 12:
python3-matplotlib 3.6, python3-h5py). Figures, each as PNG (and PDF with --pdf):

  regime_map          the phase diagram: the regime of every (x, y) cell, by default (lr, alpha),
                      one panel per value of every other axis (d, the extra axes) and one for the
                      d -> infinity limit (the PDE); the first figure a reader sees
  heatmap_<quantity>  one summary quantity over the same panels, with the divergence boundary (at
                      least half of the replicates diverged) drawn along cell edges
  risk_curves         risk against time at chosen points: SGD and SDE median and quantile band over
                      replicates (the mean thin), PDE
  gap_vs_dim          sup-over-time relative SGD-PDE gap against d on log-log axes, fitted slope
  concentration       one median and quantile band of the excess risk per d around the PDE, and
                      the band's width against d with its fitted slope and standard error; drawn
                      when d has at least 3 values and the point at least 10 replicates

Axes are named by their dimension name (lr, dim, alpha, noise, spectrum, ...) or their
configuration key (sweep.lr, data.noise, ...). --x and --y choose the maps' axes (any axis of the
file; with dim as one of them the PDE, which has no d, is left out). Every other axis with more
than one value gives one panel per value (at most 12 panels: fix axes with --at). --at KEY=VALUE
(repeatable) fixes an axis: a numeric axis at the grid value equal to VALUE, a categorical one at
the name VALUE; it also chooses the values risk_curves and gap_vs_dim show of the axes they do not
draw (by default the first value of each extra axis, said in their titles).

--point (repeatable) picks the points of risk_curves: LR,DIM,ALPHA[,EXTRA...] (values in axis
order, the nearest grid values; extra axes left out come from --at or their first value), or
KEY=VALUE,KEY=VALUE,... naming the axes.

Every figure has a fixed size in pixels: 1050 wide (7 in at 150 dpi: a full page width in
print), and high by its rows of panels: maps 210 + 330 rows, risk_curves 165 + 315 rows,
gap_vs_dim 135 + 360 rows, concentration 525 (one row). Bad input is one line on stderr and exit status 2, like the rest of dln.
"""
import argparse
import configparser
import itertools
import math
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
WIDTH_PX = 1050  # 7 in: a full text width in print; fonts below are sized for it
# Heights in pixels: base + per row of panels (README "The figures" states them).
MAP_HEIGHT = (210, 330)
RISK_HEIGHT = (165, 315)
GAP_HEIGHT = (135, 360)
CONC_HEIGHT = (165, 360)  # one row: 525 pixels
MAP_LEGEND_IN = 0.7   # the band under a map for its legend: up to three rows of three entries
RISK_LEGEND_IN = 0.3  # one row
MAX_PANELS = 12
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
# How an axis is written: its symbol in titles and its label on a map's axis.
SYMBOLS = {"lr": "γ", "dim": "d", "alpha": "α", "noise": "σ", "sparsity": "s", "scale": "b", "ratio": "ratio",
           "exponent": "exponent"}
AXIS_LABELS = {"lr": "learning rate γ", "dim": "dimension d", "alpha": "initialisation scale α",
               "noise": "label noise σ", "sparsity": "sparsity s", "scale": "target scale b"}
METHODS = ("sgd", "sde", "pde")


def fail(message):
    print(f"dln plot: error: {message}", file=sys.stderr)
    sys.exit(2)


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def pixels(base_and_row, rows):
    base, row = base_and_row
    return (WIDTH_PX / DPI, (base + row * rows) / DPI)


class Axis:
    """One axis of the phase file: name, configuration key, coordinates (numbers or names)."""

    def __init__(self, name, key, values):
        self.name, self.key = name, key
        self.categorical = values.dtype.kind in "OSU"
        if self.categorical:
            self.values = [text(v) for v in values]
            self.order = list(range(len(self.values)))  # as the configuration lists them
        else:
            self.values = np.asarray(values, dtype=float)
            self.order = list(np.argsort(self.values, kind="stable"))
        self.integer = not self.categorical and values.dtype.kind in "iu"

    def __len__(self):
        return len(self.values)

    def show(self, i):
        """Coordinate i as text."""
        if self.categorical:
            return self.values[i]
        v = self.values[i]
        return f"{int(v)}" if self.integer else f"{v:g}"

    def symbol(self):
        return SYMBOLS.get(self.name, self.name)

    def label(self):
        return AXIS_LABELS.get(self.name, f"{self.name} ({self.key})" if self.key else self.name)

    def equation(self, i):
        return f"{self.symbol()} = {self.show(i)}"

    def log(self):
        """A log scale for positive values unless they are evenly spaced (a linspace axis, say
        a sparsity from 0.05 to 0.5): then every cell has the same width on a linear scale."""
        if self.categorical or len(self) == 0 or not bool(np.all(self.values > 0)):
            return False
        v = np.sort(np.asarray(self.values, dtype=float))
        if len(v) > 2:
            steps = np.diff(v)
            if np.allclose(steps, steps[0], rtol=1e-6):
                return False
        return True

    def index_of(self, value, option):
        """The index of VALUE on this axis: equal (relative 1e-9) for numbers, the name for names."""
        if self.categorical:
            if value in self.values:
                return self.values.index(value)
        else:
            try:
                x = float(value)
            except ValueError:
                fail(f"{option}: '{value}' is not a number (axis {self.name} is numeric)")
            hits = np.nonzero(np.isclose(self.values, x, rtol=1e-9, atol=0))[0]
            if len(hits):
                return int(hits[0])
        fail(f"{option}: {value} is not a value of axis {self.name} ({', '.join(self.show(i) for i in self.order)})")

    def nearest(self, value, option):
        """The index of the grid value nearest to VALUE (in log for a positive axis); names exactly."""
        if self.categorical:
            return self.index_of(value, option)
        try:
            x = float(value)
        except ValueError:
            fail(f"{option}: '{value}' is not a number (axis {self.name} is numeric)")
        if self.log():
            if x <= 0:
                fail(f"{option}: {self.name} = {value} is not positive")
            return int(np.argmin(np.abs(np.log(self.values) - np.log(x))))
        return int(np.argmin(np.abs(self.values - x)))

    def geometry(self):
        """Cell edges and centres on the plotting scale, in plotting order (sorted numbers)."""
        n = len(self)
        if self.categorical:
            return np.arange(n + 1) - 0.5, np.arange(n, dtype=float)
        v = self.values[self.order]
        if self.log():
            if n == 1:
                return np.array([v[0] / 1.5, v[0] * 1.5]), v
            mid = np.sqrt(v[1:] * v[:-1])
            return np.concatenate([[v[0] ** 2 / mid[0]], mid, [v[-1] ** 2 / mid[-1]]]), v
        if n == 1:
            half = abs(v[0]) * 0.5 or 0.5
            return np.array([v[0] - half, v[0] + half]), v
        mid = 0.5 * (v[1:] + v[:-1])
        return np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]]), v


class Method:
    def __init__(self, name, group):
        self.name = name
        self.vars = {}  # variable name -> (array, dimension names)
        for key, ds in group.items():
            if not isinstance(ds, h5py.Dataset):
                continue
            dims = []
            for k in range(ds.ndim):
                label = ds.dims[k].label
                if not label and len(ds.dims[k]):
                    label = ds.dims[k][0].name.rsplit("/", 1)[-1]
                dims.append(label)
            self.vars[key] = (ds[()], dims)
        if "regime" not in self.vars:
            fail(f"group /{name} of the phase file has no regime")
        self.axes = []
        for d in self.vars["regime"][1]:
            if d not in group:
                fail(f"group /{name} has no coordinate variable {d}")
            self.axes.append(Axis(d, text(group[d].attrs.get("dln_key", "")), group[d][()]))
        self.axis_names = [a.name for a in self.axes]
        self.time = group["time"][()] if "time" in group else np.array([])

    def has(self, *names):
        return all(n in self.axis_names for n in names)


class Phase:
    """What the figures need from phase.h5."""

    def __init__(self, path):
        self.path = path
        try:
            f = h5py.File(path, "r")
        except OSError as e:
            fail(f"cannot read '{path}': {e}")
        with f:
            schema = text(f.attrs.get("schema", ""))
            if schema != "dln-phase/2":
                fail(f"'{path}' is not a dln-phase/2 file (schema '{schema}'): aggregate its sweep with this dln")
            self.epsilon = float(f.attrs["epsilon"])
            # The quantile band (fractions); absent in the phase files of dln <= 0.5.0.
            self.band = (float(f.attrs["band_lo"]), float(f.attrs["band_hi"])) if "band_lo" in f.attrs else None
            self.config = configparser.ConfigParser()
            self.config.read_string(text(f.attrs.get("config", "")))
            self.methods = {name: Method(name, f[name]) for name in METHODS if name in f}
        if not self.methods:
            fail(f"'{path}' holds no method")
        # Every axis of any method once, in axis order (lr, dim, alpha, extras...).
        self.axes = []
        for m in self.methods.values():
            after = 0
            for a in m.axes:
                names = [b.name for b in self.axes]
                if a.name in names:
                    after = names.index(a.name) + 1
                else:
                    self.axes.insert(after, a)
                    after += 1
        self.by_name = {a.name: a for a in self.axes}
        first = next(iter(self.methods.values()))
        self.time = first.time
        self.noise = float(self.config.get("data", "noise", fallback="0").split(",")[0])
        self.T = float(self.time[-1]) if len(self.time) else 0.0
        # The extra axes: those after lr, dim and alpha.
        self.extras = [a for a in self.axes if a.name not in ("lr", "dim", "alpha")]

    def axis(self, name_or_key, option):
        for a in self.axes:
            if name_or_key in (a.name, a.key):
                return a
        known = ", ".join(a.name + (f" ({a.key})" if a.key and a.key != a.name else "") for a in self.axes)
        fail(f"{option}: '{name_or_key}' is not an axis of {self.path} (its axes: {known})")

    def select(self, method, var, fixed, keep):
        """Variable var of method with the axes `keep` (names; "time" too) kept in that order and
        sorted, every other axis at its index in `fixed`; None if the method lacks var or a kept axis."""
        entry = self.methods[method].vars.get(var)
        if entry is None:
            return None
        data, dims = entry
        if any(k not in dims for k in keep):
            return None
        index = []
        for d in dims:
            if d in keep:
                index.append(slice(None))
            elif d in fixed:
                index.append(fixed[d])
            else:
                raise KeyError(f"{var}: no value chosen for axis {d}")
        out = np.asarray(data[tuple(index)])
        kept = [d for d in dims if d in keep]
        out = np.transpose(out, [kept.index(k) for k in keep])
        for pos, k in enumerate(keep):
            if k in self.by_name:
                out = np.take(out, self.by_name[k].order, axis=pos)
        return out.astype(float)

    def band_text(self):
        lo, hi = self.band if self.band else (float("nan"), float("nan"))
        return f"{100 * lo:g}–{100 * hi:g}%"

    def risk_label(self):
        noisy = self.noise != 0 or ("noise" in self.by_name and np.any(self.by_name["noise"].values != 0))
        return "excess risk R(t) − σ²/2" if noisy else "risk R(t)"

    def describe(self):
        """The configuration in a line, leaving out the keys that are axes (the panels say those)."""
        keys = {a.key for a in self.axes}
        c = self.config
        get = lambda s, k: c.get(s, k, fallback="?")  # noqa: E731
        parts = []
        for key, part in (("model.parametrization", lambda: get("model", "parametrization")),
                          ("data.spectrum", lambda: f"{get('data', 'spectrum')} data"),
                          ("data.sparsity", lambda: f"s = {get('data', 'sparsity')}"),
                          ("data.noise", lambda: f"σ = {get('data', 'noise')}"),
                          ("run.time", lambda: f"T = {get('run', 'time')}"),
                          ("run.seeds", lambda: f"{get('run', 'seeds')} replicates")):
            if key not in keys:
                parts.append(part())
        return ", ".join(parts)


def parse_at(phase, requests):
    """--at KEY=VALUE ... -> {axis name: index}."""
    fixed = {}
    for request in requests:
        key, sep, value = request.partition("=")
        if not sep or not key or not value:
            fail(f"--at: '{request}' is not KEY=VALUE")
        a = phase.axis(key, "--at")
        if a.name in fixed:
            fail(f"--at: axis {a.name} fixed twice")
        fixed[a.name] = a.index_of(value, f"--at {request}")
    return fixed


def default_fixed(phase, at):
    """Every extra axis at its --at value, else its first value (in the configuration's order)."""
    fixed = {a.name: 0 for a in phase.extras}
    fixed.update(at)
    return fixed


def fixed_note(phase, at, skip=()):
    """How the axes a figure does not draw were chosen, for its title."""
    chosen = [f"{a.equation(at[a.name])}" for a in phase.extras if a.name in at and a.name not in skip]
    first = [f"{a.equation(0)}" for a in phase.extras if a.name not in at and a.name not in skip]
    out = []
    if chosen:
        out.append("at " + ", ".join(chosen))
    if first:
        out.append(("at " if not chosen else "") + ", ".join(first) + " (first values; choose with --at)")
    return "; ".join(out)


class Panel:
    def __init__(self, method, fixed, title, row):
        self.method, self.fixed, self.title, self.row = method, fixed, title, row


class MapSpec:
    """The maps' axes (--x, --y) and fixed values (--at), and the panels they make."""

    def __init__(self, phase, x, y, at):
        self.phase = phase
        self.x = phase.axis(x, "--x")
        self.y = phase.axis(y, "--y")
        if self.x.name == self.y.name:
            fail(f"--x and --y are both {self.x.name}")
        for name in at:
            if name in (self.x.name, self.y.name):
                fail(f"--at {name}: {name} is an axis of the maps (--x {self.x.name} --y {self.y.name}); fix another")
        self.at = at
        drawn = [m for m in phase.methods.values() if m.has(self.x.name, self.y.name)]
        if not drawn:
            fail(f"no method has both axes {self.x.name} and {self.y.name}")
        free = [a for a in phase.axes if a.name not in (self.x.name, self.y.name) and a.name not in at]
        # Axes every drawn method has vary by row; a method's own (SGD's d) along the row, where a
        # method without it (the PDE) is its limit, "d → ∞".
        shared = [a for a in free if all(m.has(a.name) for m in drawn)]
        self.panels = []
        for row, combo in enumerate(itertools.product(*[a.order for a in shared])):
            common = dict(zip([a.name for a in shared], combo))
            second = ", ".join(a.equation(i) for a, i in zip(shared, combo))
            for m in drawn:
                own = [a for a in free if a not in shared and m.has(a.name)]
                lacks = [a for a in phase.axes if not m.has(a.name) and a.name not in (self.x.name, self.y.name)]
                for own_combo in itertools.product(*[a.order for a in own]):
                    fixed = dict(at)
                    fixed.update(common)
                    fixed.update(zip([a.name for a in own], own_combo))
                    first = ", ".join([m.name.upper()] + [a.equation(i) for a, i in zip(own, own_combo)]
                                      + [f"{a.symbol()} → ∞" for a in lacks])
                    self.panels.append(Panel(m.name, fixed, first + (f"\n{second}" if second else ""), row))
        if len(self.panels) > MAX_PANELS:
            counts = ", ".join(f"{a.name} ({len(a)})" for a in free if len(a) > 1)
            fail(f"the maps would have {len(self.panels)} panels (more than {MAX_PANELS}: axes {counts}); "
                 f"fix some with --at KEY=VALUE")

    def note(self):
        chosen = [self.phase.by_name[n].equation(i) for n, i in self.at.items()]
        return ("at " + ", ".join(chosen)) if chosen else ""

    def field(self, panel, var):
        """A [x, y] array of var in a panel, or None if its method lacks it (or one of the axes)."""
        return self.phase.select(panel.method, var, panel.fixed, [self.x.name, self.y.name])


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


def setup_axis(ax, axis, which, edges_, centres):
    set_scale, set_lim, set_ticks, set_labels = (
        (ax.set_xscale, ax.set_xlim, ax.set_xticks, ax.set_xticklabels) if which == "x"
        else (ax.set_yscale, ax.set_ylim, ax.set_yticks, ax.set_yticklabels))
    set_scale("log" if axis.log() else "linear")
    set_lim(edges_[0], edges_[-1])
    set_ticks(centres)
    # Three significant digits: a logspace axis's 0.158489 is read as 0.158.
    set_labels([axis.values[i] if axis.categorical else (f"{int(axis.values[i])}" if axis.integer
                                                       else f"{axis.values[i]:.3g}") for i in axis.order])


def setup_map_axes(ax, spec, x_geo, y_geo, title, first_column, last_row):
    setup_axis(ax, spec.x, "x", *x_geo)
    setup_axis(ax, spec.y, "y", *y_geo)
    ax.minorticks_off()
    if last_row:
        ax.set_xlabel(spec.x.label())
    if first_column:
        ax.set_ylabel(spec.y.label())
    ax.set_title(title, fontsize=8)


def reserve_legend(fig, handles, ncol, band):
    """A legend in a band of `band` inches below the panels (matplotlib 3.6 has no loc="outside ...")."""
    height = fig.get_size_inches()[1]
    fig.get_layout_engine().set(rect=(0, band / height, 1, 1 - band / height))
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=ncol, frameon=False)


def layout(panels):
    """Grid places of the panels: each row value starts a grid row; at most 4 columns."""
    groups = []
    for p in panels:
        if not groups or groups[-1][0] != p.row:
            groups.append((p.row, []))
        groups[-1][1].append(p)
    cols = min(max(len(g) for _, g in groups), 4)
    places, r = [], 0
    for _, g in groups:
        for k, p in enumerate(g):
            places.append((r + k // cols, k % cols))
        r += (len(g) + cols - 1) // cols
    return places, r, cols


def map_figure(spec, draw, panels=None, colorbar=None, legend=None, suptitle=None):
    """Panels over (x, y), one per Panel; draw(ax, panel, x_edges, y_edges, x_centres, y_centres)."""
    panels = panels if panels is not None else spec.panels
    places, rows, cols = layout(panels)
    fig, axes = plt.subplots(rows, cols, figsize=pixels(MAP_HEIGHT, rows), squeeze=False, sharex=True, sharey=True,
                             layout="constrained")
    x_geo, y_geo = spec.x.geometry(), spec.y.geometry()
    used = set()
    mappable = None
    for panel, (r, c) in zip(panels, places):
        ax = axes[r][c]
        used.add((r, c))
        mappable = draw(ax, panel, x_geo[0], y_geo[0], x_geo[1], y_geo[1]) or mappable
        diverged = spec.field(panel, "diverged_fraction")
        if diverged is not None:
            segments = boundary_segments(diverged, x_geo[0], y_geo[0])
            if segments:
                ax.add_collection(LineCollection(segments, colors=BOUNDARY["colors"], linewidths=BOUNDARY["linewidths"]))
        setup_map_axes(ax, spec, x_geo, y_geo, panel.title, c == 0, r == rows - 1 or (r + 1, c) not in places)
    for r in range(rows):
        for c in range(cols):
            if (r, c) not in used:
                axes[r][c].set_visible(False)
    if colorbar and mappable is not None:
        bar = fig.colorbar(mappable, ax=axes.ravel().tolist(), shrink=0.9, pad=0.02)
        bar.set_label(colorbar)
    reserve_legend(fig, legend or [], ncol=min(max(len(legend or []), 1), 3), band=MAP_LEGEND_IN)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def map_title(spec, title):
    note = spec.note()
    return f"{title}{' ' + note if note else ''}\n{spec.phase.describe()}"


def regime_map(spec):
    phase = spec.phase
    cmap = ListedColormap(REGIME_COLOURS)
    norm = BoundaryNorm(np.arange(-0.5, len(REGIMES) + 0.5), cmap.N)
    present = set()
    no_convergence = []

    def draw(ax, panel, x_edges, y_edges, x_centres, y_centres):
        regime = spec.field(panel, "regime")
        present.update(int(v) for v in np.unique(regime))
        ax.pcolormesh(x_edges, y_edges, regime.T, cmap=cmap, norm=norm, edgecolors="#999999", linewidth=0.3)
        # Where the PDE's linearisation at T predicts no convergence (rate rho <= 0, THEORY.md §5).
        rate = spec.field(panel, "predicted_rate")
        if rate is not None:
            i, j = np.nonzero(rate <= 0)
            if len(i):
                no_convergence.append(len(i))
                ax.plot(x_centres[i], y_centres[j], **NO_CONVERGENCE)
        return None

    # The legend lists the regimes that occur, known once drawn: made first, filled in after.
    fig = map_figure(spec, draw, legend=[], suptitle=map_title(spec, f"Regimes (ε = {phase.epsilon:g})"))
    legend = [Patch(facecolor=REGIME_COLOURS[k], edgecolor="#999999", label=REGIME_MEANING[REGIMES[k]])
              for k in range(len(REGIMES)) if k in present]
    legend.append(Patch(facecolor="none", edgecolor="black", linewidth=1.6, label="divergence boundary"))
    if no_convergence:
        legend.append(Line2D([], [], label="predicted rate ρ ≤ 0 (no convergence)", **NO_CONVERGENCE))
    for old in fig.legends:
        old.remove()
    fig.legend(handles=legend, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=min(len(legend), 3),
               frameon=False)
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


def heatmap(spec, name, title, label, log):
    # Only the panels that have the quantity: the PDE has no gap to itself.
    panels = [p for p in spec.panels if spec.field(p, name) is not None]
    if not panels:
        return None
    values = [spec.field(p, name) for p in panels]
    regimes = [spec.field(p, "regime") for p in panels]
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

    def draw(ax, panel, x_edges, y_edges, x_centres, y_centres):
        k = panels.index(panel)
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
    return map_figure(spec, draw, panels=panels, colorbar=label, legend=legend, suptitle=map_title(spec, title))



def finite_methods(phase):
    """The methods with replicates at finite d (every axis of the file): sgd, sde."""
    return [m for m in phase.methods.values() if len(m.axes) == len(phase.axes)]


def chosen_points(phase, requests, at):
    """The points of risk_curves ({axis name: index} for every axis of the file), and the names
    of the extra axes the requests gave."""
    defaults = default_fixed(phase, at)
    explicit = set()
    if requests:
        order = [a for a in phase.axes]
        points = []
        for request in requests:
            point = dict(defaults)
            parts = request.split(",")
            if "=" in request:
                for part in parts:
                    key, sep, value = part.partition("=")
                    if not sep:
                        fail(f"--point: '{request}' mixes KEY=VALUE and plain values")
                    a = phase.axis(key, "--point")
                    point[a.name] = a.nearest(value, f"--point {request}")
                    explicit.add(a.name)
                missing = [a.name for a in phase.axes if a.name not in point]
                if missing:
                    fail(f"--point: '{request}' gives no {', '.join(missing)}")
            else:
                if len(parts) < 3 or len(parts) > len(order):
                    names = ",".join(a.name.upper() for a in order[:3])
                    extra = "".join(f"[,{a.name.upper()}]" for a in order[3:])
                    fail(f"--point: '{request}' is not {names}{extra} (or KEY=VALUE,...)")
                for a, value in zip(order, parts):
                    point[a.name] = a.nearest(value, f"--point {request}")
                    explicit.add(a.name)
            points.append(point)
        return points, explicit
    # Every lr (at most 6, spread evenly) at the largest d and the middle alpha: how SGD changes with γ.
    lr, dim, alpha = (phase.by_name.get(n) for n in ("lr", "dim", "alpha"))
    lrs = list(lr.order)
    if "lr" in at:
        lrs = [at["lr"]]
    if len(lrs) > 6:
        lrs = [lrs[int(round(k))] for k in np.linspace(0, len(lrs) - 1, 6)]
    base = dict(defaults)
    if dim is not None:
        base["dim"] = at.get("dim", dim.order[-1])
    if alpha is not None:
        base["alpha"] = at.get("alpha", alpha.order[len(alpha.order) // 2])
    return [dict(base, lr=l) for l in lrs], explicit


def risk_curves(phase, points, explicit, at):
    cols = min(len(points), 3)
    rows = (len(points) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=pixels(RISK_HEIGHT, rows), squeeze=False, sharex=True,
                             layout="constrained")
    t = phase.time
    # Extra axes that differ between the points go into the panel titles; the others into the figure's.
    varying = [a for a in phase.extras if len({p[a.name] for p in points}) > 1]
    for k, point in enumerate(points):
        ax = axes[k // cols][k % cols]
        regime_text = []
        for method, colour in (("sgd", "C0"), ("sde", "C2")):
            if method not in phase.methods:
                continue
            mean = phase.select(method, "excess_mean", point, ["time"])
            median = phase.select(method, "excess_median", point, ["time"])
            if median is not None:
                # The field's convention: median and a quantile band over replicates; the mean thin.
                band = phase.band_text()
                ax.fill_between(t, phase.select(method, "excess_band_lo", point, ["time"]),
                                phase.select(method, "excess_band_hi", point, ["time"]), color=colour,
                                alpha=0.25 if method == "sgd" else 0.15, linewidth=0)
                ax.plot(t, median, color=colour, lw=1.4, label=f"{method.upper()} (median, {band} band)")
                ax.plot(t, mean, color=colour, lw=0.7, ls=(0, (4, 2)), label=f"{method.upper()} (mean)")
            else:  # a phase file of an older dln: mean and range
                label = f"{method.upper()} (mean, range over replicates)" if method == "sgd" else f"{method.upper()} (mean)"
                if method == "sgd":
                    ax.fill_between(t, phase.select(method, "excess_lo", point, ["time"]),
                                    phase.select(method, "excess_hi", point, ["time"]), color=colour, alpha=0.25,
                                    linewidth=0)
                ax.plot(t, mean, color=colour, lw=1.4, label=label)
            regime_text.append(f"{method.upper()} {REGIMES[int(phase.select(method, 'regime', point, []))]}")
            fraction = phase.select(method, "diverged_fraction", point, [])
            if fraction > 0:  # the curve is the mean of the replicates that did not diverge
                note = "all" if fraction == 1 else f"{float(fraction):.0%} of the"
                ax.text(0.5, 0.6 - 0.1 * (method == "sde"), f"{note} {method.upper()} replicates diverged",
                        transform=ax.transAxes, fontsize=7.5, color=colour, ha="center",
                        bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=1))
        if "pde" in phase.methods:
            ax.plot(t, phase.select("pde", "excess_mean", point, ["time"]), color="black", ls="--", lw=1.2,
                    label="PDE (d → ∞)")
            regime_text.append(f"PDE {REGIMES[int(phase.select('pde', 'regime', point, []))]}")
        ax.axhline(phase.epsilon, color="#888888", lw=0.8, ls=":", label=f"ε = {phase.epsilon:g}")
        ax.set_yscale("log")
        where = [phase.by_name[n].equation(point[n]) for n in ("lr", "dim", "alpha") if n in phase.by_name]
        where += [a.equation(point[a.name]) for a in varying]
        ax.set_title(", ".join(where) + "\n" + ", ".join(regime_text), fontsize=8)
        if k // cols == rows - 1 or k + cols >= len(points):
            ax.set_xlabel("time t (units of d samples)")
        if k % cols == 0:
            ax.set_ylabel(phase.risk_label())
        ax.grid(True, which="major", alpha=0.3)
    for k in range(len(points), rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    handles, _ = axes[0][0].get_legend_handles_labels()
    reserve_legend(fig, handles, ncol=min(len(handles), 6), band=RISK_LEGEND_IN)
    common = [a for a in phase.extras if a not in varying]
    note = ""
    if common:
        note = "at " + ", ".join(a.equation(points[0][a.name]) for a in common)
        if any(a.name not in at and a.name not in explicit for a in common):
            note += " (first values; choose with --at)"
    fig.suptitle("Risk curves" + (f" {note}" if note else "") + f"\n{phase.describe()}")
    return fig


def gap_vs_dim(phase, at):
    finite = finite_methods(phase)
    method = "sgd" if "sgd" in phase.methods else finite[0].name
    m = phase.methods[method]
    limit = [a for a in m.axes if not phase.methods["pde"].has(a.name)]  # the axis the PDE is the limit of: d
    if len(limit) != 1 or "gap_pde" not in m.vars:
        return None
    along = limit[0]
    lr, alpha = phase.by_name["lr"], phase.by_name["alpha"]
    alphas = [at["alpha"]] if "alpha" in at else list(alpha.order)
    lrs = [at["lr"]] if "lr" in at else list(lr.order)
    fixed = default_fixed(phase, {k: v for k, v in at.items() if k not in ("lr", "alpha", along.name)})
    cols = min(len(alphas), 3)
    rows = (len(alphas) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=pixels(GAP_HEIGHT, rows), squeeze=False, sharey=True,
                             layout="constrained")
    dims = along.values[along.order].astype(float)
    x = np.geomspace(dims.min() / 1.3, dims.max() * 1.3, 50) if len(dims) else np.array([1.0])
    colours = plt.get_cmap("plasma")(np.linspace(0, 0.85, max(len(lrs), 1)))
    all_gaps = []
    for k, a in enumerate(alphas):
        ax = axes[k // cols][k % cols]
        shown = 0
        below_shown = []
        for c, l in enumerate(lrs):
            point = dict(fixed, lr=l, alpha=a)
            gaps = phase.select(method, "gap_pde", point, [along.name])
            ok = np.isfinite(gaps) & (gaps > 0)
            if not ok.any():
                continue
            all_gaps.extend(gaps[ok])
            slope = phase.select(method, "gap_exponent", point, [])
            prefactor = phase.select(method, "gap_prefactor", point, [])
            label = f"γ = {lr.show(l)}" + (f": slope {float(slope):+.2f}".replace("-", "−") if np.isfinite(slope) else "")
            ax.plot(dims[ok], gaps[ok], "o", color=colours[c], ms=4, label=label)
            # A gap below the PDE's own error estimate says nothing about d: hollow ring around it.
            estimate = phase.select(method, "pde_error_estimate", point, [])
            if estimate is not None and np.isfinite(estimate):
                below = ok & (np.abs(gaps) < estimate)
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
        ax.set_xlabel(along.label())
        if k % cols == 0:
            ax.set_ylabel(rf"$\sup_t\, |R_{{\rm {method.upper()}}} - R_{{\rm PDE}}|\,/\,R_{{\rm PDE}}$")
        ax.set_title(alpha.equation(a))
        ax.grid(True, which="both", alpha=0.3)
    for k in range(len(alphas), rows * cols):
        axes[k // cols][k % cols].set_visible(False)
    note = fixed_note(phase, {k: v for k, v in at.items() if k not in ("lr", "alpha", along.name)})
    fig.suptitle("Convergence to the d → ∞ limit" + (f" {note}" if note else "") + f"\n{phase.describe()}")
    return fig


# When concentration.png is drawn: the axis the PDE is the limit of (d) has at least this many
# values (a slope through two points has no uncertainty), and the chosen point has at least this
# many replicates at some d (with fewer, a 10% quantile is an interpolation between the two
# smallest values, and the band's width is mostly the noise of its estimate).
CONCENTRATION_MIN_DIMS = 3
CONCENTRATION_MIN_REPLICATES = 10


def concentration(phase, at):
    """One median and quantile band of the excess risk per d, the PDE inside them, and the band's
    time-averaged relative width against d with its fitted power law; None where the rule above
    does not hold."""
    finite = finite_methods(phase)
    if not finite or "pde" not in phase.methods or phase.band is None:
        return None
    method = "sgd" if "sgd" in phase.methods else finite[0].name
    m = phase.methods[method]
    limit = [a for a in m.axes if not phase.methods["pde"].has(a.name)]
    if len(limit) != 1 or len(limit[0]) < CONCENTRATION_MIN_DIMS or "band_width" not in m.vars:
        return None
    along = limit[0]
    # Every other axis at its --at value, else its first value (in the configuration's order).
    point = {a.name: 0 for a in phase.axes if a.name != along.name}
    point.update({k: v for k, v in at.items() if k != along.name})
    replicates = phase.select(method, "replicates", point, [along.name])
    if replicates is None or np.nanmax(replicates) < CONCENTRATION_MIN_REPLICATES:
        return None
    dims = along.values[along.order].astype(float)
    t = phase.time
    fig, (left, right) = plt.subplots(1, 2, figsize=pixels(CONC_HEIGHT, 1), layout="constrained",
                                      gridspec_kw=dict(width_ratios=[3, 2]))
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(dims)))
    median = phase.select(method, "excess_median", point, [along.name, "time"])
    lo = phase.select(method, "excess_band_lo", point, [along.name, "time"])
    hi = phase.select(method, "excess_band_hi", point, [along.name, "time"])
    band = phase.band_text()
    for k, d in enumerate(dims):  # the widest band (smallest d) first, underneath
        left.fill_between(t, lo[k], hi[k], color=colours[k], alpha=0.3, linewidth=0)
        left.plot(t, median[k], color=colours[k], lw=1.1,
                  label=f"d = {int(d)} ({int(replicates[k])} replicates)")
    pde_point = {a.name: point[a.name] for a in phase.methods["pde"].axes}
    left.plot(t, phase.select("pde", "excess_mean", pde_point, ["time"]), color="black", ls="--", lw=1.2,
              label="PDE (d → ∞)")
    left.set_yscale("log")
    left.set_xlabel("time t (units of d samples)")
    left.set_ylabel(phase.risk_label())
    left.set_title(f"{method.upper()}: median and {band} band over replicates", fontsize=8.5)
    left.grid(True, which="major", alpha=0.3)
    left.legend(fontsize=6.5, frameon=False, loc="lower left")

    width = phase.select(method, "band_width", point, [along.name])
    slope = phase.select(method, "band_width_exponent", point, [])
    se = phase.select(method, "band_width_exponent_se", point, [])
    prefactor = phase.select(method, "band_width_prefactor", point, [])
    ok = np.isfinite(width) & (width > 0)
    right.plot(dims[ok], width[ok], "o", color="C3", ms=5, label="band width")
    x = np.geomspace(dims.min() / 1.5, dims.max() * 1.5, 50)
    if np.isfinite(slope):
        number = f"{float(slope):+.3f}".replace("-", "−") + (f" ± {float(se):.3f} (s.e.)" if np.isfinite(se) else "")
        right.plot(x, prefactor * x ** slope, "-", color="C3", lw=1, label=f"fit: slope {number}")
    if ok.any():
        ref = np.exp(np.mean(np.log(width[ok])))
        mid = np.exp(np.mean(np.log(dims[ok])))
        right.plot(x, ref * (x / mid) ** -0.5, color="#777777", ls="--", lw=1, label="slope −1/2 (theory)")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xticks(dims)
    right.set_xticklabels([f"{int(d)}" for d in dims])
    right.minorticks_off()
    right.set_xlabel(along.label())
    right.set_ylabel(f"mean over t of ({band} width) / median")
    right.set_title("Band width against d", fontsize=8.5)
    right.grid(True, which="major", alpha=0.3)
    right.legend(fontsize=6.5, frameon=False, loc="upper right")  # the points fall from upper left
    where = ", ".join(a.equation(point[a.name]) for a in phase.axes if a.name != along.name)
    first = [a for a in phase.axes if a.name != along.name and a.name not in at and len(a) > 1]
    note = " (first values; choose with --at)" if first else ""
    fig.suptitle(f"Concentration onto the d → ∞ limit at {where}{note}\n{phase.describe()}")
    return fig


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir")
    parser.add_argument("--pdf", action="store_true")
    parser.add_argument("--x", default="lr")
    parser.add_argument("--y", default="alpha")
    parser.add_argument("--at", action="append", default=[])
    parser.add_argument("--point", action="append", default=[])
    args = parser.parse_args()
    path = os.path.join(args.dir, "phase.h5")
    if not os.path.isfile(path):
        fail(f"'{args.dir}' holds no phase.h5 (write it with dln aggregate)")
    try:
        phase = Phase(path)
    except Exception as e:  # noqa: BLE001 -- h5py raises many kinds (RuntimeError, KeyError, OSError...)
        # A damaged file that h5py could open: one line, not a traceback (dln plot probes the
        # file first for damage that crashes HDF5 itself). fail() exits through SystemExit.
        fail(f"'{path}' is damaged ({type(e).__name__}: {e})")

    # Bad input is refused before any drawing.
    at = parse_at(phase, args.at)
    spec = MapSpec(phase, args.x, args.y, at)
    finite = finite_methods(phase)
    points, explicit = chosen_points(phase, args.point, at) if finite else ([], set())
    figures = [("regime_map", regime_map(spec))]
    for name, title, label, log in HEATMAPS:
        fig = heatmap(spec, name, title, label, log)
        if fig is not None:
            figures.append((f"heatmap_{name}", fig))
    if finite:
        figures.append(("risk_curves", risk_curves(phase, points, explicit, at)))
        if "pde" in phase.methods:
            fig = gap_vs_dim(phase, at)
            if fig is not None:
                figures.append(("gap_vs_dim", fig))
            fig = concentration(phase, at)
            if fig is not None:
                figures.append(("concentration", fig))
    for name, fig in figures:
        for ext in ("png", "pdf") if args.pdf else ("png",):
            fig.savefig(os.path.join(args.dir, f"{name}.{ext}"))
        plt.close(fig)
    print(f"dln plot: {len(figures)} figures in {args.dir}: " + ", ".join(n for n, _ in figures))


if __name__ == "__main__":
    main()
