# Bad input: exit status 2, exactly one line on stderr naming the key, no output file, and no
# file changed (the work directory holds an earlier sweep's file and a journal to guard).
source "$(dirname "$0")/common.sh"

# Every file under the work directory with its checksum, but the captured output of the check.
fingerprint() {
    find "$WORK" -path "$WORK/stdout" -prune -o -path "$WORK/stderr" -prune -o -type f -print0 |
        sort -z | xargs -0 md5sum
}

check_rejected() {  # name-of-key, then the dln arguments
    local key=$1; shift
    local out="$WORK/out.h5" status=0
    rm -f "$out"
    local before
    before=$(fingerprint)
    "$DLN" "$@" > "$WORK/stdout" 2> "$WORK/stderr" || status=$?
    local lines
    lines=$(wc -l < "$WORK/stderr")
    if [ "$status" -ne 2 ]; then fail "$*: exit status $status, not 2"
    elif [ "$lines" -ne 1 ]; then fail "$*: $lines lines on stderr: $(cat "$WORK/stderr")"
    elif ! grep -qF -- "$key" "$WORK/stderr"; then fail "$*: '$key' not named in: $(cat "$WORK/stderr")"
    elif [ -e "$out" ]; then fail "$*: created $out"
    elif [ "$(fingerprint)" != "$before" ]; then fail "$*: changed a file"
    else pass "$* -> $(cat "$WORK/stderr")"
    fi
}

# The earlier sweep has two extra axes, a numeric and a categorical one.
axes=(--data.noise "0, 0.1" --data.target "constant, rademacher")
"$DLN" sweep -q --output "$WORK/earlier.h5" --dim 20 --run.time 0.5 "${axes[@]}" > /dev/null
mkdir "$WORK/unfinished.h5.journal" && echo "[run]" > "$WORK/unfinished.h5.journal/config.ini"
printf '[data]\nnoisy = 0.1\n' > "$WORK/unknown.ini"
printf '[run]\nmethods = sgd\nmethods = sgd\n' > "$WORK/twice.ini"
for cmd in run sweep; do
    extra=()
    [ "$cmd" = sweep ] && extra=(--output "$WORK/out.h5")
    check_rejected data.noisy $cmd --config "$WORK/unknown.ini" "${extra[@]}"
    check_rejected run.methods $cmd --config "$WORK/twice.ini" "${extra[@]}"
    check_rejected --bogus $cmd --bogus=1 "${extra[@]}"
    check_rejected data.noise $cmd --data.noise=0.1x "${extra[@]}"
    check_rejected data.noise $cmd --data.noise=inf "${extra[@]}"
    check_rejected data.noise $cmd --data.noise=nan "${extra[@]}"
    check_rejected run.time $cmd --run.time=abc "${extra[@]}"
    check_rejected run.time $cmd --run.time=0 "${extra[@]}"
    check_rejected run.time $cmd --run.time=-2 "${extra[@]}"
    check_rejected run.snapshots $cmd --run.snapshots=0 "${extra[@]}"
    check_rejected run.snapshots $cmd --run.snapshots=-3 "${extra[@]}"
    check_rejected run.seeds $cmd --run.seeds=-1 "${extra[@]}"
    check_rejected sweep.lr $cmd --lr 0 "${extra[@]}"
    check_rejected sweep.lr $cmd --lr=-0.5 "${extra[@]}"
    check_rejected sweep.alpha $cmd --alpha 0 "${extra[@]}"
    check_rejected sweep.alpha $cmd --alpha=-1 "${extra[@]}"
    check_rejected data.exponent $cmd --data.exponent=1 "${extra[@]}"
    check_rejected data.exponent $cmd --data.exponent=-0.1 "${extra[@]}"
    check_rejected data.sparsity $cmd --data.sparsity=-0.1 "${extra[@]}"
    check_rejected sweep.lr $cmd --lr "logspace(-1, 1, 0)" "${extra[@]}"
    check_rejected sweep.lr $cmd --lr "linspace(1, 2, x)" "${extra[@]}"
    check_rejected sweep.lr $cmd --lr "logspace(-1, 1" "${extra[@]}"
    check_rejected sweep.dim $cmd --dim "100, 100" "${extra[@]}"
    check_rejected sweep.dim $cmd --sweep.dim= "${extra[@]}"
    check_rejected sweep $cmd --lr "linspace(0.1, 1, 10000)" --alpha "linspace(0.1, 1, 10000)" "${extra[@]}"
    check_rejected config $cmd --config "$WORK" "${extra[@]}"
    check_rejected sweep.dim $cmd --dim -5 "${extra[@]}"
    check_rejected sweep.dim $cmd --sweep.dim=0 "${extra[@]}"
    check_rejected sweep.alpha $cmd --sweep.alpha= "${extra[@]}"
    check_rejected sweep.lr $cmd --lr "linspace(0.1, 1)" "${extra[@]}"
    check_rejected sweep.lr $cmd --lr "1, 1" "${extra[@]}"
    check_rejected model.parametrization $cmd --model.parametrization=mlp "${extra[@]}"
    check_rejected data.sparsity $cmd --data.sparsity=1.5 "${extra[@]}"
    check_rejected run.seeds $cmd --run.seeds=0 "${extra[@]}"
    check_rejected config $cmd --config "$WORK/missing.ini" "${extra[@]}"
    # Axes on keys that cannot be axes, values that do not exist, repeated values, a grid too large.
    check_rejected run.time $cmd --run.time "1, 2" "${extra[@]}"
    check_rejected run.snapshots $cmd --run.snapshots "linspace(2, 4, 2)" "${extra[@]}"
    check_rejected pde.rtol $cmd --pde.rtol "1e-3, 1e-4" "${extra[@]}"
    check_rejected data.spectrum_file $cmd --data.spectrum_file "a.txt, b.txt" "${extra[@]}"
    check_rejected data.target $cmd --data.target "constant, gaussan" "${extra[@]}"
    check_rejected model.parametrization $cmd --model.parametrization "uv, uv" "${extra[@]}"
    check_rejected data.noise $cmd --data.noise "0.1, 0.1" "${extra[@]}"
    check_rejected data.noise $cmd --data.noise "0, -0.1" "${extra[@]}"
    check_rejected data.sparsity $cmd --data.sparsity "linspace(0, 2, 3)" "${extra[@]}"
    check_rejected "x noise x scale x seeds" $cmd --lr "linspace(0.1, 1, 100)" --alpha "linspace(0.1, 1, 100)" \
        --data.noise "linspace(0, 1, 100)" --data.scale "linspace(1, 2, 11)" "${extra[@]}"
done
check_rejected data.noise run --data.noise "0, 0.1"
check_rejected model.parametrization run --model.parametrization "u2v2, uv"
check_rejected sweep.lr run --lr "0.5, 1"
check_rejected sde.dt run --method sde --sde.dt=0
check_rejected pde.cells run --method pde --pde.cells=2
check_rejected pde.width run --method pde --pde.width=-1
check_rejected pde.target_nodes run --method pde --pde.target_nodes=0
check_rejected --output sweep
check_rejected --output sweep --output "$WORK/no/such/dir/out.h5"
check_rejected "unknown command" frobnicate
check_rejected "is not a file" status "$WORK/missing.h5"
check_rejected "not a readable HDF5 file" status "$SRC/README.md"
check_rejected "no sweep file" status
check_rejected "--force" sweep --output "$WORK/earlier.h5" --dim 20 "${axes[@]}"
check_rejected "unfinished sweep" sweep --output "$WORK/unfinished.h5" --dim 20
check_rejected "--resume" sweep --output "$WORK/earlier.h5" --dim 20 --resume --force
check_rejected "--retry-failed" sweep --output "$WORK/earlier.h5" --dim 20 --retry-failed
check_rejected "sweep.dim differ" sweep --output "$WORK/earlier.h5" --dim 30 --run.time 0.5 --resume "${axes[@]}"
check_rejected "data.noise differ" sweep --output "$WORK/earlier.h5" --dim 20 --run.time 0.5 --resume \
    --data.noise "0, 0.2" --data.target "constant, rademacher"
check_rejected "--output" sweep --output "$WORK" --dim 20

# An existing file is never clobbered without --force.
echo keep > "$WORK/existing.h5"
status=0
"$DLN" sweep --output "$WORK/existing.h5" --dim 20 --run.time 0.5 2> "$WORK/stderr" > /dev/null || status=$?
[ "$status" -eq 2 ] && grep -q -- '--force' "$WORK/stderr" && [ "$(cat "$WORK/existing.h5")" = keep ] \
    && pass "existing output kept" || fail "existing output: status $status, $(cat "$WORK/stderr")"
"$DLN" sweep -q --force --output "$WORK/existing.h5" --dim 20 --run.time 0.5 > /dev/null \
    && [ "$(head -c 4 "$WORK/existing.h5" | od -An -c | tr -d ' ')" != keep ] \
    && pass "--force overwrites" || fail "--force"
finish
