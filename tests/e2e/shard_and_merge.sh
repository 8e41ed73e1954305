# Sharding: the K shards of a sweep, each computed into its own file and merged with dln merge,
# give a file identical (every dataset but wall_seconds) to an unsharded run; --dry-run splits the
# units into disjoint shards that cover the sweep; merge reports missing shards and refuses
# shards of another sweep. The grid has two extra axes, one categorical and one numeric.
source "$(dirname "$0")/common.sh"

cat > "$WORK/sweep.ini" <<'INI'
[data]
target = constant, rademacher
sparsity = 0.1, 0.3
[run]
time = 3
snapshots = 5
seeds = 2
methods = sgd, sde, pde
[sweep]
lr = 0.5, 1, 4
dim = 200, 400
alpha = 0.1, 0.3
INI
units=$(( (3 * 2 * 2 * 2 * 2 * 2) * 2 + 3 * 2 * 2 * 2 ))

"$MPIEXEC" -n 3 "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/full.h5" > "$WORK/full.log" \
    && pass "unsharded: $(tail -1 "$WORK/full.log")" || fail "unsharded: $(cat "$WORK/full.log")"

# --dry-run: one line per unit, and the three shards' units are the sweep's, each once.
"$DLN" sweep --config "$WORK/sweep.ini" --dry-run > "$WORK/all.txt"
[ "$(grep -c '^ *[0-9]' "$WORK/all.txt")" -eq $units ] && grep -q 'core-hours' "$WORK/all.txt" \
    && pass "dry run: $units units, $(tail -1 "$WORK/all.txt" | cut -c1-60)..." || fail "dry run: $(tail -2 "$WORK/all.txt")"
for k in 1 2 3; do
    "$DLN" sweep --config "$WORK/sweep.ini" --dry-run --shard $k/3 | awk '/^ *[0-9]/ {$1 = ""; $NF = ""; print}'
done | sort > "$WORK/shards.txt"
awk '/^ *[0-9]/ {$1 = ""; $NF = ""; print}' "$WORK/all.txt" | sort > "$WORK/whole.txt"
cmp -s "$WORK/shards.txt" "$WORK/whole.txt" && pass "dry run: the shards partition the units" \
    || fail "dry run: shards do not partition the units"
[ ! -e "$WORK/full.h5.journal" ] && [ "$(ls "$WORK" | grep -c '\.h5')" -eq 1 ] \
    && pass "dry run touched no file" || fail "dry run touched files: $(ls "$WORK")"

for k in 1 2 3; do
    "$MPIEXEC" -n 2 "$DLN" sweep -q --config "$WORK/sweep.ini" --shard $k/3 --output "$WORK/shard-$k.h5" \
        > "$WORK/shard-$k.log" || fail "shard $k: $(cat "$WORK/shard-$k.log")"
done
pass "shards: $(grep -ho '^dln sweep: [0-9]* units' "$WORK"/shard-*.log | awk '{print $3}' | paste -sd+) units"

status=0
"$DLN" merge "$WORK/partial.h5" "$WORK/shard-1.h5" "$WORK/shard-3.h5" > /dev/null 2> "$WORK/partial.err" || status=$?
[ $status -eq 1 ] && grep -q 'shards missing: 2/3' "$WORK/partial.err" && grep -q '^  missing [a-z]* lr=' "$WORK/partial.err" \
    && pass "a missing shard is reported: $(head -1 "$WORK/partial.err")" || fail "missing shard: status $status, $(cat "$WORK/partial.err")"

"$DLN" merge "$WORK/merged.h5" "$WORK"/shard-{1,2,3}.h5 > "$WORK/merge.log" \
    && pass "$(cat "$WORK/merge.log")" || fail "merge: $(cat "$WORK/merge.log")"
# The PDE's accuracy fields are among the datasets compared: present, and filled for every point.
/usr/bin/python3 - "$WORK/merged.h5" <<'PY' && pass "the PDE's accuracy fields are in the file and filled" || fail "PDE accuracy fields missing or unfilled"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
names = ("error_estimate", "grid_error", "quadrature_error", "width_error", "width", "time_error", "cells", "classes", "target_nodes",
         "spectrum_nodes", "predicted_rate", "met_tolerance")
assert all(f["pde/" + n].shape == f["pde/status"].shape for n in names)
assert (f["pde/cells"][()][f["pde/status"][()] == 1] > 0).all() and (f["pde/status"][()] == 1).any()
PY
result=$("$SAME" "$WORK/full.h5" "$WORK/merged.h5") && pass "merged = unsharded: $result" || fail "merged: $result"
# The partial merge completed by the missing shard is the same file too.
"$DLN" merge "$WORK/completed.h5" "$WORK/partial.h5" "$WORK/shard-2.h5" > /dev/null \
    && result=$("$SAME" "$WORK/full.h5" "$WORK/completed.h5") && pass "partial + missing shard: $result" \
    || fail "partial + missing shard: $result"

# Refusals: another sweep's shard, a resume under another --shard, the output among the inputs.
"$MPIEXEC" -n 2 "$DLN" sweep -q --config "$WORK/sweep.ini" --lr 0.5,1,3 --shard 2/3 --output "$WORK/other.h5" > /dev/null
status=0
"$DLN" merge "$WORK/mixed.h5" "$WORK/shard-1.h5" "$WORK/other.h5" 2> "$WORK/err" || status=$?
[ $status -eq 2 ] && grep -q 'sweep.lr' "$WORK/err" && [ ! -e "$WORK/mixed.h5" ] \
    && pass "another sweep's shard refused: $(cat "$WORK/err")" || fail "mixed shards: status $status, $(cat "$WORK/err")"
status=0
"$DLN" sweep --config "$WORK/sweep.ini" --shard 1/2 --output "$WORK/shard-1.h5" --resume 2> "$WORK/err" > /dev/null || status=$?
[ $status -eq 2 ] && grep -q -- '--shard' "$WORK/err" && pass "resume under another shard refused: $(cat "$WORK/err")" \
    || fail "resume under another shard: status $status, $(cat "$WORK/err")"
status=0
"$DLN" merge --force "$WORK/shard-1.h5" "$WORK/shard-1.h5" "$WORK/shard-2.h5" 2> "$WORK/err" || status=$?
[ $status -eq 2 ] && grep -q 'also an input' "$WORK/err" && pass "output among the inputs refused" \
    || fail "output among the inputs: status $status, $(cat "$WORK/err")"
finish
