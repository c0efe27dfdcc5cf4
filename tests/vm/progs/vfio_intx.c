// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_intx - INTx through VFIO on QEMU's edu device (1234:11e8), whose
 * BAR0 has an interrupt raise register (0x60) and an acknowledge register
 * (0x64); without MSI the device asserts its level-triggered INTx.
 *
 * Checks the behaviour userspace (QEMU, for legacy guests) relies on:
 * GET_IRQ_INFO for INTx; the trigger eventfd fires on an interrupt; the
 * interrupt is auto-masked until unmasked; unmask with nothing pending is
 * silent, with the line still asserted re-sends; the virtual DisINTx bit of
 * COMMAND suppresses delivery; unmask through an eventfd (virqfd); loopback
 * triggers (DATA_NONE, DATA_BOOL); VFIO_DEVICE_IOEVENTFD raising the
 * interrupt from the kernel; and the errnos of bad calls.
 *
 * Usage: vfio_intx DDDD:BB:DD.F
 *
 * Prints one TAP line per check and exits 1 if any failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "tap.h"
#include "vfio_test.h"

#define EDU_IRQ_STATUS	0x24
#define EDU_IRQ_RAISE	0x60
#define EDU_IRQ_ACK	0x64

static int device;
static __u64 bar0, config;

/* Acknowledges every interrupt the edu has raised. */
static void edu_ack(void)
{
	vfio_test_bar_write32(device, bar0, EDU_IRQ_ACK,
			      vfio_test_bar_read32(device, bar0, EDU_IRQ_STATUS));
}

static int open_device(const char *bdf)
{
	int container, group;

	return vfio_test_open_group(bdf, &container, &group);
}

static __u64 region_offset(__u32 index)
{
	struct vfio_region_info info = { .argsz = sizeof(info), .index = index };

	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &info))
		die("VFIO_DEVICE_GET_REGION_INFO");
	return info.offset;
}

int main(int argc, char **argv)
{
	struct vfio_irq_info irq = { .argsz = sizeof(irq), .index = VFIO_PCI_INTX_IRQ_INDEX };
	__u32 none = VFIO_IRQ_SET_DATA_NONE, efd_flag = VFIO_IRQ_SET_DATA_EVENTFD;
	__u32 trig = VFIO_IRQ_SET_ACTION_TRIGGER, unmask = VFIO_IRQ_SET_ACTION_UNMASK;
	__u32 mask = VFIO_IRQ_SET_ACTION_MASK;
	int efd, ufd, ret;
	__u64 v;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BDF\n", argv[0]);
		return 2;
	}
	device = open_device(argv[1]);
	bar0 = region_offset(VFIO_PCI_BAR0_REGION_INDEX);
	config = region_offset(VFIO_PCI_CONFIG_REGION_INDEX);

	ret = ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &irq);
	check(!ret && irq.count == 1, "INTx: GET_IRQ_INFO count 1",
	      "ret=%d count=%u", ret, irq.count);
	check(irq.flags == (VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
			    VFIO_IRQ_INFO_AUTOMASKED),
	      "INTx: flags EVENTFD|MASKABLE|AUTOMASKED", "flags=%#x", irq.flags);

	/* Memory decode on, DisINTx off, as a guest driver would. */
	vfio_test_cfg_write16(device, config, PCI_COMMAND,
			      (vfio_test_cfg_read16(device, config, PCI_COMMAND) |
			       PCI_COMMAND_MEMORY) & ~PCI_COMMAND_INTX_DISABLE);
	check(vfio_test_bar_read32(device, bar0, 0) == 0x010000ed, "edu: identification register readable",
	      "%#x", vfio_test_bar_read32(device, bar0, 0));

	/* Bad input first, while INTx is not set up. */
	errno = 0;
	ret = vfio_test_set_irqs(device, VFIO_PCI_INTX_IRQ_INDEX, unmask | none, 0, 1, 0);
	check(ret == -1 && errno == EINVAL, "unmask before INTx is set up: EINVAL",
	      "ret=%d errno=%d", ret, errno);

	efd = eventfd(0, EFD_NONBLOCK);
	ufd = eventfd(0, EFD_NONBLOCK);
	if (efd < 0 || ufd < 0)
		die("eventfd");
	ret = vfio_test_set_irqs(device, VFIO_PCI_INTX_IRQ_INDEX, trig | efd_flag, 0, 1, efd);
	check(!ret, "INTx trigger eventfd set", "ret=%d errno=%d", ret, errno);

	vfio_test_bar_write32(device, bar0, EDU_IRQ_RAISE, 1);
	v = vfio_test_wait_event(efd, 2000);
	check(v == 1, "interrupt signals the eventfd", "counter %llu", (unsigned long long)v);

	/* Automasked: the still-asserted line does not signal again. */
	vfio_test_bar_write32(device, bar0, EDU_IRQ_RAISE, 2);
	v = vfio_test_wait_event(efd, 300);
	check(v == 0, "masked after delivery", "counter %llu", (unsigned long long)v);

	/* Acknowledge, then unmask: nothing pending, nothing sent. */
	edu_ack();
	ret = vfio_test_set_irqs(device, VFIO_PCI_INTX_IRQ_INDEX, unmask | none, 0, 1, 0);
	v = vfio_test_wait_event(efd, 300);
	check(!ret && v == 0, "unmask with nothing pending is silent",
	      "ret=%d counter %llu", ret, (unsigned long long)v);

	/* A new interrupt is delivered once unmasked. */
	vfio_test_bar_write32(device, bar0, EDU_IRQ_RAISE, 4);
	v = vfio_test_wait_event(efd, 2000);
	check(v == 1, "delivered again after unmask", "counter %llu", (unsigned long long)v);

	/* Unmask while the line is still asserted: re-sent. */
	ret = vfio_test_set_irqs(device, VFIO_PCI_INTX_IRQ_INDEX, unmask | VFIO_IRQ_SET_DATA_BOOL,
				 0, 1, 1);
	v = vfio_test_wait_event(efd, 2000);
	check(!ret && v == 1, "unmask (DATA_BOOL) with the line asserted re-sends",
	      "ret=%d counter %llu", ret, (unsigned long long)v);
	edu_ack();
	vfio_test_set_irqs(device, VFIO_PCI_INTX_IRQ_INDEX, unmask | none, 0, 1, 0);

	/* Virtual DisINTx suppresses delivery; clearing it delivers. */
	vfio_test_cfg_write16(device, config, PCI_COMMAND,
			      vfio_test_cfg_read16(device, config, PCI_COMMAND) |
			      PCI_COMMAND_INTX_DISABLE);
	check(vfio_test_cfg_read16(device, config, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE,
	      "DisINTx reads back set", "%#x", vfio_test_cfg_read16(device, config, PCI_COMMAND));
	vfio_test_bar_write32(device, bar0, EDU_IRQ_RAISE, 8);
	v = vfio_test_wait_event(efd, 300);
	check(v == 0, "no delivery while DisINTx is set", "counter %llu", (unsigned long long)v);
	vfio_test_cfg_write16(device, config, PCI_COMMAND,
			      vfio_test_cfg_read16(device, config, PCI_COMMAND) &
			      ~PCI_COMMAND_INTX_DISABLE);
	v = vfio_test_wait_event(efd, 2000);
	check(v == 1, "pending interrupt delivered when DisINTx clears",
	      "counter %llu", (unsigned long long)v);
	edu_ack();

	/* Unmask through an eventfd. */
	ret = vfio_test_set_irqs(device, VFIO_PCI_INTX_IRQ_INDEX, unmask | efd_flag, 0, 1, ufd);
	check(!ret, "unmask eventfd set", "ret=%d errno=%d", ret, errno);
	v = 1;
	if (write(ufd, &v, 8) != 8)
		die("unmask eventfd write");
	vfio_test_bar_write32(device, bar0, EDU_IRQ_RAISE, 16);
	v = vfio_test_wait_event(efd, 2000);
	check(v == 1, "unmask eventfd re-arms INTx", "counter %llu", (unsigned long long)v);
	edu_ack();
	ret = vfio_test_set_irqs(device, VFIO_PCI_INTX_IRQ_INDEX, unmask | efd_flag, 0, 1, -1);
	check(!ret, "unmask eventfd cleared", "ret=%d errno=%d", ret, errno);

	/* Loopback triggers. */
	ret = vfio_test_set_irqs(device, VFIO_PCI_INTX_IRQ_INDEX, trig | none, 0, 1, 0);
	v = vfio_test_wait_event(efd, 1000);
	check(!ret && v == 1, "loopback DATA_NONE", "ret=%d counter %llu", ret,
	      (unsigned long long)v);
	ret = vfio_test_set_irqs(device, VFIO_PCI_INTX_IRQ_INDEX, trig | VFIO_IRQ_SET_DATA_BOOL, 0, 1, 0);
	v = vfio_test_wait_event(efd, 300);
	check(!ret && v == 0, "loopback DATA_BOOL false is silent", "ret=%d counter %llu",
	      ret, (unsigned long long)v);

	/* Bad input. */
	errno = 0;
	ret = vfio_test_set_irqs(device, VFIO_PCI_INTX_IRQ_INDEX, mask | efd_flag, 0, 1, ufd);
	check(ret == -1 && errno == ENOTTY, "mask through an eventfd: ENOTTY",
	      "ret=%d errno=%d", ret, errno);
	errno = 0;
	ret = vfio_test_set_irqs(device, VFIO_PCI_INTX_IRQ_INDEX, trig | efd_flag, 1, 1, efd);
	check(ret == -1 && errno == EINVAL, "start 1: EINVAL", "ret=%d errno=%d", ret, errno);
	errno = 0;
	ret = vfio_test_set_irqs(device, VFIO_PCI_MSI_IRQ_INDEX, trig | efd_flag, 0, 1, efd);
	check(ret == -1 && errno == EINVAL, "MSI while INTx is in use: EINVAL",
	      "ret=%d errno=%d", ret, errno);
	errno = 0;
	ret = vfio_test_set_irqs(device, VFIO_PCI_MSI_IRQ_INDEX, mask | none, 0, 1, 0);
	check(ret == -1 && errno == ENOTTY, "MSI mask: ENOTTY", "ret=%d errno=%d", ret, errno);
	errno = 0;
	ret = vfio_test_set_irqs(device, VFIO_PCI_INTX_IRQ_INDEX, trig | efd_flag, 0, 1, 12345);
	check(ret == -1 && errno == EBADF, "closed eventfd: EBADF", "ret=%d errno=%d",
	      ret, errno);

	/* An ioeventfd that raises the interrupt from the kernel. */
	{
		struct vfio_device_ioeventfd io = {
			.argsz = sizeof(io), .flags = VFIO_DEVICE_IOEVENTFD_32,
			.offset = bar0 + EDU_IRQ_RAISE, .data = 64, .fd = ufd,
		};
		__u64 one = 1;

		vfio_test_set_irqs(device, VFIO_PCI_INTX_IRQ_INDEX, unmask | none, 0, 1, 0);
		vfio_test_wait_event(ufd, 0);
		ret = ioctl(device, VFIO_DEVICE_IOEVENTFD, &io);
		check(!ret, "ioeventfd registered", "ret=%d errno=%d", ret, errno);
		if (write(ufd, &one, 8) != 8)
			die("ioeventfd write");
		v = vfio_test_wait_event(efd, 2000);
		check(v == 1, "ioeventfd write raised the interrupt", "counter %llu",
		      (unsigned long long)v);
		check(vfio_test_bar_read32(device, bar0, EDU_IRQ_STATUS) & 64,
		      "ioeventfd data reached the device",
		      "status %#x", vfio_test_bar_read32(device, bar0, EDU_IRQ_STATUS));
		edu_ack();
		vfio_test_set_irqs(device, VFIO_PCI_INTX_IRQ_INDEX, unmask | none, 0, 1, 0);

		errno = 0;
		ret = ioctl(device, VFIO_DEVICE_IOEVENTFD, &io);
		check(ret == -1 && errno == EEXIST, "same ioeventfd again: EEXIST",
		      "ret=%d errno=%d", ret, errno);
		io.fd = -1;
		ret = ioctl(device, VFIO_DEVICE_IOEVENTFD, &io);
		check(!ret, "ioeventfd removed", "ret=%d errno=%d", ret, errno);
		errno = 0;
		ret = ioctl(device, VFIO_DEVICE_IOEVENTFD, &io);
		check(ret == -1 && errno == ENODEV, "removing it again: ENODEV",
		      "ret=%d errno=%d", ret, errno);
		io.fd = ufd;
		io.flags = VFIO_DEVICE_IOEVENTFD_32 | VFIO_DEVICE_IOEVENTFD_16;
		errno = 0;
		ret = ioctl(device, VFIO_DEVICE_IOEVENTFD, &io);
		check(ret == -1 && errno == EINVAL, "two sizes: EINVAL", "ret=%d errno=%d",
		      ret, errno);
		io.flags = VFIO_DEVICE_IOEVENTFD_32;
		io.offset = config + 4;
		errno = 0;
		ret = ioctl(device, VFIO_DEVICE_IOEVENTFD, &io);
		check(ret == -1 && errno == EINVAL, "ioeventfd on config space: EINVAL",
		      "ret=%d errno=%d", ret, errno);
		io.argsz = 8;
		io.offset = bar0 + EDU_IRQ_RAISE;
		errno = 0;
		ret = ioctl(device, VFIO_DEVICE_IOEVENTFD, &io);
		check(ret == -1 && errno == EINVAL, "short argsz: EINVAL", "ret=%d errno=%d",
		      ret, errno);
	}

	/* Teardown. */
	ret = vfio_test_set_irqs(device, VFIO_PCI_INTX_IRQ_INDEX, trig | none, 0, 0, 0);
	check(!ret, "INTx disabled", "ret=%d errno=%d", ret, errno);
	vfio_test_bar_write32(device, bar0, EDU_IRQ_RAISE, 32);
	v = vfio_test_wait_event(efd, 300);
	check(v == 0, "no delivery after disable", "counter %llu", (unsigned long long)v);
	edu_ack();

	return tap_done();
}
