/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the VM test programs: opening a device through its IOMMU group
 * and the legacy type1 container.
 */
#ifndef VFIO_TEST_H
#define VFIO_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

/* Prints a TAP bail-out line for `what` with errno's text and exits 1. */
static inline void vfio_test_die(const char *what)
{
	printf("not ok - %s: %s\n", what, strerror(errno));
	exit(1);
}

/*
 * Opens the device `bdf` through its group: sets up a type1v2 container
 * and returns the device fd; the container and group fds go to `*container`
 * and `*group` (close them after the device to release the group).  Exits
 * on any failure.
 */
static inline int vfio_test_open_group(const char *bdf, int *container, int *group)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		vfio_test_die("iommu_group link");
	link[n] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	*container = open("/dev/vfio/vfio", O_RDWR);
	*group = open(path, O_RDWR);
	if (*container < 0 || *group < 0)
		vfio_test_die("open container/group");
	if (ioctl(*group, VFIO_GROUP_GET_STATUS, &status) ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE) ||
	    ioctl(*group, VFIO_GROUP_SET_CONTAINER, container) ||
	    ioctl(*container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		vfio_test_die("group/container setup");
	fd = ioctl(*group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (fd < 0)
		vfio_test_die("VFIO_GROUP_GET_DEVICE_FD");
	return fd;
}

#endif
