#!/bin/bash
# Smoke test of the test cluster (tests/slurm/cluster.sh), run by hand, about one minute:
#
#   bash tests/slurm/smoke.sh
#
# Starts a cluster and checks, against the real Slurm:
#   1. a plain batch job runs and writes its output file;
#   2. --signal=B:USR1@30 with --time=1 reaches a batch script that traps it; the script requeues
#      itself (scontrol requeue); the job goes back to PENDING with Restarts=1 and a later
#      EligibleTime (cred_expire + 1 s later), when the second run starts by itself and
#      appends SLURM_RESTART_COUNT=1 to the same output file (--open-mode=append);
#   3. mpirun (Debian's Open MPI 4.1) starts 3 ranks in a job with --ntasks=3 on this node;
#   4. srun --mpi=pmix starts an Open MPI program directly (when mpicc is there to build one).
# Prints the timings, stops the cluster, and exits non-zero at the first failed check.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(mktemp -d)
cluster=$top/cluster
jobs=$top/jobs
mkdir "$jobs"
cd "$jobs"

fail() {
    echo "smoke: FAILED: $*" >&2
    "$here/cluster.sh" logs "$cluster" || true
    exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# The value of FIELD in `scontrol show job JOB`.
job_field() { scontrol show job "$1" | grep -oE "(^| )$2=[^ ]*" | head -n 1 | cut -d= -f2-; }
# wait_state JOB SECONDS STATE...: wait until the job is in one of STATEs.
wait_state() {
    local job=$1 seconds=$2 i state
    shift 2
    for ((i = 0; i < seconds * 4; i++)); do
        state=$(job_field "$job" JobState)
        for s in "$@"; do [ "$state" = "$s" ] && return 0; done
        sleep 0.25
    done
    fail "job $job is $state after $seconds s, expected $*"
}

# run_job SBATCH-ARGS...: submit, wait until the job has ended, fail unless it COMPLETED. Polls
# itself: `sbatch --wait` polls at growing intervals and took 10 s for a 3 s job.
run_job() {
    local job
    job=$(sbatch --parsable "$@") || fail "sbatch $* failed"
    wait_state "$job" 60 COMPLETED FAILED CANCELLED TIMEOUT NODE_FAIL OUT_OF_MEMORY
    [ "$(job_field "$job" JobState)" = COMPLETED ] ||
        fail "job $job ($*): $(job_field "$job" JobState), output: $(cat ./*"$job"* 2>/dev/null)"
    echo "$job"
}

trap '"$here/cluster.sh" stop "$cluster" || true; rm -rf "$top"' EXIT

t=$(now)
eval "$("$here/cluster.sh" start "$cluster")"
echo "smoke: cluster started in $(since "$t") s"

# 1. A plain batch job.
t=$(now)
job=$(run_job --wrap 'hostname; sleep 2')
[ "$(cat "slurm-$job.out")" = "$(hostname -s)" ] || fail "slurm-$job.out: $(cat "slurm-$job.out")"
echo "smoke: 1. hostname job ran, $(since "$t") s from submission to end (2 s of sleep)"

# 2. Signal before the time limit, self-requeue, restart after the requeue delay.
cat >requeue.sbatch <<'EOF'
#!/bin/bash
#SBATCH --time=1
#SBATCH --signal=B:USR1@30
#SBATCH --open-mode=append
#SBATCH --output=requeue.out
# bash runs a trap only between foreground commands: the work runs in the background and the
# shell waits for it (wait returns as soon as a trapped signal arrives).
start=$(date +%s)
echo "run SLURM_RESTART_COUNT=${SLURM_RESTART_COUNT:-none}"
on_usr1() {
    echo "USR1 after $(($(date +%s) - start)) s"
    kill "$worker"
    scontrol requeue "$SLURM_JOB_ID" && echo "requeued"
    exit 0
}
trap on_usr1 USR1
if [ -n "${SLURM_RESTART_COUNT:-}" ]; then exit 0; fi
sleep 300 &
worker=$!
wait
EOF
t=$(now)
job=$(sbatch --parsable requeue.sbatch)
wait_state "$job" 10 RUNNING
started=$(now)
# The signal comes 30-60 s before the limit of 60 s (slurmctld looks every 30 s).
for ((i = 0; i < 4 * 40; i++)); do
    [ "$(job_field "$job" Restarts)" = 1 ] && break
    sleep 0.25
done
[ "$(job_field "$job" Restarts)" = 1 ] || fail "job $job not requeued within 40 s: $(cat requeue.out)"
requeued=$(now)
wait_state "$job" 5 PENDING
grep -q '^requeued$' requeue.out || fail "no 'requeued' in requeue.out: $(cat requeue.out)"
echo "smoke: 2. $(grep USR1 requeue.out) (limit 60 s, asked for 30 s before); requeued" \
    "$(since "$started") s after start: $(scontrol show job "$job" | grep -oE '(JobState|Reason|Restarts|EligibleTime)=[^ ]*' | tr '\n' ' ')"
# Not `scontrol update StartTime=now`: a restart within the second of the requeue is killed by
# slurmd ("Job credential revoked", see slurm.conf.in), so the job waits out its EligibleTime.
wait_state "$job" 30 COMPLETED
echo "smoke:    second run ended $(since "$requeued") s after the requeue"
expected=$(printf '%s\n' "run SLURM_RESTART_COUNT=none" "USR1 after N s" requeued \
    "run SLURM_RESTART_COUNT=1")
[ "$(grep -v '^slurmstepd' requeue.out | sed -E 's/after [0-9]+ s/after N s/')" = "$expected" ] ||
    fail "requeue.out is not as expected: $(cat requeue.out)"

# 3. mpirun with more ranks than real cores.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
t=$(now)
run_job --ntasks=3 --output=mpirun.out --wrap 'mpirun -n 3 hostname' >/dev/null
[ "$(grep -cx "$(hostname -s)" mpirun.out)" = 3 ] || fail "mpirun.out: $(cat mpirun.out)"
echo "smoke: 3. mpirun -n 3 hostname in sbatch --ntasks=3: 3 ranks, $(since "$t") s"

# 4. srun --mpi=pmix, with a real MPI program.
if command -v mpicc >/dev/null; then
    printf '%s\n' '#include <mpi.h>' '#include <stdio.h>' \
        'int main(int c, char **v) { int r, n; MPI_Init(&c, &v);' \
        'MPI_Comm_rank(MPI_COMM_WORLD, &r); MPI_Comm_size(MPI_COMM_WORLD, &n);' \
        'printf("rank %d of %d\n", r, n); MPI_Finalize(); return 0; }' >hello.c
    mpicc -o hello hello.c
    run_job --ntasks=3 --output=srun.out --wrap 'srun --mpi=pmix ./hello' >/dev/null
    [ "$(grep -c ' of 3$' srun.out)" = 3 ] || fail "srun.out: $(cat srun.out)"
    echo "smoke: 4. srun --mpi=pmix ./hello: 3 ranks of one MPI_COMM_WORLD"
else
    echo "smoke: 4. skipped (no mpicc)"
fi

t=$(now)
trap 'rm -rf "$top"' EXIT
"$here/cluster.sh" stop "$cluster"
echo "smoke: cluster stopped in $(since "$t") s"
if pgrep -af -- "$top"; then
    fail "processes of $top are still running"
fi
echo "smoke: all passed"
