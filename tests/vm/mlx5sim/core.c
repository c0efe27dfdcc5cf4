// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_sim core: binds to QEMU's igb PF (8086:10c9, by driver_override only),
 * builds the struct mlx5_core_dev that upstream's mlx5-vfio-pci reads
 * (capabilities through MLX5_CAP_GEN()/MLX5_CAP_GEN_2()), enables SR-IOV and
 * runs the VF notifier chain the way mlx5_core's sriov.c does.
 */
#include <linux/module.h>
#include <linux/slab.h>

#include "sim.h"

unsigned long sim_state_size = 4UL << 20;
module_param_named(state_size, sim_state_size, ulong, 0444);
MODULE_PARM_DESC(state_size, "bytes of device state per VF at SR-IOV enable (default 4 MiB, at most 1 GiB)");

unsigned int sim_chunk_size = 2U << 20;
module_param_named(chunk_size, sim_chunk_size, uint, 0444);
MODULE_PARM_DESC(chunk_size, "largest required_umem_size QUERY_VHCA_MIGRATION_STATE reports in chunk mode");

bool sim_chunk_mode = true;
module_param_named(chunk_mode, sim_chunk_mode, bool, 0444);
MODULE_PARM_DESC(chunk_mode, "offer the migration_in_chunks capability (default on)");

unsigned int sim_mutate_ms = 20;
module_param_named(mutate_ms, sim_mutate_ms, uint, 0444);
MODULE_PARM_DESC(mutate_ms, "period of the state changes of running VFs, 0 to never change");

unsigned int sim_mutate_blocks = 2;
module_param_named(mutate_blocks, sim_mutate_blocks, uint, 0444);
MODULE_PARM_DESC(mutate_blocks, "blocks changed per period in each running VF");

#define SIM_MAX_STATE_SIZE (1UL << 30)
/* vhca_id of VF n is SIM_VHCA_BASE + n: distinct from its function id n + 1. */
#define SIM_VHCA_BASE 0x40

static struct pci_driver mlx5_sim_driver;

struct sim_vf *sim_vf_by_vhca(struct mlx5_sim *sim, u16 vhca_id)
{
	int n = READ_ONCE(sim->num_vfs);

	if (vhca_id < SIM_VHCA_BASE || vhca_id >= SIM_VHCA_BASE + n)
		return NULL;
	return &sim->vfs[vhca_id - SIM_VHCA_BASE];
}

struct sim_vf *sim_vf_by_function(struct mlx5_sim *sim, u16 function_id)
{
	int n = READ_ONCE(sim->num_vfs);

	if (function_id < 1 || function_id > n)
		return NULL;
	return &sim->vfs[function_id - 1];
}

static void sim_set_caps(struct mlx5_sim *sim)
{
	struct mlx5_core_dev *mdev = &sim->mdev;
	void *gen = mdev->caps.hca[MLX5_CAP_GENERAL]->cur;
	void *gen2 = mdev->caps.hca[MLX5_CAP_GENERAL_2]->cur;

	MLX5_SET(cmd_hca_cap, gen, migration, 1);
	/* No dirty page tracking: log_ops stay unset. */
	MLX5_SET(cmd_hca_cap, gen, adv_virtualization, 0);
	MLX5_SET(cmd_hca_cap, gen, vhca_id, 0);
	MLX5_SET(cmd_hca_cap_2, gen2, migratable, 1);
	MLX5_SET(cmd_hca_cap_2, gen2, migration_multi_load, 1);
	MLX5_SET(cmd_hca_cap_2, gen2, migration_tracking_state, 1);
	MLX5_SET(cmd_hca_cap_2, gen2, migration_in_chunks, sim_chunk_mode);
	MLX5_SET(cmd_hca_cap_2, gen2, migration_state, 1);
	memcpy(mdev->caps.hca[MLX5_CAP_GENERAL]->max, gen,
	       sizeof(mdev->caps.hca[MLX5_CAP_GENERAL]->max));
	memcpy(mdev->caps.hca[MLX5_CAP_GENERAL_2]->max, gen2,
	       sizeof(mdev->caps.hca[MLX5_CAP_GENERAL_2]->max));
}

static void sim_free_caps(struct mlx5_core_dev *mdev)
{
	int i;

	for (i = 0; i < MLX5_CAP_NUM; i++) {
		kfree(mdev->caps.hca[i]);
		mdev->caps.hca[i] = NULL;
	}
}

static int sim_alloc_caps(struct mlx5_core_dev *mdev)
{
	static const int types[] = {
		MLX5_CAP_GENERAL, MLX5_CAP_GENERAL_2, MLX5_CAP_ADV_VIRTUALIZATION,
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		mdev->caps.hca[types[i]] = kzalloc_obj(struct mlx5_hca_cap, GFP_KERNEL);
		if (!mdev->caps.hca[types[i]]) {
			sim_free_caps(mdev);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Calls the VF notifiers of every VF with @event, like mlx5_core's sriov.c. */
static void sim_notify_vfs(struct mlx5_sim *sim, int num_vfs, unsigned long event)
{
	struct mlx5_core_sriov *sriov = &sim->mdev.priv.sriov;
	int i;

	for (i = 0; i < num_vfs; i++)
		blocking_notifier_call_chain(&sriov->vfs_ctx[i].notifier, event,
					     &sim->mdev);
}

static void sim_free_vfs(struct mlx5_sim *sim, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		debugfs_remove_recursive(sim->vfs[i].dir);
		sim_vf_fini(&sim->vfs[i]);
		pci_dev_put(sim->vfs[i].pdev);
	}
	kfree(sim->vfs);
	sim->vfs = NULL;
}

/* VF @vf_id of @pf, with a reference; NULL if there is none. */
static struct pci_dev *sim_get_vf(struct pci_dev *pf, int vf_id)
{
	struct pci_dev *vf = NULL;

	while ((vf = pci_get_device(pf->vendor, PCI_ANY_ID, vf))) {
		if (vf->is_virtfn && pci_physfn(vf) == pf && pci_iov_vf_id(vf) == vf_id)
			return vf;
	}
	return NULL;
}

static int sim_sriov_enable(struct mlx5_sim *sim, int num_vfs)
{
	struct pci_dev *pdev = sim->pdev;
	size_t size = min(sim_state_size, SIM_MAX_STATE_SIZE);
	int i, ret;

	sim->vfs = kzalloc_objs(struct sim_vf, num_vfs, GFP_KERNEL);
	if (!sim->vfs)
		return -ENOMEM;
	/* mlx5_device_enable_sriov(): notify, then enable the hca. */
	sim_notify_vfs(sim, num_vfs, MLX5_PF_NOTIFY_ENABLE_VF);
	ret = pci_enable_sriov(pdev, num_vfs);
	if (ret)
		goto err_free;
	for (i = 0; i < num_vfs; i++) {
		struct sim_vf *vf = &sim->vfs[i];

		vf->sim = sim;
		vf->vf_id = i;
		vf->vhca_id = SIM_VHCA_BASE + i;
		vf->pdev = sim_get_vf(pdev, i);
		ret = vf->pdev ? sim_vf_init(vf, size) : -ENODEV;
		if (ret) {
			pci_dev_put(vf->pdev);
			sim_free_vfs(sim, i);
			pci_disable_sriov(pdev);
			return ret;
		}
		sim_debugfs_add_vf(vf);
	}
	sim->mdev.priv.sriov.num_vfs = num_vfs;
	WRITE_ONCE(sim->num_vfs, num_vfs);
	ret = sim_flr_hook(sim);
	if (ret)
		dev_info(&pdev->dev, "no FLR model (%d): VF resets keep the vhca state\n", ret);
	if (sim_mutate_ms)
		schedule_delayed_work(&sim->mutate_work, msecs_to_jiffies(sim_mutate_ms));
	return num_vfs;

err_free:
	kfree(sim->vfs);
	sim->vfs = NULL;
	return ret;
}

static void sim_sriov_disable(struct mlx5_sim *sim)
{
	int n = sim->num_vfs;

	if (!n)
		return;
	cancel_delayed_work_sync(&sim->mutate_work);
	sim_flr_unhook(sim);
	/* mlx5_sriov_disable(): the PCI VFs go first, then the notifiers. */
	pci_disable_sriov(sim->pdev);
	sim_notify_vfs(sim, n, MLX5_PF_NOTIFY_DISABLE_VF);
	WRITE_ONCE(sim->num_vfs, 0);
	sim->mdev.priv.sriov.num_vfs = 0;
	sim_free_vfs(sim, n);
}

static int mlx5_sim_sriov_configure(struct pci_dev *pdev, int num_vfs)
{
	struct mlx5_sim *sim = pci_get_drvdata(pdev);
	int ret = 0;

	mutex_lock(&sim->lock);
	sim_sriov_disable(sim);
	if (num_vfs)
		ret = sim_sriov_enable(sim, num_vfs);
	mutex_unlock(&sim->lock);
	return ret;
}

/* Models mlx5_sriov_detach()/attach(): the VFs stay, their hcas go. */
void sim_vfs_detach(struct mlx5_sim *sim, bool detach)
{
	mutex_lock(&sim->lock);
	sim_notify_vfs(sim, sim->num_vfs,
		       detach ? MLX5_PF_NOTIFY_DISABLE_VF : MLX5_PF_NOTIFY_ENABLE_VF);
	mutex_unlock(&sim->lock);
}

static void sim_mutate_fn(struct work_struct *work)
{
	struct mlx5_sim *sim = container_of(to_delayed_work(work), struct mlx5_sim,
					    mutate_work);
	int i;

	for (i = 0; i < sim->num_vfs; i++)
		sim_vf_mutate(&sim->vfs[i]);
	schedule_delayed_work(&sim->mutate_work, msecs_to_jiffies(sim_mutate_ms));
}

static int mlx5_sim_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct mlx5_core_sriov *sriov;
	struct mlx5_sim *sim;
	int total, i, ret;

	total = pci_sriov_get_totalvfs(pdev);
	if (total <= 0)
		return -ENODEV;
	sim = kzalloc_obj(*sim, GFP_KERNEL);
	if (!sim)
		return -ENOMEM;
	sim->pdev = pdev;
	mutex_init(&sim->lock);
	spin_lock_init(&sim->mkey_lock);
	spin_lock_init(&sim->inject_lock);
	xa_init_flags(&sim->mkeys, XA_FLAGS_ALLOC1);
	INIT_DELAYED_WORK(&sim->mutate_work, sim_mutate_fn);

	sim->mdev.device = &pdev->dev;
	sim->mdev.pdev = pdev;
	sim->mdev.coredev_type = MLX5_COREDEV_PF;
	sim->mdev.priv.numa_node = dev_to_node(&pdev->dev);
	mutex_init(&sim->mdev.intf_state_mutex);
	mutex_init(&sim->mdev.pci_status_mutex);
	ret = sim_alloc_caps(&sim->mdev);
	if (ret)
		goto err_free;
	sim_set_caps(sim);
	sriov = &sim->mdev.priv.sriov;
	sriov->max_vfs = total;
	sriov->vfs_ctx = kzalloc_objs(*sriov->vfs_ctx, total, GFP_KERNEL);
	if (!sriov->vfs_ctx) {
		ret = -ENOMEM;
		goto err_caps;
	}
	for (i = 0; i < total; i++)
		BLOCKING_INIT_NOTIFIER_HEAD(&sriov->vfs_ctx[i].notifier);

	sim->cmd_wq = alloc_ordered_workqueue("mlx5_sim_cmd", 0);
	if (!sim->cmd_wq) {
		ret = -ENOMEM;
		goto err_ctx;
	}
	ret = pci_enable_device(pdev);
	if (ret)
		goto err_wq;
	/* The PF does the VFs' DMA: the driver maps its buffers against it. */
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto err_disable;
	pci_set_master(pdev);
	pci_set_drvdata(pdev, sim);
	sim_debugfs_init(sim);
	mutex_lock(&sim->mdev.intf_state_mutex);
	/* As mlx5_core: a bit number used as a mask (upstream's quirk, kept). */
	set_bit(MLX5_INTERFACE_STATE_UP, &sim->mdev.intf_state);
	mutex_unlock(&sim->mdev.intf_state_mutex);
	dev_info(&pdev->dev, "mlx5_sim: firmware simulator, %d VFs possible, %lu bytes of state per VF%s\n",
		 total, min(sim_state_size, SIM_MAX_STATE_SIZE),
		 sim_chunk_mode ? ", chunk mode" : "");
	return 0;

err_disable:
	pci_disable_device(pdev);
err_wq:
	destroy_workqueue(sim->cmd_wq);
err_ctx:
	kfree(sriov->vfs_ctx);
err_caps:
	sim_free_caps(&sim->mdev);
err_free:
	kfree(sim);
	return ret;
}

static void mlx5_sim_remove(struct pci_dev *pdev)
{
	struct mlx5_sim *sim = pci_get_drvdata(pdev);

	mutex_lock(&sim->mdev.intf_state_mutex);
	clear_bit(MLX5_INTERFACE_STATE_UP, &sim->mdev.intf_state);
	mutex_unlock(&sim->mdev.intf_state_mutex);
	mutex_lock(&sim->lock);
	sim_sriov_disable(sim);
	mutex_unlock(&sim->lock);
	sim_debugfs_fini(sim);
	destroy_workqueue(sim->cmd_wq);
	sim_mkeys_destroy_all(sim);
	xa_destroy(&sim->mkeys);
	pci_clear_master(pdev);
	pci_disable_device(pdev);
	kfree(sim->mdev.priv.sriov.vfs_ctx);
	sim_free_caps(&sim->mdev);
	kfree(sim);
}

/* Matches nothing by itself: the test binds the PF with driver_override. */
static const struct pci_device_id mlx5_sim_table[] = {
	{ PCI_DRIVER_OVERRIDE_DEVICE_VFIO(PCI_VENDOR_ID_INTEL, 0x10c9) },
	{}
};

static struct pci_driver mlx5_sim_driver = {
	.name = "mlx5_sim",
	.id_table = mlx5_sim_table,
	.probe = mlx5_sim_probe,
	.remove = mlx5_sim_remove,
	.sriov_configure = mlx5_sim_sriov_configure,
};

/**
 * mlx5_vf_get_core_dev - The simulated mlx5_core_dev of a VF's PF.
 * @pdev: a VF.
 *
 * Return: the mdev with its interface state lock held, or NULL if the VF's
 * PF is not bound to mlx5_sim or is going away.
 */
struct mlx5_core_dev *mlx5_vf_get_core_dev(struct pci_dev *pdev)
{
	struct mlx5_sim *sim = pci_iov_get_pf_drvdata(pdev, &mlx5_sim_driver);

	if (IS_ERR(sim))
		return NULL;
	mutex_lock(&sim->mdev.intf_state_mutex);
	if (!test_bit(MLX5_INTERFACE_STATE_UP, &sim->mdev.intf_state)) {
		mutex_unlock(&sim->mdev.intf_state_mutex);
		return NULL;
	}
	return &sim->mdev;
}
EXPORT_SYMBOL(mlx5_vf_get_core_dev);

void mlx5_vf_put_core_dev(struct mlx5_core_dev *mdev)
{
	mutex_unlock(&mdev->intf_state_mutex);
}
EXPORT_SYMBOL(mlx5_vf_put_core_dev);

int mlx5_sriov_blocking_notifier_register(struct mlx5_core_dev *mdev, int vf_id,
					  struct notifier_block *nb)
{
	struct mlx5_core_sriov *sriov = &mdev->priv.sriov;

	if (vf_id < 0 || vf_id >= sriov->num_vfs)
		return -EINVAL;
	return blocking_notifier_chain_register(&sriov->vfs_ctx[vf_id].notifier, nb);
}
EXPORT_SYMBOL(mlx5_sriov_blocking_notifier_register);

void mlx5_sriov_blocking_notifier_unregister(struct mlx5_core_dev *mdev, int vf_id,
					     struct notifier_block *nb)
{
	struct mlx5_core_sriov *sriov = &mdev->priv.sriov;

	if (WARN_ON(vf_id < 0 || vf_id >= sriov->max_vfs))
		return;
	blocking_notifier_chain_unregister(&sriov->vfs_ctx[vf_id].notifier, nb);
}
EXPORT_SYMBOL(mlx5_sriov_blocking_notifier_unregister);

static int __init mlx5_sim_init(void)
{
	return pci_register_driver(&mlx5_sim_driver);
}

static void __exit mlx5_sim_exit(void)
{
	pci_unregister_driver(&mlx5_sim_driver);
}

module_init(mlx5_sim_init);
module_exit(mlx5_sim_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("mlx5 firmware simulator for VFIO live migration tests (test only)");
