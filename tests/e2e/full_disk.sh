# A full disk (issue 16, item 4), on a small tmpfs the test mounts (root; without the right to
# mount, the test is skipped: exit 77, CTest's SKIP_RETURN_CODE):
#   - a sweep that runs out of space stops with one line on stderr and exit status 74 (EX_IOERR),
#     and every unit it reported done is in its journal; once space is freed, --resume completes
#     it bitwise identical to an uninterrupted run. Once alone (one line exactly), once under
#     mpiexec -n 3 (Open MPI adds its own notice of the abort there).
#   - a file system too small for the file itself: exit 74, one line, no partial file left;
#   - a read-only output directory: refused (exit 2, one line) before any compute;
#   - a quota that fills in the middle of creating the file (failpoint create:1:enospc, which no
#     real file system does on cue): exit 74, one line, no partial file, and the old file that
#     --force was to replace still whole.
source "$(dirname "$0")/common.sh"
# Open MPI's session directory of its own: on a shared machine another job's cleanup of /tmp/ompi.*
# made Open MPI print "unable to open file for mmap" beside dln's one line.
export OMPI_MCA_orte_tmpdir_base="$WORK"

disk="$WORK/disk"
mkdir "$disk"
if ! mount -t tmpfs -o size=4m tmpfs "$disk" 2> "$WORK/mount.err"; then
    echo "SKIP: cannot mount a tmpfs here (needs root and the right to mount): $(cat "$WORK/mount.err")"
    exit 77
fi
trap 'umount "$disk" 2> /dev/null; rm -rf "$WORK"' EXIT
remount() { mount -o "remount,$1" "$disk"; }

# 128 short sgd units: the file (allocated in full when it is created) and the journal (about
# 2.7 KiB a unit) are of the same order, so a disk with room for the file and half the journal
# fills in the middle of the sweep.
cat > "$WORK/sweep.ini" <<'INI'
[run]
time = 0.5
methods = sgd
seeds = 4
[sweep]
lr = linspace(0.5, 4, 8)
dim = 20
alpha = 0.1, 0.2, 0.3, 0.5
INI
units=128
"$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/ref.h5" > /dev/null || fail "the uninterrupted sweep"

# The sizes on this tmpfs: a sweep killed once every unit is journaled (failpoint closing).
kill_at_failpoint closing "$WORK/measure.log" "$disk/measure.h5" \
    "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$disk/measure.h5" || fail "failpoint closing not reached"
file_kib=$(du -k "$disk/measure.h5" | cut -f1)
journal_kib=$(du -sk "$disk/measure.h5.journal" | cut -f1)
rm -rf "$disk/measure.h5"*
pass "sizes on tmpfs: file $file_kib KiB, journal of $units units $journal_kib KiB"

# units_reported LOG: the units a progress log says are finished, as "method coordinates".
units_reported() { sed -n 's/^\[[0-9]*\/[0-9]*\] \(.*\): \(done\|diverged\) in .*/\1/p' "$1" | sort; }
# units_journaled OUT: the finished units in OUT's journal, the same way.
units_journaled() {
    "$DLN" status "$1" --journal | awk '$1 ~ /^[0-9]+$/ && ($4 == "done" || $4 == "diverged") {
        line = $3; for (i = 5; i <= NF; ++i) line = line " " $i; print line }' | sort -u
}

# full_then_resume NAME LAUNCH...: the sweep on a disk with room for the file and half the
# journal, then the checks, then --resume on a bigger disk.
full_then_resume() {
    local name=$1 out="$disk/$1.h5" status=0
    shift
    remount size=$(( file_kib + journal_kib / 2 ))k
    "$@" "$DLN" sweep --commit-seconds 0 --config "$WORK/sweep.ini" --output "$out" \
        > "$WORK/$name.out" 2> "$WORK/$name.err" || status=$?
    local reported journaled lost
    reported=$(units_reported "$WORK/$name.out" | wc -l)
    journaled=$(units_journaled "$out" | wc -l)
    lost=$(comm -23 <(units_reported "$WORK/$name.out") <(units_journaled "$out") | wc -l)
    [ "$status" -eq 74 ] && pass "$name: disk full after $reported of $units units reported done: exit status 74" \
        || fail "$name: exit status $status, not 74: $(cat "$WORK/$name.err")"
    local ours
    ours=$(grep -c '^dln sweep: error: ' "$WORK/$name.err" || true)
    if [ $# -eq 0 ]; then  # alone: nothing but dln's one line
        [ "$(wc -l < "$WORK/$name.err")" -eq 1 ] && [ "$ours" -eq 1 ] && pass "$name: one line: $(cat "$WORK/$name.err")" \
            || fail "$name: not one line on stderr: $(cat "$WORK/$name.err")"
    else  # one line per rank that met the full disk, beside Open MPI's notice of the abort
        [ "$ours" -ge 1 ] && pass "$name: $(grep -m1 '^dln sweep: error: ' "$WORK/$name.err")" \
            || fail "$name: no line of dln's on stderr: $(cat "$WORK/$name.err")"
    fi
    grep '^dln sweep: error: ' "$WORK/$name.err" | grep -q 'No space left on device' \
        || fail "$name: the line does not say the disk is full"
    [ "$reported" -gt 0 ] && [ "$reported" -lt "$units" ] || fail "$name: the disk filled after $reported units, not in the middle"
    [ "$lost" -eq 0 ] && pass "$name: units lost: 0 ($reported reported done, $journaled in the journal)" \
        || fail "$name: $lost units reported done are not in the journal"
    remount size=64m
    "$@" "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$out" --resume > "$WORK/$name.resume" 2>&1 \
        && pass "$name: resumed: $(grep -m1 replayed "$WORK/$name.resume" || true)" \
        || fail "$name: --resume after freeing space: $(cat "$WORK/$name.resume")"
    "$SAME" "$WORK/ref.h5" "$out" > "$WORK/$name.same" && pass "$name: $(cat "$WORK/$name.same")" \
        || fail "$name: the resumed file differs from an uninterrupted run's: $(cat "$WORK/$name.same")"
    [ ! -e "$out.journal" ] || fail "$name: the journal is left after the sweep completed"
    rm -rf "$out"*
}
full_then_resume alone
full_then_resume mpi "$MPIEXEC" -n 3

# check_refused NAME STATUS WORDS COMMAND...: exit STATUS, one line on stderr saying WORDS.
check_refused() {
    local name=$1 want=$2 words=$3 status=0
    shift 3
    "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" || status=$?
    if [ "$status" -ne "$want" ]; then fail "$name: exit status $status, not $want: $(cat "$WORK/$name.err")"
    elif [ "$(wc -l < "$WORK/$name.err")" -ne 1 ]; then fail "$name: not one line: $(cat "$WORK/$name.err")"
    elif ! grep -q -- "$words" "$WORK/$name.err"; then fail "$name: does not say '$words': $(cat "$WORK/$name.err")"
    else pass "$name: exit $status: $(cat "$WORK/$name.err")"
    fi
}

# A disk too small for the file itself: its creation fails, and nothing is left that looks like a file.
remount size=$(( file_kib / 2 ))k
check_refused too-small 74 'No space left on device' "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$disk/small.h5"
[ ! -e "$disk/small.h5" ] && [ ! -e "$disk/small.h5.creating" ] && pass "too-small: no partial file left" \
    || fail "too-small: a partial file is left: $(ls "$disk")"
rm -rf "$disk/small.h5"*
remount size=64m

# A read-only output directory: refused before any compute, for a new sweep and for --resume.
cp "$WORK/ref.h5" "$disk/done.h5"
remount ro
check_refused read-only 2 'not writable' "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$disk/new.h5"
check_refused read-only-resume 2 'not writable' "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$disk/done.h5" --resume
grep -q '^\[' "$WORK/read-only.out" "$WORK/read-only-resume.out" && fail "read-only: units computed before the refusal"
remount rw

# A quota that fills while the file is created, over an old file --force would replace.
DLN_FAILPOINT=create:1:enospc check_refused quota-at-create 74 'No space left on device' \
    "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$disk/done.h5" --force
[ ! -e "$disk/done.h5.creating" ] && pass "quota-at-create: no partial file left" || fail "quota-at-create: partial file left"
"$SAME" "$WORK/ref.h5" "$disk/done.h5" > /dev/null && pass "quota-at-create: the old file is whole" \
    || fail "quota-at-create: the old file was clobbered"
# Under mpiexec: the same exit status and line (from rank 0 only), beside Open MPI's notice.
status=0
DLN_FAILPOINT=create:1:enospc "$MPIEXEC" -n 3 "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$disk/done.h5" \
    --force > /dev/null 2> "$WORK/quota-mpi.err" || status=$?
[ "$status" -eq 74 ] && [ "$(grep -c '^dln sweep: error: .*No space left on device' "$WORK/quota-mpi.err")" -eq 1 ] \
    && pass "quota-at-create, mpiexec -n 3: exit 74, one line of dln's" \
    || fail "quota-at-create, mpiexec -n 3: exit $status: $(cat "$WORK/quota-mpi.err")"
"$SAME" "$WORK/ref.h5" "$disk/done.h5" > /dev/null && [ ! -e "$disk/done.h5.creating" ] \
    && pass "quota-at-create, mpiexec -n 3: the old file is whole, no partial file" || fail "quota-at-create, mpiexec -n 3: old file clobbered or partial file left"
finish
