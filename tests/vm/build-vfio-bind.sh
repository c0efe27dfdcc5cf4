#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build tools/vfio-bind as a static binary for the initramfs of the test VM
# (/vfio/bin/vfio-bind there).
#
# Usage: tests/vm/build-vfio-bind.sh
#
# The result is cached under $VFIO_RS_CACHE/vm/vfio-bind/<hash of the
# sources>/vfio-bind; a warm cache makes this a no-op.  Prints the binary's
# path on stdout.
set -euo pipefail
. "$(dirname "$0")/../../scripts/env.sh"

src=$VFIO_RS_TOP/tools/vfio-bind
[ -f "$src/Cargo.toml" ] || die "no $src/Cargo.toml"
hash=$(cd "$src" && find Cargo.toml Cargo.lock src -type f | LC_ALL=C sort |
	xargs sha256sum | sha256sum | cut -c1-16)
out=$VFIO_RS_CACHE/vm/vfio-bind/$hash
if [ ! -x "$out/vfio-bind" ]; then
	log "building static vfio-bind into $out"
	# One target directory for all versions, so that a change rebuilds
	# only our crate.
	CARGO_TARGET_DIR=$VFIO_RS_CACHE/vm/vfio-bind/target \
	RUSTFLAGS='-C target-feature=+crt-static' \
		/usr/bin/cargo build --quiet --release --locked \
		--manifest-path "$src/Cargo.toml" >&2
	bin=$VFIO_RS_CACHE/vm/vfio-bind/target/release/vfio-bind
	case $(readelf -l "$bin") in
	*"program interpreter"*) die "$bin is not statically linked" ;;
	esac
	mkdir -p "$out"
	install -m 0755 "$bin" "$out/vfio-bind.tmp"
	mv "$out/vfio-bind.tmp" "$out/vfio-bind"
fi
echo "$out/vfio-bind"
