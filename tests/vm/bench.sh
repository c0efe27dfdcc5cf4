#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Benchmark: the in-tree C drivers against ours, in one VM boot (load one,
# measure, unload, load the other): vfio-pci on igb and edu
# (tests/vm/progs/vfio_bench.c), and mlx5-vfio-pci's stop-copy migration on
# two VFs of the mlx5 simulator (vfio_mig bench: save, resume and downtime
# for 1, 16, 128 and 1024 MiB of state).  Prints each figure for both drivers
# and the ratio ours/C (below 1.0: ours is faster).
#
# The drivers alternate in rounds, in the order C, ours, ours, C, C, ours,
# ... (each pair of rounds in both orders, so that a drift of the host's
# speed during the boot weighs on both alike).  Per figure the table gives
# each driver's median over its rounds of the per-round medians, and of the
# per-round 10th percentiles (vfio_bench only): under TCG on a shared host
# a run's timings are bimodal (each access takes its usual time, or about
# 5 us more when the host delays QEMU), and the median of a run follows
# whichever mode holds more than half of its samples, while the 10th
# percentile stays in the fast one.  "spread" is the lowest and highest
# ratio of the median over the pairs of rounds (C and ours measured next
# to each other); a spread that straddles 1.0 says that the boot cannot
# tell the drivers apart on that figure.  "best" is each driver's fastest
# round (the lowest of its per-round medians), and its ratio: the host's
# slow mode holds whole rounds (tens of seconds) and only adds time, so
# with enough short rounds each driver has some in the fast mode, and the
# fastest ones compare the code.  vfio_bench's igb open takes about 0.2 s
# (its FLR's waits), so bench.sh times 20 opens a round (--opens), not
# vfio_bench's 200, which kept a round at about a minute.
#
# The VM boots the benchmark kernel (scripts/build-kernel.sh --flavour
# bench: the test kernel without lockdep, kmemleak and the other debugging,
# as a production host runs), and our modules are built against it in a
# scratch copy of the work tree under $VFIO_RS_CACHE/bench-modules/, so
# that the work tree's own build (against the test kernel) is untouched.
# --flavour test measures on the test kernel instead, with the work tree's
# modules, as the figures before 2026-12-07 in Documentation/benchmarks.rst.
#
# The VM gets 6 GiB unless VFIO_RS_VM_MEM says otherwise: the 1 GiB
# migration holds the state of both VFs in the simulator (2 GiB) and the
# whole stream in the benchmark's memory (1 GiB), more than the default 4 GiB
# leaves beside the kernel, its debugging and the initramfs.
#
# A boot can favour one driver by a few percent in all of its rounds
# (Documentation/benchmarks.rst, boot E).  Two options look at the layout
# as a cause: which virtual addresses and pages the drivers' modules get
# (without KASLR, a module reloaded in the same boot gets the same
# addresses again).  --pad LIST loads test-only padding modules before the
# driver set of each pair of rounds (level 1: dmabuf_importer.ko, 2:
# irqbypass_consumer.ko, 3: both; 0: none), taking LIST's levels in turn,
# so that each driver runs at several layouts in one boot.  --aa is the
# control: ours against ours, one of each pair unpadded ("A") and one padded
# ("B", the levels of --pad, 3 if none is given), in the same alternating
# order; with the same code on both sides, any ratio away from 1.0 beyond
# the spread is the layout's doing.  The padding applies to vfio_bench's
# part only (the migration part loads its modules itself): with --aa the
# migration figures, unless --no-mig, compare the same modules at the
# same addresses, and what moves them is the host.  The control found the
# layout alone worth up to 5-7% on some figures, and not the same in two
# boots: one boot's ratios cannot resolve
# a few percent.  --boots N boots N times and adds a table over the boots
# (tests/vm/bench_report.py): the geometric means of the boots' ratios and
# the ratios of all their rounds pooled.
#
# --icount runs the guest on a virtual clock instead of the host's
# (QEMU's -icount shift=0,sleep=off): each guest instruction advances the
# guest's clocks by 1 ns, and an idle vCPU jumps to its next timer.  The
# guest's CLOCK_MONOTONIC then counts the instructions run, on every vCPU,
# between the two readings, plus the virtual time of the waits (igb's FLR);
# nothing the host does moves it, so one boot's rounds agree to a few
# parts in a thousand and --rounds 2 is enough (the default then).  It
# does not weigh what an instruction costs: a device access or a TLB miss
# counts as one instruction, so it compares the drivers' code only where
# both make the same device accesses (Documentation/benchmarks.rst,
# "the virtual clock").  The host clock remains the measure of speed.
#
# Usage: tests/vm/bench.sh [--rounds N] [--opens N] [--no-mig] [--pad LIST] [--aa]
#                          [--boots N] [--raw] [--flavour F] [--icount]
#   --rounds N  rounds per driver (default 6: C, ours, ours, C, C, ours, ...;
#               2 with --icount)
#   --opens N   vfio_bench's runs of open per round (default 20)
#   --no-mig    vfio_bench only, no migration figures
#   --pad LIST  padding levels (0-3, comma-separated) for the pairs of rounds,
#               in turn (see above)
#   --aa        ours against ours, unpadded (A) and padded (B)
#   --boots N   boot N times (default 1), and summarise over the boots
#   --raw       also print every round's figures
#   --flavour F the kernel: bench (default) or test
#   --icount    time on QEMU's virtual instruction clock (see above)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/env.sh"

rounds=
opens=20
tests='^vfio_bench|^vfio_mig@bench'
raw=0
flavour=bench
pad=
aa=0
boots=1
icount=0
while [ $# -gt 0 ]; do
	case $1 in
	--flavour) flavour=${2:?}; shift 2 ;;
	--rounds) rounds=${2:?}; shift 2 ;;
	--opens) opens=${2:?}; shift 2 ;;
	--no-mig) tests='^vfio_bench'; shift ;;
	--pad) pad=${2:?}; shift 2 ;;
	--aa) aa=1; shift ;;
	--boots) boots=${2:?}; shift 2 ;;
	--raw) raw=1; shift ;;
	--icount) icount=1; shift ;;
	*) die "unknown argument '$1' (see the usage in $0)" ;;
	esac
done
[ -n "$rounds" ] || if ((icount)); then rounds=2; else rounds=6; fi
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds: a positive number, not '$rounds'"
[[ $opens =~ ^[1-9][0-9]*$ ]] && ((opens <= 2000)) || die "--opens: 1 to 2000, not '$opens'"
[[ $boots =~ ^[1-9][0-9]*$ ]] || die "--boots: a positive number, not '$boots'"
[ -z "$pad" ] || [[ $pad =~ ^[0-3](,[0-3])*$ ]] || die "--pad: levels 0 to 3, comma-separated, not '$pad'"
((aa == 0)) || [ -n "$pad" ] || pad=3
IFS=, read -r -a levels <<< "${pad:-0}"

# Pair i of rounds: C then ours for even i, ours then C for odd i (with
# --aa: A then B, B then A), both at padding level levels[i mod n] (with
# --aa: only B).
order= pads=
for ((i = 0; i < rounds; i++)); do
	level=${levels[i % ${#levels[@]}]}
	if ((aa)); then
		order+=,rs,rs
		if ((i % 2 == 0)); then pads+=,0,$level; else pads+=,$level,0; fi
	else
		if ((i % 2 == 0)); then order+=,c,rs; else order+=,rs,c; fi
		pads+=,$level,$level
	fi
done
order=${order#,} pads=${pads#,}

kdir=$("$VFIO_RS_TOP/scripts/build-kernel.sh" --flavour "$flavour")
modules=()
[ "$flavour" = test ] || modules=(--modules "$(vfio_rs_modules_for "$kdir")")

append="vfio_rs.bench_opens=$opens"
[ -z "$pad" ] || append+=" vfio_rs.bench_pad=$pads"
extra=${VFIO_RS_QEMU_EXTRA:-}
((icount == 0)) || extra+=" -icount shift=0,sleep=off"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
consoles=()
for ((boot = 1; boot <= boots; boot++)); do
	VFIO_RS_VM_APPEND="${VFIO_RS_VM_APPEND:+$VFIO_RS_VM_APPEND }$append" \
		VFIO_RS_QEMU_EXTRA=$extra VFIO_RS_VM_MEM=${VFIO_RS_VM_MEM:-6G} bash "$here/run.sh" --flavour "$flavour" "${modules[@]}" \
		--drivers "$order" --tests "$tests" > "$out" 2>&1 || true
	console=$(sed -n 's/^console log: //p' "$out")
	[ -n "$console" ] && [ -f "$console" ] || { cat "$out"; die "no console log"; }
	consoles+=("$console")
	# The boot's own checks (binds, the benchmark programs, dmesg-clean:
	# no Oops, WARNING, BUG or leak report) are not the benchmark's
	# subject, but a failed one must not pass silently.
	if grep -q '^not ok ' "$out"; then
		echo "boot $boot: failed checks (the figures below may not be the drivers' own):"
		grep '^not ok ' "$out"
	fi
done
clock=host
((icount == 0)) || clock="virtual (-icount shift=0: 1 ns per guest instruction)"
echo "clock: $clock"
echo "kernel: $flavour; drivers in order: $order${pad:+; padding: $pads}; opens per round: $opens; boots: $boots"
((boots > 1)) || echo "console: $console"
report=()
((raw == 0)) || report+=(--raw)
((aa == 0)) || report+=(--aa)
python3 "$here/bench_report.py" "${report[@]}" "${consoles[@]}"
