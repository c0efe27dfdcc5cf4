#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the upstream VFIO kselftests (tools/testing/selftests/vfio) of the
# test kernel's source tree as static binaries, for the initramfs of the test
# VM, together with the upstream helper scripts (setup.sh, cleanup.sh, lib.sh,
# run.sh; they need bash, so the VM does not use them, but a developer may).
#
# Usage: tests/vm/build-selftests.sh KDIR
#
# The result is cached under $VFIO_RS_CACHE/selftests/<kernel source
# version>; a warm cache makes this a no-op.  Prints that directory on stdout.
set -euo pipefail
. "$(dirname "$0")/../../scripts/env.sh"

[ $# = 1 ] || die "usage: $0 KDIR"
kdir=$(cd "$1" && pwd)
[ -f "$kdir/.vfio-rs-src" ] || die "$kdir is not a kernel build of scripts/build-kernel.sh"
[ -d "$kdir/usr-headers/include/linux" ] || die "$kdir/usr-headers is missing (headers_install)"
srcdir=$(cat "$kdir/.vfio-rs-src")
testdir=$srcdir/tools/testing/selftests/vfio
[ -f "$testdir/Makefile" ] || die "no VFIO kselftests in $srcdir"

out=$VFIO_RS_CACHE/selftests/$(basename "$srcdir")
if [ ! -f "$out/.vfio-rs-built" ]; then
	log "building VFIO kselftests into $out"
	rm -rf "$out.tmp"
	mkdir -p "$out.tmp"
	# LDFLAGS on the command line replaces the Makefile's "-pthread",
	# which static glibc (libpthread merged into libc) does not need.
	# -isystem, as lib.mk's default: the uAPI headers must come after
	# tools/include (for u64 & co.) and must not warn against glibc's.
	make -s -C "$testdir" -j"$(nproc)" \
		CC=gcc LDFLAGS=-static \
		KHDR_INCLUDES="-isystem $kdir/usr-headers/include" \
		OUTPUT="$out.tmp" >&2
	for f in "$testdir"/scripts/*.sh; do
		install -D -m 0755 "$f" "$out.tmp/scripts/$(basename "$f")"
	done
	# Keep only what the VM needs: the binaries and the scripts.
	find "$out.tmp" \( -name '*.o' -o -name '*.d' \) -delete
	find "$out.tmp" -type d -empty -delete
	for bin in "$out.tmp"/vfio_*; do
		case $(readelf -l "$bin") in
		*"program interpreter"*) die "$bin is not statically linked" ;;
		esac
	done
	rm -rf "$out"
	mv "$out.tmp" "$out"
	touch "$out/.vfio-rs-built"
fi
echo "$out"
