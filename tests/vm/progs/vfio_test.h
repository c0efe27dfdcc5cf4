/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the VM test programs: a device's sysfs links and attributes;
 * opening it through its IOMMU group and the legacy type1 container, or
 * through its VFIO cdev bound to an iommufd; mapping BAR0; config and BAR0
 * accesses and SET_IRQS calls through the device fd; waiting for an
 * eventfd.  Helpers that cannot return a failure end the program, through
 * vfio_test_die() or tap.h's die().
 */
#ifndef VFIO_TEST_H
#define VFIO_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "tap.h"

/*
 * Puts the last component of the target of the link
 * /sys/bus/pci/devices/BDF/ATTR in @name (the group number for
 * "iommu_group", the driver's name for "driver"); false if there is none
 * or it does not fit.
 */
static inline bool vfio_test_link_name(const char *bdf, const char *attr, char *name,
				       size_t size)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = 0;
	base = strrchr(link, '/');
	return snprintf(name, size, "%s", base ? base + 1 : link) < (int)size;
}

/* The IOMMU group number of device @bdf, or -1 if it has none. */
static inline int vfio_test_iommu_group(const char *bdf)
{
	char name[32];

	return vfio_test_link_name(bdf, "iommu_group", name, sizeof(name)) ? atoi(name) : -1;
}

/* Whether device @bdf is bound to vfio-pci. */
static inline bool vfio_test_bound_to_vfio_pci(const char *bdf)
{
	char name[64];

	return vfio_test_link_name(bdf, "driver", name, sizeof(name)) &&
	       !strcmp(name, "vfio-pci");
}

/*
 * Writes @val to the file @path: 0, or -1 if it could not be written whole,
 * with the errno of the open or the write (a sysfs or debugfs store's).
 */
static inline int vfio_test_write_file(const char *path, const char *val)
{
	ssize_t len = strlen(val);
	int fd = open(path, O_WRONLY), ret, err;

	if (fd < 0)
		return -1;
	ret = write(fd, val, len) == len ? 0 : -1;
	err = errno;
	close(fd);
	errno = err;
	return ret;
}

/* Writes @val to the sysfs file @path; false if it could not be written whole. */
static inline bool vfio_test_write_sysfs(const char *path, const char *val)
{
	return vfio_test_write_file(path, val) == 0;
}

/* Prints a TAP bail-out line for `what` with errno's text and exits 1. */
static inline void vfio_test_die(const char *what)
{
	printf("not ok - %s: %s\n", what, strerror(errno));
	exit(1);
}

/*
 * Opens the IOMMU group of device `bdf` and attaches it to a new type1v2
 * container; the container and group fds go to `*container` and `*group`.
 * Exits on any failure.
 */
static inline void vfio_test_setup_group(const char *bdf, int *container, int *group)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], name[32];

	if (!vfio_test_link_name(bdf, "iommu_group", name, sizeof(name)))
		vfio_test_die("iommu_group link");
	snprintf(path, sizeof(path), "/dev/vfio/%s", name);
	*container = open("/dev/vfio/vfio", O_RDWR);
	*group = open(path, O_RDWR);
	if (*container < 0 || *group < 0)
		vfio_test_die("open container/group");
	if (ioctl(*group, VFIO_GROUP_GET_STATUS, &status) ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE) ||
	    ioctl(*group, VFIO_GROUP_SET_CONTAINER, container) ||
	    ioctl(*container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		vfio_test_die("group/container setup");
}

/*
 * Opens the device `bdf` through its group (vfio_test_setup_group()) and
 * returns the device fd; close it before the group and the container to
 * release the group.  Exits on any failure.
 */
static inline int vfio_test_open_group(const char *bdf, int *container, int *group)
{
	int fd;

	vfio_test_setup_group(bdf, container, group);
	fd = ioctl(*group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (fd < 0)
		vfio_test_die("VFIO_GROUP_GET_DEVICE_FD");
	return fd;
}

/*
 * Puts the path of the VFIO cdev of `bdf` (/dev/vfio/devices/vfioX, from
 * /sys/bus/pci/devices/BDF/vfio-dev/) in `path`; false if it has none.
 */
static inline bool vfio_test_find_cdev(const char *bdf, char *path, size_t size)
{
	char dir_path[PATH_MAX];
	struct dirent *entry;
	bool found = false;
	DIR *dir;

	snprintf(dir_path, sizeof(dir_path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dir = opendir(dir_path);
	if (!dir)
		return false;
	while ((entry = readdir(dir))) {
		if (strncmp(entry->d_name, "vfio", 4))
			continue;
		snprintf(path, size, "/dev/vfio/devices/%s", entry->d_name);
		found = true;
		break;
	}
	closedir(dir);
	return found;
}

/*
 * Opens the VFIO cdev of `bdf` and binds it to a new iommufd, which goes to
 * `*iommufd`; returns the device fd, or -1 with both closed.
 */
static inline int vfio_test_open_cdev(const char *bdf, int *iommufd)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	char path[PATH_MAX] = "";
	int device;

	vfio_test_find_cdev(bdf, path, sizeof(path));
	device = open(path, O_RDWR);
	*iommufd = open("/dev/iommu", O_RDWR);
	bind.iommufd = *iommufd;
	if (device < 0 || *iommufd < 0 ||
	    ioctl(device, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		if (device >= 0)
			close(device);
		if (*iommufd >= 0)
			close(*iommufd);
		*iommufd = -1;
		return -1;
	}
	return device;
}

/* Maps BAR0 of the device fd `device` shared, its size to `*size`; NULL on failure. */
static inline volatile __u32 *vfio_test_map_bar0(int device, size_t *size)
{
	struct vfio_region_info reg = { .argsz = sizeof(reg), .index = 0 };
	void *p;

	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &reg) ||
	    !(reg.flags & VFIO_REGION_INFO_FLAG_MMAP))
		return NULL;
	*size = reg.size;
	p = mmap(NULL, reg.size, PROT_READ | PROT_WRITE, MAP_SHARED, device, reg.offset);
	return p == MAP_FAILED ? NULL : p;
}

/* Writes @val at @off of BAR0, which starts at @bar0_offset of @device; bails out on failure. */
static inline void vfio_test_bar_write32(int device, __u64 bar0_offset, __u32 off, __u32 val)
{
	if (pwrite(device, &val, 4, bar0_offset + off) != 4)
		die("BAR0 write");
}

/* Reads 32 bits at @off of BAR0, which starts at @bar0_offset of @device; bails out on failure. */
static inline __u32 vfio_test_bar_read32(int device, __u64 bar0_offset, __u32 off)
{
	__u32 val;

	if (pread(device, &val, 4, bar0_offset + off) != 4)
		die("BAR0 read");
	return val;
}

/* Reads 16 bits at @off of config space, which starts at @cfg_offset of @device. */
static inline __u16 vfio_test_cfg_read16(int device, __u64 cfg_offset, __u32 off)
{
	__u16 val;

	if (pread(device, &val, 2, cfg_offset + off) != 2)
		die("config read");
	return val;
}

/* Writes 16 bits at @off of config space, which starts at @cfg_offset of @device. */
static inline void vfio_test_cfg_write16(int device, __u64 cfg_offset, __u32 off, __u16 val)
{
	if (pwrite(device, &val, 2, cfg_offset + off) != 2)
		die("config write");
}

/*
 * One VFIO_DEVICE_SET_IRQS call on @device with up to one int32 of data
 * (an eventfd, or for DATA_BOOL @count bools in its low bytes).
 */
static inline int vfio_test_set_irqs(int device, __u32 index, __u32 flags, __u32 start,
				     __u32 count, int data)
{
	struct {
		struct vfio_irq_set set;
		__s32 data;
	} s = {
		.set = {
			.argsz = sizeof(s), .flags = flags, .index = index,
			.start = start, .count = count,
		},
		.data = data,
	};

	if (flags & VFIO_IRQ_SET_DATA_BOOL)
		s.set.argsz = sizeof(s.set) + count;
	return ioctl(device, VFIO_DEVICE_SET_IRQS, &s);
}

/* Waits up to @ms for eventfd @fd; returns the counter read, 0 if it did not fire. */
static inline __u64 vfio_test_wait_event(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	__u64 v = 0;

	if (poll(&p, 1, ms) == 1 && read(fd, &v, 8) != 8)
		die("eventfd read");
	return v;
}

#endif
