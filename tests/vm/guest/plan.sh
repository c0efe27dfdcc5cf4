#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The VFIO test plan of the test VM (busybox sh), run by /init.
#
# For each driver set (c: the in-tree C vfio-pci modules; rs: ours, under
# /lib/modules/<ver>/updates/) it
#   bind    loads the modules (enable_sriov=1), takes the igb (8086:10c9) and
#           edu (1234:11e8) devices of the root bus and the two edu functions
#           behind the PCIe root port ("edurp", 01:00.0 and .1) from their
#           host drivers and binds them to vfio-pci via driver_override,
#           checks the driver link and the /dev/vfio group and cdev nodes;
#   ...     runs our programs (/vfio/progs), the upstream VFIO kselftests
#           (/vfio/selftests) and the shell tests of bind_tests.sh (vfio-bind)
#           and param_tests.sh (module parameters) against them, each under
#           a timeout;
#   unbind  unbinds, clears driver_override, hands igb back to its host
#           driver and unloads the modules;
#   mlx5_bind, vfio_mig*, mlx5_unbind
#           (only when an mlx5 test is selected) the migration phase: loads
#           the mlx5_sim firmware simulator (/vfio/mlx5sim) instead of
#           mlx5_core, binds it to the igb PF, enables 2 VFs and binds them
#           to the driver set's mlx5_vfio_pci, runs vfio_mig on them, then
#           hands everything back (VFs off, igb to its host driver, modules
#           unloaded);
# then prints the kmemleak report of that driver set.
#
# Output parsed by tests/vm/run.sh:
#   VFIO_RS_PLAN <driver> <test>                  (all of them, first)
#   --- begin <driver>/<test> --- ... --- end <driver>/<test> ... ---
#   VFIO_RS_RESULT <driver> <test> <pass|fail|skip> <detail>
# and "vfio_rs: begin|end driver <driver>" lines in the kernel log.
#
# Options from the kernel command line: see /init.

. /vfio/guest/lib.sh
. /vfio/guest/bind_tests.sh
. /vfio/guest/param_tests.sh

KVER=$(uname -r)
MODDIR=/lib/modules/$KVER
# The PCI driver name of both driver sets.
VFIO_DRIVER=vfio-pci

drivers=$(cmdline_arg vfio_rs.drivers c,rs | tr , ' ')
tests_re=$(cmdline_arg vfio_rs.tests '.*')
mult=$(cmdline_arg vfio_rs.timeout_mult 1)
# "n": our modules were built with VFIO_RS_DMABUF=n (run.sh --no-dmabuf).
rs_dmabuf=$(cmdline_arg vfio_rs.dmabuf y)
# vfio_mig@prof's "N MIB" (tests/vm/profile.sh --mig N:MIB; "50 1" if unset).
prof_mig=$(cmdline_arg vfio_rs.prof_mig 50:1 | tr : ' ')
# vfio_bench's runs of open (tests/vm/bench.sh --opens N); empty: its
# default, a tenth of its iterations.
bench_opens=$(cmdline_arg vfio_rs.bench_opens '')
# The module padding of each driver set's load, in the order of $drivers
# (tests/vm/bench.sh --pad and --aa): a comma list of levels, 0 (none) when
# missing.  Level 1 loads the test-only dmabuf_importer.ko before the
# driver set's modules, 2 irqbypass_consumer.ko, 3 both; they are unloaded
# after the driver set's.  The drivers' module text and data then land at
# other virtual addresses and on other pages than without it, which is how
# bench.sh measures what the layout alone does to a boot's timings.  It
# cannot be combined with vfio_dmabuf or vfio_irqbypass, which load those
# modules themselves.
bench_pad=$(cmdline_arg vfio_rs.bench_pad '' | tr , ' ')
BENCH_PAD_SET=$bench_pad

# The tests run between bind and unbind, in this order:
#   name  device  timeout (seconds)
# The program is the name up to any "@"; it gets the device's BDF as its
# only argument.  A name with a shell function test_<name> runs that
# function instead (bind_tests.sh, param_tests.sh); it may rebind and
# reload, and must leave igb and edu bound to vfio-pci.  Each kselftest also has the harness' own per-case timeout
# (30 s unless the case says otherwise).
TESTS="
vfio_info                       igb 60
vfio_info@edu                   edu 60
vfio_intx@edu                   edu 60
vfio_badinput                   igb 60
vfio_badinput@edu               edu 60
vfio_cfgdiff                    igb 300
vfio_cfgdiff@edu                edu 300
vfio_unbind_open                igb 60
vfio_unbind_open@edu            edu 60
vfio_hotreset@edurp             edurp 120
vfio_lowpower                   igb 120
vfio_lowpower@edu               edu 120
vfio_stress                     igb 60
vfio_dmabuf                     igb 120
vfio_dmabuf@edurp               edurp 120
vfio_stress@edu                 edu 60
vfio_irqbypass                  igb 120
vfio_bench                      igb 300
vfio_bench@edu                  edu 300
vfio_prof                       igb 600
vfio_prof@edu                   edu 600
vfio_iommufd_setup_test         igb 120
vfio_pci_device_test            igb 120
vfio_pci_device_test@edu        edu 120
vfio_dma_mapping_test           igb 120
vfio_dma_mapping_mmio_test      igb 120
vfio_pci_device_init_perf_test  igb 120
vfio_pci_driver_test            igb 300
vfio_pci_sriov_uapi_test        igb 120
vfio_bind                       igb 300
params_sysfs                    igb 60
params_ids                      edu 300
params_nointxmask               edu 300
params_disable_vga              igb 300
params_disable_idle_d3          igb 300
params_enable_sriov             igb 300
params_disable_denylist         igb 300
params_debugfs                  igb 300
"

# The migration phase's tests, run between mlx5_bind and mlx5_unbind on two
# VFs of the igb PF (mlx5 below).  vfio_mig@file saves VF A to
# /tmp/vfio_mig-<driver>.bin and resumes VF B from it; vfio_mig@interop
# resumes VF B from the file the other driver set saved earlier in the boot
# (with --drivers c,rs: ours resumes the C driver's stream; rs,c: the other
# way round), and skips if there is none.  vfio_mig@big streams 1 GiB of
# state from A to B; it takes minutes under TCG and runs only when the
# pattern names it.  vfio_mig@bench is tests/vm/bench.sh's timed
# migrations, run only when the pattern names bench; vfio_mig@prof is
# tests/vm/profile.sh's migration phases, run only when it names prof.
# The kselftests @mlx5 run on VF A ("mlx5a") bound to the driver set's
# mlx5_vfio_pci; vfio_pci_driver_test@mlx5 opens and closes the VF and
# then skips (exit 4): the selftests' driver library drives only the 82576
# PF (8086:10c9), not its VF (8086:10ca).
MLX5_TESTS="
vfio_mig                        mlx5 900
vfio_mig@file                   mlx5 300
vfio_mig@interop                mlx5 300
vfio_mig@big                    mlx5 1800
vfio_mig@bench                  mlx5 1800
vfio_mig@prof                   mlx5 900
vfio_pci_device_test@mlx5       mlx5a 120
vfio_iommufd_setup_test@mlx5    mlx5a 120
vfio_dma_mapping_test@mlx5      mlx5a 120
vfio_pci_driver_test@mlx5       mlx5a 120
"
# The PCI driver name of the mlx5 variant driver, in both sets.
MLX5_DRIVER=mlx5_vfio_pci
SIM_KO=/vfio/mlx5sim/mlx5_sim.ko

# Prints a result line, and keeps it for the summary /init prints at the end
# (kernel messages on the console can break up the live one).
result() {
	local driver=$1 test=$2 status=$3
	shift 3
	echo "VFIO_RS_RESULT $driver $test $status $*" | tee -a /tmp/results
}

# Prints the BDF of the first PCI device with vendor $1 and device $2.
find_bdf() {
	local dev
	for dev in /sys/bus/pci/devices/*; do
		[ "$(cat "$dev/vendor")" = "$1" ] &&
		[ "$(cat "$dev/device")" = "$2" ] &&
		{ basename "$dev"; return; }
	done
}

# Prints the BDF of the first function 0 with vendor $1 and device $2 that
# is not on bus 00 (behind a root port).
find_bdf_behind_port() {
	local dev bdf
	for dev in /sys/bus/pci/devices/*; do
		bdf=$(basename "$dev")
		case $bdf in 0000:00:*|*.[1-7]) continue ;; esac
		[ "$(cat "$dev/vendor")" = "$1" ] &&
		[ "$(cat "$dev/device")" = "$2" ] &&
		{ echo "$bdf"; return; }
	done
}

# Prints the name of the driver bound to device $1, if any.
current_driver() {
	local link
	link=$(readlink "/sys/bus/pci/devices/$1/driver") && basename "$link"
}

# Prints the state letter of process $1, nothing if it is gone.
proc_state() {
	local stat
	read -r stat 2>/dev/null < "/proc/$1/stat" || return 0
	stat=${stat##*) }
	echo "${stat%% *}"
}

# run_bounded SECS CMD...: runs CMD in the background for at most SECS
# seconds, then sends SIGTERM, 10 s later SIGKILL, and 10 s after that gives
# up on it (stuck in the kernel, never reaped).  Sets rc to CMD's exit
# status, or to 124 if it had to be signalled, 125 if it was abandoned.
# Polls /proc rather than waiting, so that a process stuck in the kernel
# cannot hang the whole plan.
run_bounded() {
	local limit=$1 pid ticks=0 state
	shift
	"$@" < /dev/null &
	pid=$!
	while :; do
		state=$(proc_state "$pid")
		case "$state" in ''|Z) break ;; esac
		case $ticks in
		$((limit * 5))) kill -TERM "$pid" ;;
		$(((limit + 10) * 5))) kill -KILL "$pid" ;;
		$(((limit + 20) * 5))) rc=125; return ;;
		esac
		usleep 200000
		ticks=$((ticks + 1))
	done
	wait "$pid"
	rc=$?
	[ $ticks -lt $((limit * 5)) ] || rc=124
}

# Prints the PIDs of live test processes (all programs are named vfio_*).
test_procs() {
	local stat pids=
	for stat in /proc/[0-9]*/stat; do
		read -r stat 2>/dev/null < "$stat" || continue
		case "$stat" in
		*" (vfio_"*") Z "*) ;;
		*" (vfio_"*) pids="$pids ${stat%% *}" ;;
		esac
	done
	echo $pids
}

write_file() {
	echo "$1" > "$2"
}

# Writes $1 to sysfs file $2 under a 30 s bound.  On failure, appends a
# description to $why and returns 1.
sysfs_write() {
	run_bounded 30 write_file "$1" "$2"
	case $rc in
	0) return 0 ;;
	124|125) why="$why; writing '$1' to $2 hung" ;;
	*) why="$why; writing '$1' to $2 failed" ;;
	esac
	return 1
}

vfio_modules_loaded() {
	[ -d /sys/module/vfio_pci ] || [ -d /sys/module/vfio_pci_core ]
}

# Parameters of vfio_pci for load_c and load_rs.
VFIO_PCI_PARAMS=enable_sriov=1

# Loads the in-tree C vfio-pci by path, its dependencies first, in the order
# of the kernel's own modules.dep (saved before ours were added, since both
# sets share the module names vfio_pci and vfio_pci_core).
load_c() {
	local line deps="" mod name params
	line=$(grep "^kernel/drivers/vfio/pci/vfio-pci.ko:" /vfio/modules.dep.c) ||
		{ why="$why; vfio-pci.ko is not in modules.dep.c"; return 1; }
	# modules.dep lists the dependency to load first last.
	for mod in ${line#*:}; do
		deps="$mod $deps"
	done
	for mod in $deps kernel/drivers/vfio/pci/vfio-pci.ko; do
		name=$(basename "$mod" .ko | tr - _)
		[ -d "/sys/module/$name" ] && continue
		params=
		[ "$name" = vfio_pci ] && params=$VFIO_PCI_PARAMS
		run_bounded 60 insmod "$MODDIR/$mod" $params
		[ $rc = 0 ] || { why="$why; insmod $mod failed (rc $rc)"; return 1; }
	done
}

# Loads our vfio-pci (and, through modules.dep, our vfio_pci_core).
load_rs() {
	grep -q "^updates/vfio_pci.ko:" "$MODDIR/modules.dep" ||
		{ why="$why; modules.dep does not resolve vfio_pci to updates/"; return 1; }
	run_bounded 60 modprobe vfio_pci $VFIO_PCI_PARAMS
	[ $rc = 0 ] || { why="$why; modprobe vfio_pci failed (rc $rc)"; return 1; }
}

# Binds device $1 to vfio-pci and checks the result.
bind_device() {
	local bdf=$1 dev=/sys/bus/pci/devices/$1 drv group cdev
	drv=$(current_driver "$bdf")
	if [ -n "$drv" ] && [ "$drv" != "$VFIO_DRIVER" ]; then
		sysfs_write "$bdf" "$dev/driver/unbind" || return 1
	fi
	sysfs_write "$VFIO_DRIVER" "$dev/driver_override" || return 1
	sysfs_write "$bdf" /sys/bus/pci/drivers_probe || return 1
	drv=$(current_driver "$bdf")
	[ "$drv" = "$VFIO_DRIVER" ] ||
		{ why="$why; $bdf: driver is '${drv:-none}'"; return 1; }
	group=$(readlink "$dev/iommu_group") ||
		{ why="$why; $bdf: no iommu_group"; return 1; }
	group=$(basename "$group")
	[ -c "/dev/vfio/$group" ] ||
		{ why="$why; $bdf: no /dev/vfio/$group"; return 1; }
	cdev=$(ls "$dev/vfio-dev" 2>/dev/null)
	[ -n "$cdev" ] && [ -c "/dev/vfio/devices/$cdev" ] ||
		{ why="$why; $bdf: no /dev/vfio/devices/vfioX (vfio-dev: '$cdev')"; return 1; }
	echo "$bdf: bound to $VFIO_DRIVER, /dev/vfio/$group, /dev/vfio/devices/$cdev"
}

# Unbinds device $1 from vfio-pci and hands it back to host driver $2 (or
# leaves it unbound if $2 is empty).
unbind_device() {
	local bdf=$1 host_driver=$2 dev=/sys/bus/pci/devices/$1 drv
	drv=$(current_driver "$bdf")
	if [ "$drv" = "$VFIO_DRIVER" ]; then
		sysfs_write "$bdf" "/sys/bus/pci/drivers/$VFIO_DRIVER/unbind" || return 1
	fi
	# An empty line clears driver_override.
	sysfs_write "" "$dev/driver_override" || return 1
	sysfs_write "$bdf" /sys/bus/pci/drivers_probe || return 1
	drv=$(current_driver "$bdf")
	[ "$drv" = "$host_driver" ] ||
		{ why="$why; $bdf: driver is '${drv:-none}' after unbind, expected '${host_driver:-none}'"; return 1; }
}

# Sets the SR-IOV VF count of the igb PF to 0 if it is not.
reset_numvfs() {
	local f=/sys/bus/pci/devices/$IGB/sriov_numvfs
	[ -f "$f" ] && [ "$(cat "$f")" != 0 ] || return 0
	echo "igb $IGB: sriov_numvfs is $(cat "$f"), setting 0"
	sysfs_write 0 "$f"
}

# Sets the 2 MiB hugetlb pool to $1 pages, for the hugetlb cases of
# vfio_dma_mapping_test (which skip if the pool is empty).  Its 1 GiB page
# is reserved on the kernel command line (run.sh): allocated at run time, it
# rarely finds 1 GiB of contiguous memory.
set_hugepages() {
	local f=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
	[ -f "$f" ] && echo "$1" > "$f"
	echo "hugepages: 2 MiB: $(cat "$f" 2>/dev/null || echo unsupported)," \
	     "1 GiB: $(cat /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages 2>/dev/null || echo unsupported)"
}

# Sets the transparent huge page policy of shmem, which backs
# MAP_SHARED|MAP_ANONYMOUS memory, to $1; "restore" puts back the policy
# from before the last change.
set_shmem_thp() {
	local f=/sys/kernel/mm/transparent_hugepage/shmem_enabled policy=$1
	[ -f "$f" ] || { echo "shmem THP: unsupported"; return; }
	if [ "$policy" = restore ]; then
		policy=$SHMEM_THP_SAVED
	else
		SHMEM_THP_SAVED=$(sed 's/.*\[\(.*\)\].*/\1/' "$f")
	fi
	echo "$policy" > "$f"
	echo "shmem THP: $(cat "$f")"
}

# The padding modules of level $1 (see bench_pad above), in load order.
pad_modules() {
	case $1 in
	1) echo /vfio/dmabuf/dmabuf_importer.ko ;;
	2) echo /vfio/irqbypass/irqbypass_consumer.ko ;;
	3) echo /vfio/dmabuf/dmabuf_importer.ko /vfio/irqbypass/irqbypass_consumer.ko ;;
	esac
}

# Loads the padding modules of level $1.
pad_load() {
	local ko
	[ "${1:-0}" = 0 ] && return 0
	# irqbypass_consumer needs irqbypass, which the driver sets load
	# anyway: loading it first keeps it out of the layout's difference.
	run_bounded 60 modprobe irqbypass
	for ko in $(pad_modules "$1"); do
		run_bounded 60 insmod "$ko"
		[ $rc = 0 ] || { why="$why; padding: insmod $ko failed (rc $rc)"; return 1; }
	done
}

# Unloads the padding modules of level $1.
pad_unload() {
	local ko
	for ko in $(pad_modules "$1"); do
		run_bounded 60 rmmod "$(basename "$ko" .ko)"
		[ $rc = 0 ] || why="$why; padding: rmmod $ko failed (rc $rc)"
	done
}

step_bind() {
	local d=$1
	why=
	if vfio_modules_loaded; then
		why="; vfio_pci or vfio_pci_core still loaded before bind"
	elif pad_load "$PAD"; then
		"load_$d"
	fi
	# Where the modules' code landed, when bench.sh looks at the layout.
	if [ -n "$BENCH_PAD_SET" ] && [ -z "$why" ]; then
		echo "layout: padding $PAD, vfio_pci_core .text $(cat /sys/module/vfio_pci_core/sections/.text 2>/dev/null)," \
		     "vfio_pci .text $(cat /sys/module/vfio_pci/sections/.text 2>/dev/null)"
	fi
	if [ -z "$why" ] && ! [ -d "/sys/bus/pci/drivers/$VFIO_DRIVER" ]; then
		why="; no PCI driver named $VFIO_DRIVER after loading"
	fi
	IGB_BOUND= EDU_BOUND= EDURP_BOUND=
	if [ -z "$why" ]; then
		if [ -z "$IGB" ]; then
			why="$why; no igb device"
		elif reset_numvfs && bind_device "$IGB"; then
			IGB_BOUND=1
		fi
		if [ -z "$EDU" ]; then
			why="$why; no edu device"
		elif bind_device "$EDU"; then
			EDU_BOUND=1
		fi
		if [ -z "$EDURP" ]; then
			why="$why; no edu behind the root port"
		elif bind_device "$EDURP" && bind_device "$EDURP1"; then
			EDURP_BOUND=1
		fi
	fi
	if [ -z "$why" ]; then
		result "$d" bind pass "igb $IGB, edu $EDU, edurp $EDURP $EDURP1"
	else
		result "$d" bind fail "${why#; }"
	fi
}

step_unbind() {
	local d=$1 mod
	why=
	if [ -n "$IGB" ]; then
		reset_numvfs
		unbind_device "$IGB" "$IGB_HOST_DRIVER"
	fi
	[ -z "$EDU" ] || unbind_device "$EDU" "$EDU_HOST_DRIVER"
	if [ -n "$EDURP" ]; then
		unbind_device "$EDURP" "$EDURP_HOST_DRIVER"
		unbind_device "$EDURP1" "$EDURP1_HOST_DRIVER"
	fi
	for mod in vfio_pci vfio_pci_core; do
		[ -d "/sys/module/$mod" ] || continue
		run_bounded 60 rmmod "$mod"
		[ $rc = 0 ] || why="$why; rmmod $mod failed (rc $rc)"
	done
	vfio_modules_loaded && why="$why; modules still loaded: $(ls -d /sys/module/vfio_pci* | xargs -n1 basename)"
	pad_unload "$PAD"
	if [ -z "$why" ]; then
		result "$d" unbind pass "devices handed back, modules unloaded"
	else
		result "$d" unbind fail "${why#; }"
	fi
}

# run_test DRIVER NAME DEVICE TIMEOUT
run_test() {
	local d=$1 name=$2 device=$3 limit=$(($4 * mult)) prog path bdf bound start secs other
	local leftovers waited status detail
	prog=${name%@*}
	case $device in
	igb) bdf=$IGB bound=$IGB_BOUND ;;
	edu) bdf=$EDU bound=$EDU_BOUND ;;
	mlx5) bdf="$VF_A $VF_B" bound=$MLX5_BOUND ;;
	mlx5a) bdf=$VF_A bound=$MLX5_BOUND ;;
	edurp) bdf=$EDURP bound=$EDURP_BOUND ;;
	esac
	if [ -z "$bound" ]; then
		result "$d" "$name" fail "not run: $device not bound to its VFIO driver"
		return
	fi
	case $name in
	vfio_mig@interop)
		other=rs
		[ "$d" = rs ] && other=c
		if ! [ -f "/tmp/vfio_mig-$other.bin" ]; then
			result "$d" "$name" skip "no stream saved by driver set $other before this one"
			return
		fi ;;
	esac
	path=/vfio/progs/$prog
	[ -x "$path" ] || path=/vfio/selftests/$prog
	type "test_$prog" > /dev/null 2>&1 && path=test_$prog

	# vfio_pci_driver_test maps 1 GiB of shared anonymous memory for DMA in
	# every case; pinning and IOMMU-mapping it 4 KiB at a time takes longer
	# than the kselftest harness' 30 s per case under TCG, 2 MiB pages take
	# a few seconds.  vfio_dma_mapping_test keeps the 4 KiB path covered.
	case $prog in
	vfio_dma_mapping_test) set_hugepages 1 ;;
	vfio_pci_driver_test) set_shmem_thp always ;;
	vfio_pci_sriov_uapi_test) reset_numvfs ;;
	esac

	echo "--- begin $d/$name ---"
	kmsg "begin $d/$name"
	# Differential tests (vfio_cfgdiff) keep the C driver's answers to
	# compare ours with.
	export VFIO_RS_DRIVER=$d
	# Whether the driver set under test exports dma-bufs (vfio_dmabuf).
	export VFIO_RS_DMABUF=y
	[ "$d" = rs ] && VFIO_RS_DMABUF=$rs_dmabuf
	start=$(date +%s)
	# $bdf: one device, or the two of a two-device test (PCI addresses have
	# no glob characters).  No `set -f` here: shell tests (test_*) run in
	# this shell and use globs.
	case $name in
	vfio_mig@file)
		run_bounded "$limit" sh -c "$path save $VF_A /tmp/vfio_mig-$d.bin && $path load $VF_B /tmp/vfio_mig-$d.bin" ;;
	vfio_mig@interop) run_bounded "$limit" "$path" load "$VF_B" "/tmp/vfio_mig-$other.bin" ;;
	vfio_mig@big) run_bounded "$limit" "$path" big "$VF_A" "$VF_B" 1024 ;;
	vfio_mig@bench) run_bounded "$limit" "$path" bench "$VF_A" "$VF_B" ;;
	vfio_mig@prof) run_bounded "$limit" "$path" prof "$VF_A" "$VF_B" $prof_mig ;;
	vfio_bench*) run_bounded "$limit" "$path" $bdf ${bench_opens:+- $bench_opens} ;;
	*) run_bounded "$limit" "$path" $bdf ;;
	esac
	secs=$(($(date +%s) - start))
	kmsg "end $d/$name"
	echo "--- end $d/$name (rc $rc, ${secs}s) ---"

	# Kill what is left of the test (the kselftest harness forks each case
	# into its own process group and does not wait for one it killed on
	# timeout), and wait until it is gone: a dying process still holds the
	# device, and the next test would find it busy.
	leftovers=$(test_procs)
	if [ -n "$leftovers" ]; then
		echo "killing leftover test processes: $leftovers"
		kill -KILL $leftovers 2>/dev/null
		waited=0
		while [ -n "$(test_procs)" ] && [ $waited -lt 60 ]; do
			sleep 1
			waited=$((waited + 1))
		done
		leftovers=$(test_procs)
		[ -z "$leftovers" ] || echo "test processes still alive after 60 s: $leftovers"
	fi
	case $prog in
	vfio_dma_mapping_test) set_hugepages 0 ;;
	vfio_pci_driver_test) set_shmem_thp restore ;;
	esac
	# A shell test may have rebound the devices: see where they are.
	case $path in
	test_*)
		[ "$(current_driver "$IGB")" = "$VFIO_DRIVER" ] && IGB_BOUND=1 || IGB_BOUND=
		[ "$(current_driver "$EDU")" = "$VFIO_DRIVER" ] && EDU_BOUND=1 || EDU_BOUND=
		;;
	esac

	case $rc in
	0) status=pass detail="${secs}s" ;;
	4) status=skip detail="exit 4 (skip), ${secs}s" ;;
	124) status=fail detail="timeout after ${limit}s" ;;
	125) status=fail detail="timeout after ${limit}s, process stuck in the kernel" ;;
	*) status=fail detail="exit $rc, ${secs}s" ;;
	esac
	if [ -n "$leftovers" ]; then
		status=fail
		detail="$detail; processes $leftovers did not exit, later tests may find the device busy"
	fi
	result "$d" "$name" "$status" "$detail"
}

# with_test_ko KO LEFT PROG DEVICE: the test program PROG on DEVICE with
# the test-only module KO (by path) loaded, unloaded afterwards; the
# module's "<name>: unloaded, ..." line must end in LEFT (nothing left).
with_test_ko() {
	local ko=$1 left_ok=$2 name st left
	name=$(basename "$ko" .ko)
	insmod "$ko" || { echo "not ok - load $ko"; return 1; }
	"$3" "$4"
	st=$?
	rmmod "$name" || { echo "not ok - rmmod $name"; return 1; }
	left=$(dmesg | grep "$name: unloaded" | tail -1)
	case $left in
	*"$left_ok") echo "ok - $left" ;;
	*) echo "not ok - unload: '$left'"; st=1 ;;
	esac
	return $st
}

# vfio_irqbypass DEVICE: with its IRQ bypass consumer, irqbypass_consumer.ko
# (it needs irqbypass, which both driver sets' vfio_pci_core pull in).
test_vfio_irqbypass() {
	modprobe irqbypass || { echo "not ok - modprobe irqbypass"; return 1; }
	with_test_ko /vfio/irqbypass/irqbypass_consumer.ko ", 0 consumer(s) left registered" \
		/vfio/progs/vfio_irqbypass "$1"
}

# vfio_dmabuf DEVICE: with its peer-to-peer importer, dmabuf_importer.ko.
test_vfio_dmabuf() {
	with_test_ko /vfio/dmabuf/dmabuf_importer.ko ", 0 attachment(s) left" \
		/vfio/progs/vfio_dmabuf "$1"
}

# --- the mlx5 migration phase ------------------------------------------------

# Whether any mlx5 test is selected (the phase is skipped otherwise).
mlx5_selected() {
	set -- $MLX5_TESTS
	while [ $# -ge 3 ]; do
		selected "$1" && return 0
		shift 3
	done
	return 1
}

# insmod MOD (a path under $MODDIR) after the dependencies the kernel's own
# modules.dep lists for it, except mlx5_core and what only it needs: the
# simulator, loaded first, provides mlx5_core's symbols.
insmod_c_without_mlx5_core() {
	local target=$1 line deps="" mod name
	line=$(grep "^$target:" /vfio/modules.dep.c) ||
		{ why="$why; $target is not in modules.dep.c"; return 1; }
	for mod in ${line#*:}; do
		case $mod in
		*/ethernet/mellanox/*) ;;
		*) deps="$mod $deps" ;;
		esac
	done
	for mod in $deps $target; do
		name=$(basename "$mod" .ko | tr - _)
		[ -d "/sys/module/$name" ] && continue
		run_bounded 60 insmod "$MODDIR/$mod"
		[ $rc = 0 ] || { why="$why; insmod $mod failed (rc $rc)"; return 1; }
	done
}

# The C mlx5-vfio-pci and its C vfio-pci-core, by path.
load_mlx5_c() {
	insmod_c_without_mlx5_core kernel/drivers/vfio/pci/mlx5/mlx5-vfio-pci.ko
}

# Our mlx5_vfio_pci, by path: modprobe would pull in the real mlx5_core
# through depmod's symbol resolution.  Our vfio_pci_core comes by modprobe.
load_mlx5_rs() {
	run_bounded 60 modprobe vfio_pci_core
	[ $rc = 0 ] || { why="$why; modprobe vfio_pci_core failed (rc $rc)"; return 1; }
	run_bounded 60 insmod "$MODDIR/updates/mlx5_vfio_pci.ko"
	[ $rc = 0 ] || { why="$why; insmod updates/mlx5_vfio_pci.ko failed (rc $rc)"; return 1; }
}

# Binds device $1 to PCI driver $2 through driver_override.
bind_to() {
	local bdf=$1 want=$2 dev=/sys/bus/pci/devices/$1 drv
	drv=$(current_driver "$bdf")
	if [ -n "$drv" ] && [ "$drv" != "$want" ]; then
		sysfs_write "$bdf" "$dev/driver/unbind" || return 1
	fi
	sysfs_write "$want" "$dev/driver_override" || return 1
	sysfs_write "$bdf" /sys/bus/pci/drivers_probe || return 1
	drv=$(current_driver "$bdf")
	[ "$drv" = "$want" ] || { why="$why; $bdf: driver is '${drv:-none}', not $want"; return 1; }
}

# Unbinds device $1 from whatever driver has it and clears driver_override.
release() {
	local bdf=$1 dev=/sys/bus/pci/devices/$1
	[ -e "$dev" ] || return 0
	if [ -n "$(current_driver "$bdf")" ]; then
		sysfs_write "$bdf" "$dev/driver/unbind" || return 1
	fi
	sysfs_write "" "$dev/driver_override"
}

step_mlx5_bind() {
	local d=$1 vf
	why=
	MLX5_BOUND= VF_A= VF_B=
	[ -n "$IGB" ] || why="$why; no igb device"
	vfio_modules_loaded && why="$why; vfio_pci or vfio_pci_core still loaded"
	if [ -z "$why" ]; then
		run_bounded 60 insmod "$SIM_KO"
		[ $rc = 0 ] || why="$why; insmod $SIM_KO failed (rc $rc)"
	fi
	[ -n "$why" ] || "load_mlx5_$d"
	[ -n "$why" ] || [ -d "/sys/bus/pci/drivers/$MLX5_DRIVER" ] ||
		why="$why; no PCI driver named $MLX5_DRIVER after loading"
	[ -n "$why" ] || bind_to "$IGB" mlx5_sim
	[ -n "$why" ] || sysfs_write 2 "/sys/bus/pci/devices/$IGB/sriov_numvfs"
	if [ -z "$why" ]; then
		VF_A=$(basename "$(readlink "/sys/bus/pci/devices/$IGB/virtfn0")")
		VF_B=$(basename "$(readlink "/sys/bus/pci/devices/$IGB/virtfn1")")
		[ -n "$VF_A" ] && [ -n "$VF_B" ] || why="$why; no VFs after sriov_numvfs=2"
	fi
	for vf in $VF_A $VF_B; do
		[ -n "$why" ] || bind_to "$vf" "$MLX5_DRIVER"
	done
	if [ -z "$why" ]; then
		MLX5_BOUND=1
		echo "VFs $VF_A $VF_B: reset methods $(cat "/sys/bus/pci/devices/$VF_A/reset_method" 2>/dev/null)"
		result "$d" mlx5_bind pass "igb $IGB on mlx5_sim, VFs $VF_A $VF_B on $MLX5_DRIVER"
	else
		result "$d" mlx5_bind fail "${why#; }"
	fi
}

step_mlx5_unbind() {
	local d=$1 vf mod drv
	why=
	for vf in $VF_A $VF_B; do
		release "$vf"
	done
	if [ -n "$IGB" ] && [ "$(current_driver "$IGB")" = mlx5_sim ]; then
		sysfs_write 0 "/sys/bus/pci/devices/$IGB/sriov_numvfs"
	fi
	if [ -n "$IGB" ]; then
		release "$IGB"
		sysfs_write "$IGB" /sys/bus/pci/drivers_probe
		drv=$(current_driver "$IGB")
		[ "$drv" = "$IGB_HOST_DRIVER" ] ||
			why="$why; $IGB: driver is '${drv:-none}', expected '${IGB_HOST_DRIVER:-none}'"
	fi
	for mod in mlx5_vfio_pci vfio_pci_core mlx5_sim; do
		[ -d "/sys/module/$mod" ] || continue
		run_bounded 60 rmmod "$mod"
		[ $rc = 0 ] || why="$why; rmmod $mod failed (rc $rc)"
	done
	[ ! -d /sys/module/mlx5_core ] || why="$why; the real mlx5_core got loaded"
	MLX5_BOUND=
	if [ -z "$why" ]; then
		result "$d" mlx5_unbind pass "VFs off, igb back on ${IGB_HOST_DRIVER:-none}, modules unloaded"
	else
		result "$d" mlx5_unbind fail "${why#; }"
	fi
}

# Benchmarks (vfio_bench*, vfio_mig@bench) run only when the pattern names them: they are
# not tests (tests/vm/bench.sh runs them and compares the drivers); nor do
# the slow vfio_mig@big and tests/vm/profile.sh's vfio_prof.
selected() {
	case $1 in
	vfio_bench*|vfio_mig@bench) echo "$tests_re" | grep -q bench || return 1 ;;
	vfio_prof*|vfio_mig@prof) echo "$tests_re" | grep -q prof || return 1 ;;
	vfio_mig@big) echo "$tests_re" | grep -q big || return 1 ;;
	esac
	echo "$1" | grep -qE "$tests_re"
}

IGB=$(find_bdf 0x8086 0x10c9)
EDU=$(find_bdf 0x1234 0x11e8)
# QEMU's std VGA, for the disable_vga test only.
VGA=$(find_bdf 0x1234 0x1111)
IGB_HOST_DRIVER=$([ -z "$IGB" ] || current_driver "$IGB")
EDU_HOST_DRIVER=$([ -z "$EDU" ] || current_driver "$EDU")
VGA_HOST_DRIVER=$([ -z "$VGA" ] || current_driver "$VGA")
EDURP=$(find_bdf_behind_port 0x1234 0x11e8)
EDURP1=${EDURP%.0}.1
EDURP_HOST_DRIVER=$([ -z "$EDURP" ] || current_driver "$EDURP")
EDURP1_HOST_DRIVER=$([ -z "$EDURP" ] || current_driver "$EDURP1")
echo "igb: ${IGB:-missing} (driver ${IGB_HOST_DRIVER:-none}), edu: ${EDU:-missing} (driver ${EDU_HOST_DRIVER:-none}), vga: ${VGA:-missing} (driver ${VGA_HOST_DRIVER:-none}), edurp: ${EDURP:-missing} ${EDURP:+$EDURP1}"
echo "drivers: $drivers; tests: $tests_re; timeout multiplier: $mult"

for d in $drivers; do
	echo "VFIO_RS_PLAN $d bind"
	set -- $TESTS
	while [ $# -ge 3 ]; do
		selected "$1" && echo "VFIO_RS_PLAN $d $1"
		shift 3
	done
	echo "VFIO_RS_PLAN $d unbind"
	if mlx5_selected; then
		echo "VFIO_RS_PLAN $d mlx5_bind"
		set -- $MLX5_TESTS
		while [ $# -ge 3 ]; do
			selected "$1" && echo "VFIO_RS_PLAN $d $1"
			shift 3
		done
		echo "VFIO_RS_PLAN $d mlx5_unbind"
	fi
done

for d in $drivers; do
	case $d in
	c|rs) ;;
	*) result "$d" bind fail "unknown driver set '$d' (c or rs)"; continue ;;
	esac
	# This load's padding level: the next of $bench_pad.
	set -- $bench_pad
	PAD=${1:-0}
	[ $# = 0 ] || shift
	bench_pad=$*
	if [ "$PAD" = 0 ]; then
		echo "=== driver $d ==="
	else
		echo "=== driver $d (padding $PAD) ==="
	fi
	DRIVER_SET=$d
	kmsg "begin driver $d"
	step_bind "$d"
	set -- $TESTS
	while [ $# -ge 3 ]; do
		selected "$1" && run_test "$d" "$1" "$2" "$3"
		shift 3
	done
	step_unbind "$d"
	if mlx5_selected; then
		step_mlx5_bind "$d"
		set -- $MLX5_TESTS
		while [ $# -ge 3 ]; do
			selected "$1" && run_test "$d" "$1" "$2" "$3"
			shift 3
		done
		step_mlx5_unbind "$d"
	fi
	kmsg "end driver $d"
	kmemleak_report "$d"
done
