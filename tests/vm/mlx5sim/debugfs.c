// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_sim debugfs, /sys/kernel/debug/mlx5_sim/:
 *
 *   <vf bdf>/checksum     crc32 of the VF's device state (read)
 *   <vf bdf>/generation   bumped on every change of the state (read)
 *   <vf bdf>/state_size   bytes of state (read; write to resize, not while
 *                         a save sequence is under way)
 *   <vf bdf>/suspended    0 running, 1 initiator suspended, 2 suspended
 *   <vf bdf>/tracking     dirty tracking on (read)
 *   <vf bdf>/saves, loads SAVE/LOAD_VHCA_STATE commands that succeeded
 *   fail_opcode           fail the next command with this opcode (0: none)
 *   fail_status           ... with this status (default 0x3, BAD_PARAM)
 *   delay_ms              every command sleeps this long first
 *   short_image           the next SAVE reports this many bytes less
 *   corrupt_image         the next SAVE writes a bad checksum (write 1)
 *   vf_detach             1: call the VF notifiers with DISABLE_VF (like
 *                         mlx5_sriov_detach()), 0: with ENABLE_VF
 *   cmds, pds, mkeys      commands run, PDs and memory keys outstanding
 */
#include <linux/debugfs.h>

#include "sim.h"


bool sim_inject_take_fail(struct mlx5_sim *sim, u16 opcode, u8 *status)
{
	bool hit;

	spin_lock(&sim->inject_lock);
	hit = sim->inject.fail_opcode && sim->inject.fail_opcode == opcode;
	if (hit) {
		sim->inject.fail_opcode = 0;
		*status = sim->inject.fail_status ?: MLX5_CMD_STAT_BAD_PARAM_ERR;
	}
	spin_unlock(&sim->inject_lock);
	return hit;
}

static int vf_checksum_get(void *data, u64 *val)
{
	*val = sim_vf_checksum(data);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(vf_checksum_fops, vf_checksum_get, NULL, "0x%08llx\n");

/*
 * A VF attribute whose value is @expr under vf->lock, once a pending FLR
 * has been carried out; @set writes it (NULL: read only).
 */
#define SIM_VF_ATTR(name, expr, set)					\
static int vf_##name##_get(void *data, u64 *val)			\
{									\
	struct sim_vf *vf = data;					\
									\
	sim_vf_check_flr(vf);						\
	mutex_lock(&vf->lock);						\
	*val = (expr);							\
	mutex_unlock(&vf->lock);					\
	return 0;							\
}									\
DEFINE_DEBUGFS_ATTRIBUTE(vf_##name##_fops, vf_##name##_get, set, "%llu\n")

static int vf_state_size_set(void *data, u64 val)
{
	if (!val || val > (1ULL << 30))
		return -EINVAL;
	return sim_vf_resize(data, val);
}

SIM_VF_ATTR(generation, vf->generation, NULL);
SIM_VF_ATTR(suspended, vf->run_state, NULL);
SIM_VF_ATTR(tracking, vf->tracking, NULL);
SIM_VF_ATTR(saves, vf->saves, NULL);
SIM_VF_ATTR(loads, vf->loads, NULL);
SIM_VF_ATTR(state_size, vf->state_size, vf_state_size_set);

#define SIM_INJECT_FIELD(name)						\
static int inject_##name##_get(void *data, u64 *val)			\
{									\
	struct mlx5_sim *sim = data;					\
									\
	spin_lock(&sim->inject_lock);					\
	*val = sim->inject.name;					\
	spin_unlock(&sim->inject_lock);					\
	return 0;							\
}									\
static int inject_##name##_set(void *data, u64 val)			\
{									\
	struct mlx5_sim *sim = data;					\
									\
	if (val > U32_MAX)						\
		return -EINVAL;						\
	spin_lock(&sim->inject_lock);					\
	sim->inject.name = val;						\
	spin_unlock(&sim->inject_lock);					\
	return 0;							\
}									\
DEFINE_DEBUGFS_ATTRIBUTE(inject_##name##_fops, inject_##name##_get,	\
			 inject_##name##_set, "0x%llx\n")

SIM_INJECT_FIELD(fail_opcode);
SIM_INJECT_FIELD(fail_status);
SIM_INJECT_FIELD(delay_ms);
SIM_INJECT_FIELD(short_image);
SIM_INJECT_FIELD(corrupt_image);

static int sim_cmds_get(void *data, u64 *val)
{
	struct mlx5_sim *sim = data;

	spin_lock(&sim->inject_lock);
	*val = sim->cmds;
	spin_unlock(&sim->inject_lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(sim_cmds_fops, sim_cmds_get, NULL, "%llu\n");

static int sim_pds_get(void *data, u64 *val)
{
	*val = atomic_read(&((struct mlx5_sim *)data)->pds);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(sim_pds_fops, sim_pds_get, NULL, "%llu\n");

static int sim_mkeys_get(void *data, u64 *val)
{
	struct mlx5_sim *sim = data;
	unsigned long index;
	void *entry;

	*val = 0;
	xa_for_each(&sim->mkeys, index, entry)
		(*val)++;
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(sim_mkeys_fops, sim_mkeys_get, NULL, "%llu\n");

static int sim_detach_set(void *data, u64 val)
{
	sim_vfs_detach(data, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(sim_detach_fops, NULL, sim_detach_set, "%llu\n");

/* The files of the tree: in each VF's directory (@per_vf), or at its top. */
static const struct sim_debugfs_file {
	const char *name;
	umode_t mode;
	bool per_vf;
	const struct file_operations *fops;
} sim_files[] = {
	{ "checksum",		0444, true,  &vf_checksum_fops },
	{ "generation",		0444, true,  &vf_generation_fops },
	{ "state_size",		0644, true,  &vf_state_size_fops },
	{ "suspended",		0444, true,  &vf_suspended_fops },
	{ "tracking",		0444, true,  &vf_tracking_fops },
	{ "saves",		0444, true,  &vf_saves_fops },
	{ "loads",		0444, true,  &vf_loads_fops },
	{ "fail_opcode",	0644, false, &inject_fail_opcode_fops },
	{ "fail_status",	0644, false, &inject_fail_status_fops },
	{ "delay_ms",		0644, false, &inject_delay_ms_fops },
	{ "short_image",	0644, false, &inject_short_image_fops },
	{ "corrupt_image",	0644, false, &inject_corrupt_image_fops },
	{ "vf_detach",		0200, false, &sim_detach_fops },
	{ "cmds",		0444, false, &sim_cmds_fops },
	{ "pds",		0444, false, &sim_pds_fops },
	{ "mkeys",		0444, false, &sim_mkeys_fops },
};

/* Creates the files of a VF's directory (@per_vf) or the top one in @dir. */
static void sim_debugfs_create_files(struct dentry *dir, void *data, bool per_vf)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sim_files); i++)
		if (sim_files[i].per_vf == per_vf)
			debugfs_create_file_unsafe(sim_files[i].name, sim_files[i].mode, dir,
						   data, sim_files[i].fops);
}

void sim_debugfs_add_vf(struct sim_vf *vf)
{
	struct dentry *dir;

	if (IS_ERR_OR_NULL(vf->sim->dir))
		return;
	dir = debugfs_create_dir(pci_name(vf->pdev), vf->sim->dir);
	vf->dir = dir;
	sim_debugfs_create_files(dir, vf, true);
}

void sim_debugfs_init(struct mlx5_sim *sim)
{
	struct dentry *dir = debugfs_create_dir("mlx5_sim", NULL);

	sim->dir = dir;
	if (IS_ERR(dir))
		return;
	sim_debugfs_create_files(dir, sim, false);
}

void sim_debugfs_fini(struct mlx5_sim *sim)
{
	debugfs_remove_recursive(sim->dir);
	sim->dir = NULL;
}
