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
#   ...     runs our programs (/vfio/progs) and the upstream VFIO kselftests
#           (/vfio/selftests) against them, each under a timeout;
#   unbind  unbinds, clears driver_override, hands igb back to its host
#           driver and unloads the modules;
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

KVER=$(uname -r)
MODDIR=/lib/modules/$KVER
# The PCI driver name of both driver sets.
VFIO_DRIVER=vfio-pci

drivers=$(cmdline_arg vfio_rs.drivers c,rs | tr , ' ')
tests_re=$(cmdline_arg vfio_rs.tests '.*')
mult=$(cmdline_arg vfio_rs.timeout_mult 1)

# The tests run between bind and unbind, in this order:
#   name  device  timeout (seconds)
# The program is the name up to any "@"; it gets the device's BDF as its
# only argument.  Each kselftest also has the harness' own per-case timeout
# (30 s unless the case says otherwise).
TESTS="
vfio_info                       igb 60
vfio_info@edu                   edu 60
vfio_intx@edu                   edu 60
vfio_badinput                   igb 60
vfio_badinput@edu               edu 60
vfio_hotreset@edurp             edurp 120
vfio_lowpower                   igb 120
vfio_lowpower@edu               edu 120
vfio_bench                      igb 300
vfio_bench@edu                  edu 300
vfio_iommufd_setup_test         igb 120
vfio_pci_device_test            igb 120
vfio_pci_device_test@edu        edu 120
vfio_dma_mapping_test           igb 120
vfio_dma_mapping_mmio_test      igb 120
vfio_pci_device_init_perf_test  igb 120
vfio_pci_driver_test            igb 300
vfio_pci_sriov_uapi_test        igb 120
"

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
		[ "$name" = vfio_pci ] && params=enable_sriov=1
		run_bounded 60 insmod "$MODDIR/$mod" $params
		[ $rc = 0 ] || { why="$why; insmod $mod failed (rc $rc)"; return 1; }
	done
}

# Loads our vfio-pci (and, through modules.dep, our vfio_pci_core).
load_rs() {
	grep -q "^updates/vfio_pci.ko:" "$MODDIR/modules.dep" ||
		{ why="$why; modules.dep does not resolve vfio_pci to updates/"; return 1; }
	run_bounded 60 modprobe vfio_pci enable_sriov=1
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

step_bind() {
	local d=$1
	why=
	if vfio_modules_loaded; then
		why="; vfio_pci or vfio_pci_core still loaded before bind"
	else
		"load_$d"
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
	if [ -z "$why" ]; then
		result "$d" unbind pass "devices handed back, modules unloaded"
	else
		result "$d" unbind fail "${why#; }"
	fi
}

# run_test DRIVER NAME DEVICE TIMEOUT
run_test() {
	local d=$1 name=$2 device=$3 limit=$(($4 * mult)) prog path bdf bound start secs
	local leftovers waited status detail
	prog=${name%@*}
	case $device in
	igb) bdf=$IGB bound=$IGB_BOUND ;;
	edu) bdf=$EDU bound=$EDU_BOUND ;;
	edurp) bdf=$EDURP bound=$EDURP_BOUND ;;
	esac
	if [ -z "$bound" ]; then
		result "$d" "$name" fail "not run: $device not bound to $VFIO_DRIVER"
		return
	fi
	path=/vfio/progs/$prog
	[ -x "$path" ] || path=/vfio/selftests/$prog

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
	start=$(date +%s)
	run_bounded "$limit" "$path" "$bdf"
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

# Benchmarks (vfio_bench*) run only when the pattern names them: they are
# not tests (tests/vm/bench.sh runs them and compares the drivers).
selected() {
	case $1 in
	vfio_bench*) echo "$tests_re" | grep -q bench || return 1 ;;
	esac
	echo "$1" | grep -qE "$tests_re"
}

IGB=$(find_bdf 0x8086 0x10c9)
EDU=$(find_bdf 0x1234 0x11e8)
IGB_HOST_DRIVER=$([ -z "$IGB" ] || current_driver "$IGB")
EDU_HOST_DRIVER=$([ -z "$EDU" ] || current_driver "$EDU")
EDURP=$(find_bdf_behind_port 0x1234 0x11e8)
EDURP1=${EDURP%.0}.1
EDURP_HOST_DRIVER=$([ -z "$EDURP" ] || current_driver "$EDURP")
EDURP1_HOST_DRIVER=$([ -z "$EDURP" ] || current_driver "$EDURP1")
echo "igb: ${IGB:-missing} (driver ${IGB_HOST_DRIVER:-none}), edu: ${EDU:-missing} (driver ${EDU_HOST_DRIVER:-none}), edurp: ${EDURP:-missing} ${EDURP:+$EDURP1}"
echo "drivers: $drivers; tests: $tests_re; timeout multiplier: $mult"

for d in $drivers; do
	echo "VFIO_RS_PLAN $d bind"
	set -- $TESTS
	while [ $# -ge 3 ]; do
		selected "$1" && echo "VFIO_RS_PLAN $d $1"
		shift 3
	done
	echo "VFIO_RS_PLAN $d unbind"
done

for d in $drivers; do
	case $d in
	c|rs) ;;
	*) result "$d" bind fail "unknown driver set '$d' (c or rs)"; continue ;;
	esac
	echo "=== driver $d ==="
	kmsg "begin driver $d"
	step_bind "$d"
	set -- $TESTS
	while [ $# -ge 3 ]; do
		selected "$1" && run_test "$d" "$1" "$2" "$3"
		shift 3
	done
	step_unbind "$d"
	kmsg "end driver $d"
	kmemleak_report "$d"
done
