// SPDX-License-Identifier: GPL-2.0
/*
 * Unbinding a device that userspace holds open: the driver must ask for it
 * back through the REQ eventfd (VFIO_PCI_REQ_IRQ_INDEX), keep waiting
 * until the last fd is closed, and only then let the unbind finish.  Then
 * the same without a REQ eventfd (the driver can only wait).  Binds the
 * device back to vfio-pci at the end (its driver_override stays set), so
 * that later tests find it as before.
 *
 *   vfio_unbind_open <bdf>
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "tap.h"
#include "vfio_test.h"

static int container = -1, group = -1;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void close_all(int device)
{
	close(device);
	close(group);
	close(container);
	group = container = -1;
}


/* Starts a child that unbinds `bdf` from vfio-pci; returns its pid. */
static pid_t start_unbind(const char *bdf)
{
	pid_t pid = fork();

	if (pid < 0)
		vfio_test_die("fork");
	if (pid == 0) {
		/* The child must not hold the device open itself. */
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		_exit(vfio_test_write_sysfs("/sys/bus/pci/drivers/vfio-pci/unbind", bdf) ? 0 : 1);
	}
	return pid;
}

/* Whether the child has exited, within `secs`; its status in `*status`. */
static int reaped(pid_t pid, double secs, int *status)
{
	double end = now() + secs;

	do {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 1;
		usleep(20000);
	} while (now() < end);
	return 0;
}


static void rebind(const char *bdf)
{
	vfio_test_write_sysfs("/sys/bus/pci/drivers_probe", bdf);
	checkf(vfio_test_bound_to_vfio_pci(bdf), "rebind: bound to vfio-pci again");
}

/* With a REQ eventfd: the unbind signals it and waits for the close. */
static void with_req(const char *bdf)
{
	struct pollfd pfd;
	uint64_t count = 0;
	int device, efd, status = 0;
	pid_t child;
	double t;

	device = vfio_test_open_group(bdf, &container, &group);
	efd = eventfd(0, EFD_CLOEXEC);
	checkf(vfio_test_set_irqs(device, VFIO_PCI_REQ_IRQ_INDEX,
				  VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
				  0, 1, efd) == 0,
	       "SET_IRQS: REQ eventfd set");

	child = start_unbind(bdf);
	pfd.fd = efd;
	pfd.events = POLLIN;
	checkf(poll(&pfd, 1, 10000) == 1, "unbind: REQ eventfd signalled within 10 s");
	if (read(efd, &count, sizeof(count)) != sizeof(count))
		count = 0;
	checkf(count >= 1, "unbind: REQ count %llu", (unsigned long long)count);
	/* The unbind must still be waiting for us. */
	checkf(!reaped(child, 0.5, &status), "unbind: still waiting while the fd is open");
	t = now();
	close_all(device);
	close(efd);
	if (!reaped(child, 10, &status)) {
		checkf(0, "unbind: finished within 10 s of the close");
		kill(child, SIGKILL);
		exit(1);
	}
	checkf(1, "unbind: finished %.3f s after the close", now() - t);
	checkf(WIFEXITED(status) && WEXITSTATUS(status) == 0, "unbind: sysfs write succeeded");
	checkf(!vfio_test_bound_to_vfio_pci(bdf), "unbind: device unbound");
	rebind(bdf);
}

/* Without a REQ eventfd: the unbind can only wait for the close. */
static void without_req(const char *bdf)
{
	int device, status = 0;
	pid_t child;

	device = vfio_test_open_group(bdf, &container, &group);
	child = start_unbind(bdf);
	checkf(!reaped(child, 1.0, &status), "unbind without REQ: waits while the fd is open");
	close_all(device);
	if (!reaped(child, 10, &status)) {
		checkf(0, "unbind without REQ: finished within 10 s of the close");
		kill(child, SIGKILL);
		exit(1);
	}
	checkf(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "unbind without REQ: finished after the close, sysfs write succeeded");
	checkf(!vfio_test_bound_to_vfio_pci(bdf), "unbind without REQ: device unbound");
	rebind(bdf);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s <bdf>\n", argv[0]);
		return 2;
	}
	with_req(argv[1]);
	without_req(argv[1]);
	return tap_done();
}
