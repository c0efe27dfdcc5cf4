// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_hotreset - VFIO_DEVICE_GET_PCI_HOT_RESET_INFO and
 * VFIO_DEVICE_PCI_HOT_RESET on a device whose slot can be reset: function 0
 * of a two-function device behind a PCIe root port (both functions bound to
 * vfio-pci), through the group path and the cdev/iommufd path.
 *
 * Checks the errnos of bad calls (short argsz, flags, a zero-length array
 * on a group-opened device and a non-empty one on a cdev-opened device,
 * more fds than devices, a closed fd, an fd that is not a group, the group
 * of a device outside the set), the ENOSPC answer with the count, the
 * devices listed (segment, bus, devfn, group id or device id, the DEV_ID
 * flags), an actual reset with a BAR mmap'ed across it, the answer once the
 * sibling function left vfio-pci (not in the set: not owned, no reset), and
 * ENODEV for a device on the root bus (no slot or bus reset).
 *
 * Usage: vfio_hotreset DDDD:BB:DD.0
 *
 * Prints one TAP line per check, the plan, and exits 1 if any failed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "tap.h"
#include "vfio_test.h"

#define EDU_ID		0x010000edu
#define MAX_DEVS	8
#define INFO_MINSZ	offsetofend(struct vfio_pci_hot_reset_info, count)
#define RESET_MINSZ	offsetofend(struct vfio_pci_hot_reset, count)
#ifndef offsetofend
#define offsetofend(t, m) (offsetof(t, m) + sizeof(((t *)0)->m))
#endif

#define SAW "ret=%d errno=%s", ret, ret ? strerror(errno) : "-"

/* An ioctl expected to fail with @err. */
#define CHECK_ERR(ret, err, what) \
	check((ret) == -1 && errno == (err), what, "ret=%d errno=%s", (ret), \
	      (ret) ? strerror(errno) : "-")




static unsigned int sysfs_hex(const char *bdf, const char *attr)
{
	char path[PATH_MAX], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strtoul(buf, NULL, 16);
}

/* The first edu on bus 00 bound to vfio-pci: no slot or bus reset. */
static bool find_root_edu(char *out, size_t size)
{
	struct dirent *e;
	bool found = false;
	DIR *dir = opendir("/sys/bus/pci/devices");

	if (!dir)
		return false;
	while (!found && (e = readdir(dir))) {
		if (strncmp(e->d_name, "0000:00:", 8))
			continue;
		if (sysfs_hex(e->d_name, "vendor") == 0x1234 &&
		    sysfs_hex(e->d_name, "device") == 0x11e8 &&
		    vfio_test_bound_to_vfio_pci(e->d_name)) {
			snprintf(out, size, "%s", e->d_name);
			found = true;
		}
	}
	closedir(dir);
	return found;
}

struct info {
	struct vfio_pci_hot_reset_info hdr;
	struct vfio_pci_dependent_device devices[MAX_DEVS];
};

static int get_info(int device, __u32 argsz, struct info *info)
{
	memset(info, 0xa5, sizeof(*info));
	info->hdr.argsz = argsz;
	return ioctl(device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info);
}

static int hot_reset(int device, __u32 argsz, __u32 flags, __u32 count,
		     const int *fds)
{
	struct {
		struct vfio_pci_hot_reset hdr;
		__s32 fds[MAX_DEVS];
	} r = { .hdr = { .argsz = argsz, .flags = flags, .count = count } };

	if (count && fds)
		memcpy(r.fds, fds, sizeof(int) * (count < MAX_DEVS ? count : MAX_DEVS));
	return ioctl(device, VFIO_DEVICE_PCI_HOT_RESET, &r);
}

static void print_info(const char *tag, int ret, const struct info *info)
{
	__u32 i;

	printf("# %s: ret=%d errno=%s flags=%#x count=%u\n", tag, ret,
	       ret ? strerror(errno) : "-", info->hdr.flags, info->hdr.count);
	for (i = 0; !ret && i < info->hdr.count && i < MAX_DEVS; i++)
		printf("#   %04x:%02x:%02x.%u id=%#x\n",
		       info->devices[i].segment, info->devices[i].bus,
		       info->devices[i].devfn >> 3, info->devices[i].devfn & 7,
		       info->devices[i].group_id);
}

/* The entry of @bdf in a successful INFO answer, or NULL. */
static const struct vfio_pci_dependent_device *
entry_of(const struct info *info, const char *bdf)
{
	unsigned int seg, bus, dev, fn;
	__u32 i;

	if (sscanf(bdf, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) != 4)
		return NULL;
	for (i = 0; i < info->hdr.count && i < MAX_DEVS; i++)
		if (info->devices[i].segment == seg &&
		    info->devices[i].bus == bus &&
		    info->devices[i].devfn == ((dev << 3) | fn))
			return &info->devices[i];
	return NULL;
}

struct group_dev {
	int container, group, device;
};

static void close_group_dev(struct group_dev *g)
{
	if (g->device >= 0)
		close(g->device);
	if (g->group >= 0)
		close(g->group);
	if (g->container >= 0)
		close(g->container);
	g->device = g->group = g->container = -1;
}

static bool open_group_dev(const char *bdf, struct group_dev *g)
{
	char path[PATH_MAX];
	int ret;

	g->container = g->group = g->device = -1;
	snprintf(path, sizeof(path), "/dev/vfio/%d", vfio_test_iommu_group(bdf));
	g->container = ret = open("/dev/vfio/vfio", O_RDWR);
	if (!check(ret >= 0, "group: open /dev/vfio/vfio", SAW))
		goto fail;
	g->group = ret = open(path, O_RDWR);
	if (!check(ret >= 0, "group: open the group", SAW))
		goto fail;
	ret = ioctl(g->group, VFIO_GROUP_SET_CONTAINER, &g->container);
	if (!check(ret == 0, "group: VFIO_GROUP_SET_CONTAINER", SAW))
		goto fail;
	ret = ioctl(g->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU);
	if (!check(ret == 0, "group: VFIO_SET_IOMMU", SAW))
		goto fail;
	g->device = ret = ioctl(g->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (!check(ret >= 0, "group: VFIO_GROUP_GET_DEVICE_FD", SAW))
		goto fail;
	return true;
fail:
	close_group_dev(g);
	return false;
}

struct cdev_dev {
	int iommufd, device;
	__u32 devid;
};

static bool open_cdev_dev(const char *bdf, struct cdev_dev *c)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	char path[PATH_MAX];
	int ret;

	c->iommufd = c->device = -1;
	if (!check(vfio_test_find_cdev(bdf, path, sizeof(path)), "cdev: vfio-dev exists",
		   "%s", bdf))
		return false;
	c->device = ret = open(path, O_RDWR);
	if (!check(ret >= 0, "cdev: open the device cdev", SAW))
		return false;
	c->iommufd = ret = open("/dev/iommu", O_RDWR);
	if (!check(ret >= 0, "cdev: open /dev/iommu", SAW))
		return false;
	bind.iommufd = c->iommufd;
	ret = ioctl(c->device, VFIO_DEVICE_BIND_IOMMUFD, &bind);
	if (!check(ret == 0, "cdev: VFIO_DEVICE_BIND_IOMMUFD", SAW))
		return false;
	c->devid = bind.out_devid;
	return true;
}

static void close_cdev_dev(struct cdev_dev *c)
{
	if (c->device >= 0)
		close(c->device);
	if (c->iommufd >= 0)
		close(c->iommufd);
	c->device = c->iommufd = -1;
}

static void test_group(const char *fn0, const char *fn1, const char *root)
{
	struct group_dev g, other = { -1, -1, -1 };
	int g0 = vfio_test_iommu_group(fn0), g1 = vfio_test_iommu_group(fn1);
	const struct vfio_pci_dependent_device *e0, *e1;
	char path[PATH_MAX];
	int fds[MAX_DEVS], nfds = 0, efd, ret, root_group = -1;
	volatile __u32 *bar;
	size_t size = 0;
	struct info info;

	if (!open_group_dev(fn0, &g))
		return;

	ret = get_info(g.device, INFO_MINSZ - 1, &info);
	CHECK_ERR(ret, EINVAL, "group: INFO with argsz below the header is EINVAL");

	ret = get_info(g.device, INFO_MINSZ, &info);
	print_info("group INFO argsz=12", ret, &info);
	check(ret == -1 && errno == ENOSPC && info.hdr.count == 2 &&
	      info.hdr.flags == 0 && info.hdr.argsz == INFO_MINSZ,
	      "group: INFO with room for no device is ENOSPC with count 2",
	      "ret=%d errno=%s argsz=%u flags=%#x count=%u", ret,
	      strerror(errno), info.hdr.argsz, info.hdr.flags, info.hdr.count);

	ret = get_info(g.device, INFO_MINSZ + sizeof(info.devices[0]), &info);
	check(ret == -1 && errno == ENOSPC && info.hdr.count == 2,
	      "group: INFO with room for one device is ENOSPC with count 2",
	      "ret=%d errno=%s count=%u", ret, strerror(errno), info.hdr.count);

	ret = get_info(g.device, sizeof(info), &info);
	print_info("group INFO", ret, &info);
	e0 = ret ? NULL : entry_of(&info, fn0);
	e1 = ret ? NULL : entry_of(&info, fn1);
	check(ret == 0 && info.hdr.count == 2 && info.hdr.flags == 0 && e0 &&
	      e1 && e0->group_id == (__u32)g0 && e1->group_id == (__u32)g1,
	      "group: INFO lists both functions with their groups",
	      "ret=%d errno=%s flags=%#x count=%u (groups %d %d)", ret,
	      ret ? strerror(errno) : "-", info.hdr.flags, info.hdr.count, g0, g1);

	fds[0] = g.group;
	ret = hot_reset(g.device, RESET_MINSZ - 1, 0, 1, fds);
	CHECK_ERR(ret, EINVAL, "group: RESET with argsz below the header is EINVAL");
	ret = hot_reset(g.device, sizeof(struct vfio_pci_hot_reset) + 4, 1, 1, fds);
	CHECK_ERR(ret, EINVAL, "group: RESET with flags is EINVAL");
	ret = hot_reset(g.device, RESET_MINSZ, 0, 0, NULL);
	CHECK_ERR(ret, EINVAL, "group: RESET with no group fds is EINVAL");
	fds[1] = fds[2] = g.group;
	ret = hot_reset(g.device, RESET_MINSZ + 12, 0, 3, fds);
	CHECK_ERR(ret, EINVAL, "group: RESET with more fds than devices is EINVAL");
	fds[0] = -1;
	ret = hot_reset(g.device, RESET_MINSZ + 4, 0, 1, fds);
	CHECK_ERR(ret, EBADF, "group: RESET with fd -1 is EBADF");
	fds[0] = 1000;
	ret = hot_reset(g.device, RESET_MINSZ + 4, 0, 1, fds);
	CHECK_ERR(ret, EBADF, "group: RESET with a closed fd is EBADF");
	efd = eventfd(0, 0);
	fds[0] = efd;
	ret = hot_reset(g.device, RESET_MINSZ + 4, 0, 1, fds);
	CHECK_ERR(ret, EINVAL, "group: RESET with an eventfd is EINVAL");
	close(efd);

	if (root[0]) {
		root_group = vfio_test_iommu_group(root);
		snprintf(path, sizeof(path), "/dev/vfio/%d", root_group);
		other.group = open(path, O_RDWR);
	}
	if (check(other.group >= 0, "group: open the group of the root-bus edu",
		  "%s errno=%s", root, strerror(errno))) {
		fds[0] = other.group;
		ret = hot_reset(g.device, RESET_MINSZ + 4, 0, 1, fds);
		CHECK_ERR(ret, EINVAL,
			  "group: RESET with only another set's group is EINVAL");
	}

	/* Every group of the set, and the mapping must survive the reset. */
	fds[nfds++] = g.group;
	if (g1 != g0) {
		snprintf(path, sizeof(path), "/dev/vfio/%d", g1);
		fds[nfds++] = open(path, O_RDWR);
	}
	bar = vfio_test_map_bar0(g.device, &size);
	check(bar && bar[0] == EDU_ID, "group: BAR0 mmap reads the edu id",
	      "bar=%p id=%#x", (void *)bar, bar ? bar[0] : 0);
	ret = hot_reset(g.device, RESET_MINSZ + 4 * nfds, 0, nfds, fds);
	check(ret == 0, "group: RESET with the set's groups resets the slot", SAW);
	check(bar && bar[0] == EDU_ID,
	      "group: BAR0 mmap faults back in after the reset",
	      "id=%#x", bar ? bar[0] : 0);
	if (other.group >= 0) {
		fds[nfds] = other.group;
		ret = hot_reset(g.device, RESET_MINSZ + 4 * (nfds + 1), 0,
				nfds + 1, fds);
		check(ret == 0, "group: RESET with an extra group fd works", SAW);
	}
	if (bar)
		munmap((void *)bar, size);
	if (nfds > 1)
		close(fds[1]);
	if (other.group >= 0)
		close(other.group);
	close_group_dev(&g);
}

static void test_cdev(const char *fn0, const char *fn1)
{
	bool same_group = vfio_test_iommu_group(fn0) == vfio_test_iommu_group(fn1);
	__u32 dev_id_flags = VFIO_PCI_HOT_RESET_FLAG_DEV_ID;
	const struct vfio_pci_dependent_device *e0, *e1;
	char path[PATH_MAX];
	struct cdev_dev c;
	struct info info;
	int fds[1], ret;

	if (!open_cdev_dev(fn0, &c))
		goto out;

	ret = get_info(c.device, INFO_MINSZ, &info);
	check(ret == -1 && errno == ENOSPC && info.hdr.count == 2 &&
	      info.hdr.flags == 0,
	      "cdev: INFO with room for no device is ENOSPC, count 2, no flags",
	      "ret=%d errno=%s flags=%#x count=%u", ret, strerror(errno),
	      info.hdr.flags, info.hdr.count);

	ret = get_info(c.device, sizeof(info), &info);
	print_info("cdev INFO", ret, &info);
	e0 = ret ? NULL : entry_of(&info, fn0);
	e1 = ret ? NULL : entry_of(&info, fn1);
	/* fn1 is not bound: owned only through fn0's group. */
	if (same_group)
		dev_id_flags |= VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
	check(ret == 0 && info.hdr.count == 2 && info.hdr.flags == dev_id_flags &&
	      e0 && e0->devid == c.devid && e1 &&
	      e1->devid == (same_group ? VFIO_PCI_DEVID_OWNED :
					 (__u32)VFIO_PCI_DEVID_NOT_OWNED),
	      "cdev: INFO reports device ids and ownership",
	      "ret=%d flags=%#x count=%u devid=%u e0=%#x e1=%#x", ret,
	      info.hdr.flags, info.hdr.count, c.devid, e0 ? e0->devid : 0,
	      e1 ? e1->devid : 0);

	fds[0] = c.iommufd;
	ret = hot_reset(c.device, RESET_MINSZ + 4, 0, 1, fds);
	CHECK_ERR(ret, EINVAL, "cdev: RESET with group fds is EINVAL");
	ret = hot_reset(c.device, RESET_MINSZ, 0, 0, NULL);
	if (same_group)
		check(ret == 0, "cdev: RESET with the bound iommufd resets the slot",
		      SAW);
	else
		CHECK_ERR(ret, EINVAL, "cdev: RESET with an unowned sibling is EINVAL");

	/* The sibling leaves vfio-pci: it is no longer in the set. */
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/vfio-pci/unbind");
	if (check(vfio_test_write_sysfs(path, fn1) && !vfio_test_bound_to_vfio_pci(fn1),
		  "cdev: unbind the sibling from vfio-pci", "errno=%s",
		  strerror(errno))) {
		ret = get_info(c.device, sizeof(info), &info);
		print_info("cdev INFO, sibling unbound", ret, &info);
		e1 = ret ? NULL : entry_of(&info, fn1);
		check(ret == 0 && info.hdr.count == 2 &&
		      info.hdr.flags == VFIO_PCI_HOT_RESET_FLAG_DEV_ID && e1 &&
		      e1->devid == (__u32)VFIO_PCI_DEVID_NOT_OWNED,
		      "cdev: a device outside the set is not owned",
		      "ret=%d flags=%#x e1=%#x", ret, info.hdr.flags,
		      e1 ? e1->devid : 0);
		ret = hot_reset(c.device, RESET_MINSZ, 0, 0, NULL);
		CHECK_ERR(ret, EINVAL,
			  "cdev: RESET with a device outside the set is EINVAL");
	}
	check(vfio_test_write_sysfs("/sys/bus/pci/drivers_probe", fn1) &&
	      vfio_test_bound_to_vfio_pci(fn1), "cdev: bind the sibling back to vfio-pci",
	      "errno=%s", strerror(errno));
out:
	close_cdev_dev(&c);
}

static void test_root_bus(const char *root)
{
	struct cdev_dev c;
	struct info info;
	int ret;

	if (!check(root[0], "an edu on the root bus is bound to vfio-pci",
		   "none"))
		return;
	if (!open_cdev_dev(root, &c))
		goto out;
	ret = get_info(c.device, sizeof(info), &info);
	CHECK_ERR(ret, ENODEV, "root bus: INFO is ENODEV (no slot or bus reset)");
	ret = hot_reset(c.device, RESET_MINSZ, 0, 0, NULL);
	CHECK_ERR(ret, ENODEV, "root bus: RESET is ENODEV");
out:
	close_cdev_dev(&c);
}

int main(int argc, char *argv[])
{
	char fn1[PATH_MAX], root[NAME_MAX + 1] = "";
	size_t len;

	if (argc != 2 || (len = strlen(argv[1])) < 3 ||
	    strcmp(argv[1] + len - 2, ".0")) {
		fprintf(stderr, "usage: %s DDDD:BB:DD.0\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(fn1, sizeof(fn1), "%.*s.1", (int)(len - 2), argv[1]);
	find_root_edu(root, sizeof(root));
	printf("# vfio_hotreset %s (sibling %s, root-bus edu %s)\n", argv[1],
	       fn1, root[0] ? root : "none");

	if (check(vfio_test_bound_to_vfio_pci(argv[1]) && vfio_test_bound_to_vfio_pci(fn1),
		  "both functions are bound to vfio-pci", "%s %s", argv[1], fn1)) {
		test_group(argv[1], fn1, root);
		test_cdev(argv[1], fn1);
	}
	test_root_bus(root);

	return tap_done();
}
