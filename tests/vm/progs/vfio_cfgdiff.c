// SPDX-License-Identifier: GPL-2.0
/*
 * Config-space virtualization, C driver against ours: reads every byte,
 * word and dword of the config region through the device fd, then writes
 * three patterns to every dword (and to every byte of the standard header)
 * and reads each back, restoring the old value after each write; reads
 * and writes longer than a dword, at odd offsets too.  Every
 * answer (value or errno) goes to /tmp/vfio_cfgdiff.<bdf>.<driver>.
 *
 * Run on the in-tree C vfio-pci first (VFIO_RS_DRIVER=c), it only records
 * the reference.  Run on ours (VFIO_RS_DRIVER=rs), it compares line by line
 * with the reference of the same boot and fails on any difference, printing
 * the first ones.  Without a reference it exits 4 (skip).
 *
 *   vfio_cfgdiff <bdf>
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "vfio_test.h"

#define MAX_DIFFS 40

static int device;
static uint64_t cfg_off;
static FILE *out;

/* Reads `width` bytes at `pos`; writes "value" or "errno" to `buf`. */
static void rd(unsigned int pos, int width, char *buf, size_t len)
{
	uint32_t v = 0;
	ssize_t n = pread(device, &v, width, cfg_off + pos);

	if (n == width)
		snprintf(buf, len, "%0*x", width * 2, v);
	else if (n < 0)
		snprintf(buf, len, "E%d", errno);
	else
		snprintf(buf, len, "short%zd", n);
}

static void wr(unsigned int pos, int width, uint32_t v, char *buf, size_t len)
{
	ssize_t n = pwrite(device, &v, width, cfg_off + pos);

	if (n == width)
		snprintf(buf, len, "ok");
	else if (n < 0)
		snprintf(buf, len, "E%d", errno);
	else
		snprintf(buf, len, "short%zd", n);
}

/* Dumps the answer of a read of `len` bytes at `pos` as hex, 64 bytes a line. */
static void rd_long(const char *what, unsigned int pos, unsigned int len)
{
	static uint8_t buf[4096];
	ssize_t n = pread(device, buf, len, cfg_off + pos);

	if (n < 0) {
		fprintf(out, "%s %03x+%u E%d\n", what, pos, len, errno);
		return;
	}
	fprintf(out, "%s %03x+%u read %zd\n", what, pos, len, n);
	for (ssize_t i = 0; i < n; i += 64) {
		fprintf(out, " ");
		for (ssize_t j = i; j < n && j < i + 64; j++)
			fprintf(out, "%02x", buf[j]);
		fprintf(out, "\n");
	}
}

/*
 * Reads longer than a dword, which the driver cuts into pieces at dword
 * and capability boundaries: the whole region at once, the standard
 * header, and odd lengths at odd offsets across capabilities.
 */
static void read_long(unsigned int size)
{
	rd_long("RL", 0, size);
	rd_long("RL", 0, 64);
	for (unsigned int pos = 1; pos + 11 <= size && pos < 0x100; pos += 6)
		rd_long("RL", pos, 11);
	if (size > 0x100)
		rd_long("RL", 0xfd, 7);
	rd_long("RL", size - 6, 8);
}

/*
 * Writes longer than a dword: the standard header's bytes 4..63 written
 * back with what a read of them gives, and 7 bytes at an odd offset; each
 * read back whole.
 */
static void write_long(void)
{
	static const unsigned int at[][2] = { { 4, 60 }, { 0x3, 7 } };
	uint8_t buf[64];
	char w[32];

	for (unsigned int i = 0; i < 2; i++) {
		unsigned int pos = at[i][0], len = at[i][1];

		if (pread(device, buf, len, cfg_off + pos) != (ssize_t)len)
			memset(buf, 0, sizeof(buf));
		ssize_t n = pwrite(device, buf, len, cfg_off + pos);

		if (n < 0)
			snprintf(w, sizeof(w), "E%d", errno);
		else
			snprintf(w, sizeof(w), "%zd", n);
		fprintf(out, "WL %03x+%u write %s\n", pos, len, w);
		rd_long("WL-read", pos, len);
	}
}

/* Reads everything at every width. */
static void read_all(unsigned int size)
{
	static const int widths[] = { 1, 2, 4 };
	char a[32];

	for (unsigned int w = 0; w < 3; w++) {
		for (unsigned int pos = 0; pos < size; pos += widths[w]) {
			rd(pos, widths[w], a, sizeof(a));
			fprintf(out, "R%d %03x %s\n", widths[w], pos, a);
		}
	}
	/* Past the end, and across it. */
	rd(size, 4, a, sizeof(a));
	fprintf(out, "R4 end %s\n", a);
	rd(size - 2, 4, a, sizeof(a));
	fprintf(out, "R4 across-end %s\n", a);
	read_long(size);
}

/* Writes `pattern` at `pos` (width `width`), reads back, restores. */
static void write_back(unsigned int pos, int width, uint32_t pattern)
{
	char old[32], w[32], back[32], r[32], after[32];
	uint32_t v = 0;

	rd(pos, width, old, sizeof(old));
	if (pread(device, &v, width, cfg_off + pos) != width)
		v = 0;
	wr(pos, width, pattern, w, sizeof(w));
	rd(pos, width, back, sizeof(back));
	wr(pos, width, v, r, sizeof(r));
	rd(pos, width, after, sizeof(after));
	fprintf(out, "W%d %03x %08x: old %s write %s read %s restore %s read %s\n",
		width, pos, pattern, old, w, back, r, after);
}

static void write_all(unsigned int size)
{
	static const uint32_t patterns[] = { 0xffffffff, 0x00000000, 0xa5a5a5a5 };

	for (unsigned int p = 0; p < 3; p++)
		for (unsigned int pos = 0; pos < size; pos += 4)
			write_back(pos, 4, patterns[p]);
	for (unsigned int p = 0; p < 3; p++)
		for (unsigned int pos = 0; pos < 0x40; pos++)
			write_back(pos, 1, patterns[p]);
	write_long();
	/* Final state after all the writes. */
	read_all(size);
}

/*
 * Compares `mine` with `ref` line by line; returns the differences and
 * stores the lines compared in `*lines`.
 */
static unsigned int compare(const char *mine, const char *ref, unsigned int *lines)
{
	FILE *a = fopen(mine, "r"), *b = fopen(ref, "r");
	char la[256], lb[256];
	unsigned int line = 0, diffs = 0;

	if (!a || !b)
		vfio_test_die("open dumps");
	for (;;) {
		char *ra = fgets(la, sizeof(la), a), *rb = fgets(lb, sizeof(lb), b);

		line++;
		if (!ra && !rb)
			break;
		if (ra && rb && !strcmp(la, lb))
			continue;
		if (++diffs <= MAX_DIFFS)
			printf("# line %u differs:\n#   C:    %s#   ours: %s", line,
			       rb ? lb : "(end)\n", ra ? la : "(end)\n");
		if (!ra || !rb)
			break;
	}
	fclose(a);
	fclose(b);
	*lines = line - 1;
	return diffs;
}

int main(int argc, char **argv)
{
	int container, group;
	struct vfio_region_info reg = {
		.argsz = sizeof(reg),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	const char *driver = getenv("VFIO_RS_DRIVER");
	char mine[PATH_MAX], ref[PATH_MAX];
	unsigned int diffs, lines;

	if (argc != 2 || !driver) {
		fprintf(stderr, "usage: VFIO_RS_DRIVER=c|rs %s <bdf>\n", argv[0]);
		return 2;
	}
	device = vfio_test_open_group(argv[1], &container, &group);
	if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &reg))
		vfio_test_die("GET_REGION_INFO config");
	cfg_off = reg.offset;
	snprintf(mine, sizeof(mine), "/tmp/vfio_cfgdiff.%s.%s", argv[1], driver);
	out = fopen(mine, "w");
	if (!out)
		vfio_test_die("create dump");
	fprintf(out, "config region size %llx flags %x\n",
		(unsigned long long)reg.size, reg.flags);
	read_all(reg.size);
	write_all(reg.size);
	fclose(out);
	close(device);
	printf("# %s: %llu bytes of config space read at 3 widths, written with 3 patterns\n",
	       argv[1], (unsigned long long)reg.size);

	if (!strcmp(driver, "c")) {
		printf("ok - reference recorded in %s\n", mine);
		return 0;
	}
	snprintf(ref, sizeof(ref), "/tmp/vfio_cfgdiff.%s.c", argv[1]);
	if (access(ref, R_OK)) {
		printf("# no C reference (%s): the C driver did not run first\n", ref);
		return 4;
	}
	diffs = compare(mine, ref, &lines);
	printf("# %u lines compared\n", lines);
	if (diffs) {
		printf("not ok - %u lines differ from the C driver's answers\n", diffs);
		return 1;
	}
	printf("ok - every answer equals the C driver's\n");
	return 0;
}
