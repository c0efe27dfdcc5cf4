// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_sim command interface: the mlx5_core exports a driver sends commands
 * through (mlx5_cmd_do/_exec/_exec_cb, the mkey, PD and vport helpers), and
 * the "firmware" behind them, dispatching on the opcode of the mlx5_ifc
 * inbox.  A command's result goes in its outbox (status, syndrome, fields)
 * exactly as mlx5 firmware writes it; the errno mapping is mlx5_core's.
 * Asynchronous commands complete from an ordered workqueue.
 */
#include <linux/delay.h>
#include <linux/mlx5/vport.h>
#include <linux/slab.h>

#include "sim.h"

/* mlx5_core's cmd_status_to_err(). */
static int sim_status_to_err(u8 status)
{
	switch (status) {
	case MLX5_CMD_STAT_OK:				return 0;
	case MLX5_CMD_STAT_INT_ERR:			return -EIO;
	case MLX5_CMD_STAT_BAD_OP_ERR:			return -EINVAL;
	case MLX5_CMD_STAT_BAD_PARAM_ERR:		return -EINVAL;
	case MLX5_CMD_STAT_BAD_SYS_STATE_ERR:		return -EIO;
	case MLX5_CMD_STAT_BAD_RES_ERR:			return -EINVAL;
	case MLX5_CMD_STAT_RES_BUSY:			return -EBUSY;
	case MLX5_CMD_STAT_NOT_READY:			return -EAGAIN;
	case MLX5_CMD_STAT_LIM_ERR:			return -ENOMEM;
	case MLX5_CMD_STAT_BAD_RES_STATE_ERR:		return -EINVAL;
	case MLX5_CMD_STAT_IX_ERR:			return -EINVAL;
	case MLX5_CMD_STAT_NO_RES_ERR:			return -EAGAIN;
	case MLX5_CMD_STAT_BAD_INP_LEN_ERR:		return -EIO;
	case MLX5_CMD_STAT_BAD_OUTP_LEN_ERR:		return -EIO;
	case MLX5_CMD_STAT_BAD_QP_STATE_ERR:		return -EINVAL;
	case MLX5_CMD_STAT_BAD_PKT_ERR:			return -EINVAL;
	case MLX5_CMD_STAT_BAD_SIZE_OUTS_CQES_ERR:	return -EINVAL;
	default:					return -EIO;
	}
}

static int sim_query_hca_cap(struct mlx5_sim *sim, void *in, void *out, int out_size,
			     u32 *syndrome)
{
	u16 op_mod = MLX5_GET(query_hca_cap_in, in, op_mod);
	void *cap = MLX5_ADDR_OF(query_hca_cap_out, out, capability);
	int type = op_mod >> 1;
	struct sim_vf *vf = NULL;

	if (out_size < MLX5_ST_SZ_BYTES(query_hca_cap_out))
		return MLX5_CMD_STAT_BAD_OUTP_LEN_ERR;
	if (MLX5_GET(query_hca_cap_in, in, other_function)) {
		vf = sim_vf_by_function(sim, MLX5_GET(query_hca_cap_in, in, function_id));
		if (!vf || MLX5_GET(query_hca_cap_in, in, function_id_type)) {
			*syndrome = 0x53000001;
			return MLX5_CMD_STAT_BAD_PARAM_ERR;
		}
	}
	switch (type) {
	case MLX5_CAP_GENERAL:
	case MLX5_CAP_GENERAL_2:
		memcpy(cap, sim->mdev.caps.hca[type]->cur,
		       sizeof(sim->mdev.caps.hca[type]->cur));
		break;
	default:
		*syndrome = 0x53000002;
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	}
	if (vf && type == MLX5_CAP_GENERAL)
		MLX5_SET(cmd_hca_cap, cap, vhca_id, vf->vhca_id);
	return 0;
}

/* The vhca a migration command names, NULL (with a syndrome) if none. */
static struct sim_vf *sim_cmd_vf(struct mlx5_sim *sim, void *in, u32 *syndrome)
{
	/* Every vhca command has vhca_id at the same place as suspend_vhca_in. */
	struct sim_vf *vf = sim_vf_by_vhca(sim, MLX5_GET(suspend_vhca_in, in, vhca_id));

	if (!vf)
		*syndrome = 0x53000003;
	return vf;
}

/* Runs one command: fills @out and returns 0; firmware errors are in @out. */
int sim_cmd_exec(struct mlx5_sim *sim, void *in, int in_size, void *out,
		 int out_size)
{
	u16 opcode = MLX5_GET(mbox_in, in, opcode);
	u16 op_mod = MLX5_GET(mbox_in, in, op_mod);
	u32 syndrome = 0, delay;
	struct sim_vf *vf;
	u8 status = 0;

	if (in_size < MLX5_ST_SZ_BYTES(mbox_in) || out_size < MLX5_ST_SZ_BYTES(mbox_out))
		return -EINVAL;
	memset(out, 0, out_size);
	spin_lock(&sim->inject_lock);
	delay = sim->inject.delay_ms;
	sim->cmds++;
	spin_unlock(&sim->inject_lock);
	if (delay)
		msleep(delay);
	if (sim_inject_take_fail(sim, opcode, &status)) {
		syndrome = 0x5f000000 | opcode;
		goto out;
	}

	switch (opcode) {
	case MLX5_CMD_OP_QUERY_HCA_CAP:
		status = sim_query_hca_cap(sim, in, out, out_size, &syndrome);
		break;
	case MLX5_CMD_OP_ALLOC_PD:
		spin_lock(&sim->mkey_lock);
		MLX5_SET(alloc_pd_out, out, pd, ++sim->next_pd & 0xffffff);
		spin_unlock(&sim->mkey_lock);
		atomic_inc(&sim->pds);
		break;
	case MLX5_CMD_OP_DEALLOC_PD:
		if (!MLX5_GET(dealloc_pd_in, in, pd) ||
		    MLX5_GET(dealloc_pd_in, in, pd) > READ_ONCE(sim->next_pd) ||
		    atomic_dec_if_positive(&sim->pds) < 0) {
			syndrome = 0x53000004;
			status = MLX5_CMD_STAT_BAD_RES_ERR;
		}
		break;
	case MLX5_CMD_OP_CREATE_MKEY:
		status = sim_mkey_create(sim, in, in_size, out, &syndrome);
		break;
	case MLX5_CMD_OP_DESTROY_MKEY:
		status = sim_mkey_destroy(sim, MLX5_GET(destroy_mkey_in, in, mkey_index),
					  &syndrome);
		break;
	case MLX5_CMD_OP_SUSPEND_VHCA:
	case MLX5_CMD_OP_RESUME_VHCA:
	case MLX5_CMD_OP_QUERY_VHCA_MIGRATION_STATE:
	case MLX5_CMD_OP_SAVE_VHCA_STATE:
	case MLX5_CMD_OP_LOAD_VHCA_STATE:
		vf = sim_cmd_vf(sim, in, &syndrome);
		if (!vf) {
			status = MLX5_CMD_STAT_BAD_PARAM_ERR;
			break;
		}
		if (opcode == MLX5_CMD_OP_SUSPEND_VHCA)
			status = sim_cmd_suspend(vf, op_mod, &syndrome);
		else if (opcode == MLX5_CMD_OP_RESUME_VHCA)
			status = sim_cmd_resume(vf, op_mod, &syndrome);
		else if (opcode == MLX5_CMD_OP_QUERY_VHCA_MIGRATION_STATE)
			status = sim_cmd_query_mig(vf,
				MLX5_GET(query_vhca_migration_state_in, in, incremental),
				MLX5_GET(query_vhca_migration_state_in, in, chunk),
				out, &syndrome);
		else if (opcode == MLX5_CMD_OP_SAVE_VHCA_STATE)
			status = sim_cmd_save(vf, in, out, &syndrome);
		else
			status = sim_cmd_load(vf, in, &syndrome);
		break;
	default:
		syndrome = 0x53000005;
		status = MLX5_CMD_STAT_BAD_OP_ERR;
		break;
	}
out:
	if (status) {
		/* A failed command's outbox carries only status and syndrome. */
		memset(out, 0, out_size);
		MLX5_SET(mbox_out, out, status, status);
		MLX5_SET(mbox_out, out, syndrome, syndrome);
	}
	return 0;
}

int mlx5_cmd_do(struct mlx5_core_dev *dev, void *in, int in_size, void *out, int out_size)
{
	int err = sim_cmd_exec(to_sim(dev), in, in_size, out, out_size);

	if (err)
		return err;
	return MLX5_GET(mbox_out, out, status) ? -EREMOTEIO : 0;
}
EXPORT_SYMBOL(mlx5_cmd_do);

void mlx5_cmd_out_err(struct mlx5_core_dev *dev, u16 opcode, u16 op_mod, void *out)
{
	u8 status = MLX5_GET(mbox_out, out, status);

	dev_err_ratelimited(dev->device,
			    "mlx5_sim: command 0x%x op_mod 0x%x failed, status 0x%x, syndrome 0x%x, err %d\n",
			    opcode, op_mod, status, MLX5_GET(mbox_out, out, syndrome),
			    sim_status_to_err(status));
}
EXPORT_SYMBOL(mlx5_cmd_out_err);

int mlx5_cmd_check(struct mlx5_core_dev *dev, int err, void *in, void *out)
{
	if (err != -EREMOTEIO && err)
		return err;
	err = sim_status_to_err(MLX5_GET(mbox_out, out, status));
	if (err)
		mlx5_cmd_out_err(dev, MLX5_GET(mbox_in, in, opcode),
				 MLX5_GET(mbox_in, in, op_mod), out);
	return err;
}
EXPORT_SYMBOL(mlx5_cmd_check);

int mlx5_cmd_exec(struct mlx5_core_dev *dev, void *in, int in_size, void *out,
		  int out_size)
{
	return mlx5_cmd_check(dev, mlx5_cmd_do(dev, in, in_size, out, out_size), in, out);
}
EXPORT_SYMBOL(mlx5_cmd_exec);

void mlx5_cmd_init_async_ctx(struct mlx5_core_dev *dev, struct mlx5_async_ctx *ctx)
{
	ctx->dev = dev;
	/* Starts at 1 to avoid doing wake_up if we are not cleaning up. */
	atomic_set(&ctx->num_inflight, 1);
	init_completion(&ctx->inflight_done);
}
EXPORT_SYMBOL(mlx5_cmd_init_async_ctx);

void mlx5_cmd_cleanup_async_ctx(struct mlx5_async_ctx *ctx)
{
	if (!atomic_dec_and_test(&ctx->num_inflight))
		wait_for_completion(&ctx->inflight_done);
}
EXPORT_SYMBOL(mlx5_cmd_cleanup_async_ctx);

struct sim_async {
	struct work_struct work;
	struct mlx5_async_work *work_ctx;
	int in_size, out_size;
	u8 in[];
};

static void sim_async_fn(struct work_struct *work)
{
	struct sim_async *a = container_of(work, struct sim_async, work);
	struct mlx5_async_work *w = a->work_ctx;
	struct mlx5_async_ctx *ctx = w->ctx;
	int status;

	status = sim_cmd_exec(to_sim(ctx->dev), a->in, a->in_size, w->out, a->out_size);
	if (!status && MLX5_GET(mbox_out, w->out, status))
		status = -EREMOTEIO;
	kfree(a);
	w->user_callback(status, w);
	/* @w may be gone now. */
	if (atomic_dec_and_test(&ctx->num_inflight))
		complete(&ctx->inflight_done);
}

int mlx5_cmd_exec_cb(struct mlx5_async_ctx *ctx, void *in, int in_size,
		     void *out, int out_size, mlx5_async_cbk_t callback,
		     struct mlx5_async_work *work)
{
	struct mlx5_sim *sim = to_sim(ctx->dev);
	struct sim_async *a;

	work->ctx = ctx;
	work->user_callback = callback;
	work->opcode = MLX5_GET(mbox_in, in, opcode);
	work->op_mod = MLX5_GET(mbox_in, in, op_mod);
	work->out = out;
	work->throttle_locked = false;
	work->unpriv_locked = false;
	if (WARN_ON(!atomic_inc_not_zero(&ctx->num_inflight)))
		return -EIO;
	/* The inbox is the caller's stack: the firmware takes a copy. */
	a = kmalloc(struct_size(a, in, in_size), GFP_KERNEL);
	if (!a) {
		if (atomic_dec_and_test(&ctx->num_inflight))
			complete(&ctx->inflight_done);
		return -ENOMEM;
	}
	INIT_WORK(&a->work, sim_async_fn);
	a->work_ctx = work;
	a->in_size = in_size;
	a->out_size = out_size;
	memcpy(a->in, in, in_size);
	queue_work(sim->cmd_wq, &a->work);
	return 0;
}
EXPORT_SYMBOL(mlx5_cmd_exec_cb);

int mlx5_core_create_mkey(struct mlx5_core_dev *dev, u32 *mkey, u32 *in, int inlen)
{
	u32 lout[MLX5_ST_SZ_DW(create_mkey_out)] = {};
	u32 mkey_index;
	int err;

	MLX5_SET(create_mkey_in, in, opcode, MLX5_CMD_OP_CREATE_MKEY);
	err = mlx5_cmd_exec(dev, in, inlen, lout, sizeof(lout));
	if (err)
		return err;
	mkey_index = MLX5_GET(create_mkey_out, lout, mkey_index);
	*mkey = MLX5_GET(create_mkey_in, in, memory_key_mkey_entry.mkey_7_0) |
		mlx5_idx_to_mkey(mkey_index);
	return 0;
}
EXPORT_SYMBOL(mlx5_core_create_mkey);

int mlx5_core_destroy_mkey(struct mlx5_core_dev *dev, u32 mkey)
{
	u32 in[MLX5_ST_SZ_DW(destroy_mkey_in)] = {};

	MLX5_SET(destroy_mkey_in, in, opcode, MLX5_CMD_OP_DESTROY_MKEY);
	MLX5_SET(destroy_mkey_in, in, mkey_index, mlx5_mkey_to_idx(mkey));
	return mlx5_cmd_exec_in(dev, destroy_mkey, in);
}
EXPORT_SYMBOL(mlx5_core_destroy_mkey);

int mlx5_core_alloc_pd(struct mlx5_core_dev *dev, u32 *pdn)
{
	u32 out[MLX5_ST_SZ_DW(alloc_pd_out)] = {};
	u32 in[MLX5_ST_SZ_DW(alloc_pd_in)] = {};
	int err;

	MLX5_SET(alloc_pd_in, in, opcode, MLX5_CMD_OP_ALLOC_PD);
	err = mlx5_cmd_exec_inout(dev, alloc_pd, in, out);
	if (!err)
		*pdn = MLX5_GET(alloc_pd_out, out, pd);
	return err;
}
EXPORT_SYMBOL(mlx5_core_alloc_pd);

int mlx5_core_dealloc_pd(struct mlx5_core_dev *dev, u32 pdn)
{
	u32 in[MLX5_ST_SZ_DW(dealloc_pd_in)] = {};

	MLX5_SET(dealloc_pd_in, in, opcode, MLX5_CMD_OP_DEALLOC_PD);
	MLX5_SET(dealloc_pd_in, in, pd, pdn);
	return mlx5_cmd_exec_in(dev, dealloc_pd, in);
}
EXPORT_SYMBOL(mlx5_core_dealloc_pd);

/* VF vport n is function n; the sim has no embedded-CPU functions. */
int mlx5_vport_get_other_func_cap(struct mlx5_core_dev *dev, u16 vport, void *out,
				  u16 opmod)
{
	u8 in[MLX5_ST_SZ_BYTES(query_hca_cap_in)] = {};

	opmod = (opmod << 1) | (HCA_CAP_OPMOD_GET_MAX & 0x01);
	MLX5_SET(query_hca_cap_in, in, opcode, MLX5_CMD_OP_QUERY_HCA_CAP);
	MLX5_SET(query_hca_cap_in, in, op_mod, opmod);
	MLX5_SET(query_hca_cap_in, in, other_function, true);
	MLX5_SET(query_hca_cap_in, in, function_id, vport);
	return mlx5_cmd_exec_inout(dev, query_hca_cap, in, out);
}
EXPORT_SYMBOL_GPL(mlx5_vport_get_other_func_cap);
