# Signals at the edges (README "Interruptions, crashes and resuming"), each followed by --resume to
# the bitwise result of an uninterrupted run:
# - SIGTERM to mpirun alone. Open MPI 4.1's mpirun does not forward SIGTERM (its
#   ess_base_forward_signals refuses it): it sends the ranks SIGTERM itself, SIGKILL one second
#   later (odls_base_sigkill_timeout) and exits with status 1 whatever the ranks return. So the
#   status is 1, not 75, and only the journal makes the stop safe; SIGUSR1 to mpirun gives 75
#   (resume_and_signal.sh).
# - A second signal while the sweep shuts down after a first one: to a lone process, to mpirun
#   (SIGUSR1 twice) and to every rank (SIGTERM twice): still status 75. A second SIGINT kills a
#   lone process (status 130, as documented), a second SIGTERM to mpirun changes nothing.
# - SIGPIPE: `dln status FILE | head -1` prints its first line, no noise, and dln dies of SIGPIPE
#   (status 141 in the shell, the coreutils convention).
source "$(dirname "$0")/common.sh"

cat > "$WORK/sweep.ini" <<'INI'
[run]
time = 4
snapshots = 5
seeds = 2
methods = sgd, pde
[sweep]
lr = 0.5, 2
dim = 2000, 4000
alpha = 0.1, 0.3
INI
"$MPIEXEC" -n 3 "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/full.h5" > "$WORK/full.log" \
    && pass "uninterrupted: $(tail -1 "$WORK/full.log")" || fail "uninterrupted run: $(cat "$WORK/full.log")"

# resumed NAME OUT: --resume completes OUT, and its results are bitwise the uninterrupted run's.
resumed() {
    local name=$1 out=$2 result
    sweep_gone "$out" || fail "$name: processes of the stopped sweep still run 10 s after it ended"
    "$MPIEXEC" -n 3 "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$out" --resume > "$WORK/$name-resume.log" 2>&1 \
        && pass "$name: resumed: $(grep '^dln sweep: [0-9]' "$WORK/$name-resume.log" | head -1)" \
        || fail "$name: resume: $(cat "$WORK/$name-resume.log")"
    result=$("$SAME" "$WORK/full.h5" "$out") && pass "$name: $result" || fail "$name: $result"
}

# wait_marker MARKER PID: until the failpoint's MARKER exists (or PID has ended). 0 if it exists.
wait_marker() {
    for _ in $(seq 1200); do
        { [ -e "$1" ] || ! kill -0 "$2" 2> /dev/null; } && break
        sleep 0.05
    done
    [ -e "$1" ]
}

# release MARKER PID: lets every process paused at the failpoint go on, and waits for PID; its
# exit status goes to $status, the milliseconds since $signalled to $ms. Each rank passes the
# failpoint once and creates the marker if it is not there, so it is removed until PID ends.
release() {
    local marker=$1 pid=$2
    while kill -0 "$pid" 2> /dev/null; do
        rm -f "$marker"
        sleep 0.05
    done
    status=0
    wait "$pid" || status=$?
    ms=$(( ($(date +%s%N) - signalled) / 1000000 ))
}

# sweep_at POINT NAME NP: starts the sweep writing $WORK/NAME.h5 on NP ranks (NP 0: without
# mpirun), paused at failpoint POINT (first pass) until released; its pid in $pid.
sweep_at() {
    local point=$1 name=$2 np=$3
    marker="$WORK/$name.marker"
    local cmd=("$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/$name.h5")
    [ "$np" -gt 0 ] && cmd=("$MPIEXEC" -n "$np" "${cmd[@]}")
    DLN_FAILPOINT=$point:1:resume DLN_FAILPOINT_MARKER=$marker "${cmd[@]}" > "$WORK/$name.log" 2>&1 &
    pid=$!
}

# started NAME: waits until the sweep has created its file: every rank has its handlers (they
# are installed first thing; a signal that comes earlier, while the dynamic loader maps the
# libraries, kills the process: 50 ms after exec, measured with strace 2026-12-01).
started() {
    for _ in $(seq 1200); do
        { [ -e "$WORK/$1.h5" ] || ! kill -0 $pid 2> /dev/null; } && break
        sleep 0.05
    done
    [ -e "$WORK/$1.h5" ] || { fail "$1: no file created: $(cat "$WORK/$1.log")"; return 1; }
}

# (a) SIGTERM to mpirun alone, once the first unit is journaled (mid-sweep, handlers in place).
sweep_at journaled mpirun-term 3
if wait_marker "$marker" $pid; then
    kill -TERM $pid
    signalled=$(date +%s%N)
    release "$marker" $pid
    [ $status -eq 1 ] && [ $ms -le 30000 ] \
        && pass "SIGTERM to mpirun: status 1 (Open MPI's own) after $ms ms" \
        || fail "SIGTERM to mpirun: status $status after $ms ms: $(cat "$WORK/mpirun-term.log")"
    resumed mpirun-term "$WORK/mpirun-term.h5"
else
    fail "SIGTERM to mpirun: failpoint journaled not reached: $(cat "$WORK/mpirun-term.log")"
fi

# (b) A second signal in shutdown: the first as soon as the sweep has created its file (a process
# passes one failpoint per run, so not at a failpoint), the second while a rank is paused at
# failpoint `closing`, between the end of its work and the closing of the file.
# second_signal NAME NP SIGNAL TARGET EXPECTED: TARGET is mpirun, ranks or self (a lone process).
second_signal() {
    local name=$1 np=$2 signal=$3 target=$4 expected=$5 i
    sweep_at closing "$name" "$np"
    started "$name" || return 0
    for i in first second; do
        [ $i = second ] && ! wait_marker "$marker" $pid && break
        case $target in
            mpirun | self) kill -"$signal" $pid ;;
            ranks) pkill -"$signal" -P $pid ;;
        esac
        [ $i = first ] && signalled=$(date +%s%N)
    done
    [ -e "$marker" ] || fail "$name: failpoint closing not reached: $(cat "$WORK/$name.log")"
    release "$marker" $pid
    [ $status -eq "$expected" ] && [ $ms -le 30000 ] \
        && pass "$name: SIG$signal twice to $target: status $status after $ms ms" \
        || fail "$name: SIG$signal twice to $target: status $status (not $expected) after $ms ms: $(cat "$WORK/$name.log")"
    resumed "$name" "$WORK/$name.h5"
}
second_signal lone-term 0 TERM self 75
second_signal mpirun-usr1 3 USR1 mpirun 75
second_signal ranks-term 3 TERM ranks 75
second_signal lone-int 0 INT self 130  # Ctrl-C twice: killed outright; the journal holds what was done
# SIGTERM twice to mpirun: the first already ends the job within about a second (see above), so
# the second comes 0.3 s after it, during Open MPI's abort, whether or not a rank got to `closing`.
sweep_at closing mpirun-term-twice 3
started mpirun-term-twice
kill -TERM $pid
signalled=$(date +%s%N)
sleep 0.3
kill -TERM $pid 2> /dev/null || true
release "$marker" $pid
[ $status -eq 1 ] && [ $ms -le 30000 ] && pass "mpirun-term-twice: SIGTERM twice to mpirun: status 1 after $ms ms" \
    || fail "mpirun-term-twice: status $status after $ms ms: $(cat "$WORK/mpirun-term-twice.log")"
resumed mpirun-term-twice "$WORK/mpirun-term-twice.h5"

# (c) SIGPIPE: the reader gone. `| head -1` on the journal listing (many lines), and a pipe whose
# read end is closed before dln writes anything (nothing left to chance).
set +e
first=$("$DLN" status "$WORK/mpirun-term-twice.h5" --journal 2> "$WORK/pipe.err" | head -1)
pipe_status=${PIPESTATUS[0]}
set -e
[ -n "$first" ] && [ ! -s "$WORK/pipe.err" ] && { [ "$pipe_status" -eq 0 ] || [ "$pipe_status" -eq 141 ]; } \
    && pass "status | head -1: '$first', status $pipe_status, nothing on stderr" \
    || fail "status | head -1: '$first', status $pipe_status: $(cat "$WORK/pipe.err")"
for args in "status $WORK/full.h5" "status $WORK/full.h5 --journal" "--help"; do
    result=$(/usr/bin/python3 - "$DLN" $args <<'PY'
import os, subprocess, sys
r, w = os.pipe()
os.close(r)  # no reader: the first write raises SIGPIPE (subprocess restores its default action)
p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE)
print(128 - p.returncode if p.returncode < 0 else p.returncode, len(p.stderr))
PY
)
    [ "$result" = "141 0" ] && pass "dln $args into a closed pipe: status 141 (SIGPIPE), nothing on stderr" \
        || fail "dln $args into a closed pipe: status and stderr bytes $result"
done
# A caller that ignores SIGPIPE (dln inherits it): the write fails with EPIPE instead, and the lost
# output must show in the status (74, EX_IOERR) and one line on stderr, not a silent 0.
for args in "status $WORK/full.h5 --journal" "--help"; do
    result=$(/usr/bin/python3 - "$DLN" $args <<'PY'
import os, signal, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE, restore_signals=False,
                   preexec_fn=lambda: signal.signal(signal.SIGPIPE, signal.SIG_IGN))
print(p.returncode, len(p.stderr.decode().strip().splitlines()))
PY
)
    [ "$result" = "74 1" ] && pass "dln $args into a closed pipe, SIGPIPE ignored: status 74, one line on stderr" \
        || fail "dln $args into a closed pipe, SIGPIPE ignored: status and stderr lines $result"
done
finish
