# dln aggregate and dln plot as a user runs them: the quick sweep aggregated and drawn (the PNGs
# inspected: size, and panels that are not one colour), a sweep with two extra axes (one numeric,
# one categorical) mapped over other axes, a sweep stopped halfway, a file with failed units and
# datasets this version does not know, and bad input refused with nothing written.
source "$(dirname "$0")/common.sh"
PYTHON=/usr/bin/python3  # Debian's, which has python3-matplotlib and python3-h5py

count_rows() { tail -n +2 "$1" | wc -l; }
# png_sizes DIR NAME=HEIGHT ...: every DIR/NAME.png exists and is HEIGHT x 1050 pixels (plot_phase.py:
# 1050 wide; maps 210 + 330 rows high, risk_curves 165 + 315 rows, gap_vs_dim 135 + 360 rows).
png_sizes() {
    "$PYTHON" - "$@" <<'PY'
import os, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.image as image
d, bad = sys.argv[1], []
for spec in sys.argv[2:]:
    name, height = spec.split("=")
    path = os.path.join(d, name + ".png")
    if not os.path.isfile(path):
        bad.append(f"{name}.png missing")
        continue
    shape = image.imread(path).shape[:2]
    if shape != (int(height), 1050):
        bad.append(f"{name}: {shape[1]}x{shape[0]}, expected 1050x{height}")
print("; ".join(bad) if bad else f"{len(sys.argv) - 2} PNGs of the expected size")
sys.exit(1 if bad else 0)
PY
}
# The field of the CSV row of (method, lr, dim, alpha): field 6 is the regime, 5 the replicates.
csv_field() { awk -F, -v m="$2" -v l="$3" -v d="$4" -v a="$5" -v f="$6" '$1==m && $2==l && $3==d && $4==a {print $f}' "$1"; }

# ---- the quick sweep, aggregated and plotted ----------------------------------------------------
"$MPIEXEC" -n 3 "$DLN" sweep -q --config "$SRC/sweeps/quick.ini" --output "$WORK/quick.h5" > "$WORK/sweep.log" \
    && pass "quick sweep: $(tail -1 "$WORK/sweep.log")" || fail "quick sweep: $(cat "$WORK/sweep.log")"
grep -q -- '--epsilon' <<< "$("$DLN" aggregate --help)" && pass "aggregate --help" || fail "aggregate --help"
grep -q -- '--pdf' <<< "$("$DLN" plot --help)" && pass "plot --help" || fail "plot --help"
"$DLN" aggregate "$WORK/quick.h5" --out "$WORK/quick" > "$WORK/aggregate.log" \
    && pass "aggregate: $(tr '\n' ' ' < "$WORK/aggregate.log")" || fail "aggregate: $(cat "$WORK/aggregate.log")"
csv="$WORK/quick/phase.csv"
# 6 lr x 2 d x 3 alpha SGD points and 6 x 3 PDE points.
[ "$(count_rows "$csv")" -eq 54 ] && pass "phase.csv: 54 rows" || fail "phase.csv rows: $(count_rows "$csv")"
# THEORY.md §5 at alpha = 0.1: converged at lr <= 4, collapsed at lr 6, diverged at lr 8 (d = 2000).
for lr_regime in 0.5:converged 4:converged 6:collapsed 8:diverged; do
    lr=${lr_regime%%:*}; want=${lr_regime#*:}
    got=$(csv_field "$csv" sgd "$lr" 2000 0.1 6)
    [ "$got" = "$want" ] && pass "sgd lr $lr, d 2000, alpha 0.1: $got" || fail "sgd lr $lr: '$got', not $want"
done
[ "$(csv_field "$csv" pde 6 inf 0.1 6)" = collapsed ] && pass "pde lr 6 collapsed" || fail "pde lr 6: $(csv_field "$csv" pde 6 inf 0.1 6)"
# The default output directory is OUT_phase next to OUT.h5.
"$DLN" aggregate "$WORK/quick.h5" > /dev/null && [ -s "$WORK/quick_phase/phase.h5" ] \
    && pass "default --out: quick_phase" || fail "default output directory"

"$DLN" plot "$WORK/quick" --pdf > "$WORK/plot.log" 2>&1 && pass "plot: $(cat "$WORK/plot.log")" \
    || fail "plot: $(cat "$WORK/plot.log")"
# Two d and two replicates are below the concentration figure's rule (at least 3 d, 10 replicates).
! grep -q concentration "$WORK/plot.log" && [ ! -e "$WORK/quick/concentration.png" ] \
    && pass "no concentration figure for 2 d and 2 replicates" || fail "concentration drawn for the quick sweep"
# Another band: the band variables say which (the default is 10-90%).
"$DLN" aggregate "$WORK/quick.h5" --out "$WORK/quartiles" --band 25,75 > /dev/null \
    && "$PYTHON" -c 'import h5py, sys; f = h5py.File(sys.argv[1]); a = f["sgd/excess_band_hi"].attrs
assert (f.attrs["band_lo"], f.attrs["band_hi"], a["quantile"]) == (0.25, 0.75, 0.75), dict(a)' "$WORK/quartiles/phase.h5" \
    && pass "--band 25,75: the quartiles, said in the attributes" || fail "--band 25,75"
# Every figure, at its designed size (1050 px wide; heights from plot_phase.py's layout for this
# grid: one row of map panels, 210 + 330 px, and two rows of risk curves, 165 + 2 x 315), with panels that
# show several colours: the regime map the colours of converged, collapsed and diverged, each
# heatmap at least 3 colours of its colour map outside the colour bar.
"$PYTHON" - "$WORK/quick" > "$WORK/inspect.log" 2>&1 <<'PY' && pass "PNGs: $(tr '\n' ' ' < "$WORK/inspect.log")" || fail "PNGs: $(cat "$WORK/inspect.log")"
import os, sys
import numpy as np
import matplotlib
matplotlib.use("Agg")
import matplotlib.image as image
from matplotlib import colormaps

d = sys.argv[1]
heatmaps = ["risk_final_mean", "risk_final_std", "time_to_epsilon", "tail_rate", "diverged_fraction",
            "curvature_final", "balance_final", "false_support_final", "gap_pde"]
expected = {"regime_map": (540, 1050), "risk_curves": (795, 1050), "gap_vs_dim": (495, 1050)}
expected.update({f"heatmap_{h}": (540, 1050) for h in heatmaps})
viridis = np.round(colormaps["viridis"](np.linspace(0, 1, 256))[:, :3] * 255).astype(int)
bad = []

def solid_colours(rgb, min_pixels=300):
    """Colours that fill at least min_pixels (a cell of a map is thousands): not text or lines."""
    colours, counts = np.unique(rgb.reshape(-1, 3), axis=0, return_counts=True)
    return colours[counts >= min_pixels]

for name, shape in expected.items():
    path = os.path.join(d, name + ".png")
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        bad.append(f"{name}.png missing or empty")
        continue
    pdf = os.path.join(d, name + ".pdf")
    if not os.path.isfile(pdf) or open(pdf, "rb").read(4) != b"%PDF":
        bad.append(f"{name}.pdf missing or not a PDF")
    rgb = np.round(image.imread(path)[..., :3] * 255).astype(int)
    if rgb.shape[:2] != shape:
        bad.append(f"{name}: {rgb.shape[1]}x{rgb.shape[0]}, expected {shape[1]}x{shape[0]}")
        continue
    if len(solid_colours(rgb, 1)) < 10:
        bad.append(f"{name}: nearly one colour")
    if name == "regime_map":
        have = {tuple(c) for c in solid_colours(rgb)}
        for regime, hexa in (("converged", "1a9850"), ("collapsed", "7b3294"), ("diverged", "d73027")):
            if tuple(int(hexa[k:k + 2], 16) for k in (0, 2, 4)) not in have:
                bad.append(f"regime_map: no {regime} cell")
    if name.startswith("heatmap_"):
        panels = rgb[:, : int(0.85 * shape[1])]  # left of the colour bar
        solid = solid_colours(panels)
        on_map = [c for c in solid if np.abs(viridis - c).sum(axis=1).min() <= 3]
        if len(on_map) < 3:
            bad.append(f"{name}: {len(on_map)} colours of the map in its panels")
print("\n".join(bad) if bad else f"{len(expected)} figures of the expected size, PNG and PDF, not one colour")
sys.exit(1 if bad else 0)
PY

# ---- two extra axes: a categorical one (data.spectrum) and a numeric one (data.noise), in that order
cat > "$WORK/extras.ini" <<'INI'
[data]
noise = 0, 0.2
spectrum = isotropic, powerlaw
sparsity = 0.1
[run]
time = 3
snapshots = 7
seeds = 2
methods = sgd, pde
[sweep]
lr = 0.5, 1, 2
dim = 200, 400
alpha = 0.1, 0.3
INI
"$MPIEXEC" -n 3 "$DLN" sweep -q --config "$WORK/extras.ini" --output "$WORK/extras.h5" > "$WORK/sweep-extras.log" 2>&1 \
    && pass "sweep with two extra axes: $(tail -1 "$WORK/sweep-extras.log")" || fail "extras sweep: $(cat "$WORK/sweep-extras.log")"
"$DLN" aggregate "$WORK/extras.h5" --out "$WORK/extras" > "$WORK/agg-extras.log" \
    && pass "extras aggregated: $(tr '\n' ' ' < "$WORK/agg-extras.log")" || fail "aggregate extras: $(cat "$WORK/agg-extras.log")"
ecsv="$WORK/extras/phase.csv"
# 3 lr x 2 d x 2 alpha x 2 spectra x 2 noise SGD points and 3 x 2 x 2 x 2 PDE points.
[ "$(count_rows "$ecsv")" -eq 72 ] && pass "extras phase.csv: 72 rows" || fail "extras rows: $(count_rows "$ecsv")"
head -1 "$ecsv" | grep -q '^method,lr,dim,alpha,spectrum,noise,replicates,regime,' \
    && pass "extra-axis columns after alpha, in axis order" || fail "extras header: $(head -1 "$ecsv")"
grep -q '^pde,2,inf,0.3,powerlaw,0.2,1,' "$ecsv" && grep -q '^sgd,0.5,400,0.1,isotropic,0,2,' "$ecsv" \
    && pass "categorical values by name, the PDE at dim inf" || fail "extras rows: $(grep -m2 '^pde' "$ecsv")"
# netCDF-C reads phase.h5 as it is: each group with its own coordinate variables.
if command -v ncdump > /dev/null; then
    ncdump -h "$WORK/extras/phase.h5" > "$WORK/ncdump.txt" 2>&1 && grep -q 'string spectrum(spectrum)' "$WORK/ncdump.txt" \
        && grep -q 'regime(lr, dim, alpha, spectrum, noise)' "$WORK/ncdump.txt" \
        && pass "ncdump reads phase.h5" || fail "ncdump phase.h5: $(head -c 600 "$WORK/ncdump.txt")"
fi
# Maps over (lr, noise): the free axes alpha and spectrum in rows, d and the PDE along them: 4 rows.
"$DLN" plot "$WORK/extras" --x lr --y data.noise > "$WORK/plot-extras.log" 2>&1 \
    && out=$(png_sizes "$WORK/extras" regime_map=1530 heatmap_risk_final_mean=1530 heatmap_gap_pde=1530 risk_curves=480 gap_vs_dim=495) \
    && pass "plot --x lr --y data.noise: $out" || fail "plot --x lr --y data.noise: $(cat "$WORK/plot-extras.log") $out"
# Fixed with --at (a name and a number): one row; the short name works like the key.
"$DLN" plot "$WORK/extras" --x lr --y noise --at spectrum=powerlaw --at sweep.alpha=0.3 > "$WORK/plot-at.log" 2>&1 \
    && out=$(png_sizes "$WORK/extras" regime_map=540 heatmap_tail_rate=540 risk_curves=480) \
    && pass "plot --at spectrum=powerlaw --at sweep.alpha=0.3: $out" || fail "plot --at: $(cat "$WORK/plot-at.log") $out"
# dim as a map axis: the PDE (no d) is left out; the 3 free lr in rows of one panel each.
"$DLN" plot "$WORK/extras" --x dim --y spectrum --at noise=0.2 --at alpha=0.1 --point 2,400,0.3,powerlaw,0.2 \
    > "$WORK/plot-dim.log" 2>&1 && out=$(png_sizes "$WORK/extras" regime_map=1200 risk_curves=480) \
    && pass "plot --x dim --y spectrum: $out" || fail "plot --x dim: $(cat "$WORK/plot-dim.log") $out"

# ---- a sweep stopped halfway: pending units are missing values, not errors -----------------------
# SGD only, so the units done before the stop are SGD's (the PDE's would be scheduled first).
cat > "$WORK/stopped.ini" <<'INI'
[run]
time = 6
snapshots = 13
seeds = 2
methods = sgd
[sweep]
lr = 0.5, 2, 9
dim = 4000, 8000
alpha = 0.1, 0.3
INI
# Stopped once the first unit is journaled: its lockstep batch (the 6 points at d = 8000, seed
# 0) is written, the other 18 units stay pending.
signal_at journaled:1 USR1 "$WORK/stopped.log" "$DLN" sweep -q --config "$WORK/stopped.ini" --output "$WORK/stopped.h5"
pending=$("$DLN" status "$WORK/stopped.h5" | awk '$1 == "sgd" {print $6}')
done_units=$("$DLN" status "$WORK/stopped.h5" | awk '$1 == "sgd" {print $3 + $4}')
[ $status -eq 75 ] && [ "${pending:-0}" -gt 0 ] && pass "stopped sweep: $done_units done, $pending sgd units pending" \
    || fail "stopped sweep: status $status, $("$DLN" status "$WORK/stopped.h5" 2>&1)"
"$DLN" aggregate "$WORK/stopped.h5" --out "$WORK/stopped" > "$WORK/agg-stopped.log" \
    && pass "partial file aggregated: $(tr '\n' ' ' < "$WORK/agg-stopped.log")" || fail "partial: $(cat "$WORK/agg-stopped.log")"
# Fewer replicates than the grid has somewhere: the CSV says how many each point rests on.
short=$(awk -F, 'NR > 1 && $1 == "sgd" && $5 < 2' "$WORK/stopped/phase.csv" | wc -l)
[ "$short" -gt 0 ] && [ "$(count_rows "$WORK/stopped/phase.csv")" -eq 12 ] \
    && pass "partial: $short of 12 sgd points with fewer than 2 replicates" || fail "partial: every point complete"
"$DLN" plot "$WORK/stopped" > "$WORK/plot-stopped.log" 2>&1 && [ -s "$WORK/stopped/regime_map.png" ] \
    && pass "partial file plotted" || fail "plot partial: $(cat "$WORK/plot-stopped.log")"

# ---- failed and pending units, and datasets a later sweep engine may add --------------------------
# The quick sweep's file with some units made what the sweep writes for a unit whose computation
# threw (status 3, NaN values) or that was never computed (status 0, NaN): exactly known places.
cp "$WORK/quick.h5" "$WORK/failed.h5"
"$PYTHON" - "$WORK/failed.h5" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    def unset(idx, status):
        f["sgd/status"][idx] = status
        for name in ("risk", "excess", "dist", "l1", "curvature", "gradnorm", "balance", "false_support"):
            f["sgd/" + name][idx] = np.nan
    for idx in [(0, 0, 0, 0), (1, 1, 1, 0), (1, 1, 1, 1)]:  # one replicate; both of (lr 1, d 2000, alpha 0.1)
        unset(idx, 3)
    unset((0, 1, 2, 1), 0)  # one replicate of (lr 0.5, d 2000, alpha 0.5) pending
    f["pde/status"][2, 0] = 3
    for idx in [(0, 0, 0, 0), (1, 1, 1, 0), (1, 1, 1, 1)]:  # as the sweep records a failure
        f["sgd/failures"][idx] = 1
        f["sgd/failure"][idx] = np.frombuffer(b"injected by the test".ljust(256, b"\0"), dtype="S1")
PY
"$DLN" status "$WORK/failed.h5" | grep -Eq '^sgd +72 +[0-9]+ +[0-9]+ +3 ' && pass "3 sgd units failed" || fail "failed file: $("$DLN" status "$WORK/failed.h5")"
"$DLN" aggregate "$WORK/failed.h5" --out "$WORK/failed" > "$WORK/agg-failed.log" \
    && pass "file with failed units aggregated" || fail "failed: $(cat "$WORK/agg-failed.log")"
fcsv="$WORK/failed/phase.csv"
[ "$(csv_field "$fcsv" sgd 1 2000 0.1 6)" = missing ] && [ "$(csv_field "$fcsv" sgd 1 2000 0.1 5)" = 0 ] \
    && pass "both replicates failed: missing" || fail "failed point: $(grep '^sgd,1,2000,0.1,' "$fcsv")"
[ "$(csv_field "$fcsv" sgd 0.5 500 0.01 5)" = 1 ] && [ "$(csv_field "$fcsv" sgd 0.5 500 0.01 6)" = converged ] \
    && pass "one replicate failed: the other counts" || fail "one failed: $(grep '^sgd,0.5,500,0.01,' "$fcsv")"
[ "$(csv_field "$fcsv" sgd 0.5 2000 0.5 5)" = 1 ] && [ "$(csv_field "$fcsv" sgd 0.5 2000 0.5 6)" = converged ] \
    && pass "one replicate pending: the other counts" || fail "one pending: $(grep '^sgd,0.5,2000,0.5,' "$fcsv")"
[ "$(csv_field "$fcsv" pde 2 inf 0.01 6)" = missing ] && pass "failed pde point: missing" || fail "failed pde point"
"$DLN" plot "$WORK/failed" > /dev/null 2>&1 && pass "file with failed units plotted" || fail "plot failed file"

# ---- bad input: one line, status 2, nothing written ----------------------------------------------
check_rejected() {  # what the message must contain, the directory that must not appear, then the dln arguments
    local want=$1 must_not_exist=$2; shift 2
    local status=0
    "$DLN" "$@" > "$WORK/stdout" 2> "$WORK/stderr" || status=$?
    if [ "$status" -ne 2 ]; then fail "$*: exit status $status, not 2"
    elif [ "$(wc -l < "$WORK/stderr")" -ne 1 ]; then fail "$*: not one line: $(cat "$WORK/stderr")"
    elif ! grep -qF -- "$want" "$WORK/stderr"; then fail "$*: '$want' not in: $(cat "$WORK/stderr")"
    elif [ -n "$must_not_exist" ] && [ -e "$must_not_exist" ]; then fail "$*: created $must_not_exist"
    else pass "$* -> $(cat "$WORK/stderr")"
    fi
}
check_rejected "is not a file" "$WORK/x" aggregate "$WORK/missing.h5" --out "$WORK/x"
check_rejected "not a readable HDF5 file" "$WORK/x" aggregate "$SRC/README.md" --out "$WORK/x"
check_rejected "not a dln-sweep/2 file" "$WORK/x" aggregate "$WORK/quick/phase.h5" --out "$WORK/x"
check_rejected "does not exist" "$WORK/no" aggregate "$WORK/quick.h5" --out "$WORK/no/such/dir"
check_rejected "not a directory" "" aggregate "$WORK/quick.h5" --out "$WORK/quick/phase.csv"
check_rejected "--epsilon" "$WORK/x" aggregate "$WORK/quick.h5" --out "$WORK/x" --epsilon -1
check_rejected "--epsilon" "$WORK/x" aggregate "$WORK/quick.h5" --out "$WORK/x" --epsilon 1e-3x
check_rejected "--band: '50,90' must be LO,HI in percent with 0 <= LO < 50 < HI <= 100" "$WORK/x" aggregate "$WORK/quick.h5" --out "$WORK/x" --band 50,90
check_rejected "--band: '10,90x'" "$WORK/x" aggregate "$WORK/quick.h5" --out "$WORK/x" --band 10,90x
check_rejected "--band: '10'" "$WORK/x" aggregate "$WORK/quick.h5" --out "$WORK/x" --band 10
check_rejected "no sweep file" "" aggregate
check_rejected "--bogus" "" aggregate "$WORK/quick.h5" --bogus
check_rejected "holds no phase.h5" "$WORK/empty/regime_map.png" plot "$(mkdir -p "$WORK/empty" && echo "$WORK/empty")"
check_rejected "is not a directory" "" plot "$WORK/missing"
check_rejected "--point" "" plot "$WORK/quick" --point 1,2
# A dln-sweep/1 file (dln <= 0.4.0): io's one line.
"$PYTHON" -c 'import h5py, sys; f = h5py.File(sys.argv[1], "w"); f.attrs["schema"] = "dln-sweep/1"; f.attrs["version"] = "0.4.0"' "$WORK/old.h5"
check_rejected "is a dln-sweep/1 file (written by dln 0.4.0)" "$WORK/x" aggregate "$WORK/old.h5" --out "$WORK/x"
# Axes and values that the phase file does not have; too many panels.
check_rejected "--x: 'bogus' is not an axis" "$WORK/extras/regime_map.pdf" plot "$WORK/extras" --x bogus --pdf
check_rejected "--y: 'data.exponent' is not an axis" "" plot "$WORK/extras" --y data.exponent
check_rejected "0.3 is not a value of axis noise" "" plot "$WORK/extras" --at noise=0.3
check_rejected "file is not a value of axis spectrum" "" plot "$WORK/extras" --at data.spectrum=file
check_rejected "is not KEY=VALUE" "" plot "$WORK/extras" --at noise
check_rejected "lr is an axis of the maps" "" plot "$WORK/extras" --at lr=1
check_rejected "fix some with --at" "" plot "$WORK/extras" --x alpha --y noise
finish
