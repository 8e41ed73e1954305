#!/usr/bin/python3
"""Projected makespan and file-system operation rate of a sweep on many ranks (issue 14 item 3).

Run by hand (not a test), from the repository root:

    /usr/bin/python3 tests/bench/scaling_model.py [--csv tests/bench/scaling.csv]
        [--calibrate FILE.h5 --calibrate-config SWEEP.ini] [--ranks 100 1000 10000]

It simulates the sweep's schedule as dln runs it (lib/dln/sweep): units in largest-first order;
sgd units grouped into lockstep hand-outs by form_batches' rule (same dim, data and replicate;
--batch auto's size from kAutoBatchSeconds = 0.01 s, at least 16, at most 4096; units estimated
under kColumnsFirstSeconds = 0.1 ms go out as blocks of replicate columns instead, which this
model does not reproduce: none of its workloads has such units); one master that
serves hand-outs one after another, each taking the master s_m; W = ranks - 1 workers that each
take the next hand-out when free and commit their finished units by the group-commit rule
(--commit-seconds c, one journal write + fdatasync per commit, then the units' rows to the file).

Calibration, each printed with where it came from:
  o_w   worker overhead per unit beyond its compute: tests/bench/scaling.csv, the --batch auto row
        with the fewest ranks (one worker, not oversubscribed); an upper bound on a loaded machine.
  s_m   master service time per hand-out: 1 / (best units/s of any --batch 1 row), every unit being
        one hand-out there; an upper bound, since on 2 cores the master shares a core with workers.
  p_w   write calls per unit that reach the file system: the largest sys_writes_per_unit of the CSV
        (strace; ROMIO splits one H5Dwrite into one pwrite per contiguous run, and a commit's units
        are rarely adjacent rows: about one pwrite per dataset per unit).
  f     real seconds per estimated second of `dln sweep --dry-run`: from a real sweep's
        wall_seconds (--calibrate), else 1.
The unit-cost distribution is the dry run's est_seconds of the sweep, times f.

Not modelled: MPI start-up and file creation (tens of seconds at 10^4 ranks on most systems),
the network latency of a hand-out (hidden: workers ask ahead for 5 ms of work), the master's
progress log, and failures or divergence (diverged units stop early: the dry run is an upper bound).
"""
import argparse
import csv
import heapq
import math
import re
import subprocess
import sys

AUTO_BATCH_SECONDS = 0.01  # lib/dln/sweep/sweep_schedule.hpp kAutoBatchSeconds
AUTO_BATCH_MIN = 16
BATCH_MAX = 4096


def auto_batch(unit_seconds):
    if not unit_seconds > 0:
        return BATCH_MAX
    wanted = math.ceil(AUTO_BATCH_SECONDS / unit_seconds)
    return BATCH_MAX if wanted >= BATCH_MAX else max(AUTO_BATCH_MIN, wanted)


def dry_run(dln, config, extra=()):
    """[(method, key, est_seconds)] of every unit, key = its description without lr and alpha."""
    out = subprocess.run([dln, "sweep", "--config", config, "--dry-run", *extra], check=True,
                         capture_output=True, text=True).stdout
    units = []
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 4 or not fields[0].isdigit():
            continue
        method, est = fields[1], float(fields[-1])
        key = " ".join(f for f in fields[2:-1] if not f.startswith(("lr=", "alpha=")))
        units.append((method, key, est))
    return units


def handouts(units, batch="auto"):
    """[(n_units, est_seconds)] as form_batches makes them at --batch batch, largest first."""
    out, groups, order = [], {}, []
    for method, key, est in units:
        if method != "sgd":
            out.append((1, est))
            continue
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(est)
    for key in order:
        g = groups[key]
        most = auto_batch(sum(g) / len(g)) if batch == "auto" else batch
        count = -(-len(g) // most)
        begin = 0
        for b in range(count):
            size = len(g) // count + (1 if b < len(g) % count else 0)
            out.append((size, sum(g[begin:begin + size])))
            begin += size
    out.sort(key=lambda h: -h[1])
    return out


def simulate(hs, workers, f, o_w, s_m, p_w, commit_seconds, fs_ops):
    """Makespan and file-system operations of one sweep (one master, one shared file).

    A commit costs 2 operations (a journal write and its fdatasync) plus p_w per unit (its rows);
    the file serves fs_ops operations per second, first come first served, and the committing
    worker waits for its writes (they are blocking pwrites).
    """
    free = [(0.0, w) for w in range(workers)]  # (time the worker is free, worker)
    age = [0.0] * workers  # seconds of work pending in its commit
    pending = [0] * workers
    fs_free = 0.0
    ops = 0.0

    def commit(t, w):
        nonlocal fs_free, ops
        n = 2 + p_w * pending[w]
        ops += n
        fs_free = max(t, fs_free) + n / fs_ops
        pending[w], age[w] = 0, 0.0
        return fs_free

    end = 0.0
    for i, (n, est) in enumerate(hs):
        t, w = heapq.heappop(free)
        t = max(t, i * s_m)  # the master hands out one at a time
        d = f * est + n * o_w
        if pending[w] and age[w] + d > commit_seconds:
            t = commit(t, w)
        t += d
        age[w] += d
        pending[w] += n
        if age[w] >= commit_seconds:
            t = commit(t, w)
        end = max(end, t)
        heapq.heappush(free, (t, w))
    for t, w in free:
        if pending[w]:
            end = max(end, commit(t, w))
    return max(end, len(hs) * s_m), ops


def sharded(hs, shards, ranks, *args):
    """Makespan and operations per file of K shards (--shard k/K: every K-th hand-out of the
    schedule, its own master and file, ranks / K ranks each), run side by side."""
    parts = [simulate(hs[k::shards], max(1, ranks // shards - 1), *args) for k in range(shards)]
    return max(p[0] for p in parts), max(p[1] for p in parts)


def calibrate(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{path}: no measurements")
    auto = [r for r in rows if r["batch"] == "auto"]
    one = [r for r in rows if r["batch"] == "1"]
    if not auto or not one:
        sys.exit(f"{path}: needs --batch auto and --batch 1 rows (BATCH=1 bash tests/bench/scaling.sh ...)")
    low = min(auto, key=lambda r: int(r["n"]))
    best1 = max(one, key=lambda r: float(r["units_per_s"]))
    worst_w = max(rows, key=lambda r: float(r["sys_writes_per_unit"]))
    best_w = min(rows, key=lambda r: float(r["sys_writes_per_unit"]))
    return {
        "o_w": float(low["overhead_us_per_unit"]) * 1e-6,
        "o_w_from": f"-n {low['n']} --batch auto, load {low['load1_before']}",
        "s_m": 1.0 / float(best1["units_per_s"]),
        "s_m_from": f"-n {best1['n']} --batch 1: {float(best1['units_per_s']):.0f} units/s, load {best1['load1_before']}",
        "p_w": float(worst_w["sys_writes_per_unit"]),
        "p_w_from": f"-n {worst_w['n']} --batch {worst_w['batch']}",
        "p_c": float(best_w["sys_writes_per_unit"]),
        "p_c_from": f"-n {best_w['n']} --batch {best_w['batch']}: one worker, whose commits are runs of adjacent rows",
        "cpu": low["cpu"], "date": low["date"],
        "bitwise": all(r["bitwise_ok"] == "1" for r in rows),
    }


def speed(dln, config, h5):
    """Real seconds per dry-run estimated second, from a finished sweep of config."""
    import h5py
    import numpy as np
    est = sum(e for _, _, e in dry_run(dln, config))
    with h5py.File(h5) as f:
        real = sum(float(np.nansum(f[m]["wall_seconds"][()])) for m in ("sgd", "sde", "pde") if m in f)
    return real / est, f"{h5} ({config}): {real:.2f} s of wall_seconds / {est:.2f} s estimated"


def table(workloads, a, f, cal, p_w):
    head = ("workload", "ranks", "units", "hand-outs", "ideal s", "makespan s", "eff", "master busy",
            "file ops/s needed", "file busy", "eff >= 0.9 with")
    rows = []
    args = (f, cal["o_w"], cal["s_m"], p_w, a.commit_seconds, a.fs_ops)
    for name, units in workloads:
        hs = handouts(units)
        total = f * sum(u[2] for u in units) + len(units) * cal["o_w"]
        for ranks in a.ranks:
            w = ranks - 1
            ideal = max(total / w, f * max(u[2] for u in units) + cal["o_w"])  # no unit is split
            end, ops = simulate(hs, w, *args)
            util = len(hs) * cal["s_m"] / end
            fix = "-"
            if ideal / end < 0.9:
                # The remedies in order of cost to the user: smaller hand-outs, fewer commits
                # (the file is then as much staler), then K shards
                # (job arrays of --shard k/K, then dln merge), each with its own master and file.
                longer = (f, cal["o_w"], cal["s_m"], p_w, 10 * a.commit_seconds, a.fs_ops)
                tried = [("--batch 1", lambda: simulate(handouts(units, 1), w, *args)[0]),
                         (f"--commit-seconds {10 * a.commit_seconds:g}", lambda: simulate(hs, w, *longer)[0])]
                tried += [(f"{k} shards", lambda k=k: sharded(hs, k, ranks, *args)[0])
                          for k in (2, 4, 8, 16, 32, 64, 128, 256, 512, 1024) if k <= ranks // 2]
                best = (0.0, "")
                for label, run in tried:
                    e = run()
                    best = max(best, (ideal / e, f"{label}: {e:.1f} s"))
                    if ideal / e >= 0.9:
                        break
                fix = best[1] if best[0] >= 0.9 else f"none (best {best[1]}, eff {best[0]:.2f})"
            rows.append((name, ranks, len(units), len(hs), f"{ideal:.1f}", f"{end:.1f}", f"{ideal / end:.2f}",
                         f"{util:.0%}", f"{ops / ideal:,.0f}", f"{ops / a.fs_ops / end:.0%}", fix))
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    print(" | ".join(str(h).ljust(wd) for h, wd in zip(head, widths)))
    print("-|-".join("-" * wd for wd in widths))
    for r in rows:
        print(" | ".join(str(x).ljust(wd) for x, wd in zip(r, widths)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dln", default="build/dln")
    ap.add_argument("--csv", default="tests/bench/scaling.csv")
    ap.add_argument("--calibrate", help="a finished sweep's file, for f (its wall_seconds: on a loaded machine "
                    "they include time descheduled, so prefer --speed there)")
    ap.add_argument("--speed", type=float, help="f itself: real CPU seconds per estimated second")
    ap.add_argument("--calibrate-config", default="sweeps/quick.ini")
    ap.add_argument("--config", default="sweeps/phase_diagram.ini")
    ap.add_argument("--ranks", type=int, nargs="+", default=[100, 1000, 10000])
    ap.add_argument("--commit-seconds", type=float, default=0.2)
    ap.add_argument("--fs-ops", type=float, default=1e4,
                    help="small operations per second one shared file (or the whole file system) sustains")
    a = ap.parse_args()

    cal = calibrate(a.csv)
    f, f_from = (1.0, "none (--calibrate not given)")
    if a.speed:
        f, f_from = a.speed, "--speed"
    elif a.calibrate:
        f, f_from = speed(a.dln, a.calibrate_config, a.calibrate)
    print(f"calibration ({cal['cpu']}, measured {cal['date']}; results bitwise equal at every -n: {cal['bitwise']}):")
    print(f"  o_w = {cal['o_w'] * 1e6:.0f} us worker overhead per unit      [{cal['o_w_from']}]")
    print(f"  s_m = {cal['s_m'] * 1e6:.0f} us master time per hand-out      [{cal['s_m_from']}]")
    print(f"  p_w = {cal['p_w']:.1f} write calls per unit                 [{cal['p_w_from']}]")
    print(f"  p_c = {cal['p_c']:.3f} write calls per unit if a commit's units were adjacent rows [{cal['p_c_from']}]")
    print(f"  f   = {f:.2f} real s per estimated s                 [{f_from}]")
    print(f"  commit interval c = {a.commit_seconds} s (one journal write + one fdatasync per commit);"
          f" file-system budget {a.fs_ops:.0f} small ops/s")

    base = dry_run(a.dln, a.config)
    sgd = [u for u in base if u[0] == "sgd"]
    # 10^6 units with the same study's cost mix: its sgd grid with more replicates (its pde units
    # do not depend on the replicate, so they stay as they are).
    copies = max(1, round((1e6 - (len(base) - len(sgd))) / max(1, len(sgd))))
    mix = [u for u in base if u[0] != "sgd"]
    mix += [(m, f"{key} copy{r}", est) for r in range(copies) for m, key, est in sgd]
    mix.sort(key=lambda u: -u[2])
    # 10^6 tiny units: d = 1000, T = 4, about 5 ms of SGD each (issue 14), batch auto.
    tiny = [("sgd", f"rep{r}", 0.005) for r in range(62500) for _ in range(16)]
    workloads = [(a.config.split("/")[-1], base), (f"10^6 units, {a.config.split('/')[-1]} mix", mix),
                 ("10^6 units of 5 ms", tiny)]

    for p_w, title in ((cal["p_w"], f"as dln writes today ({cal['p_w']:.1f} write calls per unit)"),
                       (cal["p_c"], f"what if a commit's rows were contiguous ({cal['p_c']:.3f} write calls per unit)")):
        print(f"\nprojection, {title}:")
        table(workloads, a, f, cal, p_w)
    print()
    # Where one master or one file stops being enough, for units of mean cost t per hand-out of n:
    # the master saturates at W = (hand-out duration) / s_m; one file at W = budget * t / p_w.
    print()
    for name, units in workloads:
        hs = handouts(units)
        t_unit = f * sum(u[2] for u in units) / len(units) + cal["o_w"]
        t_hand = t_unit * len(units) / len(hs)
        w_master = t_hand / cal["s_m"]
        w_file = a.fs_ops * t_unit / cal["p_w"]
        w_contiguous = a.fs_ops * t_unit / cal["p_c"]
        print(f"{name}: mean unit {t_unit * 1e3:.1f} ms, {len(units) / len(hs):.1f} units per hand-out; one master "
              f"saturates at about {w_master:,.0f} workers, one shared file at about {w_file:,.0f} "
              f"({w_contiguous:,.0f} with contiguous commits)")


if __name__ == "__main__":
    main()
