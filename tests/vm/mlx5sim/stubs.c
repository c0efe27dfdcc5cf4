// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_sim: the mlx5_core exports behind upstream mlx5-vfio-pci's dirty page
 * tracker (a CQ, QPs, a UAR, EQ events).  Dirty tracking is not simulated:
 * the adv_virtualization capability is 0, so the driver offers no log_ops
 * and never calls these; they exist so that the module links, and fail.
 */
#include <linux/mlx5/cq.h>
#include <linux/mlx5/eq.h>

#include "sim.h"

int mlx5_frag_buf_alloc_node(struct mlx5_core_dev *dev, int size,
			     struct mlx5_frag_buf *buf, int node)
{
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL_GPL(mlx5_frag_buf_alloc_node);

void mlx5_frag_buf_free(struct mlx5_core_dev *dev, struct mlx5_frag_buf *buf)
{
}
EXPORT_SYMBOL_GPL(mlx5_frag_buf_free);

void mlx5_fill_page_frag_array(struct mlx5_frag_buf *frag_buf, __be64 *pas)
{
}
EXPORT_SYMBOL_GPL(mlx5_fill_page_frag_array);

int mlx5_db_alloc_node(struct mlx5_core_dev *dev, struct mlx5_db *db, int node)
{
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL_GPL(mlx5_db_alloc_node);

void mlx5_db_free(struct mlx5_core_dev *dev, struct mlx5_db *db)
{
}
EXPORT_SYMBOL_GPL(mlx5_db_free);

int mlx5_core_create_cq(struct mlx5_core_dev *dev, struct mlx5_core_cq *cq,
			u32 *in, int inlen, u32 *out, int outlen)
{
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL(mlx5_core_create_cq);

int mlx5_core_destroy_cq(struct mlx5_core_dev *dev, struct mlx5_core_cq *cq)
{
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL(mlx5_core_destroy_cq);

int mlx5_eq_notifier_register(struct mlx5_core_dev *dev, struct mlx5_nb *nb)
{
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL(mlx5_eq_notifier_register);

int mlx5_eq_notifier_unregister(struct mlx5_core_dev *dev, struct mlx5_nb *nb)
{
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL(mlx5_eq_notifier_unregister);

struct mlx5_uars_page *mlx5_get_uars_page(struct mlx5_core_dev *mdev)
{
	return ERR_PTR(-EOPNOTSUPP);
}
EXPORT_SYMBOL(mlx5_get_uars_page);

void mlx5_put_uars_page(struct mlx5_core_dev *mdev, struct mlx5_uars_page *up)
{
}
EXPORT_SYMBOL(mlx5_put_uars_page);

int mlx5_comp_eqn_get(struct mlx5_core_dev *dev, u16 vecidx, int *eqn)
{
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL(mlx5_comp_eqn_get);

unsigned int mlx5_comp_vectors_max(struct mlx5_core_dev *dev)
{
	return 0;
}
EXPORT_SYMBOL(mlx5_comp_vectors_max);

/* Used by mlx5_get_roce_state()'s callers in the page tracker's QP setup. */
bool mlx5_is_roce_on(struct mlx5_core_dev *dev)
{
	return false;
}
EXPORT_SYMBOL(mlx5_is_roce_on);
