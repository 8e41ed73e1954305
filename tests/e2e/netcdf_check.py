#!/usr/bin/env python3
"""Checks that a file dln wrote opens as it is in the Python and netCDF tools.

    netcdf_check.py FILE SPEC.json

SPEC: {"groups": {"sgd": ["lr", "dim", ...]},          the dimensions of each group's "check_var"
       "check_var": "risk",                              (default risk; phase files: excess_mean)
       "coords": {"noise": [0, 0.5], ...},              coordinate values, in every group that has them
       "values": [{"group": "sgd", "var": "risk", "at": {"lr": 1, ...}, "value": 0.1, "rtol": 1e-11}]}

For every group: xarray.open_dataset with engine h5netcdf and with engine netcdf4 (netCDF-C) must
give the named dimensions with their coordinate values, and h5py's dimension labels must name
them; `ncdump -h FILE` must succeed. Each listed value is selected by coordinates (xarray .sel)
in both engines and compared. Prints one line per check; exits 1 on the first failure.
"""
import json
import subprocess
import sys

import h5py
import numpy as np
import xarray as xr


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def main():
    path, spec_path = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        spec = json.load(f)
    var = spec.get("check_var", "risk")
    run = subprocess.run(["ncdump", "-h", path], capture_output=True, text=True)
    if run.returncode != 0:
        fail(f"ncdump -h {path}: {run.stderr.strip()}")
    print(f"ok: ncdump -h {path}")
    for group, dims in spec["groups"].items():
        for engine in ("h5netcdf", "netcdf4"):
            try:
                ds = xr.open_dataset(path, engine=engine, group=group)
            except Exception as e:  # noqa: BLE001 - any failure to open is the finding
                fail(f"xarray {engine} group {group}: {type(e).__name__}: {e}")
            got = list(ds[var].dims)
            if got != dims:
                fail(f"{engine} {group}/{var} dims {got}, expected {dims}")
            for name in dims:
                if name not in ds.coords and name != "failure_length":
                    fail(f"{engine} {group}: dimension {name} has no coordinate values")
            for name, values in spec.get("coords", {}).items():
                if name not in ds.coords:
                    continue
                have = ds.coords[name].values
                ok = (list(map(str, have)) == list(map(str, values))) if have.dtype == object \
                    else np.allclose(have, np.asarray(values, dtype=float), rtol=1e-15, atol=0)
                if not ok:
                    fail(f"{engine} {group}: coordinate {name} = {list(have)}, expected {values}")
            for check in spec.get("values", []):
                if check["group"] != group:
                    continue
                got_value = float(ds[check["var"]].sel(check["at"]).values)
                expected = check["value"]
                if not np.isclose(got_value, expected, rtol=check.get("rtol", 1e-11), atol=0):
                    fail(f"{engine} {group}/{check['var']} at {check['at']} = {got_value!r}, expected {expected!r}")
                print(f"ok: {engine} {group}/{check['var']} at {check['at']} = {got_value!r}")
            ds.close()
            print(f"ok: xarray {engine} group {group}: dims {dims}")
        with h5py.File(path, "r") as f:
            labels = [d.label for d in f[group][var].dims]
            if labels != dims:
                fail(f"h5py {group}/{var} labels {labels}, expected {dims}")
        print(f"ok: h5py {group}/{var} labels {labels}")


if __name__ == "__main__":
    main()
