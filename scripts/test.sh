#!/usr/bin/env bash
# The test command: installs what is missing, then runs every test suite twice: in a debug
# build of the default configuration, and in a release build for this machine (-O and, on
# x86-64, the opt-in `-Xcc -march=native`, see Package.swift), where the loss kernels,
# Elementary's functions and the trainer's loops are vectorised to the widest SIMD the machine
# has, so that the bit-identity tests (batch kernels vs the per-pair API, fused vs generic
# trainer, vectorised loop vs one call at a time) check the widest vector code. Between the two,
# scripts/consumer-test.sh checks that another package can depend on this one by version.
#
# The notebooks (notebooks/*.py) run in the debug pass only (NotebookTests): their Python
# packages, pinned in notebooks/requirements.txt, go into .venv-notebooks, made here once and
# reinstalled only when the requirements file changes; NOTEBOOK_PYTHON tells the tests which
# python to use (without it NotebookTests fails rather than skips).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
venv=.venv-notebooks
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
if ! cmp -s notebooks/requirements.txt "$venv/installed-requirements.txt"; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r notebooks/requirements.txt
    cp notebooks/requirements.txt "$venv/installed-requirements.txt"
fi
export NOTEBOOK_PYTHON="$PWD/$venv/bin/python"
swift build --build-tests
swift test --skip-build
bash scripts/consumer-test.sh
# Release: -enable-testing for the suites that use @testable import.
native=()
if [ "$(uname -m)" = x86_64 ]; then native=(-Xswiftc -Xcc -Xswiftc -march=native); fi
swift build -c release --build-tests -Xswiftc -enable-testing "${native[@]}" --scratch-path .build-release-tests
swift test -c release -Xswiftc -enable-testing "${native[@]}" --scratch-path .build-release-tests --skip-build --skip NotebookTests
