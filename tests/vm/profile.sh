#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Where the time of a region access, an MSI-X enable or a migration goes,
# in guest instructions: boots the test VM once with a QEMU TCG plugin
# (tests/vm/profile/insn_plugin.c) that counts the instructions of every
# translated block, runs tests/vm/progs/vfio_prof (N config reads, BAR
# reads, config writes, getpid() calls, N/10 MSI-X enable/disable pairs,
# N loopback interrupts and N/2000 first opens of the device fd, each set
# a phase) on igb (or edu) and
# `vfio_mig prof` (50 stop-copy saves and 50 resumes of 1 MiB of state,
# on two mlx5_sim VFs; --mig N:MIB for N of MIB MiB) with the
# in-tree C drivers and then with ours, and prints per phase the
# instructions per operation of both drivers and the functions that
# differ most (tests/vm/profile/report.py).  It also prints the block
# transitions that TCG does not chain (a jump or fall-through between
# blocks that start on different pages, a return, an indirect call) and,
# of those, the lookups that miss the vCPU's jump cache as the plugin
# models it: two hot blocks whose addresses hash to one of its 4096 slots
# evict each other on every operation, and each miss costs a lookup in
# QEMU's global table.  That is TCG's alone, no cost on hardware, but it
# moves the benchmark: see "the jump cache" in Documentation/benchmarks.rst.
#
# A function's instruction count is exact and repeats from run to run (a
# phase's total also holds what interrupts add, a few percent: compare
# the getpid rows), where TCG timings on this host are bimodal
# (Documentation/benchmarks.rst); counts do not
# weigh what an instruction costs (an MMIO exit, a cache miss), and a
# `rep stos`/`rep movs` counts once per block run whatever it moves, so the
# benchmark (tests/vm/bench.sh) remains the measure of speed, and this the
# tool to find what to cut.  One vCPU, so that the other one's work stays
# out of the counts.
#
# Usage: tests/vm/profile.sh [--top N] [--mig N:MIB] [--flavour F] [--device D] [--tlb BITS]
#   --device D   igb (default) or edu: the device vfio_prof runs on (edu
#                has no MSI-X: its msix_on_off phase toggles MSI)
#   --flavour F  the kernel: test (default: lockdep and kmemleak, as the
#                VM tests run) or bench (without them, as tests/vm/bench.sh
#                runs; our modules are then built against it in a scratch
#                copy of the tree)
#   --tlb BITS   also model the softmmu TLB (1 << BITS entries per MMU
#                index; QEMU starts at 8) and count the data accesses that
#                miss it (the tlb columns); the guest runs several times
#                slower
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/env.sh"

top=25
mig=50:1
flavour=test
device=igb
tlb=
while [ $# -gt 0 ]; do
	case $1 in
	--flavour) flavour=${2:?}; shift 2 ;;
	--top) top=${2:?}; shift 2 ;;
	--device) device=${2:?}; shift 2 ;;
	--mig) mig=${2:?}; shift 2 ;;
	--tlb) [[ ${2:-} =~ ^[0-9]+$ ]] && (($2 >= 6 && $2 <= 20)) || die "--tlb: 6 to 20, not '${2:-}'"
		tlb=",tlb=1,tlbbits=$2"; shift 2 ;;
	*) die "unknown argument '$1' (see the usage in $0)" ;;
	esac
done
case $device in
igb) prof_test=vfio_prof ;;
edu) prof_test=vfio_prof@edu ;;
*) die "--device: igb or edu, not '$device'" ;;
esac

kdir=$("$here/../../scripts/build-kernel.sh" --flavour "$flavour")
modules=()
[ "$flavour" = test ] || modules=(--modules "$(vfio_rs_modules_for "$kdir")")
work=$VFIO_RS_CACHE/vm/profile
mkdir -p "$work"
plugin=$work/insn_plugin.so
gcc -O2 -Wall -Werror -shared -fPIC -fvisibility=hidden \
	-o "$plugin" "$here/profile/insn_plugin.c"
# The phase marker: getitimer(), which only vfio_prof calls in the guest.
toggle=$(awk '$3 == "__x64_sys_getitimer" { print $1; exit }' "$kdir/System.map")
[ -n "$toggle" ] || die "no __x64_sys_getitimer in $kdir/System.map"
! grep -q '^CONFIG_RANDOMIZE_BASE=y' "$kdir/.config" ||
	die "the test kernel has KASLR: System.map addresses would not match the guest's"
profile=$work/profile.txt
rm -f "$profile"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
[[ $mig =~ ^[1-9][0-9]*:[1-9][0-9]*$ ]] || die "--mig: N:MIB, not '$mig'"
VFIO_RS_VM_APPEND="vfio_rs.prof_mig=$mig" VFIO_RS_VM_SMP=1 VFIO_RS_QEMU_EXTRA="-plugin $plugin,toggle=$toggle,out=$profile$tlb" \
	bash "$here/run.sh" --flavour "$flavour" "${modules[@]}" --drivers c,rs --tests "^$prof_test\$|^vfio_mig@prof\$" > "$out" 2>&1 || true
console=$(sed -n 's/^console log: //p' "$out")
[ -n "$console" ] && [ -f "$console" ] || { cat "$out"; die "no console log"; }
[ -s "$profile" ] || { cat "$out"; die "the plugin wrote no profile ($profile)"; }
echo "console: $console; profile: $profile"
python3 "$here/profile/report.py" "$kdir/System.map" "$console" "$profile" --top "$top"
