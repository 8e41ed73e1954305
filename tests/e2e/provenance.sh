# Provenance (README "The result file"): the root attributes of the build and of every run parse in
# xarray with both engines; a killed run has no end, a stopped one has; a resume appends a run, one
# under Slurm names the job; a resume by a build of other source says so in one line and goes on; a
# merged file carries its shards' runs, then the merge's. `dln status --json` validates against the
# structure documented in the README, and its failed units are where the file has them.
source "$(dirname "$0")/common.sh"
PY=/usr/bin/python3
cat > "$WORK/sweep.ini" <<'INI'
[run]
time = 1
snapshots = 3
seeds = 2
methods = sgd
[sweep]
lr = 0.5, 1
dim = 40
alpha = 0.1
INI
sweep=("$DLN" sweep -q --config "$WORK/sweep.ini" --batch 1 --commit-seconds 0)
unset SLURM_JOB_ID SLURM_ARRAY_TASK_ID SLURM_RESTART_COUNT

# attrs FILE: the root attributes as JSON, read with xarray through both engines (which must agree).
attrs() {
    $PY - "$1" <<'PY'
import json, sys
import numpy as np, xarray as xr
got = []
for engine in ("h5netcdf", "netcdf4"):
    with xr.open_dataset(sys.argv[1], engine=engine) as ds:
        got.append({k: (v.item() if isinstance(v, np.generic) else v) for k, v in ds.attrs.items() if k != "config"})
assert got[0] == got[1], "the engines disagree"
print(json.dumps(got[0]))
PY
}

# check FILE RUNS EXPECT: the provenance of FILE has RUNS runs, every attribute of the README's
# tables of the type it gives, times that parse (an end not before its start), this host, and
# the checks of the Python expression EXPECT over a (the attributes) and run(n, field).
check() {
    local file=$1 runs=$2 expect=$3
    attrs "$file" > "$WORK/attrs.json" || { fail "$file: xarray: $(cat "$WORK/attrs.json")"; return; }
    $PY - "$WORK/attrs.json" "$runs" "$(hostname)" "$SRC" "$expect" <<'PY' > "$WORK/check.txt" 2>&1 \
        && pass "$(basename "$file"): $(cat "$WORK/check.txt")" || fail "$(basename "$file"): $(tail -3 "$WORK/check.txt")"
import datetime, json, re, subprocess, sys
a = json.load(open(sys.argv[1]))
runs, host, src, expect = int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
def run(n, field):
    return a.get(f"run{n}_{field}")
def check_build(prefix, version_key):
    assert a[version_key] == a["version"], (version_key, a[version_key])
    commit = a[prefix + "commit"]
    inside = subprocess.run(["git", "-C", src, "rev-parse", "--git-dir"], capture_output=True).returncode == 0
    if inside:  # a commit of this repository (it may have moved on since the build)
        assert re.fullmatch("[0-9a-f]{40}", commit), commit
        assert subprocess.run(["git", "-C", src, "cat-file", "-e", commit + "^{commit}"]).returncode == 0, commit
    assert a[prefix + "dirty"] in ((0, 1) if inside else (-1,)), a[prefix + "dirty"]
    for key in ("compiler", "flags", "type" if prefix == "build_" else "build_type"):
        assert isinstance(a[prefix + key], str) and a[prefix + key], key
    assert isinstance(a[prefix + "arch"], str)
    if a[prefix + "arch"]:
        assert "-march=" + a[prefix + "arch"] in a[prefix + "flags"], a[prefix + "flags"]
    petsc = subprocess.run(["pkg-config", "--modversion", "PETSc"], capture_output=True, text=True).stdout.strip()
    petsc_key = "petsc_version" if prefix == "build_" else prefix + "petsc_version"
    assert petsc and petsc in a[petsc_key], (a[petsc_key], petsc)
    assert re.fullmatch(r"\d+\.\d+\.\d+", a[petsc_key.replace("petsc", "hdf5")]), "hdf5"
    assert a[petsc_key.replace("petsc", "mpi")], "mpi"
check_build("build_", "version")
assert a["runs"] == runs and isinstance(a["runs"], int), ("runs", a["runs"], runs)
def utc(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
for n in range(1, runs + 1):
    check_build(f"run{n}_", f"run{n}_version")
    assert run(n, "kind") in ("start", "resume", "rebuild", "merge", "extend", "aggregate"), run(n, "kind")
    start = utc(run(n, "start"))
    if run(n, "end") is not None:
        assert utc(run(n, "end")) >= start and run(n, "outcome") in ("complete", "stopped", "incomplete")
    assert run(n, "hosts") == host and isinstance(run(n, "ranks"), int) and run(n, "ranks") >= 1, (n, run(n, "hosts"))
    assert all(isinstance(run(n, k), str) for k in ("slurm_job_id", "slurm_array_task_id") if run(n, k) is not None)
    assert run(n, "slurm_restart_count") is None or isinstance(run(n, "slurm_restart_count"), int)
assert f"run{runs + 1}_start" not in a
exec(expect)
print(f"{runs} run(s): " + "; ".join(f"{run(n, 'kind')} {run(n, 'start')} .. {run(n, 'end') or 'no end'}"
                                     f" {run(n, 'outcome') or ''}" for n in range(1, runs + 1)))
PY
}

# json FILE NAME: dln status --json FILE into $WORK/NAME.json, validated against the README.
json() {
    "$DLN" status --json "$1" > "$WORK/$2.json" \
        && $PY "$SRC/tests/e2e/status_schema_check.py" "$SRC/README.md" "$WORK/$2.json" > "$WORK/$2.valid" \
        && pass "status --json $(basename "$1") follows the README's structure" \
        || fail "status --json $(basename "$1"): $(cat "$WORK/$2.valid" 2> /dev/null)"
}

# ---- a killed run has no end; the resume after it appends one, under Slurm naming the job ----
a="$WORK/a.h5"
kill_at_failpoint journaled "$WORK/a1.log" "$a" "$MPIEXEC" -n 3 "${sweep[@]}" --output "$a" \
    || fail "the first run did not reach a commit: $(cat "$WORK/a1.log")"
SLURM_JOB_ID=4242 SLURM_ARRAY_TASK_ID=3 SLURM_RESTART_COUNT=1 "$MPIEXEC" -n 2 "${sweep[@]}" --output "$a" --resume \
    > "$WORK/a2.log" 2>&1 || fail "resume: $(cat "$WORK/a2.log")"
check "$a" 2 'assert run(1, "kind") == "start" and run(1, "ranks") == 3 and run(1, "end") is None and run(1, "outcome") is None
assert run(2, "kind") in ("resume", "rebuild") and run(2, "ranks") == 2 and run(2, "outcome") == "complete"
assert (run(2, "slurm_job_id"), run(2, "slurm_array_task_id"), run(2, "slurm_restart_count")) == ("4242", "3", 1)
assert run(1, "slurm_job_id") is None and run(1, "shard") is None'
json "$a" a
# A resume of a finished sweep computes nothing and is a run all the same.
"${sweep[@]}" --output "$a" --resume > /dev/null || fail "resume of a finished sweep"
check "$a" 3 'assert run(3, "kind") == "resume" and run(3, "ranks") == 1 and run(3, "outcome") == "complete"
assert run(3, "slurm_job_id") is None'

# ---- a resume by a build of other source: one line on stderr, and it goes on ----
$PY - "$a" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r+") as f:
    f.attrs["run3_commit"] = "0" * 40  # as if another commit had written the last run
PY
# (Open MPI's MPI-IO may add a line of its own about shared file pointers on /tmp: not dln's.)
"${sweep[@]}" --output "$a" --resume > /dev/null 2> "$WORK/other.err" && [ "$(grep -c '^dln' "$WORK/other.err")" -eq 1 ] \
    && grep -q "built from commit 000000000000[^,]*, this dln .* is built from commit" "$WORK/other.err" \
    && pass "another build: $(grep '^dln' "$WORK/other.err")" || fail "another build: $(cat "$WORK/other.err")"
"$DLN" status "$a" > "$WORK/a.status"
grep -q "^   4 resume " "$WORK/a.status" && grep -q "run 3 by another build: dln .*, commit 0000000000" "$WORK/a.status" \
    && grep -q "run 1 has no end: it was killed" "$WORK/a.status" \
    && pass "dln status shows the runs: $(grep -c '^ *[0-9] ' "$WORK/a.status") rows" \
    || fail "dln status: $(cat "$WORK/a.status")"

# ---- a stopped run has an end, outcome stopped; a failed unit is in the JSON where the file has it ----
b="$WORK/b.h5"
signal_at journaled:1 USR1 "$WORK/b1.log" env DLN_FAIL_UNIT=sgd:2 "${sweep[@]}" --output "$b"
[ $status -eq 75 ] || fail "stop: status $status, $(cat "$WORK/b1.log")"
check "$b" 1 'assert run(1, "outcome") == "stopped" and run(1, "end") is not None'
DLN_FAIL_UNIT=sgd:2 "$MPIEXEC" -n 3 "${sweep[@]}" --output "$b" --resume > "$WORK/b2.log" 2>&1 \
    || fail "resume with a failing unit: $(cat "$WORK/b2.log")"
check "$b" 2 'assert run(2, "outcome") == "incomplete"'
json "$b" b
$PY - "$WORK/b.json" "$b" <<'PY' > "$WORK/b.failed" 2>&1 && pass "$(cat "$WORK/b.failed")" \
    || fail "failed units in the JSON: $(tail -3 "$WORK/b.failed")"
import json, sys
import xarray as xr
s = json.load(open(sys.argv[1]))
assert s["readable"] and s["journal"] is not None, s["journal"]
(m,) = s["methods"]
assert (m["method"], m["units"], m["done"] + m["diverged"], m["failed"], m["pending"]) == ("sgd", 4, 3, 1, 0), m
assert s["finished"] == 4, s["finished"]
(f,) = s["failed"]
assert f["method"] == "sgd" and f["failures"] == 1 and "injected failure" in f["message"], f
ds = xr.open_dataset(sys.argv[2], engine="h5netcdf", group="sgd")
assert int(ds.status.sel(**f["at"])) == 3, "not failed at its coordinates"
assert int(ds.status.values.reshape(-1)[f["position"]]) == 3, "not failed at its position"
print(f"the failed unit {f['where']} (position {f['position']}) is the file's")
PY

# A file a crash damaged, with its journal: readable false, and what the journal holds.
head -c 2048 "$b" > "$WORK/c.h5" && cp -r "$b.journal" "$WORK/c.h5.journal"
json "$WORK/c.h5" c
$PY -c 'import json, sys; s = json.load(open(sys.argv[1])); assert not s["readable"] and s["journal"]["units"] >= 1, s' \
    "$WORK/c.json" && pass "a damaged file: readable false, its journal's units listed" || fail "damaged: $(cat "$WORK/c.json")"

# ---- merge: every shard's runs, in the order of the inputs, then the merge ----
for k in 1 2; do "$MPIEXEC" -n 2 "${sweep[@]}" --shard $k/2 --output "$WORK/s$k.h5" > /dev/null || fail "shard $k"; done
"${sweep[@]}" --shard 2/2 --output "$WORK/s2.h5" --resume > /dev/null || fail "shard 2 resumed"
"$DLN" merge "$WORK/m.h5" "$WORK/s1.h5" "$WORK/s2.h5" > /dev/null 2>&1 || fail "merge"
attrs "$WORK/s1.h5" > "$WORK/s1.attrs" && attrs "$WORK/s2.h5" > "$WORK/s2.attrs" || fail "shards' attributes"
check "$WORK/m.h5" 4 'import json
shards = [json.load(open(sys.argv[1].replace("attrs.json", f"s{k}.attrs"))) for k in (1, 2)]
copied = [(s, n) for s in shards for n in range(1, s["runs"] + 1)]
assert len(copied) == 3
for m, (s, n) in enumerate(copied, 1):
    for key in [k for k in s if k.startswith(f"run{n}_")]:
        assert a[f"run{m}" + key[len(f"run{n}"):]] == s[key], (m, key)
assert [run(n, "shard") for n in range(1, 5)] == ["1/2", "2/2", "2/2", None]
assert run(4, "kind") == "merge" and run(4, "ranks") == 1 and run(4, "outcome") == "complete" and "shard" not in a'
json "$WORK/m.h5" m
json "$WORK/s2.h5" s2

# ---- aggregate: phase.h5 carries the merged file's runs, then the aggregation's ----
"$DLN" aggregate "$WORK/m.h5" --out "$WORK/m_phase" > /dev/null 2>&1 || fail "aggregate"
attrs "$WORK/m.h5" > "$WORK/m.attrs" || fail "merged file's attributes"
check "$WORK/m_phase/phase.h5" 5 'import json
m = json.load(open(sys.argv[1].replace("attrs.json", "m.attrs")))
for key in [k for k in m if re.fullmatch("run[1-4]_.*", k)]:
    assert a[key] == m[key], key
assert run(5, "kind") == "aggregate" and run(5, "from") == sys.argv[1].replace("attrs.json", "m.h5")
assert run(5, "ranks") == 1 and run(5, "outcome") == "complete"'
finish
