#!/usr/bin/env bash
# Builds the release binary (native code generation, Package.swift) and a portable one
# (PRINCIPLED_LOSS_PORTABLE=1, baseline x86-64, in .build-portable), then runs the Swift and
# numpy benchmarks side by side.
#   bash benchmarks/run.sh                  # full run (about 8 minutes on 2 cores)
#   bash benchmarks/run.sh --quick          # smoke test
#   bash benchmarks/run.sh --out results/benchmarks.md
# Options are passed to benchmarks/run.py (see its --help).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product report >&2
PRINCIPLED_LOSS_PORTABLE=1 swift build -c release --product report --scratch-path .build-portable >&2
exec python3 benchmarks/run.py --portable-report .build-portable/release/report "$@"
