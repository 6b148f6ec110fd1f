#!/usr/bin/env bash
# Starts a one-node Slurm cluster (munged, slurmctld, slurmd) for the sweep
# launcher's tests, from tests/slurm/slurm.conf.in, in STATE_DIR (default
# /tmp/pipeline-slurm). Prints the line to export: SLURM_CONF=STATE_DIR/slurm.conf.
# scripts/slurm-down.sh stops it by PID. Needs the Debian packages slurm-wlm
# and munge (scripts/install-deps.sh), and root (slurmd runs jobs as their user).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE="${1:-/tmp/pipeline-slurm}"
HOST="$(hostname -s)"
CPUS="$(nproc)"
MEMORY_MB="$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)"
"$ROOT/scripts/slurm-down.sh" "$STATE" >/dev/null 2>&1 || true
mkdir -p "$STATE/ctld" "$STATE/d"
chmod 700 "$STATE"
# munge: a fresh key of its own and a socket in STATE, so it needs nothing in /etc.
[ -f "$STATE/munge.key" ] || dd if=/dev/urandom of="$STATE/munge.key" bs=1024 count=1 status=none
chmod 400 "$STATE/munge.key"
munged --force --key-file="$STATE/munge.key" --socket="$STATE/munge.sock" --pid-file="$STATE/munged.pid" \
  --log-file="$STATE/munged.log" --seed-file="$STATE/munge.seed"
sed -e "s|@HOST@|$HOST|g" -e "s|@STATE@|$STATE|g" -e "s|@CPUS@|$CPUS|g" -e "s|@MEMORY_MB@|$MEMORY_MB|g" \
    -e "s|@CTLD_PORT@|${PIPELINE_SLURMCTLD_PORT:-16817}|g" -e "s|@D_PORT@|${PIPELINE_SLURMD_PORT:-16818}|g" \
    "$ROOT/tests/slurm/slurm.conf.in" > "$STATE/slurm.conf"
export SLURM_CONF="$STATE/slurm.conf"
slurmctld -i -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
# Up when the node takes jobs (idle), within 20 s.
for _ in $(seq 100); do
  if sinfo -h -N -o %T 2>/dev/null | grep -qx idle; then
    echo "SLURM_CONF=$SLURM_CONF"
    exit 0
  fi
  sleep 0.2
done
echo "slurm-up: the node did not become idle; see $STATE/slurmctld.log and $STATE/slurmd.log" >&2
sinfo -N -l >&2 || true
exit 1
