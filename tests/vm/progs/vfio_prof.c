// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_prof - the accesses that tests/vm/profile.sh counts the guest
 * instructions of: N config reads (COMMAND, 4 bytes), N BAR0 reads (4
 * bytes at 8), N config writes (COMMAND, 2 bytes, same value) and N
 * getpid() calls (the cost of a bare syscall, as a yardstick), each run
 * between two getitimer() calls, which the QEMU plugin
 * (tests/vm/profile/insn_plugin.c) takes as the start and end of a phase.
 * Then prints the module symbols (/proc/kallsyms lines with a [module]) as
 * "KSYM ..." lines, while the driver's modules are loaded, for the
 * host to name the addresses.
 *
 * Usage: vfio_prof BDF [iterations]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "vfio_test.h"

static struct itimerval it;

/* A phase boundary for the plugin; nothing else in the guest calls it. */
static void mark(void)
{
	getitimer(ITIMER_REAL, &it);
}

static __u64 region(int device, __u32 index)
{
	struct vfio_region_info r = { .argsz = sizeof(r), .index = index };

	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &r))
		vfio_test_die("GET_REGION_INFO");
	return r.offset;
}

int main(int argc, char **argv)
{
	int container, group, device, i, n = argc > 2 ? atoi(argv[2]) : 20000;
	__u64 cfg, bar0;
	__u32 v;
	__u16 cmd;

	if (argc < 2 || n < 1)
		return fprintf(stderr, "usage: %s BDF [iterations]\n", argv[0]), 2;
	device = vfio_test_open_group(argv[1], &container, &group);
	cfg = region(device, VFIO_PCI_CONFIG_REGION_INDEX);
	bar0 = region(device, VFIO_PCI_BAR0_REGION_INDEX);
	/* kmemleak's periodic scan would land in some phases and not others. */
	if (system("echo scan=off > /sys/kernel/debug/kmemleak 2>/dev/null"))
		printf("# kmemleak scan left on\n");
	if (pread(device, &cmd, 2, cfg + PCI_COMMAND) != 2)
		vfio_test_die("config read");
	/* Warm up: first-touch faults and lazy setup out of the phases. */
	for (i = 0; i < 100; i++)
		if (pread(device, &v, 4, cfg) != 4 || pread(device, &v, 4, bar0 + 8) != 4 ||
		    pwrite(device, &cmd, 2, cfg + PCI_COMMAND) != 2)
			vfio_test_die("warm-up access");

	mark();
	for (i = 0; i < n; i++)
		pread(device, &v, 4, cfg + PCI_COMMAND);
	mark();
	mark();
	for (i = 0; i < n; i++)
		pread(device, &v, 4, bar0 + 8);
	mark();
	mark();
	for (i = 0; i < n; i++)
		pwrite(device, &cmd, 2, cfg + PCI_COMMAND);
	mark();
	mark();
	for (i = 0; i < n; i++)
		getpid();
	mark();

	printf("PROF iterations %d\n", n);
	fflush(stdout);
	if (system("grep '\\[' /proc/kallsyms | sed 's/^/KSYM /'"))
		vfio_test_die("kallsyms");
	close(device);
	return 0;
}
