// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_irqbypass - the IRQ bypass producers of MSI/MSI-X vectors, seen from
 * a consumer: tests/vm/irqbypass_consumer (loaded by the plan's
 * test_vfio_irqbypass) stands in for KVM's irqfd and records the producers
 * the IRQ bypass manager connects to the consumers we register for our
 * eventfds.  Run on QEMU's igb (8086:10c9), whose MSI-X vectors we fire
 * through EICS to see that a vector works with or without a bypass.
 *
 * Checks, against the vector's Linux irq as /proc/interrupts names it
 * (vfio-msix[N](BDF), and listed in the device's msi_irqs/):
 *   - a consumer registered before the trigger is set connects when it is;
 *     one registered after connects at once;
 *   - trigger -1 disconnects, a new eventfd reconnects on the new one;
 *   - an eventfd already used by another vector: the producer is refused
 *     (dev_info "registration fails: -16"), the vector still interrupts;
 *   - a consumer that refuses the producer (fail_add): dev_info with its
 *     error, the vector still interrupts, a later consumer does not connect
 *     (the manager does not retry) until the trigger is set again;
 *   - disabling MSI-X disconnects every consumer, enabling reconnects;
 *   - MSI: vector 0 connects with its irq (vfio-msi[0](BDF));
 *   - closing the device with MSI-X on disconnects everything, and no
 *     producer is left under our eventfds afterwards.
 *
 * Usage: vfio_irqbypass DDDD:BB:DD.F
 *
 * Prints one TAP line per check and exits 1 if any failed.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "tap.h"

#include "vfio_test.h"

#define DBG "/sys/kernel/debug/irqbypass_consumer/"

/* igb (82576) registers for firing MSI-X vector N through cause bit N. */
#define E1000_GPIE		0x01514
#define E1000_GPIE_MSIX_MODE	0x00000010
#define E1000_EICS		0x01520
#define E1000_EIMS		0x01524
#define E1000_EIMC		0x01528
#define E1000_EIAC		0x0152C

#define NVEC 4

static int device;
static const char *bdf;
static __u64 bar0, config;

/* Writes @s to debugfs file @name; returns 0 or the errno. */
static int dbg_write(const char *name, const char *s)
{
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), DBG "%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		die(path);
	if (write(fd, s, strlen(s)) < 0)
		ret = errno;
	close(fd);
	return ret;
}

static int dbg_write_int(const char *name, int v)
{
	char s[16];

	snprintf(s, sizeof(s), "%d", v);
	return dbg_write(name, s);
}

/* Reads debugfs file @name into @buf (NUL-terminated). */
static void dbg_read(const char *name, char *buf, size_t size)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), DBG "%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	n = read(fd, buf, size - 1);
	if (n < 0)
		die(path);
	buf[n] = 0;
	close(fd);
}

/*
 * The irq of the producer connected to the consumer tagged @tag (its
 * eventfd's fd number): -1 for none, -2 if there is no such consumer.
 */
static int connected(int tag)
{
	char buf[4096], *line, *save, what[16];
	int t;

	dbg_read("consumers", buf, sizeof(buf));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%d %15s", &t, what) != 2 || t != tag)
			continue;
		return strcmp(what, "none") ? atoi(what) : -1;
	}
	return -2;
}

/* The events the consumers saw since the last call, as one line. */
static const char *events(void)
{
	static char buf[8192];
	char *p;

	dbg_read("events", buf, sizeof(buf));
	for (p = buf; *p; p++)
		if (*p == '\n')
			*p = ';';
	dbg_write("events", "0");
	return buf;
}

/* The Linux irq of vector @nr (vfio-msi or vfio-msix) from /proc/interrupts, -1 if none. */
static int vector_irq(bool msix, int nr)
{
	char line[1024], name[128];
	int irq = -1;
	FILE *f;

	snprintf(name, sizeof(name), "vfio-msi%s[%d](%s)", msix ? "x" : "", nr, bdf);
	f = fopen("/proc/interrupts", "r");
	if (!f)
		die("/proc/interrupts");
	while (fgets(line, sizeof(line), f)) {
		char *end = line + strlen(line);

		while (end > line && (end[-1] == '\n' || end[-1] == ' '))
			*--end = 0;
		if (end - line >= (long)strlen(name) && !strcmp(end - strlen(name), name)) {
			irq = atoi(line);
			break;
		}
	}
	fclose(f);
	return irq;
}

/* Whether @irq is listed in the device's msi_irqs/. */
static bool in_msi_irqs(int irq)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/msi_irqs/%d", bdf, irq);
	return access(path, F_OK) == 0;
}

/* Occurrences of @s in the kernel log. */
static int klog_count(const char *s)
{
	static char buf[1 << 20];
	int n = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0), count = 0;
	char *p;

	if (n <= 0 || n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, n);
	if (n < 0)
		die("klogctl");
	buf[n] = 0;
	for (p = buf; (p = strstr(p, s)); p++)
		count++;
	return count;
}

/* Has igb raise MSI-X vector @nr (cause bit @nr, auto-cleared). */
static void fire(int nr)
{
	vfio_test_bar_write32(device, bar0, E1000_EIMS, 1u << nr);
	vfio_test_bar_write32(device, bar0, E1000_EICS, 1u << nr);
}

/* VFIO_DEVICE_SET_IRQS with eventfds @fds[0..count) from vector @start. */
static int set_fds(__u32 index, __u32 start, __u32 count, const int *fds)
{
	struct {
		struct vfio_irq_set set;
		__s32 fds[NVEC];
	} s = {
		.set = {
			.argsz = sizeof(s.set) + count * 4,
			.flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = index, .start = start, .count = count,
		},
	};

	memcpy(s.fds, fds, count * 4);
	return ioctl(device, VFIO_DEVICE_SET_IRQS, &s);
}

static int set_fd(__u32 index, __u32 nr, int fd)
{
	return set_fds(index, nr, 1, &fd);
}

static int disable(__u32 index)
{
	struct vfio_irq_set s = {
		.argsz = sizeof(s),
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		.index = index,
	};

	return ioctl(device, VFIO_DEVICE_SET_IRQS, &s);
}

static int new_eventfd(void)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);

	if (fd < 0)
		die("eventfd");
	return fd;
}

static int open_device(int *container, int *group)
{
	struct vfio_region_info info = { .argsz = sizeof(info) };
	int fd = vfio_test_open_group(bdf, container, group);

	info.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &info))
		die("GET_REGION_INFO BAR0");
	bar0 = info.offset;
	info.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &info))
		die("GET_REGION_INFO config");
	config = info.offset;
	return fd;
}

/* Checks that consumer @tag is connected to vector @nr's irq. */
static void check_connected(int tag, bool msix, int nr, const char *what)
{
	int want = vector_irq(msix, nr), got = connected(tag);

	check(want > 0 && got == want, what, "consumer irq %d, vector %d irq %d", got, nr, want);
}

static void check_none(int tag, const char *what)
{
	int got = connected(tag);

	check(got == -1, what, "consumer irq %d", got);
}

static void check_events(const char *want, const char *what)
{
	const char *got = events();

	check(!strcmp(got, want), what, "events '%s', want '%s'", got, want);
}

int main(int argc, char **argv)
{
	int container, group, e[NVEC], e1b, e4, irq[NVEC], i, ret, busy, refused;
	struct vfio_irq_info msi = { .argsz = sizeof(msi), .index = VFIO_PCI_MSI_IRQ_INDEX };
	char want[512];
	__u64 v;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BDF\n", argv[0]);
		return 2;
	}
	bdf = argv[1];
	if (access(DBG "register", W_OK))
		die("irqbypass_consumer not loaded (" DBG ")");
	device = open_device(&container, &group);
	events();
	for (i = 0; i < NVEC; i++)
		e[i] = new_eventfd();
	e1b = new_eventfd();
	e4 = new_eventfd();

	/* A consumer before its producer. */
	ret = dbg_write_int("register", e[0]);
	check(!ret, "consumer of e0 registered before MSI-X is on", "errno %d", ret);
	check_none(e[0], "no producer yet");
	ret = dbg_write_int("register", e[0]);
	check(ret == EBUSY, "a second consumer of e0: EBUSY", "errno %d", ret);

	ret = set_fds(VFIO_PCI_MSIX_IRQ_INDEX, 0, NVEC, e);
	check(!ret, "MSI-X vectors 0-3 on with eventfds", "ret %d errno %d", ret, errno);
	for (i = 0; i < NVEC; i++) {
		irq[i] = vector_irq(true, i);
		check(irq[i] > 0 && in_msi_irqs(irq[i]), "vector's irq in /proc/interrupts and msi_irqs",
		      "vector %d irq %d", i, irq[i]);
	}
	check_connected(e[0], true, 0, "consumer registered first connects when the trigger is set");
	snprintf(want, sizeof(want), "add %d %d;", e[0], irq[0]);
	check_events(want, "one add_producer with vector 0's irq");

	/* Consumers after their producers. */
	for (i = 1; i < 3; i++) {
		ret = dbg_write_int("register", e[i]);
		check(!ret, "consumer registered after the producer", "errno %d", ret);
		check_connected(e[i], true, i, "it connects at once with the vector's irq");
	}
	snprintf(want, sizeof(want), "add %d %d;add %d %d;", e[1], irq[1], e[2], irq[2]);
	check_events(want, "add_producer for vectors 1 and 2, nothing else");

	/* The vectors interrupt. */
	vfio_test_cfg_write16(device, config, PCI_COMMAND,
			      vfio_test_cfg_read16(device, config, PCI_COMMAND) |
			      PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	vfio_test_bar_write32(device, bar0, E1000_GPIE, E1000_GPIE_MSIX_MODE);
	vfio_test_bar_write32(device, bar0, E1000_EIAC, (1u << NVEC) - 1);
	for (i = 0; i < NVEC; i++) {
		vfio_test_wait_event(e[i], 0);
		fire(i);
		v = vfio_test_wait_event(e[i], 2000);
		check(v == 1, "vector interrupts through its eventfd", "vector %d counter %llu", i,
		      (unsigned long long)v);
	}

	/* Trigger -1 disconnects; a new eventfd reconnects. */
	ret = set_fd(VFIO_PCI_MSIX_IRQ_INDEX, 1, -1);
	check(!ret, "vector 1 trigger -1", "ret %d errno %d", ret, errno);
	check_none(e[1], "its consumer is disconnected");
	snprintf(want, sizeof(want), "del %d %d;", e[1], irq[1]);
	check_events(want, "one del_producer with vector 1's irq");
	check_connected(e[0], true, 0, "vector 0 stays connected");
	check_connected(e[2], true, 2, "vector 2 stays connected");

	ret = dbg_write_int("register", e1b);
	check(!ret, "consumer of a new eventfd e1b", "errno %d", ret);
	ret = set_fd(VFIO_PCI_MSIX_IRQ_INDEX, 1, e1b);
	check(!ret, "vector 1 trigger e1b", "ret %d errno %d", ret, errno);
	check_connected(e1b, true, 1, "e1b's consumer connects with vector 1's irq");
	check_none(e[1], "e1's consumer stays disconnected");
	ret = set_fd(VFIO_PCI_MSIX_IRQ_INDEX, 1, e[1]);
	check(!ret, "vector 1 trigger back to e1", "ret %d errno %d", ret, errno);
	check_connected(e[1], true, 1, "e1's consumer reconnects");
	check_none(e1b, "e1b's consumer disconnects");
	snprintf(want, sizeof(want), "add %d %d;del %d %d;add %d %d;", e1b, irq[1], e1b, irq[1],
		 e[1], irq[1]);
	check_events(want, "add e1b, del e1b, add e1");

	/* An eventfd that another vector's producer holds: refused, vector works. */
	busy = klog_count("registration fails: -16");
	ret = set_fd(VFIO_PCI_MSIX_IRQ_INDEX, 3, e[2]);
	check(!ret, "vector 3 trigger e2, vector 2's eventfd: accepted", "ret %d errno %d", ret,
	      errno);
	check(klog_count("registration fails: -16") == busy + 1,
	      "dev_info: irq bypass producer registration fails: -16", "%d lines before, %d after",
	      busy, klog_count("registration fails: -16"));
	check_connected(e[2], true, 2, "e2's consumer stays on vector 2");
	check_events("", "no callbacks");
	vfio_test_wait_event(e[2], 0);
	fire(3);
	v = vfio_test_wait_event(e[2], 2000);
	check(v == 1, "vector 3 without a producer still interrupts", "counter %llu",
	      (unsigned long long)v);
	ret = set_fd(VFIO_PCI_MSIX_IRQ_INDEX, 2, -1);
	check(!ret, "vector 2 trigger -1", "ret %d errno %d", ret, errno);
	check_none(e[2], "e2's consumer disconnects: vector 3 has no producer to offer");
	ret = set_fds(VFIO_PCI_MSIX_IRQ_INDEX, 2, 2, &e[2]);
	check(!ret, "vectors 2, 3 back to e2, e3", "ret %d errno %d", ret, errno);
	check_connected(e[2], true, 2, "e2's consumer reconnects to vector 2");
	snprintf(want, sizeof(want), "del %d %d;add %d %d;", e[2], irq[2], e[2], irq[2]);
	check_events(want, "del and add of vector 2 only");

	/* A consumer that refuses the producer. */
	ret = set_fd(VFIO_PCI_MSIX_IRQ_INDEX, 1, -1);
	check(!ret, "vector 1 trigger -1", "ret %d errno %d", ret, errno);
	ret = dbg_write_int("register", e4);
	check(!ret, "consumer of e4", "errno %d", ret);
	dbg_write_int("fail_add", EOPNOTSUPP);
	refused = klog_count("registration fails: -95");
	ret = set_fd(VFIO_PCI_MSIX_IRQ_INDEX, 1, e4);
	dbg_write_int("fail_add", 0);
	check(!ret, "vector 1 trigger e4 while the consumer refuses: accepted", "ret %d errno %d",
	      ret, errno);
	check(klog_count("registration fails: -95") == refused + 1,
	      "dev_info: irq bypass producer registration fails: -95", "%d lines before, %d after",
	      refused, klog_count("registration fails: -95"));
	check_none(e4, "e4's consumer is not connected");
	snprintf(want, sizeof(want), "del %d %d;refuse %d %d;", e[1], irq[1], e4, irq[1]);
	check_events(want, "del e1, then the refused add_producer");
	vfio_test_wait_event(e4, 0);
	fire(1);
	v = vfio_test_wait_event(e4, 2000);
	check(v == 1, "vector 1 without a producer still interrupts", "counter %llu",
	      (unsigned long long)v);
	ret = dbg_write_int("unregister", e4);
	check(!ret, "e4's consumer unregistered", "errno %d", ret);
	ret = dbg_write_int("register", e4);
	check(!ret, "and registered again", "errno %d", ret);
	check_none(e4, "still not connected: the refused producer is not registered");
	ret = set_fd(VFIO_PCI_MSIX_IRQ_INDEX, 1, e4);
	check(!ret, "vector 1 trigger e4 again", "ret %d errno %d", ret, errno);
	check_connected(e4, true, 1, "now e4's consumer connects");
	ret = set_fd(VFIO_PCI_MSIX_IRQ_INDEX, 1, e[1]);
	check(!ret, "vector 1 back to e1", "ret %d errno %d", ret, errno);
	snprintf(want, sizeof(want), "add %d %d;del %d %d;add %d %d;", e4, irq[1], e4, irq[1],
		 e[1], irq[1]);
	check_events(want, "add e4, del e4, add e1");

	/* Disabling MSI-X disconnects all; enabling reconnects. */
	ret = dbg_write_int("register", e[3]);
	check(!ret, "consumer of e3", "errno %d", ret);
	check_connected(e[3], true, 3, "connects to vector 3");
	events();
	ret = disable(VFIO_PCI_MSIX_IRQ_INDEX);
	check(!ret, "MSI-X off", "ret %d errno %d", ret, errno);
	for (i = 0; i < NVEC; i++)
		check_none(e[i], "every consumer disconnected");
	want[0] = 0;
	for (i = 0; i < NVEC; i++)
		snprintf(want + strlen(want), sizeof(want) - strlen(want), "del %d %d;", e[i], irq[i]);
	check_events(want, "one del_producer per vector, in vector order");
	ret = set_fds(VFIO_PCI_MSIX_IRQ_INDEX, 0, NVEC, e);
	check(!ret, "MSI-X on again", "ret %d errno %d", ret, errno);
	for (i = 0; i < NVEC; i++)
		check_connected(e[i], true, i, "every consumer reconnected with its vector's irq");
	ret = disable(VFIO_PCI_MSIX_IRQ_INDEX);
	check(!ret, "MSI-X off", "ret %d errno %d", ret, errno);

	/* MSI, if the device has it. */
	events();
	if (ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &msi) || !msi.count) {
		printf("ok %u - MSI # SKIP no MSI (count %u)\n", ++checks, msi.count);
		goto close;
	}
	ret = set_fds(VFIO_PCI_MSI_IRQ_INDEX, 0, 1, e);
	check(!ret, "MSI vector 0 on with e0", "ret %d errno %d", ret, errno);
	irq[0] = vector_irq(false, 0);
	check(irq[0] > 0 && in_msi_irqs(irq[0]), "MSI vector's irq in /proc/interrupts and msi_irqs",
	      "irq %d", irq[0]);
	check_connected(e[0], false, 0, "MSI: e0's consumer connects with the vector's irq");
	ret = disable(VFIO_PCI_MSI_IRQ_INDEX);
	check(!ret, "MSI off", "ret %d errno %d", ret, errno);
	check_none(e[0], "MSI off: disconnected");
	snprintf(want, sizeof(want), "add %d %d;del %d %d;", e[0], irq[0], e[0], irq[0]);
	check_events(want, "MSI: one add, one del");

close:
	/* Close with MSI-X on. */
	ret = set_fds(VFIO_PCI_MSIX_IRQ_INDEX, 0, NVEC, e);
	check(!ret, "MSI-X on again", "ret %d errno %d", ret, errno);
	for (i = 0; i < NVEC; i++)
		check_connected(e[i], true, i, "connected before close");
	close(device);
	close(group);
	close(container);
	for (i = 0; i < NVEC; i++)
		check_none(e[i], "closing the device disconnects every consumer");
	/* A producer left under e0 would connect to a new consumer of e0. */
	ret = dbg_write_int("unregister", e[0]);
	check(!ret, "e0's consumer unregistered", "errno %d", ret);
	ret = dbg_write_int("register", e[0]);
	check(!ret, "and registered again", "errno %d", ret);
	check_none(e[0], "no producer left under e0");
	for (i = 0; i < NVEC; i++) {
		ret = dbg_write_int("unregister", e[i]);
		check(!ret, "consumer unregistered", "errno %d", ret);
	}
	ret = dbg_write_int("unregister", e1b);
	check(!ret, "consumer unregistered", "errno %d", ret);
	ret = dbg_write_int("unregister", e4);
	check(!ret, "consumer unregistered", "errno %d", ret);
	ret = dbg_write_int("unregister", e4);
	check(ret == ENOENT, "unregistering again: ENOENT", "errno %d", ret);
	check(connected(e[0]) == -2, "no consumer left", "consumer of e0: %d", connected(e[0]));

	return tap_done();
}
