#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark: the in-tree C drivers against ours, in one VM boot (load one,
# measure, unload, load the other): vfio-pci on igb and edu
# (tests/vm/progs/vfio_bench.c), and mlx5-vfio-pci's stop-copy migration on
# two VFs of the mlx5 simulator (vfio_mig bench: save, resume and downtime
# for 1, 16, 128 and 1024 MiB of state).  Prints each figure for both drivers
# and the ratio ours/C (below 1.0: ours is faster).  Figures are medians of
# many runs under TCG, where absolute numbers are inflated but both drivers
# pay the same emulation.
#
# The VM gets 6 GiB unless VFIO_RS_VM_MEM says otherwise: the 1 GiB
# migration holds the state of both VFs in the simulator (2 GiB) and the
# whole stream in the benchmark's memory (1 GiB), more than the default 4 GiB
# leaves beside the kernel, its debugging and the initramfs.
#
# Usage: tests/vm/bench.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/env.sh"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
VFIO_RS_VM_MEM=${VFIO_RS_VM_MEM:-6G} bash "$here/run.sh" --drivers c,rs --tests '^vfio_bench|^vfio_mig@bench' > "$out" 2>&1 || true
console=$(sed -n 's/^console log: //p' "$out")
[ -n "$console" ] && [ -f "$console" ] || { cat "$out"; die "no console log"; }

# "--- begin <driver>/<test> ---" opens a section; BENCH lines follow.
printf "%-22s %12s %12s %8s\n" "benchmark (median ns)" C ours ours/C
awk '
	/^--- begin / {
		split($3, a, "/"); drv = a[1]
		dev = (a[2] ~ /@edu/) ? "edu" : (a[2] ~ /^vfio_mig/) ? "mlx5" : "igb"
	}
	/^BENCH / { key = dev "/" $2; med[drv, key] = $3; keys[key] = 1 }
	END {
		for (k in keys) {
			c = med["c", k]; r = med["rs", k]
			ratio = (c > 0 && r > 0) ? sprintf("%.3f", r / c) : "-"
			printf "%-22s %12s %12s %8s\n", k, c ? c : "-", r ? r : "-", ratio
		}
	}' "$console" | sort
