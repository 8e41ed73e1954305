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
finish() {
    if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
    echo "all checks passed"
}
