#!/usr/bin/env bash
# Stop the single-node Slurm cluster that up.sh started: slurmd, slurmctld and munged, by their
# pid files (never by name, so a real cluster's daemons or anyone else's are left alone). Does
# nothing when up.sh did not write /etc/slurm/slurm.conf (a real cluster).
set -uo pipefail

STATE_DIR="${DEFROST_SLURM_DIR:-/var/tmp/defrost-slurm}"
CONF=/etc/slurm/slurm.conf
MARKER="# written by defrost scripts/slurm/up.sh"
say() { echo "slurm-down: $*" >&2; }

if [[ ! -e "$CONF" ]] || ! grep -qF "$MARKER" "$CONF"; then
  say "no test cluster of ours here; nothing to stop"
  exit 0
fi

# Cancel whatever is still queued or running, so no job outlives the cluster.
if command -v scancel >/dev/null; then timeout 10 scancel --full --quiet --user "$(id -un)" 2>/dev/null || true; fi

stop_pidfile() {
  local name="$1" f="$2"
  [[ -s "$f" ]] || return 0
  local pid; pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then say "$name ($pid) did not stop; killing it"; kill -9 "$pid" 2>/dev/null; fi
  fi
  rm -f "$f"
  say "stopped $name"
}
stop_pidfile slurmd "$STATE_DIR/run/slurmd.pid"
stop_pidfile slurmctld "$STATE_DIR/run/slurmctld.pid"
stop_pidfile munged /run/munge/munged.pid
exit 0
