#!/usr/bin/env bash
# Installs what the toolkit needs on a fresh Debian machine (run as root), with apt-get:
#   libgsl-dev    GNU GSL (numerics), found by SwiftPM through pkg-config `gsl`
#   zlib1g-dev    zlib (gzip-compressed inputs), pkg-config `zlib`
#   pkg-config
#   librsvg2-bin  rsvg-convert, with which the tests render the SVG figures to PNG and check pixels
# Idempotent: does nothing when everything is present.
set -euo pipefail
present() {
    command -v pkg-config >/dev/null 2>&1 \
        && pkg-config --exists gsl 2>/dev/null && [ -f /usr/include/gsl/gsl_errno.h ] \
        && pkg-config --exists zlib 2>/dev/null && [ -f /usr/include/zlib.h ] \
        && command -v rsvg-convert >/dev/null 2>&1
}
if present; then
    exit 0
fi
packages="libgsl-dev zlib1g-dev pkg-config librsvg2-bin"
if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: something is missing; run as root, or: sudo apt-get install -y $packages" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq $packages >/dev/null
present || { echo "bootstrap: still missing something after installing $packages" >&2; exit 1; }
echo "bootstrap: installed GSL $(pkg-config --modversion gsl), zlib $(pkg-config --modversion zlib), $(rsvg-convert --version)" >&2
