# The Slurm scripts against a real single-node Slurm (tests/slurm/cluster.sh starts and stops its
# own munged, slurmctld and slurmd): slurm/submit of the quick sweep completes and its file is
# an mpirun run's; a sweep longer than its 1-minute time limit finishes through requeues with the
# results of an uninterrupted run; a 3-shard job array and its merge job give the unsharded file;
# its extension by a job array with --from gives the bigger sweep's file and leaves it unchanged.
# Without a working Slurm this test fails: it never passes quietly.
source "$(dirname "$0")/../e2e/common.sh"

cluster=$(mktemp -d /tmp/dln-slurm.XXXXXX)
cleanup() {
    "$SRC/tests/slurm/cluster.sh" stop "$cluster" > /dev/null 2>&1 || true
    rm -rf "$cluster" "$WORK"
}
trap cleanup EXIT
began=$(date +%s)
if ! "$SRC/tests/slurm/cluster.sh" start "$cluster" > /dev/null; then
    echo "FAILED: Slurm did not start (its logs are above)"
    exit 1
fi
. "$cluster/env.sh"
pass "Slurm started in $(( $(date +%s) - began )) s: $(sinfo -h -o '%P %D nodes %c cpus %T')"
export DLN OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
cd "$WORK"  # job logs land in the submit directory

field() { scontrol show job "$1" 2> /dev/null | grep -o "\b$2=[^ ]*" | head -1 | cut -d= -f2-; }

# Waits up to $2 s for job $1 to end and prints its final state. A requeued job waits for its
# BeginTime, cred_expire + 1 s after the requeue (10 s in cluster.sh), and must: moving it to now
# with `scontrol update StartTime=now` lets the job start within the second its credential was
# revoked, and slurmd then kills it ("Job credential revoked"; the job ends FAILED).
wait_job() {
    local id=$1 limit=$2 state="" waited=0
    while [ $waited -lt "$limit" ]; do
        state=$(field "$id" JobState)
        case $state in
            COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE)
                echo "$state"
                return ;;
        esac
        sleep 2
        waited=$((waited + 2))
    done
    echo "still-$state-after-${limit}s"
}

complete() {  # file: every unit done or diverged (dln status --json, README "The result file")
    "$DLN" status --json "$1" | python3 -c '
import json, sys
s = json.load(sys.stdin)
sys.exit(not (s["readable"] and s["methods"] and all(m["failed"] + m["pending"] == 0 for m in s["methods"])))'
}

# 1. The quick sweep through slurm/submit, as the README says.
t0=$(date +%s)
"$SRC/slurm/submit" "$SRC/sweeps/quick.ini" "$WORK/quick.h5" --ntasks=3 > submit-quick.log 2>&1 \
    || fail "submit: $(cat submit-quick.log)"
job=$(awk '/^submitted job [0-9]/ {sub(":", "", $3); print $3}' submit-quick.log)
state=$(wait_job "$job" 600)
units=$(grep -c '^\[[0-9]*/[0-9]*\]' "dln-sweep-$job.log" || true)
[ "$state" = COMPLETED ] && complete "$WORK/quick.h5" && [ "$units" -eq 90 ] \
    && pass "quick sweep: job $job $state in $(( $(date +%s) - t0 )) s, its log names all $units units" \
    || fail "quick sweep: job $job $state, $units units logged: $(tail -5 "dln-sweep-$job.log")"

# 2. Longer than its time limit: about 65 s of work for two workers (90 SDE units of 1.4 s; the
#    SDE, because SGD's lockstep batches would make the sweep too quick to be interrupted) under
#    a 1-minute limit whose SIGUSR1 comes 30-60 s before the end (slurmctld checks every 30 s),
#    so the job must stop and requeue at least once.
cat > long.ini <<'INI'
[run]
time = 6
snapshots = 7
seeds = 9
methods = sde
[sweep]
lr = 0.5, 1
dim = 8000
alpha = 0.05, 0.1, 0.15, 0.2, 0.25
INI
t0=$(date +%s)
"$SRC/slurm/submit" long.ini "$WORK/long.h5" --ntasks=3 --time=1 --signal=B:USR1@30 > submit-long.log 2>&1 \
    || fail "submit: $(cat submit-long.log)"
job=$(awk '/^submitted job [0-9]/ {sub(":", "", $3); print $3}' submit-long.log)
state=$(wait_job "$job" 900)
restarts=$(field "$job" Restarts)
[ "$state" = COMPLETED ] && [ "${restarts:-0}" -ge 1 ] && complete "$WORK/long.h5" \
    && pass "time limit: job $job $state after $restarts requeue(s) in $(( $(date +%s) - t0 )) s" \
    || fail "time limit: job $job $state, restarts ${restarts:-?}: $(tail -8 "dln-sweep-$job.log")"
# Each run of the job is in the file's provenance: restart counts 0 .. restarts, all of this job,
# every one but the last stopped, the last complete.
"$DLN" status --json "$WORK/long.h5" | python3 -c '
import json, sys
job, restarts = sys.argv[1], int(sys.argv[2])
runs = json.load(sys.stdin)["provenance"]["runs"]
assert [r["slurm"]["restart_count"] for r in runs] == list(range(restarts + 1)), runs
assert all(r["slurm"]["job_id"] == job for r in runs), runs
assert [r["outcome"] for r in runs] == ["stopped"] * restarts + ["complete"], [r["outcome"] for r in runs]
' "$job" "${restarts:-0}" && pass "its $((${restarts:-0} + 1)) runs are in the file, each with job $job and its restart count" \
    || fail "the provenance of long.h5: $("$DLN" status "$WORK/long.h5" | tail -6)"
grep -q 'time limit near' "dln-sweep-$job.log" && grep -q 'requeueing job' "dln-sweep-$job.log" \
    && pass "the log tells: $(grep -m1 'units finished; requeueing' "dln-sweep-$job.log")" \
    || fail "log: $(cat "dln-sweep-$job.log")"

# 3. Three shards as a job array, then the merge job slurm/submit adds.
cat > small.ini <<'INI'
[run]
time = 4
snapshots = 5
seeds = 2
methods = sgd, pde
[sweep]
lr = 0.5, 1, 4
dim = 300, 600
alpha = 0.1, 0.3
INI
t0=$(date +%s)
"$SRC/slurm/submit" small.ini "$WORK/small.h5" --array 3 --ntasks=2 > submit-array.log 2>&1 \
    || fail "submit: $(cat submit-array.log)"
array=$(awk '/^submitted job array/ {print $4}' submit-array.log)
merge=$(awk '/^submitted merge job/ {print $4}' submit-array.log)
state=$(wait_job "$merge" 600)
shards=$(scontrol show job "$array" 2> /dev/null | grep -c 'JobState=COMPLETED' || true)
[ "$state" = COMPLETED ] && [ "$shards" -eq 3 ] && complete "$WORK/small.h5" \
    && pass "job array $array: $shards shards COMPLETED, merge job $merge $state in $(( $(date +%s) - t0 )) s" \
    || fail "job array $array: $shards shards completed, merge $state: $(cat dln-merge-"$merge".log 2> /dev/null)"
# The merged file carries every shard's run, each with its array task, then the merge's.
"$DLN" status --json "$WORK/small.h5" | python3 -c '
import json, sys
runs = json.load(sys.stdin)["provenance"]["runs"]
shards = sorted((r["shard"], r["slurm"]["array_task_id"]) for r in runs[:-1])
assert shards == [("1/3", "1"), ("2/3", "2"), ("3/3", "3")], shards
assert runs[-1]["kind"] == "merge", runs[-1]
' && pass "small.h5 carries the runs of its 3 shards (array tasks 1-3) and of the merge" \
    || fail "the provenance of small.h5: $("$DLN" status "$WORK/small.h5" | tail -6)"

# 4. The array's sweep extended (more learning rates and replicates) by a 2-shard job array with
#    --from: each shard copies its old units from small.h5, the merge gives the bigger file.
sed -e 's/^lr = .*/lr = 0.5, 1, 2, 4/' -e 's/^seeds = .*/seeds = 3/' small.ini > bigger.ini
sha256sum "$WORK/small.h5" > small.sha256
t0=$(date +%s)
"$SRC/slurm/submit" bigger.ini "$WORK/bigger.h5" --array 2 --from "$WORK/small.h5" --ntasks=2 > submit-extend.log 2>&1 \
    || fail "submit --from: $(cat submit-extend.log)"
array=$(awk '/^submitted job array/ {print $4}' submit-extend.log)
merge=$(awk '/^submitted merge job/ {print $4}' submit-extend.log)
state=$(wait_job "$merge" 600)
copied=$(cat dln-sweep-"${array}"_*.log 2> /dev/null | grep -o '(.* copied' | awk '{n += substr($1, 2)} END {print n + 0}')
[ "$state" = COMPLETED ] && complete "$WORK/bigger.h5" && [ "$copied" -eq 30 ] && sha256sum -c --quiet small.sha256 \
    && pass "extension by job array $array: merge job $merge $state in $(( $(date +%s) - t0 )) s, $copied units copied, small.h5 unchanged" \
    || fail "extension by job array $array: merge $state, $copied copied: $(cat dln-sweep-"${array}"_*.log 2> /dev/null | tail -5)"

# The same sweeps without Slurm, uninterrupted and unsharded: the results must be identical.
for name in quick long small bigger; do
    config=$name.ini
    [ $name = quick ] && config=$SRC/sweeps/quick.ini
    "$MPIEXEC" -n 3 "$DLN" sweep -q --config "$config" --output "$WORK/$name-ref.h5" > /dev/null \
        || fail "reference $name"
    result=$("$SAME" "$WORK/$name-ref.h5" "$WORK/$name.h5") && pass "$name: $result" || fail "$name: $result"
done
pass "Slurm tests took $(( $(date +%s) - began )) s"
finish
