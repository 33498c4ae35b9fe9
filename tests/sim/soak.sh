#!/usr/bin/env bash
# Runs the raft simulator over 100,000 seeds (or $SEEDS) in parallel chunks on $JOBS cores.
# Usage: tests/sim/soak.sh [build-dir]. A failing chunk prints its seed's replay line.
set -euo pipefail
BUILD=${1:-build}
SEEDS=${SEEDS:-100000}
JOBS=${JOBS:-2}
STEPS=${STEPS:-1200}
SIM="$BUILD/tests/sim/uetcd-raft-sim"
if [ ! -x "$SIM" ]; then
    ninja -C "$BUILD" tests/sim/uetcd-raft-sim
fi
CHUNK=$(( (SEEDS + 19) / 20 ))
ranges=()
for (( lo = 1; lo <= SEEDS; lo += CHUNK )); do
    hi=$(( lo + CHUNK - 1 ))
    (( hi > SEEDS )) && hi=$SEEDS
    ranges+=("$lo..$hi")
done
printf '%s\n' "${ranges[@]}" |
    xargs -P "$JOBS" -I{} "$SIM" --seeds={} --steps="$STEPS"
echo "soak: $SEEDS seeds passed"
