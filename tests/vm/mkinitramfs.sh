#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the gzip'd cpio initramfs of the test VM: busybox-static, the test
# kernel's modules, our modules, the VFIO kselftests, our test programs,
# vfio-bind and the guest scripts (tests/vm/guest/; guest/init becomes /init).
#
# Usage: tests/vm/mkinitramfs.sh -k KDIR -s SELFTESTS_DIR -p PROGS_DIR
#                                -b VFIO_BIND -o OUT.cpio.gz [-m MODULES_DIR] [-x SIM_KO]
#                                [-i CONSUMER_KO] [-d IMPORTER_KO]
#
#   KDIR           kernel build of scripts/build-kernel.sh
#   SELFTESTS_DIR  output of tests/vm/build-selftests.sh
#   PROGS_DIR      tests/vm/progs built (make -C tests/vm/progs OUTPUT=...)
#   VFIO_BIND      the static vfio-bind of tests/vm/build-vfio-bind.sh
#   MODULES_DIR    directory with our vfio_pci_core.ko, vfio_pci.ko and
#                  mlx5_vfio_pci.ko; without it the image can only test "c"
#   SIM_KO         mlx5_sim.ko, the mlx5 firmware simulator (tests/vm/mlx5sim);
#                  without it the mlx5 migration tests skip
#   CONSUMER_KO    irqbypass_consumer.ko, the test IRQ bypass consumer
#                  (tests/vm/irqbypass_consumer); without it vfio_irqbypass
#                  fails
#   IMPORTER_KO    dmabuf_importer.ko, the test dma-buf importer
#                  (tests/vm/dmabuf_importer); without it vfio_dmabuf fails
#
# Layout of the image:
#   /init, /bin/busybox and its applet links
#   /lib/modules/<ver>/kernel/...   the kernel's modules, incl. the C
#                                   vfio-pci-core.ko and vfio-pci.ko
#   /lib/modules/<ver>/updates/...  ours; depmod's "search updates built-in"
#                                   makes modprobe vfio_pci pick them
#   /vfio/modules.dep.c             the kernel's own modules.dep and
#   /vfio/modules.alias.c           modules.alias, from before ours shadowed
#                                   the module names (depmod lists only the
#                                   module it picks for a name)
#   /vfio/bin/vfio-bind             tools/vfio-bind
#   /vfio/selftests/, /vfio/progs/, /vfio/guest/
#   /vfio/mlx5sim/mlx5_sim.ko       outside /lib/modules: never depmod'ed,
#                                   loaded only by path
#   /vfio/irqbypass/irqbypass_consumer.ko   the same
#   /vfio/dmabuf/dmabuf_importer.ko         the same
set -euo pipefail
. "$(dirname "$0")/../../scripts/env.sh"
here=$(cd "$(dirname "$0")" && pwd)

usage() { die "usage: $0 -k KDIR -s SELFTESTS_DIR -p PROGS_DIR -b VFIO_BIND -o OUT.cpio.gz [-m MODULES_DIR] [-x SIM_KO] [-i CONSUMER_KO] [-d IMPORTER_KO]"; }
kdir= selftests= progs= out= moddir= simko= consumerko= importerko= vfio_bind=
while getopts k:s:p:b:o:m:x:i:d: opt; do
	case $opt in
	k) kdir=$OPTARG ;;
	s) selftests=$OPTARG ;;
	p) progs=$OPTARG ;;
	b) vfio_bind=$OPTARG ;;
	o) out=$OPTARG ;;
	m) moddir=$OPTARG ;;
	x) simko=$OPTARG ;;
	i) consumerko=$OPTARG ;;
	d) importerko=$OPTARG ;;
	*) usage ;;
	esac
done
[ -n "$kdir" ] && [ -n "$selftests" ] && [ -n "$progs" ] && [ -n "$vfio_bind" ] &&
	[ -n "$out" ] || usage
[ -x "$vfio_bind" ] || die "$vfio_bind is not an executable"

kver=$(cat "$kdir/include/config/kernel.release")
kmods=$kdir/mod-install/lib/modules/$kver
[ -d "$kmods/kernel" ] || die "no installed modules in $kmods"
[ -x "$kdir/usr/gen_init_cpio" ] || die "no $kdir/usr/gen_init_cpio"
busybox=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
case $(readelf -l "$busybox") in
*"program interpreter"*) die "$busybox is not static (apt-get install busybox-static)" ;;
esac

stage=$(mktemp -d "${TMPDIR:-/tmp}/vfio-rs-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,root,etc,lib/modules}
mkdir -p "$stage"/vfio/{selftests,progs,guest,mlx5sim,irqbypass,dmabuf,bin}

# Busybox and its applets.
install -m 0755 "$busybox" "$stage/bin/busybox"
for applet in $("$busybox" --list-full); do
	[ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$stage/$applet"
done

# The kernel's modules, then ours under updates/.
cp -a "$kmods" "$stage/lib/modules/"
rm -f "$stage/lib/modules/$kver/build" "$stage/lib/modules/$kver/source"
cp "$kmods/modules.dep" "$stage/vfio/modules.dep.c"
cp "$kmods/modules.alias" "$stage/vfio/modules.alias.c"
if [ -n "$moddir" ]; then
	for mod in vfio_pci_core vfio_pci mlx5_vfio_pci; do
		ko=$moddir/$mod.ko
		[ -f "$ko" ] || die "$ko is missing (build our modules first)"
		magic=$(modinfo -F vermagic "$ko")
		[ "${magic%% *}" = "$kver" ] ||
			die "$ko was built for '${magic%% *}', the test kernel is $kver"
		install -D -m 0644 "$ko" "$stage/lib/modules/$kver/updates/$mod.ko"
		strip --strip-debug "$stage/lib/modules/$kver/updates/$mod.ko"
	done
fi
# Our own depmod configuration, not the host's: updates/ wins over kernel/.
echo "search updates built-in" > "$stage/depmod.conf"
depmod -b "$stage" -C "$stage/depmod.conf" "$kver"
rm "$stage/depmod.conf"
if [ -n "$moddir" ]; then
	grep -q "^updates/vfio_pci.ko:" "$stage/lib/modules/$kver/modules.dep" ||
		die "depmod did not resolve vfio_pci to updates/vfio_pci.ko"
	# vfio-bind reads the image's modules.alias; ours must be there.
	grep -q "^alias vfio_pci:v\*d\*sv\*sd\*bc\*sc\*i\* vfio_pci$" \
		"$stage/lib/modules/$kver/modules.alias" ||
		die "depmod wrote no vfio_pci: alias for our vfio_pci"
fi

# Test-only modules, by path only (never under /lib/modules): each must
# match the test kernel.
add_test_ko() { # built.ko destination-in-initramfs
	local magic
	magic=$(modinfo -F vermagic "$1")
	[ "${magic%% *}" = "$kver" ] ||
		die "$1 was built for '${magic%% *}', the test kernel is $kver"
	install -m 0644 "$1" "$stage/$2"
	strip --strip-debug "$stage/$2"
}
# The firmware simulator, the IRQ bypass consumer and the dma-buf importer.
[ -z "$simko" ] || add_test_ko "$simko" vfio/mlx5sim/mlx5_sim.ko
[ -z "$consumerko" ] || add_test_ko "$consumerko" vfio/irqbypass/irqbypass_consumer.ko
[ -z "$importerko" ] || add_test_ko "$importerko" vfio/dmabuf/dmabuf_importer.ko

# Tests and guest scripts.
install -m 0755 "$selftests"/vfio_* "$stage/vfio/selftests/"
install -m 0755 "$progs"/* "$stage/vfio/progs/"
install -m 0755 "$vfio_bind" "$stage/vfio/bin/vfio-bind"
install -m 0755 "$here"/guest/* "$stage/vfio/guest/"
install -m 0755 "$here/guest/init" "$stage/init"

# The archive: the staging tree (owned by root inside the image), then
# /dev/console, which the kernel needs before /init runs and which
# gen_init_cpio can create without privileges.
mkdir -p "$(dirname "$out")"
{
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio -o -H newc -R 0:0 --quiet)
	printf 'nod /dev/console 0600 0 0 c 5 1\n' | "$kdir/usr/gen_init_cpio" -
} | gzip -6 -n > "$out.tmp"
mv "$out.tmp" "$out"
log "initramfs $out ($(du -h "$out" | cut -f1))"
