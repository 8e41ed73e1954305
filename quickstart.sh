#!/usr/bin/env bash
# The two commands of the README's quick start, on a fresh Debian 12 machine (root, or sudo):
#
#   bash quickstart.sh demo    install what is missing, build, run sweeps/quick.ini on 2 workers, plot it
#   bash quickstart.sh check   install what is missing (and Slurm, for its tests), build, run every test
#
# Environment: BUILD_DIR (default build), JOBS (default: the number of cores).
set -euo pipefail
cd "$(dirname "$0")"

# Debian 12 packages; nothing is downloaded by hand.
PACKAGES=(g++ make cmake pkg-config openmpi-bin libopenmpi-dev libhdf5-openmpi-dev hdf5-tools petsc-dev
          libboost-program-options-dev catch2 librandom123-dev python3-matplotlib python3-h5py
          python3-xarray python3-h5netcdf python3-netcdf4 netcdf-bin)
# The Slurm tests run a throwaway single-node cluster (tests/slurm/cluster.sh); only check needs it.
SLURM_PACKAGES=(slurmctld slurmd slurm-client munge)
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}

install_missing() {
    local missing=()
    for p in "${PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return
    echo "quickstart: installing ${missing[*]}"
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    "${sudo[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {
    cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release
    cmake --build "$BUILD_DIR" -j "$JOBS"
}

# OpenMPI refuses to run as root unless told (containers and CI run as root).
if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

case "${1:-}" in
    demo)
        install_missing
        build
        mkdir -p out
        # Rank 0 hands out work and sleeps in between, so 3 ranks keep 2 cores busy.
        mpirun -n 3 --oversubscribe "$BUILD_DIR/dln" sweep --config sweeps/quick.ini --output out/quick.h5 --force
        "$BUILD_DIR/dln" aggregate out/quick.h5 --out out/quick_phase
        "$BUILD_DIR/dln" plot out/quick_phase
        echo
        echo "quickstart: results in out/quick.h5 (h5ls -r out/quick.h5 lists them; README.md explains the layout)"
        echo "quickstart: summaries in out/quick_phase/phase.{h5,csv}, figures in out/quick_phase/*.png"
        ;;
    check)
        install_missing "${SLURM_PACKAGES[@]}"
        build
        ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$JOBS"
        ;;
    *)
        echo "usage: bash quickstart.sh demo|check" >&2
        exit 2
        ;;
esac
