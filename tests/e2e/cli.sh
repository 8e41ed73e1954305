# The command line as a user meets it: help, version, the default run's CSV.
source "$(dirname "$0")/common.sh"

"$DLN" --version | grep -Eq '^dln [0-9]+\.[0-9]+\.[0-9]+$' && pass "--version" || fail "--version"
# The output is captured first: grep -q stops reading at its first match, and under pipefail
# the writer's SIGPIPE would fail the check.
grep -q 'sweep' <<< "$("$DLN" --help)" && pass "--help lists the commands" || fail "--help"
grep -q 'data.sparsity' <<< "$("$DLN" run --help)" && pass "run --help lists the keys" || fail "run --help"
grep -q -- '--output' <<< "$("$DLN" sweep --help)" && pass "sweep --help" || fail "sweep --help"

"$DLN" run > "$WORK/default.csv"
header=$(head -1 "$WORK/default.csv")
[ "$header" = "method,seed,t,risk,excess,dist,l1,curvature,gradnorm,balance,false_support" ] \
    && pass "CSV header" || fail "CSV header: $header"
# Defaults: 41 snapshots of one replicate of sgd.
[ "$(tail -n +2 "$WORK/default.csv" | wc -l)" -eq 41 ] && pass "41 rows" || fail "row count"
# Same seed, same numbers; another seed, other numbers.
"$DLN" run > "$WORK/again.csv"
cmp -s "$WORK/default.csv" "$WORK/again.csv" && pass "reproducible" || fail "not reproducible"
"$DLN" run --run.seed 2 > "$WORK/other.csv"
cmp -s "$WORK/default.csv" "$WORK/other.csv" && fail "seed ignored" || pass "seed matters"
# Replicates and methods multiply the rows; the file's keys are read, the command line wins.
printf '[run]\nseeds = 3\nsnapshots = 5\n[sweep]\nlr = 0.25\n' > "$WORK/point.ini"
"$DLN" run --config "$WORK/point.ini" --run.snapshots 6 > "$WORK/point.csv"
[ "$(tail -n +2 "$WORK/point.csv" | wc -l)" -eq 18 ] && pass "3 replicates x 6 snapshots" || fail "config file rows"
# A divergent run prints NaN after its divergence and says so, but exits 0: it is a result.
"$DLN" run --model.parametrization=linear --lr 2.5 --run.time 20 --dim 100 > "$WORK/div.csv" 2> "$WORK/div.err"
tail -1 "$WORK/div.csv" | grep -q ',nan' && pass "NaN after divergence" || fail "divergence rows"
grep -q 'diverged at t = ' "$WORK/div.err" && pass "divergence reported" || fail "divergence message"
# All three methods: SGD and the SDE per replicate, the PDE once (it has no replicates).
"$DLN" run --method sgd,sde,pde --run.seeds 2 --dim 200 --run.snapshots 5 > "$WORK/all.csv"
for m in sgd sde pde; do
    want=10; [ $m = pde ] && want=5
    [ "$(grep -c "^$m," "$WORK/all.csv")" -eq $want ] && pass "$m rows" || fail "$m rows: $(grep -c "^$m," "$WORK/all.csv")"
done
# dln status reads a sweep file without MPI: counts per method add up to the grid.
"$DLN" sweep -q --output "$WORK/s.h5" --method sgd,pde --lr "0.5, 9" --dim 30 --alpha "0.1, 0.3" --run.seeds 2 \
    --run.time 1 > /dev/null
"$DLN" status "$WORK/s.h5" > "$WORK/status.txt"
grep -Eq '^sgd +8 +[0-9]+ +[0-9]+ +0 +0$' "$WORK/status.txt" && pass "status: sgd 8 units, none pending" \
    || fail "status sgd: $(cat "$WORK/status.txt")"
grep -Eq '^pde +4 ' "$WORK/status.txt" && pass "status: pde 4 units" || fail "status pde: $(cat "$WORK/status.txt")"
finish
