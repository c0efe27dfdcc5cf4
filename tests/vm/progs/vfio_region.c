// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_region - prints what VFIO_DEVICE_GET_REGION_INFO says about one
 * region of a device bound to a VFIO driver, for the guest scripts that
 * compare module parameters (disable_vga) between the two drivers.
 *
 * Usage: vfio_region DDDD:BB:DD.F INDEX [vga]
 *
 * Opens the device through its cdev and iommufd, and prints one line:
 *   region INDEX: size=0x... flags=0x...
 * or
 *   region INDEX: errno=NAME
 * With "vga" (INDEX 8), then runs a fixed script of reads and writes of the
 * VGA region (legacy VGA memory and ports of QEMU's std VGA in text mode) at
 * a few offsets and widths and prints one line per access:
 *   rd|wr OFFSET/COUNT: ret=N [0xVALUE]   or   rd|wr OFFSET/COUNT: errno=NAME
 * (VALUE: the bytes read, little-endian), so that the guest script can
 * compare the two drivers' answers.
 * Exits 0 when the ioctl was answered either way, 1 when the device could
 * not be opened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "vfio_test.h"

/* Where region INDEX starts in the device fd (VFIO_PCI_OFFSET_SHIFT). */
#define VFIO_PCI_INDEX_TO_OFFSET_(index) ((__u64)(index) << 40)

/* Opens /dev/vfio/devices/vfioX of device bdf. */
static int open_cdev(const char *bdf)
{
	char path[PATH_MAX];

	return vfio_test_find_cdev(bdf, path, sizeof(path)) ? open(path, O_RDWR) : -1;
}

/* One access of the VGA script; prints its result. */
static void vga_access(int device, __u64 base, bool write, __u64 off,
		       size_t count, __u64 val)
{
	unsigned char buf[16] = { 0 };
	ssize_t ret;
	size_t i;

	if (write)
		memcpy(buf, &val, count < sizeof(val) ? count : sizeof(val));
	if (write)
		ret = pwrite(device, buf, count, base + off);
	else
		ret = pread(device, buf, count, base + off);
	printf("%s %#llx/%zu: ", write ? "wr" : "rd", (unsigned long long)off,
	       count);
	if (ret < 0) {
		printf("errno=%s\n", strerrorname_np(errno) ?: "?");
		return;
	}
	printf("ret=%zd", ret);
	if (!write && ret > 0) {
		printf(" 0x");
		for (i = ret; i > 0; i--)
			printf("%02x", buf[i - 1]);
	}
	printf("\n");
}

/*
 * The VGA script.  In text mode (what the BIOS leaves): the CRTC index and
 * data ports are at 0x3d4/0x3d5, VGA memory decodes 0xb8000-0xbffff only
 * (0xa0000 reads 0xff), and planes 0 and 1 hold what is written with
 * odd/even addressing, so it reads back.  The writes go to a cursor
 * register and off-screen text memory.
 */
static void vga_script(int device, __u64 base)
{
	/* Outside every window, or past the region. */
	vga_access(device, base, false, 0x3af, 1, 0);
	vga_access(device, base, false, 0x3bc, 1, 0);
	vga_access(device, base, false, 0x3e0, 1, 0);
	vga_access(device, base, false, 0x9ffff, 1, 0);
	vga_access(device, base, false, 0xc0000, 1, 0);
	vga_access(device, base, true, 0x1000, 1, 0);
	/* Ports: index, then index and data in one word. */
	vga_access(device, base, true, 0x3d4, 1, 0x0e);
	vga_access(device, base, false, 0x3d4, 1, 0);
	vga_access(device, base, true, 0x3d4, 2, 0x120e);
	vga_access(device, base, false, 0x3d4, 2, 0);
	vga_access(device, base, true, 0x3d4, 2, 0x000e);
	/* Cut at the end of the 0x3b0 window. */
	vga_access(device, base, false, 0x3b8, 8, 0);
	/* Memory: unmapped in text mode, then text memory at every width. */
	vga_access(device, base, false, 0xa0000, 4, 0);
	vga_access(device, base, true, 0xbc000, 4, 0x5aa5c33c);
	vga_access(device, base, false, 0xbc000, 4, 0);
	vga_access(device, base, true, 0xbc008, 8, 0x0123456789abcdefull);
	vga_access(device, base, false, 0xbc008, 8, 0);
	vga_access(device, base, false, 0xbc001, 3, 0);
	vga_access(device, base, true, 0xbc011, 2, 0xbeef);
	vga_access(device, base, false, 0xbc010, 4, 0);
	/* Cut at the end of the region. */
	vga_access(device, base, true, 0xbfff8, 16, 0);
	vga_access(device, base, false, 0xbfff8, 16, 0);
}

int main(int argc, char *argv[])
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_region_info info = { .argsz = sizeof(info) };
	int device, iommufd, ret;
	char *end;

	if (argc != 3 && (argc != 4 || strcmp(argv[3], "vga"))) {
		fprintf(stderr, "usage: %s DDDD:BB:DD.F INDEX [vga]\n", argv[0]);
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
	/* Without the region, the accesses show how they are refused. */
	if (argc == 4)
		vga_script(device, VFIO_PCI_INDEX_TO_OFFSET_(info.index));
	close(device);
	close(iommufd);
	return 0;
}
