# kill -9 of every process of a sweep, at six moments, each followed by --resume: the final file's
# results are bitwise those of an uninterrupted run, and the journal shows that no finished unit
# was computed twice. The moments that last microseconds (the file half created, a unit journaled
# but not yet in the file, a slab half written, the journal half replayed, every unit done but the
# file not closed) are reached through failpoints (lib/dln/io/failpoint.hpp): the process stops
# there and the test kills the job. One kill is by the clock, wherever the sweep happens to be.
# The grid has two extra axes, one categorical (the parametrization) and one numeric (the noise).
source "$(dirname "$0")/common.sh"

cat > "$WORK/sweep.ini" <<'INI'
[model]
parametrization = u2v2, uv
[data]
noise = 0, 0.1
[run]
time = 4
snapshots = 6
seeds = 2
methods = sgd, sde, pde
[sweep]
lr = 0.5, 1, 4
dim = 1000, 2000, 3000
alpha = 0.1, 0.3
INI
units=$(( 3 * 3 * 2 * 2 * 2 * 2 * 2 + 3 * 2 * 2 * 2 ))  # sgd and sde per replicate, pde per (lr, alpha, param, noise)

"$MPIEXEC" -n 3 "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/full.h5" > "$WORK/full.log" \
    && pass "uninterrupted: $(tail -1 "$WORK/full.log")" || fail "uninterrupted run: $(cat "$WORK/full.log")"

out="$WORK/crashed.h5"

# stage NAME NP FAILPOINT [--resume]: runs the sweep until the failpoint is reached, then kills it.
stage() {
    local name=$1 np=$2 point=$3
    shift 3
    if kill_at_failpoint "$point" "$WORK/$name.log" "$out" \
        "$MPIEXEC" -n "$np" "$DLN" sweep --config "$WORK/sweep.ini" --output "$out" "$@"; then
        pass "$name: killed at failpoint $point ($(grep -c '^\[' "$WORK/$name.log" || true) units reported done)" \
             "$(grep -o 'dln sweep: .*rebuilding.*' "$WORK/$name.log" || true)"
    else
        fail "$name: failpoint $point not reached: $(cat "$WORK/$name.log")"
    fi
}

stage during-create 3 create:1
stage during-first-write 2 journaled:1 --resume
stage mid-write 3 writing:3 --resume
stage mid-replay 3 replay:2 --resume

# By the clock: somewhere in the middle of the sweep (about 12 s of work, 6 s on two workers).
"$MPIEXEC" -n 3 "$DLN" sweep --config "$WORK/sweep.ini" --output "$out" --resume > "$WORK/timed.log" 2>&1 &
job=$!
disown $job
sleep 3
kill_sweep "$out"
pass "timed: killed after 3 s ($(grep -c '^\[' "$WORK/timed.log" || true) units reported done)"

stage after-last-unit 1 closing:1 --resume
"$DLN" status "$out" > "$WORK/status.txt" 2>&1 || true
grep -q 'finished units from' "$WORK/status.txt" && pass "status reports the journal" \
    || fail "status: $(cat "$WORK/status.txt")"

check_journal_once "$out" "$units"

"$MPIEXEC" -n 3 "$DLN" sweep --config "$WORK/sweep.ini" --output "$out" --resume > "$WORK/final.log" 2>&1 \
    && grep -q '^dln sweep: 0 units' "$WORK/final.log" \
    && pass "final resume computed nothing: $(head -1 "$WORK/final.log")" || fail "final resume: $(cat "$WORK/final.log")"
# The PDE's accuracy fields are among the datasets compared: present, and filled for every point.
/usr/bin/python3 - "$out" <<'PY' && pass "the PDE's accuracy fields are in the file and filled" || fail "PDE accuracy fields missing or unfilled"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
names = ("error_estimate", "grid_error", "quadrature_error", "width_error", "width", "time_error", "cells", "classes", "target_nodes",
         "spectrum_nodes", "predicted_rate", "met_tolerance")
assert all(f["pde/" + n].shape == f["pde/status"].shape for n in names)
assert (f["pde/cells"][()][f["pde/status"][()] == 1] > 0).all() and (f["pde/status"][()] == 1).any()
PY
result=$("$SAME" "$WORK/full.h5" "$out") && pass "$result" || fail "$result"
[ ! -e "$out.journal" ] && pass "journal removed after the clean end" || fail "journal left behind"
finish
