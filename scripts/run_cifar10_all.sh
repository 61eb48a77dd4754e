#!/usr/bin/env bash
# Run (or continue) every full-protocol CIFAR-10 experiment of the book:
# configurations a-e x seeds 0..N-1, one seed of every configuration first.
# Each run is resumable (per-epoch checkpoints under runs/) and writes
# results/cifar10/<config>-seed<k>.json atomically; finished results are skipped.
#   usage: scripts/run_cifar10_all.sh [NSEEDS=3] [extra runner args...]
set -u
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
NSEEDS=${1:-3}; shift || true
status=0
for seed in $(seq 0 $((NSEEDS - 1))); do
  for config in b a c d e; do
    if [ -f "results/cifar10/${config}-seed${seed}.json" ]; then
      echo "[skip] ${config}-seed${seed}: already recorded"; continue
    fi
    echo "[run ] ${config}-seed${seed} ($(date -u +%FT%TZ))"
    "$PY" -m helpers.experiments cifar10 --config "$config" --seed "$seed" "$@" || status=$?
  done
done
exit $status
