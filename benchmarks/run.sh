#!/usr/bin/env bash
# Builds the release binary and runs the Swift and numpy benchmarks side by side.
#   bash benchmarks/run.sh                  # full run (about 5 minutes on 2 cores)
#   bash benchmarks/run.sh --quick          # smoke test
#   bash benchmarks/run.sh --out results/benchmarks.md
# Options are passed to benchmarks/run.py (see its --help).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product report >&2
exec python3 benchmarks/run.py "$@"
