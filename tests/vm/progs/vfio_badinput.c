// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_badinput - bad input from userspace gets upstream's errno.
 *
 * Every call below is wrong in one way (argsz, index, offset, flag, count,
 * mapping) and each check states the errno Linux 7.3's C vfio-pci gives
 * (with a few right calls around the sizes of SET_IRQS data);
 * the VM runs this program against both drivers, so a difference fails one
 * of them.  The host's dmesg check makes sure nothing here logs a WARNING,
 * Oops or leak.
 *
 * Usage: vfio_badinput DDDD:BB:DD.F   (a device with a memory BAR0)
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
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "tap.h"
#include "vfio_test.h"

static int device;

static void expect(int ret, int want_errno, const char *what)
{
	int e = errno;

	checks++;
	if (ret == -1 && e == want_errno) {
		printf("ok %u - %s: %s\n", checks, what, strerror(want_errno));
		return;
	}
	failures++;
	printf("not ok %u - %s: want %s (saw ret=%d errno=%s)\n", checks, what,
	       strerror(want_errno), ret, ret == -1 ? strerror(e) : "-");
}

/* Whether the device is an SR-IOV PF (it has VF tokens then). */
static bool is_pf(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_totalvfs", bdf);
	return access(path, F_OK) == 0;
}

static void expect_ok(int ret, const char *what)
{
	checks++;
	if (ret >= 0) {
		printf("ok %u - %s: accepted\n", checks, what);
		return;
	}
	failures++;
	printf("not ok %u - %s: want success (saw errno=%s)\n", checks, what, strerror(errno));
}

static int open_device(const char *bdf)
{
	char path[PATH_MAX];
	int container, group, fd;
	bool pf;

	vfio_test_setup_group(bdf, &container, &group);
	errno = 0;
	fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, "0000:ff:1f.7");
	expect(fd, ENODEV, "GET_DEVICE_FD of a device not in the group");
	pf = is_pf(bdf);
	errno = 0;
	snprintf(path, sizeof(path), "%s vf_token=00000000-0000-0000-0000-000000000000", bdf);
	fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, path);
	if (pf) {
		/* An unused PF takes the token as its new one. */
		expect_ok(fd, "VF token given for a PF without VF users");
		if (fd >= 0)
			close(fd);
	} else {
		expect(fd, EINVAL, "VF token given for a device that is not a PF or VF");
	}
	snprintf(path, sizeof(path), "%s bogus=1", bdf);
	errno = 0;
	fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, path);
	expect(fd, EINVAL, "unknown option in the device string");
	fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (fd < 0)
		die("VFIO_GROUP_GET_DEVICE_FD");
	return fd;
}

/*
 * SET_IRQS with eventfd arrays of several sizes, on a device with MSI-X:
 * 8 eventfds (32 bytes of data, what ours reads on the stack), 9 (one
 * more, read into an allocation) and every vector.  Each vector's
 * loopback trigger must signal its own eventfd and no other; an array
 * whose last fd is closed is EBADF and leaves MSI-X off (a trigger is then
 * EINVAL); the same for a bool array of all vectors.
 */
static void msix_data_sizes(void)
{
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	unsigned int sizes[3], n, i, j, k;
	char what[96];
	__u64 v;

	if (ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &info))
		die("GET_IRQ_INFO MSI-X");
	if (info.count < 9) {
		checks++;
		printf("ok %u - # SKIP SET_IRQS data sizes: %u MSI-X vectors, fewer than 9\n",
		       checks, info.count);
		return;
	}
	sizes[0] = 8, sizes[1] = 9, sizes[2] = info.count;
	for (k = 0; k < 3; k++) {
		size_t len = sizeof(struct vfio_irq_set) + sizes[k] * sizeof(__s32);
		struct vfio_irq_set *set = calloc(1, len);
		bool good = true;
		int *fds;

		if (!set)
			die("calloc");
		fds = (int *)set->data;
		n = sizes[k];
		for (i = 0; i < n; i++) {
			fds[i] = eventfd(0, EFD_NONBLOCK);
			if (fds[i] < 0)
				die("eventfd");
		}
		set->argsz = len;
		set->flags = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD;
		set->index = VFIO_PCI_MSIX_IRQ_INDEX;
		set->count = n;
		snprintf(what, sizeof(what), "SET_IRQS MSI-X with %u eventfds (%zu bytes of data)",
			 n, n * sizeof(__s32));
		expect_ok(ioctl(device, VFIO_DEVICE_SET_IRQS, set), what);
		for (i = 0; i < n && good; i++) {
			if (vfio_test_set_irqs(device, VFIO_PCI_MSIX_IRQ_INDEX,
					       VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE,
					       i, 1, -1))
				good = false;
			for (j = 0; j < n; j++) {
				bool fired = read(fds[j], &v, sizeof(v)) == sizeof(v);

				if (fired != (i == j))
					good = false;
			}
		}
		checks++;
		if (good)
			printf("ok %u - %u vectors: each trigger signals its own eventfd only\n",
			       checks, n);
		else
			failures++, printf("not ok %u - %u vectors: vector %u's trigger signalled"
					   " a wrong set of eventfds\n", checks, n, i - 1);
		if (vfio_test_set_irqs(device, VFIO_PCI_MSIX_IRQ_INDEX,
				       VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE, 0, 0, -1))
			die("SET_IRQS MSI-X disable");

		close(fds[n - 1]);
		snprintf(what, sizeof(what), "SET_IRQS MSI-X with %u eventfds, the last closed", n);
		errno = 0;
		expect(ioctl(device, VFIO_DEVICE_SET_IRQS, set), EBADF, what);
		errno = 0;
		expect(vfio_test_set_irqs(device, VFIO_PCI_MSIX_IRQ_INDEX,
					  VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE, 0, 1, -1),
		       EINVAL, "a trigger after that failed enable (MSI-X stayed off)");
		for (i = 0; i + 1 < n; i++)
			close(fds[i]);
		free(set);
	}
	/* A bool array of every vector, without MSI-X enabled: EINVAL. */
	{
		size_t len = sizeof(struct vfio_irq_set) + info.count;
		struct vfio_irq_set *set = calloc(1, len);

		if (!set)
			die("calloc");
		set->argsz = len;
		set->flags = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_BOOL;
		set->index = VFIO_PCI_MSIX_IRQ_INDEX;
		set->count = info.count;
		memset(set->data, 1, info.count);
		errno = 0;
		expect(ioctl(device, VFIO_DEVICE_SET_IRQS, set), EINVAL,
		       "SET_IRQS MSI-X bool array of every vector, MSI-X off");
		free(set);
	}
}

int main(int argc, char **argv)
{
	struct vfio_region_info reg = { .argsz = sizeof(reg) };
	struct vfio_irq_info irq = { .argsz = sizeof(irq) };
	struct {
		struct vfio_irq_set set;
		__s32 fds[4];
	} s;
	struct {
		struct vfio_device_feature f;
		__u8 uuid[16];
	} feat;
	__u64 bar0, cfg, bar0_size, cfg_size;
	char buf[64];
	void *map;
	bool pf;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BDF\n", argv[0]);
		return 2;
	}
	device = open_device(argv[1]);

	/* Region info. */
	reg.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &reg))
		die("GET_REGION_INFO config");
	cfg = reg.offset;
	cfg_size = reg.size;
	reg.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &reg))
		die("GET_REGION_INFO BAR0");
	bar0 = reg.offset;
	bar0_size = reg.size;

	reg.index = VFIO_PCI_NUM_REGIONS;
	errno = 0;
	expect(ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &reg), EINVAL,
	       "GET_REGION_INFO index past the regions");
	reg.index = VFIO_PCI_VGA_REGION_INDEX;
	errno = 0;
	expect(ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &reg), EINVAL,
	       "GET_REGION_INFO of VGA on a non-VGA device");
	reg.index = 0;
	reg.argsz = 8;
	errno = 0;
	expect(ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &reg), EINVAL,
	       "GET_REGION_INFO argsz below minsz");
	errno = 0;
	expect(ioctl(device, VFIO_DEVICE_GET_REGION_INFO, (void *)8), EFAULT,
	       "GET_REGION_INFO with a bad pointer");

	/* IRQ info. */
	irq.index = VFIO_PCI_NUM_IRQS;
	errno = 0;
	expect(ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &irq), EINVAL,
	       "GET_IRQ_INFO index past the interrupts");
	irq.index = 0;
	irq.argsz = 4;
	errno = 0;
	expect(ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &irq), EINVAL,
	       "GET_IRQ_INFO argsz below minsz");

	/* SET_IRQS. */
	memset(&s, 0, sizeof(s));
	s.set.argsz = sizeof(s.set);
	s.set.index = VFIO_PCI_MSI_IRQ_INDEX;
	s.set.flags = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL;
	s.set.count = 1;
	errno = 0;
	expect(ioctl(device, VFIO_DEVICE_SET_IRQS, &s), EINVAL, "SET_IRQS with two data types");
	s.set.flags = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD;
	s.set.argsz = sizeof(s.set) + 4;
	s.set.start = 0xffffffff;
	errno = 0;
	expect(ioctl(device, VFIO_DEVICE_SET_IRQS, &s), EINVAL, "SET_IRQS start+count overflow");
	s.set.start = 0;
	s.set.count = 4;
	errno = 0;
	expect(ioctl(device, VFIO_DEVICE_SET_IRQS, &s), EINVAL,
	       "SET_IRQS argsz too small for the eventfds");
	s.set.index = 9;
	s.set.count = 1;
	errno = 0;
	expect(ioctl(device, VFIO_DEVICE_SET_IRQS, &s), EINVAL, "SET_IRQS bad index");
	s.set.index = VFIO_PCI_MSIX_IRQ_INDEX;
	s.set.flags = VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD;
	s.set.argsz = sizeof(s.set) + 4;
	s.fds[0] = 1000;
	errno = 0;
	ret = ioctl(device, VFIO_DEVICE_SET_IRQS, &s);
	if (ret == -1 && errno == EINVAL)
		checks++, printf("ok %u - SET_IRQS MSI-X: device without MSI-X (EINVAL)\n", checks);
	else
		expect(ret, EBADF, "SET_IRQS MSI-X with a closed fd");
	msix_data_sizes();

	/* Region reads and writes. */
	errno = 0;
	expect(pread(device, buf, 4, cfg + cfg_size), EFAULT, "config read past the end");
	errno = 0;
	expect(pread(device, buf, 8, cfg + cfg_size - 4), EFAULT, "config read across the end");
	errno = 0;
	expect(pread(device, buf, 4, bar0 + bar0_size), EINVAL, "BAR0 read past the end");
	errno = 0;
	expect(pwrite(device, buf, 4, ((__u64)VFIO_PCI_ROM_REGION_INDEX << 40)), EINVAL,
	       "write to the ROM region");
	errno = 0;
	expect(pread(device, buf, 4, (__u64)VFIO_PCI_NUM_REGIONS << 40), EINVAL,
	       "read of a region that does not exist");
	{
		/* An address the compiler cannot see through. */
		volatile uintptr_t bad = 8;

		errno = 0;
		expect(pread(device, (void *)bad, 4, cfg), EFAULT,
		       "config read into a bad buffer");
		errno = 0;
		expect(pwrite(device, (void *)bad, 2, cfg + 4 /* COMMAND */), EFAULT,
		       "config write from a bad buffer");
		errno = 0;
		expect(pwrite(device, (void *)bad, 8, cfg + 4 /* COMMAND */), EFAULT,
		       "long config write from a bad buffer");
		errno = 0;
		expect(pread(device, (void *)bad, 4, bar0), EFAULT,
		       "BAR0 read into a bad buffer");
		errno = 0;
		expect(pwrite(device, (void *)bad, 4, bar0 + 8), EFAULT,
		       "BAR0 write from a bad buffer");
	}

	/* mmap. */
	errno = 0;
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, device, cfg);
	expect(map == MAP_FAILED ? -1 : 0, EINVAL, "mmap of config space");
	errno = 0;
	map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, device, bar0);
	expect(map == MAP_FAILED ? -1 : 0, EINVAL, "private mmap of BAR0");
	errno = 0;
	map = mmap(NULL, bar0_size + 4096, PROT_READ, MAP_SHARED, device, bar0);
	expect(map == MAP_FAILED ? -1 : 0, EINVAL, "mmap past the end of BAR0");

	/* Features and unknown ioctls. */
	memset(&feat, 0, sizeof(feat));
	feat.f.argsz = sizeof(feat);
	feat.f.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN;
	pf = is_pf(argv[1]);
	errno = 0;
	if (pf)
		expect_ok(ioctl(device, VFIO_DEVICE_FEATURE, &feat), "PCI_VF_TOKEN SET on a PF");
	else
		expect(ioctl(device, VFIO_DEVICE_FEATURE, &feat), ENOTTY,
		       "PCI_VF_TOKEN on a device without SR-IOV");
	feat.f.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN;
	errno = 0;
	expect(ioctl(device, VFIO_DEVICE_FEATURE, &feat), pf ? EINVAL : ENOTTY,
	       "PCI_VF_TOKEN GET (the token is never readable)");
	feat.f.flags = VFIO_DEVICE_FEATURE_GET | 0xffff;
	errno = 0;
	expect(ioctl(device, VFIO_DEVICE_FEATURE, &feat), ENOTTY, "unknown feature");
	errno = 0;
	expect(ioctl(device, _IO(VFIO_TYPE, VFIO_BASE + 99), 0), ENOTTY, "unknown ioctl");

	return tap_done();
}
