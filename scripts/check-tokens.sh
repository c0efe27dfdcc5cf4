#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Checks that the type system, not a comment, keeps the core's teardown to
# the VFIO core's last close: a variant driver that forges a CloseToken,
# uses one twice or keeps one past close_device must not build (see
# CloseToken in vfio_pci_core/driver.rs; the config space's lock-free
# readers are sound only because of it).  In a scratch copy of the tree it
# builds the modules as they are (they must build), then, one case at a
# time, mlx5_vfio_pci with its close_device changed, and expects the
# rustc error of that case:
#
#   forge  dev.core_close(CloseToken::new()) from the variant: E0624
#          (`new` is private to vfio_pci_core)
#   twice  core_close(close) twice: E0382 (use of a moved value)
#   keep   the token as CloseToken<'static>: "lifetime may not live long
#          enough" (it lives only for the call)
#
# Usage: scripts/check-tokens.sh [KDIR]
# Prints one "ok"/"not ok" line per check and exits non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/env.sh"

kdir=${1:-$("$VFIO_RS_TOP/scripts/build-kernel.sh")}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0

ok() { echo "ok - tokens: $*"; }
not_ok() { echo "not ok - tokens: $*"; failed=$((failed + 1)); }

vfio_rs_scratch_tree "$scratch"

src=$scratch/mlx5_vfio_pci/mlx5_vfio_pci.rs
call='        dev.core_close(close)'
grep -qxF "$call" "$src" || { not_ok "no '$call' line in mlx5_vfio_pci.rs to change"; exit 1; }
cp "$src" "$src.orig"

log=$scratch/build.log
if make -C "$scratch" KDIR="$kdir" modules >"$log" 2>&1; then
	ok "the unchanged tree builds"
else
	tail -30 "$log"
	not_ok "the unchanged tree builds"
	exit 1
fi

# case NAME EXPECTED-ERROR-REGEX REPLACEMENT-OF-THE-CALL
case_() {
	local name=$1 want=$2 with=$3
	awk -v call="$call" -v with="$with" '$0 == call { print with; next } { print }' \
		"$src.orig" >"$src"
	if make -C "$scratch" KDIR="$kdir" modules >"$log" 2>&1; then
		not_ok "$name: the variant built"
	elif grep -E "$want" "$log" >/dev/null; then
		ok "$name: refused ($(grep -Eo "$want" "$log" | head -1))"
	else
		grep -E '^error' "$log" | head -5
		not_ok "$name: failed, but not with /$want/"
	fi
}
case_ forge 'E0624' '        dev.core_close(close); dev.core_close(vfio_pci_core::CloseToken::new())'
case_ twice 'E0382' '        dev.core_close(close); dev.core_close(close)'
case_ keep 'lifetime may not live long enough|E0521' \
	"        let kept: CloseToken<'static> = close; dev.core_close(kept)"

[ "$failed" = 0 ]
