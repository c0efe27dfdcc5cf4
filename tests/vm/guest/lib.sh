# SPDX-License-Identifier: GPL-2.0
# Helpers shared by the guest scripts (busybox sh); sourced, never run.

KMEMLEAK=/sys/kernel/debug/kmemleak

# Prints the value of kernel command line option $1, or $2 if it is absent.
# Values are regexes at times: split the line into words, but no globbing.
cmdline_arg() {
	local arg value=$2
	set -f
	for arg in $(cat /proc/cmdline); do
		case "$arg" in
		"$1="*) value=${arg#*=}; break ;;
		esac
	done
	set +f
	echo "$value"
}

# Prints the kmemleak report of what leaked since the last clear, framed as
# "=== kmemleak $1 ===" ... "=== end kmemleak ===" for run.sh, then clears
# it so that the next report starts afresh.  kmemleak never reports objects
# younger than 5 s, hence the sleep, nor one whose contents changed since
# the scan before (a new object's first scan counts as a change), hence two
# scans: otherwise a leak would show up only in the next phase's report.
kmemleak_report() {
	[ -w "$KMEMLEAK" ] || return 0
	sleep 6
	echo scan > "$KMEMLEAK"
	echo scan > "$KMEMLEAK"
	echo "=== kmemleak $1 ==="
	cat "$KMEMLEAK"
	echo "=== end kmemleak ==="
	echo clear > "$KMEMLEAK"
}

# Writes a line to the kernel log, so that run.sh can split dmesg by phase.
# At KERN_DEBUG, so that it does not also break up lines on the console.
kmsg() {
	echo "<7>vfio_rs: $*" > /dev/kmsg
}
