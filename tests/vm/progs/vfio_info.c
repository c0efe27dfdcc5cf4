// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_info - check VFIO_DEVICE_GET_INFO of a vfio-pci device through both
 * uAPI paths a VMM uses to reach it:
 *
 *  (a) the group path: /dev/vfio/vfio container + /dev/vfio/<group>,
 *      VFIO_TYPE1v2_IOMMU, VFIO_GROUP_GET_DEVICE_FD;
 *  (b) the cdev path: /dev/vfio/devices/vfioX bound to /dev/iommu and
 *      attached to a fresh IOAS.
 *
 * Both must report a PCI device with at least the standard vfio-pci regions
 * and IRQ indexes, must agree with each other, and must reject a too-small
 * argsz with EINVAL.  On the cdev path, GET_INFO before the iommufd bind must
 * fail with EINVAL (as upstream's vfio_iommufd_setup_test expects).
 *
 * The capability chain (VFIO_DEVICE_FLAGS_CAPS; on x86 only the PCIe
 * AtomicOp completer capability, VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP, which
 * the device reports only when the path to its root port completes
 * AtomicOps) must be well formed, the same on both paths, and, run with
 * VFIO_RS_DRIVER=rs after VFIO_RS_DRIVER=c in the same boot, the same as the
 * C driver's (kept in /tmp/vfio_info_caps.<bdf>.<driver>).
 *
 * Usage: vfio_info DDDD:BB:DD.F
 *
 * Prints one TAP line per check ("ok N - ..." or "not ok N - ... (saw ...)"),
 * then the plan, and exits 1 if any check failed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "tap.h"
#include "vfio_test.h"

/* The smallest argsz VFIO_DEVICE_GET_INFO accepts: up to num_irqs. */
#define GET_INFO_MINSZ \
	(offsetof(struct vfio_device_info, num_irqs) + sizeof(__u32))

/* "ret=%d errno=%s" for an ioctl or open that was expected to succeed. */
#define SAW_ERRNO "ret=%d errno=%s", ret, strerror(errno)

/* What a successful VFIO_DEVICE_GET_INFO told us, to compare both paths. */
struct device_info {
	__u32 flags;
	__u32 num_regions;
	__u32 num_irqs;
	char caps[256];		/* the capability chain, described */
};

/*
 * Reads the capability chain of VFIO_DEVICE_GET_INFO (asking again with the
 * argsz the first answer demands) and describes it in @desc: "none", or one
 * "id=N vV" per capability (with "flags=0x.. reserved=0x.." for the AtomicOp
 * one).  Checks that the chain is well formed.
 */
static void check_caps(int device_fd, const char *path, __u32 flags,
		       char *desc, size_t size)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_info_cap_header *hdr;
	unsigned char *buf = NULL;
	size_t len = 0;
	__u32 off, argsz, n = 0;
	char what[128];
	int ret;

	snprintf(desc, size, "none");
	ret = ioctl(device_fd, VFIO_DEVICE_GET_INFO, &info);
	if (!(flags & VFIO_DEVICE_FLAGS_CAPS)) {
		snprintf(what, sizeof(what),
			 "%s: no capabilities: cap_offset 0, argsz kept", path);
		check(ret == 0 && info.cap_offset == 0 &&
		      info.argsz == sizeof(info), what,
		      "ret=%d cap_offset=%u argsz=%u", ret, info.cap_offset,
		      info.argsz);
		return;
	}
	argsz = info.argsz;
	snprintf(what, sizeof(what),
		 "%s: capabilities: GET_INFO asks for a larger argsz", path);
	if (!check(ret == 0 && argsz > sizeof(info) && argsz < 4096 &&
		   info.cap_offset == 0, what,
		   "ret=%d argsz=%u cap_offset=%u", ret, argsz, info.cap_offset))
		return;
	buf = calloc(1, argsz);
	if (!buf)
		return;
	((struct vfio_device_info *)buf)->argsz = argsz;
	ret = ioctl(device_fd, VFIO_DEVICE_GET_INFO, buf);
	off = ((struct vfio_device_info *)buf)->cap_offset;
	snprintf(what, sizeof(what),
		 "%s: capabilities follow the structure", path);
	if (!check(ret == 0 && off == sizeof(info), what,
		   "ret=%d cap_offset=%u", ret, off))
		goto out;
	desc[0] = '\0';
	while (off) {
		if (off + sizeof(*hdr) > argsz || n++ > 16) {
			snprintf(what, sizeof(what), "%s: capability chain in bounds", path);
			check(false, what, "offset %u of %u", off, argsz);
			goto out;
		}
		hdr = (struct vfio_info_cap_header *)(buf + off);
		len += snprintf(desc + len, len < size ? size - len : 0,
				"%sid=%u v%u", len ? " " : "", hdr->id,
				hdr->version);
		if (hdr->id == VFIO_DEVICE_INFO_CAP_PCI_ATOMIC_COMP &&
		    off + sizeof(struct vfio_device_info_cap_pci_atomic_comp) <= argsz) {
			struct vfio_device_info_cap_pci_atomic_comp *cap =
				(void *)hdr;

			len += snprintf(desc + len, len < size ? size - len : 0,
					" flags=%#x reserved=%#x", cap->flags,
					cap->reserved);
		}
		off = hdr->next;
	}
	snprintf(what, sizeof(what), "%s: capability chain is well formed", path);
	check(true, what, "%s", "");
out:
	free(buf);
}

/*
 * Checks VFIO_DEVICE_GET_INFO on an opened, usable device fd, and that a
 * too-small argsz is refused.  @path names the uAPI path in the messages.
 * Returns false if GET_INFO itself failed.
 */
static bool check_get_info(int device_fd, const char *path,
			   struct device_info *out)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	char what[128];
	int ret;

	ret = ioctl(device_fd, VFIO_DEVICE_GET_INFO, &info);
	snprintf(what, sizeof(what), "%s: VFIO_DEVICE_GET_INFO succeeds", path);
	if (!check(ret == 0, what, SAW_ERRNO))
		return false;

	snprintf(what, sizeof(what), "%s: flags has VFIO_DEVICE_FLAGS_PCI", path);
	check(info.flags & VFIO_DEVICE_FLAGS_PCI, what, "flags=%#x", info.flags);

	snprintf(what, sizeof(what), "%s: num_regions >= VFIO_PCI_NUM_REGIONS (%d)",
		 path, VFIO_PCI_NUM_REGIONS);
	check(info.num_regions >= VFIO_PCI_NUM_REGIONS, what, "num_regions=%u",
	      info.num_regions);

	snprintf(what, sizeof(what), "%s: num_irqs >= VFIO_PCI_NUM_IRQS (%d)",
		 path, VFIO_PCI_NUM_IRQS);
	check(info.num_irqs >= VFIO_PCI_NUM_IRQS, what, "num_irqs=%u",
	      info.num_irqs);

	out->flags = info.flags;
	out->num_regions = info.num_regions;
	out->num_irqs = info.num_irqs;
	check_caps(device_fd, path, info.flags, out->caps, sizeof(out->caps));
	printf("# %s: capabilities: %s\n", path, out->caps);

	/* argsz exactly up to num_irqs is enough and gives the same answer. */
	memset(&info, 0, sizeof(info));
	info.argsz = GET_INFO_MINSZ;
	ret = ioctl(device_fd, VFIO_DEVICE_GET_INFO, &info);
	snprintf(what, sizeof(what),
		 "%s: GET_INFO with argsz=%zu (minimum) gives the same answer",
		 path, GET_INFO_MINSZ);
	check(ret == 0 && info.flags == out->flags &&
	      info.num_regions == out->num_regions &&
	      info.num_irqs == out->num_irqs, what,
	      "ret=%d errno=%s flags=%#x num_regions=%u num_irqs=%u", ret,
	      ret ? strerror(errno) : "-", info.flags, info.num_regions,
	      info.num_irqs);

	/* One byte short of num_irqs must be refused. */
	memset(&info, 0, sizeof(info));
	info.argsz = GET_INFO_MINSZ - 1;
	errno = 0;
	ret = ioctl(device_fd, VFIO_DEVICE_GET_INFO, &info);
	snprintf(what, sizeof(what), "%s: GET_INFO with argsz=%zu fails with EINVAL",
		 path, GET_INFO_MINSZ - 1);
	check(ret == -1 && errno == EINVAL, what, SAW_ERRNO);

	return true;
}

/* Group path: container, group, TYPE1v2, device fd, GET_INFO. */
static bool check_group_path(const char *bdf, struct device_info *out)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char link[PATH_MAX], target[PATH_MAX], group_path[PATH_MAX];
	int container = -1, group = -1, device = -1;
	bool got_info = false;
	ssize_t len;
	int ret;

	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	len = readlink(link, target, sizeof(target) - 1);
	ret = len < 0 ? -1 : 0;
	if (!check(len > 0, "group: device has an iommu_group", SAW_ERRNO))
		return false;
	target[len] = '\0';
	snprintf(group_path, sizeof(group_path), "/dev/vfio/%s", basename(target));

	container = ret = open("/dev/vfio/vfio", O_RDWR);
	if (!check(container >= 0, "group: open /dev/vfio/vfio", SAW_ERRNO))
		goto out;

	ret = ioctl(container, VFIO_GET_API_VERSION);
	check(ret == VFIO_API_VERSION, "group: VFIO_GET_API_VERSION",
	      "ret=%d", ret);

	group = ret = open(group_path, O_RDWR);
	if (!check(group >= 0, "group: open /dev/vfio/<group>",
		   "%s: ret=%d errno=%s", group_path, ret, strerror(errno)))
		goto out;

	ret = ioctl(group, VFIO_GROUP_GET_STATUS, &status);
	if (!check(ret == 0 && (status.flags & VFIO_GROUP_FLAGS_VIABLE),
		   "group: VFIO_GROUP_GET_STATUS says viable",
		   "ret=%d errno=%s flags=%#x", ret, ret ? strerror(errno) : "-",
		   status.flags))
		goto out;

	ret = ioctl(group, VFIO_GROUP_SET_CONTAINER, &container);
	if (!check(ret == 0, "group: VFIO_GROUP_SET_CONTAINER", SAW_ERRNO))
		goto out;

	ret = ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU);
	check(ret > 0, "group: VFIO_CHECK_EXTENSION(VFIO_TYPE1v2_IOMMU)",
	      SAW_ERRNO);

	ret = ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	if (!check(ret == 0, "group: VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU)",
		   SAW_ERRNO))
		goto out;

	device = ret = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (!check(device >= 0, "group: VFIO_GROUP_GET_DEVICE_FD(bdf)",
		   SAW_ERRNO))
		goto out;

	got_info = check_get_info(device, "group", out);
out:
	if (device >= 0)
		close(device);
	if (group >= 0)
		close(group);
	if (container >= 0)
		close(container);
	return got_info;
}

/* cdev path: GET_INFO refused before bind, then bind, attach, GET_INFO. */
static void check_cdev_path(const char *bdf, const struct device_info *group)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct device_info cdev;
	char cdev_path[PATH_MAX];
	int device = -1, iommufd = -1;
	int ret;

	if (!check(vfio_test_find_cdev(bdf, cdev_path, sizeof(cdev_path)),
		   "cdev: /sys/bus/pci/devices/<bdf>/vfio-dev/vfioX exists",
		   "no vfio-dev entry"))
		return;

	device = ret = open(cdev_path, O_RDWR);
	if (!check(device >= 0, "cdev: open /dev/vfio/devices/vfioX",
		   "%s: ret=%d errno=%s", cdev_path, ret, strerror(errno)))
		return;

	errno = 0;
	ret = ioctl(device, VFIO_DEVICE_GET_INFO, &info);
	check(ret == -1 && errno == EINVAL,
	      "cdev: VFIO_DEVICE_GET_INFO before bind fails with EINVAL",
	      SAW_ERRNO);

	iommufd = ret = open("/dev/iommu", O_RDWR);
	if (!check(iommufd >= 0, "cdev: open /dev/iommu", SAW_ERRNO))
		goto out;

	bind.iommufd = iommufd;
	ret = ioctl(device, VFIO_DEVICE_BIND_IOMMUFD, &bind);
	if (!check(ret == 0 && bind.out_devid != 0,
		   "cdev: VFIO_DEVICE_BIND_IOMMUFD returns a device id",
		   "ret=%d errno=%s out_devid=%u", ret,
		   ret ? strerror(errno) : "-", bind.out_devid))
		goto out;

	ret = ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc);
	if (!check(ret == 0, "cdev: IOMMU_IOAS_ALLOC", SAW_ERRNO))
		goto out;

	attach.pt_id = alloc.out_ioas_id;
	ret = ioctl(device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);
	if (!check(ret == 0, "cdev: VFIO_DEVICE_ATTACH_IOMMUFD_PT(ioas)",
		   SAW_ERRNO))
		goto out;

	if (!check_get_info(device, "cdev", &cdev) || !group)
		goto out;

	check(cdev.flags == group->flags &&
	      cdev.num_regions == group->num_regions &&
	      cdev.num_irqs == group->num_irqs &&
	      !strcmp(cdev.caps, group->caps),
	      "cdev and group paths report the same device info",
	      "group flags=%#x regions=%u irqs=%u caps=%s, cdev flags=%#x regions=%u irqs=%u caps=%s",
	      group->flags, group->num_regions, group->num_irqs, group->caps,
	      cdev.flags, cdev.num_regions, cdev.num_irqs, cdev.caps);
out:
	if (iommufd >= 0)
		close(iommufd);
	close(device);
}

/*
 * Keeps the flags and capabilities in /tmp/vfio_info_caps.<bdf>.<driver>
 * and, for a driver set other than c, checks them against the C driver's.
 */
static void compare_with_c(const char *bdf, const struct device_info *info)
{
	const char *driver = getenv("VFIO_RS_DRIVER");
	char path[PATH_MAX], mine[320], ref[320] = "";
	FILE *f;

	if (!driver)
		return;
	snprintf(mine, sizeof(mine), "flags=%#x caps=%s", info->flags,
		 info->caps);
	snprintf(path, sizeof(path), "/tmp/vfio_info_caps.%s.%s", bdf, driver);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%s\n", mine);
		fclose(f);
	}
	if (!strcmp(driver, "c"))
		return;
	snprintf(path, sizeof(path), "/tmp/vfio_info_caps.%s.c", bdf);
	f = fopen(path, "r");
	if (!f) {
		printf("# no C reference (%s)\n", path);
		return;
	}
	if (fgets(ref, sizeof(ref), f))
		ref[strcspn(ref, "\n")] = '\0';
	fclose(f);
	check(!strcmp(mine, ref),
	      "flags and capabilities are the C driver's",
	      "ours '%s', C '%s'", mine, ref);
}

int main(int argc, char *argv[])
{
	struct device_info group;
	bool have_group;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DDDD:BB:DD.F\n", argv[0]);
		return 2;
	}

	/* Line-buffered so the output interleaves sanely with the console. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# vfio_info %s\n", argv[1]);

	/* The group fds are all closed before the cdev is opened. */
	have_group = check_group_path(argv[1], &group);
	check_cdev_path(argv[1], have_group ? &group : NULL);
	if (have_group)
		compare_with_c(argv[1], &group);

	return tap_done();
}
