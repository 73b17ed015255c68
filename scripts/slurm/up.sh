#!/usr/bin/env bash
# Bring up a single-node Slurm cluster on this host, for defrost's Slurm executor tests and for
# trying `defrost run --executor slurm` on one machine.
#
# Idempotent: when `sinfo` already answers with a responding node (a real cluster, or one this
# script started earlier) it does nothing. Otherwise (as root) it installs Debian's slurm-wlm and
# munge when missing, writes /etc/slurm/slurm.conf for this host (only when there is none, or
# the one there is ours), starts munged, slurmctld and slurmd in the background and waits, bounded,
# until `sinfo` shows the node idle. `down.sh` stops what this script started.
#
# Why these settings: this is a container without systemd or a writable cgroup hierarchy, so
# processes are tracked by /proc (proctrack/linuxproc) and not confined (task/none); job
# accounting needs slurmdbd, so completed jobs are kept visible through `squeue --states=all`
# and `scontrol` for MinJobAge seconds and logged by jobcomp/filetxt instead.
set -euo pipefail

STATE_DIR="${DEFROST_SLURM_DIR:-/var/tmp/defrost-slurm}"
CONF=/etc/slurm/slurm.conf
MARKER="# written by defrost scripts/slurm/up.sh"
WAIT_S="${DEFROST_SLURM_WAIT_S:-60}"

say() { echo "slurm-up: $*" >&2; }
die() { say "error: $*"; exit 1; }

cluster_idle() {
  # A node that answers and is idle (or mixed/allocated: still usable). `sinfo -h -o %t` prints
  # compact states: idle, mix, alloc, down*, drain...
  local states
  # sinfo retries for ~10 s when no controller answers; a running one answers in milliseconds.
  states="$(timeout 3 sinfo -h -o '%t' 2>/dev/null)" || return 1
  grep -Eq '^(idle|mix|alloc|comp)$' <<<"$states"
}

if command -v sinfo >/dev/null 2>&1 && cluster_idle; then
  say "Slurm is already up: $(sinfo -h -o '%N %t' | tr '\n' ' ')"
  exit 0
fi

[[ "$(id -u)" == 0 ]] || die "Slurm is not running and starting it needs root (run this script as root)"

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sinfo >/dev/null \
  || ! command -v munged >/dev/null; then
  say "installing slurm-wlm and munge (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  install_packages() {
    apt-get install -y --no-install-recommends slurm-wlm slurmctld slurmd slurm-client munge
  }
  if command -v flock >/dev/null && [[ -w /tmp ]]; then
    flock /tmp/apt.lock bash -c "$(declare -f install_packages); install_packages" >&2 \
      || { flock /tmp/apt.lock apt-get update >&2 && flock /tmp/apt.lock bash -c "$(declare -f install_packages); install_packages" >&2; } \
      || die "could not install slurm-wlm and munge with apt-get"
  else
    install_packages >&2 || { apt-get update >&2 && install_packages >&2; } || die "could not install slurm-wlm and munge"
  fi
fi

HOST="$(hostname -s)"
# This machine's CPUs and memory as slurmd itself sees them; keep some memory for the OS.
NODE_LINE="$(slurmd -C | head -n1)"
CPUS="$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$NODE_LINE")"
MEM="$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$NODE_LINE")"
[[ -n "$CPUS" && -n "$MEM" ]] || die "cannot read this node's CPUs and memory from 'slurmd -C': $NODE_LINE"
MEM=$(( MEM * 9 / 10 ))

if [[ -e "$CONF" ]] && ! grep -qF "$MARKER" "$CONF"; then
  die "$CONF exists and was not written by this script; refusing to replace it (is Slurm configured but not running? start it, or move $CONF away)"
fi

mkdir -p "$STATE_DIR"/{ctld,spool,log,run}
# A fresh controller state each time: a test cluster must not resume jobs from an earlier session.
rm -rf "${STATE_DIR:?}/ctld/"* "${STATE_DIR:?}/spool/"*
mkdir -p /etc/slurm
cat >"$CONF" <<CONF
$MARKER on $(date -u +%Y-%m-%dT%H:%M:%SZ); down.sh stops it.
ClusterName=defrost
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$STATE_DIR/log/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
# A test cluster: schedule pending jobs every second, not every minute.
SchedulerParameters=sched_interval=1,sched_min_interval=0
ReturnToService=2
MinJobAge=900
DefMemPerCPU=1024
KillWait=5
InactiveLimit=0
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$STATE_DIR/ctld
SlurmdSpoolDir=$STATE_DIR/spool
SlurmctldPidFile=$STATE_DIR/run/slurmctld.pid
SlurmdPidFile=$STATE_DIR/run/slurmd.pid
SlurmctldLogFile=$STATE_DIR/log/slurmctld.log
SlurmdLogFile=$STATE_DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
NodeName=$HOST NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF

# munge: a key owned by the munge user, readable by it only.
if [[ ! -s /etc/munge/munge.key ]]; then
  say "creating /etc/munge/munge.key"
  if command -v mungekey >/dev/null; then mungekey --create --force; else
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
  fi
fi
chown munge:munge /etc/munge /etc/munge/munge.key
chmod 0700 /etc/munge
chmod 0400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
chmod 0755 /run/munge

if ! munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "starting munged"
  runuser -u munge -- /usr/sbin/munged --force
  for _ in $(seq 1 50); do munge -n </dev/null 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n </dev/null | unmunge >/dev/null || die "munged does not answer (see /var/log/munge/munged.log)"
fi

pkill_pidfile() { # stop a daemon of ours left from an earlier run, by its pid file only
  local f="$1"; [[ -s "$f" ]] || return 0
  local pid; pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null || true; sleep 1; fi
  rm -f "$f"
}
pkill_pidfile "$STATE_DIR/run/slurmd.pid"
pkill_pidfile "$STATE_DIR/run/slurmctld.pid"

say "starting slurmctld and slurmd on $HOST ($CPUS CPUs, ${MEM} MB)"
# Both daemonise themselves; -c / -i: no state carried over from earlier runs.
/usr/sbin/slurmctld -c || die "slurmctld did not start (see $STATE_DIR/log/slurmctld.log)"
/usr/sbin/slurmd -c || die "slurmd did not start (see $STATE_DIR/log/slurmd.log)"

deadline=$(( $(date +%s) + WAIT_S ))
until cluster_idle; do
  if (( $(date +%s) >= deadline )); then
    say "sinfo after ${WAIT_S}s:"; sinfo >&2 || true
    tail -n 20 "$STATE_DIR/log/slurmctld.log" "$STATE_DIR/log/slurmd.log" >&2 || true
    die "the node did not become idle within ${WAIT_S}s"
  fi
  # A node that registered as down (e.g. after an unclean stop) is resumed explicitly.
  if sinfo -h -o '%t' 2>/dev/null | grep -Eq '^(down|drain)'; then
    scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true
  fi
  sleep 0.5
done
say "Slurm is up: $(sinfo -h -o '%P %N %t' | tr '\n' ' ')"
