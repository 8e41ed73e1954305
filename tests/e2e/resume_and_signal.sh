# A sweep stopped by SIGUSR1 (what Slurm sends before a time limit, forwarded by mpirun) or by
# SIGTERM (what Slurm sends every process of a job at the limit) closes its file consistently and
# exits 75 within 30 s; --resume computes only what is missing, and the results are bitwise those
# of an uninterrupted run. A resume with another configuration is refused. A unit that fails is
# recorded with its message and the sweep goes on; a resume retries it once, not twice.
source "$(dirname "$0")/common.sh"

cat > "$WORK/sweep.ini" <<'INI'
[run]
time = 6
snapshots = 7
seeds = 3
methods = sgd, pde
[sweep]
lr = 0.5, 1, 2
dim = 6000, 9000, 12000
alpha = 0.1, 0.3
INI
"$MPIEXEC" -n 3 "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/full.h5" > "$WORK/full.log" \
    && pass "uninterrupted: $(tail -1 "$WORK/full.log")" || fail "uninterrupted run: $(cat "$WORK/full.log")"

# SIGUSR1 to mpiexec (which forwards it), SIGTERM to every rank (as Slurm does at a time limit),
# and SIGTERM to a single process.
for launch in mpi-usr1 mpi-term single-term; do
    out="$WORK/$launch.h5"
    if [ $launch = single-term ]; then
        "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$out" > "$WORK/$launch.log" 2>&1 &
    else
        "$MPIEXEC" -n 3 "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$out" > "$WORK/$launch.log" 2>&1 &
    fi
    pid=$!
    sleep 2  # well after start-up (the handlers are in place), well before the end (about 7 s)
    case $launch in
        mpi-usr1) kill -USR1 $pid ;;
        mpi-term) pkill -TERM -P $pid ;;  # the ranks, children of mpiexec
        single-term) kill -TERM $pid ;;
    esac
    signalled=$(date +%s%N)
    status=0
    wait $pid || status=$?
    ms=$(( ($(date +%s%N) - signalled) / 1000000 ))
    [ $status -eq 75 ] && [ $ms -le 30000 ] && pass "$launch: stopped with status 75 after $ms ms"         || fail "$launch: status $status after $ms ms: $(cat "$WORK/$launch.log")"
    pending=$("$DLN" status "$out" | awk '$1 == "sgd" {print $6}')
    [ "${pending:-0}" -gt 0 ] && pass "$launch: $pending sgd units pending after the stop" \
        || fail "$launch: nothing pending: $("$DLN" status "$out")"
    "$MPIEXEC" -n 3 "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$out" --resume > "$WORK/$launch-resume.log" \
        && pass "$launch: resumed: $(head -1 "$WORK/$launch-resume.log")" || fail "$launch: resume: $(cat "$WORK/$launch-resume.log")"
    result=$("$SAME" "$WORK/full.h5" "$out") && pass "$launch: $result" || fail "$launch: $result"
done

# A stop requested at the edges of a sweep, reached through failpoints that wait for the test:
# in start-up (before any unit) it stops the sweep at once, with everything pending; after the
# last unit (PETSc and the file closed, MPI_Finalize ahead) it changes nothing: exit 0, the sweep
# ended. The default action of either signal would kill the process instead: a sweep that has
# done all its work would then fail its Slurm job.
cat > "$WORK/edge.ini" <<'INI'
[run]
time = 2
snapshots = 3
seeds = 1
methods = sgd, pde
[sweep]
lr = 0.5, 2
dim = 1000
alpha = 0.1, 0.3
INI
"$DLN" sweep -q --config "$WORK/edge.ini" --output "$WORK/edge-ref.h5" > /dev/null || fail "edge reference run"
signal_at starting:1 USR1 "$WORK/starting.log" "$DLN" sweep --config "$WORK/edge.ini" --output "$WORK/starting.h5"
# 8 units: sgd at 2 lr x 2 alpha x 1 seed, and pde at the same 4 (lr, alpha).
pending=$(grep -o '^dln sweep: stopped on request with [0-9]* units' "$WORK/starting.log" | grep -o '[0-9]*' || true)
[ $status -eq 75 ] && [ "${pending:-0}" -eq 8 ] && pass "USR1 in start-up: status 75, all $pending units pending" \
    || fail "USR1 in start-up: status $status: $(cat "$WORK/starting.log")"
"$DLN" sweep -q --config "$WORK/edge.ini" --output "$WORK/starting.h5" --resume > /dev/null || fail "resume after start-up stop"
result=$("$SAME" "$WORK/edge-ref.h5" "$WORK/starting.h5") && pass "resumed: $result" || fail "resumed: $result"
for signal in USR1 TERM; do
    signal_at finalizing:1 $signal "$WORK/final-$signal.log" \
        "$DLN" sweep --config "$WORK/edge.ini" --output "$WORK/final-$signal.h5"
    [ $status -eq 0 ] && [ ! -e "$WORK/final-$signal.h5.journal" ] \
        && pass "$signal after the last unit: status 0, the sweep ended" \
        || fail "$signal after the last unit: status $status: $(cat "$WORK/final-$signal.log")"
    result=$("$SAME" "$WORK/edge-ref.h5" "$WORK/final-$signal.h5") && pass "$signal: $result" || fail "$signal: $result"
done

# Resuming a complete file computes nothing; resuming with other keys is refused and touches nothing.
"$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/mpi-usr1.h5" --resume | grep -q '^dln sweep: 0 units' \
    && pass "complete file: nothing to do" || fail "resume of a complete file computed something"
cp "$WORK/mpi-usr1.h5" "$WORK/before.h5"
status=0
"$DLN" sweep --config "$WORK/sweep.ini" --output "$WORK/mpi-usr1.h5" --resume --lr 0.5 2> "$WORK/err" > /dev/null || status=$?
[ $status -eq 2 ] && grep -q 'sweep.lr' "$WORK/err" && cmp -s "$WORK/mpi-usr1.h5" "$WORK/before.h5" \
    && pass "other keys refused: $(cat "$WORK/err")" || fail "other keys: status $status, $(cat "$WORK/err")"
# A file of another dln version (whose random stream may differ) is not resumed.
cp "$WORK/mpi-usr1.h5" "$WORK/old.h5"
/usr/bin/python3 -c 'import sys, h5py; h5py.File(sys.argv[1], "r+").attrs["version"] = "0.1.0"' "$WORK/old.h5"
cp "$WORK/old.h5" "$WORK/old-before.h5"
status=0
"$DLN" sweep --config "$WORK/sweep.ini" --output "$WORK/old.h5" --resume 2> "$WORK/err" > /dev/null || status=$?
[ $status -eq 2 ] && grep -q 'written by dln 0.1.0' "$WORK/err" && cmp -s "$WORK/old.h5" "$WORK/old-before.h5" \
    && pass "another version refused: $(cat "$WORK/err")" || fail "another version: status $status, $(cat "$WORK/err")"

# Failure isolation: DLN_FAIL_UNIT makes one unit throw (the same unit whatever the ranks).
failing=sgd:7
out="$WORK/failing.h5"
DLN_FAIL_UNIT=$failing "$MPIEXEC" -n 3 "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$out" > "$WORK/failing.log" 2>&1 \
    && grep -q '1 failed' "$WORK/failing.log" && pass "one unit failed, the sweep went on: $(grep '^dln sweep: [0-9]' "$WORK/failing.log")" \
    || fail "failing unit: $(cat "$WORK/failing.log")"
"$DLN" status "$out" > "$WORK/failing.status"
grep -q "^failed sgd .*(1 time): injected failure" "$WORK/failing.status" && [ -d "$out.journal" ] \
    && pass "its message is stored: $(grep '^failed' "$WORK/failing.status")" || fail "status: $(cat "$WORK/failing.status")"
# It fails again on the retry; after that a resume leaves it alone.
DLN_FAIL_UNIT=$failing "$MPIEXEC" -n 3 "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$out" --resume > "$WORK/retry.log" 2>&1
grep -q '^dln sweep: 1 units.* 1 failed' "$WORK/retry.log" && "$DLN" status "$out" | grep -q '(2 times)' \
    && pass "retried once: $(grep '^dln sweep: [0-9]' "$WORK/retry.log")" || fail "retry: $(cat "$WORK/retry.log")"
DLN_FAIL_UNIT=$failing "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$out" --resume | grep -q '^dln sweep: 0 units' \
    && [ ! -e "$out.journal" ] && pass "not retried a second time; the sweep has ended" || fail "retried a second time"
# --retry-failed retries it anyway; without the injected failure it succeeds, and the file is then
# exactly an uninterrupted run's (a success clears the failure count and message).
"$DLN" sweep -q --config "$WORK/sweep.ini" --output "$out" --resume --retry-failed | grep -q '^dln sweep: 1 units.* 1 done' \
    && pass "--retry-failed" || fail "--retry-failed"
result=$("$SAME" "$WORK/full.h5" "$out") && pass "after the retry: $result" || fail "after the retry: $result"
finish
