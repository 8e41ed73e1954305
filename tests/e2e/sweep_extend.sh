# Extending a finished sweep (dln sweep --from OLD.h5): the extended file is bitwise a fresh run
# of the bigger grid (every dataset but wall_seconds) when learning rates are added, when
# replicates are added, when an extra axis gains a value, and when everything grows at once
# (dim too, which the PDE has no axis of, and a categorical axis) under sharding and dln merge and through a kill -9 and
# --resume; only the new units are computed; the old file is never modified (its sha256 is
# unchanged); a configuration that changes anything else is refused naming the key, exit 2,
# no file made. Tiny d and T: the whole test takes seconds.
source "$(dirname "$0")/common.sh"

cat > "$WORK/old.ini" <<'INI'
[run]
time = 1
snapshots = 4
seeds = 2
methods = sgd, sde, pde
[pde]
cells = 16
rtol = 0.1
[sweep]
lr = 0.5, 2
dim = 20, 40
alpha = 0.1, 0.3
INI
old_units=$(( 2 * 2 * 2 * 2 * 2 + 2 * 2 ))  # sgd and sde per (lr, dim, alpha, seed); pde per (lr, alpha)

# A unit of the old sweep fails (DLN_FAIL_UNIT: the unit at lr=0.5 dim=20 alpha=0.1 seed=0): the
# extension must compute it, not copy the failure.
DLN_FAIL_UNIT=sgd:0 "$MPIEXEC" -n 2 "$DLN" sweep -q --config "$WORK/old.ini" --output "$WORK/old.h5" \
    > "$WORK/old.log" 2>&1 && grep -q '1 failed' "$WORK/old.log" \
    && pass "old sweep: $(grep '^dln sweep: [0-9]* units' "$WORK/old.log")" || fail "old sweep: $(cat "$WORK/old.log")"
sha256sum "$WORK/old.h5" > "$WORK/old.sha256"
copied=$(( old_units - 1 ))

# bigger NAME SED-SCRIPT [EXTRA INI]: the old configuration changed by SED-SCRIPT, into NAME.ini.
bigger() {
    sed -e "$2" "$WORK/old.ini" > "$WORK/$1.ini"
    [ -z "${3:-}" ] || printf '%b' "$3" >> "$WORK/$1.ini"
}
# extend NAME UNITS: a fresh run of NAME.ini (UNITS units) and its extension from old.h5, which
# must compute UNITS - copied units and give the same file.
extend() {
    local name=$1 units=$2
    "$MPIEXEC" -n 2 "$DLN" sweep -q --config "$WORK/$name.ini" --output "$WORK/$name.fresh.h5" > /dev/null 2>&1 \
        || fail "$name: fresh run"
    "$MPIEXEC" -n 2 "$DLN" sweep -q --config "$WORK/$name.ini" --output "$WORK/$name.h5" --from "$WORK/old.h5" \
        > "$WORK/$name.log" 2>&1 || fail "$name: extension: $(cat "$WORK/$name.log")"
    grep -q "^dln sweep: $(( units - copied )) units .*($copied copied from" "$WORK/$name.log" \
        && pass "$name: computed only the new units: $(grep '^dln sweep: [0-9]* units' "$WORK/$name.log")" \
        || fail "$name: expected $(( units - copied )) computed, $copied copied: $(cat "$WORK/$name.log")"
    result=$("$SAME" "$WORK/$name.fresh.h5" "$WORK/$name.h5") && pass "$name = fresh run: $result" \
        || fail "$name: $result"
}

# Learning rates added before, between and after the old ones.
bigger lr 's/^lr = .*/lr = 0.25, 0.5, 1, 2, 3/'
extend lr $(( 5 * 2 * 2 * 2 * 2 + 5 * 2 ))
# Its provenance: the old file's runs first (they computed the copied units), then the extension's.
old_runs=$("$DLN" status --json "$WORK/old.h5" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["provenance"]["runs"]))')
"$DLN" status --json "$WORK/lr.h5" | /usr/bin/python3 -c '
import json, sys
old_runs, old = int(sys.argv[1]), sys.argv[2]
runs = json.load(sys.stdin)["provenance"]["runs"]
assert len(runs) == old_runs + 1, runs
assert runs[-1]["kind"] == "extend" and runs[-1]["from"] == old, runs[-1]
assert all(r["kind"] != "extend" and r["from"] is None for r in runs[:-1]), runs
' "$old_runs" "$WORK/old.h5" && pass "lr: provenance lists old.h5's $old_runs run(s), then the extension from it" \
    || fail "lr: provenance of the extension"
# Replicates added: the old replicates 0 and 1 keep their numbers.
bigger seeds 's/^seeds = .*/seeds = 4/'
extend seeds $(( 2 * 2 * 2 * 4 * 2 + 2 * 2 ))
# An extra axis gains a value: data.noise, one value (the default 0) in the old sweep.
bigger noise '' '[data]\nnoise = 0.2, 0\n'
extend noise $(( (2 * 2 * 2 * 2 * 2 + 2 * 2) * 2 ))

# Everything at once, dim too (the PDE's units have no dim or seed axis: each is copied once) and
# a categorical axis (the parametrization), as two shards of the extension merged, then through a
# kill -9 and --resume.
bigger all 's/^lr = .*/lr = 0.5, 1, 2/; s/^dim = .*/dim = 10, 20, 40/; s/^seeds = .*/seeds = 3/' \
    '[model]\nparametrization = uv, u2v2\n[data]\nnoise = 0, 0.1\n'
all_units=$(( (3 * 3 * 2 * 3 * 2 * 2 + 3 * 2 * 2) * 2 ))
"$MPIEXEC" -n 2 "$DLN" sweep -q --config "$WORK/all.ini" --output "$WORK/all.fresh.h5" > /dev/null 2>&1 \
    || fail "all: fresh run"
"$DLN" sweep --config "$WORK/all.ini" --from "$WORK/old.h5" --dry-run > "$WORK/dry.txt" \
    && grep -q "^# $(( all_units - copied )) units (the others are copied from" "$WORK/dry.txt" \
    && pass "dry run lists only the units to compute: $(grep '^# [0-9]* units' "$WORK/dry.txt" | cut -c1-70)" \
    || fail "dry run: $(tail -2 "$WORK/dry.txt")"
for k in 1 2; do
    "$MPIEXEC" -n 2 "$DLN" sweep -q --config "$WORK/all.ini" --shard $k/2 --from "$WORK/old.h5" \
        --output "$WORK/all.shard-$k.h5" > "$WORK/shard-$k.log" 2>&1 || fail "shard $k: $(cat "$WORK/shard-$k.log")"
done
shard_copied=$(cat "$WORK"/shard-*.log | grep -o '([0-9]* copied' | tr -d '(' | awk '{n += $1} END {print n}')
[ "$shard_copied" -eq $copied ] && pass "shards copied $shard_copied units between them" \
    || fail "shards copied $shard_copied units, not $copied"
"$DLN" merge "$WORK/all.merged.h5" "$WORK"/all.shard-{1,2}.h5 > "$WORK/merge.log" 2>&1 \
    && result=$("$SAME" "$WORK/all.fresh.h5" "$WORK/all.merged.h5") && pass "shards of the extension merged = fresh run: $result" \
    || fail "sharded extension: $(cat "$WORK/merge.log") $result"

# kill -9 in the middle of the copy (its first write of many units), then in the middle of
# computing (a worker's second group commit), then --resume --from to the end.
out="$WORK/all.crashed.h5"
kill_at_failpoint writing-many:1 "$WORK/kill1.log" "$out" \
    "$MPIEXEC" -n 2 "$DLN" sweep --config "$WORK/all.ini" --output "$out" --from "$WORK/old.h5" --commit-seconds 0 \
    && pass "killed during the copy" || fail "copy failpoint not reached: $(cat "$WORK/kill1.log")"
kill_at_failpoint journaled:2 "$WORK/kill2.log" "$out" \
    "$MPIEXEC" -n 2 "$DLN" sweep --config "$WORK/all.ini" --output "$out" --from "$WORK/old.h5" --commit-seconds 0 --resume \
    && pass "killed while computing: $(grep -o 'dln sweep: copied [0-9]* units' "$WORK/kill2.log")" \
    || fail "compute failpoint not reached: $(cat "$WORK/kill2.log")"
# The old sweep kept its journal (a unit failed once, for a resume to retry): the user is told.
grep -q "old.h5' has a journal" "$WORK/kill2.log" && pass "an unfinished old sweep is named: $(grep -o "has a journal.*" "$WORK/kill2.log")" \
    || fail "no line about the old sweep's journal: $(cat "$WORK/kill2.log")"
"$MPIEXEC" -n 2 "$DLN" sweep -q --config "$WORK/all.ini" --output "$out" --from "$WORK/old.h5" --resume \
    > "$WORK/resume.log" 2>&1 && [ ! -e "$out.journal" ] \
    && result=$("$SAME" "$WORK/all.fresh.h5" "$out") && pass "kill -9 twice, --resume: $result" \
    || fail "resumed extension: $(cat "$WORK/resume.log") $result"

# Refusals, before anything is made: one line naming the key, exit 2.
refused() {
    local what=$1 key=$2 status=0
    shift 2
    rm -f "$WORK/refused.h5"
    "$DLN" sweep -q --output "$WORK/refused.h5" "$@" > "$WORK/err" 2>&1 || status=$?
    [ $status -eq 2 ] && [ "$(wc -l < "$WORK/err")" -eq 1 ] && grep -q -- "$key" "$WORK/err" \
        && [ ! -e "$WORK/refused.h5" ] && [ ! -e "$WORK/refused.h5.journal" ] \
        && pass "$what refused: $(cat "$WORK/err")" || fail "$what: status $status, $(cat "$WORK/err")"
}
refused "another run.time" run.time --from "$WORK/old.h5" --config "$WORK/lr.ini" --run.time 2
refused "a dropped learning rate" 'sweep.lr (drops 2)' --from "$WORK/old.h5" --config "$WORK/old.ini" --lr 0.5,1
refused "fewer replicates" run.seeds --from "$WORK/old.h5" --config "$WORK/old.ini" --run.seeds 1
refused "another global seed" run.seed --from "$WORK/old.h5" --config "$WORK/old.ini" --run.seed 7
refused "another method list" run.methods --from "$WORK/old.h5" --config "$WORK/old.ini" --method sgd,sde
refused "a changed single value" 'data.scale (1 -> 2)' --from "$WORK/old.h5" --config "$WORK/old.ini" --data.scale 2
refused "a missing old file" "--from" --config "$WORK/old.ini" --from "$WORK/nothing.h5"
cp "$WORK/old.h5" "$WORK/same.h5"
status=0
"$DLN" sweep -q --config "$WORK/old.ini" --output "$WORK/same.h5" --from "$WORK/same.h5" --force > "$WORK/err" 2>&1 || status=$?
[ $status -eq 2 ] && grep -q 'also the output' "$WORK/err" && cmp -s "$WORK/old.h5" "$WORK/same.h5" \
    && pass "the old file as the output refused: $(cat "$WORK/err")" || fail "output = --from: status $status, $(cat "$WORK/err")"

sha256sum -c --quiet "$WORK/old.sha256" && pass "the old file is unchanged (sha256)" || fail "the old file changed"
finish
