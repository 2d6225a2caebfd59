#!/usr/bin/env bash
# Builds the native release binary (opt-in: `-Xcc -march=native` handed to swiftc, in
# .build-native) and the default one (Package.swift sets no flags: baseline x86-64, in .build),
# then runs the Swift and numpy benchmarks side by side; benchmarks/run.py also checks that
# `report all` gives byte-identical output from the two binaries (and exits 1 if not).
#   bash benchmarks/run.sh                  # full run (about 11 minutes on 2 cores)
#   bash benchmarks/run.sh --quick          # smoke test
#   bash benchmarks/run.sh --out results/benchmarks.md
# Options are passed to benchmarks/run.py (see its --help).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product report -Xswiftc -Xcc -Xswiftc -march=native --scratch-path .build-native >&2
swift build -c release --product report >&2
exec python3 benchmarks/run.py --report .build-native/release/report --portable-report .build/release/report "$@"
