// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrent ioctls on one device fd: five threads for a few seconds,
 * each hammering one area of the uAPI while the others change the state
 * it depends on (interrupts on and off, memory decode toggled through the
 * COMMAND register, function resets, BAR and config accesses, ioeventfds,
 * info queries).  Every call must succeed or fail with an errno the C
 * driver gives for that race (EIO for a BAR access while memory decode is
 * off, EBUSY/EAGAIN for a reset that cannot lock); the kernel log must stay
 * clean (the harness checks it: no lockdep report, no WARNING).
 *
 *   vfio_stress <bdf> [seconds]
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "vfio_test.h"

static int device;
static uint64_t cfg_off, bar0_off, bar0_size;
static atomic_bool stop;

struct worker {
	const char *name;
	void *(*fn)(void *);
	unsigned long calls;
	unsigned long errs[256];
	int allowed[4];
};

static void note(struct worker *w, int ret)
{
	w->calls++;
	if (ret < 0)
		w->errs[errno & 0xff]++;
}

static void *irqs(void *arg)
{
	struct worker *w = arg;
	struct vfio_irq_info info = { .argsz = sizeof(info), .index = VFIO_PCI_MSIX_IRQ_INDEX };
	int efd = eventfd(0, 0), index;

	if (ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &info) || !info.count)
		info.index = VFIO_PCI_MSI_IRQ_INDEX;
	index = info.index;
	while (!stop) {
		note(w, vfio_test_set_irqs(device, index,
					   VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
					   0, 1, efd));
		note(w, vfio_test_set_irqs(device, index,
					   VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
					   0, 0, 0));
	}
	close(efd);
	return NULL;
}

static void *config(void *arg)
{
	struct worker *w = arg;
	uint8_t space[256];
	uint16_t cmd;

	while (!stop) {
		note(w, pread(device, space, sizeof(space), cfg_off) == sizeof(space) ? 0 : -1);
		if (pread(device, &cmd, 2, cfg_off + 4) != 2) {
			note(w, -1);
			continue;
		}
		cmd ^= 0x2; /* memory decode off, then on again */
		note(w, pwrite(device, &cmd, 2, cfg_off + 4) == 2 ? 0 : -1);
		cmd ^= 0x2;
		note(w, pwrite(device, &cmd, 2, cfg_off + 4) == 2 ? 0 : -1);
	}
	return NULL;
}

static void *resets(void *arg)
{
	struct worker *w = arg;

	while (!stop) {
		note(w, ioctl(device, VFIO_DEVICE_RESET));
		usleep(20000);
	}
	return NULL;
}

static void *bars(void *arg)
{
	struct worker *w = arg;
	uint32_t v;
	uint64_t off = 0;

	while (!stop) {
		note(w, pread(device, &v, 4, bar0_off + off) == 4 ? 0 : -1);
		off = (off + 4) % (bar0_size < 4096 ? bar0_size : 4096);
	}
	return NULL;
}

static void *misc(void *arg)
{
	struct worker *w = arg;
	struct vfio_region_info reg = { .argsz = sizeof(reg) };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_device_ioeventfd ioe = {
		.argsz = sizeof(ioe),
		.flags = VFIO_DEVICE_IOEVENTFD_32,
		.data = 0,
	};
	int efd = eventfd(0, 0);

	ioe.offset = bar0_off + 0x10;
	while (!stop) {
		note(w, ioctl(device, VFIO_DEVICE_GET_INFO, &info));
		reg.index = (reg.index + 1) % VFIO_PCI_NUM_REGIONS;
		reg.argsz = sizeof(reg);
		ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &reg);
		ioe.fd = efd;
		note(w, ioctl(device, VFIO_DEVICE_IOEVENTFD, &ioe));
		ioe.fd = -1;
		note(w, ioctl(device, VFIO_DEVICE_IOEVENTFD, &ioe));
	}
	close(efd);
	return NULL;
}

int main(int argc, char **argv)
{
	int container, group;
	struct worker workers[] = {
		{ "irqs", irqs, .allowed = { 0 } },
		{ "config", config, .allowed = { 0 } },
		{ "resets", resets, .allowed = { EAGAIN, EBUSY, 0, 0 } },
		{ "bars", bars, .allowed = { EIO, 0 } },
		{ "misc", misc, .allowed = { 0 } },
	};
	struct vfio_region_info reg = { .argsz = sizeof(reg) };
	unsigned int secs = argc > 2 ? atoi(argv[2]) : 5, failures = 0;
	pthread_t t[5];

	if (argc < 2) {
		fprintf(stderr, "usage: %s <bdf> [seconds]\n", argv[0]);
		return 2;
	}
	device = vfio_test_open_group(argv[1], &container, &group);
	reg.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &reg))
		vfio_test_die("config region");
	cfg_off = reg.offset;
	reg.index = VFIO_PCI_BAR0_REGION_INDEX;
	reg.argsz = sizeof(reg);
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &reg) || !reg.size)
		vfio_test_die("BAR0 region");
	bar0_off = reg.offset;
	bar0_size = reg.size;

	/* A device without a function reset (edu) answers every reset EINVAL. */
	struct vfio_device_info info = { .argsz = sizeof(info) };

	if (ioctl(device, VFIO_DEVICE_GET_INFO, &info))
		vfio_test_die("GET_INFO");
	if (!(info.flags & VFIO_DEVICE_FLAGS_RESET))
		workers[2].allowed[2] = EINVAL;

	for (int i = 0; i < 5; i++)
		pthread_create(&t[i], NULL, workers[i].fn, &workers[i]);
	sleep(secs);
	stop = true;
	for (int i = 0; i < 5; i++)
		pthread_join(t[i], NULL);

	for (int i = 0; i < 5; i++) {
		struct worker *w = &workers[i];
		unsigned long bad = 0;

		for (int e = 1; e < 256; e++) {
			int ok = 0;

			if (!w->errs[e])
				continue;
			for (int a = 0; a < 4 && w->allowed[a]; a++)
				ok |= w->allowed[a] == e;
			printf("# %s: %lu calls failed with %s%s\n", w->name, w->errs[e], strerror(e),
			       ok ? " (expected: the C driver answers the same)" : "");
			if (!ok)
				bad += w->errs[e];
		}
		printf("%s %d - %s: %lu calls, %lu unexpected errors\n", bad ? "not ok" : "ok",
		       i + 1, w->name, w->calls, bad);
		failures += bad != 0;
	}
	printf("1..5\n");
	return failures ? 1 : 0;
}
