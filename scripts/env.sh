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

# Copies the module sources (not their build products: no object of the real
# build may stand in for one of a scratch build) into the directory $1, for
# a build of a variant that must not touch the work tree.
vfio_rs_scratch_tree() {
	(cd "$VFIO_RS_TOP" && cp -r Makefile Kbuild include scripts vfio_pci_core vfio_pci mlx5_vfio_pci "$1"/)
	find "$1" \( -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' \
		-o -name '*.rmeta' -o -name '*_generated.*' -o -name Module.symvers \
		-o -name modules.order \) -delete
}

# Builds our three modules against the kernel build $1 (another flavour of
# scripts/build-kernel.sh than the work tree's build is for) in a scratch
# copy of the tree, into $VFIO_RS_CACHE/bench-modules/<build>, with a file
# "kdir" naming $1 for tests/vm/run.sh --modules to check; prints the
# directory.
vfio_rs_modules_for() {
	local kdir=$1 moddir scratch
	moddir=$VFIO_RS_CACHE/bench-modules/$(basename "$kdir")
	scratch=$(mktemp -d)
	vfio_rs_scratch_tree "$scratch"
	log "building our modules against $kdir"
	if ! make -s -C "$scratch" KDIR="$kdir" modules >&2; then
		rm -rf "$scratch"
		die "building our modules against $kdir failed"
	fi
	mkdir -p "$moddir"
	cp "$scratch"/vfio_pci_core.ko "$scratch"/vfio_pci.ko "$scratch"/mlx5_vfio_pci.ko "$moddir"/
	echo "$kdir" > "$moddir/kdir"
	rm -rf "$scratch"
	echo "$moddir"
}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
