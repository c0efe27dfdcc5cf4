// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_mig - VFIO live migration of a VF, through the uAPI only.
 *
 * Migrates the device state of VF A to VF B (both bound to an mlx5 VFIO
 * variant driver, their PF to the mlx5_sim firmware simulator) and checks,
 * through the simulator's debugfs, that B's state equals A's at the moment
 * A stopped.  Every migration mode the uAPI offers is covered (STOP_COPY
 * only, PRE_COPY then STOP_COPY, explicit RUNNING_P2P/PRE_COPY_P2P steps, a
 * state large enough for chunked saves), then bad input: invalid arcs,
 * truncated or corrupted streams, I/O in the wrong state, reads past the
 * end, a data fd closed mid-stream, a VF reset mid-migration, firmware
 * command failures.  Each errno checked is the one Linux 7.3's C
 * mlx5-vfio-pci gives; the VM runs this program against both drivers.
 *
 * Usage: vfio_mig A_BDF B_BDF          the whole suite (TAP)
 *        vfio_mig save BDF FILE        STOP_COPY stream of BDF to FILE, and
 *                                      its state checksum to FILE.sum
 *        vfio_mig load BDF FILE        resume BDF from FILE, check FILE.sum
 *        vfio_mig big A_BDF B_BDF MIB  stop-copy of MIB MiB of state, streamed
 *                                      from A to B without a copy in memory
 *        vfio_mig bench A_BDF B_BDF    timed stop-copy migrations (BENCH lines
 *                                      for tests/vm/bench.sh)
 *        vfio_mig prof A_BDF B_BDF [N [MIB]]  N stop-copy saves and N
 *                                      resumes of MIB MiB (default 50 of 1),
 *                                      each set a phase for
 *                                      tests/vm/profile.sh (as vfio_prof)
 *
 * Exit status: 0 all passed, 1 a check failed, 4 skipped (no simulator).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "prof.h"
#include "tap.h"
#include "vfio_test.h"

#define SIM_DEBUGFS "/sys/kernel/debug/mlx5_sim"
#define MIB (1024UL * 1024)
/* Upstream's stream framing: struct mlx5_vf_migration_header. */
#define MLX5_HDR_SIZE 16

static int container = -1;

/* Checks that @ret is -1 with errno @want; @what names the call. */
static void expect_errno(int ret, int err, int want, const char *what)
{
	if (ret == -1 && err == want)
		checkf(true, "%s: %s", what, strerror(want));
	else
		checkf(false, "%s: want %s, saw ret=%d errno=%s", what, strerror(want), ret,
		      ret == -1 ? strerror(err) : "-");
}

/* --- the simulator's debugfs --------------------------------------------- */

static bool sim_read(const char *bdf, const char *file, unsigned long long *val)
{
	char path[PATH_MAX], buf[64];
	ssize_t n;
	int fd;

	if (bdf)
		snprintf(path, sizeof(path), SIM_DEBUGFS "/%s/%s", bdf, file);
	else
		snprintf(path, sizeof(path), SIM_DEBUGFS "/%s", file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	*val = strtoull(buf, NULL, 0);
	return true;
}

static unsigned long long sim_get(const char *bdf, const char *file)
{
	unsigned long long val;

	if (!sim_read(bdf, file, &val)) {
		printf("# cannot read %s/%s/%s\n", SIM_DEBUGFS, bdf ? bdf : "", file);
		die("simulator debugfs");
	}
	return val;
}

static void sim_set(const char *bdf, const char *file, unsigned long long val)
{
	char path[PATH_MAX], buf[32];
	int fd, n;

	if (bdf)
		snprintf(path, sizeof(path), SIM_DEBUGFS "/%s/%s", bdf, file);
	else
		snprintf(path, sizeof(path), SIM_DEBUGFS "/%s", file);
	fd = open(path, O_WRONLY);
	n = snprintf(buf, sizeof(buf), "%llu\n", val);
	if (fd < 0 || write(fd, buf, n) != n)
		die(path);
	close(fd);
}

/* --- devices ------------------------------------------------------------- */

static int open_device(const char *bdf)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], name[32];
	int group, fd;

	if (!vfio_test_link_name(bdf, "iommu_group", name, sizeof(name)))
		die("iommu_group link");
	snprintf(path, sizeof(path), "/dev/vfio/%s", name);
	group = open(path, O_RDWR);
	if (group < 0)
		die("open group");
	if (ioctl(group, VFIO_GROUP_GET_STATUS, &status) ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		die("group not viable");
	if (container < 0) {
		container = open("/dev/vfio/vfio", O_RDWR);
		if (container < 0 || ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ||
		    ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
			die("container setup");
	} else if (!(status.flags & VFIO_GROUP_FLAGS_CONTAINER_SET) &&
		   ioctl(group, VFIO_GROUP_SET_CONTAINER, &container)) {
		die("VFIO_GROUP_SET_CONTAINER");
	}
	fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (fd < 0)
		die("VFIO_GROUP_GET_DEVICE_FD");
	return fd;
}

struct mig_state_arg {
	struct vfio_device_feature f;
	struct vfio_device_feature_mig_state s;
};

/* Sets the migration state; returns 0 or -1 (errno set), data fd in *data_fd. */
static int set_state(int dev, enum vfio_device_mig_state state, int *data_fd)
{
	struct mig_state_arg arg = {
		.f.argsz = sizeof(arg),
		.f.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
		.s.device_state = state,
		.s.data_fd = -1,
	};
	int ret = ioctl(dev, VFIO_DEVICE_FEATURE, &arg);

	if (data_fd)
		*data_fd = ret ? -1 : arg.s.data_fd;
	else if (!ret && arg.s.data_fd >= 0)
		close(arg.s.data_fd);
	return ret;
}

static int get_state(int dev)
{
	struct mig_state_arg arg = {
		.f.argsz = sizeof(arg),
		.f.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
	};

	if (ioctl(dev, VFIO_DEVICE_FEATURE, &arg))
		return -1;
	return arg.s.device_state;
}

static const char *state_name(int s)
{
	static const char *const names[] = {
		"ERROR", "STOP", "RUNNING", "STOP_COPY", "RESUMING", "RUNNING_P2P",
		"PRE_COPY", "PRE_COPY_P2P",
	};

	return s >= 0 && s < 8 ? names[s] : "?";
}

/*
 * Moves to @state; returns the data fd the move gave, -1 if none, -2 (after
 * a failed check) if the move failed.
 */
static int go(int dev, enum vfio_device_mig_state state, const char *who)
{
	int fd, ret;

	ret = set_state(dev, state, &fd);
	if (ret) {
		checkf(false, "%s -> %s: %s", who, state_name(state), strerror(errno));
		return -2;
	}
	return fd;
}

static void expect_state(int dev, int want, const char *who)
{
	int s = get_state(dev);

	checkf(s == want, "%s: device state %s (saw %s)", who, state_name(want), state_name(s));
}

static int precopy_info(int fd, struct vfio_precopy_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, info);
}

/* --- streams ------------------------------------------------------------- */

struct stream {
	unsigned char *buf;
	size_t len, cap;
};

static void stream_append(struct stream *s, const void *p, size_t n)
{
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		s->buf = realloc(s->buf, s->cap);
		if (!s->buf)
			die("realloc");
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

/*
 * Reads @fd into @s until end of stream (0), or, if @precopy, until ENOMSG
 * (no more data for now).  Returns 0, or the errno of a failed read.
 */
static int drain(int fd, struct stream *s, bool precopy, bool use_poll)
{
	static unsigned char buf[1 << 20];
	ssize_t n;

	for (;;) {
		if (use_poll) {
			struct pollfd p = { .fd = fd, .events = POLLIN };

			if (poll(&p, 1, 60000) != 1)
				return ETIMEDOUT;
		}
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			stream_append(s, buf, n);
			continue;
		}
		if (n == 0)
			return 0;
		if (precopy && errno == ENOMSG)
			return 0;
		return errno;
	}
}

/* Writes @len bytes of @p to @fd in pieces of varying size; 0 or errno. */
static int feed(int fd, const unsigned char *p, size_t len)
{
	static const size_t pieces[] = { 1, 7, 9, 4096, 100000, 1 << 20, 3 };
	size_t off = 0, i = 0;
	ssize_t n;

	while (off < len) {
		size_t want = pieces[i++ % 7];

		if (want > len - off)
			want = len - off;
		n = write(fd, p + off, want);
		if (n < 0)
			return errno;
		if (n == 0)
			return EIO;
		off += n;
	}
	return 0;
}

enum mode {
	STOP_COPY_ONLY,		/* RUNNING -> STOP_COPY, the core picks the path */
	STOP_COPY_P2P,		/* RUNNING -> RUNNING_P2P -> STOP -> STOP_COPY */
	PRE_COPY,		/* RUNNING -> PRE_COPY -> STOP_COPY */
	PRE_COPY_P2P,		/* RUNNING -> PRE_COPY -> PRE_COPY_P2P -> STOP_COPY */
};

static const char *const mode_names[] = {
	"stop-copy", "stop-copy via RUNNING_P2P", "pre-copy", "pre-copy via PRE_COPY_P2P",
};

/*
 * Saves the state of @dev into @s by @mode; *sum is the simulator's checksum
 * of the state once the device stopped.  Leaves the device in STOP_COPY
 * with the data fd closed.  Returns false after a failed check.
 */
static bool save(int dev, const char *bdf, enum mode mode, struct stream *s,
		 unsigned long long *sum)
{
	struct vfio_precopy_info info;
	bool saw_initial = false, saw_dirty = false;
	unsigned long long gen;
	int fd = -1, err, round;
	const char *what = mode_names[mode];

	if (mode == STOP_COPY_P2P) {
		if (go(dev, VFIO_DEVICE_STATE_RUNNING_P2P, bdf) < -1 ||
		    get_state(dev) != VFIO_DEVICE_STATE_RUNNING_P2P ||
		    go(dev, VFIO_DEVICE_STATE_STOP, bdf) < -1)
			return false;
	}
	if (mode == PRE_COPY || mode == PRE_COPY_P2P) {
		fd = go(dev, VFIO_DEVICE_STATE_PRE_COPY, bdf);
		if (fd < 0) {
			checkf(false, "%s: PRE_COPY gives a data fd", what);
			return false;
		}
		for (round = 0; round < 30; round++) {
			if (precopy_info(fd, &info)) {
				checkf(false, "%s: VFIO_MIG_GET_PRECOPY_INFO: %s", what,
				      strerror(errno));
				close(fd);
				return false;
			}
			if (info.initial_bytes)
				saw_initial = true;
			if (round > 0 && info.dirty_bytes)
				saw_dirty = true;
			err = drain(fd, s, true, false);
			if (err) {
				checkf(false, "%s: pre-copy read: %s", what, strerror(err));
				close(fd);
				return false;
			}
			/* Give the running device time to change. */
			usleep(50000);
			if (saw_dirty && !info.initial_bytes && round >= 3)
				break;
		}
		checkf(saw_initial, "%s: PRECOPY_INFO reported initial bytes", what);
		checkf(saw_dirty, "%s: PRECOPY_INFO reported dirty bytes of the running device",
		      what);
		if (mode == PRE_COPY_P2P) {
			if (go(dev, VFIO_DEVICE_STATE_PRE_COPY_P2P, bdf) < -1)
				return false;
			expect_state(dev, VFIO_DEVICE_STATE_PRE_COPY_P2P, what);
			checkf(precopy_info(fd, &info) == 0,
			      "%s: PRECOPY_INFO in PRE_COPY_P2P", what);
		}
		if (set_state(dev, VFIO_DEVICE_STATE_STOP_COPY, NULL)) {
			checkf(false, "%s: -> STOP_COPY: %s", what, strerror(errno));
			close(fd);
			return false;
		}
	} else {
		fd = go(dev, VFIO_DEVICE_STATE_STOP_COPY, bdf);
		if (fd < 0) {
			checkf(false, "%s: STOP_COPY gives a data fd", what);
			return false;
		}
	}
	expect_state(dev, VFIO_DEVICE_STATE_STOP_COPY, what);
	checkf(sim_get(bdf, "suspended") == 2, "%s: the source vhca is suspended", what);
	*sum = sim_get(bdf, "checksum");
	gen = sim_get(bdf, "generation");
	err = drain(fd, s, false, mode == STOP_COPY_P2P || mode == PRE_COPY_P2P);
	checkf(!err, "%s: stop-copy read to end of stream: %s (%zu bytes)", what,
	      strerror(err), s->len);
	checkf(sim_get(bdf, "generation") == gen && sim_get(bdf, "checksum") == *sum,
	      "%s: the stopped source does not change", what);
	close(fd);
	return !err;
}

/* Resumes @dev from @s; leaves it in STOP.  Returns 0 or the write's errno. */
static int load(int dev, const char *bdf, const struct stream *s, bool move_on)
{
	int fd, err;

	fd = go(dev, VFIO_DEVICE_STATE_RESUMING, bdf);
	if (fd < 0)
		return EBADF;
	err = feed(fd, s->buf, s->len);
	if (move_on && set_state(dev, VFIO_DEVICE_STATE_STOP, NULL))
		checkf(false, "%s: RESUMING -> STOP: %s", bdf, strerror(errno));
	close(fd);
	return err;
}

/* Puts @dev back into RUNNING and checks the vhca runs. */
static void back_to_running(int dev, const char *bdf)
{
	if (set_state(dev, VFIO_DEVICE_STATE_RUNNING, NULL))
		checkf(false, "%s -> RUNNING: %s", bdf, strerror(errno));
	else
		checkf(get_state(dev) == VFIO_DEVICE_STATE_RUNNING &&
		      sim_get(bdf, "suspended") == 0, "%s: back to RUNNING", bdf);
}

/* The firmware resources of migrations (PDs, memory keys) are all freed. */
static void check_no_leaks(const char *what)
{
	unsigned long long pds = sim_get(NULL, "pds"), mkeys = sim_get(NULL, "mkeys");

	checkf(pds == 0 && mkeys == 0, "%s: no PD or memory key left (pds %llu, mkeys %llu)",
	      what, pds, mkeys);
}

/* One full migration A -> B by @mode. */
static void migrate(int a, const char *abdf, int b, const char *bbdf, enum mode mode)
{
	unsigned long long sum_a, sum_b, saves, loads, size = sim_get(abdf, "state_size");
	struct stream s = {};
	int err;

	printf("# migrate %s -> %s, %s, %llu bytes of state\n", abdf, bbdf, mode_names[mode], size);
	saves = sim_get(abdf, "saves");
	loads = sim_get(bbdf, "loads");
	if (!save(a, abdf, mode, &s, &sum_a))
		goto out;
	saves = sim_get(abdf, "saves") - saves;
	/* The driver saves at most 8 MiB (MAX_CHUNK_SIZE) a time in chunk mode. */
	checkf(saves >= 1 + size / (9 * MIB), "%s: %llu SAVE_VHCA_STATE commands for %llu bytes",
	      mode_names[mode], saves, size);
	err = load(b, bbdf, &s, true);
	checkf(!err, "%s: the destination took the stream: %s", mode_names[mode], strerror(err));
	expect_state(b, VFIO_DEVICE_STATE_STOP, mode_names[mode]);
	sum_b = sim_get(bbdf, "checksum");
	checkf(sum_a == sum_b, "%s: destination state equals the source's at stop (0x%08llx, 0x%08llx)",
	      mode_names[mode], sum_a, sum_b);
	loads = sim_get(bbdf, "loads") - loads;
	checkf(loads == saves, "%s: one LOAD_VHCA_STATE per saved image (%llu, %llu)",
	      mode_names[mode], loads, saves);
	back_to_running(b, bbdf);
out:
	back_to_running(a, abdf);
	check_no_leaks(mode_names[mode]);
	free(s.buf);
}

static void set_sizes(const char *abdf, const char *bbdf, unsigned long size)
{
	sim_set(abdf, "state_size", size);
	sim_set(bbdf, "state_size", size);
}

/* --- bad input ----------------------------------------------------------- */

static void bad_arcs(int a, const char *abdf)
{
	struct mig_state_arg arg = {
		.f.argsz = sizeof(arg),
		.f.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE,
		.s.device_state = VFIO_DEVICE_STATE_RUNNING,
	};
	int fd, ret;

	errno = 0;
	ret = set_state(a, 99, NULL);
	expect_errno(ret, errno, EINVAL, "set state 99 (no such state)");
	ret = set_state(a, VFIO_DEVICE_STATE_ERROR, NULL);
	expect_errno(ret, errno, EINVAL, "set state ERROR");
	arg.f.argsz = sizeof(arg) - 1;
	ret = ioctl(a, VFIO_DEVICE_FEATURE, &arg);
	expect_errno(ret, errno, EINVAL, "MIG_DEVICE_STATE with a short argsz");
	expect_state(a, VFIO_DEVICE_STATE_RUNNING, "after refused arcs");

	fd = go(a, VFIO_DEVICE_STATE_STOP_COPY, abdf);
	ret = set_state(a, VFIO_DEVICE_STATE_PRE_COPY, NULL);
	expect_errno(ret, errno, EINVAL, "STOP_COPY -> PRE_COPY (blocked arc)");
	ret = set_state(a, VFIO_DEVICE_STATE_PRE_COPY_P2P, NULL);
	expect_errno(ret, errno, EINVAL, "STOP_COPY -> PRE_COPY_P2P (blocked arc)");
	expect_state(a, VFIO_DEVICE_STATE_STOP_COPY, "after blocked arcs");
	if (fd >= 0)
		close(fd);
	back_to_running(a, abdf);
}

static void bad_fd_io(int a, const char *abdf, int b, const char *bbdf)
{
	struct vfio_precopy_info info;
	unsigned char byte = 0;
	struct stream s = {};
	int sfd, rfd, ret;
	ssize_t n;

	/* Save side. */
	sfd = go(a, VFIO_DEVICE_STATE_STOP_COPY, abdf);
	if (sfd < 0)
		return;
	n = write(sfd, &byte, 1);
	expect_errno(n, errno, EBADF, "write to the saving fd");
	n = pread(sfd, &byte, 1, 0);
	expect_errno(n, errno, ESPIPE, "pread of the saving fd");
	ret = precopy_info(sfd, &info);
	expect_errno(ret, errno, EINVAL, "PRECOPY_INFO in STOP_COPY");
	ret = ioctl(sfd, VFIO_DEVICE_FEATURE, &info);
	expect_errno(ret, errno, ENOTTY, "another ioctl on the saving fd");
	checkf(drain(sfd, &s, false, false) == 0, "read the whole stream");
	n = read(sfd, &byte, 1);
	checkf(n == 0, "read past the end of stream gives 0 (saw %zd)", n);
	n = read(sfd, &byte, 1);
	checkf(n == 0, "and again 0 (saw %zd)", n);
	if (set_state(a, VFIO_DEVICE_STATE_STOP, NULL))
		checkf(false, "STOP_COPY -> STOP: %s", strerror(errno));
	n = read(sfd, &byte, 1);
	expect_errno(n, errno, ENODEV, "read of the saving fd after STOP_COPY -> STOP");
	close(sfd);
	back_to_running(a, abdf);

	/* Resume side. */
	rfd = go(b, VFIO_DEVICE_STATE_RESUMING, bbdf);
	if (rfd < 0)
		goto out;
	n = read(rfd, &byte, 1);
	expect_errno(n, errno, EBADF, "read of the resuming fd");
	n = pwrite(rfd, &byte, 1, 0);
	expect_errno(n, errno, ESPIPE, "pwrite to the resuming fd");
	ret = precopy_info(rfd, &info);
	expect_errno(ret, errno, ENOTTY, "PRECOPY_INFO on the resuming fd");
	if (set_state(b, VFIO_DEVICE_STATE_STOP, NULL))
		checkf(false, "RESUMING -> STOP: %s", strerror(errno));
	n = write(rfd, s.buf, s.len);
	expect_errno(n, errno, ENODEV, "write to the resuming fd after RESUMING -> STOP");
	close(rfd);
	back_to_running(b, bbdf);
out:
	check_no_leaks("data fd misuse");
	free(s.buf);
}

/* The stream of a stop-copy save of A, into @s. */
static bool save_stream(int a, const char *abdf, struct stream *s, unsigned long long *sum)
{
	bool ok = save(a, abdf, STOP_COPY_ONLY, s, sum);

	back_to_running(a, abdf);
	return ok;
}

static void bad_streams(int a, const char *abdf, int b, const char *bbdf)
{
	struct stream s = {}, bad = {};
	unsigned long long sum, sum_b;
	int err;

	if (!save_stream(a, abdf, &s, &sum))
		return;
	checkf(s.len > 2 * MLX5_HDR_SIZE, "a stream of %zu bytes", s.len);

	/* Truncated: the C driver takes what came and stops without error. */
	bad.buf = s.buf;
	bad.len = s.len / 2;
	err = load(b, bbdf, &bad, true);
	checkf(!err, "truncated stream: writes accepted (%s)", strerror(err));
	expect_state(b, VFIO_DEVICE_STATE_STOP, "truncated stream: RESUMING -> STOP accepted");
	sum_b = sim_get(bbdf, "checksum");
	checkf(sum_b != sum, "truncated stream: the destination state is not the source's");
	back_to_running(b, bbdf);

	/* Corrupted firmware data: LOAD fails, the write gets its errno. */
	bad.buf = malloc(s.len);
	memcpy(bad.buf, s.buf, s.len);
	bad.len = s.len;
	bad.buf[s.len - 100] ^= 0x5a;
	err = load(b, bbdf, &bad, false);
	checkf(err == EINVAL, "corrupted image: write fails with EINVAL (saw %s)", strerror(err));
	if (set_state(b, VFIO_DEVICE_STATE_STOP, NULL))
		checkf(false, "corrupted image: RESUMING -> STOP: %s", strerror(errno));
	back_to_running(b, bbdf);

	/* A huge record size in the first header: ENOMEM, as upstream. */
	memcpy(bad.buf, s.buf, s.len);
	memset(bad.buf, 0xff, 8);
	err = load(b, bbdf, &bad, false);
	checkf(err == ENOMEM, "record size beyond the device's LOAD limit: ENOMEM (saw %s)",
	      strerror(err));
	set_state(b, VFIO_DEVICE_STATE_STOP, NULL);
	back_to_running(b, bbdf);

	/* An unknown mandatory tag: EOPNOTSUPP; an unknown optional one is skipped. */
	memcpy(bad.buf, s.buf, s.len);
	memset(bad.buf + 8, 0, 8);
	bad.buf[12] = 0x40;	/* tag 0x40, flags 0: mandatory */
	err = load(b, bbdf, &bad, false);
	checkf(err == EOPNOTSUPP, "unknown mandatory record tag: EOPNOTSUPP (saw %s)",
	      strerror(err));
	set_state(b, VFIO_DEVICE_STATE_STOP, NULL);
	back_to_running(b, bbdf);

	/* The stream once more, whole: the device is not spoiled by the above. */
	err = load(b, bbdf, &s, true);
	checkf(!err && sim_get(bbdf, "checksum") == sum,
	      "the intact stream still migrates after bad ones (%s)", strerror(err));
	back_to_running(b, bbdf);
	check_no_leaks("bad streams");
	free(bad.buf);
	free(s.buf);
}

static void short_image(int a, const char *abdf, int b, const char *bbdf)
{
	struct stream s = {};
	unsigned long long sum;
	int err;

	/* Firmware reports a shorter image than it wrote: LOAD refuses it. */
	sim_set(NULL, "short_image", 64);
	if (!save_stream(a, abdf, &s, &sum))
		return;
	err = load(b, bbdf, &s, false);
	checkf(err == EINVAL, "short image from firmware: the destination's write fails with EINVAL (saw %s)",
	      strerror(err));
	set_state(b, VFIO_DEVICE_STATE_STOP, NULL);
	back_to_running(b, bbdf);
	check_no_leaks("short image");
	free(s.buf);
}

static void close_mid_stream(int a, const char *abdf, int b, const char *bbdf)
{
	struct vfio_precopy_info info;
	unsigned char buf[4096];
	int fd;

	fd = go(a, VFIO_DEVICE_STATE_STOP_COPY, abdf);
	if (fd < 0)
		return;
	/* The C driver returns what its first buffers hold: a short read. */
	checkf(read(fd, buf, sizeof(buf)) > 0, "stop-copy: read a first piece");
	close(fd);
	back_to_running(a, abdf);

	fd = go(a, VFIO_DEVICE_STATE_PRE_COPY, abdf);
	if (fd < 0)
		return;
	checkf(precopy_info(fd, &info) == 0 && read(fd, buf, sizeof(buf)) > 0,
	      "pre-copy: read a first piece");
	close(fd);
	back_to_running(a, abdf);

	fd = go(b, VFIO_DEVICE_STATE_RESUMING, bbdf);
	if (fd < 0)
		return;
	checkf(write(fd, buf, 20) == 20, "resuming: write a first piece");
	close(fd);
	back_to_running(b, bbdf);
	check_no_leaks("data fds closed mid-stream");
	migrate(a, abdf, b, bbdf, STOP_COPY_ONLY);
}

/*
 * Puts @dev into @state and resets it; checks that the reset succeeds and
 * leaves the device RUNNING.  Returns the data fd of @state, or -1.
 */
static int reset_in(int dev, const char *bdf, enum vfio_device_mig_state state)
{
	char who[64];
	int fd, ret;

	fd = go(dev, state, bdf);
	if (fd < 0)
		return -1;
	ret = ioctl(dev, VFIO_DEVICE_RESET);
	checkf(ret == 0, "VFIO_DEVICE_RESET in %s: %s", state_name(state),
	       ret ? strerror(errno) : "ok");
	snprintf(who, sizeof(who), "after a reset in %s", state_name(state));
	expect_state(dev, VFIO_DEVICE_STATE_RUNNING, who);
	return fd;
}

/* Checks that a byte of I/O on the data fd @fd fails with ENODEV, closes it. */
static void expect_enodev(int fd, bool write_io, const char *what)
{
	unsigned char byte = 0;
	ssize_t n;

	n = write_io ? write(fd, &byte, 1) : read(fd, &byte, 1);
	expect_errno(n, errno, ENODEV, what);
	close(fd);
}

static void reset_mid_migration(int a, const char *abdf, int b, const char *bbdf)
{
	int fd;

	fd = reset_in(a, abdf, VFIO_DEVICE_STATE_STOP_COPY);
	if (fd < 0)
		return;
	checkf(sim_get(abdf, "suspended") == 0, "the reset resumed the vhca");
	expect_enodev(fd, false, "read of the saving fd after a reset");

	fd = reset_in(a, abdf, VFIO_DEVICE_STATE_PRE_COPY);
	if (fd < 0)
		return;
	expect_enodev(fd, false, "read of the pre-copy fd after a reset");

	fd = reset_in(b, bbdf, VFIO_DEVICE_STATE_RESUMING);
	if (fd < 0)
		return;
	expect_enodev(fd, true, "write to the resuming fd after a reset");
	check_no_leaks("reset mid-migration");
	migrate(a, abdf, b, bbdf, PRE_COPY);
}

static void firmware_failures(int a, const char *abdf, int b, const char *bbdf)
{
	unsigned char byte;
	struct stream s = {};
	unsigned long long sum;
	int fd, ret, err;
	ssize_t n;

	/* SUSPEND_VHCA fails: RUNNING -> STOP fails, the device stays RUNNING. */
	sim_set(NULL, "fail_opcode", 0x115);
	ret = set_state(a, VFIO_DEVICE_STATE_STOP, NULL);
	expect_errno(ret, errno, EINVAL, "RUNNING -> STOP with SUSPEND_VHCA failing");
	expect_state(a, VFIO_DEVICE_STATE_RUNNING, "after a failed SUSPEND_VHCA");

	/*
	 * SAVE_VHCA_STATE fails (asynchronously): the saving fd gives what was
	 * queued before (the stop-copy size record), then ENODEV.
	 */
	sim_set(NULL, "fail_opcode", 0x118);
	fd = go(a, VFIO_DEVICE_STATE_STOP_COPY, abdf);
	if (fd >= 0) {
		struct stream junk = {};

		err = drain(fd, &junk, false, false);
		checkf(err == ENODEV, "read after SAVE_VHCA_STATE failed: ENODEV after %zu bytes (saw %s)",
		      junk.len, strerror(err));
		n = read(fd, &byte, 1);
		expect_errno(n, errno, ENODEV, "and read again");
		free(junk.buf);
		close(fd);
	}
	back_to_running(a, abdf);

	/* QUERY_VHCA_MIGRATION_STATE fails: STOP -> STOP_COPY fails. */
	sim_set(NULL, "fail_opcode", 0x117);
	ret = set_state(a, VFIO_DEVICE_STATE_STOP_COPY, NULL);
	expect_errno(ret, errno, EINVAL, "-> STOP_COPY with QUERY_VHCA_MIGRATION_STATE failing");
	expect_state(a, VFIO_DEVICE_STATE_STOP, "after a failed STOP -> STOP_COPY");
	back_to_running(a, abdf);

	/* LOAD_VHCA_STATE fails: the write that completes an image fails. */
	if (save_stream(a, abdf, &s, &sum)) {
		sim_set(NULL, "fail_opcode", 0x119);
		err = load(b, bbdf, &s, false);
		checkf(err == EINVAL, "LOAD_VHCA_STATE failing: write fails with EINVAL (saw %s)",
		      strerror(err));
		set_state(b, VFIO_DEVICE_STATE_STOP, NULL);
		back_to_running(b, bbdf);
	}
	sim_set(NULL, "fail_opcode", 0);

	/* Slow firmware: everything still works, just later. */
	sim_set(NULL, "delay_ms", 20);
	migrate(a, abdf, b, bbdf, PRE_COPY_P2P);
	sim_set(NULL, "delay_ms", 0);
	check_no_leaks("firmware failures");
	free(s.buf);
}

/* The PF detaches its VFs (mlx5_sriov_detach()): commands get ENOTCONN. */
/*
 * The v2 pre-copy opt-in (VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2) counts
 * from the moment it is made, also for a saving fd opened before: before
 * it, VFIO_MIG_GET_PRECOPY_INFO leaves the input flags as they were (v1);
 * after it, flags are output only (0 or REINIT).  Stays opted in until
 * the device is closed.
 */
static void precopy_v2_opt_in(int dev, const char *bdf)
{
	struct vfio_device_feature opt_in = {
		.argsz = sizeof(opt_in),
		.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2,
	};
	struct vfio_precopy_info info;
	int fd, ret;

	fd = go(dev, VFIO_DEVICE_STATE_PRE_COPY, bdf);
	if (fd < 0)
		return;
	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info);
	info.flags = 0x80;
	ret = ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info);
	checkf(ret == 0 && info.flags == 0x80,
	      "v1 PRECOPY_INFO leaves the input flags (saw ret %d flags %#x)", ret, info.flags);
	ret = ioctl(dev, VFIO_DEVICE_FEATURE, &opt_in);
	checkf(ret == 0, "opt in to PRECOPY_INFOv2 with a saving fd open (%s)",
	      ret ? strerror(errno) : "ok");
	memset(&info, 0, sizeof(info));
	info.argsz = sizeof(info);
	info.flags = 0x80;
	ret = ioctl(fd, VFIO_MIG_GET_PRECOPY_INFO, &info);
	checkf(ret == 0 && !(info.flags & ~VFIO_PRECOPY_INFO_REINIT),
	      "v2 PRECOPY_INFO on that fd: flags are output only (saw ret %d flags %#x)",
	      ret, info.flags);
	close(fd);
	back_to_running(dev, bdf);
}

static void vf_detach(int a, const char *abdf)
{
	unsigned char byte;
	int fd, ret;
	ssize_t n;

	fd = go(a, VFIO_DEVICE_STATE_STOP_COPY, abdf);
	if (fd < 0)
		return;
	sim_set(NULL, "vf_detach", 1);
	n = read(fd, &byte, 1);
	expect_errno(n, errno, ENODEV, "read of the saving fd after the VF was detached");
	close(fd);
	ret = set_state(a, VFIO_DEVICE_STATE_RUNNING, NULL);
	expect_errno(ret, errno, ENOTCONN, "-> RUNNING while detached");
	sim_set(NULL, "vf_detach", 0);
	back_to_running(a, abdf);
	check_no_leaks("VF detach");
}

/* --- the suite, and save/load to files ----------------------------------- */

static void feature_checks(int dev, const char *bdf)
{
	struct {
		struct vfio_device_feature f;
		struct vfio_device_feature_migration m;
	} mig = {
		.f.argsz = sizeof(mig),
		.f.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION,
	};
	struct {
		struct vfio_device_feature f;
		struct vfio_device_feature_mig_data_size d;
	} size = {
		.f.argsz = sizeof(size),
		.f.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIG_DATA_SIZE,
	};
	unsigned long long want = VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P |
				  VFIO_MIGRATION_PRE_COPY;
	int ret;

	ret = ioctl(dev, VFIO_DEVICE_FEATURE, &mig);
	checkf(!ret && mig.m.flags == want,
	      "%s: MIGRATION feature: STOP_COPY|P2P|PRE_COPY (saw %s0x%llx)", bdf,
	      ret ? strerror(errno) : "", (unsigned long long)mig.m.flags);
	mig.f.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIGRATION;
	ret = ioctl(dev, VFIO_DEVICE_FEATURE, &mig);
	expect_errno(ret, errno, EINVAL, "SET of the MIGRATION feature");
	expect_state(dev, VFIO_DEVICE_STATE_RUNNING, bdf);
	ret = ioctl(dev, VFIO_DEVICE_FEATURE, &size);
	checkf(!ret && size.d.stop_copy_length >= sim_get(bdf, "state_size"),
	      "%s: MIG_DATA_SIZE covers the state (%llu >= %llu)", bdf,
	      (unsigned long long)size.d.stop_copy_length, sim_get(bdf, "state_size"));
}

static int file_save(const char *bdf, const char *file)
{
	struct stream s = {};
	unsigned long long sum;
	char path[PATH_MAX];
	FILE *f;
	int dev = open_device(bdf);

	if (!save(dev, bdf, STOP_COPY_ONLY, &s, &sum))
		return 1;
	back_to_running(dev, bdf);
	f = fopen(file, "w");
	if (!f || fwrite(s.buf, 1, s.len, f) != s.len || fclose(f))
		die(file);
	snprintf(path, sizeof(path), "%s.sum", file);
	f = fopen(path, "w");
	if (!f || fprintf(f, "0x%08llx %llu\n", sum, sim_get(bdf, "state_size")) < 0 || fclose(f))
		die(path);
	checkf(true, "saved %zu bytes of %s to %s, state checksum 0x%08llx", s.len, bdf, file, sum);
	return tap_done();
}

static int file_load(const char *bdf, const char *file)
{
	struct stream s = {};
	unsigned long long sum, size;
	char path[PATH_MAX], buf[1 << 16];
	FILE *f;
	size_t n;
	int dev = open_device(bdf), err;

	snprintf(path, sizeof(path), "%s.sum", file);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%lli %llu", &sum, &size) != 2)
		die(path);
	fclose(f);
	f = fopen(file, "r");
	if (!f)
		die(file);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		stream_append(&s, buf, n);
	fclose(f);
	if (sim_get(bdf, "state_size") != size)
		sim_set(bdf, "state_size", size);
	err = load(dev, bdf, &s, true);
	checkf(!err, "%s took the %zu bytes of %s: %s", bdf, s.len, file, strerror(err));
	checkf(sim_get(bdf, "checksum") == sum, "%s: state equals the saved one (0x%08llx)", bdf, sum);
	back_to_running(dev, bdf);
	check_no_leaks("load from file");
	return tap_done();
}

/* A stop-copy migration of @mib MiB of state, read from A and written to B as it comes. */
static int big(const char *abdf, const char *bbdf, unsigned long mib)
{
	static unsigned char buf[1 << 20];
	unsigned long long size_a = sim_get(abdf, "state_size"), size_b = sim_get(bbdf, "state_size");
	unsigned long long sum_a, sum_b, total = 0;
	int a = open_device(abdf), b = open_device(bbdf), sfd, rfd, err = 0;
	time_t start = time(NULL);
	ssize_t n;

	set_sizes(abdf, bbdf, mib * MIB);
	checkf(true, "%lu MiB of state in each VF (%lds)", mib, (long)(time(NULL) - start));
	rfd = go(b, VFIO_DEVICE_STATE_RESUMING, bbdf);
	sfd = go(a, VFIO_DEVICE_STATE_STOP_COPY, abdf);
	if (sfd < 0 || rfd < 0)
		goto out;
	sum_a = sim_get(abdf, "checksum");
	while ((n = read(sfd, buf, sizeof(buf))) > 0) {
		err = feed(rfd, buf, n);
		if (err)
			break;
		total += n;
	}
	if (n < 0)
		err = errno;
	checkf(!err, "streamed %llu bytes from %s to %s: %s", total, abdf, bbdf, strerror(err));
	close(sfd);
	close(rfd);
	if (set_state(b, VFIO_DEVICE_STATE_STOP, NULL))
		checkf(false, "RESUMING -> STOP: %s", strerror(errno));
	sum_b = sim_get(bbdf, "checksum");
	checkf(sum_a == sum_b, "destination state equals the source's (0x%08llx, 0x%08llx), %lds",
	      sum_a, sum_b, (long)(time(NULL) - start));
	back_to_running(a, abdf);
	back_to_running(b, bbdf);
out:
	close(a);
	close(b);
	sim_set(abdf, "state_size", size_a);
	sim_set(bbdf, "state_size", size_b);
	check_no_leaks("big state");
	return tap_done();
}

/* --- benchmark ------------------------------------------------------------ */

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_ull(const void *x, const void *y)
{
	unsigned long long a = *(const unsigned long long *)x, b = *(const unsigned long long *)y;

	return a < b ? -1 : a > b;
}

static unsigned long long median(unsigned long long *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_ull);
	return v[n / 2];
}

/*
 * Stop-copy migrations of MIB MiB of state from A to B, timed: "save" from
 * the SET that leaves RUNNING until the saving fd's end of stream, "resume"
 * the writes into the resuming fd and its RESUMING -> STOP, "downtime" from
 * A leaving RUNNING until B is RUNNING again, less B's STOP -> RESUMING
 * (a VMM enters RESUMING before the source stops).  Medians of @runs (of two, the
 * slower), printed as
 * "BENCH mig<MIB>M_<what> <ns>" for tests/vm/bench.sh.
 */
static void bench_size(int a, const char *abdf, int b, const char *bbdf, unsigned long mib,
		       int runs)
{
	unsigned long long save_ns[8], resume_ns[8], down_ns[8], t0, t1, t2, t3;
	struct stream s = {};
	int r, sfd, rfd, err;

	set_sizes(abdf, bbdf, mib * MIB);
	/* The whole stream, with room for its headers, faulted in before timing. */
	s.cap = mib * MIB + MIB;
	s.buf = malloc(s.cap);
	if (!s.buf)
		die("malloc");
	memset(s.buf, 0, s.cap);
	for (r = 0; r < runs && r < 8; r++) {
		s.len = 0;
		t0 = now_ns();
		sfd = go(a, VFIO_DEVICE_STATE_STOP_COPY, abdf);
		if (sfd < 0)
			return;
		err = drain(sfd, &s, false, false);
		t1 = now_ns();
		close(sfd);
		rfd = go(b, VFIO_DEVICE_STATE_RESUMING, bbdf);
		if (rfd < 0 || err)
			return;
		t2 = now_ns();
		err = feed(rfd, s.buf, s.len);
		close(rfd);
		if (err || set_state(b, VFIO_DEVICE_STATE_STOP, NULL)) {
			checkf(false, "bench: resume of %lu MiB", mib);
			return;
		}
		t3 = now_ns();
		if (set_state(b, VFIO_DEVICE_STATE_RUNNING, NULL))
			return;
		down_ns[r] = now_ns() - t0 - (t2 - t1);
		save_ns[r] = t1 - t0;
		resume_ns[r] = t3 - t2;
		back_to_running(a, abdf);
	}
	printf("BENCH mig%04luM_save %llu\n", mib, median(save_ns, r));
	printf("BENCH mig%04luM_resume %llu\n", mib, median(resume_ns, r));
	printf("BENCH mig%04luM_downtime %llu\n", mib, median(down_ns, r));
	free(s.buf);
}

static int bench(const char *abdf, const char *bbdf)
{
	unsigned long long size0 = sim_get(abdf, "state_size");
	int a = open_device(abdf), b = open_device(bbdf);

	bench_size(a, abdf, b, bbdf, 1, 7);
	bench_size(a, abdf, b, bbdf, 16, 5);
	bench_size(a, abdf, b, bbdf, 128, 3);
	bench_size(a, abdf, b, bbdf, 1024, 2);
	set_sizes(abdf, bbdf, size0);
	close(a);
	close(b);
	check_no_leaks("bench");
	return tap_done();
}

/* --- profile phases ------------------------------------------------------- */

/* Wall time of the steps of prof_save() (ns, summed over its calls). */
static unsigned long long prof_steps[4];

/*
 * One stop-copy save of A into @s, A back to RUNNING after it; adds the
 * time of each step (the SET into STOP_COPY, the reads, the close, the
 * SET back to RUNNING) to prof_steps.
 */
static void prof_save(int a, const char *abdf, struct stream *s)
{
	unsigned long long t[5];
	int fd, i;

	s->len = 0;
	t[0] = now_ns();
	fd = go(a, VFIO_DEVICE_STATE_STOP_COPY, abdf);
	t[1] = now_ns();
	if (fd < 0 || drain(fd, s, false, false))
		die("prof: stop-copy save");
	t[2] = now_ns();
	close(fd);
	t[3] = now_ns();
	if (set_state(a, VFIO_DEVICE_STATE_RUNNING, NULL))
		die("prof: STOP_COPY -> RUNNING");
	t[4] = now_ns();
	for (i = 0; i < 4; i++)
		prof_steps[i] += t[i + 1] - t[i];
}

/* One resume of B from @s, B back to RUNNING after it. */
static void prof_resume(int b, const char *bbdf, struct stream *s)
{
	int fd = go(b, VFIO_DEVICE_STATE_RESUMING, bbdf);

	if (fd < 0 || feed(fd, s->buf, s->len))
		die("prof: resume");
	close(fd);
	if (set_state(b, VFIO_DEVICE_STATE_STOP, NULL) ||
	    set_state(b, VFIO_DEVICE_STATE_RUNNING, NULL))
		die("prof: RESUMING -> STOP -> RUNNING");
}

/* @n runs of @op as one profile phase; returns the wall time of a run. */
static unsigned long long prof_phase(void (*op)(int, const char *, struct stream *), int dev,
				     const char *bdf, struct stream *s, int n)
{
	unsigned long long t;
	int i;

	prof_mark();
	t = now_ns();
	for (i = 0; i < n; i++)
		op(dev, bdf, s);
	t = now_ns() - t;
	prof_mark();
	return t / n;
}

/*
 * The phases tests/vm/profile.sh counts in the migration path, at @mib MiB
 * of state (by default 1, bench's smallest): "mig_save",
 * @n times RUNNING -> STOP_COPY, the stream read to its end (the reads of
 * bench), RUNNING again; "mig_resume", @n times RUNNING -> RESUMING, the
 * stream written in bench's pieces, STOP, RUNNING.  Prints "PROF phase"
 * and "KSYM" lines as vfio_prof does, and the wall time per operation of
 * the phases and of a save's steps (inflated by the profiling plugin when
 * it runs).  vfio_mig itself checks that the states arrive whole; this
 * only counts.
 */
static int prof(const char *abdf, const char *bbdf, int n, unsigned long mib)
{
	unsigned long long size0 = sim_get(abdf, "state_size"), save_ns, resume_ns;
	int a = open_device(abdf), b = open_device(bbdf), i;
	struct stream s = {};

	set_sizes(abdf, bbdf, mib * MIB);
	s.cap = (mib + 1) * MIB;
	s.buf = malloc(s.cap);
	if (!s.buf)
		die("malloc");
	memset(s.buf, 0, s.cap);
	prof_quiet_kmemleak();
	/* Warm up: first-touch faults and lazy setup out of the phases. */
	for (i = 0; i < 3; i++) {
		prof_save(a, abdf, &s);
		prof_resume(b, bbdf, &s);
	}
	memset(prof_steps, 0, sizeof(prof_steps));
	save_ns = prof_phase(prof_save, a, abdf, &s, n);
	resume_ns = prof_phase(prof_resume, b, bbdf, &s, n);
	printf("PROF phase mig_save %d\nPROF phase mig_resume %d\n", n, n);
	printf("# wall time per operation: mig_save %llu ns, mig_resume %llu ns\n", save_ns,
	       resume_ns);
	printf("# mig_save steps (ns per operation): SET STOP_COPY %llu, read %llu, close %llu, "
	       "SET RUNNING %llu\n", prof_steps[0] / n, prof_steps[1] / n, prof_steps[2] / n,
	       prof_steps[3] / n);
	if (prof_print_ksyms())
		die("kallsyms");
	free(s.buf);
	set_sizes(abdf, bbdf, size0);
	close(a);
	close(b);
	check_no_leaks("prof");
	return tap_done();
}

int main(int argc, char **argv)
{
	unsigned long long size0;
	const char *abdf, *bbdf;
	int a, b;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (access(SIM_DEBUGFS, F_OK)) {
		printf("1..0 # SKIP no mlx5_sim (%s)\n", SIM_DEBUGFS);
		return 4;
	}
	if (argc == 4 && !strcmp(argv[1], "save"))
		return file_save(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "load"))
		return file_load(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "bench"))
		return bench(argv[2], argv[3]);
	if (argc >= 4 && argc <= 6 && !strcmp(argv[1], "prof")) {
		int n = argc >= 5 ? atoi(argv[4]) : 50;
		unsigned long mib = argc == 6 ? strtoul(argv[5], NULL, 0) : 1;

		if (n < 1 || mib < 1 || mib > 1024) {
			fprintf(stderr, "vfio_mig prof: N at least 1, MIB 1 to 1024\n");
			return 2;
		}
		return prof(argv[2], argv[3], n, mib);
	}
	if (argc == 5 && !strcmp(argv[1], "big"))
		return big(argv[2], argv[3], strtoul(argv[4], NULL, 0));
	if (argc != 3) {
		fprintf(stderr, "usage: %s A_BDF B_BDF | save BDF FILE | load BDF FILE | big A_BDF B_BDF MIB\n",
			argv[0]);
		return 2;
	}
	abdf = argv[1];
	bbdf = argv[2];
	a = open_device(abdf);
	b = open_device(bbdf);
	size0 = sim_get(abdf, "state_size");
	check_no_leaks("start");

	feature_checks(a, abdf);
	feature_checks(b, bbdf);
	migrate(a, abdf, b, bbdf, STOP_COPY_ONLY);
	migrate(a, abdf, b, bbdf, STOP_COPY_P2P);
	migrate(a, abdf, b, bbdf, PRE_COPY);
	migrate(a, abdf, b, bbdf, PRE_COPY_P2P);
	migrate(b, bbdf, a, abdf, PRE_COPY);

	/* Larger than two 8 MiB chunks: the save goes in several chunks. */
	set_sizes(abdf, bbdf, 24 * MIB);
	migrate(a, abdf, b, bbdf, STOP_COPY_ONLY);
	migrate(a, abdf, b, bbdf, PRE_COPY_P2P);
	set_sizes(abdf, bbdf, size0);

	bad_arcs(a, abdf);
	bad_fd_io(a, abdf, b, bbdf);
	bad_streams(a, abdf, b, bbdf);
	short_image(a, abdf, b, bbdf);
	close_mid_stream(a, abdf, b, bbdf);
	reset_mid_migration(a, abdf, b, bbdf);
	firmware_failures(a, abdf, b, bbdf);
	vf_detach(a, abdf);
	precopy_v2_opt_in(b, bbdf);

	close(a);
	close(b);
	check_no_leaks("devices closed");
	return tap_done();
}
