# dln sweep (sgd, sde and pde) under mpiexec -n 1, 2, 3 and 5 (oversubscribed on 2 cores): the
# result datasets are bitwise identical, whatever the number of ranks and so the order in which
# units were computed, and whether sgd units run alone (--batch 1) or in lockstep batches. The
# grid has two extra axes, one categorical (the parametrization) and one numeric (the noise).
source "$(dirname "$0")/common.sh"

cat > "$WORK/sweep.ini" <<'INI'
[model]
parametrization = u2v2, uv
[data]
noise = 0.05, 0.2
target = rademacher
[run]
time = 3
snapshots = 7
seeds = 2
methods = sgd, sde, pde
[sweep]
lr = 0.5, 2, 9
dim = 40, 120, 80
alpha = 0.05, 0.3
INI
for np in 1 2 3 5; do
    "$MPIEXEC" -n $np "$DLN" sweep -q --config "$WORK/sweep.ini" --output "$WORK/np$np.h5" > "$WORK/np$np.log" \
        && pass "np=$np: $(tail -1 "$WORK/np$np.log")" || fail "np=$np: $(cat "$WORK/np$np.log")"
done
grep -q ' diverged' "$WORK/np1.log" && grep -vq ' 0 diverged' "$WORK/np1.log" \
    && pass "the grid includes diverged units" || fail "no divergence in the grid"
for group in sgd sde pde; do
    h5ls "$WORK/np1.h5/$group" | grep -q risk && pass "/$group written" || fail "/$group missing"
done
# The PDE has no dim or seed axes: [lr, alpha, parametrization, noise, time].
h5ls "$WORK/np1.h5/pde/risk" | grep -q '{3, 2, 2, 2, 7}' && pass "/pde/risk is [lr, alpha, parametrization, noise, time]" \
    || fail "/pde/risk shape: $(h5ls "$WORK/np1.h5/pde/risk")"
h5ls "$WORK/np1.h5/sgd/risk" | grep -q '{3, 3, 2, 2, 2, 2, 7}' && pass "/sgd/risk is [lr, dim, alpha, parametrization, noise, seed, time]" \
    || fail "/sgd/risk shape: $(h5ls "$WORK/np1.h5/sgd/risk")"
for np in 2 3 5; do
    result=$("$SAME" "$WORK/np1.h5" "$WORK/np$np.h5") && pass "np=1 vs np=$np: $result" || fail "np=1 vs np=$np: $result"
done
# Batches of up to 16 (the default), of 4, and none: every sgd member is bitwise its lone run.
for batch in 1 4; do
    "$MPIEXEC" -n 3 "$DLN" sweep -q --config "$WORK/sweep.ini" --batch $batch --output "$WORK/batch$batch.h5" > /dev/null
    result=$("$SAME" "$WORK/np3.h5" "$WORK/batch$batch.h5") && pass "batch $batch vs 16: $result" \
        || fail "batch $batch vs 16: $result"
done
finish
