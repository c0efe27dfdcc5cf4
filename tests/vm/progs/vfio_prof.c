// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_prof - the accesses that tests/vm/profile.sh counts the guest
 * instructions of: N config reads (COMMAND, 4 bytes), N BAR0 reads (4
 * bytes at 8), N config writes (COMMAND, 2 bytes, same value), N
 * getpid() calls (the cost of a bare syscall, as a yardstick) and N/10
 * MSI-X enable/disable pairs (SET_IRQS of one vector with an eventfd, then
 * DATA_NONE with count 0, as vfio_bench's msix_on_off; MSI on a device
 * without MSI-X, such as edu; the phase keeps its name), N loopback
 * interrupts (SET_IRQS DATA_NONE trigger of that vector, then the
 * eventfd's read, as vfio_bench's irq_loop) and N/2000
 * opens of the device fd, each closed again (with no other fd open: the
 * enable, reset and config init of a first open, as vfio_bench's open),
 * each run between two getitimer() calls, which the QEMU plugin
 * (tests/vm/profile/insn_plugin.c) takes as the start and end of a phase.
 * Prints "PROF phase <name> <operations>" per phase, in order, and then
 * the module symbols (/proc/kallsyms lines with a [module]) as
 * "KSYM ..." lines, while the driver's modules are loaded, for the
 * host to name the addresses.
 *
 * Usage: vfio_prof BDF [iterations >= 10]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "prof.h"
#include "vfio_test.h"

static __u64 region(int device, __u32 index)
{
	struct vfio_region_info r = { .argsz = sizeof(r), .index = index };

	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &r))
		vfio_test_die("GET_REGION_INFO");
	return r.offset;
}

/* MSI-X, or MSI on a device without MSI-X (edu), as vfio_bench. */
static __u32 irq_index = VFIO_PCI_MSIX_IRQ_INDEX;

static int set_irqs(int device, __u32 flags, __u32 count, int fd)
{
	struct {
		struct vfio_irq_set s;
		__s32 fd;
	} a = { .s = { .argsz = sizeof(a), .flags = VFIO_IRQ_SET_ACTION_TRIGGER | flags,
		       .index = irq_index, .count = count },
		.fd = fd };

	return ioctl(device, VFIO_DEVICE_SET_IRQS, &a);
}

static void msix_on_off(int device, int efd)
{
	if (set_irqs(device, VFIO_IRQ_SET_DATA_EVENTFD, 1, efd) ||
	    set_irqs(device, VFIO_IRQ_SET_DATA_NONE, 0, -1))
		vfio_test_die("SET_IRQS MSI-X/MSI enable/disable");
}

int main(int argc, char **argv)
{
	int container, group, device, efd, i, opens, n = argc > 2 ? atoi(argv[2]) : 20000;
	struct vfio_irq_info msix = { .argsz = sizeof(msix), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	__u64 cfg, bar0, ev;
	__u32 v;
	__u16 cmd;

	if (argc < 2 || n < 10)
		return fprintf(stderr, "usage: %s BDF [iterations >= 10]\n", argv[0]), 2;
	device = vfio_test_open_group(argv[1], &container, &group);
	cfg = region(device, VFIO_PCI_CONFIG_REGION_INDEX);
	bar0 = region(device, VFIO_PCI_BAR0_REGION_INDEX);
	prof_quiet_kmemleak();
	if (ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &msix))
		vfio_test_die("GET_IRQ_INFO");
	if (!msix.count)
		irq_index = VFIO_PCI_MSI_IRQ_INDEX;
	if (pread(device, &cmd, 2, cfg + PCI_COMMAND) != 2)
		vfio_test_die("config read");
	/* Warm up: first-touch faults and lazy setup out of the phases. */
	for (i = 0; i < 100; i++)
		if (pread(device, &v, 4, cfg) != 4 || pread(device, &v, 4, bar0 + 8) != 4 ||
		    pwrite(device, &cmd, 2, cfg + PCI_COMMAND) != 2)
			vfio_test_die("warm-up access");
	efd = eventfd(0, 0);
	if (efd < 0)
		vfio_test_die("eventfd");
	for (i = 0; i < 10; i++)
		msix_on_off(device, efd);

	prof_mark();
	for (i = 0; i < n; i++)
		pread(device, &v, 4, cfg + PCI_COMMAND);
	prof_mark();
	prof_mark();
	for (i = 0; i < n; i++)
		pread(device, &v, 4, bar0 + 8);
	prof_mark();
	prof_mark();
	for (i = 0; i < n; i++)
		pwrite(device, &cmd, 2, cfg + PCI_COMMAND);
	prof_mark();
	prof_mark();
	for (i = 0; i < n; i++)
		getpid();
	prof_mark();
	prof_mark();
	for (i = 0; i < n / 10; i++)
		msix_on_off(device, efd);
	prof_mark();
	if (set_irqs(device, VFIO_IRQ_SET_DATA_EVENTFD, 1, efd))
		vfio_test_die("SET_IRQS enable");
	prof_mark();
	for (i = 0; i < n; i++)
		if (set_irqs(device, VFIO_IRQ_SET_DATA_NONE, 1, -1) || read(efd, &ev, 8) != 8)
			vfio_test_die("loopback");
	prof_mark();
	if (set_irqs(device, VFIO_IRQ_SET_DATA_NONE, 0, -1))
		vfio_test_die("SET_IRQS disable");

	close(device);
	opens = n / 2000 ? n / 2000 : 1;
	prof_mark();
	for (i = 0; i < opens; i++) {
		device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[1]);
		if (device < 0)
			vfio_test_die("VFIO_GROUP_GET_DEVICE_FD");
		close(device);
	}
	prof_mark();

	printf("PROF phase cfg_read %d\nPROF phase bar_read %d\nPROF phase cfg_write %d\n"
	       "PROF phase getpid %d\nPROF phase msix_on_off %d\nPROF phase irq_loop %d\n"
	       "PROF phase open %d\n",
	       n, n, n, n, n / 10, n, opens);
	if (prof_print_ksyms())
		vfio_test_die("kallsyms");
	return 0;
}
