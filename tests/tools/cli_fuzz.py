#!/usr/bin/python3
"""Fuzzed configuration at the command line (issue 16, item 2).

tests/unit/test_config_fuzz.cpp feeds 10,000 generated inputs to the parser in-process; this
feeds a sample from the same generator (config_fuzz_cases, one definition) to the dln binary:

  dln sweep ARGS --output O --dry-run  for every case;
  dln sweep ARGS --output O            a real short run, when the dry run accepts the case and
                                       estimates it small (the estimate is dln's own);
  dln run ARGS                         every case that is refused or estimated small.

Each must exit 0 with a valid result (a sweep file with no unit pending; CSV rows from run), or
exit 2 with exactly one line on stderr, "dln <command>: error: ...", naming what is wrong (a key,
an option or an INI line); never die of a signal, never hang (a timeout), never leave a file
behind when it refuses (nor anything at all in its working directory).

usage: cli_fuzz.py DLN CONFIG_FUZZ_CASES [INI_CASES COMMAND_CASES]
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

SEED = 20261202  # not the in-process test's: other cases from the same generator
DLN, CASES = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
INI_CASES = int(sys.argv[3]) if len(sys.argv) > 3 else 180
COMMAND_CASES = int(sys.argv[4]) if len(sys.argv) > 4 else 120
# A real run is made only of a case whose dry run estimates it at most this (dln's estimate, in
# core-seconds of the development machine, an upper bound) and this many units: CI time.
REAL_RUN_SECONDS, REAL_RUN_UNITS = 1.0, 64
TIMEOUT = 60  # seconds; the slowest accepted real run takes well under 5 (estimate above)

# What a refusal names: a key (section.key), an option (--name), a line of the INI, a section, or
# whatever the input used as a key (dln's "NAME: what is wrong", NAME as written: ";", say).
NAMES_SOMETHING = re.compile(r"[A-Za-z_]+\.[A-Za-z_]+|--[A-Za-z]|line \d+|line '|\[[^\]]*\]|section|"
                             r"^dln \w+: error: \S+: ")

work = tempfile.mkdtemp(prefix="dln-cli-fuzz.")
failures = []
counts = {"cases": 0, "accepted dry runs": 0, "refused dry runs": 0, "real sweeps": 0, "runs": 0,
          "runs refused": 0, "runs skipped (estimated too long)": 0}


def shown(text, cap=300):
    text = text.encode("unicode_escape", "replace").decode("ascii")
    return text if len(text) <= cap else text[:cap] + "..."


def files_under(path):
    return sorted(os.path.relpath(os.path.join(d, f), path) for d, _, fs in os.walk(path) for f in fs) + \
        sorted(os.path.relpath(os.path.join(d, s), path) for d, ss, _ in os.walk(path) for s in ss)


def run(case, argv, cwd, must_not_create):
    """Runs argv; returns (status, stdout, stderr) or None after recording a failure."""
    try:
        p = subprocess.run(argv, cwd=cwd, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        failures.append(f"case {case}: hang (over {TIMEOUT} s): {shown(' '.join(argv[1:]))}")
        return None
    out, err = p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")
    what = f"case {case}: dln {argv[1]} {shown(' '.join(argv[2:]))}"
    if p.returncode < 0:
        failures.append(f"{what}: killed by signal {-p.returncode}: {shown(err)}")
        return None
    if p.returncode not in (0, 2):
        failures.append(f"{what}: exit status {p.returncode}: {shown(err)}")
        return None
    if p.returncode == 2:
        lines = err.split("\n")
        if lines[-1] == "":
            lines.pop()
        if len(lines) != 1:
            failures.append(f"{what}: {len(lines)} lines on stderr: {shown(err)}")
            return None
        if not lines[0].startswith(f"dln {argv[1]}: error: ") or not NAMES_SOMETHING.search(lines[0]):
            failures.append(f"{what}: a refusal that names nothing: {shown(err)}")
            return None
        left = [f for f in must_not_create if os.path.lexists(f)] + [os.path.join(cwd, f) for f in files_under(cwd)]
        if left:
            failures.append(f"{what}: refused, but left {left}")
            return None
    return p.returncode, out, err


def main():
    cases = os.path.join(work, "cases")
    os.mkdir(cases)
    subprocess.run([CASES, str(SEED), str(INI_CASES), str(COMMAND_CASES), cases], check=True)
    for case in range(INI_CASES + COMMAND_CASES):
        counts["cases"] += 1
        with open(os.path.join(cases, f"{case}.args"), "rb") as f:
            args = [a.decode("utf-8", "surrogateescape") for a in f.read().split(b"\0")[:-1]]
        if any("\0" in a for a in args):
            continue
        cwd = os.path.join(work, "cwd")
        outdir = os.path.join(work, "out")
        for d in (cwd, outdir):
            shutil.rmtree(d, ignore_errors=True)
            os.mkdir(d)
        output = os.path.join(outdir, "o.h5")
        produced = [output, output + ".journal", output + ".creating"]
        dry = run(case, [DLN, "sweep", *args, "--output", output, "--dry-run"], cwd, produced)
        if dry is None:
            continue
        small = False
        if dry[0] == 0:
            counts["accepted dry runs"] += 1
            left = [f for f in produced if os.path.lexists(f)]
            if left:
                failures.append(f"case {case}: a dry run left {left}")
                continue
            units = re.search(r"^# (\d+) units", dry[1], re.M)
            seconds = re.search(r"\(([0-9.e+-]+) s on one core", dry[1])
            if not units or not seconds:
                failures.append(f"case {case}: a dry run without its totals: {shown(dry[1][-300:])}")
                continue
            small = int(units.group(1)) <= REAL_RUN_UNITS and float(seconds.group(1)) <= REAL_RUN_SECONDS
            if small:
                real = run(case, [DLN, "sweep", "-q", *args, "--output", output], cwd, produced)
                if real is None:
                    continue
                if real[0] == 0:
                    counts["real sweeps"] += 1
                    status = subprocess.run([DLN, "status", output], capture_output=True, text=True, timeout=TIMEOUT)
                    rows = [l.split() for l in status.stdout.splitlines()]
                    pending = [r for r in rows if len(r) == 6 and r[5].isdigit() and r[5] != "0"]
                    if status.returncode != 0 or pending or not any(len(r) == 6 and r[1].isdigit() for r in rows):
                        failures.append(f"case {case}: the sweep's file is not complete: {shown(status.stdout + status.stderr)}")
                    if os.path.lexists(output + ".journal"):
                        failures.append(f"case {case}: a finished sweep left its journal")
                for f in produced:
                    shutil.rmtree(f, ignore_errors=True) if os.path.isdir(f) else (os.path.lexists(f) and os.remove(f))
        else:
            counts["refused dry runs"] += 1
        if dry[0] == 0 and not small:
            counts["runs skipped (estimated too long)"] += 1
            continue
        r = run(case, [DLN, "run", *args], cwd, [])
        if r is None:
            continue
        counts["runs"] += 1
        if r[0] == 2:
            counts["runs refused"] += 1
        elif not r[1].startswith("method,"):
            failures.append(f"case {case}: dln run exited 0 without its CSV: {shown(r[1][:200])}")
    shutil.rmtree(work, ignore_errors=True)
    print(", ".join(f"{v} {k}" for k, v in counts.items()))
    for f in failures:
        print("FAILED:", f)
    if failures:
        print(f"{len(failures)} case(s) failed (seed {SEED})")
        sys.exit(1)
    print("all cases passed")


main()
