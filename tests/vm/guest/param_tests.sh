# SPDX-License-Identifier: GPL-2.0
# The module parameter tests of the test plan (busybox sh; sourced by
# plan.sh, which provides current_driver, sysfs_write, reset_numvfs,
# load_<set>, the t_* checks of bind_tests.sh and the IGB, EDU, VGA and
# *_HOST_DRIVER variables).
#
# One test per vfio_pci parameter, run the same way on both driver sets, so
# that the C driver's results are the reference for ours:
#   params_sysfs             /sys/module/vfio_pci/parameters: names, values,
#                            permissions (and ours against the C set's)
#   params_ids               ids= binds without driver_override; new_id and
#                            remove_id on the driver
#   params_nointxmask        INTx without DisINTx masking still works
#   params_disable_vga       the VGA region of QEMU's std VGA (1234:1111)
#   params_disable_idle_d3   idle D3 (runtime PM) of the unused igb
#   params_enable_sriov      sriov_numvfs refused without it, VFs with it
#   params_disable_denylist  read-only, warns at load, loads and binds
#   params_debugfs           the values the core latched per device at probe
#                            (nointxmask, disable_idle_d3), in debugfs
# A test that reloads vfio_pci takes the devices away from it first (rmmod
# unbinds them, their driver_override stays, so the load with the plan's
# usual parameters binds them again) and restores that state at the end.

# The plan's parameters, restored after every reload.
PLAN_PARAMS=enable_sriov=1

# reload_vfio_pci PARAMS: rmmod vfio_pci (vfio_pci_core stays) and load it
# again with PARAMS.  Returns 1, with $why, on failure.
reload_vfio_pci() {
	why=
	reset_numvfs
	run_bounded 60 rmmod vfio_pci
	[ $rc = 0 ] || { why="rmmod vfio_pci failed (rc $rc)"; return 1; }
	VFIO_PCI_PARAMS=$1 "load_$DRIVER_SET" || return 1
	echo "vfio_pci reloaded with '$1'"
}

# Reloads with the plan's parameters and checks igb and edu came back to
# vfio-pci (their driver_override was kept); a failure fails the test.
restore_vfio_pci() {
	reload_vfio_pci "$PLAN_PARAMS" || t_fail "restore: $why"
	t_check "restore: igb driver" "$(current_driver "$IGB")" "$VFIO_DRIVER"
	t_check "restore: edu driver" "$(current_driver "$EDU")" "$VFIO_DRIVER"
}

# Prints the parameter file $1 of vfio_pci.
param() {
	cat "/sys/module/vfio_pci/parameters/$1" 2>&1
}

# Prints the per-device value $2 (nointxmask, disable_idle_d3) that the core
# latched for device $1, from debugfs (CONFIG_VFIO_DEBUGFS; the VFIO core
# names a device's directory after its parent, the PCI device).
latched() {
	cat "/sys/kernel/debug/vfio/$1/pci/$2" 2>&1 | sed 's/^cat: .*: //'
}

# Waits up to 5 s for device $1's runtime PM status to become $2; prints it.
runtime_status_of() {
	local f=/sys/bus/pci/devices/$1/power/runtime_status i=0 s
	while :; do
		s=$(cat "$f" 2>&1)
		[ "$s" = "$2" ] || [ $i -ge 25 ] && break
		usleep 200000
		i=$((i + 1))
	done
	echo "$s"
}

# Writes $1 to $2 and prints the shell's error message, if any.
write_error() {
	( echo "$1" > "$2" ) 2>&1 | sed 's/^.*: //'
}

test_params_sysfs() {
	local f got=/tmp/params.$DRIVER_SET
	t_failed=0
	: > "$got"
	for f in /sys/module/vfio_pci/parameters/*; do
		echo "$(basename "$f") $(stat -c %a "$f") $(cat "$f")" >> "$got"
	done
	cat "$got"
	# Upstream's vfio_pci.c with CONFIG_PCI_IOV and CONFIG_VFIO_PCI_VGA; ids
	# has permission 0, so no file; the plan loads with enable_sriov=1.
	t_check "parameters, permissions, values" "$(cat "$got" | tr '\n' ,)" \
		"disable_denylist 444 N,disable_idle_d3 644 N,disable_vga 444 N,enable_sriov 644 Y,nointxmask 644 N,"
	if [ "$DRIVER_SET" != c ] && [ -f /tmp/params.c ]; then
		t_check "same as the C vfio_pci" "$(cat "$got" | tr '\n' ,)" "$(cat /tmp/params.c | tr '\n' ,)"
	fi
	t_check "vfio_pci_core has no parameters" \
		"$(ls /sys/module/vfio_pci_core/parameters 2>/dev/null | wc -l)" 0
	t_check "ids is not in sysfs" "$(ls /sys/module/vfio_pci/parameters/ids 2>&1 | sed 's/^.*: //')" \
		"No such file or directory"
	t_check "writing a read-only parameter" "$(write_error Y /sys/module/vfio_pci/parameters/disable_vga)" \
		"Permission denied"
	echo "# $t_failed check(s) failed"
	[ "$t_failed" = 0 ]
}

test_params_ids() {
	local drv=/sys/bus/pci/drivers/$VFIO_DRIVER log_lines log
	t_failed=0
	# edu without driver_override, then vfio_pci with ids= naming it (and
	# an invalid entry, which is skipped with a warning).
	sysfs_write "$EDU" "$drv/unbind" && sysfs_write "" "/sys/bus/pci/devices/$EDU/driver_override" ||
		t_fail "edu: cannot clear driver_override:$why"
	# The kernel log is never cleared (run.sh reads all of it): what the
	# load logs is what comes after the lines seen now.
	log_lines=$(dmesg | wc -l)
	if reload_vfio_pci "ids=1234:11e8,zzzz $PLAN_PARAMS"; then
		log=$(dmesg | tail -n +$((log_lines + 1)))
		t_check "ids=: edu bound at load" "$(current_driver "$EDU")" "$VFIO_DRIVER"
		t_check "ids=: edu has no driver_override" "$(override_of "$EDU")" "(null)"
		t_grep "ids=: the id is announced" \
			'vfio_pci: add [1234:11e8[ffffffff:ffffffff]] class 0x000000/00000000' "$log"
		t_grep "ids=: the invalid entry is reported" 'vfio_pci: invalid id string "zzzz"' "$log"
		t_check "ids=: igb (not listed) is bound only by its override" "$(current_driver "$IGB")" "$VFIO_DRIVER"
		# Unbinding edu leaves it alone (no override to reprobe with), and
		# drivers_probe binds it again through the dynamic id.
		sysfs_write "$EDU" "$drv/unbind" || t_fail "edu unbind:$why"
		t_check "ids=: unbound edu" "$(current_driver "$EDU")" ""
		sysfs_write "$EDU" /sys/bus/pci/drivers_probe || t_fail "edu drivers_probe:$why"
		t_check "ids=: drivers_probe binds edu through the id" "$(current_driver "$EDU")" "$VFIO_DRIVER"
	else
		t_fail "load with ids=: $why"
	fi
	sysfs_write "$VFIO_DRIVER" "/sys/bus/pci/devices/$EDU/driver_override" || t_fail "edu override:$why"

	# new_id/remove_id with igb on no driver: the override-only id table
	# alone does not match it; a dynamic id does.
	sysfs_write "$IGB" "$drv/unbind" && sysfs_write "" "/sys/bus/pci/devices/$IGB/driver_override" ||
		t_fail "igb: cannot clear driver_override:$why"
	t_check "bind without an id or override" "$(write_error "$IGB" "$drv/bind")" "No such device"
	t_check "new_id 8086 10c9" "$(write_error "8086 10c9" "$drv/new_id")" ""
	t_check "new_id binds igb" "$(current_driver "$IGB")" "$VFIO_DRIVER"
	t_check "new_id of the same id again" "$(write_error "8086 10c9" "$drv/new_id")" "File exists"
	t_check "remove_id 8086 10c9" "$(write_error "8086 10c9" "$drv/remove_id")" ""
	t_check "remove_id of an absent id" "$(write_error "8086 10c9" "$drv/remove_id")" "No such device"
	t_check "igb stays bound after remove_id" "$(current_driver "$IGB")" "$VFIO_DRIVER"
	sysfs_write "$VFIO_DRIVER" "/sys/bus/pci/devices/$IGB/driver_override" || t_fail "igb override:$why"

	restore_vfio_pci
	echo "# $t_failed check(s) failed"
	[ "$t_failed" = 0 ]
}

test_params_nointxmask() {
	t_failed=0
	if reload_vfio_pci "nointxmask=1 $PLAN_PARAMS"; then
		t_check "nointxmask=1: parameter" "$(param nointxmask)" Y
		t_check "nointxmask=1: edu bound" "$(current_driver "$EDU")" "$VFIO_DRIVER"
		# INTx without DisINTx masking (exclusive line, disable_irq).
		run_bounded 60 /vfio/progs/vfio_intx "$EDU"
		t_check "nointxmask=1: vfio_intx on edu passes" "$rc" 0
	else
		t_fail "load with nointxmask=1: $why"
	fi
	restore_vfio_pci
	echo "# $t_failed check(s) failed"
	[ "$t_failed" = 0 ]
}

# vga_script PHASE: runs vfio_region's VGA script on the VGA device and
# prints its output, which it keeps in /tmp/vga.PHASE.<driver set>.
vga_script() {
	/vfio/progs/vfio_region "$VGA" 8 vga > "/tmp/vga.$1.$DRIVER_SET" 2>&1
	cat "/tmp/vga.$1.$DRIVER_SET"
}

# vga_same_as_c PHASE: ours answered the VGA script as the C driver did in
# the same boot.
vga_same_as_c() {
	[ "$DRIVER_SET" != c ] && [ -f "/tmp/vga.$1.c" ] || return 0
	t_check "$1: VGA accesses as the C vfio_pci's" "$(tr '\n' , < "/tmp/vga.$1.$DRIVER_SET")" \
		"$(tr '\n' , < "/tmp/vga.$1.c")"
}

# The VGA region (VFIO_PCI_VGA_REGION_INDEX, 8) of the std VGA device: 0xc0000
# bytes, read/write, unless disable_vga=1 (then GET_REGION_INFO and every
# access say EINVAL); either way the device is a VGA arbiter client.
test_params_disable_vga() {
	local dev=/sys/bus/pci/devices/$VGA saw log_lines
	t_failed=0
	if [ -z "$VGA" ]; then
		t_fail "no VGA device (1234:1111) in the VM"
		return 1
	fi
	log_lines=$(dmesg | wc -l)
	sysfs_write "$VFIO_DRIVER" "$dev/driver_override" || t_fail "override:$why"
	[ -z "$VGA_HOST_DRIVER" ] || sysfs_write "$VGA" "$dev/driver/unbind" || t_fail "unbind:$why"
	sysfs_write "$VGA" /sys/bus/pci/drivers_probe || t_fail "probe:$why"
	t_check "VGA bound" "$(current_driver "$VGA")" "$VFIO_DRIVER"
	t_grep "bind: the VGA arbiter is told the decodes" "vgaarb: VGA decodes changed" \
		"$(dmesg | tail -n +$((log_lines + 1)))"
	saw=$(vga_script default)
	t_check "default: VGA region" "$(echo "$saw" | head -1)" "region 8: size=0xc0000 flags=0x3"
	t_grep "default: outside the windows" "rd 0x3bc/1: errno=EINVAL" "$saw"
	t_grep "default: past the region" "rd 0xc0000/1: errno=EINVAL" "$saw"
	t_grep "default: CRTC index and data, 16 bits" "rd 0x3d4/2: ret=2 0x120e" "$saw"
	t_grep "default: cut at port 0x3bc" "rd 0x3b8/8: ret=4 " "$saw"
	t_grep "default: text memory, 32 bits" "rd 0xbc000/4: ret=4 0x5aa5c33c" "$saw"
	t_grep "default: text memory, 64 bits as 2x32" "rd 0xbc008/8: ret=8 0x0123456789abcdef" "$saw"
	t_grep "default: unaligned 8+16 bits" "rd 0xbc001/3: ret=3 0x5aa5c3" "$saw"
	t_grep "default: cut at the region's end" "rd 0xbfff8/16: ret=8 0x0000000000000000" "$saw"
	vga_same_as_c default
	if reload_vfio_pci "disable_vga=1 $PLAN_PARAMS"; then
		t_check "disable_vga=1: parameter" "$(param disable_vga)" Y
		t_check "disable_vga=1: VGA bound" "$(current_driver "$VGA")" "$VFIO_DRIVER"
		saw=$(vga_script disable_vga)
		t_check "disable_vga=1: no VGA region" "$(echo "$saw" | head -1)" "region 8: errno=EINVAL"
		t_check "disable_vga=1: every access refused" "$(echo "$saw" | grep -vc 'errno=EINVAL$')" 0
		vga_same_as_c disable_vga
	else
		t_fail "load with disable_vga=1: $why"
	fi
	# Give the VGA device back before the plan's parameters return.
	[ "$(current_driver "$VGA")" != "$VFIO_DRIVER" ] ||
		sysfs_write "$VGA" "/sys/bus/pci/drivers/$VFIO_DRIVER/unbind" || t_fail "VGA unbind:$why"
	sysfs_write "" "$dev/driver_override" || t_fail "VGA override:$why"
	sysfs_write "$VGA" /sys/bus/pci/drivers_probe || t_fail "VGA probe:$why"
	t_check "VGA back on its host driver" "$(current_driver "$VGA")" "$VGA_HOST_DRIVER"
	restore_vfio_pci
	echo "# $t_failed check(s) failed"
	[ "$t_failed" = 0 ]
}

# Unused, a device bound to vfio-pci is runtime-suspended (D3hot on igb,
# which has the PM capability) unless disable_idle_d3=1.
test_params_disable_idle_d3() {
	local dev=/sys/bus/pci/devices/$IGB
	t_failed=0
	t_check "default: igb runtime_status" "$(runtime_status_of "$IGB" suspended)" suspended
	t_check "default: igb power_state" "$(cat "$dev/power_state")" D3hot
	if reload_vfio_pci "disable_idle_d3=1 $PLAN_PARAMS"; then
		t_check "disable_idle_d3=1: parameter" "$(param disable_idle_d3)" Y
		t_check "disable_idle_d3=1: igb runtime_status" "$(runtime_status_of "$IGB" active)" active
		t_check "disable_idle_d3=1: igb power_state" "$(cat "$dev/power_state")" D0
	else
		t_fail "load with disable_idle_d3=1: $why"
	fi
	restore_vfio_pci
	echo "# $t_failed check(s) failed"
	[ "$t_failed" = 0 ]
}

test_params_enable_sriov() {
	local numvfs=/sys/bus/pci/devices/$IGB/sriov_numvfs vf n
	t_failed=0
	if reload_vfio_pci ""; then
		t_check "enable_sriov=0: parameter" "$(param enable_sriov)" N
		t_check "enable_sriov=0: sriov_numvfs write" "$(write_error 1 "$numvfs")" "No such file or directory"
		t_check "enable_sriov=0: no VFs" "$(cat "$numvfs")" 0
		# Writable: read at each sriov_numvfs write.
		t_check "enable_sriov: write Y" "$(write_error Y /sys/module/vfio_pci/parameters/enable_sriov)" ""
		t_check "enable_sriov=Y at run time: sriov_numvfs write" "$(write_error 2 "$numvfs")" ""
		t_check "VFs" "$(cat "$numvfs")" 2
		# VFs of a PF on vfio-pci get its driver_override and bind to it.
		n=0
		for vf in $(vfs_of "$IGB"); do
			n=$((n + 1))
			t_check "VF $vf: driver_override" "$(override_of "$vf")" "$VFIO_DRIVER"
			t_check "VF $vf: driver" "$(current_driver "$vf")" "$VFIO_DRIVER"
		done
		t_check "virtfn links" "$n" 2
		t_check "remove the VFs" "$(write_error 0 "$numvfs")" ""
		t_check "enable_sriov: write N" "$(write_error N /sys/module/vfio_pci/parameters/enable_sriov)" ""
		t_check "enable_sriov=N at run time: sriov_numvfs write" "$(write_error 1 "$numvfs")" "No such file or directory"
	else
		t_fail "load without enable_sriov: $why"
	fi
	restore_vfio_pci
	t_check "enable_sriov=1: parameter" "$(param enable_sriov)" Y
	echo "# $t_failed check(s) failed"
	[ "$t_failed" = 0 ]
}

# No device of the denylist (QAT and others) exists in the VM: checked are
# the read-only parameter, the warning at load and that loading with it
# binds as usual.
test_params_disable_denylist() {
	local log_lines
	t_failed=0
	t_check "default: parameter" "$(param disable_denylist)" N
	t_check "read-only" "$(write_error Y /sys/module/vfio_pci/parameters/disable_denylist)" "Permission denied"
	log_lines=$(dmesg | wc -l)
	if reload_vfio_pci "disable_denylist=1 $PLAN_PARAMS"; then
		t_grep "disable_denylist=1: the load warns" "vfio_pci: device denylist disabled." \
			"$(dmesg | tail -n +$((log_lines + 1)))"
		t_check "disable_denylist=1: parameter" "$(param disable_denylist)" Y
		t_check "disable_denylist=1: igb bound" "$(current_driver "$IGB")" "$VFIO_DRIVER"
		t_check "disable_denylist=1: edu bound" "$(current_driver "$EDU")" "$VFIO_DRIVER"
	else
		t_fail "load with disable_denylist=1: $why"
	fi
	restore_vfio_pci
	echo "# $t_failed check(s) failed"
	[ "$t_failed" = 0 ]
}

# nointxmask and disable_idle_d3 are writable, but a device keeps the value
# it latched when it was probed; the core shows that value in debugfs
# (CONFIG_VFIO_DEBUGFS: <debugfs>/vfio/<BDF>/pci/).
test_params_debugfs() {
	local p
	t_failed=0
	for p in nointxmask disable_idle_d3; do
		t_check "default: $p latched by igb" "$(latched "$IGB" $p)" N
	done
	if reload_vfio_pci "nointxmask=1 disable_idle_d3=1 $PLAN_PARAMS"; then
		for p in nointxmask disable_idle_d3; do
			t_check "$p=1: latched by igb" "$(latched "$IGB" $p)" Y
			t_check "$p=1: latched by edu" "$(latched "$EDU" $p)" Y
			t_check "$p: write N" "$(write_error N /sys/module/vfio_pci/parameters/$p)" ""
			t_check "$p: reads N" "$(param $p)" N
			t_check "$p: igb still latched Y" "$(latched "$IGB" $p)" Y
		done
	else
		t_fail "load with nointxmask=1 disable_idle_d3=1: $why"
	fi
	restore_vfio_pci
	for p in nointxmask disable_idle_d3; do
		t_check "restored: $p latched by igb" "$(latched "$IGB" $p)" N
	done
	echo "# $t_failed check(s) failed"
	[ "$t_failed" = 0 ]
}
