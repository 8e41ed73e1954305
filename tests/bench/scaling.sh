#!/bin/bash
# Measured scaling of the sweep's machinery (issue 14 item 3), run by hand (not a test):
#
#     bash tests/bench/scaling.sh [DLN] [OUT.csv] [REPEATS] [RANKS...]
#
# defaults: build/dln, tests/bench/scaling.csv, 3 repeats, ranks 2 4 8 16 32 64 (oversubscribed:
# on a 2-core machine -n 64 runs 63 workers time-sliced on 2 cores, so what grows with n here is the
# cost of the master and of the shared file with many clients, not compute throughput).
#
# The workload is tiny_units.sh's, scaled up: d = 50, T = 0.1 sgd units on a 10 x 10 (lr, alpha)
# grid with SEEDS replicates (default 50, i.e. 5000 units), --batch BATCH (default auto). Per rank
# count it records, in one CSV row:
#   units_per_s        the best of REPEATS of the sweep's own "N units in S s" (first hand-out to
#                      last report; excludes MPI start-up and closing the file);
#   worker_us_per_unit  min(workers, cores) * S / units: the core time a unit costs a worker,
#                      at the best S; cores = nproc (time slicing caps the busy workers at cores);
#   compute_us_per_unit mean of the file's sgd/wall_seconds (the unit's own simulation; once
#                      workers outnumber cores it includes time descheduled);
#   overhead_us_per_unit worker_us_per_unit - the first rank count's compute_us_per_unit (measured
#                      without time slicing when it has fewer workers than cores): the hand-out,
#                      the journal and the file per unit per worker;
#   syncs/h5writes per unit from DLN_IO_STATS=1 (journal fdatasyncs and ResultFile H5Dwrite calls,
#                      summed over ranks);
#   sys_* per unit     from `strace -f -c` of every rank (one run of the full sweep and one of a
#                      1-replicate sweep, 100 units; the difference over the difference in units is
#                      the marginal count per unit, without start-up's opens of libraries etc.):
#                      syncs = fsync+fdatasync+sync_file_range, writes = write+pwrite64+writev+pwritev,
#                      opens = open+openat; and the mean time per sync and per write call (full
#                      sweep; strace inflates it: an upper bound);
#   bitwise_ok         build/tests/h5_same_results of this run's file against the first rank count's.
#   load1_before/after the 1-minute load average around the timed runs (the machine may be shared).
# Rerun on a quiet machine and feed the CSV to tests/bench/scaling_model.py.
set -u
cd "$(dirname "$0")/../.."
DLN=${1:-build/dln}
OUT=${2:-tests/bench/scaling.csv}
REPEATS=${3:-3}
shift 3 2> /dev/null || shift $#
RANKS=${*:-2 4 8 16 32 64}
SEEDS=${SEEDS:-50}
BATCH=${BATCH:-auto}
SAME=${SAME:-build/tests/h5_same_results}
CORES=$(nproc)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cpu=$(lscpu | grep -m1 'Model name' | sed 's/.*: *//; s/  */ /g')
[ -n "$cpu" ] || cpu="$(lscpu | grep -m1 'Vendor ID' | sed 's/.*: *//') family $(lscpu | grep -m1 'CPU family' | sed 's/.*: *//')"
load1() { cut -d' ' -f1 /proc/loadavg; }

# sweep N SEEDS FILE [WRAP...]: one sweep (each rank run under WRAP, the whole under TIMER); its
# stdout+stderr in $WORK/log.
TIMER=(env)
sweep() {
    local n=$1 seeds=$2 file=$3
    shift 3
    DLN_IO_STATS=1 "${TIMER[@]}" mpirun -n "$n" --oversubscribe "$@" "$DLN" sweep -q --force --output "$file" \
        --lr "linspace(0.1,1,10)" --alpha "linspace(0.05,0.5,10)" --dim 50 --run.seeds "$seeds" --run.time 0.1 \
        --batch "$BATCH" > "$WORK/log" 2>&1
}

# strace_counts N SEEDS: "syncs writes opens" summed over every rank of one sweep under strace
# (NaN without strace: apt-get install strace).
strace_counts() {
    command -v strace > /dev/null || { echo "nan nan nan nan nan"; return; }
    rm -f "$WORK"/st.*
    # Each rank traced on its own (not mpirun), so the launcher's own calls are not counted.
    sweep "$1" "$2" "$WORK/s.h5" sh -c 'exec strace -f -c -o "'"$WORK"'/st.$OMPI_COMM_WORLD_RANK" "$0" "$@"' \
        || { echo "strace run at -n $1 failed: $(tail -3 "$WORK/log")" >&2; exit 1; }
    # strace -c columns: % time, seconds, usecs/call, calls, [errors,] syscall.
    awk '$NF ~ /^(fsync|fdatasync|sync_file_range|syncfs)$/ {s += $4; ss += $2}
         $NF ~ /^(write|pwrite64|writev|pwritev|pwritev2)$/ {w += $4; ws += $2}
         $NF ~ /^(open|openat|openat2)$/ {o += $4}
         END {printf "%d %d %d %.1f %.1f\n", s, w, o, (s > 0 ? 1e6 * ss / s : 0), (w > 0 ? 1e6 * ws / w : 0)}' "$WORK"/st.*
}

units_small=$((100 * 1))
units_big=$((100 * SEEDS))
echo "dln scaling: $units_big units of d = 50, T = 0.1, --batch $BATCH, $cpu, $CORES cores; $(uptime | sed 's/.*load/load/')" >&2
header="date,cpu,cores,n,workers,batch,units,repeats,best_sweep_s,units_per_s,median_units_per_s,wall_s,cpu_s,worker_us_per_unit,compute_us_per_unit,overhead_us_per_unit,syncs_per_unit,h5writes_per_unit,sys_syncs_per_unit,sys_writes_per_unit,sys_opens_per_unit,sys_sync_us_per_call,sys_write_us_per_call,bitwise_ok,load1_before,load1_after"
if [ -s "$OUT" ] && ! head -1 "$OUT" | grep -qx "$header"; then mv "$OUT" "$OUT.old"; echo "$OUT had other columns: moved to $OUT.old" >&2; fi
[ -s "$OUT" ] || echo "$header" > "$OUT"
ref=""
for n in $RANKS; do
    workers=$((n > 1 ? n - 1 : 1))
    busy=$((workers < CORES ? workers : CORES))
    before=$(load1)
    secs=() walls=() cpus=()
    for r in $(seq "$REPEATS"); do
        start=$(date +%s.%N)
        TIMER=(/usr/bin/time -f '%U %S' -o "$WORK/time")
        sweep "$n" "$SEEDS" "$WORK/r$n.h5" || { echo "sweep at -n $n failed: $(tail -3 "$WORK/log")" >&2; exit 1; }
        end=$(date +%s.%N)
        TIMER=(env)
        secs+=("$(sed -nE 's/^dln sweep: ([0-9]+) units in ([0-9.e+-]+) s.*/\2/p' "$WORK/log" | head -1)")
        walls+=("$(echo "$end - $start" | bc -l)")
        cpus+=("$(awk '{print $1 + $2}' "$WORK/time")")
        stats=$(awk '/io stats/ {for (i = 1; i <= NF; ++i) {if ($i == "units") u += $(i+1); if ($i == "syncs") s += $(i+1); if ($i == "writes") w += $(i+1)}}
                     END {if (u > 0) printf "%.5f %.5f", s / u, w / u; else printf "nan nan"}' "$WORK/log")
    done
    after=$(load1)
    best=$(printf '%s\n' "${secs[@]}" | sort -g | head -1)
    med=$(printf '%s\n' "${secs[@]}" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
    wall=$(printf '%s\n' "${walls[@]}" | sort -g | head -1)
    cput=$(printf '%s\n' "${cpus[@]}" | sort -g | head -1)
    compute=$(/usr/bin/python3 -c "import h5py, numpy as np, sys; f = h5py.File(sys.argv[1]); print(1e6 * float(np.nanmean(f['sgd/wall_seconds'][()])))" "$WORK/r$n.h5")
    if [ -z "$ref" ]; then ref="$WORK/ref.h5"; cp "$WORK/r$n.h5" "$ref"; ok=1; ref_compute=$compute
    else "$SAME" "$ref" "$WORK/r$n.h5" > /dev/null && ok=1 || ok=0; fi
    read -r s_big w_big o_big sync_us write_us <<< "$(strace_counts "$n" "$SEEDS")"
    read -r s_small w_small o_small _ _ <<< "$(strace_counts "$n" 1)"
    du=$((units_big - units_small))
    row=$(awk -v d="$(date -u +%FT%TZ)" -v cpu="$cpu" -v cores="$CORES" -v n="$n" -v w="$workers" -v busy="$busy" -v b="$BATCH" \
        -v u="$units_big" -v rep="$REPEATS" -v best="$best" -v med="$med" -v wall="$wall" -v cput="$cput" -v comp="$compute" -v rcomp="$ref_compute" \
        -v stats="$stats" -v sb="$s_big" -v ss="$s_small" -v wb="$w_big" -v ws="$w_small" -v ob="$o_big" -v os="$o_small" \
        -v du="$du" -v sus="$sync_us" -v wus="$write_us" -v ok="$ok" -v lb="$before" -v la="$after" 'BEGIN {
            split(stats, st, " "); wpu = 1e6 * busy * best / u
            if (sb == "nan") {sb = ss = wb = ws = ob = os = 0; du = "nan"}
            if (du == "nan") {fs = "nan,nan,nan"} else {fs = sprintf("%.4f,%.4f,%.4f", (sb - ss) / du, (wb - ws) / du, (ob - os) / du)}
            printf "%s,\"%s\",%d,%d,%d,%s,%d,%d,%.4f,%.0f,%.0f,%.2f,%.2f,%.1f,%.1f,%.1f,%s,%s,%s,%s,%s,%d,%s,%s",
                d, cpu, cores, n, w, b, u, rep, best, u / best, u / med, wall, cput, wpu, comp, wpu - rcomp, st[1], st[2],
                fs, sus, wus, ok, lb, la}')
    echo "$row" >> "$OUT"
    echo "$row" | awk -F, '{printf "n %3d  units/s %7d  worker us/unit %7.1f  overhead us/unit %7.1f  syncs/unit %s  h5 writes/unit %s  sys syncs/writes/opens per unit %s %s %s  bitwise %s  load %s..%s\n",
        $4, $10, $14, $16, $17, $18, $19, $20, $21, ($24 == 1 ? "ok" : "DIFFERENT"), $25, $26}'
done
