// SPDX-License-Identifier: GPL-2.0
/*
 * mlx5_sim memory keys: CREATE_MKEY over an MTT list of DMA addresses the
 * driver mapped against the PF, and the "device DMA" of SAVE/LOAD through
 * them: each address is translated back through the PF's IOMMU domain
 * (iommu_iova_to_phys()) and copied with the CPU.
 */
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/slab.h>

#include "sim.h"

struct sim_mkey {
	u32 pd;
	u32 page_shift;
	u64 len;
	u32 nentries;
	__be64 mtt[];
};

int sim_mkey_create(struct mlx5_sim *sim, void *in, int in_size, void *out,
		    u32 *syndrome)
{
	void *mkc = MLX5_ADDR_OF(create_mkey_in, in, memory_key_mkey_entry);
	u32 nentries = 2 * MLX5_GET(create_mkey_in, in, translations_octword_actual_size);
	u32 page_shift = MLX5_GET(mkc, mkc, log_page_size);
	u64 len = MLX5_GET64(mkc, mkc, len);
	struct sim_mkey *mk;
	u32 index;
	int ret;

	*syndrome = 0x52000001;
	if (MLX5_GET(mkc, mkc, access_mode_1_0) != MLX5_MKC_ACCESS_MODE_MTT ||
	    page_shift < PAGE_SHIFT || page_shift > 30 || !len ||
	    in_size < MLX5_ST_SZ_BYTES(create_mkey_in) + (u64)nentries * sizeof(__be64) ||
	    DIV_ROUND_UP_ULL(len, 1ULL << page_shift) > nentries)
		return MLX5_CMD_STAT_BAD_PARAM_ERR;
	*syndrome = 0x52000002;
	if (!MLX5_GET(mkc, mkc, pd) || MLX5_GET(mkc, mkc, pd) > READ_ONCE(sim->next_pd))
		return MLX5_CMD_STAT_BAD_RES_ERR;

	mk = kvzalloc(struct_size(mk, mtt, nentries), GFP_KERNEL);
	if (!mk)
		return MLX5_CMD_STAT_NO_RES_ERR;
	mk->pd = MLX5_GET(mkc, mkc, pd);
	mk->page_shift = page_shift;
	mk->len = len;
	mk->nentries = nentries;
	memcpy(mk->mtt, MLX5_ADDR_OF(create_mkey_in, in, klm_pas_mtt),
	       nentries * sizeof(__be64));
	ret = xa_alloc(&sim->mkeys, &index, mk, XA_LIMIT(1, 0xffffff), GFP_KERNEL);
	if (ret) {
		kvfree(mk);
		*syndrome = 0x52000003;
		return MLX5_CMD_STAT_LIM_ERR;
	}
	*syndrome = 0;
	MLX5_SET(create_mkey_out, out, mkey_index, index);
	return 0;
}

int sim_mkey_destroy(struct mlx5_sim *sim, u32 index, u32 *syndrome)
{
	struct sim_mkey *mk = xa_erase(&sim->mkeys, index);

	if (!mk) {
		*syndrome = 0x52000004;
		return MLX5_CMD_STAT_BAD_RES_ERR;
	}
	kvfree(mk);
	return 0;
}

void sim_mkeys_destroy_all(struct mlx5_sim *sim)
{
	struct sim_mkey *mk;
	unsigned long index;

	xa_for_each(&sim->mkeys, index, mk) {
		xa_erase(&sim->mkeys, index);
		kvfree(mk);
	}
}

/* The CPU address behind DMA address @dma of the PF, or an error. */
static int sim_dma_to_page(struct mlx5_sim *sim, u64 dma, struct page **page)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(&sim->pdev->dev);
	phys_addr_t phys = dma;

	if (domain && (domain->type & __IOMMU_DOMAIN_PAGING)) {
		phys = iommu_iova_to_phys(domain, dma);
		if (!phys)
			return -EFAULT;
	}
	if (!pfn_valid(PHYS_PFN(phys)))
		return -EFAULT;
	*page = pfn_to_page(PHYS_PFN(phys));
	return 0;
}

/**
 * sim_mkey_copy - Device DMA through a memory key.
 * @sim: the simulator.
 * @mkey: the key, as the driver puts it in a command (index << 8).
 * @offset: byte offset in the key's range.
 * @buf: the firmware side of the copy.
 * @len: bytes to copy.
 * @write_host: true to write @buf to host memory (SAVE), false to read.
 *
 * Return: 0, or a negative errno if the range or a translation is bad.
 */
int sim_mkey_copy(struct mlx5_sim *sim, u32 mkey, u64 offset, void *buf,
		  size_t len, bool write_host)
{
	struct sim_mkey *mk = xa_load(&sim->mkeys, mlx5_mkey_to_idx(mkey));
	u8 *p = buf;

	if (!mk || offset + len > mk->len || offset + len < offset)
		return -EINVAL;
	while (len) {
		u64 idx = offset >> mk->page_shift;
		u64 in_page = offset & ((1ULL << mk->page_shift) - 1);
		u64 dma = be64_to_cpu(mk->mtt[idx]) + in_page;
		size_t n = min_t(size_t, len, PAGE_SIZE - offset_in_page(dma));
		struct page *page;
		u8 *vaddr;
		int ret;

		ret = sim_dma_to_page(sim, dma, &page);
		if (ret)
			return ret;
		vaddr = kmap_local_page(page);
		if (write_host)
			memcpy(vaddr + offset_in_page(dma), p, n);
		else
			memcpy(p, vaddr + offset_in_page(dma), n);
		kunmap_local(vaddr);
		p += n;
		offset += n;
		len -= n;
	}
	return 0;
}
