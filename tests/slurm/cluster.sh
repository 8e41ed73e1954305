#!/bin/bash
# A throwaway single-node Slurm cluster for tests: our own munged, slurmctld and slurmd, with every
# file they write (key, config, state, spool, logs, pid files, sockets) inside one directory.
#
#   tests/slurm/cluster.sh start DIR   # DIR: new or empty directory, e.g. "$(mktemp -d)"
#   tests/slurm/cluster.sh stop DIR    # cancel all jobs, stop exactly the daemons started in DIR
#   tests/slurm/cluster.sh logs DIR    # print the tails of the daemon logs (for failing tests)
#
# `start` prints one line, `export SLURM_CONF=DIR/slurm.conf`, on stdout (everything else goes to
# stderr) and writes the same line to DIR/env.sh, so a test does either of
#   eval "$(tests/slurm/cluster.sh start "$dir")"
#   tests/slurm/cluster.sh start "$dir" >/dev/null && . "$dir/env.sh"
# and then runs sbatch/squeue/scontrol/scancel as usual (SLURM_CONF is all the clients need).
# When the cluster cannot be started, `start` prints the daemon logs, stops whatever it had
# started and exits non-zero: a test must fail, never pass quietly, without a working Slurm.
#
# Needs the Debian 12 packages slurmctld slurmd slurm-client munge (Slurm 22.05); installs
# nothing. Runs as root (SlurmUser=root; slurmd must be root to launch jobs).
#
# Settings, from the environment of `start`:
#   DLN_SLURM_CPUS           CPUs the node is declared with, whatever the machine has (default 4)
#   DLN_SLURM_CRED_EXPIRE    seconds a requeued job waits before it may start again (default 10;
#                            Slurm's own default is 120, its minimum 5)
#   DLN_SLURM_PORT           first slurmctld port to try (default 16817; slurmd gets the next)
#   DLN_SLURM_START_TIMEOUT  seconds to wait for each daemon (default 30)
#
# Several clusters may run at once in different directories (each finds free ports), but two
# starts racing for the same ports at the same instant are not guarded against.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { echo "cluster.sh: $*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}
usage() {
    echo "usage: $0 start|stop|logs DIR" >&2
    exit 2
}

# --- processes ----------------------------------------------------------------------------------

# The pid in DIR/NAME.pid if that process is running and is NAME (guards against a stale pid
# file whose pid now belongs to an unrelated process); nothing otherwise.
live_pid() {
    local dir=$1 name=$2 pid
    pid=$(cat "$dir/$name.pid" 2>/dev/null) || return 0
    [[ $pid =~ ^[0-9]+$ ]] || return 0
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$name" ] && any_alive "$pid"; then
        echo "$pid"
    fi
    return 0
}

# Whether any of the processes PID... is still running. A process that has exited stays a zombie
# until its parent reaps it; the daemons' parent is init, which in this container reaps only every
# 2 s or so: zombies count as gone.
any_alive() {
    local pid state
    for pid in "$@"; do
        state=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || continue
        if [ -n "$state" ] && [ "$state" != Z ]; then return 0; fi
    done
    return 1
}

# stop_daemons DIR NAME...: SIGTERM to the daemons NAME... of DIR (by their pid files), then wait
# until they have exited; SIGKILL to those still running after 10 s.
stop_daemons() {
    local dir=$1 name pid pids=() i
    shift
    for name in "$@"; do
        pid=$(live_pid "$dir" "$name")
        if [ -n "$pid" ]; then
            pids+=("$pid")
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done
    for ((i = 0; i < 150; i++)); do
        any_alive "${pids[@]}" || return 0
        if [ "$i" = 100 ]; then
            log "WARNING: $* of $dir still running 10 s after SIGTERM; sending SIGKILL"
            ps -o pid,args -p "$(IFS=,; echo "${pids[*]}")" >&2 || true
            kill -KILL "${pids[@]}" 2>/dev/null || true
        fi
        sleep 0.1
    done
    die "$* of $dir survived SIGKILL: ${pids[*]}"
}

# stray_pids DIR WHICH: the processes of jobs of the cluster in DIR. Job processes carry its
# SLURM_CONF and a SLURM_JOB_ID in their environment; with WHICH=all, also its slurmstepd
# processes, which hold a file inside DIR open (they log to DIR/slurmd.log). The caller and its
# ancestors (a test script that exported SLURM_CONF) are never listed.
stray_pids() {
    local dir=$1 which=$2 p pid comm env fd keep=" " a=$$
    while [ "$a" -gt 1 ]; do
        keep+="$a "
        a=$(awk '{ print $4 }' "/proc/$a/stat" 2>/dev/null) || break
    done
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [[ $keep == *" $pid "* ]] && continue
        comm=$(cat "$p/comm" 2>/dev/null) || continue
        if [ "$comm" = slurmstepd ]; then
            [ "$which" = all ] || continue
            for fd in "$p"/fd/*; do
                if [[ $(readlink "$fd" 2>/dev/null) == "$dir"/* ]]; then
                    echo "$pid"
                    break
                fi
            done
        else
            env=$(tr '\0' '\n' 2>/dev/null <"$p/environ") || continue
            if grep -qxF "SLURM_CONF=$dir/slurm.conf" <<<"$env" &&
                grep -q '^SLURM_JOB_ID=' <<<"$env"; then
                echo "$pid"
            fi
        fi
    done
    return 0
}

# kill_strays DIR WHICH MESSAGE: SIGKILL to stray_pids DIR WHICH, and wait until they are gone.
# Unless MESSAGE is empty, print it and the processes first.
kill_strays() {
    local dir=$1 which=$2 message=$3 strays i
    mapfile -t strays < <(stray_pids "$dir" "$which")
    [ "${#strays[@]}" -gt 0 ] || return 0
    if [ -n "$message" ]; then
        log "$message ${strays[*]}"
        ps -o pid,ppid,etime,args -p "$(IFS=,; echo "${strays[*]}")" >&2 || true
    fi
    kill -KILL "${strays[@]}" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        any_alive "${strays[@]}" || return 0
        sleep 0.1
    done
    log "WARNING: processes of jobs survived SIGKILL: ${strays[*]}"
}

# --- start --------------------------------------------------------------------------------------

# Whether TCP port $1 appears in the kernel's socket tables in any state (listening, connected or
# TIME_WAIT), IPv4 or IPv6. Read from /proc: needs neither ss nor netstat.
port_in_use() {
    local hex f files=()
    hex=$(printf ':%04X' "$1")
    for f in /proc/net/tcp /proc/net/tcp6; do
        if [ -r "$f" ]; then files+=("$f"); fi
    done
    awk -v h="$hex" 'FNR > 1 && substr($2, length($2) - 4) == h { found = 1 }
                     END { exit !found }' "${files[@]}"
}

# wait_for WHAT DIR "DAEMONS" COMMAND...: run COMMAND every 0.2 s until it succeeds, for at most
# DLN_SLURM_START_TIMEOUT seconds. Fails at once when one of DAEMONS has died (its pid file
# names a process that is gone, or no pid file appeared within 5 s): a crash is reported at once.
wait_for() {
    local what=$1 dir=$2 daemons=$3 d t0=$SECONDS timeout=${DLN_SLURM_START_TIMEOUT:-30}
    shift 3
    until "$@"; do
        for d in $daemons; do
            if [ -z "$(live_pid "$dir" "$d")" ] &&
                { [ -e "$dir/$d.pid" ] || [ $((SECONDS - t0)) -ge 5 ]; }; then
                die "$d is not running (while waiting for $what)"
            fi
        done
        [ $((SECONDS - t0)) -lt "$timeout" ] || die "timed out after $timeout s waiting for $what"
        sleep 0.2
    done
}

start() {
    local dir=$1 cmd
    for cmd in munged munge unmunge slurmctld slurmd sinfo squeue scontrol scancel; do
        command -v "$cmd" >/dev/null ||
            die "$cmd not found; install the Debian packages slurmctld slurmd slurm-client munge"
    done
    [ "$(id -u)" = 0 ] || die "must run as root (SlurmUser=root, and slurmd must be root)"

    if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
        die "$dir is not empty; give a new or empty directory"
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd -P)
    # Unix socket paths are limited to 107 bytes, and slurmd puts one per job step in its spool
    # directory (DIR/spool/NODE_JOBID.STEPID): keep DIR short, e.g. mktemp -d under /tmp.
    [ "${#dir}" -le 64 ] || die "$dir is too long (${#dir} > 64 characters) for Unix socket paths"
    # munged refuses a socket, log or key in a directory others may write to, and warns when
    # others cannot reach its socket (a job of another user could not run scontrol): rwx--x--x.
    chmod 711 "$dir"
    mkdir "$dir/state" "$dir/spool"
    : >"$dir/plugstack.conf"

    # From here on, a failure shows the logs and stops whatever was started.
    # shellcheck disable=SC2064 # $dir is expanded now, on purpose
    trap "on_start_exit $(printf %q "$dir")" EXIT

    local node cpus cred mem ctld_port slurmd_port
    node=$(hostname -s)
    cpus=${DLN_SLURM_CPUS:-4}
    cred=${DLN_SLURM_CRED_EXPIRE:-10}
    [[ $cpus =~ ^[1-9][0-9]*$ ]] || die "DLN_SLURM_CPUS=$cpus: not a positive number"
    if ! [[ $cred =~ ^[0-9]+$ ]] || [ "$cred" -lt 5 ]; then
        die "DLN_SLURM_CRED_EXPIRE=$cred: must be a number >= 5"
    fi
    mem=$(awk '/^MemTotal:/ { print int($2 / 1024 * 0.9) }' /proc/meminfo)
    ctld_port=${DLN_SLURM_PORT:-16817}
    while port_in_use "$ctld_port" || port_in_use $((ctld_port + 1)); do
        ctld_port=$((ctld_port + 2))
        [ "$ctld_port" -lt 65000 ] || die "no two free consecutive TCP ports found"
    done
    slurmd_port=$((ctld_port + 1))

    sed -e "s|@DIR@|$dir|g" -e "s|@NODE@|$node|g" -e "s|@CTLD_PORT@|$ctld_port|g" \
        -e "s|@SLURMD_PORT@|$slurmd_port|g" -e "s|@CPUS@|$cpus|g" -e "s|@MEM_MB@|$mem|g" \
        -e "s|@CRED_EXPIRE@|$cred|g" "$here/slurm.conf.in" >"$dir/slurm.conf"
    if grep -v '^#' "$dir/slurm.conf" | grep '@[A-Z_]*@' >&2; then die "placeholders left above"; fi
    export SLURM_CONF=$dir/slurm.conf

    local t0=$SECONDS
    # munged with its own key, socket, pid, log and seed file; --force because it refuses to run
    # as root otherwise. It returns once it serves requests: check that it does.
    dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none
    chmod 400 "$dir/munge.key"
    munged --force --key-file="$dir/munge.key" --socket="$dir/munge.socket" \
        --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munged.seed" \
        </dev/null >>"$dir/munged.out" 2>&1 || die "munged did not start"
    munge -n -S "$dir/munge.socket" | unmunge -S "$dir/munge.socket" >/dev/null ||
        die "munged of $dir does not encode and decode credentials"

    # slurmctld and slurmd read DIR/slurm.conf only (-f). They daemonize with their standard
    # streams on /dev/null, so they never hold a caller's pipe open (ctest would wait for them);
    # what they print before that goes to DIR/*.out. slurmctld -c: start from an empty state.
    # slurmd -N: the node name, not derived from how the host name resolves.
    slurmctld -c -f "$dir/slurm.conf" </dev/null >>"$dir/slurmctld.out" 2>&1 ||
        die "slurmctld did not start"
    wait_for "slurmctld to answer" "$dir" slurmctld \
        bash -c 'timeout 5 scontrol ping 2>/dev/null | grep -q "is UP"'
    slurmd -f "$dir/slurm.conf" -N "$node" </dev/null >>"$dir/slurmd.out" 2>&1 ||
        die "slurmd did not start"
    wait_for "node $node to become idle" "$dir" "slurmctld slurmd" \
        bash -c "[ \"\$(timeout 5 sinfo -h -n '$node' -o %T 2>/dev/null)\" = idle ]"

    echo "export SLURM_CONF=$dir/slurm.conf" >"$dir/env.sh"
    log "cluster up in $((SECONDS - t0)) s: node $node with $cpus CPUs, ports" \
        "$ctld_port/$slurmd_port, requeue delay $cred s, in $dir"
    trap - EXIT
    cat "$dir/env.sh"
}

# The EXIT trap of start: when start fails, show the logs and stop what was started.
on_start_exit() {
    local rc=$? dir=$1
    trap - EXIT
    if [ "$rc" != 0 ]; then
        log "ERROR: the test cluster in $dir did not start (status $rc); daemon logs follow"
        show_logs "$dir"
        stop_all "$dir" || true
    fi
    exit "$rc"
}

# --- stop ---------------------------------------------------------------------------------------

# wait_jobs_ended SECONDS: wait until no job is running or completing; false after SECONDS.
wait_jobs_ended() {
    local i
    for ((i = 0; i < $1 * 5; i++)); do
        [ -z "$(timeout 5 squeue -h -t running,completing,configuring -o %i 2>/dev/null)" ] &&
            return 0
        sleep 0.2
    done
    return 1
}

# Cancel every job, kill what is left of them, stop slurmd, slurmctld and munged of DIR. Touches
# only processes tied to DIR.
stop_all() {
    local dir=$1 ids=()
    export SLURM_CONF=$dir/slurm.conf
    if [ -n "$(live_pid "$dir" slurmctld)" ] && [ -f "$SLURM_CONF" ]; then
        mapfile -t ids < <(timeout 10 squeue -h -o %i 2>/dev/null || true)
        if [ "${#ids[@]}" -gt 0 ]; then
            # scancel removes the pending jobs and sends SIGTERM to the running ones. A job that
            # traps or ignores SIGTERM would keep us waiting KillWait (30 s) for slurmstepd's
            # SIGKILL (scancel --signal=KILL does not shorten that: Slurm treats it as a plain
            # cancel), so after 3 s we SIGKILL the job processes ourselves; slurmstepd then sees
            # its job end and reports it as usual.
            timeout 10 scancel "${ids[@]}" 2>/dev/null || true
            wait_jobs_ended 3 || kill_strays "$dir" job ""
            wait_jobs_ended 10 || log "WARNING: jobs not ended 10 s after SIGKILL"
        fi
    fi
    # slurmd first, while slurmctld and munged still answer: otherwise it may spend a
    # MessageTimeout or more trying to report to slurmctld before it exits.
    stop_daemons "$dir" slurmd
    stop_daemons "$dir" slurmctld munged
    # Nothing should be left now. What is left escaped Slurm's tracking: proctrack/linuxproc loses
    # a process whose parent exits before it (it is reparented to init), e.g. a background
    # `sleep &` of a batch script that exits without waiting for it.
    kill_strays "$dir" all "WARNING: processes of jobs outlived the cluster, killing them:"
}

stop() {
    local dir=$1 t0=$SECONDS
    [ -d "$dir" ] || die "$dir: no such directory"
    dir=$(cd "$dir" && pwd -P)
    stop_all "$dir"
    log "cluster in $dir stopped in $((SECONDS - t0)) s"
}

# Print the last lines of every daemon log in DIR to stderr.
show_logs() {
    local dir=$1 f
    for f in "$dir"/munged.log "$dir"/slurmctld.log "$dir"/slurmd.log "$dir"/*.out; do
        [ -s "$f" ] || continue
        echo "----- $f (last 40 lines) -----" >&2
        tail -n 40 "$f" >&2
    done
}

# --- main ---------------------------------------------------------------------------------------

[ $# -eq 2 ] || usage
case $1 in
    start) start "$2" ;;
    stop) stop "$2" ;;
    logs) show_logs "$2" ;;
    *) usage ;;
esac
