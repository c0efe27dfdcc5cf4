# SPDX-License-Identifier: GPL-2.0
# Common settings for the vfio-rs scripts; sourced, never run.
#
# Everything that is slow to make (toolchain, kernel source, kernel build,
# kselftests, initramfs pieces) lives under $VFIO_RS_CACHE, outside the work
# tree, keyed by what it was built from, so that re-runs take seconds.

VFIO_RS_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${VFIO_RS_CACHE:=/var/cache/vfio-rs}"
export VFIO_RS_CACHE VFIO_RS_TOP

# The Rust toolchain the kernel is built with: Debian's rustc-web (with its
# rust-src), never whatever rustup put first in PATH.  Out-of-tree Rust
# modules must be built with exactly the compiler that built the kernel.
: "${VFIO_RS_RUSTC:=/usr/bin/rustc}"
: "${VFIO_RS_BINDGEN:=$VFIO_RS_CACHE/bindgen/bin/bindgen}"
export VFIO_RS_RUSTC VFIO_RS_BINDGEN

# Kernel make variables for the Rust toolchain.
vfio_rs_kmake_vars() {
	echo "RUSTC=$VFIO_RS_RUSTC HOSTRUSTC=$VFIO_RS_RUSTC" \
	     "RUSTDOC=/usr/bin/rustdoc RUSTFMT=/usr/bin/rustfmt" \
	     "CLIPPY_DRIVER=/usr/bin/clippy-driver BINDGEN=$VFIO_RS_BINDGEN"
}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
