// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_dmabuf - VFIO_DEVICE_FEATURE_DMA_BUF: a dma-buf of BAR ranges, its
 * import into an iommufd IOAS (IOMMU_IOAS_MAP_FILE) and its revocation.
 *
 * On a device opened through its cdev and bound to an iommufd, with the
 * device attached to an IOAS, checks the PROBE answers and the errno of
 * every bad argument (no GET, short argsz, nr_ranges 0, flags, a region
 * that is not a claimed BAR, an I/O BAR, too many ranges to copy, unaligned,
 * empty, overflowing and out-of-BAR ranges); that a dma-buf of BAR 0 is a
 * file of the ranges' total size; that a one-range dma-buf maps into the
 * IOAS and a two-range one does not (EOPNOTSUPP: iommufd takes one
 * range); that clearing the COMMAND register's memory bit through config
 * space revokes it (a new MAP_FILE fails with ENODEV, as does one of a
 * dma-buf created meanwhile) and setting it again restores it, and so do
 * D3hot and D0 through PMCSR and LOW_POWER_ENTRY and _EXIT; that
 * VFIO_DEVICE_RESET and, where the device's slot or bus can be reset by
 * itself, VFIO_DEVICE_PCI_HOT_RESET leave it usable; and that closing the
 * device with the dma-buf still open revokes it for good, and closing it
 * afterwards releases everything (the plan's unbind would hang on a leaked
 * registration; kmemleak checks the rest).
 *
 * With the test-only importer (tests/vm/dmabuf_importer, loaded by the
 * plan), also the exporter's map_dma_buf and unmap_dma_buf, which iommufd
 * does not use: attach refused without peer-to-peer or revocation support,
 * a two-range mapping at BAR 0's bus addresses, invalidation and unmap when
 * memory is disabled, on a reset and on the device's close (the write or
 * ioctl returns only once the importer has unmapped, even 200 ms late),
 * ENODEV to map or attach while revoked, and mapping again after, twice.
 *
 * With VFIO_RS_DMABUF=n in the environment (the plan sets it for our
 * modules built with VFIO_RS_DMABUF=n: tests/vm/run.sh --no-dmabuf), checks
 * instead that the feature answers ENOTTY, to PROBE too, and that memory
 * disable, reset and low power, which revoke and restore dma-bufs when
 * they are built, still work.
 *
 * Usage: vfio_dmabuf DDDD:BB:DD.F   (a device with a memory BAR 0 of two
 *                                    pages or more)
 *
 * Prints one TAP line per check, the plan, and exits 1 if any failed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "tap.h"
#include "vfio_test.h"

#define CHECK_ERR(ret, err, what) \
	check((ret) == -1 && errno == (err), what, "ret=%d errno=%s", (ret), \
	      (ret) == -1 ? strerror(errno) : "-")
#define CHECK_OK(ret, what) \
	check((ret) >= 0, what, "ret=%d errno=%s", (ret), \
	      (ret) < 0 ? strerror(errno) : "-")

#define PAGE 4096ULL
#define MAX_RANGES 4

static const char *bdf;
static uint64_t cfg_offset;

/* A VFIO_DEVICE_FEATURE_DMA_BUF call with its ranges. */
struct dmabuf_req {
	struct vfio_device_feature hdr;
	struct vfio_device_feature_dma_buf get;
	struct vfio_region_dma_range ranges[MAX_RANGES];
};

/*
 * VFIO_DEVICE_FEATURE_DMA_BUF with @flags (besides the feature number),
 * @argsz bytes of header and payload, for BAR @index and @nr ranges given
 * as offset, length pairs.  Returns the dma-buf fd, or -1 with errno.
 */
static int get_dmabuf(int device, uint32_t flags, size_t argsz, uint32_t index,
		      uint32_t get_flags, uint32_t nr, const uint64_t *ol)
{
	struct dmabuf_req req = {
		.hdr = {
			.argsz = argsz,
			.flags = flags | VFIO_DEVICE_FEATURE_DMA_BUF,
		},
		.get = {
			.region_index = index,
			.open_flags = O_RDWR | O_CLOEXEC,
			.flags = get_flags,
			.nr_ranges = nr,
		},
	};
	uint32_t i;

	for (i = 0; i < nr && i < MAX_RANGES; i++) {
		req.ranges[i].offset = ol[2 * i];
		req.ranges[i].length = ol[2 * i + 1];
	}
	return ioctl(device, VFIO_DEVICE_FEATURE, &req);
}

#define FULL_ARGSZ(nr) \
	(sizeof(struct vfio_device_feature) + \
	 sizeof(struct vfio_device_feature_dma_buf) + \
	 (nr) * sizeof(struct vfio_region_dma_range))
#define GET VFIO_DEVICE_FEATURE_GET

/* A one-range dma-buf of BAR 0, or -1 with errno. */
static int bar0_dmabuf(int device, uint64_t offset, uint64_t length)
{
	uint64_t ol[2] = { offset, length };

	return get_dmabuf(device, GET, FULL_ARGSZ(1), 0, 0, 1, ol);
}

/* IOMMU_IOAS_MAP_FILE of all @length bytes of @fd; 0 or -1 with errno. */
static int map_file(int iommufd, uint32_t ioas, int fd, uint64_t length,
		    uint64_t *iova)
{
	struct iommu_ioas_map_file map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.fd = fd,
		.start = 0,
		.length = length,
	};
	int ret;

	ret = ioctl(iommufd, IOMMU_IOAS_MAP_FILE, &map);
	if (!ret && iova)
		*iova = map.iova;
	return ret;
}

static int unmap(int iommufd, uint32_t ioas, uint64_t iova, uint64_t length)
{
	struct iommu_ioas_unmap u = {
		.size = sizeof(u),
		.ioas_id = ioas,
		.iova = iova,
		.length = length,
	};

	return ioctl(iommufd, IOMMU_IOAS_UNMAP, &u);
}

/* MAP_FILE then UNMAP; 0, or -1 with the errno of the failing step. */
static int map_unmap(int iommufd, uint32_t ioas, int fd, uint64_t length)
{
	uint64_t iova = 0;

	if (map_file(iommufd, ioas, fd, length, &iova))
		return -1;
	return unmap(iommufd, ioas, iova, length);
}

/* Writes the COMMAND register through the config region. */
static int write_command(int device, uint16_t cmd)
{
	return pwrite(device, &cmd, 2, cfg_offset + PCI_COMMAND) == 2 ? 0 : -1;
}

static uint16_t read_command(int device)
{
	uint16_t cmd = 0;

	if (pread(device, &cmd, 2, cfg_offset + PCI_COMMAND) != 2)
		return 0;
	return cmd;
}

/* The config offset of the PM capability, or 0. */
static int find_pm_cap(int device)
{
	uint8_t pos = 0, id = 0;
	int n = 0;

	if (pread(device, &pos, 1, cfg_offset + PCI_CAPABILITY_LIST) != 1)
		return 0;
	while (pos >= 0x40 && n++ < 48) {
		pos &= ~3;
		if (pread(device, &id, 1, cfg_offset + pos) != 1)
			return 0;
		if (id == PCI_CAP_ID_PM)
			return pos;
		if (pread(device, &pos, 1, cfg_offset + pos + 1) != 1)
			return 0;
	}
	return 0;
}

/* Writes the power state field of PMCSR (0: D0, 3: D3hot). */
static int write_pmcsr(int device, int pm, uint16_t state)
{
	uint16_t ctrl = 0;

	if (pread(device, &ctrl, 2, cfg_offset + pm + PCI_PM_CTRL) != 2)
		return -1;
	ctrl = (ctrl & ~PCI_PM_CTRL_STATE_MASK) | state;
	return pwrite(device, &ctrl, 2, cfg_offset + pm + PCI_PM_CTRL) == 2 ? 0 : -1;
}


/*
 * Whether a hot reset of the device with its iommufd as proof of ownership
 * must work: function 0 off the root bus whose function 1, if bound, is
 * in the same IOMMU group (vfio_hotreset checks the other cases).
 */
static bool hot_reset_expected(void)
{
	char fn1[32];
	size_t len = strlen(bdf);

	if (len < 3 || strcmp(bdf + len - 2, ".0") || len > 20 ||
	    !strncmp(bdf + 5, "00:", 3))
		return false;
	snprintf(fn1, sizeof(fn1), "%.*s.1", (int)(len - 2), bdf);
	return vfio_test_iommu_group(fn1) < 0 || vfio_test_iommu_group(fn1) == vfio_test_iommu_group(bdf);
}

/* VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY or _EXIT (SET, no data). */
static int low_power(int device, uint32_t feature)
{
	struct vfio_device_feature hdr = {
		.argsz = sizeof(hdr),
		.flags = VFIO_DEVICE_FEATURE_SET | feature,
	};

	return ioctl(device, VFIO_DEVICE_FEATURE, &hdr);
}

/*
 * Opens the device's cdev, binds it to a new iommufd, allocates an IOAS
 * and attaches the device to it.  Returns the device fd or -1.
 */
static int open_device(int *iommufd, uint32_t *ioas)
{
	struct vfio_device_attach_iommufd_pt attach = { .argsz = sizeof(attach) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	int device = vfio_test_open_cdev(bdf, iommufd);

	if (device < 0 || ioctl(*iommufd, IOMMU_IOAS_ALLOC, &alloc))
		return -1;
	*ioas = alloc.out_ioas_id;
	attach.pt_id = *ioas;
	if (ioctl(device, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		return -1;
	return device;
}

static uint64_t region_size(int device, uint32_t index, uint64_t *offset)
{
	struct vfio_region_info reg = { .argsz = sizeof(reg), .index = index };

	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &reg))
		return 0;
	if (offset)
		*offset = reg.offset;
	return reg.size;
}

/*
 * The test-only importer (tests/vm/dmabuf_importer), which maps a dma-buf
 * through the exporter's map_dma_buf and honours invalidate_mappings.
 */
#define IMPORTER "/sys/kernel/debug/dmabuf_importer/"
#define MAX_SEGS 16

struct importer_state {
	int attached, mapped;
	unsigned int invalidations, nr_segs;
	uint64_t addr[MAX_SEGS], len[MAX_SEGS];
};

/* Writes a line to one of the importer's files: 0, or -1 with errno. */
static __attribute__((format(printf, 2, 3)))
int importer(const char *file, const char *fmt, ...)
{
	char path[128], line[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), IMPORTER "%s", file);
	return vfio_test_write_file(path, line);
}

/* Reads the importer's state; false if it cannot be read. */
static bool importer_state(struct importer_state *st)
{
	unsigned long long addr, len;
	char line[128];
	FILE *f;

	memset(st, 0, sizeof(*st));
	st->attached = st->mapped = -1;
	f = fopen(IMPORTER "state", "r");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "attached %d", &st->attached) == 1 ||
		    sscanf(line, "mapped %d", &st->mapped) == 1 ||
		    sscanf(line, "invalidations %u", &st->invalidations) == 1)
			continue;
		if (sscanf(line, "seg %llx %llx", &addr, &len) == 2 &&
		    st->nr_segs < MAX_SEGS) {
			st->addr[st->nr_segs] = addr;
			st->len[st->nr_segs++] = len;
		}
	}
	fclose(f);
	return st->attached >= 0 && st->mapped >= 0;
}

/* The importer's mapped flag, or -1 if its state cannot be read. */
static int importer_mapped(void)
{
	struct importer_state st;

	return importer_state(&st) ? st.mapped : -1;
}

/* The CPU physical start of BAR 0 (sysfs resource), or 0. */
static uint64_t bar0_phys(void)
{
	unsigned long long start = 0;
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llx", &start) != 1)
		start = 0;
	fclose(f);
	return start;
}

/*
 * A peer-to-peer importer (the device itself, so that no host bridge lies
 * between importer and exporter) of a two-range dma-buf of BAR 0: the
 * exporter refuses importers without peer-to-peer or revocation, maps
 * the ranges at BAR 0's bus addresses, revokes the mapping (waiting for
 * the unmap, also one the importer defers) when memory is disabled and on
 * a reset, refuses to map or attach meanwhile, and maps again after.
 */
static void importer_checks(int device, uint16_t cmd)
{
	uint64_t phys = bar0_phys(), ol[4] = { PAGE, PAGE, 0, PAGE };
	struct importer_state st;
	int buf, ret, i;

	if (!check(access(IMPORTER "attach", W_OK) == 0,
		   "the test importer (dmabuf_importer.ko) is loaded", "errno=%s",
		   strerror(errno)))
		return;
	buf = get_dmabuf(device, GET, FULL_ARGSZ(2), 0, 0, 2, ol);
	if (!CHECK_OK(buf, "importer: a dma-buf of two ranges of BAR 0"))
		return;
	ret = importer("attach", "%d %s nop2p", buf, bdf);
	CHECK_ERR(ret, EOPNOTSUPP, "importer: attach without peer-to-peer is EOPNOTSUPP");
	ret = importer("attach", "%d %s norevoke", buf, bdf);
	CHECK_ERR(ret, EOPNOTSUPP, "importer: attach without invalidate_mappings is EOPNOTSUPP");
	ret = importer("attach", "%d %s", buf, bdf);
	if (!CHECK_OK(ret, "importer: a peer-to-peer, revocable attach"))
		goto out;
	ret = importer("map", "1");
	CHECK_OK(ret, "importer: map_dma_buf");
	check(importer_state(&st) && st.mapped == 1 && st.nr_segs == 2 &&
	      st.addr[0] == phys + PAGE && st.len[0] == PAGE &&
	      st.addr[1] == phys && st.len[1] == PAGE,
	      "importer: the mapping is the two ranges at BAR 0's bus addresses",
	      "mapped=%d segs=%u [%llx+%llx, %llx+%llx] BAR 0 at %llx", st.mapped,
	      st.nr_segs, (unsigned long long)st.addr[0], (unsigned long long)st.len[0],
	      (unsigned long long)st.addr[1], (unsigned long long)st.len[1],
	      (unsigned long long)phys);

	/* Revoke, restore, map, and revoke again (the mapping count re-arms). */
	for (i = 1; i <= 2; i++) {
		ret = write_command(device, cmd & ~PCI_COMMAND_MEMORY);
		CHECK_OK(ret, "importer: clear the memory bit of COMMAND");
		check(importer_state(&st) && st.mapped == 0 && st.invalidations >= 1,
		      "importer: memory disabled invalidated and unmapped the mapping",
		      "mapped=%d invalidations=%u", st.mapped, st.invalidations);
		ret = importer("map", "1");
		CHECK_ERR(ret, ENODEV, "importer: memory disabled: map_dma_buf is ENODEV");
		ret = write_command(device, cmd);
		CHECK_OK(ret, "importer: set the memory bit again");
		ret = importer("map", "1");
		checkf(ret == 0, "importer: memory enabled: map_dma_buf works again (%d of 2)", i);
	}

	/* A reset revokes, waiting for the unmap, then restores. */
	ret = ioctl(device, VFIO_DEVICE_RESET);
	if (ret == 0) {
		check(importer_mapped() == 0, "importer: VFIO_DEVICE_RESET unmapped the mapping",
		      "mapped=%d", importer_mapped());
		ret = importer("map", "1");
		CHECK_OK(ret, "importer: after the reset: map_dma_buf works");
	}
	ret = importer("detach", "1");
	CHECK_OK(ret, "importer: detach (with the mapping)");

	/* An importer that unmaps 200 ms after the invalidation. */
	ret = importer("attach", "%d %s defer", buf, bdf);
	CHECK_OK(ret, "importer: attach one that defers its unmap");
	ret = importer("map", "1");
	CHECK_OK(ret, "importer: deferring: map_dma_buf");
	ret = write_command(device, cmd & ~PCI_COMMAND_MEMORY);
	CHECK_OK(ret, "importer: deferring: clear the memory bit of COMMAND");
	check(importer_mapped() == 0,
	      "importer: deferring: the config write returned after the unmap",
	      "mapped=%d", importer_mapped());
	ret = importer("detach", "1");
	CHECK_OK(ret, "importer: deferring: detach");

	/* Revoked: no new attachment. */
	ret = importer("attach", "%d %s", buf, bdf);
	CHECK_ERR(ret, ENODEV, "importer: memory disabled: attach is ENODEV");
	if (ret == 0)
		importer("detach", "1");
	ret = write_command(device, cmd);
	CHECK_OK(ret, "importer: set the memory bit again");
out:
	close(buf);
}

/*
 * A driver built without dma-buf support (ours with VFIO_RS_DMABUF=n, as
 * upstream's without CONFIG_VFIO_PCI_DMABUF): the feature is unknown,
 * ENOTTY for PROBE and GET alike, and the device works otherwise.
 */
static int disabled_checks(int device)
{
	uint64_t ol[2] = { 0, PAGE };
	uint16_t cmd;
	int ret;

	ret = get_dmabuf(device, VFIO_DEVICE_FEATURE_PROBE | GET, FULL_ARGSZ(1), 0, 0, 1, ol);
	CHECK_ERR(ret, ENOTTY, "no dma-buf support: PROBE of the feature is ENOTTY");
	ret = get_dmabuf(device, GET, FULL_ARGSZ(1), 0, 0, 1, ol);
	CHECK_ERR(ret, ENOTTY, "no dma-buf support: GET is ENOTTY");
	if (ret >= 0)
		close(ret);
	cmd = read_command(device);
	ret = write_command(device, cmd & ~PCI_COMMAND_MEMORY);
	CHECK_OK(ret, "no dma-buf support: clear the memory bit of COMMAND");
	ret = write_command(device, cmd | PCI_COMMAND_MEMORY);
	CHECK_OK(ret, "no dma-buf support: set it again");
	check(read_command(device) & PCI_COMMAND_MEMORY,
	      "no dma-buf support: the memory bit reads back set", "COMMAND=%#x",
	      read_command(device));
	ret = ioctl(device, VFIO_DEVICE_RESET);
	check(ret == 0 || errno == EINVAL,
	      "no dma-buf support: VFIO_DEVICE_RESET works or there is none",
	      "ret=%d errno=%s", ret, ret ? strerror(errno) : "-");
	ret = low_power(device, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY);
	CHECK_OK(ret, "no dma-buf support: LOW_POWER_ENTRY");
	ret = low_power(device, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT);
	CHECK_OK(ret, "no dma-buf support: LOW_POWER_EXIT");
	close(device);
	return tap_done();
}

/* The first standard BAR whose config-space BAR register says I/O, or -1. */
static int find_io_bar(int device)
{
	uint32_t bar;
	int i;

	for (i = 0; i < 6; i++) {
		if (pread(device, &bar, 4,
			  cfg_offset + PCI_BASE_ADDRESS_0 + 4 * i) != 4)
			return -1;
		if (bar & PCI_BASE_ADDRESS_SPACE_IO && region_size(device, i, NULL))
			return i;
	}
	return -1;
}

/* The first standard BAR of size 0 (unimplemented), or -1. */
static int find_empty_bar(int device)
{
	int i;

	for (i = 0; i < 6; i++)
		if (!region_size(device, i, NULL))
			return i;
	return -1;
}

static void bad_inputs(int device, uint64_t bar0)
{
	const size_t hdr = sizeof(struct vfio_device_feature);
	uint64_t ol[4];
	int ret, idx;

	ret = get_dmabuf(device, VFIO_DEVICE_FEATURE_PROBE | GET, hdr, 0, 0, 0, NULL);
	check(ret == 0, "PROBE with GET is 0", "ret=%d errno=%s", ret,
	      ret ? strerror(errno) : "-");
	ret = get_dmabuf(device, VFIO_DEVICE_FEATURE_PROBE, hdr, 0, 0, 0, NULL);
	check(ret == 0, "PROBE without GET/SET is 0", "ret=%d errno=%s", ret,
	      ret ? strerror(errno) : "-");
	ret = get_dmabuf(device, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET,
			 hdr, 0, 0, 0, NULL);
	CHECK_ERR(ret, EINVAL, "PROBE with SET is EINVAL");

	ol[0] = 0;
	ol[1] = PAGE;
	ret = get_dmabuf(device, VFIO_DEVICE_FEATURE_SET, FULL_ARGSZ(1), 0, 0, 1, ol);
	CHECK_ERR(ret, EINVAL, "SET is EINVAL");
	ret = get_dmabuf(device, 0, FULL_ARGSZ(1), 0, 0, 1, ol);
	CHECK_ERR(ret, EINVAL, "neither GET nor SET is EINVAL");
	ret = get_dmabuf(device, GET, FULL_ARGSZ(0) - 1, 0, 0, 1, ol);
	CHECK_ERR(ret, EINVAL, "argsz short of the header is EINVAL");
	ret = get_dmabuf(device, GET, FULL_ARGSZ(1), 0, 0, 0, ol);
	CHECK_ERR(ret, EINVAL, "nr_ranges 0 is EINVAL");
	ret = get_dmabuf(device, GET, FULL_ARGSZ(1), 0, 1, 1, ol);
	CHECK_ERR(ret, EINVAL, "flags 1 is EINVAL");
	ret = get_dmabuf(device, GET, FULL_ARGSZ(1), VFIO_PCI_ROM_REGION_INDEX,
			 0, 1, ol);
	CHECK_ERR(ret, ENODEV, "the ROM region is ENODEV");
	ret = get_dmabuf(device, GET, FULL_ARGSZ(1), VFIO_PCI_CONFIG_REGION_INDEX,
			 0, 1, ol);
	CHECK_ERR(ret, ENODEV, "the config region is ENODEV");
	ret = get_dmabuf(device, GET, FULL_ARGSZ(1), 0xffffffff, 0, 1, ol);
	CHECK_ERR(ret, ENODEV, "region 0xffffffff is ENODEV");
	idx = find_empty_bar(device);
	if (idx >= 0) {
		ret = get_dmabuf(device, GET, FULL_ARGSZ(1), idx, 0, 1, ol);
		CHECK_ERR(ret, ENODEV, "an unimplemented BAR is ENODEV");
	}
	idx = find_io_bar(device);
	if (idx >= 0) {
		ret = get_dmabuf(device, GET, FULL_ARGSZ(1), idx, 0, 1, ol);
		CHECK_ERR(ret, EINVAL, "an I/O BAR is EINVAL");
	}

	/* The ranges are copied in before any is looked at. */
	ret = get_dmabuf(device, GET, FULL_ARGSZ(1), 0, 0, 1U << 28, ol);
	CHECK_ERR(ret, ENOMEM, "2^28 ranges (4 GiB of them) is ENOMEM");

	ret = bar0_dmabuf(device, 1, PAGE);
	CHECK_ERR(ret, EINVAL, "an unaligned offset is EINVAL");
	ret = bar0_dmabuf(device, 0, PAGE + 1);
	CHECK_ERR(ret, EINVAL, "an unaligned length is EINVAL");
	ret = bar0_dmabuf(device, 0, 0);
	CHECK_ERR(ret, EINVAL, "a zero length is EINVAL");
	ret = bar0_dmabuf(device, 0, 1ULL << 63);
	CHECK_ERR(ret, EINVAL, "a length with bit 63 (the swiotlb flag) is EINVAL");
	ol[0] = 0;
	ol[1] = 1ULL << 63;
	ol[2] = 0;
	ol[3] = 1ULL << 63;
	ret = get_dmabuf(device, GET, FULL_ARGSZ(2), 0, 0, 2, ol);
	CHECK_ERR(ret, EINVAL, "lengths whose sum overflows are EINVAL");
	ret = bar0_dmabuf(device, 0, bar0 + PAGE);
	CHECK_ERR(ret, EINVAL, "a range past the BAR's end is EINVAL");
	ret = bar0_dmabuf(device, bar0, PAGE);
	CHECK_ERR(ret, EINVAL, "a range at the BAR's end is EINVAL");
	ret = bar0_dmabuf(device, -PAGE, PAGE);
	CHECK_ERR(ret, EOVERFLOW, "BAR start + offset overflowing is EOVERFLOW");
	ret = bar0_dmabuf(device, (1ULL << 63) - PAGE, 1ULL << 62);
	CHECK_ERR(ret, EINVAL, "a huge in-range-sum but past-the-BAR range is EINVAL");
}

int main(int argc, char *argv[])
{
	int device, iommufd, buf, buf2, ret, pm;
	uint64_t bar0, ol[4], iova = 0;
	struct vfio_device_info info = { .argsz = sizeof(info) };
	uint32_t ioas = 0;
	uint16_t cmd;
	off_t size;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DDDD:BB:DD.F\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	bdf = argv[1];

	device = open_device(&iommufd, &ioas);
	if (!check(device >= 0, "open the cdev, bind an iommufd, attach an IOAS",
		   "errno=%s", strerror(errno)))
		goto out;
	if (ioctl(device, VFIO_DEVICE_GET_INFO, &info))
		info.flags = 0;
	bar0 = region_size(device, 0, NULL);
	region_size(device, VFIO_PCI_CONFIG_REGION_INDEX, &cfg_offset);
	printf("# vfio_dmabuf %s: BAR 0 is %llu bytes\n", bdf,
	       (unsigned long long)bar0);
	if (!check(bar0 >= 2 * PAGE, "BAR 0 has two pages", "size=%llu",
		   (unsigned long long)bar0))
		goto out;
	if (getenv("VFIO_RS_DMABUF") && !strcmp(getenv("VFIO_RS_DMABUF"), "n"))
		return disabled_checks(device);
	cmd = read_command(device) | PCI_COMMAND_MEMORY;
	ret = write_command(device, cmd);
	CHECK_OK(ret, "set the memory bit of COMMAND");

	bad_inputs(device, bar0);

	/* A two-range dma-buf: created, but iommufd maps one range only. */
	ol[0] = PAGE;
	ol[1] = PAGE;
	ol[2] = 0;
	ol[3] = PAGE;
	buf = get_dmabuf(device, GET, FULL_ARGSZ(2), 0, 0, 2, ol);
	if (CHECK_OK(buf, "a dma-buf of two ranges of BAR 0")) {
		size = lseek(buf, 0, SEEK_END);
		check(size == 2 * PAGE, "its size is the ranges' sum",
		      "size=%lld", (long long)size);
		ret = map_file(iommufd, ioas, buf, 2 * PAGE, NULL);
		CHECK_ERR(ret, EOPNOTSUPP, "MAP_FILE of two ranges is EOPNOTSUPP");
		close(buf);
	}

	buf = bar0_dmabuf(device, 0, bar0);
	if (!CHECK_OK(buf, "a dma-buf of all of BAR 0"))
		goto out;
	size = lseek(buf, 0, SEEK_END);
	check(size == (off_t)bar0, "its size is the BAR's", "size=%lld",
	      (long long)size);
	ret = map_file(iommufd, ioas, buf, bar0, &iova);
	CHECK_OK(ret, "MAP_FILE of it into the IOAS");

	/* Memory disable revokes; enable restores. */
	ret = write_command(device, cmd & ~PCI_COMMAND_MEMORY);
	CHECK_OK(ret, "clear the memory bit of COMMAND");
	ret = map_unmap(iommufd, ioas, buf, bar0);
	CHECK_ERR(ret, ENODEV, "memory disabled: a new MAP_FILE is ENODEV");
	buf2 = bar0_dmabuf(device, 0, PAGE);
	if (CHECK_OK(buf2, "memory disabled: a new dma-buf is still created")) {
		ret = map_unmap(iommufd, ioas, buf2, PAGE);
		CHECK_ERR(ret, ENODEV, "memory disabled: MAP_FILE of that is ENODEV");
	}
	ret = unmap(iommufd, ioas, iova, bar0);
	CHECK_OK(ret, "memory disabled: UNMAP of the revoked mapping");
	ret = write_command(device, cmd);
	CHECK_OK(ret, "set the memory bit again");
	ret = map_file(iommufd, ioas, buf, bar0, &iova);
	CHECK_OK(ret, "memory enabled: MAP_FILE works again");
	if (buf2 >= 0) {
		ret = map_unmap(iommufd, ioas, buf2, PAGE);
		CHECK_OK(ret, "memory enabled: MAP_FILE of the dma-buf created while disabled");
	}

	/* D3hot through PMCSR revokes; D0 restores. */
	pm = find_pm_cap(device);
	if (pm) {
		ret = write_pmcsr(device, pm, 3);
		CHECK_OK(ret, "PMCSR write to D3hot");
		ret = map_unmap(iommufd, ioas, buf, bar0);
		CHECK_ERR(ret, ENODEV, "D3hot: a new MAP_FILE is ENODEV");
		ret = write_pmcsr(device, pm, 0);
		CHECK_OK(ret, "PMCSR write to D0");
		ret = map_unmap(iommufd, ioas, buf, bar0);
		CHECK_OK(ret, "D0: MAP_FILE works again");
	}

	/* Low power entry revokes; exit restores. */
	ret = low_power(device, VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY);
	CHECK_OK(ret, "LOW_POWER_ENTRY");
	ret = map_unmap(iommufd, ioas, buf, bar0);
	CHECK_ERR(ret, ENODEV, "low power: a new MAP_FILE is ENODEV");
	ret = low_power(device, VFIO_DEVICE_FEATURE_LOW_POWER_EXIT);
	CHECK_OK(ret, "LOW_POWER_EXIT");
	ret = map_unmap(iommufd, ioas, buf, bar0);
	CHECK_OK(ret, "after low power: MAP_FILE works again");

	/* A reset revokes for its duration, then restores. */
	ret = ioctl(device, VFIO_DEVICE_RESET);
	if (info.flags & VFIO_DEVICE_FLAGS_RESET)
		CHECK_OK(ret, "VFIO_DEVICE_RESET with a mapped dma-buf");
	else
		CHECK_ERR(ret, EINVAL, "VFIO_DEVICE_RESET without a reset is EINVAL");
	ret = map_unmap(iommufd, ioas, buf, bar0);
	CHECK_OK(ret, "after the reset: a new MAP_FILE works");
	ret = unmap(iommufd, ioas, iova, bar0);
	CHECK_OK(ret, "after the reset: UNMAP of the mapping made before it");

	/* A slot or bus reset revokes every member's dma-bufs meanwhile. */
	if (hot_reset_expected()) {
		struct vfio_pci_hot_reset hr = { .argsz = sizeof(hr) };

		ret = ioctl(device, VFIO_DEVICE_PCI_HOT_RESET, &hr);
		CHECK_OK(ret, "PCI_HOT_RESET (iommufd ownership) with a dma-buf");
		ret = map_unmap(iommufd, ioas, buf, bar0);
		CHECK_OK(ret, "after the hot reset: a new MAP_FILE works");
	}

	importer_checks(device, cmd);

	/* Close the device with the dma-bufs still open (one mapped, twice). */
	ret = map_file(iommufd, ioas, buf, bar0, &iova);
	CHECK_OK(ret, "map it again before closing the device");
	ret = importer("attach", "%d %s", buf, bdf);
	if (CHECK_OK(ret, "importer: attach before closing the device")) {
		ret = importer("map", "1");
		CHECK_OK(ret, "importer: map_dma_buf before closing the device");
	}
	close(device);
	device = -1;
	check(importer_mapped() == 0, "importer: device closed: the mapping is unmapped",
	      "mapped=%d", importer_mapped());
	ret = importer("map", "1");
	CHECK_ERR(ret, ENODEV, "importer: device closed: map_dma_buf is ENODEV");
	ret = importer("detach", "1");
	CHECK_OK(ret, "importer: device closed: detach");
	ret = map_unmap(iommufd, ioas, buf, bar0);
	CHECK_ERR(ret, ENODEV, "device closed: MAP_FILE of its dma-buf is ENODEV");
	ret = unmap(iommufd, ioas, iova, bar0);
	check(ret == 0 || errno == ENOENT,
	      "device closed: UNMAP of the old mapping works or is gone",
	      "ret=%d errno=%s", ret, ret ? strerror(errno) : "-");
	close(buf);
	if (buf2 >= 0)
		close(buf2);
	close(iommufd);

	/* The device opens again: the dma-bufs held nothing of it. */
	device = open_device(&iommufd, &ioas);
	if (CHECK_OK(device, "reopen after closing the dma-bufs")) {
		buf = bar0_dmabuf(device, 0, PAGE);
		if (CHECK_OK(buf, "a dma-buf of the reopened device")) {
			write_command(device, read_command(device) | PCI_COMMAND_MEMORY);
			ret = map_unmap(iommufd, ioas, buf, PAGE);
			CHECK_OK(ret, "MAP_FILE of it");
			close(buf);
		}
	}
out:
	if (device >= 0)
		close(device);
	return tap_done();
}
