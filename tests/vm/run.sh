#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run the VFIO VM tests: boot the test kernel in QEMU (TCG) with an emulated
# Intel IOMMU, an igb NIC (SR-IOV capable, has a kselftest driver) and the
# edu device on the root bus, two edu functions behind a PCIe root port
# (whose slot or bus can be reset: vfio_hotreset), and run tests/vm/guest/plan.sh in it against the in-tree C
# vfio-pci ("c") and/or ours ("rs").  Prints TAP, a c-vs-rs table and a last
# line "N passed, N failed[, N skipped]"; exits non-zero on any failure.
#
# Usage: tests/vm/run.sh [--drivers c,rs] [--tests REGEX] [--keep] [--verbose]
#                        [--timeout SECS] [--idle-timeout SECS] [--timeout-mult N]
#                        [--modules DIR] [--no-dmabuf] [--flavour test|bench]
#
#   --drivers       driver sets to test, in this order (default c,rs)
#   --tests         extended regex (no spaces) selecting tests by name, e.g.
#                   'vfio_info|device_test'; bind and unbind always run
#   --keep          keep the run directory's initramfs, not just the log
#   --verbose       stream the whole console instead of the result lines
#   --timeout       hard limit for the whole VM run (default 2400 s, or
#                   $VFIO_RS_VM_TIMEOUT)
#   --idle-timeout  kill the VM when its console stays silent this long
#                   (default 600 s; a wedged guest cannot time itself out)
#   --timeout-mult  multiply every per-test timeout in the guest by N
#   --modules       the directory of our modules (default: the top of the
#                   work tree)
#   --no-dmabuf     our modules were built with VFIO_RS_DMABUF=n (checked:
#                   vfio_pci_core.ko must not import DMA_BUF); the tests
#                   expect the dma-buf feature to be absent
#   --flavour       the kernel to boot (scripts/build-kernel.sh --flavour):
#                   test (default) or bench, the benchmark kernel without
#                   lockdep and kmemleak; with rs, bench needs --modules DIR
#                   holding modules built against that kernel and a file
#                   DIR/kdir naming its build directory (tests/vm/bench.sh
#                   makes both)
#
# Our modules are expected at the top of the work tree (vfio_pci_core.ko,
# vfio_pci.ko, mlx5_vfio_pci.ko; build them first).  Each run gets a
# directory under $VFIO_RS_CACHE/vm/runs/ with the full console log.
#
# Only one VM runs at a time on this host: two TCG guests on two cores starve
# each other (RCU stalls, kselftest timeouts), so a run waits on the lock
# $VFIO_RS_CACHE/vm/lock for the one before it to end.
#
# Environment: VFIO_RS_VM_MEM (default 4G), VFIO_RS_VM_SMP (vCPUs, default
# 2), VFIO_RS_VM_ACCEL (default tcg,thread=single), VFIO_RS_VM_APPEND (more
# kernel command line), VFIO_RS_VM_TIMEOUT, VFIO_RS_QEMU_EXTRA (more QEMU
# arguments, split on spaces: tests/vm/profile.sh loads its plugin so).
#
# Everything runs from main(), so that bash has read the whole script before
# it starts: editing it while a run is going cannot derail that run.
set -euo pipefail
. "$(dirname "$0")/../../scripts/env.sh"
here=$(cd "$(dirname "$0")" && pwd)

drivers=c,rs
tests='.*'
keep=0
verbose=0
timeout_mult=1
moddir=$VFIO_RS_TOP
dmabuf=y
flavour=test
vm_timeout=${VFIO_RS_VM_TIMEOUT:-2400}
idle_timeout=600
vm_mem=${VFIO_RS_VM_MEM:-4G}
vm_smp=${VFIO_RS_VM_SMP:-2}
vm_accel=${VFIO_RS_VM_ACCEL:-tcg,thread=single}
vm_append=${VFIO_RS_VM_APPEND:-}

usage() {
	sed -n '/^# Usage:/,/^# directory/s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--drivers) drivers=${2:?}; shift 2 ;;
		--tests) tests=${2:?}; shift 2 ;;
		--keep) keep=1; shift ;;
		--verbose) verbose=1; shift ;;
		--timeout) vm_timeout=${2:?}; shift 2 ;;
		--idle-timeout) idle_timeout=${2:?}; shift 2 ;;
		--timeout-mult) timeout_mult=${2:?}; shift 2 ;;
		--modules) moddir=${2:?}; shift 2 ;;
		--no-dmabuf) dmabuf=n; shift ;;
		--flavour) flavour=${2:?}; shift 2 ;;
		-h|--help) usage ;;
		*) echo "unknown option: $1" >&2; usage ;;
		esac
	done
	local d
	for d in ${drivers//,/ }; do
		[ "$d" = c ] || [ "$d" = rs ] ||
			die "--drivers: a comma-separated list of c and rs, not '$drivers'"
	done
	[ -n "${drivers//,/}" ] || die "--drivers: empty"
	case $tests in
	*[[:space:]]*) die "--tests: the pattern goes on the kernel command line, it cannot contain spaces" ;;
	esac
	[[ $vm_timeout =~ ^[0-9]+$ ]] || die "--timeout: seconds"
	[[ $idle_timeout =~ ^[0-9]+$ ]] || die "--idle-timeout: seconds"
	[[ $timeout_mult =~ ^[0-9]+$ ]] || die "--timeout-mult: a whole number"
}

# Builds (or finds cached) the kernel, kselftests, our programs and the
# initramfs; sets kdir, run_dir, initramfs and console.
build_inputs() {
	local modules_args=() missing= mod selftests progs mlx5sim consumer vfio_bind
	kdir=$("$VFIO_RS_TOP/scripts/build-kernel.sh" --flavour "$flavour")
	if [[ ,$drivers, == *,rs,* ]]; then
		# Modules built against another kernel configuration load (the
		# vermagic is the same) but disagree with it on the layout of
		# every lock: DIR/kdir says which build they are for.
		if [ -f "$moddir/kdir" ]; then
			[ "$(cat "$moddir/kdir")" = "$kdir" ] ||
				die "$moddir holds modules built against $(cat "$moddir/kdir"), not $kdir"
		elif [ "$flavour" != test ]; then
			die "--flavour $flavour needs --modules DIR with modules built against $kdir and DIR/kdir naming it"
		fi
		for mod in vfio_pci_core vfio_pci mlx5_vfio_pci; do
			[ -f "$moddir/$mod.ko" ] || missing="$missing $mod.ko"
		done
		[ -z "$missing" ] ||
			die "--drivers includes rs but our modules are not built (missing:$missing in $moddir); build them, or use --drivers c"
		# grep reads all of modinfo's output: -q could make pipefail see a SIGPIPE.
		if modinfo -F import_ns "$moddir/vfio_pci_core.ko" | grep -x DMA_BUF >/dev/null; then
			[ "$dmabuf" = y ] || die "--no-dmabuf, but $moddir/vfio_pci_core.ko was built with dma-buf support"
		else
			[ "$dmabuf" = n ] || die "$moddir/vfio_pci_core.ko was built without dma-buf support (VFIO_RS_DMABUF=n): pass --no-dmabuf"
		fi
		modules_args=(-m "$moddir")
	fi
	selftests=$("$here/build-selftests.sh" "$kdir")
	progs=$VFIO_RS_CACHE/vm/progs/$(basename "$kdir")
	make -s -C "$here/progs" KDIR="$kdir" OUTPUT="$progs" >&2
	# The mlx5 firmware simulator (test only), built against the same kernel.
	mlx5sim=$VFIO_RS_CACHE/vm/mlx5sim/$(basename "$kdir")
	make -s -C "$here/mlx5sim" KDIR="$kdir" OUTPUT="$mlx5sim" $(vfio_rs_kmake_vars) >&2
	# The IRQ bypass consumer of vfio_irqbypass (test only).
	consumer=$VFIO_RS_CACHE/vm/irqbypass_consumer/$(basename "$kdir")
	make -s -C "$here/irqbypass_consumer" KDIR="$kdir" OUTPUT="$consumer" $(vfio_rs_kmake_vars) >&2
	# The dma-buf importer of vfio_dmabuf (test only).
	importer=$VFIO_RS_CACHE/vm/dmabuf_importer/$(basename "$kdir")
	make -s -C "$here/dmabuf_importer" KDIR="$kdir" OUTPUT="$importer" $(vfio_rs_kmake_vars) >&2
	vfio_bind=$("$here/build-vfio-bind.sh")

	# The 20 newest run directories stay.
	{ ls -1dt "$VFIO_RS_CACHE"/vm/runs/*/ 2>/dev/null || true; } | tail -n +20 | xargs -r rm -rf
	run_dir=$VFIO_RS_CACHE/vm/runs/$(date +%Y%m%d-%H%M%S)-$$
	mkdir -p "$run_dir"
	initramfs=$run_dir/initramfs.cpio.gz
	console=$run_dir/console.log
	"$here/mkinitramfs.sh" -k "$kdir" -s "$selftests" -p "$progs" \
		-x "$mlx5sim/mlx5_sim.ko" -i "$consumer/irqbypass_consumer.ko" \
		-d "$importer/dmabuf_importer.ko" -b "$vfio_bind" -o "$initramfs" "${modules_args[@]}"
}

# Kills QEMU (by the pid it wrote to $1) once $console has been silent for
# $idle_timeout seconds, and says so in $run_dir/killed.
watchdog() {
	local pidfile=$1 pid idle
	while [ ! -s "$pidfile" ]; do sleep 1; done
	pid=$(cat "$pidfile")
	while kill -0 "$pid" 2>/dev/null; do
		sleep 10
		idle=$(($(date +%s) - $(stat -c %Y "$console")))
		if [ "$idle" -ge "$idle_timeout" ]; then
			echo "QEMU killed: no console output for ${idle}s" > "$run_dir/killed"
			kill "$pid"
			return
		fi
	done
}

# Boots the VM, saving the console to $console and showing progress; sets
# qemu_status, killed (why the host stopped QEMU, if it did) and elapsed.
boot() {
	local cmdline qemu pidfile=$run_dir/qemu.pid watchdog_pid start status
	# TCG: no KVM.  thread=single: with one host thread per vCPU (MTTCG),
	# 4 of 7 full runs wedged at an igb reset, one vCPU idle and its timer
	# interrupt never coming ("rcu: rcu_sched kthread timer wakeup didn't
	# happen"), with the TSC-deadline timer and without.  Interrupt
	# remapping needs kernel-irqchip=split (or off) under KVM; TCG accepts
	# and ignores it (checked with QEMU 10.0), it is there for whoever
	# switches to KVM.  The IOMMU must translate (iommu.passthrough=0): the
	# kselftests check its page tables.  vfio_pci_driver_test needs >= 3 GiB
	# of guest RAM besides the 1 GiB huge page of vfio_dma_mapping_test.
	cmdline="console=ttyS0 intel_iommu=on iommu.passthrough=0 panic=-1"
	cmdline+=" log_buf_len=16M hugepagesz=1G hugepages=1"
	cmdline+=" vfio_rs.drivers=$drivers vfio_rs.tests=$tests vfio_rs.timeout_mult=$timeout_mult"
	cmdline+=" vfio_rs.dmabuf=$dmabuf"
	cmdline+=${vm_append:+ $vm_append}
	qemu=(qemu-system-x86_64
		-machine q35,kernel-irqchip=split -accel "$vm_accel"
		-cpu max -smp "$vm_smp" -m "$vm_mem"
		-device intel-iommu,intremap=on,caching-mode=on
		-device igb -device edu
		-device pcie-root-port,id=rp1,chassis=1,slot=1
		-device edu,bus=rp1,addr=0.0,multifunction=on
		-device edu,bus=rp1,addr=0.1
		-nographic -nic none -no-reboot -pidfile "$pidfile"
		-kernel "$kdir/arch/x86/boot/bzImage" -initrd "$initramfs"
		-append "$cmdline" ${VFIO_RS_QEMU_EXTRA:-})

	mkdir -p "$VFIO_RS_CACHE/vm"
	exec 9> "$VFIO_RS_CACHE/vm/lock"
	if ! flock -n 9; then
		log "another VM run holds $VFIO_RS_CACHE/vm/lock; waiting for it"
		flock 9
	fi
	log "booting the test VM (drivers $drivers, timeout ${vm_timeout}s); console: $console"
	start=$(date +%s)
	: > "$console"
	watchdog "$pidfile" &
	watchdog_pid=$!
	set +e
	timeout -k 10 "$vm_timeout" "${qemu[@]}" < /dev/null 2>&1 |
		sed -u 's/\r//g' | tee "$console" |
		if [ "$verbose" = 1 ]; then
			cat
		else
			# Progress only; the summary block repeats the results.
			awk '/^=== results ===$/ { done = 1 }
			     !done && /^(VFIO_RS_RESULT|VFIO_RS_BOOTED|=== driver )/ { print; fflush() }'
		fi
	status=("${PIPESTATUS[@]}")
	set -e
	kill "$watchdog_pid" 2>/dev/null || true
	wait "$watchdog_pid" 2>/dev/null || true
	elapsed=$(($(date +%s) - start))
	qemu_status=${status[0]}
	killed=$(cat "$run_dir/killed" 2>/dev/null || true)
	[ "$qemu_status" != 124 ] || killed="QEMU killed: host timeout of ${vm_timeout}s"
	exec 9>&-
	log "VM run took ${elapsed}s (QEMU status $qemu_status${killed:+; $killed})"
}

main() {
	parse_args "$@"
	build_inputs
	boot
	[ "$keep" = 1 ] || rm -f "$initramfs"
	echo "console log: $console"
	echo "VM run: ${elapsed}s"
	python3 "$here/report.py" --console "$console" \
		--known "$here/known-failures.txt" \
		--qemu-status "$qemu_status" --killed "$killed"
}

main "$@"; exit
