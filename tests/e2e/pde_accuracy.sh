# The PDE's accuracy in the sweep file: /pde/error_estimate ... /pde/met_tolerance exist with the
# shape of /pde/status, their attributes and dimension scales, and hold what `dln run --method pde`
# reports for the same point; dln status and the sweep's warnings count the points that missed
# pde.rtol; aggregate carries error_estimate and predicted_rate into phase.csv. PETSC_OPTIONS is
# recorded: a resume (and a merge) under result-changing options is refused with the file
# untouched, one under other monitors is not. A journal of record format 1 is refused by name.
source "$(dirname "$0")/common.sh"
PYTHON=/usr/bin/python3  # Debian's, which has python3-h5py
unset PETSC_OPTIONS

cat > "$WORK/sweep.ini" <<'INI'
[run]
time = 2
snapshots = 5
seeds = 1
methods = sgd, pde
[sweep]
lr = 0.5, 2
dim = 200
alpha = 0.1, 0.3, 0.5
INI
out="$WORK/s.h5"
"$MPIEXEC" -n 2 "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$out" > "$WORK/sweep.log" 2> "$WORK/sweep.err" \
    && pass "sweep: $(head -1 "$WORK/sweep.log")" || fail "sweep: $(cat "$WORK/sweep.log" "$WORK/sweep.err")"

# Shapes, types, attributes, scales; and the finished points that missed pde.rtol.
"$PYTHON" - "$out" > "$WORK/check.txt" 2>&1 <<'PY' && pass "datasets: $(tail -1 "$WORK/check.txt")" || fail "datasets: $(cat "$WORK/check.txt")"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
shape = f["pde/status"].shape
assert shape == (2, 3), shape
want = dict(error_estimate="f8", grid_error="f8", quadrature_error="f8", time_error="f8", cells="i8",
            classes="i8", target_nodes="i8", spectrum_nodes="i8", predicted_rate="f8", met_tolerance="i1")
for name, kind in want.items():
    ds = f["pde/" + name]
    assert ds.shape == shape and ds.dtype == np.dtype(kind), (name, ds.shape, ds.dtype)
    assert len(ds.attrs["long_name"]) > 0, name
    assert [list(d.keys()) for d in ds.dims] == [["lr"], ["alpha"]], (name, [list(d.keys()) for d in ds.dims])
    assert ds.dims[0][0][()].tolist() == [0.5, 2.0]
    if name.endswith("error") or name == "error_estimate":
        assert ds.attrs["units"] == "1", name
assert "cells" not in f["sgd"], "sgd has no scalar fields"
done = f["pde/status"][()] == 1
assert (f["pde/cells"][()][done] > 0).all() and (f["pde/classes"][()][done] > 0).all()
assert set(np.unique(f["pde/met_tolerance"][()])) <= {0, 1}
assert f.attrs["petsc_options"] == ""
print((done & (f["pde/met_tolerance"][()] == 0)).sum())
PY
unmet=$(tail -1 "$WORK/check.txt")
warned=$(grep -c '^dln sweep: warning: pde lr=' "$WORK/sweep.err" || true)
[ "$warned" -eq "$unmet" ] && pass "one warning per point that missed pde.rtol ($warned)" \
    || fail "warnings: $warned lines, $unmet points missed pde.rtol: $(cat "$WORK/sweep.err")"
if [ "$unmet" -gt 0 ]; then
    grep -q "^dln sweep: $unmet pde points did not meet pde.rtol" "$WORK/sweep.log" && pass "the summary counts them" \
        || fail "summary: $(cat "$WORK/sweep.log")"
    "$DLN" status "$out" | grep -q "^pde: $unmet of [0-9]* finished points did not meet the tolerance" \
        && pass "status counts them" || fail "status: $("$DLN" status "$out")"
fi

# dln run at (lr 2, alpha 0.3) reports what the file holds at [1, 1]; its stdout is the CSV alone.
"$DLN" run --config "$WORK/sweep.ini" --method pde --lr 2 --alpha 0.3 > "$WORK/run.csv" 2> "$WORK/run.err" \
    || fail "dln run: $(cat "$WORK/run.err")"
line=$(grep '^dln run: pde: cells' "$WORK/run.err" || true)
expected=$("$PYTHON" - "$out" <<'PY'
import sys, math, h5py
f = h5py.File(sys.argv[1], "r")
v = {k: f["pde/" + k][1, 1] for k in ("error_estimate", "grid_error", "quadrature_error", "width_error", "width",
                                      "time_error", "cells", "classes", "target_nodes", "spectrum_nodes",
                                      "predicted_rate")}
def num(x, fmt):
    return "0" if x == 0 else "nan" if math.isnan(x) else fmt % x
s = f"dln run: pde: cells {v['cells']}, classes {v['classes']}"
if v["target_nodes"]: s += f", target nodes {v['target_nodes']}"
if v["spectrum_nodes"]: s += f", spectrum nodes {v['spectrum_nodes']}"
e = lambda k: num(v[k], "%.1e")
s += (f", estimated error {e('error_estimate')} (grid {e('grid_error')}, quadrature {e('quadrature_error')}, "
      f"width {e('width_error')} at {num(v['width'], '%g')} deviations, "
      f"time {e('time_error')}), predicted late-time rate {num(v['predicted_rate'], '%.4g')}")
print(s)
PY
)
[ -n "$line" ] && [ "$line" = "$expected" ] && pass "dln run reports the file's values: $line" \
    || fail "dln run: '$line', the file: '$expected'"
head -1 "$WORK/run.csv" | grep -q '^method,seed,t,risk' && ! grep -q 'cells' "$WORK/run.csv" \
    && pass "dln run: stdout is the CSV" || fail "dln run stdout: $(head -2 "$WORK/run.csv")"

# aggregate: pde_error_estimate and predicted_rate on every row, the PDE point's values.
"$DLN" aggregate "$out" --out "$WORK/phase" > /dev/null || fail "aggregate"
"$PYTHON" - "$out" "$WORK/phase/phase.csv" > "$WORK/agg.txt" 2>&1 <<'PY' && pass "phase.csv: $(cat "$WORK/agg.txt")" || fail "phase.csv: $(cat "$WORK/agg.txt")"
import sys, csv, math, h5py
f = h5py.File(sys.argv[1], "r")
lr, alpha = list(f["pde/lr"][()]), list(f["pde/alpha"][()])
rows = list(csv.DictReader(open(sys.argv[2])))
assert {"pde_error_estimate", "predicted_rate", "tail_rate", "gap_pde"} <= set(rows[0]), rows[0].keys()
header = list(rows[0].keys())
assert header.index("predicted_rate") == header.index("tail_rate") + 1
assert header.index("pde_error_estimate") == header.index("gap_pde") + 1
same = lambda a, b: (math.isnan(a) and math.isnan(b)) or a == b or abs(a - b) <= 1e-9 * abs(b)
for r in rows:
    i, j = lr.index(float(r["lr"])), alpha.index(float(r["alpha"]))
    assert same(float(r["predicted_rate"]), f["pde/predicted_rate"][i, j]), r
    assert same(float(r["pde_error_estimate"]), f["pde/error_estimate"][i, j]), r
print(f"{len(rows)} rows carry the PDE point's predicted_rate and error_estimate")
PY

# PETSC_OPTIONS: recorded; a resume under result-changing options is refused, the file untouched.
"$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/p.h5" --run.time 1 > /dev/null 2>&1
before=$(sha256sum < "$WORK/p.h5")
status=0
PETSC_OPTIONS="-ts_rtol 1e-8" "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/p.h5" --run.time 1 --resume \
    > /dev/null 2> "$WORK/err" || status=$?
[ $status -eq 2 ] && [ "$(wc -l < "$WORK/err")" -eq 1 ] && grep -q "PETSC_OPTIONS unset, this run has PETSC_OPTIONS '-ts_rtol 1e-8'" "$WORK/err" \
    && [ "$(sha256sum < "$WORK/p.h5")" = "$before" ] \
    && pass "resume under other PETSC_OPTIONS refused: $(cat "$WORK/err")" || fail "resume, other options: status $status, $(cat "$WORK/err")"
status=0
PETSC_OPTIONS="-ts_monitor -log_view :/dev/null -ts_adapt_monitor" "$DLN" sweep -q --config "$WORK/sweep.ini" \
    --output "$WORK/p.h5" --run.time 1 --resume > "$WORK/mon.log" 2>&1 || status=$?
[ $status -eq 0 ] && pass "resume under monitoring options only: accepted" || fail "monitors: status $status, $(tail -3 "$WORK/mon.log")"
# merge: shards computed under different result-changing options are refused.
"$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/m1.h5" --shard 1/2 > /dev/null 2>&1
PETSC_OPTIONS="-ts_type bdf" "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/m2.h5" --shard 2/2 > /dev/null 2>&1
status=0
"$DLN" merge "$WORK/m.h5" "$WORK/m1.h5" "$WORK/m2.h5" > /dev/null 2> "$WORK/err" || status=$?
[ $status -eq 2 ] && grep -q "PETSC_OPTIONS '-ts_type bdf'" "$WORK/err" && [ ! -e "$WORK/m.h5" ] \
    && pass "merge of shards under other PETSC_OPTIONS refused: $(cat "$WORK/err")" || fail "merge: status $status, $(cat "$WORK/err")"
PETSC_OPTIONS="-ts_monitor" "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/m3.h5" --shard 2/2 > /dev/null 2>&1
"$DLN" merge "$WORK/m.h5" "$WORK/m1.h5" "$WORK/m3.h5" > /dev/null 2> "$WORK/err" \
    && pass "merge of shards that differ in monitors only" || fail "merge, monitors: $(cat "$WORK/err")"

# A journal of record format 1 (magic DLNJ) is refused by name, before anything is touched.
"$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/old.h5" > /dev/null 2>&1
mkdir "$WORK/old.h5.journal"
# The stored configuration must be the resolved one: take it from the file.
"$PYTHON" -c "import h5py,sys; open(sys.argv[2],'w').write(h5py.File(sys.argv[1])['/'].attrs['config'])" \
    "$WORK/old.h5" "$WORK/old.h5.journal/config.ini"
printf 'DLNJ\x10\x00\x00\x00' > "$WORK/old.h5.journal/run-1.rank-0.log"
before=$(sha256sum < "$WORK/old.h5")
status=0
"$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/old.h5" --resume > /dev/null 2> "$WORK/err" || status=$?
[ $status -eq 2 ] && grep -q 'journal format 1' "$WORK/err" && [ "$(sha256sum < "$WORK/old.h5")" = "$before" ] \
    && pass "a format-1 journal is refused: $(cat "$WORK/err")" || fail "format-1 journal: status $status, $(cat "$WORK/err")"
finish
