// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_sim VF state: the device state a VF carries across a migration, the
 * vhca suspend state machine, dirty tracking, and the image format of
 * SAVE_VHCA_STATE/LOAD_VHCA_STATE.
 *
 * The state is state_size bytes, in 4 KiB blocks.  While a VF runs, a timer
 * changes a few blocks every period and bumps its generation.  A save
 * sequence (SAVE with incremental=0) marks every block pending; each SAVE
 * then writes as many pending blocks as fit in the buffer it is given and
 * clears them; with tracking on (set_track=1) a change marks its block
 * pending again.  An image is self-describing and checksummed: LOAD refuses
 * (with a firmware status and syndrome) an image that is short, corrupted,
 * or for a state of another size.
 */
#include <linux/bitmap.h>
#include <linux/crc32.h>
#include <linux/random.h>
#include <linux/vmalloc.h>

#include "sim.h"

#define SIM_IMAGE_MAGIC 0x4d35494dU	/* "MI5M" */
#define SIM_IMAGE_VERSION 1

/* Syndromes of the commands this file fails, for the debug log. */
enum {
	SIM_SYND_BAD_STATE = 0x51000001,	/* command not valid in this vhca state */
	SIM_SYND_NOT_TRACKING = 0x51000002,	/* incremental without a save sequence */
	SIM_SYND_SMALL_BUFFER = 0x51000003,	/* SAVE buffer cannot hold one block */
	SIM_SYND_SHORT_IMAGE = 0x51000004,	/* LOAD size does not match the image */
	SIM_SYND_BAD_MAGIC = 0x51000005,
	SIM_SYND_BAD_CRC = 0x51000006,
	SIM_SYND_SIZE_MISMATCH = 0x51000007,	/* image of a state of another size */
	SIM_SYND_BAD_BLOCK = 0x51000008,
	SIM_SYND_DMA = 0x51000009,		/* mkey translation failed */
};

struct sim_image_hdr {
	__le32 magic;
	__le16 version;
	__le16 flags;
	__le32 nrecs;
	__le32 src_vhca_id;
	__le64 state_size;
	__le64 generation;
	__le32 payload_crc;
	__le32 hdr_crc;			/* over the bytes before it */
};

#define SIM_IMG_FULL BIT(0)		/* first image of a save sequence */
#define SIM_IMG_LAST BIT(1)		/* nothing was left pending */

struct sim_record_hdr {
	__le32 block;
	__le32 reserved;
};

#define SIM_REC_SIZE (sizeof(struct sim_record_hdr) + SIM_BLOCK_SIZE)

static size_t sim_nblocks(struct sim_vf *vf)
{
	return vf->state_size / SIM_BLOCK_SIZE;
}

static u64 sim_image_bytes(unsigned long nrecs)
{
	return sizeof(struct sim_image_hdr) + (u64)nrecs * SIM_REC_SIZE;
}

/* Cheap, reproducible-per-seed filler: random bytes for 1 GiB take too long. */
static void sim_fill(u8 *data, size_t len, u64 seed)
{
	u64 x = seed | 1, *p = (u64 *)data;
	size_t i;

	for (i = 0; i < len / sizeof(u64); i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = x;
	}
}

static int sim_vf_alloc(struct sim_vf *vf, size_t size)
{
	size_t nblocks;

	size = max_t(size_t, round_up(size, SIM_BLOCK_SIZE), SIM_BLOCK_SIZE);
	nblocks = size / SIM_BLOCK_SIZE;
	vf->data = vmalloc(size);
	vf->pending = bitmap_zalloc(nblocks, GFP_KERNEL);
	if (!vf->data || !vf->pending) {
		vfree(vf->data);
		bitmap_free(vf->pending);
		vf->data = NULL;
		vf->pending = NULL;
		return -ENOMEM;
	}
	vf->state_size = size;
	sim_fill(vf->data, size, get_random_u64());
	vf->generation++;
	return 0;
}

int sim_vf_init(struct sim_vf *vf, size_t size)
{
	mutex_init(&vf->lock);
	vf->run_state = SIM_RUNNING;
	vf->flr_pos = vf->pdev->pcie_cap;
	return sim_vf_alloc(vf, size);
}

void sim_vf_fini(struct sim_vf *vf)
{
	vfree(vf->data);
	bitmap_free(vf->pending);
	mutex_destroy(&vf->lock);
}

int sim_vf_resize(struct sim_vf *vf, size_t size)
{
	u8 *old_data;
	unsigned long *old_pending;
	size_t old_size;
	int ret;

	mutex_lock(&vf->lock);
	if (vf->session || vf->tracking) {
		mutex_unlock(&vf->lock);
		return -EBUSY;
	}
	old_data = vf->data;
	old_pending = vf->pending;
	old_size = vf->state_size;
	ret = sim_vf_alloc(vf, size);
	if (ret) {
		vf->data = old_data;
		vf->pending = old_pending;
		vf->state_size = old_size;
	} else {
		vfree(old_data);
		bitmap_free(old_pending);
	}
	mutex_unlock(&vf->lock);
	return ret;
}

/* Applies a function level reset seen by the config-space hook; vf->lock held. */
static void sim_vf_flr_locked(struct sim_vf *vf)
{
	if (!atomic_xchg(&vf->flr_pending, 0))
		return;
	/* FLR resets the vhca: running, no tracking, no save sequence. */
	vf->run_state = SIM_RUNNING;
	vf->tracking = false;
	vf->session = false;
	bitmap_zero(vf->pending, sim_nblocks(vf));
}

void sim_vf_check_flr(struct sim_vf *vf)
{
	mutex_lock(&vf->lock);
	sim_vf_flr_locked(vf);
	mutex_unlock(&vf->lock);
}

void sim_vf_mutate(struct sim_vf *vf)
{
	size_t nblocks;
	unsigned int i;

	mutex_lock(&vf->lock);
	sim_vf_flr_locked(vf);
	if (vf->run_state != SIM_RUNNING) {
		mutex_unlock(&vf->lock);
		return;
	}
	nblocks = sim_nblocks(vf);
	for (i = 0; i < sim_mutate_blocks; i++) {
		u32 block = get_random_u32_below(nblocks);
		u32 word = get_random_u32_below(SIM_BLOCK_SIZE / sizeof(u64));

		vf->generation++;
		((u64 *)(vf->data + (size_t)block * SIM_BLOCK_SIZE))[word] ^=
			vf->generation * 0x9e3779b97f4a7c15ULL;
		if (vf->tracking)
			set_bit(block, vf->pending);
	}
	mutex_unlock(&vf->lock);
}

u32 sim_vf_checksum(struct sim_vf *vf)
{
	u32 crc;

	mutex_lock(&vf->lock);
	sim_vf_flr_locked(vf);
	crc = crc32_le(~0, vf->data, vf->state_size) ^ ~0;
	mutex_unlock(&vf->lock);
	return crc;
}

static int sim_bad_state(u32 *syndrome, u32 synd)
{
	*syndrome = synd;
	return MLX5_CMD_STAT_BAD_RES_STATE_ERR;
}

/*
 * SUSPEND_VHCA and RESUME_VHCA each take the vhca two steps along @path,
 * through SIM_SUSPENDED_INITIATOR: op_mod @first from path[0] to path[1],
 * op_mod @second from path[1] to path[2].  Any other op_mod up to @second
 * in any other state is a bad resource state, one above @second a bad
 * parameter.
 */
static int sim_vhca_step(struct sim_vf *vf, u16 op_mod, u16 first, u16 second,
			 const enum sim_run_state path[3], u32 *syndrome)
{
	int status = 0;

	mutex_lock(&vf->lock);
	sim_vf_flr_locked(vf);
	if (op_mod == first && vf->run_state == path[0])
		vf->run_state = path[1];
	else if (op_mod == second && vf->run_state == path[1])
		vf->run_state = path[2];
	else if (op_mod > second)
		status = MLX5_CMD_STAT_BAD_PARAM_ERR;
	else
		status = sim_bad_state(syndrome, SIM_SYND_BAD_STATE);
	mutex_unlock(&vf->lock);
	return status;
}

int sim_cmd_suspend(struct sim_vf *vf, u16 op_mod, u32 *syndrome)
{
	static const enum sim_run_state path[3] = {
		SIM_RUNNING, SIM_SUSPENDED_INITIATOR, SIM_SUSPENDED,
	};

	return sim_vhca_step(vf, op_mod, MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_INITIATOR,
			     MLX5_SUSPEND_VHCA_IN_OP_MOD_SUSPEND_RESPONDER, path, syndrome);
}

int sim_cmd_resume(struct sim_vf *vf, u16 op_mod, u32 *syndrome)
{
	static const enum sim_run_state path[3] = {
		SIM_SUSPENDED, SIM_SUSPENDED_INITIATOR, SIM_RUNNING,
	};

	return sim_vhca_step(vf, op_mod, MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_RESPONDER,
			     MLX5_RESUME_VHCA_IN_OP_MOD_RESUME_INITIATOR, path, syndrome);
}

/* The largest required_umem_size to report: one chunk in chunk mode. */
static u64 sim_umem_cap(bool chunk)
{
	if (!chunk || !sim_chunk_mode)
		return U32_MAX;
	return max_t(u64, sim_chunk_size, sim_image_bytes(1));
}

int sim_cmd_query_mig(struct sim_vf *vf, bool inc, bool chunk, void *out,
		      u32 *syndrome)
{
	unsigned long npending;
	u64 total;
	u8 mig_state;

	mutex_lock(&vf->lock);
	sim_vf_flr_locked(vf);
	if (inc && !vf->session) {
		mutex_unlock(&vf->lock);
		return sim_bad_state(syndrome, SIM_SYND_NOT_TRACKING);
	}
	npending = bitmap_weight(vf->pending, sim_nblocks(vf));
	if (inc)
		total = npending ? sim_image_bytes(npending) : 0;
	else
		total = sim_image_bytes(sim_nblocks(vf));
	if (!vf->tracking)
		mig_state = MLX5_QUERY_VHCA_MIG_STATE_OPER_MIGRATION_IDLE;
	else if (npending)
		mig_state = MLX5_QUERY_VHCA_MIG_STATE_OPER_MIGRATION_DIRTY;
	else
		mig_state = MLX5_QUERY_VHCA_MIG_STATE_OPER_MIGRATION_READY;
	mutex_unlock(&vf->lock);

	MLX5_SET(query_vhca_migration_state_out, out, required_umem_size,
		 min(total, sim_umem_cap(chunk)));
	MLX5_SET64(query_vhca_migration_state_out, out, remaining_total_size, total);
	MLX5_SET(query_vhca_migration_state_out, out, migration_state, mig_state);
	return 0;
}

int sim_cmd_save(struct sim_vf *vf, void *in, void *out, u32 *syndrome)
{
	struct mlx5_sim *sim = vf->sim;
	bool inc = MLX5_GET(save_vhca_state_in, in, incremental);
	bool track = MLX5_GET(save_vhca_state_in, in, set_track);
	u32 mkey = MLX5_GET(save_vhca_state_in, in, mkey);
	u64 size = MLX5_GET(save_vhca_state_in, in, size);
	struct sim_image_hdr hdr = {};
	struct sim_record_hdr rec = {};
	unsigned long block, nblocks, nrecs = 0, max_recs, npending;
	u32 crc = ~0, shorten, corrupt;
	u64 pos = sizeof(hdr), actual, next = 0;
	int status = 0, ret;

	mutex_lock(&vf->lock);
	sim_vf_flr_locked(vf);
	nblocks = sim_nblocks(vf);
	if (track && vf->run_state == SIM_SUSPENDED) {
		status = sim_bad_state(syndrome, SIM_SYND_BAD_STATE);
		goto out;
	}
	if (inc && !vf->session) {
		status = sim_bad_state(syndrome, SIM_SYND_NOT_TRACKING);
		goto out;
	}
	/*
	 * The untracked, non-incremental SAVE of a tracking session is upstream's
	 * pre-copy cleanup (PRE_COPY -> RUNNING): it ends tracking, and its data
	 * is never read, so it is sized from an incremental query, which is 0
	 * when nothing changed (upstream then passes a buffer without pages and
	 * memory key 0).  It ends the session without writing anything.
	 */
	if (!inc && !track && vf->tracking && size < sizeof(hdr)) {
		vf->tracking = false;
		vf->session = false;
		vf->saves++;
		MLX5_SET(save_vhca_state_out, out, actual_image_size, 0);
		MLX5_SET(save_vhca_state_out, out, next_required_umem_size, 0);
		goto out;
	}
	if (size < sizeof(hdr)) {
		*syndrome = SIM_SYND_SMALL_BUFFER;
		status = MLX5_CMD_STAT_BAD_PARAM_ERR;
		goto out;
	}
	if (!inc) {
		bitmap_fill(vf->pending, nblocks);
		vf->session = true;
	}
	npending = bitmap_weight(vf->pending, nblocks);
	max_recs = (size - sizeof(hdr)) / SIM_REC_SIZE;
	if (npending && !max_recs) {
		*syndrome = SIM_SYND_SMALL_BUFFER;
		status = MLX5_CMD_STAT_BAD_PARAM_ERR;
		goto out;
	}
	for_each_set_bit(block, vf->pending, nblocks) {
		void *src = vf->data + (size_t)block * SIM_BLOCK_SIZE;

		if (nrecs == max_recs)
			break;
		rec.block = cpu_to_le32(block);
		ret = sim_mkey_copy(sim, mkey, pos, &rec, sizeof(rec), true);
		if (!ret)
			ret = sim_mkey_copy(sim, mkey, pos + sizeof(rec), src,
					    SIM_BLOCK_SIZE, true);
		if (ret) {
			*syndrome = SIM_SYND_DMA;
			status = MLX5_CMD_STAT_BAD_RES_ERR;
			goto out;
		}
		crc = crc32_le(crc, (u8 *)&rec, sizeof(rec));
		crc = crc32_le(crc, src, SIM_BLOCK_SIZE);
		clear_bit(block, vf->pending);
		pos += SIM_REC_SIZE;
		nrecs++;
	}
	npending -= nrecs;

	spin_lock(&sim->inject_lock);
	shorten = sim->inject.short_image;
	sim->inject.short_image = 0;
	corrupt = sim->inject.corrupt_image;
	sim->inject.corrupt_image = 0;
	spin_unlock(&sim->inject_lock);

	hdr.magic = cpu_to_le32(SIM_IMAGE_MAGIC);
	hdr.version = cpu_to_le16(SIM_IMAGE_VERSION);
	hdr.flags = cpu_to_le16((inc ? 0 : SIM_IMG_FULL) | (npending ? 0 : SIM_IMG_LAST));
	hdr.nrecs = cpu_to_le32(nrecs);
	hdr.src_vhca_id = cpu_to_le32(vf->vhca_id);
	hdr.state_size = cpu_to_le64(vf->state_size);
	hdr.generation = cpu_to_le64(vf->generation);
	hdr.payload_crc = cpu_to_le32((crc ^ ~0) ^ (corrupt ? 1 : 0));
	hdr.hdr_crc = cpu_to_le32(crc32_le(~0, (u8 *)&hdr,
					   offsetof(struct sim_image_hdr, hdr_crc)) ^ ~0);
	if (sim_mkey_copy(sim, mkey, 0, &hdr, sizeof(hdr), true)) {
		*syndrome = SIM_SYND_DMA;
		status = MLX5_CMD_STAT_BAD_RES_ERR;
		goto out;
	}

	vf->tracking = track;
	if (!npending && !track)
		vf->session = false;
	if (npending && !track && sim_chunk_mode)
		next = min(sim_image_bytes(npending), sim_umem_cap(true));
	actual = pos;
	actual -= min_t(u64, shorten, actual);
	vf->saves++;
	MLX5_SET(save_vhca_state_out, out, actual_image_size, actual);
	MLX5_SET(save_vhca_state_out, out, next_required_umem_size, next);
out:
	mutex_unlock(&vf->lock);
	return status;
}

/* Reads record @i of an image at @mkey into @rec_buf (SIM_REC_SIZE bytes). */
static int sim_read_record(struct mlx5_sim *sim, u32 mkey, u32 i, u8 *rec_buf)
{
	return sim_mkey_copy(sim, mkey, sizeof(struct sim_image_hdr) + (u64)i * SIM_REC_SIZE,
			     rec_buf, SIM_REC_SIZE, false);
}

/*
 * Reads the @nrecs records of the image at @mkey one by one into @rec_buf
 * and checks that each names a block of @vf, folding it into *@crc; or,
 * with @apply (@crc unused), copies each one's block into @vf's state.
 * Returns 0, or a command status with *@syndrome set.
 */
static int sim_load_records(struct sim_vf *vf, u32 mkey, u32 nrecs, u8 *rec_buf, bool apply,
			    u32 *crc, u32 *syndrome)
{
	struct sim_record_hdr *rec = (void *)rec_buf;
	u32 i;

	for (i = 0; i < nrecs; i++) {
		if (sim_read_record(vf->sim, mkey, i, rec_buf)) {
			*syndrome = SIM_SYND_DMA;
			return MLX5_CMD_STAT_BAD_RES_ERR;
		}
		if (apply) {
			memcpy(vf->data + (size_t)le32_to_cpu(rec->block) * SIM_BLOCK_SIZE,
			       rec_buf + sizeof(*rec), SIM_BLOCK_SIZE);
			continue;
		}
		if (le32_to_cpu(rec->block) >= sim_nblocks(vf)) {
			*syndrome = SIM_SYND_BAD_BLOCK;
			return MLX5_CMD_STAT_BAD_PARAM_ERR;
		}
		*crc = crc32_le(*crc, rec_buf, SIM_REC_SIZE);
	}
	return 0;
}

int sim_cmd_load(struct sim_vf *vf, void *in, u32 *syndrome)
{
	struct mlx5_sim *sim = vf->sim;
	u32 mkey = MLX5_GET(load_vhca_state_in, in, mkey);
	u64 size = MLX5_GET(load_vhca_state_in, in, size);
	struct sim_image_hdr hdr;
	u32 nrecs, crc = ~0;
	int status = 0;
	u8 *rec_buf;

	rec_buf = kmalloc(SIM_REC_SIZE, GFP_KERNEL);
	if (!rec_buf)
		return MLX5_CMD_STAT_NO_RES_ERR;
	mutex_lock(&vf->lock);
	sim_vf_flr_locked(vf);
	if (vf->run_state != SIM_SUSPENDED) {
		status = sim_bad_state(syndrome, SIM_SYND_BAD_STATE);
		goto out;
	}
	*syndrome = SIM_SYND_SHORT_IMAGE;
	status = MLX5_CMD_STAT_BAD_PARAM_ERR;
	if (size < sizeof(hdr))
		goto out;
	if (sim_mkey_copy(sim, mkey, 0, &hdr, sizeof(hdr), false)) {
		*syndrome = SIM_SYND_DMA;
		status = MLX5_CMD_STAT_BAD_RES_ERR;
		goto out;
	}
	*syndrome = SIM_SYND_BAD_MAGIC;
	if (le32_to_cpu(hdr.magic) != SIM_IMAGE_MAGIC ||
	    le16_to_cpu(hdr.version) != SIM_IMAGE_VERSION)
		goto out;
	*syndrome = SIM_SYND_BAD_CRC;
	if (le32_to_cpu(hdr.hdr_crc) !=
	    (crc32_le(~0, (u8 *)&hdr, offsetof(struct sim_image_hdr, hdr_crc)) ^ ~0))
		goto out;
	nrecs = le32_to_cpu(hdr.nrecs);
	*syndrome = SIM_SYND_SHORT_IMAGE;
	if (size != sim_image_bytes(nrecs))
		goto out;
	*syndrome = SIM_SYND_SIZE_MISMATCH;
	if (le64_to_cpu(hdr.state_size) != vf->state_size)
		goto out;

	/* Check everything before changing anything, like firmware would. */
	status = sim_load_records(vf, mkey, nrecs, rec_buf, false, &crc, syndrome);
	if (status)
		goto out;
	status = MLX5_CMD_STAT_BAD_PARAM_ERR;
	*syndrome = SIM_SYND_BAD_CRC;
	if ((crc ^ ~0) != le32_to_cpu(hdr.payload_crc))
		goto out;
	status = sim_load_records(vf, mkey, nrecs, rec_buf, true, NULL, syndrome);
	if (status)
		goto out;
	vf->generation++;
	vf->loads++;
	*syndrome = 0;
	status = 0;
out:
	mutex_unlock(&vf->lock);
	kfree(rec_buf);
	return status;
}

/*
 * FLR: a VF reset resets its vhca in firmware.  The simulator sees a reset
 * by wrapping the config accessors of the VFs' bus (as the AER injector
 * does) and noting a write of Initiate FLR to a VF's Device Control; the
 * vhca is reset at its next command or state access.
 */
static struct mlx5_sim *flr_sim;
static struct pci_ops *flr_orig_ops;

static int sim_flr_read(struct pci_bus *bus, unsigned int devfn, int where,
			int size, u32 *val)
{
	return flr_orig_ops->read(bus, devfn, where, size, val);
}

static int sim_flr_write(struct pci_bus *bus, unsigned int devfn, int where,
			 int size, u32 val)
{
	struct mlx5_sim *sim = flr_sim;
	int i;

	if (sim && size >= 2 && (val & PCI_EXP_DEVCTL_BCR_FLR)) {
		for (i = 0; i < sim->num_vfs; i++) {
			struct sim_vf *vf = &sim->vfs[i];

			if (vf->pdev->devfn == devfn && vf->flr_pos &&
			    where == vf->flr_pos + PCI_EXP_DEVCTL)
				atomic_set(&vf->flr_pending, 1);
		}
	}
	return flr_orig_ops->write(bus, devfn, where, size, val);
}

int sim_flr_hook(struct mlx5_sim *sim)
{
	struct pci_bus *bus = sim->vfs[0].pdev->bus;
	int i;

	if (flr_sim)
		return -EBUSY;
	for (i = 1; i < sim->num_vfs; i++)
		if (sim->vfs[i].pdev->bus != bus)
			return -EXDEV;
	sim->flr_ops = *bus->ops;
	sim->flr_ops.read = sim_flr_read;
	sim->flr_ops.write = sim_flr_write;
	flr_orig_ops = bus->ops;
	flr_sim = sim;
	sim->orig_ops = pci_bus_set_ops(bus, &sim->flr_ops);
	sim->flr_bus = bus;
	return 0;
}

void sim_flr_unhook(struct mlx5_sim *sim)
{
	if (flr_sim != sim || !sim->flr_bus)
		return;
	/* pci_bus_set_ops() takes pci_lock: no accessor is in ours after it. */
	pci_bus_set_ops(sim->flr_bus, sim->orig_ops);
	sim->flr_bus = NULL;
	flr_sim = NULL;
}
