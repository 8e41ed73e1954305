# File systems without flock: dln status, aggregate and merge open their files with HDF5's
# "ignore when disabled" locking, so they work where flock fails with ENOSYS (emulated here by
# $NO_FLOCK, an LD_PRELOAD library), without the user setting HDF5_USE_FILE_LOCKING. Debian's
# HDF5 1.10.8 is built to ignore ENOSYS by default (H5_IGNORE_DISABLED_FILE_LOCKS), so here this
# passes without dln's setting too; it guards the builds configured --enable-file-locking=yes.
source "$(dirname "$0")/common.sh"
[ -n "${NO_FLOCK:-}" ] && [ -e "$NO_FLOCK" ] || { echo "NO_FLOCK (the no_flock library) not given"; exit 1; }
sweep() {
    "$MPIEXEC" -n 2 "$DLN" sweep -q --output "$1" --lr 0.5,1 --alpha 0.1 --dim 50 --run.seeds 2 --run.time 0.2 \
        --run.methods sgd "${@:2}" > /dev/null
}
sweep "$WORK/full.h5"
sweep "$WORK/shard-1.h5" --shard 1/2
sweep "$WORK/shard-2.h5" --shard 2/2
# In a sanitizer build the ASan runtime must be the first library loaded: it goes before the shim.
asan=$(ldd "$DLN" | awk '/libasan/ {print $3}')
NO_FLOCK="${asan:+$asan }$NO_FLOCK"
# The emulation is real: HDF5 told to insist on locks (the environment overrides the program)
# fails under it, so the checks below do test the fallback.
status=0
LD_PRELOAD=$NO_FLOCK HDF5_USE_FILE_LOCKING=TRUE "$DLN" status "$WORK/full.h5" > "$WORK/err" 2>&1 || status=$?
[ "$status" -ne 0 ] && pass "with locks insisted on, status fails under no_flock ($status)" \
    || fail "no_flock did not make locking fail: $(cat "$WORK/err")"
LD_PRELOAD=$NO_FLOCK "$DLN" status "$WORK/full.h5" > "$WORK/status" 2>&1 \
    && pass "status without flock" || fail "status without flock: $(cat "$WORK/status")"
LD_PRELOAD=$NO_FLOCK "$DLN" aggregate "$WORK/full.h5" --out "$WORK/phase" > "$WORK/agg" 2>&1 \
    && pass "aggregate without flock" || fail "aggregate without flock: $(cat "$WORK/agg")"
LD_PRELOAD=$NO_FLOCK "$DLN" merge "$WORK/merged.h5" "$WORK/shard-1.h5" "$WORK/shard-2.h5" > "$WORK/merge" 2>&1 \
    && pass "merge without flock" || fail "merge without flock: $(cat "$WORK/merge")"
result=$("$SAME" "$WORK/full.h5" "$WORK/merged.h5") && pass "merged = unsharded: $result" || fail "merged: $result"
finish
