# SPDX-License-Identifier: GPL-2.0
# The vfio_bind test of the test plan (busybox sh; sourced by plan.sh, which
# provides current_driver, sysfs_write, reset_numvfs and the IGB,
# IGB_HOST_DRIVER and VFIO_DRIVER variables).
#
# tools/vfio-bind (/vfio/bin/vfio-bind) used for real on the igb PF and its
# SR-IOV VFs: explain, bind, unbind, --json, --dry-run, a BDF that does not
# exist, and --vfs.  Every outcome is checked in sysfs (driver link,
# driver_override, the VFIO nodes), not only by the exit status.  It starts
# and ends with igb bound to vfio-pci, as the plan's other tests expect.
#
# For the C driver set the tool reads /vfio/modules.alias.c, the kernel's own
# modules.alias (the C vfio_pci's aliases), and does not run modprobe: the
# image's modprobe would load ours.  For ours it reads the image's
# modules.alias (written by depmod with ours under updates/) and runs
# modprobe as on a host.

VFIO_BIND=/vfio/bin/vfio-bind
# The libvirt-style rule's answer for a device no variant driver claims: the
# generic alias of vfio_pci, all seven fields '*'.
GENERIC_ALIAS='vfio_pci:v*d*sv*sd*bc*sc*i*'

t_failed=0

t_ok() {
	echo "ok - $*"
}

t_fail() {
	echo "not ok - $*"
	t_failed=$((t_failed + 1))
}

# t_check WHAT SAW WANT
t_check() {
	if [ "$2" = "$3" ]; then
		t_ok "$1 ($2)"
	else
		t_fail "$1 (saw '$2', want '$3')"
	fi
}

# t_grep WHAT PATTERN TEXT: TEXT contains the fixed string PATTERN.
t_grep() {
	case $3 in
	*"$2"*) t_ok "$1" ;;
	*) t_fail "$1 (no '$2' in: $3)" ;;
	esac
}

# Prints driver_override of device $1 ("(null)" when unset).
override_of() {
	cat "/sys/bus/pci/devices/$1/driver_override"
}

# Runs vfio-bind with the driver set's options; sets out (stdout), err
# (stderr) and vb_rc.
vb() {
	out=$("$VFIO_BIND" $VB_OPTS "$@" 2>/tmp/vfio-bind.err)
	vb_rc=$?
	err=$(cat /tmp/vfio-bind.err)
	echo "\$ vfio-bind $VB_OPTS $*  (exit $vb_rc)"
	[ -z "$out" ] || echo "$out"
	[ -z "$err" ] || echo "$err" >&2
}

# Checks that device $1 is bound to vfio-pci with its group and cdev nodes.
t_check_vfio_bound() {
	local bdf=$1 dev=/sys/bus/pci/devices/$1 group cdev
	t_check "$bdf: driver" "$(current_driver "$bdf")" "$VFIO_DRIVER"
	t_check "$bdf: driver_override" "$(override_of "$bdf")" "$VFIO_DRIVER"
	group=$(basename "$(readlink "$dev/iommu_group")")
	if [ -c "/dev/vfio/$group" ]; then
		t_ok "$bdf: /dev/vfio/$group exists"
	else
		t_fail "$bdf: no /dev/vfio/$group"
	fi
	cdev=$(ls "$dev/vfio-dev" 2>/dev/null)
	if [ -n "$cdev" ] && [ -c "/dev/vfio/devices/$cdev" ]; then
		t_ok "$bdf: /dev/vfio/devices/$cdev exists"
	else
		t_fail "$bdf: no /dev/vfio/devices/vfioN (vfio-dev: '$cdev')"
	fi
}

# Lists the VFs of PF $1 (BDFs of its virtfn* links).
vfs_of() {
	local link
	for link in "/sys/bus/pci/devices/$1"/virtfn*; do
		[ -e "$link" ] && basename "$(readlink "$link")"
	done
}

test_vfio_bind() {
	local bdf=$1 d=$DRIVER_SET alias_file line vfs vf n before
	t_failed=0
	if [ "$d" = c ]; then
		alias_file=/vfio/modules.alias.c
		VB_OPTS="--modules-alias $alias_file --no-modprobe"
	else
		alias_file=$MODDIR/modules.alias
		VB_OPTS=
	fi
	line=$(grep -nxF "alias $GENERIC_ALIAS vfio_pci" "$alias_file" | cut -d: -f1)
	if [ -n "$line" ]; then
		t_ok "$alias_file has '$GENERIC_ALIAS vfio_pci' at line $line"
	else
		t_fail "$alias_file has no 'alias $GENERIC_ALIAS vfio_pci' line"
		return 1
	fi

	# explain: the candidates from modules.alias, the winner and why.
	vb explain "$bdf"
	t_check "explain: exit status" "$vb_rc" 0
	t_grep "explain: names the device's modalias" "modalias pci:v00008086d000010C9" "$out"
	t_grep "explain: the winner is vfio_pci at line $line with 7 '*'" \
		"winner: vfio_pci (line $line, 7 '*')" "$out"
	vb explain --json "$bdf"
	t_check "explain --json: exit status" "$vb_rc" 0
	t_grep "explain --json: ok" '"ok":true' "$out"
	t_grep "explain --json: winner line" "\"winner\":{\"line\":$line,\"module\":\"vfio_pci\",\"wildcards\":7" "$out"

	# unbind: back to the host driver, override cleared.
	vb unbind "$bdf"
	t_check "unbind: exit status" "$vb_rc" 0
	t_check "unbind: driver" "$(current_driver "$bdf")" "$IGB_HOST_DRIVER"
	t_check "unbind: driver_override" "$(override_of "$bdf")" "(null)"
	t_grep "unbind: report" "$bdf: unbound from $VFIO_DRIVER; now $IGB_HOST_DRIVER" "$out"

	# --dry-run changes nothing.
	vb bind --dry-run "$bdf"
	t_check "bind --dry-run: exit status" "$vb_rc" 0
	t_grep "bind --dry-run: the plan" "would bind to $VFIO_DRIVER (module vfio_pci, modules.alias line $line, 7 wildcards)" "$out"
	t_check "bind --dry-run: driver unchanged" "$(current_driver "$bdf")" "$IGB_HOST_DRIVER"
	t_check "bind --dry-run: driver_override unchanged" "$(override_of "$bdf")" "(null)"

	# bind, for real.
	vb bind "$bdf"
	t_check "bind: exit status" "$vb_rc" 0
	t_grep "bind: report names module, alias line and wildcards" \
		"$bdf: bound to $VFIO_DRIVER (module vfio_pci, modules.alias line $line, 7 wildcards); was $IGB_HOST_DRIVER" "$out"
	t_check_vfio_bound "$bdf"

	# bind again: nothing to do.
	vb bind "$bdf"
	t_check "bind of a bound device: exit status" "$vb_rc" 0
	t_grep "bind of a bound device: already bound" "already bound to $VFIO_DRIVER" "$out"

	# A BDF that does not exist: exit 3, a clear message, nothing changed.
	vb bind 0000:00:1f.7
	t_check "bind of a missing device: exit status" "$vb_rc" 3
	t_grep "bind of a missing device: message" "vfio-bind: error:" "$err"
	t_grep "bind of a missing device: names the BDF" "0000:00:1f.7" "$err"
	t_check "bind of a missing device: igb untouched" "$(current_driver "$bdf")" "$VFIO_DRIVER"
	vb bind --json 0000:00:1f.7
	t_check "bind --json of a missing device: exit status" "$vb_rc" 3
	t_grep "bind --json of a missing device: error document" '"ok":false,"exit_code":3' "$out"

	# unbind --json, then bind --json.
	vb unbind --json "$bdf"
	t_check "unbind --json: exit status" "$vb_rc" 0
	t_grep "unbind --json: status" '"status":"unbound"' "$out"
	t_check "unbind --json: driver" "$(current_driver "$bdf")" "$IGB_HOST_DRIVER"
	t_check "unbind --json: driver_override" "$(override_of "$bdf")" "(null)"

	# SR-IOV: the PF on its host driver, its VFs to vfio-pci in one call.
	reset_numvfs
	if sysfs_write 2 "/sys/bus/pci/devices/$bdf/sriov_numvfs"; then
		vfs=$(vfs_of "$bdf")
		n=$(echo $vfs | wc -w)
		t_check "$IGB_HOST_DRIVER created VFs" "$n" 2
		before=
		for vf in $vfs; do
			t_check "VF $vf: device id" "$(cat /sys/bus/pci/devices/$vf/device)" 0x10ca
			before="$before $vf=$(current_driver "$vf")"
		done
		echo "VF drivers before bind --vfs:${before:- none}"
		vb bind --vfs "$bdf"
		t_check "bind --vfs: exit status" "$vb_rc" 0
		for vf in $vfs; do
			t_check_vfio_bound "$vf"
			t_grep "bind --vfs: report for $vf" "$vf: bound to $VFIO_DRIVER (module vfio_pci, modules.alias line $line, 7 wildcards)" "$out"
		done
		t_check "bind --vfs: the PF keeps its host driver" "$(current_driver "$bdf")" "$IGB_HOST_DRIVER"
		vb unbind --vfs "$bdf"
		t_check "unbind --vfs: exit status" "$vb_rc" 0
		for vf in $vfs; do
			t_check "unbind --vfs: $vf driver_override" "$(override_of "$vf")" "(null)"
			n=$(current_driver "$vf")
			[ "$n" != "$VFIO_DRIVER" ] && t_ok "unbind --vfs: $vf left $VFIO_DRIVER (now '${n:-none}')" ||
				t_fail "unbind --vfs: $vf still on $VFIO_DRIVER"
		done
		sysfs_write 0 "/sys/bus/pci/devices/$bdf/sriov_numvfs" ||
			t_fail "could not remove the VFs:$why"
	else
		t_fail "could not create VFs through $IGB_HOST_DRIVER:$why"
	fi

	# Leave igb as the plan's other tests want it, with bind --json.
	vb bind --json "$bdf"
	t_check "bind --json: exit status" "$vb_rc" 0
	t_grep "bind --json: device report" "\"bdf\":\"$bdf\",\"status\":\"bound\"" "$out"
	t_grep "bind --json: module and alias line" "\"module\":\"vfio_pci\",\"alias_line\":$line,\"wildcards\":7" "$out"
	t_check_vfio_bound "$bdf"

	echo "# $t_failed check(s) failed"
	[ "$t_failed" = 0 ]
}
