#!/usr/bin/env bash
# The consumer-package test (issue 9): proves that another Swift package can depend on this one
# by version. It clones the repository's committed HEAD into a temporary folder, tags the clone
# (PRINCIPLED_LOSS_TEST_VERSION, default 0.9.0), copies scripts/consumer-package there with the
# clone's file URL and the version filled in (`.package(url:, from:)`), builds it and runs it:
# it evaluates losses through `Loss` and trains a few hundred steps with `Trainer`, checking
# values derived by hand. SwiftPM refuses a versioned dependency whose targets use unsafe
# flags, so this fails if Package.swift ever adds them again. Needs no environment variable;
# the package's own dependencies resolve as they do for the main package.
#   bash scripts/consumer-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"
version="${PRINCIPLED_LOSS_TEST_VERSION:-0.9.0}"
work="$(mktemp -d "${TMPDIR:-/tmp}/principled-loss-consumer.XXXXXX")"
trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/principled-loss"
git -C "$work/principled-loss" tag -f "$version" >/dev/null
cp -R scripts/consumer-package "$work/consumer"
sed -i -e "s|PRINCIPLED_LOSS_URL|file://$work/principled-loss|" -e "s|PRINCIPLED_LOSS_VERSION|$version|" \
    "$work/consumer/Package.swift"
cd "$work/consumer"
echo "consumer-test: building a package that depends on principled-loss $version by URL" >&2
swift build
"$(swift build --show-bin-path)/Consumer"
