# Every sweep file in sweeps/ is a valid configuration: dln sweep reads and checks all its keys
# and axes, and then refuses only the output path (a directory that does not exist), before
# computing anything.
source "$(dirname "$0")/common.sh"

for ini in "$SRC"/sweeps/*.ini; do
    status=0
    "$DLN" sweep --config "$ini" --output "$WORK/no/such/dir/out.h5" > /dev/null 2> "$WORK/stderr" || status=$?
    if [ $status -eq 2 ] && grep -q -- '--output' "$WORK/stderr"; then pass "$(basename "$ini") is valid"
    else fail "$(basename "$ini"): status $status: $(cat "$WORK/stderr")"
    fi
    head -1 "$ini" | grep -q '^# ' && grep -qi 'core-hours\|core-seconds' "$ini" \
        && pass "$(basename "$ini") says what it shows and what it costs" || fail "$(basename "$ini"): no header comment with its cost"
done
finish
