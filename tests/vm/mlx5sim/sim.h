/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mlx5_sim - a test-only stand-in for mlx5_core: a "firmware" that answers
 * the mlx5 commands upstream's mlx5-vfio-pci (and our Rust mlx5_vfio_pci)
 * send for VF live migration.  Shared declarations of its parts:
 *
 *   core.c     the PCI driver on QEMU's igb PF, the struct mlx5_core_dev,
 *              its capabilities, SR-IOV and the VF notifier chain
 *   cmd.c      mlx5_cmd_exec()/mlx5_cmd_exec_cb(), dispatch by opcode
 *   state.c    the per-VF device state: contents, suspend state, dirty
 *              tracking, migration images, FLR
 *   dma.c      memory keys (MTT lists) and copies through the PF's IOMMU
 *   debugfs.c  /sys/kernel/debug/mlx5_sim/
 *   stubs.c    the dirty page tracker symbols, not modelled
 *
 * Lock order: sim->lock (SR-IOV enable/disable), then vf->lock, then
 * sim->mkey_lock.
 */
#ifndef MLX5_SIM_H
#define MLX5_SIM_H

#include <linux/debugfs.h>
#include <linux/mlx5/driver.h>
#include <linux/mlx5/mlx5_ifc.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

/*
 * Every command's header, as mlx5_core's cmd.c declares it (the layout is
 * the firmware's; the declaration is private to mlx5_core).
 */
struct mlx5_ifc_mbox_out_bits {
	u8         status[0x8];
	u8         reserved_at_8[0x18];

	u8         syndrome[0x20];

	u8         reserved_at_40[0x40];
};

struct mlx5_ifc_mbox_in_bits {
	u8         opcode[0x10];
	u8         uid[0x10];

	u8         reserved_at_20[0x10];
	u8         op_mod[0x10];

	u8         reserved_at_40[0x40];
};

/* The unit of the device state that is tracked dirty and carried in images. */
#define SIM_BLOCK_SIZE 4096u

/* Suspend state of a VF's vhca, as SUSPEND_VHCA/RESUME_VHCA move it. */
enum sim_run_state {
	SIM_RUNNING,
	SIM_SUSPENDED_INITIATOR,	/* initiator side stopped (RUNNING_P2P) */
	SIM_SUSPENDED,			/* both sides stopped (STOP) */
};

struct mlx5_sim;

/* One VF as the firmware sees it. */
struct sim_vf {
	struct mlx5_sim *sim;
	struct pci_dev *pdev;		/* the VF's PCI function (a reference) */
	int vf_id;			/* 0-based, as pci_iov_vf_id() */
	u16 vhca_id;
	u16 flr_pos;			/* PCIe capability offset, for FLR */
	atomic_t flr_pending;		/* set by a config write, see state.c */

	/* Protects everything below. */
	struct mutex lock;
	enum sim_run_state run_state;
	u8 *data;			/* state_size bytes of device state */
	size_t state_size;
	u64 generation;			/* bumped on every change */
	unsigned long *pending;		/* blocks not yet in an image */
	bool tracking;			/* SAVE set_track=1 seen, not cleared */
	bool session;			/* a save sequence is under way */
	u64 saves, loads;
	struct dentry *dir;
};

/* Error injection and timing knobs, all under debugfs. */
struct sim_inject {
	u32 fail_opcode;		/* fail the next command of this opcode */
	u32 fail_status;		/* with this status (default BAD_PARAM) */
	u32 delay_ms;			/* every command takes this long */
	u32 short_image;		/* next SAVE reports this many bytes less */
	u32 corrupt_image;		/* next SAVE flips a payload byte */
};

struct mlx5_sim {
	struct mlx5_core_dev mdev;	/* what mlx5_vf_get_core_dev() returns */
	struct pci_dev *pdev;		/* the PF */

	struct mutex lock;		/* SR-IOV enable/disable, vfs[] */
	struct sim_vf *vfs;
	int num_vfs;

	struct workqueue_struct *cmd_wq;	/* async commands */
	struct delayed_work mutate_work;	/* running VFs change state */

	spinlock_t mkey_lock;
	struct xarray mkeys;		/* index -> struct sim_mkey */
	u32 next_mkey;
	u32 next_pd;
	atomic_t pds;

	struct sim_inject inject;
	spinlock_t inject_lock;
	u64 cmds;			/* commands executed */

	struct pci_ops flr_ops;		/* the bus ops wrapper, see state.c */
	struct pci_ops *orig_ops;
	struct pci_bus *flr_bus;

	struct dentry *dir;
};

static inline struct mlx5_sim *to_sim(struct mlx5_core_dev *mdev)
{
	return container_of(mdev, struct mlx5_sim, mdev);
}

/* Module parameters (core.c). */
extern unsigned long sim_state_size;
extern unsigned int sim_chunk_size;
extern bool sim_chunk_mode;
extern unsigned int sim_mutate_ms;
extern unsigned int sim_mutate_blocks;

/* core.c */
struct sim_vf *sim_vf_by_vhca(struct mlx5_sim *sim, u16 vhca_id);
struct sim_vf *sim_vf_by_function(struct mlx5_sim *sim, u16 function_id);
void sim_vfs_detach(struct mlx5_sim *sim, bool detach);

/* cmd.c */
int sim_cmd_exec(struct mlx5_sim *sim, void *in, int in_size, void *out,
		 int out_size);

/* state.c */
int sim_vf_init(struct sim_vf *vf, size_t size);
void sim_vf_fini(struct sim_vf *vf);
int sim_vf_resize(struct sim_vf *vf, size_t size);
void sim_vf_mutate(struct sim_vf *vf);
void sim_vf_check_flr(struct sim_vf *vf);
u32 sim_vf_checksum(struct sim_vf *vf);
int sim_cmd_suspend(struct sim_vf *vf, u16 op_mod, u32 *syndrome);
int sim_cmd_resume(struct sim_vf *vf, u16 op_mod, u32 *syndrome);
int sim_cmd_query_mig(struct sim_vf *vf, bool inc, bool chunk, void *out,
		      u32 *syndrome);
int sim_cmd_save(struct sim_vf *vf, void *in, void *out, u32 *syndrome);
int sim_cmd_load(struct sim_vf *vf, void *in, u32 *syndrome);
int sim_flr_hook(struct mlx5_sim *sim);
void sim_flr_unhook(struct mlx5_sim *sim);

/* dma.c */
int sim_mkey_create(struct mlx5_sim *sim, void *in, int in_size, void *out,
		    u32 *syndrome);
int sim_mkey_destroy(struct mlx5_sim *sim, u32 index, u32 *syndrome);
void sim_mkeys_destroy_all(struct mlx5_sim *sim);
int sim_mkey_copy(struct mlx5_sim *sim, u32 mkey, u64 offset, void *buf,
		  size_t len, bool to_device_memory);

/* debugfs.c */
void sim_debugfs_init(struct mlx5_sim *sim);
void sim_debugfs_add_vf(struct sim_vf *vf);
void sim_debugfs_fini(struct mlx5_sim *sim);
bool sim_inject_take_fail(struct mlx5_sim *sim, u16 opcode, u8 *status);

#endif /* MLX5_SIM_H */
