// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_lowpower - runtime PM of a vfio-pci device and the
 * VFIO_DEVICE_FEATURE_LOW_POWER_{ENTRY,ENTRY_WITH_WAKEUP,EXIT} features.
 *
 * Checks that an unused device runtime suspends (idle D3: D3hot if it has a
 * PM capability) and an open one is active; the PROBE answers and the
 * errnos of bad calls (GET, no GET/SET, short argsz, a negative, closed or
 * non-eventfd wakeup fd); that after LOW_POWER_ENTRY the device suspends,
 * its BAR mmap faults with SIGBUS, a second entry is EINVAL, a config read
 * through the fd still works, and LOW_POWER_EXIT brings the mmap back; that
 * with a wakeup eventfd, an access through the fd wakes the device, signals
 * the eventfd and ends low power by itself; that closing the device in
 * low power leaves it suspended and reopenable; and that a device bound
 * while vfio_pci's disable_idle_d3 is set stays awake when unused, but
 * still suspends on LOW_POWER_ENTRY.
 *
 * Usage: vfio_lowpower DDDD:BB:DD.F
 *
 * Prints one TAP line per check, the plan, and exits 1 if any failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "tap.h"
#include "vfio_test.h"

#define SAW "ret=%d errno=%s", ret, ret ? strerror(errno) : "-"
#define CHECK_ERR(ret, err, what) \
	check((ret) == -1 && errno == (err), what, "ret=%d errno=%s", (ret), \
	      (ret) ? strerror(errno) : "-")

static const char *bdf;

static void read_attr(const char *attr, char *buf, size_t size)
{
	char path[PATH_MAX];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	f = fopen(path, "r");
	if (!f)
		return;
	if (!fgets(buf, size, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* Waits up to 5 s for power/runtime_status to read @want; leaves it in @buf. */
static bool wait_status(const char *want, char *buf, size_t size)
{
	int i;

	for (i = 0; i < 50; i++) {
		read_attr("power/runtime_status", buf, size);
		if (!strcmp(buf, want))
			return true;
		usleep(100000);
	}
	return false;
}

/* Whether the device has a PCI power management capability. */
static bool has_pm_cap(void)
{
	unsigned char cfg[256];
	char path[PATH_MAX];
	int fd, pos, n = 0;
	ssize_t len;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	len = read(fd, cfg, sizeof(cfg));
	close(fd);
	if (len < 64 || !(cfg[6] & 0x10))
		return false;
	for (pos = cfg[0x34] & ~3; pos && pos < len - 1 && n++ < 48;
	     pos = cfg[pos + 1] & ~3)
		if (cfg[pos] == 0x01)
			return true;
	return false;
}

static sigjmp_buf fault_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(fault_jmp, 1);
}

/* Reads the first word of @bar; false if that faulted with SIGBUS. */
static bool bar_readable(volatile uint32_t *bar)
{
	if (sigsetjmp(fault_jmp, 1))
		return false;
	(void)bar[0];
	return true;
}


/* Sets vfio_pci's disable_idle_d3 and rebinds the device, which latches it. */
static bool rebind_with_idle_d3(const char *disable)
{
	return vfio_test_write_sysfs("/sys/module/vfio_pci/parameters/disable_idle_d3",
				     disable) &&
	       vfio_test_write_sysfs("/sys/bus/pci/drivers/vfio-pci/unbind", bdf) &&
	       vfio_test_write_sysfs("/sys/bus/pci/drivers_probe", bdf);
}

static int feature(int device, __u32 flags, __u32 argsz, const void *data,
		   size_t len)
{
	struct {
		struct vfio_device_feature hdr;
		__u8 data[16];
	} f = { .hdr = { .argsz = argsz, .flags = flags } };

	memcpy(f.data, data, len);
	return ioctl(device, VFIO_DEVICE_FEATURE, &f);
}

#define HDR	sizeof(struct vfio_device_feature)
#define ENTRY	VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY
#define WAKEUP	VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP
#define EXIT	VFIO_DEVICE_FEATURE_LOW_POWER_EXIT
#define SET	VFIO_DEVICE_FEATURE_SET
#define GET	VFIO_DEVICE_FEATURE_GET
#define PROBE	VFIO_DEVICE_FEATURE_PROBE

static int wakeup_entry(int device, int fd, __u32 argsz)
{
	struct vfio_device_low_power_entry_with_wakeup w = {
		.wakeup_eventfd = fd,
	};

	return feature(device, WAKEUP | SET, argsz, &w, sizeof(w));
}

/* Reads vendor and device ID through the config region of the fd. */
static int config_ids(int device, uint32_t *ids)
{
	struct vfio_region_info reg = {
		.argsz = sizeof(reg), .index = VFIO_PCI_CONFIG_REGION_INDEX,
	};

	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &reg))
		return -1;
	return pread(device, ids, 4, reg.offset) == 4 ? 0 : -1;
}

int main(int argc, char *argv[])
{
	char status[64], pstate[64], want_d3[16];
	volatile uint32_t *bar = NULL;
	uint32_t ids = 0, want_ids;
	int device, iommufd, efd, ret;
	struct sigaction sa = { .sa_handler = on_sigbus };
	bool pm_cap;
	uint64_t count = 0;
	size_t size = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DDDD:BB:DD.F\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	bdf = argv[1];
	sigaction(SIGBUS, &sa, NULL);
	pm_cap = has_pm_cap();
	snprintf(want_d3, sizeof(want_d3), "%s", pm_cap ? "D3hot" : "D0");
	read_attr("vendor", status, sizeof(status));
	want_ids = strtoul(status, NULL, 16);
	read_attr("device", status, sizeof(status));
	want_ids |= strtoul(status, NULL, 16) << 16;
	printf("# vfio_lowpower %s (PM capability: %s)\n", bdf,
	       pm_cap ? "yes" : "no");

	/* Idle D3: an unused device suspends. */
	check(wait_status("suspended", status, sizeof(status)),
	      "unused: runtime suspended", "runtime_status=%s", status);
	read_attr("power_state", pstate, sizeof(pstate));
	check(!strcmp(pstate, want_d3), "unused: in the low power state",
	      "power_state=%s, want %s", pstate, want_d3);

	device = vfio_test_open_cdev(bdf, &iommufd);
	if (!check(device >= 0, "open and bind the device cdev", "errno=%s",
		   strerror(errno)))
		goto out;
	read_attr("power/runtime_status", status, sizeof(status));
	read_attr("power_state", pstate, sizeof(pstate));
	check(!strcmp(status, "active") && !strcmp(pstate, "D0"),
	      "open: active in D0", "runtime_status=%s power_state=%s", status,
	      pstate);

	ret = feature(device, ENTRY | PROBE | SET, HDR, NULL, 0);
	check(ret == 0, "PROBE of ENTRY with SET is 0", SAW);
	ret = feature(device, ENTRY | PROBE | GET, HDR, NULL, 0);
	CHECK_ERR(ret, EINVAL, "PROBE of ENTRY with GET is EINVAL");
	ret = feature(device, ENTRY | PROBE, HDR, NULL, 0);
	check(ret == 0, "PROBE of ENTRY without GET/SET is 0", SAW);
	ret = feature(device, WAKEUP | PROBE | SET, HDR, NULL, 0);
	check(ret == 0, "PROBE of ENTRY_WITH_WAKEUP with SET is 0 (no data)", SAW);
	ret = feature(device, WAKEUP | PROBE | GET, HDR, NULL, 0);
	CHECK_ERR(ret, EINVAL, "PROBE of ENTRY_WITH_WAKEUP with GET is EINVAL");
	ret = feature(device, EXIT | PROBE | SET, HDR, NULL, 0);
	check(ret == 0, "PROBE of EXIT with SET is 0", SAW);
	ret = feature(device, EXIT | PROBE | GET, HDR, NULL, 0);
	CHECK_ERR(ret, EINVAL, "PROBE of EXIT with GET is EINVAL");

	ret = feature(device, ENTRY | GET, HDR, NULL, 0);
	CHECK_ERR(ret, EINVAL, "ENTRY with GET is EINVAL");
	ret = feature(device, ENTRY, HDR, NULL, 0);
	CHECK_ERR(ret, EINVAL, "ENTRY without GET/SET is EINVAL");
	ret = feature(device, EXIT | GET, HDR, NULL, 0);
	CHECK_ERR(ret, EINVAL, "EXIT with GET is EINVAL");
	ret = wakeup_entry(device, 0, HDR + 4);
	CHECK_ERR(ret, EINVAL, "ENTRY_WITH_WAKEUP with a short argsz is EINVAL");
	ret = wakeup_entry(device, -1, HDR + 8);
	CHECK_ERR(ret, EINVAL, "ENTRY_WITH_WAKEUP with fd -1 is EINVAL");
	ret = wakeup_entry(device, 1000, HDR + 8);
	CHECK_ERR(ret, EBADF, "ENTRY_WITH_WAKEUP with a closed fd is EBADF");
	ret = wakeup_entry(device, iommufd, HDR + 8);
	CHECK_ERR(ret, EINVAL, "ENTRY_WITH_WAKEUP with a non-eventfd is EINVAL");
	ret = feature(device, EXIT | SET, HDR, NULL, 0);
	check(ret == 0, "EXIT when not in low power is 0", SAW);

	bar = vfio_test_map_bar0(device, &size);
	check(bar && bar_readable(bar), "BAR0 mmap readable while active",
	      "bar=%p", (void *)bar);

	/* Plain entry, left with EXIT. */
	ret = feature(device, ENTRY | SET, HDR, NULL, 0);
	check(ret == 0, "ENTRY", SAW);
	check(wait_status("suspended", status, sizeof(status)),
	      "ENTRY: runtime suspended", "runtime_status=%s", status);
	read_attr("power_state", pstate, sizeof(pstate));
	check(!strcmp(pstate, want_d3), "ENTRY: in the low power state",
	      "power_state=%s, want %s", pstate, want_d3);
	check(bar && !bar_readable(bar), "ENTRY: BAR0 mmap faults (SIGBUS)",
	      "bar=%p readable", (void *)bar);
	ret = feature(device, ENTRY | SET, HDR, NULL, 0);
	CHECK_ERR(ret, EINVAL, "ENTRY again is EINVAL");
	ret = config_ids(device, &ids);
	check(ret == 0 && ids == want_ids, "ENTRY: config read through the fd works",
	      "ret=%d ids=%#x want %#x", ret, ids, want_ids);
	check(bar && !bar_readable(bar), "ENTRY: BAR0 mmap still faults",
	      "bar=%p readable", (void *)bar);
	ret = feature(device, EXIT | SET, HDR, NULL, 0);
	check(ret == 0, "EXIT", SAW);
	read_attr("power/runtime_status", status, sizeof(status));
	check(!strcmp(status, "active"), "EXIT: active", "runtime_status=%s",
	      status);
	check(bar && bar_readable(bar), "EXIT: BAR0 mmap readable again",
	      "bar=%p", (void *)bar);

	/* Entry with a wakeup eventfd, woken by an access through the fd. */
	efd = eventfd(0, EFD_NONBLOCK);
	ret = wakeup_entry(device, efd, HDR + 8);
	check(ret == 0, "ENTRY_WITH_WAKEUP", SAW);
	check(wait_status("suspended", status, sizeof(status)),
	      "ENTRY_WITH_WAKEUP: runtime suspended", "runtime_status=%s", status);
	check(bar && !bar_readable(bar),
	      "ENTRY_WITH_WAKEUP: BAR0 mmap faults (SIGBUS)", "readable");
	ret = config_ids(device, &ids);
	check(ret == 0 && ids == want_ids,
	      "ENTRY_WITH_WAKEUP: config read through the fd works",
	      "ret=%d ids=%#x", ret, ids);
	ret = read(efd, &count, sizeof(count)) == sizeof(count) ? 0 : -1;
	check(ret == 0 && count == 1, "wakeup: the eventfd was signalled once",
	      "ret=%d count=%llu errno=%s", ret, (unsigned long long)count,
	      ret ? strerror(errno) : "-");
	usleep(500000);
	read_attr("power/runtime_status", status, sizeof(status));
	check(!strcmp(status, "active"), "wakeup: low power left, stays active",
	      "runtime_status=%s", status);
	check(bar && bar_readable(bar), "wakeup: BAR0 mmap readable without EXIT",
	      "readable=no");
	ret = feature(device, EXIT | SET, HDR, NULL, 0);
	check(ret == 0, "EXIT after a wakeup is 0", SAW);
	close(efd);

	/* Closing in low power. */
	ret = feature(device, ENTRY | SET, HDR, NULL, 0);
	check(ret == 0, "ENTRY before close", SAW);
	if (bar)
		munmap((void *)bar, size);
	close(device);
	close(iommufd);
	check(wait_status("suspended", status, sizeof(status)),
	      "closed in low power: runtime suspended", "runtime_status=%s",
	      status);
	device = vfio_test_open_cdev(bdf, &iommufd);
	read_attr("power/runtime_status", status, sizeof(status));
	check(device >= 0 && !strcmp(status, "active"),
	      "reopened: active", "device=%d runtime_status=%s", device, status);
	if (device >= 0) {
		close(device);
		close(iommufd);
	}
	check(wait_status("suspended", status, sizeof(status)),
	      "closed again: runtime suspended", "runtime_status=%s", status);

	/* disable_idle_d3: no idle D3, but low power entry still works. */
	if (check(rebind_with_idle_d3("Y"),
		  "rebind with disable_idle_d3=Y", "errno=%s", strerror(errno))) {
		usleep(1000000);
		read_attr("power/runtime_status", status, sizeof(status));
		check(!strcmp(status, "active"),
		      "disable_idle_d3: unused device stays active",
		      "runtime_status=%s", status);
		device = vfio_test_open_cdev(bdf, &iommufd);
		ret = device < 0 ? -1 : feature(device, ENTRY | SET, HDR, NULL, 0);
		check(ret == 0 && wait_status("suspended", status, sizeof(status)),
		      "disable_idle_d3: ENTRY suspends the open device",
		      "ret=%d runtime_status=%s", ret, status);
		ret = device < 0 ? -1 : feature(device, EXIT | SET, HDR, NULL, 0);
		check(ret == 0, "disable_idle_d3: EXIT", SAW);
		if (device >= 0) {
			close(device);
			close(iommufd);
		}
		usleep(1000000);
		read_attr("power/runtime_status", status, sizeof(status));
		check(!strcmp(status, "active"),
		      "disable_idle_d3: closed device stays active",
		      "runtime_status=%s", status);
	}
	check(rebind_with_idle_d3("N") &&
	      wait_status("suspended", status, sizeof(status)),
	      "rebind with disable_idle_d3=N: suspended again",
	      "runtime_status=%s", status);
out:
	return tap_done();
}
