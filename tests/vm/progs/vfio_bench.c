// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_bench - latency of the VFIO paths a VMM exercises, for comparing
 * the in-tree C vfio-pci with ours in the same VM (a benchmark, not a test:
 * it prints figures and fails only if a call fails).
 *
 * Measures, each as the median of N runs in nanoseconds:
 *   open      open the device fd (group path) and close it: enable, reset,
 *             config init, and on close the teardown
 *   cfg_read  a 4-byte config space read through the fd (COMMAND)
 *   cfg_write a 2-byte config space write (COMMAND, same value)
 *   bar_read  a 4-byte BAR0 read through the fd
 *   bar_write a 4-byte BAR0 write through the fd (to offset 0x04 of edu,
 *             or to a harmless register given with -w)
 *   msix_on_off  SET_IRQS enable of one MSI-X vector with an eventfd plus
 *             disable (igb); MSI on devices without MSI-X
 *   msix_on_off_cpu  the calling thread's CPU time per toggle
 *             (CLOCK_THREAD_CPUTIME_ID): wall time minus this is time the
 *             thread spent off the CPU, sleeping or preempted
 *   open_csw  voluntary context switches per 1000 opens
 *   msix_on_off_csw  voluntary context switches per 1000 toggles
 *             (getrusage of this single-threaded process), i.e. how often a
 *             toggle sleeps
 *   irq_loop  loopback trigger (SET_IRQS DATA_NONE) to eventfd read
 *
 * Usage: vfio_bench BDF [iterations [opens]]
 *   iterations  runs of each access figure (default, or "-": 2000; a
 *               tenth of it for the interrupt toggle)
 *   opens       runs of open (default a tenth of iterations): igb's takes
 *               about 0.2 s, its FLR's waits, so tests/vm/bench.sh asks
 *               for fewer to keep its rounds short
 * Output: "BENCH <name> <median_ns> <p90_ns> <iterations> <p10_ns> <min_ns>"
 * per line; "BENCH <name> <count>" for open_csw and msix_on_off_csw.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

static int group, device;
static __u64 cfg, bar0;

static void die(const char *what)
{
	fprintf(stderr, "vfio_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static __u64 clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static __u64 now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* The calling thread's CPU time. */
static __u64 cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static long voluntary_switches(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		die("getrusage");
	return ru.ru_nvcsw;
}

static int cmp(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *name, __u64 *t, int n)
{
	qsort(t, n, sizeof(*t), cmp);
	printf("BENCH %s %llu %llu %d %llu %llu\n", name, (unsigned long long)t[n / 2],
	       (unsigned long long)t[n * 9 / 10], n, (unsigned long long)t[n / 10],
	       (unsigned long long)t[0]);
}

static void setup(const char *bdf)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], link[PATH_MAX];
	int container;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		die("iommu_group");
	link[n] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	container = open("/dev/vfio/vfio", O_RDWR);
	group = open(path, O_RDWR);
	if (container < 0 || group < 0 ||
	    ioctl(group, VFIO_GROUP_GET_STATUS, &status) ||
	    ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
	    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		die("group setup");
}

static __u64 region(__u32 index)
{
	struct vfio_region_info r = { .argsz = sizeof(r), .index = index };

	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &r))
		die("GET_REGION_INFO");
	return r.offset;
}

static int set_irqs(__u32 index, __u32 flags, __u32 count, int fd)
{
	struct {
		struct vfio_irq_set s;
		__s32 fd;
	} a = { .s = { .argsz = sizeof(a), .flags = flags, .index = index, .count = count },
		.fd = fd };

	return ioctl(device, VFIO_DEVICE_SET_IRQS, &a);
}

int main(int argc, char **argv)
{
	struct vfio_irq_info msix = { .argsz = sizeof(msix), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	int n = argc > 2 && strcmp(argv[2], "-") ? atoi(argv[2]) : 2000, i, efd, index, opens;
	__u64 *t, *c, t0, c0, v;
	const char *name;
	char cpu_name[32];
	long csw;
	__u32 val;
	__u16 cmd;

	opens = argc > 3 ? atoi(argv[3]) : n / 10;
	if (argc < 2 || n < 10 || opens < 1 || opens > n)
		return fprintf(stderr, "usage: %s BDF [iterations >= 10 [opens, 1..iterations]]\n",
			       argv[0]), 2;
	t = calloc(n, sizeof(*t));
	c = calloc(n, sizeof(*c));
	if (!t || !c)
		die("calloc");
	setup(argv[1]);

	csw = voluntary_switches();
	for (i = 0; i < opens; i++) {
		t0 = now_ns();
		device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[1]);
		if (device < 0)
			die("GET_DEVICE_FD");
		close(device);
		t[i] = now_ns() - t0;
	}
	report("open", t, opens);
	printf("BENCH open_csw %ld\n", (voluntary_switches() - csw) * 1000 / opens);

	device = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, argv[1]);
	if (device < 0)
		die("GET_DEVICE_FD");
	cfg = region(VFIO_PCI_CONFIG_REGION_INDEX);
	bar0 = region(VFIO_PCI_BAR0_REGION_INDEX);
	if (pread(device, &cmd, 2, cfg + PCI_COMMAND) != 2)
		die("config read");
	cmd |= PCI_COMMAND_MEMORY;
	if (pwrite(device, &cmd, 2, cfg + PCI_COMMAND) != 2)
		die("config write");

	for (i = 0; i < n; i++) {
		t0 = now_ns();
		if (pread(device, &val, 4, cfg + PCI_COMMAND) != 4)
			die("config read");
		t[i] = now_ns() - t0;
	}
	report("cfg_read", t, n);
	for (i = 0; i < n; i++) {
		t0 = now_ns();
		if (pwrite(device, &cmd, 2, cfg + PCI_COMMAND) != 2)
			die("config write");
		t[i] = now_ns() - t0;
	}
	report("cfg_write", t, n);
	for (i = 0; i < n; i++) {
		t0 = now_ns();
		if (pread(device, &val, 4, bar0) != 4)
			die("BAR read");
		t[i] = now_ns() - t0;
	}
	report("bar_read", t, n);
	for (i = 0; i < n; i++) {
		val = i;
		t0 = now_ns();
		/* edu: 0x04 is the liveness register; igb: 0x04 is STATUS (read-only). */
		if (pwrite(device, &val, 4, bar0 + 4) != 4)
			die("BAR write");
		t[i] = now_ns() - t0;
	}
	report("bar_write", t, n);

	efd = eventfd(0, 0);
	if (efd < 0)
		die("eventfd");
	index = ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &msix) == 0 && msix.count ?
		VFIO_PCI_MSIX_IRQ_INDEX : VFIO_PCI_MSI_IRQ_INDEX;
	csw = voluntary_switches();
	for (i = 0; i < n / 10; i++) {
		c0 = cpu_ns();
		t0 = now_ns();
		if (set_irqs(index, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD, 1, efd) ||
		    set_irqs(index, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE, 0, -1))
			die("SET_IRQS enable/disable");
		t[i] = now_ns() - t0;
		c[i] = cpu_ns() - c0;
	}
	csw = voluntary_switches() - csw;
	name = index == VFIO_PCI_MSIX_IRQ_INDEX ? "msix_on_off" : "msi_on_off";
	report(name, t, n / 10);
	snprintf(cpu_name, sizeof(cpu_name), "%s_cpu", name);
	report(cpu_name, c, n / 10);
	printf("BENCH %s_csw %ld\n", name, csw * 1000 / (n / 10));

	if (set_irqs(index, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_EVENTFD, 1, efd))
		die("SET_IRQS enable");
	for (i = 0; i < n; i++) {
		t0 = now_ns();
		if (set_irqs(index, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE, 1, -1) ||
		    read(efd, &v, 8) != 8)
			die("loopback");
		t[i] = now_ns() - t0;
	}
	report("irq_loop", t, n);
	set_irqs(index, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE, 0, -1);
	close(device);
	return 0;
}
