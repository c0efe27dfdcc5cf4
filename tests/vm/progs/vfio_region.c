// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_region - prints what VFIO_DEVICE_GET_REGION_INFO says about one
 * region of a device bound to a VFIO driver, for the guest scripts that
 * compare module parameters (disable_vga) between the two drivers.
 *
 * Usage: vfio_region DDDD:BB:DD.F INDEX
 *
 * Opens the device through its cdev and iommufd, and prints one line:
 *   region INDEX: size=0x... flags=0x...
 * or
 *   region INDEX: errno=NAME
 * Exits 0 when the ioctl was answered either way, 1 when the device could
 * not be opened.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

/* Opens /dev/vfio/devices/vfioX of device bdf. */
static int open_cdev(const char *bdf)
{
	char dir_path[PATH_MAX], path[PATH_MAX + 300];
	struct dirent *entry;
	int fd = -1;
	DIR *dir;

	snprintf(dir_path, sizeof(dir_path), "/sys/bus/pci/devices/%s/vfio-dev",
		 bdf);
	dir = opendir(dir_path);
	if (!dir)
		return -1;
	while ((entry = readdir(dir))) {
		if (strncmp(entry->d_name, "vfio", 4))
			continue;
		snprintf(path, sizeof(path), "/dev/vfio/devices/%s",
			 entry->d_name);
		fd = open(path, O_RDWR);
		break;
	}
	closedir(dir);
	return fd;
}

int main(int argc, char *argv[])
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_region_info info = { .argsz = sizeof(info) };
	int device, iommufd, ret;
	char *end;

	if (argc != 3) {
		fprintf(stderr, "usage: %s DDDD:BB:DD.F INDEX\n", argv[0]);
		return 2;
	}
	info.index = strtoul(argv[2], &end, 0);
	if (*end) {
		fprintf(stderr, "%s: INDEX is a number\n", argv[0]);
		return 2;
	}

	device = open_cdev(argv[1]);
	if (device < 0) {
		fprintf(stderr, "%s: cannot open the VFIO cdev: %s\n", argv[1],
			strerror(errno));
		return 1;
	}
	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0) {
		perror("/dev/iommu");
		return 1;
	}
	bind.iommufd = iommufd;
	if (ioctl(device, VFIO_DEVICE_BIND_IOMMUFD, &bind) ||
	    ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc)) {
		perror("VFIO_DEVICE_BIND_IOMMUFD/IOMMU_IOAS_ALLOC");
		return 1;
	}
	attach.pt_id = alloc.out_ioas_id;
	if (ioctl(device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach)) {
		perror("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
		return 1;
	}

	ret = ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &info);
	if (ret)
		printf("region %u: errno=%s\n", info.index,
		       strerrorname_np(errno) ?: "?");
	else
		printf("region %u: size=%#llx flags=%#x\n", info.index,
		       (unsigned long long)info.size, info.flags);
	close(device);
	close(iommufd);
	return 0;
}
