#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetch Debian's linux-source-7.3, configure a minimal Rust-enabled kernel
# for the VM (tinyconfig + scripts/kernel.config + the flavour's fragment)
# and build it, with the in-tree C vfio-pci modules.  The result is cached
# under $VFIO_RS_CACHE/kbuild/<version>-<key> (the test kernel) or
# <version>-bench-<key>, keyed by kernel version, config fragments and
# toolchain; a warm cache makes this a no-op.
#
# Usage: scripts/build-kernel.sh [--flavour test|bench]
#   test   (default) the test kernel, with the debugging every VM test
#          relies on (scripts/kernel-debug.config: lockdep, kmemleak, ...)
#   bench  the benchmark kernel, the same without that debugging
#          (scripts/kernel-bench.config), for tests/vm/bench.sh
#
# Prints the build directory (usable as KDIR=) on stdout.
set -euo pipefail
. "$(dirname "$0")/env.sh"

flavour=test
case "${1:-}" in
'') ;;
--flavour) flavour=${2:?--flavour needs test or bench} ;;
*) die "unknown argument '$1' (usage: $0 [--flavour test|bench])" ;;
esac
case $flavour in
test) last=kernel-debug.config; tag= ;;
bench) last=kernel-bench.config; tag=bench- ;;
*) die "--flavour: test or bench, not '$flavour'" ;;
esac
fragments=("$VFIO_RS_TOP/scripts/kernel.config" "$VFIO_RS_TOP/scripts/$last")

SRC_PKG=linux-source-7.3
mkdir -p "$VFIO_RS_CACHE/src"

# 1. Source: the newest linux-source-7.3 Debian offers.
deb=$(ls "$VFIO_RS_CACHE"/src/${SRC_PKG}_*.deb 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$deb" ]; then
	log "downloading $SRC_PKG"
	(cd "$VFIO_RS_CACHE/src" && apt-get download -q -t trixie-backports "$SRC_PKG" >/dev/null 2>&1) ||
		die "apt-get download $SRC_PKG failed (run scripts/setup-host.sh first)"
	deb=$(ls "$VFIO_RS_CACHE"/src/${SRC_PKG}_*.deb | sort -V | tail -n1)
fi
debver=$(basename "$deb" | sed 's/^[^_]*_\([^_]*\)_.*/\1/')
srcdir=$VFIO_RS_CACHE/src/linux-$debver
if [ ! -f "$srcdir/.unpacked" ]; then
	log "unpacking $deb"
	rm -rf "$srcdir" "$srcdir.tmp"
	mkdir -p "$srcdir.tmp"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$srcdir.tmp" ./usr/src/
	tar -xJf "$srcdir.tmp"/usr/src/linux-source-7.3.tar.xz -C "$srcdir.tmp"
	mv "$srcdir.tmp/linux-source-7.3" "$srcdir"
	rm -rf "$srcdir.tmp"
	touch "$srcdir/.unpacked"
fi

# 2. Build key: version, fragments, toolchain.
key=$( { echo "$debver"; cat "${fragments[@]}";
	 "$VFIO_RS_RUSTC" --version; "$VFIO_RS_BINDGEN" --version; gcc --version | head -n1; } |
	sha256sum | cut -c1-12)
kbuild=$VFIO_RS_CACHE/kbuild/$debver-$tag$key
kmake() { make -s -C "$srcdir" O="$kbuild" $(vfio_rs_kmake_vars) -j"$(nproc)" "$@"; }

if [ ! -f "$kbuild/.vfio-rs-built" ]; then
	mkdir -p "$kbuild"
	log "configuring $kbuild"
	kmake tinyconfig >/dev/null
	"$srcdir/scripts/kconfig/merge_config.sh" -m -O "$kbuild" "$kbuild/.config" \
		"${fragments[@]}" >/dev/null
	kmake olddefconfig >/dev/null
	# Every option of the fragments must have survived olddefconfig; a
	# silently dropped one (a missing dependency) would make the VM tests
	# measure the wrong kernel.  An option set in both takes the second's
	# value, as in merge_config.sh.
	missing=0
	while read -r line; do
		case "$line" in CONFIG_*=n) opt=${line%%=*}
			grep -q "^$opt=" "$kbuild/.config" && { echo "  $opt is set" >&2; missing=1; } ;;
		CONFIG_*) grep -qx "$line" "$kbuild/.config" || { echo "  $line not applied" >&2; missing=1; } ;;
		esac
	done < <(grep -h '^CONFIG_' "${fragments[@]}" | tac | awk -F= '!seen[$1]++' | tac)
	[ "$missing" = 0 ] || die "kernel config fragment not applied (see above); is rustc/bindgen/libclang usable? try: make -C $srcdir O=$kbuild rustavailable"
	log "building kernel and modules in $kbuild (about 5 minutes on 2 cores)"
	kmake bzImage modules
	rm -rf "$kbuild/mod-install"
	kmake INSTALL_MOD_PATH="$kbuild/mod-install" INSTALL_MOD_STRIP=1 modules_install >/dev/null
	rm -rf "$kbuild/usr-headers"
	kmake INSTALL_HDR_PATH="$kbuild/usr-headers" headers_install >/dev/null
	echo "$srcdir" > "$kbuild/.vfio-rs-src"
	touch "$kbuild/.vfio-rs-built"
fi
echo "$kbuild"
