#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Builds the modules without dma-buf support (`make VFIO_RS_DMABUF=n`, what
# a host kernel without CONFIG_PCI_P2PDMA or CONFIG_DMA_SHARED_BUFFER gets,
# like upstream's !CONFIG_VFIO_PCI_DMABUF) in a scratch copy of the tree, so
# that the real build's objects are never touched, and checks:
#
#   build         it builds, without a warning
#   no-export     vfio_pci_core.ko does not export vfio_pci_dma_buf_iommufd_map
#   no-import-ns  vfio_pci_core.ko does not import the DMA_BUF namespace
#
# Usage: scripts/check-nodmabuf.sh [--out DIR] [KDIR]
#   --out DIR  also copy the three modules of this build to DIR, for the VM
#              run of this variant (tests/vm/run.sh --modules DIR --no-dmabuf)
# Prints one "ok"/"not ok" line per check and exits non-zero on any failure.
set -euo pipefail
. "$(dirname "$0")/env.sh"

out=
if [ "${1:-}" = --out ]; then
	out=${2:?--out needs a directory}
	shift 2
fi
kdir=${1:-$("$VFIO_RS_TOP/scripts/build-kernel.sh")}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0

ok() { echo "ok - nodmabuf: $*"; }
not_ok() { echo "not ok - nodmabuf: $*"; failed=$((failed + 1)); }

vfio_rs_scratch_tree "$scratch"

build_log=$scratch/build.log
if ! make -C "$scratch" KDIR="$kdir" VFIO_RS_DMABUF=n modules >"$build_log" 2>&1; then
	tail -40 "$build_log"
	not_ok build
	exit 1
fi
if grep -E 'warning:|error:' "$build_log"; then not_ok build; else ok build; fi

ko=$scratch/vfio_pci_core.ko
# grep reads all of the output: with pipefail, grep -q could kill nm with
# SIGPIPE and make a match look like none.
if nm "$ko" | grep 'vfio_pci_dma_buf_iommufd_map' >/dev/null; then
	not_ok "no-export (vfio_pci_dma_buf_iommufd_map in $(basename "$ko"))"
else
	ok no-export
fi
if modinfo -F import_ns "$ko" | grep -x DMA_BUF >/dev/null; then
	not_ok "no-import-ns (imports DMA_BUF)"
else
	ok no-import-ns
fi

if [ -n "$out" ]; then
	mkdir -p "$out"
	rm -f "$out"/*.ko
	cp "$scratch"/vfio_pci_core.ko "$scratch"/vfio_pci.ko "$scratch"/mlx5_vfio_pci.ko "$out"/
fi
[ "$failed" = 0 ]
