#!/bin/bash
# Throughput of the sweep's machinery on units that cost nothing: 2000 sgd units of d = 50, T = 0.1
# (100 (lr, alpha) points x 20 replicates), so what is measured is the hand-out, the journal and
# the file, not the physics. Run by hand (not a test):
#     bash tests/bench/tiny_units.sh [DLN] [RANKS] [REPEATS] [BATCH...]
# prints, per batch, the median over REPEATS of units/s (the sweep's own "N units in S s", from
# the first hand-out to the last report) and of the whole command's wall time, and, from
# DLN_IO_STATS=1 (if this dln has it), journal syncs and HDF5 write calls per unit.
set -u
DLN=${1:-build/dln}
RANKS=${2:-3}
REPEATS=${3:-5}
shift 3 2> /dev/null || shift $#
BATCHES=${*:-1 16 auto}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
lscpu | grep -m1 'Model name' | sed 's/  */ /g'
for b in $BATCHES; do
    rates=() walls=() stats=""
    for r in $(seq "$REPEATS"); do
        start=$(date +%s.%N)
        DLN_IO_STATS=1 mpirun -n "$RANKS" --oversubscribe "$DLN" sweep -q --force --output "$WORK/t.h5" \
            --lr "linspace(0.1,1,10)" --alpha "linspace(0.05,0.5,10)" --dim 50 --run.seeds 20 --run.time 0.1 \
            --batch "$b" > "$WORK/log" 2> "$WORK/err" || { echo "batch $b failed: $(cat "$WORK/log" "$WORK/err")"; exit 1; }
        end=$(date +%s.%N)
        line=$(grep -m1 'units in' "$WORK/log")
        units=$(echo "$line" | sed -E 's/dln sweep: ([0-9]+) units in ([0-9.e+-]+) s.*/\1/')
        secs=$(echo "$line" | sed -E 's/dln sweep: ([0-9]+) units in ([0-9.e+-]+) s.*/\2/')
        rates+=("$(echo "$units / $secs" | bc -l)")
        walls+=("$(echo "$end - $start" | bc -l)")
        stats=$(grep -h 'io stats' "$WORK/log" "$WORK/err" | awk '{for (i = 1; i <= NF; ++i) {if ($i == "units") u += $(i+1); if ($i == "syncs") s += $(i+1); if ($i == "writes") w += $(i+1)}} END {if (u > 0) printf "syncs/unit %.4f  h5 writes/unit %.4f", s / u, w / u}')
    done
    med() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
    printf 'batch %-5s units/s %8.0f   wall %.2f s   %s\n' "$b" "$(med "${rates[@]}")" "$(med "${walls[@]}")" "$stats"
done
