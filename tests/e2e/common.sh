# Shared by the end-to-end tests: $1 the dln binary, $2 the source tree, $3 h5_same_results.
set -euo pipefail
DLN=$1
SRC=$2
SAME=${3:-}
MPIEXEC=${MPIEXEC:-mpiexec}
WORK=$(mktemp -d /tmp/dln-e2e.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
failures=0
pass() { echo "ok: $*"; }
fail() { echo "FAILED: $*"; failures=$((failures + 1)); }
# signal_at POINT:N SIGNAL LOG COMMAND...: runs COMMAND (one dln process) in the background
# until it passes failpoint POINT for the N-th time (DLN_FAILPOINT=POINT:N:resume), sends it
# SIGNAL there, lets it go on and waits for it; its output goes to LOG, its exit status to
# $status. A stop request at an exact moment, where a sleep would race the program's speed.
signal_at() {
    local point=$1 signal=$2 log=$3 marker pid
    shift 3
    marker=$(mktemp -u "$WORK/failpoint.XXXXXX")
    DLN_FAILPOINT=$point:resume DLN_FAILPOINT_MARKER=$marker "$@" > "$log" 2>&1 &
    pid=$!
    for _ in $(seq 600); do
        { [ -e "$marker" ] || ! kill -0 $pid 2> /dev/null; } && break
        sleep 0.05
    done
    [ -e "$marker" ] || fail "failpoint $point not reached: $(cat "$log")"
    kill -"$signal" $pid 2> /dev/null || true
    sleep 0.2  # the handler runs as soon as the process is scheduled: ample
    rm -f "$marker"
    status=0
    wait $pid || status=$?
}
# sweep_gone OUT: waits (up to 10 s) until no process of the sweep writing OUT is left (their
# command lines name it). mpirun may exit before the ranks it killed have: until they are gone,
# the sweep's hold on OUT rightly refuses another sweep on it. Status 1 if some survive.
sweep_gone() {
    for _ in $(seq 100); do
        pgrep -f -- "--output $1" > /dev/null || return 0
        sleep 0.1
    done
    return 1
}
# kill_sweep OUT: kill -9 every process of the sweep writing OUT (mpiexec and all its ranks),
# and wait until none is left.
kill_sweep() {
    pkill -KILL -f -- "--output $1" || true
    sweep_gone "$1" || fail "processes of the sweep survived kill -9"
}
# kill_at_failpoint POINT LOG OUT COMMAND...: runs COMMAND (a sweep writing OUT) in the background
# until one of its processes passes failpoint POINT (DLN_FAILPOINT), then kills the whole sweep.
# Its output goes to LOG. Status 1 if it ended without reaching the failpoint.
kill_at_failpoint() {
    local point=$1 log=$2 target=$3 marker job
    shift 3
    marker=$(mktemp -u "$WORK/failpoint.XXXXXX")
    DLN_FAILPOINT=$point DLN_FAILPOINT_MARKER=$marker "$@" > "$log" 2>&1 &
    job=$!
    disown $job  # its "Killed" is expected, not news
    for _ in $(seq 600); do
        [ -e "$marker" ] && break
        kill -0 $job 2> /dev/null || break
        sleep 0.05
    done
    [ -e "$marker" ] || return 1
    kill_sweep "$target"
    rm -f "$marker"
}
# check_journal_once OUT UNITS: the journal of the sweep OUT holds UNITS finished (done or
# diverged) units, none twice (a failed unit may appear again: it is retried). dln status
# --journal's columns: run rank method status unit (the unit by its coordinates, several words).
check_journal_once() {
    local out=$1 units=$2 recorded twice
    "$DLN" status "$out" --journal | awk '$1 ~ /^[0-9]+$/ && ($4 == "done" || $4 == "diverged")' \
        > "$WORK/journal.txt" || true
    recorded=$(wc -l < "$WORK/journal.txt")
    twice=$(awk '{$1 = $2 = $4 = ""; print}' "$WORK/journal.txt" | sort | uniq -d | wc -l)
    [ "$recorded" -eq "$units" ] && [ "$twice" -eq 0 ] \
        && pass "journal: $recorded finished units over $(awk '{print $1}' "$WORK/journal.txt" | sort -u | wc -l) runs, none twice" \
        || fail "journal: $recorded finished units of $units, $twice computed twice"
}
finish() {
    if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
    echo "all checks passed"
}
