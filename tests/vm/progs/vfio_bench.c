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
 *   irq_dev   the device raises the interrupt, to eventfd read: a store
 *             through the mmap of BAR0 (igb: EIMS and EICS, MSI-X vector
 *             0; edu: its raise register, MSI), the driver's interrupt
 *             handler signals the eventfd, the read returns; the driver
 *             is not called for the store (igb and edu only); the
 *             interrupt is steered to CPU 0 and the benchmark runs there,
 *             so that its delivery does not depend on where the kernel
 *             placed it
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
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
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

/* How the device is made to raise its first interrupt vector. */
struct raiser {
	__u32 vendor_device;	/* PCI_VENDOR_ID | PCI_DEVICE_ID << 16 */
	__u32 index;		/* VFIO_PCI_MSIX_IRQ_INDEX or _MSI_ */
	__u32 setup[2][2];	/* stores (register, value) once, before */
	__u32 raise[2][2];	/* stores that raise vector 0 */
	__u32 ack[2];		/* store after each interrupt, untimed */
};

static const struct raiser raisers[] = {
	{	/* QEMU's igb (82576): GPIE.MSIX_MODE, EIAC bit 0 auto-clears
		 * the cause; EIMS unmasks vector 0, EICS sets its cause. */
		0x10c98086, VFIO_PCI_MSIX_IRQ_INDEX,
		{ { 0x1514, 0x10 }, { 0x152c, 1 } },
		{ { 0x1524, 1 }, { 0x1520, 1 } },
		{ 0, 0 },
	},
	{	/* QEMU's edu: 0x60 raises (MSI when enabled), 0x64 acks. */
		0x11e81234, VFIO_PCI_MSI_IRQ_INDEX,
		{ { 0, 0 }, { 0, 0 } },
		{ { 0x60, 1 }, { 0, 0 } },
		{ 0x64, 1 },
	},
};

static void store(volatile __u32 *regs, const __u32 *reg_val)
{
	if (reg_val[0] || reg_val[1])
		regs[reg_val[0] / 4] = reg_val[1];
}

/*
 * irq_dev: @efd is the eventfd of vector 0 of @index, enabled.  The
 * stores go through an mmap of BAR0, so that the driver runs only for
 * the interrupt.
 */
/*
 * Steers the interrupt of vector 0 of @bdf (named "vfio-msix[0](BDF)" or
 * "vfio-msi[0](BDF)" in /proc/interrupts, by both drivers) to CPU 0, and
 * moves the caller there.
 */
static void pin_irq(const char *bdf, __u32 index)
{
	char name[64], line[1024], path[64];
	cpu_set_t cpus;
	FILE *f;
	int irq = -1;

	snprintf(name, sizeof(name), "%s[0](%s)",
		 index == VFIO_PCI_MSIX_IRQ_INDEX ? "vfio-msix" : "vfio-msi", bdf);
	f = fopen("/proc/interrupts", "r");
	if (!f)
		die("/proc/interrupts");
	while (fgets(line, sizeof(line), f))
		if (strstr(line, name))
			irq = atoi(line);
	fclose(f);
	if (irq < 0) {
		errno = ENOENT;
		die(name);
	}
	snprintf(path, sizeof(path), "/proc/irq/%d/smp_affinity_list", irq);
	f = fopen(path, "w");
	if (!f || fputs("0\n", f) < 0 || fclose(f))
		die(path);
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		die("sched_setaffinity");
}

static void bench_irq_dev(const char *bdf, __u32 index, int efd, __u64 *t, int n)
{
	struct vfio_region_info r = { .argsz = sizeof(r), .index = VFIO_PCI_BAR0_REGION_INDEX };
	const struct raiser *ra = NULL;
	volatile __u32 *regs;
	__u16 command;
	__u32 id;
	__u64 v, t0;
	unsigned int k;
	int i;

	if (pread(device, &id, 4, cfg + PCI_VENDOR_ID) != 4)
		die("config read");
	for (k = 0; k < sizeof(raisers) / sizeof(raisers[0]); k++)
		if (raisers[k].vendor_device == id && raisers[k].index == index)
			ra = &raisers[k];
	if (!ra)
		return;
	pin_irq(bdf, index);
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &r) ||
	    !(r.flags & VFIO_REGION_INFO_FLAG_MMAP))
		die("BAR0 region info");
	regs = mmap(NULL, r.size, PROT_READ | PROT_WRITE, MAP_SHARED, device, r.offset);
	if (regs == MAP_FAILED)
		die("BAR0 mmap");
	/* The device must decode memory and master its MSI writes. */
	if (pread(device, &command, 2, cfg + PCI_COMMAND) != 2)
		die("config read");
	command |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(device, &command, 2, cfg + PCI_COMMAND) != 2)
		die("config write");
	store(regs, ra->setup[0]);
	store(regs, ra->setup[1]);
	/* One untimed round: the first store faults the BAR's page in. */
	for (i = -1; i < n; i++) {
		t0 = now_ns();
		store(regs, ra->raise[0]);
		store(regs, ra->raise[1]);
		if (read(efd, &v, 8) != 8)
			die("device interrupt");
		if (i >= 0)
			t[i] = now_ns() - t0;
		store(regs, ra->ack);
	}
	report("irq_dev", t, n);
	munmap((void *)regs, r.size);
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
	bench_irq_dev(argv[1], index, efd, t, n);
	set_irqs(index, VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE, 0, -1);
	close(device);
	return 0;
}
