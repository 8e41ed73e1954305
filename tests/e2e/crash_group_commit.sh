# kill -9 in the middle of a group commit (the journal half written, then written but not
# synced) and in the middle of a buffered write (the curves of a whole commit in the file, their
# status not yet), each followed by --resume: the final file's results are bitwise those of an
# uninterrupted run, every unit reported done was in the journal when it was reported, and no
# unit the journal had was computed again. The sweep has many short units and long commits
# (--commit-seconds 5), so every commit holds many hand-outs.
source "$(dirname "$0")/common.sh"

cat > "$WORK/sweep.ini" <<'INI'
[data]
noise = 0, 0.1
[run]
time = 2
snapshots = 4
seeds = 3
methods = sgd, sde
[sweep]
lr = 0.5, 1, 2
dim = 200, 400
alpha = 0.1, 0.3
INI
units=$(( 2 * 3 * 2 * 2 * 2 * 3 ))  # (sgd, sde) x lr x dim x alpha x noise x seed

"$MPIEXEC" -n 3 "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/full.h5" --batch 1 > "$WORK/full.log" \
    && pass "uninterrupted: $(tail -1 "$WORK/full.log")" || fail "uninterrupted run: $(cat "$WORK/full.log")"

out="$WORK/crashed.h5"

# stage NAME RUN NP FAILPOINT [options]: runs the sweep (the RUN-th run of its journal) until the
# failpoint is reached, kills it, and checks that every unit it reported done is in the journal.
stage() {
    local name=$1 run=$2 np=$3 point=$4
    shift 4
    if ! kill_at_failpoint "$point" "$WORK/$name.log" "$out" \
        "$MPIEXEC" -n "$np" "$DLN" sweep --config "$WORK/sweep.ini" --output "$out" --commit-seconds 5 "$@"; then
        fail "$name: failpoint $point not reached: $(cat "$WORK/$name.log")"
        return
    fi
    local reported journaled
    reported=$(grep -c '^\[' "$WORK/$name.log" || true)
    journaled=$("$DLN" status "$out" --journal 2> /dev/null | awk -v run=$run '$1 == run && ($4 == "done" || $4 == "diverged")' | wc -l)
    [ "$reported" -le "$journaled" ] \
        && pass "$name: killed at $point; $reported units reported done, $journaled in the journal" \
        || fail "$name: $reported units reported done but only $journaled in the journal"
}

stage commit-torn 1 3 group-commit-torn:1 --batch 1
stage commit-unsynced 2 2 group-commit:1 --resume --batch 4
stage buffered-write 3 3 writing-many:1 --resume --batch auto
stage after-last-unit 4 1 closing:1 --resume --batch 16

check_journal_once "$out" "$units"

"$MPIEXEC" -n 3 "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$out" --resume > "$WORK/final.log" 2>&1 \
    && grep -q '^dln sweep: 0 units' "$WORK/final.log" \
    && pass "final resume computed nothing: $(head -1 "$WORK/final.log")" || fail "final resume: $(cat "$WORK/final.log")"
result=$("$SAME" "$WORK/full.h5" "$out") && pass "$result" || fail "$result"
[ ! -e "$out.journal" ] && pass "journal removed after the clean end" || fail "journal left behind"
finish
