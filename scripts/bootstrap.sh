#!/usr/bin/env bash
# Installs what the toolkit needs on a fresh Debian machine (run as root): GNU GSL's
# development package and pkg-config, through which SwiftPM finds GSL. Idempotent.
set -euo pipefail
if pkg-config --exists gsl 2>/dev/null && [ -f /usr/include/gsl/gsl_errno.h ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: libgsl-dev is missing; run as root, or: sudo apt-get install -y libgsl-dev pkg-config" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq libgsl-dev pkg-config >/dev/null
pkg-config --exists gsl
echo "bootstrap: installed libgsl-dev $(pkg-config --modversion gsl)" >&2
