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

# Signal all three first, then wait for each: stopping them one after the other takes seconds each.
pids=()
for f in "$STATE_DIR/run/slurmd.pid" "$STATE_DIR/run/slurmctld.pid" /run/munge/munged.pid; do
  [[ -s "$f" ]] || continue
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then kill "$pid" 2>/dev/null && pids+=("$pid:$f"); else rm -f "$f"; fi
done
for entry in "${pids[@]}"; do
  pid="${entry%%:*}"; f="${entry#*:}"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then say "$(basename "$f" .pid) ($pid) did not stop; killing it"; kill -9 "$pid" 2>/dev/null; fi
  rm -f "$f"
  say "stopped $(basename "$f" .pid)"
done
exit 0
