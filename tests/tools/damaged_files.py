#!/usr/bin/python3
"""Damaged files (issue 16, item 3): every command that reads an HDF5 file, fed broken ones.

Inputs where a sweep file belongs: a sweep file truncated at many offsets, with seeded random bit
flips, an HDF5 file of another program (h5py), a phase file, an empty file, a directory, a file
being written (a sweep paused at a failpoint while it holds the file open). Commands: dln status,
dln aggregate, dln merge, dln sweep --resume without a journal and with one (the journal of the
same sweep, every unit in it: the documented rebuild). Inputs where a phase file belongs (dln
plot's directory): a phase file truncated and bit-flipped, a sweep file, another program's file,
an empty file, a directory. Journal records (dln sweep --resume, dln status --journal):
truncated at many offsets, bit-flipped, from another sweep, from another version (format 2).

Each run must end with exit status 2 and exactly one line on stderr, "dln <command>: error: ...",
leaving no output behind, or with exit status 0 and a correct result; never a signal, a hang, a
traceback, an HDF5 error stack, or another status. What "correct" means when a damaged input is
accepted:
  - sweep --resume with the journal: the rebuilt file has results bitwise identical to an
    uninterrupted run (h5_same_results);
  - a truncated file is never accepted by a reader (HDF5 checks the file's end against the
    superblock), so exit 0 there is a defect;
  - a bit flip may land in raw data (or in bytes HDF5 does not use) and leave a file that reads
    well. The sweep file has no checksum over its data (netCDF-4 files use the HDF5 1.8 format,
    whose metadata has no checksums, and dln writes raw data independently from several ranks,
    which rules out HDF5's checksum filter, fletcher32, in parallel HDF5); so such a file is
    told apart only by comparing it with the original (h5_same_results): the test counts the
    flipped files that read as valid with different results, and accepts them (exit 0), as no
    reader could do otherwise. The journal, whose records carry checksums, is what --resume
    trusts.

Reduced mode (DLN_DAMAGED_QUICK=1, used by .ci/run's sanitizer stage only): every input kind x
command combination above is still run, with every fixed truncation offset (offsets(): the
signature, the superblock, the file's edges) but 2 random ones instead of 12 (sweep file), 10
(journal) and 6 (phase file), and 6 bit-flipped sweep files instead of 24, 3 phase files instead
of 6, 4 flipped journals instead of 12. Under ASan each dln run starts MPI and PETSc instrumented:
the full set took 236 s there, the reduced one 110 s (2026-12-02, AMD EPYC, 2 cores, shared). The
full set runs in the Release stage, every outcome checked as here, without the sanitizers.

usage: damaged_files.py DLN H5_SAME_RESULTS
"""
import collections
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

DLN, SAME = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
SEED = 20261203
TIMEOUT = 60
QUICK = os.environ.get("DLN_DAMAGED_QUICK") == "1"
# How many of each, reduced or full. Random offsets come on top of the fixed ones (offsets()).
SWEEP_RANDOM_OFFSETS = 2 if QUICK else 12
FLIPPED_FILES = 6 if QUICK else 24  # a multiple of 3: 1, 4 and 16 bits in turn
PHASE_RANDOM_OFFSETS = 2 if QUICK else 6
PHASE_FLIPPED_FILES = 3 if QUICK else 6
JOURNAL_RANDOM_OFFSETS = 2 if QUICK else 10
JOURNAL_FLIPS = 4 if QUICK else 12  # a multiple of 4: 1 to 4 bits in turn
work = tempfile.mkdtemp(prefix="dln-damaged.")
# Open MPI's session directory of its own: on a shared machine another job's cleanup of /tmp/ompi.*
# made MPI_Init fail ("A call to mkdir was unable to create the desired directory").
os.environ["OMPI_MCA_orte_tmpdir_base"] = work
failures = []
table = collections.defaultdict(collections.Counter)  # (input kind, command) -> outcome -> count
rng = random.Random(SEED)
laps = []  # (part, seconds): where the test's time goes, printed at the end
lap_start = [time.monotonic()]


def lap(part):
    now = time.monotonic()
    laps.append((part, now - lap_start[0]))
    lap_start[0] = now

CONFIG = """[run]
time = 0.5
methods = sgd
seeds = 2
[sweep]
lr = 0.5, 1, 2, 4
dim = 20
alpha = 0.1, 0.5
"""
OTHER_CONFIG = CONFIG.replace("lr = 0.5, 1, 2, 4", "lr = 0.25, 1, 2, 3")  # the same layout, other values


def path(*p):
    return os.path.join(work, *p)


def same_results(a, b):
    return subprocess.run([SAME, a, b], capture_output=True).returncode == 0


def dln(kind, command, argv, must_not_exist=(), cwd=None, accept=None):
    """Runs dln argv; classifies and checks the outcome; returns the exit status (None: failed)."""
    label = command
    try:
        p = subprocess.run([DLN, *argv], capture_output=True, timeout=TIMEOUT, cwd=cwd or work)
    except subprocess.TimeoutExpired:
        failures.append(f"{kind} x {label}: hang (over {TIMEOUT} s)")
        table[(kind, label)]["HANG"] += 1
        return None
    err = p.stderr.decode("utf-8", "replace")
    what = f"{kind} x {label} (dln {' '.join(argv)})"
    bad = None
    if p.returncode < 0:
        bad = f"killed by signal {-p.returncode}"
    elif "Traceback" in err or "HDF5-DIAG" in err:
        bad = "a traceback or an HDF5 error stack"
    elif p.returncode == 2:
        lines = err.rstrip("\n").split("\n")
        name = argv[0]
        if len(lines) != 1 or not lines[0].startswith(f"dln {name}: error: "):
            bad = f"{len(lines)} line(s), not one 'dln {name}: error:'"
        else:
            left = [f for f in must_not_exist if os.path.lexists(f)]
            if left:
                bad = f"refused, but left {left}"
    elif p.returncode == 1 and command == "merge" and "units computed by no input, pending in" in err:
        pass  # the documented outcome of a merge whose inputs lack units (README, exit status 1)
    elif p.returncode != 0:
        bad = f"exit status {p.returncode}"
    if bad is None and p.returncode == 0 and accept is not None:
        verdict = accept()
        if verdict is not True:
            bad = verdict
    if bad:
        failures.append(f"{what}: {bad}: {err.strip()[:400]!r}")
        table[(kind, label)]["FAILED"] += 1
        return None
    if p.returncode == 2:
        table[(kind, label)]["exit 2, one line"] += 1
        table[(kind, label)].setdefault("example", err.strip()[:150])
    elif p.returncode == 1:
        table[(kind, label)]["exit 1, units pending"] += 1
    else:
        table[(kind, label)]["exit 0"] += 1
    return p.returncode


def fresh(name):
    d = path(name)
    shutil.rmtree(d, ignore_errors=True)
    os.mkdir(d)
    return d


def install(source, target):
    """Puts the input kind at target: a file (copied), a directory, or nothing."""
    if source == "<dir>":
        os.mkdir(target)
    elif source is not None:
        shutil.copyfile(source, target)


def sweep_position(kind, source, flipped=False, truncated=False):
    """Every command that takes a sweep file, on source (a path, or '<dir>')."""
    # dln status
    d = fresh("case")
    x = os.path.join(d, "x.h5")
    install(source, x)
    dln(kind, "status", ["status", x],
        accept=lambda: "a truncated file read as valid" if truncated else True)
    # dln aggregate
    agg = os.path.join(d, "agg")
    def aggregated():
        if truncated:
            return "a truncated file aggregated"
        return True
    dln(kind, "aggregate", ["aggregate", x, "--out", agg], must_not_exist=[agg], accept=aggregated)
    # dln merge
    merged = os.path.join(d, "m.h5")
    dln(kind, "merge", ["merge", merged, x], must_not_exist=[merged],
        accept=lambda: "a truncated file merged" if truncated else True)
    # dln sweep --resume, no journal: refused, or (a flip that left a readable file) continued.
    d = fresh("case")
    x = os.path.join(d, "x.h5")
    install(source, x)
    dln(kind, "sweep --resume", ["sweep", "-q", "--config", path("c.ini"), "--output", x, "--resume"],
        must_not_exist=[x + ".journal"],
        accept=lambda: "a truncated file resumed without a journal" if truncated else True)
    # dln sweep --resume with the sweep's journal: the documented rebuild, bitwise identical.
    d = fresh("case")
    x = os.path.join(d, "x.h5")
    install(source, x)
    shutil.copytree(path("unfinished.h5.journal"), x + ".journal")
    def rebuilt():
        if not same_results(x, path("ref.h5")):
            return "resumed from the journal, but the results differ from an uninterrupted run's"
        return True
    dln(kind, "sweep --resume + journal", ["sweep", "-q", "--config", path("c.ini"), "--output", x, "--resume"],
        accept=rebuilt)


def phase_position(kind, source):
    """dln plot on a directory whose phase.h5 is source."""
    d = fresh("plotcase")
    install(source, os.path.join(d, "phase.h5"))
    before = set(os.listdir(d))
    if dln(kind, "plot", ["plot", d]) == 2:
        made = set(os.listdir(d)) - before
        if made:
            failures.append(f"{kind} x plot: refused, but wrote {sorted(made)}")


def truncated(source, offset, name):
    out = path(name)
    with open(source, "rb") as f:
        data = f.read(offset)
    with open(out, "wb") as f:
        f.write(data)
    return out


def flipped(source, bits, name):
    out = path(name)
    data = bytearray(open(source, "rb").read())
    for _ in range(bits):
        i = rng.randrange(len(data) * 8)
        data[i // 8] ^= 1 << (i % 8)
    open(out, "wb").write(bytes(data))
    return out


def offsets(size, n):
    """n offsets spread over the file, and the edges: the superblock, 1 byte short."""
    return sorted(set([0, 1, 7, 8, 96, 512, 2048, size // 2, size - 1] +
                      [rng.randrange(size) for _ in range(n)]))


def journal_cases():
    """Journal records: truncated, flipped, from another sweep, from another version."""
    logs = sorted(f for f in os.listdir(path("unfinished.h5.journal")) if f.endswith(".log"))
    log = logs[0]
    size = os.path.getsize(path("unfinished.h5.journal", log))

    def with_journal(kind, change):
        d = fresh("jcase")
        x = os.path.join(d, "x.h5")
        shutil.copyfile(path("unfinished.h5"), x)
        shutil.copytree(path("unfinished.h5.journal"), x + ".journal")
        change(x + ".journal")
        dln(kind, "status --journal", ["status", x, "--journal"])
        dln(kind, "sweep --resume", ["sweep", "-q", "--config", path("c.ini"), "--output", x, "--resume"],
            accept=lambda: True if same_results(x, path("ref.h5")) else
            "resumed, but the results differ from an uninterrupted run's")

    for offset in offsets(size, JOURNAL_RANDOM_OFFSETS):
        def cut(j, offset=offset):
            with open(os.path.join(j, log), "r+b") as f:
                f.truncate(offset)
        with_journal("journal: truncated", cut)
    for k in range(JOURNAL_FLIPS):
        def flip(j):
            data = bytearray(open(os.path.join(j, log), "rb").read())
            for _ in range(1 + k % 4):
                i = rng.randrange(len(data) * 8)
                data[i // 8] ^= 1 << (i % 8)
            open(os.path.join(j, log), "wb").write(bytes(data))
        with_journal("journal: bit flips", flip)

    def other_sweep_whole(j):  # the journal directory of another sweep: its config.ini differs
        shutil.rmtree(j)
        shutil.copytree(path("other.h5.journal"), j)
    with_journal("journal: of another sweep", other_sweep_whole)

    def other_sweep_records(j):  # another sweep's records, of the same layout, in this journal
        for f in os.listdir(path("other.h5.journal")):
            if f.endswith(".log"):
                shutil.copyfile(path("other.h5.journal", f), os.path.join(j, "run-9." + f.split(".", 1)[1]))
    d = fresh("jcase")
    x = os.path.join(d, "x.h5")
    shutil.copyfile(path("unfinished.h5"), x)
    shutil.copytree(path("unfinished.h5.journal"), x + ".journal")
    other_sweep_records(x + ".journal")
    dln("journal: records of another sweep", "sweep --resume",
        ["sweep", "-q", "--config", path("c.ini"), "--output", x, "--resume"],
        accept=lambda: "another sweep's records were folded into the file" if not same_results(x, path("ref.h5"))
        else True)

    def other_version(j):  # format 2 ("DLN2"): the magic of dln 0.4.0's records
        with open(os.path.join(j, log), "r+b") as f:
            f.write(b"DLN2")
    with_journal("journal: of another version", other_version)


def main():
    if QUICK:
        print("reduced mode (DLN_DAMAGED_QUICK=1): fewer random offsets and flipped files, every input x command")
    open(path("c.ini"), "w").write(CONFIG)
    open(path("other.ini"), "w").write(OTHER_CONFIG)
    subprocess.run([DLN, "sweep", "-q", "--config", path("c.ini"), "--output", path("ref.h5")], check=True)
    subprocess.run([DLN, "aggregate", path("ref.h5"), "--out", path("phase")], check=True, capture_output=True)
    # Unfinished sweeps: every unit journaled, then killed at the failpoint before the file closes.
    for name, ini in (("unfinished", "c.ini"), ("other", "other.ini")):
        marker = path(name + ".marker")
        env = dict(os.environ, DLN_FAILPOINT="closing", DLN_FAILPOINT_MARKER=marker)
        p = subprocess.Popen([DLN, "sweep", "-q", "--config", path(ini), "--output", path(name + ".h5")], env=env)
        for _ in range(1200):
            if os.path.exists(marker) or p.poll() is not None:
                break
            time.sleep(0.05)
        p.kill()
        p.wait()
        assert os.path.exists(marker), "the sweep did not reach the failpoint 'closing'"
    with h5py.File(path("foreign.h5"), "w") as f:  # another program's file
        f.attrs["title"] = "not dln"
        f.create_dataset("data/values", data=np.arange(1000.0))
        f.create_group("sgd").create_dataset("status", data=np.zeros(4, dtype=np.int8))
    open(path("empty.h5"), "wb").close()
    lap("the sweeps and files the cases start from")

    ref = path("ref.h5")
    size = os.path.getsize(ref)
    for offset in offsets(size, SWEEP_RANDOM_OFFSETS):
        sweep_position("sweep file truncated", truncated(ref, offset, "t.h5"), truncated=True)
    lap("sweep files truncated")
    accepted_different = 0
    for k in range(FLIPPED_FILES):
        bits = (1, 4, 16)[k % 3]
        f = flipped(ref, bits, "f.h5")
        sweep_position(f"sweep file, bit flips", f, flipped=True)
        probe = subprocess.run([DLN, "status", f], capture_output=True)
        if probe.returncode == 0 and not same_results(f, ref):
            accepted_different += 1
    lap("sweep files bit-flipped")
    for kind, source in (("another program's HDF5 file", path("foreign.h5")),
                         ("a phase file", path("phase", "phase.h5")),
                         ("an empty file", path("empty.h5")), ("a directory", "<dir>")):
        sweep_position(kind, source)
    lap("other files where a sweep file belongs")

    # A file being written: a sweep paused (failpoint 'writing', resumed later) holds it open.
    d = fresh("running")
    x = os.path.join(d, "x.h5")
    marker = path("writing.marker")
    env = dict(os.environ, DLN_FAILPOINT="writing:2:resume", DLN_FAILPOINT_MARKER=marker)
    p = subprocess.Popen([DLN, "sweep", "-q", "--batch", "1", "--commit-seconds", "0", "--config", path("c.ini"),
                          "--output", x], env=env)
    for _ in range(1200):
        if os.path.exists(marker) or p.poll() is not None:
            break
        time.sleep(0.05)
    if not os.path.exists(marker):
        failures.append("the sweep did not reach the failpoint 'writing'")
    else:
        kind = "a file being written"
        dln(kind, "status", ["status", x])
        dln(kind, "aggregate", ["aggregate", x, "--out", os.path.join(d, "agg")],
            must_not_exist=[os.path.join(d, "agg")])
        dln(kind, "merge", ["merge", os.path.join(d, "m.h5"), x], must_not_exist=[os.path.join(d, "m.h5")])
        # status and aggregate read a running sweep's file by design (what it holds so far); a
        # second sweep on it is refused, with --resume or --force.
        for flag in ("--resume", "--force"):
            if dln(kind, f"sweep {flag}", ["sweep", "-q", "--config", path("c.ini"), "--output", x, flag]) == 0:
                failures.append(f"{kind} x sweep {flag}: a second sweep wrote the file of a running one")
        os.remove(marker)
    if p.wait(timeout=TIMEOUT) != 0:
        failures.append(f"the sweep paused while others read its file ended with status {p.returncode}")
    elif not same_results(x, ref):
        failures.append("the sweep paused while others read its file has other results")
    lap("a file being written")

    phase = path("phase", "phase.h5")
    psize = os.path.getsize(phase)
    for offset in sorted(rng.sample(range(psize), PHASE_RANDOM_OFFSETS)) + [0]:
        phase_position("phase file truncated", truncated(phase, offset, "pt.h5"))
    for k in range(PHASE_FLIPPED_FILES):
        phase_position("phase file, bit flips", flipped(phase, (1, 4, 16)[k % 3], "pf.h5"))
    for kind, source in (("a sweep file", ref), ("another program's HDF5 file", path("foreign.h5")),
                         ("an empty file", path("empty.h5")), ("a directory", "<dir>")):
        phase_position(kind, source)
    lap("phase files")

    journal_cases()
    lap("journal records")

    print(f"{'input':34} {'command':26} outcome")
    for (kind, command), outcome in table.items():
        example = outcome.pop("example", "")
        print(f"{kind:34} {command:26} {dict(outcome)}  {example}")
    print(f"bit-flipped sweep files that read as valid with other results (accepted: no checksum): "
          f"{accepted_different} of {FLIPPED_FILES}")
    print("time: " + ", ".join(f"{part} {seconds:.0f} s" for part, seconds in laps))
    shutil.rmtree(work, ignore_errors=True)
    for f in failures:
        print("FAILED:", f)
    if failures:
        print(f"{len(failures)} check(s) failed (seed {SEED})")
        sys.exit(1)
    print("all checks passed")


main()
