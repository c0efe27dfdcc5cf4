#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Checks the modinfo of our three modules against the in-tree C modules
# they replace, so that a field that goes missing fails a test:
#
#   description  the C module's, followed by " (Rust)"
#   author       present (ours name us, not upstream's authors)
#   license      the C module's
#   parm         the same parameters, descriptions and types, in any order
#   alias        the same aliases (the vfio_pci: override-only ones)
#   depends      present, the same modules as the C module's (vfio_pci_core
#                on irqbypass, for its IRQ bypass producers)
#   name         present
#
# The C vfio-pci.ko and vfio-pci-core.ko come from the kernel build; the C
# mlx5-vfio-pci.ko needs CONFIG_MLX5_CORE, so unless it was built, its
# description, license and aliases are read from drivers/vfio/pci/mlx5/main.c
# of the kernel source.
#
# Usage: scripts/check-modinfo.sh [KDIR]    (our .ko files at the top of the tree)
# Prints one "ok"/"not ok" line per check and exits non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/env.sh"

kdir=${1:-$("$VFIO_RS_TOP/scripts/build-kernel.sh")}
src=$(cat "$kdir/.vfio-rs-src" 2>/dev/null || readlink -f "$kdir/source" 2>/dev/null || echo "$kdir")
failed=0

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }

# field KO NAME: the values of modinfo field NAME, one a line, sorted.
field() {
	modinfo -F "$2" "$1" | LC_ALL=C sort
}

# The fields of the C mlx5_vfio_pci from its source: prints "NAME VALUE"
# lines for description, license and alias.
mlx5_from_source() {
	local main=$src/drivers/vfio/pci/mlx5/main.c
	[ -f "$main" ] || die "no $main (pass the KDIR of scripts/build-kernel.sh)"
	# MODULE_DESCRIPTION( "..." ); may span two lines.
	tr '\n' ' ' < "$main" |
		sed -n 's/.*MODULE_DESCRIPTION([[:space:]]*"\([^"]*\)".*/description \1\n/p'
	sed -n 's/^MODULE_LICENSE("\([^"]*\)");/license \1/p' "$main"
	sed -n 's/.*PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_MELLANOX, 0x\([0-9a-fA-F]*\)).*/\1/p' "$main" |
		while read -r dev; do
			printf 'alias vfio_pci:v000015B3d%08Xsv*sd*bc*sc*i*\n' "0x$dev"
		done
}

# check OURS_KO C_KO_OR_EMPTY
check() {
	local ours=$1 c=$2 mod want got dep
	mod=$(basename "$ours" .ko)
	[ -f "$ours" ] || { not_ok "$mod: $ours is not built"; return; }
	if [ -n "$c" ]; then
		want_desc=$(field "$c" description)
		want_license=$(field "$c" license)
		want_alias=$(field "$c" alias)
		want_parm=$(field "$c" parm)
		want_depends=$(field "$c" depends | tr ',' '\n' | tr - _ | LC_ALL=C sort)
	else
		local facts
		facts=$(mlx5_from_source)
		want_desc=$(echo "$facts" | sed -n 's/^description //p')
		want_license=$(echo "$facts" | sed -n 's/^license //p')
		want_alias=$(echo "$facts" | sed -n 's/^alias //p' | LC_ALL=C sort)
		want_parm=
		# mlx5_vfio_pci.c builds on vfio_pci_core (and mlx5_core, which
		# ours reaches through vfio_pci_core's exports).
		want_depends=$(printf '%s\n' mlx5_core vfio_pci_core)
	fi

	got=$(field "$ours" description)
	[ "$got" = "$want_desc (Rust)" ] && ok "$mod: description '$got'" ||
		not_ok "$mod: description '$got', want '$want_desc (Rust)'"
	got=$(field "$ours" author)
	[ -n "$got" ] && ok "$mod: author '$got'" || not_ok "$mod: no author"
	got=$(field "$ours" license)
	[ "$got" = "$want_license" ] && ok "$mod: license '$got'" ||
		not_ok "$mod: license '$got', want '$want_license'"
	got=$(field "$ours" parm)
	[ "$got" = "$want_parm" ] && ok "$mod: $(echo "$got" | grep -c . || true) parm line(s) as the C module's" ||
		not_ok "$mod: parm lines differ: $(diff <(echo "$want_parm") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"
	got=$(field "$ours" alias)
	[ "$got" = "$want_alias" ] && ok "$mod: alias $(echo $got)" ||
		not_ok "$mod: aliases '$(echo $got)', want '$(echo $want_alias)'"
	if modinfo "$ours" | grep -q '^depends:'; then
		got=$(field "$ours" depends | tr ',' '\n' | grep . | LC_ALL=C sort || true)
		for dep in $got; do
			echo "$want_depends" | grep -qx "$dep" && ok "$mod: depends on $dep, as the C module" ||
				not_ok "$mod: depends on $dep, which the C module does not"
		done
		for dep in $want_depends; do
			echo "$got" | grep -qx "$dep" ||
				not_ok "$mod: does not depend on $dep, as the C module does"
		done
		[ -n "$got" ] || ok "$mod: depends field present (empty)"
	else
		not_ok "$mod: no depends field"
	fi
	got=$(field "$ours" name)
	[ "$got" = "$mod" ] && ok "$mod: name" || not_ok "$mod: name '$got'"
}

cmod=$kdir/drivers/vfio/pci
check "$VFIO_RS_TOP/vfio_pci_core.ko" "$cmod/vfio-pci-core.ko"
check "$VFIO_RS_TOP/vfio_pci.ko" "$cmod/vfio-pci.ko"
if [ -f "$cmod/mlx5/mlx5-vfio-pci.ko" ]; then
	check "$VFIO_RS_TOP/mlx5_vfio_pci.ko" "$cmod/mlx5/mlx5-vfio-pci.ko"
else
	echo "# mlx5-vfio-pci.ko is not built (CONFIG_MLX5_VFIO_PCI): comparing with $src/drivers/vfio/pci/mlx5/main.c"
	check "$VFIO_RS_TOP/mlx5_vfio_pci.ko" ""
fi
echo "# modinfo: $failed failed"
[ "$failed" = 0 ]
