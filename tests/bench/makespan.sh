#!/bin/bash
# Benchmark, run by hand: a sweep's makespan against the sum of its unit times divided by the
# number of workers (the ideal), i.e. how well the largest-first dynamic schedule keeps workers busy.
#
#   bash tests/bench/makespan.sh [SWEEP.ini] [RANKS]       # default sweeps/quick.ini, 3 ranks
#
# With RANKS ranks there are RANKS - 1 workers (rank 0 hands out work and sleeps); on a machine
# with N cores use N + 1 ranks. Prints the makespan, the ideal, and their ratio (issue 4 asks
# for <= 1.10 on 2 cores with -n 3). KEEP=FILE keeps the sweep's file (tests/bench/scaling_model.py
# --calibrate FILE takes the real unit costs from it).
set -euo pipefail
cd "$(dirname "$0")/../.."
sweep=${1:-sweeps/quick.ini}
ranks=${2:-3}
dln=${DLN:-build/dln}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
if [ "$(id -u)" -eq 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
start=$(date +%s.%N)
mpirun -n "$ranks" --oversubscribe "$dln" sweep -q --config "$sweep" --output "$out/sweep.h5" > "$out/log"
end=$(date +%s.%N)
[ -z "${KEEP:-}" ] || cp "$out/sweep.h5" "$KEEP"
python=/usr/bin/python3
"$python" - "$out/sweep.h5" "$start" "$end" "$((ranks > 1 ? ranks - 1 : 1))" <<'PY'
import sys, h5py, numpy as np
path, start, end, workers = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
with h5py.File(path) as f:
    total = sum(float(np.nansum(f[m]["wall_seconds"][()])) for m in ("sgd", "sde", "pde") if m in f)
    largest = max(float(np.nanmax(f[m]["wall_seconds"][()])) for m in ("sgd", "sde", "pde") if m in f)
makespan = end - start  # includes start-up (MPI, PETSc) and closing the file
ideal = max(total / workers, largest)
print(f"makespan {makespan:.2f} s (process start to exit); sum of unit times {total:.2f} s over {workers} workers; "
      f"ideal max(sum/W, largest unit) {ideal:.2f} s; ratio {makespan / ideal:.3f}")
PY
