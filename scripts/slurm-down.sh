#!/usr/bin/env bash
# Stops what scripts/slurm-up.sh started in STATE_DIR, by PID: slurmd,
# slurmctld, then munged.
STATE="${1:-/tmp/pipeline-slurm}"
for name in slurmd slurmctld munged; do
  f="$STATE/$name.pid"
  [ -f "$f" ] || continue
  pid="$(cat "$f")"
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
done
exit 0
