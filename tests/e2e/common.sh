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
finish() {
    if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
    echo "all checks passed"
}
