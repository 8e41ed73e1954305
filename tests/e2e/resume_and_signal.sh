# A sweep stopped by SIGUSR1 (what Slurm sends before a time limit, forwarded by mpirun) closes
# its file consistently and exits 75; --resume computes only what is missing, and the results are
# bitwise those of an uninterrupted run. A resume with another configuration is refused.
source "$(dirname "$0")/common.sh"

cat > "$WORK/sweep.ini" <<'INI'
[run]
time = 6
snapshots = 7
seeds = 3
methods = sgd, pde
[sweep]
lr = 0.5, 1, 2
dim = 600, 1200, 1800
alpha = 0.1, 0.3
INI
"$MPIEXEC" -n 3 "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/full.h5" > "$WORK/full.log" \
    && pass "uninterrupted: $(tail -1 "$WORK/full.log")" || fail "uninterrupted run: $(cat "$WORK/full.log")"

# Under mpiexec (3 ranks) and as a single process (the signal goes to dln itself).
for launch in mpi single; do
    out="$WORK/$launch.h5"
    if [ $launch = mpi ]; then
        "$MPIEXEC" -n 3 "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$out" > "$WORK/$launch.log" 2>&1 &
    else
        "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$out" > "$WORK/$launch.log" 2>&1 &
    fi
    pid=$!
    sleep 2  # well after start-up (the handlers are in place), well before the end (about 10 s)
    kill -USR1 $pid
    status=0
    wait $pid || status=$?
    [ $status -eq 75 ] && pass "$launch: stopped with status 75" || fail "$launch: status $status: $(cat "$WORK/$launch.log")"
    pending=$("$DLN" status "$out" | awk '$1 == "sgd" {print $6}')
    [ "${pending:-0}" -gt 0 ] && pass "$launch: $pending sgd units pending after the stop" \
        || fail "$launch: nothing pending: $("$DLN" status "$out")"
    "$MPIEXEC" -n 3 "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$out" --resume > "$WORK/$launch-resume.log" \
        && pass "$launch: resumed: $(head -1 "$WORK/$launch-resume.log")" || fail "$launch: resume: $(cat "$WORK/$launch-resume.log")"
    result=$("$SAME" "$WORK/full.h5" "$out") && pass "$launch: $result" || fail "$launch: $result"
done

# Resuming a complete file computes nothing; resuming with other keys is refused and touches nothing.
"$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/mpi.h5" --resume | grep -q '^dln sweep: 0 units' \
    && pass "complete file: nothing to do" || fail "resume of a complete file computed something"
cp "$WORK/mpi.h5" "$WORK/before.h5"
status=0
"$DLN" sweep --config "$WORK/sweep.ini" --output "$WORK/mpi.h5" --resume --lr 0.5 2> "$WORK/err" > /dev/null || status=$?
[ $status -eq 2 ] && grep -q 'sweep.lr' "$WORK/err" && cmp -s "$WORK/mpi.h5" "$WORK/before.h5" \
    && pass "other keys refused: $(cat "$WORK/err")" || fail "other keys: status $status, $(cat "$WORK/err")"
finish
