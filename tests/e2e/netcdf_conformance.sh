# Every kind of file dln writes (a sweep, a shard, a merged sweep, phase.h5) opens as it is in
# xarray with both netCDF engines (h5netcdf and netCDF-C's netcdf4) and in ncdump -h, with named
# dimensions, their coordinate values, and h5py's dimension labels (tests/e2e/netcdf_check.py);
# values read by coordinate in xarray are those `dln run` computes at that point. And common
# random numbers across an extra axis: every noise level sees the same target and samples.
source "$(dirname "$0")/common.sh"
PY=/usr/bin/python3

cat > "$WORK/sweep.ini" <<'INI'
[model]
parametrization = u2v2, uv
[data]
noise = 0, 0.2
[run]
time = 1
snapshots = 5
seeds = 2
methods = sgd, pde
[sweep]
lr = 0.5, 1
dim = 60, 90
alpha = 0.1
INI
"$MPIEXEC" -n 3 "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/sweep.h5" > "$WORK/sweep.log" \
    && pass "sweep: $(tail -1 "$WORK/sweep.log")" || fail "sweep: $(cat "$WORK/sweep.log")"
for k in 1 2; do
    "$MPIEXEC" -n 2 "$DLN" sweep -q --config "$WORK/sweep.ini" --shard $k/2 --output "$WORK/shard-$k.h5" > /dev/null \
        || fail "shard $k"
done
"$DLN" merge "$WORK/merged.h5" "$WORK/shard-1.h5" "$WORK/shard-2.h5" > /dev/null || fail "merge"
"$DLN" aggregate "$WORK/sweep.h5" --out "$WORK/phase" > /dev/null || fail "aggregate"

# What dln run computes at one point: the expected values, to 12 significant digits (the CSV's
# precision, so a relative tolerance of 1e-11 covers its rounding).
point=(--lr 1 --dim 90 --alpha 0.1 --model.parametrization uv --data.noise 0.2 --run.time 1 --run.snapshots 5
       --run.seeds 2)
"$DLN" run "${point[@]}" --method sgd,pde > "$WORK/point.csv" 2> /dev/null || fail "dln run at the point"
sgd_risk=$(awk -F, '$1 == "sgd" && $2 == 1 && $3 == 1 {print $4}' "$WORK/point.csv")
pde_risk=$(awk -F, '$1 == "pde" && $3 == 1 {print $4}' "$WORK/point.csv")
[ -n "$sgd_risk" ] && [ -n "$pde_risk" ] && pass "dln run: sgd R(1) = $sgd_risk (seed 1), pde R(1) = $pde_risk" \
    || fail "dln run gave no values: $(head -3 "$WORK/point.csv")"

cat > "$WORK/sweep.json" <<JSON
{"groups": {"sgd": ["lr", "dim", "alpha", "parametrization", "noise", "seed", "time"],
            "pde": ["lr", "alpha", "parametrization", "noise", "time"]},
 "coords": {"lr": [0.5, 1], "dim": [60, 90], "alpha": [0.1], "parametrization": ["u2v2", "uv"],
            "noise": [0, 0.2], "seed": [0, 1], "time": [0, 0.25, 0.5, 0.75, 1]},
 "values": [{"group": "sgd", "var": "risk", "value": $sgd_risk,
             "at": {"lr": 1, "dim": 90, "alpha": 0.1, "parametrization": "uv", "noise": 0.2, "seed": 1, "time": 1}},
            {"group": "pde", "var": "risk", "value": $pde_risk,
             "at": {"lr": 1, "alpha": 0.1, "parametrization": "uv", "noise": 0.2, "time": 1}}]}
JSON
for f in sweep shard-1 shard-2 merged; do
    json="$WORK/sweep.json"
    if [ "$f" = shard-1 ] || [ "$f" = shard-2 ]; then  # a shard holds only some units: check the layout
        $PY -c "import json; s = json.load(open('$json')); s['values'] = []; json.dump(s, open('$WORK/shard.json', 'w'))"
        json="$WORK/shard.json"
    fi
    $PY "$SRC/tests/e2e/netcdf_check.py" "$WORK/$f.h5" "$json" > "$WORK/$f.check" \
        && pass "$f.h5 opens in xarray (h5netcdf, netcdf4), ncdump and h5py: $(grep -c '^ok' "$WORK/$f.check") checks" \
        || fail "$f.h5: $(tail -1 "$WORK/$f.check")"
done

cat > "$WORK/phase.json" <<'JSON'
{"check_var": "risk_final_mean",
 "groups": {"sgd": ["lr", "dim", "alpha", "parametrization", "noise"],
            "pde": ["lr", "alpha", "parametrization", "noise"]},
 "coords": {"lr": [0.5, 1], "dim": [60, 90], "alpha": [0.1], "parametrization": ["u2v2", "uv"], "noise": [0, 0.2]}}
JSON
$PY "$SRC/tests/e2e/netcdf_check.py" "$WORK/phase/phase.h5" "$WORK/phase.json" > "$WORK/phase.check" \
    && pass "phase.h5 opens in xarray (h5netcdf, netcdf4), ncdump and h5py: $(grep -c '^ok' "$WORK/phase.check") checks" \
    || fail "phase.h5: $(tail -1 "$WORK/phase.check")"
# The phase file's PDE final risk is the sweep's PDE risk at T, read through xarray.
$PY - "$WORK/phase/phase.h5" "$pde_risk" <<'PY' && pass "phase.h5: pde risk_final_mean at the point is dln run's" \
    || fail "phase.h5 pde risk_final_mean"
import sys, xarray as xr
ds = xr.open_dataset(sys.argv[1], engine="netcdf4", group="pde")
v = float(ds.risk_final_mean.sel(lr=1, alpha=0.1, parametrization="uv", noise=0.2))
assert abs(v - float(sys.argv[2])) <= 1e-11 * abs(v), (v, sys.argv[2])
PY

# Common random numbers: at every (lr, dim, alpha, parametrization, seed) the two noise levels
# start from the same target (dist at t = 0 bitwise equal), and each noise level of the sweep is
# bitwise the sweep run with that level alone (whose stream is keyed by (seed, dim, replicate)).
"$DLN" sweep -q --config "$WORK/sweep.ini" --data.noise 0.2 --output "$WORK/noise02.h5" > /dev/null || fail "noise 0.2 alone"
$PY - "$WORK/sweep.h5" "$WORK/noise02.h5" <<'PY' && pass "common random numbers across the noise axis" \
    || fail "common random numbers across the noise axis"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as f, h5py.File(sys.argv[2], "r") as g:
    dist = f["sgd/dist"][()]  # [lr, dim, alpha, parametrization, noise, seed, time]
    assert np.array_equal(dist[..., 0, :, 0], dist[..., 1, :, 0])
    for name in ("risk", "dist", "l1", "balance"):
        alone = g["sgd/" + name][()]  # no noise axis
        assert np.array_equal(f["sgd/" + name][()][:, :, :, :, 1], alone, equal_nan=True), name
PY

# --stripe-size: datasets of 64 KiB and more start on stripe boundaries, the results unchanged.
"$MPIEXEC" -n 2 "$DLN" sweep -q --config "$WORK/sweep.ini" --run.snapshots 401 --stripe-size 1048576 \
    --output "$WORK/aligned.h5" > /dev/null && "$MPIEXEC" -n 2 "$DLN" sweep -q --config "$WORK/sweep.ini" \
    --run.snapshots 401 --output "$WORK/packed.h5" > /dev/null || fail "sweeps with and without --stripe-size"
$PY - "$WORK/aligned.h5" <<'PY' > "$WORK/aligned.txt" && pass "--stripe-size 1048576: $(cat "$WORK/aligned.txt")" \
    || fail "--stripe-size: $(cat "$WORK/aligned.txt")"
import sys, h5py
big = []
def visit(name, obj):
    if isinstance(obj, h5py.Dataset) and obj.id.get_storage_size() >= 64 * 1024:
        big.append((name, obj.id.get_offset()))
with h5py.File(sys.argv[1], "r") as f:
    f.visititems(visit)
bad = [(n, o) for n, o in big if o is None or o % 1048576]
assert big and not bad, bad
print(f"{len(big)} datasets of 64 KiB or more, each at a multiple of 1 MiB")
PY
result=$("$SAME" "$WORK/aligned.h5" "$WORK/packed.h5") && pass "aligned = packed: $result" || fail "aligned: $result"
finish
