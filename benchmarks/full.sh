#!/bin/sh
# The full benchmark of docs/BENCHMARKS.md, on a quiet machine (nothing else running).
# Usage: benchmarks/full.sh [PACKAGE [CHECKPOINTS [OUT.json]]]
set -e
PACKAGE=${1:-models/default}
CHECKPOINTS=${2:-out/train/default}
OUT=${3:-out/bench.json}
mkdir -p "$(dirname "$OUT")"
uptime
foleyflow bench --package "$PACKAGE" --checkpoints "$CHECKPOINTS" --threads 2 --json "$OUT"
uptime
