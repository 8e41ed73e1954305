# slurm/sweep.sbatch's guard against endless requeues, without a Slurm: the script run as a job
# would run it (SLURM_JOB_ID set, a scontrol that only records its calls), its time-limit warning
# (SIGUSR1 to the batch shell) sent at an exact moment through a failpoint. A run that finished no
# unit since the one before must not requeue; one that finished some must (a first run counts
# from -1, "no file", so it requeues once even if it finished nothing). The guard reads `finished` from
# `dln status --json` (the Slurm tests, `slurm: jobs`, run the requeue itself against a real Slurm).
source "$(dirname "$0")/common.sh"
mkdir "$WORK/bin"
cat > "$WORK/bin/scontrol" <<SH
#!/bin/bash
echo "\$*" >> "$WORK/scontrol.calls"
SH
chmod +x "$WORK/bin/scontrol"
cat > "$WORK/sweep.ini" <<'INI'
[run]
time = 1
snapshots = 3
seeds = 2
methods = sgd
[sweep]
lr = 0.5, 1
dim = 40
alpha = 0.1
INI
cd "$WORK"
job() {  # job POINT LOG OUT: the script until failpoint POINT, where it gets the warning
    signal_at "$1" USR1 "$2" env PATH="$WORK/bin:$PATH" SLURM_JOB_ID=99 DLN="$DLN" DLN_LAUNCH="$MPIEXEC -n 1" \
        bash "$SRC/slurm/sweep.sbatch" "$WORK/sweep.ini" "$3" --batch 1 --commit-seconds 0
}

# Warned after the first unit was committed: requeues itself.
job journaled:1 "$WORK/some.log" "$WORK/sweep.h5"
finished=$("$DLN" status --json "$WORK/sweep.h5" | python3 -c 'import json, sys; print(json.load(sys.stdin)["finished"])')
[ $status -eq 0 ] && [ "$(cat "$WORK/scontrol.calls" 2> /dev/null)" = "requeue 99" ] && [ "$finished" -ge 1 ] \
    && grep -q "^dln sweep: $finished units finished; requeueing job 99" "$WORK/some.log" \
    && pass "$finished of 4 units finished: requeued (scontrol requeue 99)" \
    || fail "some finished: status $status, scontrol $(cat "$WORK/scontrol.calls" 2> /dev/null): $(cat "$WORK/some.log")"
"$DLN" status --json "$WORK/sweep.h5" | python3 -c '
import json, sys
(run,) = json.load(sys.stdin)["provenance"]["runs"]
assert run["slurm"] == {"job_id": "99", "array_task_id": None, "restart_count": 0} and run["outcome"] == "stopped", run
' && pass "the run records job 99 and its stop" || fail "the run's provenance"

# The requeued run, warned before any unit: stops, finishes nothing more, does not requeue.
rm "$WORK/scontrol.calls"
SLURM_RESTART_COUNT=1 job starting:1 "$WORK/none.log" "$WORK/sweep.h5"
[ $status -eq 75 ] && grep -q "no unit finished in this run; not requeueing" "$WORK/none.log" \
    && [ ! -e "$WORK/scontrol.calls" ] && pass "nothing finished in the requeued run: exit 75, not requeued" \
    || fail "nothing finished: status $status, scontrol $(cat "$WORK/scontrol.calls" 2> /dev/null): $(cat "$WORK/none.log")"
"$DLN" status --json "$WORK/sweep.h5" | python3 -c '
import json, sys
runs = json.load(sys.stdin)["provenance"]["runs"]
assert [r["slurm"]["restart_count"] for r in runs] == [0, 1] and runs[1]["kind"] == "resume", runs
' && pass "the requeued run is the second in the file, restart count 1" || fail "the requeued run's provenance"
finish
