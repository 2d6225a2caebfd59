#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test suite twice: in a debug
# build, and in a release build (-O, -march=native from Package.swift), where the loss
# kernels, Elementary's functions and the trainer's loops are actually vectorised, so that
# the bit-identity tests (batch kernels vs the per-pair API, fused vs generic trainer,
# vectorised loop vs one call at a time) check the code that users run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
swift build --build-tests
swift test --skip-build
# Release: -enable-testing for the suites that use @testable import.
swift build -c release --build-tests -Xswiftc -enable-testing --scratch-path .build-release-tests
swift test -c release -Xswiftc -enable-testing --scratch-path .build-release-tests --skip-build
