#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The main job, from a fresh machine: set up the host, build the test kernel
# and our three modules, boot the QEMU test VM, bind QEMU's igb NIC to our
# vfio-pci through driver_override, and show the device working from
# userspace (tests/vm/progs/vfio_info: group and cdev/iommufd paths,
# VFIO_DEVICE_GET_INFO), then unbind and hand it back to igb.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. scripts/env.sh

bash scripts/setup-host.sh
KDIR=$(bash scripts/build-kernel.sh)
log "building our modules against $KDIR"
make -s KDIR="$KDIR" modules
modinfo -F alias vfio_pci.ko mlx5_vfio_pci.ko | sed 's/^/    alias: /'
modinfo -F depends vfio_pci.ko | sed 's/^/    vfio_pci depends on: /'

out=$(mktemp)
trap 'rm -f "$out"' EXIT
set +e
bash tests/vm/run.sh --drivers rs --tests '^vfio_info$' | tee "$out"
rc=${PIPESTATUS[0]}
set -e
console=$(sed -n 's/^console log: //p' "$out")
if [ -n "$console" ] && [ -f "$console" ]; then
	echo
	echo "==> in the VM: binding igb to our vfio-pci and using it"
	sed -n '/^=== driver rs ===/,/^--- end rs\/vfio_info /p' "$console" |
		grep -v -E '^\[ *[0-9]+\.[0-9]+\] (ACPI|PCI|pci )' || true
fi
exit "$rc"
